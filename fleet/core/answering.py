"""Which comment an agent answers when it opens its notifications (pure).

An agent answers, in this order, as a person who looks after their posts does:

1. **people first**: a person's comment on one of its posts, or a person's answer to its
   reply there, the longest waiting first; the fleet exists for the people who join;
2. **a conversation that goes on**, now and then (``go_on``): an answer someone gave to
   the agent's own comment on their post, so that comment -> reply -> answer makes a
   thread of three;
3. **the rest**: another agent's comment on its posts.

Threads are bounded: an agent answers only a comment on its own post, a reply to its
own top-level comment, or (from a person) a reply to its reply. Two agents never
ping-pong: the deepest an exchange between agents goes is three messages.

**Honesty outranks the experiment.** A person's question about what the agent is (or who
runs it) is answered first, whatever the person's arm in the impact experiment: the
holdout spares a held-out person every like, comment and reply but this one. The
experiment records the answer as an exposure of that person's arm and keeps analysing by
the arm assigned (intention-to-treat: ``docs/impact.md``). Only a person's own no (an
opt-out or a block) stops it, as it stops everything.

**What is owed** (``owing``): one truthful answer per asker and agent, and at most
``OWED_PER_DAY`` a day per agent. A question from a person the agent may not address is
closed with that reason, never owed (it would hold the agent's sessions for days); a
repeat, or a question past the day's cap, is closed too: if the agent answers it in the
ordinary course, the offline writer writes the truth (no LLM call).
"""

from __future__ import annotations

import random
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from fleet.consent.core import Consent, allows
from fleet.impact.holdout import Spared

# How often an agent takes up an answer to its own comment when no person waits on it.
GO_ON = 0.6
# How often a session's look at its notifications answers another agent's comment on its
# posts when nothing else waits (a reply drawn by the persona's weights always does).
OTHERS_AT_A_GLANCE = 0.35


# The most questions about what it is an agent owes answers to in a day (distinct askers).
OWED_PER_DAY = 5


class Closed(StrEnum):
    """Why a question about what the agent is was closed without an answer owed."""

    SAID_NO = "asker_said_no"  # the asker opted out of the agent (or blocked it)
    ASKED_BEFORE = "asked_before"  # the asker asked this agent before: one answer each
    MANY_TODAY = "many_today"  # the agent's day's cap of owed answers was reached


@dataclass(frozen=True, slots=True)
class Question:
    """A person's comment that asks agent ``agent_id`` what it is, newly seen."""

    agent_id: int
    comment_id: str
    asker: str  # their username on the gallery ("" when not known)
    asked_at: datetime
    said_no: bool = False  # the agent may not address them (an opt-out, a block)


def owing(
    new: Sequence[Question],
    *,
    asked_before: Collection[tuple[int, str]],
    owed_today: Mapping[int, int],
    cap: int = OWED_PER_DAY,
) -> list[tuple[Question, Closed | None]]:
    """Each new question (the oldest first) with why it is closed, or None: owed.
    ``asked_before``: the (agent, asker) pairs a question was owed or answered for;
    ``owed_today``: per agent, the questions owed since a day ago."""
    before = set(asked_before)
    today = dict(owed_today)
    decided: list[tuple[Question, Closed | None]] = []
    for q in sorted(new, key=lambda q: (q.asked_at, q.comment_id)):
        closed: Closed | None = None
        if q.said_no:
            closed = Closed.SAID_NO
        elif q.asker and (q.agent_id, q.asker) in before:
            closed = Closed.ASKED_BEFORE
        elif today.get(q.agent_id, 0) >= cap:
            closed = Closed.MANY_TODAY
        else:
            today[q.agent_id] = today.get(q.agent_id, 0) + 1
            if q.asker:
                before.add((q.agent_id, q.asker))
        decided.append((q, closed))
    return decided


def turned_away(consent: Consent, agent: str, person: str) -> bool:
    """Whether ``person`` said, in so many words, that ``agent`` may not reply to them (an
    opt-out of replies, a block): a question of theirs is closed, never owed. A person
    whose say could not be read, or a consent list that could not be, closes nothing:
    the reply's own check holds the agent back then."""
    return (
        consent.known and person in consent.people and not allows(consent, agent, "reply", person)
    )


class Waiting(StrEnum):
    """Why a comment waits on the agent."""

    ON_MY_POST = "on_my_post"  # a top-level comment on its post
    TO_MY_REPLY = "to_my_reply"  # a person's answer to its reply on its post
    TO_MY_COMMENT = "to_my_comment"  # an answer to its comment on someone else's post


@dataclass(frozen=True, slots=True)
class Unanswered:
    """A comment the agent might answer."""

    comment_id: str
    author: str
    author_is_agent: bool
    at: datetime
    why: Waiting
    # The author's user id on the gallery ("" when not known): whom the holdout spares.
    author_id: str = ""


@dataclass(frozen=True, slots=True)
class Seen:
    """A comment as the agent reads it on a post: who, in answer to what."""

    id: str
    author: str
    author_is_agent: bool
    at: datetime
    parent_id: str | None
    author_id: str = ""


def unanswered(
    me: str, *, my_posts: Sequence[Seen], their_posts: Sequence[Seen], my_comments: Collection[str]
) -> list[Unanswered]:
    """The comments waiting on agent ``me``: on its own posts (``my_posts``: every comment
    read there), and answers to its comments ``my_comments`` on others' posts
    (``their_posts``: every comment read there). One it answered already is left out."""
    answered = {c.parent_id for c in [*my_posts, *their_posts] if c.author == me}
    mine_there = {c.id for c in my_posts if c.author == me}
    waiting: list[Unanswered] = []
    for c in my_posts:
        if c.author == me or c.id in answered:
            continue
        if c.parent_id is None:
            waiting.append(
                Unanswered(c.id, c.author, c.author_is_agent, c.at, Waiting.ON_MY_POST, c.author_id)
            )
        elif c.parent_id in mine_there and not c.author_is_agent:
            waiting.append(
                Unanswered(c.id, c.author, False, c.at, Waiting.TO_MY_REPLY, c.author_id)
            )
    for c in their_posts:
        if c.author == me or c.id in answered or c.parent_id not in my_comments:
            continue
        waiting.append(
            Unanswered(c.id, c.author, c.author_is_agent, c.at, Waiting.TO_MY_COMMENT, c.author_id)
        )
    return waiting


def pick_answer(
    waiting: Sequence[Unanswered],
    rng: random.Random,
    *,
    done: Collection[str] = (),
    go_on: float = GO_ON,
    others: float = 1.0,
    spared: Spared | None = None,
    asked: Collection[str] = (),
    planned: Collection[str] = (),
) -> Unanswered | None:
    """The comment to answer now (see the module's docstring), or None; ``done``: ids
    the agent answered already by the ledger's account; ``go_on`` and ``others``: how
    likely an answer to its comment, and another agent's comment on its post, is taken
    up when no person waits. A person ``spared`` spares (held out of the impact
    experiment, or opted out) is not answered, but for a question about what the agent
    is from a held-out person: honesty outranks the holdout (a person who opted out is
    never answered); ``asked``: people's comments owed an answer to what the agent is,
    answered before any other (the oldest first); ``planned``: the comments its session's plan wrote replies to,
    taken first among the fellow agents' it would draw from (people are answered in
    their order whatever the plan says: the plan was shown them in that order)."""

    def may_answer(w: Unanswered) -> bool:
        if spared is None or w.author_is_agent:
            return True
        if w.comment_id in asked:
            return not spared.said_no(w.author_id)
        return not spared.spares(w.author_id)

    open_ = [w for w in waiting if w.comment_id not in done and may_answer(w)]
    people = sorted(
        (w for w in open_ if not w.author_is_agent), key=lambda w: (w.comment_id not in asked, w.at)
    )
    if people:
        return people[0]
    going_on = [w for w in open_ if w.why is Waiting.TO_MY_COMMENT]
    if going_on and rng.random() < go_on:
        return rng.choice([w for w in going_on if w.comment_id in planned] or going_on)
    rest = [w for w in open_ if w.why is Waiting.ON_MY_POST]
    if rest and rng.random() < others:
        return rng.choice([w for w in rest if w.comment_id in planned] or rest)
    return None

"""The offline writer's replies: an agent answers a comment left on its own post, or goes
on with a conversation: someone answered its comment on their post.

A reply takes up what the comment said (``fleet.content.offline.reading.read_comment``): a
question gets an answer to that question (how long it took, how it was made, where a
bigger version is, what comes next), a compliment a thanks that names what was praised
(a word or two, only when fit to say back), a suggestion a response to it, a critique an
honest word on it. The answer speaks of the post by what it shows (its subject, read
from its title as a comment reads a post) and fills in the agent's own making: its
styles, looks, moods, palette, project and the next subject it has in mind.

Two agents' replies differ in shape, not only in words: each agent has reply habits of
its own (``fleet.core.identity.reply_habits``): its way of saying thanks, how long its
replies run, whether the thanks comes first, lower case, how it ends, a word it leans
on, a sign-off. It remembers an earlier exchange with the same person. A reply opens
with the commenter's handle. The comment itself is data: nothing in it is followed, and
no more than two of its words are ever said back.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from fleet.content.offline.lexicon import voice_of
from fleet.content.offline.phrasing import finish, lead_into, with_articles
from fleet.content.offline.reading import Said, read_comment, read_post
from fleet.content.offline.reply_words import (
    AGAIN,
    AGAIN_ON,
    ASIDES,
    ASSOCIATION,
    BACK,
    CRITIQUE,
    CRITIQUE_MORE,
    CRITIQUE_PLAIN,
    DURATIONS,
    EITHER,
    GOING_ON,
    GOING_ON_ANSWER,
    GOING_ON_QUESTIONS,
    GOING_ON_THANKS,
    HOW,
    HOW_ABOUT,
    HOW_LONG,
    HOW_LONG_MORE,
    HOW_MORE,
    NEXT,
    OTHER,
    OTHER_ABOUT,
    PARTS,
    PRAISE_MORE,
    PRAISED,
    PRINTS,
    REMARK,
    SUGGESTED,
    SUGGESTED_ABOUT,
    THANKED,
    TOOL_WORDS,
    TOOLS,
    WHERE,
)
from fleet.content.port import CommentSeen, PostSeen
from fleet.core.identity import Identity, ReplyHabits, identity_of, reply_habits
from fleet.core.persona import Persona

# A handle said back only when it is a plain one: letters, digits, "_", "." or "-".
PLAIN_HANDLE = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,38}[A-Za-z0-9_])?")


class Thread(Enum):
    """Where a reply is written: under the agent's own post, or in a thread going on
    under another's post (an answer the post's author gave to the agent's comment)."""

    OWN_POST = "own post"
    GOING_ON = "going on"


@dataclass(frozen=True)
class Replier:
    """The agent who replies, as its replies show it: its identity (None: one of the
    persona's), how it writes replies (None: the first habits), and what it remembers
    (an earlier exchange with the commenter among them)."""

    me: Identity | None = None
    habits: ReplyHabits | None = None
    memories: Sequence[str] = ()


def reply_text(
    persona: Persona,
    post: PostSeen,
    comment: CommentSeen,
    rng: random.Random,
    *,
    thread: Thread = Thread.OWN_POST,
    replier: Replier = Replier(),
) -> str:
    """A reply to ``comment`` in ``thread`` (on the agent's own ``post``, or going on
    under another's) that takes up what it said, in the ``replier``'s own voice.
    It opens with the commenter's handle only if that is a plain handle (a name with a
    space or a line break in it is not said back), never with a bare "@"."""
    voice = voice_of(persona)
    me = replier.me
    if me is None:
        me = identity_of(0, voice, styles=persona.workflow_styles, interests=persona.interests)
    habits = replier.habits or reply_habits(0)
    said = read_comment(comment.text, voice)
    fills = {
        **_fills(me, persona, post, said, rng, comment.text),
        "earlier": _earlier(comment.author, replier.memories, post.title),
    }
    answer, more = _answer(said, thread, rng)
    moves = [answer.format(**fills)]
    if said.kind == "compliment" or (said.praised and rng.random() < 0.6):
        moves = _thanked(moves, said, habits, fills, rng)
    for template in _further(more, fills["earlier"], thread, me, habits, rng):
        line = template.format(**fills)
        if not any(_opening(line) == _opening(m) for m in moves):  # not "The X..." twice
            moves.append(line)
    if thread is Thread.GOING_ON and rng.random() < me.catchphrase_rate:
        moves.append(me.catchphrase)
    if habits.signoff_rate and rng.random() < habits.signoff_rate:
        moves.append(habits.signoff)
    leads = CALM_LEADS if said.kind in ("critique", "suggestion") else LEADS
    moves[0] = _opened(moves[0], me, habits, rng, leads=leads)
    text = _joined(moves, habits, rng)
    text = _ended(text, me, habits, rng)
    if PLAIN_HANDLE.fullmatch(comment.author) is None:
        return text
    return f"@{comment.author} {text[:1].lower() + text[1:] if _lower_ok(text) else text}"


def _further(
    more: tuple[str, ...],
    earlier: str,
    thread: Thread,
    me: Identity,
    habits: ReplyHabits,
    rng: random.Random,
) -> list[str]:
    """The templates of further sentences, as far as the agent's replies usually run:
    what it says more about the answer, an earlier exchange, its own making, a question
    back; an earlier exchange first (it is what a person notices), a question last."""
    own_post = thread is Thread.OWN_POST
    room = habits.sentences - 1 + (rng.random() < 0.3) - (rng.random() < 0.2)
    extra: list[str] = []
    if more and rng.random() < 0.7:
        extra.append(rng.choice(more))
    if earlier and rng.random() < 0.6:
        extra.append(rng.choice(AGAIN_ON if earlier != "it" else AGAIN))
    if own_post and rng.random() < 0.3 + me.talkative / 2:
        extra.append(rng.choice(ASIDES))
    if rng.random() < me.talkative / (2 if own_post else 1):
        extra.append(rng.choice(BACK if own_post or rng.random() < 0.5 else GOING_ON_QUESTIONS))
    rng.shuffle(extra)
    keep = extra[: max(0, room)]
    keep.sort(key=lambda t: 0 if t in AGAIN or t in AGAIN_ON else 2 if t.endswith("?") else 1)
    return keep


def _answer(said: Said, thread: Thread, rng: random.Random) -> tuple[str, tuple[str, ...]]:
    """The template of the reply's answer, by what the comment said, and the sentences
    that may say more about it."""
    if thread is Thread.GOING_ON:
        if said.kind == "question":
            return rng.choice(GOING_ON_ANSWER), ASIDES
        if said.kind == "compliment" and rng.random() < 0.6:
            return rng.choice(GOING_ON_THANKS), ()
        return rng.choice(GOING_ON if rng.random() < 0.8 else GOING_ON_QUESTIONS), ()
    if said.kind == "question":
        if said.question == "how_long":
            return rng.choice(HOW_LONG), HOW_LONG_MORE
        if said.question == "how":
            if said.about in TOOL_WORDS:
                return rng.choice(TOOLS), HOW_MORE
            return rng.choice(HOW_ABOUT if said.about else HOW), HOW_MORE
        by_kind = {"prints": PRINTS, "where": WHERE, "next": NEXT, "either": EITHER}
        if said.question in by_kind:
            return rng.choice(by_kind[said.question]), ()
        return rng.choice(OTHER_ABOUT if said.about else OTHER), HOW_MORE
    if said.kind == "suggestion":
        return rng.choice(SUGGESTED_ABOUT if said.about else SUGGESTED), ()
    if said.kind == "critique":
        return rng.choice(CRITIQUE if said.about else CRITIQUE_PLAIN), CRITIQUE_MORE
    if said.kind == "compliment":
        return rng.choice(PRAISED if said.praised else THANKED), PRAISE_MORE
    if said.kind == "association":
        return rng.choice(ASSOCIATION), ()
    return rng.choice(REMARK), ()


def _thanked(
    moves: list[str], said: Said, habits: ReplyHabits, fills: dict[str, str], rng: random.Random
) -> list[str]:
    """A thanks in the agent's own words, before or after the answer (a compliment asked
    with a question: the praised thing named too)."""
    thanks = rng.choice(habits.thanks)
    if said.kind == "question" and said.praised:
        named = rng.choice(PRAISED).format(**fills)
        first = f"{thanks}, {named}"
        return [first, *moves] if rng.random() < habits.thanks_first else [*moves, first]
    if said.kind != "compliment" or rng.random() < 0.15:
        return moves  # now and then the answer alone says it: "so glad you noticed"
    if rng.random() < habits.thanks_first:
        return [f"{thanks}, {moves[0]}", *moves[1:]]
    return [*moves, f"{thanks}!" if rng.random() < 0.5 else f"{thanks}."]


def _fills(
    me: Identity, persona: Persona, post: PostSeen, said: Said, rng: random.Random, text: str
) -> dict[str, str]:
    """The words a template may take: the agent's own, what the post shows, and a word
    or two of the comment (its ``text``)."""
    voice = voice_of(persona)
    parts = [w for w, _ in voice.all_words("aspect")] if "aspect" in voice.words else []
    times = [w for w, _ in voice.all_words("time")] if "time" in voice.words else []
    shown = f"{post.title} {post.description}".lower()
    others = [s for s, _ in me.subjects if s.lower() not in shown]  # not the post's own
    said_text = text[:MAX_READ].lower()
    return {
        "thing": _thing(post, persona, rng),
        "duration": rng.choice(DURATIONS),
        "part": rng.choice(parts + list(PARTS)),
        "style": rng.choice(me.styles).replace("-", " ") if me.styles else "sketching",
        "look": rng.choice(me.looks) if me.looks else "soft light",
        "palette": rng.choice(me.palette) if me.palette else "muted",
        "mood": rng.choice(me.moods) if me.moods else "quiet",
        "interest": rng.choice(me.interests) if me.interests else "this",
        "project": me.project,
        "other": _one_of(rng.choice(others)) if others else "something new",
        "time": rng.choice(times) if times else "in the evenings",
        "nth": rng.choice(("second", "third", "fourth", "fifth")),
        "about": _with_article(said.about, said_text) if said.about else "",
        "praised": said.praised or "",
    }


MAX_READ = 600


def _with_article(about: str, said: str) -> str:
    """The suggested thing as the person put it: "a warmer palette" when they said "a"
    before it (the article and at most two of their words)."""
    found = re.search(rf"\b(an?) {re.escape(about)}\b", said)
    return f"{found.group(1)} {about}" if found else about


def _earlier(handle: str, memories: Sequence[str], title: str) -> str:
    """What the agent remembers of an earlier exchange with ``handle``: the post it was
    on (a short plain title, quoted; "it" when none fits), or "" when it remembers none."""
    for line in memories:
        if not line.startswith(f"I said to @{handle} "):
            continue
        found = _REMEMBERED_ON.match(line[len(f"I said to @{handle} ") :])
        if found is not None:
            named = found.group(1).strip().rstrip(".!?")
            if named != title.strip().rstrip(".!?") and _short_title(named):
                return f"'{named}'"
        return "it"
    return ""


_REMEMBERED_ON = re.compile(r"on '([^'\n]{1,60})':")


# The openers of ``fleet.core.identity`` that fit a reply ("Quick one:" does not).
REPLY_OPENERS = frozenset(("ok so", "Honestly,", "Right,", "Hm,", "Oh man,", "Ha,", "Okay,"))


def _opened(
    first: str,
    me: Identity,
    habits: ReplyHabits,
    rng: random.Random,
    *,
    leads: tuple[str, ...],
) -> str:
    """The first sentence with the agent's opener or the word it leans on, now and then
    (else, rarely, one of ``leads``)."""
    if me.opener in REPLY_OPENERS and rng.random() < me.opener_rate:
        return lead_into(me.opener + " ", first)
    if habits.hedge_rate and rng.random() < habits.hedge_rate and not re.match(r"\w+,", first):
        return lead_into(habits.hedge + " ", first)
    if rng.random() < 0.1 and not re.match(r"\w+, ", first):
        return lead_into(rng.choice(leads), first)
    return first


# Interjections a reply may open with; to a critique or a suggestion, the calmer ones.
LEADS = ("Oh, ", "Ah, ", "Okay, ", "Ha, ", "Hm, ", "Aw, ")
CALM_LEADS = ("Ah, ", "Okay, ", "Hm, ")


def _joined(moves: list[str], habits: ReplyHabits, rng: random.Random) -> str:
    """The sentences as the agent strings them: capitalised, or its first two joined by
    a dash."""
    sentences = [_capital(with_articles(m)) for m in moves]
    if habits.dash and len(sentences) > 1 and sentences[0].endswith("."):
        second = sentences[1]
        keep = second.split(" ", 1)[0] in ("I", "I'm", "I've", "I'll", "I'd")
        sentences[:2] = [
            f"{sentences[0][:-1]} - {second if keep else second[:1].lower() + second[1:]}"
        ]
    return finish(" ".join(sentences))


def _ended(text: str, me: Identity, habits: ReplyHabits, rng: random.Random) -> str:
    """The agent's way of closing a reply: its ending, "!" if it exclaims, an emoji, lower
    case if it writes so."""
    if text.endswith("."):
        ending = "!" if me.exclaims and rng.random() < 0.7 else habits.ending
        text = text[:-1] + ending
    if me.emoji and rng.random() < me.emoji_rate:
        text = f"{text} {rng.choice(me.emoji)}"
    return text.lower() if habits.lower else text


def _opening(sentence: str) -> tuple[str, ...]:
    return tuple(sentence.lower().split()[:3])


# The words that end a subject's head ("visits by month": "visits" is its head).
_AFTER_HEAD = frozenset(("by", "of", "in", "for", "at", "on", "with", "from", "per", "over"))


def _one_of(subject: str) -> str:
    """A subject as one piece: "a serum dropper bottle", and for a plural head "a piece on
    library visits by month" (never "a library visits")."""
    words = subject.split()
    head = next((i for i, w in enumerate(words) if w.lower() in _AFTER_HEAD), len(words))
    last = words[head - 1].lower() if head else ""
    if last.endswith("s") and not last.endswith(("ss", "us", "is")):
        return f"a piece on {subject}"
    return with_articles(f"a {subject}")


def _capital(sentence: str) -> str:
    return sentence[:1].upper() + sentence[1:]


def _lower_ok(text: str) -> bool:
    """Whether the reply's first word may go lower-case after the handle ("I" may not)."""
    first = text.split(" ", 1)[0].rstrip(",.!?:;")
    return first not in ("I", "I'd", "I'll", "I've", "I'm") and not first[1:2].isupper()


# How a reply under a post speaks of it when it does not name what it shows.
THIS = ("this one", "this piece", "this", "it")
SHORT_TITLE = re.compile(r"[A-Za-z][A-Za-z'-]*(?: [A-Za-z][A-Za-z'-]*){0,2}")


def _short_title(title: str) -> bool:
    return SHORT_TITLE.fullmatch(title) is not None and len(title) <= 30


def _thing(post: PostSeen, persona: Persona, rng: random.Random) -> str:
    """The post as the reply names it: what it shows ("the fox made of smoke", read from
    its title as a comment reads it), a short plain title quoted, else "this one"."""
    shown = read_post(post, voice_of(persona)).subject
    plain = post.title.strip().rstrip(".!?")
    roll = rng.random()
    if shown is not None and len(shown.text) <= 40 and roll < 0.55:
        return f"the {shown.text}"
    if _short_title(plain) and roll < 0.75:
        return f"'{plain}'"
    return rng.choice(THIS)

"""bench.community: does the fleet look like a community, seen from outside?

Runs the demo's machinery (SQLite, the in-memory broker, the in-process worker, the
sandbox gallery, a simulated clock, unpaced) for ``--days`` simulated days while people
use the gallery beside the fleet: newcomers join about once a simulated hour and post a
picture whose title and description say something specific; people like posts (any post
of the last day alike; ``--people-like feeds``: what the first page of ``recent`` or
``popular`` shows) and comment on agents' posts now and then. With ``--ramp`` people's
activity grows from nothing to ``--ramp-to`` times the fleet's at full pace over the run
(the step-back scenario; regulars join as it grows, nobody making more than one action a
simulated hour). The same fleet and seed run first as the baseline: with
``--ramp-baseline none`` (the default) newcomers join and post as in the ramp but nobody
likes or comments (people's activity stays at 0, where the ramp starts); with ``plain``
people use the gallery at their plain rates. ``stepping_back`` prints how far the fleet's
last day fell against the baseline's.

Then it reads the whole gallery back (its own tables, as an outside reader of the API
would see them) and embeds every text with the embedded multilingual-e5-small model,
and prints as JSON, beside the targets of issues 28 and 29:

- likes and comments per post: Gini, and the top-10 % of posts' share;
- reciprocity (the share of directed engagement pairs A->B where B also engaged A)
  against the same engagements sent to random posts of their moment;
- interest fit: P(an engaged post is closer to the agent's interests than a random
  post of the moment is);
- near-duplicates: the share of bot posts, comments and replies within cosine 0.92 of
  an earlier bot text of the same kind;
- identity: an agent's posts' mean similarity to each other against to its
  persona-mates' posts;
- the feed sorts the fleet read; the share of agents' handles with a random tail;
- newcomers: minutes to the first bot like and comment, bot comments, likes and
  distinct bots per newcomer's post; people's comments on agents' posts answered by the
  author, and the delay; threads that reach 3 messages; the fleet's share of activity
  per 6 simulated hours.

``--seeds 3,4,5,6`` runs each seed (``--jobs`` of them at once, each in a process of its
own) and judges each target on the seeds' mean, with the lowest and highest beside it and
how many seeds met it: one run varies from the next by about as much as a setting moves
a figure. ``python -m bench.community --smoke`` runs a few simulated hours for the suite.

``--writer fake-llm`` writes through the Anthropic writer against a fake LLM in-process
(``bench.fake_llm``: the offline writer's texts from what each prompt shows), with
``--plans on`` (a speaking session's words in one call) or ``off`` (a call per comment,
reply and post); the report adds the fake's calls by task. ``takes_up_the_post``
(``bench.taking_up``) is the share of the fleet's comments on newcomers' posts that say
back what the post said.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import re
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
from sqlalchemy import select

from bench import fake_llm, taking_up
from fleet import activities
from fleet.content.guard import unaddressed
from fleet.core.holdout import arm
from fleet.db.models import Agent, AgentActivity, SessionPlan
from fleet.demo import Demo, DemoOptions
from fleet.embeddings.local import LocalEmbedder
from fleet_sandbox import images, storage, tables
from fleet_sandbox.tables import Sort

# Monday 2026-11-16 06:00 UTC: the week's first morning in Europe, night in the Americas.
START = datetime(2026, 11, 16, 6, 0, tzinfo=UTC)
NEAR_DUPLICATE = 0.92
SIDE = 256

# What newcomers post: each says something specific (a question, a problem, a name, a
# number) that a comment which read it could take up.
NEWCOMER_POSTS: tuple[tuple[str, str, str], ...] = (
    (
        "product_photographer",
        "First try at shooting my mum's pottery",
        "She sells mugs at the Saturday market. How do I stop the glaze from glaring?",
    ),
    (
        "ux_ui_designer",
        "Wireframe for our tennis club's booking page",
        "Members keep double-booking court 3. Would a calendar grid be clearer than a list?",
    ),
    (
        "data_visualization",
        "My running distances for 2026",
        "Twelve months, 1,400 km. Should I show weekly totals or a rolling average?",
    ),
    (
        "ai_art_enthusiast",
        "Portrait of my cat Miso as a forest spirit",
        "Miso is twelve and sleeps all day. I wanted her to look ancient and wise.",
    ),
    (
        "indie_game_dev",
        "Title screen for my first game jam entry",
        "48 hours, a frog who delivers mail. Is the logo readable at small sizes?",
    ),
    (
        "social_media_marketer",
        "Launch post for my sister's bakery",
        "Sourdough only, opening in March. Which of these two headlines would you click?",
    ),
    (
        "product_photographer",
        "Sneakers on a concrete step",
        "Shot on my phone at golden hour. Too much shadow on the left side?",
    ),
    (
        "data_visualization",
        "Bus delays on route 42",
        "I logged every morning bus for three months. Is a heatmap by weekday the right call?",
    ),
    (
        "indie_game_dev",
        "Pixel knight idle animation",
        "Six frames, 32 by 32. The cape feels stiff; any tips for secondary motion?",
    ),
    (
        "ux_ui_designer",
        "Onboarding flow for a recipe app",
        "Three screens before the first recipe. Is that too many for a new user?",
    ),
    (
        "ai_art_enthusiast",
        "Lighthouse in a storm, my first upscale",
        "I cannot get the waves to look wet. What do you add to the prompt?",
    ),
    (
        "social_media_marketer",
        "Poster for our charity 5k run",
        "Raising money for the local shelter on June 8. Does the date stand out enough?",
    ),
)
# ``--people-like feeds``: a person's like goes to a post on the first page of one of
# these (even odds), as a visitor sees the gallery.
PEOPLE_SORTS: tuple[Sort, ...] = ("recent", "popular")
PEOPLE_PAGE = 20
# What people say under agents' posts: questions of each kind, compliments that name
# what they liked, suggestions, critiques and remarks (issue 54: a reply answers each
# as what it is). The first six were the only ones before.
PEOPLE_COMMENTS = (
    "Love this! How long did it take you?",
    "The colours are gorgeous. What did you use for the palette?",
    "This made my morning. Is there a larger version somewhere?",
    "Great idea. Would you ever share how you set this up?",
    "Really clean work. What would you change if you did it again?",
    "I keep coming back to this one. Any plans for a series?",
    "How did you get the light so soft?",
    "Is the texture painted or a filter?",
    "Do you sell prints of these?",
    "What tools do you use for this?",
    "How many hours went into this one?",
    "Lovely light.",
    "The colours on this are stunning.",
    "Wow, great composition!",
    "Beautiful work, really.",
    "Love the grainy texture.",
    "This is so calming to look at.",
    "Gorgeous details in the background.",
    "Nice!",
    "Maybe try a warmer palette next time",
    "Have you tried adding some rim light?",
    "You could crop it tighter, I think.",
    "I'd try a darker background to make it pop.",
    "Would be cool to see a night version.",
    "The sky feels a bit flat to me",
    "Honestly the left side looks a bit empty.",
    "The text is a little small to read on my phone.",
    "Feels a bit busy, hard to know where to look.",
    "The colours feel slightly muddy here.",
    "This reminds me of my grandmother's kitchen.",
    "Saw this on the front page, had to stop.",
    "My kid loved this one.",
    "Following for more of these.",
)
TARGETS = {
    "interest_fit_p": (">=", 0.75),
    "likes_gini": (">=", 0.45),
    "likes_top10_share": (">=", 0.35),
    "reciprocity_ratio": (">=", 1.3),
    "near_duplicate_comments": ("<=", 0.30),
    "near_duplicate_replies": ("<=", 0.30),
    "exact_repeat_replies": ("<=", 0),
    "near_duplicate_posts": ("<=", 0.05),
    "identity_margin": (">=", 0.02),
    "random_tail_handles": ("<=", 0.10),
    "newcomer_commented_within_3h": (">=", 0.80),
    "newcomer_first_like_minutes_median": ("<=", 30.0),
    "newcomer_bot_comments_mean": ("<=", 5.0),
    "newcomer_bot_comments_max": ("<=", 8.0),
    "newcomer_bot_likes_mean": ("<=", 15.0),
    "people_comments_answered": (">=", 0.80),
    "people_comments_answer_delay_minutes_median": ("<=", 180.0),
    "threads_reaching_3": (">=", 0.10),
}
# Printed per seed beside the targets with ``--seeds``.
DIAGNOSTICS = (
    "posts",
    "likes",
    "people_likes",
    "bot_likes_gini",
    "bot_likes_top10_share",
    "bot_replies",
    "people_comments_unanswered_why",
    "planned_share",
    "planned_missed_why",
    "first_drafts_refused",
    "cost_flags",
)


@dataclass
class People:
    """The gallery's people: newcomers joining, and everyone liking and commenting."""

    demo: Demo
    rng: random.Random
    # When newcomers join (``newcomer_arrivals``): drawn once from the seed, so that one
    # seed is one scenario whatever pace the fleet's threads keep (drawn step by step,
    # four runs of seed 3 had 40 to 64 newcomers, and people's likes with them).
    arrivals: list[datetime]
    ramp_to: float | None
    span_seconds: float
    joined: int = 0
    # Likes and comments per simulated hour each person makes (without a ramp).
    like_rate: float = 0.25
    comment_rate: float = 0.04
    # With a ramp, nobody makes more than this many a simulated hour: more people come
    # (regulars, who like and comment and post nothing) rather than a few liking every
    # post there is (each likes a post once: the ramp could not be delivered).
    most_per_person_hour: float = 1.0
    # Where a person's like goes: ``random``, any post of the last day alike (the
    # headline's people, the most conservative); ``feeds``, a post on the first page of
    # the gallery's ``recent`` or ``popular`` (even odds), as a visitor scrolling them.
    people_like: str = "random"
    regulars: int = 0
    _last: datetime | None = None
    newcomer_posts: list[int] = field(default_factory=list)

    def step(self, demo: Demo) -> None:
        now = demo.clock.now()
        last, self._last = self._last or now, now
        hours = (now - last).total_seconds() / 3600
        if hours <= 0:
            return
        box = demo.sandbox.app.state.sandbox
        with box.storage.begin() as conn:
            while self.arrivals and self.arrivals[0] <= now:
                self.arrivals.pop(0)
                self._join(conn, box, now)
            people = [
                row for row in conn.execute(select(tables.users).where(~tables.users.c.is_agent))
            ]
            recent = list(
                conn.execute(
                    select(tables.posts.c.id, tables.posts.c.user_id, tables.users.c.is_agent)
                    .join(tables.users, tables.users.c.id == tables.posts.c.user_id)
                    .where(tables.posts.c.created_at >= now - timedelta(days=1))
                )
            )
            if not people or not recent:
                return
            scale = 1.0
            if self.ramp_to is not None:
                elapsed = (now - START).total_seconds() / self.span_seconds
                # Against the fleet's rate at full pace (its last hour, divided by the
                # pace it ran at): people's activity is the scenario's, not an echo of
                # the fleet's stepping back (which would step people back with it).
                wanted = self.ramp_to * elapsed * self._fleet_rate(conn, now) / _pace(demo)
                while wanted > (len(people) + 1) * self.most_per_person_hour:
                    people.append(self._regular(conn, now))
                scale = wanted / max(1.0, len(people) * (self.like_rate + self.comment_rate))
            # A person likes a post once: the gallery's like is a toggle, and a second
            # one would take the first back (which hid people's activity as it grew).
            pages = {
                sort: [
                    (post.id, post.user.id)
                    for post in storage.list_posts(
                        conn, limit=PEOPLE_PAGE, offset=0, sort=sort, now=now
                    )
                ]
                for sort in (PEOPLE_SORTS if self.people_like == "feeds" else ())
            }
            shown = {p[0] for p in recent} | {pid for page in pages.values() for pid, _ in page}
            liked = {
                (user_id, post_id)
                for user_id, post_id in conn.execute(
                    select(tables.likes.c.user_id, tables.likes.c.post_id).where(
                        tables.likes.c.post_id.in_(shown),
                        tables.likes.c.user_id.in_([p.id for p in people]),
                    )
                )
            }
            for person in people:
                user = storage.User(person.id, person.username, person.name, False, None, None)
                for _ in range(self._draws(hours * self.like_rate * scale)):
                    post_id, owner = people_pick(self.rng, recent, pages)
                    if owner != person.id and (person.id, post_id) not in liked:
                        liked.add((person.id, post_id))
                        storage.toggle_like(
                            conn, post_id=post_id, user_id=person.id, key=None, now=now
                        )
                bots = [p for p in recent if p[2]]
                for _ in range(self._draws(hours * self.comment_rate * scale)):
                    if bots:
                        post_id = self.rng.choice(bots)[0]
                        text = self.rng.choice(PEOPLE_COMMENTS)
                        storage.create_comment(
                            conn, post_id=post_id, user=user, content=text, key=None, now=now
                        )

    def _draws(self, mean: float) -> int:
        whole = int(mean)
        return whole + (1 if self.rng.random() < mean - whole else 0)

    def _fleet_rate(self, conn: Any, now: datetime) -> float:
        """The fleet's likes and comments in the last simulated hour."""
        since = now - timedelta(hours=1)
        likes = conn.execute(
            select(tables.likes.c.post_id)
            .join(tables.users, tables.users.c.id == tables.likes.c.user_id)
            .where(tables.users.c.is_agent, tables.likes.c.created_at >= since)
        ).all()
        comments = conn.execute(
            select(tables.comments.c.id)
            .join(tables.users, tables.users.c.id == tables.comments.c.user_id)
            .where(tables.users.c.is_agent, tables.comments.c.created_at >= since)
        ).all()
        return float(len(likes) + len(comments))

    def _regular(self, conn: Any, now: datetime) -> Any:
        """A person who comes to look, like and comment (and posts nothing)."""
        self.regulars += 1
        user, _ = storage.invite(
            conn,
            agent_id=None,
            name=f"Regular {self.regulars}",
            username=f"regular{self.regulars}",
            persona=None,
            is_agent=False,
            now=now,
        )
        return conn.execute(select(tables.users).where(tables.users.c.id == user.id)).one()

    def _join(self, conn: Any, box: Any, now: datetime) -> None:
        family, title, description = NEWCOMER_POSTS[self.joined % len(NEWCOMER_POSTS)]
        self.joined += 1
        user, _ = storage.invite(
            conn,
            agent_id=None,
            name=f"Newcomer {self.joined}",
            username=f"newcomer{self.joined}",
            persona=None,
            is_agent=False,
            now=now,
        )
        picture = images.image_id(title, style="natural", persona=family, width=SIDE, height=SIDE)
        png = images.render(title, style="natural", persona=family, width=SIDE, height=SIDE)
        storage.save_image(
            conn, image_id=picture, png=png, prompt=title, style="natural", persona=family, now=now
        )
        post_id = storage.create_post(
            conn,
            user=user,
            title=title,
            description=description,
            image_url=f"{box.config.image_base_url or demo_base(self.demo)}/images/{picture}.png",
            workflow_id=None,
            key=None,
            now=now,
        )
        self.newcomer_posts.append(post_id)


def newcomer_arrivals(
    rng: random.Random, start: datetime, span_seconds: float, every_minutes: float
) -> list[datetime]:
    """When newcomers join over the run: a Poisson process, one every ``every_minutes``
    on average, whole simulated minutes."""
    out: list[datetime] = []
    at = 0.0
    while True:
        at += rng.expovariate(1 / (60 * every_minutes))
        if at >= span_seconds:
            return out
        out.append(start + timedelta(minutes=int(at // 60)))


def people_pick(
    rng: random.Random, recent: Sequence[Any], pages: Mapping[Sort, list[tuple[int, int]]]
) -> tuple[int, int]:
    """The post a person's like goes to, as (post, its author): one of the last day's
    ``recent`` alike, or with ``pages`` (``--people-like feeds``) one on the first page of
    a feed drawn at even odds among them."""
    if pages:
        post_id, owner = rng.choice(pages[rng.choice(sorted(pages))])
    else:
        post_id, owner, _ = rng.choice(recent)
    return post_id, owner


def _pace(demo: Demo) -> float:
    """The pace the fleet runs at now (1 before one was measured)."""
    assert demo.fleet is not None
    with demo.fleet.sessions() as session:
        return max(activities.current_pace(session), 0.01)


def demo_base(demo: Demo) -> str:
    return str(demo.sandbox.url).rstrip("/")


@dataclass
class Gallery:
    """Everything on the gallery after the run, and what the bench knows of it."""

    users: dict[int, Any]
    posts: list[Any]
    likes: list[Any]
    comments: list[Any]
    newcomer_posts: list[int]
    feed_sorts: dict[str, int]
    interests: dict[str, str]
    start: datetime
    end: datetime
    # The fleet's pace readings: (when, the pace in force then).
    paces: list[tuple[datetime, float]] = field(default_factory=list)
    # The fleet's decided actions: handle, action, status, due_at, error, turned.
    actions: list[SimpleNamespace] = field(default_factory=list)
    # Newcomers' posts whose authors the impact holdout keeps from the fleet (docs/impact.md):
    # left out of the newcomers' figures, which are the treated's.
    held_out_posts: list[int] = field(default_factory=list)


def run(
    *,
    agents: int,
    seed: int,
    days: float,
    newcomer_every: float,
    ramp_to: float | None,
    people_like: str = "random",
    writer: str = "offline",
    plans: bool = True,
    calls: dict[str, int] | None = None,
) -> tuple[Gallery, float]:
    """Run the fleet with people beside it; the gallery read back, and the wall time.
    ``writer`` "fake-llm": through ``bench.fake_llm`` (its calls by task into ``calls``)."""
    simulated = days * 86_400
    speed = 1440.0
    options = DemoOptions(
        agents=agents,
        speed=speed,
        duration=simulated / speed,
        seed=seed,
        start=START,
        llm=writer == "fake-llm",
    )
    began = time.monotonic()
    with (
        fake_llm.serving(plans=plans) if writer == "fake-llm" else nullcontext() as api,
        tempfile.TemporaryDirectory(prefix="fleet-community-") as tmp,
    ):
        demo = Demo(options, Path(tmp))
        try:
            demo.prepare()
            people = People(
                demo,
                random.Random(seed),
                newcomer_arrivals(
                    random.Random(f"newcomers:{seed}"), START, simulated, newcomer_every
                ),
                ramp_to,
                span_seconds=simulated,
                people_like=people_like,
            )
            demo.run(people.step, threading.Event())
            assert demo.fleet is not None
            box = demo.sandbox.app.state.sandbox
            with box.storage.begin() as conn:
                users = {row.id: _row(row) for row in conn.execute(select(tables.users))}
                posts = [
                    _row(row)
                    for row in conn.execute(select(tables.posts).order_by(tables.posts.c.id))
                ]
                likes = [_row(row) for row in conn.execute(select(tables.likes))]
                comments = [
                    _row(row)
                    for row in conn.execute(select(tables.comments).order_by(tables.comments.c.id))
                ]
            catalogue = demo.fleet.personas
            interests = {
                slug: ", ".join(catalogue.get(slug).interests) for slug in catalogue.slugs()
            }
            sorts = dict(box.feed_reads)
            end = demo.clock.now()
            paces = [
                (r.end, r.pace)
                for r in activities.readings_since(demo.fleet.sessions, START - timedelta(days=1))
            ]
            actions = _actions(demo)
            impact = demo.fleet.settings.impact
        finally:
            demo.close()
            demo.sandbox.stop()
        if api is not None and calls is not None:
            calls.update(api.calls)
    authors = {p.id: p.user_id for p in posts}
    held = {
        pid
        for pid in people.newcomer_posts
        if arm(str(authors.get(pid)), impact.experiment, impact.holdout_share) == "holdout"
    }
    gallery = Gallery(
        users,
        posts,
        likes,
        comments,
        [pid for pid in people.newcomer_posts if pid not in held],
        sorts,
        interests,
        START,
        end,
        paces,
        actions,
        sorted(held),
    )
    return gallery, time.monotonic() - began


def _actions(demo: Demo) -> list[SimpleNamespace]:
    """The fleet's decided actions, as the diagnostics read them."""
    assert demo.fleet is not None
    with demo.fleet.sessions() as session:
        rows = session.execute(
            select(
                Agent.handle,
                AgentActivity.agent_id,
                AgentActivity.action,
                AgentActivity.status,
                AgentActivity.due_at,
                AgentActivity.error,
                AgentActivity.content,
                AgentActivity.usage,
                AgentActivity.target_post_id,
            ).join(Agent, Agent.id == AgentActivity.agent_id)
        ).all()
        plans = {
            (agent_id, _epoch(opened)): items
            for agent_id, opened, items in session.execute(
                select(SessionPlan.agent_id, SessionPlan.opened_at, SessionPlan.items)
            )
        }
    openers = {
        (agent_id, _epoch(due)): (action, status) for _, agent_id, action, status, due, *_ in rows
    }
    return [
        SimpleNamespace(
            handle=handle,
            action=action,
            status=status,
            due_at=due,
            error=(error or "")[:60],
            turned=_turned(content or {}),
            # Its words taken from its session's plan (no call of its own).
            planned=_planned(content or {}, usage or {}),
            missed=_plan_missed(
                agent_id, action, content or {}, target, usage or {}, plans, openers
            ),
            plan_refused=bool((content or {}).get("plan_refused")),
            calls=int((usage or {}).get("calls") or 0),
            # Its words its own from the start: no planned text offered, and no plan's
            # call on its activity (a reply that opened its session carries one).
            own_from_start=not (content or {}).get("plan_refused")
            and "says" not in (content or {})
            and not _planned(content or {}, usage or {}),
            guard_skipped=status == "skipped" and (error or "").startswith("content guard"),
        )
        for handle, agent_id, action, status, due, error, content, usage, target in rows
    ]


def _planned(content: Mapping[str, Any], usage: Mapping[str, Any]) -> bool:
    """Whether its words were its session plan's (the activity says so; a reply that
    opened its session carries the plan's call in its usage too)."""
    return content.get("planned") is True or usage.get("model") == "plan"


def _epoch(at: datetime) -> int:
    return int((at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp())


def _plan_missed(
    agent_id: int,
    action: str,
    content: Mapping[str, Any],
    target: str | None,
    usage: Mapping[str, Any],
    plans: Mapping[tuple[int, int], Any],
    openers: Mapping[tuple[int, int], tuple[str, str]],
) -> str | None:
    """Why a comment, reply or post wrote its own words rather than its plan's (None:
    it took the plan's, or it is not a kind with words)."""
    if action not in ("comment", "reply", "post") or _planned(content, usage):
        return None
    opened = content.get("session")
    if not isinstance(opened, int):
        return "not in a session"
    plan = plans.get((agent_id, opened))
    if plan is None:
        kind, status = openers.get((agent_id, opened), ("none", "-"))
        return f"no plan: the session opened with a {kind} ({status})"
    if content.get("identity"):
        return "a truthful answer (never planned)"
    field_of = {"comment": "comments", "reply": "replies"}
    if action == "post":
        return "the plan's post refused" if plan.get("post") else "the plan wrote no post"
    written = plan.get(field_of[action]) or {}
    if not written:
        return f"the plan wrote no {action}"
    if str(target) not in written:  # a reply's target is the comment it answers
        passed = content.get("plan_passed")
        why = f" (the plan's: {passed})" if passed else ""
        return f"its {action} chose a target the plan did not write for{why}"
    reason = str(content.get("plan_refused") or "")
    return f"the guard refused the planned text: {_reason_kind(reason)}"


def _reason_kind(reason: str) -> str:
    """A guard's reason without the text it quotes (counted by kind)."""
    return re.split(r"[:(\"']", reason, maxsplit=1)[0].strip()[:60] or "unsaid"


def _turned(notes: dict[str, Any]) -> str | None:
    """Why a look at its notifications became another kind (a quota, the budget)."""
    if notes.get("degraded_from") != "reply":
        return None
    return str(notes.get("quota") or notes.get("degraded") or "")


def _row(row: Any) -> SimpleNamespace:
    """A row with its time in UTC (SQLite gives it back without its zone)."""
    values = dict(row._mapping)
    when = values.get("created_at")
    if isinstance(when, datetime) and when.tzinfo is None:
        values["created_at"] = when.replace(tzinfo=UTC)
    return SimpleNamespace(**values)


# --- measures -------------------------------------------------------------------------


def gini(values: list[int]) -> float:
    if not values or sum(values) == 0:
        return 0.0
    ordered = np.sort(np.asarray(values, dtype=float))
    n = len(ordered)
    ranks = np.arange(1, n + 1)
    return float((2 * np.sum(ranks * ordered)) / (n * np.sum(ordered)) - (n + 1) / n)


def top_share(values: list[int], share: float = 0.1) -> float:
    if not values or sum(values) == 0:
        return 0.0
    ordered = sorted(values, reverse=True)
    top = max(1, round(len(ordered) * share))
    return sum(ordered[:top]) / sum(ordered)


def _text(post: Any) -> str:
    return f"{post.title}. {post.description}".strip()


NOISE = re.compile(r"\d[a-z]|[a-z]\d[a-z]")


def random_tail(handle: str) -> bool:
    """A last segment no person would choose: base-36 noise, as in
    ``gamedev_luckyslime_52humr`` (digits among letters), or five letters or more with
    at most one vowel (``laqsmm``, ``lctxps``; a word like ``glitch`` is counted too)."""
    last = handle.rsplit("_", 1)[-1].lower().rstrip("0123456789")
    vowels = sum(ch in "aeiouy" for ch in last)
    return bool(NOISE.search(last)) or (len(last) >= 5 and vowels <= 1)


def measure(gallery: Gallery, embedder: LocalEmbedder, rng: random.Random) -> dict[str, Any]:
    users = gallery.users
    bots = {uid for uid, u in users.items() if u.is_agent}
    posts = gallery.posts
    by_post = {p.id: p for p in posts}
    likes_per = Counter(like.post_id for like in gallery.likes)
    comments_per = Counter(c.post_id for c in gallery.comments if c.parent_id is None)
    like_counts = [likes_per.get(p.id, 0) for p in posts]
    bot_likes_per = Counter(like.post_id for like in gallery.likes if like.user_id in bots)
    bot_like_counts = [bot_likes_per.get(p.id, 0) for p in posts]
    comment_counts = [comments_per.get(p.id, 0) for p in posts]
    out: dict[str, Any] = {
        "posts": len(posts),
        "bot_posts": sum(1 for p in posts if p.user_id in bots),
        "likes": len(gallery.likes),
        "comments": len(gallery.comments),
        "likes_gini": round(gini(like_counts), 3),
        "likes_top10_share": round(top_share(like_counts), 3),
        # Diagnostic: the fleet's likes alone (the bench's people like at random).
        "bot_likes_gini": round(gini(bot_like_counts), 3),
        "bot_likes_top10_share": round(top_share(bot_like_counts), 3),
        "people_likes": sum(1 for like in gallery.likes if like.user_id not in bots),
        "comments_gini": round(gini(comment_counts), 3),
        "comments_top10_share": round(top_share(comment_counts), 3),
    }

    # Engagements: (who, post, when), likes and top-level comments.
    engagements = [(like.user_id, like.post_id, like.created_at) for like in gallery.likes] + [
        (c.user_id, c.post_id, c.created_at) for c in gallery.comments if c.parent_id is None
    ]
    created = sorted((p.created_at, p.id) for p in posts)

    def open_at(when: datetime, me: int) -> list[int]:
        return [pid for at, pid in created if at <= when and by_post[pid].user_id != me]

    def reciprocity(pairs: list[tuple[int, int]]) -> float:
        directed = {(a, b) for a, b in pairs if a != b}
        if not directed:
            return 0.0
        return sum(1 for a, b in directed if (b, a) in directed) / len(directed)

    actual = [(who, by_post[pid].user_id) for who, pid, _ in engagements if pid in by_post]
    baselines = []
    for _ in range(3):
        shuffled = []
        for who, _pid, when in engagements:
            choices = open_at(when, who)
            if choices:
                shuffled.append((who, by_post[rng.choice(choices)].user_id))
        baselines.append(reciprocity(shuffled))
    base = float(np.mean(baselines)) if baselines else 0.0
    out["reciprocity"] = round(reciprocity(actual), 3)
    out["reciprocity_random_baseline"] = round(base, 3)
    out["reciprocity_ratio"] = round(out["reciprocity"] / base, 2) if base else None

    # Vectors: every post's text; each persona's interests as a query.
    post_vectors = dict(
        zip(
            [p.id for p in posts],
            embedder.embed([_text(p) for p in posts]) if posts else [],
            strict=True,
        )
    )
    slugs = sorted(gallery.interests)
    interest_vectors = dict(
        zip(
            slugs,
            embedder.embed([gallery.interests[s] for s in slugs], purpose="query"),
            strict=True,
        )
    )
    wins = []
    # Diagnostics: the fit of likes and comments, on agents' and on people's posts.
    parts: dict[str, list[float]] = defaultdict(list)
    kinds = ["like"] * len(gallery.likes) + ["comment"] * (len(engagements) - len(gallery.likes))
    for (who, pid, when), kind in zip(engagements, kinds, strict=True):
        if who not in bots or pid not in post_vectors:
            continue
        persona = users[who].persona
        if persona not in interest_vectors:
            continue
        choices = open_at(when, who)
        if not choices:
            continue
        other = rng.choice(choices)
        me = interest_vectors[persona]
        engaged = float(post_vectors[pid] @ me)
        random_one = float(post_vectors[other] @ me)
        wins.append(1.0 if engaged > random_one else 0.5 if engaged == random_one else 0.0)
        whose = "bots" if by_post[pid].user_id in bots else "people"
        parts[f"interest_fit_p_{kind}s_on_{whose}_posts"].append(wins[-1])
    out["interest_fit_p"] = round(float(np.mean(wins)), 3) if wins else None
    for name, values in sorted(parts.items()):
        out[name] = {"p": round(float(np.mean(values)), 3), "n": len(values)}

    # Near-duplicates among bot texts of each kind, in the order they were written.
    def near_duplicates(texts: list[str]) -> float | None:
        if len(texts) < 2:
            return None
        matrix = np.stack(embedder.embed(texts))
        similar = matrix @ matrix.T
        hits = sum(1 for i in range(1, len(texts)) if float(similar[i, :i].max()) >= NEAR_DUPLICATE)
        return round(hits / len(texts), 3)

    bot_posts = [p for p in posts if p.user_id in bots]
    out["near_duplicate_posts"] = near_duplicates([_text(p) for p in bot_posts])
    out["near_duplicate_comments"] = near_duplicates(
        [c.content for c in gallery.comments if c.user_id in bots and c.parent_id is None]
    )
    bot_replies = [
        c.content for c in gallery.comments if c.user_id in bots and c.parent_id is not None
    ]
    out["near_duplicate_replies"] = near_duplicates(bot_replies)
    out["bot_replies"] = len(bot_replies)
    # The same words twice, whoever they answer: "@a fair enough" and "@b fair enough".
    bodies = [" ".join(unaddressed(text).lower().split()) for text in bot_replies]
    out["exact_repeat_replies"] = len(bodies) - len(set(bodies))

    # Identity: an agent's posts against each other and against its persona-mates'.
    mine: dict[int, list[Any]] = defaultdict(list)
    for p in bot_posts:
        mine[p.user_id].append(post_vectors[p.id])
    own_scores, mate_scores = [], []
    for uid, vectors in mine.items():
        if len(vectors) < 2:
            continue
        persona = users[uid].persona
        mates = [
            v
            for other, vs in mine.items()
            if other != uid and users[other].persona == persona
            for v in vs
        ]
        if not mates:
            continue
        own = np.stack(vectors)
        pair = own @ own.T
        n = len(vectors)
        own_scores.append(float((pair.sum() - np.trace(pair)) / (n * (n - 1))))
        mate_scores.append(float((own @ np.stack(mates).T).mean()))
    if own_scores:
        out["identity_own_similarity"] = round(float(np.mean(own_scores)), 4)
        out["identity_mates_similarity"] = round(float(np.mean(mate_scores)), 4)
        out["identity_margin"] = round(
            out["identity_own_similarity"] - out["identity_mates_similarity"], 4
        )
    else:
        out["identity_margin"] = None

    handles = [u.username for uid, u in users.items() if uid in bots]
    out["random_tail_handles"] = (
        round(sum(map(random_tail, handles)) / len(handles), 3) if handles else None
    )
    out["handles_sample"] = sorted(handles)[:: max(1, len(handles) // 8)][:8]
    out["feed_sorts_read"] = gallery.feed_sorts

    out.update(_newcomers(gallery, bots, by_post))
    out.update(held_out(gallery, bots))
    out.update(_conversations(gallery, bots, by_post))
    out["fleet_share_by_6h"] = _shares(gallery, bots)
    # Of the comments, replies and posts made, the share whose words came from their
    # session's plan (issue 53; 0 with the offline writer, which makes no plans).
    made = [a for a in gallery.actions if a.status == "succeeded"]
    out["planned_share"] = {
        kind: round(sum(a.planned for a in done) / len(done), 3) if done else None
        for kind in ("comment", "reply", "post")
        for done in [[a for a in made if a.action == kind]]
    }
    # Why the others wrote their own words, counted by reason.
    out["planned_missed_why"] = {
        kind: dict(Counter(a.missed for a in made if a.action == kind and a.missed).most_common())
        for kind in ("comment", "reply", "post")
    }
    out["first_drafts_refused"] = first_drafts_refused(gallery.actions)
    out["cost_flags"] = cost_flags(made, out["first_drafts_refused"])
    return out


# A miss that is the guard's refusal of a planned text, not the plan's structure.
_REFUSALS = ("the guard refused the planned text", "the plan's post refused")


def cost_flags(made: Sequence[SimpleNamespace], refused: Mapping[str, Any]) -> dict[str, str]:
    """This run's shares as ``bench.cost`` takes them: ``--plan-miss``, the texts whose
    plan had no text for them (the structural misses: every miss but the guard's
    refusals); ``--plan-refused``, the planned texts offered that the guard refused (a
    post's: its refused share of the posts the plan wrote for); ``--own-refused``, the
    own first drafts refused (of a ``--plans off`` run, for the before-plans side)."""
    miss, no, own = [], [], []
    for kind in ("comment", "reply", "post"):
        done = [a for a in made if a.action == kind]
        structural = [a for a in done if a.missed and not a.missed.startswith(_REFUSALS)]
        miss.append(f"{kind}={_share(len(structural), len(done)) or 0}")
        if kind == "post":
            offered = [a for a in done if a.planned or a.missed == _REFUSALS[1]]
            share = _share(sum(a.missed == _REFUSALS[1] for a in offered), len(offered))
        else:
            share = refused[kind]["planned_refused"]
        no.append(f"{kind}={share or 0}")
        if kind != "post":
            own.append(f"{kind}={refused[kind]['own_first_refused'] or 0}")
    return {"plan_miss": ",".join(miss), "plan_refused": ",".join(no), "own_refused": ",".join(own)}


def first_drafts_refused(actions: Sequence[SimpleNamespace]) -> dict[str, Any]:
    """How often the guard refuses a first draft, planned or the action's own: of the
    planned texts a comment or reply was offered, the share refused (``plan_refused``);
    of the comments and replies that wrote their own from the start (no planned text, no
    plan's call on their activity), the share whose first draft was refused (a second
    call, or skipped by the guard). A plan is not worse than the own call when the first
    is not above the second: a refusal costs one more call either way."""
    out: dict[str, Any] = {}
    for kind in ("comment", "reply"):
        mine = [a for a in actions if a.action == kind]
        offered = [a for a in mine if a.planned or a.plan_refused]
        # Those that wrote: a call paid (succeeded or skipped after), or the guard's skip.
        own = [a for a in mine if a.own_from_start and (a.calls >= 1 or a.guard_skipped)]
        refused_own = [a for a in own if a.calls >= 2 or a.guard_skipped]
        out[kind] = {
            "planned_offered": len(offered),
            "planned_refused": _share(sum(bool(a.plan_refused) for a in offered), len(offered)),
            "own_first_drafts": len(own),
            "own_first_refused": _share(len(refused_own), len(own)),
        }
    return out


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def held_out(gallery: Gallery, bots: set[int]) -> dict[str, Any]:
    """The newcomers the impact holdout keeps from the fleet, and the agents' likes,
    comments and replies that reached them anyway, counted from the gallery (0 is right)."""
    posts = set(gallery.held_out_posts)
    authors = {p.id: p.user_id for p in gallery.posts}
    people = {authors[pid] for pid in posts if pid in authors}
    by_comment = {c.id: c.user_id for c in gallery.comments}
    return {
        "newcomer_posts_held_out": len(posts),
        "agent_actions_toward_held_out": sum(
            1
            for like in gallery.likes
            if like.user_id in bots and authors.get(like.post_id) in people
        )
        + sum(
            1
            for c in gallery.comments
            if c.user_id in bots
            and (
                authors.get(c.post_id) in people
                or (c.parent_id is not None and by_comment.get(c.parent_id) in people)
            )
        ),
    }


def _minutes(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds() / 60


def _newcomers(gallery: Gallery, bots: set[int], by_post: dict[int, Any]) -> dict[str, Any]:
    rows = []
    for pid in gallery.newcomer_posts:
        post = by_post.get(pid)
        if post is None:
            continue
        likes = sorted(
            like.created_at
            for like in gallery.likes
            if like.post_id == pid and like.user_id in bots
        )
        comments = [c for c in gallery.comments if c.post_id == pid and c.user_id in bots]
        first_comment = min((c.created_at for c in comments), default=None)
        rows.append(
            {
                "first_like_minutes": _minutes(likes[0], post.created_at) if likes else None,
                "first_comment_minutes": _minutes(first_comment, post.created_at)
                if first_comment
                else None,
                "bot_comments": len(comments),
                "bot_likes": len(likes),
                "distinct_bots": len(
                    {c.user_id for c in comments}
                    | {
                        like.user_id
                        for like in gallery.likes
                        if like.post_id == pid and like.user_id in bots
                    }
                ),
                "age_hours": (gallery.end - post.created_at).total_seconds() / 3600,
                "posted_at": post.created_at.strftime("%a %H:%M UTC"),
            }
        )
    if not rows:
        return {"newcomer_posts": 0}
    grown = [r for r in rows if r["age_hours"] >= 3]
    likes_at = [r["first_like_minutes"] for r in rows if r["first_like_minutes"] is not None]
    return {
        "newcomer_posts": len(rows),
        "newcomer_commented_within_3h": round(
            sum(
                1
                for r in grown
                if r["first_comment_minutes"] is not None and r["first_comment_minutes"] <= 180
            )
            / len(grown),
            3,
        )
        if grown
        else None,
        "newcomer_first_like_minutes_median": round(float(np.median(likes_at)), 1)
        if likes_at
        else None,
        "newcomer_first_comment_minutes_median": round(
            float(
                np.median(
                    [
                        r["first_comment_minutes"]
                        for r in rows
                        if r["first_comment_minutes"] is not None
                    ]
                    or [np.nan]
                )
            ),
            1,
        ),
        "newcomer_bot_comments_mean": round(float(np.mean([r["bot_comments"] for r in rows])), 2),
        "newcomer_bot_comments_max": max(r["bot_comments"] for r in rows),
        "newcomer_bot_likes_mean": round(float(np.mean([r["bot_likes"] for r in rows])), 2),
        "newcomer_distinct_bots_mean": round(float(np.mean([r["distinct_bots"] for r in rows])), 2),
        "per_newcomer_post": [
            {
                key: round(value, 1) if isinstance(value, float) else value
                for key, value in r.items()
            }
            for r in rows
        ],
    }


def _conversations(gallery: Gallery, bots: set[int], by_post: dict[int, Any]) -> dict[str, Any]:
    children: dict[int, list[Any]] = defaultdict(list)
    for c in gallery.comments:
        if c.parent_id is not None:
            children[c.parent_id].append(c)
    answered, delays = 0, []
    asked = 0
    # Diagnostic: of those left unanswered, how many authors were seen on the gallery
    # afterwards (a post, a like or a comment of theirs later on).
    seen_at: dict[int, list[datetime]] = defaultdict(list)
    for item in [*gallery.posts, *gallery.likes, *gallery.comments]:
        seen_at[item.user_id].append(item.created_at)
    unanswered, came_back = 0, 0
    why: Counter[str] = Counter()
    actions_of: dict[str, list[Any]] = defaultdict(list)
    for action in gallery.actions:
        actions_of[action.handle].append(action)
    for c in gallery.comments:
        post = by_post.get(c.post_id)
        if post is None or c.user_id in bots or post.user_id not in bots:
            continue
        if (gallery.end - c.created_at) < timedelta(hours=3):
            continue  # too young to hold against the fleet
        asked += 1
        replies = [r for r in children.get(c.id, []) if r.user_id == post.user_id]
        if replies:
            answered += 1
            delays.append(_minutes(min(r.created_at for r in replies), c.created_at))
        else:
            unanswered += 1
            came_back += any(at > c.created_at for at in seen_at[post.user_id])
            why[_why_unanswered(actions_of[gallery.users[post.user_id].username], c)] += 1

    def size(comment: Any) -> int:
        return 1 + sum(size(child) for child in children.get(comment.id, []))

    def depth(comment: Any) -> int:
        return 1 + max((depth(child) for child in children.get(comment.id, [])), default=0)

    tops = [c for c in gallery.comments if c.parent_id is None]
    conversations = [c for c in tops if children.get(c.id)]
    return {
        "people_comments_on_agents_posts": asked,
        "people_comments_answered": round(answered / asked, 3) if asked else None,
        "people_comments_answer_delay_minutes_median": round(float(np.median(delays)), 1)
        if delays
        else None,
        "people_comments_unanswered_author_seen_after": round(came_back / unanswered, 3)
        if unanswered
        else None,
        "people_comments_unanswered_why": dict(why.most_common()),
        "threads": len(conversations),
        "threads_reaching_3": round(
            sum(1 for c in conversations if depth(c) >= 3) / len(conversations), 3
        )
        if conversations
        else None,
        "top_level_comments_reaching_3": round(sum(1 for c in tops if size(c) >= 3) / len(tops), 3)
        if tops
        else None,
    }


def _why_unanswered(authors_actions: list[Any], comment: Any) -> str:
    """What the author agent did after a person's comment it left unanswered."""
    after = [a for a in authors_actions if a.due_at > comment.created_at]
    if not after:
        return "no action after"
    replies = [a for a in after if a.action == "reply"]
    if not replies:
        turned = Counter[str](a.turned[:40] for a in after if a.turned)
        if turned:
            return "reply turned: " + turned.most_common(1)[0][0]
        return f"no reply decided ({len(after)} actions after)"
    answered = [a for a in replies if a.status == "succeeded"]
    if answered:
        return f"answered others ({len(answered)})"
    return "reply " + Counter(f"{a.status}: {a.error}" for a in replies).most_common(1)[0][0]


def _shares(gallery: Gallery, bots: set[int]) -> list[dict[str, Any]]:
    window = timedelta(hours=6)
    moments = (
        [(p.created_at, p.user_id) for p in gallery.posts]
        + [(like.created_at, like.user_id) for like in gallery.likes]
        + [(c.created_at, c.user_id) for c in gallery.comments]
    )
    out = []
    at = gallery.start
    while at < gallery.end:
        inside = [uid for when, uid in moments if at <= when < at + window]
        fleet = sum(1 for uid in inside if uid in bots)
        out.append(
            {
                "from": at.isoformat(),
                "fleet_actions": fleet,
                "people_actions": len(inside) - fleet,
                "fleet_share": round(fleet / len(inside), 3) if inside else None,
            }
        )
        at += window
    return out


def _last_day(gallery: Gallery) -> tuple[int, int]:
    """The fleet's and people's visible actions (posts, likes, comments) in the run's
    last simulated day."""
    fleet, people = _last_day_by_kind(gallery)
    return sum(fleet.values()), sum(people.values())


def _last_day_by_kind(gallery: Gallery) -> tuple[Counter[str], Counter[str]]:
    """The fleet's and people's posts, likes, comments and replies in the last day."""
    since = gallery.end - timedelta(days=1)
    bots = {uid for uid, u in gallery.users.items() if u.is_agent}
    moments = [
        *((p.created_at, p.user_id, "post") for p in gallery.posts),
        *((like.created_at, like.user_id, "like") for like in gallery.likes),
        *(
            (c.created_at, c.user_id, "comment" if c.parent_id is None else "reply")
            for c in gallery.comments
        ),
    ]
    fleet: Counter[str] = Counter()
    people: Counter[str] = Counter()
    for when, uid, kind in moments:
        if when >= since:
            (fleet if uid in bots else people)[kind] += 1
    return fleet, people


def _paces(gallery: Gallery) -> list[float]:
    """The mean pace in force over each 6 simulated hours of the run."""
    out = []
    at = gallery.start
    while at < gallery.end:
        inside = [pace for when, pace in gallery.paces if at <= when < at + timedelta(hours=6)]
        out.append(round(sum(inside) / len(inside), 3) if inside else 1.0)
        at += timedelta(hours=6)
    return out


def step_back(baseline: Gallery, ramped: Gallery, *, kind: str) -> dict[str, Any]:
    """The fleet's last day in the baseline run against with people grown."""
    fleet_base, people_base = _last_day(baseline)
    fleet_ramped, people_ramped = _last_day(ramped)
    return {
        "baseline": kind,
        "last_day_fleet_actions_baseline": fleet_base,
        "last_day_people_actions_baseline": people_base,
        "last_day_fleet_actions_ramped": fleet_ramped,
        "last_day_people_actions_ramped": people_ramped,
        "people_to_fleet_baseline_ratio": round(people_ramped / fleet_base, 2)
        if fleet_base
        else None,
        "fleet_fall": round(1 - fleet_ramped / fleet_base, 3) if fleet_base else None,
        "target": ">= 0.5",
        "last_day_fleet_by_kind_baseline": dict(_last_day_by_kind(baseline)[0]),
        "last_day_fleet_by_kind_ramped": dict(_last_day_by_kind(ramped)[0]),
        "pace_by_6h_baseline": _paces(baseline),
        "pace_by_6h_ramped": _paces(ramped),
    }


def examples(gallery: Gallery, *, newcomer_posts: int = 2) -> dict[str, Any]:
    """What a reader of the closing note should see quoted: the first newcomer posts
    with every bot comment and reply under them, and the longest thread."""
    users = gallery.users
    bots = {uid for uid, u in users.items() if u.is_agent}
    by_post = {p.id: p for p in gallery.posts}
    by_id = {c.id: c for c in gallery.comments}

    def said(c: Any) -> str:
        who = users[c.user_id].username + (" (bot)" if c.user_id in bots else "")
        minutes = _minutes(c.created_at, by_post[c.post_id].created_at)
        return f"+{minutes:.0f} min {who}: {c.content}"

    welcomed = []
    for post_id in gallery.newcomer_posts[:newcomer_posts]:
        post = by_post[post_id]
        under = [c for c in gallery.comments if c.post_id == post_id]
        welcomed.append(
            {
                "title": post.title,
                "description": post.description,
                "comments": [said(c) for c in sorted(under, key=lambda c: c.created_at)],
            }
        )

    def chain(c: Any) -> list[Any]:
        line = [c]
        while line[-1].parent_id is not None and line[-1].parent_id in by_id:
            line.append(by_id[line[-1].parent_id])
        return line[::-1]

    longest = max((chain(c) for c in gallery.comments), key=len, default=[])
    thread = {}
    if longest:
        post = by_post[longest[0].post_id]
        thread = {
            "post": f"{post.title} (by {users[post.user_id].username})",
            "messages": [said(c) for c in longest],
        }
    # One bot reply to each different thing people said (issue 54: each answers it).
    answered: dict[str, str] = {}
    for c in gallery.comments:
        parent = by_id.get(c.parent_id) if c.parent_id is not None else None
        if parent is None or c.user_id not in bots or parent.user_id in bots:
            continue
        answered.setdefault(parent.content, said(c))
    return {
        "newcomer_posts": welcomed,
        "longest_thread": thread,
        "replies_to_people": [{"said": k, "reply": v} for k, v in answered.items()],
    }


def _meets(value: float, sense: str, bound: float) -> bool:
    """Whether ``value`` meets a target of ``TARGETS`` (``sense`` ">=" or "<=")."""
    return value >= bound if sense == ">=" else value <= bound


def verdicts(figures: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for name, (sense, bound) in TARGETS.items():
        value = figures.get(name)
        met = None if value is None else _meets(value, sense, bound)
        out[name] = {"value": value, "target": f"{sense} {bound:g}", "met": met}
    return out


def summarise(runs: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """Several seeds' figures: each target's mean (its verdict), lowest and highest, and
    how many seeds met it. One run varies from the next by about as much as a
    setting moves a figure (the likes' top-10 % share by +-0.03): a verdict on one seed
    says little."""
    out: dict[str, Any] = {}
    for name, (sense, bound) in TARGETS.items():
        values = [f[name] for f in runs.values() if isinstance(f.get(name), int | float)]
        if not values:
            out[name] = {"mean": None, "target": f"{sense} {bound:g}", "met": None}
            continue
        mean = float(np.mean(values))
        met = [_meets(v, sense, bound) for v in values]
        out[name] = {
            "mean": round(mean, 4),
            "lowest": min(values),
            "highest": max(values),
            "target": f"{sense} {bound:g}",
            "met": _meets(mean, sense, bound),
            "met_by_seeds": f"{sum(met)}/{len(met)}",
        }
    return out


def _seed_run(
    seed: int, agents: int, days: float, newcomer_every: float, people_like: str
) -> dict[str, Any]:
    """One seed's run and figures, in a process of its own (``--seeds`` with ``--jobs``)."""
    gallery, wall = run(
        agents=agents,
        seed=seed,
        days=days,
        newcomer_every=newcomer_every,
        ramp_to=None,
        people_like=people_like,
    )
    figures = measure(gallery, LocalEmbedder(), random.Random(seed))
    return {"figures": figures, "run_seconds": round(wall, 1), "examples": examples(gallery)}


def _seeds(text: str) -> list[int]:
    try:
        seeds = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--seeds takes whole numbers, e.g. 3,4,5: {text[:40]!r}"
        ) from None
    if not seeds or len(set(seeds)) != len(seeds):
        raise argparse.ArgumentTypeError(f"--seeds takes distinct seeds, e.g. 3,4,5: {text[:40]!r}")
    return seeds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=72)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument(
        "--seeds",
        type=_seeds,
        help="several seeds, e.g. 3,4,5,6: each target's mean, lowest and highest",
    )
    parser.add_argument("--jobs", type=int, default=1, help="seeds run at once (--seeds)")
    parser.add_argument(
        "--people-like",
        choices=("random", "feeds"),
        default="random",
        help="people's likes: any post of the last day alike, or what the first page of "
        "recent or popular shows",
    )
    parser.add_argument("--days", type=float, default=2.0)
    parser.add_argument("--newcomer-every", type=float, default=60.0, help="simulated minutes")
    parser.add_argument("--ramp", action="store_true", help="people's activity grows 0 -> 5x")
    parser.add_argument("--ramp-to", type=float, default=5.0)
    parser.add_argument(
        "--ramp-baseline",
        choices=("none", "plain"),
        default="none",
        help="the run the ramp is compared with: people not engaging, or at plain rates",
    )
    parser.add_argument("--smoke", action="store_true", help="a few simulated hours, 12 agents")
    parser.add_argument(
        "--examples",
        action="store_true",
        help="also quote newcomer posts' comments, a thread, replies to people (each seed's)",
    )
    parser.add_argument(
        "--writer",
        choices=("offline", "fake-llm"),
        default="offline",
        help="the offline writer, or the Anthropic writer on a fake LLM (bench.fake_llm)",
    )
    parser.add_argument(
        "--plans",
        choices=("on", "off"),
        default="on",
        help="with --writer fake-llm: a speaking session's words in one call, or a call each",
    )
    args = parser.parse_args(argv)
    if args.writer != "fake-llm" and args.plans == "off":
        parser.error("--plans off is for --writer fake-llm (the offline writer makes no plans)")
    if args.writer != "offline" and (args.seeds is not None or args.ramp):
        parser.error("--writer fake-llm runs one plain run: no --seeds or --ramp with it")
    if args.smoke:
        args.agents, args.days = 12, 0.25
    if args.seeds is not None:
        if args.ramp:
            parser.error("--seeds measures the plain run: no --ramp with it")
        if args.jobs < 1:
            parser.error(f"--jobs is at least 1, not {args.jobs}")
        json.dump(several(args), sys.stdout, indent=2, default=str)
        print()
        return 0
    stepping_back = None
    if args.ramp:
        # The same fleet, seed and newcomers with people not engaging (or at their plain
        # rates): the fleet's last day there against its last day as people grow to
        # ``--ramp-to`` times its activity.
        baseline, _ = run(
            agents=args.agents,
            seed=args.seed,
            days=args.days,
            newcomer_every=args.newcomer_every,
            ramp_to=0.0 if args.ramp_baseline == "none" else None,
            people_like=args.people_like,
        )
    calls: dict[str, int] = {}
    gallery, wall = run(
        agents=args.agents,
        seed=args.seed,
        days=args.days,
        newcomer_every=args.newcomer_every,
        ramp_to=args.ramp_to if args.ramp else None,
        people_like=args.people_like,
        writer=args.writer,
        plans=args.plans == "on",
        calls=calls,
    )
    if args.ramp:
        stepping_back = step_back(baseline, gallery, kind=args.ramp_baseline)
    began = time.monotonic()
    figures = measure(gallery, LocalEmbedder(), random.Random(args.seed))
    figures.update(
        taking_up.figures(gallery.posts, gallery.comments, gallery.newcomer_posts, gallery.users)
    )
    report = {
        "bench": "community",
        "agents": args.agents,
        "seed": args.seed,
        "days": args.days,
        "people_like": args.people_like,
        "ramp": args.ramp_to if args.ramp else None,
        "writer": args.writer if args.writer == "offline" else f"{args.writer}, plans {args.plans}",
        "llm_calls_by_task": calls or None,
        "run_seconds": round(wall, 1),
        "measure_seconds": round(time.monotonic() - began, 1),
        "figures": figures,
        "targets": verdicts(figures),
    }
    if stepping_back is not None:
        report["stepping_back"] = stepping_back
    if args.examples:
        report["examples"] = examples(gallery)
    json.dump(report, sys.stdout, indent=2, default=str)
    print()
    return 0


def several(args: argparse.Namespace) -> dict[str, Any]:
    """``--seeds``: one run a seed (``--jobs`` at once, each in a process of its own)."""
    began = time.monotonic()
    # Spawned, not forked: a process with threads (a test session's servers and pools)
    # forked children that hung on locks those threads held.
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=args.jobs, mp_context=spawn) as pool:
        done = {
            seed: pool.submit(
                _seed_run, seed, args.agents, args.days, args.newcomer_every, args.people_like
            )
            for seed in args.seeds
        }
        runs = {seed: future.result() for seed, future in done.items()}
    figures = {seed: r["figures"] for seed, r in runs.items()}
    return {
        "bench": "community",
        "agents": args.agents,
        "seeds": args.seeds,
        "days": args.days,
        "people_like": args.people_like,
        "wall_seconds": round(time.monotonic() - began, 1),
        "targets": summarise(figures),
        "per_seed": {
            seed: {
                "run_seconds": runs[seed]["run_seconds"],
                **{name: f.get(name) for name in (*TARGETS, *DIAGNOSTICS)},
            }
            for seed, f in figures.items()
        },
        **(
            {"examples": {seed: r["examples"] for seed, r in runs.items()}} if args.examples else {}
        ),
    }


if __name__ == "__main__":
    sys.exit(main())

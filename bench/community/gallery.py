"""bench.community.gallery: one run of the fleet with people beside it, and the gallery
read back (its own tables, as an outside reader of the API would see them) with the
fleet's decided actions.
"""

from __future__ import annotations

import random
import re
import tempfile
import threading
import time
from collections.abc import Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select

from bench import fake_llm
from bench.community.people import START, People, newcomer_arrivals
from fleet import activities
from fleet.db.models import Agent, AgentActivity, SessionPlanRow
from fleet.demo import Demo, DemoOptions
from fleet.impact.holdout import arm
from fleet_sandbox import tables


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
    # The follow graph's every change (follower, followed, following, when), in order,
    # and the newcomers' user ids with when they joined (``bench.follows``).
    follow_events: list[Any] = field(default_factory=list)
    newcomers: dict[int, datetime] = field(default_factory=dict)
    # The people who said no to agents (their consent "none" at the end).
    said_no: set[int] = field(default_factory=set)


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
    people_class: type[People] = People,
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
            people = people_class(
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
                follow_events = [
                    _row(row)
                    for row in conn.execute(
                        select(tables.follow_events).order_by(tables.follow_events.c.id)
                    )
                ]
                said_no = set(
                    conn.execute(
                        select(tables.consents.c.user_id).where(
                            tables.consents.c.agent_interactions == "none"
                        )
                    ).scalars()
                )
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
        follow_events,
        {
            u.id: u.created_at
            for u in users.values()
            if str(u.username).startswith("newcomer") and not u.is_agent
        },
        said_no,
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
                select(SessionPlanRow.agent_id, SessionPlanRow.opened_at, SessionPlanRow.items)
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

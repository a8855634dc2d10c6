"""The weekly report: per persona, actions by kind against the volume its clock,
sessions and quotas expect of its active agents; the engagement its posts received from
people and from the fleet's bots; LLM tokens and cost; and the week's dead letters with
their reasons."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fleet import activities, agents
from fleet.activities.drafts import DraftStats, draft_stats
from fleet.content.offline.writer import MODEL as OFFLINE_MODEL
from fleet.core.pace import Pace
from fleet.core.statuses import ActivityStatus
from fleet.core.timeline import expected_actions
from fleet.errors import FleetError, InputError
from fleet.service.root import Fleet

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
# Agents simulated per persona for the volume it expects of one agent (the seeds
# ``fleet schedule preview`` samples).
SAMPLE_AGENTS = 20
# The week's newest posts whose engagement is read from the gallery (two calls each).
ENGAGEMENT_POSTS = 100
# The expected volume of one agent per (persona, start, end): a simulation, done once.
_EXPECTED: dict[tuple[str, float, float], list[dict[str, float]]] = {}


@dataclass
class Received:
    """What the persona's posts of the week received, as the gallery counts it now:
    likes and comments from people, and from the fleet's own agents."""

    posts: int = 0
    likes_from_people: int = 0
    likes_from_bots: int = 0
    comments_from_people: int = 0
    comments_from_bots: int = 0


@dataclass
class PersonaWeek:
    """One persona's week."""

    slug: str
    actions: dict[str, dict[str, int]] = field(default_factory=dict)
    # What a model billed; the offline writer's tokens are an estimate of what a model
    # would have cost, at no cost, and are counted apart.
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    estimated_tokens: int = 0
    # Activities whose text each writer of the LLM chain wrote (``provider:model``).
    writers: dict[str, int] = field(default_factory=dict)
    # Its agents active now, and the actions by kind its rhythm expects of them over the
    # week (up to now, for the week under way), each from the hour after it was created.
    agents: int = 0
    target: dict[str, float] = field(default_factory=dict)
    received: Received = field(default_factory=Received)

    def succeeded(self, kind: str) -> int:
        return self.actions.get(kind, {}).get(ActivityStatus.SUCCEEDED, 0)

    @property
    def total(self) -> int:
        return sum(sum(by.values()) for by in self.actions.values())


@dataclass
class WeekReport:
    """The fleet's ISO week: per persona, and the dead letters by reason."""

    week: str
    start: datetime
    end: datetime
    personas: list[PersonaWeek]
    dead_letters: list[tuple[str, str, int]]
    # The week's posts, how many of them the engagement was read for, and why not, if not.
    posts: int = 0
    posts_read: int = 0
    engagement_problem: str | None = None
    # Review mode: drafts waiting now, and the week's decisions on drafts.
    drafts: DraftStats | None = None
    # The fleet's pace as last measured (``fleet.core.pace``), and when; None: never.
    pace: Pace | None = None
    pace_measured_at: datetime | None = None
    # Of the week's newest posts: published, published with valid provenance marks, and
    # skipped for want of them (docs/provenance.md).
    provenance: tuple[int, int, int] = (0, 0, 0)

    @property
    def marked_share(self) -> float | None:
        """The share of published images with valid marks (None: nothing published)."""
        published, marked, _ = self.provenance
        return marked / published if published else None

    # The honesty audit (fleet.honesty.audit) over the week so far: its findings, or why
    # it could not run.
    audit: list[dict[str, Any]] = field(default_factory=list)
    audit_problem: str | None = None

    @property
    def empty(self) -> bool:
        return not any(p.total for p in self.personas) and not self.dead_letters


def week_bounds(week: str) -> tuple[datetime, datetime]:
    """Monday 00:00 UTC of an ISO week (``2026-W47``) and the Monday after; InputError
    for anything else."""
    found = _WEEK.match(week.strip())
    if not found:
        raise InputError(f"week {week!r}: expected an ISO week like 2026-W47")
    try:
        monday = date.fromisocalendar(int(found[1]), int(found[2]), 1)
    except ValueError as error:
        raise InputError(f"week {week!r}: {error}") from None
    start = datetime(monday.year, monday.month, monday.day, tzinfo=UTC)
    return start, start + timedelta(days=7)


def weekly(fleet: Fleet, week: str) -> WeekReport:
    """The report of ``week`` (every persona of the catalogue, active or not)."""
    start, end = week_bounds(week)
    counts, usage = activities.week_outcomes(fleet.sessions, start, end)
    by: dict[str, PersonaWeek] = {slug: PersonaWeek(slug) for slug in fleet.personas.slugs()}
    for persona, action, status, count in counts:
        row = by.setdefault(persona, PersonaWeek(persona))
        row.actions.setdefault(action, {})[status] = count
    for persona, spent in usage:
        row = by.setdefault(persona, PersonaWeek(persona))
        tokens_in = int(spent.get("input_tokens", 0) or 0)  # type: ignore[call-overload]
        tokens_out = int(spent.get("output_tokens", 0) or 0)  # type: ignore[call-overload]
        writer = spent.get("provider")
        if isinstance(writer, str) and writer:
            row.writers[writer] = row.writers.get(writer, 0) + 1
        if spent.get("model") == OFFLINE_MODEL:
            row.estimated_tokens += tokens_in + tokens_out
            continue
        row.input_tokens += tokens_in
        row.output_tokens += tokens_out
        row.cost_usd += float(spent.get("cost_usd", 0.0) or 0.0)  # type: ignore[arg-type]
    letters = activities.dead_letter_reasons(fleet.sessions, start, end)
    until = min(end, fleet.clock.now())
    live = agents.active_since(fleet.sessions, until) if start < until else {}
    for slug, row in by.items():
        born = live.get(slug, [])
        row.agents = len(born)
        if born and slug in fleet.personas:
            row.target = target_of(_expected_of_one(fleet, slug, start, until), start, born)
    out = WeekReport(week.strip(), start, end, [by[k] for k in sorted(by)], letters)
    out.drafts = draft_stats(fleet.sessions, since=start, until=end)
    stored = activities.stored_pace(fleet.sessions)
    if stored is not None:
        out.pace, out.pace_measured_at = stored
    out.provenance = activities.provenance_counts(fleet.sessions, start, end)
    _read_engagement(fleet, out, by)
    _audit(fleet, out, start, until)
    return out


def _audit(fleet: Fleet, out: WeekReport, start: datetime, until: datetime) -> None:
    """The honesty audit over the week so far, on the report (a failure said, not raised)."""
    from fleet.honesty import audit

    if until <= start:
        return
    try:
        found = audit.audit(fleet, window=until - start)
    except FleetError as error:
        out.audit_problem = f"the audit could not run: {str(error)[:200]}"
        return
    out.audit = [f.to_json() for f in found.findings]


def target_of(
    hours: list[dict[str, float]], start: datetime, born: list[datetime]
) -> dict[str, float]:
    """What ``hours`` (one agent's expected actions, hour by hour from ``start``) add up to
    for agents created at ``born``: each counted from when it came (for its share of
    that hour)."""
    # How many agents are there, by the hour: a share in the hour one comes, then whole.
    joins = [0.0] * (len(hours) + 1)
    for created in born:
        since = (created.replace(tzinfo=created.tzinfo or UTC) - start).total_seconds()
        hour, into = divmod(max(0.0, since), 3600)
        if hour < len(hours):
            joins[int(hour)] += 1 - into / 3600
            joins[int(hour) + 1] += into / 3600
    target: dict[str, float] = {}
    there = 0.0
    for index, hour_of_one in enumerate(hours):
        there += joins[index]
        if not there:
            continue
        for kind, n in hour_of_one.items():
            target[kind] = target.get(kind, 0.0) + n * there
    return {kind: round(n, 1) for kind, n in target.items()}


def _expected_of_one(
    fleet: Fleet, slug: str, start: datetime, end: datetime
) -> list[dict[str, float]]:
    """The actions by kind the persona's clock, sessions and quotas expect of one agent
    in each hour from ``start`` to ``end`` (the mean of a sample of agents)."""
    key = (slug, start.timestamp(), end.timestamp())
    if key not in _EXPECTED:
        rhythms = [
            fleet.personas.cadences[slug].rhythm(1_000_003 * (i + 1)) for i in range(SAMPLE_AGENTS)
        ]
        _EXPECTED[key] = expected_actions(
            fleet.personas.get(slug), rhythms, start.timestamp(), end.timestamp()
        )
    return _EXPECTED[key]


def _read_engagement(fleet: Fleet, out: WeekReport, by: dict[str, PersonaWeek]) -> None:
    """The engagement the week's newest posts received: likes and comments on the gallery,
    the fleet's own likes told apart by its engagement ledger, its comments by the
    gallery's BOT mark."""
    posts, out.posts = activities.week_posts(
        fleet.sessions, out.start, out.end, limit=ENGAGEMENT_POSTS
    )
    if not posts:
        return
    ours = activities.recorded_likes(fleet.sessions, [post_id for _, _, post_id in posts])
    gallery = fleet.open_gallery()
    try:
        for persona, handle, post_id in posts:
            seen = gallery.get_post(agent=handle, post_id=post_id)
            talk = gallery.comments(agent=handle, post_id=post_id, limit=100)
            got = by.setdefault(persona, PersonaWeek(persona)).received
            bots = min(ours.get(post_id, 0), seen.like_count)
            got.posts += 1
            got.likes_from_bots += bots
            got.likes_from_people += seen.like_count - bots
            got.comments_from_bots += sum(1 for c in talk if c.user_is_agent)
            got.comments_from_people += sum(1 for c in talk if not c.user_is_agent)
            out.posts_read += 1
    except FleetError as error:
        out.engagement_problem = f"the gallery did not answer: {error}"
    finally:
        if fleet.gallery is None:
            gallery.close()


def this_week(fleet: Fleet) -> str:
    """The ISO week of the fleet's clock now (``2026-W47``)."""
    year, number, _ = fleet.clock.now().isocalendar()
    return f"{year}-W{number:02d}"

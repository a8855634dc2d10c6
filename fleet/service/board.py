"""What the console shows: the fleet at a glance, a page of agents, one agent in full.

Read use cases only; the SQL is in the contexts' query modules.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from fleet import activities, agents
from fleet.activities import ActivityFilter, ActivityView, DeadLetterView
from fleet.agents import AgentView
from fleet.content.llm.budget import SpendLedger
from fleet.core.statuses import ActivityStatus
from fleet.errors import UnknownPersona
from fleet.service import status
from fleet.service.root import Fleet

PAGE = 50
THOUGHTS = 30


@dataclass(frozen=True)
class Board:
    """The overview: agents by persona and status, actions by kind and status in the
    last hour and day, dispatch lag, holds, dead letters, queues, LLM spend."""

    at: datetime
    agents: dict[str, dict[str, int]]
    last_hour: dict[str, dict[str, int]]
    last_day: dict[str, dict[str, int]]
    dispatch_lag_seconds: float
    due_agents: int
    hold: dict[str, Any] | None
    dead_letters: dict[str, int]
    queues: dict[str, int | None]
    problems: list[str] = field(default_factory=list)
    spend: dict[str, float] | None = None
    # Per shared circuit breaker (gallery, llm): open or closed, failures counted.
    breakers: dict[str, dict[str, Any]] = field(default_factory=dict)
    # What ``fleet status`` reads (its five minutes): the ground of the health verdict.
    five_minutes: status.Report | None = None


def board(fleet: Fleet) -> Board:
    """The fleet now (queue depths and spend when Redis answers).

    Its two long reads (what ``fleet status`` gathers, live agents by persona included,
    and a day of activities by kind and status) run side by side on connections of
    their own, so the overview waits for the longer of them, not for their sum."""
    now = fleet.clock.now()
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="board") as pool:
        # People's consent is read apart (``honesty``, every few minutes): not every 3 s.
        gathered = pool.submit(status.glance, fleet, window=timedelta(hours=1), now=now)
        day = pool.submit(activities.action_counts, fleet.sessions, now - timedelta(days=1))
        report, last_day = gathered.result(), day.result()
    spend = None
    if fleet.settings.redis_url is not None and not report.problems:
        try:
            state = _ledger(fleet).check("console")
            spend = {"usd": state.fleet_usd, "cap_usd": state.fleet_cap_usd}
        except Exception as error:
            report.problems.append(f"redis unreachable: {type(error).__name__}")
    # ``fleet status --check`` judges the last five minutes: two more counts, indexed.
    five = now - status.WINDOW
    recent = replace(
        report,
        actions=activities.action_counts(fleet.sessions, five),
        dead_letters=activities.dead_letters_open(fleet.sessions, five),
    )
    return Board(
        at=now,
        agents=report.agents,
        last_hour=report.actions,
        last_day=last_day,
        dispatch_lag_seconds=report.dispatch_lag_seconds,
        due_agents=report.due_agents,
        hold=report.hold,
        dead_letters=report.dead_letters,
        queues=report.queues,
        problems=report.problems,
        spend=spend,
        breakers=report.breakers,
        five_minutes=recent,
    )


def verdict(seen: Board, workers: list[str] | None) -> list[str]:
    """What ``fleet status --check`` would say of ``seen`` with its default thresholds:
    the thresholds broken, as sentences (empty: healthy, exit 0). ``workers`` are the
    workers answering (None: no broker to ping, as ``--no-workers``)."""
    assert seen.five_minutes is not None
    return status.check(replace(seen.five_minutes, workers=workers), status.Thresholds())


def workers_answering(fleet: Fleet, timeout: float = 1.0) -> list[str] | None:
    """The names of the Celery workers answering a ping through the broker; None when
    there is no broker to ping (the demo's in-memory one, or no Redis). Takes up to
    ``timeout`` seconds: a page asks a reading kept in the background, not this."""
    settings = fleet.settings
    if settings.redis_url is None or settings.broker_url.startswith("memory"):
        return None
    return status.live_workers(fleet, timeout)


def _ledger(fleet: Fleet) -> SpendLedger:
    """Today's spend ledger (the one the workers write), built without importing the
    writers: the Anthropic SDK takes seconds to import and a page has no use for it."""
    if "spend_ledger" in fleet.__dict__:
        return fleet.spend_ledger
    prefix = f"{fleet.settings.broker_key_prefix}fleet:llm"
    return SpendLedger.from_settings(fleet.redis, fleet.settings.llm, prefix=prefix)


def roster(
    fleet: Fleet,
    *,
    after: int = 0,
    persona: str | None = None,
    status: str | None = None,
    search: str | None = None,
    limit: int = PAGE,
) -> tuple[list[AgentView], int | None]:
    """A page of live agents after id ``after``, and the id the next page starts after
    (None on the last page)."""
    rows = agents.agents_after(
        fleet.sessions,
        after=after,
        limit=limit + 1,
        persona=persona or None,
        status=status or None,
        search=search or None,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more and rows else None)


@dataclass(frozen=True)
class Profile:
    """One agent in full: who, its rhythm now, its last day, its posts, its dead letters."""

    agent: AgentView
    level: dict[str, Any]
    timezone: str | None
    local_time: str | None
    multiplier_now: float | None
    timeline: list[ActivityView]
    posts: list[ActivityView]
    dead_letters: list[DeadLetterView]
    # Its thoughts on the feed, newest first (each browse that had one).
    thoughts: list[ActivityView] = field(default_factory=list)


def profile(fleet: Fleet, ref: str) -> Profile:
    """One agent by id or handle, with what it did in the last day."""
    agent = agents.get_agent(fleet.sessions, ref)
    now = fleet.clock.now()
    zone = local = None
    multiplier = None
    try:
        tz = fleet.personas.zone(agent.persona)
        zone, local = str(tz), now.astimezone(tz).strftime("%a %H:%M")
        multiplier = round(fleet.personas.clock(agent.persona).multiplier(now), 2)
    except UnknownPersona:
        pass
    timeline = activities.list_activities(
        fleet.sessions, ActivityFilter(agent.id, since=now - timedelta(days=1), limit=200)
    )
    posts = activities.list_activities(
        fleet.sessions,
        ActivityFilter(agent.id, action="post", status=ActivityStatus.SUCCEEDED.value, limit=24),
    )
    browses = activities.list_activities(
        fleet.sessions,
        ActivityFilter(
            agent.id, action="browse", status=ActivityStatus.SUCCEEDED.value, limit=THOUGHTS
        ),
    )
    return Profile(
        agent=agent,
        level=agents.activity_of(fleet.personas, agent),
        timezone=zone,
        local_time=local,
        multiplier_now=multiplier,
        timeline=timeline,
        posts=posts,
        dead_letters=activities.dead_letters_of(fleet.sessions, agent.id),
        thoughts=[b for b in browses if (b.result or {}).get("thought")],
    )


def honesty(fleet: Fleet) -> dict[str, Any]:
    """The honesty audit of the last day and people's consent, for the overview (a slow
    reading of the gallery: the console keeps it in the background)."""
    from fleet.consent import status as consent_status
    from fleet.honesty import audit

    found = audit.audit(fleet, window=timedelta(days=1))
    findings = [f.to_json() | {"nothing": nothing_checked(f)} for f in found.findings]
    return {
        "ok": found.ok,
        "unchecked": found.unchecked,
        # Every check that passed had nothing to look at: not a pass, "nothing to check yet".
        "nothing": found.ok and all(f["nothing"] for f in findings if f["status"] == "ok"),
        "consent": consent_status.consent_line(consent_status.consent_of(fleet)),
        "findings": findings,
    }


def nothing_checked(finding: Any) -> bool:
    """Whether a finding that holds had nothing to check ("0 of 0"): no agent account, no
    published text or image, no question, no person who said no. The panel says "nothing
    to check yet" for it, never a pass."""
    if finding.status != "ok":
        return False
    figures: dict[str, Any] = finding.figures
    name: str = finding.name
    if name == "labelled":
        return figures.get("accounts") == 0
    if name == "consent":
        return not figures
    if name == "human_claims":
        return figures.get("checked") == 0
    if name == "identity_answers":
        return figures.get("asked") == 0
    if name == "provenance":
        return figures.get("published") == 0 and not figures.get("refused")
    return False

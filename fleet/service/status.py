"""``fleet status``: one look at the fleet's health, and thresholds that can page someone."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.engine import make_url

from fleet import activities, agents
from fleet.activities.drafts import draft_stats
from fleet.agents import agent_counts
from fleet.consent.status import consent_of
from fleet.core.statuses import ActivityStatus
from fleet.errors import ConfigError
from fleet.honesty.audit import audit as honesty_audit
from fleet.honesty.audit_images import platform_marks_of
from fleet.honesty.use_cases import operator_link
from fleet.service import credentials
from fleet.service.outlook import outlook
from fleet.service.root import Fleet
from fleet.settings import ProvenanceSettings, Settings


@dataclass
class Thresholds:
    """When ``fleet status --check`` fails."""

    max_lag_seconds: float = 30.0
    max_new_dead_letters: int = 10
    max_error_rate: float = 0.2
    # A fleet hold further off than this is worth a look: a daily budget resets within a
    # day, and a longer wait is a monthly budget spent or an answer the gallery got wrong.
    max_hold_hours: float = 25.0
    # The same for one agent: the gallery's 429 for its own budget moved its next tick
    # (to ``resetAt``, clamped to a day or 31 days); further than this is worth a look.
    max_deferral_hours: float = 25.0


@dataclass
class Report:
    """Everything ``fleet status`` shows."""

    at: datetime
    # The database read (its URL without a password): a shell that sees another
    # configuration reads another fleet, and says so here.
    database: str
    agents: dict[str, dict[str, int]]
    due_agents: int
    dispatch_lag_seconds: float
    actions: dict[str, dict[str, int]]
    dead_letters: dict[str, int]
    hold: dict[str, Any] | None
    queues: dict[str, int | None] = field(default_factory=dict)
    workers: list[str] | None = None
    # The beats that published lately (``host:pid``, from their heartbeat in Redis): two
    # after a failover that overlaps, none when dispatch has stopped; None: not read.
    beats: list[str] | None = None
    breakers: dict[str, Any] = field(default_factory=dict)
    # The shared LLM token buckets in debt (a call used more than it reserved): each one's
    # level and the seconds until a call's reservation fits again; empty: none in debt.
    llm_debt: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    # What applies without being wrong (the embedded configuration, a Redis it lacks).
    notes: list[str] = field(default_factory=list)
    # When the next agent is due and how many sleep (fleet.service.outlook).
    outlook: dict[str, Any] = field(default_factory=dict)
    llm: dict[str, Any] = field(default_factory=dict)
    embeddings: dict[str, Any] = field(default_factory=dict)
    # The fleet's pace as people become active (``fleet.core.pace``); empty: not measured.
    pace: dict[str, Any] = field(default_factory=dict)
    # Review mode: drafts waiting, and the decisions of the last 7 days.
    drafts: dict[str, Any] = field(default_factory=dict)
    # The gallery limit's load and what it does to the decider (``fleet.core.back_pressure``);
    # empty: no Redis, no shared limit.
    back_pressure: dict[str, Any] = field(default_factory=dict)
    # Provenance: whether a post needs marked images, and whose signature is expected.
    provenance: dict[str, Any] = field(default_factory=dict)
    # Active agents a gallery's 429 deferred past ``over_hours`` from now: how many, and
    # the longest (its handle and until when); empty: not read.
    deferred: dict[str, Any] = field(default_factory=dict)
    # People's say over agents (fleet.consent.status.consent_of), and, under --check, the
    # honesty audit's findings.
    consent: dict[str, Any] = field(default_factory=dict)
    audit: list[dict[str, Any]] = field(default_factory=list)
    # Agents' platform tokens (fleet.service.credentials): how many set, those refused.
    credentials: dict[str, Any] = field(default_factory=dict)
    # Each platform's images of the last 7 days and how many kept their provenance marks
    # (fleet.honesty.audit_images.platform_marks_of); empty: no image Fleet made was uploaded.
    platform_marks: list[dict[str, Any]] = field(default_factory=list)
    # Whether the operator's link on every agent account opens (empty: not read).
    operator_link: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["at"] = self.at.isoformat()
        return out


def llm_of(settings: Settings) -> dict[str, Any]:
    """Which writers write, in the order they are tried, and where their calls go: the
    host only, never the key (nor a password or path in the URL)."""
    chain = settings.llm_chain()
    first = chain[0]
    if first.provider == "offline":
        return {"writer": "offline", "chain": []}
    _url, source = settings.llm_endpoint()
    return {
        "writer": first.provider,
        "model": first.model,
        "host": first.host,
        "from": source if first.provider == "anthropic" else "FLEET_LLM__BASE_URL",
        "chain": [
            {"provider": e.provider, "model": e.model, "host": e.host, "label": e.label}
            for e in chain
        ],
    }


def embeddings_of(fleet: Fleet) -> dict[str, Any]:
    """Which embedder makes vectors, probed when it is an endpoint; degraded, what goes
    on without vectors. Never the key; the endpoint's host only."""
    settings = fleet.settings.embeddings
    without = "taste ranks without interest fit, memory by recency, the guard by words only"
    if settings.provider == "off":
        return {"provider": "off", "vectors": f"none: {without}"}
    found: dict[str, Any] = {"provider": settings.provider}
    if settings.base_url is not None and settings.provider == "openai":
        host = settings.base_url.host or ""
        found["host"] = f"{host}:{settings.base_url.port}" if settings.base_url.port else host
    if settings.provider == "local" and fleet.given_embedder is None:
        # Its size is known and it runs in-process: nothing to probe, nothing loaded.
        from fleet.embeddings.local import DIMENSIONS, MODEL

        return found | {"model": MODEL, "dimensions": DIMENSIONS, "vectors": "ok"}
    try:
        embedder = fleet.embeddings
    except ConfigError as error:
        return found | {"vectors": f"refused: {error}"}
    if embedder is None:
        return found | {"vectors": f"none: {without}"}
    state = embedder.state()
    found |= {"model": state.model, "dimensions": state.dimensions}
    if state.ok:
        return found | {"vectors": "ok"}
    return found | {"vectors": f"degraded ({state.reason}): {without}"}


# The decisions on drafts ``fleet status`` counts.
DRAFT_WINDOW = timedelta(days=7)


def drafts_of(fleet: Fleet, now: datetime) -> dict[str, Any]:
    """Drafts waiting for review, and the decisions of the last 7 days: the approval rate
    (approved of approved and rejected), the median time to a decision, and the LLM spend
    on rejected drafts."""
    found = draft_stats(fleet.sessions, since=now - DRAFT_WINDOW)
    rate = found.approval_rate
    median = found.median_decision_seconds
    return {
        "waiting": found.waiting,
        "approved": found.approved,
        "rejected": found.rejected,
        "expired": found.expired,
        "approval_rate": None if rate is None else round(rate, 4),
        "median_decision_seconds": None if median is None else round(median, 1),
        "rejected_cost_usd": found.rejected_cost_usd,
    }


# The window ``fleet status`` (and ``--check``) reads.
WINDOW = timedelta(minutes=5)


def pace_of(fleet: Fleet) -> dict[str, Any]:
    """The last measured pace, and the day's activity it was measured from."""
    stored = activities.stored_pace(fleet.sessions)
    if stored is None:
        return {}
    pace, measured_at = stored
    share = pace.fleet_share
    return {
        "pace": pace.pace,
        "people_per_day": pace.people_per_day,
        "fleet_per_day": pace.fleet_per_day,
        "fleet_share": None if share is None else round(share, 3),
        "target_share": round(fleet.settings.welcome.target_bot_share, 3),
        "measured_at": measured_at.isoformat(),
    }


def back_pressure_of(fleet: Fleet) -> dict[str, Any]:
    """The gallery limit's load lately (what it was asked for and refused) and the share
    of ticks the decider lets act under it (``fleet.core.back_pressure``)."""
    from fleet.core.back_pressure import back_pressure

    limit = fleet.gallery_limit
    load = limit.load()
    pressure = back_pressure(load, floor=fleet.settings.actions.back_pressure_floor)
    return {
        "saturated": pressure.saturated,
        "refused_share": pressure.refused_share,
        "asked_per_second": pressure.asked_per_second,
        "limit_per_second": limit.rate,
        "wait_seconds": pressure.wait_seconds,
        "decide_share": pressure.decide_share,
        "window_seconds": limit.window,
    }


def back_pressure_line(pressure: dict[str, Any]) -> str:
    """The back-pressure in one sentence, as ``fleet status`` and the console say it."""
    asked = (
        f"{pressure['asked_per_second']:.1f} requests/s asked of {pressure['limit_per_second']:g}/s"
    )
    lately = f"over the last ~{pressure['window_seconds']:g}s"
    if not pressure["saturated"]:
        return f"none (the gallery limit refused no request {lately}; {asked})"
    return (
        f"the gallery limit refused {pressure['refused_share']:.0%} of requests {lately} "
        f"({asked}; a call waits {pressure['wait_seconds']:.2f}s): ticks act at "
        f"{pressure['decide_share']:.0%} of their rate, deferred actions wait for the limit"
    )


def beats_line(running: list[str]) -> str:
    """The beats that publish, in one sentence (two or more: a failover that overlaps)."""
    named = ", ".join(running[:4]) + (f" and {len(running) - 4} more" if len(running) > 4 else "")
    if len(running) == 1:
        return f"1 ({named})"
    return (
        f"{len(running)} at once ({named}): one is enough; each tick is still claimed "
        "once (the dispatcher's exclusive claims), stop the extra ones"
    )


def deferred_of(fleet: Fleet, now: datetime, over_hours: float) -> dict[str, Any]:
    """The agents deferred more than ``over_hours`` from ``now``, and the longest."""
    found = agents.deferred_past(fleet.sessions, now + timedelta(hours=over_hours))
    until = found.longest_until
    return {
        "agents": found.count,
        "over_hours": over_hours,
        "longest_until": None if until is None else until.isoformat(),
        "longest_agent": found.longest_handle,
    }


def gather(
    fleet: Fleet,
    *,
    window: timedelta = WINDOW,
    now: datetime | None = None,
    limits: Thresholds | None = None,
) -> Report:
    """Read the fleet's state (``glance``), then people's consent from the gallery."""
    report = glance(fleet, window=window, now=now, limits=limits)
    # Last: a call to the gallery, after what Redis says of this moment.
    report.consent = consent_of(fleet)
    link = operator_link(fleet)
    report.operator_link = {"url": link.url[:200], "ok": link.ok, "status": link.status}
    if not link.ok:
        report.notes.append(
            f"warning: the operator's link {link.url[:120]} does not open ({link.reason}); "
            "every agent account shows it (FLEET_DISCLOSURE__OPERATOR_URL)"
        )
    return report


def glance(
    fleet: Fleet,
    *,
    window: timedelta = WINDOW,
    now: datetime | None = None,
    limits: Thresholds | None = None,
) -> Report:
    """Read the fleet's state from Postgres (and Redis and the workers when there are any),
    without a call to the gallery; ``limits`` say which agents' deferrals count as long
    (``check`` flags them)."""
    now = now or datetime.now(UTC)
    report = _stored_state(fleet, now, window, limits or Thresholds())
    settings = fleet.settings
    report.provenance = provenance_of(settings.provenance)
    published, marked, refused = activities.provenance_counts(
        fleet.sessions, now - timedelta(days=7), now + timedelta(seconds=1), last=1000
    )
    report.provenance.update(published=published, marked=marked, refused=refused)
    report.credentials = credentials.credentials_of(fleet)
    report.platform_marks = platform_marks_of(fleet, now - timedelta(days=7), now)
    report.notes += [m["line"] for m in report.platform_marks if m["stripped"]]
    if settings.redis_url is not None:
        _read_redis(fleet, report)
    if settings.broker_url.startswith(("amqp://", "pyamqp://")):
        from fleet.infra.queue import broker_queue_depths

        try:
            report.queues = broker_queue_depths(settings)
        except Exception as exc:
            report.problems.append(f"broker unreachable: {type(exc).__name__}")
    if settings.broker_url.startswith("memory"):
        report.notes.append(
            "embedded configuration (in-memory broker): agents act only while `fleet run` "
            "runs in a shell of this directory"
        )
    try:
        seen = outlook(fleet, now)
        report.outlook = seen.to_json() | {"line": seen.line()}
    except Exception as exc:  # the outlook is a courtesy: status still answers
        report.notes.append(f"next due agent not read: {type(exc).__name__}")
    return report


def audit_of(fleet: Fleet) -> list[dict[str, Any]]:
    """The honesty audit's findings of the last day, as ``Report.audit`` holds them."""
    return [f.to_json() for f in honesty_audit(fleet, window=timedelta(days=1)).findings]


def _stored_state(fleet: Fleet, now: datetime, window: timedelta, limits: Thresholds) -> Report:
    """The report of what the database holds at ``now``: agents, actions and dead
    letters of the ``window``, the hold, drafts, deferrals; the settings' LLM and pace."""
    since = now - window
    due, oldest = agents.due_now(fleet.sessions, now)
    hold = activities.hold_in_force(fleet.sessions, now)
    return Report(
        at=now,
        database=make_url(fleet.settings.database_url).render_as_string(hide_password=True),
        agents=agent_counts(fleet.sessions),
        due_agents=due,
        dispatch_lag_seconds=round((now - oldest).total_seconds(), 3) if oldest else 0.0,
        actions=activities.action_counts(fleet.sessions, since),
        dead_letters=activities.dead_letters_open(fleet.sessions, since),
        hold=None
        if hold is None
        else {"kind": hold.kind, "reason": hold.reason, "until": hold.until.isoformat()},
        llm=llm_of(fleet.settings),
        embeddings=embeddings_of(fleet),
        pace=pace_of(fleet),
        drafts=drafts_of(fleet, now),
        deferred=deferred_of(fleet, now, limits.max_deferral_hours),
    )


def _read_redis(fleet: Fleet, report: Report) -> None:
    """Queue depths, beats, back-pressure, breakers and LLM debt from Redis into the
    report; a Redis that does not answer is a problem (a note on the embedded
    configuration, which needs none)."""
    from fleet.infra.limits import CircuitBreaker  # Redis loads only when there is one

    settings = fleet.settings
    prefix = settings.broker_key_prefix
    try:
        if settings.broker_url.startswith(("redis://", "rediss://")):
            from fleet.infra.queue import QUEUES  # Celery loads only with a broker

            report.queues = {name: int(fleet.redis.llen(f"{prefix}{name}")) for name in QUEUES}
        if not settings.broker_url.startswith("memory"):
            from fleet.infra import beats

            report.beats = beats.running(fleet.redis, prefix)
        report.back_pressure = back_pressure_of(fleet)
        # The breakers are shared in Redis whatever carries the tasks.
        llm = ["llm", *(f"llm:{n}" for n in range(1, len(report.llm.get("chain", []))))]
        for name in ("gallery", *llm):
            report.breakers[name] = CircuitBreaker(
                fleet.redis, f"{prefix}fleet:breaker:{name}"
            ).state()
        report.llm_debt = llm_debt_of(fleet, len(llm))
    except Exception as exc:
        if settings.broker_url.startswith("memory"):
            # The embedded configuration needs no Redis: `fleet run` goes without.
            report.notes.append(
                f"redis not running ({type(exc).__name__}): not needed on the embedded "
                "configuration (fleet run holds the gallery limit and breakers in its "
                "process)"
            )
        else:
            report.problems.append(f"redis unreachable: {type(exc).__name__}")


def llm_debt_of(fleet: Fleet, writers: int) -> dict[str, Any]:
    """The LLM token buckets of the chain's ``writers`` that are in debt: their level and
    how long until a call's reservation fits (a breaker may be closed while they wait)."""
    from fleet.infra.limits import TokenBucket

    actions = fleet.settings.actions
    prefix = fleet.settings.broker_key_prefix
    rate = actions.llm_tokens_per_minute / 60
    reserve = min(actions.llm_tokens_reserved_per_call, actions.llm_tokens_per_minute)
    debt: dict[str, Any] = {}
    for number in range(writers):
        name = "llm-tokens" + ("" if number == 0 else f":{number}")
        bucket = TokenBucket(
            fleet.redis,
            f"{prefix}fleet:limits:{name}",
            rate=rate,
            burst=actions.llm_tokens_per_minute,
        )
        level = bucket.load().tokens
        if level < 0:
            debt[name] = {
                "tokens": round(level),
                "wait_seconds": round((reserve - level) / rate, 1),
            }
    return debt


def live_workers(fleet: Fleet, timeout: float = 1.0) -> list[str]:
    """Names of the workers answering a ping through the broker."""
    from fleet.infra.queue import ping_workers

    return ping_workers(fleet.settings, timeout)


def check(report: Report, limits: Thresholds) -> list[str]:
    """The thresholds ``report`` breaks, as sentences."""
    broken = list(report.problems)
    if report.consent.get("problem"):
        broken.append(str(report.consent["problem"]))
    broken += [f"audit {f['name']}: {f['summary']}" for f in report.audit if f["status"] == "short"]
    refused = credentials.credentials_line(report.credentials)
    if refused is not None:
        broken.append(refused)
    if report.dispatch_lag_seconds > limits.max_lag_seconds:
        broken.append(
            f"dispatch lag {report.dispatch_lag_seconds:.1f}s is above {limits.max_lag_seconds:g}s"
        )
    if report.dead_letters["new"] > limits.max_new_dead_letters:
        broken.append(
            f"{report.dead_letters['new']} new dead letters, above {limits.max_new_dead_letters}"
        )
    total = sum(sum(by.values()) for by in report.actions.values())
    dead = sum(by.get(ActivityStatus.DEAD, 0) for by in report.actions.values())
    if total and dead / total > limits.max_error_rate:
        broken.append(f"error rate {dead / total:.0%} is above {limits.max_error_rate:.0%}")
    if report.hold is not None:
        until = datetime.fromisoformat(report.hold["until"])
        hours = (until - report.at).total_seconds() / 3600
        if hours > limits.max_hold_hours:
            broken.append(
                f"the fleet is held for {hours:.0f} more hours (until {until:%Y-%m-%d %H:%M} UTC), "
                f"above {limits.max_hold_hours:g}: {str(report.hold['reason'])[:160]} "
                "(fleet hold lift ends it)"
            )
    deferred = report.deferred
    if deferred.get("agents"):
        until = datetime.fromisoformat(deferred["longest_until"])
        hours = (until - report.at).total_seconds() / 3600
        broken.append(
            f"{deferred['agents']} agent(s) deferred more than {deferred['over_hours']:g} hours "
            f"by the gallery's 429, the longest @{str(deferred['longest_agent'])[:64]} for "
            f"{hours:.0f} more hours (until {until:%Y-%m-%d %H:%M} UTC; fleet agents pause "
            "and resume moves its next tick)"
        )
    if report.workers is not None and not report.workers:
        broken.append("no worker answers")
    aside = sum(by.get("error", 0) for by in report.agents.values())
    if aside:
        broken.append(
            f"{aside} agent(s) set aside with status error (fleet agents list --status error)"
        )
    return broken


def provenance_of(settings: ProvenanceSettings) -> dict[str, Any]:
    """Whether images must carry provenance marks, and the operator's certificate: its
    subject, issuer, end of validity, and whether its chain ends in a root made for a demo
    (self-signed and on no trust list)."""
    out: dict[str, Any] = {"required": settings.require, "certificate": None}
    if settings.certificate is None:
        return out
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    chain = x509.load_pem_x509_certificates(settings.certificate.read_bytes())

    def name(of: x509.Name) -> str:
        found = of.get_attributes_for_oid(NameOID.COMMON_NAME)
        return str(found[0].value)[:80] if found else of.rfc4514_string()[:80]

    root = chain[-1]
    out["certificate"] = {
        "subject": name(chain[0].subject),
        "issuer": name(chain[0].issuer),
        "until": chain[0].not_valid_after_utc.isoformat(),
        "self_signed": root.issuer == root.subject,
    }
    return out

"""Benchmark: does the fleet look human? Pure, no servers, under a minute.

Simulates ``--agents`` agents of every persona over ``--weeks`` weeks from ``--start``
(by default four weeks across the end of summer time in Europe and in the US), with the
same rhythm, actions and daily quotas the dispatcher and the ticks use
(``fleet.core.timeline``), and prints JSON per persona:

- actions per agent per local day by kind (mean, p10 and p90 over agents);
- sessions per agent per day and actions per session;
- burstiness of the gaps between actions in *active time* (the clock's ∫m, where the
  daily rhythm is factored out), with Kim and Jo's estimator for short sequences,
  averaged over agents: > 0 bursty, 0 Poisson, -1 a metronome;
- the share of gaps (wall clock) under 2 minutes and over 1 hour;
- the Gini coefficient of actions across the persona's agents;
- the Pearson correlation, over the 168 local hours of the week, between actions per
  hour and the schedule's multiplier m(t);
- the most posts any agent made in one local day, and the quota;
- per agent, not on average: the lowest coefficient of variation of the wall-clock gaps
  between session openings of any agent (detectors read below 0.5 as a machine), the
  most runs of three equal consecutive gaps (to the second) of any agent, and the most
  sessions any agent opened in one local day;
- the same per-agent figures for the busiest agents a persona allows: ``--busiest``
  agents at the highest drawn level (``ACTIVITY_BOUNDS``) and at the highest level set
  by hand (``SET_ACTIVITY_BOUNDS``), over the same span.

    python -m bench.realism [--agents 50] [--weeks 4] [--busiest 10] [--personas-dir DIR]

``--personas-dir`` measures other persona files, such as an earlier version's.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import math
import statistics
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from fleet.core.activity_level import ACTIVITY_BOUNDS, SET_ACTIVITY_BOUNDS
from fleet.core.persona import Action, Persona
from fleet.core.quotas import local_day
from fleet.core.rhythm import PersonaCadence
from fleet.core.timeline import simulate
from fleet.infra.persona_files import BUNDLED_DIR, PersonaCatalogue

DEFAULT_START = "2026-10-19T00:00:00+00:00"  # Europe leaves summer time on 10-25, the US on 11-01
TARGETS = {
    "hour_of_week_correlation": ">= 0.98",
    "burstiness_active_time": ">= 0.3",
    "posts_per_agent_per_day_mean": "in [0.3, 3]",
    "gini": "in [0.4, 0.7]",
    "max_posts_in_a_local_day": "<= the posts quota",
    "session_openings.min_cv_per_agent": ">= 1.0",
    "session_openings.max_equal_gap_runs_per_agent": "== 0",
    "session_openings.max_sessions_in_a_local_day": "<= 60 (docs/realism.md)",
}
# An agent's coefficient of variation counts from this many gaps (fewer is not a measure).
CV_FROM_GAPS = 20


def kim_jo_burstiness(gaps: list[float]) -> float | None:
    """Burstiness corrected for a finite number of gaps (Kim & Jo 2016); None under 3."""
    n = len(gaps)
    if n < 3:
        return None
    mean = statistics.fmean(gaps)
    if mean <= 0:
        return None
    r = statistics.pstdev(gaps) / mean
    a, b = math.sqrt(n + 1), math.sqrt(n - 1)
    return (a * r - b) / ((a - 2) * r + b)


def gini(values: list[float]) -> float:
    """Gini coefficient of non-negative values: 0 equal, towards 1 concentrated."""
    ordered = sorted(values)
    n, total = len(ordered), sum(ordered)
    if n == 0 or total <= 0:
        return 0.0
    weighted = sum((i + 1) * v for i, v in enumerate(ordered))
    return (2 * weighted) / (n * total) - (n + 1) / n


def pearson(xs: list[float], ys: list[float]) -> float:
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    return sxy / math.sqrt(sxx * syy) if sxx > 0 and syy > 0 else 0.0


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def agent_seed(slug: str, index: int) -> int:
    """A seed per simulated agent, the same on every run and machine."""
    digest = hashlib.blake2b(f"{slug}:{index}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


def openings_figures(opened: list[int], zone: ZoneInfo) -> tuple[float | None, int, int]:
    """One agent's session openings: the coefficient of variation of the gaps between
    them (None under ``CV_FROM_GAPS`` gaps), the runs of three equal consecutive gaps,
    and the most sessions opened in one local day."""
    gaps = [b - a for a, b in itertools.pairwise(opened)]
    cv = None
    if len(gaps) >= CV_FROM_GAPS and statistics.fmean(gaps) > 0:
        cv = statistics.pstdev(gaps) / statistics.fmean(gaps)
    runs = sum(1 for i in range(len(gaps) - 2) if gaps[i] == gaps[i + 1] == gaps[i + 2])
    days = Counter(local_day(zone, o) for o in opened)
    return cv, runs, max(days.values(), default=0)


def openings_summary(figures: list[tuple[float | None, int, int]]) -> dict[str, object]:
    cvs = [cv for cv, _, _ in figures if cv is not None]
    return {
        "agents": len(figures),
        "agents_with_a_cv": len(cvs),
        "min_cv_per_agent": round(min(cvs), 3) if cvs else None,
        "median_cv_per_agent": round(statistics.median(cvs), 3) if cvs else None,
        "max_equal_gap_runs_per_agent": max((r for _, r, _ in figures), default=0),
        "max_sessions_in_a_local_day": max((d for _, _, d in figures), default=0),
    }


def busiest(persona: Persona, catalogue: PersonaCatalogue, agents: int, start: float, end: float):  # type: ignore[no-untyped-def]
    """The session openings of ``agents`` agents at each of the highest levels allowed."""
    clock = catalogue.clock(persona.slug)
    zone = ZoneInfo(persona.schedule.timezone)
    out = {}
    for name, level in (("drawn_max", ACTIVITY_BOUNDS[1]), ("set_max", SET_ACTIVITY_BOUNDS[1])):
        figures = []
        for index in range(agents):
            rhythm = PersonaCadence.of(persona, clock).rhythm(
                agent_seed(persona.slug, index), activity=level
            )
            opened = sorted({t.opened for t in simulate(persona, rhythm, start, end)})
            figures.append(openings_figures(opened, zone))
        out[f"{name} (level {level:g})"] = openings_summary(figures)
    return out


def measure(persona: Persona, catalogue: PersonaCatalogue, agents: int, start: float, end: float):  # type: ignore[no-untyped-def]
    clock = catalogue.clock(persona.slug)
    zone = ZoneInfo(persona.schedule.timezone)
    days = (end - start) / 86_400
    per_agent_kind: list[Counter[str]] = []
    totals: list[float] = []
    sessions_per_day: list[float] = []
    session_sizes: list[int] = []
    burstiness: list[float] = []
    gaps_short = gaps_long = gaps_all = 0
    by_hour = [0] * 168
    max_posts_day = 0
    degraded = 0
    openings: list[tuple[float | None, int, int]] = []
    for index in range(agents):
        seed = agent_seed(persona.slug, index)
        rhythm = PersonaCadence.of(persona, clock).rhythm(seed)
        kinds: Counter[str] = Counter()
        posts_by_day: Counter[str] = Counter()
        sizes: Counter[int] = Counter()
        previous: float | None = None
        active_gaps: list[float] = []
        for tick in simulate(persona, rhythm, start, end):
            if tick.reason is not None:
                degraded += 1
            if tick.action is None:
                continue
            kinds[tick.action.value] += 1
            sizes[tick.opened] += 1
            if tick.action is Action.POST:
                posts_by_day[local_day(zone, tick.due)] += 1
            local = datetime.fromtimestamp(tick.due, zone)
            by_hour[local.weekday() * 24 + local.hour] += 1
            if previous is not None:
                gap = tick.due - previous
                gaps_all += 1
                gaps_short += gap < 120
                gaps_long += gap > 3600
                active_gaps.append(clock.active_seconds_epoch(previous, tick.due))
            previous = tick.due
        openings.append(openings_figures(sorted(sizes), zone))
        per_agent_kind.append(kinds)
        totals.append(sum(kinds.values()))
        sessions_per_day.append(len(sizes) / days)
        session_sizes.extend(sizes.values())
        max_posts_day = max(max_posts_day, max(posts_by_day.values(), default=0))
        b = kim_jo_burstiness(active_gaps)
        if b is not None:
            burstiness.append(b)
    multipliers = [0.0] * 168
    monday = datetime(2026, 11, 23, tzinfo=zone)  # any Monday: the profile is weekly
    for hour in range(168):
        lo = monday.timestamp() + hour * 3600
        multipliers[hour] = clock.active_seconds_epoch(lo, lo + 3600) / 3600
    per_day = {
        action.value: {
            "mean": round(statistics.fmean(k[action.value] / days for k in per_agent_kind), 3),
            "p10": round(_quantile([k[action.value] / days for k in per_agent_kind], 0.1), 3),
            "p90": round(_quantile([k[action.value] / days for k in per_agent_kind], 0.9), 3),
        }
        for action in Action
    }
    return {
        "actions_per_agent_per_day": per_day,
        "all_actions_per_agent_per_day": round(statistics.fmean(totals) / days, 2),
        "sessions_per_agent_per_day": round(statistics.fmean(sessions_per_day), 2),
        "actions_per_session": {
            "mean": round(statistics.fmean(session_sizes), 2) if session_sizes else 0,
            "p90": _quantile([float(s) for s in session_sizes], 0.9) if session_sizes else 0,
            "max": max(session_sizes, default=0),
        },
        "burstiness_active_time": round(statistics.fmean(burstiness), 3) if burstiness else None,
        "share_gaps_under_2_min": round(gaps_short / gaps_all, 3) if gaps_all else None,
        "share_gaps_over_1_hour": round(gaps_long / gaps_all, 3) if gaps_all else None,
        "gini": round(gini(totals), 3),
        "hour_of_week_correlation": round(pearson([float(c) for c in by_hour], multipliers), 4),
        "max_posts_in_a_local_day": max_posts_day,
        "posts_quota": persona.quotas.limit(Action.POST),
        "decisions_turned_by_a_quota": degraded,
        "session_openings": openings_summary(openings),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--weeks", type=float, default=4.0)
    parser.add_argument("--start", default=DEFAULT_START)
    parser.add_argument("--busiest", type=int, default=10, help="agents at each highest level")
    parser.add_argument("--personas-dir", type=Path, default=BUNDLED_DIR)
    args = parser.parse_args()
    catalogue = PersonaCatalogue.from_directory(args.personas_dir)
    start = datetime.fromisoformat(args.start).timestamp()
    end = start + args.weeks * 7 * 86_400
    began = time.perf_counter()
    personas = {p.slug: measure(p, catalogue, args.agents, start, end) for p in catalogue}
    for p in catalogue:
        if p.sessions is not None and args.busiest > 0:
            personas[p.slug]["busiest_agents"] = busiest(p, catalogue, args.busiest, start, end)
    report = {
        "agents_per_persona": args.agents,
        "weeks": args.weeks,
        "start": args.start,
        "targets": TARGETS,
        "personas": personas,
        "seconds": round(time.perf_counter() - began, 1),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

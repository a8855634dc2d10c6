"""Does engagement help? Outcomes of the newcomer holdout and their statistics. Pure.

Each person assigned in an experiment (``fleet.impact.holdout``) has outcomes measured from
what the gallery showed of them (``Person``), each over a horizon fixed in advance, and a
person counts in an outcome only once its horizon has passed: the report never peeks and
stops, it fills in as people mature.

- ``returned``: any post or comment of theirs seen on days 2 to 7 after their first action
  (from 24 h to 7 x 24 h after it);
- ``second_post``: a second post within 7 days of their first action;
- ``actions``: the count of their posts and comments in their first ``days`` (14) days;
- ``first_follower``: a first follower (an agent or a person) within a day of their first
  action (issue 70: a newcomer who gains a first follower has a reason to come back);
- ``response_minutes`` (the treated): minutes from their first action to the first agent's
  like or comment on it.

Statistics, from SciPy (``scipy.stats``):

- a difference of proportions (treated minus holdout) gets Newcombe's hybrid score
  interval (Newcombe 1998, method 10: each arm's Wilson score interval, from
  ``scipy.stats.binomtest(...).proportion_ci(method="wilson")``, combined by the square
  root of the summed squares of each side's distance), and Fisher's exact test;
- a difference of mean counts gets a percentile bootstrap interval
  (``scipy.stats.bootstrap``, 4,000 resamples, seeded) and the Mann-Whitney U test;
- the smallest effect the sample could detect at 80 % power and a two-sided 5 % level
  (``mde``): ``(z(0.975) + z(0.8)) * sqrt(v * (1/n1 + 1/n2))``, ``v`` the pooled variance
  (``p(1 - p)`` for a proportion): the normal approximation, stated as such.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from fleet.impact.holdout import ARMS, Arm, Person, Touch

LEVEL = 0.95
POWER = 0.8
# Fewer matured people than this in an arm: too few to say anything.
FEWEST = 30
RESAMPLES = 4000
RETURN_FROM = timedelta(days=1)
RETURN_UNTIL = timedelta(days=7)
SECOND_POST_WITHIN = timedelta(days=7)
FIRST_FOLLOWER_WITHIN = timedelta(days=1)


def returned(p: Person) -> bool:
    start = p.first_action
    return any(
        RETURN_FROM <= t - start < RETURN_UNTIL for t in (*p.posts, *p.comments) if t > start
    )


def second_post(p: Person) -> bool:
    start = p.first_action
    return sum(1 for t in p.posts if timedelta(0) <= t - start < SECOND_POST_WITHIN) >= 2


def first_follower(p: Person) -> bool:
    """A follower within ``FIRST_FOLLOWER_WITHIN`` of their first action (one who followed
    them before it counts too: they had one by then)."""
    return p.first_follower is not None and p.first_follower - p.first_action <= (
        FIRST_FOLLOWER_WITHIN
    )


def actions(p: Person, days: int) -> int:
    start = p.first_action
    until = timedelta(days=days)
    return sum(1 for t in (*p.posts, *p.comments) if timedelta(0) <= t - start < until)


@dataclass(frozen=True, slots=True)
class Difference:
    """Treated minus holdout, with its interval and test."""

    estimate: float
    low: float
    high: float
    p_value: float
    method: str

    def covers(self, value: float) -> bool:
        return self.low <= value <= self.high


@dataclass(frozen=True, slots=True)
class Outcome:
    """One outcome, per arm and compared."""

    name: str
    kind: str  # "proportion" or "count"
    horizon_days: int
    n: dict[str, int]
    value: dict[str, float | None]
    difference: Difference | None
    mde: float | None
    verdict: str

    def as_dict(self) -> dict[str, Any]:
        d = self.difference
        return {
            "name": self.name,
            "kind": self.kind,
            "horizon_days": self.horizon_days,
            "n": self.n,
            "value": self.value,
            "difference": None
            if d is None
            else {
                "estimate": d.estimate,
                "low": d.low,
                "high": d.high,
                "p_value": d.p_value,
                "method": d.method,
            },
            "mde": self.mde,
            "verdict": self.verdict,
        }


def _stats() -> Any:
    """scipy's statistics (the ``stats`` extra; ``fleet.impact.use_cases`` names it when it
    is missing), imported when a report is computed, never with the module."""
    from scipy import stats

    return stats


def wilson(successes: int, n: int, level: float = LEVEL) -> tuple[float, float]:
    """The Wilson score interval of a proportion (SciPy's)."""
    ci = _stats().binomtest(successes, n).proportion_ci(confidence_level=level, method="wilson")
    return float(ci.low), float(ci.high)


def newcombe(a: int, n1: int, b: int, n2: int, level: float = LEVEL) -> Difference:
    """a/n1 - b/n2 with Newcombe's hybrid score interval (1998, method 10) and Fisher's
    exact test."""
    if n1 <= 0 or n2 <= 0 or not (0 <= a <= n1 and 0 <= b <= n2):
        raise ValueError(f"counts out of range: {a}/{n1}, {b}/{n2}")
    p1, p2 = a / n1, b / n2
    l1, u1 = wilson(a, n1, level)
    l2, u2 = wilson(b, n2, level)
    d = p1 - p2
    low = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    _, p_value = _stats().fisher_exact([[a, n1 - a], [b, n2 - b]])
    return Difference(d, low, high, float(p_value), "Newcombe hybrid score; Fisher exact")


def mean_difference(
    x: Sequence[float], y: Sequence[float], *, seed: int = 0, level: float = LEVEL
) -> Difference:
    """mean(x) - mean(y) with a percentile bootstrap interval and the Mann-Whitney U test."""
    if len(x) < 2 or len(y) < 2:
        raise ValueError("a bootstrap needs at least two values in each arm")
    xs, ys = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    d = float(xs.mean() - ys.mean())
    if np.ptp(np.concatenate([xs, ys])) == 0:
        return Difference(d, d, d, 1.0, "bootstrap percentile; Mann-Whitney U")
    result = _stats().bootstrap(
        (xs, ys),
        lambda a, b, axis: np.mean(a, axis=axis) - np.mean(b, axis=axis),
        n_resamples=RESAMPLES,
        confidence_level=level,
        method="percentile",
        vectorized=True,
        rng=np.random.default_rng(seed),
    )
    p_value = _stats().mannwhitneyu(xs, ys, alternative="two-sided").pvalue
    ci = result.confidence_interval
    return Difference(
        d, float(ci.low), float(ci.high), float(p_value), "bootstrap percentile; Mann-Whitney U"
    )


def mde(variance: float, n1: int, n2: int, *, level: float = LEVEL, power: float = POWER) -> float:
    """The smallest true difference a two-sided test at ``1 - level`` detects with
    ``power``, for ``n1`` and ``n2`` people and a pooled ``variance`` (normal
    approximation)."""
    if n1 <= 0 or n2 <= 0:
        return math.inf
    z = _stats().norm.ppf(1 - (1 - level) / 2) + _stats().norm.ppf(power)
    return float(z * math.sqrt(max(variance, 0.0) * (1 / n1 + 1 / n2)))


def _verdict(kind: str, n: dict[str, int], d: Difference | None, floor: float | None) -> str:
    """The outcome in plain words: too few to say, better, worse (harm), or no difference
    shown with the smallest effect the sample could have shown."""
    fewest = min(n.values())
    if d is None or fewest < FEWEST:
        return (
            f"too few people to conclude: {n['treated']} treated and {n['holdout']} held out "
            f"have reached this outcome's horizon; at least {FEWEST} in each arm are needed"
        )

    def said(value: float) -> str:
        return f"{100 * value:+.1f} points" if kind == "proportion" else f"{value:+.2f}"

    between = f"{said(d.estimate)} (95 % CI {said(d.low)} to {said(d.high)})"
    if d.low > 0:
        return f"treated people did better: {between}"
    if d.high < 0:
        return f"HARM: treated people did worse: {between}"
    smallest = "" if floor is None else said(floor).lstrip("+")
    return (
        f"no difference shown: {between}; the sample is too small to conclude about an "
        f"effect below {smallest} (the smallest it detects 8 times in 10)"
    )


def _matured(people: Sequence[Person], now: datetime, horizon: timedelta) -> list[Person]:
    return [p for p in people if now - p.first_action >= horizon]


def proportion_outcome(
    name: str, by_arm: dict[Arm, list[Person]], test: Any, now: datetime, horizon: timedelta
) -> Outcome:
    n: dict[str, int] = {}
    hits: dict[str, int] = {}
    for a in ARMS:
        ripe = _matured(by_arm[a], now, horizon)
        n[a] = len(ripe)
        hits[a] = sum(1 for p in ripe if test(p))
    value: dict[str, float | None] = {a: (hits[a] / n[a] if n[a] else None) for a in ARMS}
    diff = floor = None
    if n["treated"] and n["holdout"]:
        diff = newcombe(hits["treated"], n["treated"], hits["holdout"], n["holdout"])
        pooled = (hits["treated"] + hits["holdout"]) / (n["treated"] + n["holdout"])
        floor = mde(pooled * (1 - pooled), n["treated"], n["holdout"])
    return Outcome(
        name,
        "proportion",
        horizon.days,
        n,
        value,
        diff,
        floor,
        _verdict("proportion", n, diff, floor),
    )


def count_outcome(
    name: str, by_arm: dict[Arm, list[Person]], days: int, now: datetime, seed: int
) -> Outcome:
    horizon = timedelta(days=days)
    values = {a: [actions(p, days) for p in _matured(by_arm[a], now, horizon)] for a in ARMS}
    n: dict[str, int] = {a: len(values[a]) for a in ARMS}
    value: dict[str, float | None] = {
        a: (float(np.mean(values[a])) if values[a] else None) for a in ARMS
    }
    diff = floor = None
    if n["treated"] >= 2 and n["holdout"] >= 2:
        diff = mean_difference(values["treated"], values["holdout"], seed=seed)
        pooled = float(np.var(values["treated"] + values["holdout"], ddof=1))
        floor = mde(pooled, n["treated"], n["holdout"])
    return Outcome(name, "count", days, n, value, diff, floor, _verdict("count", n, diff, floor))


def response_minutes(people: Sequence[Person]) -> dict[str, float | int | None]:
    """Minutes from a treated person's first action to an agent's first response: the
    median and the share answered."""
    minutes = sorted(
        (p.first_response - p.first_action).total_seconds() / 60
        for p in people
        if p.first_response is not None
    )
    return {
        "people": len(people),
        "answered": len(minutes),
        "median": float(np.median(minutes)) if minutes else None,
    }


@dataclass(frozen=True, slots=True)
class ImpactReport:
    """One experiment's report."""

    experiment: str
    now: datetime
    days: int
    people: dict[str, int]
    opted_out: int
    shares: list[tuple[float, datetime]]
    outcomes: list[Outcome]
    response: dict[str, float | int | None]
    touched_holdout: int | None = None
    notes: list[str] = field(default_factory=list)
    # The touches counted in ``touched_holdout``, each with its target.
    touches: list[Touch] = field(default_factory=list)
    # Exposures the experiment does not withhold (``docs/impact.md``): the people of each
    # arm an agent answered an identity question ("are you a bot?"). Honesty outranks the
    # holdout; the analysis stays intention-to-treat (by the arm assigned).
    identity_answered: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "experiment": self.experiment,
            "now": self.now.isoformat(),
            "holdout_days": self.days,
            "people": self.people,
            "opted_out": self.opted_out,
            "shares": [{"share": s, "from": at.isoformat()} for s, at in self.shares],
            "outcomes": [o.as_dict() for o in self.outcomes],
            "treated_first_response_minutes": self.response,
            "agent_actions_toward_holdout": self.touched_holdout,
            "touches_of_holdout": [t.as_dict() for t in self.touches],
            "identity_answers_per_arm": self.identity_answered,
            "notes": self.notes,
        }


def report(
    experiment: str,
    people: Sequence[Person],
    *,
    now: datetime,
    days: int,
    opted_out: Collection[str] = (),
    seed: int = 0,
) -> ImpactReport:
    """The experiment's report at ``now``, read from its people alone (the agents' actions
    toward the holdout are the ledger's: ``ImpactReport.touched_holdout``, None here). People
    in ``opted_out`` (gallery user ids) are never treated: counted apart, in neither arm."""
    opted = set(opted_out)
    apart = [p for p in people if p.assignment.user_id in opted]
    by_arm: dict[Arm, list[Person]] = {a: [] for a in ARMS}
    for p in people:
        if p.assignment.user_id not in opted:
            by_arm[p.assignment.arm].append(p)
    shares: list[tuple[float, datetime]] = []
    for p in sorted(people, key=lambda p: p.assignment.first_seen):
        if not shares or shares[-1][0] != p.assignment.share:
            shares.append((p.assignment.share, p.assignment.first_seen))
    notes = [
        "Each outcome counts a person once its horizon has passed: the horizon is fixed in "
        "advance, and the figures are not to be watched for a moment to stop."
    ]
    if len(shares) > 1:
        notes.append(
            "The holdout share changed during the experiment ("
            + ", then ".join(f"{s:g} from {at:%Y-%m-%d %H:%M}" for s, at in shares)
            + "); people already assigned kept their arm."
        )
    outcomes = [
        proportion_outcome("returned_days_2_7", by_arm, returned, now, RETURN_UNTIL),
        proportion_outcome("second_post_7d", by_arm, second_post, now, SECOND_POST_WITHIN),
        count_outcome(f"actions_{days}d", by_arm, days, now, seed),
        proportion_outcome("first_follower_1d", by_arm, first_follower, now, FIRST_FOLLOWER_WITHIN),
    ]
    return ImpactReport(
        experiment,
        now,
        days,
        {a: len(by_arm[a]) for a in ARMS},
        len(apart),
        shares,
        outcomes,
        response_minutes(by_arm["treated"]),
        None,
        notes,
    )

"""An agent's rhythm and its simulated timeline: the one place that says what comes next.

A rhythm is either human sessions (below) or, for tickers and load
tests, a steady interval: one action every ``interval`` seconds of active time. The
dispatcher advances agents with ``Rhythm.following``; the tick decides with
``Rhythm.action``; ``simulate`` strings the two together with the daily quotas, which is
what the realism benchmark and ``fleet schedule preview --agent`` show. All of it is a
pure function of (persona, agent seed, time).
"""

from __future__ import annotations

import functools
import hashlib
import math
import random
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from statistics import NormalDist
from typing import Any
from zoneinfo import ZoneInfo

from fleet.core.kinds import FALLBACK_ORDER, ActionKey
from fleet.core.persona import (
    MINUTES_PER_WEEK,
    Action,
    ActionWeights,
    Interval,
    Persona,
    Quotas,
    Schedule,
    Sessions,
    choose_action,
)

__all__ = [
    "ACTIVITY_BOUNDS",
    "DAY_SECONDS",
    "FALLBACK_ORDER",
    "FLOOR",
    "HUMAN_SESSIONS_PER_DAY",
    "KEPT_DAYS",
    "NO_PRESSURE",
    "QUIET_ASKED",
    "SESSION_REST_SECONDS",
    "SET_ACTIVITY_BOUNDS",
    "WEEK_SECONDS",
    "ActivityClock",
    "BackPressure",
    "DayQuotaBook",
    "LimiterLoad",
    "Position",
    "Rhythm",
    "SimulatedTick",
    "action_gap",
    "activity_level",
    "acts",
    "after_session",
    "agent_sessions",
    "answer_index",
    "back_pressure",
    "busiest_day_share",
    "clock_for",
    "counted",
    "day_counts",
    "decide_share",
    "draw_interval",
    "expected_actions",
    "first_post_index",
    "from_epoch",
    "human_level",
    "idempotency_key",
    "length_table",
    "local_day",
    "mean_activity_level",
    "mean_daily_rates",
    "mean_session_length",
    "next_in_session",
    "next_tick_epoch",
    "open_session",
    "session_action",
    "session_gap",
    "session_length",
    "session_rest",
    "session_says",
    "simulate",
    "tick_rng",
    "tick_unit",
    "to_epoch",
    "unit",
    "within_quota",
]

# The activity clock: when an agent acts next, from its persona's weekly schedule.
#
# A schedule gives a multiplier ``m(t) >= 0`` from the persona's *local wall time*: above 1
# in peak windows, below 1 off-peak, 0 when dormant. An agent's clock runs at speed
# ``m(t)``; the next tick after ``t0`` is the first ``t`` where ``∫ m(s) ds`` from ``t0``
# reaches the drawn interval ``u``.
#
# The schedule is written in local minutes of the week, but ticks live on the UTC line, and
# the two drift apart at every DST change. So the clock compiles the schedule, one UTC week
# at a time, into pieces ``[utc_start, utc_end) -> multiplier`` with a running integral,
# caches them, and then answers every question with a bisect and a little float arithmetic:
# no stepping, no datetime work on the hot path.
#
# ``m(t)`` is defined by ``t.astimezone(zone)`` and nothing else: a wall-clock hour that
# repeats when the clocks go back counts twice in real time, a skipped hour counts not at
# all, and a window written 09:00-12:00 stays at 09:00-12:00 on the wall after the change.

WEEK_SECONDS = 7 * 24 * 3600
# The Unix epoch fell on a Thursday; chunks start on a Monday (1970-01-05) so that a
# chunk is a calendar week in UTC, which makes the cache easy to reason about.
_MONDAY_EPOCH = 4 * 24 * 3600
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
# Offsets are sampled this often when looking for a zone transition inside a week; real
# transitions are months apart, so an hour cannot hide one.
_OFFSET_PROBE_SECONDS = 3600
# Weeks compiled per clock before the cache is dropped: a long-running dispatcher moves
# forward a week at a time, so this only bounds memory for callers that jump around.
_MAX_CACHED_WEEKS = 256
# A schedule always has active time in a local week, so the walk finds it within a week
# or two; this bound only turns an impossible endless loop into an error.
_MAX_EMPTY_WEEKS = 64
# An interval that reaches further than this (a century) is refused rather than walked
# week by week (1e20 seconds would keep a dispatcher busy for ever).
_MAX_WEEKS_AHEAD = 5200


class _Week:
    """One UTC week of compiled pieces.

    ``starts[i]`` is where piece ``i`` begins (epoch seconds) and ``starts[-1]`` is the
    week's end; ``mults[i]`` its multiplier; ``cum[i]`` the active seconds from the
    week's start to ``starts[i]``, so ``cum[-1]`` is the week's total.
    """

    __slots__ = ("cum", "end", "index", "mults", "start", "starts", "total")

    def __init__(self, index: int, starts: list[float], mults: list[float]) -> None:
        self.index = index
        self.starts = starts
        self.mults = mults
        cum = [0.0]
        for i, m in enumerate(mults):
            cum.append(cum[-1] + (starts[i + 1] - starts[i]) * m)
        self.cum = cum
        self.start = starts[0]
        self.end = starts[-1]
        self.total = cum[-1]


class ActivityClock:
    """A persona schedule turned into a clock on the UTC line."""

    def __init__(self, schedule: Schedule) -> None:
        self.schedule = schedule
        self.zone = ZoneInfo(schedule.timezone)
        # The weekly profile in local seconds of the week; computed once, read per week.
        self._profile = [(a * 60, b * 60, m) for a, b, m in schedule.weekly_profile()]
        self._weeks: dict[int, _Week] = {}
        # The most active seconds a UTC week can hold: a local week, plus a DST hour at
        # the highest multiplier. Bounds how far ahead next_tick_epoch will walk.
        self._max_week_total = sum((b - a) * m for a, b, m in self._profile) + 3600 * max(
            (m for _, _, m in self._profile), default=0.0
        )

    # -- compilation -------------------------------------------------------------------

    def _offset(self, epoch: int) -> int:
        """UTC offset of the zone at an instant, in whole seconds."""
        offset = datetime.fromtimestamp(epoch, self.zone).utcoffset()
        assert offset is not None  # a ZoneInfo always knows its offset
        return int(offset.total_seconds())

    def _offset_segments(self, start: int, end: int) -> list[tuple[int, int, int]]:
        """Split [start, end) where the zone's UTC offset changes: (start, end, offset)."""
        # zoneinfo has no public list of transitions, so probe hourly and bisect to the
        # second wherever two probes disagree.
        segments: list[tuple[int, int, int]] = []
        seg_start, seg_offset = start, self._offset(start)
        probe = start
        while probe < end:
            nxt = min(probe + _OFFSET_PROBE_SECONDS, end)
            if self._offset(nxt) != seg_offset:
                lo, hi = probe, nxt
                while hi - lo > 1:
                    mid = (lo + hi) // 2
                    if self._offset(mid) == seg_offset:
                        lo = mid
                    else:
                        hi = mid
                if hi < end:  # a change exactly at the week's end belongs to the next week
                    segments.append((seg_start, hi, seg_offset))
                    seg_start, seg_offset = hi, self._offset(hi)
            probe = nxt
        segments.append((seg_start, end, seg_offset))
        return segments

    def _compile(self, index: int) -> _Week:
        """Pieces of UTC week ``index``: the local profile replayed under each offset."""
        week_start = _MONDAY_EPOCH + index * WEEK_SECONDS
        week_end = week_start + WEEK_SECONDS
        starts: list[float] = []
        mults: list[float] = []

        def emit(lo: int, m: float) -> None:
            # Merge runs of equal multipliers: fewer pieces, shorter bisects.
            if mults and mults[-1] == m:
                return
            starts.append(float(lo))
            mults.append(m)

        for seg_start, seg_end, offset in self._offset_segments(week_start, week_end):
            # Between two offset changes local wall time runs at real speed, shifted by
            # the offset: map the segment to local time, cut it by the profile, map back.
            local_lo, local_hi = seg_start + offset, seg_end + offset
            local_week = (local_lo - _MONDAY_EPOCH) // WEEK_SECONDS
            base = _MONDAY_EPOCH + local_week * WEEK_SECONDS
            while base < local_hi:
                for a, b, m in self._profile:
                    lo, hi = max(local_lo, base + a), min(local_hi, base + b)
                    if lo < hi:
                        emit(lo - offset, m)
                base += WEEK_SECONDS
        starts.append(float(week_end))
        return _Week(index, starts, mults)

    def _week(self, index: int) -> _Week:
        week = self._weeks.get(index)
        if week is None:
            if len(self._weeks) >= _MAX_CACHED_WEEKS:
                self._weeks.clear()
            week = self._weeks[index] = self._compile(index)
        return week

    def pieces(self, index: int) -> list[tuple[float, float, float]]:
        """Compiled pieces (utc_start_epoch, utc_end_epoch, multiplier) of UTC week ``index``."""
        week = self._week(index)
        return [(week.starts[i], week.starts[i + 1], m) for i, m in enumerate(week.mults)]

    @staticmethod
    def week_index(epoch: float) -> int:
        """Index of the UTC week (Monday 00:00 UTC to Monday) holding an epoch instant."""
        return math.floor((epoch - _MONDAY_EPOCH) / WEEK_SECONDS)

    # -- epoch API (the hot path) ------------------------------------------------------

    def _locate(self, epoch: float) -> tuple[_Week, int]:
        """The compiled week holding ``epoch`` and the index of its piece there."""
        week = self._week(math.floor((epoch - _MONDAY_EPOCH) / WEEK_SECONDS))
        i = bisect_right(week.starts, epoch) - 1
        # The float division can round an instant a hair before a week's edge into the
        # next week (or the reverse): the bisect tells, so step to the neighbour.
        if i < 0:
            week = self._week(week.index - 1)
            i = bisect_right(week.starts, epoch) - 1
        elif i >= len(week.mults):
            week = self._week(week.index + 1)
            i = bisect_right(week.starts, epoch) - 1
        return week, i

    def multiplier_epoch(self, epoch: float) -> float:
        """m(t) at an instant given as Unix epoch seconds."""
        week, i = self._locate(epoch)
        return week.mults[i]

    def active_seconds_epoch(self, start: float, end: float) -> float:
        """∫ m(s) ds from ``start`` to ``end`` (epoch seconds); negative if end < start."""
        if end < start:
            return -self.active_seconds_epoch(end, start)
        week_a, i = self._locate(start)
        week_b, j = self._locate(end)
        total = (week_b.cum[j] + (end - week_b.starts[j]) * week_b.mults[j]) - (
            week_a.cum[i] + (start - week_a.starts[i]) * week_a.mults[i]
        )
        # Whole weeks in between come from the cached totals, not from their pieces.
        for index in range(week_a.index, week_b.index):
            total += self._week(index).total
        return total

    def next_tick_epoch(self, after_epoch: float, active_seconds: float) -> float:
        """The first instant after ``after_epoch`` where ∫ m reaches ``active_seconds``."""
        if not active_seconds > 0 or math.isinf(active_seconds):
            raise ValueError(f"active_seconds must be positive and finite, not {active_seconds!r}")
        week, i = self._locate(after_epoch)
        if active_seconds > _MAX_WEEKS_AHEAD * max(week.total, self._max_week_total):
            raise ValueError(
                f"active_seconds {active_seconds:g} reaches more than {_MAX_WEEKS_AHEAD} weeks "
                "ahead on this schedule"
            )
        target = week.cum[i] + (after_epoch - week.starts[i]) * week.mults[i] + active_seconds
        empty = 0
        while target > week.total:
            # Not this week: carry what is left into the next one.
            target -= week.total
            empty = empty + 1 if week.total <= 0 else 0
            if empty > _MAX_EMPTY_WEEKS:  # pragma: no cover - refused by Schedule
                raise ValueError("the schedule has no active time")
            week = self._week(week.index + 1)
        cum = week.cum
        # First boundary whose running integral reaches the target; the piece before it
        # has a positive multiplier (its integral grows), so the answer is never dormant.
        # The target is above cum[0] == 0 (u > 0, and a carry leaves a positive rest), so
        # p >= 1; and it is at most cum[-1], so p is a boundary of this week.
        p = bisect_left(cum, target)
        j = p - 1
        m = week.mults[j]
        start = week.starts[j]
        end = week.starts[p]
        result = start + (target - cum[j]) / m
        if result >= end:
            result = end
            # The integral is reached exactly where a dormant piece begins: stay in the
            # active piece, a float step before the edge, rather than land asleep.
            following = week.mults[p] if p < len(week.mults) else self.multiplier_epoch(end)
            if following <= 0:
                result = math.nextafter(end, -math.inf)
        if result < start:
            result = start
        if result <= after_epoch:
            # Only an interval below a float step of the epoch gets here.
            result = math.nextafter(after_epoch, math.inf)
            if self.multiplier_epoch(result) <= 0:
                result = self.next_active_epoch(result)
        return result

    def next_active_epoch(self, epoch: float) -> float:
        """The first instant at or after ``epoch`` where m > 0."""
        week, i = self._locate(epoch)
        if week.mults[i] > 0:
            return epoch
        for _ in range(_MAX_EMPTY_WEEKS):
            for j in range(i + 1, len(week.mults)):
                if week.mults[j] > 0:
                    return week.starts[j]
            week = self._week(week.index + 1)
            i = -1
        raise ValueError("the schedule has no active time")  # pragma: no cover

    # -- datetime API ------------------------------------------------------------------

    def multiplier(self, at: datetime) -> float:
        """m(t) at an aware instant, from the persona's local wall time."""
        return self.multiplier_epoch(to_epoch(at))

    def active_seconds(self, start: datetime, end: datetime) -> float:
        """∫ m(s) ds from ``start`` to ``end`` in seconds; negative if end < start."""
        return self.active_seconds_epoch(to_epoch(start), to_epoch(end))

    def next_tick(self, after: datetime, active_seconds: float) -> datetime:
        """The first instant after ``after`` where ∫ m reaches ``active_seconds`` (UTC)."""
        # from_epoch keeps an instant within its second and piece edges are whole
        # seconds, so the tick stays in the (active) piece the epoch answer is in.
        tick = from_epoch(self.next_tick_epoch(to_epoch(after), active_seconds))
        if tick <= after:
            tick = after.astimezone(UTC) + _MICROSECOND
            if self.multiplier(tick) <= 0:
                tick = from_epoch(self.next_active_epoch(to_epoch(tick)))
        return tick


def to_epoch(at: datetime) -> float:
    """Unix epoch seconds of an aware datetime; naive datetimes are refused."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"naive datetime {at.isoformat()}: give a timezone-aware datetime")
    return (at - _EPOCH).total_seconds()


def from_epoch(epoch: float) -> datetime:
    """An aware UTC datetime from epoch seconds: the nearest microsecond within the
    instant's own second, so that it reads the same wall clock as the epoch does.

    Rounding alone would carry an instant less than half a microsecond before a whole
    second (``4102444799.9999995``) into that second, and a whole second is where pieces
    of the schedule begin and end: the datetime would then read the next piece (awake
    where the instant is dormant, or the reverse)."""
    # Split off whole seconds first: the fraction keeps every bit a float has there.
    whole = math.floor(epoch)
    micros = min(round((epoch - whole) * 1_000_000), 999_999)
    return _EPOCH + timedelta(seconds=whole, microseconds=micros)


@functools.lru_cache(maxsize=64)
def clock_for(schedule: Schedule) -> ActivityClock:
    """A shared clock per schedule, so its compiled weeks are reused across agents."""
    return ActivityClock(schedule)


def draw_interval(interval: Interval, rng: random.Random) -> float:
    """Active seconds until the next tick, uniform in [min_seconds, max_seconds]."""
    return rng.uniform(interval.min_seconds, interval.max_seconds)


def tick_rng(agent_seed: int, due_at: datetime) -> random.Random:
    """A Random seeded from (agent seed, due time in whole UTC seconds), stable across runs."""
    if due_at.tzinfo is None or due_at.utcoffset() is None:
        raise ValueError(f"naive datetime {due_at.isoformat()}: give a timezone-aware datetime")
    # Whole seconds by integer division: no float rounding can move a tick to the next
    # second, and the key matches the idempotency key's `due_at as UTC seconds`.
    seconds = (due_at - _EPOCH) // timedelta(seconds=1)
    # blake2b, not hash(): str hashes are salted per process, a seed must not be.
    digest = hashlib.blake2b(f"{agent_seed}:{seconds}".encode(), digest_size=16).digest()
    return random.Random(int.from_bytes(digest, "big"))


# MINUTES_PER_WEEK is the profile's unit; the compiled weeks must cover the same span.
assert MINUTES_PER_WEEK * 60 == WEEK_SECONDS


# Back-pressure: fewer actions decided while the gallery's shared limit is saturated (pure).
#
# The shared rate limiter (``fleet.infra.limits.TokenBucket``) keeps two sums that decay
# with a time constant of ``window`` seconds: the tokens it was asked for and those it
# refused. Their ratio is the **refused share** of recent requests: 0 while the gallery
# keeps up with the fleet, towards 1 as the fleet asks for more than the limit gives
# (deferred actions asking again count too, so the share also rises with the backlog).
#
# The decider acts on that share as it does on the pace (``fleet.core.pace``): a tick acts
# only at a **decide share** of the time::
#
#     decide share = max(floor, 1 - refused share)
#
# and otherwise rests, deciding nothing. Whether a tick acts is its own draw, from the
# agent's seed and the tick's due second, so a replay decides the same at the same share.
# Fewer actions decided means fewer asked of the limiter, and the share falls back: the
# fleet settles where the limit can carry what it decides, and its backlog of deferred
# actions stays short. It never goes silent (``floor``).

# The least share of ticks that still act, however saturated the gallery.
FLOOR = 0.1
# Below this many tokens asked for in the recent window the limiter has nothing to say.
QUIET_ASKED = 1.0


@dataclass(frozen=True, slots=True)
class LimiterLoad:
    """What a shared token bucket saw lately: the tokens asked for and refused (sums
    decaying over ``window`` seconds), and the tokens it holds now at ``rate`` a second."""

    asked: float
    refused: float
    tokens: float
    rate: float
    window: float

    @property
    def refused_share(self) -> float:
        """The share of recent requests the limiter refused (0: hardly asked lately)."""
        if not math.isfinite(self.asked) or self.asked < QUIET_ASKED:
            return 0.0
        return min(1.0, max(0.0, self.refused / self.asked))

    @property
    def asked_per_second(self) -> float:
        """Tokens asked for a second, lately (the decaying sum over its time constant)."""
        return self.asked / self.window if self.window > 0 else 0.0

    @property
    def wait_seconds(self) -> float:
        """How long a call asking for one token now waits (0: a token is there)."""
        return max(0.0, 1.0 - self.tokens) / self.rate if self.rate > 0 else 0.0


def decide_share(refused_share: float, *, floor: float = FLOOR) -> float:
    """The share of ticks that act when the limiter refuses ``refused_share`` of requests."""
    if not (math.isfinite(floor) and 0 < floor <= 1):
        raise ValueError(f"the back-pressure floor must be in (0, 1], not {floor!r}")
    if not math.isfinite(refused_share) or refused_share <= 0:
        return 1.0
    return max(floor, 1.0 - min(refused_share, 1.0))


def acts(seed: int, due_at: int, share: float) -> bool:
    """Whether the tick of the agent ``seed`` due at whole second ``due_at`` acts when
    ``share`` of ticks do: a draw of its own, the same for the same tick every time."""
    if share >= 1.0:
        return True
    # blake2b, not hash(): str hashes are salted per process, a draw must not be.
    digest = hashlib.blake2b(f"{seed}:{due_at}:pressure".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64 < share


@dataclass(frozen=True, slots=True)
class BackPressure:
    """The limiter's load as the fleet reads it: the refused share, the wait a call meets
    now, and the share of ticks the decider lets act."""

    refused_share: float
    asked_per_second: float
    wait_seconds: float
    decide_share: float

    @property
    def saturated(self) -> bool:
        return self.decide_share < 1.0


def back_pressure(load: LimiterLoad, *, floor: float = FLOOR) -> BackPressure:
    """The back-pressure ``load`` puts on the decider."""
    refused = load.refused_share
    return BackPressure(
        round(refused, 4),
        round(load.asked_per_second, 3),
        round(load.wait_seconds, 3),
        round(decide_share(refused, floor=floor), 4),
    )


# No limiter (the demo, no Redis): nothing pushes back.
NO_PRESSURE = BackPressure(0.0, 0.0, 0.0, 1.0)


# Human rhythm: sessions, activity levels and daily quotas, as pure functions of a seed.
#
# People use a social app in sessions. The activity clock times the *start* of a session:
# the active time (∫m) between two starts is a drawn rest and a heavy-tailed draw
# (Weibull, shape below 1) with mean ``1 / per_day`` days, divided by the agent's activity
# level as ``human_level`` saturates it (a busy agent's sessions grow longer rather than
# ever more frequent: ``agent_sessions``; docs/realism.md). Inside a session
# ``length`` actions follow a few seconds to a couple of minutes apart on the wall clock
# (log-uniform between the persona's bounds); the length is a power law on
# ``1..max_actions`` whose exponent is solved so that its mean is ``mean_actions``. A session
# opens with a look at the feed (browse) and holds at most one post.
#
# Every draw is a hash of (agent seed, a whole UTC second, a purpose), so the timeline of
# an agent is the same on any machine, after a restart and with two dispatchers; the only
# state a dispatcher keeps is where the agent stands: the tick due, the second its session
# opened and the tick's index in it.

DAY_SECONDS = 86_400.0
# Shape of the Weibull gap between session starts (active time): below 1 is heavier-tailed
# than an exponential, so quiet days and busy streaks both happen.
SESSION_GAP_SHAPE = 0.65
_GAP_SCALE = 1.0 / math.gamma(1.0 + 1.0 / SESSION_GAP_SHAPE)  # mean 1 at scale 1
# The rest between two session openings, in active seconds (so the starts still follow
# m(t) exactly): drawn afresh for every gap, log-uniform between these bounds, then the
# heavy-tailed part comes on top. A fixed rest was a floor that busy agents met at every
# gap: divided by a peak's multiplier it became a period (a session exactly every 5 min).
SESSION_REST_SECONDS = (60.0, 600.0)
# What an activity level can make of a persona's sessions: at most about this many a day
# on its busiest local day of the week, however busy the agent. Heavy users open their
# phone 132 times a day across all their apps (dscout, "Mobile Touches", 2016) and a
# social app 12-20 times (Snap Inc., Form S-1, 2017); docs/realism.md has the sources.
# The rate saturates smoothly (``human_level``): below a third of it, a level scales the
# sessions almost exactly.
HUMAN_SESSIONS_PER_DAY = 32.0
_SATURATION_POWER = 4.0
# Activity levels are clamped here: a log-normal's far tail would make one account
# a hundred times busier than the median, which no quota would let show anyway.
ACTIVITY_BOUNDS = (0.05, 20.0)
# A level set by hand (``--activity``, the console's form): a hundredth to a hundred times
# the persona's rate; beyond, an agent is off, or a day of it is millions of actions.
SET_ACTIVITY_BOUNDS = (0.01, 100.0)
# A tick is named by its whole UTC second: two ticks of one agent never share one.
MIN_GAP_SECONDS = 1.0
_UNIT = float(1 << 53)
_STANDARD = NormalDist()


def unit(seed: int, second: int, purpose: str) -> float:
    """A uniform number in [0, 1) from (agent seed, whole UTC second, purpose)."""
    digest = hashlib.blake2b(f"{seed}:{second}:{purpose}".encode(), digest_size=8).digest()
    return (int.from_bytes(digest, "big") >> 11) / _UNIT


# -- the activity level ---------------------------------------------------------------


@functools.lru_cache(maxsize=65_536)
def activity_level(seed: int, spread: float) -> float:
    """An agent's activity level: log-normal across agents with median 1, from its seed.

    It multiplies the rate of its sessions, so a fleet has a few busy accounts and many
    quiet ones (the "90-9-1" shape of online communities).
    """
    u = unit(seed, 0, "activity")
    z = _STANDARD.inv_cdf(min(max(u, 1e-12), 1 - 1e-12))
    low, high = ACTIVITY_BOUNDS
    return min(high, max(low, math.exp(spread * z)))


@functools.lru_cache(maxsize=64)
def mean_activity_level(spread: float) -> float:
    """The mean activity level across agents (above the median 1: the tail pulls it up)."""
    steps = 4000
    low, high = ACTIVITY_BOUNDS
    total = 0.0
    for i in range(steps):
        z = _STANDARD.inv_cdf((i + 0.5) / steps)
        total += min(high, max(low, math.exp(spread * z)))
    return total / steps


def mean_daily_rates(
    shape: Sessions, clock: ActivityClock, steps: int = 1000
) -> tuple[float, float]:
    """(sessions, actions) per 24 hours of active time for the mean agent of the persona,
    over its drawn activity levels, as ``human_level`` and ``agent_sessions`` make them."""
    low, high = ACTIVITY_BOUNDS
    sessions = actions = 0.0
    for i in range(steps):
        z = _STANDARD.inv_cdf((i + 0.5) / steps)
        level = min(high, max(low, math.exp(shape.activity_spread * z)))
        rate = shape.per_day * human_level(shape, clock, level)
        sessions += rate
        actions += rate * mean_session_length(agent_sessions(shape, clock, level))
    return sessions / steps, actions / steps


def mean_session_length(shape: Sessions) -> float:
    """The mean number of actions per session (``mean_actions``, as drawn)."""
    table = length_table(shape.mean_actions, shape.max_actions)
    previous, mean = 0.0, 0.0
    for k, cumulative in enumerate(table, start=1):
        mean += k * (cumulative - previous)
        previous = cumulative
    return mean


# -- session lengths --------------------------------------------------------------------


def _power_law_mean(exponent: float, cap: int) -> float:
    weights = [float(k) ** -exponent for k in range(1, cap + 1)]
    return float(sum(k * w for k, w in zip(range(1, cap + 1), weights, strict=True)) / sum(weights))


@functools.lru_cache(maxsize=1024)
def length_table(mean: float, cap: int) -> tuple[float, ...]:
    """Cumulative probabilities of a session's length 1..cap: P(k) ∝ k^-a, mean ``mean``.

    The exponent is found by bisection (the mean falls as it grows); ``mean`` must lie in
    [1, (cap + 1) / 2], which the persona model checks.
    """
    if cap == 1 or mean <= 1.0:
        return (1.0,) + (1.0,) * (cap - 1)
    low, high = 0.0, 20.0
    for _ in range(80):
        middle = (low + high) / 2
        if _power_law_mean(middle, cap) > mean:
            low = middle
        else:
            high = middle
    weights = [float(k) ** -low for k in range(1, cap + 1)]
    total = sum(weights)
    cumulative: list[float] = []
    running = 0.0
    for w in weights:
        running += w / total
        cumulative.append(running)
    cumulative[-1] = 1.0
    return tuple(cumulative)


def session_length(shape: Sessions, seed: int, opened: int) -> int:
    """How many actions the session opened at second ``opened`` holds (1..max_actions)."""
    table = length_table(shape.mean_actions, shape.max_actions)
    return min(shape.max_actions, bisect_right(table, unit(seed, opened, "length")) + 1)


# -- the timeline -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Position:
    """Where an agent stands: its tick due (epoch seconds), its session's opening second
    and the tick's index in that session (0 opens it)."""

    due: float
    opened: int
    index: int


_REST_MEAN = (SESSION_REST_SECONDS[1] - SESSION_REST_SECONDS[0]) / math.log(
    SESSION_REST_SECONDS[1] / SESSION_REST_SECONDS[0]
)


def session_rest(seed: int, second: int) -> float:
    """Active seconds a person rests at least between two sessions: log-uniform in
    ``SESSION_REST_SECONDS``, drawn for each gap (never a constant a gap can settle on)."""
    low, high = SESSION_REST_SECONDS
    return low * math.pow(high / low, unit(seed, second, "rest"))


def session_gap(shape: Sessions, seed: int, second: int, level: float) -> float:
    """Active seconds from one session's opening to the next's: a rest
    (``session_rest``), then a heavy-tailed Weibull, with mean ``1 / (per_day x level)``
    days in all. An agent busier than the rests allow keeps a Weibull part of at least
    the rests' mean, so its gaps stay as irregular as a person's (coefficient of
    variation above 1); ``human_level`` keeps real agents far from there."""
    u = unit(seed, second, "session")
    mean = DAY_SECONDS / (shape.per_day * level)
    spread = max(_REST_MEAN, mean - _REST_MEAN)
    return session_rest(seed, second) + spread * _GAP_SCALE * math.pow(
        -math.log1p(-u), 1 / SESSION_GAP_SHAPE
    )


@functools.lru_cache(maxsize=256)
def busiest_day_share(clock: ActivityClock) -> float:
    """The active seconds of the persona's busiest local day of the week, as a share of
    24 hours (2.0: a day all at a 2x peak)."""
    days = [0.0] * 7
    for start, end, m in clock.schedule.weekly_profile():
        minute = start
        while minute < end:
            day = minute // 1440
            stop = min(end, (day + 1) * 1440)
            days[day % 7] += (stop - minute) * 60 * m
            minute = stop
    return max(days) / DAY_SECONDS


def human_level(shape: Sessions, clock: ActivityClock, level: float) -> float:
    """The level an agent's sessions open at: ``level``, saturating smoothly so that its
    busiest local day holds about ``HUMAN_SESSIONS_PER_DAY`` sessions at most, whatever
    the level (set by hand up to 100, or drawn up to 20). At a third of the ceiling a
    level loses about 1 % of its sessions; far above it, every level gives the ceiling."""
    share = busiest_day_share(clock)
    if level <= 0 or share <= 0:
        return level
    ceiling = HUMAN_SESSIONS_PER_DAY / (shape.per_day * share)
    return level / math.pow(1 + math.pow(level / ceiling, _SATURATION_POWER), 1 / _SATURATION_POWER)


def agent_sessions(shape: Sessions, clock: ActivityClock, level: float) -> Sessions:
    """The persona's sessions as an agent of ``level`` has them: what ``human_level``
    takes from its number of sessions goes into their length, as a heavy user's sessions
    are longer as well as more frequent (up to the longest mean a length capped at
    ``max_actions`` can have). So a busier agent still does more, within human bounds,
    and the spread of activity across agents survives the saturation. The mean is kept
    to a tenth of an action (the length tables are cached by it)."""
    excess = level / human_level(shape, clock, level) if level > 0 else 1.0
    if excess <= 1.0:
        return shape
    longest = (shape.max_actions + 1) / 2
    mean = min(longest, round(shape.mean_actions * excess, 1))
    if mean <= shape.mean_actions:
        return shape
    return _with_mean(shape, mean)


@functools.lru_cache(maxsize=1024)
def _with_mean(shape: Sessions, mean: float) -> Sessions:
    """The sessions of ``shape`` with ``mean`` actions: one copy per mean (a tenth of an
    action apart), where each agent's level is its own (a cache by level missed for most
    agents of a large fleet, and a copy cost the dispatcher 7 % of its time)."""
    return shape.model_copy(update={"mean_actions": mean})


def action_gap(shape: Sessions, seed: int, second: int) -> float:
    """Wall-clock seconds between two actions of one session (log-uniform in the bounds)."""
    u = unit(seed, second, "gap")
    low, high = shape.gap_min_seconds, shape.gap_max_seconds
    return max(MIN_GAP_SECONDS, low * math.pow(high / low, u))


def open_session(
    clock: ActivityClock, shape: Sessions, seed: int, level: float, after: float
) -> Position:
    """The first session that opens after ``after`` (at the end of the last one, say)."""
    start = clock.next_tick_epoch(after, session_gap(shape, seed, math.floor(after), level))
    start = max(start, math.floor(after) + MIN_GAP_SECONDS)
    return Position(start, math.floor(start), 0)


def next_in_session(
    clock: ActivityClock, shape: Sessions, seed: int, current: Position
) -> Position | None:
    """The session's next action after ``current``, or None where the session ends: after
    its drawn length, or early where the next action would fall in a dormant window (a
    person goes to sleep rather than act in the night)."""
    if current.index + 1 >= session_length(shape, seed, current.opened):
        return None
    second = math.floor(current.due)
    due = second + action_gap(shape, seed, second) + (current.due - second)
    due = max(due, second + MIN_GAP_SECONDS)
    if clock.multiplier_epoch(due) <= 0:
        return None
    return Position(due, current.opened, current.index + 1)


def after_session(
    clock: ActivityClock, shape: Sessions, seed: int, level: float, last: Position
) -> Position:
    """The next session's opening, after the session whose last action is ``last``.

    It is timed from that session's opening, not its end: the starts are a renewal
    process in active time, so their hour-of-week profile is m(t)'s even where long
    sessions fill a peak. One that would open before the last action opens a rest
    later.
    """
    nxt = open_session(clock, shape, seed, level, last.opened)
    if nxt.due < last.due + MIN_GAP_SECONDS:
        # A long session ran past it: a rest counts from its last action instead.
        rest = session_rest(seed, math.floor(last.due))
        due = clock.next_tick_epoch(last.due, rest)
        due = max(due, math.floor(last.due) + MIN_GAP_SECONDS)
        return Position(due, math.floor(due), 0)
    return nxt


# -- what a tick does -------------------------------------------------------------------


@functools.lru_cache(maxsize=1024)
def _engagement(weights: ActionWeights) -> tuple[float, tuple[tuple[Action, float], ...]]:
    """The post weight and the cumulative weights of the other actions."""
    shares = weights.normalised()
    post = shares[Action.POST]
    rest = [(a, p) for a, p in shares.items() if a is not Action.POST and p > 0]
    total = sum(p for _, p in rest)
    cumulative: list[tuple[Action, float]] = []
    running = 0.0
    for action, p in rest:
        running += p / total
        cumulative.append((action, running))
    return post, tuple(cumulative)


def first_post_index(weights: ActionWeights, seed: int, opened: int) -> int:
    """The index at which the session posts: as if each action after the opener were
    drawn with the weights and only the first post kept (geometric); it may lie past the
    session's end, and then the session posts nothing."""
    post, _ = _engagement(weights)
    if post <= 0:
        return 1 << 30
    if post >= 1:
        return 1
    u = unit(seed, opened, "post")
    return 1 + math.floor(math.log1p(-u) / math.log1p(-post))


def answer_index(weights: ActionWeights, seed: int, opened: int) -> int:
    """The index at which a session answers what waits on the agent's notifications: the
    first action after the opening look, or the next when the session posts first."""
    return 2 if first_post_index(weights, seed, opened) == 1 else 1


def session_action(
    weights: ActionWeights,
    seed: int,
    opened: int,
    index: int,
    *,
    answers: bool = False,
    notified: bool = False,
) -> Action:
    """What the ``index``-th action of a session does: it opens with a look at the feed,
    posts at most once, and otherwise comments, likes or browses by the weights. With
    ``answers`` (the agent has posts or comments out there that others may have
    answered), its next action after the opening look answers what waits on it, as a
    person opening the app looks at their notifications first. ``notified`` (a person's
    comment was seen waiting on it since its last look): this action answers, as a
    person whose phone buzzed does, at the opening of a session however short it is, or
    mid-session; only the session's post keeps its place."""
    post = index == first_post_index(weights, seed, opened)
    if notified and not post:
        return Action.REPLY
    if index == 0:
        return Action.BROWSE
    if post:
        return Action.POST
    if answers and index == answer_index(weights, seed, opened):
        return Action.REPLY
    _, cumulative = _engagement(weights)
    if not cumulative:
        return Action.BROWSE
    draw = unit(seed, opened, f"action:{index}")
    for action, edge in cumulative:
        if draw < edge:
            return action
    return cumulative[-1][0]


# What a session says: the actions whose text a writer writes.
WORDS = frozenset({Action.COMMENT, Action.REPLY, Action.POST})


def session_speaks(shape: Sessions, weights: ActionWeights, seed: int, opened: int) -> bool:
    """Whether the session opened at ``opened`` holds a comment, a reply or a post as
    drawn (before quotas and budget): only then is its opening look worth a thought."""
    length = session_length(shape, seed, opened)
    return any(session_action(weights, seed, opened, index) in WORDS for index in range(1, length))


def session_says(
    shape: Sessions, weights: ActionWeights, seed: int, opened: int, *, answers: bool = False
) -> dict[str, int]:
    """How many comments, replies and posts the session opened at ``opened`` holds as
    drawn (before quotas and budget; ``answers`` as ``session_action``): what its opening
    look's plan writes (``fleet.content.llm.planning``). Kinds it holds none of are left out."""
    length = session_length(shape, seed, opened)
    said: dict[str, int] = {}
    for index in range(1, length):
        action = session_action(weights, seed, opened, index, answers=answers)
        if action in WORDS:
            said[action.value] = said.get(action.value, 0) + 1
    return said


# -- daily quotas -----------------------------------------------------------------------


# Local days whose counts an agent keeps: a tick decided late, after midnight has passed
# for a later one, still counts against its own day.
KEPT_DAYS = 3


def day_counts(stored: Mapping[str, Any] | None, day: str) -> dict[str, int]:
    """An agent's counts of the local ``day`` (``YYYY-MM-DD``) from what its row keeps."""
    found = (stored or {}).get(day)
    if not isinstance(found, dict):
        return {}
    return {kind: int(n) for kind, n in found.items() if isinstance(n, int | float)}


def counted(stored: Mapping[str, Any] | None, day: str, action: Action) -> dict[str, Any]:
    """What the row keeps after one more ``action`` on ``day``: the newest days only."""
    days = {d: dict(c) for d, c in (stored or {}).items() if isinstance(c, dict)}
    today = days.setdefault(day, {})
    today[action.value] = int(today.get(action.value, 0)) + 1
    return {d: days[d] for d in sorted(days)[-KEPT_DAYS:]}


def within_quota(
    action: Action, counts: Mapping[str, int], quotas: Quotas
) -> tuple[Action | None, str | None]:
    """The action the agent may still do today: the chosen one, or the next kind in
    ``FALLBACK_ORDER`` that is under its quota; None when every kind from it is spent.
    The reason says which quota turned it."""
    limit = quotas.limit(action)
    if limit is None or counts.get(action.value, 0) < limit:
        return action, None
    reason = f"daily quota: {limit} {action.value}(s) already today"
    for candidate in FALLBACK_ORDER[FALLBACK_ORDER.index(action) + 1 :]:
        cap = quotas.limit(candidate)
        if cap is None or counts.get(candidate.value, 0) < cap:
            return candidate, reason
    return None, reason


# When an agent ticks next: its persona's clock, its own interval, its own seeded draw.
#
# The draw is a pure function of (agent seed, whole UTC second it is counted from), so
# a replay, a second dispatcher or a restart computes the same next tick. It is hashed
# straight from blake2b rather than through ``random.Random``: the dispatcher does this
# ten thousand times a second, and seeding a Random costs more than the whole walk.


def tick_unit(agent_seed: int, epoch_second: int) -> float:
    """A uniform number in [0, 1) from (agent seed, whole UTC second)."""
    digest = hashlib.blake2b(f"{agent_seed}:{epoch_second}".encode(), digest_size=8).digest()
    return (int.from_bytes(digest, "big") >> 11) / _UNIT


def next_tick_epoch(
    clock: ActivityClock, agent_seed: int, min_seconds: float, max_seconds: float, after: float
) -> float:
    """The agent's next tick after epoch ``after``: same inputs, same answer."""
    unit = tick_unit(agent_seed, math.floor(after))
    return clock.next_tick_epoch(after, min_seconds + (max_seconds - min_seconds) * unit)


def idempotency_key(agent_id: int, due_at: int, action: str) -> str:
    """``{agent_id}:{due_at as UTC seconds}:{action}``, the key of one action's effect."""
    return str(ActionKey.tick(agent_id, due_at, action))


@dataclass(frozen=True, slots=True)
class Rhythm:
    """How one agent's ticks follow each other and what each does."""

    clock: ActivityClock
    weights: ActionWeights
    seed: int
    sessions: Sessions | None = None
    # Active seconds between two steady ticks (min, max), when the agent has no sessions.
    steady: tuple[float, float] | None = None
    # The activity level set by hand; None draws it from the seed.
    activity: float | None = None
    # The fleet's pace (``fleet.core.pace``): it multiplies the rate of sessions.
    pace: float = 1.0

    @classmethod
    def of(
        cls,
        persona: Persona,
        clock: ActivityClock,
        seed: int,
        *,
        weights: ActionWeights | None = None,
        interval: tuple[float, float] | None = None,
        activity: float | None = None,
    ) -> Rhythm:
        """The rhythm of an agent: its own interval makes it a steady ticker."""
        sessions = persona.sessions if interval is None else None
        steady = interval
        if steady is None and sessions is None and persona.interval is not None:
            steady = (persona.interval.min_seconds, persona.interval.max_seconds)
        if sessions is None and steady is None:  # pragma: no cover - refused by Persona
            raise ValueError(f"persona {persona.slug} has no rhythm")
        return cls(clock, weights or persona.weights, seed, sessions, steady, activity)

    @property
    def level(self) -> float:
        """The agent's activity level: set by hand, or drawn from its seed (log-normal)."""
        if self.activity is not None:
            return self.activity
        spread = self.sessions.activity_spread if self.sessions is not None else 0.0
        return activity_level(self.seed, spread)

    @property
    def _rate(self) -> float:
        """The level sessions open at: the agent's own, saturating at a human number of
        sessions a day (``human_level``), at the fleet's pace."""
        if self.sessions is None:
            return self.level * self.pace
        return human_level(self.sessions, self.clock, self.level) * self.pace

    @property
    def in_sessions(self) -> bool:
        return self.sessions is not None

    @property
    def _shape(self) -> Sessions:
        """The sessions as this agent has them (``agent_sessions``: a busy agent's are
        longer rather than ever more frequent)."""
        assert self.sessions is not None
        return agent_sessions(self.sessions, self.clock, self.level)

    def start(self, after: float) -> Position:
        """The first tick after ``after``: a session's opening, or the next steady tick."""
        if self.sessions is not None:
            return open_session(self.clock, self._shape, self.seed, self._rate, after)
        return self._steady(after)

    def following(self, current: Position) -> Position:
        """The tick after ``current``."""
        if self.sessions is None:
            return self._steady(current.due)
        shape = self._shape
        nxt = next_in_session(self.clock, shape, self.seed, current)
        if nxt is not None:
            return nxt
        return after_session(self.clock, shape, self.seed, self._rate, current)

    def _steady(self, after: float) -> Position:
        assert self.steady is not None
        low, high = self.steady
        due = next_tick_epoch(self.clock, self.seed, low, high, after)
        due = max(due, math.floor(after) + MIN_GAP_SECONDS)
        return Position(due, math.floor(due), 0)

    def thinks(self, opened: int | None, index: int) -> bool:
        """Whether a look at the feed at this position asks the writer for a thought:
        only a session's opening look, and only when the session says something (a
        steady ticker, which has no sessions, thinks at every look)."""
        if self.sessions is None or opened is None:
            return True
        return index == 0 and session_speaks(self._shape, self.weights, self.seed, opened)

    def says(self, opened: int | None, *, answers: bool = False) -> dict[str, int]:
        """The comments, replies and posts the session opened at ``opened`` holds as drawn
        (``session_says``); none for a steady ticker, which has no sessions."""
        if self.sessions is None or opened is None:
            return {}
        return session_says(self._shape, self.weights, self.seed, opened, answers=answers)

    def answers_at(self, opened: int | None, index: int, *, notified: bool = False) -> bool:
        """Whether this position is a session's look at its notifications (when it
        answers): any when ``notified``, else the one after the opening look."""
        if self.sessions is None or opened is None:
            return False
        if notified:
            return True
        return index == answer_index(self.weights, self.seed, opened)

    def action(
        self,
        due: int,
        opened: int | None,
        index: int,
        *,
        answers: bool = False,
        notified: bool = False,
    ) -> Action:
        """What the tick due at whole second ``due`` does (before quotas and budget);
        ``answers``, ``notified``: a session answers what waits on the agent first
        (``session_action``)."""
        if self.sessions is not None and opened is not None:
            return session_action(
                self.weights, self.seed, opened, index, answers=answers, notified=notified
            )
        return choose_action(self.weights, tick_rng(self.seed, datetime.fromtimestamp(due, UTC)))


def local_day(zone: ZoneInfo, epoch: float) -> str:
    """The persona's local date of an instant, ``YYYY-MM-DD``: the day quotas count in."""
    return datetime.fromtimestamp(epoch, zone).date().isoformat()


@dataclass(frozen=True, slots=True)
class SimulatedTick:
    """One tick of a simulated timeline and what it did after the quotas."""

    due: int
    opened: int
    index: int
    chosen: Action
    action: Action | None
    reason: str | None


# The share of the daily reply quota kept for people's comments (``DayQuotaBook.decide``).
PEOPLE_REPLIES_KEPT = 0.3


@dataclass
class DayQuotaBook:
    """Counts of decided actions per local day, kept as the agents table keeps them."""

    quotas: Quotas
    zone: ZoneInfo
    stored: dict[str, Any] = field(default_factory=dict)

    def decide(
        self, epoch: float, chosen: Action, *, for_people: bool = False, owed: bool = False
    ) -> tuple[Action | None, str | None]:
        """The action the quotas let the agent do, and why another if so. A reply of its
        own accord (not ``for_people``: no person's comment called it) may take the reply
        quota less ``PEOPLE_REPLIES_KEPT`` of it (7 of 10): the rest is kept for the people
        who write to it (why: docs/tuning.md).

        ``owed``: a truthful answer a person asked for (what the agent is, who runs it):
        counted, never refused, whatever the quotas say (issue 48)."""
        day = local_day(self.zone, epoch)
        if owed:
            self.stored = counted(self.stored, day, chosen)
            return chosen, None
        counts = day_counts(self.stored, day)
        limit = self.quotas.limit(Action.REPLY)
        own = None
        if limit is not None and chosen is Action.REPLY and not for_people:
            kept = math.ceil(PEOPLE_REPLIES_KEPT * limit)
            if kept and counts.get(Action.REPLY.value, 0) >= limit - kept:
                # Its own share is spent: the reply falls as one past the quota does.
                counts = {**counts, Action.REPLY.value: limit}
                own = f"daily quota: {limit - kept} reply(s) of its own, {kept} kept for people"
        action, reason = within_quota(chosen, counts, self.quotas)
        reason = own or reason
        if action is not None:
            self.stored = counted(self.stored, day, action)
        return action, reason


def simulate(persona: Persona, rhythm: Rhythm, start: float, end: float) -> Iterator[SimulatedTick]:
    """The agent's ticks in [start, end), from a session opening after ``start``."""
    book = DayQuotaBook(persona.quotas, ZoneInfo(persona.schedule.timezone))
    position = rhythm.start(start)
    while position.due < end:
        due = math.floor(position.due)
        opened = position.opened if rhythm.in_sessions else None
        chosen = rhythm.action(due, opened, position.index)
        action, reason = book.decide(position.due, chosen)
        yield SimulatedTick(due, position.opened, position.index, chosen, action, reason)
        position = rhythm.following(position)


def expected_actions(
    persona: Persona, rhythms: list[Rhythm], start: float, end: float
) -> list[dict[str, float]]:
    """The actions by kind the mean of these agents makes in each hour of [start, end)
    (item ``i`` from ``start + i`` hours), daily quotas applied: what the persona's clock,
    sessions and quotas expect of one agent, hour by hour."""
    hours: list[dict[str, float]] = [{} for _ in range(math.ceil((end - start) / 3600))]
    for rhythm in rhythms:
        for tick in simulate(persona, rhythm, start, end):
            if tick.action is not None:
                hour = hours[max(0, int((tick.due - start) // 3600))]
                hour[tick.action.value] = hour.get(tick.action.value, 0.0) + 1 / len(rhythms)
    return hours

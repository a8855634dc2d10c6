"""A persona's weekly schedule turned into a clock on the UTC line: when its active time adds up."""

from __future__ import annotations

import functools
import math
from bisect import bisect_left, bisect_right
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from fleet.core.persona import MINUTES_PER_WEEK, Schedule

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
        index = math.floor((epoch - _MONDAY_EPOCH) / WEEK_SECONDS)
        # The week at hand is nearly always compiled already: read without a call.
        week = self._weeks.get(index)
        if week is None:
            week = self._week(index)
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


# MINUTES_PER_WEEK is the profile's unit; the compiled weeks must cover the same span.
assert MINUTES_PER_WEEK * 60 == WEEK_SECONDS

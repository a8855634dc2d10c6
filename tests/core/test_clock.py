"""The activity clock: multipliers from local time, exact next ticks, DST, statistics."""

from __future__ import annotations

import itertools
import math
import random
import statistics
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from fleet.core.activity_clock import WEEK_SECONDS, ActivityClock, clock_for, from_epoch, to_epoch
from fleet.core.persona import DAYS, MINUTES_PER_WEEK, Interval, Persona, Schedule
from fleet.core.steady import draw_interval, tick_rng
from fleet.infra.persona_files import PersonaCatalogue
from tests.conftest import examples

NEW_YORK = ZoneInfo("America/New_York")
CHICAGO = ZoneInfo("America/Chicago")
LONDON = ZoneInfo("Europe/London")
HOUR = 3600.0
# The steady rhythm the clock tests draw with (personas now have sessions instead).
STEADY = Interval(min_seconds=60, max_seconds=300)


@cache
def personas() -> dict[str, Persona]:
    catalogue = PersonaCatalogue.from_directory()
    return {slug: catalogue.get(slug) for slug in catalogue.slugs()}


def clock(slug: str) -> ActivityClock:
    return clock_for(personas()[slug].schedule)


# -- an independent reference: read the wall clock, look the minute up -------------------


def wall_time(zone: ZoneInfo, epoch: float) -> datetime:
    """The local wall time of the second holding an instant. Zones change offset on whole
    seconds, so that second's wall time has the instant's minute. Not
    ``datetime.fromtimestamp(epoch)``: it rounds to the nearest microsecond, and half a
    microsecond before a whole second it reads the next second (and maybe the next minute,
    day and window)."""
    return datetime.fromtimestamp(math.floor(epoch), zone)


def reference_multiplier(schedule: Schedule, epoch: float) -> float:
    """m(t) straight from the definition: the local wall time of t in the weekly profile."""
    local = wall_time(ZoneInfo(schedule.timezone), epoch)
    minute = local.weekday() * 1440 + local.hour * 60 + local.minute
    for a, b, m in schedule.weekly_profile():
        if a <= minute < b:
            return m
    raise AssertionError("the weekly profile has a gap")  # pragma: no cover


def in_dormant_window(schedule: Schedule, epoch: float) -> bool:
    """Whether the local wall time of t falls in a dormant window, read from the windows."""
    local = wall_time(ZoneInfo(schedule.timezone), epoch)
    minute = local.weekday() * 1440 + local.hour * 60 + local.minute
    for window in schedule.dormant:
        for a, b in window.spans():
            if a <= minute < b or a <= minute + MINUTES_PER_WEEK < b:
                return True
    return False


def reference_integral(schedule: Schedule, start: float, end: float) -> float:
    """∫ m summed minute by minute: every zone used here changes offset on whole minutes."""
    total = 0.0
    cursor = start
    while cursor < end:
        step = min(math.floor(cursor / 60) * 60 + 60, end)
        total += (step - cursor) * reference_multiplier(schedule, cursor)
        cursor = step
    return total


# -- multipliers of the bundled personas at known local times ----------------------------


@pytest.mark.parametrize(
    ("slug", "local", "expected"),
    [
        ("product_photographer", datetime(2026, 1, 6, 3, 0, tzinfo=NEW_YORK), 0.0),
        ("product_photographer", datetime(2026, 1, 6, 10, 0, tzinfo=NEW_YORK), 2.0),
        ("product_photographer", datetime(2026, 1, 6, 12, 30, tzinfo=NEW_YORK), 0.3),
        ("product_photographer", datetime(2026, 1, 10, 14, 0, tzinfo=NEW_YORK), 0.3),
        ("product_photographer", datetime(2026, 1, 10, 10, 0, tzinfo=NEW_YORK), 0.3),
        ("indie_game_dev", datetime(2026, 1, 10, 1, 0, tzinfo=CHICAGO), 3.0),
        ("indie_game_dev", datetime(2026, 1, 12, 1, 59, tzinfo=CHICAGO), 3.0),
        ("indie_game_dev", datetime(2026, 1, 12, 2, 0, tzinfo=CHICAGO), 0.4),
        ("indie_game_dev", datetime(2026, 1, 8, 1, 0, tzinfo=CHICAGO), 0.4),
        ("indie_game_dev", datetime(2026, 1, 8, 5, 0, tzinfo=CHICAGO), 0.0),
        ("ai_art_enthusiast", datetime(2026, 1, 8, 3, 0, tzinfo=UTC), 2.0),
        ("ai_art_enthusiast", datetime(2026, 1, 8, 9, 0, tzinfo=UTC), 0.0),
        ("data_visualization", datetime(2026, 1, 6, 23, 30, tzinfo=LONDON), 0.0),
        ("data_visualization", datetime(2026, 7, 7, 15, 0, tzinfo=LONDON), 2.0),
        ("social_media_marketer", datetime(2026, 1, 11, 8, 0, tzinfo=ZoneInfo("US/Pacific")), 2.5),
        ("ux_ui_designer", datetime(2026, 1, 9, 17, 59, tzinfo=ZoneInfo("US/Pacific")), 2.0),
    ],
)
def test_the_multiplier_follows_the_personas_local_wall_time(
    slug: str, local: datetime, expected: float
) -> None:
    assert clock(slug).multiplier(local) == expected
    assert clock(slug).multiplier(local.astimezone(UTC)) == expected


def test_naive_datetimes_are_refused_everywhere() -> None:
    c = clock("product_photographer")
    naive = datetime(2026, 1, 6, 10, 0)
    aware = naive.replace(tzinfo=UTC)
    with pytest.raises(ValueError, match="naive"):
        c.multiplier(naive)
    with pytest.raises(ValueError, match="naive"):
        c.active_seconds(naive, aware)
    with pytest.raises(ValueError, match="naive"):
        c.next_tick(naive, 60)


@pytest.mark.parametrize("bad", [0.0, -1.0, math.nan, math.inf])
def test_an_interval_that_is_not_positive_and_finite_is_refused(bad: float) -> None:
    with pytest.raises(ValueError, match="positive"):
        clock("product_photographer").next_tick_epoch(1.8e9, bad)


# -- next_tick by hand --------------------------------------------------------------------


def test_next_tick_crosses_the_end_of_a_peak_window_exactly() -> None:
    # 11:59 in a 2x window: the first minute gives 120 s, the last 60 s at 0.3 take 200 s.
    c = clock("product_photographer")
    after = datetime(2026, 1, 5, 11, 59, tzinfo=NEW_YORK)
    assert c.next_tick(after, 180) == datetime(2026, 1, 5, 12, 3, 20, tzinfo=NEW_YORK)
    # Reached exactly at the edge, where off-peak (m > 0) begins: the edge itself.
    assert c.next_tick(after, 120) == datetime(2026, 1, 5, 12, 0, tzinfo=NEW_YORK)
    assert c.next_tick(after, 60) == datetime(2026, 1, 5, 11, 59, 30, tzinfo=NEW_YORK)


def test_next_tick_crosses_midnight_the_weeks_end_and_a_dormant_night() -> None:
    # Sunday 23:00 Chicago: 3 h of peak (3x) to Monday 02:00, 2 h off-peak (0.4) to
    # 04:00, dormant to 10:00, then one more off-peak hour.
    c = clock("indie_game_dev")
    after = datetime(2026, 1, 11, 23, 0, tzinfo=CHICAGO)
    u = (3 * 3.0 + 2 * 0.4 + 1 * 0.4) * HOUR
    assert c.next_tick(after, u) == datetime(2026, 1, 12, 11, 0, tzinfo=CHICAGO)
    assert c.active_seconds(after, datetime(2026, 1, 12, 11, 0, tzinfo=CHICAGO)) == pytest.approx(u)


def test_an_integral_reached_exactly_where_a_dormant_window_begins_stays_awake() -> None:
    c = clock("indie_game_dev")
    after = datetime(2026, 1, 11, 23, 0, tzinfo=CHICAGO)
    dormant_from = datetime(2026, 1, 12, 4, 0, tzinfo=CHICAGO)
    tick = c.next_tick(after, (3 * 3.0 + 2 * 0.4) * HOUR)
    assert c.multiplier(tick) > 0
    assert dormant_from - timedelta(milliseconds=1) < tick < dormant_from
    epoch = c.next_tick_epoch(to_epoch(after), (3 * 3.0 + 2 * 0.4) * HOUR)
    assert c.multiplier_epoch(epoch) == 0.4
    assert epoch < to_epoch(dormant_from)


def test_a_tick_asked_for_inside_a_dormant_window_waits_for_the_window_to_end() -> None:
    # Tuesday 03:00 New York is dormant until 06:00; 0.3 off-peak follows until 09:00.
    c = clock("product_photographer")
    tick = c.next_tick(datetime(2026, 1, 6, 3, 0, tzinfo=NEW_YORK), 0.3 * 60)
    assert tick == datetime(2026, 1, 6, 6, 1, tzinfo=NEW_YORK)


def test_a_long_interval_runs_over_several_weeks() -> None:
    c = clock("data_visualization")
    after = datetime(2026, 1, 7, 10, 0, tzinfo=LONDON)
    week = personas()["data_visualization"].schedule.active_minutes_per_week() * 60
    assert c.next_tick(after, 3 * week) == after + timedelta(weeks=3)


# -- DST 2026 -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("slug", "zone", "before", "after", "early"),
    [
        # New York springs forward on 2026-03-08 and falls back on 2026-11-01; the
        # photographer's peak starts at 09:00 and 08:30 is off-peak (0.3).
        ("product_photographer", NEW_YORK, (2026, 3, 2), (2026, 3, 9), 8),
        ("product_photographer", NEW_YORK, (2026, 10, 26), (2026, 11, 2), 8),
        # London on 2026-03-29 and 2026-10-25; the peak starts at 08:00, 07:30 is 0.2.
        ("data_visualization", LONDON, (2026, 3, 23), (2026, 3, 30), 7),
        ("data_visualization", LONDON, (2026, 10, 19), (2026, 10, 26), 7),
    ],
)
def test_peak_hours_stay_at_the_same_local_clock_time_across_a_dst_change(
    slug: str,
    zone: ZoneInfo,
    before: tuple[int, int, int],
    after: tuple[int, int, int],
    early: int,
) -> None:
    c = clock(slug)
    off_peak = c.schedule.off_peak
    for day in (before, after):
        assert c.multiplier(datetime(*day, 9, 30, tzinfo=zone)) == 2.0
        assert c.multiplier(datetime(*day, 11, 59, tzinfo=zone)) == 2.0
        assert c.multiplier(datetime(*day, early, 30, tzinfo=zone)) == off_peak
        assert c.multiplier(datetime(*day, 12, 30, tzinfo=zone)) == off_peak
    # The offsets really differ on the two Mondays: the same wall time is another UTC hour.
    assert (
        datetime(*before, 9, 30, tzinfo=zone).utcoffset()
        != datetime(*after, 9, 30, tzinfo=zone).utcoffset()
    )


@pytest.mark.parametrize(
    ("zone", "day", "hours"),
    [
        ("America/New_York", (2026, 3, 8), 23),
        ("America/New_York", (2026, 11, 1), 25),
        ("America/New_York", (2026, 11, 8), 24),
        ("Europe/London", (2026, 3, 29), 23),
        ("Europe/London", (2026, 10, 25), 25),
    ],
)
def test_a_flat_schedule_counts_the_real_length_of_a_local_day(
    zone: str, day: tuple[int, int, int], hours: int
) -> None:
    c = ActivityClock(Schedule(timezone=zone, off_peak=1.0))
    start = datetime(*day, tzinfo=ZoneInfo(zone))
    end = datetime.combine(start.date() + timedelta(days=1), start.time(), ZoneInfo(zone))
    assert c.active_seconds(start, end) == pytest.approx(hours * HOUR, abs=1e-6)


@pytest.mark.parametrize(
    ("day", "active_hours"),
    [
        # Sunday in Chicago: 00-02 peak 3x, 02-04 off-peak 0.4, 04-10 dormant, 10-18
        # off-peak, 18-24 peak: 6 + 0.8 + 3.2 + 18 = 28 hours of active time.
        ((2026, 3, 1), 28.0),
        # 02:00-03:00 does not exist: one off-peak hour lost.
        ((2026, 3, 8), 28.0 - 0.4),
        # 01:00-02:00 happens twice and it is peak: three more hours.
        ((2026, 11, 1), 28.0 + 3.0),
    ],
)
def test_a_skipped_hour_counts_not_at_all_and_a_repeated_hour_counts_twice(
    day: tuple[int, int, int], active_hours: float
) -> None:
    c = clock("indie_game_dev")
    start = datetime(*day, tzinfo=CHICAGO)
    end = datetime.combine(start.date() + timedelta(days=1), start.time(), CHICAGO)
    assert c.active_seconds(start, end) == pytest.approx(active_hours * HOUR, abs=1e-6)


def test_next_tick_moves_in_real_time_across_a_dst_change() -> None:
    flat = ActivityClock(Schedule(timezone="America/New_York", off_peak=1.0))
    # One real hour after 01:30 EST on 2026-03-08 the wall says 03:30 EDT.
    spring = flat.next_tick(datetime(2026, 3, 8, 1, 30, tzinfo=NEW_YORK), HOUR)
    assert spring.astimezone(NEW_YORK).replace(tzinfo=None) == datetime(2026, 3, 8, 3, 30)
    # Two real hours after 00:30 EDT on 2026-11-01 the wall says 01:30 again (EST).
    autumn = flat.next_tick(datetime(2026, 11, 1, 0, 30, tzinfo=NEW_YORK), 2 * HOUR)
    local = autumn.astimezone(NEW_YORK)
    assert (local.hour, local.minute, local.utcoffset()) == (1, 30, timedelta(hours=-5))


def test_each_compiled_week_is_gap_free_and_holds_the_weeks_active_time() -> None:
    c = clock("indie_game_dev")
    weekly = c.schedule.active_minutes_per_week() * 60
    for index in range(2930, 2990):  # 2026 and into 2027, both DST changes included
        pieces = c.pieces(index)
        assert pieces[0][0] == index * WEEK_SECONDS + 4 * 86400
        assert pieces[-1][1] == pieces[0][0] + WEEK_SECONDS
        assert all(a[1] == b[0] for a, b in itertools.pairwise(pieces))
        total = sum((b - a) * m for a, b, m in pieces)
        # A UTC week and a local week differ only by a shifted, skipped or repeated hour.
        assert abs(total - weekly) <= 3.0 * HOUR


# -- properties ---------------------------------------------------------------------------

ZONES = [
    "UTC",
    "America/New_York",
    "Europe/London",
    "Australia/Sydney",
    "Australia/Lord_Howe",  # a 30-minute DST shift
    "America/St_Johns",  # -03:30 with DST
    "Asia/Kolkata",
    "Pacific/Chatham",  # +12:45 with DST
]


@st.composite
def clock_times(draw: st.DrawFn) -> str:
    minutes = draw(st.integers(0, 24 * 60))
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@st.composite
def windows(draw: st.DrawFn, peak: bool) -> dict[str, object]:
    window: dict[str, object] = {
        "days": draw(st.lists(st.sampled_from(DAYS), min_size=1, max_size=4, unique=True)),
        "start": draw(clock_times()),
        "end": draw(clock_times()),
    }
    if peak:
        window["multiplier"] = draw(st.floats(0.05, 10))
    return window


@st.composite
def random_schedules(draw: st.DrawFn) -> Schedule:
    raw = {
        "timezone": draw(st.sampled_from(ZONES)),
        "off_peak": draw(st.one_of(st.just(0.0), st.floats(0.01, 5))),
        "peaks": draw(st.lists(windows(peak=True), max_size=3)),
        "dormant": draw(st.lists(windows(peak=False), max_size=2)),
    }
    try:
        return Schedule.model_validate(raw)
    except ValidationError:
        assume(False)
        raise  # pragma: no cover - assume(False) never returns


schedules = st.one_of(
    st.sampled_from(sorted(personas())).map(lambda slug: personas()[slug].schedule),
    random_schedules(),
)
# 2001 to 2099: zoneinfo answers from its table before 2037 and its rule after.
FIRST, LAST = 978_307_200, 4_102_444_800


@st.composite
def near_minutes(draw: st.DrawFn) -> float:
    """An instant a few float steps from a whole minute, where windows begin and end and
    where rounding to the microsecond can cross into the next one."""
    at = float(draw(st.integers(FIRST // 60, LAST // 60)) * 60)
    steps = draw(st.integers(-3, 3))
    toward = math.inf if steps > 0 else -math.inf
    for _ in range(abs(steps)):
        at = math.nextafter(at, toward)
    return at


instants = st.one_of(st.floats(float(FIRST), float(LAST)), near_minutes())
intervals = st.floats(1.0, 3_000_000.0)
PROPERTY = settings(
    max_examples=examples(100), deadline=None, suppress_health_check=[HealthCheck.filter_too_much]
)


def within_reach(c: ActivityClock, u: float) -> bool:
    """Whether ``u`` active seconds lie within the century of weeks the clock walks (a
    schedule with a few active seconds a week can draw one that does not)."""
    return u < 5000 * min(week.total for week in (c._week(2800), c._week(2801)) if week.total)


def approx_interval(u: float) -> object:
    # An epoch near 2e9 moves in float steps of ~2.4e-7 s; times a multiplier up to 10
    # that is the absolute floor below the 1e-6 relative check.
    return pytest.approx(u, rel=1e-6, abs=1e-5)


# Half a microsecond before a dormant window (Thursday 00:01 to Friday 00:00) closes: the
# instant is dormant, and the wall clock read through a rounding datetime said awake.
DORMANT_TO_THURSDAY_MIDNIGHT = Schedule.model_validate(
    {
        "timezone": "UTC",
        "off_peak": 1.0,
        "peaks": [],
        "dormant": [{"days": ["mon", "tue", "wed", "thu"], "start": "00:01", "end": "00:00"}],
    }
)
HALF_A_MICROSECOND_BEFORE_2100 = 4102444799.9999995


@PROPERTY
@given(schedule=schedules, at=instants)
@example(schedule=DORMANT_TO_THURSDAY_MIDNIGHT, at=HALF_A_MICROSECOND_BEFORE_2100)
def test_compiled_pieces_agree_with_the_wall_clock_at_any_instant(
    schedule: Schedule, at: float
) -> None:
    assert clock_for(schedule).multiplier_epoch(at) == reference_multiplier(schedule, at)


@PROPERTY
@given(schedule=schedules, at=instants)
@example(schedule=DORMANT_TO_THURSDAY_MIDNIGHT, at=HALF_A_MICROSECOND_BEFORE_2100)
def test_the_datetime_of_an_instant_reads_the_same_piece_as_the_instant(
    schedule: Schedule, at: float
) -> None:
    c = clock_for(schedule)
    moment = from_epoch(at)
    assert c.multiplier(moment) == c.multiplier_epoch(at)
    # The nearest microsecond within the instant's second.
    assert math.floor(to_epoch(moment)) == math.floor(at)
    assert abs(to_epoch(moment) - at) < 1e-6


def test_the_dormant_instant_half_a_microsecond_before_2100_is_dormant() -> None:
    # 4102444799.9999995 is exactly 4102444800 - 2**-21: before Friday 00:00 UTC, inside
    # the window that ends there.
    assert HALF_A_MICROSECOND_BEFORE_2100 < 4_102_444_800
    c = clock_for(DORMANT_TO_THURSDAY_MIDNIGHT)
    assert c.multiplier_epoch(HALF_A_MICROSECOND_BEFORE_2100) == 0.0
    assert c.multiplier(from_epoch(HALF_A_MICROSECOND_BEFORE_2100)) == 0.0
    assert from_epoch(HALF_A_MICROSECOND_BEFORE_2100) == datetime(
        2099, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC
    )
    assert c.multiplier_epoch(4_102_444_800.0) == 1.0


@PROPERTY
@given(schedule=schedules, after=instants, u=intervals)
def test_next_tick_is_later_reaches_the_interval_and_is_awake(
    schedule: Schedule, after: float, u: float
) -> None:
    c = clock_for(schedule)
    assume(within_reach(c, u))
    tick = c.next_tick_epoch(after, u)
    assert tick > after
    assert c.active_seconds_epoch(after, tick) == approx_interval(u)
    assert c.multiplier_epoch(tick) > 0
    assert reference_multiplier(schedule, tick) > 0
    # It is the *first* such instant: a moment earlier the integral falls short.
    assert c.active_seconds_epoch(after, tick - 1e-3) < u


@PROPERTY
@given(schedule=schedules, after=instants, u1=intervals, u2=intervals)
def test_next_tick_is_monotone_in_the_interval(
    schedule: Schedule, after: float, u1: float, u2: float
) -> None:
    c = clock_for(schedule)
    low, high = sorted((u1, u2))
    assume(within_reach(c, high))
    assert c.next_tick_epoch(after, low) <= c.next_tick_epoch(after, high)


@settings(
    max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.filter_too_much]
)
@given(
    schedule=schedules,
    after=st.datetimes(datetime(2001, 1, 1), datetime(2099, 1, 1), timezones=st.just(UTC)),
    u=st.floats(10.0, 1_000_000.0),
)
def test_the_datetime_api_gives_the_same_ticks_to_the_microsecond(
    schedule: Schedule, after: datetime, u: float
) -> None:
    c = clock_for(schedule)
    assume(within_reach(c, u))
    tick = c.next_tick(after, u)
    assert tick > after
    assert tick.tzinfo is UTC
    assert c.multiplier(tick) > 0
    assert abs(to_epoch(tick) - c.next_tick_epoch(to_epoch(after), u)) < 2e-6
    # Flooring to the microsecond loses at most a microsecond at the multiplier.
    assert c.active_seconds(after, tick) == pytest.approx(u, rel=1e-6, abs=1e-5 + 10e-6)


@settings(
    max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.filter_too_much]
)
@given(schedule=schedules, start=instants, length=st.floats(0.0, 1.5 * 86400))
def test_active_seconds_agree_with_a_minute_by_minute_sum(
    schedule: Schedule, start: float, length: float
) -> None:
    expected = reference_integral(schedule, start, start + length)
    actual = clock_for(schedule).active_seconds_epoch(start, start + length)
    assert actual == pytest.approx(expected, rel=1e-9, abs=1e-5)


spans = st.floats(0.0, 3.0 * WEEK_SECONDS)


@PROPERTY
@given(schedule=schedules, a=instants, ab=spans, bc=spans)
def test_active_seconds_add_up_over_adjacent_spans(
    schedule: Schedule, a: float, ab: float, bc: float
) -> None:
    clk = clock_for(schedule)
    b, c = a + ab, a + ab + bc
    whole = clk.active_seconds_epoch(a, c)
    parts = clk.active_seconds_epoch(a, b) + clk.active_seconds_epoch(b, c)
    assert parts == pytest.approx(whole, rel=1e-9, abs=1e-3)


# -- statistics over four simulated weeks -------------------------------------------------

SIM_START = datetime(2026, 3, 2, tzinfo=UTC)  # spans the US (03-08) and UK (03-29) changes
SIM_END = SIM_START + timedelta(weeks=4)
TICKS_PER_PERSONA = 30_000


def hour_of_week(zone: ZoneInfo, epoch: float) -> int:
    local = wall_time(zone, epoch)
    return local.weekday() * 24 + local.hour


def expected_shares(schedule: Schedule) -> list[float]:
    """Share of ∫ m in each local hour of the week over the simulated span."""
    c = clock_for(schedule)
    zone = ZoneInfo(schedule.timezone)
    bins = [0.0] * 168
    # All bundled zones are whole hours off UTC, so a UTC hour is one local hour.
    start, end = to_epoch(SIM_START), to_epoch(SIM_END)
    for hour in range(int((end - start) // HOUR)):
        lo = start + hour * HOUR
        bins[hour_of_week(zone, lo)] += c.active_seconds_epoch(lo, lo + HOUR)
    total = sum(bins)
    return [b / total for b in bins]


Stepper = Callable[[float, float], float]


def simulate(schedule: Schedule, interval: Interval, step: Stepper, seed: int) -> list[float]:
    """Ticks of enough agents over the span, each agent drawing from its own Random."""
    c = clock_for(schedule)
    start, end = to_epoch(SIM_START), to_epoch(SIM_END)
    mean = (interval.min_seconds + interval.max_seconds) / 2
    per_agent = c.active_seconds_epoch(start, end) / mean
    ticks: list[float] = []
    for agent in range(math.ceil(TICKS_PER_PERSONA / per_agent)):
        rng = random.Random(seed * 1000 + agent)
        # Agents join at staggered moments, as a real fleet does.
        t = step(start + rng.uniform(0, mean), draw_interval(interval, rng))
        while t < end:
            ticks.append(t)
            t = step(t, draw_interval(interval, rng))
    return ticks


def correlation(schedule: Schedule, ticks: list[float]) -> float:
    zone = ZoneInfo(schedule.timezone)
    counts = [0] * 168
    for t in ticks:
        counts[hour_of_week(zone, t)] += 1
    return statistics.correlation([float(n) for n in counts], expected_shares(schedule))


@pytest.mark.parametrize("slug", sorted(personas()))
def test_simulated_ticks_follow_the_schedule_hour_by_hour_and_never_sleep_walk(
    slug: str, record_property: Callable[[str, object], None]
) -> None:
    persona = personas()[slug]
    schedule = persona.schedule
    c = clock_for(schedule)
    ticks = simulate(schedule, STEADY, c.next_tick_epoch, seed=len(slug))
    assert len(ticks) >= TICKS_PER_PERSONA * 0.9
    for t in ticks:
        assert c.multiplier_epoch(t) > 0
        assert not in_dormant_window(schedule, t)
    r = correlation(schedule, ticks)
    record_property("pearson_r", r)
    print(f"{slug}: Pearson r = {r:.4f} over {len(ticks)} ticks")
    assert r >= 0.98


def test_the_statistical_check_rejects_clocks_that_get_the_schedule_wrong() -> None:
    persona = personas()["product_photographer"]
    schedule, interval = persona.schedule, STEADY
    c = clock_for(schedule)

    def blind(after: float, u: float) -> float:
        # Ignores the schedule: one tick per interval, day and night.
        return after + u

    def start_multiplier(after: float, u: float) -> float:
        # The first fleet's mistake: scale by the multiplier at the start and hope.
        m = c.multiplier_epoch(after)
        if m == 0:
            after = c.next_active_epoch(after)
            m = c.multiplier_epoch(after)
        return after + u / m

    blind_r = correlation(schedule, simulate(schedule, interval, blind, seed=7))
    assert blind_r < 0.9
    naive = simulate(schedule, interval, start_multiplier, seed=7)
    asleep = sum(1 for t in naive if in_dormant_window(schedule, t))
    assert asleep > 0
    print(f"blind clock r = {blind_r:.4f}; start-multiplier clock: {asleep} ticks while dormant")


# -- determinism, intervals, previews -----------------------------------------------------


def tick_sequence(slug: str, agent_seed: int, start: datetime, n: int) -> list[datetime]:
    persona = personas()[slug]
    c = clock_for(persona.schedule)
    out, due = [], start
    for _ in range(n):
        draw = tick_rng(agent_seed, math.floor(due.timestamp()))
        due = c.next_tick(due, draw_interval(STEADY, draw))
        out.append(due)
    return out


def test_the_same_agent_seed_and_start_give_the_same_ticks() -> None:
    start = datetime(2026, 3, 7, 20, 0, tzinfo=UTC)
    first = tick_sequence("indie_game_dev", 1234, start, 200)
    assert first == tick_sequence("indie_game_dev", 1234, start, 200)
    assert first != tick_sequence("indie_game_dev", 1235, start, 200)
    assert len(set(first)) == 200


def test_tick_rng_is_keyed_by_whole_utc_seconds_and_not_by_the_process_hash_seed() -> None:
    # The tick's own second, as its key names it (no datetime made and read back).
    due = int(datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC).timestamp())
    values = {tick_rng(42, due).random(), tick_rng(42, due).random()}
    assert len(values) == 1
    assert tick_rng(42, due + 1).random() not in values
    assert tick_rng(43, due).random() not in values
    # A golden value: Python's salted hash() would change it from one process to the next.
    assert values == {0.746196241558685}


def test_draw_interval_stays_within_bounds_and_centres_on_the_mean() -> None:
    interval = Interval(min_seconds=60, max_seconds=300)
    rng = random.Random(5)
    draws = [draw_interval(interval, rng) for _ in range(20_000)]
    assert all(60 <= d <= 300 for d in draws)
    assert statistics.fmean(draws) == pytest.approx(180, rel=0.01)
    assert min(draws) < 61 and max(draws) > 299


def test_from_epoch_and_to_epoch_round_trip_to_the_microsecond() -> None:
    moment = datetime(2026, 3, 8, 7, 0, 0, 123_456, tzinfo=UTC)
    assert from_epoch(to_epoch(moment)) == moment
    assert from_epoch(to_epoch(moment.astimezone(NEW_YORK))) == moment


def test_an_interval_more_than_a_century_of_weeks_ahead_is_refused_not_walked() -> None:
    c = clock("product_photographer")
    with pytest.raises(ValueError, match="weeks ahead"):
        c.next_tick_epoch(1.8e9, 1e20)

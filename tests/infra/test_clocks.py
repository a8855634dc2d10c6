"""The one reading of ``Retry-After`` that the gallery's client and the LLM writers share."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fleet.infra.clocks import MAX_RETRY_AFTER_SECONDS, SimulatedClock, retry_after

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "wait"),
    [("30", 30.0), (" 7 ", 7.0), ("1.5", 1.5), ("0", 0.0), ("-5", 0.0)],
)
def test_seconds_are_a_wait_from_now_never_before_it(value: str, wait: float) -> None:
    assert retry_after(value, NOW) == NOW + timedelta(seconds=wait)


def test_an_http_date_is_that_time_in_utc() -> None:
    assert retry_after("Thu, 26 Nov 2026 13:00:00 GMT", NOW) == NOW + timedelta(hours=1)


@pytest.mark.parametrize("value", [None, "", "   ", "soon", "Thu, 99 Nov"])
def test_an_absent_or_garbled_value_is_no_time(value: str | None) -> None:
    assert retry_after(value, NOW) is None


@pytest.mark.parametrize("value", [str(MAX_RETRY_AFTER_SECONDS + 1), "1e300", "inf", "nan"])
def test_more_seconds_than_a_century_is_an_error_naming_the_value(value: str) -> None:
    with pytest.raises(ValueError, match="Retry-After"):
        retry_after(value, NOW)


@given(st.text(max_size=40))
def test_any_text_is_a_time_none_or_a_value_error(value: str) -> None:
    try:
        until = retry_after(value, NOW)
    except ValueError:
        return
    assert until is None or until.tzinfo is not None


def test_a_simulated_clock_moves_only_when_told() -> None:
    clock = SimulatedClock(NOW)
    assert clock.now() == NOW
    assert clock.advance(90) == NOW + timedelta(seconds=90) == clock.now()
    with pytest.raises(ValueError, match="aware"):
        SimulatedClock(datetime(2026, 1, 1))

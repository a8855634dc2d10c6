"""``bench.pipeline``'s skip reasons: a burst's skipped actions counted by kind and reason."""

from __future__ import annotations

from types import SimpleNamespace

from bench.pipeline_util import _skip_reasons


def _row(action: str, status: str, error: str | None) -> SimpleNamespace:
    return SimpleNamespace(action=action, status=status, error=error)


def test_skips_are_counted_by_kind_and_reason_with_numbers_and_quotes_made_alike() -> None:
    rows = [
        _row("like", "skipped", "nothing to like: nothing new it sees is to its taste"),
        _row("like", "skipped", "nothing to like: the rest have had enough"),
        _row("post", "skipped", "degraded: agent 12's budget of 0.50 USD is spent"),
        _row("comment", "skipped", 'draft 3 echoes "Air quality by hour" (0.93)'),
        _row("comment", "skipped", 'draft 7 echoes "Pixel boss" (0.91)'),
        _row("comment", "skipped", None),
        _row("like", "succeeded", None),
        _row("post", "dead", "gallery answered 500"),
    ]
    assert _skip_reasons(rows) == {
        "like: nothing to like": 2,
        "comment: draft N echoes '…' (N)": 2,
        "post: degraded": 1,
        "comment: ": 1,
    }
    assert list(_skip_reasons(rows))[:2] == [
        "like: nothing to like",
        "comment: draft N echoes '…' (N)",
    ]

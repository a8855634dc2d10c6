"""A reply's choice reads the comments around its agent with one admission for all."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

import pytest

from fleet.actions import reply_choice


class _AdmittingGallery:
    """A gallery whose limits can admit calls at once: which reads ran inside one."""

    def __init__(self) -> None:
        self.admissions: list[int] = []
        self.inside = 0
        self.reads: list[tuple[str, int]] = []

    @contextmanager
    def admitted(self, calls: int) -> Iterator[_AdmittingGallery]:
        self.admissions.append(calls)
        self.inside += 1
        try:
            yield self
        finally:
            self.inside -= 1

    def comments(self, *, agent: str, post_id: str, limit: int) -> list[Any]:
        self.reads.append((post_id, self.inside))
        return []


def _around(
    monkeypatch: pytest.MonkeyPatch, own: list[str], commented: list[tuple[str, str]]
) -> _AdmittingGallery:
    gallery = _AdmittingGallery()
    monkeypatch.setattr(reply_choice.activities, "own_posts", lambda *_a, **_k: own)
    monkeypatch.setattr(reply_choice.activities, "own_comments", lambda *_a, **_k: commented)
    choosing = SimpleNamespace(sessions=None, gallery=gallery)
    claim = SimpleNamespace(actor=SimpleNamespace(id=1, handle="mira"))
    reply_choice._comments_around(choosing, claim)  # type: ignore[arg-type]
    return gallery


def test_the_reads_around_an_agent_are_admitted_in_one_round_trip(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Two posts of its own, three comments of its on two posts: four reads, one admission.
    gallery = _around(monkeypatch, ["p1", "p2"], [("q1", "c1"), ("q1", "c2"), ("q2", "c3")])
    assert gallery.admissions == [4]
    assert gallery.reads == [("p1", 1), ("p2", 1), ("q1", 1), ("q2", 1)]


def test_a_single_read_is_admitted_as_any_call_is(monkeypatch: pytest.MonkeyPatch) -> None:
    gallery = _around(monkeypatch, ["p1"], [])
    assert gallery.admissions == []
    assert gallery.reads == [("p1", 0)]

"""The feed page that target choice shares: fresh for a moment, stale rather than failing."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from fleet.actions.feed_snapshot import FeedSnapshot
from fleet.errors import Deferred, TransientError
from fleet.gallery.port import GalleryPost
from fleet.settings import ActionSettings


class Feed:
    """A gallery whose feed answers from a script: a page, or an error to raise."""

    def __init__(self, *answers: list[GalleryPost] | Exception) -> None:
        self.answers = list(answers)
        self.calls = 0

    def feed(self, **_: Any) -> list[GalleryPost]:
        self.calls += 1
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def _post(post_id: str) -> GalleryPost:
    return GalleryPost(
        id=post_id,
        title="t",
        description="d",
        image_url="http://x/i.png",
        like_count=0,
        comment_count=0,
        created_at=datetime(2026, 11, 1, tzinfo=UTC),
        user_id="u1",
        username="someone",
        user_is_agent=False,
    )


def _kit(feed: Feed) -> Any:
    return SimpleNamespace(gallery=feed, settings=ActionSettings())


def test_a_fresh_page_is_shared_and_an_old_one_read_again(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [100.0]
    monkeypatch.setattr("fleet.actions.feed_snapshot.time.monotonic", lambda: clock[0])
    feed = Feed([_post("1")], [_post("2")])
    snapshot = FeedSnapshot(2.0)
    assert [p.id for p in snapshot.page(_kit(feed), "a")] == ["1"]
    clock[0] += 1.0
    assert [p.id for p in snapshot.page(_kit(feed), "a")] == ["1"]
    clock[0] += 1.5
    assert [p.id for p in snapshot.page(_kit(feed), "a")] == ["2"]
    assert feed.calls == 2


def test_a_failed_read_serves_the_last_page_while_it_is_not_too_old(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = [100.0]
    monkeypatch.setattr("fleet.actions.feed_snapshot.time.monotonic", lambda: clock[0])
    feed = Feed([_post("1")], TransientError("503"), TransientError("503"))
    snapshot = FeedSnapshot(2.0)
    snapshot.page(_kit(feed), "a")
    clock[0] += 5
    assert [p.id for p in snapshot.page(_kit(feed), "a")] == ["1"]
    clock[0] += FeedSnapshot.STALE_ON_ERROR_SECONDS
    with pytest.raises(TransientError):
        snapshot.page(_kit(feed), "a")


def test_a_budget_or_pause_answer_is_never_hidden_by_an_old_page(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = [100.0]
    monkeypatch.setattr("fleet.actions.feed_snapshot.time.monotonic", lambda: clock[0])
    feed = Feed([_post("1")], Deferred("FLEET_PAUSED", None, scope="fleet"))
    snapshot = FeedSnapshot(2.0)
    snapshot.page(_kit(feed), "a")
    clock[0] += 5
    with pytest.raises(Deferred):
        snapshot.page(_kit(feed), "a")


def test_without_any_page_yet_a_failed_read_fails() -> None:
    with pytest.raises(TransientError):
        FeedSnapshot(2.0).page(_kit(Feed(TransientError("503"))), "a")


def test_a_page_knows_each_posts_place_on_each_sort_read() -> None:
    feed = Feed([_post("a"), _post("b"), _post("c")], [_post("c"), _post("d")])
    snapshot = FeedSnapshot(60.0, sorts=("recent", "popular"))
    page = snapshot.page(_kit(feed), "a")
    assert [p.id for p in page] == ["a", "b", "c", "d"]
    assert snapshot.places(page) == {
        "a": (0, None),
        "b": (1, None),
        "c": (2, 0),
        "d": (None, 1),
    }
    # Another list than the snapshot's page: places unknown.
    assert snapshot.places(list(page)) == {}


def test_a_post_of_the_last_page_is_known_by_its_id_however_old_the_page(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = [100.0]
    monkeypatch.setattr("fleet.actions.feed_snapshot.time.monotonic", lambda: clock[0])
    feed = Feed([_post("1"), _post("2")], [_post("3")])
    snapshot = FeedSnapshot(2.0)
    assert snapshot.shown("1") is None  # no page yet
    snapshot.page(_kit(feed), "a")
    clock[0] += 10  # the page is too old to choose from, not to say what a post was
    assert snapshot.fresh() is None
    assert [p.id for p in (snapshot.shown("1"), snapshot.shown("2"))] == ["1", "2"]
    assert snapshot.shown("3") is None
    snapshot.page(_kit(feed), "a")  # a new page: the old one's posts are no longer shown
    assert snapshot.shown("1") is None
    assert snapshot.shown("3") is not None
    assert feed.calls == 2

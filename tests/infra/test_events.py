"""The live activity feed on the real Redis: published events reach a follower, in order,
and ``fleet activity tail --timeout`` waits that long for quiet before it stops."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from itertools import pairwise

import pytest
import redis
from click.testing import CliRunner

from fleet.cli import cli
from fleet.infra.events import ActivityChannel, describe
from fleet.service.root import Fleet


def _event(n: int) -> dict[str, object]:
    return {
        "activity_id": n,
        "agent_id": 1,
        "handle": "social_viralhook_cp9dec",
        "persona": "social_media_marketer",
        "action": "like",
        "status": "succeeded",
        "key": f"1:{n}:like",
        "detail": {"post_id": str(n)},
        "at": f"2026-11-21T18:20:{n:02d}+00:00",
    }


def _once_followed(
    client: redis.Redis, channel: str, publish: Callable[[], None]
) -> threading.Thread:
    """A thread that calls ``publish`` once someone follows ``channel``."""

    def run() -> None:
        deadline = time.monotonic() + 10
        while not client.pubsub_numsub(channel)[0][1]:
            if time.monotonic() > deadline:
                return  # the follower never came: what it saw tells
            time.sleep(0.01)
        publish()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_a_follower_gets_the_events_published_after_it_came_in_order(
    real_redis: redis.Redis, redis_keys: str
) -> None:
    channel = ActivityChannel(real_redis, f"{redis_keys}:")
    assert channel.name == f"{redis_keys}:fleet:activity"

    def publish() -> None:
        channel.publish(_event(1))
        real_redis.publish(channel.name, "not an event")  # passed over
        real_redis.publish(channel.name, "[1, 2]")  # JSON, but not an event
        channel.publish(_event(2))

    publisher = _once_followed(real_redis, channel.name, publish)
    events = []
    for event in channel.follow(timeout=5):
        events.append(event)
        if len(events) == 2:
            break
    publisher.join()
    assert [e["activity_id"] for e in events] == [1, 2]


def test_a_follower_with_a_timeout_is_not_stopped_by_its_subscriptions_confirmation(
    real_redis: redis.Redis, redis_keys: str
) -> None:
    """Redis confirms a subscription before any event: that is no quiet, the event comes."""
    channel = ActivityChannel(real_redis, f"{redis_keys}:")
    publisher = _once_followed(real_redis, channel.name, lambda: channel.publish(_event(3)))
    events = list(channel.follow(timeout=3))
    publisher.join()
    assert [e["activity_id"] for e in events] == [3]


def test_a_follower_with_a_stop_looks_at_it_every_tenth_of_a_second_without_events(
    real_redis: redis.Redis, redis_keys: str
) -> None:
    """The console's feed stops with it: not after a wait of a second on a quiet channel."""
    channel = ActivityChannel(real_redis, f"{redis_keys}:")
    asked: list[float] = []

    def stop() -> bool:
        asked.append(time.monotonic())
        return len(asked) > 3

    assert list(channel.follow(stop=stop)) == []
    gaps = [later - earlier for earlier, later in pairwise(asked)]
    assert len(gaps) == 3 and max(gaps) < 0.5, gaps


@pytest.mark.parametrize("as_json", [False, True], ids=["table", "json"])
def test_activity_tail_prints_the_events_as_they_come(
    fleet_on_redis: Fleet, real_redis: redis.Redis, as_json: bool
) -> None:
    channel = fleet_on_redis.activity_channel

    def publish() -> None:
        channel.publish(_event(4))
        channel.publish(_event(5))

    publisher = _once_followed(real_redis, channel.name, publish)
    args = ["activity", "tail", "--timeout", "2", *(["--json"] if as_json else [])]
    result = CliRunner().invoke(cli, args, obj=fleet_on_redis)
    publisher.join()
    assert result.exit_code == 0, result.output
    # It says at once, on stderr, that it waits: a quiet fleet is not a dead command.
    assert result.stderr.startswith("waiting for the fleet's activity")
    lines = result.stdout.strip().splitlines()
    if as_json:
        assert [json.loads(line)["key"] for line in lines] == ["1:4:like", "1:5:like"]
    else:
        assert len(lines) == 2, result.output
        assert lines[0] == "18:20:04 UTC  social_viralhook_cp9dec liked post 4"


def test_the_feed_says_what_happened_in_words_from_the_registry() -> None:
    base = {"handle": "ux_flatflow", "status": "succeeded", "local_time": "09:31"}
    liked = {
        **base,
        "action": "like",
        "detail": {"post_id": "530", "title": "Air quality by hour", "author": "dataviz_tidy"},
    }
    assert (
        describe(liked) == "ux_flatflow liked 'Air quality by hour' by dataviz_tidy · 09:31 local"
    )
    commented = {
        **base,
        "action": "comment",
        "detail": {"post_id": "7", "title": "Cards", "author": "ux_two", "text": "So  clean."},
    }
    assert describe(commented) == (
        "ux_flatflow commented on 'Cards' by ux_two: \"So clean.\" · 09:31 local"
    )
    replied = {
        **base,
        "action": "reply",
        "detail": {"to": "maya", "title": "Cards", "text": "@maya thank you!"},
    }
    assert describe(replied) == (
        "ux_flatflow replied to maya on 'Cards': \"@maya thank you!\" · 09:31 local"
    )
    skipped = {
        **base,
        "action": "like",
        "status": "skipped",
        "detail": {"reason": "nothing to like"},
    }
    assert describe(skipped) == "ux_flatflow like skipped: nothing to like · 09:31 local"
    browsed = {**base, "action": "browse", "detail": {"thought": "x" * 200}, "local_time": None}
    assert describe(browsed).startswith("ux_flatflow browsed: xxx")
    assert describe(browsed).endswith("…") and len(describe(browsed)) < 120
    # A like whose post the page did not show still says which post.
    bare = {**base, "action": "like", "detail": {"post_id": "530"}}
    assert describe(bare) == "ux_flatflow liked post 530 · 09:31 local"

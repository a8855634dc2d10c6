"""Beat's heartbeat in Redis (fleet.infra.beats) and the line ``fleet status`` makes of it."""

from __future__ import annotations

import fakeredis
import redis

from fleet.infra import beats
from fleet.service.status import beats_line


def test_a_beat_that_published_lately_is_listed_until_its_heartbeat_expires() -> None:
    client = fakeredis.FakeRedis()
    first = beats.key_of("p:", "host-a", 4242)
    second = beats.key_of("p:", "host-b", 977)
    assert beats.beat_once(client, first, since_publish=0.5)
    assert beats.beat_once(client, second, since_publish=2.0)
    assert beats.beat_once(client, beats.key_of("other:", "host-c", 1), since_publish=0.1)
    assert beats.running(client, "p:") == ["host-a:4242", "host-b:977"]
    assert 0 < client.ttl(first) <= beats.FRESH  # gone soon after beat stops writing it
    client.delete(first)  # as when it expired
    assert beats.running(client, "p:") == ["host-b:977"]


def test_a_beat_that_has_not_published_lately_writes_no_heartbeat() -> None:
    """A beat stuck, or cut off from the broker, stops counting as publishing."""
    client = fakeredis.FakeRedis()
    key = beats.key_of("p:", "host-a", 1)
    assert not beats.beat_once(client, key, since_publish=beats.FRESH + 1)
    assert beats.running(client, "p:") == []


def test_a_heartbeat_to_a_redis_gone_is_skipped_not_raised() -> None:
    gone = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    assert not beats.beat_once(gone, "p:fleet:beat:h:1", since_publish=0.0)
    gone.close()


def test_the_status_line_says_one_beat_plainly_and_two_as_an_overlap() -> None:
    assert beats_line(["host-a:4242"]) == "1 (host-a:4242)"
    two = beats_line(["host-a:4242", "host-b:977"])
    assert two.startswith("2 at once (host-a:4242, host-b:977): one is enough")
    many = beats_line([f"h:{n}" for n in range(6)])
    assert "and 2 more" in many and "h:5" not in many

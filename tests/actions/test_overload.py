"""Overload (issue 31): a fleet far above the gallery's shared rate limit.

The limiter's refusals push back on the decider, which decides fewer actions while the
gallery is saturated; an action the limiter defers waits for it without a count of its
deferrals, and one that may have reached the gallery before is never dead-lettered for
overload. The chaos scenario of the same (``tests/chaos``) checks the books.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
import redis

from fleet import activities, agents
from fleet.actions import ActionKit
from fleet.actions.failures import settle
from fleet.actions.kit import Limits
from fleet.agents import Selection
from fleet.core.kinds import ActionKey
from fleet.errors import Deferred
from fleet.infra.limits import TokenBucket
from fleet.service import work
from fleet.service.root import Fleet
from fleet.settings import ActionSettings
from tests.conftest import active_agents

# The limiter says when to come back on the clock of the machine: so do the tests.
NOW = datetime.now(UTC).replace(microsecond=0)
LEASE = timedelta(minutes=5)


def _activity(fleet: Fleet, action: str = "like") -> tuple[int, str]:
    created = agents.create_agents(
        fleet.sessions, fleet.personas, agents.NewAgents("ux_ui_designer", 1), fleet_seed=7, now=NOW
    )
    agents.change_status(fleet.sessions, fleet.personas, "start", Selection(everyone=True), now=NOW)
    key = f"{created.first_id}:{int(NOW.timestamp())}:{action}"
    activity_id = activities.create_activity(
        fleet.sessions, created.first_id, action, NOW, key, now=NOW, lease=LEASE
    )
    return activity_id, key


def _kit(fleet: Fleet, at: datetime) -> ActionKit:
    return ActionKit(
        sessions=fleet.sessions,
        personas=fleet.personas,
        gallery=None,  # type: ignore[arg-type]
        writer=None,  # type: ignore[arg-type]
        settings=ActionSettings(backoff_base_seconds=1, max_deferrals=3),
        limits=Limits(LEASE, max_attempts=3),
        now=lambda: at,
    )


def _refusal(real_redis: redis.Redis, redis_keys: str) -> Deferred:
    """What the gallery's shared limit raises when it has no token for a call."""
    bucket = TokenBucket(real_redis, f"{redis_keys}:gallery", rate=0.5, burst=1)
    bucket.take()
    with pytest.raises(Deferred) as refused:
        bucket.take(what="gallery requests per second")
    return refused.value


def test_an_action_that_may_have_reached_the_gallery_waits_out_overload_and_is_not_dead(
    fleet: Fleet, real_redis: redis.Redis, redis_keys: str
) -> None:
    """Its first delivery was lost (a worker SIGKILLed): an effect may be on the gallery.
    The limiter then defers every delivery, far more often than ``max_deferrals``: it
    keeps waiting, pending, with no dead letter and no count of its waits."""
    _, key = _activity(fleet)
    refusal = _refusal(real_redis, redis_keys)
    lost = activities.claim(fleet.sessions, ActionKey.parse(key), now=NOW, lease=LEASE)
    assert isinstance(lost, activities.Claim)  # ... and its worker died: no verdict
    at = NOW + LEASE + timedelta(seconds=1)
    for deferral in range(30):
        claimed = activities.claim(fleet.sessions, ActionKey.parse(key), now=at, lease=LEASE)
        assert isinstance(claimed, activities.Claim)
        verdict = settle(
            _kit(fleet, at),
            ActionKey.parse(key),
            "fleet.like",
            refusal,
            deferrals=deferral,
            rng=random.Random(deferral),
        )
        assert verdict.status == "retry", (deferral, verdict)
        assert claimed.deliveries == 2, "a wait for the limiter is no delivery that counts"
        # The limit's wait (the bucket's, in real time: up to the cap when this module's
        # NOW lags the clock in a long run), and a backoff under its cap.
        cap = _kit(fleet, at).settings.backoff_max_seconds
        assert verdict.countdown <= 2 * cap, "the limit's wait, and a backoff, each capped"
        at += timedelta(seconds=30)  # a backlog's time between two deliveries
    assert at > NOW + 2 * LEASE, "it waited past a lease after its due time"
    row = activities.standing_of(fleet.sessions, ActionKey.parse(key))
    assert row is not None and (row.status, row.attempts, row.deliveries) == ("pending", 0, 1)
    assert activities.dead_letter_count(fleet.sessions) == 0


def test_an_action_that_never_reached_the_gallery_waits_a_lease_past_its_due_time_then_skips(
    fleet: Fleet, real_redis: redis.Redis, redis_keys: str
) -> None:
    activity_id, key = _activity(fleet)
    refusal = _refusal(real_redis, redis_keys)
    at, verdicts = NOW, []
    while at < NOW + 2 * LEASE:
        claimed = activities.claim(fleet.sessions, ActionKey.parse(key), now=at, lease=LEASE)
        if not isinstance(claimed, activities.Claim):
            break
        assert claimed.deliveries == 1
        verdict = settle(
            _kit(fleet, at), ActionKey.parse(key), "fleet.like", refusal, deferrals=len(verdicts)
        )
        verdicts.append(verdict.status)
        if verdict.status != "retry":
            break
        at += timedelta(seconds=60)
    assert len(verdicts) > 3, "more waits than max_deferrals"
    assert verdicts[-1] == "skipped" and set(verdicts[:-1]) == {"retry"}
    assert NOW + LEASE - timedelta(seconds=120) <= at <= NOW + LEASE
    ended = activities.list_activities(fleet.sessions, activities.ActivityFilter())[0]
    assert ended.id == activity_id and ended.status == "skipped"
    assert "the gallery stayed saturated" in (ended.error or "")


def test_a_saturated_gallery_limit_lowers_the_actions_decided(fleet_on_redis: Fleet) -> None:
    fleet = fleet_on_redis
    fleet.held_share.seconds = 0.0  # each batch reads the share: the limit saturates between two
    ids = active_agents(fleet, 40, interval=(60.0, 120.0))
    start = int(datetime.now(UTC).timestamp())

    def ticks(first: int) -> list[list[int]]:
        return [[agent_id, first + 10 * k] for agent_id in ids for k in range(5)]

    assert fleet.back_pressure().decide_share == fleet.decide_share() == 1.0
    free = work.decide(fleet, ticks(start))
    # Workers ask the gallery's shared limit for 4 times what it gives.
    limit = fleet.gallery_limit
    refused = sum(limit.try_take() > 0 for _ in range(int(4 * limit.burst)))
    assert refused >= 2 * limit.burst
    pressure = fleet.back_pressure()
    assert pressure.saturated and 0.6 <= pressure.refused_share <= 0.8
    assert pressure.decide_share == pytest.approx(1 - pressure.refused_share, abs=0.01)
    # The decider reads the share alone: the same as the whole back-pressure's.
    assert fleet.decide_share() == pytest.approx(pressure.decide_share, abs=0.01)
    pressed = work.decide(fleet, ticks(start + 1))
    assert len(free) >= 150
    assert 0.1 * len(free) <= len(pressed) <= 0.45 * len(free), (len(free), len(pressed))


def test_a_tick_batch_acts_on_the_share_a_batch_read_within_its_held_seconds(
    fleet_on_redis: Fleet,
) -> None:
    fleet = fleet_on_redis
    fleet.held_share.seconds = 3600.0  # no batch of the test is a second late
    reads: list[object] = []
    load = fleet.gallery_limit.load

    def counted() -> object:
        reads.append(None)
        return load()

    fleet.gallery_limit.load = counted  # type: ignore[method-assign]
    assert fleet.decide_share() == 1.0 and len(reads) == 1
    limit = fleet.gallery_limit
    refused = sum(limit.try_take() > 0 for _ in range(int(4 * limit.burst)))
    assert refused >= 2 * limit.burst and fleet.back_pressure().saturated
    # The batches of the same second act on the share read first: no round trip of theirs.
    assert fleet.decide_share() == 1.0 and len(reads) == 2  # back_pressure()'s own read
    fleet.held_share.seconds = 0.0  # the second has passed: the next batch reads the load
    assert fleet.decide_share() < 0.5 and len(reads) == 3

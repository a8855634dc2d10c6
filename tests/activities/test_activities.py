"""The activities context on Postgres and SQLite: every action ends exactly once."""

from __future__ import annotations

import itertools
import random
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from fleet import activities, agents
from fleet.actions import ActionKit, perform
from fleet.actions.failures import backoff_seconds, settle
from fleet.actions.kit import Limits, LiveFeed
from fleet.activities import ActivityFilter
from fleet.agents import Selection
from fleet.core.kinds import ActionKey
from fleet.db.models import AgentActivity
from fleet.errors import Deferred, InputError, PermanentError, TransientError
from fleet.service.root import Fleet
from fleet.settings import ActionSettings

NOW = datetime(2026, 11, 17, 15, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)
# After a first claim's lease ran out: a redelivery may claim again.
LATER = NOW + LEASE + timedelta(seconds=1)


def _activity(fleet: Fleet, action: str = "like") -> tuple[int, int, str]:
    created = agents.create_agents(
        fleet.sessions, fleet.personas, agents.NewAgents("ux_ui_designer", 1), fleet_seed=7, now=NOW
    )
    agents.change_status(fleet.sessions, fleet.personas, "start", Selection(everyone=True), now=NOW)
    key = f"{created.first_id}:{int(NOW.timestamp())}:{action}"
    activity_id = activities.create_activity(
        fleet.sessions, created.first_id, action, NOW, key, now=NOW, lease=LEASE
    )
    return created.first_id, activity_id, key


def test_an_activity_is_recorded_once_per_key(fleet: Fleet) -> None:
    agent_id, activity_id, key = _activity(fleet)
    again = activities.create_activity(
        fleet.sessions, agent_id, "like", NOW, key, now=NOW, lease=LEASE
    )
    assert again == activity_id


def test_a_finished_activity_cannot_be_claimed_or_finished_again(fleet: Fleet) -> None:
    agent_id, activity_id, key = _activity(fleet, "like")
    claim = activities.claim(fleet.sessions, ActionKey.parse(key), now=NOW, lease=LEASE)
    assert claim is not None and claim.actor.id == agent_id and claim.actor.active
    assert activities.finish(
        fleet.sessions,
        activity_id,
        "succeeded",
        now=NOW,
        result={"post_id": "p1"},
        engagement=("p1", "like"),
    )
    assert not activities.finish(
        fleet.sessions, activity_id, "succeeded", now=NOW, engagement=("p1", "like")
    )
    assert (
        activities.bury(
            fleet.sessions,
            activity_id,
            task="fleet.like",
            arguments={"key": key},
            error_type="X",
            error="x",
            now=NOW,
        )
        is None
    )
    assert activities.claim(fleet.sessions, ActionKey.parse(key), now=NOW, lease=LEASE) is None
    shown = agents.get_agent(fleet.sessions, str(agent_id))
    assert (shown.actions, shown.last_action) == ({"like": 1}, "like")
    with fleet.sessions() as session:
        assert activities.engaged_posts(session, agent_id, "like") == {"p1"}


def test_two_workers_finishing_one_activity_at_once_count_it_once(pg_fleet: Fleet) -> None:
    agent_id, activity_id, _ = _activity(pg_fleet, "post")
    results: list[bool] = []
    barrier = threading.Barrier(4)

    def finish() -> None:
        barrier.wait()
        results.append(activities.finish(pg_fleet.sessions, activity_id, "succeeded", now=NOW))

    threads = [threading.Thread(target=finish) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == [False, False, False, True]
    assert agents.get_agent(pg_fleet.sessions, str(agent_id)).actions == {"post": 1}


def test_progress_is_kept_for_the_retry(fleet: Fleet) -> None:
    _, activity_id, key = _activity(fleet, "post")
    activities.save_progress(
        fleet.sessions,
        activity_id,
        now=NOW,
        content={"title": "Soft light"},
        usage={"input_tokens": 10, "cost_usd": 0.01},
    )
    activities.save_progress(
        fleet.sessions,
        activity_id,
        now=NOW,
        content={"image_url": "http://x/1.png"},
        usage={"input_tokens": 5, "cost_usd": 0.02},
    )
    claim = activities.claim(fleet.sessions, ActionKey.parse(key), now=NOW, lease=LEASE)
    assert claim is not None
    assert claim.content == {"title": "Soft light", "image_url": "http://x/1.png"}
    row = activities.list_activities(fleet.sessions, ActivityFilter())[0]
    assert row.usage == {"input_tokens": 15, "cost_usd": pytest.approx(0.03)}


def test_progress_merges_key_by_key_and_leaves_an_ended_activity_alone(fleet: Fleet) -> None:
    """One statement a save on Postgres (jsonb's ``||``), the ORM's merge on SQLite: the
    same keeping either way. A content kept as JSON null merges into an empty object, a
    key saved again is replaced whole (a nested object too), the target is kept, and an
    activity no longer pending keeps what it had."""
    _, activity_id, key = _activity(fleet, "comment")
    with fleet.sessions.begin() as session:
        session.execute(
            update(AgentActivity).where(AgentActivity.id == activity_id).values(content=None)
        )
    first = {"text": "Lovely grain", "marks": {"a": 1, "b": None}}
    activities.save_progress(fleet.sessions, activity_id, now=NOW, content=first)
    activities.save_progress(
        fleet.sessions,
        activity_id,
        now=NOW,
        content={"marks": {"c": 2}, "commenting": True},
        target_post_id="42",
    )
    activities.save_progress(fleet.sessions, activity_id, now=NOW, usage={"input_tokens": 3})
    claim = activities.claim(fleet.sessions, ActionKey.parse(key), now=NOW, lease=LEASE)
    assert claim is not None
    assert claim.content == {"text": "Lovely grain", "marks": {"c": 2}, "commenting": True}
    assert claim.target_post_id == "42"
    assert activities.finish(fleet.sessions, activity_id, "skipped", now=NOW, reason="done")
    activities.save_progress(
        fleet.sessions, activity_id, now=NOW, content={"text": "late"}, target_post_id="7"
    )
    activities.save_progress(fleet.sessions, activity_id, now=NOW, usage={"input_tokens": 5})
    with fleet.sessions() as session:
        row = session.get_one(AgentActivity, activity_id)
        assert row.content == {"text": "Lovely grain", "marks": {"c": 2}, "commenting": True}
        assert (row.target_post_id, row.usage) == ("42", {"input_tokens": 3})


def test_a_dead_letter_is_replayed_with_the_same_key_once(fleet: Fleet) -> None:
    _, activity_id, key = _activity(fleet, "comment")
    letter = activities.bury(
        fleet.sessions,
        activity_id,
        task="fleet.comment",
        arguments={"key": key},
        error_type="PermanentError",
        error="422",
        now=NOW,
    )
    assert letter is not None
    assert [x.id for x in activities.list_dead_letters(fleet.sessions)] == [letter]
    task, arguments = activities.replay(fleet.sessions, letter, now=NOW, lease=LEASE)
    assert (task, arguments) == ("fleet.comment", {"key": key})
    assert activities.claim(fleet.sessions, ActionKey.parse(key), now=NOW, lease=LEASE) is not None
    with pytest.raises(InputError, match="already replayed"):
        activities.replay(fleet.sessions, letter, now=NOW, lease=LEASE)
    assert activities.list_dead_letters(fleet.sessions) == []
    assert activities.purge(fleet.sessions, [letter]) == 1


def test_pending_activities_past_their_lease_are_handed_back_once(fleet: Fleet) -> None:
    _, _, key = _activity(fleet, "browse")
    assert activities.expired_leases(fleet.sessions, now=NOW, lease=LEASE) == []
    later = NOW + LEASE + timedelta(seconds=1)
    expired = activities.expired_leases(fleet.sessions, now=later, lease=LEASE)
    assert [(k.text, k.action) for k in expired] == [(key, "browse")]
    assert activities.expired_leases(fleet.sessions, now=later, lease=LEASE) == [], "leased anew"


def test_an_action_nobody_took_is_sent_again_less_often_the_longer_it_waits(
    fleet: Fleet,
) -> None:
    """A message still waiting in a long queue looks to the sweeper like a lost one: each
    re-send's lease is as long as the action's wait (at most 8 leases), so a backlog of an
    hour sends it 4 times, where a fixed lease sent it 12 times (2,513 copies piled in one
    queue of a fault scenario). One a worker held and lost gets one lease."""
    _activity(fleet, "browse")
    now, sends = NOW, []
    while now < NOW + timedelta(hours=1):
        now += timedelta(seconds=10)
        if activities.expired_leases(fleet.sessions, now=now, lease=LEASE):
            sends.append(now - NOW)
    # Swept every 10 s: at about 5, 10, 20 and 40 minutes.
    minutes = [s.total_seconds() / 60 for s in sends]
    assert len(minutes) == 4 and 5 <= minutes[0] < 5.2, minutes
    assert all(2 * a <= b <= 2 * a + 1 for a, b in itertools.pairwise(minutes)), minutes

    held_key = _activity(fleet, "like")[2]
    assert (
        activities.claim(fleet.sessions, ActionKey.parse(held_key), now=now, lease=LEASE)
        is not None
    )
    gone = now + LEASE + timedelta(seconds=1)  # its worker died holding it
    assert [k.text for k in activities.expired_leases(fleet.sessions, now=gone, lease=LEASE)] == [
        held_key
    ]
    again = gone + LEASE + timedelta(seconds=1)
    assert held_key in [
        k.text for k in activities.expired_leases(fleet.sessions, now=again, lease=LEASE)
    ], "the one a worker held gets a plain lease, whatever its wait"


def test_a_fleet_hold_is_in_force_until_it_ends(fleet: Fleet) -> None:
    activities.hold_fleet(
        fleet.sessions, "FLEET_PAUSED", "paused", NOW + timedelta(seconds=30), now=NOW
    )
    with fleet.sessions() as session:
        hold = activities.active_hold(session, NOW)
        assert hold is not None and hold.kind == "FLEET_PAUSED"
        assert activities.active_hold(session, NOW + timedelta(seconds=31)) is None
    assert activities.release_holds(fleet.sessions) == 1


def _kit(fleet: Fleet, heard: list[dict[str, Any]] | None = None) -> ActionKit:
    return ActionKit(
        sessions=fleet.sessions,
        personas=fleet.personas,
        gallery=None,
        writer=None,  # type: ignore[arg-type]
        settings=ActionSettings(
            backoff_base_seconds=1, backoff_max_seconds=60, pause_probe_seconds=20, max_deferrals=3
        ),
        limits=Limits(LEASE, max_attempts=3),
        now=lambda: NOW,
        feed=LiveFeed(heard.append) if heard is not None else LiveFeed(),
    )


def test_transient_failures_retry_with_jittered_backoff_then_die(fleet: Fleet) -> None:
    _, _, key = _activity(fleet, "like")
    kit = _kit(fleet)
    first = settle(
        kit,
        ActionKey.parse(key),
        "fleet.like",
        TransientError("502 from the gallery"),
        deferrals=0,
        rng=random.Random(1),
    )
    second = settle(
        kit,
        ActionKey.parse(key),
        "fleet.like",
        TransientError("502 from the gallery"),
        deferrals=1,
        rng=random.Random(1),
    )
    assert (first.status, second.status) == ("retry", "retry")
    assert 0 <= first.countdown <= 1 and 0 <= second.countdown <= 2
    third = settle(
        kit,
        ActionKey.parse(key),
        "fleet.like",
        TransientError("502 from the gallery Bearer abcdefghij"),
        deferrals=2,
        secrets=("abcdefghij",),
    )
    assert third.status == "dead" and third.dead_letter_id is not None
    letter = activities.get_dead_letter(fleet.sessions, third.dead_letter_id)
    assert letter.attempts == 3 and "abcdefghij" not in letter.error
    assert (
        settle(kit, ActionKey.parse(key), "fleet.like", TransientError("again"), deferrals=3).status
        == "already-finished"
    )


def test_a_permanent_failure_dies_at_once(fleet: Fleet) -> None:
    _, _, key = _activity(fleet, "comment")
    verdict = settle(
        _kit(fleet),
        ActionKey.parse(key),
        "fleet.comment",
        PermanentError("422: content too long"),
        deferrals=0,
    )
    assert verdict.status == "dead"


def test_an_agent_budget_moves_the_agents_next_tick_without_burning_an_attempt(
    fleet: Fleet,
) -> None:
    agent_id, _, key = _activity(fleet, "post")
    reset = NOW + timedelta(hours=6)
    verdict = settle(
        _kit(fleet),
        ActionKey.parse(key),
        "fleet.post",
        Deferred("agent budget", reset, scope="agent", code="AGENT_DAILY_LIMIT_EXCEEDED"),
        deferrals=0,
    )
    assert verdict.status == "skipped" and "deferred" in verdict.reason
    assert agents.get_agent(fleet.sessions, str(agent_id)).next_tick_at == reset
    row = activities.list_activities(fleet.sessions, ActivityFilter())[0]
    assert (row.status, row.attempts) == ("skipped", 0)


def test_the_pause_holds_the_fleet_and_retries_after_the_probe_interval(fleet: Fleet) -> None:
    _, _, key = _activity(fleet, "like")
    kit = _kit(fleet)
    verdict = settle(
        kit,
        ActionKey.parse(key),
        "fleet.like",
        Deferred("paused", None, scope="fleet", code="FLEET_PAUSED"),
        deferrals=0,
    )
    assert verdict.status == "retry" and verdict.countdown == 20
    with fleet.sessions() as session:
        hold = activities.active_hold(session, NOW)
    assert hold is not None and hold.until == NOW + timedelta(seconds=20)
    assert (
        settle(
            kit,
            ActionKey.parse(key),
            "fleet.like",
            Deferred("paused", None, scope="fleet", code="FLEET_PAUSED"),
            deferrals=3,
        ).status
        == "skipped"
    )
    row = activities.list_activities(fleet.sessions, ActivityFilter())[0]
    assert row.attempts == 0


def test_the_ends_a_failure_makes_are_heard_on_the_live_feed(fleet: Fleet) -> None:
    heard: list[dict[str, Any]] = []
    kit = _kit(fleet, heard)
    commenter, _, doomed = _activity(fleet, "comment")
    poster, _, deferred = _activity(fleet, "post")
    later = Deferred("agent budget", NOW + timedelta(hours=6), scope="agent", code="AGENT_X")
    assert (
        settle(
            kit, ActionKey.parse(doomed), "fleet.comment", TransientError("502"), deferrals=0
        ).status
        == "retry"
    )
    assert heard == [], "a retry is not an end"
    dead = settle(
        kit, ActionKey.parse(doomed), "fleet.comment", PermanentError("422 too long"), deferrals=1
    )
    skipped = settle(kit, ActionKey.parse(deferred), "fleet.post", later, deferrals=0)
    again = settle(
        kit, ActionKey.parse(doomed), "fleet.comment", PermanentError("422 too long"), deferrals=2
    )
    assert (dead.status, skipped.status, again.status) == ("dead", "skipped", "already-finished")
    assert [(e["key"], e["action"], e["status"], e["agent_id"]) for e in heard] == [
        (doomed, "comment", "dead", commenter),
        (deferred, "post", "skipped", poster),
    ]
    assert heard[0]["handle"] == agents.get_agent(fleet.sessions, str(commenter)).handle
    assert heard[0]["detail"] == {
        "reason": "PermanentError: 422 too long",
        "dead_letter_id": dead.dead_letter_id,
    }
    assert heard[1]["detail"]["reason"].startswith("deferred: agent budget")


def test_an_action_whose_deliveries_never_end_is_dead_and_a_replay_counts_anew(
    fleet: Fleet,
) -> None:
    # A message that kills its worker each time: claimed again and again, never settled.
    _, _, key = _activity(fleet, "like")
    fifth = NOW + 5 * (LEASE + timedelta(seconds=1))
    kit = replace(
        _kit(fleet), limits=Limits(LEASE, max_attempts=3, max_deliveries=4), now=lambda: fifth
    )
    for delivery in range(1, 5):
        # Each delivery claims it once the last one's lease ran out (its worker died).
        at = NOW + delivery * (LEASE + timedelta(seconds=1))
        claimed = activities.claim(fleet.sessions, ActionKey.parse(key), now=at, lease=LEASE)
        assert isinstance(claimed, activities.Claim) and claimed.deliveries == delivery
    with pytest.raises(PermanentError, match="delivered 5 times, more than the 4") as refused:
        perform(kit, ActionKey.parse(key))
    verdict = settle(kit, ActionKey.parse(key), "fleet.like", refused.value, deferrals=0)
    assert verdict.status == "dead" and verdict.dead_letter_id is not None
    activities.replay(fleet.sessions, verdict.dead_letter_id, now=NOW, lease=LEASE)
    again = activities.claim(fleet.sessions, ActionKey.parse(key), now=NOW, lease=LEASE)
    assert isinstance(again, activities.Claim) and again.deliveries == 1


def test_backoff_is_full_jitter_under_a_cap() -> None:
    rng = random.Random(5)
    draws = [backoff_seconds(10, base=2, cap=60, rng=rng) for _ in range(500)]
    assert 0 <= min(draws) < 5 and 55 < max(draws) <= 60


def _second_like(fleet: Fleet, agent_id: int, seconds_later: int = 1) -> int:
    due = NOW + timedelta(seconds=seconds_later)
    return activities.create_activity(
        fleet.sessions,
        agent_id,
        "like",
        due,
        f"{agent_id}:{int(due.timestamp())}:like",
        now=NOW,
        lease=LEASE,
    )


def _keep(
    fleet: Fleet, activity_id: int, agent_id: int, choose: activities.Chooser, cap: int = 10
) -> activities.TargetKept:
    return activities.keep_target(
        fleet.sessions,
        activity_id,
        agent_id,
        "like",
        ["p1", "p2", "p3"],
        choose,
        cap_per_hour=cap,
        since=NOW - timedelta(hours=1),
        now=NOW,
    )


def _first_open(done: set[str], recent: dict[str, int]) -> str | None:
    return next((p for p in ("p1", "p2", "p3") if p not in done), None)


def _recording(seen: list[tuple[set[str], dict[str, int]]]) -> activities.Chooser:
    """``_first_open``, keeping what each call was told."""

    def choose(done: set[str], recent: dict[str, int]) -> str | None:
        seen.append((set(done), dict(recent)))
        return _first_open(done, recent)

    return choose


def test_the_first_target_kept_holds_for_every_delivery(fleet: Fleet) -> None:
    agent_id, activity_id, _ = _activity(fleet)
    assert _keep(fleet, activity_id, agent_id, lambda done, recent: "p2").post_id == "p2"
    # A second delivery choosing otherwise gets the first choice back.
    assert _keep(fleet, activity_id, agent_id, lambda done, recent: "p3").post_id == "p2"


def test_a_post_held_by_another_like_in_flight_is_not_chosen(fleet: Fleet) -> None:
    agent_id, first, _ = _activity(fleet)
    second = _second_like(fleet, agent_id)
    assert _keep(fleet, first, agent_id, _first_open).post_id == "p1"
    seen: list[set[str]] = []

    def choose(done: set[str], recent: dict[str, int]) -> str | None:
        seen.append(set(done))
        return _first_open(done, recent)

    assert _keep(fleet, second, agent_id, choose).post_id == "p2"
    # The choice (after a claim without one) reads the ledger first: p1 is taken.
    assert seen == [{"p1"}]


def test_two_likes_choosing_one_post_at_once_end_on_two_posts(fleet: Fleet) -> None:
    agent_id, first, _ = _activity(fleet)
    second = _second_like(fleet, agent_id)
    assert _keep(fleet, first, agent_id, _first_open).post_id == "p1"
    calls: list[set[str]] = []

    def stale(done: set[str], recent: dict[str, int]) -> str | None:
        # The first two choices act on a read from before the other like kept p1 (the
        # race).
        calls.append(set(done))
        return "p1" if len(calls) <= 2 else _first_open(done, recent)

    assert _keep(fleet, second, agent_id, stale).post_id == "p2"
    assert len(calls) == 3, "the database refused p1 twice and the choice was made again"


def test_a_post_already_engaged_with_is_done_and_counted(fleet: Fleet) -> None:
    agent_id, first, _ = _activity(fleet)
    assert activities.finish(fleet.sessions, first, "succeeded", now=NOW, engagement=("p1", "like"))
    second = _second_like(fleet, agent_id)
    seen: list[tuple[set[str], dict[str, int]]] = []
    assert _keep(fleet, second, agent_id, _recording(seen)).post_id == "p2"
    assert seen == [({"p1"}, {"p1": 1})]


def test_an_open_choice_is_kept_at_the_first_try(fleet: Fleet) -> None:
    agent_id, activity_id, _ = _activity(fleet)
    seen: list[tuple[set[str], dict[str, int]]] = []
    assert _keep(fleet, activity_id, agent_id, _recording(seen)).post_id == "p1"
    assert seen == [(set(), {})]


def test_a_post_at_the_cap_of_bot_engagements_is_not_kept(fleet: Fleet) -> None:
    for _ in range(2):  # two other agents liked p1 within the hour
        _, liked, _ = _activity(fleet)
        activities.finish(fleet.sessions, liked, "succeeded", now=NOW, engagement=("p1", "like"))
    agent_id, activity_id, _ = _activity(fleet)

    def under_cap(done: set[str], recent: dict[str, int]) -> str | None:
        return next((p for p in ("p1", "p2", "p3") if p not in done and recent.get(p, 0) < 2), None)

    assert _keep(fleet, activity_id, agent_id, under_cap, cap=2).post_id == "p2"


def test_with_nothing_open_a_kept_target_is_still_followed_and_an_ended_one_says_so(
    fleet: Fleet,
) -> None:
    agent_id, activity_id, _ = _activity(fleet)
    assert _keep(fleet, activity_id, agent_id, lambda done, recent: None) == activities.TargetKept(
        None, ended=False
    )
    _keep(fleet, activity_id, agent_id, lambda done, recent: "p3")
    assert _keep(fleet, activity_id, agent_id, lambda done, recent: None).post_id == "p3"
    activities.finish(fleet.sessions, activity_id, "skipped", now=NOW, reason="test")
    assert _keep(fleet, activity_id, agent_id, _first_open).ended


def test_a_replay_onto_a_post_another_like_holds_is_refused_and_changes_nothing(
    fleet: Fleet,
) -> None:
    agent_id, first, _ = _activity(fleet)
    _keep(fleet, first, agent_id, lambda done, recent: "p1")
    letter = activities.bury(
        fleet.sessions, first, task="fleet.like", arguments={}, error_type="X", error="x", now=NOW
    )
    assert letter is not None
    second = _second_like(fleet, agent_id)
    # A dead like holds its post (its effect may have reached the gallery): the second
    # like chooses another.
    assert _keep(fleet, second, agent_id, _first_open).post_id == "p2"
    # As a fleet before that rule may have left it: the second holds the dead one's post.
    with fleet.sessions.begin() as session:
        session.execute(
            update(AgentActivity).where(AgentActivity.id == second).values(target_post_id="p1")
        )
    with pytest.raises(InputError, match="taken by another action"):
        activities.replay(fleet.sessions, letter, now=NOW, lease=LEASE)
    assert activities.get_dead_letter(fleet.sessions, letter).replayed_at is None
    activities.finish(fleet.sessions, second, "succeeded", now=NOW, engagement=("p1", "like"))
    activities.replay(fleet.sessions, letter, now=NOW, lease=LEASE)


def _claim_choosing(
    fleet: Fleet,
    key: str,
    post: str,
    *,
    kind: str = "like",
    cap: int = 10,
    author: str = "ann",
    at: datetime = NOW,
) -> activities.Claim:
    first = activities.FirstChoice(post, author, kind, cap, since=NOW - timedelta(hours=1))
    claim = activities.claim(
        fleet.sessions, ActionKey.parse(key), now=at, lease=LEASE, first_choice=first
    )
    assert isinstance(claim, activities.Claim)
    return claim


def test_a_claim_keeps_an_open_first_choice_and_a_redelivery_keeps_it_too(fleet: Fleet) -> None:
    _, _, key = _activity(fleet)
    claim = _claim_choosing(fleet, key, "p1")
    assert (claim.target_post_id, claim.first_choice_refused) == ("p1", False)
    # Redelivered once the first holder went silent past its lease.
    again = _claim_choosing(fleet, key, "p2", at=LATER)
    assert (again.target_post_id, again.first_choice_refused) == ("p1", False)
    plain = activities.claim(fleet.sessions, ActionKey.parse(key), now=LATER + LEASE, lease=LEASE)
    assert isinstance(plain, activities.Claim) and plain.target_post_id == "p1"


def test_a_claim_does_not_keep_a_first_choice_the_agent_is_done_with_or_at_the_cap(
    fleet: Fleet,
) -> None:
    agent_id, liked, _ = _activity(fleet)
    activities.finish(fleet.sessions, liked, "succeeded", now=NOW, engagement=("p1", "like"))
    second = _second_like(fleet, agent_id)
    key = f"{agent_id}:{int((NOW + timedelta(seconds=1)).timestamp())}:like"
    claim = _claim_choosing(fleet, key, "p1")
    assert (claim.id, claim.target_post_id, claim.first_choice_refused) == (second, None, True)
    # p1 has one bot like within the hour: at a cap of one it is closed to everyone.
    _, _, other = _activity(fleet)
    assert _claim_choosing(fleet, other, "p1", cap=1).first_choice_refused
    # Claimed again once that claim's lease ran out.
    assert _claim_choosing(fleet, other, "p1", cap=2, at=LATER).target_post_id == "p1"


def test_a_claim_does_not_keep_a_first_choice_of_another_kind(fleet: Fleet) -> None:
    _, _, key = _activity(fleet, "comment")
    claim = _claim_choosing(fleet, key, "p1", kind="like")
    assert (claim.action, claim.target_post_id) == ("comment", None)


def test_a_claim_does_not_keep_a_first_choice_of_the_agents_own_post(fleet: Fleet) -> None:
    agent_id, _, key = _activity(fleet)
    handle = agents.get_agent(fleet.sessions, str(agent_id)).handle
    claim = _claim_choosing(fleet, key, "p1", author=handle)
    assert (claim.target_post_id, claim.first_choice_refused) == (None, True)
    assert _claim_choosing(fleet, key, "p1", author="ann", at=LATER).target_post_id == "p1"


def test_a_first_choice_another_like_in_flight_holds_leaves_the_claim_standing(
    fleet: Fleet,
) -> None:
    agent_id, first, first_key = _activity(fleet)
    second = _second_like(fleet, agent_id)
    assert _keep(fleet, second, agent_id, lambda done, recent: "p1").post_id == "p1"
    claim = _claim_choosing(fleet, first_key, "p1")
    assert (claim.id, claim.target_post_id, claim.first_choice_refused) == (first, None, True)
    # The choice after a refused claim reads the ledger at once: no guess of its own.
    seen: list[tuple[set[str], dict[str, int]]] = []
    kept = activities.keep_target(
        fleet.sessions,
        first,
        agent_id,
        "like",
        ["p1", "p2", "p3"],
        _recording(seen),
        cap_per_hour=10,
        since=NOW - timedelta(hours=1),
        now=NOW,
    )
    assert kept.post_id == "p2"
    assert seen == [({"p1"}, {})]


def test_admirers_of_many_agents_are_each_ones_ties_read_at_once(fleet: Fleet) -> None:
    # Ties (who engaged with an agent's newest posts, how often) of a batch's agents in
    # two statements: each agent's answer is what ``admirers`` reads for it alone.
    from fleet.db.models import AgentActivity, Engagement
    from tests.conftest import active_agents

    now = datetime.now(UTC)
    ann, bob, cat, dan = active_agents(fleet, 4, now=now)
    handles = {a: agents.get_agent(fleet.sessions, str(a)).handle for a in (ann, bob, cat, dan)}
    with fleet.sessions.begin() as session:
        for number, (owner, post) in enumerate([(ann, "a1"), (ann, "a2"), (bob, "b1")]):
            session.add(
                AgentActivity(
                    agent_id=owner,
                    action="post",
                    idempotency_key=f"{owner}:{number}:post",
                    due_at=now,
                    status="succeeded",
                    result={"post_id": post},
                )
            )
        # ann's replies: to a person (a tie), to an agent (counted through the ledger),
        # and one written before replies said whom they answered (ignored).
        for number, answered in enumerate(
            [{"to": "old"}, {"to": "bot", "to_person": False}, {"to": "maya", "to_person": True}]
        ):
            session.add(
                AgentActivity(
                    agent_id=ann,
                    action="reply",
                    idempotency_key=f"{ann}:{number}:reply",
                    due_at=now,
                    status="succeeded",
                    result={"post_id": "elsewhere", "in_reply_to": f"c{number}", **answered},
                )
            )
        # ann's posts: liked by cat twice (two posts), commented on by dan; bob's: by ann.
        for fan, post, kind in [
            (cat, "a1", "like"),
            (cat, "a2", "like"),
            (dan, "a1", "comment"),
            (ann, "b1", "like"),
            (bob, "elsewhere", "like"),
            # A reply's row names the comment answered: comment "a1" is not ann's post.
            (bob, "a1", "reply"),
        ]:
            session.add(
                Engagement(
                    agent_id=fan, target_kind="post", target_id=post, kind=kind, created_at=now
                )
            )
    together = activities.admirers_of(fleet.sessions, [ann, bob, cat])
    assert together == {
        ann: {handles[cat]: 2, handles[dan]: 1, "maya": 1},
        bob: {handles[ann]: 1},
        cat: {},
    }
    assert all(activities.admirers(fleet.sessions, a) == together[a] for a in together)
    newest_only = activities.admirers(fleet.sessions, ann, posts=1)
    assert newest_only == {handles[cat]: 1, "maya": 1}, "ann's newest post (a2) and reply"


def test_newest_posts_by_gives_each_friends_newest_post_of_the_window(fleet: Fleet) -> None:
    # A comment's look at its friends' posts: each agent's newest succeeded post due in
    # the window, by handle; an older post, a dead one, another kind, or an agent with
    # nothing in the window gives nothing.
    from fleet.db.models import AgentActivity
    from tests.conftest import active_agents

    now = datetime.now(UTC)
    ann, bob, cat = active_agents(fleet, 3, now=now)
    handles = {a: agents.get_agent(fleet.sessions, str(a)).handle for a in (ann, bob, cat)}
    rows = [
        (ann, "post", "succeeded", now - timedelta(hours=30), {"post_id": "a-old"}),
        (ann, "post", "succeeded", now - timedelta(hours=5), {"post_id": "a-mid"}),
        (ann, "post", "succeeded", now - timedelta(hours=1), {"post_id": "a-new"}),
        (ann, "post", "dead", now, {"post_id": "a-dead"}),
        (bob, "post", "succeeded", now - timedelta(hours=30), {"post_id": "b-old"}),
        (bob, "comment", "succeeded", now, {"post_id": "x", "comment_id": "c"}),
        (cat, "post", "succeeded", now - timedelta(hours=2), {}),
    ]
    with fleet.sessions.begin() as session:
        for number, (owner, action, status, due, result) in enumerate(rows):
            session.add(
                AgentActivity(
                    agent_id=owner,
                    action=action,
                    idempotency_key=f"{owner}:{number}:{action}",
                    due_at=due,
                    status=status,
                    result=result,
                )
            )
    since = now - timedelta(hours=24)
    found = activities.newest_posts_by(
        fleet.sessions, [handles[ann], handles[bob], handles[cat], "nobody"], since=since
    )
    assert found == {handles[ann]: "a-new"}
    assert activities.newest_posts_by(fleet.sessions, [], since=since) == {}
    older = activities.newest_posts_by(
        fleet.sessions, [handles[bob]], since=now - timedelta(days=2)
    )
    assert older == {handles[bob]: "b-old"}

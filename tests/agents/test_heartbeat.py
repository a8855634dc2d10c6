"""The dispatcher and the tick decision, on the real Postgres and on SQLite."""

from __future__ import annotations

import json
import threading
import time
from base64 import b64decode
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from fleet import agents
from fleet.agents import Selection
from fleet.agents.deciding import decide_ticks
from fleet.agents.heartbeat import DispatchLimits, Tick, dispatch_due
from fleet.core.kinds import ACTION_NAMES
from fleet.core.persona import Quotas
from fleet.core.timeline import simulate
from fleet.db.models import Agent, AgentActivity
from fleet.infra.persona_files import PersonaCatalogue
from fleet.infra.queue import create_app, send_ticks
from fleet.service.root import Fleet
from tests.conftest import active_agents

NOW = datetime(2026, 11, 17, 15, 0, tzinfo=UTC)  # Tuesday: 10:00 in New York, 07:00 in LA
LEASE = timedelta(minutes=5)
ONLY_POSTS = {name: 0 for name in ACTION_NAMES} | {"post": 1}


def _fleet_of(
    fleet: Fleet, persona: str, count: int, interval: tuple[float, float] | None = None
) -> list[int]:
    return active_agents(fleet, count, persona, now=NOW, interval=interval)


def _make_due(fleet: Fleet, at: datetime) -> None:
    with fleet.sessions.begin() as session:
        session.execute(update(Agent).values(next_tick_at=at))


def _next_ticks(fleet: Fleet) -> dict[int, datetime]:
    with fleet.sessions() as session:
        return {
            row.id: row.next_tick_at
            for row in session.execute(select(Agent.id, Agent.next_tick_at))
        }


def _dispatch(fleet: Fleet, now: datetime, batch: int = 100) -> list[Tick]:
    sent: list[Tick] = []
    dispatch_due(
        fleet.sessions,
        fleet.personas,
        sent.extend,
        now=now.timestamp(),
        limits=DispatchLimits(batch_size=batch, max_batches=1000),
    )
    return sent


def test_due_agents_get_one_tick_each_and_a_later_next_tick(fleet: Fleet) -> None:
    ids = _fleet_of(fleet, "product_photographer", 30)
    due = NOW + timedelta(seconds=10)
    _make_due(fleet, due)
    assert _dispatch(fleet, NOW) == [], "nothing is due before its time"
    sent = _dispatch(fleet, due + timedelta(seconds=1), batch=7)
    second = int(due.timestamp())
    # Each tick opens a session (a session's next action is seconds later, not yet due).
    assert sorted(sent) == [(agent_id, second, second, 0) for agent_id in ids]
    after = _next_ticks(fleet)
    assert all(tick > due for tick in after.values())
    assert _dispatch(fleet, due + timedelta(seconds=1)) == [], "a tick is dispatched once"


def test_a_lead_claims_the_agents_due_within_it_with_their_own_due_second(
    fleet: Fleet,
) -> None:
    soon, later = _fleet_of(fleet, "product_photographer", 2)
    with fleet.sessions.begin() as session:
        for agent_id, seconds in ((soon, 1.5), (later, 3.5)):
            at = NOW + timedelta(seconds=seconds)
            session.execute(update(Agent).where(Agent.id == agent_id).values(next_tick_at=at))
    sent: list[Tick] = []
    report = dispatch_due(
        fleet.sessions,
        fleet.personas,
        sent.extend,
        now=NOW.timestamp(),
        limits=DispatchLimits(batch_size=100, max_batches=10, lead=2.0),
    )
    second = int(NOW.timestamp()) + 1
    # The tick carries its due second (the worker holds it until then); not yet due, it
    # lagged nothing. The agent due beyond the lead waits for a later cycle.
    assert sent == [(soon, second, second, 0)]
    assert report.lags == [0.0]
    assert _next_ticks(fleet)[soon] > NOW + timedelta(seconds=2)


def test_ticks_not_yet_due_are_sent_to_be_held_until_their_second(
    fleet_on_redis: Fleet, redis_keys: str
) -> None:
    now = time.time()
    due, soon, later = int(now) - 3, int(now) + 1, int(now) + 2
    ticks = [(n, due, due, 0) for n in range(3)] + [(9, soon, soon, 0), (8, later, later, 1)]
    send_ticks(create_app(fleet_on_redis.settings), ticks, batch_size=2, now=now)
    late = time.time() - now  # how long after ``now`` the sends went out
    raw = fleet_on_redis.redis.lrange(f"{redis_keys}:ticks", 0, -1)
    sent = [json.loads(m) for m in reversed(raw)]
    # Those due go at once, in batches of the setting; each later second in a message of
    # its own, with the countdown to that second (Celery's eta).
    assert [m["headers"]["task"] for m in sent] == ["fleet.tick_batch"] * 4
    # Flower and the logs show how many ticks a message holds, not a repr of them all.
    assert [m["headers"]["argsrepr"] for m in sent][:2] == [
        f"(2 ticks: {ticks[0]!r} ... {ticks[1]!r})",
        f"(1 tick: {ticks[2]!r})",
    ]
    assert [json.loads(b64decode(m["body"]))[0][0] for m in sent] == [
        [list(t) for t in ticks[:2]],
        [list(ticks[2])],
        [list(ticks[3])],
        [list(ticks[4])],
    ]
    etas = [m["headers"]["eta"] for m in sent]
    assert etas[:2] == [None, None]
    held = [datetime.fromisoformat(eta).timestamp() for eta in etas[2:]]
    # The countdown runs from the send, a moment after ``now``: each eta is its second,
    # late by at most the time the sends took (on a loaded machine, more than 0.5 s).
    for eta, second in zip(held, (soon, later), strict=True):
        assert second - 0.01 <= eta <= second + late + 0.01, (eta, second, late)


def test_paused_and_deleted_agents_are_not_dispatched(fleet: Fleet) -> None:
    ids = _fleet_of(fleet, "ux_ui_designer", 3)
    agents.change_status(
        fleet.sessions, fleet.personas, "pause", Selection(refs=(str(ids[0]),)), now=NOW
    )
    agents.delete_agents(fleet.sessions, fleet.personas, Selection(refs=(str(ids[1]),)), now=NOW)
    with fleet.sessions.begin() as session:
        session.execute(update(Agent).values(next_tick_at=NOW))
    assert [tick[0] for tick in _dispatch(fleet, NOW + timedelta(seconds=1))] == [ids[2]]


def test_an_agent_far_behind_gets_one_tick_then_its_normal_rhythm(fleet: Fleet) -> None:
    (agent_id,) = _fleet_of(fleet, "social_media_marketer", 1)
    _make_due(fleet, NOW - timedelta(days=1))
    sent = _dispatch(fleet, NOW)
    assert len(sent) == 1
    following = _next_ticks(fleet)[agent_id]
    # Counted from now, not from a day ago: the session its rhythm opens after now.
    seed = agents.get_agent(fleet.sessions, str(agent_id)).seed
    opening = fleet.personas.cadences["social_media_marketer"].rhythm(seed).start(NOW.timestamp())
    assert following.timestamp() == pytest.approx(opening.due, abs=1e-5) and following > NOW
    assert _dispatch(fleet, NOW + timedelta(seconds=1)) == []


def test_a_lost_tick_does_not_stall_the_agent(fleet: Fleet) -> None:
    (agent_id,) = _fleet_of(fleet, "ai_art_enthusiast", 1, interval=(5, 5))
    first = _next_ticks(fleet)[agent_id]
    lost = _dispatch(fleet, first)  # published, then lost by the broker: never decided
    assert len(lost) == 1
    second = _next_ticks(fleet)[agent_id]
    assert second > first
    assert [t[0] for t in _dispatch(fleet, second)] == [agent_id]


def test_two_dispatchers_at_once_never_emit_the_same_tick_twice(pg_fleet: Fleet) -> None:
    fleet = pg_fleet
    _fleet_of(fleet, "social_media_marketer", 10_000)
    _make_due(fleet, NOW)
    results: list[list[Tick]] = [[], []]
    barrier = threading.Barrier(2)

    def run(slot: int) -> None:
        barrier.wait()
        dispatch_due(
            fleet.sessions,
            fleet.personas,
            results[slot].extend,
            now=NOW.timestamp(),
            limits=DispatchLimits(batch_size=250, max_batches=1000),
        )

    threads = [threading.Thread(target=run, args=(slot,)) for slot in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    every = results[0] + results[1]
    assert len(every) == 10_000
    assert len(set(every)) == 10_000
    assert results[0] and results[1], "both dispatchers took a share"


def test_a_batch_whose_write_fails_stops_the_cycle_and_the_next_claimed_stays_due(
    pg_fleet: Fleet,
) -> None:
    """On Postgres a batch is written (update, commit, publish) while the next is claimed:
    when the second batch's publish fails after its commit, the cycle raises, the third
    batch, claimed meanwhile, is rolled back (its agents still due) and nothing is sent
    twice when the next cycle takes them."""
    fleet = pg_fleet
    _fleet_of(fleet, "social_media_marketer", 1_000)
    _make_due(fleet, NOW)
    sent: list[Tick] = []
    writers: set[str] = set()

    def publish(ticks: list[Tick]) -> None:
        writers.add(threading.current_thread().name)
        if len(sent) == 250:
            raise ConnectionError("broker gone")
        sent.extend(ticks)

    with pytest.raises(ConnectionError, match="broker gone"):
        dispatch_due(
            fleet.sessions,
            fleet.personas,
            publish,
            now=NOW.timestamp(),
            limits=DispatchLimits(batch_size=250, max_batches=1000),
        )
    assert len(sent) == 250
    assert all(name.startswith("fleet-dispatch") for name in writers), writers
    advanced = sum(1 for due in _next_ticks(fleet).values() if due > NOW)
    assert advanced == 500  # the first two batches committed; the third was rolled back
    rest = _dispatch(fleet, NOW, batch=250)
    assert len({tick[0] for tick in rest}) == 500
    assert not {tick[0] for tick in rest} & {tick[0] for tick in sent}


def _activities(fleet: Fleet) -> list[AgentActivity]:
    with fleet.sessions() as session:
        return list(session.scalars(select(AgentActivity).order_by(AgentActivity.id)))


def test_a_tick_decides_an_action_and_records_it_once(fleet: Fleet) -> None:
    ids = _fleet_of(fleet, "indie_game_dev", 5)
    due = int(NOW.timestamp())
    ticks = [(agent_id, due) for agent_id in ids]
    first = decide_ticks(fleet.sessions, fleet.personas, ticks, now=NOW, lease=LEASE)
    assert [d.new for d in first] == [True] * 5
    assert all(d.key.text == f"{d.key.agent_id}:{due}:{d.key.action}" for d in first)
    again = decide_ticks(fleet.sessions, fleet.personas, ticks, now=NOW, lease=LEASE)
    assert [(d.key.action, d.activity_id, d.new) for d in again] == [
        (d.key.action, d.activity_id, False) for d in first
    ]
    rows = _activities(fleet)
    assert len(rows) == 5 and {r.status for r in rows} == {"pending"}
    for agent_id in ids:
        shown = agents.get_agent(fleet.sessions, str(agent_id))
        assert shown.ticks == 1
        assert shown.last_tick_at == datetime.fromtimestamp(due, UTC)
        assert shown.current_action in {"post", "comment", "like", "follow", "browse"}


def test_a_tick_for_an_agent_that_is_no_longer_active_decides_nothing(fleet: Fleet) -> None:
    (agent_id,) = _fleet_of(fleet, "ux_ui_designer", 1)
    agents.change_status(
        fleet.sessions, fleet.personas, "pause", Selection(refs=(str(agent_id),)), now=NOW
    )
    assert (
        decide_ticks(
            fleet.sessions, fleet.personas, [(agent_id, 1), (424242, 1)], now=NOW, lease=LEASE
        )
        == []
    )
    assert _activities(fleet) == []


def test_decisions_follow_the_normalised_weights(fleet: Fleet) -> None:
    ids = _fleet_of(fleet, "product_photographer", 200)
    ticks = [(agent_id, int(NOW.timestamp()) + k) for agent_id in ids for k in range(10)]
    decisions = decide_ticks(fleet.sessions, fleet.personas, ticks, now=NOW, lease=LEASE)
    counts = Counter(d.key.action for d in decisions)
    expected = fleet.personas.get("product_photographer").weights.normalised()
    for action, share in expected.items():
        assert abs(counts[action.value] / len(decisions) - share) < 0.04
    with fleet.sessions() as session:
        assert session.scalar(select(func.sum(Agent.ticks_count))) == 2000


def test_a_fleet_hold_stops_dispatch_until_it_ends(fleet: Fleet) -> None:
    from fleet.activities import hold_fleet

    _fleet_of(fleet, "ux_ui_designer", 3)
    _make_due(fleet, NOW)
    hold_fleet(
        fleet.sessions, "paused", "the gallery is paused", NOW + timedelta(minutes=1), now=NOW
    )
    held: list[Tick] = []
    report = dispatch_due(
        fleet.sessions,
        fleet.personas,
        held.extend,
        now=(NOW + timedelta(seconds=30)).timestamp(),
        limits=DispatchLimits(batch_size=100, max_batches=10),
    )
    assert held == [] and report.held is not None and report.held.kind == "paused"
    # After the hold every agent opens its session (and acts on in it, what is due by now).
    after = _dispatch(fleet, NOW + timedelta(minutes=1, seconds=1))
    assert len({tick[0] for tick in after}) == 3
    assert sum(1 for tick in after if tick[3] == 0) == 3


# -- sessions and daily quotas (issue 16) -------------------------------------------------


def _dispatch_until(fleet: Fleet, end: datetime, step: timedelta, catch_up: float) -> list[Tick]:
    sent: list[Tick] = []
    at = NOW
    while at < end:
        at = min(end, at + step)
        dispatch_due(
            fleet.sessions,
            fleet.personas,
            sent.extend,
            now=at.timestamp(),
            limits=DispatchLimits(batch_size=100, max_batches=1000, catch_up=catch_up),
        )
    return sent


@pytest.mark.parametrize("step_minutes", [1, 30])
def test_the_dispatcher_follows_each_agents_pure_timeline_whatever_its_step(
    fleet: Fleet, step_minutes: int
) -> None:
    ids = _fleet_of(fleet, "social_media_marketer", 4)
    end = NOW + timedelta(hours=6)
    sent = _dispatch_until(fleet, end, timedelta(minutes=step_minutes), catch_up=3600)
    persona = fleet.personas.get("social_media_marketer")
    for agent_id in ids:
        seed = agents.get_agent(fleet.sessions, str(agent_id)).seed
        rhythm = fleet.personas.cadences["social_media_marketer"].rhythm(seed)
        expected = [
            (agent_id, t.due, t.opened, t.index)
            for t in simulate(persona, rhythm, NOW.timestamp(), end.timestamp())
        ]
        mine = [tick for tick in sent if tick[0] == agent_id]
        assert mine == expected
    # Several actions per session, several sessions: the whole run is not one session.
    assert any(tick[3] > 0 for tick in sent)
    assert len({(tick[0], tick[2]) for tick in sent}) > len(ids)


def test_a_session_opens_with_a_look_at_the_feed_and_posts_at_most_once(fleet: Fleet) -> None:
    ids = _fleet_of(fleet, "ai_art_enthusiast", 30)
    sent = _dispatch_until(fleet, NOW + timedelta(hours=12), timedelta(minutes=10), 3600)
    decisions = decide_ticks(fleet.sessions, fleet.personas, sent, now=NOW, lease=LEASE)
    assert len(decisions) == len(sent) > len(ids)
    by_tick = {(d.key.agent_id, d.key.due_at): d.key.action for d in decisions}
    posts: Counter[tuple[int, int]] = Counter()
    for agent_id, due, opened, index in sent:
        if index == 0:
            assert by_tick[(agent_id, due)] == "browse"
        if by_tick[(agent_id, due)] == "post":
            posts[(agent_id, opened)] += 1
    assert posts and max(posts.values()) == 1


def _poster(fleet: Fleet) -> int:
    """A product photographer whose every steady tick draws a post."""
    (agent_id,) = _fleet_of(fleet, "product_photographer", 1)
    with fleet.sessions.begin() as session:
        session.execute(update(Agent).values(weights=ONLY_POSTS))
    return agent_id


def _strict(fleet: Fleet, quotas: Quotas) -> PersonaCatalogue:
    """The fleet's personas with product_photographer's quotas replaced."""
    personas = [
        p.model_copy(update={"quotas": quotas}) if p.slug == "product_photographer" else p
        for p in fleet.personas
    ]
    return PersonaCatalogue(personas)


def test_a_decision_past_its_quota_falls_to_the_next_kind_and_says_why(fleet: Fleet) -> None:
    agent_id = _poster(fleet)
    catalogue = _strict(fleet, Quotas(post=2, comment=1, reply=0, like=0, follow=0, browse=1))
    due = int(NOW.timestamp())
    ticks = [(agent_id, due + k) for k in range(6)]  # steady ticks: each draws a post
    decided = decide_ticks(fleet.sessions, catalogue, ticks, now=NOW, lease=LEASE)
    assert [d.key.action for d in decided] == ["post", "post", "comment", "browse", "post", "post"]
    assert [d.new for d in decided] == [True, True, True, True, False, False]
    rows = _activities(fleet)
    assert [r.status for r in rows] == ["pending"] * 4 + ["skipped"] * 2
    assert rows[2].content == {
        "degraded_from": "post",
        "quota": "daily quota: 2 post(s) already today",
    }
    assert rows[4].error == "daily quota: 2 post(s) already today" and rows[4].finished_at
    # Counted per local day: the next day in New York starts afresh.
    tomorrow = int((NOW + timedelta(days=1)).timestamp())
    again = decide_ticks(fleet.sessions, catalogue, [(agent_id, tomorrow)], now=NOW, lease=LEASE)
    assert [d.key.action for d in again] == ["post"]


def test_a_redelivered_tick_keeps_its_decision_after_the_quota_is_spent(fleet: Fleet) -> None:
    agent_id = _poster(fleet)
    catalogue = _strict(fleet, Quotas(post=1))
    tick = [(agent_id, int(NOW.timestamp()))]
    first = decide_ticks(fleet.sessions, catalogue, tick, now=NOW, lease=LEASE)
    again = decide_ticks(fleet.sessions, catalogue, tick, now=NOW, lease=LEASE)
    assert [d.key.action for d in first] == ["post"] and first[0].new
    assert [(d.key.action, d.key.text, d.new) for d in again] == [
        ("post", first[0].key.text, False)
    ]
    assert len(_activities(fleet)) == 1
    assert agents.get_agent(fleet.sessions, str(agent_id)).ticks == 1


def test_a_tick_redelivered_after_an_earlier_one_was_decided_late_keeps_its_decision(
    fleet: Fleet,
) -> None:
    # The later tick decided first, then the earlier one (another worker's message, late):
    # the agent's latest tick stays the later one, whose redelivery is read back.
    agent_id = _poster(fleet)
    catalogue = _strict(fleet, Quotas(post=1))
    due = int(NOW.timestamp())
    later = decide_ticks(fleet.sessions, catalogue, [(agent_id, due + 5)], now=NOW, lease=LEASE)
    decide_ticks(fleet.sessions, catalogue, [(agent_id, due)], now=NOW, lease=LEASE)
    again = decide_ticks(fleet.sessions, catalogue, [(agent_id, due + 5)], now=NOW, lease=LEASE)
    assert [(d.key.text, d.new) for d in again] == [(later[0].key.text, False)]
    assert len(_activities(fleet)) == 2
    assert agents.get_agent(fleet.sessions, str(agent_id)).ticks == 2


def test_ticks_of_one_agent_decided_at_once_never_pass_its_quota(pg_fleet: Fleet) -> None:
    fleet = pg_fleet
    agent_id = _poster(fleet)
    catalogue = _strict(fleet, Quotas(post=3))
    due = int(NOW.timestamp())
    barrier = threading.Barrier(8)

    def decide(k: int) -> None:
        barrier.wait()
        decide_ticks(
            fleet.sessions,
            catalogue,
            [(agent_id, due + 10 * k + j) for j in range(3)],
            now=NOW,
            lease=LEASE,
        )

    threads = [threading.Thread(target=decide, args=(k,)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    actions = Counter(r.action for r in _activities(fleet))
    assert actions["post"] == 3 and sum(actions.values()) == 24


# -- one bad agent does not stop the dispatcher (issue 17, point 3) -------------------------


def test_an_agent_the_clock_cannot_advance_is_set_aside_and_the_rest_dispatched(
    fleet: Fleet,
) -> None:
    ids = _fleet_of(fleet, "ux_ui_designer", 4)
    gone, endless, forever = ids[0], ids[1], ids[2]
    _make_due(fleet, NOW)
    with fleet.sessions.begin() as session:
        # A persona file removed; intervals no command accepts, written before it checked.
        session.execute(update(Agent).where(Agent.id == gone).values(persona="vanished"))
        session.execute(
            update(Agent).where(Agent.id == endless).values(interval_min=1e20, interval_max=1e20)
        )
        session.execute(
            update(Agent)
            .where(Agent.id == forever)
            .values(interval_min=float("inf"), interval_max=float("inf"))
        )
    sent: list[Tick] = []
    report = dispatch_due(
        fleet.sessions,
        fleet.personas,
        sent.extend,
        now=(NOW + timedelta(seconds=1)).timestamp(),
        limits=DispatchLimits(batch_size=100, max_batches=10),
    )
    # The healthy agent ticks; the bad ones are kept out with their reason.
    assert {tick[0] for tick in sent} == {ids[3]}
    assert sorted(agent_id for agent_id, _ in report.set_aside) == [gone, endless, forever]
    shown = {agent_id: agents.get_agent(fleet.sessions, str(agent_id)) for agent_id in ids}
    assert shown[gone].status == "error" and "unknown persona 'vanished'" in str(shown[gone].error)
    assert "weeks ahead" in str(shown[endless].error)
    assert "positive and finite" in str(shown[forever].error)
    assert all(shown[a].next_tick_at is None for a in (gone, endless, forever))
    assert shown[ids[3]].status == "active" and shown[ids[3]].error is None
    # Set aside, not stuck: the next cycle claims only the healthy agent's next tick.
    later: list[Tick] = []
    dispatch_due(
        fleet.sessions,
        fleet.personas,
        later.extend,
        now=(NOW + timedelta(days=2)).timestamp(),
        limits=DispatchLimits(batch_size=100, max_batches=10),
    )
    assert {tick[0] for tick in later} == {ids[3]}


def test_starting_sets_aside_an_agent_it_cannot_start_and_starts_the_others(
    fleet: Fleet,
) -> None:
    ids = _fleet_of(fleet, "ux_ui_designer", 3)
    agents.change_status(fleet.sessions, fleet.personas, "stop", Selection(everyone=True), now=NOW)
    with fleet.sessions.begin() as session:
        session.execute(update(Agent).where(Agent.id == ids[0]).values(persona="vanished"))
    result = agents.change_status(
        fleet.sessions, fleet.personas, "start", Selection(everyone=True), now=NOW
    )
    assert (result.changed, result.unchanged) == (2, 0)
    assert len(result.errors) == 1 and result.errors[0].startswith(f"agent {ids[0]} cannot be")
    assert agents.get_agent(fleet.sessions, str(ids[0])).status == "error"
    # Once its persona is back, start puts it back to work and clears the reason.
    with fleet.sessions.begin() as session:
        session.execute(update(Agent).where(Agent.id == ids[0]).values(persona="ux_ui_designer"))
    again = agents.change_status(
        fleet.sessions, fleet.personas, "start", Selection(refs=(str(ids[0]),)), now=NOW
    )
    assert again.changed == 1 and not again.errors
    back = agents.get_agent(fleet.sessions, str(ids[0]))
    assert back.status == "active" and back.error is None and back.next_tick_at is not None


def test_only_a_speaking_session_s_opening_look_is_decided_to_think(fleet: Fleet) -> None:
    """Each opening look (index 0) is a browse; the dispatcher marks those whose session
    says nothing, and every later look, ``thinks: false``: their browse asks no LLM."""
    from fleet.agents.deciding import rhythm_of

    ids = _fleet_of(fleet, "ai_art_enthusiast", 30)
    opened = int(NOW.timestamp())
    ticks = [(agent_id, opened, opened, 0) for agent_id in ids]
    ticks += [(agent_id, opened + 30, opened, 1) for agent_id in ids]
    decide_ticks(fleet.sessions, fleet.personas, ticks, now=NOW, lease=LEASE)
    with fleet.sessions() as session:
        rows = {a.id: a for a in session.scalars(select(Agent).where(Agent.id.in_(ids)))}
    marks: Counter[bool] = Counter()
    for activity in _activities(fleet):
        if activity.action != "browse":
            continue
        row = rows[activity.agent_id]
        rhythm = rhythm_of(fleet.personas.cadences[row.persona], row)
        index = 0 if int(activity.due_at.timestamp()) == opened else 1
        thinks = (activity.content or {}).get("thinks", True)
        assert thinks == rhythm.thinks(opened, index)
        marks[thinks] += 1
    assert marks[True] > 0 and marks[False] > 0


def test_a_session_of_an_agent_that_spoke_lately_opens_its_notifications(fleet: Fleet) -> None:
    from fleet import activities
    from fleet.core.sessions import answer_index, session_action

    spoke, quiet = _fleet_of(fleet, "indie_game_dev", 2)
    key = f"{spoke}:{int(NOW.timestamp()) - 3600}:comment"
    made = activities.create_activity(
        fleet.sessions, spoke, "comment", NOW - timedelta(hours=1), key, now=NOW, lease=LEASE
    )
    activities.finish(fleet.sessions, made, "succeeded", now=NOW, result={"post_id": "p1"})
    weights = fleet.personas.get("indie_game_dev").weights
    seeds = {a: agents.get_agent(fleet.sessions, str(a)).seed for a in (spoke, quiet)}
    opened = int(NOW.timestamp()) + 60
    ticks = [(a, opened + 5, opened, answer_index(weights, seeds[a], opened)) for a in seeds]
    decided = {
        d.key.agent_id: d
        for d in decide_ticks(fleet.sessions, fleet.personas, ticks, now=NOW, lease=LEASE)
    }
    assert decided[spoke].key.action == "reply"
    rows = {r.agent_id: r for r in _activities(fleet) if r.due_at.timestamp() == opened + 5}
    # The session's reply: it opened its notifications; it is of the session (its plan).
    assert rows[spoke].content == {"notifications": True, "session": opened}
    at = answer_index(weights, seeds[quiet], opened)
    assert decided[quiet].key.action == session_action(weights, seeds[quiet], opened, at).value

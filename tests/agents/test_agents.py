"""The agents context on the real Postgres and on SQLite: commands write, queries read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from fleet import agents
from fleet.agents import AgentFilter, Selection
from fleet.core.kinds import ACTION_NAMES
from fleet.core.names import identity
from fleet.db.models import Agent
from fleet.errors import InputError, UnknownAgent, UnknownPersona
from fleet.service.root import Fleet

NOW = datetime(2026, 11, 17, 15, 0, tzinfo=UTC)  # a Tuesday


def _create(
    fleet: Fleet, persona: str = "ux_ui_designer", count: int = 3, **extra: object
) -> agents.Created:
    return agents.create_agents(
        fleet.sessions,
        fleet.personas,
        agents.NewAgents(persona, count, **extra),  # type: ignore[arg-type]
        fleet_seed=fleet.settings.seed,
        now=NOW,
    )


def _total(fleet: Fleet) -> int:
    with fleet.sessions() as session:
        return session.scalar(select(func.count()).select_from(Agent)) or 0


def test_created_agents_have_the_deterministic_names_of_their_index(fleet: Fleet) -> None:
    created = _create(fleet, count=5)
    assert (created.count, created.first_index, created.last_index) == (5, 0, 4)
    listed = agents.list_agents(fleet.sessions, AgentFilter(persona="ux_ui_designer"))
    persona = fleet.personas.get("ux_ui_designer")
    assert [a.handle for a in listed] == [identity(persona, 7, i).handle for i in range(5)]
    assert all(a.status == "created" and a.next_tick_at is None for a in listed)


def test_creating_more_agents_later_continues_after_the_existing_ones(fleet: Fleet) -> None:
    _create(fleet, count=100)
    later = _create(fleet, count=20)
    assert (later.first_index, later.last_index) == (100, 119)
    handles = [a.handle for a in agents.list_agents(fleet.sessions, AgentFilter(limit=500))]
    assert len(handles) == len(set(handles)) == 120


@pytest.mark.parametrize("count", [0, -5, 1_000_001])
def test_a_bad_count_is_refused_and_writes_nothing(fleet: Fleet, count: int) -> None:
    with pytest.raises(InputError, match="count must be between 1 and"):
        _create(fleet, count=count)
    assert _total(fleet) == 0


def test_an_unknown_persona_is_refused_and_writes_nothing(fleet: Fleet) -> None:
    with pytest.raises(UnknownPersona, match="known personas: ai_art_enthusiast"):
        _create(fleet, persona="influencer")
    assert _total(fleet) == 0


def test_overrides_are_validated_before_anything_is_written(fleet: Fleet) -> None:
    with pytest.raises(InputError, match="interval: min_seconds"):
        _create(fleet, interval=(5.0, 1.0))
    with pytest.raises(InputError, match="unknown action"):
        _create(fleet, weights={"dance": 1.0})
    with pytest.raises(InputError, match="weights: weights sum to zero"):
        _create(fleet, weights={name: 0 for name in ACTION_NAMES})
    assert _total(fleet) == 0


def test_an_agent_keeps_its_overrides(fleet: Fleet) -> None:
    created = _create(fleet, count=1, interval=(1.0, 3.0), weights={"post": 0.0})
    agent = agents.get_agent(fleet.sessions, str(created.first_id))
    assert agent.interval == (1.0, 3.0)
    assert agent.weights == {"post": 0.0}


def test_starting_gives_each_agent_a_first_tick_from_its_clock(fleet: Fleet) -> None:
    created = _create(fleet, persona="product_photographer", count=10)
    result = agents.change_status(
        fleet.sessions, fleet.personas, "start", Selection(persona="product_photographer"), now=NOW
    )
    assert (result.changed, result.unchanged) == (10, 0)
    started = agents.list_agents(fleet.sessions, AgentFilter(status="active"))
    assert len(started) == 10
    clock = fleet.personas.clock("product_photographer")
    for agent in started:
        assert agent.next_tick_at is not None
        # The first tick opens a session, where the agent's own rhythm puts it after now.
        rhythm = fleet.personas.cadences["product_photographer"].rhythm(agent.seed)
        opening = rhythm.start(NOW.timestamp())
        assert opening.index == 0
        assert agent.next_tick_at.timestamp() == pytest.approx(opening.due, abs=1e-5)
        assert agent.next_tick_at > NOW
        assert clock.multiplier(agent.next_tick_at) > 0
    again = agents.change_status(
        fleet.sessions,
        fleet.personas,
        "start",
        Selection(id_range=(created.first_id, created.last_id)),
        now=NOW,
    )
    assert (again.changed, again.unchanged) == (0, 10)


def test_pausing_stops_ticks_and_resuming_recomputes_them(fleet: Fleet) -> None:
    created = _create(fleet, count=2)
    ids = (str(created.first_id), str(created.last_id))
    agents.change_status(fleet.sessions, fleet.personas, "start", Selection(refs=ids), now=NOW)
    paused = agents.change_status(
        fleet.sessions, fleet.personas, "pause", Selection(refs=ids[:1]), now=NOW
    )
    assert paused.changed == 1
    first = agents.get_agent(fleet.sessions, ids[0])
    assert (first.status, first.next_tick_at) == ("paused", None)
    later = NOW + timedelta(hours=3)
    agents.change_status(
        fleet.sessions, fleet.personas, "resume", Selection(refs=ids[:1]), now=later
    )
    resumed = agents.get_agent(fleet.sessions, ids[0])
    assert resumed.status == "active"
    assert resumed.next_tick_at is not None and resumed.next_tick_at > later


def test_resuming_an_agent_that_is_not_paused_leaves_it_as_it_was(fleet: Fleet) -> None:
    created = _create(fleet, count=1)
    result = agents.change_status(
        fleet.sessions, fleet.personas, "resume", Selection(refs=(str(created.first_id),)), now=NOW
    )
    assert (result.changed, result.unchanged) == (0, 1)
    assert agents.get_agent(fleet.sessions, str(created.first_id)).status == "created"


def test_stop_and_start_by_handle_and_for_everyone(fleet: Fleet) -> None:
    _create(fleet, persona="indie_game_dev", count=2)
    _create(fleet, persona="data_visualization", count=2)
    agents.change_status(fleet.sessions, fleet.personas, "start", Selection(everyone=True), now=NOW)
    handle = agents.list_agents(fleet.sessions, AgentFilter(persona="indie_game_dev"))[0].handle
    stopped = agents.change_status(
        fleet.sessions, fleet.personas, "stop", Selection(refs=(handle,)), now=NOW
    )
    assert stopped.changed == 1
    assert agents.agent_counts(fleet.sessions) == {
        "data_visualization": {"active": 2},
        "indie_game_dev": {"active": 1, "stopped": 1},
    }


def test_a_command_naming_an_unknown_agent_changes_nothing(fleet: Fleet) -> None:
    created = _create(fleet, count=1)
    with pytest.raises(UnknownAgent, match="999"):
        agents.change_status(
            fleet.sessions,
            fleet.personas,
            "start",
            Selection(refs=(str(created.first_id), "999")),
            now=NOW,
        )
    assert agents.get_agent(fleet.sessions, str(created.first_id)).status == "created"


@pytest.mark.parametrize("ref", ["-5", "abc!", "12 34", "0", "Photo_X"])
def test_a_malformed_agent_reference_is_refused(fleet: Fleet, ref: str) -> None:
    with pytest.raises(InputError):
        agents.get_agent(fleet.sessions, ref)


def test_a_selection_names_exactly_one_kind_of_target() -> None:
    with pytest.raises(InputError, match="name agents by id"):
        Selection()
    with pytest.raises(InputError, match="name agents by id"):
        Selection(refs=("1",), everyone=True)


def test_soft_deleted_agents_keep_their_handle_and_leave_the_listings(fleet: Fleet) -> None:
    created = _create(fleet, count=3)
    agents.change_status(fleet.sessions, fleet.personas, "start", Selection(everyone=True), now=NOW)
    deleted = agents.delete_agents(
        fleet.sessions, fleet.personas, Selection(refs=(str(created.first_id),)), now=NOW
    )
    assert deleted.changed == 1
    gone = agents.get_agent(fleet.sessions, str(created.first_id))
    assert (gone.status, gone.next_tick_at, gone.deleted_at) == ("deleted", None, NOW)
    assert len(agents.list_agents(fleet.sessions, AgentFilter())) == 2
    assert len(agents.list_agents(fleet.sessions, AgentFilter(status="deleted"))) == 1
    with pytest.raises(UnknownAgent):
        agents.change_status(
            fleet.sessions,
            fleet.personas,
            "start",
            Selection(refs=(str(created.first_id),)),
            now=NOW,
        )
    # The deleted agent's handle is never handed out again.
    assert _create(fleet, count=1).first_index == 3


def test_listing_pages_through_agents_in_id_order(fleet: Fleet) -> None:
    _create(fleet, count=25)
    first = agents.list_agents(fleet.sessions, AgentFilter(limit=10))
    second = agents.list_agents(fleet.sessions, AgentFilter(limit=10, offset=10))
    third = agents.list_agents(fleet.sessions, AgentFilter(limit=10, offset=20))
    ids = [a.id for a in first + second + third]
    assert ids == sorted(ids) and len(set(ids)) == 25


@pytest.mark.parametrize(("field", "value"), [("status", "sleeping"), ("limit", 0), ("offset", -1)])
def test_a_bad_listing_filter_is_refused(field: str, value: object) -> None:
    with pytest.raises(InputError):
        AgentFilter(**{field: value})  # type: ignore[arg-type]


def test_an_agent_is_found_by_id_or_by_handle(fleet: Fleet) -> None:
    created = _create(fleet, count=1)
    by_id = agents.get_agent(fleet.sessions, str(created.first_id))
    assert agents.get_agent(fleet.sessions, by_id.handle) == by_id
    with pytest.raises(UnknownAgent):
        agents.get_agent(fleet.sessions, "nobody_here")


def test_two_creators_of_one_persona_at_once_never_collide(pg_fleet: Fleet) -> None:
    import threading

    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def create() -> None:
        barrier.wait()
        try:
            _create(pg_fleet, persona="indie_game_dev", count=500)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=create) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    listed = agents.list_agents(pg_fleet.sessions, AgentFilter(limit=2000))
    assert sorted(a.persona_index for a in listed) == list(range(1000))


def test_creating_100000_agents_is_one_bulk_write(pg_fleet: Fleet) -> None:
    created = _create(pg_fleet, persona="social_media_marketer", count=100_000)
    assert (created.first_index, created.last_index) == (0, 99_999)
    assert created.last_id - created.first_id == 99_999
    assert _total(pg_fleet) == 100_000

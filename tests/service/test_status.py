"""``fleet status``: what it reads, and ``--check``'s exit code that pages someone."""

from __future__ import annotations

import contextlib
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner, Result
from pydantic import SecretStr
from sqlalchemy import update

from fleet import activities, agents
from fleet.agents import Selection
from fleet.cli import cli
from fleet.db.models import Agent
from fleet.gallery.client import HttpGallery
from fleet.service.root import Fleet, bootstrap
from fleet.service.status import Report, Thresholds, check, gather
from fleet.settings import LLMSettings
from fleet.worker.app import create_app
from tests.conftest import active_agents

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def _report(**changes: object) -> Report:
    healthy: dict[str, object] = {
        "at": NOW,
        "database": "sqlite:///fleet.db",
        "agents": {"ux_ui_designer": {"active": 3}},
        "due_agents": 0,
        "dispatch_lag_seconds": 0.0,
        "actions": {"like": {"succeeded": 8, "dead": 1}},
        "dead_letters": {"total": 1, "new": 1},
        "hold": None,
        "workers": ["engage@host"],
    }
    return Report(**(healthy | changes))  # type: ignore[arg-type]


def test_a_healthy_fleet_breaks_no_threshold() -> None:
    assert check(_report(), Thresholds()) == []


@pytest.mark.parametrize(
    ("changes", "sentence"),
    [
        ({"dispatch_lag_seconds": 31.0}, "dispatch lag 31.0s is above 30s"),
        ({"dead_letters": {"total": 11, "new": 11}}, "11 new dead letters, above 10"),
        ({"actions": {"like": {"succeeded": 3, "dead": 1}}}, "error rate 25% is above 20%"),
        ({"workers": []}, "no worker answers"),
        ({"problems": ["redis unreachable: ConnectionError"]}, "redis unreachable"),
        (
            {
                "hold": {
                    "kind": "FLEET_MONTHLY_BUDGET_EXCEEDED",
                    "reason": "gallery: 429 budget",
                    "until": (NOW + timedelta(days=31)).isoformat(),
                }
            },
            "the fleet is held for 744 more hours (until 2026-12-22 12:00 UTC), above 25",
        ),
    ],
)
def test_each_broken_threshold_is_one_sentence(changes: dict[str, object], sentence: str) -> None:
    broken = check(_report(**changes), Thresholds())
    assert len(broken) == 1 and broken[0].startswith(sentence)


def test_agents_deferred_past_the_threshold_are_one_sentence() -> None:
    deferred = {
        "agents": 2,
        "over_hours": 25.0,
        "longest_until": (NOW + timedelta(days=31)).isoformat(),
        "longest_agent": "mia.tiles",
    }
    assert check(_report(deferred=deferred), Thresholds()) == [
        "2 agent(s) deferred more than 25 hours by the gallery's 429, the longest @mia.tiles "
        "for 744 more hours (until 2026-12-22 12:00 UTC; fleet agents pause and resume moves "
        "its next tick)"
    ]
    assert check(_report(deferred=deferred | {"agents": 0}), Thresholds()) == []


def _status(fleet: Fleet, *args: str) -> Result:
    return CliRunner().invoke(cli, ["status", *args], obj=fleet)


def _overdue(fleet: Fleet, seconds: float) -> None:
    """Three active agents whose ticks were due ``seconds`` ago."""
    now = datetime.now(UTC)
    active_agents(fleet, 3, "ux_ui_designer", now=now)
    with fleet.sessions.begin() as session:
        session.execute(update(Agent).values(next_tick_at=now - timedelta(seconds=seconds)))


def test_status_check_exits_1_and_says_why_when_the_dispatcher_lags(
    fleet: Fleet, gallery: HttpGallery
) -> None:
    fleet.gallery = gallery  # the audit under --check reads it: a gallery down exits 3
    _overdue(fleet, 120)
    lagging = _status(fleet, "--check", "--no-workers")
    assert lagging.exit_code == 1, lagging.output
    assert "BROKEN: dispatch lag" in lagging.stderr
    assert _status(fleet, "--check", "--no-workers", "--max-lag", "600").exit_code == 0
    shown = json.loads(_status(fleet, "--json", "--no-workers").stdout)
    assert shown["due_agents"] == 3 and shown["dispatch_lag_seconds"] >= 120
    assert shown["broken"][0].startswith("dispatch lag")


def test_status_reads_queue_depths_and_breakers_and_pages_when_no_worker_answers(
    fleet_on_redis: Fleet,
) -> None:
    app = create_app(fleet_on_redis.settings)
    for _ in range(2):
        app.send_task("fleet.noop", queue="engage")
    report = gather(fleet_on_redis)
    assert report.queues == {"ticks": 0, "content": 0, "engage": 2, "dead_letter": 0}
    assert set(report.breakers) == {"gallery", "llm"}
    assert not report.breakers["gallery"]["open"]
    # Nothing consumes this test's key prefix: no worker answers the ping.
    alone = _status(fleet_on_redis, "--check")
    assert alone.exit_code == 1
    assert "workers: none answering" in alone.stdout
    assert "BROKEN: no worker answers" in alone.stderr


def test_status_names_the_beats_publishing_and_says_two_are_an_overlap(
    fleet_on_redis: Fleet,
) -> None:
    from fleet.infra import beats

    prefix = fleet_on_redis.settings.broker_key_prefix
    assert gather(fleet_on_redis).beats == []
    assert "beats publishing" not in _status(fleet_on_redis, "--no-workers").stdout
    beats.beat_once(fleet_on_redis.redis, beats.key_of(prefix, "host-a", 4242), 0.0)
    one = _status(fleet_on_redis, "--no-workers")
    assert "beats publishing: 1 (host-a:4242)" in one.stdout, one.output
    beats.beat_once(fleet_on_redis.redis, beats.key_of(prefix, "host-b", 977), 0.0)
    assert gather(fleet_on_redis).beats == ["host-a:4242", "host-b:977"]
    two = _status(fleet_on_redis, "--no-workers")
    assert "beats publishing: 2 at once (host-a:4242, host-b:977): one is enough" in two.stdout


def test_status_shows_an_llm_token_bucket_in_debt(fleet_on_redis: Fleet) -> None:
    from fleet.infra.limits import TokenBucket

    settings = fleet_on_redis.settings
    per_minute = settings.actions.llm_tokens_per_minute
    bucket = TokenBucket(
        fleet_on_redis.redis,
        f"{settings.broker_key_prefix}fleet:limits:llm-tokens",
        rate=per_minute / 60,
        burst=per_minute,
    )
    assert gather(fleet_on_redis).llm_debt == {}
    bucket.settle(10**12)  # an upstream's claim: the debt is held to one burst
    debt = gather(fleet_on_redis).llm_debt["llm-tokens"]
    assert -per_minute - 1 <= debt["tokens"] < 0 and 60 <= debt["wait_seconds"] <= 130
    shown = _status(fleet_on_redis, "--no-workers")
    assert "LLM bucket llm-tokens: in debt" in shown.stdout, shown.output


def test_status_check_pages_when_redis_is_unreachable(fleet: Fleet) -> None:
    settings = fleet.settings.model_copy(
        update={"broker_url": "redis://127.0.0.1:1/0", "redis_url": "redis://127.0.0.1:1/0"}
    )
    cut_off = bootstrap(settings, fleet.engine)
    result = _status(cut_off, "--check", "--no-workers")
    assert result.exit_code == 1
    assert "BROKEN: redis unreachable: ConnectionError" in result.stderr


def test_a_fleet_hold_is_shown(fleet: Fleet) -> None:
    now = datetime.now(UTC)
    activities.hold_fleet(
        fleet.sessions, "budget", "FLEET_DAILY_BUDGET_EXCEEDED", now + timedelta(hours=1), now=now
    )
    shown = _status(fleet, "--no-workers")
    assert shown.exit_code == 0
    assert "fleet hold: budget until" in shown.stdout
    assert "FLEET_DAILY_BUDGET_EXCEEDED" in shown.stdout


def test_status_check_pages_on_a_hold_longer_than_its_threshold(
    fleet: Fleet, gallery: HttpGallery
) -> None:
    fleet.gallery = gallery  # the audit under --check reads it: a gallery down exits 3
    now = datetime.now(UTC)
    activities.hold_fleet(
        fleet.sessions, "FLEET_PAUSED", "gallery: 503 paused", now + timedelta(days=3), now=now
    )
    paged = _status(fleet, "--check", "--no-workers")
    assert paged.exit_code == 1
    assert "BROKEN: the fleet is held for 72 more hours" in paged.stderr
    assert _status(fleet, "--check", "--no-workers", "--max-hold-hours", "100").exit_code == 0


def test_status_check_pages_on_agents_deferred_longer_than_its_threshold(
    fleet: Fleet, gallery: HttpGallery
) -> None:
    fleet.gallery = gallery  # the audit under --check reads it: a gallery down exits 3
    # Issue 31, item 16: a gallery's 429 with a far resetAt parks one agent (clamped to 31
    # days for a monthly budget); the fleet is not held, and --check stayed green.
    now = datetime.now(UTC)
    far, near, _ = active_agents(fleet, 3, "ux_ui_designer", now=now)
    agents.defer_agent(fleet.sessions, far, now + timedelta(days=31))
    agents.defer_agent(fleet.sessions, near, now + timedelta(hours=2))
    handle = agents.get_agent(fleet.sessions, str(far)).handle
    paged = _status(fleet, "--check", "--no-workers")
    assert paged.exit_code == 1
    assert (
        f"BROKEN: 1 agent(s) deferred more than 25 hours by the gallery's 429, the longest "
        f"@{handle} for 744 more hours" in paged.stderr
    )
    assert (
        f"deferred agents: 1 wait more than 25 hours for the gallery's 429, the longest @{handle}"
        in (paged.stdout)
    )
    shown = json.loads(_status(fleet, "--json", "--no-workers", "--max-deferral-hours", "1").stdout)
    assert shown["deferred"]["agents"] == 2 and shown["deferred"]["longest_agent"] == handle
    assert shown["broken"][0].startswith("2 agent(s) deferred more than 1 hours")
    assert _status(fleet, "--check", "--no-workers", "--max-deferral-hours", "800").exit_code == 0
    # Paused and resumed, its next tick comes from its clock again: the deferral is over.
    for command in ("pause", "resume"):
        agents.change_status(
            fleet.sessions, fleet.personas, command, Selection(refs=(str(far),)), now=now
        )
    assert _status(fleet, "--check", "--no-workers").exit_code == 0


def test_the_fleets_pace_is_shown_with_the_day_it_was_measured_from(fleet: Fleet) -> None:
    from fleet.core.pace import Pace

    assert "pace:" not in _status(fleet, "--no-workers").stdout, "not measured yet"
    activities.keep_pace(fleet.sessions, Pace(300, 100, 250.0, 0.4), now=datetime.now(UTC))
    shown = _status(fleet, "--no-workers")
    assert "pace: 0.40 (last day: people 300 actions, the fleet 100, 25% of it ours" in (
        shown.stdout
    )
    assert json.loads(_status(fleet, "--no-workers", "--json").stdout)["pace"]["pace"] == 0.4


def test_status_shows_where_llm_calls_go_by_host_never_the_key_nor_a_password(
    fleet: Fleet,
) -> None:
    offline = _status(fleet, "--no-workers")
    assert "llm: offline writer (templates; no ANTHROPIC_API_KEY nor" in offline.stdout
    key = "gw-key-STATUS-9f3a2c"
    settings = fleet.settings.model_copy(
        update={
            "anthropic_api_key": SecretStr(key),
            "llm": LLMSettings(base_url="https://ops:pw-STATUS-77@gateway.internal:8443/anthropic"),
        }
    )
    gateway = bootstrap(settings, fleet.engine)
    shown = _status(gateway, "--no-workers")
    assert shown.exit_code == 0, shown.output
    assert (
        "llm: anthropic claude-haiku-4-5 at gateway.internal:8443 (set by FLEET_LLM__BASE_URL)"
        in shown.stdout
    )
    as_json = json.loads(_status(gateway, "--json", "--no-workers").stdout)
    assert as_json["llm"] == {
        "writer": "anthropic",
        "model": "claude-haiku-4-5",
        "host": "gateway.internal:8443",
        "from": "FLEET_LLM__BASE_URL",
        "chain": [
            {
                "provider": "anthropic",
                "model": "claude-haiku-4-5",
                "host": "gateway.internal:8443",
                "label": "anthropic:claude-haiku-4-5",
            }
        ],
    }
    for output in (shown.output, json.dumps(as_json)):
        assert key not in output and "pw-STATUS-77" not in output and "/anthropic" not in output


def test_status_shows_the_back_pressure_of_a_saturated_gallery_limit(
    fleet_on_redis: Fleet,
) -> None:
    settings = fleet_on_redis.settings
    slow = settings.model_copy(
        update={"actions": settings.actions.model_copy(update={"gallery_requests_per_second": 2})}
    )
    # Its own Redis client, closed: left to the collector, its socket warns in another test.
    with contextlib.closing(bootstrap(slow, fleet_on_redis.engine)) as fleet:
        calm = _status(fleet, "--no-workers")
        assert "back-pressure: none (the gallery limit refused no request" in calm.stdout
        limit = fleet.gallery_limit
        for _ in range(int(4 * limit.burst)):  # workers asking 4 times what the limit gives
            limit.try_take()
        shown = _status(fleet, "--no-workers")
        assert shown.exit_code == 0, "overload is no failure"
        line = next(x for x in shown.stdout.splitlines() if x.startswith("back-pressure:"))
        assert "the gallery limit refused 75% of requests over the last ~10s" in line
        # The bucket refills as the status command starts and reads it: at 2/s the next token
        # is at most 0.5 s away, less by the command's own time (0.35 s on a loaded machine).
        waits = re.search(r"requests/s asked of 2/s; a call waits ([0-9.]+)s\)", line)
        assert waits is not None, line
        assert 0 < float(waits.group(1)) <= 0.5, "a token in at most 0.5 s"
        assert "ticks act at 25% of their rate" in line
        pressure = json.loads(_status(fleet, "--no-workers", "--json").stdout)
        assert pressure["back_pressure"]["saturated"] is True
        assert pressure["back_pressure"]["decide_share"] == pytest.approx(0.25, abs=0.01)

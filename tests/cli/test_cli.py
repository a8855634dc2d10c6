"""The ``fleet`` CLI through click's runner: tables for people, JSON for scripts, exit 2 for bad input."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine, update

from fleet import activities
from fleet.activities import ActivityFilter
from fleet.agents.deciding import decide_ticks
from fleet.agents.heartbeat import DispatchLimits, dispatch_due
from fleet.cli import cli
from fleet.cli import schedule as schedule_cli
from fleet.core.activity_level import mean_activity_level, mean_daily_rates
from fleet.core.kinds import ACTION_NAMES, kind_of
from fleet.db.models import Agent, AgentActivity
from fleet.infra.persona_files import BUNDLED_DIR
from fleet.service.root import Fleet, bootstrap
from fleet.settings import Settings
from fleet_sandbox.server import BackgroundSandbox
from tests.conftest import active_agents
from tests.gallery.conftest import TOKEN


def run(fleet: Fleet | None, *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), obj=fleet, input=input)


def error_line(result: Result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_creating_listing_and_showing_agents(fleet: Fleet) -> None:
    created = run(
        fleet, "agents", "create", "--persona", "indie_game_dev", "--count", "3", "--json"
    )
    assert created.exit_code == 0, created.output
    data = json.loads(created.stdout)
    assert (data["count"], data["started"]) == (3, 0)
    table = run(fleet, "agents", "list")
    assert table.exit_code == 0
    listed = json.loads(run(fleet, "agents", "list", "--json").stdout)
    assert listed[0]["handle"] in table.stdout and "created" in table.stdout
    assert [a["persona"] for a in listed] == ["indie_game_dev"] * 3
    shown = json.loads(run(fleet, "agents", "show", listed[0]["handle"], "--json").stdout)
    assert shown["id"] == listed[0]["id"]
    human = run(fleet, "agents", "show", str(listed[0]["id"]))
    assert listed[0]["handle"] in human.stdout


def test_the_lifecycle_commands_report_what_changed(fleet: Fleet) -> None:
    run(
        fleet,
        "agents",
        "create",
        "--persona",
        "ux_ui_designer",
        "--count",
        "2",
        "--start",
        "--interval",
        "1-3",
    )
    paused = run(fleet, "agents", "pause", "1", "--json")
    assert json.loads(paused.stdout) == {"command": "pause", "changed": 1, "unchanged": 0}
    resumed = run(fleet, "agents", "resume", "--all")
    assert resumed.stdout.strip() == "resumed 1 agent(s); 1 left as they were"
    stopped = run(fleet, "agents", "stop", "--persona", "ux_ui_designer")
    assert stopped.stdout.strip() == "stopped 2 agent(s)"
    counts = json.loads(run(fleet, "agents", "counts", "--json").stdout)
    assert counts == {"ux_ui_designer": {"stopped": 2}}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["agents", "create", "--persona", "influencer", "--count", "2"],
            "unknown persona 'influencer'",
        ),
        (
            ["agents", "create", "--persona", "ux_ui_designer", "--count", "0"],
            "count must be between 1",
        ),
        (
            ["agents", "create", "--persona", "ux_ui_designer", "--count", "-5"],
            "count must be between 1",
        ),
        (
            ["agents", "create", "--persona", "ux_ui_designer", "--count", "many"],
            "'many' is not a valid integer",
        ),
        (
            ["agents", "create", "--persona", "ux_ui_designer", "--interval", "3-1"],
            "--interval '3-1'",
        ),
        (
            ["agents", "create", "--persona", "ux_ui_designer", "--weights", "post"],
            "--weights 'post'",
        ),
        (
            ["agents", "create", "--persona", "ux_ui_designer", "--interval", "inf-inf"],
            "interval",
        ),
        (
            ["agents", "create", "--persona", "ux_ui_designer", "--interval", "nan-3"],
            "interval",
        ),
        (
            [
                *("agents", "create", "--persona", "ux_ui_designer"),
                *("--interval", "1-99999999999999999999"),
            ],
            "less than or equal to 604800",
        ),
        (
            ["agents", "create", "--persona", "ux_ui_designer", "--activity", "nan"],
            "--activity 'nan': must be a positive, finite number",
        ),
        (
            ["agents", "create", "--persona", "ux_ui_designer", "--activity", "0"],
            "--activity '0': must be a positive, finite number",
        ),
        (
            ["agents", "create", "--persona", "ux_ui_designer", "--activity", "-inf"],
            "--activity '-inf': must be a positive, finite number",
        ),
        (
            ["agents", "create", "--persona", "ux_ui_designer", "--activity", "1e-300"],
            "--activity '1e-300': must be a positive, finite number from 0.01 to 100",
        ),
        (
            ["agents", "create", "--persona", "ux_ui_designer", "--activity", "1e308"],
            "--activity '1e308': must be a positive, finite number from 0.01 to 100",
        ),
        (["agents", "show", "12abc!"], "malformed agent reference '12abc!'"),
        (["agents", "show", "424242"], "no agent '424242'"),
        (["agents", "start", "7", "--all"], "name agents by id"),
        (["agents", "list", "--status", "dreaming"], "unknown status 'dreaming'"),
        (["agents", "list", "--persona", "nobody"], "unknown persona 'nobody'"),
        (["personas", "show", "nobody"], "unknown persona 'nobody'"),
        (["agents", "frobnicate"], "No such command 'frobnicate'"),
        # Numbers that are not finite, and integers no database column holds.
        (["demo", "--speed", "nan", "--json"], "'nan' is not a finite number"),
        (["demo", "--duration", "inf", "--json"], "inf is not in the range"),
        (["status", "--check", "--max-lag", "nan", "--no-workers"], "not a finite number"),
        (["status", "--check", "--max-error-rate", "nan"], "'nan' is not a finite number"),
        (["status", "--check", "--max-dead-letters", "9" * 23], "is not in the range"),
        (["activity", "tail", "--timeout", "nan"], "'nan' is not a finite number"),
        (["activity", "tail", "--timeout", "inf"], "inf is not in the range"),
        (["activity", "tail", "--timeout", "-1"], "-1.0 is not in the range"),
        (["agents", "list", "--offset", "9" * 23], "is not in the range"),
        (["dlq", "show", "9" * 23], "is not in the range"),
        (["dlq", "replay", "9" * 23], "is not in the range"),
        (["dlq", "purge", "9" * 23, "--yes"], "is not in the range"),
        (["sandbox", "serve", "--latency-ms", "nan"], "'nan' is not a finite number"),
        (["sandbox", "serve", "--lose-answers", "inf"], "inf is not in the range"),
        (
            ["schedule", "preview", "--persona", "ux_ui_designer", "--start", "9999-12-31"],
            "pick a day from 1971-01-01 to 9000-12-31",
        ),
        (["db", "upgrade", "--revision", "nope"], "revision 'nope': Can't locate revision"),
        (["db", "downgrade", "--revision", "nope", "--yes"], "Can't locate revision"),
    ],
)
def test_bad_input_gives_one_line_and_exit_code_2_and_writes_nothing(
    fleet: Fleet, args: list[str], message: str
) -> None:
    result = run(fleet, *args)
    assert result.exit_code == 2, result.output
    assert message in error_line(result)
    assert result.stdout == ""
    assert json.loads(run(fleet, "agents", "counts", "--json").stdout) == {}


def test_delete_asks_for_confirmation_and_keeps_agents_when_refused(fleet: Fleet) -> None:
    run(fleet, "agents", "create", "--persona", "ux_ui_designer", "--count", "2")
    refused = run(fleet, "agents", "delete", "--all", input="n\n")
    assert refused.exit_code == 1
    assert "aborted" in refused.stderr
    assert len(json.loads(run(fleet, "agents", "list", "--json").stdout)) == 2
    confirmed = run(fleet, "agents", "delete", "1", input="y\n")
    assert "deleted 1 agent(s)" in confirmed.stdout
    forced = run(fleet, "agents", "delete", "--persona", "ux_ui_designer", "--yes")
    assert "deleted 1 agent(s)" in forced.stdout
    assert json.loads(run(fleet, "agents", "list", "--json").stdout) == []


def test_personas_list_and_show(fleet: Fleet) -> None:
    table = run(fleet, "personas", "list")
    assert table.exit_code == 0
    for slug in ("product_photographer", "social_media_marketer", "ux_ui_designer"):
        assert slug in table.stdout
    listed = json.loads(run(fleet, "personas", "list", "--json").stdout)
    assert len(listed) == 6 and all(abs(sum(p["weights"].values()) - 1) < 1e-3 for p in listed)
    shown = run(fleet, "personas", "show", "indie_game_dev")
    assert "peak x3 18:00-02:00 fri,sat,sun" in shown.stdout
    data = json.loads(run(fleet, "personas", "show", "indie_game_dev", "--json").stdout)
    assert data["schedule"]["timezone"] == "America/Chicago"


def test_personas_validate_accepts_good_files_and_refuses_bad_ones(tmp_path: Path) -> None:
    good = run(None, "personas", "validate", str(BUNDLED_DIR))
    assert good.exit_code == 0
    assert good.stdout.count("ok ") == 6
    bad = tmp_path / "ux_ui_designer.toml"
    bad.write_text(
        (BUNDLED_DIR / "ux_ui_designer.toml")
        .read_text()
        .replace("gap_min_seconds = 5", "gap_min_seconds = 600")
    )
    result = run(None, "personas", "validate", str(bad), str(BUNDLED_DIR / "indie_game_dev.toml"))
    assert result.exit_code == 2
    assert (
        f"refused {bad}: sessions: gap_min_seconds (600) is above gap_max_seconds (120)"
        in result.stderr
    )
    assert "ok      " in result.stdout
    report = json.loads(run(None, "personas", "validate", str(bad), "--json").stdout)
    assert report[0]["problems"] == [
        {"field": "sessions", "reason": "gap_min_seconds (600) is above gap_max_seconds (120)"}
    ]


def test_db_commands_report_and_move_the_revision(fleet: Fleet) -> None:
    current = json.loads(run(fleet, "db", "current", "--json").stdout)
    assert current["up_to_date"] is True
    refused = run(fleet, "db", "downgrade", input="n\n")
    assert refused.exit_code == 1
    assert json.loads(run(fleet, "db", "current", "--json").stdout)["up_to_date"] is True


def test_db_upgrade_and_downgrade_on_a_fresh_sqlite_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLEET_DATABASE_URL", f"sqlite:///{tmp_path}/fresh.db")
    from fleet.db.engine import build_engine
    from fleet.db.migrate import head_revision

    head = head_revision(build_engine(f"sqlite:///{tmp_path}/fresh.db"))
    upgraded = run(None, "db", "upgrade").stdout
    assert f"database {tmp_path.resolve()}/fresh.db (SQLite) at revision {head}" in upgraded
    down = run(None, "db", "downgrade", "--revision", "base", "--yes")
    assert "base (empty)" in down.stdout
    # The embedded database is brought up to date on first use by any other command.
    created = run(None, "agents", "create", "--persona", "ux_ui_designer")
    assert created.exit_code == 0, created.output


def test_a_bad_setting_stops_the_cli_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLEET_SEED", "lots")
    result = run(None, "agents", "list")
    assert result.exit_code == 2
    assert "FLEET_SEED" in error_line(result)


def test_a_server_database_behind_its_migrations_is_not_migrated_silently(
    postgres_database: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import psycopg

    from tests.conftest import PG_ADMIN_URL, _pg_url

    name = f"fleet_unmigrated_{tmp_path.name[-8:]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        monkeypatch.setenv("FLEET_DATABASE_URL", _pg_url(name))
        result = run(None, "agents", "list")
        assert result.exit_code == 2
        assert "run `fleet db upgrade`" in error_line(result)
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_schedule_preview_shows_a_week_of_local_hours(
    fleet: Fleet, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The table's layout is checked on a small sample of agents; its numbers, from the
    # JSON of the same command below, on a quarter of the command's 200 (a week of 200
    # agents is 2.5 s of CPU). The hourly figures are exact whatever the sample; the daily
    # means of 50 agents stay within a tenth of 200's, and what is asserted of them holds
    # with room: Saturday has 3.0 times Tuesday's actions (78.7 and 26.1), likes are at
    # least 6 times the 3 per post asked, at most 0.94 posts a day against the quota of 2.
    with monkeypatch.context() as patched:
        patched.setattr(schedule_cli, "SAMPLE_AGENTS", 10)
        table = run(
            fleet, "schedule", "preview", "--persona", "indie_game_dev", "--start", "2026-11-16"
        )
    assert table.exit_code == 0, table.output
    assert "Mon 11-16" in table.stdout and "Sun 11-22" in table.stdout
    monkeypatch.setattr(schedule_cli, "SAMPLE_AGENTS", 50)
    data = json.loads(
        run(
            fleet,
            "schedule",
            "preview",
            "--persona",
            "indie_game_dev",
            "--start",
            "2026-11-16",
            "--json",
        ).stdout
    )
    hours = data["hours"]
    assert len(hours) == 7 * 24
    by_local = {(h["local_date"], h["local_hour"]): h for h in hours}
    # Sessions open per active second at per_day / 86400 for the mean agent's level (as
    # ``human_level`` saturates it: a busy agent's sessions stay a human number).
    sessions = fleet.personas.get("indie_game_dev").sessions
    assert sessions is not None
    clock = fleet.personas.clock("indie_game_dev")
    per_second = mean_daily_rates(sessions, clock)[0] / 86_400
    assert per_second < sessions.per_day * mean_activity_level(sessions.activity_spread) / 86_400
    # Saturday 20:00 in Chicago is a 3x peak; Tuesday 05:00 is dormant; Tuesday 15:00 is off-peak.
    saturday = by_local[("2026-11-21", 20)]
    assert saturday["expected_sessions"] == pytest.approx(3 * 3600 * per_second, rel=1e-3)
    assert by_local[("2026-11-17", 5)]["expected_sessions"] == 0
    assert by_local[("2026-11-17", 15)]["expected_sessions"] == pytest.approx(
        0.4 * 3600 * per_second, rel=1e-3
    )
    assert saturday["expected_actions"] > 2 * saturday["expected_sessions"]
    assert saturday["utc_start"] == "2026-11-22T02:00:00+00:00"
    # Per local day, by kind: a weekend day (peaks) is busier than a weekday, posts stay
    # under the daily quota, likes far above posts.
    days = {d["local_date"]: d for d in data["days"]}
    assert len(days) == 7
    assert days["2026-11-21"]["actions"] > days["2026-11-17"]["actions"] > 0
    assert days["2026-11-21"]["sessions"] > 0
    for day in days.values():
        assert day["post"] <= 2
        assert day["like"] >= 3 * day["post"]
        assert day["actions"] == pytest.approx(sum(day[kind] for kind in ACTION_NAMES), abs=0.05)


def test_schedule_preview_prints_one_agents_day_of_sessions(fleet: Fleet) -> None:
    run(fleet, "agents", "create", "--persona", "social_media_marketer", "--count", "1")
    args = ["schedule", "preview", "--agent", "1", "--start", "2026-11-24"]
    data = json.loads(run(fleet, *args, "--json").stdout)
    assert data["local_date"] == "2026-11-24" and data["timezone"] == "America/Los_Angeles"
    ticks = data["ticks"]
    assert data["sessions"] >= 2 and len(ticks) > data["sessions"]
    assert sum(data["actions"].values()) == len([t for t in ticks if t["action"]])
    openers = [t for t in ticks if t["index"] == 0]
    assert len(openers) == data["sessions"]
    assert all(t["action"] == "browse" for t in openers)  # a session opens on the feed
    inside = [t["gap_seconds"] for t in ticks if t["index"] > 0]
    assert inside and max(inside) <= 120  # the persona's gap_max_seconds
    times = [t["utc"] for t in ticks]
    assert times == sorted(times) and len(set(times)) == len(times)
    # The same agent, the same day: the same timeline (a pure function of seed and time).
    assert json.loads(run(fleet, *args, "--json").stdout) == data
    text = run(fleet, *args)
    assert text.exit_code == 0, text.output
    assert f"{data['sessions']} sessions, {len(ticks)} actions" in text.stdout
    assert "session 1 at " in text.stdout and "  browse " in text.stdout


def test_schedule_preview_keeps_local_peak_hours_across_a_dst_change(
    fleet: Fleet, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The hours' clock is checked, not the days' means over simulated agents: few will do.
    monkeypatch.setattr(schedule_cli, "SAMPLE_AGENTS", 10)
    data = json.loads(
        run(
            fleet,
            "schedule",
            "preview",
            "--persona",
            "product_photographer",
            "--start",
            "2026-03-06",
            "--days",
            "5",
            "--json",
        ).stdout
    )
    by_local = {(h["local_date"], h["local_hour"]): h for h in data["hours"]}
    for day in ("2026-03-06", "2026-03-09"):  # the Friday before, the Monday after the change
        assert by_local[(day, 9)]["multiplier"] == 2.0
        assert by_local[(day, 8)]["multiplier"] == 0.3
    assert by_local[("2026-03-06", 9)]["utc_start"] == "2026-03-06T14:00:00+00:00"
    assert by_local[("2026-03-09", 9)]["utc_start"] == "2026-03-09T13:00:00+00:00"


@pytest.mark.parametrize(
    "args",
    [["--start", "yesterday"], ["--days", "0"], ["--persona", "nobody"], ["--agent", "1"]],
)
def test_schedule_preview_refuses_bad_input(fleet: Fleet, args: list[str]) -> None:
    base = ["schedule", "preview", "--persona", "ux_ui_designer"]
    result = run(fleet, *base, *args)
    assert result.exit_code == 2
    error_line(result)


def test_forcing_a_tick_records_a_decision_and_sends_it(fleet_on_redis: Fleet) -> None:
    fleet = fleet_on_redis
    run(fleet, "agents", "create", "--persona", "ux_ui_designer", "--count", "2", "--start")
    decided = json.loads(run(fleet, "agents", "tick", "1", "--json").stdout)
    # Any of a tick's actions: a reply too (4 % of a designer's ticks), which this set
    # once left out and failed on.
    assert decided["action"] in ACTION_NAMES
    assert decided["idempotency_key"] == f"1:{decided['due_at']}:{decided['action']}"
    assert json.loads(run(fleet, "agents", "show", "1", "--json").stdout)["ticks"] == 1
    run(fleet, "agents", "pause", "2")
    paused = run(fleet, "agents", "tick", "2")
    assert paused.exit_code == 2
    assert "is paused, not active" in error_line(paused)
    # Sent to the workers: its message waits on the action's queue.
    kind = kind_of(decided["action"])
    queue = f"{fleet.settings.broker_key_prefix}{kind.queue}"
    assert fleet.redis.llen(queue) == 1


def test_a_tick_no_worker_would_see_is_refused_before_anything_is_written(fleet: Fleet) -> None:
    """On memory:// the decided action would stay pending for good: refused, as act is."""
    run(fleet, "agents", "create", "--persona", "ux_ui_designer", "--count", "1", "--start")
    refused = run(fleet, "agents", "tick", "1")
    assert refused.exit_code == 2
    assert "no worker would see this task" in error_line(refused)
    assert "--here" in error_line(refused)
    assert json.loads(run(fleet, "agents", "show", "1", "--json").stdout)["ticks"] == 0


def _dead_letters(fleet: Fleet, count: int) -> list[int]:
    """Dead likes of one agent, each with its letter."""
    now = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
    lease = timedelta(minutes=5)
    run(fleet, "agents", "create", "--persona", "ux_ui_designer", "--count", "1", "--start")
    letters = []
    for i in range(count):
        key = f"1:{int(now.timestamp()) + i}:like"
        activity_id = activities.create_activity(
            fleet.sessions, 1, "like", now, key, now=now, lease=lease
        )
        letter = activities.bury(
            fleet.sessions,
            activity_id,
            task="fleet.like",
            arguments={"key": key},
            error_type="PermanentError",
            error="422",
            now=now,
        )
        assert letter is not None
        letters.append(letter)
    return letters


def _replayed(fleet: Fleet) -> list[bool]:
    letters = activities.list_dead_letters(fleet.sessions, include_replayed=True)
    return [letter.replayed_at is not None for letter in sorted(letters, key=lambda x: x.id)]


def test_dlq_replay_and_purge_of_an_unknown_id_change_nothing(fleet_on_redis: Fleet) -> None:
    fleet = fleet_on_redis
    first, second = _dead_letters(fleet, 2)
    for command in (["replay"], ["purge", "--yes"]):
        result = run(fleet, "dlq", *command, str(first), "999")
        assert result.exit_code == 2
        assert "no dead letter 999" in error_line(result)
    assert _replayed(fleet) == [False, False], "nothing replayed, nothing purged"
    replayed = run(fleet, "dlq", "replay", str(first))
    assert replayed.exit_code == 0, replayed.output
    again = run(fleet, "dlq", "replay", str(second), str(first))
    assert again.exit_code == 2
    assert f"dead letter {first} was already replayed" in error_line(again)
    assert _replayed(fleet) == [True, False], "the second was not replayed either"
    purged = run(fleet, "dlq", "purge", "--yes", str(first), str(second))
    assert purged.exit_code == 0 and "purged 2 dead letter(s)" in purged.stdout
    assert _replayed(fleet) == []


def test_replay_and_act_refuse_before_writing_when_no_worker_can_see_the_broker(
    fleet: Fleet,
) -> None:
    """The embedded default's in-memory broker reaches no worker: nothing is replayed
    and no activity is recorded to wait for a message that never comes."""
    (letter,) = _dead_letters(fleet, 1)
    replay = run(fleet, "dlq", "replay", str(letter))
    assert replay.exit_code == 2
    assert "FLEET_BROKER_URL is memory://" in error_line(replay)
    assert _replayed(fleet) == [False]
    act = run(fleet, "agents", "act", "1", "browse")
    assert act.exit_code == 2
    assert "--here" in error_line(act)
    assert [a.action for a in activities.list_activities(fleet.sessions, ActivityFilter())] == [
        "like"
    ]


@pytest.mark.parametrize(
    "args",
    [
        ["activity", "list", "--since", "-5m"],
        ["activity", "stats", "--since", "0h"],
        ["activity", "stats", "--since", "nanm"],
        ["activity", "list", "--since", "yesterday"],
        ["status", "--max-lag", "-1", "--no-workers"],
        ["status", "--max-error-rate", "2", "--no-workers"],
        ["status", "--max-dead-letters", "-3", "--no-workers"],
        ["activity", "list", "--limit", "0"],
        ["agents", "list", "--limit", "-1"],
        ["dlq", "list", "--limit", "-1"],
    ],
)
def test_windows_and_thresholds_that_mean_nothing_are_refused(
    fleet: Fleet, args: list[str]
) -> None:
    result = run(fleet, *args)
    assert result.exit_code == 2
    if "--limit" in args:
        named = "'--limit'"
    else:
        named = f"window {args[-1]!r}" if args[0] == "activity" else f"'{args[1]}'"
    assert named in error_line(result)


def test_agents_act_here_carries_out_the_action_on_the_gallery(
    pg_engine: Engine, sandbox: BackgroundSandbox
) -> None:
    settings = Settings(
        database_url=pg_engine.url.render_as_string(hide_password=False),
        gallery={"url": sandbox.url, "token": TOKEN},  # type: ignore[arg-type]
        seed=7,
    )
    fleet = bootstrap(settings, pg_engine)
    try:
        run(fleet, "agents", "create", "--persona", "ux_ui_designer", "--count", "2", "--start")
        posted = json.loads(run(fleet, "agents", "act", "1", "post", "--here", "--json").stdout)
        assert posted["status"] == "succeeded" and posted["key"].endswith(":post")
        liked = json.loads(run(fleet, "agents", "act", "2", "like", "--here", "--json").stdout)
        assert (liked["status"], liked["detail"]["post_id"]) == (
            "succeeded",
            posted["detail"]["post_id"],
        )
        own = run(fleet, "agents", "act", "1", "like", "--here")
        assert own.exit_code == 0 and "skipped" in own.stdout, "its own post is not open to it"
    finally:
        fleet.close()


def test_agents_act_sends_the_action_to_its_queue(fleet_on_redis: Fleet) -> None:
    run(fleet_on_redis, "agents", "create", "--persona", "ux_ui_designer", "--count", "1")
    run(fleet_on_redis, "agents", "start", "1", "--no-provision")
    sent = json.loads(run(fleet_on_redis, "agents", "act", "1", "browse", "--json").stdout)
    assert sent["status"] == "sent"
    prefix = fleet_on_redis.settings.broker_key_prefix
    (message,) = fleet_on_redis.redis.lrange(f"{prefix}engage", 0, -1)
    headers = json.loads(message)["headers"]
    assert (headers["task"], headers["argsrepr"]) == ("fleet.browse", repr((sent["key"],)))
    (row,) = activities.list_activities(fleet_on_redis.sessions, ActivityFilter())
    assert (row.idempotency_key, row.status) == (sent["key"], "pending")
    # An admin's act has a key space of its own: a second act in the same second is a
    # second action, and a tick due in that second decides its own.
    again = json.loads(run(fleet_on_redis, "agents", "act", "1", "browse", "--json").stdout)
    assert again["key"] != sent["key"]
    assert re.fullmatch(r"1:manual-\d+-[0-9a-f]{8}:browse", again["key"])
    due = int(row.due_at.timestamp())
    (tick,) = decide_ticks(
        fleet_on_redis.sessions,
        fleet_on_redis.personas,
        [(1, due)],
        now=datetime.now(UTC),
        lease=timedelta(minutes=5),
    )
    assert tick.new and tick.key.text == f"1:{due}:{tick.key.action}"
    assert len(activities.list_activities(fleet_on_redis.sessions, ActivityFilter())) == 3


def test_activity_stats_counts_by_persona_action_and_status_within_the_window(
    fleet: Fleet,
) -> None:
    now = datetime.now(UTC)
    lease = timedelta(minutes=5)
    for persona in ("ux_ui_designer", "indie_game_dev"):
        run(fleet, "agents", "create", "--persona", persona, "--count", "1", "--start")

    def decided(agent_id: int, action: str, ago: timedelta, status: str) -> None:
        at = now - ago
        key = f"{agent_id}:{int(at.timestamp())}:{action}"
        activity_id = activities.create_activity(
            fleet.sessions, agent_id, action, at, key, now=at, lease=lease
        )
        if status != "pending":
            assert activities.finish(fleet.sessions, activity_id, status, now=at)

    decided(1, "like", timedelta(minutes=1), "succeeded")
    decided(1, "like", timedelta(minutes=2), "succeeded")
    decided(1, "like", timedelta(minutes=3), "skipped")
    decided(2, "browse", timedelta(minutes=4), "pending")
    decided(2, "post", timedelta(hours=2), "succeeded")  # outside the window
    result = run(fleet, "activity", "stats", "--since", "1h", "--json")
    assert result.exit_code == 0, result.output
    assert [
        (r["persona"], r["action"], r["status"], r["count"]) for r in json.loads(result.stdout)
    ] == [
        ("indie_game_dev", "browse", "pending", 1),
        ("ux_ui_designer", "like", "skipped", 1),
        ("ux_ui_designer", "like", "succeeded", 2),
    ]
    table = run(fleet, "activity", "stats", "--since", "3h").stdout
    assert "activities in the last 3h" in table and "post" in table


def test_a_server_out_of_reach_is_one_line_that_names_it_not_a_traceback(
    tmp_path: Path,
) -> None:
    nowhere = "127.0.0.1:1"  # nothing listens on port 1
    no_database = bootstrap(Settings(database_url=f"postgresql+psycopg://postgres@{nowhere}/x"))
    result = run(no_database, "agents", "list")
    assert result.exit_code == 1
    assert error_line(result).startswith("fleet: database error: connection failed")

    embedded = f"sqlite:///{tmp_path / 'fleet.db'}"
    no_redis = bootstrap(
        Settings(database_url=embedded, redis_url=f"redis://{nowhere}/0", broker_url="memory://")
    )
    result = run(no_redis, "activity", "tail", "--timeout", "1")
    assert result.exit_code == 1
    assert error_line(result).startswith("fleet: Redis error:")

    no_broker = bootstrap(Settings(database_url=embedded, broker_url=f"redis://{nowhere}/0"))
    run(no_broker, "db", "upgrade")
    run(no_broker, "agents", "create", "--persona", "ux_ui_designer", "--count", "1")
    run(no_broker, "agents", "start", "1", "--no-provision")
    result = run(no_broker, "agents", "act", "1", "browse")
    assert result.exit_code == 1
    assert error_line(result).startswith("fleet: broker error:")
    assert activities.list_activities(no_broker.sessions, ActivityFilter()) == [], (
        "the broker was tried before the action was recorded"
    )


def test_an_activity_level_set_at_creation_is_shown_and_drives_the_rhythm(fleet: Fleet) -> None:
    made = run(
        fleet,
        "agents",
        "create",
        "--persona",
        "indie_game_dev",
        "--count",
        "2",
        "--activity",
        "0.5",
    )
    assert made.exit_code == 0, made.output
    run(fleet, "agents", "create", "--persona", "indie_game_dev", "--count", "1")
    shown = json.loads(run(fleet, "agents", "show", "1", "--json").stdout)
    assert (shown["activity"], shown["activity_level"], shown["activity_from"]) == (0.5, 0.5, "set")
    drawn = json.loads(run(fleet, "agents", "show", "3", "--json").stdout)
    assert drawn["activity"] is None and drawn["activity_from"] == "seed"
    assert drawn["activity_level"] > 0 and drawn["rhythm"] == "sessions"
    assert "activity_level  0.5" in run(fleet, "agents", "show", "1").stdout


def test_an_agent_set_aside_is_shown_with_its_reason_and_pages_status(fleet: Fleet) -> None:
    run(fleet, "agents", "create", "--persona", "ux_ui_designer", "--count", "2", "--start")
    with fleet.sessions.begin() as session:
        session.execute(update(Agent).where(Agent.id == 1).values(persona="vanished"))
    run(fleet, "agents", "stop", "1")
    started = run(fleet, "agents", "start", "--all", "--no-provision")
    assert started.exit_code == 1
    assert "agent 1 cannot be started: unknown persona 'vanished'" in error_line(started)
    shown = json.loads(run(fleet, "agents", "show", "1", "--json").stdout)
    assert shown["status"] == "error" and "unknown persona 'vanished'" in shown["error"]
    listed = json.loads(run(fleet, "agents", "list", "--status", "error", "--json").stdout)
    assert [a["id"] for a in listed] == [1]
    status = run(fleet, "status", "--check", "--no-workers")
    assert status.exit_code == 1
    assert "1 agent(s) set aside with status error" in status.stderr


def test_a_sqlite_path_that_is_not_there_is_refused_not_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    typo = tmp_path / "flet.db"
    monkeypatch.setenv("FLEET_DATABASE_URL", f"sqlite:///{typo}")
    result = run(None, "agents", "list")
    assert result.exit_code == 2
    assert error_line(result) == (
        f"fleet: no database at {typo}: check FLEET_DATABASE_URL, or create it with "
        "`fleet db upgrade`"
    )
    assert not typo.exists()
    assert run(None, "db", "upgrade").exit_code == 0  # the one command that creates it
    assert run(None, "agents", "list").exit_code == 0


def test_a_sqlite_url_naming_a_file_that_is_not_a_database_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "notes.db"
    other.write_text("shopping list\n" * 100)
    monkeypatch.setenv("FLEET_DATABASE_URL", f"sqlite:///{other}")
    result = run(None, "agents", "list")
    assert result.exit_code == 1
    assert error_line(result) == "fleet: database error: file is not a database"
    assert other.read_text() == "shopping list\n" * 100


def test_an_admin_holds_the_fleet_and_lifts_the_hold(fleet: Fleet) -> None:
    held = run(fleet, "hold", "set", "--for", "2h", "--reason", "maintenance")
    assert held.exit_code == 0, held.output
    assert "fleet held until" in held.stdout and "maintenance" in held.stdout
    shown = json.loads(run(fleet, "hold", "show", "--json").stdout)
    assert (shown["kind"], shown["reason"]) == ("admin", "maintenance")
    # Nothing is dispatched while the hold is in force.
    active_agents(fleet, 3)
    ticks: list[object] = []
    report = dispatch_due(
        fleet.sessions,
        fleet.personas,
        ticks.extend,
        now=datetime.now(UTC).timestamp() + 3600,
        limits=DispatchLimits(batch_size=100, max_batches=5),
    )
    assert report.ticks == 0 and ticks == []
    assert run(fleet, "hold", "lift").stdout.strip() == "lifted 1 hold(s)"
    assert run(fleet, "hold", "show").stdout.strip() == "no hold in force"
    refused = run(fleet, "hold", "set", "--for", "40d", "--reason", "x")
    assert refused.exit_code == 2 and "at most 30 days" in refused.output
    blank = run(fleet, "hold", "set", "--reason", "  ")
    assert blank.exit_code == 2 and "needs a reason" in blank.output


def test_activity_list_shows_what_an_action_left_not_its_empty_fields(fleet: Fleet) -> None:
    run(fleet, "agents", "create", "--persona", "ux_ui_designer", "--count", "1", "--start")
    now = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
    activity_id = activities.create_activity(
        fleet.sessions,
        1,
        "browse",
        now,
        f"1:{int(now.timestamp())}:browse",
        now=now,
        lease=timedelta(minutes=5),
    )
    with fleet.sessions.begin() as session:
        session.execute(
            update(AgentActivity)
            .where(AgentActivity.id == activity_id)
            .values(status="succeeded", result={"posts": 12, "thought": None, "seen": [1, 2]})
        )
    listed = run(fleet, "activity", "list")
    assert listed.exit_code == 0, listed.output
    assert "posts=12" in listed.stdout
    assert "thought" not in listed.stdout and "None" not in listed.stdout

"""``fleet demo`` on its embedded default: SQLite, the in-memory broker, the sandbox."""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from fleet.cli import cli
from fleet.core.timeline import simulate
from fleet.db.models import Agent
from fleet.demo import (
    PEOPLE_POST_SECONDS,
    SLICE_SECONDS,
    Demo,
    DemoOptions,
    Summary,
    _dispatch_settings,
    _settings,
    run,
)
from fleet_sandbox import storage
from fleet_sandbox.people import PEOPLE

EVENING = datetime(2026, 11, 20, 23, 0, tzinfo=UTC)  # Friday: evening in the Americas
# Monday 16:00 UTC: London and New York in their peaks, Los Angeles and Chicago awake.
AFTERNOON = datetime(2026, 11, 16, 16, 0, tzinfo=UTC)


@pytest.mark.long
def test_the_demo_is_deterministic_for_a_seed() -> None:
    # 96 simulated minutes: six agents at the human rhythm decide a score of actions.
    options = DemoOptions(agents=6, speed=720, duration=8, seed=5, start=EVENING)
    first = run(options, live=False)
    second = run(options, live=False)
    assert first.decided == second.decided
    assert sum(sum(by.values()) for by in first.decided.values()) > 10
    assert first.statuses.get("pending", 0) == 0, "every decided action ended"
    assert first.statuses.get("succeeded", 0) > 0
    assert first.first_action_wall_seconds is not None


@pytest.mark.long
def test_another_seed_makes_another_day() -> None:
    one = run(DemoOptions(agents=6, duration=3, seed=5, start=EVENING), live=False)
    other = run(DemoOptions(agents=6, duration=3, seed=6, start=EVENING), live=False)
    assert one.decided != other.decided


@pytest.mark.long
def test_the_demo_command_prints_a_json_summary() -> None:
    result = CliRunner().invoke(
        cli, ["demo", "--agents", "3", "--duration", "2", "--json", "--start", "2026-11-20T23:00"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout[result.stdout.index("{") :])
    assert summary["steps"] == 8 and summary["gallery_url"].startswith("http://127.0.0.1:")


def test_a_bad_demo_option_is_refused_with_exit_code_2() -> None:
    result = CliRunner().invoke(cli, ["demo", "--start", "tomorrow"])
    assert result.exit_code == 2
    assert "--start 'tomorrow'" in result.stderr


def test_a_step_is_dispatched_whole_at_any_speed() -> None:
    for speed in (1, 720, 1440, 2400, 2401, 100_000):
        for count in (1, 600, 2500):
            options = DemoOptions(agents=count, speed=speed)
            settings = _dispatch_settings(options)
            # No tick due since the previous cycle is collapsed as catch-up ...
            assert settings.catch_up_seconds >= options.slice_seconds + 60
            # ... and every agent is claimed in one cycle, none left for the next.
            assert settings.batch_size * (settings.max_batches_per_cycle - 1) >= count
            assert options.slice_seconds <= SLICE_SECONDS
            assert options.slice_seconds * options.slices == pytest.approx(options.step_seconds)


@pytest.mark.long
def test_the_decided_counts_do_not_depend_on_the_speed() -> None:
    # The same 192 simulated minutes: 32 steps of 6 min, 16 of 12 min, 4 of 48 min (each
    # dispatched in slices of at most 10 min). People do not post (their activity would
    # move the fleet's pace, which is measured at the first cycle after its time).
    runs = [
        run(
            DemoOptions(
                agents=12,
                speed=speed,
                duration=duration,
                seed=5,
                start=AFTERNOON,
                people_post_seconds=None,
            ),
            live=False,
        )
        for speed, duration in ((1440, 8), (2880, 4), (11520, 1))
    ]
    assert [r.simulated_seconds for r in runs] == [11520.0] * 3
    assert sum(sum(by.values()) for by in runs[0].decided.values()) > 50

    def timeline(summary: Summary) -> dict[str, tuple[int, int]]:
        """Per persona, the actions decided and the posts: the timeline's at any speed.
        Which drawn action a session's look at its notifications replaces with a reply
        depends on whether the agent's comment a few minutes before had succeeded when
        the look was decided, which a longer step can change (the two may fall in one
        dispatch cycle since sessions may open minutes apart)."""
        return {p: (sum(by.values()), by.get("post", 0)) for p, by in summary.decided.items()}

    assert timeline(runs[1]) == timeline(runs[0])
    assert timeline(runs[2]) == timeline(runs[0])


def _demo(options: DemoOptions, workdir: Path) -> tuple[Demo, Summary, str]:
    """Run a demo to its end; return it with its sandbox still up, and the gallery page."""
    demo = Demo(options, workdir)
    try:
        demo.prepare()
        demo.run(lambda _: None, threading.Event())
        page = httpx.get(demo.sandbox.url + "/fragment", timeout=10).text
        return demo, demo.summary(), page
    except BaseException:
        demo.close()
        demo.sandbox.stop()
        raise


@pytest.mark.long
def test_the_demo_decides_what_the_timeline_says_and_the_gallery_shows_simulated_time(
    tmp_path: Path,
) -> None:
    # People do not post during this run: the fleet's pace stays 1, and the timeline
    # is the pure one (``test_people_post_through_the_demo`` has them post).
    options = DemoOptions(
        agents=12, speed=11520, duration=2, seed=5, start=AFTERNOON, people_post_seconds=None
    )
    demo, summary, page = _demo(options, tmp_path)
    try:
        end = AFTERNOON + timedelta(seconds=summary.simulated_seconds)
        assert demo.clock.now() == end
        assert demo.fleet is not None
        catalogue = demo.fleet.personas
        # Every tick of every agent's timeline in the span was decided, as the pure
        # timeline decides it: none collapsed, none left behind. (A session of an agent
        # that spoke lately answers its notifications first: a reply takes the place of
        # one drawn action, never of a post, so totals and posts are the timeline's. The
        # sandbox's people were there before the fleet: its pace stays 1.)
        expected: dict[str, Counter[str]] = {}
        with demo.fleet.sessions() as session:
            for agent in session.scalars(select(Agent)):
                rhythm = catalogue.cadences[agent.persona].rhythm(
                    agent.seed, activity=agent.activity
                )
                ticks = simulate(
                    catalogue.get(agent.persona), rhythm, AFTERNOON.timestamp(), end.timestamp()
                )
                for tick in ticks:
                    action = (tick.action or tick.chosen).value
                    expected.setdefault(agent.persona, Counter())[action] += 1
        decided = summary.decided
        assert {p: sum(by.values()) for p, by in decided.items()} == {
            p: sum(by.values()) for p, by in expected.items()
        }
        assert {p: by.get("post", 0) for p, by in decided.items()} == {
            p: by.get("post", 0) for p, by in expected.items()
        }
        assert decided and any("post" in by for by in decided.values())
        assert any("reply" in by for by in decided.values()), "sessions answered"

        # The gallery's posts, comments and likes carry the simulated time.
        gallery = demo.sandbox.app.state.sandbox.storage
        with gallery.begin() as conn:
            stamped = {
                name: [storage.utc(t) for t in conn.scalars(select(table.c.created_at))]
                for name, table in (
                    ("posts", storage.posts),
                    ("comments", storage.comments),
                    ("likes", storage.likes),
                )
            }
            people = {
                storage.utc(t)
                for t in conn.scalars(
                    select(storage.posts.c.created_at)
                    .join(storage.users, storage.users.c.id == storage.posts.c.user_id)
                    .where(storage.users.c.is_agent.is_(False))
                )
            }
            liked_people = conn.scalar(
                select(func.count())
                .select_from(storage.likes)
                .join(storage.posts, storage.posts.c.id == storage.likes.c.post_id)
                .join(storage.users, storage.users.c.id == storage.posts.c.user_id)
                .where(storage.users.c.is_agent.is_(False))
            )
        # People were on the gallery before the fleet: their posts are older than the
        # run, and the fleet's likes found them.
        assert len(people) == len(PEOPLE) and all(t < AFTERNOON for t in people)
        assert liked_people
        by_agents = [t for t in stamped["posts"] if t not in people]
        assert by_agents and stamped["comments"] and stamped["likes"]
        for times in (by_agents, stamped["comments"], stamped["likes"]):
            assert all(AFTERNOON < t <= end for t in times), (times, AFTERNOON, end)
        shown = [datetime.fromisoformat(t) for t in re.findall(r'<time datetime="([^"]+)"', page)]
        assert sorted(shown) == sorted(stamped["posts"])
        assert f"updated {end:%H:%M:%S} UTC" in page
    finally:
        demo.close()
        demo.sandbox.stop()


def test_the_demo_writes_offline_even_with_an_api_key_unless_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-demo-test")
    offline = _settings(tmp_path / "d.db", "http://127.0.0.1:1", DemoOptions())
    assert offline.anthropic_api_key is None
    asked = _settings(tmp_path / "d.db", "http://127.0.0.1:1", DemoOptions(llm=True))
    assert asked.anthropic_api_key is not None
    assert asked.anthropic_api_key.get_secret_value() == "sk-ant-demo-test"


@pytest.mark.long
def test_people_post_through_the_demo_and_the_fleet_meets_them(tmp_path: Path) -> None:
    """The gallery is alive: the seeded people post their next pictures in turn, one
    every PEOPLE_POST_SECONDS of simulated time, each at its own time, and the fleet's
    likes find those posts."""
    options = DemoOptions(agents=12, speed=11520, duration=2, seed=5, start=AFTERNOON)
    demo, summary, _ = _demo(options, tmp_path)
    try:
        gallery = demo.sandbox.app.state.sandbox.storage
        by_people = (
            select(storage.posts.c.id, storage.posts.c.created_at, storage.users.c.username)
            .join(storage.users, storage.users.c.id == storage.posts.c.user_id)
            .where(storage.users.c.is_agent.is_(False))
        )
        with gallery.begin() as conn:
            rows = conn.execute(by_people).all()
            during = sorted(
                (storage.utc(at), who, post_id)
                for post_id, at, who in rows
                if storage.utc(at) >= AFTERNOON
            )
            liked = conn.scalar(
                select(func.count())
                .select_from(storage.likes)
                .where(storage.likes.c.post_id.in_([post_id for _, _, post_id in during]))
            )
        assert len(rows) - len(during) == len(PEOPLE)  # the seeded posts, before the run
        count = int(summary.simulated_seconds // PEOPLE_POST_SECONDS)
        assert [at for at, _, _ in during] == [
            AFTERNOON + timedelta(seconds=PEOPLE_POST_SECONDS * (n + 1)) for n in range(count)
        ]
        assert [who for _, who, _ in during] == [p[0] for p in PEOPLE[:count]]  # in turn
        assert liked
    finally:
        demo.close()
        demo.sandbox.stop()

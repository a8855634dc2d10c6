"""The weekly report: a console page and ``fleet report`` writing the same page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from fleet.cli import cli
from fleet.console.serve import BackgroundConsole
from fleet.service import activity, report
from fleet.service.root import Fleet
from fleet_sandbox import storage as gallery_storage
from fleet_sandbox.server import BackgroundSandbox
from tests.console.browser import Browser
from tests.console.conftest import ARTIFACTS, needs_chromium

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def test_a_week_with_no_activity_says_so_instead_of_drawing_empty_charts(
    pg_fleet: Fleet, tmp_path: Path
) -> None:
    out = tmp_path / "report.html"
    done = CliRunner().invoke(
        cli, ["report", "--week", "2026-W47", "--out", str(out)], obj=pg_fleet
    )
    assert done.exit_code == 0, done.output
    assert "no activity in week 2026-W47" in done.stderr
    page = out.read_text()
    assert "No activity in week 2026-W47" in page and "<svg" not in page


def test_a_malformed_week_is_refused_with_exit_2(pg_fleet: Fleet) -> None:
    done = CliRunner().invoke(cli, ["report", "--week", "2026-47"], obj=pg_fleet)
    assert done.exit_code == 2 and "ISO week like 2026-W47" in done.stderr


@needs_chromium
def test_the_report_of_a_worked_week_in_the_console_and_as_a_file(
    worked: Fleet,
    console: BackgroundConsole,
    browser: Browser,
    tmp_path: Path,
    sandbox: BackgroundSandbox,
) -> None:
    # A person likes and comments on the ux designer's post, beside the fleet's agents.
    posted = (
        activity.find(worked, activity.LedgerQuery(agent_ref="1", action="post"))[0].result or {}
    )
    box, now = sandbox.app.state.sandbox, datetime.now(UTC)
    with box.storage.begin() as conn:
        pat, _ = gallery_storage.invite(
            conn,
            agent_id=None,
            name="Pat",
            username="pat_person",
            persona=None,
            is_agent=False,
            now=now,
        )
        post_id = int(posted["post_id"])
        gallery_storage.toggle_like(conn, post_id=post_id, user_id=pat.id, key=None, now=now)
        gallery_storage.create_comment(
            conn, post_id=post_id, user=pat, content="Love the spacing", key=None, now=now
        )
    week = report.this_week(worked)
    seen = report.weekly(worked, week)
    ux = next(p for p in seen.personas if p.slug == "ux_ui_designer")
    assert ux.succeeded("post") == 1 and ux.succeeded("comment") == 1
    # The target: what the clock, sessions and quotas expect of its 3 active agents
    # since they came (minutes ago: a small share of one hour).
    assert ux.agents == 3 and set(ux.target) <= {
        "post",
        "comment",
        "reply",
        "like",
        "follow",
        "browse",
    }
    assert seen.posts == 2 and seen.posts_read == 2 and seen.engagement_problem is None
    assert (ux.received.likes_from_people, ux.received.comments_from_people) == (1, 1)
    fleet_likes = sum(p.received.likes_from_bots for p in seen.personas)
    assert fleet_likes == 2  # the two likes of the worked fleet (the third one died)
    assert [(task, n) for task, _, n in seen.dead_letters] == [("fleet.like", 1)]
    out = tmp_path / "report.html"
    done = CliRunner().invoke(cli, ["report", "--week", week, "--out", str(out)], obj=worked)
    assert done.exit_code == 0, done.output
    page = out.read_text()
    assert "<svg" in page and "<link" not in page and "src=" not in page  # self-contained
    browser.open(out.as_uri())
    assert "Dead letters and their reasons" in browser.text()
    browser.open(f"{console.url}/report?week={week}")
    text = browser.text()
    assert f"Week {week}" in text and "ux_ui_designer" in text and "fleet.like" in text
    said = text.lower()  # (table heads are drawn in capitals)
    assert "engagement the bots' posts received" in said and "likes from people" in said
    row = browser.text("#engagement tbody tr:last-child")
    assert row.split() == [
        "ux_ui_designer",
        "1",
        "1",
        str(ux.received.likes_from_bots),
        "1",
        str(ux.received.comments_from_bots),
    ]
    target = f"{ux.succeeded('like')} of {ux.target.get('like', 0):g}"
    assert target in browser.text("#per-persona"), "each kind against its target"
    browser.screenshot(ARTIFACTS / "console-report.png")


def test_the_target_counts_each_agent_from_when_it_came() -> None:
    start = datetime(2026, 11, 16, tzinfo=UTC)
    hours = [{"like": 2.0, "post": 1.0}] * 4  # one agent's expected actions, hour by hour
    born = [start - timedelta(days=3), start + timedelta(hours=1, minutes=30)]
    # The first: all 4 hours; the second: half of hour 1, then hours 2 and 3.
    assert report.target_of(hours, start, born) == {"like": 8.0 + 5.0, "post": 4.0 + 2.5}
    assert report.target_of(hours, start, [start + timedelta(hours=5)]) == {}


def test_the_expected_actions_of_one_agent_come_hour_by_hour() -> None:
    from fleet.core.timeline import expected_actions
    from fleet.infra.persona_files import PersonaCatalogue

    catalogue = PersonaCatalogue.from_directory()
    start = datetime(2026, 11, 16, tzinfo=UTC).timestamp()
    rhythms = [catalogue.cadences["ux_ui_designer"].rhythm(seed) for seed in (1, 2, 3)]
    hours = expected_actions(catalogue.get("ux_ui_designer"), rhythms, start, start + 86_400)
    assert len(hours) == 24 and sum(sum(h.values()) for h in hours) > 0
    assert {kind for h in hours for kind in h} <= {
        "post",
        "comment",
        "reply",
        "like",
        "follow",
        "browse",
    }


def test_charts_of_counts_tick_in_whole_numbers() -> None:
    """A count of 2 was drawn against ticks of 0, 0.8, 1.6 and 2.4."""
    import re

    from fleet.console import charts

    assert charts.count_ticks(2.4) == [0, 1, 2, 3]
    assert charts.count_ticks(0) == [0, 1]
    assert charts.count_ticks(7) == [0, 2, 4, 6, 8]
    assert charts.count_ticks(1234) == [0, 500, 1000, 1500]
    for ticks in (charts.count_ticks(n) for n in range(1, 5000, 37)):
        assert len(ticks) <= 6 and ticks[0] == 0
    svgs = [
        charts.stacked_bars("kinds", ["like", "post"], {"succeeded": [1, 2], "skipped": [0, 1]}),
        charts.against("day", ["0", "1", "2"], {"done": [1, 2, 0], "expected": [0.4, 1.6, 2.2]}),
        charts.side_by_side("week", ["like"], {"done": [3], "expected": [2.5]}),
    ]
    for svg in svgs:
        axis = re.search(r'class="axis y[^"]*">(.*?)</g></g>', str(svg), re.S)
        assert axis is not None
        labels = re.findall(r"<text[^>]*>([^<]*)</text>", axis.group(1))
        assert labels and all(label.isdigit() for label in labels), labels


def test_the_offline_writers_token_estimates_are_not_shown_as_billed(pg_fleet: Fleet) -> None:
    """The offline writer records what a model would have cost, at $0: the report
    counts it apart from what a model billed."""
    from fleet import activities
    from fleet.service.agents import NewAgents, create

    fleet = pg_fleet
    now = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)
    create(fleet, NewAgents("ux_ui_designer", 2))
    lease = timedelta(minutes=5)
    for agent_id, usage in (
        (1, {"model": "offline", "input_tokens": 400, "output_tokens": 60, "cost_usd": 0.0}),
        (
            2,
            {
                "model": "claude-haiku-4-5",
                "input_tokens": 900,
                "output_tokens": 80,
                "cost_usd": 0.002,
            },
        ),
    ):
        key = f"{agent_id}:{int(now.timestamp())}:post"
        activity_id = activities.create_activity(
            fleet.sessions, agent_id, "post", now, key, now=now, lease=lease
        )
        activities.save_progress(fleet.sessions, activity_id, now=now, usage=usage)
    row = next(p for p in report.weekly(fleet, "2026-W47").personas if p.slug == "ux_ui_designer")
    assert (row.input_tokens, row.output_tokens) == (900, 80)
    assert row.cost_usd == pytest.approx(0.002)
    assert row.estimated_tokens == 460


def test_the_report_says_which_writer_of_the_chain_wrote_each_text(pg_fleet: Fleet) -> None:
    from fleet import activities
    from fleet.console.report import render
    from fleet.db.models import AgentActivity
    from fleet.service.agents import NewAgents, create

    fleet = pg_fleet
    now = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)
    create(fleet, NewAgents("ux_ui_designer", 3))
    lease = timedelta(minutes=5)
    for agent_id, provider in ((1, "anthropic:claude-haiku-4-5"), (2, "openai:llama3.2"), (3, "")):
        key = f"{agent_id}:{int(now.timestamp())}:comment"
        activity_id = activities.create_activity(
            fleet.sessions, agent_id, "comment", now, key, now=now, lease=lease
        )
        usage = {"model": "m", "input_tokens": 10, "output_tokens": 5, "cost_usd": 0.0}
        if provider:
            usage["provider"] = provider
        activities.save_progress(fleet.sessions, activity_id, now=now, usage=usage)
        with fleet.sessions() as session:
            assert session.get_one(AgentActivity, activity_id).provider == (provider or None)
    week = report.weekly(fleet, "2026-W47")
    row = next(p for p in week.personas if p.slug == "ux_ui_designer")
    assert row.writers == {"anthropic:claude-haiku-4-5": 1, "openai:llama3.2": 1}
    assert "written by anthropic:claude-haiku-4-5 1, openai:llama3.2 1" in render(fleet, "2026-W47")


def test_the_report_says_how_far_the_fleet_stepped_back(pg_fleet: Fleet, tmp_path: Path) -> None:
    from fleet import activities
    from fleet.core.pace import Pace
    from tests.conftest import active_agents

    now = datetime.now(UTC)
    (agent_id,) = active_agents(pg_fleet, 1, now=now)
    made = activities.create_activity(
        pg_fleet.sessions,
        agent_id,
        "browse",
        now,
        f"{agent_id}:1:browse",
        now=now,
        lease=timedelta(minutes=5),
    )
    activities.finish(pg_fleet.sessions, made, "succeeded", now=now, result={})
    activities.keep_pace(pg_fleet.sessions, Pace(300, 100, 250.0, 0.4), now=now)
    week = report.this_week(pg_fleet)
    assert report.weekly(pg_fleet, week).pace == Pace(300, 100, 250.0, 0.4)
    out = tmp_path / "report.html"
    done = CliRunner().invoke(cli, ["report", "--week", week, "--out", str(out)], obj=pg_fleet)
    assert done.exit_code == 0, done.output
    section = out.read_text().split('id="pace"', 1)[1].split("</section>", 1)[0]
    assert "Pace <b>0.40</b>" in section
    assert "people made 300 actions on the gallery and the fleet 100 (25% of all)" in section

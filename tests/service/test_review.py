"""Review mode from outside: agents under review draft, owners decide, the gallery sees
only what was approved, once. The same sequence on Postgres and on SQLite."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine

from fleet.cli import cli
from fleet.core.kinds import Action, ActionKey
from fleet.infra.clocks import SimulatedClock
from fleet.service.root import Fleet, bootstrap
from fleet.settings import Settings
from fleet_sandbox.server import BackgroundSandbox
from tests.gallery.conftest import TOKEN, Admin

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def run(fleet: Fleet, *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), obj=fleet)


def ok_json(fleet: Fleet, *args: str) -> object:
    result = run(fleet, *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def one_error_line(result: Result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(START)


@pytest.fixture
def reviewed(engine: Engine, sandbox: BackgroundSandbox, clock: SimulatedClock) -> Iterator[Fleet]:
    """A Fleet on the test's database and the sandbox gallery, its time moved by hand."""
    settings = Settings(
        database_url=engine.url.render_as_string(hide_password=False),
        gallery={"url": sandbox.url, "token": TOKEN},  # type: ignore[arg-type]
        redis_url=None,
        seed=7,
    )
    fleet = bootstrap(settings, engine, clock=clock)
    yield fleet
    fleet.close()


def _posts(admin: Admin) -> int:
    return int(admin.report()["totals"]["posts"])


def _activity(fleet: Fleet, key: str) -> dict[str, object]:
    rows = ok_json(fleet, "activity", "list", "--limit", "100")
    assert isinstance(rows, list)
    [row] = [r for r in rows if r["idempotency_key"] == key]
    return row  # type: ignore[no-any-return]


def test_drafts_wait_and_only_an_approved_one_reaches_the_gallery_once(
    reviewed: Fleet, admin: Admin, clock: SimulatedClock
) -> None:
    fleet = reviewed
    made = run(fleet, "agents", "create", "--persona", "ux_ui_designer", "--start", "--review")
    assert made.exit_code == 0 and "under review" in made.stdout, made.output

    keys = []
    for _ in range(3):
        acted = ok_json(fleet, "agents", "act", "1", "post", "--here")
        assert isinstance(acted, dict) and acted["status"] == "drafted", acted
        keys.append(str(acted["key"]))
        clock.advance(61)  # one action a second at the most: three distinct keys
    assert _posts(admin) == 0, "nothing reaches the gallery under review"
    pending = ok_json(fleet, "drafts", "list", "--status", "pending")
    assert isinstance(pending, list) and len(pending) == 3
    assert all(d["text"] and d["image_url"] for d in pending), "written, image rendered"
    assert {d["key"] for d in pending} == set(keys)
    assert {_activity(fleet, key)["status"] for key in keys} == {"awaiting_review"}
    first, second, third = sorted(pending, key=lambda d: d["id"])

    approved = ok_json(fleet, "drafts", "approve", str(first["id"]), "--here")
    assert isinstance(approved, list) and approved[0]["outcome"] == "succeeded", approved
    again = run(fleet, "drafts", "approve", str(first["id"]), "--here")
    assert again.exit_code == 0 and f"draft {first['id']} already approved" in again.stdout
    assert _posts(admin) == 1, "approving twice gives one post"
    published = _activity(fleet, first["key"])
    assert published["status"] == "succeeded"

    rejected = run(fleet, "drafts", "reject", str(second["id"]), "--reason", "off brand")
    assert rejected.exit_code == 0, rejected.output
    assert rejected.stdout.strip() == f"draft {second['id']} rejected: off brand"
    ending = _activity(fleet, second["key"])
    assert (ending["status"], ending["error"]) == ("skipped", "rejected: off brand")

    assert ok_json(fleet, "drafts", "expire") == {"expired": []}, "not yet due"
    clock.advance(48 * 3600)
    assert ok_json(fleet, "drafts", "expire") == {"expired": [third["id"]]}
    ending = _activity(fleet, third["key"])
    assert (ending["status"], ending["error"]) == ("skipped", "expired")

    # Decided ones stay decided: a late approval publishes nothing.
    late = run(fleet, "drafts", "approve", str(second["id"]), str(third["id"]), "--here")
    assert late.exit_code == 2 and "was rejected before" in late.stdout
    assert _posts(admin) == 1, "nothing more reaches the gallery"
    shown = ok_json(fleet, "drafts", "list")
    assert isinstance(shown, list)
    assert sorted(d["status"] for d in shown) == ["approved", "expired", "rejected"]


def _comment_draft(fleet: Fleet, clock: SimulatedClock) -> dict[str, object]:
    """Agent 1 (not under review) posts; agent 2 (under review) drafts a comment on it."""
    assert run(fleet, "agents", "create", "--persona", "ux_ui_designer", "--start").exit_code == 0
    made = run(fleet, "agents", "create", "--persona", "social_media_marketer", "--start")
    assert made.exit_code == 0
    assert run(fleet, "review", "on", "2").stdout.strip() == "review on for 1 agent(s)"
    posted = ok_json(fleet, "agents", "act", "1", "post", "--here")
    assert isinstance(posted, dict) and posted["status"] == "succeeded", posted
    clock.advance(5)
    drafted = ok_json(fleet, "agents", "act", "2", "comment", "--here")
    assert isinstance(drafted, dict) and drafted["status"] == "drafted", drafted
    [draft] = ok_json(fleet, "drafts", "list", "--agent", "2")  # type: ignore[misc]
    assert draft["answers"]["title"] and draft["answers"]["author"]
    return draft  # type: ignore[no-any-return]


def test_an_approved_comment_goes_out_at_its_agents_next_session_once(
    reviewed: Fleet, admin: Admin, clock: SimulatedClock
) -> None:
    from fleet.actions import perform
    from fleet.service import work

    fleet = reviewed
    draft = _comment_draft(fleet, clock)
    refused = run(fleet, "drafts", "edit", str(draft["id"]), "--text", "As an AI, I love this.")
    assert refused.exit_code == 2 and "the guard refuses" in one_error_line(refused)
    assert ok_json(fleet, "drafts", "show", str(draft["id"]))["text"] == draft["text"]  # type: ignore[index]
    edited = run(fleet, "drafts", "edit", str(draft["id"]), "--text", "The spacing reads calm.")
    assert edited.exit_code == 0, edited.output

    next_tick = ok_json(fleet, "agents", "show", "2")["next_tick_at"]  # type: ignore[index]
    [approved] = ok_json(fleet, "drafts", "approve", str(draft["id"]))  # type: ignore[misc]
    publish_at = datetime.fromisoformat(approved["publish_at"])
    assert publish_at >= max(clock.now(), datetime.fromisoformat(str(next_tick)))
    assert work.sweep(fleet) == [], "not before its moment"
    assert admin.report()["totals"]["comments"] == 0

    clock.advance((publish_at - clock.now()).total_seconds() + 1)
    sent = work.sweep(fleet)
    assert [key.text for key in sent] == [draft["key"]]
    for key in sent * 2:  # the message delivered twice
        perform(fleet.action_kit, key)
    assert admin.report()["totals"]["comments"] == 1
    shown = ok_json(fleet, "drafts", "show", str(draft["id"]))
    assert isinstance(shown, dict) and shown["activity_status"] == "succeeded"
    assert shown["text"] == "The spacing reads calm."


def test_bad_decisions_are_one_line_and_change_nothing(
    reviewed: Fleet, clock: SimulatedClock
) -> None:
    fleet = reviewed
    draft = _comment_draft(fleet, clock)
    unknown = run(fleet, "drafts", "approve", "999")
    assert unknown.exit_code == 2 and one_error_line(unknown) == "fleet: no draft 999"
    mixed = run(fleet, "drafts", "approve", str(draft["id"]), "999")
    assert mixed.exit_code == 2, "nothing approved when one id is unknown"
    too_long = run(fleet, "drafts", "reject", str(draft["id"]), "--reason", "x" * 501)
    assert too_long.exit_code == 2 and "at most 500" in one_error_line(too_long)
    assert run(fleet, "drafts", "show", "999").exit_code == 2
    assert run(fleet, "drafts", "list", "--status", "maybe").exit_code == 2
    [still] = ok_json(fleet, "drafts", "list")  # type: ignore[misc]
    assert still["status"] == "pending" and still["activity_status"] == "awaiting_review"
    rejected = run(fleet, "drafts", "reject", str(draft["id"]), "--reason", "y" * 500)
    assert rejected.exit_code == 0
    twice = run(fleet, "drafts", "reject", str(draft["id"]))
    assert twice.exit_code == 0 and "already rejected" in twice.stdout


def test_a_negative_or_infinite_expiry_stops_the_cli_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for value in ("-1", "inf", "nan"):
        monkeypatch.setenv("FLEET_REVIEW__EXPIRES_HOURS", value)
        result = CliRunner().invoke(cli, ["drafts", "list"])
        assert result.exit_code == 2
        assert "FLEET_REVIEW__EXPIRES_HOURS" in one_error_line(result)


def test_status_counts_drafts_waiting_and_the_approval_rate(
    reviewed: Fleet, clock: SimulatedClock
) -> None:
    fleet = reviewed
    assert run(fleet, "agents", "create", "--persona", "ux_ui_designer", "--start", "--review")
    for _ in range(3):
        assert ok_json(fleet, "agents", "act", "1", "post", "--here")["status"] == "drafted"  # type: ignore[index]
        clock.advance(61)
    clock.advance(600)
    ids = sorted(d["id"] for d in ok_json(fleet, "drafts", "list"))  # type: ignore[attr-defined]
    assert run(fleet, "drafts", "approve", str(ids[0])).exit_code == 0
    assert run(fleet, "drafts", "reject", str(ids[1])).exit_code == 0
    status = run(fleet, "status", "--no-workers")
    assert status.exit_code == 0, status.output
    assert "drafts: 1 waiting for review" in status.stdout
    assert "1 approved, 1 rejected, 0 expired, approval rate 50%" in status.stdout
    counted = ok_json(fleet, "status", "--no-workers")["drafts"]  # type: ignore[index]
    assert counted["waiting"] == 1 and counted["approval_rate"] == 0.5
    assert counted["median_decision_seconds"] > 600


def test_an_approved_draft_of_an_agent_paused_meanwhile_is_skipped_not_published(
    reviewed: Fleet, admin: Admin
) -> None:
    fleet = reviewed
    assert run(fleet, "agents", "create", "--persona", "ux_ui_designer", "--start", "--review")
    assert ok_json(fleet, "agents", "act", "1", "post", "--here")["status"] == "drafted"  # type: ignore[index]
    assert run(fleet, "agents", "pause", "1").exit_code == 0
    [draft] = ok_json(fleet, "drafts", "list")  # type: ignore[misc]
    [approved] = ok_json(fleet, "drafts", "approve", str(draft["id"]), "--here")  # type: ignore[misc]
    assert approved["outcome"] == "skipped" and "paused" in approved["detail"]["reason"]
    assert _posts(admin) == 0


def test_two_owners_approving_at_once_publish_one_post(
    pg_engine: Engine, sandbox: BackgroundSandbox, admin: Admin, clock: SimulatedClock
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from fleet.actions import perform
    from fleet.service import drafts, work

    settings = Settings(
        database_url=pg_engine.url.render_as_string(hide_password=False),
        gallery={"url": sandbox.url, "token": TOKEN},  # type: ignore[arg-type]
        redis_url=None,
        seed=7,
    )
    fleet = bootstrap(settings, pg_engine, clock=clock)
    try:
        assert run(fleet, "agents", "create", "--persona", "ux_ui_designer", "--start", "--review")
        assert ok_json(fleet, "agents", "act", "1", "post", "--here")["status"] == "drafted"  # type: ignore[index]
        [draft] = drafts.find(fleet)
        with ThreadPoolExecutor(8) as pool:
            approvals = list(
                pool.map(
                    lambda _: drafts.approve(fleet, [draft.id], when=drafts.Publish.NOW), range(8)
                )
            )
        assert sum(a.decided.done for [a] in approvals) == 1
        clock.advance(60)
        for key in work.sweep(fleet) * 2:
            perform(fleet.action_kit, key)
        assert _posts(admin) == 1
    finally:
        fleet.close()


def test_the_weekly_report_counts_the_weeks_decisions_on_drafts(
    reviewed: Fleet, clock: SimulatedClock
) -> None:
    fleet = reviewed
    assert run(fleet, "agents", "create", "--persona", "ux_ui_designer", "--start", "--review")
    for _ in range(2):
        assert ok_json(fleet, "agents", "act", "1", "post", "--here")["status"] == "drafted"  # type: ignore[index]
        clock.advance(61)
    ids = sorted(d["id"] for d in ok_json(fleet, "drafts", "list"))  # type: ignore[attr-defined]
    assert run(fleet, "drafts", "reject", str(ids[0]), "--reason", "no").exit_code == 0
    page = run(fleet, "report", "--week", "2026-W48").stdout
    assert 'id="review"' in page and "Review mode: drafts" in page
    cells = page.split('id="review"')[1].split("</tr>")[1]
    assert '<td class="num">1</td><td class="num">0</td><td class="num">1</td>' in cells
    assert "0%" in cells


def test_the_live_feed_hears_of_drafts_their_rejection_expiry_and_publication(
    sqlite_engine: Engine, sandbox: BackgroundSandbox, clock: SimulatedClock
) -> None:
    events: list[dict[str, object]] = []
    settings = Settings(
        database_url=sqlite_engine.url.render_as_string(hide_password=False),
        gallery={"url": sandbox.url, "token": TOKEN},  # type: ignore[arg-type]
        redis_url=None,
        seed=7,
    )
    fleet = bootstrap(settings, sqlite_engine, clock=clock, publish=events.append)
    try:
        assert run(fleet, "agents", "create", "--persona", "ux_ui_designer", "--start", "--review")
        for _ in range(3):
            assert ok_json(fleet, "agents", "act", "1", "post", "--here")["status"] == "drafted"  # type: ignore[index]
            clock.advance(61)
        first, second, _third = sorted(d["id"] for d in ok_json(fleet, "drafts", "list"))  # type: ignore[attr-defined]
        assert run(fleet, "drafts", "approve", str(first), "--here").exit_code == 0
        assert run(fleet, "drafts", "reject", str(second), "--reason", "off brand").exit_code == 0
        clock.advance(49 * 3600)
        assert run(fleet, "drafts", "expire").exit_code == 0
    finally:
        fleet.close()
    said = [(e["status"], dict(e["detail"]).get("reason")) for e in events]  # type: ignore[call-overload]
    assert [s for s, _ in said].count("drafted") == 3
    assert said[3][0] == "succeeded", "the approved draft's publication"
    assert said[4:] == [("skipped", "rejected: off brand"), ("skipped", "expired")]


def test_drafts_approved_together_go_out_spaced_at_their_agents_next_ticks(
    reviewed: Fleet, clock: SimulatedClock
) -> None:
    fleet = reviewed
    made = run(fleet, "agents", "create", "--persona", "ux_ui_designer", "--count", "3", "--start")
    assert made.exit_code == 0 and run(fleet, "review", "on", "--all").exit_code == 0
    for ref in ("1", "2", "3"):
        assert ok_json(fleet, "agents", "act", ref, "post", "--here")["status"] == "drafted"  # type: ignore[index]
    listed = ok_json(fleet, "drafts", "list")
    assert isinstance(listed, list)
    ticks = {
        d["id"]: datetime.fromisoformat(
            str(ok_json(fleet, "agents", "show", d["handle"])["next_tick_at"])
        )  # type: ignore[index]
        for d in listed
    }
    approved = ok_json(fleet, "drafts", "approve", *(str(i) for i in ticks))
    assert isinstance(approved, list)
    at = sorted(datetime.fromisoformat(a["publish_at"]) for a in approved)
    for one in approved:
        assert datetime.fromisoformat(one["publish_at"]) >= ticks[one["id"]]
    gaps = [(b - a).total_seconds() for a, b in pairwise(at)]
    assert all(gap >= 30 for gap in gaps), gaps
    assert at[-1] - max(ticks.values()) <= timedelta(seconds=2 * 60), "seconds apart, not days"
    now = ok_json(fleet, "drafts", "approve", *(str(i) for i in ticks), "--now")
    assert all(not a["done"] for a in now)  # type: ignore[union-attr]


def test_likes_wait_for_review_when_the_setting_names_them_in_a_batch_too(
    engine: Engine, sandbox: BackgroundSandbox, admin: Admin, clock: SimulatedClock
) -> None:
    from fleet.service import agents, work

    settings = Settings(
        database_url=engine.url.render_as_string(hide_password=False),
        gallery={"url": sandbox.url, "token": TOKEN},  # type: ignore[arg-type]
        redis_url=None,
        seed=7,
        review={"kinds": ["post", "like"]},  # type: ignore[arg-type]
    )
    fleet = bootstrap(settings, engine, clock=clock)
    try:
        assert (
            run(fleet, "agents", "create", "--persona", "ux_ui_designer", "--start").exit_code == 0
        )
        made = run(
            fleet, "agents", "create", "--persona", "data_visualization", "--start", "--review"
        )
        assert made.exit_code == 0
        assert ok_json(fleet, "agents", "act", "1", "post", "--here")["status"] == "succeeded"  # type: ignore[index]
        clock.advance(5)
        sent: list[ActionKey[Action]] = []
        agents.send_now(fleet, "2", "like", lambda key, countdown=0.0: sent.append(key))
        [done] = work.act_batch(fleet, sent).values()
        assert done.status == "drafted", done
        assert admin.report()["totals"]["likes"] == 0
        [draft] = ok_json(fleet, "drafts", "list", "--status", "pending")  # type: ignore[misc]
        assert draft["action"] == "like" and draft["answers"]["post_id"]
        clock.advance(5)
        comment = ok_json(fleet, "agents", "act", "2", "comment", "--here")
        assert comment["status"] == "succeeded", "comments are not reviewed by this setting"  # type: ignore[index]
        [approved] = ok_json(fleet, "drafts", "approve", str(draft["id"]), "--here")  # type: ignore[misc]
        assert approved["outcome"] == "succeeded", approved
        assert admin.report()["totals"]["likes"] == 1
    finally:
        fleet.close()


def test_an_approval_whose_post_another_comment_holds_ends_skipped(
    reviewed: Fleet, clock: SimulatedClock
) -> None:
    from datetime import timedelta as span

    from fleet import activities
    from fleet.service import drafts

    fleet = reviewed
    draft = _comment_draft(fleet, clock)
    shown = drafts.show(fleet, int(draft["id"]))  # type: ignore[call-overload]
    assert shown.target_post_id is not None
    # Another comment of the same agent, in flight, holds the same post meanwhile.
    now = clock.now()
    other = activities.create_activity(
        fleet.sessions,
        shown.agent_id,
        "comment",
        now,
        "2:other:comment",
        now=now,
        lease=span(minutes=5),
    )
    activities.save_progress(fleet.sessions, other, now=now, target_post_id=shown.target_post_id)
    [approved] = ok_json(fleet, "drafts", "approve", str(draft["id"]))  # type: ignore[misc]
    assert approved["done"] and "holds the same post" in approved["reason"]
    ended = drafts.show(fleet, int(draft["id"]))  # type: ignore[call-overload]
    assert ended.activity_status == "skipped" and "holds the same post" in str(ended.ending)


def test_a_second_comment_goes_to_another_post_than_its_agents_draft_answers(
    engine: Engine, reviewed: Fleet, clock: SimulatedClock
) -> None:
    # Taste that never passes a page over (the only open post is the one to take), and
    # every choice reads the feed afresh.
    settings = reviewed.settings.model_copy(
        update={
            "taste": reviewed.settings.taste.model_copy(update={"pass_over": None}),
            "actions": reviewed.settings.actions.model_copy(update={"feed_snapshot_seconds": 0.0}),
        }
    )
    fleet = bootstrap(settings, engine, clock=clock)
    try:
        draft = _comment_draft(fleet, clock)
        clock.advance(5)
        # The gallery's one post is answered by the draft: nothing else to comment on.
        again = ok_json(fleet, "agents", "act", "2", "comment", "--here")
        assert isinstance(again, dict) and again["status"] == "skipped", again
        assert "already answers" not in json.dumps(again), "the draft's post is not chosen again"
        posted = ok_json(fleet, "agents", "act", "1", "post", "--here")
        assert posted["status"] == "succeeded"  # type: ignore[index]
        clock.advance(900)
        second = ok_json(fleet, "agents", "act", "2", "comment", "--here")
        assert isinstance(second, dict) and second["status"] == "drafted", second
        drafted = ok_json(fleet, "drafts", "list", "--agent", "2")
        assert isinstance(drafted, list) and len(drafted) == 2
        answered = {d["answers"]["post_id"] for d in drafted}
        assert len(answered) == 2 and draft["answers"]["post_id"] in answered  # type: ignore[index]
    finally:
        fleet.close()


def test_a_person_s_terminal_escapes_never_reach_the_operator_s_terminal(
    reviewed: Fleet, clock: SimulatedClock
) -> None:
    """A title from the gallery, as a person wrote it: retitle the window, clear the
    screen, hide the rest; ``drafts show`` and ``activity list`` print it inert."""
    from sqlalchemy import update

    from fleet.db.models import AgentActivity

    fleet = reviewed
    draft = _comment_draft(fleet, clock)
    hostile = "Nice\x1b]0;pwned\x07 work\x1b[2J\x1b[8mhidden\x9b31m\r\u202eevil [bold]x[/bold]"
    with fleet.sessions.begin() as session:
        session.execute(
            update(AgentActivity)
            .where(AgentActivity.idempotency_key == draft["key"])
            .values(content={"text": "Lovely light.", "title": hostile, "author": "p\x1bc"})
        )
    for args in (("drafts", "show", str(draft["id"])), ("activity", "list", "--limit", "5")):
        shown = run(fleet, *args)
        assert shown.exit_code == 0, shown.output
        printed = shown.stdout
        assert not any(ch in printed for ch in "\x1b\x07\x9b\r\u202e"), repr(printed)
    shown = run(fleet, "drafts", "show", str(draft["id"])).stdout
    assert "Nice]0;pwned work[2J[8mhidden31m" in shown and "[bold]x[/bold]" in shown
    as_json = json.loads(run(fleet, "drafts", "show", str(draft["id"]), "--json").stdout)
    assert as_json["answers"]["title"] == hostile, "JSON keeps it as it is (escaped, inert)"

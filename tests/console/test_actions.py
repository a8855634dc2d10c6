"""The console's controls that need no browser to check (Starlette's TestClient): the
create form's overrides, tick now and act now, the start's failures after a redirect."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from starlette.testclient import TestClient

from fleet.console.app import build_app
from fleet.console.security import Guard
from fleet.service import activity, agents
from fleet.service.root import Fleet
from tests.gallery.conftest import Admin

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


class Console:
    """A TestClient on the console of a fleet, posting with the session's CSRF token."""

    def __init__(self, http: TestClient) -> None:
        self.http = http
        self.token = http.get("/csrf").json()["csrf"]

    def post(self, path: str, **data: str) -> httpx.Response:
        return self.http.post(path, data={**data, "csrf": self.token}, follow_redirects=False)


@pytest.fixture
def console(worked: Fleet) -> Iterator[Console]:
    with TestClient(build_app(worked, Guard(None)), base_url="http://127.0.0.1") as http:
        yield Console(http)


def test_the_create_form_takes_the_clis_overrides_and_refuses_bad_ones_naming_the_field(
    worked: Fleet, console: Console
) -> None:
    http = console.http
    for field, value, named in [
        ("interval", "ten-20", "interval 'ten-20': expected MIN-MAX seconds"),
        ("interval", "30-10", "interval '30-10': need 0 &lt; MIN &lt;= MAX"),
        ("weights", "post=1,like", "weights 'post=1,like': expected ACTION=NUMBER"),
        ("weights", "post=1,dance=2", "weights: unknown action(s) [&#39;dance&#39;]"),
        ("activity", "-2", "activity level '-2': must be a positive"),
        ("activity", "1e-300", "activity level '1e-300': must be a positive, finite number from"),
        ("activity", "1e308", "activity level '1e308': must be a positive, finite number from"),
    ]:
        answer = console.post(
            "/controls/create", persona="indie_game_dev", count="2", **{field: value}
        )
        assert answer.status_code == 400, (field, value)
        assert named.replace("'", "&#39;") in answer.text, answer.text
    assert "indie_game_dev" not in agents.counts(worked), "nothing written"
    made = console.post(
        "/controls/create",
        persona="indie_game_dev",
        count="2",
        interval="60-120",
        weights="post=0,comment=0,like=5,browse=1",
        activity="0.5",
    )
    assert made.status_code == 303
    assert "created 2 indie_game_dev" in http.get(made.headers["location"]).text
    for one in agents.find(worked, agents.AgentFilter(persona="indie_game_dev")):
        assert one.interval == (60.0, 120.0) and one.activity == 0.5
        assert one.weights == {"post": 0.0, "comment": 0.0, "like": 5.0, "browse": 1.0}
    http.close()


def test_tick_now_and_act_now_from_the_agent_page(worked: Fleet, console: Console) -> None:
    handle = agents.get(worked, "4").handle
    page = console.http.get(f"/agents/{handle}").text
    assert "Tick now" in page and "Act now" in page
    ticked = console.post(f"/agents/{handle}/tick")
    assert ticked.status_code == 303
    shown = console.http.get(ticked.headers["location"]).text
    decided = activity.find(worked, activity.LedgerQuery(agent_ref="4", limit=1))[0]
    assert f"tick now: {handle} decided to {decided.action}" in shown
    assert f"activity {decided.id}" in shown
    # Acted here, in the console's process: the like ends before the page comes back.
    acted = console.post(f"/agents/{handle}/act", kind="like", here="on")
    shown = console.http.get(acted.headers["location"]).text
    liked = activity.find(worked, activity.LedgerQuery(agent_ref="4", action="like", limit=1))[0]
    assert liked.status == "succeeded"
    assert f"act now: like succeeded (activity {liked.id}" in shown
    # Sent to the workers: this fleet's broker is in memory, where no worker would see it.
    refused = console.post(f"/agents/{handle}/act", kind="post")
    assert refused.status_code == 400
    assert "run it here" in refused.text
    # An agent that is not active has no buttons, and a tick is refused with the reason.
    agents.change_status(worked, "pause", agents.Selection(refs=("4",)))
    assert "Tick now" not in console.http.get(f"/agents/{handle}").text
    paused = console.post(f"/agents/{handle}/tick")
    assert paused.status_code == 400 and "is paused, not active" in paused.text


def test_a_start_with_failed_accounts_redirects_and_a_reload_starts_nothing(
    worked: Fleet, console: Console, admin: Admin
) -> None:
    console.post("/controls/create", persona="indie_game_dev", count="2")
    admin.faults(errorRates={"invite": 1.0})
    try:
        started = console.post(
            "/controls/status", command="start", persona="indie_game_dev", provision="on"
        )
    finally:
        admin.faults(errorRates={})
    assert started.status_code == 303
    location = started.headers["location"]
    assert location.startswith("/controls?") and "result=" in location
    agents.change_status(worked, "stop", agents.Selection(persona="indie_game_dev"))
    for _ in range(2):  # the page, then a reload of it: a GET, which starts nothing
        page = console.http.get(location).text
        assert "2 failed" in page and page.count("injected fault") == 2
        assert agents.counts(worked)["indie_game_dev"] == {"stopped": 2}
    # Another session cannot read this one's result; a result no longer kept is said so.
    with TestClient(console.http.app, base_url="http://127.0.0.1") as other:
        elsewhere = other.get(location).text
    assert "injected fault" not in elsewhere and "no longer kept" in elsewhere


def test_the_overview_states_the_verdict_of_status_check(worked: Fleet, console: Console) -> None:
    from fleet.service import board, status

    seen = board.board(worked)
    assert seen.five_minutes is not None
    # The worked fleet: one dead like of seven actions in five minutes, lag none: healthy.
    assert board.verdict(seen, None) == status.check(status.gather(worked), status.Thresholds())
    page = console.http.get("/").text
    assert "Healthy" in page and "would exit 0" in page
    assert "LLM writer" in page and "offline" in page  # as fleet status says
    # With a broker and no worker answering its ping, it is broken, as the CLI says.
    assert board.verdict(seen, []) == ["no worker answers"]


def test_the_activity_page_filters_pages_and_counts(worked: Fleet, console: Console) -> None:
    http = console.http
    everything = activity.find(worked, activity.LedgerQuery(limit=100))
    assert len(everything) == 7
    page = http.get("/activity").text
    assert all(f'<td class="num">{a.id}</td>' in page for a in everything)
    dataviz = http.get("/activity?persona=data_visualization").text
    assert all(a.handle in dataviz for a in everything if a.persona == "data_visualization")
    assert not any(a.handle in dataviz for a in everything if a.persona == "ux_ui_designer")
    dead = http.get("/activity?status=dead&action=like").text
    assert dead.count('<span class="pill dead">dead</span>') == 1
    one = everything[0].handle
    assert f">{one}</a>" in http.get(f"/activity?agent={one}").text
    # Keyset pages of three: 7 rows come as 3, 3, 1, each page after the last one's id.
    first, before = activity.ledger_page(worked, activity.LedgerQuery(limit=3))
    second, again = activity.ledger_page(worked, activity.LedgerQuery(before=before, limit=3))
    third, last = activity.ledger_page(worked, activity.LedgerQuery(before=again, limit=3))
    assert [len(first), len(second), len(third), last] == [3, 3, 1, None]
    assert [a.id for a in first + second + third] == [a.id for a in everything]
    # The counts of ``fleet activity stats``; a bad filter is said, not a crash.
    assert "ux_ui_designer" in page and "No activity in the last" not in page
    bad = http.get("/activity?agent=nobody&since=soon")
    assert bad.status_code == 400
    assert "no agent &#39;nobody&#39;" in bad.text and "since &#39;soon&#39;" in bad.text


def test_reconcile_checks_then_fixes_after_confirming(
    worked: Fleet, console: Console, admin: Admin
) -> None:
    http = console.http
    assert "Check" in http.get("/reconcile").text
    clean = http.get("/reconcile?since=1h&run=1").text
    assert "0 difference(s)" in clean and "would exit 0" in clean
    admin.faults(loseAnswerRates={"create_post": 1.0})  # posted, but the answer is lost
    lost = agents.act_here(worked, "1", "post")
    admin.faults()
    assert lost.status == "dead"
    found = http.get("/reconcile?since=1h&run=1").text
    assert "1 difference(s), 1 remaining" in found and "unrecorded" in found
    assert "would exit 1" in found and 'id="fix"' in found
    asked = console.post("/reconcile/fix", since="1h")
    assert asked.status_code == 200 and "Yes, repair" in asked.text
    assert (
        activity.find(worked, activity.LedgerQuery(agent_ref="1", action="post"))[0].status
        == "dead"
    ), "not yet"
    done = console.post("/reconcile/fix", since="1h", confirm="yes")
    assert done.status_code == 303
    assert (
        activity.find(worked, activity.LedgerQuery(agent_ref="1", action="post"))[0].status
        == "succeeded"
    )
    shown = http.get(done.headers["location"]).text
    assert "1 repaired" in shown and "Repaired: 1 difference(s), 0 remaining" in shown
    assert "<td>yes</td>" in shown


def test_the_agent_page_shows_its_simulated_day_as_schedule_preview_does(
    worked: Fleet, console: Console
) -> None:
    from fleet.service import schedule

    handle = agents.get(worked, "1").handle
    day = schedule.agent_day(worked, "1", "2026-11-18")  # a Wednesday
    assert day.ticks, "a working day has sessions"
    page = console.http.get(f"/agents/{handle}?day=2026-11-18").text
    assert "Its simulated day: Wed 2026-11-18" in page
    assert f"{len(day.session_sizes)} session(s), {len(day.ticks)} action(s)" in page
    opening = next(t for t in day.ticks if t["opens"])
    assert f"<td>{opening['local_time']}</td>" in page
    bad = console.http.get(f"/agents/{handle}?day=someday").text
    assert "day &#39;someday&#39;: expected a date YYYY-MM-DD" in bad


def test_the_personas_page_shows_each_persona_in_full_and_the_agent_page_its_overrides(
    worked: Fleet, console: Console
) -> None:
    page = console.http.get("/personas").text
    persona = worked.personas.get("ux_ui_designer")
    assert "fleet personas show ux_ui_designer" in page
    assert persona.personality.replace("'", "&#39;") in page
    assert ", ".join(persona.interests) in page
    made = agents.create(
        worked, agents.NewAgents("indie_game_dev", 1, interval=(60, 90), activity=0.5)
    )
    agent = agents.get(worked, str(made.first_id))
    shown = console.http.get(f"/agents/{agent.handle}").text
    assert "overrides: interval 60.0-90.0 s activity 0.5" in shown

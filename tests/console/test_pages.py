"""Each page of the console in headless Chromium, on a fleet that has done real work:
what a person sees. Screenshots go to artifacts/console-*.png."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from fleet.console.pages.live import headline
from fleet.console.serve import BackgroundConsole
from fleet.infra.limits import CircuitBreaker
from fleet.service import activity, agents, board, dead_letters
from fleet.service.root import Fleet, bootstrap
from fleet.settings import Settings
from tests.conftest import REDIS_URL
from tests.console.browser import Browser
from tests.console.conftest import ARTIFACTS, browse, needs_chromium
from tests.gallery.conftest import Admin

pytestmark = [pytest.mark.postgres, pytest.mark.redis, needs_chromium]


def test_the_overview_shows_agents_actions_dead_letters_workers_and_breakers(
    worked: Fleet, console: BackgroundConsole, tmp_path: Path
) -> None:
    # The gallery's breaker opened by five failures in a row, as the workers would.
    breaker = CircuitBreaker(
        worked.redis, f"{worked.settings.broker_key_prefix}fleet:breaker:gallery"
    )
    for _ in range(5):
        breaker.failed()
    deadline = time.monotonic() + 30
    while any(p.read_at is None for p in console.app.state.polled):
        assert time.monotonic() < deadline, "the workers were never asked"
        time.sleep(0.02)
    # The fleet stepped back: people were busier than the fleet the last day.
    from datetime import UTC, datetime

    from fleet import activities
    from fleet.core.pace import Pace

    activities.keep_pace(worked.sessions, Pace(300, 100, 250.0, 0.4), now=datetime.now(UTC))
    page = browse(tmp_path, console.url + "/")
    tile = page.split('id="pace-tile"', 1)[1].split("</div>", 1)[0]
    assert "0.40" in tile and "people 300 actions, the fleet 100 (25% ours)" in tile
    assert "Agents by persona and status" in page
    assert ">ux_ui_designer</a>" in page and ">data_visualization</a>" in page
    assert "Actions in the last day" in page  # the chart
    assert 'http-equiv="refresh"' in page
    # The verdict ``fleet status --check`` gives, in words at the top.
    health = page.split('id="health"', 1)[1].split("</section>", 1)[0]
    assert "Healthy" in health
    # And when the fleet acts next (``fleet status``'s outlook line): a quiet fleet is
    # not mistaken for a stopped one.
    outlook = health.split('id="outlook"', 1)[1].split("</p>", 1)[0]
    assert "agent(s) due now" in outlook or "Next agent due at" in outlook, outlook
    # The test fleet's broker is in memory: no worker to ping, and the page says so.
    assert "workers answering" in page and "no broker to ping" in page
    gallery = page.split("gallery breaker", 1)[1]
    assert gallery.split("</div>", 1)[0].count("open") == 1, "the gallery's breaker is open"
    llm = page.split("llm breaker", 1)[1]
    assert "closed" in llm.split("</div>", 1)[0]
    browse(tmp_path, console.url + "/", screenshot="console-overview.png")


def test_the_workers_are_pinged_through_a_real_broker(worked: Fleet) -> None:
    through_redis = replace(
        worked, settings=worked.settings.model_copy(update={"broker_url": REDIS_URL})
    )
    assert board.workers_answering(worked) is None  # in memory: nobody to ping
    assert board.workers_answering(through_redis, timeout=0.3) == []  # none runs here


def test_the_agents_page_searches_filters_and_links_to_an_agent(
    worked: Fleet, console: BackgroundConsole, tmp_path: Path
) -> None:
    everyone = browse(tmp_path, console.url + "/agents")
    handles = [a.handle for a in board.roster(worked)[0]]
    assert len(handles) == 6 and all(handle in everyone for handle in handles)
    one = handles[0]
    found = browse(tmp_path, f"{console.url}/agents?q={one[-4:]}")
    assert one in found and handles[3] not in found
    dataviz = browse(tmp_path, console.url + "/agents?persona=data_visualization")
    assert handles[3] in dataviz and handles[0] not in dataviz
    browse(tmp_path, console.url + "/agents", screenshot="console-agents.png")


def test_agent_pages_come_in_keyset_pages(worked: Fleet) -> None:
    first, after = board.roster(worked, limit=4)
    second, last = board.roster(worked, after=after or 0, limit=4)
    assert [a.id for a in first] == [1, 2, 3, 4] and after == 4
    assert [a.id for a in second] == [5, 6] and last is None


def test_an_agent_page_shows_its_persona_rhythm_posts_and_day(
    worked: Fleet, console: BackgroundConsole, tmp_path: Path
) -> None:
    agent = agents.get(worked, "1")
    posted = activity.find(worked, activity.LedgerQuery(agent_ref="1", action="post"))[0]
    page = browse(tmp_path, f"{console.url}/agents/{agent.handle}")
    assert agent.display_name in page and "ux_ui_designer" in page
    assert "multiplier now" in page and "local time" in page
    assert posted.result is not None and posted.result["image_url"] in page
    assert "The last day" in page and "succeeded" in page
    assert "Tick now" in page and "Act now" in page and "Its simulated day" in page
    # Its post's thumbnail links to that post's own page on the gallery, which shows it.
    post_url = worked.settings.gallery.post_url(posted.result["post_id"])
    assert f'href="{post_url}"' in page and post_url != str(worked.settings.gallery.url)
    with httpx.Client(trust_env=False) as http:
        shown = http.get(post_url)
        unknown = http.get(worked.settings.gallery.post_url("999999"))
    assert shown.status_code == 200 and posted.result["title"] in shown.text
    assert unknown.status_code == 404
    browse(tmp_path, f"{console.url}/agents/{agent.handle}", screenshot="console-agent.png")
    # An agent that looked at the feed twice: both its thoughts, not only the last.
    # (A look at the feed leaves no thought about one time in three: look until two did.)
    deadline = time.monotonic() + 60
    while len(thoughts := _thoughts(worked, "6")) < 2:
        assert time.monotonic() < deadline, "no second thought"
        agents.act_here(worked, "6", "browse")
    thinker = f"{console.url}/agents/{agents.get(worked, '6').handle}"
    page = browse(tmp_path, thinker)
    assert "Its thoughts" in page
    assert all(_escaped(thought) in page for thought in thoughts)
    browse(tmp_path, thinker, screenshot="console-agent-thoughts.png")
    # Its Tick now button: the page it comes back to says what the agent decided.
    with httpx.Client(base_url=console.url, trust_env=False) as http:
        token = http.get("/csrf").json()["csrf"]
        ticked = http.post(f"/agents/{agent.handle}/tick", data={"csrf": token})
    assert ticked.status_code == 303
    shown = browse(tmp_path, console.url + ticked.headers["location"])
    assert f"tick now: {agent.handle} decided to" in shown
    browse(
        tmp_path, console.url + ticked.headers["location"], screenshot="console-agent-ticked.png"
    )


def _thoughts(fleet: Fleet, ref: str) -> list[str]:
    found = activity.find(fleet, activity.LedgerQuery(agent_ref=ref, action="browse"))
    return [str(a.result["thought"]) for a in found if a.result and a.result.get("thought")]


def _escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def test_dead_letters_are_listed_inspected_and_purged(
    worked: Fleet, console: BackgroundConsole, tmp_path: Path
) -> None:
    letters = dead_letters.find(worked)
    assert len(letters) == 1
    page = browse(tmp_path, console.url + "/dead-letters")
    assert "fleet.like" in page and "Replay" in page and "Purge" in page
    one = browse(tmp_path, f"{console.url}/dead-letters/{letters[0].id}")
    assert "secrets redacted" in one and letters[0].error_type in one
    browse(tmp_path, console.url + "/dead-letters", screenshot="console-dead-letters.png")
    with httpx.Client(base_url=console.url, trust_env=False) as http:
        token = http.get("/csrf").json()["csrf"]
        gone = http.post("/dead-letters/purge", data={"ids": str(letters[0].id), "csrf": token})
        assert gone.status_code == 303
        assert "purged 1 dead letter" in http.get(gone.headers["location"]).text
    assert dead_letters.find(worked) == []


def test_controls_create_start_pause_hold_and_delete_after_confirming(
    worked: Fleet, console: BackgroundConsole, tmp_path: Path, admin: Admin, browser: Browser
) -> None:
    page = browse(tmp_path, console.url + "/controls")
    assert "Create agents" in page and "Fleet hold" in page
    browse(tmp_path, console.url + "/controls", screenshot="console-controls.png")
    with httpx.Client(base_url=console.url, trust_env=False) as http:
        token = http.get("/csrf").json()["csrf"]

        def post(path: str, **data: str) -> httpx.Response:
            return http.post(path, data={**data, "csrf": token})

        assert post("/controls/create", persona="indie_game_dev", count="2").status_code == 303
        made = agents.counts(worked)["indie_game_dev"]
        assert made == {"created": 2}
        # The gallery refuses every new account: the start, pressed on the page, names each
        # agent left without one and the gallery's reason.
        admin.faults(errorRates={"invite": 1.0})
        try:
            browser.open(console.url + "/controls")
            browser.evaluate(
                "document.querySelector('#status select[name=persona]').value = 'indie_game_dev';"
                "document.querySelector('#status button[value=start]').click()"
            )
            browser.wait_for("document.getElementById('failed-accounts') !== null")
        finally:
            admin.faults(errorRates={})
        # The POST answered with a redirect: the page shown is a GET, a reload starts nothing.
        assert "result=" in browser.evaluate("location.search")
        agents.change_status(worked, "stop", agents.Selection(persona="indie_game_dev"))
        browser.open(browser.evaluate("location.href"))
        assert agents.counts(worked)["indie_game_dev"] == {"stopped": 2}
        agents.change_status(worked, "start", agents.Selection(persona="indie_game_dev"))
        shown = browser.text("#failed-accounts")
        assert "2 failed" in browser.text(".said")
        assert "overrides" in browser.text("#create")  # interval, weights, activity level
        for one in agents.find(worked, agents.AgentFilter(persona="indie_game_dev")):
            assert one.handle in shown
        assert shown.count("injected fault") == 2, "each failure gives its reason"
        browser.screenshot(ARTIFACTS / "console-start-failures.png")
        post("/controls/status", command="pause", persona="indie_game_dev")
        assert agents.counts(worked)["indie_game_dev"] == {"paused": 2}
        held = post("/controls/hold", reason="maintenance", hours="2")
        assert "maintenance" in http.get(held.headers["location"]).text
        asked = post("/controls/delete", persona="indie_game_dev")
        assert asked.status_code == 200 and "Yes, delete" in asked.text
        assert agents.counts(worked)["indie_game_dev"] == {"paused": 2}, "not before yes"
        post("/controls/delete", persona="indie_game_dev", confirm="yes")
        assert "indie_game_dev" not in agents.counts(worked)
        post("/controls/lift")
    from fleet.service import holds

    assert holds.in_force(worked) is None


def test_the_live_feed_shows_an_event_published_through_redis_within_a_second(
    worked: Fleet, console: BackgroundConsole, browser: Browser
) -> None:
    handle = agents.get(worked, "2").handle
    event = {
        "activity_id": 99,
        "agent_id": 2,
        "handle": handle,
        "persona": "ux_ui_designer",
        "action": "comment",
        "status": "succeeded",
        "detail": {
            "text": "<script>alert('x')</script> lovely grid",
            "title": "Dashboards",
            "author": "dana_posts",
        },
        "local_time": "09:31",
    }
    # A real like, made on the sandbox: its event carries the liked post's picture.
    liked = activity.find(worked, activity.LedgerQuery(agent_ref="5", action="like"))[0]
    assert liked.result is not None and liked.result["image_url"].startswith("http")
    like = {
        "agent_id": 5,
        "handle": agents.get(worked, "5").handle,
        "persona": "data_visualization",
        "action": "like",
        "status": "succeeded",
        "detail": liked.result,
    }
    browser.open(console.url + "/feed")
    browser.wait_for("document.getElementById('feed-state').className.includes('up')")
    assert "Live: connected" in browser.text("#feed-state")
    # Pushed to the open page (it does not reload). How fast is for a benchmark to
    # say, not for a deadline in a test on a shared machine.
    worked.activity_channel.publish(event)
    browser.wait_for("document.querySelectorAll('#feed li').length > 0")
    shown = browser.text("#feed")
    # Once each: who did what to which post by whom, the words quoted (the script as
    # text), then the persona, status and local time.
    assert f"{handle} commented on 'Dashboards' by dana_posts" in shown
    assert shown.count("Dashboards") == 1 and shown.count(handle) == 1
    assert shown.count("<script>alert('x')</script> lovely grid") == 1
    assert "ux_ui_designer · succeeded · 09:31 local" in shown
    assert browser.evaluate("document.querySelectorAll('#feed script').length") == 0
    worked.activity_channel.publish(like)
    browser.wait_for("document.querySelectorAll('#feed li.like img.thumb').length > 0")
    thumb = "document.querySelector('#feed li.like img.thumb')"
    assert browser.evaluate(f"{thumb}.getAttribute('src')") == liked.result["image_url"]
    assert browser.evaluate(f"{thumb}.closest('a').href") == worked.settings.gallery.post_url(
        liked.result["post_id"]
    )
    browser.wait_for(f"{thumb}.complete && {thumb}.naturalWidth > 0")  # the picture loads
    shown = browser.text("#feed li.like")
    assert headline(like) in shown and f"by {liked.result['author']}" in shown
    assert shown.count(liked.result["title"][:20]) == 1
    browser.screenshot(ARTIFACTS / "console-feed.png")
    # A viewer who opens the feed now sees the newest events at once, newest first.
    browser.open(console.url + "/feed")
    browser.wait_for("document.querySelectorAll('#feed li').length == 2")
    assert browser.evaluate("document.querySelector('#feed li').className").endswith("like")


def test_the_live_feed_filters_by_persona_kind_and_status(
    worked: Fleet, console: BackgroundConsole, browser: Browser
) -> None:
    browser.open(console.url + "/feed?persona=data_visualization&kind=like")
    browser.wait_for("document.getElementById('feed-state').className.includes('up')")
    base = {"agent_id": 4, "handle": agents.get(worked, "4").handle, "status": "succeeded"}
    worked.activity_channel.publish({**base, "persona": "ux_ui_designer", "action": "like"})
    worked.activity_channel.publish({**base, "persona": "data_visualization", "action": "post"})
    worked.activity_channel.publish(
        {**base, "persona": "data_visualization", "action": "like", "detail": {"title": "Wanted"}}
    )
    # The events reach the page in the order they were published: once the last one
    # shows, the two before it were read and left out.
    browser.wait_for("document.querySelector('#feed').innerText.includes('Wanted')")
    assert browser.evaluate("document.querySelectorAll('#feed li').length") == 1
    assert "Wanted" in browser.text("#feed")


def test_the_live_feed_says_when_redis_is_unreachable(pg_engine: Engine, browser: Browser) -> None:
    settings = Settings(
        database_url=pg_engine.url.render_as_string(hide_password=False),
        redis_url="redis://127.0.0.1:1/0",  # type: ignore[arg-type]
    )
    fleet = bootstrap(settings, pg_engine)
    try:
        with BackgroundConsole(fleet) as console:
            browser.open(console.url + "/feed")
            browser.wait_for("document.getElementById('feed-state').className.includes('down')")
            state = browser.text("#feed-state")
            assert "Redis unreachable" in state and "retrying" in state
            browser.screenshot(ARTIFACTS / "console-feed-down.png")
            browser.open(console.url + "/")
            assert "redis unreachable" in browser.text()
    finally:
        fleet.close()


def test_the_personas_page_draws_each_week_and_the_hours_against_the_clock(
    worked: Fleet, console: BackgroundConsole, browser: Browser
) -> None:
    from fleet.service import rhythm

    seen = {r.slug: r for r in rhythm.rhythms(worked)}
    ux = seen["ux_ui_designer"]
    assert sum(ux.actual) == 4 and round(sum(ux.expected)) == 4  # 3 acts + the dead like
    assert max(max(day) for day in ux.week) > 1 and min(min(day) for day in ux.week) == 0
    browser.open(console.url + "/personas")
    text = browser.text()
    assert "America/Los_Angeles" in text and "Actions per local hour" in text
    assert browser.evaluate("document.querySelectorAll('table.heat').length") == len(seen)
    # Each persona in full, one click away (``fleet personas show``).
    browser.evaluate("document.querySelector('#persona-ux_ui_designer details').open = true")
    full = browser.text("#persona-ux_ui_designer details")
    assert worked.personas.get("ux_ui_designer").personality in full and "daily quotas" in full
    browser.evaluate("document.getElementById('persona-ux_ui_designer').scrollIntoView()")
    browser.screenshot(ARTIFACTS / "console-personas.png")


def test_the_activity_and_reconcile_pages_show_the_ledger_and_repair_after_confirming(
    worked: Fleet, console: BackgroundConsole, browser: Browser, admin: Admin
) -> None:
    browser.open(console.url + "/activity?since=1d")
    ledger = browser.text("#ledger")
    for one in activity.find(worked, activity.LedgerQuery(limit=10)):
        assert one.handle in ledger
    assert "injected fault" in ledger  # the dead like says why
    assert "ux_ui_designer" in browser.text("#stats")
    browser.screenshot(ARTIFACTS / "console-activity.png")
    admin.faults(loseAnswerRates={"create_post": 1.0})  # posted, but the answer is lost
    agents.act_here(worked, "4", "post")
    admin.faults()
    browser.open(console.url + "/reconcile?since=1h")
    browser.evaluate("document.getElementById('check').click()")
    browser.wait_for("document.getElementById('findings') !== null")
    assert "1 difference(s), 1 remaining" in browser.text("#findings")
    browser.screenshot(ARTIFACTS / "console-reconcile.png")
    browser.evaluate("document.getElementById('fix').click()")
    browser.wait_for("document.getElementById('confirm-fix') !== null")
    browser.screenshot(ARTIFACTS / "console-reconcile-confirm.png")
    browser.evaluate("document.getElementById('confirm').click()")
    browser.wait_for("document.querySelector('.said') !== null")
    assert "1 repaired" in browser.text(".said")
    assert "Repaired: 1 difference(s), 0 remaining" in browser.text("#findings")
    assert (
        activity.find(worked, activity.LedgerQuery(agent_ref="4", action="post"))[0].status
        == "succeeded"
    )
    browser.screenshot(ARTIFACTS / "console-reconcile-fixed.png")


@needs_chromium
def test_the_agent_page_shows_the_longest_persona_whole(
    worked: Fleet, console: BackgroundConsole, browser: Browser
) -> None:
    """social_media_marketer was clipped in its tile."""
    agents.create(worked, agents.NewAgents("social_media_marketer", 1))
    handle = agents.get(worked, "7").handle
    browser.open(f"{console.url}/agents/{handle}")
    browser.wait_for("document.querySelector('.tile.wide b') !== null")
    tile = "document.querySelector('.tile.wide b')"
    assert browser.evaluate(f"{tile}.textContent") == "social_media_marketer"
    assert browser.evaluate(f"{tile}.scrollWidth <= {tile}.clientWidth")
    browser.screenshot(ARTIFACTS / "console-agent-long-persona.png")

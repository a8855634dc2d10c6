"""The console against a hostile user and a careless operator (issue 31, items 2-10):
guessing the password, a weak signing key, a session after logout, tampered numbers,
words put on a page by a link, framing, a long hold reason, credentials in the gallery's
address, and a slow statement on the event loop."""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, text
from starlette.testclient import TestClient

from fleet.agents import AgentFilter, Selection, defer_agent
from fleet.cli import cli
from fleet.console.app import build_app
from fleet.console.security import Guard, Session, headers_for, origin_of
from fleet.console.serve import BackgroundConsole
from fleet.console.throttle import Throttle
from fleet.console.web import Web
from fleet.errors import ConfigError
from fleet.service import agents, dead_letters, holds
from fleet.service.root import Fleet, bootstrap
from fleet.settings import Settings, load_settings
from tests.console.conftest import PASSWORD

pytestmark = [pytest.mark.postgres]


def _token(http: TestClient) -> str:
    return str(http.get("/csrf").json()["csrf"])


def _login_token(http: TestClient) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', http.get("/login").text)
    assert found is not None
    return found.group(1)


# 2. Guessing the password.


def test_wrong_passwords_are_slowed_then_refused_per_client() -> None:
    now = [1000.0]
    throttle = Throttle(per_client=6, overall=100, free=3, first_delay=0.25, clock=lambda: now[0])
    delays = [throttle.failed("10.0.0.1")[1] for _ in range(6)]
    assert delays == [0.0, 0.0, 0.0, 0.25, 0.5, 1.0]
    assert throttle.refused("10.0.0.1") == pytest.approx(throttle.window)
    assert throttle.refused("10.0.0.2") is None, "another client is not held up"
    now[0] += throttle.window + 1
    assert throttle.refused("10.0.0.1") is None, "the window moved on"
    throttle.failed("10.0.0.1")
    throttle.succeeded("10.0.0.1")
    assert throttle.failed("10.0.0.1") == (1, 0.0), "the right password forgives"


def test_wrong_passwords_from_many_clients_are_refused_overall() -> None:
    throttle = Throttle(per_client=100, overall=4, clock=lambda: 5.0)
    for n in range(4):
        throttle.failed(f"10.0.0.{n}")
    assert throttle.refused("10.9.9.9") is not None, "a client never seen is refused too"


def test_everyone_s_wrong_passwords_never_lock_the_owner_out() -> None:
    """100 wrong passwords from anywhere refuse strangers, never a client that logged in
    lately nor a signed-in session; a client's own failures still hold it."""
    now = [1000.0]
    throttle = Throttle(per_client=10, overall=100, clock=lambda: now[0])
    throttle.succeeded("192.0.2.7")  # the owner logged in earlier from here
    for n in range(100):
        throttle.failed(f"10.0.{n // 250}.{n % 250}")
    assert throttle.refused("10.9.9.9") is not None, "a stranger waits"
    assert throttle.refused("192.0.2.7") is None, "the owner's client passes"
    assert throttle.refused("198.51.100.1", trusted=True) is None, "so does a session"
    for _ in range(10):
        throttle.failed("192.0.2.7")
    assert throttle.refused("192.0.2.7") is not None, "its own failures still count"
    now[0] += 31 * 86_400
    assert not throttle.known("192.0.2.7"), "known for 30 days"


def test_the_owner_logs_in_while_strangers_are_refused() -> None:
    guard = Guard(PASSWORD, throttle=Throttle(per_client=10, overall=5, first_delay=0.0))

    def attempt(client: str, given: str) -> bool | float:
        return asyncio.run(guard.attempt(client, given, via="login form"))

    assert attempt("192.0.2.7", PASSWORD) is True
    for n in range(5):
        assert attempt(f"10.0.0.{n}", "guess") is False
    assert not isinstance(attempt("10.9.9.9", PASSWORD), bool), "a stranger is refused"
    assert attempt("192.0.2.7", PASSWORD) is True, "the owner's client is heard"


def test_a_forged_session_cookie_counts_as_a_wrong_password(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Someone who found the signing key forges one cookie a password guess: each is a
    failed attempt, logged, and the client is refused after the per-client limit."""
    key = secrets.token_bytes(32)
    guard = Guard(PASSWORD, key, throttle=Throttle(per_client=3, first_delay=0.0))
    caplog.set_level(logging.WARNING, logger="fleet.console")
    real = guard.dump(guard.signed_in_session())
    for guess in ("hunter2hunter2", "password1234", "letmeinletmein"):
        tag = Guard(guess, key)._password_tag()
        forged = guard.dump(Session(secrets.token_urlsafe(18), True, int(time.time()), tag))
        assert guard.load(forged, "10.0.0.9") is None
    logged = [r.getMessage() for r in caplog.records]
    assert sum("session cookie of another password from 10.0.0.9" in m for m in logged) == 3
    assert guard.throttle.refused("10.0.0.9") is not None
    assert guard.load(real, "10.0.0.9") is None, "refused: not even compared"
    assert guard.load(real, "192.0.2.7") is not None, "another client's session works"


def test_the_form_and_basic_share_the_refusal_and_failures_are_logged(
    pg_fleet: Fleet, caplog: pytest.LogCaptureFixture
) -> None:
    guard = Guard(PASSWORD, throttle=Throttle(per_client=3, first_delay=0.0))
    caplog.set_level(logging.WARNING, logger="fleet.console")
    with TestClient(build_app(pg_fleet, guard), base_url="http://127.0.0.1") as http:
        token = _login_token(http)
        for guess in ("guess1", "guess2"):
            wrong = http.post("/login", data={"password": guess, "csrf": token})
            assert wrong.status_code == 401
        assert http.get("/agents", auth=("admin", "guess3")).status_code == 401
        # Three failures: even the right password is refused now, by form and by Basic.
        late = http.post(
            "/login", data={"password": PASSWORD, "csrf": token}, follow_redirects=False
        )
        assert late.status_code == 429 and int(late.headers["retry-after"]) > 0
        assert "Too many wrong passwords" in late.text
        assert http.get("/agents", auth=("admin", PASSWORD)).status_code == 429
    logged = [r.getMessage() for r in caplog.records]
    assert sum("wrong password from" in line for line in logged) == 3
    assert any("(HTTP Basic)" in line for line in logged)
    assert not any(PASSWORD in line or "guess1" in line for line in logged)


def _load(monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    monkeypatch.setenv("FLEET_ENV_FILE", "")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return load_settings()


def test_a_console_password_under_12_characters_is_refused_at_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(ConfigError, match="FLEET_CONSOLE__PASSWORD: at least 12 characters"):
        _load(monkeypatch, FLEET_CONSOLE__PASSWORD="hunter2hunt")
    assert _load(monkeypatch, FLEET_CONSOLE__PASSWORD="hunter2hunter").console.password


# 3. The signing key.


@pytest.mark.parametrize(
    "key",
    [
        "fleet",
        "fleet" * 10,
        "a" * 64,
        "0123456789abcdef" * 2,
        # What a length-times-entropy score passed: the alphabet, a keyboard walk, a
        # pangram, a passphrase, words run together.
        "abcdefghijklmnopqrstuvwxyz0123456789ABCDEF",
        "qwertyuiopasdfghjklzxcvbnm1234567890!@#$",
        "The quick brown fox jumps over the lazy dog",
        "correct horse battery staple under the moonlight",
        "thequickbrownfoxjumpsoverthelazydog12345",
    ],
)
def test_a_weak_secret_key_is_refused_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, key: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        _load(monkeypatch, FLEET_CONSOLE__SECRET_KEY=key)
    said = str(refused.value)
    assert "FLEET_CONSOLE__SECRET_KEY: too weak" in said and "token_urlsafe(48)" in said
    assert key not in said.split("SECRET_KEY")[1].replace("token_urlsafe", "")
    # What the docs say to run, and 32 random bytes in hex, are taken.
    for made in (secrets.token_urlsafe(48), secrets.token_hex(32)):
        assert _load(monkeypatch, FLEET_CONSOLE__SECRET_KEY=made).console.secret_key


# 4. Sessions.


def test_a_session_cookie_no_longer_works_after_logout(pg_fleet: Fleet) -> None:
    guard = Guard(PASSWORD)
    with TestClient(build_app(pg_fleet, guard), base_url="http://127.0.0.1") as http:
        token = _login_token(http)
        http.post("/login", data={"password": PASSWORD, "csrf": token}, follow_redirects=False)
        stolen = http.cookies["fleet_console"]
        assert http.get("/agents", follow_redirects=False).status_code == 200
        http.post("/logout", data={"csrf": _token(http)}, follow_redirects=False)
        http.cookies.clear()
        http.cookies.set("fleet_console", stolen)
        again = http.get("/agents", headers={"accept": "text/html"}, follow_redirects=False)
        assert again.status_code == 303 and again.headers["location"].startswith("/login")


def test_a_password_change_logs_every_session_out() -> None:
    key = secrets.token_bytes(32)
    before = Guard("the old password", key)
    cookie = before.dump(before.signed_in_session())
    assert Guard("the old password", key).load(cookie) is not None, "a restart keeps it"
    assert Guard("the new password", key).load(cookie) is None
    assert "the old password" not in cookie


# 5. Tampered numbers.


@pytest.mark.parametrize(
    ("path", "named"),
    [
        ("/agents?after=" + "9" * 20, "after"),
        ("/activity?before=" + "9" * 20, "before"),
        ("/dead-letters/" + "9" * 20, "dead letter id"),
        ("/drafts/" + "9" * 20, "draft id"),
        ("/report?week=9999-W52", "week"),
        ("/agents?q=a%00b", "query parameter 'q'"),
        ("/agents?q=" + "a" * 50_000, "search (q)"),
    ],
)
def test_a_tampered_number_or_search_is_refused_with_400_naming_it(
    pg_fleet: Fleet, path: str, named: str
) -> None:
    app = build_app(pg_fleet, Guard(None))
    with TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False) as http:
        answer = http.get(path)
    assert answer.status_code == 400, answer.text[:300]
    assert named.replace("'", "&#39;") in answer.text or named in answer.text


@pytest.mark.parametrize(
    ("path", "form"),
    [
        ("/drafts/approve", {"ids": "9" * 20}),
        ("/drafts/reject", {"ids": "1, " + "9" * 20}),
        ("/drafts/" + "9" * 20 + "/edit", {"text": "better words"}),
    ],
)
def test_a_tampered_draft_id_in_a_form_is_refused_with_400_naming_it(
    pg_fleet: Fleet, path: str, form: dict[str, str]
) -> None:
    app = build_app(pg_fleet, Guard(None))
    with TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False) as http:
        answer = http.post(path, data={**form, "csrf": _token(http)})
    assert answer.status_code == 400, answer.text[:300]
    assert "draft id &#39;99999999999999999999&#39;" in answer.text


@pytest.mark.parametrize("hours", ["inf", "nan", "abc", "1e-9", "-1", "1e308"])
def test_the_hold_forms_hours_are_refused_with_400_naming_them(pg_fleet: Fleet, hours: str) -> None:
    app = build_app(pg_fleet, Guard(None))
    with TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False) as http:
        answer = http.post(
            "/controls/hold", data={"reason": "upkeep", "hours": hours, "csrf": _token(http)}
        )
    assert answer.status_code == 400 and f"hours &#39;{hours}&#39;" in answer.text
    assert holds.in_force(pg_fleet) is None


def test_a_report_for_a_week_past_the_last_date_exits_2_with_one_line(pg_fleet: Fleet) -> None:
    result = CliRunner().invoke(cli, ["report", "--week", "9999-W52"], obj=pg_fleet)
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert result.stderr.strip().count("\n") == 0 and "9999-W52" in result.stderr


# 6. Words on a page.


def test_a_page_shows_only_what_the_console_signed(pg_fleet: Fleet) -> None:
    phish = "Session expired: call +1 555 0100"
    guard = Guard(None)
    with TestClient(build_app(pg_fleet, guard), base_url="http://127.0.0.1") as http:
        for path in ("/login", "/agents", "/controls"):
            assert "555 0100" not in http.get(path, params={"said": phish}).text
        signed = guard.sign_said("lifted 0 hold(s)")
        assert "lifted 0 hold(s)" in http.get("/controls", params={"said": signed}).text
        forged = Guard(None).sign_said(phish)  # another key
        assert "555 0100" not in http.get("/controls", params={"said": forged}).text


# 7. Framing and images.


def test_the_console_s_image_hosts_join_the_gallery_in_the_policy(
    monkeypatch: pytest.MonkeyPatch, pg_engine: Engine
) -> None:
    monkeypatch.setenv("FLEET_CONSOLE__IMAGE_HOSTS", '["https://cdn.example/images"]')
    settings = _load(monkeypatch, FLEET_DATABASE_URL=pg_engine.url.render_as_string(False))
    fleet = bootstrap(settings, pg_engine)
    try:
        with TestClient(build_app(fleet, Guard(None)), base_url="http://127.0.0.1") as http:
            policy = http.get("/login").headers["content-security-policy"]
    finally:
        fleet.close()
    gallery = origin_of(str(settings.gallery.url))
    assert policy == f"frame-ancestors 'none'; img-src 'self' {gallery} https://cdn.example"


def test_the_image_policy_names_the_gallery_origin_only() -> None:
    policy = dict(headers_for(["https://user:pw@gallery.example:8443/api?x=1"]))
    assert policy[b"content-security-policy"] == (
        b"frame-ancestors 'none'; img-src 'self' https://gallery.example:8443"
    )
    assert dict(headers_for(["javascript:alert(1)"]))[b"content-security-policy"] == (
        b"frame-ancestors 'none'; img-src 'self'"
    )


def test_every_answer_forbids_framing_and_sniffing(pg_fleet: Fleet) -> None:
    gallery = origin_of(str(pg_fleet.settings.gallery.url))
    app = build_app(pg_fleet, Guard(PASSWORD))
    with TestClient(app, base_url="http://127.0.0.1") as http:
        answers = [
            http.get("/login"),
            http.get("/static/console.css"),
            http.get("/agents", follow_redirects=False),  # 303 to the login
            http.get("/agents", auth=("admin", "wrong")),  # 401
            http.get("/agents", auth=("admin", PASSWORD)),
            http.get("/no-such-page", auth=("admin", PASSWORD)),  # 404
        ]
    for answer in answers:
        assert answer.headers["x-frame-options"] == "DENY", answer.url
        # Images from the console and the gallery only: a draft's image on any other host
        # is never fetched by the owner's browser.
        policy = answer.headers["content-security-policy"]
        assert policy == f"frame-ancestors 'none'; img-src 'self' {gallery}", policy
        assert answer.headers["x-content-type-options"] == "nosniff"


# 8. Hold reasons.


def test_a_hold_reason_over_500_characters_is_refused_in_the_console_and_the_cli(
    pg_fleet: Fleet,
) -> None:
    long = "x" * 501
    app = build_app(pg_fleet, Guard(None))
    with TestClient(app, base_url="http://127.0.0.1") as http:
        answer = http.post(
            "/controls/hold",
            data={"reason": long, "hours": "1", "csrf": _token(http)},
            follow_redirects=False,
        )
    assert answer.status_code == 400 and "reason: at most 500 characters" in answer.text
    result = CliRunner().invoke(cli, ["hold", "set", "--reason", long * 2], obj=pg_fleet)
    assert result.exit_code == 2 and "reason: at most 500 characters" in result.stderr
    assert long not in result.stderr
    assert holds.in_force(pg_fleet) is None


# 9. Credentials in the gallery's address.


def test_links_to_the_gallery_carry_no_credentials(pg_engine: Engine) -> None:
    url = pg_engine.url.render_as_string(hide_password=False)
    gallery = {"url": "http://bob:s3cret-pass@gallery.example:8700/", "token": "t" * 20}
    operator = {"operator_name": "Gallery Ops", "operator_url": "https://gallery.example/ops"}
    settings = Settings(database_url=url, gallery=gallery, disclosure=operator)  # type: ignore[arg-type]
    fleet = bootstrap(settings, pg_engine)
    try:
        web = Web.of(fleet, Guard(None))
        assert web.gallery == "http://gallery.example:8700"
        assert web.post_url("42") == "http://gallery.example:8700/posts/42"
        assert "s3cret-pass" in fleet.secrets, "the password stays a masked secret"
    finally:
        fleet.close()


# 10. A slow statement on the event loop.

SLOW_POSTS: list[tuple[str, Any, str, dict[str, str]]] = [
    ("/controls/create", agents, "create", {"persona": "ux_ui_designer", "count": "1"}),
    ("/controls/status", agents, "change_status", {"command": "pause", "all": "on"}),
    ("/controls/delete", agents, "delete", {"all": "on", "confirm": "yes"}),
    ("/controls/hold", holds, "hold", {"reason": "upkeep", "hours": "1"}),
    ("/controls/lift", holds, "lift", {}),
    ("/dead-letters/replay", dead_letters, "replay", {"ids": "1"}),
    ("/dead-letters/purge", dead_letters, "purge", {"ids": "1"}),
]


@pytest.fixture
def open_console(pg_fleet: Fleet) -> Iterator[BackgroundConsole]:
    agents.create(pg_fleet, agents.NewAgents("ux_ui_designer", 1))
    with BackgroundConsole(pg_fleet) as running:
        yield running


@pytest.mark.parametrize(("path", "module", "name", "form"), SLOW_POSTS)
def test_a_slow_post_does_not_hold_up_another_page(
    open_console: BackgroundConsole,
    monkeypatch: pytest.MonkeyPatch,
    path: str,
    module: Any,
    name: str,
    form: dict[str, str],
) -> None:
    """The POST's database work waits until another page has been served: on the event
    loop it would wait in vain (the page could not be served) and the page time out."""
    entered, served = threading.Event(), threading.Event()
    original: Callable[..., Any] = getattr(module, name)

    def slow(*args: Any, **kwargs: Any) -> Any:
        entered.set()
        served.wait(timeout=10)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, slow)
    monkeypatch.setattr(Fleet, "sender", lambda self, **_: lambda *_: None)  # no broker
    answers: list[int] = []

    def post() -> None:
        with httpx.Client(base_url=open_console.url, trust_env=False, timeout=30) as http:
            token = http.get("/csrf").json()["csrf"]
            answers.append(http.post(path, data={**form, "csrf": token}).status_code)

    poster = threading.Thread(target=post)
    poster.start()
    try:
        assert entered.wait(timeout=10), "the POST never reached its database work"
        with httpx.Client(base_url=open_console.url, trust_env=False, timeout=5) as other:
            assert other.get("/csrf").status_code == 200
    finally:
        served.set()
        poster.join(timeout=30)
    assert answers and answers[0] in (303, 400), answers


def test_a_hold_waiting_on_a_locked_table_does_not_hold_up_another_page(
    open_console: BackgroundConsole, pg_engine: Engine
) -> None:
    """A real slow statement: the hold's write waits on a lock another transaction holds;
    meanwhile the agents page (which reads another table) is served."""
    answers: list[int] = []

    def post() -> None:
        with httpx.Client(base_url=open_console.url, trust_env=False, timeout=30) as http:
            token = http.get("/csrf").json()["csrf"]
            form = {"reason": "upkeep", "hours": "1", "csrf": token}
            answers.append(http.post("/controls/hold", data=form).status_code)

    poster = threading.Thread(target=post)
    with pg_engine.connect() as locker:
        locker.execute(text("LOCK TABLE fleet_holds IN ACCESS EXCLUSIVE MODE"))
        try:
            poster.start()
            _wait_for_a_lock_wait(pg_engine)
            with httpx.Client(base_url=open_console.url, trust_env=False, timeout=5) as other:
                assert other.get("/agents").status_code == 200
        finally:
            locker.rollback()
    poster.join(timeout=30)
    assert answers == [303]


def _wait_for_a_lock_wait(engine: Engine) -> None:
    deadline = time.monotonic() + 10
    with engine.connect() as watcher:
        while not watcher.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock'"
            )
        ).scalar():
            assert time.monotonic() < deadline, "the hold never waited on the lock"
            watcher.rollback()
            time.sleep(0.02)


# 16. A long deferral on the overview.


def test_the_overview_flags_an_agent_deferred_far_ahead(pg_fleet: Fleet) -> None:
    now = datetime.now(UTC)
    agents.create(pg_fleet, agents.NewAgents("ux_ui_designer", 1))
    agents.change_status(pg_fleet, "start", Selection(everyone=True))
    (parked,) = agents.find(pg_fleet, AgentFilter())
    defer_agent(pg_fleet.sessions, parked.id, now + timedelta(days=31))
    with TestClient(build_app(pg_fleet, Guard(None)), base_url="http://127.0.0.1") as http:
        health = http.get("/").text.split('id="health"', 1)[1].split("</section>", 1)[0]
    assert "Unhealthy" in health
    assert (
        f"1 agent(s) deferred more than 25 hours by the gallery&#39;s 429, the longest @{parked.handle}"
        in (health)
    )

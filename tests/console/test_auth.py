"""Who gets in: a password, a signed cookie, HTTP Basic, CSRF on every POST, loopback."""

from __future__ import annotations

import re

import httpx
import pytest
from click.testing import CliRunner
from starlette.routing import Route

from fleet.cli import cli
from fleet.console.app import build_app
from fleet.console.security import Guard
from fleet.console.serve import BackgroundConsole
from fleet.service import agents
from fleet.service.root import Fleet
from tests.console.conftest import PASSWORD

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def client(url: str) -> httpx.Client:
    return httpx.Client(base_url=url, trust_env=False, headers={"accept": "text/html"})


@pytest.mark.parametrize(
    "host", ["0.0.0.0", "127.foo.invalid", "127.0.0.1.nip.io", "localhost.evil"]
)
def test_a_host_other_than_loopback_without_a_password_is_refused(
    pg_fleet: Fleet, host: str
) -> None:
    """A name beginning with 127. is no loopback: one line and exit 2, no traceback."""
    result = CliRunner().invoke(cli, ["console", "serve", "--host", host], obj=pg_fleet)
    assert result.exit_code == 2
    assert "without a password" in result.stderr
    assert "Traceback" not in result.output


def test_without_a_password_only_a_loopback_host_header_is_served(pg_fleet: Fleet) -> None:
    """DNS rebinding: a hostile page whose name (127.attacker.example) the attacker
    points at 127.0.0.1 sends that name as Host: refused, with its CSRF token unread."""
    with BackgroundConsole(pg_fleet) as console, client(console.url) as http:
        assert http.get("/agents").status_code == 200
        port = console.url.rsplit(":", 1)[1]
        for allowed in ("127.0.0.1", "127.8.9.10", "localhost", "[::1]", "LOCALHOST."):
            assert http.get("/agents", headers={"host": f"{allowed}:{port}"}).status_code == 200
        for hostile in (
            "evil.example:8800",
            f"127.attacker.example:{port}",
            f"127.0.0.1.nip.io:{port}",
            f"localhost.evil:{port}",
            "127.1:8800",
            "",
        ):
            answer = http.get("/controls", headers={"host": hostile})
            assert answer.status_code == 400, hostile
            assert "csrf" not in answer.text.lower()


def test_a_page_without_login_redirects_to_the_login_form(
    guarded: tuple[Fleet, BackgroundConsole],
) -> None:
    _, console = guarded
    with client(console.url) as http:
        answer = http.get("/agents?persona=ux_ui_designer")
        assert answer.status_code == 303
        assert answer.headers["location"] == "/login?next=/agents%3Fpersona%3Dux_ui_designer"
        assert http.get("/feed/events", headers={"accept": "text/event-stream"}).status_code == 401
        # The form says that a browser does not log in with a password in the address.
        form = http.get("/login").text
        assert "a password in the address" in form and "HTTP Basic" in form


def test_login_with_the_password_gives_a_session_and_a_wrong_one_does_not(
    guarded: tuple[Fleet, BackgroundConsole],
) -> None:
    _, console = guarded
    with client(console.url) as http:
        form = http.get("/login").text
        token = re.search(r'name="csrf" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
        wrong = http.post("/login", data={"password": "guess", "csrf": token, "next": "/"})
        assert wrong.status_code == 401 and "Wrong password" in wrong.text
        assert http.get("/").status_code == 303
        right = http.post(
            "/login", data={"password": PASSWORD, "csrf": token, "next": "//evil.example/"}
        )
        assert right.status_code == 303 and right.headers["location"] == "/"
        assert http.get("/").status_code == 200


def test_scripts_use_http_basic(guarded: tuple[Fleet, BackgroundConsole]) -> None:
    _, console = guarded
    with client(console.url) as http:
        assert http.get("/agents", auth=("admin", PASSWORD)).status_code == 200
        assert http.get("/agents", auth=("admin", "nope")).status_code == 401
        assert http.get("/agents", auth=("root", PASSWORD)).status_code == 401
        token = http.get("/csrf", auth=("admin", PASSWORD)).json()["csrf"]
        made = http.post(
            "/controls/create",
            data={"persona": "ux_ui_designer", "count": "2", "csrf": token},
            auth=("admin", PASSWORD),
        )
        assert made.status_code == 303
        shown = http.get(made.headers["location"], auth=("admin", PASSWORD)).text
        assert "created 2 ux_ui_designer" in shown


def test_every_post_without_its_csrf_token_is_403_and_changes_nothing(
    guarded: tuple[Fleet, BackgroundConsole],
) -> None:
    fleet, console = guarded
    agents.create(fleet, agents.NewAgents("ux_ui_designer", 2))
    before = agents.counts(fleet)
    posts = [
        route.path
        for route in console.app.routes
        if isinstance(route, Route) and "POST" in (route.methods or ())
    ]
    assert len(posts) >= 9
    forms = {
        "/controls/create": {"persona": "ux_ui_designer", "count": "3", "start": "on"},
        "/controls/status": {"command": "start", "all": "on"},
        "/controls/delete": {"all": "on", "confirm": "yes"},
        "/controls/hold": {"reason": "nope", "hours": "1"},
    }
    with client(console.url) as http:
        for path in posts:
            for token in (None, "forged"):
                data = dict(forms.get(path, {}))
                if token:
                    data["csrf"] = token
                answer = http.post(path, data=data, auth=("admin", PASSWORD))
                assert answer.status_code == 403, path
    assert agents.counts(fleet) == before
    from fleet.service import holds

    assert holds.in_force(fleet) is None


def test_what_agents_wrote_is_shown_as_text(pg_fleet: Fleet) -> None:
    from starlette.testclient import TestClient

    agents.create(pg_fleet, agents.NewAgents("ux_ui_designer", 1))
    app = build_app(pg_fleet, Guard(None))
    with TestClient(app, base_url="http://127.0.0.1") as http:
        token = http.get("/csrf").json()["csrf"]
        answer = http.post(
            "/controls/hold", data={"reason": "<script>alert(1)</script>", "csrf": token}
        )
        page = http.get(answer.headers.get("location", "/controls")).text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_secrets_never_reach_a_page(guarded: tuple[Fleet, BackgroundConsole]) -> None:
    fleet, console = guarded
    with client(console.url) as http:
        page = http.get("/controls", auth=("admin", PASSWORD)).text
    assert PASSWORD not in page
    assert fleet.settings.gallery.token.get_secret_value() not in page


def test_the_first_line_says_whether_a_password_guards_the_console() -> None:
    from fleet.console.serve import first_line

    assert "no password set, serving loopback only" in first_line(Guard(None), "http://x")
    assert "password required" in first_line(Guard("pw"), "http://x")


def test_a_tampered_or_foreign_session_cookie_is_not_a_login() -> None:
    guard = Guard("pw")
    signed = guard.dump(guard.signed_in_session())
    assert guard.load(signed) is not None
    body, mac = signed.rsplit(".", 1)
    assert guard.load(f"{body}.{'0' * len(mac)}") is None
    assert Guard("pw").load(signed) is None, "another process's key signs another cookie"


def test_the_session_cookie_is_secure_over_https_and_as_the_settings_say(
    pg_fleet: Fleet,
) -> None:
    from starlette.testclient import TestClient

    def cookie(guard: Guard, base: str) -> str:
        with TestClient(build_app(pg_fleet, guard), base_url=base) as http:
            given = http.get("/login").headers["set-cookie"]
        assert "HttpOnly" in given and "SameSite=strict" in given
        return given

    assert "Secure" not in cookie(Guard("pw"), "http://127.0.0.1")  # loopback http works
    assert "Secure" in cookie(Guard("pw"), "https://console.example")
    assert "Secure" in cookie(Guard("pw", secure=True), "http://127.0.0.1")
    assert "Secure" not in cookie(Guard("pw", secure=False), "https://console.example")

"""The operator's link opens (issue 67, item 3): a bounded GET at start-up's surfaces; a
link that does not answer is a warning in ``fleet status`` and a finding of ``fleet
audit``, never a crash; an address that is not http(s) still stops start-up."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from pydantic import AnyUrl, ValidationError

from fleet.honesty import use_cases as honesty
from fleet.honesty.audit_disclosure import operator_link
from fleet.honesty.audit_scope import Scope
from fleet.infra.link_check import check_link
from fleet.service.root import Fleet, bootstrap
from fleet.settings import DisclosureSettings

pytestmark = pytest.mark.real_operator_link


class _Page(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/slow":
            time.sleep(3)
        status = 200 if self.path in ("/about/agents", "/slow") else 404
        body = b"<h1>About these automated accounts</h1>" * (1 if status == 200 else 0)
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        return None


@pytest.fixture
def site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_link_that_answers_opens_and_one_that_does_not_says_why(site: str) -> None:
    assert check_link(f"{site}/about/agents").ok
    missing = check_link(f"{site}/nowhere")
    assert (missing.ok, missing.status, missing.reason) == (False, 404, "HTTP 404")
    gone = check_link(f"http://127.0.0.1:{_closed_port()}/about/agents", seconds=2)
    assert not gone.ok and gone.status is None and gone.reason.startswith("no answer")
    began = time.monotonic()
    slow = check_link(f"{site}/slow", seconds=0.5)
    assert not slow.ok and time.monotonic() - began < 2.5, "bounded by its deadline"
    assert not check_link("ftp://example.test/x").ok


def _with_link(fleet: Fleet, url: str) -> Fleet:
    settings = fleet.settings.model_copy(
        update={"disclosure": DisclosureSettings(operator_url=AnyUrl(url))}
    )
    return bootstrap(settings, fleet.engine)


def test_status_warns_and_the_audit_falls_short_when_the_link_is_dead(
    fleet: Fleet, site: str
) -> None:
    dead = _with_link(fleet, f"http://127.0.0.1:{_closed_port()}/about/agents")
    try:
        found = operator_link(Scope(dead, None, since=dead.clock.now(), now=dead.clock.now()))  # type: ignore[arg-type]
        assert found.status == "short" and "does not open" in found.summary
        assert honesty.operator_link(dead, seconds=2).ok is False
    finally:
        dead.close()
    alive = _with_link(fleet, f"{site}/about/agents")
    try:
        found = operator_link(Scope(alive, None, since=alive.clock.now(), now=alive.clock.now()))  # type: ignore[arg-type]
        assert found.status == "ok"
    finally:
        alive.close()


def test_an_operator_url_that_is_not_http_stops_start_up_naming_it() -> None:
    with pytest.raises(ValidationError, match="operator_url"):
        DisclosureSettings(operator_url="javascript:alert(1)")  # type: ignore[arg-type]

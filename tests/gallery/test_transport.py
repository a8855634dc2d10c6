"""The gallery's HTTP client (``HttpGallery``: the lean wire, and httpx's client on
``fleet.infra.transports.Transport``, the transport a proxy is reached through) against a
raw socket server that answers as told: connections kept alive, answers cut
short, silent or trickling held to the call's deadline, answers too large or compressed
refused unread, TLS verified. The transport is built on public interfaces only."""

from __future__ import annotations

import ast
import gzip
import json
import socket
import ssl
import threading
from pathlib import Path

import httpx
import pytest

from fleet.errors import TransientError
from fleet.gallery.answers import MalformedAnswer
from fleet.gallery.client import HttpGallery
from fleet.infra import transports
from tests.gallery.conftest import settings_for
from tests.gallery.raw_server import RawServer, sends

OK = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{"items": []}'
ok = sends(OK)
ok_then_closed = sends(OK, keep=False)


def _gallery(origin: str, **settings: object) -> HttpGallery:
    return HttpGallery(settings_for(origin, **settings))


def test_calls_share_one_kept_alive_connection() -> None:
    with RawServer(ok, ok, ok).running() as server:
        gallery = _gallery(server.origin)
        pages = [gallery.feed(agent="ada") for _ in range(3)]
        gallery.close()
    assert pages == [[], [], []]
    assert server.connections == 1


def test_a_connection_the_server_closed_is_not_reused() -> None:
    closing = OK.replace(b"Content-Length", b"Connection: close\r\nContent-Length")

    def close_after(conn: socket.socket, head: bytes) -> bool:
        conn.sendall(closing)
        return False

    with RawServer(close_after, ok).running() as server:
        gallery = _gallery(server.origin)
        assert gallery.feed(agent="ada") == gallery.feed(agent="ada") == []
        gallery.close()
    assert server.connections == 2


@pytest.mark.parametrize(
    "sent",
    [
        b"",  # the connection closed before any answer
        b"HTTP/1.1 200 OK\r\n",  # the status line, then nothing (a lost answer)
        b'HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n{"items"',  # a body cut short
        b"garbage\r\n\r\n",  # not HTTP
    ],
)
def test_an_answer_cut_short_or_malformed_is_transient(sent: bytes) -> None:
    def answer(conn: socket.socket, head: bytes) -> bool:
        conn.sendall(sent)
        return False

    with RawServer(answer).running() as server:
        gallery = _gallery(server.origin)
        with pytest.raises(TransientError, match="connection failed"):
            gallery.like(agent="ada", post_id="p1", idempotency_key="k")
        gallery.close()


def test_a_silent_server_times_out_at_the_call_s_deadline() -> None:
    answered = threading.Event()

    def silent(conn: socket.socket, head: bytes) -> bool:
        answered.wait(30)  # says nothing until the test is over
        return False

    with RawServer(silent).running() as server:
        gallery = _gallery(server.origin, timeout_seconds=0.3)
        with pytest.raises(TransientError, match="timed out"):
            gallery.feed(agent="ada")
        answered.set()
        gallery.close()


def test_a_refused_connection_is_transient() -> None:
    with socket.create_server(("127.0.0.1", 0)) as placeholder:
        port = placeholder.getsockname()[1]
    with pytest.raises(TransientError, match="ConnectError"):
        _gallery(f"http://127.0.0.1:{port}").feed(agent="ada")


def test_a_call_is_written_with_its_host_headers_and_json_body() -> None:
    def created(conn: socket.socket, head: bytes) -> bool:
        conn.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n{"x": 1}\n')
        return True

    with RawServer(created).running() as server:
        gallery = _gallery(server.origin + "/p")
        with pytest.raises(MalformedAnswer):  # the answer is no comment: beside the point
            gallery.comment(agent="ada", post_id="a/b", content="é", idempotency_key="k1")
        gallery.close()
    (request,) = server.requests
    head, _, sent = request.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0] == "POST /p/api/showcase/a%2Fb/comments HTTP/1.1"
    port = server.origin.rsplit(":", 1)[1]
    headers = {line.partition(": ")[0].lower(): line.partition(": ")[2] for line in lines[1:]}
    assert headers["host"] == f"127.0.0.1:{port}"
    assert (headers["x-agent-id"], headers["idempotency-key"]) == ("ada", "k1")
    assert headers["accept-encoding"] == "identity"
    assert json.loads(sent) == {"content": "é"}


def test_https_is_verified_against_the_given_context(certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    served = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    served.load_cert_chain(cert, key)

    def over_tls(conn: socket.socket, head: bytes) -> bool:
        conn.sendall(OK)
        return True

    server = RawServer(over_tls, over_tls)
    server.tls = served
    with server.running():
        origin = server.origin.replace("http:", "https:")
        trusting = ssl.create_default_context(cafile=str(cert))
        with httpx.Client(transport=transports.Transport(verify=trusting)) as client:
            assert client.get(origin + "/a").json() == {"items": []}
        # The machine's CA bundle does not know this certificate: refused at the handshake.
        stranger = transports.Transport(verify=ssl.create_default_context())
        with (
            httpx.Client(transport=stranger) as client,
            pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"),
        ):
            client.get(origin + "/b")


# -- bounded answers (issue 31, item 17) ----------------------------------------------


def test_a_compressed_answer_is_refused_never_inflated() -> None:
    packed = gzip.compress(b'{"items": [' + b'"x",' * 2_000_000 + b'"x"]}')

    def gzipped(conn: socket.socket, head: bytes) -> bool:
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
            + f"Content-Length: {len(packed)}\r\n\r\n".encode()
            + packed
        )
        return True

    with RawServer(gzipped).running() as server:
        gallery = _gallery(server.origin)
        with pytest.raises(MalformedAnswer, match="encoding"):
            gallery.feed(agent="ada")
        gallery.close()


def test_an_answer_announced_over_the_cap_is_refused_unread() -> None:
    def huge(conn: socket.socket, head: bytes) -> bool:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 300000000\r\n\r\n" + b"x" * 65_536)
        return False

    with RawServer(huge).running() as server:
        gallery = _gallery(server.origin, max_answer_bytes=1_000_000)
        with pytest.raises(MalformedAnswer, match="300,000,000 bytes announced"):
            gallery.feed(agent="ada")
        gallery.close()


def test_a_chunked_answer_past_the_cap_is_cut_at_the_cap() -> None:
    sent: list[int] = []

    def endless(conn: socket.socket, head: bytes) -> bool:
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"x" * 65_536
        try:
            for _ in range(5_000):  # 320 MB, were it all read
                conn.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                sent.append(1)
        except OSError:
            pass  # the client hung up: what it should do
        return False

    with RawServer(endless).running() as server:
        gallery = _gallery(server.origin, max_answer_bytes=1_000_000)
        with pytest.raises(MalformedAnswer, match="larger than 1,000,000 bytes"):
            gallery.feed(agent="ada")
        gallery.close()
    assert len(sent) < 5_000


# -- public interfaces only (issue 32, item 7) ------------------------------------------

FLEET = Path(__file__).resolve().parents[2] / "fleet"
HTTP_CODE = ("gallery", "infra", "content")  # where Fleet speaks HTTP through httpx


def test_the_http_code_touches_no_private_attribute_of_another_library() -> None:
    """No ``x._name`` on an object that is not this one (``self``, ``cls``, ``super()``),
    and no ``getattr(x, "_name")``: a private attribute of httpx, httpcore or an SDK may
    change in any release (the deadline once patched ``transport._pool``)."""
    found = []
    paths = [path for part in HTTP_CODE for path in sorted((FLEET / part).rglob("*.py"))]
    for path in paths:
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            name = None
            if isinstance(node, ast.Attribute) and not (
                (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
                or (isinstance(node.value, ast.Call) and ast.unparse(node.value) == "super()")
            ):
                name = node.attr
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("getattr", "setattr", "hasattr")
                and len(node.args) > 1
                and isinstance(node.args[1], ast.Constant)
                and isinstance(node.args[1].value, str)
            ):
                name = node.args[1].value
            if name and name.startswith("_") and not name.startswith("__"):
                found.append(f"{path.relative_to(FLEET.parent)}:{node.lineno} {name}")
    assert found == []

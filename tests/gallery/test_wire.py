"""The gallery's lean wire against a raw socket server that answers as told: connections
kept alive and reused, never reused once the server closed them, answers cut short
reported as httpx reports them, and calls encoded as httpx encodes them."""

from __future__ import annotations

import gzip
import json
import socket
import ssl
import threading
import time
from pathlib import Path

import httpx
import pytest

from fleet.gallery.answers import MalformedAnswer
from fleet.gallery.wire import Wire
from fleet.infra import bounded
from tests.gallery.raw_server import RawServer, sends

OK = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"ok":true}'
ok = sends(OK)
ok_then_closed = sends(OK, keep=False)


def _wire(origin: str, read_timeout: float = 5.0) -> Wire:
    return Wire(origin, tls=None, connect_timeout=5.0, write_timeout=5.0, read_timeout=read_timeout)


def test_calls_share_one_kept_alive_connection() -> None:
    with RawServer(ok, ok, ok).running() as server:
        wire = _wire(server.origin)
        answers = [wire.call("GET", f"/api/x/{n}", [], None) for n in range(3)]
        wire.close()
    assert [a.json() for a in answers] == [{"ok": True}] * 3
    assert answers[0].status_code == 200 and answers[0].reason_phrase == "OK"
    assert server.connections == 1


def test_a_connection_the_server_closed_is_not_reused() -> None:
    # The first answer comes on a connection the server then closes; the wire sees it
    # closed before the next call and opens another, and the call goes through.
    with RawServer(ok_then_closed, ok).running() as server:
        wire = _wire(server.origin)
        first = wire.call("GET", "/a", [], None)
        (kept,) = wire._idle
        until = time.monotonic() + 10
        while kept.reusable():  # the server's close reaches this side within moments
            assert time.monotonic() < until, "the server's close never arrived"
            time.sleep(0.01)
        second = wire.call("GET", "/b", [], None)
        wire.close()
    assert first.json() == second.json() == {"ok": True}
    assert server.connections == 2


def test_an_answer_that_asks_to_close_closes_its_connection() -> None:
    def closing(conn: socket.socket, head: bytes) -> bool:
        conn.sendall(OK.replace(b"Content-Length", b"Connection: close\r\nContent-Length"))
        return False

    with RawServer(closing, ok).running() as server:
        wire = _wire(server.origin)
        wire.call("GET", "/a", [], None)
        assert wire._idle == []
        wire.call("GET", "/b", [], None)
        wire.close()
    assert server.connections == 2


@pytest.mark.parametrize(
    "sent",
    [
        b"",  # the connection closed before any answer
        b"HTTP/1.1 200 OK\r\n",  # the status line, then nothing (a lost answer)
        b'HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n{"items"',  # a body cut short
        b"garbage\r\n\r\n",  # not HTTP
        # The wire's own reading of the head and framing (RFC 9112, strictly):
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
        b"HTTP/1.1 200 OK\r\nContent-Length: -2\r\n\r\n{}",
        b"HTTP/1.1 200 OK\r\nX-A: a\x01b\r\nContent-Length: 2\r\n\r\n{}",
        b"HTTP/1.1 200 OK\r\nBad Name: x\r\nContent-Length: 2\r\n\r\n{}",
        b"HTTP/1.1 200 OK\r\n folded: x\r\nContent-Length: 2\r\n\r\n{}",
        b"HTTP/1.1 200 OK\r\nX-Long: " + b"a" * 70_000 + b"\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n" + b"X-Many: 1\r\n" * 101 + b"Content-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}xx\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n",  # no last chunk
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n{}",
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n",
        b"HTTP/2 200 OK\r\nContent-Length: 2\r\n\r\n{}",
        b"HTTP/1.1 200 OK\nContent-Length: 2\n\n{}",  # bare line feeds
    ],
)
def test_an_answer_cut_short_or_malformed_is_a_protocol_error(sent: bytes) -> None:
    def answer(conn: socket.socket, head: bytes) -> bool:
        conn.sendall(sent)
        return False

    with RawServer(answer).running() as server:
        wire = _wire(server.origin)
        with pytest.raises(httpx.RemoteProtocolError, match="cut short or malformed"):
            wire.call("POST", "/api/like", [], b"{}")
        assert wire._idle == []


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        # An interim answer, then the answer.
        (b"HTTP/1.1 100 Continue\r\n\r\n" + OK, True),
        # Chunks, an extension, a trailer.
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b'5;x=y\r\n{"ok"\r\n7\r\n:true}\n\r\n0\r\nX-Trailer: 1\r\n\r\n',
            True,
        ),
        # HTTP/1.0 without a length: the body ends with the connection, not kept.
        (b'HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{"ok":true}', False),
        # Bytes past the answer's end: read as far as the answer goes, the connection
        # not kept (what follows is nobody's answer).
        (OK + b"HTTP/1.1 200 OK\r\n", False),
    ],
)
def test_an_answer_is_read_by_its_framing(sent: bytes, kept: bool) -> None:
    def answer(conn: socket.socket, head: bytes) -> bool:
        conn.sendall(sent)
        return kept  # kept: the server waits for the next call

    with RawServer(answer).running() as server:
        wire = _wire(server.origin)
        answered = wire.call("GET", "/api/x", [], None)
        assert answered.json() == {"ok": True}
        assert answered.status_code == 200 and answered.reason_phrase == "OK"
        assert len(wire._idle) == (1 if kept else 0)
        wire.close()


def test_a_silent_server_times_out_at_the_call_s_deadline() -> None:
    answered = threading.Event()

    def silent(conn: socket.socket, head: bytes) -> bool:
        answered.wait(30)  # says nothing until the test is over
        return False

    with RawServer(silent).running() as server:
        wire = _wire(server.origin, read_timeout=30.0)
        with bounded.within(0.3), pytest.raises(httpx.ReadTimeout):
            wire.call("GET", "/slow", [], None)
        answered.set()


def test_a_refused_connection_is_a_connect_error() -> None:
    with socket.create_server(("127.0.0.1", 0)) as placeholder:
        port = placeholder.getsockname()[1]
    with pytest.raises(httpx.ConnectError):
        _wire(f"http://127.0.0.1:{port}").call("GET", "/", [], None)


def test_a_call_is_written_as_given_with_its_host_and_length() -> None:
    with RawServer(ok).running() as server:
        wire = _wire(server.origin)
        body = json.dumps({"a": "é"}, ensure_ascii=False).encode()
        wire.call("POST", "/p/api/x?limit=20&flag=true", [("X-Agent-Id", "ada")], body)
        wire.close()
    (request,) = server.requests
    head, _, sent = request.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0] == "POST /p/api/x?limit=20&flag=true HTTP/1.1"
    port = server.origin.rsplit(":", 1)[1]
    assert set(lines[1:]) == {
        f"Host: 127.0.0.1:{port}",
        "X-Agent-Id: ada",
        f"Content-Length: {len(body)}",
    }
    assert sent == body


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
        wire = Wire(origin, tls=trusting, connect_timeout=5, write_timeout=5, read_timeout=5)
        assert wire.call("GET", "/a", [], None).json() == {"ok": True}
        wire.close()
        # The machine's CA bundle does not know this certificate: refused at the handshake.
        stranger = Wire(
            origin,
            tls=ssl.create_default_context(),
            connect_timeout=5,
            write_timeout=5,
            read_timeout=5,
        )
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            stranger.call("GET", "/b", [], None)


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
        wire = _wire(server.origin)
        with pytest.raises(MalformedAnswer, match="encoding"):
            wire.call("GET", "/api/showcase", [], None)
        wire.close()


def test_an_answer_announced_over_the_cap_is_refused_unread() -> None:
    def huge(conn: socket.socket, head: bytes) -> bool:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 300000000\r\n\r\n" + b"x" * 65_536)
        return False

    with RawServer(huge).running() as server:
        wire = Wire(
            server.origin,
            tls=None,
            connect_timeout=5.0,
            write_timeout=5.0,
            read_timeout=5.0,
            max_answer_bytes=1_000_000,
        )
        with pytest.raises(MalformedAnswer, match="300,000,000 bytes announced"):
            wire.call("GET", "/api/showcase", [], None)
        wire.close()


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
        wire = Wire(
            server.origin,
            tls=None,
            connect_timeout=5.0,
            write_timeout=5.0,
            read_timeout=5.0,
            max_answer_bytes=1_000_000,
        )
        with pytest.raises(MalformedAnswer, match="larger than 1,000,000 bytes"):
            wire.call("GET", "/api/showcase", [], None)
        wire.close()
    assert len(sent) < 5_000

"""An answer's head and body leave the sandbox in one write (``server.HeadWithBody``): a
head waits for its body within the turn of the event loop, a head alone leaves at the
next turn, and a close sends what is held first."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from fleet_sandbox import server
from fleet_sandbox.server import BackgroundSandbox, HeadWithBody

HEAD = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n"


class Transport:
    """What reached the socket, in order (each write and writelines as one entry)."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.sent.append(bytes(data))

    def writelines(self, parts: Any) -> None:
        self.sent.append(b"".join(parts))

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str) -> str:
        return f"extra {name}"


class Loop:
    """An event loop's next turn, run when the test says."""

    def __init__(self) -> None:
        self.soon: list[Callable[[], None]] = []

    def call_soon(self, callback: Callable[[], None]) -> None:
        self.soon.append(callback)

    def turn(self) -> None:
        ready, self.soon = self.soon, []
        for callback in ready:
            callback()


def _held() -> tuple[HeadWithBody, Transport, Loop]:
    transport, loop = Transport(), Loop()
    return HeadWithBody(transport, loop), transport, loop  # type: ignore[arg-type]


def test_a_head_and_its_body_leave_in_one_write() -> None:
    held, transport, loop = _held()
    held.write(HEAD)
    assert transport.sent == [], "the head waits for its body"
    held.write(b"{}")
    assert transport.sent == [HEAD + b"{}"]
    loop.turn()
    assert transport.sent == [HEAD + b"{}"], "nothing is left to send at the next turn"
    held.write(b"more")
    assert transport.sent[-1] == b"more", "what is not a head goes at once"


def test_a_head_alone_leaves_at_the_next_turn_and_before_a_close() -> None:
    held, transport, loop = _held()
    held.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    loop.turn()
    assert transport.sent == [b"HTTP/1.1 100 Continue\r\n\r\n"]

    held, transport, loop = _held()
    held.write(HEAD)  # the lost-answer fault: a status line, then the connection closed
    held.close()
    assert transport.sent == [HEAD] and transport.closed
    loop.turn()
    assert transport.sent == [HEAD], "sent once"


def test_the_rest_is_the_transport_s() -> None:
    held, _, _ = _held()
    assert held.get_extra_info("peername") == "extra peername"


def test_the_sandbox_s_answers_leave_in_one_write(monkeypatch: pytest.MonkeyPatch) -> None:
    """Served by uvicorn: each answer reaches the socket as one write, head and body."""
    writes: list[bytes] = []

    class Recorded(HeadWithBody):
        def __init__(self, transport: Any, loop: Any) -> None:
            real_write, real_lines = transport.write, transport.writelines

            class Recording:
                def write(self, data: bytes) -> None:
                    writes.append(bytes(data))
                    real_write(data)

                def writelines(self, parts: Any) -> None:
                    parts = [bytes(part) for part in parts]
                    writes.append(b"".join(parts))
                    real_lines(parts)

                def __getattr__(self, name: str) -> Any:
                    return getattr(transport, name)

            super().__init__(Recording(), loop)  # type: ignore[arg-type]

    monkeypatch.setattr(server, "HeadWithBody", Recorded)
    with BackgroundSandbox() as sandbox, httpx.Client(base_url=sandbox.url) as client:
        for _ in range(3):
            answer = client.get("/api/showcase")  # no token: a 401 with a JSON body
            assert answer.status_code == 401 and answer.json()
    assert len(writes) == 3, writes
    for write in writes:
        head, _, body = write.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 401") and body.startswith(b"{")

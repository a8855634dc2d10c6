"""A raw socket server that answers as told: what the tests of the gallery's HTTP
client (the wire, and ``HttpGallery`` over it) talk to."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Answer = Callable[[socket.socket, bytes], bool]  # sends an answer; True: keep the connection


class RawServer:
    """Accepts connections on a free loopback port; each request (its head and body, as
    read) goes to the next queued answer."""

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)
        self.requests: list[bytes] = []
        self.connections = 0
        self.tls: ssl.SSLContext | None = None  # set: the server speaks TLS
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.origin = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        if self.tls is not None:
            try:
                conn = self.tls.wrap_socket(conn, server_side=True)
            except (OSError, ssl.SSLError):
                conn.close()  # a client that refused the certificate
                return
        self._answer(conn)

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            buffered = b""
            while self.answers:
                while b"\r\n\r\n" not in buffered:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buffered += chunk
                head, _, buffered = buffered.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                while len(buffered) < length:
                    buffered += conn.recv(65536)
                body, buffered = buffered[:length], buffered[length:]
                self.requests.append(head + b"\r\n\r\n" + body)
                if not self.answers.pop(0)(conn, head):
                    return

    @contextmanager
    def running(self) -> Iterator[RawServer]:
        self._thread.start()
        try:
            yield self
        finally:
            self._listener.close()


def sends(answer: bytes, *, keep: bool = True) -> Answer:
    """An answer of these bytes; ``keep`` False: then the server closes the connection,
    as if keeping it (an idle timeout)."""

    def send(conn: socket.socket, head: bytes) -> bool:
        conn.sendall(answer)
        return keep

    return send

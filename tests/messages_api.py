"""HTTP servers of the tests' own, on a free loopback port: the SDK through a real socket.

``LocalHTTP`` answers any request from a queue of scripted answers (a status and a body,
or a body trickled a few bytes at a time) and keeps every request it saw. ``MessagesAPI``
speaks Anthropic's Messages API (``POST /v1/messages``) on top of it: an answer queued as
``text(...)`` comes back as a message whose usage the server counts as the API reports it,
and with nothing queued ``respond(request body)`` writes the answer (or the request is
kept as unexpected, which the tests' fixture fails on).

Usage is a fake upstream's, counted deterministically (``count``):

- input tokens: ``tokens``, a text's count (``fleet.content.llm.prompts.estimate_tokens``
  unless given: a word one token per four letters, a number one per three digits, any
  other visible character one; ``bench.tokens`` has a real tokenizer's) over every
  text block of ``system`` and ``messages``, an image block 1,600 (the API's
  width x height / 750 for a 1.1-megapixel image); no framing tokens;
- the prompt cache: the prefix up to the last block marked ``cache_control`` (system
  blocks, then messages in order) is cached when it holds at least the model's minimum
  (``CACHE_MINIMUM``, Anthropic's documented minimums: 4,096 tokens for Haiku 4.5, 1,024
  for Sonnet 4.x). The first call with a prefix writes it (``cache_creation_input_tokens``),
  later ones within five minutes read it (``cache_read_input_tokens``, and each read
  keeps it five more minutes); ``input_tokens`` is the rest, as the API reports it;
- output tokens: the same count over the answer's text.

Both are context managers: the server starts on entering the block and stops on leaving
it (a trickle in progress is cut).
"""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

from fleet.content.llm.prompts import estimate_tokens

IMAGE_TOKENS = 1_600
CACHE_TTL_SECONDS = 300.0
# Minimum cacheable prefix by model (the longest name a model starts with wins).
CACHE_MINIMUM = {
    "claude-haiku-4-5": 4_096,
    "claude-opus-4-5": 4_096,
    "claude-opus-4-6": 4_096,
    "claude-sonnet-4": 1_024,
    "claude-opus-4": 1_024,
    "claude-haiku-3": 2_048,
    "claude-3-5-haiku": 2_048,
}
DEFAULT_CACHE_MINIMUM = 1_024


def cache_minimum(model: str) -> int:
    """The smallest prefix the API caches for ``model``."""
    names = [name for name in CACHE_MINIMUM if model.startswith(name)]
    return CACHE_MINIMUM[max(names, key=len)] if names else DEFAULT_CACHE_MINIMUM


@dataclass(frozen=True, slots=True)
class Seen:
    """A request as the server received it."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def api_key(self) -> str:
        """The key the client sent (``x-api-key``, or a bearer token)."""
        bearer = self.headers.get("authorization", "").removeprefix("Bearer ")
        return self.headers.get("x-api-key") or bearer


Answer = Callable[["_Handler", Seen], None]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes: without this, Nagle's algorithm and the
        # client's delayed ACK hold the body some 40 ms.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests read ``requests``, not a log."""

    def _serve(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        seen = Seen(
            self.command,
            self.path,
            {name.lower(): value for name, value in self.headers.items()},
            body,
        )
        self.server.owner.answer(self, seen)

    do_GET = do_POST = do_PUT = do_DELETE = _serve

    def send(self, status: int, body: bytes, headers: Mapping[str, str] | None = None) -> None:
        """A whole answer at once."""
        self.send_response(status)
        for name, value in {"content-type": "application/json", **(headers or {})}.items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def trickle(self, status: int, body: bytes, *, every: float, size: int) -> None:
        """The answer, status line and headers included, ``size`` bytes every ``every``
        seconds; cut when the server stops or the client goes."""
        head = (
            f"HTTP/1.1 {status} Trickle\r\ncontent-type: application/json\r\n"
            # The server closes the connection after it: says so, or a client would send
            # its next request on it and find it gone (a race, seen as a flaky test).
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
        ).encode()
        raw = head + body
        self.close_connection = True
        for start in range(0, len(raw), size):
            if start and self.server.stopping.wait(every):
                return
            try:
                self.wfile.write(raw[start : start + size])
            except OSError:
                return


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: LocalHTTP
    stopping: threading.Event

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away mid-answer is no error of the server's."""


class LocalHTTP:
    """An HTTP/1.1 server on a free loopback port, on a thread, answering from a queue."""

    def __init__(self) -> None:
        self.requests: list[Seen] = []
        self.unexpected: list[str] = []
        self._answers: deque[Answer] = deque()
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self._server.stopping = threading.Event()
        self.port = int(self._server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def queue(self, *answers: Answer) -> Self:
        with self._lock:
            self._answers.extend(answers)
        return self

    def answer(self, handler: _Handler, seen: Seen) -> None:
        with self._lock:
            self.requests.append(seen)
            queued = self._answers.popleft() if self._answers else None
        (queued or self.unqueued)(handler, seen)

    def unqueued(self, handler: _Handler, seen: Seen) -> None:
        """With nothing queued: kept as unexpected, answered 500."""
        self.unexpected.append(f"{seen.method} {seen.path} with no answer queued")
        handler.send(500, b'{"error": "no answer queued"}')

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._server.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


def raw(status: int, data: object, headers: Mapping[str, str] | None = None) -> Answer:
    """A JSON answer (or bytes as they are)."""
    body = data if isinstance(data, bytes) else json.dumps(data).encode()
    return lambda handler, seen: handler.send(status, body, headers)


def trickled(status: int, data: object, *, every: float, size: int = 1) -> Answer:
    """A JSON answer sent ``size`` bytes every ``every`` seconds, headers included."""
    body = data if isinstance(data, bytes) else json.dumps(data).encode()
    return lambda handler, seen: handler.trickle(status, body, every=every, size=size)


@dataclass
class Counted:
    """The usage the server reports for one request."""

    input_tokens: int
    cache_creation_input_tokens: int
    cache_read_input_tokens: int

    def as_usage(self, output_tokens: int) -> dict[str, int]:
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": output_tokens,
            "cache_creation_input_tokens": self.cache_creation_input_tokens,
            "cache_read_input_tokens": self.cache_read_input_tokens,
        }


def _blocks(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The request's content blocks in the API's cache order: system, then messages."""
    out: list[dict[str, Any]] = []
    system = body.get("system")
    if isinstance(system, str):
        out.append({"type": "text", "text": system})
    elif isinstance(system, list):
        out.extend(system)
    for message in body.get("messages", []):
        content = message.get("content")
        if isinstance(content, str):
            out.append({"type": "text", "text": content})
        else:
            out.extend(content)
    return out


Tokens = Callable[[str], int]


def _tokens(block: Mapping[str, Any], tokens: Tokens = estimate_tokens) -> int:
    if block.get("type") == "text":
        return tokens(str(block.get("text", "")))
    if block.get("type") == "image":
        return IMAGE_TOKENS
    return tokens(json.dumps(block, sort_keys=True))


class MessagesAPI(LocalHTTP):
    """Anthropic's Messages API, counted and cached as the module's docstring says."""

    def __init__(
        self,
        respond: Callable[[dict[str, Any]], str] | None = None,
        *,
        cache_min_tokens: int | None = None,
        tokens: Tokens = estimate_tokens,
    ) -> None:
        """``respond``: the text of an answer when none is queued; ``cache_min_tokens``:
        the smallest cacheable prefix (None: the model's documented minimum); ``tokens``:
        how a text is counted."""
        super().__init__()
        self.respond = respond
        self.tokens = tokens
        self.cache_min_tokens = cache_min_tokens
        self.billed: list[dict[str, int]] = []  # the usage of every answer sent
        self._cache: dict[tuple[str, str], float] = {}
        self._ids = 0

    def clear_cache(self) -> None:
        with self._lock:
            self._cache.clear()

    def count(self, body: Mapping[str, Any]) -> Counted:
        """The input usage of a request, writing or reading the prompt cache."""
        blocks = _blocks(body)
        sizes = [_tokens(block, self.tokens) for block in blocks]
        total = sum(sizes)
        marked = [i for i, block in enumerate(blocks) if block.get("cache_control")]
        if not marked:
            return Counted(total, 0, 0)
        end = marked[-1] + 1
        prefix = sum(sizes[:end])
        model = str(body.get("model", ""))
        minimum = cache_minimum(model) if self.cache_min_tokens is None else self.cache_min_tokens
        if prefix < minimum:
            return Counted(total, 0, 0)
        digest = hashlib.sha256(
            json.dumps(
                [{k: v for k, v in b.items() if k != "cache_control"} for b in blocks[:end]],
                sort_keys=True,
            ).encode()
        ).hexdigest()
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get((model, digest), 0.0) > now
            self._cache[(model, digest)] = now + CACHE_TTL_SECONDS
        if hit:
            return Counted(total - prefix, 0, prefix)
        return Counted(total - prefix, prefix, 0)

    def message(self, seen: Seen, text: str, stop_reason: str = "end_turn") -> dict[str, Any]:
        """The API's answer holding ``text``, with the usage this request is billed."""
        body = seen.json()
        usage = self.count(body).as_usage(self.tokens(text))
        with self._lock:
            self._ids += 1
            number = self._ids
            self.billed.append(usage)
        return {
            "id": f"msg_local_{number}",
            "type": "message",
            "role": "assistant",
            "model": body.get("model"),
            "content": [{"type": "text", "text": text}] if text else [],
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": usage,
        }

    def text(self, text: str, *, stop_reason: str = "end_turn") -> Answer:
        """An answer holding ``text``, its usage counted."""

        def answer(handler: _Handler, seen: Seen) -> None:
            data = self.message(seen, text, stop_reason)
            handler.send(200, json.dumps(data).encode(), {"request-id": data["id"]})

        return answer

    def trickled_text(self, text: str, *, every: float, size: int = 1) -> Answer:
        """An answer holding ``text``, sent ``size`` bytes every ``every`` seconds."""

        def answer(handler: _Handler, seen: Seen) -> None:
            body = json.dumps(self.message(seen, text)).encode()
            handler.trickle(200, body, every=every, size=size)

        return answer

    @staticmethod
    def error(
        status: int,
        kind: str,
        message: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Answer:
        """An API error; ``{api_key}`` in ``message`` is replaced by the key received (an
        upstream that echoes it)."""

        def answer(handler: _Handler, seen: Seen) -> None:
            said = (message or f"{kind} from the local API").replace("{api_key}", seen.api_key)
            body = {"type": "error", "error": {"type": kind, "message": said}}
            handler.send(
                status, json.dumps(body).encode(), {"request-id": "req_local", **(headers or {})}
            )

        return answer

    def unqueued(self, handler: _Handler, seen: Seen) -> None:
        if self.respond is not None and (seen.method, seen.path.split("?")[0]) == (
            "POST",
            "/v1/messages",
        ):
            self.text(self.respond(seen.json()))(handler, seen)
            return
        super().unqueued(handler, seen)

    def billed_total(self) -> dict[str, int]:
        """The usage of every answer sent, summed by kind of token."""
        total: dict[str, int] = {}
        for usage in self.billed:
            for name, count in usage.items():
                total[name] = total.get(name, 0) + count
        return total

    def messages(self) -> list[dict[str, Any]]:
        """The bodies of the Messages API requests received."""
        return [seen.json() for seen in self.requests if seen.path.endswith("/v1/messages")]

"""A hostile upstream on a loopback port: every outbound client of Fleet (the gallery,
both LLM writers, the embeddings endpoint) is run against each way an answer can hurt.

``HostileServer(mode)`` answers every request in its ``mode`` (settable between calls):

- ``endless``: a 200 whose JSON body never ends (chunked, as fast as the socket takes it);
- ``endless_error``: the same body with a 500 (an SDK reads an error's body whole);
- ``gzip_bomb``: a 200 of about 1 MB, gzip, that inflates to 1 GiB;
- ``trickle``: a 200 whose body comes a byte every ``every`` seconds, for ever;
- ``stall``: a 200 whose body stops half-way and never goes on;
- ``deep_json``: a 200 of JSON nested 100,000 deep;
- ``garbage``: a 200 of random bytes, typed ``application/json``;
- ``html``: a 200 HTML page (a proxy's or a captive portal's);
- ``tokens``: a well-formed answer of the API the path names (the Messages API, Chat
  Completions, embeddings, the gallery's feed) claiming 10^12 tokens used.

Usable from tests and from ``bench/hostile.py``: the server stops on leaving its block
(a trickle or an endless body in progress is cut).
"""

from __future__ import annotations

import functools
import json
import os
import struct
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

MODES = (
    "endless",
    "endless_error",
    "gzip_bomb",
    "trickle",
    "stall",
    "deep_json",
    "garbage",
    "html",
    "tokens",
)
CLAIMED_TOKENS = 10**12
DEEP = 100_000


@functools.cache
def gzip_bomb(mebibytes: int = 1024) -> bytes:
    """A gzip body of about 1 KB per MiB that inflates to ``mebibytes`` MiB of zeros (one
    deflate block repeated after a full flush: built in a second, not compressed whole)."""
    block = b"\0" * (1 << 20)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    first = deflate.compress(block) + deflate.flush(zlib.Z_FULL_FLUSH)
    again = deflate.compress(block) + deflate.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(mebibytes):
        crc = zlib.crc32(block, crc)
    head = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    tail = deflate.flush() + struct.pack("<II", crc, (mebibytes << 20) & 0xFFFFFFFF)
    return head + first + again * (mebibytes - 1) + tail


def _answer(path: str, request: dict[str, Any], reply: str) -> dict[str, Any]:
    """A well-formed answer of the API ``path`` names, claiming 10^12 tokens."""
    many = CLAIMED_TOKENS
    if path.endswith("/messages"):
        return {
            "id": "msg_hostile",
            "type": "message",
            "role": "assistant",
            "model": request.get("model", "claude-haiku-4-5"),
            "content": [{"type": "text", "text": reply}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {
                "input_tokens": many,
                "output_tokens": many,
                "cache_read_input_tokens": many,
                "cache_creation_input_tokens": many,
            },
        }
    if path.endswith("/chat/completions"):
        return {
            "id": "chatcmpl-hostile",
            "object": "chat.completion",
            "created": 0,
            "model": request.get("model", "smollm2"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": reply},
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": many,
                "completion_tokens": many,
                "total_tokens": 2 * many,
            },
        }
    if path.endswith("/embeddings"):
        texts = request.get("input") or [""]
        return {
            "object": "list",
            "model": request.get("model", "embed"),
            "data": [
                {"object": "embedding", "index": i, "embedding": [1.0, 0.5, 0.25, 0.125]}
                for i in range(len(texts))
            ],
            "usage": {"prompt_tokens": many, "total_tokens": many},
        }
    return {"items": [], "total": many, "hasMore": False}


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def handle(self) -> None:
        try:
            super().handle()
        except OSError:  # the client went away mid-request: its part, not an error here
            self.close_connection = True

    def do_GET(self) -> None:
        self._serve({})

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            request = json.loads(raw) if raw else {}
        except ValueError:
            request = {}
        self._serve(request if isinstance(request, dict) else {})

    def _head(self, kind: str = "application/json", status: int = 200, **extra: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        for name, value in extra.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()

    def _whole(self, body: bytes, kind: str = "application/json", **extra: str) -> None:
        self._head(kind, Content_Length=str(len(body)), **extra)
        self.wfile.write(body)

    def _serve(self, request: dict[str, Any]) -> None:
        server = self.server
        server.requests.append(self.path)
        mode = server.mode
        stop = server.stopping
        try:
            if mode in ("endless", "endless_error"):
                status = 500 if mode == "endless_error" else 200
                self._head(status=status, Transfer_Encoding="chunked")
                piece = b'{"data": [' + b"1, " * 20_000
                chunk = b"%x\r\n%s\r\n" % (len(piece), piece)
                while not stop.is_set():
                    self.wfile.write(chunk)
            elif mode == "gzip_bomb":
                self._whole(gzip_bomb(), Content_Encoding="gzip")
            elif mode in ("trickle", "stall"):
                body = json.dumps(_answer(self.path, request, server.reply)).encode()
                # Within every cap: only time can end it.
                self._head(Content_Length=str(len(body) + (0 if mode == "stall" else 10_000)))
                if mode == "stall":
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    stop.wait()
                else:
                    spaces = iter(lambda: b" ", None)
                    for byte in spaces:
                        if stop.wait(server.every):
                            break
                        self.wfile.write(byte)
                        self.wfile.flush()
            elif mode == "deep_json":
                self._whole(b"[" * DEEP + b"]" * DEEP)
            elif mode == "garbage":
                self._whole(os.urandom(4096))
            elif mode == "html":
                page = (
                    b"<!DOCTYPE html><html><body><h1>Welcome to the hotel Wi-Fi</h1></body></html>"
                )
                self._whole(page, "text/html")
            else:
                self._whole(json.dumps(_answer(self.path, request, server.reply)).encode())
        except OSError:  # the client went away (a broken pipe, a reset, a time-out)
            self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    mode: str
    reply: str
    every: float
    requests: list[str]
    stopping: threading.Event


class HostileServer:
    """A hostile upstream on a free loopback port; ``url`` is its root."""

    def __init__(self, mode: str = "tokens", *, reply: str = "", every: float = 0.2) -> None:
        if mode not in MODES:
            raise ValueError(f"no mode {mode!r}; one of {', '.join(MODES)}")
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.mode = mode
        self._server.reply = reply or json.dumps({"comment": "The light on this is lovely."})
        self._server.every = every
        self._server.requests = []
        self._server.stopping = threading.Event()
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def mode(self) -> str:
        return self._server.mode

    @mode.setter
    def mode(self, value: str) -> None:
        if value not in MODES:
            raise ValueError(f"no mode {value!r}")
        self._server.mode = value

    @property
    def requests(self) -> list[str]:
        """The paths asked, in order."""
        return self._server.requests

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
        self._thread.join(timeout=5)


# --- Every outbound client, one call each, against a hostile server -----------------------

CLIENTS = ("gallery", "anthropic", "openai", "embeddings")


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one call against the server ended: ``path`` is ``ok`` (the answer was used),
    ``fallback`` (the next writer wrote it), ``degraded`` (no vectors) or ``refused`` (the
    port's error); ``error`` is the error's class, if one ended it; ``usage`` the tokens
    counted for a writer's call."""

    path: str
    error: str | None = None
    detail: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0


def one_call(client: str, url: str, seconds: float) -> Outcome:
    """One call of ``client`` to the server at ``url``, its deadline ``seconds``."""
    call, close = prepare(client, url, seconds)
    try:
        return call()
    finally:
        close()


def prepare(
    client: str, url: str, seconds: float
) -> tuple[Callable[[], Outcome], Callable[[], None]]:
    """``client`` built for the server at ``url`` (its libraries imported), and its one
    call and its close: the gallery's feed, a comment through a writer chain whose
    fallback is the offline writer, or the vectors of one text through the degrading
    embedder."""
    if client == "gallery":
        return _gallery(url, seconds)
    if client == "embeddings":
        return _embeddings(url, seconds)
    return _writer(client, url, seconds)


def _gallery(url: str, seconds: float) -> tuple[Callable[[], Outcome], Callable[[], None]]:
    from fleet.errors import FleetError
    from fleet.gallery.client import HttpGallery
    from fleet.settings import GallerySettings

    gallery = HttpGallery(GallerySettings(url=url, timeout_seconds=seconds))  # type: ignore[arg-type]

    def call() -> Outcome:
        try:
            gallery.feed(agent="agent-1", limit=5)
        except FleetError as error:
            return Outcome("refused", type(error).__name__, str(error)[:160])
        return Outcome("ok")

    return call, gallery.close


def _embeddings(url: str, seconds: float) -> tuple[Callable[[], Outcome], Callable[[], None]]:
    from fleet.embeddings.degrading import DegradingEmbedder
    from fleet.embeddings.openai import OpenAIEmbedder

    inner = OpenAIEmbedder(base_url=f"{url}/v1", model="embed", timeout_seconds=seconds)
    embedder = DegradingEmbedder(inner)

    def call() -> Outcome:
        found = embedder.vectors(["a frog bard in pixel art"])
        if found is None:
            return Outcome("degraded", None, embedder.state().reason or "")
        return Outcome("ok")

    return call, inner.close


def _writer(
    client: str, url: str, seconds: float
) -> tuple[Callable[[], Outcome], Callable[[], None]]:
    from pydantic import SecretStr

    from fleet.content.llm.anthropic import AnthropicWriter
    from fleet.content.llm.base import Price
    from fleet.content.llm.fallback import ChainWriter
    from fleet.content.llm.openai import ChatServer, OpenAIWriter
    from fleet.content.offline.writer import OfflineWriter
    from fleet.content.port import Author, ContentWriter, PostSeen
    from fleet.infra.persona_files import PersonaCatalogue
    from fleet.settings import LLMSettings

    primary: ContentWriter
    if client == "anthropic":
        settings = LLMSettings(timeout_seconds=seconds)
        primary = AnthropicWriter(SecretStr("sk-ant-hostile"), settings, base_url=url)
    else:
        price = {"smollm2": Price(input=1.0, output=5.0, cache_read=0.1, cache_write=1.25)}
        primary = OpenAIWriter(
            ChatServer(
                model="smollm2",
                api_key=SecretStr("sk-hostile"),
                base_url=f"{url}/v1",
                timeout_seconds=seconds,
            ),
            prices=price,
        )
    chain = ChainWriter([(client, primary), ("offline", OfflineWriter())])
    persona = PersonaCatalogue.from_directory().get("indie_game_dev")
    author = Author(handle="gamedev_tiny_sprite", display_name="Tiny Sprite Games", seed=42)
    post = PostSeen(
        post_id="post-1",
        title="Glass perfume bottle in candlelight",
        description="Warm and moody, one softbox.",
        author="product_amber_glass",
        author_is_agent=True,
    )

    def call() -> Outcome:
        try:
            draft = chain.write_comment(persona, author, post, nonce=1)
        except Exception as error:
            return Outcome("refused", type(error).__name__, str(error)[:160])
        usage = draft.usage
        path = "ok" if usage.provider == client else "fallback"
        return Outcome(
            path, None, "", usage.input_tokens, usage.output_tokens, round(usage.cost_usd, 6)
        )

    return call, chain.close

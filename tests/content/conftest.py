"""Fixtures of the content tests: no network, personas, a fake Anthropic API, Redis.

Every socket connection except to the loopback interface fails, so nothing here can
reach api.anthropic.com even by mistake. The fake API is an ``httpx2.MockTransport``
handler given to the real SDK: it answers ``POST /v1/messages`` from a queue and records
any other request as unexpected, which fails the test. ``local_api`` is the Messages API
as a real server on a loopback port (``tests.messages_api``), for what only a socket
shows: where requests go, deadlines, what the SDK sends and parses.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import fakeredis
import httpx2
import pytest
import redis
from pydantic import SecretStr

from fleet.content.llm.anthropic import AnthropicWriter
from fleet.content.port import Author, PostSeen
from fleet.core.persona import Persona
from fleet.infra.persona_files import PersonaCatalogue
from fleet.settings import LLMSettings
from tests.conftest import REDIS_URL
from tests.messages_api import MessagesAPI

CATALOGUE = PersonaCatalogue.from_directory()

API_KEY = "sk-ant-test-0123456789-secret"
# The gallery's own image host: the only one whose images are shown to a model.
IMAGE_HOST = "cdn.example.com"
Answer = httpx2.Response | Callable[[httpx2.Request], httpx2.Response]


def _loopback(address: object) -> bool:
    if isinstance(address, str):  # a Unix socket path
        return True
    if isinstance(address, tuple) and address:
        host = str(address[0])
        if host == "localhost":
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False
    return False


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Connections leave the machine for nowhere: only loopback is allowed."""
    connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> None:
        if not _loopback(address):
            raise OSError(f"network blocked in tests: {address!r}")
        connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    for name in ("ANTHROPIC_BASE_URL", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_CUSTOM_HEADERS"):
        monkeypatch.delenv(name, raising=False)
    # A developer's proxy would stand between the SDK and the local API.
    for name in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)


def persona(slug: str = "indie_game_dev") -> Persona:
    """A bundled persona."""
    return CATALOGUE.get(slug)


AUTHOR = Author(handle="gamedev_tiny_sprite", display_name="Tiny Sprite Games", seed=42)
POST = PostSeen(
    post_id="post-1",
    title="Glass perfume bottle in candlelight",
    description="Warm and moody, one softbox.",
    author="product_amber_glass",
    author_is_agent=True,
    image_url=f"https://{IMAGE_HOST}/images/post-1.png",
)


def message(
    text: str,
    *,
    input_tokens: int = 900,
    output_tokens: int = 80,
    cache_read: int = 0,
    cache_write: int = 0,
    stop_reason: str = "end_turn",
    model: str = "claude-sonnet-4-6",
) -> httpx2.Response:
    """A Messages API answer holding ``text``."""
    return httpx2.Response(
        200,
        json={
            "id": "msg_test",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [{"type": "text", "text": text}],
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": {
                "input_tokens": input_tokens,
                "output_tokens": output_tokens,
                "cache_read_input_tokens": cache_read,
                "cache_creation_input_tokens": cache_write,
            },
        },
    )


def error(status: int, kind: str, headers: dict[str, str] | None = None) -> httpx2.Response:
    """A Messages API error answer."""
    body = {"type": "error", "error": {"type": kind, "message": f"{kind} for the test"}}
    return httpx2.Response(status, json=body, headers={"request-id": "req_1", **(headers or {})})


def post_json(**overrides: str) -> str:
    """A valid post answer for the indie game dev."""
    answer = {
        "image_prompt": "pixel-art frog bard on a mossy stump, 16 colours, dusk palette",
        "style": "pixel-art",
        "caption": "Frog bard, finally animated",
        "description": "Eight frames of lute strumming. Does it read at small sizes?",
    }
    answer.update(overrides)
    return json.dumps(answer)


class FakeAnthropic:
    """The Messages API as a MockTransport handler: answers from a queue, requests kept."""

    def __init__(self) -> None:
        self.answers: list[Answer] = []
        self.requests: list[httpx2.Request] = []
        self.unexpected: list[str] = []

    def queue(self, *answers: Answer) -> FakeAnthropic:
        self.answers.extend(answers)
        return self

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        where = f"{request.method} {request.url}"
        if request.url.host != "api.anthropic.com" or request.url.path != "/v1/messages":
            self.unexpected.append(where)
            raise AssertionError(f"unexpected request {where}")
        if request.method != "POST" or not self.answers:
            self.unexpected.append(f"{where} with no answer queued")
            raise AssertionError(f"no answer queued for {where}")
        self.requests.append(request)
        answer = self.answers.pop(0)
        return answer if isinstance(answer, httpx2.Response) else answer(request)

    def body(self, index: int = -1) -> dict[str, Any]:
        """The JSON body of a request the SDK sent."""
        value: dict[str, Any] = json.loads(self.requests[index].content)
        return value


@pytest.fixture
def api() -> Iterator[FakeAnthropic]:
    fake = FakeAnthropic()
    yield fake
    assert fake.unexpected == [], "the SDK made requests the test did not expect"


@pytest.fixture
def local_api() -> Iterator[MessagesAPI]:
    """The Messages API on a loopback port of its own: the SDK through a real socket."""
    with MessagesAPI() as server:
        yield server
    assert server.unexpected == [], "the SDK made requests the test did not expect"


@pytest.fixture
def llm_settings() -> LLMSettings:
    return LLMSettings(model="claude-sonnet-4-6", timeout_seconds=12.5)


@pytest.fixture
def writer(api: FakeAnthropic, llm_settings: LLMSettings) -> Iterator[AnthropicWriter]:
    """The real SDK on the fake API, through the SDK's ``http_client`` parameter."""
    client = httpx2.Client(transport=httpx2.MockTransport(api))
    instance = AnthropicWriter(
        SecretStr(API_KEY), llm_settings, http_client=client, image_host=IMAGE_HOST
    )
    yield instance
    instance.close()


@pytest.fixture(params=["fakeredis", "redis"])
def redis_client(request: pytest.FixtureRequest) -> Iterator[redis.Redis]:
    """fakeredis, and the real Redis on the machine."""
    if request.param == "fakeredis":
        fake = fakeredis.FakeRedis()
        yield fake
        fake.close()
        return
    request.applymarker(pytest.mark.redis)
    real = redis.Redis.from_url(REDIS_URL)
    try:
        real.ping()
    except redis.ConnectionError as exc:
        real.close()
        pytest.fail(f"Redis is not reachable at {REDIS_URL}: {exc}")
    yield real
    real.close()


@pytest.fixture
def prefix(redis_client: redis.Redis) -> Iterator[str]:
    """A key prefix of the test's own, its keys removed afterwards."""
    name = f"fleet-test-{uuid.uuid4().hex[:8]}"
    yield name
    for key in redis_client.scan_iter(match=f"{name}*"):
        redis_client.delete(key)

"""Embeddings: the OpenAI-compatible adapter through httpx's MockTransport, degradation
to no vectors, the start-up size check, the settings, and the real local model."""

from __future__ import annotations

import http.server
import json
import math
import os
import threading
from collections.abc import Callable

import httpx
import numpy as np
import pytest

from fleet.core.vectors import cosine
from fleet.embeddings import EmbeddingUnavailable
from fleet.embeddings.degrading import DegradingEmbedder, checked_at_start
from fleet.embeddings.factory import build_embedder, start_embedder
from fleet.embeddings.local import LocalEmbedder
from fleet.embeddings.openai import OpenAIEmbedder
from fleet.errors import ConfigError
from fleet.settings import EmbeddingSettings, load_settings

URL = "http://embeddings.test/v1"


def _endpoint(answer: Callable[[httpx.Request], httpx.Response]) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(answer))


def _vectors(size: int) -> Callable[[httpx.Request], httpx.Response]:
    def answer(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        rows = [
            {"index": i, "embedding": [float(i + 1)] + [0.5] * (size - 1)}
            for i, _ in enumerate(body["input"])
        ]
        return httpx.Response(200, json={"data": list(reversed(rows)), "model": body["model"]})

    return answer


def _embedder(answer: Callable[[httpx.Request], httpx.Response], **kw: object) -> OpenAIEmbedder:
    return OpenAIEmbedder(base_url=URL, model="nomic-embed", client=_endpoint(answer), **kw)  # type: ignore[arg-type]


def test_the_endpoint_answers_unit_vectors_in_the_order_of_the_texts() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return _vectors(8)(request)

    embedder = _embedder(answer, api_key="sk-test", dimensions=8)
    first, second = embedder.embed(["one", "two"])
    assert seen[0].url == f"{URL}/embeddings"
    assert seen[0].headers["authorization"] == "Bearer sk-test"
    assert abs(float(np.linalg.norm(first)) - 1.0) < 1e-6
    assert first[0] < second[0], "rows put back in the order of the texts (index)"
    assert embedder.dimensions == 8


@pytest.mark.parametrize(
    ("what", "answer"),
    [
        ("down", lambda r: (_ for _ in ()).throw(httpx.ConnectError("refused", request=r))),
        ("timeout", lambda r: (_ for _ in ()).throw(httpx.ReadTimeout("slow", request=r))),
        ("5xx", lambda r: httpx.Response(503, text="busy")),
        ("not json", lambda r: httpx.Response(200, text="<html>oops</html>")),
        ("no data", lambda r: httpx.Response(200, json={"error": "x"})),
        ("a row short", lambda r: httpx.Response(200, json={"data": []})),
        ("not numbers", lambda r: httpx.Response(200, json={"data": [{"embedding": ["a"] * 8}]})),
        (
            "nan",
            lambda r: httpx.Response(
                200, text='{"data": [{"embedding": [NaN, 1, 1, 1, 1, 1, 1, 1]}]}'
            ),
        ),
        ("wrong size", _vectors(5)),
        (
            "bad index",
            lambda r: httpx.Response(200, json={"data": [{"index": 3, "embedding": [1.0] * 8}]}),
        ),
    ],
)
def test_an_endpoint_down_or_answering_garbage_is_unavailable(
    what: str, answer: Callable[[httpx.Request], httpx.Response]
) -> None:
    embedder = _embedder(answer, dimensions=8)
    with pytest.raises(EmbeddingUnavailable):
        embedder.embed(["a caption"])
    degrading = DegradingEmbedder(embedder)
    assert degrading.vectors(["a caption"]) is None, what
    state = degrading.state()
    assert not state.ok and state.reason and state.since is not None


def test_a_degraded_embedder_recovers_when_the_endpoint_answers_again() -> None:
    broken = [True]

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502) if broken[0] else _vectors(8)(request)

    degrading = DegradingEmbedder(_embedder(answer, dimensions=8))
    assert degrading.vector("x") is None
    broken[0] = False
    assert degrading.vector("x") is not None
    assert degrading.state().ok


class _Endpoint(http.server.BaseHTTPRequestHandler):
    """A real ``/v1/embeddings`` on a socket: it notes the client port of each request."""

    protocol_version = "HTTP/1.1"  # keep-alive, as a real endpoint
    ports: list[int] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.ports.append(self.client_address[1])
        rows = [{"index": i, "embedding": [1.0] * 8} for i, _ in enumerate(body["input"])]
        data = json.dumps({"data": rows}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_: object) -> None:
        pass


@pytest.mark.skipif(not hasattr(os, "fork"), reason="forks as a prefork worker does")
def test_a_forked_worker_child_opens_its_own_connection_to_the_endpoint() -> None:
    # A worker probes the endpoint in its main process, then forks its pool: a child on
    # the parent's keep-alive socket would read answers meant for another process.
    _Endpoint.ports = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Endpoint)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    try:
        embedder = OpenAIEmbedder(
            base_url=f"http://127.0.0.1:{server.server_address[1]}/v1", model="m", dimensions=8
        )
        assert len(embedder.embed(["in the parent"])) == 1
        child = os.fork()
        if child == 0:  # the pool's child: embed, and say how it went by the exit code
            try:
                code = 0 if len(embedder.embed(["in the child"])) == 1 else 1
            except BaseException:
                code = 1
            os._exit(code)
        _, status = os.waitpid(child, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert len(embedder.embed(["in the parent again"])) == 1
        parent, in_child, parent_again = _Endpoint.ports
        assert in_child != parent, "the child used the parent's connection"
        assert parent_again == parent, "the parent keeps its own connection"
        embedder.close()
    finally:
        server.shutdown()
        server.server_close()


def test_a_vector_of_the_wrong_size_is_refused_at_start_naming_the_model() -> None:
    with pytest.raises(ConfigError, match=r"nomic-embed.*5 dimensions.*768"):
        checked_at_start(_embedder(_vectors(5)), expected=768)
    settings = EmbeddingSettings(provider="local", dimensions=768)
    with pytest.raises(ConfigError, match="multilingual-e5-small"):
        build_embedder(settings)


def test_an_endpoint_down_at_start_starts_degraded_and_never_raises() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    settings = EmbeddingSettings(provider="openai", base_url=URL, model="m", dimensions=8)  # type: ignore[arg-type]
    started = start_embedder(settings, client=_endpoint(down))
    assert started is not None
    assert not started.state().ok and "start-up" in (started.state().reason or "")
    assert started.vectors(["anything"]) is None


def test_the_settings_name_the_bad_variable() -> None:
    with pytest.raises(ConfigError, match="FLEET_EMBEDDINGS__BASE_URL"):
        load_settings(embeddings={"provider": "openai", "model": "m"})
    with pytest.raises(ConfigError, match="FLEET_EMBEDDINGS__PROVIDER"):
        load_settings(embeddings={"provider": "elsewhere"})
    with pytest.raises(ConfigError, match="FLEET_MEMORY__MAX_PER_AGENT"):
        load_settings(memory={"max_per_agent": 3})
    with pytest.raises(ConfigError, match="FLEET_MEMORY__ECHO_SIMILARITY"):
        load_settings(memory={"echo_similarity": 1.5})
    assert build_embedder(EmbeddingSettings(provider="off")) is None


def test_the_api_key_is_a_secret_masked_everywhere() -> None:
    settings = load_settings(
        embeddings={"provider": "openai", "base_url": URL, "model": "m", "api_key": "sk-hush"}
    )
    assert "sk-hush" in settings.secrets()
    assert "sk-hush" not in repr(settings)


def test_the_local_model_puts_a_paraphrase_closer_than_another_subject() -> None:
    embedder = DegradingEmbedder(LocalEmbedder())
    found = embedder.vectors(
        [
            "Kept it to 16 colours, which forced some fun choices.",
            "Only sixteen colours here, and the limit made me choose in fun ways.",
            "The quarterly revenue dashboard now loads twice as fast.",
        ]
    )
    assert found is not None
    original, paraphrase, other = found
    assert original.shape == (384,)
    assert cosine(original, paraphrase) > cosine(original, other) + 0.05
    # The model's vectors are unit vectors as it answers them (the adapter does not
    # normalise them again), a query's as a passage's.
    (query,) = LocalEmbedder().embed(["sixteen colours"], purpose="query")
    for vector in (original, paraphrase, other, query):
        assert vector.dtype == np.float32
        assert math.isclose(float(np.linalg.norm(vector)), 1.0, rel_tol=1e-5)


def test_fleet_status_says_when_texts_go_without_vectors() -> None:
    from fleet.service.root import Fleet
    from fleet.service.status import embeddings_of
    from fleet.settings import Settings

    def down(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500)

    off = embeddings_of(Fleet(Settings(embeddings=EmbeddingSettings(provider="off"))))
    assert off["provider"] == "off" and off["vectors"].startswith("none")
    local = embeddings_of(Fleet(Settings(embeddings=EmbeddingSettings(provider="local"))))
    assert local["vectors"] == "ok" and local["dimensions"] == 384
    endpoint = EmbeddingSettings(
        provider="openai",
        base_url=URL,  # type: ignore[arg-type]
        model="nomic-embed",
        api_key="sk-hush",  # type: ignore[arg-type]
    )
    degraded = embeddings_of(
        Fleet(Settings(embeddings=endpoint), given_embedder=_embedder(down, dimensions=8))
    )
    assert degraded["host"] == "embeddings.test:80"
    assert degraded["vectors"].startswith("degraded (at start-up: nomic-embed")
    assert "recency" in degraded["vectors"] and "sk-hush" not in str(degraded)
    sized = endpoint.model_copy(update={"dimensions": 768})
    refused = embeddings_of(
        Fleet(Settings(embeddings=sized), given_embedder=_embedder(_vectors(5)))
    )
    assert refused["vectors"].startswith("refused: embedding model 'nomic-embed'")


class _Breaks:
    """An embedder whose client fails in a way no adapter foresaw."""

    model = "breaks"
    dimensions = 4

    def embed(self, texts: object, *, purpose: str = "passage") -> list[np.ndarray]:
        raise RecursionError("maximum recursion depth exceeded while decoding a JSON array")


def test_an_unforeseen_failure_of_the_embedder_only_costs_the_vectors() -> None:
    degrading = DegradingEmbedder(_Breaks())  # type: ignore[arg-type]
    assert degrading.vectors(["a frog bard"]) is None
    state = degrading.state()
    assert not state.ok and "RecursionError" in (state.reason or "")
    # At start-up too: the endpoint starts degraded, it does not stop the worker.
    started = checked_at_start(_Breaks(), expected=4)  # type: ignore[arg-type]
    assert not started.state().ok


def test_deep_json_from_the_endpoint_is_unavailable_not_a_recursion_error() -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    embedder = _embedder(lambda request: httpx.Response(200, content=deep))
    with pytest.raises(EmbeddingUnavailable, match="nests"):
        embedder.embed(["a frog bard"])

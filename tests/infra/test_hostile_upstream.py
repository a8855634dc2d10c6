"""Every outbound client against a hostile upstream (``tests.hostile``): an endless body,
a gzip bomb, a trickle, a stall mid-body, JSON 100,000 deep, garbage or HTML with a 200,
and 10^12 tokens claimed. Each call ends in its port's "unavailable" path (the gallery's
error, the writer chain's fallback, the embedder's no vectors), within its deadline, and
a claimed usage is never believed. Memory and wall time are measured by bench/hostile.py.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import httpx
import httpx2
import pytest

from fleet.content.llm.base import INPUT_MARGIN, INPUT_SLACK
from fleet.content.llm.fallback import is_down
from fleet.errors import CircuitOpen, ContentRefused, PermanentError, RateLimited
from fleet.infra import bounded
from tests.hostile import CLIENTS, MODES, HostileServer, one_call, prepare

SECONDS = 1.0
# What the writers' call of the test comment may count at most: its prompt's estimate
# (about 780 tokens) times the margin plus the slack, and its max_tokens.
MOST_INPUT = int(1_000 * INPUT_MARGIN) + INPUT_SLACK
UNAVAILABLE = {
    "gallery": "refused",
    "anthropic": "fallback",
    "openai": "fallback",
    "embeddings": "degraded",
}


@pytest.fixture(scope="module")
def server() -> Iterator[HostileServer]:
    with HostileServer(every=0.1) as hostile:
        yield hostile


@pytest.mark.parametrize("mode", [m for m in MODES if m != "tokens"])
@pytest.mark.parametrize("client", CLIENTS)
def test_a_hostile_answer_ends_in_the_port_s_unavailable_path_by_the_deadline(
    server: HostileServer, client: str, mode: str
) -> None:
    server.mode = mode
    call, close = prepare(client, server.url, SECONDS)  # the SDKs imported before the clock
    try:
        started = time.monotonic()
        outcome = call()
        took = time.monotonic() - started
    finally:
        close()
    assert outcome.path == UNAVAILABLE[client], outcome
    if client == "gallery":
        assert outcome.error in ("TransientError", "MalformedAnswer", "TooLargeAnswer"), outcome
    # Loose (the machine is shared): an unbounded client held a trickle for minutes.
    assert took < SECONDS + 10, f"{client} against {mode} took {took:.1f} s"


@pytest.mark.parametrize("client", CLIENTS)
def test_a_claim_of_a_trillion_tokens_is_clamped_to_what_the_call_could_cost(
    server: HostileServer, client: str, caplog: pytest.LogCaptureFixture
) -> None:
    server.mode = "tokens"
    with caplog.at_level(logging.WARNING, logger="fleet.content"):
        outcome = one_call(client, server.url, SECONDS)
    assert outcome.path == "ok", outcome
    if client in ("anthropic", "openai"):
        assert 0 < outcome.input_tokens <= MOST_INPUT
        assert 0 < outcome.output_tokens <= 400
        assert outcome.cost_usd < 0.05  # at $1/$5 a million: cents, not $6M
        # The larger claim is logged, never believed.
        assert any(
            "claimed" in r.getMessage() and "1000000000000" in r.getMessage()
            for r in caplog.records
        )


def test_a_writer_s_unusable_answer_is_billed_at_most_what_the_call_could_cost(
    server: HostileServer,
) -> None:
    server.mode = "html"
    outcome = one_call("openai", server.url, SECONDS)
    # The fallback wrote it; what the hostile primary may have billed is counted, bounded.
    assert outcome.path == "fallback"
    assert outcome.input_tokens <= MOST_INPUT + 1_000 and outcome.output_tokens <= 800


@pytest.mark.parametrize(
    "error",
    [
        RecursionError("maximum recursion depth exceeded"),
        httpx2.ReadTimeout("timed out"),
        httpx.RemoteProtocolError("peer closed"),
        ValueError("not JSON"),
        CircuitOpen("open", None, scope="call"),
    ],
)
def test_an_error_no_writer_maps_is_the_provider_down(error: BaseException) -> None:
    assert is_down(error)


@pytest.mark.parametrize(
    "error",
    [ContentRefused("declined"), PermanentError("400"), RateLimited("wait")],
)
def test_a_refusal_or_a_rate_limit_is_not_an_outage(error: BaseException) -> None:
    assert not is_down(error)


def test_json_depth_is_counted_without_parsing_and_strings_do_not_count() -> None:
    assert bounded.json_depth(b'{"a": [1, {"b": "[[[[[[[["}]}') == 3
    with pytest.raises(bounded.AnswerTooDeep):
        bounded.loads(b"[" * 50_000 + b"]" * 50_000)
    with pytest.raises(bounded.AnswerNotJson, match="HTML"):
        bounded.loads(b"<!DOCTYPE html><html></html>")
    assert bounded.loads(b'{"data": [[1, 2], [3, 4]]}') == {"data": [[1, 2], [3, 4]]}


def test_a_gzip_body_inflates_within_the_cap_and_a_bomb_is_refused() -> None:
    import gzip

    small = gzip.compress(b'{"ok": true}')
    assert bounded.read_body([small], cap=1_000, encoding="gzip") == b'{"ok": true}'
    bomb = gzip.compress(b"\0" * 5_000_000)
    with pytest.raises(bounded.AnswerTooLarge, match="inflated"):
        bounded.read_body([bomb], cap=100_000, encoding="gzip")
    with pytest.raises(bounded.AnswerEncoding):
        bounded.read_body([b"x"], cap=100, encoding="br")
    with pytest.raises(bounded.AnswerTooLarge, match="announced"):
        bounded.read_body([b"x"], cap=100, length="1000000")

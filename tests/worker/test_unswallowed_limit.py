"""The soft time limit on threads cannot be swallowed (issue 68, F15): the watchdog
(``fleet.worker.limits``) raises ``TimeLimitExceeded``, an ``Interrupt`` and no
``Exception``, so the content path's handlers written for a failure of their own call
(``except Exception``: a provider down, an embedder broken, ties unread) let it pass to
where the task settles it.

With billiard's ``SoftTimeLimitExceeded`` (an ``Exception``) the writer chain took the
limit for "this provider is down", marked it so and asked the next provider past the
limit; the embedder went degraded; the ties were read as none and the task ran on."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from fleet.actions.interests import Interests
from fleet.content.llm.fallback import ChainWriter
from fleet.embeddings.degrading import DegradingEmbedder
from fleet.errors import Interrupt, TimeLimitExceeded
from fleet.worker.limits import ThreadLimits

DEADLINE = 10.0
SOFT = 0.2


def spin() -> str:
    """Python instructions until the limit comes (or the test's deadline passes)."""
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        sum(range(100))
    return "spun to the deadline: the limit never came"


def under_the_soft_limit(body: Callable[[], Any]) -> dict[str, Any]:
    """``body`` as a task on a thread of its own, its soft limit ``SOFT`` seconds: what
    it returned or raised."""
    limits = ThreadLimits(stop_taking_work=lambda: None, leave=lambda: None)
    out: dict[str, Any] = {}

    def task() -> None:
        limits.started("fleet.comment", soft=SOFT, hard=None)
        try:
            out["returned"] = body()
        except BaseException as error:  # what the test looks at
            out["raised"] = error
        finally:
            limits.ended()

    thread = threading.Thread(target=task)
    thread.start()
    thread.join(DEADLINE + 5)
    assert not thread.is_alive()
    return out


class _Spinning:
    """A writer (or an embedder) whose call spins in Python: a slow provider."""

    model = "spinning"
    dimensions = 4

    def __init__(self) -> None:
        self.calls = 0

    def write_comment(self, *_: Any, **__: Any) -> Any:
        self.calls += 1
        return spin()

    def embed(self, *_: Any, **__: Any) -> Any:
        self.calls += 1
        return spin()

    def close(self) -> None:
        pass


def test_the_writer_chain_does_not_take_the_limit_for_a_provider_down() -> None:
    slow, next_one = _Spinning(), _Spinning()
    chain = ChainWriter([("anthropic", slow), ("openai:llama3.2", next_one)])  # type: ignore[list-item]
    persona: Any = None

    out = under_the_soft_limit(lambda: chain.write_comment(persona, persona, persona, nonce=1))

    assert isinstance(out.get("raised"), TimeLimitExceeded), out
    assert (slow.calls, next_one.calls) == (1, 0)  # no second call past the limit


def test_the_degrading_embedder_lets_the_limit_pass_and_stays_well() -> None:
    embedder = DegradingEmbedder(_Spinning())  # type: ignore[arg-type]

    out = under_the_soft_limit(lambda: embedder.vectors(["a lantern at dusk"]))

    assert isinstance(out.get("raised"), TimeLimitExceeded), out
    assert embedder.state().ok  # not marked failed: the limit is the task's, not its


def test_taste_s_ties_let_the_limit_pass_instead_of_ranking_without_them() -> None:
    interests = Interests(None)

    out = under_the_soft_limit(lambda: interests.ties(1, time.monotonic(), lambda _: spin()))  # type: ignore[arg-type,return-value]

    assert isinstance(out.get("raised"), TimeLimitExceeded), out


def test_the_limit_is_an_interrupt_no_except_exception_takes() -> None:
    with pytest.raises(TimeLimitExceeded):
        try:
            raise TimeLimitExceeded()
        except Exception:  # what the content path's handlers catch
            pytest.fail("an except Exception took the time limit")
    assert issubclass(TimeLimitExceeded, Interrupt)

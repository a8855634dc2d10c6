"""Actions on the LLM path end to end: a Fleet on Postgres and Redis whose writer is the
real SDK on a local Messages API (``FLEET_LLM__BASE_URL``), the sandbox gallery, the CLI.

Every call the provider bills is on its activity and in the spend, whatever the outcome;
an admin's ``fleet agents act --here`` ends in a terminal state with its reason, or is
handed to the workers when asked; nothing the CLI prints holds a secret."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner, Result
from pydantic import SecretStr
from sqlalchemy import Engine, insert, select

from fleet import activities
from fleet.cli import cli
from fleet.db.models import AgentActivity, DeadLetter
from fleet.service.root import Fleet, bootstrap
from fleet.settings import Settings
from fleet_sandbox.server import BackgroundSandbox
from tests.conftest import REDIS_URL
from tests.content.conftest import post_json
from tests.gallery.conftest import TOKEN
from tests.messages_api import Answer, MessagesAPI

KEY = "gw-key-NOT-ANTHROPIC-SHAPED-51c0"  # a gateway's key: only the settings know it


def run(fleet: Fleet, *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), obj=fleet)


def _fleet(engine: Engine, **settings: Any) -> Fleet:
    values: dict[str, Any] = {
        "database_url": engine.url.render_as_string(hide_password=False),
        "seed": 7,
        "anthropic_api_key": SecretStr(KEY),
    }
    return bootstrap(Settings(**(values | settings)), engine)


@pytest.fixture
def llm_fleet(
    pg_engine: Engine, sandbox: BackgroundSandbox, redis_keys: str, local_api: MessagesAPI
) -> Iterator[Fleet]:
    """Two started indie game devs; LLM calls to the local API (1 s deadline), the broker,
    limits and spend ledger on the real Redis under the test's prefix."""
    fleet = _fleet(
        pg_engine,
        broker_url=REDIS_URL,
        redis_url=REDIS_URL,
        broker_key_prefix=f"{redis_keys}:",
        gallery={"url": sandbox.url, "token": TOKEN},
        llm={"model": "claude-haiku-4-5", "base_url": local_api.url, "timeout_seconds": 1.0},
    )
    made = run(fleet, "agents", "create", "--persona", "indie_game_dev", "--count", "2", "--start")
    assert made.exit_code == 0, made.output
    yield fleet
    fleet.close()


def _activity(fleet: Fleet, key: str) -> AgentActivity:
    with fleet.sessions() as session:
        return session.scalars(
            select(AgentActivity).where(AgentActivity.idempotency_key == key)
        ).one()


def _act(fleet: Fleet, *args: str) -> tuple[Result, dict[str, Any]]:
    result = run(fleet, "agents", "act", *args, "--json")
    return result, json.loads(result.stdout)


FAILURES: dict[str, tuple[Callable[[MessagesAPI], list[Answer]], str, int]] = {
    "overloaded": (
        lambda api: [api.error(529, "overloaded_error")],
        "LLM API answered 529 overloaded_error",
        1,
    ),
    "bad request": (
        lambda api: [api.error(400, "invalid_request_error")],
        "LLM API answered 400 invalid_request_error",
        0,
    ),
    "refused": (
        lambda api: [api.text("Sure! Frogs."), api.text('{"caption": "frog')],
        "unusable after one repair: the JSON is malformed (Unterminated string starting at",
        0,
    ),
    "timeout": (
        lambda api: [api.trickled_text(post_json(), every=0.25, size=8)],
        "the LLM call timed out (its deadline is 1 s",
        1,
    ),
}


@pytest.mark.parametrize("failure", FAILURES)
def test_a_manual_action_that_fails_ends_dead_with_its_reason_and_is_never_re_sent(
    llm_fleet: Fleet, local_api: MessagesAPI, failure: str
) -> None:
    answers, reason, attempts = FAILURES[failure]
    local_api.queue(*answers(local_api))
    result, shown = _act(llm_fleet, "1", "post", "--here")
    assert result.exit_code == 1
    assert shown["status"] == "dead" and reason in shown["reason"]
    row = _activity(llm_fleet, shown["key"])
    assert (row.status, row.attempts) == ("dead", attempts)
    assert row.error is not None and reason in row.error
    letter = activities.get_dead_letter(llm_fleet.sessions, shown["dead_letter_id"])
    assert reason in letter.error and letter.arguments == {"key": shown["key"]}
    # Dead is terminal: no sweep, however late, sends it to a worker.
    later = datetime.now(UTC) + timedelta(days=1)
    assert activities.expired_leases(llm_fleet.sessions, now=later, lease=timedelta(0)) == []


def test_a_manual_action_says_on_the_terminal_that_it_is_dead_and_why(
    llm_fleet: Fleet, local_api: MessagesAPI
) -> None:
    local_api.queue(local_api.error(529, "overloaded_error"))
    result = run(llm_fleet, "agents", "act", "1", "post", "--here")
    assert result.exit_code == 1
    (line,) = result.stdout.splitlines()
    assert " post: dead, dead letter 1: TransientError: LLM API answered 529" in line


def test_asked_to_the_manual_action_is_handed_to_the_workers_with_its_retries(
    llm_fleet: Fleet, local_api: MessagesAPI
) -> None:
    local_api.queue(local_api.error(529, "overloaded_error"))
    result = run(llm_fleet, "agents", "act", "1", "post", "--here", "--retry-on-workers")
    assert result.exit_code == 0, result.output
    assert "failed here (TransientError: LLM API answered 529" in result.stdout
    assert "handed to the workers: attempt 2 of 6 in" in result.stdout
    (row,) = activities.list_activities(llm_fleet.sessions, activities.ActivityFilter())
    pending = _activity(llm_fleet, row.idempotency_key)
    assert (pending.status, pending.attempts, pending.claimed_by) == ("pending", 1, None)
    assert pending.error is not None and "529" in pending.error
    prefix = llm_fleet.settings.broker_key_prefix
    (message,) = llm_fleet.redis.lrange(f"{prefix}content", 0, -1)
    headers = json.loads(message)["headers"]
    assert (headers["task"], headers["argsrepr"]) == ("fleet.post", repr((row.idempotency_key,)))


def test_retry_on_workers_needs_here_and_a_broker_a_worker_sees(
    llm_fleet: Fleet, fleet: Fleet
) -> None:
    alone = run(llm_fleet, "agents", "act", "1", "post", "--retry-on-workers")
    assert alone.exit_code == 2 and "--retry-on-workers goes with --here" in alone.stderr
    run(fleet, "agents", "create", "--persona", "ux_ui_designer", "--count", "1", "--start")
    memory = run(fleet, "agents", "act", "1", "post", "--here", "--retry-on-workers")
    assert memory.exit_code == 2 and "FLEET_BROKER_URL is memory://" in memory.stderr
    assert activities.list_activities(fleet.sessions, activities.ActivityFilter()) == []


def _spent(fleet: Fleet) -> tuple[int, int, int, float]:
    report = fleet.spend_ledger.report()
    return report.calls, report.input_tokens, report.output_tokens, report.fleet_usd


def test_a_refused_answer_s_billed_calls_are_on_its_activity_and_in_the_spend(
    llm_fleet: Fleet, local_api: MessagesAPI
) -> None:
    assert _spent(llm_fleet) == (0, 0, 0, 0.0)
    local_api.queue(local_api.text("Sure! Frogs."), local_api.text("{not json"))
    _, shown = _act(llm_fleet, "1", "post", "--here")
    assert shown["status"] == "dead"
    billed = local_api.billed_total()
    usage = _activity(llm_fleet, shown["key"]).usage
    assert usage is not None
    assert (usage["calls"], usage["input_tokens"], usage["output_tokens"]) == (
        2,
        billed["input_tokens"],
        billed["output_tokens"],
    )
    # Haiku 4.5: $1 per million input tokens, $5 output; micro-dollars, rounded up.
    cost = (billed["input_tokens"] * 1 + billed["output_tokens"] * 5) / 1e6
    assert usage["cost_usd"] == pytest.approx(cost)
    calls, input_tokens, output_tokens, usd = _spent(llm_fleet)
    assert (calls, input_tokens, output_tokens) == (
        2,
        billed["input_tokens"],
        usage["output_tokens"],
    )
    assert usd == pytest.approx(cost, abs=1e-6)


def test_a_draft_the_guard_refused_is_charged_when_the_second_writing_fails(
    llm_fleet: Fleet, local_api: MessagesAPI
) -> None:
    local_api.queue(
        local_api.text(post_json(caption="As an AI, I love this frog")),
        local_api.error(529, "overloaded_error"),
    )
    _, shown = _act(llm_fleet, "1", "post", "--here")
    assert shown["status"] == "dead" and "529" in shown["reason"]
    usage = _activity(llm_fleet, shown["key"]).usage
    assert usage is not None and usage["calls"] == 1
    assert usage["input_tokens"] == local_api.billed_total()["input_tokens"]
    assert _spent(llm_fleet)[:2] == (1, usage["input_tokens"])


def test_a_thought_after_browsing_is_on_the_activity_too(
    llm_fleet: Fleet, local_api: MessagesAPI
) -> None:
    local_api.queue(local_api.text(post_json()))
    assert _act(llm_fleet, "1", "post", "--here")[1]["status"] == "succeeded"
    local_api.queue(local_api.text('{"thought": "That frog bard reads well small."}'))
    _, shown = _act(llm_fleet, "2", "browse", "--here")
    assert shown["status"] == "succeeded"
    assert shown["detail"]["thought"] == "That frog bard reads well small."
    usage = _activity(llm_fleet, shown["key"]).usage
    assert usage is not None and usage["calls"] == 1
    assert usage["output_tokens"] == local_api.billed[-1]["output_tokens"]


def test_an_upstream_that_echoes_the_key_is_printed_without_it(
    llm_fleet: Fleet, local_api: MessagesAPI
) -> None:
    local_api.queue(local_api.error(401, "authentication_error", "key {api_key} is not valid here"))
    result = run(llm_fleet, "agents", "act", "1", "post", "--here")
    assert local_api.requests[0].api_key == KEY
    assert result.exit_code == 1
    assert "key [redacted] is not valid here" in result.stdout
    assert KEY not in result.output
    with llm_fleet.sessions() as session:
        assert all(KEY not in letter.error for letter in session.scalars(select(DeadLetter)))


def test_the_cli_masks_secrets_in_whatever_it_prints_whatever_their_source(
    pg_engine: Engine,
) -> None:
    """A row written before redaction existed (or by another tool) still holds the key and
    the gallery's token: every face that prints it masks them."""
    fleet = _fleet(pg_engine, redis_url=None, gallery={"token": "gallery-token-RAW-0c9d"})
    try:
        run(fleet, "agents", "create", "--persona", "ux_ui_designer", "--count", "1")
        now = datetime.now(UTC)
        activity_id = activities.create_activity(
            fleet.sessions, 1, "post", now, "1:1:post", now=now, lease=timedelta(minutes=5)
        )
        raw = f"upstream said: bad key {KEY} (token gallery-token-RAW-0c9d)"
        with fleet.sessions.begin() as session:
            session.execute(
                insert(DeadLetter).values(
                    activity_id=activity_id,
                    task="fleet.post",
                    arguments={"key": "1:1:post"},
                    error_type="PermanentError",
                    error=raw,
                    attempts=1,
                    created_at=now,
                )
            )
        outputs = [
            run(fleet, *args)
            for args in (
                ["dlq", "show", "1"],
                ["dlq", "list", "--json"],
                ["dlq", "show", "1", "--json"],
            )
        ]
        for result in outputs:
            assert result.exit_code == 0, result.output
            assert "upstream said: bad key [redacted] (token [redacted])" in result.stdout
            assert KEY not in result.output and "gallery-token-RAW-0c9d" not in result.output
    finally:
        fleet.close()

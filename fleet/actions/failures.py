"""What happens when an action fails: retry, wait, skip or dead-letter.

- Transient (timeouts, connection errors, 5xx): retry with exponential backoff and full
  jitter, up to ``max_attempts`` failed attempts, then dead.
- Permanent (validation, 4xx, refused content): dead at once.
- Rate-limited by the fleet's own shared limit (``RateLimited``): the call was not made.
  Overload is no failure: the action waits for the limit, jittered, without a count of
  its deferrals, and its delivery is given back (it reached nothing). One that may have
  reached the gallery before (an attempt failed, a delivery was lost) keeps waiting,
  re-leased at each wait, until a delivery gets through and finishes it (looking for its
  effect first where the gallery keeps no keys): it is never dead-lettered for overload.
  One that never reached the gallery waits up to a lease past its due time, then ends
  skipped (the moment has passed).
- Deferred otherwise (open circuit, the gallery's 429, budget, pause): wait without
  counting an attempt. An agent's budget moves its next tick to ``resetAt``; the fleet's
  budget or the pause puts a fleet-wide hold the dispatcher respects. A short wait retries
  the same action later, up to ``max_deferrals`` times; a long one (beyond the longest
  countdown we allow the broker) skips it.
- Lost (a delivery that never reached this point: its worker killed, its message lost):
  each claim counts a delivery, and one past the limit is refused as permanent
  (``fleet.actions.perform``), so it ends here, dead.

Without retries (``retry=False``: an admin's action run in the CLI, ``fleet.service.agents.
act_here``), the first failure is the last: a transient one is counted and ends dead with its dead
letter, a wait ends as a wait too long would. Nothing is left pending for the sweeper.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from fleet import activities, agents
from fleet.actions.kit import ActionKit
from fleet.actions.perform import FeedSubject, announce
from fleet.activities.outcomes import AlreadyFinished, Dead, Retry, Settled, Skipped
from fleet.activities.views import Standing
from fleet.core.kinds import Action, ActionKey
from fleet.core.statuses import ActivityStatus
from fleet.errors import Deferred, PermanentError, RateLimited
from fleet.infra.redaction import redact


def backoff_seconds(failures: int, *, base: float, cap: float, rng: random.Random) -> float:
    """Full jitter: uniform in [0, min(cap, base * 2**failures)]."""
    return rng.uniform(0, min(cap, base * 2 ** max(failures - 1, 0)))


def _let_go(
    kit: ActionKit, activity_id: int, countdown: float, now: datetime, *, unmade: bool = False
) -> None:
    """The retry will claim it again: release the claim, and leave the sweeper a lease's
    time past the countdown before it re-sends a retry that never came (``unmade``: this
    delivery reached nothing, its delivery is given back)."""
    until = now + timedelta(seconds=countdown) + kit.limits.lease
    activities.release(kit.sessions, activity_id, until=until, now=now, unmade=unmade)


def settle(
    kit: ActionKit,
    key: ActionKey[Action],
    task: str,
    error: BaseException,
    *,
    deferrals: int,
    secrets: tuple[str, ...] = (),
    rng: random.Random | None = None,
    retry: bool = True,
) -> Settled:
    """Decide and record the consequence of ``error`` for the activity ``key``; with
    ``retry`` False it never retries nor waits: the outcome is terminal."""
    rng = rng or random.Random()
    now = kit.now()
    row = activities.standing_of(kit.sessions, key)
    if row is None or row.status != ActivityStatus.PENDING:
        return AlreadyFinished()
    activity_id, agent_id = row.id, row.agent_id
    ended = FeedSubject(activity_id, agent_id, row.handle, row.persona, key.action, key)
    message = redact(f"{type(error).__name__}: {error}", secrets)
    cap = kit.settings.backoff_max_seconds

    if isinstance(error, RateLimited) and retry:
        return _wait_for_the_limit(kit, row, ended, error, message, now, rng, deferrals)

    if isinstance(error, Deferred):
        until = error.until
        if error.scope == "agent" and until is not None:
            agents.defer_agent(kit.sessions, agent_id, until)
        if error.scope == "fleet":
            hold_until = until or now + timedelta(seconds=kit.settings.pause_probe_seconds)
            activities.hold_fleet(
                kit.sessions,
                error.code or "fleet",
                redact(error.reason, secrets),
                hold_until,
                now=now,
            )
        wait = (until - now).total_seconds() if until else kit.settings.pause_probe_seconds
        if retry and wait <= cap and deferrals < kit.settings.max_deferrals:
            countdown = max(wait, 0.0)
            _let_go(kit, activity_id, countdown, now)
            return Retry(countdown, message)
        reason = f"deferred: {redact(error.reason, secrets)}"
        if row.attempts == 0 and row.deliveries <= 1:
            if not activities.finish(kit.sessions, activity_id, "skipped", now=now, reason=reason):
                return AlreadyFinished(activity_id)
            skipped = Skipped(activity_id, reason)
            announce(kit, ended, skipped.status, skipped.detail)
            return skipped
        # An earlier attempt may have reached the gallery, and the gallery cannot be asked
        # now (a breaker open, a pause): not skipped, which would hide an effect, but a
        # dead letter, whose effect `fleet reconcile` looks for and a replay completes.
        return _bury(
            kit,
            ended,
            task,
            type(error).__name__,
            f"{reason}; an earlier attempt may have reached the gallery "
            "(fleet reconcile looks for its effect)",
            now,
        )

    if not isinstance(error, PermanentError):
        failures = activities.record_failure(kit.sessions, activity_id, message, now=now)
        if retry and failures < kit.limits.max_attempts:
            countdown = backoff_seconds(
                failures, base=kit.settings.backoff_base_seconds, cap=cap, rng=rng
            )
            _let_go(kit, activity_id, countdown, now)
            return Retry(countdown, message, attempts=failures)

    return _bury(kit, ended, task, type(error).__name__, message, now)


def _wait_for_the_limit(
    kit: ActionKit,
    row: Standing,
    ended: FeedSubject,
    error: RateLimited,
    message: str,
    now: datetime,
    rng: random.Random,
    deferrals: int,
) -> Retry | Skipped | AlreadyFinished:
    """The fleet's own rate limit refused the call: it was not made. The action comes back
    once the limit has a token (at most ``backoff_max_seconds`` on), plus a backoff with
    full jitter that grows with its ``deferrals``: the waiters spread out instead of all
    coming back at once and spending the limit's tokens on the calls before an effect
    they are then refused. Its deferrals count for that spread only, never towards a dead
    letter, and the delivery is given back. An action that never reached the gallery ends
    skipped once the wait would carry it past a lease after its due time; one that may
    have reached it keeps waiting, re-leased at each wait (the sweeper re-sends it should
    its retry be lost)."""
    settings = kit.settings
    wait = max(0.0, (error.until - now).total_seconds()) if error.until is not None else 0.0
    spread = backoff_seconds(
        deferrals + 1, base=settings.backoff_base_seconds, cap=settings.backoff_max_seconds, rng=rng
    )
    countdown = min(wait, settings.backoff_max_seconds) + spread
    untried = row.attempts == 0 and row.deliveries <= 1
    if untried and now + timedelta(seconds=countdown) > row.due_at + kit.limits.lease:
        reason = (
            f"deferred: the gallery stayed saturated for a lease ({kit.limits.lease.total_seconds():g}s) "
            f"after the action was due; {error.reason}"
        )
        if not activities.finish(kit.sessions, row.id, "skipped", now=now, reason=reason):
            return AlreadyFinished(row.id)
        skipped = Skipped(row.id, reason)
        announce(kit, ended, skipped.status, skipped.detail)
        return skipped
    _let_go(kit, row.id, countdown, now, unmade=True)
    return Retry(countdown, message)


def _bury(
    kit: ActionKit, ended: FeedSubject, task: str, error_type: str, message: str, now: datetime
) -> Dead | AlreadyFinished:
    """End the activity dead with a dead letter, and say so on the activity feed."""
    arguments: dict[str, Any] = {"key": ended.key.text}
    letter = activities.bury(
        kit.sessions,
        ended.activity_id,
        task=task,
        arguments=arguments,
        error_type=error_type,
        error=message,
        now=now,
    )
    if letter is None:
        return AlreadyFinished(ended.activity_id)
    announce(kit, ended, "dead", {"reason": message, "dead_letter_id": letter})
    return Dead(letter, message)

"""The sandbox's running state and the checks every API call goes through.

``commit`` runs a call's effect in one transaction with its bookkeeping: the replay of a
remembered Idempotency-Key, the daily budget (429 with ``code`` and ``resetAt``), and the
idempotency record, which commits with the effect or not at all.
"""

from __future__ import annotations

import hashlib
import hmac
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from fleet_sandbox import storage
from fleet_sandbox.config import Controls, SandboxConfig, budget_verdict
from fleet_sandbox.provenance import Marker
from fleet_sandbox.schemas import stamp
from fleet_sandbox.storage import Storage

# The values of ``X-Fleet-Origin`` the sandbox counts by name (docs/gallery-api.md).
ORIGINS = frozenset({"automated", "assisted"})

SERVICE = "@service"  # the actor of service calls, for idempotency records


# Pages start at most this far in: past it no gallery has posts, and a bigger integer
# would not fit the database's.
MAX_OFFSET = 1_000_000_000


class ApiError(Exception):
    """Raised by a handler to answer with an error status and a JSON body."""

    def __init__(
        self, status: int, error: str, *, headers: dict[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(error)
        self.status = status
        self.body = {"error": error, **extra}
        self.headers = headers or {}


@dataclass
class Sandbox:
    """The running sandbox: its config, storage, controls, clock and fault dice."""

    config: SandboxConfig
    storage: Storage
    controls: Controls
    clock: Callable[[], datetime]
    dice: random.Random
    # Signs the pictures a workflow asks to mark (its pair made or read when first used).
    marker: Marker | None = None
    # Feed pages served by sort (recent, popular, trending): what the fleet reads.
    feed_reads: Counter[str] = field(default_factory=Counter)
    # Agent calls by the origin their ``X-Fleet-Origin`` header gave ("automated", or
    # "unsaid" without one): what a gallery stores to count agent engagement apart.
    origins: Counter[str] = field(default_factory=Counter)

    def reset(self) -> None:
        """Delete all data and put the controls back to the start-up config."""
        self.storage.reset()
        self.controls = Controls.of(self.config)
        self.feed_reads.clear()
        self.origins.clear()


def sandbox_of(request: Request) -> Sandbox:
    """The sandbox serving this request."""
    found: Sandbox = request.app.state.sandbox
    return found


def authorize(request: Request) -> None:
    """Refuse (401) a request without the service token."""
    expected = "Bearer " + sandbox_of(request).config.service_token.get_secret_value()
    given = request.headers.get("authorization", "")
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise ApiError(401, "missing or invalid service token")


def acting_agent(request: Request) -> storage.User:
    """The agent named by X-Agent-Id, after the token and the pause switch are checked."""
    authorize(request)
    sandbox = sandbox_of(request)
    if sandbox.controls.paused:
        raise ApiError(503, "the fleet is paused", code="FLEET_PAUSED")
    username = request.headers.get("x-agent-id", "")
    if not username:
        raise ApiError(403, "X-Agent-Id is required on agent calls")
    with sandbox.storage.begin() as conn:
        user = storage.user_by_username(conn, username)
    if user is None or not user.is_agent:
        raise ApiError(403, f"no agent account {username!r}")
    origin = request.headers.get("x-fleet-origin", "")
    sandbox.origins[origin if origin in ORIGINS else "unsaid"] += 1
    budgets = sandbox.controls.budgets
    if budgets.every_call:
        now = sandbox.clock()
        with sandbox.storage.begin() as conn:
            spent = storage.spent(conn, day=now.astimezone(UTC).date(), username=username)
        verdict = budget_verdict(budgets, username, spent, now)
        if verdict is not None:
            wait = max(1, int((verdict.reset_at - now).total_seconds()))
            raise ApiError(
                429,
                "daily budget exhausted",
                code=verdict.code,
                resetAt=stamp(verdict.reset_at),
                headers={"Retry-After": str(wait)},
            )
    return user


def page_query(request: Request, *, max_limit: int = 100) -> tuple[int, int]:
    """``limit`` and ``offset`` from the query string, or a 422."""
    try:
        limit = int(request.query_params.get("limit", "20"))
        offset = int(request.query_params.get("offset", "0"))
    except ValueError:
        raise ApiError(422, "limit and offset must be integers") from None
    if not (1 <= limit <= max_limit and 0 <= offset <= MAX_OFFSET):
        raise ApiError(422, f"limit must be 1-{max_limit} and offset 0-{MAX_OFFSET}")
    return limit, offset


def post_id_of(request: Request) -> int:
    """The post id in the path; a malformed id names no post (404)."""
    raw = request.path_params["post_id"]
    if not raw.isdigit() or len(raw) > 18:
        raise ApiError(404, "showcase item not found")
    return int(raw)


Effect = Callable[[Connection, str | None, datetime], dict[str, Any]]


def replay(request: Request, route: str, actor: str) -> Response | None:
    """The remembered answer to this Idempotency-Key, when idempotency is on and it has one."""
    sandbox = sandbox_of(request)
    key = request.headers.get("idempotency-key")
    if not key or not sandbox.controls.idempotency:
        return None
    with sandbox.storage.begin() as conn:
        remembered = storage.recall(conn, actor=actor, key=key)
    if remembered is None:
        return None
    kind, _, fingerprint = remembered.route.partition("#")
    if kind != route:
        raise ApiError(422, f"Idempotency-Key {key!r} was used for another kind of call")
    if fingerprint and fingerprint != request_fingerprint(request):
        # As payment APIs answer: the same key with another body or target is a mistake
        # of the caller, not a retry of the same request.
        raise ApiError(
            422, f"Idempotency-Key {key!r} was used with another body or on another target"
        )
    return JSONResponse(remembered.body, remembered.status, headers={"Idempotent-Replayed": "true"})


def request_fingerprint(request: Request) -> str:
    """What makes a request the same request: its method, path and body."""
    digest = hashlib.sha256(f"{request.method} {request.url.path} ".encode())
    digest.update(getattr(request.state, "body_digest", "").encode())
    return digest.hexdigest()[:12]


def commit(
    request: Request,
    route: str,
    actor: str,
    effect: Effect,
    *,
    status: int = 200,
    spends: bool = False,
) -> Response:
    """Run ``effect`` in one transaction with its budget and idempotency bookkeeping."""
    answered = replay(request, route, actor)
    if answered is not None:
        return answered
    sandbox = sandbox_of(request)
    key = request.headers.get("idempotency-key") or None
    now = sandbox.clock()
    today = now.astimezone(UTC).date()
    try:
        with sandbox.storage.begin() as conn:
            if spends:
                spent = storage.spent(conn, day=today, username=actor)
                verdict = budget_verdict(sandbox.controls.budgets, actor, spent, now)
                if verdict is not None:
                    wait = max(1, int((verdict.reset_at - now).total_seconds()))
                    raise ApiError(
                        429,
                        "daily budget exhausted",
                        code=verdict.code,
                        resetAt=stamp(verdict.reset_at),
                        headers={"Retry-After": str(wait)},
                    )
                storage.spend_unit(conn, day=today, username=actor)
            body = effect(conn, key, now)
            if key and sandbox.controls.idempotency:
                storage.remember(
                    conn,
                    actor=actor,
                    key=key,
                    route=f"{route}#{request_fingerprint(request)}",
                    status=status,
                    body=body,
                    now=now,
                )
    except IntegrityError:
        # Another call with the same key committed first: answer as it was answered.
        answered = replay(request, route, actor)
        if answered is None:
            raise
        return answered
    return JSONResponse(body, status)

"""The sandbox's running state and the checks every API call goes through.

``commit`` runs a call's effect in one transaction with its bookkeeping: the replay of a
remembered Idempotency-Key, the daily budget (429 with ``code`` and ``resetAt``), and the
idempotency record, which commits with the effect or not at all. ``act`` does the same
for an agent's call without a body (a like, a follow) and reads the agent's account in
that transaction too, in one statement with the answer remembered for its key: such a
call is one transaction. ``agent_reads`` is an agent's read (a feed page, a post) in one
transaction with its account's check.
"""

from __future__ import annotations

import hashlib
import hmac
import random
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
from fleet_sandbox.storage import Remembered, Storage

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


def _calling_agent(request: Request) -> tuple[Sandbox, str]:
    """The sandbox and the X-Agent-Id of an agent call, after the checks that need no
    database: the token (401), the pause switch (503), the header itself (403)."""
    authorize(request)
    sandbox = sandbox_of(request)
    if sandbox.controls.paused:
        raise ApiError(503, "the fleet is paused", code="FLEET_PAUSED")
    username = request.headers.get("x-agent-id", "")
    if not username:
        raise ApiError(403, "X-Agent-Id is required on agent calls")
    return sandbox, username


def _checked_agent(
    conn: Connection, request: Request, sandbox: Sandbox, found: storage.User | None, name: str
) -> storage.User:
    """The account ``found`` for X-Agent-Id ``name``, refused (403) unless it is an agent's,
    its origin counted, and the budget checked when every call spends (429)."""
    if found is None or not found.is_agent:
        raise ApiError(403, f"no agent account {name!r}")
    origin = request.headers.get("x-fleet-origin", "")
    sandbox.origins[origin if origin in ORIGINS else "unsaid"] += 1
    if sandbox.controls.budgets.every_call:
        _within_budget(conn, sandbox, name, sandbox.clock())
    return found


def _within_budget(conn: Connection, sandbox: Sandbox, username: str, now: datetime) -> None:
    """Refuse (429, with ``code`` and ``resetAt``) when the day's budget is spent."""
    spent = storage.spent(conn, day=now.astimezone(UTC).date(), username=username)
    verdict = budget_verdict(sandbox.controls.budgets, username, spent, now)
    if verdict is not None:
        wait = max(1, int((verdict.reset_at - now).total_seconds()))
        raise ApiError(
            429,
            "daily budget exhausted",
            code=verdict.code,
            resetAt=stamp(verdict.reset_at),
            headers={"Retry-After": str(wait)},
        )


def acting_agent(request: Request) -> storage.User:
    """The agent named by X-Agent-Id, after the token and the pause switch are checked."""
    sandbox, username = _calling_agent(request)
    with sandbox.storage.begin() as conn:
        found = storage.user_by_username(conn, username)
        return _checked_agent(conn, request, sandbox, found, username)


@contextmanager
def agent_reads(request: Request) -> Iterator[tuple[Connection, storage.User]]:
    """An agent's read: its account checked (as ``acting_agent``) in the transaction the
    read then runs in."""
    sandbox, username = _calling_agent(request)
    with sandbox.storage.begin() as conn:
        found = storage.user_by_username(conn, username)
        yield conn, _checked_agent(conn, request, sandbox, found, username)


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


@dataclass(frozen=True)
class Call:
    """An agent's call inside its one transaction: what its effect acts with."""

    conn: Connection
    agent: storage.User
    # The Idempotency-Key it came with (recorded with its effect even when not honoured).
    key: str | None
    now: datetime
    # The post in the path, for a call on a post (None for others).
    post_id: int | None


def _honoured(key: str | None, sandbox: Sandbox) -> str | None:
    """The Idempotency-Key ``key`` when its answer is remembered: None without one or
    while idempotency is off."""
    return key if key and sandbox.controls.idempotency else None


def _replayed(request: Request, route: str, key: str, remembered: Remembered) -> Response:
    """The remembered answer, given again; a key used for another call is refused (422)."""
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


def replay(request: Request, route: str, actor: str) -> Response | None:
    """The remembered answer to this Idempotency-Key, when idempotency is on and it has one."""
    sandbox = sandbox_of(request)
    key = _honoured(request.headers.get("idempotency-key"), sandbox)
    if key is None:
        return None
    with sandbox.storage.begin() as conn:
        remembered = storage.recall(conn, actor=actor, key=key)
    return None if remembered is None else _replayed(request, route, key, remembered)


def request_fingerprint(request: Request) -> str:
    """What makes a request the same request: its method, path and body."""
    # The path as ``request.url.path`` gives it (Starlette's escapes, ``URL.__init__``),
    # without building the whole URL from the scope and splitting it again per call.
    path = request.scope["path"].replace("?", "%3F").replace("#", "%23").replace("\\", "%5C")
    digest = hashlib.sha256(f"{request.method} {path} ".encode())
    digest.update(getattr(request.state, "body_digest", "").encode())
    return digest.hexdigest()[:12]


def _remember(
    conn: Connection,
    request: Request,
    route: str,
    actor: str,
    key: str,
    *,
    answer: Response,
    now: datetime,
) -> None:
    """Remember the answer to (actor, key), with what makes its request the same request
    (its JSON as rendered for the caller: rendered once)."""
    storage.remember(
        conn,
        actor=actor,
        key=key,
        route=f"{route}#{request_fingerprint(request)}",
        status=answer.status_code,
        body=bytes(answer.body).decode(),
        now=now,
    )


def _after_conflict(request: Request, route: str, actor: str, conflict: IntegrityError) -> Response:
    """Another call with the same key committed first: answer as it was answered."""
    answered = replay(request, route, actor)
    if answered is None:
        raise conflict
    return answered


def act(
    request: Request,
    route: str,
    effect: Callable[[Call], dict[str, Any]],
    *,
    status: int = 200,
    on_post: bool = False,
) -> Response:
    """An agent's call without a body, in one transaction: its account and the answer
    remembered for its Idempotency-Key read together, then (in ``acting_agent``'s and
    ``commit``'s order) the 403 and budget checks, the post in the path (``on_post``: 404
    when malformed), the replay, the effect and its idempotency record."""
    sandbox, username = _calling_agent(request)
    key = request.headers.get("idempotency-key") or None
    honoured = _honoured(key, sandbox)
    now = sandbox.clock()
    try:
        with sandbox.storage.begin() as conn:
            found, remembered = storage.agent_and_answer(conn, username=username, key=honoured)
            agent = _checked_agent(conn, request, sandbox, found, username)
            post_id = post_id_of(request) if on_post else None
            if remembered is not None and honoured is not None:
                return _replayed(request, route, honoured, remembered)
            answer = JSONResponse(effect(Call(conn, agent, key, now, post_id)), status)
            if honoured is not None:
                _remember(conn, request, route, username, honoured, answer=answer, now=now)
    except IntegrityError as conflict:
        return _after_conflict(request, route, username, conflict)
    return answer


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
    honoured = _honoured(key, sandbox)
    now = sandbox.clock()
    try:
        with sandbox.storage.begin() as conn:
            if spends:
                _within_budget(conn, sandbox, actor, now)
                storage.spend_unit(conn, day=now.astimezone(UTC).date(), username=actor)
            answer = JSONResponse(effect(conn, key, now), status)
            if honoured is not None:
                _remember(conn, request, route, actor, honoured, answer=answer, now=now)
    except IntegrityError as conflict:
        return _after_conflict(request, route, actor, conflict)
    return answer

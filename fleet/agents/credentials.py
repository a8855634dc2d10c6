"""Each agent's access token on a per-agent platform, sealed at rest (seed 003's key
management; docs/credentials.md).

The token is sealed with Fernet (AES-128-CBC and HMAC-SHA256, ``cryptography``) under the
keys of FLEET_CREDENTIALS__KEYS, newest first (``MultiFernet``: the newest seals, any
opens); ``rotate`` re-seals every stored token with the newest key. The table's column
holds the ciphertext only; no function here logs, returns in an error or prints a token.

``StoredCredentials`` is the port's ``Credentials`` over the table, with a small bounded
cache of opened tokens (``cache_seconds``, ``cache_size``), and ``refused``: a token the
platform answered 401 for is recorded as failed, the agent set aside with the reason
(status ``error``, no next tick: ``fleet status`` names it), and ``token_for`` refuses the
agent from then on until a token is set again. One refusal, not a retry storm.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from fleet.agents.heartbeat import set_aside
from fleet.agents.selection import parse_ref
from fleet.db.models import Agent, AgentCredential
from fleet.errors import ConfigError, FleetError, InputError, PermanentError, UnknownAgent
from fleet.infra.redaction import remember

KEYS_VARIABLE = "FLEET_CREDENTIALS__KEYS"
# What an agent set aside for a refused token says first (``fleet status`` shows it).
REFUSED = "its platform token was refused"
MAX_TOKEN_CHARS = 4096
# What a reason recorded from a platform may hold.
MAX_REASON = 300


class UnopenedToken(FleetError):
    """No key of FLEET_CREDENTIALS__KEYS opens a sealed token (Fernet's ``InvalidToken``)."""


class TokenSeal:
    """Seals and opens tokens with the configured keys, newest first.

    ``cryptography`` is loaded when a seal is made: a process that never reads a token
    (the ticks worker, a fleet on the sandbox) does not load it (some 10 MiB)."""

    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise ConfigError(
                f"{KEYS_VARIABLE} is not set: agents' platform tokens are sealed with it "
                "(`fleet agents credentials new-key` prints a key; docs/credentials.md)"
            )
        from cryptography.fernet import Fernet, InvalidToken, MultiFernet

        try:
            self._fernet = MultiFernet([Fernet(key.encode()) for key in keys])
        except (ValueError, TypeError):
            raise ConfigError(f"{KEYS_VARIABLE} holds a key that is not a Fernet key") from None
        self._invalid = InvalidToken

    def seal(self, token: str) -> bytes:
        return self._fernet.encrypt(token.encode())

    def open(self, sealed: bytes) -> str:
        """The token (``UnopenedToken``: no key opens it)."""
        try:
            return self._fernet.decrypt(sealed).decode()
        except self._invalid:
            raise UnopenedToken from None

    def reseal(self, sealed: bytes) -> bytes:
        """The same token sealed with the newest key (``UnopenedToken``: no key opens it)."""
        try:
            return self._fernet.rotate(sealed)
        except self._invalid:
            raise UnopenedToken from None


def new_key() -> str:
    """A fresh Fernet key, for FLEET_CREDENTIALS__KEYS."""
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


def checked_token(token: str) -> str:
    """``token`` as given on stdin, or InputError saying what is wrong (never echoing it)."""
    token = token.strip()
    if not token:
        raise InputError("no token given: paste it on standard input (one line)")
    if len(token) > MAX_TOKEN_CHARS:
        raise InputError(f"the token is longer than {MAX_TOKEN_CHARS} characters")
    if any(ch.isspace() or not ch.isprintable() for ch in token):
        raise InputError("the token holds spaces or control characters: give one line")
    return token


@dataclass(frozen=True, slots=True)
class CredentialView:
    """What may be shown of an agent's credential: never the token."""

    agent_id: int
    handle: str
    has_token: bool
    set_at: datetime
    checked_at: datetime | None
    checked: str | None
    failed_at: datetime | None
    failure: str | None
    revoked_at: datetime | None

    @property
    def state(self) -> str:
        if self.revoked_at is not None or not self.has_token:
            return "revoked"
        if self.failed_at is not None:
            return "refused"
        return "set"


def _agent_id(session: Session, ref: str) -> tuple[int, str]:
    parsed = parse_ref(ref)
    column = Agent.id if isinstance(parsed, int) else Agent.handle
    row = session.execute(
        select(Agent.id, Agent.handle).where(column == parsed, Agent.deleted_at.is_(None))
    ).first()
    if row is None:
        raise UnknownAgent(ref)
    return int(row.id), str(row.handle)


def set_token(
    sessions: sessionmaker[Session], seal: TokenSeal, ref: str, token: str, *, now: datetime
) -> str:
    """Seal and keep ``token`` as the agent's (replacing any, clearing a refusal); the
    agent's handle."""
    token = checked_token(token)
    remember(token)
    sealed = seal.seal(token)
    with sessions.begin() as session:
        agent_id, handle = _agent_id(session, ref)
        session.execute(delete(AgentCredential).where(AgentCredential.agent_id == agent_id))
        session.add(AgentCredential(agent_id=agent_id, sealed=sealed, set_at=now))
    return handle


def revoke_token(sessions: sessionmaker[Session], ref: str, *, now: datetime) -> tuple[str, bool]:
    """Forget the agent's token (the row stays, saying when); its handle, and whether it
    had one."""
    with sessions.begin() as session:
        agent_id, handle = _agent_id(session, ref)
        done = session.execute(
            update(AgentCredential)
            .where(AgentCredential.agent_id == agent_id, AgentCredential.sealed.is_not(None))
            .values(sealed=None, revoked_at=now)
        )
    return handle, bool(getattr(done, "rowcount", 0))


def sealed_token(sessions: sessionmaker[Session], ref: str) -> tuple[str, CredentialView, bytes]:
    """The agent's handle, its credential's view and the sealed token, or InputError
    when it has none (never set, or revoked)."""
    with sessions() as session:
        agent_id, handle = _agent_id(session, ref)
        row = session.get(AgentCredential, agent_id)
        if row is None or row.sealed is None:
            raise InputError(
                f"@{handle} has no platform token: fleet agents credentials set {handle}"
            )
        return handle, _view(row, handle), row.sealed


def record_check(
    sessions: sessionmaker[Session], agent_id: int, *, ok: bool, said: str, now: datetime
) -> None:
    """Keep what the platform's check said; a refusal marks the token failed."""
    values: dict[str, object] = {"checked_at": now, "checked": said[:MAX_REASON]}
    if not ok:
        values |= {"failed_at": now, "failure": said[:MAX_REASON]}
    with sessions.begin() as session:
        session.execute(
            update(AgentCredential).where(AgentCredential.agent_id == agent_id).values(**values)
        )


def rotate_tokens(sessions: sessionmaker[Session], seal: TokenSeal) -> int:
    """Re-seal every stored token with the newest key, all or none: InputError naming the
    agents whose token no key opens (nothing is written then); how many were re-sealed."""
    with sessions.begin() as session:
        rows = session.execute(
            select(AgentCredential, Agent.handle)
            .join(Agent, Agent.id == AgentCredential.agent_id)
            .where(AgentCredential.sealed.is_not(None))
            .with_for_update(of=AgentCredential)
        ).all()
        resealed: list[tuple[AgentCredential, bytes]] = []
        unopened: list[str] = []
        for credential, handle in rows:
            if credential.sealed is None:
                continue
            try:
                resealed.append((credential, seal.reseal(credential.sealed)))
            except UnopenedToken:
                unopened.append("@" + handle)
        if unopened:
            raise InputError(
                f"no key of {KEYS_VARIABLE} opens the token of {', '.join(unopened[:10])}"
                + (f" and {len(unopened) - 10} more" if len(unopened) > 10 else "")
                + ": keep the old key in the list (newest first) until rotate has run; "
                "nothing was re-sealed"
            )
        for credential, sealed in resealed:
            credential.sealed = sealed
        return len(resealed)


def credential_views(
    sessions: sessionmaker[Session], *, limit: int = 10_000
) -> list[CredentialView]:
    """Every live agent's credential, by handle (never a token)."""
    with sessions() as session:
        rows = session.execute(
            select(AgentCredential, Agent.handle)
            .join(Agent, Agent.id == AgentCredential.agent_id)
            .where(Agent.deleted_at.is_(None))
            .order_by(Agent.handle)
            .limit(limit)
        ).all()
        return [_view(credential, handle) for credential, handle in rows]


def credential_counts(
    sessions: sessionmaker[Session], *, shown: int = 20
) -> tuple[dict[str, int], list[CredentialView]]:
    """Live agents' credentials counted by state (set, refused, revoked), and the first
    ``shown`` refused ones, latest first: what ``fleet status`` reads, in two statements
    whatever the fleet's size."""
    revoked = AgentCredential.sealed.is_(None)
    refused = AgentCredential.sealed.is_not(None) & AgentCredential.failed_at.is_not(None)
    state = case((revoked, "revoked"), (refused, "refused"), else_="set")
    live = Agent.deleted_at.is_(None)
    with sessions() as session:
        counts = {
            str(name): int(count)
            for name, count in session.execute(
                select(state, func.count())
                .join(Agent, Agent.id == AgentCredential.agent_id)
                .where(live)
                .group_by(state)
            )
        }
        rows = session.execute(
            select(AgentCredential, Agent.handle)
            .join(Agent, Agent.id == AgentCredential.agent_id)
            .where(live, refused)
            .order_by(AgentCredential.failed_at.desc())
            .limit(shown)
        ).all()
        return counts, [_view(credential, handle) for credential, handle in rows]


def _view(row: AgentCredential, handle: str) -> CredentialView:
    return CredentialView(
        agent_id=row.agent_id,
        handle=handle,
        has_token=row.sealed is not None,
        set_at=row.set_at,
        checked_at=row.checked_at,
        checked=row.checked,
        failed_at=row.failed_at,
        failure=row.failure,
        revoked_at=row.revoked_at,
    )


def refuse_token(
    sessions: sessionmaker[Session], agent: str, reason: str, *, now: datetime
) -> bool:
    """The platform refused ``agent``'s token: mark it failed and set the agent aside
    (status error, no next tick) with the reason; False when the agent has no token row."""
    reason = " ".join(reason.split())[:200]
    with sessions.begin() as session:
        row = session.execute(
            select(Agent.id).where(Agent.handle == agent, Agent.deleted_at.is_(None))
        ).first()
        if row is None:
            return False
        agent_id = int(row.id)
        done = session.execute(
            update(AgentCredential)
            .where(AgentCredential.agent_id == agent_id, AgentCredential.failed_at.is_(None))
            .values(failed_at=now, failure=reason[:MAX_REASON])
        )
        if not getattr(done, "rowcount", 0):
            return False  # already refused (another process's call), or no token
        set_aside(
            session.connection(),
            [
                (
                    agent_id,
                    f"{REFUSED} ({reason}): fleet agents credentials set {agent}, "
                    f"then fleet agents start {agent}",
                )
            ],
            now=now,
        )
    return True


class StoredCredentials:
    """The port's ``Credentials`` over ``agent_credentials``, with a bounded cache of
    opened tokens; ``refused`` records a token the platform refused (RefusedTokens)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        seal: TokenSeal | Callable[[], TokenSeal],
        *,
        now: Callable[[], datetime],
        cache_seconds: float = 60.0,
        cache_size: int = 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions = sessions
        self._seal = seal
        self._now = now
        self._ttl = cache_seconds
        self._size = cache_size
        self._clock = clock
        self._cache: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._lock = threading.Lock()

    def _sealer(self) -> TokenSeal:
        with self._lock:
            if not isinstance(self._seal, TokenSeal):
                self._seal = self._seal()  # ConfigError when the keys are missing
            return self._seal

    def token_for(self, agent: str) -> str:
        """The agent's token in clear, or PermanentError naming the agent and why."""
        at = self._clock()
        with self._lock:
            hit = self._cache.get(agent)
            if hit is not None and at - hit[0] < self._ttl:
                self._cache.move_to_end(agent)
                return hit[1]
        token = self._read(agent)
        if self._ttl > 0:
            with self._lock:
                self._cache[agent] = (at, token)
                self._cache.move_to_end(agent)
                while len(self._cache) > self._size:
                    self._cache.popitem(last=False)
        return token

    def _read(self, agent: str) -> str:
        with self._sessions() as session:
            row = session.execute(
                select(AgentCredential.sealed, AgentCredential.failed_at, AgentCredential.failure)
                .join(Agent, Agent.id == AgentCredential.agent_id)
                .where(Agent.handle == agent, Agent.deleted_at.is_(None))
            ).first()
        if row is None or row.sealed is None:
            raise PermanentError(
                f"@{agent} has no platform token (fleet agents credentials set {agent})"
            )
        if row.failed_at is not None:
            raise PermanentError(
                f"@{agent}'s platform token was refused at {row.failed_at:%Y-%m-%d %H:%M} UTC "
                f"({row.failure}): fleet agents credentials set {agent}"
            )
        try:
            token = self._sealer().open(row.sealed)
        except UnopenedToken:
            raise PermanentError(
                f"@{agent}'s platform token opens with no key of {KEYS_VARIABLE} "
                "(a key dropped before `fleet agents credentials rotate`?)"
            ) from None
        remember(token)  # masked in every log line and error of this process from now on
        return token

    def forget(self, agent: str) -> None:
        """Drop the agent's opened token from this process's cache."""
        with self._lock:
            self._cache.pop(agent, None)

    def refused(self, agent: str, reason: str) -> None:
        """The platform refused the agent's token (401): recorded once, agent set aside."""
        self.forget(agent)
        refuse_token(self._sessions, agent, reason, now=self._now())

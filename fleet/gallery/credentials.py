"""What a per-agent platform does with an agent's token, beyond the port's ``Credentials``.

- ``TokenRefused``: the platform answered 401 for this token (revoked, expired, the
  account suspended). Never retried: the adapter raises ``refused(credentials, agent,
  401, said)``, which tells ``RefusedTokens.refused`` first, the agent is set aside with the reason ``fleet status`` shows, and
  ``token_for`` refuses the agent until an operator sets a new token.
- ``verify_credentials``: the Mastodon client API's ``GET /api/v1/accounts/verify_credentials``,
  one bounded call (``fleet.infra.bounded``: a deadline, a byte cap, JSON depth) answering
  the account's username, for ``fleet agents credentials check``.
- ``VerifiesTokens``: the capability a gallery kind offers ``check``; the FloImg API (the
  sandbox) has none (one fleet token, no per-agent tokens): ``verifier_for`` says so.

The token never appears in an error, a log line or a return value of this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import httpx

from fleet.errors import PermanentError, TransientError
from fleet.gallery.answers import GalleryRefused, MalformedAnswer
from fleet.infra import bounded, transports
from fleet.infra.redaction import redact

# A verify_credentials answer is one account (a few kB, its note and fields bounded by
# the server); far more is not an account.
MAX_ANSWER_BYTES = 256_000
PATH = "/api/v1/accounts/verify_credentials"


class TokenRefused(PermanentError):
    """The platform refused an agent's token (401): set a new one, then start the agent."""

    def __init__(self, agent: str, reason: str) -> None:
        super().__init__(f"the platform refused @{agent}'s token: {reason}")
        self.agent = agent
        self.reason = reason


@runtime_checkable
class RefusedTokens(Protocol):
    """Where an adapter reports a token the platform refused (``Credentials`` that also
    record failures: ``fleet.agents.credentials.StoredCredentials``)."""

    def refused(self, agent: str, reason: str) -> None: ...


def refused(credentials: object, agent: str, status: int, said: str = "") -> TokenRefused:
    """The error an adapter raises when the platform answers 401 to ``agent``'s call,
    after telling ``credentials`` (when they record refusals: ``RefusedTokens``), so the
    agent is set aside once instead of retrying. ``said``: the platform's reason (data:
    bounded, never echoing a token already remembered by the redaction)."""
    reason = f"HTTP {status}" + (f": {redact(' '.join(said.split()))[:120]}" if said else "")
    if isinstance(credentials, RefusedTokens):
        credentials.refused(agent, reason)
    return TokenRefused(agent, reason)


@dataclass(frozen=True, slots=True)
class Verified:
    """What the platform says the token is: its account's username and id (bounded)."""

    username: str
    account_id: str


class VerifiesTokens(Protocol):
    """A gallery kind's check of one token."""

    def verify(self, token: str) -> Verified: ...


class MastodonVerifier:
    """``GET {url}/api/v1/accounts/verify_credentials`` with the token as a bearer."""

    def __init__(
        self, url: str, *, timeout_seconds: float, transport: httpx.BaseTransport | None = None
    ) -> None:
        self._url = url.rstrip("/") + PATH
        self._timeout = timeout_seconds
        self._transport = transport

    def verify(self, token: str) -> Verified:
        """The account the token acts as; TokenRefused (as agent "?") on 401/403,
        TransientError when the platform cannot answer now, GalleryRefused otherwise."""
        transport = self._transport or transports.Transport(
            verify=None, proxy=transports.proxy_for(self._url), max_bytes=MAX_ANSWER_BYTES
        )
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        try:
            with (
                httpx.Client(
                    transport=transport, timeout=self._timeout, follow_redirects=False
                ) as client,
                bounded.within(self._timeout),
                client.stream("GET", self._url, headers=headers) as answer,
            ):
                status = answer.status_code
                content = bounded.read_response(answer, cap=MAX_ANSWER_BYTES)
        except httpx.HTTPError as error:
            raise TransientError(f"verify_credentials: {type(error).__name__}") from None
        except bounded.AnswerRefused as error:
            raise MalformedAnswer(f"verify_credentials: {error}") from None
        return _verified(status, content, token)


def _verified(status: int, content: bytes, token: str) -> Verified:
    if status in (401, 403):
        raise TokenRefused("?", f"HTTP {status} from verify_credentials")
    if status == 429 or status >= 500:
        raise TransientError(f"verify_credentials: HTTP {status}")
    if status != 200:
        raise GalleryRefused(f"verify_credentials: HTTP {status}", status)
    try:
        payload = bounded.loads(content)
    except bounded.AnswerRefused as error:
        raise MalformedAnswer(f"verify_credentials: {error}") from None
    if not isinstance(payload, dict):
        raise MalformedAnswer("verify_credentials: the answer is not an account")
    username, account_id = payload.get("username"), payload.get("id")
    if not isinstance(username, str) or not isinstance(account_id, str | int):
        raise MalformedAnswer("verify_credentials: the account has no username or id")
    # The server's text is data: bounded, and never allowed to echo the token back.
    return Verified(redact(username, (token,))[:64], redact(str(account_id), (token,))[:64])


def verifier_for(kind: str, url: str, *, timeout_seconds: float) -> VerifiesTokens | None:
    """The token check of a gallery kind: the Mastodon client API's, or None for the
    FloImg API (the sandbox), whose agents act under the fleet's one token."""
    if kind == "mastodon":
        return MastodonVerifier(url, timeout_seconds=timeout_seconds)
    return None

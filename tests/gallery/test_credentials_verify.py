"""The Mastodon client API's verify_credentials, one bounded call: the account named, a
401 refused (never retried), a server's trouble transient, a huge answer refused."""

from __future__ import annotations

import json

import pytest

from fleet.errors import TransientError
from fleet.gallery.answers import GalleryRefused, MalformedAnswer
from fleet.gallery.credentials import (
    MAX_ANSWER_BYTES,
    MastodonVerifier,
    TokenRefused,
    verifier_for,
)
from tests.gallery.raw_server import RawServer, sends

TOKEN = "Qw7ErT9yU1iO3pAs5dF7gH9jK1lZ3xC5vB7nM9q"


def _answer(status: str, body: bytes) -> bytes:
    return (
        f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def _verify(*answers: bytes) -> tuple[object, list[bytes]]:
    server = RawServer(*(sends(a, keep=False) for a in answers))
    with server.running():
        verifier = MastodonVerifier(server.origin, timeout_seconds=5)
        try:
            return verifier.verify(TOKEN), server.requests
        except Exception as error:
            return error, server.requests


def test_the_account_is_named_and_the_token_sent_as_a_bearer() -> None:
    account = json.dumps({"id": "10987", "username": "ada_lovelace", "note": "x" * 500})
    verified, requests = _verify(_answer("200 OK", account.encode()))
    assert (verified.username, verified.account_id) == ("ada_lovelace", "10987")  # type: ignore[attr-defined]
    head = requests[0].split(b"\r\n\r\n")[0].decode().replace("Bearer", "bearer")
    assert head.startswith("GET /api/v1/accounts/verify_credentials HTTP/1.1")
    assert f"bearer {TOKEN}" in head and "authorization:" in head.lower()


@pytest.mark.parametrize(
    ("status", "error", "said"),
    [
        ("401 Unauthorized", TokenRefused, "HTTP 401"),
        ("403 Forbidden", TokenRefused, "HTTP 403"),
        ("503 Service Unavailable", TransientError, "HTTP 503"),
        ("429 Too Many Requests", TransientError, "HTTP 429"),
        ("404 Not Found", GalleryRefused, "HTTP 404"),
    ],
)
def test_refusals_and_trouble_are_fleet_errors_without_the_token(
    status: str, error: type[Exception], said: str
) -> None:
    body = json.dumps({"error": f"The access token {TOKEN} is invalid"}).encode()
    raised, _ = _verify(_answer(status, body))
    assert isinstance(raised, error), raised
    assert said in str(raised) and TOKEN not in str(raised)


def test_an_answer_past_the_cap_or_not_an_account_is_refused() -> None:
    huge = b'{"username": "' + b"a" * (MAX_ANSWER_BYTES + 10) + b'", "id": "1"}'
    raised, _ = _verify(_answer("200 OK", huge))
    assert isinstance(raised, MalformedAnswer) and "bytes" in str(raised)
    raised, _ = _verify(_answer("200 OK", b"[1, 2]"))
    assert isinstance(raised, MalformedAnswer) and "not an account" in str(raised)


def test_a_username_echoing_the_token_is_masked() -> None:
    account = json.dumps({"id": 5, "username": TOKEN})
    verified, _ = _verify(_answer("200 OK", account.encode()))
    assert verified.username == "[redacted]"  # type: ignore[attr-defined]


def test_the_floimg_gallery_has_no_per_agent_token_check() -> None:
    assert verifier_for("floimg", "http://127.0.0.1:8000", timeout_seconds=1) is None
    assert isinstance(
        verifier_for("mastodon", "http://127.0.0.1:8000", timeout_seconds=1), MastodonVerifier
    )


def test_refused_tells_credentials_that_record_refusals_once() -> None:
    from fleet.gallery.credentials import refused

    told: list[tuple[str, str]] = []

    class Recording:
        def token_for(self, agent: str) -> str:
            return TOKEN

        def refused(self, agent: str, reason: str) -> None:
            told.append((agent, reason))

    error = refused(Recording(), "ada_lee", 401, "The access token is  revoked\n")
    assert isinstance(error, TokenRefused) and error.agent == "ada_lee"
    assert told == [("ada_lee", "HTTP 401: The access token is revoked")]
    # Credentials that keep no record are not told; the error is the same.
    assert "HTTP 401" in str(refused(object(), "ada_lee", 401))


def test_a_refusal_echoing_an_opened_token_is_masked() -> None:
    from fleet.gallery.credentials import refused
    from fleet.infra.redaction import remember

    remember(TOKEN)  # as StoredCredentials.token_for does when it opens one
    error = refused(object(), "ada_lee", 401, f"token {TOKEN} is revoked")
    assert TOKEN not in str(error) and "[redacted]" in str(error)

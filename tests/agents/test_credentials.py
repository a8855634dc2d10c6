"""Each agent's platform token sealed at rest: the column never holds it, rotation
re-seals, a refused token ends the agent's actions once, and logs never show it."""

from __future__ import annotations

import io
import json
import logging
from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select, text

from fleet import agents
from fleet.agents.credentials import StoredCredentials, TokenSeal, UnopenedToken
from fleet.db.models import AgentCredential
from fleet.errors import ConfigError, InputError, PermanentError, UnknownAgent
from fleet.infra import logs
from fleet.service.root import Fleet
from tests.conftest import active_agents, python_prints

TOKEN = "zq9XbT3kVw_Mastodon-access-token-7Hc2PdLr0sEa1FgYuJi"
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def _handle(fleet: Fleet, agent_id: int) -> str:
    return agents.get_agent(fleet.sessions, str(agent_id)).handle


@pytest.fixture
def seal() -> TokenSeal:
    return TokenSeal([Fernet.generate_key().decode()])


def test_the_column_holds_the_sealed_token_never_the_token(fleet: Fleet, seal: TokenSeal) -> None:
    [agent_id] = active_agents(fleet, 1)
    handle = agents.set_token(fleet.sessions, seal, str(agent_id), TOKEN, now=NOW)
    with fleet.engine.connect() as connection:
        raw = connection.execute(text("SELECT * FROM agent_credentials")).one()
    stored = b"".join(
        bytes(v) if isinstance(v, bytes | memoryview) else str(v).encode() for v in raw
    )
    assert TOKEN.encode() not in stored
    assert TOKEN[:12].encode() not in stored
    credentials = StoredCredentials(fleet.sessions, seal, now=lambda: NOW)
    assert credentials.token_for(handle) == TOKEN
    # Another key cannot open it: it is sealed, not encoded.
    stranger = StoredCredentials(
        fleet.sessions, TokenSeal([Fernet.generate_key().decode()]), now=lambda: NOW
    )
    with pytest.raises(PermanentError, match=rf"@{handle}'s platform token opens with no key"):
        stranger.token_for(handle)


def test_rotation_reseals_every_token_with_the_newest_key(fleet: Fleet) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    ids = active_agents(fleet, 2)
    for number, agent_id in enumerate(ids):
        agents.set_token(
            fleet.sessions, TokenSeal([old]), str(agent_id), f"{TOKEN}{number}", now=NOW
        )
    both = TokenSeal([new, old])
    assert agents.rotate_tokens(fleet.sessions, both) == 2
    # Only the new key is needed now.
    only_new = StoredCredentials(fleet.sessions, TokenSeal([new]), now=lambda: NOW)
    assert [only_new.token_for(_handle(fleet, i)) for i in ids] == [f"{TOKEN}0", f"{TOKEN}1"]


def test_rotation_without_the_old_key_names_the_agents_and_writes_nothing(fleet: Fleet) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    [agent_id] = active_agents(fleet, 1)
    handle = agents.set_token(fleet.sessions, TokenSeal([old]), str(agent_id), TOKEN, now=NOW)
    with fleet.sessions() as session:
        before = session.scalar(select(AgentCredential.sealed))
    with pytest.raises(InputError, match=rf"opens the token of @{handle}.*nothing was re-sealed"):
        agents.rotate_tokens(fleet.sessions, TokenSeal([new]))
    with fleet.sessions() as session:
        assert session.scalar(select(AgentCredential.sealed)) == before


def test_an_agent_without_a_token_or_revoked_is_refused_by_name(
    fleet: Fleet, seal: TokenSeal
) -> None:
    [agent_id] = active_agents(fleet, 1)
    handle = _handle(fleet, agent_id)
    credentials = StoredCredentials(fleet.sessions, seal, now=lambda: NOW, cache_seconds=0)
    with pytest.raises(PermanentError, match=rf"@{handle} has no platform token"):
        credentials.token_for(handle)
    agents.set_token(fleet.sessions, seal, handle, TOKEN, now=NOW)
    assert credentials.token_for(handle) == TOKEN
    assert agents.revoke_token(fleet.sessions, handle, now=NOW) == (handle, True)
    with pytest.raises(PermanentError, match=rf"@{handle} has no platform token") as refused:
        credentials.token_for(handle)
    assert TOKEN not in str(refused.value)
    assert agents.revoke_token(fleet.sessions, handle, now=NOW) == (handle, False)
    [view] = agents.credential_views(fleet.sessions)
    assert (view.state, view.revoked_at) == ("revoked", NOW)


def test_a_refused_token_sets_the_agent_aside_once_until_a_new_one_is_set(
    fleet: Fleet, seal: TokenSeal
) -> None:
    [agent_id] = active_agents(fleet, 1)
    handle = agents.set_token(fleet.sessions, seal, str(agent_id), TOKEN, now=NOW)
    credentials = StoredCredentials(fleet.sessions, seal, now=lambda: NOW)
    assert credentials.token_for(handle) == TOKEN  # cached now
    credentials.refused(handle, "HTTP 401: The access token was revoked")
    with pytest.raises(PermanentError, match=r"was refused at .*401"):
        credentials.token_for(handle)  # the cache was dropped: no stale token used
    agent = agents.get_agent(fleet.sessions, handle)
    assert agent.status == "error" and agent.next_tick_at is None
    assert "its platform token was refused (HTTP 401" in (agent.error or "")
    # A second refusal (another process's call) changes nothing.
    assert not agents.refuse_token(fleet.sessions, handle, "again", now=NOW)
    # Set again: usable; the agent is started by the operator.
    agents.set_token(fleet.sessions, seal, handle, TOKEN + "new", now=NOW)
    credentials.forget(handle)
    assert credentials.token_for(handle) == TOKEN + "new"


def test_the_cache_is_bounded_and_ages(fleet: Fleet, seal: TokenSeal) -> None:
    ids = active_agents(fleet, 3)
    handles = [agents.set_token(fleet.sessions, seal, str(i), f"{TOKEN}{i}", now=NOW) for i in ids]
    clock = [0.0]
    credentials = StoredCredentials(
        fleet.sessions,
        seal,
        now=lambda: NOW,
        cache_seconds=10,
        cache_size=2,
        clock=lambda: clock[0],
    )
    for handle in handles:
        credentials.token_for(handle)
    assert list(credentials._cache) == handles[1:]  # the oldest dropped
    agents.revoke_token(fleet.sessions, handles[2], now=NOW)
    assert credentials.token_for(handles[2]) == f"{TOKEN}{ids[2]}"  # cached: at most 10 s
    clock[0] = 11.0
    with pytest.raises(PermanentError):
        credentials.token_for(handles[2])


def test_bad_input_is_named_and_nothing_written(fleet: Fleet, seal: TokenSeal) -> None:
    [agent_id] = active_agents(fleet, 1)
    for token, reason in [
        ("", "no token given"),
        ("two words", "spaces or control characters"),
        ("x" * 5000, "longer than 4096"),
    ]:
        with pytest.raises(InputError, match=reason):
            agents.set_token(fleet.sessions, seal, str(agent_id), token, now=NOW)
    with pytest.raises(UnknownAgent):
        agents.set_token(fleet.sessions, seal, "nobody_here", TOKEN, now=NOW)
    with pytest.raises(InputError, match="malformed agent reference"):
        agents.set_token(fleet.sessions, seal, "Bad Name!", TOKEN, now=NOW)
    assert agents.credential_views(fleet.sessions) == []


def test_no_key_is_a_clear_configuration_error() -> None:
    with pytest.raises(ConfigError, match="FLEET_CREDENTIALS__KEYS is not set"):
        TokenSeal([])


def test_an_opened_token_is_masked_in_every_log_line(fleet: Fleet, seal: TokenSeal) -> None:
    [agent_id] = active_agents(fleet, 1)
    handle = agents.set_token(fleet.sessions, seal, str(agent_id), TOKEN, now=NOW)
    StoredCredentials(fleet.sessions, seal, now=lambda: NOW).token_for(handle)
    stream = io.StringIO()
    logs.configure("INFO", stream=stream, log_format=logs.LogFormat.JSON)
    try:
        logging.getLogger("fleet.test").warning("the platform echoed %s back", TOKEN)
        logging.getLogger("fleet.test").warning("form access_token=%s", "abcdefgh12345")
    finally:
        logging.getLogger().handlers.clear()
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines[0]["event"] == "the platform echoed [redacted] back"
    assert lines[1]["event"] == "form access_token=[redacted]"
    assert TOKEN not in stream.getvalue()


def test_the_keys_and_the_image_endpoints_key_are_secrets_masked_everywhere() -> None:
    from fleet.settings import Settings

    key, image_key = Fernet.generate_key().decode(), "sk-images-0123456789abcdef"
    settings = Settings(credentials={"keys": key}, images={"api_key": image_key})  # type: ignore[arg-type]
    assert {key, image_key} <= set(settings.secrets())


def test_a_worker_loads_no_cipher_until_a_token_is_read() -> None:
    """The workers' modules and the credentials' commands load ``cryptography``'s Fernet
    (and OpenSSL's bindings: some 10 MiB a process) only when a seal is made."""
    program = (
        "import sys\n"
        "import fleet.service.credentials, fleet.worker.tasks\n"
        "print('cryptography.fernet' in sys.modules)\n"
        "from fleet.agents.credentials import TokenSeal, new_key\n"
        "TokenSeal([new_key()])\n"
        "print('cryptography.fernet' in sys.modules)\n"
    )
    assert python_prints(program).split() == ["False", "True"]


def test_a_token_no_key_opens_is_refused_by_name(seal: TokenSeal) -> None:
    other = TokenSeal([Fernet.generate_key().decode()])
    with pytest.raises(UnopenedToken):
        other.open(seal.seal(TOKEN))
    with pytest.raises(UnopenedToken):
        other.reseal(seal.seal(TOKEN))
    assert other.open(other.reseal(other.seal(TOKEN))) == TOKEN

"""``fleet agents credentials``: a token in on stdin, never out; exit 2 for bad input, a
clear error without keys; a refused token shown by ``fleet status`` as a reason."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from click.testing import CliRunner, Result
from cryptography.fernet import Fernet
from sqlalchemy import Engine

from fleet import agents
from fleet.cli import cli
from fleet.gallery.credentials import MastodonVerifier
from fleet.service import credentials as use
from fleet.service.root import Fleet, bootstrap
from fleet.settings import Settings
from tests.conftest import active_agents
from tests.gallery.raw_server import RawServer, sends

TOKEN = "Mv3Q8sLp2Rt6Wy0Zb4Nc7Xd1Fg5Hj9Kk2La6Se0Ud4Io8"
KEY, OLD_KEY = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def _fleet(engine: Engine, keys: str | None) -> Fleet:
    url = engine.url.render_as_string(hide_password=False)
    settings = Settings(database_url=url, seed=7, credentials={"keys": keys})
    return bootstrap(settings, engine)


@pytest.fixture
def keyed(sqlite_engine: Engine) -> Iterator[Fleet]:
    yield _fleet(sqlite_engine, KEY)


def run(fleet: Fleet, *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), obj=fleet, input=input)


def test_set_list_check_revoke_without_the_token_ever_printed(keyed: Fleet) -> None:
    [agent_id] = active_agents(keyed, 1)
    handle = agents.get_agent(keyed.sessions, str(agent_id)).handle
    done = run(keyed, "agents", "credentials", "set", handle, input=TOKEN + "\n")
    assert done.exit_code == 0, done.output
    listed = run(keyed, "agents", "credentials", "list", "--json")
    assert listed.exit_code == 0
    [row] = json.loads(listed.stdout)
    assert (row["agent"], row["state"]) == (handle, "set")
    table = run(keyed, "agents", "credentials", "list")
    assert handle in table.stdout
    # The sandbox's FloImg API has no per-agent tokens: said, not failed.
    checked = run(keyed, "agents", "credentials", "check", handle)
    assert checked.exit_code == 0 and "does not apply" in checked.stdout
    revoked = run(keyed, "agents", "credentials", "revoke", handle)
    assert revoked.exit_code == 0 and "forgotten" in revoked.stdout
    assert (
        json.loads(run(keyed, "agents", "credentials", "list", "--json").stdout)[0]["state"]
        == "revoked"
    )
    for result in (done, listed, table, checked, revoked):
        assert TOKEN not in result.output and TOKEN not in (result.stderr or "")


@pytest.mark.parametrize(
    ("args", "stdin", "said"),
    [
        (("set", "nobody_here"), TOKEN, "no agent 'nobody_here'"),
        (("set", "Bad Name!"), TOKEN, "malformed agent reference"),
        (("set", "{handle}"), "\n", "no token given"),
        (("set", "{handle}"), "two words\n", "spaces or control characters"),
        (("set", "{handle}"), f"{TOKEN}\nmore\n", "alone, on one line"),
        (("check", "{handle}"), None, "has no platform token"),
    ],
)
def test_bad_input_exits_2_naming_what_is_wrong(
    keyed: Fleet, args: tuple[str, ...], stdin: str | None, said: str
) -> None:
    [agent_id] = active_agents(keyed, 1)
    handle = agents.get_agent(keyed.sessions, str(agent_id)).handle
    named = [a.format(handle=handle) for a in args]
    result = run(keyed, "agents", "credentials", *named, input=stdin)
    assert result.exit_code == 2, result.output
    assert said in result.stderr
    assert agents.credential_views(keyed.sessions) == []


def test_without_keys_the_error_names_the_setting(sqlite_engine: Engine) -> None:
    fleet = _fleet(sqlite_engine, None)
    [agent_id] = active_agents(fleet, 1)
    result = run(fleet, "agents", "credentials", "set", str(agent_id), input=TOKEN)
    assert result.exit_code == 2
    assert "FLEET_CREDENTIALS__KEYS is not set" in result.stderr


def test_a_key_that_is_not_a_fernet_key_is_refused_unechoed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FLEET_CREDENTIALS__KEYS", f"{KEY},not-a-key-secret-words")
    result = CliRunner().invoke(cli, ["agents", "credentials", "list"])
    assert result.exit_code == 2
    assert (
        "FLEET_CREDENTIALS__KEYS" in result.stderr and "key 2 is not a Fernet key" in result.stderr
    )
    assert "not-a-key-secret-words" not in result.stderr


def test_rotate_reseals_with_the_newest_key(sqlite_engine: Engine) -> None:
    old = _fleet(sqlite_engine, OLD_KEY)
    [agent_id] = active_agents(old, 1)
    handle = use.set_token(old, str(agent_id), TOKEN)
    both = _fleet(sqlite_engine, f"{KEY},{OLD_KEY}")
    rotated = run(both, "agents", "credentials", "rotate", "--json")
    assert rotated.exit_code == 0 and json.loads(rotated.stdout) == {"resealed": 1}
    assert _fleet(sqlite_engine, KEY).credentials.token_for(handle) == TOKEN
    refused = run(_fleet(sqlite_engine, OLD_KEY), "agents", "credentials", "rotate")
    assert refused.exit_code == 2 and f"@{handle}" in refused.stderr


def _unauthorized() -> bytes:
    body = b'{"error":"The access token is invalid"}'
    return (
        b"HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )


def test_a_401_ends_the_agents_actions_with_a_reason_fleet_status_shows(keyed: Fleet) -> None:
    [agent_id] = active_agents(keyed, 1)
    handle = use.set_token(keyed, str(agent_id), TOKEN)
    assert keyed.credentials.token_for(handle) == TOKEN
    server = RawServer(sends(_unauthorized(), keep=False))
    with server.running():
        found = use.check(
            keyed, handle, verifier=MastodonVerifier(server.origin, timeout_seconds=5)
        )
    assert found.ok is False and "HTTP 401" in found.said
    assert len(server.requests) == 1  # one call, no retry
    agent = agents.get_agent(keyed.sessions, handle)
    assert agent.status == "error" and agent.next_tick_at is None
    with pytest.raises(Exception, match="was refused"):
        keyed.credentials.token_for(handle)
    status = run(keyed, "status", "--json", "--no-workers")
    report = json.loads(status.stdout)
    assert report["credentials"]["refused"][0]["agent"] == handle
    assert any(
        "the platform refused their token" in line and handle in line for line in report["broken"]
    )
    listed = json.loads(run(keyed, "agents", "credentials", "list", "--json").stdout)
    assert listed[0]["state"] == "refused" and "401" in listed[0]["failure"]
    checked = run(keyed, "agents", "credentials", "list")
    assert TOKEN not in checked.output

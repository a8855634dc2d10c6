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
from fleet.agents.credentials import StoredCredentials
from fleet.cli import cli
from fleet.gallery.client import HttpGallery
from fleet.gallery.credentials import MastodonVerifier, refused
from fleet.gallery.port import GalleryPost, Liked
from fleet.service import credentials as use
from fleet.service.root import Fleet, bootstrap
from fleet.settings import Settings
from fleet_sandbox.server import BackgroundSandbox
from tests.conftest import active_agents
from tests.gallery.conftest import TOKEN as GALLERY_TOKEN
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
    status = json.loads(run(keyed, "status", "--json", "--no-workers").stdout)["credentials"]
    assert (status["set"], status["refused_count"], status["revoked"]) == (0, 0, 1)
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
    assert (report["credentials"]["set"], report["credentials"]["refused_count"]) == (0, 1)
    assert any(
        "the platform refused their token" in line and handle in line for line in report["broken"]
    )
    listed = json.loads(run(keyed, "agents", "credentials", "list", "--json").stdout)
    assert listed[0]["state"] == "refused" and "401" in listed[0]["failure"]
    checked = run(keyed, "agents", "credentials", "list")
    assert TOKEN not in checked.output


class TokenGallery:
    """The sandbox's gallery as a per-agent platform would act: a like first asks the
    credentials for the agent's token, and the platform answers 401 for a revoked one."""

    def __init__(self, inner: HttpGallery) -> None:
        self._inner = inner
        self.credentials: StoredCredentials | None = None
        self.revoked: set[str] = set()
        self.calls = 0

    def like(self, *, agent: str, post_id: str, idempotency_key: str) -> Liked:
        assert self.credentials is not None
        token = self.credentials.token_for(agent)
        self.calls += 1  # the call reached the platform
        if token in self.revoked:
            raise refused(self.credentials, agent, 401, "The access token was revoked")
        return self._inner.like(agent=agent, post_id=post_id, idempotency_key=idempotency_key)

    def create_post(self, *, agent: str, **asked: str) -> GalleryPost:
        assert self.credentials is not None
        token = self.credentials.token_for(agent)
        self.calls += 1
        if token in self.revoked:
            raise refused(self.credentials, agent, 401, "The access token was revoked")
        return self._inner.create_post(agent=agent, **asked)

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)


def test_a_401_met_by_an_action_ends_it_dead_once_and_the_agent_is_set_aside(
    pg_engine: Engine, sandbox: BackgroundSandbox
) -> None:
    url = pg_engine.url.render_as_string(hide_password=False)
    settings = Settings(
        database_url=url,
        gallery={"url": sandbox.url, "token": GALLERY_TOKEN},  # type: ignore[arg-type]
        credentials={"keys": KEY},  # type: ignore[arg-type]
        seed=7,
    )
    platform = HttpGallery(settings.gallery)
    gallery = TokenGallery(platform)
    fleet = bootstrap(settings, pg_engine, gallery=gallery)  # type: ignore[arg-type]
    gallery.credentials = fleet.credentials  # the fleet's own, as the root hands an adapter
    try:
        run(fleet, "agents", "create", "--persona", "ux_ui_designer", "--count", "2", "--start")
        for agent in ("1", "2"):
            use.set_token(fleet, agent, f"{TOKEN}{agent}")
        posting = run(fleet, "agents", "act", "1", "post", "--here", "--json")
        assert posting.exit_code == 0, posting.output
        posted = json.loads(posting.stdout)
        assert posted["status"] == "succeeded"
        gallery.revoked.add(f"{TOKEN}2")
        before = gallery.calls
        liked = run(fleet, "agents", "act", "2", "like", "--here", "--json")
        outcome = json.loads(liked.stdout)
        assert outcome["status"] == "dead", outcome
        assert "refused" in json.dumps(outcome) and TOKEN not in liked.output
        assert gallery.calls == before + 1
        handle = agents.get_agent(fleet.sessions, "2").handle
        assert agents.get_agent(fleet.sessions, "2").status == "error"
        # Set aside: it acts no more until started.
        again = run(fleet, "agents", "act", "2", "like", "--here", "--json")
        assert again.exit_code == 2 and "not active: start it first" in again.stderr
        # Started without a new token: its actions end at once on the recorded refusal,
        # the platform not called again.
        assert run(fleet, "agents", "start", "2").exit_code == 0
        calls = gallery.calls
        again = run(fleet, "agents", "act", "2", "post", "--here", "--json")
        ended = json.loads(again.stdout)
        assert ended["status"] == "dead" and "was refused at" in json.dumps(ended), ended
        assert gallery.calls == calls
        report = json.loads(run(fleet, "status", "--json", "--no-workers").stdout)
        assert report["credentials"]["refused"][0]["agent"] == handle
        assert report["credentials"]["refused"][0]["reason"] == (
            "HTTP 401: The access token was revoked"
        )
    finally:
        platform.close()
        fleet.close()

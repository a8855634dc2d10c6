"""Fleet's own actions (the CLI's ``agents act --here``, the same path a worker takes) on a
real server of the Mastodon client API: an agent posts, another likes and comments, the
post's author replies, each once, counted from the server."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner
from pydantic import AnyUrl
from sqlalchemy import Engine

from fleet.cli import cli
from fleet.errors import PermanentError
from fleet.gallery.mastodon import MastodonGallery
from fleet.service.root import Fleet, bootstrap
from fleet.settings import DisclosureSettings, GallerySettings, Settings
from tests.platforms.conftest import PaintedImages

pytestmark = pytest.mark.platform


class ProvisionedTokens:
    """The tests' path of provisioning: an agent's account and token are made on the
    server the first time Fleet asks for its token (an operator makes them beforehand)."""

    def __init__(self, server: Any) -> None:
        self._server = server
        self._tokens: dict[str, str] = {}

    def token_for(self, agent: str) -> str:
        if agent not in self._tokens:
            made = self._server.accounts([agent])
            if agent not in made:
                raise PermanentError(f"agent {agent!r} has no access token")
            self._tokens[agent] = made[agent]
        return self._tokens[agent]


@pytest.fixture(params=["takahe", "gotosocial"])
def server(request: pytest.FixtureRequest) -> Any:
    return request.getfixturevalue(f"{request.param}_server")


@pytest.fixture
def fleet(server: Any, sqlite_engine: Engine) -> Iterator[Fleet]:
    settings = Settings(
        database_url=sqlite_engine.url.render_as_string(hide_password=False),
        gallery=GallerySettings(kind="mastodon", url=AnyUrl(server.url), timeout_seconds=30),
        disclosure=DisclosureSettings(
            operator_name="Fleet test operator", operator_url=AnyUrl("https://operator.test/")
        ),
        # The marks Fleet's image source embeds are credimg's; this painter embeds none.
        provenance={"require": False},  # type: ignore[arg-type]
        # No newcomer holdout: the person who asks here must not be drawn into it (10 % of
        # people, by their server-made id) and left unanswered by design.
        impact={"holdout_share": 0},  # type: ignore[arg-type]
        redis_url=None,
        seed=11,
    )
    made = bootstrap(settings, sqlite_engine)
    made.given_credentials = ProvisionedTokens(server)
    made.image_source = PaintedImages()
    yield made
    made.close()


def act(fleet: Fleet, *args: str) -> Any:
    result = CliRunner().invoke(cli, [*args, "--json"], obj=fleet)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_agents_post_like_and_comment_once_on_a_real_server(fleet: Fleet, server: Any) -> None:
    act(fleet, "agents", "create", "--persona", "indie_game_dev", "--count", "2", "--start")
    first, second = act(fleet, "agents", "list")[:2]
    posted = act(fleet, "agents", "act", first["handle"], "post", "--here")
    assert posted["status"] == "succeeded", posted
    liked = act(fleet, "agents", "act", second["handle"], "like", "--here")
    assert liked["status"] == "succeeded", liked
    commented = act(fleet, "agents", "act", second["handle"], "comment", "--here")
    assert commented["status"] == "succeeded", commented
    gallery = fleet.open_gallery()
    assert isinstance(gallery, MastodonGallery)
    try:
        mine = gallery.feed(agent=first["handle"], limit=40)
        post = next(p for p in mine if p.username == first["handle"])
        assert post.like_count == 1
        thread = gallery.comments(agent=first["handle"], post_id=post.id)
        assert [c.username for c in thread] == [second["handle"]]
        shown = gallery.disclosure_of(first["handle"])
        assert shown is not None and shown.operator_url == "https://operator.test/"
    finally:
        gallery.close()


def test_a_persons_question_is_answered_once_and_honestly(fleet: Fleet, server: Any) -> None:
    act(fleet, "agents", "create", "--persona", "indie_game_dev", "--start")
    agent = act(fleet, "agents", "list")[0]["handle"]
    assert act(fleet, "agents", "act", agent, "post", "--here")["status"] == "succeeded"
    person = "person_q"
    people = ProvisionedTokens(server)
    settings = fleet.settings.gallery
    as_person = MastodonGallery(settings, people, PaintedImages())
    gallery = fleet.open_gallery()
    assert isinstance(gallery, MastodonGallery)
    try:
        post = next(p for p in gallery.feed(agent=agent, limit=40) if p.username == agent)
        question = as_person.comment(
            agent=person,
            post_id=post.id,
            content=f"@{agent} are you a bot or a real person?",
            idempotency_key="question",
        )
        # The agent reads the thread as the server shows it: wait, with a deadline, until
        # the question is there (a server may index a reply a moment after it answered).
        deadline = time.monotonic() + 30
        while question.id not in {c.id for c in gallery.comments(agent=agent, post_id=post.id)}:
            assert time.monotonic() < deadline, "the question never showed in the thread"
            time.sleep(0.3)
        answered = act(fleet, "agents", "act", agent, "reply", "--here")
        assert answered["status"] == "succeeded", answered
        again = act(fleet, "agents", "act", agent, "reply", "--here")  # nothing left to answer
        assert (
            again["status"] != "succeeded"
            or again.get("content", {}).get("parent_id") != question.id
        )
        thread = gallery.comments(agent=agent, post_id=post.id)
        replies = [c for c in thread if c.parent_id == question.id]
        assert [c.username for c in replies] == [agent]  # once
        said = replies[0].content.lower()
        assert any(word in said for word in ("automated", "bot", "ai", "not a person")), said
    finally:
        gallery.close()
        as_person.close()

"""The conformance suite's follows, home feed and reactions (issue 70), on the sandbox,
Takahē and GoToSocial: each call's effect, idempotence, a person's refusal, exactly once
after a lost answer, and the bounds on hostile lists (a list that never ends, pages that
loop). Where the galleries differ the test says how; docs/platforms.md has the same line.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from fleet.errors import PermanentError, TransientError
from fleet.gallery.answers import GalleryRefused, MalformedAnswer
from fleet.gallery.mastodon import MastodonGallery
from fleet.gallery.port import FAVOURITE, MAX_FOLLOW_LIST, Followed, Gallery
from tests.platforms.conftest import LosingAnswers, Platform, eventually
from tests.platforms.test_conformance import client, posted

pytestmark = pytest.mark.platform


def handles(users: list[Any]) -> list[str]:
    return [u.username for u in users]


def _accept(gallery: Gallery, follower: str, followed: str) -> None:
    """``followed`` approves ``follower``'s request (GoToSocial locks new accounts)."""
    assert isinstance(gallery, MastodonGallery)
    follower_id = gallery._account_id(follower)
    gallery._call(
        "POST", f"/api/v1/follow_requests/{follower_id}/authorize", agent=followed, json={}
    )


def following_for_sure(platform: Platform, gallery: Gallery, follower: str, followed: str) -> None:
    """``follower`` follows ``followed``, approved where the account is locked."""
    made = gallery.follow(agent=follower, handle=followed, idempotency_key=platform.unique("f"))
    if made.requested and not made.following:
        _accept(gallery, follower, followed)

    def now_following() -> bool:
        state = gallery.follow(
            agent=follower, handle=followed, idempotency_key=platform.unique("f")
        )
        return state.following

    eventually(f"{follower} follows {followed}", now_following)


def not_following(platform: Platform, gallery: Gallery, follower: str, followed: str) -> None:
    gallery.unfollow(agent=follower, handle=followed, idempotency_key=platform.unique("u"))


def test_a_follow_is_a_state_and_shows_in_both_lists(platform: Platform) -> None:
    # Lists are read by their own account: Takahē shows an account's follows to others
    # only when it says so (visible_follows, off by default), and answers an empty list.
    ada, bob = platform.agents
    with client(platform) as gallery:
        not_following(platform, gallery, ada, bob)  # the servers live for the session
        first = gallery.follow(agent=ada, handle=bob, idempotency_key=platform.unique("f"))
        assert first.changed and (first.following or first.requested)
        second = gallery.follow(agent=ada, handle=bob, idempotency_key=platform.unique("f"))
        # Set once: the second call sends nothing (the sandbox's state; the relationship
        # read first on the servers). Takahē's relationship says neither following nor
        # requested until its background runner accepts the follow: sent again meanwhile,
        # which its own follow (get or create) takes as the same one.
        assert second.following or second.requested
        assert not second.changed or platform.name == "takahe"
        following_for_sure(platform, gallery, ada, bob)
        eventually(
            "ada among bob's followers",
            lambda: ada in handles(gallery.followers(agent=bob, handle=bob)),
        )
        assert bob in handles(gallery.following(agent=ada, handle=ada))
        gone = gallery.unfollow(agent=ada, handle=bob, idempotency_key=platform.unique("u"))
        assert gone.changed and not gone.following and not gone.requested
        again = gallery.unfollow(agent=ada, handle=bob, idempotency_key=platform.unique("u"))
        assert not again.changed and not again.following
        eventually(
            "ada gone from bob's followers",
            lambda: ada not in handles(gallery.followers(agent=bob, handle=bob)),
        )


def test_following_oneself_or_nobody_is_refused_for_good(platform: Platform) -> None:
    ada, _ = platform.agents
    with client(platform) as gallery:
        with pytest.raises(GalleryRefused) as selfish:
            gallery.follow(agent=ada, handle=ada, idempotency_key=platform.unique("f"))
        assert selfish.value.status == 422 and isinstance(selfish.value, PermanentError)
        with pytest.raises(GalleryRefused) as nobody:
            gallery.follow(agent=ada, handle="nobody_here_at_all", idempotency_key="k")
        assert nobody.value.status == 404


def test_the_home_feed_holds_the_followed_accounts_posts(platform: Platform) -> None:
    ada, bob = platform.agents
    with client(platform) as gallery:
        following_for_sure(platform, gallery, ada, bob)
        try:
            post = posted(platform, gallery, bob, platform.unique("home"))
            eventually(
                "bob's post in ada's home feed",
                lambda: post.id in [p.id for p in gallery.home_feed(agent=ada, limit=20)],
            )
            assert len(gallery.home_feed(agent=ada, limit=1)) <= 1
        finally:
            not_following(platform, gallery, ada, bob)
        if platform.name == "sandbox":  # the servers keep what the home timeline got
            assert post.id not in [p.id for p in gallery.home_feed(agent=ada, limit=20)]


def test_a_reaction_is_one_of_the_offered_and_set_once(platform: Platform) -> None:
    ada, bob = platform.agents
    with client(platform) as gallery:
        offered = gallery.reactions()
        # The sandbox has reactions of its own; on the Mastodon API a reaction is a favourite.
        expected = {"sandbox": ("heart", "fire", "wow", "clap", "laugh")}
        assert offered == expected.get(platform.name, (FAVOURITE,))
        post = posted(platform, gallery, ada, platform.unique("reacted"))
        first = gallery.react(
            agent=bob, post_id=post.id, reaction=offered[-1], idempotency_key=platform.unique("r")
        )
        again = gallery.react(
            agent=bob, post_id=post.id, reaction=offered[-1], idempotency_key=platform.unique("r")
        )
        assert dict(first.counts)[offered[-1]] == dict(again.counts)[offered[-1]] == 1
        read = gallery.get_post(agent=ada, post_id=post.id)
        if platform.name == "sandbox":
            assert read.reactions == ((offered[-1], 1),) and read.like_count == 0
            swapped = gallery.react(
                agent=bob, post_id=post.id, reaction="fire", idempotency_key=platform.unique("r")
            )
            assert dict(swapped.counts) == {"fire": 1}
        else:
            assert read.like_count == 1  # the favourite is the like
        with pytest.raises(GalleryRefused) as unoffered:
            gallery.react(agent=bob, post_id=post.id, reaction="angry", idempotency_key="k")
        assert unoffered.value.status == 422


def _blocking_person(platform: Platform, gallery: Gallery, agent: str) -> tuple[str, str]:
    """A person who blocked ``agent``, and a post of theirs."""
    if platform.name == "sandbox":
        admin = platform.extra["admin"]
        person = f"person_{platform.unique('p').split('#')[1].replace('-', '_')}"
        joined = admin.http.post(
            "/admin/people/join",
            json={
                "username": person,
                "name": "Cy",
                "post": {"title": "Harbour", "persona": "street_photographer", "side": 64},
            },
        )
        assert joined.status_code == 200, joined.text
        said = admin.http.put(f"/api/admin/users/{person}/agent-consent", json={"block": [agent]})
        assert said.status_code == 200, said.text
        return person, str(joined.json()["postId"])
    assert isinstance(gallery, MastodonGallery) and platform.person is not None
    post = posted(platform, gallery, platform.person, platform.unique("blocking"))
    agent_id = gallery._account_id(agent)
    gallery._call("POST", f"/api/v1/accounts/{agent_id}/block", agent=platform.person)
    return platform.person, post.id


def test_a_persons_block_refuses_the_follow_and_the_reaction(platform: Platform) -> None:
    ada, _ = platform.agents
    with client(platform) as gallery:
        person, post_id = _blocking_person(platform, gallery, ada)
        try:
            fresh = platform.make(None)  # nothing remembered of the relationship
            try:
                with pytest.raises(GalleryRefused) as refused:
                    fresh.follow(agent=ada, handle=person, idempotency_key=platform.unique("b"))
                assert refused.value.status == 403 and isinstance(refused.value, PermanentError)
                with pytest.raises(GalleryRefused) as no_reaction:
                    fresh.react(
                        agent=ada,
                        post_id=post_id,
                        reaction=fresh.reactions()[0],
                        idempotency_key=platform.unique("b"),
                    )
                # GoToSocial hides a blocker's post from the blocked (404).
                assert no_reaction.value.status in (403, 404)
            finally:
                fresh.close()
            reader = ada if platform.name == "sandbox" else person
            assert ada not in handles(gallery.followers(agent=reader, handle=person))
        finally:
            if isinstance(gallery, MastodonGallery):
                agent_id = gallery._account_id(ada)
                gallery._call("POST", f"/api/v1/accounts/{agent_id}/unblock", agent=person)


def test_a_follow_whose_answer_was_lost_exists_once(platform: Platform) -> None:
    ada, bob = platform.agents
    with client(platform) as gallery:
        not_following(platform, gallery, bob, ada)
    lose = LosingAnswers(lambda r: r.method == "POST" and r.url.path.endswith("/follow"))
    key = platform.unique("lost-follow")
    with client(platform, lose) as gallery:
        with pytest.raises(TransientError):
            gallery.follow(agent=bob, handle=ada, idempotency_key=key)
        assert lose.lost == 1
        lose._lose = lambda r: False
        sent = lose.lost
        # The retry with the same key: the sandbox answers as before; the servers'
        # relationship says following (or requested), and nothing is sent again.
        again = gallery.follow(agent=bob, handle=ada, idempotency_key=key)
        assert again.following or again.requested
        assert lose.lost == sent
        if platform.name == "gotosocial":  # Takahē's may be in flight: sent again (above)
            assert not again.changed
        following_for_sure(platform, gallery, bob, ada)
        # Takahē's runner fills an account's lists after the follow is accepted.
        eventually(
            f"{bob} once among {ada}'s followers",
            lambda: handles(gallery.followers(agent=ada, handle=ada)).count(bob) == 1,
        )
        not_following(platform, gallery, bob, ada)


class Hostile(httpx.BaseTransport):
    """The server for every call but the lists of followers, which it answers itself."""

    def __init__(self, answer: Callable[[httpx.Request], httpx.Response]) -> None:
        self._inner = httpx.HTTPTransport()
        self._answer = answer
        self.listed = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/followers"):
            self.listed += 1
            return self._answer(request)
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


def _endless(loop: bool) -> Callable[[httpx.Request], httpx.Response]:
    """Lists that never end: a new page of new accounts each time, or the same one."""
    counter = itertools.count()

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/api/users/"):  # the sandbox's API
            offset = 0 if loop else int(parse_qs(urlsplit(str(request.url)).query)["offset"][0])
            users = [
                {"id": str(offset + k + 1), "username": f"fan{offset + k}", "isAgent": False}
                for k in range(100)
            ]
            return httpx.Response(200, json={"users": users, "total": 10**9})
        page = 0 if loop else next(counter)
        accounts = [
            {"id": str(page * 80 + k + 1), "acct": f"fan{page * 80 + k}", "bot": False}
            for k in range(80)
        ]
        target = request.url.copy_with(query=f"max_id={page}".encode())
        link = f'<{target if not loop else request.url}>; rel="next"'
        return httpx.Response(200, content=json.dumps(accounts).encode(), headers={"Link": link})

    return answer


@pytest.mark.parametrize("loop", [False, True], ids=["endless", "looping"])
def test_a_hostile_list_is_bounded(platform: Platform, loop: bool) -> None:
    ada, bob = platform.agents
    hostile = Hostile(_endless(loop))
    with client(platform, hostile) as gallery:
        if loop:
            with pytest.raises(MalformedAnswer):
                gallery.followers(agent=ada, handle=bob, limit=MAX_FOLLOW_LIST)
            assert hostile.listed <= 2
        else:
            found = gallery.followers(agent=ada, handle=bob, limit=10**6)
            assert len(found) == MAX_FOLLOW_LIST
            assert len({u.id for u in found}) == MAX_FOLLOW_LIST
            assert hostile.listed <= MAX_FOLLOW_LIST // 80 + 1


def test_a_followed_answer_is_typed(platform: Platform) -> None:
    ada, bob = platform.agents
    with client(platform) as gallery:
        state = gallery.follow(agent=ada, handle=bob, idempotency_key=platform.unique("f"))
        assert isinstance(state, Followed) and state.handle == bob
        assert state.followers is None or state.followers >= (1 if state.following else 0)
        not_following(platform, gallery, ada, bob)

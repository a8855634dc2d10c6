"""HttpGallery's follows, home feed and reactions against the sandbox (issue 70), the
sandbox's page showing them as a person sees it (headless Chromium), and the client's
bounds on a gallery's hostile answers (lists that never end, pages that repeat)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from fleet.gallery.answers import GalleryRefused, MalformedAnswer
from fleet.gallery.client import HttpGallery
from fleet.gallery.port import MAX_FOLLOW_LIST
from fleet_sandbox.server import BackgroundSandbox
from tests.console.browser import Browser
from tests.console.conftest import needs_chromium
from tests.gallery.conftest import settings_for
from tests.gallery.test_page import ARTIFACTS, CHROMIUM


def _person_with_a_post(api: httpx.Client, username: str) -> str:
    joined = api.post(
        "/admin/people/join",
        json={
            "username": username,
            "name": username.title(),
            "post": {"title": "Harbour at dusk", "persona": "street_photographer", "side": 64},
        },
    )
    assert joined.status_code == 200, joined.text
    return str(joined.json()["postId"])


def _posted(
    gallery: HttpGallery, agent: str, title: str, image: str = "http://127.0.0.1/p.png"
) -> str:
    return gallery.create_post(
        agent=agent,
        image_url=image,
        title=title,
        description="d",
        idempotency_key=f"{agent}:{title}",
    ).id


def test_follows_and_reactions_through_the_client(
    gallery: HttpGallery, ada: str, bo: str, api: httpx.Client
) -> None:
    first = gallery.follow(agent=ada, handle=bo, idempotency_key="f1")
    assert (first.following, first.requested, first.followers, first.changed) == (
        True,
        False,
        1,
        True,
    )
    assert not gallery.follow(agent=ada, handle=bo, idempotency_key="f2").changed
    followers = gallery.followers(agent=ada, handle=bo)
    assert [(u.username, u.is_agent) for u in followers] == [(ada, True)]
    assert [u.username for u in gallery.following(agent=bo, handle=ada)] == [bo]
    post_id = _posted(gallery, bo, "Tiles")
    assert [p.id for p in gallery.home_feed(agent=ada)] == [post_id]
    assert gallery.home_feed(agent=bo) == []
    reacted = gallery.react(agent=ada, post_id=post_id, reaction="clap", idempotency_key="r1")
    assert reacted.counts == (("clap", 1),) and reacted.changed
    assert gallery.get_post(agent=bo, post_id=post_id).reactions == (("clap", 1),)
    with pytest.raises(GalleryRefused) as unoffered:
        gallery.react(agent=ada, post_id=post_id, reaction="love", idempotency_key="r2")
    assert unoffered.value.status == 422
    gone = gallery.unfollow(agent=ada, handle=bo, idempotency_key="u1")
    assert (gone.following, gone.followers, gone.changed) == (False, 0, True)
    assert gallery.home_feed(agent=ada) == []


def test_a_person_who_blocked_the_agent_refuses_for_good(
    gallery: HttpGallery, ada: str, bo: str, api: httpx.Client
) -> None:
    post_id = _person_with_a_post(api, "mira")
    said = api.put("/api/admin/users/mira/agent-consent", json={"block": [ada]})
    assert said.status_code == 200
    for call in (
        lambda: gallery.follow(agent=ada, handle="mira", idempotency_key="b1"),
        lambda: gallery.react(agent=ada, post_id=post_id, reaction="wow", idempotency_key="b2"),
    ):
        with pytest.raises(GalleryRefused) as refused:
            call()
        assert refused.value.status == 403 and "blocked" in str(refused.value)
    assert gallery.follow(agent=bo, handle="mira", idempotency_key="b3").following


def _hostile(answer: Any) -> HttpGallery:
    def handler(request: httpx.Request) -> httpx.Response:
        return answer(request)

    return HttpGallery(settings_for("http://gallery.test"), httpx.MockTransport(handler))


def test_a_list_that_never_ends_is_read_to_the_cap() -> None:
    calls: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        offset = int(request.url.params["offset"])
        users = [{"id": str(offset + k), "username": f"u{offset + k}"} for k in range(100)]
        return httpx.Response(200, json={"users": users, "total": 10**12})

    gallery = _hostile(answer)
    found = gallery.followers(agent="ada", handle="bo", limit=10**9)
    assert len(found) == MAX_FOLLOW_LIST and len(calls) == MAX_FOLLOW_LIST // 100


def test_a_page_longer_than_asked_is_cut_and_a_repeated_page_refused() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        users = [{"id": str(k), "username": f"u{k}"} for k in range(5000)]
        return httpx.Response(200, json={"users": users})

    gallery = _hostile(answer)
    assert len(gallery.following(agent="ada", handle="bo", limit=30)) == 30
    with pytest.raises(MalformedAnswer, match="twice"):
        gallery.following(agent="ada", handle="bo", limit=300)


@pytest.mark.parametrize(
    "body",
    [
        {"following": "yes"},
        {"followers": 3},
        {"following": True, "followers": -1},
        {"following": True, "followers": 1e300},
    ],
)
def test_a_followed_answer_that_is_not_one_is_malformed(body: dict[str, Any]) -> None:
    gallery = _hostile(lambda r: httpx.Response(200, json=body))
    with pytest.raises(MalformedAnswer):
        gallery.follow(agent="ada", handle="bo", idempotency_key="k")


def test_reactions_offered_are_read_once_and_bounded() -> None:
    asked: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        names = ["heart", "Fire!", "x" * 500, "wow", "wow", 3, *[f"r{k}" for k in range(100)]]
        return httpx.Response(200, content=json.dumps({"reactions": names}).encode())

    gallery = _hostile(answer)
    offered = gallery.reactions()
    assert offered[:2] == ("heart", "wow") and len(offered) <= 16
    assert gallery.reactions() == offered and asked == ["/api/reactions"]


def test_a_gallery_without_reactions_offers_none() -> None:
    gallery = _hostile(lambda r: httpx.Response(404, json={"error": "not found"}))
    assert gallery.reactions() == ()
    with pytest.raises(GalleryRefused) as refused:
        gallery.react(agent="ada", post_id="1", reaction="heart", idempotency_key="k")
    assert refused.value.status == 422


@pytest.mark.browser
@needs_chromium
def test_the_people_page_shows_followers_following_and_reactions_in_chromium(
    sandbox: BackgroundSandbox,
    gallery: HttpGallery,
    ada: str,
    bo: str,
    api: httpx.Client,
    tmp_path: Path,
) -> None:
    _person_with_a_post(api, "mira")
    gallery.follow(agent=ada, handle="mira", idempotency_key="p1")
    gallery.follow(agent=bo, handle=ada, idempotency_key="p2")
    gallery.follow(agent=ada, handle=bo, idempotency_key="p3")
    post_id = _posted(gallery, ada, "Amber tiles", f"{sandbox.url}/images/placeholder.png")
    gallery.react(agent=bo, post_id=post_id, reaction="fire", idempotency_key="p4")
    assert CHROMIUM is not None
    with Browser(CHROMIUM, tmp_path / "profile") as browser:
        browser.open(f"{sandbox.url}/people/{ada}")
        browser.wait_for("!!document.querySelector('section.follows')", timeout=30)
        ARTIFACTS.mkdir(exist_ok=True)
        browser.screenshot(ARTIFACTS / "follows-people-page.png")
        seen = browser.evaluate(
            "JSON.stringify({counts: document.querySelector('.follow-counts').innerText,"
            " followers: [...document.querySelectorAll('ul.followers li')].map(l => l.innerText),"
            " following: [...document.querySelectorAll('ul.following li')].map(l => l.innerText)})"
        )
        shown = json.loads(seen)
        assert shown["counts"] == "1 follower · 2 following"
        assert shown["followers"] == [f"@{bo} BOT"]
        assert shown["following"] == [f"@{bo} BOT", "@mira"]
        browser.open(f"{sandbox.url}/posts/{post_id}")
        browser.wait_for("!!document.querySelector('.reactions')", timeout=30)
        browser.screenshot(ARTIFACTS / "follows-post-reactions.png")
        assert browser.evaluate("document.querySelector('.reactions').innerText") == "fire 1"

"""The conformance suite: one set of contract tests every gallery adapter must pass, run
on the sandbox (FloImg API, ``HttpGallery``) and on real servers of the Mastodon client
API (``MastodonGallery``: Takahē). Each call's effect, its errors, its limits, and
exactly once after lost answers, counted from the server. Where the galleries differ the
test says how, and docs/platforms.md has the same line.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pydantic import AnyUrl, SecretStr

from fleet.errors import Deferred, PermanentError, TransientError
from fleet.gallery.answers import GalleryRefused
from fleet.gallery.client import HttpGallery
from fleet.gallery.credentials import TokenRefused
from fleet.gallery.mastodon import MastodonGallery
from fleet.gallery.port import Gallery, GalleryPost
from fleet.settings import GallerySettings
from tests.gallery.conftest import settings_for
from tests.platforms.conftest import LosingAnswers, PaintedImages, Platform, Tokens, eventually

pytestmark = pytest.mark.platform


@contextlib.contextmanager
def client(platform: Platform, transport: httpx.BaseTransport | None = None) -> Iterator[Gallery]:
    gallery = platform.make(transport)
    try:
        yield gallery
    finally:
        gallery.close()


def posted(platform: Platform, gallery: Gallery, agent: str, key: str) -> GalleryPost:
    image = gallery.generate_image(
        agent=agent,
        prompt="a red square",
        style="flat",
        persona="p",
        idempotency_key=f"{key}:image",
    )
    return gallery.create_post(
        agent=agent,
        image_url=image,
        title=platform.unique("Red square"),
        description="A red square on white, painted flat.",
        idempotency_key=key,
    )


def test_a_post_carries_its_image_and_words_and_shows_in_the_feed(platform: Platform) -> None:
    ada, bob = platform.agents
    with client(platform) as gallery:
        post = posted(platform, gallery, ada, platform.unique("post"))
        assert post.username == ada and post.image_url and post.title.startswith("Red square")
        again = gallery.get_post(agent=bob, post_id=post.id)
        assert (again.id, again.title, again.username) == (post.id, post.title, ada)
        assert again.description == "A red square on white, painted flat."
        feed = gallery.feed(agent=bob, limit=20, sort="recent")
        assert post.id in [p.id for p in feed]
        assert all(p.image_url for p in feed)  # an image gallery: every post has its image
        assert len(gallery.feed(agent=bob, limit=1)) <= 1


def test_the_popular_feed_answers_with_image_posts(platform: Platform) -> None:
    ada, bob = platform.agents
    with client(platform) as gallery:
        post = posted(platform, gallery, ada, platform.unique("pop"))
        gallery.like(agent=bob, post_id=post.id, idempotency_key=platform.unique("like"))
        popular = gallery.feed(agent=bob, limit=10, sort="popular")
        # Takahē has no trends (an empty list): the adapter serves the local timeline.
        assert post.id in [p.id for p in popular]


def test_a_like_is_a_state_liking_twice_counts_once(platform: Platform) -> None:
    ada, bob = platform.agents
    with client(platform) as gallery:
        post = posted(platform, gallery, ada, platform.unique("liked"))
        key = platform.unique("like")
        first = gallery.like(agent=bob, post_id=post.id, idempotency_key=key)
        second = gallery.like(agent=bob, post_id=post.id, idempotency_key=platform.unique("like2"))
        assert first.like_count == second.like_count == 1
        assert gallery.get_post(agent=ada, post_id=post.id).like_count == 1


def test_comments_and_replies_read_back_under_their_parents(platform: Platform) -> None:
    ada, bob = platform.agents
    with client(platform) as gallery:
        post = posted(platform, gallery, ada, platform.unique("talk"))
        words = "Lovely colour & a <b>bold</b> square.\nSecond line."
        comment = gallery.comment(
            agent=bob, post_id=post.id, content=words, idempotency_key=platform.unique("c")
        )
        reply = gallery.comment(
            agent=ada,
            post_id=post.id,
            content="Thank you!",
            idempotency_key=platform.unique("r"),
            parent_id=comment.id,
        )
        read = {c.id: c for c in gallery.comments(agent=ada, post_id=post.id)}
        assert read[comment.id].content == words  # text as sent: HTML read back as text
        assert read[comment.id].username == bob and read[comment.id].parent_id is None
        assert read[reply.id].parent_id == comment.id and read[reply.id].username == ada
        # The sandbox counts a post's whole thread; the Mastodon API's replies_count
        # counts the direct replies only (the reply to the comment is not one).
        counted = gallery.get_post(agent=bob, post_id=post.id).comment_count
        assert counted == (2 if platform.name == "sandbox" else 1)
        assert len(gallery.comments(agent=ada, post_id=post.id, limit=1)) == 1


def test_a_post_whose_answer_was_lost_exists_once(platform: Platform) -> None:
    ada, _ = platform.agents
    lose = LosingAnswers(
        lambda r: r.method == "POST" and r.url.path in ("/api/showcase", "/api/v1/statuses")
    )
    before = platform.count_statuses(ada)
    key = platform.unique("lost-post")
    with client(platform, lose) as gallery:
        image = gallery.generate_image(
            agent=ada, prompt="p", style="s", persona="p", idempotency_key=f"{key}:image"
        )
        title = platform.unique("Lost")
        with pytest.raises(TransientError):
            gallery.create_post(
                agent=ada, image_url=image, title=title, description="d", idempotency_key=key
            )
        assert lose.lost == 1
        assert platform.count_statuses(ada) == before + 1  # the server acted
        # The retry (Celery's, with the same key) finds it and does not post again.
        lose._lose = lambda r: False
        post = gallery.create_post(
            agent=ada, image_url=image, title=title, description="d", idempotency_key=key
        )
        assert post.title == title
    assert platform.count_statuses(ada) == before + 1  # 0 duplicates, 0 missing


def test_a_comment_whose_answer_was_lost_exists_once(platform: Platform) -> None:
    ada, bob = platform.agents
    with client(platform) as gallery:
        post = posted(platform, gallery, ada, platform.unique("lost-c"))
    comments = ("/api/v1/statuses", f"/api/showcase/{post.id}/comments")
    lose = LosingAnswers(lambda r: r.method == "POST" and r.url.path in comments)
    before = platform.count_statuses(bob)
    key, words = platform.unique("lost-comment"), platform.unique("What a square")
    with client(platform, lose) as gallery:
        with pytest.raises(TransientError):
            gallery.comment(agent=bob, post_id=post.id, content=words, idempotency_key=key)
        assert platform.count_statuses(bob) == before + 1
        lose._lose = lambda r: False
        # The sandbox keeps the key and answers the first comment; Takahē forgets it, and
        # the adapter finds its comment under the parent before sending it again.
        made = gallery.comment(agent=bob, post_id=post.id, content=words, idempotency_key=key)
        assert made.content == words
    assert platform.count_statuses(bob) == before + 1


def test_a_like_whose_answer_was_lost_counts_once(platform: Platform) -> None:
    ada, bob = platform.agents
    with client(platform) as gallery:
        post = posted(platform, gallery, ada, platform.unique("lost-like"))
    lose = LosingAnswers(
        lambda r: r.method == "POST" and r.url.path.endswith(("/like", "/favourite"))
    )
    key = platform.unique("like")
    with client(platform, lose) as gallery:
        with pytest.raises(TransientError):
            gallery.like(agent=bob, post_id=post.id, idempotency_key=key)
        lose._lose = lambda r: False
        liked = gallery.like(agent=bob, post_id=post.id, idempotency_key=key)
        assert liked.like_count == 1
        assert gallery.get_post(agent=ada, post_id=post.id).like_count == 1


def test_a_missing_post_is_a_permanent_refusal(platform: Platform) -> None:
    ada, _ = platform.agents
    with client(platform) as gallery:
        for call in (
            lambda: gallery.get_post(agent=ada, post_id="999999999999"),
            lambda: gallery.like(
                agent=ada, post_id="999999999999", idempotency_key=platform.unique("k")
            ),
        ):
            with pytest.raises(GalleryRefused) as refused:
                call()
            assert refused.value.status == 404 and isinstance(refused.value, PermanentError)


def test_an_agent_the_gallery_does_not_accept_is_refused_for_good(platform: Platform) -> None:
    gallery: Gallery
    if platform.name == "sandbox":
        url = str(platform.extra["admin"].http.base_url)
        gallery = HttpGallery(settings_for(url, token=SecretStr("not-a-token")))
    else:
        url = platform.extra["server"].url
        settings = GallerySettings(kind="mastodon", url=AnyUrl(url), timeout_seconds=30)
        tokens = Tokens({platform.agents[0]: "not-a-token"})
        gallery = MastodonGallery(settings, tokens, PaintedImages())
    try:
        with pytest.raises(PermanentError) as refused:
            gallery.feed(agent=platform.agents[0])
    finally:
        gallery.close()
    # Takahē answers an unknown token with 400 "Invalid Bearer token", Mastodon's way is
    # 401: either is the agent's token refused (``TokenRefused``: the agent is set aside,
    # never retried); the sandbox's one service token refused is the call's refusal.
    # The message never holds the token.
    if platform.name == "sandbox":
        assert isinstance(refused.value, GalleryRefused) and refused.value.status == 401
    else:
        assert isinstance(refused.value, TokenRefused)
        expected = "HTTP 400" if platform.name == "takahe" else "HTTP 401"
        assert refused.value.reason.startswith(expected), refused.value.reason
    assert "not-a-token" not in str(refused.value)


def test_an_agent_without_a_token_ends_with_that_reason(platform: Platform) -> None:
    if platform.name == "sandbox":
        pytest.skip("the sandbox acts for every agent with the service token")
    url = platform.extra["server"].url
    settings = GallerySettings(kind="mastodon", url=AnyUrl(url), timeout_seconds=30)
    gallery = MastodonGallery(settings, Tokens({}), PaintedImages())
    with pytest.raises(PermanentError, match="no access token"):
        gallery.like(agent="fleet_nobody", post_id="1", idempotency_key="k")
    gallery.close()


def test_the_disclosure_is_set_and_read_back(platform: Platform) -> None:
    ada, _ = platform.agents
    with client(platform) as gallery:
        gallery.sync_disclosure(ada)  # type: ignore[attr-defined]
        shown = gallery.disclosure_of(ada)  # type: ignore[attr-defined]
        wanted = gallery.wanted_disclosure()  # type: ignore[attr-defined]
        assert shown is not None
        assert (shown.label, shown.operator_name, shown.operator_url) == (
            wanted.label,
            wanted.operator_name,
            wanted.operator_url,
        )
        # Takahē answers 200 to bot=true and does not keep it: read back, the account is
        # not marked automated, and the audit says so (its note and field carry it).
        assert shown.automated is (platform.name != "takahe")


def _person(platform: Platform) -> str:
    if platform.person is None:
        pytest.skip("the sandbox's people say their consent through its own calls")
    return platform.person


def test_nobot_in_a_persons_note_is_read_as_no_engagement(platform: Platform) -> None:
    person = _person(platform)
    ada, _ = platform.agents
    with client(platform) as gallery:
        assert isinstance(gallery, MastodonGallery)
        gallery._call(  # the person's own edit of their profile, with their token
            "PATCH",
            "/api/v1/accounts/update_credentials",
            agent=person,
            json={"note": "Painter. <b>#NoBot</b> please."},
        )
        posted(platform, gallery, person, platform.unique("person-post"))
        read = gallery.agent_consent()
        assert read.offered and read.people[person].interactions == "none"
        assert ada not in read.people  # an agent says nothing of the kind
        gallery._call(
            "PATCH", "/api/v1/accounts/update_credentials", agent=person, json={"note": "Painter."}
        )
        assert person not in gallery.agent_consent().people


def test_a_persons_block_is_a_permanent_refusal(platform: Platform) -> None:
    person = _person(platform)
    ada, _ = platform.agents
    with client(platform) as gallery:
        assert isinstance(gallery, MastodonGallery)
        post = posted(platform, gallery, person, platform.unique("blocking"))
        agent_id = gallery._account_id(ada)
        gallery._call("POST", f"/api/v1/accounts/{agent_id}/block", agent=person)
        try:
            # The server's own answer to the blocked agent's favourite: GoToSocial hides
            # the post (404); Takahē 0.11 does not enforce the block and favourites it.
            try:
                gallery._call("POST", f"/api/v1/statuses/{post.id}/favourite", agent=ada)
                server = "acted"
                gallery._call("POST", f"/api/v1/statuses/{post.id}/unfavourite", agent=ada)
            except GalleryRefused as refused:
                server = f"refused {refused.status}"
            assert server == {"takahe": "acted"}.get(platform.name, "refused 404")
            if platform.name == "gotosocial":  # the post is hidden from the blocked agent
                with pytest.raises(GalleryRefused) as hidden:
                    gallery.get_post(agent=ada, post_id=post.id)
                assert hidden.value.status == 404
            # The adapter reads the relationship's blocked_by and refuses itself on both
            # (403, permanent, never retried); neither like nor comment reaches the person.
            fresh = platform.make(None)
            try:
                for act in (
                    lambda: fresh.like(agent=ada, post_id=post.id, idempotency_key="b1"),
                    lambda: fresh.comment(
                        agent=ada, post_id=post.id, content="hi", idempotency_key="b2"
                    ),
                ):
                    with pytest.raises(GalleryRefused) as refused_by_adapter:
                        act()
                    assert refused_by_adapter.value.status in (403, 404)
            finally:
                fresh.close()
            assert gallery.get_post(agent=person, post_id=post.id).like_count == 0
            assert gallery.comments(agent=person, post_id=post.id) == []
        finally:
            gallery._call("POST", f"/api/v1/accounts/{agent_id}/unblock", agent=person)


def test_a_persons_question_reaches_the_agent_as_a_mention(platform: Platform) -> None:
    person = _person(platform)
    ada, _ = platform.agents
    with client(platform) as gallery:
        assert isinstance(gallery, MastodonGallery)
        post = posted(platform, gallery, ada, platform.unique("asked"))
        question = platform.unique(f"@{ada} are you a bot?")
        asked = gallery.comment(
            agent=person, post_id=post.id, content=question, idempotency_key=platform.unique("q")
        )
        # Takahē fans out in its background runner (stator): wait for it, with a deadline.
        mentions: list[Any] = []

        def mentioned() -> bool:
            mentions[:] = gallery.notifications(agent=ada)
            return any(m.id == asked.id for m in mentions)

        eventually(f"the question as a mention of {ada}", mentioned)
        found = next(m for m in mentions if m.id == asked.id)
        assert found.username == person and found.post_id == post.id
        assert found.content.endswith("are you a bot?" + question.rpartition("?")[2])
        # It is a comment of the post too: how the sandbox's agents meet questions.
        assert asked.id in {c.id for c in gallery.comments(agent=ada, post_id=post.id)}


def test_the_uploaded_image_as_the_platform_keeps_it(platform: Platform) -> None:
    if platform.name == "sandbox":
        pytest.skip("the sandbox paints the image itself (its workflow): nothing is uploaded")
    ada, _ = platform.agents
    made = PaintedImages().make(prompt="p", style="s", persona="p", idempotency_key="kept:image")
    with client(platform) as gallery:
        url = gallery.generate_image(
            agent=ada, prompt="p", style="s", persona="p", idempotency_key="kept:image"
        )
    served = httpx.get(url.partition("#")[0], timeout=30)
    assert served.status_code == 200
    if platform.name == "takahe":
        # Takahē stores every upload as WebP: the file Fleet marked does not survive.
        assert served.content[:4] == b"RIFF" and served.content[8:12] == b"WEBP"
        assert served.content != made.data
    else:
        assert served.content == made.data  # GoToSocial keeps the bytes (and their marks)


def test_an_idempotency_key_is_kept_by_the_sandbox_and_forgotten_by_the_servers(
    platform: Platform,
) -> None:
    ada, _ = platform.agents
    key = platform.unique("same-key")
    before = platform.count_statuses(ada)
    with client(platform) as gallery:
        if isinstance(gallery, MastodonGallery):  # the raw call, without the adapter's look
            for _ in range(2):
                gallery._call("POST", "/api/v1/statuses", agent=ada, json={"status": key}, key=key)
        else:
            image = gallery.generate_image(
                agent=ada, prompt="p", style="s", persona="p", idempotency_key=f"{key}:i"
            )
            for _ in range(2):
                gallery.create_post(
                    agent=ada, image_url=image, title=key, description="d", idempotency_key=key
                )
    made = platform.count_statuses(ada) - before
    # The sandbox answers the second call with the first post; Takahē and GoToSocial make
    # two: the adapter's look before each effect is what keeps them exactly once.
    assert made == (1 if platform.name == "sandbox" else 2)


def test_a_servers_rate_limit_defers_the_agent_without_a_storm(
    platform: Platform, request: pytest.FixtureRequest
) -> None:
    if platform.name != "gotosocial":
        pytest.skip(
            {
                "sandbox": "the sandbox's budgets (429 with codes) are tests/gallery's",
                "takahe": "Takahē 0.11 has no rate limit: nothing to meet",
            }[platform.name]
        )
    server = request.getfixturevalue("gotosocial_limited")
    ada = platform.agents[0]
    settings = GallerySettings(kind="mastodon", url=AnyUrl(server.url), timeout_seconds=30)
    counted: list[httpx.Request] = []

    class Counting(httpx.HTTPTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            counted.append(request)
            return super().handle_request(request)

    gallery = MastodonGallery(settings, Tokens(server.tokens), PaintedImages(), Counting())
    try:
        with pytest.raises(Deferred) as deferred:
            for _ in range(100):
                gallery.feed(agent=ada, limit=1)
        sent = len(counted)
        # Deferred again, at once, without a call: the agent rests until the reset.
        with pytest.raises(Deferred):
            gallery.feed(agent=ada, limit=1)
        assert len(counted) == sent
    finally:
        gallery.close()
    # Another process (no rest in its memory) meets the server's own 429: Deferred too,
    # until its X-Ratelimit-Reset (GoToSocial sends no Retry-After).
    other = MastodonGallery(settings, Tokens(server.tokens), PaintedImages())
    try:
        with pytest.raises(Deferred) as refused:
            other.feed(agent=ada, limit=1)
    finally:
        other.close()
    assert ": 429" in str(refused.value) and refused.value.until is not None
    assert abs((refused.value.until - deferred.value.until).total_seconds()) <= 2
    until = deferred.value.until
    assert until is not None and deferred.value.scope == "call"
    assert timedelta(0) < until - datetime.now(UTC) <= timedelta(minutes=5, seconds=5)
    # GoToSocial's budget of 30, and not one call past the server's "0 remaining".
    assert sent <= 30

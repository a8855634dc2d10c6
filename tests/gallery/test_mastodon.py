"""MastodonGallery's contract with answers a real server rarely gives (httpx.MockTransport):
its error tree, rate limits, Link pages, HTML, other hosts' media, bounded answers. The
same adapter on real servers: tests/platforms (make test-platform)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pydantic import AnyUrl

from fleet.errors import Deferred, PermanentError, TransientError
from fleet.gallery.answers import GalleryRefused, MalformedAnswer
from fleet.gallery.credentials import TokenRefused
from fleet.gallery.mastodon import MAX_PAGES, MastodonGallery, media_of
from fleet.gallery.mastodon_text import opted_out, same_words, text_of
from fleet.gallery.port import MadeImage
from fleet.settings import GallerySettings

BASE = "http://social.test"
TOKEN = "tok-ada-8f2e1c"  # distinctive, so a leak is easy to find
Handler = Callable[[httpx.Request], httpx.Response]


class Tokens:
    def token_for(self, agent: str) -> str:
        if agent != "ada":
            raise PermanentError(f"agent {agent!r} has no access token")
        return TOKEN


class OneImage:
    def make(self, *, prompt: str, style: str, persona: str, idempotency_key: str) -> MadeImage:
        return MadeImage(b"\x89PNG fake", "image/png")


def status(
    id_: str, *, host: str = "social.test", html: str = "<p>Title</p><p>Words</p>"
) -> dict[str, Any]:
    return {
        "id": id_,
        "content": html,
        "created_at": "2026-11-27T01:00:00.000Z",
        "favourites_count": 2,
        "replies_count": 1,
        "account": {"id": "9", "acct": "cy", "bot": False, "note": "", "fields": []},
        "media_attachments": [
            {"id": "m" + id_, "type": "image", "url": f"http://{host}/media/{id_}.webp"}
        ],
    }


def gallery_with(handler: Handler, **settings: Any) -> tuple[MastodonGallery, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    values = {"kind": "mastodon", "url": AnyUrl(BASE), "timeout_seconds": 5} | settings
    gallery = MastodonGallery(
        GallerySettings(**values), Tokens(), OneImage(), httpx.MockTransport(record)
    )
    gallery._accounts["ada"] = "1"  # the agent's account id, as verify_credentials said
    gallery._max_status = 500
    return gallery, seen


def test_html_is_read_as_text_and_bounded() -> None:
    html = (
        "<p>Hello &amp; <b>welcome</b><br>to <a href='http://x'>#art</a></p>"
        "<script>alert(1)</script><style>p{}</style><p>Second\u0007 para</p>"
    )
    assert text_of(html, 500) == "Hello & welcome\nto #art\n\nSecond para"
    assert text_of("<p>" + "a" * 10_000 + "</p>", 100) == "a" * 99 + "…"
    assert len(text_of("<b>" * 200_000, 50)) <= 50  # a hostile page costs a bounded parse
    assert text_of(None, 10) == "" and text_of(42, 10) == ""
    assert same_words("a  b\nc", "<ignored>"[:0] + "a b c")


def test_nobot_and_noai_are_an_opt_out_in_a_note_or_a_field() -> None:
    assert opted_out({"note": "<p>I paint. <a href='/tags/nobot'>#<span>NoBot</span></a></p>"})
    assert opted_out({"note": "", "fields": [{"name": "AI", "value": "#noai"}]})
    assert not opted_out({"note": "#nobots are fine, x#nobot too", "fields": "junk"})
    assert not opted_out({})


def test_429_defers_the_call_until_the_servers_reset() -> None:
    reset = (datetime.now(UTC) + timedelta(minutes=3)).replace(microsecond=0)
    stamp = reset.isoformat().replace("+00:00", "Z")
    gallery, _ = gallery_with(
        lambda r: httpx.Response(
            429, json={"error": "Too many requests"}, headers={"X-RateLimit-Reset": stamp}
        )
    )
    with pytest.raises(Deferred) as deferred:
        gallery.like(agent="ada", post_id="1", idempotency_key="k")
    assert deferred.value.scope == "call" and deferred.value.until == reset
    assert "Too many requests" in str(deferred.value)


def test_429_that_says_no_time_waits_a_minute_and_a_far_one_is_held_to_a_day() -> None:
    gallery, _ = gallery_with(lambda r: httpx.Response(429))
    with pytest.raises(Deferred) as deferred:
        gallery.like(agent="ada", post_id="1", idempotency_key="k")
    assert deferred.value.until is not None
    assert 50 < (deferred.value.until - datetime.now(UTC)).total_seconds() <= 61
    far = gallery_with(lambda r: httpx.Response(429, headers={"X-RateLimit-Reset": "4102444800"}))[
        0
    ]
    with pytest.raises(Deferred) as held:
        far.like(agent="ada", post_id="1", idempotency_key="k")
    assert held.value.until is not None and held.value.until - datetime.now(UTC) <= timedelta(
        days=1
    )


def test_a_spent_rate_limit_makes_the_agents_next_call_wait_without_calling() -> None:
    reset = (datetime.now(UTC) + timedelta(seconds=90)).isoformat()
    headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}
    gallery, seen = gallery_with(lambda r: httpx.Response(200, json=status("5"), headers=headers))
    assert gallery.get_post(agent="ada", post_id="5").like_count == 2
    with pytest.raises(Deferred) as deferred:
        gallery.get_post(agent="ada", post_id="5")
    assert len(seen) == 1  # the second call was never sent
    assert deferred.value.until is not None and deferred.value.until > datetime.now(UTC)


def test_an_author_who_blocks_the_agent_is_never_engaged() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/accounts/relationships":
            assert request.url.params.get_list("id[]") == ["9"]
            return httpx.Response(200, json=[{"id": "9", "blocked_by": True}])
        if request.method == "GET":
            return httpx.Response(200, json=status("5"))
        raise AssertionError(f"sent {request.method} {request.url.path} toward a blocker")

    gallery, seen = gallery_with(answer)
    for act in (
        lambda: gallery.like(agent="ada", post_id="5", idempotency_key="k"),
        lambda: gallery.comment(agent="ada", post_id="5", content="hi", idempotency_key="k2"),
    ):
        with pytest.raises(GalleryRefused) as refused:
            act()
        assert refused.value.status == 403 and "blocks ada" in str(refused.value)
    # The relationship was read once and kept (BLOCK_SECONDS).
    assert [r.url.path for r in seen].count("/api/v1/accounts/relationships") == 1


def test_5xx_is_transient_and_4xx_permanent_with_the_servers_reason_as_text() -> None:
    gallery, _ = gallery_with(lambda r: httpx.Response(503, text="<html>down</html>"))
    with pytest.raises(TransientError):
        gallery.get_post(agent="ada", post_id="1")
    said = {"error": "<b>Validation failed</b>: Text " + "x" * 5000}
    gallery, _ = gallery_with(lambda r: httpx.Response(422, json=said))
    with pytest.raises(GalleryRefused) as refused:
        gallery.get_post(agent="ada", post_id="1")
    assert refused.value.status == 422 and "Validation failed: Text" in str(refused.value)
    assert "<b>" not in str(refused.value) and len(str(refused.value)) < 400


def test_a_refused_token_is_permanent_and_never_in_the_message() -> None:
    gallery, seen = gallery_with(
        lambda r: httpx.Response(401, json={"error": f"The access token {TOKEN} is invalid"})
    )
    with pytest.raises(TokenRefused) as refused:
        gallery.feed(agent="ada")
    assert refused.value.agent == "ada" and "HTTP 401" in refused.value.reason
    assert TOKEN not in str(refused.value)
    assert seen[0].headers["Authorization"] == f"Bearer {TOKEN}"
    with pytest.raises(PermanentError, match="no access token"):
        gallery.feed(agent="bob")


def test_takahes_400_for_an_unknown_token_is_a_refused_token_told_to_the_credentials() -> None:
    told: list[tuple[str, str]] = []

    class Recording:
        def token_for(self, agent: str) -> str:
            return TOKEN

        def refused(self, agent: str, reason: str) -> None:
            told.append((agent, reason))

    gallery = MastodonGallery(
        GallerySettings(kind="mastodon", url=AnyUrl(BASE)),
        Recording(),
        None,
        httpx.MockTransport(lambda r: httpx.Response(400, text="Invalid Bearer token")),
    )
    with pytest.raises(TokenRefused, match="refused @ada's token: HTTP 400: Invalid Bearer token"):
        gallery.feed(agent="ada")
    assert told == [("ada", "HTTP 400: Invalid Bearer token")]
    # Another 400 (a bad request) is the server's refusal of the call, not of the token.
    other = MastodonGallery(
        GallerySettings(kind="mastodon", url=AnyUrl(BASE)),
        Recording(),
        None,
        httpx.MockTransport(lambda r: httpx.Response(400, json={"error": "bad limit"})),
    )
    with pytest.raises(GalleryRefused, match="bad limit"):
        other.feed(agent="ada")
    assert len(told) == 1


def test_every_effect_carries_the_idempotency_key() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":  # the look for an earlier attempt: nothing there
            found: Any = {"descendants": []} if request.url.path.endswith("/context") else []
            return httpx.Response(200, json=found)
        if request.url.path == "/api/v2/media":
            return httpx.Response(200, json={"id": "m1", "url": f"{BASE}/media/1.png"})
        if request.url.path.endswith("/favourite"):
            return httpx.Response(200, json=status("1") | {"favourited": True})
        return httpx.Response(200, json=status("1"))

    gallery, seen = gallery_with(answer)
    image = gallery.generate_image(
        agent="ada", prompt="p", style="s", persona="x", idempotency_key="k:image"
    )
    assert media_of(image) == "m1"
    gallery.create_post(
        agent="ada", image_url=image, title="T", description="D", idempotency_key="k"
    )
    gallery.like(agent="ada", post_id="1", idempotency_key="k2")
    gallery.comment(agent="ada", post_id="1", content="hi", idempotency_key="k3")
    effects = [r for r in seen if r.method == "POST"]
    assert [r.headers.get("Idempotency-Key") for r in effects] == ["k:image", "k", "k2", "k3"]


def test_link_pages_are_followed_to_a_cap_and_a_loop_or_another_host_refused() -> None:
    def pages(next_url: Callable[[httpx.Request], str]) -> Handler:
        def answer(request: httpx.Request) -> httpx.Response:
            n = int(request.url.params.get("max_id", "100"))
            link = f'<{next_url(request)}>; rel="next", <{BASE}/x>; rel="prev"'
            return httpx.Response(
                200, json=[status(str(n - i)) for i in range(3)], headers={"Link": link}
            )

        return answer

    onward = pages(
        lambda r: (
            f"{BASE}/api/v1/timelines/public?max_id={int(r.url.params.get('max_id', '100')) - 3}"
        )
    )
    gallery, seen = gallery_with(onward)
    assert len(gallery.feed(agent="ada", limit=1000)) == 3 * MAX_PAGES
    assert len(seen) == MAX_PAGES
    looping = pages(lambda r: f"{BASE}/api/v1/timelines/public?max_id=50")
    with pytest.raises(MalformedAnswer, match="loops"):
        gallery_with(looping)[0].feed(agent="ada", limit=1000)
    elsewhere = pages(lambda r: "http://evil.test/api/v1/timelines/public?max_id=1")
    with pytest.raises(MalformedAnswer, match="elsewhere"):
        gallery_with(elsewhere)[0].feed(agent="ada", limit=1000)


def test_media_on_another_host_is_never_shown_and_html_is_text() -> None:
    statuses = [
        status("1", host="cdn.elsewhere.test"),
        status("2", html="<p>Hi <script>steal()</script>&lt;b&gt;</p><p>more</p>"),
    ]
    gallery, _ = gallery_with(lambda r: httpx.Response(200, json=statuses))
    feed = gallery.feed(agent="ada")
    assert [p.id for p in feed] == ["2"]
    assert feed[0].title == "Hi <b>" and feed[0].description == "more"
    assert feed[0].image_url == f"{BASE}/media/2.webp#media=m2"


def test_an_answer_past_the_byte_cap_is_refused() -> None:
    huge = [status(str(i)) for i in range(400)]
    gallery, _ = gallery_with(lambda r: httpx.Response(200, json=huge), max_answer_bytes=16_384)
    with pytest.raises(MalformedAnswer, match="MAX_ANSWER_BYTES"):
        gallery.feed(agent="ada")


def test_a_post_found_under_its_media_is_not_sent_again() -> None:
    mine = status("7")
    mine["media_attachments"][0]["id"] = "m1"

    def answer(request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and request.url.path == "/api/v1/accounts/1/statuses":
            return httpx.Response(200, json=[status("6"), mine])
        raise AssertionError(f"unexpected {request.method} {request.url.path}")

    gallery, seen = gallery_with(answer)
    post = gallery.create_post(
        agent="ada",
        image_url=f"{BASE}/media/7.webp#media=m1",
        title="T",
        description="D",
        idempotency_key="k",
    )
    assert post.id == "7" and [r.method for r in seen] == ["GET"]
    with pytest.raises(PermanentError, match="not uploaded"):
        gallery.create_post(
            agent="ada", image_url="http://x/p.png", title="T", description="D", idempotency_key="k"
        )


def test_the_kind_setting_builds_the_mastodon_adapter_with_the_agents_tokens() -> None:
    from fleet.errors import ConfigError
    from fleet.service.root import Fleet
    from fleet.settings import DisclosureSettings, Settings

    settings = Settings(
        gallery=GallerySettings(kind="mastodon", url=AnyUrl(BASE)),
        disclosure=DisclosureSettings(
            operator_name="Test operator", operator_url=AnyUrl("https://operator.test/agents")
        ),
    )
    built = Fleet(settings, given_credentials=Tokens(), given_images=OneImage()).open_gallery()
    assert isinstance(built, MastodonGallery)
    built.close()
    with pytest.raises(ConfigError, match="access tokens"):
        Fleet(settings).open_gallery()
    plain = Fleet(Settings()).open_gallery()
    assert not isinstance(plain, MastodonGallery)
    plain.close()


def test_hostile_accounts_and_statuses_are_read_bounded_or_refused() -> None:
    hostile = status("3")
    hostile["account"] = {
        "id": "7" * 500,  # past MAX_ID: clipped, never a different account's id
        "acct": "evil\u0000name@" + "x" * 300,
        "bot": "yes",  # not True: not counted as an agent
        "note": "<p>" + "#nobot " * 20_000 + "</p>",
        "fields": [{"name": "<script>x</script>AI", "value": {"not": "text"}}] * 100,
    }
    broken = {"id": "4", "content": "<p>no time</p>", "account": {}}
    answers = iter([[hostile], [broken]])
    gallery, _ = gallery_with(lambda r: httpx.Response(200, json=next(answers)))
    (post,) = gallery.feed(agent="ada")
    assert len(post.user_id) <= 200 and len(post.username) <= 64
    assert "\u0000" not in post.username and post.user_is_agent is False
    with pytest.raises(MalformedAnswer, match="created_at"):
        gallery.feed(agent="ada")


def test_consent_is_read_from_the_timelines_authors_and_hostile_entries_skipped() -> None:
    said_no = status("1")
    said_no["account"] = {"id": "8", "acct": "quiet", "note": "<p>Painter. #NoAI</p>"}
    odd = status("2")
    odd["account"] = {"id": "9", "acct": "x" * 200, "note": "#nobot"}  # no such handle
    fine = status("3")
    gallery, _ = gallery_with(lambda r: httpx.Response(200, json=[said_no, odd, fine, "junk"]))
    read = gallery.agent_consent()
    assert read.offered and set(read.people) == {"quiet"}
    assert read.people["quiet"].interactions == "none"


def test_a_forked_process_opens_a_pool_of_its_own() -> None:
    settings = GallerySettings(kind="mastodon", url=AnyUrl(BASE))
    gallery = MastodonGallery(settings, Tokens(), OneImage())
    parents = gallery._http()
    assert gallery._http() is parents
    gallery._pid = -1  # as a child after fork sees it: the pool is its parent's
    assert gallery._http() is not parents
    gallery.close()
    parents.close()

"""HttpGallery's contract with answers the sandbox rarely gives, through httpx.MockTransport."""

from __future__ import annotations

import gzip
import json
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

import fleet.gallery.client as client_module
from fleet.errors import Deferred, PermanentError, TransientError
from fleet.gallery.client import GalleryRefused, HttpGallery, MalformedAnswer
from fleet.infra import transports
from tests.gallery.conftest import TOKEN, settings_for

Handler = Callable[[httpx.Request], httpx.Response]


def gallery_with(handler: Handler, **settings: Any) -> HttpGallery:
    return HttpGallery(
        settings_for("http://gallery.test", **settings), transport=httpx.MockTransport(handler)
    )


def answering(status: int, body: Any = None, headers: dict[str, str] | None = None) -> Handler:
    def handle(_request: httpx.Request) -> httpx.Response:
        if isinstance(body, str | bytes):
            return httpx.Response(status, content=body, headers=headers)
        return httpx.Response(status, json=body, headers=headers)

    return handle


def failure(handler: Handler) -> Exception:
    gallery = gallery_with(handler)
    try:
        gallery.feed(agent="photo_ada")
    except Exception as exc:
        return exc
    finally:
        gallery.close()
    raise AssertionError("the call did not fail")


def test_408_and_5xx_without_json_are_transient() -> None:
    for status, body in ((408, {"error": "slow"}), (502, "<html>bad gateway</html>")):
        error = failure(answering(status, body))
        assert type(error) is TransientError and str(status) in str(error)


def test_monthly_budgets_defer_the_fleet_or_the_agent_until_reset_at() -> None:
    reset = "2026-12-01T00:00:00.000Z"
    for code, scope in (
        ("FLEET_MONTHLY_BUDGET_EXCEEDED", "fleet"),
        ("AGENT_MONTHLY_LIMIT_EXCEEDED", "agent"),
    ):
        error = failure(answering(429, {"error": "budget", "code": code, "resetAt": reset}))
        assert isinstance(error, Deferred)
        assert (error.scope, error.code) == (scope, code)
        assert error.until == datetime(2026, 12, 1, tzinfo=UTC)


def test_a_plain_429_defers_by_an_http_date_retry_after_or_is_transient_without_one() -> None:
    later = "Wed, 02 Dec 2026 10:00:00 GMT"
    error = failure(answering(429, {"error": "slow down"}, {"Retry-After": later}))
    assert isinstance(error, Deferred) and error.scope == "call"
    assert error.until == datetime(2026, 12, 2, 10, tzinfo=UTC)
    plain = failure(answering(429, {"error": "slow down"}))
    assert type(plain) is TransientError


def test_a_pause_with_retry_after_says_until_when_within_the_probe_interval() -> None:
    error = failure(answering(503, {"code": "FLEET_PAUSED"}, {"Retry-After": "20"}))
    assert isinstance(error, Deferred) and (error.scope, error.code) == ("fleet", "FLEET_PAUSED")
    assert error.until is not None
    assert abs(error.until - (datetime.now(UTC) + timedelta(seconds=20))) < timedelta(seconds=5)
    # Longer than the probe interval (30 s by default): the fleet looks again after it.
    error = failure(answering(503, {"code": "FLEET_PAUSED"}, {"Retry-After": "120"}))
    assert isinstance(error, Deferred) and error.until is not None
    assert abs(error.until - (datetime.now(UTC) + timedelta(seconds=30))) < timedelta(seconds=5)
    assert "problem" not in error.reason


def test_refusals_carry_the_status_and_the_gallerys_words() -> None:
    error = failure(
        answering(422, {"errors": [{"field": "title", "message": "too long"}, "bad image"]})
    )
    assert isinstance(error, GalleryRefused) and error.status == 422
    assert "title: too long; bad image" in str(error)
    assert isinstance(failure(answering(400, {"message": "nope"})), GalleryRefused)


def test_a_broken_success_answer_is_transient() -> None:
    for body in ("not json", [1, 2]):
        error = failure(answering(200, body))
        assert type(error) is TransientError


def test_a_token_echoed_by_the_gallery_is_redacted() -> None:
    error = failure(answering(403, {"error": f"token {TOKEN} may not act as photo_ada"}))
    assert TOKEN not in str(error) and "[redacted]" in str(error)


def test_calls_carry_the_token_the_agent_the_key_and_camel_case_bodies() -> None:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"status": "completed", "imageUrls": ["http://x/1.png"]})

    gallery = gallery_with(handle, image_model="flux-2-pro", image_generator="fal")
    try:
        url = gallery.generate_image(
            agent="photo_ada", prompt="amber", style="packshot", persona="p", idempotency_key="k1"
        )
    finally:
        gallery.close()
    assert url == "http://x/1.png"
    [request] = seen
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert (request.headers["x-agent-id"], request.headers["idempotency-key"]) == (
        "photo_ada",
        "k1",
    )
    generate = json.loads(request.content)["steps"][0]
    assert (generate["generator"], generate["params"]["model"]) == ("fal", "flux-2-pro")
    assert generate["params"]["prompt"] == "amber" and generate["params"]["style"] == "packshot"


def test_a_workflow_that_did_not_complete_is_transient() -> None:
    gallery = gallery_with(answering(200, {"status": "failed", "imageUrls": []}))
    try:
        with pytest.raises(TransientError, match="no image"):
            gallery.generate_image(
                agent="a", prompt="p", style="s", persona="p", idempotency_key="k"
            )
    finally:
        gallery.close()


def test_a_like_that_does_not_stick_is_transient_and_the_retoggle_has_a_key_of_its_own() -> None:
    keys: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        keys.append(request.headers["idempotency-key"])
        return httpx.Response(200, json={"success": True, "liked": False, "likeCount": 0})

    gallery = gallery_with(handle)
    try:
        with pytest.raises(TransientError, match="did not stick"):
            gallery.like(agent="a", post_id="7", idempotency_key="2:9:like")
        gallery.link()  # the pool is kept between calls
    finally:
        gallery.close()
    assert keys == ["2:9:like", "2:9:like:again"]
    unclear = gallery_with(answering(200, {"success": True}))
    try:
        with pytest.raises(TransientError, match="does not say liked"):
            unclear.like(agent="a", post_id="7", idempotency_key="k")
    finally:
        unclear.close()


def test_deleting_a_gone_user_is_false_and_other_errors_still_raise() -> None:
    gone = gallery_with(answering(404, {"error": "user not found"}))
    broken = gallery_with(answering(500, {"error": "boom"}))
    try:
        assert gone.delete_user("42") is False
        with pytest.raises(TransientError):
            broken.delete_user("42")
    finally:
        gone.close()
        broken.close()


def test_a_forked_process_opens_a_pool_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    gallery = HttpGallery(settings_for("http://gallery.test"))
    parent = gallery.link()
    assert gallery.link() is parent
    closed: list[object] = []
    monkeypatch.setattr(parent, "close", lambda: closed.append(parent))
    monkeypatch.setattr(client_module.os, "getpid", lambda: -1)
    child = gallery.link()
    assert child is not parent and closed == []  # the parent's sockets are left alone
    monkeypatch.setattr(child, "close", lambda: closed.append(child))
    gallery.close()
    assert closed == [child]


def test_the_environment_names_the_proxy_and_what_bypasses_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("http_proxy", "https_proxy", "no_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    assert transports.proxy_for("https://gallery.example") is None
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "gallery.local")
    assert transports.proxy_for("https://gallery.example/api") == "http://proxy.internal:3128"
    assert transports.proxy_for("http://gallery.example") is None
    assert transports.proxy_for("https://gallery.local") is None


def test_the_repr_names_the_url_and_not_the_token() -> None:
    gallery = gallery_with(answering(200, {}))
    assert repr(gallery) == "HttpGallery(url='http://gallery.test')"
    assert TOKEN not in repr(gallery._headers)
    gallery.close()


POST = {
    "id": "p1",
    "title": "Bus punctuality",
    "imageUrl": "http://gallery.test/i/1.png",
    "createdAt": "2026-11-22T10:00:00Z",
    "user": {"id": "u1", "username": "dataviz_ada"},
}


@pytest.mark.parametrize(
    ("call", "body", "reason"),
    [
        (
            "create_post",
            {"showcaseItem": {k: v for k, v in POST.items() if k != "createdAt"}},
            "the gallery's new post has no 'createdAt'",
        ),
        ("create_post", {"ok": True}, "the gallery's new post has no 'showcaseItem'"),
        (
            "get_post",
            {"item": {**POST, "createdAt": "yesterday"}},
            "the gallery's post p1 is malformed",
        ),
        ("feed", {"items": [POST, {"title": "no id"}]}, "the gallery's feed page has no 'id'"),
        ("comment", {"comment": {"id": "c1"}}, "the gallery's new comment has no 'content'"),
    ],
)
def test_an_answer_missing_what_the_api_promises_is_a_permanent_error(
    call: str, body: dict[str, Any], reason: str
) -> None:
    gallery = gallery_with(answering(200, body))
    arguments: dict[str, Any] = {
        "create_post": {"image_url": "u", "title": "t", "description": "d", "idempotency_key": "k"},
        "get_post": {"post_id": "p1"},
        "feed": {},
        "comment": {"post_id": "p1", "content": "nice", "idempotency_key": "k"},
    }[call]
    with pytest.raises(MalformedAnswer) as raised:
        getattr(gallery, call)(agent="dataviz_ada", **arguments)
    assert str(raised.value).startswith(reason)
    assert isinstance(raised.value, PermanentError)  # no retry: it would get the same answer


# -- a hostile or broken gallery (issue 31, items 16, 17 and 19) -------------------------


def _near(when: datetime | None, wait: timedelta) -> bool:
    return when is not None and abs(when - (datetime.now(UTC) + wait)) < timedelta(seconds=5)


@pytest.mark.parametrize(
    ("code", "longest"),
    [
        ("FLEET_DAILY_BUDGET_EXCEEDED", timedelta(days=1)),
        ("AGENT_DAILY_LIMIT_EXCEEDED", timedelta(days=1)),
        ("FLEET_MONTHLY_BUDGET_EXCEEDED", timedelta(days=31)),
        ("AGENT_MONTHLY_LIMIT_EXCEEDED", timedelta(days=31)),
    ],
)
def test_a_reset_past_what_its_code_can_mean_is_clamped_and_reported(
    code: str, longest: timedelta, caplog: pytest.LogCaptureFixture
) -> None:
    body = {"error": "budget", "code": code, "resetAt": "9999-12-31T00:00:00Z"}
    with caplog.at_level(logging.WARNING, logger="fleet.gallery"):
        error = failure(answering(429, body))
    assert isinstance(error, Deferred) and _near(error.until, longest)
    assert "problem" in error.reason and "9999-12-31" in error.reason  # the hold's reason
    assert any("9999-12-31" in record.getMessage() for record in caplog.records)


def test_a_pause_asking_for_years_holds_the_fleet_for_the_probe_interval() -> None:
    handler = answering(503, {"code": "FLEET_PAUSED"}, {"Retry-After": "999999999"})
    gallery = HttpGallery(
        settings_for("http://gallery.test"),
        transport=httpx.MockTransport(handler),
        pause_seconds=45,
    )
    with pytest.raises(Deferred) as raised:
        gallery.feed(agent="photo_ada")
    assert raised.value.scope == "fleet" and _near(raised.value.until, timedelta(seconds=45))
    assert "problem" in raised.value.reason


@pytest.mark.parametrize(
    ("status", "body", "headers"),
    [
        (200, b"[" * 200_000 + b"]" * 200_000, None),
        (200, b'{"items": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}", None),
        (200, json.dumps({"items": [{**POST, "likeCount": "x"}]}).replace('"x"', "1e999"), None),
        (200, json.dumps({"items": [{**POST, "likeCount": 10**30}]}), None),
        (200, '{"items": [], "x": NaN}', None),
        (429, {"error": "slow"}, {"Retry-After": "9" * 40}),
        (503, {"code": "FLEET_PAUSED"}, {"Retry-After": "99999999999999999999"}),
    ],
)
def test_an_answer_no_api_answer_can_be_is_malformed_not_retried(
    status: int, body: Any, headers: dict[str, str] | None
) -> None:
    error = failure(answering(status, body, headers))
    assert type(error) is MalformedAnswer and isinstance(error, PermanentError)


def test_a_like_count_that_is_not_a_count_is_malformed() -> None:
    gallery = gallery_with(answering(200, '{"success": true, "liked": true, "likeCount": 1e999}'))
    with pytest.raises(MalformedAnswer):
        gallery.like(agent="photo_ada", post_id="p1", idempotency_key="k")


def test_a_feed_page_keeps_at_most_the_items_asked_for() -> None:
    items = [{**POST, "id": f"p{n}"} for n in range(2_000)]
    gallery = gallery_with(answering(200, {"items": items}))
    page = gallery.feed(agent="photo_ada", limit=20)
    assert [post.id for post in page] == [f"p{n}" for n in range(20)]
    comments = [
        {"id": f"c{n}", "content": "hi", "createdAt": POST["createdAt"]} for n in range(500)
    ]
    gallery = gallery_with(answering(200, {"comments": comments}))
    assert len(gallery.comments(agent="photo_ada", post_id="p1", limit=7)) == 7


def test_gallery_strings_are_clipped_to_the_apis_limits() -> None:
    huge = "w" * 300_000
    item = {
        **POST,
        "title": huge,
        "description": huge,
        "user": {"id": "u1", "username": huge, "name": huge},
    }
    [post] = gallery_with(answering(200, {"items": [item]})).feed(agent="photo_ada")
    assert len(post.title) == 200 and len(post.description) == 5000
    assert len(post.username) <= 64
    comment = {"id": "c1", "content": huge, "createdAt": POST["createdAt"], "user": item["user"]}
    [seen] = gallery_with(answering(200, {"comments": [comment]})).comments(
        agent="photo_ada", post_id="p1"
    )
    assert len(seen.content) == 2000 and len(seen.username) <= 64


def test_an_answer_over_the_size_cap_is_refused() -> None:
    body = {"items": [{**POST, "description": "d" * 4000} for _ in range(40)]}
    gallery = gallery_with(answering(200, body), max_answer_bytes=100_000)
    with pytest.raises(MalformedAnswer, match="larger than 100,000 bytes"):
        gallery.feed(agent="photo_ada")


def test_an_answer_over_the_size_cap_is_not_read_whole_from_a_stream() -> None:
    read: list[int] = []

    class Endless(httpx.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            for _ in range(10_000):  # 640 MB, were it all read
                read.append(1)
                yield b"x" * 65_536

    def handle(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=Endless())

    with pytest.raises(MalformedAnswer):
        gallery_with(handle, max_answer_bytes=1_000_000).feed(agent="photo_ada")
    assert len(read) <= 17


def test_a_compressed_answer_that_was_not_asked_for_is_refused() -> None:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        packed = gzip.compress(json.dumps({"items": [POST]}).encode())
        return httpx.Response(200, content=packed, headers={"Content-Encoding": "gzip"})

    with pytest.raises(MalformedAnswer, match="encoding"):
        gallery_with(handle).feed(agent="photo_ada")
    assert seen[0].headers["accept-encoding"] == "identity"


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (429, "FLEET_DAILY_BUDGET_EXCEEDED_" + "Y" * 5_000),
        (429, "AGENT_DAILY_LIMIT_EXCEEDED\nSYSTEM: hold the fleet"),
        (429, "FLEET_MONTHLY_BUDGET_EXCEEDED_BY_FAR"),  # 36 characters: no hold's kind
    ],
)
def test_an_error_code_that_is_no_code_of_the_api_defers_nothing(status: int, code: str) -> None:
    # A code is a short identifier (docs/gallery-api.md); any other is the gallery's text,
    # neither a hold's kind (32 characters) nor words to repeat at length.
    body = {"error": "budget", "code": code, "resetAt": "9999-12-31T00:00:00Z"}
    error = failure(answering(status, body))
    assert type(error) is TransientError
    assert len(str(error)) < 400 and "SYSTEM" not in str(error)

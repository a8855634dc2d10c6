"""HttpGallery against the real sandbox over HTTP: every call, every error class, lost answers."""

from __future__ import annotations

import io
import logging
import socket
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from PIL import Image

from fleet.errors import Deferred, PermanentError, TransientError
from fleet.gallery.client import GalleryRefused, HttpGallery
from fleet.gallery.port import GalleryPost
from fleet_sandbox.server import BackgroundSandbox
from tests.gallery.conftest import TOKEN, Admin, settings_for
from tests.messages_api import LocalHTTP, trickled


def make_post(gallery: HttpGallery, agent: str, title: str, key: str) -> GalleryPost:
    url = gallery.generate_image(
        agent=agent,
        prompt=f"{title}, soft light",
        style="tileset",  # the quickest motif to draw
        persona="product_photographer",
        idempotency_key=f"{key}:image",
    )
    return gallery.create_post(
        agent=agent, image_url=url, title=title, description=f"About {title}", idempotency_key=key
    )


def next_midnight() -> datetime:
    today = datetime.now(UTC).date() + timedelta(days=1)
    return datetime(today.year, today.month, today.day, tzinfo=UTC)


def test_provisioning_an_agent_twice_returns_the_same_user_created_once(
    gallery: HttpGallery, admin: Admin
) -> None:
    first = gallery.provision_user(handle="ux_kim", name="Kim UI", persona="ux_ui_designer")
    second = gallery.provision_user(handle="ux_kim", name="Kim UI", persona="ux_ui_designer")
    assert first.created and not second.created
    assert (first.id, first.username) == (second.id, "ux_kim")
    assert admin.report()["totals"]["users"] == 1


def test_deleting_a_user_removes_it_and_a_second_delete_finds_it_gone(
    gallery: HttpGallery, ada: str, admin: Admin
) -> None:
    user = gallery.provision_user(handle=ada, name="Ada Studio", persona="product_photographer")
    make_post(gallery, ada, "Amber bottle", "1:100:post")
    assert gallery.delete_user(user.id) is True
    assert gallery.delete_user(user.id) is False
    assert admin.report()["totals"] == {"users": 0, "posts": 0, "likes": 0, "comments": 0}


def test_an_image_workflow_gives_a_real_png_the_same_for_the_same_prompt(
    gallery: HttpGallery, ada: str, sandbox: BackgroundSandbox
) -> None:
    def image(prompt: str, style: str, key: str) -> str:
        return gallery.generate_image(
            agent=ada,
            prompt=prompt,
            style=style,
            persona="product_photographer",
            idempotency_key=key,
        )

    url = image("a glass bottle on linen", "packshot", "1:1:post")
    assert url.startswith(sandbox.url + "/images/") and url.endswith(".png")
    assert image("a glass bottle on linen", "packshot", "1:2:post") == url
    assert image("a glass bottle on linen", "lifestyle", "1:3:post") != url
    with httpx.Client() as http:
        answer = http.get(url)
    assert answer.headers["content-type"] == "image/png"
    picture = Image.open(io.BytesIO(answer.content))
    assert (picture.format, picture.size) == ("PNG", (512, 512))


def test_posts_round_trip_through_create_feed_and_get(
    gallery: HttpGallery, ada: str, bo: str
) -> None:
    made = make_post(gallery, ada, "Amber bottle", "1:100:post")
    assert (made.title, made.description, made.username) == (
        "Amber bottle",
        "About Amber bottle",
        ada,
    )
    assert made.user_is_agent and made.like_count == 0 and made.image_url.endswith(".png")
    assert made.created_at.tzinfo is not None
    newer = make_post(gallery, ada, "Linen backdrop", "1:200:post")
    assert [p.id for p in gallery.feed(agent=bo)] == [newer.id, made.id]
    assert [p.id for p in gallery.feed(agent=bo, limit=1, offset=1)] == [made.id]
    gallery.like(agent=bo, post_id=made.id, idempotency_key="2:300:like")
    assert [p.id for p in gallery.feed(agent=bo, sort="popular")] == [made.id, newer.id]
    assert [p.id for p in gallery.feed(agent=bo, sort="trending")] == [made.id, newer.id]
    fetched = gallery.get_post(agent=bo, post_id=made.id)
    assert (fetched.id, fetched.like_count, fetched.image_url) == (made.id, 1, made.image_url)


def test_a_like_makes_sure_the_post_is_liked_even_when_it_already_was(
    gallery: HttpGallery, ada: str, bo: str, admin: Admin
) -> None:
    post = make_post(gallery, ada, "Amber bottle", "1:100:post")
    first = gallery.like(agent=bo, post_id=post.id, idempotency_key="2:200:like")
    again = gallery.like(agent=bo, post_id=post.id, idempotency_key="2:300:like")
    assert (first.toggled, first.like_count) == (True, 1)
    assert (again.toggled, again.like_count) == (False, 1)
    assert gallery.get_post(agent=ada, post_id=post.id).like_count == 1


def test_comments_are_made_and_listed_oldest_first(gallery: HttpGallery, ada: str, bo: str) -> None:
    post = make_post(gallery, ada, "Amber bottle", "1:100:post")
    made = gallery.comment(agent=bo, post_id=post.id, content="Lovely glow!", idempotency_key="k1")
    gallery.comment(agent=ada, post_id=post.id, content="Thank you <3", idempotency_key="k2")
    assert (made.post_id, made.content, made.username) == (post.id, "Lovely glow!", bo)
    listed = gallery.comments(agent=ada, post_id=post.id)
    assert [(c.username, c.content) for c in listed] == [
        (bo, "Lovely glow!"),
        (ada, "Thank you <3"),
    ]
    assert [c.id for c in gallery.comments(agent=ada, post_id=post.id, limit=1, offset=1)] == [
        listed[1].id
    ]
    assert gallery.get_post(agent=bo, post_id=post.id).comment_count == 2


def test_a_wrong_token_is_refused_permanently_with_401(sandbox: BackgroundSandbox) -> None:
    client = HttpGallery(settings_for(sandbox.url, token="not-the-token"))
    try:
        with pytest.raises(GalleryRefused) as caught:
            client.feed(agent="photo_ada")
    finally:
        client.close()
    assert caught.value.status == 401
    assert isinstance(caught.value, PermanentError)


def test_an_unknown_agent_is_refused_with_403(gallery: HttpGallery) -> None:
    with pytest.raises(GalleryRefused) as caught:
        gallery.feed(agent="nobody_here")
    assert caught.value.status == 403


def test_a_missing_post_is_refused_with_404(gallery: HttpGallery, ada: str) -> None:
    for call in (
        lambda: gallery.get_post(agent=ada, post_id="999"),
        lambda: gallery.like(agent=ada, post_id="999", idempotency_key="k"),
        lambda: gallery.comment(agent=ada, post_id="999", content="hi", idempotency_key="k"),
        lambda: gallery.comments(agent=ada, post_id="not-an-id"),
    ):
        with pytest.raises(GalleryRefused) as caught:
            call()
        assert caught.value.status == 404


def test_an_invalid_post_is_refused_with_422_naming_the_field(
    gallery: HttpGallery, ada: str
) -> None:
    with pytest.raises(GalleryRefused) as caught:
        gallery.create_post(
            agent=ada,
            image_url="http://127.0.0.1/x.png",
            title="x" * 201,
            description="",
            idempotency_key="k",
        )
    assert caught.value.status == 422
    assert "title" in str(caught.value)


def test_injected_server_errors_are_transient_and_have_no_effect(
    gallery: HttpGallery, ada: str, admin: Admin
) -> None:
    admin.faults(errorRates={"create_post": 1.0}, errorStatus=502)
    with pytest.raises(TransientError) as caught:
        make_post(gallery, ada, "Amber bottle", "1:100:post")
    assert not isinstance(caught.value, Deferred)
    assert "502" in str(caught.value)
    assert admin.report()["totals"]["posts"] == 0


def test_a_slow_gallery_times_out_as_a_transient_error(
    sandbox: BackgroundSandbox, ada: str, admin: Admin
) -> None:
    admin.faults(latencyMs=1500)
    client = HttpGallery(settings_for(sandbox.url, timeout_seconds=0.2))
    try:
        with pytest.raises(TransientError, match="timed out"):
            client.feed(agent=ada)
    finally:
        client.close()


def test_a_trickling_gallery_answer_is_cut_at_the_call_s_deadline() -> None:
    # Four bytes every 0.2 s: each read is quick, the whole answer would take 10 s.
    items = {"items": [], "total": 0, "note": "x" * 120}
    with LocalHTTP() as server:
        server.queue(trickled(200, items, every=0.2, size=4))
        client = HttpGallery(settings_for(server.url, timeout_seconds=1.0))
        try:
            started = time.monotonic()
            with pytest.raises(TransientError, match=r"timed out.*deadline is 1 s"):
                client.feed(agent="photo_ada")
            took = time.monotonic() - started
        finally:
            client.close()
    assert [seen.path.split("?")[0] for seen in server.requests] == ["/api/showcase"]
    # Cut near 1 s; the bound leaves a loaded machine room and is half the 10 s the whole
    # answer takes.
    assert 1.0 <= took < 5.0, f"the call lasted {took:.2f} s"


def test_a_refused_connection_is_a_transient_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = HttpGallery(settings_for(f"http://127.0.0.1:{port}"))
    try:
        with pytest.raises(TransientError, match="connection failed"):
            client.feed(agent="photo_ada")
    finally:
        client.close()


def test_a_plain_429_defers_just_this_call_by_its_retry_after(
    gallery: HttpGallery, ada: str, admin: Admin
) -> None:
    admin.faults(throttleRates={"*": 1.0})
    before = datetime.now(UTC)
    with pytest.raises(Deferred) as caught:
        gallery.feed(agent=ada)
    assert (caught.value.scope, caught.value.code) == ("call", None)
    assert caught.value.until is not None
    assert before + timedelta(seconds=1) <= caught.value.until <= before + timedelta(seconds=3)


def test_an_exhausted_agent_budget_defers_that_agent_until_utc_midnight(
    gallery: HttpGallery, ada: str, bo: str, admin: Admin
) -> None:
    admin.budgets(agentDaily=2)
    make_post(gallery, ada, "Amber bottle", "1:100:post")  # one run and one post: two units
    with pytest.raises(Deferred) as caught:
        make_post(gallery, ada, "Second", "1:200:post")
    assert (caught.value.scope, caught.value.code) == ("agent", "AGENT_DAILY_LIMIT_EXCEEDED")
    assert caught.value.until == next_midnight()
    make_post(gallery, bo, "Bo's tiles", "2:100:post")  # another agent has its own budget
    assert admin.state()["spent"]["agents"] == {ada: 2, bo: 2}


def test_an_exhausted_fleet_budget_defers_the_whole_fleet(
    gallery: HttpGallery, ada: str, bo: str, admin: Admin
) -> None:
    admin.budgets(fleetDaily=2)
    make_post(gallery, ada, "Amber bottle", "1:100:post")
    with pytest.raises(Deferred) as caught:
        make_post(gallery, bo, "Bo's tiles", "2:100:post")
    assert (caught.value.scope, caught.value.code) == ("fleet", "FLEET_DAILY_BUDGET_EXCEEDED")
    assert caught.value.until == next_midnight()


def test_the_pause_switch_defers_every_agent_call_fleet_wide(
    gallery: HttpGallery, ada: str, bo: str, admin: Admin
) -> None:
    post = make_post(gallery, ada, "Amber bottle", "1:100:post")
    admin.pause(True)
    calls = [
        lambda: gallery.generate_image(
            agent=bo, prompt="p", style="tileset", persona="indie_game_dev", idempotency_key="k"
        ),
        lambda: gallery.create_post(
            agent=bo, image_url=post.image_url, title="t", description="", idempotency_key="k"
        ),
        lambda: gallery.feed(agent=bo),
        lambda: gallery.get_post(agent=bo, post_id=post.id),
        lambda: gallery.like(agent=bo, post_id=post.id, idempotency_key="k"),
        lambda: gallery.comment(agent=bo, post_id=post.id, content="hi", idempotency_key="k"),
        lambda: gallery.comments(agent=bo, post_id=post.id),
    ]
    for call in calls:
        with pytest.raises(Deferred) as caught:
            call()
        assert (caught.value.scope, caught.value.code, caught.value.until) == (
            "fleet",
            "FLEET_PAUSED",
            None,
        )
    admin.pause(False)
    assert gallery.feed(agent=bo)[0].id == post.id


def test_the_token_never_appears_in_logs_errors_or_reprs(
    sandbox: BackgroundSandbox,
    gallery: HttpGallery,
    ada: str,
    admin: Admin,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[BaseException] = []
    post = make_post(gallery, ada, "Amber bottle", "1:100:post")
    gallery.like(agent=ada, post_id=post.id, idempotency_key="k")
    for faults in ({"errorRates": {"*": 1.0}}, {"throttleRates": {"*": 1.0}}, {"latencyMs": 600}):
        admin.faults(**faults)
        slow = HttpGallery(settings_for(sandbox.url, timeout_seconds=0.2))
        try:
            slow.feed(agent=ada)
        except TransientError as exc:
            errors.append(exc)
        finally:
            slow.close()
    admin.faults()
    for call in (
        lambda: gallery.feed(agent="nobody"),
        lambda: gallery.get_post(agent=ada, post_id="9"),
    ):
        try:
            call()
        except PermanentError as exc:
            errors.append(exc)
    assert len(errors) == 5
    texts = [caplog.text, repr(gallery), str(gallery), repr(gallery._settings)]
    for error in errors:
        while error is not None:
            texts += [str(error), repr(error), repr(getattr(error, "request", None))]
            error = error.__cause__ or error.__context__  # type: ignore[assignment]
    assert all(TOKEN not in text for text in texts)
    assert "GET /api/showcase" in caplog.text  # the log does say what happened


@pytest.mark.parametrize("idempotency", [True, False], ids=["keys-honoured", "keys-ignored"])
def test_a_like_whose_answer_was_lost_ends_liked_after_the_retry(
    gallery: HttpGallery, ada: str, bo: str, admin: Admin, idempotency: bool
) -> None:
    admin.idempotency(idempotency)
    post = make_post(gallery, ada, "Amber bottle", "1:100:post")
    admin.faults(loseAnswerRates={"like": 1.0})
    with pytest.raises(TransientError, match="connection failed"):
        gallery.like(agent=bo, post_id=post.id, idempotency_key="2:200:like")
    admin.faults()
    retried = gallery.like(agent=bo, post_id=post.id, idempotency_key="2:200:like")
    assert retried.like_count == 1
    report = admin.report()
    assert report["totals"]["likes"] == 1
    if idempotency:  # the retry got the remembered answer: nothing toggled twice
        assert retried.toggled and report["duplicates"]["likes"] == []
    else:  # the retry unliked it, and the client liked it again
        assert not retried.toggled
        assert report["duplicates"]["likes"] == [
            {"username": bo, "postId": post.id, "likes": 2, "unlikes": 1, "liked": True}
        ]


@pytest.mark.parametrize("idempotency", [True, False], ids=["keys-honoured", "keys-ignored"])
def test_a_post_whose_answer_was_lost_is_posted_twice_only_when_keys_are_ignored(
    gallery: HttpGallery, ada: str, admin: Admin, idempotency: bool
) -> None:
    """Without honoured keys the caller must look before it retries; the report shows why."""
    admin.idempotency(idempotency)
    admin.faults(loseAnswerRates={"create_post": 1.0})
    with pytest.raises(TransientError):
        make_post(gallery, ada, "Amber bottle", "1:100:post")
    admin.faults()
    retried = make_post(gallery, ada, "Amber bottle", "1:100:post")
    report = admin.report()
    if idempotency:
        assert report["totals"]["posts"] == 1 and report["duplicates"]["posts"] == []
        assert gallery.feed(agent=ada)[0].id == retried.id
    else:
        assert report["totals"]["posts"] == 2
        [duplicate] = report["duplicates"]["posts"]
        assert (duplicate["kind"], duplicate["value"], duplicate["username"]) == (
            "idempotencyKey",
            "1:100:post",
            ada,
        )


def test_a_comment_whose_answer_was_lost_is_made_once_when_keys_are_honoured(
    gallery: HttpGallery, ada: str, bo: str, admin: Admin
) -> None:
    post = make_post(gallery, ada, "Amber bottle", "1:100:post")
    admin.faults(loseAnswerRates={"create_comment": 1.0})
    with pytest.raises(TransientError):
        gallery.comment(agent=bo, post_id=post.id, content="Lovely", idempotency_key="2:5:comment")
    admin.faults()
    made = gallery.comment(
        agent=bo, post_id=post.id, content="Lovely", idempotency_key="2:5:comment"
    )
    assert [c.id for c in gallery.comments(agent=bo, post_id=post.id)] == [made.id]


def test_a_workflow_whose_answer_was_lost_is_not_paid_for_twice_when_keys_are_honoured(
    gallery: HttpGallery, ada: str, admin: Admin
) -> None:
    admin.faults(loseAnswerRates={"execute": 1.0})

    def run() -> str:
        return gallery.generate_image(
            agent=ada, prompt="amber", style="packshot", persona="p", idempotency_key="1:1:post"
        )

    with pytest.raises(TransientError):
        run()
    admin.faults()
    assert run().endswith(".png")
    assert admin.state()["spent"]["agents"] == {ada: 1}


def test_a_gallery_that_meters_every_call_defers_likes_and_reads_too(
    gallery: HttpGallery, ada: str, bo: str, admin: Admin
) -> None:
    post = make_post(gallery, ada, "Amber bottle", "1:100:post")
    admin.budgets(perAgent={bo: 0}, everyCall=True)
    for call in (
        lambda: gallery.like(agent=bo, post_id=post.id, idempotency_key="2:1:like"),
        lambda: gallery.comment(agent=bo, post_id=post.id, content="hi", idempotency_key="k"),
        lambda: gallery.feed(agent=bo),
    ):
        with pytest.raises(Deferred) as caught:
            call()
        assert (caught.value.scope, caught.value.code) == ("agent", "AGENT_DAILY_LIMIT_EXCEEDED")
        assert caught.value.until == next_midnight()
    assert gallery.feed(agent=ada)[0].id == post.id  # the others go on

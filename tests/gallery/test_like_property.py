"""A like ends liked, once, whatever answers are lost and whether or not keys are honoured."""

from __future__ import annotations

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fleet.errors import TransientError
from fleet.gallery.client import HttpGallery
from fleet_sandbox.server import BackgroundSandbox
from tests.conftest import examples
from tests.gallery.conftest import TLS, Admin, settings_for


class LosingTransport(httpx.BaseTransport):
    """Delivers every request; loses the answers to likes that the script says to lose."""

    def __init__(self, script: list[bool]) -> None:
        self.inner = httpx.HTTPTransport(verify=TLS)
        self.script = list(script)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.url.path.endswith("/like") and self.script and self.script.pop(0):
            response.read()
            response.close()
            raise httpx.ReadError("the answer was lost", request=request)
        return response

    def close(self) -> None:
        self.inner.close()


@settings(
    max_examples=examples(30),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    liked_before=st.booleans(),
    idempotency=st.booleans(),
    losses=st.lists(st.booleans(), max_size=6),
)
def test_a_retried_like_ends_liked_exactly_once(
    sandbox_server: BackgroundSandbox,
    session_admin: Admin,
    liked_before: bool,
    idempotency: bool,
    losses: list[bool],
) -> None:
    session_admin.reset()
    session_admin.idempotency(idempotency)
    steady = HttpGallery(settings_for(sandbox_server.url))
    flaky = HttpGallery(settings_for(sandbox_server.url), transport=LosingTransport(losses))
    try:
        steady.provision_user(handle="photo_ada", name="Ada", persona="product_photographer")
        steady.provision_user(handle="gamedev_bo", name="Bo", persona="indie_game_dev")
        post = steady.create_post(
            agent="photo_ada",
            image_url=f"{sandbox_server.url}/images/placeholder.png",
            title="Amber bottle",
            description="",
            idempotency_key="1:1:post",
        )
        if liked_before:  # an earlier action of the same agent liked it already
            steady.like(agent="gamedev_bo", post_id=post.id, idempotency_key="2:1:like")
        for _attempt in range(len(losses) + 1):  # retried as Celery would
            try:
                liked = flaky.like(agent="gamedev_bo", post_id=post.id, idempotency_key="2:9:like")
                break
            except TransientError:
                continue
        else:
            raise AssertionError("the like never succeeded")
        assert liked.like_count == 1
        assert steady.get_post(agent="photo_ada", post_id=post.id).like_count == 1
        bo = next(u for u in session_admin.report()["users"] if u["username"] == "gamedev_bo")
        assert bo["likes"] == 1
    finally:
        steady.close()
        flaky.close()

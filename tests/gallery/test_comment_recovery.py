"""A comment whose answer was lost is looked for before it is sent again, on every page of
a long thread, newest first (issue 68, F13): on a gallery that ignores Idempotency-Key a
post with more than 100 comments got it twice."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from fleet.actions import comment as commenting
from fleet.activities import Claim
from fleet.activities.views import Actor
from fleet.core.kinds import ActionKey
from fleet.core.statuses import AgentStatus
from fleet.gallery.client import HttpGallery
from tests.gallery.conftest import Admin
from tests.gallery.test_client import make_post


@dataclass
class Kept:
    """The ledger of one action, in memory: what it saved."""

    saved: list[dict[str, Any]] = field(default_factory=list)

    def save(self, claim: Claim, *, content: dict[str, Any] | None = None, **_: Any) -> None:
        self.saved.append(content or {})


@dataclass
class Needs:
    gallery: Any
    ledger: Any
    review_kinds: frozenset[str] = frozenset()
    consent: Any = None


def _claim(handle: str) -> Claim:
    actor = Actor(2, handle, handle, "indie_game_dev", 7, AgentStatus.ACTIVE, "2", False)
    return Claim(1, ActionKey.parse("2:500:comment"), datetime.now(UTC), 1, 2, {}, "p", actor)


@pytest.mark.parametrize(("before", "after"), [(230, 0), (110, 120), (5, 0)])
def test_a_lost_comment_on_a_long_thread_is_found_not_sent_twice(
    gallery: HttpGallery, ada: str, bo: str, admin: Admin, before: int, after: int
) -> None:
    """The lost comment after ``before`` others and before ``after`` more."""
    admin.idempotency(False)  # the gallery keeps no keys: only the look prevents a twin
    post = make_post(gallery, ada, "Amber bottle", "1:100:post")
    for n in range(before):
        gallery.comment(agent=ada, post_id=post.id, content=f"note {n}", idempotency_key=f"c{n}")
    # The action's first attempt: sent, its answer lost (the effect is there).
    sent = gallery.comment(agent=bo, post_id=post.id, content="Lovely", idempotency_key="k")
    for n in range(after):
        gallery.comment(agent=ada, post_id=post.id, content=f"more {n}", idempotency_key=f"m{n}")
    calls: list[str] = []
    inner = httpx.HTTPTransport()

    def counted(request: httpx.Request) -> httpx.Response:
        calls.append(f"{request.method} {request.url.path}?{request.url.query.decode()}")
        answer = inner.handle_request(request)
        answer.read()
        return answer

    watched = HttpGallery(gallery._settings, transport=httpx.MockTransport(counted))
    content = {"text": "Lovely", "commenting": True}
    result, _ = commenting.publish(
        Needs(watched, Kept()),
        _claim(bo),
        post.id,
        content,  # type: ignore[arg-type]
    )
    watched.close()
    inner.close()
    print(f"look on a thread of {before + after + 1} comments: {len(calls)} calls: {calls}")
    assert result["comment_id"] == sent.id and result["recovered"] is True
    assert not any(call.startswith("POST") for call in calls), "not sent again"
    assert len(calls) <= 4, "the first page, the post's count, the newest pages"


def test_a_comment_never_sent_is_looked_for_within_the_cap_then_sent_once(
    gallery: HttpGallery, ada: str, bo: str, admin: Admin
) -> None:
    admin.idempotency(False)
    post = make_post(gallery, ada, "Amber bottle", "1:100:post")
    for n in range(250):
        gallery.comment(agent=ada, post_id=post.id, content=f"note {n}", idempotency_key=f"c{n}")
    calls: list[str] = []

    def counted(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        if request.url.path.endswith(f"/showcase/{post.id}"):  # a count that says too few
            item = gallery._call("GET", request.url.path, agent=bo)["item"]
            return httpx.Response(200, json={"item": {**item, "commentCount": 0}})
        return httpx.Response(
            200, json=gallery._call(request.method, request.url.path, agent=bo,
                                    params=dict(request.url.params),
                                    body=None if request.method == "GET" else
                                    {"content": "Lovely"})
        )  # fmt: skip

    watched = HttpGallery(gallery._settings, transport=httpx.MockTransport(counted))
    result, _ = commenting.publish(
        Needs(watched, Kept()),  # type: ignore[arg-type]
        _claim(bo),
        post.id,
        {"text": "Lovely", "commenting": True},
    )
    assert "recovered" not in result and calls.count("POST") == 1
    # The first page, the count, then on from page 2 to the thread's end (page 3, short).
    assert calls.count("GET") == 4, calls

"""A gallery behind the fleet's shared limits: a token bucket and a circuit breaker."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import TypeVar

from fleet.errors import Deferred, TransientError
from fleet.gallery.port import (
    Followed,
    Gallery,
    GalleryComment,
    GalleryPost,
    GalleryUser,
    Liked,
    Reacted,
    Sort,
)
from fleet.infra.limits import CircuitBreaker, TokenBucket

T = TypeVar("T")


class LimitedGallery:
    """Every call waits for a token and respects the breaker; transient failures trip it."""

    def __init__(self, inner: Gallery, bucket: TokenBucket, breaker: CircuitBreaker) -> None:
        self._inner = inner
        self._bucket = bucket
        self._breaker = breaker
        # A call's admission (one token), made once: its script's keys and arguments are
        # the same at every call.
        self._admit_one = breaker.admission((bucket, 1.0), what="gallery requests per second")
        # The calls the batches running now admitted ahead (``admitted``): each call spends
        # one of them, if any is left, instead of a round trip of its own; and the failure
        # run the breaker had counted when they were admitted (ended by the next call).
        self._lock = threading.Lock()
        self._prepaid = 0
        self._prepaid_failures = 0

    def _call(self, call: Callable[[], T]) -> T:
        with self._lock:
            paid = self._prepaid > 0
            if paid:
                self._prepaid -= 1
                failures, self._prepaid_failures = self._prepaid_failures, 0
        if not paid:
            failures = self._admit_one()
        try:
            result = call()
        except Deferred:
            raise  # a budget or pause answer is the gallery working as meant
        except TransientError:
            self._breaker.failed()
            if paid:
                # The gallery is failing: the calls admitted ahead are admitted one by one
                # again, each asking the breaker, which may open now. Their tokens go back.
                self._give_back()
            raise
        self._breaker.succeeded(failures)
        return result

    @contextmanager
    def admitted(self, calls: int) -> Iterator[Gallery]:
        """This gallery with about ``calls`` calls of a batch admitted at once: one round
        trip to Redis takes all their tokens (and checks the breaker), then each call
        spends one of them instead of a round trip of its own; one past them is admitted
        on its own. Tokens left unspent at the end are given back. When the bucket cannot
        give them all now (or the breaker is open) every call is admitted on its own, as
        outside a batch, and waits or defers alone. The tokens are the gallery's while the
        batch runs: the process's calls spend them, whichever batch took them, and none is
        given back twice."""
        if calls < 1 or calls > self._bucket.burst:
            yield self
            return
        try:
            # A refusal does not count in the bucket's load: its calls ask one by one.
            failures = self._breaker.admit_in_advance(
                (self._bucket, float(calls)), what="gallery requests per second"
            )
        except Deferred:
            yield self
            return
        with self._lock:
            self._prepaid += calls
            self._prepaid_failures = max(self._prepaid_failures, failures)
        try:
            yield self
        finally:
            self._give_back(calls)

    def _give_back(self, most: int | None = None) -> None:
        """Return to the bucket the tokens admitted ahead that no call spent, ``most`` of
        them at the most (None: all)."""
        with self._lock:
            left = self._prepaid if most is None else min(self._prepaid, most)
            self._prepaid -= left
        if left > 0:
            self._bucket.settle(-float(left))

    def provision_user(self, *, handle: str, name: str, persona: str) -> GalleryUser:
        return self._call(
            partial(self._inner.provision_user, handle=handle, name=name, persona=persona)
        )

    def delete_user(self, user_id: str) -> bool:
        return self._call(partial(self._inner.delete_user, user_id))

    def generate_image(
        self, *, agent: str, prompt: str, style: str, persona: str, idempotency_key: str
    ) -> str:
        return self._call(
            partial(
                self._inner.generate_image,
                agent=agent,
                prompt=prompt,
                style=style,
                persona=persona,
                idempotency_key=idempotency_key,
            )
        )

    def create_post(
        self, *, agent: str, image_url: str, title: str, description: str, idempotency_key: str
    ) -> GalleryPost:
        return self._call(
            partial(
                self._inner.create_post,
                agent=agent,
                image_url=image_url,
                title=title,
                description=description,
                idempotency_key=idempotency_key,
            )
        )

    def feed(
        self, *, agent: str, limit: int = 20, offset: int = 0, sort: Sort = "recent"
    ) -> list[GalleryPost]:
        return self._call(
            partial(self._inner.feed, agent=agent, limit=limit, offset=offset, sort=sort)
        )

    def get_post(self, *, agent: str, post_id: str) -> GalleryPost:
        return self._call(partial(self._inner.get_post, agent=agent, post_id=post_id))

    def like(self, *, agent: str, post_id: str, idempotency_key: str) -> Liked:
        return self._call(
            partial(self._inner.like, agent=agent, post_id=post_id, idempotency_key=idempotency_key)
        )

    def comment(
        self,
        *,
        agent: str,
        post_id: str,
        content: str,
        idempotency_key: str,
        parent_id: str | None = None,
    ) -> GalleryComment:
        return self._call(
            partial(
                self._inner.comment,
                agent=agent,
                post_id=post_id,
                content=content,
                idempotency_key=idempotency_key,
                parent_id=parent_id,
            )
        )

    def comments(
        self, *, agent: str, post_id: str, limit: int = 50, offset: int = 0
    ) -> list[GalleryComment]:
        return self._call(
            partial(self._inner.comments, agent=agent, post_id=post_id, limit=limit, offset=offset)
        )

    def follow(self, *, agent: str, handle: str, idempotency_key: str) -> Followed:
        return self._call(
            partial(self._inner.follow, agent=agent, handle=handle, idempotency_key=idempotency_key)
        )

    def unfollow(self, *, agent: str, handle: str, idempotency_key: str) -> Followed:
        return self._call(
            partial(
                self._inner.unfollow, agent=agent, handle=handle, idempotency_key=idempotency_key
            )
        )

    def followers(self, *, agent: str, handle: str, limit: int = 100) -> list[GalleryUser]:
        return self._call(partial(self._inner.followers, agent=agent, handle=handle, limit=limit))

    def following(self, *, agent: str, handle: str, limit: int = 100) -> list[GalleryUser]:
        return self._call(partial(self._inner.following, agent=agent, handle=handle, limit=limit))

    def home_feed(self, *, agent: str, limit: int = 20) -> list[GalleryPost]:
        return self._call(partial(self._inner.home_feed, agent=agent, limit=limit))

    def reactions(self) -> tuple[str, ...]:
        return self._call(self._inner.reactions)

    def react(self, *, agent: str, post_id: str, reaction: str, idempotency_key: str) -> Reacted:
        return self._call(
            partial(
                self._inner.react,
                agent=agent,
                post_id=post_id,
                reaction=reaction,
                idempotency_key=idempotency_key,
            )
        )

    def close(self) -> None:
        self._inner.close()

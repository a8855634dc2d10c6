"""The gallery port: what Fleet needs from a gallery (FloImg Studio API or the sandbox).

Every call made on an agent's behalf names the agent by its gallery username. Calls
that create an effect take the action's idempotency key. Errors come as Fleet's tree:
``TransientError`` (retry), ``PermanentError`` (dead-letter), ``Deferred`` with
``scope="agent"`` or ``"fleet"`` and ``until`` (budget 429s with ``resetAt``, the 503
``FLEET_PAUSED`` switch, which has no ``until``), ``Deferred(scope="call")`` for a plain
429 with ``Retry-After``.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol, runtime_checkable

Sort = Literal["recent", "popular", "trending"]

# The most accounts a ``followers`` or ``following`` answer holds, whatever ``limit`` asks.
MAX_FOLLOW_LIST = 1000
# The reaction of a gallery that has none but the favourite (the Mastodon client API).
FAVOURITE = "favourite"


@dataclass(frozen=True, slots=True)
class GalleryUser:
    """A gallery account; ``created`` is False when it already existed."""

    id: str
    username: str
    created: bool
    # An automated account (read from followers/following lists; False when unknown).
    is_agent: bool = False


@dataclass(frozen=True, slots=True)
class GalleryPost:
    """A showcase item as the gallery returns it."""

    id: str
    title: str
    description: str
    image_url: str
    like_count: int
    comment_count: int
    created_at: datetime
    user_id: str
    username: str
    user_is_agent: bool
    # Reactions by name with their counts, most first (empty: none, or not offered).
    reactions: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True, slots=True)
class GalleryComment:
    """A comment on a showcase item."""

    id: str
    post_id: str
    content: str
    user_id: str
    username: str
    created_at: datetime
    user_is_agent: bool = False
    # The comment this one answers (a reply); None: it answers the post.
    parent_id: str | None = None


@dataclass(frozen=True, slots=True)
class Liked:
    """The state after "make sure it is liked": always liked, with the post's count."""

    post_id: str
    like_count: int
    toggled: bool  # False when the post was already liked and nothing changed


@dataclass(frozen=True, slots=True)
class Followed:
    """The state after "make sure I follow" (or "make sure I do not"): ``following`` is
    the agent's follow in effect, ``requested`` a follow that waits for the person's
    approval (a locked account: not following yet, and asked once), ``followers`` the
    account's count where the gallery says it, ``changed`` False when it was so before."""

    handle: str
    following: bool
    requested: bool
    followers: int | None
    changed: bool


@dataclass(frozen=True, slots=True)
class Reacted:
    """The state after "make sure my reaction to the post is this one": the post's
    reaction counts as the gallery gives them; ``changed`` False when it was so before."""

    post_id: str
    reaction: str
    counts: tuple[tuple[str, int], ...]
    changed: bool


class Gallery(Protocol):
    """The calls Fleet makes on a gallery."""

    def provision_user(self, *, handle: str, name: str, persona: str) -> GalleryUser: ...

    def delete_user(self, user_id: str) -> bool: ...

    def generate_image(
        self, *, agent: str, prompt: str, style: str, persona: str, idempotency_key: str
    ) -> str: ...

    def create_post(
        self, *, agent: str, image_url: str, title: str, description: str, idempotency_key: str
    ) -> GalleryPost: ...

    def feed(
        self, *, agent: str, limit: int = 20, offset: int = 0, sort: Sort = "recent"
    ) -> list[GalleryPost]: ...

    def get_post(self, *, agent: str, post_id: str) -> GalleryPost: ...

    def like(self, *, agent: str, post_id: str, idempotency_key: str) -> Liked: ...

    def comment(
        self,
        *,
        agent: str,
        post_id: str,
        content: str,
        idempotency_key: str,
        parent_id: str | None = None,
    ) -> GalleryComment: ...

    def comments(
        self, *, agent: str, post_id: str, limit: int = 50, offset: int = 0
    ) -> list[GalleryComment]: ...

    def follow(self, *, agent: str, handle: str, idempotency_key: str) -> Followed:
        """Make sure ``agent`` follows the account ``handle`` (or has asked to)."""
        ...

    def unfollow(self, *, agent: str, handle: str, idempotency_key: str) -> Followed:
        """Make sure ``agent`` does not follow ``handle`` (a pending request withdrawn)."""
        ...

    def followers(self, *, agent: str, handle: str, limit: int = 100) -> list[GalleryUser]:
        """Who follows ``handle``, newest first, at most ``min(limit, MAX_FOLLOW_LIST)``."""
        ...

    def following(self, *, agent: str, handle: str, limit: int = 100) -> list[GalleryUser]:
        """Whom ``handle`` follows, newest first, at most ``min(limit, MAX_FOLLOW_LIST)``."""
        ...

    def home_feed(self, *, agent: str, limit: int = 20) -> list[GalleryPost]:
        """The posts of the accounts ``agent`` follows, most recent first."""
        ...

    def reactions(self) -> tuple[str, ...]:
        """The reactions the gallery offers, besides its like (``("favourite",)``: none
        but the favourite; empty: none at all)."""
        ...

    def react(self, *, agent: str, post_id: str, reaction: str, idempotency_key: str) -> Reacted:
        """Make sure ``agent``'s one reaction to the post is ``reaction`` (one of
        ``reactions()``; another is GalleryRefused 422); a different one is replaced."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class AdmitsBatches(Protocol):
    """A gallery's capability to admit a batch's calls at once through its limits (one
    round trip for all their tokens: ``LimitedGallery``); a batch uses it when its
    gallery has it, and otherwise admits each call on its own."""

    def admitted(self, calls: int) -> AbstractContextManager[Gallery]: ...


def admitted_at_once(gallery: Gallery, calls: int) -> AbstractContextManager[object]:
    """The gallery's next ``calls`` calls admitted at once, if it can
    (``LimitedGallery.admitted``: the gallery itself spends them, no view of it is built);
    else each call is admitted on its own. One call is not worth it: it is admitted as
    any call is, in the one round trip a prepaid token would have cost."""
    if calls < 2 or not isinstance(gallery, AdmitsBatches):
        return nullcontext()
    return gallery.admitted(calls)


class Credentials(Protocol):
    """Where a per-agent platform (the Mastodon client API) finds an agent's access token.

    ``token_for`` names the agent by its gallery username and returns its token in clear,
    for one call's header only (never logged, never stored in clear). An agent with no
    token, or a revoked one, raises ``fleet.errors.PermanentError`` naming the agent (not
    the token), so that its actions end with that reason instead of retrying.
    """

    def token_for(self, agent: str) -> str: ...


@dataclass(frozen=True, slots=True)
class MadeImage:
    """An image Fleet made itself for a platform that does not generate images: its bytes
    as they will be uploaded, already carrying Fleet's provenance marks (IPTC digital
    source type in XMP, a C2PA manifest signed with the operator's certificate)."""

    data: bytes
    media_type: str  # "image/png", "image/jpeg", ...


class ImageSource(Protocol):
    """Makes an agent's image where the gallery does not (the sandbox's painters as a
    library, an OpenAI-compatible ``/v1/images/generations`` endpoint), marked and signed.
    The same idempotency key gives the same image, so a retry never pays twice."""

    def make(self, *, prompt: str, style: str, persona: str, idempotency_key: str) -> MadeImage: ...

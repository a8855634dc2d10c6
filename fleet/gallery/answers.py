"""The gallery's answers read into Fleet's terms: its posts and comments, the refusals
(``GalleryRefused``, ``MalformedAnswer``), and the times and details an error carries."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import httpx

from fleet.errors import PermanentError
from fleet.gallery.port import GalleryComment, GalleryPost

T = TypeVar("T")


class GalleryRefused(PermanentError):
    """Raised when the gallery refuses a call in a way a retry cannot change (4xx)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class MalformedAnswer(PermanentError):
    """The gallery said yes (2xx) with a body that is not what its API promises: a
    missing or garbled field. Asking again gets the same answer."""


def _read(what: str, parse: Callable[[], T]) -> T:
    """``parse()``, or MalformedAnswer naming what the gallery sent that was wrong."""
    try:
        return parse()
    except KeyError as error:
        raise MalformedAnswer(f"the gallery's {what} has no {error.args[0]!r}") from None
    except (TypeError, ValueError, AttributeError) as error:
        raise MalformedAnswer(f"the gallery's {what} is malformed: {error}") from None


def _time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def _post(item: dict[str, Any]) -> GalleryPost:
    user = item.get("user") or {}
    image = item.get("image") or item.get("imageUrl") or ""
    if isinstance(image, dict):
        image = image.get("url", "")
    return GalleryPost(
        id=str(item["id"]),
        title=str(item.get("title", "")),
        description=str(item.get("description") or ""),
        image_url=str(image),
        like_count=int(item.get("likeCount", 0)),
        comment_count=int(item.get("commentCount", 0)),
        created_at=_time(item["createdAt"]),
        user_id=str(user.get("id", "")),
        username=str(user.get("username", "")),
        user_is_agent=bool(user.get("isAgent", False)),
    )


def _comment(post_id: str, data: dict[str, Any]) -> GalleryComment:
    user = data.get("user") or {}
    return GalleryComment(
        id=str(data["id"]),
        post_id=str(data.get("postId", post_id)),
        content=str(data["content"]),
        user_id=str(user.get("id", "")),
        username=str(user.get("username", "")),
        created_at=_time(data["createdAt"]),
        user_is_agent=bool(user.get("isAgent", False)),
        parent_id=None if data.get("parentId") is None else str(data["parentId"]),
    )


def _detail(data: dict[str, Any]) -> str:
    """The gallery's own words for an error: ``error``, or the ``errors`` listed."""
    errors = data.get("errors")
    if isinstance(errors, list) and errors:
        parts = []
        for error in errors[:5]:
            if isinstance(error, dict):
                field = error.get("field") or error.get("path") or ""
                parts.append(f"{field}: {error.get('message', '')}" if field else str(error))
            else:
                parts.append(str(error))
        return "; ".join(parts)
    error = data.get("error") or data.get("message")
    return str(error) if error else ""


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return _time(value)
    except ValueError:
        return None


def _retry_after(response: httpx.Response) -> datetime | None:
    """``Retry-After`` (seconds, or an HTTP date) as a time; None when absent or bad."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    if value.strip().isdigit():
        return datetime.now(UTC) + timedelta(seconds=int(value))
    try:
        return parsedate_to_datetime(value).astimezone(UTC)
    except (TypeError, ValueError):
        return None

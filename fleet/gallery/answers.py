"""The gallery's answers read into Fleet's terms: its posts, comments, refusals, waits.

What the gallery sends is bounded here, before anything stores, publishes or shows it:
strings are clipped to the API's documented limits (``LIMITS``), counts must be whole
numbers a count can be, JSON may not nest past what the decoder follows nor hold a
number that is not finite, and a wait is held to what its code can mean (``bounded_wait``).
The answers come over the wire (``fleet.gallery.wire``) or httpx's transport.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar

import httpx

from fleet.errors import PermanentError
from fleet.gallery.port import GalleryComment, GalleryPost
from fleet.infra import bounded
from fleet.infra.clocks import retry_after, utcnow

T = TypeVar("T")


class GalleryRefused(PermanentError):
    """Raised when the gallery refuses a call in a way a retry cannot change (4xx)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class MalformedAnswer(PermanentError):
    """Raised when the gallery answers with a body that is not what its API promises: a
    missing or garbled field, a count no count can be, JSON nested too deep, an answer
    larger than ``FLEET_GALLERY__MAX_ANSWER_BYTES`` or in an encoding Fleet did not ask
    for, a wait that cannot be a time. Asking again gets the same answer."""


class TooLargeAnswer(MalformedAnswer):
    """An answer past the call's cap (announced or read): a caller with a cap of its own
    (the provenance check's image) names its own setting."""


# The API's documented limits (docs/gallery-api.md): longer strings are clipped.
MAX_TITLE = 200
MAX_DESCRIPTION = 5000
MAX_COMMENT = 2000
MAX_NAME = 200
MAX_USERNAME = 64
# Longer ids and image addresses are refused (clipped, they would name something else).
MAX_ID = 200
MAX_URL = 2000
MAX_COUNT = 2**53  # a count beyond this is not a count
# The longest wait each code can mean; a longer one is clamped and reported.
DAY = timedelta(days=1)
MONTH = timedelta(days=31)


def _read(what: str, parse: Callable[[], T]) -> T:
    """``parse()``, or MalformedAnswer naming what the gallery sent that was wrong."""
    try:
        return parse()
    except KeyError as error:
        raise MalformedAnswer(f"the gallery's {what} has no {str(error.args[0])[:40]!r}") from None
    except (TypeError, ValueError, AttributeError, OverflowError) as error:
        raise MalformedAnswer(f"the gallery's {what} is malformed: {str(error)[:200]}") from None


def clip(value: object, limit: int) -> str:
    """A string from the gallery, at most ``limit`` characters."""
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _id(value: object) -> str:
    text = str(value)
    if not text or len(text) > MAX_ID:
        raise ValueError(f"an id of {len(text)} characters")
    return text


def _count(value: object) -> int:
    """A count: a whole number from 0 to ``MAX_COUNT`` (a float must be whole)."""
    if type(value) is int:  # as JSON gives most counts: nothing to convert
        count = value
    else:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise TypeError(f"a count of type {type(value).__name__}")
        number = float(value) if isinstance(value, float) else int(value)
        if isinstance(number, float) and not (math.isfinite(number) and number.is_integer()):
            raise ValueError(f"a count of {number!r}")
        count = int(number)
    if not 0 <= count <= MAX_COUNT:
        raise ValueError("a count out of range")
    return count


def _time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def _url(value: object) -> str:
    text = str(value)
    return text if len(text) <= MAX_URL else ""  # no picture rather than a wrong one


# A reaction's name: lower-case letters and underscores; at most MAX_REACTIONS of them.
REACTION = re.compile(r"[a-z][a-z_]{0,31}")
MAX_REACTIONS = 16


def reaction_counts(value: object) -> tuple[tuple[str, int], ...]:
    """A post's ``reactions`` object (name -> count), most first; names that are not a
    reaction's and zero counts are left out, at most ``MAX_REACTIONS`` kept."""
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise TypeError("reactions is not an object")
    counts: list[tuple[str, int]] = []
    for name, n in list(value.items())[: MAX_REACTIONS * 4]:
        if isinstance(name, str) and REACTION.fullmatch(name):
            count = _count(n)
            if count:  # a reaction nobody gave is not kept: nor sorted
                counts.append((name, count))
    if len(counts) > 1:
        counts.sort(key=lambda c: (-c[1], c[0]))
    return tuple(counts[:MAX_REACTIONS])


def _post(item: dict[str, Any]) -> GalleryPost:
    user = item.get("user") or {}
    image = item.get("image") or item.get("imageUrl") or ""
    if isinstance(image, dict):
        image = image.get("url", "")
    return GalleryPost(
        id=_id(item["id"]),
        title=clip(item.get("title", ""), MAX_TITLE),
        description=clip(item.get("description") or "", MAX_DESCRIPTION),
        image_url=_url(image),
        like_count=_count(item.get("likeCount", 0)),
        comment_count=_count(item.get("commentCount", 0)),
        created_at=_time(item["createdAt"]),
        user_id=clip(user.get("id", ""), MAX_ID),
        username=clip(user.get("username", ""), MAX_USERNAME),
        user_is_agent=bool(user.get("isAgent", False)),
        reactions=reaction_counts(item.get("reactions")),
    )


def _comment(post_id: str, data: dict[str, Any]) -> GalleryComment:
    user = data.get("user") or {}
    return GalleryComment(
        id=_id(data["id"]),
        post_id=_id(data.get("postId", post_id)),
        content=clip(data["content"], MAX_COMMENT),
        user_id=clip(user.get("id", ""), MAX_ID),
        username=clip(user.get("username", ""), MAX_USERNAME),
        created_at=_time(data["createdAt"]),
        user_is_agent=bool(user.get("isAgent", False)),
        parent_id=None if data.get("parentId") is None else _id(data["parentId"]),
    )


def _items(data: dict[str, Any], field: str, limit: int) -> list[dict[str, Any]]:
    """At most ``limit`` entries of the list ``field`` (the page asked for no more)."""
    items = data.get(field, [])
    if not isinstance(items, list):
        raise TypeError(f"{field} is not a list")
    return items[: max(limit, 0)]


def json_of(content: bytes, what: str) -> object:
    """An answer's JSON (``bounded.loads``, the shared policy); ValueError when it is not
    JSON, MalformedAnswer when it is JSON no API answer can be (nested past
    ``bounded.MAX_DEPTH``, a number that is not finite)."""
    try:
        return bounded.loads(content)
    except bounded.AnswerTooDeep:
        raise MalformedAnswer(f"gallery {what}: the answer nests too deep") from None
    except bounded.AnswerNotFinite as error:
        raise MalformedAnswer(f"gallery {what}: {error}") from None
    except bounded.AnswerNotJson as error:
        raise ValueError(str(error)) from None


# An error code of the API (docs/gallery-api.md): a short identifier, as long as a hold's
# kind may be. Anything else is the gallery's text, not a code: no wait is built on it.
_CODE = re.compile(r"[A-Z][A-Z0-9_]{0,31}")


def error_code(value: object) -> str | None:
    """The error's ``code`` when it is one the API could send, else None."""
    return value if isinstance(value, str) and _CODE.fullmatch(value) else None


def longest_wait(code: str | None, pause: timedelta) -> timedelta:
    """The longest wait ``code`` can mean: a monthly budget a month, a daily one (or one
    not named) a day, the platform's pause the probe interval."""
    if code == "FLEET_PAUSED":
        return pause
    return MONTH if code is not None and "MONTHLY" in code else DAY


def bounded_wait(
    until: datetime | None, *, code: str | None, now: datetime, pause: timedelta
) -> tuple[datetime | None, str | None]:
    """``until`` held to what ``code`` can mean, and the problem when it was further."""
    if until is None:
        return None, None
    longest = longest_wait(code, pause)
    if until - now <= longest:
        return until, None
    held = now + longest
    if until - now <= max(longest, DAY):
        return held, None  # a pause's wait a little past the next probe: not a problem
    said = until.isoformat()[:40]
    return held, (
        f"the gallery said wait until {said}, longer than {code or 'a rate limit'} can mean; "
        f"waiting until {held:%Y-%m-%d %H:%M:%S} UTC instead"
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


class Answered(Protocol):
    """What ``HttpGallery`` reads of an answer: an ``httpx.Response`` (httpx's transport),
    or the wire's own ``Answer``."""

    @property
    def status_code(self) -> int: ...

    @property
    def reason_phrase(self) -> str: ...

    @property
    def headers(self) -> httpx.Headers: ...

    @property
    def content(self) -> bytes: ...

    @property
    def is_success(self) -> bool: ...


def _retry_after(response: Answered, now: datetime | None = None) -> datetime | None:
    """``Retry-After`` (seconds, or an HTTP date) as a time; None when absent or garbled;
    MalformedAnswer for a number of seconds too large to be a time."""
    try:
        return retry_after(response.headers.get("retry-after"), now or utcnow())
    except ValueError as error:
        raise MalformedAnswer(str(error)) from None


def gallery_body(
    chunks: Iterable[bytes], *, cap: int, encoding: str | None, length: str | None
) -> bytes:
    """A gallery answer's body under the shared policy (``bounded.read_body``): at most
    ``cap`` bytes, no content encoding (none is asked for); a refusal is MalformedAnswer
    naming the setting."""
    try:
        return bounded.read_body(chunks, cap=cap, encoding=encoding, length=length, inflate=False)
    except bounded.AnswerEncoding as error:
        raise MalformedAnswer(f"the gallery: {error}") from None
    except bounded.AnswerTooLarge as error:
        raise TooLargeAnswer(f"the gallery: {error}; FLEET_GALLERY__MAX_ANSWER_BYTES") from None
    except bounded.AnswerStalled as error:  # the client maps httpx's errors (a time-out)
        raise httpx.ReadTimeout(str(error)) from error
    except bounded.AnswerCut as error:
        raise httpx.ReadError(str(error)) from error

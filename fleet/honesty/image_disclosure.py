"""When a platform does not keep an image's provenance marks, the post says it in words.

Takahē stores an uploaded PNG as WebP: the XMP and the C2PA manifest Fleet signed are
gone, and nothing machine-readable says the image is AI-generated. The EU AI Act asks
for a disclosure all the same, so the post carries one a person reads: the alt text
opens with "AI-generated image" and the caption ends with a line saying so.

The adapter's part (``fleet.gallery.mastodon``), per image it uploads:

1. read back what the platform stored (the media's URL fetched within the bounded
   policy, or nothing when it cannot be read), and call ``marks_survived`` with those
   bytes, or build ``MarksSeen`` itself when the platform says it plainly;
2. call ``disclosed`` with ``seen.kept`` and the post's alt text and caption, and post
   what it returns;
3. record ``seen`` and whether text was added (``RecordsImageMarks.record``: the Fleet's
   ``image_marks``), which ``fleet audit`` and ``fleet status`` count.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from fleet.gallery.provenance import Expected, NoProvenance, verify

ALT_PREFIX = "AI-generated image"
CAPTION_LINE = "Image: AI-generated (made by an automated account)."
# The Mastodon API's defaults: 1,500 characters of alt text, 500 of a status.
ALT_LIMIT = 1500
CAPTION_LIMIT = 500


@dataclass(frozen=True, slots=True)
class MarksSeen:
    """What the platform kept of one image's marks: ``kept`` with a ``reason`` (the
    verifier's, or why the bytes were not read)."""

    kept: bool
    reason: str


@dataclass(frozen=True, slots=True)
class DisclosedText:
    """The post's alt text and caption, and whether the text disclosure was added."""

    alt_text: str
    caption: str
    added: bool


class RecordsImageMarks(Protocol):
    """Where an adapter records each uploaded image's marks (``Fleet.image_marks``)."""

    def record(
        self,
        *,
        platform: str,
        agent: str,
        media_id: str,
        kept: bool,
        reason: str,
        disclosed: bool,
    ) -> None: ...


def marks_survived(
    stored: bytes | None, *, agent: str, signer_serial: str | None = None, max_pixels: int
) -> MarksSeen:
    """Whether ``stored`` (the platform's copy of the image, fetched within bounds; None
    when it could not be read) still carries both marks made for ``agent``, as
    ``fleet.gallery.provenance.verify`` judges (signed by ``signer_serial`` when given).
    An unread copy counts as not kept: the text disclosure is then added."""
    if stored is None:
        return MarksSeen(False, "the platform's copy could not be read")
    try:
        verdict = verify(
            stored, Expected(agent=agent, signer_serial=signer_serial), max_pixels=max_pixels
        )
    except NoProvenance as lost:
        return MarksSeen(False, str(lost)[:300])
    return MarksSeen(True, f"kept: {verdict.source_type}, signed by {verdict.signer}"[:300])


def disclosed(
    kept: bool,
    *,
    alt_text: str,
    caption: str,
    alt_limit: int = ALT_LIMIT,
    caption_limit: int = CAPTION_LIMIT,
) -> DisclosedText:
    """The alt text and caption to post. Marks kept: as given (within the limits).
    Marks lost: the alt text opens with ``ALT_PREFIX`` and the caption ends with
    ``CAPTION_LINE``, the caption's own text cut (at a word, with an ellipsis) so that
    the line always fits ``caption_limit``; both never longer than their limits. Pure."""
    alt = " ".join(alt_text.split())
    text = caption.strip()
    if kept:
        return DisclosedText(_cut(alt, alt_limit), _cut(text, caption_limit), added=False)
    alt = f"{ALT_PREFIX}: {alt}" if alt else f"{ALT_PREFIX}."
    room = caption_limit - len(CAPTION_LINE) - 2
    body = _cut(text, max(room, 0))
    return DisclosedText(
        _cut(alt, alt_limit),
        (f"{body}\n\n{CAPTION_LINE}" if body else CAPTION_LINE)[:caption_limit],
        added=True,
    )


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    if limit <= 1:
        return text[:limit]
    head = text[: limit - 1]
    space = head.rfind(" ")
    return (head[:space] if space > limit // 2 else head).rstrip() + "…"

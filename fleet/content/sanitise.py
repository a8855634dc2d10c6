"""Text from the LLM (or any writer) made safe to publish: invisible characters, tags,
links (bare domains of any real top-level domain and spelled-out ones too, as the guard
finds them: ``fleet.content.domains``), e-mail addresses and mentions of anyone but the
allowed go; and a rough count of tokens."""

from __future__ import annotations

import html
import math
import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

from fleet.content.domains import strip_domains

MAX_HASHTAGS = 2

_INVISIBLE = re.compile(
    "[\u0000-\u0008\u000b-\u001f\u007f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]"
)
_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
# The patterns below start once per word (or run of scheme letters) and give nothing
# back, so a long hostile text costs in proportion to its length, not to its square.
_EMAIL = re.compile(r"(?<!\S)\S*?@[\w-]++(?:\.[\w-]++)++")
_URL = re.compile(r"(?i)(?:(?<![a-z0-9+.-])[a-z0-9+.-]++://|\bwww\.)[^\s<>\"]*[^\s<>\".,;:!?)\]]")
_MENTION = re.compile(r"(?<![\w.@])@([A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?)")
_HASHTAG = re.compile(r"(?<![\w#])#\w+")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,.!?;:)])")


def _cap(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit * 0.6:
        cut = cut[:space]
    return cut.rstrip(" ,;:-\u2013\u2014") + "…"


def without_links(text: str) -> str:
    """``text`` without e-mail addresses, URLs and domains (bare or spelled out)."""
    return strip_domains(_URL.sub("", _EMAIL.sub("", text)))


def sanitise(text: str, *, limit: int, allowed_mentions: Iterable[str] = ()) -> str:
    """Text fit to publish: no HTML, links, e-mail addresses, other mentions; its lines
    kept (at most one blank line between two), capped."""
    lines = [" ".join(line.split()) for line in _cleaned(text, allowed_mentions).splitlines()]
    return _finished(re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip(), limit)


def sanitise_line(text: str, *, limit: int, allowed_mentions: Iterable[str] = ()) -> str:
    """Text fit to publish as one line (a title, an image prompt, a thought): as
    ``sanitise``, its white space made single spaces."""
    return _finished(" ".join(_cleaned(text, allowed_mentions).split()), limit)


def _cleaned(text: str, allowed_mentions: Iterable[str]) -> str:
    """``text`` without HTML, invisible characters, links, other mentions, hashtags past
    the few kept, and markdown's leftovers."""
    text = unicodedata.normalize("NFC", text)
    text = html.unescape(_TAG.sub(" ", text))
    text = _TAG.sub(" ", text)  # tags that were escaped before unescaping
    text = _INVISIBLE.sub("", text)
    text = without_links(text)
    # Most texts may mention nobody (a post, a title): no set of names to build.
    allowed = {name.lower().lstrip("@") for name in allowed_mentions} if allowed_mentions else ()
    text = _MENTION.sub(lambda m: m.group(0) if m.group(1).lower() in allowed else "", text)
    kept = 0

    def _hashtag(match: re.Match[str]) -> str:
        nonlocal kept
        kept += 1
        return match.group(0) if kept <= MAX_HASHTAGS else ""

    text = _HASHTAG.sub(_hashtag, text)
    return text.replace("**", "").replace("()", "").replace("[]", "")


def _finished(text: str, limit: int) -> str:
    """Laid-out text without a space before punctuation or wrapping quotes, capped."""
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", text).strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'“”":
        text = text[1:-1].strip()
    return _cap(text, limit)


_TOKEN = re.compile(r"[A-Za-z]+|\d+|\S")


@lru_cache(maxsize=1024)  # system prompts recur on every call
def estimate_tokens(text: str) -> int:
    """Tokens of a text, approximated offline: a word per 4 letters, a number per 3 digits,
    every other visible character one token (close to Claude's tokenizer on English)."""
    total = 0
    for piece in _TOKEN.findall(text):
        if piece.isalpha() and piece.isascii():
            total += math.ceil(len(piece) / 4)
        elif piece.isdigit():
            total += math.ceil(len(piece) / 3)
        else:
            total += 1
    return total

"""What a Mastodon-client-API server says, read into plain, bounded text.

A status's ``content``, an account's ``note`` and its profile fields' values are HTML
written by people (and rewritten by their server): they are turned into text here, with
the standard library's HTML parser, before anything else reads them. Tags are dropped,
``<br>`` and paragraph ends become line breaks, character references are decoded, the
text of ``<script>``/``<style>`` is dropped whole, and the input is clipped before it is
parsed, so a hostile page costs a bounded amount of work. Links are kept as their text,
never followed.

The fediverse's opt-out convention lives here too: ``#nobot`` or ``#noai`` in a person's
note or profile fields means no engagement at all by automated accounts.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

# Read at most this much HTML of one field (a status of 500 characters is ~2-5 kB of HTML).
MAX_HTML = 50_000
_DROPPED = frozenset({"script", "style", "template", "noscript"})
_BREAKS = frozenset({"br"})
_BLOCKS = frozenset({"p", "div", "li", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6"})
_SPACES = re.compile(r"[ \t\r\f\v]+")
_GAPS = re.compile(r"\n{3,}")
# #nobot / #noai as a hashtag (the word alone, any case), the convention of the fediverse.
_OPT_OUT = re.compile(r"(?<![\w#])#no(?:bot|ai)\b", re.IGNORECASE)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._dropping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROPPED:
            self._dropping += 1
        elif tag in _BREAKS:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BREAKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROPPED:
            self._dropping = max(0, self._dropping - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self._dropping:
            self.parts.append(data)


def text_of(html: object, limit: int) -> str:
    """The plain text of an HTML field, at most ``limit`` characters (``""`` for a field
    that is not a string)."""
    if not isinstance(html, str) or not html:
        return ""
    parser = _Text()
    try:
        parser.feed(html[:MAX_HTML])
        parser.close()
    except (AssertionError, ValueError):  # a malformed declaration: keep what was read
        pass
    text = "".join(parser.parts)
    # No control characters past here (but line breaks): they are no one's words.
    text = "".join(ch for ch in text if ch == "\n" or ch == "\t" or ord(ch) >= 32)
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    text = _GAPS.sub("\n\n", "\n".join(lines)).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def same_words(a: str, b: str) -> bool:
    """Whether two texts say the same words (spacing and line breaks aside): how a text
    Fleet sent is recognised in the HTML the server made of it."""
    return " ".join(a.split()) == " ".join(b.split())


def opted_out(account: dict[str, Any]) -> bool:
    """Whether an account's note or profile fields carry ``#nobot`` or ``#noai``."""
    if _OPT_OUT.search(text_of(account.get("note"), 5000)):
        return True
    fields = account.get("fields")
    if isinstance(fields, list):
        for entry in fields[:16]:
            if isinstance(entry, dict):
                said = f"{text_of(entry.get('name'), 255)} {text_of(entry.get('value'), 2000)}"
                if _OPT_OUT.search(said):
                    return True
    return False

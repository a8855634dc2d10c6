"""What the guard refuses besides its own rules: a way to reach someone off the gallery
(a link spelled past the link check, a handle that is a domain, a phone number), and the
leftovers of a text whose link was cut out ("Claim your prize at and DM").

Pure functions over the text as the guard reads it (``guard.readable``); each returns
the reason to refuse, or None. Kept apart from ``guard.ContentGuard.check``, which calls
``contact_problem`` once.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable

from fleet.content.domains import find_domain

# Full stops of other scripts that a reader (and a browser's address bar) takes for a
# dot: the ideographic, the half-width ideographic, the small and the one-dot leader.
_DOTS = str.maketrans(dict.fromkeys("\u3002\uff61\ufe52\u2024\ufe12", "."))
# "evil. com", "win . xyz": a label, a dot with spaces, then a top-level domain that is
# no English word (so "that's it. me too" stays sayable).
_SPAM_TLDS = "com|org|xyz|info|biz|ru|cn|tk|ml|ga|cf|gq|icu|io|ly|gg|cc|su|pw"
_SPACED_DOT = re.compile(
    rf"(?<![\w.-])(?P<label>[A-Za-z0-9][A-Za-z0-9-]{{0,62}})\s*\.\s+(?P<tld>{_SPAM_TLDS})(?![\w'\u2019-])"
)
# A phone number: +, then 8 to 15 digits; or 10 to 15 digits in groups ("415-555-0134",
# "(415) 555 0134"). A year range (1990-2020) or a date has fewer digits to a run.
_PHONE = re.compile(r"(?<![\w+])(?:\+\s?)?\(?\d[\d\s().-]{5,22}\d(?!\w)")
# A preposition left with nothing to point at: what remains when a link or a handle was
# cut out of "Claim your prize at evil.com and DM".
_LEFTOVER = re.compile(r"(?i)\b(?:at|via|visit)\s*(?:(?:and|or)\b|[,;:)\]])|\(\s*\)|\[\s*\]")


def _phone(text: str) -> str | None:
    for found in _PHONE.finditer(text):
        run = found.group(0)
        digits = sum(ch.isdigit() for ch in run)
        groups = len(re.findall(r"\d+", run))
        if run.lstrip().startswith("+") and 8 <= digits <= 15:
            return run.strip()
        if 10 <= digits <= 15 and groups >= 2:
            return run.strip()
    return None


def link_problem(seen: str) -> str | None:
    """A link the link check misses: an ideographic full stop (``evil。com``) or a dot
    set apart by spaces (``evil. com``)."""
    dotted = seen.translate(_DOTS)
    if dotted != seen:
        domain = find_domain(dotted)
        if domain is not None:
            return f"contains a link ({domain!r})"
    spaced = _SPACED_DOT.search(seen)
    if spaced is not None:
        return f"contains a link ({spaced.group('label')}.{spaced.group('tld')!s})"
    return None


def handle_problem(seen: str, mentioned: Iterable[str]) -> str | None:
    """A handle mentioned (even an allowed one: a commenter named ``win.free-prizes.xyz``)
    that reads as a domain: a link by another name."""
    for name in mentioned:
        domain = find_domain(name.translate(_DOTS))
        if domain is not None and f"@{name}".lower() in seen.lower():
            return f"mentions @{name}, a handle that reads as a link"
    return None


def contact_problem(seen: str, mentioned: Collection[str]) -> str | None:
    """Why ``seen`` (the text as the guard reads it) may not be published: a link past
    the link check, a handle that is a domain, a phone number, or the leftovers of a
    cut link; None when it has none. ``mentioned``: the handles the text mentions."""
    problem = link_problem(seen) or (handle_problem(seen, mentioned) if mentioned else None)
    if problem is not None:
        return problem
    phone = _phone(seen)
    if phone is not None:
        return f"contains a phone number ({phone[:20]!r})"
    left = _LEFTOVER.search(seen)
    if left is not None:
        return f"reads as a text with something cut out ({left.group(0).strip()!r})"
    return None

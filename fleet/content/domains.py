"""Links written without a scheme, as the guard refuses them and ``sanitise`` strips them:
a bare domain ("prize.icu"), one whose dot is bracketed ("evil[.]com", "evil (dot) com"),
spelled out ("evil dot com") or a sign for a dot ("evil•com"); and, for the guard, one
written letter by letter ("e v i l. c o m", "e-v-i-l.c-o-m").

What a top-level domain is comes from the public suffix list (ICANN's part), shipped in
the ``publicsuffixlist`` package: nothing is fetched, and no list of our own goes stale.
The patterns cannot backtrack (possessive runs, one start per run of name characters), so
their cost grows with the text, not with its square.
"""

from __future__ import annotations

import functools
import re

from publicsuffixlist import PublicSuffixList

# File extensions people write that are country codes too: node.js, notes.md, plot.py.
_NOT_TLDS = frozenset(
    {"js", "ts", "py", "rb", "md", "sh", "db", "go", "rs", "cs", "mm", "pm", "am"}
)
# Signs written for a dot to slip past a filter: a bullet, a middle dot, a katakana middle
# dot, an ideographic full stop ("evil•com").
_DOT_LIKE = "•·∙‧・。"
# A dot as such, a sign for one, or one bracketed: "[.]", "(dot)", "{.}", "<dot>".
_DOT = rf"(?:[.{_DOT_LIKE}]|\s*+[\[({{<]\s*+(?:\.|dot)\s*+[\])}}>]\s*+)"
_BRACKETED_DOT = re.compile(rf"(?i)\s*[\[({{<]\s*(?:\.|dot)\s*[\])}}>]\s*|[{_DOT_LIKE}]")
# Single letters or digits apart by spaces, hyphens or dots: "e v i l. c o m", "e-v-i-l".
_SPACED = re.compile(
    rf"(?i)(?<![^\W_])[a-z0-9](?:(?:\s++|\s*+[-.{_DOT_LIKE}]\s*+)[a-z0-9](?![^\W_])){{2,}}"
)
_SPACED_APART = re.compile(rf"\s+|-|[{_DOT_LIKE}]")
# A run of names joined by dots; where it may start, no name character comes before it,
# so a run is read once. Its path, if any, goes with it when it is stripped.
_RUN = re.compile(
    rf"(?i)(?<![\w@.{_DOT_LIKE}\-\])}}>])(?P<host>[a-z0-9-]++(?:{_DOT}[a-z0-9-]++)++)(?P<path>/[^\s<>\"]*+)?"
)
_LABEL_SPLIT = re.compile(rf"(?i){_DOT}")
# "evil dot com": the dot spelled out as a word. Only before the top-level domains such
# links use, so that "a polka dot art print" or "dot work" stays art; each is checked
# against the public suffix list too.
_SPOKEN_TLDS = frozenset(
    [
        "com",
        "net",
        "org",
        "info",
        "biz",
        "io",
        "ai",
        "co",
        "xyz",
        "ru",
        "cn",
        "me",
        "ly",
        "app",
        "dev",
        "zip",
        "lol",
        "icu",
        "top",
        "site",
        "online",
        "shop",
        "club",
        "link",
        "click",
        "gg",
        "tv",
        "cc",
        "to",
        "us",
        "uk",
        "de",
        "fr",
    ]
)
_SPOKEN = re.compile(r"(?i)(?<![\w-])[a-z0-9-]++\s++dot\s++(?P<tld>[a-z]{2,24}+)(?![\w-])")


@functools.cache
def _suffixes() -> PublicSuffixList:
    """The public suffix list, read once per process from the package's own copy."""
    return PublicSuffixList(only_icann=True)


def is_top_level_domain(label: str) -> bool:
    """Whether ``label`` is a top-level domain of the public suffix list (file extensions
    such as ``js`` or ``md`` excepted)."""
    tld = label.lower()
    if tld in _NOT_TLDS or not tld.isascii() or not (tld.isalpha() or tld.startswith("xn--")):
        return False
    return _suffixes().publicsuffix(tld, accept_unknown=False) is not None


def _spoken(match: re.Match[str]) -> bool:
    tld = match.group("tld").lower()
    return tld in _SPOKEN_TLDS and is_top_level_domain(tld)


def _domain_end(host: str) -> int | None:
    """Where the first domain in a run of dotted names ends (its top-level domain's
    last character, exclusive), or None when no name after the first is a top-level
    domain ("version 2.0", "e.g")."""
    labels = _LABEL_SPLIT.split(host)
    if len(labels) < 2:
        return None
    position = 0
    for number, separator in enumerate(_LABEL_SPLIT.finditer(host)):
        position = separator.end()
        label = labels[number + 1]
        if is_top_level_domain(label):
            return position + len(label)
    return None


def find_domain(text: str) -> str | None:
    """The first domain written without a scheme in ``text``, bracketed dots made plain
    ("evil.com" for "evil[.]com"), or the spelled-out form as written; None if none."""
    for spoken in _SPOKEN.finditer(text):
        if _spoken(spoken):
            return spoken.group(0)
    for run in _RUN.finditer(text):
        host = run.group("host")
        end = _domain_end(host)
        if end is not None:
            return _BRACKETED_DOT.sub(".", host[:end])
    for spaced in _SPACED.finditer(text):
        joined = _SPACED_APART.sub(
            lambda sign: "." if sign.group(0) in _DOT_LIKE else "", spaced.group(0)
        )
        for run in _RUN.finditer(joined):
            end = _domain_end(run.group("host"))
            if end is not None:
                return run.group("host")[:end]
    return None


def strip_domains(text: str) -> str:
    """``text`` without the domains ``find_domain`` finds (and their paths)."""
    text = _SPOKEN.sub(lambda m: "" if _spoken(m) else m.group(0), text)
    return _RUN.sub(lambda m: "" if _domain_end(m.group("host")) is not None else m.group(0), text)

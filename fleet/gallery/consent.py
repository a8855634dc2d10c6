"""Reading people's consent and agents' disclosure from the gallery's answers (docs/gallery-api.md).

Bounded like every answer: at most ``MAX_PEOPLE`` people in all, at most ``MAX_BLOCKS``
blocked agents each, handles of at most 64 characters, at most ``MAX_PAGES`` pages read
in at most ``MAX_READ_SECONDS``. An entry that names a person but says something
unreadable about them (or a username longer than a handle may be) makes that person
unreadable (never engaged); an entry that names no one, a page that repeats a person
already read (a gallery that ignores the paging), or a list past a bound fails the whole
read (no person is engaged until a read succeeds: ``fleet.consent.book``).

The list is paged by a stable key, the last username read (``after``, docs/gallery-api.md),
with ``offset`` beside it for a gallery that only pages by offset: a person who leaves the
list between two pages then moves nobody else past a page boundary unread.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from fleet.consent.core import INTERACTIONS, Interactions, PersonConsent
from fleet.gallery.answers import MAX_USERNAME, MalformedAnswer, _parse_time, clip

MAX_PEOPLE = 100_000
MAX_BLOCKS = 1_000
MAX_HANDLE = MAX_USERNAME
PAGE = 500
# The most pages one read takes (every person once, and one page to find the end), and
# the longest it may take: the read holds the consent book's lock, and every target
# choice, ``fleet status`` and ``fleet audit`` wait on it.
MAX_PAGES = MAX_PEOPLE // PAGE + 1
MAX_READ_SECONDS = 60.0
# The longest username the list may name (a longer one is a failed read): the cursor of
# the next page is the last one, sent back in the query.
MAX_NAMED = 256

# The profile line of an automated account, as every agent's profile carries it.
LABEL = "Automated account"


@dataclass(frozen=True, slots=True)
class ConsentRead:
    """One read of the gallery's consent list: who said what, and who could not be read.
    ``offered`` is False when the gallery has no consent calls (404 on the list)."""

    people: dict[str, PersonConsent]
    unreadable: frozenset[str]
    offered: bool = True
    # When each person last changed their say (``updatedAt``), when the gallery tells.
    said_at: dict[str, datetime] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Disclosure:
    """An account's disclosure as the gallery shows it (None: it shows none)."""

    automated: bool
    label: str
    operator_name: str
    operator_url: str


@runtime_checkable
class ReadsConsent(Protocol):
    """A gallery that can say what people chose about agents (and what an account shows)."""

    def agent_consent(self) -> ConsentRead: ...

    def disclosure_of(self, handle: str) -> Disclosure | None: ...

    def sync_disclosure(self, handle: str) -> None: ...


def _handle(value: object) -> str | None:
    if isinstance(value, str) and 0 < len(value) <= MAX_HANDLE:
        return value
    return None


def named(entry: object) -> str:
    """The username an entry of the list names, as the gallery spells it.

    Raises MalformedAnswer when the entry names no one (or a name past ``MAX_NAMED``)."""
    if not isinstance(entry, dict):
        raise MalformedAnswer("the gallery's consent list holds an entry that is not an object")
    name = entry.get("username")
    if not isinstance(name, str) or not 0 < len(name) <= MAX_NAMED:
        raise MalformedAnswer("the gallery's consent list holds an entry without a username")
    return name


def person_of(entry: object) -> tuple[str, PersonConsent | None]:
    """(handle, consent) of one entry of the list; consent None when it cannot be read.
    A username longer than a handle makes the person unreadable under the name a post of
    theirs shows (clipped as ``fleet.gallery.answers`` clips it): never engaged.

    Raises MalformedAnswer when the entry names no one."""
    name = named(entry)
    assert isinstance(entry, dict)
    handle = _handle(name)
    if handle is None:
        return clip(name, MAX_HANDLE), None
    said = entry.get("agentInteractions", "all")
    blocked = entry.get("blockedAgents", [])
    if said not in INTERACTIONS or not isinstance(blocked, list) or len(blocked) > MAX_BLOCKS:
        return handle, None
    handles = [_handle(b) for b in blocked]
    if any(h is None for h in handles):
        return handle, None
    interactions: Interactions = said
    return handle, PersonConsent(interactions, frozenset(h for h in handles if h))


def read_page(
    data: dict[str, Any],
    people: dict[str, PersonConsent],
    unreadable: set[str],
    said_at: dict[str, datetime] | None = None,
    seen: set[str] | None = None,
) -> int:
    """Add one page of the list to ``people`` / ``unreadable`` (and when each said it to
    ``said_at``); how many entries it held. ``seen``: the usernames read so far (this
    page's added); a page naming one of them again fails the read, as a gallery that
    answers the same page whatever is asked would loop for ever."""
    entries = data.get("people")
    if not isinstance(entries, list):
        raise MalformedAnswer("the gallery's consent list has no list of people")
    if len(entries) > PAGE:
        raise MalformedAnswer(f"the gallery's consent page holds more than {PAGE} people")
    for entry in entries:
        if seen is not None:
            name = named(entry)
            if name in seen:
                raise MalformedAnswer(
                    "the gallery's consent list names a person twice (its paging repeats)"
                )
            seen.add(name)
        handle, consent = person_of(entry)
        at = _parse_time(entry.get("updatedAt")) if said_at is not None else None
        if at is not None and said_at is not None:
            said_at[handle] = at
        if consent is None:
            unreadable.add(handle)
            people.pop(handle, None)
        elif handle not in unreadable:
            people[handle] = consent
        if len(people) + len(unreadable) > MAX_PEOPLE:
            raise MalformedAnswer(f"the gallery's consent list holds more than {MAX_PEOPLE:,}")
    return len(entries)


def disclosure_of(data: dict[str, Any]) -> Disclosure | None:
    """The disclosure of a user's answer (``disclosure``), None when absent or unreadable."""
    found = data.get("disclosure")
    if not isinstance(found, dict):
        return None
    name, url, label = found.get("operatorName"), found.get("operatorUrl"), found.get("label")
    if not (isinstance(name, str) and isinstance(url, str) and isinstance(label, str)):
        return None
    return Disclosure(found.get("automated") is True, label[:200], name[:200], url[:2000])

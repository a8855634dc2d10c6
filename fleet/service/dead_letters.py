"""Use cases on dead letters: list, inspect, replay, purge."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta

from fleet import activities
from fleet.activities import DeadLetterView
from fleet.core.kinds import Action, ActionKey
from fleet.errors import InputError
from fleet.service.root import Fleet


def find(fleet: Fleet, *, limit: int = 50) -> list[DeadLetterView]:
    """The dead letters not replayed yet, the newest first."""
    return activities.list_dead_letters(fleet.sessions, include_replayed=False, limit=limit)


def find_all(fleet: Fleet, *, limit: int = 50) -> list[DeadLetterView]:
    """The dead letters, replayed ones too, the newest first."""
    return activities.list_dead_letters(fleet.sessions, include_replayed=True, limit=limit)


def get(fleet: Fleet, letter_id: int) -> DeadLetterView:
    """One dead letter, or InputError."""
    return activities.get_dead_letter(fleet.sessions, letter_id)


def replay(
    fleet: Fleet, letter_ids: Sequence[int], send: Callable[[ActionKey[Action]], None]
) -> list[tuple[int, str, str]]:
    """Send the dead letters' actions again under their keys; (letter, task, key) each.

    Every id is checked before any is replayed: a typo replays nothing.
    """
    for letter_id in letter_ids:
        try:
            letter = activities.get_dead_letter(fleet.sessions, letter_id)
        except InputError as error:
            raise InputError(f"{error}: none replayed") from error
        if letter.replayed_at is not None:
            raise InputError(f"dead letter {letter_id} was already replayed: none replayed")
    lease = timedelta(seconds=fleet.settings.tasks.lease_seconds)
    done: list[tuple[int, str, str]] = []
    for letter_id in letter_ids:
        task, arguments = activities.replay(
            fleet.sessions, letter_id, now=fleet.clock.now(), lease=lease
        )
        try:
            key = ActionKey.parse(arguments["key"])  # the letter keeps the key's text
        except ValueError as error:
            raise InputError(f"dead letter {letter_id}: {error}") from error
        send(key)
        done.append((letter_id, task, key.text))
    return done


def purge(fleet: Fleet, letter_ids: Sequence[int] | None) -> int:
    """Delete these dead letters (None: all of them); their activities stay dead."""
    return activities.purge(fleet.sessions, None if letter_ids is None else list(letter_ids))

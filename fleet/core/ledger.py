"""What an engagement in the ledger targeted: a post, a comment or a person. Pure.

The engagement ledger keeps, per agent, what it engaged with once per kind of action:
the target's kind and id, so that a comment's id is never read as a post's (the
holdout's check compares a held-out person's posts with posts, their comments with
comments, their account with people: ``fleet.activities.impact``).
"""

from __future__ import annotations

from typing import Literal

TargetKind = Literal["post", "comment", "person"]
TARGET_KINDS: tuple[TargetKind, ...] = ("post", "comment", "person")

# What each engaging action targets; an action not named here targets a post.
_TARGETS: dict[str, TargetKind] = {
    "like": "post",
    "comment": "post",
    "reply": "comment",  # the comment answered (its post is on the activity)
    "follow": "person",
    "mention": "person",
}


def target_kind(action: str) -> TargetKind:
    """The kind of target an engagement of ``action`` records."""
    return _TARGETS.get(action, "post")

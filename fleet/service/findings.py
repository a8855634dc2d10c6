"""Reconciliation's findings: the activity ledger against the gallery, compared purely.

Pure comparisons take what the ledger says (``Entry``) and what the gallery shows (its
posts and comments, read through the Gallery port) and return ``Discrepancy``s; a thin
service reads both sides over a window and, when asked, repairs:

    finding         what it means                                   repair (--fix)
    unrecorded      a post or comment on the gallery whose          mark it succeeded, with the
                    activity is dead or skipped (an answer lost,    found id (activities.recover)
                    the retries ran out)
    orphan          a post or comment by an agent that no           none: reported
                    activity explains
    missing         a succeeded activity whose post or comment      mark it dead with a dead letter
                    the gallery lacks                               "missing on the gallery"
    stale           a pending activity past its lease               re-send, as the lease sweeper
    like_shortfall  a post with fewer likes than the ledger's       none: the API does not say who
                    succeeded likes on it                           liked a post
    like_excess     a post with more likes than the fleet ever      none: people's likes, or a like
                    recorded on it (its engagement ledger)          whose answer was lost (the gallery
                                                                    cannot say which)

A pending activity whose effect is already on the gallery is no finding: its own retry
looks for the effect before making it. A dead letter made here can be replayed like any
other; the replay keeps the key, so a gallery that remembers keys may answer as before.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from fleet.activities import Entry
from fleet.core.kinds import making
from fleet.core.statuses import ActivityStatus
from fleet.gallery.port import GalleryComment, GalleryPost

Kind = Literal["unrecorded", "orphan", "missing", "stale", "like_shortfall", "like_excess"]
UNFINISHED = (ActivityStatus.DEAD.value, ActivityStatus.SKIPPED.value)
PAGE = 100
# Activities this much older than the window are read too: an effect made inside the
# window may belong to an activity decided (and retried) a little before it.
MARGIN = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Discrepancy:
    """One difference between the ledger and the gallery."""

    kind: Kind
    action: str
    detail: str
    activity_id: int | None = None
    key: str | None = None
    handle: str | None = None
    post_id: str | None = None
    effect_id: str | None = None  # the gallery's id of the post or comment found

    @property
    def fixable(self) -> bool:
        return self.kind in ("unrecorded", "missing", "stale")

    @property
    def certain(self) -> bool:
        """A difference the fleet must answer for; a like_excess may be a person's like,
        which the gallery cannot tell apart, so it is reported but pages no one."""
        return self.kind != "like_excess"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Reconciliation:
    """What a reconciliation read, found and repaired."""

    since: datetime
    findings: list[Discrepancy]
    scanned: dict[str, int]
    fixed: list[Discrepancy] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.findings)

    @property
    def remaining(self) -> list[Discrepancy]:
        """Findings not repaired (all of them before ``repair``)."""
        done = {id(f) for f in self.fixed}
        return [f for f in self.findings if id(f) not in done]

    @property
    def unresolved(self) -> list[Discrepancy]:
        """The remaining findings the fleet must answer for (``fleet reconcile`` exits 1)."""
        return [f for f in self.remaining if f.certain]

    def to_json(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat(),
            "scanned": self.scanned,
            "counts": dict(Counter(f.kind for f in self.findings)),
            "findings": [f.to_json() for f in self.findings],
            "fixed": [f.to_json() for f in self.fixed],
            "remaining": len(self.remaining),
        }


# The pure part: comparisons of what each side says.


def compare_posts(
    entries: Sequence[Entry], posts: Iterable[GalleryPost], *, agents: set[str], since: datetime
) -> list[Discrepancy]:
    """Posts on the gallery the ledger lacks, and succeeded posts the gallery lacks.

    Only gallery posts made since ``since`` by ``agents`` are weighed; a post is matched
    to an unfinished activity by author, image and title (the image is its own per run).
    """
    ledger = [e for e in entries if e.action in making("post")]
    recorded = {e.made for e in ledger if e.status == ActivityStatus.SUCCEEDED and e.made}
    unfinished = {
        (e.handle, e.image_url, e.title): e
        for e in ledger
        if e.status != ActivityStatus.SUCCEEDED and e.image_url is not None
    }
    found: list[Discrepancy] = []
    seen: set[str] = set()
    for post in posts:
        seen.add(post.id)
        if post.created_at < since or post.username not in agents or post.id in recorded:
            continue
        entry = unfinished.get((post.username, post.image_url, post.title))
        if entry is None:
            found.append(
                Discrepancy(
                    "orphan",
                    "post",
                    "a post by an agent that no activity explains",
                    handle=post.username,
                    post_id=post.id,
                    effect_id=post.id,
                )
            )
        elif entry.status in UNFINISHED:
            found.append(_unrecorded(entry, post.id, post.id))
    for entry in ledger:
        succeeded = entry.status == ActivityStatus.SUCCEEDED and entry.created_at >= since
        if succeeded and entry.made and entry.made not in seen:
            found.append(_missing(entry, entry.made, entry.made))
    return found


def compare_comments(
    entries: Sequence[Entry],
    comments: dict[str, list[GalleryComment]],
    *,
    agents: set[str],
    since: datetime,
) -> list[Discrepancy]:
    """Comments the ledger lacks, and succeeded comments missing from their post.

    ``comments`` holds every comment of each post read (none for a post that is gone).
    """
    ledger = [e for e in entries if e.action in making("comment")]
    recorded = {e.made for e in ledger if e.status == ActivityStatus.SUCCEEDED and e.made}
    unfinished = {
        (e.handle, e.target, e.text): e
        for e in ledger
        if e.status != ActivityStatus.SUCCEEDED and e.target is not None and e.text is not None
    }
    found: list[Discrepancy] = []
    for post_id, listed in comments.items():
        for comment in listed:
            if (
                comment.created_at < since
                or comment.username not in agents
                or comment.id in recorded
            ):
                continue
            entry = unfinished.get((comment.username, post_id, comment.content))
            if entry is None:
                found.append(
                    Discrepancy(
                        "orphan",
                        "comment",
                        "a comment by an agent that no activity explains",
                        handle=comment.username,
                        post_id=post_id,
                        effect_id=comment.id,
                    )
                )
            elif entry.status in UNFINISHED:
                found.append(_unrecorded(entry, post_id, comment.id))
    for entry in ledger:
        if entry.status != ActivityStatus.SUCCEEDED or not entry.made or entry.created_at < since:
            continue
        read = comments.get(entry.target or "")
        if read is not None and entry.made not in {c.id for c in read}:
            found.append(_missing(entry, entry.target, entry.made))
    return found


def compare_likes(entries: Sequence[Entry], posts: Iterable[GalleryPost]) -> list[Discrepancy]:
    """Posts showing fewer likes than the ledger's succeeded likes on them."""
    wanted = Counter(
        e.target
        for e in entries
        if e.action in making("like") and e.status == ActivityStatus.SUCCEEDED and e.target
    )
    return [
        Discrepancy(
            "like_shortfall",
            "like",
            f"the ledger has {wanted[post.id]} agent likes on this post, the gallery shows "
            f"{post.like_count}",
            post_id=post.id,
        )
        for post in posts
        if post.like_count < wanted[post.id]
    ]


def compare_like_excess(
    recorded: Mapping[str, int], posts: Iterable[GalleryPost]
) -> list[Discrepancy]:
    """Posts showing more likes than the fleet's engagement ledger holds on them, all
    time: a like made by an attempt whose answer was lost, or a person's. Only posts the
    ledger knows are compared (``recorded``), so a post no agent liked is no finding."""
    return [
        Discrepancy(
            "like_excess",
            "like",
            f"the gallery shows {post.like_count} likes, the fleet recorded "
            f"{recorded[post.id]}: {post.like_count - recorded[post.id]} more (a person's, "
            "or a like whose answer was lost)",
            post_id=post.id,
        )
        for post in posts
        if post.id in recorded and post.like_count > recorded[post.id]
    ]


def _unrecorded(entry: Entry, post_id: str | None, effect_id: str) -> Discrepancy:
    return Discrepancy(
        "unrecorded",
        entry.action,
        f"on the gallery, but the activity is {entry.status}",
        entry.activity_id,
        entry.key,
        entry.handle,
        post_id,
        effect_id,
    )


def _missing(entry: Entry, post_id: str | None, effect_id: str) -> Discrepancy:
    return Discrepancy(
        "missing",
        entry.action,
        f"succeeded in the ledger, missing on the gallery ({entry.action} {effect_id})",
        entry.activity_id,
        entry.key,
        entry.handle,
        post_id,
        effect_id,
    )


# The service: read both sides, compare, repair.

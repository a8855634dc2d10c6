"""``fleet reconcile`` as a use case: read the ledger and the gallery over a window,
compare them (``fleet.service.findings``), and repair what can be repaired."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from fleet import activities, agents
from fleet.core.kinds import KINDS, Action, ActionKey
from fleet.gallery.client import GalleryRefused
from fleet.gallery.consent import ReadsConsent
from fleet.gallery.port import Gallery, GalleryComment, GalleryPost
from fleet.honesty.audit_disclosure import sync_labels
from fleet.service.admin_gallery import gallery_of
from fleet.service.findings import (
    MARGIN,
    PAGE,
    Discrepancy,
    Reconciliation,
    compare_comments,
    compare_like_excess,
    compare_likes,
    compare_posts,
)
from fleet.service.root import Fleet


def reconcile(
    sessions: sessionmaker[Session],
    gallery: Gallery,
    *,
    now: datetime,
    window: timedelta = timedelta(hours=24),
) -> Reconciliation:
    """Compare the ledger of the last ``window`` with the gallery; writes nothing."""
    since = now - window
    entries = activities.ledger_entries(sessions, since - MARGIN)
    handles = set(agents.handles_with_accounts(sessions))
    readers = agents.live_handles_with_accounts(sessions, limit=5)
    stale = [
        Discrepancy(
            "stale",
            activity.action,
            f"pending, its lease ran out at {activity.lease_expires_at:%Y-%m-%d %H:%M:%S} UTC",
            activity.id,
            activity.idempotency_key,
            handle,
            activity.target_post_id,
        )
        for activity, handle in activities.stale_entries(sessions, now)
    ]
    posts: list[GalleryPost] = []
    comments: dict[str, list[GalleryComment]] = {}
    if readers:
        reader, posts = _read_feed(gallery, readers, since)
        targets = {p.id for p in posts if p.comment_count} | {
            e.target for e in entries if KINDS[Action(e.action)].makes == "comment" and e.target
        }
        comments = {post_id: _read_comments(gallery, reader, post_id) for post_id in targets}
        findings = compare_posts(entries, posts, agents=handles, since=since)
        findings = [f for f in findings if f.kind != "missing" or _gone(gallery, reader, f)]
        findings += compare_comments(entries, comments, agents=handles, since=since)
        findings += compare_likes(entries, posts)
        recorded = activities.recorded_likes(sessions, [p.id for p in posts])
        findings += compare_like_excess(recorded, posts)
    else:
        # No agent has a gallery account: nothing can be on the gallery, nor have succeeded.
        findings = []
    findings += stale
    scanned = {
        "activities": len(entries),
        "posts": len(posts),
        "comments": sum(len(c) for c in comments.values()),
    }
    return Reconciliation(since, findings, scanned)


def repair(
    sessions: sessionmaker[Session],
    reconciliation: Reconciliation,
    *,
    now: datetime,
    lease: timedelta,
    send: Callable[[ActionKey[Action]], None],
) -> list[Discrepancy]:
    """Repair what can be repaired (see the module docstring); returns what was."""
    fixed: list[Discrepancy] = []
    stale: dict[str, Discrepancy] = {}
    for finding in reconciliation.findings:
        if finding.activity_id is None:
            continue
        if finding.kind == "stale" and finding.key is not None:
            stale[finding.key] = finding
        elif (finding.kind == "unrecorded" and _recover(sessions, finding, now)) or (
            finding.kind == "missing" and _bury(sessions, finding, now)
        ):
            fixed.append(finding)
    if stale:
        # The sweeper's own path: lease the expired activities anew, then send them.
        for key in activities.expired_leases(sessions, now=now, lease=lease):
            send(key)
            if key.text in stale:  # a finding names the key as the ledger holds it
                fixed.append(stale[key.text])
    reconciliation.fixed = fixed
    return fixed


def _recover(sessions: sessionmaker[Session], finding: Discrepancy, now: datetime) -> bool:
    assert finding.activity_id is not None and finding.effect_id is not None
    result: dict[str, Any] = {"post_id": finding.post_id, "recovered": "reconcile"}
    if KINDS[Action(finding.action)].makes == "comment":
        result["comment_id"] = finding.effect_id
    # The engagement ledger gets the activity's own target (the post; a reply's comment).
    return activities.recover(sessions, finding.activity_id, result=result, now=now)


def _bury(sessions: sessionmaker[Session], finding: Discrepancy, now: datetime) -> bool:
    assert finding.activity_id is not None
    letter = activities.bury_missing(
        sessions,
        finding.activity_id,
        task=f"fleet.{finding.action}",
        arguments={"key": finding.key},
        error_type="MissingOnGallery",
        error=f"missing on the gallery: {finding.action} {finding.effect_id}",
        now=now,
    )
    return letter is not None


def _read_feed(
    gallery: Gallery, readers: list[str], since: datetime
) -> tuple[str, list[GalleryPost]]:
    """The newest posts back to ``since`` (and one page-worth older), read as an agent."""
    refused: GalleryRefused | None = None
    for reader in readers:
        try:
            first = gallery.feed(agent=reader, limit=PAGE, offset=0, sort="recent")
        except GalleryRefused as exc:
            if exc.status != 403:
                raise
            refused = exc  # that agent's account is gone: read as another
            continue
        posts = {p.id: p for p in first}
        page, offset = first, 0
        while len(page) == PAGE and page[-1].created_at >= since:
            offset += PAGE
            page = gallery.feed(agent=reader, limit=PAGE, offset=offset, sort="recent")
            posts.update((p.id, p) for p in page)
        return reader, list(posts.values())
    assert refused is not None
    raise refused


def _read_comments(gallery: Gallery, reader: str, post_id: str) -> list[GalleryComment]:
    """Every comment of a post; none when the post is gone."""
    listed: list[GalleryComment] = []
    try:
        while True:
            page = gallery.comments(agent=reader, post_id=post_id, limit=PAGE, offset=len(listed))
            listed += page
            if len(page) < PAGE:
                return listed
    except GalleryRefused as exc:
        if exc.status == 404:
            return []
        raise


def _gone(gallery: Gallery, reader: str, finding: Discrepancy) -> bool:
    """A post the feed did not show is missing only if reading it says 404."""
    try:
        gallery.get_post(agent=reader, post_id=str(finding.effect_id))
    except GalleryRefused as exc:
        if exc.status == 404:
            return True
        raise
    return False


def check(fleet: Fleet, window: timedelta) -> Reconciliation:
    """``fleet reconcile``: compare the last ``window`` of the ledger with the gallery."""
    with gallery_of(fleet) as gallery:
        return reconcile(fleet.sessions, gallery, now=fleet.clock.now(), window=window)


def check_and_fix(fleet: Fleet, window: timedelta) -> Reconciliation:
    """``fleet reconcile --fix``: compare as ``check`` does, then repair what can be (stale
    actions are re-sent through the broker, which is checked before any repair)."""
    with gallery_of(fleet) as gallery:
        found = reconcile(fleet.sessions, gallery, now=fleet.clock.now(), window=window)
        if isinstance(gallery, ReadsConsent):
            # Every agent account shows the operator of now (after a change of operator).
            found.scanned["labels synced"] = sync_labels(fleet, gallery)
    if found.findings:
        stale = any(finding.kind == "stale" for finding in found.findings)
        repair(
            fleet.sessions,
            found,
            now=fleet.clock.now(),
            lease=timedelta(seconds=fleet.settings.tasks.lease_seconds),
            send=fleet.sender() if stale else _nothing_to_send,
        )
    return found


def _nothing_to_send(key: ActionKey[Action]) -> None:
    raise AssertionError(f"repair sent {key.text} with no stale finding")

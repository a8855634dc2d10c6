"""Whether a platform kept the provenance marks of the images Fleet uploaded.

An adapter that uploads an image Fleet made (``fleet.content.images``) reads back what
the platform stored, decides with ``fleet.honesty.image_disclosure`` whether the marks
survived, and records it here once per (platform, media id). ``fleet audit`` and
``fleet status`` read the counts: "platform X did not keep provenance marks: N of M".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, sessionmaker

from fleet.db.engine import insert_ignoring
from fleet.db.models import ImageMarks

_TEXT = 300


@dataclass(frozen=True, slots=True)
class MarksKept:
    """One platform's images in a window: how many uploaded, kept marked, and of those
    stripped, how many carried a text disclosure instead."""

    platform: str
    images: int
    kept: int
    disclosed: int  # of the stripped ones

    @property
    def stripped(self) -> int:
        return self.images - self.kept


class ImageMarksBook:
    """The adapters' ``RecordsImageMarks`` over ``image_marks``."""

    def __init__(self, sessions: sessionmaker[Session], *, now: Callable[[], datetime]) -> None:
        self._sessions = sessions
        self._now = now

    def record(
        self,
        *,
        platform: str,
        agent: str,
        media_id: str,
        kept: bool,
        reason: str,
        disclosed: bool,
    ) -> None:
        """Keep one image's verdict (a second record of the same media is ignored)."""
        row = {
            "platform": platform[:120],
            "agent": agent[:64],
            "media_id": media_id[:120],
            "kept": kept,
            "reason": " ".join(reason.split())[:_TEXT],
            "disclosed": disclosed,
            "at": self._now(),
        }
        with self._sessions.begin() as session:
            session.execute(
                insert_ignoring(session, ImageMarks.__table__, "platform", "media_id"), row
            )


def marks_kept(
    sessions: sessionmaker[Session], since: datetime, until: datetime
) -> list[MarksKept]:
    """Each platform's images recorded in [since, until), by platform name."""
    kept = func.sum(case((ImageMarks.kept.is_(True), 1), else_=0))
    disclosed = func.sum(
        case(((ImageMarks.kept.is_(False)) & (ImageMarks.disclosed.is_(True)), 1), else_=0)
    )
    statement = (
        select(ImageMarks.platform, func.count(), kept, disclosed)
        .where(ImageMarks.at >= since, ImageMarks.at < until)
        .group_by(ImageMarks.platform)
        .order_by(ImageMarks.platform)
    )
    with sessions() as session:
        return [
            MarksKept(str(platform), int(images), int(kept_count or 0), int(disclosed_count or 0))
            for platform, images, kept_count, disclosed_count in session.execute(statement)
        ]

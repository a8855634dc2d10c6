"""The fleet's reading of the gallery's posts: each post's text embedded once, for all.

A post's vector is written where its text is first embedded (the post's own writer, or a
content action reading the feeds) and read by everyone else, the engage path included,
which never embeds. A vector is stored with the model that made it and a digest of the
text it was made of: another model's, or one of an edited text, is not found.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import delete, select, tuple_
from sqlalchemy.orm import Session, sessionmaker

from fleet.core.vectors import Vector, from_bytes, to_bytes
from fleet.db.engine import insert_ignoring
from fleet.db.models import PostVector

# Ids per statement: well under SQLite's and Postgres's bound on parameters.
_CHUNK = 500


def post_vectors(
    sessions: sessionmaker[Session],
    digests: Mapping[str, str],
    *,
    model: str,
    dimensions: int,
) -> dict[str, Vector]:
    """The stored vectors of these posts (post id -> digest of its text now) made by
    ``model`` of that very text; a post with none, or with one of another text, is left
    out."""
    found: dict[str, Vector] = {}
    ids = list(digests)
    with sessions() as session:
        for start in range(0, len(ids), _CHUNK):
            rows = session.execute(
                select(PostVector.post_id, PostVector.digest, PostVector.vector).where(
                    PostVector.model == model, PostVector.post_id.in_(ids[start : start + _CHUNK])
                )
            ).all()
            for post_id, digest, data in rows:
                if digest != digests.get(post_id):
                    continue
                try:
                    found[post_id] = from_bytes(data, dimensions=dimensions)
                except ValueError:
                    continue  # another size under the same name: embedded again
    return found


def keep_post_vectors(
    sessions: sessionmaker[Session],
    vectors: Sequence[tuple[str, str, Vector]],
    *,
    model: str,
    now: datetime,
) -> None:
    """Store (post id, digest of its text, vector) made by ``model``. A post stored
    already with another digest (its text was edited) gets the new one; two writers of
    the same post at once store one row."""
    if not vectors:
        return
    latest = {post_id: (digest, vector) for post_id, digest, vector in vectors}
    with sessions.begin() as session:
        session.execute(
            delete(PostVector).where(
                PostVector.model == model,
                tuple_(PostVector.post_id, PostVector.digest).not_in(
                    [(post_id, digest) for post_id, (digest, _) in latest.items()]
                ),
                PostVector.post_id.in_(list(latest)),
            )
        )
        session.execute(
            insert_ignoring(session, PostVector, "post_id", "model").values(
                [
                    {
                        "post_id": post_id,
                        "model": model,
                        "digest": digest,
                        "vector": to_bytes(vector),
                        "created_at": now,
                    }
                    for post_id, (digest, vector) in latest.items()
                ]
            )
        )


def forget_post_vectors(sessions: sessionmaker[Session], *, before: datetime) -> int:
    """Drop vectors stored before ``before``: the feeds show such old posts seldom, and a
    reader that meets one embeds it again. How many were dropped."""
    with sessions.begin() as session:
        statement = delete(PostVector).where(PostVector.created_at < before)
        return session.execute(statement).rowcount  # type: ignore[attr-defined, no-any-return]

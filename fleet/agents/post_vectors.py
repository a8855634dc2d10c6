"""The fleet's reading of the gallery's posts: each post's text embedded once, for all.

A post's vector is written where its text is first embedded (the post's own writer, or a
content action reading the feeds) and read by everyone else, the engage path included,
which never embeds. A vector is stored with the model that made it and a digest of the
text it was made of: another model's, or one of an edited text, is not found.

A post is embedded by one process only: before embedding, a reader claims the posts no
one has stored with a row of the same key and an empty vector (``claim_post_vectors``,
an insert that ignores a conflict: of two claimers at once one wins each post). The
others leave the post to it and read its vector later. A claim whose process died is
taken over after ``CLAIM_SECONDS``; ``keep_post_vectors`` replaces the claim.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, or_, select, tuple_
from sqlalchemy.orm import Session, sessionmaker

from fleet.core.vectors import Vector, from_bytes, to_bytes
from fleet.db.engine import insert_ignoring
from fleet.db.models import PostVector

# Ids per statement: well under SQLite's and Postgres's bound on parameters.
_CHUNK = 500
# A claim to embed a post, left this long without its vector, is taken over (its
# process died, or its embedder failed without giving the claim back).
CLAIM_SECONDS = 60.0
# The vector of a claim: a post being embedded, not embedded yet.
_CLAIMED = b""


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
                if digest != digests.get(post_id) or data == _CLAIMED:
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
    already with another digest (its text was edited) gets the new one, and a claim its
    vector; two writers of the same post at once store one row."""
    if not vectors:
        return
    latest = {post_id: (digest, vector) for post_id, digest, vector in vectors}
    with sessions.begin() as session:
        session.execute(
            delete(PostVector).where(
                PostVector.model == model,
                PostVector.post_id.in_(list(latest)),
                or_(
                    PostVector.vector == _CLAIMED,
                    tuple_(PostVector.post_id, PostVector.digest).not_in(
                        [(post_id, digest) for post_id, (digest, _) in latest.items()]
                    ),
                ),
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


def claim_post_vectors(
    sessions: sessionmaker[Session],
    digests: Mapping[str, str],
    *,
    model: str,
    now: datetime,
) -> set[str]:
    """Claim the embedding of these posts (post id -> digest of its text now) by
    ``model``: the ids this caller is to embed and store, those no one has stored or is
    embedding (a claim older than ``CLAIM_SECONDS``, or one of an edited text, is taken
    over). Of claimers at once, one gets each post."""
    if not digests:
        return set()
    ids = list(digests)
    won: set[str] = set()
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        with sessions.begin() as session:
            _drop_stale(session, {post_id: digests[post_id] for post_id in chunk}, model, now)
            claimed = session.scalars(
                insert_ignoring(session, PostVector, "post_id", "model")
                .values(
                    [
                        {
                            "post_id": post_id,
                            "model": model,
                            "digest": digests[post_id],
                            "vector": _CLAIMED,
                            "created_at": now,
                        }
                        for post_id in chunk
                    ]
                )
                .returning(PostVector.post_id)
            )
            won.update(claimed)
    return won


def _drop_stale(session: Session, digests: Mapping[str, str], model: str, now: datetime) -> None:
    """Delete the rows of these posts that may be taken over: a claim older than
    ``CLAIM_SECONDS``, or a claim or vector of another text than the digest's now."""
    chunk = list(digests)
    session.execute(
        delete(PostVector).where(
            PostVector.model == model,
            PostVector.post_id.in_(chunk),
            or_(
                and_(
                    PostVector.vector == _CLAIMED,
                    PostVector.created_at < now - timedelta(seconds=CLAIM_SECONDS),
                ),
                tuple_(PostVector.post_id, PostVector.digest).not_in(
                    [(post_id, digests[post_id]) for post_id in chunk]
                ),
            ),
        )
    )


def release_post_vectors(
    sessions: sessionmaker[Session], post_ids: Sequence[str], *, model: str
) -> None:
    """Give back the claims on these posts (their embedding failed): the next reader
    claims them again instead of waiting ``CLAIM_SECONDS``."""
    if not post_ids:
        return
    with sessions.begin() as session:
        session.execute(
            delete(PostVector).where(
                PostVector.model == model,
                PostVector.post_id.in_(list(post_ids)),
                PostVector.vector == _CLAIMED,
            )
        )


def forget_post_vectors(sessions: sessionmaker[Session], *, before: datetime) -> int:
    """Drop vectors stored before ``before``: the feeds show such old posts seldom, and a
    reader that meets one embeds it again. How many were dropped."""
    with sessions.begin() as session:
        statement = delete(PostVector).where(PostVector.created_at < before)
        return session.execute(statement).rowcount  # type: ignore[attr-defined, no-any-return]

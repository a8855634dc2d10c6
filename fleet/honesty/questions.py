"""The honesty ledger's listener: questions about what an agent is, noted where people's
comments are seen.

A question noted is owed a truthful answer, which the agent's next tick gives whatever
its quotas and budget say (``fleet.agents.deciding``). Two events bring comments
(``fleet.actions.events``): the pace task's ``posts_seen`` names the agents' posts where
people wait, whose comments this reads (``scan``); a reply's ``comments_seen`` hands the
comments it read. The composition root adds both listeners.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session, sessionmaker

from fleet.agents.queries import ids_of
from fleet.consent.core import Consent
from fleet.core.answering import Closed, turned_away
from fleet.errors import Deferred, PermanentError, TransientError
from fleet.gallery.port import Gallery, GalleryComment, GalleryPost
from fleet.honesty import ledger as identity
from fleet.infra.logs import get_logger

if TYPE_CHECKING:
    from fleet.consent.book import ConsentBook
    from fleet.honesty.identity_intent import IdentityIntent

log = get_logger(__name__)

# The posts read in one scan, newest first: each is one read of its comments.
POSTS_READ = 30
COMMENTS_READ = 100


class IdentityQuestions:
    """The listener that keeps people's questions about what an agent is. ``open_gallery``
    gives the gallery a scan reads (closed after it when ``closes``); ``consent_book``
    people's consent as that gallery tells it (None: it cannot say)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        intent: IdentityIntent,
        now: Callable[[], datetime],
        *,
        open_gallery: Callable[[], Gallery],
        consent_book: Callable[[Gallery], ConsentBook | None],
        closes: bool = True,
    ) -> None:
        self._sessions = sessions
        self._intent = intent
        self._now = now
        self._open_gallery = open_gallery
        self._consent_book = consent_book
        self._closes = closes

    def posts_seen(self, *, waiting: Sequence[GalleryPost], **_: Any) -> int:
        """The ``posts_seen`` listener: ``scan`` the posts where people wait."""
        return self.scan(waiting)

    def scan(self, waiting: Sequence[GalleryPost]) -> int:
        """Read the comments on these agents' posts (where people wait: ``fleet.service.
        pace.waiting_posts``), keep people's unanswered comments that ask the post's author
        what it is. How many questions were new. A post the gallery will not give is left
        for the next scan."""
        posts = sorted(waiting, key=lambda p: p.created_at, reverse=True)[:POSTS_READ]
        if not posts:
            return 0
        ids = ids_of(self._sessions, {p.username for p in posts})
        found: list[identity.QuestionSeen] = []
        gallery = self._open_gallery()
        try:
            book = self._consent_book(gallery)
            consent = None if book is None else book.current()
            for post in posts:
                agent_id = ids.get(post.username)
                if agent_id is None:
                    continue
                try:
                    comments = gallery.comments(
                        agent=post.username, post_id=post.id, limit=COMMENTS_READ
                    )
                except Deferred:
                    break  # the gallery's limit: the next scan goes on
                except (TransientError, PermanentError) as error:
                    log.info(
                        "identity scan: a post left out", post=post.id, reason=str(error)[:200]
                    )
                    continue
                for comment in _unanswered_people(comments, post.username):
                    if self._intent.asks(comment.content):
                        # A person who said no to this agent is owed nothing: kept, closed.
                        said_no = consent is not None and turned_away(
                            consent, post.username, comment.username
                        )
                        found.append(
                            identity.QuestionSeen(
                                agent_id,
                                comment.id,
                                post.id,
                                comment.created_at,
                                asker=comment.username,
                                said_no=said_no,
                            )
                        )
        finally:
            if self._closes:
                gallery.close()
        return identity.note_questions(self._sessions, found, now=self._now())

    def comments_seen(
        self,
        *,
        agent_id: int,
        handle: str,
        comments: Iterable[GalleryComment],
        waiting: Collection[str],
        consent: Consent | None,
        at: datetime,
        **_: Any,
    ) -> None:
        """The ``comments_seen`` listener: the people's comments waiting on the agent that
        ask what it is are kept (the audit counts them asked, and a repeat or one past the
        day's cap is closed there). An open question whose asker the agent may no longer
        address (they said no since: not among ``waiting``) is closed with that reason, so
        that it holds nobody's sessions."""
        read = {c.id: c for c in comments}
        found = [
            identity.QuestionSeen(agent_id, c.id, c.post_id, c.created_at, asker=c.username)
            for comment_id in waiting
            if (c := read.get(comment_id)) is not None
            and not c.user_is_agent
            and self._intent.asks(c.content)
        ]
        identity.note_questions(self._sessions, found, now=at)
        if consent is None:
            return
        open_ = identity.open_questions(self._sessions, agent_id, since=at - identity.OWED_DAYS)
        said_no = [
            c
            for c in open_
            if c not in waiting
            and (seen := read.get(c)) is not None
            and not seen.user_is_agent
            and turned_away(consent, handle, seen.username)
        ]
        if said_no:
            identity.close_questions(self._sessions, agent_id, said_no, Closed.SAID_NO, now=at)


def _unanswered_people(comments: Sequence[GalleryComment], author: str) -> list[GalleryComment]:
    """People's comments on ``author``'s post that ``author`` has not answered."""
    answered = {c.parent_id for c in comments if c.username == author}
    return [
        c for c in comments if not c.user_is_agent and c.username != author and c.id not in answered
    ]

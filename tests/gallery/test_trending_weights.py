"""The sandbox's trending feed weighs agents' comments down as it weighs their likes
(issue 68, F14; docs/gallery-api.md, "Ranking")."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from fleet_sandbox import storage
from fleet_sandbox.storage import Storage, User


@pytest.mark.parametrize(("weight", "first"), [(0.5, "people's"), (1.0, "agents'")])
def test_trending_weighs_agents_comments_down(weight: float, first: str) -> None:
    """Two people's comments on one post, three agents' on the other: at weight 0.5 the
    agents' count for 1.5 and the people's post leads; at 1.0 (no weighing) the agents'."""
    store = Storage("sqlite://")
    store.create()
    now = datetime.now(UTC)
    with store.begin() as conn:

        def user(name: str, agent: bool) -> User:
            return storage.invite(conn, agent_id=None, name=name, username=name, persona=None,
                                  is_agent=agent, now=now)[0]  # fmt: skip

        people = [user("pat", False), user("quinn", False)]
        bots = [user(f"bot_{n}", True) for n in range(3)]
        for title, speakers in (("people's", people), ("agents'", bots)):
            post = storage.create_post(conn, user=people[0], title=title, description="",
                                       image_url="http://x/i.png", workflow_id=None, key=None,
                                       now=now)  # fmt: skip
            for speaker in speakers:
                storage.create_comment(
                    conn, post_id=post, user=speaker, content="nice", key=None, now=now
                )
        top = storage.list_posts(
            conn, limit=2, offset=0, sort="trending", now=now, agent_weight=weight
        )
        assert top[0].title == first
        assert {p.title: p.comment_count for p in top} == {"people's": 2, "agents'": 3}
    store.dispose()

"""A like's post is chosen before its claim, from a young feed page, and kept by the claim
when open: the like costs one statement fewer and still lands once, on a post that is
neither the agent's own nor liked by it before. The sandbox over HTTP, on Postgres and
SQLite."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from fleet import activities, agents
from fleet.actions import ActionKit, perform
from fleet.actions.choosing import first_choice
from fleet.actions.feed_snapshot import FeedSnapshot
from fleet.content.offline import OfflineWriter
from fleet.db.models import Engagement
from fleet.gallery.client import HttpGallery
from fleet.service.root import Fleet
from fleet.settings import ActionSettings
from tests.conftest import active_agents, count_target_keeps
from tests.gallery.conftest import Admin

LEASE = timedelta(minutes=5)


def test_likes_chosen_before_the_claim_land_once_and_never_on_the_agents_own_post(
    fleet: Fleet, gallery: HttpGallery, admin: Admin, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = datetime.now(UTC)
    author, fan = active_agents(fleet, 2, now=now)
    author_handle = agents.get_agent(fleet.sessions, str(author)).handle
    gallery.provision_user(handle=author_handle, name="Author", persona="social_media_marketer")
    posts = [
        gallery.create_post(
            agent=author_handle,
            image_url="http://example.test/i.png",
            title=f"Post {n}",
            description="d",
            idempotency_key=f"seed-{n}",
        ).id
        for n in range(6)
    ]
    kit = ActionKit(
        sessions=fleet.sessions,
        personas=fleet.personas,
        gallery=gallery,
        writer=OfflineWriter(),
        settings=ActionSettings(human_share=0.0),
        lease=LEASE,
        # One page for the whole test: every like after the first finds it young.
        feed_snapshot=FeedSnapshot(3600.0),
    )
    keeps = count_target_keeps(monkeypatch)

    def key_of(agent_id: int, second: int) -> str:
        return f"{agent_id}:{int((now + timedelta(seconds=second)).timestamp())}:like"

    def like(agent_id: int, second: int) -> Any:
        activities.create_activity(
            fleet.sessions,
            agent_id,
            "like",
            now + timedelta(seconds=second),
            key_of(agent_id, second),
            now=now,
            lease=LEASE,
        )
        return perform(kit, key_of(agent_id, second))

    outcomes = [like(fan, 1)]
    liked = {outcomes[0].detail["post_id"]}
    # The second like's moment is picked so that its first choice (drawn from its key)
    # is still open: at least one like is sure to keep the choice made before its claim.
    second = next(
        s for s in range(2, 200) if first_choice(kit, key_of(fan, s)).post_id not in liked
    )
    refused = 0
    for s in [second, *range(second + 1, second + 6)]:
        chosen = first_choice(kit, key_of(fan, s))
        assert chosen is not None  # the page the first like read is young
        refused += chosen.post_id in liked
        outcome = like(fan, s)
        outcomes.append(outcome)
        if outcome.status == "succeeded":
            liked.add(outcome.detail["post_id"])

    # Six posts, seven likes: each post liked once, then nothing is left to like.
    assert [o.status for o in outcomes] == ["succeeded"] * 6 + ["skipped"]
    assert sorted(liked) == sorted(posts)
    with fleet.sessions() as session:
        ledger = session.scalars(select(Engagement.post_id).where(Engagement.agent_id == fan))
        assert sorted(ledger) == sorted(posts)
    assert report_likes(admin, agents.get_agent(fleet.sessions, str(fan)).handle) == 6
    # The first like found no page yet: it chose after the claim. Later likes chose before
    # it; a choice went through keep_target exactly when the claim found the post closed
    # (liked already), and then the ledger was read at once.
    assert keeps[0]["first_tried"] is False
    assert all(kwargs["first_tried"] for kwargs in keeps[1:])
    assert len(keeps) == 1 + refused < len(outcomes)

    # Every post is the author's own: its first choice is refused, and nothing is open.
    keeps.clear()
    assert like(author, second + 10).status == "skipped"
    assert [kwargs["first_tried"] for kwargs in keeps] == [True]
    assert report_likes(admin, author_handle) == 0


def report_likes(admin: Admin, handle: str) -> int:
    """The likes the gallery counts for the user ``handle``."""
    users = {u["username"]: u for u in admin.report()["users"]}
    return int(users[handle]["likes"])

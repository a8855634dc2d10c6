"""A single like is a batch of one: its post is chosen before its claim (``first_choices``,
from a young feed page and the ledger) and kept by the claim when open, so the like costs
no statement of its own to choose, and still lands once, on a post that is neither the
agent's own nor liked by it before. The sandbox over HTTP, on Postgres and SQLite."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from fleet import activities, agents
from fleet.actions import ActionKit, perform
from fleet.actions import choosing as choosing_module
from fleet.actions.choosing import first_choices, page_taste
from fleet.actions.feed_snapshot import FeedSnapshot
from fleet.actions.handlers import choosing
from fleet.actions.kit import Limits, Targeting
from fleet.content.offline.writer import OfflineWriter
from fleet.core.kinds import ActionKey
from fleet.db.models import Engagement
from fleet.gallery.client import HttpGallery
from fleet.gallery.port import GalleryPost
from fleet.impact.holdout import Spared
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
        limits=Limits(LEASE),
        # One page for the whole test: every like after the first finds it young.
        targeting=Targeting(feed_snapshot=FeedSnapshot(3600.0)),
    )
    keeps = count_target_keeps(monkeypatch)
    ranked = _count_rankings(monkeypatch)

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
        return perform(kit, ActionKey.parse(key_of(agent_id, second)))

    # One claim path: a single like claims as a batch does (``claim_many``; on SQLite its
    # claims go one by one, each keeping its first choice).
    if fleet.engine.dialect.name == "postgresql":
        monkeypatch.setattr(activities, "claim", _claim_of_one)
    outcomes = []
    liked: set[str] = set()
    for s in range(1, 8):
        # The one chooser (``first_choices``, a single like being a batch of one) knows
        # the ledger: it never offers a post the agent liked, nor one of its own.
        key = ActionKey.parse(key_of(fan, s))
        chosen = first_choices(choosing(kit), [key]).get(key)
        if s == 1 or len(liked) == len(posts):
            assert chosen is None  # no page read yet; then nothing is left open
        else:
            assert chosen is not None and chosen.post_id not in liked
        outcome = like(fan, s)
        outcomes.append(outcome)
        if outcome.status == "succeeded":
            liked.add(outcome.detail["post_id"])

    # Six posts, seven likes: each post liked once, then nothing is left to like.
    assert [o.status for o in outcomes] == ["succeeded"] * 6 + ["skipped"]
    assert sorted(liked) == sorted(posts)
    with fleet.sessions() as session:
        ledger = session.scalars(select(Engagement.target_id).where(Engagement.agent_id == fan))
        assert sorted(ledger) == sorted(posts)
    assert report_likes(admin, agents.get_agent(fleet.sessions, str(fan)).handle) == 6
    # The first like found no page yet: it chose after its claim. The others chose before
    # it and the claim kept the choice; the last, with nothing open, went through
    # keep_target and found nothing.
    assert len(keeps) == 2
    # One page, one persona: its candidates were made once, by the first like's choice,
    # and every choice after (before a claim or after it) shared them.
    assert len(ranked) == 1

    # Every post is the author's own: nothing is chosen for it, and nothing is open.
    keeps.clear()
    assert first_choices(choosing(kit), [ActionKey.parse(key_of(author, 20))]) == {}
    assert like(author, 20).status == "skipped"
    assert len(keeps) == 1
    assert report_likes(admin, author_handle) == 0


def _claim_of_one(*_: Any, **__: Any) -> Any:
    raise AssertionError("a like claimed by the claim of one action, not claim_many")


def report_likes(admin: Admin, handle: str) -> int:
    """The likes the gallery counts for the user ``handle``."""
    users = {u["username"]: u for u in admin.report()["users"]}
    return int(users[handle]["likes"])


def _count_rankings(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """The personas each page's candidates are made for, as they are made."""
    made: list[str | None] = []
    rank = choosing_module.page_candidates

    def counted(*args: Any, **kwargs: Any) -> Any:
        made.append(args[2])
        return rank(*args, **kwargs)

    monkeypatch.setattr(choosing_module, "page_candidates", counted)
    return made


def _post(n: int) -> GalleryPost:
    return GalleryPost(f"p{n}", "t", "d", "", 0, 0, datetime.now(UTC), f"u{n}", f"person{n}", False)


def test_a_page_is_ranked_once_a_page_for_each_persona_and_kind_and_holdout(
    fleet: Fleet, monkeypatch: pytest.MonkeyPatch
) -> None:
    kit = ActionKit(
        sessions=fleet.sessions,
        personas=fleet.personas,
        gallery=None,  # type: ignore[arg-type]  # nothing is read
        writer=OfflineWriter(),
        settings=ActionSettings(),
        limits=Limits(LEASE),
    )
    ranked = _count_rankings(monkeypatch)
    page, other = [_post(1), _post(2)], [_post(1), _post(2)]
    spared = Spared("e", 0.0)
    first = page_taste(choosing(kit), page, "a", kind="like", spared=spared)
    assert page_taste(choosing(kit), page, "a", kind="like", spared=spared) is first
    assert ranked == ["a"]
    page_taste(choosing(kit), page, "b", kind="like", spared=spared)  # another persona
    page_taste(choosing(kit), page, "a", kind="comment", spared=spared)  # another kind
    page_taste(choosing(kit), other, "a", kind="like", spared=spared)  # a new page
    held = Spared("e", 0.1)
    page_taste(choosing(kit), other, "a", kind="like", spared=held)  # the holdout changed
    page_taste(choosing(kit), other, "a", kind="like", spared=held)  # kept
    page_taste(choosing(kit), other, "a", kind="like", spared=Spared("e", 0.1))  # read anew
    page_taste(choosing(kit), other, "a", kind="like", spared=held, friends=[_post(3)])
    page_taste(choosing(kit), other, "a", kind="like", spared=held, friends=[_post(3)])
    assert ranked == ["a", "b", "a", "a", "a", "a", "a"]  # a page with friends: its own
    # A kit whose part is set anew narrows its choosing anew: nothing ranked is kept.
    kit.settings = ActionSettings(human_share=0.5)
    page_taste(choosing(kit), other, "a", kind="like", spared=held)
    assert len(ranked) == 8

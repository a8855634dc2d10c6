"""A comment keeps up a relationship: an agent's friends' newest posts are in view of its
comments wherever the feeds have moved on (the sandbox over HTTP, the real Postgres)."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import update

from fleet import agents
from fleet.actions import ActionKit
from fleet.actions.choosing import friends_posts
from fleet.actions.handlers import choosing
from fleet.actions.interests import Interests
from fleet.core.taste import Weights
from fleet.db.models import AgentActivity
from fleet.gallery.client import HttpGallery
from fleet.gallery.port import GalleryPost
from fleet.service.root import Fleet
from tests.service import test_reconcile as on_the_sandbox
from tests.service.test_reconcile import Acts, FixedFeed, activity

# The sandbox, the Postgres fleet and the actions' kit, as the reconciliation tests set
# them up.
sandbox_server = on_the_sandbox.sandbox_server
admin = on_the_sandbox.admin
fleet = on_the_sandbox.fleet
gallery = on_the_sandbox.gallery
kit = on_the_sandbox.kit
crew = on_the_sandbox.crew
acts = on_the_sandbox.acts

# Taste without vectors (no embedder): ties, freshness and popularity rank; no chance.
TASTE = Weights(explore=0.0, scroll=None, pass_over=None)


def _tasteful(kit: ActionKit, page: list[GalleryPost]) -> ActionKit:
    targeting = replace(
        kit.targeting, taste=TASTE, interests=Interests(None), feed_snapshot=FixedFeed(page)
    )
    return replace(kit, targeting=targeting)


def test_a_comment_finds_a_friends_post_the_feeds_no_longer_show(
    fleet: Fleet, kit: ActionKit, gallery: HttpGallery, acts: Acts, crew: list[int]
) -> None:
    friend, stranger, me = crew
    acts.do(me, "post")
    my_handle = agents.get_agent(fleet.sessions, str(me)).handle
    (mine,) = gallery.feed(agent=my_handle)
    # The friend liked my post, then posted; a stranger posted since, and the feed
    # shows only the stranger's post now.
    acts.kit = _tasteful(kit, [mine])
    assert acts.do(friend, "like")[1] == "succeeded"
    acts.kit = kit
    friends_key, _ = acts.do(friend, "post")
    acts.do(stranger, "post")
    friends_post = str(activity(fleet, friends_key).result["post_id"])  # type: ignore[index]
    newest = gallery.feed(agent=my_handle)[0]
    assert newest.id != friends_post

    acts.kit = _tasteful(kit, [newest])
    key, status = acts.do(me, "comment")
    assert status == "succeeded"
    assert activity(fleet, key).target_post_id == friends_post
    # A like goes by what the feeds show: the friend's post is not in its view.
    key, status = acts.do(me, "like")
    assert activity(fleet, key).target_post_id == newest.id


def test_a_friends_post_the_gallery_will_not_give_is_left_out(
    fleet: Fleet, kit: ActionKit, gallery: HttpGallery, acts: Acts, crew: list[int]
) -> None:
    friend, other, me = crew
    handles = [agents.get_agent(fleet.sessions, str(a)).handle for a in crew]
    kept_key, _ = acts.do(friend, "post")
    gone_key, _ = acts.do(other, "post")
    acts.do(me, "browse")  # its gallery account, as an action makes sure first
    with fleet.sessions.begin() as session:
        session.execute(
            update(AgentActivity)
            .where(AgentActivity.idempotency_key == gone_key)
            .values(result={"post_id": "999999"})
        )
    kept = str(activity(fleet, kept_key).result["post_id"])  # type: ignore[index]
    me_handle = handles[2]
    ties = {handles[0]: 1, handles[1]: 5}
    found = friends_posts(choosing(kit), me_handle, ties, [])
    assert [p.id for p in found] == [kept]
    # On the page already: nothing to read.
    page = gallery.feed(agent=me_handle, limit=50)
    assert friends_posts(choosing(kit), me_handle, ties, page) == []
    assert friends_posts(choosing(kit), me_handle, {}, []) == []

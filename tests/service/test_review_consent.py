"""A draft approved after its person said no is not published to them (issue 68, F2):
consent is read again before a kept target is sent, and the action ends skipped with the
reason. The same for a like kept since an earlier delivery."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from fleet.actions.common import Accounts
from fleet.actions.engage import LikeNeeds, like
from fleet.actions.feed_snapshot import FeedSnapshot
from fleet.activities import Claim
from fleet.activities.views import Actor
from fleet.consent.book import ConsentBook
from fleet.core.kinds import ActionKey
from fleet.core.statuses import AgentStatus
from fleet.errors import Skip
from fleet.gallery.client import HttpGallery
from fleet.gallery.consent import ConsentRead
from fleet.infra.clocks import SimulatedClock
from fleet.service.root import Fleet
from fleet.settings import ConsentSettings
from tests.gallery.conftest import Admin, ada
from tests.service.test_review import START, _activity, clock, ok_json, reviewed, run

__all__ = ["ada", "clock", "reviewed"]  # the fixtures, used here by name


@pytest.mark.parametrize("said_after", [2.0, 600.0])
def test_an_approved_comment_is_not_sent_to_a_person_who_said_no_while_it_waited(
    reviewed: Fleet, admin: Admin, clock: SimulatedClock, said_after: float
) -> None:
    fleet = reviewed
    made = run(fleet, "agents", "create", "--persona", "social_media_marketer", "--start")
    assert made.exit_code == 0, made.output
    assert run(fleet, "review", "on", "1").exit_code == 0
    admin.http.post("/admin/people", json={"count": 3})  # each with a post: the only posts
    drafted = ok_json(fleet, "agents", "act", "1", "comment", "--here")
    assert isinstance(drafted, dict) and drafted["status"] == "drafted", drafted
    [draft] = ok_json(fleet, "drafts", "list", "--agent", "1")  # type: ignore[misc]
    person = draft["answers"]["author"]
    handle = ok_json(fleet, "agents", "show", "1")["handle"]  # type: ignore[index]

    clock.advance(said_after)  # they say no 2 s, or 10 min, after the draft was written
    said = admin.http.put(
        f"/api/admin/users/{person}/agent-consent",
        json={"agentInteractions": "none", "block": [handle]},
    )
    assert said.status_code == 200, said.text
    clock.advance(10)  # an owner approves it a few seconds later
    [approved] = ok_json(fleet, "drafts", "approve", str(draft["id"]), "--here")  # type: ignore[misc]
    print(approved)
    assert approved["outcome"] == "skipped", approved
    assert admin.report()["totals"]["comments"] == 0, "nothing reached the person"
    ended = _activity(fleet, draft["key"])
    assert ended["status"] == "skipped"
    assert f"@{person} opted out of agents since its target was chosen" in str(ended["error"])


def test_a_kept_like_is_not_sent_to_a_person_who_blocked_the_agent_since(
    fleet: Fleet, gallery: HttpGallery, admin: Admin, ada: str
) -> None:
    person = admin.http.post("/admin/people", json={"count": 1}).json()["made"][0]
    post = next(p for p in gallery.feed(agent=ada, limit=50) if p.username == person)
    now = [0.0]
    book = ConsentBook(gallery.agent_consent, ConsentSettings(), clock=lambda: now[0])
    assert book.refusal(ada, "like", person) is None  # the copy the choice was made by
    admin.http.put(f"/api/admin/users/{person}/agent-consent", json={"block": [ada]})
    now[0] += 30.0  # the like waited: its copy, young for a choice, is old for a kept target
    needs = LikeNeeds(
        Accounts(gallery, fleet.sessions),
        gallery,
        frozenset(),
        choose_post=lambda claim, kind: pytest.fail("the target is kept"),
        feed_snapshot=FeedSnapshot(5.0),
        consent=book,
    )
    actor = Actor(1, ada, "Ada", "product_photographer", 7, AgentStatus.ACTIVE, "1", False)
    # A retry after a long wait: its second delivery.
    claim = Claim(1, ActionKey.parse("1:5:like"), datetime.now(UTC), 0, 2, {}, post.id, actor)
    with pytest.raises(Skip, match=f"@{person} blocked @{ada} since its target was chosen"):
        like(needs, claim, False)
    assert gallery.get_post(agent=ada, post_id=post.id).like_count == 0


class _Consenting:
    """A gallery that says what people chose (nobody said anything)."""

    def agent_consent(self) -> ConsentRead:
        return ConsentRead({}, frozenset())

    def disclosure_of(self, handle: str) -> None:
        return None

    def sync_disclosure(self, handle: str) -> None:
        return None


def test_the_consent_book_ages_its_copy_by_the_fleets_clock_read_as_seconds(
    fleet: Fleet, clock: SimulatedClock
) -> None:
    # The machine's clock: seconds read straight, no datetime made at each check.
    book = fleet.consent_book(_Consenting())
    assert book is not None and book._clock is time.time
    # Another clock (the demo's, simulated) is read as it says.
    fleet.clock = clock
    book = fleet.consent_book(_Consenting())
    assert book is not None and book._clock() == START.timestamp()
    clock.advance(5)
    assert book._clock() == START.timestamp() + 5

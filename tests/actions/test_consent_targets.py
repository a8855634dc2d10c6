"""Target choice honours people's consent on the batched like path, for comments and for
replies (fleet.actions.choosing.chooser): the sandbox over HTTP, the fleet's ledger."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from fleet import agents
from fleet.actions.perform import perform_batch
from fleet.consent.book import ConsentBook
from fleet.gallery.client import HttpGallery
from fleet.service.root import Fleet
from fleet.settings import ConsentSettings
from tests.actions.test_batch import _decided, _kit, _posts, parsed
from tests.conftest import active_agents
from tests.gallery.conftest import Admin


@pytest.mark.parametrize("honoured", [True, False])
def test_batched_likes_never_reach_people_who_said_no(
    fleet: Fleet, gallery: HttpGallery, admin: Admin, honoured: bool
) -> None:
    now = datetime.now(UTC)
    author, *fans = active_agents(fleet, 7, now=now)
    _posts(gallery, fleet, author, 1)
    handles = [agents.get_agent(fleet.sessions, str(f)).handle for f in fans]
    for handle in handles:
        gallery.provision_user(handle=handle, name=handle, persona="social_media_marketer")
    people = admin.http.post("/admin/people", json={"count": 6}).json()["made"]
    said = {people[0]: {"agentInteractions": "none"}, people[1]: {"agentInteractions": "replies"}}
    said[people[2]] = {"block": [handles[0]]}
    for person, body in said.items():
        assert admin.http.put(f"/api/admin/users/{person}/agent-consent", json=body).is_success
    kit = _kit(fleet, gallery)
    if honoured:
        kit.targeting = replace(
            kit.targeting, consent=ConsentBook(gallery.agent_consent, ConsentSettings())
        )

    for round_ in range(4):
        perform_batch(
            kit, parsed(_decided(fleet, fans, "like", now + timedelta(minutes=round_))), threads=2
        )

    liked = {p.username: p.like_count for p in gallery.feed(agent=handles[0], limit=50)}
    toward_closed = sum(liked.get(p, 0) for p in said)
    toward_open = sum(liked.get(p, 0) for p in people[3:])
    assert toward_open > 0
    if honoured:
        assert toward_closed == 0
    else:  # the same batches without the filter do reach them: the test can tell
        assert toward_closed > 0

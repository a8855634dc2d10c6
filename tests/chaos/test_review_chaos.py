"""Chaos with review mode: every agent under review, an owner approving and rejecting drafts
while a worker is killed with SIGKILL and the gallery loses answers. Each approved draft
is published once, each rejected one never, and the books balance."""

from __future__ import annotations

import json
import signal

import pytest
from sqlalchemy import select

from fleet.agents import Selection
from fleet.db.models import AgentActivity, Draft
from fleet.service import drafts
from fleet.service.root import Fleet, bootstrap
from fleet.settings import ReviewSettings
from tests.chaos.conftest import ARTIFACTS, RUN_SECONDS, Rig, Servers, check
from tests.e2e.conftest import wait_for

# A fault scenario: make test-faults runs it, make test leaves it out (docs/testing.md).
pytestmark = [pytest.mark.slow, pytest.mark.faults]


def _decide(owner: Fleet, *, approve: str, reject: bool) -> tuple[int, int]:
    """Approve ``every other`` pending draft, ``all`` or ``none``; with ``reject`` the
    rest are rejected: (approved, rejected)."""
    pending = sorted(d.id for d in drafts.find(owner, status="pending", limit=1000))
    yes = {"every other": pending[::2], "all": pending, "none": []}[approve]
    no = [draft_id for draft_id in pending if draft_id not in yes] if reject else []
    if yes:
        drafts.approve(owner, yes, when=drafts.Publish.NOW)
    if no:
        drafts.reject(owner, no, reason="not on brand")
    return len(yes), len(no)


def _publishing(owner: Fleet) -> int:
    """Approved drafts a worker holds claimed now."""
    with owner.sessions() as session:
        held = session.scalars(
            select(AgentActivity.content).where(
                AgentActivity.status == "pending", AgentActivity.claimed_by.is_not(None)
            )
        ).all()
    return sum(1 for content in held if (content or {}).get("approved"))


def test_approvals_while_a_worker_is_killed_and_answers_are_lost_publish_once(
    rig: Rig, servers: Servers
) -> None:
    rig.admin.faults(
        loseAnswerRates={"create_post": 0.2, "create_comment": 0.2, "execute": 0.1},
        latencyMs=400,
    )
    rig.start()
    # The owner approves "now": spaced a fraction of a second apart, so all go out in the run.
    settings = rig.fleet.settings.model_copy(update={"review": ReviewSettings(spacing_seconds=0.2)})
    owner = bootstrap(settings, servers.engine)
    try:
        drafts.review(owner, Selection(everyone=True), drafts.ReviewMode.ON)
        wait_for(lambda: len(drafts.find(owner, status="pending")) >= 6, 90, "drafts to decide")
        first = _decide(owner, approve="every other", reject=False)
        # Killed while an approved draft is being published (the gallery is slow).
        wait_for(lambda: _publishing(owner) > 0, 60, "an approved draft being published")
        rig.evidence["publishing_when_killed"] = _publishing(owner)
        rig.fault()
        rig.evidence["exit_code"] = rig.kill_worker()
        assert rig.evidence["exit_code"] == -signal.SIGKILL
        second = _decide(owner, approve="all", reject=False)  # while no worker runs
        rig.start_worker("heir")
        rig.until(RUN_SECONDS)
        third = _decide(owner, approve="every other", reject=True)
        drained = rig.drain()
        # Drafts written during the drain: the owner rejects them, and nothing stays open.
        last = _decide(owner, approve="none", reject=True)
        rig.evidence["decisions"] = {"run": [first, second, third], "after_drain": last}
        books = rig.books("review_approvals_sigkill", drained)
        with owner.sessions() as session:
            ends = session.execute(
                select(Draft.status, AgentActivity.status, AgentActivity.error).join(
                    AgentActivity, AgentActivity.id == Draft.activity_id
                )
            ).all()
        books["drafts"] = [list(end) for end in ends]
        line = json.dumps(books, sort_keys=True, default=str)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / "review_approvals_sigkill.json").write_text(line + "\n", encoding="utf-8")
        print(line)
        check(books)
    finally:
        owner.close()
    approved = [end for end in ends if end[0] == "approved"]
    rejected = [end for end in ends if end[0] == "rejected"]
    assert approved and rejected, books
    assert second[0] > 0, "drafts approved while no worker ran"
    assert all(status == "succeeded" for _, status, _ in approved), approved
    assert all(
        status == "skipped" and error == "rejected: not on brand" for _, status, error in rejected
    ), rejected
    assert not [end for end in ends if end[1] == "awaiting_review"], "every draft decided"

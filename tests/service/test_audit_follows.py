"""``fleet audit``'s follows check (``fleet.consent.audit_follows``): 0 follows toward
people who opted out, blocked the agent or are held out on a clean ledger; each planted
one counted, and the audit falls short."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fleet import activities, agents
from fleet.gallery.client import HttpGallery
from fleet.gallery.port import GalleryPost
from fleet.honesty import audit as honesty
from fleet.impact import use_cases as impact
from fleet.impact.holdout import arm
from fleet.infra.clocks import SimulatedClock
from fleet.service.accounts import provision_accounts
from fleet.service.root import Fleet, bootstrap
from fleet.settings import ImpactSettings
from tests.cli.test_cli import run
from tests.conftest import active_agents
from tests.gallery.conftest import Admin
from tests.service.test_audit import _finding

LEASE = timedelta(minutes=5)


def _followed(fleet: Fleet, agent_id: int, handle: str, at: datetime) -> None:
    """A follow of the agent toward ``handle`` that succeeded at ``at``."""
    key = f"{agent_id}:{int(at.timestamp())}:follow"
    made = activities.create_activity(
        fleet.sessions, agent_id, "follow", at, key, now=at, lease=LEASE
    )
    assert activities.finish(
        fleet.sessions,
        made,
        "succeeded",
        now=at,
        result={"person": handle, "person_is_agent": False, "following": True},
        engagement=(handle, "follow"),
    )


def test_follows_toward_people_who_opted_out_or_blocked_are_counted(
    fleet: Fleet, gallery: HttpGallery, admin: Admin
) -> None:
    fleet.gallery = gallery
    ids = active_agents(fleet, 2)
    assert not provision_accounts(fleet.sessions, gallery, ids).failed
    first, second = (agents.get_agent(fleet.sessions, str(i)).handle for i in ids)
    out, blocking, fine = admin.http.post("/admin/people", json={"count": 3}).json()["made"]
    said = admin.http.put(
        f"/api/admin/users/{out}/agent-consent", json={"agentInteractions": "none"}
    )
    blocked = admin.http.put(f"/api/admin/users/{blocking}/agent-consent", json={"block": [first]})
    out_at = datetime.fromisoformat(said.json()["updatedAt"])
    block_at = datetime.fromisoformat(blocked.json()["updatedAt"])
    _followed(fleet, ids[0], out, out_at - timedelta(minutes=30))  # before they said no
    _followed(fleet, ids[1], fine, out_at + timedelta(hours=1))  # nobody said no

    clean = _finding(honesty.audit(fleet), "follows")
    assert clean.status == "ok", clean.summary
    assert clean.figures["toward_said_no"] == 0 and clean.figures["toward_held_out"] == 0
    assert clean.summary.startswith("0 follows toward people who opted out")

    _followed(fleet, ids[1], out, out_at + timedelta(minutes=11))
    _followed(fleet, ids[0], blocking, block_at + timedelta(hours=2))
    planted = honesty.audit(fleet)
    found = _finding(planted, "follows")
    assert not planted.ok and found.status == "short"
    assert found.figures["later"] == 2
    assert f"@{second} toward @{out}" in found.summary
    assert f"@{first} toward @{blocking}" in found.summary
    done = run(fleet, "audit")
    assert done.exit_code == 1 and "follows" in done.output


def test_follows_toward_held_out_newcomers_are_counted(
    fleet: Fleet, gallery: HttpGallery, admin: Admin
) -> None:
    now = datetime.now(UTC)
    settings = fleet.settings.model_copy(update={"impact": ImpactSettings(holdout_share=0.1)})
    sim = bootstrap(settings, fleet.engine, clock=SimulatedClock(now))
    sim.gallery = gallery
    try:
        (agent_id,) = active_agents(sim, 1, now=now)
        held = next(str(u) for u in range(10_000) if arm(str(u), "newcomers1", 0.1) == "holdout")
        treated = next(str(u) for u in range(10_000) if arm(str(u), "newcomers1", 0.1) == "treated")
        posts = [
            GalleryPost(f"p{u}", "t", "", "", 0, 0, now, u, f"name{u}", False)
            for u in (held, treated)
        ]
        impact.record_people(sim, posts)
        _followed(sim, agent_id, f"name{treated}", now + timedelta(minutes=1))
        clean = _finding(honesty.audit(sim), "follows")
        assert clean.status == "ok" and clean.figures["toward_held_out"] == 0, clean.summary

        _followed(sim, agent_id, f"name{held}", now + timedelta(minutes=2))
        found = _finding(honesty.audit(sim), "follows")
        assert found.status == "short" and found.figures["toward_held_out"] == 1
        assert f"toward held-out @name{held}" in found.summary
        # The impact report counts it as a touch of the holdout too, by the handle.
        report = impact.impact_report(sim)
        assert report.touched_holdout == 1 and report.touches[0].action == "follow"
    finally:
        sim.close()

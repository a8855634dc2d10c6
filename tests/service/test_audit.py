"""The honesty audit (fleet.honesty.audit) against the sandbox and the ledger."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta

from pydantic import AnyUrl

from fleet import activities, agents
from fleet.consent.status import consent_line, consent_of
from fleet.core.kinds import ActionKey
from fleet.gallery.client import HttpGallery
from fleet.honesty import audit as honesty
from fleet.honesty.audit_scope import Finding
from fleet.service.accounts import provision_accounts
from fleet.service.root import Fleet
from fleet.settings import DisclosureSettings
from tests.cli.test_cli import run
from tests.conftest import active_agents
from tests.gallery.conftest import Admin, settings_for

LEASE = timedelta(minutes=5)


def _liked(fleet: Fleet, agent_id: int, post_id: str, at: datetime) -> None:
    """A like of the agent on ``post_id`` that succeeded at ``at``."""
    key = f"{agent_id}:{int(at.timestamp())}:like"
    activities.create_activity(fleet.sessions, agent_id, "like", at, key, now=at, lease=LEASE)
    claim = activities.claim(fleet.sessions, ActionKey.parse(key), now=at, lease=LEASE)
    assert claim is not None and not isinstance(claim, activities.Held)
    assert activities.finish(
        fleet.sessions, claim.id, "succeeded", now=at, result={"post_id": post_id}
    )


def _finding(found: honesty.Audit, name: str) -> Finding:
    return next(f for f in found.findings if f.name == name)


def test_the_audit_finds_late_actions_toward_people_who_said_no_and_unlabelled_accounts(
    fleet: Fleet, gallery: HttpGallery, admin: Admin
) -> None:
    fleet.gallery = gallery
    ids = active_agents(fleet, 2)
    assert not provision_accounts(fleet.sessions, gallery, ids).failed
    first, second = (agents.get_agent(fleet.sessions, str(i)).handle for i in ids)
    person = admin.http.post("/admin/people", json={"count": 1}).json()["made"][0]
    post = next(p for p in gallery.feed(agent=first, limit=50) if p.username == person)

    clean = honesty.audit(fleet)
    assert clean.ok, clean.to_json()
    assert _finding(clean, "labelled").figures["share"] == 1.0
    assert _finding(clean, "human_claims").status == "ok"
    assert _finding(clean, "identity_answers").status == "ok"

    said = admin.http.put(
        f"/api/admin/users/{person}/agent-consent", json={"agentInteractions": "none"}
    )
    said_at = datetime.fromisoformat(said.json()["updatedAt"])
    _liked(fleet, ids[0], post.id, said_at - timedelta(minutes=30))  # before: fine
    _liked(fleet, ids[0], post.id, said_at + timedelta(minutes=5))  # within the bound
    assert honesty.audit(fleet).ok
    _liked(fleet, ids[1], post.id, said_at + timedelta(minutes=11))  # late: falls short
    late = honesty.audit(fleet)
    consent = _finding(late, "consent")
    assert not late.ok and consent.status == "short"
    assert consent.figures["later_than_bound"] == 1 and consent.figures["actions_toward_them"] == 2
    assert f"@{second} toward @{person}" in consent.summary

    other = HttpGallery(
        gallery._settings,
        disclosure=DisclosureSettings(
            operator_name="Someone Else", operator_url=AnyUrl("https://else.example")
        ),
    )
    other.sync_disclosure(first)
    other.close()
    labels = _finding(honesty.audit(fleet), "labelled")
    assert labels.status == "short" and labels.figures["unlabelled"] == [first]
    assert _finding(honesty.fix_and_audit(fleet), "labelled").status == "ok"


def test_status_says_what_the_gallery_tells_of_consent(
    fleet: Fleet, gallery: HttpGallery, admin: Admin
) -> None:
    fleet.gallery = gallery
    person = admin.http.post("/admin/people", json={"count": 1}).json()["made"][0]
    admin.http.put(
        f"/api/admin/users/{person}/agent-consent", json={"agentInteractions": "replies"}
    )
    found = consent_of(fleet)
    assert (found["offered"], found["replies"], found["none"], found["problem"]) == (
        True,
        1,
        0,
        None,
    )
    assert "1 take replies only" in consent_line(found)
    fleet.gallery = HttpGallery(settings_for("http://127.0.0.1:9"))  # nothing listens there
    assert "could not be read" in consent_line(consent_of(fleet))


def test_the_cli_audit_exits_1_when_short_and_export_writes_every_action_with_its_origin(
    fleet: Fleet, gallery: HttpGallery, admin: Admin
) -> None:
    fleet.gallery = gallery
    ids = active_agents(fleet, 1)
    assert not provision_accounts(fleet.sessions, gallery, ids).failed
    handle = agents.get_agent(fleet.sessions, str(ids[0])).handle
    person = admin.http.post("/admin/people", json={"count": 1}).json()["made"][0]
    post = next(p for p in gallery.feed(agent=handle, limit=50) if p.username == person)
    ok = run(fleet, "audit")
    assert ok.exit_code == 0, ok.output
    assert "ok    labelled: 1 of 1 agent accounts (100%)" in ok.output
    said = admin.http.put(f"/api/admin/users/{person}/agent-consent", json={"block": [handle]})
    _liked(
        fleet,
        ids[0],
        post.id,
        datetime.fromisoformat(said.json()["updatedAt"]) + timedelta(hours=1),
    )
    short = run(fleet, "audit")
    assert short.exit_code == 1 and "SHORT consent: 1 actions" in short.output, short.output

    lines = run(fleet, "activity", "export").output.splitlines()
    rows = [json.loads(line) for line in lines]
    assert [(r["origin"], r["agent"], r["action"], r["post_id"]) for r in rows] == [
        ("automated", handle, "like", post.id)
    ]
    assert rows[0]["operator"] == "Fleet demo operator"
    table = list(
        csv.DictReader(io.StringIO(run(fleet, "activity", "export", "--format", "csv").output))
    )
    assert [(r["origin"], r["status"]) for r in table] == [("automated", "succeeded")]


def test_reconcile_fix_sets_the_operator_of_now_on_every_account(
    fleet: Fleet, gallery: HttpGallery
) -> None:
    from fleet.service.reconcile import check_and_fix

    fleet.gallery = gallery
    ids = active_agents(fleet, 2)
    assert not provision_accounts(fleet.sessions, gallery, ids).failed
    handles = [agents.get_agent(fleet.sessions, str(i)).handle for i in ids]
    other = HttpGallery(
        gallery._settings,
        disclosure=DisclosureSettings(
            operator_name="Old Operator", operator_url=AnyUrl("https://old.example")
        ),
    )
    other.sync_disclosure(handles[1])
    other.close()
    assert check_and_fix(fleet, timedelta(hours=1)).scanned["labels synced"] == 1
    assert {gallery.disclosure_of(h).operator_name for h in handles} == {"Fleet demo operator"}  # type: ignore[union-attr]
    assert check_and_fix(fleet, timedelta(hours=1)).scanned["labels synced"] == 0


def test_the_impact_report_counts_apart_the_people_who_said_no_on_the_gallery(
    fleet: Fleet, gallery: HttpGallery, admin: Admin
) -> None:
    from fleet.impact.holdout import Assignment, Person
    from fleet.impact.use_cases import turned_away

    fleet.gallery = gallery
    made = admin.http.post("/admin/people", json={"count": 3}).json()["made"]
    at = datetime(2026, 11, 16, 12, 0)
    people = [
        Person(Assignment(f"id-{name}", name, "newcomers1", "treated", 0.1, at)) for name in made
    ]
    assert turned_away(fleet, people) == frozenset(), "nobody said no yet"
    admin.http.put(f"/api/admin/users/{made[0]}/agent-consent", json={"agentInteractions": "none"})
    admin.http.put(f"/api/admin/users/{made[1]}/agent-consent", json={"agentInteractions": "all"})
    assert turned_away(fleet, people) == {f"id-{made[0]}"}


def test_the_console_overview_shows_the_audit_once_it_has_run(
    fleet: Fleet, gallery: HttpGallery
) -> None:
    import time

    from starlette.testclient import TestClient

    from fleet.console.app import build_app
    from fleet.console.security import Guard

    fleet.gallery = gallery
    ids = active_agents(fleet, 1)
    assert not provision_accounts(fleet.sessions, gallery, ids).failed
    with TestClient(build_app(fleet, Guard(None)), base_url="http://127.0.0.1") as http:
        deadline = time.monotonic() + 60  # the audit runs on a background thread
        page = http.get("/").text
        while "The audit has not run yet" in page and time.monotonic() < deadline:
            time.sleep(0.2)
            page = http.get("/").text
    section = page.split('id="honesty"', 1)[1].split("</section>", 1)[0]
    assert "Every check holds" in section, section
    for check in ("labelled", "consent", "human_claims", "identity_answers", "provenance"):
        assert f"<b>{check}</b>" in section

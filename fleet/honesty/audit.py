"""The honesty audit: its checks run over a window of the ledger, their findings one ``Audit``.

Does every person see what an agent is, is their "no" kept? ``audit(fleet)`` reads the
gallery and the ledger and runs ``CHECKS``, a list of small functions, each returning one
named ``Finding`` (``fleet.honesty.audit_scope``): ``ok``, ``short`` (the fleet falls
short: ``fleet audit`` exits 1) or ``unavailable`` (the check could not run or is not
wired yet: said, never counted as passing or failing, and never "all checks hold":
``fleet audit`` exits 3 when no check falls short but one could not run). More checks
slot in by appending to the list (docs/disclosure.md). The checks, one module a concept:

- what every agent account discloses (``fleet.honesty.audit_disclosure``): ``labelled``,
  ``bot_flag``, ``operator_link``;
- people's "no" kept (``fleet.consent.audit``): ``consent``; no follow toward a
  person who said no or is held out (``fleet.consent.audit_follows``): ``follows``;
- what the published words say an agent is (``fleet.honesty.audit_texts``):
  ``human_claims``, ``identity_answers``;
- the images' provenance marks (``fleet.honesty.audit_images``): ``provenance``,
  ``platform_marks``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fleet.consent.audit import consent_honoured
from fleet.consent.audit_follows import follows_said_no
from fleet.gallery.consent import ReadsConsent
from fleet.honesty.audit_disclosure import bot_flag, labelled, operator_link, sync_labels
from fleet.honesty.audit_images import platform_marks, provenance
from fleet.honesty.audit_scope import Check, Finding, Scope
from fleet.honesty.audit_texts import human_claims, identity_answers
from fleet.service.admin_gallery import gallery_of
from fleet.service.root import Fleet

CHECKS: list[Check] = [
    labelled,
    bot_flag,
    consent_honoured,
    follows_said_no,
    human_claims,
    identity_answers,
    provenance,
    platform_marks,
    operator_link,
]


@dataclass(frozen=True)
class Audit:
    """Every check's finding; ``ok`` when none falls short."""

    at: datetime
    since: datetime
    findings: list[Finding]

    @property
    def ok(self) -> bool:
        """No check falls short (those that could not run say nothing either way)."""
        return all(f.status != "short" for f in self.findings)

    @property
    def unchecked(self) -> list[str]:
        """The checks that could not run (the gallery down, an answer unreadable): the
        audit cannot say they hold."""
        return [f.name for f in self.findings if f.status == "unavailable"]

    @property
    def holds(self) -> bool:
        """Every check ran and none falls short: only then do all checks hold."""
        return self.ok and not self.unchecked

    def to_json(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "since": self.since.isoformat(),
            "ok": self.ok,
            "holds": self.holds,
            "unchecked": self.unchecked,
            "findings": [f.to_json() for f in self.findings],
        }


def unchecked_lines(findings: list[dict[str, Any]], consent: dict[str, Any]) -> list[str]:
    """What ``fleet status --check`` could not check, as sentences: the audit's checks
    that could not run (``findings`` as ``Audit.to_json`` gives them) and people's consent
    when the gallery could not be read (``consent_of``)."""
    lines = [
        f"audit {f['name']} could not run: {str(f['summary'])[:200]}"
        for f in findings
        if f["status"] == "unavailable"
    ]
    if consent.get("unreachable"):
        lines.append(f"people's consent could not be read: {str(consent['unreachable'])[:200]}")
    return lines


def audit(
    fleet: Fleet,
    *,
    window: timedelta = timedelta(days=7),
    checks: list[Check] | None = None,
) -> Audit:
    """Run the checks over the last ``window`` of the ledger and the gallery as it is now."""
    now = fleet.clock.now()
    with gallery_of(fleet) as gallery:
        return _audited(Scope(fleet, gallery, since=now - window, now=now), checks)


def fix_and_audit(
    fleet: Fleet,
    *,
    window: timedelta = timedelta(days=7),
    checks: list[Check] | None = None,
) -> Audit:
    """First sync the label of every live agent account whose label differs, then run
    the checks as ``audit`` does."""
    now = fleet.clock.now()
    with gallery_of(fleet) as gallery:
        if isinstance(gallery, ReadsConsent):
            sync_labels(fleet, gallery)
        return _audited(Scope(fleet, gallery, since=now - window, now=now), checks)


def _audited(scope: Scope, checks: list[Check] | None) -> Audit:
    findings = [check(scope) for check in (CHECKS if checks is None else checks)]
    return Audit(scope.now, scope.since, findings)

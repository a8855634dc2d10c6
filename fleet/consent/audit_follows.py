"""The audit's check that no agent followed a person who said no or is held out.

A follow is engagement. ``follows_said_no`` counts the fleet's follows (the
ledger's succeeded ``follow`` actions in the audit's window) toward:

- people who opted out of agents or blocked the following agent, ended after they said
  so: short when one ended later than ``CONSENT_BOUND`` after (the most a process's copy
  of people's consent may be stale), as the ``consent`` check counts likes and comments;
- people the newcomer holdout spares, within their holdout (``activities.touches_of_the_held``,
  the follows among them): short at any.

The clean figure is 0 of each. An account of the fleet's own is nobody's say.
"""

from __future__ import annotations

from typing import Any

from fleet import activities
from fleet.consent.audit import CONSENT_BOUND
from fleet.consent.core import Consent, allows
from fleet.errors import FleetError
from fleet.gallery.consent import ConsentRead
from fleet.honesty.audit_scope import Finding, Scope


def follows_said_no(scope: Scope) -> Finding:
    """Follows toward people who opted out, blocked the agent, or are held out: 0."""
    impact = scope.fleet.settings.impact
    held = [
        t
        for t in activities.touches_of_the_held(
            scope.fleet.sessions, impact.experiment, impact.holdout_days
        )
        if t.action == "follow" and t.at >= scope.since
    ]
    figures: dict[str, Any] = {"toward_held_out": len(held)}
    examples = [f"follow by @{t.agent} toward held-out @{t.username}" for t in held[:5]]
    read: ConsentRead | None
    try:
        read = scope.consent()
    except FleetError as error:
        read, unread = None, f"people's consent could not be read: {error}"
    else:
        unread = "" if read.offered else "the gallery offers no consent calls"
    toward = late = 0
    if read is not None and read.offered:
        settings = scope.fleet.settings.consent
        consent = Consent(
            people=read.people, unreadable=read.unreadable, cool_fleet=settings.cool_fleet
        )
        closed = set(read.people) | set(read.unreadable)
        for action in scope.actions(("follow",)) if closed else ():
            result = action.result or {}
            person = str(result.get("person") or action.target_post_id or "")
            if not person or result.get("person_is_agent") or person not in closed:
                continue
            if allows(consent, action.handle, "follow", person):
                continue
            said = read.said_at.get(person)
            ended = action.finished_at or action.created_at
            if said is not None and ended <= said:
                continue  # followed before they said no
            toward += 1
            if said is None or ended > said + CONSENT_BOUND:
                late += 1
                if len(examples) < 5:
                    examples.append(f"follow by @{action.handle} toward @{person}")
        figures |= {"people_said_no": len(closed), "toward_said_no": toward, "later": late}
    line = (
        f"{late} follows toward people who opted out or blocked the agent (later than "
        f"{CONSENT_BOUND.total_seconds() / 60:g} min after they said so), "
        f"{len(held)} toward held-out newcomers"
    )
    if late or held:
        return Finding("follows", "short", f"{line}: {'; '.join(examples)}", figures)
    if unread:
        return Finding("follows", "unavailable", f"{line}; {unread}", figures)
    return Finding("follows", "ok", line, figures)

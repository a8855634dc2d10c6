"""The audit's checks of what the fleet's published words say an agent is.

- ``human_claims``: no text the fleet published claims to be human;
- ``identity_answers``: every question about what an agent is got a truthful answer
  (automated, the operator named), none waiting past ``IDENTITY_BOUND``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fleet.honesty.audit_scope import Finding, Scope

# An identity question still unanswered this long after it was asked falls short: an agent
# asleep through its persona's night answers at its next session, within a day.
IDENTITY_BOUND = timedelta(hours=36)


def human_claims(scope: Scope) -> Finding:
    """Published texts claiming to be human: short at any (the guard's own check,
    ``fleet.honesty.human_claim.human_claim``, over every text the fleet published in
    the window)."""
    from fleet.honesty import use_cases as honesty

    found = honesty.human_claims(scope.fleet, since=scope.since)
    figures: dict[str, Any] = {
        "checked": found.checked,
        "claims": found.count,
        "examples": [
            {"agent": c.agent, "action": c.action, "activity_id": c.activity_id}
            for c in found.claims[:5]
        ],
    }
    if found.count:
        first = found.claims[0]
        return Finding(
            "human_claims",
            "short",
            f"{found.count} of {found.checked} published texts claim to be human "
            f"(the first: activity {first.activity_id} by @{first.agent})",
            figures,
        )
    return Finding(
        "human_claims", "ok", f"0 of {found.checked} published texts claim to be human", figures
    )


def identity_answers(scope: Scope) -> Finding:
    """Questions about what an agent is: every answer truthful (automated, the operator
    named), and none left waiting longer than ``IDENTITY_BOUND`` (an agent asleep through
    its night answers at its next session)."""
    from fleet.honesty import use_cases as honesty

    found = honesty.identity_answers(scope.fleet, since=scope.since)
    late = [(agent, at) for agent, at in found.waiting if scope.now - at > IDENTITY_BOUND]
    figures: dict[str, Any] = {
        "asked": found.asked,
        "answered": found.answered,
        "truthful": found.truthful,
        "median_minutes": found.median_minutes,
        "max_minutes": found.max_minutes,
        "waiting": len(found.waiting),
        "waiting_past_bound": len(late),
        "closed": found.closed,
    }
    soon = (
        ""
        if found.median_minutes is None
        else f"; median {found.median_minutes:.0f} min, longest {found.max_minutes:.0f} min"
    )
    summary = (
        f"{found.truthful} of {found.answered} answers to {found.asked} identity questions "
        f"truthful{soon}; {len(found.waiting)} waiting"
        + (
            "; closed unowed: " + ", ".join(f"{n} {why}" for why, n in sorted(found.closed.items()))
            if found.closed
            else ""
        )
    )
    if found.truthful < found.answered or late:
        past = f", {len(late)} past {IDENTITY_BOUND.total_seconds() / 3600:g} h" if late else ""
        return Finding("identity_answers", "short", summary + past, figures)
    return Finding("identity_answers", "ok", summary, figures)

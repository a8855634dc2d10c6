"""People's say over agents as the gallery tells it now, for ``fleet status``."""

from __future__ import annotations

from typing import Any

from fleet.errors import FleetError, TransientError
from fleet.gallery.consent import ReadsConsent
from fleet.service.admin_gallery import gallery_of
from fleet.service.root import Fleet


def consent_of(fleet: Fleet) -> dict[str, Any]:
    """People's consent as the gallery says it now, for ``fleet status``: whether it offers
    the calls, how many people said no, and whether the read failed (then no person is
    engaged, fail safe)."""
    settings = fleet.settings.consent
    with gallery_of(fleet) as gallery:
        if not isinstance(gallery, ReadsConsent):
            return {"offered": None, "problem": None}
        try:
            read = gallery.agent_consent()
        except TransientError as error:
            return {"offered": None, "problem": None, "unreachable": str(error)[:200]}
        except FleetError as error:
            return {"offered": True, "problem": f"people's consent is unreadable: {error}"[:300]}
    found: dict[str, Any] = {"offered": read.offered, "problem": None}
    if not read.offered:
        found["when_unoffered"] = settings.when_unoffered
        return found
    said = list(read.people.values())
    found |= {
        "none": sum(p.interactions == "none" for p in said),
        "replies": sum(p.interactions == "replies" for p in said),
        "blocking": sum(bool(p.blocked) for p in said),
        "unreadable": len(read.unreadable),
        "cool_fleet": settings.cool_fleet,
    }
    if read.unreadable:
        found["problem"] = (
            f"the consent of {len(read.unreadable)} people could not be read: they are not engaged"
        )
    return found


def consent_line(found: dict[str, Any]) -> str:
    """``fleet status``'s line on people's consent."""
    if found.get("unreachable"):
        return "consent: the gallery could not be read now (no person is engaged until it is)"
    if found.get("offered") is None:
        return "consent: this gallery client cannot read people's consent"
    if not found["offered"]:
        return (
            "consent: the gallery offers no consent calls; people are engaged as "
            f"FLEET_CONSENT__WHEN_UNOFFERED={found['when_unoffered']} says"
        )
    if "none" not in found:
        return f"consent: {found['problem']}"
    line = (
        f"consent: {found['none']} people opted out of agents, {found['replies']} take replies "
        f"only, {found['blocking']} blocked an agent"
        + (" (the fleet cools toward them)" if found["cool_fleet"] else "")
    )
    return line + (f"; {found['problem']}" if found["problem"] else "")

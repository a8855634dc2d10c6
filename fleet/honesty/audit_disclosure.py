"""The audit's checks of what every agent account discloses: label, bot flag, operator's link.

- ``labelled``: every live agent account carries the automated label and the operator's
  name and link the settings give (``FLEET_DISCLOSURE__*``), as the gallery's API says;
  ``sync_labels`` sets them where they differ (``fleet audit --fix``, ``fleet reconcile``).
- ``bot_flag``: accounts whose note and "Operated by" field carry that disclosure but
  whose bot flag the server did not keep (Takahē): said apart, not counted unlabelled.
- ``operator_link``: the operator's link every account shows opens.
"""

from __future__ import annotations

from typing import Any

from fleet import agents
from fleet.errors import FleetError, TransientError
from fleet.gallery.consent import LABEL, Disclosure, ReadsConsent
from fleet.honesty.audit_scope import MAX_READS, Finding, Scope
from fleet.service.root import Fleet
from fleet.settings import DisclosureSettings


def labelled(scope: Scope) -> Finding:
    """Every live agent account carries the label and the operator's name and link."""
    if not isinstance(scope.gallery, ReadsConsent):
        return Finding("labelled", "unavailable", "the gallery client cannot read profiles")
    wanted = scope.fleet.settings.disclosure
    handles = agents.live_handles_with_accounts(scope.fleet.sessions, limit=MAX_READS)
    missing: list[str] = []
    dropped: list[str] = []
    for handle in handles:
        try:
            shown = scope.gallery.disclosure_of(handle)
        except TransientError as error:  # the gallery cannot be read now: no verdict
            return Finding("labelled", "unavailable", f"the gallery could not be read: {error}")
        except FleetError:
            shown = None
        if shown is None or not _names_operator(shown, wanted):
            missing.append(handle)
        elif not shown.automated:
            dropped.append(handle)
    done = len(handles) - len(missing)
    share = 1.0 if not handles else done / len(handles)
    figures: dict[str, Any] = {"accounts": len(handles), "labelled": done}
    figures |= {"share": round(share, 4), "unlabelled": missing[:20]}
    scope.notes["bot_flag_dropped"] = dropped
    line = (
        f"{done} of {len(handles)} agent accounts ({share:.0%}) say they are automated and "
        f"name {wanted.operator_name} with a link"
    )
    if missing:
        more = ", ".join("@" + h for h in missing[:5])
        return Finding(
            "labelled", "short", f"{line}; not: {more} (`fleet audit --fix` syncs them)", figures
        )
    return Finding("labelled", "ok", line, figures)


def _names_operator(shown: Disclosure, wanted: DisclosureSettings) -> bool:
    """The account's note and field say what Fleet set: the label, the operator, the link."""
    return (
        shown.label == LABEL
        and shown.operator_name == wanted.operator_name
        and shown.operator_url == str(wanted.operator_url)
    )


def bot_flag(scope: Scope) -> Finding:
    """Accounts whose note and "Operated by" field carry Fleet's disclosure but whose bot
    flag the server did not keep (Takahē: Fleet sets it in the same call that set the
    note, and the server answers ``bot: false``). Not unlabelled: the text carries it;
    said apart, as the platform's doing. Read from ``labelled``'s pass (run it first)."""
    if "bot_flag_dropped" not in scope.notes:
        return Finding("bot_flag", "unavailable", "the accounts' disclosure was not read")
    dropped: list[str] = scope.notes["bot_flag_dropped"]
    figures: dict[str, Any] = {"dropped": len(dropped), "accounts": dropped[:20]}
    if not dropped:
        return Finding(
            "bot_flag", "ok", "the server kept the bot flag of every agent account", figures
        )
    return Finding(
        "bot_flag",
        "ok",
        f"server did not keep the bot flag of {len(dropped)} agent accounts; note and "
        "'Operated by' field carry the disclosure",
        figures,
    )


def operator_link(scope: Scope) -> Finding:
    """The operator's link every agent account shows opens (an http(s) GET answers 2xx
    within its deadline): a person who follows it learns who runs the agents."""
    from fleet.honesty import use_cases as honesty

    found = honesty.operator_link(scope.fleet)
    figures: dict[str, Any] = {"url": found.url[:200], "status": found.status}
    if found.ok:
        return Finding(
            "operator_link", "ok", f"the operator's link opens (HTTP {found.status})", figures
        )
    return Finding(
        "operator_link",
        "short",
        f"the operator's link {found.url[:120]} does not open: {found.reason} "
        "(FLEET_DISCLOSURE__OPERATOR_URL; docs/disclosure.md)",
        figures,
    )


def sync_labels(fleet: Fleet, gallery: ReadsConsent) -> int:
    """Set the operator's label on every live agent account that shows another; how many."""
    wanted = fleet.settings.disclosure
    synced = 0
    for handle in agents.live_handles_with_accounts(fleet.sessions, limit=MAX_READS):
        shown = gallery.disclosure_of(handle)
        # Note and field as Fleet set them but no bot flag: the server dropped it in the
        # same call that kept them; PATCHing again on every run would change nothing.
        if shown is None or not _names_operator(shown, wanted):
            gallery.sync_disclosure(handle)
            synced += 1
    return synced

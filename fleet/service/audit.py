"""The honesty audit: does every person see what an agent is, and is their "no" kept?

``audit(fleet)`` reads the gallery and the ledger and runs ``CHECKS``, a list of small
functions, each returning one named ``Finding``: ``ok``, ``short`` (the fleet falls short:
``fleet audit`` exits 1) or ``unavailable`` (the check could not run or is not wired yet:
said, never counted as passing or failing, and never "all checks hold": ``fleet audit``
exits 3 when no check falls short but one could not run). More checks slot in by
appending to the list (docs/disclosure.md).

- ``labelled``: every live agent account carries the automated label and the operator's
  name and link the settings give (``FLEET_DISCLOSURE__*``), as the gallery's API says.
- ``bot_flag``: accounts whose note and "Operated by" field carry that disclosure but
  whose bot flag the server did not keep (Takahē): said apart, not counted unlabelled.
- ``consent``: no like, comment, reply or follow toward a person who opted out or blocked that
  agent later than ``CONSENT_BOUND`` after they said so (the consent cache's bound).
- ``follows``: no follow toward a person who opted out, blocked the agent or is held out
  (``fleet.service.follows_audit``);
- ``human_claims``: no text the fleet published claims to be human;
- ``identity_answers``: every question about what an agent is got a truthful answer
  (automated, the operator named), none waiting past ``IDENTITY_BOUND``;
- ``provenance``: every image published carries valid provenance marks, and no post was
  skipped for want of them.
- ``platform_marks``: of the images Fleet made and uploaded itself, how many each
  platform kept marked ("platform X did not keep provenance marks: N of M images"); short
  when a stripped image's post lacks the text disclosure (alt text and caption line).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from fleet import activities, agents
from fleet.activities import ActivityFilter, ActivityView
from fleet.core.consent import MAX_STALE_SECONDS, Consent, allows
from fleet.core.statuses import ActivityStatus
from fleet.errors import FleetError, TransientError
from fleet.gallery.consent import LABEL, ConsentRead, Disclosure, ReadsConsent
from fleet.gallery.port import Gallery, GalleryComment
from fleet.service.root import Fleet
from fleet.settings import DisclosureSettings

Status = Literal["ok", "short", "unavailable"]

# An action is counted against a person's say when it ended this long after they said it:
# the most a process's copy of people's consent may be stale (fleet.actions.choosing).
CONSENT_BOUND = timedelta(seconds=MAX_STALE_SECONDS)
# The most ledger rows and gallery reads one audit makes (a bounded audit, said if cut).
MAX_ACTIONS = 200_000
MAX_READS = 5_000
PAGE = 1_000
# An identity question still unanswered this long after it was asked falls short: an agent
# asleep through its persona's night answers at its next session, within a day.
IDENTITY_BOUND = timedelta(hours=36)


@dataclass(frozen=True)
class Finding:
    """One check's answer: its name, a verdict and a line a person reads, with figures."""

    name: str
    status: Status
    summary: str
    figures: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "summary": self.summary,
            "figures": self.figures,
        }


@dataclass
class Scope:
    """What the checks read: the fleet, its gallery, the window, and reads they share."""

    fleet: Fleet
    gallery: Gallery
    since: datetime
    now: datetime
    _consent: ConsentRead | FleetError | None = None
    # What one check found for a later one (``labelled`` -> ``bot_flag``).
    notes: dict[str, Any] = field(default_factory=dict)

    def consent(self) -> ConsentRead:
        """The gallery's consent list, read once for every check (raises FleetError)."""
        if self._consent is None:
            if not isinstance(self.gallery, ReadsConsent):
                self._consent = FleetError("the gallery client cannot read people's consent")
            else:
                try:
                    self._consent = self.gallery.agent_consent()
                except FleetError as error:
                    self._consent = error
        if isinstance(self._consent, FleetError):
            raise self._consent
        return self._consent

    def actions(self, kinds: tuple[str, ...]) -> Iterator[ActivityView]:
        """Succeeded actions of these kinds in the window, newest first (bounded)."""
        seen = 0
        for kind in kinds:
            before: int | None = None
            while seen < MAX_ACTIONS:
                where = ActivityFilter(
                    None, kind, ActivityStatus.SUCCEEDED, self.since, PAGE, None, before
                )
                page = activities.list_activities(self.fleet.sessions, where)
                yield from page
                seen += len(page)
                if len(page) < PAGE:
                    break
                before = page[-1].id


Check = Callable[[Scope], Finding]


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


def _actions_toward(
    scope: Scope, read: ConsentRead, consent: Consent, closed: set[str], authors: _Authors
) -> tuple[int, int, list[str]]:
    """Of the window's likes, comments, replies and follows, those toward the people ``closed``
    that their say does not allow, after they said it: how many, how many of them later
    than the bound, and up to five of those."""
    toward = late = 0
    examples: list[str] = []
    for action in scope.actions(("like", "comment", "reply", "follow")):
        person = authors.of(action)
        if person is None or person not in closed:
            continue
        if allows(consent, action.handle, action.action, person):
            continue
        said = read.said_at.get(person)
        ended = action.finished_at or action.created_at
        if said is not None and ended <= said:
            continue  # before they said it
        toward += 1
        if said is None or ended > said + CONSENT_BOUND:
            late += 1
            if len(examples) < 5:
                examples.append(f"{action.action} by @{action.handle} toward @{person}")
    return toward, late, examples


def consent_honoured(scope: Scope) -> Finding:
    """No action toward a person who said no, later than the bound after they said it."""
    try:
        read = scope.consent()
    except FleetError as error:
        return Finding("consent", "unavailable", f"people's consent could not be read: {error}")
    if not read.offered:
        return Finding(
            "consent",
            "unavailable",
            "the gallery offers no consent calls; people are engaged as "
            f"FLEET_CONSENT__WHEN_UNOFFERED says ({scope.fleet.settings.consent.when_unoffered})",
        )
    settings = scope.fleet.settings.consent
    consent = Consent(
        people=read.people,
        unreadable=read.unreadable,
        cool_fleet=settings.cool_fleet,
    )
    closed = set(read.people) | set(read.unreadable)
    if not closed:
        return Finding("consent", "ok", "no person has opted out or blocked an agent", {})
    authors = _Authors(scope.gallery)
    toward, late, examples = _actions_toward(scope, read, consent, closed, authors)
    figures: dict[str, Any] = {
        "people_said_no": len(closed),
        "actions_toward_them": toward,
        "later_than_bound": late,
        "bound_seconds": int(CONSENT_BOUND.total_seconds()),
        "posts_read": authors.reads,
    }
    line = (
        f"{late} actions toward the {len(closed)} people who opted out or blocked later than "
        f"{CONSENT_BOUND.total_seconds() / 60:g} min after they said so "
        f"({toward - late} within that bound)"
    )
    if authors.cut:
        figures["cut"] = True
        line += f"; cut at {MAX_READS} gallery reads"
    if late:
        return Finding("consent", "short", f"{line}: {'; '.join(examples)}", figures)
    return Finding("consent", "ok", line, figures)


class _Authors:
    """Whose post or comment an action was toward, read from the gallery once per post."""

    def __init__(self, gallery: Gallery) -> None:
        self._gallery = gallery
        self._posts: dict[str, str | None] = {}
        self._comments: dict[str, dict[str, GalleryComment]] = {}
        self.reads = 0
        self.cut = False

    def _read(self) -> bool:
        if self.reads >= MAX_READS:
            self.cut = True
            return False
        self.reads += 1
        return True

    def of(self, action: ActivityView) -> str | None:
        """The person (handle) the action was toward; None for an agent or unknown."""
        result = action.result or {}
        if action.action == "follow":
            # A follow's target is the account itself (its handle); an agent's is nobody's.
            handle = str(result.get("person") or action.target_post_id or "")
            return None if not handle or result.get("person_is_agent") else handle
        post_id = str(result.get("post_id") or action.target_post_id or "")
        if not post_id:
            return None
        if action.action == "reply":
            if post_id not in self._comments and self._read():
                try:
                    found = self._gallery.comments(agent=action.handle, post_id=post_id, limit=100)
                except FleetError:
                    found = []
                self._comments[post_id] = {c.id: c for c in found}
            parent = self._comments.get(post_id, {}).get(action.target_post_id or "")
            return None if parent is None or parent.user_is_agent else parent.username
        if post_id not in self._posts and self._read():
            try:
                post = self._gallery.get_post(agent=action.handle, post_id=post_id)
                self._posts[post_id] = None if post.user_is_agent else post.username
            except FleetError:
                self._posts[post_id] = None
        return self._posts.get(post_id)


def human_claims(scope: Scope) -> Finding:
    """Published texts claiming to be human: short at any (the guard's own check,
    ``fleet.content.guard.human_claim.human_claim``, over every text the fleet published in
    the window)."""
    from fleet.service import honesty

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
    from fleet.service import honesty

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


def provenance(scope: Scope) -> Finding:
    """Every image the fleet published in the window carries valid provenance marks (IPTC's
    digital source type in XMP and a signed C2PA manifest, checked before it was posted);
    posts skipped for want of them mean the gallery's workflow loses the marks: both short
    (docs/provenance.md)."""
    published, marked, refused = activities.provenance_counts(
        scope.fleet.sessions, scope.since, scope.now
    )
    figures: dict[str, Any] = {"published": published, "marked": marked, "refused": refused}
    summary = (
        f"{marked} of {published} published images carry valid provenance marks; "
        f"{refused} posts skipped for want of them"
    )
    if marked < published or refused:
        return Finding("provenance", "short", summary, figures)
    return Finding("provenance", "ok", summary, figures)


def platform_marks_of(fleet: Fleet, since: datetime, until: datetime) -> list[dict[str, Any]]:
    """Each platform's images Fleet made and uploaded in the window: how many, how many
    kept their provenance marks, and of the stripped ones how many carried the text
    disclosure instead (``fleet.content.images.disclosure``), with a line a person reads."""
    found = []
    for seen in activities.marks_kept(fleet.sessions, since, until):
        line = (
            f"platform {seen.platform} did not keep provenance marks: {seen.stripped} of "
            f"{seen.images} images ({seen.disclosed} of them disclosed in the alt text and "
            "caption instead)"
            if seen.stripped
            else f"platform {seen.platform} kept the provenance marks of all {seen.images} images"
        )
        found.append(
            {
                "platform": seen.platform,
                "images": seen.images,
                "kept": seen.kept,
                "stripped": seen.stripped,
                "disclosed": seen.disclosed,
                "line": line,
            }
        )
    return found


def platform_marks(scope: Scope) -> Finding:
    """Whether the platforms kept the marks of the images Fleet made and uploaded: a
    platform that strips them is said (the EU AI Act's machine-readable mark is lost
    there); short only when a stripped image's post went without the text disclosure."""
    seen = platform_marks_of(scope.fleet, scope.since, scope.now + timedelta(seconds=1))
    if not seen:
        return Finding(
            "platform_marks", "ok", "no image Fleet made itself was uploaded in the window", {}
        )
    figures: dict[str, Any] = {
        "platforms": [{k: v for k, v in m.items() if k != "line"} for m in seen]
    }
    summary = "; ".join(m["line"] for m in seen)
    if any(m["disclosed"] < m["stripped"] for m in seen):
        return Finding(
            "platform_marks", "short", summary + ": some posts lack the disclosure", figures
        )
    return Finding("platform_marks", "ok", summary, figures)


def operator_link(scope: Scope) -> Finding:
    """The operator's link every agent account shows opens (an http(s) GET answers 2xx
    within its deadline): a person who follows it learns who runs the agents."""
    from fleet.service import honesty

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


def follows_said_no(scope: Scope) -> Finding:
    """No follow toward a person who said no or is held out (``service.follows_audit``)."""
    from fleet.service.follows_audit import follows_toward_said_no

    return Finding("follows", *follows_toward_said_no(scope))


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


@contextmanager
def gallery_of(fleet: Fleet) -> Iterator[Gallery]:
    gallery = fleet.open_gallery()
    try:
        yield gallery
    finally:
        if fleet.gallery is None:
            gallery.close()


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

"""``fleet agents credentials``: each agent's platform token, set, checked, revoked, listed
and re-sealed (docs/credentials.md). No function here returns or logs a token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fleet import agents
from fleet.agents import CredentialView
from fleet.agents.credentials import UnopenedToken
from fleet.errors import FleetError, TransientError
from fleet.gallery.credentials import TokenRefused, Verified, VerifiesTokens, verifier_for
from fleet.infra.redaction import remember
from fleet.service.root import Fleet


def gallery_kind(fleet: Fleet) -> str:
    """The configured gallery's kind: "mastodon" for the Mastodon client API, else the
    FloImg API ("floimg", the sandbox's) when the setting is not there."""
    return str(getattr(fleet.settings.gallery, "kind", "floimg"))


def set_token(fleet: Fleet, ref: str, token: str) -> str:
    """Seal and keep the agent's token; its handle. A refusal recorded before is cleared."""
    handle = agents.set_token(fleet.sessions, fleet.token_seal(), ref, token, now=fleet.clock.now())
    fleet.credentials.forget(handle)
    return handle


def revoke(fleet: Fleet, ref: str) -> tuple[str, bool]:
    """Forget the agent's token; its handle and whether it had one."""
    handle, had = agents.revoke_token(fleet.sessions, ref, now=fleet.clock.now())
    fleet.credentials.forget(handle)
    return handle, had


def listing(fleet: Fleet) -> list[CredentialView]:
    """Which agents have a token, and when it was set, checked, refused or revoked."""
    return agents.credential_views(fleet.sessions)


def rotate(fleet: Fleet) -> int:
    """Re-seal every stored token with the newest key; how many."""
    return agents.rotate_tokens(fleet.sessions, fleet.token_seal())


def new_key() -> str:
    """A fresh key for FLEET_CREDENTIALS__KEYS."""
    return agents.new_key()


@dataclass(frozen=True, slots=True)
class Checked:
    """What ``check`` found: ``ok`` True (the account named), False (refused: recorded),
    or None (it does not apply to this gallery, or the platform could not answer now)."""

    handle: str
    ok: bool | None
    said: str

    def to_json(self) -> dict[str, Any]:
        return {"agent": self.handle, "ok": self.ok, "said": self.said}


def check(fleet: Fleet, ref: str, *, verifier: VerifiesTokens | None = None) -> Checked:
    """Ask the platform whom the agent's token acts as (verify_credentials), and keep
    the answer; a 401 marks the token refused and sets the agent aside, as a refusal
    met by an action does. ``verifier``: the configured gallery kind's, unless given."""
    settings = fleet.settings
    verifier = verifier or verifier_for(
        gallery_kind(fleet),
        str(settings.gallery.url),
        timeout_seconds=settings.credentials.verify_timeout_seconds,
    )
    handle, view, sealed = agents.sealed_token(fleet.sessions, ref)
    if verifier is None:
        return Checked(
            handle,
            None,
            f"does not apply: the {gallery_kind(fleet)} gallery (the FloImg API) has no "
            "per-agent tokens; its agents act under FLEET_GALLERY__TOKEN",
        )
    try:
        token = fleet.token_seal().open(sealed)
        remember(token)
    except UnopenedToken:
        return Checked(
            handle, None, "no key of FLEET_CREDENTIALS__KEYS opens its token: set it again"
        )
    now = fleet.clock.now()
    try:
        verified: Verified = verifier.verify(token)
    except TokenRefused as refused:
        fleet.credentials.refused(handle, refused.reason)
        agents.record_check(fleet.sessions, view.agent_id, ok=False, said=refused.reason, now=now)
        return Checked(handle, False, f"refused by the platform ({refused.reason})")
    except TransientError as error:
        return Checked(handle, None, f"the platform could not answer now: {error}")
    except FleetError as error:
        return Checked(handle, None, f"the platform's answer: {error}")
    said = f"acts as @{verified.username} (account {verified.account_id})"
    agents.record_check(fleet.sessions, view.agent_id, ok=True, said=said, now=now)
    return Checked(handle, True, said)


def credentials_of(fleet: Fleet) -> dict[str, Any]:
    """For ``fleet status``: how many agents have a token, and those refused, with why."""
    counts, refused = agents.credential_counts(fleet.sessions)
    return {
        "set": counts.get("set", 0),
        "refused": [
            {
                "agent": v.handle,
                "at": None if v.failed_at is None else v.failed_at.isoformat(),
                "reason": v.failure,
            }
            for v in refused
        ],
        "refused_count": counts.get("refused", 0),
        "revoked": counts.get("revoked", 0),
    }


def credentials_line(found: dict[str, Any]) -> str | None:
    """``fleet status``'s problem line for refused tokens (None: none refused)."""
    count = found.get("refused_count", 0)
    if not count:
        return None
    first = found["refused"][0]
    return (
        f"{count} agent(s) stopped: the platform refused their token, the first @{first['agent']} "
        f"({str(first['reason'])[:120]}); fleet agents credentials set AGENT, then "
        "fleet agents start AGENT"
    )

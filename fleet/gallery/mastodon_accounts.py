"""The agents' accounts on a Mastodon-API server: their disclosure, people's say, their relationships.

No client call creates or deletes an account: the operator makes it, Fleet checks its
token (``verify_credentials``) then sets the disclosure (``bot``, the note naming the
operator, the field "Operated by"). People's consent is the fediverse's: ``#nobot`` or
``#noai`` in an account's note or fields. A person's block is read from the server's
relationships where the server does not enforce it itself (Takahē). Following people
belongs here too: it is a relationship of the agent's account.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from fleet.errors import PermanentError
from fleet.gallery.answers import GalleryRefused, MalformedAnswer
from fleet.gallery.consent import LABEL, ConsentRead, Disclosure
from fleet.gallery.mastodon_reading import MAX_KEPT, StatusReader
from fleet.gallery.mastodon_text import text_of
from fleet.gallery.mastodon_wire import MAX_PAGES, PAGE
from fleet.gallery.port import GalleryUser
from fleet.settings import DisclosureSettings

log = logging.getLogger("fleet.gallery.mastodon")


OPERATED_BY = "Operated by"
BLOCK_SECONDS = 120.0  # as long as people's consent is kept (ConsentSettings.refresh_seconds)


class AgentAccounts(StatusReader):
    """The agents' accounts as the server shows them to people, with whom they may engage."""

    _disclosure: DisclosureSettings
    # Which authors block which agent (read from the server's relationships, kept
    # BLOCK_SECONDS).
    _blocks: dict[tuple[str, str], tuple[bool, float]]

    def provision_user(self, *, handle: str, name: str, persona: str) -> GalleryUser:
        """The agent's account: the operator makes it and gives Fleet its token (no client
        call creates accounts); Fleet checks the token and sets the disclosure."""
        self._accounts.pop(handle, None)
        account_id = self._account_id(handle)
        self._update(handle, display_name=name[:30])
        return GalleryUser(id=account_id, username=handle, created=False)

    def delete_user(self, user_id: str) -> bool:
        """Not a client call: an operator deletes an account with the server's own tools."""
        raise PermanentError(
            "the Mastodon client API cannot delete accounts: delete it with the server's "
            "admin tools, and revoke its token in Fleet"
        )

    def _note(self) -> str:
        d = self._disclosure
        return f"{LABEL}, operated by {d.operator_name}: {d.operator_url}"

    def wanted_disclosure(self) -> Disclosure:
        d = self._disclosure
        return Disclosure(True, LABEL, d.operator_name, str(d.operator_url))

    def _update(self, handle: str, **extra: Any) -> dict[str, Any]:
        d = self._disclosure
        body: dict[str, Any] = {
            "bot": True,
            "note": self._note(),
            "fields_attributes": {"0": {"name": OPERATED_BY, "value": str(d.operator_url)}},
            **extra,
        }
        data, _ = self._call(
            "PATCH", "/api/v1/accounts/update_credentials", agent=handle, json=body
        )
        if not isinstance(data, dict):
            raise MalformedAnswer("mastodon update_credentials: the answer is not an account")
        return data

    def sync_disclosure(self, handle: str) -> None:
        """Set the account's bot flag, its note naming the operator and the field
        "Operated by"; a server that drops the flag is logged (the audit reads it back)."""
        self._update(handle)
        shown = self.disclosure_of(handle)
        if shown is not None and not shown.automated:
            log.warning(
                "mastodon: the server did not keep the bot flag of %s; its note and "
                "profile field carry the disclosure",
                handle,
            )

    def disclosure_of(self, handle: str) -> Disclosure | None:
        """What the account shows: its bot flag as the server reports it (a server that
        drops it reads as not automated), the label and operator its note and fields say."""
        data, _ = self._call("GET", "/api/v1/accounts/verify_credentials", agent=handle)
        if not isinstance(data, dict):
            return None
        note = text_of(data.get("note"), 2000)
        url = ""
        for entry in (data.get("fields") or [])[:16]:
            if isinstance(entry, dict) and text_of(entry.get("name"), 255) == OPERATED_BY:
                url = text_of(entry.get("value"), 2000)
        name = self._disclosure.operator_name
        if f"operated by {name}" not in note:
            name = ""
        return Disclosure(
            data.get("bot") is True, LABEL if note.startswith(LABEL) else "", name, url
        )

    def agent_consent(self) -> ConsentRead:
        """People's say, the fediverse's way: ``#nobot`` or ``#noai`` in an account's note
        or fields means no engagement. Read from the local public timeline's authors
        (bounded pages) and every account seen in this process's answers."""
        self._status_limit()
        # As an agent this process knows (servers may close the timeline to anonymous
        # readers), else anonymously.
        with self._keeping:
            reader = next(reversed(self._accounts), None)
        for page in self._pages(
            "/api/v1/timelines/public",
            agent=reader,
            params={"local": "true", "limit": PAGE},
            pages=MAX_PAGES,
        ):
            for status in page[:PAGE]:
                if isinstance(status, dict) and isinstance(status.get("account"), dict):
                    self._remember(status["account"])
        with self._keeping:
            people = {h: c for h, c in self._seen.items() if c.interactions != "all"}
        return ConsentRead(people, frozenset())

    def _refuse_if_blocked(self, agent: str, status_id: str) -> None:
        """GalleryRefused (403) when the author of ``status_id`` blocks the agent: a server
        that does not enforce a person's block itself (Takahē) is not worked around."""
        me = self._account_id(agent)
        author = self._authors.get(status_id)
        if author is None:
            self.get_post(agent=agent, post_id=status_id)  # a 404 here: gone, or blocked
            author = self._authors.get(status_id)
        if author is None or author == me:
            return
        known = self._blocks.get((agent, author))
        if known is None or time.monotonic() - known[1] > BLOCK_SECONDS:
            data, _ = self._call(
                "GET", "/api/v1/accounts/relationships", agent=agent, params=[("id[]", author)]
            )
            said = data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else {}
            if len(self._blocks) > MAX_KEPT:
                self._blocks.clear()
            known = (said.get("blocked_by") is True, time.monotonic())
            self._blocks[(agent, author)] = known
        if known[0]:
            raise GalleryRefused(
                f"mastodon: the author of {status_id[:40]} blocks {agent}: no action toward them",
                403,
            )

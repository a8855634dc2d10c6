"""``fleet demo --platform takahe``: the same demo, on a local Takahē.

The same run as on the sandbox (``fleet.demo.run``: SQLite, an in-process worker with the
production tasks, the offline writer, a simulated clock dispatched step by step, the same
live view), but the gallery is a real server of the Mastodon client API: Takahē 0.11
started from a snapshot directory (``fleet.demo.takahe``), a copy on a database of its
own, stopped and dropped at the end. Each agent's account is made the way an operator's
script would on Takahē (its ORM) and its token kept by Fleet's credential store, sealed
under a key made for the run; images are made by Fleet's own image source (the painter),
marked and signed. A few of the sandbox's people post their pictures through the run, and
one asks an agent "are you a bot?" under its first post, as a mention; the live view
shows the question, then the agent's answer as Takahē has it.
"""

from __future__ import annotations

import contextlib
import html
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from pydantic import AnyUrl, SecretStr

from fleet.demo.run import PEOPLE_POST_SECONDS, Demo, DemoOptions, Summary, _settings
from fleet.demo.takahe import Takahe, running_takahe, snapshot_dir
from fleet.service import agents as use
from fleet.service import credentials
from fleet.service.root import Fleet
from fleet.settings import (
    CredentialSettings,
    DisclosureSettings,
    GallerySettings,
    ImageSettings,
    ImpactSettings,
    ProvenanceSettings,
    Settings,
)
from fleet_sandbox import images
from fleet_sandbox.people import NEXT_POSTS, PEOPLE, SIDE
from fleet_sandbox.server import BackgroundSandbox

# How many of the sandbox's people have an account on Takahē (each posts a picture at
# the start, then the next ones in turn, one every PEOPLE_POST_SECONDS of simulated time).
PEOPLE_ON_TAKAHE = 4
OPERATOR = "fleet_operator"
QUESTION = "are you a bot?"
APPLICATION = "fleet-demo"
# The question is asked, and its answer looked for, every this many steps (a second).
LOOK_EVERY_STEPS = 4
# A platform's text shown in the view or the summary is clipped to this many characters.
SHOWN_CHARS = 160
_BREAK = re.compile(r"<(?:br|/p|/li)[^>]{0,2000}>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]{0,2000}>")


def _text(content: object) -> str:
    """A status's HTML as one bounded line of text (data: never followed)."""
    spaced = _BREAK.sub(" ", str(content or "")[:20_000])
    plain = html.unescape(_TAG.sub("", spaced))
    return " ".join(plain.split())[:SHOWN_CHARS]


@dataclass
class AskedAgent:
    """The person's question to an agent, and the agent's answer once Takahē has it."""

    person: str
    agent: str
    status: str
    # The agent's post the question was asked under: its page shows the thread.
    page: str
    answer: str | None = None


class TakaheDemo(Demo):
    """The demo on a local Takahē; ``run``, ``view`` and the summary as on the sandbox."""

    def __init__(self, options: DemoOptions, workdir: Path) -> None:
        # Checked again here (the CLI checked it first): a missing snapshot says where.
        self.snapshot = snapshot_dir(options.takahe_dir)
        self.server: Takahe | None = None
        self._stack = contextlib.ExitStack()
        self.people: dict[str, str] = {}  # username -> token
        self.handles: list[str] = []
        self.question: AskedAgent | None = None
        self._looked = 0
        # People's calls Takahē failed (a busy database), and what the last one said.
        self.failed = 0
        self.failure = ""
        super().__init__(options, workdir)
        self._people = [p[0] for p in PEOPLE[:PEOPLE_ON_TAKAHE]]
        self._next: dict[str, int] = dict.fromkeys(self._people, 0)

    def _sandbox(self) -> BackgroundSandbox | None:
        return None

    @property
    def gallery_url(self) -> str:
        return self.server.url if self.server is not None else ""

    @property
    def about_url(self) -> str:
        """The operator's page on Takahē: every agent account's operator link."""
        return self.server.profile_url(OPERATOR) if self.server is not None else ""

    def agent_page(self) -> str:
        """The page of the agent asked (before that, the first agent's)."""
        if self.server is None or not self.handles:
            return ""
        handle = self.question.agent if self.question else self.handles[0]
        return self.server.profile_url(handle)

    def notes(self) -> list[str]:
        lines = [f"on Takahē: an agent's page {self.agent_page()}"]
        asked = self.question
        if asked is not None:
            lines.append(f"the question's thread: {asked.page}")
        if asked is None:
            lines.append(f"@{self._people[-1]} will ask an agent {QUESTION!r} under its first post")
        elif asked.answer is None:
            lines.append(f"@{asked.person} asked @{asked.agent}: {QUESTION!r} (no answer yet)")
        else:
            lines.append(
                f"@{asked.person} asked @{asked.agent}: {QUESTION!r}  answered: {asked.answer}"
            )
        if self.failed:
            lines.append(f"people's calls Takahē failed: {self.failed} ({self.failure})")
        return lines

    def _call(self, method: str, path: str, token: str, **extra: Any) -> Any:
        assert self.server is not None
        answer = httpx.request(
            method,
            f"{self.server.url}{path}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
            **extra,
        )
        answer.raise_for_status()
        return answer.json()

    def _post_picture(self, person: str, family: str, title: str, description: str) -> None:
        """The person posts a picture (the sandbox's painter draws it; no marks: it is
        a person's)."""
        png = images.render(title, style="natural", persona=family, width=SIDE, height=SIDE)
        token = self.people[person]
        media = self._call(
            "POST",
            "/api/v2/media",
            token,
            files={"file": ("picture.png", png, "image/png")},
            data={"description": title},
        )
        self._call(
            "POST",
            "/api/v1/statuses",
            token,
            json={
                "status": f"{title}\n\n{description}",
                "media_ids": [media["id"]],
                "visibility": "public",
            },
        )

    def _start_gallery(self) -> Settings:
        """Start Takahē with the people's and the operator's accounts; the fleet's
        settings: the Mastodon client API, sealed tokens, painted and signed images."""
        self.server = self._stack.enter_context(running_takahe(self.snapshot))
        tokens = self.server.accounts([OPERATOR, *self._people], application=APPLICATION)
        self.people = {p: tokens[p] for p in self._people}
        self._call(
            "PATCH",
            "/api/v1/accounts/update_credentials",
            tokens[OPERATOR],
            json={
                "display_name": "Fleet demo operator",
                "note": "I run this demo's automated accounts (Fleet). Each says so on its "
                "profile and answers truthfully when asked.",
            },
        )
        for username, _name, family, title, description in PEOPLE[:PEOPLE_ON_TAKAHE]:
            self._post_picture(username, family, title, description)
        workdir = self.workdir
        base = _settings(workdir / "fleet.db", self.server.url, self.options)
        return base.model_copy(
            update={
                "gallery": GallerySettings(
                    kind="mastodon", url=AnyUrl(self.server.url), timeout_seconds=30
                ),
                "images": ImageSettings(directory=workdir / "images"),
                "provenance": ProvenanceSettings(
                    certificate=self.signing[0], private_key=self.signing[1]
                ),
                # A key made for this run: the agents' tokens are sealed under it.
                "credentials": CredentialSettings(keys=SecretStr(credentials.new_key())),
                "disclosure": DisclosureSettings(
                    operator_name="Fleet demo operator", operator_url=AnyUrl(self.about_url)
                ),
                # Every person may be answered (no newcomer held out of the fleet's view).
                "impact": ImpactSettings(holdout_share=0),
            }
        )

    def _give_accounts(self, fleet: Fleet) -> None:
        """Each agent's account on Takahē, its token sealed in Fleet's credential store."""
        assert self.server is not None
        found = use.find(fleet, use.AgentFilter(limit=self.options.agents))
        self.handles = sorted(agent.handle for agent in found)
        tokens = self.server.accounts(self.handles, application=APPLICATION)
        for handle in self.handles:
            credentials.set_token(fleet, handle, tokens[handle])

    def _people_post(self, until: datetime) -> None:
        """People post their next pictures in turn, one every ``PEOPLE_POST_SECONDS``;
        every second, the question is asked (once an agent has posted) or its answer
        looked for."""
        try:
            self._people_act(until)
        except httpx.HTTPError as error:  # a person's call failed: the fleet goes on
            self.failed += 1
            self.failure = _text(str(error))

    def _people_act(self, until: datetime) -> None:
        if self.options.people_post_seconds is not None:
            every = timedelta(seconds=self.options.people_post_seconds or PEOPLE_POST_SECONDS)
            left = [p for p in self._people if self._next[p] < len(NEXT_POSTS.get(p, ()))]
            while self.people_post_at <= until and left:
                person = left[self.people_posted % len(left)]
                self.people_posted += 1
                title, description = NEXT_POSTS[person][self._next[person]]
                self._next[person] += 1
                family = next(p[2] for p in PEOPLE if p[0] == person)
                self._post_picture(person, family, title, description)
                self.people_post_at += every
                left = [p for p in left if self._next[p] < len(NEXT_POSTS[p])]
        if self.step - self._looked >= LOOK_EVERY_STEPS or self.step <= 1:
            self._looked = self.step
            if self.question is None:
                self._ask()
            elif self.question.answer is None:
                self._look_for_answer()

    def _ask(self) -> None:
        """The asker's question, as a mention, under the newest agent post the local
        timeline shows."""
        asker = self._people[-1]
        token = self.people[asker]
        timeline = self._call(
            "GET", "/api/v1/timelines/public", token, params={"local": "true", "limit": 40}
        )
        for status in timeline:
            agent = str((status.get("account") or {}).get("username", ""))
            if agent in self.handles and not status.get("in_reply_to_id"):
                made = self._call(
                    "POST",
                    "/api/v1/statuses",
                    token,
                    json={
                        "status": f"@{agent} {QUESTION}",
                        "in_reply_to_id": status["id"],
                        "visibility": "public",
                    },
                )
                assert self.server is not None
                page = self.server.post_url(agent, str(status["id"]))
                self.question = AskedAgent(asker, agent, str(made["id"]), page)
                return

    def _look_for_answer(self) -> None:
        asked = self.question
        assert asked is not None
        token = self.people[asked.person]  # the thread as the asker sees it
        thread = self._call("GET", f"/api/v1/statuses/{asked.status}/context", token)
        for status in thread.get("descendants", []):
            if (status.get("account") or {}).get("username") == asked.agent:
                asked.answer = _text(status.get("content")) or "(an empty answer)"
                return

    def summary(self) -> Summary:
        found = super().summary()
        found.platform = "takahe"
        found.notes.append(f"an agent's page on Takahē (while it runs): {self.agent_page()}")
        asked = self.question
        if asked is None:
            found.notes.append(f"no agent had posted yet: nobody asked {QUESTION!r}")
        else:
            said = f"answered: {asked.answer}" if asked.answer else "no answer within the run"
            found.notes.append(f"@{asked.person} asked @{asked.agent} {QUESTION!r}; {said}")
            found.notes.append(f"the question's thread (while Takahē runs): {asked.page}")
        return found

    def stop_gallery(self) -> list[str]:
        server = self.server
        self._stack.close()
        if server is None:
            return []
        dropped = not server.database_exists()
        return [
            f"Takahē stopped; its database {server.database} "
            + ("dropped" if dropped else "NOT dropped (drop it by hand)")
            + "; its copy removed"
        ]

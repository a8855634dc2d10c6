"""``fleet demo``: the whole fleet in one process, on a simulated clock, with no servers.

SQLite stands in for Postgres, Celery's in-memory broker for Redis, an in-process worker
runs the same tasks as production, the sandbox gallery serves on a loopback port, and
the offline writer writes. Time is simulated: each step advances the clock by
``speed x step`` seconds, sends ``fleet.dispatch`` as beat would, and waits until every
message of the step has been handled. Because steps, not wall time, make the run, the
same seed gives the same decisions (counts by persona and action) on any machine, and
at any speed the same ticks: the dispatcher gives each agent every tick of its timeline
due in the step (none is collapsed as catch-up, no agent waits for the next cycle), so
two runs over the same simulated span decide the same ticks, in whatever steps (which
drawn action an answering look replaces may differ: it depends on whether the agent's
comment just before had succeeded when the look was decided). The sandbox gallery runs
on the same simulated clock: its posts carry simulated times, and its seeded people
post through the day (``PEOPLE_POST_SECONDS``), which moves the fleet's pace a little
as people's activity does (off with ``people_post_seconds=None``: the pace stays 1).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from celery import Celery
from celery.contrib.testing.worker import start_worker
from celery.signals import before_task_publish, task_postrun
from pydantic import AnyUrl, SecretStr

from fleet.console.serve import BackgroundConsole
from fleet.core.statuses import ActivityStatus
from fleet.infra import logs
from fleet.infra.clocks import SimulatedClock
from fleet.infra.queue import create_app
from fleet.service import agents as use
from fleet.service import database
from fleet.service.overview import overview
from fleet.service.root import Fleet, bootstrap
from fleet.settings import (
    ActionSettings,
    DisclosureSettings,
    DispatchSettings,
    GallerySettings,
    ProvenanceSettings,
    Settings,
    TaskSettings,
)
from fleet_sandbox.config import SandboxConfig
from fleet_sandbox.people import PEOPLE
from fleet_sandbox.provenance import self_signed_pair, write_pair
from fleet_sandbox.server import BackgroundSandbox

STEP_SECONDS = 0.25
# A step whose messages are not all handled by then stops the run.
STEP_TIMEOUT_SECONDS = 60.0
# A step longer than this (simulated seconds; --speed above 2400) is dispatched in equal
# slices, each handled to the end: the dispatcher gives one agent at most 1000 ticks per
# claim (heartbeat.MAX_TICKS_PER_CLAIM) and ticks are at least a second apart, so no
# agent can reach that cap in a slice, and none has ticks cut from its timeline.
SLICE_SECONDS = 600.0
# Claims per dispatch cycle: the demo's agents all fit in one cycle many times over.
CLAIM_BATCH = 1000
TOKEN = "demo-service-token"
# People go on posting through the simulated day: one of them posts their next picture
# this often (simulated seconds), in turn, until all have posted theirs
# (``fleet_sandbox.people.NEXT_POSTS``: 36, a day's worth). A gallery where only the
# fleet posted gave its likes little to find (151 of 198 found nothing to like).
PEOPLE_POST_SECONDS = 2400.0


# A skip's reason in the counts: the words before its first colon, at most this long.
REASON_CHARS = 40


def skip_reason(event: dict[str, Any]) -> str:
    """What a skip counts under: its action and the gist of its reason ("like: nothing
    to like", "browse: daily quota"), bounded (a reason is data, never echoed at length)."""
    detail = event.get("detail") or {}
    reason = str(detail.get("reason") or "no reason given").split(":", 1)[0].strip()
    return f"{event.get('action', '?')}: {reason[:REASON_CHARS]}"


@dataclass(frozen=True)
class DemoOptions:
    """What ``fleet demo`` was asked for."""

    agents: int = 12
    speed: float = 720.0
    duration: float = 120.0
    seed: int = 1
    start: datetime | None = None
    keep_gallery: bool = False
    # Write with the LLM when ANTHROPIC_API_KEY is set; off, a demo never spends money.
    llm: bool = False
    # People post through the run, one every this many simulated seconds (None: only
    # the post each was seeded with; the fleet's pace then stays 1).
    people_post_seconds: float | None = PEOPLE_POST_SECONDS
    # Where the fleet acts: "sandbox" (the sandbox gallery in this process) or "takahe"
    # (a local Takahē started from the snapshot ``takahe_dir``: ``fleet.demo.on_takahe``).
    platform: str = "sandbox"
    takahe_dir: Path | None = None

    @property
    def steps(self) -> int:
        return max(1, round(self.duration / STEP_SECONDS))

    @property
    def step_seconds(self) -> float:
        """Simulated seconds one step covers."""
        return self.speed * STEP_SECONDS

    @property
    def slices(self) -> int:
        """Dispatch cycles per step (one, unless a step is longer than SLICE_SECONDS)."""
        return max(1, math.ceil(self.step_seconds / SLICE_SECONDS))

    @property
    def slice_seconds(self) -> float:
        """Simulated seconds between two dispatch cycles."""
        return self.step_seconds / self.slices


@dataclass
class Traffic:
    """Messages published and handled by the in-process worker: equal means quiet."""

    sent: int = 0
    done: int = 0
    retries: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    quiet: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self.quiet = threading.Condition(self.lock)

    def on_publish(self, **_: Any) -> None:
        with self.lock:
            self.sent += 1

    def on_done(self, state: str | None = None, **_: Any) -> None:
        with self.lock:
            self.done += 1
            if state == "RETRY":
                self.retries += 1
            self.quiet.notify_all()

    def wait_quiet(self, timeout: float) -> bool:
        with self.lock:
            return self.quiet.wait_for(lambda: self.done >= self.sent, timeout=timeout)


@dataclass
class Summary:
    """How the run went."""

    steps: int
    simulated_seconds: float
    wall_seconds: float
    decided: dict[str, dict[str, int]]
    statuses: dict[str, int]
    dead_letters: int
    retries: int
    first_action_wall_seconds: float | None
    gallery_url: str
    # The page every agent's operator link opens (the sandbox's, while it is up).
    about_url: str = ""
    # Where the fleet ran: "sandbox", or "takahe" (``fleet.demo.on_takahe``).
    platform: str = "sandbox"
    # What happened on the platform, a line each (the person's question and its answer).
    notes: list[str] = field(default_factory=list)
    # What stopping the gallery undid beyond the gallery itself (Takahē's database).
    stopped: list[str] = field(default_factory=list)


def _distribution(fleet: Fleet, count: int) -> Counter[str]:
    """How many agents of each persona: round-robin by selection weight, heaviest first."""
    order = sorted(fleet.personas, key=lambda p: (-p.selection_weight, p.slug))
    return Counter(order[i % len(order)].slug for i in range(count))


def _dispatch_settings(options: DemoOptions) -> DispatchSettings:
    """A dispatch cycle that gives every agent every tick due since the previous one.

    Catch-up is for a fleet that was down; in the demo every cycle follows the previous
    one by a slice of simulated time, so it must reach back past a whole slice (with
    room for a cycle that ran late) or the ticks of a long step would be collapsed into
    one. Enough batches to claim every agent in one cycle: none waits for the next.
    """
    return DispatchSettings(
        batch_size=CLAIM_BATCH,
        max_batches_per_cycle=math.ceil(options.agents / CLAIM_BATCH) + 1,
        catch_up_seconds=min(86_400.0, 3 * options.slice_seconds + 60),
        # The demo's clock is simulated: a tick held until its due second would be held
        # by the wall clock's.
        lead_seconds=0.0,
    )


def about_url(gallery_url: str) -> str:
    """The sandbox's "About these automated accounts" page: the demo's operator link."""
    return f"{gallery_url.rstrip('/')}/about/agents"


def _settings(database: Path, gallery_url: str, options: DemoOptions) -> Settings:
    # The offline writer unless asked: a key in the environment is not a wish to pay.
    writer: dict[str, Any] = {} if options.llm else {"ANTHROPIC_API_KEY": None}
    return Settings(
        **writer,
        database_url=f"sqlite:///{database}",
        broker_url="memory://localhost/",  # a host: kombu warns without one
        redis_url=None,
        seed=options.seed,
        gallery=GallerySettings(
            url=AnyUrl(gallery_url), token=SecretStr(TOKEN), timeout_seconds=10
        ),
        # Every agent account's operator link opens the sandbox's page about them.
        disclosure=DisclosureSettings(operator_url=AnyUrl(about_url(gallery_url))),
        dispatch=_dispatch_settings(options),
        tasks=TaskSettings(max_retries=3, lease_seconds=3600),
        # Real-time waits inside a simulated day stay short.
        actions=ActionSettings(
            backoff_base_seconds=0.02,
            backoff_max_seconds=0.2,
            pause_probe_seconds=0.2,
            feed_snapshot_seconds=0,
        ),
    )


@contextmanager
def _counting(traffic: Traffic) -> Iterator[None]:
    before_task_publish.connect(traffic.on_publish, weak=False)
    task_postrun.connect(traffic.on_done, weak=False)
    try:
        yield
    finally:
        before_task_publish.disconnect(traffic.on_publish)
        task_postrun.disconnect(traffic.on_done)


class Demo:
    """One run of the demo; ``run`` drives it, ``view`` draws it."""

    def __init__(self, options: DemoOptions, workdir: Path) -> None:
        self.options = options
        self.workdir = workdir
        self.traffic = Traffic()
        self.feed: deque[dict[str, Any]] = deque(maxlen=12)
        # Decided and skipped (nothing to like, a quota spent): counted by reason, kept
        # out of the feed; a feed of skips reads as a stuck run.
        self.skipped: Counter[str] = Counter()
        self.step = 0
        self.started = time.monotonic()
        self.first_action: float | None = None
        start = options.start or datetime(2026, 11, 16, 12, 0, tzinfo=UTC)  # a Monday noon UTC
        self.clock = SimulatedClock(start)
        self.start = self.clock.now()
        # The gallery stamps posts, comments and likes with the simulated time too.
        # The operator's signing pair, self-signed for the demo: the sandbox's save step
        # signs every picture's provenance with it, and Fleet expects that certificate.
        self.signing = write_pair(self_signed_pair("Fleet demo"), workdir / "provenance")
        # The sandbox gallery; None where the demo runs on another platform.
        self.sandbox: BackgroundSandbox | None = self._sandbox()
        self.fleet: Fleet | None = None
        self.app: Celery | None = None
        # Whose turn it is to post next, and when (``PEOPLE_POST_SECONDS``).
        self.people_posted = 0
        self.people_every = options.people_post_seconds
        self.people_post_at = self.start + timedelta(seconds=self.people_every or 0)
        self.people_done: set[str] = set()
        self.console: BackgroundConsole | None = None

    def _sandbox(self) -> BackgroundSandbox | None:
        return BackgroundSandbox(
            SandboxConfig(
                service_token=SecretStr(TOKEN),
                seed=self.options.seed,
                database_url=f"sqlite:///{self.workdir / 'gallery.db'}",
                signing_certificate=self.signing[0],
                signing_key=self.signing[1],
            ),
            clock=self.clock.now,
        )

    @property
    def gallery_url(self) -> str:
        """Where a person sees the gallery the fleet acts on."""
        assert self.sandbox is not None
        return self.sandbox.url

    @property
    def about_url(self) -> str:
        """The page every agent's operator link opens."""
        return about_url(self.gallery_url)

    def notes(self) -> list[str]:
        """Lines the live view shows under its header (none on the sandbox)."""
        return []

    def stop_gallery(self) -> list[str]:
        """Stop the gallery (at the very end, after ``keep_gallery``'s wait); lines
        saying what was undone beyond that (none for the sandbox)."""
        if self.sandbox is not None:
            self.sandbox.stop()
        return []

    def _event(self, event: dict[str, Any]) -> None:
        if self.first_action is None and event.get("status") == ActivityStatus.SUCCEEDED:
            self.first_action = time.monotonic() - self.started
        if event.get("status") == ActivityStatus.SKIPPED:
            self.skipped[skip_reason(event)] += 1
        else:
            self.feed.append(event)
        if self.console is not None:
            self.console.app.state.hub.push(event)

    def prepare(self) -> Fleet:
        # Logs go to a file: the terminal belongs to the live view.
        self._log = (self.workdir / "worker.log").open("a", encoding="utf-8")
        logs.configure("INFO", secrets=(TOKEN,), stream=self._log)
        settings = self._start_gallery()
        fleet = bootstrap(
            settings,
            clock=self.clock,
            publish=self._event,
        )
        database.upgrade(fleet)
        for slug, count in sorted(_distribution(fleet, self.options.agents).items()):
            use.create(fleet, use.NewAgents(slug, count))
        self._give_accounts(fleet)
        use.change_status(fleet, "start", use.Selection(everyone=True))
        self.fleet = fleet
        # The console on a loopback port, fed by the demo's events (no Redis here).
        self.console = BackgroundConsole(fleet).__enter__()
        self.app = create_app(fleet.settings)
        # The in-process worker's tasks use this Fleet (its clock, its live view).
        self.app.conf.fleet = fleet
        return fleet

    def _start_gallery(self) -> Settings:
        """Start the sandbox with its people, each with a post; the fleet's settings."""
        assert self.sandbox is not None
        self.sandbox.__enter__()
        # People already on the gallery, each with a post: the fleet's first likes and
        # comments have someone to meet, as on a young platform.
        httpx.post(
            f"{self.sandbox.url}/admin/people",
            json={"count": len(PEOPLE)},
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=60,
        ).raise_for_status()
        settings = _settings(self.workdir / "fleet.db", self.sandbox.url, self.options)
        return settings.model_copy(
            update={
                "provenance": ProvenanceSettings(
                    certificate=self.signing[0], private_key=self.signing[1]
                )
            }
        )

    def _give_accounts(self, fleet: Fleet) -> None:
        """Before the agents start: nothing on the sandbox (each agent's account is made
        at its first action, with the service token)."""

    def _people_post(self, until: datetime) -> None:
        """The people whose turn comes by ``until`` post their next picture, in turn (the
        order of ``PEOPLE``), one every ``PEOPLE_POST_SECONDS``: the clock is moved to
        each one's time first, so a post carries its own time, not the cycle's."""
        if self.people_every is None:
            return
        while self.people_post_at <= until and len(self.people_done) < len(PEOPLE):
            if self.people_post_at > self.clock.now():
                self.clock.advance((self.people_post_at - self.clock.now()).total_seconds())
            username = PEOPLE[self.people_posted % len(PEOPLE)][0]
            self.people_posted += 1
            if username in self.people_done:
                continue
            answer = httpx.post(
                f"{self.gallery_url}/admin/people/post",
                json={"username": username},
                headers={"Authorization": f"Bearer {TOKEN}"},
                timeout=60,
            )
            answer.raise_for_status()
            if answer.json().get("made") is None:
                self.people_done.add(username)  # all theirs posted: the next one's turn
            else:
                self.people_post_at += timedelta(seconds=self.people_every)

    def _at(self, cycle: int) -> datetime:
        # From the start, not by adding steps up: runs at two speeds meet the same instants.
        return self.start + timedelta(seconds=cycle * self.options.slice_seconds)

    def run(
        self, on_step: Callable[[Demo], None], stop: threading.Event, *, paced: bool = False
    ) -> None:
        """Advance the clock step by step; each step is one dispatch (a slice of a long
        step is one), handled to the end before the clock moves on. ``paced`` holds each
        step to ``STEP_SECONDS`` of wall time, so a person watching sees ``--duration``
        seconds of run; unpaced (tests, scripts) it goes as fast as the work allows, with
        the same decisions."""
        assert self.app is not None
        slices = self.options.slices
        began = time.monotonic()
        with (
            _counting(self.traffic),
            start_worker(
                self.app,
                pool="solo",
                perform_ping_check=False,
                loglevel="WARNING",
                queues=["ticks", "content", "engage", "dead_letter"],
                shutdown_timeout=30,
            ),
        ):
            assert self.fleet is not None
            pace_every = timedelta(seconds=self.fleet.settings.welcome.pace_every_seconds)
            pace_at = self.clock.now() + pace_every
            for step in range(1, self.options.steps + 1):
                if stop.is_set():
                    break
                self.step = step
                for cycle in range((step - 1) * slices + 1, step * slices + 1):
                    self._people_post(until=self._at(cycle))
                    self.clock.advance((self._at(cycle) - self.clock.now()).total_seconds())
                    if self.clock.now() >= pace_at:  # as beat sends it in production
                        self.app.send_task("fleet.measure_pace", queue="ticks")
                        pace_at = self.clock.now() + pace_every
                    self.app.send_task("fleet.dispatch", queue="ticks")
                    if not self.traffic.wait_quiet(timeout=STEP_TIMEOUT_SECONDS):
                        # Moving on would change what later steps decide: stop instead.
                        raise RuntimeError(
                            f"step {step}: the worker did not handle its messages within "
                            f"{STEP_TIMEOUT_SECONDS:g} s; the run stops rather than lose "
                            "its determinism"
                        )
                on_step(self)
                if paced:
                    stop.wait(max(0.0, began + step * STEP_SECONDS - time.monotonic()))

    def close(self) -> None:
        if self.console is not None:
            self.console.stop()
        if self.fleet is not None:
            self.fleet.close()
        logging.getLogger().handlers.clear()
        if hasattr(self, "_log"):
            self._log.close()

    def summary(self) -> Summary:
        assert self.fleet is not None
        decided: dict[str, dict[str, int]] = {}
        statuses: Counter[str] = Counter()
        seen = overview(self.fleet)
        for persona, kinds in seen.outcomes.items():
            for action, by_status in kinds.items():
                by = decided.setdefault(persona, {})
                by[action] = by.get(action, 0) + sum(by_status.values())
                statuses.update(by_status)
        letters = seen.dead_letters
        return Summary(
            steps=self.step,
            simulated_seconds=self.step * self.options.step_seconds,
            wall_seconds=round(time.monotonic() - self.started, 1),
            decided=decided,
            statuses=dict(statuses),
            dead_letters=letters,
            retries=self.traffic.retries,
            first_action_wall_seconds=None
            if self.first_action is None
            else round(self.first_action, 2),
            gallery_url=self.gallery_url,
            about_url=self.about_url,
        )

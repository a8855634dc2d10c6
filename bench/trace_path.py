"""Trace: the Fleet functions a like and a post enter, from the dispatch to the row.

The path as production runs it: the local Postgres (a database of this run's own,
dropped at its end), the broker on Redis under a key prefix of this run's own, the
sandbox gallery in a process of its own. The beat's ``fleet.dispatch`` claims the due
agents and publishes their ``fleet.tick_batch`` messages to the broker; each message is
taken off its queue and run by the task it names (``Task.apply``, the task's own code);
the tick batch publishes the actions' messages (``fleet.engage_batch`` for many likes,
``fleet.like`` for a lone one, ``fleet.post`` for a post), which are taken and run the
same way. Every thread is profiled (``sys.setprofile`` and ``threading.setprofile``):
a batch's pool threads are counted with the task's (the warm-up's are ended first, so
that the traced batch starts its own, which ``threading.setprofile`` reaches).

Three paths, each after an untraced warm-up of its own (imports, connections, the feed's
first page): a batch of ``--likes`` likes (one per agent due at once), a lone like and a
post. For each it prints the modules of ``fleet`` crossed, their count, and the distinct
functions of ``fleet`` entered (module and qualified name) over the whole path, the
decisions and outcomes. ``--functions`` lists the functions too.

``functions_count`` counts every code object of ``fleet`` entered: comprehensions,
lambdas, generator expressions and dataclass-generated methods included (issue 69's
figures are on this count, which is unchanged). ``functions_count_without_comprehensions``
leaves out list, set and dict comprehensions, which CPython 3.12 inlines into their
function (PEP 709): the same code counts that many fewer there. It is printed beside
the first, never instead of it.

What the bench does in the worker's stead is not traced (``_untraced``): the statement
that makes the agents due (its ``updated_at`` default entered ``db.models._now``) and
the taking of the messages off their queues, on a connection of the bench's own whose
close entered ``infra.broker.RedisTransport.close_connection`` (a worker's consumer
keeps its connection). Until issue 69's item 1 was worked on they were traced, two
functions more on each path: at 1951991 a batched like 200 then, 198 now; a lone like
196, 194; a post 393, 391.

The feed's page is kept the same way (2026-11-28). A process's like choices share one
snapshot of the feed for ``FLEET_ACTIONS__FEED_SNAPSHOT_SECONDS`` (2 s): on a machine
where the profiled warm-up and path take longer than that, a path found its page expired
and entered its fetch and ranking (``HttpGallery.feed``, ``FeedSnapshot.page``,
``page_candidates``, ``PageTaste``, ``Interests.similarities``...): on one two-core VM
a lone like counted 200 in one run of three (163 and 164 in the others), a batched like
191 in one of two (173). By default the page is kept for the whole run, as the share
is; ``--cold-page`` keeps none (0 s: each choice reads the feed, as the demo does).
Counted on the tree that began to keep it, three runs kept: a batched like 173, a lone
like 163, a post 323-324 (a post reads no page); one run cold: 210, 200 and 323. The
JSON says which (``page_kept``).

The back-pressure share (``Fleet.decide_share``) is read from Redis by one tick batch
and serves a process's next batches for ``HeldShare.seconds`` (1 s): a busy ticks worker's
batches find it read, a quiet one's batch, alone in its second, reads it. So that the
count does not hang on how long the warm-up took, the bench fixes it: by default the
share is kept for the whole run (each traced batch finds the warm-up's read, as a busy
worker's do); ``--cold-share`` reads it at every batch (``HeldShare.seconds`` 0, as every
batch did before it was kept), entering more functions (``Fleet._read_share``, ``Fleet._limiter_load``,
``TokenBucket.load``, ``LimiterLoad.__init__`` and ``.refused_share``,
``core.back_pressure.decide_share``) and one round trip to Redis. Counted on the tree
that began to keep it, cold (as before) and kept: a batched like 187 and 182, a lone like
180 and 175, a post 375 and 370; once the held share became a value of its own
(``core.back_pressure.HeldShare``, one function more on every path, and
``Fleet._read_share`` when cold): 192 and 187, 182 and 177, 375 and 368. Once the wire read a body of a length whole in one step
(``gallery.wire._Answer.body``, its length parsed once and held to the cap, in place of
``_Answer.chunks``, ``answers.gallery_body``, ``bounded.read_body``,
``bounded.announced_length`` and ``bounded.as_sent``) and a tick's quota check read the
row's day counts once (``core.quotas.kept_days`` in place of ``day_counts`` and
``counted``): a batched like 186 to 180, a lone like 177 to 171, a post 368 to 363 (load
about 3.5, two runs alike). (``gallery.wire._Answer._sized``, entered when an answer's body comes in a packet
after its head, and ``content.guard.guard.readable``'s generator, with some drafts, come
and go between runs: one function either way. On a loaded machine the traced like may find the
warm-up's feed snapshot gone and read the feed's page again, some 35 functions more: a
count taken then is not the tree's.) Once the provenance check fetched the posted image
over the gallery's own wire (``Wire.call`` with the image's cap) instead of an httpx client
of its own (``infra.transports``' transport, body and stream, ``ProvenanceCheck._client``
no longer entered), a post 363 then, 352 now (the likes unchanged); 349 once the memory
(``Recall.model``) read its embedder's model once, not through two embedders' properties
at each post (350 when a draft enters ``content.guard.folding.unleet``'s lambda). Then a
post 350 (the list of that tree, ``readable``'s generator in it, ``_Answer._sized`` not)
to 345 on the same count, the likes unchanged: the offline writer counts a post's input
tokens without writing the model's request (``prompts.post_prompt_tokens``, the system
text and task lines counted once per persona, in place of ``prompts.post_prompt``,
``prompts.prompt_tokens`` and ``Prompt.__init__``); whether the writer makes plans is
read once with the post's needs (``Writing.plans``, not ``content.port.makes_plans`` at
each post); and the guard reads an offline draft that reads as written once for a
claim's words (no ``honesty.claims.HumanClaimCheck.claim``, which read the same words
again); a post's recall reads its memories without their vectors, which recency alone
does not weigh (no ``Recall.dimensions``). 345 to 347 in a run where ``_Answer._sized``
or ``core.wording._alone`` comes. (The offline writer's post also sanitises only the
candidate it keeps, not each of eight: a third less of its CPU, the same functions.)

What a tick reads of a persona was then resolved once, when the catalogue loads the
personas (``core.rhythm.PersonaCadence``: the persona, its clock and zone, its sessions or
steady interval, read by slug from ``PersonaCatalogue.cadences``), not asked of the
catalogue per tick: ``PersonaCatalogue.get``, ``.rhythm`` (its lazy per-(persona,
interval) cache) and ``.zone`` (the live feed's local time) no longer entered,
``PersonaCadence.rhythm`` in their stead; the quota check reads each action's limit made
once (``Quotas.by_action``), not ``Quotas.limit``'s search of the registry; and
``steady.tick_rng`` takes the tick's second, not a datetime made to be turned back. A tick
batch reads whether its agents owe a person an answer with its locked read of them
(``honesty.ledger.OWES``, a column), not in a statement of its own
(``honesty.ledger.owed``), and the ids of its new decisions come back from their insert
(one statement fewer, no function); its agents' updates are filtered to the rows recorded
anew only when a tick was decided before (``_update_ticked``'s list no longer entered).
The consent book reads the machine's clock as seconds (``time.time``), not through
``Fleet.consent_book``'s lambda; a like's first choice takes the page's ids from the
posts by id it builds anyway (``first_choices``' list no longer entered). Counted on the
same method, load about 3: a lone like 171 then, 164 now (taste's ``scores`` and its
list entered in both: 169 and 162 without them, 172 and 165 with ``_Answer._sized``
too); a batched like 181, 174; a post 350, 347 (it ticks too). Lists of strings then
went to Postgres through ``db.text_arrays.TextListDumper`` (one function more on every
path: psycopg's per-element regular expressions no longer run), and the values read no
longer went through a Python call each: the engines' sessions are in UTC, so
``db.models.UtcDateTime.process_result_value`` is not entered on Postgres, and a status
column reads its member from a table (``Status.process_result_value`` gone). Load about
1.6, two runs: a lone like 165 then, 163 and 164 now (``_Answer._sized`` in the second);
a batched like 175, 173; a post 340-342, 338-341.

Then, on the path every action shares: ``activities.claim_many`` hands back its claims and
the keys it did not claim as a pair, no ``Claimed`` value built to be unpacked at once;
the heartbeat's columns of epoch seconds go to ``db.engine.update_rows`` by name
(``epochs=``), not each in an ``Epochs`` value (the two modules' dataclass ``__init__``
no longer entered); a tick batch looks in the ledger for ticks decided before only
when one is due at or before its agent's latest decided tick (``last_tick_at``, never
moved back), one statement fewer (``activities.commands.decided_before`` not entered);
a gallery call runs its admission made once with the ``LimitedGallery``
(``CircuitBreaker.admission``: ``CircuitBreaker._through`` in place of ``.admit``,
``._admitted`` and ``TokenBucket.wanted``; a batch's advance, once a batch, enters
``admission`` and ``_through``: one more on a batched like); a page's fit is a cached
property (``PageTaste.fit`` not entered once made). Load about 2.3, three runs: a lone
like 163 then, 157 now (three alike); a batched like 172, 169; a post 319, 314
(``content.sanitise._cleaned``'s ``_hashtag`` or ``content.guard.guard.readable``'s
generator, with some captions, one more either way: 320 then, 314-315 now).

The no-echo check's window of what the fleet published is kept the same way (2026-11-29).
A content process's read of it serves its texts for ``FLEET_MEMORY__ECHO_HELD_SECONDS``
(2 s; its own texts are compared at once): a post traced more than 2 s after the warm-up's
read entered the read again (``agents.published_since``, ``PublishedWindow._add`` and
``_compact``...): on one two-core VM a post counted 317 in one run of three, 305 and 306
in the others. By default the window is kept for the run (60 s, the setting's most);
``--cold-echo`` reads it at every text. The JSON says which (``echo_window_kept``).

Where that session ended (2026-11-29): the dispatcher writes a full batch on a thread
(``heartbeat._Batch.write``, one more on every path); a content process's echo window
takes its own texts at once and serves its reads for 2 s; the cache of vectors refuses
what it would not keep, so the degrading embedder checks a vector once
(``degrading._check`` gone); a steady ticker's tick opens no session, so its post carries
no notes (``TickNotes.of``, ``.content``, ``__init__`` gone); a post's handler takes its
tick's answer from the LLM budget within 30 s of it (``refuse_if_over_budget``,
``SpendLedger.refusal``, ``BudgetState.reason`` gone). Load 1.1-1.5, nine runs: a batched
like 170 (189 in a run whose batch ranked a page again), a lone like 158 in every run, a
post 299 in five, 300 in two, 301 in two (the draft's text decides ``_hashtag`` and
``readable``'s generator).

Then (2026-11-29, the next session) the budget's freshness test moved into
``refuse_if_over_budget``, which decides itself whether the tick's answer serves: it is
entered on every post again, one more. Five runs: a post 300, 302, 301, 300, 302; a
batched like 170 (189 in two), a lone like 158.

    python -m bench.trace_path [--likes 50] [--functions] [--cold-share] [--cold-page]
        [--cold-echo]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from sqlalchemy import func, select, update

from bench import scratch_database
from bench.actions import ADMIN, REDIS, TOKEN, _free_port, _sandbox, _until_listening
from bench.engage_batches import end_batch_threads
from bench.trace_like import Tracer as OneThreadTracer
from fleet import agents
from fleet.agents import Selection
from fleet.core.kinds import ACTION_NAMES
from fleet.db import migrate
from fleet.db.models import Agent, AgentActivity
from fleet.gallery.client import HttpGallery
from fleet.infra import logs
from fleet.service.accounts import provision_accounts
from fleet.service.root import bootstrap
from fleet.settings import Settings
from fleet.worker.app import create_app

PERSONA = "social_media_marketer"
QUEUES = ("ticks", "engage", "content")
# A steady interval of its own (no sessions): each agent's tick draws from its weights alone.
STEADY = (3600.0, 7200.0)


def only(action: str) -> dict[str, float]:
    """Weights that draw ``action`` alone."""
    return {name: float(name == action) for name in ACTION_NAMES}


class Tracer(OneThreadTracer):
    """The ``fleet`` modules and functions entered, on any thread, while active."""

    @contextmanager
    def active(self) -> Iterator[None]:
        threading.setprofile(self)
        sys.setprofile(self)
        try:
            yield
        finally:
            sys.setprofile(None)
            threading.setprofile(None)  # type: ignore[arg-type]


def _untraced(work: Callable[[], Any]) -> Any:
    """``work`` done with this thread's profiler off: the bench's own steps, in the
    worker's stead, are not the path's."""
    profiler = sys.getprofile()
    sys.setprofile(None)
    try:
        return work()
    finally:
        sys.setprofile(profiler)


def _drain(app: Any, queue: str) -> list[tuple[str, tuple[Any, ...], dict[str, Any]]]:
    """The messages waiting on ``queue``, taken off it: each one's task, args, kwargs
    (untraced: a worker's consumer takes them on a connection it keeps)."""
    taken: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
    _untraced(lambda: _take(app, queue, taken))
    return taken


def _take(app: Any, queue: str, taken: list[tuple[str, tuple[Any, ...], dict[str, Any]]]) -> None:
    with app.connection_for_read() as connection:
        waiting = connection.SimpleQueue(queue, no_ack=True)
        try:
            while True:
                try:
                    message = waiting.get(block=False)
                except waiting.Empty:
                    break
                args, kwargs, _ = message.decode()
                taken.append((message.headers["task"], tuple(args), dict(kwargs)))
        finally:
            waiting.close()


def _run(app: Any, queue: str) -> list[Any]:
    """Run each message waiting on ``queue`` by the task it names: their results."""
    return [
        app.tasks[name].apply(args=args, kwargs=kwargs).get()
        for name, args, kwargs in _drain(app, queue)
    ]


def _path(app: Any, fleet: Any, due: list[int], second: datetime, queue: str) -> dict[str, Any]:
    """Make ``due`` due at ``second`` (untraced), then dispatch, decide and carry out:
    the results."""

    def make_due() -> None:
        with fleet.sessions.begin() as session:
            session.execute(update(Agent).where(Agent.id.in_(due)).values(next_tick_at=second))

    _untraced(make_due)
    dispatched = app.tasks["fleet.dispatch"].apply().get()
    decided = _run(app, "ticks")
    acted = _run(app, queue)
    return {"dispatched": dispatched, "decided": decided, "acted": acted}


# List, set and dict comprehensions: a frame of their own on CPython 3.11, inlined into
# the function that holds them from 3.12 (PEP 709).
_COMPREHENSIONS = ("<listcomp>", "<setcomp>", "<dictcomp>")


def _traced(work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    # The traced batch starts threads of its own: ``threading.setprofile`` reaches only
    # threads started after it, and the warm-up's, left running, would act untraced.
    end_batch_threads()
    tracer = Tracer()
    with tracer.active():
        done = work()
    return {
        **done,
        "modules_count": len(tracer.modules),
        "functions_count": len(tracer.functions),
        "functions_count_without_comprehensions": sum(
            1 for _, name in tracer.functions if not name.endswith(_COMPREHENSIONS)
        ),
        "modules": list(tracer.modules),
        "functions": sorted(f"{m}.{f}" for m, f in tracer.functions),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--likes", type=int, default=50, help="likes in the batched path")
    parser.add_argument("--functions", action="store_true", help="list the functions too")
    parser.add_argument(
        "--cold-share",
        action="store_true",
        help="each tick batch reads the back-pressure share (a quiet worker's batch)",
    )
    parser.add_argument(
        "--cold-page",
        action="store_true",
        help="no feed snapshot: each like's choice reads the feed's page",
    )
    parser.add_argument(
        "--cold-echo",
        action="store_true",
        help="no held echo window: each text's no-echo check reads what is new",
    )
    args = parser.parse_args()
    logs.configure("WARNING", stream=sys.stderr)  # stdout is the JSON's

    name = scratch_database()
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    plain = ADMIN.rsplit("/", 1)[0] + "/" + name
    url = plain.replace("postgresql://", "postgresql+psycopg://", 1)
    port = _free_port()
    gallery_url = f"http://127.0.0.1:{port}"
    sandbox = _sandbox(port)
    settings = Settings(
        database_url=url,
        broker_url=REDIS,
        redis_url=REDIS,
        broker_key_prefix=f"fleet-trace-{uuid.uuid4().hex[:8]}:",
        seed=1,
        gallery={"url": gallery_url, "token": TOKEN},  # type: ignore[arg-type]
        actions={  # type: ignore[arg-type]
            "gallery_requests_per_second": 100000,
            "bot_engagements_per_post_per_hour": 1000000,
            # Kept for the whole run, or read at every choice (the module's docstring).
            "feed_snapshot_seconds": 0.0 if args.cold_page else 86400.0,
        },
        # The echo window's read, kept for the whole run (at most a minute) or read at
        # every text (the module's docstring).
        memory={"echo_held_seconds": 0.0 if args.cold_echo else 60.0},  # type: ignore[arg-type]
    )
    fleet = bootstrap(settings)
    # Kept for the whole run, or read at every batch: never kept for as long as it happens
    # to take (the module's docstring).
    fleet.held_share.seconds = 0.0 if args.cold_share else float("inf")
    out: dict[str, Any] = {
        "benchmark": "trace_path",
        "likes_in_batch": args.likes,
        "share_kept": not args.cold_share,
        "page_kept": not args.cold_page,
        "echo_window_kept": not args.cold_echo,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    try:
        migrate.upgrade(fleet.engine)
        app = create_app(settings)
        app.conf.fleet = fleet
        from fleet.worker import tasks  # noqa: F401 - registers the tasks on the app

        for queue in QUEUES:  # a queue bound before the first publish: none is dropped
            _drain(app, queue)
        now = datetime.now(UTC)
        fans = 2 * args.likes + 2
        made = agents.create_agents(
            fleet.sessions,
            fleet.personas,
            agents.NewAgents(PERSONA, 1 + fans, interval=STEADY, weights=only("like")),
            fleet_seed=1,
            now=now,
        )
        posters = agents.create_agents(
            fleet.sessions,
            fleet.personas,
            agents.NewAgents(PERSONA, 2, interval=STEADY, weights=only("post")),
            fleet_seed=1,
            now=now,
        )
        agents.change_status(
            fleet.sessions, fleet.personas, "start", Selection(everyone=True), now=now
        )
        with fleet.sessions.begin() as session:
            session.execute(update(Agent).values(next_tick_at=now + timedelta(days=1)))
        ids = list(range(made.first_id, made.last_id + 1))
        author, likers = ids[0], ids[1:]
        _until_listening(sandbox, port)
        setup = HttpGallery(settings.gallery)
        provision_accounts(fleet.sessions, setup, [*ids, posters.first_id, posters.last_id])
        handle = agents.get_agent(fleet.sessions, str(author)).handle
        for i in range(2 * args.likes):
            setup.create_post(
                agent=handle,
                image_url=f"{gallery_url}/images/placeholder.png",
                title=f"Seed post {i}",
                description="A post that was there before the trace.",
                idempotency_key=f"trace-seed-{i}",
            )
        setup.close()
        half = len(likers) // 2
        warm, batch = likers[:half], likers[half:]
        at = now - timedelta(seconds=5)

        def path(due: list[int], queue: str, after: int) -> Callable[[], dict[str, Any]]:
            return lambda: _path(app, fleet, due, at + timedelta(seconds=after), queue)

        _path(app, fleet, warm[:-1], at, "engage")  # warm-up: a batch, untraced
        out["batched_like"] = _traced(path(batch[:-1], "engage", 1))
        _path(app, fleet, warm[-1:], at + timedelta(seconds=2), "engage")  # warm-up: a lone one
        out["lone_like"] = _traced(path(batch[-1:], "engage", 3))
        _path(app, fleet, [posters.first_id], at + timedelta(seconds=4), "content")  # warm-up
        out["post"] = _traced(path([posters.last_id], "content", 5))
        with fleet.sessions() as session:
            out["outcomes"] = {
                f"{action}:{status}": count
                for action, status, count in session.execute(
                    select(AgentActivity.action, AgentActivity.status, func.count()).group_by(
                        AgentActivity.action, AgentActivity.status
                    )
                )
            }
    finally:
        fleet.close()
        sandbox.terminate()
        sandbox.wait(timeout=10)
        with psycopg.connect(ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    for traced in ("batched_like", "lone_like", "post"):
        if not args.functions:
            del out[traced]["functions"]
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()

"""bench.consent: when people say no to agents, does the fleet keep it?

Runs the demo's machinery as ``bench.community`` does (SQLite, the in-memory broker, the
in-process worker, the sandbox gallery, a simulated clock) for ``--days`` simulated days,
with ``bench.community``'s people beside the fleet: newcomers join about once a simulated
hour and post, people like and comment. Each person, some time after the bench first
sees them (uniformly within ``--say-within`` simulated hours), says no with the odds
given: ``--opt-out`` of them set ``agentInteractions`` to ``none``, ``--block`` of them
block one agent (the one that engaged them most, else one at random), as the sandbox's
page control does.

Then the honesty audit (``fleet.honesty.audit``) reads the gallery and the ledger and
prints its findings as JSON: the target is 0 agent actions toward those people later
than 10 simulated minutes after they said so. ``--ignore-consent`` runs the same scenario
with the fleet blind to people's say (the "before" figure).

    python -m bench.consent [--agents 72] [--days 2] [--seed 3] [--opt-out 0.2]
        [--block 0.1] [--ignore-consent]
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import threading
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bench.community import START, People, newcomer_arrivals
from fleet.demo import Demo, DemoOptions
from fleet.honesty import audit as honesty
from fleet.service.root import Fleet
from fleet_sandbox import storage, tables


class Sayers:
    """People saying no: each decides once, some hours after they are first seen."""

    def __init__(self, rng: random.Random, *, opt_out: float, block: float, within_h: float):
        self.rng = rng
        self.opt_out = opt_out
        self.block = block
        self.within = timedelta(hours=within_h)
        # person id -> (when they will say it, what: "none", "block" or "")
        self.plans: dict[int, tuple[datetime, str]] = {}
        self.said: Counter[str] = Counter()

    def step(self, demo: Demo) -> None:
        now = demo.clock.now()
        box = demo.sandbox.app.state.sandbox
        with box.storage.begin() as conn:
            people = conn.execute(
                select(tables.users.c.id).where(~tables.users.c.is_agent)
            ).scalars()
            for person in people:
                if person not in self.plans:
                    draw = self.rng.random()
                    what = (
                        "none"
                        if draw < self.opt_out
                        else "block"
                        if draw < self.opt_out + self.block
                        else ""
                    )
                    self.plans[person] = (now + self.rng.random() * self.within, what)
            for person, (when, what) in list(self.plans.items()):
                if not what or when > now:
                    continue
                if what == "none":
                    storage.set_consent(conn, person, agent_interactions="none", now=now)
                else:
                    storage.set_consent(
                        conn,
                        person,
                        agent_interactions=None,
                        block=[self._agent(conn, person)],
                        now=now,
                    )
                self.said[what] += 1
                self.plans[person] = (when, "")

    def _agent(self, conn: Any, person: int) -> int:
        """The agent that engaged the person's posts most, else one at random."""
        likes = tables.likes
        posts = tables.posts
        users = tables.users
        engaged = conn.execute(
            select(likes.c.user_id)
            .join(posts, posts.c.id == likes.c.post_id)
            .join(users, users.c.id == likes.c.user_id)
            .where(posts.c.user_id == person, users.c.is_agent)
        ).scalars()
        counts = Counter(engaged)
        if counts:
            return int(counts.most_common(1)[0][0])
        agents = sorted(conn.execute(select(users.c.id).where(users.c.is_agent)).scalars())
        return int(self.rng.choice(agents))


def run(args: argparse.Namespace) -> dict[str, Any]:
    simulated = args.days * 86_400
    speed = 1440.0
    options = DemoOptions(
        agents=args.agents, speed=speed, duration=simulated / speed, seed=args.seed, start=START
    )
    if args.ignore_consent:  # the "before": a fleet blind to people's say
        Fleet.consent_book = lambda self, gallery: None  # type: ignore[method-assign]
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="fleet-consent-") as tmp:
        demo = Demo(options, Path(tmp))
        try:
            demo.prepare()
            people = People(
                demo,
                random.Random(args.seed),
                newcomer_arrivals(
                    random.Random(f"newcomers:{args.seed}"), START, simulated, args.newcomer_every
                ),
                None,
                span_seconds=simulated,
            )
            sayers = Sayers(
                random.Random(f"say:{args.seed}"),
                opt_out=args.opt_out,
                block=args.block,
                within_h=args.say_within,
            )

            def step(d: Demo) -> None:
                people.step(d)
                sayers.step(d)

            demo.run(step, threading.Event())
            assert demo.fleet is not None
            found = honesty.audit(demo.fleet, window=timedelta(days=args.days + 1))
        finally:
            demo.close()
            demo.sandbox.stop()
    return {
        "benchmark": "consent",
        "agents": args.agents,
        "days": args.days,
        "seed": args.seed,
        "honoured": not args.ignore_consent,
        "people_seen": len(sayers.plans),
        "said": dict(sayers.said),
        "audit": found.to_json(),
        "target": "0 actions toward people who said no, later than 10 simulated minutes after",
        "wall_seconds": round(time.monotonic() - began, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=int, default=72)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--days", type=float, default=2.0)
    parser.add_argument("--newcomer-every", type=float, default=60.0, help="simulated minutes")
    parser.add_argument("--opt-out", type=float, default=0.2)
    parser.add_argument("--block", type=float, default=0.1)
    parser.add_argument("--say-within", type=float, default=12.0, help="simulated hours")
    parser.add_argument("--ignore-consent", action="store_true")
    args = parser.parse_args(argv)
    print(json.dumps(run(args), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

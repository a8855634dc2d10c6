"""Trace: the Fleet modules and functions one like crosses, tick to gallery call to row.

In one process, on SQLite and the sandbox gallery (its server on a thread of its own, not
traced): the Celery tasks run in this thread (``Task.apply``), the tick's ``fleet.tick``
deciding the like and the like's ``fleet.like`` carrying it out to its terminal row. The
first like is a warm-up (imports, the first page of the feed, connections); the second is
traced under ``sys.setprofile``, every Python call of a module of ``fleet`` counted.

Prints JSON: the modules crossed in the order first entered, their count, the functions
(module and name) count, and the like's outcome.

    python -m bench.trace_like [--functions]
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any

from pydantic import SecretStr
from sqlalchemy import select

from fleet import agents
from fleet.agents import Selection
from fleet.db import migrate
from fleet.db.engine import build_engine
from fleet.db.models import AgentActivity
from fleet.infra import logs
from fleet.service.root import bootstrap
from fleet.settings import Settings
from fleet_sandbox.config import SandboxConfig
from fleet_sandbox.server import BackgroundSandbox

TOKEN = "trace-token"
PERSONA = "ux_ui_designer"


class Tracer:
    """The ``fleet`` modules and functions entered while active, in order of first entry."""

    def __init__(self) -> None:
        self.modules: dict[str, None] = {}
        self.functions: dict[tuple[str, str], None] = {}

    def __call__(self, frame: FrameType, event: str, arg: Any) -> None:
        if event != "call":
            return
        module = frame.f_globals.get("__name__", "")
        if module == "fleet" or module.startswith("fleet."):
            self.modules.setdefault(module)
            self.functions.setdefault((module, frame.f_code.co_qualname))

    def run(self, work: Callable[[], Any]) -> Any:
        sys.setprofile(self)
        try:
            return work()
        finally:
            sys.setprofile(None)


def _decide_a_like(app: Any, engine: Any, fans: list[int], start: datetime) -> tuple[str, Tracer]:
    """Tick the fans, one tick at a time, until one tick decides a like: its key, and the
    trace of that tick."""
    for step in range(400):
        agent = fans[step % len(fans)]
        due = int((start + timedelta(seconds=step)).timestamp())
        tracer = Tracer()
        tracer.run(lambda a=agent, d=due: app.tasks["fleet.tick"].apply(args=(a, d)).get())
        with engine.connect() as connection:
            action = connection.scalar(
                select(AgentActivity.action).where(
                    AgentActivity.agent_id == agent,
                    AgentActivity.due_at == datetime.fromtimestamp(due, UTC),
                )
            )
        if action == "like":
            return f"{agent}:{due}:like", tracer
    raise SystemExit("trace: no tick decided a like")


def trace() -> dict[str, Any]:
    """The trace of one like, tick to row: the modules (in order first entered), the
    functions, and the like's outcome."""
    with (
        tempfile.TemporaryDirectory() as scratch,
        BackgroundSandbox(SandboxConfig(service_token=SecretStr(TOKEN), seed=7)) as sandbox,
    ):
        url = f"sqlite:///{Path(scratch) / 'trace.db'}"
        engine = build_engine(url)
        migrate.upgrade(engine)
        settings = Settings(
            database_url=url,
            redis_url=None,
            seed=7,
            gallery={"url": sandbox.url, "token": TOKEN},  # type: ignore[arg-type]
        )
        fleet = bootstrap(settings, engine)
        from fleet.worker.app import create_app

        app = create_app(settings)
        app.conf.fleet = fleet
        from fleet.worker import tasks  # noqa: F401 - registers the tasks on the app

        now = datetime.now(UTC)
        made = agents.create_agents(
            fleet.sessions, fleet.personas, agents.NewAgents(PERSONA, 6), fleet_seed=7, now=now
        )
        agents.change_status(
            fleet.sessions, fleet.personas, "start", Selection(everyone=True), now=now
        )
        author = agents.get_agent(fleet.sessions, str(made.first_id)).handle
        gallery = fleet.action_kit.gallery
        gallery.provision_user(handle=author, name="Author", persona=PERSONA)  # type: ignore[attr-defined]
        for n in range(20):
            gallery.create_post(  # type: ignore[attr-defined]
                agent=author,
                image_url="http://example.test/i.png",
                title=f"Post {n}",
                description="a post to like",
                idempotency_key=f"trace-{n}",
            )
        fans = list(range(made.first_id + 1, made.last_id + 1))
        like_task = app.tasks["fleet.like"]
        # Warm-up: a like decided and carried out, untraced.
        key, _ = _decide_a_like(app, engine, fans, now)
        like_task.apply(args=(key,)).get()
        key, ticked = _decide_a_like(app, engine, fans, now + timedelta(minutes=10))
        liked = Tracer()
        outcome = liked.run(lambda: like_task.apply(args=(key,)).get())
        modules = dict.fromkeys([*ticked.modules, *liked.modules])
        functions = {**ticked.functions, **liked.functions}
        fleet.close()
        engine.dispose()
    return {
        "outcome": outcome,
        "modules_count": len(modules),
        "functions_count": len(functions),
        "tick_modules_count": len(ticked.modules),
        "like_modules_count": len(liked.modules),
        "modules": list(modules),
        "functions": [f"{m}.{f}" for m, f in functions],
    }


def main() -> None:
    logs.configure("WARNING", stream=sys.stderr)  # stdout is the JSON's
    traced = trace()
    if "--functions" not in sys.argv:
        del traced["functions"]
    print(json.dumps(traced, indent=1))


if __name__ == "__main__":
    main()

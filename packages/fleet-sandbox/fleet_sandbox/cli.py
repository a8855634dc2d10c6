"""``fleet-sandbox serve`` (and Fleet's ``fleet sandbox serve``): the sandbox gallery, a
local stand-in for the gallery API.

The service token is Fleet's own (``FLEET_GALLERY__TOKEN``), so a default Fleet talks to
a default sandbox: ``fleet-sandbox`` reads the variable, ``fleet sandbox`` reads Fleet's
settings. Faults and budgets given here are the start-up controls; the admin API
(``/admin/*``) changes them while it runs.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import platformdirs
from pydantic import SecretStr
from sqlalchemy.engine import make_url

from fleet_sandbox.config import DEFAULT_TOKEN, ROUTES, Budgets, Faults, SandboxConfig
from fleet_sandbox.people import PEOPLE


class Finite(click.FloatRange):
    """A float in a range that is also finite: ``nan`` and ``inf`` are refused by name."""

    name = "finite number"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


class CannotServe(click.ClickException):
    """The address cannot be served (in use, not this machine's): bad input, exit 2."""

    exit_code = 2


def token_from_environment() -> SecretStr:
    """The service token Fleet uses too: ``FLEET_GALLERY__TOKEN``, else the default."""
    return SecretStr(os.environ.get("FLEET_GALLERY__TOKEN") or DEFAULT_TOKEN)


def database_url(value: str | None) -> str:
    """A SQLAlchemy URL from ``--database``: a URL, ``:memory:``, or a SQLite file path."""
    if value is None:
        # Beside Fleet's own embedded database: this directory's .fleet/ when it has one.
        project = Path.cwd() / ".fleet"
        if project.is_dir():
            return f"sqlite:///{project.resolve() / 'sandbox.db'}"
        data = Path(platformdirs.user_data_dir("fleet", appauthor=False))
        return f"sqlite:///{data / 'sandbox.db'}"
    if value == ":memory:":
        return "sqlite://"
    if value.startswith("postgresql://"):
        return "postgresql+psycopg://" + value.removeprefix("postgresql://")
    if "://" in value:
        return value
    return f"sqlite:///{Path(value).expanduser().resolve()}"


def _seed_people(url: str, count: int, token: str, *, within: float = 60.0) -> None:
    """Once the sandbox answers: its first ``count`` people, each with a post (the
    admin call makes each once, so a restart adds nobody)."""
    import httpx

    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            made = httpx.post(
                f"{url}/admin/people",
                json={"count": count},
                headers={"Authorization": f"Bearer {token}"},
                timeout=max(1.0, deadline - time.monotonic()),
            )
        except httpx.TransportError:
            time.sleep(0.2)  # not listening yet: it will within moments
            continue
        if made.is_success:
            click.echo(f"sandbox: {count} people on the gallery, each with a post")
        else:
            click.echo(f"fleet: sandbox: seeding people failed: HTTP {made.status_code}", err=True)
        return
    click.echo(f"fleet: sandbox: no answer within {within:g} s; no people seeded", err=True)


def _rates(
    _ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]
) -> dict[str, float]:
    rates = {}
    for value in values:
        route, _, rate = value.partition("=")
        if route != "*" and route not in ROUTES:
            raise click.BadParameter(
                f"{value!r}: unknown route {route!r}; routes: *, {', '.join(ROUTES)}"
            )
        try:
            number = float(rate)
        except ValueError:
            number = -1.0
        if not 0.0 <= number <= 1.0:
            raise click.BadParameter(f"{value!r}: expected ROUTE=RATE with RATE from 0 to 1")
        rates[route] = number
    return rates


def sandbox_group(read_token: Callable[[], SecretStr], name: str = "sandbox") -> click.Group:
    """The ``serve`` command in a group named ``name``, serving on ``read_token()``'s token."""

    @click.group(name=name)
    def group() -> None:
        """The sandbox gallery: the gallery API, pictures and a page, with fault injection."""

    group.add_command(_serve_command(read_token))
    return group


def _serve_command(read_token: Callable[[], SecretStr]) -> click.Command:
    @click.command(name="serve")
    @click.option("--host", default="127.0.0.1", show_default=True)
    @click.option("--port", type=click.IntRange(0, 65535), default=8700, show_default=True)
    @click.option(
        "--database",
        help="SQLite file, :memory:, or a URL (postgresql+psycopg://...). "
        "Default: sandbox.db in Fleet's data directory.",
    )
    @click.option("--idempotency/--no-idempotency", default=True, show_default=True)
    @click.option(
        "--error-rate",
        "error_rates",
        multiple=True,
        metavar="ROUTE=RATE",
        callback=_rates,
        help="Answer 5xx on this share of a route's calls (* for all); repeatable.",
    )
    @click.option("--latency-ms", type=Finite(0, 60_000), default=0.0)
    @click.option(
        "--lose-answers",
        type=Finite(0, 1),
        default=0.0,
        metavar="RATE",
        help="Commit the effect, then drop the answer, on this share of API calls.",
    )
    @click.option("--fleet-daily-budget", type=click.IntRange(min=0), help="Units per UTC day.")
    @click.option(
        "--agent-daily-budget", type=click.IntRange(min=0), help="Units per agent per day."
    )
    @click.option("--paused", is_flag=True, help="Start with the FLEET_PAUSED switch on.")
    @click.option("--seed", type=int, help="Seed the fault dice.")
    @click.option("--image-base-url", help="Image URLs start here (default: the request's URL).")
    @click.option("--access-log/--no-access-log", default=True, show_default=True)
    @click.option(
        "--people",
        type=click.IntRange(0, len(PEOPLE)),
        default=0,
        show_default=True,
        help="Seed this many people, each with a post, as the demo does (made once).",
    )
    def serve(
        host: str,
        port: int,
        database: str | None,
        idempotency: bool,
        error_rates: dict[str, float],
        latency_ms: float,
        lose_answers: float,
        fleet_daily_budget: int | None,
        agent_daily_budget: int | None,
        paused: bool,
        seed: int | None,
        image_base_url: str | None,
        access_log: bool,
        people: int,
    ) -> None:
        """Serve the sandbox gallery until interrupted."""
        from fleet_sandbox.server import serve as run

        config = SandboxConfig(
            database_url=database_url(database),
            service_token=read_token(),
            idempotency=idempotency,
            paused=paused,
            budgets=Budgets(fleet_daily=fleet_daily_budget, agent_daily=agent_daily_budget),
            faults=Faults(
                error_rates=error_rates,
                latency_ms=latency_ms,
                lose_answer_rates={"*": lose_answers} if lose_answers else {},
            ),
            seed=seed,
            image_base_url=image_base_url,
            # The operator's pair, as Fleet reads it: the save step signs provenance with it.
            signing_certificate=_path_from_environment("FLEET_PROVENANCE__CERTIFICATE"),
            signing_key=_path_from_environment("FLEET_PROVENANCE__PRIVATE_KEY"),
        )

        def ready(url: str) -> None:
            shown = make_url(config.database_url).render_as_string(hide_password=True)
            click.echo(f"sandbox gallery on {url} (database {shown})")
            if config.signing_certificate is None or config.signing_key is None:
                click.echo(
                    "provenance: pictures are signed with a self-signed pair made at start "
                    "(untrusted; set FLEET_PROVENANCE__CERTIFICATE and __PRIVATE_KEY)"
                )
            else:
                click.echo(f"provenance: pictures are signed with {config.signing_certificate}")
            if config.service_token.get_secret_value() == DEFAULT_TOKEN:
                click.echo(
                    "fleet: warning: the sandbox runs on the well-known default token; set "
                    "FLEET_GALLERY__TOKEN before anyone else can reach this port",
                    err=True,
                )
            if people:
                threading.Thread(
                    target=_seed_people,
                    args=(url, people, config.service_token.get_secret_value()),
                    name="sandbox-people",
                    daemon=True,
                ).start()

        try:
            run(config, host=host, port=port, on_ready=ready, access_log=access_log)
        except OSError as exc:
            raise CannotServe(f"cannot serve on {host}:{port}: {exc.strerror or exc}") from None
        click.echo("sandbox gallery stopped")

    return serve


def _path_from_environment(name: str) -> Path | None:
    value = os.environ.get(name, "").strip()
    return Path(value) if value else None


def main() -> None:
    """``fleet-sandbox``: the sandbox gallery on ``FLEET_GALLERY__TOKEN``'s token."""
    sandbox_group(token_from_environment, name="fleet-sandbox")()

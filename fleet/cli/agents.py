"""``fleet agents``: create agents and drive their lifecycle."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import click

from fleet import agents as ctx_agents
from fleet.agents import AGENT_STATUSES, AgentFilter, Selection
from fleet.agents.commands import utcnow
from fleet.cli.context import fleet_of
from fleet.cli.output import OFFSET, json_option, print_json, print_table, when
from fleet.errors import ConflictError, InputError


def _interval(value: str | None) -> tuple[float, float] | None:
    if value is None:
        return None
    try:
        low, _, high = value.partition("-")
        bounds = (float(low), float(high or low))
    except ValueError:
        raise InputError(f"--interval {value!r}: expected MIN-MAX seconds, e.g. 1-3") from None
    if bounds[0] <= 0 or bounds[0] > bounds[1]:
        raise InputError(f"--interval {value!r}: need 0 < MIN <= MAX")
    return bounds


def _weights(value: str | None) -> dict[str, float] | None:
    if value is None:
        return None
    out: dict[str, float] = {}
    for part in value.split(","):
        name, sep, number = part.partition("=")
        try:
            if not sep:
                raise ValueError
            out[name.strip()] = float(number)
        except ValueError:
            raise InputError(
                f"--weights {value!r}: expected ACTION=NUMBER,..., e.g. post=1,like=3"
            ) from None
    return out


def _activity(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        level = float(value)
    except ValueError:
        raise InputError(f"--activity {value!r}: expected a number, e.g. 0.5") from None
    if not math.isfinite(level) or level <= 0:
        raise InputError(f"--activity {value!r}: must be a positive, finite number")
    return level


@click.group()
def agents() -> None:
    """Create, list and drive agents."""


@agents.command()
@click.option(
    "--persona", "persona", required=True, help="Persona slug (see `fleet personas list`)."
)
@click.option("--count", type=int, default=1, show_default=True, help="How many agents.")
@click.option("--interval", help="Override the persona's interval bounds: MIN-MAX seconds.")
@click.option("--weights", help="Override action weights: post=1,comment=1,like=3,browse=1.")
@click.option(
    "--activity",
    help="Activity level (a multiplier of the persona's session rate, e.g. 0.5); "
    "default: drawn from each agent's seed.",
)
@click.option("--start", "start_now", is_flag=True, help="Start the new agents at once.")
@json_option
@click.pass_context
def create(
    ctx: click.Context,
    persona: str,
    count: int,
    interval: str | None,
    weights: str | None,
    activity: str | None,
    start_now: bool,
    as_json: bool,
) -> None:
    """Create COUNT agents of a persona (names continue after existing ones)."""
    fleet = fleet_of(ctx)
    fleet.personas.get(persona)
    created = ctx_agents.create_agents(
        fleet.sessions,
        fleet.personas,
        persona=persona,
        count=count,
        fleet_seed=fleet.settings.seed,
        now=utcnow(),
        interval=_interval(interval),
        weights=_weights(weights),
        activity=_activity(activity),
    )
    started = 0
    if start_now:
        new = Selection(id_range=(created.first_id, created.last_id))
        started = ctx_agents.change_status(
            fleet.sessions, fleet.personas, "start", new, now=utcnow()
        ).changed
    if as_json:
        print_json({**_created(created), "started": started})
    else:
        click.echo(
            f"created {created.count} {persona} agent(s), ids {created.first_id}-{created.last_id}"
            + (f", started {started}" if start_now else "")
        )


def _created(created: ctx_agents.Created) -> dict[str, object]:
    return {
        "persona": created.persona,
        "count": created.count,
        "first_index": created.first_index,
        "last_index": created.last_index,
        "first_id": created.first_id,
        "last_id": created.last_id,
    }


@agents.command("list")
@click.option("--persona", help="Only this persona.")
@click.option("--status", help="created, active, paused, stopped, error or deleted.")
@click.option("--deleted", "include_deleted", is_flag=True, help="Include soft-deleted agents.")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--offset", type=OFFSET, default=0, show_default=True)
@json_option
@click.pass_context
def list_(
    ctx: click.Context,
    persona: str | None,
    status: str | None,
    include_deleted: bool,
    limit: int,
    offset: int,
    as_json: bool,
) -> None:
    """A page of agents, in id order."""
    fleet = fleet_of(ctx)
    if persona is not None:
        fleet.personas.get(persona)
    where = AgentFilter(persona, status, include_deleted, limit, offset)
    found = ctx_agents.list_agents(fleet.sessions, where)
    if as_json:
        print_json([agent.to_json() for agent in found])
        return
    print_table(
        None,
        ["id", "handle", "name", "persona", "status", "next tick (UTC)", "last action", "ticks"],
        [
            (
                a.id,
                a.handle,
                a.display_name,
                a.persona,
                a.status,
                when(a.next_tick_at),
                a.last_action,
                a.ticks,
            )
            for a in found
        ],
    )


@agents.command()
@click.argument("ref")
@json_option
@click.pass_context
def show(ctx: click.Context, ref: str, as_json: bool) -> None:
    """One agent by id or handle."""
    fleet = fleet_of(ctx)
    agent = ctx_agents.get_agent(fleet.sessions, ref)
    data = {**agent.to_json(), **ctx_agents.activity_of(fleet.personas, agent)}
    if as_json:
        print_json(data)
        return
    for key, value in data.items():
        click.echo(f"{key:>17}  {'' if value is None else value}")


@agents.command()
@json_option
@click.pass_context
def counts(ctx: click.Context, as_json: bool) -> None:
    """Live agents by persona and status."""
    table = ctx_agents.agent_counts(fleet_of(ctx).sessions)
    if as_json:
        print_json(table)
        return
    statuses = list(AGENT_STATUSES)
    rows = [(p, *(by.get(s, 0) for s in statuses), sum(by.values())) for p, by in table.items()]
    rows.append(
        (
            "all",
            *(sum(by.get(s, 0) for by in table.values()) for s in statuses),
            sum(sum(by.values()) for by in table.values()),
        )
    )
    print_table(None, ["persona", *statuses, "total"], rows)


def _selection(refs: tuple[str, ...], persona: str | None, everyone: bool) -> Selection:
    return Selection(refs=refs, persona=persona, everyone=everyone)


def _status_command(name: str, doc: str) -> click.Command:
    @click.argument("refs", nargs=-1)
    @click.option("--persona", help="Every agent of this persona.")
    @click.option("--all", "everyone", is_flag=True, help="Every agent.")
    @json_option
    @click.pass_context
    def command(
        ctx: click.Context,
        refs: tuple[str, ...],
        persona: str | None,
        everyone: bool,
        as_json: bool,
    ) -> None:
        fleet = fleet_of(ctx)
        result = ctx_agents.change_status(
            fleet.sessions, fleet.personas, name, _selection(refs, persona, everyone), now=utcnow()
        )
        if as_json:
            print_json({"command": name, "changed": result.changed, "unchanged": result.unchanged})
        else:
            verb = {"start": "started", "pause": "paused", "resume": "resumed", "stop": "stopped"}[
                name
            ]
            click.echo(
                f"{verb} {result.changed} agent(s)"
                + (f"; {result.unchanged} left as they were" if result.unchanged else "")
            )

    command.__doc__ = doc
    return click.command(name)(command)


@agents.command()
@click.argument("refs", nargs=-1)
@click.option("--persona", help="Every agent of this persona.")
@click.option("--all", "everyone", is_flag=True, help="Every agent.")
@click.option(
    "--provision/--no-provision",
    default=True,
    show_default=True,
    help="Create the agents' gallery accounts now (else at their first action).",
)
@json_option
@click.pass_context
def start(
    ctx: click.Context,
    refs: tuple[str, ...],
    persona: str | None,
    everyone: bool,
    provision: bool,
    as_json: bool,
) -> None:
    """Start agents: each gets its first tick from its clock, and its gallery account."""
    from fleet.accounts import provision_accounts, without_account
    from fleet.gallery.client import HttpGallery

    fleet = fleet_of(ctx)
    selection = _selection(refs, persona, everyone)
    result = ctx_agents.change_status(
        fleet.sessions, fleet.personas, "start", selection, now=utcnow()
    )
    report: dict[str, object] = {
        "command": "start",
        "changed": result.changed,
        "unchanged": result.unchanged,
        "set_aside": list(result.errors),
    }
    for line in result.errors:
        click.echo(f"fleet: {line}; set aside (status error)", err=True)
    if provision:
        gallery = HttpGallery(fleet.settings.gallery)
        try:
            done = provision_accounts(
                fleet.sessions, gallery, without_account(fleet.sessions, selection)
            )
        finally:
            gallery.close()
        report["accounts"] = {
            "created": done.created,
            "existing": done.existing,
            "failed": len(done.failed),
        }
        if done.failed:
            handle, reason = next(iter(done.failed.items()))
            click.echo(
                f"fleet: {len(done.failed)} agent(s) have no gallery account yet (e.g. {handle}: "
                f"{reason}); each gets one at its first action",
                err=True,
            )
    if as_json:
        print_json(report)
        ctx.exit(1 if result.errors else 0)
    click.echo(
        f"started {result.changed} agent(s)"
        + (f"; {result.unchanged} left as they were" if result.unchanged else "")
    )
    if "accounts" in report:
        accounts = report["accounts"]
        assert isinstance(accounts, dict)
        click.echo(
            f"gallery accounts: {accounts['created']} created, {accounts['existing']} already there"
        )
    if result.errors:
        ctx.exit(1)


agents.add_command(_status_command("pause", "Pause active agents: their ticks stop."))
agents.add_command(_status_command("resume", "Resume paused agents: the next tick is recomputed."))
agents.add_command(_status_command("stop", "Stop agents (they can be started again)."))


@agents.command()
@click.argument("refs", nargs=-1)
@click.option("--persona", help="Every agent of this persona.")
@click.option("--all", "everyone", is_flag=True, help="Every agent.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def delete(
    ctx: click.Context, refs: tuple[str, ...], persona: str | None, everyone: bool, yes: bool
) -> None:
    """Soft-delete agents: they stop for good; history and handles are kept."""
    selection = _selection(refs, persona, everyone)
    fleet = fleet_of(ctx)
    if not yes:
        what = (
            "every agent" if everyone else f"every {persona} agent" if persona else ", ".join(refs)
        )
        click.confirm(f"Delete {what}?", abort=True)
    result = ctx_agents.delete_agents(fleet.sessions, fleet.personas, selection, now=utcnow())
    click.echo(f"deleted {result.changed} agent(s)")


@agents.command()
@click.argument("ref")
@json_option
@click.pass_context
def tick(ctx: click.Context, ref: str, as_json: bool) -> None:
    """Force a tick now: decide the agent's action and record it."""
    fleet = fleet_of(ctx)
    agent = ctx_agents.get_agent(fleet.sessions, ref)
    if agent.status != "active":
        raise ConflictError(f"agent {agent.handle} is {agent.status}, not active: start it first")
    now = utcnow()
    lease = timedelta(seconds=fleet.settings.tasks.lease_seconds)
    decisions = ctx_agents.decide_ticks(
        fleet.sessions, fleet.personas, [(agent.id, int(now.timestamp()))], now=now, lease=lease
    )
    if not decisions:
        raise ConflictError(f"agent {agent.handle} is no longer active")
    decision = decisions[0]
    if as_json:
        print_json(
            {
                "agent_id": decision.agent_id,
                "due_at": decision.due_at,
                "action": decision.action,
                "idempotency_key": decision.idempotency_key,
                "activity_id": decision.activity_id,
                "new": decision.new,
            }
        )
    else:
        click.echo(
            f"{agent.handle} decided to {decision.action} (activity {decision.activity_id}, key {decision.idempotency_key})"
        )


@agents.command()
@click.argument("ref")
@click.argument("action", type=click.Choice(["post", "comment", "like", "browse"]))
@click.option(
    "--here",
    is_flag=True,
    help="Run the action in this process instead of sending it; it ends here: succeeded, "
    "skipped, or dead with its reason.",
)
@click.option(
    "--retry-on-workers",
    is_flag=True,
    help="With --here: a failure worth retrying is handed to the workers, with the attempts "
    "it has left, instead of ending the action dead.",
)
@json_option
@click.pass_context
def act(
    ctx: click.Context, ref: str, action: str, here: bool, retry_on_workers: bool, as_json: bool
) -> None:
    """Make an agent do ACTION now (sent to the workers, or run --here)."""
    from fleet import activities
    from fleet.agents.heartbeat import manual_key
    from fleet.cli.context import action_sender
    from fleet.failures import act_here

    if retry_on_workers and not here:
        raise InputError(
            "--retry-on-workers goes with --here (without --here the workers do the action, "
            "with their retries)"
        )
    fleet = fleet_of(ctx)
    agent = ctx_agents.get_agent(fleet.sessions, ref)
    if agent.status != "active":
        raise ConflictError(f"agent {agent.handle} is {agent.status}, not active: start it first")
    send = None
    if not here:
        send = action_sender(fleet, instead=", or use --here to act in this process")
    elif retry_on_workers:
        send = action_sender(fleet, instead=", or leave out --retry-on-workers")
    now = utcnow()
    due = int(now.timestamp())
    key = manual_key(agent.id, due, action)
    lease = timedelta(seconds=fleet.settings.tasks.lease_seconds)
    activity_id = activities.create_activity(
        fleet.sessions,
        agent.id,
        action,
        datetime.fromtimestamp(due, UTC),
        key,
        now=now,
        lease=lease,
    )
    where = f"(activity {activity_id}, key {key})"
    result: dict[str, object] = {"activity_id": activity_id, "key": key}
    failed = False
    if not here:
        assert send is not None
        send(f"fleet.{action}", key)
        result["status"] = "sent"
        line = f"{agent.handle} {action}: sent {where}"
    else:
        done = act_here(
            fleet.action_kit, key, f"fleet.{action}", secrets=fleet.secrets, hand_over=send
        )
        if done.outcome is not None:
            detail = done.outcome.detail
            result |= {"status": done.outcome.status, "detail": detail}
            reason = f": {detail['reason']}" if detail and "reason" in detail else ""
            line = f"{agent.handle} {action}: {done.outcome.status}{reason} {where}"
        else:
            verdict = done.verdict
            assert verdict is not None
            result |= {"reason": verdict.reason}
            if verdict.kind == "retry":
                attempts = fleet.action_kit.max_attempts
                result |= {
                    "status": "handed-to-workers",
                    "attempts": verdict.attempts,
                    "retry_in_seconds": round(verdict.countdown, 3),
                }
                line = (
                    f"{agent.handle} {action}: failed here ({verdict.reason}); handed to the "
                    f"workers: attempt {verdict.attempts + 1} of {attempts} in "
                    f"{verdict.countdown:.1f} s {where}"
                )
            elif verdict.kind == "dead":
                failed = True
                result |= {"status": "dead", "dead_letter_id": verdict.dead_letter_id}
                line = (
                    f"{agent.handle} {action}: dead, dead letter {verdict.dead_letter_id}: "
                    f"{verdict.reason} {where}"
                )
            else:
                result["status"] = verdict.kind
                line = f"{agent.handle} {action}: {verdict.kind}: {verdict.reason} {where}"
    if as_json:
        print_json(result)
    else:
        click.echo(line)
    if failed:
        ctx.exit(1)

"""``fleet agents``: create agents and drive their lifecycle."""

from __future__ import annotations

from dataclasses import dataclass

import click

from fleet.cli.context import fleet_acting_here, fleet_of
from fleet.cli.credentials import credentials
from fleet.cli.options import confirm, gathered, selection_options, yes_option
from fleet.cli.output import OFFSET, as_json, echo, json_option, print_json, print_table, when
from fleet.core.kinds import ACTION_NAMES
from fleet.core.statuses import ActivityStatus
from fleet.errors import InputError
from fleet.service import agents as use
from fleet.service import database
from fleet.service.agents import AGENT_STATUSES, Acted, AgentFilter, Created, Selection
from fleet.service.inputs import activity_level as _activity
from fleet.service.inputs import interval as _interval
from fleet.service.inputs import weights as _weights


@dataclass(frozen=True)
class CreateOptions:
    """What ``fleet agents create`` was asked for."""

    persona: str
    count: int
    interval: str | None
    weights: str | None
    activity: str | None
    start_now: bool
    review: bool


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
@click.option(
    "--review",
    is_flag=True,
    help="Under review mode: their posts, comments and replies wait as drafts for approval "
    "(`fleet drafts`).",
)
@json_option
@click.pass_context
@gathered(CreateOptions, "new")
def create(ctx: click.Context, new: CreateOptions) -> None:
    """Create COUNT agents of a persona (names continue after existing ones)."""
    fleet = fleet_of(ctx)
    spec = use.NewAgents(
        new.persona,
        new.count,
        interval=_interval(new.interval),
        weights=_weights(new.weights),
        activity=_activity(new.activity),
        review=use.ReviewMode.ON if new.review else use.ReviewMode.OFF,
    )
    if new.start_now:
        created, started = use.create_and_start(fleet, spec)
    else:
        created, started = use.create(fleet, spec), 0
    if as_json(ctx):
        print_json({**_created(created), "started": started, "review": new.review})
    else:
        echo(
            f"created {created.count} {new.persona} agent(s), "
            f"ids {created.first_id}-{created.last_id}"
            + (f", started {started}" if new.start_now else "")
            + (", under review" if new.review else "")
            + f", in {database.describe_url(fleet.settings.database_url)}"
        )


def _created(created: Created) -> dict[str, object]:
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
@gathered(AgentFilter, "where")
def list_(ctx: click.Context, where: AgentFilter) -> None:
    """A page of agents, in id order."""
    fleet = fleet_of(ctx)
    if where.persona is not None:
        fleet.personas.get(where.persona)
    found = use.find(fleet, where)
    if as_json(ctx):
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
def show(ctx: click.Context, ref: str) -> None:
    """One agent by id or handle."""
    fleet = fleet_of(ctx)
    agent = use.get(fleet, ref)
    data = {**agent.to_json(), **use.describe(fleet, agent)}
    if as_json(ctx):
        print_json(data)
        return
    for key, value in data.items():
        echo(f"{key:>17}  {'' if value is None else value}")


@agents.command()
@json_option
@click.pass_context
def counts(ctx: click.Context) -> None:
    """Live agents by persona and status."""
    table = use.counts(fleet_of(ctx))
    if as_json(ctx):
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


def _status_command(name: str, doc: str) -> click.Command:
    @selection_options
    @json_option
    @click.pass_context
    def command(ctx: click.Context, selection: Selection) -> None:
        result = use.change_status(fleet_of(ctx), name, selection)
        if as_json(ctx):
            print_json({"command": name, "changed": result.changed, "unchanged": result.unchanged})
        else:
            verb = {"start": "started", "pause": "paused", "resume": "resumed", "stop": "stopped"}[
                name
            ]
            echo(
                f"{verb} {result.changed} agent(s)"
                + (f"; {result.unchanged} left as they were" if result.unchanged else "")
            )

    command.__doc__ = doc
    return click.command(name)(command)


@agents.command()
@selection_options
@click.option(
    "--provision/--no-provision",
    default=True,
    show_default=True,
    help="Create the agents' gallery accounts now (else at their first action).",
)
@json_option
@click.pass_context
def start(ctx: click.Context, selection: Selection, provision: bool) -> None:
    """Start agents: each gets its first tick from its clock, and its gallery account."""
    start_agents = use.start if provision else use.start_without_accounts
    started = start_agents(fleet_of(ctx), selection)
    result = started.transition
    report: dict[str, object] = {
        "command": "start",
        "changed": result.changed,
        "unchanged": result.unchanged,
        "set_aside": list(result.errors),
    }
    for line in result.errors:
        echo(f"fleet: {line}; set aside (status error)", err=True)
    done = started.accounts
    if done is not None:
        report["accounts"] = {
            "created": done.created,
            "existing": done.existing,
            "failed": len(done.failed),
        }
        if done.failed:
            handle, reason = next(iter(done.failed.items()))
            echo(
                f"fleet: {len(done.failed)} agent(s) have no gallery account yet (e.g. {handle}: "
                f"{reason}); each gets one at its first action",
                err=True,
            )
    link = started.operator_link
    if link is not None:
        report["operator_link"] = {"url": link.url, "ok": link.ok, "status": link.status}
        if not link.ok:
            echo(
                f"fleet: warning: the operator's link {link.url[:120]} does not open "
                f"({link.reason}); every agent account shows it (FLEET_DISCLOSURE__OPERATOR_URL)",
                err=True,
            )
    if as_json(ctx):
        print_json(report)
        ctx.exit(1 if result.errors else 0)
    echo(
        f"started {result.changed} agent(s)"
        + (f"; {result.unchanged} left as they were" if result.unchanged else "")
    )
    if "accounts" in report:
        accounts = report["accounts"]
        assert isinstance(accounts, dict)
        echo(
            f"gallery accounts: {accounts['created']} created, {accounts['existing']} already there"
        )
    if result.errors:
        ctx.exit(1)


agents.add_command(_status_command("pause", "Pause active agents: their ticks stop."))
agents.add_command(_status_command("resume", "Resume paused agents: the next tick is recomputed."))
agents.add_command(_status_command("stop", "Stop agents (they can be started again)."))


@agents.command()
@selection_options
@yes_option
@click.pass_context
def delete(ctx: click.Context, selection: Selection) -> None:
    """Soft-delete agents: they stop for good; history and handles are kept."""
    fleet = fleet_of(ctx)
    confirm(ctx, f"Delete {_named(selection)}?")
    result = use.delete(fleet, selection)
    echo(f"deleted {result.changed} agent(s)")


def _named(selection: Selection) -> str:
    """The agents of ``selection`` as a question names them."""
    if selection.everyone:
        return "every agent"
    if selection.persona:
        return f"every {selection.persona} agent"
    return ", ".join(selection.refs)


@agents.command()
@click.argument("ref")
@json_option
@click.pass_context
def tick(ctx: click.Context, ref: str) -> None:
    """Force a tick now: decide the agent's action, record it and send it to the workers."""
    fleet = fleet_of(ctx)
    # Refused before anything is written when no worker would see it (memory://): a
    # decided action that nobody carries out would stay pending for good.
    send = fleet.sender(instead=f", or use `fleet agents act {ref} ACTION --here`")
    decision = use.tick_now(fleet, ref)
    key = decision.key
    send(key)
    handle = use.get(fleet, str(key.agent_id)).handle
    if as_json(ctx):
        print_json(
            {
                "agent_id": key.agent_id,
                "due_at": key.due_at,
                "action": key.action.value,
                "idempotency_key": key.text,
                "activity_id": decision.activity_id,
                "new": decision.new,
            }
        )
    else:
        echo(
            f"{handle} decided to {key.action.value}, sent to the workers "
            f"(activity {decision.activity_id}, key {key.text})"
        )


@dataclass(frozen=True)
class ActRequest:
    """What ``fleet agents act`` was asked for: which agent does what, and where."""

    ref: str
    action: str
    here: bool
    retry_on_workers: bool

    def __post_init__(self) -> None:
        if self.retry_on_workers and not self.here:
            raise InputError(
                "--retry-on-workers goes with --here (without --here the workers do the "
                "action, with their retries)"
            )


@agents.command()
@click.argument("ref")
@click.argument("action", type=click.Choice(ACTION_NAMES))
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
@gathered(ActRequest, "asked")
def act(ctx: click.Context, asked: ActRequest) -> None:
    """Make an agent do ACTION now (sent to the workers, or run --here)."""
    fleet = fleet_acting_here(ctx) if asked.here else fleet_of(ctx)
    if asked.here:
        retry_on = None
        if asked.retry_on_workers:
            retry_on = fleet.sender(instead=", or leave out --retry-on-workers")
        acted = use.act_here(fleet, asked.ref, asked.action, retry_on=retry_on)
    else:
        send = fleet.sender(instead=", or use --here to act in this process")
        acted = use.send_now(fleet, asked.ref, asked.action, send)
    result, line = _acted_report(acted, asked)
    if as_json(ctx):
        print_json(result)
    else:
        echo(line)
    if acted.status == ActivityStatus.DEAD:
        ctx.exit(1)


def _acted_report(acted: Acted, asked: ActRequest) -> tuple[dict[str, object], str]:
    """How an act went: for scripts, and as one line for people."""
    where = f"(activity {acted.activity_id}, key {acted.key})"
    result: dict[str, object] = {
        "activity_id": acted.activity_id,
        "key": acted.key.text,
        "status": acted.status,
    }
    head = f"{acted.handle} {asked.action}"
    if acted.status == "handed-to-workers":
        result |= {
            "reason": acted.reason,
            "attempts": acted.attempts,
            "retry_in_seconds": round(acted.retry_in, 3),
        }
        line = (
            f"{head}: failed here ({acted.reason}); handed to the workers: attempt "
            f"{acted.attempts + 1} of {acted.max_attempts} in {acted.retry_in:.1f} s {where}"
        )
    elif acted.status == ActivityStatus.DEAD:
        result |= {"reason": acted.reason, "dead_letter_id": acted.dead_letter_id}
        line = f"{head}: dead, dead letter {acted.dead_letter_id}: {acted.reason} {where}"
    elif acted.reason is not None:
        result["reason"] = acted.reason
        line = f"{head}: {acted.status}: {acted.reason} {where}"
    else:
        if asked.here:
            result["detail"] = acted.detail
        reason = acted.detail.get("reason") if acted.detail else None
        line = f"{head}: {acted.status}{f': {reason}' if reason else ''} {where}"
    return result, line


agents.add_command(credentials)

"""``fleet agents credentials``: each agent's platform token (docs/credentials.md).

A token is read from standard input (piped) or a prompt that does not echo, never from
an argument, which ``ps`` and the shell's history would show; no command prints it.
"""

from __future__ import annotations

import sys

import click

from fleet.cli.context import fleet_of
from fleet.cli.output import as_json, echo, json_option, print_json, print_table, when
from fleet.errors import InputError
from fleet.service import credentials as use


@click.group()
def credentials() -> None:
    """Each agent's access token on a per-agent platform (the Mastodon client API)."""


def _read_token() -> str:
    """One line from standard input, or a hidden prompt at a terminal."""
    if sys.stdin is None:
        raise InputError("no token given: paste it on standard input (one line)")
    if sys.stdin.isatty():
        return str(click.prompt("Token", hide_input=True, err=True))
    line = sys.stdin.readline(8192)
    if sys.stdin.readline(1):
        raise InputError("give the token alone, on one line of standard input")
    return line


@credentials.command("set")
@click.argument("agent")
@json_option
@click.pass_context
def set_(ctx: click.Context, agent: str) -> None:
    """Keep AGENT's token, sealed (read from standard input or a hidden prompt)."""
    fleet = fleet_of(ctx)
    handle = use.set_token(fleet, agent, _read_token())
    if as_json(ctx):
        print_json({"agent": handle, "set": True})
        return
    echo(
        f"@{handle}: token kept, sealed with FLEET_CREDENTIALS__KEYS "
        f"(fleet agents credentials check {handle} asks the platform)"
    )


@credentials.command()
@click.argument("agent")
@json_option
@click.pass_context
def check(ctx: click.Context, agent: str) -> None:
    """Ask the platform whom AGENT's token acts as; exit 1 when it is refused."""
    found = use.check(fleet_of(ctx), agent)
    if as_json(ctx):
        print_json(found.to_json())
    else:
        echo(f"@{found.handle}: {found.said}")
    if found.ok is False:
        ctx.exit(1)


@credentials.command()
@click.argument("agent")
@json_option
@click.pass_context
def revoke(ctx: click.Context, agent: str) -> None:
    """Forget AGENT's token (revoke it on the platform too: docs/credentials.md)."""
    handle, had = use.revoke(fleet_of(ctx), agent)
    if as_json(ctx):
        print_json({"agent": handle, "revoked": had})
        return
    echo(f"@{handle}: token forgotten" if had else f"@{handle} had no token")


@credentials.command("list")
@json_option
@click.pass_context
def list_(ctx: click.Context) -> None:
    """Which agents have a token, and when it was set, checked, refused or revoked."""
    views = use.listing(fleet_of(ctx))
    if as_json(ctx):
        print_json(
            [
                {
                    "agent": v.handle,
                    "state": v.state,
                    "set_at": v.set_at,
                    "checked_at": v.checked_at,
                    "checked": v.checked,
                    "failed_at": v.failed_at,
                    "failure": v.failure,
                    "revoked_at": v.revoked_at,
                }
                for v in views
            ]
        )
        return
    print_table(
        None,
        ["agent", "state", "set (UTC)", "checked (UTC)", "what the platform said"],
        [
            (
                v.handle,
                v.state,
                when(v.set_at),
                when(v.checked_at),
                (v.failure if v.state == "refused" else v.checked) or "",
            )
            for v in views
        ],
    )


@credentials.command()
@json_option
@click.pass_context
def rotate(ctx: click.Context) -> None:
    """Re-seal every token with the newest key of FLEET_CREDENTIALS__KEYS (all or none)."""
    count = use.rotate(fleet_of(ctx))
    if as_json(ctx):
        print_json({"resealed": count})
        return
    echo(f"{count} token(s) re-sealed with the newest key; older keys may now be dropped")


@credentials.command("new-key")
def new_key() -> None:
    """Print a fresh key for FLEET_CREDENTIALS__KEYS (put it first in the list)."""
    echo(use.new_key())

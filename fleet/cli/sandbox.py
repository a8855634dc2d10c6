"""``fleet sandbox serve``: the sandbox gallery (the ``fleet-sandbox`` package, Fleet's
``[demo]`` extra) on the service token of Fleet's settings, so a default Fleet talks to a
default sandbox. Without the package, a one-line error says how to install it."""

from __future__ import annotations

import importlib.util

import click
from pydantic import SecretStr

from fleet.errors import FleetError

MISSING = (
    "the sandbox gallery is the fleet-sandbox package, not installed here: "
    "pip install 'fleet[demo]' (or -e packages/fleet-sandbox in the checkout)"
)


def _fleet_token() -> SecretStr:
    from fleet.settings import load_settings

    return load_settings().gallery.token


def _missing() -> click.Command:
    @click.command(
        name="sandbox",
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
        add_help_option=False,
    )
    def sandbox() -> None:
        """The sandbox gallery (needs the fleet-sandbox package)."""
        raise FleetError(MISSING)

    return sandbox


if importlib.util.find_spec("fleet_sandbox") is None:
    sandbox: click.Command = _missing()
else:
    from fleet_sandbox.cli import sandbox_group

    sandbox = sandbox_group(_fleet_token)

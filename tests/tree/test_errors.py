"""Fleet's errors are one tree (fleet/errors.py): every exception class Fleet defines
derives from FleetError, or is one of the interrupts (``Interrupt``: no ``Exception``), and
is named, with its meaning, in the tree of errors' docstring."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import fleet
import fleet.errors


def _exception_classes() -> dict[str, type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for info in pkgutil.walk_packages(fleet.__path__, "fleet."):
        # Migrations are history; the Celery face builds its app on import.
        if ".migrations" in info.name or info.name.startswith("fleet.worker"):
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if (
                inspect.isclass(value)
                and issubclass(value, BaseException)
                and value.__module__ == info.name
                and not name.startswith("_")  # a module's own detail, caught where raised
            ):
                found[f"{info.name}.{name}"] = value
    return found


def test_every_exception_class_of_fleet_is_a_fleet_error_named_in_the_tree() -> None:
    found = _exception_classes()
    assert "fleet.infra.bounded.AnswerRefused" in found  # the walk reaches the adapters
    tree = fleet.errors.__doc__ or ""
    outside = sorted(
        where
        for where, cls in found.items()
        if not issubclass(cls, (fleet.errors.FleetError, fleet.errors.Interrupt))
        or cls.__name__ not in tree
    )
    assert outside == []


def test_an_interrupt_is_no_exception_so_no_except_exception_takes_it() -> None:
    assert not issubclass(fleet.errors.Interrupt, Exception)
    assert issubclass(fleet.errors.TimeLimitExceeded, fleet.errors.Interrupt)

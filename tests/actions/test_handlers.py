"""The handlers' needs: those narrowed once per kit (``Handler.per_kit``) hold nothing of
a delivery, no collector of its LLM bills among them; the others are handed it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from fleet.actions import ActionKit
from fleet.actions.common import Billing
from fleet.actions.handlers import HANDLERS
from fleet.actions.kit import Limits
from fleet.content.offline.writer import OfflineWriter
from fleet.core.kinds import Action
from fleet.settings import ActionSettings


def _kit() -> ActionKit:
    return ActionKit(
        sessions=object(),  # type: ignore[arg-type]  # narrowing reads no database
        personas=object(),  # type: ignore[arg-type]
        gallery=object(),  # type: ignore[arg-type]
        writer=OfflineWriter(),
        settings=ActionSettings(),
        limits=Limits(timedelta(minutes=5)),
    )


def _billings(needs: Any) -> list[Billing]:
    """Every ``Billing`` the needs hold, directly or in their ``Writing``."""
    found = [v for v in vars_of(needs) if isinstance(v, Billing)]
    found += [v.billing for v in vars_of(needs) if isinstance(getattr(v, "billing", None), Billing)]
    return found


def vars_of(needs: Any) -> list[Any]:
    return [getattr(needs, name) for name in needs.__slots__]


def collector(_: Any) -> None:
    raise AssertionError("a delivery's collector is never called while narrowing")


@pytest.mark.parametrize("action", sorted(HANDLERS, key=str))
def test_needs_narrowed_once_per_kit_hold_no_collector_of_a_delivery(action: Action) -> None:
    handler = HANDLERS[action]
    billings = _billings(handler.narrow(_kit(), collector))
    if handler.per_kit:
        assert all(b.spent is None for b in billings)
    else:  # it hands its bills to the delivery's end: the collector is in its needs
        assert any(b.spent is collector for b in billings)


def test_a_post_and_a_comment_are_narrowed_once_per_kit_their_calls_charged_as_they_bill() -> None:
    assert HANDLERS[Action.POST].per_kit and HANDLERS[Action.COMMENT].per_kit
    assert not HANDLERS[Action.BROWSE].per_kit

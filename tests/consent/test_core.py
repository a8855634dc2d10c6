"""The rule of people's consent (fleet.consent.core)."""

from __future__ import annotations

import pytest

from fleet.consent.core import (
    Consent,
    PersonConsent,
    allows,
    closed_to,
    open_to_unnamed,
    said_no,
)

PEOPLE = {
    "ana": PersonConsent("none"),
    "ben": PersonConsent("replies"),
    "cleo": PersonConsent("all", frozenset({"bot_a"})),
}


@pytest.mark.parametrize(
    ("agent", "action", "person", "allowed"),
    [
        ("bot_a", "like", "dora", True),  # said nothing: open
        ("bot_a", "reply", "dora", True),
        ("bot_a", "like", "ana", False),  # none
        ("bot_a", "reply", "ana", False),
        ("bot_a", "like", "ben", False),  # replies only
        ("bot_a", "comment", "ben", False),
        ("bot_a", "reply", "ben", True),
        ("bot_a", "like", "cleo", False),  # blocked this agent
        ("bot_a", "reply", "cleo", False),
        ("bot_b", "like", "cleo", False),  # the rest of the fleet cools: no new engagement
        ("bot_b", "reply", "cleo", True),  # but answers her
        ("", "reply", "cleo", False),  # an agent not known may be the blocked one
    ],
)
def test_the_rule(agent: str, action: str, person: str, allowed: bool) -> None:
    assert allows(Consent(people=PEOPLE), agent, action, person) is allowed


def test_without_cooling_the_rest_of_the_fleet_engages_a_blocker() -> None:
    consent = Consent(people=PEOPLE, cool_fleet=False)
    assert allows(consent, "bot_b", "like", "cleo")
    assert not allows(consent, "bot_a", "like", "cleo")


def test_fails_safe_when_unreadable_or_unknown() -> None:
    consent = Consent(people=PEOPLE, unreadable=frozenset({"eve"}))
    assert not allows(consent, "bot_a", "reply", "eve")
    assert "eve" in closed_to(consent, "bot_a", "like")
    unknown = Consent(known=False)
    assert not allows(unknown, "bot_a", "reply", "dora")
    assert not open_to_unnamed(unknown, "like")


def test_a_gallery_without_the_calls_is_read_as_the_setting_says() -> None:
    careful = Consent(offered=False, unoffered="replies")
    assert not open_to_unnamed(careful, "like")
    assert open_to_unnamed(careful, "reply")
    assert open_to_unnamed(Consent(offered=False, unoffered="all"), "like")
    assert closed_to(Consent(people=PEOPLE), "bot_b", "like") == {"ana", "ben", "cleo"}


def test_said_no_names_everyone_who_turned_agents_away() -> None:
    consent = Consent(people=PEOPLE, unreadable=frozenset({"eve"}))
    assert [p for p in ("ana", "ben", "cleo", "dora", "eve") if said_no(consent, p)] == [
        "ana",
        "ben",
        "cleo",
        "eve",
    ]
    assert said_no(Consent(known=False), "dora")

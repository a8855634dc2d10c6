"""The six bundled personas carry the product brief's facts (docs/personas.md), and bad persona files are refused."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from fleet.core.activity_level import activity_level
from fleet.core.kinds import ACTION_NAMES
from fleet.core.persona import Action
from fleet.errors import PersonaFileError, UnknownPersona
from fleet.infra.persona_files import BUNDLED_DIR, PersonaCatalogue, load_persona

# slug: (vibe, timezone, peak windows, active days, peak x, off-peak x, selection weight)
FACTS: dict[str, tuple[str, str, list[tuple[str, str]], set[str], float, float, float]] = {
    "product_photographer": (
        "professional",
        "America/New_York",
        [("09:00", "12:00"), ("13:00", "17:00")],
        {"mon", "tue", "wed", "thu", "fri"},
        2.0,
        0.3,
        1.5,
    ),
    "social_media_marketer": (
        "trendy",
        "America/Los_Angeles",
        [("07:00", "09:00"), ("12:00", "14:00"), ("18:00", "22:00")],
        {"mon", "tue", "wed", "thu", "fri", "sat", "sun"},
        2.5,
        0.5,
        1.3,
    ),
    "indie_game_dev": (
        "creative",
        "America/Chicago",
        [("18:00", "02:00")],
        {"fri", "sat", "sun"},
        3.0,
        0.4,
        1.0,
    ),
    "data_visualization": (
        "analytical",
        "Europe/London",
        [("08:00", "12:00"), ("14:00", "18:00")],
        {"mon", "tue", "wed", "thu", "fri"},
        2.0,
        0.2,
        0.8,
    ),
    "ai_art_enthusiast": (
        "experimental",
        "UTC",
        [("20:00", "04:00")],
        {"mon", "tue", "wed", "thu", "fri", "sat", "sun"},
        2.0,
        0.7,
        1.2,
    ),
    "ux_ui_designer": (
        "minimal",
        "America/Los_Angeles",
        [("09:00", "12:00"), ("14:00", "18:00")],
        {"mon", "tue", "wed", "thu", "fri"},
        2.0,
        0.3,
        1.0,
    ),
}


@pytest.fixture(scope="module")
def catalogue() -> PersonaCatalogue:
    return PersonaCatalogue.from_directory()


def test_the_six_archetypes_ship_with_one_id_each(catalogue: PersonaCatalogue) -> None:
    assert sorted(catalogue.slugs()) == sorted(FACTS)
    for path in BUNDLED_DIR.glob("*.toml"):
        assert load_persona(path).slug == path.stem


@pytest.mark.parametrize("slug", sorted(FACTS))
def test_each_persona_carries_the_reference_facts(catalogue: PersonaCatalogue, slug: str) -> None:
    vibe, zone, windows, days, peak, off_peak, selection = FACTS[slug]
    persona = catalogue.get(slug)
    assert persona.vibe == vibe
    assert persona.schedule.timezone == zone
    assert [(w.start, w.end) for w in persona.schedule.peaks] == windows
    assert all(set(w.days) == days and w.multiplier == peak for w in persona.schedule.peaks)
    assert persona.schedule.off_peak == off_peak
    # People act in sessions, under daily quotas in human bands (issue 16).
    assert persona.sessions is not None and persona.interval is None
    quotas = persona.quotas
    limits = quotas.as_dict()
    assert 1 <= limits["post"] <= 3
    assert limits["comment"] <= limits["like"] and limits["like"] >= 3 * limits["post"]
    assert limits["reply"] <= limits["comment"]
    assert persona.selection_weight == selection


@pytest.mark.parametrize("slug", sorted(FACTS))
def test_weights_are_normalised_with_every_action_possible(
    catalogue: PersonaCatalogue, slug: str
) -> None:
    probabilities = catalogue.get(slug).weights.normalised()
    assert sum(probabilities.values()) == pytest.approx(1.0)
    assert set(probabilities) == set(Action)
    assert all(p > 0 for p in probabilities.values()), "every persona likes and browses too"
    # Posting is the most expensive action: it never dominates.
    assert probabilities[Action.POST] < 0.5


@pytest.mark.parametrize("slug", sorted(FACTS))
def test_what_a_tick_reads_of_a_persona_is_resolved_once_when_it_loads(
    catalogue: PersonaCatalogue, slug: str
) -> None:
    prepared = catalogue.cadences[slug]
    # One value read by slug, the same at every tick: no clock, zone or shape made per call.
    assert catalogue.cadences[slug] is prepared
    assert prepared.persona is catalogue.get(slug)
    assert catalogue.clock(slug) is prepared.clock
    assert catalogue.zone(slug) is prepared.clock.zone
    assert str(prepared.clock.zone) == FACTS[slug][1]
    assert prepared.sessions is catalogue.get(slug).sessions and prepared.steady is None
    # An agent's rhythm fills in its own values; its own interval makes it a steady ticker.
    own = prepared.rhythm(7, interval=(60.0, 90.0), activity=2.0, pace=0.5)
    assert (own.seed, own.sessions, own.steady, own.level, own.pace) == (
        7,
        None,
        (60.0, 90.0),
        2.0,
        0.5,
    )
    assert own.weights is prepared.persona.weights
    # A level not set by hand is drawn from the seed once, as the rhythm is made.
    drawn = prepared.rhythm(7)
    spread = prepared.sessions.activity_spread if prepared.sessions is not None else 0.0
    assert drawn.level == activity_level(7, spread)
    # The quotas by action, made once: the same limits as the registry's order gives.
    quotas = prepared.persona.quotas
    assert quotas.by_action is quotas.by_action
    for name, limit in zip(ACTION_NAMES, quotas.limits, strict=True):
        assert quotas.by_action[Action(name)] == limit == quotas.limit(Action(name))


def test_an_unknown_persona_read_by_slug_is_named(catalogue: PersonaCatalogue) -> None:
    with pytest.raises(UnknownPersona, match="nobody"):
        catalogue.cadences["nobody"]
    with pytest.raises(UnknownPersona):
        catalogue.clock("nobody")
    assert "nobody" not in catalogue.cadences


def test_off_peak_hours_on_active_days_are_off_peak(catalogue: PersonaCatalogue) -> None:
    profile = catalogue.get("product_photographer").schedule.weekly_profile()
    tuesday_19h = 1 * 24 * 60 + 19 * 60
    assert [m for a, b, m in profile if a <= tuesday_19h < b] == [0.3]


def _bundled(slug: str) -> dict[str, Any]:
    return tomllib.loads((BUNDLED_DIR / f"{slug}.toml").read_text())


def _write(tmp_path: Path, data: dict[str, Any], slug: str = "product_photographer") -> Path:
    lines: list[str] = []

    def value(v: Any) -> str:
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, list | tuple):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return repr(v)

    def emit(table: dict[str, Any], prefix: str) -> None:
        scalars = {
            k: v
            for k, v in table.items()
            if not isinstance(v, dict)
            and not (isinstance(v, list) and v and isinstance(v[0], dict))
        }
        for key, v in scalars.items():
            lines.append(f"{key} = {value(v)}")
        for key, v in table.items():
            name = f"{prefix}{key}"
            if isinstance(v, dict):
                lines.append(f"[{name}]")
                emit(v, name + ".")
            elif isinstance(v, list) and v and isinstance(v[0], dict):
                for item in v:
                    lines.append(f"[[{name}]]")
                    emit(item, name + ".")

    emit(data, "")
    path = tmp_path / f"{slug}.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_the_file_writer_used_below_round_trips_a_bundled_persona(tmp_path: Path) -> None:
    assert (
        load_persona(_write(tmp_path, _bundled("indie_game_dev"), "indie_game_dev")).slug
        == "indie_game_dev"
    )


def _refusal(tmp_path: Path, change: Any) -> PersonaFileError:
    data = _bundled("product_photographer")
    change(data)
    path = _write(tmp_path, data)
    with pytest.raises(PersonaFileError) as raised:
        load_persona(path)
    assert str(path) in str(raised.value)
    return raised.value


def test_an_unknown_field_is_refused_with_its_name(tmp_path: Path) -> None:
    error = _refusal(tmp_path, lambda d: d["weights"].update(dance=1.0))
    assert error.problems == [
        ("weights", f"unknown action 'dance': the actions are {', '.join(ACTION_NAMES)}")
    ]


def test_weights_that_sum_to_zero_are_refused(tmp_path: Path) -> None:
    error = _refusal(
        tmp_path,
        lambda d: d.update(weights={"post": 0, "comment": 0, "reply": 0, "like": 0, "browse": 0}),
    )
    assert error.problems[0][0] == "weights"
    assert "sum to zero" in error.problems[0][1]


def test_an_unknown_timezone_is_refused(tmp_path: Path) -> None:
    error = _refusal(tmp_path, lambda d: d["schedule"].update(timezone="Mars/Olympus_Mons"))
    assert error.problems == [("schedule.timezone", "unknown IANA timezone 'Mars/Olympus_Mons'")]


def test_overlapping_windows_are_refused_naming_both(tmp_path: Path) -> None:
    def overlap(d: dict[str, Any]) -> None:
        d["schedule"]["dormant"].append({"days": ["tue"], "start": "11:00", "end": "12:30"})

    error = _refusal(tmp_path, overlap)
    field, reason = error.problems[0]
    assert field == "schedule"
    assert "overlap" in reason and "tue 11:00" in reason


def test_a_schedule_with_no_active_hour_in_a_week_is_refused(tmp_path: Path) -> None:
    def asleep(d: dict[str, Any]) -> None:
        d["schedule"]["peaks"] = []
        d["schedule"]["off_peak"] = 0.0

    error = _refusal(tmp_path, asleep)
    assert error.problems == [("schedule", "the schedule has no active time in a week")]


def test_an_interval_whose_min_is_above_its_max_is_refused(tmp_path: Path) -> None:
    def steady(d: dict[str, Any]) -> None:
        del d["sessions"]
        d["interval"] = {"min_seconds": 500, "max_seconds": 60}

    error = _refusal(tmp_path, steady)
    assert error.problems == [("interval", "min_seconds (500) is above max_seconds (60)")]


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"max_actions": 0}, "sessions.max_actions", "greater than or equal to 1"),
        ({"per_day": -2.0}, "sessions.per_day", "greater than 0"),
        ({"per_day": float("nan")}, "sessions.per_day", "finite number"),
        ({"per_day": float("inf")}, "sessions.per_day", "finite number"),
        ({"gap_min_seconds": 200.0}, "sessions", "gap_min_seconds (200) is above gap_max_seconds"),
        ({"mean_actions": 30.0, "max_actions": 10}, "sessions", "mean_actions (30) is above"),
        ({"per_day": 10_000.0}, "sessions.per_day", "less than or equal to 100"),
        ({"max_actions": 1000, "mean_actions": 500.0}, "sessions.max_actions", "less than"),
        ({"max_actions": 1000, "mean_actions": 500.0}, "sessions.mean_actions", "less than"),
        ({"gap_min_seconds": 1e300}, "sessions.gap_min_seconds", "less than or equal"),
    ],
)
def test_bad_sessions_are_refused_with_field_and_reason(
    tmp_path: Path, change: dict[str, Any], field: str, reason: str
) -> None:
    error = _refusal(tmp_path, lambda d: d["sessions"].update(change))
    assert any(f == field and reason in r for f, r in error.problems), error.problems


def test_quotas_that_make_every_action_impossible_are_refused(tmp_path: Path) -> None:
    def spend_all(d: dict[str, Any]) -> None:
        d["quotas"] = {name: 0 for name in ACTION_NAMES}

    error = _refusal(tmp_path, spend_all)
    assert error.problems == [
        ("", "quotas make every action impossible: each action with a weight has a quota of 0")
    ]


def test_a_persona_has_exactly_one_rhythm(tmp_path: Path) -> None:
    error = _refusal(tmp_path, lambda d: d.update(interval={"min_seconds": 60, "max_seconds": 300}))
    assert error.problems == [
        ("", "give exactly one rhythm: [sessions] (people) or [interval] (a steady ticker)")
    ]


def test_a_bad_clock_time_is_refused(tmp_path: Path) -> None:
    error = _refusal(tmp_path, lambda d: d["schedule"]["peaks"][0].update(start="25:00"))
    assert error.problems[0][0] == "schedule.peaks.0.start"


def test_a_file_that_is_not_toml_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("slug = [unclosed\n")
    with pytest.raises(PersonaFileError, match="not valid TOML"):
        load_persona(path)


def test_two_personas_may_not_share_a_handle_prefix(catalogue: PersonaCatalogue) -> None:
    one = catalogue.get("ux_ui_designer")
    other = catalogue.get("product_photographer").model_copy(update={"names": one.names})
    with pytest.raises(PersonaFileError, match=r"names\.handle_prefix"):
        PersonaCatalogue([one, other])


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        ("{adjective:>200000000}", "uses {adjective:>200000000}; only {adjective} and {noun}"),
        ("{adjective.__class__}", "uses {adjective.__class__}"),
        ("{0.__class__}", "uses {0.__class__}"),
        ("{noun!r}", "uses {noun!r}"),
        ("{adjective", "expected '}' before end of string"),
        ("{adjective} " + "x" * 79, "at most 80"),
    ],
)
def test_name_templates_are_plain_placeholders_with_bounded_names(
    tmp_path: Path, template: str, reason: str
) -> None:
    error = _refusal(tmp_path, lambda d: d["names"].update(templates=[template]))
    assert any(field.startswith("names") and reason in r for field, r in error.problems), (
        error.problems
    )


def test_a_huge_personality_is_refused(tmp_path: Path) -> None:
    error = _refusal(tmp_path, lambda d: d.update(personality="words " * 1_000_000))
    ((field, reason),) = error.problems
    assert field == "" and reason.endswith("bytes; a persona file is at most 262,144")


def test_a_long_personality_under_the_file_limit_is_refused_by_its_field(tmp_path: Path) -> None:
    error = _refusal(tmp_path, lambda d: d.update(personality="w" * 5000))
    assert error.problems == [("personality", "String should have at most 4000 characters")]


def test_a_file_that_is_not_a_regular_file_is_refused_unread() -> None:
    with pytest.raises(PersonaFileError) as raised:
        load_persona(Path("/dev/zero"))
    assert raised.value.problems == [("", "not a regular file")]


@pytest.mark.parametrize("weight", [float("inf"), float("nan"), 1e300])
def test_a_selection_weight_that_is_not_a_bounded_number_is_refused(
    tmp_path: Path, weight: float
) -> None:
    error = _refusal(tmp_path, lambda d: d.update(selection_weight=weight))
    assert [field for field, _ in error.problems] == ["selection_weight"]


def test_an_interval_under_a_second_is_refused(tmp_path: Path) -> None:
    def ticker(d: dict[str, Any]) -> None:
        del d["sessions"]
        d["interval"] = {"min_seconds": 1e-300, "max_seconds": 1e-300}

    error = _refusal(tmp_path, ticker)
    assert {field for field, _ in error.problems} == {
        "interval.min_seconds",
        "interval.max_seconds",
    }


@pytest.mark.parametrize(
    "nested",
    [
        "x = " + "[" * 5_000 + "]" * 5_000,
        "x = " + "{a = " * 3_000 + "1" + "}" * 3_000,
        # Deeper than Python's recursion limit, so a reader of the nesting that recursed
        # would fail; no deeper (the TOML reader takes time quadratic in a dotted key's
        # length: 20,000 parts took seconds).
        "a" + ".a" * (2 * sys.getrecursionlimit()) + " = 1",
    ],
)
def test_a_deeply_nested_persona_file_is_refused_as_other_refusals_are(
    tmp_path: Path, nested: str
) -> None:
    path = tmp_path / "deep.toml"
    path.write_text(nested, encoding="utf-8")
    with pytest.raises(PersonaFileError) as raised:
        load_persona(path)
    assert raised.value.problems == [("", "tables or arrays nest more than 12 levels deep")]

"""bench.community's arithmetic and its command line, without running a fleet."""

from __future__ import annotations

from typing import Any

import pytest

from bench import community
from fleet_sandbox.tables import Sort


def test_the_top_share_and_gini_of_likes_per_post() -> None:
    assert community.top_share([10] * 10) == pytest.approx(0.1)
    assert community.gini([10] * 10) == pytest.approx(0.0)
    # One post of ten holds everything.
    assert community.top_share([0] * 9 + [50]) == pytest.approx(1.0)
    assert community.gini([0] * 9 + [50]) == pytest.approx(0.9)


def test_several_seeds_are_judged_on_their_mean_and_show_their_spread() -> None:
    runs: dict[int, dict[str, Any]] = {
        3: {"likes_top10_share": 0.33, "near_duplicate_posts": 0.0},
        4: {"likes_top10_share": 0.39, "near_duplicate_posts": 0.06},
        5: {"likes_top10_share": 0.36, "near_duplicate_posts": None},
    }
    summary = community.summarise(runs)
    share = summary["likes_top10_share"]
    assert share["mean"] == pytest.approx(0.36)
    assert (share["lowest"], share["highest"]) == (0.33, 0.39)
    assert share["met"] is True and share["met_by_seeds"] == "2/3"
    echo = summary["near_duplicate_posts"]
    # A seed without the figure is left out, not counted as 0.
    assert echo["mean"] == pytest.approx(0.03) and echo["met_by_seeds"] == "1/2"
    assert summary["threads_reaching_3"] == {"mean": None, "target": ">= 0.1", "met": None}


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--seeds", "3,x"], "whole numbers"),
        (["--seeds", "3,3"], "distinct seeds"),
        (["--seeds", ""], "distinct seeds"),
        (["--seeds", "3,4", "--ramp"], "no --ramp"),
        (["--seeds", "3,4", "--jobs", "0"], "--jobs is at least 1"),
    ],
)
def test_bad_seeds_are_refused_with_exit_code_2(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        community.main(argv)
    assert stopped.value.code == 2
    assert says in capsys.readouterr().err


# Two smoke runs take about 20 s; a hung pool fails in two minutes, not the suite's five.
@pytest.mark.long
@pytest.mark.timeout(120)
def test_two_seeds_run_in_processes_of_their_own(capsys: pytest.CaptureFixture[str]) -> None:
    """The smoke run on two seeds at once: each measured, the targets over both."""
    import json

    assert community.main(["--smoke", "--seeds", "1,2", "--jobs", "2"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["seeds"] == [1, 2]
    assert set(report["per_seed"]) == {"1", "2"}
    for figures in report["per_seed"].values():
        assert figures["posts"] > 0 and figures["likes"] > 0
    share = report["targets"]["likes_top10_share"]
    values = [f["likes_top10_share"] for f in report["per_seed"].values()]
    assert share["lowest"] == min(values) and share["highest"] == max(values)
    assert share["mean"] == pytest.approx(sum(values) / 2, abs=1e-4)


def test_people_like_any_post_of_the_day_or_what_the_first_pages_show() -> None:
    import random

    recent = [(post, 100 + post, False) for post in range(50)]
    anywhere = {community.people_pick(random.Random(seed), recent, {})[0] for seed in range(400)}
    assert len(anywhere) > 40, "any post of the last day, alike"
    pages: dict[Sort, list[tuple[int, int]]] = {
        "recent": [(49, 149), (48, 148)],
        "popular": [(3, 103)],
    }
    shown = [community.people_pick(random.Random(seed), recent, pages) for seed in range(400)]
    assert set(shown) == {(49, 149), (48, 148), (3, 103)}
    # Each feed at even odds: the one post on popular takes about half the likes.
    assert 150 < sum(1 for post, _ in shown if post == 3) < 250


def test_newcomers_join_at_times_drawn_once_from_the_seed() -> None:
    import random
    from datetime import UTC, datetime, timedelta

    start = datetime(2026, 11, 16, 6, tzinfo=UTC)
    two_days = 2 * 86_400

    def draw(seed: int) -> list[datetime]:
        return community.newcomer_arrivals(random.Random(seed), start, two_days, 60.0)

    assert draw(3) == draw(3), "one seed, one scenario"
    assert draw(3) != draw(4)
    for seed in range(20):
        times = draw(seed)
        assert times == sorted(times)
        assert all(start <= t < start + timedelta(seconds=two_days) for t in times)
    # One an hour on average: 48 in two days, over twenty seeds.
    mean = sum(len(draw(seed)) for seed in range(20)) / 20
    assert 42 < mean < 54


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--plans", "off"], "--plans off is for --writer fake-llm"),
        (["--writer", "fake-llm", "--seeds", "3,4"], "no --seeds or --ramp"),
        (["--writer", "fake-llm", "--ramp"], "no --seeds or --ramp"),
    ],
)
def test_the_fake_llm_writer_takes_one_plain_run(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        community.main(argv)
    assert stopped.value.code == 2
    assert says in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_the_smoke_run_writes_through_the_fake_llm_with_plans(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A few simulated hours through the Anthropic writer on bench.fake_llm: plans made,
    texts published, and the environment left as it was."""
    import json
    import os

    before = os.environ.get("FLEET_LLM__BASE_URL")
    assert community.main(["--smoke", "--writer", "fake-llm"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["writer"] == "fake-llm, plans on"
    assert report["llm_calls_by_task"]["plan"] > 0
    assert report["figures"]["comments"] > 0 and "takes_up_the_post" in report["figures"]
    assert os.environ.get("FLEET_LLM__BASE_URL") == before

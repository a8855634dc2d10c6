"""The benchmarks still run: each, at a tiny size, prints the JSON its readers expect and
leaves no database behind.

Not a measurement (figures at this size mean nothing): a benchmark a change broke fails
here, not on the day someone needs its figures for a closing note.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from tests.conftest import PG_ADMIN_URL, REDIS_URL

ROOT = Path(__file__).resolve().parents[2]

CASES = {
    "create_agents": (["--count", "50"], {"create_agents_per_second", "start_agents_per_second"}),
    "dispatch": (["--sizes", "200", "--due", "100", "--apply-async", "100"], {"dispatch"}),
    # One kind both ways, one ceiling run, one solo worker: the phases' machinery runs
    # without the seconds each phase's consumer round trips cost.
    "actions": (
        [
            *("--count", "4", "--warmup", "0", "--agents", "4", "--posts", "2"),
            *("--kinds", "like", "--modes", "batch", "--pool", "solo", "--concurrency", "1"),
            *("--noops", "40", "--noop-runs", "1", "--burst", "4"),
        ],
        {"actions_per_second", "ratio_to_ceiling", "cores_for_half_ceiling", "outcomes"},
    ),
    # bench.actions once at its tiny size above, and a day of two agents per persona.
    "capacity": (
        [
            "--model",
            *("--runs", "1", "--count", "4", "--warmup", "0", "--noops", "40"),
            *("--agents-per-persona", "2", "--days", "1", "--fleets", "100"),
            *("--actions-args", "--agents", "4", "--posts", "2"),
            *("--pool", "solo", "--concurrency", "1"),
        ],
        {"actions_per_agent_day", "queues"},
    ),
    "like_cpu": (
        [
            *("--agents", "3", "--posts", "4", "--batches", "1", "--top", "3", "--settle", "0"),
            *("--history", "2"),  # earlier likes written as the ledger holds them
        ],
        {"profile", "rows_read_per_like", "taken_by", "cpu_ms_per_like"},
    ),
    "browse_cpu": (
        ["--agents", "3", "--posts", "4", "--authors", "2", "--follows", "1", "--batches", "1"],
        {"profile", "round_trips_per_browse", "cpu_ms_per_browse", "outcomes"},
    ),
    "sandbox": (["--seconds", "0.5", "--processes", "1", "--connections", "2"], {"calls"}),
    # 20 captions for the distinct shares: at the default 1,000 they are most of a minute.
    "content_tokens": (
        ["--samples", "3", "--measured-samples", "2", "--captions", "20"],
        {"personas", "measured"},
    ),
    "comments": (["--posts", "2"], {"naming_share", "flagged_share", "by_commenter"}),
    # One burst on one worker for every queue: compose's three workers would start for
    # most of the run.
    "pipeline": (
        [
            *("--agents", "10", "--registered", "10", "--phases", "burst"),
            *("--layout", "single", "--pool", "solo", "--concurrency", "1"),
        ],
        {"runs", "agents_in_burst"},
    ),
    "realism": (["--agents", "2", "--weeks", "0.5"], {"personas", "targets"}),
    "cost": (["--agents", "2", "--weeks", "0.5", "--samples", "1"], {"personas", "fleet_mean"}),
    "console": (
        [
            *("--agents", "60", "--activities", "500", "--runs", "3"),
            *("--viewers", "3", "--events", "5"),
        ],
        {"pages", "live_feed"},
    ),
    "images": (["--count", "6", "--authors", "2", "--size", "128"], {"personas", "ms_per_image"}),
    # bench.community: its smoke run is tests/bench/test_community.py's (two seeds, and the
    # fake LLM's), not run a third time here.
    "hostile": (
        ["--clients", "embeddings", "--modes", "garbage,tokens", "--deadline", "1"],
        {"cells", "all_met"},
    ),
    "drafts": (["--drafts", "400", "--runs", "2"], {"postgres", "sqlite"}),
    "impact": (
        ["--seeds", "1", "--effects", "0.12", "--people", "60", "--share", "0.5"],
        {"runs", "share", "people"},
    ),
    "provenance": (["--images", "3"], {"per_post_cpu_ms_median", "fetch_and_check_cpu_ms_median"}),
    "provenance_demo": (
        ["--agents", "6", "--hours", "1"],
        {"published_by_agents", "share_with_both_marks"},
    ),
    "kept_memory": (
        ["--rows", "50", "--scan", "100"],
        {"echo_window_bytes_per_text", "posts_bytes_per_post"},
    ),
    "human_claims": ([], {"held_out", "bank", "held_out_languages"}),
    "identity": (
        ["--agents", "4", "--days", "0.4", "--ask-hours", "8", "--questions", "2"],
        {"answered_truthfully_share", "published_human_claims", "examples"},
    ),
}


# The run's own tag on the benchmarks' databases: a benchmark someone runs beside the
# suite has databases of its own, which this test must neither count nor blame.
TAG = f"smoke{os.getpid()}_"


def _bench_databases() -> set[str]:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", (f"fleet_bench_{TAG}%",)
        )
        return {name for (name,) in rows}


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.slow
@pytest.mark.parametrize("name", CASES)
def test_the_benchmark_runs_and_prints_its_figures(name: str) -> None:
    args, keys = CASES[name]
    before = _bench_databases()
    env = {
        **os.environ,
        "FLEET_BENCH_POSTGRES": PG_ADMIN_URL,
        "FLEET_BENCH_REDIS": REDIS_URL,
        "FLEET_BENCH_TAG": TAG,
    }
    done = subprocess.run(
        [sys.executable, "-m", f"bench.{name}", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout)
    assert keys <= figures.keys(), sorted(figures)
    assert _bench_databases() <= before, "the benchmark left its database behind"


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.slow
def test_the_week_prints_each_day_and_a_verdict() -> None:
    """bench.week at its smallest: two simulated days of a few agents on real workers,
    each day's figures present, the database dropped (figures mean nothing here)."""
    before = _bench_databases()
    env = {
        **os.environ,
        "FLEET_BENCH_POSTGRES": PG_ADMIN_URL,
        "FLEET_BENCH_REDIS": REDIS_URL,
        "FLEET_BENCH_TAG": TAG,
    }
    done = subprocess.run(
        [
            *(sys.executable, "-m", "bench.week", "--agents", "6", "--days", "2"),
            *("--day-seconds", "8", "--concurrency", "1"),
            *("--drain-seconds", "60"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout)
    assert figures["days"] == 2
    assert [day["day"] for day in figures["per_day"]] == [1, 2]
    for day in figures["per_day"]:
        assert {
            "actions",
            "outcomes",
            "near_duplicate_comments",
            "identity_margin",
            "memory_rows_per_agent",
            "database_bytes",
            "database_bytes_per_agent_day",
            "worker_rss_mib",
            "worker_pss_mib",
            "queue_latency_p95_s",
            "designed_actions_per_agent",
            "actions_per_designed",
            "worker_pss_mib_by_process",
        } <= day.keys(), sorted(day)
        assert sum(day["actions"].values()) > 0
        # Where the workers' memory is: each main process and its pool's children, which
        # add up to the total (each figure rounded to 0.1 MiB).
        by_process = day["worker_pss_mib_by_process"]
        assert set(by_process) == {"ticks", "actions", "actions_children"}, by_process
        assert abs(sum(by_process.values()) - day["worker_pss_mib"]) <= 0.3, by_process
        assert day["worker_pss_mib"] > 0
    assert figures["per_day"][1]["database_bytes"] >= figures["database_bytes_at_start"]
    assert {"last_day_vs_first", "growth", "met"} <= figures["verdict"].keys()
    assert _bench_databases() <= before, "the benchmark left its database behind"


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.slow
def test_content_cpu_of_one_epoch_writes_and_decides_alike() -> None:
    """bench.content_cpu at a tiny size, twice with one ``--epoch``: each kind's drafts and
    the no-echo check's decisions on them are the same (their digest), so a change in
    what the check refuses can be bisected; each kind's refusals are printed."""
    env = {
        **os.environ,
        "FLEET_BENCH_POSTGRES": PG_ADMIN_URL,
        "FLEET_BENCH_REDIS": REDIS_URL,
        "FLEET_BENCH_TAG": TAG,
    }
    digests = []
    for _ in range(2):
        done = subprocess.run(
            [
                *(sys.executable, "-m", "bench.content_cpu", "--agents", "3", "--texts", "3"),
                *("--history", "1", "--top", "2", "--epoch", "1795000000", "--refused", "2"),
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        figures = json.loads(done.stdout)
        assert figures["epoch"] == 1795000000
        assert set(figures["kinds"]) == {"post", "comment", "reply"}
        for kind in figures["kinds"].values():
            echo = kind["echo"]
            assert {"decisions_digest", "refusals_per_text", "refused"} <= echo.keys()
            texts = sum(sum(pair) for pair in echo["refusals_per_text"].values())
            assert texts <= kind["texts"]
        digests.append({k: f["echo"]["decisions_digest"] for k, f in figures["kinds"].items()})
    assert digests[0] == digests[1]

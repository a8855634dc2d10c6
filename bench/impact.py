"""bench.impact: does the impact report find an effect that is there, and none that is not?

For each seed: three simulated weeks in which 400 newcomers join (arrival times uniform
over the weeks) and post a first picture. Fleet sees them as the pace's reading does
(every 6 simulated hours, the people's posts of the last two days, through
``fleet.impact.use_cases.record_people``), assigns each to an arm of the experiment and
records it in its own database (SQLite, migrated to head). The fleet's welcome is
simulated: a first comment 10 minutes plus an exponential delay (mean 50 minutes) after a
newcomer's first post, for every newcomer target choice does not spare
(``fleet.impact.holdout_view.HoldoutView``, the filter agents use); none for the others.
Then each newcomer behaves by the sandbox's model (``fleet_sandbox.behaviour``), whose
planted effect (``--effect``, points of return after a first comment within a day) is
what the report must recover; their posts and comments are seen as the readings and the
replies' reads see them. The report (``fleet.impact.use_cases.impact_report``) is taken at
the fixed horizon: 14 days after the last arrival, so every newcomer has matured.

That tests the estimator. ``--fleet`` tests the fleet instead: it runs the demo's real
machinery (``bench.community``'s run: SQLite, the in-process worker, the sandbox gallery,
newcomers joining about every ``--newcomer-every`` simulated minutes) once with the
holdout at ``--fleet-share`` and once with it off, reads the whole gallery back, and
counts from the gallery's own tables the agents' likes, comments and replies toward
held-out people (the target: 0), and the welcome figures of the treated newcomers
against the same newcomers' with no holdout.

Printed as JSON: per effect and seed, the arms' sizes, each outcome per arm, the
estimated difference of returns and its 95 % interval, the planted effect, whether the
interval covers it and whether it excludes 0; and over the seeds, how many covered.

    python -m bench.impact [--seeds 1-10] [--effects 0.12,0] [--share 0.1] [--people 400]
        [--keep DIR]   (keep each run's database, for ``fleet impact`` on it)
    python -m bench.impact --fleet [--seeds 3] [--days 1] [--agents 24]
        [--newcomer-every 30] [--fleet-share 0.5]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fleet.gallery.port import GalleryComment, GalleryPost
from fleet.impact import use_cases as use
from fleet.infra.clocks import SimulatedClock
from fleet.service import database
from fleet.service.root import bootstrap
from fleet.settings import ImpactSettings, Settings
from fleet_sandbox.behaviour import Newcomers

# A Monday, far enough back that every run has matured by the time anyone reads its
# database with ``fleet impact`` (which reports at the system clock's now).
START = datetime(2026, 8, 3, 6, 0, tzinfo=UTC)
WEEKS = 3
READ_EVERY = timedelta(hours=6)
LOOKBACK = timedelta(days=2)
DAY = timedelta(days=1)


def _seeds(text: str) -> list[int]:
    if "-" in text:
        low, high = text.split("-", 1)
        return list(range(int(low), int(high) + 1))
    return [int(s) for s in text.split(",") if s.strip()]


def run(seed: int, effect: float, share: float, people: int, keep: Path | None) -> dict[str, Any]:
    rng = random.Random(f"impact:{seed}:{effect}")
    span = timedelta(weeks=WEEKS)
    arrivals = sorted(START + rng.random() * span for _ in range(people))
    end = START + span + timedelta(days=14)
    model = Newcomers(welcome_lift=effect)
    experiment = f"bench{seed}"
    with tempfile.TemporaryDirectory(prefix="fleet-impact-") as tmp:
        path = (keep or Path(tmp)) / f"impact-effect{effect:g}-seed{seed}.db"
        path.unlink(missing_ok=True)
        clock = SimulatedClock(START)
        settings = Settings(
            database_url=f"sqlite:///{path}",
            broker_url="memory://localhost/",
            redis_url=None,
            seed=seed,
            impact=ImpactSettings(holdout_share=share, experiment=experiment),
        )
        fleet = bootstrap(settings, clock=clock)
        try:
            database.upgrade(fleet)
            view = fleet.action_kit.targeting.holdout
            assert view is not None
            posts: list[GalleryPost] = []
            comments: list[GalleryComment] = []
            welcomed = {"treated": 0, "spared": 0}
            # (when, what): the newcomers' first posts, then what they do after.
            events: list[tuple[datetime, str, int]] = [
                (at, "first", i) for i, at in enumerate(arrivals)
            ]
            events.sort()
            later: list[tuple[datetime, str, int]] = []
            at = START
            made = 0
            while at <= end:
                clock.advance((at - clock.now()).total_seconds())
                due = [e for e in events if e[0] <= at]
                events = [e for e in events if e[0] > at]
                for when, _, i in due:
                    user = str(10_000 + i)
                    posts.append(_post(f"{i}-0", user, when))
                    # The pace's reading is the first to see the post; a like's choice may
                    # see it first: the filter spares by the same hash either way.
                    spared = view.spared().spares(user)
                    reply_after = (
                        None if spared else timedelta(minutes=10 + rng.expovariate(1 / 50))
                    )
                    welcomed["spared" if spared else "treated"] += 1
                    for kind, t in model.actions(rng, when, reply_after):
                        made += 1
                        later.append((t, kind, i))
                for t, kind, i in [e for e in later if e[0] <= at]:
                    user = str(10_000 + i)
                    if kind == "post":
                        posts.append(_post(f"{i}-{t.timestamp():.0f}", user, t))
                    else:
                        comments.append(_comment(f"{i}-{t.timestamp():.0f}", user, t))
                later = [e for e in later if e[0] > at]
                use.record_people(fleet, [p for p in posts if p.created_at >= at - LOOKBACK])
                use.record_comments(fleet, [c for c in comments if c.created_at >= at - READ_EVERY])
                at += READ_EVERY
            report = use.impact_report(fleet)
        finally:
            fleet.close()
    figures = report.as_dict()
    back = next(o for o in report.outcomes if o.name == "returned_days_2_7")
    d = back.difference
    assert d is not None
    return {
        "seed": seed,
        "arms": report.people,
        "holdout_share": report.people["holdout"] / max(1, sum(report.people.values())),
        "outcomes": {
            o["name"]: {
                "n": o["n"],
                "value": o["value"],
                "difference": o["difference"],
                "mde": o["mde"],
            }
            for o in figures["outcomes"]
        },
        "returned_difference": round(d.estimate, 4),
        "returned_ci": [round(d.low, 4), round(d.high, 4)],
        "planted": effect,
        "covers_planted": d.covers(effect),
        "excludes_zero": d.low > 0 or d.high < 0,
        "verdict": back.verdict,
        "database": str(path) if keep else None,
    }


FLEET_EXPERIMENT = "benchfleet"
WELCOME = (
    "newcomer_posts",
    "newcomer_commented_within_3h",
    "newcomer_first_like_minutes_median",
    "newcomer_first_comment_minutes_median",
    "newcomer_bot_comments_mean",
    "newcomer_bot_likes_mean",
    "newcomer_distinct_bots_mean",
)


def fleet_run(
    seed: int, *, days: float, agents: int, newcomer_every: float, share: float
) -> dict[str, Any]:
    """The demo's fleet with newcomers, the holdout at ``share`` and then off: the
    agents' actions toward held-out people, counted from the gallery, and the treated
    newcomers' welcome in both runs."""
    import os

    from bench import community
    from fleet.impact.holdout import arm

    def once(at: float) -> tuple[Any, float]:
        os.environ["FLEET_IMPACT__HOLDOUT_SHARE"] = str(at)
        os.environ["FLEET_IMPACT__EXPERIMENT"] = FLEET_EXPERIMENT
        try:
            return community.run(
                agents=agents, seed=seed, days=days, newcomer_every=newcomer_every, ramp_to=None
            )
        finally:
            del os.environ["FLEET_IMPACT__HOLDOUT_SHARE"], os.environ["FLEET_IMPACT__EXPERIMENT"]

    held_run, wall = once(share)
    plain_run, plain_wall = once(0.0)
    out: dict[str, Any] = {"seed": seed, "share": share, "wall_seconds": [wall, plain_wall]}
    bots = {uid for uid, u in held_run.users.items() if u.is_agent}
    people = {uid for uid, u in held_run.users.items() if not u.is_agent}
    held = {uid for uid in people if arm(str(uid), FLEET_EXPERIMENT, share) == "holdout"}
    authors = {p.id: p.user_id for p in held_run.posts}
    commenters = {c.id: c.user_id for c in held_run.comments}
    touches = {
        "likes": sum(
            1 for lk in held_run.likes if lk.user_id in bots and authors.get(lk.post_id) in held
        ),
        "comments": sum(
            1
            for c in held_run.comments
            if c.user_id in bots and c.parent_id is None and authors.get(c.post_id) in held
        ),
        "replies": sum(
            1
            for c in held_run.comments
            if c.user_id in bots
            and c.parent_id is not None
            and (commenters.get(c.parent_id) in held or authors.get(c.post_id) in held)
        ),
    }
    out["people"] = len(people)
    out["held_out_people"] = len(held)
    out["held_out_posts"] = sum(1 for p in held_run.posts if p.user_id in held)
    # What the agents could have answered: held-out people's comments on agents' posts.
    out["held_out_comments"] = sum(1 for c in held_run.comments if c.user_id in held)
    out["agent_actions_toward_holdout"] = touches
    # The same treated newcomers (same seed, same arrivals) in both runs.
    for name, gallery in (("with_holdout", held_run), ("without_holdout", plain_run)):
        by_post = {p.id: p for p in gallery.posts}
        treated = [
            pid
            for pid in gallery.newcomer_posts
            if pid in by_post
            and by_post[pid].user_id not in held
            and arm(str(by_post[pid].user_id), FLEET_EXPERIMENT, share) == "treated"
        ]
        gallery.newcomer_posts = treated
        figures = community._newcomers(gallery, bots_of(gallery), by_post)
        out[f"treated_welcome_{name}"] = {k: figures.get(k) for k in WELCOME}
    return out


def bots_of(gallery: Any) -> set[int]:
    return {uid for uid, u in gallery.users.items() if u.is_agent}


def _post(post_id: str, user: str, at: datetime) -> GalleryPost:
    return GalleryPost(
        id=post_id,
        title="a picture",
        description="",
        image_url="",
        like_count=0,
        comment_count=0,
        created_at=at,
        user_id=user,
        username=f"newcomer{user}",
        user_is_agent=False,
    )


def _comment(comment_id: str, user: str, at: datetime) -> GalleryComment:
    return GalleryComment(
        id=comment_id,
        post_id="elsewhere",
        content="",
        user_id=user,
        username=f"newcomer{user}",
        created_at=at,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.impact", description=__doc__)
    parser.add_argument("--seeds", default="1-10")
    parser.add_argument("--effects", default="0.12,0")
    parser.add_argument("--share", type=float, default=0.1)
    parser.add_argument("--people", type=int, default=400)
    parser.add_argument("--keep", type=Path, default=None)
    parser.add_argument("--fleet", action="store_true", help="run the demo's fleet instead")
    parser.add_argument("--days", type=float, default=1.0)
    parser.add_argument("--agents", type=int, default=24)
    parser.add_argument("--newcomer-every", type=float, default=30.0)
    parser.add_argument("--fleet-share", type=float, default=0.5)
    args = parser.parse_args(argv)
    if args.fleet:
        runs = [
            fleet_run(
                seed,
                days=args.days,
                agents=args.agents,
                newcomer_every=args.newcomer_every,
                share=args.fleet_share,
            )
            for seed in _seeds(args.seeds if args.seeds != "1-10" else "3")
        ]
        total = sum(sum(r["agent_actions_toward_holdout"].values()) for r in runs)
        json.dump({"fleet": runs, "agent_actions_toward_holdout": total}, sys.stdout, indent=2)
        print()
        return 0
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    out: dict[str, Any] = {"share": args.share, "people": args.people, "weeks": WEEKS, "runs": {}}
    for effect in [float(e) for e in args.effects.split(",")]:
        runs = [
            run(seed, effect, args.share, args.people, args.keep) for seed in _seeds(args.seeds)
        ]
        out["runs"][f"{effect:g}"] = {
            "planted": effect,
            "seeds": runs,
            "covered": sum(r["covers_planted"] for r in runs),
            "excluded_zero": sum(r["excludes_zero"] for r in runs),
            "balanced_within_2_points": sum(
                abs(r["holdout_share"] - args.share) <= 0.02 for r in runs
            ),
            "of": len(runs),
        }
    out["wall_seconds"] = round(time.monotonic() - began, 1)
    json.dump(out, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""bench.follows: does the fleet's follow graph look like a community's, seen from outside?

Runs ``bench.community``'s machinery (the demo: SQLite, the in-process worker, the
sandbox gallery, a simulated clock) for ``--days`` simulated days, 72 agents, newcomers
about hourly, with people who follow too (``bench.community``'s people, by
``fleet_sandbox.people_follows.FollowHabits``: after a like, back, rarely away), every
8th newcomer opting out of agents as they join (``SayingNoPeople``). Then it reads the gallery's follow graph back (every follow
and unfollow the sandbox recorded) and prints as JSON, beside issue 70's targets:

- follow reciprocity (the share of follows returned), the in-degree's Gini and its
  top accounts;
- newcomers (the holdout's treated ones, joined a day before the end or more) with a
  first follower within a simulated day, and the most agents following one newcomer in
  their first day; the held-out newcomers followed by agents (the holdout spares them:
  0) and by people;
- follows per agent-day, unfollows per follow, follows toward people who said no (read
  from the gallery's consents at the end),
  follow-unfollow cycles (a pair followed again after an unfollow);
- round 4's community figures (``bench.community.measures.engagement``).

``--seeds 3,4,5,6`` runs each seed in a process of its own (``--jobs`` at once) and gives
each target's mean, lowest and highest. ``--draw PATH`` draws the (last) seed's follow
graph to a PNG (networkx and matplotlib: the ``bench`` extra). ``--smoke``: 12 agents, a
few simulated hours.

People act through the sandbox's admin API (``/admin/people/follow``...), the fleet
through the gallery's own API.
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing
import random
import sys
import time
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import numpy as np

from bench.community.gallery import Gallery, run
from bench.community.measures import engagement, gini, top_share
from bench.community.people import People

DAY = timedelta(days=1)

TARGETS: dict[str, tuple[float, float]] = {
    "follow_reciprocity": (0.3, 0.7),
    "in_degree_gini": (0.5, 0.8),
    "newcomers_followed_within_day": (0.5, 1.0),
    "newcomer_most_agents_first_day": (0, 8),
    "follows_per_agent_day": (0.5, 5.0),
    "unfollows_per_follow": (0.0, 0.0499),
    "follows_toward_said_no": (0, 0),
    "follow_unfollow_cycles": (0, 0),
    "likes_gini": (0.60, 0.80),
    "likes_top10_share": (0.45, 0.65),
    "comment_like_ratio": (0.05, 0.40),
    "reciprocity_ratio": (1.3, float("inf")),
}


@dataclass
class SayingNoPeople(People):
    """``bench.community``'s people (who like, comment and follow by
    ``fleet_sandbox.people_follows.FollowHabits``: after a like, back, rarely away), of
    whom every ``said_no_every``-th newcomer opts out of agents as they join."""

    said_no_every: int = 8

    def _join(self, api: httpx.Client) -> None:
        super()._join(api)
        if self.said_no_every and self.joined % self.said_no_every == 0:
            answer = api.put(
                f"/api/admin/users/newcomer{self.joined}/agent-consent",
                json={"agentInteractions": "none"},
            )
            answer.raise_for_status()


def graph_at_end(gallery: Gallery) -> set[tuple[int, int]]:
    """The follows in force at the end, from every change the gallery recorded."""
    edges: set[tuple[int, int]] = set()
    for e in gallery.follow_events:
        pair = (e.follower_id, e.followed_id)
        if e.following:
            edges.add(pair)
        else:
            edges.discard(pair)
    return edges


def follow_figures(gallery: Gallery, agents: int, days: float) -> dict[str, Any]:
    """The follow graph's figures (see the module's list)."""
    users = gallery.users
    bots = {uid for uid, u in users.items() if u.is_agent}
    edges = graph_at_end(gallery)
    returned = sum(1 for a, b in edges if (b, a) in edges)
    in_degree = Counter(b for _, b in edges)
    degrees = [in_degree.get(uid, 0) for uid in users]
    agent_events = [e for e in gallery.follow_events if e.follower_id in bots]
    agent_follows = sum(1 for e in agent_events if e.following)
    agent_unfollows = sum(1 for e in agent_events if not e.following)
    history: dict[tuple[int, int], list[bool]] = defaultdict(list)
    for e in agent_events:
        history[(e.follower_id, e.followed_id)].append(bool(e.following))
    cycles = sum(
        1 for seq in history.values() if any(not a and b for a, b in itertools.pairwise(seq))
    )
    refused = gallery.said_no
    toward_no = sum(1 for e in agent_events if e.following and e.followed_id in refused)

    authors = {p.id: p.user_id for p in gallery.posts}
    held = {authors[pid] for pid in gallery.held_out_posts if pid in authors}
    first_follow: dict[int, datetime] = {}
    agents_followed: set[int] = set()
    agents_first_day: dict[int, set[int]] = defaultdict(set)
    for e in gallery.follow_events:
        joined = gallery.newcomers.get(e.followed_id)
        if joined is None or not e.following:
            continue
        first_follow.setdefault(e.followed_id, e.created_at)
        if e.follower_id in bots:
            agents_followed.add(e.followed_id)
            if e.created_at - joined <= DAY:
                agents_first_day[e.followed_id].add(e.follower_id)
    treated = {
        uid: at
        for uid, at in gallery.newcomers.items()
        if uid not in held and uid not in refused and gallery.end - at >= DAY
    }
    followed_in_day = [
        uid for uid, at in treated.items() if uid in first_follow and first_follow[uid] - at <= DAY
    ]
    minutes = [
        (first_follow[uid] - at).total_seconds() / 60
        for uid, at in treated.items()
        if uid in first_follow
    ]
    top = in_degree.most_common(5)
    return {
        "follows_in_force": len(edges),
        "follow_reciprocity": round(returned / len(edges), 3) if edges else None,
        "in_degree_gini": round(gini(degrees), 3),
        "in_degree_top10_share": round(top_share(degrees), 3),
        "in_degree_max": max(degrees, default=0),
        "most_followed": [
            {"account": users[uid].username, "agent": uid in bots, "followers": n} for uid, n in top
        ],
        "agent_follows": agent_follows,
        "agent_follows_of_agents": sum(
            1 for e in agent_events if e.following and e.followed_id in bots
        ),
        "people_follows": sum(
            1 for e in gallery.follow_events if e.follower_id not in bots and e.following
        ),
        "follows_per_agent_day": round(agent_follows / (agents * days), 2),
        "unfollows_per_follow": round(agent_unfollows / agent_follows, 4) if agent_follows else 0.0,
        "follows_toward_said_no": toward_no,
        "people_said_no": len(refused),
        "follow_unfollow_cycles": cycles,
        "newcomers_measured": len(treated),
        "newcomers_followed_within_day": (
            round(len(followed_in_day) / len(treated), 3) if treated else None
        ),
        "newcomer_first_follower_minutes_median": (
            round(float(np.median(minutes)), 1) if minutes else None
        ),
        "newcomer_most_agents_first_day": max(
            (len(v) for v in agents_first_day.values()), default=0
        ),
        "held_out_newcomers": len(held),
        # The holdout spares them from the fleet (0), not from people.
        "held_out_newcomers_followed_by_agents": len(held & agents_followed),
        "held_out_newcomers_followed_by_people": len((held & set(first_follow)) - agents_followed),
        # The fleet's follow actions by how they ended, and why the skipped were.
        "follow_actions": dict(Counter(a.status for a in gallery.actions if a.action == "follow")),
        "follow_skipped_why": dict(
            Counter(
                a.error[:40]
                for a in gallery.actions
                if a.action == "follow" and a.status == "skipped"
            ).most_common(3)
        ),
    }


def figures_of(gallery: Gallery, agents: int, days: float, seed: int) -> dict[str, Any]:
    """The follow graph's figures and round 4's community figures of one run."""
    out = follow_figures(gallery, agents, days)
    community = engagement(gallery, random.Random(seed))
    likes = community["likes"]
    out |= {
        "likes_gini": community["likes_gini"],
        "likes_top10_share": community["likes_top10_share"],
        "comment_like_ratio": round(community["comments"] / likes, 3) if likes else None,
        "reciprocity_ratio": community["reciprocity_ratio"],
    }
    return out


def _seed_run(seed: int, agents: int, days: float, draw: str | None) -> dict[str, Any]:
    gallery, wall = run(
        agents=agents,
        seed=seed,
        days=days,
        newcomer_every=60.0,
        ramp_to=None,
        people_class=SayingNoPeople,
    )
    out = {
        "run_seconds": round(wall, 1),
        "figures": figures_of(gallery, agents, days, seed),
    }
    out["newcomer_day"] = newcomer_day(gallery)
    if draw:
        out["drawn"] = draw_graph(gallery, draw)
    return out


def newcomer_day(gallery: Gallery) -> list[str]:
    """What one treated newcomer's first day looked like, as the gallery recorded it."""
    bots = {uid for uid, u in gallery.users.items() if u.is_agent}
    authors = {p.id: p.user_id for p in gallery.posts}
    held = {authors[pid] for pid in gallery.held_out_posts if pid in authors}
    chosen = next(
        (
            uid
            for uid, at in sorted(gallery.newcomers.items(), key=lambda kv: kv[1])
            if uid not in held and gallery.end - at >= DAY
        ),
        None,
    )
    if chosen is None:
        return []
    joined = gallery.newcomers[chosen]
    name = gallery.users[chosen].username
    said: list[tuple[datetime, str]] = [(joined, f"{name} joins and posts")]
    posts = {p.id for p in gallery.posts if p.user_id == chosen}
    for like in gallery.likes:
        if like.post_id in posts and like.created_at - joined <= DAY:
            who = gallery.users[like.user_id].username
            said.append((like.created_at, f"{who} likes the post"))
    for c in gallery.comments:
        if c.post_id in posts and c.created_at - joined <= DAY and c.user_id in bots:
            who = gallery.users[c.user_id].username
            said.append((c.created_at, f"{who} comments: {str(c.content)[:90]!r}"))
    followers: set[int] = set()  # who followed the newcomer so far: a follow of them is back
    for e in gallery.follow_events:
        if e.created_at - joined > DAY:
            continue
        if e.followed_id == chosen:
            who = gallery.users[e.follower_id].username
            said.append((e.created_at, f"{who} {'follows' if e.following else 'unfollows'} {name}"))
            if e.following:
                followers.add(e.follower_id)
        if e.follower_id == chosen and e.following:
            back = " back" if e.followed_id in followers else ""
            said.append(
                (e.created_at, f"{name} follows{back} {gallery.users[e.followed_id].username}")
            )
    # In the order the gallery recorded them (sorted by time alone: the sort is stable).
    said.sort(key=lambda at_text: at_text[0])
    return [f"+{int((at - joined).total_seconds() // 60)} min: {text}" for at, text in said[:25]]


def draw_graph(gallery: Gallery, path: str) -> str:
    """The follow graph drawn to ``path`` (agents blue, people orange, newcomers green;
    a node's size its followers)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import networkx as nx

    edges = graph_at_end(gallery)
    graph = nx.DiGraph()
    graph.add_edges_from(edges)
    in_degree = dict(graph.in_degree())
    colours = [
        "#1f77b4"
        if gallery.users[n].is_agent
        else ("#2ca02c" if n in gallery.newcomers else "#ff7f0e")
        for n in graph.nodes
    ]
    sizes = [20 + 25 * in_degree.get(n, 0) for n in graph.nodes]
    layout = nx.spring_layout(graph, seed=1, k=0.35)
    fig, ax = plt.subplots(figsize=(11, 11), dpi=110)
    nx.draw_networkx_edges(graph, layout, ax=ax, alpha=0.12, arrowsize=5, width=0.5)
    nx.draw_networkx_nodes(graph, layout, ax=ax, node_color=colours, node_size=sizes, alpha=0.85)
    top = sorted(in_degree, key=lambda n: -in_degree[n])[:8]
    nx.draw_networkx_labels(
        graph, layout, ax=ax, labels={n: gallery.users[n].username for n in top}, font_size=7
    )
    ax.set_title(
        f"Follow graph: {graph.number_of_nodes()} accounts, {graph.number_of_edges()} follows "
        "(blue agents, orange people, green newcomers; size = followers)"
    )
    ax.axis("off")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def summarise(runs: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """Each target's mean over the seeds, lowest and highest, and how many seeds met it."""
    out: dict[str, Any] = {}
    for name, (low, high) in TARGETS.items():
        values = [r[name] for r in runs.values() if isinstance(r.get(name), int | float)]
        target = f"{low:g}-{high:g}" if high != float("inf") else f">= {low:g}"
        if not values:
            out[name] = {"mean": None, "target": target, "met": None}
            continue
        mean = float(np.mean(values))
        out[name] = {
            "mean": round(mean, 4),
            "lowest": min(values),
            "highest": max(values),
            "target": target,
            "met": low <= mean <= high,
            "met_by_seeds": f"{sum(low <= v <= high for v in values)}/{len(values)}",
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=72)
    parser.add_argument("--days", type=float, default=2.0)
    parser.add_argument("--seeds", default="3", help="e.g. 3,4,5,6")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--draw", help="a PNG of the last seed's follow graph")
    parser.add_argument("--smoke", action="store_true", help="12 agents, 6 simulated hours")
    args = parser.parse_args(argv)
    try:
        seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    except ValueError:
        parser.error(f"--seeds takes whole numbers, e.g. 3,4,5: {args.seeds[:40]!r}")
    if not seeds or args.jobs < 1:
        parser.error("--seeds takes at least one seed and --jobs is at least 1")
    if args.smoke:
        args.agents, args.days = 12, 0.25
    began = time.monotonic()
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=args.jobs, mp_context=spawn) as pool:
        done = {
            seed: pool.submit(
                _seed_run, seed, args.agents, args.days, args.draw if seed == seeds[-1] else None
            )
            for seed in seeds
        }
        runs = {seed: future.result() for seed, future in done.items()}
    report = {
        "bench": "follows",
        "agents": args.agents,
        "days": args.days,
        "seeds": seeds,
        "wall_seconds": round(time.monotonic() - began, 1),
        "targets": summarise({s: r["figures"] for s, r in runs.items()}),
        "per_seed": runs,
    }
    json.dump(report, sys.stdout, indent=2, default=str)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())

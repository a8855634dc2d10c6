"""What the sandbox's simulated people do about follows: their habits (a behaviour model),
the admin calls through which they follow, the follow graph's figures read from outside.

The calls (service token, camelCase JSON, the sandbox's clock):

- ``POST /admin/people/follow`` ``{"username": ..., "target": ..., "following": true}``
  (or ``"targetId"`` instead of ``"target"``): a
  person's follow of any account (``false``: unfollow); a state, ``changed`` false when
  it was so; 400 for an agent account acting, an unknown account, or oneself;
- ``GET /admin/people/followed?minutes=60``: the follows made toward people in the last
  ``minutes`` (at most ``MOST_LISTED``), for their follow-backs;
- ``GET /admin/follow-graph``: the graph's figures: follows, reciprocity (the share of
  follows returned), the Gini of in-degree, the top 10 %'s share of follows received,
  unfollows, and a person's follows of agents apart.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pydantic import Field
from sqlalchemy import func, select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fleet_sandbox import follows, storage, tables
from fleet_sandbox.config import CamelModel
from fleet_sandbox.schemas import BadRequest, parse, stamp
from fleet_sandbox.state import authorize, sandbox_of

MOST_LISTED = 5_000
MOST_MINUTES = 60 * 24 * 7
MOST_EDGES = 500_000


@dataclass(frozen=True, slots=True)
class FollowHabits:
    """How a simulated person follows.

    After liking a post of an account they do not follow, a person follows its author with
    ``after_like``; an account that followed them is followed back with ``back`` (a
    person) or ``back_agent`` (an automated account: people return bots' follows less);
    each follow is dropped with ``unfollow_per_day`` a day, and an account once unfollowed
    is never followed again (no follow-unfollow cycles). Reciprocity on Flickr was about
    0.6 (Mislove et al., IMC 2007); people here return four in ten of people's follows,
    and follows that come both ways by liking bring a toy community to about 0.57."""

    after_like: float = 0.15
    back: float = 0.4
    back_agent: float = 0.35
    unfollow_per_day: float = 0.01

    def __post_init__(self) -> None:
        for name in ("after_like", "back", "back_agent", "unfollow_per_day"):
            value = getattr(self, name)
            if not (math.isfinite(value) and 0 <= value <= 1):
                raise ValueError(f"follow habits: {name} is a probability, not {value!r}")

    def follows_after_like(self, rng: random.Random) -> bool:
        """Whether a like of a post leads its liker to follow the author."""
        return rng.random() < self.after_like

    def follows_back(self, rng: random.Random, follower_is_agent: bool) -> bool:
        """Whether a person follows back an account that followed them."""
        return rng.random() < (self.back_agent if follower_is_agent else self.back)

    def unfollows(self, rng: random.Random, hours: float) -> bool:
        """Whether one follow is dropped over ``hours``."""
        chance: float = 1 - (1 - self.unfollow_per_day) ** (max(hours, 0.0) / 24)
        return rng.random() < chance


class FollowBody(CamelModel):
    username: str = Field(min_length=1, max_length=64)
    # The followed account, by username or by id (one of them).
    target: str | None = Field(default=None, min_length=1, max_length=64)
    target_id: int | None = Field(default=None, ge=1)
    following: bool = True


async def follow(request: Request) -> Response:
    """POST /admin/people/follow: a person's follow (or unfollow) of an account."""
    authorize(request)
    body = await parse(request, FollowBody)
    sandbox = sandbox_of(request)
    with sandbox.storage.begin() as conn:
        person = storage.user_by_username(conn, body.username)
        if (body.target is None) == (body.target_id is None):
            raise BadRequest("name the followed account by target or by targetId", status=400)
        target = (
            storage.user_by_username(conn, body.target)
            if body.target is not None
            else storage.user_by_id(conn, body.target_id or 0)
        )
        if person is None or person.is_agent:
            raise BadRequest(f"no person {body.username!r} on the gallery", status=400)
        if target is None:
            raise BadRequest("no such account to follow on the gallery", status=400)
        if target.id == person.id:
            raise BadRequest("a person cannot follow themself", status=400)
        changed = follows.set_follow(
            conn,
            follower_id=person.id,
            followed_id=target.id,
            following=body.following,
            key=None,
            now=sandbox.clock(),
        )
        followers, _ = follows.counts(conn, target.id)
    return JSONResponse({"following": body.following, "changed": changed, "followers": followers})


def _minutes(request: Request) -> int:
    raw = request.query_params.get("minutes", "60")
    if not raw.isdigit() or len(raw) > 6 or not 1 <= int(raw) <= MOST_MINUTES:
        raise BadRequest(f"minutes is a whole number from 1 to {MOST_MINUTES}", status=400)
    return int(raw)


async def followed(request: Request) -> Response:
    """GET /admin/people/followed: follows toward people in the last minutes."""
    authorize(request)
    minutes = _minutes(request)
    sandbox = sandbox_of(request)
    since = sandbox.clock() - timedelta(minutes=minutes)
    events, users = tables.follow_events, tables.users
    them = users.alias("them")
    query = (
        select(
            events.c.follower_id,
            users.c.username,
            users.c.is_agent,
            events.c.followed_id,
            them.c.username,
        )
        .join(users, users.c.id == events.c.follower_id)
        .join(them, them.c.id == events.c.followed_id)
        .where(events.c.following, ~them.c.is_agent, events.c.created_at >= since)
        .order_by(events.c.id)
        .limit(MOST_LISTED)
    )
    with sandbox.storage.begin() as conn:
        rows = list(conn.execute(query))
    return JSONResponse(
        {
            "since": stamp(since),
            "follows": [
                {
                    "followerId": r[0],
                    "follower": r[1],
                    "followerIsAgent": bool(r[2]),
                    "followedId": r[3],
                    "followed": r[4],
                }
                for r in rows
            ],
        }
    )


def gini(values: list[int]) -> float:
    """The Gini coefficient of ``values`` (0: all equal; 0.0 for none or all zero)."""
    ordered = sorted(values)
    total = sum(ordered)
    if not ordered or total == 0:
        return 0.0
    n = len(ordered)
    weighted = sum((k + 1) * v for k, v in enumerate(ordered))
    return (2 * weighted) / (n * total) - (n + 1) / n


def figures(edges: list[tuple[int, int]], accounts: int) -> dict[str, Any]:
    """The follow graph's figures from its edges (follower, followed) over ``accounts``."""
    pairs = set(edges)
    returned = sum(1 for a, b in pairs if (b, a) in pairs)
    indegree: dict[int, int] = {}
    for _, b in pairs:
        indegree[b] = indegree.get(b, 0) + 1
    degrees = list(indegree.values()) + [0] * max(accounts - len(indegree), 0)
    top = sorted(degrees, reverse=True)[: max(1, len(degrees) // 10)]
    return {
        "follows": len(pairs),
        "reciprocity": round(returned / len(pairs), 4) if pairs else None,
        "inDegreeGini": round(gini(degrees), 4),
        "top10Share": round(sum(top) / len(pairs), 4) if pairs else None,
    }


async def graph(request: Request) -> Response:
    """GET /admin/follow-graph: the follow graph's figures."""
    authorize(request)
    sandbox = sandbox_of(request)
    f, users, events = tables.follows, tables.users, tables.follow_events
    with sandbox.storage.begin() as conn:
        edges = [
            (int(a), int(b))
            for a, b in conn.execute(select(f.c.follower_id, f.c.followed_id).limit(MOST_EDGES))
        ]
        accounts = int(conn.execute(select(func.count()).select_from(users)).scalar_one())
        unfollows = conn.execute(
            select(func.count()).select_from(events).where(~events.c.following)
        ).scalar_one()
        agents = set(conn.execute(select(users.c.id).where(users.c.is_agent)).scalars())
    made = figures(edges, accounts)
    made["unfollows"] = int(unfollows)
    made["agentFollows"] = sum(1 for a, _ in edges if a in agents)
    made["followsOfAgentsByPeople"] = sum(1 for a, b in edges if a not in agents and b in agents)
    made["cut"] = len(edges) == MOST_EDGES
    return JSONResponse(made)


def routes() -> list[Route]:
    """The people's follow calls and the graph's figures."""
    return [
        Route("/admin/people/follow", follow, methods=["POST"]),
        Route("/admin/people/followed", followed, methods=["GET"]),
        Route("/admin/follow-graph", graph, methods=["GET"]),
    ]

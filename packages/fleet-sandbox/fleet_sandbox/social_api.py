"""The sandbox API's social calls: follow, unfollow, followers, following, the home feed,
reactions (docs/gallery-api.md, "Follows" and "Reactions").

A follow and a reaction are states, so a call repeated changes nothing (``changed``
false). A person who said no to agents (``none``) or blocked the acting agent refuses
its follow and its reaction: 403 with ``code: "AGENT_REFUSED"``. Unfollowing and taking
a reaction back are never refused.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fleet_sandbox import follows, storage
from fleet_sandbox.schemas import ReactionBody, item_json, parse, user_json
from fleet_sandbox.state import (
    ApiError,
    Call,
    act,
    acting_agent,
    agent_reads,
    authorize,
    commit,
    page_query,
    post_id_of,
)
from fleet_sandbox.tables import REACTIONS

REFUSED = "AGENT_REFUSED"


def _target(conn: Connection, request: Request) -> storage.User:
    username = request.path_params["username"]
    user = storage.user_by_username(conn, username) if len(username) <= 64 else None
    if user is None:
        raise ApiError(404, "user not found")
    return user


def _followed(call: Call, target: storage.User, following: bool) -> dict[str, Any]:
    """Make sure the agent follows ``target`` (or does not); the answer, with its count."""
    changed = follows.set_follow(
        call.conn,
        follower_id=call.agent.id,
        followed_id=target.id,
        following=following,
        key=call.key,
        now=call.now,
    )
    followers, _ = follows.counts(call.conn, target.id)
    return {"following": following, "requested": False, "followers": followers, "changed": changed}


async def follow(request: Request) -> Response:
    """POST /api/users/{username}/follow: make sure the agent follows the account."""

    def effect(call: Call) -> dict[str, Any]:
        target = _target(call.conn, request)
        if target.id == call.agent.id:
            raise ApiError(422, "an account cannot follow itself")
        refused = follows.refusal(call.conn, person=target, agent=call.agent)
        if refused is not None:
            raise ApiError(403, refused, code=REFUSED)
        return _followed(call, target, True)

    return act(request, "follow", effect)


async def unfollow(request: Request) -> Response:
    """DELETE /api/users/{username}/follow: make sure the agent does not follow it."""

    def effect(call: Call) -> dict[str, Any]:
        target = _target(call.conn, request)
        if target.id == call.agent.id:
            raise ApiError(422, "an account cannot unfollow itself")
        return _followed(call, target, False)

    return act(request, "unfollow", effect)


async def _listed(request: Request, which: str) -> Response:
    with agent_reads(request) as (conn, _agent):
        limit, offset = page_query(request)
        target = _target(conn, request)
        found = follows.listed(conn, user_id=target.id, which=which, limit=limit, offset=offset)
        followers, following = follows.counts(conn, target.id)
    total = followers if which == "followers" else following
    return JSONResponse({"users": [user_json(u) for u in found], "total": total})


async def followers(request: Request) -> Response:
    """GET /api/users/{username}/followers: who follows the account, newest first."""
    return await _listed(request, "followers")


async def following(request: Request) -> Response:
    """GET /api/users/{username}/following: whom the account follows, newest first."""
    return await _listed(request, "following")


async def home(request: Request) -> Response:
    """GET /api/feed/home: the posts of the accounts the agent follows, newest first."""
    with agent_reads(request) as (conn, agent):
        limit, offset = page_query(request)
        found = storage.home_posts(conn, user_id=agent.id, limit=limit, offset=offset)
    return JSONResponse({"items": [item_json(p) for p in found]})


async def offered(request: Request) -> Response:
    """GET /api/reactions: the reactions the sandbox offers besides the like."""
    authorize(request)
    return JSONResponse({"reactions": list(REACTIONS)})


def _reacted(conn: Connection, post_id: int, reaction: str | None, changed: bool) -> dict[str, Any]:
    counts = follows.reaction_counts(conn, [post_id]).get(post_id, ())
    return {"reaction": reaction, "reactions": follows.reactions_json(counts), "changed": changed}


async def react(request: Request) -> Response:
    """POST /api/showcase/{id}/reactions: set the agent's one reaction to the post."""
    agent = acting_agent(request)
    post_id = post_id_of(request)
    body = await parse(request, ReactionBody)

    def effect(conn: Connection, _key: str | None, now: datetime) -> dict[str, Any]:
        found = storage.post(conn, post_id)
        if found is None:
            raise ApiError(404, "showcase item not found")
        refused = follows.refusal(conn, person=found.user, agent=agent)
        if refused is not None:
            raise ApiError(403, refused, code=REFUSED)
        changed = follows.set_reaction(
            conn, post_id=post_id, user_id=agent.id, reaction=body.reaction, now=now
        )
        return _reacted(conn, post_id, body.reaction, changed)

    return commit(request, "react", agent.username, effect)


async def unreact(request: Request) -> Response:
    """DELETE /api/showcase/{id}/reactions: take the agent's reaction back."""

    def effect(call: Call) -> dict[str, Any]:
        assert call.post_id is not None
        if not storage.post_exists(call.conn, call.post_id):
            raise ApiError(404, "showcase item not found")
        changed = follows.set_reaction(
            call.conn, post_id=call.post_id, user_id=call.agent.id, reaction=None, now=call.now
        )
        return _reacted(call.conn, call.post_id, None, changed)

    return act(request, "unreact", effect, on_post=True)


ROUTES = [
    Route("/api/users/{username}/follow", follow, methods=["POST"], name="follow"),
    Route("/api/users/{username}/follow", unfollow, methods=["DELETE"], name="unfollow"),
    Route("/api/users/{username}/followers", followers, methods=["GET"], name="followers"),
    Route("/api/users/{username}/following", following, methods=["GET"], name="following"),
    Route("/api/feed/home", home, methods=["GET"], name="home_feed"),
    Route("/api/reactions", offered, methods=["GET"], name="reactions"),
    Route("/api/showcase/{post_id}/reactions", react, methods=["POST"], name="react"),
    Route("/api/showcase/{post_id}/reactions", unreact, methods=["DELETE"], name="unreact"),
]

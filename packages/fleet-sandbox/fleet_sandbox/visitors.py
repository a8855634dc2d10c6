"""People beside the fleet, through the admin API: what a bench's simulated people do.

The gallery API's calls act as an agent (``X-Agent-Id``, an agent account); the
sandbox's people are not agents, so an operator's admin calls act for them (service token
required, camelCase JSON, every time the sandbox's clock's):

- ``POST /admin/people/join`` ``{"username": "newcomer1", "name": "Newcomer 1",
  "post": {"title": ..., "description": ..., "persona": "indie_game_dev"}}``: a person
  joins, with a post and its picture (drawn "natural", ``side`` pixels square) or
  without (``"post": null``); 400 when the username is taken;
- ``POST /admin/people/like`` ``{"username": ..., "postId": 12}``: that person's like,
  the gallery's toggle (a second one takes it back);
- ``POST /admin/people/comment`` ``{"username": ..., "postId": 12, "content": ...}``;
- ``GET /admin/people/view?hours=24&feeds=recent,popular&limit=20``: the people, the
  posts of the last ``hours`` with whether their author is an agent (as the table gives
  them), the first page of each of ``feeds`` as the gallery page weighs them (no feed
  read is counted), and the people's likes of those posts;
- ``GET /admin/fleet/activity?minutes=60``: the agents' likes and comments (replies
  too) of the last ``minutes``.

A person is a user who is not an agent: acting for an agent account, or for nobody, or on
a post that is not there, is a 400 that says so.
"""

from __future__ import annotations

import functools
from datetime import timedelta
from typing import Any

import anyio
from pydantic import Field
from sqlalchemy import Connection, func, select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fleet_sandbox import images, people_follows, storage, tables
from fleet_sandbox.config import CamelModel
from fleet_sandbox.schemas import BadRequest, comment_json, parse, stamp
from fleet_sandbox.state import authorize, sandbox_of

FEEDS: tuple[storage.Sort, ...] = ("recent", "popular", "trending")
MOST_HOURS = 24 * 7
MOST_MINUTES = 60 * 24 * 7


class JoinPost(CamelModel):
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    persona: str = Field(min_length=1, max_length=64)
    side: int = Field(default=256, ge=64, le=1024)


class JoinBody(CamelModel):
    username: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=100)
    post: JoinPost | None = None


class LikeBody(CamelModel):
    username: str = Field(min_length=1, max_length=64)
    post_id: int = Field(ge=1)


class CommentBody(CamelModel):
    username: str = Field(min_length=1, max_length=64)
    post_id: int = Field(ge=1)
    content: str = Field(min_length=1, max_length=2000)


def _person(conn: Connection, username: str) -> storage.User:
    """The person with this username, or the 400 that says why not."""
    user = storage.user_by_username(conn, username)
    if user is None:
        raise BadRequest(f"no person {username!r} on the gallery", status=400)
    if user.is_agent:
        raise BadRequest(f"{username!r} is an agent account, not a person", status=400)
    return user


def _no_post(post_id: int) -> BadRequest:
    return BadRequest(f"no post {post_id} on the gallery", status=400)


def _post_of(conn: Connection, post_id: int) -> None:
    if not storage.post_exists(conn, post_id):
        raise _no_post(post_id)


async def join(request: Request) -> Response:
    """POST /admin/people/join: a person joins, with a post and its picture or without."""
    authorize(request)
    body = await parse(request, JoinBody)
    sandbox = sandbox_of(request)
    base = (sandbox.config.image_base_url or str(request.base_url)).rstrip("/")
    post = body.post
    png, picture = b"", ""
    if post is not None:
        shape: dict[str, Any] = {"persona": post.persona, "width": post.side, "height": post.side}
        picture = images.image_id(post.title, style="natural", **shape)
        draw = functools.partial(images.render, post.title, style="natural", **shape)
        png = await anyio.to_thread.run_sync(draw)  # a picture takes a moment to draw
    now = sandbox.clock()
    with sandbox.storage.begin() as conn:
        user, created = storage.invite(
            conn,
            agent_id=None,
            name=body.name,
            username=body.username,
            persona=None,
            is_agent=False,
            now=now,
        )
        if not created:
            raise BadRequest(f"username {body.username!r} is taken", status=400)
        post_id = None
        if post is not None:
            storage.save_image(
                conn,
                image_id=picture,
                png=png,
                prompt=post.title,
                style="natural",
                persona=post.persona,
                now=now,
            )
            post_id = storage.create_post(
                conn,
                user=user,
                title=post.title,
                description=post.description,
                image_url=f"{base}/images/{picture}.png",
                workflow_id=None,
                key=None,
                now=now,
            )
    return JSONResponse(
        {"id": user.id, "username": user.username, "postId": post_id, "at": stamp(now)}
    )


async def like(request: Request) -> Response:
    """POST /admin/people/like: a person's like (the gallery's toggle)."""
    authorize(request)
    body = await parse(request, LikeBody)
    sandbox = sandbox_of(request)
    with sandbox.storage.begin() as conn:
        person = _person(conn, body.username)
        toggled = storage.toggle_like(
            conn, post_id=body.post_id, user_id=person.id, key=None, now=sandbox.clock()
        )
    if toggled is None:
        raise _no_post(body.post_id)
    liked, count = toggled
    return JSONResponse({"liked": liked, "likeCount": count})


async def comment(request: Request) -> Response:
    """POST /admin/people/comment: a person's comment on a post."""
    authorize(request)
    body = await parse(request, CommentBody)
    sandbox = sandbox_of(request)
    with sandbox.storage.begin() as conn:
        person = _person(conn, body.username)
        _post_of(conn, body.post_id)
        made = storage.create_comment(
            conn,
            post_id=body.post_id,
            user=person,
            content=body.content,
            key=None,
            now=sandbox.clock(),
        )
    return JSONResponse({"comment": comment_json(made)}, 201)


def _whole(request: Request, name: str, default: int, most: int) -> int:
    """A whole-number query parameter from 1 to ``most``, or the 400 that says so."""
    raw = request.query_params.get(name, str(default))
    if not raw.isdigit() or len(raw) > 6 or not 1 <= int(raw) <= most:
        raise BadRequest(f"{name} is a whole number from 1 to {most}, not {raw[:20]!r}", status=400)
    return int(raw)


def _feeds(request: Request) -> list[storage.Sort]:
    """The feeds asked for (``feeds=recent,popular``), in that order, or the 400."""
    raw = request.query_params.get("feeds", "")
    names = [name for name in raw.split(",") if name]
    if len(raw) > 40 or any(name not in FEEDS for name in names) or len(set(names)) < len(names):
        raise BadRequest(
            f"feeds is a comma-separated list of {', '.join(FEEDS)}, not {raw[:40]!r}", status=400
        )
    return [FEEDS[FEEDS.index(name)] for name in names]


async def view(request: Request) -> Response:
    """GET /admin/people/view: the people, the last hours' posts, feeds' first pages, and
    the people's likes of those posts."""
    authorize(request)
    hours = _whole(request, "hours", 24, MOST_HOURS)
    limit = _whole(request, "limit", 20, 100)
    feeds = _feeds(request)
    sandbox = sandbox_of(request)
    now = sandbox.clock()
    users, posts, likes = tables.users, tables.posts, tables.likes
    with sandbox.storage.begin() as conn:
        people = list(conn.execute(select(users.c.id, users.c.username).where(~users.c.is_agent)))
        recent = list(
            conn.execute(
                select(posts.c.id, posts.c.user_id, users.c.is_agent)
                .join(users, users.c.id == posts.c.user_id)
                .where(posts.c.created_at >= now - timedelta(hours=hours))
            )
        )
        pages = {
            feed: [
                (post.id, post.user.id)
                for post in storage.list_posts(conn, limit=limit, offset=0, sort=feed, now=now)
            ]
            for feed in feeds
        }
        shown = {p.id for p in recent} | {pid for page in pages.values() for pid, _ in page}
        liked = list(
            conn.execute(
                select(likes.c.user_id, likes.c.post_id)
                .join(users, users.c.id == likes.c.user_id)
                .where(likes.c.post_id.in_(shown), ~users.c.is_agent)
            )
        )
    return JSONResponse(
        {
            "at": stamp(now),
            "people": [{"id": p.id, "username": p.username} for p in people],
            "posts": [
                {"id": p.id, "userId": p.user_id, "isAgent": bool(p.is_agent)} for p in recent
            ],
            "feeds": {
                feed: [{"id": pid, "userId": uid} for pid, uid in page]
                for feed, page in pages.items()
            },
            "liked": [{"userId": uid, "postId": pid} for uid, pid in liked],
        }
    )


async def fleet_activity(request: Request) -> Response:
    """GET /admin/fleet/activity: the agents' likes and comments of the last minutes."""
    authorize(request)
    minutes = _whole(request, "minutes", 60, MOST_MINUTES)
    sandbox = sandbox_of(request)
    now = sandbox.clock()
    since = now - timedelta(minutes=minutes)
    users = tables.users
    counts: dict[str, Any] = {"since": stamp(since), "at": stamp(now)}
    with sandbox.storage.begin() as conn:
        for name, table in (("likes", tables.likes), ("comments", tables.comments)):
            counts[name] = conn.execute(
                select(func.count())
                .select_from(table)
                .join(users, users.c.id == table.c.user_id)
                .where(users.c.is_agent, table.c.created_at >= since)
            ).scalar_one()
    return JSONResponse(counts)


def visitor_routes() -> list[Route]:
    """The routes through which the sandbox's people act, and the fleet's activity."""
    return [
        Route("/admin/people/join", join, methods=["POST"]),
        Route("/admin/people/like", like, methods=["POST"]),
        Route("/admin/people/comment", comment, methods=["POST"]),
        Route("/admin/people/view", view, methods=["GET"]),
        Route("/admin/fleet/activity", fleet_activity, methods=["GET"]),
        *people_follows.routes(),
    ]

"""The sandbox API's bodies and answers: request models (camelCase in, 422 out) and JSON shapes."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel
from starlette.requests import Request

from fleet_sandbox import storage
from fleet_sandbox.follows import reactions_json

M = TypeVar("M", bound=BaseModel)


# A request body larger than this is refused unread (413): the API's bodies are a few
# hundred bytes, a workflow a few kilobytes.
MAX_BODY_BYTES = 64 * 1024


class BadRequest(Exception):
    """Raised when a body or a workflow is invalid; answered as 422 (or ``status``)."""

    def __init__(
        self, error: str, errors: list[dict[str, str]] | None = None, *, status: int = 422
    ) -> None:
        super().__init__(error)
        self.errors = errors
        self.status = status


class _Body(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        extra="ignore",
    )


class DisclosureBody(_Body):
    """An agent account's profile line: automated, and who runs it (plain text, a link)."""

    automated: bool = True
    label: str = Field(default="Automated account", min_length=1, max_length=80)
    operator_name: str = Field(min_length=1, max_length=80, pattern=r"^[^<>&\"'`\x00-\x1f]+$")
    operator_url: str = Field(min_length=8, max_length=2000, pattern=r"^https?://[^\s<>\"']+$")


INTERACTIONS = ("all", "replies", "none")


class ConsentBody(_Body):
    """A person's say: how agents may engage with them, and agents to block or unblock."""

    agent_interactions: Literal["all", "replies", "none"] | None = None
    block: list[Annotated[str, Field(max_length=64)]] = Field(default_factory=list, max_length=50)
    unblock: list[Annotated[str, Field(max_length=64)]] = Field(default_factory=list, max_length=50)


class InviteBody(_Body):
    agent_id: str | None = Field(default=None, max_length=200)
    name: str = Field(min_length=1, max_length=200)
    username: str = Field(pattern=r"^[A-Za-z0-9_.\-]{3,64}$")
    is_agent: bool = True
    agent_persona_id: str | None = Field(default=None, max_length=100)
    disclosure: DisclosureBody | None = None


class GenerateParams(_Body):
    prompt: str = Field(min_length=1, max_length=4000)
    model: str = Field(min_length=1, max_length=100)
    size: str = Field(default="1024x1024", pattern=r"^\d{2,4}x\d{2,4}$")
    quality: str | None = None
    style: str | None = Field(default=None, max_length=100)


class GenerateStep(_Body):
    kind: Literal["generate"]
    generator: str = Field(min_length=1, max_length=100)
    params: GenerateParams
    out: str = Field(min_length=1)


class ResizeParams(_Body):
    width: int = Field(ge=16, le=2048)
    height: int = Field(ge=16, le=2048)
    fit: Literal["cover", "contain", "fill", "inside", "outside"] = "cover"


class TransformStep(_Body):
    kind: Literal["transform"]
    op: Literal["resize"]
    input: str = Field(alias="in", min_length=1)
    params: ResizeParams
    out: str = Field(min_length=1)


class ProvenanceParams(_Body):
    """The marks a save step embeds (docs/gallery-api.md, "Provenance")."""

    digital_source_type: Literal[
        "trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia"
    ] = "trainedAlgorithmicMedia"
    agent: str = Field(min_length=1, max_length=200)
    operator: str = Field(min_length=1, max_length=200)
    operator_url: str = Field(default="", max_length=2000)


class SaveStep(_Body):
    kind: Literal["save"]
    input: str = Field(alias="in", min_length=1)
    destination: str = "cloud"
    provenance: ProvenanceParams | None = None


Step = Annotated[GenerateStep | TransformStep | SaveStep, Field(discriminator="kind")]


class ExecuteBody(_Body):
    steps: list[Step] = Field(min_length=1, max_length=20)
    name: str | None = Field(default=None, max_length=200)


class PostBody(_Body):
    image_url: str = Field(min_length=1, max_length=2000, pattern=r"^https?://")
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=5000)
    workflow_id: str | None = Field(default=None, max_length=200)


class CommentBody(_Body):
    content: str = Field(min_length=1, max_length=2000)
    # The id of the comment this one answers (a reply), on the same post.
    parent_id: str | None = Field(default=None, pattern=r"^[0-9]{1,18}$")


class ReactionBody(_Body):
    # One of the sandbox's reactions (``fleet_sandbox.tables.REACTIONS``).
    reaction: Literal["heart", "fire", "wow", "clap", "laugh"]


async def parse(request: Request, model: type[M]) -> M:
    """The JSON body as ``model``, or BadRequest listing each bad field."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise BadRequest(f"the body is over {MAX_BODY_BYTES} bytes", status=413)
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise BadRequest(f"the body is over {MAX_BODY_BYTES} bytes", status=413)
    request.state.body_digest = hashlib.sha256(raw).hexdigest()
    try:
        data = json.loads(raw or b"null")
        return model.model_validate(data)
    except RecursionError:
        raise BadRequest("the body is nested too deeply", status=400) from None
    except json.JSONDecodeError:
        raise BadRequest("the body is not JSON") from None
    except ValidationError as exc:
        errors = [
            {"field": ".".join(str(p) for p in error["loc"]) or "body", "message": error["msg"]}
            for error in exc.errors()
        ]
        raise BadRequest("invalid request", errors) from None


def stamp(value: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and a Z."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def user_json(user: storage.User) -> dict[str, Any]:
    """A user as the API shows it."""
    return {
        "id": str(user.id),
        "username": user.username,
        "name": user.name,
        "isAgent": user.is_agent,
    }


def item_json(post: storage.Post) -> dict[str, Any]:
    """A showcase item as the API shows it (``image`` and ``imageUrl`` carry the same URL)."""
    return {
        "id": str(post.id),
        "title": post.title,
        "description": post.description,
        "category": post.category,
        "likeCount": post.like_count,
        # Counted apart (docs/gallery-api.md, "Ranking"): people's likes and agents'.
        "peopleLikeCount": post.like_count - post.agent_like_count,
        "agentLikeCount": post.agent_like_count,
        "commentCount": post.comment_count,
        "viewCount": post.view_count,
        "createdAt": stamp(post.created_at),
        "user": user_json(post.user),
        "image": post.image_url,
        "imageUrl": post.image_url,
        "workflowId": post.workflow_id,
        "reactions": reactions_json(post.reactions),
    }


def comment_json(comment: storage.Comment) -> dict[str, Any]:
    """A comment as the API shows it."""
    return {
        "id": str(comment.id),
        "postId": str(comment.post_id),
        "content": comment.content,
        "createdAt": stamp(comment.created_at),
        "user": user_json(comment.user),
        "parentId": None if comment.parent_id is None else str(comment.parent_id),
    }


@dataclass(frozen=True)
class Render:
    """One picture a workflow saves."""

    prompt: str
    style: str
    width: int
    height: int
    model: str = ""
    provenance: ProvenanceParams | None = None  # the marks asked for, once saved


def plan(body: ExecuteBody, retired: tuple[str, ...]) -> list[Render]:
    """The pictures a workflow saves, or BadRequest naming what is wrong with it."""
    made: dict[str, Render] = {}
    saved: list[Render] = []
    for index, step in enumerate(body.steps):
        if isinstance(step, GenerateStep):
            if step.params.model in retired:
                raise BadRequest(f"image model {step.params.model!r} has been retired")
            width, height = (int(n) for n in step.params.size.split("x"))
            if not (16 <= width <= 2048 and 16 <= height <= 2048):
                raise BadRequest(f"steps.{index}.params.size: 16-2048 pixels a side")
            style = step.params.style or body.name or step.generator
            made[step.out] = Render(
                step.params.prompt, style, width, height, model=step.params.model
            )
            continue
        source = made.get(step.input)
        if source is None:
            raise BadRequest(f"steps.{index}.in: no earlier step made {step.input!r}")
        if isinstance(step, TransformStep):
            made[step.out] = replace(source, width=step.params.width, height=step.params.height)
        else:
            saved.append(replace(source, provenance=step.provenance))
    if not saved:
        raise BadRequest("the workflow saves nothing: add a save step")
    return saved


def fit(width: int, height: int) -> tuple[int, int]:
    """Renders are capped at 1024 pixels a side (scaled down, same aspect)."""
    scale = min(1.0, 1024 / max(width, height))
    return max(16, round(width * scale)), max(16, round(height * scale))

"""``fleet review`` and ``fleet drafts``: review mode, and the drafts an owner decides."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click

from fleet.cli.context import fleet_of
from fleet.cli.options import selection_options
from fleet.cli.output import (
    OFFSET,
    ROW_ID,
    as_json,
    echo,
    json_option,
    print_json,
    print_table,
    when,
)
from fleet.core.review import REASON_MAX
from fleet.core.statuses import DraftStatus
from fleet.errors import ConflictError
from fleet.service import drafts as use
from fleet.service.agents import Selection
from fleet.service.drafts import DRAFT_STATUSES, Approval, DraftDecision, DraftView

# What a table shows of a text an LLM or a person wrote: data, bounded.
_CLIP = 60


def _clip(text: object, limit: int = _CLIP) -> str:
    said = " ".join(str(text or "").split())
    return said if len(said) <= limit else said[: limit - 1] + "…"


@click.command()
@click.argument("mode", type=click.Choice(["on", "off"]))
@selection_options
@json_option
@click.pass_context
def review(ctx: click.Context, mode: str, selection: Selection) -> None:
    """Put agents under review mode (their posts, comments and replies wait as drafts for
    `fleet drafts approve`), or take them out of it."""
    done = use.review(fleet_of(ctx), selection, use.ReviewMode(mode))
    if as_json(ctx):
        print_json({"review": mode, "changed": done.changed, "unchanged": done.unchanged})
        return
    echo(
        f"review {mode} for {done.changed} agent(s)"
        + (f"; {done.unchanged} already {mode}" if done.unchanged else "")
    )


@click.group()
def drafts() -> None:
    """Drafts of agents under review: list, show, approve, reject, edit, expire."""


def text_of(draft: DraftView) -> str:
    """The draft's words: a post's caption, a comment's or reply's text."""
    content = draft.content
    return str(content.get("title") if draft.action == "post" else content.get("text") or "")


def _age(draft: DraftView, now: datetime) -> str:
    seconds = max(0, int((now - draft.created_at).total_seconds()))
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86_400:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 86_400}d{seconds % 86_400 // 3600}h"


def draft_json(draft: DraftView) -> dict[str, Any]:
    content = draft.content
    return {
        "id": draft.id,
        "activity_id": draft.activity_id,
        "key": draft.key,
        "agent_id": draft.agent_id,
        "handle": draft.handle,
        "persona": draft.persona,
        "action": draft.action,
        "status": draft.status,
        "text": text_of(draft),
        "description": content.get("description") if draft.action == "post" else None,
        "image_url": content.get("image_url"),
        "answers": {
            "post_id": content.get("post_id") or draft.target_post_id,
            "title": content.get("title"),
            # A reply's post is its agent's own; it answers a comment on it.
            "author": draft.handle if draft.action == "reply" else content.get("author"),
            **(
                {"comment": content.get("comment"), "commenter": content.get("to")}
                if draft.action == "reply"
                else {}
            ),
        }
        if draft.action != "post"
        else None,
        "edited": bool(content.get("edited")),
        "reason": draft.reason,
        "created_at": draft.created_at,
        "expires_at": draft.expires_at,
        "decided_at": draft.decided_at,
        "publish_at": draft.publish_at,
        "activity_status": draft.activity_status,
        "ending": draft.ending,
        "post_id": (draft.result or {}).get("post_id"),
    }


@drafts.command("list")
@click.option("--status", type=click.Choice(DRAFT_STATUSES), help="Only drafts in this state.")
@click.option("--agent", "agent_ref", help="Only this agent's (id or handle).")
@click.option("--persona", help="Only this persona's.")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@click.option("--offset", type=OFFSET, default=0, show_default=True)
@json_option
@click.pass_context
def list_(
    ctx: click.Context,
    status: str | None,
    agent_ref: str | None,
    persona: str | None,
    limit: int,
    offset: int,
) -> None:
    """A page of drafts, newest first."""
    fleet = fleet_of(ctx)
    found = use.find(
        fleet, status=status, agent=agent_ref, persona=persona, limit=limit, offset=offset
    )
    if as_json(ctx):
        print_json([draft_json(draft) for draft in found])
        return
    now = fleet.clock.now()
    print_table(
        None,
        ["id", "agent", "persona", "action", "status", "age", "expires (UTC)", "text"],
        [
            (
                d.id,
                d.handle,
                d.persona,
                d.action,
                d.status,
                _age(d, now),
                when(d.expires_at) if d.status == DraftStatus.PENDING else "",
                _clip(text_of(d)),
            )
            for d in found
        ],
    )


@drafts.command()
@click.argument("draft_id", type=ROW_ID)
@json_option
@click.pass_context
def show(ctx: click.Context, draft_id: int) -> None:
    """One draft: what it says, whose it is, where it stands."""
    data = draft_json(use.show(fleet_of(ctx), draft_id))
    if as_json(ctx):
        print_json(data)
        return
    for key, value in data.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k} {_clip(v, 80)}" for k, v in value.items() if v)
        elif isinstance(value, datetime):
            value = f"{when(value)} UTC"
        elif isinstance(value, str):
            value = _clip(value, 500)
        echo(f"{key:>15}  {'' if value is None else value}")


def _settled(decided: DraftDecision, wanted: str) -> str:
    """One line for a decision on a draft."""
    if decided.done:
        # A reason is the action's ending, which names the decision itself ("rejected:
        # off brand", "approved, but ..."): said once, not after the verb again.
        return f"draft {decided.draft_id} {decided.reason or wanted}"
    if decided.status == wanted:
        return f"draft {decided.draft_id} already {wanted}"
    return f"draft {decided.draft_id} was {decided.status} before: not {wanted}"


def _conflicts(decided: list[DraftDecision], wanted: str) -> list[DraftDecision]:
    return [d for d in decided if not d.done and d.status != wanted]


@drafts.command()
@click.argument("draft_ids", type=ROW_ID, nargs=-1, required=True)
@click.option(
    "--now",
    "soon",
    is_flag=True,
    help="Publish as soon as the workers' sweep sends them (still spaced apart), not at "
    "each agent's next session.",
)
@click.option("--here", is_flag=True, help="Publish in this process, now, and say how each ended.")
@json_option
@click.pass_context
def approve(ctx: click.Context, draft_ids: tuple[int, ...], soon: bool, here: bool) -> None:
    """Approve drafts: each is published once, at its agent's next session (an approval
    made twice publishes once)."""
    approvals = use.approve(
        fleet_of(ctx),
        draft_ids,
        when=use.Publish.HERE if here else use.Publish.NOW if soon else use.Publish.AT_NEXT_SESSION,
    )
    if as_json(ctx):
        print_json([_approval_json(a) for a in approvals])
    else:
        for approval in approvals:
            echo(_approval_line(approval))
    _exit_on_conflicts([a.decided for a in approvals], "approved")


def _approval_json(approval: Approval) -> dict[str, Any]:
    decided = approval.decided
    return {
        "id": decided.draft_id,
        "status": decided.status,
        "done": decided.done,
        "reason": decided.reason,
        "publish_at": approval.publish_at if decided.done else None,
        "outcome": approval.outcome,
        "detail": approval.detail,
    }


def _approval_line(approval: Approval) -> str:
    line = _settled(approval.decided, "approved")
    if not approval.decided.done or approval.decided.reason:
        return line
    if approval.outcome is not None:
        detail = approval.detail or {}
        said = detail.get("post_id") or detail.get("reason")
        return f"{line}; {approval.outcome}" + (f" ({_clip(said, 120)})" if said else "")
    at = datetime.fromisoformat(approval.publish_at) if approval.publish_at else None
    return f"{line}; publishes at {when(at)} UTC"


def _exit_on_conflicts(decided: list[DraftDecision], wanted: str) -> None:
    conflicts = _conflicts(decided, wanted)
    if conflicts:
        raise ConflictError(
            f"{len(conflicts)} draft(s) were decided otherwise before (e.g. draft "
            f"{conflicts[0].draft_id}: {conflicts[0].status}); left as they were"
        )


@drafts.command()
@click.argument("draft_ids", type=ROW_ID, nargs=-1, required=True)
@click.option("--reason", help=f"Why (at most {REASON_MAX} characters); kept and shown.")
@json_option
@click.pass_context
def reject(ctx: click.Context, draft_ids: tuple[int, ...], reason: str | None) -> None:
    """Reject drafts: nothing is published; each action ends skipped, "rejected: REASON"."""
    decided = use.reject(fleet_of(ctx), draft_ids, reason=reason)
    if as_json(ctx):
        print_json(
            [
                {"id": d.draft_id, "status": d.status, "done": d.done, "reason": d.reason}
                for d in decided
            ]
        )
    else:
        for one in decided:
            echo(_settled(one, "rejected"))
    _exit_on_conflicts(decided, "rejected")


@drafts.command()
@click.argument("draft_id", type=ROW_ID)
@click.option("--text", required=True, help="The new caption (a post) or text (a comment).")
@click.option("--description", help="A post's new description.")
@click.pass_context
def edit(ctx: click.Context, draft_id: int, text: str, description: str | None) -> None:
    """Change a pending draft's words before approving it; the content guard checks them
    first (a refusal leaves the draft as it was)."""
    decided = use.edit(fleet_of(ctx), draft_id, text=text, description=description)
    if not decided.done:
        raise ConflictError(f"draft {draft_id} is {decided.status}: only a pending one is edited")
    echo(f"draft {draft_id} edited")


@drafts.command()
@json_option
@click.pass_context
def expire(ctx: click.Context) -> None:
    """End the drafts past FLEET_REVIEW__EXPIRES_HOURS (the sweeper does it too)."""
    expired = use.expire(fleet_of(ctx))
    if as_json(ctx):
        print_json({"expired": expired})
    else:
        echo(f"expired {len(expired)} draft(s)")

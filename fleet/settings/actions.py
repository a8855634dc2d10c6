"""How actions behave: targets, limits and back-pressure; memory; review mode; the holdout."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from fleet.settings.base import _Nested


class ActionSettings(_Nested):
    """How actions choose targets, back off and wait."""

    human_share: float = Field(default=0.7, ge=0, le=1)
    bot_engagements_per_post_per_hour: int = Field(default=10, ge=1)
    feed_page_size: int = Field(default=20, ge=1, le=100)
    # Target choice may use a feed page this many seconds old (0: read it every time).
    feed_snapshot_seconds: float = Field(default=2.0, ge=0)
    backoff_base_seconds: float = Field(default=2.0, gt=0)
    backoff_max_seconds: float = Field(default=60.0, gt=0)
    pause_probe_seconds: float = Field(default=30.0, gt=0)
    max_deferrals: int = Field(default=20, ge=0)
    gallery_requests_per_second: float = Field(default=50.0, gt=0)
    llm_requests_per_minute: float = Field(default=50.0, gt=0)
    llm_tokens_per_minute: float = Field(default=40_000.0, gt=0)
    # Reserved from the token bucket when an LLM call starts, settled with its real usage.
    llm_tokens_reserved_per_call: int = Field(default=1_500, ge=1)
    breaker_threshold: int = Field(default=5, ge=1)
    breaker_open_seconds: float = Field(default=30.0, gt=0)
    # Back-pressure (``fleet.core.back_pressure``): the gallery limit's load is what it was
    # asked for and refused over about this many seconds; while it refuses, ticks act at
    # 1 - the refused share of the time, never below the floor.
    back_pressure_window_seconds: float = Field(default=10.0, gt=0, le=3600)
    back_pressure_floor: float = Field(default=0.1, gt=0, le=1)
    # The share of a look's page read from the home feed (whom the agent follows), the
    # rest from the public feed's newest (``fleet.core.follows.blend_feeds``); 0: public.
    home_feed_share: float = Field(default=0.5, ge=0, le=1)
    # Whether a like may carry a reaction its post's words cue (``fleet.actions.reacting``).
    # Off by default: on, a like's life enters three more modules (docs/community.md).
    reactions: bool = False


class MemorySettings(_Nested):
    """What each agent remembers, and how far the no-echo guard looks back."""

    # Memories kept per agent; beyond it the least relevant old ones are forgotten.
    max_per_agent: int = Field(default=200, ge=10, le=10_000)
    # Characters of one memory's text (a post's caption and description, a comment).
    max_chars: int = Field(default=400, ge=40, le=4000)
    # Memories handed to the writer for one text.
    recalled: int = Field(default=6, ge=0, le=50)
    # Recency: a memory's weight halves every this many days.
    half_life_days: float = Field(default=7.0, gt=0, le=365)
    # The no-echo guard: refuse a text this close (cosine) to one published in the last
    # ``echo_days`` by any agent of the fleet (``echo_scope`` "fleet": a visitor reads
    # them all) or of the agent's persona ("persona"); 1 turns the check off.
    echo_similarity: float = Field(default=0.92, gt=0, le=1)
    # A reply's threshold, against the replies of the window: short replies sit closer
    # in embedding space (people's own: 28 % within 0.92 of an earlier one, 5 % within
    # 0.94), which the offline writer's redrawn drafts meet (docs/community.md).
    reply_echo_similarity: float = Field(default=0.92, gt=0, le=1)
    echo_days: float = Field(default=14.0, ge=0, le=365)
    echo_scope: Literal["fleet", "persona"] = "fleet"
    # The newest published vectors of the window the check compares a draft with at the
    # most. Each writing process keeps them (768 bytes each at 384 dimensions, as float16:
    # 15 MiB at 20,000) and reads only the new ones at each check.
    echo_scan: int = Field(default=20_000, ge=1, le=200_000)
    # A process's read of the window serves its checks of the next this many seconds (as a
    # page of the feed serves its like choices, ``feed_snapshot_seconds``): another
    # process's text is compared from the next read; the process's own at once. 0: each
    # text's check reads what is new.
    echo_held_seconds: float = Field(default=2.0, ge=0, le=60)


ReviewedKind = Literal["post", "comment", "reply", "like", "follow"]


# Under review by default: what an agent writes, and whom it follows (seed 002's
# connection requests are drafts an owner approves). A like is reviewed when named in
# FLEET_REVIEW__KINDS; a browse has no public effect and is never reviewed.
REVIEWED_KINDS: tuple[ReviewedKind, ...] = ("post", "comment", "reply", "follow")


class ReviewSettings(_Nested):
    """Review mode: drafts an owner approves before anything is published (docs/review.md)."""

    # A pending draft expires (its action ends skipped, "expired") after this many hours.
    # At least an hour: a shorter one expires every draft at the next sweep, before any
    # owner could read it.
    expires_hours: float = Field(default=48.0, ge=1, le=24 * 365, allow_inf_nan=False)
    # The kinds that wait for review under review mode (a JSON list: ["post", "comment",
    # "reply"], the default; "like" may be added). Not empty: review mode is turned off
    # per agent (``fleet review off``), never by a list that reviews nothing.
    kinds: list[ReviewedKind] = Field(default_factory=lambda: list(REVIEWED_KINDS), min_length=1)
    # Approved drafts go out at their agent's next session, at least this far apart
    # (plus as much again at random): many approvals never make many posts at once.
    spacing_seconds: float = Field(default=30.0, ge=0, le=86_400, allow_inf_nan=False)
    # Publish an approved draft at once (spaced as above) instead of at the next session.
    publish_now: bool = False


class ImpactSettings(_Nested):
    """The newcomer holdout: a randomized share of people the fleet never engages with, so
    that the impact report can say whether engagement helps (docs/impact.md)."""

    # The share of newly seen people held out (no like, comment, reply or mention from an
    # agent). 0 turns the holdout off; at most half, so the fleet still welcomes most.
    holdout_share: float = Field(default=0.1, ge=0, le=0.5, allow_inf_nan=False)
    # How long a held-out person stays held out after Fleet first saw them; also the
    # report's fixed horizon for the count of their actions.
    holdout_days: int = Field(default=14, ge=1, le=90)
    # The experiment's name: a new name starts new assignments, old ones stay readable.
    experiment: str = Field(default="newcomers1", pattern=r"^[a-z][a-z0-9_-]{0,31}$")

"""What actions need, built once per process by the composition root (``fleet.service.root``).

The kit holds the process's services (the database, the personas, the gallery, the writer,
the clock) and a few small frozen groups of what belongs together: what bounds an action
(its claim's limits and the LLM budget), an agent's authorship (its voice and the rules of
publishing), what target choice weighs, and the live feed. Nothing swaps parts of it per
delivery: a batch's calls admitted at once are the kit's gallery's state while it runs
(``LimitedGallery.admitted``), so what a handler needs of the kit alone is narrowed once
per kit (``narrowed``); and every way a delivery ends actions fires one action-ended
event (``action_ended``, an ``EventHook`` of ``fleet.actions.events`` whose listeners run
isolated: the LLM charges, the memories and posts' vectors, this live feed;
``fleet.actions.perform``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy.orm import Session, sessionmaker

from fleet.actions.common import NoBudget, Spending
from fleet.actions.events import EventHook, Events
from fleet.actions.feed_snapshot import FeedSnapshot
from fleet.actions.interests import Interests
from fleet.actions.remembering import Recall
from fleet.consent.book import ConsentBook
from fleet.content.guard.guard import ContentGuard
from fleet.content.port import ContentWriter
from fleet.core.taste import Weights, Welcome
from fleet.gallery.port import Gallery
from fleet.gallery.provenance import ProvenanceCheck
from fleet.honesty.identity_intent import IdentityIntent
from fleet.impact.holdout_view import HoldoutView
from fleet.infra.persona_files import PersonaCatalogue
from fleet.settings import ActionSettings, ReviewSettings

__all__ = [
    "ActionKit",
    "Authorship",
    "Event",
    "EventHook",
    "Limits",
    "LiveFeed",
    "PublishingRules",
    "Targeting",
    "WritingAids",
]

Event = dict[str, Any]


def _nowhere(event: Event) -> None:
    """No live feed (the embedded mode, a test)."""


@dataclass(frozen=True, slots=True)
class Limits:
    """What bounds an action: how long its claim holds, how many attempts and deliveries
    it gets, and the LLM budget its agent's calls are checked against and charged to
    (``spending``; ``NoBudget``: no caps)."""

    lease: timedelta
    max_attempts: int = 5
    # Claims of one action at the most: its attempts, its deferrals, and a few lost ones.
    max_deliveries: int = 35
    spending: Spending = field(default_factory=NoBudget)


@dataclass(frozen=True, slots=True)
class WritingAids:
    """What an agent's texts need beside the writer: the guard every text passes, the
    agents' memory and the embedder (``recall``; None: nothing remembered, no vectors),
    who runs the fleet (``FLEET_DISCLOSURE__OPERATOR_NAME``, named in every truthful answer
    to a person who asks what an agent is), and whether a person's comment asks it."""

    guard: ContentGuard | None = None
    recall: Recall | None = None
    operator: str = ""
    identity: IdentityIntent = field(default_factory=lambda: IdentityIntent(None))


@dataclass(frozen=True, slots=True)
class PublishingRules:
    """What may go public, and how: review mode (which kinds stop at a draft for an agent
    under review, and for how long), a post's image when the workflow fails for good, and
    its provenance marks (checked before it is published, None: no check; required, an
    image without them ends the post skipped, "no provenance")."""

    review: ReviewSettings = field(default_factory=ReviewSettings)
    image_fallback: Literal["placeholder", "skip"] = "placeholder"
    placeholder_image_url: str = ""
    provenance: ProvenanceCheck | None = None
    provenance_required: bool = True


@dataclass(frozen=True, slots=True)
class Authorship:
    """An agent as the author of what it publishes: its voice (what its texts need beside
    the writer) and the rules of publishing (what may go public, and how)."""

    voice: WritingAids = field(default_factory=WritingAids)
    publishing: PublishingRules = field(default_factory=PublishingRules)


@dataclass(frozen=True, slots=True)
class Targeting:
    """What the choice of a target weighs (``fleet.actions.choosing``, ``reply_choice``): the feeds' page a
    process shares for a few seconds, taste and the vectors it ranks by (None: uniform
    choice, as before taste), the fleet's welcome budget on a person's post by its age
    (None: only the hourly cap), and whom no agent singles out: the impact experiment's
    holdout and people's say (None: nobody spared, nobody filtered)."""

    feed_snapshot: FeedSnapshot = field(default_factory=lambda: FeedSnapshot(0.0))
    taste: Weights | None = None
    interests: Interests | None = None
    welcome: Welcome | None = None
    holdout: HoldoutView | None = None
    consent: ConsentBook | None = None


@dataclass(frozen=True, slots=True)
class LiveFeed:
    """The live feed (Redis pub/sub ``fleet:activity``): one event, or many at once when
    the channel can take them in one round trip (``publish_many``; None: one by one)."""

    publish: Callable[[Event], None] = _nowhere
    publish_many: Callable[[list[Event]], None] | None = None

    def all(self, events: list[Event]) -> None:
        """Publish these events together."""
        if self.publish_many is not None:
            if events:
                self.publish_many(events)
        else:
            for one in events:
                self.publish(one)


@dataclass
class ActionKit:
    """What actions need: the process's services, built once by the composition root."""

    sessions: sessionmaker[Session]
    personas: PersonaCatalogue
    gallery: Gallery
    writer: ContentWriter
    settings: ActionSettings
    limits: Limits
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    authorship: Authorship = field(default_factory=Authorship)
    targeting: Targeting = field(default_factory=Targeting)
    # The live feed: the ends of actions (a listener of the action-ended event).
    feed: LiveFeed = field(default_factory=LiveFeed)
    # The action-ended event, its listeners added by the composition root
    # (``fleet.actions.perform``; None: ``perform.LISTENERS``).
    action_ended: EventHook | None = None
    # The process's events (``fleet.actions.events``): what target choice saw, fired to
    # the listeners the composition root added (None: nobody listens).
    events: Events | None = None
    # What the handlers need that is the kit's alone (a like's ``LikeNeeds``, target
    # choice's ``Choosing``), narrowed from it once (``fleet.actions.handlers``), by the
    # kind or the type narrowed; forgotten whenever a part of the kit is set anew.
    narrowed: dict[Any, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        narrowed = self.__dict__.get("narrowed")
        if narrowed and name != "narrowed":
            narrowed.clear()

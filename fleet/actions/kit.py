"""What actions need, built once per process by the composition root (``fleet.service.root``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy.orm import Session, sessionmaker

from fleet.actions.common import NoBudget, Spending
from fleet.actions.consent import ConsentBook
from fleet.actions.feed_snapshot import FeedSnapshot
from fleet.actions.holdout import HoldoutView
from fleet.actions.interests import Interests
from fleet.actions.remembering import Recall
from fleet.content.guard import ContentGuard
from fleet.content.identity_intent import IdentityIntent
from fleet.content.port import ContentWriter
from fleet.core.taste import Weights, Welcome
from fleet.gallery.port import Gallery
from fleet.gallery.provenance import ProvenanceCheck
from fleet.infra.persona_files import PersonaCatalogue
from fleet.settings import ActionSettings, ReviewSettings

Event = dict[str, Any]


@dataclass
class ActionKit:
    """What actions need, built once per process by the composition root."""

    sessions: sessionmaker[Session]
    personas: PersonaCatalogue
    gallery: Gallery
    writer: ContentWriter
    settings: ActionSettings
    lease: timedelta
    max_attempts: int = 5
    # Claims of one action at the most: its attempts, its deferrals, and a few lost ones.
    max_deliveries: int = 35
    image_fallback: Literal["placeholder", "skip"] = "placeholder"
    placeholder_image_url: str = ""
    # Checks a post's image for its provenance marks before it is published (None: no
    # check); required, an image without them ends the post skipped, "no provenance".
    provenance: ProvenanceCheck | None = None
    provenance_required: bool = True
    spending: Spending = field(default_factory=NoBudget)
    guard: ContentGuard | None = None
    # The agents' memory and the embedder (None: nothing is remembered, no vectors).
    recall: Recall | None = None
    feed_snapshot: FeedSnapshot = field(default_factory=lambda: FeedSnapshot(0.0))
    # Taste: how agents rank what the feeds show them, and the vectors it ranks by
    # (None: uniform choice, as before taste).
    taste: Weights | None = None
    interests: Interests | None = None
    # The fleet's budget on a person's post, by its age (None: only the hourly cap).
    welcome: Welcome | None = None
    # Whom no agent singles out: the impact experiment's holdout, the opted out (None:
    # nobody is spared).
    holdout: HoldoutView | None = None
    publish: Callable[[Event], None] = lambda event: None
    # Many events at once (a batch's), when the feed can take them in one round trip.
    publish_many: Callable[[list[Event]], None] | None = None
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    # Review mode: which kinds stop at a draft for an agent under review, and for how long.
    review: ReviewSettings = field(default_factory=ReviewSettings)
    # Who runs the fleet (``FLEET_DISCLOSURE__OPERATOR_NAME``): named in every truthful
    # answer to a person who asks what an agent is.
    operator: str = ""
    # Whether a person's comment asks what the agent is (keywords, then the embedder).
    identity: IdentityIntent = field(default_factory=lambda: IdentityIntent(None))
    # People's say over agents' engagement (None: the gallery cannot tell, nobody filtered).
    consent: ConsentBook | None = None

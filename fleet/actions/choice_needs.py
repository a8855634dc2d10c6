"""What the choice of a target reads, and no more (``Choosing``), built from the kit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from fleet.actions.feed_snapshot import FeedSnapshot
from fleet.consent.book import ConsentBook
from fleet.impact.holdout_view import HoldoutView

if TYPE_CHECKING:
    from fleet.actions.events import Events
    from fleet.actions.interests import Interests
    from fleet.core.target_choice import PageTaste
    from fleet.core.taste import Weights, Welcome
    from fleet.gallery.port import Gallery, GalleryPost
    from fleet.honesty.identity_intent import IdentityIntent
    from fleet.infra.persona_files import PersonaCatalogue
    from fleet.settings import ActionSettings


@dataclass(frozen=True, slots=True)
class Choosing:
    """What the choice of a target reads, and no more: the ledger, the kit's gallery
    (a batch's calls admitted at once are its state), the personas, the clock, the
    hourly cap, the human share and the page's size (``settings``), whether a comment
    asks what an agent is, and the kit's ``Targeting``: the shared page, taste, interests,
    the welcome, the holdout, people's consent; the events it tells what it saw. Built
    from the kit in one place, once per kit (``fleet.actions.handlers.choosing``), as a
    handler's needs are."""

    sessions: sessionmaker[Session]
    gallery: Gallery
    personas: PersonaCatalogue
    now: Callable[[], datetime]
    settings: ActionSettings
    identity: IdentityIntent
    feed_snapshot: FeedSnapshot
    taste: Weights | None = None
    interests: Interests | None = None
    welcome: Welcome | None = None
    holdout: HoldoutView | None = None
    consent: ConsentBook | None = None
    # What target choice saw is told here (None: to nobody).
    events: Events | None = None
    # What the choices of a kind by a persona's agents share of the shared page, by
    # (persona, kind): the page it was made for, and its ``PageTaste``, made once a page
    # (``fleet.actions.choosing.page_taste``), not once a delivery.
    ranked: dict[tuple[str | None, str], tuple[list[GalleryPost], PageTaste]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def ranking(self) -> Interests | None:
        """The interests taste ranks by (None: no taste, or no vectors to rank by)."""
        return self.interests if self.taste is not None else None

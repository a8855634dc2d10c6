"""The composition root: a process's parts built from its settings, or taken as arguments.

It builds the engine, the sessions, the persona catalogue, the gallery, the writer, the
publisher, and the process's events with their listeners (``events``: the action-ended
event's, the impact experiment's sightings, the honesty ledger's questions).

The CLI, the Celery worker, the demo and the tests all start here; nothing is built at
import. Parts are passed in rather than patched (the demo passes its simulated clock and
its feed), with one exception: the CLI marks a Fleet whose schema it has checked
(``fleet.cli.context``). The action kit is built once and never copied: a batch hands its
own gallery to its handlers beside the kit (``fleet.actions.handlers``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from fleet.content.port import ContentWriter
from fleet.core.back_pressure import NO_PRESSURE, HeldShare, back_pressure, decide_share
from fleet.db.engine import build_engine, session_factory
from fleet.embeddings.port import Embedder
from fleet.errors import ConfigError, InputError
from fleet.gallery.port import Credentials, Gallery, ImageSource
from fleet.infra.clocks import Clock, SystemClock
from fleet.infra.persona_files import BUNDLED_DIR, PersonaCatalogue
from fleet.settings import Settings, load_settings
from fleet.settings.running import PUBLISH_RETRIES, PUBLISH_RETRY_INTERVAL

if TYPE_CHECKING:
    # The action stack, Celery and Redis load when a part needs them: an admin's read
    # (`fleet agents list`, `fleet status`) needs none of them.
    import redis

    from fleet.actions import ActionKit, Event
    from fleet.actions.events import Events
    from fleet.actions.interests import Interests
    from fleet.actions.remembering import Recall
    from fleet.activities.image_marks import ImageMarksBook
    from fleet.agents.credentials import StoredCredentials, TokenSeal
    from fleet.consent.book import ConsentBook
    from fleet.content.llm.budget import SpendLedger
    from fleet.core.back_pressure import BackPressure, LimiterLoad
    from fleet.embeddings.degrading import DegradingEmbedder
    from fleet.gallery.provenance import ProvenanceCheck
    from fleet.honesty.claims import HumanClaimCheck
    from fleet.honesty.identity_intent import IdentityIntent
    from fleet.honesty.questions import IdentityQuestions
    from fleet.impact.holdout_view import HoldoutView
    from fleet.impact.sightings import Sightings
    from fleet.infra.events import ActivityChannel
    from fleet.infra.limits import TokenBucket
    from fleet.infra.queue import Sender


@dataclass
class Fleet:
    """Everything a process needs to act, built lazily from one Settings.

    ``clock``: where time comes from (the demo's is simulated). ``gallery``, ``writer``
    and ``publish``: given parts replace the ones the settings would build.
    """

    settings: Settings
    _engine: Engine | None = field(default=None, repr=False)
    clock: Clock = field(default_factory=SystemClock)
    gallery: Gallery | None = field(default=None, repr=False)
    writer: ContentWriter | None = field(default=None, repr=False)
    publish: Callable[[Event], None] | None = field(default=None, repr=False)
    # Replaces the embedder FLEET_EMBEDDINGS__* would build (tests give a fake one).
    given_embedder: Embedder | None = field(default=None, repr=False)
    # Replace a per-agent platform's (FLEET_GALLERY__KIND=mastodon) tokens and image
    # maker, which the settings would build (``credentials``, ``image_source``).
    given_credentials: Credentials | None = field(default=None, repr=False)
    given_images: ImageSource | None = field(default=None, repr=False)
    held_share: HeldShare = field(default_factory=HeldShare, repr=False)

    @cached_property
    def engine(self) -> Engine:
        return self._engine or build_engine(
            self.settings.database_url, pool_size=self.settings.database_pool_size
        )

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return session_factory(self.engine)

    @cached_property
    def personas(self) -> PersonaCatalogue:
        return PersonaCatalogue.from_directory(self.settings.personas_dir or BUNDLED_DIR)

    @cached_property
    def redis(self) -> redis.Redis:
        """The shared Redis (limits, breakers, the activity feed)."""

        if self.settings.redis_url is None:
            raise InputError("this command needs Redis: set FLEET_REDIS_URL")
        from redis.backoff import ConstantBackoff
        from redis.retry import Retry

        from fleet.infra.redis_pool import interrupt_safe_client

        # Bounded like the broker's link (FLEET_TASKS__REDIS_TIMEOUT_SECONDS): a silent
        # Redis raises within seconds instead of holding a worker's limiter call (or an
        # admin's command) forever, tried once more, not redis-py's three times with
        # backoff (over 12 s a call); a dead pooled connection is checked first.
        timeout = self.settings.tasks.redis_timeout_seconds
        # A connection an interrupt (a time limit) cut mid-command is dropped, not pooled.
        return interrupt_safe_client(
            str(self.settings.redis_url),
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            socket_keepalive=True,
            health_check_interval=30,
            retry=Retry(ConstantBackoff(PUBLISH_RETRY_INTERVAL), PUBLISH_RETRIES),
        )

    @cached_property
    def activity_channel(self) -> ActivityChannel:
        from fleet.infra.events import ActivityChannel

        return ActivityChannel(self.redis, self.settings.broker_key_prefix)

    def token_seal(self) -> TokenSeal:
        """The seal of agents' platform tokens (ConfigError when FLEET_CREDENTIALS__KEYS
        is not set)."""
        from fleet.agents.credentials import TokenSeal

        return TokenSeal(self.settings.credentials.key_list())

    @cached_property
    def credentials(self) -> StoredCredentials:
        """Each agent's platform token for a per-agent gallery (the Mastodon client API):
        the port's ``Credentials``, and where a refused token is recorded."""
        from fleet.agents.credentials import StoredCredentials

        found = self.settings.credentials
        return StoredCredentials(
            self.sessions,
            self.token_seal,  # the keys checked at the first token read
            now=self.clock.now,
            cache_seconds=found.cache_seconds,
            cache_size=found.cache_size,
        )

    @cached_property
    def image_source(self) -> ImageSource:
        """Where an agent's image is made when the gallery does not generate images
        (FLEET_IMAGES__SOURCE), marked and signed with the operator's pair."""
        from fleet import agents
        from fleet.content.images import build_image_source

        def handle_of(agent_id: int) -> str:
            return agents.get_agent(self.sessions, str(agent_id)).handle

        return build_image_source(self.settings, handle_of=handle_of)

    @cached_property
    def image_marks(self) -> ImageMarksBook:
        """Where an adapter records whether the platform kept an image's marks (the
        ``RecordsImageMarks`` of ``fleet.honesty.image_disclosure``)."""
        from fleet.activities.image_marks import ImageMarksBook

        return ImageMarksBook(self.sessions, now=self.clock.now)

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every secret in the settings, to be masked wherever text leaves the process."""
        return self.settings.secrets()

    @cached_property
    def embeddings(self) -> DegradingEmbedder | None:
        """The embedder, probed at start-up: a vector of the wrong size is refused
        (ConfigError naming the model); one that does not answer starts degraded."""
        from fleet.embeddings.degrading import checked_at_start
        from fleet.embeddings.factory import start_embedder

        if self.given_embedder is not None:
            expected = self.settings.embeddings.dimensions
            return checked_at_start(self.given_embedder, expected=expected)
        return start_embedder(self.settings.embeddings)

    @cached_property
    def recall(self) -> Recall:
        """The agents' memory, with vectors when there is an embedder."""
        from fleet.actions.remembering import Recall

        return Recall(
            self.sessions,
            self.settings.memory,
            self.embeddings,
            post_vector=self.interests.known_vector,
        )

    @cached_property
    def action_kit(self) -> ActionKit:
        """What actions need: the gallery behind shared limits, the writer, the budget."""
        from fleet.actions import ActionKit, NoBudget, Spending
        from fleet.actions.feed_snapshot import FeedSnapshot
        from fleet.actions.kit import (
            Authorship,
            Limits,
            LiveFeed,
            PublishingRules,
            Targeting,
            WritingAids,
        )
        from fleet.content.factory import build_guard
        from fleet.service.shared_limits import limited_gallery

        settings = self.settings
        gallery = own = self._own_gallery()
        consent = self.consent_book(gallery)
        spending: Spending = NoBudget()
        if settings.redis_url is not None:
            gallery = limited_gallery(self.redis, settings, gallery, self.gallery_limit)
            spending = self.spend_ledger
        publish, publish_many = self._live_feed()
        return ActionKit(
            sessions=self.sessions,
            personas=self.personas,
            gallery=gallery,
            writer=self._kit_writer(),
            settings=settings.actions,
            limits=Limits(
                lease=timedelta(seconds=settings.tasks.lease_seconds),
                max_attempts=settings.tasks.max_retries + 1,
                max_deliveries=settings.max_deliveries(),
                spending=spending,
            ),
            now=self.clock.now,
            authorship=Authorship(
                voice=WritingAids(
                    guard=build_guard(settings, self.claim_check),
                    recall=self.recall,
                    operator=settings.disclosure.operator_name,
                    identity=self.identity_intent,
                ),
                publishing=PublishingRules(
                    review=settings.review,
                    image_fallback=settings.image_fallback,
                    placeholder_image_url=(
                        f"{str(settings.gallery.url).rstrip('/')}/images/placeholder.png"
                    ),
                    provenance=self._provenance_check(own),
                    provenance_required=settings.provenance.require,
                ),
            ),
            targeting=Targeting(
                feed_snapshot=FeedSnapshot(
                    settings.actions.feed_snapshot_seconds,
                    settings.taste.sorts,
                    page_size=settings.taste.page_size,
                ),
                taste=settings.taste_weights(),
                interests=self.interests,
                welcome=settings.welcome.budget(),
                holdout=self._holdout_view(),
                consent=consent,
            ),
            feed=LiveFeed(publish, publish_many),
            action_ended=self.events.action_ended,
            events=self.events,
        )

    @cached_property
    def events(self) -> Events:
        """The process's events with their listeners (``fleet.actions.events``): an
        action's end charges the LLM budgets, keeps the memories and tells the live feed
        (``fleet.actions.perform``); posts and comments seen reach the impact experiment's
        sightings and the honesty ledger's questions."""
        from fleet.actions.events import Events
        from fleet.actions.perform import LISTENERS

        events = Events()
        for listener in LISTENERS:
            events.action_ended.add_listener(listener)
        for seen in (self.sightings, self.identity_questions):
            events.posts_seen.add_listener(seen.posts_seen)
            events.comments_seen.add_listener(seen.comments_seen)
        return events

    @cached_property
    def sightings(self) -> Sightings:
        """The impact experiment's listener: people's posts and comments seen."""
        from fleet.impact.sightings import Sightings

        return Sightings(self.sessions, self.settings.impact, self.clock.now)

    @cached_property
    def identity_questions(self) -> IdentityQuestions:
        """The honesty ledger's listener: questions about what an agent is."""
        from fleet.honesty.questions import IdentityQuestions

        return IdentityQuestions(
            self.sessions,
            self.identity_intent,
            self.clock.now,
            open_gallery=self.open_gallery,
            consent_book=self.consent_book,
            closes=self.gallery is None,
        )

    def _own_gallery(self) -> Gallery:
        """The gallery given, else the configured one's client."""
        from fleet.gallery.client import HttpGallery

        settings = self.settings
        if self.gallery is None and settings.gallery.kind == "mastodon":
            return self._mastodon_gallery()
        return self.gallery or HttpGallery(
            settings.gallery,
            pause_seconds=settings.actions.pause_probe_seconds,
            provenance=settings.provenance_asked(),
            disclosure=settings.disclosure,
        )

    def _mastodon_gallery(self) -> Gallery:
        """The gallery on a server of the Mastodon client API (FLEET_GALLERY__KIND=mastodon):
        each agent's token from ``credentials`` (FLEET_CREDENTIALS__KEYS), images from
        ``image_source`` (FLEET_IMAGES__*)."""
        from fleet.gallery.mastodon import MastodonGallery

        settings = self.settings
        if self.given_credentials is None and not settings.credentials.key_list():
            raise ConfigError(
                "FLEET_GALLERY__KIND=mastodon needs the agents' access tokens, sealed with "
                "FLEET_CREDENTIALS__KEYS, which is not set (docs/credentials.md)"
            )
        return MastodonGallery(
            settings.gallery,
            self.given_credentials or self.credentials,
            self.given_images or self.image_source,
            pause_seconds=settings.actions.pause_probe_seconds,
            disclosure=settings.disclosure,
            provenance=settings.provenance,
            marks=self.image_marks,
        )

    def _provenance_check(self, gallery: Gallery) -> ProvenanceCheck | None:
        """The check of the images' marks, fetched over the configured ``gallery``'s own
        connection (a gallery given here, a test's, has no images to fetch: None)."""
        from fleet.gallery.client import HttpGallery
        from fleet.gallery.provenance import ProvenanceCheck

        if self.gallery is not None:
            return None
        settings = self.settings
        if settings.gallery.kind == "mastodon":
            # Fleet's own image, verified by the adapter before it uploads it.
            from fleet.gallery.mastodon import UploadedImageCheck

            return UploadedImageCheck(
                settings.provenance, timeout_seconds=settings.gallery.timeout_seconds
            )
        return ProvenanceCheck(
            settings.provenance,
            timeout_seconds=settings.gallery.timeout_seconds,
            gallery_url=str(settings.gallery.url),
            link=gallery.link if isinstance(gallery, HttpGallery) else None,
        )

    def _kit_writer(self) -> ContentWriter:
        """The writer given, else the configured chain; behind its provider's shared
        limits when there is Redis (an offline writer given has none)."""
        from fleet.content.factory import build_writer
        from fleet.content.offline.writer import OfflineWriter
        from fleet.service.shared_limits import limited_writer

        settings = self.settings

        def limit(_endpoint: object, number: int, writer: ContentWriter) -> ContentWriter:
            return limited_writer(self.redis, settings, writer, number)

        writer = self.writer or build_writer(
            settings, limit=None if settings.redis_url is None else limit
        )
        if (
            settings.redis_url is not None
            and self.writer is not None
            and not isinstance(writer, OfflineWriter)
        ):
            writer = limited_writer(self.redis, settings, writer, 0)
        return writer

    def _live_feed(
        self,
    ) -> tuple[Callable[[Event], None], Callable[[list[Event]], None] | None]:
        """Where the actions' events go one at a time, and many at once (None: one at a
        time): the publisher given, else the Redis channel, else nowhere."""
        if self.settings.redis_url is None:
            return self.publish or _nowhere, None
        if self.publish is not None:
            return self.publish, None
        return self.activity_channel.publish, self.activity_channel.publish_many

    def _holdout_view(self) -> HoldoutView:
        """Who the impact experiment holds out, as the actions read it."""
        from fleet.impact.holdout_view import HoldoutView

        impact = self.settings.impact
        return HoldoutView(
            self.sessions,
            experiment=impact.experiment,
            share=impact.holdout_share,
            days=impact.holdout_days,
            now=self.clock.now,
        )

    @cached_property
    def interests(self) -> Interests:
        """What a post is about for the agents' taste: its vector, stored once (a
        comment's recall reads it too).

        The fleet's clock, not the process's: the demo's simulated day would otherwise
        leave a new post unjudged for half an hour of it (the recheck's 5 s of wall time)
        or for none, depending on how fast the machine ran."""
        from fleet.actions.interests import Interests, StoredPostVectors

        return Interests(
            self.embedder,
            store=StoredPostVectors(self.sessions, self.clock.now),
            clock=lambda: self.clock.now().timestamp(),
        )

    def consent_book(self, gallery: Gallery) -> ConsentBook | None:
        """People's consent as this process reads it (None: the gallery cannot say)."""
        from fleet.consent.book import ConsentBook
        from fleet.gallery.consent import ReadsConsent

        if not isinstance(gallery, ReadsConsent):
            return None
        # The machine's clock read as seconds, not a datetime turned back at each check.
        seconds: Callable[[], float] = time.time
        if type(self.clock) is not SystemClock:
            seconds = lambda: self.clock.now().timestamp()  # noqa: E731
        return ConsentBook(gallery.agent_consent, self.settings.consent, clock=seconds)

    @cached_property
    def identity_intent(self) -> IdentityIntent:
        """Whether a person's comment asks what an agent is: keywords, then the embedder
        (its banks embedded once a process)."""
        from fleet.honesty.identity_intent import IdentityIntent

        return IdentityIntent(self.embedder)

    @cached_property
    def claim_check(self) -> HumanClaimCheck:
        """The check of a claim to be human the guard and the audit share: the words,
        then the meaning when the embedder is the one its bank was set for."""
        from fleet.honesty.claims import HumanClaimCheck

        return HumanClaimCheck.with_embedder(self.embedder)

    @cached_property
    def embedder(self) -> Embedder | None:
        """The sentence embeddings taste ranks by (None: off), probed at start-up."""
        started = self.embeddings
        return None if started is None else started.embedder

    def open_gallery(self) -> Gallery:
        """A gallery client for an admin's use case (the caller closes it): the one given,
        else a plain client of the configured gallery, without the workers' limits."""
        from fleet.gallery.client import HttpGallery

        if self.gallery is None and self.settings.gallery.kind == "mastodon":
            return self._mastodon_gallery()
        return self.gallery or HttpGallery(
            self.settings.gallery,
            pause_seconds=self.settings.actions.pause_probe_seconds,
            disclosure=self.settings.disclosure,
        )

    def sender(self, *, instead: str = "") -> Sender:
        """A function sending (action, key[, countdown]) to the workers through the broker;
        refused now (InputError) when no worker could see it (``instead``: what the
        caller offers instead)."""
        from fleet.infra.queue import ActionSender

        return ActionSender(self.settings, instead=instead)

    @cached_property
    def spend_ledger(self) -> SpendLedger:
        """Today's LLM spend per agent and for the fleet, in Redis."""
        from fleet.content.factory import build_ledger

        return build_ledger(self.settings, self.redis)

    @cached_property
    def gallery_limit(self) -> TokenBucket:
        """The gallery's requests a second, shared by every worker in Redis."""
        from fleet.service.shared_limits import gallery_limit

        return gallery_limit(self.redis, self.settings)

    def back_pressure(self) -> BackPressure:
        """The gallery limit's load as back-pressure on the decider (``fleet.core.
        back_pressure``): none without Redis, nor when Redis cannot say (the ticks are decided
        as if nothing pushed back; the limit itself still holds)."""
        load = self._limiter_load()
        if load is None:
            return NO_PRESSURE
        return back_pressure(load, floor=self.settings.actions.back_pressure_floor)

    def decide_share(self) -> float:
        """The share of ticks that act now (``back_pressure().decide_share``), held a second."""
        return self.held_share.read(time.monotonic(), self._read_share)

    def _read_share(self) -> float:
        load, floor = self._limiter_load(), self.settings.actions.back_pressure_floor
        return 1.0 if load is None else round(decide_share(load.refused_share, floor=floor), 4)

    def _limiter_load(self) -> LimiterLoad | None:
        """The gallery limit's load; None without Redis, or when Redis cannot say."""
        import redis

        if self.settings.redis_url is None:
            return None
        try:
            return self.gallery_limit.load()
        except redis.RedisError:
            return None

    @cached_property
    def degrade(self) -> Callable[[int, str], tuple[str, str | None]] | None:
        """The tick's budget check: over budget, posts become browses, comments likes; a
        kind that calls no LLM (a like, a browse) asks the budget nothing. Made once a
        process, not once a tick batch (None without Redis: no budget to ask)."""
        if self.settings.redis_url is None:
            return None
        from fleet.core.kinds import COSTLY

        ledger = self.spend_ledger

        def adjust(agent_id: int, action: str) -> tuple[str, str | None]:
            kind = COSTLY.get(action)
            if kind is None:
                return action, None
            outcome = ledger.decide(agent_id, kind)
            return outcome.action.value, outcome.reason

        return adjust

    def close(self) -> None:
        if "action_kit" in self.__dict__:
            self.action_kit.gallery.close()
            self.action_kit.writer.close()
            checking = self.action_kit.authorship.publishing.provenance
            if checking is not None:
                checking.close()  # its keep-alive client
        started = self.__dict__.get("embeddings")
        close = getattr(started.embedder, "close", None) if started is not None else None
        if close is not None:
            close()  # an endpoint's HTTP client
        if "image_source" in self.__dict__:
            close_images = getattr(self.image_source, "close", None)
            if close_images is not None:
                close_images()
        if "redis" in self.__dict__:
            self.redis.close()
        if "engine" in self.__dict__:
            self.engine.dispose()


def _nowhere(event: Event) -> None:
    """No live feed without Redis (the embedded mode)."""


def bootstrap(
    settings: Settings | None = None,
    engine: Engine | None = None,
    *,
    clock: Clock | None = None,
    gallery: Gallery | None = None,
    writer: ContentWriter | None = None,
    publish: Callable[[Event], None] | None = None,
    embedder: Embedder | None = None,
) -> Fleet:
    """A Fleet from explicit settings, or from the environment, with the parts given."""
    return Fleet(
        settings or load_settings(),
        engine,
        clock=clock or SystemClock(),
        gallery=gallery,
        writer=writer,
        publish=publish,
        given_embedder=embedder,
    )


def engine_from_environment() -> Engine:
    """The engine the environment's FLEET_DATABASE_URL names."""
    return build_engine(load_settings().database_url)

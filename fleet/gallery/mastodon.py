"""The gallery port over the Mastodon client API (Takahē, GoToSocial, Mastodon, Pixelfed...).

``FLEET_GALLERY__KIND=mastodon`` and ``FLEET_GALLERY__URL`` name the server; each agent
acts with its own access token (``Credentials``), and images are made by Fleet
(``ImageSource``) since such a server does not paint. docs/platforms.md says, call by
call, what each server gives and lacks. The calls:

    generate_image   ImageSource.make, then POST /api/v2/media (the file)
    create_post      PUT /api/v1/media/:id (alt text: the description), a look at the
                     agent's own statuses for that media, then POST /api/v1/statuses
    like             POST /api/v1/statuses/:id/favourite (idempotent on the server)
    comment          a look under the parent (/context), then POST /api/v1/statuses
                     with in_reply_to_id
    comments         GET /api/v1/statuses/:id/context (its descendants)
    feed             GET /api/v1/timelines/public?local (image posts kept; "recent"),
                     GET /api/v1/trends/statuses ("popular", "trending"; the public
                     timeline where the server has no trends)
    notifications    GET /api/v1/notifications?types[]=mention (identity questions)
    provision_user   GET /api/v1/accounts/verify_credentials, then the disclosure
    sync_disclosure  PATCH /api/v1/accounts/update_credentials: bot, note, "Operated by"
    agent_consent    #nobot / #noai in the notes and fields of the accounts seen

The adapter is one class made of one concept per module:

    mastodon_wire        the calls, their bounded answers, Fleet's error tree, pages
    mastodon_reading     statuses read as posts and comments, the authors they name
    mastodon_accounts    the agents' accounts: disclosure, consent, relationships
    mastodon_posts       Fleet's images uploaded, the posts carrying them
    mastodon_feeds       the local public timeline, the trends
    mastodon_favourites  likes
    mastodon_replies     comments, threads, mentions

Exactly once on a server that forgets idempotency keys: every effect carries
``Idempotency-Key`` (servers that keep it get it), and the adapter does not rely on it.
Before it sends a post it looks for a status of the agent carrying that media (an
uploaded attachment is the post's marker); before a comment, for the agent's reply with
the same words under the same parent; a favourite is a state the server sets at most
once. What it finds is logged and returned as the call's answer, never sent twice.

Media addresses on another host than the server's are dropped (no picture rather than a
fetch elsewhere). Tokens go in a header per call and appear in no log line or message.
"""

from __future__ import annotations

import httpx

from fleet.gallery.mastodon_feeds import TimelineFeeds
from fleet.gallery.mastodon_follows import MastodonFollows
from fleet.gallery.mastodon_posts import ImagePosts, UploadedImageCheck
from fleet.gallery.mastodon_reading import MARKS, MEDIA_MARK, marks_of, media_of
from fleet.gallery.mastodon_replies import Replies
from fleet.gallery.mastodon_wire import MAX_PAGES, PAGE, token_refused
from fleet.gallery.port import Credentials, ImageSource
from fleet.honesty.image_disclosure import RecordsImageMarks
from fleet.settings import DisclosureSettings, GallerySettings, ProvenanceSettings

__all__ = [
    "MARKS",
    "MAX_PAGES",
    "MEDIA_MARK",
    "PAGE",
    "MastodonGallery",
    "UploadedImageCheck",
    "marks_of",
    "media_of",
    "token_refused",
]


class MastodonGallery(ImagePosts, TimelineFeeds, MastodonFollows, Replies):
    """The gallery port on a server of the Mastodon client API, one token per agent."""

    def __init__(
        self,
        settings: GallerySettings,
        credentials: Credentials,
        images: ImageSource | None,
        transport: httpx.BaseTransport | None = None,
        *,
        pause_seconds: float = 30.0,
        disclosure: DisclosureSettings | None = None,
        provenance: ProvenanceSettings | None = None,
        marks: RecordsImageMarks | None = None,
    ) -> None:
        super().__init__(settings, credentials, transport, pause_seconds=pause_seconds)
        self._images = images
        self._provenance = provenance
        self._marks = marks
        self._serial = None
        if provenance is not None and provenance.certificate is not None:
            from cryptography import x509

            chain = x509.load_pem_x509_certificates(provenance.certificate.read_bytes())
            self._serial = str(chain[0].serial_number)
        self._disclosure = disclosure or DisclosureSettings()
        self._blocks = {}
        self._no_trends_until = 0.0
        self._timeline_read = (-1e18, 0, [])

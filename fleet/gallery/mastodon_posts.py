"""An agent's image posts on a Mastodon-API server, made once though the server forget keys.

The image is Fleet's own (``ImageSource``), its marks checked before upload; the
platform's copy is read back (Takahē stores WebP: the marks are lost, the post says
it in words). Before a post is sent the agent's own recent statuses are searched for
its uploaded attachment: what is found is the answer, never sent twice.
"""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import quote

import httpx

from fleet.errors import PermanentError, TransientError
from fleet.gallery.answers import _id, _read
from fleet.gallery.mastodon_reading import MARKS, MEDIA_MARK, StatusReader, marks_of, media_of
from fleet.gallery.mastodon_wire import PAGE
from fleet.gallery.port import GalleryPost, ImageSource
from fleet.gallery.provenance import ProvenanceCheck
from fleet.honesty.image_disclosure import MarksSeen, RecordsImageMarks, disclosed, marks_survived
from fleet.infra import bounded, transports
from fleet.settings import ProvenanceSettings

log = logging.getLogger("fleet.gallery.mastodon")


OWN_LOOKBACK = 3  # pages of the agent's own statuses searched for a post's media
MAX_ALT = 1500  # Mastodon's limit for a media description
MEDIA_WAIT = 20.0  # seconds an upload may take to be processed (202 until then)


class UploadedImageCheck(ProvenanceCheck):
    """The post's provenance check on a Mastodon-API server: the adapter verified Fleet's
    own image before it uploaded it (``generate_image``; the address says the verdict),
    so the platform's copy, which it may transcode (Takahē stores WebP), is not what is
    judged here: a stripped copy is disclosed in words and audited (``platform_marks``)."""

    def check(self, image_url: str, agent: str) -> dict[str, Any]:
        marks = marks_of(image_url)
        if marks in ("kept", "lost"):
            return {
                "ok": True,
                "checked": "before upload",
                "platform_kept": marks == "kept",
            }
        if marks == "none":
            return {"ok": False, "reason": "Fleet's own image carried no provenance marks"}
        return super().check(image_url, agent)


class ImagePosts(StatusReader):
    """An agent's image posts: Fleet's own image uploaded, then the status carrying it."""

    _images: ImageSource | None
    # Fleet's own image is verified before upload, the platform's copy read back after
    # (``marks_survived``), the verdict recorded (``marks``); None: unchecked.
    _provenance: ProvenanceSettings | None
    _marks: RecordsImageMarks | None
    _serial: str | None
    _timeline_read: tuple[float, int, list[GalleryPost]]  # the feeds' last read

    def generate_image(
        self, *, agent: str, prompt: str, style: str, persona: str, idempotency_key: str
    ) -> str:
        """Fleet's own image (``ImageSource``), uploaded as the agent's media; its address
        carries the attachment's id (``#media=``) for the post."""
        if self._images is None:
            raise PermanentError("mastodon: no image source is configured to make images")
        made = self._images.make(
            prompt=prompt, style=style, persona=persona, idempotency_key=idempotency_key
        )
        own = self._own_marks(agent, made.data)
        suffix = made.media_type.rpartition("/")[2][:8] or "png"
        data, _ = self._call(
            "POST",
            "/api/v2/media",
            agent=agent,
            files={"file": (f"image.{suffix}", made.data, made.media_type)},
            key=idempotency_key,
        )
        media_id = _read("media", lambda: _id(data["id"]))
        url = self._local(data.get("url"))
        deadline = time.monotonic() + MEDIA_WAIT
        while not url and time.monotonic() < deadline:  # 202: still processing
            time.sleep(0.5)
            data, _ = self._call("GET", f"/api/v1/media/{quote(media_id, safe='')}", agent=agent)
            url = self._local(data.get("url") if isinstance(data, dict) else None)
        if not url:
            raise TransientError(f"mastodon media of {agent}: not processed in {MEDIA_WAIT:g} s")
        if own is None:
            return f"{url}{MEDIA_MARK}{media_id}"
        if not own.kept:
            return f"{url}{MEDIA_MARK}{media_id}{MARKS}none"
        seen = marks_survived(
            self._stored(url),
            agent=agent,
            signer_serial=self._serial,
            max_pixels=self._provenance.max_pixels if self._provenance else 0,
        )
        if self._marks is not None:
            self._marks.record(
                platform=self._host,
                agent=agent,
                media_id=media_id,
                kept=seen.kept,
                reason=seen.reason,
                disclosed=not seen.kept,  # create_post adds the text (the address says so)
            )
        if not seen.kept:
            log.info(
                "mastodon: %s did not keep the marks of %s's image %s: the post says it in words",
                self._host,
                agent,
                media_id,
            )
        return f"{url}{MEDIA_MARK}{media_id}{MARKS}{'kept' if seen.kept else 'lost'}"

    def _own_marks(self, agent: str, image: bytes) -> MarksSeen | None:
        """Fleet's own image checked before it is uploaded: both marks, made for ``agent``
        (None: no provenance settings, unchecked). Required (FLEET_PROVENANCE__REQUIRE) and
        missing: refused here, nothing uploaded; what the platform does to it afterwards is
        disclosed and audited, never a reason to skip the post."""
        if self._provenance is None:
            return None
        own = marks_survived(
            image, agent=agent, signer_serial=self._serial, max_pixels=self._provenance.max_pixels
        )
        if not own.kept and self._provenance.require:
            raise PermanentError(
                f"no provenance: Fleet's own image for {agent} lacks its marks ({own.reason})"[:300]
            )
        return own

    def _stored(self, url: str) -> bytes | None:
        """The platform's copy of an image: only on the server's own host, within
        ``max_image_bytes`` and the call's deadline, no redirect; None when it cannot be read."""
        if not self._local(url) or self._provenance is None:
            return None
        cap = self._provenance.max_image_bytes
        try:
            with (
                httpx.Client(
                    transport=transports.Transport(
                        verify=httpx.create_ssl_context() if url.startswith("https:") else None,
                        proxy=transports.proxy_for(url),
                        max_bytes=cap,
                    ),
                    timeout=self._settings.timeout_seconds,
                    follow_redirects=False,
                    headers={"Accept-Encoding": "identity", "User-Agent": "fleet-provenance"},
                ) as client,
                bounded.within(self._settings.timeout_seconds),
                client.stream("GET", url) as answer,
            ):
                if answer.status_code != 200:
                    return None
                return bounded.read_response(answer, cap=cap)
        except (httpx.HTTPError, bounded.AnswerRefused) as error:
            log.info(
                "mastodon: the stored copy of an image was not read (%s)", type(error).__name__
            )
            return None

    def _own_status_with(self, agent: str, media_id: str) -> dict[str, Any] | None:
        """The agent's status carrying the attachment ``media_id``, newest first, looked for
        in its last ``OWN_LOOKBACK`` pages."""
        me = self._account_id(agent)
        for page in self._pages(
            f"/api/v1/accounts/{quote(me, safe='')}/statuses",
            agent=agent,
            params={"limit": PAGE},
            pages=OWN_LOOKBACK,
        ):
            for status in page[:PAGE]:
                if not isinstance(status, dict):
                    continue
                for media in status.get("media_attachments") or []:
                    if isinstance(media, dict) and str(media.get("id")) == media_id:
                        return status
        return None

    def create_post(
        self, *, agent: str, image_url: str, title: str, description: str, idempotency_key: str
    ) -> GalleryPost:
        """The post: its image's alt text set to the description, then a public status of
        title and description with the image; once, though the server forget the key."""
        media_id = media_of(image_url)
        if media_id is None:
            raise PermanentError(
                "mastodon: the image was not uploaded to this server (no media id in its address)"
            )
        found = self._own_status_with(agent, media_id)
        if found is not None:
            log.info(
                "mastodon: %s's post with media %s is there already: not sent again",
                agent,
                media_id,
            )
            return _read("post", lambda: self._post(found))
        text = f"{title.strip()}\n\n{description.strip()}".strip()
        limit = self._status_limit()
        # The platform stripped the marks of Fleet's image: the alt text and a line of the
        # caption say in words that it is AI-generated.
        said = disclosed(
            marks_of(image_url) not in ("lost", "none"),
            alt_text=description,
            caption=text,
            alt_limit=MAX_ALT,
            caption_limit=limit,
        )
        text = said.caption
        self._call(
            "PUT",
            f"/api/v1/media/{quote(media_id, safe='')}",
            agent=agent,
            json={"description": said.alt_text},
        )
        data, _ = self._call(
            "POST",
            "/api/v1/statuses",
            agent=agent,
            json={"status": text, "media_ids": [media_id], "visibility": "public"},
            key=idempotency_key,
        )
        with self._keeping:  # a timeline read before this post no longer serves
            self._timeline_read = (-1e18, 0, [])
        return _read("new post", lambda: self._post(data))

"""Checking an image's provenance marks before it is published (docs/provenance.md).

``verify(image, expected)`` reads an image the gallery saved and answers whether it carries
both marks: IPTC's digital source type in XMP, and a C2PA manifest whose claim signature
and data hash are valid, holding a ``c2pa.created`` action with the same source type, made
for the expected agent. Everything is read within bounds: the bytes were fetched within
``max_image_bytes``; the PNG's chunks are walked with their CRCs checked (a truncated or
altered file is refused), its pixel count is read from its header (a decompression bomb
is refused before anything inflates it), and the XMP packet is parsed only when it
declares no DTD or entity.

``c2pa`` (the Content Authenticity Initiative's library, 23 MB mapped) is imported on the
first check, in the process that checks: engage workers never load it.
"""

from __future__ import annotations

import functools
import io
import ipaddress
import os
import re
import socket
import struct
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from xml.etree import ElementTree

import httpx

from fleet.errors import FleetError, TransientError, from_extra
from fleet.gallery.answers import MalformedAnswer, TooLargeAnswer
from fleet.gallery.client import _tls as tls
from fleet.gallery.wire import Wire
from fleet.infra import bounded, transports

if TYPE_CHECKING:
    from fleet.settings import ProvenanceSettings

IPTC_SOURCE = "http://cv.iptc.org/newscodes/digitalsourcetype/"
SOURCE_TYPES = ("trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
XMP_KEYWORD = b"XML:com.adobe.xmp"
IPTC_EXT = "{http://iptc.org/std/Iptc4xmpExt/2008-02-29/}"
RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
MAX_XMP = 256_000  # the largest XMP packet read (ours is under 1 kB)
# Failure codes a self-signed (or any unlisted) signer gets: the signature is still checked.
UNTRUSTED = {"signingCredential.untrusted"}
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f<>&\"'`\\{}]")


class NoProvenance(FleetError):
    """The image lacks a mark, or a mark does not hold; the message says which and why."""


@dataclass(frozen=True, slots=True)
class Expected:
    """What the marks must say."""

    agent: str  # the handle the image was made for (cleaned as the marks clean it)
    # The operator's certificate's serial number, when Fleet is told which signer to expect.
    signer_serial: str | None = None
    # The certificates above the operator's signing certificate (PEM: its issuer up to its
    # root). Given, the signer must chain to them (the manifest's state "Trusted", read
    # with them as the only trust anchors), not merely carry the same serial number.
    signer_anchors: str | None = None


@dataclass(frozen=True, slots=True)
class ReadBack:
    """Both marks, read back."""

    source_type: str
    model: str
    signer: str
    trusted: bool  # the signer chains to a trust anchor the reader knows

    def record(self) -> dict[str, Any]:
        """What is kept on the activity (the check is never run twice for one post)."""
        return {
            "ok": True,
            "source_type": self.source_type,
            "model": self.model,
            "signer": self.signer,
            "trusted": self.trusted,
        }


def clean(text: str, limit: int = 100) -> str:
    """``text`` as the marks hold it: no control characters or markup, spaces folded."""
    return " ".join(_UNSAFE.sub(" ", text).split())[:limit]


def verify(image: bytes, expected: Expected, *, max_pixels: int) -> ReadBack:
    """Both marks of ``image``, or NoProvenance naming the first that fails and why."""
    xmp = _png_xmp(image, max_pixels)
    xmp_type = _source_type(xmp)
    manifest, results, state = _c2pa(image, expected.signer_anchors)
    return _judge(manifest, results, state, xmp_type, expected)


def _png_xmp(image: bytes, max_pixels: int) -> bytes:
    """The XMP packet of a PNG whose every chunk is whole and unaltered."""
    if not image.startswith(PNG_MAGIC):
        what = "JPEG" if image[:3] == b"\xff\xd8\xff" else "not an image this check reads"
        raise NoProvenance(f"not a PNG ({what}): the save step's marks are checked in PNG")
    at, xmp, seen_header = 8, b"", False
    while True:
        if at + 12 > len(image):
            raise NoProvenance("truncated image: it ends before its IEND chunk")
        (length,) = struct.unpack(">I", image[at : at + 4])
        kind = image[at + 4 : at + 8]
        end = at + 12 + length
        if length > len(image) or end > len(image):
            raise NoProvenance(f"truncated image: its {_name(kind)} chunk runs past the end")
        data = image[at + 8 : end - 4]
        if zlib.crc32(kind + data) != struct.unpack(">I", image[end - 4 : end])[0]:
            raise NoProvenance(f"damaged image: the CRC of its {_name(kind)} chunk is wrong")
        if not seen_header:
            if kind != b"IHDR" or length != 13:
                raise NoProvenance("not a PNG: its first chunk is not IHDR")
            width, height = struct.unpack(">II", data[:8])
            if width == 0 or height == 0 or width * height > max_pixels:
                raise NoProvenance(
                    f"image of {width}x{height} pixels refused (more than "
                    f"{max_pixels:,}: FLEET_PROVENANCE__MAX_PIXELS)"
                )
            seen_header = True
        elif kind == b"iTXt" and data.startswith(XMP_KEYWORD + b"\x00"):
            xmp = _itxt_text(data[len(XMP_KEYWORD) + 1 :])
        elif kind == b"IEND":
            break
        at = end
    if not xmp:
        raise NoProvenance("no XMP: the image carries no digital source type")
    return xmp


def _name(kind: bytes) -> str:
    return kind.decode("latin-1") if kind.isalpha() else "unnamed"


def _itxt_text(rest: bytes) -> bytes:
    """The text of an iTXt chunk after its keyword (inflated within MAX_XMP if need be)."""
    if len(rest) < 2:
        raise NoProvenance("XMP chunk malformed")
    compressed, method = rest[0], rest[1]
    parts = rest[2:].split(b"\x00", 2)  # language tag, translated keyword, text
    if len(parts) != 3:
        raise NoProvenance("XMP chunk malformed")
    text = parts[2]
    if compressed:
        if method != 0:
            raise NoProvenance("XMP chunk compressed with an unknown method")
        inflate = zlib.decompressobj()
        try:
            text = inflate.decompress(text, MAX_XMP + 1)
        except zlib.error:
            raise NoProvenance("XMP chunk does not inflate") from None
    if len(text) > MAX_XMP:
        raise NoProvenance(f"XMP packet over {MAX_XMP:,} bytes refused")
    return text


# An XML declaration's encoding: only UTF-8 is read (XMP in PNG is UTF-8 by its spec).
_DECLARED = re.compile(r"""^\ufeff?\s*<\?xml[^>]*?\bencoding\s*=\s*["']([^"']*)["']""")


def _source_type(xmp: bytes) -> str:
    """IPTC's digital source type in an XMP packet (attribute or element form). The
    packet is read as UTF-8 or not at all, and a DTD or entity is refused after decoding
    (by defusedxml too, whatever the bytes looked like)."""
    try:
        text = xmp.decode("utf-8")
    except UnicodeDecodeError:
        raise NoProvenance("XMP is not UTF-8: refused unread") from None
    declared = _DECLARED.match(text)
    if declared is not None and declared.group(1).strip().lower() not in ("utf-8", "utf8"):
        raise NoProvenance("XMP declares an encoding other than UTF-8: refused unread")
    if "<!DOCTYPE" in text.upper() or "<!ENTITY" in text.upper():
        raise NoProvenance("XMP declares a DTD or entities: refused unread")
    defused, safe_xml = _xml_readers()
    try:
        root: ElementTree.Element = safe_xml.fromstring(text.encode("utf-8"))
    except defused.DefusedXmlException:
        raise NoProvenance("XMP declares a DTD or entities: refused unread") from None
    except (ElementTree.ParseError, ValueError, LookupError) as exc:
        raise NoProvenance(f"XMP is not well-formed ({clean(str(exc), 80)})") from None
    for description in root.iter(f"{RDF}Description"):
        value = description.get(f"{IPTC_EXT}DigitalSourceType")
        if value is None:
            element = description.find(f"{IPTC_EXT}DigitalSourceType")
            value = None if element is None else (element.text or "")
        if value is not None:
            name = value.strip().removeprefix(IPTC_SOURCE)
            if name not in SOURCE_TYPES:
                raise NoProvenance(f"XMP digital source type {clean(value, 80)!r} is not AI's")
            return name
    raise NoProvenance("XMP has no Iptc4xmpExt:DigitalSourceType")


# The readers are imported once per process (``fleet[provenance]``), not looked up per image.
@functools.cache
def _xml_readers() -> tuple[ModuleType, ModuleType]:
    """``defusedxml`` and its ElementTree, or MissingExtra."""
    part = "reading an image's XMP"
    return (
        from_extra("defusedxml", "provenance", part),
        from_extra("defusedxml.ElementTree", "provenance", part),
    )


@functools.cache
def _c2pa_reader() -> ModuleType:
    """The CAI's ``c2pa`` library, or MissingExtra."""
    return from_extra("c2pa", "provenance", "reading an image's C2PA manifest")


def _c2pa(image: bytes, anchors: str | None = None) -> tuple[dict[str, Any], dict[str, Any], str]:
    """The active manifest, the validation results and state, read by the CAI's reader
    (with ``anchors``, PEM, as its only trust anchors when given)."""
    c2pa = _c2pa_reader()
    context = None
    if anchors is not None:
        trust = {"verify": {"verify_trust": True}, "trust": {"trust_anchors": anchors}}
        context = c2pa.Context(c2pa.Settings.from_dict(trust))
    try:
        with c2pa.Reader("image/png", io.BytesIO(image), context=context) as reader:
            manifest = reader.get_active_manifest()
            results = reader.get_validation_results() or {}
            state = reader.get_validation_state() or ""
    except c2pa.C2paError as exc:
        text = str(exc)
        if "ManifestNotFound" in type(exc).__name__ or "not found" in text.lower():
            raise NoProvenance("no C2PA manifest") from None
        raise NoProvenance(f"C2PA manifest unreadable ({clean(text, 120)})") from None
    if not manifest:
        raise NoProvenance("no C2PA manifest")
    return manifest, results, state


def _codes(results: dict[str, Any], kind: str) -> set[str]:
    active = results.get("activeManifest") or {}
    return {str(item.get("code")) for item in active.get(kind) or [] if isinstance(item, dict)}


def _judge(
    manifest: dict[str, Any],
    results: dict[str, Any],
    state: str,
    xmp_type: str,
    expected: Expected,
) -> ReadBack:
    failures = _codes(results, "failure") - UNTRUSTED
    if failures:
        raise NoProvenance("C2PA manifest invalid: " + ", ".join(sorted(failures))[:200])
    passed = _codes(results, "success")
    for needed, what in (
        ("claimSignature.validated", "its claim signature"),
        ("assertion.dataHash.match", "its data hash"),
    ):
        if needed not in passed:
            raise NoProvenance(f"C2PA manifest invalid: {what} was not validated")
    created = _created(manifest)
    if created is None:
        raise NoProvenance("C2PA manifest has no c2pa.created action")
    source = str(created.get("digitalSourceType") or "").removeprefix(IPTC_SOURCE)
    if source not in SOURCE_TYPES:
        raise NoProvenance(f"C2PA digital source type {clean(source, 80)!r} is not AI's")
    if source != xmp_type:
        raise NoProvenance(f"the marks disagree: XMP says {xmp_type}, C2PA says {source}")
    parameters = created.get("parameters") or {}
    agent = str(parameters.get("agent") or "") if isinstance(parameters, dict) else ""
    if agent != clean(expected.agent):
        raise NoProvenance(f"C2PA manifest made for {clean(agent, 40)!r}, not this agent")
    signature = manifest.get("signature_info") or {}
    serial = str(signature.get("cert_serial_number") or "")
    if expected.signer_serial is not None and serial != expected.signer_serial:
        raise NoProvenance("C2PA manifest signed by another certificate than the operator's")
    if expected.signer_anchors is not None and state != "Trusted":
        # The same serial number on a certificate the operator's root did not issue.
        raise NoProvenance("C2PA manifest signed by another certificate than the operator's")
    software = created.get("softwareAgent")
    model = software.get("name") if isinstance(software, dict) else software
    return ReadBack(
        source_type=source,
        model=clean(str(model or "")),
        signer=clean(str(signature.get("common_name") or signature.get("issuer") or "")),
        trusted=state == "Trusted",
    )


def _created(manifest: dict[str, Any]) -> dict[str, Any] | None:
    for assertion in manifest.get("assertions") or []:
        if not isinstance(assertion, dict):
            continue
        if str(assertion.get("label", "")).split(".v")[0] != "c2pa.actions":
            continue
        for action in (assertion.get("data") or {}).get("actions") or []:
            if isinstance(action, dict) and action.get("action") == "c2pa.created":
                return action
    return None


class RefusedAddress(NoProvenance):
    """The image's address is not the gallery's, or resolves inside the network."""


# What an image's fetch says of itself; nothing compressed is asked for.
IMAGE_HEADERS = [("Accept-Encoding", "identity"), ("User-Agent", "fleet-provenance")]

# The reason recorded: the same whatever the address was (nothing said of what answered).
NOT_THE_GALLERYS = "the image address is not the gallery's image host"


def _origin(url: str) -> tuple[str, str, int]:
    """Scheme, host (lower case) and port of ``url``."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise RefusedAddress(NOT_THE_GALLERYS) from None
    return scheme, (parts.hostname or "").lower().rstrip("."), port


def _public(address: str) -> bool:
    """Whether an address is on the public internet (not loopback, link-local, private,
    shared, reserved, multicast or unspecified; an IPv4 address mapped in IPv6 as itself)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        mapped = ip.ipv4_mapped or ip.sixtofour
        if mapped is not None:
            ip = mapped
    return ip.is_global and not ip.is_multicast


class ProvenanceCheck:
    """Fetches a saved image (bounded: size, one deadline, never inflated) and verifies
    its marks.

    ``check`` answers the record kept on the activity: ``{"ok": True, ...}`` or
    ``{"ok": False, "reason": ...}``; a fetch that fails for a while raises TransientError
    (the post is retried, the check not yet recorded).

    The image is fetched only from the gallery's host and port (``gallery_url``), and
    only from an address on the public internet once the name is resolved (the address
    connected to is the one checked): loopback, link-local (169.254.169.254), private
    (10.0.0.5, fd00::) and the like are refused, but for the configured gallery itself
    when it is on one (the sandbox on 127.0.0.1). A ``transport`` given (a test's) stands
    in for the network, and for these checks of the address.

    Given the gallery client's connection (``link``: ``HttpGallery.link``), an image is
    fetched over the gallery's own wire (``fleet.gallery.wire``), on the connections its
    calls keep alive (the post's call has just used one), read within
    ``max_image_bytes``. Otherwise (no link, or the gallery's calls go through a proxy
    the environment names), the fetches of one process share a keep-alive client of
    their own (made by the first, made again in a forked child); ``close`` closes it.
    """

    def __init__(
        self,
        settings: ProvenanceSettings,
        *,
        timeout_seconds: float,
        transport: httpx.BaseTransport | None = None,
        gallery_url: str | None = None,
        link: Callable[[], httpx.BaseTransport | Wire] | None = None,
    ) -> None:
        if link is not None and gallery_url is None:
            raise ValueError("the gallery's link fetches the gallery's images: name the gallery")
        self.settings = settings
        self._timeout = timeout_seconds
        self._transport = transport
        self._link = None if transport is not None else link
        self._gallery = None if gallery_url is None else _origin(gallery_url)
        # The proxy for the gallery's images, read from the environment once: only its
        # host and port are fetched from (each other address is refused before).
        self._gallery_proxy = None if gallery_url is None else transports.proxy_for(gallery_url)
        self._serial: str | None = None
        self._anchors: str | None = None
        # One keep-alive client per process and kind of address (the gallery's: one),
        # made by the first fetch; a forked child makes its own (see ``_client``).
        self._clients: dict[tuple[bool, str | None], httpx.Client] = {}
        self._pid = 0
        self._opening = threading.Lock()
        if settings.certificate is not None:
            from cryptography import x509
            from cryptography.hazmat.primitives.serialization import Encoding

            chain = x509.load_pem_x509_certificates(settings.certificate.read_bytes())
            self._serial = str(chain[0].serial_number)
            # The signer is compared by its issuer chain, not its serial alone: a file
            # with the signing certificate only is compared by serial (docs/provenance.md).
            above = chain[1:]
            if above:
                self._anchors = "".join(c.public_bytes(Encoding.PEM).decode() for c in above)

    def check(self, image_url: str, agent: str) -> dict[str, Any]:
        """The check's record for the image at ``image_url`` made for ``agent``."""
        try:
            image = self.fetch(image_url)
            verdict = verify(
                image,
                Expected(agent=agent, signer_serial=self._serial, signer_anchors=self._anchors),
                max_pixels=self.settings.max_pixels,
            )
        except NoProvenance as exc:
            return {"ok": False, "reason": str(exc)[:300]}
        return verdict.record()

    def fetch(self, url: str) -> bytes:
        """The image's bytes, within ``max_image_bytes`` and the gallery's timeout."""
        if not url.startswith(("http://", "https://")):
            raise NoProvenance("the image address is not http(s)")
        origin = _origin(url)
        if self._gallery is not None and origin != self._gallery:
            raise RefusedAddress(NOT_THE_GALLERYS)
        cap = self.settings.max_image_bytes
        # The gallery's own wire, when its calls go over one (the image's origin is the
        # gallery's: checked above).
        link = None if self._link is None else self._link()
        if isinstance(link, Wire):
            target = httpx.URL(url).raw_path.decode("ascii")
            try:
                # One deadline for the whole fetch: connecting, the head, every piece.
                with bounded.within(self._timeout):
                    answer = link.call("GET", target, IMAGE_HEADERS, cap=cap)
            except httpx.TransportError as exc:
                raise TransientError(f"image fetch: {type(exc).__name__}") from exc
            except TooLargeAnswer:
                raise NoProvenance(_too_big(cap)) from None
            except MalformedAnswer as exc:  # an encoding (none is asked for)
                raise NoProvenance(f"the image could not be read ({exc})") from None
            _readable(answer.status_code)
            return answer.content
        https = url.startswith("https:")
        # Through the proxy the environment names, as the gallery's client goes: the proxy
        # (the operator's) is connected to, and the address check is its to keep.
        proxy = self._gallery_proxy if self._gallery is not None else transports.proxy_for(url)
        client = self._client(https, proxy)
        try:
            with (
                # One deadline for the whole fetch: connecting, the headers, every piece.
                bounded.within(self._timeout),
                client.stream("GET", url) as response,
            ):
                _readable(response.status_code)
                try:  # nothing was asked for but the image as stored
                    bounded.as_sent(response.headers.get("content-encoding"))
                except bounded.AnswerEncoding as exc:
                    raise MalformedAnswer(str(exc)) from None
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > cap:
                    raise NoProvenance(_too_big(cap))
                pieces, total = [], 0
                ends = time.monotonic() + self._timeout
                # A transport that built the answer in memory has it read already.
                stream = [response.content] if response.is_stream_consumed else response.iter_raw()
                for piece in stream:
                    if time.monotonic() > ends:  # a trickle, each read within its timeout
                        raise TransientError(f"image fetch: over {self._timeout:g} s")
                    total += len(piece)
                    if total > cap:
                        raise NoProvenance(_too_big(cap))
                    pieces.append(piece)
        except httpx.TransportError as exc:
            raise TransientError(f"image fetch: {type(exc).__name__}") from exc
        except MalformedAnswer as exc:
            raise NoProvenance(f"the image could not be read ({exc})") from None
        return b"".join(pieces)

    def _client(self, https: bool, proxy: str | None) -> httpx.Client:
        """This process's keep-alive client for an https (or http) address through
        ``proxy``: a connection the gallery closed is dropped and opened again."""
        key = (https, proxy)
        client = self._clients.get(key)
        if client is not None and self._pid == os.getpid():
            return client
        # Threads of one process (a batch's posts) share one client: the first makes it.
        with self._opening:
            if self._pid != os.getpid():
                # After a fork the parent's sockets are not ours: leave them alone
                # (closing them would close the parent's) and open our own.
                self._clients, self._pid = {}, os.getpid()
            client = self._clients.get(key)
            if client is None:
                through = None if proxy is None else _origin(proxy)[1:]
                client = self._clients[key] = httpx.Client(
                    transport=self._transport
                    or transports.Transport(
                        verify=tls() if https else None,
                        proxy=proxy,
                        address=functools.partial(self._address, proxy=through),
                    ),
                    # The CA bundle read once per process (24 ms a client otherwise).
                    verify=tls() if https else False,
                    timeout=self._timeout,
                    follow_redirects=False,
                    headers=dict(IMAGE_HEADERS),
                )
            return client

    def close(self) -> None:
        """Close this process's clients (their kept-alive connections)."""
        with self._opening:
            if self._pid == os.getpid():
                for client in self._clients.values():
                    client.close()
            self._clients = {}

    def _address(self, host: str, port: int, *, proxy: tuple[str, int] | None = None) -> str:
        """The address to connect to for ``host``: resolved here, and refused unless it
        is public, or the configured gallery (or the proxy) is this host and port."""
        try:
            found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            raise RefusedAddress("the image host could not be resolved") from None
        addresses = [str(info[4][0]) for info in found]
        if not addresses:
            raise RefusedAddress("the image host could not be resolved")
        named = (host.lower().rstrip("."), port)
        gallery = self._gallery is not None and named == self._gallery[1:]
        if not gallery and named != proxy and not all(map(_public, addresses)):
            raise RefusedAddress(NOT_THE_GALLERYS)
        return addresses[0]


def _too_big(cap: int) -> str:
    return f"image over {cap:,} bytes refused (FLEET_PROVENANCE__MAX_IMAGE_BYTES)"


def _readable(status: int) -> None:
    """Nothing for an image's answer that holds it; else why it is not read."""
    if status in (404, 410):
        raise NoProvenance(f"the image is gone ({status})")
    if status >= 500 or status in (408, 429):
        raise TransientError(f"image fetch: {status}")
    if not 200 <= status < 300:
        raise NoProvenance(f"the image could not be read ({status})")

"""The provenance check against a hostile gallery (issue 68, F8-F10): a certificate made
to carry the operator's serial number, a fetch sent to an address inside the network, an
XMP packet in another encoding, a DTD in UTF-16, a slow image."""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from fleet.errors import TransientError
from fleet.gallery.client import HttpGallery
from fleet.gallery.provenance import (
    NOT_THE_GALLERYS,
    Expected,
    NoProvenance,
    ProvenanceCheck,
    verify,
)
from fleet.gallery.wire import Wire
from fleet.settings import ProvenanceSettings, load_settings
from fleet_sandbox import provenance as marking
from tests.gallery.conftest import settings_for
from tests.gallery.test_provenance import MARKS, PIXELS, png


def _pair_with_serial(serial: int, name: str = "Forger") -> marking.SigningPair:
    """A root of one's own and a signing certificate it issued, with ``serial``."""
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "provenance signer")])
    now = dt.datetime.now(dt.UTC)
    start, end = now - dt.timedelta(minutes=5), now + dt.timedelta(days=3)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name} root")])
    root = (
        x509.CertificateBuilder()
        .subject_name(root_name)
        .issuer_name(root_name)
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(marking._usage(sign=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), False)
        .sign(root_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(root_name)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(marking._usage(sign=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), False
        )
        .sign(root_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    key_pem = key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return marking.SigningPair(leaf.public_bytes(pem) + root.public_bytes(pem), key_pem, True)


def _serving(image: bytes) -> httpx.MockTransport:
    return httpx.MockTransport(lambda request: httpx.Response(200, content=image))


def test_a_certificate_made_with_the_operators_serial_is_refused(tmp_path: Path) -> None:
    operator = marking.self_signed_pair("Operator")
    cert, key = marking.write_pair(operator, tmp_path)
    settings = load_settings(provenance={"certificate": cert, "private_key": key})
    serial = x509.load_pem_x509_certificates(operator.certificate_pem)[0].serial_number
    forger = _pair_with_serial(serial)
    forged = marking.Marker(forger).mark(png(), MARKS, "t")
    check = ProvenanceCheck(settings.provenance, timeout_seconds=5, transport=_serving(forged))
    refused = check.check("http://g/i.png", "ada_lee")
    assert refused["ok"] is False and "another certificate" in refused["reason"]
    # The operator's own: accepted, and trusted (it chains to the operator's root).
    genuine = marking.Marker(operator).mark(png(), MARKS, "t")
    check = ProvenanceCheck(settings.provenance, timeout_seconds=5, transport=_serving(genuine))
    accepted = check.check("http://g/i.png", "ada_lee")
    assert accepted["ok"] is True and accepted["trusted"] is True


# -- F9: the fetch goes to the gallery's image host only, never inside the network -------


class _Slow(BaseHTTPRequestHandler):
    """An image server: the headers after ``delay`` s, then a piece every ``every`` s."""

    delay = 0.0
    every = 0.0
    body = b""
    status = 200
    answer_headers: tuple[tuple[str, str], ...] = ()

    def log_message(self, format: str, *args: object) -> None:
        pass

    def finish(self) -> None:
        super().finish()
        ended = getattr(self, "ended", None)
        if ended is not None:  # the connection closed (by the client, or after HTTP/1.0)
            ended.set()

    def do_GET(self) -> None:
        seen = getattr(self, "seen", None)
        if seen is not None:  # the peer of each request: which connection served it
            seen.append(self.client_address)
        time.sleep(self.delay)
        self.send_response(self.status)
        self.send_header("Content-Type", "image/png")
        for name, value in self.answer_headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(self.body) or 10_000_000))
        self.end_headers()
        try:
            if self.body:
                self.wfile.write(self.body)
                return
            for _ in range(1000):
                self.wfile.write(b"x" * 100)
                self.wfile.flush()
                time.sleep(self.every)
        except OSError:
            pass


@pytest.fixture
def image_server() -> Iterator[tuple[str, type[_Slow]]]:
    handler = type("Handler", (_Slow,), {})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()


INSIDE = (
    "http://169.254.169.254/latest/meta-data/",
    "http://[fd00:ec2::254]/latest/meta-data/",
    "http://10.0.0.5/i.png",
    "http://192.168.1.1/i.png",
    "http://127.0.0.1:6379/",
    "http://2130706433/i.png",
    "http://[::1]:5432/",
    "http://[::ffff:127.0.0.1]/",
    "http://0.0.0.0/",
    "http://localhost:8080/",
)


@pytest.mark.parametrize("url", INSIDE)
def test_an_address_inside_the_network_is_never_fetched(url: str) -> None:
    """No gallery named (the checks of the address alone): refused after resolution,
    with the same generic reason whatever the address."""
    check = ProvenanceCheck(ProvenanceSettings(), timeout_seconds=2)
    record = check.check(url, "ada_lee")
    assert record == {"ok": False, "reason": NOT_THE_GALLERYS}


@contextmanager
def _checking(
    gallery: str, over_wire: bool, timeout: float = 2, **settings: int
) -> Iterator[ProvenanceCheck]:
    """A check of the images of ``gallery``: over the gallery client's wire (as a Fleet
    makes it), or over a client of its own (no link given)."""
    client = HttpGallery(settings_for(gallery)) if over_wire else None
    check = ProvenanceCheck(
        ProvenanceSettings(**settings),
        timeout_seconds=timeout,
        gallery_url=gallery,
        link=None if client is None else client.link,
    )
    try:
        yield check
    finally:
        check.close()
        if client is not None:
            client.close()


@pytest.mark.parametrize("over_wire", [False, True], ids=["own client", "gallery's wire"])
@pytest.mark.parametrize("url", [*INSIDE, "http://images.example.org/i.png"])
def test_only_the_gallerys_host_and_port_are_fetched(
    url: str, over_wire: bool, image_server: tuple[str, type[_Slow]]
) -> None:
    gallery, handler = image_server
    handler.body = b"not a png"
    peers: list[tuple[str, int]] = []
    handler.seen = peers  # type: ignore[attr-defined]
    with _checking(gallery, over_wire) as check:
        assert check.check(url, "ada_lee") == {"ok": False, "reason": NOT_THE_GALLERYS}
        assert peers == []  # refused before anything was fetched
        # The configured gallery itself, on loopback as the sandbox is: fetched and read.
        read = check.check(f"{gallery}/images/i.png", "ada_lee")
    assert read["ok"] is False and "not a PNG" in read["reason"]
    assert len(peers) == 1


def test_the_check_fetches_over_the_gallerys_own_connection(
    image_server: tuple[str, type[_Slow]],
) -> None:
    """Given the gallery client's link, the image comes over the connection the
    gallery's call has just used (no second client, no second connection); closing the
    gallery's client closes it."""
    gallery, handler = image_server
    handler.body, handler.protocol_version = b"not a png", "HTTP/1.1"
    peers: list[tuple[str, int]] = []
    ended = threading.Event()
    handler.seen, handler.ended = peers, ended  # type: ignore[attr-defined]
    client = HttpGallery(settings_for(gallery))
    check = ProvenanceCheck(
        ProvenanceSettings(), timeout_seconds=2, gallery_url=gallery, link=client.link
    )
    wire = client.link()
    assert isinstance(wire, Wire)
    assert wire.call("GET", "/api/v1/feed", []).content == b"not a png"  # a gallery call
    for _ in range(2):
        assert "not a PNG" in check.check(f"{gallery}/images/i.png", "ada_lee")["reason"]
    assert len(peers) == 3 and peers[0] == peers[1] == peers[2]
    check.close()  # the gallery's connection is not the check's to close
    assert not ended.is_set()
    client.close()
    assert ended.wait(5)
    with pytest.raises(ValueError, match="name the gallery"):
        ProvenanceCheck(ProvenanceSettings(), timeout_seconds=2, link=client.link)


@pytest.mark.parametrize("over_wire", [False, True], ids=["own client", "gallery's wire"])
def test_an_image_past_its_cap_gone_or_encoded_is_refused_unread(
    over_wire: bool, image_server: tuple[str, type[_Slow]]
) -> None:
    """The image's own cap (not the gallery answers'), the status and the encoding are
    judged alike on both ways of fetching."""
    gallery, handler = image_server
    image = f"{gallery}/images/i.png"
    with _checking(gallery, over_wire, max_image_bytes=65_536) as check:
        handler.body = b""  # 10,000,000 bytes announced, a trickle sent
        assert check.check(image, "ada_lee") == {
            "ok": False,
            "reason": "image over 65,536 bytes refused (FLEET_PROVENANCE__MAX_IMAGE_BYTES)",
        }
        handler.body, handler.status = b"not a png", 404
        assert check.check(image, "ada_lee") == {"ok": False, "reason": "the image is gone (404)"}
        handler.status = 503
        with pytest.raises(TransientError, match="image fetch: 503"):
            check.check(image, "ada_lee")
        handler.status, handler.answer_headers = 200, (("Content-Encoding", "gzip"),)
        reason = check.check(image, "ada_lee")["reason"]
    assert "encoding Fleet did not ask for" in reason


# -- F10: an XMP packet in another encoding, a DTD in UTF-16, a slow image --------------


def _xmp_image(packet: bytes) -> bytes:
    return marking.with_xmp(png(), packet)


XMP_UTF16 = ('<?xml version="1.0" encoding="UTF-16"?><x:xmpmeta xmlns:x="adobe:ns:meta/"/>').encode(
    "utf-16"
)
DTD_UTF16 = (
    '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'
).encode("utf-16")
DECLARED_UTF16 = b'<?xml version="1.0" encoding="UTF-16"?><x/>'
# expat refuses it with a ValueError, which ended the post dead before issue 68.
SHIFT_JIS = b'<?xml version="1.0" encoding="Shift_JIS"?><x/>'
DTD_SPACED = b'<?xml version="1.0"?><!doctype x [<!entity a "aaaa">]><x>&a;</x>'


@pytest.mark.parametrize(
    ("packet", "reason"),
    [
        (XMP_UTF16, "not UTF-8"),
        (DTD_UTF16, "not UTF-8"),
        (DECLARED_UTF16, "other than UTF-8"),
        (SHIFT_JIS, "other than UTF-8"),
        (DTD_SPACED, "DTD or entities"),
    ],
)
def test_an_xmp_packet_not_in_utf8_or_with_a_dtd_is_no_provenance(
    packet: bytes, reason: str
) -> None:
    with pytest.raises(NoProvenance, match=reason):
        verify(_xmp_image(packet), Expected("ada_lee"), max_pixels=PIXELS)
    check = ProvenanceCheck(
        ProvenanceSettings(), timeout_seconds=2, transport=_serving(_xmp_image(packet))
    )
    record = check.check("http://g/i.png", "ada_lee")
    assert record["ok"] is False and reason in record["reason"]


@pytest.mark.parametrize("over_wire", [False, True], ids=["own client", "gallery's wire"])
def test_a_slow_image_ends_by_one_deadline(
    over_wire: bool, image_server: tuple[str, type[_Slow]]
) -> None:
    """The headers late, then a trickle: the fetch ends by the gallery's timeout, not a
    timeout for the headers and another for the body."""
    gallery, handler = image_server
    handler.delay, handler.every = 0.8, 0.05
    with _checking(gallery, over_wire, timeout=1.0) as check:
        started = time.monotonic()
        with pytest.raises(TransientError, match="image fetch"):
            check.check(f"{gallery}/images/i.png", "ada_lee")
        assert time.monotonic() - started < 1.4


# -- one keep-alive client per process ---------------------------------------------------


def test_one_connection_serves_two_checks_and_close_ends_it(
    image_server: tuple[str, type[_Slow]],
) -> None:
    """Two checks on a gallery that keeps the connection alive: one connection; closed
    by ``close``; the next check after it opens another."""
    gallery, handler = image_server
    handler.body, handler.protocol_version = b"not a png", "HTTP/1.1"
    peers: list[tuple[str, int]] = []
    handler.seen = peers  # type: ignore[attr-defined]
    check = ProvenanceCheck(ProvenanceSettings(), timeout_seconds=2, gallery_url=gallery)
    for _ in range(2):
        assert "not a PNG" in check.check(f"{gallery}/images/i.png", "ada_lee")["reason"]
    assert len(peers) == 2 and peers[0] == peers[1]
    check.close()
    assert "not a PNG" in check.check(f"{gallery}/images/i.png", "ada_lee")["reason"]
    check.close()
    assert len(peers) == 3 and peers[2] != peers[0]


def test_a_connection_the_gallery_closed_is_opened_again(
    image_server: tuple[str, type[_Slow]],
) -> None:
    """HTTP/1.0: the gallery closes each connection after its answer; the next check
    connects again instead of failing."""
    gallery, handler = image_server
    handler.body = b"not a png"
    peers: list[tuple[str, int]] = []
    handler.seen = peers  # type: ignore[attr-defined]
    check = ProvenanceCheck(ProvenanceSettings(), timeout_seconds=2, gallery_url=gallery)
    try:
        for _ in range(2):
            assert "not a PNG" in check.check(f"{gallery}/images/i.png", "ada_lee")["reason"]
    finally:
        check.close()
    assert len(peers) == 2 and peers[0] != peers[1]


def test_a_forked_child_opens_its_own_connection_and_leaves_the_parents(
    image_server: tuple[str, type[_Slow]],
) -> None:
    """A worker forked after the check's first fetch: the child connects on its own,
    and the parent's kept-alive connection still serves the parent."""
    gallery, handler = image_server
    handler.body, handler.protocol_version = b"not a png", "HTTP/1.1"
    peers: list[tuple[str, int]] = []
    handler.seen = peers  # type: ignore[attr-defined]
    check = ProvenanceCheck(ProvenanceSettings(), timeout_seconds=2, gallery_url=gallery)
    image = f"{gallery}/images/i.png"
    try:
        assert "not a PNG" in check.check(image, "ada_lee")["reason"]
        child = os.fork()
        if child == 0:  # the child: a check, then out without closing anything
            read = check.check(image, "ada_lee")
            os._exit(0 if "not a PNG" in read["reason"] else 1)
        assert os.waitpid(child, 0)[1] == 0
        assert "not a PNG" in check.check(image, "ada_lee")["reason"]
    finally:
        check.close()
    assert len(peers) == 3 and peers[1] != peers[0] and peers[2] == peers[0]

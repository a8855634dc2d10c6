"""Provenance marks: embedded by the sandbox's save step, verified by Fleet before posting."""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import httpx
import pytest
from PIL import Image

from fleet.errors import ConfigError, TransientError
from fleet.gallery.client import HttpGallery
from fleet.gallery.provenance import Expected, NoProvenance, ProvenanceCheck, verify
from fleet.settings import ProvenanceSettings, load_settings
from fleet_sandbox import provenance as marking
from fleet_sandbox.server import BackgroundSandbox
from tests.gallery.conftest import Admin, settings_for

PIXELS = 40_000_000
MARKS = marking.Marks(
    "trainedAlgorithmicMedia",
    "sandbox-diffusion-1",
    "ada_lee",
    "Fleet demo operator",
    "http://127.0.0.1:8700/about/agents",
)


@pytest.fixture(scope="module")
def pair() -> marking.SigningPair:
    return marking.self_signed_pair("Fleet tests")


@pytest.fixture(scope="module")
def marker(pair: marking.SigningPair) -> marking.Marker:
    return marking.Marker(pair)


def png(side: int = 64, colour: tuple[int, int, int] = (30, 90, 160)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (side, side), colour).save(out, "PNG")
    return out.getvalue()


def chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    found, at = [], 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        found.append((data[at + 4 : at + 8], data[at + 8 : at + 8 + length]))
        at += 12 + length
    return found


def build(parts: list[tuple[bytes, bytes]]) -> bytes:
    return marking.PNG_MAGIC + b"".join(marking._chunk(kind, data) for kind, data in parts)


def test_a_marked_picture_carries_both_marks_read_back(marker: marking.Marker) -> None:
    marked = marker.mark(png(), MARKS, title="t")
    verdict = verify(marked, Expected(agent="ada_lee"), max_pixels=PIXELS)
    assert verdict.source_type == "trainedAlgorithmicMedia"
    assert verdict.model == "sandbox-diffusion-1"
    assert verdict.signer == "provenance signer"
    assert verdict.trusted is False, "a self-signed root is on nobody's trust list"
    Image.open(io.BytesIO(marked)).load()  # still a picture any reader opens


def test_a_transformed_photo_says_composite(marker: marking.Marker) -> None:
    marks = marking.Marks("compositeWithTrainedAlgorithmicMedia", "m", "ada_lee", "op", "")
    verdict = verify(marker.mark(png(), marks, "t"), Expected("ada_lee"), max_pixels=PIXELS)
    assert verdict.source_type == "compositeWithTrainedAlgorithmicMedia"


def test_markup_and_control_characters_are_cleaned_before_the_manifest(
    marker: marking.Marker,
) -> None:
    marks = marking.Marks(
        "trainedAlgorithmicMedia", 'm<script>"x"\x07', "ada\x00<b>", "op&co", "javascript:x"
    )
    marked = marker.mark(png(), marks, "t")
    verdict = verify(marked, Expected("ada\x00<b>"), max_pixels=PIXELS)
    assert verdict.model == "m script x"
    assert b"<script>" not in marked and b"javascript:" not in marked
    xmp = marking.xmp_packet(marks).decode()
    action = marking.manifest(marks, "t")["assertions"][0]["data"]["actions"][0]
    assert action["parameters"] == {"agent": "ada b", "operator": "op co"}
    assert 'AISystemUsed="m script x"' in xmp and "\x07" not in xmp and "\x00" not in xmp


def test_the_exiftool_reads_the_xmp_digital_source_type(
    marker: marking.Marker, tmp_path: Path
) -> None:
    if shutil.which("exiftool") is None:
        pytest.skip("exiftool (Debian's libimage-exiftool-perl) is not installed")
    path = tmp_path / "marked.png"
    path.write_bytes(marker.mark(png(), MARKS, "t"))
    read = subprocess.run(
        ["exiftool", "-j", "-XMP:all", str(path)], capture_output=True, check=True, text=True
    )
    [tags] = json.loads(read.stdout)
    assert tags["DigitalSourceType"].endswith("/trainedAlgorithmicMedia")
    assert tags["CreatorTool"] == "sandbox-diffusion-1"


def test_an_image_without_marks_is_refused_saying_which(marker: marking.Marker) -> None:
    with pytest.raises(NoProvenance, match="no XMP"):
        verify(png(), Expected("ada_lee"), max_pixels=PIXELS)
    stripped = marking.strip(marker.mark(png(), MARKS, "t"))
    with pytest.raises(NoProvenance, match="no XMP"):
        verify(stripped, Expected("ada_lee"), max_pixels=PIXELS)
    xmp_only = marking.with_xmp(png(), marking.xmp_packet(MARKS))
    with pytest.raises(NoProvenance, match="no C2PA manifest"):
        verify(xmp_only, Expected("ada_lee"), max_pixels=PIXELS)


def test_a_tampered_picture_fails_its_data_hash(marker: marking.Marker) -> None:
    parts = chunks(marker.mark(png(colour=(1, 2, 3)), MARKS, "t"))
    other = dict(chunks(png(colour=(200, 10, 10))))[b"IDAT"]
    swapped = [(kind, other if kind == b"IDAT" else data) for kind, data in parts]
    with pytest.raises(NoProvenance, match="C2PA manifest invalid"):
        verify(build(swapped), Expected("ada_lee"), max_pixels=PIXELS)


def test_a_forged_manifest_or_another_signer_is_refused(marker: marking.Marker) -> None:
    # The manifest of one picture carried onto another: its data hash does not hold.
    manifest = [
        p for p in chunks(marker.mark(png(colour=(9, 9, 9)), MARKS, "t")) if p[0] == b"caBX"
    ]
    target = chunks(marking.with_xmp(png(colour=(250, 250, 0)), marking.xmp_packet(MARKS)))
    forged = build(target[:2] + manifest + target[2:])
    with pytest.raises(NoProvenance, match="C2PA manifest"):
        verify(forged, Expected("ada_lee"), max_pixels=PIXELS)
    # Signed well, but not by the certificate the operator named.
    good = marker.mark(png(), MARKS, "t")
    with pytest.raises(NoProvenance, match="another certificate"):
        verify(good, Expected("ada_lee", signer_serial="12345"), max_pixels=PIXELS)
    # Signed well, for another agent.
    with pytest.raises(NoProvenance, match="not this agent"):
        verify(good, Expected("bo_chen"), max_pixels=PIXELS)


def test_marks_that_disagree_or_say_a_camera_are_refused(marker: marking.Marker) -> None:
    xmp = marking.xmp_packet(MARKS).replace(b"trainedAlgorithmicMedia", b"digitalCapture")
    parts = chunks(marker.mark(png(), MARKS, "t"))
    swapped = [
        (k, b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + xmp if k == b"iTXt" else d) for k, d in parts
    ]
    with pytest.raises(NoProvenance, match="is not AI's"):
        verify(build(swapped), Expected("ada_lee"), max_pixels=PIXELS)


@pytest.mark.parametrize(
    ("image", "reason"),
    [
        (b"GIF89a" + bytes(100), "not a PNG"),
        (b"\xff\xd8\xff\xe0" + bytes(100), r"not a PNG \(JPEG\)"),
        (b"", "not a PNG"),
        (png()[:-30], "truncated"),
        (png()[:40], "truncated"),
    ],
)
def test_bad_images_are_refused_with_their_reason(image: bytes, reason: str) -> None:
    with pytest.raises(NoProvenance, match=reason):
        verify(image, Expected("ada_lee"), max_pixels=PIXELS)


def test_a_damaged_chunk_and_a_decompression_bomb_are_refused_unread() -> None:
    data = bytearray(png())
    data[-20] ^= 0xFF  # inside the last IDAT
    with pytest.raises(NoProvenance, match="CRC"):
        verify(bytes(data), Expected("ada_lee"), max_pixels=PIXELS)
    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    bomb = build([(b"IHDR", header), (b"IDAT", zlib.compress(bytes(1 << 20))), (b"IEND", b"")])
    with pytest.raises(NoProvenance, match="100000x100000 pixels refused"):
        verify(bomb, Expected("ada_lee"), max_pixels=PIXELS)


def test_xmp_with_entities_is_refused_unparsed(marker: marking.Marker) -> None:
    evil = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'
    image = marking.with_xmp(png(), evil)
    with pytest.raises(NoProvenance, match="DTD or entities"):
        verify(image, Expected("ada_lee"), max_pixels=PIXELS)


def _check(
    status: int, content: bytes = b"", headers: dict[str, str] | None = None, **settings: int
) -> ProvenanceCheck:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, stream=httpx.ByteStream(content), headers=headers)

    transport = httpx.MockTransport(answer)
    return ProvenanceCheck(ProvenanceSettings(**settings), timeout_seconds=5, transport=transport)


def test_the_check_fetches_within_bounds_and_records_its_verdict(marker: marking.Marker) -> None:
    marked = marker.mark(png(), MARKS, "t")
    ok = _check(200, marked).check("http://g/i.png", "ada_lee")
    assert ok == {
        "ok": True,
        "source_type": "trainedAlgorithmicMedia",
        "model": "sandbox-diffusion-1",
        "signer": "provenance signer",
        "trusted": False,
    }
    assert _check(200, bytes(70_000), max_image_bytes=65_536).check("http://g/i", "ada_lee") == {
        "ok": False,
        "reason": "image over 65,536 bytes refused (FLEET_PROVENANCE__MAX_IMAGE_BYTES)",
    }
    gone = _check(404).check("http://g/i.png", "ada_lee")
    assert gone == {"ok": False, "reason": "the image is gone (404)"}
    packed = _check(200, marked, {"Content-Encoding": "gzip"})
    assert "encoding Fleet did not ask for" in packed.check("http://g/i", "ada_lee")["reason"]
    assert "not http(s)" in packed.check("file:///etc/passwd", "ada_lee")["reason"]
    with pytest.raises(TransientError, match="image fetch: 503"):
        _check(503).check("http://g/i.png", "ada_lee")


# Start-up: the operator's pair loads, is valid now, and matches, or the setting is named.


def _pem(tmp_path: Path, pair: marking.SigningPair) -> tuple[Path, Path]:
    return marking.write_pair(pair, tmp_path)


def test_a_good_pair_loads_and_the_check_expects_its_certificate(
    tmp_path: Path, pair: marking.SigningPair, marker: marking.Marker
) -> None:
    cert, key = _pem(tmp_path, pair)
    settings = load_settings(provenance={"certificate": cert, "private_key": key})
    check = ProvenanceCheck(
        settings.provenance,
        timeout_seconds=5,
        transport=httpx.MockTransport(
            lambda request: httpx.Response(200, content=marker.mark(png(), MARKS, "t"))
        ),
    )
    assert check.check("http://g/i.png", "ada_lee")["ok"] is True
    stranger = marking.Marker(marking.self_signed_pair("someone else"))
    check._transport = httpx.MockTransport(
        lambda request: httpx.Response(200, content=stranger.mark(png(), MARKS, "t"))
    )
    check.close()  # the next fetch makes its client on the new transport
    assert "another certificate" in check.check("http://g/i.png", "ada_lee")["reason"]


def test_a_bad_pair_stops_start_up_naming_the_setting(
    tmp_path: Path, pair: marking.SigningPair, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = _pem(tmp_path, pair)
    other_cert, other_key = _pem(tmp_path / "other", marking.self_signed_pair("other"))
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate")
    cases = [
        (
            {"certificate": junk, "private_key": key},
            "^bad configuration: FLEET_PROVENANCE__CERTIFICATE: .* is no PEM certificate "
            r"\(Unable to load PEM file\)$",
        ),
        (
            {"certificate": cert, "private_key": junk},
            "^bad configuration: FLEET_PROVENANCE__PRIVATE_KEY: ",
        ),
        ({"certificate": tmp_path / "none.pem", "private_key": key}, "no PEM certificate"),
        ({"certificate": cert, "private_key": other_key}, "does not match"),
        ({"certificate": cert}, "go together"),
    ]
    for given, named in cases:
        with pytest.raises(ConfigError, match=named):
            load_settings(provenance=given)
    assert other_cert.exists()
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=400)

    class Later(dt.datetime):
        @classmethod
        def now(cls, tz: dt.tzinfo | None = None) -> Later:  # type: ignore[override]
            return cls.fromtimestamp(later.timestamp(), tz)

    monkeypatch.setattr(dt, "datetime", Later)
    with pytest.raises(
        ConfigError, match="FLEET_PROVENANCE__CERTIFICATE: the certificate is valid"
    ):
        load_settings(provenance={"certificate": cert, "private_key": key})


def test_the_save_step_marks_on_request_and_the_post_page_says_so(
    sandbox: BackgroundSandbox, admin: Admin
) -> None:
    asked = {"digitalSourceType": "trainedAlgorithmicMedia", "operator": "Op", "operatorUrl": ""}
    gallery = HttpGallery(settings_for(sandbox.url), provenance=asked)
    try:
        gallery.provision_user(handle="ada_lee", name="Ada", persona="indie_game_dev")
        made = {
            "agent": "ada_lee",
            "prompt": "a castle at dusk",
            "style": "pixel",
            "persona": "indie_game_dev",
        }
        url = gallery.generate_image(**made, idempotency_key="k1")
        check = ProvenanceCheck(
            ProvenanceSettings(), timeout_seconds=5, gallery_url=str(sandbox.url)
        )
        assert check.check(url, "ada_lee")["ok"] is True
        post = gallery.create_post(
            agent="ada_lee", image_url=url, title="t", description="", idempotency_key="p1"
        )
        admin.faults(stripProvenance=True)
        bare = gallery.generate_image(**made, idempotency_key="k2")
        assert bare != url, "a stripped picture is stored apart from the marked one"
        assert check.check(bare, "ada_lee")["reason"].startswith("no XMP")
        check.close()
        other = gallery.create_post(
            agent="ada_lee", image_url=bare, title="t2", description="", idempotency_key="p2"
        )
    finally:
        gallery.close()
    page = httpx.get(f"{sandbox.url}/posts/{post.id}").text
    assert (
        "Provenance: AI-generated (trainedAlgorithmicMedia), C2PA signed by provenance signer"
        " (self-signed, untrusted)"
    ) in page
    assert "Provenance: no marks" in httpx.get(f"{sandbox.url}/posts/{other.id}").text

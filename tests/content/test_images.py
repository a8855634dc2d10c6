"""Fleet makes, marks and signs its own images: the painter's and an OpenAI-compatible
endpoint's, read back by Fleet's verifier and by exiftool; the same key gives the same
bytes; a platform that strips the marks gets a text disclosure, counted by the audit."""

from __future__ import annotations

import base64
import io
import json
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from PIL import Image

from fleet import agents
from fleet.content.images import MarkedImages, build_image_source
from fleet.content.images.marking import Marker, throwaway_pair
from fleet.content.images.store import ImageStore
from fleet.errors import ConfigError, PermanentError
from fleet.gallery.provenance import Expected, verify
from fleet.honesty.audit_images import platform_marks
from fleet.honesty.audit_scope import Scope
from fleet.honesty.image_disclosure import (
    ALT_PREFIX,
    CAPTION_LINE,
    disclosed,
    marks_survived,
)
from fleet.service import status
from fleet.service.root import Fleet
from fleet.settings import Settings
from tests.conftest import active_agents
from tests.messages_api import LocalHTTP, raw

MAX_PIXELS = 40_000_000


def _settings(tmp_path: Path, **more: object) -> Settings:
    images = {"directory": str(tmp_path / "made"), "width": 128, "height": 128}
    images |= more.pop("images", {})  # type: ignore[arg-type]
    return Settings(database_url=f"sqlite:///{tmp_path / 'unused.db'}", images=images, **more)  # type: ignore[arg-type]


def _source(tmp_path: Path, **more: object) -> MarkedImages:
    return build_image_source(
        _settings(tmp_path, **more), handle_of=lambda agent_id: f"agent_{agent_id}"
    )


def test_the_painters_image_carries_both_marks_for_its_agent(tmp_path: Path) -> None:
    made = _source(tmp_path).make(
        prompt="a lighthouse at dusk", style="pixel-art", persona="indie_game_dev",
        idempotency_key="42:1790000000:post",
    )  # fmt: skip
    assert made.media_type == "image/png"
    verdict = verify(made.data, Expected(agent="agent_42"), max_pixels=MAX_PIXELS)
    assert verdict.source_type == "trainedAlgorithmicMedia"
    assert verdict.model.startswith("fleet-painter")
    assert not verdict.trusted  # the throwaway pair: signed, on no trust list
    with pytest.raises(Exception, match="not this agent"):
        verify(made.data, Expected(agent="agent_7"), max_pixels=MAX_PIXELS)


def test_exiftool_reads_the_digital_source_type(tmp_path: Path) -> None:
    if shutil.which("exiftool") is None:
        pytest.skip("exiftool (Debian's libimage-exiftool-perl) is not installed")
    made = _source(tmp_path).make(
        prompt="a bar chart of rainfall", style="chart", persona="data_visualization",
        idempotency_key="3:1790000000:post",
    )  # fmt: skip
    path = tmp_path / "made.png"
    path.write_bytes(made.data)
    out = subprocess.run(
        ["exiftool", "-j", "-XMP:all", str(path)], capture_output=True, check=True, text=True
    )
    [tags] = json.loads(out.stdout)
    assert tags["DigitalSourceType"].endswith("/trainedAlgorithmicMedia")
    assert str(tags["AISystemUsed"]).startswith("fleet-painter")


def test_the_same_key_gives_the_same_bytes_another_key_its_own(tmp_path: Path) -> None:
    source = _source(tmp_path)
    ask = {"prompt": "a red chair", "style": "product", "persona": "product_photographer"}
    first = source.make(**ask, idempotency_key="5:1790000000:post")
    again = _source(tmp_path).make(**ask, idempotency_key="5:1790000000:post")  # a new process
    other = source.make(**ask, idempotency_key="5:1790000600:post")
    assert again.data == first.data
    assert other.data != first.data  # a fresh signature, same pixels
    assert len(list((tmp_path / "made").rglob("*.png"))) == 2


def test_a_key_that_is_no_action_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PermanentError, match="not an action key"):
        _source(tmp_path).make(prompt="x", style="y", persona="z", idempotency_key="nope")


def test_the_operators_certificate_signs(tmp_path: Path) -> None:
    pair = throwaway_pair("Operator tests")
    cert, key = tmp_path / "chain.pem", tmp_path / "key.pem"
    cert.write_bytes(pair.certificate_pem)
    key.write_bytes(pair.key_pem)
    source = _source(tmp_path, provenance={"certificate": str(cert), "private_key": str(key)})
    made = source.make(
        prompt="a teapot", style="product", persona="product_photographer",
        idempotency_key="9:1790000000:post",
    )  # fmt: skip
    serial = str(x509.load_pem_x509_certificates(pair.certificate_pem)[0].serial_number)
    verify(made.data, Expected(agent="agent_9", signer_serial=serial), max_pixels=MAX_PIXELS)
    with pytest.raises(Exception, match="another certificate"):
        verify(made.data, Expected(agent="agent_9", signer_serial="1"), max_pixels=MAX_PIXELS)


def _png(side: int = 96) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (side, side), (200, 120, 40)).save(out, "PNG")
    return out.getvalue()


def test_an_openai_compatible_endpoint_paints_and_fleet_marks(tmp_path: Path) -> None:
    image = base64.b64encode(_png()).decode()
    with LocalHTTP() as server:
        server.queue(raw(200, {"created": 1, "data": [{"b64_json": image}]}))
        source = _source(
            tmp_path,
            images={"source": "openai", "base_url": f"{server.url}/v1", "model": "img-test", "api_key": "sk-test-0123456789"},
        )  # fmt: skip
        made = source.make(
            prompt="a harbour in fog", style="watercolor", persona="ai_art_enthusiast",
            idempotency_key="11:1790000000:post",
        )  # fmt: skip
        # A retry is served from the store: the endpoint is not paid twice.
        again = source.make(
            prompt="a harbour in fog", style="watercolor", persona="ai_art_enthusiast",
            idempotency_key="11:1790000000:post",
        )  # fmt: skip
        source.close()
    assert again.data == made.data
    [seen] = server.requests
    assert seen.path == "/v1/images/generations"
    asked = seen.json()
    assert (asked["model"], asked["n"], asked["response_format"]) == ("img-test", 1, "b64_json")
    assert "a harbour in fog" in asked["prompt"]
    verdict = verify(made.data, Expected(agent="agent_11"), max_pixels=MAX_PIXELS)
    assert verdict.model == "img-test"


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        ({"data": [{"url": "http://elsewhere.example/x.png"}]}, "no b64_json"),
        ({"data": [{"b64_json": "@@not base64@@"}]}, "not base64"),
        ({"data": [{"b64_json": base64.b64encode(b"GIF89a...").decode()}]}, "not a PNG"),
    ],
)
def test_an_endpoints_unusable_answer_is_permanent(
    tmp_path: Path, answer: dict[str, object], said: str
) -> None:
    with LocalHTTP() as server:
        server.queue(raw(200, answer))
        source = _source(tmp_path, images={"source": "openai", "base_url": f"{server.url}/v1"})
        with pytest.raises(PermanentError, match=said):
            source.make(prompt="p", style="s", persona="x", idempotency_key="1:1790000000:post")
        source.close()
    assert not list((tmp_path / "made").rglob("*.png"))


def test_an_endpoint_without_url_or_key_is_a_configuration_error(tmp_path: Path) -> None:
    source = _source(tmp_path, images={"source": "openai"})
    with pytest.raises(ConfigError, match="FLEET_IMAGES__BASE_URL"):
        source.make(prompt="p", style="s", persona="x", idempotency_key="1:1790000000:post")


def test_the_store_keeps_the_first_image_of_a_key(tmp_path: Path) -> None:
    from fleet.gallery.port import MadeImage

    store = ImageStore(tmp_path, max_bytes=1000)
    assert store.keep("k", MadeImage(b"first", "image/png")).data == b"first"
    assert store.keep("k", MadeImage(b"second", "image/png")).data == b"first"
    assert store.get("k") == MadeImage(b"first", "image/png")
    assert not [p for p in tmp_path.rglob(".made-*")]


# What a platform kept, and the disclosure instead.


@pytest.fixture(scope="module")
def marked() -> bytes:
    from fleet.content.images.marking import Marks

    marks = Marks("trainedAlgorithmicMedia", "fleet-painter", "ada_lee", "Op", "http://127.0.0.1/")
    return Marker(throwaway_pair()).mark(_png(), marks, title="t")


def test_marks_survived_reads_the_platforms_copy(marked: bytes) -> None:
    kept = marks_survived(marked, agent="ada_lee", max_pixels=MAX_PIXELS)
    assert kept.kept and "trainedAlgorithmicMedia" in kept.reason
    webp = b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\x00" * 32  # what Takahē stores
    lost = marks_survived(webp, agent="ada_lee", max_pixels=MAX_PIXELS)
    assert not lost.kept and "not a PNG" in lost.reason
    assert not marks_survived(None, agent="ada_lee", max_pixels=MAX_PIXELS).kept
    other = marks_survived(marked, agent="someone_else", max_pixels=MAX_PIXELS)
    assert not other.kept


def test_the_disclosure_is_added_only_when_the_marks_are_lost() -> None:
    kept = disclosed(True, alt_text="A lighthouse at dusk.", caption="Evening light.")
    assert (kept.alt_text, kept.caption, kept.added) == (
        "A lighthouse at dusk.",
        "Evening light.",
        False,
    )
    lost = disclosed(False, alt_text="A lighthouse at dusk.", caption="Evening light.")
    assert lost.added
    assert lost.alt_text == f"{ALT_PREFIX}: A lighthouse at dusk."
    assert lost.caption == f"Evening light.\n\n{CAPTION_LINE}"
    empty = disclosed(False, alt_text="  ", caption="")
    assert (empty.alt_text, empty.caption) == (f"{ALT_PREFIX}.", CAPTION_LINE)


@pytest.mark.parametrize("length", [0, 10, 440, 470, 499, 500, 5000])
def test_the_caption_line_always_fits_the_limits(length: int) -> None:
    caption = ("word " * 2000)[:length]
    lost = disclosed(False, alt_text="x" * 3000, caption=caption, caption_limit=500)
    assert len(lost.caption) <= 500 and lost.caption.endswith(CAPTION_LINE)
    assert len(lost.alt_text) <= 1500 and lost.alt_text.startswith(ALT_PREFIX)


def test_audit_and_status_say_which_platform_stripped_the_marks(fleet: Fleet) -> None:
    [agent_id] = active_agents(fleet, 1)
    handle = agents.get_agent(fleet.sessions, str(agent_id)).handle
    book = fleet.image_marks
    for number in range(3):
        book.record(
            platform="takahe.local", agent=handle, media_id=f"m{number}",
            kept=False, reason="not a PNG (WebP)", disclosed=True,
        )  # fmt: skip
    book.record(
        platform="gts.local", agent=handle, media_id="g1", kept=True, reason="kept", disclosed=False
    )
    # Recorded twice (a retried upload's read-back): counted once.
    book.record(
        platform="takahe.local", agent=handle, media_id="m0",
        kept=False, reason="again", disclosed=True,
    )  # fmt: skip
    found = platform_marks(
        Scope(
            fleet, gallery=None, since=datetime.now(UTC) - timedelta(days=1), now=datetime.now(UTC)
        )  # type: ignore[arg-type]
    )
    assert found.status == "ok"
    assert "platform takahe.local did not keep provenance marks: 3 of 3 images" in found.summary
    assert "platform gts.local kept the provenance marks of all 1 images" in found.summary
    book.record(
        platform="takahe.local", agent=handle, media_id="m9",
        kept=False, reason="stripped", disclosed=False,
    )  # fmt: skip
    short = platform_marks(
        Scope(
            fleet, gallery=None, since=datetime.now(UTC) - timedelta(days=1), now=datetime.now(UTC)
        )  # type: ignore[arg-type]
    )
    assert short.status == "short" and "4 of 4 images" in short.summary
    report = status.glance(fleet)
    assert any("takahe.local did not keep provenance marks: 4 of 4" in n for n in report.notes)
    assert not any("gts.local" in n for n in report.notes)

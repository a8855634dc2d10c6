"""Provenance marks embedded by the workflow's save step (``provenance`` in docs/gallery-api.md).

Two marks go into a saved PNG, in this order:

1. XMP in an ``iTXt`` chunk (keyword ``XML:com.adobe.xmp``, where exiftool and every
   XMP reader look): IPTC's ``Iptc4xmpExt:DigitalSourceType``, the generator's model as
   ``Iptc4xmpExt:AISystemUsed`` and ``xmp:CreatorTool``;
2. a C2PA manifest, signed with the Content Authenticity Initiative's library
   (``c2pa-python``): one ``c2pa.created`` action with the same digital source type, the
   generator as its software agent, and the agent's handle and the operator as its
   parameters. Its data hash covers the XMP chunk too.

A signature is not deterministic (ECDSA, and a fresh manifest id each time): the marked
bytes are stored once, under the workflow's image id, and a retried post re-uses the URL.
``c2pa`` is imported only here, only when a picture is marked (it maps a 23 MB library).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import struct
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from xml.sax.saxutils import quoteattr

if TYPE_CHECKING:
    import c2pa

    from fleet_sandbox.config import SandboxConfig

IPTC_SOURCE = "http://cv.iptc.org/newscodes/digitalsourcetype/"
SOURCE_TYPES = ("trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia")
SourceType = Literal["trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia"]
XMP_KEYWORD = b"XML:com.adobe.xmp"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# What one mark's text may hold: plain words, no markup, no control characters.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f<>&\"'`\\{}]")


def clean(text: str, limit: int = 100) -> str:
    """``text`` fit for a manifest: control characters and markup dropped, spaces folded,
    at most ``limit`` characters."""
    return " ".join(_UNSAFE.sub(" ", text).split())[:limit]


@dataclass(frozen=True, slots=True)
class Marks:
    """What the marks say about one picture."""

    source_type: SourceType
    model: str  # the generator's model name
    agent: str  # the handle the picture was made for
    operator: str
    operator_url: str

    def cleaned(self) -> Marks:
        """The same marks with every text cleaned (the model, handle and operator)."""
        url = re.fullmatch(r"https?://[^\s<>\"'`\\]{1,300}", self.operator_url)
        return Marks(
            self.source_type,
            clean(self.model) or "unknown",
            clean(self.agent) or "unknown",
            clean(self.operator) or "unknown",
            url.group(0) if url else "",
        )


@dataclass(frozen=True, slots=True)
class SigningPair:
    """A signing certificate chain (PEM: the signer first, then its issuers) and its key."""

    certificate_pem: bytes
    key_pem: bytes
    self_signed: bool  # a throwaway root made here, trusted by nobody


def self_signed_pair(name: str = "Fleet demo", days: int = 30) -> SigningPair:
    """A throwaway pair: a self-signed root and an ES256 signing certificate it issued.

    C2PA refuses a signing certificate that signed itself, so the root is separate; nobody
    trusts it, and a reader says so ("signing credential untrusted"): a demo's pair.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    def subject(common: str) -> x509.Name:
        return x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, common),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, clean(name, 60) or "Fleet"),
            ]
        )

    now = dt.datetime.now(dt.UTC)
    start, end = now - dt.timedelta(minutes=5), now + dt.timedelta(days=days)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = (
        x509.CertificateBuilder()
        .subject_name(subject("self-signed root (untrusted)"))
        .issuer_name(subject("self-signed root (untrusted)"))
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(sign=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), False)
        .sign(root_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(subject("provenance signer"))
        .issuer_name(root.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(sign=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), False
        )
        .sign(root_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    chain = leaf.public_bytes(pem) + root.public_bytes(pem)
    key_pem = key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return SigningPair(chain, key_pem, self_signed=True)


def _usage(*, sign: bool) -> Any:
    from cryptography import x509

    return x509.KeyUsage(
        digital_signature=sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=not sign,
        crl_sign=not sign,
        encipher_only=False,
        decipher_only=False,
    )


def write_pair(pair: SigningPair, directory: Path) -> tuple[Path, Path]:
    """The pair as two PEM files in ``directory`` (the key readable by its owner only)."""
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / "provenance-chain.pem", directory / "provenance-key.pem"
    cert.write_bytes(pair.certificate_pem)
    key.touch(mode=0o600)
    key.write_bytes(pair.key_pem)
    return cert, key


def xmp_packet(marks: Marks) -> bytes:
    """The XMP packet of ``marks`` (cleaned first)."""
    m = marks.cleaned()
    fields = {
        "Iptc4xmpExt:DigitalSourceType": IPTC_SOURCE + m.source_type,
        "Iptc4xmpExt:AISystemUsed": m.model,
        "xmp:CreatorTool": m.model,
    }
    attributes = "".join(f"\n    {name}={quoteattr(value)}" for name, value in fields.items())
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
        ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
        '  <rdf:Description rdf:about=""\n'
        '    xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"\n'
        '    xmlns:xmp="http://ns.adobe.com/xap/1.0/"'
        f"{attributes}/>\n"
        " </rdf:RDF>\n"
        "</x:xmpmeta>\n"
        '<?xpacket end="r"?>'
    ).encode()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def with_xmp(png: bytes, packet: bytes) -> bytes:
    """``png`` with one uncompressed XMP ``iTXt`` chunk right after its header (IHDR)."""
    if not png.startswith(PNG_MAGIC) or png[12:16] != b"IHDR":
        raise ValueError("not a PNG")
    end_of_header = 8 + 12 + struct.unpack(">I", png[8:12])[0]
    itxt = _chunk(b"iTXt", XMP_KEYWORD + b"\x00\x00\x00\x00\x00" + packet)
    return png[:end_of_header] + itxt + png[end_of_header:]


def manifest(marks: Marks, title: str, generator: str = "fleet-sandbox") -> dict[str, Any]:
    """The C2PA manifest definition of ``marks`` (cleaned first)."""
    m = marks.cleaned()
    parameters = {"agent": m.agent, "operator": m.operator}
    if m.operator_url:
        parameters["operator_url"] = m.operator_url
    return {
        "claim_generator_info": [{"name": generator, "version": "0.1.0"}],
        "title": clean(title, 200) or "image.png",
        "format": "image/png",
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {
                    "actions": [
                        {
                            "action": "c2pa.created",
                            "digitalSourceType": IPTC_SOURCE + m.source_type,
                            "softwareAgent": {"name": m.model},
                            "parameters": parameters,
                        }
                    ]
                },
            }
        ],
    }


def read_pair(certificate: Path, key: Path) -> SigningPair:
    """The pair in two PEM files (checked when the first picture is signed)."""
    return SigningPair(certificate.read_bytes(), key.read_bytes(), self_signed=False)


def pair_of(config: SandboxConfig) -> SigningPair:
    """The pair the sandbox signs with: its configured files, else a self-signed pair."""
    if config.signing_certificate is not None and config.signing_key is not None:
        return read_pair(config.signing_certificate, config.signing_key)
    return self_signed_pair("Fleet sandbox")


def marked_id(image_id: str, asked: str, stripped: bool) -> str:
    """The id of a picture saved with the marks ``asked`` (or, stripped, without them)."""
    text = "\x1f".join([image_id, asked, "stripped" if stripped else "marked"])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class Marker:
    """Signs pictures with one pair; its C2PA context (settings, signer) is made once,
    when the first picture is marked (the pair too, when given as a function)."""

    def __init__(
        self, pair: SigningPair | Callable[[], SigningPair], generator: str = "fleet-sandbox"
    ) -> None:
        self._pair = pair
        self.generator = generator
        self._context: c2pa.Context | None = None
        self._lock = threading.Lock()

    @property
    def pair(self) -> SigningPair:
        """The signing pair (made or read on first use)."""
        with self._lock:
            if not isinstance(self._pair, SigningPair):
                self._pair = self._pair()
            return self._pair

    def _signing_context(self) -> c2pa.Context:
        pair = self.pair
        with self._lock:
            if self._context is not None:
                return self._context
            import c2pa

            info = c2pa.C2paSignerInfo(
                c2pa.C2paSigningAlg.ES256, pair.certificate_pem, pair.key_pem, None
            )
            # No thumbnail in the manifest: it doubles a picture's size and signing time.
            settings = c2pa.Settings.from_dict({"builder": {"thumbnail": {"enabled": False}}})
            self._context = c2pa.Context(settings, c2pa.Signer.from_info(info))
            return self._context

    def mark(self, png: bytes, marks: Marks, title: str) -> bytes:
        """``png`` with both marks: XMP, then a signed C2PA manifest over all of it."""
        import io

        import c2pa

        source = with_xmp(png, xmp_packet(marks))
        builder = c2pa.Builder(
            json.dumps(manifest(marks, title, self.generator)), self._signing_context()
        )
        out = io.BytesIO()
        with builder:
            builder.sign("image/png", io.BytesIO(source), out)
        return out.getvalue()


def strip(png: bytes) -> bytes:
    """``png`` without its metadata chunks (XMP, C2PA, text): what a careless pipeline
    saves. The sandbox's ``strip_provenance`` fault answers with these bytes."""
    if not png.startswith(PNG_MAGIC):
        return png
    kept = [PNG_MAGIC]
    at = 8
    while at + 12 <= len(png):
        length = struct.unpack(">I", png[at : at + 4])[0]
        kind = png[at + 4 : at + 8]
        end = at + 12 + length
        if kind not in (b"iTXt", b"tEXt", b"zTXt", b"caBX", b"eXIf"):
            kept.append(png[at:end])
        at = end
    return b"".join(kept)


def describe(png: bytes) -> str:
    """One line for a person on the post's page: what the picture's marks say."""
    import io

    import c2pa

    xmp = b"Iptc4xmpExt:DigitalSourceType" in png
    try:
        with c2pa.Reader("image/png", io.BytesIO(png)) as reader:
            active = reader.get_active_manifest() or {}
            results = reader.get_validation_results() or {}
    except c2pa.C2paError:
        active, results = {}, {}
    failed = {
        str(item.get("code"))
        for item in (results.get("activeManifest") or {}).get("failure") or []
        if isinstance(item, dict)
    }
    if not active:
        return "Provenance: " + ("XMP only, no C2PA manifest" if xmp else "no marks")
    signer = clean(str((active.get("signature_info") or {}).get("common_name") or "unknown"))
    source = ""
    for assertion in active.get("assertions") or []:
        for action in (assertion.get("data") or {}).get("actions") or []:
            if action.get("action") == "c2pa.created":
                source = clean(str(action.get("digitalSourceType", "")).rsplit("/", 1)[-1])
    if failed - {"signingCredential.untrusted"}:
        return f"Provenance: C2PA manifest INVALID ({', '.join(sorted(failed))[:120]})"
    trust = "self-signed, untrusted" if "signingCredential.untrusted" in failed else "trusted"
    kind = "AI-generated" if source == "trainedAlgorithmicMedia" else "AI-edited"
    return f"Provenance: {kind} ({source}), C2PA signed by {signer} ({trust})" + (
        "" if xmp else ", no XMP"
    )

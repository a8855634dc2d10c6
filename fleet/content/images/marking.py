"""Fleet's own provenance marks on an image it made (docs/provenance.md, docs/credentials.md).

Where the gallery does not make and mark images (the Mastodon client API), Fleet does,
before it uploads: into the PNG go

1. XMP in an ``iTXt`` chunk (keyword ``XML:com.adobe.xmp``, where exiftool and every XMP
   reader look): IPTC's ``Iptc4xmpExt:DigitalSourceType``, the model as
   ``Iptc4xmpExt:AISystemUsed`` and ``xmp:CreatorTool``;
2. a C2PA manifest signed with the operator's pair (FLEET_PROVENANCE__CERTIFICATE and
   PRIVATE_KEY; unset, a throwaway self-signed pair, as the demo's): one ``c2pa.created``
   action with the same source type, the model as its software agent, the agent's handle
   and the operator as its parameters. Its data hash covers the XMP chunk.

The output is what ``fleet.gallery.provenance.verify`` accepts (the tests check it with
that verifier and with exiftool). ``c2pa`` is imported when the first image is marked.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import struct
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import quoteattr

from fleet.errors import ConfigError, PermanentError, from_extra
from fleet.gallery.provenance import IPTC_SOURCE, PNG_MAGIC, XMP_KEYWORD, clean

if TYPE_CHECKING:
    import c2pa

    from fleet.settings import DisclosureSettings, ProvenanceSettings

GENERATOR = "fleet"


@dataclass(frozen=True, slots=True)
class Marks:
    """What the marks say about one image."""

    source_type: str  # an IPTC digital source type of AI's (settings.provenance.source_type)
    model: str  # the painter or model that made it
    agent: str  # the handle it was made for
    operator: str
    operator_url: str

    def cleaned(self) -> Marks:
        url = re.fullmatch(r"https?://[^\s<>\"'`\\]{1,300}", self.operator_url)
        return Marks(
            clean(self.source_type, 60),
            clean(self.model) or "unknown",
            clean(self.agent) or "unknown",
            clean(self.operator) or "unknown",
            url.group(0) if url else "",
        )


@dataclass(frozen=True, slots=True)
class SigningPair:
    """A certificate chain (PEM, signer first) and its private key (PEM)."""

    certificate_pem: bytes
    key_pem: bytes
    self_signed: bool


def pair_of(settings: ProvenanceSettings) -> SigningPair:
    """The operator's pair from the settings, else a throwaway self-signed one."""
    if settings.certificate is not None and settings.private_key is not None:
        return SigningPair(
            settings.certificate.read_bytes(), settings.private_key.read_bytes(), False
        )
    return throwaway_pair()


def throwaway_pair(name: str = "Fleet demo", days: int = 30) -> SigningPair:
    """A self-signed root and the ES256 signing certificate it issued: trusted by nobody
    (a reader says "signing credential untrusted"), for a demo or a test."""
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

    def usage(*, sign: bool) -> x509.KeyUsage:
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

    now = dt.datetime.now(dt.UTC)
    start, end = now - dt.timedelta(minutes=5), now + dt.timedelta(days=days)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = subject("self-signed root (untrusted)")
    root = (
        x509.CertificateBuilder()
        .subject_name(root_name)
        .issuer_name(root_name)
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(usage(sign=False), critical=True)
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
        .add_extension(usage(sign=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), False
        )
        .sign(root_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    return SigningPair(
        leaf.public_bytes(pem) + root.public_bytes(pem),
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
        self_signed=True,
    )


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
    """``png`` with one uncompressed XMP ``iTXt`` chunk right after its header (IHDR);
    PermanentError when it is not a PNG."""
    if not png.startswith(PNG_MAGIC) or png[12:16] != b"IHDR":
        raise PermanentError("the image made is not a PNG: Fleet marks PNG images")
    end_of_header = 8 + 12 + struct.unpack(">I", png[8:12])[0]
    itxt = _chunk(b"iTXt", XMP_KEYWORD + b"\x00\x00\x00\x00\x00" + packet)
    return png[:end_of_header] + itxt + png[end_of_header:]


def manifest(marks: Marks, title: str) -> dict[str, Any]:
    """The C2PA manifest definition of ``marks`` (cleaned first)."""
    m = marks.cleaned()
    parameters = {"agent": m.agent, "operator": m.operator}
    if m.operator_url:
        parameters["operator_url"] = m.operator_url
    return {
        "claim_generator_info": [{"name": GENERATOR, "version": "0.1.0"}],
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


class Marker:
    """Marks PNGs with one pair; its C2PA signing context is made once, at the first mark
    (the pair too, when given as a function)."""

    def __init__(self, pair: SigningPair | Callable[[], SigningPair]) -> None:
        self._pair = pair
        self._context: c2pa.Context | None = None
        self._lock = threading.Lock()

    @property
    def pair(self) -> SigningPair:
        with self._lock:
            if not isinstance(self._pair, SigningPair):
                self._pair = self._pair()
            return self._pair

    def _signing_context(self) -> c2pa.Context:
        pair = self.pair
        with self._lock:
            if self._context is None:
                from_extra("c2pa", "provenance", "signing a made image (C2PA)")
                import c2pa

                info = c2pa.C2paSignerInfo(
                    c2pa.C2paSigningAlg.ES256, pair.certificate_pem, pair.key_pem, None
                )
                settings = c2pa.Settings.from_dict({"builder": {"thumbnail": {"enabled": False}}})
                try:
                    self._context = c2pa.Context(settings, c2pa.Signer.from_info(info))
                except c2pa.C2paError as error:
                    raise ConfigError(
                        "the provenance pair cannot sign (FLEET_PROVENANCE__CERTIFICATE / "
                        f"PRIVATE_KEY): {clean(str(error), 120)}"
                    ) from None
            return self._context

    def mark(self, png: bytes, marks: Marks, title: str) -> bytes:
        """``png`` with both marks: XMP, then a signed C2PA manifest over all of it."""
        from_extra("c2pa", "provenance", "signing a made image (C2PA)")
        import c2pa

        source = with_xmp(png, xmp_packet(marks))
        builder = c2pa.Builder(json.dumps(manifest(marks, title)), self._signing_context())
        out = io.BytesIO()
        try:
            with builder:
                builder.sign("image/png", io.BytesIO(source), out)
        except c2pa.C2paError as error:
            raise PermanentError(
                f"the image could not be signed: {clean(str(error), 120)}"
            ) from None
        return out.getvalue()


def marks_for(
    agent: str, model: str, provenance: ProvenanceSettings, disclosure: DisclosureSettings
) -> Marks:
    """The marks an agent's image carries under the operator's settings."""
    return Marks(
        provenance.source_type,
        model,
        agent,
        disclosure.operator_name,
        str(disclosure.operator_url),
    )

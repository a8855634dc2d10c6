"""The provenance check against a hostile gallery (issue 68, F8-F10): a certificate made
to carry the operator's serial number, a fetch sent to an address inside the network, an
XMP packet in another encoding, a DTD in UTF-16, a slow image."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from fleet.gallery.provenance import ProvenanceCheck
from fleet.settings import load_settings
from fleet_sandbox import provenance as marking
from tests.gallery.test_provenance import MARKS, png


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

"""The Redis broker's transport: a worker's connection closed while Redis is down.

Kombu 5.7's Redis transport stopped closing a connection's channels at the first that
failed (handing its unacknowledged messages back needs Redis), dropped its link to the
connection, and the next close of a channel left open raised ``AttributeError:
'NoneType' object has no attribute 'hostname'``: the error that stopped Celery workers
at a Redis restart (issue 52). ``fleet.infra.broker.RedisTransport`` closes them all.
"""

from __future__ import annotations

import contextlib
import ipaddress
import ssl
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from kombu import Connection, Producer, Queue
from kombu.transport import redis as kombu_redis

from fleet.infra.broker import REDIS_TRANSPORT, RedisTransport
from fleet.infra.queue import create_app
from fleet.settings import Settings
from tests.servers import Blackhole, PrivateRedis

pytestmark = pytest.mark.redis


def _holding_a_message(connection: Connection, queue: str) -> object:
    """A channel that took a message and has not acknowledged it."""
    channel = connection.channel()
    bound = Queue(queue, channel=channel)
    bound.declare()
    Producer(channel).publish({"n": 1}, routing_key=queue)
    assert bound.get(no_ack=False) is not None
    return channel


def test_a_connection_closed_while_redis_is_down_closes_every_channel() -> None:
    with PrivateRedis() as server:
        connection = Connection(server.url, transport=RedisTransport)
        connection.connect()
        first = _holding_a_message(connection, "first")
        second = _holding_a_message(connection, "second")
        server.stop()
        # Celery's consumer on "Connection to broker lost": the messages cannot go back.
        connection.close()
        assert getattr(first, "closed", False) and getattr(second, "closed", False)
        # And on its restart it closes what it held again: nothing left to reach Redis.
        for channel in (first, second):
            channel.close()  # type: ignore[attr-defined]


def test_the_fleets_celery_app_uses_it_on_redis_only() -> None:
    on_redis = create_app(Settings(broker_url="redis://127.0.0.1:6379/0"))
    assert on_redis.conf.broker_transport == REDIS_TRANSPORT
    assert on_redis.connection_for_write().transport_cls == REDIS_TRANSPORT
    in_memory = create_app(Settings(broker_url="memory://", redis_url="none"))
    assert in_memory.conf.broker_transport is None


def test_a_publish_to_a_broker_gone_silent_fails_in_bounded_time_and_works_once_healed() -> None:
    """A host cut off from Redis without a reset (``Blackhole``): kombu's Redis client
    waits forever for the answer to a publish unless a socket timeout is set, and Celery's
    default retry policy tries four times on new connections (50 s with a 10 s timeout).
    Fleet's Celery app bounds both: a task's publish, as Celery sends it, fails within
    ``publish_bound_seconds``, far inside the soft time limit, and once the link is back
    a publish goes through on a new connection."""
    with PrivateRedis() as server:
        link = Blackhole(server.port)
        try:
            settings = Settings(broker_url=link.url(), redis_url="none")
            bound = settings.tasks.publish_bound_seconds
            assert bound < settings.tasks.soft_time_limit_seconds / 2
            app = create_app(settings)
            app.send_task("fleet.noop", queue="engage")  # the pool's connection
            link.cut()
            ended: list[BaseException | None] = []

            def publish() -> None:
                try:
                    app.send_task("fleet.noop", queue="engage")
                    ended.append(None)
                except Exception as error:
                    ended.append(error)

            began = time.monotonic()
            publisher = threading.Thread(target=publish, daemon=True)
            publisher.start()
            publisher.join(timeout=bound + 30)
            assert not publisher.is_alive(), "a publish to a silent broker never ended"
            assert ended and ended[0] is not None, "a publish through a cut link succeeded"
            waited = time.monotonic() - began
            link.heal()
            app.send_task("fleet.noop", queue="engage")  # retries on a new connection
            client = redis.Redis.from_url(server.url)
            try:
                # The one before the cut, the one after the heal, and perhaps the failed
                # one's tries: their bytes were held in the link, not lost (Fleet's tasks
                # carry keys: a copy does no second work).
                assert 2 <= client.llen("engage") <= 2 + 2, "the publish after the heal"
            finally:
                client.close()
            # It retried (more than one timeout) and stopped at its bound; a second more
            # for two cores busy with the rest of the suite.
            assert settings.tasks.redis_timeout_seconds < waited < bound + 1, waited
        finally:
            link.close()


# --- TLS brokers (rediss://) and the canary on kombu's own transport ----------------------


def _tls_files(directory: Path) -> tuple[Path, Path, Path]:
    """A certificate authority of the test's own and a certificate for 127.0.0.1 it
    signed: (ca.pem, server.pem, server.key)."""
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fleet test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = directory / "ca.pem", directory / "server.pem", directory / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


class TlsRedis(PrivateRedis):
    """The test's Redis speaking TLS only (``rediss://``), its certificate signed by a
    certificate authority of the test's own (``ca``)."""

    def __init__(self) -> None:
        super().__init__()
        self.ca, certificate, key = _tls_files(self.directory)
        self.url = f"rediss://127.0.0.1:{self.port}/0"
        self.also = (
            *("--port", "0", "--tls-port", str(self.port)),
            *("--tls-cert-file", str(certificate), "--tls-key-file", str(key)),
            *("--tls-ca-cert-file", str(self.ca), "--tls-auth-clients", "no"),
        )
        self.checked_url = f"{self.url}?ssl_cert_reqs=required&ssl_ca_certs={self.ca}"

    def up(self) -> bool:
        client = redis.Redis.from_url(self.checked_url, socket_connect_timeout=0.5)
        try:
            return bool(client.ping())
        except redis.ConnectionError:
            return False
        finally:
            client.close()


def test_the_fleets_celery_app_uses_it_on_tls_redis_with_kombu_s_tls() -> None:
    """rediss:// gets the workaround too, and the TLS kombu gives the scheme: its default
    (encrypted, unchecked, as kombu's) or the URL's own ``ssl_*`` parameters."""
    plain = create_app(Settings(broker_url="rediss://127.0.0.1:6380/0"))
    assert plain.conf.broker_transport == REDIS_TRANSPORT
    connection = plain.connection_for_write()
    assert connection.transport_cls == REDIS_TRANSPORT
    assert connection.ssl == {"ssl_cert_reqs": ssl.CERT_NONE}  # kombu's default for rediss
    checked = create_app(
        Settings(broker_url="rediss://127.0.0.1:6380/0?ssl_cert_reqs=required&ssl_ca_certs=/ca")
    ).connection_for_write()
    assert checked.ssl == {"ssl_cert_reqs": ssl.CERT_REQUIRED, "ssl_ca_certs": "/ca"}


def test_a_tls_connection_closed_while_redis_is_down_closes_every_channel() -> None:
    with TlsRedis() as server:
        app = create_app(Settings(broker_url=server.checked_url, redis_url="none"))
        connection = app.connection_for_write()
        connection.connect()
        assert isinstance(connection.transport, RedisTransport)
        first = _holding_a_message(connection, "first")
        second = _holding_a_message(connection, "second")
        server.stop()
        connection.close()
        assert getattr(first, "closed", False) and getattr(second, "closed", False)
        for channel in (first, second):
            channel.close()  # type: ignore[attr-defined]


def test_canary_kombu_s_own_transport_still_leaves_channels_open_when_redis_is_down() -> None:
    """The workaround's reason, on kombu's stock transport: its close stops at the first
    channel that cannot hand its messages back and leaves the others open, and their next
    close fails on the connection it dropped (kombu#582's error). When this test fails,
    kombu closes them all itself: delete ``fleet.infra.broker`` and its use in
    ``fleet.infra.queue``."""
    with PrivateRedis() as server:
        connection = Connection(server.url, transport=kombu_redis.Transport)
        connection.connect()
        first = _holding_a_message(connection, "first")
        second = _holding_a_message(connection, "second")
        server.stop()
        with contextlib.suppress(Exception):  # Celery ignores connection errors on close
            connection.close()
        left_open = [c for c in (first, second) if not getattr(c, "closed", False)]
        assert left_open, (
            "kombu's stock Redis transport now closes every channel while Redis is down: "
            "fleet.infra.broker's workaround can be deleted (kombu#582)"
        )
        with pytest.raises(AttributeError, match="hostname"):
            for channel in left_open:
                channel.close()  # type: ignore[attr-defined]

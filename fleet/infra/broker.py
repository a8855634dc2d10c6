"""Kombu's Redis transport, closing every channel of a connection even when one fails.

When the broker goes away, Celery's consumer closes its connection. Kombu closes the
connection's channels one by one, and closing a channel first hands its unacknowledged
messages back to Redis; with Redis down that raises a connection error, which stops the
loop: the channels after it stay open. Kombu then drops the transport's link to its
connection (``Transport.client = None``), and the next close of a channel left open
(Celery's consumer restarting) reads ``client.hostname`` to reach Redis: ``AttributeError:
'NoneType' object has no attribute 'hostname'`` in ``Channel.close`` ->
``restore_unacked_once`` -> ``_connparams``, an unrecoverable error that stops the
worker (kombu 5.7; https://github.com/celery/kombu/issues/582 reports the same error on a
channel's close, closed without a fix to the loop). ``tests/infra/test_broker.py`` keeps a
canary on kombu's stock transport: it fails once kombu closes every channel itself, and
then this module and its use in ``fleet.infra.queue`` can go.

Here each channel is closed whatever the others do, and the first error is raised after
(the caller ignores connection errors on close, as before). A channel whose messages could
not be handed back leaves them in Redis's unacknowledged index, where the visibility
timeout returns them, or, when Redis restarted empty, they are gone with everything else
and Fleet's lease sweeper sends their actions again.
"""

from __future__ import annotations

import ssl
from typing import Any

from kombu.transport import redis as kombu_redis

# For ``broker_transport``: the class by its path, as kombu resolves a transport.
REDIS_TRANSPORT = "fleet.infra.broker:RedisTransport"


def tls_defaults() -> dict[str, Any]:
    """The TLS options kombu gives a ``rediss://`` broker whose URL names none (and which
    it gives only when the transport is named by the scheme, not by a class such as
    ``RedisTransport``): encrypted, the certificate not checked (kombu's
    ``Connection._init_params`` warns of it). A URL's ``ssl_*`` parameters take
    precedence: ``?ssl_cert_reqs=required&ssl_ca_certs=/path/ca.pem`` checks it."""
    return {"ssl_cert_reqs": ssl.CERT_NONE}


# A connection holds a few channels; the bound only guards against a close that fails
# before it takes any channel, which would otherwise be tried for ever.
_MAX_CLOSE_ROUNDS = 100


class RedisTransport(kombu_redis.Transport):
    """Kombu's Redis transport whose ``close_connection`` closes every channel."""

    def close_connection(self, connection: Any) -> None:
        # Kombu's loop takes each channel off its lists before closing it: called again
        # after a failure, it goes on with the channels left (no private state read here).
        failed: Exception | None = None
        for _ in range(_MAX_CLOSE_ROUNDS):
            try:
                super().close_connection(connection)
            except Exception as error:  # raised once every channel is closed
                failed = failed or error
            else:
                break
        if failed is not None:
            raise failed

"""The live activity feed: one JSON event per finished action on Redis pub/sub."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import redis

CHANNEL = "fleet:activity"


class ActivityChannel:
    """Publish and follow ``fleet:activity`` (under the broker's key prefix, if any)."""

    def __init__(self, client: redis.Redis, prefix: str = "") -> None:
        self._client = client
        self.name = f"{prefix}{CHANNEL}"

    def publish(self, event: dict[str, Any]) -> None:
        """Send one event; a feed nobody follows costs one command."""
        self._client.publish(self.name, json.dumps(event, default=str))

    def follow(self, *, timeout: float | None = None) -> Iterator[dict[str, Any]]:
        """Events as they come; stops after ``timeout`` seconds without one, if given."""
        pubsub = self._client.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
        pubsub.subscribe(self.name)
        try:
            while True:
                message = pubsub.get_message(timeout=timeout if timeout is not None else 1.0)
                if message is None:
                    if timeout is not None:
                        return
                    continue
                yield json.loads(message["data"])
        finally:
            pubsub.close()

"""The live activity feed: one JSON event per finished action on Redis pub/sub."""

from __future__ import annotations

import json
import time
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
        """Events as they come; stops after ``timeout`` seconds without one, if given.

        A message on the channel that is not an event (not a JSON object) is passed over.
        """
        pubsub = self._client.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
        pubsub.subscribe(self.name)
        quiet_until = None if timeout is None else time.monotonic() + timeout
        try:
            while True:
                wait = 1.0 if quiet_until is None else max(0.0, quiet_until - time.monotonic())
                # None also when the message read was the subscription's confirmation.
                message = pubsub.get_message(timeout=wait)
                if message is None:
                    if quiet_until is not None and time.monotonic() >= quiet_until:
                        return
                    continue
                if timeout is not None:
                    quiet_until = time.monotonic() + timeout
                event = _event(message["data"])
                if event is not None:
                    yield event
        finally:
            pubsub.close()


def gist(event: dict[str, Any]) -> str:
    """What a person reads of an event's detail: why it was skipped or failed, the
    thought a browse had, or the post it made or engaged with."""
    detail = event.get("detail") or {}
    if detail.get("reason"):
        return str(detail["reason"])
    if detail.get("thought"):
        return str(detail["thought"])
    if detail.get("post_id"):
        return f"post {detail['post_id']}"
    return ""


def _event(data: bytes | str) -> dict[str, Any] | None:
    try:
        event = json.loads(data)
    except ValueError:
        return None
    return event if isinstance(event, dict) else None

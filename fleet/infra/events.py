"""The live activity feed: one JSON event per finished action on Redis pub/sub."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import redis

from fleet.core.kinds import kind_of
from fleet.core.statuses import ActivityStatus

CHANNEL = "fleet:activity"
# How often a follower with a ``stop`` looks at it between messages: a wait on the socket
# (no round trip to Redis), so that a console stops within this, not within a second.
STOP_CHECK_SECONDS = 0.1


class ActivityChannel:
    """Publish and follow ``fleet:activity`` (under the broker's key prefix, if any)."""

    def __init__(self, client: redis.Redis, prefix: str = "") -> None:
        self._client = client
        self.name = f"{prefix}{CHANNEL}"

    def publish(self, event: dict[str, Any]) -> None:
        """Send one event; a feed nobody follows costs one command."""
        self._client.publish(self.name, json.dumps(event, default=str))

    def publish_many(self, events: list[dict[str, Any]]) -> None:
        """Send these events in one round trip (a pipeline, no transaction)."""
        if not events:
            return
        pipe = self._client.pipeline(transaction=False)
        for event in events:
            pipe.publish(self.name, json.dumps(event, default=str))
        pipe.execute()

    def follow(
        self, *, timeout: float | None = None, stop: Callable[[], bool] | None = None
    ) -> Iterator[dict[str, Any]]:
        """Events as they come; stops after ``timeout`` seconds without one, if given, and
        within ``STOP_CHECK_SECONDS`` of ``stop()`` turning true.

        A message on the channel that is not an event (not a JSON object) is passed over.
        """
        pubsub = self._client.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
        pubsub.subscribe(self.name)
        quiet_until = None if timeout is None else time.monotonic() + timeout
        longest = 1.0 if stop is None else STOP_CHECK_SECONDS
        try:
            while stop is None or not stop():
                wait = (
                    longest
                    if quiet_until is None
                    else min(longest, max(0.0, quiet_until - time.monotonic()))
                )
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
    """What happened, in words a person reads: "liked 'Air quality by hour' by
    dataviz_tidyvector · 09:31 local" (the handle is the caller's to put in front)."""
    detail = event.get("detail") or {}
    action, status = str(event.get("action", "?")), str(event.get("status", "?"))
    try:
        verb = kind_of(action).verb
    except ValueError:
        verb = action
    if status != ActivityStatus.SUCCEEDED:
        said = f"{action} {status}"
        if detail.get("reason"):
            said += f": {_clip(str(detail['reason']), 90)}"
    elif action == "browse":
        thought = detail.get("thought")
        said = f"browsed: {_clip(str(thought), 90)}" if thought else "browsed the feed"
    else:
        said = f"{verb} {_what(action, detail)}"
        if detail.get("text"):
            said += f': "{_clip(str(detail["text"]), 70)}"'
    local = event.get("local_time")
    return f"{said} · {local} local" if local else said


def describe(event: dict[str, Any]) -> str:
    """The feed's line: the agent's handle, then what it did (``gist``)."""
    return f"{event.get('handle', '?')} {gist(event)}"


def _what(action: str, detail: dict[str, Any]) -> str:
    title, author = detail.get("title"), detail.get("author")
    if action == "reply":
        about = f" on '{_clip(str(title), 50)}'" if title else ""
        return f"{detail.get('to') or 'a comment'}{about}"
    if title:
        by = f" by {author}" if author else ""
        return f"'{_clip(str(title), 60)}'{by}"
    return f"post {detail.get('post_id', '?')}"


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _event(data: bytes | str) -> dict[str, Any] | None:
    try:
        event = json.loads(data)
    except ValueError:
        return None
    return event if isinstance(event, dict) else None

"""An OpenAI-compatible Chat Completions server of the tests' own (``POST /v1/chat/completions``)
on a free loopback port, on ``tests.messages_api.LocalHTTP``: the ``openai`` SDK through a
real socket.

An answer queued as ``text(...)`` comes back as a chat completion whose usage the server
counts deterministically (``tokens``, ``fleet.content.llm.prompts.estimate_tokens`` unless
given, over every message's text, an image 1,600 tokens; the same count over the
answer); with nothing queued,
``respond(request body)`` writes the answer. ``formats`` are the ``response_format``
types it takes (both by default); another is refused with ``refuse_status`` (400; 500 as
llama.cpp's server does), naming ``response_format``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from fleet.content.llm.prompts import estimate_tokens
from tests.messages_api import IMAGE_TOKENS, Answer, LocalHTTP, Seen, Tokens, _Handler

PATH = "/v1/chat/completions"


def prompt_tokens(body: Mapping[str, Any], tokens: Tokens = estimate_tokens) -> int:
    """The input tokens of a request, as this server bills them."""
    total = 0
    for message in body.get("messages", []):
        content = message.get("content")
        if isinstance(content, str):
            total += tokens(content)
            continue
        for part in content or []:
            if part.get("type") == "text":
                total += tokens(str(part.get("text", "")))
            else:
                total += IMAGE_TOKENS
    return total


class ChatCompletionsAPI(LocalHTTP):
    """Chat Completions, counted as the module's docstring says."""

    def __init__(
        self,
        respond: Callable[[dict[str, Any]], str] | None = None,
        *,
        formats: frozenset[str] = frozenset({"json_schema", "json_object"}),
        refuse_status: int = 400,
        tokens: Tokens = estimate_tokens,
    ) -> None:
        super().__init__()
        self.respond = respond
        self.tokens = tokens
        self.formats = formats
        self.refuse_status = refuse_status
        self.billed: list[dict[str, int]] = []
        self._ids = 0

    def completion(
        self, seen: Seen, text: str, *, finish_reason: str = "stop", refusal: str | None = None
    ) -> dict[str, Any]:
        """The server's answer holding ``text``, with the usage this request is billed."""
        body = seen.json()
        usage = {
            "prompt_tokens": prompt_tokens(body, self.tokens),
            "completion_tokens": self.tokens(text),
        }
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        with self._lock:
            self._ids += 1
            number = self._ids
            self.billed.append(usage)
        return {
            "id": f"chatcmpl-local-{number}",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": body.get("model"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text, "refusal": refusal},
                    "finish_reason": finish_reason,
                }
            ],
            "usage": usage,
        }

    def text(self, text: str, *, finish_reason: str = "stop", refusal: str | None = None) -> Answer:
        """An answer holding ``text``, its usage counted (a ``response_format`` of a type
        the server does not take is refused instead, and this answer kept for the next)."""

        def answer(handler: _Handler, seen: Seen) -> None:
            asked = (seen.json() or {}).get("response_format")
            if asked is not None and asked.get("type") not in self.formats:
                with self._lock:
                    self._answers.appendleft(answer)
                said = f"response_format.type: {asked.get('type')!r} is not supported"
                self.error(self.refuse_status, said)(handler, seen)
                return
            data = self.completion(seen, text, finish_reason=finish_reason, refusal=refusal)
            handler.send(200, json.dumps(data).encode(), {"x-request-id": data["id"]})

        return answer

    @staticmethod
    def error(status: int, message: str, headers: Mapping[str, str] | None = None) -> Answer:
        """An API error; ``{api_key}`` in ``message`` is replaced by the key received."""

        def answer(handler: _Handler, seen: Seen) -> None:
            said = message.replace("{api_key}", seen.api_key)
            body = {"error": {"message": said, "type": "invalid_request_error", "code": None}}
            handler.send(status, json.dumps(body).encode(), dict(headers or {}))

        return answer

    def unqueued(self, handler: _Handler, seen: Seen) -> None:
        if self.respond is not None and (seen.method, seen.path.split("?")[0]) == ("POST", PATH):
            self.text(self.respond(seen.json()))(handler, seen)
            return
        super().unqueued(handler, seen)

    def completions(self) -> list[dict[str, Any]]:
        """The bodies of the Chat Completions requests received."""
        return [seen.json() for seen in self.requests if seen.path.split("?")[0] == PATH]

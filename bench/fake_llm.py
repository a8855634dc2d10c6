"""A fake LLM for benches: Anthropic's Messages API on a loopback port, in-process, that
writes what the offline writer would from what the prompt shows, and nothing else.

``FakeMessagesAPI`` answers ``POST /v1/messages`` as the API does (a message, its usage),
each task as the JSON it asks for (``answer``):

- a plan (``Task: "plan"``): the comments, replies and post its "Write:" line asks, on
  the refs its ``<page>`` and ``<comments>`` rows show (the first ones: a model chooses,
  this one takes them in order), and when it asks for follows the refs of the rows whose
  words meet the persona's interests;
- a comment or a reply (``Task: "comment"``), on the ``<post>`` and ``<comment>`` it
  quotes; a reply asked to say what the agent is answers truthfully;
- a thought on the ``<feed>``, and a post.

Each text is the offline writer's (``fleet.content.offline.writer``) for the persona the system
text names (``Kind of member: ...``), as the agent the request names (``You are ...``,
its seed a hash of that name: one voice per agent, whichever request it writes), shown
only the request's data: the titles, descriptions and comments as quoted (clipped as
the prompt clipped them), the recent texts and memories quoted. So a plan and the
per-action calls write alike from the same data, and differ where their prompts show
different data (a plan's shorter quotes, fewer recent texts).

``serving(plans=...)`` starts it and points the fleet's settings at it (the environment
``fleet.settings`` reads: an Anthropic key, ``FLEET_LLM__BASE_URL``, and
``FLEET_LLM__PLANS``), for a demo built with ``DemoOptions(llm=True)``; both are undone
on leaving. Usage is ``prompts.estimate_tokens`` (the benches that price tokens use
``bench.tokens``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from fleet.content.llm.prompts import estimate_tokens
from fleet.content.offline.writer import OfflineWriter
from fleet.content.port import Author, CommentSeen, PostSeen
from fleet.core.persona import Persona
from fleet.infra.persona_files import PersonaCatalogue

KEY = "bench-fake-llm-key"
MAX_BODY = 1_000_000  # bytes of a request read, at the most

_TASK = re.compile(r'^Task: "(\w+)"', re.M)
_YOU = re.compile(r"^You are (.{1,120}?)(?:, opening the gallery\.|\. )", re.M)
_KIND = re.compile(r"^- Kind of member: (.+)$", re.M)
_WRITE = re.compile(r"^Write: (.*)\.$", re.M)


def _tag(text: str, name: str) -> Any:
    """The JSON quoted between ``<name>`` and ``</name>`` (None: not there, or not JSON);
    the data holds no "<" (``prompts.quote`` escapes it), the instructions may."""
    for found in re.findall(rf"<{name}>([^<]*)</{name}>", text):
        try:
            return json.loads(found)
        except json.JSONDecodeError:
            continue
    return None


def _seed(name: str) -> int:
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=4).digest(), "big")


def _texts(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


_FOLLOWS = re.compile(r'"follows": \[[^\]]*\]:[^\n]*?at most (\d+)')


def _word_set(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+", text.lower()))


def wants(user: str) -> dict[str, int]:
    """How many comments, replies and posts a plan's "Write:" line asks."""
    asked = _WRITE.search(user)
    out = {"comment": 0, "reply": 0, "post": 0}
    for part in asked.group(1).split("; ") if asked else []:
        count, _, what = part.partition(" ")
        kind = "reply" if what.startswith("repl") else what.split("(")[0].split(" ")[0]
        if kind in out and count.isdigit():
            out[kind] = int(count)
    return out


class Responder:
    """The answers: the offline writer's texts on what each request quotes."""

    def __init__(self, catalogue: PersonaCatalogue) -> None:
        self._by_name = {catalogue.get(s).display_name: catalogue.get(s) for s in catalogue.slugs()}
        self._offline = OfflineWriter()

    def _persona(self, system: str) -> Persona:
        kind = _KIND.search(system)
        if kind is None or kind.group(1).strip() not in self._by_name:
            raise ValueError("the system text names no known persona")
        return self._by_name[kind.group(1).strip()]

    @staticmethod
    def _author(user: str) -> Author:
        you = _YOU.search(user)
        name = you.group(1) if you else "someone"
        return Author(
            f"agent-{_seed(name)}",
            name,
            seed=_seed(name),
            recent_texts=_texts(_tag(user, "recent")),
            memories=_texts(_tag(user, "memories")),
        )

    def answer(self, system: str, user: str) -> str:
        """The JSON a request's task asks for."""
        persona = self._persona(system)
        author = self._author(user)
        nonce = _seed(user)
        task = _TASK.search(user)
        kind = task.group(1) if task else ""
        if kind == "plan":
            return json.dumps(self._plan(persona, author, user, nonce))
        if kind == "comment":
            return json.dumps({"comment": self._comment(persona, author, user, nonce)})
        if kind == "thought":
            feed = _tag(user, "feed") or []
            seen = [
                PostSeen(f"f{n}", str(p.get("title", "")), "", str(p.get("author", "")), False)
                for n, p in enumerate(feed)
                if isinstance(p, dict)
            ]
            return json.dumps(
                {"thought": self._offline.think(persona, author, seen, nonce=nonce).text}
            )
        return json.dumps(self._post(persona, author, nonce))

    def _post(self, persona: Persona, author: Author, nonce: int) -> dict[str, str]:
        draft = self._offline.write_post(persona, author, nonce=nonce)
        return {
            "image_prompt": draft.image_prompt,
            "style": draft.style,
            "caption": draft.title,
            "description": draft.description,
        }

    def _comment(self, persona: Persona, author: Author, user: str, nonce: int) -> str:
        post = _tag(user, "post") or {}
        said = _tag(user, "comment")
        title, description = str(post.get("title", "")), str(post.get("description", ""))
        answering = None
        own = "your own post" in user
        if isinstance(said, dict):
            answering = CommentSeen(
                f"c{_seed(str(said))}",
                str(said.get("comment", "")),
                str(said.get("author", "someone")),
                False,
                asks_identity="Answer truthfully" in user,
            )
        seen = PostSeen(
            f"p{_seed(title + description)}",
            title,
            description,
            author.handle if own else str(post.get("author", "someone")),
            False,
            answering=answering,
        )
        return self._offline.write_comment(persona, author, seen, nonce=nonce).text

    def _plan(self, persona: Persona, author: Author, user: str, nonce: int) -> dict[str, Any]:
        want = wants(user)
        body: dict[str, Any] = {}
        rows = [r for r in _tag(user, "page") or [] if isinstance(r, list) and len(r) >= 3]
        if want["comment"]:
            body["comments"] = []
            for ref, title, description in (r[:3] for r in rows[: want["comment"]]):
                seen = PostSeen(
                    f"p{_seed(str(title) + str(description))}",
                    str(title),
                    str(description),
                    "someone",
                    False,
                )
                # Each item its own draw, as a model writing several texts in one answer
                # varies them (one nonce for all would repeat a template across them).
                text = self._offline.write_comment(
                    persona, author, seen, nonce=_seed(f"{nonce}:{ref}")
                ).text
                body["comments"].append({"to": str(ref), "text": text})
        said = [r for r in _tag(user, "comments") or [] if isinstance(r, list) and len(r) >= 3]
        if want["reply"]:
            body["replies"] = []
            for ref, title, comment in (r[:3] for r in said[: want["reply"]]):
                seen = PostSeen(
                    f"p{_seed(str(title))}",
                    str(title),
                    "",
                    author.handle,
                    False,
                    answering=CommentSeen(
                        f"c{_seed(str(comment))}", str(comment), "someone", False
                    ),
                )
                text = self._offline.write_comment(
                    persona, author, seen, nonce=_seed(f"{nonce}:{ref}")
                ).text
                body["replies"].append({"to": str(ref), "text": text})
        if want["post"]:
            body["post"] = self._post(persona, author, nonce)
        asked = _FOLLOWS.search(user)
        if asked:
            # Whom to follow: the authors of the rows whose words meet the persona's
            # interests, in order, at most as many as asked (often none).
            liked = {w for i in persona.interests for w in _word_set(i) if len(w) > 3}
            body["follows"] = [str(r[0]) for r in rows if _word_set(f"{r[1]} {r[2]}") & liked][
                : int(asked.group(1))
            ]
        return body


def _system_text(body: Mapping[str, Any]) -> str:
    system = body.get("system")
    if isinstance(system, list):
        return "\n".join(str(b.get("text", "")) for b in system if isinstance(b, dict))
    return str(system or "")


def _user_text(body: Mapping[str, Any]) -> str:
    """The first user message's text (a repair's note after it is not read)."""
    for message in body.get("messages", []):
        content = message.get("content")
        if isinstance(content, str):
            return content
        return "\n".join(str(p.get("text", "")) for p in content or [] if isinstance(p, dict))
    return ""


def _kind(user: str) -> str:
    """What a request asks for: plan, comment, reply, thought, post (else other)."""
    task = _TASK.search(user)
    kind = task.group(1) if task else "other"
    if kind == "comment" and _tag(user, "comment") is not None:
        return "reply"
    return kind if kind in ("plan", "comment", "thought", "post") else "other"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def do_POST(self) -> None:
        length = min(int(self.headers.get("content-length") or 0), MAX_BODY)
        body = json.loads(self.rfile.read(length) or b"{}")
        if self.path.split("?")[0] != "/v1/messages":
            self._send(
                404, {"type": "error", "error": {"type": "not_found_error", "message": "no"}}
            )
            return
        system, user = _system_text(body), _user_text(body)
        try:
            text = self.server.responder.answer(system, user)
        except ValueError as error:
            self._send(
                400,
                {
                    "type": "error",
                    "error": {"type": "invalid_request_error", "message": str(error)},
                },
            )
            return
        with self.server.lock:
            self.server.calls[_kind(user)] += 1
        self._send(
            200,
            {
                "id": "msg_bench_fake",
                "type": "message",
                "role": "assistant",
                "model": body.get("model"),
                "content": [{"type": "text", "text": text}],
                "stop_reason": "end_turn",
                "stop_sequence": None,
                "usage": {
                    "input_tokens": estimate_tokens(system) + estimate_tokens(user),
                    "output_tokens": estimate_tokens(text),
                },
            },
        )

    def _send(self, status: int, data: object) -> None:
        raw = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    responder: Responder
    lock: threading.Lock
    calls: dict[str, int]


class FakeMessagesAPI:
    """The fake on a free loopback port, on a thread; ``calls`` counts requests by task."""

    def __init__(self, catalogue: PersonaCatalogue | None = None) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.responder = Responder(catalogue or PersonaCatalogue.from_directory())
        self._server.lock = threading.Lock()
        self._server.calls = dict.fromkeys(
            ("plan", "comment", "reply", "thought", "post", "other"), 0
        )
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def calls(self) -> dict[str, int]:
        with self._server.lock:
            return dict(self._server.calls)

    def __enter__(self) -> FakeMessagesAPI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


@contextmanager
def serving(*, plans: bool) -> Iterator[FakeMessagesAPI]:
    """The fake, running, and the environment pointing the fleet's settings at it (the
    Anthropic writer, plans on or off); the environment as it was after."""
    names = ("ANTHROPIC_API_KEY", "FLEET_LLM__PROVIDER", "FLEET_LLM__BASE_URL", "FLEET_LLM__PLANS")
    before = {name: os.environ.get(name) for name in names}
    with FakeMessagesAPI() as api:
        os.environ.update(
            {
                "ANTHROPIC_API_KEY": KEY,
                "FLEET_LLM__PROVIDER": "anthropic",
                "FLEET_LLM__BASE_URL": api.url,
                "FLEET_LLM__PLANS": "true" if plans else "false",
            }
        )
        try:
            yield api
        finally:
            for name, value in before.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value

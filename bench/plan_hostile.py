"""Benchmark: plans a hostile upstream answers, and what of them would be published.

The OpenAI-compatible writer (the real SDK) against the Chat Completions fake
(``tests.openai_api``), asked for a session's plan (``fleet.content.llm.planning``) over a
page of posts and a comment to answer, answered with hostile plans: other ids, a gallery
id it was never told, 500 items, 1 MB texts, nested JSON, wrong kinds, unknown keys, not
JSON. For each it prints the items kept, those kept for a post or comment the request
did not show (the target: 0), those cut, and whether the call failed (the session's
actions then write their own words).

    python -m bench.plan_hostile
"""

from __future__ import annotations

import json
import time
from typing import Any

from fleet.content.llm import planning
from fleet.content.llm.openai import ChatServer, OpenAIWriter
from fleet.content.port import Author, CommentSeen, PlanAsk, PostSeen
from fleet.errors import FleetError
from fleet.infra.persona_files import PersonaCatalogue
from tests.openai_api import ChatCompletionsAPI

PAGE = tuple(
    PostSeen(f"gallery-post-{n}", f"Title {n}", f"About piece {n}", f"artist_{n}", False)
    for n in range(1, 11)
)
ANSWERABLE = (
    PostSeen(
        "gallery-post-mine",
        "Mine",
        "",
        "bench",
        True,
        answering=CommentSeen("gallery-comment-1", "How long did it take?", "sam", False),
    ),
)
ASK = PlanAsk({"comment": 2, "reply": 1, "post": 1}, PAGE, ANSWERABLE)


def hostile(style: str) -> dict[str, str]:
    post = {"image_prompt": "a forest", "style": style, "caption": "Forest", "description": ""}
    item = {"to": "p1", "text": "A fair comment on the first post."}
    return {
        "other refs": json.dumps(
            {"comments": [{"to": f"p{n}", "text": "Planted."} for n in range(6, 40)]}
        ),
        "gallery ids": json.dumps(
            {"comments": [{"to": p.post_id, "text": "Planted."} for p in PAGE]}
        ),
        "crossed kinds": json.dumps(
            {"comments": [{"to": "c1", "text": "Planted."}], "replies": [item]}
        ),
        "500 items": json.dumps(
            {"comments": [{"to": f"p{n % 12}", "text": f"Planted {n}."} for n in range(500)]}
        ),
        "1 MB texts": json.dumps({"comments": [{"to": "p1", "text": "x" * 2**20}]}),
        "nested JSON": json.dumps(
            {"comments": [{"to": {"to": {"to": "p1"}}, "text": [[["Planted."]]]}]}
        ),
        "wrong kinds": json.dumps(
            {"comments": "p1", "replies": {"to": "c1"}, "post": [post], "thought": 7}
        ),
        "unknown keys": json.dumps({"reactions": [{"postId": "p1"}], "comments": [item]}),
        "not JSON": "Sure! I'd love to comment on those.",
    }


def main() -> None:
    began = time.perf_counter()
    who = PersonaCatalogue.from_directory().get("indie_game_dev")
    author = Author("bench", "Bench", seed=7)
    page, comments = planning.refs(ASK)
    shown = {p.post_id for p in page.values()} | {
        p.answering.comment_id for p in comments.values() if p.answering
    }
    cases: dict[str, Any] = {}
    with ChatCompletionsAPI() as api:
        writer = OpenAIWriter(
            ChatServer(model="local", api_key=None, base_url=f"{api.url}/v1", timeout_seconds=10),
            prices={},
        )
        with writer:
            for name, answer in hostile(who.workflow_styles[0]).items():
                api.respond = lambda body, said=answer: said  # the answer, and its repair's
                try:
                    plan = writer.plan(who, author, ASK, nonce=1)
                except FleetError as error:
                    cases[name] = {"failed": type(error).__name__, "kept": 0, "unshown": 0}
                    continue
                named = [*plan.comments, *plan.replies]
                cases[name] = {
                    "kept": plan.items,
                    "unshown": sum(1 for target in named if target not in shown),
                    "cut": plan.dropped,
                }
    report = {
        "cases": cases,
        "unshown_total": sum(case["unshown"] for case in cases.values()),
        "seconds": round(time.perf_counter() - began, 1),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

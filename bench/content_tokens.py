"""Benchmark: the tokens of each persona's prompts, and the offline writer's variety.

Prints JSON with, per persona:
- the estimated input and output tokens of a post, a comment and a thought (medians over
  ``--samples`` nonces, an author with five recent texts, posts from the other personas
  as the posts commented on), and the share of the input that is the cacheable system
  prompt;
- the dollar cost of one post and one comment at the configured model's price, uncached;
- the offline writer's distinct share over 1,000 captions: one author over nonces 0-999,
  and 1,000 authors at one nonce.

Tokens are estimated offline, no network and no tokenizer download: a word counts one
token per four letters (rounded up), a number one per three digits, any other visible
character one (``fleet.content.prompts.estimate_tokens``). The plain characters / 4 rule
is printed beside it. Output tokens are the offline writer's answers rendered as the JSON
the model is asked for. An attached image is not counted (Claude bills about
width x height / 750 tokens for it, some 1,400 for a 1024 x 1024 image).

    python -m bench.content_tokens [--samples 200]
"""

from __future__ import annotations

import argparse
import json
import statistics

from fleet.content import prompts
from fleet.content.anthropic_writer import price_for, prices_from_settings
from fleet.content.offline import OfflineWriter, captions, distinct_share
from fleet.content.port import Author, PostSeen
from fleet.infra.persona_files import PersonaCatalogue
from fleet.settings import LLMSettings


def _median(values: list[int]) -> int:
    return round(statistics.median(values))


def main() -> None:
    """Print the token estimates and distinct shares as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--samples", type=int, default=200)
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
            "distinct_captions_one_author_1000_nonces": distinct_share(captions(who, 1000)),
            "distinct_captions_1000_authors": distinct_share(
                [
                    writer.write_post(who, Author("b", "B", seed=s), nonce=1).title
                    for s in range(1000)
                ]
            ),
        }
    result["personas"] = personas
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

"""Benchmark: do the offline writer's comments answer their post, in good grammar?

Posts are written by the offline writer itself, ``--posts`` per persona (author seed and
nonce vary); every persona comments on every post, so ``6 x 6 x --posts`` comments (1,080
by default). Printed as JSON:

- ``naming_share``: the share of comments that name a content word of the post they
  answer: a word of three letters or more of the post's title or description that is not
  a stop word and not one of the commenter's habits (a word found in more than a tenth
  of its comments, whatever the post: "palette", "spot", "colours" said by the template,
  not read from the post). Target: at least 0.9.
- ``flagged_share``: the share the rule-based proofreader (``fleet.content.offline.proofread``)
  flags, with examples. Target: 0.
- the same two figures by commenter and by poster.

    python -m bench.comments [--posts 30] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from fleet.content.offline.proofread import Lexicon, lexicon, problems
from fleet.content.offline.writer import OfflineWriter
from fleet.content.port import Author, PostSeen
from fleet.infra.persona_files import PersonaCatalogue

STOP = frozenset(
    [
        "the",
        "and",
        "for",
        "with",
        "from",
        "this",
        "that",
        "these",
        "those",
        "into",
        "over",
        "under",
        "about",
        "your",
        "our",
        "their",
        "its",
        "his",
        "her",
        "one",
        "more",
        "some",
        "just",
        "really",
        "very",
        "still",
        "again",
        "first",
        "last",
        "day",
        "today",
        "tonight",
        "what",
        "how",
        "why",
        "when",
        "who",
        "which",
        "not",
        "yes",
        "you",
        "they",
        "them",
        "than",
        "then",
        "also",
        "too",
        "was",
        "were",
        "are",
        "has",
        "have",
        "had",
        "been",
        "being",
        "will",
        "would",
        "could",
        "should",
        "can",
        "may",
        "might",
        "must",
        "made",
        "make",
        "take",
        "edition",
        "version",
        "shot",
        "look",
        "new",
    ]
)
HABIT = 0.1  # a word in more than this share of a commenter's comments is its own habit


@dataclass(frozen=True, slots=True)
class Sample:
    """One comment on one post."""

    poster: str
    commenter: str
    post: PostSeen
    comment: str


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z][a-z'-]*[a-z]", text.lower()) if len(w) >= 3}


def sample(catalogue: PersonaCatalogue, posts: int, seed: int) -> list[Sample]:
    """Every persona's comment on ``posts`` offline posts of every persona."""
    writer = OfflineWriter()
    feed: list[tuple[str, PostSeen]] = []
    for slug in catalogue.slugs():
        for n in range(posts):
            author = Author(f"{slug}_{n}", slug, seed=seed * 1_000_003 + n)
            draft = writer.write_post(catalogue.get(slug), author, nonce=seed + n)
            feed.append((slug, PostSeen(f"{slug}-{n}", draft.title, draft.description, "x", True)))
    out = []
    for i, (poster, post) in enumerate(feed):
        for commenter in catalogue.slugs():
            author = Author(f"{commenter}_c", commenter, seed=seed + i)
            text = writer.write_comment(catalogue.get(commenter), author, post, nonce=i).text
            out.append(Sample(poster, commenter, post, text))
    return out


def habits(samples: Iterable[Sample]) -> dict[str, set[str]]:
    """The words each commenter uses whatever the post (in over ``HABIT`` of its comments)."""
    counts: dict[str, Counter[str]] = {}
    totals: Counter[str] = Counter()
    for s in samples:
        counts.setdefault(s.commenter, Counter()).update(_words(s.comment))
        totals[s.commenter] += 1
    return {
        who: {w for w, n in words.items() if n > HABIT * totals[who]}
        for who, words in counts.items()
    }


def names_the_post(s: Sample, habit: set[str]) -> bool:
    """Whether the comment has a content word of the post it answers."""
    content = _words(f"{s.post.title} {s.post.description}") - STOP - habit
    return bool(content & _words(s.comment))


def measure(samples: list[Sample], lex: Lexicon) -> dict[str, object]:
    """Naming and flagged shares, overall, by commenter and by poster, with examples."""
    habit = habits(samples)
    named = [names_the_post(s, habit[s.commenter]) for s in samples]
    flags = [problems(s.comment, lex) for s in samples]

    def shares(key: str) -> dict[str, dict[str, float]]:
        groups: dict[str, list[int]] = {}
        for i, s in enumerate(samples):
            groups.setdefault(getattr(s, key), []).append(i)
        return {
            g: {
                "naming_share": round(sum(named[i] for i in ix) / len(ix), 4),
                "flagged_share": round(sum(bool(flags[i]) for i in ix) / len(ix), 4),
            }
            for g, ix in sorted(groups.items())
        }

    return {
        "comments": len(samples),
        "naming_share": round(sum(named) / len(samples), 4),
        "flagged_share": round(sum(bool(f) for f in flags) / len(samples), 4),
        "by_commenter": shares("commenter"),
        "by_poster": shares("poster"),
        "unnamed_examples": [
            {"post": s.post.title, "comment": s.comment}
            for s, ok in zip(samples, named, strict=True)
            if not ok
        ][:5],
        "flagged_examples": [
            {"comment": s.comment, "flags": f} for s, f in zip(samples, flags, strict=True) if f
        ][:8],
    }


def main() -> None:
    """Print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--posts", type=int, default=30, help="posts per persona")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    catalogue = PersonaCatalogue.from_directory()
    samples = sample(catalogue, args.posts, args.seed)
    result = {
        "method": "offline posts of every persona, a comment of every persona on each; "
        "named: shares a content word (not a stop word, not a commenter's habit) with the "
        "post's title or description; flagged: fleet.content.offline.proofread finds a problem",
        "posts": args.posts * len(catalogue),
        "seed": args.seed,
        "targets": {"naming_share": ">= 0.9", "flagged_share": "0"},
        **measure(samples, lexicon(catalogue)),
    }
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()

"""The offline writer's variety and identity, measured with the embedded e5 model.

For agents of every persona, writes posts and comments (on other agents' posts and on
people's posts) in an interleaved order, each agent keeping its last 20 texts as the
fleet does, then prints as JSON:

- near-duplicate shares (cosine >= 0.92 against an earlier bot text of the same kind),
  for posts and comments, over the whole fleet;
- identity: an agent's posts' mean cosine to its own other posts, to its persona-mates'
  posts, and the margin (issue 28's target: >= 0.02).

    python -m bench.voices [--agents 8] [--posts 100] [--comments 200]
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

import fleet
from fleet.content.offline.writer import OfflineWriter
from fleet.content.port import Author, PostSeen
from fleet.embeddings.local import LocalEmbedder
from fleet.infra.persona_files import load_persona

PERSONAS = Path(fleet.__file__).resolve().parent / "personas"

NEAR_DUPLICATE = 0.92
# People's posts, as newcomers write them.
PEOPLE = (
    (
        "Wireframe for our tennis club's booking page",
        "Members keep double-booking court 3. How would you show which slots are taken?",
    ),
    ("My cat Miso asleep on the radiator", "She has claimed it for the winter. Shot on my phone."),
    ("Running log, week 6", "Went from 5 km to 12 km this month. Trying to chart the distances."),
    ("First try at pixel art", "A tiny knight, 32x32. The shading is hard, any tips?"),
    ("Bakery logo sketch", "For my sister's bakery in Leeds. Is the wheat too busy?"),
    ("Sunset over the harbour", "Taken from the ferry last night, no edits."),
    ("Heatmap of my sleep", "Six months of data from my watch. Weekends are a mess."),
    ("Product shot of a handmade mug", "Glazed it myself, struggling with the reflections."),
    ("Poster for a local gig", "Friday at The Crown. Still unsure about the font."),
    ("Watercolour of my grandmother's garden", "Painted from an old photo of her roses."),
)


def _text(title: str, description: str) -> str:
    return f"{title}. {description}".strip()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--agents", type=int, default=8)
    parser.add_argument("--posts", type=int, default=100, help="per persona")
    parser.add_argument("--comments", type=int, default=200, help="per persona")
    args = parser.parse_args()
    personas = [load_persona(p) for p in sorted(PERSONAS.glob("*.toml"))]
    writer = OfflineWriter()
    rng = random.Random(7)
    agents = [
        (persona, Author(handle=f"{persona.slug}{i}", display_name=f"A{i}", seed=1000 * k + i))
        for k, persona in enumerate(personas)
        for i in range(args.agents)
    ]
    recent: dict[str, list[str]] = defaultdict(list)
    posts: list[tuple[str, str, PostSeen]] = []  # (handle, persona slug, seen)
    comments: list[str] = []
    budget = {"post": args.posts * len(personas), "comment": args.comments * len(personas)}
    started = time.perf_counter()
    nonce = 0
    while budget["post"] or budget["comment"]:
        nonce += 1
        persona, author = rng.choice(agents)
        author = Author(
            author.handle, author.display_name, author.seed, tuple(recent[author.handle][-20:])
        )
        kind = (
            "post"
            if budget["post"] and (not budget["comment"] or rng.random() < 1 / 3)
            else "comment"
        )
        budget[kind] -= 1
        if kind == "post" or not posts:
            draft = writer.write_post(persona, author, nonce=nonce)
            text = _text(draft.title, draft.description)
            posts.append(
                (
                    author.handle,
                    persona.slug,
                    PostSeen(str(nonce), draft.title, draft.description, author.handle, True),
                )
            )
        else:
            if rng.random() < 0.3:
                title, description = rng.choice(PEOPLE)
                seen = PostSeen(str(nonce), title, description, "person", False)
            else:
                seen = rng.choice(posts[-40:])[2]
            text = writer.write_comment(persona, author, seen, nonce=nonce).text
            comments.append(text)
        recent[author.handle].append(text)
    writing_ms = (time.perf_counter() - started) * 1000
    embedder = LocalEmbedder()

    def near_duplicates(texts: list[str]) -> float:
        matrix = np.stack(embedder.embed(texts))
        similar = matrix @ matrix.T
        hits = sum(1 for i in range(1, len(texts)) if float(similar[i, :i].max()) >= NEAR_DUPLICATE)
        return round(hits / len(texts), 3)

    post_texts = [_text(seen.title, seen.description) for _, _, seen in posts]
    vectors = np.stack(embedder.embed(post_texts))
    by_agent: dict[str, list[int]] = defaultdict(list)
    for index, (handle, _, _) in enumerate(posts):
        by_agent[handle].append(index)
    persona_of = {handle: slug for handle, slug, _ in posts}
    own_scores, mate_scores = [], []
    for handle, indices in by_agent.items():
        if len(indices) < 2:
            continue
        mates = [
            i
            for h, ix in by_agent.items()
            if h != handle and persona_of[h] == persona_of[handle]
            for i in ix
        ]
        own = vectors[indices]
        pair = own @ own.T
        n = len(indices)
        own_scores.append(float((pair.sum() - np.trace(pair)) / (n * (n - 1))))
        mate_scores.append(float((own @ vectors[mates].T).mean()))
    out = {
        "posts": len(posts),
        "comments": len(comments),
        "near_duplicate_posts": near_duplicates(post_texts),
        "near_duplicate_comments": near_duplicates(comments),
        "identity_own_similarity": round(float(np.mean(own_scores)), 4),
        "identity_mates_similarity": round(float(np.mean(mate_scores)), 4),
        "identity_margin": round(float(np.mean(own_scores) - np.mean(mate_scores)), 4),
        "writing_ms_per_text": round(writing_ms / (len(posts) + len(comments)), 3),
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()

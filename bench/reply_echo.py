"""bench.reply_echo: where to set the no-echo guard for replies (issue 54).

Short texts sit closer together in embedding space than long ones: two different
thank-you notes can be nearer than two different comments. So the threshold of the
no-echo check for replies is calibrated on replies people write under their own posts
(``PEOPLE_REPLIES``: varied, as in a gallery's threads; each a different answer to a
different comment) and on the offline writer's replies to the same comments.

For each threshold it prints, with multilingual-e5-small (the bench's embedder), the
share of people's replies that the check would refuse (its nearest earlier reply at or
above the threshold: the false alarms), and the share of the fleet's replies written
without the check that it would refuse. ``python -m bench.reply_echo`` prints JSON.
"""

from __future__ import annotations

import json
import sys

import numpy as np

from bench.community import PEOPLE_COMMENTS as COMMENTS
from fleet.content.guard.guard import ContentGuard, ContentSkipped, guarded_comment
from fleet.content.offline.writer import OfflineWriter
from fleet.content.port import Author, CommentSeen, PostSeen
from fleet.core.memory import Echo
from fleet.embeddings.local import LocalEmbedder
from fleet.infra.persona_files import PersonaCatalogue

# Replies people write to comments on their own posts: thanks, answers, pushback.
PEOPLE_REPLIES = (
    "@mia thank you! The light was pure luck, it was 7am and I just ran outside.",
    "@tom_r about three evenings, most of it spent on the reflections.",
    "@jules haha yes, more cats coming, she refuses to leave the windowsill.",
    "@sam_k thanks so much!",
    "@anna.b I used Procreate with a gouache brush pack, nothing special.",
    "@leo good point about the crop, I'll try a tighter one.",
    "@kim_s thank you, that means a lot coming from you.",
    "@rosa_v not yet, but I'm thinking of printing a small batch.",
    "@dev_n fair, the left side is a bit empty. Intentional, but maybe too much.",
    "@mia thanks! Honestly it took forever to get the teal right.",
    "@ollie it's a 50mm at f/1.8, and a lot of waiting for the clouds.",
    "@pat thank you! Glad it made you smile.",
    "@zoe_l I'll post a process video next week if people want it.",
    "@max thanks, I was worried the text was too small.",
    "@jen_h yes it's part of a series, this is number four.",
    "@tom_r cheers!",
    "@noor thank you so much, I almost didn't post it.",
    "@sven haha the cape was the hardest part, six redraws.",
    "@liv good question, I went with Inter because it's free.",
    "@kai you're right, the contrast on the button is low. Fixing it.",
    "@ana thanks! It's my grandmother's garden actually.",
    "@rob I didn't, but now I want to try that.",
    "@mia thanks again for always stopping by!",
    "@lena ha, thank you, the colours were a happy accident.",
    "@jo three screens felt like a lot to me too, I'll merge two of them.",
    "@sam_k thank you!! made my day",
    "@eli mostly Blender, then a bit of painting over in Krita.",
    "@ivy I'm not sure yet, maybe a zine at the end of the year?",
    "@finn oh good eye, the shadow direction is off. Will fix.",
    "@dana thanks for the kind words :)",
    "@hugo it started as a doodle in a meeting, don't tell my boss.",
    "@mara yes! The date is in bold now, thanks for flagging it.",
    "@tess thank you, I appreciate it.",
    "@ben the waves took a lot of overpainting, prompts alone never got them wet.",
    "@cleo glad you like it, the palette is from an old travel poster.",
    "@raj it's 32x32, I'll share the sprite sheet on Friday.",
    "@nina thanks, that's really kind.",
    "@uma I've been doing one a day since January, so about 300 now.",
    "@gus honestly no idea, I just kept going until it felt done.",
    "@ada thank you! I'll keep that in mind for the next one.",
)
THRESHOLDS = (0.88, 0.90, 0.92, 0.94, 0.96)
# The threshold the bench judges by (``bench.community``: near-duplicate at >= 0.92).
NEAR_DUPLICATE = 0.92


# The fleet's replies written through the check, at these thresholds.
CHECKED = 300
CHECKED_AT = (0.92, 0.935)


def nearest_earlier(matrix: np.ndarray) -> np.ndarray:
    """For each text after the first, the cosine of its nearest earlier text."""
    similar = matrix @ matrix.T
    return np.array([float(similar[i, :i].max()) for i in range(1, len(matrix))])


def fleet_replies(count: int) -> list[str]:
    """The offline writer's replies to ``COMMENTS`` by many agents, without the check."""
    personas = list(PersonaCatalogue.from_directory())
    writer, said = OfflineWriter(), []
    for n in range(count):
        handle = f"agent_{n % 72}"
        comment = CommentSeen(f"c{n}", COMMENTS[n % len(COMMENTS)], f"person_{n % 31}", False)
        post = PostSeen("p", "Night Grid", "", handle, True, answering=comment)
        author = Author(handle, handle, n % 72, fleet_recent=tuple(said[::-1][:200]))
        said.append(writer.write_comment(personas[n % len(personas)], author, post, nonce=n).text)
    return said


def checked_replies(
    embedder: LocalEmbedder, count: int, threshold: float
) -> tuple[list[str], int, int]:
    """The offline writer's replies through the guard and the no-echo check at
    ``threshold`` against every reply checked before, as the fleet writes them: 72 agents
    of every persona, each on posts of its own, answering people's comments (half),
    fellow agents' comments (a third) and answers to their own comments (the rest).
    The replies kept, how many were skipped, and how many drafts were checked."""
    personas = list(PersonaCatalogue.from_directory())
    writer, guard = OfflineWriter(), ContentGuard()
    said: list[str] = []
    kept: list[np.ndarray] = []
    drafts = skipped = 0

    def echo(text: str) -> Echo | None:
        nonlocal drafts
        drafts += 1
        vector = embedder.embed([text])[0]
        closest = float(np.max(np.stack(kept) @ vector)) if kept else 0.0
        return Echo(closest, "") if closest >= threshold else None

    for n in range(count):
        agent = n % 72
        persona = personas[agent % len(personas)]
        handle = f"{persona.slug[:6]}_{agent}"
        author = Author(handle, handle, agent, fleet_recent=tuple(said[::-1][:60]))
        own = writer.write_post(persona, Author(handle, handle, agent), nonce=n // 72)
        roll = n % 6
        if roll < 3:
            comment = CommentSeen(
                f"c{n}", COMMENTS[(n * 7) % len(COMMENTS)], f"person_{n % 31}", False
            )
            post = PostSeen("p", own.title, own.description, handle, True, answering=comment)
        elif roll < 5:
            other = personas[(agent + 1) % len(personas)]
            peer = Author(f"peer_{n % 72}", "Peer", (agent + 7) % 72)
            seen = PostSeen("p", own.title, own.description, handle, True)
            text = writer.write_comment(other, peer, seen, nonce=n).text
            comment = CommentSeen(f"c{n}", text, peer.handle, True)
            post = PostSeen("p", own.title, own.description, handle, True, answering=comment)
        else:  # someone answered the agent's comment under their post
            comment = CommentSeen(f"c{n}", PEOPLE_REPLIES[n % len(PEOPLE_REPLIES)], "owner", False)
            post = PostSeen("p", "Harbour at dawn", "", "owner", False, answering=comment)
        try:
            draft = guarded_comment(
                writer,
                guard,
                persona,
                author,
                post,
                nonce=n,
                fleet_recent=said[::-1][:200],
                echo=echo,
            )
        except ContentSkipped:
            skipped += 1
            continue
        said.append(draft.text)
        kept.append(embedder.embed([draft.text])[0])
    return said, skipped, drafts


def main() -> int:
    embedder = LocalEmbedder()
    people = nearest_earlier(np.stack(embedder.embed(list(PEOPLE_REPLIES))))
    written = np.stack(embedder.embed(fleet_replies(240)))
    fleet = nearest_earlier(written)
    fleet_40 = nearest_earlier(written[: len(PEOPLE_REPLIES)])
    out = {
        "people_replies": len(PEOPLE_REPLIES),
        "people_nearest_median": round(float(np.median(people)), 3),
        "fleet_nearest_median": round(float(np.median(fleet)), 3),
        "refused_share": {
            f"{t:.2f}": {
                "people": round(float((people >= t).mean()), 3),
                "fleet_first_40": round(float((fleet_40 >= t).mean()), 3),
                "fleet": round(float((fleet >= t).mean()), 3),
            }
            for t in THRESHOLDS
        },
    }
    for threshold in CHECKED_AT:
        said, skipped, drafts = checked_replies(embedder, CHECKED, threshold)
        nearest = nearest_earlier(np.stack(embedder.embed(said)))
        bodies = [" ".join(t.split(" ", 1)[-1].lower().split()) for t in said]
        out[f"checked_at_{threshold:.3f}"] = {
            "replies": CHECKED,
            "skipped_share": round(skipped / CHECKED, 3),
            "drafts_per_reply": round(drafts / CHECKED, 2),
            "near_duplicate_share": round(float((nearest >= NEAR_DUPLICATE).mean()), 3),
            "exact_repeats": len(bodies) - len(set(bodies)),
            "sample": said[-6:],
        }
    json.dump(out, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

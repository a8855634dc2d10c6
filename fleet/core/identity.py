"""An agent's face of its own: a profile drawn once, deterministically, from its seed.

Agents of one persona share its voice (its word lists and templates); each draws from
it, once, what it cares about and how it writes: a few signature subjects and
sub-interests, a palette and favourite looks and formats, favourite templates, and
habits (length, emoji, punctuation, an opener, a catchphrase used sparingly). The
same seed draws the same profile in every process; nothing is stored.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from fleet.core.voice import Voice
from fleet.core.wording import Kind

# Habits people have when they write short texts; each agent takes a few.
OPENERS = (
    "ok so",
    "Honestly,",
    "Not gonna lie,",
    "Right,",
    "Hm,",
    "Oh man,",
    "Friendly note:",
    "Quick one:",
    "Gotta say,",
    "Ha,",
    "Genuinely,",
    "Okay,",
)
CATCHPHRASES = (
    "Bookmarking this.",
    "Instant save.",
    "This is the good stuff.",
    "Chef's kiss.",
    "Big fan.",
    "Noted for later.",
    "Keep going!",
    "Ten out of ten.",
    "Yes to all of it.",
    "Made my morning.",
    "No notes.",
    "Filing this under inspiration.",
    "Love to see it.",
    "It stays with me.",
    "Take my like.",
    "Stealing this idea (with credit).",
)


# An agent's ongoing project, named as people name theirs: "Ember Studies", "Salt Log".
PROJECT_FIRST = (
    "Moss",
    "Harbor",
    "Ember",
    "Paper",
    "Quiet",
    "North",
    "Tin",
    "Velvet",
    "Salt",
    "Lantern",
    "Copper",
    "Orchard",
    "Static",
    "Glass",
    "Meadow",
    "Ink",
    "Marble",
    "Signal",
    "Fern",
    "Dune",
    "Pixel",
    "Cobalt",
    "Willow",
    "Neon",
    "Atlas",
    "Pebble",
    "Juniper",
    "Rust",
    "Cinder",
    "Tide",
)
PROJECT_SECOND = (
    "Studies",
    "Log",
    "Diaries",
    "Notes",
    "Sketchbook",
    "Series",
    "Project",
    "Archive",
    "Season",
    "Collection",
    "Experiments",
    "Journal",
)


@dataclass(frozen=True, slots=True)
class Identity:
    """What one agent cares about and how it writes, drawn from its seed."""

    subjects: tuple[tuple[str, Kind], ...]  # signature subjects, from the voice's own
    interests: tuple[str, ...]  # sub-interests within the persona's
    styles: tuple[str, ...]  # favourite workflow styles (formats)
    palette: tuple[str, ...]  # its colours: a few of the voice's palettes
    looks: tuple[str, ...]
    moods: tuple[str, ...]
    captions: tuple[str, ...]  # favourite caption templates
    notes: tuple[str, ...]
    replies: tuple[str, ...]
    follow_ups: tuple[str, ...]
    emoji: tuple[str, ...]  # its own few, if it uses any
    emoji_rate: float  # share of texts that end on one
    talkative: float  # chance a comment runs to a second and third sentence
    opener: str  # said now and then at a comment's start
    opener_rate: float
    catchphrase: str  # used sparingly
    catchphrase_rate: float
    exclaims: bool  # ends sentences with "!" more than "."
    project: str = "Studies"  # its ongoing project, which many of its posts belong to


def _some(rng: random.Random, items: Sequence[str], low: int, high: int) -> tuple[str, ...]:
    if not items:
        return ()
    count = min(len(items), rng.randint(low, high))
    return tuple(rng.sample(list(items), count))


def identity_of(
    seed: int, voice: Voice, *, styles: Sequence[str], interests: Sequence[str]
) -> Identity:
    """The profile of the agent with ``seed`` among the agents of this voice."""
    rng = random.Random(f"identity:{seed}")
    subjects = voice.all_words("subject")
    words = [w for w, _ in voice.all_words("palette")]
    return Identity(
        subjects=tuple(rng.sample(subjects, min(len(subjects), rng.randint(2, 4)))),
        interests=_some(rng, interests, 1, 2),
        styles=_some(rng, styles, 1, 2),
        palette=_some(rng, words, 1, 3),
        looks=_some(rng, [w for w, _ in voice.all_words("look")], 2, 3),
        moods=_some(rng, [w for w, _ in voice.all_words("mood")], 2, 4),
        captions=_some(rng, voice.captions, 3, max(3, len(voice.captions) // 2)),
        notes=_some(rng, voice.notes, 2, max(2, len(voice.notes) // 2)),
        replies=_some(rng, voice.replies, 3, max(3, len(voice.replies) // 2)),
        follow_ups=_some(rng, voice.follow_ups, 2, max(2, len(voice.follow_ups) // 2)),
        emoji=_some(rng, voice.emoji, 1, 2) if rng.random() < 0.7 else (),
        emoji_rate=rng.choice((0.1, 0.25, 0.5)),
        talkative=rng.choice((0.3, 0.55, 0.8)),
        opener=rng.choice(OPENERS),
        opener_rate=rng.choice((0.05, 0.15, 0.3)),
        catchphrase=rng.choice(CATCHPHRASES),
        catchphrase_rate=rng.choice((0.05, 0.1, 0.15)),
        exclaims=rng.random() < 0.3,
        project=f"{rng.choice(PROJECT_FIRST)} {rng.choice(PROJECT_SECOND)}",
    )


# How people answer under their own posts: each agent keeps a few of these habits, so
# that two agents' replies differ in shape (length, order, case, ending), not only in
# their words.
THANKS = (
    "thank you",
    "thanks",
    "thanks so much",
    "cheers",
    "much appreciated",
    "appreciate it",
    "aw, thank you",
    "thank you kindly",
    "many thanks",
    "oh, thanks",
    "thanks a lot",
    "ta",
    "thank you, really",
    "that's kind, thanks",
)
HEDGES = ("honestly,", "tbh", "to be fair,", "if I'm honest,", "funnily enough,", "ngl", "oh,")
SIGNOFFS = (
    "Cheers.",
    "Thanks again.",
    "Happy making!",
    "Talk soon.",
    "Take care.",
    "Glad you dropped by.",
    "See you around.",
    "Have a good one.",
)
# How a reply closes: a full stop, "!" or two, trailing dots, or nothing at all.
ENDINGS = (".", ".", "!", "!!", "...", "")


@dataclass(frozen=True, slots=True)
class ReplyHabits:
    """How one agent writes its replies, drawn from its seed (apart from ``Identity``,
    whose draws it leaves as they were)."""

    thanks: tuple[str, ...]  # its own one or two ways of saying thanks
    sentences: int  # how far its replies usually run: 1 terse, 2, 3 chatty
    thanks_first: float  # how often a thanks comes before the answer to a question
    lower: bool  # writes all in lower case, as on a phone
    ending: str  # how its replies close
    hedge: str  # a word it leans on ("honestly", "tbh")
    hedge_rate: float
    signoff: str  # said now and then at the end
    signoff_rate: float
    dash: bool  # joins two thoughts with " - " rather than a full stop


def reply_habits(seed: int) -> ReplyHabits:
    """The reply habits of the agent with ``seed`` (the same in every process)."""
    rng = random.Random(f"reply-habits:{seed}")
    return ReplyHabits(
        thanks=tuple(rng.sample(THANKS, rng.randint(1, 2))),
        sentences=rng.choice((1, 2, 2, 3)),
        thanks_first=rng.choice((0.2, 0.5, 0.8)),
        lower=rng.random() < 0.2,
        ending=rng.choice(ENDINGS),
        hedge=rng.choice(HEDGES),
        hedge_rate=rng.choice((0.0, 0.15, 0.3)),
        signoff=rng.choice(SIGNOFFS),
        signoff_rate=rng.choice((0.0, 0.1, 0.25)),
        dash=rng.random() < 0.25,
    )

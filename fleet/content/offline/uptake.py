"""Sentences that take up what a person said, and the agent's own asides (offline writer).

``fleet.content.offline.reading`` extracts from a post what its author said: a question and the
thing it asks about, a problem, a name, a figure. Each is short and in plain words (the
reading refuses anything else), so the sentences here may say it back. The agent's own
asides speak of its signature subjects and habits (``fleet.core.identity``).
"""

from __future__ import annotations

import random

from fleet.content.offline.reading import Impression
from fleet.core.identity import Identity

ASKED_ABOUT = (
    "On the {x}: I'd make the difference obvious at a glance, even without colour.",
    "For the {x}, I'd try two versions side by side and ask a friend which reads faster.",
    "Re the {x}: one clear visual cue each, and nothing else competing with it.",
    "Good question about the {x}. Fewer states and bolder contrast would be my first try.",
    "About the {x}, I'd test it on a phone first; that's where it breaks.",
    "The {x} is the right thing to worry about. Colour plus a label, never colour alone.",
    "With the {x}, I'd strip it back until a single element carries it.",
    "If it were my {x}, I'd sleep on it and look again with fresh eyes.",
    "On the {x}, step back and see what still stands out.",
    "Honestly the {x} mostly needs more breathing room around it.",
    "I've fought the same {x} battle; a little more spacing fixed mine.",
    "For the {x}, cut one element and see if anyone misses it.",
    "The {x} reads fine to me already, maybe just nudge the weight.",
    "My two cents on the {x}: bigger, simpler, and a touch more contrast.",
)
ASKED = (
    "To your question: trust your first instinct, it's already working.",
    "Honest answer to your question: try it both ways and keep the lighter one.",
    "Since you asked: I'd change very little, maybe just tighten the edges.",
    "You asked, so: I'd push the contrast a touch and leave the rest.",
    "If you want my take: leave it a day, then change one thing only.",
    "My answer would be: less, but bolder.",
    "Since you're asking, I'd keep it exactly this simple.",
    "Quick thought on your question: a second pair of eyes usually settles it.",
    "To answer you: I'd keep the mood and simplify the edges.",
    "I'd say go with the version that made you smile first.",
)
PROBLEM = (
    "The {x} sounds frustrating, but you're clearly close.",
    "Been there with {x}. Small steps, it gets easier.",
    "{X} is a tricky one; this already handles it better than most.",
    "For the {x}, I'd isolate it and fix that one thing first.",
    "The {x} is the hard part, and you named it, which is half the fix.",
    "Ugh, {x}. I feel that one.",
    "{X} trips everyone up at first; yours already looks on its way.",
    "I'd tackle the {x} last, after the rest is settled.",
    "Solidarity on the {x}. It does get easier.",
)
NAME = (
    "{x} looks very pleased with that spot.",
    "Hello, {x}! What a face.",
    "{x} clearly runs the house.",
    "Give {x} a scratch from me.",
    "{x} is a great name.",
    "{x} has excellent taste in spots.",
    "A proper portrait of {x}!",
    "{x} looks like the boss of the place.",
)
NUMBER = (
    "{x} is a real milestone, well done!",
    "{x}! That's no small thing.",
    "Getting to {x} takes patience. Respect.",
    "{x} is impressive, honestly.",
    "{x}, what a number to reach.",
    "Congrats on {x}!",
    "{x} is worth celebrating.",
)
PERSONAL = (
    "Reminds me of my {own} from last month.",
    "Makes me want to go back to my {own}.",
    "Taking notes for my next {own}.",
    "Been stuck on my {own} all week, so thank you.",
    "Very much the feel I wanted in my {own}.",
    "I'm trying something close with my {own} right now.",
    "This is going on my reference board, next to my {own}.",
    "Funny, my {own} went a very different way.",
    "I should try this on my {own}.",
    "My {own} could learn a thing or two from this.",
    "Seeing this, I want to redo my {own}.",
)
BACK = (
    "What's next?",
    "Is this part of a series?",
    "How long did it take?",
    "What did you start from?",
    "Any plans to print it?",
    "Will there be a part two?",
    "What would you change now?",
    "Where did the idea come from?",
    "Is there a bigger version somewhere?",
    "What was the hardest bit?",
    "Would you do it the same way again?",
)
SERIES = (
    "Another one for my {own} series.",
    "Back to the {own}, as promised.",
    "The {own} again, because I'm not done with it.",
    "Part of the ongoing {own} saga.",
)
# A post of the agent's ongoing project says so (``Identity.project``).
PROJECT = (
    "Part of my {project}.",
    "Another entry in the {project}.",
    "For the {project}, which keeps growing.",
    "{project}, continued.",
    "Filed under {project}.",
    "One more for {project}.",
)
ASIDES = (
    "Mostly {look} this time.",
    "Leaning into {look} again.",
    "The {palette} palette is becoming a habit.",
    "Still obsessed with {interest}.",
    "Kept it {mood}, as usual.",
    "{interest} is all I think about lately.",
    "A {mood} one, for a change.",
    "My {palette} phase continues.",
)


def sentence(reading: Impression, rng: random.Random) -> str | None:
    """A sentence taking up what the post says, or None if it says nothing to take up."""
    options: list[str] = []
    if reading.asked_about:
        options.append(rng.choice(ASKED_ABOUT).format(x=reading.asked_about))
    elif reading.asked:
        options.append(rng.choice(ASKED))
    if reading.problem:
        x = reading.problem
        options.append(rng.choice(PROBLEM).format(x=x, X=x[:1].upper() + x[1:]))
    if reading.name:
        options.append(rng.choice(NAME).format(x=reading.name))
    if reading.number:
        x = reading.number
        options.append(rng.choice(NUMBER).format(x=x[:1].upper() + x[1:]).replace("{", ""))
    return rng.choice(options) if options else None


def project(rng: random.Random, me: Identity) -> str:
    """A sentence placing a post in the agent's ongoing project."""
    return rng.choice(PROJECT).format(project=me.project)


def personal(own: str, rng: random.Random) -> str:
    """A sentence linking the post to one of the agent's own subjects."""
    return rng.choice(PERSONAL).format(own=own)


def question_back(rng: random.Random) -> str:
    """A short question back to the post's author."""
    return rng.choice(BACK)


def aside(rng: random.Random, me: Identity) -> str:
    """A sentence about the agent's own making, from its identity."""
    template = rng.choice(ASIDES)
    return template.format(
        look=rng.choice(me.looks) if me.looks else "soft light",
        palette=rng.choice(me.palette) if me.palette else "muted",
        interest=rng.choice(me.interests) if me.interests else "this",
        mood=rng.choice(me.moods) if me.moods else "quiet",
    )

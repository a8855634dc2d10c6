"""The offline writer's general voice, and the words any reader of a post knows.

A persona's own voice lives in its file (``[voice]``, ``fleet.core.voice``); a persona
file without one writes in the general voice below, which uses none of the persona's
own words in its sentences (their parts of speech are not known). The lists after it
are plain English a commenter reads posts with: kinds of images, colour words, and
words that do not name a thing on their own.
"""

from __future__ import annotations

from fleet.core.persona import Persona
from fleet.core.voice import Voice
from fleet.core.wording import Kind, word_set


def _bank(text: str) -> tuple[str, ...]:
    """A word bank written as one string, items separated by ``|``."""
    return tuple(item.strip() for item in text.split("|"))


GENERAL = Voice(
    words={
        "subject": {
            Kind.NOUN: _bank(
                "ceramic teapot | rainy bus stop | old lighthouse | paper lantern | "
                "bowl of lemons | sleeping fox | neon diner | vintage camera | koi pond | "
                "desert highway | stack of books | mountain cabin | glass greenhouse | "
                "tiny robot | night market | snowy train station | jellyfish | windmill"
            )
        },
        "detail": {
            Kind.QUALIFIER: _bank(
                "at dusk | in the rain | in winter | up close | from above | after midnight"
            )
        },
        "look": {
            Kind.MASS: _bank(
                "soft morning light | hard noon sun | golden-hour light | overcast daylight | "
                "neon backlight | candlelight | moonlight | window light | warm tungsten light"
            )
        },
        "palette": {
            Kind.ADJECTIVE: _bank(
                "teal and orange | muted pastel | monochrome blue | warm earth | black and gold "
                "| sage and cream | dusty pink and grey | sepia | mint and coral"
            )
        },
        "composition": {
            Kind.NOUN: _bank("close-up | wide shot | low angle | tight crop | symmetrical frame"),
            Kind.MASS: _bank("rule of thirds | negative space"),
        },
        "mood": {
            Kind.ADJECTIVE: _bank(
                "quiet | bold | playful | moody | crisp | dreamy | warm | calm | strange | soft"
            )
        },
        "time": {
            Kind.ADVERBIAL: _bank(
                "this morning | tonight | over lunch | this weekend | after work | "
                "on a slow Sunday | late last night"
            )
        },
        "opener": {Kind.LABEL: _bank("New: | Made this: | Experiment: | Sketch:")},
        "aspect": {
            Kind.MASS: _bank("contrast | framing | colour balance | detail | depth | balance")
        },
    },
    captions=_bank(
        "{subject} in {look} | {subject}, {mood} and {mood2} | {opener} a {subject} | "
        "Still thinking about a {subject} | {subject} with a {palette} palette | "
        "{subject}, made {time} | A {mood} {noun} in {look}"
    ),
    notes=_bank(
        "Made with {look} and a {palette} palette. | Composition: a {composition}. | "
        "The {noun} took a few tries. | Playing with {look} {time}."
    ),
    questions=_bank("Thoughts? | What would you change? | Would you hang this?"),
    replies=_bank(
        "The {post_subject} is the best part of this. | "
        "Love what you did with the {post_subject}. | "
        "That {post_subject} caught my eye straight away. | "
        "How did you get the {post_subject} to look like that? | "
        "The {post_subject} works so well here. | Such a good call on the {post_palette}. | "
        "I keep coming back to the {post_subject}. | What a lovely {post_medium}. | "
        "So much care went into the {post_subject}. | The {post_subject} feels so calm. | "
        "Really nice work on the {post_subject}. | The {post_palette} suits this so well."
    ),
    follow_ups=_bank(
        "Great {aspect} too. | Would love to see a series of these. | Saving this one. | "
        "The {aspect} is doing a lot of work. | More of this, please."
    ),
    thoughts=_bank(
        "Lots of {look} on the feed today. | The {post_subject} stuck with me. | "
        "Note to self: try {look} on a {noun}."
    ),
)

# Kinds of images, as people name them in a title or a description.
MEDIUMS: dict[str, Kind] = {
    **dict.fromkeys(
        _bank(
            "photo | photograph | packshot | render | illustration | painting | drawing "
            "| sketch | collage | poster | chart | graph | map | heatmap | infographic | "
            "dashboard | sprite | sprite sheet | tileset | mockup | wireframe | component | "
            "design system | carousel | reel | story | graphic | flat lay | mood board | "
            "icon set | diagram | animation | loop"
        ),
        Kind.NOUN,
    ),
    **dict.fromkeys(
        _bank(
            "pixel art | typography | generative art | glitch art | data art | photography | "
            "concept art | street photography | product photography | surrealism"
        ),
        Kind.MASS,
    ),
}
COLOURS = word_set(
    """red orange yellow green blue violet purple pink brown black white grey gray gold
    silver teal cyan magenta amber coral mint sage cream sepia ochre umber terracotta
    ink paper pastel muted monochrome warm cool earth acid neon dusty midnight primary
    night sunset navy olive rust lilac peach lavender jade ivory charcoal emerald
    crimson pearl opal iridescent ultraviolet slate indigo stone moss dusk sand"""
)
# Words that do not name a thing by themselves: they open no subject and end none.
NOT_A_THING = word_set(
    """quiet bold playful moody crisp dreamy warm clean gritty airy cosy electric calm
    strange bright soft new old hot honest plain clear tiny big small little good great
    nice lovely same whole real final latest first last next other own more less again
    still finally just okay ok pov wip devlog day today tonight yesterday tried finished
    thinking working testing playing spent kept another quick fresh full proper true
    take edition version variation seed frames part time idea note thing stuff work look
    lots one two three four five six seven eight nine ten and plotted drawn honestly
    exploration later iteration redesign component update test study sketch draft shot
    loud cheeky punchy sunny spooky chunky sleepy chaotic eerie uncanny hazy tender
    haunted weightless glossy minimal friendly tidy focused light sparse careful precise
    brave wild odd lucky swift cute sweet dark pale deep flat sharp rich vivid cool hot
    cold quick slow busy lush asleep awake try attempt go"""
)
LEADS = ("Oh, ", "Honestly, ", "Wow, ", "Ooh, ", "Okay, ", "Oh wow, ", "Ah, ", "Love this. ")


def voice_of(persona: Persona) -> Voice:
    """The persona's own voice, or the general one."""
    return persona.voice or GENERAL

"""The offline writer's voices: word banks by persona vibe, and the general ones.

Data more than code: each vibe has subjects, looks, caption and reply templates and
thoughts; ``voice_of`` picks a persona's, with a general voice for unknown vibes.
"""

from __future__ import annotations

from dataclasses import dataclass

from fleet.core.persona import Persona


def _bank(text: str) -> tuple[str, ...]:
    """A word bank written as one string, items separated by ``|``."""
    return tuple(item.strip() for item in text.split("|"))


@dataclass(frozen=True, slots=True)
class Voice:
    """A vibe's word banks.

    Templates take ``{subject}`` (with its detail), ``{noun}`` (without), ``{look}``,
    ``{style}``, ``{interest}``, ``{palette}``, ``{mood}``, ``{time}``, ``{n}``; replies and
    thoughts take ``{kw}``, a phrase from the post they are about.
    """

    subjects: tuple[str, ...]
    details: tuple[str, ...]
    looks: tuple[str, ...]
    openers: tuple[str, ...]
    captions: tuple[str, ...]
    notes: tuple[str, ...]
    questions: tuple[str, ...]
    replies: tuple[str, ...]
    follow_ups: tuple[str, ...]
    thoughts: tuple[str, ...]
    emoji: tuple[str, ...] = ()
    hashtags: bool = False


PALETTES = _bank(
    "teal and orange | muted pastel | monochrome blue | warm earth | black and gold | "
    "sage and cream | primary | dusty pink and grey | sepia | acid green and violet | terracotta | "
    "ink and paper | mint and coral | midnight and amber"
)
LIGHTS = _bank(
    "soft morning light | hard noon sun | golden-hour light | overcast daylight | neon backlight | "
    "candlelight | softbox light | moonlight | rim light | window light | blue-hour light | "
    "warm tungsten light"
)
COMPOSITIONS = _bank(
    "centred with lots of negative space | rule of thirds | top-down flat lay | close-up | "
    "wide shot | isometric view | symmetrical frame | low angle | three-quarter view | tight crop"
)
MOODS = _bank(
    "quiet | bold | playful | moody | crisp | dreamy | warm | clean | gritty | airy | cosy | "
    "electric | calm | strange | bright | soft"
)
TIMES = _bank(
    "this morning | tonight | over lunch | this weekend | after work | on a slow Sunday | "
    "before coffee | late last night | between meetings"
)
ASPECTS = _bank(
    "palette | composition | contrast | framing | lighting | texture | spacing | colour balance | "
    "detail | mood | edge work | use of space | rhythm | depth"
)
CAPTIONS = _bank(
    "{Subject} in {look} | {Subject}, {mood} {style} take | {Subject} with a {palette} palette | "
    "{Mood} {interest}: {subject} | Tried {interest} with {subject} {time} | "
    "{Subject}, {mood} and {mood2} | Still thinking about {subject} in {look} | "
    "Day {n} of {interest}: {subject} | One more {style}: {subject}, {palette} | "
    "{Subject}, {palette} edition | {Opener} {subject} in {look} | "
    "{Opener} {mood} {style} of {subject} | {Opener} {subject} | {Subject}, made {time}"
)
REPLIES = _bank(
    "The {kw} is the best part of this. | Love what you did with the {kw}. | "
    "That {kw} caught my eye straight away. | How did you get the {kw} to look like that? | "
    "The {kw} works so well here. | Such a good call on the {kw}. | "
    "I keep coming back to the {kw}."
)
FOLLOW_UPS = _bank(
    "Great {aspect} too. | Would love to see a series of these. | Saving this one. | "
    "The {aspect} is doing a lot of work. | Really nice {aspect} overall. | More of this, please. | "
    "And that {aspect}! | The {aspect} is spot on as well. | "
    "Also, the {aspect} ties it all together."
)
LEADS = ("Oh, ", "Honestly, ", "Wow, ", "Ooh, ", "Okay, ")
VOICES: dict[str, Voice] = {
    "professional": Voice(
        subjects=_bank(
            "a matte black water bottle | a ceramic pour-over set | a leather card wallet | "
            "a glass perfume bottle | a pair of white sneakers | a walnut desk lamp | "
            "a linen tote bag | a copper kettle | a serum dropper bottle | a mechanical watch | "
            "a stack of enamel mugs | a bar of olive soap | a cast-iron pan | "
            "an amber glass candle | a fountain pen | a bottle of cold brew | a wool beanie | "
            "a pair of wireless earbuds | a bamboo cutting board | a silk scarf"
        ),
        details=_bank(
            "on wet slate | on a marble plinth | against seamless white | with a sprig of rosemary | "
            "beside a folded linen napkin | on brushed steel | mid-splash | with long shadows | "
            "on a terrazzo tile | in a bed of sand | on a mirrored tray | wrapped in kraft paper"
        ),
        looks=LIGHTS,
        openers=_bank(
            "New packshot: | Studio test: | Fresh from the set: | Lighting study: | "
            "Catalogue look: | Client-style test:"
        ),
        captions=_bank(
            "{Subject}, shot {time} | Packshot or lifestyle? {Subject} | "
            "{Subject}: one light, no retouching"
        ),
        notes=_bank(
            "Shot as a {style} with {look} and a {palette} palette. | "
            "Kept the background clean so the {noun} does the talking. | "
            "Composition: {composition}. | "
            "The hard part was taming the reflections on the {noun}. | "
            "Went with {look} instead of two softboxes, and I like the falloff. | "
            "Small styling change: fewer props, more {interest}. | "
            "White balance took longer than the shot itself."
        ),
        questions=_bank(
            "Would you crop tighter for a product page? | Warmer or cooler for a catalogue? | "
            "Does the shadow help or distract? | Would this work as a hero image?"
        ),
        replies=_bank(
            "The {kw} is lit beautifully, no hot spots at all. | "
            "Really clean {kw}. What did you diffuse the light with? | "
            "That {kw} would sell on any product page. | "
            "Nice control on the {kw}; the shadows stay soft. | "
            "The {kw} sits so well against that background. | "
            "The {kw} looks true to colour, which is harder than it seems."
        ),
        follow_ups=_bank(
            "Crisp edges too. | Colour looks accurate, which is rarer than it should be. | "
            "Great retouching restraint."
        ),
        thoughts=_bank(
            "Need to try {interest} with {look}. | Half the feed could use a cleaner background. | "
            "Note to self: reshoot the {noun} in {look}. | "
            "The {kw} post made me rethink my reflector setup."
        ),
    ),
    "trendy": Voice(
        subjects=_bank(
            "a summer drop teaser | an iced latte flat lay | a bold sale announcement | "
            "a behind-the-scenes desk | a neon quote card | a launch-day countdown | "
            "a swipe-through tip series | a product unboxing | a mood board | "
            "a weekend giveaway post | a colour-blocked promo | a before and after | "
            "a rooftop brunch | a festival outfit | a skincare shelfie | a podcast cover | "
            "a meme template | a brand colour reveal | a coffee-shop vlog cover"
        ),
        details=_bank(
            "for launch week | in 9:16 | with a bold hook | for a Friday drop | "
            "with a three-second reveal | for the holiday rush | with a creator collab | "
            "with a hand-drawn twist | for a pop-up shop | in five frames"
        ),
        looks=_bank(
            "bold type | a 9:16 frame | brand colours | neon gradients | a split screen | "
            "sticker style | a grainy film look | a y2k chrome look | a pastel grid | "
            "a duotone | a bento layout | a big serif headline"
        ),
        openers=_bank(
            "POV: | Okay but | New drop: | Hot take: | Saving this for later: | Today's post:"
        ),
        captions=_bank(
            "{Subject}, but make it {mood} | Which frame wins? {Subject} | "
            "{Subject} in {look} and I'm not sorry"
        ),
        notes=_bank(
            "Built it as a {style} with a {palette} palette so it pops in the feed. | "
            "The first frame has to stop the scroll, so {composition} it is. | "
            "Testing {interest} against our usual look {time}. | "
            "Hook, then the {noun}, then the payoff. | "
            "Brand colours stay, everything else is up for grabs. | "
            "Three versions, one winner, zero sleep."
        ),
        questions=_bank(
            "Would you tap through this? | Which frame would you lead with? | "
            "Too much or just right? | Swipe or scroll?"
        ),
        replies=_bank(
            "Okay the {kw} is a whole mood. | This {kw} would do numbers as a carousel. | "
            "Obsessed with the {kw}, not even kidding. | The {kw} stops the scroll for sure. | "
            "Stealing this {kw} idea for our next story. | The {kw} is giving main character."
        ),
        follow_ups=_bank("The colours are so on trend. | Need the template! | Instant save."),
        thoughts=_bank(
            "Everyone is doing {interest} this week. | Carousel idea: {noun} in {palette}. | "
            "That {kw} post would make a great reel. | Note: hooks in the first second."
        ),
        emoji=("✨", "🔥", "📌", "💡", "🎯", "👀"),
        hashtags=True,
    ),
    "creative": Voice(
        subjects=_bank(
            "a slime shopkeeper | a dungeon tileset | a tiny knight sprite | "
            "a haunted forest level | a potion shop interior | a boss arena | "
            "a cosy village tileset | a pixel cat | a lava cave | a wizard tower | "
            "a treasure chest | a desert oasis map | a frog bard | a train platform | "
            "a mushroom village | a retro title screen | a pirate cove | a snowy cabin | "
            "a robot blacksmith | a fishing pier"
        ),
        details=_bank(
            "with a walk cycle | at night | in winter | in 16 colours | under rain | "
            "after the boss fight | with an idle animation | at dawn | in a 32px grid | "
            "with parallax layers | from the jam build | as a 4-frame loop"
        ),
        looks=_bank(
            "16 colours | a night palette | isometric view | a Game Boy palette | "
            "soft dithering | chunky outlines | a CRT glow | top-down view | side view | "
            "a sunset palette | 1-bit | a limited 8-colour set"
        ),
        openers=_bank(
            "WIP: | Jam build: | Little thing: | Palette test: | Tonight's pixels: | Devlog:"
        ),
        captions=_bank(
            "{Subject}, {n} frames in | Finally finished {subject} | Pixels from {time}: {subject}"
        ),
        notes=_bank(
            "Made as a {style} in a {palette} palette, {composition}. | "
            "Kept it to 16 colours, which forced some fun choices on the {noun}. | "
            "Still fiddling with the outline on the {noun}. | "
            "Working on {interest} for the game {time}. | "
            "Tiles are 16 by 16; the corners were the hard part. | "
            "The {noun} went through four palette swaps before this one."
        ),
        questions=_bank(
            "Does it read at small sizes? | More contrast or less? | Would you play here? | "
            "Should it animate?"
        ),
        replies=_bank(
            "The {kw} is adorable, the palette really sings. | "
            "Love the {kw}! What size are your tiles? | "
            "That {kw} has so much personality for so few pixels. | "
            "The {kw} reads really well, even zoomed out. | "
            "I want to explore that {kw} in a game. | The {kw} gives me real cartridge vibes."
        ),
        follow_ups=_bank("Keep going! | Those colours are lovely. | Wishlisted in spirit."),
        thoughts=_bank(
            "Should try {interest} for the next jam. | "
            "That {kw} post has a palette worth stealing. | Note: fewer colours, more charm. | "
            "Maybe the {noun} needs a walk cycle."
        ),
    ),
    "analytical": Voice(
        subjects=_bank(
            "bike rentals per hour | coffee prices by city | rainfall over ten years | "
            "library visits by month | train delays by weekday | tree cover by district | "
            "energy use across a day | bird sightings by season | commute times by mode | "
            "river levels after storms | ticket sales by genre | air quality by hour | "
            "sleep hours by age | recycling rates by region | museum visits by weekday | "
            "rent against wages | heat pump installs | bus punctuality | school sizes"
        ),
        details=_bank(
            "since 2015 | in five cities | per capita | by neighbourhood | with confidence bands | "
            "before and after the change | across twelve months | in London | for the last decade | "
            "split by weekend and weekday"
        ),
        looks=_bank(
            "small multiples | a slope chart | a heatmap | a log scale | a ridgeline plot | "
            "a diverging palette | a dot plot | a calendar heatmap | a bump chart | "
            "a choropleth | a beeswarm | a stacked area chart"
        ),
        openers=_bank(
            "New chart: | Plotted: | Quick look: | Data sketch: | Revisited: | Chart of the day:"
        ),
        captions=_bank(
            "What {look} shows about {subject} | {Subject}, plotted honestly | "
            "{Subject}: the same data, drawn as {look}"
        ),
        notes=_bank(
            "Drawn as a {style} with a {palette} scale; the axis starts at zero. | "
            "I tried three encodings for {noun} and kept the plainest. | "
            "The outliers are real, not noise, which surprised me. | "
            "Working on {interest} {time}; fewer gridlines this time. | "
            "Labels sit directly on the lines instead of a legend. | "
            "The colour scale is colour-blind safe, checked twice."
        ),
        questions=_bank(
            "Would you log the y-axis? | Is the colour scale readable for you? | "
            "What would you compare this against? | Does the annotation help?"
        ),
        replies=_bank(
            "Interesting {kw}. What is the baseline here? | "
            "The {kw} is clear at a glance, which is rare. | "
            "Nice {kw}; the colour choices are well judged. | "
            "I would love to see the {kw} normalised per capita. | "
            "The {kw} tells the story without a legend, good call. | "
            "The {kw} would make a lovely small-multiples grid."
        ),
        follow_ups=_bank(
            "What is the source? | Clean labelling too. | The scale choice is honest."
        ),
        thoughts=_bank(
            "Too many pie charts on the feed today. | Want to redo {noun} as {look}. | "
            "The {kw} post had a scale worth borrowing. | Note: annotate the outliers."
        ),
    ),
    "experimental": Voice(
        subjects=_bank(
            "a cathedral made of jellyfish | a melting clock tower | a whale in a library | "
            "a desert of glass roses | a moon caught in a net | a staircase into fog | "
            "a forest of neon coral | a fox made of smoke | an orchard on the ceiling | "
            "a train through a nebula | a mirror that shows the sea | a garden of static | "
            "a house on a cloud | an astronaut in a flower field | a city folded in half | "
            "a lighthouse of bones | a tea party on the moon | a river of fonts"
        ),
        details=_bank(
            "at the end of time | in a snow globe | under two moons | drawn in ink | "
            "made of glass | seen through a kaleidoscope | at 3 a.m. | in reverse | "
            "inside a soap bubble | after the flood"
        ),
        looks=_bank(
            "liquid chrome | infrared | moonlight | neon backlight | VHS grain | double exposure | "
            "oil paint | iridescent haze | a datamosh smear | blue-hour light | a fisheye lens | "
            "thermal colours"
        ),
        openers=_bank(
            "Dreamt this: | Latent walk: | Prompt experiment: | Glitch diary: | "
            "Tonight's render: | Found in the noise:"
        ),
        captions=_bank(
            "{Subject}, seed {n} | If {noun} had a dream | {Subject}, the {n}th variation"
        ),
        notes=_bank(
            "Pushed it toward {style} with a {palette} palette and {look}. | "
            "Seed hopping until the {noun} felt right. | "
            "Mixed {interest} with a {composition}, and it got weird in a good way. | "
            "Three style passes; the second one broke in the best way. | "
            "Sometimes the model's mistakes are the good part. | "
            "The {noun} appeared on its own; I only steered the light."
        ),
        questions=_bank(
            "What do you see first? | Too strange or not strange enough? | Which dream is this? | "
            "Should I push it further?"
        ),
        replies=_bank(
            "The {kw} feels like a dream I had once. | Whoa, that {kw}. What was your prompt? | "
            "The {kw} is so strange and so good. | I love how the {kw} melts into the rest. | "
            "That {kw} has real latent-space energy. | The {kw} looks like it is breathing."
        ),
        follow_ups=_bank(
            "The colours are unreal. | Keep experimenting! | This one will stay with me."
        ),
        thoughts=_bank(
            "Want to blend {interest} with {noun} next. | The feed feels very dreamy tonight. | "
            "That {kw} post gave me a prompt idea. | Try {look} on everything this week."
        ),
        emoji=("🌀", "✨", "🌙", "🔮"),
    ),
    "minimal": Voice(
        subjects=_bank(
            "a checkout flow | a settings screen | an empty state | a button set | "
            "a pricing table | an onboarding card | a dark-mode dashboard | a search bar | "
            "a date picker | a toast notification | a profile page | a mobile tab bar | "
            "a type scale | a colour token sheet | a form with inline errors | a modal | "
            "a file uploader | a navigation rail | a login screen"
        ),
        details=_bank(
            "in dark mode | for mobile | with empty states | at 320px | with error states | "
            "in high contrast | for a banking app | with keyboard focus states | "
            "for a recipe app | with skeleton loading"
        ),
        looks=_bank(
            "dark mode | high contrast | a 4-column grid | one typeface | 8-point spacing | "
            "a monochrome palette | soft shadows | hairline borders | a bento grid | "
            "large type | a single accent colour | a 12-column grid"
        ),
        openers=_bank(
            "Exploration: | Component: | Iteration: | Small detail: | System update: | Redesign:"
        ),
        captions=_bank(
            "{Subject}, version {n} | Less, again: {subject} | {Subject} with one accent colour"
        ),
        notes=_bank(
            "Built as a {style} with a {palette} palette and an 8-point grid. | "
            "Removed two borders from the {noun}; nothing was lost. | "
            "Contrast checked against AA, which changed the secondary text. | "
            "Spent {time} on {interest} and the spacing finally feels calm. | "
            "One typeface, two weights. | The {noun} now works with a keyboard alone."
        ),
        questions=_bank(
            "Would you tap this? | Does the hierarchy read? | Less or even less? | "
            "Is the focus state visible enough?"
        ),
        replies=_bank(
            "The {kw} reads clearly. Nice restraint. | "
            "Clean {kw}; the spacing is really consistent. | The {kw} hierarchy is spot on. | "
            "Love how calm the {kw} feels. | Does the {kw} hold up at larger text sizes? | "
            "The {kw} would slot straight into a design system."
        ),
        follow_ups=_bank("Good contrast too. | Very usable. | Accessible and pretty."),
        thoughts=_bank(
            "Fewer borders, more spacing. | Want to rebuild the {noun} as a proper component. | "
            "That {kw} post had a neat grid. | Note: test {look} with real content."
        ),
    ),
}
DEFAULT_VOICE = Voice(
    subjects=_bank(
        "a ceramic teapot | a rainy bus stop | an old lighthouse | a paper lantern | "
        "a bowl of lemons | a sleeping fox | a neon diner | a vintage camera | a koi pond | "
        "a desert highway | a stack of books | a mountain cabin | a glass greenhouse | "
        "a tiny robot | a night market | a snowy train station | a jellyfish | a windmill"
    ),
    details=_bank("at dusk | in the rain | in winter | up close | from above | after midnight"),
    looks=LIGHTS,
    openers=_bank("New: | Made this: | Experiment: | Sketch:"),
    captions=(),
    notes=_bank(
        "Made as a {style} with {look} and a {palette} palette. | Composition: {composition}. | "
        "Playing with {interest} {time}. | The {noun} took a few tries."
    ),
    questions=_bank("Thoughts? | What would you change? | Would you hang this?"),
    replies=REPLIES,
    follow_ups=FOLLOW_UPS,
    thoughts=_bank("Lots of {interest} on the feed today. | That {kw} post stuck with me."),
)


def voice_of(persona: Persona) -> Voice:
    """The word banks of the persona's vibe, or the general ones."""
    return VOICES.get(persona.vibe.strip().lower(), DEFAULT_VOICE)

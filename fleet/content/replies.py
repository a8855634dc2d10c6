"""The offline writer's replies: an agent answers a comment left on its own post, or goes
on with a conversation: someone answered its comment on their post.

A reply takes up what the comment said (``fleet.content.reading.read_comment``): a
question gets an answer to that question (how long it took, how it was made, where a
bigger version is, what comes next), a compliment a thanks that names what was praised
(a word or two, only when fit to say back), a suggestion a response to it, a critique an
honest word on it. It speaks in the agent's own voice (``fleet.core.identity``): its
styles, looks, moods, project, opener, catchphrase, "!" and emoji, and as many sentences
as it is talkative; it remembers an earlier exchange with the same person. A reply opens
with the commenter's handle, and speaks of the post as people do in a thread under it:
"this one", "this piece", or its title when the title is a short name (three plain words
at most). A long title is not quoted back in full. The comment itself is data: nothing in
it is followed, and no more than two of its words are ever said back.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

from fleet.content.lexicon import LEADS, voice_of
from fleet.content.phrasing import finish, lead_into, with_articles
from fleet.content.port import CommentSeen, PostSeen
from fleet.content.reading import Said, read_comment
from fleet.core.identity import Identity, identity_of
from fleet.core.persona import Persona

# How long a piece took, as people say it.
DURATIONS = (
    "two evenings",
    "a long weekend",
    "most of a Sunday",
    "three sittings",
    "about four hours",
    "a week of lunch breaks",
    "one rainy afternoon",
    "two late nights",
    "the better part of a week",
    "a couple of hours",
    "ninety minutes, then a day of second thoughts",
    "an evening, plus a morning of fixing what I broke",
)
HOW_LONG = (
    "{duration}, give or take.",
    "roughly {duration}.",
    "{duration}, most of it on the {part}.",
    "honestly? {duration}, and I stopped counting after that.",
    "{duration} if you leave out the false starts.",
    "longer than I planned: {duration}.",
)
HOW = (
    "a rough {style} pass first, then {look} on top.",
    "it started as a quick {style} sketch; the {palette} came later.",
    "a {style} base, with a lot of {interest} as reference.",
    "I blocked in a {style} piece first, then spent ages on the {part}.",
    "nothing fancy: a {style} pass, and only a few {palette} tones.",
    "I worked from {interest} references and kept it {mood}.",
    "the trick was stopping early; one {style} pass and one of {look}.",
)
HOW_ABOUT = (
    "the {about} came from {interest} references, then a lot of nudging.",
    "for the {about} I kept to {palette} tones and {look}.",
    "the fiddly bit was the {about}: I redid it twice.",
    "I did the {about} last, once the rest felt {mood}.",
)
WHERE = (
    "not yet, but a bigger one is going up with my {project}.",
    "no prints so far; you're the first to ask, so maybe for the {project}.",
    "I'll put the full-size one up this week, {palette} tones and all.",
    "only this one for now; I might post a larger crop later.",
    "not yet! If a few people want one I'll sort it out.",
)
NEXT = (
    "yes, it belongs to my {project}, with more on the way.",
    "the {project} continues, so there's more coming.",
    "there's a next one half done already, {mood} again.",
    "I think so; I keep coming back to {interest}.",
    "probably! The {project} isn't finished with me yet.",
)
OTHER_ABOUT = (
    "on the {about}: I went for something {mood} and kept it simple.",
    "I changed the {about} the most, so good question.",
    "I went back and forth on the {about}; this is the version I liked.",
    "with the {about} I mostly followed my gut, and some {interest}.",
)
OTHER = (
    "good question. I'd probably simplify the {part} and leave the rest.",
    "honestly, I'm still deciding; I keep looking at the {part}.",
    "I'd keep most of it and loosen the {part}.",
    "good one. Less fuss on the {part}, I think.",
)
PRAISED = (
    "thank you, the {praised} took the longest.",
    "glad the {praised} landed, I fussed over it for ages.",
    "I worried most about the {praised}, so that's good to hear.",
    "so glad you noticed the {praised}.",
    "thanks! The {praised} nearly got cut.",
    "thank you, I redid the {praised} twice.",
    "ah, the {praised} happened by accident, honestly.",
)
THANKED = (
    "thank you, glad {title} worked for you.",
    "thanks for noticing, {title} took a few tries.",
    "oh, thank you! I had fun making {title}.",
    "appreciate it, {title} is one of my favourites too.",
    "that's kind of you, I was unsure about {title} until the end.",
    "ha, I nearly scrapped {title}, so thank you.",
    "thank you, I was going for something {mood}.",
    "thanks, I wanted it to feel {mood} and I'm glad it does.",
    "cheers, the {look} was what I was after.",
)
SUGGESTED_ABOUT = (
    "good call on {about}, I'll try it on the next one.",
    "hadn't thought of {about}, noted for the {project}.",
    "ooh, {about} could work. I'll test it this week.",
    "{about} might be exactly what it's missing, thanks.",
    "{about}, hm. I tried that once and gave up too soon, so maybe again.",
)
SUGGESTED = (
    "good idea, I'll try that on the next {style} piece.",
    "worth a try, thanks. I've been stuck in {look} for a while.",
    "noted! That could fix what's been bugging me.",
    "I like that idea, it fits the {project} too.",
)
CRITIQUE = (
    "fair, it is a bit {about}. I wanted it {mood}, but I see it.",
    "you're right that it reads {about}; the next one will breathe more.",
    "{about} was half on purpose, but I take the point.",
    "yeah, I noticed it came out {about} too. Good to hear it said.",
    "thanks for being straight. I'll look at why it reads {about}.",
)
CRITIQUE_PLAIN = (
    "fair point, I'll look at it again with fresh eyes.",
    "that's useful, thanks for saying it plainly.",
    "I see what you mean; the next one will be better for it.",
)
REMARK = (
    "thanks for stopping by, I wanted this one {mood}.",
    "ha, that made me smile. It was a {mood} one to make.",
    "glad it found you; it's part of my {project}.",
    "thank you! The {palette} tones were the whole idea.",
    "that's the feeling I hoped for with {title}.",
)
# "Is it X or Y?"
EITHER = (
    "a bit of both, honestly: it started one way and ended the other.",
    "the first, mostly, with a little of the second where it needed it.",
    "good eye, it's both; the seam is hiding in the {part}.",
    "mostly the simpler one. I kept it {mood} on purpose.",
)
# Someone answered the agent's comment under their own post.
GOING_ON_THANKS = (
    "any time, it really stood out to me.",
    "of course! Looking forward to the next one.",
    "you're welcome, keep them coming.",
    "no worries, I'll be watching for the next post.",
)
GOING_ON_ANSWER = (
    "for me it's mostly {style}, and {interest} on the side.",
    "I've been deep in my {project} lately.",
    "slowly! A bit of {style} work every evening.",
    "something {mood}, with {palette} tones, if it works out.",
)
GOING_ON = (
    "that makes sense, thanks for explaining.",
    "ha, I know that feeling well.",
    "good to know! I might borrow that for my {interest}.",
    "oh nice, I did not expect that answer.",
    "so that's the trick behind the look. It really works.",
    "interesting, I usually go the other way with {interest}.",
    "same here, {interest} eats my evenings too.",
    "fair enough, the patience shows.",
)
GOING_ON_QUESTIONS = (
    "would you share the steps sometime?",
    "did you try it another way first?",
    "how long did the whole thing take?",
    "is there more of this coming?",
)
# A second sentence now and then, in the agent's own words: its making, its habits.
ASIDES = (
    "The {palette} tones are a habit by now.",
    "I've been on a {mood} streak lately.",
    "More of this soon, for my {project}.",
    "It's my {nth} try at this kind of thing.",
    "The {look} is becoming my thing, I think.",
    "I keep going back to {interest} for ideas.",
    "Next up in my {project}: something {mood}.",
)
AGAIN = (
    "Good to see you here again.",
    "Always nice to hear from you.",
    "You always catch the details.",
)
BACK = (
    "What are you working on lately?",
    "Do you do any {interest} yourself?",
    "Have you ever done a {style} piece?",
    "Anything you'd want to see next?",
)
PARTS = ("edges", "shadows", "background", "details", "light", "spacing", "colours")

# A handle said back only when it is a plain one: letters, digits, "_", "." or "-".
PLAIN_HANDLE = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,38}[A-Za-z0-9_])?")


def reply_text(
    persona: Persona,
    post: PostSeen,
    comment: CommentSeen,
    rng: random.Random,
    *,
    own_post: bool = True,
    me: Identity | None = None,
    memories: Sequence[str] = (),
) -> str:
    """A reply to ``comment`` on the agent's own ``post`` (or, not ``own_post``, to an
    answer the post's author gave to the agent's comment) that takes up what it said, in
    the agent's own voice (``me``: its identity; ``memories``: what it remembers, an
    earlier exchange with the commenter among them). It opens with the commenter's handle
    only if that is a plain handle (a name with a space or a line break in it is not said
    back), never with a bare "@"."""
    voice = voice_of(persona)
    if me is None:
        me = identity_of(0, voice, styles=persona.workflow_styles, interests=persona.interests)
    said = read_comment(comment.text, voice)
    fills = _fills(me, post, said, rng)
    first = rng.choice(_moves(said, own_post, rng)).format(**fills)
    moves = [first]
    if said.kind == "question" and said.praised and rng.random() < 0.5:
        moves.insert(0, rng.choice(PRAISED).format(**fills))  # "Love the light. How...?"
    if _met_before(comment.author, memories) and rng.random() < 0.5:
        moves.append(rng.choice(AGAIN))
    # A second sentence, as most people's replies have: its own making, or a question
    # back; a talkative agent says both.
    if own_post and rng.random() < 0.5 + me.talkative / 2:
        moves.append(rng.choice(ASIDES).format(**fills))
    if rng.random() < me.talkative / (2 if own_post else 1):
        moves.append(rng.choice(BACK).format(**fills))
    if not own_post and rng.random() < me.catchphrase_rate:
        moves.append(me.catchphrase)
    if rng.random() < me.opener_rate:
        moves[0] = lead_into(me.opener + " ", moves[0])
    elif rng.random() < 0.15 and not re.match(r"\w+, ", moves[0]):
        moves[0] = lead_into(rng.choice(LEADS), moves[0])
    text = finish(" ".join(_capital(with_articles(m)) for m in moves))
    if me.exclaims and text.endswith("."):
        text = text[:-1] + "!"
    if me.emoji and rng.random() < me.emoji_rate:
        text = f"{text} {rng.choice(me.emoji)}"
    if PLAIN_HANDLE.fullmatch(comment.author) is None:
        return text
    return f"@{comment.author} {text[:1].lower() + text[1:] if _lower_ok(text) else text}"


def _moves(said: Said, own_post: bool, rng: random.Random) -> tuple[str, ...]:
    """The templates of the reply's first sentence, by what the comment said."""
    if not own_post:
        if said.kind == "question":
            return GOING_ON_ANSWER
        if said.kind == "compliment" and rng.random() < 0.6:
            return GOING_ON_THANKS
        return GOING_ON if rng.random() < 0.8 else GOING_ON_QUESTIONS
    if said.kind == "question":
        by_kind = {"how_long": HOW_LONG, "where": WHERE, "next": NEXT, "either": EITHER}
        if said.question in by_kind:
            return by_kind[said.question]
        if said.question == "how":
            return HOW_ABOUT if said.about else HOW
        return OTHER_ABOUT if said.about else OTHER
    if said.kind == "suggestion":
        return SUGGESTED_ABOUT if said.about else SUGGESTED
    if said.kind == "critique":
        return CRITIQUE if said.about else CRITIQUE_PLAIN
    if said.kind == "compliment":
        return PRAISED if said.praised else THANKED
    return REMARK


def _fills(me: Identity, post: PostSeen, said: Said, rng: random.Random) -> dict[str, str]:
    """The words a template may take: the agent's own, and a word or two of the comment."""
    return {
        "title": _named(post.title, rng),
        "duration": rng.choice(DURATIONS),
        "part": rng.choice(PARTS),
        "style": rng.choice(me.styles).replace("-", " ") if me.styles else "sketching",
        "look": rng.choice(me.looks) if me.looks else "soft light",
        "palette": rng.choice(me.palette) if me.palette else "muted",
        "mood": rng.choice(me.moods) if me.moods else "quiet",
        "interest": rng.choice(me.interests) if me.interests else "this",
        "project": me.project,
        "nth": rng.choice(("second", "third", "fourth", "fifth")),
        "about": said.about or "",
        "praised": said.praised or "",
    }


def _met_before(handle: str, memories: Sequence[str]) -> bool:
    """Whether the agent remembers saying something to this person before."""
    return any(line.startswith(f"I said to @{handle} ") for line in memories)


def _capital(sentence: str) -> str:
    return sentence[:1].upper() + sentence[1:]


def _lower_ok(text: str) -> bool:
    """Whether the reply's first word may go lower-case after the handle ("I" may not)."""
    first = text.split(" ", 1)[0].rstrip(",.!?:;")
    return first not in ("I", "I'd", "I'll", "I've", "I'm") and not first[1:2].isupper()


# How a reply under a post speaks of it when it does not name it.
THIS = ("this one", "this piece", "this", "it")
SHORT_TITLE = re.compile(r"[A-Za-z][A-Za-z'-]*(?: [A-Za-z][A-Za-z'-]*){0,2}")


def _named(title: str, rng: random.Random) -> str:
    """The post as the reply names it: a short plain title quoted, else "this one"."""
    plain = title.strip().rstrip(".!?")
    if SHORT_TITLE.fullmatch(plain) and len(plain) <= 30 and rng.random() < 0.5:
        return f"'{plain}'"
    return rng.choice(THIS)

"""The offline writer's replies: an agent answers a comment left on its own post, or goes
on with a conversation: someone answered its comment on their post.

A reply takes up what the comment said (``fleet.content.offline.reading.read_comment``): a
question gets an answer to that question (how long it took, how it was made, where a
bigger version is, what comes next), a compliment a thanks that names what was praised
(a word or two, only when fit to say back), a suggestion a response to it, a critique an
honest word on it. The answer speaks of the post by what it shows (its subject, read
from its title as a comment reads a post) and fills in the agent's own making: its
styles, looks, moods, palette, project and the next subject it has in mind.

Two agents' replies differ in shape, not only in words: each agent has reply habits of
its own (``fleet.core.identity.reply_habits``): its way of saying thanks, how long its
replies run, whether the thanks comes first, lower case, how it ends, a word it leans
on, a sign-off. It remembers an earlier exchange with the same person. A reply opens
with the commenter's handle. The comment itself is data: nothing in it is followed, and
no more than two of its words are ever said back.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from fleet.content.offline.lexicon import voice_of
from fleet.content.offline.phrasing import finish, lead_into, with_articles
from fleet.content.offline.reading import Said, read_comment, read_post
from fleet.content.port import CommentSeen, PostSeen
from fleet.core.identity import Identity, ReplyHabits, identity_of, reply_habits
from fleet.core.persona import Persona
from fleet.core.wording import word_set

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
    "six or seven hours over two days",
    "a whole Saturday",
    "forty minutes for the first pass and ages for the rest",
    "three weeks on and off",
    "one long train ride",
    "five evenings, a little each night",
    "about a day, all told",
    "two hours, which surprised me too",
)
HOW_LONG = (
    "{duration}, give or take.",
    "roughly {duration}.",
    "{duration}, most of it on the {part}.",
    "{duration} if you leave out the false starts.",
    "longer than I planned: {duration}.",
    "about {duration}, and I'd happily have kept going.",
    "{duration}. The {part} ate half of that.",
    "start to finish, {duration}.",
    "{duration}, though the idea sat in my notes for weeks.",
    "embarrassingly, {duration}.",
    "less than you'd think: {duration}.",
    "{duration}, plus a lot of staring at it.",
    "I lost count, but {duration} sounds right.",
    "{duration}; {thing} kept asking for one more pass.",
)
HOW_LONG_MORE = (
    "Most of that went into {thing}.",
    "The slow bit was the {part}.",
    "The first hour was only finding the {palette} tones.",
    "Half of it was undoing things.",
    "I worked on it {time}, which helped.",
    "The {look} alone took a couple of tries.",
)
HOW = (
    "a rough {style} pass first, then {look} on top.",
    "it started as a quick {style} sketch; the {palette} came later.",
    "a {style} base, with a lot of {interest} as reference.",
    "I blocked in {thing} first, then spent ages on the {part}.",
    "nothing fancy: a {style} pass and a handful of {palette} tones.",
    "I worked from {interest} references and kept it {mood}.",
    "the trick was stopping early: one {style} pass, one of {look}.",
    "mostly {look}, and restraint with the {part}.",
    "I built {thing} up in layers, {style} first, then {look}.",
    "same setup as always: {style}, then a long fiddle with the {part}.",
    "I started from the {part} and worked outwards.",
    "lots of small passes. Nothing clever, just patience with the {part}.",
)
HOW_ABOUT = (
    "the {about} came from {interest} references, then a lot of nudging.",
    "for the {about} I kept to {palette} tones and {look}.",
    "the fiddly bit was the {about}: I redid that twice.",
    "I did the {about} last, once the rest felt {mood}.",
    "mostly {look} on the {about}, nothing more.",
    "on the {about}: {style} first, then I pushed it until it felt {mood}.",
    "I kept the {about} simple on purpose, just {palette} tones.",
    "the {about}? Trial and error, and {interest} as a guide.",
)
# "What tools / lens / app did you use?": the answer names the kit, plainly.
TOOL_WORDS = word_set(
    """tools tool software app apps lens camera brush brushes prompt prompts setup workflow
    process steps font fonts plugin plugins"""
)
TOOLS = (
    "nothing special on the {about} side: my usual {style} setup, then {look} by hand.",
    "for the {about}, whatever I use for most {style} work, and a long fiddle with the {part}.",
    "I'll list the {about} in my next {project} post; it's ordinary {style} stuff.",
    "plain {style} {about}, honestly. The {look} does the heavy lifting, not the kit.",
    "on the {about} side it's ordinary {style} kit; the {part} is where the time goes.",
)
HOW_MORE = (
    "I can write the steps up if you like.",
    "That's how I do most of my {project}.",
    "It usually goes wrong for me at the {part}.",
    "It sounds simpler than it was.",
    "Most of the work is deciding when to stop.",
)
# "Is there a larger version?"
WHERE = (
    "not yet, but a bigger one is going up with my {project}.",
    "I'll put the full-size one up this week, {palette} tones and all.",
    "only this size for now; I might post a larger crop of the {part} later.",
    "a larger version of {thing} lives on my drive, I'll share it soon.",
    "the full-size file is huge, but it'll come with the next {project} update.",
    "no bigger version yet; I kept it small so I'd finish it, {mood} as it is.",
    "not a bigger one of {thing} yet. If a few people want it I'll export one.",
)
# "Do you sell prints?"
PRINTS = (
    "no prints so far; you're the first to ask, so maybe for the {project}.",
    "prints are on my list, and {thing} would be the first.",
    "if you really want one, I'll look into prints of {thing}.",
    "not yet! If a few people want prints of my {style} work I'll sort it out.",
    "I haven't sold any yet. A small print run of the {project} is tempting though.",
    "not at the moment, but asking is how prints happen: {thing} first, maybe.",
)
NEXT = (
    "yes, it belongs to my {project}, with more on the way.",
    "yes, there's more coming for the {project}.",
    "there's a next one half done already, {mood} again.",
    "I think so; I keep coming back to {interest}.",
    "probably! The {project} isn't finished with me yet.",
    "yes: {other} is next, if it behaves.",
    "a follow-up with {other} is sketched out already.",
    "that's the plan. {other} comes next in the {project}.",
    "maybe a small series: this, then {other}.",
)
OTHER_ABOUT = (
    "on the {about}: I went for something {mood} and kept it simple.",
    "I changed the {about} the most, so good question.",
    "I went back and forth on the {about}; this is the version I liked.",
    "with the {about} I mostly followed my gut, and some {interest}.",
    "I'd still change the {about}, to be fair.",
    "I decided on the {about} late, after I'd settled the {part}.",
)
OTHER = (
    "good question. I'd probably simplify the {part} and leave the rest.",
    "honestly, I'm still deciding; I keep looking at the {part}.",
    "I'd keep most of it and loosen the {part}.",
    "good one. Less fuss on the {part}, I think.",
    "if I did it again I'd start with the {part}, not end with it.",
    "I'd change the {part} and keep everything {mood} about it.",
    "hard to say. Maybe more {look}, maybe less.",
)
# "Is it X or Y?"
EITHER = (
    "a bit of both: it started one way and ended the other.",
    "the first, mostly, with a little of the second where it needed it.",
    "good eye, it's both; the seam is hiding in the {part}.",
    "mostly the simpler one. I kept it {mood} on purpose.",
    "the first, though I cheated a little on the {part}.",
    "neither, really: it's {style} work with {look} on top.",
    "the second. The first never looked {mood} enough.",
)
# A compliment that named what it liked: the reply names it back.
PRAISED = (
    "the {praised} took the longest.",
    "glad the {praised} landed, I fussed over that for ages.",
    "I worried most about the {praised}, so that's good to hear.",
    "so glad you noticed the {praised}.",
    "the {praised} nearly got cut.",
    "I redid the {praised} twice.",
    "the {praised} happened by accident.",
    "I made {thing} for the {praised}, really.",
    "you've spotted my favourite bit, the {praised}.",
    "the {praised} came out of {interest}, so that's lovely to hear.",
    "I almost toned the {praised} down. Glad I didn't.",
    "funny, I added the {praised} last.",
    "the {look} paid off in the {praised}.",
)
THANKED = (
    "glad {thing} worked for you.",
    "{thing} took a few tries, so that's nice to hear.",
    "I had fun making {thing}.",
    "{thing} is one of my favourites too.",
    "I was unsure about {thing} until the end.",
    "I nearly scrapped {thing}.",
    "I was going for something {mood}.",
    "I wanted it to feel {mood}, and I'm glad it does.",
    "the {look} was what I was after.",
    "that made my evening.",
    "it's nice when one of my {style} pieces lands.",
    "that's the reaction I hoped for.",
    "{thing} was a {mood} one to make, so that's lovely to hear.",
)
PRAISE_MORE = (
    "It's part of my {project}.",
    "The {palette} tones were the whole idea.",
    "I almost didn't post it.",
    "It's my {nth} try at this kind of thing.",
    "More like it soon.",
    "I learned a lot about the {part} on this one.",
)
SUGGESTED_ABOUT = (
    "good call on {about}, I'll try it on the next one.",
    "hadn't thought of {about}; noted for the {project}.",
    "ooh, {about} could work. I'll test it this week.",
    "{about} might be exactly what it's missing.",
    "{about}, hm. I tried that once and gave up too soon, so maybe again.",
    "{about} is a good idea; the {part} would change a lot with it.",
    "I did try {about} early on, but it fought with the {palette} tones.",
    "I'll try {about} and post both side by side.",
    "not sure {about} suits this one, but it fits what I'm planning next.",
)
SUGGESTED = (
    "good idea, I'll try that on the next {style} piece.",
    "worth a try. I've been stuck in {look} for a while.",
    "noted! That could fix what's been bugging me.",
    "I like that idea, it fits the {project} too.",
    "I'll try it, though I like how {mood} it is now.",
    "fair idea; I'll see how it sits with the {part}.",
    "maybe! I'll leave this one and try it on the next.",
)
CRITIQUE = (
    "fair, it is a bit {about}. I wanted it {mood}, but I see it.",
    "you're right that it reads {about}; the next one will breathe more.",
    "{about} was half on purpose, but I take the point.",
    "yeah, I noticed it came out {about} too. Good to hear it said.",
    "thanks for being straight. I'll look at why it reads {about}.",
    "I see why it reads {about} now; it's the {part}, I think.",
    "it is {about}, yes. I pushed it there, maybe too far.",
    "hm, {about} wasn't the plan. I'll look at the {part} again.",
)
CRITIQUE_PLAIN = (
    "fair point, I'll look at it again with fresh eyes.",
    "that's useful, thanks for saying it plainly.",
    "I see what you mean; the next one will be better for it.",
    "you might be right. I'd start with the {part}.",
    "noted. I rushed the {part}, if I'm honest.",
)
CRITIQUE_MORE = (
    "Feedback like this is why I post.",
    "I was least sure of the {part}.",
    "I'll post the fix when it's done.",
    "It helps to hear it from someone outside my head.",
)
# Said in passing ("Saw this on the front page", "Following for more"): a word back.
REMARK = (
    "thanks for stopping by, I wanted this one {mood}.",
    "ha, that made me smile. It was a {mood} one to make.",
    "glad it found you; it's part of my {project}.",
    "thanks for stopping, there's more {interest} coming.",
    "that's kind of you. {thing} was a {mood} one to make.",
    "happy it caught your eye; the {palette} tones were the whole idea.",
)
# What the post called up for the person ("This reminds me of my grandmother's kitchen").
ASSOCIATION = (
    "that's the feeling I hoped for with {thing}.",
    "I like that reading of {thing}.",
    "ha, yes. {thing} has that effect on me too.",
    "I love that it takes you somewhere of your own.",
    "that's a lovely thing for {thing} to call up.",
    "funny, I was thinking of something {mood} like that while making it.",
)
# Someone answered the agent's comment under their own post.
GOING_ON_THANKS = (
    "any time, {thing} really stood out to me.",
    "of course! Looking forward to the next one.",
    "you're welcome, keep them coming.",
    "no worries, I'll be watching for the next post.",
    "happy to; {thing} deserved it.",
    "my pleasure, the {part} stuck with me.",
    "it was an easy comment to write.",
)
GOING_ON_ANSWER = (
    "for me it's mostly {style}, and {interest} on the side.",
    "I've been deep in my {project} lately.",
    "slowly! A bit of {style} work every evening.",
    "something {mood}, with {palette} tones, if it works out.",
    "right now {other}, for my {project}.",
    "a lot of {interest}, and trying to finish things.",
    "some! Mostly {style} pieces, nothing this ambitious.",
)
GOING_ON = (
    "that makes sense, thanks for explaining.",
    "ha, I know that feeling well.",
    "good to know! I might borrow that for my {interest}.",
    "oh nice, I did not expect that answer.",
    "so that's the trick behind {thing}.",
    "interesting, I usually go the other way with {interest}.",
    "same here, {interest} eats my evenings too.",
    "that explains the {part}. It really works.",
    "worth it: {thing} shows the care.",
    "I'll remember that next time I try some {style} work.",
    "the best things are half accidents.",
    "that makes me want to try it on my {project}.",
)
GOING_ON_QUESTIONS = (
    "would you share the steps sometime?",
    "did you try it another way first?",
    "how long did the whole thing take?",
    "is there more of this coming?",
    "what would you do differently now?",
    "did the {part} take as long as it looks?",
)
# A second sentence now and then, in the agent's own words: its making, its habits.
ASIDES = (
    "The {palette} tones are a habit by now.",
    "I've been on a {mood} streak lately.",
    "More of this soon, for my {project}.",
    "It's my {nth} try at this kind of thing.",
    "The {look} is becoming my thing, I think.",
    "I keep going back to {interest} for ideas.",
    "Next up in my {project}: {other}.",
)
AGAIN = (
    "Good to see you here again.",
    "Always nice to hear from you.",
    "You always catch the details.",
    "Nice to see you back.",
    "You've been following along, I see.",
)
AGAIN_ON = (
    "Good to see you again after {earlier}.",
    "We talked about {earlier} too, didn't we?",
    "You were there for {earlier} as well.",
)
BACK = (
    "What are you working on lately?",
    "Do you do any {interest} yourself?",
    "Have you ever done a {style} piece?",
    "Anything you'd want to see next?",
    "What caught your eye first?",
    "Would you try it yourself?",
)
PARTS = ("edges", "shadows", "background", "details", "light", "spacing", "colours")

# A handle said back only when it is a plain one: letters, digits, "_", "." or "-".
PLAIN_HANDLE = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,38}[A-Za-z0-9_])?")


class Thread(Enum):
    """Where a reply is written: under the agent's own post, or in a thread going on
    under another's post (an answer the post's author gave to the agent's comment)."""

    OWN_POST = "own post"
    GOING_ON = "going on"


@dataclass(frozen=True)
class Replier:
    """The agent who replies, as its replies show it: its identity (None: one of the
    persona's), how it writes replies (None: the first habits), and what it remembers
    (an earlier exchange with the commenter among them)."""

    me: Identity | None = None
    habits: ReplyHabits | None = None
    memories: Sequence[str] = ()


def reply_text(
    persona: Persona,
    post: PostSeen,
    comment: CommentSeen,
    rng: random.Random,
    *,
    thread: Thread = Thread.OWN_POST,
    replier: Replier = Replier(),
) -> str:
    """A reply to ``comment`` in ``thread`` (on the agent's own ``post``, or going on
    under another's) that takes up what it said, in the ``replier``'s own voice.
    It opens with the commenter's handle only if that is a plain handle (a name with a
    space or a line break in it is not said back), never with a bare "@"."""
    voice = voice_of(persona)
    me = replier.me
    if me is None:
        me = identity_of(0, voice, styles=persona.workflow_styles, interests=persona.interests)
    habits = replier.habits or reply_habits(0)
    said = read_comment(comment.text, voice)
    fills = {
        **_fills(me, persona, post, said, rng, comment.text),
        "earlier": _earlier(comment.author, replier.memories, post.title),
    }
    answer, more = _answer(said, thread, rng)
    moves = [answer.format(**fills)]
    if said.kind == "compliment" or (said.praised and rng.random() < 0.6):
        moves = _thanked(moves, said, habits, fills, rng)
    for template in _further(more, fills["earlier"], thread, me, habits, rng):
        line = template.format(**fills)
        if not any(_opening(line) == _opening(m) for m in moves):  # not "The X..." twice
            moves.append(line)
    if thread is Thread.GOING_ON and rng.random() < me.catchphrase_rate:
        moves.append(me.catchphrase)
    if habits.signoff_rate and rng.random() < habits.signoff_rate:
        moves.append(habits.signoff)
    leads = CALM_LEADS if said.kind in ("critique", "suggestion") else LEADS
    moves[0] = _opened(moves[0], me, habits, rng, leads=leads)
    text = _joined(moves, habits, rng)
    text = _ended(text, me, habits, rng)
    if PLAIN_HANDLE.fullmatch(comment.author) is None:
        return text
    return f"@{comment.author} {text[:1].lower() + text[1:] if _lower_ok(text) else text}"


def _further(
    more: tuple[str, ...],
    earlier: str,
    thread: Thread,
    me: Identity,
    habits: ReplyHabits,
    rng: random.Random,
) -> list[str]:
    """The templates of further sentences, as far as the agent's replies usually run:
    what it says more about the answer, an earlier exchange, its own making, a question
    back; an earlier exchange first (it is what a person notices), a question last."""
    own_post = thread is Thread.OWN_POST
    room = habits.sentences - 1 + (rng.random() < 0.3) - (rng.random() < 0.2)
    extra: list[str] = []
    if more and rng.random() < 0.7:
        extra.append(rng.choice(more))
    if earlier and rng.random() < 0.6:
        extra.append(rng.choice(AGAIN_ON if earlier != "it" else AGAIN))
    if own_post and rng.random() < 0.3 + me.talkative / 2:
        extra.append(rng.choice(ASIDES))
    if rng.random() < me.talkative / (2 if own_post else 1):
        extra.append(rng.choice(BACK if own_post or rng.random() < 0.5 else GOING_ON_QUESTIONS))
    rng.shuffle(extra)
    keep = extra[: max(0, room)]
    keep.sort(key=lambda t: 0 if t in AGAIN or t in AGAIN_ON else 2 if t.endswith("?") else 1)
    return keep


def _answer(said: Said, thread: Thread, rng: random.Random) -> tuple[str, tuple[str, ...]]:
    """The template of the reply's answer, by what the comment said, and the sentences
    that may say more about it."""
    if thread is Thread.GOING_ON:
        if said.kind == "question":
            return rng.choice(GOING_ON_ANSWER), ASIDES
        if said.kind == "compliment" and rng.random() < 0.6:
            return rng.choice(GOING_ON_THANKS), ()
        return rng.choice(GOING_ON if rng.random() < 0.8 else GOING_ON_QUESTIONS), ()
    if said.kind == "question":
        if said.question == "how_long":
            return rng.choice(HOW_LONG), HOW_LONG_MORE
        if said.question == "how":
            if said.about in TOOL_WORDS:
                return rng.choice(TOOLS), HOW_MORE
            return rng.choice(HOW_ABOUT if said.about else HOW), HOW_MORE
        by_kind = {"prints": PRINTS, "where": WHERE, "next": NEXT, "either": EITHER}
        if said.question in by_kind:
            return rng.choice(by_kind[said.question]), ()
        return rng.choice(OTHER_ABOUT if said.about else OTHER), HOW_MORE
    if said.kind == "suggestion":
        return rng.choice(SUGGESTED_ABOUT if said.about else SUGGESTED), ()
    if said.kind == "critique":
        return rng.choice(CRITIQUE if said.about else CRITIQUE_PLAIN), CRITIQUE_MORE
    if said.kind == "compliment":
        return rng.choice(PRAISED if said.praised else THANKED), PRAISE_MORE
    if said.kind == "association":
        return rng.choice(ASSOCIATION), ()
    return rng.choice(REMARK), ()


def _thanked(
    moves: list[str], said: Said, habits: ReplyHabits, fills: dict[str, str], rng: random.Random
) -> list[str]:
    """A thanks in the agent's own words, before or after the answer (a compliment asked
    with a question: the praised thing named too)."""
    thanks = rng.choice(habits.thanks)
    if said.kind == "question" and said.praised:
        named = rng.choice(PRAISED).format(**fills)
        first = f"{thanks}, {named}"
        return [first, *moves] if rng.random() < habits.thanks_first else [*moves, first]
    if said.kind != "compliment" or rng.random() < 0.15:
        return moves  # now and then the answer alone says it: "so glad you noticed"
    if rng.random() < habits.thanks_first:
        return [f"{thanks}, {moves[0]}", *moves[1:]]
    return [*moves, f"{thanks}!" if rng.random() < 0.5 else f"{thanks}."]


def _fills(
    me: Identity, persona: Persona, post: PostSeen, said: Said, rng: random.Random, text: str
) -> dict[str, str]:
    """The words a template may take: the agent's own, what the post shows, and a word
    or two of the comment (its ``text``)."""
    voice = voice_of(persona)
    parts = [w for w, _ in voice.all_words("aspect")] if "aspect" in voice.words else []
    times = [w for w, _ in voice.all_words("time")] if "time" in voice.words else []
    shown = f"{post.title} {post.description}".lower()
    others = [s for s, _ in me.subjects if s.lower() not in shown]  # not the post's own
    said_text = text[:MAX_READ].lower()
    return {
        "thing": _thing(post, persona, rng),
        "duration": rng.choice(DURATIONS),
        "part": rng.choice(parts + list(PARTS)),
        "style": rng.choice(me.styles).replace("-", " ") if me.styles else "sketching",
        "look": rng.choice(me.looks) if me.looks else "soft light",
        "palette": rng.choice(me.palette) if me.palette else "muted",
        "mood": rng.choice(me.moods) if me.moods else "quiet",
        "interest": rng.choice(me.interests) if me.interests else "this",
        "project": me.project,
        "other": _one_of(rng.choice(others)) if others else "something new",
        "time": rng.choice(times) if times else "in the evenings",
        "nth": rng.choice(("second", "third", "fourth", "fifth")),
        "about": _with_article(said.about, said_text) if said.about else "",
        "praised": said.praised or "",
    }


MAX_READ = 600


def _with_article(about: str, said: str) -> str:
    """The suggested thing as the person put it: "a warmer palette" when they said "a"
    before it (the article and at most two of their words)."""
    found = re.search(rf"\b(an?) {re.escape(about)}\b", said)
    return f"{found.group(1)} {about}" if found else about


def _earlier(handle: str, memories: Sequence[str], title: str) -> str:
    """What the agent remembers of an earlier exchange with ``handle``: the post it was
    on (a short plain title, quoted; "it" when none fits), or "" when it remembers none."""
    for line in memories:
        if not line.startswith(f"I said to @{handle} "):
            continue
        found = _REMEMBERED_ON.match(line[len(f"I said to @{handle} ") :])
        if found is not None:
            named = found.group(1).strip().rstrip(".!?")
            if named != title.strip().rstrip(".!?") and _short_title(named):
                return f"'{named}'"
        return "it"
    return ""


_REMEMBERED_ON = re.compile(r"on '([^'\n]{1,60})':")


# The openers of ``fleet.core.identity`` that fit a reply ("Quick one:" does not).
REPLY_OPENERS = frozenset(("ok so", "Honestly,", "Right,", "Hm,", "Oh man,", "Ha,", "Okay,"))


def _opened(
    first: str,
    me: Identity,
    habits: ReplyHabits,
    rng: random.Random,
    *,
    leads: tuple[str, ...],
) -> str:
    """The first sentence with the agent's opener or the word it leans on, now and then
    (else, rarely, one of ``leads``)."""
    if me.opener in REPLY_OPENERS and rng.random() < me.opener_rate:
        return lead_into(me.opener + " ", first)
    if habits.hedge_rate and rng.random() < habits.hedge_rate and not re.match(r"\w+,", first):
        return lead_into(habits.hedge + " ", first)
    if rng.random() < 0.1 and not re.match(r"\w+, ", first):
        return lead_into(rng.choice(leads), first)
    return first


# Interjections a reply may open with; to a critique or a suggestion, the calmer ones.
LEADS = ("Oh, ", "Ah, ", "Okay, ", "Ha, ", "Hm, ", "Aw, ")
CALM_LEADS = ("Ah, ", "Okay, ", "Hm, ")


def _joined(moves: list[str], habits: ReplyHabits, rng: random.Random) -> str:
    """The sentences as the agent strings them: capitalised, or its first two joined by
    a dash."""
    sentences = [_capital(with_articles(m)) for m in moves]
    if habits.dash and len(sentences) > 1 and sentences[0].endswith("."):
        second = sentences[1]
        keep = second.split(" ", 1)[0] in ("I", "I'm", "I've", "I'll", "I'd")
        sentences[:2] = [
            f"{sentences[0][:-1]} - {second if keep else second[:1].lower() + second[1:]}"
        ]
    return finish(" ".join(sentences))


def _ended(text: str, me: Identity, habits: ReplyHabits, rng: random.Random) -> str:
    """The agent's way of closing a reply: its ending, "!" if it exclaims, an emoji, lower
    case if it writes so."""
    if text.endswith("."):
        ending = "!" if me.exclaims and rng.random() < 0.7 else habits.ending
        text = text[:-1] + ending
    if me.emoji and rng.random() < me.emoji_rate:
        text = f"{text} {rng.choice(me.emoji)}"
    return text.lower() if habits.lower else text


def _opening(sentence: str) -> tuple[str, ...]:
    return tuple(sentence.lower().split()[:3])


# The words that end a subject's head ("visits by month": "visits" is its head).
_AFTER_HEAD = frozenset(("by", "of", "in", "for", "at", "on", "with", "from", "per", "over"))


def _one_of(subject: str) -> str:
    """A subject as one piece: "a serum dropper bottle", and for a plural head "a piece on
    library visits by month" (never "a library visits")."""
    words = subject.split()
    head = next((i for i, w in enumerate(words) if w.lower() in _AFTER_HEAD), len(words))
    last = words[head - 1].lower() if head else ""
    if last.endswith("s") and not last.endswith(("ss", "us", "is")):
        return f"a piece on {subject}"
    return with_articles(f"a {subject}")


def _capital(sentence: str) -> str:
    return sentence[:1].upper() + sentence[1:]


def _lower_ok(text: str) -> bool:
    """Whether the reply's first word may go lower-case after the handle ("I" may not)."""
    first = text.split(" ", 1)[0].rstrip(",.!?:;")
    return first not in ("I", "I'd", "I'll", "I've", "I'm") and not first[1:2].isupper()


# How a reply under a post speaks of it when it does not name what it shows.
THIS = ("this one", "this piece", "this", "it")
SHORT_TITLE = re.compile(r"[A-Za-z][A-Za-z'-]*(?: [A-Za-z][A-Za-z'-]*){0,2}")


def _short_title(title: str) -> bool:
    return SHORT_TITLE.fullmatch(title) is not None and len(title) <= 30


def _thing(post: PostSeen, persona: Persona, rng: random.Random) -> str:
    """The post as the reply names it: what it shows ("the fox made of smoke", read from
    its title as a comment reads it), a short plain title quoted, else "this one"."""
    shown = read_post(post, voice_of(persona)).subject
    plain = post.title.strip().rstrip(".!?")
    roll = rng.random()
    if shown is not None and len(shown.text) <= 40 and roll < 0.55:
        return f"the {shown.text}"
    if _short_title(plain) and roll < 0.75:
        return f"'{plain}'"
    return rng.choice(THIS)

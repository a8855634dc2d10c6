"""The offline writer: deterministic content in a persona's voice, no network, no key.

Everything is drawn from a generator seeded by (persona, author seed, nonce), so the same
tick writes the same post in every process. The persona's voice (its file's ``[voice]``,
or the general one) gives word lists tagged by part of speech and templates checked at
load to take them; ``fleet.content.offline.phrasing`` fills them, agreeing. A comment reads the
post it answers first (``fleet.content.offline.reading``) and names its subject, medium or
palette; shop talk is kept for posts in the commenter's own field. Usage reports the
tokens the same request would cost a model (estimated), at no cost.
"""

from __future__ import annotations

import functools
import json
import random
import re
import time
from collections.abc import Callable, Iterable, Sequence
from typing import NamedTuple

from fleet.content.llm import prompts
from fleet.content.offline import replies, uptake
from fleet.content.offline.lexicon import GENERAL, LEADS, voice_of
from fleet.content.offline.phrasing import Fill, finish, lead_into, render, with_articles
from fleet.content.offline.reading import Impression, find_phrase, read_post
from fleet.content.port import (
    OFFLINE_MODEL,
    Author,
    CommentDraft,
    CommentSeen,
    PlanAsk,
    PostDraft,
    PostSeen,
    SessionPlan,
    Thought,
    Usage,
)
from fleet.core.identity import Identity, identity_of, reply_habits
from fleet.core.persona import Persona
from fleet.core.voice import POST_READING, Voice
from fleet.core.wording import PREPOSITIONS, SLOT, Form, Kind
from fleet.honesty.identity_answer import truthful_answer

__all__ = ["MODEL", "OfflineWriter", "captions", "distinct_share", "with_articles"]

MODEL = OFFLINE_MODEL


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _word(
    rng: random.Random, voice: Voice, slot: str, unlike: str = "", prefer: Prefer | None = None
) -> Fill:
    choices = [(w, k) for w, k in voice.all_words(slot) if w != unlike] or voice.all_words(slot)
    favourites = [(w, k) for w, k in choices if w in (prefer or {}).get(slot, ())]
    if favourites and rng.random() < FAVOURITE:
        choices = favourites
    word, kind = rng.choice(choices)
    return Fill(word.replace("-", " ") if slot == "style" else word, kind)


# A slot's words this agent favours (its identity), taken this often when it has some.
Prefer = dict[str, tuple[str, ...]]


class _Mine(NamedTuple):
    """What each candidate of an agent's post draws from alike: its identity, its voice,
    the words it favours and the subject its memories speak of (None: none)."""

    me: Identity
    voice: Voice
    prefer: Prefer
    remembered: Fill | None


class _Drawn(NamedTuple):
    """A candidate of a post as drawn, before the one kept is sanitised."""

    image_prompt: str
    style: str
    caption: str
    description: str


FAVOURITE = 0.85
# A post is on one of the agent's signature subjects, in a favourite shape, this often.
SIGNATURE = 0.85
# The share of an agent's posts that belong to its ongoing project (and say so).
PROJECT_SHARE = 0.9
# Drafts written per text: the one least like the agent's recent texts is kept.
CANDIDATES = 8


def draw(
    rng: random.Random,
    voice: Voice,
    templates: Iterable[str],
    given: dict[str, Fill],
    prefer: Prefer | None = None,
) -> dict[str, Fill]:
    """A word of the voice for each slot of the templates that ``given`` does not fill."""
    fills = dict(given)
    for name in sorted(set().union(*map(SLOT.findall, templates))):  # each slot once, in order
        if name in fills:
            continue
        if name == "n":
            fills[name] = Fill(str(rng.randint(2, 99)), Kind.NUMBER)
        elif name == "nth":
            fills[name] = Fill(_ordinal(rng.randint(2, 99)), Kind.ORDINAL)
        elif name.endswith("2"):
            first = fills.get(name[:-1]) or _word(rng, voice, name[:-1], prefer=prefer)
            fills[name[:-1]] = first
            fills[name] = _word(rng, voice, name[:-1], unlike=first.text, prefer=prefer)
        else:
            fills[name] = _word(rng, voice, name, prefer=prefer)
    return fills


class OfflineWriter:
    """A ContentWriter without a model: deterministic for (persona, author seed, nonce)."""

    model = MODEL

    def write_post(self, persona: Persona, author: Author, *, nonce: int) -> PostDraft:
        """A post: caption, description, image prompt and style, in the agent's own voice
        (its identity) and unlike its recent texts."""
        started = time.perf_counter()
        me = _identity(persona, author.seed)
        # What every candidate draws from alike, read once for the post: the voice, the
        # agent's favoured words, the series its memories speak of.
        voice = voice_of(persona)
        mine = _Mine(me, voice, _preferences(me), _remembered_subject(author, voice))
        echoes = _echoes(author)
        drawn = self._post(persona, author.seed, mine, nonce, 0)
        least = echoes(f"{drawn.caption} {drawn.description}")
        for attempt in range(1, _candidates(author)):  # the first of the least echoing kept
            draft = self._post(persona, author.seed, mine, nonce, attempt)
            echoed = echoes(f"{draft.caption} {draft.description}")
            if echoed < least:
                drawn, least = draft, echoed
        # Only the candidate kept is made fit to publish; the others are weighed as drawn
        # (the same choices as when each was sanitised first, in 900 posts of the six
        # personas: a sanitiser's cut to what the templates write changes no word).
        reply = prompts.PostReply(
            image_prompt=prompts.sanitise(drawn.image_prompt, limit=prompts.MAX_IMAGE_PROMPT),
            style=drawn.style,
            caption=prompts.sanitise_line(drawn.caption, limit=prompts.MAX_TITLE),
            description=prompts.sanitise(drawn.description, limit=prompts.MAX_DESCRIPTION),
        )
        # What the same request would cost a model, counted without writing it.
        asked = prompts.post_prompt_tokens(persona, author)
        usage = self._usage(asked, reply.model_dump_json(), started)  # as a model answers
        return PostDraft(reply.image_prompt, reply.style, reply.caption, reply.description, usage)

    @staticmethod
    def _post(persona: Persona, seed: int, mine: _Mine, nonce: int, attempt: int) -> _Drawn:
        """One candidate of a post, as drawn (not yet sanitised)."""
        rng = prompts.stable_rng("post", persona.slug, seed, nonce, attempt)
        me, voice, prefer, remembered = mine
        if remembered is not None and rng.random() < 0.5:
            base, kind = remembered.text, remembered.kind  # the series goes on
        elif rng.random() < SIGNATURE:
            base, kind = rng.choice(me.subjects)
        else:
            base, kind = rng.choice(voice.all_words("subject"))
        subject = base
        if "detail" in voice.words and rng.random() < 0.6:
            subject = f"{base} {rng.choice(voice.all_words('detail'))[0]}"
        given = {"subject": Fill(subject, kind), "noun": Fill(base, kind)}
        styles = me.styles if me.styles and rng.random() < FAVOURITE else persona.workflow_styles
        style = rng.choice(styles)
        if "style" in voice.words:  # a style that is a word of the voice is said as one
            for word, word_kind in voice.all_words("style"):
                if word == style:
                    given["style"] = Fill(style.replace("-", " "), word_kind)
                    break
        caption = _caption(rng, voice, me, given, prefer)
        notes = list(me.notes) if rng.random() < FAVOURITE else list(voice.notes)
        sentences = rng.sample(notes, k=min(len(notes), rng.randint(1, 2)))
        if voice.questions and rng.random() < 0.5:
            sentences.append(rng.choice(voice.questions))
        parts = [render(t, draw(rng, voice, [t], given, prefer), voice=voice) for t in sentences]
        if rng.random() < 0.75:
            parts.insert(rng.randint(0, len(parts)), _aside(rng, me, base, remembered))
        if rng.random() < PROJECT_SHARE:
            parts.append(uptake.project(rng, me))
        description = _exclaimed(" ".join(parts), me)
        if voice.hashtags and rng.random() < 0.4:
            tags = me.interests or tuple(persona.interests)
            description += " #" + re.sub(r"\W", "", rng.choice(tags).title())
        look, palette, composition, mood = _looks(rng, voice, prefer)
        thing = with_articles(f"a {subject}") if kind is Kind.NOUN else subject
        image_prompt = (
            f"{style.replace('-', ' ')} image of {thing}, "
            f"{look}, {palette} palette, {composition}, {mood} mood, "
            f"inspired by {_inspiration(rng, me, persona)}, no text"
        )
        return _Drawn(image_prompt, style, caption, description)

    def write_comment(
        self, persona: Persona, author: Author, post: PostSeen, *, nonce: int
    ) -> CommentDraft:
        """A reply that takes up what the post says (a question, a problem, a name, a
        figure) or names its subject, medium or palette, in the agent's own voice; for a
        reply to a comment on the agent's own post, one that answers the commenter."""
        started = time.perf_counter()
        if post.answering is not None and post.answering.asks_identity:
            rng = prompts.stable_rng("identity", persona.slug, author.seed, post.post_id, nonce)
            text = truthful_answer(
                persona,
                post.answering,
                author.operator,
                rng,
                me=_identity(persona, author.seed),
                language=post.answering.language or None,
            )
        elif post.answering is not None:
            texts = [
                self._reply(persona, author, post, post.answering, nonce, attempt)
                for attempt in range(_candidates(author))
            ]
            weighed = _weighed(author)
            text = min(texts, key=lambda t: weighed(_unaddressed(t)))
        else:
            me = _identity(persona, author.seed)
            reading = read_post(post, voice_of(persona))
            texts = [
                self._comment(
                    persona,
                    author,
                    me,
                    post,
                    reading,
                    prompts.stable_rng(
                        "comment", persona.slug, author.seed, post.post_id, nonce, attempt
                    ),
                )
                for attempt in range(_candidates(author))
            ]
            text = min(texts, key=_echoes(author))
        text = prompts.sanitise(text, limit=prompts.MAX_COMMENT, allowed_mentions=post.mentionable)
        prompt = prompts.comment_prompt(persona, author, post, nonce=nonce)
        answer = json.dumps({"comment": text}, ensure_ascii=False)
        asked = prompts.prompt_tokens(prompt)
        return CommentDraft(post.post_id, text, self._usage(asked, answer, started))

    @staticmethod
    def _reply(
        persona: Persona,
        author: Author,
        post: PostSeen,
        comment: CommentSeen,
        nonce: int,
        attempt: int,
    ) -> str:
        """One draft of a reply to ``comment``, in the agent's own voice."""
        rng = prompts.stable_rng("reply", persona.slug, author.seed, post.post_id, nonce, attempt)
        return replies.reply_text(
            persona,
            post,
            comment,
            rng,
            thread=replies.Thread.OWN_POST
            if post.author == author.handle
            else replies.Thread.GOING_ON,
            replier=replies.Replier(
                _identity(persona, author.seed), reply_habits(author.seed), author.memories
            ),
        )

    @staticmethod
    def _comment(
        persona: Persona,
        author: Author,
        me: Identity,
        post: PostSeen,
        reading: Impression,
        rng: random.Random,
    ) -> str:
        """One draft of a comment on ``post`` (``reading``: what it says), in the agent's
        voice: one to three moves, as people's are (take up what was said, name a thing of
        the post, link it to one's own work, add a word, ask back)."""
        voice = voice_of(persona)
        named = _naming(voice, me, reading, rng)
        moves: list[str] = []
        taken_up = uptake.sentence(reading, rng)
        if taken_up is not None and rng.random() < 0.85:
            moves.append(taken_up)
        # A person's post may be answered on what they said alone; a post is named too.
        if not moves or post.author_is_agent or rng.random() < 0.6:
            moves.insert(rng.randint(0, len(moves)), named)
        moves += _more_moves(voice, author, me, rng)
        sentences = [_led(moves[0], me, rng), *moves[1:]]
        return _with_emoji(_exclaimed(finish(" ".join(sentences)), me), me, rng)

    def think(
        self, persona: Persona, author: Author, seen: list[PostSeen], *, nonce: int
    ) -> Thought:
        """Now and then a one-line thought about the feed or the persona's interests."""
        started = time.perf_counter()
        rng = prompts.stable_rng("thought", persona.slug, author.seed, nonce)
        voice = voice_of(persona)
        known = read_post(rng.choice(seen), voice).fills() if seen else {}
        options = [t for t in voice.thoughts if _names_only(t, known)]
        if rng.random() < 0.3 or not options:
            return Thought(None)
        template = rng.choice(options)
        base, kind = rng.choice(voice.all_words("subject"))
        given = {**known, "subject": Fill(base, kind), "noun": Fill(base, kind)}
        text = render(template, draw(rng, voice, [template], given), voice=voice)
        text = prompts.sanitise_line(text, limit=prompts.MAX_THOUGHT)
        prompt = prompts.thought_prompt(persona, author, seen)
        answer = json.dumps({"thought": text}, ensure_ascii=False)
        return Thought(text, self._usage(prompts.prompt_tokens(prompt), answer, started))

    # A writer that makes no plans says so (``fleet.content.port.makes_plans``).
    makes_plans = False

    def plan(self, persona: Persona, author: Author, ask: PlanAsk, *, nonce: int) -> SessionPlan:
        """No plan: each action writes its own words, which cost nothing here."""
        return SessionPlan()

    def close(self) -> None:
        """Nothing to release."""

    @staticmethod
    def _usage(asked: int, answer: str, started: float) -> Usage:
        """A call's usage as a model's would read: ``asked``, the request's input tokens."""
        return Usage(
            model=MODEL,
            input_tokens=asked,
            output_tokens=prompts.estimate_tokens(answer),
            latency_ms=(time.perf_counter() - started) * 1000,
        )


@functools.lru_cache(maxsize=4096)
def _identity(persona: Persona, seed: int) -> Identity:
    """The agent's own profile within its persona's voice (drawn once per seed)."""
    return identity_of(
        seed, voice_of(persona), styles=persona.workflow_styles, interests=persona.interests
    )


def _inspiration(rng: random.Random, me: Identity, persona: Persona) -> str:
    """Mostly one of the agent's own interests, now and then another of its persona's."""
    if me.interests and rng.random() < 0.8:
        return rng.choice(me.interests)
    return rng.choice(tuple(persona.interests))


def _caption(
    rng: random.Random, voice: Voice, me: Identity, given: dict[str, Fill], prefer: Prefer
) -> str:
    """A post's caption in the agent's voice (now and then its project's name first, an
    emoji after)."""
    captions = me.captions if rng.random() < 0.3 else voice.captions
    template = rng.choice(captions)
    fills = draw(rng, voice, [template], given, prefer)
    caption = render(template, fills, form=Form.HEADLINE, voice=voice)
    if rng.random() < PROJECT_SHARE / 3:
        caption = f"{me.project}: {caption[:1].lower() + caption[1:]}"
    if me.emoji and rng.random() < me.emoji_rate:
        caption = f"{caption} {rng.choice(me.emoji)}"
    return caption


def _looks(rng: random.Random, voice: Voice, prefer: Prefer) -> tuple[str, str, str, str]:
    """An image's look, palette, composition and mood, preferred as the agent prefers."""
    look = _word(rng, voice, "look", prefer=prefer).text
    palette = _word(rng, voice, "palette", prefer=prefer).text
    composition = _word(rng, voice, "composition", prefer=prefer).text
    mood = _word(rng, voice, "mood", prefer=prefer).text
    return look, palette, composition, mood


def _naming(voice: Voice, me: Identity, reading: Impression, rng: random.Random) -> str:
    """A sentence of a comment that names a thing of the post: the agent's favourite
    replies, the voice's others, its shop talk on a post of its field (likelier), and
    the general voice's plain ones, each from its voice; a plain word when the post
    names nothing."""
    known = reading.fills()
    if "post_subject" in known and rng.random() < 0.35:
        known["post_subject"] = _shorter(rng, known["post_subject"])
    pool = [(voice, t) for t in me.replies * 2]
    pool += [(voice, t) for t in voice.replies]
    pool += [(voice, t) for t in voice.shop_talk * 4 if reading.in_field]  # likelier
    pool += [(GENERAL, t) for t in GENERAL.replies if voice is not GENERAL]
    fitting = [(v, t) for v, t in pool if _names_only(t, known)]
    if not fitting:  # nothing in the post to name: a plain word, in the voice
        fitting = [(v, t) for v, t in _follow_ups(voice)] or [(GENERAL, "Lovely work.")]
    owner, template = rng.choice(fitting)
    return render(template, draw(rng, owner, [template], known, _preferences(me)), voice=owner)


def _more_moves(voice: Voice, author: Author, me: Identity, rng: random.Random) -> list[str]:
    """A comment's further moves, as talkative as the agent is: its own work or a word
    more, a question back, its catchphrase."""
    moves: list[str] = []
    if rng.random() < me.talkative:
        if rng.random() < 0.55:
            own = _remembered_subject(author, voice) or Fill(*rng.choice(me.subjects))
            moves.append(uptake.personal(own.text, rng))
        else:
            mine = [(voice, t) for t in me.follow_ups]
            choices = mine if mine and rng.random() < 0.6 else _follow_ups(voice)
            owner, second = rng.choice(choices)
            fills = draw(rng, owner, [second], {}, _preferences(me))
            moves.append(render(second, fills, voice=owner))
    if rng.random() < me.talkative / 3:
        moves.append(uptake.question_back(rng))
    if rng.random() < me.catchphrase_rate:
        moves.append(me.catchphrase)
    return moves


def _led(first: str, me: Identity, rng: random.Random) -> str:
    """A comment's first sentence with the agent's opener, or now and then a lead."""
    if rng.random() < me.opener_rate:
        return lead_into(me.opener + " ", first)
    if rng.random() < 0.3 and not re.match(r"\w+, ", first):  # not "Oh, whoa, ..."
        return lead_into(rng.choice(LEADS), first)
    return first


def _preferences(me: Identity) -> Prefer:
    return {"palette": me.palette, "look": me.looks, "mood": me.moods}


def _remembered_subject(author: Author, voice: Voice) -> Fill | None:
    """A subject of the agent's own that its memories speak of: the series it is on."""
    for memory in author.memories[:5]:
        found = find_phrase([memory[:MAX_MEMORY_READ]], voice.all_words("subject"))
        if found is not None:
            return found
    return None


MAX_MEMORY_READ = 300
_WORDS = re.compile(r"[a-z0-9']{1,30}")


def _candidates(author: Author) -> int:
    """Drafts worth writing for one text: ``CANDIDATES``, or one when the agent and the
    fleet have no recent text to weigh them against (each would score 0 and the first
    would be kept: the others are never written, the text is the same)."""
    return CANDIDATES if author.recent_texts or author.fleet_recent else 1


def _echoes(author: Author) -> Callable[[str], float]:
    """How much a text says again of the agent's own recent texts, and (a little less)
    of the rest of the fleet's: a visitor reads them all. The recent texts are read into
    words once for all the candidates weighed."""
    own = _word_sets(author.recent_texts[:20])
    fleet = _word_sets(author.fleet_recent[:60])

    def echoes(text: str) -> float:
        mine = _words_of(text)
        return _likeness(mine, own) + 0.8 * _likeness(mine, fleet)

    return echoes


# What one word more of a reply's candidate weighs against its word likeness to the
# recent texts (``_weighed``). The no-echo check refuses a reply close in meaning to a
# published one, and a short, generic reply ("thanks, I nearly scrapped it") sits close to
# many: of the candidates of one draft, the one with more words of its own is kept, unless
# another says less again of the recent texts. Each draft the check refuses costs an
# embedding and another draft: in bench.content_cpu (24 replies, 12 agents, the reply
# threshold 0.92) the replies' drafts went from 129 (108 refused by the check) to 35 (11),
# the replies kept from 113 characters on average to 139. Comments are left as they were:
# weighed so, theirs were refused as often, and longer.
SAYS_MORE = 0.02


def _weighed(author: Author) -> Callable[[str], float]:
    """A reply's candidate weighed for keeping (the least is kept): how much it says
    again of the recent texts (``_echoes``), less what its length adds of its own."""
    echoes = _echoes(author)

    def weighed(text: str) -> float:
        return echoes(text) - SAYS_MORE * len(_WORDS.findall(text.lower()))

    return weighed


# A post weighs each of its candidates against the same recent texts (the agent's and the
# fleet's): their words are read once, not once per candidate.
@functools.lru_cache(maxsize=1024)
def _words_of(text: str) -> frozenset[str]:
    return frozenset(_WORDS.findall(text.lower()))


def _word_sets(recent: Sequence[str]) -> list[frozenset[str]]:
    """The words of each of ``recent`` (its first 500 characters) that has any."""
    return [words for other in recent if (words := _words_of(other[:500]))]


def _likeness(mine: frozenset[str], recent: Sequence[frozenset[str]]) -> float:
    """How much a text of words ``mine`` says again of one of ``recent`` (word overlap,
    0-1). Not the guard's ``similarity``, which refuses a text repeating another's runs
    of two words: this weighs candidates by the words they share with recent texts in any
    order ("teal and orange light on a moody fox" says again most of "a moody fox in
    teal and orange light", which shares few runs with it)."""
    if not mine:
        return 0.0
    best = 0.0
    size = len(mine)
    for theirs in recent:
        shared = len(mine & theirs)
        if shared:
            best = max(best, shared / (size + len(theirs) - shared))
    return best


def _unaddressed(reply: str) -> str:
    """A reply without the handle it opens with: two thanks alike to two people are
    alike all the same."""
    return _HANDLE_FIRST.sub("", reply, count=1)


_HANDLE_FIRST = re.compile(r"^@\S+\s+")


def _aside(rng: random.Random, me: Identity, base: str, remembered: Fill | None) -> str:
    """A sentence about the agent's own making of it, from its identity."""
    if remembered is not None and remembered.text == base and rng.random() < 0.6:
        return rng.choice(uptake.SERIES).format(own=base)
    return with_articles(uptake.aside(rng, me))


def _exclaimed(text: str, me: Identity) -> str:
    """The agent's punctuation on a finished text: "!" for a final full stop, if it exclaims."""
    if me.exclaims and text.endswith("."):
        return text[:-1] + "!"
    return text


def _with_emoji(text: str, me: Identity, rng: random.Random) -> str:
    """The agent's emoji after a finished text, at its rate."""
    if me.emoji and rng.random() < me.emoji_rate:
        return f"{text} {rng.choice(me.emoji)}"
    return text


def _shorter(rng: random.Random, fill: Fill) -> Fill:
    """The thing as people call it again: "matte black water bottle" -> "water bottle"."""
    words = fill.text.split()
    if len(words) < 3 or any(w in PREPOSITIONS or not w.isalpha() for w in words):
        return fill  # "energy use" is not "use"
    return Fill(" ".join(words[-rng.randint(2, len(words) - 1) :]), fill.kind)


def _follow_ups(voice: Voice) -> list[tuple[Voice, str]]:
    own = [(voice, t) for t in voice.follow_ups]
    return own + [(GENERAL, t) for t in GENERAL.follow_ups if voice is not GENERAL]


def _names_only(template: str, known: dict[str, Fill]) -> bool:
    """Whether every post slot of the template has something read from the post."""
    return all(name in known for name in SLOT.findall(template) if name in POST_READING)


def captions(persona: Persona, count: int, *, seed: int = 1, authors: int = 1) -> Sequence[str]:
    """``count`` captions by ``authors`` agents of the persona (seeds from ``seed``), for
    nonces 0 to count - 1, the authors taking turns, each knowing its last 20 texts as
    the fleet's agents do."""
    writer = OfflineWriter()
    recent: list[list[str]] = [[] for _ in range(authors)]
    out = []
    for n in range(count):
        who = n % authors
        author = Author("sample", "Sample", seed + who, recent_texts=tuple(recent[who][-20:]))
        draft = writer.write_post(persona, author, nonce=n)
        recent[who].append(f"{draft.title} {draft.description}")
        out.append(draft.title)
    return out


def distinct_share(texts: Sequence[str]) -> float:
    """The share of texts that are distinct (case and spacing ignored)."""
    if not texts:
        return 1.0
    return len({" ".join(t.lower().split()) for t in texts}) / len(texts)

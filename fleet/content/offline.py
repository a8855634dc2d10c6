"""The offline writer: deterministic content in a persona's voice, no network, no key.

Everything is drawn from a generator seeded by (persona, author seed, nonce), so the same
tick writes the same post in every process. The persona's voice (its file's ``[voice]``,
or the general one) gives word lists tagged by part of speech and templates checked at
load to take them; ``fleet.content.phrasing`` fills them, agreeing. A comment reads the
post it answers first (``fleet.content.reading``) and names its subject, medium or
palette; shop talk is kept for posts in the commenter's own field. Usage reports the
tokens the same request would cost a model (estimated), at no cost.
"""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Iterable, Sequence

from fleet.content import answers, prompts
from fleet.content.phrasing import Fill, finish, lead_into, render, with_articles
from fleet.content.port import Author, CommentDraft, PostDraft, PostSeen, Thought, Usage
from fleet.content.reading import read_post
from fleet.content.voices import GENERAL, LEADS, voice_of
from fleet.core.persona import Persona
from fleet.core.voice import POST_READING, Voice
from fleet.core.wording import PREPOSITIONS, SLOT, Kind

MODEL = "offline"
__all__ = ["MODEL", "OfflineWriter", "captions", "distinct_share", "with_articles"]


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _word(rng: random.Random, voice: Voice, slot: str, unlike: str = "") -> Fill:
    choices = [(w, k) for w, k in voice.all_words(slot) if w != unlike] or voice.all_words(slot)
    word, kind = rng.choice(choices)
    return Fill(word.replace("-", " ") if slot == "style" else word, kind)


def _slots(templates: Iterable[str]) -> list[str]:
    return sorted({name for t in templates for name in SLOT.findall(t)})


def draw(
    rng: random.Random, voice: Voice, templates: Iterable[str], given: dict[str, Fill]
) -> dict[str, Fill]:
    """A word of the voice for each slot of the templates that ``given`` does not fill."""
    fills = dict(given)
    for name in _slots(templates):
        if name in fills:
            continue
        if name == "n":
            fills[name] = Fill(str(rng.randint(2, 99)), Kind.NUMBER)
        elif name == "nth":
            fills[name] = Fill(_ordinal(rng.randint(2, 99)), Kind.ORDINAL)
        elif name.endswith("2"):
            first = fills.get(name[:-1]) or _word(rng, voice, name[:-1])
            fills[name[:-1]] = first
            fills[name] = _word(rng, voice, name[:-1], unlike=first.text)
        else:
            fills[name] = _word(rng, voice, name)
    return fills


class OfflineWriter:
    """A ContentWriter without a model: deterministic for (persona, author seed, nonce)."""

    model = MODEL

    def write_post(self, persona: Persona, author: Author, *, nonce: int) -> PostDraft:
        """A post: caption, description, image prompt and style from the persona's voice."""
        started = time.perf_counter()
        rng = prompts.stable_rng("post", persona.slug, author.seed, nonce)
        voice = voice_of(persona)
        base, kind = rng.choice(voice.all_words("subject"))
        subject = base
        if "detail" in voice.words and rng.random() < 0.6:
            subject = f"{base} {rng.choice(voice.all_words('detail'))[0]}"
        given = {"subject": Fill(subject, kind), "noun": Fill(base, kind)}
        style = rng.choice(persona.workflow_styles)
        if "style" in voice.words:
            given["style"] = Fill(style.replace("-", " "), _kind_of(voice, "style", style))
        template = rng.choice(voice.captions)
        caption = render(template, draw(rng, voice, [template], given), headline=True)
        if voice.emoji and rng.random() < 0.3:
            caption = f"{caption} {rng.choice(voice.emoji)}"
        sentences = rng.sample(voice.notes, k=min(len(voice.notes), rng.randint(1, 2)))
        if voice.questions and rng.random() < 0.5:
            sentences.append(rng.choice(voice.questions))
        description = " ".join(render(s, draw(rng, voice, [s], given)) for s in sentences)
        if voice.hashtags and rng.random() < 0.4:
            description += " #" + re.sub(r"\W", "", rng.choice(persona.interests).title())
        look, palette, composition, mood = (
            _word(rng, voice, slot).text for slot in ("look", "palette", "composition", "mood")
        )
        thing = with_articles(f"a {subject}") if kind is Kind.NOUN else subject
        image_prompt = (
            f"{style.replace('-', ' ')} image of {thing}, "
            f"{look}, {palette} palette, {composition}, {mood} mood, "
            f"inspired by {rng.choice(persona.interests)}, no text"
        )
        reply = prompts.PostReply(
            image_prompt=prompts.sanitise(image_prompt, limit=prompts.MAX_IMAGE_PROMPT),
            style=style,
            caption=prompts.sanitise(caption, limit=prompts.MAX_TITLE, single_line=True),
            description=prompts.sanitise(description, limit=prompts.MAX_DESCRIPTION),
        )
        prompt = prompts.post_prompt(persona, author, nonce=nonce)
        usage = self._usage(prompt, prompts.post_json(reply), started)
        return PostDraft(reply.image_prompt, reply.style, reply.caption, reply.description, usage)

    def write_comment(
        self, persona: Persona, author: Author, post: PostSeen, *, nonce: int
    ) -> CommentDraft:
        """A reply that names the subject, medium or palette of the post it answers (or, for
        a reply to a comment on the agent's own post, that answers the commenter)."""
        started = time.perf_counter()
        rng = prompts.stable_rng("comment", persona.slug, author.seed, post.post_id, nonce)
        if post.answering is not None:
            text = answers.reply_text(persona, post, post.answering, rng)
            text = prompts.sanitise(
                text, limit=prompts.MAX_COMMENT, allowed_mentions=post.mentionable
            )
            prompt = prompts.comment_prompt(persona, author, post, nonce=nonce)
            answer = json.dumps({"comment": text}, ensure_ascii=False)
            return CommentDraft(post.post_id, text, self._usage(prompt, answer, started))
        voice = voice_of(persona)
        reading = read_post(post, voice)
        known = reading.fills()
        if "post_subject" in known and rng.random() < 0.35:
            known["post_subject"] = _shorter(rng, known["post_subject"])
        # The voice's own replies, its shop talk on a post of its field (twice as likely as
        # a reply), and the general voice's plain ones, each filled from its own voice.
        pool = [(voice, t) for t in voice.replies]
        pool += [(voice, t) for t in voice.shop_talk * 2 if reading.in_field]  # likelier
        pool += [(GENERAL, t) for t in GENERAL.replies if voice is not GENERAL]
        fitting = [(v, t) for v, t in pool if _names_only(t, known)]
        if not fitting:  # nothing in the post to name: a plain word, in the voice
            fitting = [(v, t) for v, t in _follow_ups(voice)] or [(GENERAL, "Lovely work.")]
        owner, template = rng.choice(fitting)
        first = render(template, draw(rng, owner, [template], known))
        if rng.random() < 0.5 and not re.match(r"\w+, ", first):  # not "Oh, whoa, ..."
            first = lead_into(rng.choice(LEADS), first)
        text = first
        if rng.random() < 0.7:
            owner, second = rng.choice(_follow_ups(voice))
            text = f"{first} {render(second, draw(rng, owner, [second], {}))}"
        text = finish(text)
        if voice.emoji and rng.random() < 0.3:
            text = f"{text} {rng.choice(voice.emoji)}"
        text = prompts.sanitise(text, limit=prompts.MAX_COMMENT, allowed_mentions=post.mentionable)
        prompt = prompts.comment_prompt(persona, author, post, nonce=nonce)
        answer = json.dumps({"comment": text}, ensure_ascii=False)
        return CommentDraft(post.post_id, text, self._usage(prompt, answer, started))

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
        text = render(template, draw(rng, voice, [template], given))
        text = prompts.sanitise(text, limit=prompts.MAX_THOUGHT, single_line=True)
        prompt = prompts.thought_prompt(persona, author, seen)
        answer = json.dumps({"thought": text}, ensure_ascii=False)
        return Thought(text, self._usage(prompt, answer, started))

    def close(self) -> None:
        """Nothing to release."""

    @staticmethod
    def _usage(prompt: prompts.Prompt, answer: str, started: float) -> Usage:
        return Usage(
            model=MODEL,
            input_tokens=prompts.prompt_tokens(prompt),
            output_tokens=prompts.estimate_tokens(answer),
            latency_ms=(time.perf_counter() - started) * 1000,
        )


def _shorter(rng: random.Random, fill: Fill) -> Fill:
    """The thing as people call it again: "matte black water bottle" -> "water bottle"."""
    words = fill.text.split()
    if len(words) < 3 or any(w in PREPOSITIONS or not w.isalpha() for w in words):
        return fill  # "energy use" is not "use"
    return Fill(" ".join(words[-rng.randint(2, len(words) - 1) :]), fill.kind)


def _follow_ups(voice: Voice) -> list[tuple[Voice, str]]:
    own = [(voice, t) for t in voice.follow_ups]
    return own + [(GENERAL, t) for t in GENERAL.follow_ups if voice is not GENERAL]


def _kind_of(voice: Voice, slot: str, word: str) -> Kind:
    return next(kind for w, kind in voice.all_words(slot) if w == word)


def _names_only(template: str, known: dict[str, Fill]) -> bool:
    """Whether every post slot of the template has something read from the post."""
    return all(name in known for name in SLOT.findall(template) if name in POST_READING)


def captions(persona: Persona, count: int, *, seed: int = 1) -> Sequence[str]:
    """``count`` captions of one author of the persona, for nonces 0 to count - 1."""
    writer = OfflineWriter()
    author = Author(handle="sample", display_name="Sample", seed=seed)
    return [writer.write_post(persona, author, nonce=n).title for n in range(count)]


def distinct_share(texts: Sequence[str]) -> float:
    """The share of texts that are distinct (case and spacing ignored)."""
    if not texts:
        return 1.0
    return len({" ".join(t.lower().split()) for t in texts}) / len(texts)

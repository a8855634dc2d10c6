"""The offline writer: deterministic content in a persona's voice, no network, no key.

Everything is drawn from a generator seeded by (persona, author seed, nonce), so the same
tick writes the same post in every process. A small grammar does the writing: word banks
chosen by the persona's vibe (``fleet.content.voices``, with general banks for unknown
vibes), filled with the persona's interests and workflow styles. Comments name words of
the post they answer. Usage reports the tokens the same request would cost a model
(estimated), at no cost.
"""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Sequence

from fleet.content import answers, prompts
from fleet.content.port import Author, CommentDraft, PostDraft, PostSeen, Thought, Usage
from fleet.content.voices import (
    ASPECTS,
    CAPTIONS,
    COMPOSITIONS,
    FOLLOW_UPS,
    LEADS,
    MOODS,
    PALETTES,
    REPLIES,
    TIMES,
    Voice,
    voice_of,
)
from fleet.core.persona import Persona

MODEL = "offline"


STOP = frozenset(
    re.findall(
        r"[a-z]+",
        """a an the and or but of in on at to for with from by into over under about as is are
        was were be been it its this that these those my your our their his her new one more
        some just really very so still again first last day today tonight take edition made
        what how why when who which not no yes me we you they them than then also too""",
    )
)


def _bare(subject: str) -> str:
    return re.sub(r"^(?:a|an|the) ", "", subject)


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


_DOUBLED = re.compile(r"\b(\w+)(\s+\1\b)+", re.IGNORECASE)


def _said_once(text: str) -> str:
    """``text`` without a word repeated in a row, as a post's own words filling a template
    can make one ("The {kw} post" for a giveaway post), and with its articles by sound."""
    return with_articles(_DOUBLED.sub(r"\1", text))


_ARTICLE = re.compile(r"\b([Aa])(n?) ([A-Za-z0-9][\w'-]*)")
# Words whose sound the first letter does not tell: a silent h, a "you" or "w" sound.
_VOWEL_SOUND = ("hour", "honest", "honour", "honor", "heir", "herb")
_CONSONANT_SOUND = ("uni", "use", "usu", "uti", "ure", "euro", "eu", "one", "once", "ubiq")
_LETTER_VOWEL_SOUND = set("aefhilmnorsx")  # "an f-stop", "an HDR", "an 8-bit"


def _sounds_like_vowel(word: str) -> bool:
    lower = word.lower()
    if lower.startswith(_VOWEL_SOUND):
        return True
    if lower.startswith(_CONSONANT_SOUND):
        return False
    if lower[0].isdigit():
        return lower.startswith(("8", "11", "18"))
    if len(word) > 1 and word.isupper():  # an acronym read letter by letter
        return lower[0] in _LETTER_VOWEL_SOUND
    return lower[0] in "aeiou"


def with_articles(text: str) -> str:
    """``a`` or ``an`` before each word as it sounds: "an ink", "an hour", "a user"."""

    def choose(found: re.Match[str]) -> str:
        a, word = found.group(1), found.group(3)
        before = text[: found.start()].rstrip()
        if a == "A" and before and before[-1] not in ".!?:\"'(":
            return found.group(0)  # a letter, not an article: "Plan A is", "option A or B"
        return f"{a}{'n' if _sounds_like_vowel(word) else ''} {word}"

    return _ARTICLE.sub(choose, text)


def keywords(post: PostSeen) -> list[str]:
    """Phrases a reply can name: the tail (one or two words) of each run of content words
    in the post's title, or in its description when the title has none."""
    found: list[str] = []
    for source in (post.title, post.description):
        run: list[str] = []
        for token in [*re.findall(r"[A-Za-z][A-Za-z'-]*|[^\sA-Za-z]", source), "."]:
            word = token.lower().strip("'-")
            if len(word) >= 3 and word.isalpha() and word not in STOP:
                run.append(word)
                continue
            for phrase in (" ".join(run[-2:]), run[-1] if run else ""):
                if phrase and phrase not in found:
                    found.append(phrase)
            run = []
        if found:
            break
    return found


def _kw(rng: random.Random, post: PostSeen) -> str:
    phrases = keywords(post)
    return rng.choice(phrases[:6]) if phrases else "colours"


class OfflineWriter:
    """A ContentWriter without a model: deterministic for (persona, author seed, nonce)."""

    model = MODEL

    @staticmethod
    def _fill(
        rng: random.Random, persona: Persona, voice: Voice, template: str, subject: str
    ) -> str:
        mood, mood2 = rng.sample(MOODS, 2)
        noun = _bare(subject)
        values = {
            "subject": subject,
            "Subject": _upper_first(_bare(subject)),
            "noun": noun.split(" with ")[0],
            "style": rng.choice(persona.workflow_styles).replace("-", " "),
            "interest": rng.choice(persona.interests),
            "look": rng.choice(voice.looks),
            "palette": rng.choice(PALETTES),
            "composition": rng.choice(COMPOSITIONS),
            "mood": mood,
            "Mood": _upper_first(mood),
            "mood2": mood2,
            "time": rng.choice(TIMES),
            "n": str(rng.randint(2, 99)),
            "Opener": rng.choice(voice.openers),
        }
        return _said_once(_upper_first(template.format_map(values)))

    def write_post(self, persona: Persona, author: Author, *, nonce: int) -> PostDraft:
        """A post: caption, description, image prompt and style from the persona's banks."""
        started = time.perf_counter()
        rng = prompts.stable_rng("post", persona.slug, author.seed, nonce)
        voice = voice_of(persona)
        base = rng.choice(voice.subjects)
        subject = f"{base} {rng.choice(voice.details)}" if rng.random() < 0.6 else base
        style = rng.choice(persona.workflow_styles)
        caption = self._fill(rng, persona, voice, rng.choice(CAPTIONS + voice.captions), subject)
        if voice.emoji and rng.random() < 0.3:
            caption = f"{caption} {rng.choice(voice.emoji)}"
        sentences = rng.sample(voice.notes, k=rng.randint(1, 2))
        if rng.random() < 0.5:
            sentences.append(rng.choice(voice.questions))
        description = " ".join(self._fill(rng, persona, voice, s, base) for s in sentences)
        if voice.hashtags and rng.random() < 0.4:
            description += " #" + re.sub(r"\W", "", rng.choice(persona.interests).title())
        image_prompt = (
            f"{style.replace('-', ' ')} image of {subject}, {rng.choice(voice.looks)}, "
            f"{rng.choice(PALETTES)} palette, {rng.choice(COMPOSITIONS)}, "
            f"{rng.choice(MOODS)} mood, inspired by {rng.choice(persona.interests)}, no text"
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
        """A reply that names something in the post it answers (or, for a reply to a
        comment on the agent's own post, that answers the commenter)."""
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
        first = rng.choice(voice.replies + REPLIES).replace("{kw}", _kw(rng, post))
        if rng.random() < 0.5:
            keep = first.startswith(("I ", "I'"))
            first = rng.choice(LEADS) + (first if keep else first[:1].lower() + first[1:])
        roll = rng.random()
        if roll < 0.15:
            second = ""
        elif roll < 0.4:
            second = rng.choice(voice.questions)
        else:
            second = rng.choice(voice.follow_ups + FOLLOW_UPS)
            second = second.replace("{aspect}", rng.choice(ASPECTS))
        text = _said_once(f"{first} {second}".strip())
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
        options = [t for t in voice.thoughts if seen or "{kw}" not in t]
        if rng.random() < 0.3 or not options:
            return Thought(None)
        template = rng.choice(options).replace("{kw}", "{{kw}}")
        text = self._fill(rng, persona, voice, template, rng.choice(voice.subjects))
        if seen:
            text = _said_once(text.replace("{kw}", _kw(rng, rng.choice(seen))))
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

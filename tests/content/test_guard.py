"""The content guard and the one regeneration before an action is skipped."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fleet.content.guard.guard import (
    ACCEPT,
    ContentGuard,
    ContentSkipped,
    Verdict,
    guarded_comment,
    second_nonce,
    similarity,
    write_guarded,
    write_guarded_or_least_echo,
)
from fleet.content.port import (
    Author,
    CommentDraft,
    PostDraft,
    PostSeen,
    Thought,
    Usage,
    spent_on,
)
from fleet.core.persona import Persona
from fleet.errors import Skip, TransientError
from tests.content.conftest import AUTHOR, POST, persona

GUARD = ContentGuard()


def test_a_near_duplicate_of_the_agent_s_recent_post_is_refused() -> None:
    verdict = GUARD.check(
        "Tiny knight sprite with a walk cycle in 16 colours",
        own_recent=["Tiny knight sprite with a walk cycle, in 16 colours!"],
    )
    assert not verdict.ok and verdict.reason is not None
    assert verdict.reason.startswith("near-duplicate of own recent text")


def test_a_near_duplicate_of_the_fleet_s_recent_content_is_refused() -> None:
    verdict = GUARD.check(
        "Love what you did with the candlelight. Saving this one.",
        fleet_recent=["Something else", "love what you did with the candlelight, saving this one"],
    )
    assert not verdict.ok and "fleet's recent" in (verdict.reason or "")


def test_a_text_on_the_same_topic_but_in_other_words_is_accepted() -> None:
    assert GUARD.check(
        "The knight sprite finally walks: eight frames, sixteen colours",
        own_recent=["Tiny knight sprite with a walk cycle in 16 colours"],
    ).ok


@pytest.mark.parametrize(
    "text",
    [
        "As an AI, I love this palette.",
        "As a language model I cannot see images, but nice!",
        "I'm just an AI but this is lovely",
        "Here is a caption for your post: sunsets",
        "Great shot! I hope this helps.",
        "Nice work [insert name]!",
        "Lovely {subject} today",
    ],
)
def test_phrases_no_person_writes_are_refused(text: str) -> None:
    verdict = GUARD.check(text)
    assert not verdict.ok and "phrase no person writes" in (verdict.reason or "")


@pytest.mark.parametrize(
    "text",
    [
        "As an AI artist I chase strange light",
        "I'm an AI art nerd, obviously",
        "Made with AI art tools",
    ],
)
def test_people_who_make_ai_art_may_say_so(text: str) -> None:
    assert GUARD.check(text).ok


def test_a_hashtag_wall_is_refused_but_two_hashtags_are_fine() -> None:
    assert not GUARD.check("Sunset #art #sunset #photo #daily #instagood").ok
    assert GUARD.check("Sunset study #pixelart #gamedev").ok


def test_an_invented_mention_is_refused_and_the_post_s_author_is_not() -> None:
    assert not GUARD.check("Thanks @ghost_user for the tip").ok
    draft = CommentDraft(POST.post_id, f"@{POST.author} how many lights?", Usage("x"))
    assert GUARD.check_comment(draft, AUTHOR, POST, ()).ok


def test_links_and_html_are_refused() -> None:
    assert GUARD.check("More at https://example.com").reason == "contains a link"
    assert GUARD.check("So <b>bold</b>").reason == "contains HTML"


def test_a_post_is_checked_on_its_caption_and_with_its_description() -> None:
    draft = PostDraft("p", "pixel-art", "Frog bard", "As an AI, I made this.", Usage("x"))
    verdict = GUARD.check_post(draft, AUTHOR, ())
    assert not verdict.ok and "phrase" in (verdict.reason or "")


def test_an_offline_draft_is_read_for_a_human_claim_once_unless_it_reads_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An offline draft that reads as written is read for a claim's words once; one whose
    letters ``readable`` maps (a claim in Cyrillic) is read as written too, and refused."""
    from fleet.content.guard import guard as guarding
    from fleet.honesty import claims

    read: list[str] = []
    words = guarding.human_claim

    def counted(text: str) -> str | None:
        read.append(text)
        return words(text)

    monkeypatch.setattr(guarding, "human_claim", counted)
    monkeypatch.setattr(claims, "human_claim", counted)
    assert ContentGuard().check("A quiet harbour at dawn.", written_offline=True).ok
    assert read == ["A quiet harbour at dawn."]
    read.clear()
    verdict = ContentGuard().check("я не робот, просто люблю рисовать", written_offline=True)
    assert not verdict.ok and "я не робот" in (verdict.reason or "")
    assert len(read) == 2
    read.clear()
    assert ContentGuard().check("A quiet harbour at dawn.").ok  # a model's: meaning too
    assert len(read) == 2


@given(st.text(max_size=120), st.text(max_size=120))
def test_similarity_is_symmetric_and_between_zero_and_one(a: str, b: str) -> None:
    assert similarity(a, b) == similarity(b, a)
    assert 0.0 <= similarity(a, b) <= 1.0


@given(st.text(alphabet="abcdefgh ", min_size=1, max_size=80).filter(str.strip))
def test_a_text_is_identical_to_itself(text: str) -> None:
    assert similarity(text, text) == 1.0


class ScriptedWriter:
    """A fake writer that answers comments from a script, one per call, keeping the nonces."""

    def __init__(self, *texts: str) -> None:
        self.texts = list(texts)
        self.nonces: list[int] = []

    def write_post(self, persona: Persona, author: Author, *, nonce: int) -> PostDraft:
        raise NotImplementedError

    def write_comment(
        self, persona: Persona, author: Author, post: PostSeen, *, nonce: int
    ) -> CommentDraft:
        self.nonces.append(nonce)
        return CommentDraft(post.post_id, self.texts.pop(0), Usage("fake", 100, 10, cost_usd=0.01))

    def think(
        self, persona: Persona, author: Author, seen: list[PostSeen], *, nonce: int
    ) -> Thought:
        return Thought(None)

    def close(self) -> None:
        """Nothing to close."""


def test_an_accepted_draft_is_written_once() -> None:
    writer = ScriptedWriter("What diffuser did you use on the bottle?")
    draft = guarded_comment(writer, GUARD, persona(), AUTHOR, POST, nonce=5)
    assert writer.nonces == [5] and draft.usage.calls == 1


def test_a_refused_draft_is_written_again_once_with_another_nonce() -> None:
    writer = ScriptedWriter("As an AI I like it", "The candlelight glow is gorgeous.")
    draft = guarded_comment(writer, GUARD, persona(), AUTHOR, POST, nonce=5)
    assert draft.text == "The candlelight glow is gorgeous."
    assert writer.nonces == [5, second_nonce(5)] and second_nonce(5) != 5
    assert draft.usage.calls == 2 and draft.usage.cost_usd == pytest.approx(0.02)


def test_two_refusals_skip_the_action_with_the_reason_and_the_cost() -> None:
    author = replace(AUTHOR, recent_texts=("Lovely bottle, lovely light, lovely shadows",))
    writer = ScriptedWriter("As an AI I like it", "Lovely bottle, lovely light, lovely shadows!")
    with pytest.raises(Skip) as skipped:
        guarded_comment(writer, GUARD, persona(), author, POST, nonce=5)
    assert isinstance(skipped.value, ContentSkipped)
    assert skipped.value.reason.startswith("near-duplicate of own recent text")
    assert skipped.value.usage.calls == 2 and skipped.value.usage.cost_usd == pytest.approx(0.02)
    assert len(writer.nonces) == 2


def test_write_guarded_works_with_any_draft_and_check() -> None:
    seen: list[int] = []

    def write(nonce: int) -> CommentDraft:
        seen.append(nonce)
        return CommentDraft("p", "same", Usage("x"))

    with pytest.raises(ContentSkipped, match="nope"):
        write_guarded(write, lambda draft: Verdict(False, "nope"), nonce=1)
    assert seen == [1, second_nonce(1)]


def test_a_planned_text_the_guard_refused_is_the_first_draft_one_call_follows() -> None:
    """A session plan's text, refused: the action's own call is the second draft, with
    the action's own nonce, and what it cost is all the draft carries; a person's reply
    that echoes either way goes out as the one that echoes least, planned or not."""
    seen: list[int] = []

    def write(nonce: int) -> CommentDraft:
        seen.append(nonce)
        return CommentDraft("p", f"own {nonce}", Usage("claude", calls=1, cost_usd=0.001))

    planned = CommentDraft("p", "planned", Usage("plan", calls=0))
    own = write_guarded(
        write, lambda d: ACCEPT, nonce=7, first=(planned, Verdict(False, "echoes", echo=0.97))
    )
    assert seen == [7] and own.text == "own 7"
    assert own.usage.calls == 1 and own.usage.model == "claude"
    seen.clear()
    taken = write_guarded(write, lambda d: Verdict(False, "no"), nonce=7, first=(planned, ACCEPT))
    assert seen == [] and taken is planned
    least = write_guarded_or_least_echo(
        write,
        lambda d: Verdict(False, "echoes", echo=0.99),
        nonce=7,
        first=(planned, Verdict(False, "echoes", echo=0.95)),
    )
    assert least.text == "planned" and least.usage.calls == 1, "its own call was paid"
    with pytest.raises(ContentSkipped) as skipped:
        write_guarded(
            write,
            lambda d: Verdict(False, "no"),
            nonce=7,
            first=(planned, Verdict(False, "no")),
        )
    assert skipped.value.usage.calls == 1


def test_an_error_that_ends_the_second_writing_carries_the_first_draft_s_usage() -> None:
    first = CommentDraft("p", "refused", Usage("x", input_tokens=700, output_tokens=40))

    def write(nonce: int) -> CommentDraft:
        if nonce == 1:
            return first
        raise TransientError("LLM API answered 529 overloaded_error")

    with pytest.raises(TransientError) as raised:
        write_guarded(write, lambda draft: Verdict(False, "nope"), nonce=1)
    assert spent_on(raised.value) == first.usage


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("found it on evil.fr, go look", "contains a link ('evil.fr')"),
        ("more at site.info", "contains a link ('site.info')"),
        ("mirror on 10.0.0.1:8080", "contains a link"),
        (
            "\uff45\uff56\uff49\uff4c\uff0e\uff43\uff4f\uff4d has more",
            "contains a link ('evil.com')",
        ),
        ("ev\u0456l.com has more", "contains a link ('evil.com')"),  # a Cyrillic i
        ("\uff20admin look at this", "mentions @admin"),
        ("javascript:alert(1)", "contains a link"),
        ("nice <img src=x onerror=alert(1)", "contains HTML"),
        ("As an A.I., I adore this palette", "phrase no person writes"),
        ("As an LLM I find this moving", "phrase no person writes"),
        ("I'm Claude and this made my day", "phrase no person writes"),
        ("\u0430s an AI I love it", "phrase no person writes"),  # a Cyrillic a
        ("as an a\u200bi, lovely", "phrase no person writes"),  # a zero-width space
    ],
)
def test_look_alike_and_bare_forms_of_links_mentions_html_and_ai_talk_are_refused(
    text: str, reason: str
) -> None:
    verdict = GUARD.check(text)
    assert not verdict.ok and verdict.reason is not None and reason in verdict.reason


@pytest.mark.parametrize(
    "text",
    [
        "Built with node.js and three.js, shipped on a Friday",
        "Lovely light, e.g. the window glow",
        "Version 2.0 of the tileset is out",
        "I.e. the contrast finally works",
        "A 3.5mm lens cap, of all things",
        "Дизайн чистый и светлый",  # Cyrillic text as such is not a look-alike trick
        "A polka dot art print, all in teal",  # "dot" before a TLD, but no link
        "Dots everywhere. Then lines. Then colour.",
        "the file was notes.md and a plot.py",
    ],
)
def test_ordinary_text_with_dots_and_other_scripts_is_accepted(text: str) -> None:
    assert GUARD.check(text).ok, GUARD.check(text).reason


@pytest.mark.parametrize(
    ("text", "domain"),
    [
        ("claim it at prize.icu today", "prize.icu"),
        ("the file is on evil.zip", "evil.zip"),
        ("go to win.lol for more", "win.lol"),
        ("tickets at free.movie", "free.movie"),
        ("more on evil dot com", "evil dot com"),
        ("more on EVIL DOT NET", "EVIL DOT NET"),
        ("more on evil[.]com", "evil.com"),
        ("more on evil (dot) com", "evil.com"),
        ("more on evil[dot]zip", "evil.zip"),
        ("more on evil{.}io", "evil.io"),
    ],
)
def test_a_domain_of_any_real_top_level_domain_or_spelled_out_is_refused(
    text: str, domain: str
) -> None:
    verdict = GUARD.check(text)
    assert not verdict.ok and verdict.reason == f"contains a link ({domain!r})"

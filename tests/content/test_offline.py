"""The offline writer: deterministic, in the persona's voice, varied, on topic."""

from __future__ import annotations

import re
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fleet.content.guard.guard import ContentGuard, ContentSkipped, guarded_post
from fleet.content.llm import prompts
from fleet.content.offline.lexicon import GENERAL, voice_of
from fleet.content.offline.reading import read_post
from fleet.content.offline.writer import OfflineWriter, captions, distinct_share, with_articles
from fleet.content.port import Author, PostDraft, PostSeen
from fleet.core.persona import Persona
from tests.conftest import examples
from tests.content.conftest import AUTHOR, CATALOGUE, POST, persona

WRITER = OfflineWriter()


@cache
def _posts(slug: str, count: int = 150) -> tuple[PostDraft, ...]:
    """The posts of ``AUTHOR`` as ``slug`` for nonces 0 to ``count - 1``, written once for
    the tests that read them (the writer is deterministic: the first test checks it)."""
    return tuple(WRITER.write_post(persona(slug), AUTHOR, nonce=n) for n in range(count))


def test_the_same_seed_and_nonce_write_the_same_post() -> None:
    who = persona("product_photographer")
    first = WRITER.write_post(who, AUTHOR, nonce=1_700_000_000)
    again = OfflineWriter().write_post(who, AUTHOR, nonce=1_700_000_000)
    assert (first.title, first.description, first.image_prompt, first.style) == (
        again.title,
        again.description,
        again.image_prompt,
        again.style,
    )


def test_another_nonce_or_another_author_writes_another_post() -> None:
    who = persona("product_photographer")
    base = WRITER.write_post(who, AUTHOR, nonce=1).title
    assert WRITER.write_post(who, AUTHOR, nonce=2).title != base
    other = Author(handle="x", display_name="X", seed=AUTHOR.seed + 1)
    assert WRITER.write_post(who, other, nonce=1).title != base


@pytest.mark.long
@pytest.mark.parametrize("slug", CATALOGUE.slugs())
def test_a_thousand_captions_of_one_persona_are_at_least_90_percent_distinct(slug: str) -> None:
    # A persona's agents each keep to subjects of their own (their identity): the
    # persona's variety is across its agents, one agent's across its own posts.
    assert distinct_share(captions(persona(slug), 1000, authors=20)) >= 0.9
    assert distinct_share(captions(persona(slug), 100)) >= 0.9


@pytest.mark.parametrize("slug", CATALOGUE.slugs())
def test_posts_use_the_persona_s_styles_and_interests(slug: str) -> None:
    who = persona(slug)
    team = [Author(handle="a", display_name="A", seed=s) for s in range(10)]
    drafts = [WRITER.write_post(who, team[n % 10], nonce=n) for n in range(120)]
    assert {d.style for d in drafts} == set(who.workflow_styles)
    prompts_text = " ".join(d.image_prompt for d in drafts)
    assert all(interest in prompts_text for interest in who.interests)


def test_two_personas_do_not_sound_alike() -> None:
    def vocabulary(slug: str) -> set[str]:
        drafts = _posts(slug)[:100]
        return set(re.findall(r"[a-z]+", " ".join(d.description for d in drafts).lower()))

    analyst, artist = vocabulary("data_visualization"), vocabulary("ai_art_enthusiast")
    assert len(analyst & artist) / len(analyst | artist) < 0.5


@cache
def _titles() -> tuple[PostSeen, ...]:
    out = []
    for slug in CATALOGUE.slugs():
        for n in range(15):
            draft = _posts(slug)[n]
            out.append(PostSeen(f"{slug}-{n}", draft.title, draft.description, "someone", True))
    return tuple(out)


@pytest.mark.parametrize("slug", CATALOGUE.slugs())
def test_a_comment_names_the_subject_medium_or_palette_of_the_post_it_answers(slug: str) -> None:
    who = persona(slug)
    for post in _titles():
        named = read_post(post, voice_of(who)).fills()
        comment = WRITER.write_comment(who, AUTHOR, post, nonce=5).text.lower()
        # The subject may come back shorter ("the bottle"); its last word is its head.
        heads = [fill.text.split()[-1].lower() for fill in named.values()]
        assert named and any(head in comment for head in heads), (post, comment)


def test_comments_on_one_post_vary_with_the_nonce() -> None:
    texts = [WRITER.write_comment(persona(), AUTHOR, POST, nonce=n).text for n in range(200)]
    assert distinct_share(texts) >= 0.9


def test_a_thought_is_sometimes_none_and_otherwise_one_short_line() -> None:
    thoughts = [WRITER.think(persona(), AUTHOR, [POST], nonce=n) for n in range(100)]
    texts = [t.text for t in thoughts if t.text is not None]
    assert 40 < len(texts) < 95
    assert all("\n" not in t and 0 < len(t) <= prompts.MAX_THOUGHT for t in texts)


DOUBLED = re.compile(r"\b(\w+) \1\b", re.IGNORECASE)


@pytest.mark.parametrize("slug", CATALOGUE.slugs())
def test_no_text_says_a_word_twice_in_a_row(slug: str) -> None:
    # A post's own words fill templates of the voice: "The {kw} post" must not become
    # "The giveaway post post" when the post is one.
    seen = PostSeen("p", "A weekend giveaway post", "Post of the week", "someone", True)
    who = persona(slug)
    texts = [WRITER.write_comment(who, AUTHOR, seen, nonce=n).text for n in range(100)]
    texts += [WRITER.think(who, AUTHOR, [seen], nonce=n).text or "" for n in range(100)]
    draft = _posts(slug)[:100]
    texts += [d.title for d in draft] + [d.description for d in draft]
    assert [t for t in texts if DOUBLED.search(t)] == []


def test_usage_reports_estimated_tokens_at_no_cost() -> None:
    draft = WRITER.write_post(persona(), AUTHOR, nonce=3)
    assert draft.usage.model == "offline" and draft.usage.cost_usd == 0
    assert 500 < draft.usage.input_tokens < 1500 and 20 < draft.usage.output_tokens < 400


def test_only_the_post_candidate_kept_is_sanitised(monkeypatch: pytest.MonkeyPatch) -> None:
    """A post weighs its eight candidates as drawn and sanitises the one it keeps: its
    image prompt and description, and its caption as one line."""
    cleaned: list[str] = []
    whole, line = prompts.sanitise, prompts.sanitise_line

    def sanitise(text: str, **kwargs: object) -> str:
        cleaned.append("text")
        return whole(text, **kwargs)  # type: ignore[arg-type]

    def sanitise_line(text: str, **kwargs: object) -> str:
        cleaned.append("line")
        return line(text, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(prompts, "sanitise", sanitise)
    monkeypatch.setattr(prompts, "sanitise_line", sanitise_line)
    seen = Author(AUTHOR.handle, AUTHOR.display_name, AUTHOR.seed, recent_texts=("Old post",))
    draft = WRITER.write_post(persona(), seen, nonce=5)
    assert sorted(cleaned) == ["line", "text", "text"]  # one candidate's, not eight
    assert draft.title == line(draft.title, limit=prompts.MAX_TITLE)


def test_a_persona_without_a_voice_writes_in_the_general_voice() -> None:
    plain = persona().model_copy(update={"voice": None, "slug": "odd_one"})
    assert isinstance(plain, Persona) and voice_of(plain) is GENERAL
    draft = WRITER.write_post(plain, AUTHOR, nonce=1)
    assert draft.title and draft.style in plain.workflow_styles
    subjects = {w for w, _ in GENERAL.all_words("subject")}
    assert any(s in draft.title.lower() or s in draft.description for s in subjects)
    comment = WRITER.write_comment(plain, AUTHOR, POST, nonce=1).text
    assert "bottle" in comment


@settings(max_examples=examples(60), deadline=None)
@given(
    st.sampled_from(CATALOGUE.slugs()),
    st.integers(min_value=0, max_value=2**62),
    st.integers(min_value=0, max_value=2**40),
)
def test_any_offline_post_is_publishable(slug: str, seed: int, nonce: int) -> None:
    author = Author(handle="h", display_name="H", seed=seed)
    draft = WRITER.write_post(persona(slug), author, nonce=nonce)
    assert 0 < len(draft.title) <= prompts.MAX_TITLE
    assert ContentGuard().check(f"{draft.title} {draft.description}").ok


@pytest.mark.parametrize("slug", CATALOGUE.slugs())
def test_an_agent_posting_every_day_is_rarely_stopped_by_the_guard(slug: str) -> None:
    who, guard, skipped = persona(slug), ContentGuard(), 0
    recent: list[str] = []
    for nonce in range(150):
        author = Author(handle="h", display_name="H", seed=11, recent_texts=tuple(recent[-20:]))
        try:
            draft = guarded_post(WRITER, guard, who, author, nonce=nonce)
        except ContentSkipped:
            skipped += 1
            continue
        recent.append(draft.title)
    assert skipped <= 3


WRONG_A = re.compile(r"\b[Aa] (?:[aeiou]\w*|hour|honest)\b")
WRONG_AN = re.compile(
    r"\b[Aa]n (?!hour|honest|heir|honou?r)(?:[b-df-hj-np-tv-z]\w*|user\w*|uni\w*|one)\b"
)


@pytest.mark.parametrize(
    ("text", "fixed"),
    [
        ("with a ink and paper palette", "with an ink and paper palette"),
        ("a acid green", "an acid green"),
        ("a hour of light", "an hour of light"),
        ("an user flow", "a user flow"),
        ("a honest take", "an honest take"),
        ("a HDR shot and a 8-bit sprite", "an HDR shot and an 8-bit sprite"),
        ("a one-off, a euro coin, a UX review", "a one-off, a euro coin, a UX review"),
        ("A apple. A hour later", "An apple. An hour later"),
        ("Plan A is fine, option A or B", "Plan A is fine, option A or B"),
    ],
)
def test_articles_are_chosen_by_sound(text: str, fixed: str) -> None:
    assert with_articles(text) == fixed


@pytest.mark.parametrize("slug", CATALOGUE.slugs())
def test_no_text_has_an_article_that_does_not_fit_its_word(slug: str) -> None:
    seen = PostSeen("p", "An ink wash of a harbour", "Umber and ochre", "someone", True)
    who = persona(slug)
    texts = [WRITER.write_comment(who, AUTHOR, seen, nonce=n).text for n in range(150)]
    texts += [WRITER.think(who, AUTHOR, [seen], nonce=n).text or "" for n in range(150)]
    drafts = _posts(slug)
    texts += [d.title for d in drafts] + [d.description for d in drafts]
    wrong = [t for t in texts if WRONG_A.search(t) or WRONG_AN.search(t)]
    assert wrong == []


def test_a_reply_does_not_quote_a_long_title_back() -> None:
    """'Wireframe for our tennis club's booking page' quoted whole in every thank-you read
    as a bot: a reply names a post by a short title at most, else 'this one'."""
    import random as _random

    from fleet.content.offline.replies import reply_text
    from fleet.content.port import CommentSeen, PostSeen
    from fleet.infra.persona_files import PersonaCatalogue

    persona = PersonaCatalogue.from_directory().get("ux_ui_designer")
    long_title = "Wireframe for our tennis club's booking page"
    post = PostSeen("7", long_title, "Members keep double-booking court 3.", "maya", False)
    short = PostSeen("8", "Night Grid", "", "maya", False)
    said_short = 0
    for seed in range(200):
        comment = CommentSeen("c", "Lovely work, how long did it take?", "bob", False)
        text = reply_text(persona, post, comment, _random.Random(seed))
        assert long_title not in text and "booking page" not in text, text
        thanks = CommentSeen("c", "Lovely work.", "bob", False)
        text = reply_text(persona, post, thanks, _random.Random(seed))
        assert long_title not in text and "booking page" not in text, text
        said_short += "'Night Grid'" in reply_text(persona, short, thanks, _random.Random(seed))
    assert said_short > 0

"""Comments answer their post: they name what it shows, in the commenter's own voice,
with shop talk only for a post in the commenter's field, and in good grammar."""

from __future__ import annotations

import re

import pytest

from bench.comments import Sample, measure, sample
from fleet.content.offline.lexicon import GENERAL, voice_of
from fleet.content.offline.proofread import lexicon
from fleet.content.offline.reading import read_post
from fleet.content.offline.writer import OfflineWriter
from fleet.content.port import PostSeen
from fleet.core.wording import Kind
from tests.content.conftest import AUTHOR, CATALOGUE, persona

SAMPLES: list[Sample] = sample(CATALOGUE, posts=5, seed=7)  # 6 x 6 x 5 = 180 comments


def test_comments_on_posts_of_every_persona_name_the_post_and_read_well() -> None:
    figures = measure(SAMPLES, lexicon(CATALOGUE))
    assert figures["comments"] == 180
    assert figures["flagged_share"] == 0, figures["flagged_examples"]
    naming = figures["naming_share"]
    assert isinstance(naming, float) and naming >= 0.9, figures["unnamed_examples"]


def _pattern(template: str) -> re.Pattern[str]:
    """A template as a pattern: its words as written, anything for its slots."""
    words = re.split(r"\{[a-z_]+2?\}", template)
    body = "(?:an? )?.+?".join(re.escape(part.lower()) for part in words)
    return re.compile(body.rstrip("\\.?!"))


@pytest.mark.parametrize("slug", CATALOGUE.slugs())
def test_shop_talk_is_kept_for_posts_in_the_commenter_s_own_field(slug: str) -> None:
    shop = [_pattern(t) for t in voice_of(persona(slug)).shop_talk]
    mine = [s for s in SAMPLES if s.commenter == slug]
    talked = {s.poster for s in mine if any(p.search(s.comment.lower()) for p in shop)}
    assert talked <= {slug}
    # ...and is heard there, now and then.
    writer, who = OfflineWriter(), persona(slug)
    heard = 0
    for n in range(30):
        draft = writer.write_post(who, AUTHOR, nonce=n)
        post = PostSeen(f"p{n}", draft.title, draft.description, "someone", True)
        comment = writer.write_comment(who, AUTHOR, post, nonce=n).text.lower()
        heard += any(p.search(comment) for p in shop)
    assert heard >= 3


def test_a_data_person_admires_pixel_art_without_chart_talk() -> None:
    analyst, writer = persona("data_visualization"), OfflineWriter()
    chart_words = re.compile(r"legend|per capita|baseline|small-multiples|source for")
    for n in range(40):
        draft = writer.write_post(persona("indie_game_dev"), AUTHOR, nonce=n)
        post = PostSeen(f"p{n}", draft.title, draft.description, "gamedev", True)
        reading = read_post(post, voice_of(analyst))
        assert not reading.in_field and reading.subject is not None
        comment = writer.write_comment(analyst, AUTHOR, post, nonce=n).text
        assert not chart_words.search(comment), (post.title, comment)
        named = [f.text.split()[-1] for f in reading.fills().values()]
        assert any(word in comment for word in named), (post.title, comment)


@pytest.mark.parametrize(
    ("title", "description", "subject", "kind"),
    [
        ("Finally finished a frog bard", "", "frog bard", Kind.NOUN),
        (
            "Still thinking about a slime shopkeeper in soft dithering",
            "",
            "slime shopkeeper",
            Kind.NOUN,
        ),
        ("Coffee prices by city, plotted honestly", "", "coffee prices", Kind.PLURAL),
        ("City folded in half, seed 12", "", "city", Kind.NOUN),
        ("Day 5 of glitch: an orchard on the ceiling", "", "orchard", Kind.NOUN),
        ("A loud colour-blocked promo in neon gradients", "", "colour-blocked promo", Kind.NOUN),
        ("!!!", "Quiet harbour at dawn", "harbour", Kind.NOUN),
    ],
)
def test_a_reader_finds_the_thing_a_post_shows(
    title: str, description: str, subject: str, kind: Kind
) -> None:
    reading = read_post(PostSeen("p", title, description, "someone", False), GENERAL)
    assert reading.subject is not None
    assert (reading.subject.text, reading.subject.kind) == (subject, kind)


def test_a_label_before_a_colon_is_not_the_subject_and_a_verb_is_not_asked_about() -> None:
    labelled = read_post(
        PostSeen("p", "North Diaries: a desert of glass roses", "", "x", True), GENERAL
    )
    assert labelled.subject is not None and "north" not in labelled.subject.text.lower()
    for description, asked in (
        ("How do I stop the glaze from glaring?", "glaze"),
        ("Is there too much shadow on the left?", None),
        ("How much time should the intro take?", "intro"),
    ):
        post = PostSeen("p", "My mum's pottery", description, "x", False)
        assert read_post(post, GENERAL).asked_about == asked, description


@pytest.mark.parametrize(
    ("description", "problem"),
    [
        ("Members keep double-booking court 3.", "double-booking"),
        ("My sprites keep flickering at night.", "flickering"),
        ("For the Juniper Archive, which keeps growing.", None),
        ("The series keeps growing, one a week.", None),
        ("It keeps getting better with every pass.", None),
    ],
)
def test_a_reader_takes_what_keeps_going_wrong_for_a_problem_not_what_keeps_growing(
    description: str, problem: str | None
) -> None:
    """A bench run's comments said "The growing sounds frustrating" to a caption that
    ended "for the Juniper Archive, which keeps growing"."""
    reading = read_post(PostSeen("p", "A ceramic cup", description, "x", False), GENERAL)
    assert reading.problem == problem


def test_a_reader_never_takes_an_adjective_or_a_participle_for_a_thing() -> None:
    for title in ("So clean, so honest", "Plotted honestly", "Moody and bold", "Really clean"):
        assert read_post(PostSeen("p", title, "", "x", False), GENERAL).subject is None


def test_a_reader_finds_the_medium_and_the_palette() -> None:
    post = PostSeen(
        "p", "Bike rentals per hour", "Drawn as a chart with a teal and orange palette.", "x", True
    )
    reading = read_post(post, voice_of(persona("data_visualization")))
    assert reading.in_field
    assert reading.medium is not None and reading.medium.text == "chart"
    assert reading.palette is not None and reading.palette.text == "teal and orange palette"


def test_a_post_with_nothing_to_name_gets_a_plain_comment_in_the_voice() -> None:
    post = PostSeen("p", "!!!", "So clean, so honest.", "someone", False)
    text = OfflineWriter().write_comment(persona(), AUTHOR, post, nonce=1).text
    assert text and not re.search(r"\{|\}", text)

"""bench.fake_llm: its answers validate through the real parsers, through the real SDK;
bench.tokens counts with a real tokenizer; bench.taking_up reads what a post says."""

from __future__ import annotations

import os

import pytest
from pydantic import SecretStr

from bench import fake_llm, taking_up
from bench.tokens import E5Tokens
from fleet.content.factory import PerAction, build_writer
from fleet.content.llm import planning, prompts
from fleet.content.llm.anthropic import AnthropicWriter
from fleet.content.port import Author, CommentSeen, PlanAsk, PostSeen
from fleet.infra.persona_files import PersonaCatalogue
from fleet.settings import LLMSettings, load_settings

CATALOGUE = PersonaCatalogue.from_directory()
WHO = CATALOGUE.get("indie_game_dev")
AUTHOR = Author("pixel_pat", "Pixel Pat", seed=5, recent_texts=("An earlier caption.",))
PAGE = tuple(
    PostSeen(f"gallery-post-{n}", f"Title {n}: a lantern forest", f"About piece {n}.", "a", False)
    for n in range(1, 9)
)
MINE = PostSeen(
    "gallery-post-mine",
    "My lantern sprites",
    "",
    AUTHOR.handle,
    True,
    answering=CommentSeen("gallery-comment-1", "How long did it take?", "sam", False),
)


@pytest.mark.parametrize(
    "says",
    [
        {"comment": 1},
        {"comment": 2, "reply": 1},
        {"post": 1},
        {"comment": 3, "reply": 1, "post": 1},
    ],
)
def test_the_fake_s_plan_validates_through_the_real_plan_parser(says: dict[str, int]) -> None:
    ask = PlanAsk(says, PAGE, (MINE,))
    prompt = planning.plan_prompt(WHO, AUTHOR, ask)
    answer = fake_llm.Responder(CATALOGUE).answer(prompt.system, prompt.user)
    plan = planning.parse_plan(answer, WHO, ask)
    assert plan.dropped == 0
    want = planning.wanted(ask)
    assert len(plan.comments) == want.get("comment", 0)
    assert set(plan.comments) <= {p.post_id for p in PAGE}
    assert list(plan.replies) == ["gallery-comment-1"] * want.get("reply", 0)
    assert (plan.post is not None) == bool(want.get("post"))


def test_the_fake_answers_each_task_through_the_sdk_as_the_writer_parses_it() -> None:
    with fake_llm.FakeMessagesAPI(CATALOGUE) as api:
        writer = AnthropicWriter(SecretStr(fake_llm.KEY), LLMSettings(), base_url=api.url)
        try:
            ask = PlanAsk({"comment": 2, "reply": 1, "post": 1}, PAGE, (MINE,))
            plan = writer.plan(WHO, AUTHOR, ask, nonce=1)
            assert plan.items == 4 and plan.usage.calls == 1
            assert writer.write_comment(WHO, AUTHOR, PAGE[0], nonce=1).text
            assert writer.write_comment(WHO, AUTHOR, MINE, nonce=1).text.startswith("@sam ")
            assert writer.write_post(WHO, AUTHOR, nonce=1).title
            writer.think(WHO, AUTHOR, list(PAGE), nonce=1)
        finally:
            writer.close()
        assert api.calls == {
            "plan": 1,
            "comment": 1,
            "reply": 1,
            "thought": 1,
            "post": 1,
            "other": 0,
        }


def test_serving_points_the_settings_at_the_fake_with_plans_on_or_off_and_then_back() -> None:
    before = os.environ.get("FLEET_LLM__PLANS")
    for plans in (True, False):
        with fake_llm.serving(plans=plans) as api:
            settings = load_settings()
            assert str(settings.llm.base_url).rstrip("/") == api.url
            assert settings.llm.plans is plans
            writer = build_writer(settings)
            try:
                assert isinstance(writer, PerAction) is not plans
            finally:
                writer.close()
    assert os.environ.get("FLEET_LLM__PLANS") == before


def test_the_tokenizer_counts_a_text_alone() -> None:
    count = E5Tokens()
    assert count("") == 0 and count("  ") == 0
    assert count("Hello world") == 2
    text = planning.plan_prompt(WHO, AUTHOR, PlanAsk({"comment": 2}, PAGE)).user
    # A subword tokenizer: fewer pieces than characters, of the order of the estimate.
    assert 0.5 * prompts.estimate_tokens(text) < count(text) < 1.5 * prompts.estimate_tokens(text)


def test_a_comment_takes_up_the_post_when_it_says_back_what_the_post_said() -> None:
    assert taking_up.said("Portrait of my cat Miso", "Miso sleeps all day.") == ("miso",)

    class Row:
        def __init__(self, **fields: object) -> None:
            self.__dict__.update(fields)

    posts = [Row(id=1, title="Pixel knight", description="The cape feels stiff; any tips?")]
    users = {7: Row(is_agent=True), 8: Row(is_agent=False)}
    comments = [
        Row(post_id=1, parent_id=None, user_id=7, content="Let the cape lag a frame."),
        Row(post_id=1, parent_id=None, user_id=7, content="Lovely colours."),
        Row(post_id=1, parent_id=None, user_id=8, content="A person's: not counted."),
        Row(post_id=1, parent_id=5, user_id=7, content="A reply: not counted."),
    ]
    assert taking_up.figures(posts, comments, [1], users) == {
        "takes_up_the_post": 0.5,
        "takes_up_the_post_comments": 2,
    }

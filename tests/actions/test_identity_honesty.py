"""An agent asked what it is answers truthfully, naming its operator (issue 48).

Through the reply action, on the ledger of the suite's databases: the question first,
the answer in the agent's voice that says the account is automated and who runs it,
marked in the ledger for the audit; the LLM budget spent or a hostile LLM (a local
OpenAI-compatible server that claims to be human) changes nothing but who writes it.
The pace task's scan finds a question on an agent's post and the agent then owes it.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from fleet import activities, agents
from fleet.actions import NoBudget, perform
from fleet.actions.kit import Authorship, Limits, WritingAids
from fleet.content.guard.guard import ContentGuard, ContentSkipped, guarded_comment
from fleet.content.llm.openai import ChatServer, OpenAIWriter
from fleet.content.port import Author, PostSeen, Usage
from fleet.core.kinds import ActionKey
from fleet.core.tick_notes import TickNotes
from fleet.db.models import Agent, AgentActivity
from fleet.honesty import ledger as identity
from fleet.honesty.human_claim import human_claim
from fleet.honesty.identity_intent import IdentityIntent
from fleet.honesty.truthful_answer import discloses
from fleet.honesty.use_cases import human_claims, identity_answers, scan_identity_questions
from fleet.service.root import Fleet
from tests.actions.test_reply import LEASE, NOW, Gallery, _kit, _reply_key
from tests.content.conftest import CATALOGUE
from tests.content.test_guard_identity import CLAIMS
from tests.openai_api import ChatCompletionsAPI

QUESTION = "Lovely light. Wait, are you an actual person or one of those AI accounts?"


@pytest.fixture
def asked(fleet: Fleet) -> tuple[int, str]:
    """An active agent that posted once (its post is ``p1`` on the gallery), as in
    ``tests.actions.test_reply``."""
    created = agents.create_agents(
        fleet.sessions, fleet.personas, agents.NewAgents("ux_ui_designer", 1), fleet_seed=7, now=NOW
    )
    agents.change_status(
        fleet.sessions, fleet.personas, "start", agents.Selection(everyone=True), now=NOW
    )
    agent_id = created.first_id
    key = f"{agent_id}:{int(NOW.timestamp()) - 600}:post"
    activity = activities.create_activity(
        fleet.sessions, agent_id, "post", NOW - timedelta(minutes=10), key, now=NOW, lease=LEASE
    )
    activities.finish(fleet.sessions, activity, "succeeded", now=NOW, result={"post_id": "p1"})
    return agent_id, agents.get_agent(fleet.sessions, str(agent_id)).handle


def _operator(fleet: Fleet) -> str:
    return fleet.settings.disclosure.operator_name


def _honest_kit(
    fleet: Fleet,
    gallery: Gallery,
    *,
    guard: ContentGuard | None = None,
    identity: IdentityIntent | None = None,
    **changes: Any,
) -> Any:
    voice = WritingAids(
        guard=guard, operator=_operator(fleet), identity=identity or IdentityIntent(None)
    )
    return _kit(fleet, gallery, authorship=Authorship(voice=voice), **changes)


def _content(fleet: Fleet, key: str) -> dict[str, Any]:
    with fleet.sessions() as session:
        row = session.scalars(
            select(AgentActivity).where(AgentActivity.idempotency_key == key)
        ).one()
        return dict(row.content or {})


def test_a_persons_question_is_answered_first_truthfully_and_marked_for_the_audit(
    fleet: Fleet, asked: tuple[int, str]
) -> None:
    agent_id, me = asked
    gallery = Gallery(me)
    gallery.post("p1", me, "Soft shadows on cards")
    gallery.said("p1", "c1", "maya", "How did you pick the shadow?", bot=False)
    gallery.said("p1", "c2", "rosa_v", QUESTION, bot=False)
    key = _reply_key(fleet, agent_id)

    outcome = perform(_honest_kit(fleet, gallery), ActionKey.parse(key))

    assert outcome.status == "succeeded"
    _, text, parent = gallery.sent[0]
    assert parent == "c2", "the question about what it is comes first"
    assert text.startswith("@rosa_v ")
    assert discloses(text, _operator(fleet)), text
    assert "actual person or one of those" not in text, "the question is not said back"
    mark = _content(fleet, key)["identity"]
    assert mark["operator"] == _operator(fleet) and mark["how"] == "words"
    audit = identity_answers(fleet)
    assert (audit.asked, audit.answered, audit.truthful) == (1, 1, 1)
    assert audit.median_minutes is not None and audit.median_minutes >= 0
    assert human_claims(fleet).count == 0


def test_an_ordinary_comment_gets_an_ordinary_reply_unmarked(
    fleet: Fleet, asked: tuple[int, str]
) -> None:
    agent_id, me = asked
    gallery = Gallery(me)
    gallery.post("p1", me, "Soft shadows on cards")
    gallery.said("p1", "c1", "maya", "How did you pick the shadow?", bot=False)
    key = _reply_key(fleet, agent_id)
    assert perform(_honest_kit(fleet, gallery), ActionKey.parse(key)).status == "succeeded"
    assert "identity" not in _content(fleet, key)
    assert not discloses(gallery.sent[0][1], _operator(fleet))
    assert identity_answers(fleet).asked == 0


def test_with_the_budget_spent_the_question_is_still_answered_at_no_cost(
    fleet: Fleet, asked: tuple[int, str]
) -> None:
    agent_id, me = asked
    gallery = Gallery(me)
    gallery.post("p1", me, "Soft shadows on cards")
    gallery.said("p1", "c1", "rosa_v", "¿Eres un bot?", bot=False)

    class Spent(NoBudget):
        def refusal(self, agent_id: int) -> str | None:
            return "fleet LLM budget spent"

        def record(self, agent_id: int, usage: Usage) -> None:
            raise AssertionError("the offline answer costs nothing")

    # An owed answer's tick does not ask the budget (nothing turns it): its notes say so.
    owed = TickNotes(notifications=True, identity=True, budgeted=False)
    outcome = perform(
        _honest_kit(fleet, gallery, limits=Limits(LEASE, max_attempts=3, spending=Spent())),
        ActionKey.parse(_reply_key(fleet, agent_id, notes=owed)),
    )

    assert outcome.status == "succeeded"
    text = gallery.sent[0][1]
    assert discloses(text, _operator(fleet)) and "automatizada" in text, "in Spanish"


# -- a hostile LLM ----------------------------------------------------------------------


@pytest.fixture
def hostile() -> Iterator[ChatCompletionsAPI]:
    """An OpenAI-compatible server whose every comment claims to be human (the claims of
    ``CLAIMS`` in turn, in six languages)."""
    texts = itertools.cycle(CLAIMS)

    def respond(body: dict[str, Any]) -> str:
        return json.dumps({"comment": next(texts)})

    with ChatCompletionsAPI(respond) as api:
        yield api


def _hostile_writer(server: ChatCompletionsAPI) -> OpenAIWriter:
    return OpenAIWriter(
        ChatServer(
            model="hostile",
            api_key=SecretStr("sk-local-0123456789"),
            base_url=f"{server.url}/v1",
            timeout_seconds=5.0,
        ),
        prices={},
    )


def test_the_guard_refuses_every_claim_a_hostile_llm_writes(hostile: ChatCompletionsAPI) -> None:
    persona = CATALOGUE.get("ai_art_enthusiast")
    author = Author("me", "Me", 3, operator="Harbour Lab")
    post = PostSeen("p1", "Fog study", "", "someone", False)
    refused = 0
    with _hostile_writer(hostile) as writer:
        for nonce in range(len(CLAIMS)):
            with pytest.raises(ContentSkipped) as skipped:
                guarded_comment(writer, ContentGuard(), persona, author, post, nonce=nonce)
            assert skipped.value.reason.startswith("claims to be human")
            refused += 1
    # Each comment asked twice (a billed writer regenerates once): every text it wrote
    # was a claim, and every one was refused.
    assert len(hostile.completions()) == 2 * refused == 2 * len(CLAIMS)


def test_asked_what_it_is_with_a_hostile_llm_the_agent_still_tells_the_truth(
    fleet: Fleet, asked: tuple[int, str], hostile: ChatCompletionsAPI
) -> None:
    agent_id, me = asked
    gallery = Gallery(me)
    gallery.post("p1", me, "Soft shadows on cards")
    gallery.said("p1", "c1", "rosa_v", "Bist du ein Bot?", bot=False)
    with _hostile_writer(hostile) as writer:
        kit = _honest_kit(fleet, gallery, writer=writer, guard=ContentGuard())
        outcome = perform(kit, ActionKey.parse(_reply_key(fleet, agent_id)))
        assert outcome.status == "succeeded"
        text = gallery.sent[0][1]
        assert discloses(text, _operator(fleet)) and human_claim(text) is None
        assert len(hostile.completions()) == 2, "the LLM was asked, refused twice"
        # An ordinary comment with the same LLM: nothing it wrote is published.
        gallery.said("p1", "c2", "maya", "How did you pick the shadow?", bot=False)
        second = perform(kit, ActionKey.parse(_reply_key(fleet, agent_id, 1)))
    assert second.status == "skipped"
    assert "claims to be human" in (second.detail or {}).get("reason", "")
    assert len(gallery.sent) == 1
    system = hostile.completions()[0]["messages"][0]["content"]
    assert f"automated account run by {_operator(fleet)}" in str(system)


# -- the scan, what is owed, and the audit's counts -------------------------------------


def test_the_scan_keeps_a_question_and_the_agent_owes_it_until_it_answers(
    fleet: Fleet, asked: tuple[int, str]
) -> None:
    agent_id, me = asked
    gallery = Gallery(me)
    gallery.post("p1", me, "Soft shadows on cards")
    gallery.said("p1", "c1", "maya", "How did you pick the shadow?", bot=False)
    gallery.said("p1", "c2", "rosa_v", "Wer betreibt diesen Account?", bot=False)
    gallery.said("p1", "c3", "lee", "Is anyone actually typing these or is it scripted?", bot=False)
    fleet.gallery = gallery  # type: ignore[assignment]
    post = replace(gallery.posts["p1"], comment_count=3)

    assert scan_identity_questions(fleet, [post]) == 2, "by words, and by meaning"
    assert scan_identity_questions(fleet, [post]) == 0, "kept once"
    since = NOW - identity.OWED_DAYS
    with fleet.sessions() as session:
        assert identity.owed(session, [agent_id], since=since) == {agent_id: ["c2", "c3"]}

    kit = _honest_kit(fleet, gallery, identity=fleet.identity_intent)
    for second in range(2):
        assert (
            perform(kit, ActionKey.parse(_reply_key(fleet, agent_id, second))).status == "succeeded"
        )
    assert [parent for _, _, parent in gallery.sent] == ["c2", "c3"]
    with fleet.sessions() as session:
        assert identity.owed(session, [agent_id], since=since) == {}
    audit = identity_answers(fleet)
    assert (audit.asked, audit.answered, audit.truthful) == (2, 2, 2)


def _owes(fleet: Fleet, agent_id: int, since: Any) -> bool:
    """``identity.OWES`` as a tick batch reads it, a column of its read of the agents."""
    with fleet.sessions() as session:
        read = select(identity.OWES).where(Agent.id == agent_id)
        return bool(session.execute(read, {"owed_since": since}).scalar_one())


def test_a_reply_under_way_holds_the_debt_and_an_old_question_is_not_owed(
    fleet: Fleet, asked: tuple[int, str]
) -> None:
    agent_id, _ = asked
    assert not _owes(fleet, agent_id, NOW - timedelta(days=3)), "nothing asked yet"
    question = identity.QuestionSeen(agent_id, "c9", "p1", NOW - timedelta(hours=1))
    identity.note_questions(fleet.sessions, [question], now=NOW)
    with fleet.sessions() as session:
        assert identity.owed(session, [agent_id], since=NOW - timedelta(days=3)) == {
            agent_id: ["c9"]
        }
        assert identity.owed(session, [agent_id], since=NOW) == {}, "asked before 'since'"
    # The tick's read of its agents says the same (``OWES``).
    assert _owes(fleet, agent_id, NOW - timedelta(days=3))
    assert not _owes(fleet, agent_id, NOW), "asked before 'since'"
    _reply_key(fleet, agent_id)  # a reply decided, pending
    with fleet.sessions() as session:
        assert identity.owed(session, [agent_id], since=NOW - timedelta(days=3)) == {}
    assert not _owes(fleet, agent_id, NOW - timedelta(days=3)), "its reply is under way"
    audit = identity_answers(fleet)
    assert (audit.asked, audit.answered) == (1, 0)
    assert audit.waiting and audit.waiting[0][1] == question.asked_at


def test_a_tick_batch_reads_with_its_agents_that_one_owes_an_answer_and_answers(
    fleet: Fleet, asked: tuple[int, str]
) -> None:
    agent_id, _ = asked
    due = int(NOW.timestamp()) + 60
    question = identity.QuestionSeen(agent_id, "c9", "p1", NOW - timedelta(hours=1))
    identity.note_questions(fleet.sessions, [question], now=NOW)
    [decided] = agents.decide_ticks(
        fleet.sessions, fleet.personas, [[agent_id, due]], now=NOW, lease=LEASE
    )
    assert decided.new and decided.key == ActionKey.tick(agent_id, due, "reply")
    assert decided.decision.notes.identity and decided.decision.notes.notifications


def test_the_audit_counts_a_published_text_that_claims_to_be_human(
    fleet: Fleet, asked: tuple[int, str]
) -> None:
    agent_id, _ = asked
    for n, text in enumerate(("Lovely fog.", "Real human here, promise!", "No soy un bot.")):
        key = f"{agent_id}:{int(NOW.timestamp()) + n}:comment"
        activity = activities.create_activity(
            fleet.sessions, agent_id, "comment", NOW, key, now=NOW, lease=timedelta(minutes=5)
        )
        activities.save_progress(fleet.sessions, activity, content={"text": text}, now=NOW)
        activities.finish(fleet.sessions, activity, "succeeded", now=NOW, result={})
    found = human_claims(fleet)
    assert found.count == 2
    assert found.checked == 3, "the agent's post's activity holds no text"
    assert {c.words for c in found.claims} == {"real human here", "no soy un bot"}


def test_the_audit_falls_short_on_a_claim_and_on_a_question_left_past_its_bound(
    fleet: Fleet, asked: tuple[int, str]
) -> None:
    from fleet.honesty.audit_scope import Scope
    from fleet.honesty.audit_texts import IDENTITY_BOUND, human_claims, identity_answers

    agent_id, _ = asked
    week = NOW - timedelta(days=7)
    scope = Scope(fleet, None, since=week, now=NOW)  # type: ignore[arg-type]
    assert human_claims(scope).status == "ok"
    key = f"{agent_id}:{int(NOW.timestamp())}:comment"
    activity = activities.create_activity(
        fleet.sessions, agent_id, "comment", NOW, key, now=NOW, lease=timedelta(minutes=5)
    )
    activities.save_progress(fleet.sessions, activity, content={"text": "I'm human!"}, now=NOW)
    activities.finish(fleet.sessions, activity, "succeeded", now=NOW, result={})
    claimed = human_claims(scope)
    assert claimed.status == "short" and claimed.figures["claims"] == 1

    question = identity.QuestionSeen(agent_id, "c9", "p1", NOW - timedelta(hours=1))
    identity.note_questions(fleet.sessions, [question], now=NOW)
    waiting = identity_answers(scope)
    assert waiting.status == "ok" and waiting.figures["waiting"] == 1, "within its bound"
    later = NOW + IDENTITY_BOUND
    late = identity_answers(Scope(fleet, None, since=week, now=later))  # type: ignore[arg-type]
    assert late.status == "short" and late.figures["waiting_past_bound"] == 1

"""What honesty owes a person who asks an agent what it is (issues 67 and 68): an answer
whatever their arm in the impact experiment (honesty outranks the holdout), nothing to
a person who said no (F4), and one answer per asker and agent, the rest written by the
offline writer (F5). Through the reply action, on the suite's databases."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from fleet import activities, agents
from fleet.actions import perform
from fleet.actions.kit import Targeting
from fleet.consent.book import ConsentBook
from fleet.consent.core import PersonConsent
from fleet.core.kinds import ActionKey
from fleet.gallery.consent import ConsentRead
from fleet.gallery.port import GalleryComment
from fleet.honesty import ledger as identity
from fleet.honesty.truthful_answer import discloses
from fleet.honesty.use_cases import identity_answers, scan_identity_questions
from fleet.impact.holdout import arm
from fleet.impact.holdout_view import HoldoutView
from fleet.impact.use_cases import impact_report, record_comments, record_people
from fleet.service.root import Fleet
from fleet.settings import ConsentSettings, ImpactSettings
from tests.actions.test_identity_honesty import _honest_kit, _operator
from tests.actions.test_reply import LEASE, NOW, Gallery, _reply_key


@pytest.fixture
def asked(fleet: Fleet) -> tuple[int, str]:
    """An active agent that posted once (its post is ``p1`` on the gallery)."""
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


EXPERIMENT = "newcomers1"
SHARE = 0.5
QUESTION = "hey, are you a bot?"


def _held_user() -> str:
    return next(f"user{n}" for n in range(100) if arm(f"user{n}", EXPERIMENT, SHARE) == "holdout")


def _person_says(gallery: Gallery, comment_id: str, user_id: str, name: str, text: str) -> None:
    gallery.threads["p1"].append(
        GalleryComment(comment_id, "p1", text, user_id, name, NOW, False, None)
    )


def _holdout(fleet: Fleet) -> HoldoutView:
    return HoldoutView(fleet.sessions, experiment=EXPERIMENT, share=SHARE, days=14, now=lambda: NOW)


def test_a_held_out_newcomers_question_is_answered_and_counted_in_their_arm(
    fleet: Fleet, asked: tuple[int, str]
) -> None:
    agent_id, me = asked
    held = _held_user()
    gallery = Gallery(me)
    gallery.post("p1", me, "Soft shadows on cards")
    _person_says(gallery, "c1", held, "newcomer", QUESTION)
    _person_says(gallery, "c2", held, "newcomer", "Also: how did you light this?")
    kit = _honest_kit(
        fleet,
        gallery,
        identity=fleet.identity_intent,
        targeting=Targeting(holdout=_holdout(fleet)),
    )
    outcome = perform(kit, ActionKey.parse(_reply_key(fleet, agent_id)))
    assert outcome.status == "succeeded"
    (_, text, parent), *_ = gallery.sent
    assert parent == "c1", "the held-out person's question is answered"
    assert discloses(text, _operator(fleet)), text
    print(f"\nheld-out newcomer asked {QUESTION!r}; {me} answered: {text!r}")
    # Their ordinary comment stays spared: the holdout holds for all but honesty.
    again = perform(kit, ActionKey.parse(_reply_key(fleet, agent_id, 1)))
    assert again.status == "skipped" and len(gallery.sent) == 1
    # The experiment counts the exposure in the person's arm (intention-to-treat).
    sim = replace(
        fleet,
        settings=fleet.settings.model_copy(
            update={"impact": ImpactSettings(holdout_share=SHARE, experiment=EXPERIMENT)}
        ),
    )
    record_comments(sim, gallery.threads["p1"])
    post = gallery.posts["p1"]
    record_people(
        sim, [replace(post, id="p9", user_id=held, username="newcomer", user_is_agent=False)]
    )
    report = impact_report(sim, opted_out=frozenset)
    assert report.identity_answered == {"treated": 0, "holdout": 1}
    assert report.touched_holdout == 0, "an answer honesty owes is no touch the holdout forbids"


def _consent(no: dict[str, PersonConsent]) -> ConsentBook:
    return ConsentBook(lambda: ConsentRead(no, frozenset()), ConsentSettings())


def test_a_question_from_a_person_who_said_no_is_closed_not_owed(
    fleet: Fleet, asked: tuple[int, str]
) -> None:
    agent_id, me = asked
    gallery = Gallery(me)
    gallery.post("p1", me, "Soft shadows on cards")
    _person_says(gallery, "c1", "u-out", "said_no", QUESTION)
    fleet.gallery = gallery  # type: ignore[assignment]
    book = _consent({"said_no": PersonConsent("none")})
    fleet.consent_book = lambda _gallery: book  # type: ignore[method-assign]
    scan_identity_questions(fleet, [replace(gallery.posts["p1"], comment_count=1)])
    with fleet.sessions() as session:
        assert identity.owed(session, [agent_id], since=NOW - identity.OWED_DAYS) == {}
    audit = identity_answers(fleet)
    assert (audit.asked, audit.waiting, audit.closed) == (1, [], {"asker_said_no": 1})


def test_an_owed_question_whose_asker_says_no_later_is_closed_by_the_next_reply(
    fleet: Fleet, asked: tuple[int, str]
) -> None:
    agent_id, me = asked
    gallery = Gallery(me)
    gallery.post("p1", me, "Soft shadows on cards")
    _person_says(gallery, "c1", "u-late", "late_no", QUESTION)
    question = identity.QuestionSeen(agent_id, "c1", "p1", NOW, asker="late_no")
    identity.note_questions(fleet.sessions, [question], now=NOW)
    with fleet.sessions() as session:
        assert identity.owed(session, [agent_id], since=NOW - identity.OWED_DAYS)
    book = _consent({"late_no": PersonConsent("all", frozenset({me}))})
    kit = _honest_kit(
        fleet, gallery, identity=fleet.identity_intent, targeting=Targeting(consent=book)
    )
    outcome = perform(kit, ActionKey.parse(_reply_key(fleet, agent_id)))
    assert outcome.status == "skipped" and not gallery.sent
    with fleet.sessions() as session:
        assert identity.owed(session, [agent_id], since=NOW - identity.OWED_DAYS) == {}
    assert identity_answers(fleet).closed == {"asker_said_no": 1}


def test_a_flood_of_questions_is_owed_once_and_repeats_cost_no_llm_call(
    fleet: Fleet, asked: tuple[int, str]
) -> None:
    agent_id, me = asked
    gallery = Gallery(me)
    gallery.post("p1", me, "Soft shadows on cards")
    for i in range(20):
        _person_says(gallery, f"c{i}", "u-flood", "flooder", f"are you a bot? ({i})")
    fleet.gallery = gallery  # type: ignore[assignment]
    assert scan_identity_questions(fleet, [replace(gallery.posts["p1"], comment_count=20)]) == 20
    with fleet.sessions() as session:
        owed = identity.owed(session, [agent_id], since=NOW - identity.OWED_DAYS)
    assert owed == {agent_id: ["c0"]}, "one answer owed per asker and agent"
    assert identity_answers(fleet).closed == {"asked_before": 19}
    assert not identity.owes_answer(fleet.sessions, agent_id, "c5")
    assert identity.owes_answer(fleet.sessions, agent_id, "c0")


def test_owed_answers_per_agent_per_day_are_capped(fleet: Fleet, asked: tuple[int, str]) -> None:
    from fleet.core.answering import OWED_PER_DAY

    agent_id, _ = asked
    questions = [
        identity.QuestionSeen(
            agent_id, f"c{i}", "p1", NOW - timedelta(minutes=30 - i), asker=f"p{i}"
        )
        for i in range(OWED_PER_DAY + 3)
    ]
    assert identity.note_questions(fleet.sessions, questions, now=NOW) == OWED_PER_DAY + 3
    with fleet.sessions() as session:
        owed = identity.owed(session, [agent_id], since=NOW - identity.OWED_DAYS)
    assert len(owed[agent_id]) == OWED_PER_DAY
    assert identity_answers(fleet).closed == {"many_today": 3}

"""Deciding ticks without a database: ``plan_ticks`` takes what the transaction read (the
agents' rows, the ticks decided before, who answers) and returns what it writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from fleet.agents.deciding import plan_ticks, rhythm_of
from fleet.core.decisions import Decision
from fleet.core.kinds import ACTION_NAMES, ActionKey
from fleet.core.persona import Quotas, effective_weights
from fleet.core.tick_notes import TickNotes
from fleet.infra.persona_files import PersonaCatalogue

NOW = datetime(2026, 11, 17, 15, 0, tzinfo=UTC)  # Tuesday: 10:00 in New York
LEASE = timedelta(minutes=5)
DUE = int(NOW.timestamp())
ONLY_POSTS = {name: 0 for name in ACTION_NAMES} | {"post": 1}


def _catalogue(quotas: Quotas | None = None) -> PersonaCatalogue:
    """The bundled personas, product_photographer's quotas replaced by ``quotas``."""
    bundled = PersonaCatalogue.from_directory()
    if quotas is None:
        return bundled
    return PersonaCatalogue(
        p.model_copy(update={"quotas": quotas}) if p.slug == "product_photographer" else p
        for p in bundled
    )


def _poster(agent_id: int = 1, **changes: Any) -> SimpleNamespace:
    """An agent row as the transaction reads it: a product photographer whose every steady
    tick draws a post."""
    row: dict[str, Any] = {
        "id": agent_id,
        "persona": "product_photographer",
        "seed": 7,
        "status": "active",
        "deleted_at": None,
        "weights": ONLY_POSTS,
        "interval_min": None,
        "interval_max": None,
        "activity": None,
        "day_counts": None,
    }
    return SimpleNamespace(**(row | changes))


def test_a_plan_past_the_quota_falls_to_the_next_kind_then_records_a_skip() -> None:
    catalogue = _catalogue(Quotas(post=2, comment=1, reply=0, like=0, follow=0, browse=1))
    ticks = [(1, DUE + k, None, 0) for k in range(6)]
    plan = plan_ticks(
        ticks, {1: _poster()}, catalogue, before={}, answering=set(), now=NOW, lease=LEASE
    )
    assert [d.key.action for d in plan.decided] == [
        "post",
        "post",
        "comment",
        "browse",
        "post",
        "post",
    ]
    assert [r["status"] for r in plan.rows] == ["pending"] * 4 + ["skipped"] * 2
    assert plan.rows[2]["content"] == {
        "degraded_from": "post",
        "quota": "daily quota: 2 post(s) already today",
    }
    skipped = plan.rows[4]
    assert skipped["error"] == "daily quota: 2 post(s) already today"
    assert (skipped["finished_at"], skipped["lease_expires_at"]) == (NOW, None)
    assert plan.rows[0]["lease_expires_at"] == NOW + LEASE
    assert [u["action"] for u in plan.updates] == [d.key.action for d in plan.decided]


def test_a_tick_decided_before_plans_no_row_and_keeps_its_decision() -> None:
    before = {(1, DUE): Decision(ActionKey.tick(1, DUE, "comment"), TickNotes(quota="q"))}
    plan = plan_ticks(
        [(1, DUE, None, 0), (1, DUE + 1, None, 0)],
        {1: _poster()},
        _catalogue(),
        before=before,
        answering=set(),
        now=NOW,
        lease=LEASE,
    )
    assert [d.key for d in plan.decided] == [
        ActionKey.tick(1, DUE, "comment"),
        ActionKey.tick(1, DUE + 1, "post"),
    ]
    assert plan.decided[0] == before[(1, DUE)], "the decision made before, its notes kept"
    assert [r["idempotency_key"] for r in plan.rows] == [f"1:{DUE + 1}:post"]


def test_a_plan_decides_nothing_for_an_agent_gone_paused_deleted_or_of_an_unknown_persona() -> None:
    agents = {
        2: _poster(2, status="paused"),
        3: _poster(3, deleted_at=NOW),
        4: _poster(4, persona="vanished"),
    }
    ticks = [(agent_id, DUE, None, 0) for agent_id in (1, 2, 3, 4)]
    plan = plan_ticks(ticks, agents, _catalogue(), before={}, answering=set(), now=NOW, lease=LEASE)
    assert (plan.rows, plan.updates, plan.decided) == ([], [], [])


def test_the_budget_check_turns_the_action_and_the_row_says_from_what() -> None:
    asked: list[tuple[int, str]] = []

    def over_budget(agent_id: int, action: str) -> tuple[str, str | None]:
        asked.append((agent_id, action))
        return "browse", "post degraded to browse: agent budget spent"

    plan = plan_ticks(
        [(1, DUE, None, 0)],
        {1: _poster()},
        _catalogue(),
        before={},
        answering=set(),
        now=NOW,
        lease=LEASE,
        adjust=over_budget,
    )
    assert asked == [(1, "post")]
    assert [d.key.action for d in plan.decided] == ["browse"]
    assert plan.rows[0]["content"] == {
        "degraded_from": "post",
        "degraded": "post degraded to browse: agent budget spent",
    }


def test_a_session_of_an_agent_a_person_waits_on_opens_with_a_look_at_its_notifications() -> None:
    """``notified``: the agent's next tick, here its session's opening, answers (notes
    say it is the look at its notifications, people first); another's still browses."""
    browser = {"post": 0, "comment": 0, "like": 0, "browse": 1}
    rows = {1: _poster(1, weights=browser), 2: _poster(2, weights=browser)}
    ticks = [(1, DUE, DUE, 0), (2, DUE, DUE, 0)]
    plan = plan_ticks(
        ticks, rows, _catalogue(), before={}, answering=set(), now=NOW, lease=LEASE, notified={1}
    )
    assert [d.key.action for d in plan.decided] == ["reply", "browse"]
    # The reply opens the session opened at DUE: it writes the session's plan, told what
    # the session says (its own reply, and nothing more for a mere browser).
    assert plan.rows[0]["content"] == {
        "notifications": True,
        "session": DUE,
        "says": {"reply": 1},
    }
    assert plan.rows[1]["content"] == {"thinks": False}
    assert plan.looked == {1}


def test_a_reply_that_opens_a_speaking_session_carries_its_words_with_its_own() -> None:
    """A notified agent whose session also comments: the opening reply is told the
    session's comments and its own reply (its plan writes them all); the comment that
    follows is told its session."""
    talker = {"post": 0, "comment": 1, "like": 0, "browse": 0}
    rows = {1: _poster(1, weights=talker)}
    catalogue = _catalogue()
    prepared = catalogue.cadences["product_photographer"]
    rhythm = rhythm_of(prepared, rows[1], effective_weights(prepared.persona, talker))
    opened = next(DUE + k for k in range(10_000) if rhythm.says(DUE + k))
    said = rhythm.says(opened)
    ticks = [(1, opened, opened, 0), (1, opened + 5, opened, 1)]
    plan = plan_ticks(
        ticks, rows, catalogue, before={}, answering=set(), now=NOW, lease=LEASE, notified={1}
    )
    assert [d.key.action for d in plan.decided] == ["reply", "comment"]
    assert plan.rows[0]["content"] == {
        "notifications": True,
        "session": opened,
        "says": {**said, "reply": said.get("reply", 0) + 1},
    }
    assert plan.rows[1]["content"] == {"session": opened}


def test_a_notified_agent_answers_at_its_next_tick_mid_session_once() -> None:
    """Mid-session too, and once: the ticks after its look are as drawn."""
    browser = {"post": 0, "comment": 0, "like": 0, "browse": 1}
    ticks = [(1, DUE + k, DUE - 60, 3 + k) for k in range(3)]
    plan = plan_ticks(
        ticks,
        {1: _poster(1, weights=browser)},
        _catalogue(),
        before={},
        answering=set(),
        now=NOW,
        lease=LEASE,
        notified={1},
    )
    assert [d.key.action for d in plan.decided] == ["reply", "browse", "browse"]
    assert plan.looked == {1}


def test_under_back_pressure_only_the_share_of_ticks_act_the_rest_rest() -> None:
    ticks = [(agent_id, DUE + k, None, 0) for agent_id in range(1, 41) for k in range(0, 50, 5)]
    rows = {agent_id: _poster(agent_id, seed=agent_id) for agent_id in range(1, 41)}
    catalogue = _catalogue(Quotas(post=1000, comment=0, reply=0, like=0, browse=0))

    def plan(share: float) -> Any:
        return plan_ticks(
            ticks, rows, catalogue, before={}, answering=set(), now=NOW, lease=LEASE, share=share
        )

    free, pressed = plan(1.0), plan(0.3)
    assert (len(free.decided), free.rested) == (400, 0)
    assert 90 <= len(pressed.decided) <= 150 and pressed.rested == 400 - len(pressed.decided)
    assert len(pressed.rows) == len(pressed.updates) == len(pressed.decided)
    assert {d.key for d in pressed.decided} <= {d.key for d in free.decided}
    assert plan(0.3).decided == pressed.decided, "the same ticks rest at the same share"


def test_a_tick_decided_before_keeps_its_decision_under_back_pressure() -> None:
    before = {(1, DUE): Decision(ActionKey.tick(1, DUE, "comment"), TickNotes(quota="q"))}
    plan = plan_ticks(
        [(1, DUE, None, 0)],
        {1: _poster()},
        _catalogue(),
        before=before,
        answering=set(),
        now=NOW,
        lease=LEASE,
        share=0.0,
    )
    assert plan.decided == [before[(1, DUE)]]


def test_a_look_a_quota_turns_leaves_the_mark_for_the_next_tick() -> None:
    """Replies spent for the day: the tick falls to the next kind, the agent has not
    looked, and its mark stays (``looked`` is empty)."""
    catalogue = _catalogue(Quotas(post=2, comment=5, reply=0, like=5, browse=5))
    plan = plan_ticks(
        [(1, DUE, DUE, 0)],
        {1: _poster(1)},
        catalogue,
        before={},
        answering=set(),
        now=NOW,
        lease=LEASE,
        notified={1},
    )
    assert plan.decided[0].key.action != "reply" and plan.looked == set()


# -- a truthful answer owed (issue 48) -------------------------------------------------


def test_an_agent_a_person_asked_what_it_is_answers_at_its_next_tick_whatever_quota_and_budget() -> (
    None
):
    """``owed``: replies spent for the day (quota 0) and the LLM budget spent: the tick
    answers all the same, once, marked as the identity answer; the next tick is as drawn."""
    catalogue = _catalogue(Quotas(post=2, comment=5, reply=0, like=5, browse=5))
    browser = {"post": 0, "comment": 0, "like": 0, "browse": 1}

    def over_budget(agent_id: int, action: str) -> tuple[str, str | None]:
        return "browse", f"{action} degraded to browse: agent budget spent"

    plan = plan_ticks(
        [(1, DUE, DUE, 0), (1, DUE + 30, DUE, 1)],
        {1: _poster(1, weights=browser)},
        catalogue,
        before={},
        answering=set(),
        now=NOW,
        lease=LEASE,
        adjust=over_budget,
        notified={1},
        owed={1},
    )
    assert [d.key.action for d in plan.decided] == ["reply", "browse"]
    assert [r["status"] for r in plan.rows] == ["pending", "pending"]
    assert plan.rows[0]["content"] == {
        "notifications": True,
        "identity": True,
        "session": DUE,
        "budgeted": False,
    }, "its tick did not ask the budget: the handler asks"
    assert plan.answered == {1} and plan.looked == {1}
    assert plan.updates[0]["counts"]["2026-11-17"]["reply"] == 1, "counted, not refused"


def test_without_an_owed_answer_the_same_tick_is_turned_by_quota_and_budget() -> None:
    """The control of the test above: not owed, the reply is turned."""
    catalogue = _catalogue(Quotas(post=2, comment=5, reply=0, like=5, browse=5))
    plan = plan_ticks(
        [(1, DUE, DUE, 0)],
        {1: _poster(1)},
        catalogue,
        before={},
        answering=set(),
        now=NOW,
        lease=LEASE,
        notified={1},
    )
    assert plan.decided[0].key.action != "reply" and plan.answered == set()


def test_an_owed_answer_leaves_a_sessions_post_in_its_place() -> None:
    """A session posts once, at its place: the answer comes at the next tick. A steady
    ticker (no sessions) answers at its very next tick."""
    rows = {1: _poster(1)}
    posting = next(i for i in range(1, 20) if _session_action(rows[1], i) == "post")
    ticks = [(1, DUE + posting, DUE, posting), (1, DUE + posting + 1, DUE, posting + 1)]
    plan = plan_ticks(
        ticks, rows, _catalogue(), before={}, answering=set(), now=NOW, lease=LEASE, owed={1}
    )
    assert [d.key.action for d in plan.decided] == ["post", "reply"]
    steady = plan_ticks(
        [(1, DUE, None, 0), (1, DUE + 60, None, 0)],
        rows,
        _catalogue(),
        before={},
        answering=set(),
        now=NOW,
        lease=LEASE,
        owed={1},
    )
    assert [d.key.action for d in steady.decided] == ["reply", "post"]


def _session_action(row: Any, index: int) -> str:
    plan = plan_ticks(
        [(1, DUE + index, DUE, index)],
        {1: row},
        _catalogue(),
        before={},
        answering=set(),
        now=NOW,
        lease=LEASE,
    )
    return plan.decided[0].key.action


def test_a_speaking_session_s_opening_look_carries_what_the_session_says() -> None:
    """The opening look of a session holding words is told how many of each (its plan
    writes them in one call), and each of its words is told its session; a session
    that says nothing opens with a look that makes no call."""
    talker = {"post": 0, "comment": 1, "like": 0, "browse": 0}
    rows = {1: _poster(1, weights=talker)}
    catalogue = _catalogue()
    prepared = catalogue.cadences["product_photographer"]
    rhythm = rhythm_of(prepared, rows[1], effective_weights(prepared.persona, talker))
    # The first session opening from DUE on that holds more than its opening look.
    opened = next(DUE + k for k in range(10_000) if rhythm.says(DUE + k))
    said = rhythm.says(opened)
    assert set(said) == {"comment"} and said["comment"] >= 1
    ticks = [(1, opened, opened, 0), (1, opened + 5, opened, 1)]
    plan = plan_ticks(ticks, rows, catalogue, before={}, answering=set(), now=NOW, lease=LEASE)
    assert [d.key.action for d in plan.decided] == ["browse", "comment"]
    assert plan.rows[0]["content"] == {"session": opened, "says": said}
    assert plan.rows[1]["content"] == {"session": opened}
    quiet = {1: _poster(1, weights={"post": 0, "comment": 0, "reply": 0, "like": 1, "browse": 0})}
    plan = plan_ticks(ticks, quiet, catalogue, before={}, answering=set(), now=NOW, lease=LEASE)
    assert plan.rows[0]["content"] == {"thinks": False}
    assert plan.rows[1]["content"] is None


def test_a_steady_tick_opens_no_session_so_its_words_carry_no_session_note() -> None:
    """A steady ticker (an interval, no sessions): the dispatcher's tick carries an opening
    second all the same (its due second), but it opens no session. Its post and its reply
    are decided with no notes (no content written, no session's plan to wait for), as a
    tick of two fields is; the key still names the tick's due second."""
    steady = {"interval_min": 30, "interval_max": 60}
    replier = {"post": 0, "comment": 0, "reply": 1, "like": 0, "browse": 0}
    rows = {1: _poster(1, **steady), 2: _poster(2, weights=replier, **steady)}
    ticks = [(1, DUE, DUE, 0), (2, DUE, DUE, 0), (1, DUE + 90, DUE + 90, 0)]
    plan = plan_ticks(ticks, rows, _catalogue(), before={}, answering=set(), now=NOW, lease=LEASE)
    assert [d.key.action for d in plan.decided] == ["post", "reply", "post"]
    assert plan.decided[0].key == ActionKey.tick(1, DUE, "post")
    assert [r["content"] for r in plan.rows] == [None, None, None]
    assert all(d.notes.session is None and not d.notes.says for d in plan.decided)
    two_fields = plan_ticks(
        [(1, DUE, None, 0), (2, DUE, None, 0), (1, DUE + 90, None, 0)],
        rows,
        _catalogue(),
        before={},
        answering=set(),
        now=NOW,
        lease=LEASE,
    )
    assert two_fields.decided == plan.decided and two_fields.rows == plan.rows


def test_a_decision_says_when_its_tick_did_not_ask_the_budget_for_its_llm_call() -> None:
    """The tick asks the budget about a post, a comment or a reply: let be, its notes say
    nothing more (the handler does not ask again), a quota's turn to another kind
    included (the budget is the agent's whatever the kind). An owed truthful answer is
    not asked about (nothing turns it): its notes say so (``budgeted``), and its handler
    asks."""
    asked: list[tuple[int, str]] = []

    def allowed(agent_id: int, action: str) -> tuple[str, str | None]:
        asked.append((agent_id, action))
        return action, None

    catalogue = _catalogue(Quotas(post=2, comment=5, reply=5, like=0, follow=0, browse=0))
    steady = {"interval_min": 30, "interval_max": 60}
    rows = {1: _poster(1, **steady), 2: _poster(2, **steady)}
    plan = plan_ticks(
        [(1, DUE + 90 * k, DUE + 90 * k, 0) for k in range(3)] + [(2, DUE, DUE, 0)],
        rows,
        catalogue,
        before={},
        answering=set(),
        now=NOW,
        lease=LEASE,
        adjust=allowed,
        owed={2},
    )
    assert asked == [(1, "post")] * 3
    assert [d.key.action for d in plan.decided] == ["post", "post", "comment", "reply"]
    assert [d.notes.budgeted for d in plan.decided] == [True, True, True, False]
    assert plan.rows[0]["content"] is None, "a post the budget let be notes nothing"
    assert plan.rows[2]["content"] == {
        "degraded_from": "post",
        "quota": "daily quota: 2 post(s) already today",
    }
    assert plan.rows[3]["content"] == {"notifications": True, "identity": True, "budgeted": False}

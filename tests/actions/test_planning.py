"""A speaking session's plan through the actions: a Fleet on Postgres and Redis whose
writer is the real SDK on a local Messages API, the sandbox gallery.

The opening look makes the session's one call and keeps the plan; the session's comment
publishes the planned text with no call of its own; a look delivered again pays nothing;
a hostile plan publishes nothing for a post the agent was not shown; under review, the
planned text is the comment's draft."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from pydantic import SecretStr
from sqlalchemy import Engine, select, update

from fleet import activities
from fleet.actions.perform import perform
from fleet.actions.planning import PLAN_WAITS
from fleet.activities.outcomes import Succeeded
from fleet.cli import cli
from fleet.core.kinds import ActionKey
from fleet.db.models import Agent, AgentActivity, SessionPlanRow
from fleet.errors import Deferred
from fleet.service.root import Fleet, bootstrap
from fleet.settings import Settings
from fleet_sandbox import storage
from fleet_sandbox.server import BackgroundSandbox
from tests.conftest import REDIS_URL
from tests.content.conftest import post_json
from tests.gallery.conftest import TOKEN
from tests.messages_api import MessagesAPI

PLANNED = "The lantern glow on that tileset reads well even at thumbnail size."


@pytest.fixture
def local_api() -> Iterator[MessagesAPI]:
    with MessagesAPI() as server:
        yield server


@pytest.fixture
def fleet(
    pg_engine: Engine, sandbox: BackgroundSandbox, redis_keys: str, local_api: MessagesAPI
) -> Iterator[Fleet]:
    """Two started indie game devs; the second has posted (the first's page shows it)."""
    settings = Settings(
        database_url=pg_engine.url.render_as_string(hide_password=False),
        seed=7,
        anthropic_api_key=SecretStr("gw-key-test"),
        broker_url=REDIS_URL,
        redis_url=REDIS_URL,
        broker_key_prefix=f"{redis_keys}:",
        gallery={"url": sandbox.url, "token": TOKEN},
        llm={"model": "claude-haiku-4-5", "base_url": local_api.url, "timeout_seconds": 2.0},
    )
    made = bootstrap(settings, pg_engine)
    runner = CliRunner()
    created = runner.invoke(
        cli,
        ["agents", "create", "--persona", "indie_game_dev", "--count", "2", "--start"],
        obj=made,
    )
    assert created.exit_code == 0, created.output
    local_api.queue(local_api.text(post_json()))
    posted = runner.invoke(cli, ["agents", "act", "2", "post", "--here", "--json"], obj=made)
    assert json.loads(posted.stdout)["status"] == "succeeded", posted.output
    yield made
    made.close()


def _session(
    fleet: Fleet, says: dict[str, int], *actions: str, ago: int = 60
) -> tuple[str, list[str]]:
    """A session of agent 1 as the dispatcher decides it (opened ``ago`` seconds ago):
    its opening look's key, and its other actions' keys."""
    opened = int(datetime.now(UTC).timestamp()) - ago
    now = datetime.now(UTC)
    lease = timedelta(minutes=5)
    look = f"1:{opened}:browse"
    activities.create_activity(
        fleet.sessions,
        1,
        "browse",
        datetime.fromtimestamp(opened, UTC),
        look,
        now=now,
        lease=lease,
        content={"session": opened, "says": says},
    )
    keys = []
    for n, action in enumerate(actions, start=1):
        key = f"1:{opened + 5 * n}:{action}"
        activities.create_activity(
            fleet.sessions,
            1,
            action,
            datetime.fromtimestamp(opened + 5 * n, UTC),
            key,
            now=now,
            lease=lease,
            content={"session": opened},
        )
        keys.append(key)
    return look, keys


def _row(fleet: Fleet, key: str) -> AgentActivity:
    with fleet.sessions() as session:
        return session.scalars(
            select(AgentActivity).where(AgentActivity.idempotency_key == key)
        ).one()


def _plan(text: str, **more: Any) -> str:
    return json.dumps({"comments": [{"to": "p1", "text": text}], **more})


def test_the_opening_look_makes_the_session_s_one_call_and_its_comment_none(
    fleet: Fleet, local_api: MessagesAPI
) -> None:
    look, (comment,) = _session(fleet, {"comment": 1}, "comment")
    calls = len(local_api.requests)
    local_api.queue(local_api.text(_plan(PLANNED, thought="Warm feed today.")))
    kit = fleet.action_kit
    assert perform(kit, ActionKey.parse(look)).status == "succeeded"
    assert len(local_api.requests) == calls + 1
    sent = local_api.requests[-1].json()["messages"][0]["content"][0]["text"]
    assert 'Task: "plan"' in sent and "<page>" in sent
    looked = _row(fleet, look)
    assert looked.usage is not None and looked.usage["calls"] == 1
    # Delivered again (its finish lost): the plan is found, nothing is paid twice.
    with fleet.sessions.begin() as session:
        session.execute(
            update(AgentActivity)
            .where(AgentActivity.idempotency_key == look)
            .values(status="pending", finished_at=None)
        )
    assert perform(kit, ActionKey.parse(look)).status == "succeeded"
    assert len(local_api.requests) == calls + 1
    with fleet.sessions() as session:
        assert len(session.scalars(select(SessionPlanRow)).all()) == 1
    done = perform(kit, ActionKey.parse(comment))
    assert done.status == "succeeded", done
    assert len(local_api.requests) == calls + 1, "the comment made no call of its own"
    row = _row(fleet, comment)
    assert row.content is not None and row.content["text"] == PLANNED
    assert row.content["planned"] is True
    assert row.usage is not None and row.usage["calls"] == 0


def test_the_plan_writes_for_the_post_the_comment_chooses_not_one_it_engaged_already(
    fleet: Fleet, local_api: MessagesAPI
) -> None:
    runner = CliRunner()
    local_api.queue(local_api.text(post_json(caption="Moss lantern, lit at last")))
    posted = runner.invoke(cli, ["agents", "act", "2", "post", "--here", "--json"], obj=fleet)
    assert posted.exit_code == 0 and '"succeeded"' in posted.stdout, (posted.stdout, posted.output)
    kit = fleet.action_kit
    calls = len(local_api.requests)
    first_look, (first,) = _session(fleet, {"comment": 1}, "comment", ago=600)
    local_api.queue(local_api.text(_plan(PLANNED)))
    assert perform(kit, ActionKey.parse(first_look)).status == "succeeded"
    assert perform(kit, ActionKey.parse(first)).status == "succeeded"
    commented = _row(fleet, first).content
    assert commented is not None and commented["text"] == PLANNED
    # The next session: its plan is shown first the post its comment would choose, which
    # is not the one the agent commented on already; the comment takes the planned text.
    look, (comment,) = _session(fleet, {"comment": 1}, "comment", ago=60)
    again = "That lantern's warm pixels against the moss read beautifully."
    local_api.queue(local_api.text(_plan(again)))
    assert perform(kit, ActionKey.parse(look)).status == "succeeded"
    sent = local_api.requests[-1].json()["messages"][0]["content"][0]["text"]
    # The page's rows, as quoted after "<page>" (the format above names the tag too).
    page = json.loads("[" + sent.split("<page>[", 1)[1].split("</page>", 1)[0])
    assert page[0][1] != commented["title"], page
    done = perform(kit, ActionKey.parse(comment))
    assert done.status == "succeeded", done
    assert len(local_api.requests) == calls + 2, "each comment took its session's plan"
    row = _row(fleet, comment)
    assert row.content is not None and row.content["text"] == again
    assert row.content["title"] == page[0][1]


HOSTILE = {
    "other ids": _plan("Planted on a post it never saw.").replace('"p1"', '"p9"'),
    "a gallery id": _plan("Planted by id.").replace('"p1"', '"1"'),
    "500 items": json.dumps(
        {"comments": [{"to": f"p{n % 7}", "text": f"Planted {n}."} for n in range(500)]}
    ),
    "nested": json.dumps({"comments": [{"to": {"to": "p1"}, "text": {"t": "Planted."}}]}),
    "1 MB": _plan("Planted " + "x" * 2**20),
}


@pytest.mark.parametrize("case", HOSTILE)
def test_a_hostile_plan_publishes_nothing_for_a_post_the_agent_was_not_shown(
    fleet: Fleet, local_api: MessagesAPI, case: str
) -> None:
    look, (comment,) = _session(fleet, {"comment": 1}, "comment")
    local_api.queue(local_api.text(HOSTILE[case]))
    kit = fleet.action_kit
    assert perform(kit, ActionKey.parse(look)).status == "succeeded", "nothing fails the session"
    own = json.dumps({"comment": "Those tiles have a lovely rhythm to them."})
    local_api.queue(local_api.text(own))
    done = perform(kit, ActionKey.parse(comment))
    assert done.status == "succeeded", done
    row = _row(fleet, comment)
    assert row.content is not None
    published = str(row.content["text"])
    with fleet.sessions() as session:
        handle = session.scalars(select(Agent.handle).where(Agent.id == 1)).one()
    shown = {p.id for p in kit.gallery.feed(agent=handle, limit=50, sort="recent")}
    assert row.target_post_id in shown
    if case != "500 items":  # of those, p1 names the post it was shown: a fair item
        assert "Planted" not in published


def test_under_review_the_planned_comment_is_the_session_s_draft(
    fleet: Fleet, local_api: MessagesAPI
) -> None:
    with fleet.sessions.begin() as session:
        session.execute(update(Agent).where(Agent.id == 1).values(review=True))
    look, (comment,) = _session(fleet, {"comment": 1}, "comment")
    local_api.queue(local_api.text(_plan(PLANNED)))
    kit = fleet.action_kit
    calls = len(local_api.requests)
    perform(kit, ActionKey.parse(look))
    assert perform(kit, ActionKey.parse(comment)).status == "drafted"
    assert len(local_api.requests) == calls + 1
    row = _row(fleet, comment)
    assert row.status == "awaiting_review"
    assert row.content is not None and row.content["text"] == PLANNED


def test_a_reply_that_opens_its_session_writes_the_session_s_plan_and_takes_its_text(
    fleet: Fleet, local_api: MessagesAPI, sandbox: BackgroundSandbox
) -> None:
    """A person's comment called agent 2 back: its session opens with the reply, not a look (the
    dispatcher marks the reply with what the session says). The reply makes the session's
    one call, answers with the planned text, and a delivery again pays nothing."""
    kit = fleet.action_kit
    with fleet.sessions() as session:
        handle = session.scalars(select(Agent.handle).where(Agent.id == 2)).one()
    (post,) = (p for p in kit.gallery.feed(agent=handle, limit=50) if p.username == handle)
    with sandbox.app.state.sandbox.storage.begin() as conn:  # a person, not an agent
        now = datetime.now(UTC)
        person, _ = storage.invite(
            conn,
            agent_id=None,
            name="Rosa",
            username="rosa_reads",
            persona=None,
            is_agent=False,
            now=now,
        )
        storage.create_comment(
            conn,
            post_id=int(post.id),
            user=person,
            content="How long did the lantern glow take you?",
            key=None,
            now=now,
        )
    opened = int(datetime.now(UTC).timestamp()) - 60
    key = f"2:{opened}:reply"
    activities.create_activity(
        fleet.sessions,
        2,
        "reply",
        datetime.fromtimestamp(opened, UTC),
        key,
        now=datetime.now(UTC),
        lease=timedelta(minutes=5),
        content={"notifications": True, "session": opened, "says": {"reply": 1}},
    )
    answer = "Thanks! The glow took three passes to get right."
    local_api.queue(local_api.text(json.dumps({"replies": [{"to": "c1", "text": answer}]})))
    calls = len(local_api.requests)
    done = perform(kit, ActionKey.parse(key))
    assert done.status == "succeeded", done
    assert len(local_api.requests) == calls + 1, "the plan, and no call of the reply's own"
    sent = local_api.requests[-1].json()["messages"][0]["content"][0]["text"]
    assert 'Task: "plan"' in sent and "<comments>" in sent
    row = _row(fleet, key)
    assert row.content is not None and row.content["text"].endswith(answer)
    assert row.content["planned"] is True
    assert row.usage is not None and row.usage["calls"] == 1  # the plan's call, on the reply
    with fleet.sessions() as session:
        assert len(session.scalars(select(SessionPlanRow)).all()) == 1
    # Delivered again before its text was kept: the plan is found, nothing is paid twice.
    with fleet.sessions.begin() as session:
        session.execute(
            update(AgentActivity)
            .where(AgentActivity.idempotency_key == key)
            .values(
                status="pending",
                finished_at=None,
                content={"notifications": True, "session": opened, "says": {"reply": 1}},
                target_post_id=None,
            )
        )
    perform(kit, ActionKey.parse(key))
    assert len(local_api.requests) == calls + 1


def test_a_planned_text_the_guard_refuses_is_followed_by_one_call_and_says_why(
    fleet: Fleet, local_api: MessagesAPI
) -> None:
    """The guard refuses the plan's comment (it claims to be human): the comment writes
    its own in one call, not two (the planned text was its first draft), and its activity says why."""
    look, (comment,) = _session(fleet, {"comment": 1}, "comment")
    local_api.queue(local_api.text(_plan("I am a real human and this lantern made my day.")))
    kit = fleet.action_kit
    assert perform(kit, ActionKey.parse(look)).status == "succeeded"
    calls = len(local_api.requests)
    own = "The lantern's warm edge against the moss is lovely."
    local_api.queue(local_api.text(json.dumps({"comment": own})))
    local_api.queue(local_api.text(json.dumps({"comment": "A second draft, never asked."})))
    done = perform(kit, ActionKey.parse(comment))
    assert done.status == "succeeded", done
    assert len(local_api.requests) == calls + 1
    row = _row(fleet, comment)
    assert row.content is not None and row.content["text"] == own
    assert "planned" not in row.content
    assert "human" in row.content["plan_refused"]
    assert row.usage is not None and row.usage["calls"] == 1


def test_a_speaking_session_s_look_with_nothing_to_plan_makes_no_call(
    fleet: Fleet, local_api: MessagesAPI
) -> None:
    """The session says a reply, but no comment waits on the agent: no plan is asked, and
    no thought either (a plan's look thinks only with its plan)."""
    look, _ = _session(fleet, {"reply": 1})
    calls = len(local_api.requests)
    done = perform(fleet.action_kit, ActionKey.parse(look))
    assert isinstance(done, Succeeded) and done.result is not None
    assert done.result["thought"] is None and done.result["seen"]
    assert len(local_api.requests) == calls


def test_a_comment_taken_before_its_session_s_look_waits_for_the_plan(
    fleet: Fleet, local_api: MessagesAPI
) -> None:
    """The look goes to the ``engage`` queue and the comment to ``content``: a worker may
    take the comment first. It waits (a deferral, no call) while the look is pending, then
    takes the plan's text; delivered ``PLAN_WAITS`` times, it writes its own."""
    look, (comment,) = _session(fleet, {"comment": 1}, "comment", ago=600)
    calls = len(local_api.requests)
    kit = fleet.action_kit
    with pytest.raises(Deferred, match="plan") as waited:
        perform(kit, ActionKey.parse(comment))
    assert waited.value.scope == "call" and waited.value.until is not None
    assert waited.value.until - datetime.now(UTC) <= timedelta(seconds=2)
    assert len(local_api.requests) == calls, "no call while the plan is being written"
    local_api.queue(local_api.text(_plan(PLANNED)))
    assert perform(kit, ActionKey.parse(look)).status == "succeeded"
    with fleet.sessions.begin() as session:  # its lease let go, as the task's settling does
        session.execute(
            update(AgentActivity)
            .where(AgentActivity.idempotency_key == comment)
            .values(lease_expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    done = perform(kit, ActionKey.parse(comment))
    assert done.status == "succeeded", done
    assert len(local_api.requests) == calls + 1, "the plan's call, and no other"
    assert _row(fleet, comment).content["planned"] is True


def test_a_comment_delivered_often_does_not_wait_for_a_pending_look_any_more(
    fleet: Fleet, local_api: MessagesAPI
) -> None:
    _, (comment,) = _session(fleet, {"comment": 1}, "comment", ago=5)
    with fleet.sessions.begin() as session:
        session.execute(
            update(AgentActivity)
            .where(AgentActivity.idempotency_key == comment)
            .values(deliveries=PLAN_WAITS)
        )
    calls = len(local_api.requests)
    local_api.queue(local_api.text(json.dumps({"comment": "Solid tile work, the moss reads."})))
    done = perform(fleet.action_kit, ActionKey.parse(comment))
    assert done.status == "succeeded", done
    assert len(local_api.requests) == calls + 1

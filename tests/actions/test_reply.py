"""The fifth kind, ``reply``: an agent answers comments others left on its own posts.

People before bots, one reply per comment, never to itself, in its voice with the
commenter's handle, exactly once in effect (the text is kept before the call, a lost
answer is looked for), over budget skipped as degraded; the sandbox keeps the thread.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from fleet import activities, agents
from fleet.actions import ActionKit, NoBudget, perform
from fleet.actions.common import TICK_BUDGET_SECONDS
from fleet.actions.kit import Limits
from fleet.content.offline import replies
from fleet.content.offline.writer import OfflineWriter
from fleet.content.port import Usage
from fleet.core.kinds import Action, ActionKey
from fleet.core.tick_notes import NO_NOTES, TickNotes
from fleet.db.models import Agent, AgentActivity, DeadLetter
from fleet.errors import TransientError
from fleet.gallery.answers import GalleryRefused
from fleet.gallery.client import HttpGallery
from fleet.gallery.port import GalleryComment, GalleryPost, GalleryUser, Liked
from fleet.service.agents import send_now
from fleet.service.root import Fleet
from fleet.settings import ActionSettings
from fleet_sandbox.server import BackgroundSandbox
from tests.gallery.conftest import TOKEN, settings_for

NOW = datetime(2026, 11, 17, 15, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)


@dataclass
class Gallery:
    """The gallery as the reply handler sees it: the agent's posts and their comments."""

    me: str
    posts: dict[str, GalleryPost] = field(default_factory=dict)
    threads: dict[str, list[GalleryComment]] = field(default_factory=dict)
    sent: list[tuple[str, str, str | None]] = field(default_factory=list)
    lose_next_answer: bool = False

    def post(self, post_id: str, author: str, title: str) -> None:
        self.posts[post_id] = GalleryPost(post_id, title, "", "", 0, 0, NOW, "u", author, True)
        self.threads.setdefault(post_id, [])

    def said(
        self,
        post_id: str,
        comment_id: str,
        by: str,
        text: str,
        *,
        bot: bool,
        parent: str | None = None,
    ) -> None:
        self.threads[post_id].append(
            GalleryComment(comment_id, post_id, text, "u", by, NOW, bot, parent)
        )

    def provision_user(self, *, handle: str, name: str, persona: str) -> GalleryUser:
        return GalleryUser("u-" + handle, handle, True)

    def get_post(self, *, agent: str, post_id: str) -> GalleryPost:
        return self.posts[post_id]

    def comments(
        self, *, agent: str, post_id: str, limit: int = 50, offset: int = 0
    ) -> list[GalleryComment]:
        return self.threads[post_id][offset : offset + limit]

    def comment(
        self,
        *,
        agent: str,
        post_id: str,
        content: str,
        idempotency_key: str,
        parent_id: str | None = None,
    ) -> GalleryComment:
        made = GalleryComment(
            f"c{len(self.sent) + 100}", post_id, content, "u", agent, NOW, True, parent_id
        )
        self.sent.append((post_id, content, parent_id))
        self.threads[post_id].append(made)
        if self.lose_next_answer:
            self.lose_next_answer = False
            raise TransientError("the answer was lost")
        return made

    def feed(self, **_: object) -> list[GalleryPost]:
        return list(self.posts.values())

    def like(self, **_: object) -> Liked:
        raise AssertionError("a reply does not like")

    def close(self) -> None:
        return None


@pytest.fixture
def author(fleet: Fleet) -> tuple[int, str]:
    """An active agent that posted once (its post is ``p1`` on the gallery)."""
    created = agents.create_agents(
        fleet.sessions, fleet.personas, agents.NewAgents("ux_ui_designer", 1), fleet_seed=7, now=NOW
    )
    everyone = agents.Selection(everyone=True)
    agents.change_status(fleet.sessions, fleet.personas, "start", everyone, now=NOW)
    agent_id = created.first_id
    key = f"{agent_id}:{int(NOW.timestamp()) - 600}:post"
    activity = activities.create_activity(
        fleet.sessions, agent_id, "post", NOW - timedelta(minutes=10), key, now=NOW, lease=LEASE
    )
    assert activities.finish(
        fleet.sessions, activity, "succeeded", now=NOW, result={"post_id": "p1"}
    )
    return agent_id, agents.get_agent(fleet.sessions, str(agent_id)).handle


def _kit(fleet: Fleet, gallery: Gallery, **changes: object) -> ActionKit:
    kit = ActionKit(
        sessions=fleet.sessions,
        personas=fleet.personas,
        gallery=gallery,
        writer=OfflineWriter(),
        settings=ActionSettings(),
        limits=Limits(LEASE, max_attempts=3),
        now=lambda: NOW,
        # What the reply's choice saw reaches the root's listeners: the impact
        # experiment's sightings, the honesty ledger's questions.
        events=fleet.events,
    )
    return replace(kit, **changes)  # type: ignore[arg-type]


def _reply_key(fleet: Fleet, agent_id: int, second: int = 0, *, notes: TickNotes = NO_NOTES) -> str:
    """A ticked reply's activity; ``notes``: what its tick noted (by default nothing: the
    tick asked the LLM budget and it let the reply be)."""
    key = f"{agent_id}:{int(NOW.timestamp()) + second}:reply"
    activities.create_activity(
        fleet.sessions,
        agent_id,
        "reply",
        NOW,
        key,
        now=NOW,
        lease=LEASE,
        content=notes.content() or None,
    )
    return key


def test_a_reply_answers_a_person_before_a_bot_quoting_the_commenter(
    fleet: Fleet, author: tuple[int, str]
) -> None:
    agent_id, me = author
    gallery = Gallery(me)
    gallery.post("p1", me, "Soft shadows on cards")
    gallery.said("p1", "c1", "bot_fan", "Love the spacing here.", bot=True)
    gallery.said("p1", "c2", "maya", "How did you pick the shadow?", bot=False)
    kit = _kit(fleet, gallery)

    outcome = perform(kit, ActionKey.parse(_reply_key(fleet, agent_id)))

    assert outcome.status == "succeeded"
    assert len(gallery.sent) == 1
    post_id, text, parent = gallery.sent[0]
    assert (post_id, parent) == ("p1", "c2"), "the person's comment first"
    assert text.startswith("@maya ")
    assert outcome.detail is not None and outcome.detail["in_reply_to"] == "c2"
    # The ledger keeps (agent, comment, reply): that comment is answered once.
    second = perform(kit, ActionKey.parse(_reply_key(fleet, agent_id, 1)))
    assert second.status == "succeeded"
    assert gallery.sent[1][2] == "c1", "then the bot's"
    third = perform(kit, ActionKey.parse(_reply_key(fleet, agent_id, 2)))
    assert third.status == "skipped"
    assert "nothing to reply to" in (third.detail or {}).get("reason", "")
    assert len(gallery.sent) == 2
    # The person answered is a tie the agent's taste weighs; the bot answered is not
    # (another agent's comment counts through the engagement ledger).
    assert (outcome.detail or {})["to_person"] is True
    assert (second.detail or {})["to_person"] is False
    assert activities.admirers(fleet.sessions, agent_id) == {"maya": 1}


def test_an_agent_never_replies_to_itself_nor_to_a_reply(
    fleet: Fleet, author: tuple[int, str]
) -> None:
    agent_id, me = author
    gallery = Gallery(me)
    gallery.post("p1", me, "Soft shadows on cards")
    gallery.said("p1", "c1", me, "Process notes: three layers.", bot=True)
    gallery.said("p1", "c2", "maya", "Nice!", bot=False)
    gallery.said("p1", "c3", me, "@maya thanks!", bot=True, parent="c2")
    outcome = perform(_kit(fleet, gallery), ActionKey.parse(_reply_key(fleet, agent_id)))
    assert outcome.status == "skipped"
    assert gallery.sent == []


def test_a_lost_answer_is_looked_for_before_the_reply_is_sent_again(
    fleet: Fleet, author: tuple[int, str]
) -> None:
    agent_id, me = author
    gallery = Gallery(me)
    gallery.post("p1", me, "Soft shadows on cards")
    gallery.said("p1", "c1", "maya", "So clean.", bot=False)
    gallery.lose_next_answer = True
    kit = _kit(fleet, gallery)
    key = _reply_key(fleet, agent_id)

    with pytest.raises(TransientError):
        perform(kit, ActionKey.parse(key))
    with fleet.sessions() as session:
        stored = session.scalars(select(AgentActivity).where(AgentActivity.idempotency_key == key))
        row = stored.one()
    assert row.content is not None and row.content["text"].startswith("@maya"), "kept first"
    assert row.target_post_id == "c1"
    activities.release(fleet.sessions, row.id, until=NOW, now=NOW)

    again = perform(kit, ActionKey.parse(key))

    assert again.status == "succeeded"
    assert again.detail is not None and again.detail.get("recovered") is True
    assert len(gallery.sent) == 1, "the reply reached the gallery once"


class _Spent(NoBudget):
    """The fleet's LLM budget is spent: nothing may be written, nothing is charged."""

    def refusal(self, agent_id: int) -> str | None:
        return "fleet LLM budget spent"

    def record(self, agent_id: int, usage: Usage) -> None:
        raise AssertionError("nothing was written, nothing is charged")


@pytest.mark.parametrize("came", ["unasked", "admin", "late"])
def test_over_the_budget_a_reply_the_tick_did_not_clear_is_skipped_and_calls_nothing(
    fleet: Fleet, author: tuple[int, str], came: str
) -> None:
    """The handler asks the budget itself for a reply no tick asked it about (an owed
    answer's, or one a quota turned to: ``budgeted`` false), for an admin's act (no tick
    at all), and for one a queue held past ``TICK_BUDGET_SECONDS`` after its tick (the
    tick's answer too old to stand): spent, each is skipped as degraded, nothing sent."""
    agent_id, me = author
    gallery = Gallery(me)
    gallery.post("p1", me, "Soft shadows on cards")
    gallery.said("p1", "c1", "maya", "So clean.", bot=False)
    kit = _kit(fleet, gallery, limits=Limits(LEASE, max_attempts=3, spending=_Spent()))
    if came == "unasked":
        key = ActionKey.parse(_reply_key(fleet, agent_id, notes=TickNotes(budgeted=False)))
    elif came == "admin":
        sent: list[ActionKey[Action]] = []
        send_now(fleet, str(agent_id), "reply", lambda key, countdown=0.0: sent.append(key))
        [key] = sent
        assert key.due_at is None, "an admin's act"
    else:
        late = NOW + timedelta(seconds=TICK_BUDGET_SECONDS + 1)
        kit = replace(kit, now=lambda: late)
        key = ActionKey.parse(_reply_key(fleet, agent_id))
    outcome = perform(kit, key)
    assert outcome.status == "skipped"
    assert (outcome.detail or {})["reason"].startswith("degraded:")
    assert gallery.sent == []


def test_a_reply_its_tick_asked_the_budget_about_does_not_ask_it_again(
    fleet: Fleet, author: tuple[int, str]
) -> None:
    """The tick asked the budget seconds before and it let the reply be (its notes do not
    say otherwise): the handler does not ask again, and charges what it wrote after."""
    agent_id, me = author
    gallery = Gallery(me)
    gallery.post("p1", me, "Soft shadows on cards")
    gallery.said("p1", "c1", "maya", "So clean.", bot=False)
    charged: list[int] = []

    class Asked(NoBudget):
        def refusal(self, agent_id: int) -> str | None:
            raise AssertionError("the tick asked the budget: the handler does not")

        def record(self, agent_id: int, usage: Usage) -> None:
            charged.append(agent_id)

    outcome = perform(
        _kit(fleet, gallery, limits=Limits(LEASE, max_attempts=3, spending=Asked())),
        ActionKey.parse(_reply_key(fleet, agent_id)),
    )
    assert outcome.status == "succeeded"
    assert len(gallery.sent) == 1 and charged == [agent_id]


# -- the sandbox keeps the thread -----------------------------------------------------


@pytest.fixture
def api(sandbox: BackgroundSandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.url, headers={"Authorization": f"Bearer {TOKEN}"}) as c:
        yield c


def test_the_sandbox_keeps_which_comment_a_reply_answers_and_shows_the_thread(
    sandbox: BackgroundSandbox, api: httpx.Client
) -> None:
    gallery = HttpGallery(settings_for(sandbox.url))
    try:
        for handle in ("ux_one", "ux_two"):
            gallery.provision_user(handle=handle, name=handle, persona="ux_ui_designer")
        image = gallery.generate_image(
            agent="ux_one", prompt="a card", style="flat", persona="ux", idempotency_key="i1"
        )
        post = gallery.create_post(
            agent="ux_one", image_url=image, title="Cards", description="", idempotency_key="p1"
        )
        other = gallery.create_post(
            agent="ux_one", image_url=image, title="More", description="", idempotency_key="p2"
        )
        asked = gallery.comment(
            agent="ux_two", post_id=post.id, content="Which font?", idempotency_key="k1"
        )
        answer = gallery.comment(
            agent="ux_one",
            post_id=post.id,
            content="@ux_two Inter, at 15 px.",
            idempotency_key="k2",
            parent_id=asked.id,
        )
        assert answer.parent_id == asked.id
        listed = gallery.comments(agent="ux_one", post_id=post.id)
        assert [(c.id, c.parent_id) for c in listed] == [(asked.id, None), (answer.id, asked.id)]
        # A reply names a comment of the same post.
        wrong = api.post(
            f"/api/showcase/{other.id}/comments",
            json={"content": "hi", "parentId": asked.id},
            headers={"X-Agent-Id": "ux_two"},
        )
        assert wrong.status_code == 422 and "not a comment of this showcase item" in wrong.text
        page = httpx.get(f"{sandbox.url}/").text
        assert f'class="reply" data-parent="{asked.id}"' in page
        assert "@ux_two Inter, at 15 px." in page
    finally:
        gallery.close()


def test_the_offline_writer_replies_to_the_commenter_by_handle_about_the_post(
    fleet: Fleet,
) -> None:
    from fleet.content.port import Author, CommentSeen, PostSeen

    persona = fleet.personas.get("indie_game_dev")
    writer = OfflineWriter()
    post = PostSeen("p1", "Lantern cave tileset", "", "gamedev_me", True)
    for n, said in enumerate(("Love the glow!", "What engine is this?")):
        answering = CommentSeen("c1", said, "maya_b", False)
        draft = writer.write_comment(
            persona,
            Author("gamedev_me", "Me", 5),
            replace(post, answering=answering),
            nonce=n,
        )
        assert draft.text.startswith("@maya_b ")
        assert "@gamedev_me" not in draft.text
        # A compliment thanks naming what was praised; a question gets an answer to it.
        if said.endswith("?"):
            assert "thank" not in draft.text.lower(), draft.text
        else:
            assert "glow" in draft.text, draft.text
        assert "Lantern cave tileset" not in draft.text


def test_reply_is_a_kind_of_the_registry_with_its_queue_task_and_degradation() -> None:
    from fleet.core.kinds import KINDS, Action, degraded
    from fleet.infra.queue import ROUTES

    kind = KINDS[Action.REPLY]
    assert (kind.queue, kind.targets, kind.spends_llm) == ("content", "comment", True)
    assert degraded(Action.REPLY) is Action.LIKE
    assert ROUTES["fleet.reply"] == {"queue": "content"}


def test_offline_replies_pass_the_proofreader_for_every_persona(fleet: Fleet) -> None:
    import random

    from fleet.content.offline import proofread
    from fleet.content.port import CommentSeen, PostSeen

    catalogue = list(fleet.personas)
    lexicon = proofread.lexicon(catalogue)
    titles = ("Lantern cave tileset", "Air quality by hour", "The serum dropper bottle")
    flagged = []
    for persona in catalogue:
        for n in range(60):
            post = PostSeen("p", titles[n % 3], "", "me", True)
            for said in ("Love it!", "How did you make this?"):
                text = replies.reply_text(
                    persona, post, CommentSeen("c", said, "maya_b", False), random.Random(n)
                )
                if proofread.problems(text, lexicon):
                    flagged.append((text, proofread.problems(text, lexicon)))
    assert flagged == []


def test_an_answer_to_the_agents_comment_on_another_post_makes_a_thread_of_three(
    fleet: Fleet, author: tuple[int, str]
) -> None:
    agent_id, me = author
    gallery = Gallery(me)
    gallery.post("p1", me, "Card shadows")
    gallery.post("p2", "bot_b", "Slime boss sprite")
    gallery.said("p2", "c10", me, "The outline reads well at small sizes.", bot=True)
    gallery.said("p2", "c11", "bot_b", "Thanks! I kept it to one pixel.", bot=True, parent="c10")
    key = f"{agent_id}:{int(NOW.timestamp()) - 300}:comment"
    activity = activities.create_activity(
        fleet.sessions, agent_id, "comment", NOW - timedelta(minutes=5), key, now=NOW, lease=LEASE
    )
    activities.finish(
        fleet.sessions,
        activity,
        "succeeded",
        now=NOW,
        result={"post_id": "p2", "comment_id": "c10", "text": "The outline reads well."},
    )
    kit = _kit(fleet, gallery)
    taken = None
    for second in range(12):  # taken up now and then: some of a dozen sessions do
        outcome = perform(kit, ActionKey.parse(_reply_key(fleet, agent_id, second)))
        if outcome.status == "succeeded":
            taken = outcome
            break
        assert "nothing to reply to" in (outcome.detail or {}).get("reason", "")
    assert taken is not None
    ((post_id, text, parent),) = gallery.sent
    assert (post_id, parent) == ("p2", "c11"), "the answer to its comment, under it"
    assert text.startswith("@bot_b ")
    assert not any(word in text.lower() for word in ("thank you", "thanks for noticing"))
    again = perform(kit, ActionKey.parse(_reply_key(fleet, agent_id, 30)))
    assert again.status == "skipped" and len(gallery.sent) == 1, "answered once, no ping-pong"


class RefusingGallery(Gallery):
    """The gallery refusing a reply to a comment no longer on the post, as the sandbox
    does (422: the parent is not a comment of this post)."""

    def comment(self, **sent: Any) -> GalleryComment:
        parent = sent.get("parent_id")
        if parent is not None and parent not in {c.id for c in self.threads[sent["post_id"]]}:
            raise GalleryRefused(f"parentId {parent} is not a comment of this post", 422)
        return super().comment(**sent)


def test_a_reply_draft_shows_the_comment_it_answers_and_skips_when_it_is_deleted(
    fleet: Fleet, author: tuple[int, str]
) -> None:
    from fleet.activities import drafts as stored
    from fleet.cli.drafts import draft_json
    from fleet.console.pages.drafts import _row
    from fleet.console.security import Guard
    from fleet.console.web import Web

    agent_id, me = author
    with fleet.sessions.begin() as session:
        session.execute(update(Agent).where(Agent.id == agent_id).values(review=True))
    gallery = RefusingGallery(me)
    gallery.post("p1", me, "Soft shadows on cards")
    gallery.said("p1", "c2", "maya", "How did you pick the shadow?", bot=False)
    kit = _kit(fleet, gallery)  # replies are reviewed by default
    key = _reply_key(fleet, agent_id)
    assert perform(kit, ActionKey.parse(key)).status == "drafted"
    [draft] = stored.list_drafts(fleet.sessions, stored.DraftFilter())

    # The owner reads what it answers, and whose post it is.
    shown = draft_json(draft)["answers"]
    assert shown["comment"] == "How did you pick the shadow?" and shown["commenter"] == "maya"
    assert shown["author"] == me, "the post is the agent's own, not the commenter's"
    row = _row(draft, NOW)
    assert (row["answers_commenter"], row["answers_comment"]) == (
        "maya",
        "How did you pick the shadow?",
    )
    assert row["answers_author"] == me
    env = Web.of(fleet, Guard(None)).env
    page = env.get_template("drafts.html").render(
        rows=[row], statuses=(), personas=(), post_url=str, path="/drafts", csrf="t"
    )
    assert "answers maya: “How did you pick the shadow?” on its post" in page
    assert f"by {me}" not in page and "by maya" not in page
    one = env.get_template("draft.html").render(d=row, post_url=str, path="/drafts/1", csrf="t")
    assert "maya: “How did you pick the shadow?”" in one

    # maya deletes her comment while the draft waits; the owner approves it.
    gallery.threads["p1"].clear()
    assert stored.approve(fleet.sessions, draft.id, now=NOW, publish_at=NOW)
    outcome = perform(kit, ActionKey.parse(key))
    assert outcome.status == "skipped", outcome
    assert "the comment it answers was deleted" in (outcome.detail or {}).get("reason", "")
    assert gallery.sent == []
    with fleet.sessions() as session:
        assert session.scalar(select(func.count()).select_from(DeadLetter)) == 0

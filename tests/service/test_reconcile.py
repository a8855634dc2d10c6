"""Reconciliation of the activity ledger with the gallery: the sandbox over HTTP, the real Postgres.

Actions run in this process as a worker runs them (``perform``, then ``settle`` on an
error, with one attempt allowed), so a lost answer leaves the effect on the gallery and
the activity dead, as when a worker's retries run out.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from pydantic import AnyUrl, SecretStr
from sqlalchemy import func, select

from fleet import activities, agents
from fleet.actions import ActionKit, perform
from fleet.actions.choice_needs import Choosing
from fleet.actions.choosing import choose_post
from fleet.actions.failures import settle
from fleet.actions.feed_snapshot import FeedSnapshot
from fleet.actions.handlers import choosing
from fleet.actions.kit import Limits
from fleet.activities import Entry
from fleet.cli import cli
from fleet.content.offline.writer import OfflineWriter
from fleet.core.kinds import ActionKey
from fleet.db.models import AgentActivity, DeadLetter, Engagement
from fleet.gallery.client import HttpGallery
from fleet.gallery.port import GalleryPost
from fleet.service.findings import compare_posts
from fleet.service.reconcile import reconcile, repair
from fleet.service.root import Fleet, bootstrap
from fleet.settings import ActionSettings, Settings
from fleet_sandbox.config import SandboxConfig
from fleet_sandbox.server import BackgroundSandbox
from tests.conftest import REDIS_URL, active_agents
from tests.gallery.conftest import TOKEN, Admin, clean_admin, settings_for

LEASE = timedelta(seconds=60)


@pytest.fixture(scope="module")
def sandbox_server() -> Iterator[BackgroundSandbox]:
    with BackgroundSandbox(SandboxConfig(service_token=SecretStr(TOKEN), seed=5)) as server:
        yield server


@pytest.fixture
def admin(sandbox_server: BackgroundSandbox) -> Iterator[Admin]:
    with clean_admin(sandbox_server.url) as admin:
        yield admin


@pytest.fixture
def fleet(pg_fleet: Fleet, sandbox_server: BackgroundSandbox) -> Fleet:
    settings = Settings(
        database_url=pg_fleet.settings.database_url,
        seed=7,
        gallery={"url": AnyUrl(sandbox_server.url), "token": SecretStr(TOKEN)},
    )
    return bootstrap(settings, pg_fleet.engine)


@pytest.fixture
def gallery(sandbox_server: BackgroundSandbox, admin: Admin) -> Iterator[HttpGallery]:
    client = HttpGallery(settings_for(sandbox_server.url))
    yield client
    client.close()


@pytest.fixture
def kit(fleet: Fleet, gallery: HttpGallery) -> ActionKit:
    """What a worker's actions get, with one attempt: a failure is final."""
    return ActionKit(
        sessions=fleet.sessions,
        personas=fleet.personas,
        gallery=gallery,
        writer=OfflineWriter(),
        settings=ActionSettings(),
        limits=Limits(LEASE, max_attempts=1),
    )


@pytest.fixture
def crew(fleet: Fleet) -> list[int]:
    """Three active agents."""
    return active_agents(fleet, 3)


class Acts:
    """Decide and carry out actions in this process, as a worker would."""

    def __init__(self, kit: ActionKit) -> None:
        self.kit = kit
        self.second = int(datetime.now(UTC).timestamp())

    def decide(self, agent_id: int, action: str, *, lease: timedelta = LEASE) -> str:
        self.second += 1
        key = f"{agent_id}:{self.second}:{action}"
        activities.create_activity(
            self.kit.sessions,
            agent_id,
            action,
            datetime.fromtimestamp(self.second, UTC),
            key,
            now=datetime.now(UTC),
            lease=lease,
        )
        return key

    def do(self, agent_id: int, action: str) -> tuple[str, str]:
        """(key, how it ended): succeeded, skipped or dead."""
        key = self.decide(agent_id, action)
        try:
            return key, perform(self.kit, ActionKey.parse(key)).status
        except Exception as error:
            verdict = settle(
                self.kit,
                ActionKey.parse(key),
                f"fleet.{action}",
                error,
                deferrals=0,
                rng=random.Random(7),
            )
            return key, verdict.status


@pytest.fixture
def acts(kit: ActionKit) -> Acts:
    return Acts(kit)


def activity(fleet: Fleet, key: str) -> AgentActivity:
    with fleet.sessions() as session:
        return session.scalars(
            select(AgentActivity).where(AgentActivity.idempotency_key == key)
        ).one()


def toggle_like(sandbox: BackgroundSandbox, post_id: str | None, handle: str) -> bool:
    """Press the gallery's like toggle as ``handle``, behind the fleet's back; liked now?"""
    with httpx.Client(base_url=sandbox.url) as raw:
        answer = raw.post(
            f"/api/showcase/{post_id}/like",
            headers={"Authorization": f"Bearer {TOKEN}", "X-Agent-Id": handle},
        )
    return bool(answer.json()["liked"])


def check(fleet: Fleet, gallery: HttpGallery, **kwargs: Any) -> Any:
    return reconcile(fleet.sessions, gallery, now=datetime.now(UTC), **kwargs)


def fix(fleet: Fleet, found: Any, sent: list[tuple[str, str]] | None = None) -> Any:
    return repair(
        fleet.sessions,
        found,
        now=datetime.now(UTC),
        lease=LEASE,
        send=lambda key: (sent if sent is not None else []).append((key.action, key.text)),
    )


def test_a_ledger_that_matches_the_gallery_has_nothing_to_reconcile(
    fleet: Fleet, gallery: HttpGallery, acts: Acts, crew: list[int]
) -> None:
    author, fan, _ = crew
    assert acts.do(author, "post")[1] == "succeeded"
    for action in ("like", "comment", "browse"):
        assert acts.do(fan, action)[1] == "succeeded"
    found = check(fleet, gallery)
    assert found.findings == []
    assert found.scanned == {"activities": 3, "posts": 1, "comments": 1}


def test_a_post_made_after_its_activity_died_is_recorded_as_succeeded_with_the_found_id(
    fleet: Fleet, gallery: HttpGallery, admin: Admin, acts: Acts, crew: list[int]
) -> None:
    author = crew[0]
    admin.faults(loseAnswerRates={"create_post": 1.0})
    key, ended = acts.do(author, "post")
    admin.faults()
    assert ended == "dead"
    [on_gallery] = admin.report()["users"]
    assert on_gallery["posts"] == 1, "the post was made; only its answer was lost"

    found = check(fleet, gallery)
    [finding] = found.findings
    assert (finding.kind, finding.action, finding.key) == ("unrecorded", "post", key)
    assert fix(fleet, found) == [finding]

    row = activity(fleet, key)
    assert row.status == "succeeded"
    assert row.result == {"post_id": finding.effect_id, "recovered": "reconcile"}
    shown = agents.get_agent(fleet.sessions, str(author))
    assert shown.actions.get("post") == 1
    assert check(fleet, gallery).findings == []


def test_a_comment_made_after_its_activity_died_is_recorded_with_its_engagement(
    fleet: Fleet, gallery: HttpGallery, admin: Admin, acts: Acts, crew: list[int]
) -> None:
    author, fan, _ = crew
    acts.do(author, "post")
    admin.faults(loseAnswerRates={"create_comment": 1.0})
    key, ended = acts.do(fan, "comment")
    admin.faults()
    assert ended == "dead"

    found = check(fleet, gallery)
    [finding] = found.findings
    assert (finding.kind, finding.action, finding.key) == ("unrecorded", "comment", key)
    fix(fleet, found)

    row = activity(fleet, key)
    assert row.status == "succeeded"
    assert row.result is not None and row.result["comment_id"] == finding.effect_id
    with fleet.sessions() as session:
        engaged = session.execute(
            select(Engagement.agent_id, Engagement.target_id, Engagement.kind)
        )
        assert list(engaged) == [(fan, finding.post_id, "comment")]
    assert agents.get_agent(fleet.sessions, str(fan)).actions == {"comment": 1}
    assert check(fleet, gallery).findings == []


def test_successes_the_gallery_lacks_are_buried_with_a_dead_letter(
    fleet: Fleet, gallery: HttpGallery, acts: Acts, crew: list[int]
) -> None:
    author, fan, _ = crew
    acts.do(fan, "post")  # something for the author to comment on
    post_key, _ = acts.do(author, "post")
    comment_key, _ = acts.do(author, "comment")
    like_key, _ = acts.do(fan, "like")
    # The author's account goes, and everything it made with it.
    doomed = agents.get_agent(fleet.sessions, str(author))
    assert doomed.platform_user_id is not None
    assert gallery.delete_user(doomed.platform_user_id)

    found = check(fleet, gallery)
    missing = {(f.kind, f.key) for f in found.findings}
    assert missing == {("missing", post_key), ("missing", comment_key)}
    fixed = fix(fleet, found)
    assert len(fixed) == 2

    for key in (post_key, comment_key):
        assert activity(fleet, key).status == "dead"
    assert activity(fleet, like_key).status == "succeeded"
    letters = activities.list_dead_letters(fleet.sessions)
    assert sorted(letter.arguments["key"] for letter in letters) == sorted([post_key, comment_key])
    assert all(letter.error.startswith("missing on the gallery") for letter in letters)
    shown = agents.get_agent(fleet.sessions, str(author))
    assert "post" not in shown.actions and "comment" not in shown.actions
    with fleet.sessions() as session:
        assert (
            session.scalar(
                select(func.count()).select_from(Engagement).where(Engagement.agent_id == author)
            )
            == 0
        )
    assert check(fleet, gallery).findings == []


def test_a_pending_activity_past_its_lease_is_reported_and_re_sent_as_the_sweeper_would(
    fleet: Fleet, gallery: HttpGallery, acts: Acts, crew: list[int]
) -> None:
    stuck = acts.decide(crew[0], "like", lease=timedelta(seconds=-1))
    acts.decide(crew[1], "like")  # pending, but within its lease: in flight
    found = check(fleet, gallery)
    assert [(f.kind, f.key) for f in found.findings] == [("stale", stuck)]
    sent: list[tuple[str, str]] = []
    assert len(fix(fleet, found, sent)) == 1
    assert sent == [("like", stuck)]
    row = activity(fleet, stuck)
    assert row.status == "pending"
    assert row.lease_expires_at is not None and row.lease_expires_at > datetime.now(UTC)
    assert check(fleet, gallery).findings == []


def test_a_like_the_gallery_no_longer_shows_is_reported_and_left_alone(
    fleet: Fleet,
    gallery: HttpGallery,
    sandbox_server: BackgroundSandbox,
    acts: Acts,
    crew: list[int],
) -> None:
    author, fan, _ = crew
    acts.do(author, "post")
    key, ended = acts.do(fan, "like")
    assert ended == "succeeded"
    post_id = activity(fleet, key).target_post_id
    handle = agents.get_agent(fleet.sessions, str(fan)).handle
    assert toggle_like(sandbox_server, post_id, handle) is False
    found = check(fleet, gallery)
    [finding] = found.findings
    assert (finding.kind, finding.post_id) == ("like_shortfall", post_id)
    assert fix(fleet, found) == []
    assert found.remaining == [finding]
    assert activity(fleet, key).status == "succeeded"


def test_a_post_no_activity_explains_is_an_orphan(
    fleet: Fleet, gallery: HttpGallery, acts: Acts, crew: list[int]
) -> None:
    acts.do(crew[0], "browse")  # provisions the account
    handle = agents.get_agent(fleet.sessions, str(crew[0])).handle
    made = gallery.create_post(
        agent=handle,
        image_url="http://127.0.0.1/x.png",
        title="by hand",
        description="",
        idempotency_key="by-hand",
    )
    [finding] = check(fleet, gallery).findings
    assert (finding.kind, finding.action, finding.effect_id) == ("orphan", "post", made.id)


def _post(post_id: str, username: str, created_at: datetime) -> GalleryPost:
    return GalleryPost(post_id, "t", "", "u", 0, 0, created_at, "1", username, True)


def test_a_pending_post_already_on_the_gallery_is_no_finding() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    pending = Entry(1, "1:1:post", "ada", "post", "pending", now, image_url="u", title="t")
    assert compare_posts([pending], [_post("9", "ada", now)], agents={"ada"}, since=now) == []


def test_gallery_posts_older_than_the_window_are_not_weighed() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    old = _post("9", "ada", now - timedelta(hours=2))
    assert compare_posts([], [old], agents={"ada"}, since=now - timedelta(hours=1)) == []


def test_fleet_reconcile_reports_fixes_and_then_finds_nothing(
    fleet: Fleet, admin: Admin, acts: Acts, crew: list[int]
) -> None:
    admin.faults(loseAnswerRates={"create_post": 1.0})
    key, _ = acts.do(crew[0], "post")
    admin.faults()
    runner = CliRunner()

    report = runner.invoke(cli, ["reconcile", "--since", "1h", "--json"], obj=fleet)
    assert report.exit_code == 1, report.output
    data = json.loads(report.output)
    assert data["counts"] == {"unrecorded": 1}
    assert data["findings"][0]["key"] == key
    assert data["fixed"] == []

    fixed = runner.invoke(cli, ["reconcile", "--fix", "--json"], obj=fleet)
    assert fixed.exit_code == 0, fixed.output
    assert [f["key"] for f in json.loads(fixed.output)["fixed"]] == [key]

    clean = runner.invoke(cli, ["reconcile"], obj=fleet)
    assert clean.exit_code == 0, clean.output
    assert "0 difference(s), 0 remaining" in clean.output
    with fleet.sessions() as session:
        assert session.scalar(select(func.count()).select_from(DeadLetter)) == 1


def test_fleet_reconcile_refuses_a_bad_window(fleet: Fleet) -> None:
    result = CliRunner().invoke(cli, ["reconcile", "--since", "soon"], obj=fleet)
    assert result.exit_code == 2
    assert "window 'soon'" in result.output


def test_an_agent_does_not_like_a_post_that_its_own_like_in_flight_is_for(
    fleet: Fleet, kit: ActionKit, admin: Admin, crew: list[int]
) -> None:
    """Two likes of one agent in flight at once must not both take the same post: the
    second would toggle the first off and on again, and both would count as succeeded."""
    patient = Acts(replace(kit, limits=replace(kit.limits, max_attempts=5)))
    author, fan, _ = crew
    patient.do(author, "post")
    admin.faults(errorRates={"like": 1.0})
    first, ended = patient.do(fan, "like")
    assert ended == "retry", "the first like waits for its retry, its target chosen"
    admin.faults()
    patient.do(fan, "like")
    assert perform(patient.kit, ActionKey.parse(first)).status == "succeeded"
    report = admin.report()
    with fleet.sessions() as session:
        liked = session.scalar(
            select(func.count())
            .select_from(AgentActivity)
            .where(AgentActivity.action == "like", AgentActivity.status == "succeeded")
        )
    assert report["totals"]["likes"] == liked
    assert report["duplicates"]["likes"] == []


def _choosing(kit: ActionKit, feed: FeedSnapshot) -> Choosing:
    """What choosing reads, from this kit with ``feed`` as its page."""
    return choosing(replace(kit, targeting=replace(kit.targeting, feed_snapshot=feed)))


class FixedFeed(FeedSnapshot):
    """A feed page that does not change: what one delivery of an action saw."""

    def __init__(self, page: list[GalleryPost]) -> None:
        super().__init__(0.0)
        self.fixed = page

    def page(self, kit: ActionKit, agent: str) -> list[GalleryPost]:
        return self.fixed


def test_two_deliveries_of_one_like_choosing_at_once_act_on_the_first_choice(
    fleet: Fleet, kit: ActionKit, gallery: HttpGallery, acts: Acts, crew: list[int]
) -> None:
    """The first delivery claimed and went silent past its lease before it chose; the
    second claimed it then; each saw another feed."""
    author, other, fan = crew
    acts.do(author, "post")
    acts.do(other, "post")
    acts.do(fan, "browse")  # its gallery account, as an action makes sure first
    reader = agents.get_agent(fleet.sessions, str(author)).handle
    newer, older = gallery.feed(agent=reader)
    key = acts.decide(fan, "like")
    now = datetime.now(UTC)
    first = activities.claim(fleet.sessions, ActionKey.parse(key), now=now, lease=LEASE)
    second = activities.claim(
        fleet.sessions, ActionKey.parse(key), now=now + LEASE + timedelta(seconds=1), lease=LEASE
    )
    assert isinstance(first, activities.Claim) and isinstance(second, activities.Claim)
    assert first.target_post_id is None and second.target_post_id is None
    chosen = choose_post(_choosing(kit, FixedFeed([newer])), first, "like")
    followed = choose_post(_choosing(kit, FixedFeed([older])), second, "like")
    assert chosen.id == newer.id
    assert followed.id == newer.id, "the second delivery follows the first choice"
    assert activity(fleet, key).target_post_id == newer.id


def test_fleet_reconcile_fix_re_sends_a_stale_action_and_refuses_a_broker_no_worker_sees(
    fleet: Fleet, admin: Admin, acts: Acts, crew: list[int], redis_keys: str
) -> None:
    stuck = acts.decide(crew[0], "like", lease=timedelta(seconds=-1))
    expired = activity(fleet, stuck).lease_expires_at
    refused = CliRunner().invoke(cli, ["reconcile", "--fix"], obj=fleet)
    assert refused.exit_code == 2
    assert "memory://" in refused.output
    assert activity(fleet, stuck).lease_expires_at == expired, "nothing was re-leased"

    on_redis = bootstrap(
        fleet.settings.model_copy(
            update={
                "broker_url": REDIS_URL,
                "redis_url": REDIS_URL,
                "broker_key_prefix": f"{redis_keys}:",
            }
        ),
        fleet.engine,
    )
    fixed = CliRunner().invoke(cli, ["reconcile", "--fix", "--json"], obj=on_redis)
    assert fixed.exit_code == 0, fixed.output
    assert [f["key"] for f in json.loads(fixed.output)["fixed"]] == [stuck]
    (message,) = on_redis.redis.lrange(f"{redis_keys}:engage", 0, -1)
    assert json.loads(message)["headers"]["task"] == "fleet.like"


class CountingWriter(OfflineWriter):
    """The offline writer, counting the posts it writes; ``meanwhile`` runs inside the
    first call, as a second delivery of the same action would run on another worker."""

    def __init__(self) -> None:
        self.posts_written = 0
        self.meanwhile: Any = None

    def write_post(self, persona: Any, author: Any, *, nonce: int) -> Any:
        self.posts_written += 1
        if self.meanwhile is not None:
            run, self.meanwhile = self.meanwhile, None
            run()
        return super().write_post(persona, author, nonce=nonce)


def test_a_backlog_older_than_the_lease_posts_once_with_one_llm_call_without_gallery_keys(
    fleet: Fleet, kit: ActionKit, gallery: HttpGallery, admin: Admin, acts: Acts, crew: list[int]
) -> None:
    """A post decided, then queued behind a content backlog longer than the lease; the
    gallery keeps no idempotency keys, so only an exclusive claim stops a second post."""
    admin.idempotency(False)
    writer = CountingWriter()
    kit = replace(kit, writer=writer)
    unclaimed = timedelta(minutes=15)  # FLEET_TASKS__UNCLAIMED_SECONDS
    decided_at = datetime.now(UTC)
    key = acts.decide(crew[0], "post", lease=unclaimed)

    # Older than the lease but not the unclaimed window: the sweeper leaves it queued.
    later = decided_at + LEASE + timedelta(seconds=1)
    assert activities.expired_leases(fleet.sessions, now=later, lease=LEASE) == []
    # Much older than any backlog explains: re-sent; now two messages carry the key.
    lost = decided_at + unclaimed + timedelta(seconds=1)
    assert [k.text for k in activities.expired_leases(fleet.sessions, now=lost, lease=LEASE)] == [
        key
    ]

    # Both copies are delivered at once, on two workers: the second arrives while the
    # first is writing (the LLM call), finds the claim held, and does no work.
    second: list[Any] = []
    writer.meanwhile = lambda: second.append(perform(kit, ActionKey.parse(key)))
    first = perform(kit, ActionKey.parse(key))
    assert first.status == "succeeded"
    assert [outcome.status for outcome in second] == ["held-elsewhere"]
    assert writer.posts_written == 1, "one LLM call per action"
    handle = agents.get_agent(fleet.sessions, str(crew[0])).handle
    feed = gallery.feed(agent=handle, limit=50)
    assert [p.username for p in feed].count(handle) == 1, "one post on the gallery"
    assert feed[0].id == first.detail["post_id"]
    # A late third copy finds it finished.
    assert perform(kit, ActionKey.parse(key)).status == "already-finished"
    assert activity(fleet, key).claimed_by is not None and activity(fleet, key).status == (
        "succeeded"
    )


def test_a_retry_lets_go_of_its_claim_so_its_own_next_delivery_can_claim(
    fleet: Fleet, kit: ActionKit, acts: Acts, crew: list[int]
) -> None:
    key = acts.decide(crew[0], "browse")
    claim = activities.claim(
        fleet.sessions, ActionKey.parse(key), now=datetime.now(UTC), lease=LEASE
    )
    assert isinstance(claim, activities.Claim)
    # A second delivery while the first holds it does nothing.
    assert isinstance(
        activities.claim(fleet.sessions, ActionKey.parse(key), now=datetime.now(UTC), lease=LEASE),
        activities.Held,
    )
    retried = settle(
        replace(kit, limits=replace(kit.limits, max_attempts=3)),
        ActionKey.parse(key),
        "fleet.browse",
        TimeoutError("the gallery was slow"),
        deferrals=0,
        rng=random.Random(1),
    )
    assert retried.status == "retry"
    held = activity(fleet, key)
    assert held.claimed_by is None
    assert held.lease_expires_at is not None
    # The sweeper leaves a released retry alone until a lease past its countdown.
    assert held.lease_expires_at >= datetime.now(UTC) + LEASE - timedelta(seconds=5)
    again = activities.claim(
        fleet.sessions, ActionKey.parse(key), now=datetime.now(UTC), lease=LEASE
    )
    assert isinstance(again, activities.Claim) and again.deliveries == 2


def test_pausing_an_agent_finishes_an_action_an_earlier_attempt_began_instead_of_skipping(
    fleet: Fleet, kit: ActionKit, gallery: HttpGallery, acts: Acts, crew: list[int]
) -> None:
    author, fan, _ = crew
    acts.do(author, "post")
    acts.do(fan, "browse")  # its gallery account
    key = acts.decide(fan, "like")
    # An attempt that may have reached the gallery (its answer lost), then a pause.
    first = activities.claim(
        fleet.sessions, ActionKey.parse(key), now=datetime.now(UTC), lease=LEASE
    )
    assert isinstance(first, activities.Claim)
    activities.record_failure(
        fleet.sessions, first.id, "ReadTimeout: answer lost", now=datetime.now(UTC)
    )
    activities.release(
        fleet.sessions, first.id, until=datetime.now(UTC) + LEASE, now=datetime.now(UTC)
    )
    agents.change_status(
        fleet.sessions,
        fleet.personas,
        "pause",
        agents.Selection(refs=(str(fan),)),
        now=datetime.now(UTC),
    )
    outcome = perform(
        replace(kit, limits=replace(kit.limits, max_attempts=3)), ActionKey.parse(key)
    )
    assert outcome.status == "succeeded", outcome.detail
    assert activity(fleet, key).status == "succeeded"
    # A new action of the paused agent is still skipped.
    fresh = acts.decide(fan, "browse")
    assert perform(kit, ActionKey.parse(fresh)).status == "skipped"


def test_a_deferral_past_its_bound_after_an_attempt_is_a_dead_letter_not_a_skip(
    fleet: Fleet, kit: ActionKit, acts: Acts, crew: list[int]
) -> None:
    from fleet.errors import Deferred

    open_breaker = Deferred("circuit gallery open", None, scope="call")
    bound = replace(kit, settings=ActionSettings(max_deferrals=0))
    # Never attempted: skipped, as before (nothing can have reached the gallery).
    untried = acts.decide(crew[0], "comment")
    assert (
        settle(bound, ActionKey.parse(untried), "fleet.comment", open_breaker, deferrals=0).status
        == "skipped"
    )
    # An attempt whose answer was lost, then the breaker: a dead letter reconcile checks.
    tried = acts.decide(crew[0], "comment")
    claim = activities.claim(
        fleet.sessions, ActionKey.parse(tried), now=datetime.now(UTC), lease=LEASE
    )
    assert isinstance(claim, activities.Claim)
    activities.record_failure(fleet.sessions, claim.id, "ReadTimeout", now=datetime.now(UTC))
    verdict = settle(bound, ActionKey.parse(tried), "fleet.comment", open_breaker, deferrals=0)
    assert verdict.status == "dead" and verdict.dead_letter_id is not None
    assert "an earlier attempt may have reached the gallery" in verdict.reason
    assert activity(fleet, tried).status == "dead"


def test_a_like_the_fleet_never_recorded_is_reported_as_an_excess(
    fleet: Fleet,
    gallery: HttpGallery,
    sandbox_server: BackgroundSandbox,
    acts: Acts,
    crew: list[int],
) -> None:
    """The like of an attempt whose answer was lost and whose action then ended other
    than succeeded: the post shows one more like than the ledger holds."""
    author, fan, other = crew
    acts.do(author, "post")
    key, ended = acts.do(fan, "like")
    assert ended == "succeeded"
    post_id = activity(fleet, key).target_post_id
    acts.do(other, "browse")  # its gallery account
    handle = agents.get_agent(fleet.sessions, str(other)).handle
    assert toggle_like(sandbox_server, post_id, handle) is True
    found = check(fleet, gallery)
    [finding] = found.findings
    assert (finding.kind, finding.post_id) == ("like_excess", post_id)
    assert "shows 2 likes, the fleet recorded 1: 1 more" in finding.detail
    assert fix(fleet, found) == [] and found.remaining == [finding]
    # Reported, but it pages no one: it may be a person's like.
    assert found.unresolved == []
    shown = CliRunner().invoke(cli, ["reconcile", "--json"], obj=fleet)
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["counts"] == {"like_excess": 1}


def test_a_dead_comment_recovered_after_the_next_comment_took_its_post_keeps_the_ledger(
    fleet: Fleet, gallery: HttpGallery, admin: Admin, acts: Acts, crew: list[int]
) -> None:
    """One comment of an agent per post: a comment dead with its effect on the gallery
    (its answer lost, its retries spent) still answers that post."""
    author, fan, _ = crew
    acts.do(author, "post")  # the only post: a second comment has no other to take
    admin.faults(loseAnswerRates={"create_comment": 1.0})
    dead, ended = acts.do(fan, "comment")
    admin.faults()
    assert ended == "dead"
    acts.do(fan, "comment")
    fix(fleet, check(fleet, gallery))
    assert activity(fleet, dead).status == "succeeded"
    with fleet.sessions() as session:
        succeeded = session.scalar(
            select(func.count())
            .select_from(AgentActivity)
            .where(AgentActivity.action == "comment", AgentActivity.status == "succeeded")
        )
        ledger = session.scalar(
            select(func.count()).select_from(Engagement).where(Engagement.kind == "comment")
        )
    assert admin.report()["totals"]["comments"] == succeeded
    assert succeeded == ledger, "every success of a kind that engages has its ledger row"

"""The newcomer holdout end to end on the database: people the pace's reading finds are
assigned once, the filter agents choose by spares the holdout, and the report's faces
(``fleet impact``, the console's /impact, the weekly report's section)."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from click.testing import CliRunner

from fleet import activities, agents
from fleet.actions.choosing import chooser
from fleet.actions.handlers import choosing
from fleet.cli import cli
from fleet.console.serve import BackgroundConsole
from fleet.gallery.client import HttpGallery
from fleet.gallery.port import GalleryComment, GalleryPost
from fleet.impact import use_cases as impact
from fleet.impact.holdout import arm
from fleet.infra.clocks import SimulatedClock
from fleet.service.accounts import provision_accounts
from fleet.service.root import Fleet, bootstrap
from fleet.settings import ImpactSettings
from tests.conftest import active_agents
from tests.gallery.conftest import Admin

NOW = datetime(2026, 11, 17, 15, 0, tzinfo=UTC)


def _post(n: int, user: str, *, at: datetime = NOW, agent: bool = False) -> GalleryPost:
    return GalleryPost(f"p{n}", f"post {n}", "", "", 0, 0, at, user, f"name{user}", agent)


def _at(fleet: Fleet, now: datetime, **impact_settings: object) -> Fleet:
    settings = fleet.settings.model_copy(
        update={"impact": ImpactSettings(**impact_settings)}  # type: ignore[arg-type]
    )
    return bootstrap(settings, fleet.engine, clock=SimulatedClock(now))


@pytest.fixture
def sim(fleet: Fleet) -> Iterator[Fleet]:
    at = _at(fleet, NOW, holdout_share=0.1)
    yield at
    at.close()


def _held(experiment: str, share: float, count: int, start: int = 0) -> list[str]:
    return [str(u) for u in range(start, 10_000) if arm(str(u), experiment, share) == "holdout"][
        :count
    ]


def test_people_are_assigned_once_and_keep_their_arm_when_the_share_changes(
    sim: Fleet, fleet: Fleet
) -> None:
    people = [str(u) for u in range(300)]
    posts = [_post(i, u, at=NOW - timedelta(hours=1)) for i, u in enumerate(people)]
    posts.append(_post(999, "bot-user", agent=True))
    assert impact.record_people(sim, posts) == 300
    assert impact.record_people(sim, posts) == 0  # seen again: nothing new
    recorded = {a.user_id: a for a in activities.assignments(sim.sessions, "newcomers1")}
    assert set(recorded) == set(people)  # agents are not assigned
    held = {u for u, a in recorded.items() if a.arm == "holdout"}
    assert held == {u for u in people if arm(u, "newcomers1", 0.1) == "holdout"}
    # The share goes up: nobody recorded moves; a new person joins at the new share.
    later = _at(fleet, NOW + timedelta(days=1), holdout_share=0.4)
    try:
        impact.record_people(later, [*posts, _post(1000, "newbie", at=NOW + timedelta(days=1))])
        again = {a.user_id: a for a in activities.assignments(later.sessions, "newcomers1")}
        assert {u for u, a in again.items() if a.arm == "holdout" and u != "newbie"} == held
        assert again["newbie"].share == 0.4
        text = CliRunner().invoke(cli, ["impact", "--json"], obj=later)
        assert text.exit_code == 0, text.output
        assert any("share changed" in n for n in json.loads(text.stdout)["notes"])
    finally:
        later.close()
    # A new experiment's name starts new assignments; the old stay readable.
    second = _at(fleet, NOW, holdout_share=0.1, experiment="newcomers2")
    try:
        impact.record_people(second, posts)
        names = {e["experiment"]: e["people"] for e in impact.experiment_names(second)}
        assert names == {"newcomers1": 301, "newcomers2": 300}
        renewed = activities.assignments(second.sessions, "newcomers2")
        assert {a.user_id for a in renewed if a.arm == "holdout"} != held
    finally:
        second.close()


def test_a_share_of_zero_records_nobody_and_spares_nobody(fleet: Fleet) -> None:
    off = _at(fleet, NOW, holdout_share=0.0)
    try:
        assert impact.record_people(off, [_post(1, "7")]) == 0
        assert activities.assignments(off.sessions, "newcomers1") == []
        view = off.action_kit.targeting.holdout
        assert view is not None and not view.spared().spares("7")
    finally:
        off.close()


def test_target_choice_never_picks_a_held_out_persons_post(sim: Fleet) -> None:
    held = _held("newcomers1", 0.1, 3)
    treated = [str(u) for u in range(50) if arm(str(u), "newcomers1", 0.1) == "treated"][:3]
    # One held-out person recorded, the others not yet: the hash spares them alike.
    impact.record_people(sim, [_post(0, held[0])])
    feed = [_post(i, u, at=NOW - timedelta(hours=2)) for i, u in enumerate(held + treated)]
    kit = sim.action_kit
    chosen = set()
    for seed in range(60):
        choose = chooser(choosing(kit), feed, random.Random(seed), me="agent", kind="comment")
        chosen.add(choose(set(), {}))
    names = {p.id: p.user_id for p in feed}
    assert chosen and not {names[c] for c in chosen if c} & set(held)
    assert {names[c] for c in chosen if c} <= set(treated)


def test_the_holdout_ends_after_its_days(fleet: Fleet) -> None:
    (person,) = _held("newcomers1", 0.1, 1)
    early = _at(fleet, NOW, holdout_share=0.1, holdout_days=3)
    late = _at(fleet, NOW + timedelta(days=3, minutes=1), holdout_share=0.1, holdout_days=3)
    try:
        impact.record_people(early, [_post(0, person)])
        assert early.action_kit.targeting.holdout.spared().spares(person)  # type: ignore[union-attr]
        assert not late.action_kit.targeting.holdout.spared().spares(person)  # type: ignore[union-attr]
    finally:
        early.close()
        late.close()


def _population(fleet: Fleet, start: datetime, n: int = 200) -> None:
    """People who joined over a week ending ``start``; the treated came back more."""
    rng = random.Random(4)
    for u in range(n):
        user = str(u)
        first = start - timedelta(days=rng.uniform(0, 7))
        at = _at(fleet, first, holdout_share=0.3)
        try:
            impact.record_people(at, [_post(u, user, at=first)])
            back = 0.6 if arm(user, "newcomers1", 0.3) == "treated" else 0.2
            if rng.random() < back:
                impact.record_comments(
                    at,
                    [
                        GalleryComment(
                            f"c{u}", "px", "hi", user, f"name{user}", first + timedelta(days=2)
                        )
                    ],
                )
        finally:
            at.close()


def test_fleet_impact_reports_each_outcome_with_its_interval(fleet: Fleet) -> None:
    _population(fleet, NOW - timedelta(days=15))
    now = _at(fleet, NOW, holdout_share=0.3)
    try:
        done = CliRunner().invoke(cli, ["impact", "--json"], obj=now)
        assert done.exit_code == 0, done.output
        figures = json.loads(done.stdout)
        assert sum(figures["people"].values()) == 200
        back = figures["outcomes"][0]
        assert back["name"] == "returned_days_2_7"
        assert back["difference"]["low"] > 0 and back["verdict"].startswith("treated people")
        # With a fake set of opted-out people, counted apart.
        out = {"0", "1", "2", "3"}
        report = impact.impact_report(now, opted_out=lambda: out)
        assert report.opted_out == 4 and sum(report.people.values()) == 196
        table = CliRunner().invoke(cli, ["impact"], obj=now)
        assert table.exit_code == 0 and "returned_days_2_7" in table.stdout
        assert "95 % CI" in table.stdout
    finally:
        now.close()


def test_a_bad_experiment_name_is_refused(fleet: Fleet) -> None:
    done = CliRunner().invoke(cli, ["impact", "--experiment", "x; drop"], obj=fleet)
    assert done.exit_code == 2 and "not a short identifier" in done.stderr
    with BackgroundConsole(fleet) as console:
        bad = httpx.get(f"{console.url}/impact", params={"experiment": "<b>x</b>"})
        assert bad.status_code == 400 and "<b>x</b>" not in bad.text
        page = httpx.get(f"{console.url}/impact")
        assert page.status_code == 200 and "too few people to conclude" in page.text


def test_the_weekly_report_has_an_impact_section(fleet: Fleet) -> None:
    (agent_id,) = active_agents(fleet, 1, now=NOW)
    activities.create_activity(
        fleet.sessions,
        agent_id,
        "like",
        NOW,
        f"{agent_id}:{int(NOW.timestamp())}:like",
        now=NOW,
        lease=timedelta(minutes=5),
    )
    done = CliRunner().invoke(cli, ["report", "--week", "2026-W47"], obj=fleet)
    assert done.exit_code == 0, done.output
    assert "Impact: does engagement help newcomers come back?" in done.stdout
    assert "newcomers1" in done.stdout


def test_the_report_counts_the_fleets_touches_of_held_out_people(sim: Fleet) -> None:
    (person,) = _held("newcomers1", 0.1, 1)
    treated = next(str(u) for u in range(50) if arm(str(u), "newcomers1", 0.1) == "treated")
    impact.record_people(sim, [_post(1, person), _post(2, treated)])
    assert impact.impact_report(sim).touched_holdout == 0
    (agent_id,) = active_agents(sim, 1, now=NOW)
    for n, post in enumerate(("p2", "p1")):
        at = NOW + timedelta(minutes=n)
        made = activities.create_activity(
            sim.sessions,
            agent_id,
            "like",
            at,
            f"{agent_id}:{int(at.timestamp())}:like",
            now=at,
            lease=timedelta(minutes=5),
        )
        activities.finish(
            sim.sessions, made, "succeeded", now=at, result={}, engagement=(post, "like")
        )
    report = impact.impact_report(sim)
    assert report.touched_holdout == 1  # the like on the held-out person's post, not p2
    done = CliRunner().invoke(cli, ["impact"], obj=sim)
    assert "by the fleet's ledger and the gallery: 1 (the holdout was broken" in done.stdout


def _engage(sim: Fleet, agent_id: int, action: str, target: str, at: datetime) -> None:
    made = activities.create_activity(
        sim.sessions,
        agent_id,
        action,
        at,
        f"{agent_id}:{int(at.timestamp())}:{action}",
        now=at,
        lease=timedelta(minutes=5),
    )
    activities.finish(
        sim.sessions, made, "succeeded", now=at, result={}, engagement=(target, action)
    )


def test_a_reply_to_a_comment_whose_id_is_a_held_out_posts_is_no_touch(sim: Fleet) -> None:
    """Issue 67's false alarm: a gallery numbers posts and comments apart, so comment 7
    and post 7 both exist; an agent's reply to comment 7 (a treated person's) is not a
    touch of the held-out person who made post 7."""
    (person,) = _held("newcomers1", 0.1, 1)
    treated = next(str(u) for u in range(50) if arm(str(u), "newcomers1", 0.1) == "treated")
    impact.record_people(sim, [GalleryPost("7", "t", "", "", 0, 0, NOW, person, "held", False)])
    impact.record_comments(sim, [GalleryComment("7", "99", "hi", treated, "them", NOW)])
    (agent_id,) = active_agents(sim, 1, now=NOW)
    _engage(sim, agent_id, "reply", "7", NOW + timedelta(minutes=1))
    report = impact.impact_report(sim)
    assert report.touched_holdout == 0
    assert report.touches == []
    done = CliRunner().invoke(cli, ["impact"], obj=sim)
    assert "holdout was broken" not in done.stdout
    # A like on post 7 is a touch, shown with its target.
    _engage(sim, agent_id, "like", "7", NOW + timedelta(minutes=2))
    report = impact.impact_report(sim)
    assert report.touched_holdout == 1
    (touch,) = report.touches
    assert (touch.action, touch.target_kind, touch.target_id) == ("like", "post", "7")
    done = CliRunner().invoke(cli, ["impact"], obj=sim)
    assert "like of post 7" in done.stdout


def test_an_agents_comment_the_gallery_shows_on_a_held_out_post_is_a_touch_the_ledger_lacks(
    fleet: Fleet, gallery: HttpGallery, admin: Admin
) -> None:
    """Where the gallery can say, the check reads it too: an agent's comment on a
    held-out person's post that the ledger never recorded is listed, marked as seen on
    the gallery."""
    share = 0.5
    settings = fleet.settings.model_copy(
        update={"impact": ImpactSettings(holdout_share=share, experiment="newcomers1")}
    )
    sim = bootstrap(settings, fleet.engine)
    sim.gallery = gallery
    try:
        (agent_id,) = active_agents(sim, 1)
        assert not provision_accounts(sim.sessions, gallery, [agent_id]).failed
        reader = agents.get_agent(sim.sessions, str(agent_id)).handle
        made = admin.http.post("/admin/people", json={"count": 12}).json()["made"]
        posts = [p for p in gallery.feed(agent=reader, limit=50) if p.username in made]
        held = [p for p in posts if arm(p.user_id, "newcomers1", share) == "holdout"]
        assert held, "some of twelve people land in the holdout at a share of 0.5"
        impact.record_people(sim, posts)
        assert impact.impact_report(sim).touches == []
        gallery.comment(
            agent=reader, post_id=held[0].id, content="Lovely light.", idempotency_key="k:1"
        )
        (touch,) = impact.impact_report(sim).touches
        assert (touch.agent, touch.target_kind, touch.target_id) == (reader, "post", held[0].id)
        assert touch.action == "comment (seen on the gallery)"
    finally:
        sim.close()


def _follow_engagement(sim: Fleet, agent_id: int, handle: str, at: datetime) -> None:
    made = activities.create_activity(
        sim.sessions,
        agent_id,
        "follow",
        at,
        f"{agent_id}:{int(at.timestamp())}:follow",
        now=at,
        lease=timedelta(minutes=5),
    )
    activities.finish(
        sim.sessions,
        made,
        "succeeded",
        now=at,
        result={"person": handle},
        engagement=(handle, "follow"),
    )


def test_a_newcomer_s_first_follower_within_a_day_is_an_outcome_per_arm(fleet: Fleet) -> None:
    """Treated newcomers followed by an agent (the ledger) or a person (a follower seen),
    held-out ones by people only; the report counts a first follower within a day of the
    first action, per arm, from what was planted."""
    start = NOW - timedelta(days=3)
    at = _at(fleet, start, holdout_share=0.3)
    rng = random.Random(7)
    (agent_id,) = active_agents(fleet, 1, now=start)
    hits = {"treated": [0, 0], "holdout": [0, 0]}
    try:
        for u in range(120):
            user, first = str(u), start + timedelta(minutes=u)
            impact.record_people(at, [_post(u, user, at=first)])
            side = arm(user, "newcomers1", 0.3)
            hits[side][1] += 1
            draw = rng.random()
            if side == "treated" and draw < 0.5:  # an agent follows: within hours
                _follow_engagement(at, agent_id, f"name{user}", first + timedelta(hours=2))
                hits[side][0] += 1
            elif draw < 0.7:  # a person follows: within the day, or too late
                late = rng.random() < 0.5
                seen = first + timedelta(hours=30 if late else 5)
                item = activities.follower_item(user, "someone")
                activities.record_sightings(
                    at.sessions, [activities.Sighting(activities.FOLLOWER, item, user, seen)]
                )
                hits[side][0] += not late
    finally:
        at.close()
    now = _at(fleet, NOW, holdout_share=0.3)
    try:
        report = impact.impact_report(now)
        (outcome,) = [o for o in report.outcomes if o.name == "first_follower_1d"]
        for side, (followed, people) in hits.items():
            assert outcome.n[side] == people
            assert outcome.value[side] == pytest.approx(followed / people)
        assert outcome.value["treated"] > outcome.value["holdout"]  # as planted
        done = CliRunner().invoke(cli, ["impact"], obj=now)
        assert done.exit_code == 0 and "first_follower_1d" in done.stdout
    finally:
        now.close()


def test_the_pace_reading_keeps_a_newcomer_s_first_follower_seen_on_the_gallery(
    fleet: Fleet, gallery: HttpGallery, admin: Admin
) -> None:
    now = datetime.now(UTC)
    (agent_id,) = active_agents(fleet, 1, now=now)
    assert not provision_accounts(fleet.sessions, gallery, [agent_id]).failed
    reader = agents.get_agent(fleet.sessions, str(agent_id)).handle
    followed, alone, fan = admin.http.post("/admin/people", json={"count": 3}).json()["made"]
    ids = {u["username"]: str(u["id"]) for u in admin.report()["users"]}
    answer = admin.http.post(
        "/admin/people/follow", json={"username": fan, "target": followed, "following": True}
    )
    assert answer.is_success, answer.text
    sim = _at(fleet, now, holdout_share=0.5)
    sim.gallery = gallery
    try:
        posts = [_post(n, ids[name], at=now) for n, name in enumerate((followed, alone))]
        posts = [
            replace(p, username=name) for p, name in zip(posts, (followed, alone), strict=True)
        ]
        impact.record_people(sim, posts)
        assert impact.record_first_followers(sim, reader) == 1
        assert impact.record_first_followers(sim, reader) == 0  # read once; the other has none
        people = {
            p.assignment.username: p for p in activities.people_of(sim.sessions, "newcomers1")
        }
        assert people[followed].first_follower == now
        assert people[alone].first_follower is None
    finally:
        sim.close()

"""The sandbox's people and follows: their habits as a behaviour model (reciprocity in a
human band, rare unfollows, never a cycle), their admin calls, the graph's figures."""

from __future__ import annotations

import random

import httpx
import pytest
from test_api import as_agent, invite

from fleet_sandbox.people_follows import FollowHabits, figures, gini


def test_habits_are_probabilities() -> None:
    with pytest.raises(ValueError, match="after_like"):
        FollowHabits(after_like=1.5)
    with pytest.raises(ValueError, match="back"):
        FollowHabits(back=float("nan"))


def test_a_simulated_community_lands_in_the_human_band() -> None:
    """People follow after likes (authors drawn by a heavy tail of popularity) and follow
    back by the habits: reciprocity 0.3-0.7, a heavy-tailed in-degree, unfollows rare."""
    rng, habits = random.Random(5), FollowHabits()
    people, hours = 120, 48
    weight = [1 / (k + 1) ** 1.1 for k in range(people)]  # a few are liked by many
    edges: set[tuple[int, int]] = set()
    dropped: set[tuple[int, int]] = set()
    answered: set[tuple[int, int]] = set()
    unfollows = made = 0
    for _hour in range(hours):
        new: list[tuple[int, int]] = []
        for person in range(people):
            for _like in range(1):
                author = rng.choices(range(people), weight)[0]
                pair = (person, author)
                fresh = author != person and pair not in edges | dropped
                if fresh and habits.follows_after_like(rng):
                    edges.add(pair)
                    new.append(pair)
        for a, b in new:
            if (a, b) not in answered:
                answered.add((a, b))
                back = (b, a)
                if back not in edges | dropped and habits.follows_back(rng, False):
                    edges.add(back)
        made += len(new)
        for pair in sorted(edges):
            if habits.unfollows(rng, 1.0):
                edges.discard(pair)
                dropped.add(pair)
                unfollows += 1
    said = figures(sorted(edges), people)
    assert 0.3 <= said["reciprocity"] <= 0.7, said
    assert 0.4 <= said["inDegreeGini"] <= 0.85, said
    assert unfollows < 0.05 * made
    assert not edges & dropped  # nobody followed again after dropping


def test_gini_of_equal_and_of_one_holding_all() -> None:
    assert gini([3, 3, 3, 3]) == 0.0
    assert gini([0, 0, 0, 12]) == pytest.approx(0.75)
    assert gini([]) == 0.0


def test_people_follow_through_the_admin_calls(api: httpx.Client) -> None:
    invite(api, "gamedev_bo")
    for name in ("mira", "tom"):
        assert api.post("/admin/people/join", json={"username": name, "name": name}).is_success
    bo_id = int(api.get("/api/admin/users/gamedev_bo").json()["id"])
    made = api.post("/admin/people/follow", json={"username": "mira", "targetId": bo_id})
    assert made.json() == {"following": True, "changed": True, "followers": 1}
    assert api.post("/admin/people/follow", json={"username": "mira", "target": "tom"}).is_success
    assert api.post("/api/users/mira/follow", headers=as_agent("gamedev_bo")).is_success
    got = api.get("/admin/people/followed", params={"minutes": 60}).json()["follows"]
    assert [(f["follower"], f["followed"], f["followerIsAgent"]) for f in got] == [
        ("mira", "tom", False),
        ("gamedev_bo", "mira", True),
    ]
    graph = api.get("/admin/follow-graph").json()
    assert graph["follows"] == 3 and graph["reciprocity"] == pytest.approx(2 / 3, abs=1e-3)
    assert graph["agentFollows"] == 1 and graph["followsOfAgentsByPeople"] == 1
    gone = api.post(
        "/admin/people/follow", json={"username": "mira", "target": "tom", "following": False}
    )
    assert gone.json()["changed"] is True
    assert api.get("/admin/follow-graph").json()["unfollows"] == 1
    for bad in (
        {"username": "gamedev_bo", "target": "mira"},
        {"username": "mira", "target": "mira"},
        {"username": "mira", "target": "nobody"},
        {"username": "mira"},
        {"username": "mira", "target": "tom", "targetId": bo_id},
    ):
        refused = api.post("/admin/people/follow", json=bad)
        assert refused.status_code == 400, bad
    assert api.get("/admin/people/followed", params={"minutes": "0"}).status_code == 400

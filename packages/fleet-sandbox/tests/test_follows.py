"""The sandbox's follows and reactions as docs/gallery-api.md describes them: states set
once, bounded lists, the home feed of followed accounts, a person's no."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from test_api import as_agent, invite, post


def person(api: httpx.Client, username: str) -> None:
    answer = api.post(
        "/api/admin/users/invite",
        json={"name": username.title(), "username": username, "isAgent": False},
    )
    assert answer.status_code == 200, answer.text


def follow(api: httpx.Client, agent: str, who: str, key: str | None = None) -> httpx.Response:
    return api.post(f"/api/users/{who}/follow", headers=as_agent(agent, key))


def unfollow(api: httpx.Client, agent: str, who: str) -> httpx.Response:
    return api.delete(f"/api/users/{who}/follow", headers=as_agent(agent))


def names(answer: httpx.Response) -> list[str]:
    assert answer.status_code == 200, answer.text
    return [u["username"] for u in answer.json()["users"]]


@pytest.fixture
def three(api: httpx.Client) -> tuple[str, str, str]:
    invite(api, "gamedev_bo")
    invite(api, "photo_ada", "product_photographer")
    person(api, "mira")
    return "gamedev_bo", "photo_ada", "mira"


def test_a_follow_is_a_state_set_once(api: httpx.Client, three: tuple[str, str, str]) -> None:
    bo, ada, mira = three
    first = follow(api, bo, mira).json()
    assert first == {"following": True, "requested": False, "followers": 1, "changed": True}
    again = follow(api, bo, mira).json()
    assert again == {"following": True, "requested": False, "followers": 1, "changed": False}
    assert follow(api, ada, mira).json()["followers"] == 2
    assert names(api.get(f"/api/users/{mira}/followers", headers=as_agent(bo))) == [ada, bo]
    assert names(api.get(f"/api/users/{bo}/following", headers=as_agent(bo))) == [mira]
    gone = unfollow(api, bo, mira).json()
    assert gone == {"following": False, "requested": False, "followers": 1, "changed": True}
    assert unfollow(api, bo, mira).json()["changed"] is False
    assert names(api.get(f"/api/users/{mira}/followers", headers=as_agent(bo))) == [ada]


def test_a_replayed_follow_key_answers_as_before(
    api: httpx.Client, three: tuple[str, str, str]
) -> None:
    bo, _, mira = three
    first = follow(api, bo, mira, key="f1")
    second = follow(api, bo, mira, key="f1")
    assert second.json() == first.json() and second.headers["Idempotent-Replayed"] == "true"


def test_unknown_accounts_and_following_oneself_are_refused(
    api: httpx.Client, three: tuple[str, str, str]
) -> None:
    bo, _, _ = three
    assert follow(api, bo, "nobody_here").status_code == 404
    assert follow(api, bo, "x" * 65).status_code == 404
    selfish = follow(api, bo, bo)
    assert selfish.status_code == 422 and "itself" in selfish.json()["error"]
    assert api.get("/api/users/nobody_here/followers", headers=as_agent(bo)).status_code == 404
    assert follow(api, "not_an_agent", bo).status_code == 403


@pytest.mark.parametrize("say", [{"agentInteractions": "none"}, {"block": ["gamedev_bo"]}])
def test_a_person_who_said_no_refuses_the_follow_and_the_reaction(
    api: httpx.Client, three: tuple[str, str, str], say: dict[str, Any]
) -> None:
    bo, ada, _ = three
    mira, post_id = "lena", _joined_with_a_post(api, "lena")
    assert api.put(f"/api/admin/users/{mira}/agent-consent", json=say).status_code == 200
    refused = follow(api, bo, mira)
    assert refused.status_code == 403 and refused.json()["code"] == "AGENT_REFUSED"
    reacted = api.post(
        f"/api/showcase/{post_id}/reactions", json={"reaction": "fire"}, headers=as_agent(bo)
    )
    assert reacted.status_code == 403 and reacted.json()["code"] == "AGENT_REFUSED"
    assert names(api.get(f"/api/users/{mira}/followers", headers=as_agent(bo))) == []
    # A block names one agent: another may follow (Fleet's consent treats it as "replies").
    assert follow(api, ada, mira).status_code == (403 if "agentInteractions" in say else 200)


def _joined_with_a_post(api: httpx.Client, username: str) -> str:
    made = api.post(
        "/admin/people/join",
        json={
            "username": username,
            "name": username.title(),
            "post": {"title": "Harbour at dusk", "persona": "street_photographer", "side": 64},
        },
    )
    assert made.status_code == 200, made.text
    return str(made.json()["postId"])


def test_lists_are_paged_and_bounded(api: httpx.Client, three: tuple[str, str, str]) -> None:
    bo, _, mira = three
    for n in range(12):
        invite(api, f"fan_{n:02d}")
        assert follow(api, f"fan_{n:02d}", mira).status_code == 200
    first = api.get(f"/api/users/{mira}/followers?limit=5", headers=as_agent(bo)).json()
    second = api.get(f"/api/users/{mira}/followers?limit=5&offset=5", headers=as_agent(bo)).json()
    assert first["total"] == second["total"] == 12
    assert len(first["users"]) == len(second["users"]) == 5
    assert not {u["id"] for u in first["users"]} & {u["id"] for u in second["users"]}
    too_many = api.get(f"/api/users/{mira}/followers?limit=101", headers=as_agent(bo))
    assert too_many.status_code == 422


def test_the_home_feed_is_the_followed_accounts_posts(
    api: httpx.Client, three: tuple[str, str, str]
) -> None:
    bo, ada, _ = three
    invite(api, "other_cy")
    post(api, ada, title="Ada's first")
    post(api, "other_cy", title="Cy's")
    post(api, ada, title="Ada's second")
    home = api.get("/api/feed/home", headers=as_agent(bo))
    assert home.status_code == 200 and home.json()["items"] == []
    follow(api, bo, ada)
    titles = [i["title"] for i in api.get("/api/feed/home", headers=as_agent(bo)).json()["items"]]
    assert titles == ["Ada's second", "Ada's first"]


def test_a_reaction_is_one_per_user_and_replaced(
    api: httpx.Client, three: tuple[str, str, str]
) -> None:
    bo, ada, _ = three
    post_id = post(api, ada).json()["showcaseItem"]["id"]
    offered = api.get("/api/reactions").json()["reactions"]
    assert offered == ["heart", "fire", "wow", "clap", "laugh"]

    def react(agent: str, reaction: str) -> dict[str, Any]:
        answer = api.post(
            f"/api/showcase/{post_id}/reactions",
            json={"reaction": reaction},
            headers=as_agent(agent),
        )
        assert answer.status_code == 200, answer.text
        return answer.json()  # type: ignore[no-any-return]

    assert react(bo, "fire")["reactions"]["fire"] == 1
    assert react(bo, "fire")["changed"] is False
    replaced = react(bo, "wow")
    assert replaced["reactions"]["fire"] == 0 and replaced["reactions"]["wow"] == 1
    assert react(ada, "wow")["reactions"]["wow"] == 2
    item = api.get(f"/api/showcase/{post_id}", headers=as_agent(bo)).json()["item"]
    assert item["reactions"] == {"heart": 0, "fire": 0, "wow": 2, "clap": 0, "laugh": 0}
    taken = api.delete(f"/api/showcase/{post_id}/reactions", headers=as_agent(bo)).json()
    assert taken["reaction"] is None and taken["reactions"]["wow"] == 1
    bad = api.post(
        f"/api/showcase/{post_id}/reactions", json={"reaction": "angry"}, headers=as_agent(bo)
    )
    assert bad.status_code == 422
    missing = api.post(
        "/api/showcase/999999/reactions", json={"reaction": "wow"}, headers=as_agent(bo)
    )
    assert missing.status_code == 404


def test_a_deleted_user_leaves_no_follows(api: httpx.Client, three: tuple[str, str, str]) -> None:
    bo, ada, mira = three
    follow(api, bo, mira)
    follow(api, ada, bo)
    bo_id = api.get(f"/api/admin/users/{bo}").json()["id"]
    assert api.delete(f"/api/admin/users/{bo_id}").status_code == 200
    assert names(api.get(f"/api/users/{mira}/followers", headers=as_agent(ada))) == []
    assert names(api.get(f"/api/users/{ada}/following", headers=as_agent(ada))) == []

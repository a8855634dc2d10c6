"""The admin routes people beside the fleet act through (``fleet_sandbox.visitors``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from pydantic import SecretStr
from sandbox_testing import TOKEN

from fleet_sandbox.config import SandboxConfig
from fleet_sandbox.server import BackgroundSandbox


def _agent(api: httpx.Client, username: str) -> None:
    api.post(
        "/api/admin/users/invite",
        json={
            "agentId": username,
            "name": username.title(),
            "username": username,
            "isAgent": True,
            "agentPersonaId": "indie_game_dev",
        },
    ).raise_for_status()


def test_people_join_like_and_comment_at_the_sandbox_clocks_time() -> None:
    clock = [datetime(2026, 11, 16, 6, 0, tzinfo=UTC)]
    config = SandboxConfig(service_token=SecretStr(TOKEN))
    with (
        BackgroundSandbox(config, clock=lambda: clock[0]) as server,
        httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {TOKEN}"}) as api,
    ):
        joined = api.post(
            "/admin/people/join",
            json={
                "username": "newcomer1",
                "name": "Newcomer 1",
                "post": {
                    "title": "Bus delays on route 42",
                    "description": "A heatmap by weekday?",
                    "persona": "data_visualization",
                    "side": 64,
                },
            },
        )
        assert joined.status_code == 200
        person = joined.json()
        assert person["username"] == "newcomer1" and person["postId"] is not None
        assert person["at"] == "2026-11-16T06:00:00.000Z"
        # A regular: no post. The same username again is refused, named.
        regular = api.post("/admin/people/join", json={"username": "regular1", "name": "R 1"})
        assert regular.json()["postId"] is None
        taken = api.post("/admin/people/join", json={"username": "regular1", "name": "R 1"})
        assert taken.status_code == 400 and "'regular1' is taken" in taken.text

        _agent(api, "gamedev_bo")
        headers = {"X-Agent-Id": "gamedev_bo"}
        items = api.get("/api/showcase", headers=headers).json()["items"]
        assert [i["title"] for i in items] == ["Bus delays on route 42"]
        assert items[0]["createdAt"] == "2026-11-16T06:00:00.000Z"
        assert httpx.get(items[0]["imageUrl"]).status_code == 200
        post_id = person["postId"]

        clock[0] += timedelta(minutes=30)
        like = {"username": "regular1", "postId": post_id}
        assert api.post("/admin/people/like", json=like).json() == {"liked": True, "likeCount": 1}
        said = api.post(
            "/admin/people/comment",
            json={"username": "regular1", "postId": post_id, "content": "Nice!"},
        )
        assert said.status_code == 201
        assert said.json()["comment"]["createdAt"] == "2026-11-16T06:30:00.000Z"
        assert not said.json()["comment"]["user"]["isAgent"]
        # The gallery's toggle: a second like takes the first back.
        assert api.post("/admin/people/like", json=like).json()["liked"] is False
        api.post("/admin/people/like", json=like).raise_for_status()

        # An agent is not a person; nobody, or no post, is a 400 that says so.
        for body, says in [
            ({"username": "gamedev_bo", "postId": post_id}, "an agent account"),
            ({"username": "nobody", "postId": post_id}, "no person 'nobody'"),
            ({"username": "regular1", "postId": 999}, "no post 999"),
        ]:
            refused = api.post("/admin/people/like", json=body)
            assert refused.status_code == 400 and says in refused.text
        assert api.post("/admin/people/comment", json=like).status_code == 422  # no content

        # What people see: the people, the day's posts with their authors' kind, the
        # feeds' first pages (not counted as reads) and their likes.
        api.post(f"/api/showcase/{post_id}/like", headers=headers).raise_for_status()
        seen = api.get("/admin/people/view", params={"feeds": "recent,popular"}).json()
        ids = {p["username"]: p["id"] for p in seen["people"]}
        assert set(ids) == {"newcomer1", "regular1"}
        assert seen["posts"] == [{"id": post_id, "userId": ids["newcomer1"], "isAgent": False}]
        assert seen["feeds"]["popular"] == [{"id": post_id, "userId": ids["newcomer1"]}]
        assert seen["liked"] == [{"userId": ids["regular1"], "postId": post_id}]
        assert api.get("/admin/state").json()["feedReads"].get("popular", 0) == 0
        # The fleet's likes and comments of the last minutes: the agent's like.
        assert api.get("/admin/fleet/activity").json()["likes"] == 1
        clock[0] += timedelta(hours=2)
        assert api.get("/admin/fleet/activity").json()["likes"] == 0
        assert api.get("/admin/fleet/activity", params={"minutes": 180}).json()["likes"] == 1
        clock[0] += timedelta(days=1)
        assert api.get("/admin/people/view").json()["posts"] == []


@pytest.mark.parametrize(
    ("path", "params", "says"),
    [
        ("/admin/people/view", {"hours": "0"}, "hours is a whole number from 1 to 168"),
        ("/admin/people/view", {"hours": "x"}, "hours is a whole number"),
        ("/admin/people/view", {"limit": "500"}, "limit is a whole number from 1 to 100"),
        ("/admin/people/view", {"feeds": "recent,newest"}, "feeds is a comma-separated list"),
        ("/admin/people/view", {"feeds": "recent,recent"}, "feeds is a comma-separated list"),
        ("/admin/fleet/activity", {"minutes": "-5"}, "minutes is a whole number"),
    ],
)
def test_bad_queries_are_a_400_that_says_what_is_allowed(
    path: str, params: dict[str, str], says: str
) -> None:
    config = SandboxConfig(service_token=SecretStr(TOKEN))
    with (
        BackgroundSandbox(config) as server,
        httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {TOKEN}"}) as api,
    ):
        answer = api.get(path, params=params)
        assert answer.status_code == 400 and says in answer.json()["error"]
        # The service token is required, as on every admin route.
        assert httpx.get(f"{server.url}{path}").status_code == 401

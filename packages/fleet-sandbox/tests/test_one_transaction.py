"""An agent's like is one transaction: its account read with the answer remembered for its
Idempotency-Key, then the post, its like and its count in one read, then the writes and
the idempotency record; an agent's read runs in the transaction that checks its account.
On SQLite and on Postgres, each answering as before."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sandbox_testing import TLS, TOKEN
from sqlalchemy import Engine, event, func, select
from starlette.testclient import TestClient

from fleet_sandbox.app import create_app
from fleet_sandbox.config import SandboxConfig
from fleet_sandbox.server import BackgroundSandbox
from fleet_sandbox.storage import Storage, idempotency, like_events, likes

SERVICE = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    """A SQLite file, or the run's Postgres database (its tables dropped afterwards)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'gallery.db'}"
        return
    url: str = request.getfixturevalue("postgres_database")
    yield url
    storage = Storage(url)
    storage.drop()
    storage.dispose()


class Counted:
    """The statements and transactions an engine runs, from ``reset`` on."""

    def __init__(self, engine: Engine) -> None:
        self.statements: list[str] = []
        self.transactions = 0
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "begin", self._begin)

    def _statement(self, _conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        self.statements.append(sql.split(None, 1)[0].upper())

    def _begin(self, _conn: Any) -> None:
        self.transactions += 1

    def reset(self) -> None:
        self.statements.clear()
        self.transactions = 0


def agent(name: str, key: str | None = None) -> dict[str, str]:
    return SERVICE | {"X-Agent-Id": name} | ({"Idempotency-Key": key} if key else {})


def seed(http: httpx.Client, agents: list[str]) -> str:
    """Agent accounts and one post by the first; the post's id."""
    for name in agents:
        answer = http.post(
            "/api/admin/users/invite",
            json={"agentId": name, "name": name, "username": name, "isAgent": True},
            headers=SERVICE,
        )
        assert answer.status_code == 200, answer.text
    made = http.post(
        "/api/showcase",
        json={"imageUrl": "http://127.0.0.1/images/placeholder.png", "title": "Tiles"},
        headers=agent(agents[0]),
    )
    assert made.status_code == 201, made.text
    return str(made.json()["showcaseItem"]["id"])


@pytest.fixture
def gallery(database: str) -> Iterator[tuple[TestClient, Counted, Storage]]:
    """The sandbox app in this process on ``database``, its statements counted."""
    app = create_app(SandboxConfig(database_url=database, service_token=SecretStr(TOKEN)))
    storage: Storage = app.state.sandbox.storage
    with TestClient(app, base_url="http://sandbox") as client:
        yield client, Counted(storage.engine), storage


def rows(storage: Storage) -> dict[str, int]:
    with storage.begin() as conn:
        return {
            table.name: int(conn.execute(select(func.count()).select_from(table)).scalar_one())
            for table in (likes, like_events, idempotency)
        }


def test_a_like_is_one_transaction_of_five_statements(
    gallery: tuple[TestClient, Counted, Storage],
) -> None:
    client, counted, _ = gallery
    post_id = seed(client, ["gamedev_bo", "photo_ada"])
    for n, (liked, count) in enumerate([(True, 1), (False, 0), (True, 1)]):
        counted.reset()
        answer = client.post(f"/api/showcase/{post_id}/like", headers=agent("photo_ada", f"k{n}"))
        assert answer.json() == {"success": True, "liked": liked, "likeCount": count}
        assert counted.transactions == 1
        # The agent with its key's answer; the post, its like and count; the like (or
        # unlike) and its event; the answer remembered.
        assert counted.statements == [
            "SELECT",
            "SELECT",
            "INSERT" if liked else "DELETE",
            "INSERT",
            "INSERT",
        ]


def test_an_agents_reads_and_bodiless_calls_are_one_transaction_each(
    gallery: tuple[TestClient, Counted, Storage],
) -> None:
    client, counted, _ = gallery
    post_id = seed(client, ["gamedev_bo", "photo_ada"])
    calls = [
        # Reads: the agent checked in the transaction the read runs in.
        ("GET", "/api/showcase?limit=20", 200),
        ("GET", f"/api/showcase/{post_id}", 200),
        ("GET", "/api/showcase/999999/comments", 404),
        ("GET", "/api/feed/home", 200),
        ("GET", "/api/users/gamedev_bo/followers", 200),
        # Calls without a body, as the like (``state.act``).
        ("POST", "/api/users/gamedev_bo/follow", 200),
        ("DELETE", "/api/users/gamedev_bo/follow", 200),
        ("DELETE", f"/api/showcase/{post_id}/reactions", 200),
        ("POST", "/api/users/nobody_here/follow", 404),
    ]
    for n, (method, path, status) in enumerate(calls):
        counted.reset()
        answer = client.request(method, path, headers=agent("photo_ada", f"s{n}"))
        assert answer.status_code == status, answer.text
        assert counted.transactions == 1, path


def test_a_like_replayed_by_its_key_answers_the_same_and_writes_nothing(
    gallery: tuple[TestClient, Counted, Storage],
) -> None:
    client, counted, storage = gallery
    post_id = seed(client, ["gamedev_bo", "photo_ada"])
    first = client.post(f"/api/showcase/{post_id}/like", headers=agent("photo_ada", "once"))
    before = rows(storage)
    counted.reset()
    again = client.post(f"/api/showcase/{post_id}/like", headers=agent("photo_ada", "once"))
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert (counted.transactions, counted.statements) == (1, ["SELECT"])
    assert rows(storage) == before
    assert before == {"sandbox_likes": 1, "sandbox_like_events": 1, "sandbox_idempotency": 1}
    # The same key from another agent is that agent's own call.
    other = client.post(f"/api/showcase/{post_id}/like", headers=agent("gamedev_bo", "once"))
    assert other.json()["likeCount"] == 2 and "Idempotent-Replayed" not in other.headers


def test_a_like_on_a_missing_post_is_404_and_writes_nothing(
    gallery: tuple[TestClient, Counted, Storage],
) -> None:
    client, counted, storage = gallery
    post_id = seed(client, ["gamedev_bo", "photo_ada"])
    before = rows(storage)
    counted.reset()
    missing = client.post("/api/showcase/999999/like", headers=agent("photo_ada", "k"))
    assert (missing.status_code, missing.json()) == (404, {"error": "showcase item not found"})
    assert counted.statements == ["SELECT", "SELECT"]
    assert rows(storage) == before
    # Nothing was remembered for the key: used on the post that exists, it likes it.
    found = client.post(f"/api/showcase/{post_id}/like", headers=agent("photo_ada", "k"))
    assert found.json() == {"success": True, "liked": True, "likeCount": 1}
    assert "Idempotent-Replayed" not in found.headers


def test_a_likes_checks_keep_their_order(gallery: tuple[TestClient, Counted, Storage]) -> None:
    client, _, storage = gallery
    post_id = seed(client, ["gamedev_bo"])
    like = f"/api/showcase/{post_id}/like"
    wrong = {"Authorization": "Bearer wrong", "X-Agent-Id": "nobody"}
    assert client.post("/api/showcase/x/like", headers=wrong).status_code == 401
    assert client.post("/api/showcase/x/like", headers=agent("nobody_here")).status_code == 403
    assert client.post("/api/showcase/x/like", headers=SERVICE).status_code == 403
    assert client.post("/api/showcase/x/like", headers=agent("gamedev_bo")).status_code == 404
    # A key first used for a post is refused on a like (422), before the post is looked for.
    assert client.post(
        "/api/showcase",
        json={"imageUrl": "http://127.0.0.1/images/placeholder.png", "title": "Two"},
        headers=agent("gamedev_bo", "made"),
    ).is_success
    for path in (like, "/api/showcase/999999/like"):
        refused = client.post(path, headers=agent("gamedev_bo", "made"))
        assert refused.status_code == 422 and "another kind of call" in refused.json()["error"]
    # Used on another post, a like's key is refused too; on its own post it is replayed.
    assert client.post(like, headers=agent("gamedev_bo", "liked")).is_success
    elsewhere = client.post("/api/showcase/999999/like", headers=agent("gamedev_bo", "liked"))
    assert elsewhere.status_code == 422 and "another target" in elsewhere.json()["error"]
    assert client.put("/admin/pause", json={"paused": True}, headers=SERVICE).is_success
    assert client.post(like, headers=agent("nobody_here")).status_code == 503
    assert rows(storage)["sandbox_like_events"] == 1


def test_concurrent_likes_by_many_agents_count_right(database: str) -> None:
    names = [f"agent_{n}" for n in range(8)]
    config = SandboxConfig(database_url=database, service_token=SecretStr(TOKEN))
    with (
        BackgroundSandbox(config) as sandbox,
        httpx.Client(base_url=sandbox.url, timeout=30, verify=TLS) as http,
    ):
        post_id = seed(http, names)
        start = threading.Barrier(len(names))

        def like(name: str, turn: int) -> dict[str, Any]:
            with httpx.Client(base_url=sandbox.url, timeout=30, verify=TLS) as own:
                start.wait(timeout=30)
                answer = own.post(
                    f"/api/showcase/{post_id}/like", headers=agent(name, f"{name}:{turn}")
                )
                assert answer.status_code == 200, answer.text
                return answer.json()  # type: ignore[no-any-return]

        for turn, (liked, expected) in enumerate(((True, range(1, 9)), (False, range(8)))):
            with ThreadPoolExecutor(len(names)) as pool:
                answers = list(pool.map(like, names, [turn] * len(names)))
            assert {a["liked"] for a in answers} == {liked}
            # One at a time: each like saw the ones before it, none was lost or counted twice.
            assert sorted(a["likeCount"] for a in answers) == list(expected)
            shown = http.get(f"/api/showcase/{post_id}", headers=agent("agent_0")).json()
            assert shown["item"]["likeCount"] == (8 if liked else 0)

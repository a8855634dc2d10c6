"""The sandbox gallery itself: the API as docs/gallery-api.md describes it, faults, budgets, report."""

from __future__ import annotations

import hashlib
import io
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from random import Random
from typing import Any

import anyio
import httpx
import pytest
from PIL import Image
from pydantic import SecretStr
from sandbox_testing import TOKEN, Admin
from starlette.requests import Request
from starlette.routing import Match, Route
from starlette.types import Message, Receive, Scope, Send

from fleet_sandbox import images
from fleet_sandbox.config import Budgets, Controls, Faults, SandboxConfig, Spent, budget_verdict
from fleet_sandbox.faults import FaultInjector
from fleet_sandbox.server import BackgroundSandbox
from fleet_sandbox.state import Sandbox, request_fingerprint
from fleet_sandbox.storage import Storage

STEPS = [
    {
        "kind": "generate",
        "generator": "sandbox",
        "params": {"prompt": "tiny tiles", "model": "m1", "size": "1024x1024", "style": "tileset"},
        "out": "image",
    },
    {
        "kind": "transform",
        "op": "resize",
        "in": "image",
        "params": {"width": 128, "height": 128, "fit": "cover"},
        "out": "small",
    },
    {"kind": "save", "in": "small", "destination": "cloud"},
]


def as_agent(name: str, key: str | None = None) -> dict[str, str]:
    return {"X-Agent-Id": name} | ({"Idempotency-Key": key} if key else {})


def invite(api: httpx.Client, username: str, persona: str = "indie_game_dev") -> str:
    answer = api.post(
        "/api/admin/users/invite",
        json={
            "agentId": username,
            "name": username.title(),
            "username": username,
            "isAgent": True,
            "agentPersonaId": persona,
        },
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["id"])


def post(
    api: httpx.Client,
    agent: str,
    title: str = "Tiles",
    key: str | None = None,
    description: str = "",
) -> httpx.Response:
    return api.post(
        "/api/showcase",
        json={
            "imageUrl": "http://127.0.0.1/images/placeholder.png",
            "title": title,
            "description": description,
        },
        headers=as_agent(agent, key),
    )


@pytest.fixture
def team(api: httpx.Client) -> tuple[str, str]:
    invite(api, "gamedev_bo")
    invite(api, "photo_ada", "product_photographer")
    return "gamedev_bo", "photo_ada"


def test_every_api_call_needs_the_service_token(sandbox: BackgroundSandbox) -> None:
    calls = [
        ("POST", "/api/admin/users/invite"),
        ("DELETE", "/api/admin/users/1"),
        ("POST", "/api/execute/sync"),
        ("POST", "/api/showcase"),
        ("GET", "/api/showcase"),
        ("GET", "/api/showcase/1"),
        ("POST", "/api/showcase/1/like"),
        ("POST", "/api/showcase/1/comments"),
        ("GET", "/api/showcase/1/comments"),
        ("GET", "/admin/report"),
        ("PUT", "/admin/pause"),
    ]
    with httpx.Client(base_url=sandbox.url, headers={"Authorization": "Bearer wrong"}) as http:
        for method, path in calls:
            assert http.request(method, path).status_code == 401, path
        assert http.get("/").status_code == 200  # the page and pictures are public


def test_the_like_endpoint_is_a_faithful_toggle(api: httpx.Client, team: tuple[str, str]) -> None:
    bo, ada = team
    post_id = post(api, ada).json()["showcaseItem"]["id"]

    def like(agent: str) -> dict[str, Any]:
        return api.post(f"/api/showcase/{post_id}/like", headers=as_agent(agent)).json()  # type: ignore[no-any-return]

    assert like(bo) == {"success": True, "liked": True, "likeCount": 1}
    assert like(ada) == {"success": True, "liked": True, "likeCount": 2}
    assert like(bo) == {"success": True, "liked": False, "likeCount": 1}
    assert like(bo) == {"success": True, "liked": True, "likeCount": 2}


def test_a_replayed_key_gets_the_same_answer_and_makes_nothing_new(
    api: httpx.Client, team: tuple[str, str], admin: Admin
) -> None:
    bo, _ = team
    first, second = post(api, bo, key="k1"), post(api, bo, key="k1")
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    refused = api.post("/api/showcase/1/like", headers=as_agent(bo, "k1"))
    assert refused.status_code == 422 and "another kind of call" in refused.json()["error"]
    assert admin.report()["totals"]["posts"] == 1
    admin.idempotency(False)
    assert (
        post(api, bo, key="k1").json()["showcaseItem"]["id"] != first.json()["showcaseItem"]["id"]
    )


def test_keys_are_per_agent(api: httpx.Client, team: tuple[str, str], admin: Admin) -> None:
    bo, ada = team
    assert post(api, bo, key="same").json() != post(api, ada, key="same").json()
    assert admin.report()["totals"]["posts"] == 2


def test_budgets_reset_at_the_next_utc_midnight() -> None:
    now = [datetime(2026, 3, 1, 23, 59, 30, tzinfo=UTC)]
    config = SandboxConfig(
        service_token=SecretStr(TOKEN), budgets=Budgets(agent_daily=1, fleet_daily=5)
    )
    with (
        BackgroundSandbox(config, clock=lambda: now[0]) as server,
        httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {TOKEN}"}) as api,
    ):
        invite(api, "gamedev_bo")
        assert post(api, "gamedev_bo").status_code == 201
        refused = post(api, "gamedev_bo")
        assert refused.status_code == 429
        assert refused.json() == {
            "error": "daily budget exhausted",
            "code": "AGENT_DAILY_LIMIT_EXCEEDED",
            "resetAt": "2026-03-02T00:00:00.000Z",
        }
        assert refused.headers["Retry-After"] == "30"
        now[0] = datetime(2026, 3, 2, 0, 0, 1, tzinfo=UTC)
        assert post(api, "gamedev_bo").status_code == 201


def test_the_fleet_budget_is_checked_before_the_agent_budget() -> None:
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    budgets = Budgets(fleet_daily=10, agent_daily=3, per_agent={"vip": 5})
    assert budget_verdict(budgets, "bo", Spent(fleet=9, agent=2), now) is None
    assert budget_verdict(budgets, "bo", Spent(fleet=10, agent=3), now).code == (  # type: ignore[union-attr]
        "FLEET_DAILY_BUDGET_EXCEEDED"
    )
    assert budget_verdict(budgets, "bo", Spent(fleet=3, agent=3), now).code == (  # type: ignore[union-attr]
        "AGENT_DAILY_LIMIT_EXCEEDED"
    )
    assert budget_verdict(budgets, "vip", Spent(fleet=3, agent=3), now) is None


def test_faults_hit_only_their_route(
    api: httpx.Client, team: tuple[str, str], admin: Admin
) -> None:
    bo, ada = team
    post_id = post(api, ada).json()["showcaseItem"]["id"]
    admin.faults(errorRates={"like": 1.0}, errorStatus=503)
    assert api.post(f"/api/showcase/{post_id}/like", headers=as_agent(bo)).status_code == 503
    assert api.get(f"/api/showcase/{post_id}", headers=as_agent(bo)).status_code == 200
    assert admin.report()["totals"]["likes"] == 0


def test_an_error_rate_fails_about_that_share_of_calls(
    api: httpx.Client, team: tuple[str, str], admin: Admin
) -> None:
    admin.faults(errorRates={"*": 0.3})
    failed = sum(
        api.get("/api/showcase", headers=as_agent(team[0])).status_code == 500 for _ in range(200)
    )
    assert 30 <= failed <= 90


def test_a_lost_answer_still_commits_the_effect(
    api: httpx.Client, team: tuple[str, str], admin: Admin
) -> None:
    admin.faults(loseAnswerRates={"create_post": 1.0})
    with pytest.raises(httpx.RemoteProtocolError):
        post(api, team[0], key="k")
    assert admin.report()["totals"]["posts"] == 1


def test_the_fault_injector_matches_a_route_only_while_a_fault_is_set() -> None:
    matched: list[str] = []
    reached: list[str] = []

    class Watched(Route):
        def matches(self, scope: Scope) -> tuple[Match, Scope]:
            matched.append(scope["path"])
            return super().matches(scope)

    async def app(scope: Scope, _receive: Receive, _send: Send) -> None:
        reached.append(scope["path"])

    async def nothing() -> Message:
        raise AssertionError("nothing is read")

    async def unsent(_message: Message) -> None:
        raise AssertionError("nothing is sent")

    config = SandboxConfig()
    sandbox = Sandbox(config, Storage("sqlite://"), Controls.of(config), datetime.now, Random(1))
    injector = FaultInjector(
        app, sandbox, [Watched("/api/showcase/{post_id}/like", app, name="like")]
    )
    call = {"type": "http", "method": "POST", "path": "/api/showcase/1/like", "headers": []}
    anyio.run(injector, call, nothing, unsent)
    assert (matched, reached) == ([], ["/api/showcase/1/like"])
    sandbox.controls.faults = Faults(error_rates={"like": 0.0})  # set, never rolled
    anyio.run(injector, call, nothing, unsent)
    assert matched == ["/api/showcase/1/like"] and len(reached) == 2
    sandbox.storage.dispose()


@pytest.mark.parametrize("path", ["/api/showcase/12/like", "/api/users/a?b#c\\d/follow", "/x y/é"])
def test_a_requests_fingerprint_takes_the_path_as_its_url_gives_it(path: str) -> None:
    scope = {
        "type": "http",
        "method": "POST",
        "path": path,
        "headers": [(b"host", b"127.0.0.1:8700")],
        "query_string": b"q=1",
    }
    request = Request(scope)
    as_before = hashlib.sha256(f"POST {request.url.path} ".encode()).hexdigest()[:12]
    assert request_fingerprint(Request(scope)) == as_before


def test_bad_admin_input_is_refused_with_422(admin: Admin) -> None:
    for body in (
        {"errorRates": {"nope": 1}},
        {"errorRates": {"like": 2}},
        {"latency": 5},
        {"errorStatus": 404},
    ):
        answer = admin.http.put("/admin/faults", json=body)
        assert answer.status_code == 422, body
        assert answer.json()["errors"]
    assert admin.http.put("/admin/budgets", json={"fleetDaily": -1}).status_code == 422
    assert admin.http.put("/admin/pause", content=b"{").status_code == 422


def test_bad_api_input_is_refused_with_422_and_the_field(
    api: httpx.Client, team: tuple[str, str]
) -> None:
    bo = team[0]
    long_title = api.post(
        "/api/showcase",
        headers=as_agent(bo),
        json={"imageUrl": "http://x/y.png", "title": "x" * 201},
    )
    assert long_title.status_code == 422
    assert long_title.json()["errors"][0]["field"] == "title"
    assert api.get("/api/showcase?limit=0", headers=as_agent(bo)).status_code == 422
    assert api.get("/api/showcase?sort=best", headers=as_agent(bo)).status_code == 422
    assert api.post("/api/admin/users/invite", json={"username": "x y"}).status_code == 422


def test_workflows_are_checked_before_they_run(api: httpx.Client, team: tuple[str, str]) -> None:
    bo = team[0]

    def run(steps: list[dict[str, Any]]) -> httpx.Response:
        return api.post("/api/execute/sync", json={"steps": steps}, headers=as_agent(bo))

    retired = [STEPS[0] | {"params": STEPS[0]["params"] | {"model": "dall-e-2"}}, *STEPS[1:]]  # type: ignore[operator]
    assert "retired" in run(retired).json()["error"]
    assert "saves nothing" in run(STEPS[:2]).json()["error"]
    assert "no earlier step" in run([STEPS[0], STEPS[2] | {"in": "ghost"}]).json()["error"]
    assert run([{"kind": "paint"}]).status_code == 422
    done = run(STEPS).json()
    assert done["status"] == "completed" and len(done["imageUrls"]) == 1
    picture = Image.open(io.BytesIO(api.get(done["imageUrls"][0]).content))
    assert picture.size == (128, 128)


def test_the_report_counts_per_user_and_finds_duplicates(
    api: httpx.Client, team: tuple[str, str], admin: Admin
) -> None:
    bo, ada = team
    admin.idempotency(False)
    first = post(api, bo, key="k1").json()["showcaseItem"]["id"]
    second = post(api, bo, key="k1").json()["showcaseItem"]["id"]
    post(api, ada, description="Shot at dawn [fleet:abc123]")
    post(api, ada, description="Shot again [fleet:abc123]")
    for _ in range(3):
        api.post(f"/api/showcase/{first}/like", headers=as_agent(ada))
    api.post(f"/api/showcase/{first}/comments", json={"content": "hi"}, headers=as_agent(ada, "c"))
    api.post(f"/api/showcase/{first}/comments", json={"content": "hi"}, headers=as_agent(ada, "c"))
    report = admin.report()
    assert report["totals"] == {"users": 2, "posts": 4, "likes": 1, "comments": 2}
    counts = {u["username"]: (u["posts"], u["likes"], u["comments"]) for u in report["users"]}
    assert counts == {bo: (2, 0, 0), ada: (2, 1, 2)}
    duplicates = report["duplicates"]
    assert [(d["kind"], d["value"], d["username"], d["ids"]) for d in duplicates["posts"]] == [
        ("idempotencyKey", "k1", bo, [first, second]),
        ("marker", "abc123", ada, [str(int(second) + 1), str(int(second) + 2)]),
    ]
    assert [(d["value"], d["postId"]) for d in duplicates["comments"]] == [("c", first)]
    assert duplicates["likes"] == [
        {"username": ada, "postId": first, "likes": 2, "unlikes": 1, "liked": True}
    ]


def test_deleting_a_user_takes_their_posts_likes_and_comments(
    api: httpx.Client, team: tuple[str, str], admin: Admin
) -> None:
    bo, ada = team
    mine = post(api, bo).json()["showcaseItem"]["id"]
    theirs = post(api, ada).json()["showcaseItem"]["id"]
    api.post(f"/api/showcase/{theirs}/like", headers=as_agent(bo))
    api.post(f"/api/showcase/{theirs}/comments", json={"content": "hi"}, headers=as_agent(bo))
    api.post(f"/api/showcase/{mine}/like", headers=as_agent(ada))
    bo_id = next(u["id"] for u in admin.report()["users"] if u["username"] == bo)
    assert api.delete(f"/api/admin/users/{bo_id}").json() == {"deleted": True}
    assert api.delete(f"/api/admin/users/{bo_id}").status_code == 404
    assert admin.report()["totals"] == {"users": 1, "posts": 1, "likes": 0, "comments": 0}
    item = api.get(f"/api/showcase/{theirs}", headers=as_agent(ada)).json()["item"]
    assert (item["likeCount"], item["commentCount"]) == (0, 0)
    assert api.get("/api/showcase", headers=as_agent(bo)).status_code == 403


def test_an_existing_username_of_another_agent_is_refused(api: httpx.Client) -> None:
    invite(api, "gamedev_bo")
    taken = api.post(
        "/api/admin/users/invite", json={"agentId": "other", "name": "Bo", "username": "gamedev_bo"}
    )
    assert taken.status_code == 422 and "taken" in taken.json()["error"]


def test_pictures_are_deterministic_and_differ_by_style_and_persona() -> None:
    def draw(prompt: str, style: str, persona: str) -> bytes:
        return images.render(prompt, style=style, persona=persona, width=96, height=96)

    reference = draw("a lighthouse", "pixel-art", "indie_game_dev")
    assert draw("a lighthouse", "pixel-art", "indie_game_dev") == reference
    others = [
        draw("a lighthouse", "tileset", "indie_game_dev"),
        draw("a lighthouse", "pixel-art", "ux_ui_designer"),
        draw("a harbour", "pixel-art", "indie_game_dev"),
        draw("a lighthouse", "some new style", "someone new"),
    ]
    assert len({reference, *others}) == 5
    for style in images.STYLES:
        picture = Image.open(io.BytesIO(draw("x", style, "data_visualization")))
        assert (picture.format, picture.size) == ("PNG", (96, 96))
        assert len(picture.convert("RGB").getcolors(1 << 20) or []) > 3, style  # not a blank canvas
    assert images.image_id("a", style="s", persona="p", width=1, height=1) != images.image_id(
        "a", style="s", persona="p", width=1, height=2
    )


def test_the_placeholder_and_unknown_pictures(sandbox: BackgroundSandbox) -> None:
    with httpx.Client(base_url=sandbox.url) as http:
        placeholder = http.get("/images/placeholder.png")
        assert placeholder.status_code == 200
        assert Image.open(io.BytesIO(placeholder.content)).size == (512, 512)
        assert http.get("/images/0123abcd.png").status_code == 404


def test_the_page_escapes_what_agents_write(
    sandbox: BackgroundSandbox, api: httpx.Client, team: tuple[str, str]
) -> None:
    bo, ada = team
    post_id = post(
        api, bo, title="<script>alert(1)</script>", description='"quoted" & <b>bold</b> [fleet:k9]'
    ).json()["showcaseItem"]["id"]
    api.post(
        f"/api/showcase/{post_id}/comments",
        json={"content": "<img src=x onerror=alert(2)>"},
        headers=as_agent(ada),
    )
    with httpx.Client(base_url=sandbox.url) as http:
        page = http.get("/")
    html = page.text
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&quot;quoted&quot; &amp; &lt;b&gt;bold&lt;/b&gt;" in html
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(2)&gt;" in html
    assert "[fleet:k9]" not in html  # markers are bookkeeping, not captions
    assert "BOT" in html
    policy = page.headers["content-security-policy"]
    nonce = policy.split("'nonce-")[1].split("'")[0]
    assert html.count(f'nonce="{nonce}"') == 2  # the page's own style and script, nothing else
    assert "setInterval" in html and "/fragment" in html  # it refreshes itself


def test_the_fragment_shows_new_posts_newest_first(
    sandbox: BackgroundSandbox, api: httpx.Client, team: tuple[str, str]
) -> None:
    with httpx.Client(base_url=sandbox.url) as http:
        assert "No posts yet" in http.get("/fragment").text
        post(api, team[0], title="Older")
        post(api, team[1], title="Newer")
        fragment = http.get("/fragment").text
    assert fragment.index("Newer") < fragment.index("Older")
    assert "2 posts" in fragment


@pytest.fixture
def postgres_sandbox(postgres_database: str) -> Iterator[BackgroundSandbox]:
    url = postgres_database
    config = SandboxConfig(database_url=url, service_token=SecretStr(TOKEN))
    try:
        with BackgroundSandbox(config) as server:
            yield server
    finally:
        storage = Storage(url)
        storage.drop()
        storage.dispose()


@pytest.mark.postgres
def test_the_sandbox_keeps_its_data_in_postgres_when_asked(
    postgres_sandbox: BackgroundSandbox,
) -> None:
    with httpx.Client(
        base_url=postgres_sandbox.url, headers={"Authorization": f"Bearer {TOKEN}"}
    ) as api:
        invite(api, "gamedev_bo")
        invite(api, "gamedev_bo")
        key = uuid.uuid4().hex
        made = post(api, "gamedev_bo", key=key).json()["showcaseItem"]
        assert post(api, "gamedev_bo", key=key).json()["showcaseItem"] == made
        liked = api.post(f"/api/showcase/{made['id']}/like", headers=as_agent("gamedev_bo"))
        assert liked.json()["likeCount"] == 1
        feed = api.get("/api/showcase?sort=trending", headers=as_agent("gamedev_bo")).json()
        assert [i["id"] for i in feed["items"]] == [made["id"]]
        report = api.get("/admin/report").json()
        assert report["totals"] == {"users": 1, "posts": 1, "likes": 1, "comments": 0}
        created = datetime.fromisoformat(made["createdAt"])
        assert abs(created - datetime.now(UTC)) < timedelta(minutes=1)


def test_a_key_reused_with_another_body_or_target_is_refused_not_replayed(
    api: httpx.Client, team: tuple[str, str], admin: Admin
) -> None:
    bo, ann = team
    assert post(api, bo, key="k2").status_code == 201
    other = api.post(
        "/api/showcase",
        json={"imageUrl": "http://x/i.png", "title": "Something else", "description": ""},
        headers=as_agent(bo, "k2"),
    )
    assert other.status_code == 422
    assert "with another body or on another target" in other.json()["error"]
    first = post(api, ann).json()["showcaseItem"]["id"]
    second = post(api, ann).json()["showcaseItem"]["id"]
    assert api.post(f"/api/showcase/{first}/like", headers=as_agent(bo, "k3")).status_code == 200
    elsewhere = api.post(f"/api/showcase/{second}/like", headers=as_agent(bo, "k3"))
    assert elsewhere.status_code == 422
    assert admin.report()["totals"]["likes"] == 1


def test_oversized_deeply_nested_and_out_of_range_requests_are_refused_cleanly(
    api: httpx.Client, team: tuple[str, str]
) -> None:
    bo, _ = team
    huge = api.post(
        "/api/showcase",
        content=b'{"title": "' + b"x" * 100_000 + b'"}',
        headers={**as_agent(bo), "Content-Type": "application/json"},
    )
    assert huge.status_code == 413
    nested = api.post(
        "/api/showcase",
        content=b"[" * 5000 + b"]" * 5000,
        headers={**as_agent(bo), "Content-Type": "application/json"},
    )
    assert nested.status_code == 400 and "nested too deeply" in nested.json()["error"]
    far = api.get("/api/showcase", params={"offset": 10**30}, headers=as_agent(bo))
    assert far.status_code == 422 and "offset" in far.json()["error"]


def test_people_are_seeded_once_each_with_a_post_agents_can_see_and_like() -> None:
    now = datetime(2026, 11, 16, 12, 0, tzinfo=UTC)
    config = SandboxConfig(service_token=SecretStr(TOKEN))
    with (
        BackgroundSandbox(config, clock=lambda: now) as server,
        httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {TOKEN}"}) as api,
    ):
        made = api.post("/admin/people", json={"count": 3})
        assert made.status_code == 200
        assert made.json() == {"made": ["mara_lens", "leo_plays", "ines_charts"]}
        # Made once: asked again, nobody new; too many is refused, naming the field.
        assert api.post("/admin/people", json={"count": 3}).json() == {"made": []}
        too_many = api.post("/admin/people", json={"count": 99})
        assert too_many.status_code == 422 and "count" in too_many.text
        invite(api, "gamedev_bo")
        items = api.get("/api/showcase", headers=as_agent("gamedev_bo")).json()["items"]
        # Newest first, an hour apart before now, by people (not agents).
        assert [i["user"]["username"] for i in items] == ["ines_charts", "leo_plays", "mara_lens"]
        assert [i["createdAt"] for i in items] == [
            "2026-11-16T11:00:00.000Z",
            "2026-11-16T10:00:00.000Z",
            "2026-11-16T09:00:00.000Z",
        ]
        assert not any(i["user"]["isAgent"] for i in items)
        picture = httpx.get(items[0]["imageUrl"])
        assert picture.status_code == 200
        assert Image.open(io.BytesIO(picture.content)).size == (512, 512)
        liked = api.post(f"/api/showcase/{items[0]['id']}/like", headers=as_agent("gamedev_bo"))
        assert liked.json()["liked"] is True


def test_a_seeded_person_posts_their_next_pictures_in_turn_then_stops() -> None:
    """``POST /admin/people/post``: the demo's people go on posting through its day."""
    from fleet_sandbox.people import NEXT_POSTS

    clock = [datetime(2026, 11, 16, 12, 0, tzinfo=UTC)]
    config = SandboxConfig(service_token=SecretStr(TOKEN))
    with (
        BackgroundSandbox(config, clock=lambda: clock[0]) as server,
        httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {TOKEN}"}) as api,
    ):
        # Not on the gallery yet, or not one of the seeded people: refused, named.
        early = api.post("/admin/people/post", json={"username": "mara_lens"})
        assert early.status_code == 400 and "seed the people first" in early.text
        stranger = api.post("/admin/people/post", json={"username": "nobody_here"})
        assert stranger.status_code == 400 and "'nobody_here'" in stranger.text
        api.post("/admin/people", json={"count": 2}).raise_for_status()
        titles = []
        for _ in NEXT_POSTS["mara_lens"]:
            clock[0] += timedelta(minutes=40)
            made = api.post("/admin/people/post", json={"username": "mara_lens"})
            assert made.status_code == 200
            titles.append(made.json()["made"])
        assert titles == [title for title, _ in NEXT_POSTS["mara_lens"]]
        # All theirs posted: nothing more, and nothing made.
        assert api.post("/admin/people/post", json={"username": "mara_lens"}).json() == {
            "made": None
        }
        invite(api, "gamedev_bo")
        items = api.get("/api/showcase", headers=as_agent("gamedev_bo")).json()["items"]
        by_mara = [i for i in items if i["user"]["username"] == "mara_lens"]
        assert len(by_mara) == 1 + len(NEXT_POSTS["mara_lens"])
        assert by_mara[0]["title"] == titles[-1]  # newest first, at the clock's time
        assert by_mara[0]["createdAt"] == "2026-11-16T14:00:00.000Z"

"""The gallery contract of disclosure, consent, origin and ranking (docs/gallery-api.md),
spoken by Fleet's client to the sandbox."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx
import pytest
from pydantic import AnyUrl

from fleet.consent.core import PersonConsent
from fleet.gallery.client import HttpGallery, MalformedAnswer
from fleet.gallery.consent import Disclosure
from fleet.settings import DisclosureSettings
from fleet_sandbox import storage
from fleet_sandbox.server import BackgroundSandbox
from fleet_sandbox.storage import Storage, User
from tests.gallery.conftest import Admin, settings_for


def _people(admin: Admin, count: int) -> list[str]:
    made = admin.http.post("/admin/people", json={"count": count})
    assert made.status_code == 200, made.text
    return list(made.json()["made"])


def test_every_invite_carries_the_operator_and_a_sync_changes_it(
    sandbox: BackgroundSandbox, gallery: HttpGallery, ada: str
) -> None:
    assert gallery.disclosure_of(ada) == Disclosure(
        True, "Automated account", "Fleet demo operator", "http://127.0.0.1:8700/about/agents"
    )
    moved = HttpGallery(
        settings_for(sandbox.url),
        disclosure=DisclosureSettings(
            operator_name="Studio Ops", operator_url=AnyUrl("https://ops.example/agents")
        ),
    )
    try:
        moved.sync_disclosure(ada)
        assert gallery.disclosure_of(ada) == Disclosure(
            True, "Automated account", "Studio Ops", "https://ops.example/agents"
        )
    finally:
        moved.close()


def test_post_page_shows_the_label_operator_link_and_likes_apart(
    sandbox: BackgroundSandbox, gallery: HttpGallery, ada: str, bo: str, admin: Admin
) -> None:
    url = gallery.generate_image(
        agent=ada, prompt="a teapot", style="studio", persona="p", idempotency_key="k1"
    )
    post = gallery.create_post(
        agent=ada, image_url=url, title="Teapot", description="d", idempotency_key="k2"
    )
    gallery.comment(agent=bo, post_id=post.id, content="nice", idempotency_key="k3")
    gallery.like(agent=bo, post_id=post.id, idempotency_key="k4")
    html = httpx.get(f"{sandbox.url}/posts/{post.id}").text
    link = 'href="http://127.0.0.1:8700/about/agents">Fleet demo operator</a>'
    assert html.count(link) == 2  # beside the post and beside the comment
    assert '<link rel="author" href="http://127.0.0.1:8700/about/agents">' in html
    assert re.search(r'<meta name="author" content="@photo_ada \(automated account, run by', html)
    assert 'data-people-likes="0" data-agent-likes="1"' in html
    item = gallery._call("GET", f"/api/showcase/{post.id}", agent=bo)["item"]
    assert (item["peopleLikeCount"], item["agentLikeCount"]) == (0, 1)
    assert admin.state()["origins"].get("automated", 0) >= 4  # every agent call said so


@pytest.mark.parametrize(("weight", "first"), [(0.5, "people's"), (1.0, "agents'")])
def test_popular_and_trending_weigh_agents_likes_down(weight: float, first: str) -> None:
    store = Storage("sqlite://")
    store.create()
    now = datetime.now(UTC)
    with store.begin() as conn:

        def user(name: str, agent: bool) -> User:
            return storage.invite(conn, agent_id=None, name=name, username=name, persona=None,
                                  is_agent=agent, now=now)[0]  # fmt: skip

        fans = [user("pat", False), user("quinn", False)]
        bots = [user(f"bot_{n}", True) for n in range(3)]
        posts = {}
        for title, likers in (("people's", fans), ("agents'", bots)):
            posts[title] = storage.create_post(conn, user=fans[0], title=title, description="",
                                               image_url="http://x/i.png", workflow_id=None,
                                               key=None, now=now)  # fmt: skip
            for liker in likers:
                storage.toggle_like(conn, post_id=posts[title], user_id=liker.id, key=None, now=now)
        for sort in ("popular", "trending"):
            top = storage.list_posts(
                conn, limit=2, offset=0, sort=sort, now=now, agent_weight=weight
            )  # type: ignore[arg-type]
            assert top[0].title == first
            assert {p.title: (p.like_count, p.agent_like_count) for p in top} == {
                "people's": (2, 0), "agents'": (3, 3)
            }  # fmt: skip
    store.dispose()


def test_consent_round_trip_and_fail_safe_parsing(
    sandbox: BackgroundSandbox, gallery: HttpGallery, ada: str, admin: Admin
) -> None:
    ana, ben = _people(admin, 2)
    assert gallery.agent_consent().people == {}
    api = admin.http
    assert (
        api.put(
            f"/api/admin/users/{ana}/agent-consent", json={"agentInteractions": "none"}
        ).status_code
        == 200
    )
    assert (
        api.put(f"/api/admin/users/{ben}/agent-consent", json={"block": [ada]}).status_code == 200
    )
    refused = api.put(f"/api/admin/users/{ben}/agent-consent", json={"block": ["nobody_here"]})
    assert refused.status_code == 422
    read = gallery.agent_consent()
    assert read.offered
    assert read.people == {ana: PersonConsent("none"), ben: PersonConsent("all", frozenset({ada}))}
    # The page's control is a person's own, signed in (F6): a form with no session, as
    # any site could post it, changes nothing.
    form = httpx.post(f"{sandbox.url}/people/{ben}", data={"agentInteractions": "all"})
    assert form.status_code == 401
    assert gallery.agent_consent().people[ben] == PersonConsent("all", frozenset({ada}))


def _answering(body: object, status: int = 200) -> HttpGallery:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body)

    return HttpGallery(settings_for("http://gallery.test"), transport=httpx.MockTransport(handler))


def test_a_gallery_without_the_calls_says_so_and_garbage_is_contained() -> None:
    assert _answering({"error": "not found"}, 404).agent_consent().offered is False
    read = _answering(
        {"people": [{"username": "eve", "agentInteractions": "maybe"}, {"username": "fay"}]}
    ).agent_consent()
    assert read.unreadable == {"eve"} and read.people == {"fay": PersonConsent()}
    with pytest.raises(MalformedAnswer):
        _answering({"people": [{"agentInteractions": "none"}]}).agent_consent()
    with pytest.raises(MalformedAnswer):
        _answering({"people": [{"username": "x"}] * 501}).agent_consent()
    with pytest.raises(MalformedAnswer):
        _answering({"people": "all of them"}).agent_consent()


def test_the_sandbox_refuses_bad_disclosures_and_consent(
    sandbox: BackgroundSandbox, gallery: HttpGallery, ada: str, admin: Admin
) -> None:
    (person,) = _people(admin, 1)
    api = admin.http
    marked = {"operatorName": "<b>Ops</b>", "operatorUrl": "https://ops.example"}
    assert api.put(f"/api/admin/users/{ada}/disclosure", json=marked).status_code == 422
    scripted = {"operatorName": "Ops", "operatorUrl": "javascript:alert(1)"}
    assert api.put(f"/api/admin/users/{ada}/disclosure", json=scripted).status_code == 422
    fine = {"operatorName": "Ops", "operatorUrl": "https://ops.example"}
    assert api.put(f"/api/admin/users/{person}/disclosure", json=fine).status_code == 422
    assert (
        api.put(
            f"/api/admin/users/{ada}/agent-consent", json={"agentInteractions": "none"}
        ).status_code
        == 422
    )
    assert (
        api.put(
            f"/api/admin/users/{person}/agent-consent", json={"agentInteractions": "maybe"}
        ).status_code
        == 422
    )
    assert api.get("/api/admin/agent-consent", params={"limit": 501}).status_code == 422
    assert httpx.get(f"{sandbox.url}/people/nobody_at_all").status_code == 404
    odd = httpx.post(
        f"{sandbox.url}/people/{person}", data={"agentInteractions": "<x>", "block": "nobody"}
    )
    assert odd.status_code == 401, "no session: nothing is read of the form"
    assert gallery.agent_consent().people == {}
    page = httpx.get(f"{sandbox.url}/people/{ada}").text
    assert 'href="http://127.0.0.1:8700/about/agents">Fleet demo operator</a>' in page

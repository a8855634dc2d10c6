"""The sandbox as a person uses it (issue 67, item 4; issue 68, F6): sign up and sign in
with a cookie session, comment, reply and like from a post's page, and say what agents
may do on one's own page, every form with its session's CSRF token and from the
gallery's own pages. Over HTTP here; in Chromium in ``test_person_browser.py``."""

from __future__ import annotations

import re

import httpx

from fleet.consent.core import PersonConsent
from fleet.gallery.client import HttpGallery
from fleet_sandbox.server import BackgroundSandbox
from tests.gallery.conftest import TLS, Admin


def _token(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


def _browser(sandbox: BackgroundSandbox) -> httpx.Client:
    """A person's browser: cookies kept, forms sent from the gallery's own pages."""
    return httpx.Client(
        base_url=sandbox.url, verify=TLS, timeout=10, headers={"Origin": sandbox.url}
    )


def sign_up(browser: httpx.Client, username: str, name: str = "Newcomer") -> str:
    """Sign up as ``username``; the CSRF token of the session's forms."""
    form = browser.get("/signup").text
    done = browser.post(
        "/signup",
        data={"csrf": _token(form), "name": name, "username": username, "password": "pw-1234"},
    )
    assert done.status_code == 303, done.text
    assert done.headers["location"] == f"/people/{username}"
    return _token(browser.get(f"/people/{username}").text)


def test_a_person_signs_up_comments_replies_likes_and_opts_out(
    sandbox: BackgroundSandbox, gallery: HttpGallery, ada: str
) -> None:
    url = gallery.generate_image(
        agent=ada,
        prompt="amber bottle",
        style="packshot",
        persona="product_photographer",
        idempotency_key="ada:1:image",
    )
    post = gallery.create_post(
        agent=ada, image_url=url, title="Amber serum", description="", idempotency_key="ada:1:post"
    )
    with _browser(sandbox) as browser:
        home = browser.get("/").text
        assert f'href="/posts/{post.id}"' in home and f'href="/people/{ada}"' in home
        assert 'href="/signup"' in home and 'href="/about/agents"' in home
        csrf = sign_up(browser, "newcomer_1", name="<b>New</b> comer")
        page = browser.get(f"/posts/{post.id}").text
        assert 'id="comment-box"' in page and "Signed in as @newcomer_1" in page
        said = browser.post(
            f"/posts/{post.id}/comment", data={"csrf": csrf, "content": "are you a bot?"}
        )
        assert said.status_code == 303
        (comment,) = gallery.comments(agent=ada, post_id=post.id)
        assert (comment.username, comment.content, comment.user_is_agent) == (
            "newcomer_1",
            "are you a bot?",
            False,
        )
        page = browser.get(f"/posts/{post.id}?reply={comment.id}").text
        assert "Replying to @newcomer_1" in page and f'value="{comment.id}"' in page
        reply = browser.post(
            f"/posts/{post.id}/comment",
            data={"csrf": csrf, "content": "and who runs you?", "parentId": comment.id},
        )
        assert reply.status_code == 303
        assert gallery.comments(agent=ada, post_id=post.id)[-1].parent_id == comment.id
        assert browser.post(f"/posts/{post.id}/like", data={"csrf": csrf}).status_code == 303
        assert gallery.get_post(agent=ada, post_id=post.id).like_count == 1
        mine = browser.get("/people/newcomer_1").text
        assert "&lt;b&gt;New&lt;/b&gt; comer" in mine and "<b>New</b>" not in mine
        saved = browser.post(
            "/people/newcomer_1", data={"csrf": csrf, "agentInteractions": "none", "block": ada}
        )
        assert saved.status_code == 303
        assert gallery.agent_consent().people["newcomer_1"] == PersonConsent(
            "none", frozenset({ada})
        )
        assert 'data-agent-interactions="none"' in browser.get("/people/newcomer_1").text


def test_nobody_changes_another_persons_say_or_acts_without_a_session_f6(
    sandbox: BackgroundSandbox, gallery: HttpGallery, ada: str, admin: Admin
) -> None:
    with _browser(sandbox) as mine, _browser(sandbox) as theirs:
        csrf = sign_up(mine, "opted_out")
        assert mine.post("/people/opted_out", data={"csrf": csrf, "agentInteractions": "none"})
        other = sign_up(theirs, "someone_else")
        # Another person's session, with its own valid token, on my page: refused.
        assert (
            theirs.post(
                "/people/opted_out", data={"csrf": other, "agentInteractions": "all"}
            ).status_code
            == 403
        )
        # Someone else's page shows no control.
        assert "agentInteractions" not in theirs.get("/people/opted_out").text
        # My session, but a token that is not its own (a stale or forged form): refused.
        wrong = mine.post("/people/opted_out", data={"csrf": other, "agentInteractions": "all"})
        assert wrong.status_code == 403
        # My session and token, sent by another site's form (cross-site): refused.
        forged = mine.post(
            "/people/opted_out",
            data={"csrf": csrf, "agentInteractions": "all"},
            headers={"Origin": "http://evil.test", "Sec-Fetch-Site": "cross-site"},
        )
        assert forged.status_code == 403
    with httpx.Client(base_url=sandbox.url, verify=TLS) as anyone:
        # No session at all (the old form's hole): refused, nothing read.
        assert (
            anyone.post("/people/opted_out", data={"agentInteractions": "all"}).status_code == 401
        )
        # A forged cookie is no session.
        anyone.cookies.set("sandbox_person", "1." + "0" * 64)
        assert (
            anyone.post("/people/opted_out", data={"agentInteractions": "all"}).status_code == 401
        )
    assert gallery.agent_consent().people["opted_out"] == PersonConsent("none")
    # Nobody signs in as an agent or as a person seeded through the admin API.
    person = admin.http.post("/admin/people", json={"count": 1}).json()["made"][0]
    with _browser(sandbox) as browser:
        for name in (ada, person):
            form = browser.get("/signin").text
            tried = browser.post(
                "/signin", data={"csrf": _token(form), "username": name, "password": "pw-1234"}
            )
            assert tried.status_code == 401
        # A sign-up form without its own cookie's token is refused.
        browser.cookies.clear()
        assert (
            browser.post(
                "/signup",
                data={"csrf": "x" * 32, "name": "A", "username": "sneaky", "password": "pw-1234"},
            ).status_code
            == 403
        )


def test_bad_input_is_bounded_and_refused_with_a_reason(
    sandbox: BackgroundSandbox, gallery: HttpGallery, ada: str
) -> None:
    with _browser(sandbox) as browser:
        form = browser.get("/signup").text
        long_name = browser.post(
            "/signup",
            data={
                "csrf": _token(form),
                "name": "x" * 81,
                "username": "ok_name",
                "password": "pw12",
            },
        )
        assert long_name.status_code == 400 and "1 to 80 characters" in long_name.text
        bad = browser.post(
            "/signup",
            data={
                "csrf": _token(long_name.text),
                "name": "A",
                "username": "<script>",
                "password": "pw12",
            },
        )
        assert bad.status_code == 400 and "<script>" not in bad.text
        csrf = sign_up(browser, "bounded")
        assert (
            browser.post("/posts/1/comment", data={"csrf": csrf, "content": "x" * 2001}).status_code
            == 400
        )
        assert (
            browser.post("/posts/999999/comment", data={"csrf": csrf, "content": "hi"}).status_code
            == 404
        )


def test_the_about_page_names_the_operator_and_how_to_say_no(
    sandbox: BackgroundSandbox, gallery: HttpGallery, ada: str
) -> None:
    page = httpx.get(f"{sandbox.url}/about/agents", verify=TLS)
    assert page.status_code == 200
    text = page.text
    assert "About these automated accounts" in text
    assert "Fleet demo operator" in text  # the operator ada's account names
    assert "No agent engages with me" in text and 'href="/signup"' in text

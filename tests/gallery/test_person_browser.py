"""A person uses the sandbox gallery in headless Chromium (issue 67, item 4): signs up,
opens an agent's post from the home page, comments "are you a bot?", opts out of agents
on their own page, and opens the page about the automated accounts. Driven over the
DevTools protocol, the fields typed and the buttons clicked as a person would; the
screenshots are saved in ``artifacts/person-gallery-*.png`` (gitignored) to look at."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fleet.consent.core import PersonConsent
from fleet.gallery.client import HttpGallery
from fleet_sandbox.server import BackgroundSandbox
from tests.console.browser import Browser
from tests.console.conftest import needs_chromium
from tests.gallery.test_page import ARTIFACTS, CHROMIUM

pytestmark = [pytest.mark.browser, needs_chromium]


def _type(browser: Browser, selector: str, text: str) -> None:
    browser.evaluate(
        f"(() => {{ const f = document.querySelector({json.dumps(selector)}); f.focus(); "
        f"f.value = {json.dumps(text)}; f.dispatchEvent(new Event('input')); }})()"
    )


def _click(browser: Browser, selector: str) -> None:
    browser.evaluate(f"document.querySelector({json.dumps(selector)}).click()")


def test_a_person_signs_up_asks_an_agent_and_opts_out_in_chromium(
    sandbox: BackgroundSandbox, gallery: HttpGallery, ada: str, tmp_path: Path
) -> None:
    url = gallery.generate_image(
        agent=ada,
        prompt="amber serum bottle",
        style="packshot",
        persona="product_photographer",
        idempotency_key="ada:1:image",
    )
    post = gallery.create_post(
        agent=ada,
        image_url=url,
        title="Amber serum bottle",
        description="Made with the packshot workflow.",
        idempotency_key="ada:1:post",
    )
    assert CHROMIUM is not None
    with Browser(CHROMIUM, tmp_path / "profile") as browser:
        browser.open(f"{sandbox.url}/")
        _click(browser, 'nav.me a[href="/signup"]')
        browser.wait_for(
            "location.pathname === '/signup' && !!document.querySelector('#signup')", timeout=30
        )
        _type(browser, 'input[name="name"]', "Rosa <Newcomer>")
        _type(browser, 'input[name="username"]', "rosa_new")
        _type(browser, 'input[name="password"]', "a-simple-one")
        browser.screenshot(ARTIFACTS / "person-gallery-1-signup.png")
        _click(browser, "#signup button[type=submit]")
        browser.wait_for(
            "location.pathname === '/people/rosa_new' && document.readyState === 'complete'",
            timeout=30,
        )
        assert "Signed in as @rosa_new" in browser.text("nav.me")
        assert "Rosa <Newcomer>" in browser.text(".people-form"), "escaped, shown as typed"

        # From the home page to the agent's post, as a person finds it.
        browser.open(f"{sandbox.url}/")
        _click(browser, f'article[data-post-id="{post.id}"] h2.title a')
        # The path changes when the page starts to load; its form is typed into once it is
        # there (under load, a form typed into mid-load was lost, and no comment came).
        browser.wait_for(
            f"location.pathname === '/posts/{post.id}' && document.readyState === 'complete'"
            " && !!document.querySelector('#comment-box textarea')",
            timeout=30,
        )
        _type(browser, "#comment-box textarea", "are you a bot?")
        _click(browser, "#comment-box button[type=submit]")
        browser.wait_for("!!document.querySelector('.comments li[data-comment-id]')", timeout=30)
        assert "are you a bot?" in browser.text(".comments")
        assert "Reply" in browser.text(".comments")
        browser.screenshot(ARTIFACTS / "person-gallery-2-commented.png")
        (comment,) = gallery.comments(agent=ada, post_id=post.id)
        assert (comment.username, comment.content, comment.user_is_agent) == (
            "rosa_new",
            "are you a bot?",
            False,
        )

        # Opt out on their own page.
        browser.open(f"{sandbox.url}/people/rosa_new")
        _click(browser, 'input[name="agentInteractions"][value="none"]')
        _click(browser, '.people-form form button[type="submit"]')
        browser.wait_for(
            "!!document.querySelector('[data-agent-interactions=\"none\"]')", timeout=30
        )
        assert "Saved." in browser.text(".people-form")
        browser.screenshot(ARTIFACTS / "person-gallery-3-opted-out.png")
        assert gallery.agent_consent().people["rosa_new"] == PersonConsent("none")

        # The link on every agent's profile opens the page about them.
        browser.open(f"{sandbox.url}/people/{ada}")
        _click(browser, ".people-form a[href='/about/agents']")
        browser.wait_for(
            "location.pathname === '/about/agents' && document.readyState === 'complete'"
            " && !!document.querySelector('#about-agents')",
            timeout=30,
        )
        about = browser.text("#about-agents")
        assert "About these automated accounts" in about and "Fleet demo operator" in about
        browser.screenshot(ARTIFACTS / "person-gallery-4-about.png")

"""Reading people's consent from a gallery that pages badly (issue 68, F1 and F7): a list
that ignores its paging fails the read within a bound instead of looping under the consent
book's lock; one that is slow fails it within its time; a person leaving the list between
two pages moves nobody past a page unread; one bad username makes one person unreadable."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from fleet.consent.core import PersonConsent
from fleet.errors import FleetError, TransientError
from fleet.gallery import consent as consent_list
from fleet.gallery.answers import clip
from fleet.gallery.client import HttpGallery, MalformedAnswer
from fleet_sandbox.server import BackgroundSandbox
from tests.gallery.conftest import Admin, settings_for

PAGE = consent_list.PAGE


def _entry(name: str, said: str = "none") -> dict[str, Any]:
    return {"username": name, "agentInteractions": said, "blockedAgents": []}


def _over(handler: Any) -> HttpGallery:
    return HttpGallery(settings_for("http://gallery.test"), transport=httpx.MockTransport(handler))


def test_a_list_that_ignores_its_paging_fails_the_read_at_its_second_page() -> None:
    asked: list[dict[str, str]] = []
    same = {"people": [_entry(f"person_{n:03d}") for n in range(PAGE)]}

    def looping(request: httpx.Request) -> httpx.Response:
        asked.append(dict(request.url.params))
        if len(asked) > 50:  # the old client asked for ever: stop it here, as a failure
            return httpx.Response(500, json={"error": "enough"})
        return httpx.Response(200, json=same)

    started = time.monotonic()
    with pytest.raises(MalformedAnswer, match="names a person twice"):
        _over(looping).agent_consent()
    elapsed = time.monotonic() - started
    print(f"looping gallery: {len(asked)} requests, {elapsed:.3f} s, then a failed read")
    assert len(asked) == 2
    assert asked[1] == {"limit": str(PAGE), "offset": str(PAGE), "after": "person_499"}


def test_a_slow_endless_list_fails_the_read_within_its_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("fleet.gallery.client.MAX_READ_SECONDS", 0.3, raising=False)
    asked: list[int] = []

    def endless(request: httpx.Request) -> httpx.Response:
        asked.append(1)
        if len(asked) > 40:
            return httpx.Response(500, json={"error": "enough"})
        time.sleep(0.05)  # a slow gallery: every page takes its time
        page = len(asked)
        return httpx.Response(
            200, json={"people": [_entry(f"p{page:03d}_{n:03d}") for n in range(PAGE)]}
        )

    started = time.monotonic()
    with pytest.raises(TransientError, match=r"not read whole in 0\.3 s"):
        _over(endless).agent_consent()
    elapsed = time.monotonic() - started
    print(f"slow endless gallery: {len(asked)} requests in {elapsed:.2f} s, then a failed read")
    assert len(asked) <= 10 and elapsed < 2.0


def test_the_pages_are_bounded_even_when_each_is_new() -> None:
    asked: list[int] = []

    def endless(request: httpx.Request) -> httpx.Response:
        asked.append(1)
        page = len(asked)
        return httpx.Response(
            200, json={"people": [_entry(f"p{page:04d}_{n:03d}") for n in range(PAGE)]}
        )

    with pytest.raises(FleetError):
        _over(endless).agent_consent()
    assert len(asked) <= 100_000 // PAGE + 1


def test_one_username_too_long_makes_that_person_unreadable_not_the_list() -> None:
    long_name = "x" * 65

    def answering(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, json={"people": [_entry("ana"), _entry(long_name), _entry("ben", "replies")]}
        )

    read = _over(answering).agent_consent()
    assert read.people == {"ana": PersonConsent("none"), "ben": PersonConsent("replies")}
    # Under the name a post of theirs shows (clipped as every answer clips it).
    assert read.unreadable == {clip(long_name, 64)}
    with pytest.raises(MalformedAnswer):  # an entry naming no one still fails the read
        _over(lambda r: httpx.Response(200, json={"people": [{"username": ""}]})).agent_consent()


def _people(admin: Admin, count: int) -> list[str]:
    made = admin.http.post("/admin/people", json={"count": count})
    assert made.status_code == 200, made.text
    return list(made.json()["made"])


def test_a_person_leaving_between_two_pages_moves_nobody_past_a_page_unread(
    sandbox: BackgroundSandbox, ada: str, admin: Admin, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pages of 2 over the sandbox: after the first page, its first person unblocks the
    agent (they leave the list); paged by offset, the third person would slide onto the
    first page and be skipped."""
    monkeypatch.setattr("fleet.gallery.client.PAGE", 2)
    monkeypatch.setattr("fleet.gallery.consent.PAGE", 2)
    people = _people(admin, 5)
    for person in people:
        said = admin.http.put(f"/api/admin/users/{person}/agent-consent", json={"block": [ada]})
        assert said.status_code == 200, said.text
    pages: list[dict[str, str]] = []
    inner = httpx.HTTPTransport()

    def leaving(request: httpx.Request) -> httpx.Response:
        pages.append(dict(request.url.params))
        answer = inner.handle_request(request)
        answer.read()
        if len(pages) == 1:  # between the first and the second page
            first = answer.json()["people"][0]["username"]
            gone = admin.http.put(
                f"/api/admin/users/{first}/agent-consent", json={"unblock": [ada]}
            )
            assert gone.status_code == 200, gone.text
        return answer

    gallery = HttpGallery(settings_for(sandbox.url), transport=httpx.MockTransport(leaving))
    read = gallery.agent_consent()
    gallery.close()
    inner.close()
    # Everyone read (the one who left, on the first page, before leaving): nobody skipped.
    assert set(read.people) == set(people), (pages, sorted(read.people))
    assert pages[1]["after"] == sorted(people)[1]


def test_the_sandbox_pages_its_consent_list_by_username_and_still_by_offset(
    sandbox: BackgroundSandbox, ada: str, admin: Admin
) -> None:
    people = sorted(_people(admin, 4))
    for person in people:
        admin.http.put(f"/api/admin/users/{person}/agent-consent", json={"block": [ada]})

    def names(**params: Any) -> list[str]:
        got = admin.http.get("/api/admin/agent-consent", params=params)
        assert got.status_code == 200, got.text
        return [p["username"] for p in got.json()["people"]]

    assert names(limit=2) == people[:2]
    assert names(limit=2, offset=2) == people[2:]  # an old client's paging
    assert names(limit=2, after=people[1]) == people[2:]
    assert names(limit=2, after=people[1], offset=2) == people[2:], "after wins over offset"
    assert names(limit=10, after=people[-1]) == []
    too_long = admin.http.get("/api/admin/agent-consent", params={"after": "x" * 300})
    assert too_long.status_code == 422

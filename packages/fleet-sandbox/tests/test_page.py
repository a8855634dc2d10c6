"""The gallery page in pages: sixty posts to a page, links to newer and older, bounded offsets."""

from __future__ import annotations

import re

import httpx
import pytest
from sandbox_testing import TLS
from test_api import invite, post

from fleet_sandbox.page import PAGE_SIZE
from fleet_sandbox.server import BackgroundSandbox

POSTS = 2 * PAGE_SIZE + 5


@pytest.fixture
def many_posts(api: httpx.Client) -> int:
    """``POSTS`` posts, titled "Post 1" (oldest) to "Post N" (newest), by three agents."""
    agents = ["gamedev_bo", "gamedev_cy", "gamedev_di"]
    for agent in agents:
        invite(api, agent)
    for n in range(1, POSTS + 1):
        assert post(api, agents[n % 3], title=f"Post {n}").status_code == 201
    return POSTS


def _titles(html: str) -> list[int]:
    return [
        int(n)
        for n in re.findall(r'<h2 class="title"><a href="/posts/\d+">Post (\d+)</a></h2>', html)
    ]


def _links(html: str) -> dict[str, str]:
    return dict(re.findall(r'<a class="(newer|older)" rel="\w+" href="([^"]+)"', html))


def test_the_gallery_shows_sixty_posts_a_page_with_links_to_newer_and_older_pages(
    sandbox: BackgroundSandbox, many_posts: int
) -> None:
    with httpx.Client(base_url=sandbox.url, verify=TLS) as http:
        first = http.get("/").text
        assert _titles(first) == list(range(many_posts, many_posts - PAGE_SIZE, -1))
        assert _links(first) == {"older": f"/?offset={PAGE_SIZE}"}
        assert f"1&ndash;{PAGE_SIZE} of {many_posts} posts" in first

        second = http.get(_links(first)["older"]).text
        assert _titles(second) == list(
            range(many_posts - PAGE_SIZE, many_posts - 2 * PAGE_SIZE, -1)
        )
        assert _links(second) == {"newer": "/?offset=0", "older": f"/?offset={2 * PAGE_SIZE}"}
        assert "this page does not refresh" in second and "refreshes every" not in second

        last = http.get(_links(second)["older"]).text
        assert _titles(last) == [5, 4, 3, 2, 1]
        assert _links(last) == {"newer": f"/?offset={PAGE_SIZE}"}

        fragment = http.get(f"/fragment?offset={PAGE_SIZE}").text
        assert _titles(fragment) == _titles(second)
        beyond = http.get("/?offset=1000").text
        assert _titles(beyond) == [] and "No posts this far back" in beyond
        assert _links(beyond) == {"newer": f"/?offset={2 * PAGE_SIZE}"}  # the last page


@pytest.mark.parametrize(
    "offset", ["abc", "-1", "1.5", "", " 60", "1e3", "1000000001", "99999999999999999999", "٣"]
)
@pytest.mark.parametrize("path", ["/", "/fragment"])
def test_a_bad_offset_is_a_400_that_says_what_is_allowed(
    sandbox: BackgroundSandbox, path: str, offset: str
) -> None:
    with httpx.Client(base_url=sandbox.url, verify=TLS) as http:
        answer = http.get(path, params={"offset": offset})
    assert answer.status_code == 400
    assert answer.text == "offset must be a whole number from 0 to 1000000000"

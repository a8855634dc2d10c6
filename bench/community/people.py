"""bench.community.people: the gallery's people beside the fleet.

Newcomers join about once a simulated hour and post a picture whose title and
description say something specific; people like posts and comment on agents' posts now
and then; with a ramp, regulars join as people's activity grows. They act through the
sandbox's HTTP API as a person would and as an operator's admin calls would
(``/admin/people/join``, ``/admin/people/view``, ``/admin/people/like``,
``/admin/people/comment``, ``/admin/fleet/activity``): never on its tables.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import httpx

from fleet import activities
from fleet.demo import Demo
from fleet_sandbox.people_follows import FollowHabits
from fleet_sandbox.tables import Sort

# Monday 2026-11-16 06:00 UTC: the week's first morning in Europe, night in the Americas.
START = datetime(2026, 11, 16, 6, 0, tzinfo=UTC)
SIDE = 256

# What newcomers post: each says something specific (a question, a problem, a name, a
# number) that a comment which read it could take up.
NEWCOMER_POSTS: tuple[tuple[str, str, str], ...] = (
    (
        "product_photographer",
        "First try at shooting my mum's pottery",
        "She sells mugs at the Saturday market. How do I stop the glaze from glaring?",
    ),
    (
        "ux_ui_designer",
        "Wireframe for our tennis club's booking page",
        "Members keep double-booking court 3. Would a calendar grid be clearer than a list?",
    ),
    (
        "data_visualization",
        "My running distances for 2026",
        "Twelve months, 1,400 km. Should I show weekly totals or a rolling average?",
    ),
    (
        "ai_art_enthusiast",
        "Portrait of my cat Miso as a forest spirit",
        "Miso is twelve and sleeps all day. I wanted her to look ancient and wise.",
    ),
    (
        "indie_game_dev",
        "Title screen for my first game jam entry",
        "48 hours, a frog who delivers mail. Is the logo readable at small sizes?",
    ),
    (
        "social_media_marketer",
        "Launch post for my sister's bakery",
        "Sourdough only, opening in March. Which of these two headlines would you click?",
    ),
    (
        "product_photographer",
        "Sneakers on a concrete step",
        "Shot on my phone at golden hour. Too much shadow on the left side?",
    ),
    (
        "data_visualization",
        "Bus delays on route 42",
        "I logged every morning bus for three months. Is a heatmap by weekday the right call?",
    ),
    (
        "indie_game_dev",
        "Pixel knight idle animation",
        "Six frames, 32 by 32. The cape feels stiff; any tips for secondary motion?",
    ),
    (
        "ux_ui_designer",
        "Onboarding flow for a recipe app",
        "Three screens before the first recipe. Is that too many for a new user?",
    ),
    (
        "ai_art_enthusiast",
        "Lighthouse in a storm, my first upscale",
        "I cannot get the waves to look wet. What do you add to the prompt?",
    ),
    (
        "social_media_marketer",
        "Poster for our charity 5k run",
        "Raising money for the local shelter on June 8. Does the date stand out enough?",
    ),
)
# ``--people-like feeds``: a person's like goes to a post on the first page of one of
# these (even odds), as a visitor sees the gallery.
PEOPLE_SORTS: tuple[Sort, ...] = ("recent", "popular")
PEOPLE_PAGE = 20
# What people say under agents' posts: questions of each kind, compliments that name
# what they liked, suggestions, critiques and remarks (issue 54: a reply answers each
# as what it is). The first six were the only ones before.
PEOPLE_COMMENTS = (
    "Love this! How long did it take you?",
    "The colours are gorgeous. What did you use for the palette?",
    "This made my morning. Is there a larger version somewhere?",
    "Great idea. Would you ever share how you set this up?",
    "Really clean work. What would you change if you did it again?",
    "I keep coming back to this one. Any plans for a series?",
    "How did you get the light so soft?",
    "Is the texture painted or a filter?",
    "Do you sell prints of these?",
    "What tools do you use for this?",
    "How many hours went into this one?",
    "Lovely light.",
    "The colours on this are stunning.",
    "Wow, great composition!",
    "Beautiful work, really.",
    "Love the grainy texture.",
    "This is so calming to look at.",
    "Gorgeous details in the background.",
    "Nice!",
    "Maybe try a warmer palette next time",
    "Have you tried adding some rim light?",
    "You could crop it tighter, I think.",
    "I'd try a darker background to make it pop.",
    "Would be cool to see a night version.",
    "The sky feels a bit flat to me",
    "Honestly the left side looks a bit empty.",
    "The text is a little small to read on my phone.",
    "Feels a bit busy, hard to know where to look.",
    "The colours feel slightly muddy here.",
    "This reminds me of my grandmother's kitchen.",
    "Saw this on the front page, had to stop.",
    "My kid loved this one.",
    "Following for more of these.",
)


@dataclass
class People:
    """The gallery's people: newcomers joining, and everyone liking and commenting."""

    demo: Demo
    rng: random.Random
    # When newcomers join (``newcomer_arrivals``): drawn once from the seed, so that one
    # seed is one scenario whatever pace the fleet's threads keep (drawn step by step,
    # four runs of seed 3 had 40 to 64 newcomers, and people's likes with them).
    arrivals: list[datetime]
    ramp_to: float | None
    span_seconds: float
    joined: int = 0
    # Likes and comments per simulated hour each person makes (without a ramp).
    like_rate: float = 0.25
    comment_rate: float = 0.04
    # With a ramp, nobody makes more than this many a simulated hour: more people come
    # (regulars, who like and comment and post nothing) rather than a few liking every
    # post there is (each likes a post once: the ramp could not be delivered).
    most_per_person_hour: float = 1.0
    # Where a person's like goes: ``random``, any post of the last day alike (the
    # headline's people, the most conservative); ``feeds``, a post on the first page of
    # the gallery's ``recent`` or ``popular`` (even odds), as a visitor scrolling them.
    people_like: str = "random"
    regulars: int = 0
    _last: datetime | None = None
    newcomer_posts: list[int] = field(default_factory=list)
    # How people follow (``fleet_sandbox.people_follows``): after a like, back, rarely away.
    habits: FollowHabits = field(default_factory=FollowHabits)
    # (person, account) follows people made, those they dropped (never made again), and
    # the follows toward people already answered (followed back or not).
    _follows: set[tuple[int, int]] = field(default_factory=set)
    _dropped: set[tuple[int, int]] = field(default_factory=set)
    _answered: set[tuple[int, int]] = field(default_factory=set)

    def step(self, demo: Demo) -> None:
        now = demo.clock.now()
        last, self._last = self._last or now, now
        hours = (now - last).total_seconds() / 3600
        if hours <= 0:
            return
        with _admin(demo) as api:
            while self.arrivals and self.arrivals[0] <= now:
                self.arrivals.pop(0)
                self._join(api)
            feeds = PEOPLE_SORTS if self.people_like == "feeds" else ()
            seen = _ok(
                api.get(
                    "/admin/people/view",
                    params={"hours": 24, "feeds": ",".join(feeds), "limit": PEOPLE_PAGE},
                )
            )
            people = [SimpleNamespace(**person) for person in seen["people"]]
            recent = [(p["id"], p["userId"], p["isAgent"]) for p in seen["posts"]]
            if not people or not recent:
                return
            scale = 1.0
            if self.ramp_to is not None:
                elapsed = (now - START).total_seconds() / self.span_seconds
                # Against the fleet's rate at full pace (its last hour, divided by the
                # pace it ran at): people's activity is the scenario's, not an echo of
                # the fleet's stepping back (which would step people back with it).
                wanted = self.ramp_to * elapsed * self._fleet_rate(api) / _pace(demo)
                while wanted > (len(people) + 1) * self.most_per_person_hour:
                    people.append(self._regular(api))
                scale = wanted / max(1.0, len(people) * (self.like_rate + self.comment_rate))
            # A person likes a post once: the gallery's like is a toggle, and a second
            # one would take the first back (which hid people's activity as it grew).
            pages: dict[Sort, list[tuple[int, int]]] = {
                sort: [(post["id"], post["userId"]) for post in seen["feeds"][sort]]
                for sort in feeds
            }
            liked = {(like["userId"], like["postId"]) for like in seen["liked"]}
            for person in people:
                for _ in range(self._draws(hours * self.like_rate * scale)):
                    post_id, owner = people_pick(self.rng, recent, pages)
                    if owner != person.id and (person.id, post_id) not in liked:
                        liked.add((person.id, post_id))
                        _ok(
                            api.post(
                                "/admin/people/like",
                                json={"username": person.username, "postId": post_id},
                            )
                        )
                        if self.habits.follows_after_like(self.rng):
                            self._follow(api, person.username, person.id, owner)
                bots = [p for p in recent if p[2]]
                for _ in range(self._draws(hours * self.comment_rate * scale)):
                    if bots:
                        post_id = self.rng.choice(bots)[0]
                        text = self.rng.choice(PEOPLE_COMMENTS)
                        _ok(
                            api.post(
                                "/admin/people/comment",
                                json={
                                    "username": person.username,
                                    "postId": post_id,
                                    "content": text,
                                },
                            )
                        )

            self._follow_back(api, hours)
            self._unfollow(api, hours, {p.id: p.username for p in people})

    def _follow(self, api: httpx.Client, username: str, person: int, account: int) -> None:
        """The person follows the account, unless they do or once dropped it."""
        pair = (person, account)
        if person == account or pair in self._follows or pair in self._dropped:
            return
        self._follows.add(pair)
        _ok(
            api.post(
                "/admin/people/follow",
                json={"username": username, "targetId": account, "following": True},
            )
        )

    def _follow_back(self, api: httpx.Client, hours: float) -> None:
        """People answer the follows they got since the last step: some follow back."""
        minutes = min(int(hours * 60) + 2, 60 * 24 * 7)
        got = _ok(api.get("/admin/people/followed", params={"minutes": minutes}))
        for f in got["follows"]:
            pair = (f["followerId"], f["followedId"])
            if pair in self._answered:
                continue
            self._answered.add(pair)
            if self.habits.follows_back(self.rng, f["followerIsAgent"]):
                self._follow(api, f["followed"], f["followedId"], f["followerId"])

    def _unfollow(self, api: httpx.Client, hours: float, names: dict[int, str]) -> None:
        """Now and then a person drops a follow, for good."""
        for pair in sorted(self._follows):
            person, account = pair
            if person in names and self.habits.unfollows(self.rng, hours):
                self._follows.discard(pair)
                self._dropped.add(pair)
                _ok(
                    api.post(
                        "/admin/people/follow",
                        json={"username": names[person], "targetId": account, "following": False},
                    )
                )

    def _draws(self, mean: float) -> int:
        whole = int(mean)
        return whole + (1 if self.rng.random() < mean - whole else 0)

    def _fleet_rate(self, api: httpx.Client) -> float:
        """The fleet's likes and comments in the last simulated hour."""
        done = _ok(api.get("/admin/fleet/activity", params={"minutes": 60}))
        return float(done["likes"] + done["comments"])

    def _regular(self, api: httpx.Client) -> SimpleNamespace:
        """A person who comes to look, like and comment (and posts nothing)."""
        self.regulars += 1
        joined = _ok(
            api.post(
                "/admin/people/join",
                json={"username": f"regular{self.regulars}", "name": f"Regular {self.regulars}"},
            )
        )
        return SimpleNamespace(id=joined["id"], username=joined["username"])

    def _join(self, api: httpx.Client) -> None:
        family, title, description = NEWCOMER_POSTS[self.joined % len(NEWCOMER_POSTS)]
        self.joined += 1
        joined = _ok(
            api.post(
                "/admin/people/join",
                json={
                    "username": f"newcomer{self.joined}",
                    "name": f"Newcomer {self.joined}",
                    "post": {
                        "title": title,
                        "description": description,
                        "persona": family,
                        "side": SIDE,
                    },
                },
            )
        )
        self.newcomer_posts.append(joined["postId"])


def _admin(demo: Demo) -> httpx.Client:
    """A client of the sandbox's admin API, with the service token it was started with."""
    token = demo.sandbox.config.service_token.get_secret_value()
    return httpx.Client(
        base_url=demo_base(demo), headers={"Authorization": f"Bearer {token}"}, timeout=60
    )


def _ok(answer: httpx.Response) -> Any:
    """The answer's JSON; an error (with what the sandbox said) if it refused."""
    if answer.is_error:
        raise RuntimeError(
            f"{answer.request.method} {answer.request.url.path}: "
            f"{answer.status_code} {answer.text[:300]}"
        )
    return answer.json()


def newcomer_arrivals(
    rng: random.Random, start: datetime, span_seconds: float, every_minutes: float
) -> list[datetime]:
    """When newcomers join over the run: a Poisson process, one every ``every_minutes``
    on average, whole simulated minutes."""
    out: list[datetime] = []
    at = 0.0
    while True:
        at += rng.expovariate(1 / (60 * every_minutes))
        if at >= span_seconds:
            return out
        out.append(start + timedelta(minutes=int(at // 60)))


def people_pick(
    rng: random.Random, recent: Sequence[Any], pages: Mapping[Sort, list[tuple[int, int]]]
) -> tuple[int, int]:
    """The post a person's like goes to, as (post, its author): one of the last day's
    ``recent`` alike, or with ``pages`` (``--people-like feeds``) one on the first page of
    a feed drawn at even odds among them."""
    if pages:
        post_id, owner = rng.choice(pages[rng.choice(sorted(pages))])
    else:
        post_id, owner, _ = rng.choice(recent)
    return post_id, owner


def _pace(demo: Demo) -> float:
    """The pace the fleet runs at now (1 before one was measured)."""
    assert demo.fleet is not None
    with demo.fleet.sessions() as session:
        return max(activities.current_pace(session), 0.01)


def demo_base(demo: Demo) -> str:
    return str(demo.sandbox.url).rstrip("/")

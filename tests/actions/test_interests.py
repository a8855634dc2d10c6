"""Taste's vectors: embedded once per post, reused, and never a reason to fail."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np
import pytest

from fleet.actions.interests import Interests
from fleet.core.vectors import Vector, unit
from fleet.embeddings.local import LocalEmbedder
from fleet.embeddings.port import EmbeddingUnavailable, Purpose
from fleet.errors import ConfigError
from fleet.gallery.port import GalleryPost
from fleet.infra.persona_files import PersonaCatalogue
from fleet.settings import load_settings

CATALOGUE = PersonaCatalogue.from_directory()


def _post(post_id: str, title: str, description: str = "") -> GalleryPost:
    now = datetime(2026, 11, 20, tzinfo=UTC)
    return GalleryPost(post_id, title, description, "", 0, 0, now, "1", "someone", False)


class Counting:
    """A fake embedder: a vector per text from its letters; counts the texts asked."""

    model = "counting"
    dimensions = 8

    def __init__(self, *, fail: bool = False, size: int = 8) -> None:
        self.asked: list[str] = []
        self.fail = fail
        self.size = size

    def embed(self, texts: Sequence[str], *, purpose: Purpose = "passage") -> list[Vector]:
        if self.fail:
            raise EmbeddingUnavailable("down for maintenance")
        self.asked.extend(texts)
        return [unit([float(t.count(c)) for c in "aeioustr"[: self.size]] or [1.0]) for t in texts]


def test_a_posts_vector_is_embedded_once_and_reused() -> None:
    embedder = Counting()
    interests = Interests(embedder)
    persona = CATALOGUE.get("indie_game_dev")
    page = [_post("1", "pixel slime"), _post("2", "tiles")]
    first = interests.similarities(persona, page)
    again = interests.similarities(persona, [*page, _post("3", "a boss")])
    assert set(first) == {"1", "2"} and set(again) == {"1", "2", "3"}
    assert first["1"] == again["1"]
    posts_asked = [t for t in embedder.asked if not t.startswith(persona.interests[0])]
    assert len(posts_asked) == 3  # each post once; the persona's interests once
    assert interests.degraded is None


def test_the_posts_kept_are_those_used_lately_and_no_more_than_the_bound() -> None:
    # Every pool process keeps its own: the bound, not the gallery's size, caps them.
    embedder = Counting()
    interests = Interests(embedder, max_posts=2)
    persona = CATALOGUE.get("indie_game_dev")
    one, two, three = _post("1", "pixel slime"), _post("2", "tiles"), _post("3", "a boss")
    interests.similarities(persona, [one])
    interests.similarities(persona, [two])
    interests.similarities(persona, [one], keep=False)  # used again: kept over "2"
    interests.similarities(persona, [three], keep=False)
    embedder.asked.clear()
    interests.similarities(persona, [one, three], keep=False)
    assert embedder.asked == [], "the two used lately are kept"
    interests.similarities(persona, [two], keep=False)
    assert embedder.asked == ["tiles"], "the least lately used was dropped"


def test_warming_embeds_every_personas_interests_at_once_and_never_again() -> None:
    # A worker's main process warms before it forks: a child's first like embeds nothing.
    embedder = Counting()
    interests = Interests(embedder)
    personas = list(CATALOGUE)
    assert interests.warm(personas) == len(personas) == len(embedder.asked)
    assert interests.warm(personas) == len(personas) == len(embedder.asked)
    persona = CATALOGUE.get("indie_game_dev")
    interests.similarities(persona, [_post("1", "pixel slime")])
    assert embedder.asked[len(personas) :] == ["pixel slime"]
    down = Interests(Counting(fail=True))
    assert down.warm(personas) == 0 and down.degraded is not None


def test_an_embedder_that_fails_or_answers_the_wrong_size_degrades_to_no_vectors() -> None:
    persona = CATALOGUE.get("ux_ui_designer")
    down = Interests(Counting(fail=True))
    assert down.similarities(persona, [_post("1", "grid")]) == {}
    assert down.degraded is not None and "down for maintenance" in down.degraded
    wrong = Interests(Counting(size=3))
    assert wrong.similarities(persona, [_post("1", "grid")]) == {}
    assert wrong.degraded is not None and "not of size 8" in wrong.degraded


def test_with_the_real_model_a_fitting_post_is_closer_than_an_unrelated_one() -> None:
    interests = Interests(LocalEmbedder())
    persona = CATALOGUE.get("indie_game_dev")
    close = interests.similarities(
        persona,
        [
            _post("sprite", "New slime boss sprite", "16 colours, a tileset to match."),
            _post("chart", "Quarterly revenue by region", "A stacked bar chart for finance."),
        ],
    )
    assert close["sprite"] > close["chart"]
    assert isinstance(close["sprite"], float) and np.isfinite(close["sprite"])


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        ("FLEET_TASTE__FIT", "inf", "FLEET_TASTE__FIT"),
        ("FLEET_TASTE__EXPLORE", "2", "FLEET_TASTE__EXPLORE"),
        ("FLEET_TASTE__WELCOME", "-1", "FLEET_TASTE__WELCOME"),
        ("FLEET_TASTE__COURTESY", "2", "FLEET_TASTE__COURTESY"),
        ("FLEET_TASTE__APPEAL", "-1", "FLEET_TASTE__APPEAL"),
        ("FLEET_WELCOME__COMMENTS", "[[1, -1]]", "FLEET_WELCOME__COMMENTS"),
        ("FLEET_WELCOME__LIKES", "not json", "FLEET_WELCOME__LIKES: not valid JSON"),
        ("FLEET_EMBEDDINGS__PROVIDER", "magic", "FLEET_EMBEDDINGS__PROVIDER"),
    ],
)
def test_bad_taste_and_welcome_settings_stop_start_up_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, said: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=said):
        load_settings()


def test_taste_and_welcome_settings_reach_what_the_fleet_ranks_by(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FLEET_TASTE__WELCOME", "3.5")
    monkeypatch.setenv("FLEET_TASTE__COMMENT_TIE", "6")
    monkeypatch.setenv("FLEET_TASTE__COURTESY", "0.5")
    monkeypatch.setenv("FLEET_TASTE__APPEAL", "1.5")
    monkeypatch.setenv("FLEET_WELCOME__FIRST_LIKE", "false")
    settings = load_settings()
    weights = settings.taste_weights()
    assert (weights.welcome, weights.comment_tie, weights.courtesy) == (3.5, 6.0, 0.5)
    assert weights.appeal == 1.5
    assert settings.welcome.budget().first_like is False


def test_a_post_is_kindred_to_the_personas_nearest_its_text() -> None:
    interests = Interests(LocalEmbedder())
    everyone = list(CATALOGUE)
    cat = _post("cat", "My cat Miso asleep on the radiator", "Shot on my phone.")
    chart = _post("chart", "Quarterly revenue by region", "A stacked bar chart for finance.")
    for persona in everyone:
        interests.similarities(persona, [cat, chart])  # embeds both once
    kin = {p.slug: interests.kindred(p, everyone, [cat, chart]) for p in everyone}
    assert sum("cat" in found for found in kin.values()) == 2, "the nearest two personas"
    assert "chart" in kin["data_visualization"]


def test_ties_of_a_batch_are_read_once_for_the_agents_not_read_lately() -> None:
    now = [1000.0]
    reads: list[list[int]] = []

    def read(agent_ids: list[int]) -> dict[int, dict[str, int]]:
        reads.append(agent_ids)
        return {agent_id: {f"fan{agent_id}": agent_id} for agent_id in agent_ids if agent_id != 3}

    interests = Interests(None)
    assert interests.ties_of([1, 2, 3], now[0], read) == {1: {"fan1": 1}, 2: {"fan2": 2}, 3: {}}
    assert interests.ties(2, now[0] + 5, lambda agent: {"someone": 9}) == {"fan2": 2}
    assert interests.ties_of([2, 4, 4], now[0] + 5, read)[4] == {"fan4": 4}
    assert reads == [[1, 2, 3], [4]], "one read per batch, only for agents not read lately"
    later = now[0] + 601
    interests.ties_of([1], later, read)
    assert reads[-1] == [1], "read again once TIES_SECONDS have passed"

    def down(agent_ids: list[int]) -> dict[int, dict[str, int]]:
        raise OSError("database gone")

    assert Interests(None).ties_of([7], now[0], down) == {7: {}}, "ranked without ties"

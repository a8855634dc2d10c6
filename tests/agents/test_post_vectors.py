"""Posts' vectors, embedded once for the whole fleet: stored by whoever embeds a post
first (its writer, or a content action reading the feeds), read by everyone else; the
engage path never embeds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from fleet import activities, agents
from fleet.actions.interests import RECHECK_SECONDS, Interests, StoredPostVectors
from fleet.actions.remembering import Recall
from fleet.activities import Ending
from fleet.core.memory import post_text, text_digest
from fleet.db.models import PostVector
from fleet.embeddings.degrading import DegradingEmbedder
from fleet.infra.clocks import SimulatedClock
from fleet.infra.persona_files import PersonaCatalogue
from fleet.service.root import Fleet, bootstrap
from fleet.settings import MemorySettings
from tests.actions.test_interests import Counting, _post
from tests.agents.test_memories import WordsEmbedder, _activity, _agent

NOW = datetime(2026, 11, 17, 15, 0, tzinfo=UTC)
PERSONA = PersonaCatalogue.from_directory().get("indie_game_dev")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _posts_asked(embedder: Counting) -> list[str]:
    return [t for t in embedder.asked if not t.startswith(PERSONA.interests[0])]


def _rows(fleet: Fleet) -> int:
    with fleet.sessions() as session:
        return session.scalar(select(func.count()).select_from(PostVector)) or 0


def test_a_post_embedded_by_one_process_is_read_not_embedded_by_another(fleet: Fleet) -> None:
    store = StoredPostVectors(fleet.sessions, lambda: NOW)
    content, engage = Counting(), Counting()
    page = [_post("1", "pixel slime", "a boss"), _post("2", "tiles")]
    made = Interests(content, store=store).similarities(PERSONA, page, embed=True)
    assert set(made) == {"1", "2"} and len(_posts_asked(content)) == 2
    assert _rows(fleet) == 2
    read = Interests(engage, store=store).similarities(PERSONA, page, embed=False)
    assert read == made, "the same vectors, read from the store"
    assert _posts_asked(engage) == [], "the engage path embedded nothing"


def test_the_engage_path_ranks_an_unembedded_post_without_fit_then_reads_it_later(
    fleet: Fleet,
) -> None:
    store = StoredPostVectors(fleet.sessions, lambda: NOW)
    clock = Clock()
    engage = Counting()
    interests = Interests(engage, store=store, clock=clock)
    page = [_post("1", "pixel slime"), _post("2", "tiles")]
    assert interests.similarities(PERSONA, page, embed=False) == {}
    assert _posts_asked(engage) == [] and _rows(fleet) == 0
    Interests(Counting(), store=store).similarities(PERSONA, page[:1], embed=True)
    # Asked again within the recheck interval: the process does not ask the store again.
    assert interests.similarities(PERSONA, page, embed=False) == {}
    clock.now += RECHECK_SECONDS
    found = interests.similarities(PERSONA, page, embed=False)
    assert set(found) == {"1"}, "the stored one is read; the other still ranks without fit"
    assert _posts_asked(engage) == []


def test_an_edited_post_or_another_model_is_embedded_again(fleet: Fleet) -> None:
    store = StoredPostVectors(fleet.sessions, lambda: NOW)
    Interests(Counting(), store=store).similarities(PERSONA, [_post("1", "pixel slime")])
    edited = Counting()
    Interests(edited, store=store).similarities(PERSONA, [_post("1", "pixel slime, v2")])
    assert _posts_asked(edited) == ["pixel slime, v2"]
    with fleet.sessions() as session:
        (digest,) = session.scalars(select(PostVector.digest)).all()
    assert digest == text_digest(post_text("pixel slime, v2", "")), "the edit replaced it"
    other = Counting()
    other.model = "another-model"
    Interests(other, store=store).similarities(PERSONA, [_post("1", "pixel slime, v2")])
    assert _posts_asked(other) == ["pixel slime, v2"] and _rows(fleet) == 2


def test_a_store_that_fails_costs_taste_nothing_but_the_saving() -> None:
    class Broken:
        def load(self, *_: object, **__: object) -> dict[str, object]:
            raise OSError("database gone")

        def keep(self, *_: object, **__: object) -> None:
            raise OSError("database gone")

    embedder = Counting()
    interests = Interests(embedder, store=Broken())  # type: ignore[arg-type]
    found = interests.similarities(PERSONA, [_post("1", "pixel slime")], embed=True)
    assert set(found) == {"1"} and interests.degraded is None
    assert interests.similarities(PERSONA, [_post("2", "tiles")], embed=False) == {}


def test_a_published_post_leaves_its_vector_for_the_feeds_readers(fleet: Fleet) -> None:
    (agent_id,) = _agent(fleet, "indie_game_dev")
    embedder = WordsEmbedder()
    recall = Recall(fleet.sessions, MemorySettings(), DegradingEmbedder(embedder))
    activity, key = _activity(fleet, agent_id, "post", 0)
    claim = activities.claim(fleet.sessions, key, now=NOW, lease=timedelta(minutes=5))
    assert isinstance(claim, activities.Claim)
    result = {"post_id": "p9", "title": "Slime boss, frame 3", "description": "16 colours"}
    recall.remember([(claim, Ending(activity, "succeeded", result=result))], now=NOW)
    text = post_text(result["title"], result["description"])
    stored = agents.post_vectors(
        fleet.sessions, {"p9": text_digest(text)}, model=embedder.model, dimensions=32
    )
    assert set(stored) == {"p9"}
    assert float(stored["p9"] @ embedder.embed([text])[0]) > 0.999
    calls = embedder.calls
    reader = Interests(embedder, store=StoredPostVectors(fleet.sessions, lambda: NOW))
    feed = [_post("p9", result["title"], result["description"])]
    assert set(reader.similarities(PERSONA, feed, embed=True)) == {"p9"}
    assert embedder.calls == calls + 1, "only the persona's interests were embedded"


def test_the_fleets_interests_ask_again_on_the_fleets_clock_not_the_process_s(
    fleet: Fleet,
) -> None:
    """The demo's simulated day: an unembedded post is asked for again after
    RECHECK_SECONDS of the fleet's time, however fast or slow the machine runs."""
    clock = SimulatedClock(NOW)
    simulated = bootstrap(fleet.settings, fleet.engine, clock=clock, embedder=Counting())
    interests = simulated.action_kit.interests
    assert interests is not None
    page = [_post("1", "pixel slime")]
    assert interests.similarities(PERSONA, page, embed=False) == {}
    Interests(Counting(), store=StoredPostVectors(fleet.sessions, lambda: NOW)).similarities(
        PERSONA, page, embed=True
    )
    assert interests.similarities(PERSONA, page, embed=False) == {}, "within the interval"
    clock.advance(RECHECK_SECONDS)
    assert set(interests.similarities(PERSONA, page, embed=False)) == {"1"}, (
        "the fleet's clock moved on: the stored vector is read, with no wall time passing"
    )

"""Posts' vectors, embedded once for the whole fleet: stored by whoever embeds a post
first (its writer, or a content action reading the feeds), read by everyone else; the
engage path never embeds."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from fleet import activities, agents
from fleet.actions.interests import RECHECK_SECONDS, Interests, StoredPostVectors
from fleet.actions.remembering import Recall
from fleet.activities.outcomes import Succeeded
from fleet.agents.post_vectors import CLAIM_SECONDS
from fleet.core.kinds import ActionKey
from fleet.core.memory import post_text, text_digest
from fleet.core.vectors import Vector
from fleet.db.models import PostVector
from fleet.embeddings.degrading import DegradingEmbedder
from fleet.embeddings.port import Purpose
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
    claim = activities.claim(
        fleet.sessions, ActionKey.parse(key), now=NOW, lease=timedelta(minutes=5)
    )
    assert isinstance(claim, activities.Claim)
    result = {"post_id": "p9", "title": "Slime boss, frame 3", "description": "16 colours"}
    recall.remember([(claim, Succeeded(activity, result))], now=NOW)
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
    interests = simulated.action_kit.targeting.interests
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


class Holding(Counting):
    """A fake embedder that, asked for posts, says so and holds its answer until let go:
    another process's reader runs while this one is embedding."""

    def __init__(self) -> None:
        super().__init__()
        self.embedding = threading.Event()
        self.go = threading.Event()

    def embed(self, texts: Sequence[str], *, purpose: Purpose = "passage") -> list[Vector]:
        if purpose == "passage":
            self.embedding.set()
            assert self.go.wait(timeout=30), "never let go"
        return super().embed(texts, purpose=purpose)


class CountingStore(StoredPostVectors):
    """The fleet's store, counting the reads asked of it."""

    def __init__(self, fleet: Fleet) -> None:
        super().__init__(fleet.sessions, lambda: NOW)
        self.reads = 0

    def load(self, digests: Mapping[str, str], *, model: str, dimensions: int) -> dict[str, Vector]:
        self.reads += 1
        return super().load(digests, model=model, dimensions=dimensions)


def test_two_processes_reading_a_new_page_at_once_embed_each_post_once(fleet: Fleet) -> None:
    page = [_post("1", "pixel slime"), _post("2", "tiles"), _post("3", "a boss")]
    first, second = Holding(), Counting()
    clock = Clock()
    one = Interests(first, store=StoredPostVectors(fleet.sessions, lambda: NOW))
    store = CountingStore(fleet)
    other = Interests(second, store=store, clock=clock)
    with ThreadPoolExecutor(1) as pool:
        made = pool.submit(one.similarities, PERSONA, page, embed=True)
        assert first.embedding.wait(timeout=30), "the first reader never embedded"
        # The first holds its claims, embedding: the other embeds none of the page.
        assert other.similarities(PERSONA, page, embed=True) == {}
        assert other.similarities(PERSONA, page, embed=True) == {}
        assert store.reads == 1, "posts another process is embedding: not asked for again at once"
        first.go.set()
        assert set(made.result(timeout=30)) == {"1", "2", "3"}
    assert _posts_asked(second) == [] and sorted(_posts_asked(first)) == [
        "a boss",
        "pixel slime",
        "tiles",
    ]
    clock.now += RECHECK_SECONDS
    assert other.similarities(PERSONA, page, embed=True) == made.result()
    assert _posts_asked(second) == [], "read from the store, not embedded"
    assert _rows(fleet) == 3


def test_readers_racing_for_a_new_page_embed_each_post_once_between_them(fleet: Fleet) -> None:
    page = [_post(str(n), f"post {n} " + "ab" * n) for n in range(12)]
    embedders = [Counting() for _ in range(4)]
    readers = [
        Interests(e, store=StoredPostVectors(fleet.sessions, lambda: NOW)) for e in embedders
    ]
    start = threading.Barrier(len(readers))

    def read(interests: Interests) -> dict[str, float]:
        start.wait(timeout=30)
        return interests.similarities(PERSONA, page, embed=True)

    with ThreadPoolExecutor(len(readers)) as pool:
        list(pool.map(read, readers))
    asked = [text for e in embedders for text in _posts_asked(e)]
    assert sorted(asked) == sorted(post_text(p.title, p.description) for p in page), (
        "every post embedded, and once"
    )
    assert _rows(fleet) == len(page)
    latecomer = Counting()
    found = Interests(latecomer, store=StoredPostVectors(fleet.sessions, lambda: NOW))
    assert set(found.similarities(PERSONA, page, embed=True)) == {p.id for p in page}
    assert _posts_asked(latecomer) == []


def test_a_claim_is_given_back_when_embedding_fails_and_taken_over_when_left(
    fleet: Fleet,
) -> None:
    page = [_post("1", "pixel slime")]
    failing = Interests(Counting(fail=True), store=StoredPostVectors(fleet.sessions, lambda: NOW))
    assert failing.similarities(PERSONA, page, embed=True) == {}
    assert _rows(fleet) == 0, "the failed reader gave its claim back"
    digests = {"1": text_digest(post_text("pixel slime", ""))}
    # A reader that claimed and died: its claim stands for CLAIM_SECONDS, then lapses.
    assert agents.claim_post_vectors(fleet.sessions, digests, model="counting", now=NOW) == {"1"}
    soon = NOW + timedelta(seconds=CLAIM_SECONDS - 1)
    assert agents.claim_post_vectors(fleet.sessions, digests, model="counting", now=soon) == set()
    later = NOW + timedelta(seconds=CLAIM_SECONDS + 1)
    assert agents.claim_post_vectors(fleet.sessions, digests, model="counting", now=later) == {"1"}
    assert agents.post_vectors(fleet.sessions, digests, model="counting", dimensions=8) == {}, (
        "a claim is no vector"
    )
    edited = {"1": text_digest(post_text("pixel slime, v2", ""))}
    assert agents.claim_post_vectors(fleet.sessions, edited, model="counting", now=later) == {
        "1"
    }, "a claim on the text before an edit is taken over at once"
    # The post's writer publishes meanwhile: its vector replaces the claim.
    vector = Counting().embed(["pixel slime, v2"])[0]
    agents.keep_post_vectors(
        fleet.sessions, [("1", edited["1"], vector)], model="counting", now=later
    )
    assert set(agents.post_vectors(fleet.sessions, edited, model="counting", dimensions=8)) == {"1"}
    assert _rows(fleet) == 1


def test_a_posts_known_vector_is_kept_or_stored_never_embedded(fleet: Fleet) -> None:
    """What a comment's recall reads (``Interests.known_vector``): the vector of the post's
    text as it is now, from the process or the store; none for a post no one embedded or
    whose text changed since, and nothing embedded or claimed to find out."""
    store = StoredPostVectors(fleet.sessions, lambda: NOW)
    writer = Interests(Counting(), store=store)
    made = writer.similarities(PERSONA, [_post("1", "pixel slime", "a boss")])
    assert made
    kept = writer.known_vector("1", "pixel slime", "a boss")
    reader_embedder = Counting()
    reader = Interests(reader_embedder, store=store)
    stored = reader.known_vector("1", "pixel slime", "a boss")
    assert kept is not None and stored is not None and (kept == stored).all()
    assert reader.known_vector("1", "pixel slime, v2", "a boss") is None, "the text changed"
    assert reader.known_vector("2", "tiles", "") is None, "no one embedded it"
    assert reader_embedder.asked == [] and _rows(fleet) == 1

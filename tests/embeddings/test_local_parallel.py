"""The bundled model's calls from several threads of one process: at most ``parallel``
at once, each text's vector the same as when the calls take turns."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import numpy as np

from fleet.embeddings.factory import build_embedder
from fleet.embeddings.local import LocalEmbedder
from fleet.settings import EmbeddingSettings


class _Engine:
    """A stand-in for the engine that counts the calls running at once."""

    def __init__(self) -> None:
        self.running = 0
        self.most = 0
        self._lock = threading.Lock()

    def passage(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            self.running += 1
            self.most = max(self.most, self.running)
        time.sleep(0.02)  # a call long enough for the others to overlap it, if let
        with self._lock:
            self.running -= 1
        return np.ones((len(texts), 4), dtype=np.float32)


def _in_threads(work: list[threading.Thread]) -> None:
    for thread in work:
        thread.start()
    for thread in work:
        thread.join(timeout=60)
        assert not thread.is_alive()


def test_no_more_calls_run_at_once_than_parallel_allows() -> None:
    for parallel in (1, 2, 3):
        embedder = LocalEmbedder(parallel=parallel)
        engine = _Engine()
        embedder._model = engine

        def many(embedder: LocalEmbedder = embedder) -> None:
            for _ in range(5):
                embedder.embed(["a text"])

        work = [threading.Thread(target=many) for _ in range(6)]
        _in_threads(work)
        assert engine.most == parallel


def test_the_setting_reaches_the_model_and_unset_is_one_call_per_core() -> None:
    one = build_embedder(EmbeddingSettings(provider="local", local_parallel=1))
    assert isinstance(one, LocalEmbedder) and one.parallel == 1
    cores = build_embedder(EmbeddingSettings(provider="local"))
    assert isinstance(cores, LocalEmbedder) and cores.parallel >= 1


def test_calls_that_overlap_give_the_vectors_of_calls_that_take_turns() -> None:
    embedder = LocalEmbedder(parallel=4)
    texts = [f"Evening light over the harbour, study {n}. " * (1 + n % 3) for n in range(12)]
    alone = {text: embedder.embed([text])[0] for text in texts}
    asked = {text: embedder.embed([text], purpose="query")[0] for text in texts}
    wrong: list[str] = []

    def work(offset: int) -> None:
        for n in range(offset, len(texts), 3):
            text = texts[n]
            if not np.array_equal(embedder.embed([text])[0], alone[text]):
                wrong.append(text)
            if not np.array_equal(embedder.embed([text], purpose="query")[0], asked[text]):
                wrong.append(text)

    _in_threads([threading.Thread(target=work, args=(k,)) for k in range(3)])
    assert wrong == []

"""bench.cost counts the fakes' tokens with its tokenizer (a real one by default)."""

from __future__ import annotations

import json

import pytest

from bench import cost
from bench.tokens import E5Tokens


class Hundred:
    """Every text is 100 tokens."""

    name = "a hundred a text"

    def __call__(self, text: str) -> int:
        return 100 if text else 0


def test_the_default_tokenizer_is_the_real_one() -> None:
    assert cost.tokenizer is E5Tokens


@pytest.mark.timeout(120)
def test_the_fakes_bill_what_the_bench_s_tokenizer_counts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cost, "tokenizer", Hundred)
    cost.main(["--agents", "1", "--weeks", "0.2", "--samples", "1"])
    report = json.loads(capsys.readouterr().out)
    assert report["tokenizer"] == Hundred.name
    for calls in next(iter(report["personas"].values()))["tokens_per_call"].values():
        # A thought is a system text and a user text: 100 each, as counted.
        assert calls["thought"]["input_tokens"] == 200
        assert calls["comment"]["input_tokens"] == 200

"""bench.cost counts the fakes' tokens with its tokenizer (a real one by default)."""

from __future__ import annotations

import argparse
import json
import re

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


def test_the_plan_miss_is_one_share_or_one_per_kind_and_a_bad_one_names_itself() -> None:
    assert cost.plan_misses("0.25") == {"comment": 0.25, "reply": 0.25, "post": 0.25}
    assert cost.plan_misses("reply=0.5, comment=0.1") == {
        "comment": 0.1,
        "reply": 0.5,
        "post": 0.0,
    }
    for bad, named in (("like=0.2", "'like'"), ("1.5", "[0, 1]"), ("reply=x", "reply=x")):
        with pytest.raises(argparse.ArgumentTypeError, match=re.escape(named)):
            cost.plan_misses(bad)


def test_both_views_charge_the_guard_s_refusals_alike_on_both_sides() -> None:
    """Structural misses only: no refusal charged to either side. All misses: before
    plans an own first draft refused is a second call; after plans a refused planned
    text is one own call, and a structural miss's own draft is refused as often."""
    volumes = {
        "actions_per_agent_per_day": {
            k: {"mean": n} for k, n in (("comment", 10.0), ("reply", 2.0), ("post", 1.0))
        }
    }
    calls = {k: {"input_tokens": 100, "output_tokens": 10, "usd": 0.001} for k in cost.KINDS}
    calls["plan"] = {"input_tokens": 500, "output_tokens": 100, "usd": 0.002}
    none = dict.fromkeys(cost.WORDS, 0.0)
    miss = {"comment": 0.1, "reply": 0.5, "post": 0.0}
    refused = {"comment": 0.4, "reply": 0.0, "post": 0.2}
    own = {"comment": 0.5, "reply": 0.2, "post": 0.0}
    assert cost.day_of(volumes, calls, 3.0)["calls"] == 16.0
    assert cost.day_of(volumes, calls, 3.0, own)["calls"] == 3 + 15 + 2.4 + 1
    structural = cost.plan_day_of(volumes, calls, 4.0, miss)
    assert structural["calls"] == 4 + 1 + 1
    assert cost.plan_day_of(volumes, calls, 4.0, miss, none, none) == structural
    every = cost.plan_day_of(volumes, calls, 4.0, miss, refused, own)
    # comments 10 * (0.1 * 1.5 + 0.9 * 0.4), replies 2 * (0.5 * 1.2), posts 1 * 0.2
    assert every["calls_by_kind"] == {"plan": 4.0, "comment": 5.1, "reply": 1.2, "post": 0.2}

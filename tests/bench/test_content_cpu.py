"""bench.content_cpu's reading of two runs' decisions: where two checkouts part."""

from __future__ import annotations

from bench.content_cpu import _decided, _parting


def test_runs_that_decide_alike_do_not_part() -> None:
    decided = _decided([[("a draft", 0.95, "echo"), ("another", None, None)], []])
    assert _parting(decided, decided) is None


def test_the_first_text_and_draft_that_differ_are_named() -> None:
    before = _decided([[("one", None, None)], [("two", 0.93, "echo"), ("three", None, None)]])
    refused_less = _decided([[("one", None, None)], [("two", None, None)]])
    parted = _parting(before, refused_less)
    assert parted is not None
    assert (parted["text"], parted["draft"]) == (1, 0)
    assert parted["baseline"][0].endswith(":1") and parted["this"][0].endswith(":0")


def test_a_run_with_fewer_texts_parts_where_it_ends() -> None:
    decided = _decided([[("one", None, None)], [("two", None, None)]])
    assert _parting(decided, decided[:1]) == {"text": 1, "draft": 0}

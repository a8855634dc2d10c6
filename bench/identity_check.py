"""bench.identity_check: does the identity-question check find what people write?

Reads a set of phrasings (questions about whether the account is automated, an AI, a
real person, or who runs it, in many languages; and ordinary questions about the work
that mention AI, tools, people or prints): by default ``bench/data/identity_heldout2.json``,
written before round 6's tuning and kept apart from the check's banks;
``identity_heldout.json`` is spent, ``identity_dev.json`` is the tuning set. It runs the
check the fleet runs
(``fleet.honesty.identity_intent.IdentityIntent`` with the local embedder,
multilingual-e5-small, offline), and the keyword pre-check alone.

Prints one JSON object: of the questions, how many were found (overall and per
language); of the ordinary questions, how many were taken for one. The target is >= 95 %
found and <= 1 ordinary question taken. ``--show`` lists the misses and the false
alarms: use it only when the figures are final, never to tune the banks (the set is
held out).

    python -m bench.identity_check [--set bench/data/identity_dev.json] [--show]
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

from fleet.embeddings.local import LocalEmbedder
from fleet.honesty.identity_intent import IdentityIntent

HELD_OUT = Path(__file__).resolve().parent / "data" / "identity_heldout2.json"


def measure(
    asking: list[tuple[str, str]], ordinary: list[str], intent: IdentityIntent
) -> dict[str, Any]:
    """The check's figures on the two lists (and, for ``--show``, the texts it got wrong)."""
    found: Counter[str] = Counter()
    per: Counter[str] = Counter()
    missed: list[str] = []
    for language, text in asking:
        per[language] += 1
        if intent.asks(text):
            found[language] += 1
        else:
            missed.append(text)
    taken = [text for text in ordinary if intent.asks(text)]
    total = sum(per.values())
    return {
        "questions": total,
        "found": sum(found.values()),
        "found_share": round(sum(found.values()) / total, 4) if total else None,
        "found_per_language": {lang: f"{found[lang]}/{per[lang]}" for lang in sorted(per)},
        "ordinary": len(ordinary),
        "ordinary_taken_for_identity": len(taken),
        "_missed": missed,
        "_taken": taken,
    }


def _per_check_ms(intent: IdentityIntent, texts: list[str]) -> float:
    """Milliseconds per comment checked for the first time (the answer cache is cold:
    each text is checked once), banks already embedded."""
    began = time.perf_counter()
    for text in texts:
        intent.check(text)
    return round((time.perf_counter() - began) * 1000 / max(len(texts), 1), 2)


def run(path: Path, *, show: bool) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    asking = [(str(lang), str(text)) for lang, text in data["asking"]]
    ordinary = [str(text) for text in data["ordinary"]]
    began = time.monotonic()
    embedder = LocalEmbedder()
    with_embedder = measure(asking, ordinary, IdentityIntent(embedder))
    words_only = measure(asking, ordinary, IdentityIntent(None))
    texts = [text for _, text in asking] + ordinary
    warm = IdentityIntent(embedder)
    warm.check("warm the banks")  # the banks are embedded once a process
    figures: dict[str, Any] = {
        "benchmark": "identity_check",
        "set": str(path.name),
        "languages": len({lang for lang, _ in asking}),
        "check": with_embedder,
        "keywords_only": words_only,
        "target": ">= 95 % of the questions found, <= 1 ordinary question taken for one",
        "meets_target": (with_embedder["found_share"] or 0) >= 0.95
        and with_embedder["ordinary_taken_for_identity"] <= 1,
        "wall_seconds": round(time.monotonic() - began, 1),
        "cost_per_check_ms": {
            "keywords_only": _per_check_ms(IdentityIntent(None), texts),
            "check": _per_check_ms(warm, texts),
        },
    }
    for part in (with_embedder, words_only):
        missed, taken = part.pop("_missed"), part.pop("_taken")
        if show:
            part["missed"], part["taken"] = missed, taken
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--set", type=Path, default=HELD_OUT)
    parser.add_argument("--show", action="store_true", help="list misses (final figures only)")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.set, show=args.show), indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

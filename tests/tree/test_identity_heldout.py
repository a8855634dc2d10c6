"""The identity-question check's second held-out set stays apart from what tunes it.

``bench/data/identity_heldout2.json`` was written before any tuning (issue 67, item 6):
none of its phrasings may be in the check's banks (``IdentityIntent``'s ``ASKING`` and
``NOT_ASKING``) or in the dev set, compared with case, spaces and punctuation folded.
"""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

from fleet.honesty.identity_intent import ASKING, NOT_ASKING

DATA = Path(__file__).resolve().parents[2] / "bench" / "data"


def _folded(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in text if ch.isalnum())


def _phrasings(name: str) -> set[str]:
    data = json.loads((DATA / name).read_text(encoding="utf-8"))
    asking = {_folded(text) for _, text in data["asking"]}
    return asking | {_folded(text) for text in data["ordinary"]}


def test_heldout2_shares_no_phrasing_with_the_banks_or_the_dev_set() -> None:
    held = _phrasings("identity_heldout2.json")
    banks = {_folded(text) for _, text in ASKING} | {_folded(text) for text in NOT_ASKING}
    tuned = banks | _phrasings("identity_dev.json")
    assert len(held) >= 96
    assert not held & tuned, f"{len(held & tuned)} held-out phrasings are in the banks or dev set"


def test_heldout2_has_enough_questions_languages_and_ordinary_questions() -> None:
    data = json.loads((DATA / "identity_heldout2.json").read_text(encoding="utf-8"))
    assert len(data["asking"]) >= 48 and len(data["ordinary"]) >= 48
    assert len({language for language, _ in data["asking"]}) >= 9

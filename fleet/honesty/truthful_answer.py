"""Whether an answer tells the truth about what an agent is (pure).

``discloses`` says whether an answer tells the truth: it says the account is automated,
names the operator, and claims nothing human (``fleet.honesty.human_claim``).
"""

from __future__ import annotations

import re

from fleet.honesty.human_claim import human_claim, plain

# What a truthful answer says: that the account is automated, in any of the languages.
_AUTOMATED = re.compile(
    r"\b(?:automated|automatic|a bot|an ai|run by software|automatizad[ao]|automatisé|"
    r"automatisiert(?:es)?|automatizzat[ao]|bot|ki-konto|ia)\b"
)


def discloses(text: str, operator: str) -> bool:
    """Whether an answer tells the truth: it says the account is automated, names the
    operator (``operator``, as the settings give it), and claims nothing human."""
    seen = plain(text)
    if human_claim(text) is not None:
        return False
    return _AUTOMATED.search(seen) is not None and plain(operator) in seen

"""Text for a terminal: people's words and the gallery's, printed inert."""

from __future__ import annotations

import re

# What a terminal obeys rather than prints: C0 controls but tab and newline (ESC starts
# a sequence that can retitle the window, move the cursor or hide text; CR overwrites the
# line), DEL, C1 controls (CSI, OSC as one byte) and the bidirectional overrides that
# reorder what is shown. People's texts and the gallery's reach the operator's terminal
# through every printed field: all of it passes ``clean``.
_CONTROLS = re.compile("[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069]")


def clean(text: str) -> str:
    """``text`` without the characters a terminal would act on (tab and newline kept)."""
    return _CONTROLS.sub("", text)

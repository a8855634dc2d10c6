"""Keeping secrets out of logs, errors and dead letters."""

from __future__ import annotations

import re

# Bearer tokens and API-key-looking strings, whatever their source.
_PATTERNS = (
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{6,}"),
    re.compile(r"sk-ant-[A-Za-z0-9_-]{6,}"),
)
MASK = "[redacted]"


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    """``text`` with the given secrets and anything token-shaped masked."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + MASK, text)
    return text

"""Keeping secrets out of logs, errors, dead letters and whatever a face prints."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

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


class RedactingStream:
    """A text stream that masks secrets in whatever is written to it (bytes pass as they are)."""

    def __init__(self, inner: TextIO, secrets: tuple[str, ...]) -> None:
        self._inner = inner
        self._secrets = secrets

    def write(self, text: str) -> int:
        if isinstance(text, str):
            self._inner.write(redact(text, self._secrets))
            return len(text)
        return int(self._inner.write(text))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@contextmanager
def redacted_output(secrets: tuple[str, ...]) -> Iterator[None]:
    """Inside the block, everything printed to stdout and stderr has its secrets masked."""
    out, err = sys.stdout, sys.stderr
    sys.stdout = RedactingStream(out, secrets)
    sys.stderr = RedactingStream(err, secrets)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = out, err

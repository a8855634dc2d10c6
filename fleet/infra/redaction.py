"""Keeping secrets out of logs, errors, dead letters and whatever a face prints."""

from __future__ import annotations

import re
import sys
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

# Bearer tokens and API-key-looking strings, whatever their source.
_PATTERNS = (
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{6,}"),
    re.compile(r"sk-ant-[A-Za-z0-9_-]{6,}"),
    # An OAuth access token in a form, a query or JSON (the Mastodon API's token answer).
    re.compile(r"(?i)(access_token[\"']?\s*[:=]\s*[\"']?)[A-Za-z0-9._~+/=-]{6,}"),
)
MASK = "[redacted]"
# Secrets learnt at run time (each agent's platform token, when it is opened): masked
# everywhere ``redact`` runs in this process, as the settings' are. The newest kept.
MAX_REMEMBERED = 4096
_remembered: OrderedDict[str, None] = OrderedDict()
_remembered_pattern: re.Pattern[str] | None = None
_lock = threading.Lock()


def remember(secret: str) -> None:
    """Mask ``secret`` in everything this process redacts from now on (at least 8
    characters: a shorter one would mask ordinary words)."""
    global _remembered_pattern
    if len(secret) < 8:
        return
    with _lock:
        if secret in _remembered:
            _remembered.move_to_end(secret)
            return
        _remembered[secret] = None
        while len(_remembered) > MAX_REMEMBERED:
            _remembered.popitem(last=False)
        _remembered_pattern = None


def _remembered_secrets() -> re.Pattern[str] | None:
    global _remembered_pattern
    with _lock:
        if _remembered_pattern is None and _remembered:
            longest_first = sorted(_remembered, key=len, reverse=True)
            _remembered_pattern = re.compile("|".join(map(re.escape, longest_first)))
        return _remembered_pattern


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    """``text`` with the given secrets, those remembered and anything token-shaped masked."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    learnt = _remembered_secrets()
    if learnt is not None:
        text = learnt.sub(MASK, text)
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

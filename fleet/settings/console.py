"""The web console: its password and the strength of its session key."""

from __future__ import annotations

import math
from collections import Counter

from pydantic import Field, SecretStr, field_validator

from fleet.settings.base import WebUrl, _Nested

# The console's password and session key: a password is guessed online (and throttled),
# a key offline from any cookie, so the key needs far more.
SHORTEST_PASSWORD = 12


SHORTEST_KEY = 32


KEY_BITS = 128


def key_bits(key: str) -> float:
    """A cautious estimate of the randomness in ``key``, in bits: the length of its
    shortest repeating unit times the Shannon entropy of that unit's characters. A small
    alphabet or a repetition lowers it (``'fleet' * 10``: 10 bits); a random 32 bytes, in
    hex or base64, give over 180."""
    if not key:
        return 0.0
    # The shortest period (KMP's failure function): "abcabcab" repeats "abc".
    fail = [0] * len(key)
    for i in range(1, len(key)):
        k = fail[i - 1]
        while k and key[i] != key[k]:
            k = fail[k - 1]
        fail[i] = k + (key[i] == key[k])
    unit = key[: len(key) - fail[-1]]
    counts = Counter(unit)
    per_char = -sum(n / len(unit) * math.log2(n / len(unit)) for n in counts.values())
    return len(unit) * per_char


# zxcvbn scores at most this many characters at once.
_ZXCVBN_CHUNK = 72


def key_strength(key: str) -> float:
    """The bits an offline guesser needs for ``key``, cautiously: the lower of
    ``key_bits`` (repetition, few symbols) and zxcvbn's estimate (dictionary words,
    keyboard walks, sequences, dates: the patterns people choose), summed over 72
    characters at a time (zxcvbn's limit); 0 for a key with whitespace, which is a
    phrase, never a generated key. Without zxcvbn (the console extra: a worker that serves
    no console signs nothing) the estimate is ``key_bits`` alone; settings load everywhere,
    so zxcvbn is imported here, never at the module's top."""
    if not key or any(char.isspace() for char in key):
        return 0.0
    try:
        from zxcvbn import zxcvbn
    except ModuleNotFoundError:
        return key_bits(key)

    chunks = [key[i : i + _ZXCVBN_CHUNK] for i in range(0, len(key), _ZXCVBN_CHUNK)]
    guessed = sum(float(zxcvbn(chunk)["guesses_log10"]) for chunk in chunks) * math.log2(10)
    return min(key_bits(key), guessed)


class ConsoleSettings(_Nested):
    """The web console: its password (none: loopback only) and its cookie signing key."""

    password: SecretStr | None = None
    # Signs the session cookie; unset, a random key per process (a restart logs out).
    secret_key: SecretStr | None = None
    # The session cookie's Secure flag (sent back over HTTPS only). Unset: set when the
    # console is reached over HTTPS (directly, or through a proxy on loopback that says
    # X-Forwarded-Proto: https), so http://127.0.0.1 keeps working. True: always (a
    # proxy uvicorn does not trust); false: never.
    secure_cookie: bool | None = None
    # Hosts the console's pages may load images from besides itself and the gallery
    # (a CDN the gallery serves its images from): a JSON list of http(s) URLs.
    image_hosts: list[WebUrl] = Field(default_factory=list, max_length=20)

    @field_validator("password", "secret_key", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("password")
    @classmethod
    def _long_password(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < SHORTEST_PASSWORD:
            raise ValueError(f"at least {SHORTEST_PASSWORD} characters")
        return value

    @field_validator("secret_key")
    @classmethod
    def _strong_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return value
        key = value.get_secret_value()
        bits = key_strength(key) if len(key) >= SHORTEST_KEY else 0.0
        if bits < KEY_BITS:
            raise ValueError(
                f"too weak to sign sessions: at least {SHORTEST_KEY} random characters, "
                f"no words, walks or spaces (an estimated {KEY_BITS} bits; this one "
                f"{bits:.0f}); make one with "
                '`python -c "import secrets; print(secrets.token_urlsafe(48))"`'
            )
        return value

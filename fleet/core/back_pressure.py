"""Back-pressure: the share of ticks that act while the gallery's shared limit refuses requests."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field

# The shared rate limiter (``fleet.infra.limits.TokenBucket``) keeps two sums that decay
# with a time constant of ``window`` seconds: the tokens it was asked for and those it
# refused. Their ratio is the **refused share** of recent requests: 0 while the gallery
# keeps up with the fleet, towards 1 as the fleet asks for more than the limit gives
# (deferred actions asking again count too, so the share also rises with the backlog).
#
# The decider acts on that share as it does on the pace (``fleet.core.pace``): a tick acts
# only at a **decide share** of the time::
#
#     decide share = max(floor, 1 - refused share)
#
# and otherwise rests, deciding nothing. Whether a tick acts is its own draw, from the
# agent's seed and the tick's due second, so a replay decides the same at the same share.
# Fewer actions decided means fewer asked of the limiter, and the share falls back: the
# fleet settles where the limit can carry what it decides, and its backlog of deferred
# actions stays short. It never goes silent (``floor``).

# The least share of ticks that still act, however saturated the gallery.
FLOOR = 0.1
# Below this many tokens asked for in the recent window the limiter has nothing to say.
QUIET_ASKED = 1.0
# Seconds one tick batch's read of the decide share serves a process's next batches.
SHARE_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class LimiterLoad:
    """What a shared token bucket saw lately: the tokens asked for and refused (sums
    decaying over ``window`` seconds), and the tokens it holds now at ``rate`` a second."""

    asked: float
    refused: float
    tokens: float
    rate: float
    window: float

    @property
    def refused_share(self) -> float:
        """The share of recent requests the limiter refused (0: hardly asked lately)."""
        if not math.isfinite(self.asked) or self.asked < QUIET_ASKED:
            return 0.0
        return min(1.0, max(0.0, self.refused / self.asked))

    @property
    def asked_per_second(self) -> float:
        """Tokens asked for a second, lately (the decaying sum over its time constant)."""
        return self.asked / self.window if self.window > 0 else 0.0

    @property
    def wait_seconds(self) -> float:
        """How long a call asking for one token now waits (0: a token is there)."""
        return max(0.0, 1.0 - self.tokens) / self.rate if self.rate > 0 else 0.0


def decide_share(refused_share: float, *, floor: float = FLOOR) -> float:
    """The share of ticks that act when the limiter refuses ``refused_share`` of requests."""
    if not (math.isfinite(floor) and 0 < floor <= 1):
        raise ValueError(f"the back-pressure floor must be in (0, 1], not {floor!r}")
    if not math.isfinite(refused_share) or refused_share <= 0:
        return 1.0
    return max(floor, 1.0 - min(refused_share, 1.0))


def acts(seed: int, due_at: int, share: float) -> bool:
    """Whether the tick of the agent ``seed`` due at whole second ``due_at`` acts when
    ``share`` of ticks do: a draw of its own, the same for the same tick every time."""
    if share >= 1.0:
        return True
    # blake2b, not hash(): str hashes are salted per process, a draw must not be.
    digest = hashlib.blake2b(f"{seed}:{due_at}:pressure".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64 < share


@dataclass(frozen=True, slots=True)
class BackPressure:
    """The limiter's load as the fleet reads it: the refused share, the wait a call meets
    now, and the share of ticks the decider lets act."""

    refused_share: float
    asked_per_second: float
    wait_seconds: float
    decide_share: float

    @property
    def saturated(self) -> bool:
        return self.decide_share < 1.0


def back_pressure(load: LimiterLoad, *, floor: float = FLOOR) -> BackPressure:
    """The back-pressure ``load`` puts on the decider."""
    refused = load.refused_share
    return BackPressure(
        round(refused, 4),
        round(load.asked_per_second, 3),
        round(load.wait_seconds, 3),
        round(decide_share(refused, floor=floor), 4),
    )


# No limiter (the demo, no Redis): nothing pushes back.
NO_PRESSURE = BackPressure(0.0, 0.0, 0.0, 1.0)


@dataclass
class HeldShare:
    """The decide share one tick batch read, held for ``seconds`` for the process's next
    batches: the limiter's sums decay over their window (10 s), so a read more often says
    nothing new, and the batches of that second are spared a round trip each. ``seconds``
    0: every batch reads."""

    seconds: float = SHARE_SECONDS
    # The share last read and when (``now`` as the caller's monotonic clock gave it).
    _kept: tuple[float, float] | None = field(default=None, init=False, repr=False)

    def read(self, now: float, fresh: Callable[[], float]) -> float:
        """The share held, or ``fresh()`` (then held) once ``seconds`` have passed."""
        kept = self._kept
        if kept is not None and now - kept[0] < self.seconds:
            return kept[1]
        share = fresh()
        self._kept = (now, share)
        return share

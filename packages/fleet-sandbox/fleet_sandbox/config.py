"""The sandbox gallery's configuration: how it starts, and the controls the admin API turns.

``SandboxConfig`` is fixed at start-up. ``Controls`` is the part that can change while the
sandbox runs (``/admin/*``): whether Idempotency-Key is honoured, the pause switch, the
daily budgets and the injected faults. ``POST /admin/reset`` puts the controls back to
the start-up config.

API routes are named for budgets and faults: ``invite``, ``delete_user``, ``execute``,
``create_post``, ``list_posts``, ``get_post``, ``like``, ``create_comment``,
``list_comments``; ``"*"`` in a rate table means every API route.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic.alias_generators import to_camel

ROUTES = (
    "invite",
    "delete_user",
    "execute",
    "create_post",
    "list_posts",
    "get_post",
    "like",
    "create_comment",
    "list_comments",
    "get_user",
    "put_disclosure",
    "put_consent",
    "consent_list",
)


# The token a sandbox (and Fleet's gallery settings) use when none is set: fine on a
# loopback port, a warning anywhere else.
DEFAULT_TOKEN = "sandbox-service-token"


class CamelModel(BaseModel):
    """Admin JSON is camelCase, like the gallery API; Python code uses snake_case."""

    model_config = ConfigDict(
        alias_generator=to_camel, validate_by_name=True, validate_by_alias=True, extra="forbid"
    )


def _check_rates(rates: dict[str, float]) -> dict[str, float]:
    for route, rate in rates.items():
        if route != "*" and route not in ROUTES:
            raise ValueError(f"unknown route {route!r}; routes: *, {', '.join(ROUTES)}")
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"rate for {route!r} must be between 0 and 1, got {rate}")
    return rates


class Faults(CamelModel):
    """Injected faults. Rates are per route name, ``"*"`` for the rest; 0 is never, 1 always.

    - ``error_rates``: answer ``error_status`` (5xx) before the call has any effect;
    - ``throttle_rates``: answer a plain 429 (no code) with ``Retry-After: 1``;
    - ``latency_ms``: added to every API call before it is handled;
    - ``lose_answer_rates``: handle the call, commit its effect, then drop the answer
      (the connection closes after the status line: the caller cannot know what happened).
    - ``strip_provenance``: the workflow's save step drops the provenance marks it was
      asked for (a careless pipeline): the picture is saved without XMP or C2PA.
    """

    error_rates: dict[str, float] = Field(default_factory=dict)
    error_status: int = Field(default=500, ge=500, le=599)
    throttle_rates: dict[str, float] = Field(default_factory=dict)
    latency_ms: float = Field(default=0.0, ge=0, le=60_000)
    lose_answer_rates: dict[str, float] = Field(default_factory=dict)
    strip_provenance: bool = False

    _rates = field_validator("error_rates", "throttle_rates", "lose_answer_rates")(_check_rates)

    def bend_calls(self) -> bool:
        """Whether any API call is delayed, failed, throttled or loses its answer."""
        return bool(
            self.latency_ms or self.error_rates or self.throttle_rates or self.lose_answer_rates
        )


def rate_for(rates: dict[str, float], route: str) -> float:
    """The rate that applies to ``route``: its own entry, else ``"*"``, else 0."""
    return rates.get(route, rates.get("*", 0.0))


class Budgets(CamelModel):
    """Daily budgets in units (one workflow run or one post spends one); None is unlimited.

    ``per_agent`` overrides ``agent_daily`` for named agents (0 exhausts one agent).
    ``every_call``: an exhausted budget answers 429 on every agent call (likes, comments,
    reads too), as a platform that meters all traffic would; by default only spending
    calls (workflow runs, posts) are refused.
    """

    fleet_daily: int | None = Field(default=None, ge=0)
    agent_daily: int | None = Field(default=None, ge=0)
    per_agent: dict[str, int] = Field(default_factory=dict)
    every_call: bool = False

    def limit_for(self, username: str) -> int | None:
        """The daily limit of one agent."""
        return self.per_agent.get(username, self.agent_daily)


class SandboxConfig(BaseModel):
    """How the sandbox starts."""

    model_config = ConfigDict(extra="forbid")

    database_url: str = "sqlite://"  # in memory
    service_token: SecretStr = SecretStr(DEFAULT_TOKEN)
    idempotency: bool = True
    paused: bool = False
    budgets: Budgets = Field(default_factory=Budgets)
    faults: Faults = Field(default_factory=Faults)
    image_base_url: str | None = None  # absolute image URLs start here; default: the request's
    seed: int | None = None  # seeds the fault dice, for reproducible fault runs
    refresh_seconds: float = Field(default=5.0, gt=0)
    retired_models: tuple[str, ...] = ("dall-e-2",)
    # The pair the save step signs provenance with (PEM files: the certificate chain, the
    # key); without them, a self-signed pair made when the sandbox starts.
    signing_certificate: Path | None = None
    signing_key: Path | None = None
    # What an agent's like counts for in the popular and trending feeds, and its comment in
    # the trending feed, a person's being 1 (docs/gallery-api.md, "Ranking": agent
    # engagement is counted apart and weighed down).
    agent_like_weight: float = Field(default=0.5, ge=0, le=1)
    # The operator's contact the "About these automated accounts" page gives (plain text,
    # an address or a line); empty: the page says to ask an agent who runs it.
    contact: str = Field(default="", max_length=200)


@dataclass
class Controls:
    """What the admin API may change while the sandbox runs."""

    idempotency: bool
    paused: bool
    budgets: Budgets
    faults: Faults

    @classmethod
    def of(cls, config: SandboxConfig) -> Controls:
        """The start-up controls of ``config`` (copies: changing them leaves config alone)."""
        return cls(
            idempotency=config.idempotency,
            paused=config.paused,
            budgets=config.budgets.model_copy(deep=True),
            faults=config.faults.model_copy(deep=True),
        )


@dataclass(frozen=True)
class BudgetVerdict:
    """Why a call may not spend: the 429 code and when the budget resets."""

    code: str
    reset_at: datetime


@dataclass
class Spent:
    """Units spent today, by the fleet and by one agent."""

    fleet: int = 0
    agent: int = 0


def next_midnight(now: datetime) -> datetime:
    """The next UTC midnight after ``now``: when daily budgets reset."""
    day = now.astimezone(UTC).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def budget_verdict(
    budgets: Budgets, username: str, spent: Spent, now: datetime
) -> BudgetVerdict | None:
    """None when one more unit fits both budgets; else the 429 to answer (fleet first)."""
    if budgets.fleet_daily is not None and spent.fleet >= budgets.fleet_daily:
        return BudgetVerdict("FLEET_DAILY_BUDGET_EXCEEDED", next_midnight(now))
    limit = budgets.limit_for(username)
    if limit is not None and spent.agent >= limit:
        return BudgetVerdict("AGENT_DAILY_LIMIT_EXCEEDED", next_midnight(now))
    return None

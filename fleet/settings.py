"""Fleet's configuration, read from the environment (``FLEET_*``) once, at the edge.

Nested adapter settings use ``__``: ``FLEET_LLM__MODEL``, ``FLEET_GALLERY__URL``.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import quote, urlsplit

import platformdirs
from pydantic import (
    AnyUrl,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    UrlConstraints,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict, SettingsError

from fleet.errors import ConfigError

RedisUrl = Annotated[AnyUrl, UrlConstraints(allowed_schemes=["redis", "rediss", "unix"])]
WebUrl = Annotated[AnyUrl, UrlConstraints(allowed_schemes=["http", "https"], host_required=True)]
ANTHROPIC_API = "https://api.anthropic.com"
# A gallery on these hosts is the demo's sandbox: the demo's operator may stand.
LOOPBACK_HOSTS = frozenset({"localhost", "::1", "0.0.0.0"})


# A directory with this folder in it has a fleet of its own (``mkdir .fleet``).
PROJECT_DIR = ".fleet"


def default_database_url() -> str:
    """The embedded default: ``.fleet/fleet.db`` when the working directory has a
    ``.fleet/`` folder (a fleet of this project's own), else a SQLite file in the user's
    data directory (one fleet shared by every directory without a ``.fleet/``)."""
    project = Path.cwd() / PROJECT_DIR
    if project.is_dir():
        return f"sqlite:///{project.resolve() / 'fleet.db'}"
    data = Path(platformdirs.user_data_dir("fleet", appauthor=False))
    return f"sqlite:///{data / 'fleet.db'}"


class _Nested(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GallerySettings(_Nested):
    """The gallery (FloImg Studio API or the sandbox) Fleet acts on."""

    url: AnyUrl = AnyUrl("http://127.0.0.1:8700")
    token: SecretStr = SecretStr("sandbox-service-token")  # the sandbox's DEFAULT_TOKEN
    # The whole of one call, connect to last byte (each read too: a trickle is cut).
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    # The largest answer read from one call: a larger one is refused unread.
    max_answer_bytes: int = Field(default=2_000_000, ge=16_384, le=100_000_000)
    image_model: str = "sandbox-diffusion-1"
    image_generator: str = "sandbox"
    # Where a person sees one post on the gallery: a path under ``url``, ``{id}`` the post's
    # id (the sandbox's own post page by default). The console links thumbnails there.
    post_page: str = Field(default="/posts/{id}", pattern=r"^/.*\{id\}")

    def post_url(self, post_id: object) -> str:
        """The address of one post's page on the gallery."""
        return str(self.url).rstrip("/") + self.post_page.replace("{id}", quote(str(post_id)))


Provider = Literal["anthropic", "openai", "offline"]


def _blank_model(value: object) -> object:
    if isinstance(value, str):
        value = value.strip()
        if not value:
            raise ValueError("must name a model (it is empty)")
    return value


class ProviderSettings(_Nested):
    """One writer of the chain: a provider, where it is, its model and key (see docs/llm.md).

    Unset fields take the provider's usual ones: the key from ``ANTHROPIC_API_KEY`` or
    ``OPENAI_API_KEY``, Anthropic's model from ``FLEET_LLM__MODEL``.
    """

    provider: Provider
    base_url: WebUrl | None = None
    model: str | None = None
    api_key: SecretStr | None = None

    _model = field_validator("model", mode="before")(_blank_model)


class LLMSettings(_Nested):
    """The language model that writes captions and comments."""

    # anthropic, openai (any OpenAI-compatible Chat Completions server) or offline; unset:
    # anthropic when ANTHROPIC_API_KEY (or FLEET_LLM__API_KEY) is set, else offline.
    provider: Provider | None = None
    # The key; unset: the provider's usual variable (ANTHROPIC_API_KEY, OPENAI_API_KEY).
    api_key: SecretStr | None = None
    # Providers tried in order when the one before is down (a JSON list of objects with
    # provider, base_url, model, api_key).
    fallbacks: Annotated[list[ProviderSettings], NoDecode] = Field(default_factory=list)
    # Captions and comments are short: a small, fast model does them well. (Sonnet 4.5
    # reaches end of life on 2026-11-30 according to the installed SDK.)
    model: str = "claude-haiku-4-5"
    # Where the Messages API is: a gateway or proxy. Unset: ANTHROPIC_BASE_URL, as the SDK
    # reads it, else Anthropic's API.
    base_url: WebUrl | None = None
    # The whole of one call, connect to last byte (a trickling answer is cut at it); a
    # post may take two calls (one repair), both inside the task's soft limit.
    timeout_seconds: float = Field(default=25.0, gt=0, le=300)
    # The whole fleet's LLM spend per UTC day; over it, agents only like and browse.
    daily_budget_usd: float = Field(default=5.0, ge=0)
    agent_daily_budget_usd: float = Field(default=0.25, ge=0)
    # Send the image of a post to the model when it has a public https URL.
    vision: bool = True
    # Near-duplicate threshold of the content guard (word-shingle Jaccard, 0-1).
    guard_similarity: float = Field(default=0.6, gt=0, le=1)
    # USD per million tokens; a model matches its entry or the longest prefix of its name.
    prices: dict[str, dict[str, float]] = Field(
        default_factory=lambda: {
            # Opus 4 and 4.1 at their price; later Opus 4.x fall back to it (an overestimate).
            "claude-opus-4": {"input": 15, "output": 75, "cache_read": 1.5, "cache_write": 18.75},
            "claude-opus-4-5": {"input": 5, "output": 25, "cache_read": 0.5, "cache_write": 6.25},
            "claude-sonnet-4": {"input": 3, "output": 15, "cache_read": 0.3, "cache_write": 3.75},
            "claude-haiku-4": {"input": 1, "output": 5, "cache_read": 0.1, "cache_write": 1.25},
        }
    )

    _model = field_validator("model", mode="before")(_blank_model)

    @field_validator("provider", mode="before")
    @classmethod
    def _blank_provider(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("fallbacks", mode="before")
    @classmethod
    def _fallbacks_json(cls, value: object) -> object:
        if isinstance(value, str):
            if not value.strip():
                return []
            try:
                value = json.loads(value)
            except json.JSONDecodeError as exc:
                raise ValueError(f"is not JSON ({exc.msg} at character {exc.pos})") from None
            if not isinstance(value, list):
                raise ValueError("must be a JSON list of providers")
        return value

    @field_validator("prices")
    @classmethod
    def _price_rows(cls, value: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        need = {"input", "output", "cache_read", "cache_write"}
        for model, row in value.items():
            if set(row) != need:
                raise ValueError(f"price of {model!r} needs exactly {sorted(need)}")
            if any(not math.isfinite(price) or price < 0 for price in row.values()):
                raise ValueError(f"price of {model!r} must be finite and not negative")
        return value


class DispatchSettings(_Nested):
    """The heartbeat: how often beat runs the dispatcher and how much it claims."""

    interval_seconds: float = Field(default=1.0, gt=0, le=60)
    batch_size: int = Field(default=1000, ge=1, le=100_000)
    max_batches_per_cycle: int = Field(default=20, ge=1)
    # An agent whose ticks are due further back than this (the fleet was down) gets one
    # tick for the gap and its rhythm from now, not a burst of catch-up ticks.
    catch_up_seconds: float = Field(default=60.0, ge=0, le=86_400)
    # Agents due within this many seconds are claimed ahead, and their ticks held by the
    # workers until their due second: a tick is decided when it is due, not when the next
    # cycle happens to run (up to an interval later). 0: only ticks already due.
    lead_seconds: float = Field(default=1.0, ge=0, le=60)


class TaskSettings(_Nested):
    """Celery task limits; all well below the broker's visibility timeout."""

    soft_time_limit_seconds: float = Field(default=60.0, gt=0)
    time_limit_seconds: float = Field(default=90.0, gt=0)
    visibility_timeout_seconds: float = Field(default=3600.0, gt=0)
    lease_seconds: float = Field(default=300.0, gt=0)
    # A decided action no delivery has claimed for this long is re-sent: longer than any
    # backlog of its queue could explain (a lost message, not a slow queue). A claim is
    # exclusive, so a re-sent copy of a queued action does no second work in any case.
    unclaimed_seconds: float = Field(default=900.0, gt=0)
    max_retries: int = Field(default=5, ge=0, le=50)
    # Deliveries of an action that may end without a verdict (its worker killed, its
    # message lost) on top of its attempts and deferrals, before it ends dead.
    max_lost_deliveries: int = Field(default=10, ge=0, le=1000)
    tick_batch_size: int = Field(default=100, ge=1, le=10_000)
    # The cheap kinds (the registry's ``batchable``) a tick decides go to the workers in
    # batch messages of up to this many keys (1: one message per action); a worker runs a
    # batch's gallery calls on this many threads.
    action_batch_size: int = Field(default=50, ge=1, le=1000)
    action_batch_threads: int = Field(default=8, ge=1, le=64)
    sweep_interval_seconds: float = Field(default=15.0, gt=0)

    @model_validator(mode="after")
    def _limits_in_order(self) -> TaskSettings:
        if (
            not self.soft_time_limit_seconds
            < self.time_limit_seconds
            < self.visibility_timeout_seconds
        ):
            raise ValueError(
                "need FLEET_TASKS__SOFT_TIME_LIMIT_SECONDS "
                f"({self.soft_time_limit_seconds:g}) < FLEET_TASKS__TIME_LIMIT_SECONDS "
                f"({self.time_limit_seconds:g}) < FLEET_TASKS__VISIBILITY_TIMEOUT_SECONDS "
                f"({self.visibility_timeout_seconds:g})"
            )
        return self


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
    phrase, never a generated key."""
    if not key or any(char.isspace() for char in key):
        return 0.0
    from zxcvbn import zxcvbn

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


# The largest weight of a part of taste: a score sums a few parts of order 1-10 (a fit of
# a few standard deviations, log2 of a post's likes), so 100 lets one part outweigh all
# the others, and no score can overflow (1e308 made every score inf - inf, NaN, and no
# like could be drawn).
WEIGHT = 100.0


class TasteSettings(_Nested):
    """How agents pick what to like and comment on (``fleet.core.taste``)."""

    fit: float = Field(default=3.0, ge=0, le=WEIGHT, allow_inf_nan=False)
    popularity: float = Field(default=1.0, ge=0, le=WEIGHT, allow_inf_nan=False)
    # A post's appeal, the part of taste every viewer shares (``fleet.core.taste.appeal``).
    appeal: float = Field(default=1.0, ge=0, le=WEIGHT, allow_inf_nan=False)
    freshness: float = Field(default=1.0, ge=0, le=WEIGHT, allow_inf_nan=False)
    tie: float = Field(default=2.0, ge=0, le=WEIGHT, allow_inf_nan=False)
    # Ties in a comment's choice (a comment keeps up a relationship).
    comment_tie: float = Field(default=4.0, ge=0, le=WEIGHT, allow_inf_nan=False)
    # A person's post within its welcome budget (``FLEET_WELCOME__*``), in proportion
    # to the budget left.
    welcome: float = Field(default=3.0, ge=0, le=WEIGHT, allow_inf_nan=False)
    # How often a like goes first to a post by a person the agent answered (0: never).
    courtesy: float = Field(default=1.0, ge=0, le=1)
    half_life_hours: float = Field(default=12.0, gt=0, le=24 * 365, allow_inf_nan=False)
    temperature: float = Field(default=0.6, gt=0, le=100, allow_inf_nan=False)
    explore: float = Field(default=0.05, ge=0, le=1)
    # A like passes the page over rather than take a post scoring far below this
    # (``fleet.core.taste.draw``); none: a like always takes a post.
    pass_over: float | None = Field(default=8.0, ge=-100, le=100)

    @field_validator("pass_over", mode="before")
    @classmethod
    def _no_pass_over(cls, value: object) -> object:
        """``none`` (or empty): a like always takes a post."""
        return None if isinstance(value, str) and value.strip().lower() in {"", "none"} else value

    # How far down the feeds one action looks, on average (``fleet.core.taste.seen``):
    # none, everything read is seen.
    scroll: float | None = Field(default=4.0, ge=1, le=1000)

    @field_validator("scroll", mode="before")
    @classmethod
    def _no_scroll(cls, value: object) -> object:
        """``none`` (or empty): an action sees all the feeds' pages."""
        return None if isinstance(value, str) and value.strip().lower() in {"", "none"} else value

    # The feeds a person scrolls, and how far down each: every post on them is a candidate.
    # At least one: with none, no post is ever a candidate and every like and comment stops.
    sorts: tuple[Literal["recent", "popular", "trending"], ...] = Field(
        default=("recent", "popular", "trending"), min_length=1
    )
    page_size: int = Field(default=50, ge=1, le=100)


class WelcomeSettings(_Nested):
    """The fleet's budget on a person's post by its age (``fleet.core.taste.Welcome``):
    JSON lists of [hours, count] steps, e.g. FLEET_WELCOME__COMMENTS='[[1,1],[6,3],[24,5]]'.
    All counts 0: the fleet leaves people's posts alone."""

    likes: tuple[tuple[float, int], ...] = ((1, 3), (6, 8), (24, 15))
    comments: tuple[tuple[float, int], ...] = ((1, 1), (6, 3), (24, 5))
    likes_per_day_after: int = Field(default=3, ge=0, le=10_000)
    comments_per_day_after: int = Field(default=1, ge=0, le=10_000)
    # A person's post with no comment yet is greeted by the next agent that comments,
    # from this many minutes after it was posted.
    greet_after_minutes: float = Field(default=10.0, ge=0, le=1440)
    # A person's post nobody has liked yet is liked by the next agent of a persona it
    # fits whose like sees it.
    first_like: bool = True
    # Stepping back as people arrive (``fleet.core.pace``): the fleet's share of all
    # activity once people are as active as the whole fleet (0.5: never step back), the
    # lowest pace it steps back to, and how often the pace is measured.
    target_bot_share: float = Field(default=1 / 3, gt=0, le=0.5)
    min_pace: float = Field(default=0.1, gt=0, le=1)
    pace_every_seconds: float = Field(default=600.0, ge=10, le=86_400)

    @field_validator("likes", "comments")
    @classmethod
    def _steps(cls, steps: tuple[tuple[float, int], ...]) -> tuple[tuple[float, int], ...]:
        if not steps:
            raise ValueError("at least one [hours, count] step")
        for hours, count in steps:
            if not (math.isfinite(hours) and 0 < hours <= 24 * 365) or not 0 <= count <= 10_000:
                raise ValueError(
                    f"a step is [hours in (0, 8760], count in 0..10000], not [{hours}, {count}]"
                )
        if list(steps) != sorted(steps):
            raise ValueError("steps in order of their hours")
        return steps


class ActionSettings(_Nested):
    """How actions choose targets, back off and wait."""

    human_share: float = Field(default=0.7, ge=0, le=1)
    bot_engagements_per_post_per_hour: int = Field(default=10, ge=1)
    feed_page_size: int = Field(default=20, ge=1, le=100)
    # Target choice may use a feed page this many seconds old (0: read it every time).
    feed_snapshot_seconds: float = Field(default=2.0, ge=0)
    backoff_base_seconds: float = Field(default=2.0, gt=0)
    backoff_max_seconds: float = Field(default=60.0, gt=0)
    pause_probe_seconds: float = Field(default=30.0, gt=0)
    max_deferrals: int = Field(default=20, ge=0)
    gallery_requests_per_second: float = Field(default=50.0, gt=0)
    llm_requests_per_minute: float = Field(default=50.0, gt=0)
    llm_tokens_per_minute: float = Field(default=40_000.0, gt=0)
    # Reserved from the token bucket when an LLM call starts, settled with its real usage.
    llm_tokens_reserved_per_call: int = Field(default=1_500, ge=1)
    breaker_threshold: int = Field(default=5, ge=1)
    breaker_open_seconds: float = Field(default=30.0, gt=0)
    # Back-pressure (``fleet.core.pressure``): the gallery limit's load is what it was
    # asked for and refused over about this many seconds; while it refuses, ticks act at
    # 1 - the refused share of the time, never below the floor.
    back_pressure_window_seconds: float = Field(default=10.0, gt=0, le=3600)
    back_pressure_floor: float = Field(default=0.1, gt=0, le=1)


class EmbeddingSettings(_Nested):
    """The embedder that turns texts into vectors (taste, memory, the no-echo guard).

    ``local``: the bundled model, offline. ``openai``: any OpenAI-compatible
    ``/v1/embeddings`` endpoint (Ollama, vLLM, TEI, OpenAI) at ``base_url``. ``off``: no
    vectors; memory is recalled by recency and the guard checks words only.
    """

    provider: Literal["local", "openai", "off"] = "local"
    # The endpoint's root, e.g. http://127.0.0.1:11434/v1 (``/embeddings`` is added).
    base_url: WebUrl | None = None
    model: str = Field(default="", max_length=200)
    api_key: SecretStr | None = None
    # One call, connect to last byte; an embedding rides inside an action's soft limit.
    timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    # The vector size the model must answer with (checked at start-up); unset: the
    # model's own (the local model's 384; an endpoint's first answer).
    dimensions: int | None = Field(default=None, ge=8, le=8192)

    @field_validator("api_key", mode="before")
    @classmethod
    def _blank_key_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _endpoint_named(self) -> EmbeddingSettings:
        if self.provider == "openai" and (self.base_url is None or not self.model.strip()):
            raise ValueError(
                "FLEET_EMBEDDINGS__PROVIDER=openai needs FLEET_EMBEDDINGS__BASE_URL and "
                "FLEET_EMBEDDINGS__MODEL"
            )
        return self


class MemorySettings(_Nested):
    """What each agent remembers, and how far the no-echo guard looks back."""

    # Memories kept per agent; beyond it the least relevant old ones are forgotten.
    max_per_agent: int = Field(default=200, ge=10, le=10_000)
    # Characters of one memory's text (a post's caption and description, a comment).
    max_chars: int = Field(default=400, ge=40, le=4000)
    # Memories handed to the writer for one text.
    recalled: int = Field(default=6, ge=0, le=50)
    # Recency: a memory's weight halves every this many days.
    half_life_days: float = Field(default=7.0, gt=0, le=365)
    # The no-echo guard: refuse a text this close (cosine) to one published in the last
    # ``echo_days`` by any agent of the fleet (``echo_scope`` "fleet": a visitor reads
    # them all) or of the agent's persona ("persona"); 1 turns the check off.
    echo_similarity: float = Field(default=0.92, gt=0, le=1)
    # A reply's threshold, against the replies of the window: short replies sit closer
    # in embedding space (people's own: 28 % within 0.92 of an earlier one, 5 % within
    # 0.94), which the offline writer's redrawn drafts meet (docs/community.md).
    reply_echo_similarity: float = Field(default=0.92, gt=0, le=1)
    echo_days: float = Field(default=14.0, ge=0, le=365)
    echo_scope: Literal["fleet", "persona"] = "fleet"
    # The newest published vectors one check reads at the most (bounds its cost).
    echo_scan: int = Field(default=1000, ge=1, le=20_000)


ReviewedKind = Literal["post", "comment", "reply", "like"]
# Under review by default: what an agent writes. A like is reviewed when named in
# FLEET_REVIEW__KINDS; a browse has no public effect and is never reviewed.
REVIEWED_KINDS: tuple[ReviewedKind, ...] = ("post", "comment", "reply")


class ReviewSettings(_Nested):
    """Review mode: drafts an owner approves before anything is published (docs/review.md)."""

    # A pending draft expires (its action ends skipped, "expired") after this many hours.
    # At least an hour: a shorter one expires every draft at the next sweep, before any
    # owner could read it.
    expires_hours: float = Field(default=48.0, ge=1, le=24 * 365, allow_inf_nan=False)
    # The kinds that wait for review under review mode (a JSON list: ["post", "comment",
    # "reply"], the default; "like" may be added). Not empty: review mode is turned off
    # per agent (``fleet review off``), never by a list that reviews nothing.
    kinds: list[ReviewedKind] = Field(default_factory=lambda: list(REVIEWED_KINDS), min_length=1)
    # Approved drafts go out at their agent's next session, at least this far apart
    # (plus as much again at random): many approvals never make many posts at once.
    spacing_seconds: float = Field(default=30.0, ge=0, le=86_400, allow_inf_nan=False)
    # Publish an approved draft at once (spaced as above) instead of at the next session.
    publish_now: bool = False


class DisclosureSettings(_Nested):
    """Who runs the fleet, said on every agent account and in every answer about it.

    Every agent account says it is automated and names its operator with a link
    (docs/disclosure.md). The defaults name the demo's operator: outside the demo, set both.
    """

    # The operator a person sees beside "Automated account": plain text, no markup.
    operator_name: str = Field(default="Fleet demo operator", min_length=1, max_length=80)
    # Where a person learns who runs the agents and how to reach them.
    operator_url: WebUrl = AnyUrl("http://127.0.0.1:8700/about/agents")

    @field_validator("operator_name")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("must name the operator (it is empty)")
        if any(ch in value for ch in "<>&\"'`") or any(ord(ch) < 32 for ch in value):
            raise ValueError("must be plain text: no markup, quotes or control characters")
        return value


class ImpactSettings(_Nested):
    """The newcomer holdout: a randomized share of people the fleet never engages with, so
    that the impact report can say whether engagement helps (docs/impact.md)."""

    # The share of newly seen people held out (no like, comment, reply or mention from an
    # agent). 0 turns the holdout off; at most half, so the fleet still welcomes most.
    holdout_share: float = Field(default=0.1, ge=0, le=0.5, allow_inf_nan=False)
    # How long a held-out person stays held out after Fleet first saw them; also the
    # report's fixed horizon for the count of their actions.
    holdout_days: int = Field(default=14, ge=1, le=90)
    # The experiment's name: a new name starts new assignments, old ones stay readable.
    experiment: str = Field(default="newcomers1", pattern=r"^[a-z][a-z0-9_-]{0,31}$")


SourceType = Literal["trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia"]


class ProvenanceSettings(_Nested):
    """Provenance marks on every published image (docs/provenance.md).

    The image workflow's save step embeds them (IPTC's digital source type in XMP and a
    signed C2PA manifest); Fleet fetches the image and verifies both before it posts.
    """

    # A post whose image fails the check ends skipped, "no provenance", unpublished.
    require: bool = True
    # What the marks say the image is: made by a model, or a photo a model transformed.
    source_type: SourceType = "trainedAlgorithmicMedia"
    # The operator's signing pair (PEM files: the certificate chain, signer first, and its
    # key). Set, an image must be signed by that certificate; the sandbox signs with it.
    certificate: Path | None = None
    private_key: Path | None = None
    # An image fetched for the check is read within this many bytes and pixels.
    max_image_bytes: int = Field(default=20_000_000, ge=65_536, le=200_000_000)
    max_pixels: int = Field(default=40_000_000, ge=65_536, le=400_000_000)

    @field_validator("certificate", "private_key", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _pair_loads(self) -> ProvenanceSettings:
        if (self.certificate is None) != (self.private_key is None):
            raise ValueError(
                "FLEET_PROVENANCE__CERTIFICATE and FLEET_PROVENANCE__PRIVATE_KEY go together: "
                "set both or neither"
            )
        if self.certificate is not None and self.private_key is not None:
            _check_pair(self.certificate, self.private_key)
        return self


def _first(exc: Exception) -> str:
    """The first sentence of an error, short (cryptography's go on with a link)."""
    return str(exc).split(". ", 1)[0][:120]


def _check_pair(certificate: Path, key: Path) -> None:
    """The pair loads, is in its validity now, and the key is the certificate's."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    cert_name, key_name = "FLEET_PROVENANCE__CERTIFICATE", "FLEET_PROVENANCE__PRIVATE_KEY"
    try:
        chain = x509.load_pem_x509_certificates(certificate.read_bytes())
    except (OSError, ValueError) as exc:
        raise ValueError(
            f"{cert_name}: {certificate} is no PEM certificate ({_first(exc)})"
        ) from None
    try:
        private = serialization.load_pem_private_key(key.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise ValueError(f"{key_name}: {key} is no unencrypted PEM key ({_first(exc)})") from None
    signer, now = chain[0], dt.datetime.now(dt.UTC)
    if not signer.not_valid_before_utc <= now <= signer.not_valid_after_utc:
        raise ValueError(
            f"{cert_name}: the certificate is valid from {signer.not_valid_before_utc:%Y-%m-%d} "
            f"to {signer.not_valid_after_utc:%Y-%m-%d}, not now"
        )
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    der = serialization.Encoding.DER
    if private.public_key().public_bytes(der, public) != signer.public_key().public_bytes(
        der, public
    ):
        raise ValueError(f"{key_name}: the key does not match {cert_name}'s certificate")


class ConsentSettings(_Nested):
    """How Fleet honours people's say over agents' engagement (docs/consent.md)."""

    # How often a process reads people's consent from the gallery again (at most 10 min:
    # an action is never chosen by a copy older than that).
    refresh_seconds: float = Field(default=120.0, ge=1, le=600, allow_inf_nan=False)
    # A person who blocks one agent: the rest of the fleet only answers them, starts nothing.
    cool_fleet: bool = True
    # On a gallery that offers no consent calls, how agents may engage people who cannot
    # say no: "replies" (answer those who speak to them, start nothing), "all", or "none".
    when_unoffered: Literal["all", "replies", "none"] = "replies"


class Settings(BaseSettings):
    """Everything Fleet reads from its environment."""

    model_config = SettingsConfigDict(
        env_prefix="FLEET_",
        env_nested_delimiter="__",
        extra="ignore",
        validate_default=True,
    )

    database_url: str = Field(default_factory=default_database_url)
    # Connections each process keeps open: at least a thread-pool worker's concurrency,
    # or threads beyond it open and close a connection per use.
    database_pool_size: int = Field(default=20, ge=1, le=500)
    broker_url: str = "memory://"
    redis_url: RedisUrl | None = AnyUrl("redis://127.0.0.1:6379/0")
    broker_key_prefix: str = Field(default="", max_length=64)
    seed: int = Field(default=1, ge=0, lt=2**63)
    personas_dir: Path | None = None
    anthropic_api_key: SecretStr | None = Field(default=None, alias="ANTHROPIC_API_KEY")
    # The SDK's own variable, read here too so that a bad one is refused at start-up and
    # `fleet status` shows where LLM calls go; FLEET_LLM__BASE_URL wins over it.
    anthropic_base_url: WebUrl | None = Field(default=None, alias="ANTHROPIC_BASE_URL")
    openai_api_key: SecretStr | None = Field(default=None, alias="OPENAI_API_KEY")
    gallery: GallerySettings = GallerySettings()
    llm: LLMSettings = LLMSettings()
    dispatch: DispatchSettings = DispatchSettings()
    tasks: TaskSettings = TaskSettings()
    actions: ActionSettings = ActionSettings()
    taste: TasteSettings = TasteSettings()
    welcome: WelcomeSettings = WelcomeSettings()
    console: ConsoleSettings = ConsoleSettings()
    embeddings: EmbeddingSettings = EmbeddingSettings()
    memory: MemorySettings = MemorySettings()
    review: ReviewSettings = ReviewSettings()
    disclosure: DisclosureSettings = DisclosureSettings()
    impact: ImpactSettings = ImpactSettings()

    provenance: ProvenanceSettings = ProvenanceSettings()

    consent: ConsentSettings = ConsentSettings()
    image_fallback: Literal["placeholder", "skip"] = "placeholder"

    @field_validator("anthropic_base_url", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _gallery_call_within_the_task(self) -> Settings:
        if self.gallery.timeout_seconds >= self.tasks.soft_time_limit_seconds:
            raise ValueError(
                f"FLEET_GALLERY__TIMEOUT_SECONDS ({self.gallery.timeout_seconds:g}) must be "
                "under FLEET_TASKS__SOFT_TIME_LIMIT_SECONDS "
                f"({self.tasks.soft_time_limit_seconds:g})"
            )
        return self

    @model_validator(mode="after")
    def _operator_named_outside_the_demo(self) -> Settings:
        # A gallery off this machine has real people on it: the demo's operator will not do.
        host = (self.gallery.url.host or "").strip("[]").lower()
        if host in LOOPBACK_HOSTS or host.startswith("127."):
            return self
        defaults = DisclosureSettings()
        unset = [
            f"FLEET_DISCLOSURE__{name.upper()}"
            for name in ("operator_name", "operator_url")
            if getattr(self.disclosure, name) == getattr(defaults, name)
        ]
        if unset:
            raise ValueError(
                f"{' and '.join(unset)} must name who runs the agents: the gallery "
                f"{self.gallery.url.host} is not this machine's sandbox, and every agent "
                "account shows its operator with a link (docs/disclosure.md)"
            )
        return self

    @model_validator(mode="after")
    def _llm_chain_resolves(self) -> Settings:
        self.llm_chain()
        return self

    def llm_chain(self) -> list[LLMEndpoint]:
        """The writers in the order they are tried: the primary, then the fallbacks.

        Raises ValueError naming the variable when one cannot be used (no key, no model).
        """
        llm = self.llm
        key = _key(llm.api_key)
        provider = llm.provider or (
            "anthropic" if key or _key(self.anthropic_api_key) else "offline"
        )
        model_set = "model" in llm.model_fields_set
        chain = [
            self._endpoint(
                ProviderSettings(
                    provider=provider,
                    base_url=llm.base_url,
                    model=llm.model if (model_set or provider == "anthropic") else None,
                    api_key=key,
                ),
                "FLEET_LLM__",
            )
        ]
        for number, fallback in enumerate(llm.fallbacks):
            chain.append(self._endpoint(fallback, f"FLEET_LLM__FALLBACKS[{number}]."))
        return chain

    def _endpoint(self, entry: ProviderSettings, where: str) -> LLMEndpoint:
        def name(field: str) -> str:
            return where + (field.upper() if where.endswith("__") else field)

        if entry.provider == "offline":
            return LLMEndpoint("offline", "offline", None, None)
        if entry.provider == "anthropic":
            key = _key(entry.api_key) or _key(self.anthropic_api_key)
            if key is None:
                raise ValueError(
                    f"{name('provider')} is anthropic but no key is set "
                    f"({name('api_key')} or ANTHROPIC_API_KEY)"
                )
            base = entry.base_url or self.anthropic_base_url
            return LLMEndpoint(
                "anthropic",
                entry.model or self.llm.model,
                None if base is None else str(base),
                key,
            )
        key = _key(entry.api_key) or _key(self.openai_api_key)
        if entry.model is None:
            raise ValueError(f"{name('model')} must name the model for provider openai")
        if entry.base_url is None and key is None:
            raise ValueError(
                f"{name('provider')} is openai with neither {name('base_url')} (a local "
                f"server) nor a key ({name('api_key')} or OPENAI_API_KEY)"
            )
        return LLMEndpoint(
            "openai", entry.model, None if entry.base_url is None else str(entry.base_url), key
        )

    def llm_endpoint(self) -> tuple[str, str]:
        """Where LLM calls go and which setting says so: FLEET_LLM__BASE_URL, else
        ANTHROPIC_BASE_URL, else Anthropic's API (the SDK's order, Fleet's variable first)."""
        if self.llm.base_url is not None:
            return str(self.llm.base_url), "FLEET_LLM__BASE_URL"
        if self.anthropic_base_url is not None:
            return str(self.anthropic_base_url), "ANTHROPIC_BASE_URL"
        return ANTHROPIC_API, "default"

    def secrets(self) -> tuple[str, ...]:
        """Every secret in the settings (keys, tokens, passwords in URLs), to be masked
        wherever text leaves the process."""
        found = [self.gallery.token.get_secret_value()]
        for key in (self.anthropic_api_key, self.openai_api_key, self.llm.api_key):
            if key is not None:
                found.append(key.get_secret_value())
        for fallback in self.llm.fallbacks:
            if fallback.api_key is not None:
                found.append(fallback.api_key.get_secret_value())
            if fallback.base_url is not None and fallback.base_url.password:
                found.append(fallback.base_url.password)
        for secret in (self.console.password, self.console.secret_key, self.embeddings.api_key):
            if secret is not None:
                found.append(secret.get_secret_value())
        for url in (
            self.llm.base_url,
            self.anthropic_base_url,
            self.gallery.url,
            self.embeddings.base_url,
        ):
            if url is not None and url.password:
                found.append(url.password)
        return tuple(secret for secret in found if secret.strip())

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        scheme = value.split("://", 1)[0] if "://" in value else ""
        if scheme not in {"sqlite", "postgresql+psycopg", "postgresql"}:
            raise ValueError(
                "must start with sqlite:/// or postgresql+psycopg:// "
                f"(got {scheme + '://' if scheme else 'no scheme'})"
            )
        if scheme == "postgresql":
            value = "postgresql+psycopg://" + value.split("://", 1)[1]
        return value

    @field_validator("redis_url", mode="before")
    @classmethod
    def _no_redis(cls, value: object) -> object:
        # The embedded mode (the demo) runs without Redis: FLEET_REDIS_URL=none.
        return None if isinstance(value, str) and value.strip().lower() in {"", "none"} else value

    @field_validator("broker_url")
    @classmethod
    def _broker_url(cls, value: str) -> str:
        scheme = value.split("://", 1)[0] if "://" in value else ""
        if scheme not in {"memory", "redis", "rediss", "amqp", "pyamqp"}:
            raise ValueError(f"must be a memory://, redis:// or amqp:// URL (got {value[:20]!r})")
        return value

    @field_validator("personas_dir")
    @classmethod
    def _personas_dir(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_dir():
            raise ValueError(f"{value} is not a directory")
        return value


OPENAI_API = "https://api.openai.com/v1"


@dataclass(frozen=True, slots=True)
class LLMEndpoint:
    """One writer of the chain, resolved: its provider, model, URL (None: the SDK's
    default) and key (None: none needed, a local server)."""

    provider: Provider
    model: str
    base_url: str | None
    api_key: SecretStr | None = field(repr=False)

    @property
    def label(self) -> str:
        """What the activity and the reports call it: ``provider:model``."""
        return self.provider if self.provider == "offline" else f"{self.provider}:{self.model}"

    @property
    def host(self) -> str:
        """Where its calls go, the host and port only (never a path, user or password)."""
        if self.provider == "offline":
            return ""
        default = ANTHROPIC_API if self.provider == "anthropic" else OPENAI_API
        parts = urlsplit(self.base_url or default)
        host = parts.hostname or ""
        return host if parts.port is None else f"{host}:{parts.port}"


def _key(value: SecretStr | None) -> SecretStr | None:
    return value if value is not None and value.get_secret_value().strip() else None


def _variable(loc: tuple[int | str, ...]) -> str:
    names = [str(part) for part in loc]
    if names and names[0].startswith("ANTHROPIC_"):
        return names[0]
    # A field inside a JSON list (FLEET_LLM__FALLBACKS) is named as in the JSON.
    index = next((i for i, part in enumerate(loc) if isinstance(part, int)), len(loc))
    named = "FLEET_" + "__".join(name.upper() for name in names[:index])
    if index < len(loc):
        named += f"[{loc[index]}]" + "".join(f".{part}" for part in names[index + 1 :])
    return named


def _not_json(message: str) -> str:
    """The variables of the field pydantic-settings could not parse, named."""
    import json
    import os
    import re

    found = re.search(r'field "(\w+)"', message)
    prefix = f"FLEET_{found.group(1).upper()}" if found else "FLEET_"
    named = []
    for name, value in os.environ.items():
        if name == prefix or name.startswith(prefix + "__"):
            try:
                json.loads(value)
            except ValueError:
                named.append(name)
    if not named:
        return message
    return "; ".join(f"{name}: not valid JSON" for name in sorted(named))


# What `make run` writes to .env: the fleet a second shell's `fleet` reads.
RUN_VARIABLES = ("FLEET_DATABASE_URL", "FLEET_BROKER_URL", "FLEET_REDIS_URL", "FLEET_GALLERY__URL")


def write_env_file(path: Path, values: dict[str, str]) -> None:
    """Write ``values`` to the dotenv file ``path`` as the settings read it back: readable
    by its owner only (0600: a database URL may hold a password), each value single-quoted
    with its backslashes and quotes escaped (a ``$`` kept as it is). A value the dotenv
    reader would change (``${NAME}`` is expanded even quoted, a line break) is refused by
    name, and ``path`` is left as it was. ``path`` must not exist (never overwritten)."""
    import os

    from dotenv import dotenv_values

    lines = ["# Written by make run: the fleet that `fleet` in this directory reads."]
    for name, value in values.items():
        if "\n" in value or "\r" in value:
            raise ConfigError(f"{name}: a line break cannot be written to {path}")
        quoted = value.replace("\\", "\\\\").replace("'", "\\'")
        lines.append(f"{name}='{quoted}'")
    text = "\n".join(lines) + "\n"
    partial = path.with_name(path.name + ".partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(partial, 0o600)  # whatever the umask
        read = dotenv_values(partial)
        for name, value in values.items():
            if read.get(name) != value:
                raise ConfigError(
                    f"{name}: its value cannot be written to {path} as it is (a ${{...}} in "
                    "it would be expanded when read); export it in each shell instead"
                )
        if path.exists():
            raise ConfigError(f"{path} exists: it is never overwritten")
        partial.rename(path)
    finally:
        partial.unlink(missing_ok=True)


def write_run_env(path: str = ".env") -> None:
    """`make run`'s .env, from this process's environment (make's own expansion would eat
    a ``$`` in a password): ``RUN_VARIABLES`` that are set."""
    import os

    write_env_file(
        Path(path), {name: os.environ[name] for name in RUN_VARIABLES if name in os.environ}
    )


def env_file() -> Path | None:
    """The dotenv file the settings read beneath the environment: ``.env`` in the working
    directory, or the file ``FLEET_ENV_FILE`` names (empty: none). `make run` writes
    one, so a second shell's ``fleet`` reads the same fleet without exporting anything."""
    import os

    named = os.environ.get("FLEET_ENV_FILE")
    path = Path(named if named is not None else ".env")
    if named is not None and not named.strip():
        return None
    if named is not None and not path.is_file():
        raise ConfigError(f"FLEET_ENV_FILE: no file at {path}")
    return path if path.is_file() else None


# The deepest nesting of brackets a setting's JSON may have: the deepest setting is a list
# of lists or of objects (3 levels); a value nested thousands deep overflows the parser's
# stack (a RecursionError, a traceback) before any check could name it.
DEEPEST_JSON = 16


def json_depth(value: str) -> int:
    """How deeply ``value``'s brackets nest (``[[1]]``: 2), strings skipped; cheap and
    iterative, so that any length is measured without recursion."""
    depth = deepest = 0
    quoted = escaped = False
    for char in value:
        if quoted:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                quoted = False
        elif char == '"':
            quoted = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth = max(0, depth - 1)
    return deepest


def _too_deep(path: Path | None) -> list[str]:
    """The ``FLEET_*`` variables (of the environment, then of the dotenv file) whose
    value nests deeper than ``DEEPEST_JSON``."""
    import os

    from dotenv import dotenv_values

    values = {
        name: value for name, value in os.environ.items() if name.upper().startswith("FLEET_")
    }
    if path is not None:
        for name, value in dotenv_values(path).items():
            if name.upper().startswith("FLEET_") and value is not None:
                values.setdefault(name, value)
    return sorted(name for name, value in values.items() if json_depth(value) > DEEPEST_JSON)


# Where a credential goes, and the credentials that go there: a dotenv file that names
# the destination must hold the credential too (or the environment the destination).
# Else a .env in any directory (a clone, a download) would send the shell's key to its
# own server.
DESTINATIONS: dict[str, tuple[str, ...]] = {
    "ANTHROPIC_BASE_URL": ("ANTHROPIC_API_KEY", "FLEET_LLM__API_KEY"),
    "FLEET_LLM": ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "FLEET_LLM__API_KEY"),
    "FLEET_LLM__BASE_URL": ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "FLEET_LLM__API_KEY"),
    "FLEET_LLM__FALLBACKS": ("ANTHROPIC_API_KEY", "OPENAI_API_KEY"),
    "FLEET_EMBEDDINGS": ("FLEET_EMBEDDINGS__API_KEY",),
    "FLEET_EMBEDDINGS__BASE_URL": ("FLEET_EMBEDDINGS__API_KEY",),
    "FLEET_GALLERY": ("FLEET_GALLERY__TOKEN",),
    "FLEET_GALLERY__URL": ("FLEET_GALLERY__TOKEN",),
}


def _moved_credentials(path: Path | None) -> list[str]:
    """Each credential of the environment that the dotenv file at ``path`` would send
    elsewhere (it names the destination, not the credential), said as a problem."""
    import os

    from dotenv import dotenv_values

    if path is None:
        return []
    in_file = {name.upper() for name, value in dotenv_values(path).items() if value is not None}
    in_environment = {name.upper() for name in os.environ}
    problems = []
    for destination, credentials in DESTINATIONS.items():
        if destination not in in_file or destination in in_environment:
            continue
        moved = [c for c in credentials if c in in_environment and c not in in_file]
        if moved:
            problems.append(
                f"{destination} in {path} would send {' and '.join(moved)} from the "
                f"environment to where the file says: set {destination} in the environment "
                "too, or the credential in the file"
            )
    return problems


def load_settings(**overrides: object) -> Settings:
    """Read the settings (the environment first, then ``env_file()``), or raise
    ConfigError naming each bad variable and why."""
    path = env_file()
    moved = _moved_credentials(path)
    if moved:
        raise ConfigError("bad configuration: " + "; ".join(moved))
    deep = _too_deep(path)
    if deep:
        raise ConfigError(
            "bad configuration: "
            + "; ".join(f"{name}: JSON nested deeper than {DEEPEST_JSON} levels" for name in deep)
        )
    try:
        return Settings(_env_file=path, **overrides)  # type: ignore[arg-type]
    except SettingsError as exc:
        # A value that should be JSON and is not: name the variable, not pydantic's field.
        raise ConfigError("bad configuration: " + _not_json(str(exc))) from None
    except ValidationError as exc:
        problems = [
            # A check across settings (loc (), or a nested model's own check) names its
            # variables in its message.
            (f"{_variable(error['loc'])}: " if error["loc"] and not named else "") + message
            for error in exc.errors()
            for message in [error["msg"].removeprefix("Value error, ")]
            for named in [message.startswith("FLEET_")]
        ]
        raise ConfigError("bad configuration: " + "; ".join(problems)) from None

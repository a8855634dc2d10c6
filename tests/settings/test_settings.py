from __future__ import annotations

import random
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from fleet.cli import cli
from fleet.errors import ConfigError
from fleet.settings import Settings, load_settings


def test_the_embedded_default_is_a_sqlite_file_in_the_user_data_directory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("FLEET_DATABASE_URL", raising=False)
    settings = load_settings()
    assert settings.database_url.startswith("sqlite:///")
    assert settings.database_url.endswith("fleet.db")
    assert settings.broker_url == "memory://"


def test_nested_adapter_settings_are_read_with_a_double_underscore(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FLEET_LLM__MODEL", "claude-test")
    monkeypatch.setenv("FLEET_DISPATCH__BATCH_SIZE", "250")
    monkeypatch.setenv("FLEET_SEED", "42")
    settings = load_settings()
    assert settings.llm.model == "claude-test"
    assert settings.dispatch.batch_size == 250
    assert settings.seed == 42


def test_a_plain_postgresql_url_is_given_the_psycopg_driver() -> None:
    settings = Settings(database_url="postgresql://u@h/db")
    assert settings.database_url == "postgresql+psycopg://u@h/db"


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        (
            "FLEET_DATABASE_URL",
            "mysql://root@localhost/x",
            "FLEET_DATABASE_URL: must start with sqlite:///",
        ),
        ("FLEET_SEED", "abc", "FLEET_SEED: Input should be a valid integer"),
        ("FLEET_SEED", "-1", "FLEET_SEED: Input should be greater than or equal to 0"),
        ("FLEET_BROKER_URL", "kafka://x", "FLEET_BROKER_URL: must be a memory://"),
        ("FLEET_REDIS_URL", "http://x", "FLEET_REDIS_URL: URL scheme should be"),
        (
            "FLEET_DISPATCH__BATCH_SIZE",
            "0",
            "FLEET_DISPATCH__BATCH_SIZE: Input should be greater than or equal to 1",
        ),
        (
            "FLEET_TASKS__SOFT_TIME_LIMIT_SECONDS",
            "100",
            "FLEET_TASKS__SOFT_TIME_LIMIT_SECONDS (100) < FLEET_TASKS__TIME_LIMIT_SECONDS (90)",
        ),
        (
            "FLEET_PERSONAS_DIR",
            "/no/such/dir",
            "FLEET_PERSONAS_DIR: /no/such/dir is not a directory",
        ),
    ],
)
def test_a_bad_value_stops_start_up_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as raised:
        load_settings()
    assert expected in str(raised.value)


def test_secrets_do_not_show_in_the_settings_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-secret-123")
    monkeypatch.setenv("FLEET_GALLERY__TOKEN", "gallery-secret-456")
    settings = load_settings()
    assert settings.anthropic_api_key is not None
    assert settings.anthropic_api_key.get_secret_value() == "sk-ant-secret-123"
    assert "sk-ant-secret-123" not in repr(settings)
    assert "gallery-secret-456" not in repr(settings)


@pytest.mark.parametrize("price", ["NaN", "Infinity", "-1"])
def test_an_llm_price_that_is_not_a_finite_positive_number_stops_start_up(
    monkeypatch: pytest.MonkeyPatch, price: str
) -> None:
    row = f'{{"input": {price}, "output": 1, "cache_read": 1, "cache_write": 1}}'
    monkeypatch.setenv("FLEET_LLM__PRICES", f'{{"claude-x": {row}}}')
    with pytest.raises(ConfigError) as raised:
        load_settings()
    assert "FLEET_LLM__PRICES" in str(raised.value)
    assert "price of 'claude-x' must be finite and not negative" in str(raised.value)


@pytest.mark.parametrize(
    ("variable", "value", "message", "read"),
    [
        pytest.param(
            "FLEET_GALLERY__TIMEOUT_SECONDS",
            "60",
            "FLEET_GALLERY__TIMEOUT_SECONDS (60) must be under "
            "FLEET_TASKS__SOFT_TIME_LIMIT_SECONDS (60)",
            lambda settings: settings.gallery.timeout_seconds,
            id="a gallery call",
        ),
        pytest.param(
            "FLEET_TASKS__REDIS_TIMEOUT_SECONDS",
            "20",
            "FLEET_TASKS__REDIS_TIMEOUT_SECONDS (20) lets a publish to a silent broker wait "
            "60.25 s: it must be under FLEET_TASKS__SOFT_TIME_LIMIT_SECONDS (60)",
            lambda settings: settings.tasks.redis_timeout_seconds,
            id="a publish to a silent broker",
        ),
    ],
)
def test_a_wait_must_end_before_the_task_s_soft_time_limit(
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
    value: str,
    message: str,
    read: Callable[[Settings], float],
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as raised:
        load_settings()
    assert str(raised.value) == f"bad configuration: {message}"
    monkeypatch.setenv("FLEET_TASKS__SOFT_TIME_LIMIT_SECONDS", "61")
    assert read(load_settings()) == float(value)


def test_a_publish_to_a_silent_broker_waits_three_timeouts_and_a_quarter_second() -> None:
    # A try, a new connection and a retry, each up to the timeout, and the pause between.
    assert load_settings().tasks.publish_bound_seconds == 6.25


def test_the_llm_endpoint_and_the_secrets_of_the_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().llm_endpoint() == ("https://api.anthropic.com", "default")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "https://proxy.example/anthropic")
    assert load_settings().llm_endpoint() == (
        "https://proxy.example/anthropic",
        "ANTHROPIC_BASE_URL",
    )
    monkeypatch.setenv("FLEET_LLM__BASE_URL", "http://ops:hunter2-pw@gw.internal:8443/")
    settings = load_settings()
    assert settings.llm_endpoint() == (
        "http://ops:hunter2-pw@gw.internal:8443/",
        "FLEET_LLM__BASE_URL",
    )
    assert "hunter2-pw" in settings.secrets()


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        # A weight of 1e308 made every score inf - inf: NaN odds, and no like was drawn.
        ("FLEET_TASTE__POPULARITY", "1e308", "FLEET_TASTE__POPULARITY: Input should be less"),
        ("FLEET_TASTE__FIT", "101", "FLEET_TASTE__FIT: Input should be less than or equal"),
        ("FLEET_TASTE__WELCOME", "1e6", "FLEET_TASTE__WELCOME: Input should be less"),
        # No feed to read: no candidate, no like, no comment ever.
        ("FLEET_TASTE__SORTS", "[]", "FLEET_TASTE__SORTS: Tuple should have at least 1 item"),
        # An empty list silently turned review mode off.
        ("FLEET_REVIEW__KINDS", "[]", "FLEET_REVIEW__KINDS: List should have at least 1 item"),
        # Expired at the next sweep (every 15 s), before an owner could read a draft.
        ("FLEET_REVIEW__EXPIRES_HOURS", "0.001", "FLEET_REVIEW__EXPIRES_HOURS: Input should be"),
    ],
)
def test_a_setting_out_of_its_meaningful_range_stops_start_up(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as raised:
        load_settings()
    assert expected in str(raised.value)


def test_the_largest_taste_weights_still_draw_a_like() -> None:
    from fleet.core.taste import Candidate, Weights, draw

    most = {name: 100.0 for name in ("fit", "popularity", "appeal", "freshness", "tie")}
    weights = Weights(**most)  # type: ignore[arg-type]
    page = [
        Candidate(str(i), f"u{i}", i % 2 == 0, likes=10**i, age_seconds=60.0 * i, ties=i)
        for i in range(1, 8)
    ]
    assert draw(page, weights, random.Random(1)) is not None


@pytest.mark.parametrize(
    "variable", ["FLEET_WELCOME__LIKES", "FLEET_LLM__FALLBACKS", "FLEET_LLM__PRICES"]
)
def test_deeply_nested_json_exits_2_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.setenv(variable, "[" * 100_000 + "]" * 100_000)
    with pytest.raises(ConfigError) as raised:
        load_settings()
    assert str(raised.value) == f"bad configuration: {variable}: JSON nested deeper than 16 levels"
    result = CliRunner().invoke(cli, ["drafts", "list"])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and variable in result.stderr


def test_json_depth_skips_brackets_inside_strings() -> None:
    from fleet.settings import json_depth

    assert json_depth('[[1, 2], {"a": "[[[[[[", "b": "\\\\\\"[["}]') == 2
    assert json_depth("[" * 17) == 17


def test_a_dotenv_file_may_not_send_the_environment_s_key_elsewhere(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A .env in the working directory (a clone, a download) naming ANTHROPIC_BASE_URL
    would send the shell's ANTHROPIC_API_KEY to its server: refused, naming both."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FLEET_ENV_FILE")
    # A gallery off this machine names its operator (docs/disclosure.md).
    monkeypatch.setenv("FLEET_DISCLOSURE__OPERATOR_NAME", "Gallery Ops")
    monkeypatch.setenv("FLEET_DISCLOSURE__OPERATOR_URL", "https://gallery.example/ops")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-from-the-shell")
    (tmp_path / ".env").write_text("ANTHROPIC_BASE_URL=https://collector.example\n")
    with pytest.raises(ConfigError) as raised:
        load_settings()
    said = str(raised.value)
    assert "ANTHROPIC_BASE_URL in .env would send ANTHROPIC_API_KEY" in said
    assert "sk-ant-from-the-shell" not in said
    result = CliRunner().invoke(cli, ["drafts", "list"])
    assert result.exit_code == 2 and "ANTHROPIC_BASE_URL" in result.stderr
    # The gallery's token and the embeddings' key alike.
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    monkeypatch.setenv("FLEET_GALLERY__TOKEN", "gallery-token")
    (tmp_path / ".env").write_text("FLEET_GALLERY__URL=https://collector.example\n")
    with pytest.raises(ConfigError, match=r"FLEET_GALLERY__URL in \.env would send FLEET_GALLERY"):
        load_settings()
    # Both from the file, or the destination from the environment too: as the owner says.
    (tmp_path / ".env").write_text(
        "FLEET_GALLERY__URL=https://gallery.example\nFLEET_GALLERY__TOKEN=file-token\n"
    )
    assert str(load_settings().gallery.url) == "https://gallery.example/"
    (tmp_path / ".env").write_text("FLEET_GALLERY__URL=https://collector.example\n")
    monkeypatch.setenv("FLEET_GALLERY__URL", "https://gallery.example")
    assert str(load_settings().gallery.url) == "https://gallery.example/"


def test_make_run_s_env_file_is_private_quoted_and_read_back_as_written(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from fleet.settings import write_env_file, write_run_env

    url = "postgresql+psycopg://fleet:pa$$w0rd'\\x@127.0.0.1:5432/fleet"
    monkeypatch.setenv("FLEET_DATABASE_URL", url)
    monkeypatch.setenv("FLEET_REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.chdir(tmp_path)
    write_run_env()
    path = tmp_path / ".env"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600, "a password in the URL: owner only"
    monkeypatch.delenv("FLEET_DATABASE_URL")
    monkeypatch.delenv("FLEET_ENV_FILE")
    assert load_settings().database_url == url, "the $, the quote and the backslash kept"
    before = path.read_text()
    with pytest.raises(ConfigError, match="exists"):
        write_env_file(path, {"FLEET_SEED": "2"})
    assert path.read_text() == before
    with pytest.raises(ConfigError, match=r"FLEET_DATABASE_URL: .*\$\{"):
        write_env_file(tmp_path / "other.env", {"FLEET_DATABASE_URL": "sqlite:///${HOME}/x"})
    assert not (tmp_path / "other.env").exists()
    # make run writes it from the environment through this function, not make's $(...).
    recipe = (Path(__file__).parents[2] / "Makefile").read_text().split("\nrun:")[1]
    recipe = recipe.split("\n\n")[0]
    assert "write_run_env()" in recipe and "> .env" not in recipe


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("FLEET_IMPACT__HOLDOUT_SHARE", "0.6"),
        ("FLEET_IMPACT__HOLDOUT_SHARE", "-0.1"),
        ("FLEET_IMPACT__HOLDOUT_SHARE", "nan"),
        ("FLEET_IMPACT__HOLDOUT_SHARE", "inf"),
        ("FLEET_IMPACT__HOLDOUT_DAYS", "0"),
        ("FLEET_IMPACT__HOLDOUT_DAYS", "91"),
        ("FLEET_IMPACT__EXPERIMENT", "Drop Table"),
    ],
)
def test_a_bad_impact_setting_stops_start_up_naming_it(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=name):
        load_settings()


def test_the_holdout_defaults_to_a_tenth_for_fourteen_days(monkeypatch: pytest.MonkeyPatch) -> None:
    impact = load_settings().impact
    assert (impact.holdout_share, impact.holdout_days) == (0.1, 14)
    monkeypatch.setenv("FLEET_IMPACT__HOLDOUT_SHARE", "0")
    assert load_settings().impact.holdout_share == 0

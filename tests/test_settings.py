from __future__ import annotations

import pytest

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


def test_a_gallery_call_must_end_before_the_task_s_soft_time_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FLEET_GALLERY__TIMEOUT_SECONDS", "60")
    with pytest.raises(ConfigError) as raised:
        load_settings()
    assert str(raised.value) == (
        "bad configuration: FLEET_GALLERY__TIMEOUT_SECONDS (60) must be under "
        "FLEET_TASKS__SOFT_TIME_LIMIT_SECONDS (60)"
    )
    monkeypatch.setenv("FLEET_TASKS__SOFT_TIME_LIMIT_SECONDS", "61")
    assert load_settings().gallery.timeout_seconds == 60


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

from __future__ import annotations

from pathlib import Path

import pytest

from auditor.settings import Settings, SettingsError, load_settings


def test_defaults_without_file_or_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(env={})
    assert settings == Settings()
    assert settings.db_path == Path("labelwatch-data/labelwatch.duckdb")
    assert settings.schedules["fuse"] == "interval:15m"
    assert not (tmp_path / "labelwatch-data").exists()  # building settings touches nothing


def test_toml_then_env_override_in_that_order(tmp_path: Path) -> None:
    config = tmp_path / "lw.toml"
    config.write_text(
        'db_path = "a.duckdb"\ncurrency = "EUR"\n[thresholds]\nece = 0.1\n'
        '[schedules]\nfuse = "interval:5m"\n'
    )
    env = {
        "LABELWATCH_DB_PATH": "b.duckdb",
        "LABELWATCH_THRESHOLDS__KAPPA": "0.3",
        "LABELWATCH_LOCK_TIMEOUT_S": "5",
        "OTHER": "ignored",
    }
    settings = load_settings(config, env=env)
    assert settings.db_path == Path("b.duckdb")
    assert settings.currency == "EUR"
    assert settings.thresholds["ece"] == 0.1
    assert settings.thresholds["kappa"] == 0.3
    assert settings.thresholds["coverage_drop_relative"] == 0.3  # defaults kept beside overrides
    assert settings.schedules["fuse"] == "interval:5m"
    assert settings.lock_timeout_s == 5.0


def test_config_file_from_environment(tmp_path: Path) -> None:
    config = tmp_path / "lw.toml"
    config.write_text("dashboard_port = 9000\n")
    assert load_settings(env={"LABELWATCH_CONFIG": str(config)}).dashboard_port == 9000


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"LABELWATCH_NOPE": "1"}, "unknown setting 'nope'"),
        (
            {"LABELWATCH_INGEST_CHUNK_ROWS": "many"},
            "'ingest_chunk_rows': cannot read 'many' as int",
        ),
        ({"LABELWATCH_CURRENCY__X": "1"}, "is not a table"),
    ],
)
def test_bad_settings_name_the_key(env: dict, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings(env=env)

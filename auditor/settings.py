"""One Settings object, built only in entry points (CLI, scheduler, dashboard).

Sources, later ones winning: the defaults below, a TOML file (``--config``, else
``$LABELWATCH_CONFIG``, else ``./labelwatch.toml`` when present), then ``LABELWATCH_*``
environment variables. Nested tables use a double underscore:
``LABELWATCH_THRESHOLDS__ECE=0.05``, ``LABELWATCH_SCHEDULES__FUSE="interval:10m"``.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

ENV_PREFIX = "LABELWATCH_"
DEFAULT_CONFIG_FILE = Path("labelwatch.toml")

DEFAULT_SCHEDULES: Mapping[str, str] = MappingProxyType(
    {
        "ingest-watch": "interval:5m",
        "fuse": "interval:15m",
        "rules": "interval:15m",
        "metrics": "interval:1h",
        "budget": "interval:1h",
        "audit-sample": "cron:0 6 * * *",
        "alerts": "interval:15m",
    }
)

DEFAULT_THRESHOLDS: Mapping[str, float] = MappingProxyType(
    {
        "coverage_drop_relative": 0.30,
        "ece": 0.05,
        "kappa": 0.40,
        "worse_than_chance_margin": 0.0,
        # an ECE from fewer labelled items is mostly binning noise: reported, not alerted
        "min_items_for_ece": 100,
        # an LF below chance on gold warns from this many gold votes on (critical once its
        # Wilson upper bound is below chance)
        "min_gold_votes_for_chance": 20,
        # a rise of the cost per correct label (trailing window vs the one before) above
        # this share alerts
        "cost_per_correct_jump_relative": 0.5,
    }
)


class SettingsError(ValueError):
    """A configuration value is missing, unknown or of the wrong type."""


@dataclass(frozen=True)
class Settings:
    """Every tunable of a labelwatch deployment. Paths are relative to the working dir."""

    db_path: Path = Path("labelwatch-data/labelwatch.duckdb")
    users_file: Path = Path("labelwatch-data/users.toml")
    scheduler_db: Path = Path("labelwatch-data/scheduler.sqlite")
    demo_dir: Path = Path("labelwatch-data/demo")
    # subtask-boundary rules: <rules_dir>/<task name>.toml, loaded by the rules job
    rules_dir: Path = Path("labelwatch-data/rules")
    currency: str = "USD"
    ingest_chunk_rows: int = 1_000_000
    lock_timeout_s: float = 30.0
    duckdb_memory_limit: str = "1GB"
    dashboard_port: int = 8501
    fuse_use_benchmark_gold: bool = False
    # POSTed new alerts as JSON when set; empty = no webhook (never a default URL).
    alert_webhook_url: str = ""
    # Metric windows: daily by default. Drift and coverage change compare the first
    # drift_reference_days of a subtask with the drift_current_days up to each window.
    metric_window: str = "1d"
    drift_reference_days: int = 7
    drift_current_days: int = 7
    drift_sample_rows: int = 50_000
    # audit rounds: expected items per round, the uniform share of it, strategy weights
    audit_round_items: int = 200
    audit_random_share: float = 0.2
    audit_hourly_rate: float = 30.0
    # scheduler: a failing job is retried job_retries times, waiting job_retry_backoff_s
    # x 2^(attempt-1); the heartbeat file is rewritten every heartbeat_interval_s and is
    # stale (`labelwatch health` fails) after heartbeat_max_age_s; log_format text | json
    job_retries: int = 2
    job_retry_backoff_s: float = 30.0
    heartbeat_interval_s: float = 30.0
    heartbeat_max_age_s: float = 120.0
    log_format: str = "text"
    # ingest-watch: files dropped into <watch_dir>/<task>/<kind>/ are ingested, then moved
    # to <watch_dir>/processed/ or <watch_dir>/failed/; empty = the job is off
    watch_dir: str = ""
    schedules: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_SCHEDULES))
    thresholds: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_THRESHOLDS))
    # Budgets and goals per task, synced into the database by the budget job:
    # [budget.<task>] name, amount, currency, period_start, period_end, goals = [{kind,
    # target, params}] (see README). The forecast uses the last budget_trailing_days.
    budget: Mapping[str, Any] = field(default_factory=dict)
    budget_trailing_days: int = 14
    budget_forecast_method: str = "mean"
    # "as of" day of the budget figures (ISO date); empty: the task's newest data
    # (items, events), never after today
    budget_as_of: str = ""

    @property
    def data_dir(self) -> Path:
        return self.db_path.parent


def load_settings(
    config_file: Path | None = None,
    *,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Build Settings from defaults, a TOML file, the environment and explicit overrides.

    Raises SettingsError naming the offending key for unknown keys or bad types, and
    FileNotFoundError when an explicitly named config file does not exist.
    """
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    path = config_file or (
        Path(env[ENV_PREFIX + "CONFIG"]) if ENV_PREFIX + "CONFIG" in env else None
    )
    if path is None and DEFAULT_CONFIG_FILE.is_file():
        path = DEFAULT_CONFIG_FILE
    if path is not None:
        with open(path, "rb") as handle:
            values.update(_flatten_toml(tomllib.load(handle), source=str(path)))
    for name, raw in env.items():
        if name.startswith(ENV_PREFIX) and name != ENV_PREFIX + "CONFIG":
            values[name[len(ENV_PREFIX) :].lower()] = raw
    values.update(overrides or {})
    return _build(values)


def _flatten_toml(data: Mapping[str, Any], *, source: str) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, Mapping):
            for sub, sub_value in value.items():
                flat[f"{key}__{sub}"] = sub_value
        else:
            flat[key] = value
    return flat


def _build(values: Mapping[str, Any]) -> Settings:
    fields = {f.name: f for f in dataclasses.fields(Settings)}
    defaults = Settings()
    kwargs: dict[str, Any] = {}
    for key, raw in values.items():
        top, _, sub = key.partition("__")
        if top not in fields:
            raise SettingsError(f"unknown setting {key!r}; known: {', '.join(sorted(fields))}")
        current = getattr(defaults, top)
        if isinstance(current, Mapping):
            merged = dict(kwargs.get(top, current))
            if not sub:
                if not isinstance(raw, Mapping):
                    raise SettingsError(f"setting {top!r} must be a table")
                for sub_key, sub_value in raw.items():
                    merged[sub_key] = _coerce_like(
                        current.get(sub_key), sub_value, f"{top}.{sub_key}"
                    )
            else:
                merged[sub] = _coerce_like(current.get(sub), raw, f"{top}.{sub}")
            kwargs[top] = merged
        elif sub:
            raise SettingsError(f"setting {top!r} is not a table, so {key!r} is not valid")
        else:
            kwargs[top] = _coerce_like(current, raw, top)
    return dataclasses.replace(defaults, **kwargs)


def _coerce_like(example: Any, raw: Any, name: str) -> Any:
    """Convert raw (often an env string) to the type of the default value."""
    try:
        if isinstance(example, bool):
            if isinstance(raw, str):
                if raw.lower() not in {"1", "0", "true", "false", "yes", "no"}:
                    raise ValueError(raw)
                return raw.lower() in {"1", "true", "yes"}
            return bool(raw)
        if isinstance(example, Path):
            return Path(raw)
        if isinstance(example, int):
            return int(raw)
        if isinstance(example, float):
            return float(raw)
        if isinstance(example, str):
            return str(raw)
    except (TypeError, ValueError) as exc:
        raise SettingsError(
            f"setting {name!r}: cannot read {raw!r} as {type(example).__name__}"
        ) from exc
    return raw

"""The metrics job: per task, subtask and window, compute every metric family and drift,
replace those windows' rows in `metrics` (history of other windows kept), and raise,
refresh or resolve alerts, all in one transaction per task; new alerts then go to the
webhook when one is configured.

Windows (settings.metric_window, default 1 day) are recomputed from the latest window
already stored for the task (it may have been partial) onward; `full=True` recomputes
all. The drift reference is the first settings.drift_reference_days of each subtask; the
current side is the settings.drift_current_days up to the latest window (drift rows are
written for the latest window only: see auditor.jobs.drift_frames).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
from collections import defaultdict
from dataclasses import replace

from auditor.jobs import JobOutcome
from auditor.metrics.alert_rules import evaluate, evaluated_keys
from auditor.metrics.families import Clock, subtask_rows
from auditor.metrics.inputs import SubtaskInputs
from auditor.metrics.rows import MetricRow
from auditor.settings import Settings
from auditor.store import Store
from auditor.store.alerts_io import apply_conditions
from auditor.store.fusion_io import list_subtasks
from auditor.store.metrics_io import (
    latest_window_start,
    read_subtask_inputs,
    replace_window_metrics,
)

log = logging.getLogger(__name__)
UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def parse_window(text: str) -> dt.timedelta:
    """'1d', '6h', '30m' -> timedelta; ValueError naming the setting otherwise."""
    match = re.fullmatch(r"\s*(\d+)\s*([mhd])\s*", text)
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"metric_window {text!r}: expected a positive <number><m|h|d>, e.g. 1d")
    return dt.timedelta(**{UNITS[match.group(2)]: int(match.group(1))})


def run_metrics(
    store: Store,
    settings: Settings,
    *,
    job_run_id: int | None = None,
    full: bool = False,
    timings: dict[str, float] | None = None,
    task: str | None = None,
) -> JobOutcome:
    """timings, when given, accumulates seconds per stage: read (SQL counting and reads),
    the metric families (lf, agreement, calibration), drift, and write (metrics + alerts)."""
    clock = Clock(timings)
    width = parse_window(settings.metric_window)
    reference_windows = max(1, math.ceil(dt.timedelta(days=settings.drift_reference_days) / width))
    current_windows = max(1, math.ceil(dt.timedelta(days=settings.drift_current_days) / width))
    with store.connect() as con:
        subtasks = list_subtasks(con)
    if not subtasks:
        return JobOutcome(skipped_reason="no subtasks defined yet")
    by_task: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for task_id, subtask_id, name, _ in subtasks:
        if task is None or name == task:
            by_task[name].append((task_id, subtask_id))
    read = written = 0
    for task, ids in by_task.items():
        rows: list[MetricRow] = []
        with store.connect() as con:
            since = None if full else latest_window_start(con, task)
        for task_id, subtask_id in ids:
            with clock("read"), store.connect() as con:
                data = read_subtask_inputs(con, task_id, subtask_id, width=width)
            if not data.windows:
                continue
            first = next(
                (w for w, (start, _) in enumerate(data.windows) if since is None or start >= since),
                len(data.windows),
            )
            todo = range(first, len(data.windows))
            rows += subtask_rows(
                data,
                reference_windows=reference_windows,
                current_windows=current_windows,
                only=todo,
                timings=timings,
            )
            with clock("drift"):
                rows += _drift(data, reference_windows, current_windows, settings.drift_sample_rows)
            read += int((data.L != -1).sum())
        with clock("write"):
            written += _store(store, settings, task, rows, job_run_id)
    return JobOutcome(rows_read=read, rows_written=written)


def _drift(
    data: SubtaskInputs, reference_windows: int, current_windows: int, sample_rows: int
) -> list[MetricRow]:
    from auditor.jobs.drift_frames import drift_rows  # its first call imports evidently

    return drift_rows(
        data,
        reference_windows=reference_windows,
        current_windows=current_windows,
        sample_rows=sample_rows,
    )


def _store(
    store: Store, settings: Settings, task: str, rows: list[MetricRow], job_run_id: int | None
) -> int:
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    scoped = [replace(row, scope=f"{task}/{row.scope}") for row in rows]
    with store.transaction() as con:
        replace_window_metrics(con, task, rows, job_run_id=job_run_id, computed_at=now)
        changes = apply_conditions(
            con,
            evaluate(scoped, settings.thresholds),
            evaluated=evaluated_keys(scoped),
            now=now,
            task=task,
        )
    if changes.new and settings.alert_webhook_url:
        from auditor.webhook import post_alerts

        result = post_alerts(settings.alert_webhook_url, changes.new)
        if not result.ok:
            log.warning("alert webhook failed: %s", result.error)
    return len(rows)

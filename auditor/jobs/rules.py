"""The rules job: check each task's latest fused labels and votes against its
subtask-boundary rules; replace the task's `rule_violations` rows and write one metric row
per rule ("rules.violations", all time), in one transaction per task.

Rules come from ``<settings.rules_dir>/<task name>.toml`` (format: auditor.rules.definitions)
when that file exists; every task also has the implicit rules (each refinement applies only
under its parent label; improbable items below a feasible joint mass of 0.2). Every file
is validated before anything is written: a bad one fails the job with the RulesError
message, which names the file, the rule and the problem. Tasks without fused labels are
left alone; the job skips when no task has any.
"""

from __future__ import annotations

import datetime as dt
import math

from auditor.jobs import JobOutcome
from auditor.metrics.estimate import Estimate
from auditor.metrics.rows import MetricRow
from auditor.rules.checks import CheckResult, check
from auditor.rules.definitions import RuleSet, load_rules
from auditor.settings import Settings
from auditor.store import Store
from auditor.store.connection import Connection
from auditor.store.metrics_io import replace_window_metrics
from auditor.store.rules_io import (
    StoredShape,
    has_fused_labels,
    list_tasks,
    read_check_inputs,
    read_task_shape,
    read_violating_items,
    replace_violations,
)

METRIC = "rules.violations"


def run_rules(
    store: Store, settings: Settings, *, job_run_id: int | None = None, task: str | None = None
) -> JobOutcome:
    """Check every task's rules (one task's, when task is given)."""
    with store.connect() as con:
        tasks = [
            (name, read_task_shape(con, task_id))
            for task_id, name in list_tasks(con)
            if (task is None or name == task) and has_fused_labels(con, task_id)
        ]
    if not tasks:
        return JobOutcome(skipped_reason="no fused labels yet")
    # validate every file first: a bad one fails the job before anything is replaced
    checks: list[tuple[str, StoredShape, RuleSet]] = [
        (name, stored, load_rules(settings.rules_dir / f"{name}.toml", task=stored.shape))
        for name, stored in tasks
    ]
    read = written = 0
    for name, stored, rules in checks:
        with store.connect() as con:
            item_ids, inputs = read_check_inputs(
                con, stored, vote_lfs=sorted({rule.lf for rule in rules.lf_labels})
            )
        result = check(rules, stored.shape, inputs)
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        with store.transaction() as con:
            written += replace_violations(
                con,
                stored.task_id,
                result.violations.map_ids(item_ids, stored.lf_ids),
                job_run_id=job_run_id,
                checked_at=now,
            )
            written += replace_window_metrics(
                con, name, metric_rows(result), job_run_id=job_run_id, computed_at=now
            )
        read += result.n_checked + len(inputs.vote_item)
    return JobOutcome(rows_read=read, rows_written=written)


def metric_rows(result: CheckResult) -> list[MetricRow]:
    """One "rules.violations" row per rule: value = share of checked items violating it,
    n = checked items; details: count (violation rows), items (distinct), kind."""
    rows = []
    n = result.n_checked
    for count in result.counts:
        details: dict[str, object] = {
            "count": count.violations,
            "items": count.items,
            "kind": count.kind,
        }
        value, reason = (count.items / n, None) if n else (math.nan, "no checked items")
        estimate = Estimate(value, n=n, reason=reason, details=details)
        rows.append(MetricRow(METRIC, count.scope, count.rule, None, None, estimate))
    return rows


def violating_items(con: Connection, task_id: int) -> dict[int, list[str]]:
    """item_id -> names of the rules it violates, from the latest rules run (for the audit
    sampler: items that break rules are worth an auditor's look)."""
    return read_violating_items(con, task_id)


def validate_rules_files(store: Store, settings: Settings) -> int:
    """Load and validate every task's rules file (the scheduler calls it at start, so that
    a bad file stops it with the file, rule and problem named instead of failing every
    run). Returns how many files were checked; RulesError for the first bad one."""
    checked = 0
    with store.connect() as con:
        shapes = [read_task_shape(con, task_id) for task_id, _ in list_tasks(con)]
    for stored in shapes:
        path = settings.rules_dir / f"{stored.shape.name}.toml"
        if path.exists():
            load_rules(path, task=stored.shape)
            checked += 1
    return checked

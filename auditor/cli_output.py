"""Plain-text renderings of CLI results (the --json forms print the dataclasses)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from auditor.demo.workspace import DemoReport
from auditor.jobs import Job
from auditor.settings import Settings
from auditor.store.loading import IngestReport
from auditor.store.queries import Status
from auditor.store.tasks import TaskUpsertReport


def tasks_report(source: Path, report: TaskUpsertReport) -> str:
    return (
        f"tasks from {source}: {report.tasks_created} task(s), "
        f"{report.subtasks_created} subtask(s), {report.labels_added} label(s) added"
    )


def ingest_report(report: IngestReport, task: str) -> str:
    lines = [
        f"{report.kind} from {report.source} into task {task!r}: read {report.rows_read} rows",
        f"  accepted {report.accepted} (inserted {report.inserted}, updated {report.updated}, "
        f"unchanged {report.unchanged})",
    ]
    for what, count in report.registered.items():
        if count:
            lines.append(f"  registered {count} new {what} (--register)")
    if report.quarantined:
        lines.append(f"  quarantined {report.quarantined}:")
        for reason, count in sorted(report.quarantine_reasons.items(), key=lambda kv: -kv[1]):
            lines.append(f"    {count:>8}  {reason}")
        lines.append(f"  details: labelwatch quarantine --ingestion {report.ingestion_id}")
    return "\n".join(lines)


def demo_report(report: DemoReport, settings: Settings) -> str:
    lines = [
        f"Demo workspace {report.task!r} built in {report.seconds:.1f} s at {settings.db_path}"
    ]
    lines += ["  " + ingest_report(r, report.task).replace("\n", "\n  ") for r in report.reports]
    lines.append("  " + drift_summary(report.drift))
    lines.append(
        f"Demo logins (random; also in {settings.demo_dir / 'LOGINS.txt'}, readable by you only):"
    )
    lines += [f"  {user:<10} {role:<8} {password}" for user, role, password in report.logins]
    return "\n".join(lines)


def drift_summary(drift: Mapping[str, Any]) -> str:
    """One line on the drift the demo injected, so a user knows what the monitors should find."""
    parts = []
    if "collapsed_lf" in drift:
        parts.append(
            f"LF {drift['collapsed_lf']!r} coverage collapses from "
            f"{drift.get('collapse_date', 'day ' + str(drift.get('collapse_day')))}"
        )
    if "shifted_class" in drift:
        cls = drift["shifted_class"]
        before = drift.get("prior_before", {}).get(cls)
        after = drift.get("prior_after", {}).get(cls)
        share = f" ({before:.2f} -> {after:.2f})" if before is not None and after else ""
        parts.append(
            f"class {cls!r} prior shifts{share} from "
            f"{drift.get('shift_date', 'day ' + str(drift.get('shift_day')))}"
        )
    if "worse_than_chance_lf" in drift:
        parts.append(f"LF {drift['worse_than_chance_lf']!r} is worse than chance")
    return "injected: " + "; ".join(parts) if parts else "no injected drift"


def job_list(jobs: Mapping[str, Job], pipeline: Iterable[str]) -> str:
    lines = ["Pipeline (in order):"]
    for name in pipeline:
        job = jobs.get(name)
        lines.append(f"  {name:14s} {job.description if job else '(not implemented yet)'}")
    return "\n".join(lines)


def _table(rows: list[dict[str, Any]], columns: list[str]) -> list[str]:
    if not rows:
        return ["  (none)"]
    widths = {c: max(len(c), *(len(_fmt(r.get(c))) for r in rows)) for c in columns}
    lines = ["  " + "  ".join(c.ljust(widths[c]) for c in columns)]
    lines += ["  " + "  ".join(_fmt(r.get(c)).ljust(widths[c]) for c in columns) for r in rows]
    return lines


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return "" if value is None else str(value)


def status_text(status: Status, db: Path) -> str:
    if status.schema_version == 0:
        return f"{db}: not initialised (run `labelwatch init`)"
    lines = [f"{db}: schema version {status.schema_version}"]
    if status.scheduler:
        s = status.scheduler
        age = "never" if s["age_s"] == float("inf") else f"{s['age_s']:.0f} s ago"
        alive = "alive" if s["alive"] else "NOT RUNNING"
        running = f", running {s['running']}" if s.get("running") else ""
        lines.append(f"scheduler: {alive} ({s['state']}, heartbeat {age}{running})")
    lines += ["", "Tables:"]
    lines += [f"  {name:20s} {count:>12,}" for name, count in status.counts.items()]
    lines += ["", "Tasks:"]
    lines += _table(status.tasks, ["task", "items", "covered_items", "coverage", "lfs", "subtasks"])
    lines += ["", "Last run of each job:"]
    lines += _table(
        status.last_job_runs, ["job", "task", "status", "started_at", "duration_s", "error"]
    )
    if status.recent_failures:
        lines += ["", "Recent failures:"]
        lines += _table(
            status.recent_failures, ["job_run_id", "job", "task", "attempt", "started_at", "error"]
        )
    lines += ["", "Open alerts:"]
    lines += _table(status.open_alerts, ["severity", "metric", "scope", "message", "last_seen"])
    lines += ["", "Recent ingestions:"]
    lines += _table(
        status.recent_ingestions,
        [
            "ingestion_id",
            "kind",
            "task",
            "rows_read",
            "inserted",
            "updated",
            "unchanged",
            "quarantined",
        ],
    )
    if status.quarantine_reasons:
        lines += ["", "Quarantined rows by reason:"]
        lines += _table(status.quarantine_reasons, ["kind", "reason", "rows"])
    return "\n".join(lines)


def quarantine_text(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "No quarantined rows."
    return "\n".join(
        f"#{r['ingestion_id']} {r['source_file']} row {r['row_number']}: {r['reason']}\n"
        f"    {r['raw']}"
        for r in rows
    )


def alerts_text(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "No alerts."
    return "\n".join(
        f"#{r['alert_id']} {r['state']:<12} {r['severity']:<8} {r['metric']} "
        f"{r['scope']} {r['key']} (last seen {r['last_seen']:%Y-%m-%d %H:%M})\n    {r['message']}"
        for r in rows
    )

"""`labelwatch audit ...`: the audit queue, auditors' submissions, disputes, adjudication.

``add_audit_parser(sub)`` adds the `audit` command and returns its sub-parsers (more
actions can be added to them); ``cmd_audit`` dispatches on ``args.action`` through
AUDIT_COMMANDS, whose handlers take (args, settings) and return the exit status.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from auditor.audit.submissions import read_submissions
from auditor.cli_common import emit, open_store
from auditor.cli_report import add_sample_parser, cmd_audit_sample
from auditor.settings import Settings
from auditor.store.audit_io import (
    SubmitReport,
    adjudicate,
    list_queue,
    needs_adjudication,
    submit_corrections,
)
from auditor.users import UserError, load_users

Handler = Callable[[argparse.Namespace, Settings], int]


def add_audit_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse._SubParsersAction[argparse.ArgumentParser]:
    """Add `audit` with its actions to sub; return the actions' sub-parsers."""
    audit = sub.add_parser("audit", help="the audit loop: queue, submissions, disputes")
    actions = audit.add_subparsers(dest="action", required=True)
    queue = actions.add_parser("queue", help="queue entries with fused labels and LF votes")
    queue.add_argument("--task")
    queue.add_argument("--auditor", help="leave out entries assigned to someone else")
    queue.add_argument("--state", choices=["open", "done", "skipped"], default="open")
    queue.add_argument("--limit", type=int, default=100)
    submit = actions.add_parser(
        "submit", help="auditors' labels from CSV or JSON lines (all rows or none)"
    )
    submit.add_argument("file", type=Path, help="columns item, subtask, label, auditor, seconds")
    submit.add_argument("--task", help="task of rows without a task column value")
    submit.add_argument(
        "--allow-outside-queue",
        action="store_true",
        help="accept items that are in no audit queue for the subtask",
    )
    decide = actions.add_parser("adjudicate", help="decide an item the auditors disagree on")
    decide.add_argument("item")
    decide.add_argument("subtask")
    decide.add_argument("label")
    decide.add_argument("--admin", required=True, help="who decides (an admin user)")
    decide.add_argument("--task")
    decide.add_argument("--note")
    add_sample_parser(actions)
    disputes = actions.add_parser("disputes", help="items whose auditors disagree")
    disputes.add_argument("--task")
    for parser in (queue, submit, decide, disputes):
        parser.add_argument("--json", action="store_true")
    return actions


def cmd_audit(args: argparse.Namespace, settings: Settings) -> int:
    return AUDIT_COMMANDS[args.action](args, settings)


def cmd_queue(args: argparse.Namespace, settings: Settings) -> int:
    with open_store(settings).connect() as con:
        rows = list_queue(
            con, task=args.task, auditor=args.auditor, state=args.state, limit=args.limit
        )
    emit(args, rows, queue_text(rows))
    return 0


def cmd_submit(args: argparse.Namespace, settings: Settings) -> int:
    rows = read_submissions(args.file, task=args.task)
    with open_store(settings).connect() as con:
        report = submit_corrections(
            con,
            rows,
            allow_outside_queue=args.allow_outside_queue,
            now=datetime.now(UTC),
            hourly_rate=settings.audit_hourly_rate,
            currency=settings.currency,
        )
    emit(args, asdict(report), submit_text(report, args.file))
    return 0


def cmd_adjudicate(args: argparse.Namespace, settings: Settings) -> int:
    """When a users file exists, --admin must name an admin in it; without one (a CLI-only
    deployment) the name is recorded as given."""
    users = load_users(settings.users_file)
    user = users.get(args.admin)
    if users and (user is None or not user.can("admin")):
        raise UserError(f"{args.admin!r} is not an admin in {settings.users_file}")
    with open_store(settings).connect() as con:
        row = adjudicate(
            con,
            args.item,
            args.subtask,
            args.label,
            admin=args.admin,
            note=args.note,
            now=datetime.now(UTC),
            task=args.task,
        )
    emit(
        args,
        row,
        f"{row['task']}/{row['subtask']} {row['item']}: {row['label']} "
        f"(adjudication #{row['adjudication_id']} by {row['admin']})",
    )
    return 0


def cmd_disputes(args: argparse.Namespace, settings: Settings) -> int:
    with open_store(settings).connect() as con:
        rows = needs_adjudication(con, task=args.task)
    emit(args, rows, disputes_text(rows))
    return 0


def queue_text(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "The audit queue is empty."
    blocks = []
    for r in rows:
        proba = r["probabilities"] or {}
        shares = ", ".join(f"{name} {p:.3f}" for name, p in proba.items())
        lines = [
            f"round {r['round_id']}  {r['task']}/{r['subtask']}  {r['item']}  "
            f"fused {r['fused_label']}" + (f" ({shares})" if shares else ""),
            f"  {r['strategy']} score {r['score']:.3f}  stratum {r['stratum']}  "
            f"inclusion {r['inclusion_probability']:.3f}  "
            f"assigned to {r['assigned_to'] or '-'}  {r['state']}",
        ]
        for v in r["votes"]:
            confidence = "-" if v["confidence"] is None else f"{v['confidence']:.2f}"
            weight = "" if v["contribution"] is None else f"{v['contribution']:+.3f}"
            lines.append(f"    {v['lf']:<20} {v['label']:<16} conf {confidence:<5} {weight}")
        blocks.append("\n".join(lines))
    footer = "(vote numbers: log-odds each LF adds for the fused label over the runner-up)"
    return "\n".join([*blocks, footer])


def submit_text(report: SubmitReport, source: Path) -> str:
    lines = [
        f"{source}: {report.corrections} correction(s) recorded"
        + (f", {report.outside_queue} outside the queue" if report.outside_queue else "")
        + f"; {report.queue_entries_closed} queue entr"
        + ("y" if report.queue_entries_closed == 1 else "ies")
        + " closed",
        f"  audit time {report.seconds:.0f} s, cost {report.cost} {report.currency}",
    ]
    if report.needs_adjudication:
        lines.append("  now needing adjudication (labelwatch audit disputes):")
        lines += ["    " + _dispute_line(row) for row in report.needs_adjudication]
    return "\n".join(lines)


def disputes_text(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "No items need adjudication."
    lines = [_dispute_line(row) for row in rows]
    lines.append("decide with: labelwatch audit adjudicate ITEM SUBTASK LABEL --admin NAME")
    return "\n".join(lines)


def _dispute_line(row: dict[str, Any]) -> str:
    labels = "  ".join(f"{auditor}={label}" for auditor, label in row["labels"].items())
    return f"{row['task']}/{row['subtask']} {row['item']}  {labels}"


AUDIT_COMMANDS: dict[str, Handler] = {
    "queue": cmd_queue,
    "submit": cmd_submit,
    "adjudicate": cmd_adjudicate,
    "disputes": cmd_disputes,
    "sample": cmd_audit_sample,
}

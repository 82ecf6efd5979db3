"""Auditors' submission files: one correction per row, read into Submission rows.

Columns (CSV, JSON lines or Parquet; see ``auditor.ingest.readers``):

    item, label, auditor, seconds   required
    subtask                         optional when the task has a single subtask
    note, task                      optional (task: when several tasks share item ids)

Row 1 is the first row after the CSV header (the first line of a JSON-lines file). Values
are trimmed; an empty value is missing. A label may be given by name or by code. Rows
that cannot be parsed (wrong field count, invalid JSON), lack a required value or have
seconds that are not a finite number are all reported together in one SubmissionError,
each as "row N: problem". Whether items, subtasks and labels exist, and whether seconds
are non-negative, is checked when submitting (``auditor.store.audit_io``).

Pure except for reading the file; other columns are ignored.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auditor.ingest.readers import ROW_COLUMN, UnreadableInputError, open_source

REQUIRED = ("item", "label", "auditor", "seconds")
OPTIONAL = ("subtask", "note", "task")


class SubmissionError(ValueError):
    """A submission (or adjudication) was refused; nothing was written.

    problems: one line each, "row N: problem" for problems of a file row.
    """

    def __init__(self, problems: Iterable[str], *, what: str = "submission") -> None:
        self.problems = tuple(problems)
        count = len(self.problems)
        lines = [f"{what} refused, nothing was written ({count} problem{'s' * (count != 1)}):"]
        super().__init__("\n".join(lines + [f"  {p}" for p in self.problems]))


@dataclass(frozen=True)
class Submission:
    """One auditor's label for one item and subtask. row: 1-based row in the file (0 for
    submissions that come from elsewhere, such as the dashboard)."""

    row: int
    item: str
    label: str
    auditor: str
    seconds: float
    subtask: str | None = None
    note: str | None = None
    task: str | None = None


def read_submissions(
    path: Path, *, task: str | None = None, chunk_rows: int = 10_000
) -> list[Submission]:
    """The rows of a submission file, in file order; task fills rows without a task.

    Raises UnreadableInputError when the file is missing, of an unknown format or lacks a
    required column, and SubmissionError listing every malformed row.
    """
    source = open_source(path)
    columns = source.columns()
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        raise UnreadableInputError(
            f"{path}: missing required column(s) {', '.join(missing)} for a submission; "
            f"found {', '.join(columns) or 'none'}"
        )
    problems: list[tuple[int, str]] = []
    rows: list[Submission] = []
    for chunk in source.chunks(chunk_rows):
        problems += [(bad.row_number, bad.reason) for bad in chunk.malformed]
        for record in chunk.table.to_pylist():
            parsed = parse_record(record, row=int(record[ROW_COLUMN]), task=task)
            if isinstance(parsed, Submission):
                rows.append(parsed)
            else:
                problems += [(int(record[ROW_COLUMN]), problem) for problem in parsed]
    if problems:
        raise SubmissionError(f"row {row}: {problem}" for row, problem in sorted(problems))
    return sorted(rows, key=lambda r: r.row)


def parse_record(
    record: dict[str, Any], *, row: int, task: str | None = None
) -> Submission | list[str]:
    """One row as a Submission, or the list of what is wrong with it."""
    values = {name: _text(record.get(name)) for name in (*REQUIRED, *OPTIONAL)}
    problems = [f"missing required field {name}" for name in REQUIRED if values[name] is None]
    seconds = _number(values["seconds"])
    if values["seconds"] is not None and not math.isfinite(seconds):
        problems.append(f"seconds {values['seconds']} is not a number")
    if problems:
        return problems
    return Submission(
        row=row,
        item=str(values["item"]),
        label=str(values["label"]),
        auditor=str(values["auditor"]),
        seconds=seconds,
        subtask=values["subtask"],
        note=values["note"],
        task=values["task"] or task,
    )


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = value.strip() if isinstance(value, str) else str(value)
    return text or None


def _number(text: str | None) -> float:
    """text as a float; NaN when it is missing or not a number."""
    try:
        return float(text) if text is not None else math.nan
    except ValueError:
        return math.nan

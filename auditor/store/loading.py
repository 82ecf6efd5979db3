"""Load a Source of rows of one kind into the store, in one transaction.

Per chunk: check every row in SQL (reason empty = valid), quarantine the invalid ones with
their raw content and reason, stage the valid ones. Then quarantine repeated keys inside
the file (the first occurrence wins), and merge: new rows are inserted, rows whose values
changed replace the old ones with the change written to change_log, identical rows are
left alone, so re-ingesting a file is idempotent. Any error rolls everything back.

The staged rows live in ``main.ingest_stage``, created and dropped inside the load's own
transaction (so never visible to others or left behind by a crash): unlike a TEMP table,
which DuckDB keeps uncompressed in memory, it is compressed and can be written out,
which keeps a 10-million-row load within the memory limit.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from auditor.ingest.readers import (
    ROW_COLUMN,
    Chunk,
    MalformedRow,
    Source,
    UnreadableInputError,
    raw_rows,
)
from auditor.store.connection import Connection
from auditor.store.ingest_sql import KindSpec, duplicates_sql
from auditor.store.kinds import KINDS, check_sql

_PARAM = re.compile(r"\$([a-z_0-9]+)")


class UnknownTaskError(ValueError):
    """The named task is not defined in the store."""


@dataclass(frozen=True)
class IngestReport:
    """What one ingest did. quarantine_reasons counts rows by their (first) reason."""

    kind: str
    source: str
    ingestion_id: int
    rows_read: int
    inserted: int
    updated: int
    unchanged: int
    quarantined: int
    quarantine_reasons: Mapping[str, int] = field(default_factory=dict)
    registered: Mapping[str, int] = field(default_factory=dict)

    @property
    def accepted(self) -> int:
        return self.inserted + self.updated + self.unchanged


def run(con: Connection, sql: str, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """Execute sql binding only the named parameters it uses; fetch all rows."""
    used = {name: params[name] for name in _PARAM.findall(sql)}
    return con.execute(sql, used).fetchall()


def task_context(con: Connection, task: str, *, currency: str) -> dict[str, Any]:
    rows = con.execute("SELECT task_id FROM tasks WHERE name = ?", [task]).fetchall()
    if not rows:
        raise UnknownTaskError(
            f"unknown task {task!r}: define it first with `labelwatch ingest tasks FILE.toml`"
        )
    task_id = rows[0][0]
    subtasks = con.execute("SELECT name FROM subtasks WHERE task_id = ?", [task_id]).fetchall()
    existing = con.execute(
        "SELECT DISTINCT currency FROM annotation_events WHERE task_id = ?", [task_id]
    ).fetchall()
    return {
        "task_id": task_id,
        "only_subtask": subtasks[0][0] if len(subtasks) == 1 else None,
        "currency": existing[0][0] if existing else currency.upper(),
    }


def load(
    con: Connection,
    source: Source,
    *,
    kind: str,
    task: str,
    chunk_rows: int = 200_000,
    register: bool = False,
    default_source: str = "import",
    currency: str = "USD",
) -> IngestReport:
    """Ingest source as rows of kind into task, all in one transaction on con.

    Raises UnreadableInputError (missing required columns, unreadable file) and
    UnknownTaskError, rolling back; row-level problems are quarantined instead.
    register=True (votes only) creates unknown items and labeling functions.
    """
    con.execute("BEGIN TRANSACTION")
    try:
        report = load_in_transaction(
            con,
            source,
            kind=kind,
            task=task,
            chunk_rows=chunk_rows,
            register=register,
            default_source=default_source,
            currency=currency,
        )
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
    return report


def load_in_transaction(
    con: Connection,
    source: Source,
    *,
    kind: str,
    task: str,
    chunk_rows: int = 200_000,
    register: bool = False,
    default_source: str = "import",
    currency: str = "USD",
) -> IngestReport:
    """As load(), inside a transaction the caller opened (to load several sources at once)."""
    spec = KINDS[kind]
    columns = [spec.aliases.get(name, name) for name in source.columns()]
    missing = [name for name in spec.required if name not in columns]
    if missing:
        raise UnreadableInputError(
            f"{source.name}: missing required column(s) {', '.join(missing)} for {kind}; "
            f"found {', '.join(columns) or 'none'}"
        )
    attribute_columns = [c for c in columns if c not in (*spec.required, *spec.optional)]
    sql, attr_params = check_sql(spec, attribute_columns)
    return _load(
        con, source, spec, task, sql, attr_params, chunk_rows, register, default_source, currency
    )


def _load(
    con: Connection,
    source: Source,
    spec: KindSpec,
    task: str,
    sql: str,
    attr_params: dict[str, str],
    chunk_rows: int,
    register: bool,
    default_source: str,
    currency: str,
) -> IngestReport:
    started = _now()
    params: dict[str, Any] = {
        **task_context(con, task, currency=currency),
        **attr_params,
        "now": started,
        "register": register,
        "default_source": default_source,
    }
    params["ingestion_id"] = con.execute("SELECT nextval('ingestion_id_seq')").fetchall()[0][0]
    _drop_temp_tables(con)
    con.execute(spec.stage_ddl)
    reasons: Counter[str] = Counter()
    registered: Counter[str] = Counter()
    rows_read = 0
    for chunk in source.chunks(chunk_rows):
        rows_read += chunk.table.num_rows + len(chunk.malformed)
        table = _normalise(chunk.table, spec)
        con.register("chunk", table)
        try:
            create_checked = "CREATE OR REPLACE TEMP TABLE checked AS " + sql
            con.execute(create_checked, _used(sql, params))
            if register and spec.kind == "votes" and _register_unknown(con, params, registered):
                con.execute(create_checked, _used(sql, params))
            run(con, spec.stage_insert, params)
            bad = con.execute("SELECT _row, reason FROM checked WHERE reason <> ''").fetchall()
        finally:
            con.unregister("chunk")
        _quarantine(con, params, source, spec, _raw_of(chunk, bad), reasons)
    duplicates = _duplicates(con, spec)
    if duplicates:
        raws = raw_rows(source, set(duplicates), chunk_rows=chunk_rows)
        rows = [
            MalformedRow(
                row,
                raws.get(row, "{}"),
                f"duplicate key ({spec.describe_key_sql}) in this file: first at row {first}",
            )
            for row, first in sorted(duplicates.items())
        ]
        _quarantine(con, params, source, spec, rows, reasons)
        con.execute("DELETE FROM ingest_stage WHERE _row IN (SELECT unnest(?))", [list(duplicates)])
    *prepare, update_sql, insert_sql, total_sql = spec.merge_sql
    for statement in prepare:
        run(con, statement, params)
    updated = con.execute("SELECT count(*) FROM changed").fetchall()[0][0]
    run(con, update_sql, params)
    inserted = run(con, insert_sql, params)[0][0]
    total = run(con, total_sql, params)[0][0]
    quarantined = sum(reasons.values())
    con.execute(
        "INSERT INTO ingestions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            params["ingestion_id"],
            spec.kind,
            source.name,
            task,
            started,
            _now(),
            rows_read,
            inserted,
            updated,
            total - inserted - updated,
            quarantined,
        ],
    )
    _drop_temp_tables(con)
    return IngestReport(
        kind=spec.kind,
        source=source.name,
        ingestion_id=params["ingestion_id"],
        rows_read=rows_read,
        inserted=inserted,
        updated=updated,
        unchanged=total - inserted - updated,
        quarantined=quarantined,
        quarantine_reasons=dict(reasons),
        registered=dict(registered),
    )


def _drop_temp_tables(con: Connection) -> None:
    for statement in (
        "DROP TABLE IF EXISTS main.ingest_stage",
        "DROP TABLE IF EXISTS temp.checked",
        "DROP TABLE IF EXISTS temp.changed",
    ):
        con.execute(statement)


def _used(sql: str, params: Mapping[str, Any]) -> dict[str, Any]:
    return {name: params[name] for name in _PARAM.findall(sql)}


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _normalise(table: pa.Table, spec: KindSpec) -> pa.Table:
    """Rename aliases and add absent optional columns as NULL text."""
    names = [spec.aliases.get(name, name) for name in table.column_names]
    table = table.rename_columns(names)
    for name in spec.required + spec.optional:
        if name not in names:
            table = table.append_column(name, pa.nulls(table.num_rows, pa.string()))
    return table


def _raw_of(chunk: Chunk, bad: list[tuple[int, str]]) -> list[MalformedRow]:
    rows = list(chunk.malformed)
    if bad:
        wanted = {row: reason for row, reason in bad}
        numbers = chunk.table.column(ROW_COLUMN).to_pylist()
        positions = [i for i, number in enumerate(numbers) if number in wanted]
        for record in chunk.table.take(positions).to_pylist():
            number = record.pop(ROW_COLUMN)
            rows.append(MalformedRow(number, json.dumps(record, default=str), wanted[number]))
    return rows


def _quarantine(
    con: Connection,
    params: Mapping[str, Any],
    source: Source,
    spec: KindSpec,
    rows: list[MalformedRow],
    reasons: Counter[str],
) -> None:
    if not rows:
        return
    con.executemany(
        "INSERT INTO quarantine (ingestion_id, kind, source_file, row_number, raw, reason, "
        "quarantined_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            [
                params["ingestion_id"],
                spec.kind,
                source.name,
                row.row_number,
                row.raw,
                row.reason,
                params["now"],
            ]
            for row in rows
        ],
    )
    for row in rows:
        reasons[_reason_class(row.reason)] += 1


_REASON_CLASSES = [
    (re.compile(p), label)
    for p, label in [
        (r"^duplicate key", "duplicate key in file"),
        (r"^label .* is not in the label set", "label not in the subtask's label set"),
        (r"^label given without", "label given without a known subtask"),
        (r"^confidence is NaN", "confidence is NaN"),
        (r"^confidence .* is outside", "confidence outside [0, 1]"),
        (r"^(\w+) .* is not a", r"\1 has the wrong type"),
        (r"^(\w+) .* is not one of", r"\1 not an allowed value"),
        (r"^(\w+) .* is negative", r"\1 is negative"),
        (r"^currency .* differs", "mixed currency"),
        (r"^(unknown \w+( function)?)", r"\1"),
        (r"^(malformed timestamp) .* in (\w+)", r"\1 in \2"),
        (r"^(malformed CSV row|malformed JSON)", r"\1"),
    ]
]


def _reason_class(reason: str) -> str:
    """Group reasons for the summary: the first reason without its row-specific values."""
    first = reason.split("; ")[0]
    for pattern, label in _REASON_CLASSES:
        match = pattern.search(first)
        if match:
            return match.expand(label)
    return first


def _duplicates(con: Connection, spec: KindSpec) -> dict[int, int]:
    """Rows whose key already appeared earlier in the file -> the earlier row."""
    rows = con.execute(duplicates_sql(spec)).fetchall()
    return dict(rows)


def _register_unknown(con: Connection, params: Mapping[str, Any], registered: Counter[str]) -> bool:
    """Create the items and labeling functions that valid vote rows name but the store lacks."""
    items = run(
        con,
        """INSERT INTO items (task_id, external_id, created_at)
        SELECT $task_id, item, min(coalesce(voted_at_value, $now)) FROM checked
        WHERE reason = '' AND item_id IS NULL GROUP BY item""",
        params,
    )[0][0]
    lfs = run(
        con,
        """INSERT INTO labeling_functions (task_id, subtask_id, name, created_at)
        SELECT $task_id, any_value(subtask_id), lf, $now FROM checked
        WHERE reason = '' AND lf_id IS NULL GROUP BY lf""",
        params,
    )[0][0]
    registered["items"] += items
    registered["labeling functions"] += lfs
    return bool(items or lfs)

"""Ingest entry points used by the CLI, the demo builder and (later) the ingest-watch job."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from auditor.ingest.formats import Bundle
from auditor.ingest.readers import Source, UnreadableInputError, open_source
from auditor.ingest.task_definitions import TaskDefinitionError, parse_task_definitions
from auditor.store import Store
from auditor.store.loading import IngestReport, load, load_in_transaction
from auditor.store.tasks import TaskUpsertReport, upsert_in_transaction, upsert_task_definitions

FILE_KINDS = ("items", "lfs", "votes", "gold", "events")


@dataclass(frozen=True)
class BundleReport:
    tasks: TaskUpsertReport
    reports: tuple[IngestReport, ...]


def ingest_tasks_file(store: Store, path: Path) -> TaskUpsertReport:
    """Create or extend tasks from a TOML definition file."""
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except FileNotFoundError as exc:
        raise UnreadableInputError(f"{path}: no such file") from exc
    except tomllib.TOMLDecodeError as exc:
        raise TaskDefinitionError(f"{path}: not valid TOML: {exc}") from exc
    definitions = parse_task_definitions(data)
    with store.connect() as con:
        return upsert_task_definitions(con, definitions)


def ingest_source(
    store: Store,
    source: Source,
    *,
    kind: str,
    task: str,
    chunk_rows: int,
    register: bool = False,
    currency: str = "USD",
) -> IngestReport:
    if kind not in FILE_KINDS:
        raise UnreadableInputError(f"unknown kind {kind!r}; use one of {', '.join(FILE_KINDS)}")
    with store.connect() as con:
        return load(
            con,
            source,
            kind=kind,
            task=task,
            chunk_rows=chunk_rows,
            register=register,
            currency=currency,
        )


def ingest_file(store: Store, path: Path, **options: object) -> IngestReport:
    """ingest_source over a CSV, Parquet or JSON lines file (options as ingest_source)."""
    return ingest_source(store, open_source(path), **options)  # type: ignore[arg-type]


def ingest_bundle(store: Store, bundle: Bundle, *, chunk_rows: int) -> BundleReport:
    """A converted benchmark set: task, items, LFs, votes and gold in one transaction."""
    task = bundle.task.name
    with store.connect() as con:
        con.execute("BEGIN TRANSACTION")
        try:
            tasks = upsert_in_transaction(con, [bundle.task])
            reports = [
                load_in_transaction(
                    con,
                    source,
                    kind=kind,
                    task=task,
                    chunk_rows=chunk_rows,
                    default_source="benchmark",
                )
                for kind, source in (
                    ("items", bundle.items),
                    ("lfs", bundle.lfs),
                    ("votes", bundle.votes),
                    ("gold", bundle.gold),
                )
                if source is not None
            ]
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")
    return BundleReport(tasks, tuple(reports))

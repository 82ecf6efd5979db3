"""The ingest-watch job: load files dropped into <watch_dir>/<task>/<kind>/, then move them.

A file is ingested through the same validated path as `labelwatch ingest` (bad rows are
quarantined with their reason; the valid ones land in one transaction), then moved to
<watch_dir>/processed/<task>/<kind>/ (its quarantined rows, if any, are in the quarantine
table) or, when the file cannot be ingested at all (unreadable, unknown task or kind),
to <watch_dir>/failed/<task>/<kind>/ beside a `<name>.reason.txt`. Files whose name
starts with "." or ends in .tmp/.part, and files modified in the last settle_s seconds,
are left for the next run: write a file under a temporary name and rename it in.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from pathlib import Path

from auditor.ingest.readers import UnreadableInputError
from auditor.ingest.service import FILE_KINDS, ingest_file
from auditor.jobs import JobOutcome
from auditor.settings import Settings
from auditor.store import Store
from auditor.store.loading import UnknownTaskError

log = logging.getLogger("labelwatch.jobs")
SETTLE_S = 2.0
DONE_FOLDERS = ("processed", "failed")


def pending_files(root: Path, *, settle_s: float = SETTLE_S) -> list[tuple[str, str, Path]]:
    """(task, kind, path) of the files ready to ingest, oldest first."""
    now = time.time()
    found = []
    for path in root.glob("*/*/*"):
        task, kind = path.parent.parent.name, path.parent.name
        if task in DONE_FOLDERS or not path.is_file():
            continue
        if path.name.startswith(".") or path.suffix in (".tmp", ".part"):
            continue
        if now - path.stat().st_mtime < settle_s:
            continue
        found.append((path.stat().st_mtime, task, kind, path))
    return [(task, kind, path) for _, task, kind, path in sorted(found)]


def run_ingest_watch(
    store: Store,
    settings: Settings,
    *,
    job_run_id: int | None = None,
    task: str | None = None,
    settle_s: float = SETTLE_S,
) -> JobOutcome:
    if not settings.watch_dir:
        return JobOutcome(skipped_reason="watch_dir is not set")
    root = Path(settings.watch_dir)
    if not root.is_dir():
        return JobOutcome(skipped_reason=f"watch_dir {root} does not exist")
    files = [f for f in pending_files(root, settle_s=settle_s) if task is None or f[0] == task]
    if not files:
        return JobOutcome(skipped_reason="no new files")
    read = written = 0
    for name, kind, path in files:
        try:
            if kind not in FILE_KINDS:
                raise UnreadableInputError(
                    f"folder {kind!r} is not a kind; use one of {', '.join(FILE_KINDS)}"
                )
            report = ingest_file(
                store,
                path,
                kind=kind,
                task=name,
                chunk_rows=settings.ingest_chunk_rows,
                currency=settings.currency,
            )
        except (UnreadableInputError, UnknownTaskError, ValueError) as exc:
            target = _move(root, "failed", name, kind, path)
            target.with_name(target.name + ".reason.txt").write_text(f"{exc}\n", "utf-8")
            log.warning("ingest-watch: %s failed: %s", path, exc)
            continue
        read += report.rows_read
        written += report.inserted + report.updated
        _move(root, "processed", name, kind, path)
        log.info(
            "ingest-watch: %s: %d rows, %d inserted, %d updated, %d quarantined",
            path,
            report.rows_read,
            report.inserted,
            report.updated,
            report.quarantined,
        )
    return JobOutcome(rows_read=read, rows_written=written)


def _move(root: Path, folder: str, task: str, kind: str, path: Path) -> Path:
    """Move path under root/folder/task/kind/, prefixed by a UTC timestamp (no overwrite)."""
    target_dir = root / folder / task / kind
    target_dir.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
    target = target_dir / f"{stamp}-{path.name}"
    path.replace(target)
    return target

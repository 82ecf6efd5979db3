"""`labelwatch export labels`: the fused labels users train end models on.

parquet and csv: one file with task, subtask, item, split, label (name and code),
confidence, probabilities, entropy, uncovered, source (fused or auditor). wrench: a folder
with one WRENCH-style JSON per task/subtask ({item: {"label", "data"}}) and label.json.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from auditor.store import Store
from auditor.store.export_io import label_names, latest_labels

FORMATS = ("parquet", "csv", "wrench")


@dataclass(frozen=True)
class ExportReport:
    path: str
    format: str
    rows: int
    auditor_rows: int


def export_labels(
    store: Store,
    out: Path,
    *,
    fmt: str,
    task: str | None = None,
    subtask: str | None = None,
    min_confidence: float = 0.0,
) -> ExportReport:
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    if not 0.0 <= min_confidence <= 1.0:
        raise ValueError(f"min-confidence must be in [0, 1], got {min_confidence}")
    with store.connect() as con:
        table = latest_labels(con, task=task, subtask=subtask, min_confidence=min_confidence)
        names = {
            (t, s): label_names(con, task=t, subtask=s)
            for t, s in set(
                zip(table["task"].to_pylist(), table["subtask"].to_pylist(), strict=True)
            )
        }
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        pq.write_table(table, out)
    elif fmt == "csv":
        flat = table.set_column(
            table.schema.get_field_index("probabilities"),
            "probabilities",
            pa.array([json.dumps(p) for p in table["probabilities"].to_pylist()]),
        )
        pa_csv.write_csv(flat, out)
    else:
        _write_wrench(table, out, names)
    auditor_rows = int(pc.sum(pc.equal(table["source"], "auditor")).as_py() or 0)
    return ExportReport(str(out), fmt, table.num_rows, auditor_rows)


def _write_wrench(table: pa.Table, folder: Path, names: dict[tuple[str, str], list[str]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for (task, subtask), labels in names.items():
        mask = pc.and_(pc.equal(table["task"], task), pc.equal(table["subtask"], subtask))
        part = table.filter(mask).to_pylist()
        records = {
            row["item"]: {"label": row["label_code"], "data": json.loads(row["attributes"] or "{}")}
            for row in part
        }
        (folder / f"{task}__{subtask}.json").write_text(json.dumps(records), "utf-8")
        (folder / f"{task}__{subtask}.label.json").write_text(
            json.dumps({str(code): name for code, name in enumerate(labels)}), "utf-8"
        )

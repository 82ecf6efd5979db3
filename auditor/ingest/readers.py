"""Streaming readers: a file (CSV, Parquet, JSON lines) or an in-memory table as chunks.

Every chunk is a pyarrow Table with the file's columns plus ``_row``, the 1-based data row
number (the header is row 0, so for CSV row N is line N + 1 of the file). CSV and JSON
lines values arrive as strings, Parquet keeps its types; the store's validation casts.
Rows that cannot even be parsed (wrong field count, invalid JSON) come back beside the
chunk as MalformedRow so they can be quarantined with the rest.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

ROW_COLUMN = "_row"
FORMATS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
}


class UnreadableInputError(ValueError):
    """The input as a whole cannot be read: missing, unknown format, or missing columns."""


@dataclass(frozen=True)
class MalformedRow:
    row_number: int
    raw: str
    reason: str


@dataclass(frozen=True)
class Chunk:
    table: pa.Table
    malformed: tuple[MalformedRow, ...] = ()


class Source(Protocol):
    """Where rows come from. name is what quarantine rows record as their source file."""

    @property
    def name(self) -> str: ...

    def columns(self) -> list[str]: ...

    def chunks(self, chunk_rows: int) -> Iterator[Chunk]: ...


def open_source(path: Path) -> Source:
    """A FileSource for path, after checking it exists and has a known format."""
    if not path.is_file():
        raise UnreadableInputError(f"{path}: no such file")
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise UnreadableInputError(
            f"{path}: unknown format {path.suffix!r}; use one of {', '.join(sorted(FORMATS))}"
        )
    return FileSource(path, fmt)


def raw_rows(source: Source, row_numbers: set[int], *, chunk_rows: int) -> dict[int, str]:
    """The rows with these numbers as JSON text, by a second streaming pass over source."""
    found: dict[int, str] = {}
    if not row_numbers:
        return found
    for chunk in source.chunks(chunk_rows):
        rows = chunk.table.column(ROW_COLUMN).to_pylist()
        wanted = [i for i, number in enumerate(rows) if number in row_numbers]
        if wanted:
            for record in chunk.table.take(wanted).to_pylist():
                number = record.pop(ROW_COLUMN)
                found[number] = json.dumps(record, default=str)
    return found


@dataclass(frozen=True)
class TableSource:
    """An in-memory table (from a benchmark converter) read in slices."""

    table: pa.Table
    name: str

    def columns(self) -> list[str]:
        return list(self.table.column_names)

    def chunks(self, chunk_rows: int) -> Iterator[Chunk]:
        n = self.table.num_rows
        for start in range(0, max(n, 1), chunk_rows):
            part = self.table.slice(start, chunk_rows)
            numbers = pa.array(range(start + 1, start + part.num_rows + 1), pa.int64())
            yield Chunk(part.append_column(ROW_COLUMN, numbers))


@dataclass(frozen=True)
class FileSource:
    path: Path
    fmt: str

    @property
    def name(self) -> str:
        return str(self.path)

    @property
    def _delimiter(self) -> str:
        return "\t" if self.path.suffix.lower() == ".tsv" else ","

    def columns(self) -> list[str]:
        if self.fmt == "parquet":
            return list(pq.ParquetFile(self.path).schema_arrow.names)
        if self.fmt == "csv":
            with open(self.path, encoding="utf-8-sig", errors="replace", newline="") as handle:
                header = next(csv.reader(handle, delimiter=self._delimiter), [])
            return [name.strip() for name in header]
        # JSON lines: the keys of the first 1000 objects (keys first seen later are not read).
        names: dict[str, None] = {}
        with open(self.path, encoding="utf-8", errors="replace") as handle:
            for count, line in enumerate(handle):
                if count >= 1000:
                    break
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(record, dict):
                    names.update(dict.fromkeys(record))
        return list(names)

    def chunks(self, chunk_rows: int) -> Iterator[Chunk]:
        try:
            if self.fmt == "parquet":
                yield from self._parquet_chunks(chunk_rows)
            elif self.fmt == "csv":
                yield from self._csv_chunks(chunk_rows)
            else:
                yield from self._jsonl_chunks(chunk_rows)
        except (pa.ArrowInvalid, OSError, UnicodeDecodeError) as exc:
            raise UnreadableInputError(f"{self.path}: cannot read as {self.fmt}: {exc}") from exc

    def _parquet_chunks(self, chunk_rows: int) -> Iterator[Chunk]:
        start = 0
        for batch in pq.ParquetFile(self.path).iter_batches(batch_size=chunk_rows):
            table = pa.Table.from_batches([batch])
            numbers = pa.array(range(start + 1, start + table.num_rows + 1), pa.int64())
            start += table.num_rows
            yield Chunk(table.append_column(ROW_COLUMN, numbers))

    def _csv_chunks(self, chunk_rows: int) -> Iterator[Chunk]:
        columns = self.columns()
        malformed: list[MalformedRow] = []

        def on_invalid(row: pa_csv.InvalidRow) -> str:
            malformed.append(
                MalformedRow(
                    row_number=(row.number or 0) - 1,
                    raw=json.dumps({"line": row.text}),
                    reason=f"malformed CSV row: expected {row.expected_columns} fields, "
                    f"found {row.actual_columns}",
                )
            )
            return "skip"

        reader = pa_csv.open_csv(
            self.path,
            read_options=pa_csv.ReadOptions(
                block_size=max(1 << 20, chunk_rows * 64), use_threads=False
            ),
            parse_options=pa_csv.ParseOptions(
                delimiter=self._delimiter, invalid_row_handler=on_invalid, newlines_in_values=True
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types={name: pa.string() for name in columns},
                strings_can_be_null=True,
                null_values=[""],  # "nan", "NA" stay text so validation can name them
            ),
        )
        seen = 0  # highest row number emitted or reported so far
        for batch in reader:
            # Valid rows take the numbers not used by the invalid rows reported so far.
            bad = np.array(sorted(m.row_number for m in malformed if m.row_number > seen))
            candidates = np.arange(seen + 1, seen + 1 + batch.num_rows + len(bad), dtype=np.int64)
            numbers = candidates[~np.isin(candidates, bad)][: batch.num_rows]
            seen = max(int(numbers[-1]) if len(numbers) else seen, int(bad.max(initial=seen)))
            table = pa.Table.from_batches([batch]).append_column(ROW_COLUMN, pa.array(numbers))
            yield Chunk(table, tuple(malformed))
            malformed.clear()
        if malformed:
            yield Chunk(
                pa.table({name: pa.array([], pa.string()) for name in columns}).append_column(
                    ROW_COLUMN, pa.array([], pa.int64())
                ),
                tuple(malformed),
            )

    def _jsonl_chunks(self, chunk_rows: int) -> Iterator[Chunk]:
        columns = self.columns()
        with open(self.path, encoding="utf-8") as handle:
            rows: list[dict[str, str | None]] = []
            numbers: list[int] = []
            malformed: list[MalformedRow] = []
            number = 0
            for line in handle:
                if not line.strip():
                    continue
                number += 1
                record = _parse_json_record(line)
                if isinstance(record, str):
                    malformed.append(
                        MalformedRow(number, json.dumps({"line": line.rstrip()}), record)
                    )
                else:
                    rows.append(record)
                    numbers.append(number)
                if len(rows) >= chunk_rows:
                    yield _jsonl_chunk(rows, numbers, malformed, columns)
                    rows, numbers, malformed = [], [], []
            if rows or malformed or number == 0:
                yield _jsonl_chunk(rows, numbers, malformed, columns)


def _parse_json_record(line: str) -> dict[str, str | None] | str:
    """A JSON object with every value as text (None for null), or the reason it is not."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        return f"malformed JSON: {exc.msg} at column {exc.colno}"
    if not isinstance(record, dict):
        return f"malformed JSON row: expected an object, found {type(record).__name__}"
    return {
        key: None if value is None else value if isinstance(value, str) else json.dumps(value)
        for key, value in record.items()
    }


def _jsonl_chunk(
    rows: list[dict[str, str | None]],
    numbers: list[int],
    malformed: list[MalformedRow],
    columns: list[str],
) -> Chunk:
    data = {name: pa.array([row.get(name) for row in rows], pa.string()) for name in columns}
    data[ROW_COLUMN] = pa.array(numbers, pa.int64())
    return Chunk(pa.table(data), tuple(malformed))

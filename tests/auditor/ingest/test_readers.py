from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from auditor.ingest.readers import (
    ROW_COLUMN,
    TableSource,
    UnreadableInputError,
    open_source,
    raw_rows,
)
from tests.conftest import write


def all_rows(path: Path, chunk_rows: int = 2) -> tuple[list[dict], list[tuple[int, str]]]:
    good, bad = [], []
    for chunk in open_source(path).chunks(chunk_rows):
        good += chunk.table.to_pylist()
        bad += [(m.row_number, m.reason) for m in chunk.malformed]
    return good, bad


def test_csv_rows_are_numbered_from_one_after_the_header_around_bad_rows(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", "a,b\n1,x\n2\n3,y,z\n4,w\n")
    good, bad = all_rows(path)
    assert [(r[ROW_COLUMN], r["a"], r["b"]) for r in good] == [(1, "1", "x"), (4, "4", "w")]
    assert bad == [
        (2, "malformed CSV row: expected 2 fields, found 1"),
        (3, "malformed CSV row: expected 2 fields, found 3"),
    ]


def test_csv_keeps_nan_and_na_as_text_and_empty_as_null(tmp_path: Path) -> None:
    good, _ = all_rows(write(tmp_path, "a.csv", "a,b\nnan,\nNA,x\n"))
    assert [(r["a"], r["b"]) for r in good] == [("nan", None), ("NA", "x")]


def test_tsv_is_read_with_tabs(tmp_path: Path) -> None:
    good, _ = all_rows(write(tmp_path, "a.tsv", "a\tb\n1\tx,y\n"))
    assert good == [{"a": "1", "b": "x,y", ROW_COLUMN: 1}]


def test_parquet_chunks_keep_types_and_number_rows_across_chunks(tmp_path: Path) -> None:
    pd.DataFrame({"a": [10, 20, 30, 40, 50]}).to_parquet(tmp_path / "a.parquet")
    chunks = list(open_source(tmp_path / "a.parquet").chunks(2))
    assert [c.table.num_rows for c in chunks] == [2, 2, 1]
    assert [r[ROW_COLUMN] for c in chunks for r in c.table.to_pylist()] == [1, 2, 3, 4, 5]
    assert chunks[0].table.schema.field("a").type == pa.int64()


def test_json_lines_values_become_text_and_bad_lines_are_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "a.jsonl", '{"a": 1, "b": "x"}\n\n{"a": [1]}\nnot json\n"str"\n')
    good, bad = all_rows(path)
    assert [(r[ROW_COLUMN], r["a"], r["b"]) for r in good] == [(1, "1", "x"), (2, "[1]", None)]
    assert bad[0][0] == 3 and bad[0][1].startswith("malformed JSON: Expecting value")
    assert bad[1] == (4, "malformed JSON row: expected an object, found str")


@pytest.mark.parametrize(
    ("name", "message"), [("a.xlsx", "unknown format '.xlsx'"), ("missing.csv", "no such file")]
)
def test_unreadable_inputs_are_refused_up_front(tmp_path: Path, name: str, message: str) -> None:
    if name.endswith("xlsx"):
        write(tmp_path, name, "x")
    with pytest.raises(UnreadableInputError, match=message):
        open_source(tmp_path / name)


def test_raw_rows_fetches_original_content_in_a_second_pass(tmp_path: Path) -> None:
    source = open_source(write(tmp_path, "a.csv", "a,b\n1,x\n2,y\n3,z\n"))
    assert raw_rows(source, {1, 3}, chunk_rows=1) == {
        1: json.dumps({"a": "1", "b": "x"}),
        3: json.dumps({"a": "3", "b": "z"}),
    }


def test_table_source_slices_and_numbers_rows() -> None:
    source = TableSource(pa.table({"a": [1, 2, 3]}), "mem")
    numbers = [r[ROW_COLUMN] for c in source.chunks(2) for r in c.table.to_pylist()]
    assert numbers == [1, 2, 3]


def test_csv_header_with_bom_and_quoted_names(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes('\ufeffitem,"note, free"\nt1,"x, y"\n'.encode())
    source = open_source(path)
    assert source.columns() == ["item", "note, free"]
    good, _ = all_rows(path)
    assert good == [{"item": "t1", "note, free": "x, y", ROW_COLUMN: 1}]

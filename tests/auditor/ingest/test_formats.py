"""Benchmark converters (WRENCH, label matrices, crowd answers) and ingest_bundle."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from auditor.ingest.formats import read_crowd, read_matrix, read_wrench
from auditor.ingest.readers import TableSource, UnreadableInputError
from auditor.ingest.service import ingest_bundle
from auditor.store import Store
from tests.conftest import rows, write

LABELS = {"0": "HAM", "1": "SPAM"}
README_LIST = """Youtube comment spam.

Labeling functions list:
check_out, my_channel,
subscribe

Labels: 0 HAM, 1 SPAM.
"""
README_RULES = """Rules used by the annotators:
HAM\tlove this song\tlove this song so much
SPAM\tcheck out\tcheck out my page
SPAM\tsubscribe\tplease subscribe
"""

# item key -> (text, gold label, weak_labels for check_out, my_channel, subscribe)
SPLITS: dict[str, dict[str, tuple[str, int, list[int]]]] = {
    "train": {
        "0": ("check out my channel", 1, [1, 1, -1]),
        "1": ("nice song", 0, [-1, -1, -1]),
        "2": ("subscribe please", 1, [-1, -1, 1]),
    },
    "valid": {"0": ("love it", 0, [0, -1, -1]), "1": ("check this out", 1, [1, -1, 1])},
    "test": {"0": ("great video", 0, [-1, 0, -1]), "1": ("sub to me", 1, [-1, -1, 1])},
}


def _records(split: str) -> dict[str, Any]:
    return {
        key: {"data": {"text": text}, "label": label, "weak_labels": weak}
        for key, (text, label, weak) in SPLITS[split].items()
    }


def _wrench(directory: Path, readme: str | None = README_LIST) -> Path:
    directory.mkdir()
    write(directory, "label.json", json.dumps(LABELS))
    if readme is not None:
        write(directory, "readme.txt", readme)
    for split in SPLITS:
        write(directory, f"{split}.json", json.dumps(_records(split)))
    return directory


def _ingest(store: Store, bundle: Any) -> dict[str, Any]:
    result = ingest_bundle(store, bundle, chunk_rows=4)
    return {r.kind: r for r in result.reports} | {"tasks": result.tasks}


# --- WRENCH -------------------------------------------------------------------------------


def test_wrench_bundle_items_votes_gold_and_readme_names(tmp_path: Path) -> None:
    bundle = read_wrench(_wrench(tmp_path / "youtube"), task="youtube")

    assert bundle.task.name == "youtube"
    assert [(s.name, s.labels) for s in bundle.task.subtasks] == [("label", ("HAM", "SPAM"))]
    items = bundle.items.table.to_pylist()
    assert [(i["item"], i["split"], i["text"]) for i in items] == [
        ("train/0", "train", "check out my channel"),
        ("train/1", "train", "nice song"),
        ("train/2", "train", "subscribe please"),
        ("valid/0", "valid", "love it"),
        ("valid/1", "valid", "check this out"),
        ("test/0", "test", "great video"),
        ("test/1", "test", "sub to me"),
    ]
    lfs = bundle.lfs.table.to_pylist()
    assert [(f["lf"], f["subtask"], f["kind"], f["description"]) for f in lfs] == [
        ("check_out", "label", "pattern", None),
        ("my_channel", "label", "pattern", None),
        ("subscribe", "label", "pattern", None),
    ]
    votes = sorted((v["item"], v["lf"], v["label"]) for v in bundle.votes.table.to_pylist())
    assert votes == [
        ("test/0", "my_channel", "HAM"),
        ("test/1", "subscribe", "SPAM"),
        ("train/0", "check_out", "SPAM"),
        ("train/0", "my_channel", "SPAM"),
        ("train/2", "subscribe", "SPAM"),
        ("valid/0", "check_out", "HAM"),
        ("valid/1", "check_out", "SPAM"),
        ("valid/1", "subscribe", "SPAM"),
    ]
    assert bundle.gold is not None
    assert bundle.gold.table.to_pylist() == [
        {"item": "valid/0", "label": "HAM", "source": "benchmark"},
        {"item": "valid/1", "label": "SPAM", "source": "benchmark"},
        {"item": "test/0", "label": "HAM", "source": "benchmark"},
        {"item": "test/1", "label": "SPAM", "source": "benchmark"},
    ]


def test_wrench_ingests_into_the_store(store: Store, tmp_path: Path) -> None:
    reports = _ingest(store, read_wrench(_wrench(tmp_path / "youtube"), task="youtube"))

    assert reports["tasks"].tasks_created == 1
    assert reports["tasks"].subtasks_created == 1
    assert reports["tasks"].labels_added == 2
    assert {k: (r.inserted, r.quarantined) for k, r in reports.items() if k != "tasks"} == {
        "items": (7, 0),
        "lfs": (3, 0),
        "votes": (8, 0),
        "gold": (4, 0),
    }
    assert rows(store, "SELECT external_id, split FROM items ORDER BY item_id")[3:] == [
        ("valid/0", "valid"),
        ("valid/1", "valid"),
        ("test/0", "test"),
        ("test/1", "test"),
    ]
    n_votes = sum(
        w != -1 for split in SPLITS.values() for _, _, weak in split.values() for w in weak
    )
    assert rows(store, "SELECT count(*) FROM votes") == [(n_votes,)] == [(8,)]
    assert rows(
        store,
        "SELECT i.external_id, g.label, g.source FROM gold_labels g "
        "JOIN items i USING (item_id) ORDER BY i.external_id",
    ) == [
        ("test/0", 0, "benchmark"),
        ("test/1", 1, "benchmark"),
        ("valid/0", 0, "benchmark"),
        ("valid/1", 1, "benchmark"),
    ]
    assert rows(store, "SELECT name, kind FROM labeling_functions ORDER BY name") == [
        ("check_out", "pattern"),
        ("my_channel", "pattern"),
        ("subscribe", "pattern"),
    ]
    assert rows(
        store,
        "SELECT json_extract_string(attributes, '$.text') FROM items WHERE external_id = 'test/1'",
    ) == [("sub to me",)]


def test_wrench_tab_separated_rules_become_descriptions(tmp_path: Path) -> None:
    bundle = read_wrench(_wrench(tmp_path / "ds", readme=README_RULES), task="ds")

    lfs = bundle.lfs.table.to_pylist()
    assert [(f["lf"], f["description"]) for f in lfs] == [
        ("lf_00", "HAM: love this song"),
        ("lf_01", "SPAM: check out"),
        ("lf_02", "SPAM: subscribe"),
    ]
    assert sorted({v["lf"] for v in bundle.votes.table.to_pylist()}) == ["lf_00", "lf_01", "lf_02"]


def test_wrench_without_readme_names_lfs_by_column(tmp_path: Path) -> None:
    bundle = read_wrench(_wrench(tmp_path / "ds", readme=None), task="ds")

    lfs = bundle.lfs.table.to_pylist()
    assert [(f["lf"], f["description"]) for f in lfs] == [
        ("lf_00", None),
        ("lf_01", None),
        ("lf_02", None),
    ]


def test_wrench_readme_list_of_wrong_length_falls_back(tmp_path: Path) -> None:
    readme = "Labeling functions list:\ncheck_out, subscribe\n\n"
    bundle = read_wrench(_wrench(tmp_path / "ds", readme=readme), task="ds")

    assert bundle.lfs.table.column("lf").to_pylist() == ["lf_00", "lf_01", "lf_02"]


def test_wrench_weak_labels_of_different_lengths_within_a_split(tmp_path: Path) -> None:
    directory = _wrench(tmp_path / "ds")
    records = _records("valid")
    records["1"]["weak_labels"] = [1, -1]
    write(directory, "valid.json", json.dumps(records))

    with pytest.raises(UnreadableInputError, match=r"valid\.json: weak_labels rows have different"):
        read_wrench(directory, task="ds")


def test_wrench_weak_labels_of_different_lengths_across_splits(tmp_path: Path) -> None:
    directory = _wrench(tmp_path / "ds")
    records = {
        k: {**v, "weak_labels": [*v["weak_labels"], -1]} for k, v in _records("test").items()
    }
    write(directory, "test.json", json.dumps(records))

    with pytest.raises(UnreadableInputError, match=r"test\.json: weak_labels rows have different"):
        read_wrench(directory, task="ds")


def test_wrench_without_label_json(tmp_path: Path) -> None:
    directory = _wrench(tmp_path / "ds")
    (directory / "label.json").unlink()

    with pytest.raises(UnreadableInputError, match=r"no label\.json, so not a WRENCH dataset"):
        read_wrench(directory, task="ds")


def test_wrench_label_codes_must_be_contiguous(tmp_path: Path) -> None:
    directory = _wrench(tmp_path / "ds")
    write(directory, "label.json", json.dumps({"0": "HAM", "2": "SPAM"}))

    with pytest.raises(UnreadableInputError, match=r"label codes must be 0\.\.k-1, got \[0, 2\]"):
        read_wrench(directory, task="ds")


def test_wrench_without_any_split_file(tmp_path: Path) -> None:
    directory = tmp_path / "ds"
    directory.mkdir()
    write(directory, "label.json", json.dumps(LABELS))

    with pytest.raises(UnreadableInputError, match=r"none of train, valid, test\.json found"):
        read_wrench(directory, task="ds")


def test_wrench_train_only_has_no_gold(tmp_path: Path) -> None:
    directory = _wrench(tmp_path / "ds")
    (directory / "valid.json").unlink()
    (directory / "test.json").unlink()

    bundle = read_wrench(directory, task="ds")

    assert bundle.gold is None
    assert bundle.items.table.column("item").to_pylist() == ["train/0", "train/1", "train/2"]
    assert bundle.votes.table.num_rows == 3


def test_wrench_empty_train_split_is_accepted(tmp_path: Path) -> None:
    directory = _wrench(tmp_path / "ds")
    write(directory, "train.json", "{}")

    bundle = read_wrench(directory, task="ds")

    assert bundle.items.table.num_rows == 4
    assert bundle.votes.table.num_rows == 5


def test_wrench_empty_valid_split_is_accepted(tmp_path: Path) -> None:
    directory = _wrench(tmp_path / "ds")
    write(directory, "valid.json", "{}")

    bundle = read_wrench(directory, task="ds")

    assert bundle.items.table.num_rows == 5
    assert bundle.gold is not None
    assert bundle.gold.table.num_rows == 2


def test_wrench_numeric_label_names_keep_their_codes(store: Store, tmp_path: Path) -> None:
    directory = tmp_path / "ratings"
    directory.mkdir()
    write(directory, "label.json", json.dumps({"0": "1", "1": "2", "2": "3"}))
    record = {"data": {"text": "meh"}, "label": 1, "weak_labels": [1, 2]}
    write(directory, "valid.json", json.dumps({"0": record}))

    _ingest(store, read_wrench(directory, task="ratings"))

    assert rows(
        store,
        "SELECT f.name, l.name FROM votes v JOIN labeling_functions f USING (lf_id) "
        "JOIN label_sets l ON l.subtask_id = v.subtask_id AND l.code = v.label ORDER BY 1",
    ) == [("lf_00", "2"), ("lf_01", "3")]
    assert rows(
        store,
        "SELECT l.name FROM gold_labels g "
        "JOIN label_sets l ON l.subtask_id = g.subtask_id AND l.code = g.label",
    ) == [("2",)]


# --- Snorkel-style label matrix -------------------------------------------------------------


def _npy(directory: Path, name: str, array: np.ndarray) -> Path:
    path = directory / name
    np.save(path, array)
    return path


L_MATRIX = np.array([[0, -1, 1], [-1, -1, -1], [1, -3, 1], [2, 0, -1]], dtype=np.int64)


def test_matrix_quarantines_an_invalid_entry_and_loads_the_rest(
    store: Store, tmp_path: Path
) -> None:
    matrix = _npy(tmp_path, "L.npy", L_MATRIX)
    y = _npy(tmp_path, "y.npy", np.array([0, -1, 1, 2], dtype=np.int64))

    bundle = read_matrix(matrix, task="mat", labels_path=y)
    assert [s.labels for s in bundle.task.subtasks] == [("0", "1", "2")]
    reports = _ingest(store, bundle)

    assert (reports["items"].inserted, reports["lfs"].inserted) == (4, 3)
    assert reports["votes"].rows_read == 7  # the 7 entries that are not -1
    assert reports["votes"].inserted == 6
    assert reports["votes"].quarantined == 1
    assert reports["votes"].quarantine_reasons == {"label not in the subtask's label set": 1}
    quarantined = rows(store, "SELECT kind, row_number, reason, raw FROM quarantine")
    assert len(quarantined) == 1
    kind, row_number, reason, raw = quarantined[0]
    assert (kind, reason) == ("votes", "label code -3 is not in the label set of subtask label")
    assert json.loads(raw) == {"item": "2", "lf": "lf_01", "label": "code -3", "subtask": "label"}
    assert row_number == 4  # votes run row by row: (0,0) (0,2) (2,0) (2,1)
    assert rows(
        store,
        "SELECT i.external_id, f.name, v.label FROM votes v JOIN items i USING (item_id) "
        "JOIN labeling_functions f USING (lf_id) ORDER BY 1, 2",
    ) == [
        ("0", "lf_00", 0),
        ("0", "lf_02", 1),
        ("2", "lf_00", 1),
        ("2", "lf_02", 1),
        ("3", "lf_00", 2),
        ("3", "lf_01", 0),
    ]
    assert rows(
        store,
        "SELECT i.external_id, g.label, g.source FROM gold_labels g JOIN items i USING (item_id) "
        "ORDER BY 1",
    ) == [("0", 0, "benchmark"), ("2", 1, "benchmark"), ("3", 2, "benchmark")]
    assert rows(store, "SELECT DISTINCT kind FROM labeling_functions") == [("heuristic",)]


def test_matrix_cardinality_sets_the_label_count(tmp_path: Path) -> None:
    matrix = _npy(tmp_path, "L.npy", np.array([[0, 1], [-1, 0]], dtype=np.int64))

    assert [s.labels for s in read_matrix(matrix, task="m").task.subtasks] == [("0", "1")]
    bundle = read_matrix(matrix, task="m", cardinality=5)
    assert [s.labels for s in bundle.task.subtasks] == [("0", "1", "2", "3", "4")]
    assert bundle.gold is None


def test_matrix_with_only_zeros_still_has_two_labels(tmp_path: Path) -> None:
    matrix = _npy(tmp_path, "L.npy", np.array([[0, -1], [-1, 0]], dtype=np.int64))

    assert [s.labels for s in read_matrix(matrix, task="m").task.subtasks] == [("0", "1")]


def test_matrix_float_array_is_unreadable(tmp_path: Path) -> None:
    matrix = _npy(tmp_path, "L.npy", np.array([[0.0, 1.0]], dtype=np.float64))

    with pytest.raises(UnreadableInputError, match="expected a 2-D integer array, got 2-D float64"):
        read_matrix(matrix, task="m")


def test_matrix_one_dimensional_array_is_unreadable(tmp_path: Path) -> None:
    matrix = _npy(tmp_path, "L.npy", np.array([0, 1], dtype=np.int64))

    with pytest.raises(UnreadableInputError, match="expected a 2-D integer array, got 1-D"):
        read_matrix(matrix, task="m")


def test_matrix_not_an_npy_file(tmp_path: Path) -> None:
    matrix = write(tmp_path, "L.npy", "not numpy")

    with pytest.raises(UnreadableInputError, match=r"not a readable \.npy array"):
        read_matrix(matrix, task="m")


def test_matrix_label_length_mismatch(tmp_path: Path) -> None:
    matrix = _npy(tmp_path, "L.npy", L_MATRIX)
    y = _npy(tmp_path, "y.npy", np.array([0, 1, 1], dtype=np.int64))

    with pytest.raises(UnreadableInputError, match="3 labels for 4 rows of"):
        read_matrix(matrix, task="m", labels_path=y)


# --- crowd answers --------------------------------------------------------------------------

ANSWERS = "question,worker,answer\nq1,7,0\nq1,8,1\nq2,7,1\nq2,9,1\nq3,8,0\n"
TRUTH = "question,truth\nq1,0\nq2,1\nq4,1\n"


def test_crowd_integer_answers(store: Store, tmp_path: Path) -> None:
    answers = write(tmp_path, "answer.csv", ANSWERS)
    truth = write(tmp_path, "truth.csv", TRUTH)

    bundle = read_crowd(answers, task="crowd", truth_path=truth)
    assert [s.labels for s in bundle.task.subtasks] == [("0", "1")]
    reports = _ingest(store, bundle)

    assert {k: (r.inserted, r.quarantined) for k, r in reports.items() if k != "tasks"} == {
        "items": (4, 0),
        "lfs": (3, 0),
        "votes": (5, 0),
        "gold": (3, 0),
    }
    assert rows(store, "SELECT external_id FROM items ORDER BY external_id") == [
        ("q1",),
        ("q2",),
        ("q3",),
        ("q4",),
    ]
    assert rows(store, "SELECT name, kind FROM labeling_functions ORDER BY name") == [
        ("worker_7", "human"),
        ("worker_8", "human"),
        ("worker_9", "human"),
    ]
    assert rows(
        store,
        "SELECT f.name, count(*) FROM votes JOIN labeling_functions f USING (lf_id) "
        "GROUP BY 1 ORDER BY 1",
    ) == [("worker_7", 2), ("worker_8", 2), ("worker_9", 1)]
    assert rows(
        store,
        "SELECT i.external_id, g.label, g.source FROM gold_labels g JOIN items i USING (item_id) "
        "ORDER BY 1",
    ) == [("q1", 0, "benchmark"), ("q2", 1, "benchmark"), ("q4", 1, "benchmark")]


def test_crowd_string_answers_are_sorted_labels(store: Store, tmp_path: Path) -> None:
    answers = write(
        tmp_path, "answer.csv", "question,worker,answer\na,1,dog\na,2,cat\nb,1,cat\nb,2,bird\n"
    )
    truth = write(tmp_path, "truth.csv", "question,truth\na,dog\nb,cat\n")

    bundle = read_crowd(answers, task="pets", truth_path=truth)
    assert [s.labels for s in bundle.task.subtasks] == [("bird", "cat", "dog")]
    _ingest(store, bundle)

    assert rows(
        store,
        "SELECT i.external_id, f.name, v.label FROM votes v JOIN items i USING (item_id) "
        "JOIN labeling_functions f USING (lf_id) ORDER BY 1, 2",
    ) == [("a", "worker_1", 2), ("a", "worker_2", 1), ("b", "worker_1", 1), ("b", "worker_2", 0)]
    assert rows(
        store,
        "SELECT i.external_id, g.label FROM gold_labels g JOIN items i USING (item_id) ORDER BY 1",
    ) == [("a", 2), ("b", 1)]


def test_crowd_without_truth_has_no_gold(tmp_path: Path) -> None:
    bundle = read_crowd(write(tmp_path, "answer.csv", ANSWERS), task="crowd")

    assert bundle.gold is None
    assert bundle.items.table.column("item").to_pylist() == ["q1", "q2", "q3"]


def test_crowd_missing_column(tmp_path: Path) -> None:
    answers = write(tmp_path, "answer.csv", "question,worker\nq1,7\n")

    with pytest.raises(UnreadableInputError, match=r"missing column\(s\) answer"):
        read_crowd(answers, task="crowd")


def test_crowd_missing_truth_file(tmp_path: Path) -> None:
    answers = write(tmp_path, "answer.csv", ANSWERS)

    with pytest.raises(UnreadableInputError, match="no such file"):
        read_crowd(answers, task="crowd", truth_path=tmp_path / "truth.csv")


# --- ingest_bundle --------------------------------------------------------------------------


def test_ingest_bundle_twice_changes_nothing(store: Store, tmp_path: Path) -> None:
    bundle = read_wrench(_wrench(tmp_path / "youtube"), task="youtube")
    _ingest(store, bundle)
    before = {
        table: rows(store, f"SELECT count(*) FROM {table}")[0][0]
        for table in ("items", "labeling_functions", "votes", "gold_labels", "label_sets")
    }

    again = _ingest(store, read_wrench(tmp_path / "youtube", task="youtube"))

    assert (again["tasks"].tasks_created, again["tasks"].subtasks_created) == (0, 0)
    assert again["tasks"].labels_added == 0
    assert {k: (r.inserted, r.updated, r.unchanged) for k, r in again.items() if k != "tasks"} == {
        "items": (0, 0, 7),
        "lfs": (0, 0, 3),
        "votes": (0, 0, 8),
        "gold": (0, 0, 4),
    }
    after = {
        table: rows(store, f"SELECT count(*) FROM {table}")[0][0]
        for table in ("items", "labeling_functions", "votes", "gold_labels", "label_sets")
    }
    assert (
        before
        == after
        == {"items": 7, "labeling_functions": 3, "votes": 8, "gold_labels": 4, "label_sets": 2}
    )
    assert rows(
        store,
        "SELECT count(*) FROM (SELECT item_id, lf_id, subtask_id FROM votes "
        "GROUP BY ALL HAVING count(*) > 1)",
    ) == [(0,)]
    assert rows(store, "SELECT count(*) FROM change_log") == [(0,)]


def test_ingest_bundle_rolls_back_everything_on_error(store: Store, tmp_path: Path) -> None:
    answers = write(tmp_path, "answer.csv", ANSWERS)
    bundle = read_crowd(answers, task="crowd")
    # A votes source without the required 'label' column fails after task, items and LFs.
    broken = replace(bundle, votes=TableSource(bundle.votes.table.drop(["label"]), "broken"))

    with pytest.raises(UnreadableInputError, match="missing required column"):
        ingest_bundle(store, broken, chunk_rows=10)

    assert rows(store, "SELECT count(*) FROM tasks") == [(0,)]
    assert rows(store, "SELECT count(*) FROM items") == [(0,)]
    assert rows(store, "SELECT count(*) FROM labeling_functions") == [(0,)]

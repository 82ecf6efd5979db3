"""Benchmark formats converted to labelwatch rows: WRENCH, Snorkel-style matrices, crowds.

Each reader returns a Bundle: a task definition plus in-memory sources of items,
labeling functions, votes and gold that go through the same validated loader as files.
Gold from these sets is benchmark gold (source 'benchmark'), kept apart from auditor gold.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from auditor.ingest.readers import TableSource, UnreadableInputError
from auditor.ingest.task_definitions import TaskDefinition, parse_task_definition
from fusion import ABSTAIN

WRENCH_SPLITS = ("train", "valid", "test")
SUBTASK = "label"


@dataclass(frozen=True)
class Bundle:
    """Everything one benchmark set holds, ready for the loader, in load order."""

    task: TaskDefinition
    items: TableSource
    lfs: TableSource
    votes: TableSource
    gold: TableSource | None


def read_wrench(directory: Path, *, task: str) -> Bundle:
    """A WRENCH dataset folder: label.json, readme.txt and train/valid/test.json.

    Items get ids unique across splits (``test/17``); one LF per weak_labels column, named
    from readme.txt when it lists them (else ``lf_00``...); a vote per non-abstain entry;
    the ``label`` of valid and test items becomes benchmark gold (train labels are the
    unknowns a label model must infer, so they are not loaded).
    """
    label_file = directory / "label.json"
    if not label_file.is_file():
        raise UnreadableInputError(f"{directory}: no label.json, so not a WRENCH dataset")
    label_map = json.loads(label_file.read_text("utf-8"))
    codes = sorted(int(code) for code in label_map)
    if codes != list(range(len(codes))):
        raise UnreadableInputError(f"{label_file}: label codes must be 0..k-1, got {codes}")
    labels = [str(label_map[str(code)]) for code in codes]
    items, votes, gold = [], [], []
    n_lfs: int | None = None
    for split in WRENCH_SPLITS:
        path = directory / f"{split}.json"
        if not path.is_file():
            continue
        records = json.loads(path.read_text("utf-8"))
        ids = list(records)
        external = [f"{split}/{key}" for key in ids]
        weak = [records[key].get("weak_labels", []) for key in ids]
        widths = {len(row) for row in weak}
        if len(widths) > 1 or (n_lfs is not None and widths and widths != {n_lfs}):
            raise UnreadableInputError(f"{path}: weak_labels rows have different lengths {widths}")
        n_lfs = widths.pop() if widths else n_lfs
        items.append(_wrench_items(records, ids, external, split))
        matrix = np.asarray(weak, dtype=np.int64).reshape(len(ids), n_lfs or 0)
        votes.append((np.asarray(external, dtype=object), matrix))
        if split != "train":
            gold.append({"item": external, "label": [records[k].get("label") for k in ids]})
    if n_lfs is None:
        raise UnreadableInputError(f"{directory}: none of {', '.join(WRENCH_SPLITS)}.json found")
    names, descriptions = _wrench_lf_names(directory / "readme.txt", n_lfs)
    definition = parse_task_definition(
        {"name": task, "subtask": [{"name": SUBTASK, "labels": labels}]}
    )
    item_table = pa.concat_tables(items, promote_options="default")
    vote_table = pa.concat_tables([_matrix_votes(ids, m, names, labels) for ids, m in votes])
    gold_table = pa.table(
        {
            "item": [i for part in gold for i in part["item"]],
            "label": pa.array(
                [None if v is None else _label_name(v, labels) for p in gold for v in p["label"]],
                pa.string(),
            ),
            "source": pa.array(["benchmark"] * sum(len(p["item"]) for p in gold), pa.string()),
        }
    )
    name = str(directory)
    return Bundle(
        task=definition,
        items=TableSource(item_table, f"{name}/items"),
        lfs=TableSource(
            pa.table(
                {
                    "lf": names,
                    "subtask": [SUBTASK] * len(names),
                    "kind": ["pattern"] * len(names),
                    "description": descriptions,
                }
            ),
            f"{name}/readme.txt",
        ),
        votes=TableSource(vote_table, f"{name}/weak_labels"),
        gold=TableSource(gold_table, f"{name}/labels") if gold_table.num_rows else None,
    )


def _wrench_items(records: dict, ids: list[str], external: list[str], split: str) -> pa.Table:
    data = [records[key].get("data") or {} for key in ids]
    keys = sorted({k for row in data for k in row if k not in {"item", "split", "created_at"}})
    columns: dict[str, pa.Array] = {
        "item": pa.array(external, pa.string()),
        "split": pa.array([split] * len(ids), pa.string()),
    }
    for key in keys:
        values = [row.get(key) for row in data]
        columns[key] = pa.array(
            [v if v is None or isinstance(v, str) else json.dumps(v) for v in values], pa.string()
        )
    return pa.table(columns)


_README_LIST = re.compile(
    r"labeling functions list:\s*\n(.*?)(?:\n\s*\n|$)", re.IGNORECASE | re.DOTALL
)


def _wrench_lf_names(readme: Path, n_lfs: int) -> tuple[list[str], list[str | None]]:
    """LF names from a readme's 'Labeling functions list:' block, or lf_00.. with the
    readme's tab-separated rule lines (CLASS<TAB>pattern<TAB>example) as descriptions."""
    default = [f"lf_{i:02d}" for i in range(n_lfs)]
    if not readme.is_file():
        return default, [None] * n_lfs
    text = readme.read_text("utf-8", errors="replace")
    match = _README_LIST.search(text)
    if match:
        names = [n.strip().strip(",").strip() for n in re.split(r"[,\n]", match[1])]
        names = [n for n in names if n]
        if len(names) == n_lfs and len(set(names)) == n_lfs:
            return names, [None] * n_lfs
    rules = [line.split("\t") for line in text.splitlines() if line.count("\t") >= 1]
    if len(rules) == n_lfs:
        return default, [f"{parts[0].strip()}: {parts[1].strip()}" for parts in rules]
    return default, [None] * n_lfs


def _label_name(code: object, labels: list[str]) -> str:
    """The label name of a code; an out-of-range code becomes text no label set can match
    (so the loader quarantines it), since a bare number could equal a numeric label name."""
    if isinstance(code, int | np.integer) and 0 <= code < len(labels):
        return labels[int(code)]
    return f"code {code}"


def _matrix_votes(
    item_ids: np.ndarray, matrix: np.ndarray, lf_names: list[str], labels: list[str]
) -> pa.Table:
    """Votes for every entry of an (n_items, n_lfs) matrix that is not ABSTAIN (-1), each
    label given by name: the loader matches names before codes, and names may be numbers."""
    rows, cols = np.nonzero(matrix != ABSTAIN)
    names = np.asarray(lf_names, dtype=object)
    codes = matrix[rows, cols]
    label_names = np.asarray(labels, dtype=object)
    in_range = (codes >= 0) & (codes < len(labels))
    voted = np.empty(len(codes), dtype=object)
    voted[in_range] = label_names[codes[in_range]]
    voted[~in_range] = [f"code {c}" for c in codes[~in_range]]
    return pa.table(
        {
            "item": pa.array(item_ids[rows], pa.string()),
            "lf": pa.array(names[cols], pa.string()),
            "label": pa.array(voted, pa.string()),
            "subtask": pa.array(np.full(len(rows), SUBTASK, dtype=object), pa.string()),
        }
    )


def read_matrix(
    matrix_path: Path, *, task: str, labels_path: Path | None = None, cardinality: int | None = None
) -> Bundle:
    """A Snorkel-style label matrix L.npy: int (n_items, n_lfs), -1 = abstain.

    Items are named by row index, LFs lf_00..; labels are the codes 0..k-1 with k from
    cardinality or the largest code seen. Entries below -1 are kept as votes so that the
    loader quarantines them with their row. labels_path (y.npy, -1 = unknown) becomes
    benchmark gold.
    """
    matrix = _load_npy(matrix_path, ndim=2)
    y = _load_npy(labels_path, ndim=1) if labels_path else None
    if y is not None and len(y) != len(matrix):
        raise UnreadableInputError(
            f"{labels_path}: {len(y)} labels for {len(matrix)} rows of {matrix_path}"
        )
    seen = max(int(matrix.max(initial=0)), int(y.max(initial=0)) if y is not None else 0)
    k = cardinality or max(seen + 1, 2)
    labels = [str(c) for c in range(k)]
    ids = np.arange(len(matrix)).astype(str).astype(object)
    names = [f"lf_{j:02d}" for j in range(matrix.shape[1])]
    definition = parse_task_definition(
        {"name": task, "subtask": [{"name": SUBTASK, "labels": labels}]}
    )
    gold = None
    if y is not None:
        known = y != ABSTAIN
        gold = TableSource(
            pa.table(
                {
                    "item": pa.array(ids[known], pa.string()),
                    "label": pa.array([_label_name(v, labels) for v in y[known]], pa.string()),
                    "source": pa.array(["benchmark"] * int(known.sum()), pa.string()),
                }
            ),
            str(labels_path),
        )
    return Bundle(
        task=definition,
        items=TableSource(pa.table({"item": pa.array(ids, pa.string())}), f"{matrix_path}/rows"),
        lfs=TableSource(
            pa.table({"lf": names, "subtask": [SUBTASK] * len(names)}), f"{matrix_path}/columns"
        ),
        votes=TableSource(_matrix_votes(ids, matrix, names, labels), str(matrix_path)),
        gold=gold,
    )


def _load_npy(path: Path, *, ndim: int) -> np.ndarray:
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise UnreadableInputError(f"{path}: not a readable .npy array: {exc}") from exc
    if array.ndim != ndim or not np.issubdtype(array.dtype, np.integer):
        raise UnreadableInputError(
            f"{path}: expected a {ndim}-D integer array, got {array.ndim}-D {array.dtype}"
        )
    return array


def read_crowd(answer_path: Path, *, task: str, truth_path: Path | None = None) -> Bundle:
    """A crowdsourcing answer set: answer.csv (question, worker, answer), truth.csv.

    Workers become labeling functions of kind 'human' (``worker_<id>``). Labels are the
    distinct answers and truths; integer answers 0..k-1 keep their codes.
    """
    answers = _read_csv_columns(answer_path, ("question", "worker", "answer"))
    truth = _read_csv_columns(truth_path, ("question", "truth")) if truth_path else None
    values = set(answers["answer"]) | (set(truth["truth"]) if truth else set())
    values.discard("")
    if all(v.lstrip("-").isdigit() for v in values) and values:
        top = max(int(v) for v in values)
        labels = [str(c) for c in range(max(top + 1, 2))]
    else:
        labels = sorted(values)
    definition = parse_task_definition(
        {"name": task, "subtask": [{"name": SUBTASK, "labels": labels}]}
    )
    questions = list(dict.fromkeys(answers["question"] + (truth["question"] if truth else [])))
    workers = list(dict.fromkeys(answers["worker"]))
    name = str(answer_path)
    return Bundle(
        task=definition,
        items=TableSource(
            pa.table({"item": pa.array(questions, pa.string())}), f"{name}/questions"
        ),
        lfs=TableSource(
            pa.table(
                {
                    "lf": [f"worker_{w}" for w in workers],
                    "subtask": [SUBTASK] * len(workers),
                    "kind": ["human"] * len(workers),
                }
            ),
            f"{name}/workers",
        ),
        votes=TableSource(
            pa.table(
                {
                    "item": pa.array(answers["question"], pa.string()),
                    "lf": pa.array([f"worker_{w}" for w in answers["worker"]], pa.string()),
                    "label": pa.array(answers["answer"], pa.string()),
                }
            ),
            name,
        ),
        gold=TableSource(
            pa.table(
                {
                    "item": pa.array(truth["question"], pa.string()),
                    "label": pa.array(truth["truth"], pa.string()),
                    "source": pa.array(["benchmark"] * len(truth["question"]), pa.string()),
                }
            ),
            str(truth_path),
        )
        if truth
        else None,
    )


def _read_csv_columns(path: Path | None, required: tuple[str, ...]) -> dict[str, list[str]]:
    if path is None or not path.is_file():
        raise UnreadableInputError(f"{path}: no such file")
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise UnreadableInputError(f"{path}: missing column(s) {', '.join(missing)}")
        columns: dict[str, list[str]] = {c: [] for c in required}
        for row in reader:
            for c in required:
                columns[c].append((row[c] or "").strip())
    return columns

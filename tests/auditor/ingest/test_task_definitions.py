from __future__ import annotations

import tomllib
from decimal import Decimal
from pathlib import Path

import pytest

from auditor.ingest.service import ingest_tasks_file
from auditor.ingest.task_definitions import TaskDefinitionError, parse_task_definitions
from auditor.store import Store
from tests.conftest import TICKETS_TOML, rows, write


def test_parse_orders_parents_first_and_reads_costs() -> None:
    data = {
        "task": [
            {
                "name": "t",
                "subtask": [
                    {"name": "child", "parent": "root", "parent_label": "a", "labels": ["x", "y"]},
                    {"name": "root", "labels": ["a", "b"], "manual_cost_per_label": "0.25"},
                ],
            }
        ]
    }
    (task,) = parse_task_definitions(data)
    assert [s.name for s in task.subtasks] == ["root", "child"]
    assert task.subtasks[0].manual_cost_per_label == Decimal("0.25")


@pytest.mark.parametrize(
    ("subtasks", "message"),
    [
        ([{"name": "a", "labels": ["x"]}], "at least two"),
        ([{"name": "a", "labels": ["x", "x"]}], "labels repeat"),
        ([{"name": "a", "labels": ["x", ""]}], "non-empty"),
        (
            [{"name": "a", "labels": ["x", "y"]}, {"name": "a", "labels": ["x", "y"]}],
            "names repeat",
        ),
        (
            [{"name": "b", "parent": "zz", "parent_label": "x", "labels": ["p", "q"]}],
            "unknown parent",
        ),
        (
            [
                {"name": "a", "labels": ["x", "y"]},
                {"name": "b", "parent": "a", "parent_label": "nope", "labels": ["p", "q"]},
            ],
            "parent_label 'nope' is not a label of 'a'",
        ),
        (
            [
                {"name": "a", "parent": "b", "parent_label": "p", "labels": ["x", "y"]},
                {"name": "b", "parent": "a", "parent_label": "x", "labels": ["p", "q"]},
            ],
            "cycle",
        ),
        ([{"name": "a", "parent": "b", "labels": ["x", "y"]}], "go together"),
        ([{"name": "a", "labels": ["x", "y"], "manual_cost_per_label": "-1"}], ">= 0"),
        ([], "at least one"),
    ],
)
def test_invalid_definitions_name_the_problem(subtasks: list, message: str) -> None:
    with pytest.raises(TaskDefinitionError, match=message):
        parse_task_definitions({"task": [{"name": "t", "subtask": subtasks}]})


def test_upsert_creates_the_tree_and_appends_labels_only(store: Store, tmp_path: Path) -> None:
    report = ingest_tasks_file(store, write(tmp_path, "t.toml", TICKETS_TOML))
    assert (report.tasks_created, report.subtasks_created, report.labels_added) == (1, 2, 5)
    assert rows(
        store,
        "SELECT s.name, p.name, s.parent_label FROM subtasks s "
        "LEFT JOIN subtasks p ON p.subtask_id = s.parent_subtask_id ORDER BY 1",
    ) == [("billing_issue", "topic", 0), ("topic", None, None)]
    again = ingest_tasks_file(store, write(tmp_path, "t.toml", TICKETS_TOML))
    assert (again.tasks_created, again.subtasks_created, again.labels_added) == (0, 0, 0)
    extended = TICKETS_TOML.replace('"other"]', '"other", "shipping"]')
    assert ingest_tasks_file(store, write(tmp_path, "t2.toml", extended)).labels_added == 1
    assert rows(
        store,
        "SELECT code FROM label_sets l JOIN subtasks s USING (subtask_id) "
        "WHERE s.name = 'topic' AND l.name = 'shipping'",
    ) == [(3,)]


def test_reordering_labels_is_refused_and_nothing_is_written(store: Store, tmp_path: Path) -> None:
    ingest_tasks_file(store, write(tmp_path, "t.toml", TICKETS_TOML))
    swapped = TICKETS_TOML.replace('["billing", "technical"', '["technical", "billing"')
    swapped += '\n[[task]]\nname = "second"\n[[task.subtask]]\nname = "s"\nlabels = ["a", "b"]\n'
    # "second" comes after the failing task in the file, but the whole file is one transaction
    tomllib.loads(swapped)
    with pytest.raises(TaskDefinitionError, match="may only be appended"):
        ingest_tasks_file(store, write(tmp_path, "t3.toml", swapped))
    assert rows(store, "SELECT name FROM tasks") == [("tickets",)]


def test_bad_toml_is_reported_with_the_file(store: Store, tmp_path: Path) -> None:
    with pytest.raises(TaskDefinitionError, match="not valid TOML"):
        ingest_tasks_file(store, write(tmp_path, "bad.toml", "[[task]\nname ="))

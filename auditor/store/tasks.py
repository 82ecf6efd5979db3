"""Write task definitions (tasks, subtasks, label sets) into the store.

Label codes are stable: a subtask's existing labels must keep their names and order; new
labels may only be appended. The parent of an existing subtask cannot change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from auditor.ingest.task_definitions import TaskDefinition, TaskDefinitionError
from auditor.store.connection import Connection


@dataclass(frozen=True)
class TaskUpsertReport:
    tasks_created: int
    subtasks_created: int
    labels_added: int


def upsert_task_definitions(con: Connection, definitions: list[TaskDefinition]) -> TaskUpsertReport:
    """Create or extend the tasks in one transaction; TaskDefinitionError rolls back all."""
    con.execute("BEGIN TRANSACTION")
    try:
        report = upsert_in_transaction(con, definitions)
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
    return report


def upsert_in_transaction(con: Connection, definitions: list[TaskDefinition]) -> TaskUpsertReport:
    """As upsert_task_definitions, inside a transaction the caller opened."""
    counts = [0, 0, 0]
    for definition in definitions:
        _upsert(con, definition, counts)
    return TaskUpsertReport(*counts)


def _upsert(con: Connection, definition: TaskDefinition, counts: list[int]) -> None:
    now = datetime.now(UTC).replace(tzinfo=None)
    row = con.execute("SELECT task_id FROM tasks WHERE name = ?", [definition.name]).fetchall()
    if row:
        task_id = row[0][0]
        con.execute(
            "UPDATE tasks SET description = coalesce(?, description) WHERE task_id = ?",
            [definition.description, task_id],
        )
    else:
        task_id = con.execute(
            "INSERT INTO tasks (name, description, created_at) VALUES (?, ?, ?) RETURNING task_id",
            [definition.name, definition.description, now],
        ).fetchall()[0][0]
        counts[0] += 1
    for sub in definition.subtasks:
        where = f"task {definition.name!r}, subtask {sub.name!r}"
        parent_id, parent_code = None, None
        if sub.parent is not None:
            parent_id, parent_code = con.execute(
                "SELECT s.subtask_id, l.code FROM subtasks s JOIN label_sets l USING (subtask_id) "
                "WHERE s.task_id = ? AND s.name = ? AND l.name = ?",
                [task_id, sub.parent, sub.parent_label],
            ).fetchall()[0]
        existing = con.execute(
            "SELECT subtask_id, parent_subtask_id, parent_label FROM subtasks "
            "WHERE task_id = ? AND name = ?",
            [task_id, sub.name],
        ).fetchall()
        if existing:
            subtask_id, old_parent, old_code = existing[0]
            if (old_parent, old_code) != (parent_id, parent_code):
                raise TaskDefinitionError(f"{where}: its parent cannot change once defined")
            con.execute(
                "UPDATE subtasks SET description = coalesce(?, description), "
                "manual_cost_per_label = coalesce(?, manual_cost_per_label) WHERE subtask_id = ?",
                [sub.description, sub.manual_cost_per_label, subtask_id],
            )
        else:
            subtask_id = con.execute(
                "INSERT INTO subtasks (task_id, name, parent_subtask_id, parent_label, "
                "description, manual_cost_per_label) VALUES (?, ?, ?, ?, ?, ?) "
                "RETURNING subtask_id",
                [
                    task_id,
                    sub.name,
                    parent_id,
                    parent_code,
                    sub.description,
                    sub.manual_cost_per_label,
                ],
            ).fetchall()[0][0]
            counts[1] += 1
        old_labels = [
            name
            for (name,) in con.execute(
                "SELECT name FROM label_sets WHERE subtask_id = ? ORDER BY code", [subtask_id]
            ).fetchall()
        ]
        if list(sub.labels[: len(old_labels)]) != old_labels:
            raise TaskDefinitionError(
                f"{where}: labels {old_labels} exist with fixed codes; new labels may only be "
                f"appended after them (got {list(sub.labels)})"
            )
        new = list(sub.labels[len(old_labels) :])
        if new:
            con.executemany(
                "INSERT INTO label_sets VALUES (?, ?, ?)",
                [[subtask_id, len(old_labels) + i, name] for i, name in enumerate(new)],
            )
            counts[2] += len(new)

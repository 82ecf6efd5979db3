"""Resolving submitted names (task, item, subtask, label) to the store's ids."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from auditor.audit.submissions import Submission
from auditor.store.audit_queue_io import label_names
from auditor.store.connection import Connection


@dataclass(frozen=True)
class Resolved:
    """A submitted row with its names resolved to ids; label is the label code."""

    row: Submission
    task_id: int
    task: str
    item_id: int
    subtask_id: int
    subtask: str
    label: int
    label_name: str


def resolve(
    con: Connection, rows: Sequence[Submission]
) -> tuple[list[Resolved], list[tuple[int, str]]]:
    """The rows whose task, item, subtask and label all exist, and (row, problem) for the
    others. A row without a task takes its item's task (an item id that several tasks
    use needs the task); without a subtask, the task's only subtask. A label is a name,
    else a code."""
    tasks = dict(con.execute("SELECT name, task_id FROM tasks").fetchall())
    subtasks: dict[int, dict[str, int]] = defaultdict(dict)
    for task_id, name, subtask_id in con.execute(
        "SELECT task_id, name, subtask_id FROM subtasks"
    ).fetchall():
        subtasks[task_id][name] = subtask_id
    items: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for external_id, task_id, item_id in con.execute(
        "SELECT external_id, task_id, item_id FROM items "
        "WHERE external_id IN (SELECT unnest(CAST(? AS VARCHAR[]))) ORDER BY task_id",
        [sorted({row.item for row in rows})],
    ).fetchall():
        items[external_id].append((task_id, item_id))
    labels = label_names(con)
    names = {task_id: name for name, task_id in tasks.items()}
    resolved, problems = [], []
    for row in rows:
        found = _resolve_row(row, tasks, names, subtasks, items, labels)
        if isinstance(found, Resolved):
            resolved.append(found)
        else:
            problems += [(row.row, problem) for problem in found]
    return resolved, problems


def _resolve_row(
    row: Submission,
    tasks: dict[str, int],
    names: dict[int, str],
    subtasks: dict[int, dict[str, int]],
    items: dict[str, list[tuple[int, int]]],
    labels: dict[int, list[str]],
) -> Resolved | list[str]:
    if row.task is not None and row.task not in tasks:
        return [f"unknown task {row.task}"]
    candidates = items.get(row.item, [])
    if row.task is not None:
        candidates = [c for c in candidates if c[0] == tasks[row.task]]
    problems = []
    if not candidates:
        problems.append(f"unknown item {row.item}" + (f" in task {row.task}" if row.task else ""))
    elif len(candidates) > 1:
        used = ", ".join(names[task_id] for task_id, _ in candidates)
        problems.append(f"item {row.item} exists in several tasks ({used}): give its task")
    task_id = candidates[0][0] if len(candidates) == 1 else tasks.get(row.task or "")
    if task_id is None:  # the task is unknown: only a subtask no task has can be reported
        if row.subtask is not None and not any(row.subtask in s for s in subtasks.values()):
            problems.append(f"unknown subtask {row.subtask}")
        return problems
    own = subtasks.get(task_id, {})
    subtask = row.subtask
    if subtask is None and len(own) == 1:
        subtask = next(iter(own))
    if subtask is None:
        return [*problems, "missing required field subtask (the task has several subtasks)"]
    if subtask not in own:
        return [*problems, f"unknown subtask {subtask} in task {names[task_id]}"]
    subtask_id = own[subtask]
    allowed = labels.get(subtask_id, [])
    if row.label in allowed:
        code = allowed.index(row.label)
    elif row.label.isdigit() and int(row.label) < len(allowed):
        code = int(row.label)
    else:
        problems.append(
            f"label {row.label} is not in the label set of subtask {subtask} ({', '.join(allowed)})"
        )
    if problems:
        return problems
    return Resolved(
        row, task_id, names[task_id], candidates[0][1], subtask_id, subtask, code, allowed[code]
    )

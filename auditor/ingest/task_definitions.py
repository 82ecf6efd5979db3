"""Task definitions (tasks, the subtask tree, label sets), parsed and checked without I/O.

TOML shape (``labelwatch ingest tasks FILE.toml``)::

    [[task]]
    name = "support_tickets"
    [[task.subtask]]
    name = "topic"
    labels = ["billing", "technical", "other"]
    manual_cost_per_label = "0.40"          # optional, for savings estimates
    [[task.subtask]]
    name = "billing_issue"
    parent = "topic"                        # stage 2 exists only under topic = billing
    parent_label = "billing"
    labels = ["refund", "double_charge"]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any


class TaskDefinitionError(ValueError):
    """A task definition is invalid; the message names the task and subtask."""


@dataclass(frozen=True)
class SubtaskDefinition:
    name: str
    labels: tuple[str, ...]
    parent: str | None = None
    parent_label: str | None = None
    description: str | None = None
    manual_cost_per_label: Decimal | None = None


@dataclass(frozen=True)
class TaskDefinition:
    name: str
    subtasks: tuple[SubtaskDefinition, ...]
    description: str | None = None


def parse_task_definitions(data: Mapping[str, Any]) -> list[TaskDefinition]:
    """Validate a parsed TOML document (``[[task]]`` tables) into TaskDefinitions."""
    tasks = data.get("task", data.get("tasks"))
    if not isinstance(tasks, list) or not tasks:
        raise TaskDefinitionError("expected one or more [[task]] tables")
    definitions = [parse_task_definition(task, index=i) for i, task in enumerate(tasks)]
    names = [d.name for d in definitions]
    if len(set(names)) != len(names):
        raise TaskDefinitionError(f"task names repeat: {names}")
    return definitions


def parse_task_definition(task: Mapping[str, Any], *, index: int = 0) -> TaskDefinition:
    name = _name(task.get("name"), f"task #{index + 1}")
    where = f"task {name!r}"
    raw_subtasks = task.get("subtask", task.get("subtasks"))
    if not isinstance(raw_subtasks, list) or not raw_subtasks:
        raise TaskDefinitionError(f"{where}: needs at least one [[task.subtask]]")
    subtasks = [_subtask(raw, where) for raw in raw_subtasks]
    by_name = {s.name: s for s in subtasks}
    if len(by_name) != len(subtasks):
        raise TaskDefinitionError(f"{where}: subtask names repeat")
    for sub in subtasks:
        if sub.parent is None:
            continue
        parent = by_name.get(sub.parent)
        if parent is None:
            raise TaskDefinitionError(
                f"{where}, subtask {sub.name!r}: unknown parent {sub.parent!r}"
            )
        if sub.parent_label not in parent.labels:
            raise TaskDefinitionError(
                f"{where}, subtask {sub.name!r}: parent_label {sub.parent_label!r} is not a "
                f"label of {parent.name!r} ({', '.join(parent.labels)})"
            )
    return TaskDefinition(name, tuple(_parents_first(subtasks, where)), task.get("description"))


def _name(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise TaskDefinitionError(f"{where}: missing or empty name")
    return value.strip()


def _subtask(raw: Any, where: str) -> SubtaskDefinition:
    if not isinstance(raw, Mapping):
        raise TaskDefinitionError(f"{where}: each subtask must be a table")
    name = _name(raw.get("name"), f"{where}, a subtask")
    here = f"{where}, subtask {name!r}"
    labels = raw.get("labels")
    if not isinstance(labels, Sequence) or isinstance(labels, str) or len(labels) < 2:
        raise TaskDefinitionError(f"{here}: labels must be a list of at least two names")
    if not all(isinstance(label, str) and label.strip() for label in labels):
        raise TaskDefinitionError(f"{here}: every label must be a non-empty string")
    if len(set(labels)) != len(labels):
        raise TaskDefinitionError(f"{here}: labels repeat")
    parent, parent_label = raw.get("parent"), raw.get("parent_label")
    if (parent is None) != (parent_label is None):
        raise TaskDefinitionError(f"{here}: parent and parent_label go together")
    cost = raw.get("manual_cost_per_label")
    return SubtaskDefinition(
        name=name,
        labels=tuple(label.strip() for label in labels),
        parent=parent,
        parent_label=parent_label,
        description=raw.get("description"),
        manual_cost_per_label=None if cost is None else _cost(cost, here),
    )


def _cost(value: Any, where: str) -> Decimal:
    try:
        cost = Decimal(str(value))
    except InvalidOperation as exc:
        raise TaskDefinitionError(
            f"{where}: manual_cost_per_label {value!r} is not a number"
        ) from exc
    if not cost.is_finite() or cost < 0:
        raise TaskDefinitionError(f"{where}: manual_cost_per_label must be a finite amount >= 0")
    return cost


def _parents_first(subtasks: list[SubtaskDefinition], where: str) -> list[SubtaskDefinition]:
    """Order subtasks so each parent precedes its children; reject cycles."""
    ordered: list[SubtaskDefinition] = []
    placed: set[str] = set()
    pending = list(subtasks)
    while pending:
        ready = [s for s in pending if s.parent is None or s.parent in placed]
        if not ready:
            raise TaskDefinitionError(
                f"{where}: subtask parents form a cycle among {[s.name for s in pending]}"
            )
        for sub in ready:
            ordered.append(sub)
            placed.add(sub.name)
            pending.remove(sub)
    return ordered

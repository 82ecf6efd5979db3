"""The shape of a task that rules are validated and checked against (built by the store)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SubtaskShape:
    name: str
    labels: tuple[str, ...]
    parent: str | None = None
    parent_label: str | None = None


@dataclass(frozen=True)
class LFShape:
    name: str
    subtask: str | None = None  # the LF's own subtask, when it has one


@dataclass(frozen=True)
class TaskShape:
    """What rules are validated against: subtasks (parents before children is not
    required) and LFs, each in a fixed order that the check inputs' indices refer to."""

    name: str
    subtasks: tuple[SubtaskShape, ...]
    lfs: tuple[LFShape, ...] = ()

    def subtask(self, name: str) -> SubtaskShape | None:
        return next((s for s in self.subtasks if s.name == name), None)

    def subtask_index(self, name: str) -> int:
        return [s.name for s in self.subtasks].index(name)

    def lf_index(self, name: str) -> int:
        return [lf.name for lf in self.lfs].index(name)

    def labels(self, subtask: str) -> tuple[str, ...]:
        shape = self.subtask(subtask)
        if shape is None:
            raise KeyError(f"task {self.name!r} has no subtask {subtask!r}")
        return shape.labels

    def code(self, subtask: str, label: str) -> int:
        return self.labels(subtask).index(label)

    def depth(self, subtask: str) -> int:
        """0 for a top-level subtask, 1 for its refinements, and so on."""
        shape, depth = self.subtask(subtask), 0
        while shape is not None and shape.parent is not None and depth <= len(self.subtasks):
            shape, depth = self.subtask(shape.parent), depth + 1
        return depth

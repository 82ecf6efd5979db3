"""Subtask-boundary rules of one task: parsed from TOML and checked against the task's shape.

Pure (no store access): the caller passes the task's shape (subtasks, label sets, parent
links, LF names) as a TaskShape. One file per task, ``<rules_dir>/<task name>.toml``::

    [[allowed_children]]        # under parent_label, the child may only take these labels
    name = "billing_refinements"
    parent = "topic"
    parent_label = "billing"
    child = "billing_issue"     # must refine exactly parent = parent_label
    labels = ["refund", "double_charge", "invoice"]

    [[forbidden]]               # this combination of labels across subtasks must not occur
    name = "no_refund_on_shipping"
    labels = { topic = "shipping", billing_issue = "refund" }

    [[required]]                # an item with parent_label must have a label for child
    name = "billing_needs_issue"
    parent = "topic"
    parent_label = "billing"
    child = "billing_issue"

    [[lf_labels]]               # a labeling function may only vote these labels
    name = "kw_refund_is_billing"
    lf = "kw_refund"
    labels = ["billing"]
    # subtask = "topic"         # optional: default the LF's own subtask (or the only one)

    [improbable]                # flag items whose feasible joint mass is below threshold
    threshold = 0.2             # in [0, 1]; default 0.2; 0 turns the check off

Every table is optional. Implicit rules, with or without a file: each refinement subtask
(one with parent and parent_label) yields ``applies_under:<child>`` ("the child only
applies under parent = parent_label"), and ``improbable`` exists with threshold 0.2 unless
set. Rule names must be unique (the implicit ones included): they key the metric rows.
Any problem (unknown table or key, unknown subtask, LF or label, a child that does not
refine that parent label, a repeated name, a threshold outside [0, 1]) raises RulesError
naming the file, the rule and the problem.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from auditor.rules.shape import SubtaskShape, TaskShape

DEFAULT_IMPROBABLE_THRESHOLD = 0.2


class RulesError(ValueError):
    """A rules file is invalid; the message names the file, the rule and the problem."""


@dataclass(frozen=True)
class _Refinement:
    name: str
    parent: str
    parent_label: str
    child: str  # refines exactly parent = parent_label

    @property
    def subtasks(self) -> tuple[str, ...]:
        return (self.parent, self.child)


@dataclass(frozen=True)
class AppliesUnder(_Refinement):
    """Implicit: the child subtask has a label only where parent = parent_label."""

    kind: ClassVar[str] = "applies_under"


@dataclass(frozen=True)
class AllowedChildren(_Refinement):
    kind: ClassVar[str] = "allowed_children"
    labels: tuple[str, ...]


@dataclass(frozen=True)
class Required(_Refinement):
    kind: ClassVar[str] = "required"


@dataclass(frozen=True)
class Forbidden:
    """labels: (subtask, label) pairs; an item violates when it has all of them."""

    kind: ClassVar[str] = "forbidden"
    name: str
    labels: tuple[tuple[str, str], ...]

    @property
    def subtasks(self) -> tuple[str, ...]:
        return tuple(subtask for subtask, _ in self.labels)


@dataclass(frozen=True)
class LFLabels:
    """The LF's votes in `subtask` may only carry these labels (votes elsewhere are not
    concerned)."""

    kind: ClassVar[str] = "lf_labels"
    name: str
    lf: str
    subtask: str
    labels: tuple[str, ...]

    @property
    def subtasks(self) -> tuple[str, ...]:
        return (self.subtask,)


@dataclass(frozen=True)
class Improbable:
    kind: ClassVar[str] = "improbable"
    threshold: float = DEFAULT_IMPROBABLE_THRESHOLD
    name: str = "improbable"
    subtasks: tuple[str, ...] = ()


Rule = AppliesUnder | AllowedChildren | Forbidden | Required | LFLabels | Improbable


@dataclass(frozen=True)
class RuleSet:
    """The rules of one task; source is the file they came from (None: implicit only)."""

    task: str
    source: str | None = None
    applies_under: tuple[AppliesUnder, ...] = ()
    allowed_children: tuple[AllowedChildren, ...] = ()
    forbidden: tuple[Forbidden, ...] = ()
    required: tuple[Required, ...] = ()
    lf_labels: tuple[LFLabels, ...] = ()
    improbable: Improbable = field(default_factory=Improbable)

    def rules(self) -> tuple[Rule, ...]:
        """Every rule, implicit ones first, improbable last."""
        return (
            *self.applies_under,
            *self.allowed_children,
            *self.forbidden,
            *self.required,
            *self.lf_labels,
            self.improbable,
        )


def scope(rule: Rule) -> str:
    """The subtasks a rule concerns joined by "," (metric scope), or "task"."""
    return ",".join(rule.subtasks) or "task"


def implicit_rules(task: TaskShape) -> RuleSet:
    """The rules every task has without a file: applies_under per refinement, improbable."""
    return RuleSet(
        task=task.name,
        applies_under=tuple(
            AppliesUnder(f"applies_under:{s.name}", s.parent, s.parent_label, s.name)
            for s in task.subtasks
            if s.parent is not None and s.parent_label is not None
        ),
    )


def load_rules(path: Path, *, task: TaskShape) -> RuleSet:
    """The task's rules from path; only the implicit rules when the file does not exist."""
    if not path.exists():
        return implicit_rules(task)
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
        raise RulesError(f"{path}: cannot read rules: {exc}") from exc
    return parse_rules(data, task=task, source=str(path))


KEYS: dict[str, tuple[set[str], set[str]]] = {  # table -> (required keys, optional keys)
    "allowed_children": ({"name", "parent", "parent_label", "child", "labels"}, set()),
    "forbidden": ({"name", "labels"}, set()),
    "required": ({"name", "parent", "parent_label", "child"}, set()),
    "lf_labels": ({"name", "lf", "labels"}, {"subtask"}),
}


def parse_rules(data: Mapping[str, Any], *, task: TaskShape, source: str) -> RuleSet:
    """Validate a parsed rules document against the task's shape."""
    unknown = sorted(set(data) - set(KEYS) - {"improbable"})
    if unknown:
        known = ", ".join([*KEYS, "improbable"])
        raise RulesError(f"{source}: unknown table {unknown[0]!r} (known: {known})")
    base = implicit_rules(task)
    names = {rule.name for rule in base.rules()}
    parsed: dict[str, list[Rule]] = {table: [] for table in KEYS}
    for table in KEYS:
        entries = data.get(table, [])
        if not isinstance(entries, list):
            raise RulesError(f"{source}: {table} must be an array of tables: [[{table}]]")
        for index, raw in enumerate(entries, start=1):
            checker = _Checker(source, table, index, task)
            rule = checker.rule(raw)
            if rule.name in names:
                raise checker.error(f"rule name {rule.name!r} is used twice")
            names.add(rule.name)
            parsed[table].append(rule)
    return RuleSet(
        task=task.name,
        source=source,
        applies_under=base.applies_under,
        allowed_children=tuple(
            r for r in parsed["allowed_children"] if isinstance(r, AllowedChildren)
        ),
        forbidden=tuple(r for r in parsed["forbidden"] if isinstance(r, Forbidden)),
        required=tuple(r for r in parsed["required"] if isinstance(r, Required)),
        lf_labels=tuple(r for r in parsed["lf_labels"] if isinstance(r, LFLabels)),
        improbable=_improbable(data.get("improbable"), source),
    )


def _improbable(raw: object, source: str) -> Improbable:
    if raw is None:
        return Improbable()
    if not isinstance(raw, Mapping):
        raise RulesError(f"{source}: [improbable] must be a table with a threshold")
    extra = sorted(set(raw) - {"threshold"})
    if extra:
        raise RulesError(f"{source}: [improbable]: unknown key {extra[0]!r} (known: threshold)")
    threshold = raw.get("threshold", DEFAULT_IMPROBABLE_THRESHOLD)
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, int | float)
        or not math.isfinite(threshold)
        or not 0 <= threshold <= 1
    ):
        raise RulesError(
            f"{source}: [improbable]: threshold must be a number in [0, 1], got {threshold!r}"
        )
    return Improbable(float(threshold))


@dataclass
class _Checker:
    """Validation of one [[table]] entry; errors name the file, table, index and name."""

    source: str
    table: str
    index: int
    task: TaskShape
    name: str | None = None

    def error(self, problem: str) -> RulesError:
        named = f" {self.name!r}" if self.name is not None else ""
        return RulesError(f"{self.source}: [[{self.table}]] #{self.index}{named}: {problem}")

    def rule(self, raw: object) -> Rule:
        if not isinstance(raw, Mapping):
            raise self.error("must be a table")
        required, optional = KEYS[self.table]
        if isinstance(raw.get("name"), str) and raw["name"].strip():
            self.name = raw["name"].strip()
        unknown = sorted(set(raw) - required - optional)
        if unknown:
            known = ", ".join(sorted(required | optional))
            raise self.error(f"unknown key {unknown[0]!r} (known: {known})")
        missing = sorted(required - set(raw))
        if missing:
            raise self.error(f"missing key {missing[0]!r}")
        if self.name is None:
            raise self.error("name must be a non-empty string")
        if self.table == "forbidden":
            return Forbidden(self.name, self._pairs(raw["labels"]))
        if self.table == "lf_labels":
            lf, subtask = self._lf(raw["lf"], raw.get("subtask"))
            return LFLabels(self.name, lf, subtask, self._labels(raw["labels"], subtask))
        parent, parent_label, child = self._refinement(raw)
        if self.table == "required":
            return Required(self.name, parent, parent_label, child)
        return AllowedChildren(
            self.name, parent, parent_label, child, self._labels(raw["labels"], child)
        )

    def _string(self, value: object, key: str) -> str:
        if not isinstance(value, str) or not value:
            raise self.error(f"{key} must be a non-empty string, got {value!r}")
        return value

    def _subtask(self, value: object, key: str) -> SubtaskShape:
        name = self._string(value, key)
        shape = self.task.subtask(name)
        if shape is None:
            known = ", ".join(s.name for s in self.task.subtasks)
            raise self.error(f"unknown subtask {name!r} in {key} (known: {known})")
        return shape

    def _label(self, value: object, subtask: SubtaskShape, key: str) -> str:
        label = self._string(value, key)
        if label not in subtask.labels:
            raise self.error(
                f"label {label!r} in {key} is not a label of {subtask.name!r} "
                f"({', '.join(subtask.labels)})"
            )
        return label

    def _labels(self, value: object, subtask_name: str) -> tuple[str, ...]:
        subtask = self.task.subtask(subtask_name)
        assert subtask is not None
        if not isinstance(value, list) or not value:
            raise self.error(f"labels must be a non-empty list of label names, got {value!r}")
        labels = tuple(self._label(v, subtask, "labels") for v in value)
        if len(set(labels)) != len(labels):
            raise self.error(f"labels repeat: {list(labels)}")
        return labels

    def _pairs(self, value: object) -> tuple[tuple[str, str], ...]:
        if not isinstance(value, Mapping) or not value:
            raise self.error(
                "labels must be a non-empty table of subtask = label, "
                f'e.g. {{ topic = "shipping" }}, got {value!r}'
            )
        return tuple(
            (str(subtask), self._label(label, self._subtask(subtask, "labels"), "labels"))
            for subtask, label in value.items()
        )

    def _refinement(self, raw: Mapping[str, Any]) -> tuple[str, str, str]:
        parent = self._subtask(raw["parent"], "parent")
        parent_label = self._label(raw["parent_label"], parent, "parent_label")
        child = self._subtask(raw["child"], "child")
        if (child.parent, child.parent_label) != (parent.name, parent_label):
            actual = (
                "a top-level subtask"
                if child.parent is None
                else f"it refines {child.parent} = {child.parent_label}"
            )
            raise self.error(
                f"child {child.name!r} is not a refinement of {parent.name} = {parent_label} "
                f"({actual})"
            )
        return parent.name, parent_label, child.name

    def _lf(self, value: object, subtask: object) -> tuple[str, str]:
        name = self._string(value, "lf")
        lf = next((lf for lf in self.task.lfs if lf.name == name), None)
        if lf is None:
            known = [lf.name for lf in self.task.lfs]
            shown = ", ".join(known[:10]) + (", ..." if len(known) > 10 else "")
            raise self.error(f"unknown lf {name!r} (known: {shown or 'none'})")
        if subtask is not None:
            return name, self._subtask(subtask, "subtask").name
        if lf.subtask is not None:
            return name, lf.subtask
        if len(self.task.subtasks) == 1:
            return name, self.task.subtasks[0].name
        raise self.error(f"lf {name!r} has no subtask of its own: give subtask = ...")

"""Check a task's fused labels and votes against its rules (pure, vectorised over items).

Inputs are aligned by item (index 0..n-1 over the task's items): per subtask the fused
label (int, -1 = none: the subtask has no fused label for the item) and the fused
probabilities (float (n, k), NaN rows where none); the raw votes as flat arrays (item
index, LF index into TaskShape.lfs, subtask index into TaskShape.subtasks, label code).

Deterministic rules look at the fused labels (a missing one counts as "none"):
- applies_under: child has a label while parent is not parent_label (or has none);
- allowed_children: parent = parent_label and child has a label outside the allowed set;
- forbidden: every (subtask, label) pair of the rule holds;
- required: parent = parent_label and child has none;
- lf_labels: one row per vote of the LF in the rule's subtask with a label outside the set.

Improbable (feasible joint mass): each subtask s takes a value a_s in its labels or
"none"; P_s(a) is its fused posterior (P_s(none) = 0) where it has a fused label, else
P_s(none) = 1. Treating subtasks as independent given these posteriors,

    mass(item) = sum over feasible a of prod_s P_s(a_s),

where a is feasible when it satisfies the four rules above that concern labels (the same
predicates as the deterministic check): a_child != none only if a_parent = parent_label;
a_child in the allowed labels (or none) where a_parent = parent_label; not every pair of
a forbidden rule; a_child != none where a_parent = parent_label when required. The rules
split the subtasks into independent groups (linked by shared rules): the mass is the
product of the groups' masses, each a sum over the group's enumerated feasible
combinations, computed in blocks of items. Checked items (with some fused label) whose
mass is below the threshold are flagged; detail is the mass.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from auditor.rules.definitions import (
    AllowedChildren,
    AppliesUnder,
    Forbidden,
    LFLabels,
    Required,
    Rule,
    RuleSet,
    scope,
)
from auditor.rules.shape import TaskShape

NONE = "none"
MAX_COMBINATIONS = 1_000_000
BLOCK_CELLS = 1 << 22  # items x combinations per block of the mass computation
COLUMNS = ("rule", "kind", "item", "lf", "subtasks", "labels", "detail")
LabelRule = AppliesUnder | AllowedChildren | Required | Forbidden


def _ints() -> np.ndarray:
    return np.zeros(0, dtype=np.int64)


@dataclass(frozen=True)
class CheckInputs:
    fused: Mapping[str, np.ndarray]
    proba: Mapping[str, np.ndarray]
    vote_item: np.ndarray = field(default_factory=_ints)
    vote_lf: np.ndarray = field(default_factory=_ints)
    vote_subtask: np.ndarray = field(default_factory=_ints)
    vote_label: np.ndarray = field(default_factory=_ints)

    @property
    def n_items(self) -> int:
        return len(next(iter(self.fused.values()))) if self.fused else 0

    def checked(self) -> np.ndarray:
        """bool (n,): items with a fused label for at least one subtask."""
        out = np.zeros(self.n_items, dtype=bool)
        for labels in self.fused.values():
            out |= np.asarray(labels) >= 0
        return out


@dataclass(frozen=True)
class Violations:
    """One row per violation. item: item index (item id after map_ids); lf: LF index, -1
    when the rule is not about an LF; subtasks and labels: comma-joined, aligned."""

    rule: np.ndarray
    kind: np.ndarray
    item: np.ndarray
    lf: np.ndarray
    subtasks: np.ndarray
    labels: np.ndarray
    detail: np.ndarray

    def __len__(self) -> int:
        return len(self.item)

    @classmethod
    def concat(cls, parts: Sequence[Violations]) -> Violations:
        if not parts:
            empty = np.zeros(0, dtype=object)
            return cls(empty, empty, _ints(), _ints(), empty, empty, empty)
        return cls(*(np.concatenate([getattr(p, name) for p in parts]) for name in COLUMNS))

    def map_ids(self, item_ids: np.ndarray, lf_ids: np.ndarray) -> Violations:
        """Indices -> ids (lf stays -1 where there is none)."""
        lf_ids = np.asarray(lf_ids, dtype=np.int64)
        lf = np.where(self.lf >= 0, lf_ids[np.maximum(self.lf, 0)] if lf_ids.size else -1, -1)
        item = np.asarray(item_ids, dtype=np.int64)[self.item]
        return Violations(self.rule, self.kind, item, lf, self.subtasks, self.labels, self.detail)


@dataclass(frozen=True)
class RuleCount:
    rule: str
    kind: str
    scope: str
    violations: int  # rows
    items: int  # distinct items


@dataclass(frozen=True)
class CheckResult:
    violations: Violations
    counts: tuple[RuleCount, ...]  # one per rule, in RuleSet.rules() order, zeros included
    n_checked: int  # items with a fused label for at least one subtask
    mass: np.ndarray  # float (n,): feasible joint mass, NaN for unchecked items


def check(rules: RuleSet, shape: TaskShape, inputs: CheckInputs) -> CheckResult:
    """Every violation of the rules by the inputs, and per-rule counts."""
    names = {s.name: np.array([*s.labels, NONE], dtype=object) for s in shape.subtasks}
    values = _values(shape, inputs.fused, inputs.n_items)
    checked = inputs.checked()
    parts: list[Violations] = []
    counts: list[RuleCount] = []
    for rule in rules.rules():
        if isinstance(rule, LabelRule):
            items = np.flatnonzero(~_ok(rule, values, shape))
            labels = _joined([names[s][values[s][items]] for s in rule.subtasks])
            part = _part(rule, items, labels, _detail(rule))
        elif isinstance(rule, LFLabels):
            allowed = [shape.code(rule.subtask, label) for label in rule.labels]
            mask = (
                (inputs.vote_lf == shape.lf_index(rule.lf))
                & (inputs.vote_subtask == shape.subtask_index(rule.subtask))
                & ~np.isin(inputs.vote_label, allowed)
            )
            items = np.asarray(inputs.vote_item, dtype=np.int64)[mask]
            labels = names[rule.subtask][np.asarray(inputs.vote_label, dtype=np.int64)[mask]]
            part = _part(rule, items, labels, _detail(rule), lf=shape.lf_index(rule.lf))
        else:
            continue  # improbable, below
        parts.append(part)
        distinct = len(np.unique(part.item)) if isinstance(rule, LFLabels) else len(part)
        counts.append(RuleCount(rule.name, rule.kind, scope(rule), len(part), distinct))
    mass = np.where(checked, feasible_mass(rules, shape, inputs.fused, inputs.proba), np.nan)
    flagged = np.flatnonzero(checked & (mass < rules.improbable.threshold))
    everything = [s.name for s in shape.subtasks]
    labels = _joined([names[s][values[s][flagged]] for s in everything])
    detail = np.round(mass[flagged], 6).astype(str)
    parts.append(_part(rules.improbable, flagged, labels, detail, subtasks=",".join(everything)))
    improbable = rules.improbable
    counts.append(
        RuleCount(improbable.name, improbable.kind, scope(improbable), len(flagged), len(flagged))
    )
    return CheckResult(Violations.concat(parts), tuple(counts), int(checked.sum()), mass)


def feasible_mass(
    rules: RuleSet,
    shape: TaskShape,
    fused: Mapping[str, np.ndarray],
    proba: Mapping[str, np.ndarray],
) -> np.ndarray:
    """float (n,): the joint posterior mass of the feasible combinations (module doc)."""
    n = len(next(iter(fused.values()))) if fused else 0
    mass = np.ones(n)
    label_rules = [r for r in rules.rules() if isinstance(r, LabelRule)]
    for group, group_rules in _groups(shape, label_rules):
        combos = _feasible(shape, group, group_rules)
        q = [_extended(shape, s, fused.get(s), proba.get(s), n) for s in group]
        step = max(1, BLOCK_CELLS // max(len(combos), 1))
        for start in range(0, n, step):  # blocks of items, each vectorised
            block = np.ones((min(step, n - start), len(combos)))
            for j, probabilities in enumerate(q):
                block *= probabilities[start : start + step][:, combos[:, j]]
            mass[start : start + step] *= block.sum(axis=1)
    return mass


def _ok(rule: LabelRule, values: Mapping[str, np.ndarray], shape: TaskShape) -> np.ndarray:
    """bool: where values (label codes, k = none) satisfy the rule."""
    if isinstance(rule, Forbidden):
        hits = [values[s] == shape.code(s, label) for s, label in rule.labels]
        return ~np.logical_and.reduce(hits)
    none = len(shape.labels(rule.child))
    under = values[rule.parent] == shape.code(rule.parent, rule.parent_label)
    child = values[rule.child]
    if isinstance(rule, AppliesUnder):
        return under | (child == none)
    if isinstance(rule, Required):
        return ~under | (child != none)
    allowed = [*(shape.code(rule.child, label) for label in rule.labels), none]
    return ~under | np.isin(child, allowed)


def _detail(rule: Rule) -> str:
    if isinstance(rule, AppliesUnder):
        return f"{rule.child} applies only under {rule.parent} = {rule.parent_label}"
    if isinstance(rule, Required):
        return f"{rule.parent} = {rule.parent_label} needs a {rule.child} label"
    if isinstance(rule, AllowedChildren | LFLabels):
        return "allowed: " + ", ".join(rule.labels)
    return "forbidden combination"


def _values(shape: TaskShape, fused: Mapping[str, np.ndarray], n: int) -> dict[str, np.ndarray]:
    """Fused labels as codes with k (the label count) for none."""
    out = {}
    for s in shape.subtasks:
        labels = np.asarray(fused.get(s.name, np.full(n, -1)), dtype=np.int64)
        out[s.name] = np.where(labels >= 0, labels, len(s.labels))
    return out


def _joined(columns: Sequence[np.ndarray]) -> np.ndarray:
    if not columns:
        return np.zeros(0, dtype=object)
    out = columns[0]
    for column in columns[1:]:
        out = out + "," + column
    return out


def _part(
    rule: Rule,
    items: np.ndarray,
    labels: object,
    detail: object,
    *,
    lf: int = -1,
    subtasks: str | None = None,
) -> Violations:
    n = len(items)

    def column(value: object) -> np.ndarray:
        if isinstance(value, np.ndarray):
            return value.astype(object)
        return np.full(n, value, dtype=object)

    return Violations(
        rule=column(rule.name),
        kind=column(rule.kind),
        item=np.asarray(items, dtype=np.int64),
        lf=np.full(n, lf, dtype=np.int64),
        subtasks=column(",".join(rule.subtasks) if subtasks is None else subtasks),
        labels=column(labels),
        detail=column(detail),
    )


def _groups(shape: TaskShape, rules: list[LabelRule]) -> list[tuple[list[str], list[LabelRule]]]:
    """Subtasks linked by shared rules (parents before children), with their rules."""
    root = {s.name: s.name for s in shape.subtasks}

    def find(name: str) -> str:
        while root[name] != name:
            name = root[name]
        return name

    for rule in rules:
        for other in rule.subtasks[1:]:
            root[find(other)] = find(rule.subtasks[0])
    order = sorted(shape.subtasks, key=lambda s: shape.depth(s.name))
    groups: dict[str, tuple[list[str], list[LabelRule]]] = {}
    for rule in rules:
        groups.setdefault(find(rule.subtasks[0]), ([], []))[1].append(rule)
    for s in order:
        if find(s.name) in groups:
            groups[find(s.name)][0].append(s.name)
    return list(groups.values())


def _feasible(shape: TaskShape, group: list[str], rules: list[LabelRule]) -> np.ndarray:
    """int (F, len(group)): the group's feasible combinations, enumerated subtask by
    subtask and pruned by each rule as soon as all of its subtasks are assigned."""
    combos = np.zeros((1, 0), dtype=np.int64)
    pending = list(rules)
    for j, name in enumerate(group):
        size = len(shape.labels(name)) + 1
        combos = np.column_stack(
            [np.repeat(combos, size, axis=0), np.tile(np.arange(size), len(combos))]
        )
        assigned = set(group[: j + 1])
        values = {s: combos[:, i] for i, s in enumerate(group[: j + 1])}
        keep = np.ones(len(combos), dtype=bool)
        for rule in [r for r in pending if set(r.subtasks) <= assigned]:
            keep &= _ok(rule, values, shape)
            pending.remove(rule)
        combos = combos[keep]
        if len(combos) > MAX_COMBINATIONS:
            raise ValueError(
                f"improbable: more than {MAX_COMBINATIONS} feasible label combinations "
                f"over {', '.join(group)}"
            )
    return combos


def _extended(
    shape: TaskShape, name: str, fused: np.ndarray | None, proba: np.ndarray | None, n: int
) -> np.ndarray:
    """float (n, k + 1): the subtask's posterior where fused, else all mass on none."""
    k = len(shape.labels(name))
    labels = np.full(n, -1, dtype=np.int64) if fused is None else np.asarray(fused, np.int64)
    has = labels >= 0
    q = np.zeros((n, k + 1))
    if proba is not None and len(proba):
        p = np.nan_to_num(np.asarray(proba, dtype=float)[:, :k])
        q[:, : p.shape[1]] = p
    q[~has] = 0.0
    q[~has, k] = 1.0
    empty = np.flatnonzero(has & ~(q[:, :k].sum(axis=1) > 0))  # fused without probabilities
    q[empty, labels[empty]] = 1.0
    return q

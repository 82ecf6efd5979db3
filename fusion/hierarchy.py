"""Decomposed tasks: a tree of subtasks and its feasible joint label assignments.

A subtask may refine one label of its parent (stage 2 `billing_issue` only under
topic = billing). A joint class assigns a label to every subtask that applies and -1 to
those that do not; only feasible combinations exist, so the joint posterior never gives
mass to "topic = technical, billing_issue = refund".
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from fusion.label_model import LabelModel
from fusion.types import LFStructure


@dataclass(frozen=True)
class Subtask:
    name: str
    labels: tuple[str, ...]
    parent: str | None = None
    parent_label: str | None = None


@dataclass(frozen=True)
class TaskTree:
    """Subtasks in any order; exactly one root; children name their parent and its label."""

    subtasks: tuple[Subtask, ...]

    def __post_init__(self) -> None:
        names = [s.name for s in self.subtasks]
        if len(set(names)) != len(names):
            raise ValueError(f"subtask names repeat: {names}")
        roots = [s for s in self.subtasks if s.parent is None]
        if len(roots) != 1:
            raise ValueError(f"a task tree needs exactly one root subtask, got {len(roots)}")
        by_name = {s.name: s for s in self.subtasks}
        for s in self.subtasks:
            if s.parent is not None and (
                s.parent not in by_name or s.parent_label not in by_name[s.parent].labels
            ):
                raise ValueError(
                    f"subtask {s.name!r}: parent {s.parent!r} has no label {s.parent_label!r}"
                )
            if len(s.labels) < 2:
                raise ValueError(f"subtask {s.name!r} needs at least two labels")

    def index(self, name: str) -> int:
        return [s.name for s in self.subtasks].index(name)

    def joint_classes(self) -> np.ndarray:
        """int (n_joint, n_subtasks): each feasible assignment, -1 = not applicable."""
        root = next(i for i, s in enumerate(self.subtasks) if s.parent is None)
        rows = self._assign(root)
        table = np.full((len(rows), len(self.subtasks)), -1, dtype=np.int64)
        for r, assignment in enumerate(rows):
            for i, code in assignment.items():
                table[r, i] = code
        return table

    def _assign(self, i: int) -> list[dict[int, int]]:
        sub = self.subtasks[i]
        out: list[dict[int, int]] = []
        for code, label in enumerate(sub.labels):
            children = [
                j
                for j, s in enumerate(self.subtasks)
                if s.parent == sub.name and s.parent_label == label
            ]
            options = [self._assign(j) for j in children]
            for combo in itertools.product(*options):
                merged = {i: code}
                for part in combo:
                    merged.update(part)
                out.append(merged)
        return out


class HierarchicalLabelModel:
    """One label model over the feasible joint classes of a TaskTree.

    L: int (n_items, n_lfs), column j an LF of subtask lf_subtasks[j] voting that subtask's
    label codes (-1 = abstain). An LF may vote a coarse label (on the root) or a fine one
    (on a refinement); evidence flows both ways through the joint posterior, which gives
    no mass to infeasible combinations. Gold per subtask restricts each item to the joint
    classes consistent with it.
    """

    def __init__(
        self, tree: TaskTree, *, seed: int = 0, device: str = "auto", **options: float | int | bool
    ) -> None:
        self.tree = tree
        self.joint_ = tree.joint_classes()
        self.model = LabelModel(
            len(self.joint_), seed=seed, device=device, calibrate=False, **options
        )

    def _structure(self, lf_subtasks: list[str]) -> LFStructure:
        columns = np.array([self.tree.index(name) for name in lf_subtasks], dtype=np.int64)
        n_labels = np.array([len(self.tree.subtasks[i].labels) for i in columns])
        n_out = int(n_labels.max())
        codes = self.joint_[:, columns].T  # (n_lfs, K): each class's label on the LF's subtask
        consistent = codes[:, :, None] == np.arange(n_out)[None, None, :]
        return LFStructure(consistent, n_labels)

    def fit(
        self,
        L: np.ndarray,
        lf_subtasks: list[str],
        *,
        gold: dict[str, np.ndarray] | None = None,
        confidence: np.ndarray | None = None,
        full_confusion: np.ndarray | None = None,
    ) -> HierarchicalLabelModel:
        L = np.asarray(L)
        if L.ndim != 2 or L.shape[1] != len(lf_subtasks):
            raise ValueError(f"L must be (n_items, {len(lf_subtasks)}) to match lf_subtasks")
        self.lf_subtasks = list(lf_subtasks)
        structure = self._structure(self.lf_subtasks)
        self._check_votes(L, structure.n_labels)
        allowed = self._allowed(len(L), gold or {})
        self.model._fit(L, allowed, None, confidence, full_confusion, structure)
        return self

    def _check_votes(self, L: np.ndarray, n_labels: np.ndarray) -> None:
        bad = (L < -1) | np.greater_equal(L, n_labels[None, :])
        if bad.any():
            row, col = (int(v) for v in np.argwhere(bad)[0])
            raise ValueError(
                f"L[{row}, {col}] = {L[row, col]} is not -1 or a label of subtask "
                f"{self.lf_subtasks[col]!r}"
            )
        if not (L != -1).any():
            raise ValueError("L has no votes: every entry is -1 (abstain)")

    def _allowed(self, n: int, gold: dict[str, np.ndarray]) -> np.ndarray | None:
        if not gold:
            return None
        allowed = np.ones((n, len(self.joint_)), dtype=bool)
        for name, labels in gold.items():
            labels = np.asarray(labels)
            if labels.shape != (n,):
                raise ValueError(f"gold[{name!r}] must have shape ({n},)")
            column = self.joint_[:, self.tree.index(name)]
            known = labels >= 0
            allowed[known] &= column[None, :] == labels[known][:, None]
        infeasible = ~allowed.any(axis=1)
        if infeasible.any():
            raise ValueError(
                f"gold of item {int(np.argmax(infeasible))} is not a feasible "
                "combination of the task tree"
            )
        return allowed

    def predict_joint(self, L: np.ndarray, *, confidence: np.ndarray | None = None) -> np.ndarray:
        """float (n_items, n_joint): posterior over the feasible joint classes."""
        structure = self._structure(self.lf_subtasks)
        self._check_votes(np.asarray(L), structure.n_labels)
        return self.model._proba(np.asarray(L), confidence, 32_768)

    def predict_marginals(
        self, L: np.ndarray, *, confidence: np.ndarray | None = None
    ) -> dict[str, np.ndarray]:
        """Per subtask, float (n_items, k_s + 1): P(label) for each label and, last, the
        probability that the subtask does not apply (0 for the root). Rows sum to 1."""
        joint = self.predict_joint(L, confidence=confidence)
        out = {}
        for i, sub in enumerate(self.tree.subtasks):
            column = self.joint_[:, i]
            parts = [joint[:, column == code].sum(axis=1) for code in range(len(sub.labels))]
            parts.append(joint[:, column == -1].sum(axis=1))
            out[sub.name] = np.stack(parts, axis=1)
        return out

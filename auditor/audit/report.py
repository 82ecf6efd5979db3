"""The accuracy report of one audit round (pure): per subtask, overall and per fused class,
every estimator of auditor.audit.estimators with the headline one named.

f (the predicted P(fused label correct)) is cross-fitted on the round's audits
(auditor.audit.calibration_map); the population's f comes from its confidence histogram
(100 bins, each at its mean confidence), so the sum over N items costs 100 evaluations.
Items sampled but not yet audited (or disputed between auditors) are left out; the report
says how many, since the estimate then assumes they are missing at random.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from auditor.audit.calibration_map import cross_fitted
from auditor.audit.estimators import AccuracyReport, accuracy_report
from auditor.metrics.estimate import Estimate


@dataclass(frozen=True)
class SubtaskAccuracy:
    subtask: str
    sampled: int
    audited: int
    population: int
    report: AccuracyReport | None
    classes: tuple[str, ...]
    reason: str | None = None

    def as_dict(self) -> dict[str, object]:
        def est(e: Estimate) -> dict[str, object]:
            return {"value": e.value, "low": e.low, "high": e.high, "n": e.n, **e.details}

        out: dict[str, object] = {
            "subtask": self.subtask,
            "sampled": self.sampled,
            "audited": self.audited,
            "population": self.population,
            "reason": self.reason,
        }
        if self.report is not None:
            out["headline"] = self.report.headline
            out["headline_reason"] = self.report.headline_reason
            out["overall"] = {name: est(e) for name, e in self.report.overall.items()}
            out["by_class"] = {
                self.classes[g]: {name: est(e) for name, e in by.items()}
                for g, by in self.report.by_group.items()
            }
        return out


def round_accuracy(
    *,
    subtask: str,
    classes: tuple[str, ...],
    fused: np.ndarray,
    confidence: np.ndarray,
    pi: np.ndarray,
    from_random: np.ndarray,
    audited: np.ndarray,
    bin_label: np.ndarray,
    bin_items: np.ndarray,
    bin_confidence: np.ndarray,
    seed: int = 0,
) -> SubtaskAccuracy:
    """Sampled arrays (n,): fused label, confidence, pi, from_random, audited (-1 = not
    audited); population bins (b,): fused label, item count, mean confidence."""
    done = audited >= 0
    population = int(bin_items.sum())
    if not done.any():
        return SubtaskAccuracy(
            subtask, len(fused), 0, population, None, classes, "no audited items yet"
        )
    y = (audited[done] == fused[done]).astype(float)
    conf_all = np.repeat(bin_confidence, bin_items)
    groups_all = np.repeat(bin_label, bin_items)
    # the audited items' own confidences stand in for their bins in the population
    positions = np.arange(int(done.sum()))
    f_all, f_sampled = cross_fitted(
        np.concatenate([confidence[done], conf_all]), positions, y, weights=1 / pi[done], seed=seed
    )
    report = accuracy_report(
        y,
        pi[done],
        from_random[done],
        f_sampled,
        f_all=f_all[len(positions) :],
        groups=fused[done],
        groups_all=groups_all,
    )
    return SubtaskAccuracy(subtask, len(fused), int(done.sum()), population, report, classes)

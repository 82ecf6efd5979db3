"""Metric rows of one subtask, per window, by family (pure: SubtaskInputs in, rows out).

Families and their metric names (scope = the subtask, key = what is measured):
- lf.*: coverage, overlap, conflict (details: polarity), accuracy_gold (Wilson interval,
  details: chance), contribution, coverage_change (vs the reference windows); the label
  model's lf.model_accuracy / lf.model_propensity once, for all time (window NULL).
- agreement.*: lf_kappa_mean (key "lfs", pair matrix for all time as lf_pair_kappa rows),
  fleiss_kappa / krippendorff_alpha / percent_agreement among human LFs (key "humans")
  and, as auditor_*, among auditors on items several of them checked (key "auditors"),
  model_vs_audit_kappa (key "fused"); annotator.accuracy per human LF (against gold and
  audited labels); for the people named on imported gold (gold_labels.annotator),
  annotator_* agreement (key "annotators") on items several of them labelled and
  annotator.spot_check_accuracy per person against the auditors' labels, per window and
  for all time; consistency.cross_subtask (key = parent subtask) for refinements.
- calibration.*: ece (details: reliability bins), adaptive_ece, classwise_ece,
  l2_debiased, brier, nll of fused posteriors vs gold and audited labels (key "fused");
  lf_confidence_ece per LF that reports confidences.
- accuracy.*: label_free (from posteriors) and audited (vs gold/audits), key "fused".
Calibration and accuracy rows of window w cover the current_windows windows up to w
(details: span_start): a day holds a handful of gold items, far too few for an ECE.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator

import numpy as np

from auditor.metrics import accuracy_estimate as acc
from auditor.metrics import agreement, annotators, calibration, lf_health
from auditor.metrics.estimate import Estimate
from auditor.metrics.inputs import SubtaskInputs
from auditor.metrics.rows import MetricRow

Window = tuple[dt.datetime | None, dt.datetime | None]
ALL_TIME: Window = (None, None)


class Clock:
    """Accumulates seconds per stage into timings (a no-op when timings is None):
    `with clock("lf"): ...`."""

    def __init__(self, timings: dict[str, float] | None) -> None:
        self.timings = timings
        self._stage = ""
        self._started = 0.0

    def __call__(self, stage: str) -> Clock:
        self._stage = stage
        return self

    def __enter__(self) -> None:
        self._started = time.perf_counter()

    def __exit__(self, *_: object) -> None:
        if self.timings is not None:
            spent = time.perf_counter() - self._started
            self.timings[self._stage] = self.timings.get(self._stage, 0.0) + spent


def subtask_rows(
    data: SubtaskInputs,
    *,
    reference_windows: int,
    current_windows: int = 1,
    only: range | None = None,
    n_boot: int = 200,
    timings: dict[str, float] | None = None,
) -> list[MetricRow]:
    """Every metric of the subtask for the windows in `only` (default all), plus the
    all-time rows (window NULL). lf.coverage_change of window w compares the coverage
    over the current_windows windows up to w (after the reference) with the first
    reference_windows windows: one day's coverage is too noisy to alert on."""
    rows: list[MetricRow] = []
    clock = Clock(timings)
    with clock("lf"):
        decisive = _decisive(data)
    reference = _coverage(data, range(0, reference_windows))
    for w in only if only is not None else range(len(data.windows)):
        window: Window = data.windows[w]
        items = data.window == w

        def emit(metric: str, key: str, estimate: Estimate, window: Window = window) -> None:
            rows.append(MetricRow(metric, data.subtask, key, window[0], window[1], estimate))

        with clock("lf"):
            for metric, key, estimate in _lf_rows(data, w, items, decisive):
                emit(metric, key, estimate)
            if w >= reference_windows:
                trailing = range(max(reference_windows, w - current_windows + 1), w + 1)
                current = _coverage(data, trailing)
                for j, name in enumerate(data.lf_names):
                    change = lf_health.relative_change(current[j], reference[j], what="coverage")
                    emit("lf.coverage_change", name, change)
        with clock("agreement"):
            for metric, key, estimate in _agreement_rows(data, items):
                emit(metric, key, estimate)
        span = (data.window > w - current_windows) & (data.window <= w)
        span_start = data.windows[max(0, w - current_windows + 1)][0]
        with clock("calibration"):
            for metric, key, estimate in _calibration_rows(data, span, n_boot):
                emit(metric, key, _with(estimate, span_start=span_start.isoformat()))
    counts = data.lf_counts
    for j, name in enumerate(data.lf_names):
        mine = counts.lf == j
        right, n = int(counts.gold_right[mine].sum()), int(counts.gold_n[mine].sum())
        estimate = lf_health.gold_accuracy(right, n, n_classes=data.n_classes)
        rows.append(MetricRow("lf.accuracy_gold", data.subtask, name, None, None, estimate))
        rows.append(_all_time(data, "lf.model_accuracy", name, data.model_accuracy[j]))
        rows.append(_all_time(data, "lf.model_propensity", name, data.model_propensity[j]))
    with clock("agreement"):
        everything = np.ones(len(data.window), dtype=bool)
        for metric, key, estimate in _annotator_rows(data, everything):
            rows.append(MetricRow(metric, data.subtask, key, None, None, estimate))
        pairs = annotators.pairwise_agreement(data.L, n_classes=data.n_classes)
    for i in range(len(data.lf_names)):
        for j in range(i + 1, len(data.lf_names)):
            estimate = _pair_kappa(pairs, i, j)
            key = f"{data.lf_names[i]}|{data.lf_names[j]}"
            rows.append(
                MetricRow("agreement.lf_pair_kappa", data.subtask, key, None, None, estimate)
            )
    return rows


def _pair_kappa(pairs: annotators.PairwiseAgreement, i: int, j: int) -> Estimate:
    """One pair's kappa; NaN with the reason when nothing is co-labelled or p_e = 1."""
    n, agreed = int(pairs.n_common[i, j]), float(pairs.agreement[i, j])
    if np.isfinite(pairs.kappa[i, j]):
        return Estimate(float(pairs.kappa[i, j]), n=n, details={"agreement": agreed})
    if n == 0:
        return Estimate.undefined("no items both LFs labelled", agreement=agreed)
    reason = "expected agreement is 1: both LFs used one and the same category"
    return Estimate.undefined(reason, n=n, agreement=agreed)


def _all_time(data: SubtaskInputs, metric: str, key: str, value: float) -> MetricRow:
    estimate = (
        Estimate(float(value))
        if np.isfinite(value)
        else Estimate.undefined("no label-model fit for this subtask yet")
    )
    return MetricRow(metric, data.subtask, key, None, None, estimate)


def _decisive(data: SubtaskInputs) -> np.ndarray | None:
    if data.log_pi is None or data.log_emission is None:
        return None
    return lf_health.decisive_votes(data.L, data.fused, data.log_pi, data.log_emission)


def _coverage(data: SubtaskInputs, windows: range) -> np.ndarray:
    """float (n_lfs,): each LF's share of the items of the windows (NaN when none)."""
    counts = data.lf_counts
    votes = np.zeros(len(data.lf_names))
    here = (counts.window >= windows.start) & (counts.window < windows.stop)
    np.add.at(votes, counts.lf[here], counts.votes[here])
    n = data.n_items_per_window[windows.start : windows.stop].sum()
    return votes / n if n else np.full(len(votes), np.nan)


def _lf_rows(
    data: SubtaskInputs, w: int, items: np.ndarray, decisive: np.ndarray | None
) -> Iterator[tuple[str, str, Estimate]]:
    counts, n = data.lf_counts, int(data.n_items_per_window[w])
    here = np.flatnonzero(counts.window == w)
    by_lf = {int(counts.lf[r]): r for r in here}
    for j, name in enumerate(data.lf_names):
        r = by_lf.get(j)
        votes, overlaps, conflicts, gold_n, gold_right = (
            (0, 0, 0, 0, 0)
            if r is None
            else (
                counts.votes[r],
                counts.overlaps[r],
                counts.conflicts[r],
                counts.gold_n[r],
                counts.gold_right[r],
            )
        )
        polarity = [] if r is None else [data.labels[c] for c in np.flatnonzero(counts.labels[r])]
        coverage = lf_health.share(votes, n, what="coverage")
        yield "lf.coverage", name, _with(coverage, polarity=polarity)
        yield "lf.overlap", name, lf_health.share(overlaps, n, what="overlap")
        yield "lf.conflict", name, lf_health.share(conflicts, n, what="conflict")
        yield (
            "lf.accuracy_gold",
            name,
            lf_health.gold_accuracy(gold_right, gold_n, n_classes=data.n_classes),
        )
        if decisive is None:
            yield "lf.contribution", name, Estimate.undefined("no fused labels yet")
        else:
            decided = int(decisive[items, j].sum())
            yield "lf.contribution", name, lf_health.share(decided, n, what="contribution")


def _with(estimate: Estimate, **details: object) -> Estimate:
    return Estimate(
        estimate.value,
        estimate.low,
        estimate.high,
        n=estimate.n,
        reason=estimate.reason,
        details={**estimate.details, **details},
    )


def _agreement_rows(data: SubtaskInputs, items: np.ndarray) -> Iterator[tuple[str, str, Estimate]]:
    k = data.n_classes
    L = data.L[items]
    yield "agreement.lf_kappa_mean", "lfs", annotators.pairwise_agreement(L, n_classes=k).mean_kappa
    if data.human.sum() >= 2:
        human = L[:, data.human].astype(np.int64)
        for name, estimate in agreement.human_agreement(human, n_classes=k).items():
            yield f"agreement.{name}", "humans", estimate
    if data.auditor_labels is not None:
        ratings = data.auditor_labels[items]
        if ((ratings >= 0).sum(axis=1) >= 2).any():
            for name, estimate in agreement.human_agreement(ratings, n_classes=k).items():
                yield f"agreement.auditor_{name}", "auditors", estimate
    yield from _annotator_rows(data, items)
    audited = data.audited[items]
    yield (
        "agreement.model_vs_audit_kappa",
        "fused",
        agreement.cohen_kappa(data.fused[items], audited, n_classes=k),
    )
    for j in np.flatnonzero(data.human):
        result = annotators.annotator_accuracy(L[:, j], data.gold[items], n_classes=k)
        yield (
            "annotator.accuracy",
            data.lf_names[j],
            _with(result.accuracy, confusion=result.confusion.tolist()),
        )
    if data.parent is not None:
        parent_name, applies_under = data.parent
        yield (
            "consistency.cross_subtask",
            parent_name,
            annotators.cross_subtask_consistency(
                data.parent_fused[items], data.fused[items] >= 0, applies_under=applies_under
            ),
        )


def _annotator_rows(data: SubtaskInputs, items: np.ndarray) -> Iterator[tuple[str, str, Estimate]]:
    """The gold annotators on the items of the mask: their agreement where an item has
    several of their labels, and each one's accuracy on the items auditors checked."""
    people = data.annotators
    if people is None:
        return
    here = items[people.rows]
    ratings, truth = people.labels[here], data.audited[people.rows[here]]
    k = data.n_classes
    if ((ratings >= 0).sum(axis=1) >= 2).any():
        for name, estimate in agreement.human_agreement(ratings, n_classes=k).items():
            yield f"agreement.annotator_{name}", "annotators", estimate
    for a in np.flatnonzero((ratings >= 0).any(axis=0)):
        result = annotators.annotator_accuracy(ratings[:, a], truth, n_classes=k)
        confusion = result.confusion.tolist()
        yield (
            "annotator.spot_check_accuracy",
            people.names[a],
            _with(result.accuracy, confusion=confusion),
        )


def _calibration_rows(
    data: SubtaskInputs, items: np.ndarray, n_boot: int
) -> Iterator[tuple[str, str, Estimate]]:
    fused = data.fused[items] >= 0
    P = data.proba[items][fused]
    y = data.gold[items][fused]
    if fused.any():
        bins = calibration.reliability_bins(P, y).as_lists()
        yield "calibration.ece", "fused", _with(calibration.top_label_ece(P, y), bins=bins)
        yield "calibration.adaptive_ece", "fused", calibration.adaptive_ece(P, y)
        yield "calibration.classwise_ece", "fused", calibration.classwise_ece(P, y)
        yield (
            "calibration.l2_debiased",
            "fused",
            calibration.debiased_l2_calibration_error(P, y, n_boot=n_boot),
        )
        yield "calibration.brier", "fused", calibration.brier_score(P, y, n_boot=n_boot)
        yield "calibration.nll", "fused", calibration.negative_log_likelihood(P, y, n_boot=n_boot)
        yield "accuracy.label_free", "fused", acc.label_free_accuracy(P, n_boot=n_boot)
        yield "accuracy.audited", "fused", acc.audited_accuracy(P.argmax(axis=1), y)
    else:
        for metric in ("calibration.ece", "accuracy.label_free", "accuracy.audited"):
            yield metric, "fused", Estimate.undefined("no fused labels in the window")
    L, confidence, gold = data.L[items], data.confidence[items], data.gold[items]
    for j in np.flatnonzero(~np.isnan(confidence).all(axis=0)):
        judged = (L[:, j] != -1) & (gold >= 0)
        yield (
            "calibration.lf_confidence_ece",
            data.lf_names[j],
            calibration.confidence_calibration(confidence[judged, j], L[judged, j] == gold[judged]),
        )

"""Accuracy of the fused labels: estimated without gold from the posteriors, or measured
on the audited items."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from auditor.metrics.calibration import check_labels, check_posteriors
from auditor.metrics.estimate import Estimate, bootstrap_interval, proportion


def label_free_accuracy(P: ArrayLike, *, n_boot: int = 200, seed: int = 0) -> Estimate:
    """Expected accuracy of the argmax labels if the posteriors are calibrated:
    acc_hat = (1/n) sum_i max_c P_ic over the n items with a posterior (all-NaN rows of P
    are dropped), with a percentile bootstrap interval over items (n_boot resamples, seeded).

    No gold is used, so the estimate is only as good as the calibration: P(argmax = y | P)
    = max_c P_ic holds only for calibrated posteriors, and an over-confident model
    overstates its accuracy by exactly its top-label miscalibration, mean(conf - correct).
    Check it against audited_accuracy and the calibration metrics where gold exists. The
    interval covers the sampling of items, not miscalibration."""
    P, missing = check_posteriors(P)
    conf = P[~missing].max(axis=1)
    details = {"no_posterior": int(missing.sum())}
    if conf.size == 0:
        return Estimate.undefined("no items with a posterior", **details)
    low, high = bootstrap_interval(
        lambda idx: float(conf[idx].mean()), int(conf.size), n_boot=n_boot, seed=seed
    )
    return Estimate(float(conf.mean()), low, high, int(conf.size), None, dict(details))


def audited_accuracy(predicted: ArrayLike, audited: ArrayLike) -> Estimate:
    """Share of audited items (audited_i != -1) whose predicted label equals the audited
    one, s / m with s = #{i : audited_i != -1, predicted_i == audited_i} and
    m = #{i : audited_i != -1}, with its Wilson 95% interval. An audited item the pipeline
    left unlabelled (predicted_i == -1) counts as wrong; details["unpredicted"] counts them.
    NaN when nothing is audited."""
    predicted = np.asarray(predicted)
    n = predicted.shape[0] if predicted.ndim == 1 else -1  # -1: check_labels raises
    predicted_labels = check_labels(predicted, n, name="predicted")
    audited_labels = check_labels(audited, predicted_labels.shape[0], name="audited")
    known = audited_labels != -1
    hits = int((predicted_labels[known] == audited_labels[known]).sum())
    estimate = proportion(hits, int(known.sum()), what="audited items")
    if not estimate.defined:
        return estimate
    unpredicted = int((predicted_labels[known] == -1).sum())
    return Estimate(
        estimate.value,
        estimate.low,
        estimate.high,
        estimate.n,
        None,
        {**estimate.details, "unpredicted": unpredicted},
    )

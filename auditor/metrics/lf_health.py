"""Labeling-function health: Snorkel LFAnalysis statistics, gold accuracy, contribution.

Definitions (Snorkel's LFAnalysis, over the items of one subtask and window):
- coverage: share of the items the LF voted on;
- overlap: share of the items where the LF and at least one other LF voted;
- conflict: share of the items where the LF voted and another LF voted a different label;
- polarity: the labels it voted;
- empirical accuracy: share of its votes on items with gold that match the gold, with a
  Wilson 95% interval; "chance" (1 / k) is recorded beside it for the worse-than-chance rule;
- contribution: share of the items where the LF decided the fused label: it voted the fused
  label, and without its vote the model's argmax would be another label.
"""

from __future__ import annotations

import math

import numpy as np

from auditor.metrics.estimate import Estimate, proportion

TIE = 1e-9  # log-score gap below which two labels count as tied in decisive_votes


def share(count: int, total: int, *, what: str) -> Estimate:
    """count / total with a Wilson interval; NaN with a reason for an empty window."""
    if total <= 0:
        return Estimate.undefined(f"no items in the window ({what})")
    return proportion(int(count), int(total), what=what)


def gold_accuracy(right: int, n: int, *, n_classes: int) -> Estimate:
    """Share of votes matching gold, Wilson interval, with chance = 1 / n_classes."""
    if n <= 0:
        return Estimate.undefined("no gold among the LF's votes", chance=1 / n_classes)
    estimate = proportion(int(right), int(n), what="votes with gold")
    return Estimate(
        estimate.value,
        estimate.low,
        estimate.high,
        n=estimate.n,
        details={**estimate.details, "chance": 1 / n_classes},
    )


def relative_change(current: float, reference: float, *, what: str) -> Estimate:
    """(current - reference) / reference; NaN with a reason when the reference is 0/NaN."""
    if math.isnan(current) or math.isnan(reference):
        return Estimate.undefined(f"{what} undefined in one of the windows")
    if reference <= 0:
        return Estimate.undefined(f"{what} was 0 in the reference window")
    return Estimate(
        (current - reference) / reference, details={"reference": reference, "current": current}
    )


def decisive_votes(
    L: np.ndarray, fused: np.ndarray, log_pi: np.ndarray, log_emission: np.ndarray
) -> np.ndarray:
    """bool (n_items, n_lfs): LF j voted the fused label of the item and, without its
    vote, the model's argmax would differ. L: int (n_items, n_lfs), -1 = abstain; fused:
    int (n_items,), -1 = none; log_pi (k,); log_emission (n_lfs, k, k) log P(vote o | y).

    Without LF j the score of label c is s_c = log pi_c + sum_{l != j votes} log P(L_l | c);
    the argmax breaks ties towards the lowest index, and scores within 1e-9 of each other
    count as tied (the leave-one-out score is the full sum minus j's term, so an exact tie,
    e.g. a lone vote under a uniform prior, would otherwise fall to rounding)."""
    n, m = L.shape
    decisive = np.zeros((n, m), dtype=bool)
    if n == 0 or m == 0:
        return decisive
    k = log_pi.shape[0]
    table = np.concatenate([np.zeros((m, 1, k)), log_emission.transpose(0, 2, 1)], axis=1)
    terms = table[np.arange(m)[None, :], L.astype(np.int64) + 1]  # (n, m, k)
    logits = log_pi[None, :] + terms.sum(axis=1)
    labels = np.arange(k)[None, :]
    for j in range(m):
        voted = np.flatnonzero((L[:, j] == fused) & (fused >= 0))  # only these can decide
        label = fused[voted].astype(np.int64)
        without = logits[voted] - terms[voted, j, :]
        gap = without - without[np.arange(voted.size), label][:, None]
        ties_win = (np.abs(gap) <= TIE) & (labels < label[:, None])  # argmax: lowest index
        decisive[voted, j] = ((gap > TIE) | ties_win).any(axis=1)
    return decisive

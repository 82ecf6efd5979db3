"""The EM steps of the label model, column by column over L (pure torch, no I/O).

codes is L + 1 as an int64 tensor (n_items, n_lfs): 0 = abstain, o + 1 = a vote for o.
log_emission is (n_lfs, k, k): log P(vote = o | y = c, the LF voted). An item's log
posterior is log pi plus, for each LF that voted, log_emission[j, :, o]: one gather per LF
from a (k + 1, k) table whose row 0 (abstain) is zero, since abstains are class-independent
and cancel. No one-hot copy of L and no index arrays: memory is O(n_items * k) per step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from fusion.matrix import ABSTAIN


@dataclass(frozen=True)
class Batch:
    """A block of rows: codes int64 (n, m) = L + 1; weights float (n, m) vote weights
    (confidences, 1 where none reported) or None when every vote weighs 1."""

    codes: torch.Tensor
    weights: torch.Tensor | None

    @property
    def covered(self) -> torch.Tensor:
        return (self.codes > 0).any(dim=1)


def make_batch(
    L: np.ndarray, confidence: np.ndarray | None, *, device: torch.device, dtype: torch.dtype
) -> Batch:
    codes = torch.as_tensor(L, device=device).to(torch.int64) + 1
    weights = None
    if confidence is not None:
        filled = np.where((L != ABSTAIN) & ~np.isnan(confidence), confidence, 1.0)
        weights = torch.as_tensor(filled, dtype=dtype, device=device)
    return Batch(codes, weights)


def emission_tables(log_emission: torch.Tensor) -> torch.Tensor:
    """(n_lfs, k + 1, k): row 0 zeros (abstain), row o + 1 = log_emission[j, :, o]."""
    m, k, _ = log_emission.shape
    zeros = torch.zeros(m, 1, k, dtype=log_emission.dtype, device=log_emission.device)
    return torch.cat([zeros, log_emission.transpose(1, 2)], dim=1)


def log_joint(batch: Batch, log_pi: torch.Tensor, log_emission: torch.Tensor) -> torch.Tensor:
    """(n, k) unnormalised log posterior; rows without votes get exactly log pi."""
    tables = emission_tables(log_emission)
    logits = log_pi.expand(batch.codes.shape[0], -1).clone()
    for j in range(batch.codes.shape[1]):
        term = tables[j].index_select(0, batch.codes[:, j])
        if batch.weights is not None:
            term = term * batch.weights[:, j : j + 1]
        logits += term
    return logits


def posterior(logits: torch.Tensor, allowed: torch.Tensor | None = None) -> torch.Tensor:
    """Softmax over classes. allowed: bool (n, K) or None; gold rows allow only the classes
    consistent with their gold (one class when flat), and are renormalised over those."""
    if allowed is not None:
        logits = logits.masked_fill(~allowed, float("-inf"))
    return torch.softmax(logits, dim=1)


def majority_posterior(
    batch: Batch, log_pi: torch.Tensor, consistent: torch.Tensor
) -> torch.Tensor:
    """Start of EM: each class's share of the (weighted) votes consistent with it; no votes
    -> pi. consistent: bool (n_lfs, n_out, K), [j, o, c] = vote o of LF j fits class c."""
    m, _, n_classes = consistent.shape
    zeros = torch.zeros(m, 1, n_classes, dtype=log_pi.dtype, device=log_pi.device)
    tables = torch.cat([zeros, consistent.to(log_pi.dtype)], dim=1)
    votes = torch.zeros(batch.codes.shape[0], n_classes, dtype=log_pi.dtype, device=log_pi.device)
    for j in range(m):
        term = tables[j].index_select(0, batch.codes[:, j])
        votes += term if batch.weights is None else term * batch.weights[:, j : j + 1]
    votes = votes + 1e-3
    q = votes / votes.sum(dim=1, keepdim=True)
    q[~batch.covered] = log_pi.exp()
    return q


def expected_counts(batch: Batch, q: torch.Tensor, k: int) -> torch.Tensor:
    """(n_lfs, k, k): [j, c, o] = sum over items of q(c) * weight, where LF j voted o.

    One small matrix product per LF, onehot(codes[:, j]).T @ q: a scatter-add into only
    k + 1 target rows serialises on collisions and was 4x slower.
    """
    m = batch.codes.shape[1]
    counts = torch.zeros(m, k + 1, q.shape[1], dtype=q.dtype, device=q.device)
    for j in range(m):
        onehot = torch.nn.functional.one_hot(batch.codes[:, j], k + 1).to(q.dtype)
        mass = q if batch.weights is None else q * batch.weights[:, j : j + 1]
        counts[j] = onehot.T @ mass
    return counts[:, 1:, :].transpose(1, 2)


def symmetric_emission(
    accuracy: torch.Tensor, consistent: torch.Tensor, n_labels: torch.Tensor
) -> torch.Tensor:
    """(n_lfs, K, n_out) log emissions of 'right with prob a, else uniformly wrong' LFs.

    consistent: bool (n_lfs, K, n_out), the vote that is right for each class; a class to
    which the LF's subtask does not apply has none, and any vote for it is an error, made
    at the LF's error rate: (1 - a) / k_s per label. n_labels: (n_lfs,) the size of each
    LF's label set (outputs beyond it are never voted). Flat tasks: every class applies.
    """
    a = accuracy.view(-1, 1, 1)
    k_out = n_labels.view(-1, 1, 1).to(accuracy.dtype)
    applies = consistent.any(dim=2, keepdim=True)
    right = torch.where(consistent, a, (1 - a) / (k_out - 1).clamp(min=1))
    probs = torch.where(applies, right, (1 - a) / k_out)
    outputs = torch.arange(consistent.shape[2], device=accuracy.device).view(1, 1, -1)
    return torch.log(torch.where(outputs < k_out, probs, torch.full_like(probs, 1e-12)))

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

    @property
    def votes_per_item(self) -> torch.Tensor:
        return (self.codes > 0).sum(dim=1)


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


def posterior(logits: torch.Tensor, gold: torch.Tensor | None = None) -> torch.Tensor:
    """Softmax over classes; rows with gold >= 0 are clamped to their gold label."""
    q = torch.softmax(logits, dim=1)
    if gold is not None:
        known = gold >= 0
        q[known] = torch.nn.functional.one_hot(gold[known], q.shape[1]).to(q.dtype)
    return q


def majority_posterior(batch: Batch, log_pi: torch.Tensor, k: int) -> torch.Tensor:
    """Start of EM: each item's (weighted) vote shares; no votes -> pi."""
    counts = torch.zeros(batch.codes.shape[0], k + 1, dtype=log_pi.dtype, device=log_pi.device)
    for j in range(batch.codes.shape[1]):
        weight = torch.ones_like(counts[:, 0]) if batch.weights is None else batch.weights[:, j]
        counts.scatter_add_(1, batch.codes[:, j : j + 1], weight[:, None])
    votes = counts[:, 1:] + 1e-3
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


def symmetric_emission(accuracy: torch.Tensor, k: int) -> torch.Tensor:
    """(n_lfs, k, k) log emissions of 'right with prob a, else uniformly wrong' LFs."""
    a = accuracy.view(-1, 1, 1)
    eye = torch.eye(k, dtype=accuracy.dtype, device=accuracy.device)
    return torch.log(eye * a + (1 - eye) * (1 - a) / max(k - 1, 1))

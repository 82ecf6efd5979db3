"""The label model: EM over the label matrix that learns how far to trust each LF.

Model (per item, latent true label y in 0..k-1, class prior pi):
- each LF votes with a class-independent propensity (its coverage; abstains therefore do
  not shift the posterior: with many correlated LFs, counting every abstain as independent
  evidence overturns clear decisions, and gives 50% on trec even with ideal parameters);
- an LF that only ever votes one label ("unipolar", like most heuristics) is right with
  probability a_j and otherwise uniformly wrong; a_j has a Beta(prior_accuracy,
  prior_strength) prior and is kept >= 1/k: below that the model would have an exact
  degenerate solution (every item one class, the other class's LFs "always wrong");
- an LF that votes several labels (a human annotator, a multi-class model) has a full
  confusion matrix with a Dirichlet prior, as in Dawid-Skene;
- pi is learned only when the LFs identify it (every voting LF has a confusion matrix, and
  there are >= 3); otherwise it is the given class_balance or uniform (an EM-learned prior
  collapses onto one class when LFs vote a single class each);
- items with no votes get pi; gold items are clamped to their label in every E-step.
A vote with a reported confidence c counts as c of a vote (its log-likelihood times c).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch

from fusion import em
from fusion.base import Labeler
from fusion.calibration import fit_temperature
from fusion.device import resolve_device
from fusion.matrix import ABSTAIN
from fusion.types import Explanation, LabelModelConfig, LFStructure
from fusion.validation import check_fit_inputs, lf_vote_summary


class LabelModel(Labeler):
    """Fit on L (int (n_items, n_lfs), -1 = abstain); predict_proba gives (n_items, k)."""

    def __init__(
        self,
        cardinality: int,
        *,
        seed: int = 0,
        device: str = "auto",
        **options: float | int | bool,
    ) -> None:
        self.config = LabelModelConfig(cardinality=cardinality, seed=seed, **options)  # type: ignore[arg-type]
        self.cardinality = cardinality
        self.device = resolve_device(device)
        self.dtype = torch.float64
        self._fitted = False
        self._log_pi = torch.zeros(cardinality, dtype=torch.float64)
        self._log_emission = torch.zeros(0, cardinality, cardinality, dtype=torch.float64)
        self.structure_ = LFStructure.flat(0, cardinality)

    # ----------------------------------------------------------------- fitting
    def fit(
        self,
        L: np.ndarray,
        gold: np.ndarray | None = None,
        class_balance: np.ndarray | None = None,
        confidence: np.ndarray | None = None,
        *,
        full_confusion: np.ndarray | None = None,
    ) -> LabelModel:
        """Learn class prior and LF parameters. full_confusion: bool (n_lfs,), True for LFs
        that may vote any label (human annotators) even if the data show one label."""
        k = self.cardinality
        L, gold, class_balance, confidence = check_fit_inputs(
            L, cardinality=k, gold=gold, class_balance=class_balance, confidence=confidence
        )
        allowed = None
        if gold is not None:
            allowed = np.ones((len(gold), k), dtype=bool)
            known = gold >= 0
            allowed[known] = np.eye(k, dtype=bool)[gold[known]]
        self._fit(
            L, allowed, class_balance, confidence, full_confusion, LFStructure.flat(L.shape[1], k)
        )
        if gold is not None and self.config.calibrate:
            self._calibrate(L, gold, confidence)
        return self

    def _fit(
        self,
        L: np.ndarray,
        allowed: np.ndarray | None,
        class_balance: np.ndarray | None,
        confidence: np.ndarray | None,
        full_confusion: np.ndarray | None,
        structure: LFStructure,
    ) -> None:
        """EM on validated inputs. allowed: bool (n_items, K) classes each item may take
        (all True where there is no gold), or None."""
        cfg, k = self.config, self.cardinality
        n_lfs = L.shape[1]
        self.structure_ = structure
        n_out = structure.consistent.shape[2]
        emitted, votes = lf_vote_summary(L, n_out)
        self.polarity_ = emitted  # (n_lfs, n_out): labels each LF has voted
        forced = (
            np.zeros(n_lfs, bool) if full_confusion is None else np.asarray(full_confusion, bool)
        )
        self.unipolar_ = (emitted.sum(axis=1) <= 1) & ~forced
        self.propensity_ = votes / max(L.shape[0], 1)
        has_gold = None if allowed is None else np.asarray(~allowed.all(axis=1))
        rows = self._fit_rows(L, has_gold)
        # float32 halves memory traffic on large fits; small ones keep float64 exactness
        self.dtype = torch.float32 if len(rows) >= cfg.float32_from_rows else torch.float64
        batch = em.make_batch(
            L[rows],
            None if confidence is None else confidence[rows],
            n_out=n_out,
            device=self.device,
            dtype=self.dtype,
        )
        allowed_t = None if allowed is None else torch.as_tensor(allowed[rows], device=self.device)
        self._consistent = torch.as_tensor(structure.consistent, device=self.device)
        self._n_labels = torch.as_tensor(structure.n_labels, device=self.device)
        voting = emitted.any(axis=1)
        learn_pi = (
            class_balance is None
            and int((~self.unipolar_ & voting).sum()) >= 3
            and not (self.unipolar_ & voting).any()
        )
        pi = class_balance if class_balance is not None else np.full(k, 1.0 / k)
        log_pi = torch.log(torch.as_tensor(pi, dtype=self.dtype, device=self.device))
        q = em.majority_posterior(batch, log_pi, self._consistent.transpose(1, 2))
        if allowed_t is not None:
            q = em.posterior(torch.log(q), allowed_t)
        log_emission: torch.Tensor | None = None
        iteration = 0
        for iteration in range(1, cfg.max_iter + 1):  # noqa: B007 (n_iter_ reports it)
            new_emission, accuracy = self._m_step(batch, q)
            if learn_pi:
                counts = q[batch.covered].sum(0) + cfg.class_prior_strength
                log_pi = torch.log(counts / counts.sum())
            logits = em.log_joint(batch, log_pi, new_emission)
            q = em.posterior(logits, allowed_t)
            converged = (
                log_emission is not None
                and float((new_emission.exp() - log_emission.exp()).abs().max()) < cfg.tol
            )
            log_emission = new_emission
            if converged:
                break
        assert log_emission is not None
        self.n_iter_ = iteration
        self._log_pi = log_pi
        self._log_emission = log_emission
        self.accuracy_ = self._accuracy(accuracy)
        self.temperature_ = 1.0
        self._fitted = True

    def _fit_rows(self, L: np.ndarray, has_gold: np.ndarray | None) -> np.ndarray:
        """All rows, or every gold row plus a seeded uniform sample up to fit_sample.
        A few dozen LFs' parameters are pinned down by 100k items (standard error about
        0.003 at 40% coverage); the E-step over all items then happens once, in predict."""
        n = L.shape[0]
        if n <= self.config.fit_sample:
            return np.arange(n)
        rng = np.random.default_rng(self.config.seed)
        chosen = np.zeros(n, bool)
        chosen[rng.choice(n, self.config.fit_sample, replace=False)] = True
        if has_gold is not None:
            chosen |= has_gold
        return np.flatnonzero(chosen)

    def _m_step(self, batch: em.Batch, q: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """New log emissions and the unipolar LFs' accuracies from posteriors q."""
        cfg = self.config
        consistent = self._consistent.to(self.dtype)
        counts = em.expected_counts(batch, q)  # (n_lfs, K, n_out)
        # unipolar LFs: one accuracy each (the share of their votes the posterior backs)
        hits = (counts * consistent).sum(dim=(1, 2))
        fires = counts.sum(dim=(1, 2))
        accuracy = (hits + cfg.prior_strength * cfg.prior_accuracy) / (fires + cfg.prior_strength)
        floor = 1.0 / self._n_labels.to(self.dtype)
        accuracy = torch.maximum(accuracy, floor).clamp(max=0.999)
        symmetric = em.symmetric_emission(accuracy, self._consistent, self._n_labels)
        # the others: a confusion matrix each (plain EM counts), diagonal-heavy Dirichlet prior
        outputs = torch.arange(consistent.shape[2], device=self.device).view(1, 1, -1)
        valid = (outputs < self._n_labels.view(-1, 1, 1)).to(self.dtype)
        prior = consistent * cfg.confusion_prior_diagonal + (1 - consistent) * valid * (
            cfg.confusion_prior_off_diagonal
        )
        counts = (counts + prior) * valid
        rows = counts / counts.sum(dim=2, keepdim=True)
        # a class to which the LF's subtask does not apply: every vote is an error, made at
        # the LF's error rate (1 - its accuracy on the classes it applies to) per label
        applies = consistent.sum(dim=2) > 0  # (n_lfs, K)
        right = (rows * consistent).sum(dim=2)
        acc = (right * applies).sum(dim=1) / applies.sum(dim=1).clamp(min=1)
        error = ((1 - acc) / self._n_labels.to(self.dtype)).view(-1, 1, 1) * valid
        rows = torch.where(applies[:, :, None], rows, error)
        confusion = torch.log(rows.clamp(min=1e-12))
        unipolar = torch.as_tensor(self.unipolar_, device=self.device)[:, None, None]
        return torch.where(unipolar, symmetric, confusion), accuracy

    def _accuracy(self, symmetric_accuracy: torch.Tensor) -> np.ndarray:
        """P(vote is right | it votes, its subtask applies): a_j for unipolar LFs, else the
        class-prior-weighted share of right votes over the classes it applies to."""
        pi = self._log_pi.exp()
        consistent = self._consistent.to(self.dtype)
        right = (self._log_emission.exp() * consistent).sum(dim=2)
        applies = (consistent.sum(dim=2) > 0).to(self.dtype)
        full = (right * pi).sum(dim=1) / (applies * pi).sum(dim=1).clamp(min=1e-12)
        unipolar = torch.as_tensor(self.unipolar_, device=self.device)
        return torch.where(unipolar, symmetric_accuracy, full).cpu().numpy()

    def _calibrate(self, L: np.ndarray, gold: np.ndarray, confidence: np.ndarray | None) -> None:
        known = (gold >= 0) & (L != ABSTAIN).any(axis=1)
        if known.sum() < self.config.min_gold_for_calibration:
            return
        logits = (
            self._logits(L[known], None if confidence is None else confidence[known]).cpu().numpy()
        )
        self.temperature_ = fit_temperature(logits, gold[known])

    # -------------------------------------------------------------- prediction
    def _logits(self, L: np.ndarray, confidence: np.ndarray | None) -> torch.Tensor:
        """(n, k) log joint for rows of L (a block: see predict_proba's chunk_rows)."""
        return em.log_joint_dense(L, confidence, self._log_pi, self._log_emission)

    def predict_proba(
        self, L: np.ndarray, *, confidence: np.ndarray | None = None, chunk_rows: int = 32_768
    ) -> np.ndarray:
        """float (n_items, k): calibrated posteriors; rows with no votes get the prior.
        Rows are processed chunk_rows at a time (memory O(chunk_rows * n_lfs * k))."""
        if not self._fitted:
            raise RuntimeError("call fit() before predict_proba()")
        L, _, _, confidence = check_fit_inputs(
            L, cardinality=self.cardinality, confidence=confidence, require_votes=False
        )
        return self._proba(L, confidence, chunk_rows)

    def _proba(self, L: np.ndarray, confidence: np.ndarray | None, chunk_rows: int) -> np.ndarray:
        out = np.empty((L.shape[0], self.cardinality))
        for start in range(0, L.shape[0], chunk_rows):
            part = slice(start, start + chunk_rows)
            logits = self._logits(L[part], None if confidence is None else confidence[part])
            out[part] = em.softmax_rows(logits.double() / self.temperature_).cpu().numpy()
        return out

    # ------------------------------------------------------------- reporting
    @property
    def class_balance_(self) -> np.ndarray:
        return self._log_pi.exp().cpu().numpy()

    @property
    def confusion_(self) -> np.ndarray:
        """(n_lfs, k, k): P(vote = o | y = c, the LF votes)."""
        return self._log_emission.exp().cpu().numpy()

    def lf_summary(self, names: list[str] | None = None) -> pd.DataFrame:
        """One row per LF: polarity, propensity (coverage), estimated accuracy, model kind."""
        names = names or [f"lf_{j:02d}" for j in range(len(self.accuracy_))]
        return pd.DataFrame(
            {
                "lf": names,
                "polarity": [tuple(np.flatnonzero(row).tolist()) for row in self.polarity_],
                "propensity": self.propensity_,
                "accuracy": self.accuracy_,
                "model": np.where(self.unipolar_, "accuracy", "confusion"),
            }
        )

    def explain(self, L_row: np.ndarray) -> Explanation:
        """Each LF's log-likelihood contribution to one item's posterior."""
        row = np.asarray(L_row).reshape(1, -1)
        check_fit_inputs(row, cardinality=self.cardinality, require_votes=False)
        emission = self.confusion_
        contributions = np.zeros((row.shape[1], self.cardinality))
        for j, vote in enumerate(row[0]):
            if vote != ABSTAIN:
                contributions[j] = np.log(emission[j, :, vote]) / self.temperature_
        return Explanation(np.log(self.class_balance_), contributions, self.predict_proba(row)[0])

    # ----------------------------------------------------------- persistence
    def save(self, path: Path | str) -> None:
        """A folder with config.json (format version, settings) and params.npz (arrays)."""
        from fusion.persistence import save_model

        save_model(self, Path(path))

    @classmethod
    def load(cls, path: Path | str, *, device: str = "auto") -> LabelModel:
        from fusion.persistence import load_model

        return load_model(Path(path), device=device)

    def state_arrays(self) -> dict[str, np.ndarray]:
        """Everything a fitted model needs besides its config, as numpy arrays."""
        return {
            "log_pi": self._log_pi.cpu().numpy(),
            "log_emission": self._log_emission.cpu().numpy(),
            "accuracy": self.accuracy_,
            "propensity": self.propensity_,
            "polarity": self.polarity_,
            "unipolar": self.unipolar_,
            "consistent": self.structure_.consistent,
            "n_labels": self.structure_.n_labels,
        }

    def restore(self, arrays: dict[str, np.ndarray], *, temperature: float, n_iter: int) -> None:
        """The inverse of state_arrays (used by load)."""
        self._log_pi = torch.as_tensor(arrays["log_pi"], device=self.device)
        self._log_emission = torch.as_tensor(arrays["log_emission"], device=self.device)
        self.dtype = self._log_pi.dtype
        self.accuracy_ = arrays["accuracy"]
        self.propensity_ = arrays["propensity"]
        self.polarity_ = arrays["polarity"]
        self.unipolar_ = arrays["unipolar"]
        self.structure_ = LFStructure(arrays["consistent"], arrays["n_labels"])
        self._consistent = torch.as_tensor(arrays["consistent"], device=self.device)
        self._n_labels = torch.as_tensor(arrays["n_labels"], device=self.device)
        self.temperature_, self.n_iter_, self._fitted = temperature, n_iter, True

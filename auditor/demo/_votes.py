"""Labeling-function simulation for the demo: which items each LF fires on and its votes.

Implements the firing model documented on `auditor.demo._catalog.LFSpec`, over the per-item
arrays of `World`. Pure computation; randomness comes from the generator passed in.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from auditor.demo import _catalog as cat

VOTE_COLUMNS = ["item", "lf", "subtask", "label", "confidence", "voted_at"]
COLLAPSE_FACTOR = 0.03  # collapsed LF's firing rate multiplier
S = 1_000_000_000  # nanoseconds per second


@dataclass(frozen=True)
class World:
    """Per-item arrays, in item order (chronological)."""

    start_ns: int
    end_ns: int  # last second of the generated period
    day: np.ndarray  # day index since start
    created_ns: np.ndarray
    ids: np.ndarray
    topic: np.ndarray  # code into TOPIC_LABELS
    stage2: dict[str, np.ndarray]  # subtask -> code, -1 where it does not apply


def subtask_truth(w: World, name: str) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """Label names, design prior and per-item truth codes (-1 out of scope) of a subtask."""
    if name == cat.TOPIC:
        return cat.TOPIC_LABELS, np.array(cat.TOPIC_PRIOR), w.topic
    s = next(s for s in cat.STAGE2 if s.name == name)
    return s.labels, np.array(s.prior), w.stage2[name]


def _fire_and_vote(
    rng: np.random.Generator, spec: cat.LFSpec, w: World, scale: np.ndarray | float
) -> tuple[np.ndarray, np.ndarray]:
    """Item indices an LF fires on and its vote codes there (see `cat.LFSpec`)."""
    labels, prior, truth = subtask_truth(w, spec.subtask)
    pol = np.array([labels.index(x) for x in spec.polarity])
    in_pol = np.isin(truth, pol)
    if spec.out_class is not None:
        out = truth == labels.index(spec.out_class)
        pi_out = float(prior[labels.index(spec.out_class)])
    else:
        out = ~in_pol & (truth >= 0)
        pi_out = float(1 - prior[pol].sum())
    share_out = 0.0 if pi_out < 1e-9 else (1.0 if pol.size == 1 else 0.5)
    err_mass = spec.coverage * (1 - spec.accuracy)
    m_out = err_mass * share_out
    m_in = spec.coverage - m_out
    p_in = min(1.0, m_in / float(prior[pol].sum()))
    p_out = min(1.0, m_out / pi_out) if share_out else 0.0
    p = np.where(in_pol, p_in, np.where(out, p_out, 0.0))
    p[truth < 0] = spec.coverage * cat.STAGE2_MISFIRE
    idx = np.flatnonzero(rng.random(truth.size) < p * scale)

    t = truth[idx]
    vote = pol[rng.integers(0, pol.size, idx.size)]  # out-of-polarity fires: any own label
    inside = np.isin(t, pol)
    vote[inside] = t[inside]
    if pol.size > 1 and m_in > 0:  # confusions within the polarity set
        confuse = inside & (rng.random(idx.size) < (err_mass - m_out) / m_in)
        pos = np.full(len(labels), -1)
        pos[pol] = np.arange(pol.size)
        r = rng.integers(0, pol.size - 1, int(confuse.sum()))
        vote[confuse] = pol[r + (r >= pos[t[confuse]])]
    return idx, vote


def simulate_votes(rng: np.random.Generator, w: World, collapse_day: int) -> pd.DataFrame:
    """Votes of every LF in `cat.LF_SPECS` (a `copy_of` source must come first), by time."""
    fired: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    parts: list[dict[str, np.ndarray]] = []
    for spec in cat.LF_SPECS:
        scale: np.ndarray | float = 1.0
        if spec.name == cat.COLLAPSED_LF:
            scale = np.where(w.day >= collapse_day, COLLAPSE_FACTOR, 1.0)
        if spec.copy_of is None:
            idx, vote = _fire_and_vote(rng, spec, w, scale)
        else:  # repeat most of the source's votes, fire on a few other items on its own
            src_spec = next(s for s in cat.LF_SPECS if s.name == spec.copy_of)
            src_idx, src_vote = fired[spec.copy_of]
            keep = rng.random(src_idx.size) < spec.copy_rate
            extra = spec.coverage - spec.copy_rate * src_spec.coverage
            own_scale = np.full(w.day.size, 1 / (1 - src_spec.coverage))
            own_scale[src_idx] = 0.0
            own_idx, own_vote = _fire_and_vote(
                rng, dataclasses.replace(spec, coverage=extra), w, own_scale * scale
            )
            idx = np.concatenate([src_idx[keep], own_idx])
            vote = np.concatenate([src_vote[keep], own_vote])
        fired[spec.name] = (idx, vote)

        labels, _, truth = subtask_truth(w, spec.subtask)
        conf = np.full(idx.size, np.nan)
        if spec.confidence:
            right = vote == truth[idx]
            conf = np.where(
                right, rng.beta(6.0, 2.0, idx.size), rng.beta(2.5, 2.5, idx.size)
            ).round(3)
        if spec.kind == "model":
            delay = rng.uniform(20, 600, idx.size)
        elif spec.kind == "distant":
            delay = 60 + rng.exponential(1800, idx.size).clip(0, 6 * 3600)
        else:
            delay = rng.uniform(1, 60, idx.size)
        parts.append(
            {
                "item": w.ids[idx],
                "lf": np.full(idx.size, spec.name, dtype=object),
                "subtask": np.full(idx.size, spec.subtask, dtype=object),
                "label": np.array(labels, dtype=object)[vote],
                "confidence": conf,
                "voted_at": w.created_ns[idx] + (delay * 1000).astype(np.int64) * (S // 1000),
            }
        )
    cols = {c: np.concatenate([p[c] for p in parts]) for c in VOTE_COLUMNS}
    cols["voted_at"] = cols["voted_at"].astype("datetime64[ns]")
    return pd.DataFrame(cols).sort_values("voted_at", kind="stable").reset_index(drop=True)

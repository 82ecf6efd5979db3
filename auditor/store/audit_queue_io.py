"""Audit reads (bound parameters only): the queue as auditors see it, each entry with its
fused label and the LF votes that produced it; disputed items; auditors' labels as a
ratings matrix for agreement metrics.

An LF's contribution to an item's posterior comes from the latest fusion run of the
subtask: lf_estimates.confusion[c][o] = P(vote o | true class c). For the fused label f
and the runner-up r (second most probable label; ties: the lowest code),

    log_likelihood_ratio = log P(vote | f) - log P(vote | r)
    contribution         = confidence * log_likelihood_ratio / temperature

contribution is the LF's exact term in the run's posterior log-odds of f over r (a vote
counts as `confidence` of a vote, NULL = 1; the posterior is tempered by the run's
temperature), as in ``fusion.LabelModel.explain(...).log_odds()``. Probabilities are
stored rounded to 1e-6, so they are floored at 1e-6 to keep the ratio finite. When the
run chose majority vote (model 'MajorityVote'), the label model's estimates are still
what is shown, but they did not decide the fused label.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from auditor.store.connection import Connection

QUEUE_STATES = ("open", "done", "skipped")
MIN_PROBABILITY = 1e-6

_QUEUE = """
WITH latest AS (SELECT subtask_id, max(fusion_run_id) AS run FROM fusion_runs GROUP BY ALL)
SELECT q.round_id, t.name AS task, i.external_id AS item, s.name AS subtask,
       q.item_id, q.subtask_id, q.fused_label AS sampled_label, q.confidence,
       f.label AS fused_code, f.probabilities, r.fusion_run_id, r.model, r.temperature,
       q.strategy, q.score, q.stratum, q.inclusion_probability, q.from_random,
       q.assigned_to, q.state, q.created_at AS queued_at, q.closed_at
FROM audit_queue q
JOIN items i ON i.item_id = q.item_id
JOIN subtasks s ON s.subtask_id = q.subtask_id
JOIN tasks t ON t.task_id = s.task_id
LEFT JOIN latest l ON l.subtask_id = q.subtask_id
LEFT JOIN fusion_runs r ON r.fusion_run_id = l.run
LEFT JOIN fused_labels f ON f.fusion_run_id = l.run AND f.item_id = q.item_id
    AND f.subtask_id = q.subtask_id
WHERE (CAST(? AS VARCHAR) IS NULL OR q.state = ?)
  AND (CAST(? AS VARCHAR) IS NULL OR t.name = ?)
  AND (CAST(? AS VARCHAR) IS NULL OR q.assigned_to IS NULL OR q.assigned_to = ?)
ORDER BY q.round_id DESC, q.score DESC, i.external_id, s.name
LIMIT ?"""
_VOTES = """
SELECT v.item_id, v.subtask_id, v.lf_id, f.name AS lf, v.label, v.confidence
FROM votes v JOIN labeling_functions f USING (lf_id)
WHERE v.item_id IN (SELECT unnest(CAST(? AS BIGINT[])))
ORDER BY f.name"""
_DISPUTES = """
WITH latest AS (
    SELECT item_id, subtask_id, auditor, arg_max(label, correction_id) AS label,
           max(submitted_at) AS submitted_at
    FROM corrections GROUP BY ALL)
SELECT t.name AS task, i.external_id AS item, s.name AS subtask, a.item_id, a.subtask_id,
       l.auditor, l.label, l.submitted_at
FROM audited_labels a
JOIN latest l USING (item_id, subtask_id)
JOIN items i ON i.item_id = a.item_id
JOIN subtasks s ON s.subtask_id = a.subtask_id
JOIN tasks t ON t.task_id = s.task_id
WHERE a.needs_adjudication AND (CAST(? AS VARCHAR) IS NULL OR t.name = ?)
  AND (CAST(? AS BIGINT[]) IS NULL OR list_contains(?, a.item_id))
ORDER BY t.name, i.external_id, s.name, l.auditor"""
_ESTIMATES = """
SELECT fusion_run_id, lf_id, confusion FROM lf_estimates
WHERE fusion_run_id IN (SELECT unnest(CAST(? AS BIGINT[])))"""


def list_queue(
    con: Connection,
    *,
    task: str | None = None,
    auditor: str | None = None,
    state: str | None = "open",
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Queue entries (state None = every state), newest round first, highest score first.

    Each entry: round_id, task, item, subtask, fused_label (name; from the latest fusion
    run, else the label the round sampled), probabilities ({label name: p}, None when the
    latest run has no row for the item), runner_up, model, votes (list of {lf, label,
    confidence, log_likelihood_ratio, contribution}; see the module doc), strategy, score,
    stratum, inclusion_probability, from_random, confidence, assigned_to, state,
    queued_at, closed_at, item_id, subtask_id. With auditor given, entries assigned to
    someone else are left out (unassigned ones stay).
    """
    if state is not None and state not in QUEUE_STATES:
        raise ValueError(f"unknown queue state {state!r}; one of {', '.join(QUEUE_STATES)}")
    if limit < 0:
        raise ValueError(f"limit must be >= 0, got {limit}")
    params = [state, state, task, task, auditor, auditor, limit]
    entries = dicts(con.execute(_QUEUE, params))
    if not entries:
        return []
    names = label_names(con)
    votes: dict[tuple[int, int], list[dict[str, Any]]] = defaultdict(list)
    for vote in dicts(con.execute(_VOTES, [sorted({e["item_id"] for e in entries})])):
        votes[(vote["item_id"], vote["subtask_id"])].append(vote)
    runs = sorted({e["fusion_run_id"] for e in entries if e["fusion_run_id"] is not None})
    confusion = {
        (run, lf): json.loads(matrix)
        for run, lf, matrix in con.execute(_ESTIMATES, [runs]).fetchall()
    }
    return [_entry(e, names[e["subtask_id"]], votes, confusion) for e in entries]


def _entry(
    e: dict[str, Any],
    labels: list[str],
    votes: dict[tuple[int, int], list[dict[str, Any]]],
    confusion: dict[tuple[int, int], list[list[float]]],
) -> dict[str, Any]:
    proba = e.pop("probabilities")
    fused = e.pop("fused_code")
    sampled = e.pop("sampled_label")
    runner_up = runner_up_of(proba, fused)
    run, temperature = e.pop("fusion_run_id"), e.pop("temperature") or 1.0
    shown = vote_contributions(
        votes.get((e["item_id"], e["subtask_id"]), []),
        labels,
        {lf: matrix for (r, lf), matrix in confusion.items() if r == run},
        fused=fused,
        runner_up=runner_up,
        temperature=temperature,
    )
    return {
        "round_id": e.pop("round_id"),
        "task": e.pop("task"),
        "item": e.pop("item"),
        "subtask": e.pop("subtask"),
        "fused_label": label_name(labels, sampled if fused is None else fused),
        "probabilities": None
        if proba is None
        else {label_name(labels, c): p for c, p in enumerate(proba)},
        "runner_up": None if runner_up is None else label_name(labels, runner_up),
        "model": e.pop("model"),
        "votes": shown,
        **e,
    }


def runner_up_of(proba: list[float] | None, fused: int | None) -> int | None:
    """The most probable class other than the fused one (lowest code on ties)."""
    if proba is None or fused is None:
        return None
    return min(
        (c for c in range(len(proba)) if c != fused), key=lambda c: (-proba[c], c), default=None
    )


def vote_contributions(
    votes: list[dict[str, Any]],
    labels: list[str],
    confusion_by_lf: dict[int, list[list[float]]],
    *,
    fused: int | None,
    runner_up: int | None,
    temperature: float,
) -> list[dict[str, Any]]:
    """Each vote (dicts with lf, lf_id, label, confidence) with its label name, its
    log-likelihood ratio fused vs runner-up under the LF's learned confusion, and its
    contribution (confidence x ratio / temperature); None where not computable."""
    shown = []
    for vote in votes:
        matrix = confusion_by_lf.get(vote["lf_id"])
        llr = None
        if matrix is not None and runner_up is not None and fused is not None:
            llr = _log_ratio(matrix, fused, runner_up, vote["label"])
        weight = 1.0 if vote["confidence"] is None else vote["confidence"]
        shown.append(
            {
                "lf": vote["lf"],
                "label": label_name(labels, vote["label"]),
                "confidence": vote["confidence"],
                "log_likelihood_ratio": llr,
                "contribution": None if llr is None else weight * llr / temperature,
            }
        )
    return shown


def _log_ratio(matrix: list[list[float]], fused: int, runner_up: int, vote: int) -> float | None:
    if max(fused, runner_up) >= len(matrix) or vote >= len(matrix[fused]):
        return None
    top = max(matrix[fused][vote], MIN_PROBABILITY)
    other = max(matrix[runner_up][vote], MIN_PROBABILITY)
    return math.log(top) - math.log(other)


def label_name(labels: list[str], code: int) -> str:
    """The name of a label code (the code itself when the label set lacks it)."""
    return labels[code] if 0 <= code < len(labels) else str(code)


def label_names(con: Connection) -> dict[int, list[str]]:
    """Every subtask's label names by code."""
    names: dict[int, list[str]] = defaultdict(list)
    rows = con.execute("SELECT subtask_id, name FROM label_sets ORDER BY subtask_id, code")
    for subtask_id, name in rows.fetchall():
        names[subtask_id].append(name)
    return names


def naive_utc(moment: datetime) -> datetime:
    """The store's timestamps are UTC without a zone."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def dicts(cursor: Connection) -> list[dict[str, Any]]:
    names = [d[0] for d in cursor.description or []]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


@dataclass(frozen=True)
class AuditorLabels:
    """One subtask's corrections as a ratings matrix for agreement metrics.

    item_ids: int64 (n_items,); auditors: names (n_auditors,); labels: int64 (n_items,
    n_auditors), each auditor's latest label code, -1 = did not label the item.
    """

    subtask_id: int
    n_classes: int
    item_ids: np.ndarray
    auditors: tuple[str, ...]
    labels: np.ndarray


def needs_adjudication(con: Connection, task: str | None = None) -> list[dict[str, Any]]:
    """Items whose auditors' latest labels disagree and that no admin has decided:
    task, item, subtask, labels ({auditor: label name}), last_submitted_at, ids."""
    return disputes(con, task=task)


def disputes(
    con: Connection, *, task: str | None = None, items: list[int] | None = None
) -> list[dict[str, Any]]:
    """needs_adjudication, optionally only for these item ids."""
    names = label_names(con)
    grouped: dict[tuple[int, int], dict[str, Any]] = {}
    for row in dicts(con.execute(_DISPUTES, [task, task, items, items])):
        key = (row["item_id"], row["subtask_id"])
        entry = grouped.setdefault(
            key,
            {
                **{k: row[k] for k in ("task", "item", "subtask", "item_id", "subtask_id")},
                "labels": {},
                "last_submitted_at": row["submitted_at"],
            },
        )
        entry["labels"][row["auditor"]] = names[row["subtask_id"]][row["label"]]
        entry["last_submitted_at"] = max(entry["last_submitted_at"], row["submitted_at"])
    return list(grouped.values())


def auditor_agreement_pairs(
    con: Connection, subtask_id: int, *, min_auditors: int = 2
) -> AuditorLabels:
    """Each auditor's latest label per item of a subtask, for the items labelled by at
    least min_auditors auditors (items x auditors, -1 = missing)."""
    rows = con.execute(
        "WITH latest AS (SELECT item_id, auditor, arg_max(label, correction_id) AS label "
        "FROM corrections WHERE subtask_id = ? GROUP BY ALL), "
        "kept AS (SELECT item_id FROM latest GROUP BY item_id HAVING count(*) >= ?) "
        "SELECT item_id, auditor, label FROM latest WHERE item_id IN (SELECT item_id FROM kept) "
        "ORDER BY item_id, auditor",
        [subtask_id, min_auditors],
    ).fetchall()
    item_ids = np.array(sorted({r[0] for r in rows}), dtype=np.int64)
    auditors = tuple(sorted({r[1] for r in rows}))
    labels = np.full((len(item_ids), len(auditors)), -1, dtype=np.int64)
    column = {name: j for j, name in enumerate(auditors)}
    for item_id, auditor, label in rows:
        labels[np.searchsorted(item_ids, item_id), column[auditor]] = label
    n_classes = len(label_names(con).get(subtask_id, []))
    return AuditorLabels(subtask_id, n_classes, item_ids, auditors, labels)

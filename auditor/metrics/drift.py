"""Per-column distribution drift between a reference and a current window, via Evidently 0.7.

One Evidently Report holds a ValueDrift per column and runs with include_tests=True. Evidently
picks the stattest per column (docs.evidentlyai.com/reference/data-drift-algorithm; source:
evidently/legacy/calculations/stattests/registry.py, _get_default_stattest): with at most 1000
non-null reference values, Z-test (<= 2 distinct values), chi-square (categorical, or numerical
with <= 5 values) or K-S, all p-values against 0.05; above 1000, Jensen-Shannon (categorical, or
numerical with <= 5 values) or normed Wasserstein, distances against 0.1. So `score` is a p-value
(drift when low) or a distance (drift when high) depending on `method`, and a p-value test alarms
on about 5% of stable columns; `drifted` is always Evidently's test verdict (FAIL = drift).

Evidently is imported inside column_drift only: the import costs seconds.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from auditor.metrics.estimate import Estimate

KINDS = ("categorical", "numerical")
# Evidently stattests whose score is a p-value (drift when score < threshold); the rest are
# distances (drift when score >= threshold).
P_VALUE_METHODS = frozenset(
    {"anderson", "chisquare", "cramer_von_mises", "es", "fisher_exact", "g_test", "ks", "mannw"}
    | {"empirical_mmd", "t_test", "TVD", "z"}
)

# one column's (method, score, threshold, drifted, reason)
_Outcome = tuple[str, float, float, bool, str | None]


@dataclass(frozen=True)
class ColumnDrift:
    column: str
    kind: str  # "categorical" | "numerical"
    method: str  # Evidently's stattest id ("jensenshannon", "chisquare", ...); "" when not run
    score: float  # drift score / p-value as Evidently reports it; NaN when undefined
    threshold: float  # the threshold Evidently compared against; NaN when not run
    drifted: bool  # Evidently's test status: FAIL -> True
    n_reference: int  # rows used (after sampling)
    n_current: int
    sampled_from: tuple[int, int]  # rows before sampling (reference, current)
    reason: str | None  # why undefined

    @property
    def defined(self) -> bool:
        return not math.isnan(self.score)


def column_drift(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    columns: Mapping[str, str],
    sample_rows: int = 100_000,
    seed: int = 0,
) -> list[ColumnDrift]:
    """Drift of each column (name -> "categorical" | "numerical") from reference to current,
    in the order of `columns`. Each frame is first sampled to at most sample_rows rows (seeded).
    Degenerate columns (empty window, missing, all NaN, constant and identical in both windows,
    or an Evidently error) come back with score NaN, drifted False and a reason."""
    if sample_rows < 1:
        raise ValueError(f"sample_rows must be >= 1, got {sample_rows}")
    ref, cur = _sample(reference, sample_rows, seed), _sample(current, sample_rows, seed)

    sampled_from = (len(reference), len(current))
    outcomes: dict[str, _Outcome] = {}
    prepared: dict[str, tuple[pd.Series, pd.Series]] = {}
    for column, kind in columns.items():
        try:
            pair_or_reason = _prepare(ref, cur, column, kind)
        except Exception as error:  # e.g. unhashable values: never raise on odd input
            pair_or_reason = f"unusable values: {type(error).__name__}: {error}"
        if isinstance(pair_or_reason, str):
            outcomes[column] = ("", math.nan, math.nan, False, pair_or_reason)
        else:
            prepared[column] = pair_or_reason
    outcomes.update(_run_evidently(prepared, columns))
    results = []
    for column, kind in columns.items():
        method, score, threshold, drifted, reason = outcomes[column]
        results.append(
            ColumnDrift(
                column=column,
                kind=kind,
                method=method,
                score=score,
                threshold=threshold,
                drifted=drifted,
                n_reference=len(ref),
                n_current=len(cur),
                sampled_from=sampled_from,
                reason=reason,
            )
        )
    return results


def drift_estimate(d: ColumnDrift) -> Estimate:
    """The ColumnDrift as an Estimate for the metrics store: value = Evidently's score."""
    details: dict[str, object] = {
        "column": d.column,
        "kind": d.kind,
        "method": d.method,
        "score_is_p_value": d.method in P_VALUE_METHODS,
        "threshold": d.threshold,
        "drifted": d.drifted,
        "n_reference": d.n_reference,
        "n_current": d.n_current,
        "sampled_from": list(d.sampled_from),
    }
    return Estimate(d.score, n=d.n_reference + d.n_current, reason=d.reason, details=details)


def _sample(frame: pd.DataFrame, rows: int, seed: int) -> pd.DataFrame:
    if len(frame) > rows:
        frame = frame.sample(n=rows, random_state=seed)
    return frame.reset_index(drop=True)


def _prepare(
    ref: pd.DataFrame, cur: pd.DataFrame, column: str, kind: str
) -> tuple[pd.Series, pd.Series] | str:
    """The two series to hand Evidently, or the reason the column's drift is undefined."""
    if kind not in KINDS:
        return f"unknown column kind {kind!r}"
    empty = [name for name, frame in (("reference", ref), ("current", cur)) if len(frame) == 0]
    if empty:
        return f"empty {_windows(empty)}"
    missing = [
        name for name, frame in (("reference", ref), ("current", cur)) if column not in frame
    ]
    if missing:
        return f"column missing from {_windows(missing)}"
    pair = [ref[column], cur[column]]
    if kind == "numerical":
        try:
            pair = [_as_numeric(series) for series in pair]
        except (TypeError, ValueError):
            return "non-numeric values in a numerical column"
    valid = [series.dropna() for series in pair]
    all_nan = [name for name, v in zip(("reference", "current"), valid, strict=True) if v.empty]
    if all_nan:
        return f"column all NaN in {_windows(all_nan)}"
    if valid[0].nunique() == 1 and valid[1].nunique() == 1 and valid[0].iloc[0] == valid[1].iloc[0]:
        return "column constant and identical in both windows"
    return pair[0], pair[1]


def _windows(names: list[str]) -> str:
    return "both windows" if len(names) == 2 else f"{names[0]} window"


def _as_numeric(series: pd.Series) -> pd.Series:
    """Float values with +-inf as NaN (Evidently drops both); bools become 0/1."""
    values = pd.to_numeric(series, errors="raise").astype(float)
    return values.replace([np.inf, -np.inf], np.nan)


def _run_evidently(
    prepared: Mapping[str, tuple[pd.Series, pd.Series]], kinds: Mapping[str, str]
) -> dict[str, _Outcome]:
    """One Report for all columns; if Evidently raises, each column alone, so that only the
    failing ones get a reason."""
    if not prepared:
        return {}
    try:
        return _report(prepared, kinds)
    except Exception:
        outcomes: dict[str, _Outcome] = {}
        for column, pair in prepared.items():
            try:
                outcomes.update(_report({column: pair}, kinds))
            except Exception as error:
                reason = f"evidently failed: {type(error).__name__}: {error}"
                outcomes[column] = ("", math.nan, math.nan, False, reason)
        return outcomes


def _report(
    prepared: Mapping[str, tuple[pd.Series, pd.Series]], kinds: Mapping[str, str]
) -> dict[str, _Outcome]:
    from evidently import DataDefinition, Dataset, Report
    from evidently.metrics import ValueDrift

    names = list(prepared)
    definition = DataDefinition(
        categorical_columns=[c for c in names if kinds[c] == "categorical"],
        numerical_columns=[c for c in names if kinds[c] == "numerical"],
    )
    ref = pd.DataFrame({c: prepared[c][0] for c in names})
    cur = pd.DataFrame({c: prepared[c][1] for c in names})
    report = Report([ValueDrift(column=c) for c in names], include_tests=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        snapshot = report.run(
            Dataset.from_pandas(cur, data_definition=definition),
            Dataset.from_pandas(ref, data_definition=definition),
        )
        exported = snapshot.dict()
    # snapshot.dict(): metrics[i] = {"config": {"column", "method", "threshold"}, "value"},
    # where ValueDriftCalculation resolved method (stattest display name) and threshold;
    # tests[j] = {"metric_config": {"params": {"column"}}, "status": "SUCCESS" | "FAIL"}.
    statuses = {
        t["metric_config"]["params"]["column"]: str(getattr(t["status"], "value", t["status"]))
        for t in exported["tests"]
    }
    display_to_id = _stattest_ids()
    outcomes: dict[str, _Outcome] = {}
    for metric in exported["metrics"]:
        config: dict[str, Any] = metric["config"]
        column = config["column"]
        method = display_to_id.get(str(config.get("method")), str(config.get("method")))
        score = _float(metric.get("value"))
        threshold = _float(config.get("threshold"))
        status = statuses.get(column)
        if status not in ("SUCCESS", "FAIL"):
            reason = f"evidently gave no drift test result (status {status})"
            outcomes[column] = (method, math.nan, threshold, False, reason)
        elif math.isnan(score):
            outcomes[column] = (method, score, threshold, False, "evidently gave a NaN score")
        else:
            outcomes[column] = (method, score, threshold, status == "FAIL", None)
    for column in names:
        outcomes.setdefault(column, ("", math.nan, math.nan, False, "evidently gave no result"))
    return outcomes


def _stattest_ids() -> dict[str, str]:
    """Evidently records the stattest's display name ("Jensen-Shannon distance"); map it back
    to the registered id ("jensenshannon") that DataDriftPreset(method=...) accepts."""
    from evidently.legacy.calculations import stattests
    from evidently.legacy.calculations.stattests.registry import StatTest

    return {t.display_name: t.name for t in vars(stattests).values() if isinstance(t, StatTest)}


def _float(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan

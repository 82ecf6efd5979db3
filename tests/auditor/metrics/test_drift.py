"""column_drift over a real Evidently 0.7 Report: shifts flagged, stable columns not,
degenerate columns answered with a reason, Evidently imported only when first called."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from auditor.metrics.drift import P_VALUE_METHODS, ColumnDrift, column_drift, drift_estimate

ROOT = Path(__file__).resolve().parents[3]
N = 5_000


def windows(seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Reference and current windows of N rows: one column per scenario."""
    rng = np.random.default_rng(seed)

    def draw() -> dict[str, object]:
        return {"stable": rng.choice(["pos", "neg", "abstain"], N, p=[0.3, 0.2, 0.5])}

    reference = pd.DataFrame(
        {
            "label": rng.choice(["pos", "neg"], N, p=[0.6, 0.4]),
            "length": rng.normal(100.0, 20.0, N),
            "fired": (rng.random(N) < 0.4).astype(int),
            "never_fired": np.zeros(N, dtype=int),
            **draw(),
        }
    )
    current = pd.DataFrame(
        {
            "label": rng.choice(["pos", "neg"], N, p=[0.3, 0.7]),
            "length": rng.normal(110.0, 20.0, N),
            "fired": (rng.random(N) < 0.02).astype(int),
            "never_fired": np.zeros(N, dtype=int),
            **draw(),
        }
    )
    return reference, current


KINDS = {
    "label": "categorical",
    "length": "numerical",
    "fired": "categorical",
    "never_fired": "categorical",
    "stable": "categorical",
}


@pytest.fixture(scope="module")
def drifts() -> dict[str, ColumnDrift]:
    """One call (one Evidently Report) for every scenario column; pays the import once."""
    reference, current = windows()
    return {d.column: d for d in column_drift(reference, current, columns=KINDS)}


def assert_undefined(d: ColumnDrift, reason_part: str) -> None:
    assert math.isnan(d.score) and not d.defined
    assert d.drifted is False
    assert d.reason is not None and reason_part in d.reason, d.reason


def test_order_and_sizes_follow_the_request(drifts: dict[str, ColumnDrift]) -> None:
    assert list(drifts) == list(KINDS)
    for d in drifts.values():
        assert d.kind == KINDS[d.column]
        assert (d.n_reference, d.n_current, d.sampled_from) == (N, N, (N, N))


def test_categorical_share_shift_is_flagged(drifts: dict[str, ColumnDrift]) -> None:
    d = drifts["label"]  # 0.6 / 0.4 -> 0.3 / 0.7
    assert d.reason is None and d.drifted
    # > 1000 reference rows: Evidently's default for categorical columns.
    assert (d.method, d.threshold) == ("jensenshannon", 0.1)
    assert d.score > d.threshold


def test_same_distribution_is_not_flagged(drifts: dict[str, ColumnDrift]) -> None:
    d = drifts["stable"]  # two independent seeded draws of one distribution
    assert d.reason is None and not d.drifted
    assert d.method == "jensenshannon" and 0.0 <= d.score < d.threshold


def test_numerical_mean_shift_is_flagged(drifts: dict[str, ColumnDrift]) -> None:
    d = drifts["length"]  # mean 100 -> 110 at sd 20
    assert d.reason is None and d.drifted
    assert (d.method, d.threshold) == ("wasserstein", 0.1)
    assert d.score == pytest.approx(0.5, abs=0.1)  # normed by the reference sd


def test_coverage_collapse_is_flagged(drifts: dict[str, ColumnDrift]) -> None:
    d = drifts["fired"]  # fired share 0.4 -> 0.02
    assert d.reason is None and d.drifted and d.score > d.threshold


def test_constant_identical_column_is_undefined(drifts: dict[str, ColumnDrift]) -> None:
    # An LF that fires in neither window: no distribution to compare.
    d = drifts["never_fired"]
    assert_undefined(d, "constant")
    assert d.method == "" and math.isnan(d.threshold)


def test_sampling_is_applied_recorded_and_seeded() -> None:
    reference, current = windows()
    columns = {"label": "categorical", "length": "numerical", "stable": "categorical"}
    first = column_drift(reference, current, columns=columns, sample_rows=1_000, seed=3)
    again = column_drift(reference, current, columns=columns, sample_rows=1_000, seed=3)
    assert first == again
    label, length, stable = first
    for d in first:
        assert (d.n_reference, d.n_current, d.sampled_from) == (1_000, 1_000, (N, N))
    # <= 1000 reference rows: Evidently switches to p-value tests at 0.05.
    assert (label.method, length.method, stable.method) == ("z", "ks", "chisquare")
    assert {d.threshold for d in first} == {0.05}
    assert {label.method, length.method, stable.method} <= P_VALUE_METHODS
    assert label.drifted and length.drifted and label.score < 0.05
    # A p-value test on one stable column still alarms 5% of the time; no verdict asserted.
    assert 0.0 <= stable.score <= 1.0


def test_frames_smaller_than_sample_rows_are_used_whole() -> None:
    reference, current = windows()
    (d,) = column_drift(reference[:300], current, columns={"label": "categorical"})
    assert (d.n_reference, d.n_current, d.sampled_from) == (300, N, (300, N))
    assert d.drifted and d.method == "z"


@pytest.mark.parametrize(
    ("reference_rows", "current_rows", "reason"),
    [(0, N, "empty reference window"), (N, 0, "empty current window"), (0, 0, "both windows")],
)
def test_empty_windows_are_undefined(reference_rows: int, current_rows: int, reason: str) -> None:
    reference, current = windows()
    result = column_drift(
        reference[:reference_rows], current[:current_rows], columns={"label": "categorical"}
    )
    (d,) = result
    assert_undefined(d, reason)
    assert (d.n_reference, d.n_current) == (reference_rows, current_rows)


def test_degenerate_columns_are_undefined_and_do_not_spoil_the_others() -> None:
    reference, current = windows()
    reference = reference.assign(
        gone=1.0,
        blank=np.nan,
        half_blank=1.0,
        words="a",
        lists=pd.Series([["a"]] * N, dtype=object),
        odd="x",
    )
    current = current.assign(
        blank=np.nan,
        half_blank=np.inf,
        words="b",
        lists=pd.Series([["b"]] * N, dtype=object),
        odd="y",
    )
    columns = {
        "label": "categorical",
        "gone": "numerical",  # missing from the current window
        "nowhere": "categorical",  # missing from both
        "blank": "numerical",  # all NaN in both
        "half_blank": "numerical",  # only +inf in current: Evidently drops it as NaN
        "words": "numerical",  # strings declared numerical
        "lists": "categorical",  # unhashable values
        "odd": "text",  # a kind this function does not handle
    }
    d = {r.column: r for r in column_drift(reference, current, columns=columns)}
    assert d["label"].drifted and d["label"].reason is None
    assert_undefined(d["gone"], "column missing from current window")
    assert_undefined(d["nowhere"], "column missing from both windows")
    assert_undefined(d["blank"], "column all NaN in both windows")
    assert_undefined(d["half_blank"], "column all NaN in current window")
    assert_undefined(d["words"], "non-numeric")
    assert_undefined(d["lists"], "unusable values")
    assert_undefined(d["odd"], "unknown column kind 'text'")


def test_constant_but_different_windows_are_drift() -> None:
    reference = pd.DataFrame({"label": ["pos"] * N, "x": 1.0})
    current = pd.DataFrame({"label": ["neg"] * N, "x": 2.0})
    result = column_drift(reference, current, columns={"label": "categorical", "x": "numerical"})
    assert all(d.drifted and d.reason is None for d in result)


def test_an_evidently_error_is_confined_to_its_column(monkeypatch: pytest.MonkeyPatch) -> None:
    from evidently.metrics.column_statistics import ValueDriftCalculation

    original = ValueDriftCalculation.calculate

    def failing(self: Any, context: Any, current_data: Any, reference_data: Any) -> Any:
        if self.metric.column == "boom":
            raise RuntimeError("kaboom")
        return original(self, context, current_data, reference_data)

    monkeypatch.setattr(ValueDriftCalculation, "calculate", failing)
    reference, current = windows()
    reference["boom"] = reference["label"]
    current["boom"] = current["label"]
    label, boom = column_drift(
        reference, current, columns={"label": "categorical", "boom": "categorical"}
    )
    assert label.drifted and label.reason is None and label.method == "jensenshannon"
    assert_undefined(boom, "evidently failed: RuntimeError: kaboom")


def test_drift_estimate_carries_score_and_details(drifts: dict[str, ColumnDrift]) -> None:
    d = drifts["label"]
    e = drift_estimate(d)
    assert e.value == d.score and e.defined and e.reason is None
    assert e.n == 2 * N
    assert e.details["method"] == "jensenshannon"
    assert e.details["threshold"] == 0.1
    assert e.details["drifted"] is True
    assert e.details["score_is_p_value"] is False
    assert e.details["sampled_from"] == [N, N]
    assert (e.details["n_reference"], e.details["n_current"]) == (N, N)

    undefined = drift_estimate(drifts["never_fired"])
    assert not undefined.defined and undefined.reason == drifts["never_fired"].reason


def test_importing_the_module_does_not_import_evidently() -> None:
    code = "import sys, auditor.metrics.drift; print('evidently' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"

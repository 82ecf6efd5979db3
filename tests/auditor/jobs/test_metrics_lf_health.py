"""The metrics job's LF-health counting (done in DuckDB) against Snorkel's LFAnalysis
definitions recomputed in numpy from the same label matrix, window by window; and the gold
annotators' agreement and spot-check accuracy, worked by hand."""

from __future__ import annotations

import json

import numpy as np
import pytest

from auditor.ingest.service import ingest_tasks_file
from auditor.jobs.metrics import run_metrics
from auditor.settings import load_settings
from auditor.store import Store
from tests.conftest import ingest, rows, write

LABELS = ("a", "b", "c")
LFS = ("lf_0", "lf_1", "lf_2", "lf_3")
N_DAY = 40  # items per day, two days
TASK_TOML = """
[[task]]
name = "snk"
[[task.subtask]]
name = "s"
labels = ["a", "b", "c"]
"""
# Gold annotators on day-1 items 0..3: (ana, bo) = (a, a), (b, b), (c, c), (a, b).
# Fleiss: pooled a 3, b 3, c 2 of 8 -> P_e = (9 + 9 + 4) / 64 = 11/32; P_bar = 3/4;
# kappa = (3/4 - 11/32) / (21/32) = 13/21. Percent agreement 3/4.
# Krippendorff (nominal): n_c = (3, 3, 2), n.. = 8; D_o = 2 (one split unit, m_u = 2);
# D_e = 64 - 22 = 42; alpha = 1 - 7 * 2 / 42 = 2/3.
ANA = {0: "a", 1: "b", 2: "c", 3: "a", 4: "c"}
BO = {0: "a", 1: "b", 2: "c", 3: "b"}
# The auditor checks two of ana's items: item 3 (says b: ana wrong) and 4 (says c: right).
AUDIT = {3: 1, 4: 2}


def snorkel_lf_analysis(L: np.ndarray) -> dict[str, np.ndarray | list[list[int]]]:
    """Snorkel's LFAnalysis (labeling/analysis.py) on L (-1 = abstain): lf_coverages,
    lf_overlaps, lf_conflicts (the item has two non-abstain votes that differ) and
    lf_polarities, without normalising by coverage."""
    voted = L != -1
    n_votes = voted.sum(axis=1)
    hi = np.where(voted, L, -1).max(axis=1)
    lo = np.where(voted, L, 99).min(axis=1)
    conflicted = (n_votes > 1) & (hi != lo)
    return {
        "coverage": voted.mean(axis=0),
        "overlap": (voted & (n_votes > 1)[:, None]).mean(axis=0),
        "conflict": (voted & conflicted[:, None]).mean(axis=0),
        "polarity": [sorted(set(L[voted[:, j], j].tolist())) for j in range(L.shape[1])],
    }


@pytest.fixture(scope="module")
def job(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, np.ndarray, np.ndarray]:
    tmp = tmp_path_factory.mktemp("lf_health")
    store = Store(tmp / "lw.duckdb")
    from auditor.store import apply_migrations

    with store.connect() as con:
        apply_migrations(con)
    ingest_tasks_file(store, write(tmp, "tasks.toml", TASK_TOML))
    n = 2 * N_DAY
    items = "item,split,created_at,channel\n" + "".join(
        f"i{i},train,2026-10-{1 + i // N_DAY:02d}T{(i % N_DAY) // 4:02d}:00:00,email\n"
        for i in range(n)
    )
    ingest(store, write(tmp, "items.csv", items), kind="items", task="snk")
    lfs = "lf,subtask,kind\n" + "".join(f"{lf},s,heuristic\n" for lf in LFS)
    ingest(store, write(tmp, "lfs.csv", lfs), kind="lfs", task="snk")
    rng = np.random.default_rng(7)
    truth = rng.integers(0, 3, n)
    L = np.where(rng.random((n, 4)) < 0.75, truth[:, None], rng.integers(0, 3, (n, 4)))
    L = np.where(rng.random((n, 4)) < [0.5, 0.3, 0.7, 0.9], L, -1)
    L[:, 3] = np.where(L[:, 3] >= 0, 2, -1)  # lf_3 is unipolar: it only votes c
    L[N_DAY:, 1] = -1  # lf_1 abstains on all of day 2
    votes = "item,lf,label\n" + "".join(
        f"i{i},{LFS[j]},{LABELS[L[i, j]]}\n" for i in range(n) for j in range(4) if L[i, j] >= 0
    )
    ingest(store, write(tmp, "votes.csv", votes), kind="votes", task="snk")
    # imported gold on every 5th item (no annotator), then ana's and bo's labels
    gold = np.full(n, -1)
    rows_csv = "item,subtask,label\n"
    for i in range(0, n, 5):
        gold[i] = truth[i]
        rows_csv += f"i{i},s,{LABELS[truth[i]]}\n"
    ingest(store, write(tmp, "gold.csv", rows_csv), kind="gold", task="snk")
    for name, labels in (("ana", ANA), ("bo", BO)):  # bo's rows come later: they win
        csv = "item,subtask,label,annotator\n" + "".join(
            f"i{i},s,{label},{name}\n" for i, label in labels.items()
        )
        ingest(store, write(tmp, f"gold_{name}.csv", csv), kind="gold", task="snk")
        for i, label in labels.items():
            gold[i] = LABELS.index(label)
    with store.transaction() as con:
        for i, label in AUDIT.items():
            con.execute(
                "INSERT INTO corrections (item_id, subtask_id, label, auditor, submitted_at) "
                "SELECT item_id, 1, ?, 'sam', now() FROM items WHERE external_id = ?",
                [label, f"i{i}"],
            )
            gold[i] = label  # audited labels win over imported gold
    settings = load_settings(
        env={}, overrides={"db_path": tmp / "unused.duckdb", "drift_reference_days": 1}
    )
    assert run_metrics(store, settings).rows_written > 0
    return store, L, gold


def window_values(store: Store, metric: str) -> dict[tuple[int, str], tuple[float, str]]:
    found = rows(
        store,
        "SELECT day(window_start), key, value, details FROM metrics WHERE metric = ? "
        "AND window_start IS NOT NULL",
        [metric],
    )
    return {(day, key): (value, details) for day, key, value, details in found}


@pytest.mark.parametrize("metric", ["coverage", "overlap", "conflict"])
def test_coverage_overlap_conflict_equal_snorkel_lf_analysis(
    job: tuple[Store, np.ndarray, np.ndarray], metric: str
) -> None:
    store, L, _ = job
    stored = window_values(store, f"lf.{metric}")
    for day in (1, 2):
        expected = snorkel_lf_analysis(L[(day - 1) * N_DAY : day * N_DAY])[metric]
        assert isinstance(expected, np.ndarray)
        got = [stored[(day, lf)][0] for lf in LFS]
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    assert stored[(2, "lf_1")][0] == 0.0  # abstains all day: 0, not missing


def test_polarity_equals_snorkel_lf_analysis(job: tuple[Store, np.ndarray, np.ndarray]) -> None:
    store, L, _ = job
    stored = window_values(store, "lf.coverage")
    for day in (1, 2):
        polarity = snorkel_lf_analysis(L[(day - 1) * N_DAY : day * N_DAY])["polarity"]
        for j, lf in enumerate(LFS):
            names = json.loads(stored[(day, lf)][1])["polarity"]
            assert names == [LABELS[c] for c in polarity[j]]  # type: ignore[index]
    assert json.loads(stored[(1, "lf_3")][1])["polarity"] == ["c"]


def test_gold_accuracy_counts_and_interval(job: tuple[Store, np.ndarray, np.ndarray]) -> None:
    from statsmodels.stats.proportion import proportion_confint

    store, L, gold = job
    for j, lf in enumerate(LFS):
        judged = (L[:, j] != -1) & (gold != -1)
        right = int((L[judged, j] == gold[judged]).sum())
        [(value, low, high, details)] = rows(
            store,
            "SELECT value, ci_low, ci_high, details FROM metrics WHERE metric = "
            "'lf.accuracy_gold' AND key = ? AND window_start IS NULL",
            [lf],
        )
        counts = json.loads(details)
        assert (counts["successes"], counts["trials"]) == (right, int(judged.sum()))
        assert value == pytest.approx(right / judged.sum(), abs=1e-12)
        assert (low, high) == pytest.approx(
            proportion_confint(right, int(judged.sum()), method="wilson"), abs=1e-9
        )
        assert counts["chance"] == pytest.approx(1 / 3)


def test_lf_health_without_a_fit_is_nan_with_a_reason(
    job: tuple[Store, np.ndarray, np.ndarray],
) -> None:
    store, _, _ = job
    found = rows(
        store,
        "SELECT DISTINCT metric, details->>'reason' FROM metrics WHERE value IS NULL "
        "AND metric IN ('lf.contribution', 'lf.model_accuracy', 'lf.model_propensity')",
    )
    assert dict(found) == {
        "lf.contribution": "no fused labels yet",
        "lf.model_accuracy": "no label-model fit for this subtask yet",
        "lf.model_propensity": "no label-model fit for this subtask yet",
    }


def test_gold_annotators_agreement_by_hand(job: tuple[Store, np.ndarray, np.ndarray]) -> None:
    store, _, _ = job
    for window in ("window_start IS NULL", "day(window_start) = 1"):
        found = dict(
            rows(store, f"SELECT metric, value FROM metrics WHERE key = 'annotators' AND {window}")
        )
        assert found["agreement.annotator_fleiss_kappa"] == pytest.approx(13 / 21, abs=1e-12)
        assert found["agreement.annotator_krippendorff_alpha"] == pytest.approx(2 / 3, abs=1e-12)
        assert found["agreement.annotator_percent_agreement"] == pytest.approx(3 / 4, abs=1e-12)
    # no item of day 2 has annotators' labels: no rows for it
    assert rows(
        store, "SELECT count(*) FROM metrics WHERE key = 'annotators' AND day(window_start) = 2"
    ) == [(0,)]


def test_gold_annotators_spot_check_accuracy(job: tuple[Store, np.ndarray, np.ndarray]) -> None:
    store, _, _ = job
    found = {
        key: (value, json.loads(details))
        for key, value, details in rows(
            store,
            "SELECT key, value, details FROM metrics WHERE metric = "
            "'annotator.spot_check_accuracy' AND window_start IS NULL",
        )
    }
    value, details = found["ana"]
    assert value == 0.5  # item 3 wrong (a vs audited b), item 4 right (c)
    assert (details["successes"], details["trials"]) == (1, 2)
    confusion = np.zeros((3, 3), dtype=int)
    confusion[1, 0] = confusion[2, 2] = 1  # [true, given]
    assert details["confusion"] == confusion.tolist()
    value, details = found["bo"]
    assert value == 1.0 and (details["successes"], details["trials"]) == (1, 1)  # item 3: b

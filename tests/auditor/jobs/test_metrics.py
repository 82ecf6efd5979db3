"""The metrics job end to end on the demo workspace (a real temporary DuckDB file)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from auditor.demo import _catalog as cat
from auditor.jobs import registered_jobs
from auditor.jobs.metrics import parse_window, run_metrics
from auditor.jobs.runner import run_job
from auditor.settings import Settings, load_settings
from auditor.store import Store
from tests.conftest import demo_workspace, ingest, rows, write

N_ITEMS = 8000  # 35 days: ~230 items a day, enough for a daily drift test to see the shift


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, Settings]:
    store, settings = demo_workspace(tmp_path_factory.mktemp("metrics"), n_items=N_ITEMS)
    jobs = registered_jobs()
    assert run_job(store, settings, jobs["fuse"]).status == "succeeded"
    result = run_job(store, settings, jobs["metrics"])
    assert result.status == "succeeded", result.error
    return store, settings


def test_every_family_lands_per_window_with_the_run_id(demo: tuple[Store, Settings]) -> None:
    store, _ = demo
    [(run_id,)] = rows(store, "SELECT job_run_id FROM job_runs WHERE job = 'metrics'")
    families = {
        metric.split(".")[0]
        for (metric,) in rows(
            store, "SELECT DISTINCT metric FROM metrics WHERE job_run_id = ?", [run_id]
        )
    }
    assert families == {"lf", "agreement", "calibration", "accuracy", "drift", "consistency"}
    drift = rows(store, "SELECT DISTINCT metric FROM metrics WHERE metric LIKE 'drift.%'")
    assert {m for (m,) in drift} == {
        "drift.lf_votes",
        "drift.lf_coverage",
        "drift.fused_class",
        "drift.attribute",
    }
    [(details,)] = rows(
        store,
        "SELECT details FROM metrics WHERE metric = 'drift.attribute' AND key = 'channel' "
        "AND scope = 'topic'",
    )
    drift_details = json.loads(details)
    assert drift_details["method"] and drift_details["threshold"] > 0
    assert drift_details["n_reference"] > 0 and "sampled_from" in drift_details
    # 35 daily windows for the topic subtask, every LF has a coverage row in each
    [(windows,)] = rows(
        store,
        "SELECT count(DISTINCT window_start) FROM metrics WHERE scope = 'topic' "
        "AND metric = 'lf.coverage'",
    )
    assert windows == 35
    coverage = rows(
        store,
        "SELECT value FROM metrics WHERE metric = 'lf.coverage' AND key = 'kw_refund' "
        "AND value IS NOT NULL",
    )
    mean = sum(v for (v,) in coverage) / len(coverage)
    assert mean == pytest.approx(0.18, abs=0.03)  # the design coverage of kw_refund


def test_injected_coverage_collapse_and_prior_shift_raise_alerts(
    demo: tuple[Store, Settings],
) -> None:
    store, _ = demo
    alerts = rows(store, "SELECT metric, scope, key, state, message FROM alerts")
    by_identity = {(m, s, k): (state, message) for m, s, k, state, message in alerts}
    collapse = by_identity[("lf.coverage_change", "support_tickets/topic", cat.COLLAPSED_LF)]
    assert collapse[0] == "open"
    assert cat.COLLAPSED_LF in collapse[1]
    assert (
        by_identity[("drift.lf_coverage", "support_tickets/topic", cat.COLLAPSED_LF)][0] == "open"
    )
    shifted = by_identity[("drift.fused_class", "support_tickets/topic", "fused")]
    assert shifted[0] == "open"
    # a stable, accurate LF raises nothing
    assert not [key for (_, _, key) in by_identity if key == "kw_refund"]


def test_lf_gold_accuracy_has_its_interval_and_the_chance_level(
    demo: tuple[Store, Settings],
) -> None:
    store, _ = demo
    [(value, low, high, details)] = rows(
        store,
        "SELECT value, ci_low, ci_high, details FROM metrics WHERE metric = 'lf.accuracy_gold' "
        "AND key = ? AND window_start IS NULL",
        [cat.BAD_LF],
    )
    counts = json.loads(details)
    assert value == pytest.approx(counts["successes"] / counts["trials"])
    assert counts["chance"] == pytest.approx(1 / 5)
    assert low < 0.10 < high  # the LF's design accuracy lies inside its Wilson interval
    assert high < 0.5


def test_rerun_replaces_its_windows_and_keeps_history(demo: tuple[Store, Settings]) -> None:
    store, settings = demo
    before = rows(store, "SELECT count(*), count(DISTINCT window_start) FROM metrics")
    run_metrics(store, settings)  # incremental: recomputes the latest window only
    after = rows(store, "SELECT count(*), count(DISTINCT window_start) FROM metrics")
    assert after == before
    [(open_alerts,)] = rows(store, "SELECT count(*) FROM alerts")
    run_metrics(store, settings, full=True)
    assert rows(store, "SELECT count(*), count(DISTINCT window_start) FROM metrics") == before
    # the conditions persist: alerts are refreshed, not duplicated
    assert rows(store, "SELECT count(*) FROM alerts") == [(open_alerts,)]


def test_parse_window() -> None:
    assert parse_window("1d").total_seconds() == 86_400
    assert parse_window("6h").total_seconds() == 21_600
    with pytest.raises(ValueError, match="metric_window"):
        parse_window("0d")
    with pytest.raises(ValueError, match="metric_window"):
        parse_window("weekly")


def test_no_subtasks_skips(store: Store, tmp_path: Path) -> None:
    settings = load_settings(env={}, overrides={"db_path": tmp_path / "x.duckdb"})
    assert run_metrics(store, settings).skipped_reason == "no subtasks defined yet"


def test_degenerate_data_gives_nan_with_reasons_not_a_failed_job(
    tickets: Store, tmp_path: Path
) -> None:
    # six items, one LF that always votes the same label, no gold, no fuse run yet; the
    # refinement subtask has no votes at all
    ingest(tickets, write(tmp_path, "v.csv", "item,lf,label\nt1,kw_bill,billing\n"), kind="votes")
    settings = load_settings(env={}, overrides={"db_path": tmp_path / "unused.duckdb"})
    outcome = run_metrics(tickets, settings)
    assert outcome.skipped_reason is None and outcome.rows_written > 0
    reasons = dict(
        rows(
            tickets,
            "SELECT metric, details->>'reason' FROM metrics WHERE value IS NULL "
            "AND key IN ('kw_bill', 'fused') AND window_start IS NOT NULL",
        )
    )
    assert reasons["lf.accuracy_gold"] == "no gold among the LF's votes"
    assert reasons["lf.contribution"] == "no fused labels yet"
    assert reasons["calibration.ece"] == "no fused labels in the window"
    # one item a day for six days: kw_bill covers the first day's item only
    coverage = rows(
        tickets,
        "SELECT value FROM metrics WHERE metric = 'lf.coverage' AND key = 'kw_bill' "
        "AND window_start IS NOT NULL ORDER BY window_start",
    )
    assert coverage == [(1.0,), (0.0,), (0.0,), (0.0,), (0.0,), (0.0,)]


def test_agreement_between_auditors_is_measured(tickets: Store, tmp_path: Path) -> None:
    same_day = "item,split,created_at,channel\n" + "".join(
        f"s{i},train,2026-11-02T0{i}:00:00,email\n" for i in range(1, 7)
    )
    ingest(tickets, write(tmp_path, "items2.csv", same_day), kind="items")
    votes = "item,lf,label\n" + "".join(f"s{i},kw_bill,billing\n" for i in range(1, 7))
    ingest(tickets, write(tmp_path, "v2.csv", votes), kind="votes")
    # two auditors on six items of topic (codes: billing 0, technical 1): they agree on 5
    with tickets.transaction() as con:
        for i, (a, b) in enumerate([(0, 0), (0, 0), (1, 1), (0, 0), (1, 1), (0, 1)], start=1):
            for auditor, label in (("ana", a), ("bo", b)):
                con.execute(
                    "INSERT INTO corrections (item_id, subtask_id, label, auditor, submitted_at) "
                    "SELECT item_id, 1, ?, ?, now() FROM items WHERE external_id = ?",
                    [label, auditor, f"s{i}"],
                )
    settings = load_settings(env={}, overrides={"db_path": tmp_path / "unused.duckdb"})
    run_metrics(tickets, settings)
    found = dict(
        rows(
            tickets,
            "SELECT metric, value FROM metrics WHERE key = 'auditors' AND scope = 'topic' "
            "AND window_start = TIMESTAMP '2026-11-02'",
        )
    )
    # percent agreement 5/6; Fleiss: pooled shares 7/12 and 5/12, P_e = 74/144 = 37/72,
    # kappa = (5/6 - 37/72) / (1 - 37/72) = (23/72) / (35/72) = 23/35
    assert found["agreement.auditor_percent_agreement"] == pytest.approx(5 / 6)
    assert found["agreement.auditor_fleiss_kappa"] == pytest.approx(23 / 35)
    assert "agreement.auditor_krippendorff_alpha" in found

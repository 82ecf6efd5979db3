"""The metrics job end to end on the demo workspace (a real temporary DuckDB file)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from auditor.demo import _catalog as cat
from auditor.jobs import registered_jobs
from auditor.jobs.metrics import parse_window, run_metrics
from auditor.jobs.runner import run_job
from auditor.settings import Settings, load_settings
from auditor.store import Store
from tests.conftest import demo_workspace, ingest, rows, write

N_ITEMS = 8000  # 35 days: ~230 items a day, enough for a daily drift test to see the shift


class Hook(ThreadingHTTPServer):
    bodies: list[dict[str, Any]]


class HookHandler(BaseHTTPRequestHandler):
    server: Hook

    def do_POST(self) -> None:
        self.server.bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def hook() -> Iterator[Hook]:
    """A local webhook receiver on 127.0.0.1 (proxies unset so that urllib reaches it)."""
    server = Hook(("127.0.0.1", 0), HookHandler)
    server.bodies = []
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    with pytest.MonkeyPatch.context() as patch:
        for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
            patch.delenv(name, raising=False)
        yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, hook: Hook) -> tuple[Store, Settings]:
    store, settings = demo_workspace(tmp_path_factory.mktemp("metrics"), n_items=N_ITEMS)
    url = f"http://127.0.0.1:{hook.server_address[1]}/hook"
    settings = dataclasses.replace(settings, alert_webhook_url=url)
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
    assert families == {
        "lf",
        "agreement",
        "annotator",  # the demo's gold annotators: agreement and spot checks
        "calibration",
        "accuracy",
        "drift",
        "consistency",
    }
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


def test_new_alerts_go_to_the_webhook_once(demo: tuple[Store, Settings], hook: Hook) -> None:
    store, settings = demo
    opened = {
        alert_id
        for (alert_id,) in rows(
            store,
            "SELECT alert_id FROM alerts WHERE first_seen = (SELECT min(first_seen) FROM alerts)",
        )
    }
    first = hook.bodies[0]
    assert first["source"] == "labelwatch"
    assert {a["alert_id"] for a in first["alerts"]} == opened
    posted = {(a["metric"], a["key"]) for a in first["alerts"]}
    assert ("lf.coverage_change", cat.COLLAPSED_LF) in posted
    assert all(a["state"] == "open" and a["message"] for a in first["alerts"])
    # a rerun while the conditions persist opens nothing, so posts nothing new
    before = len(hook.bodies)
    run_metrics(store, settings)
    assert len(hook.bodies) == before


def test_worse_than_chance_lf_is_alerted(demo: tuple[Store, Settings]) -> None:
    store, _ = demo
    [(severity, state, message)] = rows(
        store,
        "SELECT severity, state, message FROM alerts WHERE metric = 'lf.accuracy_gold' AND key = ?",
        [cat.BAD_LF],
    )
    # ~23 gold votes at 8000 items: below chance (0.2) but not yet beyond doubt
    assert state == "open" and severity in ("warning", "critical")
    assert "chance 0.20" in message


def test_label_model_estimates_are_stored_for_all_time(demo: tuple[Store, Settings]) -> None:
    store, _ = demo
    stored = rows(
        store,
        "SELECT m.metric, m.value, e.accuracy, e.propensity FROM metrics m "
        "JOIN labeling_functions l ON l.name = m.key "
        "JOIN lf_estimates e ON e.lf_id = l.lf_id AND e.fusion_run_id = "
        "  (SELECT max(fusion_run_id) FROM fusion_runs r WHERE r.subtask_id = l.subtask_id) "
        "WHERE m.metric IN ('lf.model_accuracy', 'lf.model_propensity') AND m.scope = 'topic' "
        "AND m.window_start IS NULL",
    )
    [(n_lfs,)] = rows(
        store,
        "SELECT count(DISTINCT lf_id) FROM votes JOIN subtasks USING (subtask_id) "
        "WHERE name = 'topic'",
    )
    assert len(stored) == 2 * n_lfs
    for metric, value, accuracy, propensity in stored:
        assert value == pytest.approx(accuracy if metric == "lf.model_accuracy" else propensity)


def test_every_nan_has_a_reason(demo: tuple[Store, Settings]) -> None:
    store, _ = demo
    assert (
        rows(
            store,
            "SELECT DISTINCT metric FROM metrics WHERE value IS NULL "
            "AND details->>'reason' IS NULL",
        )
        == []
    )


def test_label_free_accuracy_sits_beside_the_audited_one(demo: tuple[Store, Settings]) -> None:
    store, _ = demo
    pairs = rows(
        store,
        "SELECT f.value, f.ci_low, f.ci_high, a.value FROM metrics f JOIN metrics a "
        "USING (scope, window_start) WHERE f.metric = 'accuracy.label_free' "
        "AND a.metric = 'accuracy.audited' AND scope = 'topic'",
    )
    assert len(pairs) == 35
    for value, low, high, _ in pairs:
        assert low <= value <= high


def test_a_cleared_condition_resolves_its_alert(tickets: Store, tmp_path: Path) -> None:
    votes = "item,lf,label\n" + "".join(f"t{i},kw_bill,billing\n" for i in range(1, 4))
    ingest(tickets, write(tmp_path, "v.csv", votes), kind="votes")
    gold = "item,subtask,label\n" + "".join(f"t{i},topic,billing\n" for i in range(1, 4))
    ingest(tickets, write(tmp_path, "g.csv", gold), kind="gold")
    then = dt.datetime(2026, 10, 1)
    with tickets.transaction() as con:
        for key in ("kw_bill", "not_evaluated"):  # raised by an earlier run
            con.execute(
                "INSERT INTO alerts (task, severity, metric, scope, key, message, first_seen, "
                "last_seen, state) VALUES ('tickets', 'critical', 'lf.accuracy_gold', "
                "'tickets/topic', ?, 'worse than chance', ?, ?, 'open')",
                [key, then, then],
            )
    settings = load_settings(env={}, overrides={"db_path": tmp_path / "unused.duckdb"})
    run_metrics(tickets, settings)  # kw_bill is now 3/3 right on gold: the condition cleared
    states = dict(rows(tickets, "SELECT key, state FROM alerts"))
    assert states == {"kw_bill": "resolved", "not_evaluated": "open"}


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

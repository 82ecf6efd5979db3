"""The rules job on a real temporary DuckDB file: violations, metric rows, re-runs, errors."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from auditor.jobs import Job
from auditor.jobs.rules import run_rules, violating_items
from auditor.jobs.runner import JobRunResult, run_job
from auditor.settings import Settings, load_settings
from auditor.store import Store
from tests.conftest import ingest, rows, write

# topic: billing, technical, other; billing_issue (under billing): refund, invoice
TOPIC = {
    "t1": [0.8, 0.1, 0.1],
    "t2": [0.7, 0.2, 0.1],
    "t3": [0.1, 0.8, 0.1],
    "t4": [0.2, 0.6, 0.2],
    "t5": [0.1, 0.1, 0.8],
    "t6": [0.4, 0.35, 0.25],
}
ISSUE = {"t1": [0.9, 0.1], "t3": [0.6, 0.4], "t6": [0.3, 0.7]}
VOTES = "item,lf,label\nt1,kw_bill,billing\nt5,kw_bill,other\nt3,kw_tech,technical\n"
FORBIDDEN = """[[forbidden]]
name = "no_billing_invoice"
labels = { topic = "billing", billing_issue = "invoice" }
"""
RULES_WITHOUT_FORBIDDEN = """
[[required]]
name = "billing_needs_issue"
parent = "topic"
parent_label = "billing"
child = "billing_issue"

FORBIDDEN

[[lf_labels]]
name = "kw_bill_is_billing"
lf = "kw_bill"
labels = ["billing"]

[improbable]
threshold = 0.5
"""
RULES = RULES_WITHOUT_FORBIDDEN.replace("FORBIDDEN\n", FORBIDDEN)
# Expected (by hand):
# applies_under:billing_issue  t3 technical + refund
# billing_needs_issue          t2 billing without an issue
# no_billing_invoice           t6 billing + invoice
# kw_bill_is_billing           t5 (kw_bill voted other)
# improbable, feasible mass (topic, issue): t1 0.8 * 0.9 = 0.72; t2 billing needs an
#   issue, so 0.2 + 0.1 = 0.3; t3 issue fused: only (billing, refund) 0.1 * 0.6 = 0.06;
#   t4 0.6 + 0.2 = 0.8; t5 0.1 + 0.8 = 0.9; t6 (billing, refund) 0.4 * 0.3 = 0.12
#   -> t2, t3, t6 below 0.5


def fuse(store: Store, subtask: str, probabilities: dict[str, list[float]]) -> None:
    """A fusion run of subtask with these items' probabilities (label = argmax)."""
    with store.transaction() as con:
        task_id, subtask_id = con.execute(
            "SELECT task_id, subtask_id FROM subtasks WHERE name = ?", [subtask]
        ).fetchall()[0]
        (run_id,) = con.execute(
            "INSERT INTO fusion_runs (task_id, subtask_id, model, created_at) "
            "VALUES (?, ?, 'test', ?) RETURNING fusion_run_id",
            [task_id, subtask_id, datetime(2026, 11, 1)],
        ).fetchall()[0]
        for item, p in probabilities.items():
            con.execute(
                "INSERT INTO fused_labels SELECT ?, item_id, ?, ?, ?, 0, 0, false FROM items "
                "WHERE external_id = ?",
                [run_id, subtask_id, p.index(max(p)), p, item],
            )


@pytest.fixture
def settings(tickets: Store, tmp_path: Path) -> Settings:
    (tmp_path / "rules").mkdir()
    return load_settings(
        env={}, overrides={"db_path": tickets.path, "rules_dir": tmp_path / "rules"}
    )


@pytest.fixture
def fused(tickets: Store, tmp_path: Path, settings: Settings) -> Store:
    ingest(tickets, write(tmp_path, "v.csv", VOTES), kind="votes")
    fuse(tickets, "topic", TOPIC)
    fuse(tickets, "billing_issue", ISSUE)
    write(settings.rules_dir, "tickets.toml", RULES)
    return tickets


def run(store: Store, settings: Settings) -> JobRunResult:
    return run_job(store, settings, Job("rules", "check subtask-boundary rules", run_rules))


def violations(store: Store) -> list[tuple[object, ...]]:
    return rows(
        store,
        "SELECT v.rule, v.kind, i.external_id, f.name, v.subtasks, v.labels, v.detail "
        "FROM rule_violations v JOIN items i USING (item_id) "
        "LEFT JOIN labeling_functions f USING (lf_id) ORDER BY v.rule, i.external_id",
    )


def test_violations_land_with_items_lfs_and_the_run(fused: Store, settings: Settings) -> None:
    result = run(fused, settings)
    assert result.status == "succeeded", result.error
    assert violations(fused) == [
        (
            "applies_under:billing_issue",
            "applies_under",
            "t3",
            None,
            "topic,billing_issue",
            "technical,refund",
            "billing_issue applies only under topic = billing",
        ),
        (
            "billing_needs_issue",
            "required",
            "t2",
            None,
            "topic,billing_issue",
            "billing,none",
            "topic = billing needs a billing_issue label",
        ),
        ("improbable", "improbable", "t2", None, "topic,billing_issue", "billing,none", "0.3"),
        ("improbable", "improbable", "t3", None, "topic,billing_issue", "technical,refund", "0.06"),
        ("improbable", "improbable", "t6", None, "topic,billing_issue", "billing,invoice", "0.12"),
        ("kw_bill_is_billing", "lf_labels", "t5", "kw_bill", "topic", "other", "allowed: billing"),
        (
            "no_billing_invoice",
            "forbidden",
            "t6",
            None,
            "topic,billing_issue",
            "billing,invoice",
            "forbidden combination",
        ),
    ]
    assert rows(fused, "SELECT DISTINCT job_run_id, task_id FROM rule_violations") == [
        (result.job_run_id, 1)
    ]
    assert (
        result.outcome is not None and result.outcome.rows_written == 7 + 5
    )  # violations + one metric row per rule


def test_one_metric_row_per_rule(fused: Store, settings: Settings) -> None:
    result = run(fused, settings)
    metrics = rows(
        fused,
        "SELECT key, scope, value, window_start, details, job_run_id, task FROM metrics "
        "WHERE metric = 'rules.violations' ORDER BY key",
    )
    assert [(k, s, round(v, 6)) for k, s, v, *_ in metrics] == [
        ("applies_under:billing_issue", "topic,billing_issue", round(1 / 6, 6)),
        ("billing_needs_issue", "topic,billing_issue", round(1 / 6, 6)),
        ("improbable", "task", 0.5),
        ("kw_bill_is_billing", "topic", round(1 / 6, 6)),
        ("no_billing_invoice", "topic,billing_issue", round(1 / 6, 6)),
    ]
    assert {(w, run_id, task) for _, _, _, w, _, run_id, task in metrics} == {
        (None, result.job_run_id, "tickets")
    }
    assert json.loads(metrics[2][4]) == {"n": 6, "count": 3, "items": 3, "kind": "improbable"}


def test_a_rerun_replaces_violations_and_metrics(fused: Store, settings: Settings) -> None:
    assert run(fused, settings).status == "succeeded"
    # a newer fusion run without t3's issue, and a rules file without the forbidden rule
    fuse(fused, "billing_issue", {"t1": [0.9, 0.1], "t2": [0.8, 0.2], "t6": [0.3, 0.7]})
    write(settings.rules_dir, "tickets.toml", RULES_WITHOUT_FORBIDDEN.replace("FORBIDDEN", ""))
    second = run(fused, settings)
    assert second.status == "succeeded", second.error
    # t2 now has its issue and t3 none (no applies_under, no required); improbable
    # without the forbidden rule: t2 0.7 * 1.0 = 0.7; t3 0.8 + 0.1 = 0.9;
    # t6 0.4 * (0.3 + 0.7) = 0.4 < 0.5
    assert [(rule, item) for rule, _, item, *_ in violations(fused)] == [
        ("improbable", "t6"),
        ("kw_bill_is_billing", "t5"),
    ]
    assert rows(fused, "SELECT DISTINCT job_run_id FROM rule_violations") == [(second.job_run_id,)]
    keys = rows(
        fused,
        "SELECT key, value, job_run_id FROM metrics WHERE metric = 'rules.violations' ORDER BY 1",
    )
    assert keys == [
        ("applies_under:billing_issue", 0.0, second.job_run_id),
        ("billing_needs_issue", 0.0, second.job_run_id),
        ("improbable", 1 / 6, second.job_run_id),
        ("kw_bill_is_billing", 1 / 6, second.job_run_id),
    ]
    with fused.connect() as con:
        assert violating_items(con, 1) == {5: ["kw_bill_is_billing"], 6: ["improbable"]}


def test_a_bad_rules_file_fails_the_job_with_its_message(fused: Store, settings: Settings) -> None:
    assert run(fused, settings).status == "succeeded"
    before = violations(fused)
    path = write(settings.rules_dir, "tickets.toml", RULES.replace('"invoice" }', '"invoic" }'))
    result = run(fused, settings)
    assert result.status == "failed"
    assert result.error == (
        f"RulesError: {path}: [[forbidden]] #1 'no_billing_invoice': label 'invoic' in "
        "labels is not a label of 'billing_issue' (refund, invoice)"
    )
    assert rows(fused, "SELECT error FROM job_runs WHERE job_run_id = ?", [result.job_run_id]) == [
        (result.error,)
    ]
    assert violations(fused) == before  # nothing replaced


def test_without_a_rules_file_only_implicit_rules_apply(fused: Store, settings: Settings) -> None:
    (settings.rules_dir / "tickets.toml").unlink()
    assert run(fused, settings).status == "succeeded"
    # threshold 0.2: t3 (0.06) and t6 (billing with issue: 0.4) -> only t3
    assert [(rule, item) for rule, _, item, *_ in violations(fused)] == [
        ("applies_under:billing_issue", "t3"),
        ("improbable", "t3"),
    ]
    with fused.connect() as con:
        assert violating_items(con, 1) == {3: ["applies_under:billing_issue", "improbable"]}


def test_no_fused_labels_skips(tickets: Store, settings: Settings) -> None:
    result = run(tickets, settings)
    assert (result.status, result.error) == ("skipped", "no fused labels yet")
    assert rows(tickets, "SELECT count(*) FROM rule_violations") == [(0,)]

"""The fuse job and label export on a real temporary DuckDB file."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from auditor.export import export_labels
from auditor.jobs import registered_jobs
from auditor.jobs.fuse import MIN_GOLD_FOR_SELECTION, choose_majority_vote
from auditor.jobs.runner import run_job
from auditor.settings import load_settings
from auditor.store import Store
from tests.conftest import ingest, rows, write

VOTES = (
    "item,lf,label,subtask,confidence\n"
    "t1,kw_bill,billing,,0.9\nt1,kw_tech,billing,topic,\n"
    "t2,kw_tech,technical,,\nt3,kw_bill,billing,,\nt3,kw_tech,technical,,\n"
    "t4,kw_tech,technical,,\nt1,refund_re,refund,,\nt3,refund_re,invoice,,\n"
)


@pytest.fixture
def fused(tickets: Store, tmp_path: Path) -> Store:
    ingest(tickets, write(tmp_path, "v.csv", VOTES), kind="votes")
    ingest(
        tickets,
        write(tmp_path, "g.csv", "item,subtask,label,annotator\nt2,topic,technical,ann\n"),
        kind="gold",
    )
    with tickets.transaction() as con:  # an auditor's correction of t3's topic
        con.execute(
            "INSERT INTO corrections (item_id, subtask_id, label, auditor, submitted_at) "
            "SELECT item_id, 1, 0, 'ana', ? FROM items WHERE external_id = 't3'",
            [datetime(2026, 11, 1)],
        )
    settings = load_settings(env={}, overrides={"db_path": tickets.path})
    result = run_job(tickets, settings, registered_jobs()["fuse"])
    assert result.status == "succeeded", result.error
    assert result.outcome is not None and result.outcome.rows_written == 6 + 2
    return tickets


def test_fuse_writes_one_run_per_subtask_with_every_item(fused: Store) -> None:
    runs = rows(
        fused,
        "SELECT s.name, f.model, f.n_items, f.n_votes, f.n_gold FROM fusion_runs f "
        "JOIN subtasks s USING (subtask_id) ORDER BY 1",
    )
    assert runs == [("billing_issue", "LabelModel", 2, 2, 0), ("topic", "LabelModel", 6, 6, 2)]
    topic = rows(
        fused,
        "SELECT i.external_id, f.label, f.uncovered, list_sum(f.probabilities), "
        "f.probabilities FROM fused_labels f JOIN items i USING (item_id) "
        "WHERE f.subtask_id = 1 ORDER BY 1",
    )
    assert [r[0] for r in topic] == ["t1", "t2", "t3", "t4", "t5", "t6"]
    assert all(abs(r[3] - 1) < 1e-9 for r in topic)
    assert [r[2] for r in topic] == [False, False, False, False, True, True]
    assert topic[4][4] == pytest.approx([1 / 3] * 3)  # uncovered: the (uniform) prior
    assert topic[0][1] == 0 and topic[3][1] == 1  # t1 billing (both LFs), t4 technical


def test_fuse_stores_what_it_learned_about_each_lf(fused: Store) -> None:
    estimates = rows(
        fused,
        "SELECT f.name, e.model, e.propensity, e.confusion FROM lf_estimates e "
        "JOIN labeling_functions f USING (lf_id) ORDER BY e.fusion_run_id, 1",
    )
    names = [e[0] for e in estimates]
    assert sorted(names) == ["kw_bill", "kw_tech", "refund_re"]
    topic = {e[0]: e for e in estimates if e[0] != "refund_re"}
    assert topic["kw_bill"][2] == pytest.approx(2 / 6)
    assert np.asarray(json.loads(topic["kw_tech"][3])).shape == (3, 3)


def test_export_prefers_auditor_labels_and_filters_by_confidence(
    fused: Store, tmp_path: Path
) -> None:
    report = export_labels(fused, tmp_path / "labels.parquet", fmt="parquet", subtask="topic")
    table = pq.read_table(tmp_path / "labels.parquet").to_pylist()
    assert report.rows == 6 and report.auditor_rows == 1
    t3 = next(r for r in table if r["item"] == "t3")
    assert (t3["label"], t3["source"], t3["confidence"]) == ("billing", "auditor", 1.0)
    confident = export_labels(
        fused, tmp_path / "c.parquet", fmt="parquet", subtask="topic", min_confidence=0.99
    )
    assert confident.rows < 6 and confident.auditor_rows == 1  # auditor rows always pass
    csv_report = export_labels(fused, tmp_path / "l.csv", fmt="csv")
    assert csv_report.rows == 8
    assert (tmp_path / "l.csv").read_text().splitlines()[0].startswith('"task","subtask","item"')
    export_labels(fused, tmp_path / "w", fmt="wrench", subtask="topic")
    records = json.loads((tmp_path / "w" / "tickets__topic.json").read_text())
    assert records["t3"]["label"] == 0 and records["t3"]["data"] == {"channel": "email"}
    assert json.loads((tmp_path / "w" / "tickets__topic.label.json").read_text()) == {
        "0": "billing",
        "1": "technical",
        "2": "other",
    }
    with pytest.raises(ValueError, match="unknown format"):
        export_labels(fused, tmp_path / "x", fmt="xlsx")


def test_fuse_skips_with_a_reason_when_nothing_is_defined(store: Store) -> None:
    settings = load_settings(env={}, overrides={"db_path": store.path})
    result = run_job(store, settings, registered_jobs()["fuse"])
    assert (result.status, result.error) == ("skipped", "no subtasks defined yet")


def test_model_selection_needs_enough_gold_and_keeps_the_model_on_ties() -> None:
    L = np.array([[0, 0], [1, 1]] * 50)
    gold = np.array([0, 1] * 50)
    conf = np.full(L.shape, np.nan)
    human = np.zeros(2, bool)
    few = np.where(np.arange(100) < MIN_GOLD_FOR_SELECTION - 1, gold, -1)
    assert not choose_majority_vote(L, few, conf, human)
    assert not choose_majority_vote(L, gold, conf, human)  # both perfect: keep the model


def test_fuse_records_majority_vote_when_gold_prefers_it(
    tickets: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest(tickets, write(tmp_path, "v.csv", VOTES), kind="votes")
    monkeypatch.setattr("auditor.jobs.fuse.choose_majority_vote", lambda *_args: True)
    settings = load_settings(env={}, overrides={"db_path": tickets.path})
    assert run_job(tickets, settings, registered_jobs()["fuse"]).status == "succeeded"
    assert rows(tickets, "SELECT DISTINCT model FROM fusion_runs") == [("MajorityVote",)]
    # t1 has two billing votes: majority vote gives it probability 1 for billing
    assert rows(
        tickets,
        "SELECT f.probabilities FROM fused_labels f JOIN items i USING (item_id)"
        " WHERE i.external_id = 't1' AND f.subtask_id = 1",
    ) == [([1.0, 0.0, 0.0],)]

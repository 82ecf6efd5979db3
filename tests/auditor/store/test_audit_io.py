"""The audit workflow on a real temporary DuckDB file: queue, corrections, adjudication."""

from __future__ import annotations

import json
import math
import shutil
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from auditor.audit.submissions import Submission, SubmissionError
from auditor.ingest.service import ingest_tasks_file
from auditor.jobs.fuse import run_fuse
from auditor.settings import load_settings
from auditor.store import Store, apply_migrations
from auditor.store.audit_io import (
    SubmitReport,
    adjudicate,
    audit_cost,
    auditor_agreement_pairs,
    list_queue,
    needs_adjudication,
    submit_corrections,
)
from tests.conftest import ITEMS_CSV, LFS_CSV, TICKETS_TOML, ingest, rows, write

NOW = datetime(2026, 11, 2, 9, 30)
VOTES = (
    "item,lf,label,subtask,confidence\n"
    "t1,kw_bill,billing,,0.9\nt1,kw_tech,billing,topic,\n"
    "t2,kw_tech,technical,,\nt3,kw_bill,billing,,\nt3,kw_tech,technical,,\n"
    "t4,kw_tech,technical,,\nt1,refund_re,refund,,\nt3,refund_re,invoice,,\n"
)
# (item, subtask id, score, assigned_to): topic is subtask 1, billing_issue 2
QUEUE = [("t1", 1, 0.9, None), ("t3", 1, 0.7, "ana"), ("t2", 1, 0.5, "bo"), ("t1", 2, 0.3, None)]


def build_queue(store: Store, tmp_path: Path) -> int:
    """Votes, a fuse run, and one audit round whose open queue is QUEUE; the round id."""
    ingest(store, write(tmp_path, "votes.csv", VOTES), kind="votes")
    outcome = run_fuse(store, load_settings(env={}, overrides={"db_path": store.path}))
    assert outcome.rows_written == 6 + 2
    with store.transaction() as con:
        round_id = con.execute(
            "INSERT INTO audit_rounds (task_id, created_at, random_share, strategy_weights, "
            "population, expected_size, seed) VALUES (1, ?, 0.2, ?, 8, 4, 0) "
            "RETURNING round_id",
            [NOW, json.dumps({"entropy": 1.0})],
        ).fetchall()[0][0]
        for item, subtask_id, score, assigned in QUEUE:
            con.execute(
                "INSERT INTO audit_queue (round_id, item_id, subtask_id, fused_label, "
                "confidence, strategy, score, stratum, inclusion_probability, from_random, "
                "assigned_to, state, created_at) SELECT ?, item_id, ?, 0, 0.6, 'entropy', ?, "
                "'billing', 0.5, false, ?, 'open', ? FROM items WHERE external_id = ?",
                [round_id, subtask_id, score, assigned, NOW, item],
            )
    return int(round_id)


def queued_template(directory: Path) -> Store:
    """The conftest `tickets` store plus build_queue, built once in directory."""
    store = Store(directory / "lw.duckdb", lock_timeout_s=10)
    with store.connect() as con:
        apply_migrations(con)
    ingest_tasks_file(store, write(directory, "tasks.toml", TICKETS_TOML))
    ingest(store, write(directory, "items.csv", ITEMS_CSV), kind="items")
    ingest(store, write(directory, "lfs.csv", LFS_CSV), kind="lfs")
    build_queue(store, directory)
    return store


def copy_store(template: Store, directory: Path) -> Store:
    """A private copy of a closed store's file (fusing once per module keeps tests fast)."""
    for suffix in ("", ".wal"):
        source = template.path.with_name(template.path.name + suffix)
        if source.exists():
            shutil.copyfile(source, directory / (template.path.name + suffix))
    return Store(directory / template.path.name, lock_timeout_s=10)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Store:
    return queued_template(tmp_path_factory.mktemp("audit"))


@pytest.fixture
def queued(template: Store, tmp_path: Path) -> Store:
    return copy_store(template, tmp_path)


def submit(store: Store, *subs: Submission, outside: bool = False) -> SubmitReport:
    with store.connect() as con:
        return submit_corrections(
            con, list(subs), allow_outside_queue=outside, now=NOW, hourly_rate=30, currency="usd"
        )


def sub(
    row: int,
    item: str,
    label: str,
    auditor: str = "ana",
    *,
    seconds: float = 60.0,
    subtask: str | None = None,
    note: str | None = None,
    task: str | None = None,
) -> Submission:
    return Submission(row, item, label, auditor, seconds, subtask=subtask, note=note, task=task)


def counts(store: Store) -> tuple[int, int, int, int]:
    return rows(
        store,
        "SELECT (SELECT count(*) FROM corrections), (SELECT count(*) FROM annotation_events), "
        "(SELECT count(*) FROM audit_queue WHERE state = 'open'), "
        "(SELECT count(*) FROM adjudications)",
    )[0]


def test_queue_lists_fused_labels_votes_and_their_contributions(queued: Store) -> None:
    with queued.connect() as con:
        entries = list_queue(con)
    assert [(e["item"], e["subtask"]) for e in entries] == [
        ("t1", "topic"),
        ("t3", "topic"),
        ("t2", "topic"),
        ("t1", "billing_issue"),
    ]
    t1 = entries[0]
    stored = rows(
        queued, "SELECT probabilities FROM fused_labels WHERE item_id = 1 AND subtask_id = 1"
    )
    assert t1["fused_label"] == "billing" and t1["model"] == "LabelModel"
    assert list(t1["probabilities"]) == ["billing", "technical", "other"]
    assert list(t1["probabilities"].values()) == pytest.approx(stored[0][0])
    assert [(v["lf"], v["label"], v["confidence"]) for v in t1["votes"]] == [
        ("kw_bill", "billing", 0.9),
        ("kw_tech", "billing", None),
    ]
    assert all(v["contribution"] > 0 for v in t1["votes"])  # both push towards billing
    assert (t1["strategy"], t1["score"], t1["stratum"]) == ("entropy", 0.9, "billing")
    assert (t1["inclusion_probability"], t1["assigned_to"], t1["state"]) == (0.5, None, "open")
    assert entries[3]["votes"][0]["label"] == "refund"  # only the subtask's own votes
    assert [(v["lf"]) for v in entries[1]["votes"]] == ["kw_bill", "kw_tech"]


def test_contribution_is_the_tempered_weighted_log_likelihood_ratio(queued: Store) -> None:
    """A later fusion run with known numbers: fused billing (0.7), runner-up technical."""
    with queued.transaction() as con:
        run = con.execute(
            "INSERT INTO fusion_runs (task_id, subtask_id, model, created_at, temperature) "
            "VALUES (1, 1, 'LabelModel', ?, 2.0) RETURNING fusion_run_id",
            [NOW],
        ).fetchall()[0][0]
        con.execute(
            "INSERT INTO fused_labels VALUES (?, 1, 1, 0, [0.7, 0.2, 0.1], 0.8, 0.5, false)", [run]
        )
        for lf, confusion in (
            ("kw_bill", [[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6]]),
            ("kw_tech", [[0.5, 0.3, 0.2], [0.25, 0.5, 0.25], [0.0, 0.5, 0.5]]),
        ):
            con.execute(
                "INSERT INTO lf_estimates SELECT ?, lf_id, 0.8, 0.5, 'confusion', ? "
                "FROM labeling_functions WHERE name = ?",
                [run, json.dumps(confusion), lf],
            )
    with queued.connect() as con:
        t1 = list_queue(con, limit=1)[0]
    assert t1["probabilities"] == {"billing": 0.7, "technical": 0.2, "other": 0.1}
    assert t1["runner_up"] == "technical"
    bill, tech = t1["votes"]
    # kw_bill voted billing: log(0.8 / 0.1) = 2.0794, at confidence 0.9, temperature 2
    assert bill["log_likelihood_ratio"] == pytest.approx(2.0794415, abs=1e-6)
    assert bill["contribution"] == pytest.approx(0.9357487, abs=1e-6)
    # kw_tech voted billing: log(0.5 / 0.25) = 0.6931, confidence NULL counts as 1
    assert tech["log_likelihood_ratio"] == pytest.approx(math.log(2))
    assert tech["contribution"] == pytest.approx(math.log(2) / 2)


def test_queue_filters_by_auditor_task_and_state(queued: Store) -> None:
    with queued.connect() as con:
        mine = list_queue(con, auditor="ana")
        assert [(e["item"], e["assigned_to"]) for e in mine] == [
            ("t1", None),
            ("t3", "ana"),
            ("t1", None),
        ]
        assert list_queue(con, task="other") == []
        assert list_queue(con, state="done") == []
        assert len(list_queue(con, state=None)) == 4
        assert len(list_queue(con, limit=2)) == 2
        with pytest.raises(ValueError, match="unknown queue state"):
            list_queue(con, state="closed")


def test_submit_appends_a_correction_closes_the_entry_and_records_cost(queued: Store) -> None:
    report = submit(queued, sub(1, "t1", "technical", seconds=90, subtask="topic", note="crash"))
    assert (report.corrections, report.queue_entries_closed, report.outside_queue) == (1, 1, 0)
    assert (report.cost, report.currency, report.needs_adjudication) == (
        Decimal("0.7500"),
        "USD",
        [],
    )
    assert rows(
        queued,
        "SELECT item_id, subtask_id, label, auditor, previous_label, seconds, note, "
        "submitted_at, round_id FROM corrections",
    ) == [(1, 1, 1, "ana", 0, 90.0, "crash", NOW, 1)]
    assert rows(
        queued,
        "SELECT i.external_id, q.subtask_id, q.state, q.closed_at FROM audit_queue q "
        "JOIN items i USING (item_id) ORDER BY q.score DESC",
    ) == [
        ("t1", 1, "done", NOW),
        ("t3", 1, "open", None),
        ("t2", 1, "open", None),
        ("t1", 2, "open", None),
    ]
    assert rows(
        queued,
        "SELECT task_id, annotator, item_id, subtask_id, kind, label, seconds, cost, currency, "
        "occurred_at FROM annotation_events",
    ) == [(1, "ana", 1, 1, "audit", 1, 90.0, Decimal("0.7500"), "USD", NOW)]
    with queued.connect() as con:
        assert (list_queue(con)[0]["item"], list_queue(con)[0]["subtask"]) == ("t3", "topic")


def test_every_invalid_row_is_listed_and_nothing_is_written(queued: Store) -> None:
    before = counts(queued)
    with pytest.raises(SubmissionError) as caught:
        submit(
            queued,
            sub(1, "t99", "billing", subtask="topic"),
            sub(2, "t1", "billing", subtask="mood"),
            sub(3, "t1", "spam", subtask="topic"),
            sub(4, "t5", "billing", subtask="topic"),
            sub(5, "t1", "billing", auditor=" ", subtask="topic"),
            sub(6, "t3", "billing", subtask="topic", seconds=-5),
            sub(7, "t2", "technical", subtask="topic"),  # valid, but not written either
            sub(8, "t1", "billing", subtask="topic", task="nope"),
            sub(9, "t1", "billing"),
        )
    assert caught.value.problems == (
        "row 1: unknown item t99",
        "row 2: unknown subtask mood in task tickets",
        "row 3: label spam is not in the label set of subtask topic (billing, technical, other)",
        "row 4: item t5 is not in an audit queue for subtask topic "
        "(submit with --allow-outside-queue to add it anyway)",
        "row 5: empty auditor name",
        "row 6: seconds -5 is negative",
        "row 8: unknown task nope",
        "row 9: missing required field subtask (the task has several subtasks)",
    )
    assert "nothing was written" in str(caught.value)
    assert counts(queued) == before


def test_outside_the_queue_needs_the_flag_and_has_no_round(queued: Store) -> None:
    with pytest.raises(SubmissionError, match="not in an audit queue"):
        submit(queued, sub(1, "t5", "other", subtask="topic"))
    report = submit(queued, sub(1, "t5", "other", subtask="topic", task="tickets"), outside=True)
    assert (report.outside_queue, report.queue_entries_closed) == (1, 0)
    fused = rows(queued, "SELECT label FROM fused_labels WHERE item_id = 5 AND subtask_id = 1")
    assert rows(queued, "SELECT label, previous_label, round_id FROM corrections") == [
        (2, fused[0][0], None)
    ]


def test_disagreeing_auditors_need_adjudication_and_the_admin_decides(queued: Store) -> None:
    first = submit(queued, sub(1, "t3", "billing", subtask="topic"))
    assert first.needs_adjudication == []
    second = submit(queued, sub(1, "t3", "technical", auditor="bo", subtask="topic"))
    disputed = second.needs_adjudication
    assert [(d["item"], d["subtask"], d["labels"]) for d in disputed] == [
        ("t3", "topic", {"ana": "billing", "bo": "technical"})
    ]
    assert rows(queued, "SELECT round_id FROM corrections") == [(1,), (1,)]  # both in the round
    with queued.connect() as con:
        assert [d["item"] for d in needs_adjudication(con)] == ["t3"]
        assert needs_adjudication(con, task="other") == []
        pairs = auditor_agreement_pairs(con, 1)
    assert (pairs.auditors, pairs.item_ids.tolist(), pairs.labels.tolist()) == (
        ("ana", "bo"),
        [3],
        [[0, 1]],
    )
    assert pairs.n_classes == 3
    assert rows(queued, "SELECT label, needs_adjudication FROM audited_labels") == [(None, True)]
    with queued.connect() as con:
        decided = adjudicate(con, "t3", "topic", "technical", admin="root", note="logs", now=NOW)
        assert needs_adjudication(con) == []
    assert (decided["label"], decided["admin"], decided["task"]) == ("technical", "root", "tickets")
    assert rows(queued, "SELECT label, needs_adjudication, adjudicated FROM audited_labels") == [
        (1, False, True)
    ]


def test_adjudication_is_validated(queued: Store) -> None:
    submit(queued, sub(1, "t3", "billing", subtask="topic"))
    with queued.connect() as con:
        with pytest.raises(SubmissionError) as caught:
            adjudicate(con, "t4", "topic", "billing", admin="root", now=NOW)
        assert caught.value.problems == ("item t4 has no corrections for subtask topic",)
        assert str(caught.value).startswith("adjudication refused")
        with pytest.raises(SubmissionError, match="label spam is not in the label set"):
            adjudicate(con, "t3", "topic", "spam", admin="root", now=NOW)
        with pytest.raises(SubmissionError, match="empty admin name"):
            adjudicate(con, "t3", "topic", "billing", admin="", now=NOW)
    assert counts(queued)[3] == 0


def test_a_resubmission_appends_and_the_latest_wins(queued: Store) -> None:
    submit(queued, sub(1, "t1", "billing", subtask="topic"))
    report = submit(queued, sub(1, "t1", "2", subtask="topic"), sub(2, "t1", "1", subtask="topic"))
    assert report.needs_adjudication == []
    assert rows(queued, "SELECT label, round_id FROM corrections ORDER BY correction_id") == [
        (0, 1),
        (2, 1),
        (1, 1),
    ]
    assert rows(queued, "SELECT label, n_auditors, needs_adjudication FROM audited_labels") == [
        (1, 1, False)
    ]
    with queued.connect() as con:
        assert auditor_agreement_pairs(con, 1).item_ids.tolist() == []
        assert auditor_agreement_pairs(con, 1, min_auditors=1).labels.tolist() == [[1]]


def test_costs_keep_one_currency_per_task(queued: Store) -> None:
    with queued.transaction() as con:
        con.execute(
            "INSERT INTO annotation_events (task_id, annotator, kind, seconds, cost, currency, "
            "occurred_at) VALUES (1, 'x', 'review', 1, 1, 'EUR', ?)",
            [NOW],
        )
    with pytest.raises(SubmissionError, match="task tickets records costs in EUR, not USD"):
        submit(queued, sub(1, "t1", "billing", subtask="topic"))
    assert audit_cost(1, 30) == Decimal("0.0083")
    assert audit_cost(90, 30) == Decimal("0.7500")

"""The audit loop end to end on the demo workspace: sample a round, audit it with the
demo's truth, estimate accuracy (a real temporary DuckDB file)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from auditor.audit.submissions import Submission
from auditor.cli import main
from auditor.jobs.audit_sample import RoundOptions, run_audit_sample
from auditor.jobs.fuse import run_fuse
from auditor.jobs.rules import run_rules
from auditor.settings import Settings
from auditor.store import Store
from auditor.store.audit_io import submit_corrections
from auditor.store.audit_sample_io import read_sampling_inputs
from tests.conftest import demo_workspace, rows

N_ITEMS = 3000


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, Settings]:
    store, settings = demo_workspace(tmp_path_factory.mktemp("audit"), n_items=N_ITEMS)
    run_fuse(store, settings)
    return store, settings


def _round(store: Store, settings: Settings, **options: object) -> int:
    outcome = run_audit_sample(store, settings, options=RoundOptions(seed=7, **options))  # type: ignore[arg-type]
    assert outcome.skipped_reason is None
    return outcome.rows_written


def test_a_round_stores_strategy_score_stratum_and_inclusion_probability(
    demo: tuple[Store, Settings],
) -> None:
    store, settings = demo
    sampled = _round(store, settings, budget_items=90)
    [(round_id, population, expected)] = rows(
        store, "SELECT round_id, population, expected_size FROM audit_rounds"
    )
    assert expected == pytest.approx(90)
    assert 50 <= sampled <= 130  # Poisson sampling: about the budget
    queue = rows(
        store,
        "SELECT strategy, score, stratum, inclusion_probability, from_random, state "
        "FROM audit_queue WHERE round_id = ?",
        [round_id],
    )
    assert len(queue) == sampled
    assert all(0 < pi <= 1 and state == "open" for _, _, _, pi, _, state in queue)
    assert {stratum for _, _, stratum, *_ in queue} <= {"topic", "billing_issue", "technical_issue"}
    assert any(from_random for *_, from_random, _ in queue)  # the uniform share
    # the population histogram counts every eligible (subtask, item) once
    [(counted,)] = rows(
        store, "SELECT sum(n_items) FROM audit_population WHERE round_id = ?", [round_id]
    )
    assert counted == population


def test_open_items_are_not_sampled_again(demo: tuple[Store, Settings]) -> None:
    store, settings = demo
    _round(store, settings, budget_items=60)
    [(duplicates,)] = rows(
        store,
        "SELECT count(*) FROM (SELECT item_id, subtask_id FROM audit_queue "
        "WHERE state = 'open' GROUP BY ALL HAVING count(*) > 1)",
    )
    assert duplicates == 0


def test_audited_round_gives_estimates_that_cover_the_truth(
    demo: tuple[Store, Settings], capsys: pytest.CaptureFixture[str]
) -> None:
    store, settings = demo
    truth = pd.read_parquet(settings.demo_dir / "truth.parquet")
    truth_of = {(r.item, r.subtask): r.label for r in truth.itertuples()}
    queued = rows(
        store,
        "SELECT i.external_id, s.name FROM audit_queue q JOIN items i USING (item_id) "
        "JOIN subtasks s USING (subtask_id) WHERE q.round_id = 1",
    )
    submissions = [
        Submission(
            row=n + 1,
            item=item,
            subtask=subtask,
            label=str(truth_of[(item, subtask)]),
            auditor="ana",
            seconds=40.0,
            task="support_tickets",
        )
        for n, (item, subtask) in enumerate(queued)
        # a refinement sampled for an item whose true topic it does not refine has no true
        # label in it: the auditor leaves it (the report counts it as not audited)
        if (item, subtask) in truth_of
    ]
    with store.connect() as con:
        submit_corrections(
            con,
            submissions,
            now=datetime.now(UTC).replace(tzinfo=None),
            hourly_rate=settings.audit_hourly_rate,
            currency=settings.currency,
        )
    argv = ["--db", str(settings.db_path), "report", "accuracy", "--round", "1", "--json"]
    assert main(argv) == 0
    report = {r["subtask"]: r for r in json.loads(capsys.readouterr().out)}
    topic = report["topic"]
    assert topic["audited"] == topic["sampled"] > 0
    assert topic["headline"] == "active_inference"
    fused = rows(  # the true accuracy of the fused topic labels over all items
        store,
        "SELECT avg((f.label = ls.code)::INT) FROM fused_labels f "
        "JOIN items i USING (item_id) JOIN subtasks s USING (subtask_id) "
        "JOIN (SELECT * FROM read_parquet(?)) t ON t.item = i.external_id AND t.subtask = s.name "
        "JOIN label_sets ls ON ls.subtask_id = s.subtask_id AND ls.name = t.label "
        "WHERE s.name = 'topic'",
        [str(settings.demo_dir / "truth.parquet")],
    )
    true_accuracy = fused[0][0]
    headline = topic["overall"]["active_inference"]
    assert headline["low"] <= true_accuracy <= headline["high"]
    assert set(topic["overall"]) == {
        "active_inference",
        "horvitz_thompson",
        "ppi_plus_plus",
        "random_share_wilson",
    }
    assert headline["ess"] > 0
    # audited items are not sampled again until their votes change; the next round first
    # records the audited round's estimates as metric rows
    sampled_again = _round(store, settings, budget_items=60)
    assert sampled_again > 0
    [(value, low, high, details)] = rows(
        store,
        "SELECT value, ci_low, ci_high, details FROM metrics "
        "WHERE metric = 'accuracy.audit_active_inference' AND scope = 'topic' AND key = 'fused'",
    )
    assert (value, low, high) == pytest.approx(
        (headline["value"], headline["low"], headline["high"])
    )
    assert json.loads(details)["round_id"] == 1 and json.loads(details)["headline"] is True
    classes = rows(
        store,
        "SELECT DISTINCT key FROM metrics WHERE metric = 'accuracy.audit_horvitz_thompson' "
        "AND scope = 'topic'",
    )
    assert ("class:billing",) in classes
    [(repeats,)] = rows(
        store,
        "SELECT count(*) FROM audit_queue q WHERE q.round_id > 1 AND EXISTS (SELECT 1 FROM "
        "corrections c WHERE c.item_id = q.item_id AND c.subtask_id = q.subtask_id)",
    )
    assert repeats == 0


def test_cost_budget_and_strata(demo: tuple[Store, Settings], tmp_path: Path) -> None:
    store, settings = demo
    with pytest.raises(ValueError, match="unknown strata"):
        run_audit_sample(store, settings, options=RoundOptions(stratify_by=("colour",)))
    _round(store, settings, budget_cost=15.0, stratify_by=("subtask", "class"))
    [(round_id, budget_cost, expected)] = rows(
        store,
        "SELECT round_id, budget_cost, expected_size FROM audit_rounds "
        "ORDER BY round_id DESC LIMIT 1",
    )
    assert float(budget_cost) == 15.0
    # at 30-40 s an audit and $30 an hour, $15 buys about 45-60 items
    assert 30 < expected < 70
    strata = rows(store, "SELECT DISTINCT stratum FROM audit_queue WHERE round_id = ?", [round_id])
    assert any("|class=" in s for (s,) in strata)


def test_rule_violations_and_improbable_items_feed_the_sampler(
    demo: tuple[Store, Settings],
) -> None:
    store, settings = demo
    run_rules(store, settings)
    with store.connect() as con:
        [(task_id,)] = con.execute("SELECT task_id FROM tasks").fetchall()
        subtasks = con.execute(
            "SELECT subtask_id FROM subtasks WHERE task_id = ? ORDER BY subtask_id", [task_id]
        ).fetchall()
        parts = [read_sampling_inputs(con, task_id, s) for (s,) in subtasks]
    flagged = {
        kind: {int(i) for (i,) in ids}
        for kind, ids in (
            ("improbable", rows(store, _FLAGGED.format("="))),
            ("rules", rows(store, _FLAGGED.format("<>"))),
        )
    }
    assert flagged["improbable"] and flagged["rules"]  # the demo breaks both kinds
    for part in parts:  # each item's flags are exactly the latest rules run's
        assert set(part.item_ids[part.improbable].tolist()) == flagged["improbable"] & set(
            part.item_ids.tolist()
        )
        assert set(part.item_ids[part.rules].tolist()) == flagged["rules"] & set(
            part.item_ids.tolist()
        )
    # targeting on the flags alone (no uniform share): every sampled item is flagged and
    # the flag is its strategy
    eligible = sum(int((p.eligible & (p.rules | p.improbable)).sum()) for p in parts)
    assert eligible > 40
    _round(
        store,
        settings,
        budget_items=20,
        random_share=0.0,
        weights={"rules": 1.0, "improbable": 1.0},
    )
    sampled = rows(
        store,
        "SELECT item_id, strategy FROM audit_queue WHERE round_id = "
        "(SELECT max(round_id) FROM audit_rounds)",
    )
    assert sampled
    assert all(item in flagged[strategy] for item, strategy in sampled), (
        "a sampled item that no rule flagged"
    )


_FLAGGED = (
    "SELECT DISTINCT item_id FROM rule_violations WHERE item_id IS NOT NULL "
    "AND kind {} 'improbable'"
)


def test_an_audited_item_is_eligible_again_once_its_votes_change(
    demo: tuple[Store, Settings],
) -> None:
    store, _ = demo
    with store.connect() as con:
        audited = con.execute(
            "SELECT c.item_id, c.subtask_id, s.task_id FROM corrections c "
            "JOIN subtasks s USING (subtask_id) WHERE s.name = 'topic' AND NOT EXISTS ("
            "SELECT 1 FROM audit_queue q WHERE q.item_id = c.item_id "
            "AND q.subtask_id = c.subtask_id AND q.state = 'open') ORDER BY c.item_id LIMIT 2"
        ).fetchall()
    (changed, subtask_id, task_id), (unchanged, _, _) = audited

    def eligible(item_id: int) -> bool:
        with store.connect() as con:
            part = read_sampling_inputs(con, task_id, subtask_id)
        return bool(part.eligible[part.item_ids == item_id][0])

    assert not eligible(changed) and not eligible(unchanged)
    with store.transaction() as con:  # a newer vote on one of them
        con.execute(
            "INSERT INTO votes SELECT item_id, lf_id, subtask_id, label, confidence, "
            "(SELECT max(submitted_at) FROM corrections) + INTERVAL 1 DAY, ingestion_id "
            "FROM votes WHERE item_id = ? AND subtask_id = ? LIMIT 1",
            [changed, subtask_id],
        )
    assert eligible(changed) and not eligible(unchanged)


def test_window_strata(demo: tuple[Store, Settings]) -> None:
    store, settings = demo
    _round(store, settings, budget_items=40, stratify_by=("subtask", "window"))
    strata = rows(
        store,
        "SELECT DISTINCT stratum FROM audit_queue WHERE round_id = "
        "(SELECT max(round_id) FROM audit_rounds)",
    )
    assert strata and all("|day=" in s for (s,) in strata)
    [(days,)] = rows(store, "SELECT count(DISTINCT created_at::DATE) FROM items")
    assert days > 1  # the demo spreads items over days, so there are several windows
    assert len({s.split("|")[1] for (s,) in strata}) > 1

"""The demo workspace exercises the budget alert path, and the CLI reports and edits it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from auditor.cli import main
from auditor.jobs import registered_jobs
from auditor.jobs.runner import run_job
from auditor.settings import Settings
from auditor.store import Store
from tests.conftest import demo_workspace, rows


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, Settings]:
    store, settings = demo_workspace(tmp_path_factory.mktemp("budget"), n_items=3000)
    jobs = registered_jobs()
    assert run_job(store, settings, jobs["fuse"]).status == "succeeded"
    result = run_job(store, settings, jobs["budget"])
    assert result.status == "succeeded", result.error
    return store, settings


def test_demo_spend_projects_an_overrun_late_in_the_period(demo: tuple[Store, Settings]) -> None:
    store, _ = demo
    alerts = rows(
        store,
        "SELECT severity, key, message FROM alerts "
        "WHERE metric = 'budget.projected_spend' AND state = 'open'",
    )
    assert len(alerts) == 1 and alerts[0][0] == "warning"
    assert "exceeds" in alerts[0][2] and "runs out around" in alerts[0][2]
    spent, budget = rows(
        store, "SELECT (SELECT sum(cost) FROM annotation_events), (SELECT amount FROM budgets)"
    )[0]
    assert spent < budget  # not yet spent: projected, late in the period


def test_demo_goals_have_status_history(demo: tuple[Store, Settings]) -> None:
    store, _ = demo
    statuses = rows(
        store,
        "SELECT key, details->>'status' FROM metrics WHERE metric = 'goal.status' ORDER BY key",
    )
    assert [k.split(":")[2] for k, _ in statuses] == [
        "reduce_hours",
        "accuracy_within_budget",
        "max_cost_per_correct_label",
    ]
    assert all(s in ("on_track", "at_risk", "off_track") for _, s in statuses)


def test_report_budget_json_and_text(
    demo: tuple[Store, Settings], capsys: pytest.CaptureFixture[str]
) -> None:
    store, _ = demo
    assert main(["--db", str(store.path), "report", "budget", "--json"]) == 0
    (state,) = json.loads(capsys.readouterr().out)
    assert state["task"] == "support_tickets" and state["budgets"][0]["overrun"] is True
    assert state["spent"] == str(rows(store, "SELECT sum(cost) FROM annotation_events")[0][0])
    assert float(state["savings"]["amount"]) > 0 and state["savings"]["assumptions"]
    assert main(["--db", str(store.path), "report", "budget"]) == 0
    text = capsys.readouterr().out
    assert "OVERRUN" in text and "assumes topic:" in text and "goal " in text


def budget_cli(db: Path, *args: str) -> int:
    """`labelwatch --db DB budget ARGS` for the demo task (set: October 2026 period)."""
    extra = ["--start", "2026-10-01", "--end", "2026-10-31"] if args[0] == "set" else []
    return main(["--db", str(db), "budget", *args, "--task", "support_tickets", *extra])


def test_budget_set_goal_and_list_from_the_cli(
    demo: tuple[Store, Settings], capsys: pytest.CaptureFixture[str]
) -> None:
    store, _ = demo
    pilot = ("--name", "pilot", "--amount", "250.50", "--currency", "usd", "--json")
    assert budget_cli(store.path, "set", *pilot) == 0
    assert json.loads(capsys.readouterr().out)["history"][0]["amount"] == "250.5000"
    goal = ("--kind", "max_cost_per_correct_label", "--target", "0.2", "--budget", "pilot")
    assert budget_cli(store.path, "goal", *goal) == 0
    capsys.readouterr()
    assert main(["--db", str(store.path), "budget", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {b["name"] for b in listed["budgets"]} == {"Q4 annotation", "pilot"}
    assert budget_cli(store.path, "set", "--name", "x", "--amount", "ten", "--currency", "usd") == 2
    assert "amount 'ten' is not a decimal number" in capsys.readouterr().err
    assert budget_cli(store.path, "set", "--name", "x", "--amount", "1", "--currency", "EUR") == 2
    assert "one currency per budget and task" in capsys.readouterr().err

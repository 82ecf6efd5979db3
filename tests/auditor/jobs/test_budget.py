"""The budget job on a real temporary DuckDB file: reconciliation, history, alerts, sync."""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.budget.events import to_money
from auditor.ingest.service import ingest_tasks_file
from auditor.jobs import registered_jobs
from auditor.jobs.budget import budget_state, run_budget, sync_settings_budgets
from auditor.jobs.runner import run_job
from auditor.settings import Settings, SettingsError, load_settings
from auditor.store import Store, apply_migrations
from auditor.store.budget_io import read_events, sql_spend_total, task_id_of
from auditor.store.budgets import add_budget, add_goal, budget_history
from tests.conftest import ITEMS_CSV, LFS_CSV, TICKETS_TOML, ingest, rows, write

HEADER = "annotator,kind,seconds,cost,at,item,subtask\n"
# 6 days of 20.00 a day (human labels, an audit, LF development), 2026-10-01 .. 10-06
EVENTS = HEADER + "".join(
    f"ana,human_label,60,5.0000,2026-10-{d:02d}T09:00:00,t{d},topic\n"
    f"cy,audit,30,5.0000,2026-10-{d:02d}T10:00:00,t{d},topic\n"
    f"dev,lf_development,3600,10.0000,2026-10-{d:02d}T11:00:00,,\n"
    for d in range(1, 7)
)


def job_settings(tmp_path: Path, **overrides: object) -> Settings:
    return load_settings(env={}, overrides={"db_path": tmp_path / "lw.duckdb", **overrides})


@pytest.fixture
def spending(tickets: Store, tmp_path: Path) -> Store:
    ingest(tickets, write(tmp_path, "events.csv", EVENTS), kind="events")
    return tickets


def add(store: Store, amount: str, **goal: object) -> int:
    with store.transaction() as con:
        budget_id = add_budget(
            con,
            task="tickets",
            name="q4",
            amount=Decimal(amount),
            currency="usd",
            period_start=dt.date(2026, 10, 1),
            period_end=dt.date(2026, 10, 31),
        )
        if goal:
            add_goal(con, task="tickets", budget_id=budget_id, **goal)  # type: ignore[arg-type]
    return budget_id


def metric(
    store: Store, name: str, key: str = "all", scope: str = "task"
) -> list[tuple[object, ...]]:
    return rows(
        store,
        "SELECT window_start, value, ci_low, ci_high, details FROM metrics "
        "WHERE metric = ? AND key = ? AND scope = ? ORDER BY window_start NULLS FIRST",
        [name, key, scope],
    )


def test_job_is_registered_in_pipeline_order() -> None:
    names = list(registered_jobs())
    assert names.index("metrics") < names.index("budget") < names.index("audit-sample")


def test_spend_history_reconciles_exactly_with_the_events_table(
    spending: Store, tmp_path: Path
) -> None:
    add(spending, "1000")
    result = run_job(spending, job_settings(tmp_path), registered_jobs()["budget"])
    assert result.status == "succeeded", result.error
    all_time = metric(spending, "cost.spend")[0]
    assert all_time[0] is None and json.loads(all_time[4])["amount"] == "120.0000"
    assert rows(spending, "SELECT sum(cost)::VARCHAR FROM annotation_events") == [("120.0000",)]
    daily = metric(spending, "cost.spend")[1:]
    assert [r[1] for r in daily] == [20.0] * 6
    cumulative = [json.loads(r[4])["amount"] for r in metric(spending, "cost.spend_cumulative")]
    assert cumulative[-1] == "120.0000" and cumulative[0] == "20.0000"
    kinds = {
        k: json.loads(metric(spending, "cost.spend", f"kind:{k}")[0][4])["amount"]
        for k in ("human_label", "audit", "lf_development")
    }
    assert kinds == {"human_label": "30.0000", "audit": "30.0000", "lf_development": "60.0000"}
    hours = metric(spending, "effort.hours", "annotator:dev")[0]
    assert hours[1] == pytest.approx(6.0)
    # burn rate 20/day over the 6 days; 25 days left: 120 + 500 = 620 (zero spread)
    projected = metric(spending, "budget.projected_spend", "q4")[0]
    assert projected[0] == dt.datetime(2026, 10, 6) and projected[1] == pytest.approx(620.0)
    # coverage: t1..t6 human-labeled (events) in topic, no fused labels yet
    assert metric(spending, "coverage.items", "human", scope="topic")[0][1] == 6


def test_overrun_alert_opens_then_resolves_when_the_budget_is_raised(
    spending: Store, tmp_path: Path
) -> None:
    add(spending, "500")
    run_budget(spending, job_settings(tmp_path))
    alerts = rows(spending, "SELECT metric, severity, state, message FROM alerts")
    assert [(a[0], a[1], a[2]) for a in alerts] == [("budget.projected_spend", "warning", "open")]
    assert "projected 620.00 USD" in alerts[0][3] and "exceeds 500.00" in alerts[0][3]
    add(spending, "100")  # spend (120) already beyond it: critical
    run_budget(spending, job_settings(tmp_path))
    assert rows(spending, "SELECT severity, state FROM alerts") == [("critical", "open")]
    add(spending, "2000")
    run_budget(spending, job_settings(tmp_path))
    assert rows(spending, "SELECT state FROM alerts") == [("resolved",)]
    history = rows(spending, "SELECT amount::VARCHAR FROM budget_history ORDER BY changed_at")
    assert history == [("500.0000",), ("100.0000",), ("2000.0000",)]


def test_goals_get_a_status_row_and_an_alert_when_not_on_track(
    spending: Store, tmp_path: Path
) -> None:
    add(
        spending,
        "1000",
        kind="reduce_hours",
        target=0.3,
        params={"baseline_start": "2026-10-01", "baseline_end": "2026-10-03"},
    )
    run_budget(spending, job_settings(tmp_path, budget_trailing_days=3))
    (status,) = rows(spending, "SELECT value, details FROM metrics WHERE metric = 'goal.status'")
    # the same 6.0 h/day before and after: a 0% reduction against a 30% goal
    assert status[0] == 2 and json.loads(status[1])["status"] == "off_track"
    assert rows(spending, "SELECT metric, severity FROM alerts") == [("goal.status", "critical")]


def test_a_task_without_events_or_budgets_is_skipped(tickets: Store, tmp_path: Path) -> None:
    outcome = run_budget(tickets, job_settings(tmp_path))
    assert outcome.skipped_reason == "no task has annotation events or a budget"


def test_an_empty_period_has_zero_spend_and_an_undefined_rate(
    tickets: Store, tmp_path: Path
) -> None:
    add(tickets, "100")
    run_budget(tickets, job_settings(tmp_path, budget_as_of="2026-10-05"))
    assert json.loads(metric(tickets, "budget.spent", "q4")[0][4])["amount"] == "0.0000"
    rate = metric(tickets, "budget.burn_rate", "q4")[0]
    assert rate[1] is None and json.loads(rate[4])["reason"] == "no spend in the period yet"


def test_budget_currency_must_match_the_events(spending: Store) -> None:
    error = pytest.raises(ValueError, match="currency EUR differs from task 'tickets'")
    with error, spending.transaction() as con:
        add_budget(
            con,
            task="tickets",
            name="eu",
            amount=Decimal(1),
            currency="eur",
            period_start=dt.date(2026, 10, 1),
            period_end=dt.date(2026, 10, 2),
        )
    assert rows(spending, "SELECT count(*) FROM budgets") == [(0,)]


def test_settings_budgets_sync_once_and_record_history(spending: Store, tmp_path: Path) -> None:
    spec = {
        "tickets": {
            "name": "s",
            "amount": "300",
            "currency": "USD",
            "period_start": "2026-10-01",
            "period_end": "2026-10-31",
            "goals": [{"kind": "max_cost_per_correct_label", "target": 0.5}],
        }
    }
    with spending.transaction() as con:
        assert sync_settings_budgets(con, spec) == 2
        assert sync_settings_budgets(con, spec) == 0  # unchanged: nothing written
        spec["tickets"]["amount"] = "350"
        assert sync_settings_budgets(con, spec) == 1
        (budget_id,) = con.execute("SELECT budget_id FROM budgets").fetchall()[0]
        assert [(str(h["amount"]), h["changed_by"]) for h in budget_history(con, budget_id)] == [
            ("300.0000", "settings"),
            ("350.0000", "settings"),
        ]
    error = pytest.raises(SettingsError, match=r"budget\.tickets: needs name")
    with error, spending.transaction() as con:
        sync_settings_budgets(con, {"tickets": {"amount": "1"}})


def test_report_state_matches_what_the_job_wrote(spending: Store, tmp_path: Path) -> None:
    add(spending, "1000")
    settings_ = job_settings(tmp_path)
    run_budget(spending, settings_)
    with spending.connect() as con:
        _, state = budget_state(con, "tickets", settings_)
    assert state.spent == Decimal("120.0000") and state.as_of == dt.date(2026, 10, 6)
    assert state.unit.per_human_label == pytest.approx(5.0)
    assert state.savings.manual_cost == Decimal("2.4000")  # 6 topic labels x 0.40 configured


amounts = st.decimals(min_value=0, max_value=999, places=4, allow_nan=False, allow_infinity=False)


@given(st.lists(st.tuples(amounts, st.integers(0, 3600), st.integers(1, 28)), max_size=40))
@settings(max_examples=25, deadline=None)
def test_property_ingested_spend_reconciles_to_the_cent(
    events: list[tuple[Decimal, int, int]],
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        store = Store(directory / "lw.duckdb", lock_timeout_s=10)
        with store.connect() as con:
            apply_migrations(con)
        ingest_tasks_file(store, write(directory, "tasks.toml", TICKETS_TOML))
        ingest(store, write(directory, "items.csv", ITEMS_CSV), kind="items")
        ingest(store, write(directory, "lfs.csv", LFS_CSV), kind="lfs")
        body = HEADER + "".join(
            f"a{i},review,{s},{c},2026-10-{d:02d}T{i % 24:02d}:{i // 24:02d}:00,,\n"
            for i, (c, s, d) in enumerate(events)
        )
        ingest(store, write(directory, "e.csv", body), kind="events")
        with store.connect() as con:
            task_id = task_id_of(con, "tickets")
            exact = sql_spend_total(con, task_id)
            read = read_events(con, task_id)
        assert exact == sum((c for c, _, _ in events), Decimal(0))
        assert to_money(read.cost_e4.sum()) == exact
        assert (read.seconds >= 0).all()
        run_budget(store, load_settings(env={}, overrides={"db_path": store.path}))
        if events:
            (amount,) = rows(
                store,
                "SELECT details->>'amount' FROM metrics WHERE "
                "metric = 'cost.spend' AND key = 'all' AND window_start IS NULL",
            )[0]
            assert Decimal(amount) == exact
            hours = rows(store, "SELECT min(value) FROM metrics WHERE metric = 'effort.hours'")
            assert hours[0][0] >= 0


def test_a_settings_file_defines_budgets_and_goals(spending: Store, tmp_path: Path) -> None:
    config = write(
        tmp_path,
        "labelwatch.toml",
        '[budget.tickets]\nname = "file"\namount = "90.00"\ncurrency = "USD"\n'
        'period_start = "2026-10-01"\nperiod_end = "2026-10-10"\n'
        'goals = [{ kind = "reduce_hours", target = 0.3, params = { baseline_start = '
        '"2026-10-01", baseline_end = "2026-10-02" } }]\n',
    )
    loaded = load_settings(config, env={}, overrides={"db_path": spending.path})
    run_budget(spending, loaded)
    assert rows(spending, "SELECT name, amount::VARCHAR FROM budgets") == [("file", "90.0000")]
    assert rows(spending, "SELECT kind, params->>'baseline_end' FROM goals") == [
        ("reduce_hours", "2026-10-02")
    ]
    # 120 spent of 90: exhausted on day 5 (20 a day), a critical alert names the day
    (message,) = rows(
        spending, "SELECT message FROM alerts WHERE metric = 'budget.projected_spend'"
    )[0]
    assert "exhausted on 2026-10-05" in message

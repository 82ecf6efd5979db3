"""Alert lifecycle on a real DuckDB file: open, refresh (deduplicated), resolve, reopen."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence

import pytest

from auditor.metrics.alert_rules import Condition
from auditor.store import Store
from auditor.store.alerts_io import AlertChanges, acknowledge_alert, apply_conditions, list_alerts
from auditor.store.connection import Connection

T0 = dt.datetime(2026, 10, 1, 12, 0)
ECE = ("calibration.ece", "topic", "fused")
COVERAGE = ("lf.coverage_change", "topic", "kw_bill")


def condition(
    identity: tuple[str, str, str], message: str = "bad", severity: str = "warning"
) -> Condition:
    return Condition(severity, *identity, message)


@pytest.fixture
def con(store: Store) -> Iterator[Connection]:
    """One connection per test (opening one per step would make the file slow)."""
    with store.connect() as connection:
        yield connection


def apply(
    con: Connection,
    conditions: Sequence[Condition],
    *,
    evaluated: set[tuple[str, str, str]] | None = None,
    minutes: int = 0,
    task: str | None = None,
) -> AlertChanges:
    if evaluated is None:
        evaluated = {c.identity for c in conditions}
    con.execute("BEGIN TRANSACTION")
    changes = apply_conditions(
        con, conditions, evaluated=evaluated, now=T0 + dt.timedelta(minutes=minutes), task=task
    )
    con.execute("COMMIT")
    return changes


def alerts(con: Connection) -> list[tuple[object, ...]]:
    return con.execute(
        "SELECT alert_id, metric, key, state, first_seen, last_seen, resolved_at, message, "
        "severity FROM alerts ORDER BY alert_id"
    ).fetchall()


def test_a_new_condition_opens_an_alert_and_returns_its_row(con: Connection) -> None:
    changes = apply(con, [condition(ECE, "ECE 0.081 above 0.050")], task="tickets")
    assert (changes.refreshed, changes.resolved) == (0, 0)
    [new] = changes.new
    assert new["state"] == "open" and new["first_seen"] == new["last_seen"] == T0
    assert new["task"] == "tickets" and new["acknowledged_by"] is None
    assert (new["metric"], new["scope"], new["key"]) == ECE
    assert new["message"] == "ECE 0.081 above 0.050" and new["resolved_at"] is None
    assert alerts(con) == [
        (
            new["alert_id"],
            "calibration.ece",
            "fused",
            "open",
            T0,
            T0,
            None,
            "ECE 0.081 above 0.050",
            "warning",
        )
    ]


def test_a_persisting_condition_refreshes_the_same_alert(con: Connection) -> None:
    [first] = apply(con, [condition(ECE, "ECE 0.081")]).new
    changes = apply(con, [condition(ECE, "ECE 0.090", "critical")], minutes=15)
    assert (changes.new, changes.refreshed, changes.resolved) == ([], 1, 0)
    [(alert_id, _, _, state, first_seen, last_seen, _, message, severity)] = alerts(con)
    assert alert_id == first["alert_id"] and state == "open"
    assert (first_seen, last_seen) == (T0, T0 + dt.timedelta(minutes=15))
    assert (message, severity) == ("ECE 0.090", "critical")


def test_an_acknowledged_alert_stays_acknowledged_and_is_refreshed(con: Connection) -> None:
    [first] = apply(con, [condition(ECE)]).new
    acked = acknowledge_alert(con, first["alert_id"], by="ana", now=T0)
    assert acked["state"] == "acknowledged" and acked["alert_id"] == first["alert_id"]
    assert acked["acknowledged_by"] == "ana"
    changes = apply(con, [condition(ECE, "still bad")], minutes=30)
    assert (changes.new, changes.refreshed) == ([], 1)
    [(_, _, _, state, _, last_seen, _, message, _)] = alerts(con)
    assert (state, last_seen, message) == (
        "acknowledged",
        T0 + dt.timedelta(minutes=30),
        "still bad",
    )


def test_a_cleared_condition_resolves_open_and_acknowledged_alerts(con: Connection) -> None:
    new = apply(con, [condition(ECE), condition(COVERAGE)]).new
    acknowledge_alert(con, new[1]["alert_id"], by="ana", now=T0)
    changes = apply(con, [], evaluated={ECE, COVERAGE}, minutes=60)
    assert (changes.new, changes.refreshed, changes.resolved) == ([], 0, 2)
    later = T0 + dt.timedelta(minutes=60)
    assert [(state, resolved_at) for *_, state, _, _, resolved_at, _, _ in alerts(con)] == [
        ("resolved", later),
        ("resolved", later),
    ]


def test_alerts_whose_identity_was_not_evaluated_are_left_alone(con: Connection) -> None:
    apply(con, [condition(ECE), condition(COVERAGE)])
    changes = apply(con, [], evaluated={COVERAGE}, minutes=5)
    assert changes.resolved == 1
    states = {key: (state, last_seen) for _, _, key, state, _, last_seen, *_ in alerts(con)}
    assert states == {"fused": ("open", T0), "kw_bill": ("resolved", T0)}


def test_a_condition_returning_after_resolution_opens_a_new_alert(con: Connection) -> None:
    [first] = apply(con, [condition(ECE)]).new
    apply(con, [], evaluated={ECE}, minutes=15)
    [second] = apply(con, [condition(ECE, "back again")], minutes=30).new
    assert second["alert_id"] != first["alert_id"]
    assert second["first_seen"] == T0 + dt.timedelta(minutes=30)
    assert [(state, message) for _, _, _, state, *_, message, _ in alerts(con)] == [
        ("resolved", "bad"),
        ("open", "back again"),
    ]


def test_duplicate_conditions_open_one_alert_and_the_last_wins(con: Connection) -> None:
    changes = apply(con, [condition(ECE, "first"), condition(ECE, "second")])
    assert [alert["message"] for alert in changes.new] == ["second"]
    assert len(alerts(con)) == 1


def test_a_failed_transaction_leaves_no_alert(store: Store) -> None:
    conditions = [condition(ECE), condition(COVERAGE, severity="fatal")]
    with pytest.raises(ValueError, match="severity"), store.transaction() as con:
        apply_conditions(con, conditions, evaluated=set(), now=T0)
    with store.connect() as con:
        assert alerts(con) == []


def test_list_alerts_newest_first_filtered_by_state_and_task(con: Connection) -> None:
    apply(con, [condition(ECE)], task="tickets")
    apply(con, [condition(COVERAGE)], evaluated={COVERAGE}, minutes=10, task="emails")
    apply(con, [], evaluated={ECE}, minutes=20)
    every = list_alerts(con)
    assert [a["key"] for a in every] == ["kw_bill", "fused"]
    assert set(every[0]) >= {"alert_id", "severity", "state", "first_seen", "resolved_at"}
    assert [a["key"] for a in list_alerts(con, state="resolved")] == ["fused"]
    assert [a["key"] for a in list_alerts(con, state="open")] == ["kw_bill"]
    assert list_alerts(con, state="acknowledged") == []
    assert [a["key"] for a in list_alerts(con, task="tickets")] == ["fused"]
    assert list_alerts(con, state="open", task="tickets") == []
    assert len(list_alerts(con, limit=1)) == 1
    with pytest.raises(ValueError, match="unknown alert state 'closed'"):
        list_alerts(con, state="closed")


def test_acknowledge_rejects_unknown_ids_and_non_open_alerts(con: Connection) -> None:
    [first] = apply(con, [condition(ECE)]).new
    alert_id = first["alert_id"]
    with pytest.raises(ValueError, match="no alert with id 999"):
        acknowledge_alert(con, 999, by="ana", now=T0)
    with pytest.raises(ValueError, match="needs the name"):
        acknowledge_alert(con, alert_id, by=" ", now=T0)
    acknowledge_alert(con, alert_id, by="ana", now=T0)
    with pytest.raises(ValueError, match=f"alert {alert_id} is acknowledged"):
        acknowledge_alert(con, alert_id, by="ana", now=T0)
    apply(con, [], evaluated={ECE}, minutes=5)
    with pytest.raises(ValueError, match="is resolved"):
        acknowledge_alert(con, alert_id, by="ana", now=T0)

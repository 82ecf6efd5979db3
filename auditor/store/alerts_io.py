"""alerts rows: open, refresh, resolve and acknowledge alerts (bound parameters only).

An alert's identity is (metric, scope, key). At most one alert per identity is active
(open or acknowledged); a resolved alert stays as history, and a condition that returns
after resolution opens a new alert row.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from auditor.metrics.alert_rules import Condition
from auditor.store.connection import Connection

log = logging.getLogger(__name__)

STATES = ("open", "acknowledged", "resolved")
SEVERITIES = ("info", "warning", "critical")

_ACTIVE_IDENTITIES = (
    "SELECT DISTINCT metric, scope, key FROM alerts WHERE state IN ('open', 'acknowledged')"
)
_REFRESH = """
UPDATE alerts SET last_seen = ?, message = ?, severity = ?
WHERE metric = ? AND scope = ? AND key = ? AND state IN ('open', 'acknowledged')"""
_OPEN = """
INSERT INTO alerts (task, severity, metric, scope, key, message, first_seen, last_seen, state)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'open')
RETURNING alert_id, task, severity, metric, scope, key, message, first_seen, last_seen, state,
          resolved_at, acknowledged_by"""
_RESOLVE = """
UPDATE alerts SET state = 'resolved', resolved_at = ?
WHERE metric = ? AND scope = ? AND key = ? AND state IN ('open', 'acknowledged')
RETURNING alert_id"""
_LIST = """
SELECT alert_id, task, severity, metric, scope, key, message, first_seen, last_seen, state,
       resolved_at, acknowledged_by
FROM alerts WHERE (? IS NULL OR state = ?) AND (? IS NULL OR task = ?)
ORDER BY last_seen DESC, alert_id DESC LIMIT ?"""
_ACKNOWLEDGE = """
UPDATE alerts SET state = 'acknowledged', acknowledged_by = ?
WHERE alert_id = ? AND state = 'open'
RETURNING alert_id, task, severity, metric, scope, key, message, first_seen, last_seen, state,
          resolved_at, acknowledged_by"""


@dataclass(frozen=True)
class AlertChanges:
    """new: the alert rows opened (dicts of every column, for the webhook); refreshed:
    active alerts whose condition persists; resolved: active alerts whose condition cleared."""

    new: list[dict[str, Any]] = field(default_factory=list)
    refreshed: int = 0
    resolved: int = 0


def apply_conditions(
    con: Connection,
    conditions: Iterable[Condition],
    *,
    evaluated: set[tuple[str, str, str]],
    now: datetime,
    task: str | None = None,
) -> AlertChanges:
    """Bring the alerts table in line with the conditions of one evaluation at `now`.

    Runs inside the caller's transaction: it neither begins nor commits, so call it within
    ``Store.transaction()`` to make the whole update atomic.

    - a condition whose identity has an active alert refreshes it: last_seen = now and the
      latest message and severity; an acknowledged alert stays acknowledged;
    - any other condition opens a new alert (first_seen = last_seen = now, task = task:
      the task whose metrics raised it, if given);
    - an active alert whose identity is in `evaluated` but has no condition now is
      resolved (resolved_at = now); one whose identity was not evaluated is left alone.

    When two conditions share an identity, the later one wins.
    """
    latest = {condition.identity: condition for condition in conditions}
    for condition in latest.values():
        if condition.severity not in SEVERITIES:
            raise ValueError(
                f"unknown alert severity {condition.severity!r}; one of {', '.join(SEVERITIES)}"
            )
    active: set[tuple[str, str, str]] = {
        (metric, scope, key) for metric, scope, key in con.execute(_ACTIVE_IDENTITIES).fetchall()
    }
    new: list[dict[str, Any]] = []
    for identity, condition in latest.items():
        if identity in active:
            con.execute(_REFRESH, [now, condition.message, condition.severity, *identity])
        else:
            cursor = con.execute(
                _OPEN, [task, condition.severity, *identity, condition.message, now, now]
            )
            new.extend(_dicts(cursor))
    resolved = 0
    for identity in sorted((active & evaluated) - latest.keys()):
        resolved += len(con.execute(_RESOLVE, [now, *identity]).fetchall())
    return AlertChanges(new=new, refreshed=len(latest.keys() & active), resolved=resolved)


def list_alerts(
    con: Connection, *, state: str | None = None, task: str | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    """Alerts, most recently seen first, optionally only those in one state or of one task."""
    if state is not None and state not in STATES:
        raise ValueError(f"unknown alert state {state!r}; one of {', '.join(STATES)}")
    if limit < 0:
        raise ValueError(f"limit must be >= 0, got {limit}")
    return _dicts(con.execute(_LIST, [state, state, task, task, limit]))


def acknowledge_alert(con: Connection, alert_id: int, *, by: str, now: datetime) -> dict[str, Any]:
    """Move an open alert to acknowledged, recording acknowledged_by = by; return its row.

    Raises ValueError for an unknown alert_id or an alert that is not open. The alerts
    table has no column for when it was acknowledged, so `now` is only logged.
    """
    if not by.strip():
        raise ValueError("acknowledge_alert needs the name of who acknowledges (by)")
    rows = _dicts(con.execute(_ACKNOWLEDGE, [by, alert_id]))
    if not rows:
        found = con.execute("SELECT state FROM alerts WHERE alert_id = ?", [alert_id]).fetchall()
        if not found:
            raise ValueError(f"no alert with id {alert_id}")
        raise ValueError(
            f"alert {alert_id} is {found[0][0]}; only an open alert can be acknowledged"
        )
    log.info("alert %s acknowledged by %s at %s", alert_id, by, now.isoformat())
    return rows[0]


def _dicts(cursor: Connection) -> list[dict[str, Any]]:
    names = [d[0] for d in cursor.description or []]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

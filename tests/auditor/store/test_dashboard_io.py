"""The dashboard's generic reads: metric rows by name or prefix, scope and window."""

from __future__ import annotations

import datetime as dt

from auditor.store import Store
from auditor.store.dashboard_io import read_job_runs, read_metrics, task_subtasks

DAY = dt.datetime(2026, 10, 1)


def test_read_metrics_filters_by_name_prefix_scope_and_window(tickets: Store) -> None:
    with tickets.connect() as con:
        for metric, scope, start in [
            ("lf.coverage", "topic", DAY),
            ("lf.coverage", "topic", DAY + dt.timedelta(days=1)),
            ("lf.overlap", "billing_issue", DAY),
            ("calibration.ece", "topic", None),
            ("drift.lf_votes", "topic", DAY),
        ]:
            con.execute(
                "INSERT INTO metrics (task, computed_at, metric, scope, key, window_start, value) "
                "VALUES ('tickets', now(), ?, ?, 'k', ?, 1.0)",
                [metric, scope, start],
            )
        got = read_metrics(con, task="tickets", metrics=["lf.*", "calibration.ece"])
        assert [(r["metric"], r["scope"]) for r in got] == [
            ("calibration.ece", "topic"),
            ("lf.coverage", "topic"),
            ("lf.coverage", "topic"),
            ("lf.overlap", "billing_issue"),
        ]
        topic = read_metrics(
            con, task="tickets", metrics=["lf.*"], scope="topic", since=DAY + dt.timedelta(hours=1)
        )
        assert [r["window_start"] for r in topic] == [DAY + dt.timedelta(days=1)]
        assert [
            r["metric"]
            for r in read_metrics(
                con, task="tickets", metrics=["lf.*", "calibration.*"], all_time=True
            )
        ] == ["calibration.ece"]
        assert read_metrics(con, task="other", metrics=["lf.*"]) == []
        assert task_subtasks(con) == {"tickets": ["topic", "billing_issue"]}
        assert read_job_runs(con) == []

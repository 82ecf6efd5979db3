"""Overview: the selected task's health at a glance (KPI cards), its open alerts, trends."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts_health as ch
from dashboard.charts import trend
from dashboard.data import load_health, load_metrics, load_tasks
from dashboard.session import selection, settings

ACCURACY = [
    "accuracy.label_free",
    "accuracy.audit_active_inference",
    "accuracy.audit_horvitz_thompson",
    "accuracy.audit_ppi_plus_plus",
    "accuracy.audit_random_share_wilson",
]
TASK_LEVEL = ["coverage.items", "budget.spent", "budget.projected_spend", "savings.amount"]

config = settings()
db, lock = str(config.db_path), config.lock_timeout_s
st.title("labelwatch overview")
tasks = load_tasks(db, lock)
chosen = selection()
items = load_health(db, lock, "task_item_count", task=chosen.task) if chosen.task else 0
if chosen.task not in tasks or not items:
    st.info(
        "No data yet. Build the demo workspace with `labelwatch demo`, or define a task with "
        "`labelwatch ingest tasks tasks.toml` and load items and votes with "
        "`labelwatch ingest items|lfs|votes FILE --task NAME`."
    )
    st.stop()

task = chosen.task
subtasks = [chosen.subtask] if chosen.subtask else tasks[task]
latest = load_health(db, lock, "latest_window", task=task, prefix="lf.")
since = ch.window_since(latest, chosen.window_days)
rows = load_health(db, lock, "latest_metrics", task=task, metrics=TASK_LEVEL + ACCURACY)
scopes = [f"{task}/{chosen.subtask}", f"{task}/task"] if chosen.subtask else None
n_alerts, alerts = load_health(db, lock, "open_alerts", task=task, scopes=scopes, limit=50)
st.caption(
    f"Task **{task}**, {'subtask ' + chosen.subtask if chosen.subtask else 'all subtasks'}, "
    + (f"newest metric window {latest:%Y-%m-%d}." if latest else "no metrics yet.")
)

by_metric = {(r["metric"], r["scope"]): r for r in rows}
spent, projected = (
    sorted((r for r in rows if r["metric"] == m), key=lambda r: r["key"])
    for m in ("budget.spent", "budget.projected_spend")
)
savings = by_metric.get(("savings.amount", "task"))
currency = ch.details(savings["details"]).get("currency", "") if savings else ""
cards = [*st.columns(3), *st.columns(3)]  # two rows: room for amounts with their currency
cards[0].metric("Items", f"{items:,}")
cards[1].metric(
    "Coverage",
    ch.percent(ch.coverage_share(rows, subtasks)),
    help="Share of items with a weak or human label (coverage.items), over the subtasks shown.",
)
cards[2].metric("Open alerts", f"{n_alerts:,}")
if spent:
    budget = ch.details(spent[0]["details"]).get("budget")
    cards[3].metric(
        f"Budget spent ({spent[0]['key']})",
        f"{ch.decimal(spent[0]['value'], 2)} {currency}".strip(),
        help=f"of {budget} {currency}" if budget else None,
    )
else:
    cards[3].metric("Budget spent", ch.NOT_AVAILABLE, help="`labelwatch run budget`")
if projected:
    overrun = ch.details(projected[0]["details"]).get("overrun")
    cards[4].metric(
        "Projected spend",
        f"{ch.decimal(projected[0]['value'], 2)} {currency}".strip(),
        delta="over budget" if overrun else "within budget",
        delta_color="inverse" if overrun else "normal",
    )
else:
    cards[4].metric("Projected spend", ch.NOT_AVAILABLE)
cards[5].metric(
    "Savings",
    f"{ch.decimal(savings['value'], 2)} {currency}".strip() if savings else ch.NOT_AVAILABLE,
    help="Manual labeling cost of the delivered labels minus what was spent (savings.amount).",
)

ece = load_metrics(db, lock, task, ("calibration.ece",), chosen.subtask, since, False)
st.subheader("Fused labels by subtask")
per_subtask = st.columns(max(len(subtasks), 1))
for column, subtask in zip(per_subtask, subtasks, strict=False):
    estimate, source = ch.headline_accuracy(rows, subtask)
    mine = ece[(ece["scope"] == subtask) & ece["value"].notna()]
    newest = mine.iloc[-1] if len(mine) else None
    column.metric(
        f"Fused accuracy · {subtask}",
        ch.percent(estimate["value"]) if estimate else ch.NOT_AVAILABLE,
        help=f"95% interval; {source}" if estimate else "`labelwatch run metrics`",
    )
    if estimate:
        interval = ch.percent(estimate["value"], estimate["ci_low"], estimate["ci_high"])
        column.caption(f"95% interval {interval.split('(', 1)[-1].rstrip(')')}")
    column.metric(
        f"ECE · {subtask}",
        ch.decimal(newest["value"]) if newest is not None else ch.NOT_AVAILABLE,
        help="Top-label expected calibration error against gold (calibration.ece), newest "
        "window with a value.",
    )
    column.caption(source or "No accuracy estimate yet: `labelwatch run metrics`.")

st.subheader("Open alerts")
if alerts:
    st.dataframe(pd.DataFrame(alerts), hide_index=True)
    if n_alerts > len(alerts):
        st.caption(f"The newest {len(alerts)} of {n_alerts} open alerts.")
else:
    st.caption("No open alerts.")

st.subheader("Trends")
if latest is None:
    st.info("No metrics yet. Run `labelwatch run metrics` (or `labelwatch run all`).")
    st.stop()
coverage = pd.DataFrame(
    load_health(db, lock, "coverage_by_day", task=task, subtask=chosen.subtask, since=since)
)
accuracy = load_metrics(db, lock, task, ("accuracy.label_free",), chosen.subtask, since, False)
left, right = st.columns(2)
with left:
    if len(coverage):
        st.altair_chart(
            trend(
                coverage, color="scope", title="Coverage per day", band=False, y_title="coverage"
            ),
            width="stretch",
        )
    else:
        st.caption("No fused labels yet: `labelwatch run fuse`.")
    if len(accuracy):
        st.altair_chart(
            trend(accuracy, color="scope", title="Label-free accuracy", y_title="accuracy"),
            width="stretch",
        )
with right:
    if len(ece):
        st.altair_chart(
            trend(ece, color="scope", title="ECE (calibration.ece)", y_title="ECE"), width="stretch"
        )

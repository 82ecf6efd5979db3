"""Budget: burn-down against each budget with the projection band, cost per label and per
correct label, hours by kind and annotator, savings with their assumptions, goal status."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import streamlit as st

from dashboard.charts_budget import Projection, breakdown, burndown
from dashboard.charts_quality import as_float, parse_details, window_since
from dashboard.data import load_metrics
from dashboard.session import selection

METRICS = ("budget.*", "cost.per_*", "effort.hours", "savings.*", "goal.status")
STATUS = {"on_track": "on track", "at_risk": "at risk", "off_track": "off track"}

settings = st.session_state["settings"]
chosen = selection()
st.title("Budget")
if chosen.task is None:
    st.info(
        "No data yet. Build the demo workspace with `labelwatch demo`, or define a task with "
        "`labelwatch ingest tasks tasks.toml` and load annotation events with "
        "`labelwatch ingest events FILE --task NAME`."
    )
    st.stop()

rows = load_metrics(
    str(settings.db_path), settings.lock_timeout_s, chosen.task, METRICS, scope="task"
)
if rows.empty:
    st.info(
        f"No budget metrics for {chosen.task} yet: load annotation events "
        "(`labelwatch ingest events FILE --task NAME`), set a budget with "
        "`labelwatch budget set --task T --name N --amount A --currency C --start D --end D`, "
        "then run `labelwatch run budget`."
    )
    st.stop()


def pick(metric: str, key: str = "all") -> pd.DataFrame:
    return rows[(rows["metric"] == metric) & (rows["key"] == key)]


def details(row: pd.Series) -> dict[str, object]:
    return json.loads(row["details"]) if isinstance(row["details"], str) else {}


def money(value: object) -> str:
    number = as_float(value)
    return "n/a" if number is None else f"{number:,.2f}"


def cost(value: object) -> str:
    text = money(value)
    return text if text == "n/a" else f"{text} {currency}".strip()


savings = pick("savings.amount")
currency = str(details(savings.iloc[0]).get("currency", "")) if len(savings) else ""

# --- burn-down per budget
budgets = sorted(set(rows.loc[rows["metric"] == "budget.spent_cumulative", "key"]))
if not budgets:
    st.info(
        "No budget is set for this task: `labelwatch budget set --task T --name N --amount A "
        "--currency C --start D --end D`, then `labelwatch run budget`."
    )
for name in budgets:
    st.subheader(f"Burn-down: {name}")
    cumulative = pick("budget.spent_cumulative", name)
    spent_row = pick("budget.spent", name).tail(1)
    projected_row = pick("budget.projected_spend", name).tail(1)
    burn_row = pick("budget.burn_rate", name).tail(1)
    exhaustion_row = pick("budget.days_to_exhaustion", name).tail(1)
    amount = float(str(details(cumulative.iloc[-1]).get("budget", "nan")))
    spent = (
        float(spent_row["value"].iloc[0]) if len(spent_row) else float(cumulative["value"].iloc[-1])
    )
    projection = None
    cards = st.columns(4)
    cards[0].metric("Spent", cost(spent), help=f"of {money(amount)} {currency}")
    cards[0].caption(f"{spent / amount:.0%} of {money(amount)} {currency}" if amount else "")
    if len(projected_row):
        p = projected_row.iloc[0]
        info = details(p)
        period_end = dt.datetime.fromisoformat(str(info["period_end"]))
        projection = Projection(
            as_of=pd.Timestamp(p["window_start"]).to_pydatetime(),
            spent=spent,
            period_end=period_end,
            value=float(p["value"]),
            low=None if pd.isna(p["ci_low"]) else float(p["ci_low"]),
            high=None if pd.isna(p["ci_high"]) else float(p["ci_high"]),
        )
        band = f"95% interval {money(p['ci_low'])} to {money(p['ci_high'])}"
        cards[1].metric(f"Projected by {period_end:%Y-%m-%d}", cost(p["value"]), help=band)
        cards[1].caption(f"{band} ({info.get('method')} burn rate)")
        if spent > amount:
            st.error(
                f"Budget {name} is exhausted: spent {money(spent)} of {money(amount)} {currency}."
            )
        elif info.get("overrun"):
            st.error(
                f"Budget {name} is projected to overrun: {money(p['value'])} {currency} by "
                f"{period_end:%Y-%m-%d} against {money(amount)} ({band})."
            )
        else:
            st.success(f"Budget {name} is projected to stay within {money(amount)} {currency}.")
    if len(burn_row):
        cards[2].metric("Burn rate per day", cost(burn_row["value"].iloc[0]))
    if len(exhaustion_row):
        info = details(exhaustion_row.iloc[0])
        date = info.get("exhausted_on") or info.get("date")
        cards[3].metric(
            "Exhausted on" if info.get("exhausted_on") else "Projected exhaustion",
            str(date or "not within the period"),
        )
        if info.get("earliest"):
            cards[3].caption(f"between {info['earliest']} and {info['latest']}")
    daily = pd.DataFrame(
        {"day": pd.to_datetime(cumulative["window_start"]), "spent": cumulative["value"]}
    )
    st.altair_chart(
        burndown(daily, budget=amount, projection=projection, currency=currency), width="stretch"
    )

# --- unit costs
st.subheader("Cost per label")
cols = st.columns(3)
for col, (metric, label) in zip(
    cols,
    [
        ("cost.per_human_label", "per human label"),
        ("cost.per_weak_label", "per weak label"),
        ("cost.per_correct_label", "per correct label"),
    ],
    strict=True,
):
    found = pick(metric)
    row = found.iloc[-1] if len(found) else None
    col.metric(f"Cost {label}", "n/a" if row is None else cost(row["value"]))
    if row is not None and pd.isna(row["value"]):
        col.caption(str(details(row).get("reason", "")))
    elif row is not None and pd.notna(row["ci_low"]):
        col.caption(f"95% interval {money(row['ci_low'])} to {money(row['ci_high'])}")

# --- hours by kind and annotator, in the selected window
hours = rows[(rows["metric"] == "effort.hours") & (rows["key"] != "all")]
windowed = hours[hours["window_start"].notna()]
since = window_since(windowed, chosen.window_days)
if since is None:
    hours, span = hours[hours["window_start"].isna()], "all time"
else:
    hours = windowed[pd.to_datetime(windowed["window_start"]) >= since]
    span = f"since {since:%Y-%m-%d}"
st.subheader(f"Hours by kind and annotator ({span})")
parts = hours["key"].str.split(":", n=1, expand=True) if len(hours) else None
if parts is None:
    st.caption("No annotation events in this window.")
else:
    labelled = hours.assign(group=parts[0], name=parts[1])
    split = pd.DataFrame(labelled.groupby(["group", "name"], as_index=False)["value"].sum())
    split = split.rename(columns={"value": "hours"})
    left, right = st.columns(2)
    for col, group, title in ((left, "kind", "by kind"), (right, "annotator", "by annotator")):
        mine = split[split["group"] == group]
        col.altair_chart(breakdown(mine, value="hours", title=title, unit="hours"), width="stretch")
    st.dataframe(split.sort_values(["group", "hours"], ascending=[True, False]), hide_index=True)

# --- savings
st.subheader("Savings")
if len(savings):
    s = savings.iloc[-1]
    info = details(s)
    saved_hours = pick("savings.hours")
    cols = st.columns(3)
    cols[0].metric("Savings", cost(s["value"]), help="manual cost minus actual spend")
    cols[1].metric("Manual cost", cost(info.get("manual_cost")))
    if len(saved_hours):
        cols[2].metric("Hours saved", f"{saved_hours['value'].iloc[-1]:,.1f}")
    assumptions = info.get("assumptions")
    lines = [str(a) for a in assumptions] if isinstance(assumptions, list) else []
    st.markdown("Assumptions:\n" + "\n".join(f"- {a}" for a in lines))
else:
    st.caption("No savings computed yet: `labelwatch run budget`.")

# --- goals
st.subheader("Goals")
goals = parse_details(
    rows[rows["metric"] == "goal.status"], ["status", "reason", "measured", "target"]
)
if goals.empty:
    st.caption("No goals set: `labelwatch budget goal --task T --kind K --target X`.")
else:
    goals = goals[goals["window_start"] == goals["window_start"].max()]
    table = goals.assign(goal=goals["key"], status=goals["status"].map(lambda v: STATUS.get(v, v)))
    st.dataframe(table[["goal", "status", "reason", "measured", "target"]], hide_index=True)

"""Agreement: LF pairwise kappa, Fleiss' kappa and Krippendorff's alpha over windows,
human inter-annotator agreement, cross-subtask consistency."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts_health as ch
from dashboard.charts import trend
from dashboard.data import load_health, load_metrics, load_tasks
from dashboard.session import selection, settings

GROUPS = {"": "human LFs", "auditor_": "auditors", "annotator_": "gold annotators"}
STATISTICS = ("fleiss_kappa", "krippendorff_alpha", "percent_agreement")


def who_and_statistic(metric: str) -> tuple[str, str]:
    """'agreement.auditor_fleiss_kappa' -> ('auditors', 'fleiss_kappa')."""
    name = metric.removeprefix("agreement.")
    for prefix in ("auditor_", "annotator_"):
        if name.startswith(prefix):
            return GROUPS[prefix], name.removeprefix(prefix)
    return GROUPS[""], name


config = settings()
db, lock = str(config.db_path), config.lock_timeout_s
st.title("Agreement")
tasks = load_tasks(db, lock)
chosen = selection()
if chosen.task not in tasks:
    st.info(
        "No data yet. Build the demo workspace with `labelwatch demo`, or load labeling "
        "functions, votes and gold with `labelwatch ingest lfs|votes|gold FILE --task NAME`."
    )
    st.stop()
task = chosen.task
latest = load_health(db, lock, "latest_window", task=task, prefix="lf.")
if latest is None:
    st.info("No agreement metrics yet. Run `labelwatch run metrics` (or `labelwatch run all`).")
    st.stop()
since = ch.window_since(latest, chosen.window_days)
subtasks = [chosen.subtask] if chosen.subtask else tasks[task]
windowed = ch.with_n(
    load_metrics(db, lock, task, ("agreement.*", "consistency.*"), chosen.subtask, since, False)
)
all_time = ch.with_n(
    load_metrics(db, lock, task, ("agreement.*", "annotator.*"), chosen.subtask, None, True)
)
windowed["statistic"] = windowed["metric"].str.removeprefix("agreement.")

st.subheader("Labeling functions: pairwise Cohen's kappa (all time)")
pairs = all_time[all_time["metric"] == "agreement.lf_pair_kappa"]
shown = 0
for subtask in subtasks:
    matrix = ch.pair_matrix(pairs[pairs["scope"] == subtask])
    if len(matrix):
        st.altair_chart(ch.kappa_heatmap(matrix, f"{subtask}: LF x LF kappa"), width="content")
        shown += 1
if not shown:
    st.caption("No LF pair has co-labelled items yet.")
st.caption(
    "Empty cells: the two LFs never labelled the same item, or kappa is undefined (both "
    "used one and the same label); the tooltip shows raw agreement and co-labelled items."
)
mean = windowed[windowed["metric"] == "agreement.lf_kappa_mean"]
if mean["value"].notna().any():
    st.altair_chart(
        trend(mean, color="scope", title="Mean pairwise LF kappa per window", y_title="kappa"),
        width="stretch",
    )

st.subheader("Fleiss' kappa and Krippendorff's alpha")
any_trend = False
for prefix, who in GROUPS.items():
    names = [f"agreement.{prefix}{s}" for s in STATISTICS[:2]]
    part = windowed[windowed["metric"].isin(names) & windowed["value"].notna()].copy()
    if len(part):
        part["statistic"] = part["metric"].str.removeprefix(f"agreement.{prefix}")
        st.altair_chart(ch.agreement_trend(part, f"Among {who}"), width="stretch")
        any_trend = True
if not any_trend:
    st.caption(
        "No window has items labelled by two or more people (human LFs, auditors or the "
        "annotators named on gold): import overlapping gold or audit with several auditors."
    )

st.subheader("Human inter-annotator agreement (all time)")
human = all_time[
    all_time["metric"].isin([f"agreement.{p}{s}" for p in GROUPS for s in STATISTICS])
].copy()
if len(human):
    split = [who_and_statistic(m) for m in human["metric"]]
    human["who"], human["statistic"] = [w for w, _ in split], [s for _, s in split]
    st.dataframe(
        human[["scope", "who", "statistic", "value", "ci_low", "ci_high", "n", "reason"]],
        hide_index=True,
    )
else:
    st.caption("No item has labels from two or more people yet.")
people = all_time[all_time["metric"].isin(["annotator.spot_check_accuracy", "annotator.accuracy"])]
if len(people):
    st.markdown("**Each person's accuracy** (spot checks against auditors; human LFs on gold)")
    st.dataframe(
        people[["metric", "scope", "key", "value", "ci_low", "ci_high", "n", "reason"]],
        hide_index=True,
        column_config={"key": st.column_config.TextColumn("person")},
    )
audit = windowed[
    (windowed["metric"] == "agreement.model_vs_audit_kappa") & windowed["value"].notna()
]
if len(audit):
    st.altair_chart(
        trend(audit, color="scope", title="Fused labels vs auditors (Cohen's kappa)"),
        width="stretch",
    )
else:
    st.caption("Fused labels vs auditors: no audited labels yet (`labelwatch audit sample`).")

st.subheader("Cross-subtask consistency")
consistency = windowed[windowed["metric"] == "consistency.cross_subtask"]
if len(consistency):
    st.caption(
        "Share of a refinement's labelled items whose parent's fused label is the one it "
        "refines (key: the parent subtask)."
    )
    st.altair_chart(
        trend(consistency, color="scope", title="Consistency with the parent subtask"),
        width="stretch",
    )
    pooled = pd.DataFrame(
        [
            {
                "subtask": s,
                "parent": g["key"].iloc[0],
                "items": int(g["n"].fillna(0).sum()),
                "newest": g["value"].iloc[-1],
            }
            for s, g in consistency.groupby("scope")
        ]
    )
    st.dataframe(pooled, hide_index=True)
else:
    st.caption("No refinement subtask in this selection (consistency applies to child subtasks).")

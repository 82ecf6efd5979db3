"""Audit queue (auditors and admins): the next open item of the selected task, its fused
labels and LF votes, the corrected label per subtask following the decomposition, note,
skip; the auditor's progress; for admins, the disputes to adjudicate.

Time spent is the seconds between the item being first shown in this session and the
submission (kept in session_state). Skip only moves on in this session: the queue entry
stays open for others (an unanswered entry is not marked, so the round's estimates
treat it as not yet audited). Writes go through dashboard.writes (role checked there).
"""

from __future__ import annotations

import time
from typing import Any

import pandas as pd
import streamlit as st

from auditor.audit.submissions import SubmissionError
from auditor.auth import PermissionDeniedError
from dashboard.charts_audit import contributions_bar, probabilities_bar
from dashboard.data import (
    clear_audit_cache,
    load_audit_item,
    load_audit_progress,
    load_disputes,
    load_next_audit_item,
)
from dashboard.session import current_user, selection, settings
from dashboard.writes import adjudicate_dispute, submit_audit

NO_ROUND = (
    "No audit round yet for this task: `labelwatch audit sample` (or the audit-sample job "
    "of `labelwatch run all`) draws one."
)
NO_DATA = (
    "No data yet. Build the demo workspace with `labelwatch demo`, or load a task with "
    "`labelwatch ingest tasks|items|lfs|votes ...`, then `labelwatch run all`."
)
MAX_DISPUTES = 25

config = settings()
db, lock = str(config.db_path), config.lock_timeout_s
user = current_user()
st.title("Audit queue")
if user is None or not user.can("auditor"):  # the router hides the page; refuse anyway
    st.error("The audit queue needs the auditor role.")
    st.stop()
task = selection().task
if task is None:
    st.info(NO_DATA)
    st.stop()


def show_progress(progress: dict[str, Any]) -> None:
    cols = st.columns(4)
    cols[0].metric("Audited by you (this round)", f"{progress['audited_this_round']:,}")
    cols[1].metric("Audited by you (total)", f"{progress['audited_total']:,}")
    cols[2].metric("Open items in round", f"{progress['round_open_items']:,}")
    cols[3].metric("Your audit time", f"{progress['seconds_total'] / 60:.1f} min")


def show_content(item: dict[str, Any]) -> None:
    with st.container(border=True):
        st.markdown(f"**{item['item']}**")
        if item["text"]:
            st.text(item["text"])
        else:
            st.caption("This item has no text attribute.")
        others = {k: v for k, v in item["attributes"].items() if k != "text"}
        if others:
            st.caption("  ·  ".join(f"{k}: {v}" for k, v in others.items()))


def show_subtask(sub: dict[str, Any], item_id: int, chosen: dict[str, str]) -> str:
    """Explain one subtask and return the auditor's label for it."""
    refines = f" (refines {sub['parent']} = {sub['parent_label']})" if sub["parent"] else ""
    st.subheader(f"{sub['subtask']}{refines}")
    entry = sub["entry"]
    if entry is not None:
        st.caption(
            f"Round {entry['round_id']} · {entry['strategy']} score {entry['score']:.3f} · "
            f"stratum {entry['stratum']} · {entry['state']}"
        )
    left, right = st.columns([2, 3])
    labels = sub["labels"]
    with left:
        fused = sub["fused_label"]
        if fused is None:
            st.caption("No fused label yet: `labelwatch run fuse`.")
        else:
            top = (sub["probabilities"] or {}).get(fused)
            st.metric("Fused label", fused, f"p = {top:.3f}" if top is not None else None)
        default = labels.index(fused) if fused in labels else 0
        label = st.radio(
            f"Corrected {sub['subtask']}",
            labels,
            index=default,
            horizontal=True,
            key=f"audit_label_{item_id}_{sub['subtask']}",
            help="Tab to the choice, arrow keys to change it.",
        )
    with right:
        if sub["probabilities"]:
            st.altair_chart(probabilities_bar(sub["probabilities"], labels))
        votes = sub["votes"]
        if votes:
            frame = pd.DataFrame(votes)[["lf", "label", "confidence", "contribution"]]
            st.dataframe(
                frame.rename(columns={"label": "vote"}),
                hide_index=True,
                column_config={
                    "contribution": st.column_config.NumberColumn(
                        "contribution", format="%+.3f", help="log-odds fused vs runner-up"
                    )
                },
            )
            if frame["contribution"].notna().any():
                st.altair_chart(contributions_bar(votes, labels))
        else:
            st.caption("No LF voted on this subtask for this item.")
    chosen[sub["subtask"]] = str(label)
    return str(label)


def queue_view(progress: dict[str, Any]) -> None:
    assert user is not None and task is not None
    flash = st.session_state.pop("audit_flash", None)
    if flash:
        st.success(flash)
    skipped: list[int] = st.session_state.setdefault("audit_skipped", [])
    found = load_next_audit_item(db, lock, task, user.username, tuple(skipped))
    if progress["round_id"] is None:
        st.info(NO_ROUND)
        return
    if found is None:
        st.success("Nothing left for you in the queue of this task.")
        if skipped and st.button(f"Show the {len(skipped)} skipped item(s) again"):
            skipped.clear()
            st.rerun()
        return
    item = load_audit_item(db, lock, found["item_id"])
    if item is None:
        st.warning("The next queue item is gone; reload the page.")
        return
    item_id = item["item_id"]
    shown = st.session_state.get("audit_shown")
    if not shown or shown[0] != item_id:
        st.session_state["audit_shown"] = (item_id, time.time())
    st.caption(f"{found['open_items']:,} open item(s) left for you · next by sampling score")
    show_content(item)
    chosen: dict[str, str] = {}
    subs = []  # stage-1 subtasks, then each refinement whose parent got the label it refines
    for sub in item["subtasks"]:
        if sub["parent"] is None or chosen.get(sub["parent"]) == sub["parent_label"]:
            show_subtask(sub, item_id, chosen)
            subs.append(sub)
    queued_elsewhere = [
        s["subtask"]
        for s in item["subtasks"]
        if s["entry"] is not None and s["subtask"] not in chosen
    ]
    if queued_elsewhere:
        st.caption(
            f"Queued for {', '.join(queued_elsewhere)}, which your labels rule out; that entry "
            "stays open for other auditors."
        )
    note = st.text_input("Note (optional)", key=f"audit_note_{item_id}")
    left, right = st.columns([1, 5])
    submit = left.button("Submit", type="primary", shortcut="Ctrl+Enter")
    skip = right.button("Skip", shortcut="Alt+S")
    if skip:
        skipped.append(item_id)
        st.session_state.pop("audit_shown", None)
        st.rerun()
    if submit:
        started = st.session_state["audit_shown"][1]
        seconds = max(time.time() - started, 0.0)
        try:
            report = submit_audit(
                config,
                task=task,
                item=item["item"],
                labels=[(s["subtask"], chosen[s["subtask"]]) for s in subs],
                seconds=seconds,
                note=note.strip() or None,
                allow_outside_queue=any(s["entry"] is None for s in subs),
            )
        except PermissionDeniedError as exc:
            st.error(f"Refused: {exc}.")
            return
        except SubmissionError as exc:
            st.error(str(exc))
            return
        st.session_state.pop("audit_shown", None)
        clear_audit_cache()
        message = (
            f"Recorded {report.corrections} label(s) for {item['item']} in {seconds:.0f} s; "
            f"{report.queue_entries_closed} queue entr"
            + ("y" if report.queue_entries_closed == 1 else "ies")
            + " closed."
        )
        if report.needs_adjudication:
            message += " Auditors now disagree on it: an admin adjudicates."
        st.session_state["audit_flash"] = message
        st.rerun()


def adjudication_view() -> None:
    assert task is not None
    disputes, labels = load_disputes(db, lock, task)
    if not disputes:
        st.info("No disputes: every item's auditors agree (or an admin has decided).")
        return
    st.caption(f"{len(disputes):,} item(s) need a decision; the latest decision is final.")
    for d in disputes[:MAX_DISPUTES]:
        key = f"{d['item']}_{d['subtask']}"
        with st.container(border=True):
            st.markdown(f"**{d['item']}** · {d['subtask']}")
            st.caption("  ·  ".join(f"{who}: {label}" for who, label in d["labels"].items()))
            options = labels.get(d["subtask"], [])
            label = st.radio("Decision", options, horizontal=True, key=f"adj_label_{key}")
            note = st.text_input("Note", key=f"adj_note_{key}")
            if st.button("Decide", key=f"adj_go_{key}"):
                try:
                    row = adjudicate_dispute(
                        config,
                        task=task,
                        item=d["item"],
                        subtask=d["subtask"],
                        label=str(label),
                        note=note.strip() or None,
                    )
                except (PermissionDeniedError, SubmissionError) as exc:
                    st.error(str(exc))
                    continue
                clear_audit_cache()
                st.session_state["audit_flash"] = (
                    f"{row['item']}/{row['subtask']}: {row['label']} "
                    f"(adjudication #{row['adjudication_id']})"
                )
                st.rerun()


progress = load_audit_progress(db, lock, task, user.username)
if progress is None:
    st.info(NO_DATA)
    st.stop()
show_progress(progress)
if user.can("admin"):
    queue_tab, adjudication_tab = st.tabs(["Queue", "Adjudication"])
    with queue_tab:
        queue_view(progress)
    with adjudication_tab:
        adjudication_view()
else:
    queue_view(progress)

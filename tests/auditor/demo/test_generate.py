"""Tests for the deterministic demo workspace generator."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.demo import _catalog as cat
from auditor.demo.generate import (
    EVENT_COLUMNS,
    GOLD_COLUMNS,
    ITEM_COLUMNS,
    LF_COLUMNS,
    TRUTH_COLUMNS,
    VOTE_COLUMNS,
    DemoWorkspace,
    generate_demo,
)

START = dt.date(2026, 10, 1)
FRAMES = ("lfs", "items", "votes", "gold", "events", "truth")


@pytest.fixture(scope="module")
def ws() -> DemoWorkspace:
    return generate_demo()  # 20,000 items: also the build-time smoke test


def _label_sets(ws: DemoWorkspace) -> dict[str, list[str]]:
    return {s["name"]: s["labels"] for s in ws.task_definition["subtasks"]}


def _parents(ws: DemoWorkspace) -> dict[str, str]:
    return {s["name"]: s["parent_label"] for s in ws.task_definition["subtasks"] if "parent" in s}


def _item_day(ws: DemoWorkspace) -> pd.Series:
    created = ws.items.set_index("item")["created_at"]
    return (created - pd.Timestamp(START)).dt.days


def _topic_truth(ws: DemoWorkspace) -> pd.Series:
    t = ws.truth[ws.truth["subtask"] == "topic"]
    return t.set_index("item")["label"]


def _with_truth(ws: DemoWorkspace) -> pd.DataFrame:
    v = ws.votes.merge(ws.truth, on=["item", "subtask"], how="left", suffixes=("", "_true"))
    v["day"] = _item_day(ws).loc[v["item"]].to_numpy()
    return v


def _spend(costs: pd.Series) -> Decimal:
    return sum((Decimal(c) for c in costs), Decimal(0))


# --- determinism -----------------------------------------------------------------------


def test_same_seed_gives_identical_workspace() -> None:
    a, b = generate_demo(n_items=3000, seed=7), generate_demo(n_items=3000, seed=7)
    for name in FRAMES:
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    assert a.budget == b.budget
    assert a.goals == b.goals
    assert a.drift == b.drift
    assert a.task_definition == b.task_definition


def test_different_seed_gives_different_data() -> None:
    a, b = generate_demo(n_items=3000, seed=1), generate_demo(n_items=3000, seed=2)
    for name in ("items", "votes", "gold", "events", "truth"):
        assert not getattr(a, name).equals(getattr(b, name)), name
    assert a.budget["amount"] != b.budget["amount"]


def test_task_definition_is_not_shared_between_calls() -> None:
    a = generate_demo(n_items=100)
    a.task_definition["subtasks"][0]["labels"].append("spam")
    assert "spam" not in generate_demo(n_items=100).task_definition["subtasks"][0]["labels"]


# --- shape -----------------------------------------------------------------------------


def test_columns_and_sizes(ws: DemoWorkspace) -> None:
    assert ws.task == "support_tickets"
    assert list(ws.lfs.columns) == LF_COLUMNS
    assert list(ws.items.columns) == ITEM_COLUMNS
    assert list(ws.votes.columns) == VOTE_COLUMNS
    assert list(ws.gold.columns) == GOLD_COLUMNS
    assert list(ws.events.columns) == EVENT_COLUMNS
    assert list(ws.truth.columns) == TRUTH_COLUMNS
    assert len(ws.items) == 20_000
    assert ws.items["item"].is_unique
    assert ws.items["item"].str.fullmatch(r"T\d{6}").all()
    assert (ws.items["split"] == "train").all()
    assert set(ws.items["channel"]) == {"email", "chat", "phone"}
    assert set(ws.items["customer_tier"]) == {"free", "pro", "enterprise"}
    assert (ws.items["text_length"] == ws.items["text"].str.len()).all()
    assert (ws.items["text"].str.len() > 5).all()
    created = ws.items["created_at"]
    assert created.min() >= pd.Timestamp(START)
    assert created.max() < pd.Timestamp(START + dt.timedelta(days=35))
    assert created.is_monotonic_increasing
    assert ws.users == [("admin", "admin"), ("auditor", "auditor"), ("viewer", "viewer")]
    assert 40_000 < len(ws.votes) < 80_000


def test_task_definition_shape(ws: DemoWorkspace) -> None:
    d = ws.task_definition
    assert d["name"] == ws.task and d["description"]
    topic, *stage2 = d["subtasks"]
    assert topic["name"] == "topic" and "parent" not in topic
    assert len(topic["labels"]) == 5
    assert len(stage2) == 2
    assert {s["parent_label"] for s in stage2} == {"billing", "technical"}
    for s in d["subtasks"]:
        assert Decimal(s["manual_cost_per_label"]) > 0
        assert len(set(s["labels"])) == len(s["labels"])
        assert s.get("parent", "topic") == "topic"


def test_lfs_catalogue(ws: DemoWorkspace) -> None:
    lfs = ws.lfs
    assert 18 <= len(lfs) <= 22
    assert lfs["lf"].is_unique
    assert set(lfs["kind"]) <= {"heuristic", "pattern", "distant", "model"}
    assert all(isinstance(v, str) and v.isdigit() for v in lfs["version"])
    assert lfs["active"].dtype == bool
    per_subtask = lfs["subtask"].value_counts()
    assert per_subtask["topic"] > len(lfs) / 2
    assert per_subtask["billing_issue"] >= 3 and per_subtask["technical_issue"] >= 3
    assert set(ws.votes["lf"]) == set(lfs["lf"])
    # Each vote is on its LF's subtask.
    lf_subtask = lfs.set_index("lf")["subtask"]
    assert (ws.votes["subtask"].to_numpy() == lf_subtask.loc[ws.votes["lf"]].to_numpy()).all()


# --- keys and values -------------------------------------------------------------------


def test_no_duplicate_keys(ws: DemoWorkspace) -> None:
    assert not ws.votes.duplicated(["item", "lf", "subtask"]).any()
    assert not ws.gold.duplicated(["item", "subtask", "annotator"]).any()
    assert not ws.events.duplicated(["annotator", "item", "subtask", "kind", "at"]).any()
    assert not ws.truth.duplicated(["item", "subtask"]).any()


def test_labels_within_label_sets(ws: DemoWorkspace) -> None:
    sets = _label_sets(ws)
    for name in ("votes", "gold", "truth"):
        frame = getattr(ws, name)
        assert set(frame["subtask"]) == set(sets), name
        for subtask, labels in frame.groupby("subtask")["label"]:
            assert set(labels) <= set(sets[str(subtask)]), (name, subtask)


def test_confidences(ws: DemoWorkspace) -> None:
    conf = ws.votes.groupby("lf")["confidence"]
    with_conf = {lf for lf, c in conf if c.notna().all()}
    without = {lf for lf, c in conf if c.isna().all()}
    assert with_conf | without == set(ws.lfs["lf"])  # an LF reports always or never
    assert with_conf == {s.name for s in cat.LF_SPECS if s.confidence}
    assert 3 <= len(with_conf) < len(ws.lfs) / 2
    c = ws.votes["confidence"].dropna()
    assert c.between(0, 1).all()
    # Confidences are informative: higher on correct votes.
    v = _with_truth(ws).dropna(subset=["confidence", "label_true"])
    right = v["label"] == v["label_true"]
    assert v.loc[right, "confidence"].mean() > v.loc[~right, "confidence"].mean() + 0.1


def test_vote_times_follow_item_creation(ws: DemoWorkspace) -> None:
    created = ws.items.set_index("item")["created_at"].loc[ws.votes["item"]].to_numpy()
    lag = ws.votes["voted_at"].to_numpy() - created
    assert (lag >= np.timedelta64(0)).all()
    assert (lag <= np.timedelta64(7, "h")).all()


def test_truth_covers_items_and_parent_relation(ws: DemoWorkspace) -> None:
    topic = _topic_truth(ws)
    assert set(topic.index) == set(ws.items["item"])
    for subtask, parent in _parents(ws).items():
        items = set(ws.truth.loc[ws.truth["subtask"] == subtask, "item"])
        assert items == set(topic.index[topic == parent]), subtask


def test_stage2_votes_mostly_under_parent(ws: DemoWorkspace) -> None:
    topic = _topic_truth(ws)
    for subtask, parent in _parents(ws).items():
        v = ws.votes[ws.votes["subtask"] == subtask]
        under = (topic.loc[v["item"]] == parent).mean()
        assert 0.93 <= under < 1.0, (subtask, under)  # a few mistaken fires elsewhere


def test_polarity_mix(ws: DemoWorkspace) -> None:
    n_labels = ws.votes.groupby("lf")["label"].nunique()
    assert (n_labels == 1).sum() >= len(ws.lfs) / 2
    assert ((n_labels >= 2) & (n_labels <= 3)).sum() >= 3


# --- LF quality against the design -----------------------------------------------------


def test_lf_coverage_and_accuracy_match_design(ws: DemoWorkspace) -> None:
    v = _with_truth(ws)
    day = _item_day(ws)
    before = ws.drift["collapse_day"]  # before any drift the design prior holds
    v = v[(v["day"] < before) & v["label_true"].notna()]
    topic = _topic_truth(ws)
    early = day.index[day < before]
    for spec in cat.LF_SPECS:
        d = v[v["lf"] == spec.name]
        if spec.subtask == "topic":
            n_scope = len(early)
        else:
            n_scope = int((topic.loc[early] == _parents(ws)[spec.subtask]).sum())
        coverage = len(d) / n_scope
        accuracy = (d["label"] == d["label_true"]).mean()
        assert abs(coverage - spec.coverage) < max(0.02, 0.15 * spec.coverage), spec.name
        sd = (spec.accuracy * (1 - spec.accuracy) / len(d)) ** 0.5
        assert abs(accuracy - spec.accuracy) < 4 * sd + 0.01, (spec.name, accuracy)
        if spec.name != cat.BAD_LF:
            assert 0.02 <= coverage <= 0.65 and 0.5 <= accuracy <= 0.97, spec.name


def test_worse_than_chance_lf(ws: DemoWorkspace) -> None:
    bad = ws.drift["worse_than_chance_lf"]
    v = _with_truth(ws)
    d = v[v["lf"] == bad]
    k = len(_label_sets(ws)[d["subtask"].iloc[0]])
    accuracy = (d["label"] == d["label_true"]).mean()
    assert len(d) > 500
    assert accuracy < 0.75 / k
    # Systematic: it mostly fires on one wrong class.
    assert d["label_true"].value_counts(normalize=True).iloc[0] > 0.7


def test_correlated_lfs(ws: DemoWorkspace) -> None:
    first, second = ws.drift["correlated_lfs"]
    v = ws.votes.set_index(["item", "subtask"])
    a, b = v[v["lf"] == first]["label"], v[v["lf"] == second]["label"]
    both = a.to_frame("a").join(b.to_frame("b"), how="inner")
    assert len(both) / len(a) > 0.85  # the second fires on most of the first's items
    assert (both["a"] == both["b"]).all()  # with the same vote
    # An unrelated LF of similar coverage overlaps far less.
    c = v[v["lf"] == "kw_refund"]["label"]
    assert len(a.index.intersection(c.index)) / len(a) < 0.5


# --- drift -----------------------------------------------------------------------------


def test_coverage_collapse(ws: DemoWorkspace) -> None:
    lf, day0 = ws.drift["collapsed_lf"], ws.drift["collapse_day"]
    assert ws.lfs.set_index("lf").loc[lf, "subtask"] == "topic"
    day = _item_day(ws)
    fired = set(ws.votes.loc[ws.votes["lf"] == lf, "item"])
    covered = day.index.isin(list(fired))
    before = covered[(day >= day0 - 7) & (day < day0)].mean()
    after = covered[day >= day0].mean()
    assert before > 0.25  # a high-coverage LF...
    assert after < 0.1 * before  # ...that goes nearly silent
    assert ws.drift["collapse_date"] == START + dt.timedelta(days=day0)


def test_prior_shift(ws: DemoWorkspace) -> None:
    cls, day0 = ws.drift["shifted_class"], ws.drift["shift_day"]
    assert 20 <= day0 <= 25 and 20 <= ws.drift["collapse_day"] <= 25
    day = _item_day(ws)
    topic = _topic_truth(ws).loc[day.index]
    before = (topic[(day < day0).to_numpy()] == cls).mean()
    after = (topic[(day >= day0).to_numpy()] == cls).mean()
    assert 1.6 < after / before < 2.5
    assert abs(before - ws.drift["prior_before"][cls]) < 0.02
    # The topic prior is imbalanced throughout.
    shares = topic.value_counts(normalize=True)
    assert shares.max() > 3 * shares.min()


def test_weekday_pattern(ws: DemoWorkspace) -> None:
    per_day = ws.items.groupby(ws.items["created_at"].dt.normalize()).size()
    dayofweek = pd.DatetimeIndex(per_day.index).dayofweek.to_numpy()
    weekend = per_day[dayofweek >= 5]
    weekday = per_day[dayofweek < 5]
    assert len(per_day) == 35
    assert weekend.mean() < 0.6 * weekday.mean()


# --- gold, events, budget --------------------------------------------------------------


def test_gold(ws: DemoWorkspace) -> None:
    gold = ws.gold
    assert 0.02 < gold["item"].nunique() / len(ws.items) < 0.04
    assert 4 <= gold["annotator"].nunique() <= 6
    assert gold["item"].nunique() < (gold["subtask"] == "topic").sum()  # some double-labelled
    g = gold.merge(ws.truth, on=["item", "subtask"], how="left", suffixes=("", "_true"))
    assert g["label_true"].notna().all()  # stage-2 gold only where the subtask applies
    wrong = (g["label"] != g["label_true"]).groupby(g["annotator"]).agg(["mean", "size"])
    design = {a.name: a.error_rate for a in cat.ANNOTATORS}
    for annotator, (rate, n) in wrong.iterrows():
        p = design[str(annotator)]
        assert 0.02 <= p <= 0.12
        assert n >= 50 and 0.0 <= rate <= 0.25, annotator
        assert abs(rate - p) < 4 * (p * (1 - p) / n) ** 0.5 + 0.01, (annotator, rate)
    assert wrong["mean"].mean() > 0.01  # gold is slightly noisy
    created = ws.items.set_index("item")["created_at"].loc[gold["item"]].to_numpy()
    assert (gold["submitted_at"].to_numpy() >= created).all()
    # An annotator labels the stage-2 subtask in the same sitting, after the topic.
    keys = ["item", "annotator"]
    topic = gold[gold["subtask"] == "topic"].set_index(keys)["submitted_at"]
    stage2 = gold[gold["subtask"] != "topic"].set_index(keys)["submitted_at"]
    gap = stage2 - topic.loc[stage2.index]
    assert (gap >= pd.Timedelta(0)).all() and (gap < pd.Timedelta(minutes=30)).all()


def test_events(ws: DemoWorkspace) -> None:
    ev = ws.events
    assert set(ev["kind"]) == {"human_label", "lf_development", "review"}
    assert (ev["currency"] == "USD").all()
    assert ev["cost"].str.fullmatch(r"\d+\.\d{4}").all()
    assert (ev["seconds"] >= 0).all()
    labels = ev[ev["kind"] == "human_label"]
    keys = ["annotator", "item", "subtask"]
    joined = labels.merge(ws.gold, on=keys, how="outer", indicator=True)
    assert (joined["_merge"] == "both").all() and len(labels) == len(ws.gold)
    assert (joined["at"] == joined["submitted_at"]).all()
    rate = {a.name: a.hourly_rate for a in cat.ANNOTATORS}
    expected = labels["seconds"] / 3600 * labels["annotator"].map(rate)
    assert np.allclose(labels["cost"].astype(float), expected, atol=1e-4)
    assert labels["seconds"].median() < 120
    dev = ev[ev["kind"] == "lf_development"]
    assert len(dev) >= 5
    assert dev["item"].isna().all() and dev["subtask"].isna().all()
    assert dev["seconds"].between(3600, 4 * 3600).all()
    review = ev[ev["kind"] == "review"]
    assert 0 < len(review) < len(labels) / 4
    assert set(review["item"]) <= set(ws.gold["item"])
    assert ev["at"].max() < pd.Timestamp(START + dt.timedelta(days=35))


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_budget_projects_an_overrun(seed: int) -> None:
    ws = generate_demo(seed=seed)
    budget = ws.budget
    assert set(budget) == {"name", "amount", "currency", "period_start", "period_end"}
    assert budget["currency"] == "USD"
    as_of = START + dt.timedelta(days=34)
    assert budget["period_start"] == START and budget["period_end"] > as_of
    ev = ws.events
    spent = _spend(ev["cost"])
    recent = _spend(ev.loc[ev["at"] >= pd.Timestamp(as_of - dt.timedelta(days=9)), "cost"])
    projected = spent + recent / 10 * (budget["period_end"] - as_of).days
    amount = Decimal(budget["amount"])
    assert spent < amount < projected
    assert Decimal("1.1") <= projected / amount <= Decimal("1.3")
    # Spending speeds up late in the period.
    early = _spend(ev.loc[ev["at"] < pd.Timestamp(START + dt.timedelta(days=25)), "cost"])
    assert recent / 10 > early / 25


def test_goals_users_and_drift(ws: DemoWorkspace) -> None:
    kinds = [g["kind"] for g in ws.goals]
    assert sorted(kinds) == ["accuracy_within_budget", "max_cost_per_correct_label", "reduce_hours"]
    for goal in ws.goals:
        assert isinstance(goal["target"], float) and isinstance(goal["params"], dict)
    reduce = next(g for g in ws.goals if g["kind"] == "reduce_hours")["params"]
    assert dt.date.fromisoformat(reduce["baseline_start"]) == START
    assert dt.date.fromisoformat(reduce["baseline_end"]) > START
    assert ws.drift["collapsed_lf"] in set(ws.lfs["lf"])
    assert ws.drift["shifted_class"] in _label_sets(ws)["topic"]
    assert re.fullmatch(r"\d+\.\d{2}", ws.budget["amount"])


# --- parameters ------------------------------------------------------------------------


def test_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError):
        generate_demo(n_items=0)
    with pytest.raises(ValueError):
        generate_demo(days=13)


@settings(max_examples=10, deadline=None)
@given(
    n_items=st.integers(1, 2500),
    seed=st.integers(0, 2**32 - 1),
    days=st.integers(14, 60),
    offset=st.integers(0, 400),
)
def test_invariants_hold_for_any_parameters(
    n_items: int, seed: int, days: int, offset: int
) -> None:
    start = START + dt.timedelta(days=offset)
    ws = generate_demo(n_items=n_items, seed=seed, start=start, days=days)
    assert len(ws.items) == n_items
    end = pd.Timestamp(start + dt.timedelta(days=days))
    assert ws.items["created_at"].between(pd.Timestamp(start), end, inclusive="left").all()
    assert ws.events["at"].lt(end).all()
    assert not ws.votes.duplicated(["item", "lf", "subtask"]).any()
    assert not ws.gold.duplicated(["item", "subtask", "annotator"]).any()
    assert not ws.events.duplicated(["annotator", "item", "subtask", "kind", "at"]).any()
    sets = _label_sets(ws)
    for frame in (ws.votes, ws.gold, ws.truth):
        for subtask, labels in frame.groupby("subtask")["label"]:
            assert set(labels) <= set(sets[str(subtask)])
    assert Decimal(ws.budget["amount"]) >= _spend(ws.events["cost"])
    assert ws.budget["period_end"] > start + dt.timedelta(days=days - 1)

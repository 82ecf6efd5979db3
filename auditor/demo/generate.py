"""Deterministic demo workspace: a decomposed support-ticket labeling project.

`generate_demo` builds items, LF votes, noisy human gold, annotation cost events, the ground
truth, a budget and goals for the `support_tickets` task, with drift injected on the
timeline: one high-coverage topic LF collapses and the topic prior shifts. Pure computation:
nothing is read or written, and all randomness comes from `numpy.random.default_rng(seed)`.
The design it aims at lives in `auditor.demo._catalog`.
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from auditor.demo import _catalog as cat
from auditor.demo._votes import COLLAPSE_FACTOR, VOTE_COLUMNS, World, simulate_votes, subtask_truth
from auditor.demo._votes import S as _S

__all__ = [
    "EVENT_COLUMNS",
    "GOLD_COLUMNS",
    "ITEM_COLUMNS",
    "LF_COLUMNS",
    "TRUTH_COLUMNS",
    "VOTE_COLUMNS",
    "DemoWorkspace",
    "generate_demo",
]

LF_COLUMNS = ["lf", "subtask", "kind", "version", "description", "owner", "active"]
ITEM_COLUMNS = ["item", "split", "created_at", "channel", "customer_tier", "text_length", "text"]
GOLD_COLUMNS = ["item", "subtask", "label", "annotator", "submitted_at"]
EVENT_COLUMNS = ["annotator", "item", "subtask", "kind", "seconds", "cost", "currency", "at"]
TRUTH_COLUMNS = ["item", "subtask", "label"]

CURRENCY = "USD"
BUDGET_NAME = "Q4 annotation"
GOLD_SHARE = 0.03  # share of items that get human gold
GOLD_RAMP = 2.2  # gold labeling rate multiplier over the last RAMP_DAYS days
RAMP_DAYS = 10
SECOND_OPINION = 0.15  # share of gold items labelled by a second annotator
REVIEW_SHARE = 0.10  # share of gold items the reviewer looks at
DEV_SHARE = (0.2, 0.4)  # share of weekdays each developer works on LFs, before/after collapse
BUDGET_TAIL_DAYS = 25  # the budget period runs this many days past the generated data
OVERRUN = Decimal("1.2")  # projected spend at period end / budget amount

_DAY = 86_400


@dataclass(frozen=True, eq=False)
class DemoWorkspace:
    """Everything a demo needs; frames use the *_COLUMNS of this module, labels as names."""

    task: str
    task_definition: dict[str, Any]
    lfs: pd.DataFrame
    items: pd.DataFrame
    votes: pd.DataFrame
    gold: pd.DataFrame
    events: pd.DataFrame
    truth: pd.DataFrame
    budget: dict[str, Any]
    goals: list[dict[str, Any]]
    users: list[tuple[str, str]]
    drift: dict[str, Any]


def _draw_rows(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One categorical draw per row of `probs` (rows sum to 1)."""
    cum = np.cumsum(probs, axis=1)
    u = rng.random(probs.shape[0]) * cum[:, -1]
    return np.minimum((u[:, None] >= cum).sum(axis=1), probs.shape[1] - 1)


def _shifted_prior() -> np.ndarray:
    prior = np.array(cat.TOPIC_PRIOR)
    j = cat.TOPIC_LABELS.index(cat.SHIFTED_CLASS)
    new = prior[j] * cat.SHIFT_FACTOR
    after = prior * (1 - new) / (1 - prior[j])
    after[j] = new
    return after


def _items(
    rng: np.random.Generator, n: int, start: dt.date, days: int, shift_day: int
) -> tuple[World, pd.DataFrame]:
    weekday = np.array([(start + dt.timedelta(days=d)).weekday() for d in range(days)])
    weight = np.array(cat.WEEKDAY_WEIGHT)[weekday]
    day = np.sort(rng.choice(days, size=n, p=weight / weight.sum()))
    business = rng.normal(14 * 3600, 3.5 * 3600, n)
    anytime = rng.uniform(0, _DAY, n)
    sec = np.where(rng.random(n) < 0.85, business, anytime).clip(0, _DAY - 1).astype(np.int64)
    order = np.lexsort((sec, day))
    day, sec = day[order], sec[order]
    start_ns = int(np.datetime64(start.isoformat(), "ns").astype(np.int64))
    created_ns = start_ns + (day * _DAY + sec) * _S

    after = (day >= shift_day)[:, None]
    topic = _draw_rows(rng, np.where(after, _shifted_prior(), np.array(cat.TOPIC_PRIOR)))
    stage2: dict[str, np.ndarray] = {}
    leaves = list(cat.PHRASES)
    leaf = np.array([leaves.index(x) if x in leaves else -1 for x in cat.TOPIC_LABELS])[topic]
    for s in cat.STAGE2:
        codes = np.full(n, -1)
        mask = topic == cat.TOPIC_LABELS.index(s.parent_label)
        codes[mask] = rng.choice(len(s.labels), size=int(mask.sum()), p=np.array(s.prior))
        stage2[s.name] = codes
        leaf[mask] = np.array([leaves.index(x) for x in s.labels])[codes[mask]]

    channel = _draw_rows(rng, np.array(cat.CHANNEL_BY_TOPIC)[topic])
    tier = rng.choice(len(cat.TIERS), size=n, p=np.array(cat.TIER_PRIOR))
    noisy = rng.random(n) < 0.12  # the text does not always say what the ticket is about
    leaf[noisy] = rng.integers(0, len(leaves), int(noisy.sum()))
    phrases = np.array([cat.PHRASES[x] for x in leaves])
    text = np.char.add(
        np.char.add(
            np.array(cat.OPENERS)[rng.integers(0, len(cat.OPENERS), n)],
            phrases[leaf, rng.integers(0, phrases.shape[1], n)],
        ),
        np.array(cat.SUFFIXES)[rng.integers(0, len(cat.SUFFIXES), n)],
    )
    ids = np.char.add("T", np.char.zfill(np.arange(n).astype(str), 6)).astype(object)
    end_ns = start_ns + (days * _DAY - 1) * _S
    world = World(start_ns, end_ns, day, created_ns, ids, topic, stage2)
    items = pd.DataFrame(
        {
            "item": ids,
            "split": "train",
            "created_at": created_ns.astype("datetime64[ns]"),
            "channel": np.array(cat.CHANNELS, dtype=object)[channel],
            "customer_tier": np.array(cat.TIERS, dtype=object)[tier],
            "text_length": np.char.str_len(text).astype(np.int64),
            "text": text.astype(object),
        }
    )
    return world, items


def _gold(
    rng: np.random.Generator, w: World, ramp_day: int
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Gold rows plus the per-row data events need (annotator code, seconds, times)."""
    late = w.day >= ramp_day
    base = GOLD_SHARE * w.day.size / max(1.0, (~late).sum() + GOLD_RAMP * late.sum())
    chosen = np.flatnonzero(rng.random(w.day.size) < np.where(late, GOLD_RAMP, 1.0) * base)
    n_ann = len(cat.ANNOTATORS)
    weight = np.array([a.weight for a in cat.ANNOTATORS])
    first = rng.choice(n_ann, size=chosen.size, p=weight / weight.sum())
    second = rng.random(chosen.size) < SECOND_OPINION
    other = (first + 1 + rng.integers(0, n_ann - 1, chosen.size)) % n_ann
    row_item = np.concatenate([chosen, chosen[second]])
    row_ann = np.concatenate([first, other[second]])
    # One sitting per (item, annotator): the topic label, then the stage-2 label if any.
    sitting = rng.lognormal(np.log(3 * 3600), 0.8, row_item.size).astype(np.int64)
    row_at = w.created_ns[row_item] + sitting * _S

    error = np.array([a.error_rate for a in cat.ANNOTATORS])
    median = np.array([a.median_seconds for a in cat.ANNOTATORS])
    frames, extra = [], []
    for name in [cat.TOPIC, *(s.name for s in cat.STAGE2)]:
        labels, _, truth = subtask_truth(w, name)
        sel = truth[row_item] >= 0
        item, ann, t = row_item[sel], row_ann[sel], truth[row_item[sel]]
        k = len(labels)
        wrong = rng.random(item.size) < error[ann]
        label = np.where(wrong, (t + 1 + rng.integers(0, k - 1, item.size)) % k, t)
        factor = 1.0 if name == cat.TOPIC else 1.4
        seconds = rng.lognormal(np.log(median[ann] * factor), 0.45).round(1)
        after_topic = 0 if name == cat.TOPIC else np.ceil(seconds).astype(np.int64) * _S
        at = np.minimum(row_at[sel] + after_topic, w.end_ns)
        frames.append(
            pd.DataFrame(
                {
                    "item": w.ids[item],
                    "subtask": name,
                    "label": np.array(labels, dtype=object)[label],
                    "annotator": np.array([a.name for a in cat.ANNOTATORS], dtype=object)[ann],
                    "submitted_at": at.astype("datetime64[ns]"),
                }
            )
        )
        extra.append({"ann": ann, "seconds": seconds, "at": at})
    gold = pd.concat(frames, ignore_index=True)
    info = {c: np.concatenate([e[c] for e in extra]) for c in ("ann", "seconds", "at")}
    # The first `chosen.size` topic rows are the primary annotators' labels, in item order.
    info["review_item"] = chosen
    info["review_at"] = extra[0]["at"][: chosen.size]
    return gold, info


def _events(
    rng: np.random.Generator,
    w: World,
    gold: pd.DataFrame,
    info: dict[str, np.ndarray],
    collapse_day: int,
) -> pd.DataFrame:
    rate = np.array([a.hourly_rate for a in cat.ANNOTATORS])
    parts: list[dict[str, Any]] = [
        {
            "annotator": gold["annotator"].to_numpy(),
            "item": gold["item"].to_numpy(),
            "subtask": gold["subtask"].to_numpy(),
            "kind": "human_label",
            "seconds": info["seconds"],
            "rate": rate[info["ann"]],
            "at": info["at"],
        }
    ]
    reviewed = rng.random(info["review_item"].size) < REVIEW_SHARE
    n_rev = int(reviewed.sum())
    later = rng.uniform(3600, 24 * 3600, n_rev)
    parts.append(
        {
            "annotator": cat.REVIEWER[0],
            "item": w.ids[info["review_item"][reviewed]],
            "subtask": cat.TOPIC,
            "kind": "review",
            "seconds": rng.lognormal(np.log(25.0), 0.4, n_rev).round(1),
            "rate": cat.REVIEWER[1],
            "at": np.minimum(info["review_at"][reviewed] + later.astype(np.int64) * _S, w.end_ns),
        }
    )
    # LF development: a fixed share of weekdays per developer, more after the collapse (fixes).
    n_days = int((w.end_ns + _S - w.start_ns) // (_DAY * _S))
    day = np.arange(n_days)
    weekday = (np.datetime64(w.start_ns, "ns").astype("datetime64[D]") + day).astype(int)
    workday = (weekday + 3) % 7 < 5  # 1970-01-01 was a Thursday
    works = np.zeros((n_days, len(cat.DEVELOPERS)), dtype=bool)
    for dev_code in range(len(cat.DEVELOPERS)):
        for after, share in zip((False, True), DEV_SHARE, strict=True):
            candidates = day[((day >= collapse_day) == after) & workday]
            picked = rng.choice(candidates, size=round(share * candidates.size), replace=False)
            works[picked, dev_code] = True
    hours = rng.choice(np.arange(2, 9) / 2, size=works.shape)
    clock = rng.integers(9 * 3600, 16 * 3600, works.shape)
    d, dev = np.nonzero(works)
    parts.append(
        {
            "annotator": np.array([x[0] for x in cat.DEVELOPERS], dtype=object)[dev],
            "item": None,
            "subtask": None,
            "kind": "lf_development",
            "seconds": hours[d, dev] * 3600,
            "rate": np.array([x[1] for x in cat.DEVELOPERS])[dev],
            "at": w.start_ns + (d * _DAY + clock[d, dev]) * _S,
        }
    )
    events = pd.concat([pd.DataFrame(p) for p in parts], ignore_index=True)
    cost = (events["seconds"].to_numpy() / 3600 * events.pop("rate").to_numpy()).round(4)
    events["cost"] = np.char.mod("%.4f", cost).astype(object)
    events["currency"] = CURRENCY
    events["at"] = events["at"].to_numpy(dtype=np.int64).astype("datetime64[ns]")
    events = events[EVENT_COLUMNS].sort_values("at", kind="stable")
    return events.reset_index(drop=True)


def _budget(events: pd.DataFrame, start: dt.date, days: int) -> dict[str, Any]:
    """Amount such that spend to date < amount < linear projection of the last 10 days."""
    as_of = start + dt.timedelta(days=days - 1)
    period_end = as_of + dt.timedelta(days=BUDGET_TAIL_DAYS)
    cost = [Decimal(c) for c in events["cost"]]
    spent = sum(cost, Decimal(0))
    recent_start = pd.Timestamp(as_of - dt.timedelta(days=RAMP_DAYS - 1))
    recent = sum(
        (c for c, r in zip(cost, events["at"] >= recent_start, strict=True) if r), Decimal(0)
    )
    projected = spent + recent / RAMP_DAYS * (period_end - as_of).days
    amount = projected / OVERRUN
    if amount <= spent:  # a tail too short to overrun by OVERRUN: land halfway
        amount = (spent + projected) / 2
    return {
        "name": BUDGET_NAME,
        "amount": str(amount.quantize(Decimal("0.01"))),
        "currency": CURRENCY,
        "period_start": start,
        "period_end": period_end,
    }


def generate_demo(
    *, n_items: int = 20_000, seed: int = 0, start: dt.date = dt.date(2026, 10, 1), days: int = 35
) -> DemoWorkspace:
    """Build the demo workspace; the same arguments always give the same frames."""
    if n_items < 1:
        raise ValueError(f"n_items must be positive, got {n_items}")
    if days < 14:
        raise ValueError(f"days must be at least 14, got {days}")
    collapse_day, shift_day = round(days * 22 / 35), round(days * 25 / 35)
    ramp_day = days - RAMP_DAYS
    r_items, r_votes, r_gold, r_events = np.random.default_rng(seed).spawn(4)

    world, items = _items(r_items, n_items, start, days, shift_day)
    votes = simulate_votes(r_votes, world, collapse_day)
    gold, info = _gold(r_gold, world, ramp_day)
    events = _events(r_events, world, gold, info, collapse_day)

    truth_parts = []
    for name in [cat.TOPIC, *(s.name for s in cat.STAGE2)]:
        labels, _, codes = subtask_truth(world, name)
        sel = codes >= 0
        truth_parts.append(
            pd.DataFrame(
                {
                    "item": world.ids[sel],
                    "subtask": name,
                    "label": np.array(labels, dtype=object)[codes[sel]],
                }
            )
        )
    lfs = pd.DataFrame(
        [
            (s.name, s.subtask, s.kind, s.version, s.description, s.owner, True)
            for s in cat.LF_SPECS
        ],
        columns=LF_COLUMNS,
    )
    budget = _budget(events, start, days)
    baseline_end = start + dt.timedelta(days=13)
    goals: list[dict[str, Any]] = [
        {
            "kind": "reduce_hours",
            "target": 0.3,
            "params": {
                "baseline_start": start.isoformat(),
                "baseline_end": baseline_end.isoformat(),
            },
        },
        {
            "kind": "accuracy_within_budget",
            "target": 0.85,
            "params": {"budget": BUDGET_NAME, "subtask": cat.TOPIC},
        },
        {"kind": "max_cost_per_correct_label", "target": 0.05, "params": {"currency": CURRENCY}},
    ]
    prior_after = _shifted_prior()
    drift = {
        "collapsed_lf": cat.COLLAPSED_LF,
        "collapse_day": collapse_day,
        "collapse_date": start + dt.timedelta(days=collapse_day),
        "collapse_factor": COLLAPSE_FACTOR,
        "shifted_class": cat.SHIFTED_CLASS,
        "shift_day": shift_day,
        "shift_date": start + dt.timedelta(days=shift_day),
        "prior_before": dict(zip(cat.TOPIC_LABELS, cat.TOPIC_PRIOR, strict=True)),
        "prior_after": {
            k: round(float(v), 4) for k, v in zip(cat.TOPIC_LABELS, prior_after, strict=True)
        },
        "spend_ramp_day": ramp_day,
        "budget_as_of": start + dt.timedelta(days=days - 1),
        "worse_than_chance_lf": cat.BAD_LF,
        "correlated_lfs": list(cat.CORRELATED_PAIR),
    }
    return DemoWorkspace(
        task=cat.TASK,
        task_definition=copy.deepcopy(cat.TASK_DEFINITION),
        lfs=lfs,
        items=items[ITEM_COLUMNS],
        votes=votes,
        gold=gold[GOLD_COLUMNS],
        events=events,
        truth=pd.concat(truth_parts, ignore_index=True)[TRUTH_COLUMNS],
        budget=budget,
        goals=goals,
        users=[("admin", "admin"), ("auditor", "auditor"), ("viewer", "viewer")],
        drift=drift,
    )

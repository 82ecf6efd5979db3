"""Label-model accuracy on the public sets in ../shared/data, beside published numbers.

WRENCH protocol (youtube, sms, trec): fit on train (no labels), score on test; "+gold" also
fits on the valid split with its labels as gold. Crowd sets: fit and score on all items
with truth. Majority vote is reported as its expected score under random tie-breaking
(published MV numbers are single draws of it). Sets missing from ../shared/data are
skipped with a message. Usage: python bench/label_model_accuracy.py [--data DIR]
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from pathlib import Path

import numpy as np

from fusion import LabelModel, MajorityVote

ROOT = Path(__file__).resolve().parents[1]
WRENCH = {  # name: (k, metric, published MV, WMV, DS, DP, MeTaL, FlyingSquid)
    "youtube": (2, "accuracy", 84.00, 78.00, 83.20, 82.00, 84.00, 76.80),
    "sms": (2, "f1", 23.97, 23.97, 4.94, 23.78, 7.06, 0.00),
    "trec": (6, "accuracy", 60.80, 57.20, 50.00, 64.20, 57.60, 31.40),
}
CROWD = {
    "crowd_duck": (0.759, 0.898),
    "crowd_dog": (0.818, 0.843),
    "crowd_product": (0.897, 0.940),
}  # (majority vote, plain Dawid-Skene)


def load_wrench(folder: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    records = json.loads((folder / f"{split}.json").read_text("utf-8")).values()
    return (np.array([r["weak_labels"] for r in records]), np.array([r["label"] for r in records]))


def load_crowd(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    with open(folder / "answer.csv", encoding="utf-8") as handle:
        answers = list(csv.DictReader(handle))
    with open(folder / "truth.csv", encoding="utf-8") as handle:
        truth = list(csv.DictReader(handle))
    questions = sorted({a["question"] for a in answers} | {t["question"] for t in truth})
    workers = sorted({a["worker"] for a in answers})
    qi = {q: i for i, q in enumerate(questions)}
    wi = {w: i for i, w in enumerate(workers)}
    L = -np.ones((len(questions), len(workers)), dtype=np.int64)
    for a in answers:
        L[qi[a["question"]], wi[a["worker"]]] = int(a["answer"])
    y = -np.ones(len(questions), dtype=np.int64)
    for t in truth:
        y[qi[t["question"]]] = int(t["truth"])
    return L, y


def mv_expected_f1(L: np.ndarray, y: np.ndarray, draws: int = 2000) -> float:
    """Majority vote's expected F1 (label 1) under random tie-breaking, by simulation."""
    proba = MajorityVote(2).predict_proba(L)
    tied = np.isclose(proba, proba.max(axis=1, keepdims=True))
    rng = np.random.default_rng(0)
    scores = []
    for _ in range(draws):
        pick = np.where(tied.all(axis=1), rng.integers(0, 2, len(y)), proba.argmax(axis=1))
        tp = int(((pick == 1) & (y == 1)).sum())
        scores.append(2 * tp / (2 * tp + int((pick != y).sum())))
    return float(np.mean(scores))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    args = parser.parse_args()
    print("WRENCH (test split; accuracy, sms: F1 of spam) - one default configuration")
    print(
        f"{'set':8s} {'MV exp':>7s} {'LM':>7s} {'LM+gold':>8s} | published: "
        f"{'MV':>6s} {'WMV':>6s} {'DS':>6s} {'DP':>6s} {'MeTaL':>6s} {'FS':>6s} | fit s"
    )
    for name, (k, metric, *published) in WRENCH.items():
        folder = args.data / name
        if not folder.is_dir():
            print(f"{name:8s} skipped: {folder} not found")
            continue
        (L, _), (Lv, yv), (Lt, yt) = (load_wrench(folder, s) for s in ("train", "valid", "test"))
        clock = time.perf_counter()
        model = LabelModel(k, seed=0).fit(L)
        seconds = time.perf_counter() - clock
        gold = np.concatenate([-np.ones(len(L), dtype=np.int64), yv])
        with_gold = LabelModel(k, seed=0).fit(np.vstack([L, Lv]), gold=gold)
        mv = mv_expected_f1(Lt, yt) if metric == "f1" else MajorityVote(k).expected_score(Lt, yt)
        cells = " ".join(f"{p:6.2f}" for p in published)
        print(
            f"{name:8s} {100 * mv:7.2f} {100 * model.score(Lt, yt, metric=metric):7.2f} "
            f"{100 * with_gold.score(Lt, yt, metric=metric):8.2f} | {'':11s}{cells} | "
            f"{seconds:.2f}"
        )
    print("\nCrowd answer sets (all items with truth; workers modelled as annotators)")
    print(f"{'set':14s} {'MV exp':>7s} {'LM':>7s} | published: {'MV':>6s} {'DS':>6s}")
    for name, (mv_pub, ds_pub) in CROWD.items():
        folder = args.data / name
        if not folder.is_dir():
            print(f"{name:14s} skipped: {folder} not found")
            continue
        L, y = load_crowd(folder)
        k = int(max(L.max(), y.max())) + 1
        model = LabelModel(k, seed=0).fit(L, full_confusion=np.ones(L.shape[1], dtype=bool))
        print(
            f"{name:14s} {MajorityVote(k).expected_score(L, y):7.4f} {model.score(L, y):7.4f} |"
            f" {'':11s}{mv_pub:6.3f} {ds_pub:6.3f}"
        )


if __name__ == "__main__":
    main()

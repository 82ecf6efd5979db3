"""Validity of the audit loop by simulation on data with ground truth.

For each set (the demo workspace's subtasks, and the crowd and WRENCH sets in
../shared/data when present): fit the label model, fuse, then repeat R times "draw one
round of B items with the default strategy mix (20% uniform), reveal the truth of the
sampled items, estimate the accuracy of the fused labels". Prints, per set:
- coverage: share of rounds whose 95% interval (active inference with cross-fitted
  calibration, the headline estimator) covers the true accuracy (target >= 0.94);
- width: mean interval width / mean width of a Wilson interval from a uniform sample of
  the same budget (target < 1);
- yield: label errors found per audited item / the error rate of a uniform sample
  (target >= 2);
- feedback: accuracy of the fused labels on the items not audited, before and after the
  audited labels of one round are fed back as gold (mean over --feedback-rounds rounds);
- misses: which of the three targets the set misses, and by how much;
- bound (with --bound): what any design that targets on confidence could reach with a
  perfectly calibrated P(correct | confidence) (20 equal-mass bins of the truth): the
  largest yield possible at all (1 / error rate when every audit finds an error, capped
  at N / budget), and the largest yield among designs "uniform share r + (1 - confidence)^a"
  (r in .05-.3, a in .5-8) whose oracle active-inference sd stays below the uniform one.
Usage: python bench/audit_simulation.py [--rounds 200] [--budget 300] [--data DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from auditor.audit.calibration_map import cross_fitted  # noqa: E402
from auditor.audit.estimators import accuracy_report  # noqa: E402
from auditor.audit.sampling import (  # noqa: E402
    DEFAULT_WEIGHTS,
    combined_score,
    draw,
    inclusion_probabilities,
    strategy_scores,
)
from auditor.metrics.estimate import wilson_interval  # noqa: E402
from fusion import LabelModel, MajorityVote  # noqa: E402


def demo_sets() -> list[tuple[str, np.ndarray, np.ndarray, int, bool]]:
    from auditor.demo import _catalog as cat
    from auditor.demo.generate import generate_demo

    ws = generate_demo()
    out = []
    for sub in [cat.TOPIC, *(s.name for s in cat.STAGE2)]:
        labels = (
            list(cat.TOPIC_LABELS)
            if sub == cat.TOPIC
            else list(next(s for s in cat.STAGE2 if s.name == sub).labels)
        )
        code = {name: i for i, name in enumerate(labels)}
        truth = ws.truth[ws.truth.subtask == sub]
        votes = ws.votes[(ws.votes.subtask == sub) & ws.votes.item.isin(truth.item)]
        rows = {item: i for i, item in enumerate(truth.item)}
        lfs = {lf: j for j, lf in enumerate(sorted(votes.lf.unique()))}
        L = np.full((len(rows), len(lfs)), -1)
        L[votes.item.map(rows).to_numpy(), votes.lf.map(lfs).to_numpy()] = votes.label.map(
            code
        ).to_numpy()
        out.append((f"demo/{sub}", L, truth.label.map(code).to_numpy(), len(labels), False))
    return out


def shared_sets(data: Path) -> list[tuple[str, np.ndarray, np.ndarray, int, bool]]:
    out = []
    for name, k in [("youtube", 2), ("trec", 6)]:
        path = data / name / "train.json"
        if not path.exists():
            print(f"skipping {name}: {path} not found")
            continue
        records = json.loads(path.read_text("utf-8")).values()
        L = np.array([r["weak_labels"] for r in records])
        out.append((name, L, np.array([r["label"] for r in records]), k, False))
    for name in ["crowd_product", "crowd_dog"]:
        folder = data / name
        if not (folder / "answer.csv").exists():
            print(f"skipping {name}: {folder} not found")
            continue
        import pandas as pd

        answers = pd.read_csv(folder / "answer.csv")
        truth = pd.read_csv(folder / "truth.csv")
        items = {q: i for i, q in enumerate(truth.question)}
        answers = answers[answers.question.isin(items)]
        workers = {w: j for j, w in enumerate(answers.worker.unique())}
        classes = sorted(set(answers.answer) | set(truth.truth))
        code = {c: i for i, c in enumerate(classes)}
        L = np.full((len(items), len(workers)), -1)
        L[answers.question.map(items), answers.worker.map(workers)] = answers.answer.map(code)
        out.append((name, L, truth.truth.map(code).to_numpy(), len(classes), True))
    return out


def simulate(
    L: np.ndarray,
    y: np.ndarray,
    k: int,
    *,
    rounds: int,
    budget: int,
    share: float,
    human: bool = False,
    weights: dict[str, float] | None = None,
    feedback_rounds: int = 5,
) -> dict[str, float]:
    full = np.full(L.shape[1], human)
    P = LabelModel(k, seed=0).fit(L, full_confusion=full).predict_proba(L)
    fused = P.argmax(axis=1)
    correct = (fused == y).astype(float)
    truth = correct.mean()
    vote = MajorityVote(k).predict_proba(L)
    top = np.isclose(vote, vote.max(axis=1, keepdims=True))
    mv_disagrees = (L != -1).any(axis=1) & ~top[np.arange(len(fused)), fused]
    scores = strategy_scores(P, L, mv_disagrees=mv_disagrees)
    score, _ = combined_score(scores, weights or DEFAULT_WEIGHTS)
    design = inclusion_probabilities(score, budget=budget, random_share=share)
    confidence = P.max(axis=1)
    covered, widths, wilson_widths, yields = [], [], [], []
    rng = np.random.default_rng(1)
    for r in range(rounds):
        picked = draw(design, seed=r)
        s = np.flatnonzero(picked.sampled)
        f_all, f_s = cross_fitted(confidence, s, correct[s], weights=1 / design.pi[s], seed=r)
        report = accuracy_report(correct[s], design.pi[s], picked.from_random[s], f_s, f_all=f_all)
        est = report.headline_estimate
        covered.append(est.low <= truth <= est.high)
        widths.append(est.high - est.low)
        uniform = rng.choice(len(y), size=budget, replace=False)
        low, high = wilson_interval(int(correct[uniform].sum()), budget)
        wilson_widths.append(high - low)
        yields.append((1 - correct[s]).mean() / max(1 - truth, 1e-12))
    # feedback: one round's audited labels as gold, averaged over feedback_rounds rounds
    before, after = [], []
    for r in range(feedback_rounds):
        s = np.flatnonzero(draw(design, seed=10_000 + r).sampled)
        gold = np.full(len(y), -1)
        gold[s] = y[s]
        rest = np.setdiff1d(np.arange(len(y)), s)
        refit = LabelModel(k, seed=0).fit(L, gold=gold, full_confusion=full).predict(L)
        before.append((fused[rest] == y[rest]).mean())
        after.append((refit[rest] == y[rest]).mean())
    return {
        "items": len(y),
        "accuracy": truth,
        "coverage": float(np.mean(covered)),
        "width_ratio": float(np.mean(widths) / np.mean(wilson_widths)),
        "yield": float(np.mean(yields)),
        "before": float(np.mean(before)),
        "after": float(np.mean(after)),
        "estimator": report.headline,
    }


def misses(r: dict[str, float]) -> str:
    """The targets a result misses, each with its shortfall; "-" when it meets all three."""
    out = []
    if r["coverage"] < 0.94:
        out.append(f"coverage -{0.94 - r['coverage']:.3f}")
    if r["width_ratio"] >= 1:
        out.append(f"width +{r['width_ratio'] - 1:.2f}")
    if r["yield"] < 2:
        out.append(f"yield -{2 - r['yield']:.2f}")
    if r["after"] <= r["before"]:
        out.append(f"feedback {r['after'] - r['before']:+.3f}")
    return ", ".join(out) or "-"


def confidence_bound(P: np.ndarray, y: np.ndarray, *, budget: int) -> tuple[float, float]:
    """(largest yield possible, largest yield with oracle sd < uniform sd) for designs
    that target on confidence; see the module doc."""
    correct = (P.argmax(axis=1) == y).astype(float)
    n, error = len(y), 1 - correct.mean()
    g = np.empty(n)
    for chunk in np.array_split(np.argsort(P.max(axis=1), kind="stable"), 20):
        g[chunk] = correct[chunk].mean()
    uniform_var = error * (1 - error) * (1 - budget / n) / budget
    best = 0.0
    for share in (0.05, 0.1, 0.2, 0.3):
        for a in (0.5, 1, 2, 4, 8):
            pi = inclusion_probabilities((1 - g) ** a, budget=budget, random_share=share).pi
            var = ((1 - pi) / pi * g * (1 - g)).sum() / n**2
            if var < uniform_var:
                best = max(best, float((pi * (1 - g)).sum() / budget / error))
    return min(1 / error, n / budget), best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--budget", type=int, default=300)
    parser.add_argument(
        "--random-share",
        default="0.2",
        help="uniform share(s) of the budget, comma-separated: what each split buys",
    )
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--only", default="", help="comma-separated set names")
    parser.add_argument(
        "--weights", default="", help='strategy weights as JSON, e.g. {"entropy": 1}'
    )
    parser.add_argument("--feedback-rounds", type=int, default=5)
    parser.add_argument("--bound", action="store_true", help="print the confidence bound")
    args = parser.parse_args()
    sets = demo_sets() + shared_sets(args.data)
    if args.only:
        sets = [s for s in sets if s[0] in args.only.split(",")]
    shares = [float(x) for x in args.random_share.split(",")]
    print(
        f"{args.rounds} rounds of {args.budget} items; share = uniform part of the budget; "
        "targets: coverage >= 0.94, width ratio < 1, yield >= 2, after > before; "
        "interval: active inference (the headline estimator)"
    )
    print(
        f"{'set':<22}{'share':>6}{'items':>7}{'acc':>7}{'cover':>7}{'width':>7}{'yield':>7}"
        f"{'before':>8}{'after':>7}  misses"
    )
    weights = json.loads(args.weights) if args.weights else None
    for name, L, y, k, human in sets:
        for share in shares:
            r = simulate(
                L,
                y,
                k,
                rounds=args.rounds,
                budget=args.budget,
                share=share,
                human=human,
                weights=weights,
                feedback_rounds=args.feedback_rounds,
            )
            print(
                f"{name:<22}{share:>6.2f}{r['items']:>7}{r['accuracy']:>7.3f}"
                f"{r['coverage']:>7.3f}{r['width_ratio']:>7.2f}{r['yield']:>7.2f}"
                f"{r['before']:>8.3f}{r['after']:>7.3f}  {misses(r)}",
                flush=True,
            )
    if args.bound:
        print("\nconfidence bound (oracle-calibrated map): yield possible / yield at sd < uniform")
        for name, L, y, k, human in sets:
            full = np.full(L.shape[1], human)
            P = LabelModel(k, seed=0).fit(L, full_confusion=full).predict_proba(L)
            most, narrow = confidence_bound(P, y, budget=args.budget)
            print(f"{name:<22}{most:>7.2f}{narrow:>7.2f}")


if __name__ == "__main__":
    main()

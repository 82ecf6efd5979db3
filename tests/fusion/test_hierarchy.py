from __future__ import annotations

import numpy as np
import pytest

from fusion import HierarchicalLabelModel, Subtask, TaskTree

TREE = TaskTree(
    (
        Subtask("topic", ("billing", "technical", "other")),
        Subtask("billing_issue", ("refund", "invoice"), "topic", "billing"),
        Subtask("technical_issue", ("bug", "outage", "how_to"), "topic", "technical"),
    )
)
LFS = ["topic", "topic", "topic", "billing_issue", "billing_issue", "technical_issue"]


def synthetic(n: int = 6000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Items with a true joint class; topic LFs vote topics, refinement LFs vote fine
    labels only on items of their parent topic; each LF right 85% of the time."""
    rng = np.random.default_rng(seed)
    joint = TREE.joint_classes()
    truth = rng.integers(0, len(joint), n)
    L = np.full((n, len(LFS)), -1)
    for j, name in enumerate(LFS):
        col = TREE.index(name)
        k = len(TREE.subtasks[col].labels)
        true = joint[truth, col]
        fires = (true >= 0) & (rng.random(n) < 0.6)
        wrong = (true + rng.integers(1, k, n)) % k
        L[fires, j] = np.where(rng.random(n) < 0.85, true, wrong)[fires]
    return L, truth


def test_joint_classes_are_exactly_the_feasible_combinations() -> None:
    assert TREE.joint_classes().tolist() == [
        [0, 0, -1],
        [0, 1, -1],
        [1, -1, 0],
        [1, -1, 1],
        [1, -1, 2],
        [2, -1, -1],
    ]


def test_marginals_sum_to_one_and_infeasible_combinations_get_nothing() -> None:
    L, truth = synthetic()
    model = HierarchicalLabelModel(TREE, seed=0).fit(L, LFS)
    marginals = model.predict_marginals(L)
    for name, proba in marginals.items():
        assert np.allclose(proba.sum(axis=1), 1), name
    # P(billing_issue applies) equals P(topic = billing), for every item
    assert np.allclose(1 - marginals["billing_issue"][:, -1], marginals["topic"][:, 0])
    assert np.allclose(marginals["topic"][:, -1], 0)  # the root always applies
    unsupervised = (model.predict_joint(L).argmax(axis=1) == truth).mean()
    # the same model given every true label (an upper reference on this data: items with no
    # refinement vote are coin flips on their fine label)
    joint = TREE.joint_classes()
    gold = {s.name: joint[truth, i] for i, s in enumerate(TREE.subtasks)}
    oracle = HierarchicalLabelModel(TREE, seed=0).fit(L, LFS, gold=gold)
    assert unsupervised >= (oracle.predict_joint(L).argmax(axis=1) == truth).mean() - 0.1
    assert model.model.accuracy_[:3] == pytest.approx([0.85] * 3, abs=0.05)


def test_fine_votes_inform_the_coarse_label() -> None:
    L, _ = synthetic()
    model = HierarchicalLabelModel(TREE, seed=0).fit(L, LFS)
    only_refund = np.array([[-1, -1, -1, 0, -1, -1]])
    topic = model.predict_marginals(only_refund)["topic"][0]
    assert topic[0] > 0.85  # a 'refund' vote implies topic = billing


def test_gold_restricts_items_and_infeasible_gold_is_refused() -> None:
    L, truth = synthetic(2000)
    joint = TREE.joint_classes()
    gold = {"topic": np.where(np.arange(2000) < 200, joint[truth, 0], -1)}
    model = HierarchicalLabelModel(TREE, seed=0).fit(L, LFS, gold=gold)
    assert model.predict_marginals(L)["topic"].shape == (2000, 4)
    bad = {"topic": np.full(2000, -1), "billing_issue": np.full(2000, -1)}
    bad["topic"][0], bad["billing_issue"][0] = 1, 0  # technical, yet a billing refinement
    with pytest.raises(ValueError, match="not a feasible combination"):
        HierarchicalLabelModel(TREE).fit(L, LFS, gold=bad)


def test_bad_votes_and_trees_are_refused() -> None:
    L, _ = synthetic(100)
    L[3, 3] = 2  # billing_issue has only two labels
    with pytest.raises(ValueError, match=r"L\[3, 3\] = 2 is not -1 or a label of subtask"):
        HierarchicalLabelModel(TREE).fit(L, LFS)
    with pytest.raises(ValueError, match="exactly one root"):
        TaskTree((Subtask("a", ("x", "y")), Subtask("b", ("x", "y"))))
    with pytest.raises(ValueError, match="has no label"):
        TaskTree((Subtask("a", ("x", "y")), Subtask("b", ("p", "q"), "a", "z")))

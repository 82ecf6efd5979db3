from __future__ import annotations

import math

import numpy as np
import pytest

from auditor.audit.sampling import (
    DEFAULT_WEIGHTS,
    combined_score,
    draw,
    inclusion_probabilities,
    strategy_scores,
)

LN3 = math.log(3)


def test_strategy_scores_by_hand() -> None:
    P = np.array([[1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3], [0.6, 0.3, 0.1]])
    L = np.array([[0, 0, -1], [0, 1, 2], [-1, -1, -1]])
    s = strategy_scores(P, L)
    assert set(s) == {"entropy", "margin", "least_confidence", "vote_entropy", "conflict"}
    # row 2: -(.6 ln .6 + .3 ln .3 + .1 ln .1) / ln 3 = .89794 / 1.09861 = .8173
    h = -(0.6 * math.log(0.6) + 0.3 * math.log(0.3) + 0.1 * math.log(0.1)) / LN3
    assert s["entropy"] == pytest.approx([0.0, 1.0, h])
    # 1 - (p1 - p2): 1 - 1, 1 - 0, 1 - (.6 - .3)
    assert s["margin"] == pytest.approx([0.0, 1.0, 0.7])
    # (1 - p1) * 3/2: 0, 2/3 * 3/2, .4 * 3/2
    assert s["least_confidence"] == pytest.approx([0.0, 1.0, 0.6])
    # vote histograms [2,0,0] -> 0, [1,1,1] -> ln 3 / ln 3, none -> 0
    assert s["vote_entropy"] == pytest.approx([0.0, 1.0, 0.0])
    assert s["conflict"].tolist() == [0.0, 1.0, 0.0]


def test_strategy_scores_optional_flags_and_one_class() -> None:
    P = np.array([[0.5, 0.5], [0.9, 0.1]])
    L = np.array([[0, 1], [1, 1]])
    s = strategy_scores(
        P, L, rule_flags=[True, False], improbable=[0, 1], mv_disagrees=np.array([1, 0])
    )
    assert s["rules"].tolist() == [1.0, 0.0] and s["improbable"].tolist() == [0.0, 1.0]
    assert s["model_vs_majority"].tolist() == [1.0, 0.0]
    # two votes 0, 1 -> ln 2 / ln 2 = 1; two votes 1, 1 -> 0
    assert s["vote_entropy"] == pytest.approx([1.0, 0.0])
    one = strategy_scores(np.ones((2, 1)), np.zeros((2, 0), dtype=int))
    assert all(v.tolist() == [0.0, 0.0] for v in one.values())
    assert all(
        v.shape == (0,) for v in strategy_scores(np.zeros((0, 3)), np.zeros((0, 2), int)).values()
    )


@pytest.mark.parametrize(
    ("P", "L", "flags", "message"),
    [
        (np.array([[np.nan, 1.0]]), np.array([[0]]), None, "finite"),
        (np.array([0.5, 0.5]), np.array([[0]]), None, "2-D"),
        (np.array([[0.5, 0.5]]), np.array([[0], [1]]), None, "L must be 2-D"),
        (np.array([[0.5, 0.5]]), np.array([[2]]), None, "integer labels"),
        (np.array([[0.5, 0.5]]), np.array([[0]]), [True, False], "rule_flags"),
    ],
)
def test_strategy_scores_programmer_errors(
    P: np.ndarray, L: np.ndarray, flags: list[bool] | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        strategy_scores(P, L, rule_flags=flags)


def test_combined_score_is_the_weighted_mean_with_its_dominant_term() -> None:
    scores = {
        "entropy": np.array([0.5, 0.0, 0.2]),
        "rules": np.array([0.0, 0.0, 1.0]),
        "margin": np.array([0.9, 0.9, 0.9]),
    }
    # default weights: entropy 1, rules 1, margin 0 -> (.5 + 0) / 2, 0, (.2 + 1) / 2
    score, dominant = combined_score(scores)
    assert score == pytest.approx([0.25, 0.0, 0.6])
    assert dominant.tolist() == ["entropy", "none", "rules"]
    # margin weighted 2: (.5 + 0 + 1.8) / 4, 1.8 / 4, (.2 + 1 + 1.8) / 4
    score, dominant = combined_score(scores, {**DEFAULT_WEIGHTS, "margin": 2.0})
    assert score == pytest.approx([0.575, 0.45, 0.75]) and set(dominant) == {"margin"}
    assert combined_score({})[0].shape == (0,)
    with pytest.raises(ValueError, match=">= 0"):
        combined_score(scores, {"entropy": -1.0})
    with pytest.raises(ValueError, match="same shape"):
        combined_score({"entropy": np.zeros(2), "rules": np.zeros(3)})


def test_inclusion_probabilities_by_hand() -> None:
    # N = 4, B = 2, r = .5: pi_random = .5 * 2 / 4 = .25; targeted total
    # .5 * 2 / (1 - .25) = 4/3 over scores (0, 1, 1, 2) summing to 4 -> (0, 1/3, 1/3, 2/3);
    # pi = 1 - .75 (1 - pt) = (.25, .5, .5, .75), summing to B = 2.
    d = inclusion_probabilities([0.0, 1.0, 1.0, 2.0], budget=2, random_share=0.5)
    assert d.pi_random == pytest.approx([0.25] * 4)
    assert d.pi_targeted == pytest.approx([0, 1 / 3, 1 / 3, 2 / 3])
    assert d.pi == pytest.approx([0.25, 0.5, 0.5, 0.75])
    assert d.expected_size == pytest.approx(2) and d.expected_cost == pytest.approx(2)


def test_caps_at_one_redistribute_until_no_cap_is_violated() -> None:
    # r = 0, T = 2.5 over (1, 1, 4, 8): scale 2.5/14 puts 8 at 1.43 -> cap; 1.5 left over
    # (1, 1, 4): scale .25 puts 4 at 1 -> cap; .5 left over (1, 1) -> .25 each.
    d = inclusion_probabilities([1.0, 1.0, 4.0, 8.0], budget=2.5, random_share=0.0)
    assert d.pi_targeted == pytest.approx([0.25, 0.25, 1.0, 1.0])
    assert d.pi == pytest.approx(d.pi_targeted) and d.pi_random.tolist() == [0.0] * 4


def test_budget_the_targeted_stream_cannot_spend_goes_to_the_random_stream() -> None:
    # N = 4, B = 2, r = .5: only item 3 has a score, so pt = (0, 0, 0, 1) spends 1; the
    # uniform rate solves pr * 4 + (1 - pr) * 1 = 2 -> pr = 1/3.
    d = inclusion_probabilities([0.0, 0.0, 0.0, 5.0], budget=2, random_share=0.5)
    assert d.pi == pytest.approx([1 / 3, 1 / 3, 1 / 3, 1.0])
    # no score at all and r = 0: everything is uniform at B / N.
    assert inclusion_probabilities(np.zeros(4), budget=1, random_share=0).pi == pytest.approx(
        [0.25] * 4
    )
    assert inclusion_probabilities([0.0, 2.0], budget=3, random_share=0.2).pi.tolist() == [1, 1]


def test_strata_split_the_budget_by_size() -> None:
    # B = 4, r = .5, N = 8: pr = .25; stratum 0 (2 items) gets B_0 = 1, targeted
    # .5 / .75 = 2/3 split 1:3 -> (1/6, 1/2); stratum 1 (6 items) gets B_1 = 3, targeted
    # 1.5 / .75 = 2 -> 1/3 each. Each stratum's sum(pi) is its budget: .5 + .75 * 2/3 = 1
    # and 1.5 + .75 * 2 = 3.
    strata = np.array([0, 0, 1, 1, 1, 1, 1, 1])
    d = inclusion_probabilities([1.0, 3.0] + [1.0] * 6, budget=4, random_share=0.5, strata=strata)
    assert d.pi_targeted == pytest.approx([1 / 6, 1 / 2] + [1 / 3] * 6)
    assert d.pi[:2].sum() == pytest.approx(1) and d.pi[2:].sum() == pytest.approx(3)


def test_cost_budget() -> None:
    # cost (1, 1, 2, 4), C = 8, B = 2, r = .5: pr = .5 * 2 / 8 = 1/8; targeted cost
    # 1 / (7/8) = 8/7 = a * sum(score * cost) = 8a -> a = 1/7; pi = 1 - 7/8 * 6/7 = 1/4;
    # sum(pi * cost) = 8/4 = 2.
    d = inclusion_probabilities(np.ones(4), budget=2, random_share=0.5, cost=[1, 1, 2, 4])
    assert d.pi_random == pytest.approx([1 / 8] * 4) and d.pi_targeted == pytest.approx([1 / 7] * 4)
    assert d.pi == pytest.approx([0.25] * 4)
    assert d.expected_cost == pytest.approx(2) and d.expected_size == pytest.approx(1)


def test_random_designs_spend_the_budget_and_reach_every_item() -> None:
    rng = np.random.default_rng(3)
    for _ in range(50):
        n = int(rng.integers(1, 300))
        score = rng.random(n) ** 4 * (rng.random(n) < 0.7)
        cost = rng.uniform(0.5, 3, n)
        budget = float(rng.uniform(0, 1.2) * cost.sum())
        strata = rng.integers(0, 3, n)
        d = inclusion_probabilities(
            score, budget=budget, random_share=0.2, strata=strata, cost=cost
        )
        assert np.all((d.pi > 0) & (d.pi <= 1)) or budget == 0
        assert d.expected_cost == pytest.approx(min(budget, cost.sum()), rel=1e-9)
        assert np.allclose(d.pi, 1 - (1 - d.pi_random) * (1 - d.pi_targeted))
        assert np.all(d.pi_targeted[score == 0] == 0) or budget >= cost.sum()
    # without a random share, items with score 0 cannot be drawn
    assert inclusion_probabilities([0.0, 1.0, 1.0], budget=1, random_share=0).pi[0] == 0


def test_inclusion_probabilities_degenerate_and_invalid() -> None:
    empty = inclusion_probabilities(np.zeros(0), budget=10, random_share=0.2)
    assert empty.pi.shape == (0,) and empty.expected_size == 0
    assert inclusion_probabilities([1.0, 2.0], budget=0, random_share=0.5).pi.tolist() == [0, 0]
    for kwargs, message in [
        ({"budget": -1.0, "random_share": 0.2}, "budget"),
        ({"budget": 1.0, "random_share": 1.5}, "random_share"),
        ({"budget": 1.0, "random_share": 0.2, "cost": [1.0, 0.0]}, "cost"),
        ({"budget": 1.0, "random_share": 0.2, "strata": [0]}, "strata"),
    ]:
        with pytest.raises(ValueError, match=message):
            inclusion_probabilities([1.0, 1.0], **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="score"):
        inclusion_probabilities([-1.0, 1.0], budget=1, random_share=0.2)


def test_draw_is_seeded_and_realizes_the_design() -> None:
    rng = np.random.default_rng(0)
    score = rng.beta(0.5, 2, 5_000)
    d = inclusion_probabilities(score, budget=500, random_share=0.3)
    a, b = draw(d, seed=7), draw(d, seed=7)
    assert np.array_equal(a.sampled, b.sampled) and np.array_equal(a.from_random, b.from_random)
    assert not np.array_equal(a.sampled, draw(d, seed=8).sampled)
    assert np.array_equal(a.sampled, a.from_random | a.from_targeted)
    # sd of the size = sqrt(sum pi (1 - pi)) ~ 21: within 5 sd of the budget
    assert abs(int(a.sampled.sum()) - 500) < 105
    # the uniform stream draws at rate pi_random = .3 * 500 / 5000 = .03 (sd ~ .0024)
    assert a.from_random.mean() == pytest.approx(0.03, abs=0.012)
    sizes = [draw(d, seed=s).sampled.sum() for s in range(200)]
    assert np.mean(sizes) == pytest.approx(500, abs=5)  # sd of the mean ~ 1.5
    edge = inclusion_probabilities([0.0, 1.0, 1.0], budget=1, random_share=0.0)
    assert edge.pi.tolist() == [0.0, 0.5, 0.5]
    full = inclusion_probabilities([1.0, 1.0], budget=2, random_share=0.5)
    assert all(draw(full, seed=s).sampled.all() for s in range(20))
    assert not any(draw(edge, seed=s).sampled[0] for s in range(20))

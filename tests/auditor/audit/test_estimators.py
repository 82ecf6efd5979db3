from __future__ import annotations

import math

import numpy as np
import pytest

from auditor.audit.calibration_map import cross_fitted
from auditor.audit.estimators import (
    accuracy_report,
    active_inference,
    horvitz_thompson,
    ppi_plus_plus,
    random_share_wilson,
)
from auditor.audit.sampling import draw, inclusion_probabilities
from auditor.metrics.estimate import Z95, Estimate, wilson_interval

Y = np.array([1, 0, 1])
PI = np.array([0.5, 0.25, 1.0])


def test_horvitz_thompson_by_hand() -> None:
    # w = (2, 4, 1), sum w = 7, sum w y = 3 -> theta = 3/7.
    # Var = (.5 * 4 * (4/7)^2 + .75 * 16 * (3/7)^2 + 0) / 7^2 = (32/49 + 108/49) / 49 = 140/2401
    e = horvitz_thompson(Y, PI, N=10)
    sd = math.sqrt(140 / 2401)
    assert e.value == pytest.approx(3 / 7) and e.n == 3
    # 3/7 - 1.96 * .2415 = -.045 is clipped to 0
    assert (e.low, e.high) == pytest.approx((0.0, 3 / 7 + Z95 * sd))
    assert e.details["sd"] == pytest.approx(sd)
    assert e.details["ess"] == pytest.approx(49 / 21)  # (2 + 4 + 1)^2 / (4 + 16 + 1)
    assert e.details["estimator"] == "horvitz_thompson" and e.details["N"] == 10


def test_active_inference_by_hand() -> None:
    # f = (.8, .4, .9): residuals (.2, -.4, .1), w * r = (.4, -1.6, .1), sum -1.1;
    # theta = (8 - 1.1) / 10 = .69. Residual variance (.5 * 4 * .04 + .75 * 16 * .16 + 0)
    # / 100 = .02; model variance, f (1 - f) = (.16, .24, .09):
    # (.5 * 4 * .16 + .75 * 16 * .24 + 0) / 100 = (.32 + 2.88) / 100 = .032, the larger.
    e = active_inference(Y, PI, [0.8, 0.4, 0.9], f_sum_all=8.0, N=10)
    assert e.value == pytest.approx(0.69)
    assert e.details["sd_residual"] == pytest.approx(math.sqrt(0.02))
    assert e.details["sd_model"] == pytest.approx(math.sqrt(0.032))
    assert e.details["sd"] == pytest.approx(math.sqrt(0.032))
    # .69 + 1.96 * .1789 = 1.04 is clipped to 1
    assert (e.low, e.high) == pytest.approx((0.69 - Z95 * math.sqrt(0.032), 1.0))
    # f = .9 everywhere misses the wrong item badly: residuals (.1, -.9, .1) give
    # (.5 * 4 * .01 + .75 * 16 * .81) / 100 = .0974 > model (.5 * 4 + .75 * 16) * .09 / 100
    # = .0126, so the residual term decides; theta = (9 + .2 - 3.6 + 0.1) / 10 = .57
    wrong = active_inference(Y, PI, [0.9, 0.9, 0.9], f_sum_all=9.0, N=10)
    assert wrong.value == pytest.approx(0.57)
    assert wrong.details["sd_model"] == pytest.approx(math.sqrt(0.0126))
    assert wrong.details["sd"] == pytest.approx(math.sqrt(0.0974))
    # a perfect f leaves no residual and no model variance: theta = f_sum_all / N
    perfect = active_inference(Y, PI, Y, f_sum_all=7.0, N=10)
    assert perfect.value == pytest.approx(0.7) and perfect.low == perfect.high == perfect.value


def test_model_variance_keeps_coverage_when_confident_errors_are_rarely_drawn() -> None:
    # 4,000 items: 400 uncertain (accuracy .6, f = .6, always drawn) and 3,600 confident
    # (accuracy .97, f = .97) reached only by a uniform stream of pi = .01 (36 expected).
    # Confident errors: 108, about 1.1 of them drawn per round, none in a third of the
    # rounds. Var: the weight of a confident item is 100, its f (1 - f) = .0291, so the
    # model term is ~ 36 * .99 * 1e4 * .0291 / 4000^2 = 6.5e-4 (sd .0255), while the
    # residual term is ~ 2e-5 in a round without a confident error. 2,000 rounds;
    # observed coverage .9995 with the larger of the two, .67 with the residual term alone.
    rng = np.random.default_rng(3)
    n_hard, n_easy = 400, 3_600
    y_all = np.concatenate([rng.random(n_hard) < 0.6, np.arange(n_easy) >= 108]).astype(float)
    f_all = np.concatenate([np.full(n_hard, 0.6), np.full(n_easy, 0.97)])
    pi_all = np.concatenate([np.ones(n_hard), np.full(n_easy, 0.01)])
    truth, N = y_all.mean(), n_hard + n_easy
    covered, residual_only = [], []
    for seed in range(2_000):
        s = np.random.default_rng(seed).random(N) < pi_all
        e = active_inference(y_all[s], pi_all[s], f_all[s], f_sum_all=f_all.sum(), N=N)
        covered.append(e.low <= truth <= e.high)
        raw, sd = (float(e.details[k]) for k in ("raw_value", "sd_residual"))  # type: ignore[arg-type]
        residual_only.append(raw - Z95 * sd <= truth <= raw + Z95 * sd)
    assert np.mean(covered) >= 0.95
    assert np.mean(residual_only) < 0.75


def test_ppi_plus_plus_by_hand() -> None:
    y = np.array([1, 1, 0, 1, 0])
    f = np.array([0.9, 0.7, 0.2, 0.6, 0.4])
    # n = 5, N = 100; y - 0.6 = (.4, .4, -.6, .4, -.6), f - .56 = (.34, .14, -.36, .04, -.16)
    # Cov = (.136 + .056 + .216 + .016 + .096) / 4 = .13; Var_n(y) = 1.2 / 4 = .3;
    # Var_n(f) = .292 / 4 = .073. Var_N(f) = .2: lambda = .13 / (1.05 * .2) = .619048;
    # theta = lambda * .6 + .6 - lambda * .56 = .6 + .04 lambda;
    # Var = (.3 - 2 lambda .13 + lambda^2 .073) / 5 + lambda^2 .2 / 100
    e = ppi_plus_plus(y, f, 0.6, 0.2, N=100)
    lam = 0.13 / 0.21
    assert e.details["lambda"] == pytest.approx(lam)
    assert e.value == pytest.approx(0.6 + 0.04 * lam)
    sd = math.sqrt((0.3 - 0.26 * lam + 0.073 * lam**2) / 5 + lam**2 * 0.002)
    assert e.high - e.value == pytest.approx(Z95 * sd)
    # Var_N(f) = .05: .13 / (1.05 * .05) = 2.48 is clipped to 1 (PPI): .6 + .04
    assert ppi_plus_plus(y, f, 0.6, 0.05, N=100).value == pytest.approx(0.64)
    # a constant f is useless: lambda = 0 and the classical mean .6 with Var_n(y) / n = .06
    flat = ppi_plus_plus(y, np.full(5, 0.7), 0.7, 0.0, N=100)
    assert flat.details["lambda"] == 0 and flat.value == pytest.approx(0.6)
    assert flat.details["sd"] == pytest.approx(math.sqrt(0.06)) and flat.high == 1.0  # clipped


def test_ppi_plus_plus_with_a_useless_predictor_is_the_classical_mean() -> None:
    rng = np.random.default_rng(8)
    y = (rng.random(400) < 0.8).astype(int)
    f_all = rng.random(20_000)  # independent of y
    e = ppi_plus_plus(y, f_all[:400], f_all.mean(), f_all.var(), N=20_000)
    assert float(e.details["lambda"]) < 0.1  # type: ignore[arg-type]
    assert e.value == pytest.approx(y.mean(), abs=0.01)


def test_random_share_wilson_matches_the_metrics_interval() -> None:
    e = random_share_wilson([1, 1, 0, 1, 0])
    assert e.value == 0.6 and e.n == 5 and (e.low, e.high) == wilson_interval(3, 5)
    assert e.details["estimator"] == "random_share_wilson"


def test_degenerate_inputs_are_nan_with_a_reason() -> None:
    nothing = np.zeros(0)
    cases: list[Estimate] = [
        horvitz_thompson(nothing, nothing, N=10),
        horvitz_thompson(Y, PI, N=0),
        active_inference(nothing, nothing, nothing, f_sum_all=3.0, N=10),
        active_inference(Y, PI, Y, f_sum_all=0.0, N=0),
        ppi_plus_plus(nothing, nothing, 0.5, 0.1, N=10),
        ppi_plus_plus(Y, Y, 0.5, 0.1, N=0),
        random_share_wilson(nothing),
    ]
    for e in cases:
        assert math.isnan(e.value) and e.reason, e
    one = ppi_plus_plus([1], [0.8], 0.7, 0.1, N=10)  # a value, but no interval from n = 1
    assert one.value == 1.0 and math.isnan(one.low)
    assert horvitz_thompson([1, 1], [1.0, 1.0], N=2).low == 1.0  # census: no sampling error


@pytest.mark.parametrize(
    ("y", "pi", "message"),
    [
        ([1, 0], [0.5, 0.0], r"\(0, 1\]"),
        ([1, 0], [0.5, 1.2], r"\(0, 1\]"),
        ([1, 0], [0.5], "shape"),
        ([1, 2], [0.5, 0.5], "0/1"),
    ],
)
def test_programmer_errors(y: list[int], pi: list[float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        horvitz_thompson(y, pi, N=10)
    with pytest.raises(ValueError, match=message):
        active_inference(y, pi, [0.5] * len(y), f_sum_all=1.0, N=10)


def test_accuracy_report_overall_and_per_group() -> None:
    f_all = np.array([0.8, 0.4, 0.9, 0.7, 0.6, 0.9])
    groups_all = np.array([0, 0, 1, 1, 1, 2])
    sampled = np.array([0, 1, 2])  # audited rows of the population
    rand = np.array([True, False, True])
    report = accuracy_report(
        Y, PI, rand, f_all[sampled], f_all=f_all, groups=groups_all[sampled], groups_all=groups_all
    )
    assert report.headline == "active_inference" and "unbiased" in report.headline_reason
    assert list(report.overall) == [
        "active_inference",
        "horvitz_thompson",
        "ppi_plus_plus",
        "random_share_wilson",
    ]
    direct = active_inference(Y, PI, f_all[sampled], f_sum_all=f_all.sum(), N=6)
    assert report.headline_estimate.value == direct.value
    assert report.overall["random_share_wilson"].n == 2
    # group 0: audited rows 0 and 1, population rows 0 and 1, f sum 1.2
    g0 = report.by_group[0]["active_inference"]
    assert g0.value == active_inference(Y[:2], PI[:2], [0.8, 0.4], f_sum_all=1.2, N=2).value
    assert math.isnan(report.by_group[2]["horvitz_thompson"].value)  # nothing audited there
    without_f = accuracy_report(Y, PI, rand, N=6)
    assert without_f.headline == "horvitz_thompson"
    assert math.isnan(without_f.overall["active_inference"].value)
    with pytest.raises(ValueError, match="N must"):
        accuracy_report(Y, PI, rand, f_all[sampled], f_all=f_all, N=7)
    with pytest.raises(ValueError, match="together"):
        accuracy_report(Y, PI, rand, f_all[sampled], f_all=f_all, groups=[0, 0, 1])


def test_estimators_are_unbiased_and_cover_under_a_targeted_design() -> None:
    # Fixed population of 5,000 items with accuracy ~.80; f = confidence is miscalibrated
    # (P(correct | c) = .15 + .8 c). A targeted design on 1 - confidence, budget 500, 30%
    # uniform; 2,000 seeded rounds. Observed: bias <= .0014, coverage .939-.951.
    rng = np.random.default_rng(0)
    N = 5_000
    conf = rng.beta(5, 1.2, N).clip(0.34, 1)
    y_all = (rng.random(N) < 0.15 + 0.8 * conf).astype(float)
    truth = y_all.mean()
    design = inclusion_probabilities(1 - conf, budget=500, random_share=0.3)
    f_sum, f_mean, f_var = conf.sum(), conf.mean(), conf.var()
    results: dict[str, list[tuple[float, float, float]]] = {}
    for seed in range(2_000):
        d = draw(design, seed=seed)
        y, pi, f, rand = (
            y_all[d.sampled],
            design.pi[d.sampled],
            conf[d.sampled],
            d.from_random[d.sampled],
        )
        for e in (
            horvitz_thompson(y, pi, N=N),
            active_inference(y, pi, f, f_sum_all=f_sum, N=N),
            ppi_plus_plus(y[rand], f[rand], f_mean, f_var, N=N),
            random_share_wilson(y[rand]),
        ):
            results.setdefault(str(e.details["estimator"]), []).append((e.value, e.low, e.high))
    for name, rows in results.items():
        values, low, high = np.array(rows).T
        coverage = float(((low <= truth) & (truth <= high)).mean())
        assert abs(values.mean() - truth) < 0.005, name
        assert 0.92 <= coverage <= 0.98, (name, coverage)
    ai_sd, ht_sd = (
        np.std(np.array(results[k])[:, 0]) for k in ("active_inference", "horvitz_thompson")
    )
    assert ai_sd <= ht_sd


def test_active_inference_with_cross_fitted_f_stays_unbiased() -> None:
    # As above with f from cross_fitted on each round's audits (weights 1/pi), 200 rounds:
    # sd ~ .016, so the mean is within .005 (~4.5 sd of the mean). Observed: bias < .001.
    rng = np.random.default_rng(0)
    N = 5_000
    conf = rng.beta(5, 1.2, N).clip(0.34, 1)
    y_all = (rng.random(N) < 0.15 + 0.8 * conf).astype(float)
    design = inclusion_probabilities(1 - conf, budget=500, random_share=0.3)
    rows = []
    for seed in range(200):
        idx = np.flatnonzero(draw(design, seed=10_000 + seed).sampled)
        pi = design.pi[idx]
        f_all, f_audited = cross_fitted(conf, idx, y_all[idx], weights=1 / pi, seed=seed)
        e = active_inference(y_all[idx], pi, f_audited, f_sum_all=f_all.sum(), N=N)
        rows.append((e.value, e.low, e.high))
    values, low, high = np.array(rows).T
    assert abs(values.mean() - y_all.mean()) < 0.005
    assert ((low <= y_all.mean()) & (y_all.mean() <= high)).mean() >= 0.9

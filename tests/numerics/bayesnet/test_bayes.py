"""Tests of numerics.bayesnet.bayes: truncated-Beta posterior, exact expected TV and accuracy."""

from fractions import Fraction

import numpy as np
import pytest
from scipy import integrate

from numerics.bayesnet import bayes
from theory.errors import InputError

NS = (1, 2, 5, 10, 20, 50, 100)
# Spec Part 2, Sec. 11 [derived; Gauss-Legendre 400 nodes]; rounded to 5 decimals.
SPEC_MLE = (.39333, .26467, .15991, .11188, .07879, .04971, .03512)
SPEC_MEDIAN = (.17079, .15206, .11961, .09375, .07068, .04689, .03384)
SPEC_ACC = (.60667, .60667, .65582, .67162, .68512, .69387, .69691)


def _quad(f, k, n):
    """int_.1^.9 f(t) t^k (1-t)^(n-k) dt by adaptive quadrature (scipy.quad, a different route)."""
    return integrate.quad(lambda t: f(t) * t ** k * (1 - t) ** (n - k), 0.1, 0.9, epsabs=0, epsrel=1e-13,
                          limit=200)[0]


@pytest.mark.parametrize("k, n", [(0, 0), (0, 1), (1, 1), (0, 5), (3, 5), (2, 10), (17, 40), (0, 60), (60, 60)])
def test_mean_and_median_against_quadrature(k, n):
    # Reference: ratio of two adaptive-quadrature integrals; median by bisection on the quadrature CDF.
    mean = _quad(lambda t: t, k, n) / _quad(lambda t: 1.0, k, n)
    assert bayes.truncated_beta_mean(k, n) == pytest.approx(mean, rel=1e-10)
    total = _quad(lambda t: 1.0, k, n)
    lo, hi = 0.1, 0.9
    for _ in range(60):
        mid = (lo + hi) / 2
        part = integrate.quad(lambda t: t ** k * (1 - t) ** (n - k), 0.1, mid, epsabs=0, epsrel=1e-13)[0]
        lo, hi = (mid, hi) if part < total / 2 else (lo, mid)
    assert bayes.truncated_beta_median(k, n) == pytest.approx(lo, abs=1e-9)


def test_posterior_exact_rational_small_case():
    # k=1, n=1: posterior ~ t on [.1,.9]: mean = int t^2 / int t = (0.729-0.001)/3 / ((0.81-0.01)/2)
    # = 0.24267/0.4 = 0.606666...; median solves x^2 - 0.01 = 0.4 -> x = sqrt(0.41).
    exact = Fraction(729 - 1, 3000) / Fraction(81 - 1, 200)
    assert bayes.truncated_beta_mean(1, 1) == pytest.approx(float(exact), abs=1e-14)
    assert bayes.truncated_beta_median(1, 1) == pytest.approx(0.41 ** 0.5, abs=1e-12)


def test_extreme_counts_stay_in_support():
    # n = 5000 with k = 0: the mass sits at 0.1 (tails computed without cancellation).
    m = bayes.truncated_beta_mean([0, 5000, 2500], 5000)
    md = bayes.truncated_beta_median([0, 5000, 2500], 5000)
    assert np.all((m > 0.1) & (m < 0.9)) and np.all((md > 0.1) & (md < 0.9))
    assert m[0] == pytest.approx(0.1 + 1 / 5000, rel=0.02)   # exponential tail, rate ~ n/0.9
    assert m[2] == 0.5 and md[2] == 0.5


def test_symmetry():
    n = 37
    k = np.arange(n + 1)
    np.testing.assert_allclose(bayes.truncated_beta_mean(k, n), 1 - bayes.truncated_beta_mean(n - k, n), atol=1e-15)
    np.testing.assert_allclose(bayes.truncated_beta_median(k, n), 1 - bayes.truncated_beta_median(n - k, n), atol=1e-15)


def test_log_evidence_exact():
    # Z(2, 3) = int_.1^.9 t^2 (1-t) dt / 0.8 = [t^3/3 - t^4/4]_.1^.9 / 0.8 (exact rationals).
    lo, hi = Fraction(1, 10), Fraction(9, 10)
    z = (hi ** 3 / 3 - hi ** 4 / 4 - lo ** 3 / 3 + lo ** 4 / 4) / Fraction(4, 5)
    assert np.exp(bayes.log_evidence(2, 3)) == pytest.approx(float(z), rel=1e-13)


def test_dirichlet_mean():
    np.testing.assert_allclose(bayes.dirichlet_mean([2, 0, 1], 0.5), [2.5 / 4.5, 0.5 / 4.5, 1.5 / 4.5])


def test_table_matches_spec():
    np.testing.assert_allclose([bayes.expected_tv("mle", n) for n in NS], SPEC_MLE, atol=1e-5)
    np.testing.assert_allclose([bayes.expected_tv("median", n) for n in NS], SPEC_MEDIAN, atol=1e-5)
    np.testing.assert_allclose([bayes.expected_accuracy("mle", n) for n in NS], SPEC_ACC, atol=1e-5)
    assert bayes.expected_tv("mle", 0) == pytest.approx(0.2, abs=1e-14)  # E|1/2 - t| = 0.2
    assert bayes.expected_tv("median", 0) == pytest.approx(0.2, abs=1e-14)


@pytest.mark.parametrize("n", [1, 2, 5, 10])
def test_table_exact_by_brute_force_sum(n):
    # Independent route: sum over k of closed-form polynomial integrals in exact rationals
    # (|e - t| split at e, e the MLE k/n, a rational).
    lo, hi = Fraction(1, 10), Fraction(9, 10)

    def integral(poly, a, b):   # int_a^b sum c_j t^j
        return sum(c * (b ** (j + 1) - a ** (j + 1)) / (j + 1) for j, c in enumerate(poly))

    def binom_poly(k):          # C(n,k) t^k (1-t)^(n-k) as coefficients
        from math import comb
        coeffs = [Fraction(0)] * (n + 2)
        for j in range(n - k + 1):
            coeffs[k + j] += Fraction(comb(n, k) * comb(n - k, j) * (-1) ** j)
        return coeffs

    total = Fraction(0)
    for k in range(n + 1):
        e = Fraction(k, n)
        p = binom_poly(k)
        tp = [Fraction(0)] + p[:-1]          # t * p
        c = min(max(e, lo), hi)
        total += e * integral(p, lo, c) - integral(tp, lo, c) + integral(tp, c, hi) - e * integral(p, c, hi)
    assert bayes.expected_tv("mle", n) == pytest.approx(float(total / Fraction(4, 5)), abs=1e-13)


@pytest.mark.parametrize("estimator", ["mle", "mean", "median"])
def test_table_against_monte_carlo(estimator):
    # Monte Carlo: theta ~ U(.1,.9), k ~ Bin(n, theta), 1e5 draws per n; within 3 SE of the quadrature.
    rng = np.random.default_rng(11)
    for n in (1, 5, 20):
        theta = rng.uniform(0.1, 0.9, 100_000)
        k = rng.binomial(n, theta)
        values = bayes.estimate(estimator, np.arange(n + 1), n)[k]   # look-up per k
        err = np.abs(values - theta)
        se = err.std(ddof=1) / np.sqrt(err.size)
        assert abs(err.mean() - bayes.expected_tv(estimator, n)) < 3 * se
        acc = bayes.binary_acc_exp(values, theta)
        se = acc.std(ddof=1) / np.sqrt(acc.size)
        assert abs(acc.mean() - bayes.expected_accuracy(estimator, n)) < 3 * se


def test_median_is_the_floor():
    # The median minimises the posterior expected |v - theta|: every other estimate is worse.
    for n in (1, 4, 9):
        for k in range(n + 1):
            med = bayes.truncated_beta_median(k, n)
            best = bayes.posterior_abs_deviation(med, k, n)
            others = np.linspace(0, 1, 101)
            assert np.all(bayes.posterior_abs_deviation(others, k, n) >= best - 1e-12)
    assert all(bayes.expected_tv("median", n) <= min(bayes.expected_tv("mle", n), bayes.expected_tv("mean", n))
               for n in NS)


def test_posterior_abs_deviation_against_quadrature():
    for v, k, n in [(0.3, 2, 7), (0.05, 0, 3), (0.95, 4, 4), (0.5, 10, 30)]:
        ref = _quad(lambda t: abs(v - t), k, n) / _quad(lambda t: 1.0, k, n)
        assert bayes.posterior_abs_deviation(v, k, n) == pytest.approx(ref, rel=1e-9)


def test_accuracy_identity_and_bayes_equals_mle_off_ties():
    rng = np.random.default_rng(3)
    p_hat = np.concatenate([rng.random(10_000), [0.5] * 10, rng.integers(0, 3, 100) / 2])
    p = np.concatenate([rng.random(10_000), rng.random(10), rng.random(100)])
    direct = bayes.acc_exp_each(np.stack([1 - p_hat, p_hat], -1), np.stack([1 - p, p], -1))
    assert bayes.acc_exp(np.array([[0.5, 0.5]]), np.array([[0.3, 0.7]])) == 0.5
    np.testing.assert_allclose(bayes.binary_acc_exp(p_hat, p), direct, rtol=0, atol=1e-12)
    for n in range(1, 120):
        k = np.arange(n + 1)
        off = 2 * k != n
        side = np.sign(2 * k - n)[off]
        assert np.all(np.sign(bayes.truncated_beta_mean(k, n) - 0.5)[off] == side)
        assert np.all(np.sign(bayes.truncated_beta_median(k, n) - 0.5)[off] == side)
    assert bayes.expected_accuracy("mean", 7) == bayes.expected_accuracy("mle", 7)


def test_acc_sample():
    p_hat = np.array([[0.2, 0.8], [0.5, 0.5], [0.9, 0.1]])
    assert bayes.acc_sample(p_hat, np.array([1, 0, 1])) == pytest.approx((1 + 0.5 + 0) / 3)


@pytest.mark.parametrize("call", [
    lambda: bayes.truncated_beta_mean(3, 2),
    lambda: bayes.truncated_beta_mean(-1, 2),
    lambda: bayes.truncated_beta_mean(0, 10_000),
    lambda: bayes.truncated_beta_median(0.5, 2),
    lambda: bayes.dirichlet_mean([1, 2], 0),
    lambda: bayes.expected_tv("mode", 3),
    lambda: bayes.expected_tv("mle", 5000),
    lambda: bayes.acc_sample(np.ones((2, 2)) / 2, np.array([0, 2])),
    lambda: bayes.acc_exp(np.ones((2, 2)) / 2, np.ones((3, 2)) / 2),
    lambda: bayes.posterior_abs_deviation(1.5, 1, 2),
])
def test_bad_input(call):
    with pytest.raises(InputError):
        call()

"""Exact k-state moments (Lemma C.8, lsa.md Part 2 §E) against the spec's values, the binary
code path, path enumeration, Dirichlet sampling and Monte Carlo over prompts."""

from fractions import Fraction
from itertools import product

import numpy as np
import pytest
import sympy as sp

from numerics.lsa import kstate, optimum
from numerics.lsa.ceilings import sample_kernel_prompts
from theory import lsa
from theory.errors import InputError, TooLargeError


def test_binary_case_is_the_random_kernel_task_at_p_half():
    # k = 2, alpha = 1: Dir(1, 1) rows are U(0, 1), uniform start = p = 1/2; reference: the
    # binary exact code of theory.lsa (a different implementation), d = 1 and d = 2
    for d in (1, 2):
        mine = kstate.kstate_optimum(2, 1, d, 10)
        mom = lsa.markov_moments(d, sp.Rational(1, 2), 10)
        ref = lsa.optimum(mom.H, mom.h, mom.Ey)
        assert mine.X == [Fraction(int(v.p), int(v.q)) for v in ref.X]
        assert mine.loss == Fraction(int(ref.loss.p), int(ref.loss.q))
    assert kstate.kstate_optimum(2, 1, 1, 10).loss == Fraction(121, 342)   # lsa.md §2 anchor


def test_spec_values_k3_k4():
    # lsa.md Part 2 §E (sympy, MC-checked there)
    k3 = kstate.kstate_optimum(3, 1, 1, 10)
    assert k3.X == [Fraction(40191, 376930), Fraction(20716, 188465), Fraction(32238, 188465)]
    assert k3.loss == Fraction(10836163, 10177110)
    assert float(k3.X[1] ** 2 - 4 * k3.X[0] * k3.X[2]) == pytest.approx(-0.061, abs=5e-4)
    assert float(kstate.kstate_optimum(3, Fraction(1, 2), 1, 10).loss) == pytest.approx(1.038348, abs=5e-7)
    assert float(kstate.kstate_optimum(4, 1, 1, 10).loss) == pytest.approx(2.086756, abs=5e-7)
    assert float(kstate.kstate_optimum(3, 1, 2, 10).loss) == pytest.approx(0.815831, abs=5e-7)
    assert float(kstate.kstate_optimum(2, 1, 2, 10).loss) == pytest.approx(0.244422, abs=5e-7)
    assert float(kstate.kstate_optimum(3, 1, 1, 30).loss) == pytest.approx(1.035862, abs=5e-7)


def test_realisability_thresholds():
    assert kstate.kstate_threshold(3, 1, 100).n_min == 17      # lsa.md Part 2 §E
    assert kstate.kstate_threshold(4, 1, 100).n_min == 33
    assert kstate.kstate_threshold(3, 1, 100).stays_realizable


def test_sympy_route_agrees_with_flint():
    for k, alpha in ((3, 1), (3, sp.Rational(1, 2)), (4, 2)):
        ref = lsa.kstate_optimum_d1(k, alpha, 7)
        mine = kstate.kstate_optimum(k, Fraction(str(alpha)), 1, 7)
        assert mine.loss == Fraction(int(ref.loss.p), int(ref.loss.q))


def test_conditional_moment_against_path_enumeration():
    # independent: sum over all state paths of a fixed numeric kernel
    rng = np.random.default_rng(0)
    k = 3
    K = rng.dirichlet(np.ones(k), k)
    times = (1, 2, 2, 4)
    poly = kstate.conditional_moment(times, k)
    value = sum(float(c) * np.prod(K.reshape(-1) ** np.array(e)) for e, c in poly.items())
    brute = 0.0
    for path in product(range(k), repeat=4):
        prob = 1 / k * K[path[0], path[1]] * K[path[1], path[2]] * K[path[2], path[3]]
        brute += prob * np.prod([path[t - 1] for t in times])
    assert value == pytest.approx(brute, rel=1e-12)


def test_dirichlet_moment_against_sampling_and_beta():
    # k = 2, alpha = 1: K_00 ~ U(0, 1): E[K_00^3] = 1/4 (Beta moment)
    assert kstate.dirichlet_moment([[3, 0], [0, 0]], 2, 1) == Fraction(1, 4)
    rng = np.random.default_rng(1)
    a = np.array([[2, 1, 0], [0, 1, 1], [1, 0, 0]])
    draws = rng.dirichlet(np.full(3, 0.5), (400_000, 3))
    vals = np.prod(draws ** a, axis=(1, 2))
    exact = float(kstate.dirichlet_moment(a, 3, Fraction(1, 2)))
    assert abs(vals.mean() - exact) <= 4 * vals.std() / np.sqrt(vals.size)
    assert float(lsa.dirichlet_moment(a.tolist(), sp.Rational(1, 2))) == pytest.approx(exact, rel=1e-14)


def test_monte_carlo_loss_within_3_se():
    # independent route: prompts simulated chain by chain, features from the prompt
    for k, alpha, d in ((3, 1, 1), (3, 1, 2)):
        opt = kstate.kstate_optimum(k, alpha, d, 10)
        X = np.array([float(v) for v in opt.X])
        Z = sample_kernel_prompts(k, float(alpha), d, 10, 60_000, 5)
        err = (optimum.features(Z.Z) @ X - Z.y) ** 2
        se = err.std(ddof=1) / np.sqrt(err.size)
        assert abs(err.mean() - float(opt.loss)) <= 3 * se


def test_alpha_zero_limit_and_bad_input():
    assert np.isfinite(float(kstate.kstate_optimum(3, 0, 1, 10).loss))
    with pytest.raises(InputError):
        kstate.kstate_optimum(1, 1, 1, 10)
    with pytest.raises(InputError):
        kstate.kstate_optimum(3, -1, 1, 10)
    with pytest.raises(TooLargeError):
        kstate.kstate_optimum(4, 1, 3, 10)        # refused before any work
    with pytest.raises(InputError):
        kstate.kstate_optimum(3, 1, 4, 10)


@pytest.mark.slow
def test_d3_k3_is_exact_and_matches_monte_carlo():
    opt = kstate.kstate_optimum(3, 1, 3, 10)
    X = np.array([float(v) for v in opt.X])
    Z = sample_kernel_prompts(3, 1.0, 3, 10, 100_000, 9)
    err = (optimum.features(Z.Z) @ X - Z.y) ** 2
    assert abs(err.mean() - float(opt.loss)) <= 3 * err.std(ddof=1) / np.sqrt(err.size)

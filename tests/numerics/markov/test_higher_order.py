"""Tests of numerics.markov.higher_order against independent computations.

References: the values of the specification (markov.md Part 2, Sec. 2) are recomputed here by a
pure-Python route (itertools over every sequence, exact rationals for the probabilities, dicts
for the conditional laws) that shares no code with the module; the random order-1 rate against
scipy's adaptive dblquad, the order-2 rate against a seeded Monte Carlo average.
"""

import math
from collections import defaultdict
from fractions import Fraction
from itertools import product

import numpy as np
import pytest

from numerics.markov import higher_order
from theory.errors import InputError, TooLargeError


def _lag_law(p: Fraction, q: Fraction, lag: int, length: int) -> dict:
    """Every sequence of the lag-k chain with its exact probability."""
    pi = {0: q / (p + q), 1: p / (p + q)}
    kernel = {(0, 0): 1 - p, (0, 1): p, (1, 0): q, (1, 1): 1 - q}
    law = {}
    for seq in product((0, 1), repeat=length):
        prob = Fraction(1)
        for n, x in enumerate(seq):
            prob *= pi[x] if n < lag else kernel[(seq[n - lag], x)]
        law[seq] = prob
    return law


def _h_given(law: dict, key, target) -> float:
    """H(target | key) in nats from an exact law over sequences."""
    joint = defaultdict(lambda: [0.0, 0.0])
    for seq, prob in law.items():
        joint[key(seq)][target(seq)] += float(prob)
    total = 0.0
    for a, b in joint.values():
        for m in (a, b):
            if m > 0:
                total -= m * math.log(m / (a + b))
    return total


def _reference_bound(p, q, lag, N, window):
    law = _lag_law(Fraction(p), Fraction(q), lag, N + 1)
    total = 0.0
    for n in range(1, N + 1):
        first = 1 if window is None else max(1, n - window)
        total += _h_given(law, lambda s: (s[n - 1], sum(s[first - 1:n])), lambda s: s[n])
    return total / N


def _reference_bayes(p, q, lag, N):
    """(1/N) sum_n H(x_{n+1} | x_1..x_n): the Bayes-optimal loss."""
    law = _lag_law(Fraction(p), Fraction(q), lag, N + 1)
    return sum(_h_given(law, lambda s: s[:n], lambda s: s[n]) for n in range(1, N + 1)) / N


P, Q = Fraction(1, 5), Fraction(3, 10)


def test_entropies_of_the_spec():
    summary = higher_order.lag_summary(0.2, 0.3, 2, 10)
    # H(P) = H(x_{n+1} | x_{n-1}) for lag 2 and H(pi) = H(x_1) from the exact law
    law = _lag_law(P, Q, 2, 4)
    assert abs(summary.entropy_rate - _h_given(law, lambda s: s[1], lambda s: s[3])) < 1e-14
    assert abs(summary.unigram_entropy - _h_given(law, lambda s: 0, lambda s: s[0])) < 1e-14
    assert round(summary.entropy_rate, 6) == 0.544587
    assert round(summary.unigram_entropy, 6) == 0.673012


@pytest.mark.parametrize("lag, N", [(2, 10), (1, 6), (3, 7), (4, 4), (5, 3)])
def test_finite_n_optimum_is_the_bayes_loss(lag, N):
    value = higher_order.optimal_loss_finite_n(0.2, 0.3, lag, N)
    assert abs(value - _reference_bayes(0.2, 0.3, lag, N)) < 1e-13


def test_finite_n_optimum_value_of_the_spec():
    assert round(higher_order.optimal_loss_finite_n(0.2, 0.3, 2, 10), 6) == 0.557430


@pytest.mark.parametrize("window, spec", [(1, 0.557430), (2, 0.595878), (3, 0.595071),
                                          (5, 0.611999), (9, 0.619847), (None, 0.619847)])
def test_window_bounds_k1_k3(window, spec):
    value = higher_order.window_bound(0.2, 0.3, 2, 10, window)
    assert abs(value - _reference_bound(0.2, 0.3, 2, 10, window)) < 1e-13
    assert round(value, 6) == spec


def test_window_bound_other_chains():
    for p, q, lag, N, window in [(0.5, 0.8, 3, 7, 2), (0.7, 0.1, 1, 6, None), (0.4, 0.4, 2, 5, 1)]:
        value = higher_order.window_bound(p, q, lag, N, window)
        assert abs(value - _reference_bound(p, q, lag, N, window)) < 1e-13
        assert value >= higher_order.optimal_loss_finite_n(p, q, lag, N) - 1e-14


def test_random_order_one_against_dblquad():
    from scipy.integrate import dblquad

    def rate(u1, u0):           # p = u0, q = 1 - u1
        p, q = u0, 1.0 - u1
        h = lambda t: -t * math.log(t) - (1 - t) * math.log(1 - t) if 0 < t < 1 else 0.0
        return (q * h(p) + p * h(q)) / (p + q) if p + q > 0 else 0.0

    reference, _ = dblquad(rate, 0, 1, 0, 1, epsabs=1e-12, epsrel=1e-12)
    result = higher_order.random_order_rate(1)
    assert abs(result.expected_entropy_rate - reference) < 1e-9
    assert round(result.expected_entropy_rate, 6) == 0.480889


def test_random_order_two_against_monte_carlo():
    rng = np.random.default_rng(7)
    u = rng.random((200_000, 4))          # P(1 | c) for contexts 00, 01, 10, 11
    # stationary law of the 4 contexts: rows of T^(2^12) by repeated squaring, per sample
    T = np.zeros((len(u), 4, 4))
    for c in range(4):
        T[:, c, (2 * c) % 4] = 1 - u[:, c]
        T[:, c, (2 * c + 1) % 4] = u[:, c]
    for _ in range(12):
        T = T @ T
    mu = T.mean(axis=1)
    h = -u * np.log(u) - (1 - u) * np.log(1 - u)
    samples = np.sum(mu * h, axis=1)
    mean, err = samples.mean(), samples.std() / math.sqrt(len(samples))
    result = higher_order.random_order_rate(2)
    assert abs(result.expected_entropy_rate - mean) < 4 * err
    assert result.error_estimate < 1e-5


def test_bad_inputs():
    with pytest.raises(InputError, match="lag"):
        higher_order.optimal_loss_finite_n(0.2, 0.3, 0, 10)
    with pytest.raises(InputError, match="seq_len"):
        higher_order.window_bound(0.2, 0.3, 2, 17)
    with pytest.raises(InputError, match="window"):
        higher_order.window_bound(0.2, 0.3, 2, 5, 0)
    with pytest.raises(InputError, match="order"):
        higher_order.random_order_rate(3)
    with pytest.raises(InputError, match="p"):
        higher_order.lag_summary(1.0, 0.3, 2, 10)
    assert issubclass(TooLargeError, InputError)

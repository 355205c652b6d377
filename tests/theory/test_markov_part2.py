"""Tests of theory.markov's Part 2 section: phi's logits (R1), the lag-k optimum, the random
order-1 integrand. References: numbers recomputed independently (numpy forward pass at given
values; the spec's printed values)."""

import math

import numpy as np
import pytest
import sympy as sp

from theory import markov
from theory.errors import InputError


@pytest.mark.parametrize("d", [1, 2, 3])
@pytest.mark.parametrize("negative", [False, True])
def test_reduction_identity_holds(d, negative):
    result = markov.reduction_logits(d, negative=negative)
    assert result.differences == [0, 0]


def test_reduction_logits_numerically():
    """Substitute numbers into the symbolic full logits and evaluate the model in numpy."""
    result = markov.reduction_logits(2, alpha=[1, -1])
    e_sym = next(s for s in result.full[1].free_symbols if s.name == "e")
    e_val, w_val, b_val = 0.8, -0.6, 0.3
    a_hat = np.array([1.0, -1.0]) / math.sqrt(2)
    b_hat = np.full(8, 1 / (2 * math.sqrt(2)))
    W1, W2 = 2 * abs(w_val) * np.outer(b_hat, a_hat), 2 * w_val * np.outer(a_hat, b_hat)
    for x in (0, 1):
        h = x * e_val * a_hat - e_val / 2 * a_hat
        direct = e_val * a_hat @ (h + W2 @ np.maximum(W1 @ h, 0)) + b_val
        symbolic = float(result.full[x].subs({e_sym: e_val, markov.w: w_val, markov.b: b_val}))
        assert abs(direct - symbolic) < 1e-14


def test_lag_optimal_loss():
    value = markov.lag_optimal_loss(2, 10, sp.Rational(1, 5), sp.Rational(3, 10))
    assert round(float(value), 6) == 0.557430
    # k = 1: every position is at the entropy rate
    assert sp.simplify(markov.lag_optimal_loss(1, 7) - markov.entropy_rate()) == 0


def test_random_order_integrand_is_the_entropy_rate():
    assert sp.simplify(markov.random_order_one_rate_integrand() - markov.entropy_rate()) == 0


def test_bad_inputs():
    with pytest.raises(InputError, match="alpha"):
        markov.reduction_logits(2, alpha=[1, 0])
    with pytest.raises(InputError, match="d"):
        markov.reduction_logits(0)
    with pytest.raises(InputError, match="k"):
        markov.lag_optimal_loss(0, 3)

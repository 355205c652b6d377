"""My derivations, checked with the library's assertions."""

import sympy as sp
import torch

from theory import markov
from validation.testing import (assert_converged_to, assert_expressions_equal, assert_matches_autograd,
                                assert_stationary)


def test_unigram_line_is_stationary():
    # exact: e = 0, b = log(p/q) is a critical point for every p, q and every w (w maps to itself)
    assert_stationary(markov.canonical_loss(branch=1), [markov.e, markov.w, markov.b],
                      {markov.e: 0, markov.w: markov.w, markov.b: markov.unigram_bias()})


def test_energy_identity():
    flow = markov.energy_rate_along_flow(branch=-1)           # EnergyRate(rate, identity_rhs)
    assert_expressions_equal(flow.rate, flow.identity_rhs)    # proved by sympy, or the test fails


def test_kl_form_numerically():
    # sympy cannot simplify the log-sum-exp: compare at 20 seeded random points, 50 digits
    assert_expressions_equal(markov.canonical_loss(), markov.canonical_loss_kl_form(), tol=1e-40,
                             domain={markov.e: (-2, 2), markov.w: (-2, 2), markov.b: (-2, 2)})


def test_my_torch_loss_matches_the_theory():
    p, q = 0.2, 0.35

    def my_loss(v):                                           # your implementation, v = (e, w, b)
        e, w, b = v
        f0, f1 = b - e**2 / 2, b + e**2 / 2 + 2 * e**2 * w * w.abs()
        bce = torch.nn.functional.binary_cross_entropy_with_logits
        pi0, pi1 = q / (p + q), p / (p + q)
        return pi0 * bce(f0, torch.tensor(p, dtype=torch.float64)) + pi1 * bce(f1, torch.tensor(1 - q, dtype=torch.float64))

    point = {markov.p: sp.Rational(1, 5), markov.q: sp.Rational(7, 20), markov.e: 0.8, markov.w: -0.6, markov.b: -0.3}
    for order in (1, 2):                                      # gradient, then Hessian
        assert_matches_autograd(markov.canonical_loss(branch=-1), [markov.e, markov.w, markov.b], point, my_loss, order=order)


def test_training_reached_the_global_curve():
    trained = {"loss": 0.6190436, "e": torch.tensor([1.2003])}  # e.g. read from your model
    assert_converged_to(trained, {"loss": 0.6190436, "e": 1.2}, tol=1e-3)

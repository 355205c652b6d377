"""Tests of numerics.markov.reduction (P2's map phi, M', the (e, w, a) model).

Independent routes: a hand-written forward pass of the full model (numpy, written here) for the
logits at phi and at M' points; a pure-Python enumeration of every sequence for the (e, w, a)
loss; central finite differences for its gradient; the canonical loss of
numerics.markov.canonical (itself checked against sympy) for the reductions.
"""

import math
from itertools import product

import numpy as np
import pytest

from numerics.markov import canonical, reduction
from numerics.shared.seeding import as_generator
from theory.errors import InputError


def _forward(params: dict, xs) -> np.ndarray:
    """Logits of the single-layer tied model for one input sequence (causal softmax attention,
    MLP with ReLU), written independently of validation.markov.models."""
    d = params["e"].shape[0]
    h = np.array([x * params["e"] + params["pos"][n] for n, x in enumerate(xs)])
    out = []
    for n in range(len(xs)):
        scores = np.array([(params["W_Q"] @ h[n]) @ (params["W_K"] @ h[i]) for i in range(n + 1)])
        att = np.exp(scores - scores.max()) / np.exp(scores - scores.max()).sum()
        y = h[n] + params["W_O"] @ sum(att[i] * (params["W_V"] @ h[i]) for i in range(n + 1))
        z = y + params["W_2"] @ np.maximum(params["W_1"] @ y, 0.0)
        out.append(params["e"] @ z + float(params["b"]))
    assert d == len(params["e"])
    return np.array(out)


@pytest.mark.parametrize("e, w, b", [(1.0, 0.5, 0.0), (0.7, -1.3, 0.4), (-0.9, 0.8, -0.2),
                                     (-1.4, -0.6, 0.3), (0.0, 2.0, 1.0)])
def test_phi_logits_are_canonical(e, w, b):
    rng = as_generator(3)
    d = 4
    alpha = rng.choice([-1.0, 1.0], size=d)
    params = reduction.phi(e, w, b, d, 5, alpha=alpha, query=rng.normal(size=(d, d)),
                           key=rng.normal(size=(d, d)))
    logits = _forward(params, [0, 1, 1, 0, 1])
    if e >= 0:
        f = canonical.canonical_logits(e, w, b)
    else:
        f = canonical.canonical_logits(-e, w, b - 2 * w * abs(w) * e * e)
    expected = np.where(np.array([0, 1, 1, 0, 1]) == 1, f.f1, f.f0)
    np.testing.assert_allclose(logits, expected, rtol=0, atol=1e-13)


def test_phi_loss_negative_e_branch():
    for e, w, b in [(-0.9, 0.8, -0.2), (-2.0, -1.1, 0.5)]:
        direct = reduction.phi_loss(0.5, 0.8, e, w, b)
        shifted = canonical.canonical_loss(0.5, 0.8, -e, w, b - 2 * w * abs(w) * e * e)
        assert abs(direct - shifted) < 1e-15
    assert abs(reduction.phi_loss(0.5, 0.8, 1.0, 0.5, 0.0)
               - canonical.canonical_loss(0.5, 0.8, 1.0, 0.5, 0.0)) == 0


@pytest.mark.parametrize("a, c, m, k, b", [(1.0, -0.5, 1.0, 1.0, 0.0), (0.6, 0.3, -1.2, 0.7, 0.1),
                                           (-0.8, 0.2, 0.9, -1.5, -0.3)])
def test_invariant_logits(a, c, m, k, b):
    d = 3
    params = reduction.invariant_point(a, c, m, k, b, d, 4, alpha=[1.0, -1.0, 1.0])
    np.testing.assert_allclose(_forward(params, [0, 1, 0, 1]),
                               np.tile(reduction.invariant_logits(a, c, m, k, b), 2), atol=1e-13)


def test_phi_is_a_slice_of_m_prime():
    e, w, b = 0.8, -0.7, 0.2
    left = reduction.phi(e, w, b, 4, 3)
    right = reduction.invariant_point(e, -e / 2, 2 * abs(w), 2 * w, b, 4, 3)
    for name in left:
        np.testing.assert_array_equal(left[name], right[name])


def _brute_attention_loss(p, q, e, w, a, b, N):
    pi = (q / (p + q), p / (p + q))
    P = ((1 - p, p), (q, 1 - q))
    total = 0.0
    for seq in product((0, 1), repeat=N + 1):
        prob = pi[seq[0]] * math.prod(P[seq[i]][seq[i + 1]] for i in range(N))
        loss = 0.0
        for n in range(1, N + 1):
            s = seq[n - 1] - 0.5 + a * (sum(seq[:n]) / n - 0.5)
            logit = e * e * s + 4 * w * abs(w) * e * max(e * s, 0.0) + b
            loss += math.log1p(math.exp(logit)) - seq[n] * logit
        total += prob * loss / N
    return total


@pytest.mark.parametrize("theta", [(1.2, -0.7, 0.8, 0.3), (-1.2, 0.7, -0.8, 0.3),
                                   (0.5, 1.5, 2.0, -1.0)])
def test_attention_loss_by_enumeration(theta):
    value = reduction.attention_loss(0.5, 0.8, *theta, 7)
    assert abs(value - _brute_attention_loss(0.5, 0.8, *theta, 7)) < 1e-13


def test_attention_forward_pass_matches_formula():
    """The (e, w, a) point in the full model: W_Q = W_K = 0, W_V = a a^ a^T, W_O = I."""
    e, w, a, b, d = 1.1, -0.6, 0.7, 0.2, 4
    params = reduction.phi(e, w, b, d, 6, alpha=[1.0, 1.0, -1.0, 1.0])
    a_hat = np.array([1.0, 1.0, -1.0, 1.0]) / 2
    params["W_V"], params["W_O"] = a * np.outer(a_hat, a_hat), np.eye(d)
    xs = [1, 0, 0, 1, 1, 0]
    x = np.array(xs, dtype=float)
    sums = np.cumsum(x).astype(int)
    table = reduction.attention_logits(e, w, a, b, 6)
    expected = table[np.arange(6), x.astype(int), sums]
    np.testing.assert_allclose(_forward(params, xs), expected, atol=1e-13)


def test_attention_at_a_zero_is_canonical():
    for e, w, b in [(1.0, 0.5, 0.0), (0.3, -1.2, 0.7), (2.0, 0.1, -1.0)]:
        for N in (1, 5, 40):
            assert abs(reduction.attention_loss(0.2, 0.3, e, w, 0.0, b, N)
                       - canonical.canonical_loss(0.2, 0.3, e, w, b)) < 1e-12


def test_attention_gradient_finite_differences():
    theta = np.array([0.9, -0.8, 0.6, 0.1])
    grad = reduction.attention_gradient(0.3, 0.6, *theta, 9)
    step = 1e-6
    for i in range(4):
        up, down = theta.copy(), theta.copy()
        up[i] += step
        down[i] -= step
        numeric = (reduction.attention_loss(0.3, 0.6, *up, 9)
                   - reduction.attention_loss(0.3, 0.6, *down, 9)) / (2 * step)
        assert abs(grad[i] - numeric) < 1e-8


def test_optimal_bias_zeroes_the_slope():
    for start in (0.0, 40.0, -40.0):
        bias = reduction.attention_optimal_bias(0.5, 0.8, 1.0, 0.5, 0.3, 20, start=start)
        assert abs(reduction.attention_gradient(0.5, 0.8, 1.0, 0.5, 0.3, bias, 20)[3]) <= 1e-13
    # at e = 0 the optimal bias is log(p/q)
    bias = reduction.attention_optimal_bias(0.5, 0.8, 0.0, 0.5, 0.3, 20)
    assert abs(bias - math.log(0.5 / 0.8)) < 1e-12


def test_flow_decreases_the_loss_and_ends_at_a_level():
    for pq, level in ((0.1, "global"), (0.9, "local")):
        flow = reduction.attention_flow(pq, pq, 0.3, 0.3, 0.3, 16, gtol=1e-6)
        assert np.all(np.diff(flow.loss) <= 1e-12)
        assert flow.converged
        assert canonical.end_state(pq, pq, flow.loss[-1], tol=1e-6) == level


def test_bad_inputs():
    with pytest.raises(InputError, match="alpha"):
        reduction.phi(1.0, 0.5, 0.0, 3, 4, alpha=[1, 0, 1])
    with pytest.raises(InputError, match="seq_len"):
        reduction.attention_loss(0.5, 0.8, 1.0, 0.5, 0.1, 0.0, 0)
    with pytest.raises(InputError, match="e"):
        reduction.phi(float("nan"), 0.5, 0.0, 3, 4)
    with pytest.raises(InputError, match="d"):
        reduction.phi(1.0, 0.5, 0.0, 0, 4)

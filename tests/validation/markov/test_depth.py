"""Tests of validation.markov.depth (Part 2 Sec. 1, D1-D5) and of the L-layer model.

Reference values are written out here from the closed forms (binary entropy, stationary law,
lambda = 1 - p - q), from brute-force enumeration with itertools, or from the autograd Hessian of
the exact population loss; the library's Jacobian route for S is checked against them."""

import itertools
import math

import numpy as np
import pytest
import torch

from numerics.shared.threads import limit_threads
from theory.errors import InputError
from validation.markov.depth import (
    counter_loss, counter_loss_monte_carlo, previous_token_form, previous_token_model,
    previous_token_threshold, schur_autograd, schur_criterion, two_layer_global_point,
    unigram_hessian, unigram_model)
from validation.markov.models import (
    MarkovTransformer, attention_maps, build_model, exact_loss_gradient_hessian,
    from_weights, initial_parameters, layer_key, parameter_names)

ABOVE, BELOW = (0.5, 0.8), (0.2, 0.3)


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny tensors: one thread (as ``ttc reproduce`` runs claims) avoids contention."""
    with limit_threads(1):
        yield


def _h(t):
    return -t * math.log(t) - (1 - t) * math.log(1 - t)


def _levels(p, q):
    pi1 = p / (p + q)
    return (1 - pi1) * _h(p) + pi1 * _h(q), _h(pi1)


def _pi0pi1(p, q):
    return q * p / (p + q) ** 2


# ----------------------------------------------------------------------------- model

def test_layer_names_and_shapes():
    names = parameter_names(False, layers=3)
    assert names[:8] == ("e", "pos", "W_Q", "W_K", "W_V", "W_O", "W_1", "W_2")
    assert layer_key("W_V", 3) in names and names[-2:] == ("a", "b")
    model = build_model(3, 5, tied=True, seeds=[0, 1], layers=3)
    assert model.layers == 3 and model(torch.zeros(4, 5)).shape == (2, 4, 5)


def test_standard_init_scales_residual_outputs_for_deep_models():
    params = initial_parameters(8, 16, True, "standard", seed=0, layers=4)
    for layer in range(1, 5):
        # W_O and W_2 have std 0.02/sqrt(2L) = 0.0050; W_Q and W_1 0.02
        assert np.std(params[layer_key("W_2", layer)]) == pytest.approx(0.02 / math.sqrt(8), rel=0.15)
        assert np.std(params[layer_key("W_1", layer)]) == pytest.approx(0.02, rel=0.15)
    with pytest.raises(InputError, match="init"):
        initial_parameters(4, 6, True, "lowrank", seed=0, layers=2)


def test_identity_layers_leave_the_single_layer_model_unchanged():
    """A second layer with W_O = W_2 = 0 is the identity: same logits as one layer."""
    one = build_model(4, 6, tied=False, seeds=[3])
    weights = {k: v[0].detach() for k, v in one.params().items()}
    for m in ("W_Q", "W_K", "W_V", "W_1"):
        weights[layer_key(m, 2)] = torch.randn(weights[m].shape, dtype=torch.float64)
    weights[layer_key("W_O", 2)] = torch.zeros(4, 4)
    weights[layer_key("W_2", 2)] = torch.zeros(4, 16)
    two = from_weights(weights, tied=False)
    x = torch.randint(0, 2, (9, 6)).double()
    assert two.layers == 2
    assert torch.allclose(one(x), two(x), atol=0, rtol=0)


def test_memory_window_masks_attention():
    model = build_model(4, 7, tied=True, seeds=[0], layers=2, memory=2)
    for att in attention_maps(model.params(), torch.ones(1, 7), memory=2):
        n, i = np.indices((7, 7))
        outside = (i > n) | (i < n - 2)
        assert torch.all(att[0, 0][torch.tensor(outside)] == 0)
        assert torch.allclose(att[0, 0].sum(-1), torch.ones(7, dtype=torch.float64))
    # a window as long as the context is the causal model
    full = build_model(4, 7, tied=True, seeds=[0], layers=2)
    wide = MarkovTransformer(4, 7, True, full.params(), memory=6)
    x = torch.randint(0, 2, (5, 7)).double()
    assert torch.allclose(full(x), wide(x), atol=1e-15)


# ----------------------------------------------------------------------------- D1, D2

@pytest.mark.parametrize("layers", [1, 2, 4])
@pytest.mark.parametrize("tied", [True, False])
def test_d1_unigram_point_is_stationary_at_any_depth(layers, tied):
    p, q = ABOVE
    model = unigram_model(p, q, 4, 6, layers, 0.5, seed=layers, tied=tied)
    derivatives = exact_loss_gradient_hessian(model, p, q, hessian=False)
    assert np.abs(derivatives.gradient).max() <= 1e-12
    assert derivatives.loss == pytest.approx(_levels(p, q)[1], abs=1e-12)


def test_d2_zero_weights_closed_form():
    """Other weights (positions included) zero: S = 2 pi0 pi1 (p+q-1) I = 0.142012 I."""
    p, q = ABOVE
    expected = 2 * _pi0pi1(p, q) * (p + q - 1)
    assert expected == pytest.approx(0.142012, abs=5e-7)
    for layers in (1, 2, 4):
        model = unigram_model(p, q, 4, 6, layers, 0.0, seed=0)
        for route in (schur_criterion, schur_autograd):
            assert np.abs(route(model, p, q).matrix - expected * np.eye(4)).max() <= 1e-14


@pytest.mark.parametrize("layers", [1, 2, 4])
@pytest.mark.parametrize("tied", [True, False])
@pytest.mark.parametrize("sigma", [0.02, 0.3, 1.0])
def test_d2_jacobian_formula_matches_autograd_schur_complement(layers, tied, sigma):
    for p, q in (ABOVE, BELOW):
        model = unigram_model(p, q, 4, 6, layers, sigma, seed=10 * layers, tied=tied)
        formula, autograd = schur_criterion(model, p, q), schur_autograd(model, p, q)
        scale = max(1.0, np.abs(autograd.matrix).max())
        assert np.abs(formula.matrix - autograd.matrix).max() <= 1e-8 * scale
        assert formula.classification == autograd.classification


def test_d2_with_memory_window():
    p, q = BELOW
    model = unigram_model(p, q, 4, 6, 2, 0.3, seed=1, memory=1)
    assert np.abs(schur_criterion(model, p, q).matrix
                  - schur_autograd(model, p, q).matrix).max() <= 1e-10


def test_d2_untied_is_a_saddle():
    p, q = ABOVE
    model = unigram_model(p, q, 4, 6, 2, 0.02, seed=0, tied=False)
    assert schur_criterion(model, p, q).classification == "saddle"


def test_d3_small_weights_keep_the_tied_minimum():
    """sigma = 0.02: lambda_min(S) within 1e-3 of the zero-weight value 0.142012 (L = 2)."""
    p, q = ABOVE
    for seed in range(3):
        value = schur_criterion(unigram_model(p, q, 4, 6, 2, 0.02, seed), p, q).min_eigenvalue
        assert abs(value - 2 * _pi0pi1(p, q) * (p + q - 1)) <= 1e-3
        below = schur_criterion(unigram_model(*BELOW, 4, 6, 2, 0.02, seed), *BELOW)
        assert below.classification == "saddle"


def test_hessian_query():
    result = unigram_hessian(0.5, 0.8, layers=2, seq_len=6)
    assert result.classification == "local_min" and result.grad_norm <= 1e-12
    assert result.loss == pytest.approx(_levels(0.5, 0.8)[1], abs=1e-12)
    assert unigram_hessian(0.5, 0.8, layers=1, tied=False).classification == "saddle"
    with pytest.raises(InputError, match="seq_len"):
        unigram_hessian(0.5, 0.8, seq_len=11)


# ----------------------------------------------------------------------------- D4

def test_d4_threshold_closed_form():
    p, q = ABOVE
    lam, n = 1 - p - q, 6
    assert previous_token_threshold(p, q, n) == pytest.approx(12.0, abs=1e-12)
    assert previous_token_threshold(p, q, math.inf) == pytest.approx(10 / 3, abs=1e-12)
    # u^T S u written out: 2 pi0 pi1 [-lam (1 + c/N) - lam^2 c (N-1)/N]
    value = 2 * _pi0pi1(p, q) * (-lam * (1 + 15 / n) - lam**2 * 15 * (n - 1) / n)
    assert value == pytest.approx(-0.0355, abs=5e-5)
    assert previous_token_form(p, q, 15, n) == pytest.approx(value, abs=1e-15)
    assert previous_token_threshold(*BELOW, 6) == math.inf   # lambda > 0: no threshold


@pytest.mark.parametrize("c", [6.0, 12.0, 15.0])
def test_d4_hard_previous_token_head(c):
    """Jacobian route and autograd Schur complement of the model with a hard head agree with
    the closed form in the direction u (an eigenvector)."""
    p, q = ABOVE
    model = previous_token_model(c)
    expected = previous_token_form(p, q, c, 6)
    for route in (schur_criterion, schur_autograd):
        s = route(model, p, q).matrix
        assert s[0, 0] == pytest.approx(expected, abs=1e-12)
        assert np.abs(s[0, 1:]).max() <= 1e-12
    assert schur_criterion(model, p, q).classification == ("saddle" if c > 12 else "local_min")


# ----------------------------------------------------------------------------- D5

@pytest.mark.parametrize("kernel_layer", [1, 2])
@pytest.mark.parametrize("pq", [ABOVE, BELOW])
def test_d5_two_layer_global_point(kernel_layer, pq):
    p, q = pq
    model = two_layer_global_point(p, q, kernel_layer=kernel_layer)
    assert model.layers == 2
    derivatives = exact_loss_gradient_hessian(model, p, q, hessian=False)
    assert derivatives.loss == pytest.approx(_levels(p, q)[0], abs=1e-12)
    assert np.abs(derivatives.gradient).max() <= 1e-12


def _counter_brute_force(p, q, n_len):
    """The add-1/2 counter's loss by listing every sequence (itertools) and running it."""
    pi = (q / (p + q), p / (p + q))
    kernel = ((1 - p, p), (q, 1 - q))
    total = 0.0
    for seq in itertools.product((0, 1), repeat=n_len + 1):
        prob = pi[seq[0]] * math.prod(kernel[a][b] for a, b in zip(seq, seq[1:]))
        loss = 0.0
        for n in range(n_len):
            j = seq[n]
            moves = [seq[i] for i in range(1, n + 1) if seq[i - 1] == j]
            est = (sum(moves) + 0.5) / (len(moves) + 1)
            loss -= math.log(est if seq[n + 1] == 1 else 1 - est)
        total += prob * loss / n_len
    return total


@pytest.mark.parametrize("pq", [ABOVE, BELOW, (0.1, 0.9)])
def test_counter_recursion_matches_enumeration(pq):
    for n_len in (1, 2, 7):
        assert counter_loss(*pq, n_len) == pytest.approx(_counter_brute_force(*pq, n_len),
                                                         abs=1e-13)


def test_counter_loss_reference_value():
    """Spec D5: 0.6640 at N = 64 (Monte Carlo +-1e-3); between H(P) and H(pi)."""
    exact = counter_loss(0.5, 0.8, 64)
    assert exact == pytest.approx(0.6640, abs=1e-3)
    rate, unigram = _levels(0.5, 0.8)
    assert rate < exact < unigram
    mean, error = counter_loss_monte_carlo(0.5, 0.8, 16, 20000, seed=0)
    assert abs(mean - counter_loss(0.5, 0.8, 16)) <= 4 * error

"""The tied S-state transformer (validation.markov.states) and the conjecture check
markov.unigram_local_min (validation.markov.checks), against independent references: the binary
model of validation.markov.models (S = 2, E_0 = 0, p = q), the sympy key matrix, central
finite differences, exact symmetries and the closed form with attention and MLP switched off."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
import torch

from theory import markov
from theory.errors import TooLargeError
from validation.markov import states
from validation.markov import unigram
from validation.markov.models import (
    MarkovTransformer, exact_loss as binary_loss, exact_loss_gradient_hessian, parameter_slices)


def _point(S, d, N, seed=0, pos_scale=1.0, scale=1.0):
    params = states.initial_parameters(S, d, N, seed=seed, pos_scale=pos_scale)
    return {k: v * scale if k != "pos" else v for k, v in params.items()}


def test_s2_is_the_binary_model_with_e0_zero():
    params = _point(2, 3, 4, seed=5, scale=20.0)          # far from the unigram point
    params["E"] = params["E"].clone()
    params["E"][0] = 0.0
    params["b"] = torch.tensor([0.2, -0.4], dtype=torch.float64)
    binary = states.binary_restriction(params)
    for p in (0.2, 0.7):
        assert states.exact_loss(params, 2, p).item() == pytest.approx(
            binary_loss(binary, p, p, True)[0].item(), abs=1e-14)


def test_s2_full_hessian_agrees_with_the_binary_model():
    d, N, p = 3, 4, 0.3
    params = states.unigram_point(_point(2, d, N, seed=1))
    hess = states.loss_gradient_hessian(params, 2, p).hessian
    hb = exact_loss_gradient_hessian(
        MarkovTransformer(d, N, True, states.binary_restriction(params)), p, p).hessian
    # S-state flat order: E (2d: row 0 then row 1), pos, W_*, W_1, W_2, b (2); binary: e, ..., b
    keep = list(range(d, 2 * d)) + list(range(2 * d, hess.shape[0] - 2)) + [hess.shape[0] - 1]
    assert hess[np.ix_(keep, keep)].shape == hb.shape
    assert np.abs(hess[np.ix_(keep, keep)] - hb).max() < 1e-13
    # and the (e, b) block is not trivially zero
    sl = parameter_slices(d, N, True)
    assert np.abs(hb[sl["e"], sl["e"]]).max() > 1e-2


@pytest.mark.parametrize("S", [2, 3, 4])
def test_unigram_loss_is_log_S_for_any_other_weights(S):
    params = states.unigram_point(_point(S, 2, 3, seed=S, scale=25.0), bias=1.7)
    assert states.exact_loss(params, S, 0.37).item() == pytest.approx(math.log(S), abs=1e-14)


@pytest.mark.parametrize("S,k", [(2, 1), (3, 1), (3, 2), (4, 3)])
def test_sympy_key_matrix_against_enumeration(S, k):
    p = 0.23
    assert sp.simplify(markov.s_state_key_matrix(S, k) - markov.s_state_key_matrix_closed_form(S, k)) \
        == sp.zeros(S, S)
    closed = np.array(markov.s_state_key_matrix_closed_form(S, k).subs(markov.p, p), dtype=float)
    enumerated = states.enumerate_state_sequences(S, p, 4)
    sequences, prob = enumerated.sequences, enumerated.probabilities
    onehot = np.eye(S)[sequences]                                  # (M, N+1, S)
    n = 1
    measured = np.einsum("m,mi,mj->ij", prob, 1.0 / S - onehot[:, n + k], onehot[:, n])
    assert np.abs(measured - closed).max() < 1e-15
    lam = 1 - p * S / (S - 1)
    assert closed[0, 0] == pytest.approx(-(lam**k / S) * (1 - 1 / S), abs=1e-15)


def test_hessian_against_central_differences():
    S, d, N, p = 3, 2, 3, 0.4
    params = _point(S, d, N, seed=2, scale=10.0)
    wrt = ("E", "W_V", "b")
    derivatives = states.loss_gradient_hessian(params, S, p, wrt=wrt)
    grad, hess = derivatives.gradient, derivatives.hessian
    assert derivatives.loss == pytest.approx(states.exact_loss(params, S, p).item(), abs=0)
    flat = torch.cat([params[n].reshape(-1) for n in wrt])
    sizes = [params[n].numel() for n in wrt]

    def grad_at(vec):
        pieces = dict(zip(wrt, vec.split(sizes)))
        moved = {**params, **{n: pieces[n].reshape(params[n].shape).clone().requires_grad_(True)
                              for n in wrt}}
        loss = states.exact_loss(moved, S, p)
        grads = torch.autograd.grad(loss, [moved[n] for n in wrt])
        return torch.cat([g.reshape(-1) for g in grads])

    h = 1e-5
    for j in (0, 4, S * d + 1, len(flat) - 2):
        step = torch.zeros_like(flat)
        step[j] = h
        column = (grad_at(flat + step) - grad_at(flat - step)) / (2 * h)
        assert np.abs(column.numpy() - hess[:, j]).max() < 1e-8
    assert np.abs(grad_at(flat).numpy() - grad).max() < 1e-14


def test_loss_orders_agree_and_size_limit():
    params = _point(3, 3, 5, seed=4, scale=30.0)
    a = states.exact_loss(params, 3, 0.6, order="prefix").item()
    b = states.exact_loss(params, 3, 0.6, order="sequence").item()
    assert a == pytest.approx(b, abs=1e-14)
    assert a > 0.5
    with pytest.raises(TooLargeError):
        states.enumerate_state_sequences(5, 0.3, 8)


def test_vanishing_blocks_and_flat_directions():
    S, d, N, p = 3, 2, 3, 0.2
    params = states.unigram_point(_point(S, d, N, seed=3, scale=10.0))
    derivatives = states.loss_gradient_hessian(params, S, p)
    grad, hess = derivatives.gradient, derivatives.hessian
    eb = list(range(S * d)) + list(range(hess.shape[0] - S, hess.shape[0]))
    others = [i for i in range(hess.shape[0]) if i not in eb]
    assert np.abs(grad).max() < 1e-15
    assert np.abs(hess[np.ix_(others, others)]).max() < 1e-15
    assert np.abs(hess[np.ix_(eb, others)]).max() < 1e-15
    bases = unigram.eb_bases(S, d)
    nonflat, flat = bases.nonflat, bases.flat
    # orthonormal columns, and the two bases orthogonal to each other
    both = np.hstack([nonflat, flat])
    assert np.abs(both.T @ both - np.eye(both.shape[1])).max() < 1e-15
    block = hess[np.ix_(eb, eb)]
    assert np.abs(block @ flat).max() < 1e-14
    assert np.linalg.eigvalsh(nonflat.T @ block @ nonflat)[0] < -0.05       # lambda > 0: saddle
    # loss really constant along E = t 1 v^T (not only zero curvature)
    v = torch.tensor([0.7, -1.3], dtype=torch.float64)
    for t in (0.5, 3.0):
        moved = dict(params, E=t * torch.ones(S, 1, dtype=torch.float64) * v)
        assert states.exact_loss(moved, S, p).item() == pytest.approx(math.log(S), abs=1e-14)
    # the exact symmetry (E, pos) -> (E + 1 v^T, pos - v) away from the unigram point
    far = _point(S, d, N, seed=6, scale=20.0)
    shifted = dict(far, E=far["E"] + v, pos=far["pos"] - v)
    assert states.exact_loss(shifted, S, p).item() == pytest.approx(
        states.exact_loss(far, S, p).item(), abs=1e-14)


@pytest.mark.parametrize("S,d,N", [(3, 3, 4), (4, 2, 3)])
def test_reduction_to_the_binary_chain(S, d, N):
    for p in (0.15, (S - 1) / S, 0.93):
        params = _point(S, d, N, seed=S, pos_scale=10.0)
        full = unigram.unigram_classification(S, p, params=params, method="enumeration")
        reduced = unigram.unigram_classification(S, p, params=params, method="reduced")
        assert np.abs(full.restricted - reduced.restricted).max() < 1e-13
        assert full.flat_size < 1e-14
        assert full.verdict == reduced.verdict
        # the remaining fields: lambda, threshold, sorted eigenvalues of the restricted Hessian
        assert full.second_eigenvalue == pytest.approx(1 - p * S / (S - 1), abs=1e-15)
        assert full.threshold == pytest.approx((S - 1) / S, abs=1e-15) and full.S == S
        np.testing.assert_allclose(full.eigenvalues, np.linalg.eigvalsh(full.restricted), atol=1e-15)
        assert full.min_eigenvalue == full.eigenvalues[0]


def test_closed_form_without_attention_and_mlp():
    S, d, N, p = 3, 2, 4, 0.55
    params = _point(S, d, N, seed=7, pos_scale=20.0)
    params["W_V"] = torch.zeros_like(params["W_V"])
    params["W_2"] = torch.zeros_like(params["W_2"])
    result = unigram.unigram_classification(S, p, params=params, method="enumeration")
    simple = markov.s_state_unigram_hessian_simple(S, d)
    R, G, m = simple.hessian, simple.gram, simple.mean
    pos = params["pos"].numpy()
    gram, mean = pos.T @ pos / N, pos.mean(axis=0)
    subs = {markov.p: p, **{G[i, j]: gram[i, j] for i in range(d) for j in range(d)},
            **{m[i]: mean[i] for i in range(d)}}
    closed = np.array(R.subs(subs), dtype=float)
    assert np.abs(result.restricted - np.kron(np.eye(S - 1), closed)).max() < 1e-13
    # band edge: exact Schur complement (1/2) lambda_min(Cov p_n)
    band = unigram.band_edge(params)
    edge = band.lambda_star
    assert edge == pytest.approx(unigram.predicted_band_edge(params), rel=1e-8)
    # at lambda = 0 (S = 2, p = 1/2) the restricted block is (S/2) R_S(lambda = 0) of the closed
    # form, R_S = (1/S)[[G - 2 lambda I, m], [m^T, 1]]: its smallest eigenvalue, independently
    closed0 = np.array(R.subs({**subs, markov.p: sp.Rational(S - 1, S)}), dtype=float)
    assert band.min_eigenvalue_at_0 == pytest.approx(S / 2 * np.linalg.eigvalsh(closed0)[0], rel=1e-8)
    assert 0 < band.error_at_0 < 1e-12
    assert edge > 1e-4


def test_margin_flips_sign_where_theory_says():
    from validation.markov.checks import unigram_local_min_margin as margin

    params = states.initial_parameters(2, 4, 6, seed=0)
    edge = unigram.band_edge(params).lambda_star
    assert 1e-5 < edge < 1e-4                                    # standard init: a thin band
    for S in (2, 3, 5):
        thr = (S - 1) / S
        assert margin({"S": S, "p": thr + 0.05}) > 1e-3         # local minimum, as conjectured
        assert margin({"S": S, "p": thr - 0.05}) > 1e-3         # saddle, as conjectured
        assert margin({"S": S, "p": thr}) < -1e-6               # boundary: (global) minimum
        inside = thr * (1 - edge / 2)                           # lambda = edge / 2 > 0
        assert margin({"S": S, "p": inside}) < -1e-6           # the band: still a minimum
        outside = thr * (1 - 2 * edge)
        assert margin({"S": S, "p": outside}) > 0
    # N <= d: no band; at the boundary the Hessian is undecided and the margin conservative
    assert margin({"S": 3, "p": 2 / 3, "seq_len": 4}) >= 0
    assert margin({"S": 3, "p": 2 / 3 * (1 - 1e-6), "seq_len": 4}) > 0
    # the band grows like pos_scale^2
    wide = unigram.band_edge(states.initial_parameters(2, 4, 6, seed=0, pos_scale=10.0)).lambda_star
    assert wide / edge == pytest.approx(100.0, rel=0.05)


def test_polynomial_method_agrees_with_direct_hessians():
    for S, p in ((2, 0.5), (3, 0.31), (5, 0.97)):
        a = unigram.unigram_classification(S, p, method="polynomial")
        b = unigram.unigram_classification(S, p, method="reduced")
        assert np.abs(a.restricted - b.restricted).max() < 1e-13
        assert a.verdict == b.verdict
        assert a.error < 1e-12


@pytest.mark.slow
def test_s5_enumeration_matches_the_reduction():
    params = states.initial_parameters(5, 4, 6, seed=0)
    p = 0.8 * (1 - 1e-5)                                  # lambda = 1e-5: inside the band
    full = unigram.unigram_classification(5, p, params=params, method="enumeration")
    reduced = unigram.unigram_classification(5, p, params=params, method="reduced")
    assert np.abs(full.restricted - reduced.restricted).max() < 1e-12
    assert full.verdict == "local minimum"

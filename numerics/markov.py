"""Numerics for the Markov-chain paper (Makkuva et al., P1 = arXiv 2402.04161, P2 = arXiv 2406.03072).

Chain quantities, the canonical three-parameter loss (P2) vectorised over grids, the optimal bias
in closed form, critical points, the energy, and the basin prediction. The formulas are the ones
derived symbolically in :mod:`theory.markov`; ``tests/numerics/test_markov.py`` checks every
function here against the lambdified sympy expression.

Notation: ``p = P(1|0)``, ``q = P(0|1)``; ``pi = (q, p)/(p+q)``; canonical parameters
``theta = (e, w, b)``; ``u = e^2 (1 + 2 w|w|)``; ``f0 = b - e^2/2``; ``f1 = f0 + u``.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import expit, xlogy

from theory.errors import InputError, check_int, check_open_unit

SQRT_HALF = math.sqrt(0.5)
#: Energy of the saddle (e, w) = (0, -1/sqrt 2): E* = -(1 + log 2)/2 (P2, Sec. 3).
SADDLE_ENERGY = -(1.0 + math.log(2.0)) / 2.0


def check_chain(p, q) -> None:
    """Raise :class:`InputError` unless ``p, q`` are probabilities in (0, 1)."""
    check_open_unit("p", p)
    check_open_unit("q", q)


def binary_entropy(t):
    """:math:`h(t) = -t\\log t - (1-t)\\log(1-t)` in nats (``h(0) = h(1) = 0``)."""
    t = np.asarray(t, dtype=float)
    return -xlogy(t, t) - xlogy(1 - t, 1 - t)


def binary_kl(a, s):
    """:math:`KL(a\\|s) = a\\log(a/s) + (1-a)\\log((1-a)/(1-s))` between Bernoulli laws, nats."""
    a, s = np.asarray(a, dtype=float), np.asarray(s, dtype=float)
    return xlogy(a, a) - xlogy(a, s) + xlogy(1 - a, 1 - a) - xlogy(1 - a, 1 - s)


def stationary(p: float, q: float) -> np.ndarray:
    """Stationary law :math:`\\pi = (q, p)/(p+q)` of the binary chain; shape ``(2,)``."""
    check_chain(p, q)
    return np.array([q, p]) / (p + q)


def regime(p: float, q: float) -> str:
    """``"p+q>1"``, ``"p+q<1"`` or ``"p+q=1"`` (the last with a relative tolerance of 1e-12)."""
    s = p + q
    if abs(s - 1.0) <= 1e-12:
        return "p+q=1"
    return "p+q>1" if s > 1 else "p+q<1"


def chain_summary(p: float, q: float, states: int = 2) -> dict:
    """Stationary law, entropy rate :math:`H(P)`, unigram entropy :math:`H(\\pi)`, their
    difference :math:`I(x_n; x_{n+1})`, the switching factor and the regime (P1, Sec. 2).

    For ``states = S > 2`` the chain is the symmetric S-state chain with ``P_ii = 1 - p`` and
    ``P_ij = p/(S-1)`` (``q`` is then ignored and must still be valid): :math:`\\pi` uniform,
    :math:`H(\\pi) = \\log S`, :math:`H(P) = h(p) + p\\log(S-1)`.
    """
    check_chain(p, q)
    check_int("states", states, 2)
    if states == 2:
        pi = stationary(p, q)
        rate = float(pi[0] * binary_entropy(p) + pi[1] * binary_entropy(q))
        unigram = float(binary_entropy(pi[1]))
        switching = p + q
        reg = regime(p, q)
    else:
        pi = np.full(states, 1.0 / states)
        rate = float(binary_entropy(p) + p * math.log(states - 1))
        unigram = math.log(states)
        switching = p * states / (states - 1)  # 1 - lambda, lambda = 1 - pS/(S-1)
        reg = regime(switching, 0.0)
    return {"pi": pi.tolist(), "entropy_rate": rate, "unigram_entropy": unigram,
            "mutual_information": max(unigram - rate, 0.0), "switching": switching, "regime": reg}


# ----------------------------------------------------------------------------------------------
# The canonical three-parameter model (P2, spec Sec. 3), vectorised over arrays of (e, w, b).


def _softplus(x):
    return np.logaddexp(0.0, x)


def canonical_logits(e, w, b):
    """:math:`f_0 = b - e^2/2`, :math:`f_1 = b + e^2/2 + 2e^2 w|w|` (broadcast arrays)."""
    e, w, b = np.broadcast_arrays(*(np.asarray(x, dtype=float) for x in (e, w, b)))
    e2 = e * e
    return b - e2 / 2, b + e2 / 2 + 2 * e2 * w * np.abs(w)


def canonical_loss(p, q, e, w, b):
    """Canonical population loss (theory: :func:`theory.markov.canonical_loss`), in a stable form:

    .. math:: L = \\pi_0 [p\\,s(-f_0) + (1-p)\\,s(f_0)] + \\pi_1 [(1-q)\\,s(-f_1) + q\\,s(f_1)],

    with :math:`s(x) = \\log(1 + e^x)`. ``e, w, b`` broadcast; returns an array of their shape.
    """
    pi0, pi1 = stationary(p, q)
    f0, f1 = canonical_logits(e, w, b)
    return (pi0 * (p * _softplus(-f0) + (1 - p) * _softplus(f0))
            + pi1 * ((1 - q) * _softplus(-f1) + q * _softplus(f1)))


def canonical_gradient(p, q, e, w, b):
    """:math:`(\\partial_e L, \\partial_w L, \\partial_b L)` stacked on the last axis, shape
    ``broadcast(e, w, b).shape + (3,)`` (theory: ``canonical_gradient_paper_form``)."""
    pi0, pi1 = stationary(p, q)
    e, w, b = np.broadcast_arrays(*(np.asarray(x, dtype=float) for x in (e, w, b)))
    f0, f1 = canonical_logits(e, w, b)
    g0 = pi0 * (expit(f0) - p)
    g1 = pi1 * (expit(f1) - (1 - q))
    return np.stack([-e * g0 + e * (1 + 4 * w * np.abs(w)) * g1,
                     4 * e * e * np.abs(w) * g1, g0 + g1], axis=-1)


def canonical_hessian(p, q, e, w, b):
    """Analytic Hessian in ``(e, w, b)`` at one point (3x3), valid on either branch of ``w``.

    With :math:`s_i = \\sigma'(f_i)\\pi_i` and ``a = |w|``: the loss is
    :math:`\\pi_0 c_0(f_0) + \\pi_1 c_1(f_1)`, so the Hessian is
    :math:`\\sum_i s_i \\nabla f_i \\nabla f_i^T + g_i \\nabla^2 f_i`.
    """
    pi0, pi1 = stationary(p, q)
    f0, f1 = (float(x) for x in canonical_logits(e, w, b))
    g1 = pi1 * (expit(f1) - (1 - q))
    s0 = pi0 * expit(f0) * (1 - expit(f0))
    s1 = pi1 * expit(f1) * (1 - expit(f1))
    g0 = pi0 * (expit(f0) - p)
    a = abs(w)
    grad_f0 = np.array([-e, 0.0, 1.0])
    grad_f1 = np.array([e * (1 + 4 * w * a), 4 * e * e * a, 1.0])
    hess_f0 = np.diag([-1.0, 0.0, 0.0])
    hess_f1 = np.array([[1 + 4 * w * a, 8 * e * a, 0.0], [8 * e * a, 4 * e * e * np.sign(w), 0.0],
                        [0.0, 0.0, 0.0]])
    return (s0 * np.outer(grad_f0, grad_f0) + s1 * np.outer(grad_f1, grad_f1)
            + g0 * hess_f0 + g1 * hess_f1)


def global_curve_constant(p: float, q: float) -> float:
    """:math:`C = \\log((1-p)(1-q)/(pq))`: global minima satisfy :math:`e^2(1+2w|w|) = C`."""
    check_chain(p, q)
    return math.log((1 - p) * (1 - q) / (p * q))


def optimal_bias(p, q, e, w):
    """Closed-form optimal bias :math:`b^*(e, w)` (theory: :func:`theory.markov.optimal_bias`),
    evaluated in logs so that no ``e^u`` overflows: with ``u = e^2(1+2w|w|)`` and
    :math:`r = \\sqrt{(q-p)^2 + 4pq e^u}`, ``log z = log(p - q + r) - log(2q) - u`` if
    ``p >= q``, else the cancellation-free ``log(2p) - log(q - p + r)``; :math:`b^* = e^2/2 + \\log z`.
    """
    check_chain(p, q)
    e, w = np.broadcast_arrays(np.asarray(e, dtype=float), np.asarray(w, dtype=float))
    u = e * e * (1 + 2 * w * np.abs(w))
    with np.errstate(divide="ignore"):  # log|q - p| = -inf when p == q is handled by logaddexp
        log_gap = math.log(abs(q - p)) if p != q else -math.inf
    log_r = 0.5 * np.logaddexp(2 * log_gap, math.log(4 * p * q) + u)
    if p >= q:
        log_z = np.logaddexp(log_gap, log_r) - math.log(2 * q) - u
    else:
        log_z = math.log(2 * p) - np.logaddexp(log_gap, log_r)
    return e * e / 2 + log_z


def profiled_loss(p, q, e, w):
    """:math:`L^*(e, w) = L(e, w, b^*(e, w))` on broadcast arrays."""
    return canonical_loss(p, q, e, w, optimal_bias(p, q, e, w))


def energy(e, w):
    """:math:`E(e, w) = e^2 - w^2 - \\mathrm{sign}(w)\\log|w|` (P2); ``+inf``-free only for w != 0."""
    e, w = np.asarray(e, dtype=float), np.asarray(w, dtype=float)
    with np.errstate(divide="ignore"):
        return e * e - w * w - np.sign(w) * np.log(np.abs(w))


def unigram_curvature(p: float, q: float, w):
    """Curvature of the loss along ``e`` on the unigram line: :math:`2g_1^o(1 + 2w|w|)` with
    :math:`g_1^o = pq(p+q-1)/(p+q)^2` (theory: :func:`theory.markov.unigram_hessian`)."""
    check_chain(p, q)
    w = np.asarray(w, dtype=float)
    return 2 * p * q * (p + q - 1) / (p + q) ** 2 * (1 + 2 * w * np.abs(w))


def unigram_intervals(p: float, q: float) -> dict:
    """The parts of the unigram line ``e = 0`` that are local minima / local maxima along ``e``,
    as intervals ``[lo, hi]`` in ``w`` (``None`` for an infinite end). Empty lists at p+q=1,
    where the whole line is flat in ``e`` and has the global loss."""
    r = regime(p, q)
    if r == "p+q=1":
        return {"local_min_w": None, "local_max_w": None}
    upper, lower = [-SQRT_HALF, None], [None, -SQRT_HALF]
    return ({"local_min_w": upper, "local_max_w": lower} if r == "p+q>1"
            else {"local_min_w": lower, "local_max_w": upper})


def critical_summary(p: float, q: float) -> dict:
    """The critical set with values (P2, Sec. 3): global minima (curve, loss H(P)), the
    unigram line (loss H(pi), bias log(p/q), its min / max intervals in w) and the saddle."""
    summary = chain_summary(p, q)
    b0 = math.log(p / q)
    unigram = summary["unigram_entropy"]
    intervals = unigram_intervals(p, q)
    saddles = [] if regime(p, q) == "p+q=1" else [
        {"e": 0.0, "w": -SQRT_HALF, "b": b0, "loss": unigram}]
    return {"global_minimum_loss": summary["entropy_rate"],
            "global_curve_constant": global_curve_constant(p, q),
            "unigram_loss": unigram, "unigram_bias": b0,
            "unigram_local_min_w": intervals["local_min_w"],
            "unigram_local_max_w": intervals["local_max_w"], "saddles": saddles,
            "regime": regime(p, q)}

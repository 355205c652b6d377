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

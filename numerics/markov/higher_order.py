"""Higher-order binary chains: lag-k and random order-k chains, their optima and attention bounds.

Makkuva et al., P1 = arXiv 2402.04161 ("in the broader context of higher order Markov chains");
specification ``markov.md``, Part 2, Sec. 2 (K1-K3). Notation of :mod:`numerics.markov.canonical`:
``p = P(1|0)``, ``q = P(0|1)``, ``pi = (q, p)/(p+q)``, :math:`H(P)`, :math:`H(\\pi)`.

- **Lag-k chain**: :math:`x_1..x_k \\overset{iid}{\\sim}\\pi`,
  :math:`x_{n+1} \\sim P(\\cdot\\mid x_{n+1-k})`: ``k`` interleaved stationary chains, so its
  entropy rate and unigram entropy are those of ``P``. A model of context ``N`` predicts
  :math:`x_2..x_{N+1}`; the first ``k-1`` targets are independent of the past, hence

  .. math:: L^*_N = \\frac{(k-1) H(\\pi) + (N-k+1) H(P)}{N}\\quad (N \\ge k-1).

- **Attention bounds** (K1, K3): a single layer whose attention is uniform over the window
  :math:`A(n) = \\{\\max(1, n-W)..n\\}` (``W = None``: causal :math:`\\{1..n\\}`) sees, besides the
  position ``n``, only :math:`x_n` and :math:`\\Sigma_{A(n)} x`; its loss is at least

  .. math:: B_W = \\frac1N\\sum_{n=1}^N H\\big(x_{n+1}\\mid n, x_n, \\textstyle\\sum_{i\\in A(n)} x_i\\big),

  computed exactly by enumerating every sequence and grouping by the sufficient statistic.
- **Random order-k chain** (the authors' ``--chain random``): :math:`P(1\\mid c) \\sim U(0,1)`
  independently for each context :math:`c\\in\\{0,1\\}^k`, redrawn per sequence; the expected
  entropy rate :math:`\\mathbb{E}\\,\\sum_c \\mu(c)\\,h(P(1\\mid c))` (``mu`` the stationary law of
  the contexts) by tensor Gauss-Legendre quadrature over the :math:`2^k` uniforms.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from numerics.markov.canonical import binary_entropy, chain_summary, check_chain, stationary, xlogy
from numerics.markov.sequences import binary_kernel
from theory.budgets import check_memory
from theory.domains import integer
from theory.results import result

__all__ = ["LAG", "ORDER", "ENUMERATION_SEQ_LEN", "FINITE_SEQ_LEN", "LagSummary", "RandomOrderRate",
           "lag_summary", "optimal_loss_finite_n", "enumerate_lag_sequences", "window_bound",
           "random_order_rate"]

#: Lag ``k`` of the lag-k chain (any positive integer; ``k > N`` makes every target independent).
LAG = integer(1, 1_000_000)
#: Context ``N`` of :func:`optimal_loss_finite_n` (a closed form: any size).
FINITE_SEQ_LEN = integer(1, 10**9)
#: Context ``N`` of :func:`window_bound`: ``2^(N+1)`` sequences of ``N+1`` symbols are enumerated
#: (N = 16: 131072 x 17 float64, 18 MB).
ENUMERATION_SEQ_LEN = integer(1, 16, note="2^(N+1) sequences are enumerated")
#: Order ``k`` of the random order-k chain: the quadrature runs over ``2^k`` uniforms, a tensor
#: grid of ``m^(2^k)`` nodes (k = 2: 4 dimensions; k = 3 would need 8).
ORDER = integer(1, 2, note="tensor quadrature over 2^k dimensions")


@result
class LagSummary:
    """Entropies and the finite-context optimum of the lag-k chain (Part 2, Sec. 2).

    Attributes
    ----------
    lag : int
        ``k``.
    seq_len : int
        Context ``N``.
    entropy_rate, unigram_entropy : float
        :math:`H(P)`, :math:`H(\\pi)` in nats (those of the first-order chain ``P``).
    optimal_loss_finite_n : float
        :math:`L^*_N` in nats: the Bayes-optimal loss averaged over positions ``1..N``.
    """

    lag: int
    seq_len: int
    entropy_rate: float
    unigram_entropy: float
    optimal_loss_finite_n: float


@result
class RandomOrderRate:
    """Expected entropy rate of the random order-k chain (Part 2, Sec. 2).

    Attributes
    ----------
    order : int
        ``k``.
    expected_entropy_rate : float
        :math:`\\mathbb{E}\\sum_c \\mu(c) h(P(1|c))` in nats.
    nodes : int
        Gauss-Legendre nodes per dimension; the quadrature error at ``nodes`` against
        ``nodes/2`` is ``error_estimate``.
    error_estimate : float
        ``|I(m) - I(m/2)|``, nats (an upper estimate of the error of ``I(m)``).
    """

    order: int
    expected_entropy_rate: float
    nodes: int
    error_estimate: float


def optimal_loss_finite_n(p: float, q: float, lag: int, seq_len: int) -> float:
    """:math:`L^*_N = ((k-1)H(\\pi) + (N-k+1)H(P))/N` of the lag-k chain (Part 2, Sec. 2).

    Parameters
    ----------
    p, q : float
        Kernel entries in (0, 1).
    lag : int
        ``k >= 1``.
    seq_len : int
        ``N >= 1``. When ``N < k - 1`` every target is independent of the context and the
        value is :math:`H(\\pi)` (``min(k-1, N)`` targets at :math:`H(\\pi)`).

    Returns
    -------
    float
        Nats.
    """
    check_chain(p, q)
    LAG.check("lag", lag)
    FINITE_SEQ_LEN.check("seq_len", seq_len)
    summary = chain_summary(p, q)
    first = min(lag - 1, seq_len)
    return (first * summary.unigram_entropy + (seq_len - first) * summary.entropy_rate) / seq_len


def lag_summary(p: float, q: float, lag: int, seq_len: int) -> LagSummary:
    """:class:`LagSummary` of the lag-k chain (the ``ttc markov summary --lag`` keys)."""
    value = optimal_loss_finite_n(p, q, lag, seq_len)
    summary = chain_summary(p, q)
    return LagSummary(lag, seq_len, summary.entropy_rate, summary.unigram_entropy, value)


@lru_cache(maxsize=8)
def _all_sequences(length: int) -> np.ndarray:
    codes = np.arange(2**length)
    out = (codes[:, None] >> np.arange(length - 1, -1, -1)[None, :]) & 1
    out.flags.writeable = False
    return out


def enumerate_lag_sequences(p: float, q: float, lag: int, seq_len: int):
    """Every sequence :math:`x_1^{N+1}` of the lag-k chain with its probability.

    .. math:: \\Pr(x_1^{N+1}) = \\prod_{n \\le k} \\pi_{x_n} \\prod_{n > k} P_{x_{n-k}, x_n}

    Returns
    -------
    sequences : ndarray of int64, shape ``(2**(N+1), N+1)``
        Row ``j`` is the binary expansion of ``j`` (first symbol most significant); read-only.
    probabilities : ndarray, shape ``(2**(N+1),)``
        Summing to one.
    """
    check_chain(p, q)
    LAG.check("lag", lag)
    ENUMERATION_SEQ_LEN.check("seq_len", seq_len)
    sequences = _all_sequences(seq_len + 1)
    kernel, pi = binary_kernel(p, q), stationary(p, q)
    start = min(lag, seq_len + 1)
    probabilities = np.prod(pi[sequences[:, :start]], axis=1)
    if start < seq_len + 1:
        probabilities = probabilities * np.prod(
            kernel[sequences[:, :-lag], sequences[:, lag:]], axis=1)
    return sequences, probabilities


def _conditional_entropy(keys: np.ndarray, target: np.ndarray, probabilities: np.ndarray) -> float:
    """:math:`H(Y\\mid K)` in nats from samples ``(key, y)`` with weights summing to one."""
    _, index = np.unique(keys, return_inverse=True)
    mass = np.zeros((index.max() + 1, 2))
    np.add.at(mass, (index, target), probabilities)
    totals = mass.sum(axis=1, keepdims=True)
    return float(-(xlogy(mass, mass).sum() - xlogy(totals, totals).sum()))


def window_bound(p: float, q: float, lag: int, seq_len: int, window: int | None = None) -> float:
    """Loss bound of one layer with uniform attention over a window (Part 2, K1 and K3).

    .. math::
        B_W = \\frac1N\\sum_{n=1}^N H\\Big(x_{n+1} \\,\\Big|\\, x_n,
              \\sum_{i=\\max(1, n-W)}^{n} x_i\\Big)

    for the lag-k chain, exactly, by enumerating the :math:`2^{N+1}` sequences. ``window=None``
    is causal attention (:math:`A(n) = \\{1..n\\}`, K1); ``window = W`` the memory ``W`` of the
    authors' code (``W = 1`` sees :math:`x_{n-1}` and :math:`x_n`).

    Parameters
    ----------
    p, q : float
        Kernel entries in (0, 1).
    lag : int
        ``k >= 1``.
    seq_len : int
        ``N``, 1..16.
    window : int >= 1 or None
        Memory ``W``.

    Returns
    -------
    float
        Nats; at least :func:`optimal_loss_finite_n`.
    """
    if window is not None:
        integer(1, None).check("window", window)
    sequences, probabilities = enumerate_lag_sequences(p, q, lag, seq_len)
    cumulative = np.concatenate([np.zeros((len(sequences), 1), dtype=np.int64),
                                 np.cumsum(sequences, axis=1)], axis=1)
    total = 0.0
    for n in range(1, seq_len + 1):               # position n (1-based) predicts x_{n+1}
        first = 1 if window is None else max(1, n - window)
        window_sum = cumulative[:, n] - cumulative[:, first - 1]
        keys = 2 * window_sum + sequences[:, n - 1]
        total += _conditional_entropy(keys, sequences[:, n], probabilities)
    return total / seq_len


def _context_stationary(uniforms: np.ndarray, order: int) -> np.ndarray:
    """Stationary law of the contexts of order-k chains, one per row of ``uniforms``.

    ``uniforms[:, c]`` is :math:`P(1\\mid c)` for the context ``c`` (its binary code, oldest
    symbol most significant). Returns shape ``(M, 2^k)``.
    """
    states = 2**order
    codes = np.arange(states)
    nxt0, nxt1 = (codes << 1) % states, ((codes << 1) | 1) % states
    matrix = np.zeros((len(uniforms), states, states))
    rows = np.arange(states)
    matrix[:, rows, nxt1] += uniforms
    matrix[:, rows, nxt0] += 1.0 - uniforms
    # mu (T - I) = 0 with sum mu = 1: replace one equation by the normalisation
    system = np.swapaxes(matrix, 1, 2) - np.eye(states)
    system[:, -1, :] = 1.0
    rhs = np.zeros((len(uniforms), states))
    rhs[:, -1] = 1.0
    return np.linalg.solve(system, rhs[..., None])[..., 0]


def _rate_quadrature(order: int, nodes: int) -> float:
    dims = 2**order
    x, weights = np.polynomial.legendre.leggauss(nodes)
    t, weights = (x + 1) / 2, weights / 2
    # u = 3t^2 - 2t^3 flattens the -u log u end-point singularities of h (du = 6t(1-t) dt)
    u, weights = t * t * (3 - 2 * t), weights * 6 * t * (1 - t)
    grids = np.meshgrid(*([u] * dims), indexing="ij")
    uniforms = np.stack([g.reshape(-1) for g in grids], axis=1)
    weight = np.prod(np.stack(np.meshgrid(*([weights] * dims), indexing="ij")).reshape(dims, -1),
                     axis=0)
    mu = _context_stationary(uniforms, order)
    rate = np.sum(mu * binary_entropy(uniforms), axis=1)
    return float(rate @ weight)


#: Gauss-Legendre nodes per dimension of :func:`random_order_rate` after the substitution
#: ``u = 3t^2 - 2t^3`` (order 1: 80^2 nodes, error ~1e-11; order 2: 20^4 nodes, ~3e-8, 0.7 s).
RANDOM_ORDER_NODES = {1: 80, 2: 20}


def random_order_rate(order: int) -> RandomOrderRate:
    """Expected entropy rate of the random order-k chain (Part 2, Sec. 2).

    .. math::
        \\bar H_k = \\int_{[0,1]^{2^k}} \\sum_{c\\in\\{0,1\\}^k} \\mu_u(c)\\, h(u_c)\\, du,

    ``u_c = P(1|c)`` i.i.d. uniform, :math:`\\mu_u` the stationary law of the context chain
    :math:`c \\to (c_2..c_k, x)`; tensor Gauss-Legendre quadrature in
    :math:`u = 3t^2 - 2t^3` (which removes the logarithmic end-point singularities of ``h``). For ``k = 1``:
    :math:`\\mu_u h = (q h(p) + p h(q))/(p+q)` with ``p = u_0``, ``q = 1 - u_1``.

    Parameters
    ----------
    order : int
        ``k`` in :data:`ORDER` (1 or 2).

    Returns
    -------
    RandomOrderRate
    """
    ORDER.check("order", order)
    nodes = RANDOM_ORDER_NODES[order]
    dims = 2**order
    # the quadrature arrays: the uniforms, the (states x states) systems and the weights
    check_memory("order", order, 8.0 * nodes**dims * (dims + dims * dims + 4),
                 "tensor Gauss-Legendre nodes")
    fine, coarse = _rate_quadrature(order, nodes), _rate_quadrature(order, nodes // 2)
    return RandomOrderRate(order, fine, nodes, abs(fine - coarse))

"""Markov-chain data for the transformer experiments: exact enumeration and seeded samplers.

Makkuva et al., P1 = arXiv 2402.04161, Sec. 2. Exact enumeration of every binary sequence with
its probability under a stationary start (so that population losses, gradients and Hessians of
the full transformer are exact), and vectorised, seeded samplers for the binary chain, the lag-k chain and the symmetric S-state chain.

Notation: ``p = P(x_{n+1}=1 | x_n=0)``, ``q = P(x_{n+1}=0 | x_n=1)``, kernel
``P = [[1-p, p], [q, 1-q]]``, stationary law ``pi = (q, p)/(p+q)``. Sequences have ``length``
symbols; a model of context ``seq_len = N`` needs ``length = N + 1`` (its last position predicts
``x_{N+1}``).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from numerics.markov.canonical import check_chain, stationary
from numerics.shared.seeding import as_generator
from theory.budgets import MEMORY_BUDGET
from theory.domains import integer
from theory.errors import InputError, TooLargeError, check_int, check_open_unit
from theory.results import result

__all__ = [
    "transition_counts",
    "MAX_ENUMERATION_SEQ_LEN",
    "MAX_STATE_SEQUENCES",
    "EnumeratedSequences",
    "binary_kernel",
    "symmetric_kernel",
    "second_eigenvalue",
    "threshold",
    "check_states",
    "enumerate_sequences",
    "enumerate_state_sequences",
    "sample_from_kernel",
    "sample_chain",
    "sample_lag_chain",
    "sample_symmetric_chain",
]

#: Largest context ``N`` for exact enumeration (``2^(N+1) = 8192`` sequences).
MAX_ENUMERATION_SEQ_LEN = 12
#: Largest number ``S^(N+1)`` of enumerated sequences of the symmetric S-state chain.
MAX_STATE_SEQUENCES = 200_000
#: States of :func:`symmetric_kernel` (an ``S x S`` float64 matrix: 512 MB at the maximum).
KERNEL_STATES = integer(2, 8192, note="S x S float64 kernel: 512 MB at the maximum")


@result
class EnumeratedSequences:
    """Every sequence :math:`x_1^{N+1}` of a chain with its probability under the stationary
    start (P1, Sec. 2: :math:`\\Pr(x_1^{N+1}) = \\pi_{x_1}\\prod_n P_{x_n, x_{n+1}}`).

    Attributes
    ----------
    sequences : ndarray of int64, shape ``(S**(N+1), N+1)``
        Row ``k`` is the base-``S`` expansion of ``k``, first symbol most significant
        (``S = 2`` for the binary chain). A float64 tensor in
        :func:`validation.markov.models.enumeration_tensors`.
    probabilities : ndarray of float64, shape ``(S**(N+1),)``
        Their probabilities; they sum to one (a float64 tensor in
        :func:`validation.markov.models.enumeration_tensors`).
    """

    sequences: np.ndarray
    probabilities: np.ndarray


def binary_kernel(p: float, q: float) -> np.ndarray:
    """Transition matrix :math:`P = \\begin{pmatrix}1-p & p\\\\ q & 1-q\\end{pmatrix}`, shape ``(2, 2)``.

    Row ``i`` is the law of :math:`x_{n+1}` given :math:`x_n = i` (P1, Sec. 2).
    """
    check_chain(p, q)
    return np.array([[1.0 - p, p], [q, 1.0 - q]])


def symmetric_kernel(states: int, p: float) -> np.ndarray:
    """Symmetric S-state kernel :math:`P_{ii} = 1-p`, :math:`P_{ij} = p/(S-1)` (``S = states``).

    Its stationary law is uniform. Shape ``(S, S)``.
    """
    KERNEL_STATES.check("states", states)
    check_open_unit("p", p)
    kernel = np.full((states, states), p / (states - 1))
    np.fill_diagonal(kernel, 1.0 - p)
    return kernel


def second_eigenvalue(S: int, p: float) -> float:
    """:math:`\\lambda = 1 - pS/(S-1)` of the symmetric S-state chain (:func:`symmetric_kernel`)."""
    return 1.0 - p * S / (S - 1)


def threshold(S: int) -> float:
    """The conjectured threshold :math:`p = (S-1)/S` (where :math:`\\lambda = 0`: i.i.d. chain)."""
    return (S - 1) / S


def check_states(S: int, p: float) -> None:
    """Raise :class:`theory.errors.InputError` unless ``S >= 2`` is an int and ``p`` is in (0, 1)."""
    check_int("S", S, 2)
    check_open_unit("p", p)


def enumerate_sequences(p: float, q: float, seq_len: int) -> EnumeratedSequences:
    """Every binary sequence :math:`x_1^{N+1}` with its probability under a stationary start.

    .. math::
        \\Pr(x_1^{N+1}) = \\pi_{x_1} \\prod_{n=1}^{N} P_{x_n, x_{n+1}}

    Parameters
    ----------
    p, q : float
        Transition probabilities in (0, 1).
    seq_len : int
        Context length ``N`` (1 <= N <= 12); sequences have ``N + 1`` symbols.

    Returns
    -------
    EnumeratedSequences
        ``sequences`` (int64, shape ``(2**(N+1), N+1)``; row ``k`` is the binary expansion of
        ``k``, first symbol most significant) and ``probabilities`` (shape ``(2**(N+1),)``,
        summing to one).

    Raises
    ------
    TooLargeError
        When ``seq_len > 12``: use :func:`sample_chain` (a sampled estimate) instead.
    """
    check_chain(p, q)
    check_int("seq_len", seq_len, 1)
    if seq_len > MAX_ENUMERATION_SEQ_LEN:
        raise TooLargeError("seq_len", seq_len,
                            f"at most {MAX_ENUMERATION_SEQ_LEN} for exact enumeration "
                            "(2^(seq_len+1) sequences); use sample_chain for longer contexts")
    length = seq_len + 1
    codes = np.arange(2**length)
    shifts = np.arange(length - 1, -1, -1)
    sequences = (codes[:, None] >> shifts[None, :]) & 1
    kernel, pi = binary_kernel(p, q), stationary(p, q)
    probabilities = pi[sequences[:, 0]] * np.prod(kernel[sequences[:, :-1], sequences[:, 1:]], axis=1)
    return EnumeratedSequences(sequences.astype(np.int64), probabilities)


@lru_cache(maxsize=16)
def _sequences_cached(S: int, seq_len: int):
    length = seq_len + 1
    codes = np.arange(S**length)
    sequences = (codes[:, None] // S ** np.arange(length - 1, -1, -1)[None, :]) % S
    stays = (sequences[:, 1:] == sequences[:, :-1]).sum(axis=1)
    sequences.flags.writeable = stays.flags.writeable = False
    return sequences.astype(np.int64), stays


def enumerate_state_sequences(S: int, p: float, seq_len: int) -> EnumeratedSequences:
    """Every sequence :math:`x_1^{N+1}` of the symmetric S-state chain with its probability.

    .. math::
        \\Pr(x_1^{N+1}) = \\frac1S (1-p)^{m} \\Big(\\frac{p}{S-1}\\Big)^{N-m},
        \\quad m = \\#\\{n : x_{n+1} = x_n\\}

    (uniform = stationary start). The sequences are cached per ``(S, N)``.

    Returns
    -------
    EnumeratedSequences
        ``sequences`` (int64, shape ``(S**(N+1), N+1)``, row ``k`` = base-``S`` digits of ``k``,
        first symbol most significant; read-only) and ``probabilities`` (shape ``(S**(N+1),)``).

    Raises
    ------
    TooLargeError
        When ``S**(N+1) > MAX_STATE_SEQUENCES``.
    """
    check_int("S", S, 2)
    check_open_unit("p", p)
    check_int("seq_len", seq_len, 1)
    # compare in logs first: S ** (seq_len + 1) of a huge seq_len is itself a huge computation
    if (seq_len + 1) * math.log(S) > math.log(MAX_STATE_SEQUENCES) + 1e-9 \
            or S ** (seq_len + 1) > MAX_STATE_SEQUENCES:
        raise TooLargeError("seq_len", seq_len,
                            f"S^(seq_len+1) <= {MAX_STATE_SEQUENCES} for exact enumeration with S={S}")
    sequences, stays = _sequences_cached(S, seq_len)
    probabilities = (1 - p) ** stays * (p / (S - 1)) ** (seq_len - stays) / S
    return EnumeratedSequences(sequences, probabilities)


def _check_kernel(kernel: np.ndarray, init: np.ndarray) -> None:
    if kernel.ndim != 2 or kernel.shape[0] != kernel.shape[1] or kernel.shape[0] < 1 \
            or not np.all(np.isfinite(kernel)) or np.any(kernel < 0) \
            or not np.allclose(kernel.sum(axis=1), 1.0, atol=1e-12):
        raise InputError("kernel", kernel, "a square row-stochastic matrix")
    states = kernel.shape[0]
    if init.shape != (states,) or np.any(init < 0) or not np.isclose(init.sum(), 1.0, atol=1e-12):
        raise InputError("init", init, f"a probability vector of length {states}")


def sample_from_kernel(kernel, init, batch: int, length: int, seed, lag: int = 1) -> np.ndarray:
    """Sample ``batch`` chains of ``length`` symbols, vectorised over the batch.

    .. math::
        x_1, \\dots, x_{k} \\overset{iid}{\\sim} \\mathrm{init}, \\qquad
        x_{n+1} \\sim P(\\cdot \\mid x_{n+1-k}) \\quad (k = \\mathrm{lag})

    With ``lag = 1`` this is the ordinary chain; with ``lag = k`` the ``k`` interleaved
    sub-sequences are independent chains with kernel ``P`` (so ``init = pi`` is a stationary start).

    Parameters
    ----------
    kernel : array, shape ``(S, S)``
        Row-stochastic transition matrix.
    init : array, shape ``(S,)``
        Law of the first ``lag`` symbols.
    batch, length : int
        Output shape; ``length >= 1``.
    seed : int or numpy.random.Generator
        Source of randomness (the same seed gives the same array).
    lag : int
        The lag ``k >= 1``.

    Raises :class:`TooLargeError` before allocating when ``16 * batch * length`` bytes exceed
    :data:`MEMORY_BUDGET`.

    Returns
    -------
    ndarray of int64, shape ``(batch, length)``
    """
    try:
        kernel, init = np.asarray(kernel, dtype=float), np.asarray(init, dtype=float)
    except (TypeError, ValueError):
        raise InputError("kernel, init", (kernel, init), "arrays of real numbers") from None
    _check_kernel(kernel, init)
    check_int("batch", batch, 1)
    check_int("length", length, 1)
    check_int("lag", lag, 1)
    # the uniforms and the output (8 bytes each per symbol) and one step's thresholds
    needed = 16 * batch * length + 8 * batch * kernel.shape[0]
    if needed > MEMORY_BUDGET:
        raise TooLargeError("batch", batch, f"batch * length <= {MEMORY_BUDGET // 16:,} symbols "
                                            f"(16 bytes each within {MEMORY_BUDGET / 2**30:g} "
                                            f"GiB; length={length})")
    rng = as_generator(seed)
    uniforms = rng.random((batch, length))
    cumulative = np.cumsum(kernel, axis=1)[:, :-1]
    out = np.empty((batch, length), dtype=np.int64)
    start = min(lag, length)
    out[:, :start] = np.searchsorted(np.cumsum(init)[:-1], uniforms[:, :start], side="right")
    for n in range(start, length):
        thresholds = cumulative[out[:, n - lag]]
        out[:, n] = (uniforms[:, n, None] >= thresholds).sum(axis=1)
    return out


def sample_chain(p: float, q: float, batch: int, length: int, seed) -> np.ndarray:
    """Binary chains with kernel ``P(p, q)`` from the stationary start; shape ``(batch, length)``.

    See :func:`sample_from_kernel` (P1, Sec. 2: :math:`x_1 \\sim \\pi`).
    """
    return sample_from_kernel(binary_kernel(p, q), stationary(p, q), batch, length, seed)


def sample_lag_chain(p: float, q: float, lag: int, batch: int, length: int, seed) -> np.ndarray:
    """Lag-k binary chain :math:`x_{n+1} \\sim P(\\cdot\\mid x_{n+1-k})`, stationary start."""
    return sample_from_kernel(binary_kernel(p, q), stationary(p, q), batch, length, seed, lag=lag)


def sample_symmetric_chain(states: int, p: float, batch: int, length: int, seed) -> np.ndarray:
    """Symmetric S-state chain (stay with ``1-p``, else jump uniformly), uniform start."""
    kernel = symmetric_kernel(states, p)
    return sample_from_kernel(kernel, np.full(states, 1.0 / states), batch, length, seed)


def transition_counts(x: np.ndarray, members: int) -> np.ndarray:
    """Counts :math:`n_{ab}` of the transitions :math:`a \\to b` in each member's chains:
    ``x`` (members * B, N+1) binary chains, member m owning rows ``m B .. (m+1) B - 1``;
    returns shape ``(members, 4)`` float64, column ``2a + b``."""
    pairs = (2 * x[:, :-1] + x[:, 1:]).reshape(members, -1)
    return np.stack([(pairs == k).sum(axis=1) for k in range(4)], axis=1).astype(float)

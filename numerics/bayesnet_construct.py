"""The two-layer construction as numbers: weight arrays and prompt encoding (numpy, float64).

Spec ``shared/spec/bayesnet.md`` section 3. The weights are the sympy matrices of
:func:`theory.bayesnet.construction_weights` evaluated at a numeric ``beta`` (cached per
structure); :func:`encode_prompts` builds the paper's prompt layout for many episodes at once.
The torch forward pass lives in :mod:`validation.bayesnet`.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp

from numerics.bayesnet import Structure, check_states
from theory import bayesnet as tb
from theory.errors import InputError, check_int


@lru_cache(maxsize=64)
def _symbolic(M: int, d: int, parents: tuple) -> dict:
    return tb.construction_weights(M, d, [list(p) for p in parents])


def block_size(structure: Structure) -> int:
    """Common block width ``d = max_m d_m`` (a variable with fewer states uses the first entries)."""
    return max(structure.cards)


def construction_arrays(structure: Structure, beta: float) -> dict:
    """Weights ``W1, W2, K, Q, V`` (float64 arrays) and ``C`` of the construction at ``beta``.

    Shapes with ``R = (2M+1) d``: ``W1`` (Md, R), ``W2`` (R, Md), ``K``/``Q`` (Md+1, R), ``V`` (R, R).
    """
    if not (isinstance(beta, (int, float)) and np.isfinite(beta) and beta > 0):
        raise InputError("beta", beta, "a positive finite number")
    weights = _symbolic(structure.M, block_size(structure), structure.parents)
    value = sp.Float(float(beta), 30)
    out = {name: np.array(matrix.subs(tb.beta, value).tolist(), dtype=np.float64)
           for name, matrix in weights.items() if name != "C"}
    out["C"] = weights["C"]
    return out


def encode_prompts(structure: Structure, contexts, queries, m0) -> np.ndarray:
    """Prompts in the paper's layout, shape ``(E, (2M+1) d, N+1)``, query in the last column.

    ``contexts``: ``(E, N, M)``; ``queries``: ``(E, M)`` (entries ``>= m0`` ignored); ``m0``: an
    int or an ``(E,)`` array of targets.
    """
    contexts = np.asarray(contexts, dtype=np.int64)
    queries = np.asarray(queries, dtype=np.int64)
    if contexts.ndim != 3 or queries.shape != (contexts.shape[0], structure.M):
        raise InputError("contexts/queries", (contexts.shape, queries.shape), "(E, N, M) and (E, M)")
    check_states(structure, contexts, "context")
    E, N, M = contexts.shape
    m0 = np.broadcast_to(np.asarray(m0, dtype=np.int64), (E,))
    if np.any((m0 < 0) | (m0 >= M)):
        raise InputError("m0", m0.tolist()[:5], f"targets in 0..{M - 1}")
    known = np.arange(M)[None, :] < m0[:, None]
    check_states(structure, np.where(known, queries, 0), "query")
    d = block_size(structure)
    lay = tb.layout(M, d)
    X = np.zeros((E, (2 * M + 1) * d, N + 1))
    rows = np.arange(M)[None, None, :] * d + contexts                 # (E, N, M)
    e_idx = np.arange(E)[:, None, None]
    n_idx = np.arange(N)[None, :, None]
    X[e_idx, rows, n_idx] = 1.0
    X[:, lay["flag"], :N] = 1.0
    qe, qm = np.nonzero(known)
    X[qe, qm * d + queries[qe, qm], N] = 1.0
    X[np.arange(E)[:, None], lay["target"].start + m0[:, None] * d + np.arange(d)[None, :], N] = 1.0
    return X


def prompt_bound(structure: Structure, contexts, queries, m0: int, beta: float) -> np.ndarray:
    """Per-prompt bound on ``TV(p_TF, p_hat)`` (``p_hat`` with back-off), shape ``(E,)``.

    With ``k*`` the largest number of parents on which a context row agrees with the query and
    ``I*`` the rows reaching it (``I* = I(m0)`` when ``k* = |P(m0)|``):

    .. math:: \\frac{(N - |I^*|) e^{-\\beta} + e^{-\\beta (C + k^* - |P|)}}{|I^*|}

    which is :func:`theory.bayesnet.tv_bound` when ``|I| >= 1`` (then ``k* = |P|``).
    """
    contexts = np.asarray(contexts)
    queries = np.asarray(queries)
    ps = list(structure.parents[m0])
    agree = (contexts[..., ps] == queries[:, None, ps]).sum(axis=-1)
    best = agree.max(axis=1)
    size = (agree == best[:, None]).sum(axis=1)
    C = structure.max_indegree + 1
    N = contexts.shape[1]
    return ((N - size) * np.exp(-beta) + np.exp(-beta * (C + best - len(ps)))) / size


def check_beta(beta) -> float:
    if isinstance(beta, bool) or not isinstance(beta, (int, float)) or not np.isfinite(beta) or beta <= 0:
        raise InputError("beta", beta, "a positive finite number")
    return float(beta)


def enumerate_prefixes(structure: Structure, m0: int) -> np.ndarray:
    """All configurations of ``x_0..x_{m0-1}`` as queries ``(prod cards[:m0], M)`` (zeros after)."""
    check_int("m0", m0, 0, structure.M - 1)
    cards = structure.cards[:m0]
    grid = np.indices(cards).reshape(m0, -1).T if m0 else np.zeros((1, 0), dtype=np.int64)
    out = np.zeros((len(grid), structure.M), dtype=np.int64)
    out[:, :m0] = grid
    return out

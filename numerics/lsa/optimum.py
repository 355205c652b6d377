"""Float64 enlarged-space moments, optimum, prompt samplers, Monte Carlo losses (Ding et al. 2025).

Evaluates what :mod:`theory.lsa` derives, in float64: the enlarged-space moments ``H, h`` for any
d by Gauss-Legendre quadrature over the kernel (exact for the polynomial integrand, so the only
error is rounding) and by Monte Carlo over kernels (with standard errors); prompt samplers, the
feature map, Monte Carlo losses; the Gaussian linear-regression loss; the multilayer recursion of
Theorem 4.1 evaluated per prompt. Recovery, the best achievable LSA loss and the Shor bound live in
:mod:`numerics.lsa.realizability`.

Ordering: the one of :func:`theory.lsa.feature_ordering` (block j outermost, upper triangle of
``(i, k)`` row by row, 1-based labels). ``vec(A)`` is ``A.reshape(-1)`` (row-major: index
``(k-1) d + (j-1)`` for :math:`A_{kj}`).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from numerics.lsa.domains import (BATCH, D_NUMERIC, D_RECOVER, DIM, DYNAMICS, N_CONTEXT, NODES,
                                   NOISE, P_FLOAT, SAMPLES, SIZE, STATES, check_memory,
                                   check_work, features_bytes, mc_moments_bytes, moments_bytes,
                                   prompts_bytes)
from numerics.shared.arrays import float_array
from numerics.shared.seeding import as_generator
from theory.errors import InputError, NumericalFailure
from theory.lsa import D_ORDERING, feature_ordering, pair_ordering
from theory.results import result

__all__ = [
    "Moments", "Optimum", "Prompts", "MonteCarloEstimate", "check_p", "check_moments",
    "float_array", "pairs_array", "phi_tensor", "phi", "sym_blocks",
    "markov_moments_numeric", "markov_moments_mc", "optimum", "loss_at",
    "sample_markov_prompts", "sample_example_c5", "sample_dynamical_prompts", "features", "mc_loss", "realizable_d1",
    "gaussian_gamma_star", "gaussian_loss", "sample_gaussian_prompts",
    "objective_R1", "objective_R2", "jacobian_complex_step", "multilayer_weights",
]


@result
class Moments:
    """Moments of the enlarged quadratic loss in float64 (Ding et al. 2025, Sec. 3).

    .. math:: \\tilde f(X) = X^\\top H X - 2h^\\top X + E[y_{n+1}].

    Attributes
    ----------
    H : ndarray, shape (dm, dm)
        :math:`E[(x_{n+1}x_{n+1}^\\top)\\otimes(gg^\\top)]`, :math:`m = (d+1)(d+2)/2`.
    h : ndarray, shape (dm,)
        :math:`E[y_{n+1} x_{n+1}\\otimes g]`.
    Ey : float
        :math:`E[y_{n+1}]`.
    H_se, h_se : ndarray or None, shapes as H, h
        Monte Carlo standard errors of H and h (None for quadrature).
    Ey_se : float or None
        Monte Carlo standard error of Ey (None for quadrature).
    """

    H: np.ndarray
    h: np.ndarray
    Ey: float
    H_se: np.ndarray | None = None
    h_se: np.ndarray | None = None
    Ey_se: float | None = None


@result
class Optimum:
    """The minimiser of the enlarged loss in float64 (Ding et al. 2025, Sec. 3, Lemma 3.1):
    :math:`X^* = H^{-1}h`, :math:`\\tilde f^* = E[y] - h^\\top X^*`.

    Attributes
    ----------
    X : ndarray, shape (dm,)
        :math:`X^*` in the ordering of :func:`theory.lsa.feature_ordering`.
    loss : float
        :math:`\\tilde f^*` (squared error of a {0, 1} label).
    """

    X: np.ndarray
    loss: float


@result
class Prompts:
    """A batch of sampled prompts and their targets (Ding et al. 2025, Sec. 2; Ahn et al. 2023).

    Attributes
    ----------
    Z : ndarray, shape (size, d+1, n+1)
        Prompt matrices :math:`Z_0`: rows ``0..d-1`` are x, row ``d`` the labels; the query's label
        slot ``Z[:, d, n]`` is 0.
    y : ndarray, shape (size,)
        The targets :math:`y_{n+1}`.
    """

    Z: np.ndarray
    y: np.ndarray


@result
class MonteCarloEstimate:
    """A Monte Carlo mean and its standard error.

    Attributes
    ----------
    mean : float
        Sample mean.
    se : float
        Standard error of the mean, :math:`s / \\sqrt{N}` (sample standard deviation, ddof 1).
    """

    mean: float
    se: float


def check_p(p) -> float:
    """``p`` as a float strictly inside (0, 1) (accepts ``Fraction``; :data:`P_FLOAT`)."""
    if isinstance(p, str):
        raise InputError("p", p, P_FLOAT.describe() + " (a number, not a string)")
    return float(P_FLOAT.check("p", p))


def _check_dn(d, n, d_domain=D_NUMERIC):
    d_domain.check("d", d)
    N_CONTEXT.check("n", n)


def check_moments(mom, d: int | None = None) -> Moments:
    """``mom`` as :class:`Moments` with finite entries and matching shapes (H square (k, k), h of
    length k; ``k = d m`` when ``d`` is given); else :class:`InputError`."""
    if not isinstance(mom, Moments):
        raise InputError("mom", type(mom).__name__, "a numerics.lsa.optimum.Moments")
    H = float_array("mom.H", mom.H, ndim=2)
    k = H.shape[0]
    if H.shape != (k, k) or k == 0:
        raise InputError("mom.H", f"shape {H.shape}", "a non-empty square matrix")
    if d is not None and k != d * (d + 1) * (d + 2) // 2:
        raise InputError("d", d, f"the dimension of the moments ({k} features)")
    h = float_array("mom.h", mom.h, shape=(k,))
    Ey = float_array("mom.Ey", mom.Ey, ndim=0)
    return Moments(H, h, float(Ey), mom.H_se, mom.h_se, mom.Ey_se)


@lru_cache(maxsize=None)
def pairs_array(d: int) -> np.ndarray:
    """``(m, 2)`` zero-based ``(i, k)`` pairs in the canonical order."""
    D_ORDERING.check("d", d)
    return np.array(pair_ordering(d), dtype=int) - 1


@lru_cache(maxsize=None)
def phi_tensor(d: int) -> np.ndarray:
    """``T`` of shape ``(dm, d+1, (d+1) d)`` with :math:`\\phi(b,A)_f = \\sum T_{f,i,q} b_i
    \\mathrm{vec}(A)_q` (d m (d+1)^2 d entries; memory checked against the 2 GiB budget)."""
    D_RECOVER.check("d", d)
    check_memory("d", d, 8.0 * d * (d + 1) * (d + 2) // 2 * (d + 1) ** 2 * d, "phi tensor")
    labels = feature_ordering(d)
    T = np.zeros((len(labels), d + 1, (d + 1) * d))
    for f, (j, i, k) in enumerate(labels):
        i0, k0, j0 = i - 1, k - 1, j - 1
        if i == k:
            T[f, i0, i0 * d + j0] += 1.0
        else:
            T[f, i0, k0 * d + j0] += 1.0
            T[f, k0, i0 * d + j0] += 1.0
    T.setflags(write=False)
    return T


def phi(b, A) -> np.ndarray:
    """:math:`X = \\phi(b, A)`; ``b`` shape ``(d+1,)``, ``A`` shape ``(d+1, d)``.

    Computed blockwise as :math:`S_j = b a_j^\\top + a_j b^\\top` read on the upper triangle
    (diagonal halved), :math:`O(d^3)`."""
    b, A = float_array("b", b, ndim=1), float_array("A", A)
    d = A.shape[1] if A.ndim == 2 else 0
    if d < 1 or b.shape != (d + 1,) or A.shape != (d + 1, d):
        raise InputError("A", A.shape, "shape (len(b), len(b)-1) with len(b) >= 2")
    pr = pairs_array(d)
    i, k = pr[:, 0], pr[:, 1]
    blocks = b[i][None, :] * A[k].T + b[k][None, :] * A[i].T       # (d, m)
    blocks = np.where(i == k, blocks / 2, blocks)
    return blocks.reshape(-1)


def sym_blocks(X, d: int) -> np.ndarray:
    """``(d, d+1, d+1)`` symmetric matrices :math:`S_j` (diagonal :math:`X_{(i,i)}`, off-diagonal
    :math:`X_{(i,k)}/2`)."""
    D_ORDERING.check("d", d)
    if isinstance(X, (str, bytes)):
        raise InputError("X", X[:40], "an array of numbers (not a string)")
    try:
        X = np.asarray(X, float).reshape(-1)
    except (TypeError, ValueError, OverflowError) as exc:
        raise InputError("X", type(X).__name__, f"an array of real numbers ({exc})") from None
    m = (d + 1) * (d + 2) // 2
    if X.shape[0] != d * m:
        raise InputError("X", f"length {X.shape[0]}", f"length d*m = {d * m} for d={d}")
    if not np.all(np.isfinite(X)):
        raise InputError("X", X.tolist() if X.size <= 20 else "an array with NaN or infinities",
                         "finite numbers")
    pr = pairs_array(d)
    S = np.zeros((d, d + 1, d + 1))
    for j in range(d):
        block = X[j * m:(j + 1) * m]
        S[j, pr[:, 0], pr[:, 1]] = np.where(pr[:, 0] == pr[:, 1], block, block / 2)
        S[j, pr[:, 1], pr[:, 0]] = S[j, pr[:, 0], pr[:, 1]]
    return S


# ----------------------------------------------------------------------------------------------
# Moments of the chain at given kernels (vectorised over kernel nodes)


def _subset_moments(d: int, p: float, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(2^{d+1}, N)``: :math:`E[\\prod_{t\\in T} s_t | K]` for every subset T of times
    ``1..d+1`` (bit t-1 of the row index), at kernels ``p01 = a``, ``p10 = b`` (shape ``(N,)``)."""
    N = a.shape[0]
    K = np.empty((N, 2, 2))
    K[:, 0, 0], K[:, 0, 1], K[:, 1, 0], K[:, 1, 1] = 1 - a, a, b, 1 - b
    powers11 = [np.ones(N)]
    Kp = np.broadcast_to(np.eye(2), (N, 2, 2)).copy()
    for _ in range(d):
        Kp = Kp @ K
        powers11.append(Kp[:, 1, 1].copy())
    law = np.stack([np.full(N, 1 - p), np.full(N, p)], axis=1)
    marg = []
    for _ in range(d + 1):
        marg.append(law[:, 1].copy())
        law = np.einsum("ns,nst->nt", law, K)
    out = np.ones((2 ** (d + 1), N))
    for mask in range(1, 2 ** (d + 1)):
        times = [t for t in range(d + 1) if mask >> t & 1]
        val = marg[times[0]].copy()
        for s, t in zip(times, times[1:]):
            val *= powers11[t - s]
        out[mask] = val
    return out


def _conditional_blocks(d: int, p: float, n: int, a, b):
    """Per kernel node: ``xx (d,d,N)``, ``gg (m,m,N)``, ``yx (d,N)``, ``g1 (m,N)``, ``Ey (N,)``."""
    mom = _subset_moments(d, p, a, b)
    pr = pairs_array(d)
    pm = (1 << pr[:, 0]) | (1 << pr[:, 1])
    js = np.arange(d)
    xx = mom[(1 << js)[:, None] | (1 << js)[None, :]]
    g1 = mom[pm]
    gg = mom[pm[:, None] | pm[None, :]] / n + (1 - 1 / n) * g1[:, None, :] * g1[None, :, :]
    yx = mom[(1 << js) | (1 << d)]
    return xx, gg, yx, g1, mom[1 << d]


def _assemble(xx, gg, yx, g1, Ey, weights):
    d, m = xx.shape[0], g1.shape[0]
    H = np.einsum("jln,stn,n->jslt", xx, gg, weights).reshape(d * m, d * m)
    h = np.einsum("jn,sn,n->js", yx, g1, weights).reshape(-1)
    return 0.5 * (H + H.T), h, float(Ey @ weights)


def markov_moments_numeric(d: int, p, n: int, nodes: int | None = None) -> Moments:
    """``H, h, E[y]`` of the random-kernel task by tensor Gauss-Legendre quadrature over
    ``(p01, p10) in [0,1]^2``.

    .. math:: H = \\int_0^1\\int_0^1 E[xx^\\top|K] \\otimes E[gg^\\top|K]\\, dp_{01}\\, dp_{10}.

    The integrand is a polynomial of degree at most 3d in each variable, so ``nodes`` =
    ``ceil((3d+1)/2)`` (the default) makes the rule exact: the error is rounding only
    (about 1e-15 relative; tested against :func:`theory.lsa.markov_moments`).
    """
    _check_dn(d, n)
    pf = check_p(p)
    nodes = (3 * d + 2) // 2 + 1 if nodes is None else NODES.check("nodes", nodes)
    check_memory("d", d, moments_bytes(d, nodes), f"quadrature moments (nodes = {nodes})")
    x, w = np.polynomial.legendre.leggauss(nodes)
    x, w = (x + 1) / 2, w / 2
    a, b = np.repeat(x, nodes), np.tile(x, nodes)
    weights = np.repeat(w, nodes) * np.tile(w, nodes)
    return Moments(*_assemble(*_conditional_blocks(d, pf, n, a, b), weights))


def markov_moments_mc(d: int, p, n: int, samples: int, seed) -> Moments:
    """Monte Carlo over kernels ``(p01, p10) ~ U(0,1)^2`` with standard errors (cross-check of
    the quadrature/exact moments)."""
    _check_dn(d, n)
    SAMPLES.check("samples", samples)
    pf = check_p(p)
    check_memory("samples", samples, mc_moments_bytes(d, samples), f"Monte Carlo moments (d = {d})")
    rng = as_generator(seed)
    a, b = rng.random(samples), rng.random(samples)
    xx, gg, yx, g1, Ey = _conditional_blocks(d, pf, n, a, b)
    m = g1.shape[0]
    mean = lambda u, v: np.einsum("jln,stn->jslt", u, v).reshape(d * m, d * m) / samples
    H, H2 = mean(xx, gg), mean(xx ** 2, gg ** 2)
    hs = np.einsum("jn,sn->njs", yx, g1).reshape(samples, -1)
    se = lambda m1, m2: np.sqrt(np.maximum(m2 - m1 ** 2, 0) * samples / (samples - 1) / samples)
    return Moments(H, hs.mean(0), float(Ey.mean()), se(H, H2), hs.std(0, ddof=1) / np.sqrt(samples),
                   float(Ey.std(ddof=1) / np.sqrt(samples)))


def optimum(mom: Moments) -> Optimum:
    """``X* = H^{-1} h`` and ``f~* = E[y] - h^T X*`` (Ding et al. 2025, Sec. 3; Cholesky; raises
    NumericalFailure if H is not numerically positive definite or the result is not finite;
    InputError for moments with NaN or infinite entries or mismatched shapes).

    Examples
    --------
    Theorem 3.3's anchor (d = 1, p = 1/2, n = 10), exact: X* = (4/57, 52/57, 8/19) =
    (0.070175, 0.912281, 0.421053) and f~* = 121/342 = 0.353801:

    >>> from numerics.lsa.optimum import markov_moments_numeric, optimum
    >>> best = optimum(markov_moments_numeric(1, 0.5, 10))
    >>> best.X.round(6).tolist(), round(best.loss, 6)
    ([0.070175, 0.912281, 0.421053], 0.353801)
    """
    mom = check_moments(mom)
    try:
        L = np.linalg.cholesky(mom.H)
    except np.linalg.LinAlgError as exc:
        raise NumericalFailure(f"H is not positive definite: {exc}")
    with np.errstate(all="ignore"):
        X = np.linalg.solve(L.T, np.linalg.solve(L, mom.h))
        loss = float(mom.Ey - mom.h @ X)
    if not (np.all(np.isfinite(X)) and np.isfinite(loss)):
        raise NumericalFailure("optimum: X* or f~* is not finite (H is numerically singular)")
    return Optimum(X, loss)


def loss_at(X, mom: Moments) -> float:
    """:math:`\\tilde f(X) = X^\\top H X - 2 h^\\top X + E[y]` (``X`` of length ``dm``)."""
    mom = check_moments(mom)
    X = float_array("X", X, shape=mom.h.shape)
    with np.errstate(all="ignore"):
        value = float(X @ mom.H @ X - 2 * mom.h @ X + mom.Ey)
    if not np.isfinite(value):
        raise NumericalFailure("loss_at: the loss overflows (X too large)")
    return value


def realizable_d1(X, tol: float = 0.0) -> bool:
    """d = 1: :math:`X_2^2 \\ge 4 X_1 X_3` (the image of phi)."""
    X = float_array("X", X, shape=(3,))
    if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not (np.isfinite(tol) and tol >= 0):
        raise InputError("tol", tol, "a finite number >= 0")
    return bool(X[1] ** 2 - 4 * X[0] * X[2] >= -tol)


# ----------------------------------------------------------------------------------------------
# Prompts, features, Monte Carlo losses


def sample_markov_prompts(d: int, p, n: int, size: int, seed, kernels=None) -> Prompts:
    """``size`` prompts of the random-kernel task (Ding et al. 2025, Sec. 2).

    Returns :class:`Prompts`: ``Z`` of shape ``(size, d+1, n+1)`` (query label slot 0) and the
    targets ``y`` of shape ``(size,)``. ``seed``: int >= 0 or a numpy Generator. Each prompt
    draws ``p01, p10 ~ U(0,1)`` once (or takes ``kernels`` of shape ``(size, 2)``) and ``n+1``
    independent chains of length ``d+1`` with ``s_1 ~ Bern(p)``.
    """
    _check_dn(d, n, D_ORDERING)
    SIZE.check("size", size)
    pf = check_p(p)
    check_memory("size", size, prompts_bytes(d + 1, n, size), f"prompts (d = {d}, n = {n})")
    if kernels is not None:
        kernels = float_array("kernels", kernels, shape=(size, 2))
        if np.any((kernels < 0) | (kernels > 1)):
            raise InputError("kernels", "entries outside [0, 1]", "probabilities (p01, p10) in [0, 1]")
    rng = as_generator(seed)
    ker = rng.random((size, 2)) if kernels is None else kernels
    s = np.empty((size, d + 1, n + 1))
    s[:, 0] = rng.random((size, n + 1)) < pf
    u = rng.random((size, d, n + 1))
    for t in range(d):
        prob1 = np.where(s[:, t] == 1, 1 - ker[:, 1:2], ker[:, 0:1])
        s[:, t + 1] = u[:, t] < prob1
    y = s[:, d, n].copy()
    s[:, d, n] = 0.0
    return Prompts(s, y)


def sample_example_c5(p, n: int, size: int, seed) -> Prompts:
    r"""Prompts of Example C.5 of Ding et al. 2025 (d = 1, correlated initial states):
    :math:`x_{n+1}\sim\mathrm{Bern}(p)`, :math:`x_i | x_{n+1}\sim\mathrm{Bern}((x_{n+1}-p)^2)`
    i.i.d., kernel :math:`U(0,1)^2` per prompt, :math:`y | x, K \sim \mathrm{Bern}(x p_{11} + (1-x) p_{01})`.
    Returns :class:`Prompts` with ``Z (size, 2, n+1)`` and ``y (size,)``."""
    N_CONTEXT.check("n", n)
    SIZE.check("size", size)
    pf = check_p(p)
    check_memory("size", size, prompts_bytes(3, n, size), f"prompts (n = {n})")
    rng = as_generator(seed)
    ker = rng.random((size, 2))
    xq = (rng.random(size) < pf).astype(float)
    x = (rng.random((size, n)) < ((xq - pf) ** 2)[:, None]).astype(float)
    x = np.concatenate([x, xq[:, None]], axis=1)
    prob = np.where(x == 1, 1 - ker[:, 1:2], ker[:, 0:1])
    ys = (rng.random((size, n + 1)) < prob).astype(float)
    target = ys[:, n].copy()
    ys[:, n] = 0.0
    return Prompts(np.stack([x, ys], axis=1), target)


def sample_dynamical_prompts(states: int, d: int, n: int, size: int, seed,
                             dynamics: str = "deterministic") -> Prompts:
    r"""Prompts of the ``|S|``-state depth experiment: states ``0..states-1`` as scalars, ``n+1`` chains
    of length ``d+1`` per prompt sharing one random law, uniform initial state.

    ``dynamics="deterministic"``: :math:`s_{t+1} = f(s_t)` for a uniformly random map
    :math:`f: S\to S` drawn per prompt (a Markovian dynamical function);
    ``"dirichlet"``: a random kernel with Dirichlet(1, ..., 1) rows (Ding et al. 2025, Sec. 4, depth
    experiment; the encoding is the library's reconstruction). Returns :class:`Prompts` with
    ``Z (size, d+1, n+1)`` (query label slot 0) and ``y (size,)``."""
    STATES.check("states", states)
    _check_dn(d, n, D_ORDERING)
    SIZE.check("size", size)
    DYNAMICS.check("dynamics", dynamics)
    extra = 16.0 * size * states * (states + n + 1) if dynamics == "dirichlet" else 8.0 * size * states
    check_memory("size", size, prompts_bytes(d + 1, n, size) + extra,
                 f"prompts (states = {states}, d = {d}, n = {n})")
    rng = as_generator(seed)
    s = np.empty((size, d + 1, n + 1), dtype=np.int64)
    s[:, 0] = rng.integers(0, states, (size, n + 1))
    rows = np.arange(size)[:, None]
    if dynamics == "deterministic":
        f = rng.integers(0, states, (size, states))
        for t in range(d):
            s[:, t + 1] = f[rows, s[:, t]]
    else:
        cum = rng.dirichlet(np.ones(states), (size, states)).cumsum(-1)
        for t in range(d):
            u = rng.random((size, n + 1, 1))
            s[:, t + 1] = (u > cum[rows, s[:, t]]).sum(-1).clip(max=states - 1)
    Z = s.astype(float)
    y = Z[:, d, n].copy()
    Z[:, d, n] = 0.0
    return Prompts(Z, y)


def features(Z) -> np.ndarray:
    """``(size, dm)``: :math:`x_{n+1} \\otimes \\mathrm{vech}(G)`, :math:`G = \\frac1n\\sum_{i\\le n}
    z_i z_i^\\top`. ``Z`` of shape ``(size, d+1, n+1)``, d >= 1, n >= 1."""
    Z = float_array("Z", Z, ndim=3)
    d, n = Z.shape[1] - 1, Z.shape[2] - 1
    if d < 1 or n < 1:
        raise InputError("Z", f"shape {Z.shape}", "shape (size, d+1, n+1) with d >= 1, n >= 1")
    D_ORDERING.check("d", d)
    check_memory("Z", f"shape {Z.shape}", features_bytes(d, n, Z.shape[0]), "features")
    ctx = Z[:, :, :n]
    G = np.einsum("bin,bkn->bik", ctx, ctx) / n
    pr = pairs_array(d)
    g = G[:, pr[:, 0], pr[:, 1]]
    return np.einsum("bj,bs->bjs", Z[:, :d, n], g).reshape(Z.shape[0], -1)


def mc_loss(X, d: int, p, n: int, size: int, seed, batch: int = 20000) -> MonteCarloEstimate:
    """Monte Carlo :math:`E[(\\langle x_{n+1}\\otimes g, X\\rangle - y_{n+1})^2]` over ``size``
    sampled prompts (Ding et al. 2025, Sec. 3): returns the mean and its standard error.

    Memory: one batch of prompts and features at a time (checked against the 2 GiB budget);
    time: ``size ((d+1)(n+1) + d m)`` element operations, at most
    :data:`numerics.lsa.domains.WORK_BUDGET`."""
    _check_dn(d, n, D_ORDERING)
    SIZE.check("size", size)
    if size < 2:
        raise InputError("size", size, "at least 2 prompts (a standard error needs two)")
    BATCH.check("batch", batch)
    m = (d + 1) * (d + 2) // 2
    X = float_array("X", X, shape=(d * m,))
    k = min(batch, size)
    check_memory("batch", batch, prompts_bytes(d + 1, n, k) + features_bytes(d, n, k),
                 f"prompts and features of one batch (d = {d}, n = {n})")
    check_work("size", size, float(size) * ((d + 1) * (n + 1) + d * m), "Monte Carlo loss")
    rng = as_generator(seed)
    errs = []
    left = size
    while left > 0:
        k = min(batch, left)
        prompts = sample_markov_prompts(d, p, n, k, rng)
        errs.append((features(prompts.Z) @ X - prompts.y) ** 2)
        left -= k
    e = np.concatenate(errs)
    with np.errstate(all="ignore"):
        mean, se = float(e.mean()), float(e.std(ddof=1) / np.sqrt(e.size))
    if not (np.isfinite(mean) and np.isfinite(se)):
        raise NumericalFailure("mc_loss: the squared errors overflow (X too large)")
    return MonteCarloEstimate(mean, se)


# ----------------------------------------------------------------------------------------------
# Gaussian linear regression (Ahn et al. 2023; Ding et al. 2025, Sec. 3 contrast)


def _check_sigma(Sigma) -> np.ndarray:
    S = np.atleast_2d(float_array("Sigma", Sigma))
    if S.ndim != 2 or S.shape[0] != S.shape[1] or not np.allclose(S, S.T):
        raise InputError("Sigma", S.tolist() if S.size <= 100 else f"shape {S.shape}",
                         "a finite symmetric square matrix")
    DIM.check("Sigma dimension", S.shape[0])
    eig = np.linalg.eigvalsh(S)
    if eig.min() <= 1e-12 * max(1.0, abs(eig).max()):
        raise InputError("Sigma", S.tolist() if S.size <= 100 else f"shape {S.shape}",
                         "a positive-definite (non-singular) covariance")
    return S


def _check_noise(noise) -> float:
    if isinstance(noise, (str, bytes)):
        raise InputError("noise", noise, "a finite variance >= 0 (a number, not a string)")
    return float(NOISE.check("noise", noise))


def _finite(name: str, value):
    if not np.all(np.isfinite(value)):
        raise NumericalFailure(f"{name} is not finite (the inputs overflow float64)")
    return value


def gaussian_gamma_star(Sigma, n: int, noise: float = 0.0) -> np.ndarray:
    """:math:`\\Gamma^* = (\\frac{n+1}{n}\\Sigma + \\frac{\\mathrm{tr}\\Sigma+\\sigma^2}{n} I)^{-1}`."""
    S = _check_sigma(Sigma)
    N_CONTEXT.check("n", n)
    s2 = _check_noise(noise)
    with np.errstate(all="ignore"):
        try:
            G = np.linalg.inv((n + 1) / n * S + (np.trace(S) + s2) / n * np.eye(S.shape[0]))
        except np.linalg.LinAlgError as exc:
            raise NumericalFailure(f"gaussian_gamma_star: singular matrix ({exc})") from None
    return _finite("Gamma*", G)


def gaussian_loss(Gamma, Sigma, n: int, noise: float = 0.0) -> float:
    """:math:`L(\\Gamma)` of :func:`theory.lsa.gaussian_loss` in float64."""
    S = _check_sigma(Sigma)
    N_CONTEXT.check("n", n)
    s2 = _check_noise(noise)
    G = float_array("Gamma", Gamma)
    if G.shape != S.shape:
        raise InputError("Gamma", G.shape, f"shape {S.shape}")
    with np.errstate(all="ignore"):
        B = (n + 1) / n * S @ S + (np.trace(S) + s2) / n * S
        value = float(np.trace(S) + s2 - 2 * np.trace(G @ S @ S) + np.trace(G.T @ S @ G @ B))
    return float(_finite("L(Gamma)", value))


def sample_gaussian_prompts(Sigma, n: int, size: int, seed, noise: float = 0.0) -> Prompts:
    """:class:`Prompts` of Gaussian linear regression (Ahn et al. 2023, Sec. 2): ``Z (size, d+1,
    n+1)`` and targets ``y (size,)``, :math:`x\\sim N(0,\\Sigma)`, :math:`w^*\\sim N(0, I)`,
    :math:`y = w^{*\\top}x + \\varepsilon`, :math:`\\varepsilon \\sim N(0, \\sigma^2)` (``noise``
    = :math:`\\sigma^2`)."""
    S = _check_sigma(Sigma)
    N_CONTEXT.check("n", n)
    SIZE.check("size", size)
    s2 = _check_noise(noise)
    d = S.shape[0]
    check_memory("size", size, prompts_bytes(d + 1, n, size), f"Gaussian prompts (d = {d}, n = {n})")
    rng = as_generator(seed)
    x = rng.standard_normal((size, n + 1, d)) @ np.linalg.cholesky(S).T
    w = rng.standard_normal((size, d))
    y = np.einsum("bnd,bd->bn", x, w) + np.sqrt(s2) * rng.standard_normal((size, n + 1))
    Z = np.concatenate([x.transpose(0, 2, 1), y[:, None, :]], axis=1)
    target = Z[:, d, n].copy()
    Z[:, d, n] = 0.0
    return Prompts(Z, target)


# ----------------------------------------------------------------------------------------------
# Theorem 4.1 evaluated per prompt


def _regression_arrays(w, xs, ys):
    """``w`` (d,) real or complex, ``xs`` (n, d) real, ``ys`` (n,) real or complex: finite, shapes
    checked (complex allowed only for the complex-step Jacobian)."""
    def arr(name, value, ndim):
        if isinstance(value, (str, bytes)):
            raise InputError(name, value[:40], "an array of numbers (not a string)")
        try:
            a = np.asarray(value)
        except (TypeError, ValueError) as exc:
            raise InputError(name, type(value).__name__, f"an array of numbers ({exc})") from None
        if a.dtype.kind not in "biufc" or a.ndim != ndim or not np.all(np.isfinite(a)):
            raise InputError(name, f"shape {a.shape}, dtype {a.dtype}",
                             f"a finite numeric array of dimension {ndim}")
        return a if a.dtype.kind == "c" else a.astype(float)
    w, xs, ys = arr("w", w, 1), arr("xs", xs, 2), arr("ys", ys, 1)
    if xs.dtype.kind == "c":
        raise InputError("xs", "complex entries", "real inputs x_j")
    if xs.shape[1] != w.shape[0] or xs.shape[1] < 1:
        raise InputError("xs", f"shape {xs.shape}", f"an n x d matrix with d = len(w) = {w.shape[0]}")
    if ys.shape != (xs.shape[0],) or xs.shape[0] < 1:
        raise InputError("ys", f"shape {ys.shape}", f"a vector of length n = {xs.shape[0]}")
    return w, xs, ys


def objective_R1(w, xs, ys) -> np.ndarray:
    """:math:`R_1(w) \\in \\mathbb{R}^{d+1}` of Theorem 4.1 (Ding et al. 2025, Sec. 4;
    :func:`theory.lsa.objective_R1`); complex ``w`` allowed (for the complex step)."""
    w, xs, ys = _regression_arrays(w, xs, ys)
    pred = xs @ w
    N = xs.shape[0]
    return np.concatenate([-(xs * pred[:, None]).sum(0) / N, [((pred - ys) ** 2).sum() / (2 * N)]])


def objective_R2(w, xs, ys) -> np.ndarray:
    """:math:`R_2(w) \\in \\mathbb{R}^{d+1}` of Theorem 4.1 (Ding et al. 2025, Sec. 4;
    :func:`theory.lsa.objective_R2`), piecewise in :math:`x_{j,d}=0`; complex ``w`` allowed."""
    w, xs, ys = _regression_arrays(w, xs, ys)
    N, d = xs.shape
    head = ys - xs[:, : d - 1] @ w[: d - 1]
    xd, wd = xs[:, d - 1], w[d - 1]
    rows = (xs * (-head * wd + xd * wd ** 2 / 2)[:, None]).sum(0) / N
    r = ys - xs @ w
    nz = xd != 0
    last = np.where(nz, r ** 3 / (3 * np.where(nz, xd, 1.0)), -head ** 2 * wd).sum() / N
    return np.concatenate([rows, [last]])


def jacobian_complex_step(fun, w, step: float = 1e-30) -> np.ndarray:
    """Jacobian of an analytic ``fun`` at real ``w`` by the complex step
    :math:`\\partial_m f = \\mathrm{Im}\\, f(w + i h e_m)/h` (exact to rounding, no cancellation)."""
    w = float_array("w", w, ndim=1)
    if isinstance(step, bool) or not isinstance(step, (int, float)) or not 0 < step <= 1e-3:
        raise InputError("step", step, "a complex step in (0, 1e-3]")
    cols = []
    for m in range(w.size):
        e = np.zeros(w.size, complex)
        e[m] = 1j * step
        cols.append(np.imag(fun(w + e)) / step)
    J = np.stack(cols, axis=1)
    if not np.all(np.isfinite(J)):
        raise NumericalFailure("jacobian_complex_step: the Jacobian is not finite")
    return J


def multilayer_weights(bs, Abars, a_s, xs, ys) -> np.ndarray:
    """Theorem 4.1's recursion :math:`w_{l+1}^\\top = w_l^\\top - b_l^\\top(\\partial R_1 \\bar A_l +
    \\partial R_2 [0; a_l^\\top])`, :math:`w_0 = 0`, with Jacobians by complex step.

    ``bs``: list of ``(d+1,)``; ``Abars``: list of ``(d, d)``; ``a_s``: list of ``(d,)``;
    ``xs (n, d)``, ``ys (n,)``. Returns ``(L+1, d)``: :math:`w_0, \\dots, w_L`."""
    xs, ys = float_array("xs", xs, ndim=2), float_array("ys", ys, ndim=1)
    d = xs.shape[1]
    _regression_arrays(np.zeros(d), xs, ys)
    layers = [list(v) for v in (bs, Abars, a_s)]
    if not len(layers[0]) == len(layers[1]) == len(layers[2]):
        raise InputError("bs, Abars, a_s", [len(v) for v in layers], "lists of equal length")
    from numerics.lsa.domains import LAYERS

    LAYERS.check("len(bs)", len(layers[0]))
    bs = [float_array(f"bs[{l}]", b, shape=(d + 1,)) for l, b in enumerate(layers[0])]
    Abars = [float_array(f"Abars[{l}]", A, shape=(d, d)) for l, A in enumerate(layers[1])]
    a_s = [float_array(f"a_s[{l}]", a, shape=(d,)) for l, a in enumerate(layers[2])]
    w = np.zeros(d)
    out = [w]
    for b, Abar, a in zip(bs, Abars, a_s):
        J1 = jacobian_complex_step(lambda v: objective_R1(v, xs, ys.astype(complex)), w)
        J2 = jacobian_complex_step(lambda v: objective_R2(v, xs, ys.astype(complex)), w)
        lower = np.vstack([np.zeros((d - 1, d)), np.asarray(a, float)[None, :]])
        w = w - np.asarray(b, float) @ (J1 @ np.asarray(Abar, float) + J2 @ lower)
        if not np.all(np.isfinite(w)):
            raise NumericalFailure("multilayer_weights: the recursion overflowed")
        out.append(w)
    return np.stack(out)

"""k-state chains with Dirichlet kernels (Ding et al. 2025, Lemma C.8; Part 2 §E): exact moments.

The prompt holds raw states ``0..k-1`` (``x = s_{1:d}``, ``y = s_{d+1}``), the initial state is
uniform and the kernel rows are i.i.d. :math:`\\mathrm{Dir}(\\alpha 1_k)`, one kernel per prompt.
Everything is an exact rational (python-flint ``fmpq``):

- given K, with :math:`V = \\mathrm{diag}(0, \\dots, k-1)` and :math:`\\pi = 1_k/k`,
  :math:`E[s_{t_1}^{e_1}\\cdots s_{t_r}^{e_r} | K] = \\pi^\\top K^{t_1-1} V^{e_1} K^{t_2-t_1}
  \\cdots V^{e_r} 1`, a polynomial in the :math:`k^2` entries of K (:func:`conditional_moment`);
- over the kernel, :math:`E[\\prod_{ij} K_{ij}^{a_{ij}}] = \\prod_i \\frac{\\prod_j (\\alpha)_{a_{ij}}}
  {(k\\alpha)_{\\sum_j a_{ij}}}` with rising factorials :math:`(x)_a` (:func:`dirichlet_moment`;
  :math:`\\alpha \\to 0`: each row a uniformly random vertex, a random map);
- :math:`H = E_K[E[xx^\\top|K] \\otimes E[gg^\\top|K]]`, :math:`h = E_K[E[yx|K] \\otimes E[g|K]]`
  (Kronecker products averaged, not their factors), :math:`X^* = H^{-1}h`,
  :math:`\\tilde f^* = E[y^2] - h^\\top X^*`, :math:`E[y^2] = (k-1)(2k-1)/6`.

H depends on n only through :math:`H = H_{same}/n + (1 - 1/n) H_{cross}`, so the two parts are
computed once per ``(k, alpha, d)`` (:func:`kstate_parts`) and a scan over n is cheap.
The ordering of X is :func:`theory.lsa.feature_ordering`.
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

import numpy as np

from numerics.lsa.domains import KSTATE_ALPHA, KSTATE_D, KSTATE_STATES, N_CONTEXT, N_SCAN_KSTATE
from numerics.lsa.optimum import Moments
from theory.errors import InputError, NumericalFailure, TooLargeError
from theory.lsa import pair_ordering
from theory.results import result

#: Largest k^(3d) of the exact path (k = 3, d = 3: 19683 paths, about 8 s; k = 4, d = 3 takes
#: minutes and is refused).
KSTATE_WORK = 20_000

__all__ = ["KSTATE_WORK", "KStateParts", "KStateOptimum", "RealizableThreshold", "dirichlet_moment",
           "conditional_moment", "kstate_parts", "kstate_moments", "kstate_optimum",
           "kstate_threshold", "second_moment_y"]


def _flint():
    import flint

    return flint


def _alpha(alpha) -> Fraction:
    if isinstance(alpha, float):
        alpha = Fraction(repr(alpha))
    return Fraction(KSTATE_ALPHA.check("alpha", alpha))


@result
class KStateParts:
    """The n-free parts of the exact k-state moments (Lemma C.8; Part 2 §E).

    Attributes
    ----------
    H_same : flint.fmpq_mat, shape (dm, dm)
        :math:`E_K[E[xx^\\top|K] \\otimes E[(z z^\\top)(z z^\\top)|K]]` read on the pairs (one
        context chain): the weight-1/n part of H.
    H_cross : flint.fmpq_mat, shape (dm, dm)
        :math:`E_K[E[xx^\\top|K] \\otimes E[g|K]E[g|K]^\\top]` (two context chains): weight 1 - 1/n.
    h : flint.fmpq_mat, shape (dm, 1)
        :math:`E_K[E[yx|K] \\otimes E[g|K]]`.
    Ey2 : Fraction
        :math:`E[y^2] = (k-1)(2k-1)/6`.
    """

    H_same: object
    H_cross: object
    h: object
    Ey2: Fraction


@result
class KStateOptimum:
    """The enlarged optimum of the k-state task (Lemma C.8; Part 2 §E), exact.

    Attributes
    ----------
    X : list of Fraction, length dm
        :math:`X^* = H^{-1}h` in the ordering of :func:`theory.lsa.feature_ordering`.
    loss : Fraction
        :math:`\\tilde f^* = E[y^2] - h^\\top X^*` (squared error of a state in ``0..k-1``).
    moments : numerics.lsa.optimum.Moments
        H, h, E[y^2] in float64 (for :func:`numerics.lsa.realizability.best_lsa` and
        :func:`numerics.lsa.optimum.loss_at`).
    """

    X: list
    loss: Fraction
    moments: Moments


@result
class RealizableThreshold:
    """The smallest n at which :math:`X^*` is realisable, d = 1 (:math:`X_2^2 \\ge 4X_1X_3`).

    Attributes
    ----------
    n_min : int or None
        Smallest n in ``[1, n_max]`` with :math:`X_2^{*2} - 4X_1^*X_3^* \\ge 0` (exact), or None.
    stays_realizable : bool
        Whether every n in ``[n_min, n_max]`` is realisable too.
    """

    n_min: int | None
    stays_realizable: bool


def second_moment_y(k: int) -> Fraction:
    """:math:`E[y^2] = \\frac1k\\sum_{s<k} s^2 = (k-1)(2k-1)/6` (the marginal of every state is
    uniform after averaging over the symmetric kernel law)."""
    KSTATE_STATES.check("states", k)
    return Fraction((k - 1) * (2 * k - 1), 6)


def _rising(x, a: int):
    out = 1
    for i in range(a):
        out = out * (x + i)
    return out


@lru_cache(maxsize=None)
def _row_moment(row: tuple, alpha: Fraction):
    """:math:`E[\\prod_j K_{ij}^{a_j}]` for one Dirichlet row (fmpq)."""
    fl = _flint()
    k, total = len(row), sum(row)
    if total == 0:
        return fl.fmpq(1)
    if alpha == 0:  # limit alpha -> 0: the row is a uniformly random vertex e_j
        return fl.fmpq(1, k) if sum(1 for a in row if a) == 1 else fl.fmpq(0)
    al = fl.fmpq(alpha.numerator, alpha.denominator)
    num = fl.fmpq(1)
    for a in row:
        num *= _rising(al, a)
    return num / _rising(k * al, total)


def dirichlet_moment(exponents, k: int, alpha) -> Fraction:
    """:math:`E[\\prod_{i,j} K_{ij}^{a_{ij}}]` for rows i.i.d. :math:`\\mathrm{Dir}(\\alpha 1_k)`:
    :math:`\\prod_i \\prod_j (\\alpha)_{a_{ij}} / (k\\alpha)_{\\sum_j a_{ij}}` (exact).

    ``exponents``: a ``k x k`` array of integers >= 0 (``a_ij``); ``alpha`` >= 0 (0: the limit)."""
    KSTATE_STATES.check("states", k)
    al = _alpha(alpha)
    a = np.asarray(exponents)
    if a.shape != (k, k) or a.dtype.kind not in "iu" or (a < 0).any():
        raise InputError("exponents", f"shape {a.shape}, dtype {a.dtype}",
                         f"a {k} x {k} array of integers >= 0")
    out = _flint().fmpq(1)
    for i in range(k):
        out *= _row_moment(tuple(int(v) for v in a[i]), al)
    return Fraction(int(out.p), int(out.q))


@lru_cache(maxsize=None)
def _ring(k: int):
    fl = _flint()
    ctx = fl.fmpq_mpoly_ctx.get(tuple(f"K{i}_{j}" for i in range(k) for j in range(k)), "lex")
    return ctx, ctx.gens()


@lru_cache(maxsize=None)
def _moment_poly(k: int, exps: tuple):
    """``E[prod_t s_t^{exps[t]} | K]`` as an fmpq_mpoly (``exps`` indexed by time 0..)."""
    fl = _flint()
    ctx, gens = _ring(k)
    last = max((t for t, e in enumerate(exps) if e), default=-1)
    v = [ctx.from_dict({}) + fl.fmpq(1, k) for _ in range(k)]
    for t in range(last + 1):
        if exps[t]:
            v = [v[s] * s ** exps[t] for s in range(k)]
        if t < last:
            v = [sum((v[i] * gens[i * k + j] for i in range(k)), ctx.from_dict({}))
                 for j in range(k)]
    return sum(v, ctx.from_dict({}))


def conditional_moment(times, k: int):
    """:math:`E[\\prod_i s_{t_i} | K] = \\pi^\\top K^{t_1-1}V K^{t_2-t_1}\\cdots V 1` (times 1-based,
    repeats allowed: :math:`s_t^2` is not :math:`s_t` for k > 2) as a dict
    ``{exponents of K (k*k tuple, row-major): Fraction}``."""
    KSTATE_STATES.check("states", k)
    if isinstance(times, (str, bytes)) or not hasattr(times, "__iter__"):
        raise InputError("times", times, "a sequence of integer times in [1, 16]")
    ts = list(times)
    if any(isinstance(t, bool) or not isinstance(t, (int, np.integer)) or t < 1 or t > 16
           for t in ts):
        raise InputError("times", list(times), "integer times in [1, 16]")
    exps = [0] * (max(ts, default=0))
    for t in ts:
        exps[t - 1] += 1
    poly = _moment_poly(k, tuple(exps))
    return {tuple(int(v) for v in e): Fraction(int(c.p), int(c.q))
            for e, c in poly.to_dict().items()}


def _average(poly, k: int, alpha: Fraction):
    fl = _flint()
    total = fl.fmpq(0)
    for e, c in poly.to_dict().items():
        m = fl.fmpq(1)
        for i in range(k):
            m *= _row_moment(tuple(int(v) for v in e[i * k:(i + 1) * k]), alpha)
            if m == 0:
                break
        total += c * m
    return total


@lru_cache(maxsize=32)
def _parts(k: int, alpha: Fraction, d: int) -> KStateParts:
    fl = _flint()
    pairs = pair_ordering(d)
    m, T = len(pairs), d + 1

    def mom(*times):
        exps = [0] * T
        for t in times:
            exps[t - 1] += 1
        return _moment_poly(k, tuple(exps))

    xx = {(j, l): mom(j, l) for j in range(1, d + 1) for l in range(j, d + 1)}
    g1 = [mom(i, kk) for (i, kk) in pairs]
    N = d * m
    Hs, Hc, h = fl.fmpq_mat(N, N), fl.fmpq_mat(N, N), fl.fmpq_mat(N, 1)
    for (j, l), pxx in xx.items():
        prod_s = [pxx * g1[s] for s in range(m)]
        for s in range(m):
            for t in range(s, m):
                same = _average(pxx * mom(*pairs[s], *pairs[t]), k, alpha)
                cross = _average(prod_s[s] * g1[t], k, alpha)
                for (r, c) in {((j - 1) * m + s, (l - 1) * m + t), ((j - 1) * m + t, (l - 1) * m + s),
                               ((l - 1) * m + s, (j - 1) * m + t), ((l - 1) * m + t, (j - 1) * m + s)}:
                    Hs[r, c], Hc[r, c] = same, cross
    for j in range(1, d + 1):
        yx = mom(j, T)
        for s in range(m):
            h[(j - 1) * m + s, 0] = _average(yx * g1[s], k, alpha)
    return KStateParts(Hs, Hc, h, second_moment_y(k))


def kstate_parts(states: int, alpha, d: int) -> KStateParts:
    """The n-free exact parts of H and h (:class:`KStateParts`) for ``states`` = k states,
    Dirichlet concentration ``alpha`` >= 0 (a rational; 0 is the random-map limit) and chain
    prefix length ``d`` (``d`` at most :data:`numerics.lsa.domains.KSTATE_D`: about 1 s at
    d = 2 and 8 s at d = 3 for k = 3; refused when k^(3d) > :data:`KSTATE_WORK`)."""
    KSTATE_STATES.check("states", states)
    KSTATE_D.check("d", d)
    if states ** (3 * d) > KSTATE_WORK:
        raise TooLargeError("d", d, f"states^(3 d) <= {KSTATE_WORK} (the products of three chain "
                            f"moments have up to k^(3d) paths: k = {states} allows d <= "
                            f"{max(e for e in (1, 2, 3) if states ** (3 * e) <= KSTATE_WORK)})")
    return _parts(states, _alpha(alpha), d)


def kstate_moments(states: int, alpha, d: int, n: int):
    """Exact ``(H, h, E[y^2])`` at n context chains: :math:`H = H_{same}/n + (1-1/n)H_{cross}`
    (flint ``fmpq_mat`` of shape (dm, dm), (dm, 1), and a Fraction)."""
    N_CONTEXT.check("n", n)
    parts = kstate_parts(states, alpha, d)
    fl = _flint()
    inv = fl.fmpq(1, n)
    return parts.H_same * inv + parts.H_cross * (1 - inv), parts.h, parts.Ey2


def _solve(H, h):
    try:
        X = H.solve(h)
    except ZeroDivisionError:
        raise NumericalFailure("kstate: H is singular (no unique enlarged optimum)") from None
    return X


def _frac(q) -> Fraction:
    return Fraction(int(q.p), int(q.q))


def kstate_optimum(states: int, alpha, d: int, n: int) -> KStateOptimum:
    """:math:`X^* = H^{-1}h` and :math:`\\tilde f^* = E[y^2] - h^\\top X^*`, exact (Lemma C.8;
    Part 2 §E). ``states`` = k >= 2, ``alpha`` >= 0 rational, ``d`` <= 3, ``n`` >= 1.

    Examples
    --------
    k = 2, alpha = 1 is the binary task at p = 1/2 (121/342 at n = 10); k = 3, alpha = 1, n = 10:

    >>> from numerics.lsa.kstate import kstate_optimum
    >>> str(kstate_optimum(3, 1, 1, 10).loss)
    '10836163/10177110'
    """
    H, h, Ey2 = kstate_moments(states, alpha, d, n)
    X = _solve(H, h)
    fl = _flint()
    loss = fl.fmpq(Ey2.numerator, Ey2.denominator) - (h.transpose() * X)[0, 0]
    Xf = [_frac(X[i, 0]) for i in range(X.nrows())]
    mom = Moments(np.array([[float(_frac(H[i, j])) for j in range(H.ncols())]
                            for i in range(H.nrows())]),
                  np.array([float(_frac(h[i, 0])) for i in range(h.nrows())]), float(Ey2))
    return KStateOptimum(Xf, _frac(loss), mom)


def kstate_threshold(states: int, alpha, n_max: int = 1000) -> RealizableThreshold:
    """d = 1: the smallest n with :math:`X_2^{*2} \\ge 4X_1^*X_3^*` (X* in the image of phi),
    scanned exactly over ``n = 1..n_max`` (Part 2 §E: 17 for k = 3, 33 for k = 4, alpha = 1)."""
    N_SCAN_KSTATE.check("n_max", n_max)
    disc = []
    for nv in range(1, n_max + 1):
        H, h, _ = kstate_moments(states, alpha, 1, nv)
        X = _solve(H, h)
        disc.append(X[1, 0] ** 2 - 4 * X[0, 0] * X[2, 0] >= 0)
    first = next((i + 1 for i, ok in enumerate(disc) if ok), None)
    if first is None:
        return RealizableThreshold(None, False)
    return RealizableThreshold(first, all(disc[first - 1:]))

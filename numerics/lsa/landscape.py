"""The one-layer LSA loss landscape of d = 1 on a grid (Ding et al. 2025, Sec. 3, realisability).

For ``d = 1`` the enlarged parameter is :math:`X = (X_1, X_2, X_3)` (ordering of
:func:`theory.lsa.feature_ordering`: :math:`X_{(1,1)}, X_{(1,2)}, X_{(2,2)}`) and a one-layer LSA
with last row :math:`b` of P and first column :math:`a` of Q realises
:math:`X = \\phi(b, a) = (b_1 a_1,\\ b_1 a_2 + b_2 a_1,\\ b_2 a_2)`, i.e. exactly the
:math:`X` with :math:`X_2^2 \\ge 4 X_1 X_3` (the image of phi). The population loss is the
quadratic :math:`\\tilde f(X) = X^\\top H X - 2h^\\top X + E[y]`.

:func:`lsa_landscape_d1` evaluates, on a grid over the slice :math:`(X_1, X_3)` (the two
diagonal entries, :math:`b_1 a_1` and :math:`b_2 a_2`), the loss profiled over the third
coordinate :math:`X_2` in closed form:

- enlarged space: :math:`X_2^u = (h_2 - H_{21} X_1 - H_{23} X_3) / H_{22}` and
  :math:`\\tilde f(X_1, X_2^u, X_3)`, whose minimum over the slice is :math:`\\tilde f^*` at
  :math:`(X_1^*, X_3^*)`;
- one-layer LSA: :math:`\\min \\tilde f` over :math:`X_2` with :math:`X_2^2 \\ge 4X_1X_3`, i.e. over
  all :math:`(b, a)` with :math:`b_1 a_1 = X_1`, :math:`b_2 a_2 = X_3`. The constrained minimiser
  is :math:`X_2^u` when it is realisable, else the nearer end
  :math:`\\mathrm{sign}(X_2^u)\\,2\\sqrt{X_1 X_3}` (the loss is a parabola in :math:`X_2`). Its
  minimum over the slice is the best one-layer LSA loss.

The two agree exactly on the *realisable set* of the slice, :math:`(X_2^u)^2 \\ge 4 X_1 X_3`.
"""

from __future__ import annotations

import numpy as np

from theory.budgets import check_memory
from theory.domains import integer
from theory.errors import InputError, NumericalFailure
from theory.results import result

__all__ = ["LSALandscape", "LANDSCAPE_GRID", "lsa_landscape_d1", "profile_x2"]

#: Grid points per axis of :func:`lsa_landscape_d1` (about 10 float arrays of grid^2 entries).
LANDSCAPE_GRID = integer(2, 2000, note="grid x grid: about 10 arrays of grid^2 float64, 320 MB at 2000")


@result
class LSALandscape:
    """The d = 1 loss over the slice :math:`(X_1, X_3)` with :math:`X_2` profiled
    (:func:`lsa_landscape_d1`; Ding et al. 2025, Sec. 3, Thm 3.3).

    Attributes
    ----------
    x1 : ndarray, shape (grid,)
        Grid of :math:`X_1 = b_1 a_1` (the columns).
    x3 : ndarray, shape (grid,)
        Grid of :math:`X_3 = b_2 a_2` (the rows).
    loss : ndarray, shape (grid, grid)
        Enlarged-space loss profiled over :math:`X_2`: :math:`\\min_{X_2} \\tilde f` (squared
        error of a {0, 1} label).
    lsa_loss : ndarray, shape (grid, grid)
        One-layer LSA loss profiled over :math:`X_2` with :math:`X_2^2 \\ge 4 X_1 X_3`
        (``>= loss``, equal on the realisable set).
    x2 : ndarray, shape (grid, grid)
        The unconstrained profiled :math:`X_2^u`.
    realizable : ndarray of bool, shape (grid, grid)
        :math:`(X_2^u)^2 \\ge 4 X_1 X_3`: the profiled point is in the image of phi.
    X_star : ndarray, shape (3,)
        :math:`X^* = H^{-1} h`.
    fstar : float
        :math:`\\tilde f^*`, the enlarged optimum's loss.
    star_realizable : bool
        Whether :math:`X^*` is realisable (:math:`X_2^{*2} \\ge 4 X_1^* X_3^*`).
    best_X : ndarray, shape (3,)
        The best one-layer LSA's :math:`X` (:math:`X^*` when realisable, else
        :func:`numerics.lsa.realizability.best_lsa`).
    best_loss : float
        Its loss: the best one-layer LSA loss (``= fstar`` when ``star_realizable``).
    p : float
        :math:`P(s_1 = 1)`.
    n : int
        Context chains.
    """

    x1: np.ndarray
    x3: np.ndarray
    loss: np.ndarray
    lsa_loss: np.ndarray
    x2: np.ndarray
    realizable: np.ndarray
    X_star: np.ndarray
    fstar: float
    star_realizable: bool
    best_X: np.ndarray
    best_loss: float
    p: float
    n: int


def _range(name: str, pair) -> tuple[float, float]:
    from numerics.lsa import optimum

    arr = optimum.float_array(name, pair, shape=(2,))
    if not arr[0] < arr[1]:
        raise InputError(name, tuple(arr.tolist()), "a pair (low, high) of finite reals with low < high")
    return float(arr[0]), float(arr[1])


def profile_x2(x1, x3, mom):
    """The profiled :math:`X_2` at broadcast ``x1, x3`` for d = 1 moments ``mom``: returns
    ``(x2_unconstrained, x2_lsa)``, the minimiser of :math:`\\tilde f` over :math:`X_2` and the
    minimiser over the realisable :math:`X_2^2 \\ge 4 x_1 x_3` (module docstring)."""
    from numerics.lsa import optimum

    mom = optimum.check_moments(mom, 1)
    H, h = mom.H, mom.h
    x1, x3 = np.broadcast_arrays(optimum.float_array("x1", x1), optimum.float_array("x3", x3))
    x2u = (h[1] - H[1, 0] * x1 - H[1, 2] * x3) / H[1, 1]
    product = x1 * x3
    edge = 2 * np.sqrt(np.maximum(product, 0.0))
    inside = (product <= 0) | (np.abs(x2u) >= edge)
    x2c = np.where(inside, x2u, np.where(x2u >= 0, edge, -edge))
    return x2u, x2c


def _quadratic(x1, x2, x3, mom) -> np.ndarray:
    X = np.stack([x1, x2, x3], axis=-1)
    return np.einsum("...i,ij,...j->...", X, mom.H, X) - 2 * X @ mom.h + mom.Ey


def lsa_landscape_d1(p, n: int, x1_range=None, x3_range=None, grid: int = 201,
                     seed: int = 0) -> LSALandscape:
    """The d = 1 one-layer LSA landscape over :math:`(X_1, X_3)` with :math:`X_2` profiled in
    closed form (module docstring; Ding et al. 2025, Sec. 3, Thm 3.3 and the realisability gap).

    Parameters
    ----------
    p : float
        :math:`P(s_1 = 1)` in (0, 1).
    n : int
        Context chains, >= 1.
    x1_range, x3_range : (float, float), optional
        Slice window, ``low < high``; default centred on :math:`X^*` with half-width
        :math:`1.5\\max(|X_1^*|, |X_3^*|, 0.2)`.
    grid : int
        Points per axis (:data:`LANDSCAPE_GRID`).
    seed : int
        Seed of :func:`numerics.lsa.realizability.best_lsa` (used when :math:`X^*` is not
        realisable).

    Returns
    -------
    LSALandscape
        Rows follow ``x3``, columns ``x1``.
    """
    from numerics.lsa import optimum
    from numerics.lsa import realizability
    from numerics.lsa.domains import N_CONTEXT

    p = optimum.check_p(p)
    N_CONTEXT.check("n", n)
    LANDSCAPE_GRID.check("grid", grid)
    check_memory("grid", grid, 10 * 8 * grid * grid, f"a {grid} x {grid} landscape")
    mom = optimum.markov_moments_numeric(1, p, n)
    star = optimum.optimum(mom)
    half = 1.5 * max(abs(star.X[0]), abs(star.X[2]), 0.2)
    x1_range = (star.X[0] - half, star.X[0] + half) if x1_range is None else _range("x1_range", x1_range)
    x3_range = (star.X[2] - half, star.X[2] + half) if x3_range is None else _range("x3_range", x3_range)
    x1 = np.linspace(*x1_range, grid)
    x3 = np.linspace(*x3_range, grid)
    X1, X3 = np.meshgrid(x1, x3)
    x2u, x2c = profile_x2(X1, X3, mom)
    with np.errstate(over="ignore", invalid="ignore"):
        loss = _quadratic(X1, x2u, X3, mom)
        lsa_loss = _quadratic(X1, x2c, X3, mom)
    if not (np.all(np.isfinite(loss)) and np.all(np.isfinite(lsa_loss))):
        raise NumericalFailure("lsa_landscape_d1: the loss overflows on this window")
    star_ok = bool(star.X[1] ** 2 >= 4 * star.X[0] * star.X[2])
    if star_ok:
        best_X, best_loss = star.X, star.loss
    else:
        best = realizability.best_lsa(mom, 1, seed=seed)
        best_X, best_loss = best.X, best.loss
    return LSALandscape(x1=x1, x3=x3, loss=loss, lsa_loss=lsa_loss, x2=x2u,
                        realizable=x2u ** 2 >= 4 * X1 * X3, X_star=star.X, fstar=star.loss,
                        star_realizable=star_ok, best_X=np.asarray(best_X, float),
                        best_loss=float(best_loss), p=p, n=int(n))

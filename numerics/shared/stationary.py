"""Stationary points of smooth functions on a box: multi-start root finding, deduplication and
classification by the Hessian's eigenvalues. Topic-free; used by every paper's numerics."""

from __future__ import annotations

from typing import Callable

import numpy as np
from scipy.optimize import least_squares

from numerics.shared.seeding import as_generator
from theory.budgets import MEMORY_BUDGET
from theory.domains import integer, real
from theory.errors import InputError, NumericalFailure, TooLargeError
from theory.results import result

__all__ = ["StationaryPoint", "HessianClass", "classify_hessian", "find_stationary_points",
           "MAX_STARTS"]

#: Most starting points of :func:`find_stationary_points` (each a bounded least-squares solve of
#: at most 200 gradient evaluations).
MAX_STARTS = 100_000
_STARTS = integer(1, MAX_STARTS)
_TOL = real(0, None)
_DISTANCE = real(0, None, low_open=True)


@result
class StationaryPoint:
    """A point where the gradient norm is below the tolerance, with its Hessian spectrum.

    Attributes
    ----------
    x : numpy.ndarray, shape (n,)
        The point.
    gradient_norm : float
        :math:`\\|\\nabla f(x)\\|_2` there.
    eigenvalues : numpy.ndarray, shape (n,)
        The Hessian's eigenvalues, ascending.
    kind : str
        The classification of :func:`classify_hessian`.
    """

    x: np.ndarray
    gradient_norm: float
    eigenvalues: np.ndarray
    kind: str


@result
class HessianClass:
    """The kind of a stationary point read from its Hessian.

    Attributes
    ----------
    kind : str
        ``"minimum"``, ``"maximum"``, ``"saddle"``, ``"degenerate minimum"``,
        ``"degenerate maximum"``, ``"degenerate saddle"`` or ``"flat"``.
    eigenvalues : numpy.ndarray, shape (n,)
        The eigenvalues of the symmetrised Hessian, ascending.
    """

    kind: str
    eigenvalues: np.ndarray


def classify_hessian(hessian: np.ndarray, tol: float = 1e-9) -> HessianClass:
    """Kind of a stationary point from its symmetric Hessian :math:`H` (``n x n``).

    With :math:`\\lambda_i` the eigenvalues of :math:`(H + H^\\top)/2`: ``"minimum"`` when every
    :math:`\\lambda_i > tol`, ``"maximum"`` when every :math:`\\lambda_i < -tol`, ``"saddle"``
    when some are > tol and some < -tol; when some lie within ``tol`` of zero, ``"degenerate "``
    is prefixed to the kind of the others, and ``"flat"`` when all do.
    """
    tol = _TOL.check("tol", tol)
    try:
        hessian = np.asarray(hessian, dtype=float)
    except (TypeError, ValueError):
        raise InputError("hessian", hessian, "a square matrix of real numbers") from None
    if hessian.ndim != 2 or hessian.shape[0] != hessian.shape[1] or hessian.size == 0:
        raise InputError("hessian", hessian.shape, "a non-empty square matrix")
    if not np.all(np.isfinite(hessian)):
        raise InputError("hessian", hessian.tolist(), "a matrix of finite numbers")
    eigenvalues = np.linalg.eigvalsh(hessian / 2 + hessian.T / 2)  # (halves: no overflow)
    if not np.all(np.isfinite(eigenvalues)):
        raise NumericalFailure(f"the eigenvalues of the Hessian are not finite "
                               f"({eigenvalues.tolist()})")
    positive, negative = eigenvalues > tol, eigenvalues < -tol
    zero = ~(positive | negative)
    if positive.any() and negative.any():
        kind = "saddle"
    elif positive.any():
        kind = "minimum"
    elif negative.any():
        kind = "maximum"
    else:
        kind = "flat"
    if zero.any() and kind != "flat":
        kind = "degenerate " + kind
    return HessianClass(kind, eigenvalues)


def find_stationary_points(gradient: Callable[[np.ndarray], np.ndarray],
                           hessian: Callable[[np.ndarray], np.ndarray],
                           lower, upper, starts: int, seed: int,
                           gtol: float = 1e-10, merge_distance: float = 1e-6,
                           hessian_tol: float = 1e-9) -> list[StationaryPoint]:
    """Multi-start search for zeros of ``gradient`` in the box ``[lower, upper]``.

    Each of ``starts`` uniform random starting points (seeded) is polished by a bounded
    Levenberg--Marquardt-type least-squares solve of ``gradient(x) = 0`` (scipy's trust-region
    reflective ``least_squares`` with ``hessian`` as Jacobian). Points with
    ``|gradient| <= gtol`` are kept, merged when closer than ``merge_distance``, and classified
    by :func:`classify_hessian`.

    Parameters
    ----------
    gradient, hessian : callable
        ``gradient(x) -> (n,)``, ``hessian(x) -> (n, n)``.
    lower, upper : array-like, shape (n,)
        Finite box ends, ``lower < upper``.
    starts : int in [1, 100000]
    seed : int or numpy.random.Generator
    gtol, hessian_tol : float >= 0; merge_distance : float > 0

    Raises
    ------
    InputError
        An argument outside its domain.
    NumericalFailure
        The gradient or Hessian is not finite where the solver needs it.
    """
    for name, fn in (("gradient", gradient), ("hessian", hessian)):
        if not callable(fn):
            raise InputError(name, fn, "a callable of a point (1-D array)")
    starts = _STARTS.check("starts", starts)
    gtol, hessian_tol = _TOL.check("gtol", gtol), _TOL.check("hessian_tol", hessian_tol)
    merge_distance = _DISTANCE.check("merge_distance", merge_distance)
    try:
        lower, upper = np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
    except (TypeError, ValueError):
        raise InputError("lower/upper", (lower, upper), "1-D arrays of finite reals") from None
    if (lower.ndim != 1 or lower.size == 0 or lower.shape != upper.shape
            or not np.all(np.isfinite(upper - lower)) or np.any(lower >= upper)):
        raise InputError("lower/upper", (lower.tolist(), upper.tolist()),
                         "non-empty 1-D arrays of finite reals, lower < upper componentwise")
    if starts * lower.size * 8 > MEMORY_BUDGET:
        raise TooLargeError("starts", starts, f"at most {MEMORY_BUDGET // (8 * lower.size)} "
                            f"starting points in {lower.size} dimensions (2 GiB)")
    rng = as_generator(seed)
    found: list[StationaryPoint] = []
    for x0 in rng.uniform(lower, upper, size=(starts, lower.size)):
        try:
            sol = least_squares(gradient, x0, jac=hessian, bounds=(lower, upper), xtol=1e-15,
                                ftol=1e-15, gtol=1e-15, max_nfev=200)
        except ValueError as exc:  # scipy: residuals or Jacobian not finite at the start
            raise NumericalFailure(f"the gradient or Hessian is not finite near "
                                   f"{x0.tolist()}: {exc}") from None
        norm = float(np.linalg.norm(gradient(sol.x)))
        if not norm <= gtol or any(np.linalg.norm(sol.x - s.x) < merge_distance for s in found):
            continue  # (a NaN gradient norm is never a stationary point)
        curvature = np.asarray(hessian(sol.x), dtype=float)
        if not np.all(np.isfinite(curvature)):
            raise NumericalFailure(f"the Hessian is not finite at the stationary point "
                                   f"{sol.x.tolist()}")
        classified = classify_hessian(curvature, hessian_tol)
        found.append(StationaryPoint(sol.x, norm, classified.eigenvalues, classified.kind))
    return found

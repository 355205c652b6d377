"""Stationary points of smooth functions on a box: multi-start root finding, deduplication and
classification by the Hessian's eigenvalues. Topic-free; used by every paper's numerics."""

from __future__ import annotations

from typing import Callable

import numpy as np
from scipy.optimize import least_squares

from numerics.shared.seeding import as_generator
from theory.errors import InputError, check_int
from theory.results import result

__all__ = ["StationaryPoint", "HessianClass", "classify_hessian", "find_stationary_points"]


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
    hessian = np.asarray(hessian, dtype=float)
    if hessian.ndim != 2 or hessian.shape[0] != hessian.shape[1]:
        raise InputError("hessian", hessian.shape, "a square matrix")
    eigenvalues = np.linalg.eigvalsh((hessian + hessian.T) / 2)
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
    """
    check_int("starts", starts, 1)
    lower, upper = np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
    if lower.shape != upper.shape or np.any(lower >= upper):
        raise InputError("lower/upper", (lower.tolist(), upper.tolist()), "lower < upper componentwise")
    rng = as_generator(seed)
    found: list[StationaryPoint] = []
    for x0 in rng.uniform(lower, upper, size=(starts, lower.size)):
        sol = least_squares(gradient, x0, jac=hessian, bounds=(lower, upper), xtol=1e-15,
                            ftol=1e-15, gtol=1e-15, max_nfev=200)
        norm = float(np.linalg.norm(gradient(sol.x)))
        if norm > gtol or any(np.linalg.norm(sol.x - s.x) < merge_distance for s in found):
            continue
        classified = classify_hessian(hessian(sol.x), hessian_tol)
        found.append(StationaryPoint(sol.x, norm, classified.eigenvalues, classified.kind))
    return found

"""Stationary points of smooth functions on a box: multi-start root finding, deduplication and
classification by the Hessian's eigenvalues. Topic-free; used by every paper's numerics."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy.optimize import least_squares

from theory.errors import InputError, check_int


@dataclass(frozen=True)
class StationaryPoint:
    """A point where the gradient norm is below the tolerance, with its Hessian spectrum."""

    x: np.ndarray
    gradient_norm: float
    eigenvalues: np.ndarray
    kind: str


def classify_hessian(hessian: np.ndarray, tol: float = 1e-9) -> tuple[str, np.ndarray]:
    """Kind of a stationary point from its symmetric Hessian (``n x n``).

    Returns ``(kind, eigenvalues)`` with kind ``"minimum"`` (all eigenvalues > tol),
    ``"maximum"`` (all < -tol), ``"saddle"`` (some > tol and some < -tol), or, when some
    eigenvalues are within ``tol`` of zero, ``"degenerate minimum"`` (others > tol),
    ``"degenerate maximum"``, ``"degenerate saddle"`` or ``"flat"``.
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
    return kind, eigenvalues


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
    rng = np.random.default_rng(seed)
    found: list[StationaryPoint] = []
    for x0 in rng.uniform(lower, upper, size=(starts, lower.size)):
        sol = least_squares(gradient, x0, jac=hessian, bounds=(lower, upper), xtol=1e-15,
                            ftol=1e-15, gtol=1e-15, max_nfev=200)
        norm = float(np.linalg.norm(gradient(sol.x)))
        if norm > gtol or any(np.linalg.norm(sol.x - s.x) < merge_distance for s in found):
            continue
        kind, eigenvalues = classify_hessian(hessian(sol.x), hessian_tol)
        found.append(StationaryPoint(sol.x, norm, eigenvalues, kind))
    return found

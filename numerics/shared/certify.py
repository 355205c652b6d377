"""Certified computation with ball arithmetic (python-flint ``arb``): existence and uniqueness of
zeros (Krawczyk), exclusion of zeros (branch and bound) and certified eigenvalue signs.

Topic-free. python-flint is an optional extra (``pip install -e '.[certify]'``); this module
imports without it and every certifying function raises :class:`CertificationUnavailable` when it
is missing (test with :func:`certification_available`). Callers keep an uncertified path.

What "certified" means here: every quantity a conclusion depends on is an ``arb`` ball (a
midpoint and a radius, rounded outward by Arb) that provably contains the true value. Floats are
used only to *choose* things that need not be exact -- midpoints, the preconditioner ``Y`` of the
Krawczyk operator, approximate eigenvectors -- and any choice is allowed by the theorems below.

Boxes are lists of ``(lo, hi)`` pairs of floats, or lists of ``arb`` balls (the ball
``[m - r, m + r]`` is the interval). Functions passed in take a list of ``arb`` (and, for the
parametric tests, a list of ``arb`` parameters) and return a list of ``arb``; Jacobians return an
``arb_mat`` or a nested list of ``arb``.

References (in words): R. Krawczyk, "Newton-Algorithmen zur Bestimmung von Nullstellen mit
Fehlerschranken", Computing 4 (1969); R. E. Moore, "A test for existence of solutions to
nonlinear systems", SIAM J. Numer. Anal. 14 (1977) (the interval Newton method and the existence
test); S. M. Rump, "Verification methods", Acta Numerica 19 (2010), Thm 5.1 (the form used here).
"""

from __future__ import annotations

import math
from dataclasses import field
from fractions import Fraction
from numbers import Integral, Real
from typing import Callable

import numpy as np

from theory.errors import InputError, TTCError
from theory.results import result

__all__ = [
    "CERTIFIED_METHOD", "CERTIFIED_POINT_METHOD", "UNCERTIFIED_METHOD", "CertificationUnavailable", "certification_available", "require_flint", "to_arb", "interval",
    "as_box", "bounds", "inner_bounds", "KrawczykResult", "krawczyk", "krawczyk_inflate", "ExclusionResult",
    "exclude_zeros", "EigenSigns", "eigen_signs", "working_precision",
]


#: The ``method`` of a claim decided by a certificate, and of one decided in floating point.
CERTIFIED_METHOD = "certified (interval arithmetic: Krawczyk + exclusion, python-flint arb)"
#: The same for a certificate of isolated points (Krawczyk and Hessian signs, no exclusion).
CERTIFIED_POINT_METHOD = ("certified (interval arithmetic: Krawczyk + Hessian eigenvalue signs, "
                          "python-flint arb)")
UNCERTIFIED_METHOD = ("uncertified (floating-point root finding; install the certify extra for a "
                      "proof)")


#: Highest working precision (bits) :class:`working_precision` accepts.
MAX_BITS = 100_000
#: Most boxes :func:`exclude_zeros` may examine.
MAX_BOXES = 10_000_000
#: Most epsilon-inflation steps of :func:`krawczyk_inflate`.
MAX_ITERATIONS = 1_000


class CertificationUnavailable(TTCError, ImportError):
    """python-flint (the ``certify`` extra) is not installed: no certified path."""


def certification_available() -> bool:
    """True when python-flint can be imported (the certified path exists)."""
    try:
        import flint  # noqa: F401
    except ImportError:
        return False
    return True


def require_flint():
    """Return the ``flint`` module or raise :class:`CertificationUnavailable`."""
    try:
        import flint
    except ImportError as exc:  # pragma: no cover - exercised by monkeypatching in tests
        raise CertificationUnavailable(
            "python-flint is not installed: install the certify extra "
            "(pip install -e '.[certify]') for the certified path") from exc
    return flint


# ----------------------------------------------------------------------------------------------
# Conversions


def to_arb(x):
    """An ``arb`` ball containing ``x``.

    ``arb`` is returned as is; integers, ``Fraction`` and sympy rationals are enclosed exactly
    (a ball of radius ~1 ulp around ``num/den``); a float is read as the binary double it is.
    """
    flint = require_flint()
    if isinstance(x, flint.arb):
        return x
    if isinstance(x, bool):
        raise InputError("x", x, "a real number")
    if isinstance(x, Integral):
        return flint.arb(int(x))
    if isinstance(x, Fraction):
        return flint.arb(flint.fmpq(x.numerator, x.denominator))
    if hasattr(x, "is_Rational") and getattr(x, "is_Rational", False):  # sympy Rational
        return flint.arb(flint.fmpq(int(x.p), int(x.q)))
    if isinstance(x, (Real, np.floating)) and math.isfinite(float(x)):
        return flint.arb(float(x))
    raise InputError("x", x, "a finite real number, Fraction, sympy Rational or arb")


def interval(lo, hi):
    """The ball ``arb`` enclosing the interval ``[lo, hi]`` (outward rounding by Arb).

    .. math:: [lo, hi] \\subseteq \\mathrm{ball}(m, r), \\quad m \\approx (lo+hi)/2.
    """
    require_flint()
    try:
        a, b = to_arb(lo), to_arb(hi)
    except InputError:
        raise InputError("interval", (lo, hi), "finite real ends lo <= hi") from None
    if not (a.is_finite() and b.is_finite()) or a > b:
        raise InputError("interval", (lo, hi), "finite real ends lo <= hi")
    return a.union(b)


def as_box(box) -> list:
    """A box as a list of ``arb`` balls: ``(lo, hi)`` pairs become :func:`interval`, balls stay."""
    flint = require_flint()
    out = []
    for i, item in enumerate(box):
        if isinstance(item, flint.arb):
            out.append(item)
        elif isinstance(item, (tuple, list)) and len(item) == 2:
            out.append(interval(*item))
        else:
            raise InputError(f"box[{i}]", item, "a (lo, hi) pair or an arb ball")
    if not out:
        raise InputError("box", box, "a non-empty list of intervals")
    return out


def bounds(ball) -> tuple[float, float]:
    """Float bounds ``(lo, hi)`` with ``lo <= ball <= hi`` (rounded outward)."""
    lo, hi = ball.lower(), ball.upper()
    lo_f, hi_f = float(lo.mid()), float(hi.mid())
    return float(np.nextafter(lo_f, -np.inf)), float(np.nextafter(hi_f, np.inf))


class working_precision:
    """Context manager: run the enclosed arb computations at ``bits`` bits of precision (Arb's
    global ``flint.ctx.prec``), restored on exit. Higher precision narrows the enclosures of
    ill-conditioned problems; it never makes a certificate less valid."""

    def __init__(self, bits: int):
        if isinstance(bits, bool) or not isinstance(bits, Integral) or not 16 <= bits <= MAX_BITS:
            raise InputError("bits", bits, f"an integer in [16, {MAX_BITS}]")
        self.bits = int(bits)

    def __enter__(self):
        flint = require_flint()
        self._saved = flint.ctx.prec
        flint.ctx.prec = self.bits
        return self

    def __exit__(self, *exc):
        require_flint().ctx.prec = self._saved
        return False


def inner_bounds(ball) -> tuple[float, float]:
    """Float bounds ``(lo, hi)`` with ``[lo, hi]`` inside the ball (rounded inward): what may be
    claimed as *covered* by a ball."""
    lo_f, hi_f = float(ball.lower().mid()), float(ball.upper().mid())
    return float(np.nextafter(lo_f, np.inf)), float(np.nextafter(hi_f, -np.inf))


def _mid(ball) -> float:
    return float(ball.mid())


def _as_mat(J, n: int):
    flint = require_flint()
    if isinstance(J, flint.arb_mat):
        return J
    return flint.arb_mat([[to_arb(v) for v in row] for row in J])


# ----------------------------------------------------------------------------------------------
# Krawczyk's existence and uniqueness test


@result
class KrawczykResult:
    """Outcome of the Krawczyk test on a box ``X`` (:func:`krawczyk`).

    Attributes
    ----------
    unique : bool
        :math:`K(X) \\subset \\mathrm{int}\\,X`: then (for every parameter in the parameter box)
        exactly one zero lies in ``X``, and it lies in ``image``.
    empty : bool
        :math:`K(X) \\cap X = \\emptyset`: then there is no zero in ``X``.
    box : list of (float, float)
        ``X`` as float bounds, rounded outward (n pairs).
    image : list of (float, float)
        :math:`K(X)` as float bounds, rounded outward (empty when the test could not run).
    reason : str
        Why the test failed ("" when ``unique``).
    image_balls : list of arb
        :math:`K(X)` as balls.
    inner : list of (float, float)
        ``X`` as float bounds rounded inward: a float box inside X, to decide what the
        certificate covers.
    """

    unique: bool
    empty: bool
    box: list
    image: list
    reason: str = ""
    image_balls: list = field(default_factory=list, repr=False)
    inner: list = field(default_factory=list, repr=False)


def krawczyk(f: Callable, jacobian: Callable, box, params=None, center=None) -> KrawczykResult:
    """Krawczyk's test (Krawczyk 1969; Moore's interval Newton test in Rump's form) for
    :math:`F: \\mathbb R^n \\to \\mathbb R^n`, :math:`C^1` in ``x``.

    .. math::
        K(X) = \\tilde x - Y F(\\tilde x) + (I - Y\\, J(X))(X - \\tilde x),

    with :math:`\\tilde x` the (float) midpoint of ``X``, :math:`Y \\approx J(\\tilde x)^{-1}` any
    float matrix and :math:`J(X)` an interval enclosure of the Jacobian over ``X``. If
    :math:`K(X) \\subset \\mathrm{int}(X)` then ``Y`` and every matrix in :math:`J(X)` are
    nonsingular and F has exactly one zero in ``X`` (Rump 2010, Thm 5.1); if
    :math:`K(X) \\cap X = \\emptyset` there is none.

    Parametric form: with ``params`` a list of balls (e.g. an interval of a parameter ``w``),
    ``f(x, params)`` and ``jacobian(X, params)`` must enclose :math:`F(x; w)` and
    :math:`\\partial_x F(X; w)` for every ``w`` in the balls. Then :math:`K(X; w) \\subseteq K(X)`
    for each such ``w``, so the conclusion holds *for every parameter value*: "for every w in W
    there is exactly one zero in X". ``F`` need only be :math:`C^1` in ``x``, not in ``w``.

    Parameters
    ----------
    f : callable ``f(x, params) -> list[arb]`` (``params`` is None in the plain form)
    jacobian : callable ``jacobian(X, params) -> arb_mat`` (n x n), enclosing :math:`\\partial F/\\partial x`
    box : ``n`` intervals ``(lo, hi)`` or balls
    params : list of balls, or None
    center : optional point (floats or balls, whose midpoints are used) to use as
        :math:`\\tilde x` (must lie in X); default the exact midpoint of X

    Precision: the working precision of ``flint.ctx`` (53 bits by default); an ill-conditioned
    zero needs more (see :func:`working_precision`).
    """
    flint = require_flint()
    X = as_box(box)
    n = len(X)
    if center is None:
        xt_arb = [x.mid() for x in X]  # exact midpoints (at the working precision)
    else:
        xt_arb = [c.mid() if isinstance(c, flint.arb) else flint.arb(float(c)) for c in center]
    if len(xt_arb) != n or not all(x.contains(v) for x, v in zip(X, xt_arb)):
        raise InputError("center", [str(v) for v in xt_arb], "a point inside the box")
    JX = _as_mat(jacobian(X, params), n)
    Fm = [to_arb(v) for v in f(xt_arb, params)]
    if len(Fm) != n or JX.nrows() != n or JX.ncols() != n:
        raise InputError("f/jacobian", (len(Fm), JX.nrows(), JX.ncols()), f"a square system of size {n}")
    Jm = np.array([[_mid(JX[i, j]) for j in range(n)] for i in range(n)])
    try:
        Y_np = np.linalg.inv(Jm)
    except np.linalg.LinAlgError:
        return KrawczykResult(False, False, [bounds(x) for x in X], [], "midpoint Jacobian singular")
    if not np.all(np.isfinite(Y_np)):
        return KrawczykResult(False, False, [bounds(x) for x in X], [], "midpoint Jacobian singular")
    Y = flint.arb_mat([[flint.arb(float(v)) for v in row] for row in Y_np])
    identity = flint.arb_mat([[1 if i == j else 0 for j in range(n)] for i in range(n)])
    R = identity - Y * JX
    YF = Y * flint.arb_mat([[v] for v in Fm])
    D = flint.arb_mat([[X[i] - xt_arb[i]] for i in range(n)])
    RD = R * D
    K = [xt_arb[i] - YF[i, 0] + RD[i, 0] for i in range(n)]
    if not all(k.is_finite() for k in K):
        return KrawczykResult(False, False, [bounds(x) for x in X], [], "non-finite enclosure")
    inside = all(X[i].contains_interior(K[i]) for i in range(n))
    empty = any(not X[i].overlaps(K[i]) for i in range(n))
    reason = "" if inside else ("K(X) and X disjoint: no zero" if empty else "K(X) not inside X")
    return KrawczykResult(inside, empty, [bounds(x) for x in X], [bounds(k) for k in K], reason, K,
                          [inner_bounds(x) for x in X])


def krawczyk_inflate(f: Callable, jacobian: Callable, x0, radius, params=None,
                     iterations: int = 10, inflation: float = 0.1) -> KrawczykResult:
    """Krawczyk's test with epsilon-inflation (Rump) started from the float guess ``x0``.

    .. math:: X_0 = [x_0 - r, x_0 + r],\\qquad X_{k+1} = \\mathrm{hull}(K(X_k)) \\text{ widened by }
        \\epsilon\\,\\mathrm{rad}(K(X_k)) + r\\,10^{-3}

    until :math:`K(X_k) \\subset \\mathrm{int}\\,X_k` (success) or ``iterations`` tries (a box
    with :math:`K(X_k) \\cap X_k = \\emptyset` only says the guess was off: the iteration goes on
    from the image). Only the
    last test decides; the iteration merely chooses the box, so the conclusion is that of
    :func:`krawczyk` for the returned ``box``.

    Parameters
    ----------
    x0 : float point (length n); radius : float or length-n floats, > 0
    """
    try:
        x0 = np.asarray(x0, dtype=float)
        r = np.broadcast_to(np.asarray(radius, dtype=float), x0.shape).copy()
    except (TypeError, ValueError):
        raise InputError("x0/radius", (x0, radius), "a point of finite reals and positive finite "
                                                    "radii of its shape") from None
    if x0.ndim != 1 or x0.size == 0 or not np.all(np.isfinite(x0)):
        raise InputError("x0", x0, "a non-empty 1-D point of finite reals")
    if np.any(~np.isfinite(r)) or np.any(r <= 0):
        raise InputError("radius", radius, "positive finite radii")
    if isinstance(iterations, bool) or not isinstance(iterations, Integral) \
            or not 1 <= iterations <= MAX_ITERATIONS:
        raise InputError("iterations", iterations, f"an integer in [1, {MAX_ITERATIONS}]")
    if isinstance(inflation, bool) or not isinstance(inflation, Real) \
            or not 0 <= inflation < math.inf:
        raise InputError("inflation", inflation, "a finite number >= 0")
    lo, hi = x0 - r, x0 + r
    result = None
    for _ in range(int(iterations)):
        result = krawczyk(f, jacobian, list(zip(lo, hi)), params)
        if result.unique or not result.image:
            return result
        img = np.array(result.image)
        mid, rad = (img[:, 0] + img[:, 1]) / 2, (img[:, 1] - img[:, 0]) / 2
        rad = rad * (1 + inflation) + 1e-3 * r
        lo, hi = mid - rad, mid + rad
    return result


# ----------------------------------------------------------------------------------------------
# Branch-and-bound exclusion of zeros


@result
class ExclusionResult:
    """Outcome of :func:`exclude_zeros`.

    Attributes
    ----------
    excluded : int
        Boxes excluded (some component of F provably nonzero on them).
    covered : int
        Boxes accepted by ``covered`` (another certificate accounts for them).
    remaining : list of list of (float, float)
        The boxes that could be neither (float bounds); empty for a certificate.
    evaluations : int
        Interval evaluations of F.
    """

    excluded: int
    covered: int
    remaining: list
    evaluations: int

    @property
    def complete(self) -> bool:
        """No box remains: every zero of F in the box lies in a covered box."""
        return not self.remaining


def _excludes_zero(values) -> bool:
    return any(not v.contains(0) for v in values)


def exclude_zeros(f: Callable, box, covered: Callable | None = None, scale=None,
                  min_width: float = 1e-6, max_boxes: int = 200_000) -> ExclusionResult:
    """Prove that ``F`` has no zero in ``box`` outside the regions accepted by ``covered``.

    Branch and bound: a box is *excluded* when the interval evaluation of some component
    :math:`F_i(X)` does not contain 0 (then :math:`F_i \\ne 0` on the whole box, so no zero
    there); it is *covered* when ``covered(X)`` returns True (the caller's own certificate, e.g. a
    Krawczyk tube, accounts for the zeros in it); otherwise it is bisected along its widest
    coordinate (widths divided by ``scale``) until it is narrower than ``min_width`` in every
    coordinate, where it is returned in ``remaining``. ``remaining == []`` is the certificate:
    every zero of F in ``box`` lies in a covered box.

    Parameters
    ----------
    f : callable ``f(X) -> list[arb]`` enclosing the components of F over the box ``X``
    box : intervals ``(lo, hi)``
    covered : optional callable ``covered(bounds) -> bool`` on float bounds ``[(lo, hi), ...]``;
        it must only return True when it is sound to ignore the zeros in that box
    scale : optional per-coordinate scale for choosing the bisection coordinate
    min_width, max_boxes : stopping rules (the box count includes bisected boxes)
    """
    require_flint()
    try:
        start = [(float(a), float(b)) for a, b in box]
    except (TypeError, ValueError):
        raise InputError("box", box, "finite intervals (lo, hi) with lo <= hi") from None
    if not start or any(not (math.isfinite(a) and math.isfinite(b) and a <= b) for a, b in start):
        raise InputError("box", box, "a non-empty list of finite intervals (lo, hi), lo <= hi")
    try:
        s = np.ones(len(start)) if scale is None else np.asarray(scale, dtype=float)
    except (TypeError, ValueError):
        s = None
    if s is None or s.shape != (len(start),) or not np.all(np.isfinite(s)) or np.any(s <= 0):
        raise InputError("scale", scale, f"{len(start)} positive finite numbers")
    if isinstance(min_width, bool) or not isinstance(min_width, Real) \
            or not 0 < min_width < math.inf:
        raise InputError("min_width", min_width, "a finite number > 0")
    if isinstance(max_boxes, bool) or not isinstance(max_boxes, Integral) \
            or not 1 <= max_boxes <= MAX_BOXES:
        raise InputError("max_boxes", max_boxes, f"an integer in [1, {MAX_BOXES}]")
    stack, remaining = [start], []
    excluded = accepted = evaluations = 0
    while stack:
        current = stack.pop()
        if covered is not None and covered(current):
            accepted += 1
            continue
        evaluations += 1
        if evaluations > max_boxes:
            remaining.append(current)
            remaining.extend(stack)
            break
        if _excludes_zero(f(as_box(current))):
            excluded += 1
            continue
        widths = np.array([b - a for a, b in current])
        if np.all(widths <= min_width):
            remaining.append(current)
            continue
        k = int(np.argmax(widths / s))
        a, b = current[k]
        m = 0.5 * (a + b)
        left, right = list(current), list(current)
        left[k], right[k] = (a, m), (m, b)
        stack.extend((right, left))
    return ExclusionResult(excluded, accepted, remaining, evaluations)


# ----------------------------------------------------------------------------------------------
# Certified signs of the eigenvalues of a symmetric interval matrix


def _exactly_zero(ball) -> bool:
    return ball.is_exact() and ball.is_zero()


@result
class EigenSigns:
    """Certified eigenvalue signs of every symmetric matrix in a ball matrix (:func:`eigen_signs`).

    Attributes
    ----------
    positive, negative, exact_zero, undetermined : int
        Counts summing to n: certified positive, certified negative, exactly zero (an exactly
        zero row and column) and not decided.
    intervals : list of (float, float)
        Float bounds of the Gershgorin intervals of the congruent matrix.
    method : str
        ``"gershgorin"`` or ``"ldl"``: which step decided.
    definite : str or None
        ``"positive"`` or ``"negative"`` when all n eigenvalues have that sign, else None.
    """

    positive: int
    negative: int
    exact_zero: int
    undetermined: int
    intervals: list
    method: str
    definite: str | None


def eigen_signs(matrix) -> EigenSigns:
    """Certified counts of positive, negative and undetermined eigenvalues, for every symmetric
    matrix whose entries lie in the given balls.

    Method (why it is correct):

    1. Rows/columns that are *exactly* zero (exact ``arb`` zeros) give the eigenvalue 0 exactly
       (the unit vector is an eigenvector) and are removed: ``exact_zero``.
    2. Congruence. ``Q`` = float eigenvectors of the midpoint matrix. If
       :math:`\\|I - Q^\\top Q\\|_\\infty < 1` (checked in ``arb``), Q is nonsingular, and by
       Sylvester's law of inertia every A in the set has the inertia of :math:`B = Q^\\top A Q`,
       which is enclosed entrywise by the ``arb_mat`` product (Q's entries are exact).
    3. Gershgorin. Each real eigenvalue of B lies in the union of the intervals
       :math:`[B_{ii} - R_i, B_{ii} + R_i]`, :math:`R_i = \\sum_{j\\ne i} |B_{ij}|` (upper bounds
       from the balls), and a connected component made of k intervals holds exactly k
       eigenvalues (Gershgorin's theorem, by continuity). Components in :math:`(0, \\infty)`
       count as positive, in :math:`(-\\infty, 0)` as negative, the component containing 0 as
       ``undetermined``.

    Since B is nearly diagonal, the intervals are as narrow as the enclosure allows, but a float
    Q leaves off-diagonal terms of order :math:`10^{-16}\\|A\\|`, too much when the smallest
    eigenvalue is smaller. Then:

    4. LDL^T (Sylvester). With :math:`\\Delta_k` the leading principal minors (``arb_mat.det``, at
       the working precision), if every :math:`\\Delta_k` excludes 0 then
       :math:`A = LDL^\\top` with pivots :math:`d_k = \\Delta_k/\\Delta_{k-1}`, and by Sylvester's
       law the inertia is that of the pivots (for every A in the set, since each enclosure
       excludes 0).

    Parameters
    ----------
    matrix : ``arb_mat`` or nested list of balls/numbers, square (n x n)
        Must contain a symmetric matrix: the balls ``A[i, j]`` and ``A[j, i]`` overlap (both are
        replaced by their intersection); a matrix that is not is refused with ``InputError``,
        since its eigenvalues need not be real.

    Returns
    -------
    EigenSigns
    """
    flint = require_flint()
    A = _as_mat(matrix, 0)
    n = A.nrows()
    if n == 0 or A.ncols() != n:
        raise InputError("matrix", (A.nrows(), A.ncols()), "a non-empty square matrix")
    A = _symmetric_enclosure(A)
    zero_rows = [i for i in range(n) if all(_exactly_zero(A[i, j]) and _exactly_zero(A[j, i])
                                            for j in range(n))]
    keep = [i for i in range(n) if i not in zero_rows]
    out = {"positive": 0, "negative": 0, "exact_zero": len(zero_rows), "undetermined": 0,
           "intervals": [], "method": "gershgorin"}
    if keep:
        S = flint.arb_mat([[A[i, j] for j in keep] for i in keep])
        out.update(_congruence_gershgorin(S))
        if out["undetermined"]:
            pivots = _ldl_signs(S)
            if pivots is not None:
                out.update(positive=pivots[0], negative=pivots[1], undetermined=0,
                           method="ldl")
    total = out["positive"] + out["negative"] + out["undetermined"]
    out["definite"] = ("positive" if out["positive"] == n else
                       "negative" if out["negative"] == n else None)
    assert total + out["exact_zero"] == n
    return EigenSigns(**out)


def _symmetric_enclosure(A):
    """``A`` with ``A[i, j]`` and ``A[j, i]`` both replaced by their intersection; InputError
    when some pair does not overlap (no symmetric matrix lies in the balls)."""
    flint = require_flint()
    n = A.nrows()
    S = flint.arb_mat(n, n)
    for i in range(n):
        for j in range(n):
            if not A[i, j].overlaps(A[j, i]):
                raise InputError("matrix", f"entries ({i}, {j}) = {A[i, j]} and ({j}, {i}) = "
                                 f"{A[j, i]}", "a symmetric matrix (A[i, j] = A[j, i])")
            S[i, j] = A[i, j].intersection(A[j, i])
    return S


def _congruence_gershgorin(S) -> dict:
    """Steps 2 and 3 of :func:`eigen_signs` on the symmetric ball matrix ``S`` (m x m): the
    congruence :math:`B = Q^\\top S Q` with ``Q`` the float eigenvectors of the midpoint, then
    Gershgorin's components of B. Returns the counts of :func:`_count_components`, or
    ``{"undetermined": m}`` when the midpoint is not finite or ``Q`` is not provably
    nonsingular (:math:`\\|I - Q^\\top Q\\|_\\infty \\ge 1`)."""
    flint = require_flint()
    m = S.nrows()
    mid = np.array([[_mid(S[i, j]) for j in range(m)] for i in range(m)])
    if not np.all(np.isfinite(mid)):
        return {"undetermined": m}
    _, vecs = np.linalg.eigh((mid + mid.T) / 2)
    Q = flint.arb_mat([[flint.arb(float(v)) for v in row] for row in vecs])
    Qt = Q.transpose()
    E = flint.arb_mat([[1 if i == j else 0 for j in range(m)] for i in range(m)]) - Qt * Q
    norm = max(sum((E[i, j].abs_upper() for j in range(m)), flint.arb(0)) for i in range(m))
    if not norm < 1:
        return {"undetermined": m}
    B = Qt * S * Q
    ivs = []
    for i in range(m):
        R = sum((B[i, j].abs_upper() for j in range(m) if j != i), flint.arb(0))
        ivs.append(((B[i, i] - R).lower(), (B[i, i] + R).upper()))
    return _count_components(ivs)


def _ldl_signs(S):
    """``(positive, negative)`` pivot counts of :math:`LDL^\\top` from the leading principal
    minors, or None when some minor's enclosure contains 0."""
    flint = require_flint()
    m = S.nrows()
    previous, pos, neg = flint.arb(1), 0, 0
    for k in range(1, m + 1):
        minor = flint.arb_mat([[S[i, j] for j in range(k)] for i in range(k)]).det()
        pivot = minor / previous
        if pivot > 0:
            pos += 1
        elif pivot < 0:
            neg += 1
        else:
            return None
        previous = minor
    return pos, neg


def _count_components(ivs) -> dict:
    """Group Gershgorin intervals (pairs of exact ``arb`` endpoints) into connected components
    and count eigenvalues by the sign of each component."""
    order = sorted(range(len(ivs)), key=lambda i: float(ivs[i][0].mid()))
    comps, cur = [], None
    for i in order:
        lo, hi = ivs[i]
        if cur is not None and not (lo > cur[1]):  # touching or overlapping: same component
            cur = (cur[0], hi.max(cur[1]), cur[2] + 1)
        else:
            if cur is not None:
                comps.append(cur)
            cur = (lo, hi, 1)
    comps.append(cur)
    pos = sum(c[2] for c in comps if c[0] > 0)
    neg = sum(c[2] for c in comps if c[1] < 0)
    und = sum(c[2] for c in comps) - pos - neg
    return {"positive": pos, "negative": neg, "undetermined": und,
            "intervals": [bounds(lo.union(hi)) for lo, hi in ivs]}

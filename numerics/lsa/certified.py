"""Certified local minima of the d = 1 one-layer LSA loss (Ding et al. 2025, Thm 3.3), in arb balls.

Interval arithmetic with python-flint ``arb`` (:mod:`numerics.shared.certify`); the enlarged space
is that of Ding et al. 2025, Sec. 3.

In the original parameters :math:`b \\in \\mathbb R^2`, :math:`A = (a_1, a_2)^\\top`, the loss is
:math:`f(b, A) = \\tilde f(\\phi(b, A))`, :math:`\\tilde f(X) = X^\\top H X - 2h^\\top X + E[y]`,
with :math:`\\phi(b, A) = (b_1 a_1,\\ b_1 a_2 + b_2 a_1,\\ b_2 a_2)`. The scaling symmetry
:math:`(\\gamma b, A/\\gamma)` makes every critical point part of a curve, so we fix the gauge
:math:`b = (1, \\beta)` and work in :math:`x = (\\beta, a_1, a_2)`:

.. math::
    X(x) = (a_1,\\ a_2 + \\beta a_1,\\ \\beta a_2),\\qquad
    J = \\partial X/\\partial x = \\begin{pmatrix}0 & 1 & 0\\\\ a_1 & \\beta & 1\\\\ a_2 & 0 & \\beta
    \\end{pmatrix},

.. math::
    \\nabla f = J^\\top r,\\quad r = 2(HX - h),\\qquad
    \\nabla^2 f = 2J^\\top H J + \\begin{pmatrix}0 & r_2 & r_3\\\\ r_2 & 0 & 0\\\\ r_3 & 0 & 0\\end{pmatrix}.

At Theorem 3.3's choice :math:`\\beta` a root of :math:`X_1^*\\beta^2 - X_2^*\\beta + X_3^* = 0`,
:math:`a = (X_1^*, X_2^* - \\beta X_1^*)` (real iff :math:`X_2^{*2} \\ge 4X_1^*X_3^*`) we have
:math:`X = X^*`, :math:`r = 0` and :math:`\\nabla^2 f = 2J^\\top HJ`, with
:math:`\\det J = a_2 - \\beta a_1 = \\mp\\sqrt{X_2^{*2} - 4X_1^*X_3^*}`: positive definite when the
discriminant is strictly positive. :func:`certify_point` proves, on a small box around a point,
with Krawczyk's test on :math:`\\nabla f` (Jacobian = the Hessian enclosure over the box) that the
box holds exactly one stationary point, and with :func:`numerics.shared.certify.eigen_signs` that the
Hessian is positive definite on the whole box: a strict local minimum in the gauge. At Theorem
3.3's point it is global, since :math:`f \\ge \\min \\tilde f = \\tilde f^*` everywhere and
:math:`f = \\tilde f^*` there (checked as an enclosure). H and h are the exact rationals of
:func:`theory.lsa.theorem33` converted to balls. Without python-flint,
:func:`uncertified_theorem33_check` is the floating-point check of the same statement.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import sympy as sp

from numerics.shared.certify import (bounds, eigen_signs, krawczyk, require_flint, to_arb,
                                     working_precision)
from numerics.lsa.domains import PREC, RADIUS, SEED
from theory import lsa
from theory.errors import InputError, NumericalFailure
from theory.results import result

__all__ = ["Problem", "GradientHessian", "PointCertificate", "RootCertificate",
           "Theorem33Certificate", "BestPointCertificate", "gradient", "hessian", "loss",
           "theorem_point", "float_gradient_hessian", "certify_point", "certify_theorem33",
           "certify_best_unrealizable", "uncertified_theorem33_check"]


class Problem:
    """Exact d = 1 data of Theorem 3.3 (Ding et al. 2025) at rational ``p`` and integer ``n``.

    Attributes
    ----------
    p : sympy Rational; n : int
        The task: :math:`P(s_1 = 1)` and the number of context chains.
    exact : theory.lsa.Theorem33Solution
        Exact H (3x3), h (3x1), E[y], X* (3x1), f~*.
    H, h, Ey, X, loss : arb balls
        The same as balls (H a 3 x 3 nested list, h and X lists of 3).
    disc_exact : sympy Rational
        :math:`X_2^{*2} - 4X_1^*X_3^*`.
    Hf, hf : ndarray, shapes (3, 3), (3,)
        H and h in float64.
    """

    def __init__(self, p, n: int):
        lsa.N_CONTEXT.check("n", n)
        # strict: a string goes through the rational parser (never evaluated), a float is read
        # as its shortest decimal (0.1 -> 1/10), sympy objects are kept as they are
        pv = lsa.exact_number("p", p)
        if not (pv.is_Rational and 0 < pv < 1):
            raise InputError("p", p, "a rational probability strictly between 0 and 1")
        sol = lsa.theorem33(pv, n)
        H, h, Ey, X, loss = sol.H, sol.h, sol.Ey, sol.X, sol.loss
        self.p, self.n = pv, n
        self.exact = sol
        self.H = [[to_arb(H[i, j]) for j in range(3)] for i in range(3)]
        self.h = [to_arb(v) for v in h]
        self.Ey = to_arb(Ey)
        self.X = [to_arb(v) for v in X]
        self.loss = to_arb(loss)
        self.disc_exact = sp.Rational(X[1] ** 2 - 4 * X[0] * X[2])
        self.Hf = np.array(H.tolist(), dtype=float)
        self.hf = np.array(h.tolist(), dtype=float).ravel()

    @property
    def realizable(self) -> bool:
        """:math:`X_2^{*2} \\ge 4X_1^*X_3^*` (exact)."""
        return bool(self.disc_exact >= 0)


def _enlarged(x):
    beta, a1, a2 = x
    return [a1, a2 + beta * a1, beta * a2]


def _residual(prob: Problem, X):
    return [2 * (sum((prob.H[i][j] * X[j] for j in range(3)), to_arb(0)) - prob.h[i])
            for i in range(3)]


def gradient(prob: Problem, x) -> list:
    """Enclosure of :math:`\\nabla f = J^\\top r` at balls ``x = (beta, a1, a2)``."""
    beta, a1, a2 = x
    r = _residual(prob, _enlarged(x))
    return [a1 * r[1] + a2 * r[2], r[0] + beta * r[1], r[1] + beta * r[2]]


def hessian(prob: Problem, x):
    """Enclosure (``arb_mat``) of :math:`\\nabla^2 f = 2J^\\top HJ` + (the r-terms) at balls x."""
    flint = require_flint()
    beta, a1, a2 = x
    zero, one = flint.arb(0), flint.arb(1)
    J = flint.arb_mat([[zero, one, zero], [a1, beta, one], [a2, zero, beta]])
    Hm = flint.arb_mat(prob.H)
    r = _residual(prob, _enlarged(x))
    R = flint.arb_mat([[zero, r[1], r[2]], [r[1], zero, zero], [r[2], zero, zero]])
    return 2 * (J.transpose() * Hm * J) + R


def loss(prob: Problem, x):
    """Enclosure of :math:`f = X^\\top HX - 2h^\\top X + E[y]` at balls x."""
    X = _enlarged(x)
    quad = sum((prob.H[i][j] * X[i] * X[j] for i in range(3) for j in range(3)), to_arb(0))
    return quad - 2 * sum((prob.h[i] * X[i] for i in range(3)), to_arb(0)) + prob.Ey


def theorem_point(prob: Problem, root: int = 0) -> list:
    """Balls enclosing Theorem 3.3's gauge point: :math:`\\beta = (X_2 \\pm \\sqrt{D})/(2X_1)`,
    :math:`a = (X_1, X_2 - \\beta X_1)`, D the (exact, non-negative) discriminant."""
    if not prob.realizable:
        raise InputError("p, n", (str(prob.p), prob.n), "a realisable X* (X2^2 >= 4 X1 X3)")
    X1, X2, _ = prob.X
    sq = to_arb(prob.disc_exact).sqrt()
    beta = (X2 + (sq if root == 0 else -sq)) / (2 * X1)
    return [beta, X1, X2 - beta * X1]


@result
class GradientHessian:
    """Floating-point gradient and Hessian of the one-layer loss in the gauge b = (1, beta)
    (Ding et al. 2025, Thm 3.3, d = 1; formulas of :mod:`numerics.lsa.certified`).

    Attributes
    ----------
    gradient : ndarray, shape (3,)
        :math:`\\nabla f = J^\\top r` with respect to ``(beta, a1, a2)``.
    hessian : ndarray, shape (3, 3)
        :math:`\\nabla^2 f = 2J^\\top HJ +` (the r-terms).
    """

    gradient: np.ndarray
    hessian: np.ndarray


def float_gradient_hessian(H, h, x) -> GradientHessian:
    """Floating-point :math:`\\nabla f` and :math:`\\nabla^2 f` at ``x = (beta, a1, a2)`` (the
    formulas of the module docstring; H 3x3, h length 3). Used to choose boxes and by the
    uncertified path; never part of a proof."""
    beta, a1, a2 = (float(v) for v in x)
    X = np.array([a1, a2 + beta * a1, beta * a2])
    J = np.array([[0, 1, 0], [a1, beta, 1], [a2, 0, beta]], dtype=float)
    r = 2 * (np.asarray(H, float) @ X - np.asarray(h, float))
    hess = 2 * J.T @ np.asarray(H, float) @ J + np.array([[0, r[1], r[2]], [r[1], 0, 0],
                                                          [r[2], 0, 0]])
    return GradientHessian(J.T @ r, hess)


def _newton(prob: Problem, x0, steps: int = 30) -> np.ndarray:
    """Float Newton polish of ``grad f = 0`` (only chooses the box centre)."""
    x = np.asarray(x0, dtype=float)
    for _ in range(steps):
        gh = float_gradient_hessian(prob.Hf, prob.hf, x)
        try:
            step = np.linalg.solve(gh.hessian, gh.gradient)
        except np.linalg.LinAlgError:
            break
        x = x - step
        if np.linalg.norm(step) <= 1e-15 * (1 + np.linalg.norm(x)):
            break
    return x


@result
class PointCertificate:
    """A certified strict local minimum of the one-layer loss in the gauge b = (1, beta) (Ding et
    al. 2025, Thm 3.3, d = 1; Krawczyk's test and certified Hessian signs).

    Attributes
    ----------
    unique : bool
        Krawczyk: the box holds exactly one stationary point of f.
    reason : str
        Krawczyk's reason when ``unique`` is False (empty otherwise).
    hessian_pd : bool
        The Hessian is certified positive definite on the whole box.
    box : list of [float, float], length 3
        Float bounds of the Krawczyk box in ``(beta, a1, a2)``.
    hessian_eigen_intervals : list
        Intervals enclosing the Hessian's eigenvalues (:func:`numerics.shared.certify.eigen_signs`).
    loss : list of float, length 2
        Bounds of the enclosure of f over the Krawczyk image (which holds the stationary point).
    certified : bool
        ``unique`` and ``hessian_pd``.
    prec_bits : int
        Working precision in bits.
    box_balls, image_balls : list of arb, length 3
        The box and the Krawczyk image as python-flint balls (not JSON values).
    loss_ball : arb
        The loss enclosure as a ball (not a JSON value).
    """

    unique: bool
    reason: str
    hessian_pd: bool
    box: list
    hessian_eigen_intervals: list
    loss: list
    certified: bool
    prec_bits: int
    box_balls: list
    image_balls: list
    loss_ball: Any


@result
class RootCertificate(PointCertificate):
    """The certificate of one of Theorem 3.3's two gauge points (Ding et al. 2025, Thm 3.3): the
    fields of :class:`PointCertificate` and

    Attributes
    ----------
    theorem_point_inside : bool
        The exact point (beta a root of :math:`X_1\\beta^2 - X_2\\beta + X_3 = 0`) lies in the box.
    loss_equals_fstar : bool
        The enclosure of f at the point contains :math:`\\tilde f^*`.
    theorem_point : list of [float, float], length 3
        Float bounds of the balls enclosing the exact point ``(beta, a1, a2)``.
    """

    theorem_point_inside: bool
    loss_equals_fstar: bool
    theorem_point: list


@result
class Theorem33Certificate:
    """Theorem 3.3's parameters (Ding et al. 2025, d = 1) certified as strict local, hence global,
    minima at one (p, n).

    Attributes
    ----------
    p : str
        The rational p, e.g. ``"1/2"``.
    n : int
        Number of context chains.
    realizable : bool
        :math:`X_2^{*2} \\ge 4X_1^*X_3^*` (exact).
    discriminant : str
        :math:`X_2^{*2} - 4X_1^*X_3^*` as an exact rational.
    fstar : str
        :math:`\\tilde f^*` as an exact rational.
    roots : list of RootCertificate
        One per root beta (empty when not realisable or the discriminant is 0).
    certified : bool
        Every root certified, its exact point inside its box and its loss equal to f~*.
    seconds : float
        Wall time.
    reason : str or None
        Why nothing was certified (not realisable, or discriminant 0); None otherwise.
    """

    p: str
    n: int
    realizable: bool
    discriminant: str
    fstar: str
    roots: list
    certified: bool
    seconds: float
    reason: str | None = None


@result
class BestPointCertificate(PointCertificate):
    """The best one-layer point where X* is not realisable (Ding et al. 2025, Thm 3.3 fails),
    certified as a strict local minimum above f~*: the fields of :class:`PointCertificate` (with
    ``certified`` meaning also ``above_fstar``) and

    Attributes
    ----------
    p : str
        The rational p.
    n : int
        Number of context chains.
    realizable : bool
        Whether X* is realisable (False where this certificate is meant to be used).
    fstar : str
        :math:`\\tilde f^*` as an exact rational.
    best_loss_float : float
        The loss of the point found by the float global search.
    gap_lower_bound : float
        Certified lower bound of :math:`f - \\tilde f^*` over the Krawczyk image.
    above_fstar : bool
        ``gap_lower_bound > 0`` (certified).
    seconds : float
        Wall time.
    """

    p: str
    n: int
    realizable: bool
    fstar: str
    best_loss_float: float
    gap_lower_bound: float
    above_fstar: bool
    seconds: float


def _point_fields(cert: PointCertificate) -> dict:
    return {name: getattr(cert, name) for name in PointCertificate.__dataclass_fields__}


def certify_point(prob: Problem, x0, radius: float = 1e-7) -> PointCertificate:
    """Certify that the box ``x0 +- radius (1 + |x0|)`` holds exactly one stationary point of f in
    the gauge ``b = (1, beta)`` and that the Hessian is positive definite on all of it.

    ``x0`` as floats is first polished by Newton's method in floats (that only chooses the box);
    ``x0`` as balls (e.g. Theorem 3.3's point at high precision) is used as is (midpoints).
    Returns a :class:`PointCertificate`.
    """
    flint = require_flint()
    if not isinstance(prob, Problem):
        raise InputError("prob", type(prob).__name__, "a numerics.lsa.certified.Problem")
    RADIUS.check("radius", radius)
    if isinstance(x0, (str, bytes)) or not hasattr(x0, "__len__") or len(x0) != 3:
        raise InputError("x0", x0 if isinstance(x0, str) else type(x0).__name__,
                         "three numbers (beta, a1, a2)")
    if all(isinstance(v, flint.arb) for v in x0):
        centre = [v.mid() for v in x0]
    else:
        from numerics.shared.arrays import float_array

        polished = _newton(prob, float_array("x0", x0, shape=(3,)))
        if not np.all(np.isfinite(polished)):
            raise NumericalFailure("lsa_certified: Newton polish produced a non-finite point")
        centre = [flint.arb(float(v)) for v in polished]
    X = [c + flint.arb(0, radius * (1 + abs(float(c.mid())))) for c in centre]
    res = krawczyk(lambda x, _: gradient(prob, x), lambda B, _: hessian(prob, B), X, center=centre)
    signs = eigen_signs(hessian(prob, X))
    image = res.image_balls if res.unique else X
    value = loss(prob, image)
    pd = signs.definite == "positive"
    return PointCertificate(
        unique=bool(res.unique), reason=res.reason, hessian_pd=pd, box=[list(v) for v in res.box],
        hessian_eigen_intervals=signs.intervals, loss=list(bounds(value)),
        certified=bool(res.unique) and pd, prec_bits=flint.ctx.prec,
        box_balls=X, image_balls=image, loss_ball=value)


def certify_theorem33(p, n: int, radius: float = 1e-30, prec: int = 256) -> Theorem33Certificate:
    """Theorem 3.3's parameters at ``(p, n)`` (rational p) as certified strict local minima in the
    gauge b1 = 1, for both roots beta, and global (the loss enclosure contains f~*).

    Returns a :class:`Theorem33Certificate`; not realisable: ``certified`` False, no roots.

    Runs at ``prec`` bits: near the smallest realisable n the two roots nearly coincide and the
    Hessian's smallest eigenvalue is ~1e-8 of its largest, which 53 bits cannot resolve on a box
    that must also contain the point; the box radius is ``radius (1 + |x|)``.
    ``prec`` is at most :data:`numerics.lsa.domains.PREC` (4096 bits).
    """
    RADIUS.check("radius", radius)
    PREC.check("prec", prec)
    with working_precision(prec):
        return _certify_theorem33(p, n, radius)


def _certify_theorem33(p, n: int, radius: float) -> Theorem33Certificate:
    start = time.perf_counter()
    prob = Problem(p, n)
    head = dict(p=str(prob.p), n=n, realizable=prob.realizable,
                discriminant=str(prob.disc_exact), fstar=str(prob.exact.loss))
    if not prob.realizable or prob.disc_exact == 0:
        return Theorem33Certificate(
            **head, roots=[], certified=False, seconds=time.perf_counter() - start,
            reason="not realisable" if not prob.realizable else
            "discriminant 0: the two roots coincide and the Hessian is singular")
    ok, roots = True, []
    for root in (0, 1):
        point = theorem_point(prob, root)
        res = certify_point(prob, point, radius)
        inside = all(bx.contains(v) for bx, v in zip(res.box_balls, point))
        equals = bool(loss(prob, point).contains(prob.loss))
        roots.append(RootCertificate(**_point_fields(res), theorem_point_inside=inside,
                                     loss_equals_fstar=equals,
                                     theorem_point=[list(bounds(v)) for v in point]))
        ok = ok and res.certified and inside and equals
    return Theorem33Certificate(**head, roots=roots, certified=ok,
                                seconds=time.perf_counter() - start)


def certify_best_unrealizable(p, n: int, seed: int = 0, radius: float = 1e-7,
                              prec: int = 128) -> BestPointCertificate:
    """Where X* is not realisable: the best one-layer point found numerically
    (:func:`numerics.lsa.realizability.best_lsa`, float) moved to the gauge b1 = 1, certified as a strict
    local minimum (unique stationary point in its box, Hessian positive definite) whose loss is
    certified to exceed f~* (lower end of the loss enclosure > f~*, exact rational).

    Returns a :class:`BestPointCertificate`.
    """
    from numerics.lsa import optimum
    from numerics.lsa import realizability

    RADIUS.check("radius", radius)
    PREC.check("prec", prec)
    if not isinstance(seed, np.random.Generator):
        SEED.check("seed", seed)
    start = time.perf_counter()
    with working_precision(prec):
        prob = Problem(p, n)
        mom = optimum.Moments(prob.Hf, prob.hf, float(prob.exact.Ey))
        best = realizability.best_lsa(mom, 1, seed=seed)
        b, a = best.b, best.A[:, 0]
        if abs(b[0]) < 1e-8:
            raise NumericalFailure("lsa_certified: the best point has b1 = 0, outside the gauge b1 = 1")
        x0 = [b[1] / b[0], a[0] * b[0], a[1] * b[0]]
        res = certify_point(prob, x0, radius)
        gap = res.loss_ball - prob.loss
        above = bool(gap > 0)
    fields = _point_fields(res)
    fields["certified"] = res.certified and above
    return BestPointCertificate(
        **fields, p=str(prob.p), n=n, realizable=prob.realizable, fstar=str(prob.exact.loss),
        best_loss_float=best.loss, gap_lower_bound=bounds(gap)[0], above_fstar=above,
        seconds=time.perf_counter() - start)


def uncertified_theorem33_check(p, n: int) -> bool:
    """The floating-point (uncertified) check of Theorem 3.3's parameters (Ding et al. 2025, d = 1)
    at rational ``p`` and integer ``n``: at both gauge points ``b = (1, beta)`` the float gradient
    of the one-layer loss is below 1e-9 and the float Hessian's eigenvalues are positive.

    The path used when python-flint is not installed; no proof.
    """
    sol = Problem(p, n).exact
    Hf, hf = np.array(sol.H.tolist(), float), np.array(sol.h.tolist(), float).ravel()
    ok = True
    for root in (0, 1):
        params = lsa.theorem33_parameters(list(sol.X), root)
        x = [float(sp.N(v, 30)) for v in (params.b[1], params.A[0, 0], params.A[1, 0])]
        gh = float_gradient_hessian(Hf, hf, x)
        ok &= bool(np.linalg.norm(gh.gradient) < 1e-9 and np.all(np.linalg.eigvalsh(gh.hessian) > 0))
    return ok

"""Certified critical set and Hessian signs of the canonical Markov loss in ball arithmetic.

Makkuva et al., P2 = arXiv 2406.03072, Sec. 3, proved with python-flint ``arb``
(:mod:`numerics.shared.certify`).

The loss, with :math:`f_0 = b - e^2/2`, :math:`f_1 = f_0 + u`, :math:`u = e^2(1 + 2w|w|)`:

.. math::
    L = \\pi_0 [p\\,s(-f_0) + (1-p)\\,s(f_0)] + \\pi_1 [(1-q)\\,s(-f_1) + q\\,s(f_1)],
    \\quad s(x) = \\log(1 + e^x),

.. math::
    \\nabla L = \\big(e(-g_0 + (1 + 4w|w|) g_1),\\; 4e^2|w|\\,g_1,\\; g_0 + g_1\\big),\\quad
    g_0 = \\pi_0(\\sigma(f_0) - p),\\; g_1 = \\pi_1(\\sigma(f_1) - (1-q)).

The proof of "no other critical points" in the box :math:`|e| \\le E`, :math:`|w| \\le W`,
:math:`|b| \\le B` (:func:`certify_critical_set`) is by cases:

1. **Reduction (exact algebra).** For :math:`e \\ne 0`, :math:`\\nabla L = 0 \\iff g_0 = g_1 = 0`:
   :math:`\\partial_b L = 0` gives :math:`g_0 = -g_1`; then :math:`\\partial_e L / e = 2g_1(1 + 2w|w|)`;
   if :math:`g_1 \\ne 0` this forces :math:`w|w| = -1/2`, so :math:`w \\ne 0` and
   :math:`\\partial_w L = 4e^2|w|g_1 \\ne 0`. (This is the desingularised system: the factors
   :math:`e` and :math:`4e^2|w|` divided out.) At :math:`e = 0`,
   :math:`\\nabla L = (0, 0, \\sigma(b) - \\pi_1)`, so the critical points are exactly the unigram
   line :math:`b = \\log(p/q)` (strictly increasing in b); :func:`certify_critical_set` checks in
   ``arb`` that it lies inside the b-range. L depends on e only through :math:`e^2`, so
   :math:`e \\mapsto -e` maps critical points to critical points: it suffices to treat
   :math:`e \\ge 0`.
2. **Tubes (parametric Krawczyk).** Slabs :math:`W_k` of w on one branch (w >= 0 or w <= 0:
   :math:`w|w|` is :math:`C^1`, not :math:`C^2`, so the slabs never straddle 0). For each slab where
   the global curve :math:`e^2(1+2w|w|) = C` has :math:`e \\le E` (plus a margin), the Krawczyk
   test on :math:`F(e, b; w) = (g_0, g_1)` with w the interval parameter, Jacobian
   :math:`\\begin{pmatrix} -e s_0 & s_0\\\\ e(1+4w|w|) s_1 & s_1 \\end{pmatrix}`,
   :math:`s_i = \\pi_i\\sigma'(f_i)`, determinant :math:`-2e(1+2w|w|)s_0 s_1 \\ne 0` away from
   :math:`e = 0` and :math:`w = -1/\\sqrt2`, proves: for every w in :math:`W_k` exactly one zero
   :math:`(e, b)` lies in the tube box :math:`X_k` (with :math:`e > 0`): the curve point, which is a
   global minimum (:math:`g_0 = g_1 = 0` makes both KL terms vanish: loss H(P)).
3. **Exclusion (branch and bound).** Every box of :math:`[0, E] \\times [-W, W] \\times [-B, B]`
   not inside a tube is bisected until :math:`g_0`, :math:`g_1` or :math:`\\partial_b L` provably
   does not vanish on it. ``uncovered`` lists the boxes where neither worked (empty = proof).

Hessian signs (:func:`certify_unigram_hessian`, :func:`certify_curve_hessian`): on the unigram line
the Hessian in ``(e, w, b)`` is evaluated in ``arb`` at e = 0 exactly; its w row and column are exact
zeros (the line is critical for every w, so the curvature along it vanishes: a structural zero),
and the signs of the other two eigenvalues are certified on w-intervals that stop ``gap`` short
of the saddle :math:`w = -1/\\sqrt2`, where the e-curvature :math:`2g_1^o(1 + 2w|w|)` changes sign.
On the curve the Hessian is :math:`s_0\\nabla f_0\\nabla f_0^\\top + s_1\\nabla f_1\\nabla f_1^\\top`
(the :math:`g_i` terms vanish), positive semidefinite with the curve tangent as kernel (exact zero,
the curve being critical); we certify that :math:`N^\\top H N` is positive definite for the float
basis :math:`N = [\\nabla f_0, \\nabla f_1]` of the normal space at the slab midpoint, evaluated over
the whole Krawczyk image box, which proves: two positive eigenvalues and the tangent zero.

Chain parameters are read exactly: a float ``0.2`` means the decimal 1/5 (``Fraction(repr(x))``).
"""

from __future__ import annotations

import dataclasses
import math
import time
from fractions import Fraction

import numpy as np

from numerics.shared.certify import (as_box, bounds, eigen_signs, exclude_zeros, krawczyk_inflate,
                                     require_flint, to_arb)
from theory.domains import integer, real
from theory.errors import InputError, check_open_unit
from theory.results import result

#: The box of the existing uncertified claim: ``|e| <= 2.5, |w| <= 2.5, |b| <= 4``.
DEFAULT_BOX = (2.5, 2.5, 4.0)
#: A half-width of the certified box (the proof's work grows with the box).
HALF_WIDTH = real(0, 50, low_open=True, note="the exclusion work grows with the box")
#: Width of the curve tubes' w-slabs (the number of tubes is 2W/slab).
SLAB = real(1e-3, 10, note="2W/slab curve tubes")
#: Smallest box width of the bisections (deeper bisection: more boxes).
MIN_WIDTH = real(1e-12, 1, note="the bisection depth grows as log(1/min_width)")
#: Boxes of one exclusion search (about 0.1 ms each).
MAX_BOXES = integer(1, 4_000_000, note="about 0.1 ms per box")
#: Half-range of ``w`` and the saddle gap of :func:`certify_unigram_hessian`.
W_MAX = real(0, 50, low_open=True, note="the bisection work grows with the range")
GAP = real(1e-12, 0.5, note="the w-gap left around the saddle w = -1/sqrt2")


@result
class LossTerms:
    """Enclosures of the terms of the canonical loss at balls ``(e, w, b)`` on one branch of
    ``w`` (P2, Sec. 3): logits, residuals and curvatures.

    Attributes
    ----------
    f0, f1 : arb
        Logits :math:`f_0 = b - e^2/2`, :math:`f_1 = b + e^2(1/2 + 2w|w|)`.
    g0, g1 : arb
        Residuals :math:`g_0 = \\pi_0(\\sigma(f_0) - p)`, :math:`g_1 = \\pi_1(\\sigma(f_1) - (1-q))`.
    s0, s1 : arb
        Curvatures :math:`s_i = \\pi_i\\sigma'(f_i) > 0`.
    """

    f0: object
    f1: object
    g0: object
    g1: object
    s0: object
    s1: object


@result
class CurveTube:
    """A parametric Krawczyk certificate around the global-minimum curve on one w-slab
    (step 2 of the module docstring).

    Attributes
    ----------
    w : list of 2 float
        The slab ``[lo, hi]`` of ``w`` (never straddling 0).
    branch : int
        ``+1`` (``w >= 0``) or ``-1`` (``w <= 0``).
    ok : bool
        True when the test proved exactly one zero of :math:`(g_0, g_1)` with ``e > 0`` in
        ``box`` for every ``w`` of the slab.
    box : list of 2 (lo, hi) float pairs, or None
        The tube box :math:`X` in ``(e, b)`` (inward-rounded; None when no test was run).
    image : list of 2 (lo, hi) float pairs, or None
        The Krawczyk image in ``(e, b)``: it contains the zero for every ``w`` of the slab.
    image_balls : list of 2 arb, or None
        The same image as balls.
    reason : str
        Why the test failed (may be empty when ``ok``).
    """

    w: list
    branch: int
    ok: bool
    box: list | None = None
    image: list | None = None
    image_balls: list | None = None
    reason: str = ""


@result
class CurveHessianCertificate:
    """Certified inertia ``(+, +, 0)`` of the Hessian on the global-minimum curve, tube by tube
    (P2, Sec. 3; :func:`certify_curve_hessian`).

    Attributes
    ----------
    tubes_positive_definite_normal : int
        Number of tubes on which the normal block was certified positive definite.
    tubes_not_certified : list of [lo, hi]
        The w-slabs of the tubes where it was not.
    inertia_on_curve : str
        The certified inertia in words.
    """

    tubes_positive_definite_normal: int
    tubes_not_certified: list
    inertia_on_curve: str


@result
class CriticalSetCertificate:
    """The certified critical set of the canonical loss in a box (P2, Sec. 3;
    :func:`certify_critical_set`).

    Attributes
    ----------
    p, q : float
        The chain.
    box : dict
        ``{"e": [-E, E], "w": [-W, W], "b": [-B, B]}``.
    certified : bool
        True when the proof is complete: no box left, every needed tube certified, the unigram
        bias inside the box and inertia ``(+, +, 0)`` on every tube.
    tubes : int
        Number of certified curve tubes.
    tube_w_range : list of 2 float, or None
        The range of ``w`` covered by the tubes.
    failed_tubes : list of dict
        ``{"w": [lo, hi], "reason": str}`` of each tube that could not be certified.
    excluded_boxes, covered_boxes : int
        Boxes excluded by bisection, and boxes found inside a tube.
    uncovered_count : int
        Boxes where neither worked (0 for a proof).
    uncovered : list
        At most 20 of them (float boxes).
    unigram_bias : list of 2 float
        Enclosure of :math:`\\log(p/q)`.
    unigram_bias_inside : bool
        Whether it lies inside ``[-B, B]``.
    curve_hessian : CurveHessianCertificate
        Inertia on the tubes.
    seconds : float
        Wall time (s).
    prec_bits : int
        Working precision of ``arb`` (bits).
    """

    p: float
    q: float
    box: dict
    certified: bool
    tubes: int
    tube_w_range: list | None
    failed_tubes: list
    excluded_boxes: int
    covered_boxes: int
    uncovered_count: int
    uncovered: list
    unigram_bias: list
    unigram_bias_inside: bool
    curve_hessian: CurveHessianCertificate
    seconds: float
    prec_bits: int


@result
class SignatureInterval:
    """The certified Hessian signature on one w-interval of the unigram line (P2, Sec. 3).

    Attributes
    ----------
    w : list of 2 float
        The interval ``[lo, hi]``.
    positive, negative, exact_zero : int
        Numbers of certified positive, negative and exactly zero eigenvalues (all ``-1`` when
        some piece stayed undetermined).
    single_signature : bool
        Whether every piece of the interval had the same signature.
    """

    w: list
    positive: int
    negative: int
    exact_zero: int
    single_signature: bool


@result
class UnigramHessianCertificate:
    """Certified eigenvalue signs of the Hessian on the unigram line (P2, Sec. 3;
    :func:`certify_unigram_hessian`).

    Attributes
    ----------
    p, q : float
        The chain.
    intervals : list of SignatureInterval
        ``w < -1/sqrt2 - gap``, ``-1/sqrt2 + gap < w <= 0`` and ``w >= 0``, in this order.
    certified : bool
        True when every interval has one certified signature.
    pieces : int
        Number of w-boxes evaluated.
    saddle_gap : float
        The excluded neighbourhood of the saddle ``w = -1/sqrt2``.
    seconds : float
        Wall time (s).
    """

    p: float
    q: float
    intervals: list
    certified: bool
    pieces: int
    saddle_gap: float
    seconds: float


def _exact(name: str, value) -> Fraction:
    check_open_unit(name, value)
    if isinstance(value, Fraction):
        return value
    if hasattr(value, "is_Rational") and value.is_Rational:
        return Fraction(int(value.p), int(value.q))
    return Fraction(repr(float(value)))


class Chain:
    """Exact chain constants as ``arb`` balls: ``p, q, pi0, pi1``, ``logit_p`` = log(p/(1-p)),
    ``C`` = log((1-p)(1-q)/(pq)) and the unigram bias ``b0`` = log(p/q)."""

    def __init__(self, p, q):
        P, Q = _exact("p", p), _exact("q", q)
        if P + Q == 1:
            raise InputError("p, q", (p, q), "p + q != 1 (at p + q = 1 the critical set is the "
                                              "planes e = 0 and w = -1/sqrt2, not isolated curves)")
        self.fp, self.fq = P, Q
        self.p, self.q = to_arb(P), to_arb(Q)
        self.pi0, self.pi1 = to_arb(Q / (P + Q)), to_arb(P / (P + Q))
        self.logit_p = to_arb(P / (1 - P)).log()
        self.C = to_arb((1 - P) * (1 - Q) / (P * Q)).log()
        self.b0 = to_arb(P / Q).log()
        self.float_C = math.log(float((1 - P) * (1 - Q) / (P * Q)))


def _sigmoid(x):
    return 1 / (1 + (-x).exp())


def _dsigmoid(x):
    """:math:`\\sigma'(x) = 1/(4\\cosh^2(x/2))` (one occurrence of x: a tight enclosure)."""
    return 1 / (4 * (x / 2).cosh() ** 2)


def _wabs(w, branch: int):
    """:math:`w|w| = \\mathrm{branch}\\cdot w^2` and :math:`|w| = \\mathrm{branch}\\cdot w` on one branch."""
    return branch * w ** 2, branch * w


def parts(chain: Chain, e, w, b, branch: int) -> LossTerms:
    """``f0, f1, g0, g1, s0, s1`` (balls) at balls ``e, w, b`` on the branch ``sign(w) = branch``."""
    ww, _ = _wabs(w, branch)
    e2 = e ** 2
    f0 = b - e2 / 2
    f1 = b + e2 * (0.5 + 2 * ww)
    return LossTerms(f0=f0, f1=f1, g0=chain.pi0 * (_sigmoid(f0) - chain.p),
                     g1=chain.pi1 * (_sigmoid(f1) - (1 - chain.q)),
                     s0=chain.pi0 * _dsigmoid(f0), s1=chain.pi1 * _dsigmoid(f1))


def gradient(chain: Chain, e, w, b, branch: int) -> list:
    """Enclosure of :math:`\\nabla L = (e(-g_0 + (1+4w|w|)g_1), 4e^2|w|g_1, g_0 + g_1)`."""
    t = parts(chain, e, w, b, branch)
    ww, aw = _wabs(w, branch)
    return [e * (-t.g0 + (1 + 4 * ww) * t.g1), 4 * e ** 2 * aw * t.g1, t.g0 + t.g1]


def hessian(chain: Chain, e, w, b, branch: int, on_curve: bool = False):
    """Enclosure (``arb_mat`` 3x3) of the Hessian in ``(e, w, b)`` on one branch:

    .. math:: \\nabla^2 L = \\sum_i s_i \\nabla f_i \\nabla f_i^\\top + g_i \\nabla^2 f_i,\\quad
        \\nabla f_0 = (-e, 0, 1),\\ \\nabla f_1 = (e(1+4w|w|), 4e^2|w|, 1),

    :math:`\\nabla^2 f_0 = \\mathrm{diag}(-1, 0, 0)`, :math:`\\nabla^2 f_1 = ((1+4w|w|, 8e|w|, 0),
    (8e|w|, 4e^2\\mathrm{sign}(w), 0), (0, 0, 0))`. At e = 0 exactly the w row and column are
    exact zeros. ``on_curve=True`` drops the :math:`g_i` terms: valid (and exact) at the zeros of
    :math:`(g_0, g_1)` that the tube certificates isolate, where :math:`g_0 = g_1 = 0`."""
    flint = require_flint()
    t = parts(chain, e, w, b, branch)
    if on_curve:
        t = dataclasses.replace(t, g0=flint.arb(0), g1=flint.arb(0))
    ww, aw = _wabs(w, branch)
    zero = flint.arb(0)
    d0 = [-e, zero, flint.arb(1)]
    d1 = [e * (1 + 4 * ww), 4 * e ** 2 * aw, flint.arb(1)]
    h1 = [[1 + 4 * ww, 8 * e * aw, zero], [8 * e * aw, 4 * e ** 2 * branch, zero], [zero, zero, zero]]
    h0 = [[flint.arb(-1), zero, zero], [zero, zero, zero], [zero, zero, zero]]
    return flint.arb_mat([[t.s0 * d0[i] * d0[j] + t.s1 * d1[i] * d1[j]
                           + t.g0 * h0[i][j] + t.g1 * h1[i][j] for j in range(3)]
                          for i in range(3)])


# ----------------------------------------------------------------------------------------------
# Tubes around the global-minimum curve (parametric Krawczyk)


def _curve_float(C: float, w: float):
    """Float point ``(e, b)`` of the global curve at ``w`` (e > 0), or None where there is none."""
    den = 1 + 2 * w * abs(w)
    if den == 0 or C / den <= 0:
        return None
    return math.sqrt(C / den)


@result
class TubeSystem:
    """The Krawczyk system of a curve tube (step 2 of the module docstring), for
    :func:`numerics.shared.certify.krawczyk`.

    Attributes
    ----------
    f : callable ``(x, params) -> [g0, g1]``
        :math:`F(e, b; w) = (g_0, g_1)` at balls ``x = (e, b)``, ``params = (w,)``.
    jac : callable ``(X, params) -> arb_mat``
        Its Jacobian in ``(e, b)``,
        :math:`\\begin{pmatrix} -e s_0 & s_0\\\\ e(1+4w|w|) s_1 & s_1 \\end{pmatrix}`.
    """

    f: object
    jac: object


def tube_system(chain: Chain, branch: int) -> TubeSystem:
    """The Krawczyk system of a curve tube on the branch ``sign(w) = branch``: :math:`(g_0, g_1)`
    as a function of ``(e, b)`` with ``w`` the interval parameter, and its Jacobian."""

    def f(x, params):
        t = parts(chain, x[0], params[0], x[1], branch)
        return [t.g0, t.g1]

    def jac(X, params):
        flint = require_flint()
        t = parts(chain, X[0], params[0], X[1], branch)
        ww, _ = _wabs(params[0], branch)
        return flint.arb_mat([[-X[0] * t.s0, t.s0], [X[0] * (1 + 4 * ww) * t.s1, t.s1]])

    return TubeSystem(f, jac)


def _tube(chain: Chain, lo: float, hi: float, branch: int, e_max: float, depth: int) -> list:
    """Certified tubes for the w-slab ``[lo, hi]``; recursive bisection where the test fails or the
    curve leaves ``e <= e_max`` inside the slab. Returns a list of :class:`CurveTube` (``ok``
    False for a slab that could not be certified)."""
    C = chain.float_C
    es = [_curve_float(C, w) for w in np.linspace(lo, hi, 5)]
    if all(v is None or v > e_max + 0.05 for v in es):
        # e(w) is monotone where the curve exists (1 + 2w|w| is increasing) and runs to infinity
        # at w = -1/sqrt2, so its smallest value in the slab is at a sampled endpoint
        return []
    finite = [v for v in es if v is not None]
    needs_split = len(finite) < len(es) or max(finite) > e_max + 0.5
    if not needs_split:
        tube = _tube_certificate(chain, lo, hi, branch, min(finite), max(finite))
        if tube.ok or depth == 0:
            return [tube]
    elif depth == 0:
        return [CurveTube(w=[lo, hi], branch=branch, ok=False, reason="curve unbounded in slab")]
    mid = 0.5 * (lo + hi)
    return (_tube(chain, lo, mid, branch, e_max, depth - 1)
            + _tube(chain, mid, hi, branch, e_max, depth - 1))


def _tube_certificate(chain: Chain, lo: float, hi: float, branch: int, e_lo: float,
                      e_hi: float) -> CurveTube:
    flint = require_flint()
    logit = float(chain.logit_p.mid())
    b_lo, b_hi = logit + e_lo ** 2 / 2, logit + e_hi ** 2 / 2
    # start from the float curve's extent over the slab, widened a little; epsilon-inflation
    # (numerics.shared.certify.krawczyk_inflate) only chooses the box, the last test decides
    centre = [(e_lo + e_hi) / 2, (b_lo + b_hi) / 2]
    radius = [0.75 * (e_hi - e_lo) + 1e-6 * (1 + e_hi), 0.75 * (b_hi - b_lo) + 1e-6 * (1 + abs(b_hi))]
    system = tube_system(chain, branch)
    W = flint.arb(lo).union(flint.arb(hi))
    result = krawczyk_inflate(system.f, system.jac, centre, radius, params=[W], iterations=6)
    box = result.inner or result.box  # covering uses the inward-rounded box (inside X)
    ok = result.unique and result.box[0][0] > 0  # outward bound: e > 0 on all of X
    return CurveTube(w=[lo, hi], branch=branch, ok=ok, box=box, image=result.image,
                     image_balls=result.image_balls, reason=result.reason)


def certify_curve_tubes(chain: Chain, w_max: float, e_max: float, slab: float,
                        depth: int = 10) -> list[CurveTube]:
    """Tubes covering the global curve for :math:`|w| \\le w_{max}`, :math:`0 < e \\le e_{max}`:
    slabs of width ``slab`` on each branch, split where needed (see :func:`_tube`)."""
    edges = np.unique(np.concatenate([np.arange(-w_max, 0, slab), [0.0], np.arange(slab, w_max, slab),
                                      [w_max]]))
    edges = edges[(edges >= -w_max) & (edges <= w_max)]
    tubes = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        branch = 1 if lo >= 0 else -1
        tubes.extend(_tube(chain, float(lo), float(hi), branch, e_max, depth))
    return tubes


# ----------------------------------------------------------------------------------------------
# The critical-set proof


def exclusion_function(chain: Chain, branch: int):
    """Components whose non-vanishing excludes a box (valid by the reduction of the module
    docstring): :math:`g_0`, :math:`g_1` and :math:`\\partial_b L = g_0 + g_1`."""
    def f(X):
        t = parts(chain, X[0], X[1], X[2], branch)
        return [t.g0, t.g1, t.g0 + t.g1]
    return f


def _covered_by(tubes: list):
    def covered(box) -> bool:
        (e0, e1), (w0, w1), (b0, b1) = box
        for t in tubes:
            (tw0, tw1), ((te0, te1), (tb0, tb1)) = t.w, t.box
            if tw0 <= w0 and w1 <= tw1 and te0 <= e0 and e1 <= te1 and tb0 <= b0 and b1 <= tb1:
                return True
        return False
    return covered


def certify_critical_set(p, q, box=DEFAULT_BOX, slab: float = 0.1, min_width: float = 1e-4,
                         max_boxes: int = 400_000) -> CriticalSetCertificate:
    """Certified proof that the critical points of L in :math:`|e| \\le E, |w| \\le W, |b| \\le B`
    are exactly the unigram line (e = 0, b = log(p/q), all w) and the global curve (with
    :math:`g_0 = g_1 = 0`), by the three cases of the module docstring.

    Parameters
    ----------
    p, q : chain, p + q != 1 (floats are read as their decimal: 0.2 = 1/5)
    box : ``(E, W, B)``, the half-widths of the box
    slab : width of the w-slabs of the curve tubes (split further where needed)
    min_width, max_boxes : limits of the exclusion search

    Returns
    -------
    CriticalSetCertificate
        ``certified`` (no box left, every needed tube certified, unigram bias inside the box,
        inertia (+, +, 0) on every tube), the tube and box counts, the unigram bias enclosure,
        ``curve_hessian`` from :func:`certify_curve_hessian` and ``seconds``.
    """
    flint = require_flint()
    try:
        E, W, B = (HALF_WIDTH.check("box", v) for v in box)
    except (TypeError, ValueError) as exc:
        raise InputError("box", box, f"three half-widths (E, W, B), each "
                                     f"{HALF_WIDTH.describe()}") from exc
    E, W, B = float(E), float(W), float(B)
    SLAB.check("slab", slab)
    MIN_WIDTH.check("min_width", min_width)
    MAX_BOXES.check("max_boxes", max_boxes)
    start = time.perf_counter()
    chain = Chain(p, q)
    all_tubes = certify_curve_tubes(chain, W, E, slab)
    tubes = [t for t in all_tubes if t.ok]
    failed = [{"w": t.w, "reason": t.reason} for t in all_tubes if not t.ok]
    excluded = covered = 0
    uncovered = []
    covered_fn = _covered_by(tubes)
    # start the search on w-slabs whose edges include every tube's edges, so that a box never
    # straddles two tubes (or a tube and its neighbour without one)
    edges = sorted({-W, 0.0, W} | {v for t in all_tubes for v in t.w}
                   | set(np.linspace(-W, W, 41).tolist()))
    for w_lo, w_hi in zip(edges[:-1], edges[1:]):
        branch = 1 if w_lo >= 0 else -1
        result = exclude_zeros(exclusion_function(chain, branch), [(0.0, E), (w_lo, w_hi), (-B, B)],
                               covered=covered_fn, scale=(E, W, B), min_width=min_width,
                               max_boxes=max_boxes)
        excluded += result.excluded
        covered += result.covered
        uncovered.extend(result.remaining)
    bias_inside = bool(as_box([(-B, B)])[0].contains_interior(chain.b0))
    hess = certify_curve_hessian(chain, tubes)
    certified = not uncovered and not failed and bias_inside and not hess.tubes_not_certified
    w_cov = [min(t.w[0] for t in tubes), max(t.w[1] for t in tubes)] if tubes else None
    return CriticalSetCertificate(
        p=float(p), q=float(q), box={"e": [-E, E], "w": [-W, W], "b": [-B, B]},
        certified=certified, tubes=len(tubes), tube_w_range=w_cov, failed_tubes=failed,
        excluded_boxes=excluded, covered_boxes=covered, uncovered_count=len(uncovered),
        uncovered=uncovered[:20], unigram_bias=list(bounds(chain.b0)),
        unigram_bias_inside=bias_inside, curve_hessian=hess,
        seconds=time.perf_counter() - start, prec_bits=flint.ctx.prec)


def certify_curve_hessian(chain: Chain, tubes: list) -> CurveHessianCertificate:
    """Certified inertia ``(+, +, 0)`` of the Hessian at every global-curve point of the tubes.

    At the certified zeros :math:`g_0 = g_1 = 0` exactly, so the Hessian there is
    :math:`H = G S G^\\top` with :math:`G = [\\nabla f_0, \\nabla f_1]` (3 x 2) and
    :math:`S = \\mathrm{diag}(s_0, s_1)`, :math:`s_i = \\pi_i\\sigma'(f_i)`. Hence H is positive
    semidefinite with kernel :math:`\\ker G^\\top` (the curve tangent: an exact zero eigenvalue,
    the curve being critical) and positive definite on the normal space :math:`\\mathrm{range}\\,G`
    iff :math:`S \\succ 0` and G has rank 2. Certified on enclosures over the tube's Krawczyk
    image box (which contains the zero for every w of the slab): :math:`s_0, s_1 > 0` and the
    minor of rows (e, b), :math:`\\det\\begin{pmatrix}-e & e(1+4w|w|)\\\\ 1 & 1\\end{pmatrix}
    = -e(2 + 4w|w|) \\ne 0` (then :math:`\\det G^\\top G`, the sum of the squared 2 x 2 minors
    by Cauchy-Binet, is positive)."""
    flint = require_flint()
    ok = 0
    bad = []
    for t in tubes:
        Ke, Kb = t.image_balls
        Wb = flint.arb(t.w[0]).union(flint.arb(t.w[1]))
        pt = parts(chain, Ke, Wb, Kb, t.branch)
        ww, _ = _wabs(Wb, t.branch)
        minor = -Ke * (2 + 4 * ww)
        if pt.s0 > 0 and pt.s1 > 0 and not minor.contains(0):
            ok += 1
        else:
            bad.append(t.w)
    return CurveHessianCertificate(
        tubes_positive_definite_normal=ok, tubes_not_certified=bad,
        inertia_on_curve="(+, +, 0): two certified positive, one exact zero (tangent)")


def certify_unigram_hessian(p, q, w_max: float = 2.5, gap: float = 1e-6,
                            min_width: float = 1e-9) -> UnigramHessianCertificate:
    """Certified eigenvalue signs of the Hessian on the unigram line (e = 0, b = log(p/q)) for all
    :math:`w \\in [-w_{max}, w_{max}]` except the ``gap``-neighbourhood of :math:`-1/\\sqrt2`.

    Each w-interval is bisected until :func:`numerics.shared.certify.eigen_signs` leaves nothing
    undetermined; the result lists, per interval, the certified signature ``(positive,
    negative, exact_zero)`` (:class:`SignatureInterval`). The exact zero is the w direction (row
    and column exactly zero).
    """
    flint = require_flint()
    W_MAX.check("w_max", w_max)
    GAP.check("gap", gap)
    MIN_WIDTH.check("min_width", min_width)
    start = time.perf_counter()
    chain = Chain(p, q)
    ws = -math.sqrt(0.5)
    segments = [(-w_max, ws - gap, -1), (ws + gap, 0.0, -1), (0.0, w_max, 1)]
    out, pieces, ok = [], 0, True
    for lo, hi, branch in segments:
        stack, sigs = [(lo, hi)], set()
        while stack:
            a, b = stack.pop()
            pieces += 1
            w = flint.arb(a).union(flint.arb(b))
            s = eigen_signs(hessian(chain, flint.arb(0), w, chain.b0, branch))
            if s.undetermined == 0:
                sigs.add((s.positive, s.negative, s.exact_zero))
            elif b - a > min_width:
                m = 0.5 * (a + b)
                stack.extend([(a, m), (m, b)])
            else:
                ok = False
                sigs.add((-1, -1, -1))
        ok = ok and len(sigs) == 1
        pos, neg, zero = sorted(sigs)[0]
        out.append(SignatureInterval(w=[lo, hi], positive=pos, negative=neg, exact_zero=zero,
                                     single_signature=len(sigs) == 1))
    return UnigramHessianCertificate(p=float(p), q=float(q), intervals=out, certified=ok,
                                     pieces=pieces, saddle_gap=gap,
                                     seconds=time.perf_counter() - start)

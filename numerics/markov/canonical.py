"""Chain quantities and the canonical three-parameter model in numpy: loss, flows, basins.

Makkuva et al., P1 = arXiv 2402.04161 (the chain, Sec. 2) and P2 = arXiv 2406.03072 (the
canonical model, Sec. 3). Chain quantities, the canonical loss vectorised over grids, the optimal
bias in closed form, critical points, the energy, and the basin prediction. The formulas are the
ones derived symbolically in :mod:`theory.markov`; ``tests/numerics/markov/test_canonical.py``
checks every function here against the lambdified sympy expression.

Notation: ``p = P(1|0)``, ``q = P(0|1)``; ``pi = (q, p)/(p+q)``; canonical parameters
``theta = (e, w, b)``; ``u = e^2 (1 + 2 w|w|)``; ``f0 = b - e^2/2``; ``f1 = f0 + u``.
"""

from __future__ import annotations

import math
import sys
from typing import TYPE_CHECKING

import numpy as np

from numerics.shared.ode import dopri5
from theory.budgets import MEMORY_BUDGET
from theory.domains import FINITE, SEED, integer, real
from theory.errors import (InputError, NumericalFailure, TooLargeError, check_finite, check_int,
                           check_open_unit)
from theory.results import result

if TYPE_CHECKING:  # theory.markov imports sympy: deferred to the first call (ttc start-up)
    from theory.markov import CanonicalLogits

SQRT_HALF = math.sqrt(0.5)
#: Number of states ``S`` of :func:`chain_summary` (``pi`` is a list of S floats, printed by
#: ``ttc markov summary``: about 20 bytes of output per state).
STATES = integer(2, 100_000, note="pi is a list of S numbers: 2 MB of output at the maximum")
#: Side ``n`` of the :func:`landscape` grid: about 20 arrays of ``n^2`` float64 (600 MB at the
#: maximum) and a drawing time that grows like ``n^2``.
GRID = integer(2, 2000, note="n x n grid: about 20 arrays of n^2 float64, 600 MB at n = 2000")
#: Steps of :func:`gradient_descent_ends` (about 40 microseconds per step for one point: under
#: a minute at the maximum).
DESCENT_STEPS = integer(0, 1_000_000, note="about 40 us per step for one point, under a minute "
                                         "at the maximum")
#: Accepted Dormand--Prince steps of :func:`joint_flow` / :func:`profiled_flow` before a
#: :class:`NumericalFailure` (about 0.1 ms of CPU per step: about a second; the flows of the
#: claims and typical queries take 200-2000 steps, a stiff flow from a far start such as
#: ``b0 = 1e10`` would take millions).
FLOW_MAX_STEPS = 10_000
#: Multi-start count of :func:`search_critical_points` (each start is one root finding).
STARTS = integer(1, 10_000, note="one root finding per start")
#: Initial values ``e0, w0, b0`` of the flows and of ``ttc markov basin``: any finite real.
INITIAL_VALUE = FINITE
#: Learning rate of :func:`gradient_descent_ends`: a finite positive real.
LEARNING_RATE = real(0, None, low_open=True)
#: Step fraction of :func:`gradient_descent_ends` with ``lr=None``.
STEP_FRACTION = real(0, 1, low_open=True)
#: Energy of the saddle (e, w) = (0, -1/sqrt 2): E* = -(1 + log 2)/2 (P2, Sec. 3).
SADDLE_ENERGY = -(1.0 + math.log(2.0)) / 2.0


@result
class ChainSummary:
    """Stationary law, entropies and regime of the chain (P1, Sec. 2; the ``ttc markov summary``
    keys). For the symmetric S-state chain (the library's reconstruction) the same fields.

    Attributes
    ----------
    pi : list of float, length S (2 for the binary chain)
        Stationary law :math:`\\pi` (probabilities).
    entropy_rate : float
        :math:`H(P)`, nats: the Bayes-optimal next-token loss.
    unigram_entropy : float
        :math:`H(\\pi)`, nats: the loss of the best predictor that ignores the past.
    mutual_information : float
        :math:`I(x_n; x_{n+1}) = H(\\pi) - H(P) \\ge 0`, nats (clipped at 0).
    switching : float
        :math:`p + q` (binary) or :math:`1 - \\lambda = pS/(S-1)` (S states), dimensionless.
    regime : str
        ``"p+q>1"``, ``"p+q<1"`` or ``"p+q=1"`` (of ``switching``).
    """

    pi: list
    entropy_rate: float
    unigram_entropy: float
    mutual_information: float
    switching: float
    regime: str


@result
class UnigramIntervals:
    """The parts of the unigram line ``e = 0`` that are local minima / maxima along ``e``
    (P2, Sec. 3).

    Attributes
    ----------
    local_min_w, local_max_w : list ``[lo, hi]`` of float or None, or None
        Intervals in ``w`` (``None`` for an infinite end); both None at ``p + q = 1``.
    """

    local_min_w: list | None
    local_max_w: list | None


@result
class CanonicalPoint:
    """A point ``(e, w, b)`` of the canonical model with its loss (P2, Sec. 3).

    Attributes
    ----------
    e, w, b : float
        Canonical parameters (dimensionless; ``b`` is a logit).
    loss : float
        :math:`L(e, w, b)`, nats.
    """

    e: float
    w: float
    b: float
    loss: float


@result
class CriticalSummary:
    """The critical set of the canonical loss with values (P2, Sec. 3; the ``ttc markov
    critical`` keys plus ``regime``).

    Attributes
    ----------
    global_minimum_loss : float
        :math:`H(P)`, nats, the loss on the global-minimum curve.
    global_curve_constant : float
        :math:`C = \\log((1-p)(1-q)/(pq))`: the curve is :math:`e^2(1 + 2w|w|) = C`.
    unigram_loss : float
        :math:`H(\\pi)`, nats, the loss on the unigram line ``e = 0``.
    unigram_bias : float
        :math:`\\log(p/q)`, the bias on the unigram line.
    unigram_local_min_w, unigram_local_max_w : list ``[lo, hi]`` or None
        Intervals of ``w`` where the line is a local minimum / maximum along ``e``
        (:class:`UnigramIntervals`).
    saddles : list of CanonicalPoint
        The saddle ``(0, -1/sqrt 2, log(p/q))`` with loss :math:`H(\\pi)`; empty at ``p+q = 1``.
    regime : str
        ``"p+q>1"``, ``"p+q<1"`` or ``"p+q=1"``.
    """

    global_minimum_loss: float
    global_curve_constant: float
    unigram_loss: float
    unigram_bias: float
    unigram_local_min_w: list | None
    unigram_local_max_w: list | None
    saddles: list
    regime: str


@result
class Flow:
    """A solved gradient flow :math:`\\dot\\theta = -\\nabla L` (P2, Sec. 3).

    Attributes
    ----------
    t : ndarray, shape (k,)
        Times of the accepted steps (dimensionless flow time).
    theta : ndarray, shape (k, 3) or (k, 2)
        States ``(e, w, b)`` (joint flow) or ``(e, w)`` (profiled flow) at those times.
    converged : bool
        Whether :math:`|\\nabla L|` fell to the tolerance before ``t_max``.
    """

    t: np.ndarray
    theta: np.ndarray
    converged: bool

    @property
    def end(self) -> np.ndarray:
        """The last state, shape ``(3,)`` or ``(2,)``."""
        return self.theta[-1]


@result
class BasinQuery:
    """Predicted basin and joint-flow end point from ``(e0, w0, b0)`` (P2, Sec. 3; the ``ttc
    markov basin`` keys).

    Attributes
    ----------
    predicted : str
        ``"global"``, ``"local"`` or ``"boundary"`` (:func:`basin_labels`).
    energy : float or None
        :math:`E(e_0, w_0)` (None at ``w0 = 0``, where it is undefined).
    separatrix_energy : float
        :math:`E^* = -(1 + \\log 2)/2`.
    flow_end : CanonicalPoint
        End of the joint three-parameter flow, with its loss (nats).
    """

    predicted: str
    energy: float | None
    separatrix_energy: float
    flow_end: CanonicalPoint


@result
class DescentEnds:
    """End points of gradient descent on the canonical loss from many initialisations
    (P2, Sec. 3).

    Attributes
    ----------
    e, w, b : ndarray, the broadcast shape of the initialisations
        Final parameters.
    loss : ndarray, same shape
        Final loss :math:`L(e, w, b)`, nats.
    """

    e: np.ndarray
    w: np.ndarray
    b: np.ndarray
    loss: np.ndarray


@result
class Landscape:
    """The canonical landscape with ``b`` profiled on an ``n x n`` grid (P2, Sec. 3, Figs. 2-3).

    Attributes
    ----------
    e : ndarray, shape (n,)
        Grid of ``e`` (the columns).
    w : ndarray, shape (n,)
        Grid of ``w`` (the rows).
    loss : ndarray, shape (n, n)
        Profiled loss :math:`L^*(e, w)`, nats.
    energy : ndarray, shape (n, n)
        :math:`E(e, w)` (NaN at ``w = 0``).
    basin : ndarray of int, shape (n, n)
        :func:`basin_labels`: 1 global, 0 local, -1 boundary.
    unigram_curvature : ndarray, shape (n,)
        Curvature along ``e`` of the unigram line at each ``w``: :math:`2g_1^o(1 + 2w|w|)`.
    global_curve_e : ndarray, shape (n,)
        ``e >= 0`` of the global-minimum curve at each ``w`` (NaN where there is none).
    """

    e: np.ndarray
    w: np.ndarray
    loss: np.ndarray
    energy: np.ndarray
    basin: np.ndarray
    unigram_curvature: np.ndarray
    global_curve_e: np.ndarray


@result
class CriticalPoint:
    """A stationary point found by :func:`search_critical_points` (P2, Sec. 3).

    Attributes
    ----------
    e, w, b : float
        Its parameters.
    family : str
        ``"unigram line"``, ``"global minima"`` or ``"other"`` (a counterexample to P2).
    kind : str
        Its Hessian classification by :func:`numerics.shared.stationary.find_stationary_points`.
    gradient_norm : float
        :math:`|\\nabla L|` there.
    loss : float
        :math:`L(e, w, b)`, nats.
    """

    e: float
    w: float
    b: float
    family: str
    kind: str
    gradient_norm: float
    loss: float


def expit(x):
    """:math:`\\sigma(x) = 1/(1+e^{-x}) = (1 + \\tanh(x/2))/2`, without overflow."""
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, dtype=float)))


def xlogy(x, y):
    """:math:`x\\log y` with the convention ``0 log 0 = 0`` (as scipy.special.xlogy)."""
    x, y = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x == 0, 0.0, x * np.log(y))


def check_chain(p, q) -> None:
    """Raise :class:`InputError` unless ``p, q`` are probabilities in (0, 1)."""
    check_open_unit("p", p)
    check_open_unit("q", q)


def _real_arrays(**values) -> list[np.ndarray]:
    """The named arguments as float arrays: each must hold finite real numbers (ints or floats,
    no strings, bools, complex or NaN), else :class:`InputError` naming it."""
    out = []
    for name, value in values.items():
        try:
            array = np.asarray(value)
        except (TypeError, ValueError):
            raise InputError(name, value, "a finite real number or an array of them") from None
        if array.dtype.kind not in "iuf" or (array.size and not np.all(np.isfinite(array))):
            shown = value if array.size <= 8 else f"<array of shape {array.shape}>"
            raise InputError(name, shown, "a finite real number or an array of them")
        out.append(array.astype(float, copy=False))
    return out


def _check_broadcast(arrays, temporaries: int, names: str) -> tuple:
    """The broadcast shape of ``arrays``; :class:`TooLargeError` when ``temporaries`` float64
    arrays of that shape would exceed :data:`MEMORY_BUDGET`."""
    try:
        shape = np.broadcast_shapes(*(a.shape for a in arrays))
    except ValueError:
        raise InputError(names, [a.shape for a in arrays], "shapes that broadcast") from None
    size = math.prod(shape)
    if size * 8 * temporaries > MEMORY_BUDGET:
        raise TooLargeError(names, f"broadcast shape {shape}",
                            f"at most {MEMORY_BUDGET // (8 * temporaries):,} points "
                            f"({temporaries} float64 arrays within {MEMORY_BUDGET / 2**30:g} GiB)")
    return shape


def _finite_out(what: str, value):
    """``value`` when every entry is finite, else :class:`NumericalFailure`."""
    if not np.all(np.isfinite(value)):
        raise NumericalFailure(f"{what} is not finite (overflow for these arguments)")
    return value


def _log_ratio(numerator: float, denominator: float) -> float:
    """:math:`\\log(a/b)` for positive floats, through ``log a - log b`` when ``a/b`` under- or
    overflows (the direct form otherwise: the same bits as before)."""
    ratio = numerator / denominator if denominator > 0 else math.inf
    if sys.float_info.min <= ratio < math.inf:
        return math.log(ratio)
    return math.log(numerator) - math.log(denominator)


def binary_entropy(t):
    """:math:`h(t) = -t\\log t - (1-t)\\log(1-t)` in nats (``h(0) = h(1) = 0``)."""
    t = np.asarray(t, dtype=float)
    return -xlogy(t, t) - xlogy(1 - t, 1 - t)


def binary_kl(a, s):
    """:math:`KL(a\\|s) = a\\log(a/s) + (1-a)\\log((1-a)/(1-s))` between Bernoulli laws, nats."""
    a, s = np.asarray(a, dtype=float), np.asarray(s, dtype=float)
    return xlogy(a, a) - xlogy(a, s) + xlogy(1 - a, 1 - a) - xlogy(1 - a, 1 - s)


def stationary(p: float, q: float) -> np.ndarray:
    """Stationary law :math:`\\pi = (q, p)/(p+q)` of the binary chain; shape ``(2,)``."""
    check_chain(p, q)
    return np.array([q, p]) / (p + q)


def regime(p: float, q: float) -> str:
    """``"p+q>1"``, ``"p+q<1"`` or ``"p+q=1"`` (the last with a relative tolerance of 1e-12)."""
    s = p + q
    if abs(s - 1.0) <= 1e-12:
        return "p+q=1"
    return "p+q>1" if s > 1 else "p+q<1"


def chain_summary(p: float, q: float | None, states: int = 2) -> ChainSummary:
    """Stationary law, entropy rate :math:`H(P)`, unigram entropy :math:`H(\\pi)`, their
    difference :math:`I(x_n; x_{n+1})`, the switching factor and the regime (P1, Sec. 2).

    For ``states = S > 2`` the chain is the symmetric S-state chain with ``P_ii = 1 - p`` and
    ``P_ij = p/(S-1)`` (``q`` is then unused: None, or a valid probability as before):
    :math:`\\pi` uniform, :math:`H(\\pi) = \\log S`, :math:`H(P) = h(p) + p\\log(S-1)`.
    ``states`` is at most ``STATES.high`` (:data:`STATES`).
    """
    STATES.check("states", states)
    if q is None and states > 2:
        check_open_unit("p", p)
    else:
        check_chain(p, q)
    if states == 2:
        pi = stationary(p, q)
        rate = float(pi[0] * binary_entropy(p) + pi[1] * binary_entropy(q))
        unigram = float(binary_entropy(pi[1]))
        switching = p + q
        reg = regime(p, q)
    else:
        pi = np.full(states, 1.0 / states)
        rate = float(binary_entropy(p) + p * math.log(states - 1))
        unigram = math.log(states)
        switching = p * states / (states - 1)  # 1 - lambda, lambda = 1 - pS/(S-1)
        reg = regime(switching, 0.0)
    return ChainSummary(pi=pi.tolist(), entropy_rate=rate, unigram_entropy=unigram,
                        mutual_information=max(unigram - rate, 0.0), switching=switching,
                        regime=reg)


# ----------------------------------------------------------------------------------------------
# The canonical three-parameter model (P2, Sec. 3), vectorised over arrays of (e, w, b).


def _softplus(x):
    return np.logaddexp(0.0, x)


def _logits_raw(e, w, b) -> CanonicalLogits:
    from theory.markov import CanonicalLogits

    e, w, b = np.broadcast_arrays(*(np.asarray(x, dtype=float) for x in (e, w, b)))
    e2 = e * e
    return CanonicalLogits(b - e2 / 2, b + e2 / 2 + 2 * e2 * w * np.abs(w))


def _checked_parameters(temporaries: int, **values) -> list[np.ndarray]:
    """Finite real arrays (:func:`_real_arrays`) whose broadcast fits ``temporaries`` float64
    arrays in :data:`MEMORY_BUDGET`."""
    arrays = _real_arrays(**values)
    _check_broadcast(arrays, temporaries, ", ".join(values))
    return arrays


def canonical_logits(e, w, b) -> CanonicalLogits:
    """:math:`f_0 = b - e^2/2`, :math:`f_1 = b + e^2/2 + 2e^2 w|w|` (P2, Sec. 3) on the
    broadcast arrays ``e, w, b`` (finite reals); both fields have their broadcast shape.
    :class:`NumericalFailure` when they overflow."""
    e, w, b = _checked_parameters(8, e=e, w=w, b=b)
    with np.errstate(over="ignore", invalid="ignore"):
        logits = _logits_raw(e, w, b)
    _finite_out("the logits", logits.f0)
    _finite_out("the logits", logits.f1)
    return logits


def _loss_raw(p, q, e, w, b):
    pi0, pi1 = np.array([q, p]) / (p + q)
    logits = _logits_raw(e, w, b)
    f0, f1 = logits.f0, logits.f1
    return (pi0 * (p * _softplus(-f0) + (1 - p) * _softplus(f0))
            + pi1 * ((1 - q) * _softplus(-f1) + q * _softplus(f1)))


def canonical_loss(p, q, e, w, b):
    """Canonical population loss (theory: :func:`theory.markov.canonical_loss`), in a stable form:

    .. math:: L = \\pi_0 [p\\,s(-f_0) + (1-p)\\,s(f_0)] + \\pi_1 [(1-q)\\,s(-f_1) + q\\,s(f_1)],

    with :math:`s(x) = \\log(1 + e^x)`. ``e, w, b`` broadcast (finite reals; their temporaries
    within :data:`MEMORY_BUDGET`); returns an array of their shape (nats). Raises
    :class:`NumericalFailure` when the loss overflows (``|e|`` beyond about 1e154).
    """
    check_chain(p, q)
    e, w, b = _checked_parameters(12, e=e, w=w, b=b)
    with np.errstate(over="ignore", invalid="ignore"):
        return _finite_out("the canonical loss", _loss_raw(p, q, e, w, b))


def _gradient_raw(p, q, e, w, b):
    pi0, pi1 = np.array([q, p]) / (p + q)
    e, w, b = np.broadcast_arrays(*(np.asarray(x, dtype=float) for x in (e, w, b)))
    logits = _logits_raw(e, w, b)
    f0, f1 = logits.f0, logits.f1
    g0 = pi0 * (expit(f0) - p)
    g1 = pi1 * (expit(f1) - (1 - q))
    return np.stack([-e * g0 + e * (1 + 4 * w * np.abs(w)) * g1,
                     4 * e * e * np.abs(w) * g1, g0 + g1], axis=-1)


def canonical_gradient(p, q, e, w, b):
    """:math:`(\\partial_e L, \\partial_w L, \\partial_b L)` stacked on the last axis, shape
    ``broadcast(e, w, b).shape + (3,)`` (theory: ``canonical_gradient_paper_form``). Finite
    real inputs; :class:`NumericalFailure` when it overflows."""
    check_chain(p, q)
    e, w, b = _checked_parameters(16, e=e, w=w, b=b)
    with np.errstate(over="ignore", invalid="ignore"):
        return _finite_out("the canonical gradient", _gradient_raw(p, q, e, w, b))


def _hessian_raw(p, q, e, w, b):
    pi0, pi1 = np.array([q, p]) / (p + q)
    logits = _logits_raw(e, w, b)
    f0, f1 = float(logits.f0), float(logits.f1)
    g1 = pi1 * (expit(f1) - (1 - q))
    s0 = pi0 * expit(f0) * (1 - expit(f0))
    s1 = pi1 * expit(f1) * (1 - expit(f1))
    g0 = pi0 * (expit(f0) - p)
    a = abs(w)
    grad_f0 = np.array([-e, 0.0, 1.0])
    grad_f1 = np.array([e * (1 + 4 * w * a), 4 * e * e * a, 1.0])
    hess_f0 = np.diag([-1.0, 0.0, 0.0])
    hess_f1 = np.array([[1 + 4 * w * a, 8 * e * a, 0.0], [8 * e * a, 4 * e * e * np.sign(w), 0.0],
                        [0.0, 0.0, 0.0]])
    return (s0 * np.outer(grad_f0, grad_f0) + s1 * np.outer(grad_f1, grad_f1)
            + g0 * hess_f0 + g1 * hess_f1)


def canonical_hessian(p, q, e, w, b):
    """Analytic Hessian in ``(e, w, b)`` at one point (3x3), valid on either branch of ``w``.

    With :math:`s_i = \\sigma'(f_i)\\pi_i` and ``a = |w|``: the loss is
    :math:`\\pi_0 c_0(f_0) + \\pi_1 c_1(f_1)`, so the Hessian is
    :math:`\\sum_i s_i \\nabla f_i \\nabla f_i^T + g_i \\nabla^2 f_i`. ``e, w, b``: finite real
    scalars; :class:`NumericalFailure` when an entry overflows.
    """
    check_chain(p, q)
    for name, value in (("e", e), ("w", w), ("b", b)):
        check_finite(name, value)
    with np.errstate(over="ignore", invalid="ignore"):
        return _finite_out("the canonical Hessian", _hessian_raw(p, q, e, w, b))


def global_curve_constant(p: float, q: float) -> float:
    """:math:`C = \\log((1-p)(1-q)/(pq))`: global minima satisfy :math:`e^2(1+2w|w|) = C`
    (through ``log1p(-p) + log1p(-q) - log p - log q`` when ``p q`` underflows)."""
    check_chain(p, q)
    if p * q >= sys.float_info.min:
        return math.log((1 - p) * (1 - q) / (p * q))
    return math.log1p(-p) + math.log1p(-q) - math.log(p) - math.log(q)


def _optimal_bias_raw(p, q, e, w):
    e, w = np.broadcast_arrays(np.asarray(e, dtype=float), np.asarray(w, dtype=float))
    u = e * e * (1 + 2 * w * np.abs(w))
    with np.errstate(divide="ignore"):  # log|q - p| = -inf when p == q is handled by logaddexp
        log_gap = math.log(abs(q - p)) if p != q else -math.inf
    four_pq = 4 * p * q
    log_4pq = (math.log(four_pq) if four_pq >= sys.float_info.min  # else p q underflows
               else math.log(4.0) + math.log(p) + math.log(q))
    log_r = 0.5 * np.logaddexp(2 * log_gap, log_4pq + u)
    if p >= q:
        log_z = np.logaddexp(log_gap, log_r) - math.log(2 * q) - u
    else:
        log_z = math.log(2 * p) - np.logaddexp(log_gap, log_r)
    return e * e / 2 + log_z


def optimal_bias(p, q, e, w):
    """Closed-form optimal bias :math:`b^*(e, w)` (theory: :func:`theory.markov.optimal_bias`),
    evaluated in logs so that no ``e^u`` overflows: with ``u = e^2(1+2w|w|)`` and
    :math:`r = \\sqrt{(q-p)^2 + 4pq e^u}`, ``log z = log(p - q + r) - log(2q) - u`` if
    ``p >= q``, else the cancellation-free ``log(2p) - log(q - p + r)``; :math:`b^* = e^2/2 + \\log z`.
    ``e, w``: finite reals (broadcast); :class:`NumericalFailure` when ``b*`` overflows.
    """
    check_chain(p, q)
    e, w = _checked_parameters(10, e=e, w=w)
    with np.errstate(over="ignore", invalid="ignore"):
        return _finite_out("the optimal bias", _optimal_bias_raw(p, q, e, w))


def profiled_loss(p, q, e, w):
    """:math:`L^*(e, w) = L(e, w, b^*(e, w))` on broadcast arrays of finite reals (nats)."""
    check_chain(p, q)
    e, w = _checked_parameters(20, e=e, w=w)
    with np.errstate(over="ignore", invalid="ignore"):
        return _finite_out("the profiled loss",
                           _loss_raw(p, q, e, w, _optimal_bias_raw(p, q, e, w)))


def _energy_raw(e, w):
    """:func:`energy` without checks: NaN at ``w = 0`` (for the landscape's grids)."""
    e, w = np.asarray(e, dtype=float), np.asarray(w, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return e * e - w * w - np.sign(w) * np.log(np.abs(w))


def energy(e, w):
    """:math:`E(e, w) = e^2 - w^2 - \\mathrm{sign}(w)\\log|w|` (P2) on broadcast arrays of finite
    reals. Undefined at ``w = 0`` (``sign(w) log|w|``; the line ``w = 0`` is invariant under the
    flow): an :class:`InputError` there; :class:`NumericalFailure` when ``e^2`` or ``w^2``
    overflows."""
    e, w = _real_arrays(e=e, w=w)
    _check_broadcast((e, w), 6, "e, w")
    if np.any(w == 0):
        raise InputError("w", 0.0, "a nonzero real number (E is undefined at w = 0)")
    return _finite_out("the energy", _energy_raw(e, w))


def unigram_curvature(p: float, q: float, w):
    """Curvature of the loss along ``e`` on the unigram line: :math:`2g_1^o(1 + 2w|w|)` with
    :math:`g_1^o = pq(p+q-1)/(p+q)^2` (theory: :func:`theory.markov.unigram_hessian`)."""
    check_chain(p, q)
    (w,) = _real_arrays(w=w)
    _check_broadcast((w,), 4, "w")
    return _finite_out("the unigram curvature",
                       2 * p * q * (p + q - 1) / (p + q) ** 2 * (1 + 2 * w * np.abs(w)))


def unigram_intervals(p: float, q: float) -> UnigramIntervals:
    """The parts of the unigram line ``e = 0`` that are local minima / local maxima along ``e``
    (P2, Sec. 3), as intervals ``[lo, hi]`` in ``w`` (``None`` for an infinite end). Both None at
    p+q=1, where the whole line is flat in ``e`` and has the global loss."""
    r = regime(p, q)
    if r == "p+q=1":
        return UnigramIntervals(local_min_w=None, local_max_w=None)
    upper, lower = [-SQRT_HALF, None], [None, -SQRT_HALF]
    return (UnigramIntervals(local_min_w=upper, local_max_w=lower) if r == "p+q>1"
            else UnigramIntervals(local_min_w=lower, local_max_w=upper))


def critical_summary(p: float, q: float) -> CriticalSummary:
    """The critical set with values (P2, Sec. 3): global minima (curve, loss H(P)), the
    unigram line (loss H(pi), bias log(p/q), its min / max intervals in w) and the saddle."""
    summary = chain_summary(p, q)
    b0 = _log_ratio(p, q)
    unigram = summary.unigram_entropy
    intervals = unigram_intervals(p, q)
    saddles = [] if regime(p, q) == "p+q=1" else [
        CanonicalPoint(e=0.0, w=-SQRT_HALF, b=b0, loss=unigram)]
    return CriticalSummary(global_minimum_loss=summary.entropy_rate,
                           global_curve_constant=global_curve_constant(p, q),
                           unigram_loss=unigram, unigram_bias=b0,
                           unigram_local_min_w=intervals.local_min_w,
                           unigram_local_max_w=intervals.local_max_w, saddles=saddles,
                           regime=regime(p, q))


# ----------------------------------------------------------------------------------------------
# Gradient flows, energy, basins


def _integrate(rhs, theta0, t_max: float, gtol: float, max_steps: int) -> Flow:
    """Run :func:`numerics.shared.ode.dopri5` until the gradient norm is at most ``gtol``
    (at most ``max_steps`` accepted steps, then :class:`NumericalFailure`)."""
    with np.errstate(over="ignore", invalid="ignore"):  # dopri5 reports a non-finite state
        trajectory = dopri5(rhs, theta0, t_max, max_steps=max_steps,
                            stop=lambda _, velocity: np.linalg.norm(velocity) <= gtol)
    return Flow(trajectory.t, trajectory.y, converged=trajectory.stopped)


def _scalar_gradient(p: float, q: float):
    """A fast scalar version of :func:`canonical_gradient` (math module, no array overhead)
    for the ODE right-hand sides; returns ``grad(e, w, b) -> (dL/de, dL/dw, dL/db)``."""
    pi0, pi1 = q / (p + q), p / (p + q)

    def grad(e: float, w: float, b: float):
        e2, wabs = e * e, abs(w)
        f0 = b - e2 / 2
        f1 = f0 + e2 * (1 + 2 * w * wabs)
        g0 = pi0 * (0.5 * (1 + math.tanh(0.5 * f0)) - p)
        g1 = pi1 * (0.5 * (1 + math.tanh(0.5 * f1)) - (1 - q))
        return -e * g0 + e * (1 + 4 * w * wabs) * g1, 4 * e2 * wabs * g1, g0 + g1

    return grad


def _check_flow_limits(t_max, gtol, max_steps) -> None:
    check_finite("t_max", t_max)
    check_finite("gtol", gtol)
    if t_max <= 0:
        raise InputError("t_max", t_max, "a positive flow time")
    if gtol < 0:
        raise InputError("gtol", gtol, "a gradient tolerance >= 0 (0: run to t_max)")
    check_int("max_steps", max_steps, 1, 10 * FLOW_MAX_STEPS)


def joint_flow(p: float, q: float, e0: float, w0: float, b0: float = 0.0,
               t_max: float = 1e6, gtol: float = 1e-9,
               max_steps: int = FLOW_MAX_STEPS) -> Flow:
    """Gradient flow :math:`\\dot\\theta = -\\nabla L(\\theta)` of all three parameters from
    ``(e0, w0, b0)`` until :math:`|\\nabla L| \\le` ``gtol`` or ``t_max`` (Dormand--Prince,
    rtol 1e-10). At most ``max_steps`` accepted steps (default :data:`FLOW_MAX_STEPS`, at most
    ten times that): a flow that needs more (a stiff flow from a far start) raises
    :class:`NumericalFailure` instead of running for minutes."""
    check_chain(p, q)
    for name, value in (("e0", e0), ("w0", w0), ("b0", b0)):
        check_finite(name, value)
    _check_flow_limits(t_max, gtol, max_steps)
    grad = _scalar_gradient(p, q)
    return _integrate(lambda th: -np.array(grad(*th)), (e0, w0, b0), t_max, gtol, max_steps)


def profiled_flow(p: float, q: float, e0: float, w0: float,
                  t_max: float = 1e6, gtol: float = 1e-9,
                  max_steps: int = FLOW_MAX_STEPS) -> Flow:
    """Gradient flow of the profiled loss :math:`L^*(e, w)` (b kept at :math:`b^*(e, w)`; by the
    envelope theorem its gradient is the partial gradient at ``b*``). The energy is exactly
    conserved along it (P2). At most ``max_steps`` accepted steps, as :func:`joint_flow`."""
    check_chain(p, q)
    check_finite("e0", e0)
    check_finite("w0", w0)
    _check_flow_limits(t_max, gtol, max_steps)
    grad = _scalar_gradient(p, q)

    def rhs(th):
        de, dw, _ = grad(th[0], th[1], float(optimal_bias(p, q, th[0], th[1])))
        return -np.array((de, dw))

    return _integrate(rhs, (e0, w0), t_max, gtol, max_steps)


def basin_labels(p: float, q: float, e, w, band: float = 0.0) -> np.ndarray:
    """Predicted end of the gradient flow from ``(e, w)`` (P2, Sec. 3), vectorised:
    ``1`` global minima, ``0`` unigram (local) line, ``-1`` boundary.

    ``e = 0`` stays on the unigram line (label 0, loss H(pi)). Points with
    :math:`|E - E^*| \\le` ``band`` in the part of the plane the separatrix crosses are labelled
    boundary; ``band = 0`` labels only the separatrix itself. At p+q = 1 every end point has the
    global loss (label 1).
    """
    check_chain(p, q)
    check_finite("band", band)
    e, w = _real_arrays(e=e, w=w)
    _check_broadcast((e, w), 10, "e, w")
    e, w = np.broadcast_arrays(e, w)
    if regime(p, q) == "p+q=1":
        return np.ones(e.shape, dtype=int)
    gap = _energy_raw(e, w) - SADDLE_ENERGY
    if regime(p, q) == "p+q>1":
        crossed = (w >= -SQRT_HALF) & (w < 0)
        label = np.where(w >= 0, 0, np.where(w < -SQRT_HALF, 1, np.where(gap > 0, 1, 0)))
    else:
        crossed = w < -SQRT_HALF
        label = np.where(crossed & (gap < 0), 0, 1)
    label = np.where(crossed & (np.abs(gap) <= band), -1, label)
    return np.where(e == 0, 0, label)


BASIN_NAMES = {1: "global", 0: "local", -1: "boundary"}


def end_state(p: float, q: float, loss: float, tol: float | None = None) -> str:
    """``"global"`` when ``loss`` is within ``tol`` of H(P), ``"local"`` when within ``tol`` of
    H(pi) (and not of H(P)), else ``"neither"``. The default ``tol`` is
    ``min(0.01, max((H(pi) - H(P))/3, 0.001))`` nats: a third of the gap between the levels, at
    most 0.01, and at least 0.001 for sampled training losses (when the gap is that small, H(P)
    is checked first and wins)."""
    summary = chain_summary(p, q)
    check_finite("loss", loss)
    if tol is None:
        tol = min(0.01, max(summary.mutual_information / 3, 0.001))
    check_finite("tol", tol)
    if abs(loss - summary.entropy_rate) <= tol:
        return "global"
    if abs(loss - summary.unigram_entropy) <= tol:
        return "local"
    return "neither"


def basin_query(p: float, q: float, e0: float, w0: float, b0: float = 0.0) -> BasinQuery:
    """Prediction and joint-flow end point from ``(e0, w0, b0)`` (P2, Sec. 3; the ``ttc markov
    basin`` keys). ``e0, w0, b0``: finite reals (:data:`INITIAL_VALUE`); the flow is bounded by
    :data:`FLOW_MAX_STEPS` steps (:class:`NumericalFailure` beyond, e.g. from ``b0 = 1e10``)."""
    check_chain(p, q)
    e0 = INITIAL_VALUE.check("e0", e0)
    w0 = INITIAL_VALUE.check("w0", w0)
    b0 = INITIAL_VALUE.check("b0", b0)
    label = int(basin_labels(p, q, e0, w0)[()])
    try:
        flow = joint_flow(p, q, e0, w0, b0)
    except NumericalFailure as exc:
        raise NumericalFailure(f"the joint flow from (e, w, b) = ({e0}, {w0}, {b0}) failed: "
                               f"{exc}") from None
    if not flow.converged:
        raise NumericalFailure(f"the joint flow from (e, w, b) = ({e0}, {w0}, {b0}) did not reach "
                               f"|grad L| <= 1e-9 by t = 1e6")
    e1, w1, b1 = (float(x) for x in flow.end)
    energy0 = float(energy(e0, w0)) if w0 != 0 else None
    return BasinQuery(predicted=BASIN_NAMES[label], energy=energy0,
                      separatrix_energy=SADDLE_ENERGY,
                      flow_end=CanonicalPoint(e=e1, w=w1, b=b1,
                                              loss=float(canonical_loss(p, q, e1, w1, b1))))


def gradient_descent_ends(p: float, q: float, e0, w0, b0=None, lr: float | None = None,
                          steps: int = 4000, fraction: float = 0.2,
                          profiled: bool = False) -> DescentEnds:
    """Gradient descent on all three parameters from many initialisations at once (P2, Sec. 3).

    ``e0, w0`` (and ``b0``; default the optimal bias :math:`b^*(e_0, w_0)`) broadcast to one
    shape; returns the end points ``e, w, b`` and their ``loss``, arrays of that shape.

    With a fixed ``lr`` this is plain gradient descent. With ``lr=None`` (default) each point
    takes the step :math:`\\eta = \\min(0.8,\\ \\phi / r)` with
    :math:`r = \\max(|\\partial_e L / e|, |\\partial_w L / w|, 1/4)` and :math:`\\phi` =
    ``fraction``: no step moves ``e`` or ``w`` by more than ``fraction`` of its value, so the
    iterates follow the gradient flow (whose signs of ``e`` and ``w`` never change) instead of
    jumping across the invariant lines where the loss is steep. (1/4 bounds the curvature in b.)

    ``profiled=True`` descends the profiled loss :math:`L^*(e, w)`: ``b`` is reset to
    :math:`b^*(e, w)` before every step (the discrete version of :func:`profiled_flow`).
    """
    check_chain(p, q)
    DESCENT_STEPS.check("steps", steps)
    if lr is not None:
        LEARNING_RATE.check("lr", lr)
    STEP_FRACTION.check("fraction", fraction)
    e0, w0 = _real_arrays(e0=e0, w0=w0)
    arrays = (e0, w0) if b0 is None else (e0, w0, *_real_arrays(b0=b0))
    _check_broadcast(arrays, 16, "e0, w0, b0")
    e, w = (np.array(x, dtype=float) for x in np.broadcast_arrays(e0, w0))
    b = (_optimal_bias_raw(p, q, e, w) if b0 is None
         else np.broadcast_to(b0, e.shape).astype(float))
    with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported below
        for _ in range(steps):
            if profiled:
                b = _optimal_bias_raw(p, q, e, w)
            g = _gradient_raw(p, q, e, w, b)
            if lr is None:
                with np.errstate(divide="ignore", invalid="ignore"):
                    rate = np.fmax(np.abs(g[..., 0] / e), np.abs(g[..., 1] / w))
                step = np.minimum(0.8, fraction / np.fmax(rate, 0.25))
            else:
                step = lr
            e -= step * g[..., 0]
            w -= step * g[..., 1]
            b -= step * g[..., 2]
        loss = _loss_raw(p, q, e, w, b)
    if not (np.all(np.isfinite(e)) and np.all(np.isfinite(w)) and np.all(np.isfinite(b))
            and np.all(np.isfinite(loss))):
        raise NumericalFailure(f"gradient descent diverged (lr={lr})")
    return DescentEnds(e=e, w=w, b=b, loss=loss)


def global_curve_points(p: float, q: float, w) -> np.ndarray:
    """``e >= 0`` on the global-minimum curve :math:`e^2 = C/(1 + 2w|w|)` at each ``w``
    (NaN where the curve has no point with that ``w``)."""
    w = np.asarray(w, dtype=float)
    ratio = global_curve_constant(p, q) / (1 + 2 * w * np.abs(w))
    with np.errstate(invalid="ignore"):
        return np.where(ratio > 0, np.sqrt(np.where(ratio > 0, ratio, 0.0)), np.nan)


def landscape(p: float, q: float, e_range=(-2.0, 2.0), w_range=(-2.0, 1.5),
              n: int = 400) -> Landscape:
    """The canonical landscape with ``b`` profiled, on an ``n x n`` grid (rows: ``w``, columns:
    ``e``; P2, Sec. 3, Figs. 2-3): ``loss`` (profiled), ``energy``, ``basin`` (labels of
    :func:`basin_labels`), the unigram line's curvature along ``e`` at each ``w``, and the
    global curve ``e(w)``."""
    check_chain(p, q)
    GRID.check("n", n)
    for name, pair in (("e_range", e_range), ("w_range", w_range)):
        (lo_hi,) = _real_arrays(**{name: pair})
        if lo_hi.shape != (2,) or not lo_hi[0] < lo_hi[1]:
            raise InputError(name, pair, "a pair (low, high) of finite reals with low < high")
    e = np.linspace(*e_range, n)
    w = np.linspace(*w_range, n)
    E, W = np.meshgrid(e, w)
    return Landscape(e=e, w=w, loss=profiled_loss(p, q, E, W), energy=_energy_raw(E, W),
                     basin=basin_labels(p, q, E, W),
                     unigram_curvature=unigram_curvature(p, q, w),
                     global_curve_e=global_curve_points(p, q, w))


def search_critical_points(p: float, q: float, starts: int = 200, seed: int = 0,
                           box=((-2.5, 2.5), (-2.5, 2.5), (-4.0, 4.0))) -> list[CriticalPoint]:
    """Multi-start root finding of the gradient over a box in ``(e, w, b)`` (seeded; P2, Sec. 3),
    each stationary point assigned to its family: ``"unigram line"`` (``|e| < 1e-6``),
    ``"global minima"`` (``|u - C| < 1e-6``) or ``"other"`` (a point outside the three
    families: the search would have found a counterexample to P2's classification)."""
    from numerics.shared.stationary import find_stationary_points

    check_chain(p, q)
    STARTS.check("starts", starts)
    SEED.check("seed", seed)
    (bounds,) = _real_arrays(box=box)
    if bounds.shape != (3, 2) or not np.all(bounds[:, 0] < bounds[:, 1]):
        raise InputError("box", box, "three pairs (low, high) of finite reals with low < high")
    lower, upper = np.array(box, dtype=float).T
    points = find_stationary_points(
        lambda th: _gradient_raw(p, q, *th), lambda th: _hessian_raw(p, q, *th),
        lower, upper, starts=starts, seed=seed, merge_distance=1e-4)
    C = global_curve_constant(p, q)
    found = []
    for point in points:
        e, w, b = point.x
        u = e * e * (1 + 2 * w * abs(w))
        family = ("unigram line" if abs(e) < 1e-6 else
                  "global minima" if abs(u - C) < 1e-6 else "other")
        found.append(CriticalPoint(e=e, w=w, b=b, family=family, kind=point.kind,
                                   gradient_norm=point.gradient_norm,
                                   loss=float(_loss_raw(p, q, e, w, b))))
    return found

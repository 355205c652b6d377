"""Replica generalisation curves of the library's reference scenarios R1 and R2, in numpy/scipy.

Scenario origin (spec Sec. 13; :data:`SCENARIO_ORIGINS`, JSON key ``scenario_origin``): the
paper's replica set-up is not fully specified in what we could read. **R2-correlated** (ridge
regression of one site of a Gaussianised Potts model with GOE precision, :func:`goe_precision_model`,
:func:`ridge_deterministic_equivalent`) is the library's *reconstruction (probable paper
scenario)*; **R1** (logistic), **R2-isotropic** (:func:`r2_curve`) and the softmax channel
(:mod:`numerics.potts.softmax_channel`) are *library extensions*. None of their numbers is
attributed to the paper. The equations are derived in
:mod:`theory.potts` (``r1_channel``, ``ridge_prior_equations``, ``r2_closed_form``). Both curves
are returned as one type, :class:`ReplicaCurve`.

Order parameters: ``m = w.w*/N``, ``q = |w|^2/N``, ``V`` and conjugates ``mhat, qhat, Vhat``;
``rho = |w*|^2/N``; ``alpha = M/N``; ridge penalty ``lam``.

- R1 (logistic teacher, Gaussian inputs, logistic loss): :func:`r1_curve` solves the saddle-point
  equations by damped fixed-point iteration with continuation in alpha (Gauss-Hermite quadrature,
  Newton for the prox) and polishes each point with a root finder.
- R2 (square loss): :func:`r2_curve` evaluates the closed form; :func:`ridge_deterministic_equivalent`
  the test error of ridge regression of one site on the others in a correlated Gaussian model.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.polynomial.hermite_e import hermegauss
from scipy.optimize import brentq, root
from scipy.special import expit, log_expit

from numbers import Real

from numerics.potts.domains import (ALPHA, DELTA, MAX_ALPHAS, QUADRATURE, REPLICA_LAMBDA, RHO,
                                    check_memory, check_work)
from numerics.shared.seeding import as_generator
from theory.domains import FINITE, POSITIVE, integer, real
from theory.errors import InputError, NumericalFailure, check_int
from theory.results import result

#: The origin label of every replica scenario (spec Sec. 13), as reported in docstrings, claim rows
#: and the ``scenario_origin`` key of the JSON output.
SCENARIO_ORIGINS = {"R1": "library extension", "R2-isotropic": "library extension",
                    "R2-correlated": "reconstruction (probable paper scenario)",
                    "softmax": "library extension"}


def _check_positive(name: str, value) -> None:
    POSITIVE.check(name, value)


def check_alphas(alphas) -> np.ndarray:
    """``alphas`` (a number, a list or a 1-d real array) as a float array: at most
    :data:`~numerics.potts.domains.MAX_ALPHAS` values, each in the domain ``ALPHA``; strings and
    bools are refused (never converted)."""
    expected = f"a non-empty list of at most {MAX_ALPHAS} numbers in {ALPHA.describe()}"
    if isinstance(alphas, np.ndarray):
        if alphas.dtype.kind not in "iuf" or alphas.ndim > 1:
            raise InputError("alpha", f"array of shape {alphas.shape} and dtype {alphas.dtype}",
                             expected)
        values = alphas.ravel().tolist()
    elif isinstance(alphas, (list, tuple)):
        values = list(alphas)
    else:
        values = [alphas]
    if not values or len(values) > MAX_ALPHAS:
        raise InputError("alpha", f"<{len(values)} values>", expected)
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (Real, np.integer, np.floating)):
            raise InputError("alpha", v if isinstance(v, str) and len(v) < 60 else
                             f"<{type(v).__name__}>", expected)
        ALPHA.check("alpha", float(v))
    return np.array([float(v) for v in values], dtype=float)


def _finite_or_fail(what: str, **values) -> None:
    """:class:`NumericalFailure` naming the first non-finite value (nothing non-finite is
    returned)."""
    for name, value in values.items():
        if value is not None and not np.all(np.isfinite(value)):
            raise NumericalFailure(f"{what}: {name} is not finite (the parameters are beyond "
                                   "what float64 resolves)")


@result
class GaussHermiteRule:
    """A Gauss-Hermite rule for the standard Gaussian,
    :math:`E_{\\xi\\sim N(0,1)} f(\\xi) \\approx \\sum_k w_k f(x_k)`; see :func:`gauss_hermite`.

    Attributes
    ----------
    nodes : numpy.ndarray, (n,)
        :math:`x_k`.
    weights : numpy.ndarray, (n,)
        :math:`w_k`, summing to 1.
    """

    nodes: np.ndarray
    weights: np.ndarray


def gauss_hermite(n: int = 61) -> GaussHermiteRule:
    """The ``n``-point Gauss-Hermite rule (probabilists' Hermite polynomials) for
    :math:`E_{\\xi\\sim N(0,1)} f(\\xi) \\approx \\sum_k w_k f(x_k)`. ``n`` in
    :data:`~numerics.potts.domains.QUADRATURE` ([2, 201])."""
    QUADRATURE.check("quadrature", n)
    x, w = hermegauss(n)
    return GaussHermiteRule(x, w / math.sqrt(2 * math.pi))


@result
class PairQuadrature:
    """The product Gauss-Hermite rule over two independent standard Gaussians :math:`(\\xi, u)`,
    flattened, with the nodes also stacked for both labels :math:`y = \\pm1` (the R1 channel sums
    over y); see :func:`pair_quadrature`.

    Attributes
    ----------
    xi, u : numpy.ndarray, (n**2,)
        Nodes of :math:`\\xi` and :math:`u`.
    w : numpy.ndarray, (n**2,)
        Product weights, summing to 1.
    y2 : numpy.ndarray, (2 n**2,)
        The label of each stacked node: +1 for the first n**2, -1 for the rest.
    w2 : numpy.ndarray, (2 n**2,)
        ``w`` repeated for both labels.
    """

    xi: np.ndarray
    u: np.ndarray
    w: np.ndarray
    y2: np.ndarray
    w2: np.ndarray


def pair_quadrature(n: int) -> PairQuadrature:
    """The :class:`PairQuadrature` with ``n`` Gauss-Hermite nodes per axis."""
    rule = gauss_hermite(n)
    XI, UU = np.meshgrid(rule.nodes, rule.nodes, indexing="ij")
    w = np.outer(rule.weights, rule.weights).ravel()
    m = len(w)
    return PairQuadrature(XI.ravel(), UU.ravel(), w, np.concatenate([np.ones(m), -np.ones(m)]),
                          np.concatenate([w, w]))


# ----------------------------------------------------------------------------------------------
# R1


def logistic_prox(y, omega, V, iters: int = 100, tol: float = 1e-12) -> np.ndarray:
    """:math:`\\mathrm{Prox}(y,\\omega,V) = \\arg\\min_x (x-\\omega)^2/(2V) + \\log(1+e^{-yx})`,
    i.e. the root of :math:`g(x) = x - \\omega - V y \\sigma(-yx)`, by Newton safeguarded with
    bisection (vectorised). ``g`` is strictly increasing and changes sign between ``omega`` and
    ``omega + V y``, so the bracket always holds the unique root. Raises NumericalFailure if the
    bracket has not shrunk below ``tol`` after ``iters`` steps. ``V`` > 0, ``y`` and ``omega``
    finite real arrays (broadcast together), ``iters`` in [1, 10^4], ``tol`` in (0, 1)."""
    POSITIVE.check("V", V)
    integer(1, 10**4).check("iters", iters)
    real(0, 1, low_open=True, high_open=True).check("tol", tol)
    try:
        y, omega = np.broadcast_arrays(np.asarray(y), np.asarray(omega))
    except ValueError:
        raise InputError("y, omega", "arrays of incompatible shapes", "broadcastable arrays") \
            from None
    for name, arr in (("y", y), ("omega", omega)):
        if arr.dtype.kind not in "iuf" or not np.all(np.isfinite(arr)):
            raise InputError(name, f"array of dtype {arr.dtype}", "finite real numbers")
    check_memory("omega", f"array of shape {omega.shape}", 8.0 * 16 * omega.size)
    y, omega = y.astype(float), omega.astype(float)
    lo = np.minimum(omega, omega + V * y)
    hi = np.maximum(omega, omega + V * y)
    x = omega.copy()

    def gfun(t):
        return t - omega - V * y * expit(-y * t)

    g = gfun(x)
    scale = 1 + np.abs(omega) + V  # size of the terms of g: its rounding noise is ~1e-16 of this
    for _ in range(iters):
        lo = np.where(g < 0, x, lo)
        hi = np.where(g > 0, x, hi)
        sg = expit(-y * x)
        newton = x - g / (1 + V * sg * (1 - sg))
        newton = np.where((newton >= lo) & (newton <= hi), newton, 0.5 * (lo + hi))
        g_new = gfun(newton)
        # keep Newton where it decreased |g|; bisect elsewhere
        bad = (np.abs(g_new) >= np.abs(g)) & (np.abs(g) > tol * scale)
        if np.any(bad):
            mid = 0.5 * (lo + hi)
            newton = np.where(bad, mid, newton)
            g_new = np.where(bad, gfun(mid), g_new)
        step = np.abs(newton - x)
        x, g = newton, g_new
        if np.all((step <= tol * scale) | (np.abs(g) <= tol * scale)):
            return x
    raise NumericalFailure(f"logistic prox: no convergence in {iters} iterations "
                           f"(last step {np.max(step):.3g})")


@result
class R1Point:
    """The R1 saddle point at one ``alpha`` (scenario origin: library extension); see
    :func:`r1_point`.

    Attributes
    ----------
    alpha : float
        Samples per parameter, M/N.
    m, q, V : float
        Order parameters :math:`w\\cdot w^*/N`, :math:`|w|^2/N` and :math:`V`.
    mhat, qhat, Vhat : float
        Their conjugates.
    eps_J : float
        Coupling error :math:`(\\rho - 2m + q)/\\rho`.
    test_ce : float
        Test MLM cross-entropy :math:`E\\sum_y\\sigma(yz^*)\\log(1 + e^{-yz})` (nats).
    train_loss : float
        Training loss per sample at the saddle point (nats).
    iterations : int
        Damped fixed-point iterations.
    residual : float
        :math:`\\max|T(x) - x|/\\max(1, \\max|x|)` at the returned point.
    """

    alpha: float
    m: float
    q: float
    V: float
    mhat: float
    qhat: float
    Vhat: float
    eps_J: float
    test_ce: float
    train_loss: float
    iterations: int
    residual: float


def _r1_hats(m, q, V, alpha, rho, Q: PairQuadrature):
    """Channel update: (mhat, qhat, Vhat) from (m, q, V) (theory.potts.r1_channel); both labels
    y = +1, -1 are handled in one vectorised prox solve (stacked nodes)."""
    sq = math.sqrt(q)
    vstar = max(rho - m * m / q, 0.0)
    omega = sq * Q.xi
    zstar = (m / sq) * Q.xi + math.sqrt(vstar) * Q.u
    omega2 = np.concatenate([omega, omega])
    x = logistic_prox(Q.y2, omega2, V)
    f = (x - omega2) / V
    s = expit(x)
    dprox = 1.0 / (1.0 + V * s * (1 - s))
    zz = np.concatenate([zstar, zstar])
    py = expit(Q.y2 * zz)
    dsig = expit(zz) * expit(-zz)
    w2 = Q.w2
    mh = np.sum(w2 * Q.y2 * dsig * f)
    qh = np.sum(w2 * py * f * f)
    vh = np.sum(w2 * py * (1 - dprox)) / V
    return alpha * mh, alpha * qh, alpha * vh


def _prior(mh, qh, vh, lam, rho):
    V = 1.0 / (lam + vh)
    return rho * mh * V, (rho * mh * mh + qh) * V * V, V


def _r1_map(state, alpha, lam, rho, Q):
    m, q, V = state
    with np.errstate(all="ignore"):  # an overflow is caught by _finite_or_fail, not warned
        return np.array(_prior(*_r1_hats(m, q, V, alpha, rho, Q), lam, rho))


def gaussian_pair_expectation(fn, rho, m, q, Q: PairQuadrature):
    """:math:`E f(z^*, z)` with :math:`(z^*, z)\\sim N(0, [[\\rho, m],[m, q]])` by the quadrature ``Q``
    (``fn`` vectorised over its two array arguments)."""
    sq = math.sqrt(q)
    z = sq * Q.xi
    zstar = (m / sq) * Q.xi + math.sqrt(max(rho - m * m / q, 0.0)) * Q.u
    return float(np.sum(Q.w * fn(zstar, z)))


def r1_test_ce(rho, m, q, Q: PairQuadrature) -> float:
    """Test MLM cross-entropy :math:`E\\sum_y \\sigma(yz^*)\\log(1 + e^{-yz})`."""
    return gaussian_pair_expectation(
        lambda zs, z: -(expit(zs) * log_expit(z) + expit(-zs) * log_expit(-z)), rho, m, q, Q)


def bayes_floor(rho: float, n: int = 201) -> float:
    """:math:`E_{z^*\\sim N(0,\\rho)} h(\\sigma(z^*))`, h the binary entropy (0.59944 at rho = 1).
    ``rho`` in :data:`~numerics.potts.domains.RHO`, ``n`` Gauss-Hermite nodes in [2, 201]."""
    RHO.check("rho", rho)
    rule = gauss_hermite(n)
    z = math.sqrt(rho) * rule.nodes
    s = expit(z)
    return float(np.sum(rule.weights * -(s * log_expit(z) + (1 - s) * log_expit(-z))))


def r1_point(alpha, lam, rho=1.0, *, init=None, quadrature: int | PairQuadrature = 61,
             damping: float = 0.9, max_iter: int = 5000, tol: float = 1e-8) -> R1Point:
    """Solve R1 at one ``alpha``: damped fixed point of :math:`T` (the channel update of
    :func:`theory.potts.r1_channel` followed by :func:`theory.potts.ridge_prior_equations`) from
    ``init`` (m, q, V), then ``scipy.optimize.root`` on ``T(x) - x``. ``quadrature``: Gauss-Hermite
    nodes per axis, or a :class:`PairQuadrature` to reuse. ``residual`` is
    :math:`\\max|T(x) - x| / \\max(1, \\max|x|)`; raises :class:`NumericalFailure` if it exceeds
    ``tol``. Domains: ``alpha``, ``lam``, ``rho`` as declared in :mod:`numerics.potts.domains`,
    ``damping`` in (0, 1], ``max_iter`` in [1, 10^5], ``tol`` in (0, 1)."""
    ALPHA.check("alpha", alpha)
    REPLICA_LAMBDA.check("lam", lam)
    RHO.check("rho", rho)
    real(0, 1, low_open=True).check("damping", damping)
    integer(1, 10**5).check("max_iter", max_iter)
    real(0, 1, low_open=True, high_open=True).check("tol", tol)
    if init is not None:
        if len(np.shape(init)) != 1 or np.shape(init)[0] != 3:
            raise InputError("init", init, "(m, q, V): three finite numbers with q > 0, V > 0")
        for name, v in zip(("m", "q", "V"), init):
            (FINITE if name == "m" else POSITIVE).check(f"init {name}", v)
    Q = quadrature if isinstance(quadrature, PairQuadrature) else pair_quadrature(quadrature)
    x = np.array(init if init is not None else (0.1 * rho, 0.1 * rho + 1e-3, 1.0 / (lam + 1.0)), float)
    it = 0
    for it in range(1, max_iter + 1):
        new = _r1_map(x, alpha, lam, rho, Q)
        if not np.all(np.isfinite(new)) or new[1] <= 0 or new[2] <= 0:
            raise NumericalFailure(f"R1 fixed point left the domain at alpha={alpha}: {new}")
        diff = np.max(np.abs(new - x))
        x = damping * new + (1 - damping) * x
        if diff < 1e-9 * max(1.0, np.max(np.abs(x))):
            break

    def residual(v):  # relative to the size of the order parameters
        return float(np.max(np.abs(_r1_map(v, alpha, lam, rho, Q) - v)) / max(1.0, np.max(np.abs(v))))

    polished = root(lambda v: _r1_map(v, alpha, lam, rho, Q) - v, x, method="hybr", options={"xtol": 1e-13})
    cand, resid = x, residual(x)
    if polished.success and polished.x[1] > 0 and polished.x[2] > 0:
        r_pol = residual(polished.x)
        if r_pol < resid:
            cand, resid = polished.x, r_pol
    if not np.isfinite(resid) or resid > tol:
        raise NumericalFailure(f"R1 did not converge at alpha={alpha}: residual {resid:.3g}")
    m, q, V = cand
    mh, qh, vh = _r1_hats(m, q, V, alpha, rho, Q)
    train = _r1_train_loss(m, q, V, rho, Q)
    _finite_or_fail(f"R1 at alpha={alpha}", m=m, q=q, V=V, mhat=mh, qhat=qh, Vhat=vh,
                    train_loss=train)
    return R1Point(float(alpha), float(m), float(q), float(V), float(mh), float(qh), float(vh),
                   float((rho - 2 * m + q) / rho), r1_test_ce(rho, m, q, Q), train, it, resid)


def _r1_train_loss(m, q, V, rho, Q) -> float:
    """Training loss per sample :math:`E\\sum_y \\sigma(yz^*)\\ell(y, \\mathrm{Prox}(y,\\omega,V))`."""
    sq = math.sqrt(q)
    omega = sq * Q.xi
    zstar = (m / sq) * Q.xi + math.sqrt(max(rho - m * m / q, 0.0)) * Q.u
    total = 0.0
    for y in (1.0, -1.0):
        x = logistic_prox(y, omega, V)
        total += np.sum(Q.w * expit(y * zstar) * -log_expit(y * x))
    return float(total)


@result
class ReplicaCurve:
    """A replica generalisation curve of either reference scenario (both library extensions, spec
    Sec. 13): R1 from :func:`r1_curve`, R2-isotropic from :func:`r2_curve`. Every array has shape (n,), one entry per ``alpha`` in the order given;
    fields that do not apply to a scenario are None.

    Attributes
    ----------
    scenario : str
        ``"R1"`` (logistic teacher and loss) or ``"R2"`` (square loss, closed form).
    alpha : numpy.ndarray
        Samples per parameter, M/N.
    m, q, V : numpy.ndarray
        Order parameters :math:`w\\cdot w^*/N`, :math:`|w|^2/N` and :math:`V`.
    mhat, qhat, Vhat : numpy.ndarray
        Their conjugates.
    e : numpy.ndarray
        :math:`\\rho - 2m + q`, the squared distance to the teacher per parameter.
    eps_J : numpy.ndarray
        Coupling error :math:`e/\\rho`.
    test_ce : numpy.ndarray or None
        R1: test MLM cross-entropy (nats).
    train_loss : numpy.ndarray or None
        R1: training loss per sample (nats).
    iterations : numpy.ndarray of int, or None
        R1: damped fixed-point iterations per point.
    residual : numpy.ndarray or None
        R1: relative fixed-point residual per point.
    kappa : numpy.ndarray or None
        R2: :math:`\\alpha V/(1+V)`.
    test_mse : numpy.ndarray or None
        R2: test mean squared error :math:`\\Delta + e`.
    scenario_origin : str
        ``"library extension"`` for R1 and R2-isotropic (spec Sec. 13, :data:`SCENARIO_ORIGINS`).
    """

    scenario: str
    alpha: np.ndarray
    m: np.ndarray
    q: np.ndarray
    V: np.ndarray
    mhat: np.ndarray
    qhat: np.ndarray
    Vhat: np.ndarray
    e: np.ndarray
    eps_J: np.ndarray
    test_ce: np.ndarray | None = None
    train_loss: np.ndarray | None = None
    iterations: np.ndarray | None = None
    residual: np.ndarray | None = None
    kappa: np.ndarray | None = None
    test_mse: np.ndarray | None = None
    scenario_origin: str = "library extension"


def r1_curve(alphas, lam, rho: float = 1.0, quadrature: int = 61) -> ReplicaCurve:
    """R1 (scenario origin: library extension) over ``alphas`` with continuation: points are solved in increasing alpha, each started from
    the previous solution (:func:`r1_point`); results are returned in the order given."""
    a = check_alphas(alphas)
    REPLICA_LAMBDA.check("lam", lam)
    RHO.check("rho", rho)
    Q = pair_quadrature(quadrature)
    order = np.argsort(a)
    sol, state = {}, None
    for k in order:
        p = r1_point(float(a[k]), lam, rho, init=state, quadrature=Q)
        state = (p.m, p.q, p.V)
        sol[k] = p
    points = [sol[k] for k in range(len(a))]

    def column(name):
        return np.array([getattr(p, name) for p in points])

    m, q = column("m"), column("q")
    _finite_or_fail("R1 curve", eps_J=column("eps_J"), test_ce=column("test_ce"),
                    e=rho - 2 * m + q)
    return ReplicaCurve("R1", column("alpha"), m, q, column("V"), column("mhat"), column("qhat"),
                        column("Vhat"), rho - 2 * m + q, column("eps_J"), test_ce=column("test_ce"),
                        train_loss=column("train_loss"), iterations=column("iterations"),
                        residual=column("residual"))


# ----------------------------------------------------------------------------------------------
# R2


def r2_curve(alphas, lam, rho: float = 1.0, delta: float = 0.5) -> ReplicaCurve:
    """R2-isotropic (scenario origin: library extension) closed form
    (:func:`theory.potts.r2_closed_form`), vectorised over ``alphas``, with the
    conjugates of :func:`theory.potts.r2_channel`: :math:`V` the positive root of
    :math:`\\lambda V^2 + (\\lambda + \\alpha - 1)V - 1 = 0`, :math:`\\kappa = \\alpha V/(1+V)`,
    :math:`e = [\\rho(1-\\kappa)^2 + \\kappa^2\\Delta/\\alpha]/(1 - \\kappa^2/\\alpha)`,
    :math:`m = \\rho\\kappa`, test MSE :math:`\\Delta + e`. ``lam`` > 0, ``delta`` = :math:`\\Delta`."""
    a = check_alphas(alphas)
    REPLICA_LAMBDA.check("lam", lam)
    RHO.check("rho", rho)
    DELTA.check("delta", delta)
    with np.errstate(all="ignore"):  # non-finite values are refused by _finite_or_fail below
        B = lam + a - 1
        V = 2.0 / (B + np.sqrt(B * B + 4 * lam))
        kappa = a * V / (1 + V)
        e = (rho * (1 - kappa) ** 2 + kappa**2 * delta / a) / (1 - kappa**2 / a)
        m = rho * kappa
        q = e - rho + 2 * m
        hat = a / (1 + V)
    _finite_or_fail("R2 closed form", V=V, e=e, m=m, q=q, test_mse=delta + e)
    if np.any(1 - kappa**2 / a <= 0):
        raise NumericalFailure("R2 closed form: 1 - kappa^2/alpha is not positive (lam too small "
                               "for float64 at alpha = 1)")
    return ReplicaCurve("R2", a, m, q, V, hat, a * (rho - 2 * m + q + delta) / (1 + V) ** 2, hat,
                        e, e / rho, kappa=kappa, test_mse=delta + e)


@result
class RidgeEquivalent:
    """Deterministic equivalent of ridge regression with correlated Gaussian inputs; see
    :func:`ridge_deterministic_equivalent`.

    Attributes
    ----------
    kappa : float
        The effective regularisation :math:`\\kappa` (solution of the fixed-point equation).
    test_mse : float
        Predicted test mean squared error.
    excess : float
        ``test_mse - Delta``.
    """

    kappa: float
    test_mse: float
    excess: float


def ridge_deterministic_equivalent(Sigma, a_star, n: int, lam_r: float, delta: float) -> RidgeEquivalent:
    """R2-correlated (scenario origin: reconstruction (probable paper scenario), spec Sec. 13).
    Deterministic equivalent of ridge :math:`\\min_a \\frac1n\\|y - Xa\\|^2 + \\lambda_r\\|a\\|^2`
    with rows :math:`x\\sim N(0,\\Sigma)`, :math:`y = a^{*T}x + \\sqrt\\Delta\\,\\xi`:

    .. math:: \\kappa = \\lambda_r + \\frac{\\kappa}{n}\\mathrm{tr}\\,\\Sigma(\\Sigma+\\kappa)^{-1},\\qquad
              \\mathrm{MSE} = \\frac{\\Delta + \\kappa^2 a^{*T}\\Sigma(\\Sigma+\\kappa)^{-2}a^*}
                                  {1 - \\frac1n\\mathrm{tr}\\,\\Sigma^2(\\Sigma+\\kappa)^{-2}}.

    ``Sigma`` (d, d) positive definite, ``a_star`` (d,), ``n`` samples, ``lam_r`` = :math:`\\lambda_r`,
    ``delta`` = :math:`\\Delta`."""
    Sigma = np.asarray(Sigma)
    if Sigma.dtype.kind not in "iuf" or Sigma.ndim != 2 or Sigma.shape[0] != Sigma.shape[1] \
            or Sigma.shape[0] < 1 or not np.all(np.isfinite(Sigma)):
        raise InputError("Sigma", f"array of shape {Sigma.shape} and dtype {Sigma.dtype}",
                         "a finite square covariance matrix")
    d = Sigma.shape[0]
    check_memory("Sigma", f"matrix of shape {Sigma.shape}", 8.0 * 6 * d * d)
    check_work("Sigma", f"matrix of shape {Sigma.shape}", 10.0 * d**3, "eigendecomposition")
    Sigma = Sigma.astype(float)
    a_star = np.asarray(a_star)
    if a_star.dtype.kind not in "iuf" or a_star.shape != (d,) or not np.all(np.isfinite(a_star)):
        raise InputError("a_star", f"array of shape {a_star.shape}", f"{d} finite numbers")
    check_int("n", n, 1)
    _check_positive("lam_r", lam_r)
    DELTA.check("delta", delta)
    if np.max(np.abs(Sigma - Sigma.T)) > 1e-10 * max(1.0, float(np.max(np.abs(Sigma)))):
        raise InputError("Sigma", "a non-symmetric matrix", "a symmetric covariance")
    ev, U = np.linalg.eigh(Sigma)
    if ev.min() <= 0:
        raise InputError("Sigma", f"min eigenvalue {ev.min():.3g}", "a positive-definite covariance")
    c = U.T @ np.asarray(a_star, float)

    def fixed(k):
        return k - lam_r - k / n * np.sum(ev / (ev + k))

    hi = lam_r + ev.sum() / n + 1.0
    kappa = brentq(fixed, lam_r, hi, xtol=1e-15)
    num = delta + kappa**2 * np.sum(c * c * ev / (ev + kappa) ** 2)
    den = 1 - np.sum(ev**2 / (ev + kappa) ** 2) / n
    mse = num / den
    _finite_or_fail("deterministic equivalent", kappa=kappa, test_mse=mse)
    if not den > 0:
        raise NumericalFailure(f"deterministic equivalent: denominator {den!r} is not positive")
    return RidgeEquivalent(float(kappa), float(mse), float(mse - delta))


@result
class GOEPrecisionModel:
    """The correlated Gaussian 'Potts' model of R2-correlated (scenario origin: reconstruction
    (probable paper scenario), spec Sec. 13); see
    :func:`goe_precision_model`.

    Attributes
    ----------
    J : numpy.ndarray, (L, L)
        GOE couplings :math:`(G + G^T)/\\sqrt{2L}`, zero diagonal.
    precision : numpy.ndarray, (L, L)
        :math:`\\nu I - J`, positive definite.
    Sigma : numpy.ndarray, (L, L)
        The covariance, the inverse of ``precision``.
    """

    J: np.ndarray
    precision: np.ndarray
    Sigma: np.ndarray


def goe_precision_model(L: int, nu: float = 3.0, seed=0) -> GOEPrecisionModel:
    """Correlated Gaussian 'Potts' of R2: precision :math:`\\nu I - J`, :math:`J = \\Omega/\\sqrt L`
    (GOE, off-diagonal variance 1/L, zero diagonal), ``nu > 2`` so that the precision is positive.
    ``seed``: int or numpy Generator."""
    check_int("L", L, 3)
    check_memory("L", L, 8.0 * 8 * L * L, "GOE couplings, precision and covariance")
    check_work("L", L, 30.0 * L**3, "eigenvalues and inverse")
    real(2, 10**6, low_open=True, note="nu > 2: positive-definite precision").check("nu", nu)
    rng = as_generator(seed)
    G = rng.standard_normal((L, L))
    J = (G + G.T) / math.sqrt(2 * L)
    np.fill_diagonal(J, 0.0)
    prec = nu * np.eye(L) - J
    if np.linalg.eigvalsh(prec).min() <= 0:
        raise NumericalFailure("GOE precision not positive definite; increase nu")
    return GOEPrecisionModel(J, prec, np.linalg.inv(prec))


@result
class SiteRegressionTarget:
    """The ridge problem of one site of a :class:`GOEPrecisionModel`: the Gaussian conditional of
    :math:`x_i` given the other sites; see :func:`site_regression_target`.

    Attributes
    ----------
    Sigma : numpy.ndarray, (L-1, L-1)
        Covariance of the other sites, :math:`\\tilde\\Sigma` (Sigma without row and column i).
    a_star : numpy.ndarray, (L-1,)
        Teacher coefficients :math:`J_{i,-i}/\\nu`.
    Delta : float
        Conditional (noise) variance :math:`1/\\nu`.
    """

    Sigma: np.ndarray
    a_star: np.ndarray
    Delta: float


def site_regression_target(model: GOEPrecisionModel, i: int, nu: float) -> SiteRegressionTarget:
    """For site ``i`` of :func:`goe_precision_model` (built with the same ``nu``): the covariance of
    the other sites, :math:`a^* = J_{i,-i}/\\nu` and :math:`\\Delta = 1/\\nu` (the Gaussian
    conditional of the precision :math:`\\nu I - J`)."""
    if not isinstance(model, GOEPrecisionModel):
        raise InputError("model", f"<{type(model).__name__}>", "a GOEPrecisionModel")
    check_int("i", i, 0, model.J.shape[0] - 1)
    real(2, 10**6, low_open=True, note="nu > 2: positive-definite precision").check("nu", nu)
    keep = np.arange(model.J.shape[0]) != i
    return SiteRegressionTarget(model.Sigma[np.ix_(keep, keep)], model.J[i, keep] / nu, 1.0 / nu)

"""Replica generalisation curves: the library's reference scenarios R1 and R2 (spec Sec. 5).

These scenarios are the library's reconstruction (the paper's replica set-up is not fully specified
in what we could read); their equations are derived in :mod:`theory.potts` (``r1_channel``,
``ridge_prior_equations``, ``r2_closed_form``).

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
from dataclasses import dataclass, field

import numpy as np
from numpy.polynomial.hermite_e import hermegauss
from scipy.optimize import brentq, root
from scipy.special import expit, log_expit

from theory.errors import InputError, NumericalFailure, check_finite, check_int


def _check_positive(name: str, value) -> None:
    check_finite(name, value)
    if value <= 0:
        raise InputError(name, value, "a positive number")


def _check_alphas(alphas) -> np.ndarray:
    a = np.atleast_1d(np.asarray(alphas, dtype=float))
    if a.ndim != 1 or a.size == 0:
        raise InputError("alpha", alphas, "a non-empty list of positive numbers")
    for v in a:
        _check_positive("alpha", float(v))
    return a


def gauss_hermite(n: int = 61) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights of :math:`E_{\\xi\\sim N(0,1)} f(\\xi) \\approx \\sum_k w_k f(x_k)`."""
    check_int("quadrature", n, 2)
    x, w = hermegauss(n)
    return x, w / math.sqrt(2 * math.pi)


# ----------------------------------------------------------------------------------------------
# R1


def logistic_prox(y, omega, V, iters: int = 100, tol: float = 1e-12) -> np.ndarray:
    """:math:`\\mathrm{Prox}(y,\\omega,V) = \\arg\\min_x (x-\\omega)^2/(2V) + \\log(1+e^{-yx})`,
    i.e. the root of :math:`g(x) = x - \\omega - V y \\sigma(-yx)`, by Newton safeguarded with
    bisection (vectorised). ``g`` is strictly increasing and changes sign between ``omega`` and
    ``omega + V y``, so the bracket always holds the unique root. Raises NumericalFailure if the
    bracket has not shrunk below ``tol`` after ``iters`` steps."""
    y, omega = np.broadcast_arrays(np.asarray(y, float), np.asarray(omega, float))
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


@dataclass
class R1Point:
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


@dataclass
class _Quad:
    xi: np.ndarray
    u: np.ndarray
    w: np.ndarray

    def __post_init__(self):
        n = len(self.w)
        self.y2 = np.concatenate([np.ones(n), -np.ones(n)])
        self.w2 = np.concatenate([self.w, self.w])

    @staticmethod
    def omega2(omega):
        return np.concatenate([omega, omega])


def _quad2(n: int) -> _Quad:
    x, w = gauss_hermite(n)
    XI, UU = np.meshgrid(x, x, indexing="ij")
    return _Quad(XI.ravel(), UU.ravel(), np.outer(w, w).ravel())


def _r1_hats(m, q, V, alpha, rho, Q: _Quad):
    """Channel update: (mhat, qhat, Vhat) from (m, q, V) (theory.potts.r1_channel); both labels
    y = +1, -1 are handled in one vectorised prox solve (stacked nodes)."""
    sq = math.sqrt(q)
    vstar = max(rho - m * m / q, 0.0)
    omega = sq * Q.xi
    zstar = (m / sq) * Q.xi + math.sqrt(vstar) * Q.u
    x = logistic_prox(Q.y2, np.concatenate([omega, omega]), V)
    f = (x - Q.omega2(omega)) / V
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
    return np.array(_prior(*_r1_hats(m, q, V, alpha, rho, Q), lam, rho))


def gaussian_pair_expectation(fn, rho, m, q, Q: _Quad):
    """:math:`E f(z^*, z)` with :math:`(z^*, z)\\sim N(0, [[\\rho, m],[m, q]])` by quadrature."""
    sq = math.sqrt(q)
    z = sq * Q.xi
    zstar = (m / sq) * Q.xi + math.sqrt(max(rho - m * m / q, 0.0)) * Q.u
    return float(np.sum(Q.w * fn(zstar, z)))


def r1_test_ce(rho, m, q, Q: _Quad) -> float:
    """Test MLM cross-entropy :math:`E\\sum_y \\sigma(yz^*)\\log(1 + e^{-yz})`."""
    return gaussian_pair_expectation(
        lambda zs, z: -(expit(zs) * log_expit(z) + expit(-zs) * log_expit(-z)), rho, m, q, Q)


def bayes_floor(rho: float, n: int = 201) -> float:
    """:math:`E_{z^*\\sim N(0,\\rho)} h(\\sigma(z^*))`, h the binary entropy (0.59944 at rho = 1)."""
    _check_positive("rho", rho)
    x, w = gauss_hermite(n)
    z = math.sqrt(rho) * x
    s = expit(z)
    return float(np.sum(w * -(s * log_expit(z) + (1 - s) * log_expit(-z))))


def r1_point(alpha, lam, rho=1.0, *, init=None, quadrature: int = 61, damping: float = 0.9,
             max_iter: int = 5000, tol: float = 1e-8, _Q: _Quad | None = None) -> R1Point:
    """Solve R1 at one ``alpha``: damped fixed point from ``init`` (m, q, V), then ``scipy.optimize.root``
    on ``T(x) - x``. ``residual`` is :math:`\\max|T(x) - x| / \\max(1, \\max|x|)`; raises
    :class:`NumericalFailure` if it exceeds ``tol``."""
    Q = _Q or _quad2(quadrature)
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


@dataclass
class R1Curve:
    points: list = field(default_factory=list)

    def column(self, name: str) -> np.ndarray:
        return np.array([getattr(p, name) for p in self.points])


def r1_curve(alphas, lam, rho: float = 1.0, quadrature: int = 61) -> R1Curve:
    """R1 over ``alphas`` with continuation: points are solved in increasing alpha, each started from
    the previous solution; results are returned in the order given."""
    a = _check_alphas(alphas)
    _check_positive("lam", lam)
    _check_positive("rho", rho)
    Q = _quad2(quadrature)
    order = np.argsort(a)
    sol, state = {}, None
    for k in order:
        p = r1_point(float(a[k]), lam, rho, init=state, _Q=Q)
        state = (p.m, p.q, p.V)
        sol[k] = p
    return R1Curve([sol[k] for k in range(len(a))])


# ----------------------------------------------------------------------------------------------
# R2


def r2_curve(alphas, lam, rho: float = 1.0, delta: float = 0.5) -> dict:
    """R2 closed form (theory.potts.r2_closed_form), vectorised over ``alphas``: ``V, kappa, m, q,
    e, eps_J, test_mse`` arrays. ``lam`` > 0."""
    a = _check_alphas(alphas)
    _check_positive("lam", lam)
    _check_positive("rho", rho)
    check_finite("delta", delta)
    if delta < 0:
        raise InputError("delta", delta, "a non-negative noise variance")
    B = lam + a - 1
    V = 2.0 / (B + np.sqrt(B * B + 4 * lam))
    kappa = a * V / (1 + V)
    e = (rho * (1 - kappa) ** 2 + kappa**2 * delta / a) / (1 - kappa**2 / a)
    m = rho * kappa
    return {"alpha": a, "V": V, "kappa": kappa, "m": m, "q": e - rho + 2 * m, "e": e,
            "eps_J": e / rho, "test_mse": delta + e}


def ridge_deterministic_equivalent(Sigma, a_star, n: int, lam_r: float, delta: float) -> dict:
    """Deterministic equivalent of ridge :math:`\\min_a \\frac1n\\|y - Xa\\|^2 + \\lambda_r\\|a\\|^2`
    with rows :math:`x\\sim N(0,\\Sigma)`, :math:`y = a^{*T}x + \\sqrt\\Delta\\,\\xi`:

    .. math:: \\kappa = \\lambda_r + \\frac{\\kappa}{n}\\mathrm{tr}\\,\\Sigma(\\Sigma+\\kappa)^{-1},\\qquad
              \\mathrm{MSE} = \\frac{\\Delta + \\kappa^2 a^{*T}\\Sigma(\\Sigma+\\kappa)^{-2}a^*}
                                  {1 - \\frac1n\\mathrm{tr}\\,\\Sigma^2(\\Sigma+\\kappa)^{-2}}.

    Returns ``{"kappa", "test_mse", "excess"}`` (excess = MSE - Delta)."""
    Sigma = np.asarray(Sigma, float)
    check_int("n", n, 1)
    _check_positive("lam_r", lam_r)
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
    return {"kappa": float(kappa), "test_mse": float(mse), "excess": float(mse - delta)}


def goe_precision_model(L: int, nu: float = 3.0, seed=0) -> dict:
    """Correlated Gaussian 'Potts' of R2: precision :math:`\\nu I - J`, :math:`J = \\Omega/\\sqrt L`
    (GOE, off-diagonal variance 1/L, zero diagonal), ``nu > 2`` so that the precision is positive.
    Returns ``{"J", "precision", "Sigma"}``."""
    check_int("L", L, 3)
    check_finite("nu", nu)
    if nu <= 2:
        raise InputError("nu", nu, "nu > 2 (positive-definite precision)")
    rng = np.random.default_rng(seed)
    G = rng.standard_normal((L, L))
    J = (G + G.T) / math.sqrt(2 * L)
    np.fill_diagonal(J, 0.0)
    prec = nu * np.eye(L) - J
    if np.linalg.eigvalsh(prec).min() <= 0:
        raise NumericalFailure("GOE precision not positive definite; increase nu")
    return {"J": J, "precision": prec, "Sigma": np.linalg.inv(prec)}


def site_regression_target(model: dict, i: int, nu: float) -> tuple[np.ndarray, np.ndarray, float]:
    """For site i of :func:`goe_precision_model`: ``(Sigma_tilde, a_star, Delta)`` with
    :math:`a^* = J_{i,-i}/\\nu` and :math:`\\Delta = 1/\\nu` (the Gaussian conditional)."""
    keep = np.arange(model["J"].shape[0]) != i
    return model["Sigma"][np.ix_(keep, keep)], model["J"][i, keep] / nu, 1.0 / nu

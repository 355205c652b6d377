"""The softmax channel: replica equations of one factored attention row with C > 2 colours (spec
Sec. 12, a library derivation; **library extension**, not the paper's scenario).

Set-up: one masked site, the other N = L-1 sites i.i.d. uniform colours, the value matrix fixed to
the colour matrix ``U`` (C x C) with constant row sums :math:`U\\mathbf 1 = c\\mathbf 1`; student row
``w/sqrt N``, teacher ``w*/sqrt N``, :math:`\\rho = |w^*|^2/N`, ridge :math:`\\frac\\lambda2|w|^2` on the
summed cross-entropy. With :math:`\\bar u = U\\mathbf 1/C` and
:math:`\\Sigma = U(I/C - \\mathbf 1\\mathbf 1^T/C^2)U^T` (rank r, r = C-1 for U = I), B (C x r) with
:math:`BB^T = \\Sigma`: the features :math:`\\phi(s) = B^+(Ue_s - \\bar u)` have identity covariance,
the logits are :math:`B\\zeta` up to a common shift, :math:`\\zeta = \\sum_j w_j\\phi(s_j)/\\sqrt N`,
and by Gaussian equivalence :math:`(\\zeta^*, \\zeta)\\sim N(0, [[\\rho, m],[m, q]]\\otimes I_r)`.

Channel (:math:`\\xi, u\\sim N(0, I_r)`): :math:`\\omega = \\sqrt q\\,\\xi`,
:math:`\\zeta^* = (m/\\sqrt q)\\xi + \\sqrt{\\rho - m^2/q}\\,u`, :math:`p(y\\mid\\zeta^*) =
\\mathrm{softmax}_y(B\\zeta^*)`, :math:`\\ell(y, x) = -\\log\\mathrm{softmax}_y(Bx)`, the prox
:math:`P = \\arg\\min_x |x-\\omega|^2/(2V) + \\ell(y, x)` (Newton, Hessian
:math:`H = B^T(\\mathrm{diag}\\,p - pp^T)B`), :math:`f = (P - \\omega)/V`:

.. math:: \\hat m = \\alpha E\\sum_y \\nabla_{\\zeta^*}p(y\\mid\\zeta^*)\\cdot f,\\quad
          \\hat q = \\alpha E\\sum_y p\\,|f|^2,\\quad
          \\hat V = \\alpha E\\sum_y p\\,\\mathrm{tr}(I - (I + VH)^{-1})/V,

and the ridge prior equations of Sec. 5 (:func:`theory.potts.ridge_prior_equations`). The algebra
(prox stationarity, gradient and Hessian of the loss, the C = 2 reduction) is checked in sympy by
:func:`theory.potts.softmax_channel_identities`. Integrals: r = 1 Gauss-Hermite 61^2; C = 3 (r = 2)
Gauss-Hermite 15^4; r >= 3 scrambled Sobol 2^16 points, the error being the spread between two
scrambling seeds.

Check (exact): C = 2, U = [[1,-1],[-1,1]] gives B = (1,-1)^T and the logit difference 2 zeta, so the
channel at (rho, lam) is R1 at (4 rho, lam/4) with m, q multiplied by 4 and the same eps_J and CE.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
from numpy.polynomial.hermite_e import hermegauss
from scipy.optimize import root
from scipy.special import log_softmax, ndtri, softmax
from scipy.stats import qmc

from numerics.potts.domains import COLOURS, REPLICA_LAMBDA, RHO, check_memory
from numerics.potts.replica import check_alphas
from numerics.shared.threads import limit_threads
from theory.errors import InputError, NumericalFailure
from theory.results import result

#: Scenario label of spec Sec. 13 (JSON key ``scenario_origin``).
ORIGIN = "library extension"


@result
class ColourGeometry:
    """The Gaussian-equivalent geometry of a colour matrix; see :func:`colour_geometry`.

    Attributes
    ----------
    U : numpy.ndarray, (C, C)
        The colour (value) matrix.
    c : float
        Its common row sum, :math:`U\\mathbf 1 = c\\mathbf 1`.
    Sigma : numpy.ndarray, (C, C)
        :math:`U(I/C - \\mathbf 1\\mathbf 1^T/C^2)U^T`, the covariance of :math:`Ue_s` for a uniform
        colour s.
    B : numpy.ndarray, (C, r)
        :math:`BB^T = \\Sigma`, r = rank of Sigma.
    """

    U: np.ndarray
    c: float
    Sigma: np.ndarray
    B: np.ndarray

    @property
    def C(self) -> int:
        """Number of colours."""
        return self.U.shape[0]

    @property
    def r(self) -> int:
        """Rank of Sigma (width of B)."""
        return self.B.shape[1]

    @property
    def exchangeable(self) -> bool:
        """True when :math:`U = aI + b\\mathbf 1\\mathbf 1^T` (the standard Potts form): Sigma is
        then invariant under every permutation of the colours, the Gaussian channel integrals are
        equal for every label y, and the channel computes the y = 0 term only (times C)."""
        U = self.U
        off = U[~np.eye(self.C, dtype=bool)]
        scale = max(1.0, float(np.max(np.abs(U))))
        return bool(np.ptp(np.diag(U)) <= 1e-12 * scale and np.ptp(off) <= 1e-12 * scale)


def check_colour_matrix(U, name: str = "U") -> np.ndarray:
    """``U`` as a float (C, C) array: square, C in :data:`~numerics.potts.domains.COLOURS`, finite,
    symmetric, rows summing to one constant (to 1e-9 of its scale); otherwise InputError naming
    ``name``."""
    arr = np.asarray(U) if not isinstance(U, str) else np.asarray([])
    if arr.dtype.kind not in "iuf" or arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        raise InputError(name, f"array of shape {arr.shape}", "a square real colour matrix (C x C)")
    COLOURS.check(f"{name} size C", arr.shape[0])
    arr = arr.astype(float)
    if not np.all(np.isfinite(arr)):
        raise InputError(name, "a matrix with non-finite entries", "finite numbers")
    scale = max(1.0, float(np.max(np.abs(arr))))
    if np.max(np.abs(arr - arr.T)) > 1e-9 * scale:
        raise InputError(name, "a non-symmetric matrix", "a symmetric colour matrix")
    sums = arr.sum(axis=1)
    if np.ptp(sums) > 1e-9 * scale * arr.shape[0]:
        raise InputError(name, f"row sums {np.round(sums, 6).tolist()}",
                         "a colour matrix whose rows sum to one constant (U 1 = c 1)")
    return arr


def colour_geometry(U) -> ColourGeometry:
    """:class:`ColourGeometry` of the colour matrix ``U`` (checked by :func:`check_colour_matrix`):
    ``B`` from the eigendecomposition of Sigma (eigenvectors of the eigenvalues above 1e-10 of the
    largest, scaled by their square roots). A matrix with Sigma = 0 (all logits equal) is refused."""
    U = check_colour_matrix(U)
    C = U.shape[0]
    P = np.eye(C) / C - np.ones((C, C)) / C**2
    Sigma = U @ P @ U.T
    ev, vec = np.linalg.eigh(Sigma)
    if ev.max() <= 1e-12 * max(1.0, float(np.max(np.abs(U)))) ** 2:
        raise InputError("U", "a matrix with equal logits for every colour",
                         "a colour matrix whose rows differ (U (I - 11^T/C) != 0)")
    keep = ev > 1e-10 * ev.max()
    B = vec[:, keep] * np.sqrt(ev[keep])
    return ColourGeometry(U, float(U.sum(axis=1).mean()), Sigma, B)


def ising_colours() -> np.ndarray:
    """:math:`U = \\sigma\\sigma^T`, :math:`\\sigma = (1, -1)`: the Ising colour matrix (C = 2)."""
    return np.array([[1.0, -1.0], [-1.0, 1.0]])


def load_colour_matrix(path: str, option: str = "--U") -> np.ndarray:
    """A colour matrix from a JSON file: a list of rows, or an object with key ``"U"`` (as the model
    files of Sec. 1); at most 1 MiB; checked by :func:`check_colour_matrix` (errors name
    ``option``)."""
    p = Path(path)
    if not p.is_file():
        raise InputError(option, path, "an existing JSON file holding a colour matrix")
    if p.stat().st_size > 2**20:
        raise InputError(option, path, "a JSON file of at most 1 MiB")
    try:
        data = json.loads(p.read_text())
    except (ValueError, UnicodeDecodeError):
        raise InputError(option, path, "a JSON file (a list of rows, or {\"U\": rows})") from None
    if isinstance(data, dict):
        data = data.get("U")
    try:
        arr = np.array(data, dtype=float)
    except (TypeError, ValueError):
        raise InputError(option, path, "a JSON colour matrix of numbers (a list of equal rows)") \
            from None
    return check_colour_matrix(arr, option)


@result
class ChannelRule:
    """Nodes and weights for :math:`E f(\\xi, u)`, :math:`\\xi, u\\sim N(0, I_r)`; see
    :func:`channel_rule`.

    Attributes
    ----------
    xi, u : numpy.ndarray, (n, r)
        Nodes.
    w : numpy.ndarray, (n,)
        Weights, summing to 1.
    kind : str
        ``"gauss-hermite"`` or ``"sobol"``.
    """

    xi: np.ndarray
    u: np.ndarray
    w: np.ndarray
    kind: str


def channel_rule(r: int, nodes: int | None = None, sobol_seed: int | None = None) -> ChannelRule:
    """The integration rule of spec Sec. 12 for a channel of width ``r``: product Gauss-Hermite with
    ``nodes`` per axis (default 61 at r = 1, 15 at r = 2) over the 2r Gaussians (product weights
    below 1e-14 dropped: at 15^4 they hold 1.3e-11 of the mass), or, for r >= 3 or
    when ``sobol_seed`` is given, 2^16 scrambled Sobol points mapped by the normal quantile
    (``sobol_seed`` the scrambling seed, default 0)."""
    if r >= 3 or sobol_seed is not None:
        sampler = qmc.Sobol(2 * r, scramble=True, seed=0 if sobol_seed is None else sobol_seed)
        z = ndtri(np.clip(sampler.random_base2(16), 1e-12, 1 - 1e-12))
        return ChannelRule(z[:, :r], z[:, r:], np.full(len(z), 1.0 / len(z)), "sobol")
    n = nodes if nodes is not None else (61 if r == 1 else 15)
    check_memory("nodes", n, 8.0 * 4 * r * n ** (2 * r) * 8, "channel quadrature")
    x, w = hermegauss(n)
    w = w / math.sqrt(2 * math.pi)
    grids = np.meshgrid(*([x] * (2 * r)), indexing="ij")
    z = np.stack([g.ravel() for g in grids], axis=1)
    wts = np.ones(len(z))
    for g in np.meshgrid(*([w] * (2 * r)), indexing="ij"):
        wts = wts * g.ravel()
    keep = wts > 1e-14  # drops 46% of the 15^4 nodes, total weight 1.3e-11
    return ChannelRule(z[keep, :r], z[keep, r:], wts[keep], "gauss-hermite")


def _loss_hessian(p, B):
    """:math:`B^T(\\mathrm{diag}\\,p - pp^T)B` per row of ``p`` (n, C): (n, r, r)."""
    C, r = B.shape
    outer = (B[:, :, None] * B[:, None, :]).reshape(C, r * r)
    pB = p @ B
    return (p @ outer).reshape(-1, r, r) - pB[:, :, None] * pB[:, None, :]


def softmax_prox(y, omega, V: float, B, iters: int = 100, tol: float = 1e-11,
                 start=None) -> np.ndarray:
    """:math:`P = \\arg\\min_x |x-\\omega|^2/(2V) - \\log\\mathrm{softmax}_y(Bx)` for each row:
    Newton with the Hessian :math:`I/V + B^T(\\mathrm{diag}\\,p - pp^T)B` (strictly convex, so the
    minimiser is unique) and step halving until the objective does not increase. ``y`` (n,) colour
    indices, ``omega`` (n, r), ``B`` (C, r); ``start`` (n, r) an initial point (default omega). NumericalFailure if the gradient is not below ``tol``
    (relative) after ``iters`` steps."""
    y = np.asarray(y)
    x = np.array(omega if start is None else start, dtype=float)
    rows = np.arange(len(x))

    def objective(t):
        return np.sum((t - omega) ** 2, axis=1) / (2 * V) - log_softmax(t @ B.T, axis=1)[rows, y]

    f = objective(x)
    for _ in range(iters):
        p = softmax(x @ B.T, axis=1)
        resid = p.copy()
        resid[rows, y] -= 1
        grad = (x - omega) / V + resid @ B
        if np.max(np.abs(grad)) * V <= tol * (1 + np.max(np.abs(x))):
            return x
        H = _loss_hessian(p, B) + np.eye(B.shape[1]) / V
        step = np.linalg.solve(H, grad[..., None])[..., 0]
        t = 1.0
        new = x - step
        fn = objective(new)
        for _ in range(30):  # halve where the objective went up
            up = fn > f + 1e-14 * (1 + np.abs(f))
            if not np.any(up):
                break
            t *= 0.5
            new = np.where(up[:, None], x - t * step, new)
            fn = np.where(up, objective(new), fn)
        x, f = new, fn
    raise NumericalFailure(f"softmax prox: no convergence in {iters} Newton steps")


def _channel_terms(m, q, V, geom: ColourGeometry, rule: ChannelRule, rho):
    """(mhat, qhat, Vhat) per unit alpha, plus the test CE, by the rule."""
    B, C = geom.B, geom.C
    sq = math.sqrt(q)
    omega = sq * rule.xi
    zstar = (m / sq) * rule.xi + math.sqrt(max(rho - m * m / q, 0.0)) * rule.u
    pstar = softmax(zstar @ B.T, axis=1)  # (n, C)
    n, r = omega.shape
    mh = qh = vh = 0.0
    eye = np.eye(r)
    labels = range(1) if geom.exchangeable else range(C)
    for y in labels:
        P = softmax_prox(np.full(n, y), omega, V, B)
        f = (P - omega) / V
        p = softmax(P @ B.T, axis=1)
        H = _loss_hessian(p, B)
        # grad_{zeta*} p_y = p_y B^T (e_y - p*)
        e = -pstar.copy()
        e[:, y] += 1
        grad = pstar[:, y, None] * (e @ B)
        mh += np.sum(rule.w * np.sum(grad * f, axis=1))
        qh += np.sum(rule.w * pstar[:, y] * np.sum(f * f, axis=1))
        inv = np.linalg.inv(eye + V * H)
        vh += np.sum(rule.w * pstar[:, y] * (r - np.trace(inv, axis1=1, axis2=2))) / V
    k = C / len(labels)
    return k * mh, k * qh, k * vh


def _map(state, alpha, lam, rho, geom, rule):
    m, q, V = state
    mh, qh, vh = (alpha * t for t in _channel_terms(m, q, V, geom, rule, rho))
    Vn = 1.0 / (lam + vh)
    return np.array([rho * mh * Vn, (rho * mh * mh + qh) * Vn * Vn, Vn])


def softmax_test_ce(m, q, rho, geom: ColourGeometry, rule: ChannelRule) -> float:
    """Test cross-entropy :math:`E\\sum_y p(y\\mid\\zeta^*)\\ell(y,\\zeta)` with
    :math:`(\\zeta^*, \\zeta)\\sim N(0, [[\\rho, m],[m, q]]\\otimes I_r)` (nats)."""
    sq = math.sqrt(q)
    zeta = sq * rule.xi
    zstar = (m / sq) * rule.xi + math.sqrt(max(rho - m * m / q, 0.0)) * rule.u
    pstar = softmax(zstar @ geom.B.T, axis=1)
    return float(np.sum(rule.w * -np.sum(pstar * log_softmax(zeta @ geom.B.T, axis=1), axis=1)))


def softmax_bayes_floor(rho, geom: ColourGeometry, rule: ChannelRule) -> float:
    """:math:`E\\,H(\\mathrm{softmax}(B\\zeta^*))`, :math:`\\zeta^*\\sim N(0, \\rho I_r)` (nats)."""
    z = math.sqrt(rho) * rule.u
    logp = log_softmax(z @ geom.B.T, axis=1)
    return float(np.sum(rule.w * -np.sum(np.exp(logp) * logp, axis=1)))


@result
class SoftmaxCurve:
    """Saddle points of the softmax channel over alpha; see :func:`softmax_curve`. Arrays have
    shape (n,), one entry per ``alpha`` in the order given.

    Attributes
    ----------
    scenario_origin : str
        ``"library extension"`` (spec Sec. 13).
    C : int
        Colours.
    alpha, m, q, V : numpy.ndarray
        Samples per parameter and the order parameters.
    eps_J : numpy.ndarray
        :math:`(\\rho - 2m + q)/\\rho`.
    test_ce : numpy.ndarray
        Test cross-entropy (nats).
    bayes_floor : float
        :math:`E\\,H(\\mathrm{softmax}(B\\zeta^*))` (nats).
    residual : numpy.ndarray
        Relative fixed-point residual per point.
    eps_J_error : numpy.ndarray or None
        Sobol rules only: the absolute difference of eps_J between two scrambling seeds (the
        integration error).
    rule : str
        ``"gauss-hermite n^(2r)"`` or ``"sobol 2^16"``.
    """

    scenario_origin: str
    C: int
    alpha: np.ndarray
    m: np.ndarray
    q: np.ndarray
    V: np.ndarray
    eps_J: np.ndarray
    test_ce: np.ndarray
    bayes_floor: float
    residual: np.ndarray
    eps_J_error: np.ndarray | None
    rule: str


def _solve(alpha, lam, rho, geom, rule, init, tol=1e-9, max_iter=2000):
    """The saddle point at one alpha: ``scipy.optimize.root`` (hybr) from ``init``; if that fails,
    a damped fixed-point iteration (damping 0.5) first, then root again. Returns (m, q, V) and the
    relative residual."""
    def fun(v):
        if v[1] <= 0 or v[2] <= 0:
            return np.full(3, 1e6)
        with np.errstate(all="ignore"):
            return _map(v, alpha, lam, rho, geom, rule) - v

    def residual(v):
        return float(np.max(np.abs(fun(v))) / max(1.0, np.max(np.abs(v))))

    pol = root(fun, np.array(init, float), method="hybr", options={"xtol": 1e-12})
    if pol.success and pol.x[1] > 0 and pol.x[2] > 0 and residual(pol.x) <= tol:
        return pol.x, residual(pol.x)
    x = np.array(init, float)
    for _ in range(max_iter):
        new = _map(x, alpha, lam, rho, geom, rule)
        if not np.all(np.isfinite(new)) or new[1] <= 0 or new[2] <= 0:
            raise NumericalFailure(f"softmax channel left the domain at alpha={alpha}: {new}")
        diff = np.max(np.abs(new - x))
        x = 0.5 * x + 0.5 * new
        if diff < 1e-6 * max(1.0, np.max(np.abs(x))):
            break
    pol = root(fun, x, method="hybr", options={"xtol": 1e-12})
    cand = pol.x if pol.success and pol.x[1] > 0 and pol.x[2] > 0 else x
    res = residual(cand)
    if not np.isfinite(res) or res > tol:
        raise NumericalFailure(f"softmax channel did not converge at alpha={alpha}: residual "
                               f"{res:.3g}")
    return cand, res


def _solve_curve(a, lam, rho, geom, nodes, sobol_seed):
    """Continuation in increasing alpha with one rule; returns (rule, [(x, residual)] in the
    order of ``a``)."""
    rule = channel_rule(geom.r, nodes, sobol_seed)
    sol, state = {}, (0.1 * rho, 0.1 * rho + 1e-3, 1.0 / (lam + 1.0))
    for k in np.argsort(a):
        x, res = _solve(float(a[k]), lam, rho, geom, rule, state)
        state = x
        sol[k] = (x, res)
    return rule, [sol[k] for k in range(len(a))]


def softmax_curve(alphas, lam: float, rho: float = 1.0, U=None, *, nodes: int | None = None,
                  sobol_seeds=(0, 1)) -> SoftmaxCurve:
    """Solve the softmax channel (spec Sec. 12) over ``alphas`` with continuation (increasing alpha,
    each point started from the previous one): ``scipy.optimize.root`` (hybr), falling back to a
    damped fixed-point iteration first when it fails.
    ``U`` the colour matrix (default the 3-colour identity), ``lam`` > 0, ``rho`` > 0. Rule: see
    :func:`channel_rule`; with a Sobol rule the curve is solved once per seed of ``sobol_seeds``
    (the first is returned) and ``eps_J_error`` is their spread."""
    a = check_alphas(alphas)
    REPLICA_LAMBDA.check("lam", lam)
    RHO.check("rho", rho)
    geom = colour_geometry(np.eye(3) if U is None else U)
    sobol = geom.r >= 3
    seeds = tuple(sobol_seeds) if sobol else (None,)
    if sobol and len(seeds) != 2:
        raise InputError("sobol_seeds", sobol_seeds, "two scrambling seeds")
    runs = []
    with limit_threads(1):  # small batched products: one BLAS thread is fastest
        for s in seeds:
            runs.append(_solve_curve(a, lam, rho, geom, nodes, s))
    rule, pts = runs[0]
    m, q, V = (np.array([p[0][i] for p in pts]) for i in range(3))
    eps = (rho - 2 * m + q) / rho
    err = None
    if sobol:
        m2, q2 = (np.array([p[0][i] for p in runs[1][1]]) for i in range(2))
        err = np.abs(eps - (rho - 2 * m2 + q2) / rho)
    ce = np.array([softmax_test_ce(mm, qq, rho, geom, rule) for mm, qq in zip(m, q)])
    label = "sobol 2^16" if sobol else f"gauss-hermite {len(rule.w)} nodes"
    out = SoftmaxCurve(ORIGIN, geom.C, a, m, q, V, eps, ce, softmax_bayes_floor(rho, geom, rule),
                       np.array([p[1] for p in pts]), err, label)
    for name in ("m", "q", "V", "eps_J", "test_ce"):
        if not np.all(np.isfinite(getattr(out, name))):
            raise NumericalFailure(f"softmax channel: {name} is not finite")
    return out

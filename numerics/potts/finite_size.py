"""Replica curves checked by finite-size extrapolation (spec Sec. 10, ``potts.replica_fss``).

Simulations of one attention row at several sizes N, with ``S_N = S * N_min / N`` seeds (the
per-seed spread falls like N^{-1/2}, so every N gets about the same standard error), then the
weighted least-squares fit

.. math:: \\varepsilon(N) = \\varepsilon_\\infty + a/N, \\qquad w_N = 1/\\mathrm{SE}_N^2,

and the rule: pass iff :math:`|\\varepsilon_\\infty - \\varepsilon_{\\rm theory}| \\le 3\\,
\\mathrm{SE}(\\varepsilon_\\infty)` and the fit's chi-squared p-value is at least 1e-3.

Scenarios (labels of spec Sec. 13, all **library extensions**; none of their numbers is the
paper's): ``logistic`` (R1: Gaussian inputs, logistic teacher and loss), ``ridge`` (R2-isotropic:
Gaussian inputs, linear teacher with noise Delta, square loss), ``softmax`` (Sec. 12: uniform
colours, softmax teacher, cross-entropy, value matrix U). Every fit is the exact minimiser of the
penalised empirical loss :math:`\\sum_\\mu \\ell(y_\\mu, z_\\mu) + \\frac\\lambda2|w|^2` (scipy L-BFGS
to a gradient of 1e-9 for logistic and softmax, the normal equations for ridge). The test loss of
each fit comes from its overlaps (m, q) through the scenario's Gaussian integral (no test-set
noise): the R1 quadrature for logistic, the softmax channel's rule for softmax, and
:math:`\\Delta + (\\rho - 2m + q)` for ridge.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy.optimize import minimize
from scipy.special import log_expit, log_softmax, softmax
from scipy.stats import chi2 as chi2_dist

from numerics.potts import replica
from numerics.potts import softmax_channel
from numerics.potts.domains import (ALPHA, DELTA, FSS_N, FSS_SEEDS, REPLICA_LAMBDA, RHO,
                                    check_memory, check_work)
from numerics.shared.seeding import derive_seed
from numerics.shared.threads import limit_threads
from theory.domains import SEED, choice
from theory.errors import InputError, NumericalFailure
from theory.results import result

#: The scenarios and their origin labels (spec Sec. 13).
SCENARIOS = {"logistic": "library extension", "ridge": "library extension",
             "softmax": "library extension"}
SCENARIO = choice(*SCENARIOS)
OBSERVABLE = choice("eps_J", "test")


def seeds_per_size(sizes, seeds: int) -> list:
    """:math:`S_N = \\max(2, \\mathrm{round}(S\\,N_{\\min}/N))` for each N of ``sizes`` (``seeds`` = S
    at the smallest N): equal standard errors when the per-seed spread is
    :math:`\\propto N^{-1/2}`."""
    n0 = min(sizes)
    return [max(2, int(round(seeds * n0 / N))) for N in sizes]


def _teacher(N, rho, rng):
    w = rng.standard_normal(N)
    return w * math.sqrt(rho * N) / np.linalg.norm(w)


#: Limits of one L-BFGS fit (typical fits take 15-30 iterations); the work budget counts
#: MAX_EVALUATIONS evaluations per fit.
MAX_ITERATIONS, MAX_EVALUATIONS = 500, 1000


def _lbfgs(fun_grad, N, what):
    res = minimize(fun_grad, np.zeros(N), jac=True, method="L-BFGS-B",
                   options={"maxiter": MAX_ITERATIONS, "maxfun": MAX_EVALUATIONS, "gtol": 1e-9,
                            "ftol": 1e-15, "maxcor": 30})
    if not np.all(np.isfinite(res.x)):
        raise NumericalFailure(f"{what}: the fit diverged")
    if res.nit >= MAX_ITERATIONS or res.nfev >= MAX_EVALUATIONS:
        raise NumericalFailure(f"{what}: L-BFGS stopped at its limit ({res.nit} iterations, "
                               f"{res.nfev} evaluations) before converging")
    return res.x


def fit_logistic_row(X, y, lam: float) -> np.ndarray:
    """:math:`\\arg\\min_w \\sum_\\mu \\log(1 + e^{-y_\\mu z_\\mu}) + \\frac\\lambda2|w|^2`,
    :math:`z = Xw/\\sqrt N` (scipy L-BFGS). ``X`` (M, N), ``y`` (M,) in {-1, +1}."""
    N = X.shape[1]
    s = math.sqrt(N)

    def fg(w):
        yz = y * (X @ w) / s
        val = -np.sum(log_expit(yz)) + 0.5 * lam * w @ w
        g = -(X.T @ (y * np.exp(log_expit(-yz)))) / s + lam * w
        return val, g

    return _lbfgs(fg, N, "logistic fit")


def _softmax_logits(S, w, U):
    """:math:`z_\\mu(a) = \\sum_j w_j U_{a s_{\\mu j}}/\\sqrt N`: (M, C)."""
    N = S.shape[1]
    C = U.shape[0]
    z = np.zeros((S.shape[0], C))
    for b in range(C):
        z += np.outer((S == b) @ w, U[:, b])
    return z / math.sqrt(N)


def fit_softmax_row(S, y, U, lam: float) -> np.ndarray:
    """:math:`\\arg\\min_w -\\sum_\\mu\\log\\mathrm{softmax}_{y_\\mu}(z_\\mu) + \\frac\\lambda2|w|^2`
    with the factored logits :math:`z_\\mu(a) = \\sum_j w_j U_{a s_{\\mu j}}/\\sqrt N` (scipy L-BFGS).
    ``S`` (M, N) colours, ``y`` (M,) the masked colour, ``U`` (C, C)."""
    M, N = S.shape
    C = U.shape[0]
    onehots = [(S == b).astype(float) for b in range(C)]
    rows = np.arange(M)
    s = math.sqrt(N)

    def fg(w):
        z = sum(np.outer(Xb @ w, U[:, b]) for b, Xb in enumerate(onehots)) / s
        logp = log_softmax(z, axis=1)
        R = np.exp(logp)
        R[rows, y] -= 1
        g = sum(Xb.T @ (R @ U[:, b]) for b, Xb in enumerate(onehots)) / s + lam * w
        return -np.sum(logp[rows, y]) + 0.5 * lam * w @ w, g

    return _lbfgs(fg, N, "softmax fit")


@result
class SizeSimulation:
    """Fits of one attention row at one size N, one entry per seed; see :func:`simulate_size`.

    Attributes
    ----------
    N : int
        Parameters (sites other than the masked one).
    M : int
        Training samples, round(alpha N).
    seeds : list of int
        The seeds used.
    m, q : numpy.ndarray, (seeds,)
        Overlaps :math:`w\\cdot w^*/N`, :math:`|w|^2/N`.
    eps_J : numpy.ndarray, (seeds,)
        :math:`|w - w^*|^2/|w^*|^2`.
    test : numpy.ndarray, (seeds,)
        Test loss from the overlaps: cross-entropy (logistic, softmax) or MSE (ridge).
    """

    N: int
    M: int
    seeds: list
    m: np.ndarray
    q: np.ndarray
    eps_J: np.ndarray
    test: np.ndarray


@functools.lru_cache(maxsize=64)
def _simulate(scenario, N, alpha, lam, rho, delta, U_key, seeds):
    U = None if U_key is None else np.array(U_key)
    M = int(round(alpha * N))
    ms, qs = [], []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        ws = _teacher(N, rho, rng)
        if scenario == "softmax":
            S = rng.integers(0, U.shape[0], (M, N))
            p = softmax(_softmax_logits(S, ws, U), axis=1)
            y = (rng.random(M)[:, None] > np.cumsum(p, axis=1)).sum(axis=1)
            y = np.minimum(y, U.shape[0] - 1)
            w = fit_softmax_row(S, y, U, lam)
        else:
            X = rng.standard_normal((M, N))
            z = X @ ws / math.sqrt(N)
            if scenario == "logistic":
                y = np.where(rng.random(M) < 1 / (1 + np.exp(-z)), 1.0, -1.0)
                w = fit_logistic_row(X, y, lam)
            else:
                y = z + math.sqrt(delta) * rng.standard_normal(M)
                w = np.linalg.solve(X.T @ X / N + lam * np.eye(N), X.T @ y / math.sqrt(N))
        ms.append(float(w @ ws / N))
        qs.append(float(w @ w / N))
    return np.array(ms), np.array(qs)


def _test_losses(scenario, m, q, rho, delta, U):
    if scenario == "logistic":
        Q = replica.pair_quadrature(61)
        return np.array([replica.r1_test_ce(rho, mm, qq, Q) for mm, qq in zip(m, q)])
    if scenario == "ridge":
        return delta + rho - 2 * m + q
    geom = softmax_channel.colour_geometry(U)
    rule = softmax_channel.channel_rule(geom.r)
    return np.array([softmax_channel.softmax_test_ce(mm, qq, rho, geom, rule) for mm, qq in zip(m, q)])


def _check_common(scenario, alpha, lam, rho, delta, U):
    SCENARIO.check("scenario", scenario)
    ALPHA.check("alpha", alpha)
    REPLICA_LAMBDA.check("lam", lam)
    RHO.check("rho", rho)
    DELTA.check("delta", delta)
    if scenario == "softmax":
        return softmax_channel.check_colour_matrix(np.eye(3) if U is None else U)
    if U is not None:
        raise InputError("U", "a colour matrix", "no colour matrix (it applies to softmax only)")
    return None


def simulate_size(scenario: str, N: int, alpha: float, lam: float, seeds, *, rho: float = 1.0,
                  delta: float = 0.5, U=None) -> SizeSimulation:
    """Fit one attention row per seed at size ``N`` with M = round(``alpha`` N) samples (spec Sec. 10;
    see the module docstring for the scenarios). ``seeds``: a sequence of ints (numpy
    ``default_rng(seed)`` draws teacher, inputs and labels). ``U`` (softmax only, default the
    3-colour identity). Results are cached per argument tuple (a claim and the CLI share them). BLAS
    runs on one thread (threadpoolctl): on a shared machine multi-threaded small products are ~100x
    slower."""
    U = _check_common(scenario, alpha, lam, rho, delta, U)
    FSS_N.check("N", N)
    seeds = tuple(int(SEED.check("seed", s) or s) for s in seeds)
    if not seeds:
        raise InputError("seeds", "[]", "at least one seed")
    M = int(round(alpha * N))
    if M < 1:
        raise InputError("alpha", alpha, f"alpha N >= 1 sample (N = {N})")
    C = 1 if U is None else U.shape[0]
    check_memory("N", N, 8.0 * M * N * (C + 3) + 8.0 * N * N, "design matrix")
    check_work("N", N, len(seeds) * (2.0 * N**3 + MAX_EVALUATIONS * 4.0 * M * N * C), "fits")
    key = None if U is None else tuple(map(tuple, U.tolist()))
    with limit_threads(1):  # numpy's loaded BLAS: env variables no longer reach it
        m, q = _simulate(scenario, int(N), float(alpha), float(lam), float(rho), float(delta),
                         key, seeds)
    test = _test_losses(scenario, m, q, rho, delta, U)
    return SizeSimulation(int(N), M, list(seeds), m, q, (rho - 2 * m + q) / rho, test)


@result
class Extrapolation:
    """Weighted least-squares fit :math:`y_N = y_\\infty + a/N` (weights :math:`1/\\mathrm{SE}_N^2`);
    see :func:`extrapolate`.

    Attributes
    ----------
    value : float
        :math:`y_\\infty`, the intercept at 1/N = 0.
    se : float
        Its standard error (from the weights; not rescaled by chi2).
    slope : float
        :math:`a`.
    slope_se : float
        Its standard error.
    chi2 : float
        :math:`\\sum_N ((y_N - y_\\infty - a/N)/\\mathrm{SE}_N)^2`.
    dof : int
        Sizes minus 2.
    p_value : float
        :math:`P(\\chi^2_{\\rm dof} \\ge \\chi^2)`.
    """

    value: float
    se: float
    slope: float
    slope_se: float
    chi2: float
    dof: int
    p_value: float


def extrapolate(sizes, means, ses) -> Extrapolation:
    """The fit :math:`y_N = y_\\infty + a/N` by weighted least squares with weights
    :math:`1/\\mathrm{SE}_N^2`: :math:`\\mathrm{Cov} = (X^TWX)^{-1}`, X = [1, 1/N]. At least three
    distinct sizes (one degree of freedom for chi2), every SE > 0."""
    N = np.asarray(sizes, float)
    y = np.asarray(means, float)
    s = np.asarray(ses, float)
    if N.ndim != 1 or len(np.unique(N)) < 3 or y.shape != N.shape or s.shape != N.shape:
        raise InputError("N", [int(n) if float(n).is_integer() else n for n in N.tolist()],
                         "at least three distinct sizes, with one mean and SE each")
    if not np.all(np.isfinite(y)) or not np.all(np.isfinite(s)) or np.any(s <= 0):
        raise InputError("ses", list(s), "finite positive standard errors")
    X = np.stack([np.ones_like(N), 1 / N], axis=1)
    W = 1 / s**2
    cov = np.linalg.inv(X.T @ (W[:, None] * X))
    beta = cov @ (X.T @ (W * y))
    chi2 = float(np.sum(W * (y - X @ beta) ** 2))
    dof = len(N) - 2
    return Extrapolation(float(beta[0]), float(math.sqrt(cov[0, 0])), float(beta[1]),
                         float(math.sqrt(cov[1, 1])), chi2, dof, float(chi2_dist.sf(chi2, dof)))


def theory_values(scenario: str, alpha: float, lam: float, rho: float = 1.0, delta: float = 0.5,
                  U=None) -> dict:
    """The replica prediction ``{"eps_J": ..., "test": ...}`` of the scenario at ``alpha``
    (R1: :func:`numerics.potts.replica.r1_point`; ridge: :func:`~numerics.potts.replica.r2_curve`;
    softmax: :func:`numerics.potts.softmax_channel.softmax_curve`)."""
    U = _check_common(scenario, alpha, lam, rho, delta, U)
    if scenario == "logistic":
        p = replica.r1_point(alpha, lam, rho)
        return {"eps_J": p.eps_J, "test": p.test_ce}
    if scenario == "ridge":
        c = replica.r2_curve([alpha], lam, rho, delta)
        return {"eps_J": float(c.eps_J[0]), "test": float(c.test_mse[0])}
    c = softmax_channel.softmax_curve([alpha], lam, rho, U)
    return {"eps_J": float(c.eps_J[0]), "test": float(c.test_ce[0])}


@result
class FiniteSizeCheck:
    """A replica prediction checked by finite-size extrapolation (spec Sec. 10); see
    :func:`finite_size`.

    Attributes
    ----------
    scenario : str
        ``logistic``, ``ridge`` or ``softmax``.
    scenario_origin : str
        ``"library extension"`` (spec Sec. 13).
    observable : str
        ``eps_J`` or ``test`` (test cross-entropy or MSE from the overlaps).
    N : list of int
        Sizes.
    seeds : list of int
        Seeds per size.
    mean, se : list of float
        Mean and standard error of the observable over the seeds, per size.
    fit : Extrapolation
        The weighted fit :math:`y_N = y_\\infty + a/N`.
    theory : float
        The replica prediction.
    z : float
        :math:`(y_\\infty - \\mathrm{theory})/\\mathrm{SE}(y_\\infty)`.
    passed : bool
        :math:`|z| \\le 3` and p-value >= 1e-3.
    """

    scenario: str
    scenario_origin: str
    observable: str
    N: list
    seeds: list
    mean: list
    se: list
    fit: Extrapolation
    theory: float
    z: float
    passed: bool


def finite_size(scenario: str, alpha: float, lam: float, sizes=(100, 200, 400, 800),
                seeds: int = 48, *, rho: float = 1.0, delta: float = 0.5, U=None, seed: int = 0,
                observables=("eps_J", "test"), theory: dict | None = None) -> dict:
    """Spec Sec. 10: simulate at each N of ``sizes`` with :func:`seeds_per_size` seeds (``seeds`` at
    the smallest N; the seed of run k at size N is ``derive_seed(seed, scenario, N, k)``), fit
    :func:`extrapolate` per observable and compare with the replica prediction (``theory``, default
    :func:`theory_values`). Returns ``{observable: FiniteSizeCheck}``."""
    U = _check_common(scenario, alpha, lam, rho, delta, U)
    sizes = [int(FSS_N.check("N", n) or n) for n in sizes]
    FSS_SEEDS.check("seeds", seeds)
    SEED.check("seed", seed)
    for o in observables:
        OBSERVABLE.check("observable", o)
    if len(set(sizes)) < 3 or len(set(sizes)) != len(sizes):
        raise InputError("N", sizes, "at least three distinct sizes (no repeats)")
    counts = seeds_per_size(sizes, seeds)
    C = 1 if U is None else U.shape[0]
    for N, S in zip(sizes, counts):  # refuse before any work starts
        M = int(round(alpha * N))
        if M < 1:
            raise InputError("alpha", alpha, f"alpha N >= 1 sample at every size (N = {N})")
        check_memory("N", N, 8.0 * M * N * (C + 3) + 8.0 * N * N, "design matrix")
    check_work("N", sizes, sum(S * (2.0 * N**3 + MAX_EVALUATIONS * 4.0 * round(alpha * N) * N * C)
                               for N, S in zip(sizes, counts)), "fits at every size")
    sims = [simulate_size(scenario, N, alpha, lam,
                          [derive_seed(seed, scenario, N, k) for k in range(S)], rho=rho,
                          delta=delta, U=U) for N, S in zip(sizes, counts)]
    th = theory if theory is not None else theory_values(scenario, alpha, lam, rho, delta, U)
    out = {}
    for o in observables:
        vals = [getattr(s, "eps_J" if o == "eps_J" else "test") for s in sims]
        mean = [float(v.mean()) for v in vals]
        se = [float(v.std(ddof=1) / math.sqrt(len(v))) for v in vals]
        fit = extrapolate(sizes, mean, se)
        z = (fit.value - th[o]) / fit.se
        out[o] = FiniteSizeCheck(scenario, SCENARIOS[scenario], o, sizes, counts, mean, se, fit,
                                 float(th[o]), float(z), bool(abs(z) <= 3 and fit.p_value >= 1e-3))
    return out

"""Inverse Potts by pseudo-likelihood (the DCA conventions) and the factored (A, V) family.

Rende et al. 2024 (Sec. II): MLM training of factored attention is pseudo-likelihood inference of
the inverse Potts problem. Data ``S`` (M, L) integer colours in 0..C-1.

General couplings ``J`` (L, C, L, C) with :math:`J_{ii}(\\cdot,\\cdot) = 0` and fields ``h`` (L, C):

.. math:: \\mathrm{obj}(h, J) = -\\frac1M\\sum_\\mu\\sum_i \\log
          \\frac{e^{z_i(s_i^\\mu)}}{\\sum_a e^{z_i(a)}} + \\lambda_h\\|h\\|^2 + \\lambda_J\\|J\\|^2,\\qquad
          z_i(a) = h_i(a) + \\sum_{j\\ne i} J_{ij}(a, s_j).

*Asymmetric* PLM optimises the L site regressions independently (``J_ij`` and ``J_ji`` are separate
numbers, symmetrised afterwards as plmDCA does); *symmetric* PLM imposes
:math:`J_{ij}(a,b) = J_{ji}(b,a)`. Both are convex, solved with L-BFGS (scipy); :func:`plm_cvxpy`
solves the same problem with cvxpy as an oracle. Output in the zero-sum gauge; contact scores are
Frobenius norms with the average-product correction (APC).

The factored family :math:`J_{ij}(a,b) = A_{ij}V_{ab}` (bilinear, convex in each factor, not jointly)
is fitted by :func:`fit_factored` with the same optimiser; its objective is L times the MLM loss.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

from numerics.potts import population
from numerics.shared.seeding import as_generator
from theory.errors import InputError, NumericalFailure, check_finite, check_int
from theory.results import result

_BIG = population.CHUNK  # data chunk for the objective


@result
class ValidatedSamples:
    """Samples checked by :func:`check_samples`.

    Attributes
    ----------
    samples : numpy.ndarray, (M, L) int64
        Colours in 0..C-1.
    C : int
        Number of colours (given, or the largest colour + 1).
    """

    samples: np.ndarray
    C: int


def check_samples(S, C: int | None = None) -> ValidatedSamples:
    """Validate samples (M, L) of integer colours (C inferred as max + 1 if not given); raises
    :class:`InputError` naming ``samples``."""
    S = np.asarray(S)
    if S.ndim != 2 or S.shape[0] < 1 or S.shape[1] < 2:
        raise InputError("samples", f"array of shape {S.shape}", "a (M, L) array with M >= 1, L >= 2")
    if not np.issubdtype(S.dtype, np.integer):
        if not (np.all(np.isfinite(S)) and np.all(S == np.round(S))):
            raise InputError("samples", "non-integer entries", "integer colours 0..C-1")
        S = S.astype(np.int64)
    C = int(S.max()) + 1 if C is None else C
    if S.min() < 0 or S.max() >= C or C < 2:
        raise InputError("samples", f"colours in [{S.min()}, {S.max()}]", f"colours in 0..{C - 1}, C >= 2")
    return ValidatedSamples(S.astype(np.int64), C)


def _check_lambda(name: str, value: float) -> None:
    check_finite(name, value)
    if value < 0:
        raise InputError(name, value, "a non-negative penalty")


# ----------------------------------------------------------------------------------------------
# Gauge and scores


@result
class GaugedParameters:
    """General Potts parameters in the zero-sum gauge (the DCA convention); see
    :func:`zero_sum_gauge_with_fields`.

    Attributes
    ----------
    h : numpy.ndarray, (L, C)
        Fields, zero mean over colours at each site.
    J : numpy.ndarray, (L, C, L, C)
        Couplings :math:`P J_{ij} P`, zero sums over each colour index.
    """

    h: np.ndarray
    J: np.ndarray


def zero_sum_gauge(J: np.ndarray) -> np.ndarray:
    """Zero-sum (Ising) gauge of couplings ``J`` (L, C, L, C): :math:`J_{ij} \\to P J_{ij} P`,
    :math:`P = I - \\frac1C\\mathbf 1\\mathbf 1^T`."""
    P = population.centering(J.shape[1])
    return np.einsum("ab,iajc,cd->ibjd", P, J, P, optimize=True)


def zero_sum_gauge_with_fields(J: np.ndarray, h: np.ndarray) -> GaugedParameters:
    """Zero-sum gauge of couplings and fields: :math:`J_{ij} \\to P J_{ij} P`, and the fields absorb
    the removed parts,

    .. math:: h_i(a) \\to h_i(a) - \\bar h_i + \\sum_{j\\ne i}(\\bar J_{ij}(a,\\cdot) - \\bar J_{ij}),

    so the conditionals are unchanged. ``J`` (L, C, L, C), ``h`` (L, C)."""
    Jzs = zero_sum_gauge(J)
    row_means = J.mean(axis=3)  # (L, C, L): mean over b of J_ij(a, b)
    shift = (row_means - row_means.mean(axis=1, keepdims=True)).sum(axis=2)
    hzs = h - h.mean(1, keepdims=True) + shift
    return GaugedParameters(hzs, Jzs)


def symmetrise(J: np.ndarray) -> np.ndarray:
    """:math:`(J_{ij}(a,b) + J_{ji}(b,a))/2`, the plmDCA symmetrisation of asymmetric estimates."""
    return 0.5 * (J + J.transpose(2, 3, 0, 1))


def frobenius_scores(J: np.ndarray, apc: bool = True) -> np.ndarray:
    """Contact scores :math:`F_{ij} = \\|zs(J)_{ij}\\|_F` (L, L), zero diagonal, with the
    average-product correction :math:`F_{ij} - F_{i\\cdot}F_{\\cdot j}/F_{\\cdot\\cdot}` when ``apc``
    (means over off-diagonal entries)."""
    F = np.sqrt(np.einsum("iajb,iajb->ij", zero_sum_gauge(J), zero_sum_gauge(J)))
    L = F.shape[0]
    np.fill_diagonal(F, 0.0)
    if not apc:
        return F
    row = F.sum(1) / (L - 1)
    total = F.sum() / (L * (L - 1))
    out = F - np.outer(row, row) / total
    np.fill_diagonal(out, 0.0)
    return out


def coupling_error(J_fit: np.ndarray, J_true: np.ndarray) -> float:
    """:math:`\\|zs(J) - zs(J^*)\\|_F / \\|zs(J^*)\\|_F` over all site pairs, both (L, C, L, C)."""
    a, b = zero_sum_gauge(J_fit), zero_sum_gauge(J_true)
    den = np.linalg.norm(b)
    if den == 0:
        raise InputError("J_true", "zero couplings", "nonzero true couplings")
    return float(np.linalg.norm(a - b) / den)


def potts_couplings(model) -> np.ndarray:
    """The model's couplings in the fitted scale, :math:`\\beta J_{ij} U_{ab}` (L, C, L, C)."""
    return model.beta * np.einsum("ij,ab->iajb", model.J, model.U)


# ----------------------------------------------------------------------------------------------
# General pseudo-likelihood (L-BFGS)


@result
class PLMFit:
    """A pseudo-likelihood fit with general couplings (the DCA conventions); see :func:`fit_plm`.

    Attributes
    ----------
    h : numpy.ndarray, (L, C)
        Fields in the zero-sum gauge.
    J : numpy.ndarray, (L, C, L, C)
        Couplings in the zero-sum gauge (asymmetric estimates symmetrised).
    objective : float
        The penalised objective at the optimum (nats per sequence plus penalties).
    loss : float
        The MLM loss at the optimum, mean over samples and sites (nats).
    iterations : int
        L-BFGS iterations (0 for the cvxpy oracle).
    """

    h: np.ndarray
    J: np.ndarray
    objective: float
    loss: float
    iterations: int


def _plm_objective(theta, X2, true_index, L, C, lam_h, lam_J, symmetric, mask):
    """Penalised PLM objective and gradient; ``true_index`` (M, L) flat positions of the observed
    colours in the (M, L, C) logits."""
    M = X2.shape[0]
    h = theta[: L * C].reshape(L * C)
    W = theta[L * C:].reshape(L * C, L * C)
    K = (0.5 * (W + W.T) if symmetric else W) * mask
    value, gK, gh = 0.0, np.zeros_like(K), np.zeros(L * C)
    for start in range(0, M, _BIG):
        Xc = X2[start:start + _BIG]
        z = (Xc @ K.T + h).reshape(-1, L, C)
        z -= z.max(axis=2, keepdims=True)
        ez = np.exp(z)
        norm = ez.sum(axis=2, keepdims=True)
        Xc3 = Xc.reshape(-1, L, C)
        value -= float(z.ravel()[true_index[start:start + _BIG].ravel() - start * L * C].sum())
        value += float(np.log(norm).sum())
        ez /= norm
        ez -= Xc3
        R = ez.reshape(-1, L * C)
        gK += R.T @ Xc
        gh += R.sum(0)
    value /= M
    gK, gh = gK * mask / M, gh / M
    if symmetric:
        gK = 0.5 * (gK + gK.T)
    value += lam_h * float(h @ h) + lam_J * float(np.sum(K * K))
    gh = gh + 2 * lam_h * h
    gK = gK + 2 * lam_J * K  # K symmetric when ``symmetric``: the chain rule keeps this form
    return value, np.concatenate([gh, gK.ravel()])


def _block_mask(L: int, C: int) -> np.ndarray:
    mask = np.ones((L, C, L, C))
    mask[np.arange(L), :, np.arange(L), :] = 0.0
    return mask.reshape(L * C, L * C)


def fit_plm(S, C: int | None = None, *, symmetric: bool = False, lam_h: float = 1e-2,
            lam_J: float = 1e-2, max_iter: int = 500, tol: float = 1e-9) -> PLMFit:
    """Pseudo-likelihood maximisation with general couplings, L-BFGS (the objective of the module
    docstring).

    ``K[(i,a),(j,b)] = J_ij(a,b)`` is the (LC, LC) coupling matrix with zero diagonal blocks. The
    asymmetric estimate is symmetrised with :func:`symmetrise`; both are returned in the zero-sum
    gauge. Raises :class:`NumericalFailure` if L-BFGS stops abnormally.
    """
    checked = check_samples(S, C)
    S, C = checked.samples, checked.C
    _check_lambda("lam_h", lam_h)
    _check_lambda("lam_J", lam_J)
    M, L = S.shape
    X2 = population.one_hot(S, C).reshape(M, L * C)
    mask = _block_mask(L, C)
    true_index = (np.arange(M)[:, None] * L + np.arange(L)[None, :]) * C + S
    theta0 = np.zeros(L * C + (L * C) ** 2)
    res = minimize(_plm_objective, theta0, jac=True, method="L-BFGS-B",
                   args=(X2, true_index, L, C, lam_h, lam_J, symmetric, mask),
                   options={"maxiter": max_iter, "ftol": tol, "gtol": 1e-7, "maxcor": 20})
    if not np.isfinite(res.fun) or res.status not in (0, 1):
        raise NumericalFailure(f"pseudo-likelihood L-BFGS failed: {res.message}")
    h = res.x[: L * C].reshape(L, C)
    W = res.x[L * C:].reshape(L * C, L * C)
    K = (0.5 * (W + W.T) if symmetric else W) * mask
    J = K.reshape(L, C, L, C)
    loss = mlm_loss_general(S, h, J)
    if not symmetric:
        J = symmetrise(J)
    gauged = zero_sum_gauge_with_fields(J, h)
    return PLMFit(gauged.h, gauged.J, float(res.fun), loss, int(res.nit))


def mlm_loss_general(S, h, J) -> float:
    """Single-mask MLM loss of general couplings, mean over samples and sites,

    .. math:: -\\frac{1}{ML}\\sum_\\mu\\sum_i \\log\\mathrm{softmax}_a(z_i)(s_i^\\mu),\\qquad
              z_i(a) = h_i(a) + \\sum_j J_{ij}(a, s_j^\\mu),

    ``S`` (M, L), ``h`` (L, C), ``J`` (L, C, L, C) with zero diagonal blocks."""
    M, L = S.shape
    C = h.shape[1]
    X2 = population.one_hot(S, C).reshape(M, L * C)
    z = (X2 @ J.reshape(L * C, L * C).T).reshape(M, L, C) + h
    logp = population.log_softmax(z)
    return float(-logp[np.arange(M)[:, None], np.arange(L)[None, :], S].mean())


def plm_cvxpy(S, C: int | None = None, *, symmetric: bool = False, lam_h: float = 1e-2,
              lam_J: float = 1e-2) -> PLMFit:
    """The same convex objective as :func:`fit_plm`, solved with cvxpy (log-sum-exp), as an oracle
    for small systems (L C <= 60 and M <= 5000). Returns the raw minimiser's objective and the
    gauge-fixed parameters (asymmetric estimates symmetrised, as in :func:`fit_plm`)."""
    import cvxpy as cp

    checked = check_samples(S, C)
    S, C = checked.samples, checked.C
    _check_lambda("lam_h", lam_h)
    _check_lambda("lam_J", lam_J)
    M, L = S.shape
    if L * C > 60 or M > 5000:
        raise InputError("samples", f"L*C = {L * C}, M = {M}", "L*C <= 60 and M <= 5000 for the cvxpy oracle")
    X2 = population.one_hot(S, C).reshape(M, L * C)
    mask = _block_mask(L, C)
    K = cp.Variable((L * C, L * C), symmetric=symmetric)
    h = cp.Variable(L * C)
    Km = cp.multiply(mask, K)
    Z = X2 @ Km.T + np.ones((M, 1)) @ cp.reshape(h, (1, L * C), order="C")
    terms = []
    for i in range(L):
        Zi = Z[:, i * C:(i + 1) * C]
        terms.append(cp.sum(cp.log_sum_exp(Zi, axis=1)) - cp.sum(cp.multiply(X2[:, i * C:(i + 1) * C], Zi)))
    objective = cp.sum(terms) / M + lam_h * cp.sum_squares(h) + lam_J * cp.sum_squares(Km)
    problem = cp.Problem(cp.Minimize(objective))
    try:
        problem.solve(solver=cp.CLARABEL)
    except cp.error.SolverError as exc:
        raise NumericalFailure(f"cvxpy oracle failed: {exc}")
    if problem.status not in ("optimal", "optimal_inaccurate"):
        raise NumericalFailure(f"cvxpy oracle status {problem.status}")
    Kv = (K.value * mask)
    hv = h.value.reshape(L, C)
    J = Kv.reshape(L, C, L, C)
    loss = mlm_loss_general(S, hv, J)
    if not symmetric:
        J = symmetrise(J)
    gauged = zero_sum_gauge_with_fields(J, hv)
    return PLMFit(gauged.h, gauged.J, float(problem.value), loss, 0)


# ----------------------------------------------------------------------------------------------
# Factored family (A, V)


@result
class FactoredFit:
    """Factored attention fitted by MLM (pseudo-likelihood over the family
    :math:`J_{ij}(a,b) = A_{ij}V_{ab}`, Rende et al. 2024, Sec. II); see :func:`fit_factored`.

    Attributes
    ----------
    A : numpy.ndarray, (L, L)
        Position attention, zero diagonal.
    V : numpy.ndarray, (C, C)
        Value matrix.
    b : numpy.ndarray, (L, C)
        Bias.
    loss : float
        MLM loss, mean over samples and sites (nats).
    objective : float
        ``loss`` plus the penalty :math:`\\lambda(\\|A\\|^2 + \\|V\\|^2)`.
    iterations : int
        L-BFGS iterations of the best start.
    """

    A: np.ndarray
    V: np.ndarray
    b: np.ndarray
    loss: float
    objective: float
    iterations: int

    def couplings(self) -> np.ndarray:
        """:math:`A_{ij}V_{ab}` as (L, C, L, C)."""
        return np.einsum("ij,ab->iajb", self.A, self.V)


def fit_factored(S, C: int | None = None, *, lam: float = 1e-4, seed=0, restarts: int = 1,
                 max_iter: int = 1000, init=None) -> FactoredFit:
    """Fit :math:`z_i(a) = \\sum_{j\\ne i}A_{ij}V_{a s_j} + b_i(a)` by minimising the MLM loss plus
    :math:`\\lambda(\\|A\\|^2 + \\|V\\|^2)` with L-BFGS. The objective is bilinear (convex in
    each factor, not jointly), so ``restarts`` random initialisations (scale 0.1, from ``seed``, an
    int or numpy Generator) are tried and the best kept. ``init`` (a
    :class:`~numerics.potts.population.FactoredParameters` or a tuple ``(A, V, b)``) replaces the
    first random start."""
    checked = check_samples(S, C)
    S, C = checked.samples, checked.C
    _check_lambda("lam", lam)
    check_int("restarts", restarts, 1)
    M, L = S.shape
    w = np.full(M, 1.0 / M)
    chunks = list(population.site_major_chunks(S, C, w, _BIG))
    off = ~np.eye(L, dtype=bool)
    nA = int(off.sum())

    def unpack(theta):
        A = np.zeros((L, L))
        A[off] = theta[:nA]
        V = theta[nA:nA + C * C].reshape(C, C)
        b = theta[nA + C * C:].reshape(L, C)
        return A, V, b

    def objective(theta):
        A, V, b = unpack(theta)
        g = population.mlm_loss_and_gradient_site_major(chunks, A, V, b, True)
        value = g.loss + lam * (np.sum(A * A) + np.sum(V * V))
        grad = np.concatenate([(g.dA + 2 * lam * A)[off], (g.dV + 2 * lam * V).ravel(), g.db.ravel()])
        return value, grad

    if isinstance(init, population.FactoredParameters):
        init = (init.A, init.V, init.b)
    rng = as_generator(seed)
    best = None
    for r in range(restarts):
        if r == 0 and init is not None:
            A0, V0, b0 = (np.asarray(x, dtype=float) for x in init)
            theta0 = np.concatenate([A0[off], V0.ravel(), b0.ravel()])
        else:
            theta0 = 0.1 * rng.standard_normal(nA + C * C + L * C)
        res = minimize(objective, theta0, jac=True, method="L-BFGS-B",
                       options={"maxiter": max_iter, "ftol": 1e-12, "gtol": 1e-8, "maxcor": 30})
        if not np.isfinite(res.fun):
            raise NumericalFailure(f"factored fit diverged: {res.message}")
        if best is None or res.fun < best.fun:
            best = res
    A, V, b = unpack(best.x)
    loss = population.mlm_loss_and_gradient(S, w, A, V, b, with_gradient=False)
    return FactoredFit(A, V, b, float(loss), float(best.fun), int(best.nit))


def factored_contact_map(A: np.ndarray, V: np.ndarray) -> np.ndarray:
    """Frobenius scores of one factored head: :math:`|A_{ij}|\\,\\|PVP\\|_F` (zero-sum gauge)."""
    P = population.centering(V.shape[0])
    F = np.abs(A) * np.linalg.norm(P @ V @ P)
    np.fill_diagonal(F, 0.0)
    return F


def log_log_slope(x, y) -> float:
    """Least-squares slope of log y against log x."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    if np.any(x <= 0) or np.any(y <= 0):
        raise InputError("x, y", "non-positive values", "positive values for a log-log fit")
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


__all__ = ["ValidatedSamples", "check_samples", "GaugedParameters", "zero_sum_gauge",
           "zero_sum_gauge_with_fields", "symmetrise", "frobenius_scores", "coupling_error",
           "potts_couplings", "mlm_loss_general", "PLMFit", "fit_plm", "plm_cvxpy", "FactoredFit",
           "fit_factored", "factored_contact_map", "log_log_slope"]

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
from numerics.potts.domains import (MAX_ITER, PENALTY, RESTARTS, check_memory, check_work)
from numerics.shared.seeding import as_generator
from theory.domains import real
from theory.errors import InputError, NumericalFailure, check_int
from theory.results import result

_BIG = population.CHUNK  # data chunk for the objective (fewer rows when L C > 335)


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
    :class:`InputError` naming ``samples``. ``C`` (when given) is an integer >= 2; the samples
    must be integers (an integer array, or a float array holding whole numbers)."""
    S = np.asarray(S)
    if S.ndim != 2 or S.shape[0] < 1 or S.shape[1] < 2:
        raise InputError("samples", f"array of shape {S.shape}", "a (M, L) array with M >= 1, L >= 2")
    if S.dtype.kind not in "iuf":
        raise InputError("samples", f"array of dtype {S.dtype}", "integer colours 0..C-1")
    if C is not None:
        check_int("C", C, 2)
    if not np.issubdtype(S.dtype, np.integer):
        if not (np.all(np.isfinite(S)) and np.all(S == np.round(S))):
            raise InputError("samples", "non-integer entries", "integer colours 0..C-1")
        S = S.astype(np.int64)
    C = int(S.max()) + 1 if C is None else C
    if S.min() < 0 or S.max() >= C or C < 2:
        raise InputError("samples", f"colours in [{S.min()}, {S.max()}]", f"colours in 0..{C - 1}, C >= 2")
    return ValidatedSamples(S.astype(np.int64), C)


def _check_lambda(name: str, value: float) -> None:
    PENALTY.check(name, value)


def _check_couplings(name: str, J) -> np.ndarray:
    J = np.asarray(J)
    if J.dtype.kind not in "iuf" or J.ndim != 4 or J.shape[0] != J.shape[2] \
            or J.shape[1] != J.shape[3]:
        raise InputError(name, f"array of shape {J.shape} and dtype {J.dtype}",
                         "real couplings of shape (L, C, L, C)")
    if not np.all(np.isfinite(J)):
        raise InputError(name, "array with non-finite entries", "finite couplings")
    check_memory(name, f"array of shape {J.shape}", 8.0 * 4 * J.size, "gauge and scores")
    return J.astype(np.float64, copy=False)


def plm_cost(M: int, L: int, C: int, max_iter: int, maxcor: int = 20):
    """Estimated memory (bytes) and operations of :func:`fit_plm`, ``K = L C``: memory
    ``8 (K^2 (2 maxcor + 12) + 4 M K)`` (L-BFGS history, couplings, gradients, mask, one-hot data
    and a chunk of logits); operations ``4 M K^2`` per evaluation, ``max_iter`` evaluations.
    Raises :class:`~theory.errors.TooLargeError` beyond the budget of
    :mod:`numerics.potts.domains`."""
    K = L * C
    memory = 8.0 * (K * K * (2 * maxcor + 12) + 4.0 * M * K)
    check_memory("samples", f"M = {M}, L = {L}, C = {C}", memory, "PLM with (LC)^2 couplings")
    work = 4.0 * M * K * K * max_iter
    check_work("samples", f"M = {M}, L = {L}, C = {C}", work,
               f"up to {max_iter} L-BFGS iterations of 4 M (LC)^2")
    return memory, work


def factored_cost(M: int, L: int, C: int, max_iter: int, restarts: int):
    """Estimated memory (bytes) and operations of :func:`fit_factored`, ``K = L C``: memory
    ``8 M K`` (one-hot data, kept) plus ``6`` chunk-sized blocks; operations
    ``(6 L K + 2 K C) M`` per evaluation, ``restarts max_iter`` evaluations. Raises
    :class:`~theory.errors.TooLargeError` beyond the budget."""
    K = L * C
    rows = min(M, population.chunk_rows(L, C))
    memory = 8.0 * (M * K + 6.0 * rows * K) + 8.0 * 70 * (L * L + C * C + K)
    check_memory("samples", f"M = {M}, L = {L}, C = {C}", memory, "one-hot data and logits")
    work = (6.0 * L * K + 2.0 * K * C) * M * max_iter * restarts
    check_work("samples", f"M = {M}, L = {L}, C = {C}", work,
               f"{restarts} starts x up to {max_iter} L-BFGS iterations")
    return memory, work


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
    J = _check_couplings("J", J)
    P = population.centering(J.shape[1])
    return np.einsum("ab,iajc,cd->ibjd", P, J, P, optimize=True)


def zero_sum_gauge_with_fields(J: np.ndarray, h: np.ndarray) -> GaugedParameters:
    """Zero-sum gauge of couplings and fields: :math:`J_{ij} \\to P J_{ij} P`, and the fields absorb
    the removed parts,

    .. math:: h_i(a) \\to h_i(a) - \\bar h_i + \\sum_{j\\ne i}(\\bar J_{ij}(a,\\cdot) - \\bar J_{ij}),

    so the conditionals are unchanged. ``J`` (L, C, L, C), ``h`` (L, C)."""
    J = _check_couplings("J", J)
    h = np.asarray(h)
    if h.dtype.kind not in "iuf" or h.shape != J.shape[:2] or not np.all(np.isfinite(h)):
        raise InputError("h", f"array of shape {h.shape}", f"finite fields of shape {J.shape[:2]}")
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
    (means over off-diagonal entries). Raises :class:`NumericalFailure` when the APC is
    undefined (all scores zero) or a score is not finite."""
    J = _check_couplings("J", J)
    if J.shape[0] < 2:
        raise InputError("J", f"array of shape {J.shape}", "couplings of at least 2 sites")
    F = np.sqrt(np.einsum("iajb,iajb->ij", zero_sum_gauge(J), zero_sum_gauge(J)))
    L = F.shape[0]
    np.fill_diagonal(F, 0.0)
    if not apc:
        return F
    row = F.sum(1) / (L - 1)
    total = F.sum() / (L * (L - 1))
    if not total > 0 or not np.isfinite(total):
        raise NumericalFailure(f"APC undefined: the mean Frobenius score is {total!r}")
    out = F - np.outer(row, row) / total
    np.fill_diagonal(out, 0.0)
    if not np.all(np.isfinite(out)):
        raise NumericalFailure("APC scores not finite")
    return out


def coupling_error(J_fit: np.ndarray, J_true: np.ndarray) -> float:
    """:math:`\\|zs(J) - zs(J^*)\\|_F / \\|zs(J^*)\\|_F` over all site pairs, both (L, C, L, C)."""
    J_fit, J_true = _check_couplings("J_fit", J_fit), _check_couplings("J_true", J_true)
    if J_fit.shape != J_true.shape:
        raise InputError("J_fit", f"array of shape {J_fit.shape}", f"the shape of J_true, {J_true.shape}")
    a, b = zero_sum_gauge(J_fit), zero_sum_gauge(J_true)
    den = np.linalg.norm(b)
    if den == 0:
        raise InputError("J_true", "zero couplings", "nonzero true couplings")
    out = float(np.linalg.norm(a - b) / den)
    if not np.isfinite(out):
        raise NumericalFailure("coupling error not finite (couplings beyond float64)")
    return out


def potts_couplings(model) -> np.ndarray:
    """The model's couplings in the fitted scale, :math:`\\beta J_{ij} U_{ab}` (L, C, L, C)."""
    if not isinstance(model, population.PottsModel):
        raise InputError("model", f"<{type(model).__name__}>", "a PottsModel (make_model)")
    check_memory("model", f"L = {model.L}, C = {model.C}", 8.0 * 5 * (model.L * model.C) ** 2,
                 "(LC)^2 couplings and their gauge")
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
    MAX_ITER.check("max_iter", max_iter)
    real(0, 1, low_open=True).check("tol", tol)
    M, L = S.shape
    plm_cost(M, L, C, max_iter)
    X2 = population.one_hot(S, C).reshape(M, L * C)
    mask = _block_mask(L, C)
    true_index = (np.arange(M)[:, None] * L + np.arange(L)[None, :]) * C + S
    theta0 = np.zeros(L * C + (L * C) ** 2)
    res = minimize(_plm_objective, theta0, jac=True, method="L-BFGS-B",
                   args=(X2, true_index, L, C, lam_h, lam_J, symmetric, mask),
                   options={"maxiter": max_iter, "ftol": tol, "gtol": 1e-7, "maxcor": 20})
    if not np.isfinite(res.fun) or res.status not in (0, 1) or not np.all(np.isfinite(res.x)):
        raise NumericalFailure(f"pseudo-likelihood L-BFGS failed: {res.message}")
    h = res.x[: L * C].reshape(L, C)
    W = res.x[L * C:].reshape(L * C, L * C)
    K = (0.5 * (W + W.T) if symmetric else W) * mask
    J = K.reshape(L, C, L, C)
    loss = mlm_loss_general(S, h, J)
    if not symmetric:
        J = symmetrise(J)
    gauged = zero_sum_gauge_with_fields(J, h)
    _check_finite_fit("pseudo-likelihood", loss, gauged.h, gauged.J)
    return PLMFit(gauged.h, gauged.J, float(res.fun), loss, int(res.nit))


def _check_finite_fit(what: str, *values) -> None:
    if not all(np.all(np.isfinite(v)) for v in values):
        raise NumericalFailure(f"{what} fit: a fitted value is not finite")


def mlm_loss_general(S, h, J) -> float:
    """Single-mask MLM loss of general couplings, mean over samples and sites,

    .. math:: -\\frac{1}{ML}\\sum_\\mu\\sum_i \\log\\mathrm{softmax}_a(z_i)(s_i^\\mu),\\qquad
              z_i(a) = h_i(a) + \\sum_j J_{ij}(a, s_j^\\mu),

    ``S`` (M, L), ``h`` (L, C), ``J`` (L, C, L, C) with zero diagonal blocks."""
    h = np.asarray(h)
    if h.ndim != 2 or h.dtype.kind not in "iuf":
        raise InputError("h", f"array of shape {h.shape}", "real fields of shape (L, C)")
    J = _check_couplings("J", J)
    S = population.check_configurations(S, h.shape[0], h.shape[1], "S")
    M, L = S.shape
    C = h.shape[1]
    if J.shape != (L, C, L, C) or M == 0:
        raise InputError("J", f"array of shape {J.shape}", f"couplings of shape {(L, C, L, C)} "
                                                           "and at least one sample")
    check_memory("S", f"array of shape {S.shape}", 8.0 * 4 * M * L * C, "one-hot data and logits")
    X2 = population.one_hot(S, C).reshape(M, L * C)
    z = (X2 @ J.reshape(L * C, L * C).T).reshape(M, L, C) + h
    logp = population.log_softmax(z)
    out = float(-logp[np.arange(M)[:, None], np.arange(L)[None, :], S].mean())
    if not np.isfinite(out):
        raise NumericalFailure("MLM loss not finite (logits beyond float64)")
    return out


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
    if K.value is None or h.value is None:
        raise NumericalFailure("cvxpy oracle returned no solution")
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
    RESTARTS.check("restarts", restarts)
    MAX_ITER.check("max_iter", max_iter)
    M, L = S.shape
    factored_cost(M, L, C, max_iter, restarts)
    if init is not None:
        if isinstance(init, population.FactoredParameters):
            init = (init.A, init.V, init.b)
        if not isinstance(init, (tuple, list)) or len(init) != 3:
            raise InputError("init", f"<{type(init).__name__}>", "FactoredParameters or (A, V, b)")
        init = population.check_factored(*init, L, C)
    w = np.full(M, 1.0 / M)
    chunks = list(population.site_major_chunks(S, C, w, min(_BIG, population.chunk_rows(L, C))))
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
    _check_finite_fit("factored", A, V, b)
    loss = population.mlm_loss_and_gradient(S, w, A, V, b, with_gradient=False)
    return FactoredFit(A, V, b, float(loss), float(best.fun), int(best.nit))


def factored_contact_map(A: np.ndarray, V: np.ndarray) -> np.ndarray:
    """Frobenius scores of one factored head: :math:`|A_{ij}|\\,\\|PVP\\|_F` (zero-sum gauge)."""
    A, V = np.asarray(A), np.asarray(V)
    if A.ndim != 2 or V.ndim != 2:
        raise InputError("A, V", f"arrays of shapes {A.shape}, {V.shape}", "(L, L) and (C, C)")
    A, V, _ = population.check_factored(A, V, np.zeros((A.shape[0], V.shape[0])), A.shape[0],
                                        V.shape[0])
    P = population.centering(V.shape[0])
    F = np.abs(A) * np.linalg.norm(P @ V @ P)
    if not np.all(np.isfinite(F)):
        raise NumericalFailure("contact scores not finite")
    np.fill_diagonal(F, 0.0)
    return F


def log_log_slope(x, y) -> float:
    """Least-squares slope of log y against log x."""
    try:
        x, y = np.asarray(x, float), np.asarray(y, float)
    except (TypeError, ValueError):
        raise InputError("x, y", "non-numeric values", "two lists of positive numbers") from None
    if x.ndim != 1 or x.shape != y.shape or len(x) < 2 or len(np.unique(x)) < 2:
        raise InputError("x, y", f"arrays of shapes {x.shape}, {y.shape}",
                         "two lists of the same length with at least two distinct x")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))) or np.any(x <= 0) or np.any(y <= 0):
        raise InputError("x, y", "non-positive or non-finite values",
                         "positive finite values for a log-log fit")
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


__all__ = ["ValidatedSamples", "check_samples", "GaugedParameters", "zero_sum_gauge",
           "zero_sum_gauge_with_fields", "symmetrise", "frobenius_scores", "coupling_error",
           "potts_couplings", "mlm_loss_general", "PLMFit", "fit_plm", "plm_cvxpy", "FactoredFit",
           "fit_factored", "factored_contact_map", "log_log_slope"]

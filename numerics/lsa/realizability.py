"""Realisability: recovery of ``(b, A)`` from X, the best one-layer LSA loss, the Shor lower bound.

Ding et al. 2025, Sec. 3, Thm 3.5 and App. C (Problem C.9): exact recovery of ``(b, A)`` from X
with an infeasibility certificate, the best loss an actual one-layer LSA reaches, the Shor SDP
bound.

- :func:`recover` solves Problem C.9 (``phi(b, A) = X``) in polynomial time: with
  :math:`S_j = (b a_j^\\top + a_j b^\\top)/2`, every nonzero :math:`S_j` has at most one positive and
  one negative eigenvalue and ``b`` must be one of its at most two "null directions"
  :math:`\\sqrt{\\lambda_+}u_+ \\pm \\sqrt{-\\lambda_-}u_-`; given unit ``b``,
  :math:`a_j = 2 S_j b - (b^\\top S_j b) b`. Cost :math:`O(d^4)` (d eigendecompositions).
- :func:`best_lsa` minimises :math:`\\tilde f(\\phi(b, A))`: for fixed ``b`` the loss is a quadratic
  in A (solved exactly, H-metric least squares), so the search runs over the direction of ``b`` on
  the sphere :math:`S^d` (grid/multi-start + BFGS), then alternating least squares polishes.
- :func:`shor_bound`: a Shor (first-level moment) relaxation in the bilinear monomials
  :math:`w_{iq} = b_i \\mathrm{vec}(A)_q`, solved with cvxpy: a lower bound on the best LSA loss.
"""

from __future__ import annotations

from dataclasses import field

import numpy as np

from numerics.lsa import optimum
from numerics.lsa.domains import D_RECOVER, D_SEARCH, D_SHOR, N_CONTEXT, NS_LENGTH, REFINE, STARTS, TOL
from numerics.lsa.optimum import Moments, check_moments, phi, phi_tensor, sym_blocks
from numerics.shared.arrays import float_array
from numerics.shared.seeding import as_generator
from theory.errors import InputError, NumericalFailure
from theory.results import result

__all__ = ["Recovery", "recover", "BestLSA", "profile_loss", "best_lsa", "refine_from", "ShorBound",
           "shor_bound", "LossCurves", "loss_curves"]


@result
class Recovery:
    """Recovery of ``(b, A)`` with :math:`\\phi(b, A) = X` (Ding et al. 2025, App. C, Problem C.9).

    Attributes
    ----------
    realizable : bool
        Whether X is in the image of :math:`\\phi` (to the tolerance of :func:`recover`).
    b : ndarray of shape (d+1,), or None
        Unit-norm last row of P closest to X among the candidates (None for an inertia
        certificate: no candidate exists).
    A : ndarray of shape (d+1, d), or None
        First d columns of Q going with ``b`` (None for an inertia certificate).
    residual : float or None
        :math:`\\|\\phi(b, A) - X\\|_2` (None for an inertia certificate).
    certificate : dict
        Empty when realisable; else why not, with data a reader can check (``reason``
        ``"inertia"`` or ``"no common b"``, see :func:`recover`).
    """

    realizable: bool
    b: np.ndarray | None
    A: np.ndarray | None
    residual: float | None
    certificate: dict = field(default_factory=dict)


def _null_directions(S: np.ndarray, tol: float) -> list[np.ndarray]:
    """Unit vectors b with :math:`S = \\mathrm{sym}(b a^\\top)` for some a (empty if none)."""
    lam, U = np.linalg.eigh(S)
    pos, neg = lam > tol, lam < -tol
    if pos.sum() + neg.sum() == 0:
        return []
    if pos.sum() + neg.sum() == 1:
        return [U[:, np.argmax(np.abs(lam))]]
    up, un = U[:, np.argmax(lam)], U[:, np.argmin(lam)]
    out = []
    for sgn in (1.0, -1.0):
        v = np.sqrt(lam.max()) * up + sgn * np.sqrt(-lam.min()) * un
        out.append(v / np.linalg.norm(v))
    return out


def recover(X, d: int, tol: float = 1e-9) -> Recovery:
    """Exact recovery of ``(b, A)`` with :math:`\\phi(b, A) = X`, or a certificate that none exists
    (Ding et al. 2025, App. C, Problem C.9; polynomial time, against the NP-hardness of Thm 3.5).

    Parameters
    ----------
    X : (d m,) enlarged parameter in the canonical ordering.
    d : chain prefix length.
    tol : relative tolerance (times ``max(1, max|X|)``) for eigenvalues and the residual.

    Certificates: ``{"reason": "inertia", "block": j, "eigenvalues": [...]}`` (some :math:`S_j` has
    two eigenvalues of one sign, so its quadratic form is definite on a plane; for d = 1 this is
    :math:`X_2^2 < 4X_1X_3`) or ``{"reason": "no common b", "candidates": ..., "residuals": ...}``
    (every block alone is realisable, but the directions b they allow do not agree).
    """
    D_RECOVER.check("d", d)
    if isinstance(tol, bool) or not isinstance(tol, (int, float)):
        raise InputError("tol", tol, TOL.describe())
    TOL.check("tol", tol)
    S = sym_blocks(X, d)
    X = np.asarray(X, float).reshape(-1)
    scale = max(1.0, float(np.abs(X).max()))
    eps = tol * scale
    for j in range(d):
        lam = np.linalg.eigvalsh(S[j])
        if (lam > eps).sum() > 1 or (lam < -eps).sum() > 1:
            return Recovery(False, None, None, None,
                            {"reason": "inertia", "block": j + 1, "eigenvalues": lam.tolist(),
                             "explanation": f"S_{j + 1} has two eigenvalues of one sign; "
                             "sym(b a^T) never does"})
    norms = np.linalg.norm(S.reshape(d, -1), axis=1)
    if norms.max() <= eps:
        b = np.eye(d + 1)[0]
        return Recovery(True, b, np.zeros((d + 1, d)), float(np.linalg.norm(X)))
    candidates = _null_directions(S[int(np.argmax(norms))], eps)
    results = []
    for b in candidates:
        A = np.stack([2 * S[j] @ b - (b @ S[j] @ b) * b for j in range(d)], axis=1)
        results.append((float(np.linalg.norm(phi(b, A) - X)), b, A))
    residual, b, A = min(results, key=lambda r: r[0])
    if residual <= eps * np.sqrt(X.size):
        return Recovery(True, b, A, residual)
    cert = {"reason": "no common b", "candidates": [c.tolist() for c in candidates],
            "residuals": [r[0] for r in results],
            "explanation": "each S_j is realisable alone, but no candidate b from the largest "
                           "block realises all blocks"}
    return Recovery(False, b, A, residual, cert)


# ----------------------------------------------------------------------------------------------
# Best achievable one-layer loss


@result
class BestLSA:
    """The best found one-layer LSA: :math:`\\min_{b, A} \\tilde f(\\phi(b, A))` (Ding et al. 2025,
    Sec. 3, realisability).

    Attributes
    ----------
    loss : float
        :math:`\\tilde f(\\phi(b, A))`, the population loss of the one-layer LSA.
    b : ndarray, shape (d+1,)
        Unit-norm last row of P.
    A : ndarray, shape (d+1, d)
        First d columns of Q (the optimal A for ``b``).
    X : ndarray, shape (dm,)
        :math:`\\phi(b, A)`.
    starts : int
        Number of start directions of the search (1 for :func:`refine_from`).
    """

    loss: float
    b: np.ndarray
    A: np.ndarray
    X: np.ndarray
    starts: int


def _profile(b, mom: Moments, T):
    """``(loss, A)`` minimising over A at fixed b (H-metric least squares)."""
    L = np.einsum("fiq,i->fq", T, b)
    M = L.T @ mom.H @ L
    r = L.T @ mom.h
    try:
        a = np.linalg.solve(M, r)
    except np.linalg.LinAlgError:
        a = np.linalg.lstsq(M, r, rcond=None)[0]
    return float(mom.Ey - r @ a), a


def _profile_grad(b, mom: Moments, T):
    """``(g(b), grad g(b))`` with :math:`\\partial g/\\partial b_i = -2 (T_i a)^\\top (h - H L a)`."""
    nb = np.linalg.norm(b)
    if nb == 0:
        return float(mom.Ey), np.zeros_like(b)
    loss, a = _profile(b, mom, T)
    X = np.einsum("fiq,i,q->f", T, b, a)
    grad = -2 * np.einsum("fiq,q,f->i", T, a, mom.h - mom.H @ X)
    return loss, grad


def profile_loss(b, mom: Moments) -> float:
    """:math:`g(b) = \\min_A \\tilde f(\\phi(b, A))` (scale-invariant in b; ``b`` of length d+1
    with ``d m`` = the dimension of the moments)."""
    b = float_array("b", b, ndim=1)
    d = b.size - 1
    D_SEARCH.check("len(b) - 1", d)
    mom = check_moments(mom, d)
    nb = np.linalg.norm(b)
    if nb == 0:
        return float(mom.Ey)
    return _profile(b / nb, mom, phi_tensor(d))[0]


def _sphere_starts(d: int, count: int, rng) -> np.ndarray:
    if d == 1:
        theta = np.linspace(0, np.pi, count, endpoint=False)
        return np.stack([np.cos(theta), np.sin(theta)], axis=1)
    v = rng.standard_normal((count, d + 1))
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _als(b, mom: Moments, T, iters: int):
    """Alternating least squares in the H-metric: A given b, then b given A."""
    for _ in range(iters):
        _, a = _profile(b, mom, T)
        Lb = np.einsum("fiq,q->fi", T, a)
        M = Lb.T @ mom.H @ Lb
        try:
            b_new = np.linalg.solve(M, Lb.T @ mom.h)
        except np.linalg.LinAlgError:
            break
        if not np.all(np.isfinite(b_new)) or np.linalg.norm(b_new) == 0:
            break
        b = b_new / np.linalg.norm(b_new)
    return b


def best_lsa(mom: Moments, d: int, starts: int | None = None, refine: int = 6,
             seed=0) -> BestLSA:
    """Global search for :math:`\\min_{b, A} \\tilde f(\\phi(b, A))` = the best population loss of a
    one-layer LSA (Ding et al. 2025, Sec. 3).

    ``starts`` directions of b (d = 1: an even grid of angles; else random on the sphere), the best
    ``refine`` of them refined by BFGS on :func:`profile_loss` and polished by alternating least
    squares. Deterministic for a given ``seed`` (int >= 0 or numpy Generator).

    Cost: ``starts + 400 refine`` H-metric solves of size (d+1)d, each about (d m)^2 (d+1)d
    operations: ``d`` is at most :data:`numerics.lsa.domains.D_SEARCH` (about 40 s at d = 8).
    """
    D_SEARCH.check("d", d)
    mom = check_moments(mom, d)
    if starts is not None:
        STARTS.check("starts", starts)
    REFINE.check("refine", refine)
    T = phi_tensor(d)
    rng = as_generator(seed)
    starts = starts or (720 if d == 1 else 40 * (d + 1))
    B = _sphere_starts(d, starts, rng)
    values = np.array([_profile(b, mom, T)[0] for b in B])
    best = None
    for idx in np.argsort(values)[:refine]:
        if d == 1:
            b = _golden_angle(np.arctan2(B[idx, 1], B[idx, 0]), np.pi / starts, mom, T)
        else:
            from scipy.optimize import minimize

            res = minimize(lambda v: _profile_grad(v, mom, T), B[idx], jac=True, method="BFGS",
                           options={"gtol": 1e-13, "maxiter": 400})
            b = res.x / np.linalg.norm(res.x)
        b = _als(b, mom, T, 20)
        loss, a = _profile(b, mom, T)
        if best is None or loss < best[0]:
            best = (loss, b, a)
    loss, b, a = best
    if not np.isfinite(loss):
        raise NumericalFailure("best_lsa: the search produced a non-finite loss")
    A = a.reshape(d + 1, d)
    return BestLSA(loss, b, A, phi(b, A), starts)


def refine_from(b0, mom: Moments, d: int) -> BestLSA:
    """The local minimum of :func:`profile_loss` reached from the direction ``b0`` (BFGS on the
    profile, then alternating least squares): tells whether a trained model sits at the global or
    at a spurious local minimum of the one-layer landscape."""
    from scipy.optimize import minimize

    D_SEARCH.check("d", d)
    mom = check_moments(mom, d)
    b0 = float_array("b0", b0, shape=(d + 1,))
    if np.linalg.norm(b0) == 0:
        raise InputError("b0", b0.tolist(), "a nonzero direction")
    T = phi_tensor(d)
    res = minimize(lambda v: _profile_grad(v, mom, T), b0 / np.linalg.norm(b0), jac=True,
                   method="BFGS", options={"gtol": 1e-13, "maxiter": 400})
    b = _als(res.x / np.linalg.norm(res.x), mom, T, 20)
    loss, a = _profile(b, mom, T)
    if not (np.isfinite(loss) and np.all(np.isfinite(b)) and np.all(np.isfinite(a))):
        raise NumericalFailure("refine_from: the local search produced a non-finite point")
    A = a.reshape(d + 1, d)
    return BestLSA(loss, b, A, phi(b, A), 1)


def _golden_angle(theta0: float, width: float, mom: Moments, T, iters: int = 80) -> np.ndarray:
    """d = 1: golden-section search of the profile over the angle of b in
    ``[theta0 - width, theta0 + width]`` (numpy only: keeps ``ttc lsa optimum --d 1`` light)."""
    g = lambda t: _profile(np.array([np.cos(t), np.sin(t)]), mom, T)[0]
    lo, hi = theta0 - width, theta0 + width
    r = (np.sqrt(5) - 1) / 2
    c, e = hi - r * (hi - lo), lo + r * (hi - lo)
    gc, ge = g(c), g(e)
    for _ in range(iters):
        if gc < ge:
            hi, e, ge = e, c, gc
            c = hi - r * (hi - lo)
            gc = g(c)
        else:
            lo, c, gc = c, e, ge
            e = lo + r * (hi - lo)
            ge = g(e)
    t = (lo + hi) / 2
    return np.array([np.cos(t), np.sin(t)])


# ----------------------------------------------------------------------------------------------
# Shor relaxation


@result
class ShorBound:
    """The Shor relaxation of the best one-layer loss (Ding et al. 2025, Sec. 3 / App. C; the
    relaxation is the library's).

    Attributes
    ----------
    bound : float
        A lower bound on :math:`\\min_{b, A} \\tilde f(\\phi(b, A))`.
    status : str
        The solver's status (``"optimal"`` or ``"optimal_inaccurate"``).
    rank_one_gap : float
        Second-largest over largest eigenvalue of the moment matrix (~0 means tight).
    """

    bound: float
    status: str
    rank_one_gap: float


def shor_bound(mom: Moments, d: int, solver: str | None = None) -> ShorBound:
    """Shor relaxation of :math:`\\min_{b,A}\\tilde f(\\phi(b,A))`.

    With monomials :math:`w_{iq} = b_i \\mathrm{vec}(A)_q`, :math:`X = \\Phi w` and the moment matrix
    :math:`Y = [[1, w^\\top], [w, W]] \\succeq 0` whose entries obey the consistency
    :math:`W_{(i,q),(i',q')} = W_{(i',q),(i,q')}` of :math:`b_i b_{i'} a_q a_{q'}`:

    .. math:: \\min\\ \\mathrm{tr}(\\Phi^\\top H \\Phi W) - 2 h^\\top \\Phi w + E[y]
              \\quad\\text{s.t. } Y \\succeq 0,\\ \\text{consistency}.

    Every rank-one Y from an actual (b, A) is feasible, so the value is a lower bound.
    """
    import cvxpy as cp

    D_SHOR.check("d", d)
    mom = check_moments(mom, d)
    if solver is not None and not isinstance(solver, str):
        raise InputError("solver", solver, "a cvxpy solver name such as 'CLARABEL'")
    T = phi_tensor(d)
    nb, nq = d + 1, (d + 1) * d
    Phi = T.reshape(T.shape[0], nb * nq)
    Q = Phi.T @ mom.H @ Phi
    Q = 0.5 * (Q + Q.T)
    N = nb * nq
    Y = cp.Variable((N + 1, N + 1), symmetric=True)
    w, W = Y[1:, 0], Y[1:, 1:]
    cons = [Y >> 0, Y[0, 0] == 1]
    for i in range(nb):
        for i2 in range(i + 1, nb):
            for q in range(nq):
                for q2 in range(nq):
                    cons.append(W[i * nq + q, i2 * nq + q2] == W[i2 * nq + q, i * nq + q2])
    objective = cp.trace(Q @ W) - 2 * (mom.h @ Phi) @ w + mom.Ey
    prob = cp.Problem(cp.Minimize(objective), cons)
    try:
        prob.solve(solver=solver or "CLARABEL")
    except (cp.error.SolverError, ValueError) as exc:
        raise NumericalFailure(f"shor_bound: solver failed: {exc}")
    if prob.status not in ("optimal", "optimal_inaccurate") or prob.value is None:
        raise NumericalFailure(f"shor_bound: solver status {prob.status}")
    if not np.isfinite(prob.value) or not np.all(np.isfinite(Y.value)):
        raise NumericalFailure("shor_bound: the solver returned a non-finite value")
    lam = np.linalg.eigvalsh(Y.value)
    return ShorBound(float(prob.value), prob.status, float(lam[-2] / lam[-1]) if lam[-1] > 0 else 0.0)


# ----------------------------------------------------------------------------------------------
# f~* and the best one-layer loss against n


@result
class LossCurves:
    """:math:`\\tilde f^*(n)` and the best one-layer LSA loss against the number of context chains n
    (Ding et al. 2025, Sec. 3, realisability gap).

    Attributes
    ----------
    fstar : ndarray, shape (len(ns),)
        :math:`\\tilde f^*` (enlarged space) at each n.
    best : ndarray, shape (len(ns),)
        The best one-layer LSA loss (:func:`best_lsa`) at each n; equal to ``fstar`` where X* is
        realisable, above it elsewhere.
    """

    fstar: np.ndarray
    best: np.ndarray


def loss_curves(d: int, ns, seed=0, p: float = 0.5) -> LossCurves:
    """:math:`\\tilde f^*(n)` (quadrature moments) and :func:`best_lsa` at every n in ``ns``, at
    ``P(s_1 = 1) = p``; ``seed`` goes to :func:`best_lsa`. At most
    :data:`numerics.lsa.domains.NS_LENGTH` values of n (one global search each)."""
    D_SEARCH.check("d", d)
    optimum.check_p(p)
    if isinstance(ns, (str, bytes)) or not hasattr(ns, "__len__"):
        raise InputError("ns", ns, "a sequence of integers n >= 1")
    NS_LENGTH.check("len(ns)", len(ns))
    ns = [N_CONTEXT.check("ns", int(v) if isinstance(v, np.integer) else v) for v in ns]
    fst, best = [], []
    for nv in ns:
        mom = optimum.markov_moments_numeric(d, p, nv)
        fst.append(optimum.optimum(mom).loss)
        best.append(best_lsa(mom, d, seed=seed).loss)
    return LossCurves(np.array(fst), np.array(best))

"""Fig. 2 of Ding et al. 2025: the Pareto view of Theorem 4.1 (Part 2 §A), numpy/scipy.

For one prompt with context rows :math:`x_j \\in \\mathbb{R}^d`, labels :math:`y_j` (j <= n):
:math:`M = \\frac1n\\sum_j x_jx_j^\\top \\succ 0`, :math:`c = \\frac1n\\sum_j y_jx_j`,
:math:`w_{LS} = M^{-1}c`, :math:`L_{LS} = \\frac{1}{2n}\\sum_j (w_{LS}^\\top x_j - y_j)^2`. Then

.. math:: R_{1,1:d}(w) = -Mw, \\qquad R_{1,d+1}(w) = L_{LS} + \\tfrac12 (w - w_{LS})^\\top M (w - w_{LS}),

the Pareto set of :math:`R_1` (all d+1 objectives minimised) is :math:`\\{w_{LS} + \\mu : \\mu \\ge 0\\}`
and the front is :math:`PF(\\mu) = (-c - M\\mu,\\ L_{LS} + \\tfrac12\\mu^\\top M\\mu)` (Part 2 §A, the
library's derivation). The generational distance of a layer is
:math:`GD_l = \\text{mean over prompts of}\\ \\min_{\\mu \\ge 0}\\|R_1(w_l) - PF(\\mu)\\|_2`
(Van Veldhuizen, p = 1; L-BFGS-B from :math:`\\mu = \\max(w_l - w_{LS}, 0)` and from 0).

The deterministic gradient-descent stack (:func:`gd_stack`): :math:`b_l = e_{d+1}`,
:math:`\\bar A_l = \\eta I`, :math:`a_l = 0`, :math:`\\eta = 1/\\lambda_{max}(M)` gives
:math:`w_l - w_{LS} = -(I - \\eta M)^l w_{LS}` and :math:`GD_l = O(\\rho^l)`,
:math:`\\rho = \\rho(I - \\eta M) = 1 - \\lambda_{min}/\\lambda_{max}`.
"""

from __future__ import annotations

import numpy as np

from numerics.lsa import optimum
from numerics.lsa.domains import LAYERS, PARETO_D, PARETO_N, SIZE, check_memory, prompts_bytes
from numerics.shared.arrays import float_array
from numerics.shared.seeding import as_generator
from theory.errors import InputError, NumericalFailure
from theory.results import result

__all__ = ["LeastSquares", "ParetoPrompts", "ParetoView", "least_squares", "front_point",
           "dominates", "dominating_move", "generational_distance", "generational_distances",
           "sample_pareto_prompts",
           "stack_weights", "gd_stack", "pareto_view", "dominance_counts"]

#: Smallest accepted :math:`\\lambda_{min}(M)/\\lambda_{max}(M)`: below it a prompt's M counts as
#: singular (all chains constant) and the prompt is redrawn.
MIN_CONDITION = 1e-10


@result
class LeastSquares:
    """The least-squares quantities of one prompt that fix :math:`R_1`'s Pareto set (Part 2 §A).

    Attributes
    ----------
    M : ndarray, shape (d, d)
        :math:`\\frac1n\\sum_j x_jx_j^\\top` (positive definite).
    c : ndarray, shape (d,)
        :math:`\\frac1n\\sum_j y_jx_j`.
    w_ls : ndarray, shape (d,)
        :math:`M^{-1}c`.
    loss_ls : float
        :math:`L_{LS} = R_{1,d+1}(w_{LS})`.
    """

    M: np.ndarray
    c: np.ndarray
    w_ls: np.ndarray
    loss_ls: float


@result
class ParetoPrompts:
    """Binary prompts for the Pareto view (p = 1/2, random kernel per prompt) with invertible M.

    Attributes
    ----------
    Z : ndarray, shape (size, d+1, n+1)
        Prompts (query label slot 0).
    y : ndarray, shape (size,)
        Query targets.
    redrawn : int
        Prompts redrawn because their M was singular (every chain constant).
    """

    Z: np.ndarray
    y: np.ndarray
    redrawn: int


@result
class ParetoView:
    """R_1, R_2 and the generational distance per layer (Fig. 2 of Ding et al. 2025; Part 2 §A).

    Attributes
    ----------
    gd : ndarray, shape (L+1,)
        :math:`GD_l`, l = 0..L (mean over prompts).
    r1 : ndarray, shape (L+1, d+1)
        Mean over prompts of :math:`R_1(w_l)`.
    r2 : ndarray, shape (L+1, d+1)
        Mean over prompts of :math:`R_2(w_l)` (values only: R_2 is not convex).
    rho : float
        Mean over prompts of :math:`\\rho(I - M/\\lambda_{max}(M))`, the rate of the GD stack.
    weights : ndarray, shape (prompts, L+1, d)
        :math:`w_l` per prompt.
    """

    gd: np.ndarray
    r1: np.ndarray
    r2: np.ndarray
    rho: float
    weights: np.ndarray


def _xy(Z):
    Z = float_array("Z", Z, ndim=2)
    d, n = Z.shape[0] - 1, Z.shape[1] - 1
    if d < 1 or n < 1:
        raise InputError("Z", f"shape {Z.shape}", "a (d+1) x (n+1) prompt, d >= 1, n >= 1")
    return Z[:d, :n].T, Z[d, :n]


def least_squares(xs, ys) -> LeastSquares:
    """:class:`LeastSquares` of one prompt: ``xs`` (n, d) context rows, ``ys`` (n,) labels;
    :class:`NumericalFailure` when M is singular (:data:`MIN_CONDITION`)."""
    xs, ys = float_array("xs", xs, ndim=2), float_array("ys", ys, ndim=1)
    if ys.shape != (xs.shape[0],):
        raise InputError("ys", f"shape {ys.shape}", f"a vector of length n = {xs.shape[0]}")
    n = xs.shape[0]
    M, c = xs.T @ xs / n, xs.T @ ys / n
    lam = np.linalg.eigvalsh(M)
    if lam[0] <= MIN_CONDITION * max(lam[-1], 1e-300):
        raise NumericalFailure("least_squares: M = (1/n) sum x_j x_j^T is singular")
    w = np.linalg.solve(M, c)
    return LeastSquares(M, c, w, float(((xs @ w - ys) ** 2).sum() / (2 * n)))


def front_point(mu, ls: LeastSquares) -> np.ndarray:
    """:math:`PF(\\mu) = (-c - M\\mu, L_{LS} + \\frac12\\mu^\\top M\\mu)` = :math:`R_1(w_{LS}+\\mu)`."""
    mu = float_array("mu", mu, shape=ls.c.shape)
    return np.concatenate([-ls.c - ls.M @ mu, [ls.loss_ls + 0.5 * mu @ ls.M @ mu]])


def dominates(u, v, tol: float = 1e-12) -> bool:
    """Whether objective vector ``u`` Pareto-dominates ``v`` (minimisation): ``u <= v + tol``
    everywhere and ``u < v - tol`` somewhere."""
    u, v = np.asarray(u, float), np.asarray(v, float)
    return bool(np.all(u <= v + tol) and np.any(u < v - tol))


def dominating_move(w, ls: LeastSquares) -> np.ndarray | None:
    """For :math:`w` off the Pareto set (:math:`\\mu = w - w_{LS}` with some :math:`\\mu_k < 0`):
    :math:`w + tM^{-1}e_k`, :math:`t = -\\mu_k/(M^{-1})_{kk}`, which lowers :math:`R_{1,k}` by t,
    keeps the other :math:`R_{1,i}` (i <= d) and lowers the loss by :math:`t|\\mu_k|/2`
    (most negative k). None when :math:`\\mu \\ge 0`."""
    mu = float_array("w", w, shape=ls.c.shape) - ls.w_ls
    k = int(np.argmin(mu))
    if mu[k] >= 0:
        return None
    Minv = np.linalg.inv(ls.M)
    return w + (-mu[k] / Minv[k, k]) * Minv[:, k]


def generational_distance(r1, ls: LeastSquares) -> float:
    """:math:`\\min_{\\mu\\ge 0}\\|r_1 - PF(\\mu)\\|_2` for one objective vector ``r1`` (length
    d+1): :func:`generational_distances` with one prompt."""
    r1 = float_array("r1", r1, shape=(ls.c.size + 1,))
    return float(generational_distances(r1[None, :], [ls])[0])


def generational_distances(r1s, lss) -> np.ndarray:
    """:math:`\\min_{\\mu\\ge 0}\\|r_1^{(i)} - PF_i(\\mu)\\|_2` for every row ``r1s[i]`` (shape
    (P, d+1)) with its prompt's :class:`LeastSquares` ``lss[i]``.

    L-BFGS-B (analytic gradient, bounds :math:`\\mu \\ge 0`) from :math:`\\mu = \\max(w - w_{LS}, 0)`
    (:math:`w = -M^{-1}r_{1,1:d}`) and from :math:`\\mu = 0`; per row the smaller value. The rows
    are solved as one separable problem (the sum of the squared distances: its minimiser
    minimises every term), one call per start, in the variables :math:`\\nu = s\\mu` (s the
    column norms of each M: about half the iterations)."""
    from scipy.optimize import minimize

    r1s = float_array("r1s", r1s, ndim=2)
    P, d = r1s.shape[0], r1s.shape[1] - 1
    if len(lss) != P or any(ls.c.shape != (d,) for ls in lss):
        raise InputError("lss", f"{len(lss)} items", f"{P} LeastSquares of dimension {d}")
    M = np.stack([ls.M for ls in lss])
    c = np.stack([ls.c for ls in lss])
    L0 = np.array([ls.loss_ls for ls in lss])
    w_ls = np.stack([ls.w_ls for ls in lss])

    def residual(mu):
        Mmu = np.einsum("pij,pj->pi", M, mu)
        head = -c - Mmu - r1s[:, :d]
        tail = L0 + 0.5 * np.einsum("pi,pi->p", mu, Mmu) - r1s[:, d]
        return head, tail, Mmu

    scale = np.sqrt(np.einsum("pij,pij->pj", M, M))   # mu = nu / scale: column norms of M

    def fun(flat):
        mu = flat.reshape(P, d) / scale
        head, tail, Mmu = residual(mu)
        grad = (-np.einsum("pij,pj->pi", M, head) + tail[:, None] * Mmu) / scale
        return float((head ** 2).sum() + (tail ** 2).sum()), 2 * grad.ravel()

    w = -np.linalg.solve(M, r1s[:, :d, None])[..., 0]
    best = np.full(P, np.inf)
    for start in (np.maximum(w - w_ls, 0), np.zeros((P, d))):
        res = minimize(fun, (start * scale).ravel(), jac=True, method="L-BFGS-B",
                       bounds=[(0, None)] * (P * d),
                       options={"ftol": 1e-16, "gtol": 1e-13, "maxiter": 2000, "maxcor": 10})
        head, tail, _ = residual(np.maximum(res.x.reshape(P, d) / scale, 0))
        best = np.minimum(best, np.sqrt((head ** 2).sum(1) + tail ** 2))
    if not np.all(np.isfinite(best)):
        raise NumericalFailure("generational_distances: not finite")
    return best


def sample_pareto_prompts(d: int, n: int, size: int, seed) -> ParetoPrompts:
    """``size`` binary prompts (p = 1/2, kernel ``U(0,1)^2`` per prompt;
    :func:`numerics.lsa.optimum.sample_markov_prompts`) whose M is invertible; the rare prompts
    with singular M are redrawn from the same generator (count in ``redrawn``)."""
    PARETO_D.check("d", d)
    PARETO_N.check("n", n)
    SIZE.check("size", size)
    check_memory("size", size, 2 * prompts_bytes(d + 1, n, size), f"prompts (d = {d}, n = {n})")
    rng = as_generator(seed)
    Zs, ys, redrawn = [], [], 0
    while sum(len(z) for z in Zs) < size:
        batch = optimum.sample_markov_prompts(d, 0.5, n, size - sum(len(z) for z in Zs), rng)
        xs = batch.Z[:, :d, :n]
        lam = np.linalg.eigvalsh(np.einsum("pin,pjn->pij", xs, xs) / n)
        ok = lam[:, 0] > MIN_CONDITION * np.maximum(lam[:, -1], 1e-300)
        redrawn += int((~ok).sum())
        if redrawn > 100 * size:
            raise NumericalFailure(f"sample_pareto_prompts: M is singular for almost every "
                                   f"prompt (n = {n} < d = {d}?)")
        Zs.append(batch.Z[ok])
        ys.append(batch.y[ok])
    return ParetoPrompts(np.concatenate(Zs), np.concatenate(ys), redrawn)


def stack_weights(Z, layers: int) -> tuple[np.ndarray, float]:
    """The GD stack's weights :math:`w_0..w_L` on one prompt through Theorem 4.1's recursion
    (:func:`numerics.lsa.optimum.multilayer_weights`: :math:`b_l = e_{d+1}`,
    :math:`\\bar A_l = \\eta I`, :math:`a_l = 0`, :math:`\\eta = 1/\\lambda_{max}(M)`), and
    :math:`\\rho = \\rho(I - \\eta M)`. Returns ``(weights (L+1, d), rho)``."""
    LAYERS.check("layers", layers)
    xs, ys = _xy(Z)
    d = xs.shape[1]
    ls = least_squares(xs, ys)
    lam = np.linalg.eigvalsh(ls.M)
    eta = 1.0 / lam[-1]
    ws = optimum.multilayer_weights([np.eye(d + 1)[d]] * layers, [eta * np.eye(d)] * layers,
                                    [np.zeros(d)] * layers, xs, ys)
    rho = float(np.max(np.abs(1 - eta * lam)))
    return ws, rho


def _view(Z_all, weights, rhos) -> ParetoView:
    L1 = weights.shape[1]
    d = weights.shape[2]
    r1s, r2s, lss = [], [], []
    for Z, ws in zip(Z_all, weights):
        xs, ys = _xy(Z)
        ls = least_squares(xs, ys)
        for w in ws:
            r1s.append(optimum.objective_R1(w, xs, ys))
            r2s.append(optimum.objective_R2(w, xs, ys))
            lss.append(ls)
    P = len(Z_all)
    gd = generational_distances(np.array(r1s), lss).reshape(P, L1)
    out = ParetoView(gd.mean(0), np.array(r1s).reshape(P, L1, d + 1).mean(0),
                     np.array(r2s).reshape(P, L1, d + 1).mean(0), float(np.mean(rhos)), weights)
    if not all(np.all(np.isfinite(a)) for a in (out.gd, out.r1, out.r2)):
        raise NumericalFailure("pareto_view: non-finite objective values")
    return out


def gd_stack(d: int, n: int, layers: int, prompts: int = 64, seed=0) -> ParetoView:
    """:class:`ParetoView` of the deterministic gradient-descent stack (Part 2 §A, P2) on
    ``prompts`` sampled binary prompts (``d`` <= 16, ``n`` <= 10^4, ``layers`` <= 16)."""
    PARETO_D.check("d", d)
    PARETO_N.check("n", n)
    LAYERS.check("layers", layers)
    data = sample_pareto_prompts(d, n, prompts, seed)
    out = [stack_weights(Z, layers) for Z in data.Z]
    return _view(data.Z, np.stack([w for w, _ in out]), [r for _, r in out])


def pareto_view(Z, weights) -> ParetoView:
    """:class:`ParetoView` of given per-layer weights: ``Z`` (prompts, d+1, n+1), ``weights``
    (prompts, L+1, d) (e.g. read off a trained LSA, :mod:`validation.lsa.pareto`)."""
    Z = float_array("Z", Z, ndim=3)
    weights = float_array("weights", weights, ndim=3)
    if weights.shape[0] != Z.shape[0] or weights.shape[2] != Z.shape[1] - 1:
        raise InputError("weights", f"shape {weights.shape}", f"({Z.shape[0]}, L+1, "
                         f"{Z.shape[1] - 1}) for Z of shape {Z.shape}")
    rhos = []
    for z in Z:
        lam = np.linalg.eigvalsh(least_squares(*_xy(z)).M)
        rhos.append(1 - lam[0] / lam[-1])
    return _view(Z, weights, rhos)


def dominance_counts(d: int, n: int, prompts: int, front: int, points: int, seed,
                     tol: float = 1e-12) -> dict:
    """Part 2 §A, P1, on sampled prompts: ``front`` random front points :math:`w_{LS}+\\mu`
    (:math:`\\mu \\sim |N(0, I)|`) against ``points`` random w (:math:`w_{LS} + N(0, I)`) per prompt.
    Returns ``dominated_front`` (pairs where a random point dominates a front point; expected
    0), ``off_front`` (random points off the Pareto set) and ``moved_dominates`` (of those, how
    many :func:`dominating_move` dominates; expected all), with tolerance ``tol``."""
    data = sample_pareto_prompts(d, n, prompts, seed)
    rng = as_generator(seed)
    dominated, pairs, off, moved = 0, 0, 0, 0
    for Z in data.Z:
        xs, ys = _xy(Z)
        ls = least_squares(xs, ys)
        F = [front_point(np.abs(rng.standard_normal(d)), ls) for _ in range(front)]
        W = ls.w_ls + rng.standard_normal((points, d))
        R = [optimum.objective_R1(w, xs, ys) for w in W]
        for f in F:
            for r in R:
                pairs += 1
                dominated += dominates(r, f, tol)
        for w, r in zip(W, R):
            new = dominating_move(w, ls)
            if new is not None:
                off += 1
                moved += dominates(optimum.objective_R1(new, xs, ys), r, tol)
    return {"pairs": pairs, "dominated_front": dominated, "off_front": off,
            "moved_dominates": moved}

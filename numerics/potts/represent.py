"""Representability: the population MLM loss minimised over parameterisations of factored attention.

The conditions of the mapping of Rende et al. 2024 (Sec. II): unnormalised attention when J has
mixed signs, and the value rank (``ttc potts represent``). Only the attention's parameterisation
differs between variants; the value matrices and the bias are free in all of them (or, with
``embed=k``, :math:`V^{(h)} = W_O^{(h)} W_V^{(h)} E`, rank <= k).

- ``free``: :math:`A^{(h)}` any matrix with zero diagonal;
- ``softmax``: :math:`A^{(h)}_{ij} = \\mathrm{softmax}_{j\\ne i}(q^{(h)}_i\\cdot k^{(h)}_j/\\sqrt d)`;
- ``sink``: softmax over all j (self included), then the self weight dropped.

The gradients are the library's closed forms (:func:`numerics.potts.population.mlm_loss_and_gradient`,
here for several heads) pushed through each parameterisation by the chain rule; scipy L-BFGS
minimises. ``validation.potts.models.FactoredAttention`` is the same model in torch (tests compare them).
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
from scipy.optimize import minimize

from numerics.potts import population
from numerics.potts.domains import MAX_ITER, RESTARTS, check_memory, check_work
from theory.domains import real
from numerics.shared.seeding import as_generator
from theory.errors import InputError, NumericalFailure, check_choice, check_int
from theory.results import result

#: The attention parameterisations, in the order the claims and the CLI list them.
ATTENTIONS = ("free", "softmax", "sink")


@result
class MultiheadLossGradient:
    """Weighted MLM loss of multi-head factored attention and its gradient with respect to each
    head's attention and value matrices and the bias; see :func:`multihead_loss_and_gradient`.

    Attributes
    ----------
    loss : float
        :math:`-\\frac1L\\sum_n w_n\\sum_i\\log p_\\theta(s_i\\mid s_{-i})` (nats per site).
    dA : list of numpy.ndarray, each (L, L)
        :math:`\\partial\\mathcal L/\\partial A^{(h)}` per head, zero diagonal.
    dV : list of numpy.ndarray, each (C, C)
        :math:`\\partial\\mathcal L/\\partial V^{(h)}` per head.
    db : numpy.ndarray, (L, C)
        :math:`\\partial\\mathcal L/\\partial b`.
    """

    loss: float
    dA: list
    dV: list
    db: np.ndarray


def multihead_loss_and_gradient(Xt, w, As, Vs, b) -> MultiheadLossGradient:
    """Weighted MLM loss of :math:`z = \\sum_h A^{(h)} Y^{(h)} + b`, with
    :math:`Y^{(h)}_{jna} = V^{(h)}_{a s_{nj}}`, on one-hot data ``Xt`` (L, n, C) with weights ``w``
    (n,), and its gradients (the closed forms of :func:`numerics.potts.population.population_mlm`,
    summed over heads). ``As``: list of (L, L), ``Vs``: list of (C, C), ``b`` (L, C)."""
    L, n, C = Xt.shape
    X2 = Xt.reshape(L * n, C)
    Ys = [(X2 @ V.T).reshape(L, n * C) for V in Vs]
    z = sum((A - np.diag(np.diag(A))) @ Y for A, Y in zip(As, Ys)).reshape(L, n, C) + b[:, None, :]
    z -= z.max(axis=2, keepdims=True)
    ez = np.exp(z)
    norm = ez.sum(axis=2, keepdims=True)
    loss = -float(np.einsum("n,ln->", w, np.sum(Xt * z, axis=2) - np.log(norm[..., 0]))) / L
    R = (ez / norm - Xt) * (w[None, :, None] / L)
    R2 = R.reshape(L, n * C)
    dAs, dVs = [], []
    for A, Y in zip(As, Ys):
        A0 = A - np.diag(np.diag(A))
        dA = R2 @ Y.T
        np.fill_diagonal(dA, 0.0)
        dAs.append(dA)
        dVs.append((A0.T @ R2).reshape(L * n, C).T @ X2)
    return MultiheadLossGradient(loss, dAs, dVs, R.sum(axis=1))


def _softmax_rows(S):
    S = S - S.max(axis=1, keepdims=True)
    E = np.exp(S)
    return E / E.sum(axis=1, keepdims=True)


class _Param:
    """Flat parameter vector <-> (As, Vs, b) for one variant, with the chain rule back."""

    def __init__(self, L, C, attention, heads, embed, qk_dim):
        self.L, self.C, self.att, self.H, self.k = L, C, attention, heads, embed
        self.d = qk_dim or L
        self.off = ~np.eye(L, dtype=bool)
        shapes = []
        if attention == "free":
            shapes.append(("A", (heads, L, L)))
        else:
            shapes += [("Q", (heads, L, self.d)), ("K", (heads, L, self.d))]
        if embed is None:
            shapes.append(("V", (heads, C, C)))
        else:
            shapes += [("E", (embed, C)), ("WV", (heads, embed, embed)), ("WO", (heads, C, embed))]
        shapes.append(("b", (L, C)))
        self.shapes = shapes
        self.size = sum(int(np.prod(s)) for _, s in shapes)

    def unpack(self, theta):
        out, k = {}, 0
        for name, shape in self.shapes:
            n = int(np.prod(shape))
            out[name] = theta[k:k + n].reshape(shape)
            k += n
        return out

    def attention(self, p):
        if self.att == "free":
            return [p["A"][h] * self.off for h in range(self.H)]
        As = []
        for h in range(self.H):
            S = p["Q"][h] @ p["K"][h].T / math.sqrt(self.d)
            if self.att == "softmax":
                S = np.where(self.off, S, -np.inf)
                As.append(_softmax_rows(S))
            else:
                As.append(_softmax_rows(S) * self.off)
        return As

    def values(self, p):
        if self.k is None:
            return [p["V"][h] for h in range(self.H)]
        return [p["WO"][h] @ p["WV"][h] @ p["E"] for h in range(self.H)]

    def backward(self, p, dAs, dVs, db):
        g = {name: np.zeros(shape) for name, shape in self.shapes}
        for h in range(self.H):
            if self.att == "free":
                g["A"][h] = dAs[h] * self.off
            else:
                S = p["Q"][h] @ p["K"][h].T / math.sqrt(self.d)
                if self.att == "softmax":
                    Afull = _softmax_rows(np.where(self.off, S, -np.inf))
                    dA = dAs[h]
                else:
                    Afull = _softmax_rows(S)
                    dA = dAs[h] * self.off
                dS = Afull * (dA - np.sum(dA * Afull, axis=1, keepdims=True)) / math.sqrt(self.d)
                g["Q"][h] = dS @ p["K"][h]
                g["K"][h] = dS.T @ p["Q"][h]
            if self.k is None:
                g["V"][h] = dVs[h]
            else:
                WO, WV, E = p["WO"][h], p["WV"][h], p["E"]
                g["WO"][h] = dVs[h] @ (WV @ E).T
                g["WV"][h] = WO.T @ dVs[h] @ E.T
                g["E"] += (WO @ WV).T @ dVs[h]
        g["b"] = db
        return np.concatenate([g[name].ravel() for name, _ in self.shapes])


@result
class PopulationObjective:
    """The exact population MLM loss of one attention variant as a function of a flat parameter
    vector; see :func:`population_objective`.

    Attributes
    ----------
    function : callable
        ``function(theta) -> (loss, grad)``, ``theta`` and ``grad`` of shape (size,), loss in nats
        per site (the pair scipy's ``minimize(jac=True)`` expects).
    size : int
        Number of parameters.
    """

    function: Callable
    size: int


def population_objective(model: population.PottsModel, attention="free", heads=1, embed=None,
                         qk_dim=None) -> PopulationObjective:
    """The exact population MLM loss of a variant (``attention`` in :data:`ATTENTIONS`, ``heads``,
    value through an embedding of width ``embed``, query/key width ``qk_dim``, default L) and its
    gradient by the chain rule through the parameterisation. Refuses (TooLargeError) a problem
    whose estimate (:func:`objective_cost`) exceeds the memory budget."""
    if not isinstance(model, population.PottsModel):
        raise InputError("model", f"<{type(model).__name__}>", "a PottsModel (make_model)")
    check_choice("attention", attention, ATTENTIONS)
    check_int("heads", heads, 1, 1000)
    if embed is not None:
        check_int("embed", embed, 1, 1000)
    if qk_dim is not None:
        check_int("qk_dim", qk_dim, 1, 1000)
    objective_cost(model, heads, embed, qk_dim)
    law = population.boltzmann(model)
    S, P = law.configurations, law.probabilities
    Xt = np.ascontiguousarray(population.one_hot(S, model.C).transpose(1, 0, 2))
    par = _Param(model.L, model.C, attention, heads, embed, qk_dim)

    def f(theta):
        p = par.unpack(theta)
        g = multihead_loss_and_gradient(Xt, P, par.attention(p), par.values(p), p["b"])
        return g.loss, par.backward(p, g.dA, g.dV, g.db)

    return PopulationObjective(f, par.size)


def objective_cost(model: population.PottsModel, heads: int = 1, embed=None, qk_dim=None):
    """Estimated memory (bytes) and operations per evaluation of :func:`population_objective`:
    ``n = C^L`` states, ``K = L C``; memory ``8 n K (5 + 2 heads)`` (one-hot data, per-head
    values, logits, residuals) plus the parameters; operations ``6 n L K heads``. Raises
    :class:`~theory.errors.TooLargeError` (naming ``model``) beyond 2 GiB."""
    L, C = model.L, model.C
    n = population.check_enumerable(L, C)
    d = qk_dim or L
    size = heads * (2 * L * d + (C * C if embed is None else embed * embed + C * embed)) + L * C
    if embed is not None:
        size += embed * C
    memory = 8.0 * n * L * C * (5 + 2 * heads) + 8.0 * 40 * size
    check_memory("model", f"L = {L}, C = {C}, heads = {heads}", memory,
                 "population objective over C**L states")
    return memory, 6.0 * n * L * L * C * heads


@result
class RepresentationGap:
    """The best population MLM loss an attention variant reaches against the optimum (the
    representability conditions of Rende et al. 2024, Sec. II); see :func:`represent`.

    Attributes
    ----------
    best_loss : float
        Smallest population loss over the random starts (nats per site).
    optimum : float
        The mean conditional entropy, the loss of the true conditionals (nats per site).
    gap : float
        ``best_loss - optimum`` (>= 0 up to the optimiser's accuracy).
    """

    best_loss: float
    optimum: float
    gap: float


def represent(model: population.PottsModel, attention: str = "free", restarts: int = 3, seed=0,
              heads: int = 1, embed: int | None = None, max_iter: int = 3000,
              init_scale: float = 0.5) -> RepresentationGap:
    """Minimise the population MLM loss over one variant with L-BFGS, best of ``restarts`` starts
    :math:`\\theta_0 \\sim N(0, \\mathrm{init\\_scale}^2 I)` from ``seed`` (int or numpy Generator).

    The optimum is the mean conditional entropy (the loss of the true conditionals, reached by
    ``free`` at :math:`A = \\beta J, V = U, b = \\beta h`).

    Budget: ``restarts`` (at most 100) times ``max_iter`` evaluations of the population objective
    (:func:`objective_cost`) must stay within 10^12 operations, else
    :class:`~theory.errors.TooLargeError` before the first evaluation."""
    RESTARTS.check("restarts", restarts)
    MAX_ITER.check("max_iter", max_iter)
    real(0, 100).check("init_scale", init_scale)
    if not isinstance(model, population.PottsModel):
        raise InputError("model", f"<{type(model).__name__}>", "a PottsModel (make_model)")
    check_int("heads", heads, 1, 1000)
    if embed is not None:
        check_int("embed", embed, 1, 1000)
    _, per_evaluation = objective_cost(model, heads, embed)
    check_work("restarts", restarts, restarts * max_iter * per_evaluation,
               f"{restarts} starts x {max_iter} L-BFGS iterations over {model.C}**{model.L} states")
    objective = population_objective(model, attention, heads, embed)
    f, size = objective.function, objective.size
    optimum = population.exact_summary(model).mean_conditional_entropy
    rng = as_generator(seed)
    best = math.inf
    for _ in range(restarts):
        theta0 = init_scale * rng.standard_normal(size)
        res = minimize(f, theta0, jac=True, method="L-BFGS-B",
                       options={"maxiter": max_iter, "ftol": 1e-15, "gtol": 1e-11, "maxcor": 30})
        if not np.isfinite(res.fun):
            raise NumericalFailure(f"population minimisation ({attention}) diverged: {res.message}")
        best = min(best, float(res.fun))
    return RepresentationGap(best, float(optimum), best - float(optimum))

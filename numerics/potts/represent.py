"""Representability: the population MLM loss minimised over parameterisations of factored attention.

Spec ``shared/spec/potts.md`` Sec. 2 (conditions of the mapping) and Sec. 7 (``ttc potts represent``).
Only the attention's parameterisation differs between variants; the value matrices and the bias are
free in all of them (or, with ``embed=k``, :math:`V^{(h)} = W_O^{(h)} W_V^{(h)} E`, rank <= k).

- ``free``: :math:`A^{(h)}` any matrix with zero diagonal;
- ``softmax``: :math:`A^{(h)}_{ij} = \\mathrm{softmax}_{j\\ne i}(q^{(h)}_i\\cdot k^{(h)}_j/\\sqrt d)`;
- ``sink``: softmax over all j (self included), then the self weight dropped.

The gradients are the closed forms of spec Sec. 2 (:func:`numerics.potts.population.mlm_loss_and_gradient`,
here for several heads) pushed through each parameterisation by the chain rule; scipy L-BFGS
minimises. ``validation.potts.models.FactoredAttention`` is the same model in torch (tests compare them).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import minimize

from numerics.potts.population import PottsModel, boltzmann, exact_summary, one_hot
from theory.errors import NumericalFailure, check_choice, check_int

ATTENTIONS = ("free", "softmax", "sink")


def multihead_loss_and_gradient(Xt, w, As, Vs, b):
    """Weighted MLM loss of :math:`z = \\sum_h A^{(h)} Y^{(h)} + b` on one-hot data ``Xt`` (L, n, C)
    and its gradients ``(loss, [dA_h], [dV_h], db)`` (spec Sec. 2, summed over heads)."""
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
    return loss, dAs, dVs, R.sum(axis=1)


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


def population_objective(model: PottsModel, attention="free", heads=1, embed=None, qk_dim=None):
    """``(f, size)``: ``f(theta) -> (loss, grad)`` the exact population MLM loss of a variant."""
    check_choice("attention", attention, ATTENTIONS)
    check_int("heads", heads, 1)
    if embed is not None:
        check_int("embed", embed, 1)
    S, P, _ = boltzmann(model)
    Xt = np.ascontiguousarray(one_hot(S, model.C).transpose(1, 0, 2))
    par = _Param(model.L, model.C, attention, heads, embed, qk_dim)

    def f(theta):
        p = par.unpack(theta)
        loss, dAs, dVs, db = multihead_loss_and_gradient(Xt, P, par.attention(p), par.values(p), p["b"])
        return loss, par.backward(p, dAs, dVs, db)

    return f, par.size


def represent(model: PottsModel, attention: str = "free", restarts: int = 3, seed=0, heads: int = 1,
              embed: int | None = None, max_iter: int = 3000, init_scale: float = 0.5) -> dict:
    """Minimise the population MLM loss over one variant, best of ``restarts`` seeded starts.

    Returns ``{"best_loss", "optimum", "gap"}``: ``optimum`` is the mean conditional entropy (the
    loss of the true conditionals, reached by ``free`` at ``A = beta J, V = U, b = beta h``)."""
    check_int("restarts", restarts, 1)
    f, size = population_objective(model, attention, heads, embed)
    optimum = exact_summary(model)["mean_conditional_entropy"]
    rng = np.random.default_rng(seed)
    best = math.inf
    for _ in range(restarts):
        theta0 = init_scale * rng.standard_normal(size)
        res = minimize(f, theta0, jac=True, method="L-BFGS-B",
                       options={"maxiter": max_iter, "ftol": 1e-15, "gtol": 1e-11, "maxcor": 30})
        if not np.isfinite(res.fun):
            raise NumericalFailure(f"population minimisation ({attention}) diverged: {res.message}")
        best = min(best, float(res.fun))
    return {"best_loss": best, "optimum": float(optimum), "gap": best - float(optimum)}

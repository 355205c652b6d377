"""Torch linear self-attention (LSA): the model and Theorem 4.1's multilayer identity (Ding; Ahn).

- :class:`LSA`: L layers :math:`Z_{l+1} = Z_l + \\frac1n P_l Z_l M Z_l^\\top Q_l Z_l`, in the dense
  form (full ``P_l, Q_l``) or the sparse form (only ``b_l`` = last row of ``P_l`` and ``A_l`` = first
  d columns of ``Q_l``), output :math:`\\pm[Z_L]_{d+1,n+1}` (``sign=+1``: Ding et al.; ``-1``: Ahn
  et al.).
- :func:`multilayer_identity_error`: Theorem 4.1 per prompt (bottom row against
  :math:`y_j - \\langle w_l, x_j\\rangle` and :math:`-\\langle w_l, x_{n+1}\\rangle`).

Training on the Markov and Gaussian tasks: :mod:`validation.lsa.training`.
"""

from __future__ import annotations

import numpy as np
import torch

from numerics.lsa import optimum
from numerics.shared.seeding import as_generator
from theory.errors import InputError, check_choice
from theory.results import result
from validation.shared.seeding import torch_generator

torch.set_default_dtype(torch.float64)

__all__ = ["LSA", "LayerMatrices", "as_tensor", "enlarged_parameter", "multilayer_identity_error"]


def as_tensor(a) -> torch.Tensor:
    """``a`` (array-like) as a contiguous float64 torch tensor (a copy only when needed)."""
    return torch.as_tensor(np.ascontiguousarray(a), dtype=torch.float64)


@result
class LayerMatrices:
    """The attention matrices of one LSA layer (Ding et al. 2025, Sec. 2):
    :math:`Z \\mapsto Z + \\frac1n P Z M Z^\\top Q Z`.

    Attributes
    ----------
    P : torch.Tensor, shape (d+1, d+1)
        Value-side matrix (sparse form: only the last row ``b`` is nonzero).
    Q : torch.Tensor, shape (d+1, d+1)
        Key-query matrix (sparse form: only the first d columns ``A`` are nonzero).
    """

    P: torch.Tensor
    Q: torch.Tensor


class LSA(torch.nn.Module):
    """Linear self-attention with ``layers`` layers on prompts ``Z`` of shape ``(B, d+1, n+1)``.

    Parameters
    ----------
    d : input dimension (rows ``1..d`` of Z are x, row ``d+1`` the label).
    layers : number of layers L >= 1.
    form : ``"dense"`` (``P_l, Q_l`` of shape ``(d+1, d+1)``) or ``"sparse"`` (``b_l (d+1,)``,
        ``A_l (d+1, d)``; the other entries of P, Q are 0).
    sign : ``+1`` reads :math:`+[Z_L]_{d+1,n+1}` (Ding et al.), ``-1`` reads :math:`-[Z_L]` (Ahn).
    init_scale, seed : parameters start i.i.d. :math:`N(0, \\text{init\\_scale}^2)` from ``seed``.
    """

    def __init__(self, d: int, layers: int = 1, form: str = "sparse", sign: int = 1,
                 init_scale: float = 0.1, seed: int = 0):
        super().__init__()
        from numerics.lsa import domains
        from theory.lsa import D_ORDERING

        D_ORDERING.check("d", d)
        domains.LAYERS.check("layers", layers)
        domains.FORM.check("form", form)
        domains.SIGN.check("sign", sign)
        domains.INIT_SCALE.check("init_scale", init_scale)
        domains.SEED.check("seed", seed)
        self.d, self.layers, self.form, self.sign = d, layers, form, sign
        gen = torch_generator(seed)
        draw = lambda *shape: torch.nn.Parameter(init_scale * torch.randn(*shape, generator=gen))
        if form == "dense":
            self.P = torch.nn.ParameterList([draw(d + 1, d + 1) for _ in range(layers)])
            self.Q = torch.nn.ParameterList([draw(d + 1, d + 1) for _ in range(layers)])
        else:
            self.b = torch.nn.ParameterList([draw(d + 1) for _ in range(layers)])
            self.A = torch.nn.ParameterList([draw(d + 1, d) for _ in range(layers)])

    def matrices(self, layer: int) -> LayerMatrices:
        """``P_l, Q_l`` of layer ``layer`` (0-based) as dense ``(d+1, d+1)`` tensors."""
        if self.form == "dense":
            return LayerMatrices(self.P[layer], self.Q[layer])
        d = self.d
        P = torch.cat([torch.zeros(d, d + 1), self.b[layer][None, :]], dim=0)
        Q = torch.cat([self.A[layer], torch.zeros(d + 1, 1)], dim=1)
        return LayerMatrices(P, Q)

    def trajectory(self, Z: torch.Tensor) -> list[torch.Tensor]:
        """``[Z_0, ..., Z_L]``."""
        n = Z.shape[-1] - 1
        mask = torch.ones(n + 1)
        mask[n] = 0.0
        out = [Z]
        for layer in range(self.layers):
            mats = self.matrices(layer)
            attn = (Z * mask) @ Z.transpose(-1, -2)          # Z M Z^T
            Z = Z + mats.P @ attn @ mats.Q @ Z / n
            out.append(Z)
        return out

    def forward(self, Z: torch.Tensor) -> torch.Tensor:
        """The prediction :math:`\\pm[Z_L]_{d+1, n+1}`, shape ``(B,)`` for ``Z`` of shape
        ``(B, d+1, n+1)``."""
        return self.sign * self.trajectory(Z)[-1][..., self.d, -1]


def enlarged_parameter(model: LSA) -> np.ndarray:
    """X of a one-layer model: :math:`\\phi(\\pm b, A)` with b the last row of P and A the first d
    columns of Q (the sign of the read-out goes into b)."""
    if model.layers != 1:
        raise InputError("model.layers", model.layers, "1 (the enlarged space is one-layer)")
    mats = model.matrices(0)
    b = model.sign * mats.P[model.d].detach().numpy()
    return optimum.phi(b, mats.Q[:, : model.d].detach().numpy())


def multilayer_identity_error(d: int, n: int, layers: int, prompts: int, seed: int,
                              convention: str = "library") -> float:
    """Largest relative deviation :math:`\\max|\\Delta| / \\max(1, \\max|\\text{expected}|)`, over
    ``prompts`` random prompts and all layers, between an LSA with
    Theorem 4.1's parameters (:math:`P_l = [0; b_l^\\top]`, :math:`Q_l = [A_l, 0]`,
    :math:`A_l = -[\\bar A_l; a_l^\\top]`, random Gaussian entries) and the recursion for
    :math:`w_l` (numerics, Jacobians by complex step).

    ``convention="library"`` compares the query entry with :math:`-\\langle w_l, x_{n+1}\\rangle`;
    ``"paper"`` with :math:`+\\langle w_l, x_{n+1}\\rangle`. Context entries are compared with
    :math:`y_j - \\langle w_l, x_j\\rangle` in both (Ding et al. 2025, Thm 4.1).
    """
    from numerics.lsa import domains
    from theory.lsa import D_ORDERING

    check_choice("convention", convention, ("library", "paper"))
    D_ORDERING.check("d", d)
    domains.N_TRAIN.check("n", n)
    domains.LAYERS.check("layers", layers)
    domains.STEPS.check("prompts", prompts)  # one prompt, one forward pass and one recursion each
    domains.SEED.check("seed", seed)
    rng = as_generator(seed)
    worst = 0.0
    for _ in range(prompts):
        xs = rng.standard_normal((n + 1, d))
        ys = rng.standard_normal(n)
        bs = [rng.standard_normal(d + 1) * 0.5 for _ in range(layers)]
        Abars = [rng.standard_normal((d, d)) * 0.5 for _ in range(layers)]
        a_s = [rng.standard_normal(d) * 0.5 for _ in range(layers)]
        model = LSA(d, layers, "sparse")
        with torch.no_grad():
            for l in range(layers):
                model.b[l].copy_(as_tensor(bs[l]))
                model.A[l].copy_(-as_tensor(np.vstack([Abars[l], a_s[l][None, :]])))
        Z = np.vstack([xs.T, np.append(ys, 0.0)[None, :]])
        with torch.no_grad():
            traj = [z.numpy() for z in model.trajectory(as_tensor(Z)[None])]
        ws = optimum.multilayer_weights(bs, Abars, a_s, xs[:n], ys)
        q_sign = -1.0 if convention == "library" else 1.0
        for l in range(layers + 1):
            bottom = traj[l][0, d]
            expect = np.append(ys - xs[:n] @ ws[l], q_sign * xs[n] @ ws[l])
            worst = max(worst, float(np.abs(bottom - expect).max() / max(1.0, np.abs(expect).max())))
    if not np.isfinite(worst):
        from theory.errors import NumericalFailure

        raise NumericalFailure("multilayer_identity_error: the recursion overflowed (too many "
                               "layers for Gaussian parameters)")
    return worst

"""Torch linear self-attention (LSA) and its training on the Markov and Gaussian tasks (Ding; Ahn).

- :class:`LSA`: L layers :math:`Z_{l+1} = Z_l + \\frac1n P_l Z_l M Z_l^\\top Q_l Z_l`, in the dense
  form (full ``P_l, Q_l``) or the sparse form (only ``b_l`` = last row of ``P_l`` and ``A_l`` = first
  d columns of ``Q_l``), output :math:`\\pm[Z_L]_{d+1,n+1}` (``sign=+1``: Ding et al.; ``-1``: Ahn
  et al.).
- :func:`train_markov`: training on sampled prompts of the random-kernel task; the one-layer model's
  population loss is evaluated exactly through :math:`\\tilde f(\\phi(b, A))`.
- :func:`multilayer_identity_error`: Theorem 4.1 per prompt (bottom row against
  :math:`y_j - \\langle w_l, x_j\\rangle` and :math:`-\\langle w_l, x_{n+1}\\rangle`).
- :func:`train_gaussian`: the Gaussian linear-regression anchor (Ahn's sign).
"""

from __future__ import annotations

import numpy as np
import torch

from numerics.lsa import optimum
from numerics.lsa import realizability
from numerics.shared.seeding import as_generator
from numerics.shared.threads import limit_threads
from theory.errors import InputError, check_choice, check_int
from theory.lsa import feature_ordering
from theory.results import result
from validation.shared.seeding import torch_generator
from validation.shared.training import train

torch.set_default_dtype(torch.float64)

__all__ = ["LSA", "LayerMatrices", "as_tensor", "enlarged_parameter", "train_markov",
           "MarkovTraining", "multilayer_identity_error", "train_gaussian", "GaussianTraining"]


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
        check_int("d", d, 1)
        check_int("layers", layers, 1)
        check_choice("form", form, ("dense", "sparse"))
        check_choice("sign", sign, (1, -1))
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


@result
class MarkovTraining:
    """An LSA trained on the random-kernel Markov task against the theory (Ding et al. 2025,
    Sec. 3 and Thm 3.3).

    Attributes
    ----------
    final_loss : float
        Population loss after training: exact :math:`\\tilde f(\\phi(b, A))` for one layer, else
        a held-out Monte Carlo estimate.
    final_loss_se : float
        Standard error of ``final_loss`` (0 for one layer).
    predicted_loss : float
        :math:`\\tilde f^*` (enlarged-space optimum).
    best_lsa_loss : float
        The best one-layer LSA loss (:func:`numerics.lsa.realizability.best_lsa`).
    realizable : bool
        Whether X* is in the image of :math:`\\phi`.
    losses : ndarray, 1-D
        Training losses recorded every 10 steps, both learning-rate phases concatenated.
    b : ndarray of shape (d+1,), or None
        The trained last row of P times the read-out sign (one layer only).
    """

    final_loss: float
    final_loss_se: float
    predicted_loss: float
    best_lsa_loss: float
    realizable: bool
    losses: np.ndarray
    b: np.ndarray | None = None


def train_markov(d: int, p, n: int, layers: int = 1, steps: int = 2000, seed: int = 0,
                 batch: int = 512, lr: float = 0.05, form: str = "sparse", sign: int = 1,
                 init_scale: float = 0.1, eval_size: int = 20000) -> MarkovTraining:
    """Train an LSA on freshly sampled prompts of the random-kernel task (Adam, the learning rate
    divided by 10 for the last quarter of the steps) and compare with f~* and the best one-layer
    loss (Ding et al. 2025, Sec. 3). ``seed`` (int >= 0) seeds the initialisation, the prompts and
    the search."""
    check_int("steps", steps, 1)
    mom = optimum.markov_moments_numeric(d, p, n)
    opt = optimum.optimum(mom)
    best = realizability.best_lsa(mom, d, seed=seed)
    realizable = realizability.recover(opt.X, d).realizable
    model = LSA(d, layers, form, sign, init_scale, seed)
    rng = as_generator(seed)

    def objective(step):
        prompts = optimum.sample_markov_prompts(d, p, n, batch, rng)
        return ((model(as_tensor(prompts.Z)) - as_tensor(prompts.y)) ** 2).mean()

    first = steps - steps // 4
    with limit_threads(1):
        r1 = train(model, objective, first, lr=lr, record_every=10, description="lsa train")
        r2 = train(model, objective, steps - first, lr=lr / 10, record_every=10,
                   description="lsa train")
        losses = np.concatenate([r1.losses, r2.losses])
        b_trained = None
        if layers == 1:
            final, se = optimum.loss_at(enlarged_parameter(model), mom), 0.0
            b_trained = sign * model.matrices(0).P[d].detach().numpy()
        else:
            held_out = optimum.sample_markov_prompts(d, p, n, eval_size, seed + 10_007)
            with torch.no_grad():
                err = ((model(as_tensor(held_out.Z)) - as_tensor(held_out.y)) ** 2).numpy()
            final, se = float(err.mean()), float(err.std(ddof=1) / np.sqrt(err.size))
    return MarkovTraining(final, se, opt.loss, best.loss, realizable, losses, b_trained)


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
    check_choice("convention", convention, ("library", "paper"))
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
    return worst


@result
class GaussianTraining:
    """A one-layer LSA trained on Gaussian linear regression against Ahn et al. 2023, Thm 1.

    Attributes
    ----------
    Gamma : ndarray, shape (d, d)
        Trained effective preconditioner :math:`\\Gamma_{jk} = X^{(j)}_{(k,d+1)}` (read through phi,
        so free of the :math:`(\\gamma P, Q/\\gamma)` symmetry).
    Gamma_star : ndarray, shape (d, d)
        :math:`\\Gamma^*` (closed form).
    relative_error : float
        :math:`\\|\\Gamma - \\Gamma^*\\|_F / \\|\\Gamma^*\\|_F`.
    loss : float
        Population loss :math:`L(\\Gamma)` of the trained model.
    optimal_loss : float
        :math:`L^* = L(\\Gamma^*)`.
    even_feature_norm : float
        Euclidean norm of the features of X that should be 0 (all but :math:`X^{(j)}_{(k,d+1)}`).
    gamma_scale : float
        The free scale :math:`\\gamma = -P_{d+1,d+1}`.
    """

    Gamma: np.ndarray
    Gamma_star: np.ndarray
    relative_error: float
    loss: float
    optimal_loss: float
    even_feature_norm: float
    gamma_scale: float


def train_gaussian(Sigma, n: int, steps: int = 600, seed: int = 0, batch: int = 1024,
                   lr: float = 0.005, form: str = "sparse", init: str = "zfb",
                   init_scale: float = 0.1) -> GaussianTraining:
    """One-layer LSA (Ahn's sign) trained on Gaussian linear-regression prompts; the trained
    :math:`\\Gamma_{jk} = X^{(j)}_{(k,d+1)}` is compared with :math:`\\Gamma^*`.

    ``init="zfb"``: Zhang-Frei-Bartlett's initialisation (every entry 0 except
    :math:`b_{d+1} = -s` and :math:`A_{1:d,1:d} = s\\,\\Theta\\Theta^\\top/\\|\\Theta\\Theta^\\top\\|_F`,
    :math:`\\Theta` Gaussian from ``seed``, ``s = init_scale``); ``"random"``: all entries
    i.i.d. :math:`N(0, s^2)` (from a random start the (b, A) landscape can trap training at a
    spurious stationary point with large x-components of b)."""
    check_choice("init", init, ("zfb", "random"))
    Sigma = np.atleast_2d(np.asarray(Sigma, float))
    d = Sigma.shape[0]
    Gs = optimum.gaussian_gamma_star(Sigma, n)
    model = LSA(d, 1, form, sign=-1, init_scale=init_scale, seed=seed)
    if init == "zfb":
        theta = as_generator(seed).standard_normal((d, d))
        block = theta @ theta.T
        with torch.no_grad():
            for p in model.parameters():
                p.zero_()
            b_last = -init_scale
            A = np.zeros((d + 1, d))
            A[:d] = init_scale * block / np.linalg.norm(block)
            if form == "dense":
                model.P[0][d, d] = b_last
                model.Q[0][:, :d] = as_tensor(A)
            else:
                model.b[0][d] = b_last
                model.A[0].copy_(as_tensor(A))
    rng = as_generator(seed)

    def objective(step):
        prompts = optimum.sample_gaussian_prompts(Sigma, n, batch, rng)
        return ((model(as_tensor(prompts.Z)) - as_tensor(prompts.y)) ** 2).mean()

    first = steps - steps // 4
    with limit_threads(1):
        train(model, objective, first, lr=lr, description="gaussian train")
        train(model, objective, steps - first, lr=lr / 10, description="gaussian train")
    X = enlarged_parameter(model)
    G = np.zeros((d, d))
    even = []
    for value, (j, i, k) in zip(X, feature_ordering(d)):
        if k == d + 1 and i <= d:
            G[j - 1, i - 1] = value
        else:
            even.append(value)
    gamma = float(-model.matrices(0).P[d, d].detach())
    return GaussianTraining(G, Gs, float(np.linalg.norm(G - Gs) / np.linalg.norm(Gs)),
                            optimum.gaussian_loss(G, Sigma, n), optimum.gaussian_loss(Gs, Sigma, n),
                            float(np.linalg.norm(even)), gamma)

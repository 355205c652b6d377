"""Training the Potts paper's torch models: single-mask MLM by Adam(W) mini-batches, and L-BFGS
minimisation of the exact population MLM loss over attention variants (Rende et al. 2024, Sec. II).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from numerics.potts import population
from numerics.shared.threads import limit_threads
from theory.errors import NumericalFailure
from validation.potts.models import FactoredAttention, masked_loss, mlm_loss_all_sites
from validation.shared.seeding import torch_generator
from validation.shared.training import train

torch.set_default_dtype(torch.float64)

__all__ = ["train_mlm", "minimise_population", "self_reading_loss"]


def train_mlm(model: nn.Module, S_train: np.ndarray, *, steps: int, batch: int = 256, lr: float = 3e-3,
              weight_decay: float = 0.0, seed: int = 0, progress=None, threads: int | None = 1) -> float:
    """Train ``model`` by single-mask MLM on ``S_train`` (M, L) with Adam(W) mini-batches
    (validation.shared.training.train). Factored attention scores all sites per row; a standard encoder
    masks one uniformly drawn site per row. Runs with ``threads`` torch threads
    (:func:`numerics.shared.threads.limit_threads`; None leaves them). Returns the last training loss."""
    with limit_threads(threads):
        return _train_mlm(model, S_train, steps, batch, lr, weight_decay, seed, progress)


def _train_mlm(model, S_train, steps, batch, lr, weight_decay, seed, progress) -> float:
    S = torch.as_tensor(np.asarray(S_train), dtype=torch.long)
    g = torch_generator(seed)
    factored = isinstance(model, FactoredAttention)

    def objective(step):
        idx = torch.randint(0, len(S), (min(batch, len(S)),), generator=g)
        Sb = S[idx]
        if factored:
            return mlm_loss_all_sites(model, Sb)
        return masked_loss(model, Sb, torch.randint(0, S.shape[1], (len(Sb),), generator=g))

    trained = train(model, objective, steps, lr=lr, optimizer="adamw" if weight_decay else "adam",
                    optimizer_options={"weight_decay": weight_decay} if weight_decay else None,
                    record_every=max(1, steps // 20), progress=progress, description="mlm")
    return trained.final_loss


# ----------------------------------------------------------------------------------------------
# Population loss minimisation (the representability conditions of Rende et al. 2024, Sec. II)


def minimise_population(model: FactoredAttention, S: np.ndarray, P: np.ndarray, *,
                        max_iter: int = 400, rounds: int = 3, threads: int | None = 1) -> float:
    """Minimise the exact population MLM loss :math:`\\sum_s P(s) \\cdot` (mean over sites of
    :math:`-\\log p_\\theta(s_i\\mid s_{-i})`) over the model's parameters with L-BFGS (strong
    Wolfe), ``rounds`` calls of ``max_iter`` iterations, with ``threads`` torch threads. ``S``
    (n, L) configurations, ``P`` (n,) their probabilities. Returns the final loss (nats per site)."""
    with limit_threads(threads):
        return _minimise_population(model, S, P, max_iter, rounds)


def _minimise_population(model, S, P, max_iter, rounds) -> float:
    St = torch.as_tensor(S, dtype=torch.long)
    Pt = torch.as_tensor(P, dtype=torch.float64)
    opt = torch.optim.LBFGS(model.parameters(), lr=1.0, max_iter=max_iter, tolerance_grad=1e-12,
                            tolerance_change=1e-15, history_size=50, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = mlm_loss_all_sites(model, St, Pt)
        loss.backward()
        return loss

    for _ in range(rounds):
        opt.step(closure)
    with torch.no_grad():
        value = float(mlm_loss_all_sites(model, St, Pt))
    if not math.isfinite(value):
        raise NumericalFailure("population loss minimisation diverged")
    return value


def self_reading_loss(potts_model, max_iter: int = 60, seed: int = 0) -> float:
    """Population loss when the scored site is *not* masked (A_ii free, x_i visible): the model can
    copy s_i, so its minimum falls below the mean conditional entropy (the masking condition of
    Rende et al. 2024, Sec. II)."""
    law = population.boltzmann(potts_model)
    model = FactoredAttention(potts_model.L, potts_model.C, "free", init_scale=0.5, seed=seed)
    model.offdiag.fill_(1.0)  # keep the diagonal: site i sees itself
    return minimise_population(model, law.configurations, law.probabilities, max_iter=max_iter, rounds=1)

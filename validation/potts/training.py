"""Training the Potts paper's torch models: single-mask MLM by Adam(W) mini-batches, and L-BFGS
minimisation of the exact population MLM loss over attention variants (Rende et al. 2024, Sec. II).
"""

from __future__ import annotations

import copy
import math

import numpy as np
import torch
from torch import nn

from numerics.potts import population
from numerics.shared.threads import limit_threads
from theory.errors import InputError, NumericalFailure, check_int
from theory.domains import real
from theory.results import result
from validation.potts.models import (FactoredAttention, StandardEncoder, masked_loss, masked_pair_losses,
                                     mlm_loss_all_sites)
from validation.shared.seeding import torch_generator
from validation.shared.training import make_optimizer, train

torch.set_default_dtype(torch.float64)

__all__ = ["train_mlm", "train_encoder", "EncoderTraining", "minimise_population", "self_reading_loss"]


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
# Standard encoders with early stopping (spec Sec. 9)

#: Most (sequence, site) pairs of the fixed validation and training-loss evaluation sets.
EVAL_PAIRS = 4096
#: Of the drawn training pairs, how many measure the undertrained guard's train loss (its
#: threshold H_marg - 0.1 G sits far above the SE, ~0.03 nats, at this size).
GUARD_PAIRS = 1024


@result
class EncoderTraining:
    """How :func:`train_encoder` trained a standard encoder (the model keeps its best checkpoint).

    Attributes
    ----------
    steps_used : int
        Optimiser steps run (the budget, or fewer when early stopping fired).
    best_step : int
        Step of the best validation loss (the checkpoint kept; 0: the initial model).
    best_val_loss : float
        Validation single-mask loss at the best checkpoint (nats).
    train_loss : float
        Single-mask loss of the kept model on a fixed set of training pairs (nats).
    lowest_train_loss : float
        The lowest loss on those training pairs over all evaluations (and the kept model): the
        "undertrained" guard of spec Sec. 9 asks whether the training loss *stays* above
        :math:`H_{marg} - 0.1\\,G`, i.e. whether this value is above it.
    stopped_early : bool
        True when the validation loss did not improve for ``patience`` evaluations.
    val_curve : list of float
        Validation loss at every evaluation (steps ``eval_every, 2 eval_every, ...``).
    """

    steps_used: int
    best_step: int
    best_val_loss: float
    train_loss: float
    lowest_train_loss: float
    stopped_early: bool
    val_curve: list


def _evaluation_pairs(n: int, L: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """A fixed set of (row, site) pairs of an n-row split: every site of every row when n L <=
    :data:`EVAL_PAIRS`, else :data:`EVAL_PAIRS` pairs drawn uniformly (seeded)."""
    if n * L <= EVAL_PAIRS:
        rows, sites = torch.meshgrid(torch.arange(n), torch.arange(L), indexing="ij")
        return rows.reshape(-1), sites.reshape(-1)
    return torch.randint(0, n, (EVAL_PAIRS,), generator=g), torch.randint(0, L, (EVAL_PAIRS,), generator=g)


@torch.no_grad()
def _pairs_loss(model: StandardEncoder, S: torch.Tensor, pairs) -> float:
    rows, sites = pairs
    return float(masked_pair_losses(model, S[rows], sites).mean())


def train_encoder(model: StandardEncoder, S_train: np.ndarray, *, steps: int, batch: int = 128,
                  lr: float = 3e-3, weight_decay: float = 0.01, val_fraction: float = 0.1,
                  eval_every: int = 50, patience: int = 6, seed: int = 0,
                  threads: int | None = 1) -> EncoderTraining:
    """Train a standard encoder by single-mask MLM with early stopping (spec Sec. 9).

    The M sequences ``S_train`` (M, L) are split (seeded permutation) into a validation part of
    ``max(1, round(val_fraction M))`` rows and a training part (the rest). AdamW (learning rate
    ``lr``, ``weight_decay``; torch's fused implementation) on mini-batches of ``batch`` training
    rows drawn with replacement, one uniformly drawn masked site per row. Every ``eval_every``
    steps the loss on a fixed set of validation (row, site) pairs (all pairs up to
    :data:`EVAL_PAIRS`, else that many drawn) is computed; the parameters with the lowest one are
    kept, and training stops after ``patience`` evaluations without improvement or at ``steps``.
    The returned ``train_loss`` is the kept model's loss on a fixed set of training pairs (all
    pairs up to :data:`EVAL_PAIRS`, else :data:`GUARD_PAIRS` drawn), ``lowest_train_loss`` the lowest loss on them over all evaluations.
    Runs with ``threads`` torch threads. The model is left at its best checkpoint."""
    check_int("steps", steps, 1, 10**6)
    check_int("batch", batch, 1)
    check_int("eval_every", eval_every, 1)
    check_int("patience", patience, 1)
    real(0, 1, low_open=True, high_open=True).check("val_fraction", val_fraction)
    real(0, None).check("weight_decay", weight_decay)
    S = np.asarray(S_train)
    if S.ndim != 2 or len(S) < 2:
        raise InputError("S_train", f"array of shape {S.shape}", "(M, L) sequences with M >= 2")
    with limit_threads(threads):
        return _train_encoder(model, torch.as_tensor(S, dtype=torch.long), steps, batch, lr, weight_decay,
                              val_fraction, eval_every, patience, seed)


def _train_encoder(model, S, steps, batch, lr, weight_decay, val_fraction, eval_every, patience, seed):
    g = torch_generator(seed)
    M, L = S.shape
    n_val = min(M - 1, max(1, round(val_fraction * M)))
    perm = torch.randperm(M, generator=g)
    S_val, S_fit = S[perm[:n_val]], S[perm[n_val:]]
    val_pairs = _evaluation_pairs(len(S_val), L, g)
    fit_pairs = _evaluation_pairs(len(S_fit), L, g)
    if len(S_fit) * L > EVAL_PAIRS:   # drawn pairs: the first GUARD_PAIRS (the stream is unchanged)
        fit_pairs = tuple(p[:GUARD_PAIRS] for p in fit_pairs)
    opt = make_optimizer(model.parameters(), "adamw", lr, weight_decay=weight_decay, fused=True)
    best = _pairs_loss(model, S_val, val_pairs)
    best_state, best_step, bad, curve, step = copy.deepcopy(model.state_dict()), 0, 0, [], 0
    lowest_train = _pairs_loss(model, S_fit, fit_pairs)
    for step in range(1, steps + 1):
        idx = torch.randint(0, len(S_fit), (batch,), generator=g)
        loss = masked_loss(model, S_fit[idx], torch.randint(0, L, (batch,), generator=g))
        if not math.isfinite(loss.item()):
            raise NumericalFailure(f"encoder training: loss became {loss.item()} at step {step}")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % eval_every == 0 or step == steps:
            value = _pairs_loss(model, S_val, val_pairs)
            curve.append(value)
            lowest_train = min(lowest_train, _pairs_loss(model, S_fit, fit_pairs))
            if value < best:
                best, best_step, bad = value, step, 0
                best_state = copy.deepcopy(model.state_dict())
            else:
                bad += 1
                if bad >= patience:
                    break
    model.load_state_dict(best_state)
    train_loss = _pairs_loss(model, S_fit, fit_pairs)
    return EncoderTraining(step, best_step, best, train_loss, min(lowest_train, train_loss), bad >= patience,
                           curve)


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

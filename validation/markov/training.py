"""Adam training of the full Markov transformer on sampled chains, and its evaluation.

Makkuva et al., P1 Sec. 2 and Figs. 2-3: many seeds train in one vectorised pass; a trained model
is evaluated against H(P) and H(pi).

The model, its initialisations and its exact population loss are in
:mod:`validation.markov.models`.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from numerics.markov.canonical import chain_summary, check_chain, end_state
from numerics.markov.sequences import binary_kernel, sample_chain
from numerics.shared.threads import limit_threads
from theory.domains import SEED
from theory.errors import InputError, NumericalFailure, check_choice, check_finite, check_int
from validation.markov.domains import check_training
from theory.results import result
from validation.markov.models import (DTYPE, INITS, MarkovTransformer, build_model,
                                      enumeration_tensors)
from validation.shared.training import train


@result
class MemberGenerators:
    """The three independent numpy generators of one training member, spawned from its seed.

    Attributes
    ----------
    init : numpy.random.Generator
        Draws the initial weights.
    data : numpy.random.Generator
        Draws the training batches.
    held_out : numpy.random.Generator
        Draws the held-out sequences of the final evaluation.
    """

    init: np.random.Generator
    data: np.random.Generator
    held_out: np.random.Generator


@result
class Evaluation:
    """Final loss and average predictions of each member of a trained model (P1, Sec. 2).

    Attributes
    ----------
    loss : ndarray, shape (M,)
        Population loss per member, nats (exact or a held-out estimate, see ``method``).
    p_given_0, p_given_1 : ndarray, shape (M,)
        :math:`P_\\theta(x_{n+1} = 1 \\mid x_n = j)` averaged over positions and sequences with
        :math:`x_n = j`.
    method : str
        How the loss was computed, in words.
    """

    loss: np.ndarray
    p_given_0: np.ndarray
    p_given_1: np.ndarray
    method: str


@result
class LossCurve:
    """A recorded training curve.

    Attributes
    ----------
    steps : list of int
        The recorded Adam steps.
    losses : list of float
        The low-variance population-loss estimate :math:`H(P) + \\overline{KL}` on each recorded
        training batch (nats; :func:`monitored_loss`).
    """

    steps: list
    losses: list


@result
class TrainingRun:
    """Where one training run of the full transformer ended (P1, Sec. 2 and Figs. 2-3; the
    ``ttc markov train --model transformer`` values).

    Attributes
    ----------
    final_loss : float
        Population loss at the end, nats (exact when ``seq_len <= 10``, else a held-out
        estimate).
    final_loss_method : str
        How ``final_loss`` was computed.
    entropy_rate : float
        :math:`H(P)`, nats.
    unigram_entropy : float
        :math:`H(\\pi)`, nats.
    converged_to : str
        ``"global"``, ``"local"`` or ``"neither"`` (:func:`classify_loss`).
    predicted_p_given_0, predicted_p_given_1 : float
        Average predicted :math:`P(x_{n+1} = 1 \\mid x_n = 0, 1)`.
    loss_curve : LossCurve
        The recorded training curve.
    seed : int
        The member's seed.
    extended : bool
        True when the run was trained again with more steps (set by the F6 claim).
    """

    final_loss: float
    final_loss_method: str
    entropy_rate: float
    unigram_entropy: float
    converged_to: str
    predicted_p_given_0: float
    predicted_p_given_1: float
    loss_curve: LossCurve
    seed: int
    extended: bool = False


def _check_training_inputs(p, q, steps, d, seq_len, batch, lr, init, seeds=(0,),
                           held_out: int = 2048, record_every: int = 10) -> None:
    """Every argument of :func:`train_members` against its declared domain
    (:mod:`validation.markov.domains`), then the memory estimate against 2 GiB."""
    check_chain(p, q)
    check_finite("lr", lr)
    if lr <= 0:
        raise InputError("lr", lr, "a positive learning rate")
    check_choice("init", init, INITS)
    check_int("record_every", record_every, 1)
    for seed in seeds:
        SEED.check("seed", seed)
    if not seeds:
        raise InputError("seeds", seeds, "at least one seed")
    check_training(steps=steps, d=d, seq_len=seq_len, batch=batch, members=len(seeds),
                   held_out=held_out)


def member_generators(seed: int) -> MemberGenerators:
    """Three independent numpy generators (initialisation, training data, held-out data) spawned
    from ``seed`` (an int >= 0) by ``numpy.random.SeedSequence``."""
    SEED.check("seed", seed)
    init, data, held_out = np.random.SeedSequence(seed).spawn(3)
    return MemberGenerators(np.random.default_rng(init), np.random.default_rng(data),
                            np.random.default_rng(held_out))


def sample_batches(p: float, q: float, steps: int, batch: int, seq_len: int, rngs) -> torch.Tensor:
    """All training batches drawn up front: shape ``(steps, M, batch, seq_len + 1)`` (one
    generator per member), as float64."""
    chains = [sample_chain(p, q, max(steps, 1) * batch, seq_len + 1, rng) for rng in rngs]
    stacked = np.stack([c.reshape(max(steps, 1), batch, seq_len + 1) for c in chains], axis=1)
    return torch.tensor(stacked, dtype=DTYPE)


def batch_loss(model: MarkovTransformer, x: torch.Tensor) -> torch.Tensor:
    """Per-member mean cross-entropy of a sampled batch ``x`` of shape ``(M, B, N+1)``."""
    return _cross_entropy(model(x[..., :-1]), x)


def _cross_entropy(lg: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return (F.softplus(lg) - x[..., 1:] * lg).mean(dim=(1, 2))


def monitored_loss(lg: torch.Tensor, x: torch.Tensor, p: float, q: float, rate: float):
    r"""Low-variance unbiased estimate of the population loss from a training batch:

    .. math::
        \hat L = H(P) + \frac{1}{BN}\sum_{b,n} KL\big(P(\cdot\mid x_n)\,\|\,
        \mathrm{Bern}(\sigma(\mathrm{logit}_n))\big)

    (``L = H(P) + E[KL]`` because :math:`x_n \sim \pi` at every position). Shape ``(M,)``.
    """
    p_one = torch.where(x[..., :-1] > 0.5, 1.0 - q, p)
    cross = p_one * F.softplus(-lg) + (1 - p_one) * F.softplus(lg)
    own = -(p_one * torch.log(p_one) + (1 - p_one) * torch.log1p(-p_one))
    return rate + (cross - own).mean(dim=(1, 2))


def _levels(p: float, q: float) -> tuple[float, float]:
    summary = chain_summary(p, q)
    return summary.entropy_rate, summary.unigram_entropy


def classify_loss(loss: float, p: float, q: float) -> str:
    """``"global"``, ``"local"`` or ``"neither"``: :func:`numerics.markov.canonical.end_state` with its
    default tolerance (the one ``ttc markov train`` uses for ``converged_to``)."""
    return end_state(p, q, loss)


@torch.no_grad()
def evaluate(model: MarkovTransformer, p: float, q: float, rngs,
             held_out: int = 2048) -> Evaluation:
    """Final loss and average predictions of each member (``rngs``: one numpy Generator per
    member for the held-out sample, unused when the loss is exact).

    For ``seq_len <= 10`` the loss is exact (enumeration); otherwise it is estimated on
    ``held_out`` fresh sequences per member with the conditional expectation over
    :math:`x_{n+1}` taken exactly: :math:`\\ell_n = P(1|x_n)\\,\\mathrm{softplus}(-l_n) +
    P(0|x_n)\\,\\mathrm{softplus}(l_n)`. Predictions :math:`P_\\theta(1 | x_n = j)` are averaged
    over positions and sequences with :math:`x_n = j`.
    """
    kernel = torch.tensor(binary_kernel(p, q), dtype=DTYPE)
    if model.seq_len <= 10:
        enumerated = enumeration_tensors(float(p), float(q), model.seq_len)
        sequences, weights = enumerated.sequences, enumerated.probabilities
        x = sequences[None, :, :-1].expand(model.members, -1, -1)
        weights = weights[None, :, None].expand(model.members, -1, model.seq_len)
        method = f"exact enumeration of all 2^{model.seq_len + 1} sequences"
    else:
        x = torch.tensor(np.stack([sample_chain(p, q, held_out, model.seq_len, r) for r in rngs]),
                         dtype=DTYPE)
        weights = torch.full(x.shape, 1.0 / held_out, dtype=DTYPE)
        method = (f"held-out sample of {held_out} sequences per seed, exact expectation over "
                  "the next symbol")
    lg = model(x)
    p_one = kernel[x.long(), 1]
    per_position = p_one * F.softplus(-lg) + (1 - p_one) * F.softplus(lg)
    loss = (per_position * weights).sum(dim=(1, 2)) / model.seq_len
    prediction = torch.sigmoid(lg)
    given = []
    for symbol in (0, 1):
        mask = weights * (x == symbol)
        given.append((prediction * mask).sum(dim=(1, 2)) / mask.sum(dim=(1, 2)))
    return Evaluation(loss=loss.numpy(), p_given_0=given[0].numpy(), p_given_1=given[1].numpy(),
                      method=method)


def train_members(p: float, q: float, *, tying: bool, init: str, steps: int, seeds,
                  d: int = 4, seq_len: int = 64, batch: int = 16, lr: float = 1e-2,
                  record_every: int = 10, progress: bool | None = None,
                  threads: int | None = 1, held_out: int = 2048) -> list[TrainingRun]:
    """Train one model per seed with Adam on sampled batches, all seeds in one vectorised pass.

    Each member's initialisation, training batches and held-out data come from its own seed
    (:func:`member_generators`); the objective is the sum of the members' batch losses, whose gradient
    with respect to a member's weights is that member's own gradient, and Adam is per-coordinate,
    so the members train independently. ``threads`` sets the thread count for the run with
    :func:`numerics.shared.threads.limit_threads` (restored afterwards; None leaves it; one thread
    is fastest for these small tensors on a shared machine). Returns one :class:`TrainingRun` per
    seed.

    Every size is checked first against its domain in :mod:`validation.markov.domains`
    (seeds: integers in [0, 2^63 - 1]); a run whose memory estimate
    (:func:`~validation.markov.domains.training_memory_bytes`) exceeds 2 GiB raises
    :class:`~theory.errors.TooLargeError` before anything is allocated.
    """
    seeds = list(seeds)
    _check_training_inputs(p, q, steps, d, seq_len, batch, lr, init, seeds, held_out,
                           record_every)
    with limit_threads(threads):
        return _train_members(p, q, tying, init, steps, seeds, d, seq_len, batch, lr,
                              record_every, progress, held_out)


def _train_members(p, q, tying, init, steps, seeds, d, seq_len, batch, lr, record_every,
                   progress, held_out) -> list[TrainingRun]:
    generators = [member_generators(s) for s in seeds]
    model = build_model(d, seq_len, tied=tying, init=init, seeds=[g.init for g in generators])
    data = sample_batches(p, q, steps, batch, seq_len, [g.data for g in generators])
    member_losses = []
    rate = chain_summary(p, q).entropy_rate

    def objective(step: int) -> torch.Tensor:
        x = data[step]
        lg = model(x[..., :-1])
        if step % record_every == 0 or step == steps - 1:
            with torch.no_grad():
                member_losses.append(monitored_loss(lg, x, p, q, rate).numpy().copy())
        return _cross_entropy(lg, x).sum()

    trained = train(model, objective, steps, lr=lr, optimizer="adam", record_every=record_every,
                   progress=progress, description=f"markov transformer ({len(seeds)} seeds)")
    final = evaluate(model, p, q, [g.held_out for g in generators], held_out=held_out)
    if not np.all(np.isfinite(final.loss)):
        raise NumericalFailure(f"final loss is not finite: {final.loss}")
    rate, unigram = _levels(p, q)
    curves = np.array(member_losses).reshape(len(trained.steps), len(seeds))
    out = []
    for k, seed in enumerate(seeds):
        loss = float(final.loss[k])
        out.append(TrainingRun(
            final_loss=loss, final_loss_method=final.method, entropy_rate=rate,
            unigram_entropy=unigram, converged_to=classify_loss(loss, p, q),
            predicted_p_given_0=float(final.p_given_0[k]),
            predicted_p_given_1=float(final.p_given_1[k]),
            loss_curve=LossCurve(steps=trained.steps.tolist(), losses=curves[:, k].tolist()),
            seed=seed))
    return out


def train_transformer(p: float, q: float, *, tying: bool, init: str, steps: int, seed: int,
                      d: int = 4, seq_len: int = 64, batch: int = 16, lr: float = 1e-2,
                      progress: bool | None = None) -> TrainingRun:
    """Train the full transformer on the chain ``(p, q)`` with Adam and report where it ended.

    Parameters
    ----------
    p, q : float
        Chain parameters in (0, 1).
    tying : bool
        Weight tying ``a = e``.
    init : {"standard", "good", "lowrank"}
        Initialisation (:func:`initial_parameters`).
    steps, seed : int
        Adam steps (>= 0) and the seed of initialisation and data.
    d, seq_len, batch : int
        Width, context length ``N`` and sequences per step.
    lr : float
        Adam learning rate.

    Returns
    -------
    TrainingRun
        ``final_loss`` (exact when ``seq_len <= 10``, else a held-out estimate; see
        ``final_loss_method``), ``entropy_rate`` :math:`H(P)`, ``unigram_entropy``
        :math:`H(\\pi)`, ``converged_to`` (:func:`classify_loss`), ``predicted_p_given_0``,
        ``predicted_p_given_1``, ``loss_curve`` (the low-variance estimate
        :math:`H(P) + \\overline{KL}` of the population loss on each recorded training batch,
        see :func:`monitored_loss`) and ``seed``. Runs with one thread.
    """
    return train_members(p, q, tying=tying, init=init, steps=steps, seeds=[seed], d=d,
                         seq_len=seq_len, batch=batch, lr=lr, progress=progress)[0]

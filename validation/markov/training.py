"""Adam training of the full Markov transformer on sampled chains, and its evaluation.

Makkuva et al., P1 Sec. 2 and Figs. 2-3: many seeds train in one vectorised pass; a trained model
is evaluated against H(P) and H(pi).

The model, its initialisations and its exact population loss are in
:mod:`validation.markov.models`.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from numerics.markov.canonical import chain_summary, check_chain, end_state
from numerics.markov.sequences import binary_kernel, sample_chain, sample_lag_chain
from numerics.shared.threads import limit_threads
from theory.domains import SEED
from theory.errors import InputError, NumericalFailure, check_choice, check_finite, check_int
from validation.markov.domains import EVALUATION_CHUNK, check_architecture, check_training
from theory.results import result
from validation.markov.models import (DTYPE, INITS, MarkovTransformer, build_model,
                                      enumeration_tensors)
from validation.shared.training import make_optimizer, train


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
                           held_out: int = 2048, record_every: int = 10,
                           memory_check: bool = True) -> None:
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
    if memory_check:        # train_ensemble checks its own, chunked, memory instead
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
        \\hat L = H(P) + \\frac{1}{BN}\\sum_{b,n} KL\\big(P(\\cdot\\mid x_n)\\,\\|\\,
        \\mathrm{Bern}(\\sigma(\\mathrm{logit}_n))\\big)

    (``L = H(P) + E[KL]`` because :math:`x_n \\sim \\pi` at every position). Shape ``(M,)``.
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


# ----------------------------------------------------------------------------- ensembles

#: Learning-rate schedules of :func:`train_ensemble` (see :func:`learning_rate_factor`).
SCHEDULES = ("constant", "warmup_cosine", "onecycle")
#: Training steps whose batches are drawn at once by :func:`train_ensemble` (bit-identical to
#: drawing all of them up front: each member's generator is consumed in the same order).
DATA_CHUNK = 100
#: Seeds per vectorised batch of :func:`train_ensemble`. Measured (L = 2, d = 8, N = 64, batch
#: 16, one thread, CPU ms per member-step): 3.2 for one seed, 2.2 in batches of 4, 2.1 of 8,
#: 2.5 of 16, 3.1 of 32, 3.8 of 64: beyond about 8 members the float64 attention scores
#: (members x batch x N x N) leave the cache and the batch is memory-bound.
ENSEMBLE_GROUP = 8
#: The settling trainer of the schedule target (``benchmarks/markov/bench_training.py``):
#: keyword arguments of :func:`train_ensemble` (see its "Schedules" note).
SETTLING = dict(lr=1e-2, schedule="warmup_cosine", warmup=0.1, betas=(0.9, 0.95),
                pos_centering=60.0)


@torch.no_grad()
def center_positions_(model: MarkovTransformer, amount: float) -> None:
    """Shrink each member's positional embeddings towards their mean over positions, in place:
    :math:`p_n \\leftarrow \\bar p + \\max(0, 1 - \\mathrm{amount})\\,(p_n - \\bar p)`,
    :math:`\\bar p = \\frac1N\\sum_n p_n` (``amount >= 1`` sets every :math:`p_n` to
    :math:`\\bar p`). A decoupled weight decay (as AdamW's) on the position-dependent part of
    ``pos`` only: the mean, which the model needs, is untouched. :func:`train_ensemble` applies
    it after every Adam step with ``amount = pos_centering x`` the step's learning rate."""
    pos = model.weights["pos"]
    mean = pos.mean(dim=1, keepdim=True)
    pos.sub_(min(float(amount), 1.0) * (pos - mean))


@result
class EnsembleRun:
    """One seed of :func:`train_ensemble` (Part 2 Sec. 1; the ``ttc markov train --layers``
    ``per_seed`` entries and the D6 measurement).

    Attributes
    ----------
    run : TrainingRun
        Final loss, levels, class by the loss, predictions averaged over all positions, curve.
    converged_to : str
        The D6 class: ``run.converged_to`` confirmed by the late predictions
        :math:`\\hat p, \\hat q` (:func:`classify_run`).
    p_hat, q_hat : float
        :math:`\\hat p = \\overline{P_\\theta(1 \\mid x_n = 0)}` and
        :math:`\\hat q = \\overline{P_\\theta(0 \\mid x_n = 1)}` over positions ``n > N/2``.
    prev_token_score, induction_score : list of float
        Per layer (:func:`validation.markov.depth.layer_scores`).
    rank_one_energy : dict
        ``{"W_V": [...], "W_1": [...]}``: :math:`s_1^2/\\sum_i s_i^2` per layer.
    """

    run: TrainingRun
    converged_to: str
    p_hat: float
    q_hat: float
    prev_token_score: list
    induction_score: list
    rank_one_energy: dict


def learning_rate_factor(step: int, steps: int, schedule: str, warmup: float = 0.1,
                         floor: float = 0.0) -> float:
    """Multiplier of the peak learning rate at ``step`` (0-based) of ``steps``.

    - ``"constant"``: 1.
    - ``"warmup_cosine"``: linear warm-up :math:`(s+1)/w` over the first
      :math:`w = \\lceil \\mathrm{warmup}\\cdot T\\rceil` steps, then cosine decay
      :math:`\\mathrm{floor} + (1-\\mathrm{floor})\\frac12(1 + \\cos(\\pi t))`,
      :math:`t = (s - w)/(T - w - 1)` from 1 to ``floor`` at the last step. Large early steps
      move quickly to a level; the decay removes the jitter a constant Adam rate leaves (its
      steady-state noise is proportional to the rate).
    - ``"onecycle"`` is ``torch.optim.lr_scheduler.OneCycleLR`` (not this function).
    """
    if schedule == "constant" or steps <= 1:
        return 1.0
    w = max(1, math.ceil(warmup * steps))
    if step < w:
        return (step + 1) / w
    t = (step - w) / max(steps - w - 1, 1)
    return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(t, 1.0)))


def next_symbol_probability(x: torch.Tensor, p: float, q: float, lag: int = 1) -> torch.Tensor:
    """:math:`P(x_{n+1} = 1 \\mid x_1^n)` for inputs ``x`` (shape ``(..., N)``) of the lag-k chain
    (:math:`x_1..x_k` i.i.d. :math:`\\pi`, :math:`x_{n+1} \\sim P(\\cdot\\mid x_{n+1-k})`):
    :math:`\\pi_1` for ``n < k``, else :math:`P(1 \\mid x_{n+1-k})`. Same shape as ``x``."""
    up = torch.where(x > 0.5, 1.0 - q, p)
    if lag == 1:
        return up
    pi1 = p / (p + q)
    out = torch.full_like(up, pi1)
    out[..., lag - 1:] = up[..., :up.shape[-1] - lag + 1]
    return out


def optimal_loss(p: float, q: float, seq_len: int, lag: int = 1) -> float:
    """Loss of the Bayes predictor over positions ``1..N`` of the lag-k chain:
    :math:`((k-1)H(\\pi) + (N-k+1)H(P))/N` (``lag = 1``: :math:`H(P)`)."""
    rate, unigram = _levels(p, q)
    return ((lag - 1) * unigram + (seq_len - lag + 1) * rate) / seq_len


def classify_run(loss: float, p_hat: float, q_hat: float, p: float, q: float,
                 seq_len: int = 64, lag: int = 1, tol: float = 0.05) -> str:
    """The D6 class: ``"global"`` when the loss is at the optimum (:func:`optimal_loss`, with the
    tolerance of :func:`classify_loss`) and the late predictions match the kernel
    (:math:`|\\hat p - p|, |\\hat q - q| \\le` ``tol``); ``"local"`` when the loss is at
    :math:`H(\\pi)` and both predictions are within ``tol`` of :math:`\\pi_1` (resp.
    :math:`\\pi_0`); else ``"neither"``."""
    level = classify_level(loss, p, q, seq_len, lag)
    pi1 = p / (p + q)
    if level == "global" and abs(p_hat - p) <= tol and abs(q_hat - q) <= tol:
        return "global"
    if level == "local" and abs(p_hat - pi1) <= tol and abs(q_hat - (1 - pi1)) <= tol:
        return "local"
    return "neither"


def classify_level(loss: float, p: float, q: float, seq_len: int = 64, lag: int = 1) -> str:
    """:func:`classify_loss` with the global level at :func:`optimal_loss` (the lag-k chain's
    optimum over ``N`` positions; :math:`H(P)` for ``lag = 1``)."""
    if lag == 1:
        return classify_loss(loss, p, q)
    rate, unigram = _levels(p, q)
    best = optimal_loss(p, q, seq_len, lag)
    level_tol = min(0.01, max((unigram - rate) / 3, 0.001))
    if abs(loss - best) <= level_tol:
        return "global"
    return "local" if abs(loss - unigram) <= level_tol else "neither"


def sample_lag_batches(p: float, q: float, steps: int, batch: int, seq_len: int, rngs,
                       lag: int = 1) -> torch.Tensor:
    """:func:`sample_batches` for the lag-k chain (``lag = 1``: the very same arrays)."""
    if lag == 1:
        return sample_batches(p, q, steps, batch, seq_len, rngs)
    chains = [sample_lag_chain(p, q, lag, max(steps, 1) * batch, seq_len + 1, rng)
              for rng in rngs]
    stacked = np.stack([c.reshape(max(steps, 1), batch, seq_len + 1) for c in chains], axis=1)
    return torch.tensor(stacked, dtype=DTYPE)


def _check_ensemble(p, q, steps, d, seq_len, batch, lr, init, seeds, held_out, record_every,
                    layers, memory, lag, optimizer, schedule, warmup, pos_centering=0.0):
    _check_training_inputs(p, q, steps, d, seq_len, batch, lr, init, seeds, held_out,
                           record_every, memory_check=False)
    check_architecture(seq_len=seq_len, layers=layers, memory=memory, lag=lag)
    check_choice("optimizer", optimizer, ("adam", "adamw"))
    check_choice("schedule", schedule, SCHEDULES)
    check_finite("warmup", warmup)
    if not 0 <= warmup < 1:
        raise InputError("warmup", warmup, "a fraction of the steps in [0, 1)")
    check_finite("pos_centering", pos_centering)
    if pos_centering < 0:
        raise InputError("pos_centering", pos_centering, "a rate >= 0 (0: off)")
    check_training(steps=steps, d=d, seq_len=seq_len, batch=batch, members=len(seeds),
                   held_out=held_out, layers=layers, chunk=DATA_CHUNK)


def train_ensemble(p: float, q: float, *, tying: bool, seeds, steps: int, init: str = "standard",
                   d: int = 4, seq_len: int = 64, batch: int = 16, layers: int = 1,
                   memory: int | None = None, lag: int = 1, optimizer: str = "adam",
                   lr: float = 1e-2, schedule: str = "constant", warmup: float = 0.1,
                   betas=(0.9, 0.999), weight_decay: float = 0.0,
                   pos_centering: float = 0.0, record_every: int = 10,
                   held_out: int = 2048, threads: int | None = 1,
                   scores: bool = True, group: int = ENSEMBLE_GROUP, record=None) -> list[EnsembleRun]:
    """Train the seeds of one configuration as one vectorised batch (stacked weights).

    Every member draws its initialisation, training batches and held-out sequences from its own
    seed (:func:`member_generators`); the objective is the sum of the members' batch losses, so
    each member's gradient is its own, and Adam/AdamW are per-coordinate with a learning rate
    shared by all (the schedule depends on the step only): member ``k`` of a batch follows the
    same trajectory as a run of seed ``k`` alone, up to floating-point summation order.

    Parameters
    ----------
    p, q : float
        The chain; ``lag = k`` trains on the lag-k chain :math:`x_{n+1}\\sim P(\\cdot\\mid
        x_{n+1-k})` (:func:`numerics.markov.sequences.sample_lag_chain`).
    tying, init, d, seq_len, batch : as in :func:`train_members`
    layers, memory : int
        Depth ``L`` and attention window ``W`` (None: causal); see
        :func:`validation.markov.domains.check_architecture`.
    optimizer : {"adam", "adamw"}
        With ``betas`` and ``weight_decay``.
    lr : float
        Peak learning rate.
    schedule : {"constant", "warmup_cosine", "onecycle"}
        :func:`learning_rate_factor` (``warmup``: fraction of warm-up steps); ``"onecycle"``:
        torch's ``OneCycleLR(max_lr=lr, pct_start=warmup, anneal_strategy="cos")`` (the authors'
        code's schedule, momentum cycled too).
    pos_centering : float
        After every optimiser step, shrink the deviation of the positional embeddings
        :math:`p_n` from their mean over positions by the factor ``1 - pos_centering x`` (the
        step's learning rate) (:func:`center_positions_`; a decoupled weight decay on the
        position-dependent part of ``pos`` only). 0 (default): off, the plain optimiser.
    held_out : int
        Held-out sequences per seed for the final loss (``seq_len > 10``; evaluated 64 at a
        time), with the exact expectation over the next symbol.
    scores : bool
        Compute the per-layer attention scores and rank-one energies.
    group : int
        Seeds per vectorised batch (default :data:`ENSEMBLE_GROUP`): more seeds train as
        consecutive batches of ``group``; results do not depend on it.
    record : callable, optional
        ``record(step, params, seeds)`` is called before the Adam steps ``0, record_every, ...``
        and once after the last one (``step = steps``) with the live parameter dict of the
        batch being trained (leading member axis; :meth:`MarkovTransformer.params`) and the
        seeds of its members, for measurements along the trajectory (e.g. rank-one energies);
        its return value is ignored. Called once per batch of ``group`` seeds.

    Schedules: :data:`SETTLING` (``"warmup_cosine"``, ``lr = 1e-2``, ``warmup = 0.1``,
    ``betas = (0.9, 0.95)``, ``pos_centering = 60``) is the settling trainer of the benchmark
    (``benchmarks/markov/bench_training.py``): the large early rates reach a level within 2e-3
    nats in 40-90 steps, the cosine decay to 0 removes the jitter of a constant Adam rate.
    Without ``pos_centering`` what remains at the end is statistical: each positional
    embedding :math:`p_n` is free to fit the noise of its own ``steps x batch`` tokens, and a
    model at :math:`H(P)` ends 4-7e-4 nats above the ideal predictor at p, q = 0.2, 0.3 after
    150 steps (3.5e-4 after 300, 1.5e-4 after 600; the add-1/2 estimate per position from the
    same batches: 4.4e-4 at 150). The Markov predictor does not depend on the position, so
    ``pos_centering = 60`` (the deviation from the mean shrinks by up to 0.6 per step at the
    peak rate) removes that per-position fit; ``betas = (0.9, 0.95)`` (a shorter second-moment
    memory, so the step sizes follow the shrinking gradients of the decay) brings the tied
    p, q = 0.5, 0.8 model, which centering alone leaves at 0.7-2.4e-4, down too. Measured final
    excess over seeds 0-7 (150 steps, batch 16, 2048 held-out sequences), plain schedule ->
    :data:`SETTLING`: p, q = 0.5, 0.8 tied 1.0-2.5e-4 -> 2.4-9.4e-5, untied 1.6-4.0e-4 ->
    0.5-9.1e-5; p, q = 0.2, 0.3 tied 4.0-7.2e-4 -> 2.0-8.1e-5, untied 4.2-6.8e-4 -> 2.3-8.3e-5.
    Tail averaging of the weights (uniform or EMA) did not help (no better, mostly worse: the
    iterates are not noise-limited at the end of the decay).

    Returns
    -------
    list of EnsembleRun
        One per seed, in order.
    """
    seeds = list(seeds)
    _check_ensemble(p, q, steps, d, seq_len, batch, lr, init, seeds, held_out, record_every,
                    layers, memory, lag, optimizer, schedule, warmup, pos_centering)
    check_int("group", group, 1)
    if record is not None and not callable(record):
        raise InputError("record", record, "None or a callable record(step, params, seeds)")
    out = []
    with limit_threads(threads):
        for start in range(0, len(seeds), group):
            out += _train_ensemble(p, q, tying, seeds[start:start + group], steps, init, d,
                                   seq_len, batch, layers, memory, lag, optimizer, lr, schedule,
                                   warmup, tuple(betas), weight_decay, record_every, held_out,
                                   scores, record, float(pos_centering))
    return out


def _train_ensemble(p, q, tying, seeds, steps, init, d, seq_len, batch, layers, memory, lag,
                    optimizer, lr, schedule, warmup, betas, weight_decay, record_every,
                    held_out, scores, record=None, pos_centering=0.0) -> list[EnsembleRun]:
    generators = [member_generators(s) for s in seeds]
    model = build_model(d, seq_len, tied=tying, init=init, seeds=[g.init for g in generators],
                        layers=layers, memory=memory)
    options = {"betas": betas}
    if optimizer == "adamw":
        options["weight_decay"] = weight_decay
    opt = make_optimizer(model.parameters(), optimizer, lr, **options)
    cycle = None
    if schedule == "onecycle" and steps > 0:
        cycle = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps,
                                                    pct_start=warmup, anneal_strategy="cos")
    level = optimal_loss(p, q, seq_len, lag)
    recorded, curves = [], []
    data = None
    for step in range(steps):
        if step % DATA_CHUNK == 0:
            data = sample_lag_batches(p, q, min(DATA_CHUNK, steps - step), batch, seq_len,
                                      [g.data for g in generators], lag)
        if cycle is None:
            for group in opt.param_groups:
                group["lr"] = lr * learning_rate_factor(step, steps, schedule, warmup)
        x = data[step % DATA_CHUNK]
        if record is not None and step % record_every == 0:
            record(step, model.params(), list(seeds))
        opt.zero_grad(set_to_none=True)
        lg = model(x[..., :-1])
        loss = _cross_entropy(lg, x).sum()
        if not torch.isfinite(loss):
            raise NumericalFailure(f"markov ensemble: loss became {loss.item()} at step {step}")
        if step % record_every == 0 or step == steps - 1:
            with torch.no_grad():
                recorded.append(step)
                curves.append(_monitored(lg, x, p, q, lag, level).numpy().copy())
        loss.backward()
        opt.step()
        if pos_centering:
            center_positions_(model, pos_centering * opt.param_groups[0]["lr"])
        if cycle is not None:
            cycle.step()
    if record is not None:
        record(steps, model.params(), list(seeds))
    final = evaluate_ensemble(model, p, q, [g.held_out for g in generators], held_out, lag,
                              scores)
    rate, unigram = _levels(p, q)
    curves = np.array(curves).reshape(len(recorded), len(seeds))
    out = []
    for k, seed in enumerate(seeds):
        loss = float(final["loss"][k])
        run = TrainingRun(
            final_loss=loss, final_loss_method=final["method"], entropy_rate=rate,
            unigram_entropy=unigram,
            converged_to=classify_level(loss, p, q, seq_len, lag),
            predicted_p_given_0=float(final["p_given_0"][k]),
            predicted_p_given_1=float(final["p_given_1"][k]),
            loss_curve=LossCurve(steps=list(recorded), losses=curves[:, k].tolist()), seed=seed)
        p_hat, q_hat = float(final["p_hat"][k]), float(final["q_hat"][k])
        out.append(EnsembleRun(
            run=run, converged_to=classify_run(loss, p_hat, q_hat, p, q, seq_len, lag),
            p_hat=p_hat, q_hat=q_hat,
            prev_token_score=[float(v) for v in final["prev_token"][:, k]] if scores else [],
            induction_score=[float(v) for v in final["induction"][:, k]] if scores else [],
            rank_one_energy=_rank_one_energies(model, k, layers) if scores else {}))
    return out


def _monitored(lg, x, p, q, lag, level):
    """:math:`L^*_N + \\overline{KL}` (:func:`monitored_loss` for any lag), shape ``(M,)``."""
    p_one = next_symbol_probability(x[..., :-1], p, q, lag)
    cross = p_one * F.softplus(-lg) + (1 - p_one) * F.softplus(lg)
    own = -(torch.xlogy(p_one, p_one) + torch.xlogy(1 - p_one, 1 - p_one))
    return level + (cross - own).mean(dim=(1, 2))


def _rank_one_energies(model, k: int, layers: int) -> dict:
    from validation.markov.depth import rank_one_energy
    from validation.markov.models import layer_key

    params = model.params()
    return {name: [rank_one_energy(params[layer_key(name, layer)][k].detach().numpy())
                   for layer in range(1, layers + 1)] for name in ("W_V", "W_1")}


@torch.no_grad()
def evaluate_ensemble(model: MarkovTransformer, p: float, q: float, rngs, held_out: int = 2048,
                      lag: int = 1, scores: bool = True) -> dict:
    """Held-out evaluation of every member (exact enumeration when ``seq_len <= 10`` and
    ``lag = 1``; else ``held_out`` sampled sequences per member, 64 at a time, with the exact
    expectation over the next symbol). Returns a dict of arrays over members: ``loss``,
    ``p_given_0``, ``p_given_1`` (all positions), ``p_hat``, ``q_hat`` (positions ``n > N/2``),
    ``prev_token``, ``induction`` (shape ``(L, M)``; on the first 64 held-out sequences),
    ``ideal_global`` and ``ideal_local`` (the losses of the Bayes predictor and of the
    stationary law :math:`\\pi_1` on the same sequences) and ``method``."""
    from validation.markov.depth import layer_scores
    from validation.markov.models import attention_maps

    n_len, members = model.seq_len, model.members
    if n_len <= 10 and lag == 1:
        enumerated = enumeration_tensors(float(p), float(q), n_len)
        chunks = [(enumerated.sequences[None, :, :-1].expand(members, -1, -1),
                   enumerated.probabilities)]
        method = f"exact enumeration of all 2^{n_len + 1} sequences"
    else:
        x = np.stack([sample_lag_chain(p, q, lag, held_out, n_len, r) for r in rngs])
        x = torch.tensor(x, dtype=DTYPE)
        step = EVALUATION_CHUNK
        chunks = [(x[:, s:s + step], torch.full((x[:, s:s + step].shape[1],), 1.0 / held_out,
                                                dtype=DTYPE)) for s in range(0, held_out, step)]
        method = (f"held-out sample of {held_out} sequences per seed, exact expectation over "
                  "the next symbol")
    late = torch.arange(1, n_len + 1) > n_len / 2
    sums = {key: torch.zeros(members, dtype=DTYPE) for key in
            ("loss", "given0", "count0", "given1", "count1", "late0", "lcount0", "late1", "lcount1",
             "ideal_global", "ideal_local")}
    pi1 = p / (p + q)
    for x, weight in chunks:
        lg = model(x)
        p_one = next_symbol_probability(x, p, q, lag)
        per_position = p_one * F.softplus(-lg) + (1 - p_one) * F.softplus(lg)
        w = weight[None, :, None]
        sums["loss"] += (per_position * w).sum(dim=(1, 2)) / n_len
        own = -(torch.xlogy(p_one, p_one) + torch.xlogy(1 - p_one, 1 - p_one))
        unigram = -(p_one * math.log(pi1) + (1 - p_one) * math.log(1 - pi1))
        sums["ideal_global"] += (own * w).sum(dim=(1, 2)) / n_len
        sums["ideal_local"] += (unigram * w).sum(dim=(1, 2)) / n_len
        prediction = torch.sigmoid(lg)
        for symbol, given, count, late_sum, late_count in (
                (0, "given0", "count0", "late0", "lcount0"),
                (1, "given1", "count1", "late1", "lcount1")):
            mask = w * (x == symbol)
            sums[given] += (prediction * mask).sum(dim=(1, 2))
            sums[count] += mask.sum(dim=(1, 2))
            mask = mask * late
            sums[late_sum] += (prediction * mask).sum(dim=(1, 2))
            sums[late_count] += mask.sum(dim=(1, 2))
    out = {"loss": sums["loss"].numpy(), "method": method,
           "p_given_0": (sums["given0"] / sums["count0"]).numpy(),
           "p_given_1": (sums["given1"] / sums["count1"]).numpy(),
           "p_hat": (sums["late0"] / sums["lcount0"]).numpy(),
           "q_hat": (1 - sums["late1"] / sums["lcount1"]).numpy(),
           "ideal_global": sums["ideal_global"].numpy(),
           "ideal_local": sums["ideal_local"].numpy()}
    if scores:
        x = chunks[0][0][:, :EVALUATION_CHUNK]
        maps = attention_maps(model.params(), x, model.memory)
        both = [layer_scores(att, x) for att in maps]
        out["prev_token"] = np.array([s[0] for s in both])
        out["induction"] = np.array([s[1] for s in both])
    if not np.all(np.isfinite(out["loss"])):
        raise NumericalFailure(f"final loss is not finite: {out['loss']}")
    return out


def ensemble_report(p: float, q: float, *, tying: bool, init: str, steps: int, seed: int,
                    seeds: int = 1, d: int = 4, seq_len: int = 64, layers: int = 1,
                    memory: int | None = None, lag: int = 1,
                    schedule: str = "constant") -> dict:
    """The ``ttc markov train --model transformer`` values (Part 2 Sec. 5): ``seeds`` runs with
    seeds ``seed, seed+1, ...`` trained as one vectorised ensemble (:func:`train_ensemble`, Adam
    lr 1e-2, batch 16, one thread).

    Returns a dict: the markov.md keys of the first seed (``final_loss``, ``entropy_rate``,
    ``unigram_entropy``, ``converged_to``, ``predicted_p_given_0``, ``predicted_p_given_1``),
    then ``layers``, ``memory`` (None: causal), ``lag``, ``per_seed`` (those keys plus ``seed``
    for every seed), ``share`` (``{global, local, neither}`` fractions of seeds by
    ``converged_to``), ``seconds`` (wall clock of the training) and, per layer and averaged over
    seeds, ``prev_token_score``, ``induction_score`` and ``rank_one_energy``
    (``{"W_V": [...], "W_1": [...]}``). ``converged_to`` compares the final loss with the optimum
    of the lag-k chain (:func:`classify_level`; :math:`H(P)` when ``lag = 1``)."""
    import time

    start = time.perf_counter()
    runs = train_ensemble(p, q, tying=tying, seeds=range(seed, seed + seeds), steps=steps,
                          init=init, d=d, seq_len=seq_len, layers=layers, memory=memory,
                          lag=lag, lr=1e-2, schedule=schedule)
    seconds = time.perf_counter() - start
    per_seed = [{"seed": r.run.seed, "final_loss": r.run.final_loss,
                 "entropy_rate": r.run.entropy_rate, "unigram_entropy": r.run.unigram_entropy,
                 "converged_to": r.run.converged_to,
                 "predicted_p_given_0": r.run.predicted_p_given_0,
                 "predicted_p_given_1": r.run.predicted_p_given_1} for r in runs]
    ends = [row["converged_to"] for row in per_seed]
    first = {k: v for k, v in per_seed[0].items() if k != "seed"}
    return {**first, "layers": layers, "memory": memory, "lag": lag, "per_seed": per_seed,
            "share": {k: ends.count(k) / len(ends) for k in ("global", "local", "neither")},
            "seconds": seconds,
            "prev_token_score": np.mean([r.prev_token_score for r in runs], axis=0).tolist(),
            "induction_score": np.mean([r.induction_score for r in runs], axis=0).tolist(),
            "rank_one_energy": {name: np.mean([r.rank_one_energy[name] for r in runs],
                                              axis=0).tolist() for name in ("W_V", "W_1")}}

"""Higher-order chains on the full transformer in torch: the construction of K2 and the
attention-window experiment K4.

Specification ``markov.md`` Part 2, Sec. 2 (after Makkuva et al., P1 = arXiv 2402.04161, and the
authors' ``Markov-LLM-k`` code). The lag-k chain and its bounds are
:mod:`numerics.markov.higher_order`; the model is :mod:`validation.markov.models`.

K2 point (width ``d = 4``, untied, orthonormal ``u_1..u_4``): :math:`e = u_1`;
:math:`p_n = \\cos(n\\theta)u_2 + \\sin(n\\theta)u_3` with :math:`\\theta = 2\\pi/(N+1)`;
:math:`W_Q = \\beta P`, :math:`W_K = \\beta R P` (``P`` projects on ``u_2, u_3``, ``R`` adds
:math:`(k-1)\\theta` to the angle), so the score :math:`\\beta^2\\cos((n - i - (k-1))\\theta)/\\sqrt d`
peaks at :math:`i = n - (k-1)`; :math:`W_V = u_4 u_1^\\top`, :math:`W_O = I`, MLP 0;
:math:`a = \\log\\frac{(1-p)(1-q)}{pq} u_4`, :math:`b = \\log\\frac{p}{1-p}`. As
:math:`\\beta\\to\\infty` the logit at ``n >= k`` tends to
:math:`b + C x_{n+1-k}`: the lag-k kernel, loss :math:`H(P)`.
"""

from __future__ import annotations

import math
import time

import numpy as np
import torch
import torch.nn.functional as F

from numerics.markov.canonical import chain_summary, check_chain, global_curve_constant
from numerics.markov.higher_order import LAG, enumerate_lag_sequences, optimal_loss_finite_n
from numerics.markov.sequences import sample_lag_chain
from numerics.shared.seeding import as_generator
from numerics.shared.threads import limit_threads
from theory.domains import integer, real
from theory.results import result
from validation.markov.models import DTYPE, MarkovTransformer, build_model, from_weights, logits

__all__ = ["WindowRun", "construction_weights", "lag_position_losses", "construction_excess",
           "train_lag_members", "train_window"]


@result
class WindowRun:
    """One K4 training run: a model with ``layers`` layers and attention window ``memory`` on
    the lag-k chain.

    Attributes
    ----------
    layers : int
    memory : int or None
        ``W`` (None: causal).
    seed : int
    final_loss : float
        Held-out loss (nats) averaged over positions ``1..N`` after training.
    optimal_loss : float
        :math:`L^*_N` (nats) of the lag-k chain at that ``N``.
    seconds : float
        Wall-clock time of the run.
    """

    layers: int
    memory: int | None
    seed: int
    final_loss: float
    optimal_loss: float
    seconds: float


def construction_weights(p: float, q: float, lag: int, seq_len: int, beta: float) -> dict:
    """The K2 point (module docstring) as a dict of float64 tensors without member axis (width 4,
    untied; keys of :func:`validation.markov.models.from_weights`)."""
    check_chain(p, q)
    LAG.check("lag", lag)
    integer(1, 12).check("seq_len", seq_len)
    real(0, None, low_open=True).check("beta", beta)
    d = 4
    eye = np.eye(d)
    u1, u2, u3, u4 = eye
    theta = 2 * math.pi / (seq_len + 1)
    n = np.arange(1, seq_len + 1)[:, None]
    pos = np.cos(n * theta) * u2 + np.sin(n * theta) * u3
    project = np.outer(u2, u2) + np.outer(u3, u3)
    angle = (lag - 1) * theta
    rotate = np.eye(d)
    rotate[1:3, 1:3] = [[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]]
    weights = {"e": u1, "pos": pos, "W_Q": beta * project, "W_K": beta * rotate @ project,
               "W_V": np.outer(u4, u1), "W_O": np.eye(d), "W_1": np.zeros((4 * d, d)),
               "W_2": np.zeros((d, 4 * d)), "a": global_curve_constant(p, q) * u4,
               "b": np.asarray(math.log(p / (1 - p)))}
    return {name: torch.as_tensor(value, dtype=DTYPE) for name, value in weights.items()}


def lag_position_losses(model: MarkovTransformer, p: float, q: float, lag: int) -> np.ndarray:
    """Exact expected cross-entropy at each position ``n = 1..N`` (nats, shape ``(N,)``) of a
    one-member model on the lag-k chain, by enumerating every sequence
    (:func:`numerics.markov.higher_order.enumerate_lag_sequences`, ``N <= 12``)."""
    integer(1, 12).check("seq_len", model.seq_len)
    sequences, probabilities = enumerate_lag_sequences(p, q, lag, model.seq_len)
    x = torch.tensor(sequences, dtype=DTYPE)
    with torch.no_grad():
        lg = logits(model.params(), x[:, :-1], model.tied, model.memory)[0]
        per = F.softplus(lg) - x[:, 1:] * lg
    return (torch.as_tensor(probabilities, dtype=DTYPE) @ per).numpy()


def construction_excess(p: float, q: float, lag: int, seq_len: int, beta: float) -> float:
    """K2: mean over positions ``n >= k`` of the exact loss of the construction minus
    :math:`H(P)` (nats; tends to 0 as ``beta`` grows)."""
    model = from_weights(construction_weights(p, q, lag, seq_len, beta), tied=False)
    losses = lag_position_losses(model, p, q, lag)
    return float(np.mean(losses[lag - 1:]) - chain_summary(p, q).entropy_rate)


def _one_cycle(steps: int):
    """Learning-rate factor of step ``t``: linear warm-up over the first 2% of the steps (at
    least one), then a cosine decay to 0 at ``steps``."""
    warm = max(1, round(0.02 * steps))

    def factor(t: int) -> float:
        if t < warm:
            return (t + 1) / warm
        return 0.5 * (1 + math.cos(math.pi * (t - warm) / max(1, steps - warm)))

    return factor


def train_lag_members(p: float, q: float, lag: int, *, layers: int, memory: int | None, seeds,
                      steps: int = 800, d: int = 8, seq_len: int = 64, batch: int = 16,
                      lr: float = 2e-3, held_out: int = 4096, record_every: int = 0,
                      record=None) -> tuple[np.ndarray, list]:
    """Train one tied model per seed (``standard`` initialisation, stacked as members of one
    :class:`MarkovTransformer`) on sampled lag-k sequences with AdamW (betas 0.9, 0.95, weight
    decay 1e-3) and a 2% linear warm-up then cosine decay (:func:`_one_cycle`), as the authors'
    code; one
    thread. Each member's initialisation, data and held-out data come from its own seed.

    Returns the held-out loss per member (nats, shape ``(M,)``, averaged over positions
    ``1..N`` of ``held_out`` fresh sequences) and the list of ``record(step, params)`` values at
    steps ``0, record_every, ...`` and the last step (empty when ``record_every == 0``).
    """
    check_chain(p, q)
    seeds = [int(s) for s in seeds]
    streams = [[int(v) for v in as_generator(s).integers(0, 2**62, 3)] for s in seeds]
    records = []
    with limit_threads(1):
        model = build_model(d, seq_len, tied=True, init="standard",
                            seeds=[s[0] for s in streams], layers=layers, memory=memory)

        def sample(count: int, index: int) -> torch.Tensor:
            return torch.stack([torch.as_tensor(sample_lag_chain(p, q, lag, count, seq_len + 1,
                                                                 s[index]), dtype=DTYPE)
                                for s in streams])

        data = sample(steps * batch, 1).reshape(len(seeds), steps, batch, seq_len + 1)
        optimizer = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.95),
                                      weight_decay=1e-3)
        schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, _one_cycle(steps))
        for step in range(steps):
            if record_every and (step % record_every == 0):
                records.append(record(step, model.params()))
            x = data[:, step]
            lg = model(x[..., :-1])
            loss = (F.softplus(lg) - x[..., 1:] * lg).mean(dim=(1, 2)).sum()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
        if record_every:
            records.append(record(steps, model.params()))
        test = sample(held_out, 2)
        with torch.no_grad():
            lg = model(test[..., :-1])
            final = (F.softplus(lg) - test[..., 1:] * lg).mean(dim=(1, 2)).numpy()
    return final, records


def train_window(p: float, q: float, lag: int, *, layers: int, memory: int | None, seed: int,
                 steps: int = 800, d: int = 8, seq_len: int = 64, batch: int = 16,
                 lr: float = 2e-3, held_out: int = 4096) -> WindowRun:
    """K4: one run of :func:`train_lag_members` (one seed) with its time."""
    start = time.perf_counter()
    final, _ = train_lag_members(p, q, lag, layers=layers, memory=memory, seeds=[seed],
                                 steps=steps, d=d, seq_len=seq_len, batch=batch, lr=lr,
                                 held_out=held_out)
    return WindowRun(layers, memory, seed, float(final[0]),
                     optimal_loss_finite_n(p, q, lag, seq_len), time.perf_counter() - start)

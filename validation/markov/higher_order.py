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

from numerics.markov.canonical import chain_summary, check_chain, global_curve_constant
from numerics.markov.higher_order import LAG, enumerate_lag_sequences, optimal_loss_finite_n
from theory.domains import integer, real
from theory.results import result
from validation.markov.models import DTYPE, MarkovTransformer, from_weights, logits, softplus

__all__ = ["AUTHORS_ADAMW", "WindowRun", "construction_weights", "lag_position_losses",
           "construction_excess", "train_window"]


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


#: The authors' optimiser for K4 and R4 (Part 2 Secs. 1-3: AdamW, betas (0.9, 0.95), weight
#: decay 1e-3, 2% linear warm-up then cosine decay), as :func:`train_ensemble` options.
AUTHORS_ADAMW = dict(optimizer="adamw", betas=(0.9, 0.95), weight_decay=1e-3,
                     schedule="warmup_cosine", warmup=0.02)


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
        per = softplus(lg) - x[:, 1:] * lg
    return (torch.as_tensor(probabilities, dtype=DTYPE) @ per).numpy()


def construction_excess(p: float, q: float, lag: int, seq_len: int, beta: float) -> float:
    """K2: mean over positions ``n >= k`` of the exact loss of the construction minus
    :math:`H(P)` (nats; tends to 0 as ``beta`` grows)."""
    model = from_weights(construction_weights(p, q, lag, seq_len, beta), tied=False)
    losses = lag_position_losses(model, p, q, lag)
    return float(np.mean(losses[lag - 1:]) - chain_summary(p, q).entropy_rate)


def train_window(p: float, q: float, lag: int, *, layers: int, memory: int | None, seed: int,
                 steps: int = 800, d: int = 8, seq_len: int = 64, batch: int = 16,
                 lr: float = 2e-3, held_out: int = 4096) -> WindowRun:
    """K4: one tied model (``standard`` initialisation) trained on the lag-k chain with
    attention window ``memory`` by :func:`validation.markov.training.train_ensemble` with the
    authors' settings: AdamW (betas 0.9, 0.95, weight decay 1e-3, peak rate ``lr``), linear
    warm-up over 2% of the steps then cosine decay to 0 (``schedule="warmup_cosine"``), one
    thread; the final loss is the held-out estimate on ``held_out`` fresh sequences (exact
    expectation over the next symbol), with the run's wall-clock time."""
    from validation.markov.training import train_ensemble

    start = time.perf_counter()
    run = train_ensemble(p, q, tying=True, seeds=[seed], steps=steps, d=d, seq_len=seq_len,
                         batch=batch, layers=layers, memory=memory, lag=lag, **AUTHORS_ADAMW,
                         lr=lr, held_out=held_out, scores=False)[0]
    return WindowRun(layers, memory, seed, run.run.final_loss,
                     optimal_loss_finite_n(p, q, lag, seq_len), time.perf_counter() - start)

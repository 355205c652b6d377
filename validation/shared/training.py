"""The shared training loop: seeded, float64, a progress bar on a terminal, divergence reported.

Every paper's torch experiments call :func:`train`; a model is any ``torch.nn.Module`` and the
objective a function ``step -> scalar loss tensor`` (it draws its own batch from a generator the
caller seeded, or evaluates an exact population loss).
"""

from __future__ import annotations

import math
import sys
from dataclasses import field
from typing import Callable

import numpy as np
import torch

from theory.domains import real
from theory.errors import InputError, NumericalFailure, check_choice, check_int
from theory.results import result

__all__ = ["TrainResult", "make_optimizer", "train", "MAX_STEPS"]

#: Most steps :func:`train` runs (a bound on the loop; the papers' commands declare smaller ones).
MAX_STEPS = 10_000_000
#: A learning rate: a finite real > 0.
LEARNING_RATE = real(0, None, low_open=True)

# every experiment of the project runs in float64 (the theory's closed forms are compared to
# trained values at 1e-6 and below)
torch.set_default_dtype(torch.float64)


@result
class TrainResult:
    """What :func:`train` recorded.

    Attributes
    ----------
    steps : numpy.ndarray of int, shape (k,)
        The recorded step numbers: every ``record_every``-th step and the last one.
    losses : numpy.ndarray, shape (k,)
        The loss at those steps (before that step's update).
    final_loss : float or None
        The loss at the last step (None when ``steps == 0``: no loss was computed).
    history : dict
        Extra records a caller attaches (e.g. a distance to a target at checkpoints).
    """

    steps: np.ndarray
    losses: np.ndarray
    final_loss: float | None
    history: dict = field(default_factory=dict)


def make_optimizer(params, name: str, lr: float, **kwargs) -> torch.optim.Optimizer:
    """``"adam"``, ``"adamw"`` or ``"sgd"`` over ``params`` with learning rate ``lr`` (a finite
    real > 0, else :class:`InputError` naming ``lr``)."""
    check_choice("optimizer", name, ("adam", "adamw", "sgd"))
    lr = LEARNING_RATE.check("lr", lr)
    cls = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD}[name]
    return cls(params, lr=lr, **kwargs)


def train(model: torch.nn.Module, objective: Callable[[int], torch.Tensor], steps: int, *,
          lr: float = 1e-3, optimizer: str = "adam", record_every: int = 1,
          progress: bool | None = None, description: str = "train",
          optimizer_options: dict | None = None) -> TrainResult:
    """Minimise ``objective(step)`` over ``model.parameters()`` for ``steps`` steps.

    Parameters
    ----------
    model : torch.nn.Module
        Its parameters are optimised.
    objective : callable
        ``objective(step) -> 0-dim tensor``, the loss at that step (a seeded mini-batch or an
        exact population loss).
    steps : int in [0, 10**7]
    lr : float > 0, finite
        Learning rate of ``optimizer`` (``"adam"``, ``"adamw"`` or ``"sgd"``, with
        ``optimizer_options`` passed on).
    record_every : int >= 1
        Record the loss every this many steps (and at the last step).
    progress : bool, optional
        A progress bar on standard error (default: when it is a terminal), labelled
        ``description``.

    Returns
    -------
    TrainResult

    Raises
    ------
    InputError
        ``steps``, ``record_every``, ``lr``, ``optimizer`` or ``progress`` outside its domain, an
        objective that does not return a scalar tensor.
    NumericalFailure
        As soon as the loss is NaN or infinite.
    """
    check_int("steps", steps, 0, MAX_STEPS)
    check_int("record_every", record_every, 1)
    if not callable(objective):
        raise InputError("objective", objective, "a callable objective(step) -> scalar tensor")
    if progress not in (None, True, False):
        raise InputError("progress", progress, "None, True or False")
    opt = make_optimizer(model.parameters(), optimizer, lr, **(optimizer_options or {}))
    show = sys.stderr.isatty() if progress is None else progress
    iterator = range(steps)
    if show:
        from tqdm import tqdm

        iterator = tqdm(iterator, desc=description, file=sys.stderr, leave=False)
    recorded_steps, losses = [], []
    loss_value = None
    for step in iterator:
        opt.zero_grad(set_to_none=True)
        loss = objective(step)
        if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
            raise InputError("objective", objective, f"a function returning a scalar tensor, got "
                                                     f"{type(loss).__name__} at step {step}")
        loss_value = loss.item()
        if not math.isfinite(loss_value):
            raise NumericalFailure(f"{description}: loss became {loss_value} at step {step}")
        loss.backward()
        opt.step()
        if step % record_every == 0 or step == steps - 1:
            recorded_steps.append(step)
            losses.append(loss_value)
    return TrainResult(np.asarray(recorded_steps), np.asarray(losses), loss_value)

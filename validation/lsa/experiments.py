"""The depth experiment (spec section 6): |S| = 3, 10 context chains of length 6, accuracy of an
L-layer LSA (prediction rounded to the nearest state) for L = 1, 2, 3.

Reconstruction (the spec does not fix the encoding): states are the scalars 0, 1, 2; each prompt
draws a random map f: S -> S (a Markovian dynamical function, ``dynamics="deterministic"``) and
``n + 1 = 11`` chains ``s_{t+1} = f(s_t)`` with uniform initial states; x = s_{1:5}, y = s_6.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from numerics.lsa.optimum import sample_dynamical_prompts
from theory.errors import check_int
from validation.lsa.models import LSA, _as_tensor
from validation.shared.training import train

__all__ = ["DepthResult", "depth_experiment"]


@dataclass
class DepthResult:
    """``accuracy[L-1]`` and its binomial standard error, the mean squared error per depth."""

    layers: list
    accuracy: list
    accuracy_se: list
    mse: list


def depth_experiment(max_layers: int = 3, steps: int = 1500, seed: int = 0, states: int = 3,
                     d: int = 5, n: int = 10, batch: int = 256, lr: float = 3e-3,
                     eval_size: int = 20000, dynamics: str = "deterministic") -> DepthResult:
    """Train one dense LSA per depth ``1..max_layers`` (Adam, small initialisation, fresh prompts
    each step; learning rate / 10 for the last quarter) and measure next-state accuracy on
    ``eval_size`` held-out prompts."""
    check_int("max_layers", max_layers, 1)
    Zt, yt = sample_dynamical_prompts(states, d, n, eval_size, seed + 1, dynamics)
    acc, se, mse = [], [], []
    for layers in range(1, max_layers + 1):
        model = LSA(d, layers, "dense", 1, init_scale=0.02, seed=seed + layers)
        rng = np.random.default_rng(seed + 100 * layers)

        def objective(step):
            Z, y = sample_dynamical_prompts(states, d, n, batch, rng, dynamics)
            return ((model(_as_tensor(Z)) - _as_tensor(y)) ** 2).mean()

        first = steps - steps // 4
        train(model, objective, first, lr=lr, description=f"depth {layers}")
        train(model, objective, steps - first, lr=lr / 10, description=f"depth {layers}")
        with torch.no_grad():
            pred = model(_as_tensor(Zt)).numpy()
        hit = np.clip(np.rint(pred), 0, states - 1) == yt
        acc.append(float(hit.mean()))
        se.append(float(np.sqrt(hit.mean() * (1 - hit.mean()) / hit.size)))
        mse.append(float(((pred - yt) ** 2).mean()))
    return DepthResult(list(range(1, max_layers + 1)), acc, se, mse)

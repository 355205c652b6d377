"""The depth experiment of Ding et al. 2025 (Sec. 4, Fig. 3): accuracy of an L-layer LSA against L.

``|S| = 3``, 10 context chains of length 6, prediction rounded to the nearest state, L = 1, 2, 3.
The library's reconstruction (the paper does not fix the encoding): states are the scalars 0, 1, 2; each prompt
draws a random map f: S -> S (a Markovian dynamical function, ``dynamics="deterministic"``) and
``n + 1 = 11`` chains ``s_{t+1} = f(s_t)`` with uniform initial states; x = s_{1:5}, y = s_6.
"""

from __future__ import annotations

import numpy as np
import torch

from numerics.lsa import optimum
from numerics.shared.seeding import as_generator
from numerics.shared.threads import limit_threads
from theory.results import result
from validation.lsa.models import LSA, as_tensor
from validation.shared.training import train

__all__ = ["DepthResult", "depth_experiment"]


@result
class DepthResult:
    """Next-state accuracy of trained LSA against depth (Ding et al. 2025, Sec. 4, Fig. 3).

    Attributes
    ----------
    layers : list of int
        Depths ``1..max_layers``.
    accuracy : list of float
        Share of held-out prompts whose rounded, clipped prediction is the next state, per depth.
    accuracy_se : list of float
        Binomial standard error of each accuracy.
    mse : list of float
        Mean squared error of the raw prediction (squared state units), per depth.
    """

    layers: list
    accuracy: list
    accuracy_se: list
    mse: list


def depth_experiment(max_layers: int = 3, steps: int = 1500, seed: int = 0, states: int = 3,
                     d: int = 5, n: int = 10, batch: int = 256, lr: float = 3e-3,
                     eval_size: int = 20000, dynamics: str = "deterministic") -> DepthResult:
    """Train one dense LSA per depth ``1..max_layers`` (Adam, small initialisation, fresh prompts
    each step; learning rate / 10 for the last quarter) and measure next-state accuracy on
    ``eval_size`` held-out prompts. ``seed`` (int >= 0) seeds the held-out prompts, each depth's
    initialisation and its training prompts."""
    from numerics.lsa import domains
    from theory.lsa import D_ORDERING
    from validation.lsa.training import training_bytes

    domains.LAYERS.check("max_layers", max_layers)
    domains.STEPS.check("steps", steps)
    domains.SEED.check("seed", seed)
    domains.STATES.check("states", states)
    D_ORDERING.check("d", d)
    domains.N_TRAIN.check("n", n)
    domains.BATCH.check("batch", batch)
    domains.LR.check("lr", lr)
    domains.SIZE.check("eval_size", eval_size)
    domains.DYNAMICS.check("dynamics", dynamics)
    domains.check_memory("eval_size", eval_size,
                         training_bytes(d + 1, n, batch, max_layers, eval_size)
                         + 16.0 * eval_size * states * (states + n + 1),
                         f"training and held-out prompts (d = {d}, n = {n}, states = {states})")
    test = optimum.sample_dynamical_prompts(states, d, n, eval_size, seed + 1, dynamics)
    acc, se, mse = [], [], []
    for layers in range(1, max_layers + 1):
        model = LSA(d, layers, "dense", 1, init_scale=0.02, seed=seed + layers)
        rng = as_generator(seed + 100 * layers)

        def objective(step):
            prompts = optimum.sample_dynamical_prompts(states, d, n, batch, rng, dynamics)
            return ((model(as_tensor(prompts.Z)) - as_tensor(prompts.y)) ** 2).mean()

        first = steps - steps // 4
        with limit_threads(1):
            train(model, objective, first, lr=lr, description=f"depth {layers}")
            train(model, objective, steps - first, lr=lr / 10, description=f"depth {layers}")
            with torch.no_grad():
                pred = model(as_tensor(test.Z)).numpy()
        yt = test.y
        hit = np.clip(np.rint(pred), 0, states - 1) == yt
        acc.append(float(hit.mean()))
        se.append(float(np.sqrt(hit.mean() * (1 - hit.mean()) / hit.size)))
        mse.append(float(((pred - yt) ** 2).mean()))
    return DepthResult(list(range(1, max_layers + 1)), acc, se, mse)

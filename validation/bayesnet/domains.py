"""Declared domains of the trained-transformer parameters of the Bayesian-network paper
(Cao et al. 2025, Sec. 5), torch-free so that ``ttc bayesnet`` declares its options without
importing torch. :mod:`validation.bayesnet.training` checks its arguments with the same objects.
"""

from __future__ import annotations

from theory.domains import integer

__all__ = ["LAYERS", "HEADS", "WIDTH", "STEPS", "EPISODES", "MAX_LENGTH"]

#: Attention layers of :class:`validation.bayesnet.training.SetTransformer`.
LAYERS = integer(1, 4)
#: Attention heads per layer (must divide the width).
HEADS = integer(1, 8)
#: Model width.
WIDTH = integer(4, 64)
#: Training steps: about 0.1-0.3 s each on one core (batch 32, N up to 200), so 20000 steps
#: take about an hour.
STEPS = integer(0, 20_000, note="0.1-0.3 s per step: 20000 steps take about an hour")
#: Held-out episodes per context length (the attention of every episode is held in memory;
#: the product with the heads is also checked against the 2 GiB budget).
EPISODES = integer(1, 100_000, note="with a model, episodes x heads x (N + M)^2 attention "
                                     "weights must also fit in 2 GiB")
#: Largest context length in training (``n_max``) and evaluation (``lengths``).
MAX_LENGTH = integer(1, 1000)

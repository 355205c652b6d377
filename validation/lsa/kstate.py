"""A one-layer LSA trained on k-state chains with Dirichlet kernels (Lemma C.8; Part 2 §E).

Prompts: raw states ``0..k-1``, kernel rows i.i.d. :math:`\\mathrm{Dir}(\\alpha 1)`, uniform initial
state (:func:`numerics.lsa.ceilings.sample_kernel_prompts`). The trained model's population loss
is exact: :math:`\\tilde f(\\phi(b, A))` with the exact moments of :mod:`numerics.lsa.kstate`.
"""

from __future__ import annotations

import numpy as np
import torch

from numerics.lsa import domains, kstate, optimum, realizability
from numerics.lsa.ceilings import sample_kernel_prompts
from numerics.shared.seeding import as_generator
from numerics.shared.threads import limit_threads
from theory.errors import NumericalFailure
from theory.results import result
from validation.lsa.models import LSA, as_tensor, enlarged_parameter
from validation.shared.training import train

torch.set_default_dtype(torch.float64)

__all__ = ["KStateTraining", "train_kstate"]


@result
class KStateTraining:
    """A one-layer LSA trained on the k-state task against the exact optimum (Part 2 §E).

    Attributes
    ----------
    final_loss : float
        Exact population loss :math:`\\tilde f(\\phi(b, A))` of the trained model.
    predicted_loss : float
        :math:`\\tilde f^*` (enlarged space, exact).
    best_lsa_loss : float
        The best one-layer LSA loss (:func:`numerics.lsa.realizability.best_lsa`; equal to
        :math:`\\tilde f^*` when X* is realisable).
    realizable : bool
        Whether X* is in the image of phi.
    losses : ndarray
        Training losses every 10 steps.
    """

    final_loss: float
    predicted_loss: float
    best_lsa_loss: float
    realizable: bool
    losses: np.ndarray


def train_kstate(states: int = 3, alpha=1, n: int = 10, d: int = 1, steps: int = 1500,
                 seed: int = 0, batch: int = 512, lr: float = 0.05,
                 init_scale: float = 0.1) -> KStateTraining:
    """Train a one-layer sparse LSA (read-out :math:`+[Z_1]`, Adam, learning rate divided by 10
    for the last quarter, fresh prompts every step) on the k-state task and compare its exact
    population loss with :math:`\\tilde f^*` and the best one-layer loss (Part 2 §E)."""
    domains.STEPS.check("steps", steps)
    domains.SEED.check("seed", seed)
    domains.BATCH.check("batch", batch)
    domains.LR.check("lr", lr)
    opt = kstate.kstate_optimum(states, alpha, d, n)
    realizable = realizability.recover(np.array([float(v) for v in opt.X]), d).realizable
    best = (float(opt.loss) if realizable
            else realizability.best_lsa(opt.moments, d, seed=seed).loss)
    model = LSA(d, 1, "sparse", 1, init_scale, seed)
    rng = as_generator(seed)

    def objective(step):
        prompts = sample_kernel_prompts(states, float(alpha), d, n, batch, rng)
        return ((model(as_tensor(prompts.Z)) - as_tensor(prompts.y)) ** 2).mean()

    first = steps - steps // 4
    with limit_threads(1):
        r1 = train(model, objective, first, lr=lr, record_every=10, description="lsa kstate")
        r2 = train(model, objective, steps - first, lr=lr / 10, record_every=10,
                   description="lsa kstate")
    final = optimum.loss_at(enlarged_parameter(model), opt.moments)
    losses = np.concatenate([r1.losses, r2.losses])
    if not (np.isfinite(final) and np.all(np.isfinite(losses))):
        raise NumericalFailure(f"train_kstate: training diverged (final loss {final}); lower lr")
    return KStateTraining(final, float(opt.loss), best, realizable, losses)

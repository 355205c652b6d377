"""Fig. 2 of Ding et al. 2025 with a trained model: a multilayer LSA in the Eq. 11 space (Part 2 §A, P3).

The model is the sparse LSA of :mod:`validation.lsa.models` (:math:`P_l = [0; b_l^\\top]`,
:math:`Q_l = [A_l, 0]`: Theorem 4.1's parametrisation), read with ``sign = -1`` so that the
prediction is :math:`\\langle w_L, x_{n+1}\\rangle` (the query entry is
:math:`-\\langle w_l, x_{n+1}\\rangle`). After training, :math:`w_l` of every layer is read off the
context entries of the bottom row (:math:`y_j - \\langle w_l, x_j\\rangle`, least squares over
j <= n: exact when M is invertible) and :mod:`numerics.lsa.pareto` gives R_1, R_2 and GD per layer.
"""

from __future__ import annotations

import numpy as np
import torch

from numerics.lsa import domains, pareto
from numerics.shared.seeding import as_generator
from numerics.shared.threads import limit_threads
from theory.errors import NumericalFailure
from theory.results import result
from validation.lsa.models import LSA, as_tensor
from validation.shared.training import train

torch.set_default_dtype(torch.float64)

__all__ = ["TrainedPareto", "layer_weights", "train_pareto"]


@result
class TrainedPareto:
    """A trained multilayer LSA seen through Fig. 2's Pareto view (Part 2 §A, P3).

    Attributes
    ----------
    view : numerics.lsa.pareto.ParetoView
        GD, mean R_1 and R_2 per layer on the test prompts.
    final_loss : float
        Mean squared error of the trained model on the test prompts.
    query_error : float
        Largest :math:`|[Z_l]_{d+1,n+1} + \\langle w_l, x_{n+1}\\rangle|` over test prompts and layers
        (the identity of Theorem 4.1 with the library's sign; ~1e-12).
    losses : ndarray
        Training losses, every 10 steps.
    view_negated : numerics.lsa.pareto.ParetoView or None
        With ``sign = +1``: the view at :math:`\\theta_l = -w_l` (the predictor's weights).
    """

    view: object
    final_loss: float
    query_error: float
    losses: np.ndarray
    view_negated: object = None


def layer_weights(model: LSA, Z: np.ndarray) -> tuple[np.ndarray, float]:
    """:math:`w_0..w_L` per prompt read off the bottom row of :math:`Z_l` (context entries
    :math:`y_j - \\langle w_l, x_j\\rangle`, least squares) and the largest deviation of the query
    entry from :math:`-\\langle w_l, x_{n+1}\\rangle`. ``Z`` (prompts, d+1, n+1) ->
    ``(weights (prompts, L+1, d), query_error)``."""
    d, n = Z.shape[1] - 1, Z.shape[2] - 1
    with torch.no_grad():
        traj = [z.numpy() for z in model.trajectory(as_tensor(Z))]
    weights, worst = np.zeros((Z.shape[0], len(traj), d)), 0.0
    for p in range(Z.shape[0]):
        xs, ys = Z[p, :d, :n].T, Z[p, d, :n]
        for l, Zl in enumerate(traj):
            w = np.linalg.lstsq(xs, ys - Zl[p, d, :n], rcond=None)[0]
            weights[p, l] = w
            worst = max(worst, abs(Zl[p, d, n] + Z[p, :d, n] @ w))
    return weights, float(worst)


def train_pareto(d: int = 5, n: int = 100, layers: int = 10, steps: int = 1000, seed: int = 0,
                 batch: int = 64, lr: float = 1e-3, init_scale: float = 0.01,
                 test_prompts: int = 64, sign: int = -1) -> TrainedPareto:
    """Train an L-layer sparse LSA (read-out :math:`-[Z_L]`, Adam, fresh binary prompts with
    p = 1/2 each step, parameters i.i.d. :math:`N(0, \\text{init\\_scale}^2)`) and return the Pareto
    view per layer on ``test_prompts`` held-out prompts (Part 2 §A, P3; quick sizes: 1000 steps,
    batch 64, lr 1e-3, 64 test prompts). ``sign = +1`` trains with the paper's read-out
    :math:`+[Z_L]` instead: a good model then has :math:`w_L \\approx -` predictor (the view is
    still of :math:`w_l`; see ``view_negated``)."""
    domains.PARETO_D.check("d", d)
    domains.PARETO_N.check("n", n)
    domains.LAYERS.check("layers", layers)
    domains.STEPS.check("steps", steps)
    domains.SEED.check("seed", seed)
    domains.BATCH.check("batch", batch)
    domains.LR.check("lr", lr)
    domains.INIT_SCALE.check("init_scale", init_scale)
    domains.SIZE.check("test_prompts", test_prompts)
    domains.SIGN.check("sign", sign)
    from validation.lsa.training import training_bytes

    domains.check_memory("batch", batch, training_bytes(d + 1, n, batch, layers, test_prompts),
                         f"training (d = {d}, n = {n}, layers = {layers})")
    model = LSA(d, layers, "sparse", sign=sign, init_scale=init_scale, seed=seed)
    rng = as_generator(seed)

    def objective(step):
        prompts = pareto.sample_pareto_prompts(d, n, batch, rng)
        return ((model(as_tensor(prompts.Z)) - as_tensor(prompts.y)) ** 2).mean()

    with limit_threads(1):
        run = train(model, objective, steps, lr=lr, record_every=10, description="lsa pareto")
        test = pareto.sample_pareto_prompts(d, n, test_prompts, (seed + 10_007) % (2**63 - 1))
        with torch.no_grad():
            final = float(((model(as_tensor(test.Z)) - as_tensor(test.y)) ** 2).mean())
        weights, query_error = layer_weights(model, test.Z)
        view = pareto.pareto_view(test.Z, weights)
        negated = pareto.pareto_view(test.Z, -weights) if sign == 1 else None
    if not (np.isfinite(final) and np.all(np.isfinite(run.losses))):
        raise NumericalFailure(f"train_pareto: training diverged (final loss {final})")
    return TrainedPareto(view, final, query_error, np.asarray(run.losses), negated)

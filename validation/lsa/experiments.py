"""Experiments of Ding et al. 2025 with trained LSA: accuracy against depth (Sec. 4, Fig. 3) and
against dimension (B.1, Fig. 5).

- :func:`depth_experiment`: ``|S|`` states, 10 context chains of length 6, prediction rounded to the
  nearest state, L = 1, 2, 3. Two encodings of the law of a prompt: the library's first
  reconstruction (``dynamics="deterministic"``: a random map f: S -> S, the same law as
  ``alpha = 0``) and the paper's encoding of specification Part 2 §B (``alpha`` given: raw states,
  kernel rows i.i.d. Dir(alpha 1), one kernel per prompt, uniform initial state;
  :func:`numerics.lsa.ceilings.sample_kernel_prompts`).
- :func:`dimension_experiment`: binary chains (p = 1/2, n = 100), per d one batch of 1000 prompts,
  a one-layer sparse LSA (Adam, 1000 iterations, lr 0.01) against least squares on
  :math:`x\\otimes\\mathrm{vech}(G)` over the same prompts; accuracy in-sample, on held-out prompts
  and of :math:`X^*` (quadrature) (specification Part 2 §C).
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

__all__ = ["DepthResult", "depth_experiment", "DimensionResult", "dimension_experiment",
           "one_layer_output", "DIMENSION_KEYS"]


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
                     eval_size: int = 20000, dynamics: str = "deterministic",
                     alpha: float | None = None, depths=None) -> DepthResult:
    """Train one dense LSA per depth ``1..max_layers`` (Adam, small initialisation, fresh prompts
    each step; learning rate / 10 for the last quarter) and measure next-state accuracy
    :math:`\\mathrm{clip}(\\mathrm{round}(\\hat y), 0, |S|-1) = y` on ``eval_size`` held-out prompts.
    ``seed`` (int >= 0) seeds the held-out prompts, each depth's initialisation and its training
    prompts.

    ``alpha`` (float >= 0, optional): the paper's encoding with kernel rows Dir(alpha 1)
    (:func:`numerics.lsa.ceilings.sample_kernel_prompts`; ``alpha = 0`` is the random map);
    ``dynamics`` is then ignored. ``depths`` (optional, a list of distinct ints in
    ``1..max_layers``): train only these depths (e.g. ``[1, 3]``)."""
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
    if alpha is not None:
        domains.ALPHA.check("alpha", alpha)
    depths = _depth_list(depths, max_layers)
    domains.check_memory("eval_size", eval_size,
                         training_bytes(d + 1, n, batch, max_layers, eval_size)
                         + 16.0 * eval_size * states * (states + n + 1),
                         f"training and held-out prompts (d = {d}, n = {n}, states = {states})")
    if alpha is None:
        sample = lambda size, rng: optimum.sample_dynamical_prompts(states, d, n, size, rng,
                                                                     dynamics)
    else:
        from numerics.lsa.ceilings import sample_kernel_prompts

        sample = lambda size, rng: sample_kernel_prompts(states, alpha, d, n, size, rng)
    test = sample(eval_size, seed + 1)
    acc, se, mse = [], [], []
    for layers in depths:
        model = LSA(d, layers, "dense", 1, init_scale=0.02, seed=seed + layers)
        rng = as_generator(seed + 100 * layers)

        def objective(step):
            prompts = sample(batch, rng)
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
    return DepthResult(list(depths), acc, se, mse)


def _depth_list(depths, max_layers):
    if depths is None:
        return list(range(1, max_layers + 1))
    from theory.domains import integer

    return integer(1, max_layers, "max_layers").check_distinct("depths", depths)


# ---------------------------------------------------------------------------------------------
# Fig. 5: accuracy against d (specification Part 2 §C)

#: The per-d quantities of :class:`DimensionResult` (each also with ``_sd``).
DIMENSION_KEYS = ("acc_ls_in", "acc_ls_out", "acc_lsa_in", "acc_lsa_out", "acc_pop")


@result
class DimensionResult:
    """Accuracy against d of least squares and a trained one-layer LSA (Ding et al. 2025, B.1,
    Fig. 5; specification Part 2 §C). Lists are per d, averaged over seeds.

    Attributes
    ----------
    d : list of int
        Chain prefix lengths.
    acc_ls_in, acc_lsa_in : list of float
        In-sample accuracy (on the B training prompts) of least squares on
        :math:`x\\otimes\\mathrm{vech}(G)` and of the trained LSA.
    acc_ls_out, acc_lsa_out : list of float
        The same on ``eval_size`` held-out prompts.
    acc_pop : list of float
        Held-out accuracy of the population optimum :math:`X^* = H^{-1}h` (quadrature).
    acc_ls_in_sd, acc_ls_out_sd, acc_lsa_in_sd, acc_lsa_out_sd, acc_pop_sd : list of float or None
        Standard deviation over seeds (ddof 1); None with one seed.
    per_seed : dict
        Each key above -> array of shape (seeds, len(d)).
    seeds : int
        Number of seeds.
    """

    d: list
    acc_ls_in: list
    acc_ls_out: list
    acc_lsa_in: list
    acc_lsa_out: list
    acc_pop: list
    acc_ls_in_sd: list | None
    acc_ls_out_sd: list | None
    acc_lsa_in_sd: list | None
    acc_lsa_out_sd: list | None
    acc_pop_sd: list | None
    per_seed: dict
    seeds: int


def _binary_hits(pred, y):
    return (np.clip(np.rint(pred), 0, 1) == y).astype(float)


def _gram_query(Z) -> torch.Tensor:
    n = Z.shape[2] - 1
    ctx = Z[:, :, :n]
    return as_tensor(np.einsum("bin,bkn->bik", ctx, ctx) / n)


def one_layer_output(model: LSA, G: torch.Tensor, xq: torch.Tensor) -> torch.Tensor:
    """The output of a one-layer sparse ``model`` from precomputed
    :math:`G = \\frac1n\\sum_{i\\le n} z_iz_i^\\top` (``(B, d+1, d+1)``) and queries ``xq``
    (``(B, d)``): :math:`\\pm b^\\top G A x_{n+1}` (Ding et al. 2025, Sec. 2; equal to ``model(Z)``)."""
    return model.sign * ((G @ model.b[0]) * (xq @ model.A[0].T)).sum(-1)     # G symmetric


def _dimension_point(d, seed, n, batch, steps, lr, init_scale, eval_size, held_out, population):
    from numerics.shared.seeding import derive_seed
    from validation.lsa.models import enlarged_parameter

    rng = as_generator(derive_seed(seed, f"lsa.dimension.d{d}"))
    train_set = optimum.sample_markov_prompts(d, 0.5, n, batch, rng)
    F = optimum.features(train_set.Z)
    w = np.linalg.lstsq(F, train_set.y, rcond=None)[0]
    model = LSA(d, 1, "sparse", 1, init_scale=init_scale,
                seed=derive_seed(seed, f"lsa.dimension.init{d}"))
    # the one-layer sparse LSA's output is exactly b^T G A x_{n+1} (lsa.md §2): G is computed once
    # for the fixed batch instead of in every forward pass (tests compare with model(Z))
    G, xq, yt = _gram_query(train_set.Z), as_tensor(train_set.Z[:, :d, n]), as_tensor(train_set.y)
    objective = lambda step: ((one_layer_output(model, G, xq) - yt) ** 2).mean()
    train(model, objective, steps, lr=lr, description=f"dimension d={d}")
    X = enlarged_parameter(model)
    out = {"acc_ls_in": _binary_hits(F @ w, train_set.y).mean(),
           "acc_lsa_in": _binary_hits(F @ X, train_set.y).mean()}
    if held_out:
        held = optimum.sample_markov_prompts(d, 0.5, n, eval_size, rng)
        Fh = optimum.features(held.Z)
        out["acc_ls_out"] = _binary_hits(Fh @ w, held.y).mean()
        out["acc_lsa_out"] = _binary_hits(Fh @ X, held.y).mean()
        if population:
            Xs = optimum.optimum(optimum.markov_moments_numeric(d, 0.5, n)).X
            out["acc_pop"] = _binary_hits(Fh @ Xs, held.y).mean()
    return out


def dimension_experiment(ds=(1, 4, 8), seed: int = 0, seeds: int = 1, n: int = 100,
                         batch: int = 1000, steps: int = 1000, lr: float = 0.01,
                         init_scale: float = 0.1, eval_size: int = 20000,
                         held_out: bool = True, population: bool = True) -> DimensionResult:
    """Fig. 5 of Ding et al. 2025 (B.1; specification Part 2 §C): for each d, ``batch`` prompts of
    the binary random-kernel task (p = 1/2, ``n`` context chains); least squares (minimum norm) on
    the ``d m`` features :math:`x_{n+1}\\otimes\\mathrm{vech}(G)` and a one-layer sparse LSA (the
    paper's sign, init :math:`N(0, \\text{init\\_scale}^2)`, full-batch Adam for ``steps``
    iterations at ``lr``, MSE) fitted on the same prompts; binary accuracy
    :math:`\\mathrm{clip}(\\mathrm{round}(\\hat y), 0, 1) = y` in-sample, on ``eval_size`` held-out
    prompts (``held_out``) and (``held_out`` and ``population``) of :math:`X^* = H^{-1}h`
    (quadrature, exact up to rounding) on the held-out prompts; what is not computed is None.
    Repeated for ``seeds`` seeds derived from ``seed``.

    Spec values (3 seeds) at d = 1/3/5/8/10: LS in-sample .625/.732/.772/.877/.968, LSA in-sample
    .625/.721/.728/.756/.764, LS held-out .622/.710/.715/.679/.632, LSA held-out
    .622/.703/.722/.726/.728, X* .621/.716/.733/.743.

    ``ds``: distinct d in 1..10 (:data:`numerics.lsa.domains.D_DIMENSION`); memory of the held-out
    features checked against the 2 GiB budget before anything is sampled.
    """
    from numerics.lsa import domains
    from numerics.shared.seeding import derive_seed
    from theory.errors import InputError, NumericalFailure

    ds = domains.D_DIMENSION.check_distinct("ds", ds)
    domains.SEED.check("seed", seed)
    if isinstance(seeds, bool) or not isinstance(seeds, (int, np.integer)) or not 1 <= seeds <= 100:
        raise InputError("seeds", seeds, "an integer in [1, 100]")
    domains.N_TRAIN.check("n", n)
    domains.BATCH.check("batch", batch)
    domains.STEPS.check("steps", steps)
    domains.LR.check("lr", lr)
    domains.INIT_SCALE.check("init_scale", init_scale)
    domains.SIZE.check("eval_size", eval_size)
    dmax = max(ds)
    population = population and held_out
    domains.check_memory("eval_size", eval_size,
                         (domains.features_bytes(dmax, n, eval_size) if held_out else 0)
                         + domains.prompts_bytes(dmax + 1, n, eval_size * held_out + batch)
                         + (domains.moments_bytes(dmax, (3 * dmax + 2) // 2 + 1) if population else 0),
                         f"prompts and features (d = {dmax}, n = {n})")
    keys = [k for k in DIMENSION_KEYS if held_out or k.endswith("_in")]
    keys = [k for k in keys if population or k != "acc_pop"]
    per_seed = {k: np.zeros((seeds, len(ds))) for k in keys}
    with limit_threads(1):
        for s in range(seeds):
            base = derive_seed(seed, f"seed{s}")
            for j, d in enumerate(ds):
                point = _dimension_point(d, base, n, batch, steps, lr, init_scale, eval_size,
                                         held_out, population)
                for k in keys:
                    per_seed[k][s, j] = point[k]
    for k, values in per_seed.items():
        if not np.all(np.isfinite(values)):
            raise NumericalFailure(f"dimension_experiment: {k} is not finite")
    mean = {k: (per_seed[k].mean(0).tolist() if k in per_seed else None) for k in DIMENSION_KEYS}
    sd = {f"{k}_sd": (per_seed[k].std(0, ddof=1).tolist() if k in per_seed and seeds > 1 else None)
          for k in DIMENSION_KEYS}
    return DimensionResult(list(ds), **mean, **sd, per_seed=per_seed, seeds=seeds)

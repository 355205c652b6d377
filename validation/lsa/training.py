"""Training torch LSA on the random-kernel Markov task (Ding et al. 2025, Sec. 3) and on Gaussian
linear regression (Ahn et al. 2023, Thm 1), compared with the closed forms.

- :func:`train_markov`: training on sampled prompts of the random-kernel task; the one-layer model's
  population loss is evaluated exactly through :math:`\\tilde f(\\phi(b, A))`.
- :func:`train_gaussian`: the Gaussian linear-regression anchor (Ahn's sign).
"""

from __future__ import annotations

import numpy as np
import torch

from numerics.lsa import domains
from numerics.lsa import optimum
from numerics.lsa import realizability
from numerics.shared.seeding import as_generator
from numerics.shared.threads import limit_threads
from theory.errors import InputError
from theory.lsa import feature_ordering
from theory.results import result
from validation.lsa.models import LSA, as_tensor, enlarged_parameter
from validation.shared.training import train

torch.set_default_dtype(torch.float64)

__all__ = ["train_markov", "MarkovTraining", "train_gaussian", "GaussianTraining",
           "training_bytes"]


def training_bytes(rows: int, n: int, batch: int, layers: int, eval_size: int = 0) -> float:
    """Estimated peak bytes of training an L-layer LSA on ``batch`` prompts of
    ``rows x (n+1)`` per step (the prompts, the forward pass kept for backpropagation: about
    ``4 L + 6`` copies) and of evaluating ``eval_size`` held-out prompts (about 6 copies)."""
    per_prompt = 8.0 * rows * (n + 1)
    return per_prompt * (batch * (4 * layers + 6) + 6 * eval_size)


def _check_training(d, n, layers, steps, seed, batch, lr, form, sign, init_scale, eval_size=0,
                    d_domain=domains.D_TRAIN):
    d_domain.check("d", d)
    domains.N_CONTEXT.check("n", n)
    domains.LAYERS.check("layers", layers)
    domains.STEPS.check("steps", steps)
    domains.SEED.check("seed", seed)
    domains.BATCH.check("batch", batch)
    domains.LR.check("lr", lr)
    domains.FORM.check("form", form)
    domains.SIGN.check("sign", sign)
    domains.INIT_SCALE.check("init_scale", init_scale)
    domains.check_memory("batch", batch, training_bytes(d + 1, n, batch, layers, eval_size),
                         f"training (d = {d}, n = {n}, layers = {layers}, held-out prompts = "
                         f"{eval_size})")


@result
class MarkovTraining:
    """An LSA trained on the random-kernel Markov task against the theory (Ding et al. 2025,
    Sec. 3 and Thm 3.3).

    Attributes
    ----------
    final_loss : float
        Population loss after training: exact :math:`\\tilde f(\\phi(b, A))` for one layer, else
        a held-out Monte Carlo estimate.
    final_loss_se : float
        Standard error of ``final_loss`` (0 for one layer).
    predicted_loss : float
        :math:`\\tilde f^*` (enlarged-space optimum).
    best_lsa_loss : float
        The best one-layer LSA loss (:func:`numerics.lsa.realizability.best_lsa`).
    realizable : bool
        Whether X* is in the image of :math:`\\phi`.
    losses : ndarray, 1-D
        Training losses recorded every 10 steps, both learning-rate phases concatenated.
    b : ndarray of shape (d+1,), or None
        The trained last row of P times the read-out sign (one layer only).
    """

    final_loss: float
    final_loss_se: float
    predicted_loss: float
    best_lsa_loss: float
    realizable: bool
    losses: np.ndarray
    b: np.ndarray | None = None


def train_markov(d: int, p, n: int, layers: int = 1, steps: int = 2000, seed: int = 0,
                 batch: int = 512, lr: float = 0.05, form: str = "sparse", sign: int = 1,
                 init_scale: float = 0.1, eval_size: int = 20000) -> MarkovTraining:
    """Train an LSA on freshly sampled prompts of the random-kernel task (Adam, the learning rate
    divided by 10 for the last quarter of the steps) and compare with f~* and the best one-layer
    loss (Ding et al. 2025, Sec. 3). ``seed`` (int >= 0) seeds the initialisation, the prompts and
    the search.

    Domains: :mod:`numerics.lsa.domains` (``d`` at most 8: the best-loss search runs first;
    ``steps`` at most 100000; ``layers`` at most 16); the memory of a step and of the held-out
    evaluation (``layers > 1``) is estimated by :func:`training_bytes` and refused above 2 GiB
    before anything is allocated."""
    domains.SIZE.check("eval_size", eval_size)
    _check_training(d, n, layers, steps, seed, batch, lr, form, sign, init_scale,
                    eval_size if layers > 1 else 0)
    optimum.check_p(p)
    mom = optimum.markov_moments_numeric(d, p, n)
    opt = optimum.optimum(mom)
    best = realizability.best_lsa(mom, d, seed=seed)
    realizable = realizability.recover(opt.X, d).realizable
    model = LSA(d, layers, form, sign, init_scale, seed)
    rng = as_generator(seed)

    def objective(step):
        prompts = optimum.sample_markov_prompts(d, p, n, batch, rng)
        return ((model(as_tensor(prompts.Z)) - as_tensor(prompts.y)) ** 2).mean()

    first = steps - steps // 4
    with limit_threads(1):
        r1 = train(model, objective, first, lr=lr, record_every=10, description="lsa train")
        r2 = train(model, objective, steps - first, lr=lr / 10, record_every=10,
                   description="lsa train")
        losses = np.concatenate([r1.losses, r2.losses])
        b_trained = None
        if layers == 1:
            final, se = optimum.loss_at(enlarged_parameter(model), mom), 0.0
            b_trained = sign * model.matrices(0).P[d].detach().numpy()
        else:
            held_out = optimum.sample_markov_prompts(d, p, n, eval_size,
                                                     (seed + 10_007) % (domains.SEED.high + 1))
            with torch.no_grad():
                err = ((model(as_tensor(held_out.Z)) - as_tensor(held_out.y)) ** 2).numpy()
            final, se = float(err.mean()), float(err.std(ddof=1) / np.sqrt(err.size))
    if not (np.isfinite(final) and np.isfinite(se) and np.all(np.isfinite(losses))):
        from theory.errors import NumericalFailure

        raise NumericalFailure(f"train_markov: training diverged (final loss {final}); lower lr")
    return MarkovTraining(final, se, opt.loss, best.loss, realizable, losses, b_trained)


@result
class GaussianTraining:
    """A one-layer LSA trained on Gaussian linear regression against Ahn et al. 2023, Thm 1.

    Attributes
    ----------
    Gamma : ndarray, shape (d, d)
        Trained effective preconditioner :math:`\\Gamma_{jk} = X^{(j)}_{(k,d+1)}` (read through phi,
        so free of the :math:`(\\gamma P, Q/\\gamma)` symmetry).
    Gamma_star : ndarray, shape (d, d)
        :math:`\\Gamma^*` (closed form).
    relative_error : float
        :math:`\\|\\Gamma - \\Gamma^*\\|_F / \\|\\Gamma^*\\|_F`.
    loss : float
        Population loss :math:`L(\\Gamma)` of the trained model.
    optimal_loss : float
        :math:`L^* = L(\\Gamma^*)`.
    even_feature_norm : float
        Euclidean norm of the features of X that should be 0 (all but :math:`X^{(j)}_{(k,d+1)}`).
    gamma_scale : float
        The free scale :math:`\\gamma = -P_{d+1,d+1}`.
    """

    Gamma: np.ndarray
    Gamma_star: np.ndarray
    relative_error: float
    loss: float
    optimal_loss: float
    even_feature_norm: float
    gamma_scale: float


def train_gaussian(Sigma, n: int, steps: int = 600, seed: int = 0, batch: int = 1024,
                   lr: float = 0.005, form: str = "sparse", init: str = "zfb",
                   init_scale: float = 0.1) -> GaussianTraining:
    """One-layer LSA (Ahn's sign) trained on Gaussian linear-regression prompts; the trained
    :math:`\\Gamma_{jk} = X^{(j)}_{(k,d+1)}` is compared with :math:`\\Gamma^*`.

    ``init="zfb"``: Zhang-Frei-Bartlett's initialisation (every entry 0 except
    :math:`b_{d+1} = -s` and :math:`A_{1:d,1:d} = s\\,\\Theta\\Theta^\\top/\\|\\Theta\\Theta^\\top\\|_F`,
    :math:`\\Theta` Gaussian from ``seed``, ``s = init_scale``); ``"random"``: all entries
    i.i.d. :math:`N(0, s^2)` (from a random start the (b, A) landscape can trap training at a
    spurious stationary point with large x-components of b)."""
    domains.INIT.check("init", init)
    Sigma = np.atleast_2d(optimum.float_array("Sigma", Sigma))
    d = Sigma.shape[0]
    if Sigma.ndim != 2 or Sigma.shape != (d, d):
        raise InputError("Sigma", f"shape {Sigma.shape}", "a square covariance matrix")
    _check_training(d, n, 1, steps, seed, batch, lr, form, -1, init_scale, d_domain=domains.DIM)
    Gs = optimum.gaussian_gamma_star(Sigma, n)
    model = LSA(d, 1, form, sign=-1, init_scale=init_scale, seed=seed)
    if init == "zfb":
        theta = as_generator(seed).standard_normal((d, d))
        block = theta @ theta.T
        with torch.no_grad():
            for p in model.parameters():
                p.zero_()
            b_last = -init_scale
            A = np.zeros((d + 1, d))
            A[:d] = init_scale * block / np.linalg.norm(block)
            if form == "dense":
                model.P[0][d, d] = b_last
                model.Q[0][:, :d] = as_tensor(A)
            else:
                model.b[0][d] = b_last
                model.A[0].copy_(as_tensor(A))
    rng = as_generator(seed)

    def objective(step):
        prompts = optimum.sample_gaussian_prompts(Sigma, n, batch, rng)
        return ((model(as_tensor(prompts.Z)) - as_tensor(prompts.y)) ** 2).mean()

    first = steps - steps // 4
    with limit_threads(1):
        train(model, objective, first, lr=lr, description="gaussian train")
        train(model, objective, steps - first, lr=lr / 10, description="gaussian train")
    X = enlarged_parameter(model)
    G = np.zeros((d, d))
    even = []
    for value, (j, i, k) in zip(X, feature_ordering(d)):
        if k == d + 1 and i <= d:
            G[j - 1, i - 1] = value
        else:
            even.append(value)
    gamma = float(-model.matrices(0).P[d, d].detach())
    return GaussianTraining(G, Gs, float(np.linalg.norm(G - Gs) / np.linalg.norm(Gs)),
                            optimum.gaussian_loss(G, Sigma, n), optimum.gaussian_loss(Gs, Sigma, n),
                            float(np.linalg.norm(even)), gamma)

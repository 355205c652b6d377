"""Experiments of the Potts paper: factored against standard attention (Rende et al. 2024, Fig. 2)
and the simulations of the library's replica scenarios R1 and R2.

All functions are seeded and float64; the torch optimisers run with the ``threads`` of
:func:`validation.potts.training.train_mlm` and :func:`fit_attention_row` (1 by default).
"""

from __future__ import annotations

import math
import time

import numpy as np
import torch

from numerics.potts import inverse
from numerics.potts import population
from numerics.potts import replica
from numerics.potts import sampling
from numerics.shared.seeding import as_generator
from numerics.shared.threads import limit_threads
from theory.errors import InputError, NumericalFailure, check_int
from theory.results import result
from validation.potts import models
from validation.potts import training

# ----------------------------------------------------------------------------------------------
# Factored against standard attention (Rende et al. 2024, Fig. 2)


@result
class Section4Data:
    """Training and test sequences of the factored-against-standard experiment; see
    :func:`section4_data`.

    Attributes
    ----------
    train : numpy.ndarray, (n_train, L) int64
        Training sequences (Gibbs samples).
    test : numpy.ndarray, (n_test, L) int64
        Test sequences from independent chains.
    """

    train: np.ndarray
    test: np.ndarray


def section4_data(model, n_train: int, n_test: int, seed: int = 0, burn_in: int = 300,
                  thin: int = 10) -> Section4Data:
    """Training and test sequences from ``model`` by Gibbs sampling (independent chains per set,
    seeds ``seed`` and ``seed + 1``)."""
    check_int("n_train", n_train, 1)
    check_int("n_test", n_test, 1)
    train = sampling.sample(model, n_train, chains=min(n_train, 5000), burn_in=burn_in, thin=thin, seed=seed)
    test = sampling.sample(model, n_test, chains=min(n_test, 5000), burn_in=burn_in, thin=thin, seed=seed + 1)
    return Section4Data(train.samples, test.samples)


@result
class Section4Curves:
    """Test single-mask MLM loss against the number of training sequences for one factored layer
    and standard encoders (Rende et al. 2024, Fig. 2); see :func:`section4`.

    Attributes
    ----------
    M : list of int
        Training-set sizes, increasing.
    floor : float
        The true model's :math:`-\\log P(s_i\\mid s_{-i})` on the test (sequence, masked site)
        pairs (nats).
    floor_all_sites : float
        The same averaged over all sites of the test sequences (nats).
    factored : list of float
        Test loss of the factored layer at each M (nats).
    standard : dict of int to list of float
        Test loss of the standard encoder with k layers, keyed by k; encoders trained only at the
        largest M have one entry (the last M).
    seconds : float
        Wall time of the training and evaluation.
    """

    M: list
    floor: float
    floor_all_sites: float
    factored: list
    standard: dict
    seconds: float


def section4(model, sizes, n_test: int = 10_000, *, layers=(1,), deep_layers=(3,), steps: int = 1200,
             batch: int = 128, seed: int = 0, d_model: int = 32) -> Section4Curves:
    """Test single-mask MLM loss against the number of training sequences M for one factored layer
    and standard encoders with ``layers`` layers (Rende et al. 2024, Fig. 2).

    Each test sequence gets one uniformly drawn masked site (the same for every model); the factored
    layer is scored on those sites too, and the floor is the true model's conditional entropy
    estimate :math:`-\\log P(s_i\\mid s_{-i})` on the same (sequence, site) pairs, so all curves share
    the test noise. Encoders with ``layers`` are trained at every M, those with ``deep_layers``
    only at the largest M (budget)."""
    sizes = sorted(int(m) for m in sizes)
    data = section4_data(model, sizes[-1], n_test, seed)
    train_all, test = data.train, data.test
    rng = as_generator(seed + 2)
    sites = rng.integers(0, model.L, len(test))
    rows = np.arange(len(test))
    logp_true = population.log_softmax(population.potts_logits(model, test))
    floor = float(-logp_true[rows, sites, test[rows, sites]].mean())
    S_test, sites_t = torch.as_tensor(test, dtype=torch.long), torch.as_tensor(sites)
    floor_all_sites = population.conditional_entropy_estimate(model, test)
    factored, standard = [], {k: [] for k in (*layers, *deep_layers)}
    start = time.perf_counter()
    for M in sizes:
        S_train = train_all[:M]
        fa = models.FactoredAttention(model.L, model.C, "free", seed=seed)
        training.train_mlm(fa, S_train, steps=2 * steps, batch=batch, lr=1e-2, weight_decay=1e-4, seed=seed)
        with torch.no_grad():
            logp = torch.log_softmax(fa(S_test), dim=-1).numpy()
        factored.append(float(-logp[rows, sites, test[rows, sites]].mean()))
        for k in (*layers, *(deep_layers if M == sizes[-1] else ())):
            enc = models.StandardEncoder(model.L, model.C, layers=k, d_model=d_model, seed=seed)
            training.train_mlm(enc, S_train, steps=steps, batch=batch, lr=3e-3, weight_decay=1e-4, seed=seed)
            standard[k].append(models.encoder_test_loss(enc, S_test, sites_t))
    return Section4Curves(sizes, floor, floor_all_sites, factored, standard, time.perf_counter() - start)


# ----------------------------------------------------------------------------------------------
# Simulations of the library's replica scenarios R1 and R2


def _teacher(N: int, rho: float, rng) -> np.ndarray:
    w = rng.standard_normal(N)
    return w * math.sqrt(rho * N) / np.linalg.norm(w)


def fit_attention_row(X: np.ndarray, y: np.ndarray, lam: float, loss: str = "logistic",
                      threads: int | None = 1) -> np.ndarray:
    """Train one factored attention row in torch: :math:`z = w\\cdot x/\\sqrt N`,
    minimise :math:`\\sum_\\mu \\ell(y_\\mu, z_\\mu) + \\frac\\lambda2\\|w\\|^2` (logistic or square
    loss) with L-BFGS (square loss: the normal equations, its exact minimiser), with ``threads``
    torch threads. ``X`` (M, N), ``y`` (M,) in {-1, +1} (logistic) or real; returns ``w`` (N,).
    For Ising colours the row is :math:`A_{i\\cdot} = w/(2\\sqrt N)` (the logit difference of the
    two colours is :math:`2\\sum_j A_{ij}\\sigma_j`)."""
    with limit_threads(threads):
        return _fit_attention_row(X, y, lam, loss)


def _fit_attention_row(X, y, lam, loss) -> np.ndarray:
    Xt, yt = torch.as_tensor(X, dtype=torch.float64), torch.as_tensor(y, dtype=torch.float64)
    N = X.shape[1]
    if loss == "square":  # the minimiser in closed form: (X^T X/N + lam I) w = X^T y/sqrt(N)
        w = torch.linalg.solve(Xt.T @ Xt / N + lam * torch.eye(N), Xt.T @ yt / math.sqrt(N))
        return w.numpy().copy()
    w = torch.zeros(N, requires_grad=True)
    opt = torch.optim.LBFGS([w], lr=1.0, max_iter=500, tolerance_grad=1e-10, tolerance_change=1e-14,
                            history_size=30, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        z = Xt @ w / math.sqrt(N)
        data = (torch.nn.functional.softplus(-yt * z).sum() if loss == "logistic"
                else 0.5 * ((yt - z) ** 2).sum())
        value = data + 0.5 * lam * (w @ w)
        value.backward()
        return value

    for _ in range(4):
        opt.step(closure)
    out = w.detach().numpy().copy()
    if not np.all(np.isfinite(out)):
        raise NumericalFailure("attention-row fit diverged")
    return out


def _logistic_test_ce(w, w_star, X_test) -> float:
    N = len(w)
    z, zs = X_test @ w / math.sqrt(N), X_test @ w_star / math.sqrt(N)
    s = 1 / (1 + np.exp(-zs))
    return float(np.mean(s * np.logaddexp(0, -z) + (1 - s) * np.logaddexp(0, z)))


@result
class R1Simulation:
    """Trained attention rows in the R1 scenario, one entry per seed; see :func:`simulate_r1`.

    Attributes
    ----------
    eps_J : numpy.ndarray, (seeds,)
        Coupling error :math:`|w - w^*|^2/|w^*|^2`.
    test_ce : numpy.ndarray, (seeds,)
        Test cross-entropy on fresh inputs, label averaged (nats).
    """

    eps_J: np.ndarray
    test_ce: np.ndarray


def simulate_r1(N: int, alpha: float, lam: float, seeds, rho: float = 1.0,
                n_test: int = 10_000) -> R1Simulation:
    """R1 simulation: Gaussian inputs, logistic teacher with :math:`|w^*|^2 = \\rho N`, logistic
    attention row with ridge ``lam`` on M = alpha N samples, one run per seed in ``seeds``."""
    M = int(round(alpha * N))
    eps, ce = [], []
    for seed in seeds:
        rng = as_generator(seed)
        ws = _teacher(N, rho, rng)
        X = rng.standard_normal((M, N))
        p = 1 / (1 + np.exp(-X @ ws / math.sqrt(N)))
        y = np.where(rng.random(M) < p, 1.0, -1.0)
        w = fit_attention_row(X, y, lam)
        eps.append(float(np.sum((w - ws) ** 2) / np.sum(ws**2)))
        ce.append(_logistic_test_ce(w, ws, rng.standard_normal((n_test, N))))
    return R1Simulation(np.array(eps), np.array(ce))


@result
class IsingSiteModel:
    """An Ising model and the teacher row of its site 0 in R1 units; see :func:`ising_site_model`.

    Attributes
    ----------
    model : numerics.potts.population.PottsModel
        L = N + 1 sites, C = 2, :math:`U = \\sigma\\sigma^T`, SK couplings.
    w_star : numpy.ndarray, (N,)
        :math:`2\\beta\\sqrt N J_{0,1:}`.
    """

    model: population.PottsModel
    w_star: np.ndarray


def ising_site_model(N: int, beta: float, seed: int = 0) -> IsingSiteModel:
    """Ising Potts model with L = N + 1 sites and SK couplings :math:`J = (G+G^T)/\\sqrt{2L}`, and
    the teacher row of site 0 in R1 units: :math:`w^* = 2\\beta\\sqrt N J_{0,\\cdot}`."""
    m = population.default_model(N + 1, 2, beta=beta, seed=seed)
    model = population.make_model(m.J, [[1.0, -1.0], [-1.0, 1.0]], None, beta)
    w_star = 2 * beta * math.sqrt(N) * model.J[0, 1:]
    return IsingSiteModel(model, w_star)


@result
class R1IsingSimulation:
    """Attention rows fitted on samples of correlated Ising models, one entry per seed; see
    :func:`simulate_r1_ising`.

    Attributes
    ----------
    eps_J : numpy.ndarray, (seeds,)
        Coupling error :math:`|w - w^*|^2/|w^*|^2`.
    rho : numpy.ndarray, (seeds,)
        The teacher's :math:`|w^*|^2/N`.
    """

    eps_J: np.ndarray
    rho: np.ndarray


def simulate_r1_ising(N: int, alpha: float, lam: float, seeds, beta: float = 0.5,
                      burn_in: int = 300) -> R1IsingSimulation:
    """R1 on correlated data: samples of an Ising model (L = N + 1, SK couplings, ``beta``, a new
    model per seed), the attention row of site 0 fitted by logistic pseudo-likelihood."""
    M = int(round(alpha * N))
    eps, rhos = [], []
    for seed in seeds:
        site = ising_site_model(N, beta, seed=seed)
        model, ws = site.model, site.w_star
        S = sampling.sample(model, M, chains=M, burn_in=burn_in, thin=1, seed=seed + 7).samples
        sig = 1.0 - 2.0 * S  # colour 0 -> +1, colour 1 -> -1 (U = sigma sigma^T)
        w = fit_attention_row(sig[:, 1:], sig[:, 0], lam)
        eps.append(float(np.sum((w - ws) ** 2) / np.sum(ws**2)))
        rhos.append(float(np.sum(ws**2) / N))
    return R1IsingSimulation(np.array(eps), np.array(rhos))


@result
class R2CorrelatedSimulation:
    """Ridge regression of one site of a correlated Gaussian Potts model, one entry per seed; see
    :func:`simulate_r2_correlated`.

    Attributes
    ----------
    measured : numpy.ndarray, (seeds,)
        Exact test MSE of the fitted coefficients, :math:`\\Delta + d^T\\tilde\\Sigma d`.
    predicted : numpy.ndarray, (seeds,)
        The deterministic equivalent's test MSE for the same draw.
    """

    measured: np.ndarray
    predicted: np.ndarray


def simulate_r2_correlated(L: int, alpha: float, lam_r: float, seeds, nu: float = 3.0,
                           site: int = 0) -> R2CorrelatedSimulation:
    """R2 correlated version: x ~ N(0, Sigma) with precision nu I - J (GOE), ridge regression of
    site ``site`` on the others with n = alpha L samples; measured test MSE (exact, from the
    covariance) against the deterministic equivalent of the same draw."""
    n = int(round(alpha * L))
    measured, predicted = [], []
    for seed in seeds:
        model = replica.goe_precision_model(L, nu, seed=seed)
        target = replica.site_regression_target(model, site, nu)
        Sig_t, a_star, delta = target.Sigma, target.a_star, target.Delta
        rng = as_generator(seed + 100)
        x = rng.multivariate_normal(np.zeros(L), model.Sigma, size=n, method="cholesky")
        keep = np.arange(L) != site
        X, y = x[:, keep], x[:, site]
        a = np.linalg.solve(X.T @ X / n + lam_r * np.eye(L - 1), X.T @ y / n)
        d = a - a_star
        measured.append(float(delta + d @ Sig_t @ d))
        predicted.append(replica.ridge_deterministic_equivalent(Sig_t, a_star, n, lam_r, delta).test_mse)
    return R2CorrelatedSimulation(np.array(measured), np.array(predicted))


@result
class CouplingDecay:
    """Coupling error of the factored fit against the number of samples; see
    :func:`coupling_decay`.

    Attributes
    ----------
    M : list of int
        Sample sizes, increasing (nested subsets of one sample set).
    error : list of float
        :math:`\\|zs(A\\otimes V) - zs(\\beta J\\otimes U)\\|_F / \\|zs(\\beta J\\otimes U)\\|_F` at each M.
    slope : float
        Least-squares slope of log error against log M (about -1/2).
    fits : list of numerics.potts.inverse.FactoredFit
        The fit at each M.
    """

    M: list
    error: list
    slope: float
    fits: list


def coupling_decay(model, sizes, seed: int = 0, lam: float = 1e-6) -> CouplingDecay:
    """Coupling error of the factored fit against M (MLM = pseudo-likelihood over the factored
    family, Rende et al. 2024, Sec. II): one Gibbs sample set of the largest size, nested subsets,
    :func:`numerics.potts.inverse.fit_factored` with penalty ``lam`` at each size."""
    sizes = sorted(int(m) for m in sizes)
    if len(sizes) < 2:
        raise InputError("sizes", sizes, "at least two sample sizes")
    S = sampling.sample(model, sizes[-1], chains=min(sizes[-1], 5000), burn_in=300, thin=10, seed=seed).samples
    errors, fits = [], []
    A_true, U = model.beta * model.J, model.U
    for M in sizes:
        fit = inverse.fit_factored(S[:M], model.C, lam=lam, seed=seed)
        errors.append(population.factored_coupling_error(fit.A, fit.V, A_true, U))
        fits.append(fit)
    return CouplingDecay(sizes, errors, inverse.log_log_slope(sizes, errors), fits)

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


# ----------------------------------------------------------------------------------------------
# Factored against standard attention, decided (spec Sec. 9)

#: Largest estimated floating-point work of the encoder training of one comparison: 10^14 (torch's
#: dense kernels run at tens of Gflop/s on one core, so about an hour; the full profile needs 2e13).
ENCODER_WORK_BUDGET = 10**14
#: Test rows scored per forward pass of an encoder.
_EVAL_BATCH = 2048


def marginal_entropy(S: np.ndarray, C: int) -> float:
    """Mean site-marginal entropy :math:`H_{marg} = \\frac1L\\sum_i -\\sum_a \\hat p_i(a)\\log
    \\hat p_i(a)` of the empirical colour frequencies of ``S`` (n, L) (plug-in estimate, nats)."""
    freq = sampling.empirical_marginals(S, C)
    logs = np.log(np.where(freq > 0, freq, 1.0))
    return float(-np.mean(np.sum(freq * logs, axis=1)))


def true_pair_losses(model, S: np.ndarray, sites: np.ndarray) -> np.ndarray:
    """The true model's :math:`-\\log P(s_i\\mid s_{-i})` at site ``sites[n]`` of row n of ``S``
    (exact conditionals, :func:`numerics.potts.population.potts_logits`); shape (n,)."""
    rows = np.arange(len(S))
    logp = population.log_softmax(population.potts_logits(model, S))
    return -logp[rows, sites, S[rows, sites]]


def factored_pair_losses(fit, S: np.ndarray, sites: np.ndarray) -> np.ndarray:
    """A factored fit's (``A``, ``V``, ``b``) :math:`-\\log p_\\theta(s_i\\mid s_{-i})` at site
    ``sites[n]`` of row n of ``S``; shape (n,)."""
    rows = np.arange(len(S))
    logp = population.log_softmax(population.factored_logits(S, fit.A, fit.V, fit.b))
    return -logp[rows, sites, S[rows, sites]]


def encoder_pair_losses(encoder, S: np.ndarray, sites: np.ndarray) -> np.ndarray:
    """A standard encoder's single-mask :math:`-\\log p(s_i\\mid s_{-i})` at site ``sites[n]``
    of row n of ``S`` (site masked); shape (n,), float64."""
    out = []
    with torch.no_grad():
        for start in range(0, len(S), _EVAL_BATCH):
            Sb = torch.as_tensor(S[start:start + _EVAL_BATCH], dtype=torch.long)
            sb = torch.as_tensor(sites[start:start + _EVAL_BATCH], dtype=torch.long)
            out.append(models.masked_pair_losses(encoder, Sb, sb).numpy())
    return np.concatenate(out)


def _paired_se(diff: np.ndarray) -> float:
    return float(np.std(diff, ddof=1) / math.sqrt(len(diff)))


@result
class Comparison:
    """Factored against standard attention, decided by the rule of spec Sec. 9; see
    :func:`compare_factored_standard`. Lists run over ``M``; an entry is None where that model
    was not trained at that M.

    Attributes
    ----------
    M : list of int
        Training-set sizes, increasing (nested subsets of one Gibbs sample).
    floor : float
        S: the true model's :math:`-\\log P(s_i\\mid s_{-i})` averaged over the test (sequence,
        masked site) pairs (nats).
    marginal_entropy : float
        :math:`H_{marg}`, the mean site-marginal entropy of the test sequences (nats).
    info_gain : float
        :math:`G = H_{marg} - S`.
    excess : dict of str to list
        :math:`D(M) = CE(M) - S` per model: ``"factored"`` and ``"standard_k"`` (nats).
    excess_se : dict of str to list
        Standard errors of the excesses, from the per-pair differences :math:`CE - S`.
    train_loss : dict of str to list
        Each standard encoder's lowest training loss over its evaluations (nats; a fixed set of
        training pairs, :attr:`validation.potts.training.EncoderTraining.lowest_train_loss`).
    steps_used : dict of str to list
        Optimiser steps each standard encoder ran (early stopping) and the factored fit's L-BFGS
        iterations (``"factored"``).
    checks : dict of str to bool or None
        ``factored_best`` (a), ``efficiency_10x`` (b), ``depth`` (c); None when not applicable.
    details : dict
        The numbers behind each check: paired z-scores (a, c), the compared excesses (b), the
        guard's threshold and the ``undertrained`` models.
    undertrained : list of str
        Standard models whose training loss stayed above :math:`H_{marg} - 0.1\\,G` (empty: none).
    seconds : dict of str to float
        Wall time of sampling, factored fits and encoder training.
    """

    M: list
    floor: float
    marginal_entropy: float
    info_gain: float
    excess: dict
    excess_se: dict
    train_loss: dict
    steps_used: dict
    checks: dict
    details: dict
    undertrained: list
    seconds: dict


def factored_iterations(M: int, L: int, C: int) -> int:
    """L-BFGS iteration limit of the comparison's factored fit at M sequences: 1000, or fewer so
    that the fit stays within :data:`numerics.potts.domains.WORK_BUDGET` (estimate of
    :func:`numerics.potts.inverse.factored_cost`; the fits are warm-started from the previous M, so
    the largest M needs few iterations)."""
    from numerics.potts.domains import WORK_BUDGET

    K = L * C
    per_iteration = (6.0 * L * K + 2.0 * K * C) * M
    return max(1, min(1000, int(0.9 * WORK_BUDGET / per_iteration)))


def comparison_cost(L: int, C: int, sizes, n_test: int, layers, steps: int, d_model: int) -> None:
    """Refuse (:class:`~theory.errors.TooLargeError`) a comparison whose sampling, factored fits or
    encoder training would exceed the Potts budgets (:mod:`numerics.potts.domains`), before
    anything is allocated. Encoder work: ``steps`` x batch 128 x L tokens x ~30 d_model^2
    operations per layer (forward and backward), for each trained (k, M)."""
    from numerics.potts.domains import check_memory
    from theory.budgets import check_work

    sizes = sorted(int(m) for m in sizes)
    sampling.sampling_cost(L, C, sizes[-1], min(sizes[-1], 5000), 300, 10)
    sampling.sampling_cost(L, C, n_test, min(n_test, 5000), 300, 10)
    for M in sizes:
        inverse.factored_cost(M, L, C, factored_iterations(M, L, C), 1)
    trained = len(sizes) * min(layers) + sum(k for k in layers if k != min(layers))
    check_work("steps", steps, 30.0 * steps * 128 * L * d_model**2 * trained, "encoder training",
               budget=ENCODER_WORK_BUDGET)
    check_memory("n_test", n_test, 8.0 * n_test * L * (C + 4 * d_model), "test evaluation")


def compare_factored_standard(L: int = 10, C: int = 5, beta: float = 3.0, sizes=(300, 3000), *,
                              layers=(1, 2, 3), n_test: int = 3000, steps: int = 1000,
                              d_model: int = 32, heads: int = 2, seed: int = 0,
                              full_rule: bool = False, lam: float = 1e-4,
                              threads: int | None = 1) -> Comparison:
    """Factored against standard attention, decided (spec Sec. 9; Rende et al. 2024, Fig. 2).

    Data: ``default_model(L, C, beta, seed 0)``, Gibbs (burn-in 300, thin 10): ``max(sizes)``
    training sequences (seed ``seed``; each M uses the first M) and ``n_test`` test sequences
    (independent chains, seed ``seed + 1``), one uniformly drawn masked site per test sequence
    shared by every model. Metric: excess :math:`D(M) = CE(M) - S`, S the true model's
    :math:`-\\log P(s_i\\mid s_{-i})` on the same pairs; info gain :math:`G = H_{marg} - S`.

    Models: one factored layer (free A, V, b) fitted by L-BFGS on the all-sites loss with penalty
    ``lam`` (:func:`numerics.potts.inverse.fit_factored`); standard encoders
    (:class:`~validation.potts.models.StandardEncoder`, float32, pre-norm, ``d_model``, ``heads``,
    MLP width 2 ``d_model``; post-norm 3-layer encoders stayed on the marginal plateau at
    L = 20, C = 10, M = 10^4 and stopped early there, pre-norm ones leave it within 3000 steps) trained by :func:`~validation.potts.training.train_encoder` (AdamW 3e-3, batch
    128, 10% validation split, evaluation every 50 steps, patience 6, at most ``steps``). The
    smallest k of ``layers`` is trained at every M, the others at the largest M.

    Rule: (a) ``factored_best``: :math:`D_{fact}(M) < D_k(M) - 3\\,SE` for every trained (k, M),
    SE of the paired per-pair difference of the two losses; (b) ``efficiency_10x``:
    :math:`D_{fact}(M) \\le D_1(10M)` whenever 10M is on the grid; (c) ``depth``:
    :math:`D_3(M_{max}) < D_1(M_{max}) - 3\\,SE` (decided only with ``full_rule``; reported
    otherwise). Guard: a standard model whose training loss stays above :math:`H_{marg} - 0.1\\,G`
    (its lowest value over the evaluations) is listed in ``undertrained`` (the comparison then
    fails as "undertrained").
    """
    check_int("L", L, 2)
    check_int("C", C, 2)
    check_int("n_test", n_test, 2)
    sizes = sorted({int(m) for m in sizes})
    for M in sizes:
        check_int("M", M, 10)
    layers = sorted({int(k) for k in layers})
    for k in layers:
        check_int("layers", k, 1, 3)
    if not layers:
        raise InputError("layers", layers, "at least one depth in 1..3")
    check_int("steps", steps, 1, 10**5)
    check_int("d_model", d_model, 2)
    check_int("heads", heads, 1)
    if d_model % heads:
        raise InputError("heads", heads, f"a divisor of d_model = {d_model}")
    comparison_cost(L, C, sizes, n_test, layers, steps, d_model)
    with limit_threads(threads):
        return _compare(L, C, beta, sizes, layers, n_test, steps, d_model, heads, seed, full_rule, lam)


def _compare(L, C, beta, sizes, layers, n_test, steps, d_model, heads, seed, full_rule, lam):
    t0 = time.perf_counter()
    model = population.default_model(L, C, beta, seed=0)
    data = section4_data(model, sizes[-1], n_test, seed)
    sites = as_generator(seed + 2).integers(0, L, n_test)
    test = data.test
    true = true_pair_losses(model, test, sites)
    S, H_marg = float(true.mean()), marginal_entropy(test, C)
    G = H_marg - S
    seconds = {"sampling": time.perf_counter() - t0, "factored": 0.0, "standard": 0.0}
    keys = ["factored"] + [f"standard_{k}" for k in layers]
    excess = {key: [None] * len(sizes) for key in keys}
    excess_se, train_loss, steps_used = (
        {key: [None] * len(sizes) for key in keys} for _ in range(3))
    del train_loss["factored"]
    pair_losses = {}
    fit = None
    for j, M in enumerate(sizes):
        t = time.perf_counter()
        init = None if fit is None else (fit.A, fit.V, fit.b)
        fit = inverse.fit_factored(data.train[:M], C, lam=lam, seed=seed, init=init,
                                   max_iter=factored_iterations(M, L, C))
        pair_losses["factored", M] = factored_pair_losses(fit, test, sites)
        steps_used["factored"][j] = fit.iterations
        seconds["factored"] += time.perf_counter() - t
        t = time.perf_counter()
        for k in layers:
            if k != layers[0] and M != sizes[-1]:
                continue
            enc = models.StandardEncoder(L, C, layers=k, d_model=d_model, nhead=heads, d_ff=2 * d_model,
                                         seed=seed + 10 * k, dtype=torch.float32, norm_first=True)
            run = training.train_encoder(enc, data.train[:M], steps=steps, seed=seed + 10 * k + 1)
            pair_losses[f"standard_{k}", M] = encoder_pair_losses(enc, test, sites)
            train_loss[f"standard_{k}"][j] = run.lowest_train_loss
            steps_used[f"standard_{k}"][j] = run.steps_used
        seconds["standard"] += time.perf_counter() - t
    for (key, M), losses in pair_losses.items():
        j = sizes.index(M)
        excess[key][j] = float(losses.mean() - S)
        excess_se[key][j] = _paired_se(losses - true)
        if not np.isfinite(excess[key][j]):
            raise NumericalFailure(f"{key} at M = {M}: test loss not finite")
    checks, details = _decide(sizes, layers, pair_losses, excess, full_rule)
    threshold = H_marg - 0.1 * G
    under = [f"{key} at M = {M}" for key, values in train_loss.items()
             for M, value in zip(sizes, values) if value is not None and value > threshold]
    details["undertrained_threshold"] = threshold
    return Comparison(sizes, S, H_marg, G, excess, excess_se, train_loss, steps_used, checks, details,
                      under, seconds)


def _decide(sizes, layers, pair_losses, excess, full_rule):
    """Checks (a), (b), (c) of spec Sec. 9 and the numbers behind them."""
    z_a = {}
    for (key, M), losses in pair_losses.items():
        if key == "factored":
            continue
        diff = losses - pair_losses["factored", M]
        z_a[f"{key} at M = {M}"] = float(diff.mean() / _paired_se(diff))
    details = {"factored_best_z": z_a}
    checks = {"factored_best": bool(z_a) and min(z_a.values()) > 3}
    k1 = f"standard_{layers[0]}"
    pairs = [(M, 10 * M) for M in sizes if 10 * M in sizes and excess[k1][sizes.index(10 * M)] is not None]
    details["efficiency_10x"] = {f"factored at M = {M} vs {k1} at M = {M10}":
                                 [excess["factored"][sizes.index(M)], excess[k1][sizes.index(M10)]]
                                 for M, M10 in pairs}
    checks["efficiency_10x"] = (all(excess["factored"][sizes.index(M)] <= excess[k1][sizes.index(M10)]
                                    for M, M10 in pairs) if pairs else None)
    top = sizes[-1]
    if 1 in layers and 3 in layers:
        diff = pair_losses["standard_1", top] - pair_losses["standard_3", top]
        z = float(diff.mean() / _paired_se(diff))
        details["depth_z"] = z
        details["depth_decided"] = bool(full_rule)
        checks["depth"] = z > 3
    else:
        checks["depth"] = None
    return checks, details

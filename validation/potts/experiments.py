"""Experiments of the Potts paper: factored against standard attention (spec Sec. 4) and the
simulations of the replica scenarios (spec Sec. 5).

All functions are seeded and float64; torch threads are the caller's choice (the claims use 1).
"""

from __future__ import annotations

import math
import time

import numpy as np
import torch

from numerics.potts import population
from numerics.potts import replica
from numerics.potts import sampling
from theory.errors import InputError, NumericalFailure, check_int
from validation.potts import models

# ----------------------------------------------------------------------------------------------
# Section 4


def section4_data(model, n_train: int, n_test: int, seed: int = 0, burn_in: int = 300, thin: int = 10):
    """Training and test sequences from ``model`` by Gibbs sampling (independent chains per set)."""
    check_int("n_train", n_train, 1)
    check_int("n_test", n_test, 1)
    train = sampling.sample(model, n_train, chains=min(n_train, 5000), burn_in=burn_in, thin=thin, seed=seed)
    test = sampling.sample(model, n_test, chains=min(n_test, 5000), burn_in=burn_in, thin=thin, seed=seed + 1)
    return train.samples, test.samples


def section4(model, sizes, n_test: int = 10_000, *, layers=(1,), deep_layers=(3,), steps: int = 1200,
             batch: int = 128, seed: int = 0, d_model: int = 32) -> dict:
    """Test single-mask MLM loss against the number of training sequences M for one factored layer
    and standard encoders with ``layers`` layers (spec Sec. 4).

    Each test sequence gets one uniformly drawn masked site (the same for every model); the factored
    layer is scored on those sites too, and the floor is the true model's conditional entropy
    estimate :math:`-\\log P(s_i\\mid s_{-i})` on the same (sequence, site) pairs, so all curves share
    the test noise. Encoders with ``layers`` are trained at every M, those with ``deep_layers``
    only at the largest M (budget). Returns a dict of lists keyed by model name (``factored``,
    ``standard_k``), plus ``"M"``, ``"floor"``, ``"floor_all_sites"`` and ``"seconds"``."""
    sizes = sorted(int(m) for m in sizes)
    train_all, test = section4_data(model, sizes[-1], n_test, seed)
    rng = np.random.default_rng(seed + 2)
    sites = rng.integers(0, model.L, len(test))
    rows = np.arange(len(test))
    logp_true = population.log_softmax(population.potts_logits(model, test))
    floor = float(-logp_true[rows, sites, test[rows, sites]].mean())
    S_test, sites_t = torch.as_tensor(test, dtype=torch.long), torch.as_tensor(sites)
    out = {"M": sizes, "floor": floor, "floor_all_sites": population.conditional_entropy_estimate(model, test),
           "factored": []}
    out.update({f"standard_{k}": [] for k in (*layers, *deep_layers)})
    start = time.perf_counter()
    for M in sizes:
        S_train = train_all[:M]
        fa = models.FactoredAttention(model.L, model.C, "free", seed=seed)
        models.train_mlm(fa, S_train, steps=2 * steps, batch=batch, lr=1e-2, weight_decay=1e-4, seed=seed)
        with torch.no_grad():
            logp = torch.log_softmax(fa(S_test), dim=-1).numpy()
        out["factored"].append(float(-logp[rows, sites, test[rows, sites]].mean()))
        for k in (*layers, *(deep_layers if M == sizes[-1] else ())):
            enc = models.StandardEncoder(model.L, model.C, layers=k, d_model=d_model, seed=seed)
            models.train_mlm(enc, S_train, steps=steps, batch=batch, lr=3e-3, weight_decay=1e-4, seed=seed)
            out[f"standard_{k}"].append(models.encoder_test_loss(enc, S_test, sites_t))
    out["seconds"] = time.perf_counter() - start
    return out


# ----------------------------------------------------------------------------------------------
# Section 5: replica simulations


def _teacher(N: int, rho: float, rng) -> np.ndarray:
    w = rng.standard_normal(N)
    return w * math.sqrt(rho * N) / np.linalg.norm(w)


def fit_attention_row(X: np.ndarray, y: np.ndarray, lam: float, loss: str = "logistic") -> np.ndarray:
    """Train one factored attention row in torch: :math:`z = w\\cdot x/\\sqrt N`,
    minimise :math:`\\sum_\\mu \\ell(y_\\mu, z_\\mu) + \\frac\\lambda2\\|w\\|^2` (logistic or square
    loss) with L-BFGS (square loss: the normal equations, its exact minimiser). For Ising colours the row is :math:`A_{i\\cdot} = w/(2\\sqrt N)` (the logit
    difference of the two colours is :math:`2\\sum_j A_{ij}\\sigma_j`)."""
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


def simulate_r1(N: int, alpha: float, lam: float, seeds, rho: float = 1.0, n_test: int = 10_000) -> dict:
    """R1 simulation: Gaussian inputs, logistic teacher, logistic attention row with ridge ``lam``.
    Returns per-seed ``eps_J`` and ``test_ce`` arrays."""
    M = int(round(alpha * N))
    eps, ce = [], []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        ws = _teacher(N, rho, rng)
        X = rng.standard_normal((M, N))
        p = 1 / (1 + np.exp(-X @ ws / math.sqrt(N)))
        y = np.where(rng.random(M) < p, 1.0, -1.0)
        w = fit_attention_row(X, y, lam)
        eps.append(float(np.sum((w - ws) ** 2) / np.sum(ws**2)))
        ce.append(_logistic_test_ce(w, ws, rng.standard_normal((n_test, N))))
    return {"eps_J": np.array(eps), "test_ce": np.array(ce)}


def ising_site_model(N: int, beta: float, seed: int = 0):
    """Ising Potts model with L = N + 1 sites and SK couplings :math:`J = (G+G^T)/\\sqrt{2L}`, and
    the teacher row of site 0 in R1 units: :math:`w^* = 2\\beta\\sqrt N J_{0,\\cdot}`."""
    m = population.default_model(N + 1, 2, beta=beta, seed=seed)
    model = population.make_model(m.J, [[1.0, -1.0], [-1.0, 1.0]], None, beta)
    w_star = 2 * beta * math.sqrt(N) * model.J[0, 1:]
    return model, w_star


def simulate_r1_ising(N: int, alpha: float, lam: float, seeds, beta: float = 0.5,
                      burn_in: int = 300) -> dict:
    """R1 on correlated data: samples of an Ising model (L = N + 1, SK couplings, ``beta``), the
    attention row of site 0 fitted by logistic pseudo-likelihood. Returns per-seed ``eps_J`` and
    the teacher's ``rho``."""
    M = int(round(alpha * N))
    eps, rhos = [], []
    for seed in seeds:
        model, ws = ising_site_model(N, beta, seed=seed)
        S = sampling.sample(model, M, chains=M, burn_in=burn_in, thin=1, seed=seed + 7).samples
        sig = 1.0 - 2.0 * S  # colour 0 -> +1, colour 1 -> -1 (U = sigma sigma^T)
        w = fit_attention_row(sig[:, 1:], sig[:, 0], lam)
        eps.append(float(np.sum((w - ws) ** 2) / np.sum(ws**2)))
        rhos.append(float(np.sum(ws**2) / N))
    return {"eps_J": np.array(eps), "rho": np.array(rhos)}


def simulate_r2_correlated(L: int, alpha: float, lam_r: float, seeds, nu: float = 3.0, site: int = 0) -> dict:
    """R2 correlated version: x ~ N(0, Sigma) with precision nu I - J (GOE), ridge regression of
    site ``site`` on the others with n = alpha L samples; measured test MSE (exact, from the
    covariance) against the deterministic equivalent of the same draw."""
    n = int(round(alpha * L))
    measured, predicted = [], []
    for seed in seeds:
        model = replica.goe_precision_model(L, nu, seed=seed)
        Sig_t, a_star, delta = replica.site_regression_target(model, site, nu)
        rng = np.random.default_rng(seed + 100)
        x = rng.multivariate_normal(np.zeros(L), model["Sigma"], size=n, method="cholesky")
        keep = np.arange(L) != site
        X, y = x[:, keep], x[:, site]
        a = np.linalg.solve(X.T @ X / n + lam_r * np.eye(L - 1), X.T @ y / n)
        d = a - a_star
        measured.append(float(delta + d @ Sig_t @ d))
        predicted.append(replica.ridge_deterministic_equivalent(Sig_t, a_star, n, lam_r, delta)["test_mse"])
    return {"measured": np.array(measured), "predicted": np.array(predicted)}


def coupling_decay(model, sizes, seed: int = 0, lam: float = 1e-6) -> dict:
    """Coupling error of the factored fit against M (spec Sec. 3): one Gibbs sample set of the
    largest size, nested subsets; returns ``M``, ``error``, the log-log ``slope`` and the ``fits``."""
    from numerics.potts.inverse import fit_factored, log_log_slope

    sizes = sorted(int(m) for m in sizes)
    if len(sizes) < 2:
        raise InputError("sizes", sizes, "at least two sample sizes")
    S = sampling.sample(model, sizes[-1], chains=min(sizes[-1], 5000), burn_in=300, thin=10, seed=seed).samples
    errors, fits = [], []
    A_true, U = model.beta * model.J, model.U
    for M in sizes:
        fit = fit_factored(S[:M], model.C, lam=lam, seed=seed)
        errors.append(population.factored_coupling_error(fit.A, fit.V, A_true, U))
        fits.append(fit)
    return {"M": sizes, "error": errors, "slope": log_log_slope(sizes, errors), "fits": fits}

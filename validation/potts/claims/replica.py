"""Claims of the Potts paper about the replica generalisation curves: the R1 and R2 scenarios are
the library's reconstruction of the replica computation of Rende et al. 2024; simulations against
the curves, on i.i.d. and on correlated Potts data."""

from __future__ import annotations

import math
import time

import numpy as np

from numerics.potts import replica
from theory import potts
from validation.potts import experiments
from validation.potts import plots
from validation.ledger.claims import CheckContext, claim, decide
from validation.shared.plots import save
from validation.potts.claims.mapping import PAPER, RECON

# ----------------------------------------------------------------------------------------------
# Replica curves of the library's reference scenarios


@claim("potts.r1_solver", paper=PAPER, reference=f"spec Sec. 5, R1 ({RECON})",
       statement=r"R1 saddle-point equations solved over 20 \(\alpha\) values (\(61 \times 61\) "
                 r"quadrature) with residual \(< 10^{-8}\) in under 3 s; Bayes floor 0.59944 at "
                 r"\(\rho = 1\).")
def _r1_solver(ctx: CheckContext):
    t0 = time.process_time()
    curve = replica.r1_curve(np.linspace(0.25, 10, 20), lam=0.1, rho=1.0, quadrature=61)
    seconds = time.process_time() - t0
    resid = float(curve.residual.max())
    floor = replica.bayes_floor(1.0)
    ok = resid < 1e-8 and abs(floor - 0.59944) < 5e-6
    return decide(ok, {"residual": "< 1e-8", "bayes_floor": 0.59944},
                  {"residual": resid, "bayes_floor": floor,
                   "iterations": curve.iterations.tolist()}, None,
                  "Damped fixed point with continuation in alpha, polished by scipy.optimize.root; "
                  "residual = max |T(m,q,V) - (m,q,V)| / max(1, |(m,q,V)|). The time (CPU seconds "
                  "of this process, target < 3 s) is reported in timings and does not decide the "
                  "verdict; benchmarks/potts/bench_sampling_fit.py checks it (wall time). The floor "
                  "is the spec's published 0.59944.",
                  timings={"cpu_seconds": seconds, "target_seconds": 3})


@claim("potts.r2_closed_form", paper=PAPER, reference=f"spec Sec. 5, R2 ({RECON})",
       statement=r"The R2 closed form solves the ridge replica equations, tends to "
                 r"\(\Delta/(\alpha-1)\) as \(\lambda \to 0\), and equals the deterministic "
                 r"equivalent for isotropic inputs.")
def _r2_closed_form(ctx: CheckContext):
    res = potts.r2_fixed_point_residuals()
    ols = potts.sp.simplify(potts.r2_ols_limit() - potts.Delta / (potts.alpha - 1))
    N = 200
    rng = np.random.default_rng(ctx.seed)
    w = rng.standard_normal(N)
    w *= math.sqrt(N) / np.linalg.norm(w)
    diffs = []
    for a in (0.5, 1.0, 2.0, 5.0):
        de = replica.ridge_deterministic_equivalent(np.eye(N), w / math.sqrt(N), int(a * N), 0.3 / a, 0.5)
        diffs.append(abs(replica.r2_curve([a], 0.3, 1.0, 0.5).test_mse[0] - de.test_mse))
    residuals = res.to_dict()
    ok = all(v == 0 for v in residuals.values()) and ols == 0 and max(diffs) < 1e-10
    return decide(ok, 0.0, {"replica_residuals": {k: str(v) for k, v in residuals.items()},
                            "ols_limit_residual": str(ols), "max_DE_difference": max(diffs)}, 1e-10,
                  "sympy: the closed form substituted into the prior and square-loss channel "
                  "equations; the lambda -> 0 limit; numeric: the deterministic equivalent with "
                  "Sigma = I and lambda_r = lambda/alpha (an independent formula).")


def _r1_sim_points(N, alphas, lam, seeds):
    pts = {}
    for a in alphas:
        r = experiments.simulate_r1(N, a, lam, seeds)
        pts[a] = {k: (float(v.mean()), float(v.std(ddof=1) / math.sqrt(len(v))))
                  for k, v in (("eps_J", r.eps_J), ("test_ce", r.test_ce))}
    return pts


@claim("potts.r1_simulation", paper=PAPER, reference=f"spec Sec. 5, R1 ({RECON})",
       statement=r"Trained attention rows (Gaussian inputs, logistic teacher) match the R1 replica "
                 r"\(\varepsilon_J\) and test cross-entropy within 3 standard errors plus a "
                 r"finite-size allowance.")
def _r1_simulation(ctx: CheckContext):
    lam = 0.1
    Ns = (200, 500) if ctx.full else (200,)
    alphas = (0.5, 1.0, 2.0, 4.0, 8.0) if ctx.full else (1.0, 4.0)
    seeds = range(ctx.seed, ctx.seed + (4 if ctx.full else 3))
    grid = np.linspace(0.3, 9, 30 if ctx.full else 15)
    theory = replica.r1_curve(grid, lam)
    points = replica.r1_curve(alphas, lam)
    at = {a: {"eps_J": float(points.eps_J[k]), "test_ce": float(points.test_ce[k])} for k, a in enumerate(alphas)}
    rows, ok = [], True
    sims_eps, sims_ce = {}, {}
    for N in Ns:
        pts = _r1_sim_points(N, alphas, lam, seeds)
        for a, v in pts.items():
            for key, th in at[a].items():
                mean, se = v[key]
                allowance = 0.03 * abs(th) * (200 / N) ** 0.5
                good = abs(mean - th) <= 3 * se + allowance
                ok &= good
                rows.append({"N": N, "alpha": a, "key": key, "theory": th, "sim": mean, "se": se,
                             "allowance": allowance, "ok": bool(good)})
        sims_eps[f"$N = {N}$"] = (list(alphas), [pts[a]["eps_J"][0] for a in alphas], [pts[a]["eps_J"][1] for a in alphas])
        sims_ce[f"$N = {N}$"] = (list(alphas), [pts[a]["test_ce"][0] for a in alphas], [pts[a]["test_ce"][1] for a in alphas])
    import matplotlib.pyplot as plt

    from validation.shared.plots import CurveColors
    from validation.shared.style import style

    with style("paper", columns=2):
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(7.0, 3.1))
        colors = CurveColors()
        theory_label = rf"R1 theory, $\lambda = {lam:g}$"
        plots.plot_replica(grid, {theory_label: theory.eps_J}, sims_eps, "eps_J", ax=ax1,
                           loc="outside below", colors=colors)
        plots.plot_replica(grid, {theory_label: theory.test_ce}, sims_ce, "test_ce", ax=ax2,
                           floor=replica.bayes_floor(1.0), loc="outside below", colors=colors)
        path = save(fig, ctx.figure_path("potts_r1.png"))
    return decide(ok, "|sim - theory| <= 3 SE + 3% sqrt(200/N) of the theory value", rows, "3 SE + allowance",
                  f"lam = {lam}, rho = 1; torch L-BFGS fits of one attention row (logistic loss + ridge) "
                  f"on Gaussian inputs, {len(list(seeds))} seeds per point; test CE on 10^4 fresh "
                  "inputs (label averaged). Theory: R1, the library's reconstruction.",
                  figures=(path.name,))


@claim("potts.r2_simulation", paper=PAPER, reference=f"spec Sec. 5, R2 ({RECON})",
       statement=r"Ridge attention rows match the R2 closed form (i.i.d. inputs) and the "
                 r"deterministic equivalent (correlated Gaussian Potts, precision \(\nu I - J\)).")
def _r2_simulation(ctx: CheckContext):
    lam, delta = 0.3, 0.5
    N = 500 if ctx.full else 150
    alphas = (0.5, 1.0, 1.5, 2.0, 4.0) if ctx.full else (0.5, 1.5, 4.0)
    seeds = range(ctx.seed, ctx.seed + (6 if ctx.full else 4))
    rows, ok, sim = [], True, ([], [], [])
    for a in alphas:
        errs = []
        for s in seeds:
            rng = np.random.default_rng(s)
            w = rng.standard_normal(N)
            w *= math.sqrt(N) / np.linalg.norm(w)
            X = rng.standard_normal((int(a * N), N))
            y = X @ w / math.sqrt(N) + math.sqrt(delta) * rng.standard_normal(len(X))
            wh = experiments.fit_attention_row(X, y, lam, loss="square")
            errs.append(float(np.sum((wh - w) ** 2) / N))
        th = replica.r2_curve([a], lam, 1.0, delta).test_mse[0]
        mean, se = delta + float(np.mean(errs)), float(np.std(errs, ddof=1) / math.sqrt(len(errs)))
        allowance = 0.03 * th
        good = abs(mean - th) <= 3 * se + allowance
        ok &= good
        rows.append({"alpha": a, "theory_test_mse": th, "sim": mean, "se": se, "ok": bool(good)})
        for lst, v in zip(sim, (a, mean, se)):
            lst.append(v)
    corr = experiments.simulate_r2_correlated(200, 2.0, 0.05, range(ctx.seed, ctx.seed + 6))  # ~0.2 s
    rel = float(np.mean(corr.measured) / np.mean(corr.predicted) - 1)
    se_rel = float(np.std(corr.measured / corr.predicted, ddof=1) / math.sqrt(6))
    ok &= abs(rel) <= 3 * se_rel + 0.03
    grid = np.linspace(0.2, 4.5, 80)
    out = plots.plot_replica(grid, {"R2 closed form": replica.r2_curve(grid, lam, 1.0, delta).test_mse},
                             {f"ridge, $N={N}$": sim}, "R2: Gaussianised Potts, ridge", "test MSE")
    path = save(out.figure, ctx.figure_path("potts_r2.png"))
    return decide(ok, "within 3 SE + 3%", {"iid": rows, "correlated_relative_deviation": rel,
                                           "correlated_se": se_rel}, "3 SE + 3%",
                  f"i.i.d.: ridge attention rows solved exactly in torch (square loss, lam = {lam}, "
                  f"Delta = {delta}), test MSE "
                  "= Delta + |w - w*|^2/N. Correlated: L = 200 GOE precision 3I - J, site 0 regressed "
                  "on the others (n = 2L, lambda_r = 0.05), exact test MSE from Sigma against the "
                  "deterministic equivalent of the same draw. R2 is the library's reconstruction.",
                  figures=(path.name,))


@claim("potts.r1_correlated", paper=PAPER, reference=f"spec Sec. 5 (i.i.d. theory on Potts data, {RECON})",
       profiles=("full",),
       statement="On data from a real correlated Ising model the i.i.d. R1 theory is approximate, "
                 "within a few per cent.")
def _r1_correlated(ctx: CheckContext):
    N, n_seeds = 200, 4
    seeds = range(ctx.seed, ctx.seed + n_seeds)
    rows, ok = [], True
    for beta in (0.25, 0.5):
        for a in (1.0, 3.0):
            r = experiments.simulate_r1_ising(N, a, 0.1, seeds, beta=beta, burn_in=100)
            th = np.array([replica.r1_point(a, 0.1, rho).eps_J for rho in r.rho])
            ratio = r.eps_J / th
            rel = float(ratio.mean() - 1)
            se = float(ratio.std(ddof=1) / math.sqrt(n_seeds))
            good = abs(rel) <= 0.05 + 3 * se
            ok &= good
            rows.append({"beta": beta, "alpha": a, "sim_eps_J": float(r.eps_J.mean()),
                         "theory_eps_J": float(th.mean()), "relative_deviation": rel, "se": se,
                         "ok": bool(good)})
    return decide(ok, "|relative deviation| <= 5% + 3 SE", rows, "5% + 3 SE",
                  f"Ising model with L = N+1 = {N + 1} sites and SK couplings (G+G^T)/sqrt(2L) at beta "
                  f"0.25 and 0.5, Gibbs samples (independent chains, 100 sweeps), {n_seeds} seeds (a new "
                  "model per seed); site 0's attention row fitted by logistic pseudo-likelihood "
                  "(lam = 0.1); eps_J against R1 at each teacher's rho = 4 beta^2 |J_0|^2 (per-seed "
                  "ratio, mean and standard error). The i.i.d. Gaussian theory ignores the input "
                  "correlations; the per-seed spread is large (teachers differ), so the statement is "
                  "checked as 'within 5% up to 3 standard errors'.")

"""Claims of the Potts paper about the replica generalisation curves; simulations against the
curves, on i.i.d. and on correlated Potts data, decided by the finite-size rule of spec Sec. 10.

Scenario origin (spec Sec. 13, :data:`numerics.potts.replica.SCENARIO_ORIGINS`): R2 on correlated
Gaussianised Potts data is the library's reconstruction (probable paper scenario); R1 and R2 with
isotropic inputs are library extensions. None of their numbers is the paper's."""

from __future__ import annotations

import math
import time

import numpy as np

from numerics.potts import finite_size
from numerics.potts import replica
from numerics.potts.replica import SCENARIO_ORIGINS
from numerics.shared.seeding import derive_seed
from numerics.shared.threads import limit_threads
from theory import potts
from validation.potts import experiments
from validation.potts import plots
from validation.ledger.claims import CheckContext, claim, decide
from validation.shared.plots import save
from validation.potts.claims.finite_size import rule_rows
from validation.potts.claims.mapping import PAPER

# ----------------------------------------------------------------------------------------------
# Replica curves of the library's reference scenarios


@claim("potts.r1_solver", paper=PAPER, reference=f"spec Sec. 5, R1 ({SCENARIO_ORIGINS['R1']})",
       statement=r"R1 saddle-point equations solved over 20 \(\alpha\) values (\(61 \times 61\) "
                 r"quadrature) with residual \(< 10^{-8}\) in under 3 s; Bayes floor 0.59944 at "
                 r"\(\rho = 1\) [scenario origin: library extension].")
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
                  "is the spec's published 0.59944. Scenario origin: R1 is a library extension.",
                  timings={"cpu_seconds": seconds, "target_seconds": 3})


@claim("potts.r2_closed_form", paper=PAPER,
       reference=f"spec Sec. 5, R2 (isotropic: {SCENARIO_ORIGINS['R2-isotropic']})",
       statement=r"The R2 closed form solves the ridge replica equations, tends to "
                 r"\(\Delta/(\alpha-1)\) as \(\lambda \to 0\), and equals the deterministic "
                 r"equivalent for isotropic inputs [scenario origin: library extension].")
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
                  "Sigma = I and lambda_r = lambda/alpha (an independent formula). Scenario origin: "
                  "R2-isotropic is a library extension.")


def _fss_points(scenario, alphas, lam, sizes, seeds, seed, theory, **kw):
    """Sec. 10 checks (``numerics.potts.finite_size.finite_size``) at each alpha: ``{alpha:
    {observable: FiniteSizeCheck}}``; ``theory`` maps alpha to ``{"eps_J", "test"}``."""
    return {a: finite_size.finite_size(scenario, a, lam, sizes, seeds, seed=seed, theory=theory[a], **kw)
            for a in alphas}


def _sim_series(checks, alphas, observable):
    """(alpha, eps_inf, SE) and (alpha, mean at the largest N, SE) for plot_replica."""
    ext = (list(alphas), [checks[a][observable].fit.value for a in alphas],
           [checks[a][observable].fit.se for a in alphas])
    big = (list(alphas), [checks[a][observable].mean[-1] for a in alphas],
           [checks[a][observable].se[-1] for a in alphas])
    return ext, big


@claim("potts.r1_simulation", paper=PAPER,
       reference=f"spec Sec. 5, R1 ({SCENARIO_ORIGINS['R1']}); rule of Sec. 10",
       statement=r"Trained attention rows (Gaussian inputs, logistic teacher) match the R1 replica "
                 r"\(\varepsilon_J\) and test cross-entropy at every \(\alpha\): the finite-size "
                 r"extrapolation of spec Sec. 10 is within 3 standard errors of the theory with "
                 r"\(\chi^2\) p-value \(\ge 10^{-3}\) [scenario origin: library extension].")
def _r1_simulation(ctx: CheckContext):
    lam = 0.1
    alphas = (0.5, 1.0, 2.0, 4.0, 8.0) if ctx.full else (1.0, 4.0)
    sizes, seeds = ((100, 200, 400, 800), 48) if ctx.full else ((100, 200, 400), 16)
    grid = np.linspace(0.3, 9, 30 if ctx.full else 15)
    theory = replica.r1_curve(grid, lam)
    points = replica.r1_curve(alphas, lam)
    at = {a: {"eps_J": float(points.eps_J[k]), "test": float(points.test_ce[k])}
          for k, a in enumerate(alphas)}
    checks = _fss_points("logistic", alphas, lam, sizes, seeds, ctx.seed, at)
    rows, ok = [], True
    for a in alphas:
        rows += rule_rows(checks[a], alpha=a, lam=lam)
        ok &= all(c.passed for c in checks[a].values())
    import matplotlib.pyplot as plt

    from validation.shared.plots import CurveColors
    from validation.shared.style import style

    with style("paper", columns=2):
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(7.0, 3.1))
        colors = CurveColors()
        theory_label = rf"R1 theory, $\lambda = {lam:g}$"
        for ax, key, obs, floor in ((ax1, "eps_J", "eps_J", None),
                                    (ax2, "test_ce", "test", replica.bayes_floor(1.0))):
            ext, big = _sim_series(checks, alphas, obs)
            plots.plot_replica(grid, {theory_label: theory.eps_J if key == "eps_J" else theory.test_ce},
                               {r"$N \to \infty$ (Sec. 10 extrapolation)": ext,
                                f"$N = {sizes[-1]}$": big}, key, ax=ax, floor=floor,
                               loc="outside below", colors=colors)
            # the scenario is the library's (spec Sec. 13): no paper attribution in the title
            ax.set_title(f"R1 ({SCENARIO_ORIGINS['R1']}): "
                         + plots.QUANTITIES[key][0])
        path = save(fig, ctx.figure_path("potts_r1.png"))
    return decide(ok, "|eps_inf - theory| <= 3 SE(eps_inf) and chi2 p-value >= 1e-3 (Sec. 10)",
                  rows, "3 SE, p >= 1e-3",
                  f"lam = {lam}, rho = 1; at each alpha, logistic attention rows (exact minimisers, "
                  f"scipy L-BFGS) at N = {list(sizes)} with {finite_size.seeds_per_size(sizes, seeds)} seeds, "
                  "test CE from each fit's overlaps by the R1 quadrature, weighted fit eps(N) = "
                  "eps_inf + a/N (numerics.potts.finite_size). Until Part 2 this claim compared one "
                  "size (N = 200) with 3 SE plus a 3% finite-size allowance; the allowance is gone. "
                  f"Scenario origin: R1 is a {SCENARIO_ORIGINS['R1']}.", figures=(path.name,))


@claim("potts.r2_simulation", paper=PAPER,
       reference=f"spec Sec. 5, R2 (isotropic: {SCENARIO_ORIGINS['R2-isotropic']}; correlated: "
                 f"{SCENARIO_ORIGINS['R2-correlated']}); rule of Sec. 10",
       statement=r"Ridge attention rows match the R2 closed form (i.i.d. inputs) and the "
                 r"deterministic equivalent (correlated Gaussian Potts, precision \(\nu I - J\)), by "
                 r"the finite-size rule of spec Sec. 10 (3 SE of the extrapolation, \(\chi^2\) "
                 r"p-value \(\ge 10^{-3}\)) [scenario origin: isotropic, library extension; "
                 r"correlated, reconstruction (probable paper scenario)].")
def _r2_simulation(ctx: CheckContext):
    lam, delta = 0.3, 0.5
    alphas = (0.5, 1.0, 1.5, 2.0, 4.0) if ctx.full else (0.5, 1.5, 4.0)
    # ridge fits are cheap: the full seed count in both profiles, N = 800 in the full one only
    sizes, seeds = ((100, 200, 400, 800) if ctx.full else (100, 200, 400)), 48
    curve = replica.r2_curve(alphas, lam, 1.0, delta)
    at = {a: {"eps_J": float(curve.eps_J[k]), "test": float(curve.test_mse[k])}
          for k, a in enumerate(alphas)}
    checks = _fss_points("ridge", alphas, lam, sizes, seeds, ctx.seed, at, delta=delta)
    rows, ok = [], True
    for a in alphas:
        rows += rule_rows(checks[a], alpha=a, lam=lam, delta=delta)
        ok &= all(c.passed for c in checks[a].values())
    # correlated: measured/predicted - 1 (same draw) extrapolated in 1/L to 0
    Ls = (100, 200, 400, 800) if ctx.full else (100, 200, 400)
    n_corr = 24 if ctx.full else 12
    means, ses = [], []
    with limit_threads(1):
        for L in Ls:
            corr = experiments.simulate_r2_correlated(
                L, 2.0, 0.05, [derive_seed(ctx.seed, "r2_correlated", L, k) for k in range(n_corr)])
            rel = corr.measured / corr.predicted - 1
            means.append(float(rel.mean()))
            ses.append(float(rel.std(ddof=1) / math.sqrt(n_corr)))
    corr_fit = finite_size.extrapolate(Ls, means, ses)
    corr_z = corr_fit.value / corr_fit.se
    corr_ok = abs(corr_z) <= 3 and corr_fit.p_value >= 1e-3
    ok &= corr_ok
    grid = np.linspace(0.2, 4.5, 80)
    ext, big = _sim_series(checks, alphas, "test")
    out = plots.plot_replica(grid, {"R2 closed form": replica.r2_curve(grid, lam, 1.0, delta).test_mse},
                             {r"$N \to \infty$ (Sec. 10 extrapolation)": ext, f"ridge, $N={sizes[-1]}$": big},
                             "test_mse")
    # the scenario is the library's (spec Sec. 13): no paper attribution in the title
    out.axes.set_title(f"R2 ({SCENARIO_ORIGINS['R2-isotropic']}): Gaussianised Potts, ridge")
    path = save(out.figure, ctx.figure_path("potts_r2.png"))
    return decide(ok, "Sec. 10 rule: |z| <= 3, chi2 p-value >= 1e-3",
                  {"iid": rows, "correlated": {"scenario_origin": SCENARIO_ORIGINS["R2-correlated"],
                                               "L": list(Ls), "seeds": n_corr,
                                               "relative_deviation_mean": means,
                                               "relative_deviation_se": ses,
                                               "extrapolated": corr_fit.value,
                                               "extrapolated_se": corr_fit.se, "z": corr_z,
                                               "chi2": corr_fit.chi2, "p_value": corr_fit.p_value,
                                               "ok": bool(corr_ok)}},
                  "3 SE, p >= 1e-3",
                  f"i.i.d. ({SCENARIO_ORIGINS['R2-isotropic']}): ridge attention rows (normal "
                  f"equations, lam = {lam}, Delta = {delta}) at N = {list(sizes)} with "
                  f"{finite_size.seeds_per_size(sizes, seeds)} seeds, eps_J and test MSE = Delta + "
                  "|w - w*|^2/N, weighted fit eps(N) = eps_inf + a/N against the closed form. "
                  f"Correlated ({SCENARIO_ORIGINS['R2-correlated']}): GOE precision 3I - J with "
                  f"L = {list(Ls)} sites, {n_corr} draws each, site 0 regressed on the others (n = 2L, "
                  "lambda_r = 0.05); the relative deviation of the exact test MSE (from Sigma) from "
                  "the deterministic equivalent of the same draw, extrapolated in 1/L, against 0. "
                  "Until Part 2 this claim used one size with 3 SE plus a 3% allowance; the allowance "
                  "is gone.", figures=(path.name,))


@claim("potts.r1_correlated", paper=PAPER,
       reference=f"spec Sec. 5 (i.i.d. R1 theory on Potts data; R1: {SCENARIO_ORIGINS['R1']})",
       profiles=("full",),
       statement="On data from a real correlated Ising model the i.i.d. R1 theory is approximate, "
                 "within a few per cent [scenario origin: library extension].")
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
                  "checked as 'within 5% up to 3 standard errors'. Scenario origin: R1 is a library "
                  "extension (the alternative of spec Sec. 13: SK Ising as in Bachschmid-Romano & "
                  "Opper 2017).")

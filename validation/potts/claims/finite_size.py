"""Claim of spec Sec. 10: the replica curves checked by finite-size extrapolation
(``potts.replica_fss``). Scenarios R1 (logistic) and R2-isotropic (ridge): library extensions
(spec Sec. 13); none of their numbers is the paper's."""

from __future__ import annotations

import time

from numerics.potts import finite_size
from numerics.potts.replica import SCENARIO_ORIGINS
from validation.ledger.claims import CheckContext, claim, decide
from validation.potts import plots
from validation.potts.claims.mapping import PAPER
from validation.shared.plots import save

#: Origin labels of the scenarios of this claim (spec Sec. 13).
ORIGIN = (f"R1: {SCENARIO_ORIGINS['R1']}; R2-isotropic: {SCENARIO_ORIGINS['R2-isotropic']}")


def rule_rows(checks: dict, **labels) -> list:
    """One report row per observable of ``finite_size``'s result (the Sec. 10 rule's numbers)."""
    rows = []
    for o, c in checks.items():
        rows.append({**labels, "scenario_origin": c.scenario_origin, "observable": o,
                     "N": c.N, "seeds": c.seeds, "mean": c.mean, "se": c.se,
                     "eps_inf": c.fit.value, "eps_inf_se": c.fit.se, "slope": c.fit.slope,
                     "slope_se": c.fit.slope_se, "chi2": c.fit.chi2, "dof": c.fit.dof,
                     "p_value": c.fit.p_value, "theory": c.theory, "z": c.z, "ok": c.passed})
    return rows


@claim("potts.replica_fss", paper=PAPER,
       reference=f"spec Sec. 10 (finite-size extrapolation; {ORIGIN})",
       statement=r"Attention rows trained at \(N \in \{100, \dots, 800\}\) with seeds "
                 r"\(\propto 1/N\), extrapolated by the weighted fit \(\varepsilon(N) = "
                 r"\varepsilon_\infty + a/N\), agree with the replica prediction: "
                 r"\(|\varepsilon_\infty - \varepsilon_{\rm theory}| \le 3\,\mathrm{SE}\) and "
                 r"\(\chi^2\) p-value \(\ge 10^{-3}\), for \(\varepsilon_J\) and the test loss of "
                 r"R1 (logistic) and R2 (ridge) [scenario origin: library extensions].")
def _replica_fss(ctx: CheckContext):
    lam = 0.1
    if ctx.full:
        alphas, r1_sizes, r1_seeds = (1.0, 2.0, 4.0, 8.0), (100, 200, 400, 800), 48
    else:
        alphas, r1_sizes, r1_seeds = (4.0,), (100, 200, 400), 16
    rows, ok, shown, timings = [], True, {}, {}
    for scenario, sizes, seeds in (("logistic", r1_sizes, r1_seeds),
                                   ("ridge", (100, 200, 400, 800), 48)):
        t0 = time.perf_counter()
        for a in alphas:
            checks = finite_size.finite_size(scenario, a, lam, sizes, seeds, rho=1.0, delta=0.5,
                                    seed=ctx.seed)
            rows += rule_rows(checks, scenario=scenario, alpha=a, lam=lam)
            ok &= all(c.passed for c in checks.values())
            if a == 4.0:
                shown[scenario] = checks
        timings[f"{scenario}_seconds"] = time.perf_counter() - t0
    import matplotlib.pyplot as plt

    from validation.shared.style import style

    with style("paper", columns=2):
        fig, axes = plt.subplots(1, 3, figsize=(7.0, 2.9))
        for k, (ax, (label, check)) in enumerate(zip(axes, (("R1", shown["logistic"]["eps_J"]),
                                                            ("R1", shown["logistic"]["test"]),
                                                            ("R2", shown["ridge"]["eps_J"])))):
            plots.plot_finite_size(check, ax=ax, label=rf"{label}, $\alpha = 4$",
                                   loc="outside below" if k == 0 else False)
        path = save(fig, ctx.figure_path("potts_replica_fss.png"))
    return decide(ok, "|eps_inf - theory| <= 3 SE(eps_inf) and chi2 p-value >= 1e-3 (Sec. 10)",
                  rows, "3 SE, p >= 1e-3",
                  f"lam = {lam}, rho = 1; R2: Delta = 0.5. Seeds S_N = S * N_min/N: R1 "
                  f"{finite_size.seeds_per_size(r1_sizes, r1_seeds)} at N = {list(r1_sizes)}; R2 (ridge fits "
                  f"are cheap, so the full seed count in both profiles) {finite_size.seeds_per_size((100, 200, 400, 800), 48)} "
                  "at N = [100, 200, 400, 800]. Fits: the exact minimiser of the penalised loss (scipy "
                  "L-BFGS to gradient 1e-9 for logistic, normal equations for ridge); test loss from "
                  "each fit's overlaps (m, q) by the R1 quadrature (R2: Delta + rho - 2m + q), no "
                  f"test-set noise. Weighted least squares on 1/N, weights 1/SE_N^2. Scenario origin: "
                  f"{ORIGIN}.", figures=(path.name,), timings=timings)

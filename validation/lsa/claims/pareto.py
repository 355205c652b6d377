"""Claims: Fig. 2's Pareto view (Part 2 §A).

R_1 of Theorem 4.1 has the closed-form Pareto set :math:`\\{w_{LS} + \\mu: \\mu \\ge 0\\}` (P1); the
deterministic gradient-descent stack approaches it geometrically (P2); a trained 10-layer LSA in
the Eq. 11 space (read-out :math:`-[Z_L]`) is measured against the paper's Fig. 2 (P3)."""

from __future__ import annotations

import time

import numpy as np

from numerics.lsa import optimum, pareto
from validation.ledger.claims import CheckContext, claim, decide
from validation.lsa.claims.optimum import PAPER

#: Fig. 2's setting (Part 2 §A): chains of length 6 (d = 5), n = 100, 10 layers, p = 1/2.
D, N, LAYERS = 5, 100, 10


@claim("lsa.P1", paper=PAPER, reference="Part 2 A, P1 (Fig. 2, Pareto set of R_1)",
       statement=r"The Pareto set of \(R_1\) is \(\{w_{LS} + \mu : \mu \ge 0\}\) with front "
                 r"\(PF(\mu) = (-c - M\mu, L_{LS} + \frac12 \mu^\top M \mu)\): no point dominates a "
                 r"front point, and every \(w\) with some \(\mu_k = (w - w_{LS})_k < 0\) is dominated "
                 r"by \(w + t M^{-1} e_k\), \(t = -\mu_k / (M^{-1})_{kk}\).")
def _p1(ctx: CheckContext):
    t0 = time.perf_counter()
    prompts = 40 if ctx.full else 10
    counts = pareto.dominance_counts(D, N, prompts, 20, 50, ctx.seed)
    # the closed form R_1(w_LS + mu) = PF(mu) on the same kind of prompts (objective_R1 is the
    # independent definition of Theorem 4.1's R_1)
    data = pareto.sample_pareto_prompts(D, N, prompts, ctx.seed + 1)
    rng = np.random.default_rng(ctx.seed)
    worst = 0.0
    for Z in data.Z:
        xs, ys = Z[:D, :N].T, Z[D, :N]
        ls = pareto.least_squares(xs, ys)
        for _ in range(10):
            mu = np.abs(rng.standard_normal(D))
            worst = max(worst, float(np.abs(optimum.objective_R1(ls.w_ls + mu, xs, ys)
                                            - pareto.front_point(mu, ls)).max()))
    holds = (counts["dominated_front"] == 0 and counts["moved_dominates"] == counts["off_front"]
             and counts["off_front"] > 0 and worst <= 1e-12)
    return decide(holds, {"dominated_front": 0, "moved_dominates": "all off-front points",
                          "max |R1(w_LS + mu) - PF(mu)|": 0.0},
                  {**counts, "max |R1(w_LS + mu) - PF(mu)|": worst}, 1e-12,
                  f"{prompts} binary prompts (d = {D}, n = {N}, p = 1/2, random kernel); per prompt "
                  "20 front points w_LS + |N(0, I)| against 50 random points w_LS + N(0, I) "
                  "(pairs: every front point against every random point; tolerance 1e-12 in "
                  "the dominance test), and the dominating move applied to every random point "
                  "off the Pareto set. Spec's own run: 0/200 and 1884/1884.",
                  timings={"seconds": time.perf_counter() - t0})


@claim("lsa.P2", paper=PAPER, reference="Part 2 A, P2 (GD stack)",
       statement=r"The stack \(b_l = e_{d+1}\), \(\bar A_l = \eta I\), \(a_l = 0\), \(\eta = "
                 r"1/\lambda_{max}(M)\) gives \(w_l - w_{LS} = -(I - \eta M)^l w_{LS}\), so "
                 r"\(GD_l \le \|R_1(w_l) - R_1(w_{LS})\| = O(\rho^l)\), \(\rho = \rho(I - \eta M) "
                 r"< 1\).")
def _p2(ctx: CheckContext):
    t0 = time.perf_counter()
    prompts = 64 if ctx.full else 16
    data = pareto.sample_pareto_prompts(D, N, prompts, ctx.seed)
    weight_err, bound_ok, rhos, lss, r1s, gaps = 0.0, True, [], [], [], []
    for Z in data.Z:
        xs, ys = Z[:D, :N].T, Z[D, :N]
        ls = pareto.least_squares(xs, ys)
        ws, rho = pareto.stack_weights(Z, LAYERS)      # Theorem 4.1's recursion, complex step
        lam = np.linalg.eigvalsh(ls.M)
        step = np.eye(D) - ls.M / lam[-1]
        r_ls = optimum.objective_R1(ls.w_ls, xs, ys)
        for l, w in enumerate(ws):
            closed = ls.w_ls - np.linalg.matrix_power(step, l) @ ls.w_ls
            weight_err = max(weight_err, float(np.abs(w - closed).max()))
            r1 = optimum.objective_R1(w, xs, ys)
            r1s.append(r1)
            lss.append(ls)
            nw = np.linalg.norm(ls.w_ls)
            gaps.append((np.linalg.norm(r1 - r_ls),
                         lam[-1] * nw * rho ** l + 0.5 * lam[-1] * nw ** 2 * rho ** (2 * l)))
        rhos.append(rho)
    gd = pareto.generational_distances(np.array(r1s), lss)
    gap = np.array(gaps)
    bound_ok = bool(np.all(gd <= gap[:, 0] + 1e-12) and np.all(gap[:, 0] <= gap[:, 1] + 1e-12))
    gd_layers = gd.reshape(prompts, LAYERS + 1).mean(0)
    holds = weight_err <= 1e-10 and bound_ok and max(rhos) < 1
    return decide(holds, {"w_l - w_LS": "-(I - eta M)^l w_LS", "GD_l": "<= |R1(w_l) - R1(w_LS)| "
                          "<= lam_max |w_LS| rho^l + lam_max |w_LS|^2 rho^(2l) / 2", "rho": "< 1"},
                  {"max |w_l - closed form|": weight_err, "bounds_hold": bound_ok,
                   "rho_mean": float(np.mean(rhos)), "rho_max": float(max(rhos)),
                   "GD_per_layer": [round(float(v), 6) for v in gd_layers]},
                  "weights 1e-10; bounds exact (+1e-12 rounding)",
                  f"{prompts} binary prompts (d = {D}, n = {N}, p = 1/2), {LAYERS} layers. w_l from "
                  "Theorem 4.1's recursion with complex-step Jacobians of R1, R2 "
                  "(numerics.lsa.optimum.multilayer_weights) against the closed form; GD_l by "
                  "L-BFGS-B over mu >= 0 (two starts), checked against both bounds per prompt "
                  "and layer. The rate is slow where M is ill-conditioned (rho near 1).",
                  timings={"seconds": time.perf_counter() - t0})


def _rise_after_minimum(gd: np.ndarray, r1: np.ndarray) -> tuple[int, list[int]]:
    """``(argmin_{l>=1} GD_l, layers l > argmin where GD and every mean R_1 entry rise)``."""
    best = 1 + int(np.argmin(gd[1:]))
    rises = [l for l in range(best + 1, gd.size)
             if gd[l] > gd[l - 1] and np.all(r1[l] > r1[l - 1])]
    return best, rises


@claim("lsa.P3", paper=PAPER, reference="Part 2 A, P3 (Fig. 2, trained)",
       statement=r"A trained 10-layer LSA (Eq. 11 space, \(d = 5\), \(n = 100\), \(p = 1/2\)): "
                 r"\(\min_{l \ge 1} GD_l < GD_0\), and after the minimum there is a layer where "
                 r"GD and all mean \(R_1\) values rise (the paper's Fig. 2, as reported).",
       expected="refuted")
def _p3(ctx: CheckContext):
    from validation.lsa.pareto import train_pareto
    from validation.lsa.plots import pareto_per_layer
    from validation.shared.plots import save_figure

    t0 = time.perf_counter()
    seeds, steps, test = (2, 3000, 128) if ctx.full else (1, 1000, 64)
    runs = [train_pareto(D, N, LAYERS, steps=steps, seed=ctx.seed + s, batch=64, lr=1e-3,
                         init_scale=0.01, test_prompts=test) for s in range(seeds)]
    rows, holds = {}, True
    for s, run in enumerate(runs):
        v = run.view
        best, rises = _rise_after_minimum(v.gd, v.r1)
        ok = bool(v.gd[best] < v.gd[0] and rises)
        holds &= ok
        gd_up = [l for l in range(best + 1, v.gd.size) if v.gd[l] > v.gd[l - 1]]
        rows[f"seed {s}"] = {"GD": [round(float(g), 4) for g in v.gd], "argmin_GD": best,
                             "rising_layers_after_min": rises,
                             "GD_rises_after_min_at": gd_up,
                             "R1_entries_rising_there": {l: [k + 1 for k in range(v.r1.shape[1])
                                                             if v.r1[l, k] > v.r1[l - 1, k]]
                                                         for l in gd_up},
                             "final_mse": round(run.final_loss, 4),
                             "query_identity_error": run.query_error}
    extra = ""
    if ctx.full:   # the paper's read-out +[Z_L]: w_L is minus the predictor (Part 2 §A)
        plus = train_pareto(D, N, LAYERS, steps=steps, seed=ctx.seed, batch=64, lr=1e-3,
                            init_scale=0.01, test_prompts=test, sign=1)
        rows["read-out +[Z_L] (information)"] = {
            "GD at w_l": [round(float(g), 4) for g in plus.view.gd],
            "GD at -w_l": [round(float(g), 4) for g in plus.view_negated.gd],
            "final_mse": round(plus.final_loss, 4)}
        extra = " Full profile: also a model trained with +[Z_L], GD at w_l and at -w_l."
    stack = pareto.gd_stack(D, N, LAYERS, prompts=16, seed=ctx.seed)
    v = runs[0].view
    fig = pareto_per_layer(v.gd, v.r1, reference_gd=stack.gd)
    path = save_figure(fig.figure, ctx.figure_path("lsa_pareto.png"), close=True)
    return decide(holds, {"paper Fig. 2": "GD falls below GD_0, reaches a minimum, then GD and "
                          "all R_1 values rise at a later layer"}, rows,
                  "qualitative (strict inequalities of means over test prompts)",
                  f"{seeds} seed(s), Adam {steps} steps, batch 64, lr 1e-3, init N(0, 0.01^2), "
                  f"{test} held-out prompts; sparse LSA P_l = [0; b_l^T], Q_l = [A_l, 0], read-out "
                  "-[Z_L] so the prediction is <w_L, x_{n+1}>; w_l read off the context entries "
                  "of each layer (least squares; the query entry matches -<w_l, x_{n+1}> to "
                  "query_identity_error). Check: min_{l>=1} GD_l < GD_0 and some layer after the "
                  "minimum where GD and every mean R_1 entry increase. The figure shows the first "
                  "seed with the GD stack (eta = 1/lambda_max, 16 prompts) dashed. When the "
                  "minimum sits at the last layer the 'later rise' cannot be observed. Expected "
                  "refuted (the spec only reports the figure; the paper gives no optimiser or "
                  "sizes): at 1000 steps (quick) GD falls at every layer, like the GD stack of "
                  "lsa.P2; at 3000 steps (full, 2 seeds) GD is least at layer 9 and rises at "
                  "layer 10, where R_1 entries 1-5 rise but the loss entry R_1,d+1 falls, in "
                  "both seeds. Training never produced a layer where all R_1 values rise." + extra,
                  figures=(path.name,), timings={"seconds": time.perf_counter() - t0})

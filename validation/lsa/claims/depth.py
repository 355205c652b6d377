"""Claims: Fig. 3: accuracy against depth with the oracle and in-context Bayes ceilings (Part 2 §B).

Ding et al. 2025, Sec. 4 (Fig. 3): ``|S|`` states as raw scalars, 10 context chains of length 6
(d = 5, n = 10), kernel rows i.i.d. Dir(alpha 1) (alpha = 1 [rec], alpha = 0 the random-map
limit). D1: the oracle and in-context Bayes ceilings by Monte Carlo against the specification's
values; D2: the paper's 0.55 (L = 1) -> 0.98 (L = 3) at ``|S|`` = 3 (expected refuted: the ceilings
are the counterexample); D3: acc(L = 3) > acc(L = 1) as stated, from trained dense LSA
(:func:`validation.lsa.experiments.depth_experiment`).
"""

from __future__ import annotations

import numpy as np

from numerics.lsa.ceilings import accuracy_ceilings, one_layer_bounds
from validation.ledger.claims import CheckContext, claim, decide
from validation.lsa.claims.optimum import PAPER

#: Spec Part 2 §B, alpha = 1, d = 5, n = 10 (Monte Carlo, 2e5 prompts, SE <= 0.0011).
SPEC_ORACLE = {2: 0.763, 3: 0.620, 4: 0.526}
SPEC_BAYES = {2: 0.754, 3: 0.600, 4: 0.494}
SPEC_SE = 0.0011
#: Spec Part 2 §B one-layer bounds (LS 2e5 prompts; best LSA by ALS, 6e4): alpha -> (LS, LSA).
SPEC_BOUNDS = {0.0: {2: (0.978, 0.979), 3: (0.939, 0.879), 4: (0.836, 0.722)},
               1.0: {2: (0.725, 0.692), 3: (0.429, 0.423), 4: (0.296, 0.291)}}
#: The paper's Fig. 3 numbers at ``|S|`` = 3 and the tolerances of D2 (spec §B [rec]).
PAPER_L1, PAPER_L3, TOL_L1, TOL_L3 = 0.55, 0.98, 0.05, 0.02


def _grid(ctx: CheckContext):
    states = (2, 3, 4) if ctx.full else (3,)
    alphas = (1.0, 0.1, 0.0) if ctx.full else (1.0, 0.0)
    return states, alphas


@claim("lsa.D1", paper=PAPER, reference="Sec. 4, Fig. 3; spec Part 2 §B (D1)",
       statement=r"With kernel rows i.i.d. \(\mathrm{Dir}(\alpha, \ldots, \alpha)\), \(d = 5\), "
                 r"\(n = 10\), the oracle knowing \(K\) and the in-context Bayes predictor "
                 r"\(\arg\max_j \alpha + N_{sj}\) reach, at \(\alpha = 1\) and \(|S| = 2/3/4\), "
                 r"accuracies 0.763/0.620/0.526 and 0.754/0.600/0.494, and both 1 as "
                 r"\(\alpha\to 0\).")
def _d1(ctx: CheckContext):
    states, alphas = _grid(ctx)
    size = 200000 if ctx.full else 50000
    bound_size = 60000 if ctx.full else 20000
    rows, bounds, holds = {}, {}, True
    rng = np.random.default_rng(ctx.seed)
    for S in states:
        for alpha in alphas:
            c = accuracy_ceilings(S, alpha, size=size, seed=rng)
            row = {"oracle": c.oracle, "oracle_se": c.oracle_se, "bayes": c.bayes,
                   "bayes_se": c.bayes_se}
            if alpha in (0.0, 1.0):
                want_o = 1.0 if alpha == 0 else SPEC_ORACLE[S]
                want_b = 1.0 if alpha == 0 else SPEC_BAYES[S]
                tol_o = 3 * np.hypot(c.oracle_se, SPEC_SE)
                tol_b = 3 * np.hypot(c.bayes_se, SPEC_SE)
                row.update(spec_oracle=want_o, spec_bayes=want_b,
                           within=bool(abs(c.oracle - want_o) <= tol_o
                                       and abs(c.bayes - want_b) <= tol_b))
                holds &= row["within"]
                b = one_layer_bounds(S, alpha, size=bound_size, seed=rng)
                ls, lsa = SPEC_BOUNDS[alpha][S]
                bounds[f"|S|={S},alpha={alpha:g}"] = {
                    "ls": b.ls_accuracy, "ls_se": b.ls_se, "spec_ls": ls,
                    "best_lsa": b.lsa_accuracy, "best_lsa_se": b.lsa_se, "spec_best_lsa": lsa}
            rows[f"|S|={S},alpha={alpha:g}"] = row
    return decide(holds, {"oracle": SPEC_ORACLE, "bayes": SPEC_BAYES, "alpha->0": 1.0},
                  {"ceilings": rows, "one_layer_bounds (reported)": bounds},
                  "3 sqrt(se^2 + 0.0011^2) (ours and the spec's Monte Carlo SE)",
                  f"Monte Carlo over {size} prompts per case (raw states, Dir(alpha 1) kernel rows, "
                  "uniform initial state, d = 5, n = 10). The estimator averages each rule's "
                  "conditional probability of being right (oracle max_j K_sj, Bayes "
                  "max_j (alpha+N_sj)/(|S| alpha + N_s), N = transition counts of all 11 chains, "
                  "s = x_(n+1,d)), which has the accuracy as its mean. One-layer bounds (not part "
                  f"of the verdict): least squares on x (x) vech(G) and the best one-layer LSA "
                  f"(global search on the empirical moments) fitted on {bound_size} prompts, "
                  f"scored on {bound_size} fresh ones; spec values next to them.")


def _trained(ctx: CheckContext, states: int, alphas, depths, seeds: int, converged=False):
    """Accuracy per alpha and depth, mean over seeds, with an SE (the larger of the binomial SE
    of the mean and the seed-to-seed SE). ``converged``: the full profile's training (1500 steps,
    20000 held-out prompts) in both profiles, for checks that short training cannot decide."""
    from validation.lsa.experiments import depth_experiment

    long = ctx.full or converged
    steps = 1500 if long else 250
    eval_size = 20000 if long else 8000
    out = {}
    for alpha in alphas:
        runs = [depth_experiment(max(depths), steps=steps, seed=ctx.seed + 1000 * k,
                                 states=states, eval_size=eval_size, alpha=alpha, depths=depths)
                for k in range(seeds)]
        acc = np.array([r.accuracy for r in runs])
        se = np.array([r.accuracy_se for r in runs])
        binom = np.sqrt((se ** 2).sum(0)) / seeds
        spread = acc.std(0, ddof=1) / np.sqrt(seeds) if seeds > 1 else np.zeros(len(depths))
        out[alpha] = {"layers": list(depths), "accuracy": acc.mean(0).tolist(),
                      "se": np.maximum(binom, spread).tolist()}
    return out, steps


@claim("lsa.D2", paper=PAPER, reference="Sec. 4, Fig. 3 (three states); spec Part 2 §B (D2)",
       statement=r"With \(|S| = 3\) and 10 context chains of length 6, next-state accuracy is "
                 r"0.55 with one layer and 0.98 with three layers.",
       expected="refuted")
def _d2(ctx: CheckContext):
    from validation.lsa.plots import accuracy_against_depth
    from validation.shared.plots import save
    from validation.shared.style import style

    import matplotlib.pyplot as plt

    _, alphas = _grid(ctx)
    depths = [1, 2, 3] if ctx.full else [1, 3]
    seeds = 1
    trained, steps = _trained(ctx, 3, alphas, depths, seeds)
    ceil = {a: accuracy_ceilings(3, a, size=200000 if ctx.full else 20000, seed=ctx.seed + 7)
            for a in alphas}
    fits = {}
    for a in alphas:
        acc = dict(zip(trained[a]["layers"], trained[a]["accuracy"]))
        fits[f"alpha={a:g}"] = bool(abs(acc[1] - PAPER_L1) <= TOL_L1
                                    and abs(acc[3] - PAPER_L3) <= TOL_L3)
    with style("paper", columns=2):
        fig, axs = plt.subplots(1, len(alphas), figsize=(7.0, 2.8), sharey=True)
        for ax, a in zip(np.atleast_1d(axs), alphas):
            t = trained[a]
            accuracy_against_depth(t["layers"], t["accuracy"], t["se"],
                                   paper=([1, 3], [PAPER_L1, PAPER_L3]), ax=ax,
                                   ceilings={"oracle (knows K)": ceil[a].oracle,
                                             "in-context Bayes": ceil[a].bayes},
                                   label="trained LSA", title=rf"$|S| = 3$, $\alpha = {a:g}$",
                                   loc="lower right" if a == alphas[-1] else False)
        save(fig, ctx.figure_path("lsa_depth_ceilings.png"))
    measured = {f"alpha={a:g}": {**trained[a], "oracle": ceil[a].oracle,
                                 "bayes": ceil[a].bayes, "paper_fits": fits[f"alpha={a:g}"]}
                for a in alphas}
    return decide(any(fits.values()), {"L=1": PAPER_L1, "L=3": PAPER_L3}, measured,
                  {"L=1": TOL_L1, "L=3": TOL_L3},
                  f"Dense LSA trained per depth (Adam, {steps} steps, fresh prompts, {seeds} "
                  "seed(s)), |S| = 3, raw states, Dir(alpha 1) kernel rows, d = 5, n = 10. "
                  "Counterexample: at alpha = 1 no predictor can exceed the oracle ceiling "
                  f"{ceil[alphas[0]].oracle:.3f} (in-context Bayes {ceil[alphas[0]].bayes:.3f}; "
                  "spec 0.620/0.600), so L = 3 cannot reach 0.98; reaching 0.98 needs alpha of "
                  "about 0.015 or less (E[max Dir(alpha 1_3)] = 0.974 at alpha = 0.02), and at "
                  "alpha -> 0 one layer is far above 0.55 (least squares on x (x) vech(G) 0.939, "
                  "best-MSE one-layer LSA 0.879, spec §B; lsa.D1 reproduces them). No alpha "
                  "fits both of the paper's numbers.", ("lsa_depth_ceilings.png",))


@claim("lsa.D3", paper=PAPER, reference="Sec. 4, Fig. 3; spec Part 2 §B (D3)",
       statement=r"With \(|S|\) states and 10 context chains of length 6, three LSA layers "
                 r"predict the next state more accurately than one: "
                 r"\(\mathrm{acc}(L=3) > \mathrm{acc}(L=1)\).")
def _d3(ctx: CheckContext):
    states, alphas = _grid(ctx)
    if ctx.full:
        alphas = (1.0, 0.0)
    rows, holds = {}, True
    for S in states:
        trained, steps = _trained(ctx, S, alphas, [1, 3], 1, converged=True)
        for a in alphas:
            (a1, a3), (s1, s3) = trained[a]["accuracy"], trained[a]["se"]
            rise = a3 - a1
            ok = rise > 2 * np.hypot(s1, s3)
            holds &= bool(ok)
            rows[f"|S|={S},alpha={a:g}"] = {"acc_L1": a1, "acc_L3": a3, "se": [s1, s3],
                                             "rise": rise, "significant": bool(ok)}
    return decide(holds, "acc(L=3) > acc(L=1)", rows, "rise > 2 SE of the difference, every case",
                  f"Dense LSA per depth (Adam, {steps} steps, fresh prompts, small "
                  "initialisation, 20000 held-out prompts), raw states, Dir(alpha 1) kernel rows (alpha = 0: "
                  "random map), d = 5, n = 10. Both profiles train 1500 steps: at 250 steps the "
                  "three-layer model is still behind the one-layer one at alpha = 1 (0.416 -> "
                  "0.410), which says nothing about depth. At alpha = 1 the one-layer model "
                  "sits near the best one-layer LSA (spec 0.423) below the in-context Bayes "
                  "ceiling 0.600 and depth adds about one point, close to the resolution of "
                  "20000 prompts (full profile: |S| = 3 0.415 -> 0.431 significant; |S| = 4 "
                  "0.2935 -> 0.2962, not significant); at alpha = 0 it adds 0.14 (0.858 -> 0.999).")

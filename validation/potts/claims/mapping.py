"""Claims of the Potts paper (Rende, Gerace, Laio, Goldt 2024) on the model, the mapping, inverse
Potts and the factored-against-standard experiment, through all three layers: sympy proofs, exact
enumeration and solvers, torch models and training.

Every check can fail; the notes say what was compared and where the reference comes from. The
replica claims (the library's reconstruction) are in :mod:`validation.potts.claims.replica`.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from numerics.potts import population
from numerics.potts import inverse
from numerics.potts import represent
from numerics.potts import sampling
from theory import potts
from validation.potts import models
from validation.potts import training
from validation.potts import experiments
from validation.potts import plots
from validation.ledger.claims import CheckContext, claim, compare, decide
from validation.shared.plots import save

#: The registry key of the paper (validation.papers).
PAPER = "potts-rende"
#: The tag in the ``reference`` of the replica claims (part of the recorded results: kept verbatim).
RECON = "library reconstruction (spec Sec. 5)"


# ----------------------------------------------------------------------------------------------
# Section 1-2: the model and the mapping


@claim("potts.anchor", paper=PAPER, reference="spec Sec. 1 (anchor)",
       statement=r"Ising \(L = 3\), \(J_{12} = 1\), \(J_{13} = 0.5\), \(J_{23} = -0.3\), \(h = "
                 r"0\), \(\beta = 1\) has \(Z = 13.059374985\).")
def _anchor(ctx: CheckContext):
    Z = population.exact_summary(population.ising_anchor()).Z
    return compare(13.059374985, Z, 1e-9,
                   "Exact enumeration (numerics.potts.population.exact_summary) against the spec's published value.")


@claim("potts.mapping", paper=PAPER, reference="Sec. II (mapping), spec Sec. 2",
       statement=r"With \(A = \beta J\), \(V = U\), \(b = \beta h\) the factored conditional "
                 r"equals the Potts conditional for every site and configuration.")
def _mapping(ctx: CheckContext):
    residuals = potts.mapping_logit_residuals(3, 3, fields=True)
    symbolic_ok = all(r == 0 for r in residuals)
    # numeric: default model, random configurations, conditionals from joint energy differences
    model = population.default_model(20, 10, beta=1.3, seed=ctx.seed % 1000)
    rng = np.random.default_rng(ctx.seed)
    S = rng.integers(0, 10, (50, 20))
    p = model.factored()
    z = population.factored_logits(S, p.A, p.V, p.b)
    worst = 0.0
    for n in range(5):
        for i in range(20):
            E = []
            for a in range(10):
                s = S[n].copy()
                s[i] = a
                E.append(population.energies(model, s[None])[0])
            ref = -model.beta * np.array(E)
            worst = max(worst, float(np.max(np.abs((ref - ref[0]) - (z[n, i] - z[n, i, 0])))))
    return decide(symbolic_ok and worst < 1e-11, "all residuals 0; numeric log-ratio error < 1e-11",
                  {"symbolic_residuals_nonzero": sum(r != 0 for r in residuals),
                   "symbolic_residuals": len(residuals), "numeric_max_log_ratio_error": worst}, 1e-11,
                  "Symbolic proof at L = 3, C = 3 with symbolic J, U, h, beta: the log-ratios "
                  "log P(a)/P(0) from the joint Boltzmann weights equal z(a) - z(0) of factored "
                  "attention (theory.potts.mapping_logit_residuals). Numeric: default model "
                  "(L=20, C=10, beta=1.3), 100 (configuration, site) pairs, energies of the joint.")


@claim("potts.mlm_npll", paper=PAPER, reference="Sec. II, spec Sec. 2",
       statement=r"\(L_{\mathrm{MLM}}(\beta J, U, \beta h) = \mathrm{NPLL}(J, U, h)/L\), and the "
                 r"population minimiser's loss is the mean conditional entropy.")
def _mlm_npll(ctx: CheckContext):
    sym = potts.mlm_equals_npll_residual([(0, 1, 1), (1, 0, 1), (1, 1, 0)], 3, 2)
    rng = np.random.default_rng(ctx.seed)
    model = population.make_model(population.default_model(5, 3, seed=3).J, population.default_model(5, 3, seed=3).U,
                          0.3 * rng.standard_normal((5, 3)), 0.9)
    S = sampling.sample(model, 500, chains=500, burn_in=30, thin=1, seed=ctx.seed).samples
    p = model.factored()
    mlm = population.mlm_loss_and_gradient(S, np.full(500, 1 / 500), p.A, p.V, p.b, False)
    npll = population.conditional_entropy_estimate(model, S) * model.L  # NPLL from the model's conditionals
    pop = population.population_mlm(model, p.A, p.V, p.b, with_gradient=False)
    H = population.exact_summary(model).mean_conditional_entropy
    fit = represent.represent(model, "free", restarts=1, seed=ctx.seed)
    ok = sym == 0 and abs(mlm - npll / model.L) < 1e-12 and abs(pop - H) < 1e-12 and abs(fit.gap) < 1e-9
    return decide(ok, {"symbolic": 0, "loss_at_truth": H, "minimised_gap": 0.0},
                  {"symbolic": str(sym), "mlm_minus_npll_over_L": mlm - npll / model.L,
                   "loss_at_truth": pop, "minimised_gap": fit.gap}, 1e-9,
                  "Symbolic residual on a 3-sequence data set (L=3, C=2). Numeric: 500 Gibbs samples "
                  "of a 5-site, 3-colour model with fields; population loss at the truth against the "
                  "exact mean conditional entropy, and L-BFGS minimisation of the population loss "
                  "from a random start reaching it.")


@claim("potts.gradients", paper=PAPER, reference="spec Sec. 2 (gradients)",
       statement=r"\(\partial \ell/\partial A_{ij}\), \(\partial \ell/\partial V_{ab}\), "
                 r"\(\partial \ell/\partial b_i(a)\) have the closed forms of spec Sec. 2, and the "
                 r"population gradient vanishes at the truth (Fisher consistency).")
def _gradients(ctx: CheckContext):
    sym = potts.gradient_residuals((0, 1, 1), 3, 2)
    model = population.default_model(4, 3, seed=ctx.seed % 100)
    rng = np.random.default_rng(ctx.seed)
    truth = model.factored()
    A, V, b = (x + 0.2 * rng.standard_normal(x.shape) for x in (truth.A, truth.V, truth.b))
    g = population.population_mlm(model, A, V, b)
    dA, dV, db = g.dA, g.dV, g.db
    eps, worst = 1e-6, 0.0
    for grad, which in ((dA, 0), (dV, 1), (db, 2)):
        for idx in [tuple(rng.integers(0, s) for s in grad.shape) for _ in range(4)]:
            if which == 0 and idx[0] == idx[1]:
                continue
            plus, minus = [A.copy(), V.copy(), b.copy()], [A.copy(), V.copy(), b.copy()]
            plus[which][idx] += eps
            minus[which][idx] -= eps
            fd = (population.population_mlm(model, *plus, False) - population.population_mlm(model, *minus, False)) / (2 * eps)
            worst = max(worst, abs(fd - grad[idx]))
    g = population.population_mlm(model, truth.A, truth.V, truth.b)
    at_truth = max(np.abs(g.dA).max(), np.abs(g.dV).max(), np.abs(g.db).max())
    ok = all(r == 0 for r in sym) and worst < 1e-8 and at_truth < 1e-12
    return decide(ok, {"symbolic": 0, "fd_error": 0, "gradient_at_truth": 0},
                  {"symbolic_nonzero": sum(r != 0 for r in sym), "fd_error": worst,
                   "gradient_at_truth": float(at_truth)}, {"fd": 1e-8, "truth": 1e-12},
                  "sympy: diff of the one-sequence loss minus the closed forms (L=3, C=2). Numeric: "
                  "closed-form population gradient (exact enumeration) against central finite "
                  "differences at a random point, and its size at (beta J, U, beta h).")


@claim("potts.invariances", paper=PAPER, reference="spec Sec. 2 (invariances, gauge)",
       statement=r"\((cA, V/c)\), \((-A, -V)\), \(V + \mathbf{1} c^\top\) and \(b_i + "
                 r"\mathrm{const}\) leave the conditionals unchanged, \(V + c \mathbf{1}^\top\) "
                 r"does not; \(\mathrm{zs}(A \otimes V) = A \otimes PVP\), so a head's contact map "
                 r"is \(|A|\).")
def _invariances(ctx: CheckContext):
    res = potts.invariance_residuals(3, 2)
    inv_ok = all(all(r == 0 for r in getattr(res, k)) for k in ("scale", "sign", "column_shift", "bias_shift"))
    row_breaks = any(r != 0 for r in res.row_shift)
    gauge_ok = potts.gauge_identity_residual(3) == potts.sp.zeros(3, 3)
    rng = np.random.default_rng(ctx.seed)
    A = rng.standard_normal((6, 6))
    np.fill_diagonal(A, 0)
    V = rng.standard_normal((4, 4))
    F = inverse.frobenius_scores(np.einsum("ij,ab->iajb", A, V), apc=False)
    ratio = F / np.where(np.abs(A) > 0, np.abs(A), 1)
    off = ~np.eye(6, dtype=bool)
    spread = float(np.ptp(ratio[off]))
    ok = inv_ok and row_breaks and gauge_ok and spread < 1e-12
    return decide(ok, "invariances hold, row shift breaks, gauge identity, F_ij / |A_ij| constant",
                  {"invariances": inv_ok, "row_shift_changes_conditionals": row_breaks,
                   "gauge_identity": gauge_ok, "spread_of_F_over_absA": spread}, 1e-12,
                  "sympy on all configurations of L=3, C=2 (logit differences), the symbolic gauge "
                  "identity at C=3, and numeric Frobenius scores of one random head.")


@claim("potts.samplers", paper=PAPER, reference="spec Sec. 1 (samplers)",
       statement=r"Gibbs and Metropolis samplers reproduce single-site and pair marginals of exact "
                 r"enumeration within \(4\sigma\) of binomial noise.")
def _samplers(ctx: CheckContext):
    rng = np.random.default_rng(ctx.seed)
    base = population.default_model(5, 3, beta=1.0, seed=7)
    model = population.make_model(base.J, base.U, 0.3 * rng.standard_normal((5, 3)), 1.0)
    exact = population.exact_summary(model, pairs=True)
    M = 40_000 if ctx.full else 15_000
    worst = {}
    for sampler in sampling.SAMPLERS:
        out = sampling.sample(model, M, sampler=sampler, chains=M, burn_in=60, thin=1, seed=ctx.seed)
        f1, p1 = sampling.empirical_marginals(out.samples, 3), exact.marginals
        f2, p2 = sampling.empirical_pair_marginals(out.samples, 3), exact.pair_marginals
        iu = np.triu_indices(5, 1)
        z1 = np.abs(f1 - p1) / np.sqrt(p1 * (1 - p1) / M)
        z2 = np.abs(f2[iu] - p2[iu]) / np.sqrt(p2[iu] * (1 - p2[iu]) / M)
        worst[sampler] = float(max(z1.max(), z2.max()))
    return decide(max(worst.values()) < 4, "max |z| < 4", worst, 4,
                  f"{M} independent chains (one sample each, 60 sweeps) of a 5-site, 3-colour model "
                  "with fields; z-scores of all 15 single-site and 90 pair frequencies against exact "
                  "enumeration. With 105 z-scores the largest is expected near 3.")


@claim("potts.represent", paper=PAPER, reference="Sec. II conditions, spec Sec. 2",
       statement=r"A softmax-normalised single head (softmax or sink) cannot reach the population "
                 r"optimum when \(J\) has mixed signs; unnormalised (free) attention does.")
def _represent(ctx: CheckContext):
    model = population.ising_anchor()
    gaps = {att: represent.represent(model, att, restarts=4 if ctx.full else 1, seed=ctx.seed).gap
            for att in represent.ATTENTIONS}
    drawn = plots.plot_gaps(gaps)
    fig = save(drawn.figure, ctx.figure_path("potts_represent.png"))
    ok = gaps["free"] < 1e-9 and gaps["softmax"] > 1e-3 and gaps["sink"] > 1e-3
    return decide(ok, {"free": 0.0, "softmax": "> 1e-3", "sink": "> 1e-3"}, gaps, 1e-3,
                  "Exact population MLM loss of the L=3 Ising anchor (J12=1, J13=0.5, J23=-0.3) "
                  "minimised by L-BFGS over each attention parameterisation (V, b free), best of "
                  "several random starts, minus the mean conditional entropy. Rows 2 and 3 of J have "
                  "mixed signs; softmax rows are positive, so they cannot be proportional.",
                  figures=(fig.name,))


@claim("potts.masking", paper=PAPER, reference="Sec. II conditions, spec Sec. 2",
       statement=r"The masked site must be excluded from its own logits: if site \(i\) reads "
                 r"\(s_i\) the MLM minimiser copies it and the loss falls far below the "
                 r"conditional entropy.")
def _masking(ctx: CheckContext):
    model = population.ising_anchor()
    H = population.exact_summary(model).mean_conditional_entropy
    loss = training.self_reading_loss(model, max_iter=25)
    return decide(loss < 0.01 * H, f"loss << H = {H:.6f}", loss, 0.01 * H,
                  "Torch factored attention with the diagonal of A kept (x_i visible at site i), "
                  "population loss on the anchor minimised by L-BFGS (25 iterations): it copies the "
                  "input instead of learning the conditional.")


@claim("potts.value_rank", paper=PAPER, reference="spec Sec. 2 (value rank >= rank(U))",
       expected="refuted",
       statement=r"The value matrix needs rank \(\geq \mathrm{rank}(U)\) to reach the optimum.")
def _value_rank(ctx: CheckContext):
    model = population.default_model(4, 3, seed=1)
    rank = int(np.linalg.matrix_rank(model.U))
    gaps = {k: represent.represent(model, "free", restarts=3, seed=ctx.seed, embed=k).gap for k in (1, 2, 3)}
    # rank(U) - 1 suffices: U + 1 c^T with c^T U^{-1} 1 = -1 has rank C - 1 and the same conditionals
    needed = rank if gaps[rank - 1] > 1e-6 else rank - 1
    return decide(needed == rank, {"needed_rank": rank},
                  {"rank_U": rank, "gap_by_value_rank": gaps, "needed_rank": needed}, 1e-6,
                  "Counterexample: default model L=4, C=3 (rank U = 3); value through an embedding of "
                  "width k (V = W_O W_V E). k = 2 already reaches the optimum (gap ~ 0) because the "
                  "conditionals only see V up to V + 1c^T, and det(U + 1c^T) = det U (1 + c^T U^-1 1) "
                  "vanishes for a suitable c. The sharp condition is rank >= min_c rank(U + 1c^T), "
                  "generically rank(U) - 1; k = 1 fails (gap > 0).")


@claim("potts.torch_model", paper=PAPER, reference="spec Sec. 2 (factored attention in torch)",
       statement="The torch factored attention (free, softmax, sink; heads; value through an "
                 "embedding) computes the same population loss and gradient as the numerics' "
                 "closed forms.")
def _torch_model(ctx: CheckContext):
    model = population.default_model(4, 3, seed=2)
    law = population.boltzmann(model)
    S, P = law.configurations, law.probabilities
    worst = {}
    for att in represent.ATTENTIONS:
        for heads, embed in ((1, None), (2, 2)):
            tm = models.FactoredAttention(4, 3, att, heads=heads, embed=embed, init_scale=0.5, seed=ctx.seed)
            loss = models.mlm_loss_all_sites(tm, torch.as_tensor(S), torch.as_tensor(P))
            loss.backward()
            with torch.no_grad():
                A, V = tm.attention_matrix().numpy(), tm.value_matrix().numpy()
            closed = represent.multihead_loss_and_gradient(
                np.ascontiguousarray(population.one_hot(S, 3).transpose(1, 0, 2)), P, list(A), list(V),
                tm.b.detach().numpy())
            err = abs(float(loss.detach()) - closed.loss) + float(np.abs(tm.b.grad.numpy() - closed.db).max())
            worst[f"{att}/h{heads}/k{embed}"] = err
    return decide(max(worst.values()) < 1e-12, 0.0, worst, 1e-12,
                  "Torch autograd (loss and bias gradient) against numerics.potts.represent's "
                  "closed-form multi-head loss and gradient on the exact law of a 4-site, 3-colour model.")


# ----------------------------------------------------------------------------------------------
# Section 3: inverse Potts


@claim("potts.plm_oracle", paper=PAPER, reference="spec Sec. 3 (cvxpy oracle)",
       statement="The L-BFGS pseudo-likelihood solution (asymmetric and symmetric) equals the cvxpy "
                 "log-sum-exp solution of the same convex objective.")
def _plm_oracle(ctx: CheckContext):
    model = population.default_model(4, 3, seed=3)
    S = sampling.sample(model, 600, chains=600, burn_in=60, thin=1, seed=ctx.seed).samples
    out = {}
    for sym in ((False, True) if ctx.full else (True,)):
        a = inverse.fit_plm(S, 3, symmetric=sym, lam_h=1e-2, lam_J=1e-2)
        b = inverse.plm_cvxpy(S, 3, symmetric=sym, lam_h=1e-2, lam_J=1e-2)
        out["symmetric" if sym else "asymmetric"] = {"objective_diff": abs(a.objective - b.objective),
                                                     "max_J_diff": float(np.abs(a.J - b.J).max())}
    ok = all(v["objective_diff"] < 1e-7 and v["max_J_diff"] < 1e-3 for v in out.values())
    return decide(ok, {"objective_diff": "< 1e-7", "max_J_diff": "< 1e-3"}, out, 1e-7,
                  "600 Gibbs samples of a 4-site, 3-colour model (quick: symmetric PLM only; full: "
                  "both); lam_h = lam_J = 0.01; cvxpy with "
                  "CLARABEL (interior point) as the independent solver; couplings compared in the "
                  "zero-sum gauge (cvxpy's own accuracy is ~1e-5).")


@claim("potts.plm_recovery", paper=PAPER, reference="spec Sec. 3 (PLM, APC contacts)",
       statement="Pseudo-likelihood with general couplings recovers the couplings and the strongest "
                 "contacts of the default model (APC Frobenius scores).")
def _plm_recovery(ctx: CheckContext):
    L, C, M = (20, 10, 10_000) if ctx.full else (8, 4, 2000)
    model = population.default_model(L, C, seed=ctx.seed % 100)
    S = sampling.sample(model, M, chains=min(M, 2000), burn_in=200, thin=10, seed=ctx.seed).samples
    t0 = time.process_time()
    fit = inverse.fit_plm(S, C, lam_h=1e-3, lam_J=1e-3)
    seconds = time.process_time() - t0
    err = inverse.coupling_error(fit.J, inverse.potts_couplings(model))
    scores = inverse.frobenius_scores(fit.J)
    iu = np.triu_indices(L, 1)
    true = np.abs(model.J)[iu]
    top = np.argsort(-scores[iu])[:L]
    precision = float(np.mean(true[top] >= np.quantile(true, 0.5)))
    ok = err < 0.8 and precision >= 0.8
    return decide(ok, {"coupling_error": "< 0.8", "top_L_precision": ">= 0.8"},
                  {"coupling_error": err, "top_L_precision": precision,
                   "L": L, "C": C, "M": M}, None,
                  "Asymmetric PLM (lam = 1e-3, symmetrised, zero-sum gauge) on Gibbs samples of the "
                  "default model; precision = fraction of the L top APC scores whose |J_ij| is above "
                  "the median. The general family has L^2 C^2/2 parameters, so the error is far "
                  "larger than the factored fit's at the same M (potts.coupling_decay). The CPU time "
                  "of the fit (target < 30 s in the full profile) is in timings and does not decide "
                  "the verdict; benchmarks/potts/bench_sampling_fit.py checks it.",
                  timings={"fit_cpu_seconds": seconds, **({"target_seconds": 30} if ctx.full else {})})


@claim("potts.coupling_decay", paper=PAPER, reference="spec Sec. 3 (M^{-1/2})",
       statement=r"The factored coupling error \(\|\mathrm{zs}(A \otimes V) - \mathrm{zs}(\beta J "
                 r"\otimes U)\|_F / \|\mathrm{zs}(\beta J \otimes U)\|_F\) falls like "
                 r"\(M^{-1/2}\).")
def _coupling_decay(ctx: CheckContext):
    L, C = (10, 5) if ctx.full else (6, 3)
    sizes = [500, 1000, 2000, 4000, 8000] if ctx.full else [400, 800, 1600, 3200]
    model = population.default_model(L, C, seed=ctx.seed % 100)
    out = experiments.coupling_decay(model, sizes, seed=ctx.seed)
    drawn = plots.plot_decay(out.M, out.error, out.slope)
    fig = save(drawn.figure, ctx.figure_path("potts_decay.png"))
    fit = out.fits[-1]
    P = population.centering(C)
    off = ~np.eye(L, dtype=bool)
    true = np.einsum("ij,ab->ijab", model.beta * model.J, P @ model.U @ P)[off]
    learned = np.einsum("ij,ab->ijab", fit.A, P @ fit.V @ P)[off]
    drawn = plots.plot_couplings(true, learned, label=f"factored fit, $M = {sizes[-1]}$")
    fig2 = save(drawn.figure, ctx.figure_path("potts_couplings.png"))
    return compare(-0.5, out.slope, 0.12,
                   f"Factored fit (L-BFGS, lam = 1e-6) on nested Gibbs sample sets of a default model "
                   f"L={L}, C={C}; least-squares log-log slope of the error against M = {sizes}; "
                   f"errors {np.round(out.error, 4).tolist()}. Tolerance 0.12 for sampling noise "
                   "(one data set).", figures=(fig.name, fig2.name))


# ----------------------------------------------------------------------------------------------
# Section 4


@claim("potts.section4", paper=PAPER, reference="Fig. 2 (factored vs standard), spec Sec. 4",
       profiles=("full",),
       statement="One factored layer approaches the conditional-entropy floor with far fewer samples "
                 "than one standard transformer layer.")
def _section4(ctx: CheckContext):
    # the spec Sec. 9 full-profile comparison (shared, computed once per process) decides this
    # statement by its checks (a) and (b) and the "undertrained" guard; the figure is Sec. 4's
    from validation.potts.claims import compare as compare_claims

    res = compare_claims.full_comparison()
    curves = experiments.Section4Curves(
        res.M, res.floor, res.floor, [res.floor + d for d in res.excess["factored"]],
        {int(k.rsplit("_", 1)[1]): [res.floor + d for d in v if d is not None]
         for k, v in res.excess.items() if k != "factored"}, sum(res.seconds.values()))
    drawn = plots.plot_section4(curves)
    fig = save(drawn.figure, ctx.figure_path("potts_section4.png"))
    ok = bool(res.checks["factored_best"] and res.checks["efficiency_10x"] and not res.undertrained)
    return decide(ok, "factored excess below every trained standard excess by > 3 SE, and D_fact(M) "
                      "<= D_1(10 M); no standard model undertrained",
                  {"floor": res.floor, "M": res.M, "excess_over_floor": res.excess,
                   "checks": {k: res.checks[k] for k in ("factored_best", "efficiency_10x")},
                   "undertrained": res.undertrained},
                  None,
                  "Shares the run of potts.factored_vs_standard (spec Sec. 9, full profile: "
                  "default_model(20, 10, beta 1, seed 0), M in {10^2, ..., 10^5}, 10^4 test "
                  "sequences, one shared masked site each; floor S = -log P(s_i | rest) of the true "
                  "model on the same pairs). Decided by Sec. 9's checks (a) and (b) and its "
                  "undertrained guard; depth (c) is decided by potts.factored_vs_standard. Excess "
                  f"(+-SE): {compare_claims.excess_table(res)}.",
                  figures=(fig.name,), timings=dict(res.seconds))

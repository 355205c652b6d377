"""Claims ``bayesnet.mixture`` and ``bayesnet.construct_mask`` (spec Part 2, Sec. 8): a mixture of
random DAGs, the Bayes model average over parent sets, and the structure-agnostic construction.

Cao et al. 2025 (arXiv 2501.02547); their code trains one model on a new random DAG per batch with
no structure in the prompt. The baselines (oracle MLE, floor, model average, naive) are
:func:`numerics.bayesnet.mixture.baseline_curves`; the construction reading the parent mask from the
query token is :class:`numerics.bayesnet.construction.MaskConstruction`.
"""

from __future__ import annotations

import time

import numpy as np

from numerics.bayesnet import bayes, construction, mixture, mle
from numerics.shared.threads import limit_threads
from validation.bayesnet.claims.construction import PAPER, ROUNDOFF
from validation.ledger.claims import claim, decide

#: Spec Sec. 8 [derived; M = 5, p = 0.5, 4000 episodes], TV to the truth at N = 5, 20, 50, 200.
REFERENCE_N = (5, 20, 50, 200)
REFERENCE = {"tv_mle": (.212, .117, .074, .036), "tv_floor": (.140, .092, .064, .034),
             "tv_bma": (.150, .103, .073, .038), "tv_naive": (.238, .157, .106, .052)}
LABELS = {"tv_mle": "oracle MLE", "tv_floor": "floor (posterior median)",
          "tv_bma": "Bayes model average", "tv_naive": "naive (all predecessors)"}


def _limit_checks(seed: int) -> dict:
    """Largest |BMA - naive posterior mean| at p = 1 and |BMA - root posterior mean| at p = 0."""
    ep = mixture.sample_episodes(5, 0.5, 40, 400, seed)
    everything = np.tril(np.ones((5, 5), dtype=bool), k=-1)
    nothing = np.zeros((5, 5), dtype=bool)
    tables = bayes.posterior_tables(40)
    out = {"p1_vs_naive_mean": 0.0, "p0_vs_root_mean": 0.0}
    for m0 in range(5):
        for key, p, parents in (("p1_vs_naive_mean", 1.0, everything), ("p0_vs_root_mean", 0.0, nothing)):
            k, n = mixture.parent_counts(ep.context, ep.query, m0, parents)
            gap = np.abs(mixture.bma_predict(ep.context, ep.query, m0, p, tables) - bayes.truncated_beta_mean(k, n))
            out[key] = max(out[key], float(gap.max()))
    return out


@claim("bayesnet.mixture", paper=PAPER, reference="spec Part 2 Sec. 8 (random DAGs, Bayes model average)",
       statement=r"On random DAGs \(R(5, 0.5)\) with CPT entries \(U(0.1, 0.9)\), the exact Bayes "
                 r"model average over the target's parent sets equals the naive posterior mean at "
                 r"\(p = 1\) and the root's at \(p = 0\) (\(10^{-12}\)), and the in-context baselines' "
                 r"TV to the truth at \(N = 5, 20, 50, 200\) (oracle MLE, floor, model average, naive) "
                 r"reproduce the reference values within 3 SE; the model average beats the oracle MLE "
                 r"for small \(N\). Full: a transformer trained on the mixture beats naive at "
                 r"\(N = 50, 100\) and stays above the model average.")
def _mixture(ctx):
    from validation.bayesnet.plots import plot_estimator_curves
    from validation.shared.plots import save

    start = time.perf_counter()
    with limit_threads(1):
        limits = _limit_checks(ctx.seed)
        curves = mixture.baseline_curves(REFERENCE_N, 4000, ctx.seed, M=5, p=0.5)
    misses, z_scores = [], {}
    for key, ref in REFERENCE.items():
        ours = getattr(curves, key)
        for n, value in zip(REFERENCE_N, ref):
            # both are 4000-episode means (SE of the difference sqrt(2) SE) and the spec rounds to 1e-3
            tol = 3 * np.sqrt(2) * curves.se[key][n] + 5e-4
            z_scores[f"{key}@{n}"] = round((ours[n] - value) / curves.se[key][n], 2)
            if abs(ours[n] - value) > tol:
                misses.append(f"{key}@{n}")
    bma_beats = curves.tv_bma[5] < curves.tv_mle[5] and curves.tv_bma[20] < curves.tv_mle[20]
    holds = (limits["p1_vs_naive_mean"] <= 1e-12 and limits["p0_vs_root_mean"] <= 1e-12
             and not misses and bma_beats)
    trained = None
    if ctx.full:
        trained = _trained_mixture(ctx)
        holds = holds and trained["holds"]
    name = "bayesnet_mixture_baselines.png"
    save(plot_estimator_curves({LABELS[k]: getattr(curves, k) for k in REFERENCE},
                               {LABELS[k]: curves.se[k] for k in REFERENCE},
                               title=r"random DAGs $R(5, 0.5)$").figure,
         ctx.figure_path(name))
    measured = {**limits, **{k: getattr(curves, k) for k in REFERENCE},
                "tv_bayes_mean": curves.tv_bayes_mean, "acc_exp": curves.acc_exp,
                "se": {k: curves.se[k] for k in REFERENCE}, "z_vs_reference": z_scores,
                "outside_3se": misses, "trained": trained, "seconds": round(time.perf_counter() - start, 2)}
    note = ("Checks on 400 episodes (N = 40), every target. Curves: 4000 fresh episodes per N, node "
            "mean over the 5 targets, MLE/naive 1/2 when no row matches, floor = the posterior "
            "median's expected TV given (k, n); tolerance 3 sqrt(2) SE + 5e-4 (two independent "
            "4000-episode means, reference rounded to 1e-3).")
    if ctx.full:
        note += (" Full: one model (2 layers, 2 heads, width 32, 1500 steps, N log-uniform in 1..100) "
                 "trained on a new R(5, 0.5) DAG per step with MLE labels; held-out: "
                 f"{MIXTURE_EVAL_EPISODES} episodes per N over {'8'} new DAGs; zero-shot on chain5, "
                 "tree5, general5; TF - naive paired per episode; TF vs BMA unpaired (BMA from "
                 "2000 fresh R(5, 0.5) episodes), SEs combined.")
    return decide(holds, {"limits": "<= 1e-12", "reference": REFERENCE, "bma_beats_mle_at": [5, 20]},
                  measured, 1e-12, note, figures=(name,))


MIXTURE_EVAL_N = (50, 100)
MIXTURE_EVAL_EPISODES = 256


def _trained_mixture(ctx) -> dict:
    """Full profile: train on R(5, 0.5) (B1's ``train_model(..., mixture_p=)``), evaluate on
    held-out DAGs and zero-shot on the 5-node families against naive and the model average."""
    from numerics.bayesnet import networks
    from validation.bayesnet.training import evaluate_rows, train_model

    base = networks.named_family("chain5")          # five binary variables; the DAG is drawn per step
    trained = train_model(base, layers=2, heads=2, width=32, steps=1500, n_max=100, seed=ctx.seed,
                          mixture_p=0.5).model
    trained.eval()
    with limit_threads(1):
        bma = mixture.baseline_curves(MIXTURE_EVAL_N, 2000, ctx.seed + 7, M=5, p=0.5)
    out, failures = {}, []
    for name in ("held_out", "chain5", "tree5", "general5"):
        rows = evaluate_rows(trained, base if name == "held_out" else networks.named_family(name),
                             lengths=MIXTURE_EVAL_N, episodes=MIXTURE_EVAL_EPISODES, seed=ctx.seed + 99,
                             mixture_p=0.5 if name == "held_out" else None)
        out[name] = {}
        for n, r in rows.items():
            tf = r["tv_vs_true"].mean(axis=0)
            diff = tf - r["tv_naive_vs_true"].mean(axis=0)
            se_tf = float(tf.std(ddof=1) / np.sqrt(tf.size))
            entry = {"tv_tf": float(tf.mean()), "tv_naive": float(r["tv_naive_vs_true"].mean()),
                     "tv_mle": float(r["tv_mle_vs_true"].mean()), "tf_minus_naive": float(diff.mean()),
                     "se_diff": float(diff.std(ddof=1) / np.sqrt(diff.size))}
            entry["beats_naive"] = entry["tf_minus_naive"] < -3 * entry["se_diff"]
            if not entry["beats_naive"]:
                failures.append(f"{name}@{n}: TF {entry['tv_tf']:.4f} not below naive {entry['tv_naive']:.4f} - 3 SE")
            if name == "held_out":
                entry["tv_bma"] = bma.tv_bma[n]
                entry["above_bma"] = entry["tv_tf"] >= bma.tv_bma[n] - 3 * float(np.hypot(se_tf, bma.se["tv_bma"][n]))
                if not entry["above_bma"]:
                    failures.append(f"{name}@{n}: TF {entry['tv_tf']:.4f} below the model average")
            out[name][n] = entry
    return {"holds": not failures, "failures": failures, "curves": out}


@claim("bayesnet.construct_mask", paper=PAPER, reference="spec Part 2 Sec. 8 (structure-agnostic construction)",
       statement=r"With \(1[m \in P(m_0)] \otimes 1_d\) in the query token, read by layer 1, one set of "
                 r"Sec. 3 weights (fixed by \(M, d, D, \beta\)) computes the in-context MLE within the "
                 r"Sec. 3 bound on every DAG of in-degree \(\le D\): 100 random DAGs.")
def _construct_mask(ctx):
    start = time.perf_counter()
    with limit_threads(1):
        results = _mask_errors(np.random.default_rng(ctx.seed))
    holds = results[8.0]["max_tv_minus_bound"] <= ROUNDOFF and results[60.0]["max_tv_vs_mle"] <= 1e-12
    return decide(holds, {"tv_minus_bound": f"<= {ROUNDOFF}", "tv_at_beta_60": "<= 1e-12"},
                  {f"beta={b}": r for b, r in results.items()} | {"seconds": round(time.perf_counter() - start, 2)},
                  ROUNDOFF,
                  f"One MaskConstruction per beta (M = {MASK_M}, d = 2, D = {MASK_M - 1}, C = {MASK_M}); 100 DAGs "
                  f"of R(5, 0.5) with U(0.1,0.9) CPTs, N = {MASK_N}, {MASK_QUERIES} queries, every target; "
                  "bound = ((N-|I*|) e^-beta + e^-beta(C + k* - |P|))/|I*| (Sec. 3, back-off rows I*).")


MASK_M, MASK_N, MASK_QUERIES = 5, 50, 16


def _mask_errors(rng) -> dict:
    """Largest TV to the back-off MLE and largest TV - bound of the mask construction, per beta."""
    M, d, N, queries = MASK_M, 2, MASK_N, MASK_QUERIES
    results = {}
    for beta in (8.0, 60.0):
        model = construction.MaskConstruction(M, d, M - 1, beta)
        worst_excess, worst_tv, prompts = -np.inf, 0.0, 0
        for _ in range(100):
            ep = mixture.sample_episodes(M, 0.5, N + queries, 1, rng)
            structure = mixture.episode_structure(ep.parents[0])
            context = np.broadcast_to(ep.context[0, :N], (queries, N, M))
            qs = ep.context[0, N:]
            for m0 in range(M):
                p_tf = model.predict(structure, context, qs, m0)
                p_hat = mle.in_context_mle(structure, context, qs, m0, on_empty="backoff").probs
                tv = mle.tv(p_tf, p_hat)
                bound = construction.prompt_bound(structure, context, qs, m0, beta, C=model.C)
                worst_excess = max(worst_excess, float((tv - bound).max()))
                worst_tv = max(worst_tv, float(tv.max()))
                prompts += queries
        results[beta] = {"max_tv_vs_mle": worst_tv, "max_tv_minus_bound": worst_excess, "prompts": prompts}
    return results

"""Claims: Fig. 5: accuracy against d, and the CPU stand-ins of Figs. 6-8 (Part 2 §C, §D).

Ding et al. 2025, B.1 (Fig. 5): binary chains (p = 1/2, n = 100), per d one batch of 1000 prompts,
a one-layer LSA (Adam, 1000 iterations, lr 0.01, MSE) against least squares (LS) on
:math:`x\\otimes\\mathrm{vech}(G)` fitted on the same prompts
(:func:`validation.lsa.experiments.dimension_experiment`). E1: the paper's in-sample picture (LS
above LSA, gap growing); E2: held out the order flips for d >= 8 (the gap is LS over-fitting its
d(d+1)(d+2)/2 features); E3: the trained LSA is within 0.03 of the population optimum X*.
B.2 (Fig. 6) CPU stand-in: in-context baselines against the Bayes predictor
(:func:`numerics.lsa.baselines.baselines_against_n`). The optional softmax transformer and the
attention-block correlation (Fig. 7) are the full-profile claim ``lsa.softmax_transformer``
(:mod:`validation.lsa.claims.softmax`).
"""

from __future__ import annotations

import numpy as np

from validation.ledger.claims import CheckContext, claim, decide
from validation.lsa.claims.optimum import PAPER

#: Spec Part 2 §C values (numpy, 3 seeds) at d = 1/3/5/8/10.
SPEC_D = (1, 3, 5, 8, 10)
SPEC = {"acc_ls_in": (.625, .732, .772, .877, .968), "acc_lsa_in": (.625, .721, .728, .756, .764),
        "acc_ls_out": (.622, .710, .715, .679, .632), "acc_lsa_out": (.622, .703, .722, .726, .728),
        "acc_pop": (.621, .716, .733, .743, None)}


def _ds(ctx: CheckContext, most: int = 10):
    return [d for d in (range(1, 11) if ctx.full else (1, 4, 8)) if d <= most]


def _spec_rows(ds):
    return {k: {d: v[SPEC_D.index(d)] for d in ds if d in SPEC_D and v[SPEC_D.index(d)] is not None}
            for k, v in SPEC.items()}


def _rows(r, keys):
    rows = {}
    for j, d in enumerate(r.d):
        rows[f"d={d}"] = {k: getattr(r, k)[j] for k in keys if getattr(r, k) is not None}
        for k in keys:
            sd = getattr(r, f"{k}_sd")
            if sd is not None:
                rows[f"d={d}"][f"{k}_sd"] = sd[j]
    return rows


@claim("lsa.E1", paper=PAPER, reference="B.1, Fig. 5; spec Part 2 §C (E1)",
       statement=r"On the training prompts (binary, \(p = 1/2\), \(n = 100\), 1000 prompts), "
                 r"least squares on \(x\otimes\mathrm{vech}(G)\) is at least as accurate as the "
                 r"trained one-layer LSA at every \(d\), and the gap grows by at least 0.1 from "
                 r"\(d = 1\) to \(d = 10\).")
def _e1(ctx: CheckContext):
    from validation.lsa.experiments import dimension_experiment

    ds = _ds(ctx)
    r = dimension_experiment(ds, seed=ctx.seed, seeds=3 if ctx.full else 1, held_out=False)
    gap = np.array(r.acc_ls_in) - np.array(r.acc_lsa_in)
    above = bool(np.all(gap >= 0))
    growth = float(gap[-1] - gap[0])
    holds = above and growth >= 0.1
    return decide(holds, {"LS >= LSA": True, "gap growth": ">= 0.1", "spec": _spec_rows(ds)},
                  {"rows": _rows(r, ("acc_ls_in", "acc_lsa_in")), "gap": gap.tolist(),
                   "growth": growth, "from_to": [ds[0], ds[-1]]},
                  "gap >= 0 at every d; growth >= 0.1",
                  f"In-sample accuracy, d in {ds}, {r.seeds} seed(s); one batch of 1000 prompts "
                  "per d, LS minimum-norm, LSA sparse (b, A), init N(0, 0.1^2), full-batch Adam "
                  "1000 iterations, lr 0.01. "
                  + ("" if ctx.full else "The quick profile stops at d = 8: it decides the growth "
                     "from d = 1 to d = 8 (spec: 0.121 at d = 8, 0.204 at d = 10), a weaker "
                     "reach than the statement's d = 10, which the full profile checks."))


@claim("lsa.E2", paper=PAPER, reference="B.1, Fig. 5; spec Part 2 §C (E2)",
       statement=r"The growing gap of Fig. 5 is over-fitting: on held-out prompts the trained "
                 r"one-layer LSA is more accurate than least squares on "
                 r"\(x\otimes\mathrm{vech}(G)\) for \(d \ge 8\).")
def _e2(ctx: CheckContext):
    from validation.lsa.experiments import dimension_experiment
    from validation.lsa.plots import accuracy_against_dimension
    from validation.shared.plots import save

    ds = _ds(ctx)
    eval_size = 20000 if ctx.full else 10000
    r = dimension_experiment(ds, seed=ctx.seed, seeds=3 if ctx.full else 1, eval_size=eval_size,
                             population=False)
    rows, holds = {}, True
    for j, d in enumerate(ds):
        if d < 8:
            continue
        a, b = r.acc_lsa_out[j], r.acc_ls_out[j]
        se = np.sqrt((a * (1 - a) + b * (1 - b)) / (eval_size * r.seeds))
        ok = a - b > 2 * se
        holds &= bool(ok)
        rows[f"d={d}"] = {"lsa_out": a, "ls_out": b, "difference": a - b, "se": float(se),
                          "lsa_above": bool(ok)}
    curves = {k: getattr(r, k) for k in ("acc_ls_in", "acc_ls_out", "acc_lsa_in", "acc_lsa_out")}
    sds = {k: getattr(r, f"{k}_sd") for k in curves}
    out = accuracy_against_dimension(r.d, curves, sds, loc="lower left")
    save(out.figure, ctx.figure_path("lsa_dimension.png"))
    return decide(holds, {"LSA > LS held out, d >= 8": True, "spec": {"d=8": 0.047, "d=10": 0.096}},
                  {"d>=8": rows, "all": _rows(r, tuple(curves))},
                  "difference > 2 SE (binomial, held-out prompts)",
                  f"Held-out accuracy on {eval_size} prompts per d, {r.seeds} seed(s), d in {ds}. "
                  "LS fits d(d+1)(d+2)/2 features (360 at d = 8, 660 at d = 10) to 1000 prompts: "
                  "in-sample it wins (lsa.E1), held out it loses.", ("lsa_dimension.png",))


@claim("lsa.E3", paper=PAPER, reference="B.1, Fig. 5; spec Part 2 §C (E3)",
       statement=r"The trained one-layer LSA of Fig. 5 is within 0.03 accuracy of the "
                 r"population optimum \(X^* = H^{-1}h\) on held-out prompts "
                 r"(\(\mathrm{acc}(X^*) - \mathrm{acc}(\mathrm{LSA}) \le 0.03\), \(d \le 8\)).")
def _e3(ctx: CheckContext):
    from validation.lsa.experiments import dimension_experiment

    ds = _ds(ctx, most=8)
    eval_size = 20000 if ctx.full else 10000
    r = dimension_experiment(ds, seed=ctx.seed, seeds=3 if ctx.full else 1, eval_size=eval_size)
    diff = np.array(r.acc_pop) - np.array(r.acc_lsa_out)
    holds = bool(np.all(diff <= 0.03))
    return decide(holds, {"acc(X*) - acc(LSA) <= 0.03": True, "spec": _spec_rows(ds)},
                  {"rows": _rows(r, ("acc_pop", "acc_lsa_out", "acc_ls_out")),
                   "difference": diff.tolist()}, 0.03,
                  f"X* by Gauss-Legendre quadrature (exact up to rounding), accuracy on the same "
                  f"{eval_size} held-out prompts as the trained LSA, d in {ds}, {r.seeds} seed(s).")


@claim("lsa.baselines", paper=PAPER, reference="B.2, Fig. 6 (CPU stand-in); spec Part 2 §D",
       statement=r"On the binary random-kernel task (chains of length 6), the in-context Bayes "
                 r"predictor is at least as accurate as logistic and linear regression, 3-NN and "
                 r"a linear SVM fitted on the context, at every number of context chains "
                 r"\(n = 1..100\).")
def _baselines(ctx: CheckContext):
    from numerics.lsa.baselines import baselines_against_n
    from validation.lsa.plots import accuracy_against_context
    from validation.shared.plots import save

    ns = list(range(1, 101)) if ctx.full else [1, 2, 3, 5, 10, 20, 30, 50, 75, 100]
    prompts = 2000 if ctx.full else 800
    r = baselines_against_n(ns, d=5, prompts=prompts, seed=ctx.seed)
    gap = r.accuracy[-1] - r.accuracy[:-1]
    worst = gap / np.where(r.gap_se[:-1] > 0, r.gap_se[:-1], np.inf)
    holds = bool(np.all(gap >= -3 * r.gap_se[:-1]))
    out = accuracy_against_context(r.ns, r.methods, r.accuracy, r.se, loc="lower right")
    save(out.figure, ctx.figure_path("lsa_baselines.png"))
    table = {m: dict(zip(map(str, r.ns), np.round(r.accuracy[k], 4).tolist()))
             for k, m in enumerate(r.methods)}
    return decide(holds, "acc(Bayes) >= acc(method) - 3 SE (paired), every n and method",
                  {"accuracy": table, "min_gap": float(gap.min()),
                   "min_gap_in_se": float(worst.min())}, "3 paired SE",
                  f"{prompts} prompts per n, binary Dir(1, 1) kernel rows (= p01, p10 ~ U(0,1)), "
                  "uniform initial state, d = 5; each baseline fitted on the prompt's n pairs "
                  "(numpy: least squares, logistic regression C = 1, 3-NN, squared-hinge linear "
                  "SVM C = 1; checked against scikit-learn in the tests); Bayes = argmax_j 1 + N_sj "
                  "over all transitions of the prompt. GPT-2 models (Fig. 6) are out of scope "
                  "(GPU); the optional softmax transformer and the attention-block correlation of "
                  "Fig. 7 are the full-profile claim lsa.softmax_transformer.",
                  ("lsa_baselines.png",))

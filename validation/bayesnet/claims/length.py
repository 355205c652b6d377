"""Claim ``bayesnet.length_generalisation`` (spec Part 2, Sec. 9): a trained transformer tested at
context lengths other than the training ones (Cao et al. 2025, arXiv 2501.02547; ICLR reviews).

The :class:`~validation.bayesnet.training.SetTransformer` has no positional encoding (the context
is a set): nothing caps the context length, so a model trained on ``N <= n_max`` runs at any N.
The quick claim reuses the chain5 model of :mod:`~validation.bayesnet.claims.families`.
"""

from __future__ import annotations

import time

import numpy as np

from numerics.bayesnet import networks
from validation.bayesnet.claims.construction import PAPER
from validation.bayesnet.claims.families import family_model
from validation.bayesnet.claims.trained import shared_seed
from validation.ledger.claims import claim, decide

#: Test lengths of the quick claim (the chain5 model is trained on N <= 100).
QUICK_LENGTHS = (100, 200, 400)
#: Fixed training lengths and test lengths of the full claim (general5).
FULL_TRAIN = (20, 200)
FULL_TEST = (5, 10, 20, 50, 100, 200, 400)
FULL_CHECKED = (20, 50, 100)


def _mean_se(values: np.ndarray) -> tuple[float, float]:
    """Mean and standard error over episodes of the node-mean TVs ``(M, episodes)``."""
    per_episode = values.mean(axis=0)
    return float(per_episode.mean()), float(per_episode.std(ddof=1) / np.sqrt(len(per_episode)))


@claim("bayesnet.length_generalisation", paper=PAPER, reference="Sec. 5; ICLR reviews; spec Part 2 Sec. 9",
       statement=r"A model trained on \(N \le 100\) (chain5) generalises to longer contexts: at "
                 r"\(N = 400\), \(\mathrm{TV}(p_{TF}, \hat p) \le 0.1\) and \(\mathrm{TV}(p_{TF}, p)\) is "
                 r"below its value at \(N = 100\) by more than 3 SE. Full: trained at a fixed "
                 r"\(N_{train} = 200\) (general5), within 0.03 of the MLE curve at \(N = 20, 50, 100\).")
def _length(ctx):
    from validation.bayesnet.training import evaluate_rows

    start = time.perf_counter()
    seed = shared_seed(ctx, "bayesnet.length_generalisation") + 199
    if not ctx.full:
        structure = networks.named_family("chain5")
        model = family_model(ctx, "chain5", claim_id="bayesnet.length_generalisation")
        rows = evaluate_rows(model, structure, lengths=QUICK_LENGTHS, episodes=256, seed=seed)
        measured = {}
        for n in QUICK_LENGTHS:
            tv, se = _mean_se(rows[n]["tv_vs_true"])
            measured[n] = {"tv_vs_mle": float(rows[n]["tv_vs_mle"].mean()), "tv_vs_true": tv,
                           "tv_vs_true_se": se, "tv_mle_vs_true": float(rows[n]["tv_mle_vs_true"].mean())}
        drop = measured[100]["tv_vs_true"] - measured[400]["tv_vs_true"]
        se = float(np.hypot(measured[100]["tv_vs_true_se"], measured[400]["tv_vs_true_se"]))
        holds = measured[400]["tv_vs_mle"] <= 0.1 and drop > 3 * se
        return decide(holds, {"tv_vs_mle_N400": "<= 0.1", "tv_vs_true_N100_minus_N400": "> 3 SE"},
                      {"by_N": measured, "drop_100_to_400": drop, "drop_se": se},
                      {"tv_vs_mle": 0.1, "drop": 3 * se},
                      "The chain5 model of bayesnet.families (1 layer, 1 head, 400 steps, N log-uniform "
                      "in 1..100; no positional encoding, so N > n_max runs unchanged); 256 held-out "
                      "episodes per N, every target; SE over episodes of the node-mean TV (the two "
                      "lengths use independent episodes, so the SE of the drop is their hypot). "
                      f"{time.perf_counter() - start:.1f} s (training shared with bayesnet.families).")
    from validation.bayesnet.training import shared_model

    structure = networks.named_family("general5")
    measured, gaps = {}, {}
    for n_train in FULL_TRAIN:
        model = shared_model("general5", layers=1, heads=1, steps=1500, seed=shared_seed(ctx, "bayesnet.length_generalisation"),
                             n_max=n_train, n_train=n_train, folder=ctx.figures_dir.parent / "cache")
        rows = evaluate_rows(model, structure, lengths=FULL_TEST, episodes=256, seed=seed)
        measured[n_train] = {n: {"tv_vs_true": float(r["tv_vs_true"].mean()),
                                 "tv_mle_vs_true": float(r["tv_mle_vs_true"].mean()),
                                 "tv_vs_mle": float(r["tv_vs_mle"].mean())} for n, r in rows.items()}
        gaps[n_train] = max(abs(measured[n_train][n]["tv_vs_true"] - measured[n_train][n]["tv_mle_vs_true"])
                            for n in FULL_CHECKED)
    holds = gaps[200] <= 0.03
    return decide(holds, {"gap_N_train_200": "<= 0.03"}, {"max_gap": gaps, "by_N_train": measured}, 0.03,
                  "general5, 1 layer, 1 head, 1500 steps at a fixed N_train (20 or 200); gap = max over "
                  f"N_test in {FULL_CHECKED} of |TV(TF,true) - TV(MLE,true)|; the N_train = 20 model is "
                  f"reported only. 256 held-out episodes per N. {time.perf_counter() - start:.1f} s.")

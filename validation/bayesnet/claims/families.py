"""Claim ``bayesnet.families`` (spec Part 2, Sec. 7): trained transformers on the chain, tree and
general graphs of 5, 7 and 10 nodes track the in-context MLE (Cao et al. 2025, arXiv 2501.02547).

The graphs are :data:`numerics.bayesnet.networks.NAMED_FAMILIES` (the [code]'s parent lists).
Models are shared with :mod:`~validation.bayesnet.claims.length` and
:mod:`~validation.bayesnet.claims.probe` through :func:`family_model` (same settings, same run seed:
one training per run, cached in the run's ``cache/`` folder).
"""

from __future__ import annotations

import time

import numpy as np

from numerics.bayesnet import networks
from validation.bayesnet.claims.construction import PAPER
from validation.bayesnet.claims.trained import shared_seed
from validation.ledger.claims import claim, decide

#: Families of the quick and the full claim.
QUICK_FAMILIES = ("chain5", "tree5", "general5")
FULL_FAMILIES = ("chain7", "tree7", "general7", "chain10", "tree10", "general10")
#: Context lengths of the mean TV to the MLE (the training range, n_max = 100) and of the gap.
MEAN_LENGTHS = (1, 2, 5, 10, 20, 50, 100)
GAP_LENGTHS = (10, 20, 50, 100)


def family_settings(family: str, full: bool) -> dict:
    """Sec. 7 settings: 1 layer, 1 head, width 32, n_max 100; 400 steps (quick) or 1500 (full);
    2 layers and 2 heads on the 10-node graphs."""
    big = networks.named_family(family).M >= 10
    return {"layers": 2 if big else 1, "heads": 2 if big else 1, "width": 32, "n_max": 100,
            "steps": 1500 if full else 400}


def family_model(ctx, family: str, full: bool | None = None, claim_id: str = "bayesnet.families"):
    """The run's model of ``family`` (:func:`validation.bayesnet.training.shared_model`: trained
    once per run and settings, weights cached in the run's ``cache/`` folder).

    ``claim_id`` must be the id of the calling claim: the run's seed is recovered from the
    claim's seed with it (:func:`~validation.bayesnet.claims.trained.shared_seed`), so that every
    claim of a run gets the same model; another id gives another seed, hence another model."""
    from validation.bayesnet.training import shared_model

    full = ctx.full if full is None else full
    return shared_model(family, seed=shared_seed(ctx, claim_id),
                        folder=ctx.figures_dir.parent / "cache", **family_settings(family, full))


def family_rows(ctx, family: str, model, lengths, episodes: int, claim_id: str = "bayesnet.families") -> dict:
    """Per-episode rows (:func:`validation.bayesnet.training.evaluate_rows`, with the floor and
    accuracies) on held-out CPTs of ``family`` (``claim_id``: as :func:`family_model`)."""
    from validation.bayesnet.training import evaluate_rows

    return evaluate_rows(model, networks.named_family(family), lengths=lengths, episodes=episodes,
                         seed=shared_seed(ctx, claim_id) + 99, extras=True)


@claim("bayesnet.families", paper=PAPER, reference="Sec. 5 (chain, tree, general graphs); spec Part 2 Sec. 7",
       statement=r"On the chain, tree and general graphs (5 nodes quick; 7 and 10 nodes full), a "
                 r"trained transformer's mean \(\mathrm{TV}(p_{TF}, \hat p)\) is at most 0.1 (full "
                 r"0.05) and \(\max_{N \in \{10,20,50,100\}} |\mathrm{TV}(p_{TF}, p) - "
                 r"\mathrm{TV}(\hat p, p)| \le 0.05\) (full 0.03).")
def _families(ctx):
    from validation.bayesnet.plots import plot_family_tv
    from validation.bayesnet.training import curves_from_rows
    from validation.shared.plots import save

    families = FULL_FAMILIES if ctx.full else QUICK_FAMILIES
    mean_tol, gap_tol = (0.05, 0.03) if ctx.full else (0.1, 0.05)
    episodes = 256 if ctx.full else 128
    lengths = sorted(set(MEAN_LENGTHS) | {200})
    measured, reports, floors, seconds = {}, {}, {}, {}
    for family in families:
        start = time.perf_counter()
        structure = networks.named_family(family)
        model = family_model(ctx, family)
        rows = family_rows(ctx, family, model, lengths, episodes)
        curves = curves_from_rows(structure, rows)
        reports[family] = curves
        floors[family] = {n: float(r["tv_floor_vs_true"].mean()) for n, r in rows.items()}
        gaps = {n: abs(curves.tv_vs_true[n] - curves.tv_mle_vs_true[n]) for n in GAP_LENGTHS}
        measured[family] = {
            "mean_tv_vs_mle": float(np.mean([curves.tv_vs_mle[n] for n in MEAN_LENGTHS])),
            "max_gap": max(gaps.values()), "gap_by_N": gaps,
            "tv_vs_true": curves.tv_vs_true, "tv_mle_vs_true": curves.tv_mle_vs_true,
            "tv_floor_vs_true": floors[family], "tv_naive_vs_true": curves.tv_naive_vs_true}
        seconds[family] = round(time.perf_counter() - start, 2)
    holds = all(m["mean_tv_vs_mle"] <= mean_tol and m["max_gap"] <= gap_tol for m in measured.values())
    name = f"bayesnet_families_{'full' if ctx.full else 'quick'}.png"
    out = plot_family_tv(reports, floors, figsize=(3.3 * len(families), 3.4))
    save(out.figure, ctx.figure_path(name))
    settings = {f: family_settings(f, ctx.full) for f in families}
    return decide(holds, {"mean_tv_vs_mle": f"<= {mean_tol}", "max_gap_N10_100": f"<= {gap_tol}"},
                  measured, {"mean_tv_vs_mle": mean_tol, "max_gap": gap_tol},
                  f"One model per family ({settings[families[0]]} ...; 10-node graphs 2 layers, 2 heads), "
                  "CPTs U(0.1,0.9), cross-entropy to the back-off MLE, N log-uniform in 1..100; held-out "
                  f"CPTs, {episodes} episodes per N, every target. Mean TV to the MLE over N in "
                  f"{MEAN_LENGTHS}; gap over N in {GAP_LENGTHS}. Floor = truncated-Beta posterior median "
                  f"(spec Sec. 11). Seconds per family (training + evaluation): {seconds}.",
                  figures=(name,))

"""Claim ``bayesnet.attention_probe`` (spec Part 2, Sec. 10): does trained attention implement the
construction's matching? (A question of the ICLR reviewers of Cao et al. 2025, arXiv 2501.02547;
the paper shows existence only.)

The probe (:mod:`numerics.bayesnet.probe`) reads the last layer's attention of the query of each
target with parents (:func:`validation.bayesnet.training.attention_probe`). Its ability to fail is
shown in the tests: on the Sec. 3 construction it finds :math:`W \\ge 1 - N e^{-\\beta}/|I|`,
Spearman 1 and naive share :math:`|I_n|/|I|`; on an untrained model :math:`W \\approx |I|/N`.
The models are those of :mod:`~validation.bayesnet.claims.families` (shared within a run).
"""

from __future__ import annotations

import time

from numerics.bayesnet import networks
from validation.bayesnet.claims.construction import PAPER
from validation.bayesnet.claims.families import family_model
from validation.bayesnet.claims.trained import shared_seed
from validation.ledger.claims import claim, decide

#: Thresholds of spec Sec. 10 (kept whatever the outcome).
EXCESS, SPEARMAN = 0.3, 0.5


@claim("bayesnet.attention_probe", paper=PAPER, reference="Sec. 4-5 (construction vs training); spec Part 2 Sec. 10",
       statement=r"Trained attention implements matching: for the chain5 and general5 models at "
                 r"\(N = 50\), the best last-layer head has mean \(W - |I|/N \ge 0.3\) "
                 r"(\(W = \sum_{i \in I} w_i\), the attention on rows matching the query's parents) "
                 r"and Spearman\((w_i, \text{parents matched}) \ge 0.5\).")
def _probe(ctx):
    from validation.bayesnet.training import attention_probe

    start = time.perf_counter()
    measured, holds = {}, True
    for family in ("chain5", "general5"):
        model = family_model(ctx, family, full=False, claim_id="bayesnet.attention_probe")
        result = attention_probe(model, networks.named_family(family), n=50, episodes=256,
                                 seed=shared_seed(ctx, "bayesnet.attention_probe") + 299)
        best = result.heads[result.best]
        measured[family] = {"head": result.best, **{k: best[k] for k in (
            "matched_mass", "chance", "excess", "excess_se", "spearman", "naive_share", "naive_chance",
            "episodes")}}
        holds = holds and best["excess"] >= EXCESS and best["spearman"] >= SPEARMAN
    return decide(holds, {"excess_W_minus_chance": f">= {EXCESS}", "spearman": f">= {SPEARMAN}"},
                  measured, {"excess": EXCESS, "spearman": SPEARMAN},
                  "Models of bayesnet.families (quick settings: 1 layer, 1 head, width 32, 400 steps, "
                  "N <= 100); 256 held-out episodes at N = 50, every target with parents, episodes with "
                  "1 <= |I| <= N-1 pooled; self weight removed and the context weights renormalised. "
                  "naive_share = sum_In w / W against naive_chance = |In|/|I| (equal: the head does "
                  "not condition on non-parents). Tests: on the Sec. 3 construction the probe gives "
                  "W >= 1 - N e^-beta/|I| and Spearman 1, on an untrained model W ~ |I|/N. "
                  f"{time.perf_counter() - start:.1f} s (training shared with bayesnet.families).")

"""Benchmarks of the Bayesian-network paper (Cao et al. 2025): the library's performance targets.

1. In-context MLE tables for 10^4 episodes of N = 500 on general5 (target < 1 s), against fitting
   pgmpy's maximum-likelihood estimator episode by episode (measured on a subset in the same run,
   extrapolated; target >= 100x), with the tables checked equal to pgmpy's bit for bit.
2. The construction's full forward pass for 10^3 prompts of N = 200 (target < 2 s), against running
   the same prompts one at a time (measured on a subset, extrapolated).

Run: ``python benchmarks/run.py bayesnet`` (or this file directly; ``--smoke`` runs every
benchmark at a tiny size, in a few seconds, with the same line format).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from benchmarks.timing import best_time, report  # noqa: E402

#: Sizes of the real runs and of the smoke runs (``main(smoke=True)``).
SIZES = {"mle": {"episodes": 10_000, "n": 500, "pgmpy_subset": 20},
         "construction": {"prompts": 1000, "n": 200, "loop_subset": 50}}
SMOKE_SIZES = {"mle": {"episodes": 50, "n": 40, "pgmpy_subset": 2},
               "construction": {"prompts": 20, "n": 30, "loop_subset": 4}}


def bench_mle(episodes: int = 10_000, n: int = 500, pgmpy_subset: int = 20) -> None:
    """Vectorised MLE tables of ``episodes`` contexts of ``n`` samples against pgmpy per episode."""
    from numerics.bayesnet import networks
    from numerics.bayesnet import mle

    structure = networks.family_structure("general5")
    cpts = networks.random_cpts(structure, 0, batch=episodes)
    data = networks.sample_batch(structure, cpts, n, 1)
    ours = best_time(lambda: mle.mle_tables(structure, data), repeat=3)
    pgmpy_subset = min(pgmpy_subset, episodes)
    try:
        from numerics.bayesnet.pgmpy_bridge import pgmpy_mle_tables
    except ImportError:
        print(f"in-context MLE, {episodes} episodes x N={n} (general5): {ours:.3f} s "
              "| pgmpy not installed: no baseline")
        return
    pgmpy_mle_tables(structure, data[0])  # warm-up (imports)
    start = time.perf_counter()
    theirs = [pgmpy_mle_tables(structure, data[e]) for e in range(pgmpy_subset)]
    per_episode = (time.perf_counter() - start) / pgmpy_subset
    estimated = mle.mle_tables(structure, data[:pgmpy_subset])
    tables, counts = estimated.tables, estimated.counts
    equal = all(np.array_equal(tables[m][e][counts[m][e] > 0], theirs[e][m][counts[m][e] > 0])
                for e in range(pgmpy_subset) for m in range(structure.M))
    report(f"in-context MLE tables, {episodes} episodes x N={n} (general5)", ours,
           f"pgmpy DiscreteMLE per episode (x{episodes}, from {pgmpy_subset})", per_episode * episodes,
           target="< 1 s and >= 100x")
    print(f"  bit-for-bit equal to pgmpy on observed configurations ({pgmpy_subset} episodes): {equal}")


def bench_construction(prompts: int = 1000, n: int = 200, loop_subset: int = 50) -> None:
    """The torch construction on ``prompts`` prompts of ``n`` samples (one thread), batched
    against one prompt at a time."""
    import torch

    from numerics.bayesnet import networks
    from numerics.bayesnet import construction
    from numerics.shared.threads import limit_threads
    from validation.bayesnet.models import ConstructedTransformer

    loop_subset = min(loop_subset, prompts)
    net = networks.family_network("general5", 0)
    data = networks.sample(net, n + prompts, 1)
    contexts = np.broadcast_to(data[:n], (prompts, n, net.M))
    X = torch.as_tensor(construction.encode_prompts(net.structure, contexts, data[n:], 3))
    model = ConstructedTransformer(net.structure, 10.0)

    def chunked(query_only: bool, chunk: int = 50):
        for start in range(0, prompts, chunk):
            model(X[start:start + chunk], query_only=query_only)

    with limit_threads(1), torch.no_grad():
        query_only = best_time(lambda: chunked(True), repeat=3)
        full = best_time(lambda: chunked(False), repeat=3)
        start = time.perf_counter()
        for k in range(loop_subset):
            model(X[k:k + 1])
        per_prompt = (time.perf_counter() - start) / loop_subset
    report(f"construction forward, {prompts} prompts x N={n} (read-out column)", query_only,
           f"one prompt at a time, all columns (x{prompts}, from {loop_subset})", per_prompt * prompts,
           target="< 2 s")
    report(f"construction forward, {prompts} prompts x N={n} (all columns, chunks of 50)", full,
           f"one prompt at a time, all columns (x{prompts}, from {loop_subset})", per_prompt * prompts)


def main(smoke: bool = False) -> None:
    """Every benchmark of this file, at the real sizes or (``smoke``) at tiny ones."""
    sizes = SMOKE_SIZES if smoke else SIZES
    bench_mle(**sizes["mle"])
    bench_construction(**sizes["construction"])


if __name__ == "__main__":
    main(smoke="--smoke" in sys.argv)

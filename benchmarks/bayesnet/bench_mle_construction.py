"""Benchmarks of the Bayesian-network paper (spec ``bayesnet.md`` section 6).

1. In-context MLE tables for 10^4 episodes of N = 500 on general5 (target < 1 s), against fitting
   pgmpy's maximum-likelihood estimator episode by episode (measured on a subset in the same run,
   extrapolated; target >= 100x), with the tables checked equal to pgmpy's bit for bit.
2. The construction's full forward pass for 10^3 prompts of N = 200 (target < 2 s), against running
   the same prompts one at a time (measured on a subset, extrapolated).

Run: ``python benchmarks/run.py bayesnet`` (or this file directly).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from timing import best_time, report  # noqa: E402


def bench_mle(episodes: int = 10_000, n: int = 500, pgmpy_subset: int = 20) -> None:
    from numerics.bayesnet import networks
    from numerics.bayesnet import mle

    structure = networks.family_structure("general5")
    cpts = networks.random_cpts(structure, 0, batch=episodes)
    data = networks.sample_batch(structure, cpts, n, 1)
    ours = best_time(lambda: mle.mle_tables(structure, data), repeat=3)
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
    tables, counts = mle.mle_tables(structure, data[:pgmpy_subset])
    equal = all(np.array_equal(tables[m][e][counts[m][e] > 0], theirs[e][m][counts[m][e] > 0])
                for e in range(pgmpy_subset) for m in range(structure.M))
    report(f"in-context MLE tables, {episodes} episodes x N={n} (general5)", ours,
           f"pgmpy DiscreteMLE per episode (x{episodes}, from {pgmpy_subset})", per_episode * episodes,
           target="< 1 s and >= 100x")
    print(f"  bit-for-bit equal to pgmpy on observed configurations ({pgmpy_subset} episodes): {equal}")


def bench_construction(prompts: int = 1000, n: int = 200, loop_subset: int = 50) -> None:
    import torch

    from numerics.bayesnet import networks
    from numerics.bayesnet import construction
    from validation.bayesnet.models import ConstructedTransformer

    torch.set_num_threads(1)
    net = networks.family_network("general5", 0)
    data = networks.sample(net, n + prompts, 1)
    contexts = np.broadcast_to(data[:n], (prompts, n, net.M))
    X = torch.as_tensor(construction.encode_prompts(net.structure, contexts, data[n:], 3))
    model = ConstructedTransformer(net.structure, 10.0)
    def chunked(query_only: bool, chunk: int = 50):
        for start in range(0, prompts, chunk):
            model(X[start:start + chunk], query_only=query_only)

    with torch.no_grad():
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


def main() -> None:
    bench_mle()
    bench_construction()


if __name__ == "__main__":
    main()

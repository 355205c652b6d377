"""Benchmark of the vectorised ensemble trainer (Part 2 Sec. 5 of the specification).

64 seeds of one configuration (L = 2, d = 8, N = 64, batch 16, 300 Adam steps, p = 0.5, q = 0.8,
tied, standard initialisation) trained with :func:`validation.markov.training.train_ensemble` as
vectorised batches, against 8 sequential single-seed runs of the same trainer in the same process
(one thread each). Reported: the time of the 64-seed batch, of the 8 single runs, the total ratio
(8 singles / batch) and the per-seed ratio ((8 singles / 8) / (batch / 64)), once with one batch
of all 64 seeds (``group=64``) and once with the default groups of 16. The first seed of the batch
is checked against its single run (1e-10).

``main(smoke=True)``: 30 steps and 16 seeds against 2 singles (same line format).

Run: ``python benchmarks/run.py`` or ``python benchmarks/markov/bench_ensemble.py [--smoke]
[--steps K]``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np  # noqa: E402

from validation.markov.training import train_ensemble  # noqa: E402

P, Q = 0.5, 0.8
CONFIG = dict(tying=True, d=8, seq_len=64, batch=16, layers=2, held_out=64, scores=False,
              record_every=50)


def _timed(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def main(smoke: bool = False, steps: int | None = None) -> None:
    steps = steps or (30 if smoke else 300)
    seeds, singles = (16, 2) if smoke else (64, 8)
    train_ensemble(P, Q, seeds=[0], steps=2, **CONFIG)           # warm-up (imports, caches)
    single_time, single_runs = _timed(lambda: [
        train_ensemble(P, Q, seeds=[s], steps=steps, **CONFIG)[0] for s in range(singles)])
    for group in (seeds, 16):
        batch_time, batch_runs = _timed(lambda: train_ensemble(
            P, Q, seeds=list(range(seeds)), steps=steps, group=group, **CONFIG))
        same = max(abs(a.run.final_loss - b.run.final_loss) + float(np.max(np.abs(
            np.subtract(a.run.loss_curve.losses, b.run.loss_curve.losses))))
            for a, b in zip(single_runs, batch_runs))
        per_seed = (single_time / singles) / (batch_time / seeds)
        print(f"markov ensemble: {seeds} seeds (L=2, d=8, N=64, batch 16, {steps} steps, "
              f"groups of {group}) {batch_time:.1f} s | {singles} sequential single-seed runs "
              f"{single_time:.1f} s | total ratio (singles/batch) x{single_time / batch_time:.2f}"
              f" | per-seed speed-up x{per_seed:.2f} | max difference to the single runs "
              f"{same:.1e} (target 1e-10) | target: batch faster")


if __name__ == "__main__":
    arg_steps = None
    if "--steps" in sys.argv:
        arg_steps = int(sys.argv[sys.argv.index("--steps") + 1])
    main(smoke="--smoke" in sys.argv, steps=arg_steps)

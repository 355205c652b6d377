"""Benchmark of the vectorised ensemble trainer (Part 2 Sec. 5 of the specification).

64 seeds of one configuration (L = 2, d = 8, N = 64, batch 16, 300 Adam steps, p = 0.5, q = 0.8,
tied, standard initialisation) trained with :func:`validation.markov.training.train_ensemble` as
vectorised batches (its default, ``ENSEMBLE_GROUP`` = 8 seeds per batch), against 8 sequential
single-seed runs of the same trainer in the same process (one thread each). Reported, wall clock and this process's CPU time (the
machine may be shared: the CPU time is the steadier of the two, the 1-minute load average is
printed): the time of the 64-seed batch, of the 8 single runs, the total ratio (8 singles /
batch) and the per-seed ratio ((8 singles / 8) / (batch / 64), must be > 1), and the largest
difference of the 8 seeds' final losses and loss curves to their single runs (target 1e-10; the
per-seed equality of every output is tested in tests/validation/markov/test_ensemble.py).

``--groups``: the same 64 seeds once more as ONE batch of 64 (memory-bound: slower per seed
than the groups of 8, see ``ENSEMBLE_GROUP``).
``--compare``: before/after of the masking (the previous layer, a separate ``masked_fill_`` of
the scores after the product, whose backward is one more N x N pass, against the current one,
the additive mask as the ``baddbmm`` input), CPU time of 16 seeds x 30 steps each, alternated
three times.

``main(smoke=True)``: 30 steps and 16 seeds against 2 singles (same line format).

Run: ``python benchmarks/run.py`` or ``python benchmarks/markov/bench_ensemble.py [--smoke]
[--steps K] [--groups] [--compare]``.
"""

from __future__ import annotations

import math
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from validation.markov import models  # noqa: E402
from validation.markov.training import ENSEMBLE_GROUP, train_ensemble  # noqa: E402

P, Q = 0.5, 0.8
CONFIG = dict(tying=True, d=8, seq_len=64, batch=16, layers=2, held_out=64, scores=False,
              record_every=50)


def _timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, out


def _load() -> str:
    return f"load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"


def main(smoke: bool = False, steps: int | None = None, groups: bool = False) -> None:
    steps = steps or (30 if smoke else 300)
    seeds, singles = (16, 2) if smoke else (64, 8)
    train_ensemble(P, Q, seeds=[0], steps=2, **CONFIG)           # warm-up (imports, caches)
    single_wall, single_cpu, single_runs = _timed(lambda: [
        train_ensemble(P, Q, seeds=[s], steps=steps, **CONFIG)[0] for s in range(singles)])
    for group in ((ENSEMBLE_GROUP, seeds) if groups else (ENSEMBLE_GROUP,)):
        batch_wall, batch_cpu, batch_runs = _timed(lambda: train_ensemble(
            P, Q, seeds=list(range(seeds)), steps=steps, group=group, **CONFIG))
        same = max(abs(a.run.final_loss - b.run.final_loss) + float(np.max(np.abs(
            np.subtract(a.run.loss_curve.losses, b.run.loss_curve.losses))))
            for a, b in zip(single_runs, batch_runs))
        ratio = {kind: (s / singles) / (b / seeds) for kind, s, b in
                 (("wall", single_wall, batch_wall), ("cpu", single_cpu, batch_cpu))}
        print(f"markov ensemble: {seeds} seeds (L=2, d=8, N=64, batch 16, {steps} steps, "
              f"{'one batch' if group == seeds else f'groups of {group}'}) {batch_wall:.1f} s "
              f"wall / {batch_cpu:.1f} s CPU | {singles} sequential single-seed runs "
              f"{single_wall:.1f} s wall / {single_cpu:.1f} s CPU | total ratio (singles/batch) "
              f"x{single_wall / batch_wall:.2f} | per-seed ratio x{ratio['wall']:.2f} wall, "
              f"x{ratio['cpu']:.2f} CPU ({1e3 * batch_cpu / seeds / steps:.2f} ms CPU per "
              f"member-step batched, {1e3 * single_cpu / singles / steps:.2f} single) | max "
              f"difference to the single runs {same:.1e} (target 1e-10) | {_load()} | target: "
              f"per-seed ratio > 1")


def _masked_fill_layer(params, layer, h, mask, keep_attention=None):
    """The layer as it was before the fused mask (scores, then ``masked_fill_``)."""
    w = {m: params[models.layer_key(m, layer)] for m in models.LAYER_WEIGHTS}
    members, d = h.shape[0], h.shape[-1]
    bilinear = w["W_Q"].transpose(1, 2) @ w["W_K"] / math.sqrt(d)
    scores = (h.reshape(members, -1, d) @ bilinear).reshape(h.shape) @ h.transpose(2, 3)
    att = torch.softmax(scores.masked_fill_(mask == float("-inf"), float("-inf")), dim=-1)
    mixed = (att @ h).reshape(members, -1, d)
    u = h.reshape(members, -1, d) + mixed @ (w["W_O"] @ w["W_V"]).transpose(1, 2)
    return u + torch.relu(u @ w["W_1"].transpose(1, 2)) @ w["W_2"].transpose(1, 2)


def compare(seeds: int = 16, steps: int = 30, rounds: int = 3) -> None:
    """CPU time of ``seeds`` seeds x ``steps`` steps (one batch) with the previous masking and
    with the current one, alternated ``rounds`` times; the final losses must agree to 1e-10."""
    current = models._layer
    times = {"masked_fill_ (before)": [], "baddbmm mask (after)": []}
    losses = {}
    def run():
        return train_ensemble(P, Q, seeds=list(range(seeds)), steps=steps, group=seeds, **CONFIG)

    run()
    try:
        for _ in range(rounds):
            for name, layer in (("masked_fill_ (before)", _masked_fill_layer),
                                ("baddbmm mask (after)", current)):
                models._layer = layer
                _, cpu, out = _timed(run)
                times[name].append(cpu)
                losses[name] = np.array([r.run.final_loss for r in out])
    finally:
        models._layer = current
    diff = float(np.max(np.abs(np.subtract(*losses.values()))))
    best = {name: min(t) for name, t in times.items()}
    before, after = best.values()
    print(f"markov ensemble masking, {seeds} seeds x {steps} steps (best of {rounds}, CPU): "
          + ", ".join(f"{name} {1e3 * t / seeds / steps:.2f} ms per member-step"
                      for name, t in best.items())
          + f" | speed-up x{before / after:.2f} | final losses differ by {diff:.1e} | {_load()}")


if __name__ == "__main__":
    arg_steps = None
    if "--steps" in sys.argv:
        arg_steps = int(sys.argv[sys.argv.index("--steps") + 1])
    if "--compare" in sys.argv:
        compare()
    else:
        main(smoke="--smoke" in sys.argv, steps=arg_steps, groups="--groups" in sys.argv)

"""Benchmark: training the full Markov transformer (spec markov.md, Sec. 6).

Target: the tied and the untied model (d = 4, N = 64, batch 16, Adam lr 1e-2, p = 0.5, q = 0.8,
standard initialisation) trained to within 2e-3 nats of the loss it converges to, each under 60 s
on 2 cores.

Procedure, for each tying:

1. A reference run of the library's trainer (:mod:`validation.markov.models`: all batches
   sampled up front, one thread, attention as one bilinear form and a fused W_O W_V) for
   ``REFERENCE_STEPS`` steps with a held-out checkpoint every ``CHECK_EVERY`` steps (512 fixed
   sequences, exact expectation over the next symbol). The converged loss is the mean of the last
   three checkpoints; the steps needed are the first checkpoint from which every later one is within
   2e-3 of it.
2. Time the library's trainer for exactly that many steps (initialisation, sampling, training).
3. Time the baseline for the same steps, same seed, same initial weights and the very same batches
   (the generator is consumed in the same order): a plain ``nn.Module`` with ``nn.Linear`` layers
   and the textbook masked attention, one batch sampled per step, torch's default threads.
4. Check both final weights give a held-out loss within 2e-3 of the converged loss.

Times are wall clock: the best of ``REPEAT`` runs for the library, one run for each baseline (they
are long). The baseline is also timed with one thread, to separate the thread setting from the
code.

Run: ``python benchmarks/run.py markov_transformer`` or ``python benchmarks/bench_markov_transformer.py``.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from benchmarks.timing import best_time, report  # noqa: E402
from numerics.markov.sequences import sample_chain  # noqa: E402
from validation.markov.training import batch_loss, member_generators, sample_batches  # noqa: E402
from validation.markov.models import build_model  # noqa: E402

P, Q, D, N, BATCH, LR, SEED = 0.5, 0.8, 4, 64, 16, 1e-2, 0
REFERENCE_STEPS, CHECK_EVERY, TOLERANCE, REPEAT = 1200, 50, 2e-3, 2


class PlainTransformer(torch.nn.Module):
    """The baseline: the P1 model written the textbook way (nn.Linear, q/k/v, masked_fill)."""

    def __init__(self, params: dict, tied: bool):
        super().__init__()
        d = params["e"].shape[-1]
        self.tied, self.d = tied, d
        self.e = torch.nn.Parameter(params["e"][0].detach().clone())
        self.pos = torch.nn.Parameter(params["pos"][0].detach().clone())
        self.layers = torch.nn.ModuleDict()
        for name in ("W_Q", "W_K", "W_V", "W_O", "W_1", "W_2"):
            weight = params[name][0].detach().clone()
            layer = torch.nn.Linear(weight.shape[1], weight.shape[0], bias=False, dtype=torch.float64)
            layer.weight = torch.nn.Parameter(weight)
            self.layers[name] = layer
        self.a = None if tied else torch.nn.Parameter(params["a"][0].detach().clone())
        self.b = torch.nn.Parameter(params["b"][0].detach().clone())

    def forward(self, x):
        n = x.shape[1]
        h = x[..., None] * self.e + self.pos[:n]
        q, k, v = self.layers["W_Q"](h), self.layers["W_K"](h), self.layers["W_V"](h)
        scores = q @ k.transpose(1, 2) / math.sqrt(self.d)
        mask = torch.triu(torch.ones(n, n, dtype=torch.bool), 1)
        att = torch.softmax(scores.masked_fill(mask, float("-inf")), dim=-1)
        y = h + self.layers["W_O"](att @ v)
        z = y + self.layers["W_2"](torch.relu(self.layers["W_1"](y)))
        readout = self.e if self.tied else self.a
        return z @ readout + self.b


def held_out_loss(logit_fn, x: torch.Tensor) -> float:
    """Population-loss estimate on fixed sequences (exact expectation over the next symbol)."""
    with torch.no_grad():
        lg = logit_fn(x)
        p_one = torch.where(x > 0.5, 1.0 - Q, P)
        return float((p_one * F.softplus(-lg) + (1 - p_one) * F.softplus(lg)).mean())


def library_training(tied: bool, steps: int, checkpoints=None):
    """The library's fast path (as in validation.markov.training.train_members)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        init_rng, data_rng, _ = member_generators(SEED)
        model = build_model(D, N, tied=tied, init="standard", seeds=[init_rng])
        data = sample_batches(P, Q, steps, BATCH, N, [data_rng])
        opt = torch.optim.Adam(model.parameters(), lr=LR)
        for step in range(steps):
            opt.zero_grad(set_to_none=True)
            loss = batch_loss(model, data[step]).sum()
            loss.backward()
            opt.step()
            if checkpoints is not None and (step + 1) % CHECK_EVERY == 0:
                checkpoints.append(held_out_loss(lambda x: model(x)[0], HELD_OUT))
        return model
    finally:
        torch.set_num_threads(previous)


def baseline_training(tied: bool, steps: int, threads: int | None = None):
    """A straightforward per-step loop: sample a batch, forward, backward, Adam step
    (``threads``: torch intra-op threads for the run; None keeps torch's default)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(threads or previous)
    try:
        return _baseline_loop(tied, steps)
    finally:
        torch.set_num_threads(previous)


def _baseline_loop(tied: bool, steps: int):
    init_rng, data_rng, _ = member_generators(SEED)
    params = build_model(D, N, tied=tied, init="standard", seeds=[init_rng]).params()
    model = PlainTransformer(params, tied)
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    for _ in range(steps):
        x = torch.tensor(sample_chain(P, Q, BATCH, N + 1, data_rng), dtype=torch.float64)
        logit = model(x[:, :-1])
        loss = F.binary_cross_entropy_with_logits(logit, x[:, 1:])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model


HELD_OUT = torch.tensor(sample_chain(P, Q, 512, N, seed=12345), dtype=torch.float64)


def steps_to_converge(checkpoints: list[float]) -> tuple[int, float]:
    converged = float(np.mean(checkpoints[-3:]))
    within = np.abs(np.asarray(checkpoints) - converged) <= TOLERANCE
    last_outside = np.flatnonzero(~within)
    first = 0 if last_outside.size == 0 else int(last_outside[-1]) + 1
    return (first + 1) * CHECK_EVERY, converged


def main() -> None:
    for tied in (True, False):
        name = "tied" if tied else "untied"
        checkpoints: list[float] = []
        library_training(tied, REFERENCE_STEPS, checkpoints)
        steps, converged = steps_to_converge(checkpoints)
        ours_time = best_time(lambda: library_training(tied, steps), repeat=REPEAT)
        base_time = best_time(lambda: baseline_training(tied, steps), repeat=1)
        base_one = best_time(lambda: baseline_training(tied, steps, threads=1), repeat=1)
        ours, base = library_training(tied, steps), baseline_training(tied, steps)
        ours_loss = held_out_loss(lambda x: ours(x)[0], HELD_OUT)
        base_loss = held_out_loss(base, HELD_OUT)
        ok = abs(ours_loss - converged) <= TOLERANCE and abs(base_loss - converged) <= TOLERANCE
        report(f"markov transformer {name}: train to within 2e-3 nats ({steps} steps, converged "
               f"loss {converged:.4f}, ours {ours_loss:.4f}, baseline {base_loss:.4f}, "
               f"{'ok' if ok else 'NOT within 2e-3'})", ours_time,
               "plain per-step loop", base_time, target="< 60 s each")
        report(f"markov transformer {name}: same, baseline restricted to one thread", ours_time,
               "plain per-step loop, 1 thread", base_one)


if __name__ == "__main__":
    main()

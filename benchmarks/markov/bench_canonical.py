"""Benchmarks of ``ttc markov critical|basin`` and the canonical landscape (P2, Sec. 3).

The library's performance targets:

- `ttc markov critical` and `ttc markov basin` under 1 s each (wall time of the whole command,
  start-up included). Baseline: the same basin query integrated with scipy's LSODA (what the
  first version did), in a fresh interpreter as well.
- A 400 x 400 canonical landscape (profiled loss, energy, basins, critical sets) under 1 s.
  Baseline: a per-point loop that finds b* with scipy's brentq, timed on 40 x 40 points and
  scaled by 100.

Training the full model is in ``bench_training.py`` (``benchmarks/run.py`` runs both).
``main(smoke=True)`` runs every benchmark once at a tiny size (same line format).

Run: ``python benchmarks/markov/bench_canonical.py [--smoke]``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from benchmarks.timing import best_time, report, wall_time  # noqa: E402


BASELINE_BASIN = """
import numpy as np
from scipy.integrate import solve_ivp
from numerics.markov import canonical
p, q = 0.5, 0.8
sol = solve_ivp(lambda t, th: -canonical.canonical_gradient(p, q, *th), (0, 1e6), (0.3, -1.0, 0.0),
                method="LSODA", rtol=1e-10, atol=1e-12,
                events=lambda t, th: np.linalg.norm(canonical.canonical_gradient(p, q, *th)) - 1e-9)
"""


def bench_commands(repeat: int = 3) -> None:
    """Wall time of ``ttc markov critical`` and ``ttc markov basin`` (start-up included)."""
    ttc = [sys.executable, "-m", "validation.cli", "markov"]
    python_alone = wall_time([sys.executable, "-c", "pass"], repeat=repeat)
    critical = wall_time(ttc + ["critical", "--p", "0.5", "--q", "0.8", "--json"], repeat=repeat)
    report("ttc markov critical (wall)", critical, "python -c pass", python_alone, "< 1 s")
    basin = wall_time(ttc + ["basin", "--p", "0.5", "--q", "0.8", "--e0", "0.3", "--w0", "-1",
                             "--json"], repeat=repeat)
    baseline = wall_time([sys.executable, "-c", BASELINE_BASIN], repeat=repeat)
    report("ttc markov basin (wall, incl. ODE)", basin, "scipy LSODA script", baseline, "< 1 s")


def bench_landscape(n: int = 400, naive_n: int = 40, repeat: int = 3) -> None:
    """The ``n x n`` landscape with critical sets against a per-point brentq loop on
    ``naive_n x naive_n`` points scaled to ``n x n``."""
    from scipy.optimize import brentq

    from numerics.markov import canonical

    p, q = 0.5, 0.8
    ours = best_time(lambda: (canonical.landscape(p, q, n=n), canonical.critical_summary(p, q),
                              canonical.global_curve_points(p, q, np.linspace(-2, 1.5, n))),
                     repeat=repeat)

    def naive():
        for e in np.linspace(-2, 2, naive_n):
            for w in np.linspace(-2, 1.5, naive_n):
                b = brentq(lambda bb: float(canonical.canonical_gradient(p, q, e, w, bb)[2]), -60, 60)
                float(canonical.canonical_loss(p, q, e, w, b))
                float(canonical.basin_labels(p, q, e, w))

    scale = (n / naive_n) ** 2
    naive_full = best_time(naive, repeat=1) * scale
    report(f"landscape {n}x{n} (loss, energy, basins, critical sets)", ours,
           f"per-point brentq loop ({naive_n}x{naive_n} x {scale:g})", naive_full, "< 1 s")


def main(smoke: bool = False) -> None:
    """Every benchmark of this file; ``smoke=True``: one repetition, a 40 x 40 landscape."""
    bench_commands(repeat=1 if smoke else 3)
    if smoke:
        bench_landscape(n=40, naive_n=5, repeat=1)
    else:
        bench_landscape()


if __name__ == "__main__":
    main(smoke="--smoke" in sys.argv)

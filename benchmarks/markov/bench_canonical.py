"""Markov targets (spec markov.md Sec. 6).

- `ttc markov critical` and `ttc markov basin` under 1 s each (wall time of the whole command,
  start-up included). Baseline: the same basin query integrated with scipy's LSODA (what the
  first version did), in a fresh interpreter as well.
- A 400 x 400 canonical landscape (profiled loss, energy, basins, critical sets) under 1 s.
  Baseline: a per-point loop that finds b* with scipy's brentq, timed on 40 x 40 points and
  scaled by 100.
- Training the full model: see bench_markov_transformer.py (run after these).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
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


def main() -> None:
    ttc = [sys.executable, "-m", "validation.cli", "markov"]
    python_alone = wall_time([sys.executable, "-c", "pass"])
    critical = wall_time(ttc + ["critical", "--p", "0.5", "--q", "0.8", "--json"])
    report("ttc markov critical (wall)", critical, "python -c pass", python_alone, "< 1 s")
    basin = wall_time(ttc + ["basin", "--p", "0.5", "--q", "0.8", "--e0", "0.3", "--w0", "-1", "--json"])
    baseline = wall_time([sys.executable, "-c", BASELINE_BASIN])
    report("ttc markov basin (wall, incl. ODE)", basin, "scipy LSODA script", baseline, "< 1 s")

    from numerics.markov import canonical
    from scipy.optimize import brentq

    p, q = 0.5, 0.8
    ours = best_time(lambda: (canonical.landscape(p, q, n=400), canonical.critical_summary(p, q),
                              canonical.global_curve_points(p, q, np.linspace(-2, 1.5, 400))), repeat=3)

    def naive(n=40):
        for e in np.linspace(-2, 2, n):
            for w in np.linspace(-2, 1.5, n):
                b = brentq(lambda bb: float(canonical.canonical_gradient(p, q, e, w, bb)[2]), -60, 60)
                float(canonical.canonical_loss(p, q, e, w, b))
                float(canonical.basin_labels(p, q, e, w))

    naive_400 = best_time(naive, repeat=1) * 100
    report("landscape 400x400 (loss, energy, basins, critical sets)", ours,
           "per-point brentq loop (40x40 x 100)", naive_400, "< 1 s")

    transformer = Path(__file__).with_name("bench_markov_transformer.py")
    if transformer.exists():
        import importlib.util

        spec = importlib.util.spec_from_file_location("bench_markov_transformer", transformer)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module.main()


if __name__ == "__main__":
    main()

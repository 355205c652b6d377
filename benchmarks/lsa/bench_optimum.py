"""LSA timings: exact and quadrature enlarged-space moments, ``ttc lsa optimum`` (Ding et al. 2025).

- Exact rational H, h, X* at rational p (p = 1/2, n = 10): d = 1 and d = 2 under 2 s, d = 3 under
  20 s. Baseline: the same kernel average done by ``sympy.integrate`` on every entry of the
  fixed-kernel (Lemma 3.2) matrices (d = 1, 2; the d = 3 baseline would take minutes).
- Numeric H, h by quadrature for d up to 8 under 10 s, with the accuracy stated (error against
  the exact rationals at d = 3, exact-to-rounding by construction). Baseline: Monte Carlo over
  2000 kernels (its relative standard error is printed too).
- ``ttc lsa optimum --d 1`` under 1 s, ``--d 2`` under 5 s including the best-achievable search
  (wall time of the whole command, start-up included). Baseline: ``ttc lsa gaussian`` (the
  start-up floor of the command line).

``main(smoke=True)`` runs every benchmark once at a tiny size (d = 1 or 2, few kernels, one
repetition) and prints the same lines; ``python benchmarks/lsa/bench_optimum.py --smoke``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from benchmarks.timing import best_time, report, wall_time  # noqa: E402

#: Sizes of the real run and of the smoke run.
SIZES = {
    False: {"exact_d": (1, 2), "exact_big_d": 3, "quad_d": (4, 6, 8), "mc_kernels": 2000,
            "cli_d": (1, 2), "repeat": 3},
    True: {"exact_d": (1,), "exact_big_d": 2, "quad_d": (2,), "mc_kernels": 200,
           "cli_d": (1,), "repeat": 1},
}


def _exact(d: int):
    import sympy as sp

    from theory import lsa

    lsa.clear_caches()
    mom = lsa.markov_moments(d, sp.Rational(1, 2), 10)
    return lsa.optimum(mom.H, mom.h, mom.Ey)


def _baseline_integrate(d: int):
    import sympy as sp

    from theory import lsa

    lsa.clear_caches()
    mom = lsa.markov_moments(d, sp.Rational(1, 2), 10, kernel="fixed")
    integ = lambda e: sp.integrate(e, (lsa.p01, 0, 1), (lsa.p10, 0, 1))
    H, h = mom.H.applyfunc(integ), mom.h.applyfunc(integ)
    return H.LUsolve(h)


def _bench_exact(size: dict) -> None:
    for d in size["exact_d"]:
        ours = best_time(lambda: _exact(d), repeat=size["repeat"])
        base = best_time(lambda: _baseline_integrate(d), repeat=1)
        report(f"exact H, h, X* d={d} (p=1/2, n=10)", ours, "sympy.integrate per entry", base, "< 2 s")
    d = size["exact_big_d"]
    ours = best_time(lambda: _exact(d), repeat=min(2, size["repeat"]))
    report(f"exact H, h, X* d={d} (p=1/2, n=10)", ours, "the 20 s target", 20.0, "< 20 s")


def _bench_quadrature(size: dict) -> None:
    import sympy as sp

    from numerics.lsa import optimum
    from theory import lsa

    d_check = size["exact_big_d"]
    exact = lsa.markov_moments(d_check, sp.Rational(1, 2), 10)
    quad = optimum.markov_moments_numeric(d_check, 0.5, 10)
    err = max(np.abs(np.array(exact.H, float) - quad.H).max(),
              np.abs(np.array(exact.h, float).ravel() - quad.h).max())
    kernels = size["mc_kernels"]
    for d in size["quad_d"]:
        ours = best_time(lambda: optimum.optimum(optimum.markov_moments_numeric(d, 0.5, 10)),
                         repeat=size["repeat"])
        base = best_time(lambda: optimum.markov_moments_mc(d, 0.5, 10, kernels, 0), repeat=1)
        mc = optimum.markov_moments_mc(d, 0.5, 10, kernels, 0)
        rel_se = float(np.max(mc.H_se / np.maximum(np.abs(mc.H), 1e-300)))
        report(f"quadrature H, h, X* d={d} (exact to rounding; max error vs exact at "
               f"d={d_check}: {err:.1e})", ours,
               f"MC over {kernels} kernels (max rel. s.e. {rel_se:.1e})", base, "< 10 s")


def _bench_cli(size: dict) -> None:
    floor = wall_time(["ttc", "lsa", "gaussian", "--sigma", "1", "--n", "1", "--json"],
                      repeat=size["repeat"])
    for d in size["cli_d"]:
        ours = wall_time(["ttc", "lsa", "optimum", "--d", str(d), "--p", "1/2", "--n", "3", "--json"],
                         repeat=size["repeat"])
        report(f"ttc lsa optimum --d {d} --p 1/2 --n 3 (not realisable: global search runs)",
               ours, "ttc lsa gaussian (start-up floor)", floor, {1: "< 1 s", 2: "< 5 s"}[d])


def main(smoke: bool = False) -> None:
    """Run every LSA benchmark (``smoke``: once each at a tiny size) and print one line each."""
    from numerics.shared.threads import limit_threads

    size = SIZES[bool(smoke)]
    with limit_threads(1):
        _bench_exact(size)
        _bench_quadrature(size)
        _bench_cli(size)


if __name__ == "__main__":
    main(smoke="--smoke" in sys.argv)

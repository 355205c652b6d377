"""LSA Part 2 timings (lsa.md Part 2 §A, E, F, G): the exact k-state moments and the three commands.

- Exact k-state optimum (Lemma C.8), python-flint rationals: d = 1 and 2 (quick path, < 10 s) and
  d = 3 (full path). Baseline: the sympy route of :func:`theory.lsa.kstate_optimum_d1` (d = 1).
- ``ttc lsa pareto`` (untrained), ``ttc lsa dirichlet --d 1``, ``ttc lsa reduction``: each < 2 s
  (wall time, start-up included). Baseline: ``ttc lsa gaussian`` (the start-up floor).

``main(smoke=True)`` runs each once at a tiny size; ``python benchmarks/lsa/bench_part2.py --smoke``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from benchmarks.timing import best_time, report, wall_time  # noqa: E402

SIZES = {False: {"d": (1, 2, 3), "repeat": 3, "layers": "10"},
         True: {"d": (1,), "repeat": 1, "layers": "2"}}


def _kstate(d: int):
    from numerics.lsa import kstate

    kstate._parts.cache_clear()
    return kstate.kstate_optimum(3, 1, d, 10)


def main(smoke: bool = False) -> None:
    """Run the Part 2 benchmarks (``smoke``: once each at a tiny size), one line each."""
    from numerics.shared.threads import limit_threads
    from theory import lsa

    size = SIZES[smoke]
    with limit_threads(1):
        base = best_time(lambda: lsa.kstate_optimum_d1(3, 1, 10), repeat=1)
        for d in size["d"]:
            ours = best_time(lambda: _kstate(d), repeat=1 if d == 3 else size["repeat"])
            report(f"exact k-state optimum k=3 alpha=1 d={d} n=10", ours,
                   "sympy route (d = 1)", base, "< 10 s (d <= 2)" if d < 3 else "full profile")
    py = [sys.executable, "-c", "import sys; from validation.cli import main; sys.exit(main())"]
    floor = wall_time(py + ["lsa", "gaussian", "--sigma", "1", "--n", "1", "--json"],
                      repeat=size["repeat"])
    for argv in (["lsa", "pareto", "--layers", size["layers"]],
                 ["lsa", "dirichlet", "--states", "3", "--d", "1"],
                 ["lsa", "reduction", "--sets", "1,2;2,3;1,3"]):
        ours = wall_time(py + argv + ["--json"], repeat=size["repeat"])
        report("ttc " + " ".join(argv), ours, "ttc lsa gaussian (start-up floor)", floor, "< 2 s")


if __name__ == "__main__":
    main(smoke="--smoke" in sys.argv)

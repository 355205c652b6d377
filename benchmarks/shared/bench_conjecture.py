"""Conjecture search (`ttc check`): margin cost, pool against serial, command wall time.

- The LSA margin in exact rationals against evaluating the same sympy polynomial with ``subs``
  (sympy's cache cleared, since a search never sees the same point twice).
- A full-budget search on the local pool (2 workers) against the same search run serially
  (the results are identical; only the wall time differs).
- The same comparison with an expensive margin (the S-state conjecture decided by direct
  enumeration of all S^(N+1) sequences and an autograd Hessian, ~30 ms per point), where the pool
  pays for its start-up.
- ``ttc check lsa.theorem33_realizable`` wall time (quick budget, start-up included).
- The Markov S-state margin.

``smoke``: a tiny budget, one repetition, the LSA search and the command on the serial executor,
the S-state search (S = 2) once on the pool only (its workers unpickle this module's margin).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from benchmarks.timing import best_time, report, wall_time  # noqa: E402


def enumerated_margin(point: dict) -> float:
    """The markov.unigram_local_min margin decided by S-state enumeration (d = 3, N = 4)."""
    from validation.markov.states import threshold
    from validation.markov.unigram import unigram_classification

    result = unigram_classification(int(point["S"]), float(point["p"]), d=3, seq_len=4,
                                    method="enumeration")
    sign = 1.0 if point["p"] > threshold(int(point["S"])) else -1.0
    return sign * result.min_eigenvalue + result.error


def main(smoke: bool = False) -> None:
    import sympy as sp

    from numerics.shared.conjecture import Budget, search_counterexample
    from theory import lsa
    from validation.lsa.checks import theorem33_realizable_margin
    from validation.markov.checks import unigram_local_min_margin

    tiny = Budget(grid=3, simple=2, random=4, hypothesis=4, local_searches=1,
                  local_evaluations=4, shrink=4, batch=4)
    repeat = 1 if smoke else 5
    point = {"p": 0.73, "n": 17}
    theorem33_realizable_margin(point)  # derive the polynomial once (cached per process)
    ours = best_time(lambda: theorem33_realizable_margin(point), repeat=repeat,
                     number=5 if smoke else 200)
    R = lsa.theorem33_realizability_polynomial()

    def sympy_exact():  # the same exact value through sympy, its cache cleared each time
        sp.core.cache.clear_cache()
        return R.subs({lsa.p: sp.Rational(73, 100), lsa.n: 17})

    baseline = best_time(sympy_exact, repeat=1 if smoke else 3, number=2 if smoke else 20)
    report("lsa margin (exact rationals), per point", ours, "sympy subs (no cache)", baseline)

    box = {"p": (0.001, 0.999), "n": (10, 60, "int")}
    budget = tiny if smoke else "full"
    serial = best_time(lambda: search_counterexample(theorem33_realizable_margin, box,
                                                     budget=budget, executor="serial"), repeat=1)
    if smoke:  # the pool's start-up alone would dominate; the search below uses it
        print(f"lsa search, tiny budget, serial: {serial:.2f} s")
    else:
        pooled = best_time(lambda: search_counterexample(theorem33_realizable_margin, box,
                                                         budget=budget, executor="local:2"),
                           repeat=1)
        report("lsa search, full budget, local:2", pooled, "serial", serial)

    expensive_box = {"S": (2, 3, "int"), "p": (0.02, 0.98)}
    if smoke:  # on the pool only: its workers unpickle this module's margin
        pooled = best_time(lambda: search_counterexample(enumerated_margin, {**expensive_box,
                                                                             "S": (2, 2, "int")},
                                                         budget=tiny, executor="local:2"),
                           repeat=1)
        print(f"S-state search by enumeration, S = 2, tiny budget, local:2 (start-up included): "
              f"{pooled:.2f} s")
    for budget in (() if smoke else ("quick", "full")):
        serial = best_time(lambda: search_counterexample(enumerated_margin, expensive_box,
                                                         budget=budget, executor="serial"),
                           repeat=1)
        pooled = best_time(lambda: search_counterexample(enumerated_margin, expensive_box,
                                                         budget=budget, executor="local:2"),
                           repeat=1)
        report(f"S-state search by enumeration (~30 ms/point), {budget} budget, local:2",
               pooled, "serial", serial)

    folder = tempfile.mkdtemp()
    executor = ["--executor", "serial"] if smoke else []
    try:
        cli = wall_time(["ttc", "check", "lsa.theorem33_realizable", "--json", *executor,
                         "--out", f"{folder}/run"], repeat=1)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"ttc check lsa.theorem33_realizable (quick{', serial' if smoke else ''}, wall, "
          f"start-up included): {cli:.2f} s")

    for S in ((2,) if smoke else (2, 5)):
        probe = {"S": S, "p": 0.9}
        unigram_local_min_margin(probe)  # warm the enumeration cache
        seconds = best_time(lambda: unigram_local_min_margin(probe), repeat=repeat)
        print(f"markov.unigram_local_min margin, S = {S}: {seconds * 1e3:.1f} ms per point")


if __name__ == "__main__":
    main(smoke="--smoke" in sys.argv[1:])

"""Certified stationary points (issue 6): wall time of the interval-arithmetic proofs.

- Markov: the certified critical set (tubes + exclusion + curve Hessian) in the box
  |e|, |w| <= 2.5, |b| <= 4, slab 0.1 (quick profile) and 0.05 (full), for p,q = 0.2,0.3 and
  0.5,0.8. Baseline: the uncertified check it replaces, 120 seeded root-finding starts
  (``numerics.markov.canonical.search_critical_points``).
- Markov: certified Hessian signs on the unigram line (|w| <= 2.5, saddle gap 1e-6).
- LSA: Theorem 3.3's two gauge points certified (256 bits) at p = 1/2, n = 10 and at the nearly
  degenerate p = 19/20, n = 10; the best one-layer point at p = 1/2, n = 3. Baseline: the
  floating-point check (Newton polish + numpy eigenvalues, no proof).

Needs python-flint (the certify extra); says so and stops otherwise. ``smoke``: one chain, one
slab, the smaller box |e|, |w| <= 1.5, |b| <= 2, a few root-finding starts, one repetition of
everything.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from benchmarks.timing import best_time, report  # noqa: E402


def main(smoke: bool = False) -> None:
    from numerics.shared import certify

    if not certify.certification_available():
        print("certify: python-flint is not installed (pip install -e '.[certify]'): skipped")
        return
    import sympy as sp

    from numerics.lsa import certified as lsa_certified
    from numerics.lsa import optimum
    from numerics.lsa import realizability
    from numerics.markov import canonical
    from numerics.markov import certified as markov_certified

    repeat = 1 if smoke else 3
    chains = ((0.5, 0.8),) if smoke else ((0.2, 0.3), (0.5, 0.8))
    slabs = (0.1,) if smoke else (0.1, 0.05)
    box = {"box": (1.5, 1.5, 2.0)} if smoke else {}
    starts = 4 if smoke else 120
    for p, q in chains:
        base = best_time(lambda: canonical.search_critical_points(p, q, starts=starts, seed=0),
                         repeat=1)
        for slab in slabs:
            found = []
            ours = best_time(lambda: found.append(
                markov_certified.certify_critical_set(p, q, slab=slab, **box)),
                repeat=1 if smoke else 2)
            result = found[-1]
            report(f"markov certified critical set p={p},q={q} slab={slab} "
                   f"(certified={result.certified}, tubes={result.tubes}, "
                   f"excluded={result.excluded_boxes})", ours,
                   f"{starts} root-finding starts (uncertified)", base, "< 15 s per claim")
        ours = best_time(lambda: markov_certified.certify_unigram_hessian(p, q), repeat=repeat)
        report(f"markov certified unigram Hessian signs p={p},q={q}", ours,
               f"{starts} root-finding starts (uncertified)", base)

    points = ((sp.Rational(1, 2), 10),) if smoke else ((sp.Rational(1, 2), 10),
                                                       (sp.Rational(19, 20), 10))
    for pv, n in points:
        ours = best_time(lambda: lsa_certified.certify_theorem33(pv, n), repeat=repeat)
        base = best_time(lambda: lsa_certified.uncertified_theorem33_check(pv, n), repeat=repeat)
        report(f"lsa Theorem 3.3 certified minima p={pv},n={n} (2 roots, 256 bits)", ours,
               "float Newton + eigenvalues", base)
    ours = best_time(lambda: lsa_certified.certify_best_unrealizable(sp.Rational(1, 2), 3),
                     repeat=repeat)
    base = best_time(lambda: realizability.best_lsa(optimum.markov_moments_numeric(1, 0.5, 3), 1),
                     repeat=repeat)
    report("lsa best one-layer point p=1/2,n=3 certified (search included)", ours,
           "the float global search alone", base)


if __name__ == "__main__":
    main(smoke="--smoke" in sys.argv[1:])

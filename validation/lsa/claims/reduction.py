"""Claims: the hardness reduction (Ding et al. 2025, Thm 3.5 / App. C.14; Part 2 §F).

phi is the case :math:`D = E_{ik} + E_{ki}`, :math:`E_{ii}` of Problem C.10; EXACT COVER maps to a
C.10 instance that is feasible iff a cover exists, checked three ways (brute force, Groebner
basis, Levenberg-Marquardt multistart)."""

from __future__ import annotations

import time

import numpy as np
import sympy as sp

from numerics.lsa import optimum, reduction
from theory import lsa
from validation.ledger.claims import CheckContext, claim, decide
from validation.lsa.claims.optimum import PAPER

#: Part 2 §F's two instances: {1,2},{3},{2,3},{1} (d = 4, 2 covers, LM ~7e-32) and
#: {1,2},{2,3},{1,3} (no cover, basis {1}, LM 0.337).
EXAMPLES = ("1,2;3;2,3;1", "1,2;2,3;1,3")


@claim("lsa.reduction_phi", paper=PAPER, reference="Problems C.9/C.10 (Part 2 F)",
       statement=r"\(\phi\) is Problem C.10 with \(D^{(r)} = E_{ik} + E_{ki}\) (\(i < k\)) or "
                 r"\(E_{ii}\): \(X_r = b^\top D^{(r)} A_{:,j}\).")
def _phi(ctx: CheckContext):
    t0 = time.perf_counter()
    symbolic = True
    for d in (1, 2, 3):
        b = sp.Matrix(sp.symbols(f"b0:{d + 1}"))
        A = sp.Matrix(d + 1, d, sp.symbols(f"A0:{(d + 1) * d}"))
        symbolic &= sp.expand(lsa.c10_apply(lsa.c10_matrices_phi(d), b, A) - lsa.phi(b, A)) == sp.zeros(d * (d + 1) * (d + 2) // 2, 1)
    rng = np.random.default_rng(ctx.seed)
    worst = 0.0
    for d in (4, 6):
        b, A = rng.standard_normal(d + 1), rng.standard_normal((d + 1, d))
        mats = lsa.c10_matrices_phi(d)
        X = np.array([b @ np.array(D, float) @ A[:, j - 1] for D, j in mats])
        worst = max(worst, float(np.abs(X - optimum.phi(b, A)).max()))
    return decide(symbolic and worst <= 1e-12, 0.0, {"symbolic_equal_d1_3": symbolic,
                  "numeric_max_difference_d4_6": worst}, 1e-12,
                  "sympy: every entry of b, A a symbol, d = 1..3, against theory.lsa.phi; numpy: "
                  "random Gaussian b, A at d = 4, 6 against numerics.lsa.optimum.phi.",
                  timings={"seconds": time.perf_counter() - t0})


def _instances(ctx: CheckContext) -> list[str]:
    if not ctx.full:
        return list(EXAMPLES)
    rng = np.random.default_rng(ctx.seed)
    extra = []
    for _ in range(4):
        N = int(rng.integers(3, 7))
        sets = [sorted(set(rng.integers(1, 6, int(rng.integers(1, 3))).tolist())) for _ in range(N)]
        extra.append(";".join(",".join(map(str, s)) for s in sets))
    return list(EXAMPLES) + extra


@claim("lsa.reduction_exact_cover", paper=PAPER, reference="Thm 3.5 / C.14 (Part 2 F)",
       statement=r"EXACT COVER maps to Problem C.10 (\(b_0 a_0 = 1\), \(b_i a_0 = b_0 a_i\), "
                 r"\(b_i a_0 = b_i a_i\), \(\sum_{i \ni e} b_i a_0 = 1\)): every cover gives residual "
                 r"0, and the instance is infeasible (Groebner basis \(\{1\}\), best local residual "
                 r"\(\ge 0.1\)) iff there is no cover; a local residual \(< 10^{-20}\) decodes to a "
                 r"cover.")
def _exact_cover(ctx: CheckContext):
    t0 = time.perf_counter()
    rows, ok = {}, True
    for text in _instances(ctx):
        sets = reduction.parse_sets(text)
        r = reduction.reduction(sets, starts=200, seed=ctx.seed)
        covers = reduction.exact_covers(sets)
        zero = max((reduction.cover_residual(sets, x) for x in covers), default=0.0)
        has = bool(covers)
        decodes = r.local.decoded_is_cover is True
        case_ok = (zero == 0.0 and has != r.groebner_infeasible
                   and (r.best_local_residual < 1e-20 and decodes if has
                        else r.best_local_residual >= 0.1))
        ok &= case_ok
        rows[text] = {"d": r.d, "covers": r.covers, "groebner_infeasible": r.groebner_infeasible,
                      "best_local_residual": float(f"{r.best_local_residual:.3g}"),
                      "decoded": list(r.local.decoded) if r.local.decoded else None,
                      "max_cover_residual": zero}
    return decide(ok, {EXAMPLES[0]: {"d": 4, "covers": 2, "LM": "~7e-32"},
                       EXAMPLES[1]: {"groebner_infeasible": True, "LM": 0.337}}, rows,
                  "cover residual 0; LM < 1e-20 (feasible) or >= 0.1 (infeasible)",
                  "Brute force over 2^N choices; sympy Groebner basis (grevlex, QQ); "
                  "Levenberg-Marquardt (scipy least_squares 'lm', analytic Jacobian) from 200 "
                  "N(0, 1) starts, residual = Euclidean norm of the C.10 equations. "
                  + ("Full: also 4 random instances." if ctx.full else "Quick: the two instances "
                     "of lsa.md Part 2 §F."),
                  timings={"seconds": time.perf_counter() - t0})

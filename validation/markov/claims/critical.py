"""Claims about the canonical model's critical points (Makkuva et al., P2, Sec. 3).

The unigram line's Hessian and "no other critical points". With the ``certify`` extra
(python-flint) both are proved in ball arithmetic (:mod:`numerics.markov.certified`); without it
the uncertified floating-point checks decide, and the record's ``method`` says which."""

from __future__ import annotations

import math

import numpy as np
import sympy as sp

from numerics.markov import canonical
from numerics.shared import certify
from theory import markov
from validation.ledger.claims import CheckContext, claim, decide
from validation.markov.claims.canonical import CASES, P2, is_zero


@claim("markov.unigram_hessian", paper=P2, reference="Sec. 3, unigram line",
       statement=r"On \(e = 0\), \(b = \log(p/q)\) the Hessian in \((e, w, b)\) is "
                 r"\(\mathrm{diag}(2 g_1^o (1 + 2w|w|), 0, \pi_0 \pi_1)\) with \(g_1^o = "
                 r"pq(p+q-1)/(p+q)^2\): local minima for \(w > -1/\sqrt{2}\) and maxima along "
                 r"\(e\) for \(w < -1/\sqrt{2}\) when \(p+q > 1\), the reverse when \(p+q < 1\).")
def _unigram_hessian(ctx: CheckContext):
    symbolic = all(is_zero(d) for branch in (1, -1) for d in
                   markov.canonical_hessian(branch=branch).subs({markov.e: 0, markov.b: markov.unigram_bias()})
                   - markov.unigram_hessian(branch=branch))
    worst = 0.0
    h = 1e-4
    for p_, q_ in CASES:
        for w_ in (-1.5, -0.3, 0.4, 1.2):
            x0 = np.array([0.0, w_, math.log(p_ / q_)])
            fd = np.empty((3, 3))
            for i in range(3):
                step = np.zeros(3)
                step[i] = h
                fd[i] = (canonical.canonical_gradient(p_, q_, *(x0 + step)) -
                         canonical.canonical_gradient(p_, q_, *(x0 - step))) / (2 * h)
            expected = np.diag([float(canonical.unigram_curvature(p_, q_, w_)), 0.0,
                                p_ * q_ / (p_ + q_) ** 2])
            worst = max(worst, float(np.max(np.abs(fd - expected))))
    measured = {"symbolic": symbolic, "max |finite-difference Hessian - formula|": worst}
    note = ("sympy Hessian of the loss at e = 0 on both branches; central differences of the "
            "analytic gradient (h = 1e-4, truncation error ~1e-8) at 8 points.")
    if not certify.certification_available():
        return decide(symbolic and worst < 1e-7, "diag(2 g1o (1+2w|w|), 0, pi0 pi1)", measured,
                      1e-7, note + " Signs not certified (python-flint missing).",
                      method=certify.UNCERTIFIED_METHOD)
    from numerics.markov import certified

    signs_ok, certs = True, {}
    for p_, q_ in CASES:
        cert = certified.certify_unigram_hessian(p_, q_)
        minimum, saddle = (2, 0, 1), (1, 1, 1)  # (positive, negative, exact zero)
        above, below = (minimum, saddle) if p_ + q_ > 1 else (saddle, minimum)
        expected = [below, above, above]  # w < -1/sqrt2, -1/sqrt2 < w <= 0, w >= 0
        got = [(iv.positive, iv.negative, iv.exact_zero) for iv in cert.intervals]
        signs_ok &= cert.certified and got == expected
        certs[f"p={p_},q={q_}"] = {f"w in [{iv.w[0]:.7f}, {iv.w[1]:.7f}]":
                                   f"+{iv.positive} -{iv.negative} 0x{iv.exact_zero}"
                                   for iv in cert.intervals}
    measured["certified signs (positive, negative, exact zero)"] = certs
    return decide(symbolic and worst < 1e-7 and signs_ok, "diag(2 g1o (1+2w|w|), 0, pi0 pi1)",
                  measured, 1e-7,
                  note + " Certified (arb): the Hessian evaluated at e = 0 exactly and b = log(p/q) "
                  "on w-intervals bisected until the eigenvalue signs are certain (congruence + "
                  "Gershgorin); the w row and column are exact zeros (the line is critical for "
                  "every w: a structural zero eigenvalue). Signs hold on |w| <= 2.5 except within "
                  "1e-6 of the saddle w = -1/sqrt2, where 1 + 2w|w| changes sign.",
                  method=certify.CERTIFIED_METHOD)


@claim("markov.critical_set", paper=P2, reference="Sec. 3, critical points",
       statement=r"The only critical points are the global-minimum curve, the unigram line and the "
                 r"saddle \((0, -1/\sqrt{2}, \log(p/q))\); there are no others.")
def _critical_set(ctx: CheckContext):
    G0, G1 = sp.symbols("G0 G1", real=True)

    def known_family(solution: dict) -> bool:
        global_curve = solution.get(G0) == 0 and solution.get(G1) == 0 and markov.e not in solution
        unigram = solution.get(markov.e) == 0 and is_zero(solution.get(G0, G0) + solution.get(G1, G1))
        return global_curve or unigram

    symbolic = all(known_family(s) for branch in (1, -1)
                   for s in markov.classify_stationary_solutions(branch))
    symbolic_note = ("Symbolic: with g0, g1 as unknowns the gradient system has only the solutions "
                     "e = 0, g0 = -g1 (unigram line) and g0 = g1 = 0 (global curve); w = 0 is covered "
                     "since dL/de = e(g1 - g0) there. ")
    if certify.certification_available():
        return _critical_set_certified(ctx, symbolic, symbolic_note)
    starts = 400 if ctx.full else 120
    counts, others = {}, []
    for p_, q_ in CASES:
        for point in canonical.search_critical_points(p_, q_, starts=starts, seed=ctx.seed):
            counts[point.family] = counts.get(point.family, 0) + 1
            if point.family == "other":
                others.append(point)
    holds = symbolic and not others and counts.get("unigram line") and counts.get("global minima")
    return decide(bool(holds), {"other": 0}, {"symbolic_solutions_only_two_families": symbolic,
                  "found_by_family": counts, "other": len(others)}, "gradient norm 1e-10",
                  symbolic_note + f"Numeric: {starts} seeded root-finding starts per "
                  f"chain in the box e, w in [-2.5, 2.5], b in [-4, 4]. The saddle is the point of "
                  f"the unigram line where its e-curvature changes sign. Not certified: python-flint "
                  f"is not installed.", method=certify.UNCERTIFIED_METHOD)


def _critical_set_certified(ctx: CheckContext, symbolic: bool, symbolic_note: str):
    from numerics.markov import certified

    slab = 0.05 if ctx.full else 0.1
    measured, ok = {"symbolic_solutions_only_two_families": symbolic}, symbolic
    timings = {}  # wall seconds per chain: never in measured, never in the verdict
    for p_, q_ in CASES:
        r = certified.certify_critical_set(p_, q_, slab=slab)
        ok &= r.certified
        measured[f"p={p_},q={q_}"] = {
            "certified": r.certified, "curve tubes (w-slabs)": r.tubes,
            "tube w-range": [round(v, 4) for v in r.tube_w_range] if r.tube_w_range else None,
            "failed tubes": len(r.failed_tubes), "excluded boxes": r.excluded_boxes,
            "boxes inside tubes": r.covered_boxes, "uncovered boxes": r.uncovered_count,
            "curve Hessian (+,+,0) certified on tubes": r.curve_hessian.tubes_positive_definite_normal}
        timings[f"p={p_},q={q_}"] = round(r.seconds, 2)
    return decide(bool(ok), {"other": 0, "uncovered boxes": 0}, measured, "proof (no tolerance)",
                  symbolic_note + "Certified (python-flint arb, every step enclosed) in the box "
                  "|e| <= 2.5, |w| <= 2.5, |b| <= 4 for each chain: for e != 0 grad L = 0 iff "
                  "g0 = g1 = 0 (exact reduction); around the global curve, w-slabs of width "
                  f"{slab} (split where needed, never across w = 0) carry a parametric Krawczyk "
                  "test in (e, b) with w an interval parameter: for every w of the slab exactly one "
                  "zero of (g0, g1) with e > 0 lies in the tube; every other box of "
                  "[0, 2.5] x [-2.5, 2.5] x [-4, 4] is excluded by bisection (g0, g1 or dL/db "
                  "provably nonzero); e < 0 by the symmetry e -> -e; at e = 0 the only zero is "
                  "b = log(p/q), inside the box. On every tube the Hessian has certified inertia "
                  "(+, +, 0) (positive definite on the normal space of the curve, exact zero along "
                  "it). The saddle (0, -1/sqrt2, log(p/q)) is the point of the unigram line where "
                  "its e-curvature changes sign (markov.unigram_hessian).",
                  method=certify.CERTIFIED_METHOD, timings=timings)

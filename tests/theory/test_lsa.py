"""Theory tests for the LSA paper (theory.lsa). References are independent: the paper's printed
anchors (Ding et al. 2025, Thm 3.3), brute-force enumeration of chains with exact Fractions, hand
algebra."""

import itertools
from fractions import Fraction

import pytest
import sympy as sp

from theory import lsa
from theory.errors import InputError, TooLargeError
from validation.testing import assert_expressions_equal


def _brute_force_moments(d, p, n, p01, p10):
    """E[x x^T|K] (kron) E[gg^T|K] and E[yx|K] (kron) E[g|K] by enumerating all chains (exact)."""
    K = {(0, 0): 1 - p01, (0, 1): p01, (1, 0): p10, (1, 1): 1 - p10}
    chains = []
    for s in itertools.product((0, 1), repeat=d + 1):
        pr = p if s[0] else 1 - p
        for a, b in zip(s, s[1:]):
            pr *= K[(a, b)]
        chains.append((s, pr))
    pairs = lsa.pair_ordering(d)
    E = lambda f: sum(pr * f(s) for s, pr in chains)
    g1 = [E(lambda s: s[i - 1] * s[k - 1]) for i, k in pairs]
    gg = [[E(lambda s: s[i - 1] * s[k - 1] * s[a - 1] * s[b - 1]) / n + (1 - Fraction(1, n)) * g1[u] * g1[v]
           for v, (a, b) in enumerate(pairs)] for u, (i, k) in enumerate(pairs)]
    xx = [[E(lambda s: s[j] * s[l]) for l in range(d)] for j in range(d)]
    yx = [E(lambda s: s[d] * s[j]) for j in range(d)]
    m = len(pairs)
    H = [[xx[r // m][c // m] * gg[r % m][c % m] for c in range(d * m)] for r in range(d * m)]
    h = [yx[r // m] * g1[r % m] for r in range(d * m)]
    return H, h


def test_theorem33_anchor_p_half_n_10():
    # reference value (p = 1/2, n = 10): X* = [4/57, 52/57, 8/19], f~* = 121/342
    sol = lsa.theorem33()
    assert isinstance(sol, lsa.Theorem33Solution)
    sub = {lsa.p: sp.Rational(1, 2), lsa.n: 10}
    assert [sp.simplify(v.subs(sub)) for v in sol.X] == [sp.Rational(4, 57), sp.Rational(52, 57), sp.Rational(8, 19)]
    assert sp.simplify(sol.loss.subs(sub)) == sp.Rational(121, 342)
    # printed h of Theorem 3.3
    assert_expressions_equal(sol.h, sp.Matrix([lsa.p**2 / 2, lsa.p**2 / 3, lsa.p**2 / 12 + lsa.p / 4]))
    # E[y_{n+1}] = P(s_2 = 1) averaged over the kernel = p (1 - 1/2) + (1 - p) 1/2 = 1/2
    assert sp.simplify(sol.Ey - sp.Rational(1, 2)) == 0
    # at rational (p, n) every field is a rational: H against brute-force enumeration at fixed K
    # is tested below; here H is symmetric positive definite (Lemma 3.1)
    at = lsa.theorem33(sp.Rational(1, 2), 10)
    assert at.H == at.H.T and at.H.is_positive_definite
    assert list(at.X) == [sp.Rational(4, 57), sp.Rational(52, 57), sp.Rational(8, 19)]
    assert at.loss == sp.Rational(121, 342)


def test_theorem33_large_n_limit():
    # the paper: X* -> (0, 1/p, 0), f~* -> (3 - 2p)/6 as n -> infinity
    sol = lsa.theorem33()
    assert [sp.simplify(sp.limit(v, lsa.n, sp.oo)) for v in sol.X] == [0, 1 / lsa.p, 0]
    assert_expressions_equal(sp.limit(sol.loss, lsa.n, sp.oo), (3 - 2 * lsa.p) / 6)


def test_optimum_of_a_hand_made_quadratic():
    # H = diag(2, 4), h = (2, 2), E[y] = 3: X* = (1, 1/2), f~* = 3 - (2 + 1) = 0 (by hand)
    opt = lsa.optimum(sp.diag(2, 4), sp.Matrix([2, 2]), sp.Integer(3))
    assert isinstance(opt, lsa.EnlargedOptimum)
    assert list(opt.X) == [1, sp.Rational(1, 2)] and opt.loss == 0
    x = sp.Symbol("x")
    sym = lsa.optimum(sp.diag(x, 1), sp.Matrix([x, 1]), sp.Integer(2))
    assert list(sym.X) == [1, 1] and sp.simplify(sym.loss - (1 - x)) == 0


def test_smallest_realizable_n_at_one_half():
    # by hand from R(p, n) (tests/validation/ledger: R(1/2, 5) < 0 <= R(1/2, 6)); the same value
    # as the realisability test of the enlarged optimum itself (X2^2 >= 4 X1 X3) at n = 5, 6
    r = lsa.smallest_realizable_n(sp.Rational(1, 2), 50)
    assert isinstance(r, lsa.SmallestRealizableN)
    assert r.n_min == 6 and r.stays_realizable
    for nv, realizable in ((5, False), (6, True)):
        X = lsa.theorem33(sp.Rational(1, 2), nv).X
        assert (X[1] ** 2 - 4 * X[0] * X[2] >= 0) == realizable
    # no n <= 3 works at p = 1/2
    assert lsa.smallest_realizable_n(sp.Rational(1, 2), 3).n_min is None


@pytest.mark.parametrize("d", [1, 2])
def test_fixed_kernel_moments_match_enumeration(d):
    # Lemma 3.2 (K-conditional) against brute-force enumeration of all 2^(d+1) chains
    p, n, a, b = Fraction(1, 3), 5, Fraction(2, 7), Fraction(3, 5)
    mom = lsa.markov_moments(d, sp.Rational(1, 3), n, kernel="fixed")
    assert isinstance(mom, lsa.EnlargedMoments)
    sub = {lsa.p01: sp.Rational(2, 7), lsa.p10: sp.Rational(3, 5)}
    Hb, hb = _brute_force_moments(d, p, n, a, b)
    assert mom.H.subs(sub) == sp.Matrix(Hb).applyfunc(sp.Rational)
    assert mom.h.subs(sub) == sp.Matrix(hb).applyfunc(sp.Rational)
    # E[y] = P(s_{d+1} = 1 | K) by the chain's marginal: (1-p, p) K^d, column 2
    K = sp.Matrix([[1 - sp.Rational(2, 7), sp.Rational(2, 7)], [sp.Rational(3, 5), 1 - sp.Rational(3, 5)]])
    marginal = (sp.Matrix([[1 - sp.Rational(1, 3), sp.Rational(1, 3)]]) * K**d)[0, 1]
    assert sp.nsimplify(mom.Ey.subs(sub)) == marginal


def test_random_kernel_is_integral_of_fixed_kernel():
    # averaging the fixed-kernel H over [0,1]^2 with sympy.integrate (a different method)
    fixed = lsa.markov_moments(2, sp.Rational(1, 4), 3, kernel="fixed")
    rand = lsa.markov_moments(2, sp.Rational(1, 4), 3)
    for (r, c) in [(0, 0), (3, 7), (8, 11), (11, 11)]:
        assert sp.integrate(fixed.H[r, c], (lsa.p01, 0, 1), (lsa.p10, 0, 1)) == rand.H[r, c]
    assert sp.integrate(fixed.h[10], (lsa.p01, 0, 1), (lsa.p10, 0, 1)) == rand.h[10]
    assert sp.integrate(fixed.Ey, (lsa.p01, 0, 1), (lsa.p10, 0, 1)) == rand.Ey


def test_factor_averaging_equals_kronecker_for_d1_only():
    H1 = lsa.markov_moments(1, sp.Rational(1, 3), 4).H
    F1 = lsa.markov_moments(1, sp.Rational(1, 3), 4, kernel="factor").H
    assert H1 == F1  # E[x x^T|K] = p does not depend on K when d = 1
    H2 = lsa.markov_moments(2, sp.Rational(1, 3), 4).H
    F2 = lsa.markov_moments(2, sp.Rational(1, 3), 4, kernel="factor").H
    assert H2 != F2


def test_single_layer_identity_exact():
    # TF = b^T G A x = <x (kron) vech(G), phi(b, A)> with all entries symbolic
    assert lsa.single_layer_identity_residual(2, 2) == 0


def test_output_zero_when_query_zero():
    Z = sp.Matrix([[1, 0, 0], [1, 1, 0]])
    P, Q = sp.Matrix(2, 2, sp.symbols("a:4")), sp.Matrix(2, 2, sp.symbols("q:4"))
    out = lsa.lsa_forward([P], [Q], Z)
    assert isinstance(out, lsa.LSAOutput) and out.tf == 0


def test_lsa_forward_one_layer_by_hand():
    # d = 1, n = 1, Z = [[x1, x2], [y1, 0]], P = [[0, 0], [0, 1]], Q = [[1, 0], [0, 0]]:
    # Z M Z^T = [[x1^2, x1 y1], [x1 y1, y1^2]]; P (Z M Z^T) Q Z has only the bottom row
    # (x1 y1) * (first row of Z) = x1 y1 (x1, x2), so TF = 0 + x1 y1 x2 and Z_L[0] = Z[0]
    x1, x2, y1 = sp.symbols("x1 x2 y1")
    Z = sp.Matrix([[x1, x2], [y1, 0]])
    out = lsa.lsa_forward([sp.Matrix([[0, 0], [0, 1]])], [sp.Matrix([[1, 0], [0, 0]])], Z)
    assert sp.expand(out.tf - x1 * y1 * x2) == 0
    assert out.Z[0, :] == Z[0, :] and sp.expand(out.Z[1, 0] - (y1 + x1**2 * y1)) == 0
    assert sp.expand(lsa.lsa_forward([sp.Matrix([[0, 0], [0, 1]])], [sp.Matrix([[1, 0], [0, 0]])],
                                     Z, sign=-1).tf + x1 * y1 * x2) == 0


def test_theorem33_parameters_realise_X():
    X = [sp.Rational(1), sp.Rational(5), sp.Rational(2)]  # 25 >= 8: realisable
    params = lsa.theorem33_parameters(X)
    assert isinstance(params, lsa.Theorem33Parameters)
    assert_expressions_equal(lsa.phi(params.b, params.A), sp.Matrix(X))
    # by hand: beta^2 - 5 beta + 2 = 0, root 0 is (5 + sqrt 17)/2; b = (1, beta), a = (1, 5 - beta)
    beta = (5 + sp.sqrt(17)) / 2
    assert_expressions_equal(params.b, sp.Matrix([1, beta]))
    assert_expressions_equal(params.A, sp.Matrix([[1], [5 - beta]]))
    assert_expressions_equal(lsa.theorem33_parameters(X, root=1).b, sp.Matrix([1, (5 - sp.sqrt(17)) / 2]))
    with pytest.raises(InputError):
        lsa.theorem33_parameters([1, 1, 1])  # 1 < 4: outside the image


def test_correlated_reduces_to_theorem33():
    # Theorem 3.4 with c1 = n p^2, c2 = n(n-1) p^3 gives back Theorem 3.3 (symbolic in p, n)
    cor = lsa.correlated_moments(lsa.p, lsa.n, lsa.n * lsa.p**2, lsa.n * (lsa.n - 1) * lsa.p**3)
    ind = lsa.markov_moments(1)
    assert isinstance(cor, lsa.EnlargedMoments)
    assert_expressions_equal(cor.H, ind.H)
    assert_expressions_equal(cor.h, ind.h)
    assert_expressions_equal(cor.Ey, ind.Ey)
    # printed h of Theorem 3.4
    hc = lsa.correlated_moments().h
    assert_expressions_equal(hc, sp.Matrix([lsa.c1 / (2 * lsa.n), lsa.c1 / (3 * lsa.n), lsa.p / 4 + lsa.c1 / (12 * lsa.n)]))


def test_multilayer_recursion_matches_lsa_layer():
    # Theorem 4.1: the objectives' Jacobians reproduce one LSA layer, symbolic w, b, Abar, a
    xs = sp.Matrix([[1, 0], [1, 1], [0, 1]])
    ys = sp.Matrix([1, 0, 1])
    w = sp.Matrix(sp.symbols("w0:2"))
    b = sp.Matrix(sp.symbols("b0:3"))
    Abar = sp.Matrix(2, 2, sp.symbols("A0:4"))
    a = sp.Matrix(sp.symbols("a0:2"))
    assert_expressions_equal(lsa.multilayer_step_paper(w, b, Abar, a, xs, ys), lsa.multilayer_step_lsa(w, b, Abar, a, xs, ys))


def test_gaussian_closed_forms():
    # isotropic noiseless: L* = d(d+1)/(n+d+1) (Ahn et al.); Gamma* = n/(n+d+1) I
    d, nv = 3, 7
    G = lsa.gaussian_gamma_star(sp.eye(d), nv)
    assert G == sp.eye(d) * sp.Rational(nv, nv + d + 1)
    assert lsa.gaussian_optimal_loss(sp.eye(d), nv) == sp.Rational(d * (d + 1), nv + d + 1)
    S = sp.diag(1, 2)
    assert_expressions_equal(lsa.gaussian_loss(lsa.gaussian_gamma_star(S, 5), S, 5), lsa.gaussian_optimal_loss(S, 5))
    assert lsa.zfb_to_ahn(S, 5) == lsa.gaussian_gamma_star(S, 5)
    X = lsa.gaussian_enlarged_optimum(sp.eye(2), 4)
    nz = {lab: v for lab, v in zip(lsa.feature_ordering(2), X) if v != 0}
    assert nz == {(1, 1, 3): sp.Rational(4, 7), (2, 2, 3): sp.Rational(4, 7)}


def test_bad_input():
    with pytest.raises(InputError, match="p="):
        lsa.markov_moments(1, sp.Rational(3, 2), 3)
    with pytest.raises(InputError, match="d="):
        lsa.markov_moments(0, sp.Rational(1, 2), 3)
    with pytest.raises(InputError, match="n="):
        lsa.markov_moments(1, sp.Rational(1, 2), 0)
    with pytest.raises(TooLargeError, match="numeric path"):
        lsa.markov_moments(lsa.EXACT_MAX_D + 1, sp.Rational(1, 2), 3)
    with pytest.raises(InputError, match="Sigma"):
        lsa.gaussian_gamma_star(sp.diag(1, 0), 3)
    with pytest.raises(InputError, match="X"):
        lsa.sym_blocks([1, 2], 1)


def test_image_conditions_hold_on_the_image_and_fail_off_it():
    # reference: X built by phi itself from rational (b, A), and a hand-made definite block
    b = [sp.Rational(1, 2), -2, 3]
    A = [[1, sp.Rational(1, 3)], [0, 2], [-1, 5]]
    cond = lsa.image_conditions(lsa.phi(b, A), 2)
    assert isinstance(cond, lsa.ImageConditions)
    assert len(cond.minors) == 2 and len(cond.e2) == 2  # d C(d+1, 3)^2 = 2 minors, d blocks
    assert all(m == 0 for m in cond.minors) and all(e <= 0 for e in cond.e2)
    # S_1 = identity (positive definite) -> e2 = 3 > 0
    X = [1, 0, 0, 1, 0, 1] + [0] * 6
    assert lsa.image_conditions(X, 2).e2[0] == 3
    # d = 1: e2 = X1 X3 - X2^2/4, no 3 x 3 minors
    x1, x2, x3 = sp.symbols("x1 x2 x3")
    cond1 = lsa.image_conditions([x1, x2, x3], 1)
    assert cond1.minors == [] and sp.expand(cond1.e2[0] + lsa.image_condition_d1([x1, x2, x3]) / 4) == 0


def test_example_c5_sums_by_enumeration():
    # x_{n+1} ~ Bern(p), x_i | x_{n+1} ~ Bern((x_{n+1} - p)^2) i.i.d.: enumerate x_{n+1} in {0, 1}
    p, n = sp.Rational(1, 3), 4
    c1 = c2 = 0
    for xq, weight in ((0, 1 - p), (1, p)):
        q = (xq - p) ** 2
        c1 += weight * xq * n * q               # sum_i E[x_i x_{n+1}]
        c2 += weight * xq * n * (n - 1) * q**2  # sum_{i != j} E[x_i x_j x_{n+1}]
    sums = lsa.example_c5_moments(p, n)
    assert isinstance(sums, lsa.CorrelationSums)
    assert (sums.c1, sums.c2) == (c1, c2)


# ---------------------------------------------------------------------------------------------
# Issue 11: declared domains, no evaluated strings, finite results

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from validation.testing.fuzz import assert_clean_call, values  # noqa: E402


@settings(derandomize=True, max_examples=30, deadline=None)
@given(values(lsa.P_EXACT), st.sampled_from([1, 5, 50, 0, -3, 10**6, 2.5, None]))
def test_smallest_realizable_n_is_clean_over_its_domain(p_value, n_max):
    r = assert_clean_call(lsa.smallest_realizable_n, p_value, n_max)
    assert r is None or r.n_min is None or 1 <= r.n_min <= n_max


@settings(derandomize=True, max_examples=30, deadline=None)
@given(st.lists(st.one_of(st.integers(-5, 5), st.floats(allow_nan=True, allow_infinity=True),
                          st.sampled_from(["1/2", "nan", "__import__('os')", "1e99999999"])),
                min_size=3, max_size=3), values(lsa.ROOT))
def test_theorem33_parameters_is_clean_and_never_evaluates(X, root):
    r = assert_clean_call(lsa.theorem33_parameters, X, root)
    if r is not None:
        assert all(v.is_real is not False for v in list(r.b) + list(r.A))


def test_exact_number_reads_rationals_strictly():
    import sympy as sp

    assert lsa.exact_number("x", "3/10") == sp.Rational(3, 10)
    assert lsa.exact_number("x", 0.1) == sp.Rational(1, 10)
    with pytest.raises(InputError, match="x="):
        lsa.exact_number("x", "__import__('os').system('true')")
    with pytest.raises(InputError):
        lsa.exact_number("x", float("nan"))
    with pytest.raises(InputError):
        lsa.exact_number("x", sp.zoo)

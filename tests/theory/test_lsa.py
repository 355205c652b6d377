"""Theory tests for the LSA paper (theory.lsa). References are independent: the spec's printed
anchors, brute-force enumeration of chains with exact Fractions, hand algebra."""

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
    # spec section 2 anchor (p = 1/2, n = 10): X* = [4/57, 52/57, 8/19], f~* = 121/342
    _, h, _, X, loss = lsa.theorem33()
    sub = {lsa.p: sp.Rational(1, 2), lsa.n: 10}
    assert [sp.simplify(v.subs(sub)) for v in X] == [sp.Rational(4, 57), sp.Rational(52, 57), sp.Rational(8, 19)]
    assert sp.simplify(loss.subs(sub)) == sp.Rational(121, 342)
    # printed h of Theorem 3.3
    assert_expressions_equal(h, sp.Matrix([lsa.p**2 / 2, lsa.p**2 / 3, lsa.p**2 / 12 + lsa.p / 4]))


def test_theorem33_large_n_limit():
    # spec: X* -> (0, 1/p, 0), f~* -> (3 - 2p)/6 as n -> infinity
    _, _, _, X, loss = lsa.theorem33()
    assert [sp.simplify(sp.limit(v, lsa.n, sp.oo)) for v in X] == [0, 1 / lsa.p, 0]
    assert_expressions_equal(sp.limit(loss, lsa.n, sp.oo), (3 - 2 * lsa.p) / 6)


@pytest.mark.parametrize("d", [1, 2])
def test_fixed_kernel_moments_match_enumeration(d):
    # Lemma 3.2 (K-conditional) against brute-force enumeration of all 2^(d+1) chains
    p, n, a, b = Fraction(1, 3), 5, Fraction(2, 7), Fraction(3, 5)
    H, h, _ = lsa.markov_moments(d, sp.Rational(1, 3), n, kernel="fixed")
    sub = {lsa.p01: sp.Rational(2, 7), lsa.p10: sp.Rational(3, 5)}
    Hb, hb = _brute_force_moments(d, p, n, a, b)
    assert H.subs(sub) == sp.Matrix(Hb).applyfunc(sp.Rational)
    assert h.subs(sub) == sp.Matrix(hb).applyfunc(sp.Rational)


def test_random_kernel_is_integral_of_fixed_kernel():
    # averaging the fixed-kernel H over [0,1]^2 with sympy.integrate (a different method)
    Hf, hf, _ = lsa.markov_moments(2, sp.Rational(1, 4), 3, kernel="fixed")
    Hr, hr, _ = lsa.markov_moments(2, sp.Rational(1, 4), 3)
    for (r, c) in [(0, 0), (3, 7), (8, 11), (11, 11)]:
        assert sp.integrate(Hf[r, c], (lsa.p01, 0, 1), (lsa.p10, 0, 1)) == Hr[r, c]
    assert sp.integrate(hf[10], (lsa.p01, 0, 1), (lsa.p10, 0, 1)) == hr[10]


def test_factor_averaging_equals_kronecker_for_d1_only():
    H1, _, _ = lsa.markov_moments(1, sp.Rational(1, 3), 4)
    F1, _, _ = lsa.markov_moments(1, sp.Rational(1, 3), 4, kernel="factor")
    assert H1 == F1  # E[x x^T|K] = p does not depend on K when d = 1
    H2, _, _ = lsa.markov_moments(2, sp.Rational(1, 3), 4)
    F2, _, _ = lsa.markov_moments(2, sp.Rational(1, 3), 4, kernel="factor")
    assert H2 != F2


def test_single_layer_identity_exact():
    # TF = b^T G A x = <x (kron) vech(G), phi(b, A)> with all entries symbolic
    assert lsa.single_layer_identity_residual(2, 2) == 0


def test_output_zero_when_query_zero():
    Z = sp.Matrix([[1, 0, 0], [1, 1, 0]])
    P, Q = sp.Matrix(2, 2, sp.symbols("a:4")), sp.Matrix(2, 2, sp.symbols("q:4"))
    assert lsa.lsa_forward([P], [Q], Z)[0] == 0


def test_theorem33_parameters_realise_X():
    X = [sp.Rational(1), sp.Rational(5), sp.Rational(2)]  # 25 >= 8: realisable
    b, A = lsa.theorem33_parameters(X)
    assert_expressions_equal(lsa.phi(b, A), sp.Matrix(X))
    with pytest.raises(InputError):
        lsa.theorem33_parameters([1, 1, 1])  # 1 < 4: outside the image


def test_correlated_reduces_to_theorem33():
    # Theorem 3.4 with c1 = n p^2, c2 = n(n-1) p^3 gives back Theorem 3.3 (symbolic in p, n)
    H, h, Ey = lsa.correlated_moments(lsa.p, lsa.n, lsa.n * lsa.p**2, lsa.n * (lsa.n - 1) * lsa.p**3)
    H3, h3, Ey3 = lsa.markov_moments(1)
    assert_expressions_equal(H, H3)
    assert_expressions_equal(h, h3)
    assert_expressions_equal(Ey, Ey3)
    # printed h of Theorem 3.4
    Hc, hc, _ = lsa.correlated_moments()
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
    assert all(m == 0 for m in cond["minors"]) and all(e <= 0 for e in cond["e2"])
    # S_1 = identity (positive definite) -> e2 = 3 > 0
    X = [1, 0, 0, 1, 0, 1] + [0] * 6
    assert lsa.image_conditions(X, 2)["e2"][0] == 3
    # d = 1: e2 = X1 X3 - X2^2/4
    x1, x2, x3 = sp.symbols("x1 x2 x3")
    assert sp.expand(lsa.image_conditions([x1, x2, x3], 1)["e2"][0] + lsa.image_condition_d1([x1, x2, x3]) / 4) == 0

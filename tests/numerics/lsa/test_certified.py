"""numerics.lsa.certified: Theorem 3.3's gauge points as certified strict local minima, the best
point where X* is not realisable, refusals of false statements."""

import numpy as np
import pytest
import sympy as sp

from theory import lsa
from theory.errors import InputError

pytest.importorskip("flint")
from flint import arb  # noqa: E402

from numerics.lsa import certified  # noqa: E402

HALF = sp.Rational(1, 2)


def test_problem_exact_anchor_and_gradient_vanishes_at_the_theorem_point():
    prob = certified.Problem(HALF, 10)
    for ball, exact in zip(prob.X, (sp.Rational(4, 57), sp.Rational(52, 57), sp.Rational(8, 19))):
        assert ball.overlaps(arb(float(exact)))
        assert abs(float(ball.mid()) - float(exact)) < 1e-15
    for root in (0, 1):
        point = certified.theorem_point(prob, root)
        assert all(g.contains(0) for g in certified.gradient(prob, point))
        # the gauge point realises X*: phi((1, beta), a) = X*
        params = lsa.theorem33_parameters(list(prob.exact.X), root)
        assert abs(float(point[0].mid()) - float(sp.N(params.b[1], 30))) < 1e-12


def test_enclosures_contain_the_float_hessian():
    prob = certified.Problem(sp.Rational(3, 10), 7)
    H, h = prob.Hf, prob.hf
    for beta, a1, a2 in np.random.default_rng(3).normal(size=(6, 3)):
        X = np.array([a1, a2 + beta * a1, beta * a2])
        J = np.array([[0, 1, 0], [a1, beta, 1], [a2, 0, beta]])
        r = 2 * (H @ X - h)
        hess = 2 * J.T @ H @ J + np.array([[0, r[1], r[2]], [r[1], 0, 0], [r[2], 0, 0]])
        enc = certified.hessian(prob, [arb(beta), arb(a1), arb(a2)])
        for i in range(3):
            for j in range(3):
                assert abs(float(enc[i, j].mid()) - hess[i, j]) <= float(enc[i, j].rad()) + 1e-12
        # the float path: same formulas, written out above
        gh = certified.float_gradient_hessian(H, h, [beta, a1, a2])
        assert isinstance(gh, certified.GradientHessian)
        assert np.allclose(gh.hessian, hess, atol=1e-12) and np.allclose(gh.gradient, J.T @ r, atol=1e-12)
        # the gradient agrees with finite differences of the loss
        f = lambda v: float(certified.loss(prob, [arb(x) for x in v]).mid())
        g = [float(x.mid()) for x in certified.gradient(prob, [arb(beta), arb(a1), arb(a2)])]
        step = 1e-6
        fd = [(f(np.array([beta, a1, a2]) + step * e) - f(np.array([beta, a1, a2]) - step * e))
              / (2 * step) for e in np.eye(3)]
        assert np.allclose(g, fd, atol=1e-6)


@pytest.mark.parametrize("p,n", [(HALF, 10), (sp.Rational(1, 4), 5), (sp.Rational(19, 20), 10),
                                 (sp.Rational(3, 4), 50)])
def test_theorem33_certified(p, n):
    r = certified.certify_theorem33(p, n)
    assert isinstance(r, certified.Theorem33Certificate)
    assert r.certified and r.realizable and r.reason is None
    assert len(r.roots) == 2
    assert r.p == str(p) and r.n == n and r.fstar == str(lsa.theorem33(p, n).loss)
    for root in r.roots:
        assert isinstance(root, certified.RootCertificate)
        assert root.unique and root.hessian_pd and root.certified
        assert root.theorem_point_inside and root.loss_equals_fstar
        # the float bounds of the box contain those of the exact point
        assert all(lo <= plo and phi <= hi for (lo, hi), (plo, phi) in zip(root.box, root.theorem_point))


def test_uncertified_check_agrees_with_the_certificate_and_refuses_a_non_realisable_point():
    assert certified.uncertified_theorem33_check(HALF, 10)
    assert certified.uncertified_theorem33_check(sp.Rational(19, 20), 10)
    with pytest.raises(InputError):  # p = 1/2, n = 3: X* outside the image, no real beta
        certified.uncertified_theorem33_check(HALF, 3)


def test_low_precision_cannot_certify_the_nearly_degenerate_case():
    # p = 19/20, n = 10 is the smallest realisable n: the two roots nearly coincide and the
    # Hessian's smallest eigenvalue is ~1e-8; 53 bits on a 1e-7 box do not suffice
    assert not certified.certify_theorem33(sp.Rational(19, 20), 10, radius=1e-7, prec=53).certified


def test_not_realisable_is_not_certified():
    r = certified.certify_theorem33(HALF, 3)
    assert not r.realizable and not r.certified and not r.roots and r.reason == "not realisable"
    X = lsa.theorem33(HALF, 3).X
    assert r.discriminant == str(X[1] ** 2 - 4 * X[0] * X[2]) and sp.Rational(r.discriminant) < 0
    with pytest.raises(InputError):
        certified.theorem_point(certified.Problem(HALF, 3))


def test_best_unrealisable_point_is_a_certified_local_minimum_above_fstar():
    r = certified.certify_best_unrealizable(HALF, 3, seed=0)
    assert isinstance(r, certified.BestPointCertificate)
    assert r.certified and r.unique and r.hessian_pd and r.above_fstar and not r.realizable
    assert 1.5e-3 < r.gap_lower_bound < 1.52e-3      # README: gap 1.5e-3
    assert r.fstar == "407/1088"                      # exact f~*(1/2, 3), as in the claim's note
    assert r.loss[0] <= r.best_loss_float <= r.loss[1] + 1e-12


def test_a_non_stationary_point_is_not_certified():
    prob = certified.Problem(HALF, 10)
    point = certified.theorem_point(prob, 1)
    shifted = [v + 1e-3 for v in point]            # balls: used as the centre without polishing
    res = certified.certify_point(prob, shifted, radius=1e-6)
    assert isinstance(res, certified.PointCertificate)
    assert not res.unique and not res.certified and res.reason


def test_bad_input():
    with pytest.raises(InputError):
        certified.Problem(sp.Rational(3, 2), 10)
    with pytest.raises(InputError):
        certified.Problem(HALF, 0)

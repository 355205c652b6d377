"""theory.potts Part 2 (spec Secs. 11-12): replicon identities and the softmax channel's algebra;
the symbolic results are also checked at numbers (a wrong simplification cannot pass)."""

import math

import numpy as np
import pytest
import sympy as sp

from theory import potts


def test_replicon_identities_are_zero():
    r = potts.replicon_identities()
    assert (r.r2_lambda, r.r2_error_factor, r.r1_bound_gap, r.prior_product) == (0, 0, 0, 0)


def test_r2_replicon_numbers():
    # Lambda = alpha V^2/(1+V)^2 with V the R2 root; e (1 - Lambda) = numerator, at numbers
    cf = potts.r2_closed_form(alpha=3, lam=sp.Rational(1, 5), rho=1, Delta=sp.Rational(1, 2))
    V, kappa, e = (float(x) for x in (cf.V, cf.kappa, cf.e))
    lam_ = 3 * V**2 / (1 + V) ** 2
    assert lam_ == pytest.approx(kappa**2 / 3, rel=1e-14)
    assert e * (1 - lam_) == pytest.approx((1 - kappa) ** 2 + kappa**2 * 0.5 / 3, rel=1e-13)


def test_softmax_identities_c2():
    r = potts.softmax_channel_identities(2)
    for f in ("gradient", "hessian", "teacher_gradient", "prox_stationarity", "features"):
        assert all(e == 0 for e in getattr(r, f))
    assert r.ising_reduction == 0


@pytest.mark.slow
def test_softmax_identities_c3():
    r = potts.softmax_channel_identities(3, label=2)
    for f in ("gradient", "hessian", "teacher_gradient", "prox_stationarity", "features"):
        assert all(e == 0 for e in getattr(r, f))


def test_softmax_gradient_by_finite_differences():
    # the formula B^T (p - e_y) checked at numbers, independently of sympy's simplification
    rng = np.random.default_rng(0)
    B, x, y = rng.standard_normal((3, 2)), rng.standard_normal(2), 1

    def loss(t):
        z = B @ t
        return -(z[y] - math.log(np.exp(z).sum()))

    p = np.exp(B @ x) / np.exp(B @ x).sum()
    grad = B.T @ (p - np.eye(3)[y])
    fd = [(loss(x + h) - loss(x - h)) / 2e-6 for h in 1e-6 * np.eye(2)]
    assert np.allclose(grad, fd, atol=1e-8)


def test_softmax_identity_arguments():
    from theory.errors import InputError

    with pytest.raises(InputError):
        potts.softmax_channel_identities(1)
    with pytest.raises(InputError):
        potts.softmax_channel_identities(3, label=3)

"""numerics.lsa.landscape: the d = 1 slice (X1, X3) with X2 profiled, against direct evaluation of
the enlarged loss and a brute-force minimisation over X2 at points."""

from fractions import Fraction

import numpy as np
import pytest

from numerics.lsa import optimum
from numerics.lsa.landscape import lsa_landscape_d1, profile_x2
from theory.errors import InputError, TooLargeError


def _f(mom, X):
    """f~(X) = X^T H X - 2 h^T X + E[y] on rows of X."""
    return np.einsum("ki,ij,kj->k", X, mom.H, X) - 2 * X @ mom.h + mom.Ey


def _brute_force(x1, x3, mom):
    """(min over X2 of f~(x1, X2, x3) on a fine grid; min over one-layer LSAs with b1 a1 = x1 and
    b2 a2 = x3): the LSAs in the gauge b = (1, beta) have a = (x1, x3 / beta), so
    X2 = x3 / beta + beta x1, scanned over beta of both signs from 1e-4 to 1e4."""
    x2 = np.linspace(-4, 4, 400001)
    free = _f(mom, np.stack([np.full_like(x2, x1), x2, np.full_like(x2, x3)], axis=1)).min()
    beta = np.concatenate([-np.logspace(-4, 4, 400001), np.logspace(-4, 4, 400001)])
    x2 = x3 / beta + beta * x1
    lsa = _f(mom, np.stack([np.full_like(x2, x1), x2, np.full_like(x2, x3)], axis=1)).min()
    return free, lsa


@pytest.mark.parametrize("n", [3, 10])
def test_grid_values_match_direct_evaluation_at_points(n):
    mom = optimum.markov_moments_numeric(1, 0.5, n)
    data = lsa_landscape_d1(0.5, n, x1_range=(-0.5, 1.0), x3_range=(-0.5, 1.2), grid=31)
    rng = np.random.default_rng(0)
    for i, j in rng.integers(0, 31, size=(6, 2)):
        x1, x3 = data.x1[j], data.x3[i]
        free, lsa = _brute_force(x1, x3, mom)
        # a parabola in X2 minimised on a 2e-5 grid: error <= H22 (1e-5)^2; the LSA scan is
        # stationary at the edge of the realisable set, so its grid error is of the same order
        assert data.loss[i, j] == pytest.approx(free, abs=1e-8)
        assert data.lsa_loss[i, j] == pytest.approx(lsa, abs=1e-8)
        assert data.lsa_loss[i, j] >= data.loss[i, j] - 1e-15
        assert bool(data.realizable[i, j]) == optimum.realizable_d1([x1, data.x2[i, j], x3])


def test_minimum_of_the_slice_is_the_exact_optimum():
    # Ding et al. 2025 anchor (spec lsa.md, d = 1): p = 1/2, n = 10 gives X* = (4/57, 52/57, 8/19)
    # and f~* = 121/342, realisable (52/57)^2 >= 4 (4/57)(8/19)
    data = lsa_landscape_d1(0.5, 10, grid=11)
    np.testing.assert_allclose(data.X_star, [4 / 57, 52 / 57, 8 / 19], rtol=1e-12)
    assert data.fstar == pytest.approx(float(Fraction(121, 342)), rel=1e-12)
    assert data.star_realizable and data.best_loss == data.fstar
    # the default window is centred on X*, so the middle grid point is (X1*, X3*)
    assert data.x1[5] == pytest.approx(4 / 57) and data.x3[5] == pytest.approx(8 / 19)
    assert data.loss[5, 5] == pytest.approx(121 / 342, rel=1e-12)
    assert data.loss.min() == pytest.approx(121 / 342, rel=1e-12)


def test_unrealisable_optimum_n3():
    # p = 1/2, n = 3: X* is outside the image of phi (claim lsa.thm33_realizable); the best LSA loss
    # is above f~* and the minimum of the LSA-profiled slice comes close to it from above
    data = lsa_landscape_d1(0.5, 3, grid=401)
    assert not data.star_realizable and data.best_loss > data.fstar + 1e-3
    assert data.lsa_loss.min() >= data.best_loss - 1e-12
    assert data.lsa_loss.min() == pytest.approx(data.best_loss, abs=1e-5)
    x1, x2, x3 = data.best_X
    assert x2 ** 2 >= 4 * x1 * x3 - 1e-12  # the best LSA's X is realisable


def test_profile_x2_closed_form():
    mom = optimum.markov_moments_numeric(1, 0.3, 4)
    H, h = mom.H, mom.h
    x2u, x2c = profile_x2(0.2, 0.5, mom)
    assert float(x2u) == pytest.approx((h[1] - H[1, 0] * 0.2 - H[1, 2] * 0.5) / H[1, 1], rel=1e-14)
    if x2u ** 2 < 4 * 0.2 * 0.5:
        assert abs(float(x2c)) == pytest.approx(2 * np.sqrt(0.1))
    assert profile_x2(-0.2, 0.5, mom)[1] == profile_x2(-0.2, 0.5, mom)[0]  # X1 X3 < 0: free


def test_bad_input():
    with pytest.raises(InputError, match="x1_range"):
        lsa_landscape_d1(0.5, 3, x1_range=(1.0, 0.0), grid=5)
    with pytest.raises(InputError, match="grid"):
        lsa_landscape_d1(0.5, 3, grid=1)
    with pytest.raises(InputError, match="p"):
        lsa_landscape_d1(1.5, 3, grid=5)
    with pytest.raises((InputError, TooLargeError), match="grid"):
        lsa_landscape_d1(0.5, 3, grid=10**6)

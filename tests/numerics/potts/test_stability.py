"""numerics.potts.stability (spec Sec. 11): the replicon against the spec's reference values by an
independent route (another quadrature, another parameterisation and a bisection prox written
here), the bound, R2's closed form and the separability threshold by adaptive quadrature."""

import math

import numpy as np
import pytest
from scipy import integrate
from scipy.optimize import minimize_scalar
from scipy.special import expit, ndtr

from numerics.potts import replica, stability

# spec Sec. 11 [derived; rho = 1, 61^2 quadrature], alpha = .5, 1, 2, 4, 8
SPEC_LAMBDA = {1.0: (0.01586, 0.02710, 0.04071, 0.05034, 0.04897),
               0.1: (0.13402, 0.21114, 0.25084, 0.19733, 0.11736)}
ALPHAS = (0.5, 1.0, 2.0, 4.0, 8.0)


def _prox_bisection(y, omega, V, steps=80):
    """argmin_x (x - omega)^2/(2V) + log(1 + e^{-yx}) by plain bisection on its derivative."""
    lo, hi = omega - V - 1.0, omega + V + 1.0
    for _ in range(steps):
        mid = 0.5 * (lo + hi)
        g = mid - omega - V * y * expit(-y * mid)
        lo, hi = np.where(g < 0, mid, lo), np.where(g < 0, hi, mid)
    return 0.5 * (lo + hi)


def _replicon_independent(alpha, m, q, V, rho=1.0, n=81):
    """Lambda with z* as the primary Gaussian: z* = sqrt(rho) a, omega = (m/sqrt rho) a +
    sqrt(q - m^2/rho) b, 81 x 81 Gauss-Hermite (not the solver's 61 x 61 in (xi, u))."""
    x, w = np.polynomial.hermite_e.hermegauss(n)
    w = w / math.sqrt(2 * math.pi)
    A, B = np.meshgrid(x, x, indexing="ij")
    W = np.outer(w, w)
    zs = math.sqrt(rho) * A
    om = (m / math.sqrt(rho)) * A + math.sqrt(max(q - m * m / rho, 0.0)) * B
    total = 0.0
    for y in (1.0, -1.0):
        P = _prox_bisection(y, om, V)
        s = expit(P) * expit(-P)
        total += np.sum(W * expit(y * zs) * (s / (1 + V * s)) ** 2)
    return alpha * V * V * total


@pytest.mark.parametrize("lam", [1.0, 0.1])
def test_replicon_matches_spec_values_by_an_independent_quadrature(lam):
    # saddle points from the solver with a different quadrature (81 nodes), Lambda computed here
    curve = replica.r1_curve(ALPHAS, lam, 1.0, quadrature=81)
    ours = [_replicon_independent(a, m, q, V)
            for a, m, q, V in zip(curve.alpha, curve.m, curve.q, curve.V)]
    assert np.max(np.abs(np.array(ours) - SPEC_LAMBDA[lam])) < 1e-4
    lib = stability.r1_stability(ALPHAS, lam, 1.0)
    assert np.max(np.abs(lib.Lambda - SPEC_LAMBDA[lam])) < 1e-4


def test_bound_and_stability_on_a_grid():
    grid = np.linspace(0.25, 10, 8)  # the claim uses 20 points
    st = stability.r1_stability(grid, 0.1, 1.0, quadrature=41)
    assert np.all(st.Lambda <= st.bound) and np.all(st.bound < 1)
    # V Vhat = Vhat / (lam + Vhat) on the prior equation
    c = st.curve
    assert np.allclose(st.bound, c.Vhat / (0.1 + c.Vhat), rtol=1e-8)
    # spec's V Vhat at lam = 0.1 (3 decimals)
    spec_bound = (0.255, 0.445, 0.673, 0.844, 0.929)
    assert np.max(np.abs(stability.r1_stability(ALPHAS, 0.1).bound - spec_bound)) < 6e-4


def test_r2_replicon_is_kappa_squared_over_alpha_and_divides_the_error():
    st = stability.r2_stability([0.5, 1.0, 3.0], 0.2, 1.3, 0.4)
    c = st.curve
    assert np.allclose(st.Lambda, c.alpha * c.V**2 / (1 + c.V) ** 2, rtol=1e-12)
    numerator = 1.3 * (1 - c.kappa) ** 2 + c.kappa**2 * 0.4 / c.alpha
    assert np.allclose(c.e * (1 - st.Lambda), numerator, rtol=1e-12)
    assert np.all(st.Lambda < 1)


def _h_adaptive(g):
    """h(g) = min_t E[(Z - tYW)_+^2] with the W integral by adaptive quad (not Gauss-Hermite)."""
    def e_pos2(c):
        return (1 + c * c) * ndtr(-c) - c * math.exp(-0.5 * c * c) / math.sqrt(2 * math.pi)

    def value(t):
        f = lambda w: (expit(g * w) * e_pos2(t * w) + expit(-g * w) * e_pos2(-t * w)) \
            * math.exp(-0.5 * w * w) / math.sqrt(2 * math.pi)  # noqa: E731
        return integrate.quad(f, -np.inf, np.inf, epsabs=1e-13, epsrel=1e-12)[0]

    return minimize_scalar(value, bounds=(0, 20), method="bounded", options={"xatol": 1e-10}).fun


@pytest.mark.parametrize("rho, spec", [(0.0, 2.0), (0.25, 2.0764), (1.0, 2.2782), (4.0, 2.8991)])
def test_separability_threshold(rho, spec):
    # spec Sec. 11 (Candes-Sur); the spec quotes 4 decimals
    ours = stability.separability_threshold(rho)
    assert ours == pytest.approx(spec, abs=1e-4)
    assert ours == pytest.approx(1 / _h_adaptive(math.sqrt(rho)), abs=1e-7)

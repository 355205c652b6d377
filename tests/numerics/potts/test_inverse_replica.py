"""numerics.potts.inverse: L-BFGS pseudo-likelihood against the cvxpy oracle, gauge, scores,
the factored fit, and numerics.potts.replica against independent computations."""

import math

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from numerics.potts import population
from numerics.potts import inverse
from numerics.potts import replica
from numerics.potts import sampling
from theory.errors import InputError


@pytest.fixture(scope="module")
def data():
    model = population.default_model(4, 3, beta=1.0, seed=3)
    return model, sampling.sample(model, 800, chains=800, burn_in=80, thin=1, seed=2).samples


@pytest.mark.parametrize("symmetric", [False, True])
def test_plm_lbfgs_matches_cvxpy_oracle(data, symmetric):
    _, S = data
    a = inverse.fit_plm(S, 3, symmetric=symmetric, lam_h=1e-2, lam_J=1e-2)
    b = inverse.plm_cvxpy(S, 3, symmetric=symmetric, lam_h=1e-2, lam_J=1e-2)
    assert a.objective == pytest.approx(b.objective, abs=1e-7)
    assert np.max(np.abs(a.J - b.J)) < 1e-3
    assert np.max(np.abs(a.h - b.h)) < 1e-3


def test_zero_sum_gauge_keeps_the_conditionals():
    rng = np.random.default_rng(0)
    L, C = 4, 3
    J = rng.standard_normal((L, C, L, C))
    J[np.arange(L), :, np.arange(L), :] = 0
    h = rng.standard_normal((L, C))
    S = rng.integers(0, C, (50, L))
    Jz, hz = inverse.zero_sum_gauge(J, h)
    assert np.allclose(Jz.sum(1), 0) and np.allclose(Jz.sum(3), 0)
    # independent route: the conditionals of every site from the raw and gauged parameters
    assert inverse._mlm_loss_general(S, h, J) == pytest.approx(inverse._mlm_loss_general(S, hz, Jz), abs=1e-12)


def test_frobenius_apc_by_hand():
    # 3 sites, zero-sum blocks with norms F12 = 1, F13 = 2, F23 = 3; APC computed by hand:
    # row means 1.5, 2, 2.5; total mean 2; APC_12 = 1 - 1.5*2/2 = -0.5
    C = 2
    B = np.array([[0.5, -0.5], [-0.5, 0.5]])  # Frobenius norm 1
    J = np.zeros((3, C, 3, C))
    for (i, j), f in {(0, 1): 1.0, (0, 2): 2.0, (1, 2): 3.0}.items():
        J[i, :, j, :] = J[j, :, i, :] = f * B
    F = inverse.frobenius_scores(J, apc=False)
    assert F[0, 1] == pytest.approx(1.0) and F[1, 2] == pytest.approx(3.0)
    A = inverse.frobenius_scores(J)
    assert A[0, 1] == pytest.approx(1 - 1.5 * 2 / 2)
    assert A[1, 2] == pytest.approx(3 - 2 * 2.5 / 2)


def test_factored_contact_map_is_frobenius_of_the_product():
    rng = np.random.default_rng(1)
    A = rng.standard_normal((5, 5))
    np.fill_diagonal(A, 0)
    V = rng.standard_normal((3, 3))
    np.testing.assert_allclose(inverse.factored_contact_map(A, V),
                               inverse.frobenius_scores(np.einsum("ij,ab->iajb", A, V), apc=False), atol=1e-12)


def test_factored_fit_recovers_couplings_and_beats_nothing(data):
    model, S = data
    fit = inverse.fit_factored(S, 3, lam=1e-6, seed=0, restarts=2)
    err = population.factored_coupling_error(fit.A, fit.V, model.beta * model.J, model.U)
    assert err < 0.35  # 800 samples; independent-model error would be 1
    # the fitted loss is below the loss at the truth on the training data (it is the minimiser)
    truth = population.mlm_loss_and_gradient(S, np.full(len(S), 1 / len(S)), *model.factored(), False)
    assert fit.loss <= truth + 1e-9


def test_check_samples_errors():
    with pytest.raises(InputError, match="samples"):
        inverse.check_samples(np.array([[0, 1], [2, 5]]), C=3)
    with pytest.raises(InputError, match="samples"):
        inverse.check_samples(np.array([0, 1, 2]))
    with pytest.raises(InputError, match="lam_J"):
        inverse.fit_plm(np.array([[0, 1], [1, 0]]), 2, lam_J=-1.0)


def test_log_log_slope():
    assert inverse.log_log_slope([1, 10, 100], [1, 0.1 ** 0.5, 0.1]) == pytest.approx(-0.5)


# ----------------------------------------------------------------------------------------------
# replica


def test_bayes_floor_published_value():
    # spec Sec. 5: 0.59944 at rho = 1
    assert replica.bayes_floor(1.0) == pytest.approx(0.59944, abs=5e-6)


def test_logistic_prox_against_scalar_minimiser():
    for y, omega, V in ((1.0, -0.7, 2.0), (-1.0, 1.3, 0.4), (1.0, 3.0, 10.0)):
        ref = minimize_scalar(lambda x: (x - omega) ** 2 / (2 * V) + math.log1p(math.exp(-y * x)),
                              bracket=(omega - 5, omega + 5), tol=1e-12).x
        assert replica.logistic_prox(y, np.array([omega]), V)[0] == pytest.approx(ref, abs=1e-6)


def test_r2_closed_form_equals_deterministic_equivalent_isotropic():
    # independent route: the deterministic equivalent with Sigma = I, lambda_r = lam/alpha
    N, lam, delta = 150, 0.2, 0.5
    rng = np.random.default_rng(0)
    w = rng.standard_normal(N)
    w *= math.sqrt(N) / np.linalg.norm(w)  # rho = 1
    for a in (0.5, 1.0, 3.0):
        de = replica.ridge_deterministic_equivalent(np.eye(N), w / math.sqrt(N), int(a * N), lam / a, delta)
        assert replica.r2_curve([a], lam, 1.0, delta)["test_mse"][0] == pytest.approx(de["test_mse"], rel=1e-10)


def test_r2_small_lambda_is_ols():
    out = replica.r2_curve([2.0, 4.0], 1e-9, 1.0, 0.5)
    np.testing.assert_allclose(out["e"], [0.5 / 1.0, 0.5 / 3.0], rtol=1e-6)


def test_r2_closed_form_against_ridge_simulation():
    # Monte Carlo: ridge regression on Gaussian data, N = 200, 6 seeds; tolerance 3 standard errors
    # plus a 3 % finite-size allowance
    N, a, lam, delta = 200, 2.0, 0.5, 0.25
    errs = []
    for seed in range(6):
        rng = np.random.default_rng(seed)
        w = rng.standard_normal(N)
        X = rng.standard_normal((int(a * N), N))
        y = X @ w / math.sqrt(N) + math.sqrt(delta) * rng.standard_normal(len(X))
        wh = np.linalg.solve(X.T @ X / N + lam * np.eye(N), X.T @ y / math.sqrt(N))
        errs.append(np.sum((wh - w) ** 2) / np.sum(w**2))
    theory = replica.r2_curve([a], lam, 1.0, delta)["eps_J"][0]
    se = np.std(errs, ddof=1) / math.sqrt(len(errs))
    assert abs(np.mean(errs) - theory) < 3 * se + 0.03 * theory


def test_r1_curve_converges_and_is_monotone_at_large_alpha():
    curve = replica.r1_curve([2.0, 4.0, 8.0], lam=0.1)
    assert np.all(curve.column("residual") < 1e-8)
    ce = curve.column("test_ce")
    assert np.all(np.diff(ce) < 0) and np.all(ce > replica.bayes_floor(1.0))


def test_r1_quadrature_moments():
    Q = replica._quad2(31)
    assert replica.gaussian_pair_expectation(lambda zs, z: zs * z, 1.0, 0.4, 0.9, Q) == pytest.approx(0.4, abs=1e-12)
    assert replica.gaussian_pair_expectation(lambda zs, z: zs**2, 1.3, 0.4, 0.9, Q) == pytest.approx(1.3, abs=1e-12)


def test_replica_input_errors():
    with pytest.raises(InputError, match="alpha"):
        replica.r2_curve([1.0, 0.0], 0.1)
    with pytest.raises(InputError, match="lam"):
        replica.r1_curve([1.0], -0.1)

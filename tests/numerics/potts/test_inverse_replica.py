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
from theory import potts
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
    gauged = inverse.zero_sum_gauge_with_fields(J, h)
    Jz, hz = gauged.J, gauged.h
    assert np.allclose(Jz.sum(1), 0) and np.allclose(Jz.sum(3), 0) and np.allclose(hz.sum(1), 0)
    np.testing.assert_array_equal(inverse.zero_sum_gauge(J), Jz)
    # independent route: the conditionals of every site from the raw and gauged parameters
    assert inverse.mlm_loss_general(S, h, J) == pytest.approx(inverse.mlm_loss_general(S, hz, Jz), abs=1e-12)


def test_mlm_loss_general_by_hand():
    # L = 2, C = 2, J_01(a, b) = J_10(b, a) = [a == b], h = 0; sample (0, 0): both sites see logits
    # (1, 0), so the loss is log(1 + e^-1)
    J = np.zeros((2, 2, 2, 2))
    J[0, :, 1, :] = J[1, :, 0, :] = np.eye(2)
    assert inverse.mlm_loss_general(np.array([[0, 0]]), np.zeros((2, 2)), J) == pytest.approx(
        math.log(1 + math.exp(-1)), abs=1e-15)


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
    assert isinstance(fit, inverse.FactoredFit) and np.all(np.diag(fit.A) == 0)
    assert fit.objective == pytest.approx(fit.loss + 1e-6 * (np.sum(fit.A**2) + np.sum(fit.V**2)), abs=1e-12)
    err = population.factored_coupling_error(fit.A, fit.V, model.beta * model.J, model.U)
    assert err < 0.35  # 800 samples; independent-model error would be 1
    # the fitted loss is below the loss at the truth on the training data (it is the minimiser)
    p = model.factored()
    truth = population.mlm_loss_and_gradient(S, np.full(len(S), 1 / len(S)), p.A, p.V, p.b, False)
    assert fit.loss <= truth + 1e-9


def test_check_samples_fields():
    out = inverse.check_samples(np.array([[0.0, 2.0], [1.0, 0.0]]))
    assert isinstance(out, inverse.ValidatedSamples)
    assert out.C == 3 and out.samples.dtype == np.int64
    np.testing.assert_array_equal(out.samples, [[0, 2], [1, 0]])
    assert inverse.check_samples(np.array([[0, 1]]), C=5).C == 5


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
    # reference value: 0.59944 at rho = 1
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
        assert replica.r2_curve([a], lam, 1.0, delta).test_mse[0] == pytest.approx(de.test_mse, rel=1e-10)


def test_r2_small_lambda_is_ols():
    out = replica.r2_curve([2.0, 4.0], 1e-9, 1.0, 0.5)
    np.testing.assert_allclose(out.e, [0.5 / 1.0, 0.5 / 3.0], rtol=1e-6)


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
    theory = replica.r2_curve([a], lam, 1.0, delta).eps_J[0]
    se = np.std(errs, ddof=1) / math.sqrt(len(errs))
    assert abs(np.mean(errs) - theory) < 3 * se + 0.03 * theory


def test_r1_curve_converges_and_is_monotone_at_large_alpha():
    curve = replica.r1_curve([2.0, 4.0, 8.0], lam=0.1)
    assert np.all(curve.residual < 1e-8)
    ce = curve.test_ce
    assert np.all(np.diff(ce) < 0) and np.all(ce > replica.bayes_floor(1.0))


def test_r1_quadrature_moments():
    Q = replica.pair_quadrature(31)
    assert Q.w.sum() == pytest.approx(1.0, abs=1e-14) and Q.w2.shape == (2 * 31**2,)
    assert replica.gaussian_pair_expectation(lambda zs, z: zs * z, 1.0, 0.4, 0.9, Q) == pytest.approx(0.4, abs=1e-12)
    assert replica.gaussian_pair_expectation(lambda zs, z: zs**2, 1.3, 0.4, 0.9, Q) == pytest.approx(1.3, abs=1e-12)


def test_replica_input_errors():
    with pytest.raises(InputError, match="alpha"):
        replica.r2_curve([1.0, 0.0], 0.1)
    with pytest.raises(InputError, match="lam"):
        replica.r1_curve([1.0], -0.1)


def test_gauss_hermite_rule_moments():
    rule = replica.gauss_hermite(21)
    assert isinstance(rule, replica.GaussHermiteRule)
    # standard Gaussian moments: 1, 0, 1, 0, 3, 15 (E xi^6)
    for k, moment in ((0, 1.0), (1, 0.0), (2, 1.0), (3, 0.0), (4, 3.0), (6, 15.0)):
        assert np.sum(rule.weights * rule.nodes**k) == pytest.approx(moment, abs=1e-12)


def test_r2_curve_fields_against_the_sympy_closed_form():
    cf = potts.r2_closed_form()
    ch = potts.r2_channel(m=cf.m, q=cf.q, V=cf.V)
    lam, delta = 0.2, 0.3
    curve = replica.r2_curve([0.5, 2.0], lam, 1.5, delta)
    assert isinstance(curve, replica.ReplicaCurve) and curve.scenario == "R2"
    assert curve.test_ce is None and curve.iterations is None
    for k, a in enumerate((0.5, 2.0)):
        point = {potts.alpha: a, potts.lam: lam, potts.rho: 1.5, potts.Delta: delta}
        for name in ("V", "kappa", "m", "q", "e", "eps_J", "test_mse"):
            assert getattr(curve, name)[k] == pytest.approx(float(getattr(cf, name).subs(point)), rel=1e-12), name
        for name in ("mhat", "qhat", "Vhat"):
            assert getattr(curve, name)[k] == pytest.approx(float(getattr(ch, name).subs(point)), rel=1e-12), name


def test_r1_curve_fields_are_its_points():
    alphas = [3.0, 1.0]
    curve = replica.r1_curve(alphas, lam=0.5, quadrature=31)
    assert isinstance(curve, replica.ReplicaCurve) and curve.scenario == "R1"
    assert curve.kappa is None and curve.test_mse is None
    np.testing.assert_array_equal(curve.alpha, alphas)
    for k, a in enumerate(alphas):
        point = replica.r1_point(a, 0.5, quadrature=31)
        assert isinstance(point, replica.R1Point)
        for name in ("m", "q", "V", "mhat", "qhat", "Vhat", "eps_J", "test_ce", "train_loss"):
            assert getattr(curve, name)[k] == pytest.approx(getattr(point, name), abs=1e-7), name
        assert curve.e[k] == pytest.approx(1 - 2 * point.m + point.q, abs=1e-7)
        assert curve.eps_J[k] == pytest.approx(curve.e[k], abs=1e-12)  # rho = 1


def test_ridge_equivalent_isotropic_kappa_by_hand():
    # Sigma = I (d = 100), n = 200: kappa = lam + kappa d/(n (1 + kappa)), a quadratic solved here
    d, n, lam_r, delta = 100, 200, 0.1, 0.25
    c = d / n
    kappa = ((lam_r + c - 1) + math.sqrt((lam_r + c - 1) ** 2 + 4 * lam_r)) / 2
    a = np.full(d, 0.1)
    out = replica.ridge_deterministic_equivalent(np.eye(d), a, n, lam_r, delta)
    assert isinstance(out, replica.RidgeEquivalent)
    assert out.kappa == pytest.approx(kappa, rel=1e-12)
    mse = (delta + kappa**2 * np.sum(a * a) / (1 + kappa) ** 2) / (1 - c / (1 + kappa) ** 2)
    assert out.test_mse == pytest.approx(mse, rel=1e-12)
    assert out.excess == pytest.approx(mse - delta, rel=1e-12)


def test_goe_model_and_site_target_are_the_gaussian_conditional():
    model = replica.goe_precision_model(12, nu=3.0, seed=4)
    assert isinstance(model, replica.GOEPrecisionModel)
    assert np.allclose(model.J, model.J.T) and np.all(np.diag(model.J) == 0)
    np.testing.assert_allclose(model.precision @ model.Sigma, np.eye(12), atol=1e-12)
    target = replica.site_regression_target(model, 2, 3.0)
    assert isinstance(target, replica.SiteRegressionTarget)
    # independent route: regression of x_2 on the rest from the covariance (Schur complement)
    keep = np.arange(12) != 2
    S_rr, S_ri = model.Sigma[np.ix_(keep, keep)], model.Sigma[keep, 2]
    np.testing.assert_array_equal(target.Sigma, S_rr)
    np.testing.assert_allclose(target.a_star, np.linalg.solve(S_rr, S_ri), atol=1e-12)
    assert target.Delta == pytest.approx(model.Sigma[2, 2] - S_ri @ np.linalg.solve(S_rr, S_ri), abs=1e-12)

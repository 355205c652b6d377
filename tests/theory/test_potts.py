"""theory.potts: the mapping proof, gradients, invariances, gauge and replica equations, checked
symbolically and against independent arithmetic (exact rationals, mpmath sums)."""

import itertools

import pytest
import sympy as sp

from theory import potts
from theory.errors import InputError
from validation.testing import assert_expressions_equal


def test_mapping_residuals_vanish_with_fields():
    # proof at L = 3, C = 3 with symbolic J, U, h: every log-ratio residual expands to 0
    residuals = potts.mapping_logit_residuals(3, 3, fields=True)
    assert len(residuals) == 27 * 3 * 2
    assert all(r == 0 for r in residuals)


def test_mapping_fails_without_beta_on_the_bias():
    # negative control: b = h (instead of beta h) breaks the mapping, so the check can fail
    J, U, h = potts.symbolic_site_couplings(3), potts.symbolic_colour_couplings(2), potts.symbolic_matrix(3, 2, "h")
    s, i = (0, 1, 1), 0
    z = potts.factored_logits(i, s, potts.beta * J, U, h)
    joint = [-potts.beta * potts.hamiltonian(tuple(a if k == i else v for k, v in enumerate(s)), J, U, h)
             for a in range(2)]
    assert sp.expand((joint[1] - joint[0]) - (z[1] - z[0])) != 0


def test_conditional_from_joint_equals_softmax_of_potts_logits_exactly():
    # exact rationals substituted, compared to 40 digits
    J = sp.Matrix([[0, sp.Rational(1, 2), -1], [sp.Rational(1, 2), 0, sp.Rational(3, 4)], [-1, sp.Rational(3, 4), 0]])
    U = sp.Matrix([[1, -sp.Rational(1, 3), 0], [-sp.Rational(1, 3), 2, 1], [0, 1, -1]])
    h = sp.Matrix(3, 3, lambda i, a: sp.Rational(i - a, 5))
    beta = sp.Rational(7, 10)
    for s in [(0, 1, 2), (2, 2, 0)]:
        for i in range(3):
            p1 = potts.conditional_from_joint(i, s, J, U, h, beta)
            p2 = potts.softmax(potts.potts_logits(i, s, J, U, h, beta))
            assert_expressions_equal(sp.Matrix(p1), sp.Matrix(p2), tol=1e-35)


def test_mlm_loss_equals_npll_over_L():
    assert potts.mlm_equals_npll_residual([(0, 1, 1), (1, 0, 1), (1, 1, 0)], 3, 2) == 0


def test_mlm_equals_npll_fails_for_a_wrong_mapping():
    # negative control at numbers: A = J (no beta) with beta = 2 gives a different loss
    J, U, h = potts.symbolic_site_couplings(3), potts.symbolic_colour_couplings(2), potts.symbolic_matrix(3, 2, "h")
    data = [(0, 1, 1)]
    values = {sym: sp.Rational(k + 1, 7) for k, sym in enumerate(sorted(
        (J.free_symbols | U.free_symbols | h.free_symbols), key=str))}
    mlm = potts.mlm_loss(data, J, U, h).subs(values)
    npll = potts.negative_log_pseudo_likelihood(data, J, U, h, beta=2).subs(values)
    assert abs(sp.N(mlm - npll / 3)) > 1e-3


def test_gradient_formulas_match_differentiation_small():
    assert all(r == 0 for r in potts.gradient_residuals((0, 1), 2, 2))


@pytest.mark.slow
def test_gradient_formulas_match_differentiation():
    assert all(r == 0 for r in potts.gradient_residuals((0, 1, 1), 3, 2))


def test_invariances_and_the_row_shift_counterexample():
    res = potts.invariance_residuals(3, 2)
    for name in ("scale", "sign", "column_shift", "bias_shift"):
        residuals = getattr(res, name)
        assert len(residuals) == 2**3 * 3 and all(r == 0 for r in residuals), name
    assert any(r != 0 for r in res.row_shift)


def test_gauge_identity_and_zero_sums():
    assert potts.gauge_identity_residual(3) == sp.zeros(3, 3)
    K = potts.symbolic_matrix(3, 3, "K")
    Z = potts.zero_sum_gauge_block(K)
    assert all(sp.expand(sum(Z[a, c] for c in range(3))) == 0 for a in range(3))
    assert all(sp.expand(sum(Z[a, c] for a in range(3))) == 0 for c in range(3))


def test_anchor_partition_function_from_the_hamiltonian():
    # the anchor's reference value: Ising L = 3, Z = 13.059374985; summed here with mpmath at 30 digits
    J = sp.Matrix([[0, 1, sp.Rational(1, 2)], [1, 0, -sp.Rational(3, 10)], [sp.Rational(1, 2), -sp.Rational(3, 10), 0]])
    U = sp.Matrix([[1, -1], [-1, 1]])
    Z = sum(sp.exp(-potts.hamiltonian(s, J, U)) for s in itertools.product(range(2), repeat=3))
    assert abs(sp.N(Z, 30) - sp.Float("13.059374985", 30)) < 1e-9


def test_bad_configuration_is_refused():
    with pytest.raises(InputError, match="s="):
        potts.hamiltonian((0, 3, 1), potts.symbolic_site_couplings(3), potts.symbolic_colour_couplings(2))


def test_r2_closed_form_solves_the_replica_equations():
    res = potts.r2_fixed_point_residuals()
    assert isinstance(res, potts.R2FixedPointResiduals)
    assert res.to_dict() == {"V": 0, "m": 0, "q": 0}


def test_r2_ols_limit():
    assert_expressions_equal(potts.r2_ols_limit(), potts.Delta / (potts.alpha - 1))


def test_r2_root_satisfies_quadratic_at_rationals():
    cf = potts.r2_closed_form()
    point = {potts.alpha: sp.Rational(3, 2), potts.lam: sp.Rational(1, 10)}
    V = cf.V.subs(point)
    quad = point[potts.lam] * V**2 + (point[potts.lam] + point[potts.alpha] - 1) * V - 1
    assert_expressions_equal(quad, 0)      # exact (was: |quad| < 1e-45 at 50 digits)
    assert sp.N(V) > 0


def test_r1_prox_equation_is_stationarity():
    assert potts.r1_prox_stationarity() == 0


def test_r1_channel_mhat_integrand_matches_derivative_identity():
    # sigma'(z) = sigma(z) sigma(-z): compare with sympy's derivative at a rational point
    t = sp.Symbol("t")
    derivative, product = sp.diff(potts.logistic_sigmoid(t), t), potts.logistic_sigmoid(t) * potts.logistic_sigmoid(-t)
    assert_expressions_equal(derivative.subs(t, sp.Rational(3, 7)), product.subs(t, sp.Rational(3, 7)), tol=1e-28)
    assert_expressions_equal(derivative, product)      # and identically in t


def test_gradient_formulas_fields_at_a_point():
    # L = 2, C = 2, s = (0, 1), A = [[0, 1], [2, 0]], V = 0, b = 0: every p_i = (1/2, 1/2), so by hand
    # db = [[-1/2, 1/2], [1/2, -1/2]], dA = 0 (V = 0), dV_ab = sum_i A_{i,j != i} [b = s_j] r_i(a)
    A = sp.Matrix([[0, 1], [2, 0]])
    g = potts.gradient_formulas((0, 1), A, sp.zeros(2, 2), sp.zeros(2, 2))
    assert isinstance(g, potts.GradientFormulas)
    half = sp.Rational(1, 2)
    assert g.b == sp.Matrix([[-half, half], [half, -half]])
    assert g.A == sp.zeros(2, 2)
    # site 0 reads s_1 = 1 with A_01 = 1: column b = 1 gets r_0 = (-1/2, 1/2); site 1 reads s_0 = 0
    # with A_10 = 2: column b = 0 gets 2 r_1 = (1, -1)
    assert g.V == sp.Matrix([[1, -half], [-1, half]])


def test_ridge_prior_and_r2_channel_fields_at_numbers():
    # by hand: lam = 1/2, rho = 2, mhat = 1, qhat = 3, Vhat = 3/2 -> V = 1/2, m = 1, q = 5/4
    pr = potts.ridge_prior_equations(sp.Rational(1, 2), 2, 1, 3, sp.Rational(3, 2))
    assert isinstance(pr, potts.RidgePriorEquations)
    assert (pr.V, pr.m, pr.q) == (sp.Rational(1, 2), 1, sp.Rational(5, 4))
    # alpha = 2, Delta = 1/2, rho = 1, m = 1/2, q = 1, V = 1: mhat = Vhat = 1, qhat = 2 (3/2)/4 = 3/4
    ch = potts.r2_channel(2, sp.Rational(1, 2), 1, sp.Rational(1, 2), 1, 1)
    assert isinstance(ch, potts.R2Channel)
    assert (ch.mhat, ch.Vhat, ch.qhat) == (1, 1, sp.Rational(3, 4))


def test_r2_closed_form_fields_at_alpha_2_lambda_1():
    # V^2 + 2V - 1 = 0 -> V = sqrt(2) - 1, kappa = 2V/(1+V) = 2 - sqrt(2); m = rho kappa.
    # Both sides are brought to the form a + b sqrt(2) (radsimp, expand) before the exact
    # comparison: sympy's general zero test takes ~40 s on the nested radicals.
    cf = potts.r2_closed_form(alpha=2, lam=1, rho=1, Delta=sp.Rational(1, 4))
    assert isinstance(cf, potts.R2ClosedForm)
    k = 2 - sp.sqrt(2)
    e = ((1 - k) ** 2 + k**2 / 8) / (1 - k**2 / 2)
    expected = {"V": sp.sqrt(2) - 1, "kappa": k, "m": k, "e": e, "test_mse": e + sp.Rational(1, 4),
                "q": e - 1 + 2 * k, "eps_J": e}
    for name, value in expected.items():
        assert_expressions_equal(sp.expand(sp.radsimp(getattr(cf, name))),
                                 sp.expand(sp.radsimp(value)))


def test_r1_channel_fields_at_a_point():
    ch = potts.r1_channel()
    assert isinstance(ch, potts.R1Channel)
    assert_expressions_equal(ch.loss.subs({potts.y: 1, potts.x_: 0}), sp.log(2))
    # at the prox point x = omega the residual is -V y sigma(-y omega); at omega = 0: -V y / 2
    assert_expressions_equal(ch.prox_equation.subs({potts.x_: 0, potts.omega: 0, potts.y: 1}), -potts.V_ / 2)
    assert_expressions_equal(ch.eps_J.subs({potts.m: 1, potts.q: 1, potts.rho: 1}), 0)
    assert_expressions_equal(ch.dprox.subs({potts.V_: 0}), 1)

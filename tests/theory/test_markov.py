"""Derivations of theory.markov checked symbolically and against independent arithmetic."""

import math
from fractions import Fraction

import pytest
import sympy as sp

from theory import markov
from validation.testing import (assert_expressions_equal, assert_matches_autograd,
                                assert_stationary)


@pytest.mark.parametrize("branch", [1, -1])
def test_gradient_equals_paper_form(branch):
    assert_expressions_equal(markov.canonical_gradient(branch=branch), markov.canonical_gradient_paper_form(branch=branch))


@pytest.mark.parametrize("branch", [1, -1])
@pytest.mark.parametrize("order", [1, 2])
def test_canonical_gradient_and_hessian_match_autograd_and_finite_differences(branch, order):
    # independent torch implementation: binary cross-entropy with logits f0, f1 under pi
    import torch

    p, q = 0.2, 0.35
    pi0, pi1 = q / (p + q), p / (p + q)

    def loss(v):
        e, w, b = v
        f0, f1 = b - e**2 / 2, b + e**2 / 2 + 2 * e**2 * w * w.abs()
        bce = torch.nn.functional.binary_cross_entropy_with_logits
        return pi0 * bce(f0, torch.tensor(p, dtype=v.dtype)) + pi1 * bce(f1, torch.tensor(1 - q, dtype=v.dtype))

    point = {markov.p: sp.Rational(1, 5), markov.q: sp.Rational(7, 20), markov.e: 0.8, markov.w: 0.6 * branch, markov.b: -0.3}
    assert_matches_autograd(markov.canonical_loss(branch=branch), [markov.e, markov.w, markov.b], point, loss, order=order)


def test_abs_form_gradient_matches_branches():
    # the Abs form (branch=None) differentiates w|w| as 2|w|: equal to each branch where it holds
    g = markov.canonical_gradient_paper_form()
    for w_value, branch in ((sp.Rational(3, 7), 1), (-sp.Rational(5, 4), -1)):
        point = {markov.p: sp.Rational(1, 5), markov.q: sp.Rational(3, 10), markov.e: sp.Rational(2, 3),
                 markov.w: w_value, markov.b: sp.Rational(-1, 2)}
        assert_expressions_equal(g.subs(point), markov.canonical_gradient(branch=branch).subs(point))


def test_kl_form_equals_cross_entropy_form():
    # evaluated at exact rationals to 50 digits (sympy cannot simplify the log-sum-exp directly)
    point = {markov.p: sp.Rational(1, 3), markov.q: sp.Rational(5, 7), markov.e: sp.Rational(6, 5),
             markov.w: sp.Rational(-2, 3), markov.b: sp.Rational(1, 4)}
    assert_expressions_equal(markov.canonical_loss().subs(point), markov.canonical_loss_kl_form().subs(point), tol=1e-45)
    # and at 20 seeded random points with e, w, b in (-2, 2)
    assert_expressions_equal(markov.canonical_loss(), markov.canonical_loss_kl_form(), tol=1e-45,
                             domain={markov.e: (-2, 2), markov.w: (-2, 2), markov.b: (-2, 2)})


def test_entropies_match_direct_sum_at_exact_rationals():
    # independent: -sum_i pi_i sum_j P_ij log P_ij with Python fractions and math.log
    p, q = Fraction(1, 2), Fraction(4, 5)
    pi = (q / (p + q), p / (p + q))
    P = ((1 - p, p), (q, 1 - q))
    rate = -sum(float(pi[i] * P[i][j]) * math.log(P[i][j]) for i in range(2) for j in range(2))
    unigram = -sum(float(x) * math.log(x) for x in pi)
    assert float(markov.entropy_rate(sp.Rational(1, 2), sp.Rational(4, 5))) == pytest.approx(rate, abs=1e-15)
    assert float(markov.unigram_entropy(sp.Rational(1, 2), sp.Rational(4, 5))) == pytest.approx(unigram, abs=1e-15)
    # published (P1, Fig. 2): 0.6190 and 0.6663
    assert round(rate, 4) == 0.6190 and round(unigram, 4) == 0.6663


def test_mutual_information_is_average_kl():
    assert_expressions_equal(markov.mutual_information(), markov.mutual_information_as_kl())


@pytest.mark.parametrize("S", [2, 3, 4])
def test_s_state_entropy_rate_and_eigenvalue(S):
    formulas = markov.s_state_entropies(S)
    assert_expressions_equal(markov.s_state_entropy_rate_from_kernel(S), formulas.entropy_rate)
    kernel = markov.s_state_kernel(S)
    eigenvalues = kernel.eigenvals()
    assert any(sp.simplify(lam - formulas.second_eigenvalue) == 0 for lam in eigenvalues)
    # the other fields against the kernel: pi P = pi for the uniform law, and H(pi) = -sum pi log pi
    assert_expressions_equal(formulas.stationary.T * kernel, formulas.stationary.T)
    assert_expressions_equal(formulas.unigram_entropy, -sum(x * sp.log(x) for x in [sp.Rational(1, S)] * S))


def test_s_state_two_states_reduces_to_binary_chain():
    assert_expressions_equal(markov.s_state_entropies(2).entropy_rate, markov.entropy_rate(markov.p, markov.p))


def test_optimal_bias_solves_first_order_condition():
    for branch in (1, -1):
        assert_expressions_equal(markov.bias_condition(b=markov.optimal_bias(branch=branch), branch=branch), 0)
        # equivalently, the loss is stationary in b at b*, identically in p, q, e, w
        assert_stationary(markov.canonical_loss(branch=branch), [markov.b], {markov.b: markov.optimal_bias(branch=branch)})


def test_optimal_bias_at_zero_is_log_p_over_q():
    value = markov.optimal_bias().subs(markov.e, 0)
    for p, q in ((sp.Rational(1, 5), sp.Rational(3, 10)), (sp.Rational(1, 2), sp.Rational(4, 5))):
        assert_expressions_equal(sp.nsimplify(value.subs({markov.p: p, markov.q: q})), sp.log(p / q))


@pytest.mark.parametrize("branch", [1, -1])
def test_unigram_hessian(branch):
    at_line = markov.canonical_hessian(branch=branch).subs({markov.e: 0, markov.w: markov.w, markov.b: markov.unigram_bias()})
    assert_expressions_equal(at_line, markov.unigram_hessian(branch=branch))


@pytest.mark.parametrize("branch", [1, -1])
def test_unigram_line_is_stationary(branch):
    # e = 0, b = log(p/q): the gradient in (e, w, b) vanishes identically in p, q, w
    assert_stationary(markov.canonical_loss(branch=branch), [markov.e, markov.w, markov.b], {markov.e: 0, markov.w: markov.w, markov.b: markov.unigram_bias()})


def test_global_curve_predicts_kernel():
    # on the curve, sigma(f0) = p and sigma(f1) = 1 - q: the residuals vanish
    w_value = sp.Rational(1, 3)
    e_sq = markov.global_curve_constant() / (1 + 2 * w_value**2)
    res = markov.residuals(e=sp.sqrt(e_sq), w=w_value, b=markov.global_minimum_bias(e=sp.sqrt(e_sq)), branch=1)
    point = {markov.p: sp.Rational(1, 5), markov.q: sp.Rational(3, 10)}
    assert_expressions_equal(sp.Matrix([res.g0, res.g1]).subs(point), sp.zeros(2, 1), tol=1e-35)
    # and the loss is stationary there, identically in p, q
    assert_stationary(markov.canonical_loss(branch=1), [markov.e, markov.w, markov.b],
                      {markov.e: sp.sqrt(e_sq), markov.w: w_value, markov.b: markov.global_minimum_bias(e=sp.sqrt(e_sq))})


@pytest.mark.parametrize("branch", [1, -1])
def test_energy_identity(branch):
    identity = markov.energy_rate_along_flow(branch=branch)
    assert_expressions_equal(identity.rate, identity.identity_rhs)
    # the right side against P2's dE/dt = 2 e^2 dL/db, dL/db differentiated here
    dL_db = sp.diff(markov.canonical_loss(branch=branch), markov.b)
    assert_expressions_equal(identity.identity_rhs, 2 * markov.e**2 * dL_db)


@pytest.mark.parametrize("branch", [1, -1])
def test_stationary_solutions_are_the_two_families(branch):
    G0, G1 = sp.symbols("G0 G1", real=True)
    solutions = markov.classify_stationary_solutions(branch)
    assert len(solutions) == 2
    assert {G0: 0, G1: 0} in solutions
    assert {G0: -G1, markov.e: 0} in solutions


def test_saddle_energy_is_energy_at_saddle():
    assert_expressions_equal(markov.energy(0, markov.SADDLE_W, branch=-1), markov.SADDLE_ENERGY)
    assert_expressions_equal(markov.separatrix().rhs.subs(markov.w, markov.SADDLE_W), 0)


def test_basin_conditions_regions():
    conditions = markov.basin_conditions()
    cases = [  # (p, q, e, w, expected) from the region list of P2 Sec. 3
        (0.5, 0.8, 0.5, 0.3, "local"), (0.5, 0.8, 0.5, -1.0, "global"),
        (0.5, 0.8, 0.3, -0.5, "local"), (0.5, 0.8, 1.5, -0.5, "global"),
        (0.2, 0.3, 0.3, -1.5, "local"), (0.2, 0.3, 1.5, -1.5, "global"), (0.2, 0.3, 0.5, 0.3, "global"),
    ]
    for p, q, e, w, expected in cases:
        point = {markov.p: p, markov.q: q, markov.e: e, markov.w: w}
        basins = {"global": conditions.global_basin, "local": conditions.local_basin}
        assert bool(basins[expected].subs(point))
        other = "global" if expected == "local" else "local"
        assert not bool(basins[other].subs(point))


def test_branch_is_validated():
    from theory.errors import InputError

    with pytest.raises(InputError, match="branch"):
        markov.w_abs_w(markov.w, branch=2)


def test_canonical_logits_and_residuals_fields():
    # independent: f0 = b - e^2/2, f1 = b + e^2/2 + 2 e^2 w|w| written out at a point with w < 0
    e_, w_, b_ = sp.Rational(3, 2), -sp.Rational(1, 3), sp.Rational(1, 4)
    logits = markov.canonical_logits(e_, w_, b_)
    assert_expressions_equal(logits.f0, b_ - e_**2 / 2)
    assert_expressions_equal(logits.f1, b_ + e_**2 / 2 - 2 * e_**2 * w_**2)
    p_, q_ = sp.Rational(1, 5), sp.Rational(3, 10)
    res = markov.residuals(p_, q_, e_, w_, b_)
    sig = lambda x: 1 / (1 + sp.exp(-x))  # noqa: E731
    assert_expressions_equal(res.g0, q_ / (p_ + q_) * (sig(logits.f0) - p_), tol=1e-40)
    assert_expressions_equal(res.g1, p_ / (p_ + q_) * (sig(logits.f1) - (1 - q_)), tol=1e-40)


def test_stationary_system_fields():
    system = markov.stationary_system(-1)
    G0, G1 = system.unknowns
    assert (G0.name, G1.name) == ("G0", "G1")
    # substituting the residuals gives back the paper-form gradient components (db, de, dw)
    res = markov.residuals(branch=-1)
    grad = markov.canonical_gradient_paper_form(branch=-1)
    values = [eq.subs({G0: res.g0, G1: res.g1}) for eq in system.equations]
    assert_expressions_equal(sp.Matrix(values), sp.Matrix([grad[2], grad[0], grad[1]]))


def test_critical_point_families_fields():
    families = markov.critical_point_families()
    assert [f.name for f in families] == ["global minima", "unigram line", "saddle"]
    assert_expressions_equal(families[0].loss, markov.entropy_rate())
    assert_expressions_equal(families[1].loss, markov.unigram_entropy())
    # the saddle's conditions: e = 0, w = -1/sqrt(2), b = log(p/q)
    saddle = {c.lhs: c.rhs for c in families[2].conditions}
    assert saddle[markov.e] == 0 and sp.simplify(saddle[markov.w] + 1 / sp.sqrt(2)) == 0
    assert_expressions_equal(saddle[markov.b], sp.log(markov.p / markov.q))


# ---------------------------------------------------------------------------------------------
# Issue 11: numeric arguments are checked against their domains; strings are read strictly


def test_numeric_chain_outside_its_domain_is_an_input_error():
    from theory.errors import InputError

    with pytest.raises(InputError, match="p=1.5"):
        markov.entropy_rate(1.5, 0.3)  # was a complex number
    with pytest.raises(InputError, match="q="):
        markov.entropy_rate(0.3, sp.I)
    with pytest.raises(InputError, match="w="):
        markov.energy(1, 0)  # sign(0) log 0: undefined
    with pytest.raises(InputError, match="w="):
        markov.energy(1, sp.Rational(1, 2), branch=-1)  # log of a negative number
    with pytest.raises(InputError, match="S="):
        markov.s_state_kernel(10**6)  # a 10^12-entry sympy matrix


def test_a_string_carrying_code_raises_and_a_rational_string_works():
    from theory.errors import InputError

    with pytest.raises(InputError, match="p="):
        markov.entropy_rate("__import__('os').system('true')", "3/10")
    assert markov.entropy_rate("3/10", "1/2") == markov.entropy_rate(sp.Rational(3, 10),
                                                                      sp.Rational(1, 2))
    assert markov.unigram_bias(Fraction(1, 5), Fraction(3, 10)) == sp.log(sp.Rational(2, 3))


def test_symbols_and_expressions_pass_unchecked():
    # the derivations use symbols and expressions such as 1 - q: never refused
    assert markov.binary_kl(1 - markov.q, markov.p).free_symbols == {markov.p, markov.q}
    assert markov.entropy_rate(markov.p, markov.p).free_symbols == {markov.p}


from hypothesis import given, settings  # noqa: E402

from theory.domains import FINITE, PROBABILITY  # noqa: E402
from validation.testing.fuzz import values  # noqa: E402


def _real_or_error(fn, *args):
    """The contract for sympy results: a library error, or a real finite number."""
    from theory.errors import TTCError

    try:
        value = complex(sp.N(fn(*args)))
    except TTCError:
        return
    assert value.imag == 0 and math.isfinite(value.real), (fn.__name__, args, value)


@settings(derandomize=True, max_examples=40, deadline=None)
@given(values(PROBABILITY), values(PROBABILITY))
def test_chain_functions_are_real_or_refused(p, q):
    for fn in (markov.entropy_rate, markov.unigram_entropy, markov.mutual_information,
               markov.global_curve_constant, markov.unigram_bias):
        _real_or_error(fn, p, q)


@settings(derandomize=True, max_examples=40, deadline=None)
@given(values(PROBABILITY), values(PROBABILITY), values(FINITE), values(FINITE))
def test_canonical_functions_are_real_or_refused(p, q, e_, w_):
    _real_or_error(lambda *a: markov.canonical_loss(*a, 0), p, q, e_, w_)
    _real_or_error(markov.energy, e_, w_)


def test_embedding_symbol_cannot_be_read_as_eulers_number():
    """The embedding scalar e prints in LaTeX unlike Euler's number (sp.E is "e"), and stays a
    plain real Symbol for str, pickling and substitution."""
    import pickle

    assert sp.latex(markov.e) != sp.latex(sp.E)
    assert set(sp.latex(sp.E * markov.e).split()) == {"e", r"e_{\mathrm{emb}}"}
    assert str(markov.e) == "e" and markov.e.is_real
    assert pickle.loads(pickle.dumps(markov.e)) == markov.e
    assert markov.canonical_loss(branch=1).subs(markov.e, 0).free_symbols.isdisjoint({markov.e})

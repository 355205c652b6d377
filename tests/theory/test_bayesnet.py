"""Tests of theory.bayesnet: estimators, error rates and the construction, in exact arithmetic."""

import pytest
import sympy as sp

from theory import bayesnet
from theory.errors import InputError
from validation.testing import assert_expressions_equal

# The library's anchor example: network A -> C <- B, binary; context rows (A, B, C).
ANCHOR = [(0, 0, 0), (0, 1, 1), (1, 0, 1), (1, 0, 0), (0, 1, 1), (1, 0, 1)]
ANCHOR_PARENTS = [(), (), (0, 1)]


def test_mle_anchor_is_two_thirds():
    # Hand count: rows with A=1, B=0 are (1,0,1), (1,0,0), (1,0,1): C=1 twice out of 3.
    assert bayesnet.mle([1, 2]) == sp.Matrix([sp.Rational(1, 3), sp.Rational(2, 3)])


def test_mle_refuses_empty_and_bad_counts():
    with pytest.raises(InputError, match="counts"):
        bayesnet.mle([0, 0])
    with pytest.raises(InputError, match="counts"):
        bayesnet.mle([1, -1])


def test_smoothed_k2_and_bdeu():
    # K2 on counts (1, 2): (1+1)/(3+2) = 2/5 by hand.
    assert bayesnet.smoothed([1, 2], bayesnet.k2_pseudocount()) == sp.Matrix([sp.Rational(2, 5), sp.Rational(3, 5)])
    # BDeu ess=4, d=2, q=4 parent configurations: 4/(2*4) = 1/2 per cell.
    alpha = bayesnet.bdeu_pseudocount(4, 2, 4)
    assert alpha == sp.Rational(1, 2)
    assert bayesnet.smoothed([1, 2], alpha)[0] == sp.Rational(3, 8)
    with pytest.raises(InputError, match="ess"):
        bayesnet.bdeu_pseudocount(-1, 2, 4)


def test_formulas_reduce_to_numbers():
    formula = bayesnet.mle_formula(3)
    assert isinstance(formula, bayesnet.MleFormula)
    counts = formula.counts
    assert formula.estimate.subs(dict(zip(counts, (1, 2, 3)))) == bayesnet.mle([1, 2, 3])
    sm = bayesnet.smoothed_formula(2)
    assert isinstance(sm, bayesnet.SmoothedFormula)
    assert sm.estimate.subs({sm.counts[0]: 1, sm.counts[1]: 2, sm.alpha: 1}) == bayesnet.smoothed([1, 2], 1)


def test_formula_fields_by_hand():
    # n_0..n_{d-1} symbols in order; n_1 / (n_0 + n_1) written by hand.
    formula = bayesnet.mle_formula(2)
    n0, n1 = sp.symbols("n_0:2", nonnegative=True)
    assert formula.counts == (n0, n1)
    assert_expressions_equal(formula.estimate[1], n1 / (n0 + n1))
    sm = bayesnet.smoothed_formula(2)
    a = sp.symbols("alpha", positive=True)
    assert sm.alpha == a and sm.counts == (n0, n1)
    assert_expressions_equal(sm.estimate[0], (n0 + a) / (n0 + n1 + 2 * a))


def test_layout_blocks():
    # M = 3, d = 2: 6 state rows, 6 target rows, 2 flag rows (the prompt layout, by hand).
    lay = bayesnet.layout(3, 2)
    assert isinstance(lay, bayesnet.PromptLayout)
    assert (lay.x, lay.target, lay.flag) == (slice(0, 6), slice(6, 12), slice(12, 14))


def test_mean_abs_error_exact_small_case():
    # n = 1: E|K - p| = p(1-p) + (1-p)p = 2 * 0.3 * 0.7 = 21/50 (by hand).
    assert bayesnet.mean_abs_error_exact(sp.Rational(3, 10), 1) == sp.Rational(21, 50)


def test_mean_abs_error_asymptotic_close_for_large_n():
    # Normal approximation: ratio exact/asymptotic -> 1 as n grows (de Moivre's formula).
    exact = float(bayesnet.mean_abs_error_exact(sp.Rational(1, 2), 400))
    approx = float(bayesnet.mean_abs_error_asymptotic(sp.Rational(1, 2), 400))
    assert abs(exact / approx - 1) < 0.01
    assert abs(float(bayesnet.mean_abs_error_exact(sp.Rational(1, 2), 4)) / float(
        bayesnet.mean_abs_error_asymptotic(sp.Rational(1, 2), 4)) - 1) > 0.05


def test_beta_for_epsilon_makes_crude_bound_equal_eps():
    assert_expressions_equal(bayesnet.N * sp.exp(-bayesnet.beta_for_epsilon()), bayesnet.eps)
    # the bound with every row matching: e^{-beta C}/N
    assert_expressions_equal(bayesnet.tv_bound(I=bayesnet.N), sp.exp(-bayesnet.beta * bayesnet.C) / bayesnet.N)


def test_weights_shapes_and_readout():
    w = bayesnet.construction_weights(3, 2, ANCHOR_PARENTS)
    assert isinstance(w, bayesnet.ConstructionWeights)
    R = 14
    assert w.W1.shape == (6, R) and w.W2.shape == (R, 6)
    assert w.K.shape == (7, R) and w.Q.shape == (7, R) and w.V.shape == (R, R)
    assert w.C == 3
    assert w.K.free_symbols == {bayesnet.beta} and not w.Q.free_symbols
    # W2 = -[I_6; 0; 0] and V = -[I_6 0 0; 0 0 0] (by hand)
    assert w.W2[:6, :] == -sp.eye(6) and w.W2[6:, :] == sp.zeros(8, 6)
    assert w.V[:6, :6] == -sp.eye(6) and w.V[6:, :] == sp.zeros(8, R) and w.V[:, 6:] == sp.zeros(R, 8)
    A = bayesnet.readout_matrix(3, 2, 2)
    assert A[:, 4:6] == -sp.eye(2) and A[:, :4] == sp.zeros(2, 4)


def test_construction_forward_matches_hand_derived_softmax():
    # Query (A=1, B=0), target C. Scores beta*(#matching parents + C), C = D+1 = 3:
    # rows agree on 1, 0, 2, 2, 0, 2 parents -> exponents 4b, 3b, 5b, 5b, 3b, 5b; query itself 2b.
    b = bayesnet.beta
    w = bayesnet.construction_weights(3, 2, ANCHOR_PARENTS)
    X = bayesnet.encode_prompt(3, 2, ANCHOR, (1, 0, 0), 2)
    out = bayesnet.readout_matrix(3, 2, 2) * bayesnet.construction_forward(w, X)[:, -1]
    Z = 3 * sp.exp(5 * b) + sp.exp(4 * b) + 2 * sp.exp(3 * b) + sp.exp(2 * b)
    expected = sp.Matrix([(sp.exp(5 * b) + sp.exp(4 * b)) / Z, (2 * sp.exp(5 * b) + 2 * sp.exp(3 * b)) / Z])
    assert_expressions_equal(out, expected)
    assert sp.limit(out[1], b, sp.oo) == sp.Rational(2, 3)
    # within the bound at beta = 2 (N = 6, |I| = 3, C = 3), exactly
    tv = sum(sp.Abs(o - m) for o, m in zip(out.subs(b, 2), bayesnet.mle([1, 2]))) / 2
    assert float(tv) <= float(bayesnet.tv_bound(6, 3, 2, 3))


def test_layer_one_zeroes_non_parents_only_in_query():
    # chain 0 -> 1 -> 2, target 2: the query keeps x_1 (parent) and loses x_0.
    w = bayesnet.construction_weights(3, 2, [(), (0,), (1,)])
    X = bayesnet.encode_prompt(3, 2, [(1, 1, 0)], (1, 0, 0), 2)
    H1 = X + w.W2 * (w.W1 * X).applyfunc(lambda v: sp.Max(v, 0))
    assert H1[:6, 0] == X[:6, 0]                           # context column unchanged
    assert list(H1[:6, 1]) == [0, 0, 1, 0, 0, 0]          # x_0 = 1 zeroed, x_1 = 0 kept


def test_structure_errors():
    with pytest.raises(InputError, match="parents"):
        bayesnet.construction_weights(2, 2, [(1,), ()])
    with pytest.raises(InputError, match="parents"):
        bayesnet.construction_weights(2, 2, [()])


# ----------------------------------------------------------------------------------------------
# Issue 11: no evaluated strings, declared domains, the clean-call contract

from hypothesis import given, settings, strategies as st  # noqa: E402

from theory.domains import PROBABILITY, integer  # noqa: E402
from theory.errors import NumericalFailure, TooLargeError  # noqa: E402
from validation.testing.fuzz import assert_clean_call, values  # noqa: E402

CODE = "__import__('os').system('true')"


@pytest.mark.parametrize("call", [
    lambda v: bayesnet.mean_abs_error_exact(v, 3),
    lambda v: bayesnet.smoothed([1, 2], v),
    lambda v: bayesnet.smoothed([1, 2], [v, 1]),
    lambda v: bayesnet.bdeu_pseudocount(v, 2, 2),
    lambda v: bayesnet.mean_abs_error_asymptotic(v, 10),
    lambda v: bayesnet.tv_bound(10, 2, v, 2),
    lambda v: bayesnet.beta_for_epsilon(10, v),
])
def test_a_string_carrying_code_raises_and_a_rational_string_works(call):
    with pytest.raises(InputError):
        call(CODE)
    assert call("3/10") is not None


def test_rational_strings_and_floats_are_exact_as_before():
    assert bayesnet.mean_abs_error_exact("3/10", 1) == sp.Rational(21, 50)
    assert bayesnet.mean_abs_error_exact(0.3, 1) == sp.Rational(21, 50)       # decimal of the float
    assert bayesnet.bdeu_pseudocount("4", 2, 4) == sp.Rational(1, 2)
    assert bayesnet.smoothed([1, 2], sp.Symbol("a", positive=True))[0].free_symbols


@pytest.mark.parametrize("call, error", [
    (lambda: bayesnet.mean_abs_error_exact(0.3, 1001), InputError),
    (lambda: bayesnet.mean_abs_error_exact(float("nan"), 3), InputError),
    (lambda: bayesnet.mean_abs_error_asymptotic(1.5, 3), InputError),
    (lambda: bayesnet.mean_abs_error_asymptotic(sp.I, 3), InputError),
    (lambda: bayesnet.tv_bound(3, 0, 1, 2), InputError),
    (lambda: bayesnet.tv_bound(3, 4, 1, 2), InputError),
    (lambda: bayesnet.beta_for_epsilon(1e300, 1e-300), NumericalFailure),
    (lambda: bayesnet.mle_formula(10**6), InputError),
    (lambda: bayesnet.construction_weights(64, 8, [[]] * 64), TooLargeError),
    (lambda: bayesnet.encode_prompt(3, 2, [[0, 0, 2]], [0, 0, 0], 2), InputError),
    (lambda: bayesnet.encode_prompt(3, 2, [[0, 0, -1]], [0, 0, 0], 2), InputError),
    (lambda: bayesnet.encode_prompt(3, 2, [[0, 0, 0]] * 65, [0, 0, 0], 2), InputError),
    (lambda: bayesnet.mle(range(10**9)), TooLargeError),
])
def test_domains_of_the_symbolic_functions(call, error):
    with pytest.raises(error):
        call()


@settings(derandomize=True, max_examples=40, deadline=None)
@given(values(PROBABILITY), values(integer(1, 1000)))
def test_mean_abs_error_asymptotic_clean(p_value, n_value):
    result = assert_clean_call(bayesnet.mean_abs_error_asymptotic, p_value, n_value)
    if result is not None:
        assert 0 <= float(result) < float("inf")


@settings(derandomize=True, max_examples=30, deadline=None)
@given(values(PROBABILITY), values(integer(1, 30)))
def test_mean_abs_error_exact_clean(p_value, n_value):
    result = assert_clean_call(bayesnet.mean_abs_error_exact, p_value, n_value)
    if result is not None:
        assert 0 <= float(result) <= 1


@settings(derandomize=True, max_examples=40, deadline=None)
@given(st.lists(st.integers(-2, 50), min_size=0, max_size=5),
       st.one_of(values(integer(1, 100)), st.sampled_from(["1/2", CODE, "nan", None])))
def test_smoothed_clean(counts, alpha):
    result = assert_clean_call(bayesnet.smoothed, counts, alpha)
    if result is not None:
        assert sum(result) == 1 and all(0 <= v <= 1 for v in result)

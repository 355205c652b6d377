"""validation.testing: each assertion passes on a true statement and fails on a nearby false one;
bad input raises InputError; the docstring examples run."""

import doctest
import subprocess
import sys

import numpy as np
import pytest
import sympy as sp
import torch

from theory.errors import InputError
from validation import testing
from validation.testing import numeric
from validation.testing import support
from validation.testing import (assert_converged_to, assert_expressions_equal, assert_matches_autograd,
                                assert_stationary)

x, y, z = sp.symbols("x y z", real=True)
a = sp.Symbol("a", positive=True)
# A true identity sympy cannot decide (equals(0) returns None): atan(1/2) + atan(1/3) = pi/4.
UNDECIDABLE_ZERO = sp.atan(sp.Rational(1, 2)) + sp.atan(sp.Rational(1, 3)) - sp.pi / 4


def test_docstring_examples_run():
    results = [doctest.testmod(module, optionflags=doctest.ELLIPSIS, verbose=False)
               for module in (testing, numeric)]
    assert sum(r.attempted for r in results) >= 12 and all(r.failed == 0 for r in results)


def test_import_does_not_load_torch():
    code = "import sys, validation.testing; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


# ------------------------------------------------------------------------------ stationary
def test_stationary_exact_passes_and_a_tiny_displacement_fails():
    f = (x - sp.Rational(1, 3)) ** 2 + (x - sp.Rational(1, 3)) * (y + 2) + 3 * (y + 2) ** 2
    assert_stationary(f, [x, y], {x: sp.Rational(1, 3), y: -2})
    with pytest.raises(AssertionError, match=r"d/dx = 1/1000000, expected 0"):
        assert_stationary(f, [x, y], {x: sp.Rational(1, 3) + sp.Rational(1, 2 * 10**6), y: -2})


def test_stationary_symbolic_in_the_remaining_parameters():
    # (x - log a)^2 + x y^2 is stationary at x = log a, y = 0 for every a > 0
    f = (x - sp.log(a)) ** 2 + x * y**2
    assert_stationary(f, [x, y], {x: sp.log(a), y: 0})
    with pytest.raises(AssertionError, match="d/dx"):
        assert_stationary(f, [x, y], {x: sp.log(a) / 2, y: 0})   # one coordinate wrong for a != 1


def test_stationary_gradient_with_one_sign_flipped_fails():
    # d/dx [4 x sigma(1 - sigma) - x] = 4 sigma' - 1 = 0 at x = 0; with the sign of x flipped it is 2
    sig = 1 / (1 + sp.exp(-x))
    assert_stationary(sig * (1 - sig) * 4 * x - x, [x], {x: 0})
    with pytest.raises(AssertionError, match="d/dx = 2"):
        assert_stationary(sig * (1 - sig) * 4 * x + x, [x], {x: 0})


def test_stationary_with_tolerance():
    f = sp.exp(x) - x + y**2
    assert_stationary(f, [x, y], {x: 0, y: sp.Float("1e-9")}, tol=1e-8)
    with pytest.raises(AssertionError, match=r"\|d/dx\| = 0.001.* > tol = 1e-06"):
        assert_stationary(f, [x, y], {x: sp.Float("1e-3"), y: 0}, tol=1e-6)


def test_stationary_undecidable_zero_fails_unless_tol_is_given():
    f = UNDECIDABLE_ZERO * x + (x - 1) ** 2
    with pytest.raises(AssertionError, match="could not decide.*pass tol="):
        assert_stationary(f, [x], {x: 1})
    assert_stationary(f, [x], {x: 1}, tol=1e-40)
    # the nonzero neighbour is reported as nonzero, not undecidable
    with pytest.raises(AssertionError, match="not stationary"):
        assert_stationary(f + x * sp.Rational(1, 10**20), [x], {x: 1})


def test_stationary_bad_input():
    with pytest.raises(InputError, match="point"):
        assert_stationary(x**2 + y**2, [x, y], {x: 0})
    with pytest.raises(InputError, match="point.*missing a"):
        assert_stationary(a * x**2, [x], {x: 0}, tol=1e-9)       # tol needs every symbol
    with pytest.raises(InputError, match="variables"):
        assert_stationary(x**2, ["x"], {x: 0})
    with pytest.raises(InputError, match="expr"):
        assert_stationary(sp.Matrix([x]), [x], {x: 0})
    with pytest.raises(InputError, match="tol"):
        assert_stationary(x**2, [x], {x: 0}, tol=-1)


# ------------------------------------------------------------------------- expressions equal
def test_equal_exact_and_off_by_a_tiny_rational():
    lhs = sp.log(a**3 / (1 + a)) + sp.log(1 + a)
    assert_expressions_equal(lhs, 3 * sp.log(a))
    with pytest.raises(AssertionError, match=r"a - b = 1/10000000000000000000000000000000000000000"):
        assert_expressions_equal(lhs + sp.Rational(1, 10**40), 3 * sp.log(a))


def test_equal_matrices_name_the_entry():
    m = sp.Matrix([[sp.cosh(x) ** 2 - sp.sinh(x) ** 2, 0], [x * (x + 1), 2]])
    assert_expressions_equal(m, sp.Matrix([[1, 0], [x**2 + x, 2]]))
    with pytest.raises(AssertionError, match=r"entry \[1, 0\]"):
        assert_expressions_equal(m, sp.Matrix([[1, 0], [x**2 - x, 2]]))
    with pytest.raises(InputError, match="shape"):
        assert_expressions_equal(m, sp.Matrix([1, 0, 0, 2]))
    with pytest.raises(InputError, match="shape"):
        assert_expressions_equal(m, 1)


def test_equal_undecidable_never_passes_exactly():
    lhs, rhs = sp.digamma(a + 1) - sp.digamma(a), 1 / a   # true, but sympy cannot prove it
    with pytest.raises(AssertionError, match="could not decide"):
        assert_expressions_equal(lhs, rhs)
    assert_expressions_equal(lhs, rhs, tol=1e-40)
    with pytest.raises(AssertionError, match=r"\|a - b\| = .* > tol = 1e-40"):
        assert_expressions_equal(lhs, rhs + sp.Rational(1, 10**30), tol=1e-40)
    # exact mode finds a counterexample for a false statement sympy cannot simplify
    with pytest.raises(AssertionError, match="a != b"):
        assert_expressions_equal(lhs, 1 / (a + sp.Rational(1, 10**6)))


def test_cancellation_noise_is_not_a_counterexample():
    # a true identity sympy cannot decide, scaled by 1e40: at 50 digits the difference is noise above
    # SEPARATION at some sample points; it must be confirmed at 100 digits before it counts
    lhs, rhs = 10**40 * sp.asinh(a), 10**40 * sp.log(a + sp.sqrt(a**2 + 1))
    points = support.random_points([a], None, seed=0, count=6)
    noise = [abs(support.Evaluator([lhs - rhs], [a])(pt)[0]) for pt in points]
    assert max(noise) > support.SEPARATION          # the path is exercised
    with pytest.raises(AssertionError, match="could not decide"):
        assert_expressions_equal(lhs, rhs)
    with pytest.raises(AssertionError, match=r"a != b: a - b = "):
        assert_expressions_equal(lhs + sp.Rational(1, 10**20) * sp.asinh(a), rhs)


def test_equal_constant_undecidable():
    with pytest.raises(AssertionError, match="could not decide"):
        assert_expressions_equal(UNDECIDABLE_ZERO, 0)
    assert_expressions_equal(UNDECIDABLE_ZERO, 0, tol=1e-45)
    with pytest.raises(AssertionError, match="tol = 1e-45"):
        assert_expressions_equal(UNDECIDABLE_ZERO, sp.Rational(1, 10**44), tol=1e-45)


def test_equal_numerical_respects_domain_and_seed():
    # sqrt(x^2) = x only for x > 0: the default interval of a real symbol is (-1, 1)
    with pytest.raises(AssertionError, match="x: -"):
        assert_expressions_equal(sp.sqrt(x**2), x, tol=1e-30)
    assert_expressions_equal(sp.sqrt(x**2), x, tol=1e-30, domain={x: (0, 2)})
    points = support.random_points([x, a], {x: (2, 3)}, seed=4, count=5)
    assert points == support.random_points([x, a], {x: (2, 3)}, seed=4, count=5)
    assert all(2 < p[x] < 3 and 0 < p[a] < 1 for p in points)
    with pytest.raises(InputError, match="domain"):
        assert_expressions_equal(1 / sp.floor(x), 0, tol=1e-9, domain={x: (0, 1)})  # never finite


def test_equal_bad_input():
    with pytest.raises(InputError, match="a="):
        assert_expressions_equal("x", x)
    with pytest.raises(InputError, match="samples"):
        assert_expressions_equal(x, x, tol=1e-9, samples=0)
    with pytest.raises(InputError, match="domain"):
        assert_expressions_equal(x, x, tol=1e-9, domain={x: (1, 0)})


# ------------------------------------------------------------------------------- autograd
F = a * sp.log(1 + sp.exp(x * y)) + sp.sin(z) * x**3 / 3
POINT = {x: 0.7, y: -1.3, z: 0.4, a: sp.Rational(3, 2)}


def torch_f(v):
    return 1.5 * torch.nn.functional.softplus(v[0] * v[1]) + torch.sin(v[2]) * v[0] ** 3 / 3


@pytest.mark.parametrize("order", [1, 2])
def test_autograd_passes_with_default_and_own_torch_function(order):
    assert_matches_autograd(F, [x, y, z], POINT, order=order)
    assert_matches_autograd(F, [x, y, z], POINT, torch_f, order=order)


def test_autograd_catches_a_sign_flip_with_equal_value():
    # at x = 0 the value of x*y + y^2 and -x*y + y^2 agree; d/dx has the opposite sign
    with pytest.raises(AssertionError, match=r"autograd differs from sympy.*d/dx: sympy 0.5, autograd -0.5"):
        assert_matches_autograd(x * y + y**2, [x, y], {x: 0, y: 0.5}, lambda v: -v[0] * v[1] + v[1] ** 2)


def test_autograd_catches_a_hessian_off_by_1e3():
    # f + 1e-3 (x - x0)^2 / 2: same value and gradient at x0, Hessian entry [0, 0] off by 1e-3
    x0 = POINT[x]

    def perturbed(v):
        return torch_f(v) + 1e-3 * (v[0] - x0) ** 2 / 2

    assert_matches_autograd(F, [x, y, z], POINT, perturbed, order=1)
    with pytest.raises(AssertionError, match="d2/dx2"):
        assert_matches_autograd(F, [x, y, z], POINT, perturbed, order=2)


class _WrongBackward(torch.autograd.Function):
    """Forward f(v) + c (v0 - x0) (same value at x0), backward the true gradient of f: autograd
    then agrees with sympy and only finite differences see the extra slope c."""

    @staticmethod
    def forward(ctx, v, c):
        ctx.save_for_backward(v)
        return torch_f(v) + c * (v[0] - POINT[x])

    @staticmethod
    def backward(ctx, grad_output):
        (v,) = ctx.saved_tensors
        with torch.enable_grad():
            w = v.detach().requires_grad_(True)
            (g,) = torch.autograd.grad(torch_f(w), w)
        return grad_output * g, None


def test_finite_differences_catch_a_wrong_custom_backward():
    assert_matches_autograd(F, [x, y, z], POINT, lambda v: _WrongBackward.apply(v, 0.0))
    with pytest.raises(AssertionError, match=r"finite differences differ.*d/dx.*truncation"):
        assert_matches_autograd(F, [x, y, z], POINT, lambda v: _WrongBackward.apply(v, 1e-5))


def test_finite_difference_bound_holds_for_steep_functions():
    # large third and fourth derivatives: the truncation bound must cover them at the default steps
    g = sp.exp(6 * x) * sp.cos(3 * y) + x**5 * y
    for point in ({x: 1.1, y: 0.2}, {x: -0.5, y: 2.0}):
        assert_matches_autograd(g, [x, y], point, order=1, rtol=1e-9)
        assert_matches_autograd(g, [x, y], point, order=2, rtol=1e-9)


def test_autograd_value_mismatch_and_bad_input():
    with pytest.raises(AssertionError, match="torch_fn differs from expr"):
        assert_matches_autograd(F, [x, y, z], POINT, lambda v: torch_f(v) + 1e-6)
    with pytest.raises(InputError, match="missing a"):
        assert_matches_autograd(F, [x, y, z], {x: 0.7, y: -1.3, z: 0.4})
    with pytest.raises(InputError, match="order"):
        assert_matches_autograd(F, [x, y, z], POINT, order=3)
    with pytest.raises(InputError, match="torch_fn"):
        assert_matches_autograd(F, [x, y, z], POINT, lambda v: v)
    with pytest.raises(InputError, match="torch_fn"):
        assert_matches_autograd(F, [x, y, z], POINT, torch_fn="f")


# ------------------------------------------------------------------------------ converged
def test_converged_dict_passes_and_a_displaced_point_fails():
    trained = {"loss": 0.6190, "w": np.array([[-0.7072, 0.3]]), "b": torch.tensor(0.5)}
    predicted = {"loss": 0.6190, "w": [[-1 / np.sqrt(2), 0.3]], "b": sp.Rational(1, 2)}
    assert_converged_to(trained, predicted, tol=1e-4)
    displaced = dict(predicted, w=[[-1 / np.sqrt(2), 0.301]])
    with pytest.raises(AssertionError, match=r"w\[0, 1\] = 0.3 vs predicted 0.301, \|diff\| = 0.001 > tol"):
        assert_converged_to(trained, displaced, tol=1e-4)


def test_converged_module_scalar_broadcast_and_per_key_tol():
    model = torch.nn.Linear(3, 1).double()
    with torch.no_grad():
        model.weight.fill_(0.25)
        model.bias.fill_(-1.0)
    assert_converged_to(model, {"weight": 0.25, "bias": [-1.0]}, tol=0.0)
    assert_converged_to(model, {"weight": 0.2505}, tol={"weight": 1e-3})
    with torch.no_grad():
        model.weight[0, 2] += 2e-3
    with pytest.raises(AssertionError, match=r"weight\[0, 2\] = 0.252 vs predicted 0.2505.*1 of 3 coordinates"):
        assert_converged_to(model, {"weight": 0.2505}, tol={"weight": 1e-3})


def test_converged_arrays_with_names_and_nan():
    assert_converged_to([1.0, 2.0], np.array([1.0, 2.0]), tol=0)
    with pytest.raises(AssertionError, match="worst coordinate w = 2.001"):
        assert_converged_to([1.0, 2.001], [1.0, 2.0], tol=1e-4, names=["e", "w"])
    with pytest.raises(AssertionError, match="nan"):
        assert_converged_to([float("nan")], [0.0], tol=1.0)


def test_converged_bad_input():
    with pytest.raises(InputError, match="missing 'b'"):
        assert_converged_to({"a": 1.0}, {"b": 1.0}, tol=1)
    with pytest.raises(InputError, match="shape"):
        assert_converged_to({"a": [1.0, 2.0]}, {"a": [1.0, 2.0, 3.0]}, tol=1)
    with pytest.raises(InputError, match="same kind"):
        assert_converged_to({"a": 1.0}, [1.0], tol=1)
    with pytest.raises(InputError, match="tol"):
        assert_converged_to([1.0], [1.0], tol=float("nan"))
    with pytest.raises(InputError, match="names"):
        assert_converged_to([1.0], [1.0], tol=1, names=["a", "b"])
    with pytest.raises(InputError, match="values"):
        assert_converged_to(["one"], [1.0], tol=1)


# ------------------------------------------------------------- non-finite and empty inputs
X = sp.Symbol("x", real=True)


@pytest.mark.parametrize("values, predicted", [
    ([np.inf], [np.inf]), ([1.0], [np.nan]), ([1.0], [-np.inf]), ({"a": np.inf}, {"a": np.inf}),
    ({}, {}), ([], []), ({"a": []}, {"a": []}), ({"a": 1.0}, {}),
])
def test_converged_refuses_non_finite_or_empty_predictions(values, predicted):
    with pytest.raises(InputError, match="predicted"):
        assert_converged_to(values, predicted, tol=1.0)


@pytest.mark.parametrize("value", [np.inf, -np.inf, np.nan])
def test_converged_a_non_finite_value_is_not_converged(value, recwarn):
    with pytest.raises(AssertionError, match="not converged"):
        assert_converged_to([value, 1.0], [1e300, 1.0], tol=1e308)
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


@pytest.mark.parametrize("a, b", [
    (sp.oo, sp.oo), (sp.nan, sp.nan), (sp.zoo, sp.zoo), (float("inf"), float("inf")),
    (X + sp.oo, X + sp.oo), (sp.Matrix([[sp.nan]]), sp.Matrix([[sp.nan]])),
    (sp.Matrix(0, 0, []), sp.Matrix(0, 0, [])),
])
@pytest.mark.parametrize("tol", [None, 1.0])
def test_expressions_equal_refuses_non_finite_and_empty(a, b, tol):
    with pytest.raises(InputError, match="a="):
        assert_expressions_equal(a, b, tol=tol)


@pytest.mark.parametrize("kwargs, name", [
    ({"domain": {X: (0, sp.oo)}}, "domain"), ({"domain": {X: (0, float("inf"))}}, "domain"),
    ({"domain": {X: (0, float("nan"))}}, "domain"), ({"domain": {X: ("__import__('os')", 1)}}, "domain"),
    ({"domain": {X: (1, 0)}}, "domain"), ({"domain": {X: 1}}, "domain"),
    ({"samples": 10**12}, "samples"), ({"samples": 0}, "samples"), ({"seed": -1}, "seed"),
    ({"seed": "s"}, "seed"), ({"seed": 2.5}, "seed"),
])
@pytest.mark.parametrize("tol", [None, 1e-9])
def test_expressions_equal_refuses_bad_domains_samples_seeds(kwargs, name, tol):
    with pytest.raises(InputError, match=name):
        assert_expressions_equal(X / (1 + X), 1 - 1 / (1 + X), tol=tol, **kwargs)


def test_domain_text_is_a_strict_rational():
    assert_expressions_equal(sp.sqrt(X**2), X, domain={X: ("1/2", "2.5")}, tol=1e-30)
    with pytest.raises(InputError, match="domain"):
        assert_expressions_equal(sp.sqrt(X**2), X, domain={X: ("1/2", "exit(1)")}, tol=1e-30)


@pytest.mark.parametrize("expr, point", [
    (X**2, {X: sp.oo}), (X**2, {X: sp.nan}), (0 * X, {X: sp.zoo}), (X**2, {X: float("inf")}),
    (sp.oo + 0 * X, {X: 1}), (sp.nan + 0 * X, {X: 1}),
])
@pytest.mark.parametrize("tol", [None, 1e-9])
def test_stationary_refuses_non_finite(expr, point, tol):
    with pytest.raises(InputError):
        assert_stationary(expr, [X], point, tol=tol)


@pytest.mark.parametrize("fd_step", [1e300, 2.0, 0.0, float("nan"), -1e-3])
def test_autograd_refuses_a_step_beyond_one(fd_step):
    with pytest.raises(InputError, match="fd_step"):
        assert_matches_autograd(X**2, [X], {X: 1.0}, fd_step=fd_step)

"""Property tests over the declared domains of the Potts API (issue 11): every call returns a finite
result of the documented type or raises the library's error (validation.testing.fuzz)."""

from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from numerics.potts import domains, inverse, population, replica, represent, sampling
from theory import potts
from theory.domains import FINITE, integer, real
from theory.errors import InputError, NumericalFailure, TTCError
from validation.testing.fuzz import assert_clean_call, invalid_values, values

SETTINGS = settings(derandomize=True, max_examples=40, deadline=None)
ANCHOR = population.ising_anchor()
SCALE = real(-1e300, 1e300)


def small(domain, high):
    """Valid values of ``domain`` no larger than ``high`` (cheap calls), mixed with its invalid
    values."""
    low = domain.low if domain.low is not None else 0
    return st.one_of(st.integers(int(low), high), invalid_values(domain))


@SETTINGS
@given(values(SCALE), values(domains.BETA))
def test_exact_summary_is_finite_or_refused(scale, beta):
    def call():
        model = population.make_model(ANCHOR.J * scale, ANCHOR.U, None, beta)
        out = population.exact_summary(model, pairs=True)
        assert out.Z is None or isinstance(out.Z, float)
        assert np.allclose(out.marginals.sum(1), 1) and np.allclose(
            out.pair_marginals.sum((2, 3)), 1)
        return out

    assert_clean_call(call)


@SETTINGS
@given(st.one_of(st.integers(-3, 30), st.sampled_from([10**9, 2**62])), st.integers(-2, 12))
def test_enumeration_sizes(L, C):
    assert_clean_call(population.check_enumerable, L, C)


@SETTINGS
@given(small(domains.SAMPLES, 50), st.one_of(st.none(), small(domains.CHAINS, 20)),
       small(domains.BURN_IN, 5), small(domains.THIN, 3))
def test_sample_is_finite_or_refused(n, chains, burn_in, thin):
    out = assert_clean_call(sampling.sample, ANCHOR, n, chains=chains, burn_in=burn_in, thin=thin)
    if out is not None:
        assert out.samples.shape == (n, 3) and out.samples.dtype == np.int64


@SETTINGS
@given(values(domains.SAMPLES), values(domains.CHAINS), values(domains.BURN_IN),
       values(domains.THIN))
def test_sampling_cost_refuses_or_bounds(n, chains, burn_in, thin):
    def call():
        for name, domain, value in (("n_samples", domains.SAMPLES, n), ("chains", domains.CHAINS,
                                    chains), ("burn_in", domains.BURN_IN, burn_in),
                                    ("thin", domains.THIN, thin)):
            domain.check(name, value)
        memory, work = sampling.sampling_cost(3, 2, n, chains, burn_in, thin)
        assert memory <= domains.MEMORY_BUDGET and work <= domains.WORK_BUDGET
        return memory, work

    assert_clean_call(call)


@SETTINGS
@given(values(domains.PENALTY), small(domains.RESTARTS, 2), small(domains.MAX_ITER, 30))
def test_fits_are_finite_or_refused(lam, restarts, max_iter):
    S = sampling.sample(ANCHOR, 40, chains=40, burn_in=5, thin=1, seed=1).samples
    assert_clean_call(inverse.fit_factored, S, 2, lam=lam, restarts=restarts, max_iter=max_iter)
    assert_clean_call(inverse.fit_plm, S, 2, lam_h=lam, lam_J=lam, max_iter=max_iter)


@SETTINGS
@given(small(domains.RESTARTS, 1), small(domains.MAX_ITER, 20), values(real(0, 100)))
def test_represent_is_finite_or_refused(restarts, max_iter, init_scale):
    out = assert_clean_call(represent.represent, ANCHOR, "softmax", restarts=restarts,
                            max_iter=max_iter, init_scale=init_scale)
    assert out is None or out.gap > -1e-9


@SETTINGS
@given(st.one_of(values(domains.ALPHA), st.lists(values(domains.ALPHA), max_size=3)),
       values(domains.REPLICA_LAMBDA), values(domains.RHO), values(domains.DELTA))
def test_r2_curve_is_finite_or_refused(alphas, lam, rho, delta):
    assert_clean_call(replica.r2_curve, alphas, lam, rho, delta)


@settings(derandomize=True, max_examples=25, deadline=None)
@given(values(domains.ALPHA), values(domains.REPLICA_LAMBDA), values(domains.RHO))
def test_r1_point_is_finite_or_refused(alpha, lam, rho):
    assert_clean_call(replica.r1_point, alpha, lam, rho, quadrature=11)


@SETTINGS
@given(values(FINITE), values(domains.ALPHA), values(domains.REPLICA_LAMBDA))
def test_r2_closed_form_numbers_are_finite_reals_or_refused(delta, alpha, lam):
    out = assert_clean_call(potts.r2_closed_form, alpha, lam, 1, delta)
    if out is not None:
        value = complex(sp.N(out.test_mse))
        assert value.imag == 0 and np.isfinite(value.real)


@SETTINGS
@given(values(integer(1, 8)), values(integer(1, 8)))
def test_symbolic_sizes_are_bounded(L, C):
    if isinstance(L, int) and isinstance(C, int) and 2 <= L <= 3 and 2 <= C <= 2:
        return  # valid and slow enough to be covered by tests/theory/test_potts.py
    assert_clean_call(potts.mapping_logit_residuals, L, C)


def test_strings_carrying_code_raise_and_rationals_still_work():
    code = "__import__('os').system('true')"
    for call in (lambda: potts.r2_closed_form(alpha=code),
                 lambda: potts.ridge_prior_equations(lam=code),
                 lambda: potts.r2_channel(alpha=2, Delta=code),
                 lambda: replica.r2_curve([code], 0.1),
                 lambda: population.make_model([[0, code], [code, 0]], [[1, 0], [0, 1]])):
        with pytest.raises(InputError):
            call()
    cf = potts.r2_closed_form(alpha="2", lam="1", rho="1", Delta="1/4")
    assert sp.simplify(cf.V - (sp.sqrt(2) - 1)) == 0
    assert potts.r2_closed_form(alpha="3/10", lam=Fraction(1, 10)).V == \
        potts.r2_closed_form(alpha=sp.Rational(3, 10), lam=sp.Rational(1, 10)).V


def test_exact_summary_overflow_is_a_numerical_failure():
    """Issue 11: huge couplings gave marginal rows summing to 2."""
    model = population.make_model(ANCHOR.J * 1e300, ANCHOR.U, None, 1.0)
    with pytest.raises(NumericalFailure):
        population.exact_summary(model)


def test_large_log_Z_keeps_marginals_and_reports_no_Z():
    model = population.make_model(ANCHOR.J * 1e3, ANCHOR.U, None, 1.0)
    out = population.exact_summary(model)
    assert out.Z is None and out.log_Z > 700 and np.allclose(out.marginals.sum(1), 1)


def test_every_error_is_the_librarys():
    for bad in ({"J": [[0, 1], [1, 0]], "U": [[1, 0], [0, 1]], "beta": float("nan")},
                {"J": np.array([[0, 1], [1, 0]], dtype=object), "U": [[1, 0], [0, 1]]},
                {"J": [[0, 1], [1, 0]], "U": [[1, 0], [0, 1]], "h": [[1, 2]]}):
        with pytest.raises(TTCError):
            population.make_model(bad["J"], bad["U"], bad.get("h"), bad.get("beta", 1.0))

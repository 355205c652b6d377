"""Issue 11: the numerics API of the Bayesian-network paper keeps the clean-call contract on its
declared domains (a finite result of the documented type, or one of the library's errors)."""

import numpy as np
from hypothesis import given, settings, strategies as st

from numerics.bayesnet import construction, mle, networks
from theory.domains import PROBABILITY
from validation.testing.fuzz import assert_clean_call, values

S = networks.family_structure("general5")
NET = networks.family_network("general5", 0)
DATA = networks.sample(NET, 40, 1)


@settings(derandomize=True, max_examples=40, deadline=None)
@given(values(networks.SAMPLES), values(construction.BETA))
def test_sample_and_beta_domains(n, beta):
    small = n if not isinstance(n, int) or isinstance(n, bool) else min(n, 50)
    result = assert_clean_call(networks.sample, NET, small, 0)
    if result is not None:
        assert result.shape == (small, 5) and result.dtype == np.int64
    assert_clean_call(construction.check_beta, beta)


@settings(derandomize=True, max_examples=40, deadline=None)
@given(st.sampled_from(mle.ON_EMPTY[1:]), st.sampled_from(mle.PRIORS), values(mle.ESS),
       st.integers(0, 4), st.integers(0, 40))
def test_in_context_mle_clean(on_empty, prior, ess, m0, n):
    result = assert_clean_call(mle.in_context_mle, S, DATA[:n], DATA[-1], m0, on_empty=on_empty,
                               prior=prior, ess=ess)
    if result is not None:
        assert abs(result.probs.sum() - 1) < 1e-12


@settings(derandomize=True, max_examples=30, deadline=None)
@given(values(construction.CONTEXT_LENGTH), values(construction.BETA), values(construction.QUERIES))
def test_construction_report_clean(n, beta, n_queries):
    small_n = min(n, 30) if isinstance(n, int) and not isinstance(n, bool) else n
    small_q = min(n_queries, 4) if isinstance(n_queries, int) and not isinstance(n_queries, bool) else n_queries
    result = assert_clean_call(construction.construction_report, NET, small_n, beta, 0, small_q)
    if result is not None:
        assert 0 <= result.max_tv_vs_mle <= 1


@settings(derandomize=True, max_examples=40, deadline=None)
@given(values(PROBABILITY), values(mle.PMF_ROWS))
def test_mean_abs_error_exact_clean(p, n):
    small = min(n, 10_000) if isinstance(n, int) and not isinstance(n, bool) else n
    result = assert_clean_call(mle.mean_abs_error_exact, p, small)
    if result is not None:
        assert 0 <= result <= 1


@settings(derandomize=True, max_examples=30, deadline=None)
@given(st.lists(st.sampled_from([0.0, 0.5, 1.0, float("nan"), float("inf")]), min_size=2, max_size=2),
       st.lists(st.floats(0, 1), min_size=1, max_size=3))
def test_tv_clean(p, q):
    result = assert_clean_call(mle.tv, p, q)
    if result is not None:
        assert 0 <= float(result) <= 1.5

"""Issue 11 for the Markov paper: every bad or extreme input of the issue gives one `error:` line
(exit 2 for bad input, exit 1 for a numerical failure of a valid input) within 10 s under a
2 GiB address-space cap, and the Python API keeps the same contract."""

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from numerics.markov import canonical
from theory.domains import PROBABILITY, SEED
from theory.errors import InputError, NumericalFailure, TooLargeError
from validation.markov import domains
from validation.markov.cli import train_canonical
from validation.testing.fuzz import assert_clean_call, values

BAD_INPUT = [
    # (argv, the option the one error line must name)
    (["train", "--p", ".3", "--q", ".4", "--seed", "-1"], "--seed"),
    (["train", "--p", ".3", "--q", ".4", "--model", "transformer", "--seed", "-1"], "--seed"),
    (["summary", "--p", ".3", "--q", ".3", "--states", "1000000000"], "--states"),
    (["summary", "--p", ".3", "--q", ".3", "--states", "3"], "--q"),
    (["summary", "--p", ".3"], "--q"),
    (["train", "--p", ".3", "--q", ".4", "--d", "8"], "--d"),
    (["train", "--p", ".3", "--q", ".4", "--seq-len", "8"], "--seq-len"),
    (["train", "--p", ".3", "--q", ".4", "--no-tying"], "--tying"),
    (["train", "--p", ".3", "--q", ".4", "--model", "transformer", "--steps", "1000000"],
     "--steps"),
    (["train", "--p", ".3", "--q", ".4", "--model", "transformer", "--seq-len", "4096"],
     "--seq-len"),
    (["train", "--p", ".3", "--q", ".4", "--steps", "1e7"], "--steps"),
    (["landscape", "--p", ".3", "--q", ".4", "--out", "x.png", "--grid", "100000"], "--grid"),
    (["landscape", "--p", ".3", "--q", ".4", "--out", "x.jpg"], "--out"),
    (["basin", "--p", ".3", "--q", ".4", "--e0", "nan", "--w0", "1"], "--e0"),
    (["critical", "--p", "__import__('os').system('true')", "--q", ".4"], "--p"),
]


def _one_error_line(code, out, err, seconds, expected_code):
    lines = err.strip().splitlines()
    assert code == expected_code, (code, err)
    assert out == "" and len(lines) == 1 and lines[0].startswith("error:"), (out, err)
    assert seconds < 10
    return lines[0]


@pytest.mark.parametrize("argv,flag", BAD_INPUT, ids=[" ".join(a[:1] + [f]) for a, f in BAD_INPUT])
def test_bad_input_exits_2_naming_the_option(run_capped, tmp_path, argv, flag):
    line = _one_error_line(*run_capped("markov", *argv, cwd=tmp_path), expected_code=2)
    assert flag in line


def test_stiff_basin_flow_is_a_bounded_numerical_failure(run_capped):
    # b0 = 1e10 used to run for minutes (a stiff flow towards b ~ 0 from very far)
    line = _one_error_line(*run_capped("markov", "basin", "--p", ".3", "--q", ".4", "--e0", "1",
                                       "--w0", "1", "--b0", "1e10"), expected_code=1)
    assert line.startswith("error: numerical failure:") and "steps" in line


def test_tiny_probabilities_give_finite_critical_values(run_capped):
    # p q underflows: this was a ZeroDivisionError ("internal error")
    code, out, err, _ = run_capped("markov", "critical", "--p", "1e-300", "--q", "1e-300", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["global_curve_constant"] == pytest.approx(2 * math.log(1e300))
    assert result["unigram_bias"] == 0.0


def test_symmetric_chain_needs_no_q(run_capped):
    code, out, err, _ = run_capped("markov", "summary", "--p", ".3", "--states", "3", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["q"] is None and result["unigram_entropy"] == pytest.approx(math.log(3))


# ---------------------------------------------------------------------------------------------
# The Python API through the same declarations


def test_api_refuses_non_finite_and_reports_overflow():
    with pytest.raises(InputError, match="e="):
        canonical.canonical_loss(0.3, 0.4, float("nan"), 1.0, 0.0)
    with pytest.raises(InputError, match="w="):
        canonical.optimal_bias(0.3, 0.4, 1.0, float("inf"))
    with pytest.raises(NumericalFailure):
        canonical.canonical_loss(0.3, 0.4, 1e200, 1.0, 0.0)
    with pytest.raises(NumericalFailure):
        canonical.optimal_bias(0.3, 0.4, 1e200, 1.0)
    with pytest.raises(InputError, match="e="):
        canonical.canonical_loss(0.3, 0.4, "1", 1.0, 0.0)  # no strings read as numbers
    with pytest.raises(InputError, match="w="):
        canonical.energy(1.0, 0.0)  # undefined at w = 0


def test_api_extreme_chains_are_finite():
    assert math.isfinite(canonical.global_curve_constant(1e-300, 1e-300))
    assert math.isfinite(float(canonical.optimal_bias(1e-300, 1e-300, 1.0, -0.5)))
    assert math.isfinite(float(canonical.optimal_bias(1e-300, 0.9, 1.0, 0.5)))
    assert math.isfinite(canonical.critical_summary(0.9, 5e-324).unigram_bias)


def test_api_refuses_allocations_beyond_the_budget():
    import numpy as np

    big = np.zeros((1, 1))
    with pytest.raises(TooLargeError, match="e, w"):
        # broadcast 1e6 x 1e6 would need terabytes: refused from the shapes alone
        canonical.optimal_bias(0.3, 0.4, np.broadcast_to(big, (10**6, 1)),
                               np.broadcast_to(big, (1, 10**6)))
    with pytest.raises(TooLargeError, match="steps"):
        domains.check_training(steps=10**6, d=4, seq_len=64, batch=16)
    with pytest.raises(InputError, match="seed"):
        train_canonical(0.3, 0.4, "standard", 10, -1)


@settings(derandomize=True, max_examples=60, deadline=None)
@given(values(PROBABILITY), values(PROBABILITY), values(canonical.INITIAL_VALUE),
       values(canonical.INITIAL_VALUE), values(canonical.INITIAL_VALUE))
def test_canonical_loss_contract(p, q, e, w, b):
    assert_clean_call(canonical.canonical_loss, p, q, e, w, b)
    assert_clean_call(canonical.canonical_gradient, p, q, e, w, b)


@settings(derandomize=True, max_examples=60, deadline=None)
@given(values(PROBABILITY), values(PROBABILITY), values(canonical.INITIAL_VALUE),
       values(canonical.INITIAL_VALUE))
def test_optimal_bias_and_profiled_loss_contract(p, q, e, w):
    assert_clean_call(canonical.optimal_bias, p, q, e, w)
    assert_clean_call(canonical.profiled_loss, p, q, e, w)


@settings(derandomize=True, max_examples=60, deadline=None)
@given(values(PROBABILITY), values(PROBABILITY), values(canonical.STATES))
def test_chain_summaries_contract(p, q, states):
    assert_clean_call(canonical.chain_summary, p, q, states)
    assert_clean_call(canonical.critical_summary, p, q)
    assert_clean_call(canonical.global_curve_constant, p, q)


@settings(derandomize=True, max_examples=20, deadline=None)
@given(values(PROBABILITY), values(PROBABILITY), values(canonical.INITIAL_VALUE),
       values(canonical.INITIAL_VALUE), values(canonical.INITIAL_VALUE))
def test_basin_query_contract(p, q, e0, w0, b0):
    assert_clean_call(canonical.basin_query, p, q, e0, w0, b0)


_FEW_STEPS = st.one_of(st.integers(0, 30), st.sampled_from([-1, 10**7, 2.5, None, True]))


@settings(derandomize=True, max_examples=40, deadline=None)
@given(values(PROBABILITY), values(PROBABILITY), values(canonical.INITIAL_VALUE),
       values(canonical.INITIAL_VALUE), _FEW_STEPS)
def test_gradient_descent_contract(p, q, e0, w0, steps):
    assert_clean_call(canonical.gradient_descent_ends, p, q, e0, w0, None, None, steps)


@settings(derandomize=True, max_examples=40, deadline=None)
@given(values(PROBABILITY), values(PROBABILITY), _FEW_STEPS, values(SEED))
def test_train_canonical_contract(p, q, steps, seed):
    assert_clean_call(train_canonical, p, q, "standard", steps, seed)


@settings(derandomize=True, max_examples=60, deadline=None)
@given(values(domains.TRAINING_STEPS), values(domains.WIDTH),
       values(domains.SEQ_LEN), values(domains.BATCH))
def test_training_limits_contract(steps, d, seq_len, batch):
    estimate = assert_clean_call(domains.check_training, steps=steps, d=d,
                                 seq_len=seq_len, batch=batch)
    assert estimate is None or 0 < estimate <= domains.MEMORY_BUDGET


def test_sequence_and_certificate_sizes_are_refused_before_allocating():
    from numerics.markov import certified, sequences

    with pytest.raises(TooLargeError, match="batch"):
        sequences.sample_chain(0.3, 0.4, 10**6, 10**6, 0)
    with pytest.raises(TooLargeError, match="seq_len"):
        sequences.enumerate_state_sequences(2, 0.3, 10**9)  # no 2^(10^9) big integer first
    with pytest.raises(InputError, match="states"):
        sequences.symmetric_kernel(10**6, 0.3)
    with pytest.raises(InputError, match="slab"):
        certified.certify_critical_set(0.2, 0.3, slab=1e-9)

"""Tests of numerics.markov.sequences: exact enumeration and the seeded samplers."""

from fractions import Fraction
from itertools import product

import numpy as np
import pytest

from numerics.markov.sequences import (
    binary_kernel, enumerate_sequences, sample_chain, sample_from_kernel, sample_lag_chain,
    sample_symmetric_chain, symmetric_kernel)
from theory.errors import InputError, TooLargeError


def _exact_probability(sequence, p: Fraction, q: Fraction) -> Fraction:
    """Independent reference: pi_{x1} prod P(x_n, x_{n+1}) in exact rationals."""
    kernel = {(0, 0): 1 - p, (0, 1): p, (1, 0): q, (1, 1): 1 - q}
    prob = (q if sequence[0] == 0 else p) / (p + q)
    for a, b in zip(sequence, sequence[1:]):
        prob *= kernel[(a, b)]
    return prob


@pytest.mark.parametrize("p, q", [(Fraction(1, 5), Fraction(3, 10)), (Fraction(1, 2), Fraction(4, 5))])
def test_enumeration_matches_exact_products(p, q):
    enumerated = enumerate_sequences(float(p), float(q), 3)
    sequences, probs = enumerated.sequences, enumerated.probabilities
    assert sequences.shape == (16, 4) and probs.shape == (16,)
    # every binary sequence of length 4 exactly once
    assert {tuple(s) for s in sequences.tolist()} == set(product((0, 1), repeat=4))
    exact = [_exact_probability(tuple(s), p, q) for s in sequences.tolist()]
    assert sum(exact) == 1  # exact rationals: the reference itself is normalised
    np.testing.assert_allclose(probs, [float(v) for v in exact], rtol=0, atol=1e-15)
    assert abs(probs.sum() - 1) <= 1e-14


def test_enumeration_sums_to_one_at_largest_size():
    probs = enumerate_sequences(0.3, 0.6, 12).probabilities
    assert probs.shape == (2**13,)
    assert abs(probs.sum() - 1) <= 1e-12


def test_enumeration_too_large_names_seq_len():
    with pytest.raises(TooLargeError, match="seq_len.*sample_chain"):
        enumerate_sequences(0.3, 0.6, 13)


@pytest.mark.parametrize("p, q", [(0.0, 0.5), (0.5, 1.0), (float("nan"), 0.5)])
def test_enumeration_bad_probabilities(p, q):
    with pytest.raises(InputError):
        enumerate_sequences(p, q, 3)


def test_sampler_frequencies_match_enumeration():
    n = 40_000
    x = sample_chain(0.2, 0.3, n, 4, seed=7)
    probs = enumerate_sequences(0.2, 0.3, 3).probabilities
    codes = x @ (2 ** np.arange(3, -1, -1))
    freq = np.bincount(codes, minlength=16) / n
    # rows of `sequences` are the binary expansions 0..15; error bar: 5 binomial standard errors
    assert np.all(np.abs(freq - probs) <= 5 * np.sqrt(probs * (1 - probs) / n))


def test_sampler_is_reproducible_and_accepts_generator():
    a = sample_chain(0.5, 0.8, 8, 10, seed=3)
    b = sample_chain(0.5, 0.8, 8, 10, seed=3)
    c = sample_chain(0.5, 0.8, 8, 10, seed=np.random.default_rng(3))
    assert a.dtype == np.int64 and a.shape == (8, 10)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)
    assert not np.array_equal(a, sample_chain(0.5, 0.8, 8, 10, seed=4))


def test_lag_chain_transitions():
    n, lag = 20_000, 3
    x = sample_lag_chain(0.2, 0.3, lag, n, 8, seed=11)
    prev, nxt = x[:, 2], x[:, 2 + lag]
    # P(x_{n+k}=1 | x_n=0) = p; symbols one step apart are independent under the stationary start
    share = nxt[prev == 0].mean()
    se = np.sqrt(0.2 * 0.8 / (prev == 0).sum())
    assert abs(share - 0.2) <= 5 * se
    pi1 = 0.2 / 0.5
    adjacent = x[:, 3][x[:, 2] == 0].mean()
    assert abs(adjacent - pi1) <= 5 * np.sqrt(pi1 * (1 - pi1) / (x[:, 2] == 0).sum())


def test_symmetric_chain_stays_and_is_uniform():
    n, states, p = 10_000, 3, 0.3
    x = sample_symmetric_chain(states, p, n, 6, seed=5)
    assert x.min() == 0 and x.max() == states - 1
    stay = (x[:, 1:] == x[:, :-1]).mean()
    # 5 standard errors: in the symmetric chain each step stays with probability 1-p independently
    # of the state and the past, so the 5n stay indicators are i.i.d. Bernoulli(1-p)
    assert abs(stay - (1 - p)) <= 5 * np.sqrt(p * (1 - p) / (n * 5))
    marginal = np.bincount(x[:, 0], minlength=states) / n
    assert np.all(np.abs(marginal - 1 / states) <= 5 * np.sqrt((1 / 3) * (2 / 3) / n))


def test_kernels():
    np.testing.assert_array_equal(binary_kernel(0.25, 0.5), [[0.75, 0.25], [0.5, 0.5]])
    k = symmetric_kernel(4, 0.3)
    np.testing.assert_allclose(k.sum(axis=1), 1.0, atol=1e-15)
    assert k[0, 0] == 0.7 and abs(k[0, 1] - 0.1) <= 1e-15


@pytest.mark.parametrize("kwargs", [
    {"batch": 0}, {"length": 0}, {"lag": 0}, {"seed": -1},
    {"kernel": [[0.5, 0.6], [0.5, 0.5]]}, {"init": [0.2, 0.2]},
])
def test_sampler_bad_inputs(kwargs):
    args = {"kernel": [[0.5, 0.5], [0.1, 0.9]], "init": [0.5, 0.5], "batch": 2, "length": 3,
            "seed": 0, "lag": 1}
    args.update(kwargs)
    with pytest.raises(InputError):
        sample_from_kernel(**args)


def test_state_enumeration_matches_binary_and_product_formula():
    from numerics.markov.sequences import enumerate_state_sequences, enumerate_sequences

    # S = 2 with p = q is the binary chain: same sequence order, same probabilities
    states2, binary = enumerate_state_sequences(2, 0.3, 5), enumerate_sequences(0.3, 0.3, 5)
    np.testing.assert_array_equal(states2.sequences, binary.sequences)
    np.testing.assert_allclose(states2.probabilities, binary.probabilities, rtol=1e-14, atol=0)
    # S = 3: the probability of one sequence from the kernel product, and the total mass
    three = enumerate_state_sequences(3, 0.4, 3)
    seqs, probs = three.sequences, three.probabilities
    kernel = symmetric_kernel(3, 0.4)
    row = 2 * 27 + 0 * 9 + 0 * 3 + 1  # base-3 digits (2, 0, 0, 1)
    assert list(seqs[row]) == [2, 0, 0, 1]
    assert probs[row] == pytest.approx(kernel[2, 0] * kernel[0, 0] * kernel[0, 1] / 3, rel=1e-14)
    assert probs.sum() == pytest.approx(1.0, abs=1e-14)
    with pytest.raises(TooLargeError, match="seq_len"):
        enumerate_state_sequences(5, 0.3, 8)

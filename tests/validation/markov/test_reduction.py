"""Tests of validation.markov.reduction (R1-R3 on the full model in torch).

References: the numbers of the specification (markov.md Part 2, Sec. 3), recomputed here from the
exact population loss by enumeration and autograd; the canonical closed forms of
numerics.markov.canonical (checked against sympy in tests/numerics/markov/test_canonical.py)."""

import numpy as np
import pytest

from numerics.markov.reduction import invariant_point, phi
from validation.markov import reduction


@pytest.mark.parametrize("p, q, e, w, b", [(0.5, 0.8, 1.0, 0.5, 0.0), (0.2, 0.3, 0.7, -1.2, 0.3),
                                           (0.2, 0.3, -0.7, -1.2, 0.3), (0.9, 0.6, 1.5, 0.9, -0.4)])
def test_r1_full_loss_equals_canonical(p, q, e, w, b):
    check = reduction.reduction_check(p, q, e, w, b, d=4, seq_len=4, alpha=[1, -1, 1, 1])
    assert check.abs_diff <= 1e-12


def test_r2_chain_rule_reference_values():
    rule = reduction.chain_rule(0.5, 0.8, 1.0, 0.5, 0.0, d=4, seq_len=4)
    assert round(rule.embedding_part, 6) == 0.650440
    assert all(round(v, 6) == 0.083287 for v in rule.position_parts)
    assert round(rule.chain[0], 6) == 0.483866
    assert rule.max_abs_diff <= 1e-12


def test_r2_chain_rule_negative_w_and_other_alpha():
    rule = reduction.chain_rule(0.2, 0.3, 0.8, -0.9, 0.2, d=3, seq_len=5, alpha=[1, -1, -1])
    assert rule.max_abs_diff <= 1e-12


def test_r3_normal_fractions():
    check = reduction.reduction_check(0.5, 0.8, 1.0, 0.5, 0.0)
    assert round(check.normal_fraction_image, 3) == 0.827
    assert check.normal_fraction_invariant <= 1e-15
    for point in [(0.2, 0.3, 0.6, -1.1, 0.4), (0.7, 0.4, 1.3, 0.2, -0.3)]:
        assert reduction.reduction_check(*point).normal_fraction_invariant <= 1e-15


def test_r3_trajectory_stays_on_m_prime_and_leaves_the_image():
    out = reduction.descend_from_phi(0.5, 0.8, 1.0, 0.5, 0.0, steps=20, lr=0.5)
    assert out["max_distance_to_invariant"] <= 1e-10
    assert out["final_distance_to_image"] > 1e-3


def test_distances_vanish_on_the_sets():
    point = phi(0.9, -0.4, 0.1, 4, 5)
    assert reduction.distance_to_image(point) <= 1e-14
    other = invariant_point(0.9, 0.3, 1.0, -0.5, 0.1, 4, 5)
    assert reduction.distance_to_invariant(other) <= 1e-14
    assert reduction.distance_to_image(other) > 0.1


def test_value_matrix_leaves_zero_when_output_is_nonzero():
    assert reduction.value_gradient_norm(0.5, 0.8, 1.0, 0.5, 0.0, seed=0) > 1e-3


def test_rank_one_energy():
    assert reduction.rank_one_energy(np.outer([1.0, 2.0], [3.0, -1.0, 0.5])) == pytest.approx(1.0)
    assert reduction.rank_one_energy(np.eye(4)) == pytest.approx(0.25)

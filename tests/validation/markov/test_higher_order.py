"""Tests of validation.markov.higher_order: the K2 construction on the full model (the excess
values of markov.md Part 2, Sec. 2) and the exact lag-chain position losses (against an
independent per-position Bayes computation: a model that ignores its input has loss H(pi))."""

import math

import numpy as np
import pytest
import torch

from numerics.markov.canonical import chain_summary
from validation.markov import higher_order
from validation.markov.models import from_weights


@pytest.mark.parametrize("lag, beta, low, high", [(2, 4, 1.04e-2, 1.06e-2), (3, 4, 8.9e-3, 9.1e-3),
                                                  (2, 8, 1e-7, 3e-7), (3, 8, 1e-7, 3e-7)])
def test_k2_excess_values(lag, beta, low, high):
    assert low <= higher_order.construction_excess(0.2, 0.3, lag, 8, beta) <= high


@pytest.mark.parametrize("lag", [2, 3])
def test_k2_excess_vanishes_for_large_beta(lag):
    assert abs(higher_order.construction_excess(0.2, 0.3, lag, 8, 16.0)) < 1e-8


def test_position_losses_of_a_constant_predictor():
    """e = 0, every weight 0, b = logit(pi_1): loss H(pi) at every position of any lag chain."""
    d, N = 2, 5
    weights = {"e": torch.zeros(d), "pos": torch.zeros(N, d),
               **{m: torch.zeros(d, d) for m in ("W_Q", "W_K", "W_V", "W_O")},
               "W_1": torch.zeros(4 * d, d), "W_2": torch.zeros(d, 4 * d),
               "b": torch.tensor(math.log(0.2 / 0.3))}
    losses = higher_order.lag_position_losses(from_weights(weights, tied=True), 0.2, 0.3, 3)
    np.testing.assert_allclose(losses, chain_summary(0.2, 0.3).unigram_entropy, atol=1e-14)


def test_window_run_uses_the_ensemble_trainer():
    from validation.markov.higher_order import train_window

    run = train_window(0.2, 0.3, 2, layers=1, memory=1, seed=0, steps=3, d=4, seq_len=10,
                       held_out=64)
    assert run.optimal_loss == pytest.approx(0.557430, abs=1e-6)     # spec Part 2 Sec. 2
    assert np.isfinite(run.final_loss) and run.final_loss > 0.5 and run.seconds > 0

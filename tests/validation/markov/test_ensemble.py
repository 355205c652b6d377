"""Tests of the vectorised ensemble trainer (validation.markov.training.train_ensemble), its
learning-rate schedules, the lag-k targets, the D6 classification and the per-layer scores."""

import math

import numpy as np
import pytest
import torch

from numerics.shared.threads import limit_threads
from theory.errors import InputError
from validation.markov.depth import layer_scores, rank_one_energy
from validation.markov.domains import check_architecture
from validation.markov.training import (
    SETTLING, center_positions_, classify_run, learning_rate_factor, next_symbol_probability,
    optimal_loss, train_ensemble)


@pytest.fixture(autouse=True)
def _one_thread():
    with limit_threads(1):
        yield


def _flat(run):
    return np.array([run.run.final_loss, run.p_hat, run.q_hat, run.run.predicted_p_given_0,
                     *run.run.loss_curve.losses, *run.prev_token_score, *run.induction_score,
                     *run.rank_one_energy["W_V"], *run.rank_one_energy["W_1"]])


@pytest.mark.parametrize("options", [
    dict(tying=True, layers=2, optimizer="adamw", lr=2e-3, schedule="onecycle", warmup=0.02,
         betas=(0.9, 0.95), weight_decay=1e-3),
    dict(tying=False, layers=1, lr=2e-2, schedule="warmup_cosine", lag=2, memory=1),
])
def test_batch_equals_sequential_runs(options):
    seeds = [3, 4, 5, 6]
    common = dict(steps=40, d=8, seq_len=12, batch=8, held_out=128, record_every=5)
    together = train_ensemble(0.5, 0.8, seeds=seeds, **common, **options)
    for seed, run in zip(seeds, together):
        (alone,) = train_ensemble(0.5, 0.8, seeds=[seed], **common, **options)
        assert alone.run.seed == seed == run.run.seed
        assert np.abs(_flat(alone) - _flat(run)).max() <= 1e-10
        assert alone.converged_to == run.converged_to
    grouped = train_ensemble(0.5, 0.8, seeds=seeds, group=3, **common, **options)
    assert max(np.abs(_flat(a) - _flat(b)).max() for a, b in zip(grouped, together)) <= 1e-10


def test_exact_evaluation_for_short_contexts():
    (run,) = train_ensemble(0.2, 0.3, tying=False, seeds=[0], steps=5, d=4, seq_len=6)
    assert run.run.final_loss_method.startswith("exact enumeration")


def test_learning_rate_factor():
    steps = 150
    factors = [learning_rate_factor(s, steps, "warmup_cosine", 0.1, 0.0) for s in range(steps)]
    assert factors[0] == pytest.approx(1 / 15) and factors[14] == pytest.approx(1.0)
    assert factors[-1] == pytest.approx(0.0, abs=1e-15)
    assert all(a >= b for a, b in zip(factors[14:], factors[15:]))     # decays monotonically
    assert learning_rate_factor(7, steps, "constant") == 1.0
    assert learning_rate_factor(steps - 1, steps, "warmup_cosine", 0.1, 0.05) == pytest.approx(0.05)


def test_next_symbol_probability_for_lag_chains():
    p, q = 0.2, 0.3
    x = torch.tensor([[1.0, 0.0, 0.0, 1.0]])
    pi1 = p / (p + q)
    assert next_symbol_probability(x, p, q, 1).tolist() == [[1 - q, p, p, 1 - q]]
    # lag 2: x_2 predicts nothing new (i.i.d. start), x_3 ~ P(.|x_2), x_4 ~ P(.|x_3), ...
    assert next_symbol_probability(x, p, q, 2)[0].tolist() == pytest.approx([pi1, 1 - q, p, p])
    h = lambda t: -t * math.log(t) - (1 - t) * math.log(1 - t)
    rate = (q * h(p) + p * h(q)) / (p + q)
    assert optimal_loss(p, q, 10, 2) == pytest.approx((h(pi1) + 9 * rate) / 10, abs=1e-15)
    assert optimal_loss(p, q, 10, 2) == pytest.approx(0.557430, abs=1e-6)   # spec K-section


def test_classify_run():
    p, q = 0.5, 0.8
    pi1 = p / (p + q)
    h = lambda t: -t * math.log(t) - (1 - t) * math.log(1 - t)
    rate, unigram = (q * h(p) + p * h(q)) / (p + q), h(pi1)
    assert classify_run(rate + 1e-4, p + 0.01, q - 0.01, p, q) == "global"
    assert classify_run(rate + 1e-4, pi1, 1 - pi1, p, q) == "neither"   # loss and predictions disagree
    assert classify_run(unigram, pi1 + 0.02, 1 - pi1, p, q) == "local"
    assert classify_run(0.5 * (rate + unigram), p, q, p, q) == "neither"


def test_layer_scores():
    n = 6
    x = torch.tensor([[[0.0, 1.0, 1.0, 0.0, 1.0, 0.0]]])
    uniform = torch.tril(torch.ones(n, n))
    uniform = (uniform / uniform.sum(-1, keepdim=True))[None, None]
    prev, ind = layer_scores(uniform, x)
    assert ind[0] == pytest.approx(0.0, abs=1e-15)
    assert prev[0] == pytest.approx(np.mean([1 / k for k in range(2, n + 1)]))
    shift = torch.zeros(n, n)
    shift[0, 0] = 1.0
    shift[torch.arange(1, n), torch.arange(n - 1)] = 1.0
    prev, _ = layer_scores(shift[None, None], x)
    assert prev[0] == pytest.approx(1.0)
    assert rank_one_energy(np.outer([1.0, 2.0], [3.0, 1.0])) == pytest.approx(1.0)
    assert rank_one_energy(np.eye(4)) == pytest.approx(0.25)


def test_architecture_is_checked():
    for kwargs, name in ((dict(layers=0), "layers"), (dict(memory=0), "memory"),
                         (dict(memory=8), "memory"), (dict(lag=9), "lag"),
                         (dict(lag=5, memory=1, layers=2), "memory")):
        with pytest.raises(InputError, match=name):
            check_architecture(seq_len=8, **kwargs)
    check_architecture(seq_len=8, lag=5, memory=2, layers=2)
    with pytest.raises(InputError, match="schedule"):
        train_ensemble(0.5, 0.8, tying=True, seeds=[0], steps=1, schedule="linear")


def test_record_sees_every_member_along_the_trajectory():
    """``record(step, params, seeds)`` before steps 0, k, 2k, ... and after the last step, once
    per group, with the members' own parameters: a batch of 3 split into groups of 2 records
    the same embeddings as one group of 3 (1e-10, as the runs themselves)."""
    def recorder(store):
        def record(step, params, seeds):
            for m, seed in enumerate(seeds):
                store[(step, seed)] = params["e"][m].detach().clone().numpy()
        return record

    common = dict(tying=True, steps=7, d=4, seq_len=8, batch=4, held_out=64, record_every=3,
                  scores=False)
    whole, split = {}, {}
    train_ensemble(0.5, 0.8, seeds=[1, 2, 3], record=recorder(whole), **common)
    train_ensemble(0.5, 0.8, seeds=[1, 2, 3], group=2, record=recorder(split), **common)
    assert sorted(whole) == sorted((s, seed) for s in (0, 3, 6, 7) for seed in (1, 2, 3))
    assert sorted(split) == sorted(whole)
    assert max(np.abs(whole[k] - split[k]).max() for k in whole) <= 1e-10
    assert not np.array_equal(whole[(0, 1)], whole[(7, 1)])      # the weights did move
    with pytest.raises(InputError, match="record"):
        train_ensemble(0.5, 0.8, seeds=[0], record=3, **common)


def test_memory_check_counts_data_chunks_not_all_steps():
    """R4's full size (32 seeds x 2000 steps, d = 8, N = 64) draws its batches DATA_CHUNK steps
    at a time, so it is accepted; the same size drawn up front (train_members) is refused."""
    from theory.errors import TooLargeError
    from validation.markov.training import _check_ensemble, _check_training_inputs

    _check_ensemble(0.2, 0.3, 2000, 8, 64, 16, 2e-3, "standard", list(range(32)), 4096, 100,
                    1, None, 1, "adamw", "warmup_cosine", 0.02)
    with pytest.raises(TooLargeError):
        _check_training_inputs(0.2, 0.3, 2000, 8, 64, 16, 2e-3, "standard", list(range(32)),
                               4096, 100)


def test_center_positions_shrinks_only_the_position_dependent_part():
    from validation.markov.models import build_model

    model = build_model(4, 8, tied=False, seeds=[0, 1])
    pos = model.weights["pos"].detach().clone()
    mean = pos.mean(dim=1, keepdim=True)
    center_positions_(model, 0.25)
    after = model.weights["pos"].detach()
    assert torch.allclose(after, mean + 0.75 * (pos - mean), atol=1e-15)
    assert torch.allclose(after.mean(dim=1, keepdim=True), mean, atol=1e-15)
    center_positions_(model, 3.0)                      # >= 1: every position at the mean
    assert torch.allclose(model.weights["pos"].detach(), mean.expand_as(pos), atol=1e-15)


def test_pos_centering_option():
    common = dict(tying=True, seeds=[0], steps=6, d=4, seq_len=6, held_out=16, scores=False)
    plain = train_ensemble(0.2, 0.3, **common)[0].run.final_loss
    assert train_ensemble(0.2, 0.3, pos_centering=0.0, **common)[0].run.final_loss == plain
    spreads = []

    def record(step, params, _seeds):
        if step == 6:
            spreads.append(float(params["pos"].detach().std(dim=1).max()))

    for rate in (0.0, 60.0):
        train_ensemble(0.2, 0.3, record=record, pos_centering=rate, **common)
    assert spreads[1] < spreads[0]
    for bad in (-1.0, float("nan")):
        with pytest.raises(InputError, match="pos_centering"):
            train_ensemble(0.2, 0.3, pos_centering=bad, **common)
    assert train_ensemble(0.2, 0.3, **SETTLING, **common)[0].run.final_loss > 0

"""Tests of the torch construction (validation.bayesnet.models) and the trained-model plumbing."""

import numpy as np
import pytest
import torch

from numerics.bayesnet import networks
from numerics.bayesnet import construction
from numerics.bayesnet import mle
from theory import bayesnet
from theory.errors import InputError, TooLargeError
from validation.bayesnet import models
from validation.bayesnet import training
from validation.testing import assert_converged_to

ANCHOR = np.array([(0, 0, 0), (0, 1, 1), (1, 0, 1), (1, 0, 0), (0, 1, 1), (1, 0, 1)])
V_STRUCT = networks.Structure(("A", "B", "C"), (2, 2, 2), ((), (), (0, 1)))


def test_torch_equals_exact_sympy_forward():
    # Reference: the exact sympy forward pass of the same weights (theory.construction_forward).
    X = bayesnet.encode_prompt(3, 2, ANCHOR.tolist(), [1, 0, 0], 2)
    H = bayesnet.construction_forward(bayesnet.construction_weights(3, 2, V_STRUCT.parents, beta=2), X)
    model = models.ConstructedTransformer(V_STRUCT, 2.0)
    with torch.no_grad():
        out = model(torch.as_tensor(np.array(X.tolist(), dtype=float))[None])[0].numpy()
    np.testing.assert_allclose(out, np.array(H.evalf(30).tolist(), dtype=float), rtol=0, atol=1e-14)


@pytest.mark.parametrize("graph, kwargs", [("general5", {}), ("random", {"M": 6, "edge_prob": 0.7})])
def test_construction_within_bound_every_target(graph, kwargs):
    net = networks.family_network(graph, 3, **kwargs)
    data = networks.sample(net, 130, 4)
    err = models.construction_errors(net.structure, data[:100], data[100:], 4.0)
    assert np.all(err.tv <= err.bound + 1e-14)
    assert err.tv.max() > 1e-6          # beta = 4 leaks visibly: the check is not vacuous
    err60 = models.construction_errors(net.structure, data[:100], data[100:], 60.0)
    assert_converged_to({"tv": err60.tv}, {"tv": 0.0}, tol=1e-12)


def test_anchor_prediction_and_backoff():
    model = models.ConstructedTransformer(V_STRUCT, 60.0)
    p = construction.predict(model, ANCHOR[None], np.array([[1, 0, 0]]), 2)[0]
    empty = construction.predict(model, ANCHOR[None], np.array([[1, 1, 0]]), 2)[0]
    # hand count (the library's anchor example); with no row matching both parents, rows agreeing on one parent
    assert_converged_to({"anchor": p, "backoff": empty}, {"anchor": [1 / 3, 2 / 3], "backoff": [0.2, 0.8]},
                        tol=1e-12)


def test_permutation_invariance():
    net = networks.family_network("tree", 1, M=6)
    data = networks.sample(net, 41, 2)
    model = models.ConstructedTransformer(net.structure, 2.5)
    X = construction.encode_prompts(net.structure, data[None, :40], data[None, 40], 4)
    perm = np.random.default_rng(0).permutation(40)
    with torch.no_grad():
        a = model(torch.as_tensor(X))[0, :, -1]
        b = model(torch.as_tensor(X[:, :, np.r_[perm, 40]]))[0, :, -1]
    assert torch.max(torch.abs(a - b)) < 1e-14


def test_generation_law_is_plugin_network():
    net = networks.family_network("general5", 5)
    context = networks.sample(net, 30, 6)
    law = construction.generation_law(models.ConstructedTransformer(net.structure, 60.0), context)
    plugin = networks.joint_law(mle.plugin_network(net.structure, context, on_empty="backoff"))
    np.testing.assert_allclose(law, plugin, rtol=0, atol=1e-12)
    assert law.sum() == pytest.approx(1, abs=1e-12)


def test_numpy_and_torch_forward_agree():
    net = networks.family_network("general5", 8)
    data = networks.sample(net, 33, 1)
    X = construction.encode_prompts(net.structure, np.broadcast_to(data[:30], (3, 30, 5)), data[30:], 2)
    with torch.no_grad():
        a = models.ConstructedTransformer(net.structure, 3.0)(torch.as_tensor(X)).numpy()
    b = construction.NumpyConstruction(net.structure, 3.0).forward(X)
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-14)


def test_generate_reproducible_and_in_range():
    net = networks.family_network("chain", 0, M=4)
    context = networks.sample(net, 20, 1)
    model = models.ConstructedTransformer(net.structure, 20.0)
    a = construction.generate(model, context, 50, 3)
    np.testing.assert_array_equal(a, construction.generate(model, context, 50, 3))
    np.testing.assert_array_equal(a, construction.generate(model, context, 50, np.random.default_rng(3)))
    assert a.min() >= 0 and a.max() <= 1


def test_bad_beta_and_too_large():
    with pytest.raises(InputError, match="beta"):
        models.ConstructedTransformer(V_STRUCT, -1.0)
    big = networks.family_structure("chain", 20)
    with pytest.raises(TooLargeError):
        construction.generation_law(models.ConstructedTransformer(big, 5.0), np.zeros((3, 20), dtype=int))


def test_multi_query_tokens_equal_separate_prompts():
    # One forward with every target's query sharing the context == one prompt per target.
    s = networks.family_structure("general5")
    model = training.SetTransformer((2 * 5 + 1) * 2, 2, width=16, layers=2, heads=2, seed=0).eval()
    data = networks.sample(networks.family_network("general5", 2), 3 * 13, 0).reshape(3, 13, 5)
    contexts, queries = data[:, :12], data[:, 12]
    with torch.no_grad():
        joint = model(training.all_target_tokens(s, contexts, queries), 5)
        for m0 in range(5):
            X = torch.as_tensor(construction.encode_prompts(s, contexts, queries, m0)).transpose(1, 2)
            single = model(X, 1)[:, 0]
            assert torch.max(torch.abs(joint[:, m0] - single)) < 1e-12


def test_evaluate_keys_and_strict_targets():
    s = networks.family_structure("chain", 3)
    model = training.SetTransformer((2 * 3 + 1) * 2, 2, width=8, layers=1, heads=1, seed=0)
    report = training.evaluate(model, s, lengths=(2, 10), episodes=8, seed=0)
    assert isinstance(report, training.TvCurves)
    for key in training.CURVES:
        curve = getattr(report, key)
        assert set(curve) == {2, 10} and all(0 <= v <= 1 for v in curve.values())
    # chain X0 -> X1 -> X2: X1's parents equal its predecessors, only X2 is strict
    assert set(report.tv_strict) == set(training.CURVES)
    assert report.tv_strict["tv_mle_vs_true"][10] != report.tv_mle_vs_true[10]
    baseline = training.evaluate(None, s, lengths=(2, 10), episodes=8, seed=0)
    assert baseline.tv_vs_mle is None and baseline.tv_vs_true is None
    assert baseline.tv_mle_vs_true == report.tv_mle_vs_true
    assert set(baseline.tv_strict) == {"tv_mle_vs_true", "tv_naive_vs_true"}


def test_mle_curve_of_a_root_against_the_exact_expectation():
    # One binary root, p = P(x=1) ~ U(0.1, 0.9). N = 1: the MLE is a point mass at the sample, so
    # E TV = E 2p(1-p) = 2(1/2 - (0.8^2/12 + 1/4)) = 0.39333 (by hand); N = 2: E TV = 0.26467
    # (exact binomial average over p, the library's reference value). Monte Carlo, 20000 episodes,
    # standard error < 0.002.
    s = networks.family_structure("chain", 1)
    curves = training.evaluate(None, s, lengths=(1, 2), episodes=20000, seed=4)
    assert curves.tv_mle_vs_true[1] == pytest.approx(0.39333, abs=0.01)
    assert curves.tv_mle_vs_true[2] == pytest.approx(0.26467, abs=0.01)
    assert curves.tv_naive_vs_true == curves.tv_mle_vs_true        # a root has no predecessors
    assert curves.tv_strict == {}                                  # and is not a strict target


@pytest.mark.slow
def test_training_moves_towards_the_mle():
    s = networks.family_structure("chain", 3)
    trained = training.train_model(s, layers=1, heads=1, width=16, steps=400, batch=16, n_max=30, seed=1,
                                   lr=5e-3, checkpoints=(0,))
    assert isinstance(trained, training.TrainedModel) and isinstance(trained.model, training.SetTransformer)
    history = trained.training.history["tv_vs_mle"]          # held-out TV to the MLE before/after training
    assert set(history) == {0, 400} and history[400] < 0.5 * history[0]

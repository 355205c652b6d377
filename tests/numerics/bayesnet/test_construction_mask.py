"""Tests of the structure-agnostic construction (numerics.bayesnet.construction.MaskConstruction,
spec Part 2 Sec. 8): one set of weights for every DAG of bounded in-degree."""

import numpy as np
import pytest

from numerics.bayesnet import construction, mixture, mle, networks
from theory.errors import InputError


def test_equals_the_structure_specific_construction():
    # Same C = D + 1: the mask weights and the Sec. 3 weights of the structure give the same output.
    s = networks.family_structure("general5")          # in-degree 2
    data = networks.sample(networks.family_network("general5", 3), 48, 4)
    ctx, qs = np.broadcast_to(data[:40], (8, 40, 5)), data[40:]
    ours = construction.MaskConstruction(5, 2, 2, 12.0)
    ref = construction.NumpyConstruction(s, 12.0)
    for m0 in range(5):
        np.testing.assert_allclose(ours.predict(s, ctx, qs, m0), construction.predict(ref, ctx, qs, m0),
                                   rtol=0, atol=1e-15)


def test_random_dags_within_bound_and_exact_at_large_beta():
    rng = np.random.default_rng(0)
    loose, sharp = construction.MaskConstruction(5, 2, 4, 6.0), construction.MaskConstruction(5, 2, 4, 60.0)
    for _ in range(15):
        ep = mixture.sample_episodes(5, 0.6, 30, 1, rng)
        s = mixture.episode_structure(ep.parents[0])
        ctx, qs = np.broadcast_to(ep.context[0, :22], (8, 22, 5)), ep.context[0, 22:]
        for m0 in range(5):
            p_hat = mle.in_context_mle(s, ctx, qs, m0, on_empty="backoff").probs
            tv = mle.tv(loose.predict(s, ctx, qs, m0), p_hat)
            assert np.all(tv <= construction.prompt_bound(s, ctx, qs, m0, 6.0, C=5) + 1e-14)
            assert np.all(mle.tv(sharp.predict(s, ctx, qs, m0), p_hat) <= 1e-12)


def test_weights_do_not_depend_on_the_structure():
    a = construction.mask_construction_arrays(4, 2, 3, 5.0)
    assert a.W1.shape == (8, 26) and a.C == 4
    b = construction.mask_construction_arrays(4, 2, 3, 5.0)
    assert all(np.array_equal(getattr(a, k), getattr(b, k)) for k in ("W1", "W2", "K", "Q", "V"))


def test_bad_input():
    s = networks.family_structure("general5")
    with pytest.raises(InputError):
        construction.MaskConstruction(5, 2, 1, 5.0).predict(s, np.zeros((1, 3, 5), int), np.zeros((1, 5), int), 2)
    with pytest.raises(InputError):
        construction.mask_construction_arrays(5, 2, 5, 5.0)
    with pytest.raises(InputError):
        construction.prompt_bound(s, np.zeros((1, 3, 5), int), np.zeros((1, 5), int), 2, 5.0, C=1)

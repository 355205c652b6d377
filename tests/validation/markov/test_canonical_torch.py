"""Tests of validation.markov.canonical_torch (C1): the torch canonical model against the numpy
closed forms (numerics.markov.canonical, itself checked against sympy), the vectorised flow
classes against joint_flow run start by start, and training end classes."""

import numpy as np
import torch

from numerics.markov import canonical
from validation.markov import canonical_torch


def test_loss_and_gradient_match_numerics():
    rng = np.random.default_rng(5)
    e, w, b = rng.uniform(-3, 3, (3, 200))
    for p, q in [(0.1, 0.1), (0.9, 0.9), (0.5, 0.8), (0.2, 0.3)]:
        model = canonical_torch.CanonicalModel(e, w, b)
        loss = canonical_torch.population_loss(model, p, q)
        loss.sum().backward()
        grad = np.stack([model.e.grad, model.w.grad, model.b.grad], axis=-1)
        np.testing.assert_allclose(loss.detach().numpy(), canonical.canonical_loss(p, q, e, w, b),
                                   rtol=0, atol=1e-12)
        np.testing.assert_allclose(grad, canonical.canonical_gradient(p, q, e, w, b), rtol=0,
                                   atol=1e-12)


def test_minibatch_loss_is_unbiased_on_a_long_chain():
    from numerics.markov.sequences import sample_chain

    model = canonical_torch.CanonicalModel([0.8], [0.4], [0.1])
    x = torch.as_tensor(sample_chain(0.5, 0.8, 64, 2001, 3), dtype=torch.float64)
    sampled = float(canonical_torch.minibatch_loss(model, x).detach()[0])
    exact = float(canonical.canonical_loss(0.5, 0.8, 0.8, 0.4, 0.1))
    assert abs(sampled - exact) < 5e-3


def test_counts_loss_equals_the_minibatch_loss_and_its_gradient():
    # the loss depends on the chains only through their transition counts: the two routes
    # (per-position mean over the chains, and the counts) must agree to rounding
    from numerics.markov.sequences import sample_chain, transition_counts

    members, batch = 3, 5
    x = sample_chain(0.2, 0.3, members * batch, 41, 7)
    routes = []
    for loss_of in (lambda m: canonical_torch.minibatch_loss(
                        m, torch.as_tensor(x, dtype=torch.float64).reshape(members, batch, 41)),
                    lambda m: canonical_torch.counts_loss(
                        m, transition_counts(x, members))):
        model = canonical_torch.CanonicalModel([0.8, -1.2, 2.0], [0.4, 0.3, -1.0], [0.1, 0.0, -0.5])
        loss = loss_of(model)
        loss.sum().backward()
        routes.append((loss.detach().numpy(), model.e.grad.numpy(), model.w.grad.numpy(),
                       model.b.grad.numpy()))
    for a, b in zip(*routes):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-13)
    counts = transition_counts(x, members)
    assert counts.sum() == members * batch * 40
    assert counts[1, 2] == np.sum((x[batch:2 * batch, :-1] == 1) & (x[batch:2 * batch, 1:] == 0))


def test_vectorised_flow_classes_match_single_flows():
    e0, w0 = canonical_torch.grid_starts(7)
    for p, q in [(0.1, 0.1), (0.5, 0.8)]:
        single = []
        for e_, w_ in zip(e0, w0):
            flow = canonical.joint_flow(p, q, e_, w_, 0.0)
            loss = float(canonical.canonical_loss(p, q, *flow.end))
            single.append(canonical.end_state(p, q, loss, tol=canonical_torch.END_TOLERANCE))
        assert canonical_torch.flow_classes(p, q, e0, w0) == single


def test_gradient_descent_agrees_off_the_band_on_a_coarse_grid():
    e0, w0 = canonical_torch.grid_starts(5)
    result = canonical_torch.descent_classes(0.5, 0.8, e0, w0, "gd", steps=10_000)
    assert result.agreements == result.compared > 0

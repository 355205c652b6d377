"""numerics.potts.softmax_channel (spec Sec. 12): the C = 2 reduction to R1, the colour geometry,
the prox, the channel integrals against plain Monte Carlo, and the colour-matrix checks."""

import json

import numpy as np
import pytest
from scipy.special import log_softmax, softmax

from numerics.potts import replica
from numerics.potts import softmax_channel
from theory.errors import InputError


def test_c2_channel_is_r1_at_four_rho_and_a_quarter_lambda():
    # spec Sec. 12: U = [[1,-1],[-1,1]] -> B = (1,-1)^T, logit difference 2 zeta
    ch = softmax_channel.softmax_curve([1.5, 3.0], 0.2, 0.7, softmax_channel.ising_colours())
    r1 = replica.r1_curve([1.5, 3.0], 0.05, 2.8)
    assert np.max(np.abs(4 * ch.m - r1.m)) < 1e-6 and np.max(np.abs(4 * ch.q - r1.q)) < 1e-6
    assert np.max(np.abs(ch.eps_J - r1.eps_J)) < 1e-6
    assert np.max(np.abs(ch.test_ce - r1.test_ce)) < 1e-6
    assert ch.bayes_floor == pytest.approx(replica.bayes_floor(2.8), abs=1e-8)


@pytest.mark.parametrize("U", [np.eye(4), np.array([[2.0, -1, 0], [-1, 2, 0], [0, 0, 1]]),
                               np.array([[0.5, 1, 1.5], [1, 1.5, 0.5], [1.5, 0.5, 1]])])
def test_geometry_features_have_identity_covariance(U):
    try:
        geom = softmax_channel.colour_geometry(U)
    except InputError:  # rows of the second matrix do not sum to a constant
        assert not np.allclose(U.sum(1), U.sum(1)[0])
        return
    C = U.shape[0]
    assert np.allclose(geom.B @ geom.B.T, geom.Sigma, atol=1e-12)
    ubar = U.sum(axis=1) / C
    phi = np.linalg.pinv(geom.B) @ (U - ubar[:, None])  # column s: phi(s) for colour s
    # uniform colours, exact expectation over the C colours
    assert np.allclose(phi.mean(axis=1), 0, atol=1e-12)
    assert np.allclose(phi @ phi.T / C, np.eye(geom.r), atol=1e-12)
    # logits U e_s = ubar + B phi(s): the common shift is a constant vector
    assert np.allclose(U, ubar[:, None] + geom.B @ phi, atol=1e-12)
    assert np.ptp(ubar) < 1e-12


def test_prox_is_the_minimiser():
    geom = softmax_channel.colour_geometry(np.eye(3))
    rng = np.random.default_rng(0)
    omega = 2 * rng.standard_normal((50, 2))
    y = rng.integers(0, 3, 50)
    P = softmax_channel.softmax_prox(y, omega, 1.7, geom.B)
    p = softmax(P @ geom.B.T, axis=1)
    p[np.arange(50), y] -= 1
    assert np.max(np.abs((P - omega) / 1.7 + p @ geom.B)) < 1e-9

    def obj(x):
        return np.sum((x - omega) ** 2, 1) / 3.4 - log_softmax(x @ geom.B.T, 1)[np.arange(50), y]

    for d in ([1e-3, 0], [0, -1e-3]):
        assert np.all(obj(P + np.array(d)) > obj(P))


def test_channel_integrals_against_monte_carlo():
    # the Gauss-Hermite 15^4 rule against 1.2e5 plain Monte Carlo draws of (xi, u) (4 SE)
    geom = softmax_channel.colour_geometry(np.eye(3))
    m, q, V, rho = 0.6, 1.4, 1.2, 1.0
    gh = softmax_channel._channel_terms(m, q, V, geom, softmax_channel.channel_rule(2), rho)
    rng = np.random.default_rng(5)
    n = 120_000
    xi, u = rng.standard_normal((n, 2)), rng.standard_normal((n, 2))
    mc_rule = softmax_channel.ChannelRule(xi, u, np.full(n, 1.0 / n), "mc")
    parts = [softmax_channel._channel_terms(m, q, V, geom, softmax_channel.ChannelRule(xi[k::4], u[k::4],
                                                              np.full(n // 4, 4.0 / n), "mc"), rho)
             for k in range(4)]
    mc = np.mean(parts, axis=0)
    se = np.std(parts, axis=0, ddof=1) / 2
    assert np.all(np.abs(np.array(gh) - mc) <= 4 * se + 1e-4), (gh, mc, se)
    assert mc_rule.w.sum() == pytest.approx(1)


def test_exchangeable_shortcut_equals_the_sum_over_labels(monkeypatch):
    # exact for the integral; the product rule is not rotation invariant, so they agree to its
    # error (7 nodes: 3e-7, 15 nodes: 2e-11)
    geom = softmax_channel.colour_geometry(np.eye(3))
    rule = softmax_channel.channel_rule(2)
    short = softmax_channel._channel_terms(0.5, 1.1, 0.9, geom, rule, 1.0)
    monkeypatch.setattr(softmax_channel.ColourGeometry, "exchangeable", property(lambda self: False))
    full = softmax_channel._channel_terms(0.5, 1.1, 0.9, geom, rule, 1.0)
    assert np.allclose(short, full, rtol=1e-9)


def test_sobol_rule_agrees_with_gauss_hermite_at_c3():
    geom = softmax_channel.colour_geometry(np.eye(3))
    gh = softmax_channel.softmax_test_ce(0.6, 1.4, 1.0, geom, softmax_channel.channel_rule(2))
    sob = [softmax_channel.softmax_test_ce(0.6, 1.4, 1.0, geom, softmax_channel.channel_rule(2, sobol_seed=s))
           for s in (0, 1)]
    assert abs(np.mean(sob) - gh) < 1e-4


def test_colour_matrix_checks(tmp_path):
    with pytest.raises(InputError, match="rows sum to one constant"):
        softmax_channel.check_colour_matrix([[1, 0], [0, 2]])
    with pytest.raises(InputError, match="size C"):
        softmax_channel.check_colour_matrix([[1.0]])
    with pytest.raises(InputError, match="symmetric"):
        softmax_channel.check_colour_matrix([[1, 2], [0, 3]])
    with pytest.raises(InputError, match="equal logits"):
        softmax_channel.colour_geometry(np.ones((3, 3)))
    good = tmp_path / "U.json"
    good.write_text(json.dumps({"U": [[2, -1], [-1, 2]]}))
    assert softmax_channel.load_colour_matrix(str(good)).shape == (2, 2)
    bad = tmp_path / "bad.json"
    bad.write_text("[[1, 2], [3")
    with pytest.raises(InputError, match="--U"):
        softmax_channel.load_colour_matrix(str(bad))

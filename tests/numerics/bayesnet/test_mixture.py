"""Tests of numerics.bayesnet.mixture: the prior R(M, p), episodes, the Bayes model average."""

import itertools
from fractions import Fraction

import numpy as np
import pytest

from numerics.bayesnet import bayes, mixture, mle, networks
from theory.errors import InputError

LO, HI = Fraction(1, 10), Fraction(9, 10)


def _z(k: int, n: int) -> Fraction:
    """Z(k, n) = int_.1^.9 t^k (1-t)^(n-k) dt / 0.8 in exact rationals (binomial expansion)."""
    from math import comb
    total = Fraction(0)
    for j in range(n - k + 1):
        c = Fraction(comb(n - k, j) * (-1) ** j)
        total += c * (HI ** (k + j + 1) - LO ** (k + j + 1)) / (k + j + 1)
    return total / Fraction(4, 5)


def _brute_force_predictive(context, query, m0, p: Fraction) -> float:
    """P(x_m0 = 1 | context, query_<m0) by enumerating every DAG over the order (all 2^(M(M-1)/2)
    edge sets), with the exact marginal likelihood of every node's column (including nodes > m0
    and the query row's known entries): no use of the per-node factorisation of the library."""
    M = context.shape[1]
    pairs = [(q, m) for m in range(M) for q in range(m)]
    num = den = Fraction(0)
    for edges in itertools.product((0, 1), repeat=len(pairs)):
        parents = [[q for (q, m), e in zip(pairs, edges) if e and m == mm] for mm in range(M)]
        prior = Fraction(1)
        for e in edges:
            prior *= p if e else 1 - p
        if prior == 0:
            continue
        for value in (0, 1):
            row = list(query[:m0]) + [value]
            like = Fraction(1)
            for m in range(M):
                columns = {}
                for sample in list(context) + ([row] if m <= m0 else []):
                    key = tuple(sample[q] for q in parents[m])
                    k, n = columns.get(key, (0, 0))
                    columns[key] = (k + int(sample[m]), n + 1)
                for k, n in columns.values():
                    like *= _z(k, n)
            den += prior * like
            if value == 1:
                num += prior * like
    return float(num / den)


@pytest.mark.parametrize("seed, p", [(0, Fraction(1, 2)), (1, Fraction(1, 3)), (2, Fraction(4, 5))])
def test_bma_against_brute_force(seed, p):
    ep = mixture.sample_episodes(3, 0.5, 4, 3, seed)
    for m0 in range(3):
        ours = mixture.bma_predict(ep.context, ep.query, m0, float(p))
        for e in range(3):
            ref = _brute_force_predictive(ep.context[e], ep.query[e], m0, p)
            assert ours[e] == pytest.approx(ref, abs=1e-12)


def test_bma_limits():
    # p = 1: the naive posterior mean (all predecessors); p = 0: the root's (all rows). Exact.
    ep = mixture.sample_episodes(5, 0.5, 30, 200, 5)
    naive = np.tril(np.ones((5, 5), dtype=bool), k=-1)
    for m0 in range(5):
        k, n = mixture.parent_counts(ep.context, ep.query, m0, naive)
        np.testing.assert_allclose(mixture.bma_predict(ep.context, ep.query, m0, 1.0),
                                   bayes.truncated_beta_mean(k, n), rtol=0, atol=1e-12)
        k, n = mixture.parent_counts(ep.context, ep.query, m0, np.zeros((5, 5), dtype=bool))
        np.testing.assert_allclose(mixture.bma_predict(ep.context, ep.query, m0, 0.0),
                                   bayes.truncated_beta_mean(k, n), rtol=0, atol=1e-12)
    w = mixture.subset_posterior(ep.context, ep.query, 4, 0.3)
    assert w.shape == (200, 16) and np.allclose(w.sum(axis=1), 1)


def test_sample_episodes_law():
    # Edge frequency ~ p; ancestral sampling matches the CPT (P(x_m = 1 | config) ~ theta).
    ep = mixture.sample_episodes(4, 0.3, 50, 4000, 9)
    edges = ep.parents[:, np.tril_indices(4, -1)[0], np.tril_indices(4, -1)[1]]
    assert abs(edges.mean() - 0.3) < 3 * np.sqrt(0.3 * 0.7 / edges.size)
    assert not np.any(np.triu(ep.parents))
    # root: mean of x_0 over the context equals theta[., 0, 0] on average
    diff = ep.context[:, :, 0].mean(axis=1) - ep.theta[:, 0, 0]
    assert abs(diff.mean()) < 3 * diff.std() / np.sqrt(diff.size)


def test_parent_counts_match_in_context_mle():
    ep = mixture.sample_episodes(5, 0.6, 25, 20, 4)
    for e in range(20):
        structure = mixture.episode_structure(ep.parents[e])
        for m0 in range(5):
            k, n = mixture.parent_counts(ep.context[e:e + 1], ep.query[e:e + 1], m0, ep.parents[e:e + 1])
            est = mle.in_context_mle(structure, ep.context[e], ep.query[e], m0)
            assert n[0] == est.count
            if n[0]:
                assert k[0] / n[0] == pytest.approx(est.probs[1], abs=1e-15)


def test_fixed_structure_episodes():
    s = networks.family_structure("general5")
    ep = mixture.sample_episodes(5, 0.5, 10, 3, 0, structure=s)
    assert np.array_equal(ep.parents[0], mixture.structure_parents(s))
    assert mixture.episode_structure(ep.parents[1]).parents == s.parents


@pytest.mark.parametrize("call", [
    lambda: mixture.sample_episodes(5, 1.5, 10, 3, 0),
    lambda: mixture.sample_episodes(11, 0.5, 10, 3, 0),
    lambda: mixture.sample_episodes(5, 0.5, 0, 3, 0),
    lambda: mixture.bma_predict(np.zeros((2, 3, 4), dtype=int), np.zeros((2, 4), dtype=int), 1, -0.1),
    lambda: mixture.bma_predict(np.full((2, 3, 4), 2), np.zeros((2, 4), dtype=int), 1, 0.5),
    lambda: mixture.structure_parents(networks.Structure(("A", "B"), (3, 2), ((), (0,)))),
])
def test_bad_input(call):
    with pytest.raises(InputError):
        call()

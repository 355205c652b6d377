"""The attention probe of spec Part 2 Sec. 10 (numerics.bayesnet.probe)."""

import numpy as np
import pytest

from numerics.bayesnet import networks, probe
from theory.errors import InputError

V_STRUCT = networks.Structure(("A", "B", "C"), (2, 2, 2), ((), (), (1,)))


def _episodes(family, n, episodes, seed):
    s = networks.named_family(family)
    data = networks.sample_batch(s, networks.random_cpts(s, seed, batch=episodes), n + 1, seed + 1)
    return s, data[:, :n], data[:, n]


def test_hand_example():
    # C's only parent is B; query (A, B) = (1, 0). Rows: I = {0, 1, 3} (B = 0), In = {1, 3} (A = 1, B = 0).
    context = np.array([[[0, 0, 1], [1, 0, 0], [1, 1, 1], [1, 0, 1]]])
    query = np.array([[1, 0, 0]])
    w = np.array([[0.1, 0.2, 0.3, 0.2, 0.2]])          # last entry: the query's self weight
    st = probe.probe_statistics(V_STRUCT, context, query, 2, w)
    # by hand: weights renormalised over the 4 rows = (.125, .25, .375, .25)
    np.testing.assert_allclose(st.matched_mass, [0.625], rtol=0, atol=1e-15)
    np.testing.assert_allclose(st.chance, [0.75])
    np.testing.assert_allclose(st.naive_share, [0.5 / 0.625], rtol=0, atol=1e-15)
    np.testing.assert_allclose(st.naive_chance, [2 / 3])
    # ranks of w: (1, 2.5, 4, 2.5); matches (1, 1, 0, 1) -> ranks (3, 3, 1, 3): Pearson of the ranks
    a, b = np.array([1, 2.5, 4, 2.5]) - 2.5, np.array([3, 3, 1, 3]) - 2.5
    np.testing.assert_allclose(st.spearman, [a @ b / np.sqrt((a @ a) * (b @ b))], rtol=0, atol=1e-15)


@pytest.mark.parametrize("beta", [2.0, 4.0, 8.0])
def test_construction_passes_the_probe(beta):
    # spec Sec. 3/10: the construction puts W >= 1 - N e^-beta / |I| on I, weighs the rows of I
    # alike (naive share = |In|/|I|) and ranks rows by parents matched (Spearman 1)
    s, context, query = _episodes("general5", 40, 300, 5)
    for m0 in (2, 3, 4):
        st = probe.probe_statistics(s, context, query, m0,
                                    probe.construction_attention(s, context, query, m0, beta))
        assert len(st.matched) > 100
        assert np.all(st.matched_mass >= 1 - 40 * np.exp(-beta) / st.matched - 1e-12)
        np.testing.assert_allclose(st.naive_share, st.naive_chance, rtol=0, atol=1e-12)
        np.testing.assert_allclose(st.spearman, 1.0, rtol=0, atol=1e-12)
        assert np.all((st.matched >= 1) & (st.matched <= 39))


def test_construction_bound_is_tight_enough_to_fail():
    # at beta = 1 the leak is visible: W falls well short of 1 and the weakest episodes near the bound
    s, context, query = _episodes("chain5", 40, 200, 6)
    st = probe.probe_statistics(s, context, query, 3, probe.construction_attention(s, context, query, 3, 1.0))
    assert st.matched_mass.mean() < 0.9


def test_uniform_attention_is_chance():
    s, context, query = _episodes("chain5", 30, 200, 7)
    st = probe.probe_statistics(s, context, query, 2, np.ones((200, 31)))
    np.testing.assert_allclose(st.matched_mass, st.chance, rtol=0, atol=1e-15)
    assert np.all(st.spearman == 0)
    pooled = probe.pool([st])
    assert abs(pooled["excess"]) < 1e-15 and pooled["episodes"] == len(st.chance)


def test_anti_matching_attention_has_negative_excess():
    # attention on the rows that do NOT match: the probe reports W = 0 and Spearman < 0
    s, context, query = _episodes("chain5", 30, 100, 8)
    w = (context[:, :, 1] != query[:, None, 1]).astype(float) + 1e-300
    st = probe.probe_statistics(s, context, query, 2, w)
    assert np.all(st.matched_mass < 1e-200) and np.all(st.spearman < 0)


def test_probe_input_errors():
    s, context, query = _episodes("chain5", 10, 4, 9)
    with pytest.raises(InputError, match="m0"):
        probe.probe_statistics(s, context, query, 0, np.ones((4, 10)))       # a root
    with pytest.raises(InputError, match="weights"):
        probe.probe_statistics(s, context, query, 1, np.ones((4, 9)))
    with pytest.raises(InputError, match="weights"):
        probe.probe_statistics(s, context, query, 1, -np.ones((4, 10)))
    with pytest.raises(InputError, match="stats"):
        probe.pool([])

"""Tests of numerics.bayesnet.networks and numerics.bayesnet.mle: files, sampling, in-context MLE."""

import itertools
import json
from fractions import Fraction

import numpy as np
import pytest

from numerics.bayesnet import networks
from numerics.bayesnet import construction
from numerics.bayesnet import mle
from theory import bayesnet
from theory.errors import InputError, TooLargeError

ANCHOR = np.array([(0, 0, 0), (0, 1, 1), (1, 0, 1), (1, 0, 0), (0, 1, 1), (1, 0, 1)])
V_STRUCT = networks.Structure(("A", "B", "C"), (2, 2, 2), ((), (), (0, 1)))


def test_anchor_mle():
    # The library's anchor example: P(C=1 | A=1, B=0) = 2/3 from 3 matching rows (hand count).
    estimate = mle.in_context_mle(V_STRUCT, ANCHOR, [1, 0, 0], 2)
    assert isinstance(estimate, mle.ConditionalEstimate)
    assert estimate.count == 3 and isinstance(estimate.count, int)
    assert estimate.probs.shape == (2,) and estimate.probs[1] == pytest.approx(2 / 3, abs=1e-15)


def test_batch_estimate_fields():
    # Two episodes: the anchor with query (1,0) -> 3 rows, C=1 in 2; with (0,1) -> 2 rows, C=1 in 2.
    estimate = mle.in_context_mle(V_STRUCT, np.stack([ANCHOR, ANCHOR]), [[1, 0, 0], [0, 1, 0]], 2)
    assert estimate.count.dtype == np.int64 and estimate.count.tolist() == [3, 2]
    np.testing.assert_allclose(estimate.probs, [[1 / 3, 2 / 3], [0.0, 1.0]], rtol=0, atol=1e-15)


@pytest.mark.parametrize("on_empty, expected", [
    ("uniform", [0.5, 0.5]),
    ("marginal", [2 / 6, 4 / 6]),   # C column of the anchor: 0,1,1,0,1,1
    ("backoff", [1 / 5, 4 / 5]),    # rows agreeing on one parent with (1,1): C = 1,1,0,1,1
])
def test_on_empty_conventions(on_empty, expected):
    estimate = mle.in_context_mle(V_STRUCT, ANCHOR, [1, 1, 0], 2, on_empty=on_empty)
    probs, count = estimate.probs, estimate.count
    assert count == 0
    np.testing.assert_allclose(probs, expected, rtol=0, atol=1e-15)


def test_on_empty_nan_default():
    estimate = mle.in_context_mle(V_STRUCT, ANCHOR, [1, 1, 0], 2)
    assert estimate.count == 0 and np.all(np.isnan(estimate.probs))


def test_priors():
    # K2: (2+1)/(3+2) = 3/5; BDeu ess=4, q=4, d=2 -> 1/2 per cell: (2+1/2)/(3+1) = 5/8 (by hand).
    k2 = mle.in_context_mle(V_STRUCT, ANCHOR, [1, 0, 0], 2, prior="k2").probs
    bdeu = mle.in_context_mle(V_STRUCT, ANCHOR, [1, 0, 0], 2, prior="bdeu", ess=4.0).probs
    assert k2[1] == pytest.approx(3 / 5, abs=1e-15) and bdeu[1] == pytest.approx(5 / 8, abs=1e-15)
    empty = mle.in_context_mle(V_STRUCT, ANCHOR, [1, 1, 0], 2, prior="k2").probs
    np.testing.assert_allclose(empty, [0.5, 0.5])


def _brute_tables(structure, context):
    """Independent reference: Fractions counted row by row in pure Python."""
    out = []
    for m in range(structure.M):
        rows = []
        for config in itertools.product(*[range(structure.cards[q]) for q in structure.parents[m]]):
            match = [r for r in context.tolist() if tuple(r[q] for q in structure.parents[m]) == config]
            rows.append([Fraction(sum(r[m] == j for r in match), len(match)) if match else None
                         for j in range(structure.cards[m])])
        out.append(rows)
    return out


def _brute_counts(structure, context):
    """Independent reference: rows per parent configuration, counted row by row."""
    return [[sum(tuple(r[q] for q in structure.parents[m]) == config for r in context.tolist())
             for config in itertools.product(*[range(structure.cards[q]) for q in structure.parents[m]])]
            for m in range(structure.M)]


def test_tables_equal_brute_force_counts():
    net = networks.family_network("random", 5, M=5, edge_prob=0.7, card=3)
    context = networks.sample(net, 40, 1)
    estimated = mle.mle_tables(net.structure, context)
    assert isinstance(estimated, mle.MleTables)
    tables, counts = estimated.tables, estimated.counts
    for m, rows in enumerate(_brute_tables(net.structure, context)):
        for c, row in enumerate(rows):
            if row[0] is None:
                assert counts[m][c] == 0 and np.all(np.isnan(tables[m][c]))
            else:
                assert [float(v) for v in row] == tables[m][c].tolist()
    for m, per_config in enumerate(_brute_counts(net.structure, context)):
        assert counts[m].tolist() == per_config


def test_tables_batch_equal_single_and_backoff_equals_query_path():
    net = networks.family_network("general5", 2)
    cpts = networks.random_cpts(net.structure, 3, batch=4)
    data = networks.sample_batch(net.structure, cpts, 12, 4)
    batch = mle.mle_tables(net.structure, data, on_empty="backoff").tables
    for e in range(4):
        single = mle.mle_tables(net.structure, data[e], on_empty="backoff").tables
        for m in range(5):
            np.testing.assert_array_equal(batch[m][e], single[m])
    # each row of the table equals the query-wise estimate for that configuration
    s = net.structure
    for config in range(s.n_configs(3)):
        q = np.zeros(5, dtype=int)
        q[list(s.parents[3])] = s.config_states(3, config)
        np.testing.assert_array_equal(mle.in_context_mle(s, data[0], q, 3, on_empty="backoff").probs,
                                      batch[3][0, config])


def test_naive_equals_mle_when_parents_are_all_predecessors():
    s = networks.family_structure("chain", 4)
    data = networks.sample(networks.family_network("chain", 0, M=4), 30, 2)
    # variable 1 of a chain: parents {0} = predecessors {0}
    a = mle.in_context_mle(s, data, data[0], 1).probs
    b = mle.naive_mle(s, data, data[0], 1).probs
    np.testing.assert_array_equal(a, b)


def test_sampling_matches_joint_law():
    net = networks.family_network("general5", 7)
    law = networks.joint_law(net)
    assert law.sum() == pytest.approx(1, abs=1e-12)
    n = 200_000
    x = networks.sample(net, n, 3)
    freq = np.bincount(np.ravel_multi_index(x.T, net.structure.cards), minlength=32) / n
    sigma = np.sqrt(law.ravel() * (1 - law.ravel()) / n)
    assert np.all(np.abs(freq - law.ravel()) < 5 * sigma + 1e-12)
    np.testing.assert_array_equal(networks.sample(net, 50, 3), networks.sample(net, 50, 3))


def test_joint_law_by_hand_and_too_large():
    net = networks.make_network(["A", "B"], [2, 2], [[], [0]], [[[0.3, 0.7]], [[0.9, 0.1], [0.2, 0.8]]])
    np.testing.assert_allclose(networks.joint_law(net), [[0.27, 0.03], [0.14, 0.56]], atol=1e-15)
    big = networks.family_network("chain", 0, M=30)
    with pytest.raises(TooLargeError):
        networks.joint_law(big)


def test_parent_encoding_first_parent_most_significant():
    s = networks.Structure(("A", "B", "C"), (2, 3, 2), ((), (), (0, 1)))
    assert s.config_index(2, np.array([1, 2, 0])) == 1 * 3 + 2
    assert s.config_states(2, 5) == (1, 2)


def _write(tmp_path, variables):
    path = tmp_path / "net.json"
    path.write_text(json.dumps({"variables": variables}))
    return path


GOOD = [{"name": "A", "card": 2, "parents": [], "cpt": [[0.4, 0.6]]},
        {"name": "B", "card": 2, "parents": ["A"], "cpt": [[0.1, 0.9], [0.5, 0.5]]}]


def test_file_round_trip(tmp_path):
    net = networks.load_network(_write(tmp_path, GOOD))
    networks.save_network(net, tmp_path / "copy.json")
    again = networks.load_network(tmp_path / "copy.json")
    assert again.structure == net.structure
    assert all(np.array_equal(a, b) for a, b in zip(again.cpts, net.cpts))


@pytest.mark.parametrize("variables, match", [
    ([{**GOOD[0], "parents": ["B"], "cpt": [[0.4, 0.6], [0.4, 0.6]]}, GOOD[1]], "cycle"),
    ([{**GOOD[0], "parents": ["B"], "cpt": [[0.4, 0.6], [0.4, 0.6]]}, {**GOOD[1], "parents": []}], "earlier"),
    ([{**GOOD[0], "cpt": [[0.4, 0.7]]}, GOOD[1]], "sum to 1"),
    ([GOOD[0], {**GOOD[1], "parents": ["Z"]}], "Z"),
    ([GOOD[0], {**GOOD[1], "cpt": [[0.1, 0.9]]}], "shape"),
])
def test_bad_networks(tmp_path, variables, match):
    with pytest.raises(InputError, match=match):
        networks.load_network(_write(tmp_path, variables))


def test_bad_context_files(tmp_path):
    s = networks.load_network(_write(tmp_path, GOOD)).structure
    path = tmp_path / "ctx.csv"
    path.write_text("A,B\n0,1\n1,2\n")
    with pytest.raises(InputError, match="state of B.*2"):
        networks.load_context(path, s)
    path.write_text("A,Q\n0,1\n")
    with pytest.raises(InputError, match="'Q'"):
        networks.load_context(path, s)
    path.write_text("B,A\n1,0\n")
    np.testing.assert_array_equal(networks.load_context(path, s), [[0, 1]])
    with pytest.raises(InputError, match="variable"):
        s.index("nope")


def test_families():
    assert networks.family_structure("chain", 4).parents == ((), (0,), (1,), (2,))
    assert networks.family_structure("tree", 5).parents == ((), (0,), (0,), (1,), (1,))
    assert networks.family_structure("general5").parents == ((), (), (0, 1), (0, 2), (3,))
    r1 = networks.family_structure("random", 8, edge_prob=0.5, seed=3)
    assert r1 == networks.family_structure("random", 8, edge_prob=0.5, seed=3)
    tables = networks.random_cpts(r1, 0, batch=3)
    assert all(t.min() >= 0.1 - 1e-12 and t.max() <= 0.9 + 1e-12 for t in tables)
    dir_tables = networks.random_cpts(r1, 0, prior="dirichlet", alpha=0.5)
    assert all(np.allclose(t.sum(-1), 1) for t in dir_tables)


def test_plugin_network_law_and_refusal():
    s = V_STRUCT
    plug = mle.plugin_network(s, ANCHOR)
    law = networks.joint_law(plug)
    # P(A=1) = 3/6, P(B=0 | -) = 4/6, P(C=1 | A=1, B=0) = 2/3 -> 1/2 * 2/3 * 2/3 = 2/9 (by hand)
    assert law[1, 0, 1] == pytest.approx(2 / 9, abs=1e-15)
    with pytest.raises(InputError, match="on_empty"):
        mle.plugin_network(s, ANCHOR, on_empty="nan")


def test_mean_abs_error_exact_matches_sympy():
    # Two methods: scipy's binomial pmf in float64 against sympy's exact rational sum.
    exact = float(bayesnet.mean_abs_error_exact(Fraction(3, 10), 25))
    assert mle.mean_abs_error_exact(0.3, 25) == pytest.approx(exact, rel=1e-12)


def test_tv():
    assert mle.tv([0.2, 0.8], [0.5, 0.5]) == pytest.approx(0.3)


def test_encode_prompts_matches_sympy_layout():
    net = networks.family_network("general5", 1)
    data = networks.sample(net, 7, 0)
    X = construction.encode_prompts(net.structure, data[None, :6], data[None, 6], 3)[0]
    ref = bayesnet.encode_prompt(5, 2, data[:6].tolist(), data[6].tolist(), 3)
    np.testing.assert_array_equal(X, np.array(ref.tolist(), dtype=float))


def test_prompt_bound_equals_symbolic_bound():
    data = networks.sample(networks.family_network("general5", 1), 30, 5)
    bound = construction.prompt_bound(networks.family_structure("general5"), data[None, :29], data[None, 29], 2, 4.0)[0]
    count = mle.in_context_mle(networks.family_structure("general5"), data[:29], data[29], 2).count
    assert count >= 1
    assert bound == pytest.approx(float(bayesnet.tv_bound(29, count, 4, 3)), rel=1e-12)


def test_query_state_out_of_range():
    with pytest.raises(InputError, match="query state of A"):
        mle.in_context_mle(V_STRUCT, ANCHOR, [2, 0, 0], 2)


hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.tuples(st.integers(0, 1), st.integers(0, 2), st.integers(0, 1)), min_size=1, max_size=25),
       query=st.tuples(st.integers(0, 1), st.integers(0, 2)),
       on_empty=st.sampled_from(mle.ON_EMPTY))
def test_in_context_mle_matches_pure_python(rows, query, on_empty):
    # Reference: the definitions of section 2 counted row by row in pure Python (Fractions).
    s = networks.Structure(("A", "B", "C"), (2, 3, 2), ((), (), (0, 1)))
    context = np.array(rows)
    estimate = mle.in_context_mle(s, context, [*query, 0], 2, on_empty=on_empty)
    probs, count = estimate.probs, estimate.count
    agree = [sum(r[k] == query[k] for k in (0, 1)) for r in rows]
    if on_empty == "backoff" or max(agree) == 2:
        pool = [r for r, a in zip(rows, agree) if a == max(agree)]
    elif on_empty == "marginal":
        pool = rows
    else:
        pool = []
    assert count == sum(a == 2 for a in agree)
    if pool:
        expected = [float(Fraction(sum(r[2] == j for r in pool), len(pool))) for j in (0, 1)]
        np.testing.assert_allclose(probs, expected, rtol=0, atol=1e-15)
    elif on_empty == "uniform":
        np.testing.assert_array_equal(probs, [0.5, 0.5])
    else:
        assert np.all(np.isnan(probs))

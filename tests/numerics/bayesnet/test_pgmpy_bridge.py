"""Exact agreement with pgmpy (optional extra): conversion both ways and the MLE tables."""

import numpy as np
import pytest

pytest.importorskip("pgmpy")

from numerics.bayesnet import networks  # noqa: E402
from numerics.bayesnet import mle  # noqa: E402
from numerics.bayesnet import pgmpy_bridge  # noqa: E402


def test_round_trip_is_exact():
    net = networks.family_network("random", 11, M=6, edge_prob=0.6, card=3)
    model = pgmpy_bridge.to_pgmpy(net)
    assert model.check_model()
    back = pgmpy_bridge.from_pgmpy(model, order=net.structure.names)
    assert back.structure == net.structure
    assert all(np.array_equal(a, b) for a, b in zip(back.cpts, net.cpts))


def test_pgmpy_evidence_order_matches_our_encoding():
    # pgmpy puts the first evidence variable as the most significant digit: for C | A, B the
    # column (A=1, B=0) is column 2; our row 2 of the CPT must be pgmpy's column 2.
    net = networks.make_network(["A", "B", "C"], [2, 2, 2], [[], [], [0, 1]],
                          [[[0.5, 0.5]], [[0.5, 0.5]], [[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]]])
    cpd = pgmpy_bridge.to_pgmpy(net).get_cpds("C")
    assert cpd.get_values()[1, 2] == 0.7


@pytest.mark.parametrize("graph, n", [("general5", 25), ("random", 60)])
def test_mle_tables_equal_pgmpy_bit_for_bit(graph, n):
    net = networks.family_network(graph, 4, M=None if graph == "general5" else 6, **(
        {} if graph == "general5" else {"edge_prob": 0.6}))
    context = networks.sample(net, n, 9)
    ours = mle.mle_tables(net.structure, context, on_empty="uniform").tables
    theirs = pgmpy_bridge.pgmpy_mle_tables(net.structure, context)
    for m in range(net.M):
        assert np.array_equal(ours[m], theirs[m])      # bit for bit, unobserved rows uniform too

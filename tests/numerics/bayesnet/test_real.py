"""Tests of numerics.bayesnet.real: Asia as package data, Sachs from the pgmpy wheel, MLE curves."""

import json
from importlib import resources

import numpy as np
import pytest

from numerics.bayesnet import networks, real
from theory.errors import InputError


def test_asia_textbook_cpts():
    # Lauritzen & Spiegelhalter (1988), state 0 = yes: P(tub | asia) = .05, P(dysp | ~bronc, either) = .7.
    net = real.asia()
    s = net.structure
    assert s.M == 8 and sum(len(p) for p in s.parents) == 8 and set(s.cards) == {2}
    tub, dysp = s.index("tub"), s.index("dysp")
    assert net.cpts[tub][0, 0] == 0.05 and net.cpts[tub][1, 0] == 0.01
    assert [s.names[q] for q in s.parents[dysp]] == ["bronc", "either"]
    assert net.cpts[dysp][:, 0].tolist() == [0.9, 0.8, 0.7, 0.1]
    either = s.index("either")
    assert net.cpts[either][:, 0].tolist() == [1.0, 1.0, 1.0, 0.0]   # logical OR of lung, tub


def test_asia_is_package_data():
    assert (resources.files("numerics.bayesnet") / "data" / "asia.json").is_file()
    data = json.loads((resources.files("numerics.bayesnet") / "data" / "asia.json").read_text())
    assert networks.network_from_dict(data).structure == real.asia().structure


def test_asia_equals_pgmpy():
    pytest.importorskip("pgmpy")
    diff = real.network_differences(real.asia(), real.pgmpy_example("asia"))
    assert diff == {"names": True, "parents": [], "max_cpt_difference": 0.0}


def test_sachs_from_the_wheel():
    # pgmpy 1.1.2's sachs.bif: 11 nodes, 3 states, 17 edges, in-degree <= 3, PKC -> PKA (spec Sec. 12).
    pytest.importorskip("pgmpy")
    net = real.example_network("sachs")
    s = net.structure
    assert s.M == 11 and set(s.cards) == {3} and sum(len(p) for p in s.parents) == 17
    assert s.max_indegree == 3 and s.index("PKC") in s.parents[s.index("PKA")]
    for t in net.cpts:
        np.testing.assert_allclose(t.sum(axis=1), 1, atol=1e-12)


def test_bif_states_reordered():
    # A BIF whose child CPD lists the parent's states in another order than the parent's CPD.
    pytest.importorskip("pgmpy")
    text = """network t { }
variable A { type discrete [ 2 ] { a0, a1 }; }
variable B { type discrete [ 2 ] { b0, b1 }; }
probability ( A ) { table 0.3, 0.7; }
probability ( B | A ) { (a0) 0.9, 0.1; (a1) 0.2, 0.8; }
"""
    net, states = real.bif_network(text)
    assert states == {"A": ["a0", "a1"], "B": ["b0", "b1"]}
    np.testing.assert_allclose(net.cpts[1], [[0.9, 0.1], [0.2, 0.8]])


def test_mle_curve_rate():
    # Monte Carlo: the MLE's TV on asia shrinks by about 10^(1/2) per decade (spec: slope -0.51).
    curve = real.mle_tv_curve(real.asia(), (10, 100), 3000, 0)
    assert -0.65 <= curve.slope <= -0.35
    assert 0.07 < curve.tv[10] < 0.095 and all(v > 0 for v in curve.se.values())


def test_bad_input():
    with pytest.raises(InputError):
        real.example_network("alarm")
    with pytest.raises(InputError):
        real.mle_tv_curve(real.asia(), (0,), 10, 0)

"""Tests of numerics.bayesnet.construction: weight arrays, errors against the MLE, the report."""

import math

import numpy as np
import pytest

from numerics.bayesnet import construction
from numerics.bayesnet import networks
from theory import bayesnet

ANCHOR = np.array([(0, 0, 0), (0, 1, 1), (1, 0, 1), (1, 0, 0), (0, 1, 1), (1, 0, 1)])
V_STRUCT = networks.Structure(("A", "B", "C"), (2, 2, 2), ((), (), (0, 1)))


def test_construction_arrays_by_hand():
    # V-structure, d = 2: R = 14 rows; K = beta on the state rows and beta/d on the flag rows;
    # W2 = -[I_6; 0; 0]; C = D + 1 = 3.
    w = construction.construction_arrays(V_STRUCT, 2.5)
    assert isinstance(w, bayesnet.ConstructionWeights)
    assert w.C == 3 and w.W1.dtype == np.float64
    np.testing.assert_array_equal(w.K[:6, :6], 2.5 * np.eye(6))
    np.testing.assert_array_equal(w.K[6, 12:], [1.25, 1.25])
    np.testing.assert_array_equal(w.W2, np.vstack([-np.eye(6), np.zeros((8, 6))]))
    np.testing.assert_array_equal(w.Q[6, 6:12], [1.5] * 6)          # C/d on the target rows


def test_construction_errors_on_the_anchor_by_hand():
    # Query (A=1, B=0), target C: scores 4b, 3b, 5b, 5b, 3b, 5b for the rows and 2b for the query
    # (derived by hand), so p_TF = ((e^{5b} + e^{4b}) / Z, (2e^{5b} + 2e^{3b}) / Z); the MLE is (1/3, 2/3).
    b = 2.0
    Z = 3 * math.exp(5 * b) + math.exp(4 * b) + 2 * math.exp(3 * b) + math.exp(2 * b)
    p_tf = np.array([(math.exp(5 * b) + math.exp(4 * b)) / Z, (2 * math.exp(5 * b) + 2 * math.exp(3 * b)) / Z])
    tv = 0.5 * np.abs(p_tf - [1 / 3, 2 / 3]).sum()
    err = construction.construction_errors(construction.NumpyConstruction(V_STRUCT, b), ANCHOR,
                                           np.array([[1, 0, 0]]))
    assert isinstance(err, construction.ConstructionErrors)
    assert err.tv.shape == err.bound.shape == err.count.shape == (3, 1)
    assert err.count[:, 0].tolist() == [6, 6, 3]                    # roots match every row
    assert err.tv[2, 0] == pytest.approx(tv, rel=1e-12)
    assert err.bound[2, 0] == pytest.approx((3 * math.exp(-b) + math.exp(-3 * b)) / 3, rel=1e-12)


def test_construction_report_fields():
    net = networks.family_network("chain", 2)
    report = construction.construction_report(net, 50, 8.0, 2)
    assert isinstance(report, construction.ConstructionReport)
    assert 0 < report.max_tv_vs_mle <= report.bound
    sharp = construction.construction_report(net, 50, 60.0, 2)
    # at beta = 60 the leak e^{-60} is below float64 rounding: TF = MLE, generated law = plug-in law
    assert sharp.max_tv_vs_mle < 1e-12 and sharp.generation_max_abs_error < 1e-12
    assert report.generation_max_abs_error > sharp.generation_max_abs_error

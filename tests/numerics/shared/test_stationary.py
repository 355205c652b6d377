"""Multi-start stationary points and their Hessian classification, on functions whose
critical points are known by hand."""

import numpy as np
import pytest

from numerics.shared import stationary


@pytest.mark.parametrize("diagonal, kind", [
    ([1.0, 2.0], "minimum"), ([-1.0, -3.0], "maximum"), ([1.0, -1.0], "saddle"),
    ([1.0, 0.0], "degenerate minimum"), ([0.0, -2.0], "degenerate maximum"),
    ([1.0, -1.0, 0.0], "degenerate saddle"), ([0.0, 1e-12], "flat")])
def test_classify_hessian_kinds(diagonal, kind):
    rotation = np.linalg.qr(np.arange(1.0, 1.0 + len(diagonal) ** 2).reshape(len(diagonal), -1)
                            + np.eye(len(diagonal)))[0]
    hessian = rotation @ np.diag(diagonal) @ rotation.T
    classified = stationary.classify_hessian(hessian)
    assert classified.kind == kind
    np.testing.assert_allclose(classified.eigenvalues, sorted(diagonal), atol=1e-12)


def test_double_well_has_two_minima_and_a_saddle():
    # f = (x^2 - 1)^2 + y^2: minima at (+-1, 0), a saddle at (0, 0) (by hand)
    def gradient(v):
        return np.array([4 * v[0] * (v[0] ** 2 - 1), 2 * v[1]])

    def hessian(v):
        return np.array([[12 * v[0] ** 2 - 4, 0.0], [0.0, 2.0]])

    points = stationary.find_stationary_points(gradient, hessian, [-2, -2], [2, 2], starts=30,
                                               seed=1)
    found = sorted((round(float(p.x[0]), 6), p.kind) for p in points)
    assert found == [(-1.0, "minimum"), (0.0, "saddle"), (1.0, "minimum")]
    again = stationary.find_stationary_points(gradient, hessian, [-2, -2], [2, 2], starts=30,
                                              seed=1)
    assert [p.x.tolist() for p in again] == [p.x.tolist() for p in points]


def test_bad_box_is_an_input_error():
    from theory.errors import InputError

    with pytest.raises(InputError, match="lower"):
        stationary.find_stationary_points(lambda v: v, lambda v: np.eye(1), [1.0], [0.0], 3, 0)

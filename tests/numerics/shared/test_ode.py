"""The Dormand-Prince integrator against closed-form solutions."""

import numpy as np
import pytest
from scipy.linalg import expm

from numerics.shared.ode import dopri5
from theory.errors import NumericalFailure


def test_linear_system_matches_matrix_exponential():
    A = np.array([[-1.0, 2.0], [-2.0, -0.5]])
    traj = dopri5(lambda y: A @ y, [1.0, 0.5], 5.0)
    assert traj.t[-1] == pytest.approx(5.0)
    np.testing.assert_allclose(traj.y[-1], expm(5.0 * A) @ np.array([1.0, 0.5]), atol=1e-9)


def test_stop_rule_ends_early():
    traj = dopri5(lambda y: -y, [1.0], 100.0, stop=lambda y, _: abs(y[0]) < 1e-3)
    assert traj.stopped and traj.t[-1] == pytest.approx(np.log(1e3), abs=0.5)


def test_non_finite_state_is_reported():
    with pytest.raises(NumericalFailure, match="non-finite"):
        dopri5(lambda y: y * np.nan, [1.0], 2.0)


def test_step_budget_is_reported():
    with pytest.raises(NumericalFailure, match="more than 50 steps"):
        dopri5(lambda y: -y, [1.0], 1e6, max_steps=50)

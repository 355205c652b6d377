"""Fig. 2's Pareto view (lsa.md Part 2 §A): the closed-form front against sampling, the
generational distance against a grid search, the GD stack against its closed form."""

import numpy as np
import pytest

from numerics.lsa import optimum, pareto
from theory.errors import InputError, NumericalFailure


def _prompt(d=3, n=40, seed=0):
    Z = pareto.sample_pareto_prompts(d, n, 1, seed).Z[0]
    xs, ys = Z[:d, :n].T, Z[d, :n]
    return Z, xs, ys, pareto.least_squares(xs, ys)


def test_front_is_r1_on_the_pareto_set():
    _, xs, ys, ls = _prompt()
    mu = np.array([0.3, 0.0, 1.2])
    assert np.allclose(optimum.objective_R1(ls.w_ls + mu, xs, ys), pareto.front_point(mu, ls),
                       atol=1e-13)


def test_sampled_nondominated_points_lie_on_the_closed_form_set():
    # sampling: among many random w, the ones no other sample dominates; every sample with
    # mu = w - w_LS >= 0 is non-dominated, and the dominating move beats every other sample
    _, xs, ys, ls = _prompt(d=2, n=30, seed=3)
    rng = np.random.default_rng(0)
    W = ls.w_ls + rng.standard_normal((400, 2))
    R = np.array([optimum.objective_R1(w, xs, ys) for w in W])
    on_set = np.all(W - ls.w_ls >= 0, axis=1)
    for i in np.flatnonzero(on_set):
        assert not any(pareto.dominates(R[j], R[i]) for j in range(len(W)) if j != i)
    for i in np.flatnonzero(~on_set):
        moved = pareto.dominating_move(W[i], ls)
        assert pareto.dominates(optimum.objective_R1(moved, xs, ys), R[i])


def test_generational_distance_against_grid_search():
    # d = 1: min over a fine grid of mu >= 0 (independent of L-BFGS-B)
    Z, xs, ys, ls = _prompt(d=1, n=30, seed=2)
    for w in (np.array([0.0]), ls.w_ls - 0.4, ls.w_ls + 0.2):
        r1 = optimum.objective_R1(w, xs, ys)
        grid = np.linspace(0, 5, 200_001)
        dist = np.sqrt((-ls.c[0] - ls.M[0, 0] * grid - r1[0]) ** 2
                       + (ls.loss_ls + 0.5 * ls.M[0, 0] * grid ** 2 - r1[1]) ** 2)
        assert pareto.generational_distance(r1, ls) == pytest.approx(dist.min(), abs=1e-8)
    assert pareto.generational_distance(optimum.objective_R1(ls.w_ls + 0.2, xs, ys), ls) < 1e-12


def test_batched_equals_single():
    _, xs, ys, ls = _prompt(d=3, n=40, seed=4)
    rng = np.random.default_rng(1)
    R = np.array([optimum.objective_R1(rng.standard_normal(3), xs, ys) for _ in range(6)])
    batched = pareto.generational_distances(R, [ls] * 6)
    single = [pareto.generational_distance(r, ls) for r in R]
    assert np.allclose(batched, single, atol=1e-10)


def test_gd_stack_closed_form_and_geometric_bound():
    Z, xs, ys, ls = _prompt(d=4, n=60, seed=5)
    ws, rho = pareto.stack_weights(Z, 6)
    lam = np.linalg.eigvalsh(ls.M)
    step = np.eye(4) - ls.M / lam[-1]
    for l, w in enumerate(ws):
        assert np.allclose(w, ls.w_ls - np.linalg.matrix_power(step, l) @ ls.w_ls, atol=1e-12)
    assert rho == pytest.approx(1 - lam[0] / lam[-1])
    view = pareto.gd_stack(4, 60, 6, prompts=3, seed=0)
    assert view.gd.shape == (7,) and view.r1.shape == (7, 5) and 0 < view.rho < 1
    assert np.all(np.diff(view.gd) < 0)


def test_dominance_counts_and_bad_input():
    c = pareto.dominance_counts(3, 30, 2, 5, 20, 0)
    assert c["dominated_front"] == 0 and c["moved_dominates"] == c["off_front"] > 0
    with pytest.raises(InputError):
        pareto.gd_stack(0, 10, 2)
    with pytest.raises(InputError):
        pareto.gd_stack(3, 10, 17)
    with pytest.raises(NumericalFailure):
        pareto.least_squares(np.ones((5, 2)), np.ones(5))     # M singular

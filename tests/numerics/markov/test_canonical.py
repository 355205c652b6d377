"""numerics.markov.canonical against the sympy derivations (lambdified), finite differences and scipy."""

import math

import numpy as np
import pytest
import sympy as sp

from numerics.markov import canonical
from theory import markov
from theory.errors import InputError

RNG = np.random.default_rng(12345)
POINTS = RNG.uniform([0.05, 0.05, -2, -2, -3], [0.95, 0.95, 2, 2, 3], size=(25, 5))


@pytest.fixture(scope="module")
def sympy_functions():
    """The sympy expressions evaluated by mpmath at 40 digits (an independent, high-precision
    evaluation of the naive formula, which loses digits in double precision)."""
    import mpmath

    saved, mpmath.mp.dps = mpmath.mp.dps, 40
    args = (markov.p, markov.q, markov.e, markov.w, markov.b)
    yield {
        "loss": sp.lambdify(args, markov.canonical_loss(), "mpmath"),
        "grad": sp.lambdify(args, markov.canonical_gradient_paper_form(), "mpmath"),
        "bias": sp.lambdify((markov.p, markov.q, markov.e, markov.w), markov.optimal_bias(), "mpmath"),
    }
    mpmath.mp.dps = saved


def test_loss_matches_sympy(sympy_functions):
    for point in POINTS:
        assert float(canonical.canonical_loss(*point)) == pytest.approx(
            float(sympy_functions["loss"](*point)), rel=1e-13)


def test_gradient_matches_sympy_and_finite_differences(sympy_functions):
    h = 1e-6
    for point in POINTS:
        g = canonical.canonical_gradient(*point)
        reference = np.array(sympy_functions["grad"](*point).tolist(), dtype=float).ravel()
        np.testing.assert_allclose(g, reference, rtol=1e-11, atol=1e-14)
        fd = []
        for i in range(2, 5):
            up, down = point.copy(), point.copy()
            up[i] += h
            down[i] -= h
            fd.append((canonical.canonical_loss(*up) - canonical.canonical_loss(*down)) / (2 * h))
        np.testing.assert_allclose(g, fd, atol=1e-8)


def test_hessian_matches_finite_differences_of_gradient():
    h = 1e-6
    for p, q, e, w, b in POINTS:
        if abs(w) < 1e-3:
            continue  # w|w| is not C^2 at w = 0
        H = canonical.canonical_hessian(p, q, e, w, b)
        x0 = np.array([e, w, b])
        fd = np.array([(canonical.canonical_gradient(p, q, *(x0 + h * u)) - canonical.canonical_gradient(p, q, *(x0 - h * u))) / (2 * h)
                       for u in np.eye(3)])
        np.testing.assert_allclose(H, fd, atol=1e-7)


def test_optimal_bias_matches_sympy_and_zeroes_db(sympy_functions):
    for p, q, e, w, _ in POINTS:
        b = float(canonical.optimal_bias(p, q, e, w))
        assert b == pytest.approx(float(sympy_functions["bias"](p, q, e, w)), rel=1e-11, abs=1e-11)


def test_optimal_bias_is_stable_for_large_gain():
    # u = e^2(1 + 2w|w|) of +-2000: the naive formula overflows; the first-order condition must hold
    for p, q in ((0.2, 0.3), (0.3, 0.2), (0.4, 0.4)):
        e = np.array([30.0, 30.0, 0.0])
        w = np.array([1.0, -3.0, 0.5])
        b = canonical.optimal_bias(p, q, e, w)
        assert np.all(np.isfinite(b))
        assert np.max(np.abs(canonical.canonical_gradient(p, q, e, w, b)[..., 2])) < 1e-12
    assert float(canonical.optimal_bias(0.2, 0.3, 0.0, 1.0)) == pytest.approx(math.log(0.2 / 0.3), abs=1e-15)


def test_chain_summary_values():
    info = canonical.chain_summary(0.5, 0.8)
    # P1, Fig. 2: H(P) = 0.6190, H(pi) = 0.6663, pi_1 = 5/13
    assert info.entropy_rate == pytest.approx(0.6190, abs=5e-5)
    assert info.unigram_entropy == pytest.approx(0.6663, abs=5e-5)
    assert info.pi[1] == pytest.approx(5 / 13, abs=1e-15)
    assert info.regime == "p+q>1" and info.switching == pytest.approx(1.3)
    # independent: I = H(pi) - H(P) from the published levels' exact values
    h = lambda t: -t * math.log(t) - (1 - t) * math.log(1 - t)  # noqa: E731
    assert info.mutual_information == pytest.approx(h(5 / 13) - (8 / 13 * h(0.5) + 5 / 13 * h(0.8)),
                                                    abs=1e-15)
    three = canonical.chain_summary(0.3, 0.5, states=3)
    assert three.unigram_entropy == pytest.approx(math.log(3))
    assert three.pi == pytest.approx([1 / 3] * 3) and three.switching == pytest.approx(0.45)
    # independent: -sum_j P_0j log P_0j of the row (0.7, 0.15, 0.15)
    assert three.entropy_rate == pytest.approx(-(0.7 * math.log(0.7) + 2 * 0.15 * math.log(0.15)))


@pytest.mark.parametrize("p,q", [(0.0, 0.5), (1.0, 0.5), (0.5, 1.5), (float("nan"), 0.5), (0.5, -0.1)])
def test_bad_probabilities_raise(p, q):
    with pytest.raises(InputError, match="is invalid: expected"):
        canonical.chain_summary(p, q)


def test_bad_states_raise():
    with pytest.raises(InputError, match="states"):
        canonical.chain_summary(0.2, 0.3, states=1)


def test_degenerate_chain_reports_without_dividing_by_zero():
    summary = canonical.critical_summary(0.3, 0.7)
    assert summary.regime == "p+q=1"
    assert summary.global_curve_constant == pytest.approx(0.0, abs=1e-15)
    assert summary.saddles == [] and summary.unigram_local_min_w is None
    assert np.all(canonical.basin_labels(0.3, 0.7, [0.5, 1.0], [0.2, -2.0]) == 1)


def test_critical_summary_intervals():
    up = canonical.critical_summary(0.5, 0.8)
    assert up.unigram_local_min_w == [-canonical.SQRT_HALF, None]
    assert up.unigram_local_max_w == [None, -canonical.SQRT_HALF]
    down = canonical.critical_summary(0.2, 0.3)
    assert down.unigram_local_min_w == [None, -canonical.SQRT_HALF]
    assert down.global_curve_constant == pytest.approx(math.log(0.8 * 0.7 / 0.06))
    # the other fields against closed forms: b = log(p/q), H(pi) = h(pi_1), the saddle
    h = lambda t: -t * math.log(t) - (1 - t) * math.log(1 - t)  # noqa: E731
    assert down.unigram_bias == pytest.approx(math.log(0.2 / 0.3), abs=1e-15)
    assert down.unigram_loss == pytest.approx(h(0.4), abs=1e-15)
    assert down.global_minimum_loss == pytest.approx(0.6 * h(0.2) + 0.4 * h(0.3), abs=1e-15)
    (saddle,) = down.saddles
    assert (saddle.e, saddle.w, saddle.b, saddle.loss) == pytest.approx(
        (0.0, -math.sqrt(0.5), math.log(2 / 3), h(0.4)), abs=1e-15)


def test_profiled_flow_conserves_energy_and_ends_where_predicted():
    for p, q, e0, w0, expected in ((0.5, 0.8, 0.3, -0.5, "local"), (0.5, 0.8, 0.5, -1.0, "global"),
                                   (0.2, 0.3, 0.3, -1.5, "local"), (0.2, 0.3, 0.5, 0.3, "global")):
        flow = canonical.profiled_flow(p, q, e0, w0)
        energies = canonical.energy(flow.theta[:, 0], flow.theta[:, 1])
        assert np.max(np.abs(energies - energies[0])) < 1e-8
        end_loss = float(canonical.profiled_loss(p, q, *flow.end))
        assert canonical.end_state(p, q, end_loss, tol=1e-8) == expected
        assert canonical.BASIN_NAMES[int(canonical.basin_labels(p, q, e0, w0))] == expected


def test_joint_flow_matches_scipy_lsoda():
    from scipy.integrate import solve_ivp

    p, q, theta0 = 0.5, 0.8, (0.5, -1.0, 0.0)
    ours = canonical.joint_flow(p, q, *theta0, t_max=200.0, gtol=0.0)
    ref = solve_ivp(lambda _, th: -canonical.canonical_gradient(p, q, *th), (0, 200.0), theta0,
                    method="LSODA", rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(ours.end, ref.y[:, -1], atol=1e-7)


def test_gradient_descent_profiled_agrees_with_flow():
    e0, w0 = np.array([0.3, 0.5, 1.5]), np.array([-0.5, -1.0, -0.5])
    ends = canonical.gradient_descent_ends(0.5, 0.8, e0, w0, profiled=True)
    for i in range(3):
        flow = canonical.profiled_flow(0.5, 0.8, e0[i], w0[i])
        assert canonical.end_state(0.5, 0.8, float(ends.loss[i])) == canonical.end_state(
            0.5, 0.8, float(canonical.profiled_loss(0.5, 0.8, *flow.end)))
        # the end point's loss is the loss at its parameters
        assert float(ends.loss[i]) == pytest.approx(
            float(canonical.canonical_loss(0.5, 0.8, ends.e[i], ends.w[i], ends.b[i])), abs=0)


def test_search_finds_only_the_three_families():
    for p, q in ((0.2, 0.3), (0.5, 0.8)):
        found = canonical.search_critical_points(p, q, starts=40, seed=1)
        families = {point.family for point in found}
        for point in found:  # loss and gradient norm at the reported parameters
            assert point.loss == pytest.approx(float(canonical.canonical_loss(p, q, point.e, point.w, point.b)), abs=1e-15)
            assert point.gradient_norm <= 1e-8
        assert "other" not in families and families == {"unigram line", "global minima"}


def test_landscape_shapes_and_basins():
    data = canonical.landscape(0.5, 0.8, n=50)
    assert data.loss.shape == (50, 50) and data.basin.shape == (50, 50)
    assert set(np.unique(data.basin)) <= {-1, 0, 1}
    assert np.all(data.loss >= canonical.chain_summary(0.5, 0.8).entropy_rate - 1e-12)
    np.testing.assert_array_equal(data.e, np.linspace(-2.0, 2.0, 50))
    np.testing.assert_array_equal(data.w, np.linspace(-2.0, 1.5, 50))
    # curvature sign along e: positive (local minimum) exactly for w > -1/sqrt2 when p+q > 1
    np.testing.assert_array_equal(data.unigram_curvature > 0, data.w > -math.sqrt(0.5))
    # the global curve satisfies e^2 (1 + 2 w|w|) = C where it exists
    ok = np.isfinite(data.global_curve_e)
    np.testing.assert_allclose(data.global_curve_e[ok] ** 2 * (1 + 2 * data.w[ok] * np.abs(data.w[ok])),
                               math.log(0.5 * 0.2 / 0.4), rtol=1e-12)


def test_basin_query_keys():
    result = canonical.basin_query(0.5, 0.8, 0.5, -1.0)
    assert result.predicted == "global"
    # E = e^2 - w^2 - sign(w) log|w| = 0.25 - 1 + 0 and E* = -(1 + log 2)/2
    assert result.energy == pytest.approx(-0.75, abs=1e-15)
    assert result.separatrix_energy == pytest.approx(-(1 + math.log(2)) / 2, abs=1e-15)
    end = result.flow_end
    assert end.loss == pytest.approx(canonical.chain_summary(0.5, 0.8).entropy_rate, abs=1e-9)
    assert end.e**2 * (1 + 2 * end.w * abs(end.w)) == pytest.approx(math.log(0.5 * 0.2 / 0.4), abs=1e-6)
    # the ttc markov basin keys, in order
    from numerics.shared.storage import to_jsonable

    as_json = to_jsonable(result)
    assert list(as_json) == ["predicted", "energy", "separatrix_energy", "flow_end"]
    assert list(as_json["flow_end"]) == ["e", "w", "b", "loss"]


def test_canonical_logits_fields():
    # independent: f0 = b - e^2/2, f1 = b + e^2/2 + 2 e^2 w|w| written out, broadcast
    e, w, b = np.array([0.5, -1.2]), np.array([[0.3], [-0.7]]), 0.25
    logits = canonical.canonical_logits(e, w, b)
    assert logits.f0.shape == logits.f1.shape == (2, 2)
    np.testing.assert_array_equal(logits.f0, np.broadcast_to(b - e * e / 2, (2, 2)))
    np.testing.assert_allclose(logits.f1, b + e * e / 2 + 2 * e * e * w * np.abs(w), rtol=1e-15)

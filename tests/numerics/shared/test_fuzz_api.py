"""Hypothesis properties over the shared public API: every call with values drawn inside and
outside the declared domains returns a finite result of the documented type or raises the
library's error (validation.testing.fuzz.assert_clean_call)."""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from numerics.shared import certify, conjecture, executor, ode, seeding, stationary, storage, threads
from theory.domains import FINITE, POSITIVE, SEED, choice, integer, real
from theory.errors import InputError, TTCError
from validation.testing.fuzz import assert_clean_call, valid_values, values

FAST = settings(max_examples=40, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))
SMALL = real(-10, 10)
UNIT = real(0, 1, low_open=True)
TINY = conjecture.Budget(grid=2, simple=1, random=2, hypothesis=0, local_searches=1,
                         local_evaluations=3, shrink=3, batch=4)


def _linear_margin(point):
    return point["x"] - 0.3


def _decay(y):
    return -y


# ------------------------------------------------------------------------------ ode
@FAST
@given(values(FINITE), values(POSITIVE), values(UNIT), values(UNIT), values(POSITIVE),
       values(integer(1, 10_000)))
def test_dopri5(y0, t_max, rtol, atol, h0, max_steps):
    result = assert_clean_call(ode.dopri5, _decay, [y0], t_max, rtol=rtol, atol=atol, h0=h0,
                               max_steps=max_steps)
    if result is not None:
        assert isinstance(result, ode.Trajectory) and result.y.shape[1] == 1


@FAST
@given(st.one_of(values(FINITE), st.lists(values(FINITE), max_size=3)))
def test_dopri5_start(y0):
    assert_clean_call(ode.dopri5, _decay, y0, 1.0)


def test_dopri5_refuses_strings_and_stops_when_t_stops_moving():
    with pytest.raises(InputError, match="y0"):
        ode.dopri5(_decay, ["0.5"], 1.0)
    with pytest.raises(TTCError):  # a blow-up in finite time: non-finite, or h no longer moves t
        ode.dopri5(lambda y: y * y, [1.0], 10.0)


# ------------------------------------------------------------------------------ conjecture
@FAST
@given(values(FINITE), values(FINITE), st.booleans())
def test_parameter_box(low, high, integer_axis):
    box = assert_clean_call(conjecture.parameter_box,
                            {"x": (low, high, "int" if integer_axis else "real")})
    if box is not None:
        p = box[0]
        assert assert_clean_call(p.grid, 5) is not None
        assert len(p.simple(6, 9)) <= 9


@FAST
@given(values(SMALL), values(SMALL), values(SEED))
def test_search_counterexample(low, high, seed):
    result = assert_clean_call(conjecture.search_counterexample, _linear_margin,
                               {"x": (low, high)}, seed=seed, budget=TINY, executor="serial")
    if result is not None:
        assert isinstance(result, conjecture.ConjectureResult)
        assert result.holds == (min(low, high) >= 0.3 or result.counterexample is None)


@FAST
@given(**{name: values(integer(0, 50)) for name in
          ("grid", "simple", "random", "hypothesis", "local_searches", "local_evaluations",
           "shrink", "batch")})
def test_budget(**fields):
    assert_clean_call(conjecture.Budget, **fields)


@pytest.mark.parametrize("field, value", [("random", 10**9), ("grid", 10**5), ("batch", 0)])
def test_budget_limits(field, value):
    with pytest.raises(InputError, match=f"budget.{field}"):
        conjecture.Budget(**{field: value})


def test_budget_over_the_point_cap_is_refused_before_anything_runs():
    from theory.errors import TooLargeError

    box = {name: (0.0, 1.0) for name in "abcd"}
    with pytest.raises(TooLargeError, match="budget"):
        conjecture.search_counterexample(_linear_margin, box,
                                         budget=conjecture.Budget(grid=100), executor="serial")


def test_huge_integer_boxes_are_not_enumerated():
    p = conjecture.Parameter("n", 0, 10**15, integer=True)
    assert len(p.grid(9)) == 9 and len(p.simple(6, 9)) == 9
    wide = conjecture.Parameter("x", -1e15, 1e15)
    assert len(wide.simple(12, 33)) == 33
    with pytest.raises(InputError, match="x.high"):
        conjecture.Parameter("x", 0.0, 1e300)


@FAST
@given(st.sampled_from([float("nan"), float("inf"), 1j, "0.5", None, [1.0], 0.5, 1, 1e308]))
def test_evaluate_margin(value):
    result = assert_clean_call(conjecture.evaluate_margin, lambda point: value, {"x": 0.0})
    assert (result.margin is None) == (result.failure is not None)


def test_a_margin_dividing_by_zero_is_a_failure_not_a_crash():
    result = conjecture.evaluate_margin(lambda point: 1 / point["x"], {"x": 0.0})
    assert result.margin is None and "ZeroDivisionError" in result.failure


# ------------------------------------------------------------------------------ stationary
@FAST
@given(values(SMALL), values(SMALL), values(integer(1, 4)), values(SEED))
def test_find_stationary_points(low, high, starts, seed):
    points = assert_clean_call(stationary.find_stationary_points, lambda x: 2 * x,
                               lambda x: 2 * np.eye(1), [low], [high], starts, seed)
    if points is not None:
        assert all(isinstance(p, stationary.StationaryPoint) for p in points)


def test_a_nan_gradient_is_never_a_stationary_point(monkeypatch):
    from types import SimpleNamespace

    monkeypatch.setattr(stationary, "least_squares",
                        lambda *args, **kwargs: SimpleNamespace(x=np.array([0.3])))
    found = stationary.find_stationary_points(lambda x: np.full(1, np.nan),
                                              lambda x: 2 * np.eye(1), [0.0], [1.0], 3, 0)
    assert found == []


@FAST
@given(st.lists(values(FINITE), min_size=4, max_size=4), values(real(0, None)))
def test_classify_hessian(entries, tol):
    matrix = np.array(entries, dtype=object).reshape(2, 2).tolist()
    result = assert_clean_call(stationary.classify_hessian, matrix, tol)
    if result is not None:
        assert result.kind in ("minimum", "maximum", "saddle", "flat", "degenerate minimum",
                               "degenerate maximum", "degenerate saddle")


# ------------------------------------------------------------------------------ certify
needs_flint = pytest.mark.skipif(not certify.certification_available(), reason="python-flint")


@needs_flint
@FAST
@given(values(FINITE), values(FINITE))
def test_interval(lo, hi):
    assert_clean_call(lambda: certify.bounds(certify.interval(lo, hi)))


@needs_flint
@FAST
@given(values(SMALL), values(real(0, 1, low_open=True)), values(integer(1, 20)),
       values(real(0, None)))
def test_krawczyk_inflate(x0, radius, iterations, inflation):
    def f(x, params):
        return [x[0] * x[0] - 2]

    def jacobian(x, params):
        return [[2 * x[0]]]

    result = assert_clean_call(certify.krawczyk_inflate, f, jacobian, [x0], radius,
                               iterations=iterations, inflation=inflation)
    if result is not None and result.unique:
        lo, hi = result.image[0]
        assert lo <= math.copysign(math.sqrt(2), x0 if x0 else 1) <= hi or lo <= -math.sqrt(2) <= hi


@needs_flint
@FAST
@given(values(SMALL), values(SMALL), values(real(0, None, low_open=True)),
       values(integer(1, 500)))
def test_exclude_zeros(lo, hi, min_width, max_boxes):
    result = assert_clean_call(certify.exclude_zeros, lambda X: [X[0] * X[0] + 1], [(lo, hi)],
                               min_width=min_width, max_boxes=max_boxes)
    if result is not None:  # (x^2 + 1 has no zero, but a wide ball squares to one holding -1)
        assert result.excluded + len(result.remaining) >= 1
        assert all(min(lo, hi) <= a <= b <= max(lo, hi) for box in result.remaining
                   for a, b in box)


@needs_flint
@FAST
@given(values(integer(16, 4096)))
def test_working_precision(bits):
    assert_clean_call(certify.working_precision, bits)


# ------------------------------------------------------------------------------ executor, seeds
EXECUTOR_TEXT = st.one_of(
    st.sampled_from(["serial", "local", "local:1", "local:0", "local:257", "dask://h:1",
                     "dask://h:0", "dask://tls://h:1", "dask://[::1]:1", "dask://tcp://h:99999"]),
    st.text(max_size=30), st.builds(lambda h, p: f"dask://{h}:{p}", st.text(max_size=12),
                                    st.integers(-5, 70_000)))


@FAST
@given(EXECUTOR_TEXT)
def test_parse_executor(text):
    spec = assert_clean_call(executor.parse_executor, text)
    if spec is not None:
        assert isinstance(spec, executor.ExecutorSpec) and str(spec)


@FAST
@given(values(SEED), st.text(max_size=8))
def test_seeds(seed, key):
    derived = assert_clean_call(seeding.derive_seed, seed, key)
    if derived is not None:
        assert 0 <= derived < 2**31
        assert_clean_call(seeding.as_generator, derived)


@FAST
@given(values(integer(1, 1024)))
def test_limit_threads(count):
    def enter():
        with threads.limit_threads(count):
            return count

    assert_clean_call(enter)


# ------------------------------------------------------------------------------ storage
@FAST
@given(st.dictionaries(st.text(max_size=4), values(FINITE), max_size=3))
def test_dumps(mapping):
    text = assert_clean_call(storage.dumps, mapping)
    if text is not None:
        assert storage.read_json  # the text is strict JSON
        import json

        json.loads(text, parse_constant=lambda name: pytest.fail(f"{name} in JSON"))


# ------------------------------------------------------------------------------ validation.shared
@FAST
@given(values(POSITIVE), values(choice("adam", "adamw", "sgd")),
       st.one_of(valid_values(integer(0, 3)), st.sampled_from([-1, 10**8, 2.5, None, "3", True])))
def test_training(lr, optimizer, steps):
    # steps: a few valid counts, or invalid ones (a large *valid* count would only cost time)
    torch = pytest.importorskip("torch")
    from validation.shared.training import TrainResult, train

    model = torch.nn.Linear(1, 1)
    result = assert_clean_call(train, model, lambda step: (model.weight ** 2).sum(), steps,
                               lr=lr, optimizer=optimizer, progress=False)
    if result is not None:
        assert isinstance(result, TrainResult)
        assert (result.final_loss is None) == (steps == 0)


@FAST
@given(values(real(0.5, 50)), values(integer(10, 600)), values(FINITE))
def test_plots(size, dpi, level):
    pytest.importorskip("matplotlib")
    from validation.shared import plots

    def draw(tmp="/tmp/ttc-fuzz-plot.png"):
        import matplotlib.pyplot as plt

        try:
            ax = plots.axes(figsize=(size, 1.0))
        except TTCError:
            raise
        try:
            plots.horizontal_reference(ax, level, "level", "k")
            return str(plots.save(ax.figure, tmp, dpi=dpi))
        finally:
            plt.close(ax.figure)

    assert_clean_call(draw)

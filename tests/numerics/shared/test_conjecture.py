"""The counterexample search: each phase can find what the others miss, shrinking gives the
simplest counterexample, results are reproducible and survive an interruption."""

import json

import pytest

from numerics.shared.conjecture import Budget, Parameter, parameter_box, search_counterexample
from numerics.shared.executor import parse_executor
from theory.errors import InputError, NumericalFailure

SMALL = Budget(grid=9, simple=0, random=16, hypothesis=30, local_searches=2, local_evaluations=30,
               shrink=40, batch=8)


def quadratic(point):
    # (x - 0.1)(x - 0.2): negative exactly on the open interval (0.1, 0.2) (roots by hand)
    return (point["x"] - 0.1) * (point["x"] - 0.2)


def test_counterexample_is_found_and_shrunk_to_fewest_decimals():
    result = search_counterexample(quadratic, {"x": (0.0, 1.0)}, seed=3, budget=SMALL,
                                   executor="serial")
    assert not result.holds
    # 0.1 and 0.2 are roots (margin 0 holds), so the simplest point inside is 0.15
    assert result.counterexample == {"x": 0.15}
    assert result.counterexample_margin == pytest.approx(-0.0025)
    assert result.worst_margin < 0 and 0.1 < result.worst_point["x"] < 0.2


def test_true_conjecture_reports_evidence():
    result = search_counterexample(lambda pt: pt["x"] ** 2 + 0.01, {"x": (0.0, 1.0)},
                                   budget=SMALL, executor="serial")
    assert result.holds and result.counterexample is None
    assert result.worst_margin == 0.01 and result.worst_point == {"x": 0.0}  # grid corner
    assert result.points == sum(result.phases.values()) == len(result.evaluations)
    assert result.phases["grid"] == 9 and result.phases["random"] == 16


def test_local_search_finds_a_narrow_dip_between_grid_points():
    def dip(point):  # negative only on (0.30012, 0.30018): no grid point, random misses it
        return abs(point["x"] - 0.30015) - 0.00003

    budget = Budget(grid=9, random=4, hypothesis=0, local_searches=2, local_evaluations=80,
                    shrink=10, batch=8)
    result = search_counterexample(dip, {"x": (0.0, 1.0)}, budget=budget, executor="serial")
    assert not result.holds and result.found_by == "local"
    assert 0.30012 < result.counterexample["x"] < 0.30018


def test_simple_fractions_hit_thresholds_the_grid_misses():
    def needle(point):  # fails only exactly at 2/3 (as a float), e.g. an i.i.d. special case
        return -1.0 if point["x"] == 2 / 3 else 1.0

    budget = Budget(grid=9, simple=6, random=16, hypothesis=0, local_searches=0, shrink=0)
    result = search_counterexample(needle, {"x": (0.0, 0.9)}, budget=budget, executor="serial")
    assert result.found_by == "simple" and result.counterexample == {"x": 2 / 3}
    tried = sorted(r["point"]["x"] for r in result.evaluations if r["phase"] == "simple")
    assert tried == sorted([0.0, 1 / 2, 1 / 3, 2 / 3, 1 / 4, 3 / 4, 1 / 5, 2 / 5, 3 / 5])  # first 9
    without = search_counterexample(needle, {"x": (0.0, 0.9)}, executor="serial",
                                    budget=Budget(grid=9, simple=0, random=16, hypothesis=0,
                                                  local_searches=0, shrink=0))
    assert without.holds  # the grid (step 0.1125) and the random points miss it


def test_hypothesis_phase_finds_and_shrinks():
    def band(point):  # negative on (0.30, 0.35); the grid is only the lower corner
        return min(point["x"] - 0.30, 0.35 - point["x"]) * -1.0 if 0.30 < point["x"] < 0.35 \
            else 1.0

    budget = Budget(grid=1, simple=0, random=0, hypothesis=200, local_searches=0, shrink=0)
    result = search_counterexample(band, {"x": (0.0, 1.0)}, seed=1, budget=budget,
                                   executor="serial")
    assert result.found_by == "hypothesis" and 0.30 < result.counterexample["x"] < 0.35
    again = search_counterexample(band, {"x": (0.0, 1.0)}, seed=1, budget=budget,
                                  executor="serial")
    assert again.answer() == result.answer()


def test_integer_axes_take_every_value_and_shrink_down():
    def margin(point):  # fails for every n >= 4 when x > 0.5
        return -1.0 if point["n"] >= 4 and point["x"] > 0.5 else 1.0

    result = search_counterexample(margin, {"n": (1, 7, "int"), "x": (0.0, 1.0)},
                                   budget=SMALL, executor="serial")
    assert sorted({r["point"]["n"] for r in result.evaluations if r["phase"] == "grid"}) == \
        list(range(1, 8))
    assert result.counterexample == {"n": 4, "x": 1.0}  # smallest n; x = 1.0 has 0 decimals


def test_failures_are_reported_not_counted_as_evidence():
    def flaky(point):
        if point["x"] > 0.5:
            raise NumericalFailure("no convergence")
        return float("nan") if point["x"] == 0.0 else 1.0

    result = search_counterexample(flaky, {"x": (0.0, 1.0)}, budget=SMALL, executor="serial")
    assert result.holds and result.failures > 0
    assert any("no convergence" in m for m in result.failure_examples)
    with pytest.raises(NumericalFailure, match="all"):
        search_counterexample(lambda pt: float("nan"), {"x": (0.0, 1.0)}, budget=SMALL,
                              executor="serial")


def test_same_seed_same_result_other_seed_other_points():
    a = search_counterexample(quadratic, {"x": (0.0, 1.0)}, seed=5, budget=SMALL, executor="serial")
    b = search_counterexample(quadratic, {"x": (0.0, 1.0)}, seed=5, budget=SMALL, executor="serial")
    c = search_counterexample(quadratic, {"x": (0.0, 1.0)}, seed=6, budget=SMALL, executor="serial")
    assert json.dumps(a.answer()) == json.dumps(b.answer())
    randoms = lambda r: [e["point"] for e in r.evaluations if e["phase"] == "random"]
    assert randoms(a) != randoms(c)


ABORT = {"after": None, "calls": 0}


def abortable(point):
    ABORT["calls"] += 1
    if ABORT["after"] is not None and ABORT["calls"] > ABORT["after"]:
        raise KeyboardInterrupt
    return quadratic(point)


def test_interrupted_search_resumes_from_finished_tasks(tmp_path):
    reference = search_counterexample(abortable, {"x": (0.0, 1.0)}, budget=SMALL,
                                      executor="serial", store=tmp_path / "ref")
    # batches: 8 grid points, the 9th grid point, 8 random, 8 random, ...: the 21st call dies
    # inside the fourth task
    ABORT.update(after=20, calls=0)
    with pytest.raises(KeyboardInterrupt):
        search_counterexample(abortable, {"x": (0.0, 1.0)}, budget=SMALL, executor="serial",
                              store=tmp_path / "run")
    finished = sorted(p.name for p in (tmp_path / "run" / "tasks").iterdir())
    assert finished == ["sample-00000.json", "sample-00001.json", "sample-00002.json"]
    ABORT.update(after=None, calls=0)
    resumed = search_counterexample(abortable, {"x": (0.0, 1.0)}, budget=SMALL,
                                    executor="serial", store=tmp_path / "run")
    assert ABORT["calls"] == reference.points - 17  # the three stored tasks were not redone
    assert json.dumps(resumed.answer()) == json.dumps(reference.answer())
    with pytest.raises(InputError, match="store"):  # another search refuses this folder
        search_counterexample(abortable, {"x": (0.0, 2.0)}, budget=SMALL, executor="serial",
                              store=tmp_path / "run")


def test_local_process_pool_equals_serial_bit_for_bit():
    from validation.lsa.checks import theorem33_realizable_margin

    box = {"p": (0.001, 0.999), "n": (10, 14, "int")}
    serial = search_counterexample(theorem33_realizable_margin, box, budget=SMALL,
                                   executor="serial")
    pooled = search_counterexample(theorem33_realizable_margin, box, budget=SMALL,
                                   executor="local:2")
    assert pooled.executor == "local:2" and serial.executor == "serial"
    assert json.dumps(pooled.answer()) == json.dumps(serial.answer())


@pytest.mark.parametrize("bad, name", [
    ({"x": (1.0, 0.0)}, "x"), ({"x": (0, 1.5, "int")}, "x.high"), ({"x": (0, 1, "cplx")}, "kind"),
    ({}, "parameters"), ({"x": (0, float("inf"))}, "x.high")])
def test_bad_boxes_name_the_argument(bad, name):
    with pytest.raises(InputError, match=name):
        parameter_box(bad)


@pytest.mark.parametrize("spec", ["local:0", "dask://nohost", "gpu", "local:x", 3])
def test_bad_executor_names(spec):
    with pytest.raises(InputError, match="executor"):
        parse_executor(spec)


def test_executor_names():
    assert str(parse_executor("local:3")) == "local:3"
    assert parse_executor("dask://127.0.0.1:8786").address == "127.0.0.1:8786"
    assert parse_executor("serial").kind == "serial"
    assert Parameter("n", 1, 9, True).grid(3) == [1, 5, 9]


ONLY_HYPOTHESIS = "Budget(grid=1, simple=0, random=0, hypothesis=60, local_searches=0, shrink=0)"
SEARCH = ("search_counterexample(theorem33_realizable_margin, {'p': (0.001, 0.999), "
          "'n': (13, 20, 'int')}, seed=4, budget=" + ONLY_HYPOTHESIS + ", executor='serial')")


def test_hypothesis_phase_does_not_depend_on_the_modules_loaded(tmp_path):
    # Hypothesis draws literals from the local modules loaded in its process; the search runs it
    # where none are loaded, so a fresh interpreter and this test session (with one more local
    # module, full of literals inside the box) must try the same points
    import importlib.util
    import subprocess
    import sys

    from validation.lsa.checks import theorem33_realizable_margin

    literals = tmp_path / "box_literals.py"
    literals.write_text("VALUES = [" + ", ".join(f"{k / 97!r}" for k in range(1, 97))
                        + ", " + ", ".join(str(n) for n in range(13, 21)) + "]\n")
    spec = importlib.util.spec_from_file_location("box_literals", literals)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules["box_literals"] = module
    try:
        code = ("import json; from numerics.shared.conjecture import Budget, search_counterexample; "
                "from validation.lsa.checks import theorem33_realizable_margin; "
                f"print(json.dumps({SEARCH}.answer()))")
        fresh = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                               check=True)
        here = eval(SEARCH, {"search_counterexample": search_counterexample, "Budget": Budget,
                             "theorem33_realizable_margin": theorem33_realizable_margin})
    finally:
        del sys.modules["box_literals"]
    assert here.phases["hypothesis"] >= 60
    assert json.loads(fresh.stdout) == json.loads(json.dumps(here.answer()))


def test_hypothesis_phase_reports_a_broken_interpreter(monkeypatch):
    # the driver runs in sys.executable; an interpreter that fails is an error, never "no points"
    import shutil
    import sys

    from theory.errors import TTCError

    failing = shutil.which("false")
    if failing is None:
        pytest.skip("no `false` command")
    monkeypatch.setattr(sys, "executable", failing)
    with pytest.raises(TTCError, match="Hypothesis phase"):
        search_counterexample(quadratic, {"x": (0.0, 1.0)}, executor="serial",
                              budget=Budget(grid=1, simple=0, random=0, hypothesis=5,
                                            local_searches=0, shrink=0))


# ----------------------------------------------------------------------------- tolerance

ONLY_GRID = Budget(grid=5, simple=0, random=0, hypothesis=0, local_searches=0, shrink=10)


def test_rounding_noise_is_not_a_counterexample_but_a_real_negative_margin_is():
    # both sides equal, computed in float64: -2.2e-16 is rounding; -1e-6 is evidence
    noise = search_counterexample(lambda pt: -2.2e-16, {"x": (0.0, 1.0)}, budget=ONLY_GRID,
                                  executor="serial")
    assert noise.holds and noise.near_misses == noise.points == 5
    assert (noise.atol, noise.rtol, noise.margin_type) == (1e-12, 1e-12, "float")
    assert "default for floating-point" in noise.tolerance
    real = search_counterexample(lambda pt: -1e-6, {"x": (0.0, 1.0)}, budget=ONLY_GRID,
                                 executor="serial")
    assert not real.holds and real.counterexample == {"x": 0.0}
    strict = search_counterexample(lambda pt: -2.2e-16, {"x": (0.0, 1.0)}, budget=ONLY_GRID,
                                   executor="serial", atol=0.0, rtol=0.0)
    assert not strict.holds and "(given)" in strict.tolerance


def test_exact_margins_are_compared_with_zero_exactly():
    from fractions import Fraction

    import sympy as sp

    # -10^-400 underflows to -0.0 as a float: only the exact comparison sees the sign
    tiny = search_counterexample(lambda pt: Fraction(-1, 10**400), {"x": (0.0, 1.0)},
                                 budget=ONLY_GRID, executor="serial")
    assert not tiny.holds and tiny.margin_type == "exact" and tiny.atol == 0.0
    assert "exact" in tiny.tolerance
    symbolic = search_counterexample(lambda pt: sp.Rational(-1, 10**20) if pt["n"] == 3 else 1,
                                     {"n": (1, 5, "int")}, budget=ONLY_GRID, executor="serial")
    assert symbolic.counterexample == {"n": 3}
    given = search_counterexample(lambda pt: Fraction(-1, 10**20), {"x": (0.0, 1.0)},
                                  budget=ONLY_GRID, executor="serial", atol=1e-12)
    assert given.holds  # an explicit atol applies to exact values too


def test_a_pair_lhs_rhs_uses_the_relative_tolerance():
    # lhs >= rhs with both near 1e6: a difference of 1e-7 is 1e-13 relative, within rtol=1e-12
    close = search_counterexample(lambda pt: (1e6, 1e6 + 1e-7), {"x": (0.0, 1.0)},
                                  budget=ONLY_GRID, executor="serial")
    assert close.holds and close.worst_margin < -1e-8
    apart = search_counterexample(lambda pt: (1e6, 1e6 + 1e-3), {"x": (0.0, 1.0)},
                                  budget=ONLY_GRID, executor="serial")
    assert not apart.holds


@pytest.mark.parametrize("bad", [-1e-3, float("nan"), float("inf"), "1e-3", True])
def test_bad_tolerances_name_the_argument(bad):
    with pytest.raises(InputError, match="atol"):
        search_counterexample(quadratic, {"x": (0.0, 1.0)}, budget=ONLY_GRID, atol=bad)


# ----------------------------------------------------------------------------- the result

def test_result_repr_html_and_plot():
    from matplotlib.figure import Figure

    result = search_counterexample(quadratic, {"x": (0.0, 1.0)}, seed=3, budget=SMALL,
                                   executor="serial")
    text = repr(result)
    assert text.startswith("ConjectureResult(holds=False, counterexample={'x': 0.15}")
    assert "evaluations" not in text and len(text) < 600
    page = result._repr_html_()
    assert "refuted" in page and "{&#x27;x&#x27;: 0.15}" in page
    assert all(f"<td>{phase}</td>" in page for phase in result.phases)
    ax = Figure().add_subplot()
    assert result.plot(ax=ax) is ax
    marked = [line for line in ax.lines if "counterexample" in str(line.get_label())]
    assert len(marked) == 1 and list(marked[0].get_xdata()) == [0.15]
    # a 2-D box: a map of the margin, the counterexample marked
    two = search_counterexample(lambda pt: pt["x"] - pt["n"] / 10, {"x": (0.0, 1.0),
                                "n": (1, 4, "int")}, budget=SMALL, executor="serial")
    ax2 = Figure().add_subplot()
    two.plot(ax=ax2)
    assert ax2.get_xlabel() == "x" and ax2.get_ylabel() == "n" and ax2.collections
    assert [line for line in ax2.lines if "counterexample" in str(line.get_label())]
    with pytest.raises(InputError, match="axes"):
        two.plot(ax=Figure().add_subplot(), axes=("y",))


def test_every_phase_is_counted():
    result = search_counterexample(quadratic, {"x": (0.0, 1.0)}, seed=3, budget=SMALL,
                                   executor="serial")
    assert list(result.phases) == ["grid", "simple", "random", "hypothesis", "local", "shrink"]
    assert result.phases["simple"] == 0 and result.phases["grid"] == 9
    assert result.grid_sizes == {"x": 9}

"""The search works with any callable, anywhere, and nothing hangs: lambdas and functions typed
at a REPL or fed on standard input, a worker that dies, a time limit, ``auto`` choosing a pool,
and the same answer on every executor. Every test that starts processes runs in a child with a
wall-clock limit, so a hang fails the test instead of blocking the suite."""

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from numerics.shared.conjecture import Budget, search_counterexample

ROOT = Path(__file__).resolve().parents[3]
SMALL = Budget(grid=9, simple=0, random=16, hypothesis=20, local_searches=2, local_evaluations=20,
               shrink=20, batch=8)
#: Seconds a child may take before the test fails as a hang (a few seconds of work each).
LIMIT = 240


def _python(script: str, *, cwd=None, extra_path=()) -> subprocess.CompletedProcess:
    """``python -`` with ``script`` on standard input (``__main__`` has no file: a REPL's case)."""
    import os

    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *map(str, extra_path)])}
    return subprocess.run([sys.executable, "-"], input=textwrap.dedent(script), text=True,
                          capture_output=True, timeout=LIMIT, cwd=cwd, env=env)


def quadratic(point):
    # (x - 0.1)(x - 0.2): negative exactly on the open interval (0.1, 0.2) (roots by hand)
    return (point["x"] - 0.1) * (point["x"] - 0.2)


# ---------------------------------------------------------------------------- any callable

def test_stdin_lambda_and_main_function_under_every_executor_give_one_answer():
    # typed on standard input, as at a REPL: a lambda, a closure and a __main__ function cannot
    # reach spawned workers; local:2 warns once and runs here, auto runs here silently; the
    # answer is the serial one
    run = _python("""
        import json, warnings
        from numerics.shared.conjecture import Budget, SerialFallbackWarning, search_counterexample
        budget = Budget(grid=9, simple=0, random=16, hypothesis=20, local_searches=2,
                        local_evaluations=20, shrink=20, batch=8)
        shift = 0.1
        def typed(point):
            return (point["x"] - shift) * (point["x"] - 0.2)
        out = {}
        for label, margin in (("lambda", lambda pt: (pt["x"] - shift) * (pt["x"] - 0.2)),
                              ("main function", typed)):
            for executor in ("serial", "auto", "local:2"):
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    r = search_counterexample(margin, {"x": (0.0, 1.0)}, seed=2, budget=budget,
                                              executor=executor)
                fallbacks = [str(w.message) for w in caught
                             if issubclass(w.category, SerialFallbackWarning)]
                out[f"{label} {executor}"] = [r.answer(), r.executor, fallbacks]
        print(json.dumps(out))
    """)
    assert run.returncode == 0, run.stderr[-3000:]
    out = json.loads(run.stdout)
    reference = out["lambda serial"][0]
    assert reference["counterexample"] == {"x": 0.15} and reference["holds"] is False
    for key, (answer, executor, fallbacks) in out.items():
        assert answer == reference, key
        assert executor == "serial", key  # nothing could be sent, so everything ran here
        if key.endswith("local:2"):
            assert len(fallbacks) == 1 and "cannot be sent to worker processes" in fallbacks[0]
            assert ("<lambda>" if key.startswith("lambda") else "typed") in fallbacks[0]
        else:
            assert fallbacks == [], key


def test_closure_in_this_process_runs_serially_with_one_warning():
    from numerics.shared.conjecture import SerialFallbackWarning

    low = 0.1
    with pytest.warns(SerialFallbackWarning, match="cannot be pickled") as caught:
        result = search_counterexample(lambda pt: (pt["x"] - low) * (pt["x"] - 0.2),
                                       {"x": (0.0, 1.0)}, budget=SMALL, executor="local:2")
    assert len(caught) == 1
    assert result.executor == "serial" and "cannot be sent" in result.executor_reason
    assert result.counterexample == {"x": 0.15}


# ---------------------------------------------------------------------------- nothing hangs

DYING = """
import os

def margin(point):
    if point["x"] > 0.5:
        os._exit(3)          # the worker process ends, as if killed
    return 1.0


def safe(point):
    return 1.0
"""


def test_a_worker_that_dies_is_an_error_naming_the_margin(tmp_path):
    (tmp_path / "dying_margin.py").write_text(DYING)
    start = time.perf_counter()
    run = _python("""
        from numerics.shared.conjecture import Budget, search_counterexample
        from numerics.shared.executor import WorkerDied
        import dying_margin
        if __name__ == "__main__":
            budget = Budget(grid=9, simple=0, random=8, hypothesis=0, local_searches=0, shrink=0,
                            batch=2)
            # the pool itself works from standard input (a module-level margin)
            ok = search_counterexample(dying_margin.safe, {"x": (0.0, 1.0)}, executor="local:2",
                                       budget=budget)
            print(ok.executor, ok.points)
            try:
                search_counterexample(dying_margin.margin, {"x": (0.0, 1.0)}, executor="local:2",
                                      budget=budget)
            except WorkerDied as exc:
                print("WorkerDied:", exc)
    """, extra_path=[tmp_path])
    assert run.returncode == 0, run.stderr[-3000:]
    works, died = run.stdout.splitlines()
    assert works == "local:2 17"
    assert died.startswith("WorkerDied:") and "the margin dying_margin.margin" in died
    assert time.perf_counter() - start < LIMIT


SLOW = """
import time

def margin(point):
    time.sleep(0.05)
    return 1.0
"""


@pytest.mark.parametrize("executor", ["serial", "local:2"])
def test_the_time_limit_stops_the_search(tmp_path, executor):
    (tmp_path / "slow_margin.py").write_text(SLOW)
    run = _python(f"""
        import time
        from numerics.shared.conjecture import search_counterexample
        from theory.errors import TTCError
        import slow_margin
        if __name__ == "__main__":
            start = time.perf_counter()
            try:   # the quick budget needs about 15 s at 50 ms per point
                search_counterexample(slow_margin.margin, {{"x": (0.0, 1.0)}}, timeout=2,
                                      executor={executor!r})
            except TTCError as exc:
                print(round(time.perf_counter() - start, 1), exc)
    """, extra_path=[tmp_path])
    assert run.returncode == 0, run.stderr[-3000:]
    seconds, message = run.stdout.split(" ", 1)
    assert "time limit of 2 s" in message and "slow_margin.margin" in message
    assert float(seconds) < 8  # stopped at the limit (plus one batch), not after all points


# ---------------------------------------------------------------------------- executors agree

def sleepy_quadratic(point):
    time.sleep(0.002)
    return quadratic(point)


def test_auto_opens_a_pool_when_points_are_costly_and_the_answer_does_not_change(monkeypatch):
    from numerics.shared.conjecture import search as search_module

    box = {"x": (0.0, 1.0), "n": (1, 3, "int")}
    serial = search_counterexample(sleepy_quadratic, box, seed=4, budget=SMALL,
                                   executor="serial")
    pooled = search_counterexample(sleepy_quadratic, box, seed=4, budget=SMALL,
                                   executor="local:2")
    cheap = search_counterexample(sleepy_quadratic, box, seed=4, budget=SMALL, executor="auto")
    monkeypatch.setattr(search_module, "AUTO_POOL_SECONDS", 0.01)  # any cost makes a pool pay
    costly = search_counterexample(sleepy_quadratic, box, seed=4, budget=SMALL, executor="auto")
    assert serial.executor == "serial" and pooled.executor == "local:2"
    assert cheap.executor == "serial" and "serial is faster" in cheap.executor_reason
    if (__import__("os").cpu_count() or 1) >= 2:
        assert costly.executor == "local:2" and "a pool pays" in costly.executor_reason
    for other in (pooled, cheap, costly):
        assert json.dumps(other.answer()) == json.dumps(serial.answer())
    assert serial.counterexample == {"x": 0.15, "n": 1}

"""The search's phases as tasks: a batch of points, Hypothesis, Nelder--Mead, shrinking.

Every task is a module-level function of one picklable argument (it runs on any executor of
:mod:`numerics.shared.executor`) and returns its evaluations, in order, as
:func:`~numerics.shared.conjecture.margins.evaluation_record` dicts. ``tol`` is the
``(atol, rtol)`` pair of the search (None: the defaults).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile

import numpy as np

from numerics.shared.conjecture.box import Point, parameter_box
from numerics.shared.conjecture.budget import BUDGET_LIMITS
from numerics.shared.conjecture.margins import Margin, evaluation_record
from theory.errors import InputError, TTCError, check_int

__all__ = ["evaluate_batch", "hypothesis_search", "start_hypothesis_driver",
           "stop_hypothesis_driver", "local_search", "shrink", "complexity",
           "sample_or_hypothesis"]


def evaluate_batch(task) -> list[dict]:
    """Task ``(margin, phase, points, tol)``: every point's record."""
    margin, phase, points, tol = task
    return [evaluation_record(phase, point, margin, *tol) for point in points]


def sample_or_hypothesis(task) -> list[dict]:
    """Task of the first stage: ``("batch", batch task)`` or ``("hypothesis", arguments)``."""
    kind, payload = task
    return evaluate_batch(payload) if kind == "batch" else hypothesis_search(*payload)


#: The Hypothesis phase's driver, run by a fresh interpreter (``python -P -c``). It reads the task
#: (one JSON line), runs ``hypothesis.find`` and, for every example, writes the point (one JSON
#: line) and reads the verdict ("1": a counterexample, "0": not) from the parent, which evaluates
#: the margin; "null" ends the search. It imports only the standard library and Hypothesis.
#: It dies with its parent (whose process id is its argument): Linux ``PR_SET_PDEATHSIG``, and
#: everywhere at the end of its input.
_HYPOTHESIS_DRIVER = r"""
import json
import os
import signal
import sys

if sys.platform.startswith("linux"):  # die with the parent, even when it is SIGKILLed
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):
        pass
if os.getppid() != int(sys.argv[1]):  # the parent died before the signal was armed
    os._exit(1)

channel_in, channel_out = sys.stdin, sys.stdout
sys.stdout = sys.stderr  # whatever Hypothesis prints stays off the channel

from random import Random

from hypothesis import HealthCheck, Phase, find, settings, strategies as st
from hypothesis.errors import NoSuchExample

task = json.loads(channel_in.readline())
strategy = st.fixed_dictionaries({
    name: (st.integers(int(low), int(high)) if integer else
           st.floats(low, high, allow_nan=False, allow_infinity=False))
    for name, low, high, integer in task["box"]})


def is_counterexample(point):
    channel_out.write(json.dumps(point) + "\n")
    channel_out.flush()
    answer = channel_in.readline()
    if not answer:  # the parent is gone
        os._exit(1)
    return answer.strip() == "1"


# report_multiple_bugs=False: stop generating at the first counterexample; otherwise Hypothesis
# keeps looking for up to 10 s of wall time, which makes the result depend on the machine's load
config = settings(max_examples=task["examples"], database=None, deadline=None,
                  suppress_health_check=list(HealthCheck), report_multiple_bugs=False,
                  phases=(Phase.explicit, Phase.generate, Phase.shrink))
try:
    find(strategy, is_counterexample, settings=config, random=Random(task["seed"]))
except NoSuchExample:
    pass
channel_out.write("null\n")
channel_out.flush()
"""


def hypothesis_search(margin: Margin, box, seed: int, examples: int, atol: float | None = None,
                      rtol: float | None = None, driver: str | None = None) -> list[dict]:
    """Phase 3: Hypothesis' generate-then-shrink search for a point with ``margin < 0``.

    Hypothesis (6.13x and later) also draws numeric literals it finds in the source of the
    *local* modules loaded in its process (every module outside the standard library and
    site-packages). That set differs between a pool worker, a Dask worker and a test session,
    so one seed would give different points in different processes, and Hypothesis offers no
    setting to switch it off. So Hypothesis runs in a fresh interpreter (``python -P -c``, the
    current directory off ``sys.path``) that imports nothing from this project: its pool of
    local literals is empty in every process. It sends each example to this process, which
    evaluates the margin (the margin never leaves this process) and answers whether it is a
    counterexample.

    Parameters
    ----------
    margin : callable
        ``margin(point) -> float`` (see :func:`search_counterexample`).
    box : sequence of Parameter
        The box (:func:`parameter_box`).
    seed : int
        Seeds Hypothesis (``hypothesis.find(..., random=random.Random(seed))``).
    examples : int
        Hypothesis' ``max_examples``; its shrinking comes on top.
    atol, rtol : float, optional
        The tolerance deciding which points are counterexamples
        (:mod:`numerics.shared.conjecture.margins`; None: the defaults).
    driver : str, optional
        A token of :func:`start_hypothesis_driver`: use the interpreter it started (in this
        process); otherwise one is started here.

    Returns
    -------
    list of dict
        Every point tried, in order, as :func:`evaluation_record` dicts (phase
        ``"hypothesis"``).

    Raises
    ------
    TTCError
        The driver's interpreter failed (e.g. Hypothesis is not installed); the message ends
        with its standard error.
    """
    if not callable(margin):
        raise InputError("margin", margin, "a callable margin(point) -> float")
    box = parameter_box(box)
    check_int("seed", seed, 0, 2**63 - 1)
    check_int("examples", examples, 0, BUDGET_LIMITS["hypothesis"])
    task = {"box": [[p.name, p.low, p.high, p.integer] for p in box], "seed": seed,
            "examples": examples}
    child, errors = _READY.pop(driver) if driver in _READY else _start_driver()
    tried: list[dict] = []
    with errors, child:
        try:
            finished = _converse(child, task, box, margin, (atol, rtol), tried)
        except (BrokenPipeError, ConnectionResetError):  # it ended before reading its task
            finished = False
        except BaseException:
            child.kill()
            raise
        try:
            child.stdin.close()
        except (BrokenPipeError, ConnectionResetError):
            pass
        code = child.wait()
        if code != 0 or not finished:
            errors.seek(0)
            detail = errors.read().decode(errors="replace").strip()[-2000:]
            raise TTCError(f"the Hypothesis phase's interpreter failed (exit status {code}): "
                           f"{detail or 'no output'}")
    return tried


#: Hypothesis interpreters started ahead of their phase in this process: token -> (child, its
#: standard error file). See :func:`start_hypothesis_driver`.
_READY: dict[str, tuple] = {}


def _start_driver() -> tuple:
    env = {**os.environ, "PYTHONHASHSEED": "0", "HYPOTHESIS_NO_PLUGINS": "1"}
    errors = tempfile.TemporaryFile()
    child = subprocess.Popen([sys.executable, "-P", "-c", _HYPOTHESIS_DRIVER, str(os.getpid())],
                             env=env, text=True, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=errors)
    return child, errors


def start_hypothesis_driver() -> str:
    """Start the Hypothesis phase's interpreter now, so that its start-up (about 1 s: Python
    and Hypothesis' imports) overlaps the phases before it. Returns a token for
    :func:`hypothesis_search` (``driver=``) in this process; :func:`stop_hypothesis_driver`
    ends it if it was not used. (A worker process given the token starts its own.)"""
    token = f"{os.getpid()}-{len(_READY)}-{id(object())}"
    _READY[token] = _start_driver()
    return token


def stop_hypothesis_driver(token: str | None) -> None:
    """End the interpreter :func:`start_hypothesis_driver` started, unless it was used."""
    entry = _READY.pop(token, None) if token is not None else None
    if entry is not None:
        child, errors = entry
        child.kill()
        child.wait()
        for stream in (child.stdin, child.stdout):
            stream.close()
        errors.close()


def _converse(child, task: dict, box, margin: Margin, tol: tuple, tried: list) -> bool:
    """Answer the driver's examples until it says "null" (True) or stops talking (False)."""
    child.stdin.write(json.dumps(task) + "\n")
    child.stdin.flush()
    while line := child.stdout.readline():
        drawn = json.loads(line)
        if drawn is None:
            return True
        record = evaluation_record("hypothesis", {p.name: p.value(drawn[p.name]) for p in box},
                                   margin, *tol)
        tried.append(record)
        child.stdin.write("1\n" if record["counterexample"] else "0\n")
        child.stdin.flush()
    return False


def local_search(task) -> list[dict]:
    """Task ``(margin, box, start, evaluations, tol)``: Nelder--Mead on the margin over the real
    coordinates (box-normalised), from the point ``start``, at most ``evaluations`` points."""
    from scipy.optimize import minimize

    margin, box, start, evaluations, tol = task
    real = [p for p in box if not p.integer and p.high > p.low]
    records: list[dict] = []
    if not real or evaluations == 0:
        return records

    def point_at(u) -> Point:
        point = dict(start)
        for p, ui in zip(real, u):
            point[p.name] = p.value(p.low + float(ui) * (p.high - p.low))
        return point

    def objective(u) -> float:
        if len(records) >= evaluations:
            return math.inf
        record = evaluation_record("local", point_at(u), margin, *tol)
        records.append(record)
        return math.inf if record["margin"] is None else record["margin"]

    u0 = np.array([(start[p.name] - p.low) / (p.high - p.low) for p in real])
    simplex = np.vstack([u0] + [u0 + np.where(np.eye(len(real))[i] > 0,
                                              np.where(u0[i] > 0.5, -0.05, 0.05), 0.0)
                                for i in range(len(real))])
    minimize(objective, u0, method="Nelder-Mead", bounds=[(0.0, 1.0)] * len(real),
             options={"maxfev": evaluations, "initial_simplex": simplex,
                      "xatol": 1e-12, "fatol": 0.0})
    return records


def _decimals(x: float) -> int:
    """The fewest decimals ``k`` with ``round(x, k) == x`` (17 when none is)."""
    for k in range(17):
        if round(x, k) == x:
            return k
    return 17


def complexity(point: Point, box) -> tuple:
    """Shrink order: fewer decimal digits first, then values closer to the box's lower corner."""
    digits = sum(_decimals(point[p.name]) for p in box if not p.integer)
    return digits, tuple(abs(point[p.name] - p.low) for p in box)


def shrink(task) -> list[dict]:
    """Task ``(margin, box, point, evaluations, tol)``: move each coordinate of the
    counterexample ``point`` to a neighbour with fewer decimals (the k-decimal numbers just below
    and above it, k = 0, 1, ...; integers: the smaller values) while it stays a counterexample.
    Every evaluation is returned; the last counterexample is the shrunk point."""
    margin, box, point, evaluations, tol = task
    records: list[dict] = []
    current = dict(point)
    changed = True
    while changed and len(records) < evaluations:
        changed = False
        for p in box:
            if p.integer:  # a range, never a list: the box may hold 10**15 integers
                candidates = range(int(p.low), current[p.name])
            else:
                x = current[p.name]
                candidates = [round(bound(x * 10**k) / 10**k, k)
                              for k in range(_decimals(x)) for bound in (math.floor, math.ceil)]
                candidates = [c for c in dict.fromkeys(candidates)
                              if p.low <= c <= p.high and c != x]
            for candidate in candidates:
                if len(records) >= evaluations:
                    break
                trial = {**current, p.name: p.value(candidate) if p.integer else float(candidate)}
                record = evaluation_record("shrink", trial, margin, *tol)
                records.append(record)
                if record["counterexample"]:
                    current, changed = trial, True
                    break
    return records

"""Search a box of parameters for a counterexample to a conjecture.

A conjecture is stated as a **margin**: a function of a point (a dict ``name -> value``) that is
``>= 0`` where the conjecture holds and ``< 0`` at a counterexample, with the size saying by how
much. A margin that cannot be computed at a point raises :class:`theory.errors.NumericalFailure`
(or returns NaN); that point is reported as a failure, never as evidence either way.

:func:`search_counterexample` spends a :class:`Budget` in four phases, every evaluation running as
a task on an executor (:mod:`numerics.shared.executor`: a local process pool, or a Dask cluster):

1. **grid**: a regular grid over the box (every integer of an integer parameter), and
   **simple** values: every fraction a/b with b <= ``budget.simple`` in the box (where
   thresholds such as (S-1)/S and i.i.d. special cases live);
2. **random**: uniform points from ``numerics.shared.seeding.as_generator(seed)``;
3. **hypothesis**: Hypothesis' generator and shrinker (``hypothesis.find``, seeded with
   ``random.Random(seed)``, no example database), which also tries boundary and "simple" values.
   It runs in a fresh interpreter that imports nothing from this project (see
   :func:`hypothesis_search`), so the same seed gives the same points in every process;
4. **local**: Nelder--Mead minimisation of the margin (real parameters, in box-normalised
   coordinates) from the lowest-margin points of phases 1--2;

and then **shrinks** the worst counterexample found: each real coordinate is rounded to the fewest
decimals, each integer lowered, as long as the point stays a counterexample. The reported
counterexample is the simplest one found (fewest decimal digits, then smallest values).

Everything is a function of the seed and the budget, so the same call gives the same result bit
for bit on any executor. With ``store=DIR``, each finished task is written to ``DIR/tasks/`` at
once (atomically) and a rerun with the same configuration resumes from them.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from numerics.shared.executor import TaskRunner, parse_executor
from numerics.shared.seeding import as_generator
from numerics.shared.storage import read_json, write_json
from theory.errors import InputError, NumericalFailure, TooLargeError, TTCError, check_int
from theory.results import result

__all__ = ["Parameter", "Budget", "BUDGETS", "ConjectureResult", "MarginValue", "parameter_box",
           "search_counterexample", "evaluate_margin", "hypothesis_search", "BUDGET_LIMITS",
           "MAX_POINTS", "MAX_ABS_VALUE"]

Point = dict[str, Any]
Margin = Callable[[Point], float]

#: Largest absolute value of a box's ends (grids, widths and ``low * b`` stay exact enough and
#: finite).
MAX_ABS_VALUE = 1e15


@dataclass(frozen=True)
class Parameter:
    """One axis of the box: ``low <= value <= high``; integers when ``integer``."""

    name: str
    low: float
    high: float
    integer: bool = False

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise InputError("parameter name", self.name, "a non-empty string")
        for bound in ("low", "high"):
            value = getattr(self, bound)
            if (isinstance(value, bool) or not isinstance(value, (int, float))
                    or not math.isfinite(value) or abs(value) > MAX_ABS_VALUE):
                raise InputError(f"{self.name}.{bound}", value,
                                 f"a finite number of absolute value <= {MAX_ABS_VALUE:g}")
            if self.integer and value != int(value):
                raise InputError(f"{self.name}.{bound}", value, "an integer")
        if self.low > self.high:
            raise InputError(self.name, (self.low, self.high), "low <= high")

    def value(self, x: float):
        """``x`` as a value of this axis (an ``int`` for an integer axis), clipped to the box."""
        x = min(max(float(x), self.low), self.high)
        return int(round(x)) if self.integer else x

    def grid(self, count: int) -> list:
        if self.integer:
            if int(self.high) - int(self.low) + 1 > count:  # never enumerate a huge range
                values = np.unique(np.round(np.linspace(self.low, self.high, count)))
            else:
                values = np.arange(int(self.low), int(self.high) + 1)
            return [int(v) for v in values]
        if self.low == self.high:
            return [float(self.low)]
        return [float(v) for v in np.linspace(self.low, self.high, count)]

    def simple(self, max_denominator: int, count: int) -> list:
        """The fractions a/b (b <= ``max_denominator``) in the box, smallest denominators first,
        at most ``count`` of them (as floats); integer axes: :meth:`grid`."""
        if self.integer:
            return self.grid(count)
        from fractions import Fraction

        size = sum(math.floor(self.high * b) - math.ceil(self.low * b) + 1
                   for b in range(1, max_denominator + 1))
        if size > 100_000:  # a wide box: the first ``count`` in order, never the whole set
            values = []
            for b in range(1, max_denominator + 1):
                for a in range(math.ceil(self.low * b), math.floor(self.high * b) + 1):
                    f = Fraction(a, b)
                    if f.denominator == b and self.low <= a / b <= self.high:
                        values.append(f)
                        if len(values) == count:
                            return sorted(float(v) for v in values)
            return sorted(float(v) for v in values)
        values = sorted({Fraction(a, b) for b in range(1, max_denominator + 1)
                         for a in range(math.ceil(self.low * b), math.floor(self.high * b) + 1)
                         if self.low <= a / b <= self.high},
                        key=lambda f: (f.denominator, f))
        return sorted(float(v) for v in values[:count])

    def sample(self, rng: np.random.Generator, size: int) -> list:
        if self.integer:
            return [int(v) for v in rng.integers(int(self.low), int(self.high), size, endpoint=True)]
        return [float(v) for v in rng.uniform(self.low, self.high, size)]


def parameter_box(parameters) -> tuple[Parameter, ...]:
    """A box from ``{name: (low, high)}`` or ``{name: (low, high, "int"|"real")}`` (or Parameters)."""
    if isinstance(parameters, Mapping):
        box = []
        for name, spec in parameters.items():
            if isinstance(spec, Parameter):
                box.append(spec)
                continue
            if not isinstance(spec, (tuple, list)) or len(spec) not in (2, 3):
                raise InputError(name, spec, "(low, high) or (low, high, 'int'|'real')")
            kind = spec[2] if len(spec) == 3 else "real"
            if kind not in ("int", "real"):
                raise InputError(f"{name} kind", kind, "'int' or 'real'")
            box.append(Parameter(name, spec[0], spec[1], kind == "int"))
        parameters = box
    box = tuple(parameters)
    if not box or not all(isinstance(p, Parameter) for p in box):
        raise InputError("parameters", parameters, "a non-empty box of Parameters")
    if len({p.name for p in box}) != len(box):
        raise InputError("parameters", [p.name for p in box], "distinct names")
    return box


@dataclass(frozen=True)
class Budget:
    """How many margin evaluations each phase may spend.

    ``grid``: points per real axis (integer axes take every value up to this count);
    ``simple``: largest denominator of the simple fractions tried (at most ``grid`` per axis);
    ``random``: uniform points; ``hypothesis``: examples Hypothesis generates (its shrinking comes
    on top); ``local_searches`` x ``local_evaluations``: Nelder--Mead runs and evaluations each;
    ``shrink``: evaluations for shrinking; ``batch``: points per task of phases 1--2.
    """

    grid: int = 9
    simple: int = 6
    random: int = 48
    hypothesis: int = 60
    local_searches: int = 3
    local_evaluations: int = 40
    shrink: int = 60
    batch: int = 16

    def __post_init__(self):
        for name, value in asdict(self).items():
            check_int(f"budget.{name}", value, 1 if name in ("grid", "batch") else 0,
                      BUDGET_LIMITS[name])

    def points(self, box) -> int:
        """Most margin evaluations this budget spends on ``box``: the grid and simple points
        (a product over the axes), plus random, Hypothesis (its shrinking counted as as many
        again), local and shrink evaluations."""
        grid = simple = 1
        for p in box:
            grid *= len(p.grid(self.grid))
            simple *= len(p.simple(self.simple, self.grid)) if self.simple else 0
        return (grid + simple + self.random + 2 * self.hypothesis
                + self.local_searches * self.local_evaluations + self.shrink)


#: Largest value of each :class:`Budget` field.
BUDGET_LIMITS = {"grid": 10_000, "simple": 1_000, "random": 1_000_000, "hypothesis": 100_000,
                 "local_searches": 1_000, "local_evaluations": 100_000, "shrink": 100_000,
                 "batch": 10_000}
#: Most margin evaluations one search may spend (every evaluation is kept in the result, about
#: 1 KB each: 10**6 of them stay well under 2 GB).
MAX_POINTS = 1_000_000

BUDGETS = {
    "quick": Budget(),
    "full": Budget(grid=33, simple=12, random=400, hypothesis=400, local_searches=8, local_evaluations=120,
                   shrink=200, batch=32),
}


@result
class ConjectureResult:
    """What a search found. ``holds`` is True when no counterexample was found: evidence, not
    proof; ``points`` and ``worst_margin`` say how much evidence and how close it came.

    Attributes
    ----------
    holds : bool
        No point with a margin < 0 was found.
    counterexample : dict or None
        The simplest point with a margin < 0 (fewest decimals, then closest to the box's lower
        corner), ``name -> value``.
    counterexample_margin : float or None
        The margin at ``counterexample``.
    points : int
        Points evaluated, over all phases (failures included).
    worst_margin : float or None
        The smallest margin found, and ``worst_point`` where.
    worst_point : dict or None
    found_by : str or None
        The phase (``"grid"``, ``"simple"``, ``"random"``, ``"hypothesis"``, ``"local"``,
        ``"shrink"``) of the first counterexample found.
    failures : int
        Points where the margin could not be computed (NumericalFailure or not finite).
    failure_examples : list of str
        The first three failure messages.
    phases : dict
        Points evaluated per phase.
    seed : int
    parameters : dict
        The box, ``name -> [low, high, "int" | "real"]``.
    budget : dict
        The :class:`Budget` spent, as a dict.
    evaluations : list of dict
        Every evaluation in order: ``{"phase", "point", "margin", "failure"}``.
    """

    holds: bool
    counterexample: Point | None
    counterexample_margin: float | None
    points: int
    worst_margin: float | None
    worst_point: Point | None
    found_by: str | None
    failures: int
    failure_examples: list
    phases: dict
    seed: int
    parameters: dict
    budget: dict
    evaluations: list = field(default_factory=list, repr=False)

    def to_json(self, evaluations: bool = False) -> dict:
        """The JSON summary (the ``ttc check --json`` keys); ``evaluations`` adds every point."""
        out = asdict(self)
        if not evaluations:
            out.pop("evaluations")
        return out


# ----------------------------------------------------------------------------- evaluation

@result
class MarginValue:
    """One evaluation of a margin.

    Attributes
    ----------
    margin : float or None
        The finite margin, None when it could not be computed.
    failure : str or None
        Why it could not be computed (the NumericalFailure's message, or the non-finite value
        returned), None when ``margin`` is a number.
    """

    margin: float | None
    failure: str | None


def evaluate_margin(margin: Margin, point: Point) -> MarginValue:
    """``margin(point)`` as a :class:`MarginValue`: the number, or why there is none (a
    :class:`theory.errors.NumericalFailure` or an ``ArithmeticError`` such as a division by
    zero, a non-finite value, or a value that is not a real number)."""
    try:
        raw = margin(dict(point))
    except (NumericalFailure, ArithmeticError) as exc:
        return MarginValue(None, f"{type(exc).__name__}: {exc}")
    try:
        value = float(raw)
    except (TypeError, ValueError, OverflowError):
        return MarginValue(None, f"margin returned {str(raw)[:60]!r}, not a real number")
    if not math.isfinite(value):
        return MarginValue(None, f"margin returned {value}")
    return MarginValue(value, None)


def _record(phase: str, point: Point, margin: Margin) -> dict:
    value = evaluate_margin(margin, point)
    return {"phase": phase, "point": point, "margin": value.margin, "failure": value.failure}


def _evaluate_batch(task) -> list[dict]:
    margin, phase, points = task
    return [_record(phase, point, margin) for point in points]


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


def hypothesis_search(margin: Margin, box, seed: int, examples: int) -> list[dict]:
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

    Returns
    -------
    list of dict
        Every point tried, in order: ``{"phase": "hypothesis", "point", "margin", "failure"}``.

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
    env = {**os.environ, "PYTHONHASHSEED": "0", "HYPOTHESIS_NO_PLUGINS": "1"}
    tried: list[dict] = []
    with tempfile.TemporaryFile() as errors:
        with subprocess.Popen([sys.executable, "-P", "-c", _HYPOTHESIS_DRIVER, str(os.getpid())],
                              env=env, text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=errors) as child:
            try:
                finished = _converse(child, task, box, margin, tried)
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


def _converse(child, task: dict, box, margin: Margin, tried: list) -> bool:
    """Answer the driver's examples until it says "null" (True) or stops talking (False)."""
    child.stdin.write(json.dumps(task) + "\n")
    child.stdin.flush()
    while line := child.stdout.readline():
        drawn = json.loads(line)
        if drawn is None:
            return True
        record = _record("hypothesis", {p.name: p.value(drawn[p.name]) for p in box}, margin)
        tried.append(record)
        counter = record["margin"] is not None and record["margin"] < 0
        child.stdin.write("1\n" if counter else "0\n")
        child.stdin.flush()
    return False


def _local_search(task) -> list[dict]:
    """Nelder--Mead on the margin over the real coordinates (box-normalised), from ``start``."""
    from scipy.optimize import minimize

    margin, box, start, evaluations = task
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
        record = _record("local", point_at(u), margin)
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


def _shrink(task) -> list[dict]:
    """Move each coordinate to a neighbour with fewer decimals (the k-decimal numbers just below
    and above it, k = 0, 1, ...; integers: the smaller values) while it stays a counterexample; every evaluation is returned, the last counterexample is the shrunk point."""
    margin, box, point, evaluations = task
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
                record = _record("shrink", trial, margin)
                records.append(record)
                if record["margin"] is not None and record["margin"] < 0:
                    current, changed = trial, True
                    break
    return records


# ----------------------------------------------------------------------------- the search

def _run_stage(name: str, fn, tasks: list, runner: TaskRunner, folder: Path | None,
               bar) -> list:
    """Run ``tasks`` (results loaded from ``folder`` when already there); results in task order."""
    results: list = [None] * len(tasks)
    todo = []
    for i in range(len(tasks)):
        stored = None if folder is None else read_json(folder / f"{name}-{i:05d}.json")
        if stored is None:
            todo.append(i)
        else:
            results[i] = stored
    for j, finished in runner.map(fn, [tasks[i] for i in todo]):
        i = todo[j]
        results[i] = finished
        if folder is not None:
            write_json(folder / f"{name}-{i:05d}.json", finished)
        if bar is not None:
            bar.update(len(finished))
    return results


def search_counterexample(margin: Margin, parameters, *, seed: int = 0,
                          budget: Budget | str = "quick", executor=None, store=None,
                          name: str = "", progress: bool | None = None) -> ConjectureResult:
    """Look for a point of the box where ``margin(point) < 0``.

    Parameters
    ----------
    margin : callable
        ``margin(point) -> float``, ``point`` a dict ``name -> value``; ``>= 0`` where the
        conjecture holds. A module-level function (tasks are pickled to worker processes).
    parameters : mapping or sequence of Parameter
        The box, e.g. ``{"S": (2, 5, "int"), "p": (0.02, 0.98)}`` (see :func:`parameter_box`).
    seed : int
        Seeds the random phase and Hypothesis; the result is a function of ``seed`` and ``budget``.
    budget : Budget or "quick" or "full"
        Each field at most :data:`BUDGET_LIMITS`; the whole search at most :data:`MAX_POINTS`
        evaluations (:meth:`Budget.points`), else :class:`TooLargeError`.
    executor : str, optional
        ``"local"`` (default), ``"local:N"``, ``"serial"`` or ``"dask://HOST:PORT"``
        (:mod:`numerics.shared.executor`).
    store : path, optional
        Folder for finished tasks; a rerun with the same configuration resumes from them.
    name : str
        The conjecture's name (recorded in the store's configuration).

    Returns
    -------
    ConjectureResult

    Raises
    ------
    InputError
        A bad box (NaN or infinite ends, ends beyond 1e15, low > high), seed, budget, executor
        or store.
    TooLargeError
        The budget spends more than :data:`MAX_POINTS` evaluations on this box.
    NumericalFailure
        The margin failed at every point.
    """
    if not callable(margin):
        raise InputError("margin", margin, "a callable margin(point) -> float")
    check_int("seed", seed, 0, 2**63 - 1)
    box = parameter_box(parameters)
    if isinstance(budget, str):
        if budget not in BUDGETS:
            raise InputError("budget", budget, f"one of {sorted(BUDGETS)} or a Budget")
        budget = BUDGETS[budget]
    if not isinstance(budget, Budget):
        raise InputError("budget", budget, f"one of {sorted(BUDGETS)} or a Budget")
    if not isinstance(name, str):
        raise InputError("name", name, "a string")
    if progress not in (None, True, False):
        raise InputError("progress", progress, "None, True or False")
    points = budget.points(box)
    if points > MAX_POINTS:
        raise TooLargeError("budget", asdict(budget), f"at most {MAX_POINTS} evaluations on this "
                            f"box (this budget spends up to {points}: fewer grid points or "
                            f"fewer axes)")
    spec = parse_executor(executor)
    if store is not None:
        from numerics.shared.storage import check_output_folder

        store = check_output_folder("store", store)
    described = {p.name: [p.low, p.high, "int" if p.integer else "real"] for p in box}
    config = {"name": name, "margin": f"{margin.__module__}.{margin.__qualname__}",
              "parameters": described, "seed": seed, "budget": asdict(budget), "engine": 1}
    folder = None
    if store is not None:
        folder = Path(store) / "tasks"
        saved = read_json(Path(store) / "config.json")
        if saved is not None and saved != config:
            raise InputError("store", str(store), "a folder holding this same search (its "
                             "config.json differs); use another folder")
        write_json(Path(store) / "config.json", config)

    grid = _grid_points([p.grid(budget.grid) for p in box], box)
    simple = (_grid_points([p.simple(budget.simple, budget.grid) for p in box], box)
              if budget.simple else [])
    rng = as_generator(seed)
    columns = {p.name: p.sample(rng, budget.random) for p in box}
    random_points = [{p.name: columns[p.name][i] for p in box} for i in range(budget.random)]
    batches = ([(margin, "grid", grid[i:i + budget.batch])
                for i in range(0, len(grid), budget.batch)]
               + [(margin, "simple", simple[i:i + budget.batch])
                  for i in range(0, len(simple), budget.batch)]
               + [(margin, "random", random_points[i:i + budget.batch])
                  for i in range(0, len(random_points), budget.batch)])
    bar = _progress_bar(progress, len(grid) + len(simple) + budget.random + budget.hypothesis
                        + budget.local_searches * budget.local_evaluations)
    try:
        with TaskRunner(spec) as runner:
            records = _run_phases(margin, box, seed, budget, batches, runner, folder, bar)
    finally:
        if bar is not None:
            bar.close()
    return _summarise(records, box, seed, budget, described)


def _run_phases(margin, box, seed: int, budget: Budget, batches: list, runner: TaskRunner,
                folder: Path | None, bar) -> list[dict]:
    """Phases 1-3 (batches and Hypothesis, in parallel), then 4 (local), then shrinking."""
    stage1 = _run_stage("sample", _evaluate_or_hypothesis,
                        [("batch", b) for b in batches]
                        + ([("hypothesis", (margin, box, seed, budget.hypothesis))]
                           if budget.hypothesis else []),
                        runner, folder, bar)
    records = [r for result in stage1 for r in result]
    sampled = [r for r in records if r["phase"] in ("grid", "simple", "random") and r["margin"] is not None]
    starts, seen = [], set()
    for r in sorted(sampled, key=lambda r: r["margin"]):
        key = json.dumps(r["point"], sort_keys=True)
        if len(starts) < budget.local_searches and key not in seen:
            seen.add(key)
            starts.append(r["point"])
    records += [r for result in _run_stage(
        "local", _local_search, [(margin, box, s, budget.local_evaluations) for s in starts],
        runner, folder, bar) for r in result]
    counter = [r for r in records if r["margin"] is not None and r["margin"] < 0]
    if counter and budget.shrink:
        worst = min(counter, key=lambda r: r["margin"])
        records += [r for result in _run_stage(
            "shrink", _shrink, [(margin, box, worst["point"], budget.shrink)],
            runner, folder, bar) for r in result]
    return records


def _evaluate_or_hypothesis(task) -> list[dict]:
    kind, payload = task
    return _evaluate_batch(payload) if kind == "batch" else hypothesis_search(*payload)


def _grid_points(axes: list[list], box) -> list[Point]:
    """The Cartesian product of the axes' values, as points."""
    mesh = np.meshgrid(*[np.arange(len(a)) for a in axes], indexing="ij")
    return [{p.name: axes[k][int(index[k])] for k, p in enumerate(box)}
            for index in zip(*[m.ravel() for m in mesh])]


def _progress_bar(progress: bool | None, total: int):
    if progress is None:
        progress = sys.stderr.isatty()
    if not progress:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="point", file=sys.stderr)


def _summarise(records: list[dict], box, seed: int, budget: Budget, described: dict):
    valid = [r for r in records if r["margin"] is not None]
    failures = [r for r in records if r["margin"] is None]
    if not valid:
        raise NumericalFailure(f"the margin failed at all {len(records)} points; first: "
                               f"{failures[0]['failure'] if failures else 'no points'}")
    worst = min(valid, key=lambda r: r["margin"])
    counter = [r for r in valid if r["margin"] < 0]
    simplest = min(counter, key=lambda r: complexity(r["point"], box)) if counter else None
    phases: dict[str, int] = {}
    for r in records:
        phases[r["phase"]] = phases.get(r["phase"], 0) + 1
    return ConjectureResult(
        holds=not counter,
        counterexample=None if simplest is None else simplest["point"],
        counterexample_margin=None if simplest is None else simplest["margin"],
        points=len(records), worst_margin=worst["margin"], worst_point=worst["point"],
        found_by=counter[0]["phase"] if counter else None,
        failures=len(failures), failure_examples=[r["failure"] for r in failures[:3]],
        phases=phases, seed=seed, parameters=described, budget=asdict(budget),
        evaluations=records)

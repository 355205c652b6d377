"""The search: the phases run in order on an executor, their records summarised.

See :mod:`numerics.shared.conjecture` for the phases; this module chooses where they run
(``executor="auto"``), stores finished tasks and writes the :class:`ConjectureResult`.
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from dataclasses import asdict
from pathlib import Path

from numerics.shared.conjecture.box import grid_points, parameter_box
from numerics.shared.conjecture.budget import BUDGETS, MAX_POINTS, Budget
from numerics.shared.conjecture.margins import (DEFAULT_ATOL, DEFAULT_RTOL, Margin,
                                                check_tolerance)
from numerics.shared.conjecture.phases import (complexity, local_search, sample_or_hypothesis,
                                               shrink, start_hypothesis_driver,
                                               stop_hypothesis_driver)
from numerics.shared.conjecture.result import PHASES, ConjectureResult
from numerics.shared.executor import (ExecutorSpec, TaskRunner, TimeLimitExceeded,
                                      parse_executor, unsendable_reason)
from numerics.shared.seeding import as_generator
from numerics.shared.storage import read_json, write_json
from theory.errors import InputError, NumericalFailure, TooLargeError, TTCError, check_int

__all__ = ["search_counterexample", "SerialFallbackWarning", "AUTO_POOL_SECONDS",
           "AUTO_PROBE_BATCHES"]

#: ``executor="auto"`` starts a process pool only when the points still to evaluate would take
#: longer than this serially. A spawned worker starts a fresh interpreter and imports the
#: margin's modules (about 1 s for numpy/scipy/sympy margins, 3-5 s when they import torch); two
#: workers at most halve the time, so the pool pays only when the serial time is at least twice
#: the start-up: 10 s leaves that margin for a torch-importing margin.
AUTO_POOL_SECONDS = 10.0
#: Batches ``auto`` times in this process before choosing (the cheapest one counts: the first
#: usually pays one-time costs such as an import or a cached derivation).
AUTO_PROBE_BATCHES = 3
#: Version of the records and of the store's layout (a store of another version is refused).
ENGINE = 2


class SerialFallbackWarning(UserWarning):
    """The margin cannot be sent to worker processes: the search runs in this process."""


def _warn_serial(label: str, why: str, stacklevel: int) -> None:
    warnings.warn(f"{label} cannot be sent to worker processes ({why}); the search runs in this "
                  "process (define it in an importable module to use a pool)",
                  SerialFallbackWarning, stacklevel=stacklevel)


def _margin_name(margin) -> str:
    module = getattr(margin, "__module__", None) or type(margin).__module__
    name = getattr(margin, "__qualname__", None) or type(margin).__qualname__
    return f"{module}.{name}"


def _refuse_while_a_worker_imports_main() -> None:
    """A spawned worker imports the main script; a search at its top level (no
    ``if __name__ == "__main__":``) would run again in every worker: refuse there."""
    import multiprocessing

    if getattr(multiprocessing.current_process(), "_inheriting", False):
        raise TTCError("search_counterexample was called while a worker process imported the "
                       "main script: start the search under `if __name__ == \"__main__\":`")


class _Execution:
    """Where the tasks run. ``auto`` runs the first batches here, timing them, then keeps
    running here or opens a pool for the rest (:data:`AUTO_POOL_SECONDS`)."""

    def __init__(self, spec: ExecutorSpec, reason: str, label: str, deadline: float | None,
                 total_points: int, unsendable: str | None = None):
        self.spec, self.reason, self.label = spec, reason, label
        self.unsendable = unsendable
        self.deadline, self.total = deadline, total_points
        self.decided = spec.kind != "auto"
        if spec.kind == "auto" and spec.workers < 2:
            self.spec, self.decided = ExecutorSpec("serial"), True
            self.reason = "auto: one core, no pool can pay"
        self.done = 0            # points evaluated so far (stored ones included)
        self.costs: list[float] = []
        self._runners: dict[str, TaskRunner] = {}

    def runner(self, spec: ExecutorSpec) -> TaskRunner:
        key = str(spec)
        if key not in self._runners:
            self._runners[key] = TaskRunner(spec, label=self.label, deadline=self.deadline)
        return self._runners[key]

    def close(self) -> None:
        for runner in self._runners.values():
            runner.__exit__(None, None, None)

    def _decide(self, force: bool) -> None:
        cost = min(self.costs) if self.costs else 0.0
        estimate = cost * max(self.total - self.done, 0)
        if not force and estimate > AUTO_POOL_SECONDS and len(self.costs) < AUTO_PROBE_BATCHES:
            return
        measured = f"{cost * 1e3:.3g} ms per point, about {estimate:.3g} s for the rest"
        if self.costs and estimate > AUTO_POOL_SECONDS and self.unsendable:
            _warn_serial(self.label, self.unsendable, stacklevel=6)
            self.spec = ExecutorSpec("serial")
            self.reason = (f"auto: {measured}, a pool would pay but the margin cannot be sent to "
                           f"worker processes: {self.unsendable}")
        elif self.costs and estimate > AUTO_POOL_SECONDS:
            self.spec = ExecutorSpec("local", self.spec.workers)
            self.reason = f"auto: {measured} > {AUTO_POOL_SECONDS:g} s, a pool pays"
        else:
            self.spec = ExecutorSpec("serial")
            self.reason = (f"auto: {measured} <= {AUTO_POOL_SECONDS:g} s, serial is faster"
                           if self.costs else "auto: nothing left to measure")
        self.decided = True

    def run(self, fn, tasks: list, sizes: list[int]):
        """Yield ``(index, result)`` for ``tasks`` (``sizes``: points per task, 0 unknown)."""
        todo = list(range(len(tasks)))
        serial = self.runner(ExecutorSpec("serial"))
        while not self.decided and todo and sizes[todo[0]]:
            i = todo.pop(0)
            start = time.perf_counter()
            for _, finished in serial.map(fn, [tasks[i]]):
                self.costs.append((time.perf_counter() - start) / len(finished))
                self.done += len(finished)
                yield i, finished
            self._decide(force=False)
        if not self.decided:
            self._decide(force=True)
        for j, finished in self.runner(self.spec).map(fn, [tasks[i] for i in todo]):
            self.done += len(finished)
            yield todo[j], finished


def _run_stage(name: str, fn, tasks: list, sizes: list[int], execution: _Execution,
               folder: Path | None, bar) -> list:
    """Run ``tasks`` (results loaded from ``folder`` when already there); results in task order."""
    results: list = [None] * len(tasks)
    todo = []
    for i in range(len(tasks)):
        stored = None if folder is None else read_json(folder / f"{name}-{i:05d}.json")
        if stored is None:
            todo.append(i)
        else:
            results[i] = stored
            execution.done += len(stored)
    for j, finished in execution.run(fn, [tasks[i] for i in todo], [sizes[i] for i in todo]):
        i = todo[j]
        results[i] = finished
        if folder is not None:
            write_json(folder / f"{name}-{i:05d}.json", finished)
        if bar is not None:
            bar.update(len(finished))
    return results


def search_counterexample(margin: Margin, parameters, *, seed: int = 0,
                          budget: Budget | str = "quick", executor="auto", store=None,
                          name: str = "", progress: bool | None = None,
                          atol: float | None = None, rtol: float | None = None,
                          timeout: float | None = None) -> ConjectureResult:
    """Look for a point of the box where the margin is negative beyond the tolerance.

    Parameters
    ----------
    margin : callable
        ``margin(point)``, ``point`` a dict ``name -> value``: a real number ``>= 0`` where the
        conjecture holds, or a pair ``(lhs, rhs)`` for a statement ``lhs >= rhs``. Any
        callable: a lambda, a closure, a function typed at the REPL or in a notebook (run in
        this process), or a module-level function (may run on worker processes).
    parameters : mapping or sequence of Parameter
        The box, e.g. ``{"S": (2, 5, "int"), "p": (0.02, 0.98)}`` (see :func:`parameter_box`).
    seed : int
        Seeds the random phase and Hypothesis; the result is a function of ``seed``, ``budget``
        and the tolerance, the same on every executor.
    budget : Budget or "quick" or "full"
        Each field at most :data:`BUDGET_LIMITS`; the whole search at most :data:`MAX_POINTS`
        evaluations (:meth:`Budget.points`), else :class:`TooLargeError`.
    executor : str, optional
        ``"auto"`` (default, also for None): serial unless the margin can be sent to worker processes and the
        cost per point measured on the first batches makes a pool pay
        (:data:`AUTO_POOL_SECONDS`); ``"serial"``, ``"local"``, ``"local:N"`` or
        ``"dask://HOST:PORT"`` (:mod:`numerics.shared.executor`). A margin that cannot be sent
        (:func:`~numerics.shared.executor.unsendable_reason`) runs serially with a
        :class:`SerialFallbackWarning`; ``result.executor`` says where the points ran.
    store : path, optional
        Folder for finished tasks; a rerun with the same configuration resumes from them.
    name : str
        The conjecture's name (recorded in the store's configuration).
    progress : bool, optional
        A progress bar on standard error (default: when it is a terminal).
    atol, rtol : float, optional
        A point is a counterexample only when its margin is below
        ``-max(atol, rtol * max(|lhs|, |rhs|))``. Default (None): ``atol = rtol = 1e-12`` for
        floating-point margin values, 0 for exact ones (int, Fraction, sympy Rational); see
        :mod:`numerics.shared.conjecture.margins` for why.
    timeout : float, optional
        Seconds the whole search may take (default: no limit). Past it the search stops with
        :class:`TTCError` (pool workers are killed; in this process the search stops between
        tasks); finished tasks stay in ``store``, so a rerun resumes.

    Returns
    -------
    ConjectureResult

    Raises
    ------
    InputError
        A bad box (NaN or infinite ends, ends beyond 1e15, low > high), seed, budget, executor,
        tolerance, timeout or store.
    TooLargeError
        The budget spends more than :data:`MAX_POINTS` evaluations on this box.
    NumericalFailure
        The margin failed at every point.
    TTCError
        A worker process died (:class:`~numerics.shared.executor.WorkerDied`, naming the
        margin), or the time limit passed.
    """
    started = time.perf_counter()
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
    atol, rtol = check_tolerance("atol", atol), check_tolerance("rtol", rtol)
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float))
                                or not 0 < timeout < float("inf")):
        raise InputError("timeout", timeout, "a number of seconds > 0, or None for no limit")
    total = budget.points(box)
    if total > MAX_POINTS:
        raise TooLargeError("budget", asdict(budget), f"at most {MAX_POINTS} evaluations on this "
                            f"box (this budget spends up to {total}: fewer grid points or "
                            f"fewer axes)")
    spec = parse_executor("auto" if executor is None else executor)
    if store is not None:
        from numerics.shared.storage import check_output_folder

        store = check_output_folder("store", store)
    _refuse_while_a_worker_imports_main()
    label = f"the margin {_margin_name(margin)}"
    reason = "" if spec.kind != "serial" else "asked for"
    unsendable = None if spec.kind == "serial" else unsendable_reason(margin, spec)
    if unsendable is not None and spec.kind != "auto":
        _warn_serial(label, unsendable, stacklevel=3)
        reason = f"the margin cannot be sent to worker processes: {unsendable}"
        spec = ExecutorSpec("serial")
    elif spec.kind not in ("serial", "auto"):
        reason = "asked for"

    described = {p.name: [p.low, p.high, "int" if p.integer else "real"] for p in box}
    config = {"name": name, "margin": _margin_name(margin), "parameters": described,
              "seed": seed, "budget": asdict(budget), "atol": atol, "rtol": rtol,
              "engine": ENGINE}
    folder = None
    if store is not None:
        folder = Path(store) / "tasks"
        saved = read_json(Path(store) / "config.json")
        if saved is not None and saved != config:
            raise InputError("store", str(store), "a folder holding this same search (its "
                             "config.json differs); use another folder")
        write_json(Path(store) / "config.json", config)

    deadline = None if timeout is None else time.monotonic() + timeout
    execution = _Execution(spec, reason, label, deadline, total, unsendable)
    bar = _progress_bar(progress, total)
    try:
        records = _run_phases(margin, box, seed, budget, (atol, rtol), execution, folder, bar)
    except TimeLimitExceeded:
        raise TTCError(f"the search of {label} passed its time limit of {timeout:g} s after "
                       f"{execution.done} points" + (f" (finished tasks are kept in {store}: "
                       "rerun to resume)" if store is not None else "")) from None
    finally:
        execution.close()
        if bar is not None:
            bar.close()
    return _summarise(records, box, seed, budget, described, (atol, rtol), execution,
                      time.perf_counter() - started)


def _run_phases(margin, box, seed: int, budget: Budget, tol: tuple, execution: _Execution,
                folder: Path | None, bar) -> list[dict]:
    """Phases 1-3 (batches, then Hypothesis), then 4 (local), then shrinking."""
    grid = grid_points([budget.axis_grid(p) for p in box], box)
    simple = grid_points([budget.axis_simple(p) for p in box], box) if budget.simple else []
    rng = as_generator(seed)
    columns = {p.name: p.sample(rng, budget.random) for p in box}
    random_points = [{p.name: columns[p.name][i] for p in box} for i in range(budget.random)]
    tasks = [("batch", (margin, phase, points[i:i + budget.batch], tol))
             for phase, points in (("grid", grid), ("simple", simple), ("random", random_points))
             for i in range(0, len(points), budget.batch)]
    sizes = [len(task[1][2]) for task in tasks]
    driver = None
    if budget.hypothesis:
        stored = folder is not None and (folder / f"sample-{len(tasks):05d}.json").exists()
        # its interpreter starts now: its imports overlap the batches (used if it runs here)
        here = execution.spec.kind in ("serial", "auto")
        driver = start_hypothesis_driver() if here and not stored else None
        tasks.append(("hypothesis", (margin, box, seed, budget.hypothesis, *tol, driver)))
        sizes.append(0)
    try:
        stage1 = _run_stage("sample", sample_or_hypothesis, tasks, sizes, execution, folder, bar)
    finally:
        stop_hypothesis_driver(driver)
    records = [r for result in stage1 for r in result]
    sampled = [r for r in records if r["phase"] in ("grid", "simple", "random")
               and r["margin"] is not None]
    starts, seen = [], set()
    for r in sorted(sampled, key=lambda r: r["margin"]):
        key = json.dumps(r["point"], sort_keys=True)
        if len(starts) < budget.local_searches and key not in seen:
            seen.add(key)
            starts.append(r["point"])
    local = [(margin, box, s, budget.local_evaluations, tol) for s in starts]
    records += [r for result in _run_stage("local", local_search, local, [0] * len(local),
                                           execution, folder, bar) for r in result]
    counter = [r for r in records if r["counterexample"]]
    if counter and budget.shrink:
        worst = min(counter, key=lambda r: r["margin"])
        records += [r for result in _run_stage(
            "shrink", shrink, [(margin, box, worst["point"], budget.shrink, tol)], [0],
            execution, folder, bar) for r in result]
    return records


def _progress_bar(progress: bool | None, total: int):
    if progress is None:
        progress = sys.stderr.isatty()
    if not progress:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="point", file=sys.stderr)


def _tolerance_text(kind: str, atol, rtol) -> tuple[float, float, str]:
    """The tolerance applied to floating-point values, and which one applied, in words."""
    float_atol = DEFAULT_ATOL if atol is None else atol
    float_rtol = DEFAULT_RTOL if rtol is None else rtol
    given = atol is not None or rtol is not None
    if kind == "exact" and not given:
        return 0.0, 0.0, "0: exact margin values, sign compared exactly (the default)"
    text = f"atol={float_atol:g}, rtol={float_rtol:g}"
    if given:
        return float_atol, float_rtol, text + " (given)"
    if kind == "mixed":
        return float_atol, float_rtol, text + " on floating-point values (the default), 0 on " \
                                              "exact ones"
    return float_atol, float_rtol, text + " (the default for floating-point margins)"


def _summarise(records: list[dict], box, seed: int, budget: Budget, described: dict,
               tol: tuple, execution: _Execution, seconds: float) -> ConjectureResult:
    valid = [r for r in records if r["margin"] is not None]
    failures = [r for r in records if r["margin"] is None]
    if not valid:
        raise NumericalFailure(f"the margin failed at all {len(records)} points; first: "
                               f"{failures[0]['failure'] if failures else 'no points'}")
    worst = min(valid, key=lambda r: r["margin"])
    counter = [r for r in valid if r["counterexample"]]
    simplest = min(counter, key=lambda r: complexity(r["point"], box)) if counter else None
    phases = dict.fromkeys(PHASES, 0)
    for r in records:
        phases[r["phase"]] += 1
    kinds = {bool(r["exact"]) for r in valid}
    kind = "mixed" if len(kinds) == 2 else ("exact" if kinds == {True} else "float")
    atol, rtol, text = _tolerance_text(kind, *tol)
    return ConjectureResult(
        holds=not counter,
        counterexample=None if simplest is None else simplest["point"],
        counterexample_margin=None if simplest is None else simplest["margin"],
        points=len(records), worst_margin=worst["margin"], worst_point=worst["point"],
        found_by=counter[0]["phase"] if counter else None,
        failures=len(failures), failure_examples=[r["failure"] for r in failures[:3]],
        phases=phases, seed=seed, parameters=described, budget=asdict(budget),
        grid_sizes={p.name: len(budget.axis_grid(p)) for p in box},
        atol=atol, rtol=rtol, margin_type=kind, tolerance=text,
        near_misses=sum(1 for r in valid if r["margin"] < 0 and not r["counterexample"]),
        executor=str(execution.spec), executor_reason=execution.reason,
        seconds=round(seconds, 3), evaluations=records)

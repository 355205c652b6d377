"""Where sweeps run: in this process, on a local process pool, or on a Dask distributed cluster.

A sweep is a list of independent tasks ``fn(item)`` (a batch of grid points, one local search, one
claim). :func:`run_tasks` hands them to an executor and yields ``(index, result)`` as each one
finishes, so the caller can store finished results at once and an interruption loses only the
tasks still running.

Executors are named by a string (the ``--executor`` option of the command line):

- ``"local"`` (default): a process pool on this machine, ``min(2, cpu_count)`` workers;
  ``"local:N"`` for ``N`` workers;
- ``"serial"``: in this process, one task after another (for debugging and tiny sweeps);
- ``"dask://HOST:PORT"``: the Dask distributed scheduler at that address (``pip install -e
  '.[dask]'``). The workers need this package installed and, for tasks that write files
  (``ttc reproduce``), the same output folder.

Every task runs with one BLAS/OpenMP/torch thread, on every executor, so a result does not depend
on where it ran: the local pool and a Dask cluster give the same numbers bit for bit (a reduction
split over a different number of threads changes the last bits).
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import get_context
from typing import Any, Callable, Iterator, Sequence

from numerics.shared.threads import limit_threads
from theory.errors import InputError

__all__ = ["ExecutorSpec", "TaskRunner", "parse_executor", "run_tasks"]


@dataclass(frozen=True)
class ExecutorSpec:
    """A parsed executor name: ``kind`` is ``"serial"``, ``"local"`` or ``"dask"``."""

    kind: str
    workers: int = 1
    address: str = ""

    def __str__(self) -> str:
        if self.kind == "dask":
            return f"dask://{self.address}"
        return "serial" if self.kind == "serial" else f"local:{self.workers}"


def parse_executor(spec: str | ExecutorSpec | None) -> ExecutorSpec:
    """Parse ``"serial"``, ``"local"``, ``"local:N"`` or ``"dask://HOST:PORT"`` (None: local)."""
    if isinstance(spec, ExecutorSpec):
        return spec
    expected = "'serial', 'local', 'local:N' (N >= 1) or 'dask://HOST:PORT'"
    if spec is None or spec == "local":
        return ExecutorSpec("local", min(2, os.cpu_count() or 1))
    if not isinstance(spec, str):
        raise InputError("executor", spec, expected)
    if spec == "serial":
        return ExecutorSpec("serial")
    if spec.startswith("local:"):
        count = spec.split(":", 1)[1]
        if not count.isdigit() or int(count) < 1:
            raise InputError("executor", spec, expected)
        return ExecutorSpec("local", int(count))
    if spec.startswith("dask://"):
        address = spec[len("dask://"):]
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit():
            raise InputError("executor", spec, expected)
        return ExecutorSpec("dask", address=address)
    raise InputError("executor", spec, expected)


def _call(fn: Callable[[Any], Any], item: Any) -> Any:
    with limit_threads(1):
        return fn(item)


class TaskRunner:
    """An executor kept open across several sweeps (one pool or one Dask client for all).

    Use as a context manager; :meth:`map` runs ``fn`` over ``items`` and yields ``(index,
    result)`` as tasks finish. The pool (or the connection) opens at the first :meth:`map` that
    needs it and closes on exit, so worker start-up is paid once per search, not once per phase.
    """

    def __init__(self, executor: str | ExecutorSpec | None = None):
        self.spec = parse_executor(executor)
        self._pool = None
        self._client = None

    def __enter__(self) -> "TaskRunner":
        return self

    def __exit__(self, *exc) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        if self._client is not None:
            self._client.close()

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        items = list(items)
        if not items:
            return
        if self.spec.kind == "serial" or (self.spec.kind == "local" and self.spec.workers == 1):
            for index, item in enumerate(items):
                yield index, _call(fn, item)
        elif self.spec.kind == "local":
            if self._pool is None:
                self._pool = ProcessPoolExecutor(max_workers=self.spec.workers,
                                                 mp_context=get_context("spawn"))
            futures = {self._pool.submit(_call, fn, item): i for i, item in enumerate(items)}
            try:
                for future in as_completed(futures):
                    yield futures[future], future.result()
            finally:
                for future in futures:
                    future.cancel()
        else:
            yield from self._map_on_dask(fn, items)

    def _map_on_dask(self, fn, items) -> Iterator[tuple[int, Any]]:
        from distributed import as_completed as dask_completed

        if self._client is None:
            self._client = _dask_client(self.spec.address)
        futures = self._client.map(_call, [fn] * len(items), items, pure=False)
        index = {future.key: i for i, future in enumerate(futures)}
        try:
            for future in dask_completed(futures):
                yield index[future.key], future.result()
        finally:
            self._client.cancel(futures)


def run_tasks(fn: Callable[[Any], Any], items: Sequence[Any],
              executor: str | ExecutorSpec | None = None) -> Iterator[tuple[int, Any]]:
    """Run ``fn(item)`` for every item on ``executor``; yield ``(index, result)`` as they finish.

    ``fn`` must be a module-level function (it is pickled to the workers). An exception raised by
    a task is raised here, in the caller, when that task's turn comes; results already yielded
    stay with the caller. For several sweeps in a row, keep one :class:`TaskRunner` open instead.
    """
    items = list(items)
    spec = parse_executor(executor)
    if spec.kind == "local" and len(items) == 1:
        spec = ExecutorSpec("serial")
    with TaskRunner(spec) as runner:
        yield from runner.map(fn, items)


def _dask_client(address: str):
    try:
        from distributed import Client
    except ImportError:
        raise InputError("executor", f"dask://{address}",
                         "an installed Dask (pip install -e '.[dask]')") from None
    try:
        return Client(address, timeout="10s")
    except OSError as exc:
        raise InputError("executor", f"dask://{address}",
                         f"a reachable Dask scheduler ({exc})") from None

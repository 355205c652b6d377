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
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import get_context
from typing import Any, Callable, Iterator, Sequence

from theory.errors import InputError

__all__ = ["ExecutorSpec", "parse_executor", "run_tasks", "single_threaded"]


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


def single_threaded() -> None:
    """One thread for BLAS, OpenMP and (when it is loaded) torch in this process."""
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = "1"
    if "torch" in sys.modules:  # never imported here: numerics does not depend on torch
        sys.modules["torch"].set_num_threads(1)


def _call(fn: Callable[[Any], Any], item: Any) -> Any:
    single_threaded()
    return fn(item)


def run_tasks(fn: Callable[[Any], Any], items: Sequence[Any],
              executor: str | ExecutorSpec | None = None) -> Iterator[tuple[int, Any]]:
    """Run ``fn(item)`` for every item on ``executor``; yield ``(index, result)`` as they finish.

    ``fn`` must be a module-level function (it is pickled to the workers). An exception raised by
    a task is raised here, in the caller, when that task's turn comes; results already yielded
    stay with the caller.
    """
    spec = parse_executor(executor)
    items = list(items)
    if not items:
        return
    if spec.kind == "serial" or (spec.kind == "local" and (spec.workers == 1 or len(items) == 1)):
        for index, item in enumerate(items):
            yield index, _call(fn, item)
    elif spec.kind == "local":
        with ProcessPoolExecutor(max_workers=min(spec.workers, len(items)),
                                 mp_context=get_context("spawn")) as pool:
            futures = {pool.submit(_call, fn, item): index for index, item in enumerate(items)}
            try:
                for future in as_completed(futures):
                    yield futures[future], future.result()
            finally:
                for future in futures:
                    future.cancel()
    else:
        yield from _run_on_dask(fn, items, spec.address)


def _run_on_dask(fn, items, address: str) -> Iterator[tuple[int, Any]]:
    try:
        from distributed import Client, as_completed as dask_completed
    except ImportError:
        raise InputError("executor", f"dask://{address}",
                         "an installed Dask (pip install -e '.[dask]')") from None
    try:
        client = Client(address, timeout="10s")
    except OSError as exc:
        raise InputError("executor", f"dask://{address}",
                         f"a reachable Dask scheduler ({exc})") from None
    try:
        futures = client.map(_call, [fn] * len(items), items, pure=False)
        index = {future.key: i for i, future in enumerate(futures)}
        for future in dask_completed(futures):
            yield index[future.key], future.result()
    finally:
        client.close()

"""Where sweeps run: in this process, on a local process pool, or on a Dask distributed cluster.

A sweep is a list of independent tasks ``fn(item)`` (a batch of grid points, one local search, one
claim). :func:`run_tasks` hands them to an executor and yields ``(index, result)`` as each one
finishes, so the caller can store finished results at once and an interruption loses only the
tasks still running.

Executors are named by a string (the ``--executor`` option of the command line):

- ``"local"`` (default): a process pool on this machine, ``min(2, cpu_count)`` workers;
  ``"local:N"`` for ``N`` workers;
- ``"auto"``: the caller chooses between ``serial`` and ``local`` (the conjecture search measures
  the cost per point first, :mod:`numerics.shared.conjecture`); a plain :class:`TaskRunner`
  treats it as ``local``;
- ``"serial"``: in this process, one task after another (for debugging and tiny sweeps);
- ``"dask://HOST:PORT"`` (or ``"dask://tcp://HOST:PORT"``): the Dask distributed scheduler at
  that address (``pip install -e '.[dask]'``); HOST a host name or an IPv4 literal, or an IPv6
  literal in brackets (``dask://[::1]:8786``), PORT in 1..65535. ``"dask://tls://HOST:PORT"``
  needs a TLS configuration in Dask's config (``distributed.comm.tls.ca-file`` and
  ``distributed.comm.tls.client.cert``, plus ``client.key`` unless the certificate file holds
  the key). The workers need this package installed and, for tasks that write files
  (``ttc reproduce``), the same output folder.

Every refusal is an :class:`~theory.errors.InputError` naming ``executor``.

Nothing waits forever: a pool worker that dies (killed, out of memory, ``os._exit``, a task
that cannot be unpickled) is a :class:`WorkerDied` error naming what was running; a
``deadline`` passed to :class:`TaskRunner` stops the work (:class:`TimeLimitExceeded`, pool
workers killed). :func:`unsendable_reason` says beforehand whether an object (a margin, a
callable) can reach a worker process at all: a lambda, a closure or a function defined in the
``__main__`` of a REPL, of standard input or of a notebook cannot.

Local pool workers die with the process that started them, even when it is killed with SIGKILL
(Linux: ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` in the worker initializer; elsewhere a watchdog
thread polls the parent's process id), so a killed run leaves no worker behind and no worker
writes a file after its parent died. The pool starts at most ``os.cpu_count()`` processes
(``local:N`` with more only queues the tasks: results do not depend on the number of workers).

Every task runs with one BLAS/OpenMP/torch thread, on every executor, so a result does not depend
on where it ran: the local pool and a Dask cluster give the same numbers bit for bit (a reduction
split over a different number of threads changes the last bits).
"""

from __future__ import annotations

import contextlib
import io
import ipaddress
import os
import pickle
import re
import signal
import sys
import threading
import time
import types
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures import TimeoutError as FuturesTimeout
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from numerics.shared.threads import limit_threads
from theory.errors import InputError, TTCError

__all__ = ["ExecutorSpec", "TaskRunner", "parse_executor", "run_tasks", "die_with_parent",
           "unsendable_reason", "WorkerDied", "TimeLimitExceeded", "MAX_LOCAL_WORKERS",
           "CONNECT_TIMEOUT"]

#: Seconds to wait for a Dask scheduler before refusing its address (a command refuses an
#: unreachable scheduler within 10 s).
CONNECT_TIMEOUT = 5
#: Most workers ``local:N`` accepts (each worker is a Python process of 100-400 MB).
MAX_LOCAL_WORKERS = 256
#: Linux ``prctl`` option: the signal sent to this process when its parent dies.
_PR_SET_PDEATHSIG = 1
#: Seconds between two looks at the parent's process id (the watchdog of non-Linux systems).
_WATCHDOG_PERIOD = 0.2
_EXPECTED = ("'auto', 'serial', 'local', 'local:N' (N in 1..256), 'dask://HOST:PORT', "
             "'dask://tcp://HOST:PORT' or 'dask://tls://HOST:PORT' (HOST a host name, an IPv4 "
             "address or [IPv6], PORT in 1..65535)")
_HOST_LABEL = re.compile(r"(?!-)[A-Za-z0-9_-]{1,63}(?<!-)")
_LOCAL = re.compile(r"local:([0-9]{1,6})")


@dataclass(frozen=True)
class ExecutorSpec:
    """A parsed executor name: ``kind`` is ``"serial"``, ``"local"``, ``"auto"`` (``workers``:
    the pool it may start) or ``"dask"``."""

    kind: str
    workers: int = 1
    address: str = ""

    def __str__(self) -> str:
        if self.kind == "dask":
            return f"dask://{self.address}"
        if self.kind == "auto":
            return "auto"
        return "serial" if self.kind == "serial" else f"local:{self.workers}"


def parse_executor(spec: str | ExecutorSpec | None) -> ExecutorSpec:
    """Parse ``"auto"``, ``"serial"``, ``"local"``, ``"local:N"`` or a Dask address (None:
    local).

    Dask addresses: ``"dask://HOST:PORT"``, ``"dask://tcp://HOST:PORT"`` and
    ``"dask://tls://HOST:PORT"`` (the last only with a TLS configuration in Dask's config, see
    the module docstring). Nothing is contacted here; an unreachable scheduler is refused when
    the first task is sent.

    Raises
    ------
    InputError
        Naming ``executor``: anything else, ``local:0``, ``local:N`` with N > 256, a malformed
        host or port, ``tls://`` without its configuration.
    """
    if isinstance(spec, ExecutorSpec):
        return spec
    if spec is None or spec == "local":
        return ExecutorSpec("local", min(2, os.cpu_count() or 1))
    if not isinstance(spec, str):
        raise InputError("executor", spec, _EXPECTED)
    if spec == "serial":
        return ExecutorSpec("serial")
    if spec == "auto":
        return ExecutorSpec("auto", min(2, os.cpu_count() or 1))
    match = _LOCAL.fullmatch(spec)
    if match is not None:
        count = int(match.group(1))
        if not 1 <= count <= MAX_LOCAL_WORKERS:
            raise InputError("executor", spec, f"local:N with N in 1..{MAX_LOCAL_WORKERS}")
        return ExecutorSpec("local", count)
    if spec.startswith("dask://"):
        address = spec[len("dask://"):]
        scheme, _, rest = address.rpartition("://")
        if scheme not in ("", "tcp", "tls"):
            raise InputError("executor", spec, f"a Dask address with the scheme tcp:// or tls:// "
                                               f"(not {scheme}://)")
        _check_host_port(spec, rest)
        if scheme == "tls":
            _check_tls_config(spec)
        return ExecutorSpec("dask", address=address)
    raise InputError("executor", spec, _EXPECTED)


def _check_host_port(spec: str, text: str) -> None:
    """``text`` is ``HOST:PORT`` (HOST a host name or IPv4 address) or ``[IPv6]:PORT``."""
    if text.startswith("["):
        host, sep, port = text[1:].partition("]:")
        try:
            ok = bool(sep) and isinstance(ipaddress.ip_address(host), ipaddress.IPv6Address)
        except ValueError:
            ok = False
        if not ok:
            raise InputError("executor", spec, "an IPv6 scheduler address as [ADDRESS]:PORT, "
                                               "e.g. dask://[::1]:8786")
    else:
        host, sep, port = text.rpartition(":")
        if not sep or not _valid_host(host):
            raise InputError("executor", spec, "a scheduler address HOST:PORT, HOST a host name "
                                               "or an IPv4 address (IPv6 in brackets)")
    if not re.fullmatch(r"[0-9]{1,5}", port) or not 1 <= int(port) <= 65535:
        raise InputError("executor", spec, "a port in 1..65535 after the host")


def _valid_host(host: str) -> bool:
    """A host name (labels of letters, digits, '-' and '_', at most 253 characters) or a
    dotted IPv4 address; a name of digits and dots only must be a valid IPv4 address."""
    if not host or len(host) > 253:
        return False
    if re.fullmatch(r"[0-9.]+", host):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            return False
        return True
    return all(_HOST_LABEL.fullmatch(label) for label in host.split("."))


def _check_tls_config(spec: str) -> None:
    """A ``tls://`` address needs Dask's TLS configuration (CA file, client certificate), and
    the files it names must exist."""
    try:
        import dask
    except ImportError:
        raise InputError("executor", spec, "an installed Dask (pip install -e '.[dask]')") from None
    tls = dask.config.get("distributed.comm.tls", default={}) or {}
    client = tls.get("client") or {}
    files = {"distributed.comm.tls.ca-file": tls.get("ca-file"),
             "distributed.comm.tls.client.cert": client.get("cert")}
    missing = [key for key, value in files.items() if not value]
    if missing:
        raise InputError("executor", spec, "a TLS configuration in Dask's config for a tls:// "
                                           f"address: set {' and '.join(missing)} (and "
                                           "distributed.comm.tls.client.key unless the "
                                           "certificate file holds the key)")
    if client.get("key"):
        files["distributed.comm.tls.client.key"] = client["key"]
    for key, value in files.items():
        if not Path(str(value)).is_file():
            raise InputError("executor", spec, f"an existing file for {key} (got {value!r})")


def _call(fn: Callable[[Any], Any], item: Any) -> Any:
    with limit_threads(1):
        return fn(item)


def die_with_parent(parent: int | None = None) -> None:
    """Make this process die as soon as its parent does, SIGKILL of the parent included.

    Linux: ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` (the kernel kills this process when the thread
    that started it ends); elsewhere, or when ``prctl`` is not available, a daemon thread looks
    at ``os.getppid()`` every 0.2 s and ends the process when it changes. The pool workers'
    initializer; also called by the Hypothesis phase's interpreter.

    Parameters
    ----------
    parent : int, optional
        The process id the parent had when this process was started (default: the current
        parent). When it differs already (the parent died before this call), the process ends
        at once.
    """
    parent = os.getppid() if parent is None else parent
    armed = False
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            armed = libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
        except (OSError, AttributeError):
            armed = False
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)
    if not armed:
        def watch() -> None:
            import time

            while os.getppid() == parent:
                time.sleep(_WATCHDOG_PERIOD)
            os._exit(1)

        threading.Thread(target=watch, name="ttc-parent-watchdog", daemon=True).start()


class WorkerDied(TTCError):
    """A pool worker process ended while it ran a task (killed, out of memory, ``os._exit``, or
    the task could not be unpickled there): the message names what was running."""


class TimeLimitExceeded(TTCError):
    """The work passed its deadline (tasks already finished are kept by the caller)."""


class _MainReferences(pickle.Pickler):
    """A pickler that records the functions and classes it pickles by reference to ``__main__``."""

    def __init__(self, file):
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.main_names: list[str] = []

    def reducer_override(self, obj):
        if isinstance(obj, (type, types.FunctionType)) \
                and getattr(obj, "__module__", None) == "__main__":
            self.main_names.append(getattr(obj, "__qualname__", repr(obj)))
        return NotImplemented


def unsendable_reason(obj: Any, executor: str | ExecutorSpec | None = "local") -> str | None:
    """Why ``obj`` cannot reach a worker process of ``executor``, or None when it can.

    A local pool starts its workers with ``spawn``: they receive ``obj`` pickled (standard
    :mod:`pickle`) and import every function and class it refers to by name. So ``obj`` cannot
    be sent when it does not pickle (a lambda, a closure, a local class), or when it refers to
    ``__main__`` while ``__main__`` is not a file a worker can import (a REPL, ``python -``,
    ``python -c``, a notebook). A function of a script's ``__main__`` can be sent: the workers
    import the script (Python's rule: start the work under ``if __name__ == "__main__":``).
    Dask pickles functions with cloudpickle, which sends lambdas and ``__main__`` functions by
    value. ``"serial"`` sends nothing: always None.
    """
    spec = parse_executor(executor)
    if spec.kind == "serial":
        return None
    if spec.kind == "dask":
        try:
            import cloudpickle

            cloudpickle.dumps(obj)
        except ImportError:
            pass
        except Exception as exc:  # noqa: BLE001 -- any pickling failure is the answer
            return f"it cannot be pickled ({type(exc).__name__}: {exc})"
        else:
            return None
    pickler = _MainReferences(io.BytesIO())
    try:
        pickler.dump(obj)
    except Exception as exc:  # noqa: BLE001 -- PicklingError, AttributeError, TypeError...
        return f"it cannot be pickled ({type(exc).__name__}: {str(exc)[:200]})"
    if pickler.main_names:
        main = sys.modules.get("__main__")
        path = getattr(main, "__file__", None)
        if not path or not Path(path).is_file():
            return (f"it refers to {pickler.main_names[0]!r} of __main__, which worker processes "
                    "cannot import (defined in a REPL, standard input or a notebook)")
    return None


@contextlib.contextmanager
def _spawnable_main():
    """Let spawned workers start when ``__main__`` names a file that does not exist (``python -``
    reads standard input: ``__file__`` is ``"<stdin>"``): a worker would try to run that file
    and die. The name is hidden while workers start, so they skip ``__main__`` as they do for
    an interactive session (its functions cannot be sent anyway: :func:`unsendable_reason`)."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    spec = getattr(main, "__spec__", None)
    if path is None or spec is not None or Path(path).is_file():
        yield
        return
    del main.__file__
    try:
        yield
    finally:
        main.__file__ = path


class TaskRunner:
    """An executor kept open across several sweeps (one pool or one Dask client for all).

    Use as a context manager; :meth:`map` runs ``fn`` over ``items`` and yields ``(index,
    result)`` as tasks finish. The pool (or the connection) opens at the first :meth:`map` that
    needs it and closes on exit, so worker start-up is paid once per search, not once per phase.

    Parameters
    ----------
    executor : str or ExecutorSpec, optional
        See :func:`parse_executor` (``"auto"`` runs as ``"local"`` here).
    label : str
        What the tasks compute, for error messages (e.g. ``"the margin mymodule.f"``).
    deadline : float, optional
        A :func:`time.monotonic` time: past it, :meth:`map` raises :class:`TimeLimitExceeded`
        (pool workers are killed; a task running in this process is stopped between tasks).
    """

    def __init__(self, executor: str | ExecutorSpec | None = None, *, label: str = "a task",
                 deadline: float | None = None):
        self.spec = parse_executor(executor)
        self.label = label
        self.deadline = deadline
        self._pool = None
        self._client = None

    def __enter__(self) -> "TaskRunner":
        return self

    def __exit__(self, *exc) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        if self._client is not None:
            self._client.close()

    def _check_deadline(self) -> None:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise TimeLimitExceeded(f"time limit reached while running {self.label}")

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        items = list(items)
        if not items:
            return
        if self.spec.kind == "serial" or (self.spec.kind in ("local", "auto")
                                          and self.spec.workers == 1):
            for index, item in enumerate(items):
                self._check_deadline()
                yield index, _call(fn, item)
        elif self.spec.kind in ("local", "auto"):
            yield from self._map_on_pool(fn, items)
        else:
            yield from self._map_on_dask(fn, items)

    def _map_on_pool(self, fn, items) -> Iterator[tuple[int, Any]]:
        if self._pool is None:
            workers = min(self.spec.workers, os.cpu_count() or 1)
            self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"),
                                             initializer=die_with_parent,
                                             initargs=(os.getpid(),))
        with _spawnable_main():  # the workers start at the first submit
            futures = {self._pool.submit(_call, fn, item): i for i, item in enumerate(items)}
        timeout = None if self.deadline is None else max(0.0, self.deadline - time.monotonic())
        try:
            for future in as_completed(futures, timeout=timeout):
                yield futures[future], future.result()
        except BrokenProcessPool:
            self._kill_pool()
            raise WorkerDied(f"a worker process died while running {self.label} (killed, out of "
                             "memory, or it exited; a function defined in a script must be "
                             "started under `if __name__ == \"__main__\":`); rerun with "
                             "executor='serial' to see the error in this process") from None
        except FuturesTimeout:
            self._kill_pool()
            raise TimeLimitExceeded(f"time limit reached while running {self.label}") from None
        finally:
            for future in futures:
                future.cancel()

    def _kill_pool(self) -> None:
        """End the pool now: its running workers are killed, not awaited."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        for process in list(getattr(pool, "_processes", {}).values()):  # no public way in 3.11
            try:
                process.kill()
            except (OSError, AttributeError):
                pass
        pool.shutdown(wait=False, cancel_futures=True)

    def _map_on_dask(self, fn, items) -> Iterator[tuple[int, Any]]:
        from distributed import as_completed as dask_completed

        if self._client is None:
            self._client = _dask_client(self.spec.address)
        futures = self._client.map(_call, [fn] * len(items), items, pure=False)
        index = {future.key: i for i, future in enumerate(futures)}
        try:
            for future in dask_completed(futures):
                self._check_deadline()
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
    if spec.kind in ("local", "auto") and len(items) == 1:
        spec = ExecutorSpec("serial")
    with TaskRunner(spec) as runner:
        yield from runner.map(fn, items)


def _dask_client(address: str):
    try:
        from distributed import Client
    except ImportError:
        raise InputError("executor", f"dask://{address}",
                         "an installed Dask (pip install -e '.[dask]')") from None
    security = None
    if address.startswith("tls://"):
        from distributed.security import Security

        security = Security()  # from Dask's config, checked by parse_executor
    try:
        return Client(address, timeout=f"{CONNECT_TIMEOUT}s", security=security)
    except (OSError, TypeError, ValueError) as exc:  # unreachable, or refused by TLS
        raise InputError("executor", f"dask://{address}",
                         f"a reachable Dask scheduler ({type(exc).__name__}: {exc})") from None

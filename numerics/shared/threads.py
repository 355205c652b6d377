"""The one mechanism for thread counts: :func:`limit_threads`, a context manager that sets the
torch intra-op thread count (when torch is loaded), the thread pools of the BLAS and OpenMP
libraries already loaded (threadpoolctl: numpy's OpenBLAS reads its environment variable only
when it loads) and the BLAS/OpenMP environment variables (for libraries loaded inside the
block), and restores all three on exit.

Claims, conjecture tasks and training commands run with one thread: the tensors are small, two
claims share the two cores, and one thread makes results reproducible to the bit on every
executor. Numerics never imports torch; a caller in the validation layer imports it first.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from typing import Iterator

from threadpoolctl import threadpool_limits

from theory.errors import check_int

__all__ = ["limit_threads", "THREAD_VARIABLES", "MAX_THREADS"]

#: Most threads :func:`limit_threads` sets.
MAX_THREADS = 1024

#: Environment variables read by OpenMP, OpenBLAS and MKL when they load.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@contextmanager
def limit_threads(threads: int | None = 1) -> Iterator[None]:
    """Run the block with ``threads`` torch, BLAS and OpenMP threads, then restore them.

    Parameters
    ----------
    threads : int in [1, 1024], or None to leave everything as it is.

    Examples
    --------
    >>> with limit_threads(1):
    ...     pass  # torch.get_num_threads() == 1 here when torch is loaded
    """
    if threads is None:
        yield
        return
    check_int("threads", threads, 1, MAX_THREADS)
    saved_env = {name: os.environ.get(name) for name in THREAD_VARIABLES}
    torch = sys.modules.get("torch")
    saved_torch = torch.get_num_threads() if torch is not None else None
    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)
    if torch is not None:
        torch.set_num_threads(threads)
    try:
        with threadpool_limits(threads):
            yield
    finally:
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        if torch is not None:
            torch.set_num_threads(saved_torch)

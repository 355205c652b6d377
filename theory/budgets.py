"""The machine budgets every size guard checks against, written once: 2 GiB of memory per call
(the specification's "nothing above 2 GB by default"), and a number of operations that a paper
sets for its long computations. A guard estimates from the arguments *before* allocating and
raises :class:`~theory.errors.TooLargeError` naming the argument, its value and the limit."""

from __future__ import annotations

import math

from theory.errors import TooLargeError

__all__ = ["GIB", "MEMORY_BUDGET", "check_memory", "check_work"]

GIB = 2**30
#: Largest estimated peak memory of one call, bytes.
MEMORY_BUDGET = 2 * GIB


def _size(value: float) -> str:
    return f"{value / GIB:.3g} GiB" if value >= 2**20 else f"{value:.0f} bytes"


def check_memory(name: str, value, estimate: float, what: str = "") -> None:
    """Raise :class:`TooLargeError` naming ``name`` and ``value`` when ``estimate`` (bytes, of
    ``what``) exceeds :data:`MEMORY_BUDGET` or is not finite."""
    if not math.isfinite(estimate) or estimate > MEMORY_BUDGET:
        raise TooLargeError(name, value, f"a size whose {what or 'memory'} fits in "
                                         f"{MEMORY_BUDGET // GIB} GiB (estimated {_size(estimate)})")


def check_work(name: str, value, operations: float, what: str = "", *, budget: float) -> None:
    """Raise :class:`TooLargeError` naming ``name`` and ``value`` when ``operations`` (an
    estimate for ``what``) exceeds ``budget`` or is not finite."""
    if not math.isfinite(operations) or operations > budget:
        raise TooLargeError(name, value, f"a size whose {what or 'work'} stays below {budget:.0e} "
                                         f"operations (estimated {operations:.3g})")

"""The project's one exception hierarchy, and the argument checks every layer shares.

Every layer raises these; the command line turns :class:`InputError` (and its subclasses)
into one ``error: ...`` line with exit status 2.

- :class:`TTCError` -- base of everything the library raises on purpose.
- :class:`InputError` -- a bad argument: names the argument, the value and what was expected.
- :class:`TooLargeError` -- a problem too large for the exact path (enumeration, exact arithmetic).
- :class:`NumericalFailure` -- divergence, NaN, a solver that did not converge. Never returned
  as a number.
"""

from __future__ import annotations

import math
from fractions import Fraction
from numbers import Integral, Real

__all__ = [
    "TTCError",
    "InputError",
    "TooLargeError",
    "NumericalFailure",
    "check_open_unit",
    "check_int",
    "check_nonnegative_int",
    "check_finite",
    "check_choice",
]


class TTCError(Exception):
    """Base class of every error the library raises on purpose."""


class InputError(TTCError, ValueError):
    """A bad argument. The message names the argument, its value and what was expected."""

    def __init__(self, name: str, value: object, expected: str):
        self.name, self.value, self.expected = name, value, expected
        super().__init__(f"{name}={value!r} is invalid: expected {expected}")

    def __reduce__(self):  # survives pickling, e.g. from a worker process back to the caller
        return type(self), (self.name, self.value, self.expected)


class TooLargeError(InputError):
    """The exact path (enumeration, exact arithmetic) refuses a problem of this size."""


class NumericalFailure(TTCError, RuntimeError):
    """A computation failed numerically (divergence, NaN, no convergence)."""


def _is_real(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (Real, Fraction)):
        return True
    # sympy numbers are not registered as numbers.Real; accept anything float() takes exactly.
    return hasattr(value, "is_real") and bool(getattr(value, "is_number", False)) and bool(value.is_real)


def check_finite(name: str, value: object) -> None:
    """Raise :class:`InputError` unless ``value`` is a finite real number."""
    if not _is_real(value) or not math.isfinite(float(value)):
        raise InputError(name, value, "a finite real number")


def check_open_unit(name: str, value: object) -> None:
    """Raise :class:`InputError` unless ``0 < value < 1`` (a probability strictly inside (0, 1))."""
    check_finite(name, value)
    if not 0 < value < 1:
        raise InputError(name, value, "a probability strictly between 0 and 1")


def check_int(name: str, value: object, minimum: int, maximum: int | None = None) -> None:
    """Raise :class:`InputError` unless ``value`` is an integer in ``[minimum, maximum]``."""
    ok = isinstance(value, Integral) and not isinstance(value, bool)
    ok = ok and value >= minimum and (maximum is None or value <= maximum)
    if not ok:
        upper = "" if maximum is None else f" and <= {maximum}"
        raise InputError(name, value, f"an integer >= {minimum}{upper}")


def check_nonnegative_int(name: str, value: object) -> None:
    """Raise :class:`InputError` unless ``value`` is an integer >= 0."""
    check_int(name, value, 0)


def check_choice(name: str, value: object, choices) -> None:
    """Raise :class:`InputError` unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise InputError(name, value, "one of " + ", ".join(map(repr, choices)))

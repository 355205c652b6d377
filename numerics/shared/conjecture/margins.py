"""One evaluation of a margin, and when it counts as a counterexample (the tolerance).

A margin returns a real number, ``>= 0`` where the conjecture holds; or a pair ``(lhs, rhs)``
for a statement ``lhs >= rhs`` (the margin is ``lhs - rhs``, and ``rtol`` is relative to
``max(|lhs|, |rhs|)``). A point is a **counterexample** only when

.. math::  \\text{margin} < -\\max(\\text{atol}, \\text{rtol} \\cdot \\text{scale}),

``scale = max(|lhs|, |rhs|)`` for a pair, 0 for a single number. The default tolerance depends
on what the margin returns:

- **floating-point** (``float``, numpy floats, sympy ``Float``): ``atol = rtol = 1e-12``
  (:data:`DEFAULT_ATOL`, :data:`DEFAULT_RTOL`). Margins are meant to be scale-free (divided by
  the size of what they compare, so ``|margin| <= ~1``); float64 rounding through the few
  hundred operations of a typical margin is ~1e-14, so a margin of ``-2.2e-16`` where both sides
  are exactly equal is rounding, not evidence. 1e-12 is a hundred times that rounding and far
  below the margins of the real counterexamples of the named checks (``|margin| >= 1e-5``).
- **exact** (``int``, :class:`fractions.Fraction`, sympy ``Integer``/``Rational``): 0, the sign
  is exact (compared before any conversion to float).

An ``atol`` or ``rtol`` given explicitly applies to every point, exact or not.
"""

from __future__ import annotations

import math
from fractions import Fraction
from numbers import Integral, Real
from typing import Any, Callable

from theory.errors import InputError, NumericalFailure
from theory.results import result

__all__ = ["MarginValue", "evaluate_margin", "evaluation_record", "check_tolerance",
           "tolerances", "DEFAULT_ATOL", "DEFAULT_RTOL", "Margin"]

Margin = Callable[[dict], Any]

#: Default absolute tolerance of floating-point margins (see the module docstring).
DEFAULT_ATOL = 1e-12
#: Default relative tolerance of floating-point ``(lhs, rhs)`` margins.
DEFAULT_RTOL = 1e-12


@result
class MarginValue:
    """One evaluation of a margin.

    Attributes
    ----------
    margin : float or None
        The finite margin (``lhs - rhs`` for a pair), None when it could not be computed.
    failure : str or None
        Why it could not be computed (the NumericalFailure's message, or the value returned),
        None when ``margin`` is a number.
    exact : bool
        The margin was an exact number (int, Fraction, sympy Rational): its sign is exact and
        the default tolerance is 0.
    counterexample : bool
        ``margin < -max(atol, rtol * scale)`` (decided on the exact value when ``exact``).
    """

    margin: float | None
    failure: str | None
    exact: bool = False
    counterexample: bool = False


def check_tolerance(name: str, value) -> float | None:
    """``value`` (None: the default) if it is a finite real number >= 0, else InputError."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value) \
            or value < 0:
        raise InputError(name, value, "a finite number >= 0, or None for the default")
    return float(value)


def tolerances(exact: bool, atol: float | None, rtol: float | None) -> tuple[float, float]:
    """The ``(atol, rtol)`` applied to a margin value: given values, else the defaults (0 for
    exact values, :data:`DEFAULT_ATOL`/:data:`DEFAULT_RTOL` for floating-point ones)."""
    if atol is None:
        atol = 0.0 if exact else DEFAULT_ATOL
    if rtol is None:
        rtol = 0.0 if exact else DEFAULT_RTOL
    return atol, rtol


def _exact(value) -> Fraction | None:
    """``value`` as a Fraction when it is an exact number (not a bool), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (Integral, Fraction)):
        return Fraction(value)
    numerator, denominator = getattr(value, "p", None), getattr(value, "q", None)
    if getattr(value, "is_Rational", False) and isinstance(numerator, int) \
            and isinstance(denominator, int):
        return Fraction(numerator, denominator)  # sympy Integer / Rational
    return None


def _real(value) -> float:
    """``value`` as a float (TypeError/ValueError/OverflowError otherwise; no strings)."""
    if isinstance(value, (str, bytes, bool)):
        raise TypeError("not a real number")
    return float(value)


def evaluate_margin(margin: Margin, point: dict, atol: float | None = None,
                    rtol: float | None = None) -> MarginValue:
    """``margin(point)`` as a :class:`MarginValue`: the number and whether it is a
    counterexample under the tolerance (module docstring), or why there is no number (a
    :class:`theory.errors.NumericalFailure` or an ``ArithmeticError`` such as a division by
    zero, a non-finite value, or a value that is neither a real number nor a ``(lhs, rhs)``
    pair of them)."""
    try:
        raw = margin(dict(point))
    except (NumericalFailure, ArithmeticError) as exc:
        return MarginValue(None, f"{type(exc).__name__}: {exc}")
    sides = raw if isinstance(raw, tuple) and len(raw) == 2 else (raw,)
    exact = [_exact(v) for v in sides]
    try:
        if all(v is not None for v in exact):
            value = exact[0] - exact[1] if len(exact) == 2 else exact[0]
            scale = max(abs(v) for v in exact) if len(exact) == 2 else 0
            number, is_exact = float(value), True
        else:
            floats = [_real(v) for v in sides]
            number = floats[0] - floats[1] if len(floats) == 2 else floats[0]
            value, scale = number, (max(abs(v) for v in floats) if len(floats) == 2 else 0.0)
            is_exact = False
    except (TypeError, ValueError, OverflowError):
        return MarginValue(None, f"margin returned {str(raw)[:60]!r}, not a real number or a "
                                 "(lhs, rhs) pair of them")
    if not math.isfinite(number) or not math.isfinite(float(scale)):
        return MarginValue(None, f"margin returned {str(raw)[:60]}, not finite")
    abs_tol, rel_tol = tolerances(is_exact, atol, rtol)
    limit = max(Fraction(abs_tol), Fraction(rel_tol) * Fraction(scale)) if is_exact \
        else max(abs_tol, rel_tol * scale)
    return MarginValue(number, None, is_exact, bool(value < -limit))


def evaluation_record(phase: str, point: dict, margin: Margin, atol=None, rtol=None) -> dict:
    """One evaluation as the search stores it: ``{"phase", "point", "margin", "failure",
    "exact", "counterexample"}``."""
    value = evaluate_margin(margin, point, atol, rtol)
    return {"phase": phase, "point": point, "margin": value.margin, "failure": value.failure,
            "exact": value.exact, "counterexample": value.counterexample}

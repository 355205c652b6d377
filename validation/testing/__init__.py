"""Assertions for your own pytest suite: stationarity, symbolic equality, closed forms against
autograd and finite differences, and trained models against predicted points.

Every helper returns ``None`` when the statement holds and raises :class:`AssertionError` when it
does not, with a message that names what differed, where, by how much and the tolerance. Bad input
(a wrong type, a variable missing from ``point``, shapes that do not match) raises
:class:`theory.errors.InputError` instead, so a mistake in the test is not reported as a failed
claim.

========================  =========================================================================
helper                    holds when
========================  =========================================================================
assert_stationary         every partial derivative of ``expr`` in ``variables`` at ``point`` is 0
                          (proved by sympy), or has absolute value ``<= tol``
assert_expressions_equal  ``a - b`` is proved 0 by sympy, or ``|a - b| <= tol`` at ``samples``
                          seeded random points
assert_matches_autograd   the sympy gradient (``order=1``) or Hessian (``order=2``) agrees with torch
                          autograd (``atol + rtol*|ref|``) and with central differences (within
                          their truncation and rounding bound)
assert_converged_to       every coordinate of trained values is within ``tol`` of the prediction
========================  =========================================================================

Exact checks never pass on numerical evidence. A zero test counts as proved when sympy's
``Expr.equals(0)`` returns ``True`` (simplification, or a proof by minimal polynomial). When sympy
cannot decide (``equals`` returns ``None``), the expression is evaluated at random rational points to
50 digits: a value clearly away from 0 fails as a counterexample, and otherwise the assertion still
fails, saying the zero test was undecidable and that ``tol=`` gives a numerical check instead.

Only :func:`assert_matches_autograd` (and :func:`assert_converged_to` given torch tensors, which it
reads without importing torch) needs torch; it is imported inside that function, so
``from validation.testing import assert_expressions_equal`` stays cheap.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from theory.errors import InputError
# the numerical assertions live in their own module; import all four from here
from validation.testing.numeric import assert_converged_to, assert_matches_autograd
from validation.testing.support import (
    DIGITS,
    Evaluator,
    as_expr,
    as_float,
    as_point,
    as_symbols,
    check_samples,
    check_seed,
    check_tol,
    fmt,
    point_text,
    random_points,
    short,
    undecidable,
    zero_status,
)

__all__ = [
    "assert_stationary",
    "assert_expressions_equal",
    "assert_matches_autograd",
    "assert_converged_to",
]

# ---------------------------------------------------------------------------------- helpers
def assert_stationary(expr, variables, point, *, tol=None):
    """Assert that ``expr`` is stationary in ``variables`` at ``point``.

    .. math:: \\partial f / \\partial v \\,(\\text{point}) = 0 \\quad \\text{for every } v
              \\in \\text{variables}.

    Parameters
    ----------
    expr : sympy.Expr
        A scalar expression, e.g. a loss.
    variables : Symbol or sequence of Symbol
        The coordinates the gradient is taken in.
    point : dict
        ``Symbol -> value``. Must give every variable; the values may be exact (``Rational``,
        ``log(p/q)``, other symbols). With ``tol=None`` the symbols it leaves free are treated
        symbolically: the gradient must vanish identically in them; map a variable to itself
        (``{w: w}``) to claim stationarity along a whole line. With ``tol`` every free symbol of
        ``expr`` must get a number.
    tol : float or None
        ``None`` (default): each partial derivative, substituted at ``point``, must be *proved* 0
        by sympy (``Expr.equals(0)``); an undecidable zero test fails with a message saying so.
        A number: the gradient, evaluated to 50 digits, must satisfy ``max |df/dv| <= tol``.

    Raises
    ------
    AssertionError
        Naming the partial derivative that is not 0, its value (or simplified form) and the
        tolerance.
    InputError
        ``expr`` not a scalar sympy expression (or holding ``oo``, ``zoo``, ``nan``),
        ``variables`` not Symbols, a variable (or, with ``tol``, any free symbol) missing from
        ``point``, a value of ``point`` that is not finite.

    Examples
    --------
    >>> import sympy as sp
    >>> x, y = sp.symbols("x y", real=True)
    >>> assert_stationary((x - 1)**2 + (y + 2)**2, [x, y], {x: 1, y: -2})
    >>> assert_stationary(x**2 - 2*x, [x], {x: sp.Rational(1000001, 1000000)}, tol=1e-5)
    >>> assert_stationary(x**2 * (y - 1), [x, y], {x: 0, y: y})   # the whole line x = 0
    >>> assert_stationary(x**2 - 2*x, [x], {x: sp.Rational(1001, 1000)})
    Traceback (most recent call last):
    ...
    AssertionError: not stationary at {x: 1001/1000}: d/dx = 1/500, expected 0
    """
    __tracebackhide__ = True  # pytest shows the caller's line, not ours
    expr = as_expr("expr", expr, matrix=False)
    variables = as_symbols("variables", variables)
    tol = check_tol("tol", tol)
    numeric = tol is not None
    needed = set(variables) | (expr.free_symbols if numeric else set())
    point = as_point(point, needed, numeric=numeric)
    gradient = [sp.diff(expr, v).subs(point) for v in variables]
    where = point_text(point)
    if numeric:
        values = []
        for v, g in zip(variables, gradient):
            value = sp.N(g, DIGITS)
            if not value.is_number or not value.is_finite or value.is_extended_real is False:
                raise AssertionError(f"not stationary at {where}: d/d{v} = {short(value)} is not a finite number")
            values.append(float(value))
        worst = int(np.argmax(np.abs(values)))
        if abs(values[worst]) > tol:
            listing = ", ".join(f"d/d{v} = {g:.3g}" for v, g in zip(variables, values))
            raise AssertionError(
                f"not stationary at {where}: |d/d{variables[worst]}| = {abs(values[worst]):.3g} > "
                f"tol = {tol:g} (gradient: {listing})")
        return
    for v, g in zip(variables, gradient):
        test = zero_status(g, None, seed=0)
        if test.status == "nonzero":
            raise AssertionError(f"not stationary at {where}: d/d{v} = {test.detail}, expected 0")
        if test.status == "unknown":
            raise AssertionError(undecidable(f"stationarity at {where}, d/d{v}", test.detail))


def assert_expressions_equal(a, b, *, tol=None, domain=None, samples=20, seed=0):
    """Assert that two sympy expressions (or Matrices of the same shape) are equal.

    Parameters
    ----------
    a, b : sympy.Expr or sympy.Matrix (or a Python number)
        The two sides. A Matrix needs a Matrix of the same shape.
    tol : float or None
        ``None`` (default): exact. Each entry of ``a - b`` must be *proved* 0 by sympy
        (``Expr.equals(0)``, which simplifies). When sympy cannot decide, ``a - b`` is evaluated at
        random rational points (50 digits): a clear nonzero value fails as a counterexample, and
        otherwise the assertion fails as undecidable: random points never establish equality on
        their own. A number: purely numerical, ``|a - b| <= tol`` (absolute, complex modulus) for
        every entry at ``samples`` seeded random points, evaluated to 50 digits; points where a
        side is not finite are skipped (at least ``samples`` finite points are required).
    domain : dict, optional
        ``Symbol -> (lo, hi)`` intervals for the random points. Default: ``(0, 1)`` for symbols
        declared positive or nonnegative, ``(-1, 0)`` for negative ones, ``(-1, 1)`` otherwise.
    samples : int in [1, 10000]
        Number of random points in ``tol`` mode (default 20).
    seed : int in [0, 2**63 - 1]
        Seed of the random points (the same seed gives the same points).

    Raises
    ------
    AssertionError
        Naming the entry, the simplified difference or the point with both values, and the
        tolerance.
    InputError
        Not sympy expressions, an expression holding ``oo``, ``zoo`` or ``nan``, an empty Matrix,
        shapes that differ, a bad ``tol``, ``domain`` (ends must be finite reals; text is read
        as a strict rational, never evaluated), ``samples`` or ``seed``.

    Examples
    --------
    >>> import sympy as sp
    >>> x = sp.Symbol("x", positive=True)
    >>> assert_expressions_equal(sp.log(x**2), 2 * sp.log(x))
    >>> assert_expressions_equal(sp.Matrix([sp.sin(x)**2 + sp.cos(x)**2]), sp.Matrix([1]))
    >>> assert_expressions_equal(sp.exp(sp.log(x) / 3), sp.cbrt(x), tol=1e-40)
    >>> assert_expressions_equal(x / (1 + x), 1 - 1 / (1 + x) + sp.Rational(1, 10**12))
    Traceback (most recent call last):
    ...
    AssertionError: a != b: a - b = -1/1000000000000, expected 0
    """
    __tracebackhide__ = True  # pytest shows the caller's line, not ours
    a, b = as_expr("a", a), as_expr("b", b)
    tol = check_tol("tol", tol)
    samples = check_samples("samples", samples)
    seed = check_seed("seed", seed)
    a_entries, b_entries, label = _paired_entries(a, b)
    symbols = sorted(set().union(*(x.free_symbols for x in a_entries + b_entries)), key=str)
    random_points(symbols, domain, seed, 0)  # the domain is checked in both modes
    if tol is None:
        _assert_entries_equal(a_entries, b_entries, label, domain, seed)
    else:
        _assert_entries_close(a_entries, b_entries, label, tol, domain, samples, seed)


def _paired_entries(a, b):
    """The entries of ``a`` and ``b`` (one each for scalars; same shapes required) and a function
    ``k -> "entry [i, j]: "`` naming entry ``k`` (empty for scalars)."""
    __tracebackhide__ = True  # pytest shows the caller's line, not ours
    a_entries = list(a) if isinstance(a, sp.MatrixBase) else [a]
    b_entries = list(b) if isinstance(b, sp.MatrixBase) else [b]
    shape_a = a.shape if isinstance(a, sp.MatrixBase) else ()
    shape_b = b.shape if isinstance(b, sp.MatrixBase) else ()
    if shape_a != shape_b:
        raise InputError("b", b, f"the shape of a, {shape_a or 'a scalar'}, got {shape_b or 'a scalar'}")
    cols = shape_a[1] if shape_a else 1

    def label(k):
        return f"entry [{k // cols}, {k % cols}]: " if shape_a else ""

    return a_entries, b_entries, label


def _assert_entries_equal(a_entries, b_entries, label, domain, seed):
    """Exact mode: every ``a - b`` proved 0 by sympy (:func:`validation.testing.support.zero_status`)."""
    __tracebackhide__ = True  # pytest shows the caller's line, not ours
    for k, (x, y) in enumerate(zip(a_entries, b_entries)):
        test = zero_status(x - y, domain, seed)
        if test.status == "nonzero":
            raise AssertionError(f"a != b: {label(k)}a - b = {test.detail}, expected 0")
        if test.status == "unknown":
            raise AssertionError(undecidable(f"a == b {label(k)}".rstrip(": "), f"a - b = {test.detail}"))


def _assert_entries_close(a_entries, b_entries, label, tol, domain, samples, seed):
    """``tol`` mode: ``|a - b| <= tol`` for every entry at ``samples`` seeded random points where
    both sides are finite (50 digits)."""
    __tracebackhide__ = True  # pytest shows the caller's line, not ours
    symbols = sorted(set().union(*(x.free_symbols for x in a_entries + b_entries)), key=str)
    evaluator = Evaluator(a_entries + b_entries, symbols)
    n, used, worst = len(a_entries), 0, (-1.0, None)
    for point in random_points(symbols, domain, seed, 10 * samples) if symbols else [{}]:
        values = evaluator(point)
        if values is None:
            continue
        used += 1
        for k in range(n):
            gap = float(abs(values[k] - values[n + k]))
            if gap > worst[0]:
                worst = (gap, (k, point, values[k], values[n + k]))
        if used == samples:
            break
    if used < min(samples, 1 if not symbols else samples):
        raise InputError("domain", domain, f"{samples} points where both sides are finite; found {used}")
    gap, (k, point, va, vb) = worst
    if gap > tol:
        at = f" at {point_text(point)}" if point else ""
        raise AssertionError(
            f"a != b: {label(k)}|a - b| = {gap:.3g} > tol = {tol:g}{at} "
            f"(a = {fmt(as_float(va) if as_float(va) is not None else complex(va))}, "
            f"b = {fmt(as_float(vb) if as_float(vb) is not None else complex(vb))}; worst of {used} points)")

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

import math
import random
from collections.abc import Mapping
from fractions import Fraction

import numpy as np
import sympy as sp

from theory.errors import InputError

__all__ = [
    "assert_stationary",
    "assert_expressions_equal",
    "assert_matches_autograd",
    "assert_converged_to",
]

#: decimal digits of the random-point evaluations (exact-mode fallback and ``tol`` mode)
DIGITS = 50
#: an exact-mode sample is a counterexample when ``|a - b| > SEPARATION`` at ``DIGITS`` digits and the
#: value is confirmed (to 1%) at ``2 * DIGITS`` digits, so cancellation noise is never a counterexample
SEPARATION = 1e-25
#: assumed relative error of one float64 evaluation of ``torch_fn`` (finite-difference rounding)
EVALUATION_NOISE = 64 * np.finfo(float).eps


# --------------------------------------------------------------------------------------- input
def _as_expr(name, value, *, matrix=True):
    """A sympy scalar or (if ``matrix``) a Matrix; Python and numpy numbers are sympified."""
    if isinstance(value, sp.MatrixBase):
        if not matrix:
            raise InputError(name, value, "a scalar sympy expression")
        return sp.ImmutableMatrix(value)
    if isinstance(value, sp.Basic) and isinstance(value, sp.Expr):
        return value
    if isinstance(value, (int, float, Fraction, np.number)) and not isinstance(value, bool):
        return sp.sympify(value)
    expected = "a sympy expression or Matrix" if matrix else "a scalar sympy expression"
    raise InputError(name, value, expected)


def _as_symbols(name, variables):
    if isinstance(variables, sp.Symbol):
        return (variables,)
    try:
        symbols = tuple(variables)
    except TypeError:
        raise InputError(name, variables, "a sympy Symbol or a sequence of Symbols") from None
    if not symbols or not all(isinstance(s, sp.Symbol) for s in symbols) or len(set(symbols)) != len(symbols):
        raise InputError(name, variables, "a non-empty sequence of distinct sympy Symbols")
    return symbols


def _as_point(point, needed, *, numeric):
    """Check ``point`` (dict Symbol -> value) gives every symbol in ``needed``; return it sympified."""
    if not isinstance(point, Mapping) or not all(isinstance(k, sp.Symbol) for k in point):
        raise InputError("point", point, "a dict mapping sympy Symbols to values")
    missing = sorted((s for s in needed if s not in point), key=str)
    if missing:
        what = "every free symbol (tol/numerical checks need numbers)" if numeric else "every variable"
        raise InputError("point", point, f"a value for {what}; missing {', '.join(map(str, missing))}")
    out = {}
    for k, v in point.items():
        try:
            out[k] = sp.sympify(v, strict=True)
        except (sp.SympifyError, TypeError):
            raise InputError("point", point, f"sympy-convertible values; {k} = {v!r}") from None
    if numeric:
        for k in needed:
            value = out[k]
            if value.free_symbols or not value.is_finite or value.is_extended_real is False:
                raise InputError("point", point, f"a finite real number for {k}, got {value}")
    return out


def _check_tol(name, tol, *, allow_none=True):
    if tol is None and allow_none:
        return None
    if isinstance(tol, bool) or not isinstance(tol, (int, float, np.floating)) or not (0 <= tol < math.inf):
        raise InputError(name, tol, "a finite number >= 0" + (" or None" if allow_none else ""))
    return float(tol)


def _short(expr, limit=160):
    text = str(expr)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _fmt(value):
    return f"{float(value):.6g}" if isinstance(value, (float, int)) else _short(value, 60)


def _value_text(value):
    return f"{float(value):.10g}" if isinstance(value, sp.Float) else _short(value, 40)


def _point_text(point):
    return "{" + ", ".join(f"{k}: {_value_text(v)}" for k, v in sorted(point.items(), key=lambda kv: str(kv[0]))) + "}"


# --------------------------------------------------------------------------------- evaluation
def _default_interval(symbol):
    if symbol.is_positive or symbol.is_nonnegative:
        return (0, 1)
    if symbol.is_negative or symbol.is_nonpositive:
        return (-1, 0)
    return (-1, 1)


def _random_points(symbols, domain, seed, count):
    """``count`` dicts of rationals ``lo + (hi - lo) k/1000``, ``k`` uniform in 1..999 (seeded)."""
    domain = {} if domain is None else domain
    if not isinstance(domain, Mapping):
        raise InputError("domain", domain, "a dict mapping Symbols to intervals (lo, hi)")
    intervals = {}
    for s in symbols:
        lo, hi = domain.get(s, _default_interval(s))
        if not (float(lo) < float(hi)):
            raise InputError("domain", domain, f"an interval lo < hi for {s}")
        intervals[s] = (sp.nsimplify(lo), sp.nsimplify(hi))
    rng = random.Random(seed)
    return [{s: lo + (hi - lo) * sp.Rational(rng.randint(1, 999), 1000) for s, (lo, hi) in intervals.items()}
            for _ in range(count)]


class _Evaluator:
    """Evaluate sympy expressions at points with mpmath to ``DIGITS`` digits."""

    def __init__(self, exprs, symbols, digits=DIGITS):
        self.symbols, self.digits = tuple(symbols), digits
        self.functions = [sp.lambdify(self.symbols, x, "mpmath") for x in exprs]

    def __call__(self, point):
        """Complex values (mpmath) of every expression, or None where one is not finite."""
        import mpmath

        args = [point[s] for s in self.symbols]
        with mpmath.workdps(self.digits):
            try:
                values = [mpmath.mpc(f(*[mpmath.mpf(a.p) / a.q if a.is_Rational else mpmath.mpmathify(sp.N(a, self.digits))
                                         for a in args]))
                          for f in self.functions]
            except (ZeroDivisionError, ValueError, OverflowError, TypeError):
                return None
        if not all(mpmath.isfinite(v) for v in values):
            return None
        return values


def _as_float(value):
    """A float of a complex mpmath/sympy value whose imaginary part is negligible, else None."""
    import mpmath

    v = mpmath.mpc(value)
    if abs(v.imag) > 1e-30 * (1 + abs(v.real)):
        return None
    return float(v.real)


def _zero_status(expr, domain, seed, samples=6):
    """Decide ``expr == 0``. Returns ("zero", None), ("nonzero", evidence) or ("unknown", detail)."""
    expr = sp.sympify(expr)
    if expr == 0 or expr.is_zero:
        return "zero", None
    if expr.is_zero is False:
        return "nonzero", _short(sp.simplify(expr))
    decided = expr.equals(0)
    if decided is True:
        return "zero", None
    symbols = sorted(expr.free_symbols, key=str)
    evaluator, confirm = _Evaluator([expr], symbols), _Evaluator([expr], symbols, 2 * DIGITS)
    for point in _random_points(symbols, domain, seed, samples) if symbols else [{}]:
        values = evaluator(point)
        if values is None or abs(values[0]) <= SEPARATION:
            continue
        check = confirm(point)
        if check is not None and abs(check[0]) > SEPARATION and abs(values[0] - check[0]) <= 0.01 * abs(check[0]):
            where = f" at {_point_text(point)}" if point else ""
            return "nonzero", f"{_short(sp.simplify(expr))} = {_fmt(_as_float(values[0]) or complex(values[0]))}{where}"
    if decided is False:
        return "nonzero", _short(sp.simplify(expr))
    return "unknown", _short(expr)


def _undecidable(what, detail):
    return (f"{what}: sympy could not decide whether {detail} is 0 (simplify/equals gave up), and random "
            f"rational points gave no counterexample (none above {SEPARATION:g} at {DIGITS} and {2 * DIGITS} "
            f"digits). An exact check does not pass on numerical evidence; pass tol= for a numerical check.")


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
        ``expr`` not a scalar sympy expression, ``variables`` not Symbols, a variable (or, with
        ``tol``, any free symbol) missing from ``point``.

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
    expr = _as_expr("expr", expr, matrix=False)
    variables = _as_symbols("variables", variables)
    tol = _check_tol("tol", tol)
    numeric = tol is not None
    needed = set(variables) | (expr.free_symbols if numeric else set())
    point = _as_point(point, needed, numeric=numeric)
    gradient = [sp.diff(expr, v).subs(point) for v in variables]
    where = _point_text(point)
    if numeric:
        values = []
        for v, g in zip(variables, gradient):
            value = sp.N(g, DIGITS)
            if not value.is_number or not value.is_finite or value.is_extended_real is False:
                raise AssertionError(f"not stationary at {where}: d/d{v} = {_short(value)} is not a finite number")
            values.append(float(value))
        worst = int(np.argmax(np.abs(values)))
        if abs(values[worst]) > tol:
            listing = ", ".join(f"d/d{v} = {g:.3g}" for v, g in zip(variables, values))
            raise AssertionError(
                f"not stationary at {where}: |d/d{variables[worst]}| = {abs(values[worst]):.3g} > "
                f"tol = {tol:g} (gradient: {listing})")
        return
    for v, g in zip(variables, gradient):
        status, detail = _zero_status(g, None, seed=0)
        if status == "nonzero":
            raise AssertionError(f"not stationary at {where}: d/d{v} = {detail}, expected 0")
        if status == "unknown":
            raise AssertionError(_undecidable(f"stationarity at {where}, d/d{v}", detail))


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
    samples : int
        Number of random points in ``tol`` mode (default 20).
    seed : int
        Seed of the random points (the same seed gives the same points).

    Raises
    ------
    AssertionError
        Naming the entry, the simplified difference or the point with both values, and the
        tolerance.
    InputError
        Not sympy expressions, shapes that differ, a bad ``tol``, ``domain`` or ``samples``.

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
    a, b = _as_expr("a", a), _as_expr("b", b)
    tol = _check_tol("tol", tol)
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
        raise InputError("samples", samples, "an integer >= 1")
    a_entries = list(a) if isinstance(a, sp.MatrixBase) else [a]
    b_entries = list(b) if isinstance(b, sp.MatrixBase) else [b]
    shape_a = a.shape if isinstance(a, sp.MatrixBase) else ()
    shape_b = b.shape if isinstance(b, sp.MatrixBase) else ()
    if shape_a != shape_b:
        raise InputError("b", b, f"the shape of a, {shape_a or 'a scalar'}, got {shape_b or 'a scalar'}")
    cols = shape_a[1] if shape_a else 1

    def label(k):
        return f"entry [{k // cols}, {k % cols}]: " if shape_a else ""

    if tol is None:
        for k, (x, y) in enumerate(zip(a_entries, b_entries)):
            status, detail = _zero_status(x - y, domain, seed)
            if status == "nonzero":
                raise AssertionError(f"a != b: {label(k)}a - b = {detail}, expected 0")
            if status == "unknown":
                raise AssertionError(_undecidable(f"a == b {label(k)}".rstrip(": "), f"a - b = {detail}"))
        return
    symbols = sorted(set().union(*(x.free_symbols for x in a_entries + b_entries)), key=str)
    evaluator = _Evaluator(a_entries + b_entries, symbols)
    n, used, worst = len(a_entries), 0, (-1.0, None)
    for point in _random_points(symbols, domain, seed, 10 * samples) if symbols else [{}]:
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
        at = f" at {_point_text(point)}" if point else ""
        raise AssertionError(
            f"a != b: {label(k)}|a - b| = {gap:.3g} > tol = {tol:g}{at} "
            f"(a = {_fmt(_as_float(va) if _as_float(va) is not None else complex(va))}, "
            f"b = {_fmt(_as_float(vb) if _as_float(vb) is not None else complex(vb))}; worst of {used} points)")


def _torch_function(expr, variables, parameters):
    """``expr`` as a torch function of a 1-D tensor (sympy's torch printer; constants as floats)."""
    import torch

    fixed = expr.subs(parameters).evalf(20)
    try:
        raw = sp.lambdify(variables, fixed, modules="torch")
    except Exception as exc:  # the printer raises several types for unsupported functions
        raise InputError("torch_fn", None, f"a callable: sympy cannot translate expr to torch ({exc})") from None

    def torch_fn(x):
        value = raw(*x.unbind())
        if not isinstance(value, torch.Tensor):
            value = torch.as_tensor(value, dtype=torch.float64) + 0 * x.sum()
        return value

    return torch_fn


def _evaluate(expr, variables, x0):
    """float of ``expr`` at ``variables = x0`` evaluated to ``DIGITS`` digits; None if not finite and real."""
    import mpmath

    with mpmath.workdps(DIGITS):
        try:
            value = mpmath.mpc(sp.lambdify(variables, expr, "mpmath")(*[mpmath.mpf(v) for v in x0]))
        except (ZeroDivisionError, ValueError, OverflowError):
            return None
    if not mpmath.isfinite(value):
        return None
    return _as_float(value)


def _stencil_max(function, x0, steps):
    """Largest |function| over the points ``x0 + sum(c * e_i * h_i)`` of ``steps`` [(i, c), ...]."""
    best = 0.0
    for offsets in steps:
        x = list(x0)
        for i, c in offsets:
            x[i] += c
        best = max(best, abs(float(function(*x))))
    return best


def assert_matches_autograd(expr, variables, point, torch_fn=None, *, order=1, rtol=1e-8, atol=1e-10,
                            fd_step=None):
    """Assert that the sympy gradient or Hessian of ``expr`` agrees with torch autograd and with
    central finite differences.

    The reference is the sympy derivative (``order=1``: gradient in ``variables``; ``order=2``:
    Hessian) evaluated to 50 digits. It is compared with

    1. the value and the autograd derivative (float64) of ``torch_fn`` at the same point:
       ``|ref - autograd| <= atol + rtol * |ref|`` entrywise (the value of ``torch_fn`` likewise);
    2. central differences of ``torch_fn`` (float64) with step ``h_i = fd_step * max(1, |x_i|)``,
       within the bound ``truncation + rounding + atol + rtol*|ref|``:

       - gradient: :math:`(f(x + h_i e_i) - f(x - h_i e_i)) / 2h_i`, truncation
         :math:`h_i^2 M / 6` with :math:`M` the largest :math:`|\\partial_i^3 f|` at the stencil
         points (``mpmath.diff`` of ``expr``, 30 digits) doubled, rounding :math:`\\eta / h_i`;
       - Hessian, :math:`i \\ne j`: :math:`(f_{++} - f_{+-} - f_{-+} + f_{--}) / 4h_ih_j`,
         truncation :math:`(h_i^2 M_{iiij} + h_j^2 M_{ijjj}) / 6`, rounding :math:`\\eta/(h_ih_j)`;
         diagonal: :math:`(f(x + 2h_ie_i) - 2f(x) + f(x - 2h_ie_i)) / 4h_i^2`, truncation
         :math:`h_i^2 M_{iiii} / 3`, rounding :math:`\\eta / h_i^2`;

       where :math:`\\eta` = ``EVALUATION_NOISE`` (64 machine epsilons) times the largest
       :math:`|f|` on the stencil is the assumed error of one float64 evaluation.

    Parameters
    ----------
    expr : sympy.Expr
        Scalar expression.
    variables : sequence of Symbol
        Differentiation variables; their order is the order of the entries of ``torch_fn``'s input.
    point : dict
        ``Symbol -> number`` for every free symbol of ``expr`` (variables and parameters).
    torch_fn : callable, optional
        Takes a 1-D float64 tensor (the variables, in order) and returns a 0-dim tensor. Default:
        ``expr`` with the parameters substituted, translated by ``sympy.lambdify(modules="torch")``.
        Pass your own model's loss to check your implementation against the theory.
    order : {1, 2}
        Gradient or Hessian.
    rtol, atol : float
        Tolerance of the comparisons (defaults ``1e-8``, ``1e-10``).
    fd_step : float, optional
        Relative step; default :math:`\\epsilon^{1/3} \\approx 6\\cdot10^{-6}` (order 1) and
        :math:`\\epsilon^{1/4} \\approx 1.2\\cdot10^{-4}` (order 2), the steps that balance
        truncation and rounding.

    Raises
    ------
    AssertionError
        Naming the entry (``d/dw`` or ``d2/de dw``), the two values, the difference and the bound.
    InputError
        Bad ``expr``/``variables``/``order``/tolerances, a free symbol missing from ``point``,
        ``torch_fn`` returning anything but a scalar tensor.

    Examples
    --------
    >>> import sympy as sp, torch
    >>> x, y, a = sp.symbols("x y a", real=True)
    >>> f = a * sp.log(1 + sp.exp(x * y)) + x**3
    >>> assert_matches_autograd(f, [x, y], {x: 0.3, y: -1.2, a: 2})
    >>> assert_matches_autograd(f, [x, y], {x: 0.3, y: -1.2, a: 2}, order=2,
    ...     torch_fn=lambda v: 2 * torch.nn.functional.softplus(v[0] * v[1]) + v[0]**3)
    >>> assert_matches_autograd(f, [x, y], {x: 0.3, y: -1.2, a: 2},
    ...     torch_fn=lambda v: 2 * torch.nn.functional.softplus(v[0] * v[1]) + v[0]**2)
    Traceback (most recent call last):
    ...
    AssertionError: torch_fn differs from expr at {a: 2, x: 0.3, y: -1.2}: value ...
    """
    import torch

    expr = _as_expr("expr", expr, matrix=False)
    variables = _as_symbols("variables", variables)
    if order not in (1, 2) or isinstance(order, bool):
        raise InputError("order", order, "1 (gradient) or 2 (Hessian)")
    rtol, atol = _check_tol("rtol", rtol, allow_none=False), _check_tol("atol", atol, allow_none=False)
    if fd_step is None:
        fd_step = float(np.finfo(float).eps ** (1 / 3 if order == 1 else 1 / 4))
    fd_step = _check_tol("fd_step", fd_step, allow_none=False)
    if fd_step == 0:
        raise InputError("fd_step", fd_step, "a number > 0")
    point = _as_point(point, set(variables) | expr.free_symbols, numeric=True)
    where = _point_text(point)
    parameters = {k: v for k, v in point.items() if k not in variables}
    f_fixed = expr.subs(parameters)
    x0 = [float(point[v]) for v in variables]
    n = len(variables)
    if torch_fn is None:
        torch_fn = _torch_function(expr, variables, parameters)
    elif not callable(torch_fn):
        raise InputError("torch_fn", torch_fn, "a callable taking a 1-D float64 tensor")

    def call(x):
        value = torch_fn(x)
        if not isinstance(value, torch.Tensor) or value.numel() != 1:
            raise InputError("torch_fn", torch_fn, f"a function returning a scalar tensor, got {value!r}")
        return value.reshape(())

    # reference (50 digits)
    gradient = [sp.diff(f_fixed, v) for v in variables]
    if order == 1:
        entries = {(i,): gradient[i] for i in range(n)}
    else:  # sympy's mixed partials commute: compute the upper triangle
        entries = {(i, j): sp.diff(gradient[i], variables[j]) for i in range(n) for j in range(i, n)}
    reference = {}
    for key, d in entries.items():
        value = _evaluate(d, variables, x0)
        if value is None:
            raise InputError("point", point, f"a point where the derivatives are finite and real; "
                                             f"{_name(variables, key)} is not")
        reference[key] = reference[key[::-1]] = value
    f_value = _evaluate(f_fixed, variables, x0)
    if f_value is None:
        raise InputError("point", point, "a point where expr is finite and real")
    f_mp = sp.lambdify(variables, f_fixed, "mpmath")

    def partial(*orders):
        """|d^k f| with ``orders[i]`` derivatives in variable i (mpmath.diff, 30 digits)."""
        import mpmath

        counts = tuple(orders.count(i) for i in range(n))

        def value(*z):
            with mpmath.workdps(30):
                return mpmath.diff(f_mp, [mpmath.mpf(c) for c in z], counts)

        return value

    # autograd
    x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    y = call(x)
    if not torch.isfinite(y):
        raise AssertionError(f"torch_fn is not finite at {where}: {y.item()}")
    bound = atol + rtol * abs(f_value)
    if abs(y.item() - f_value) > bound:
        raise AssertionError(f"torch_fn differs from expr at {where}: value {y.item():.17g} vs expr "
                             f"{f_value:.17g}, |diff| = {abs(y.item() - f_value):.3g} > {bound:.3g}")
    if order == 1:
        (grad,) = torch.autograd.grad(y, x)
        autograd = {(i,): float(grad[i]) for i in range(n)}
    else:
        hess = torch.autograd.functional.hessian(call, x.detach())
        autograd = {(i, j): float(hess[i, j]) for i in range(n) for j in range(n)}
    for key, ref in reference.items():
        bound = atol + rtol * abs(ref)
        if not abs(autograd[key] - ref) <= bound:
            raise AssertionError(
                f"autograd differs from sympy at {where}: {_name(variables, key)}: sympy {ref:.17g}, autograd "
                f"{autograd[key]:.17g}, |diff| = {abs(autograd[key] - ref):.3g} > atol + rtol*|ref| = {bound:.3g}")

    # central differences with their truncation + rounding bound
    steps = [fd_step * max(1.0, abs(v)) for v in x0]

    def f_at(offsets):
        z = list(x0)
        for i, c in offsets:
            z[i] += c
        with torch.no_grad():
            return float(call(torch.tensor(z, dtype=torch.float64)))

    for key, ref in reference.items():
        if order == 1:
            (i,), h = key, steps[key[0]]
            stencil = [[(i, h)], [(i, -h)]]
            values = [f_at(s) for s in stencil]
            fd = (values[0] - values[1]) / (2 * h)
            third = partial(i, i, i)
            truncation = h * h / 6 * 2 * _stencil_max(third, x0, [[]] + stencil)
            rounding = EVALUATION_NOISE * max(map(abs, values)) / h
        elif key[0] == key[1]:
            i, h = key[0], steps[key[0]]
            stencil = [[(i, 2 * h)], [], [(i, -2 * h)]]
            values = [f_at(s) for s in stencil]
            fd = (values[0] - 2 * values[1] + values[2]) / (4 * h * h)
            fourth = partial(i, i, i, i)
            truncation = h * h / 3 * 2 * _stencil_max(fourth, x0, stencil)
            rounding = EVALUATION_NOISE * max(map(abs, values)) / (h * h)
        else:
            (i, j), hi, hj = key, steps[key[0]], steps[key[1]]
            stencil = [[(i, hi), (j, hj)], [(i, hi), (j, -hj)], [(i, -hi), (j, hj)], [(i, -hi), (j, -hj)]]
            values = [f_at(s) for s in stencil]
            fd = (values[0] - values[1] - values[2] + values[3]) / (4 * hi * hj)
            m_iiij = _stencil_max(partial(i, i, i, j), x0, [[]] + stencil)
            m_ijjj = _stencil_max(partial(i, j, j, j), x0, [[]] + stencil)
            truncation = 2 * (hi * hi * m_iiij + hj * hj * m_ijjj) / 6
            rounding = EVALUATION_NOISE * max(map(abs, values)) / (hi * hj)
        bound = truncation + rounding + atol + rtol * abs(ref)
        if not abs(fd - ref) <= bound:
            raise AssertionError(
                f"finite differences differ from sympy at {where}: {_name(variables, key)}: sympy {ref:.17g}, "
                f"central difference {fd:.17g}, |diff| = {abs(fd - ref):.3g} > bound {bound:.3g} (truncation "
                f"{truncation:.3g} + rounding {rounding:.3g} + atol + rtol*|ref|, step {steps[key[0]]:.3g})")


def _name(variables, key):
    if len(key) == 1:
        return f"d/d{variables[key[0]]}"
    i, j = key
    return f"d2/d{variables[i]}2" if i == j else f"d2/d{variables[i]} d{variables[j]}"


def _as_array(name, value):
    """float64 numpy array of a number, sequence, numpy array, sympy number/Matrix or torch tensor."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor, read without importing torch
        value = value.detach().cpu().double().numpy()
    elif isinstance(value, sp.MatrixBase):
        value = value.tolist()
    try:
        array = np.array(value, dtype=float)
    except (TypeError, ValueError):
        raise InputError(name, value, "numbers: a float, array, tensor, sympy number or Matrix") from None
    return array


def _as_named_arrays(name, value):
    if hasattr(value, "named_parameters") and hasattr(value, "named_buffers"):  # a torch module
        items = dict(value.named_buffers())
        items.update(value.named_parameters())
        return {k: _as_array(f"{name}[{k!r}]", v) for k, v in items.items()}
    if isinstance(value, Mapping):
        return {k: _as_array(f"{name}[{k!r}]", v) for k, v in value.items()}
    return None


def assert_converged_to(values, predicted, *, tol, names=None):
    """Assert that trained values landed within ``tol`` of a predicted point.

    Parameters
    ----------
    values : mapping, torch.nn.Module or array-like
        What training produced: a dict ``name -> number/array/tensor`` (parameters, the final loss,
        predictions...), a torch module (its named parameters and buffers), or one array.
    predicted : mapping or array-like
        The prediction, the same kind as ``values``. For a mapping (or a module in ``values``) only
        the keys of ``predicted`` are compared, and each must exist in ``values``. A scalar
        prediction applies to every coordinate of its entry (``{"grad": 0.0}``); otherwise shapes
        must be equal. Sympy numbers and Matrices are accepted.
    tol : float or mapping
        ``|value - predicted| <= tol`` for every coordinate (absolute, inclusive); a dict gives one
        tolerance per key.
    names : sequence of str, optional
        For array inputs: a name for every coordinate, used in the message.

    Raises
    ------
    AssertionError
        Naming the worst coordinate (``key[index]``), its value, the prediction, the difference, the
        tolerance and how many coordinates are outside it; NaN counts as not converged.
    InputError
        Unreadable values, a key missing from ``values``, shapes that differ, a bad ``tol``.

    Examples
    --------
    >>> import numpy as np
    >>> trained = {"loss": 0.50003, "w": np.array([[1.0, -0.9999]])}
    >>> assert_converged_to(trained, {"loss": 0.5, "w": [[1, -1]]}, tol=1e-3)
    >>> assert_converged_to(trained, {"loss": 0.5, "w": [[1, -1]]}, tol=5e-5)
    Traceback (most recent call last):
    ...
    AssertionError: not converged: worst coordinate w[0, 1] = -0.9999 vs predicted -1, |diff| = 0.0001 > tol = 5e-05; 1 of 3 coordinates outside tol
    """
    got = _as_named_arrays("values", values)
    want = _as_named_arrays("predicted", predicted)
    if (got is None) != (want is None):
        raise InputError("predicted", predicted, "the same kind as values: both mappings/modules or both arrays")
    if got is None:
        got, want = {"": _as_array("values", values)}, {"": _as_array("predicted", predicted)}
        if names is not None:
            names = list(names)
            if len(names) != got[""].size:
                raise InputError("names", names, f"one name per coordinate ({got[''].size})")
    elif names is not None:
        raise InputError("names", names, "None for mapping inputs (the keys name the coordinates)")
    if isinstance(tol, Mapping):
        missing = [k for k in want if k not in tol]
        if missing:
            raise InputError("tol", tol, f"a tolerance for every predicted key; missing {missing}")
        tols = {k: _check_tol(f"tol[{k!r}]", tol[k], allow_none=False) for k in want}
    else:
        tol = _check_tol("tol", tol, allow_none=False)
        tols = {k: tol for k in want}
    worst, outside, total = None, 0, 0
    for key, target in want.items():
        if key not in got:
            raise InputError("values", sorted(got), f"a value for every predicted key; missing {key!r}")
        value = got[key]
        if target.shape != value.shape:
            if target.ndim != 0:
                raise InputError("predicted", predicted, f"shape {value.shape} for {key or 'values'}, got {target.shape}")
            target = np.broadcast_to(target, value.shape)
        gap = np.where(np.isnan(value) | np.isnan(target), np.inf, np.abs(value - target))
        excess = gap - tols[key]
        outside += int(np.sum(excess > 0))
        total += gap.size
        if gap.size:
            index = np.unravel_index(int(np.argmax(excess)), gap.shape)
            if worst is None or excess[index] > worst[0]:
                worst = (excess[index], key, index, value[index], target[index], gap[index])
    if worst is not None and worst[0] > 0:
        _, key, index, value, target, gap = worst
        if key == "" and names is not None:
            label = names[int(np.ravel_multi_index(index, got[""].shape)) if index else 0]
        else:
            label = f"{key}[{', '.join(map(str, index))}]" if index else (key or "value")
        raise AssertionError(
            f"not converged: worst coordinate {label} = {value:.10g} vs predicted {target:.10g}, "
            f"|diff| = {gap:.3g} > tol = {tols[key]:g}; {outside} of {total} coordinates outside tol")

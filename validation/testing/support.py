"""Machinery behind :mod:`validation.testing`: reading the arguments, evaluating expressions to
many digits, deciding zero, building torch functions and finite-difference stencils.

Private to the assertions; import those from :mod:`validation.testing`.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from fractions import Fraction
from numbers import Integral

import numpy as np
import sympy as sp

from theory.errors import InputError
from theory.results import result

#: decimal digits of the random-point evaluations (exact-mode fallback and ``tol`` mode)
DIGITS = 50
#: an exact-mode sample is a counterexample when ``|a - b| > SEPARATION`` at ``DIGITS`` digits and the
#: value is confirmed (to 1%) at ``2 * DIGITS`` digits, so cancellation noise is never a counterexample
SEPARATION = 1e-25
#: assumed relative error of one float64 evaluation of ``torch_fn`` (finite-difference rounding)
EVALUATION_NOISE = 64 * np.finfo(float).eps


# --------------------------------------------------------------------------------------- input
#: sympy's non-finite numbers: an expression holding one is refused (it is never a test subject)
NON_FINITE = (sp.oo, -sp.oo, sp.zoo, sp.nan)
#: most random points of ``tol`` mode (each evaluated to ``DIGITS`` digits)
MAX_SAMPLES = 10_000


def _non_finite(value) -> bool:
    return any(value.has(x) for x in NON_FINITE)


def as_expr(name, value, *, matrix=True):
    """A sympy scalar or (if ``matrix``) a non-empty Matrix; Python and numpy numbers are
    sympified. An expression holding ``oo``, ``zoo`` or ``nan`` (a non-finite float becomes
    one) is refused: :class:`InputError`, never a pass."""
    if isinstance(value, sp.MatrixBase):
        if not matrix:
            raise InputError(name, value, "a scalar sympy expression")
        if 0 in value.shape:
            raise InputError(name, value, "a non-empty Matrix (an empty one proves nothing)")
        out = sp.ImmutableMatrix(value)
    elif isinstance(value, sp.Basic) and isinstance(value, sp.Expr):
        out = value
    elif isinstance(value, (int, float, Fraction, np.number)) and not isinstance(value, bool):
        out = sp.sympify(value)
    else:
        expected = "a sympy expression or Matrix" if matrix else "a scalar sympy expression"
        raise InputError(name, value, expected)
    if _non_finite(out):
        raise InputError(name, value, "a finite expression (no oo, zoo or nan in it)")
    return out


def check_samples(name, samples):
    """``samples`` as an int in [1, MAX_SAMPLES]."""
    if isinstance(samples, bool) or not isinstance(samples, Integral) or not 1 <= samples <= MAX_SAMPLES:
        raise InputError(name, samples, f"an integer in [1, {MAX_SAMPLES}]")
    return int(samples)


def check_seed(name, seed):
    """``seed`` as an int in [0, 2**63 - 1] (the project's seeds)."""
    if isinstance(seed, bool) or not isinstance(seed, Integral) or not 0 <= seed <= 2**63 - 1:
        raise InputError(name, seed, "an integer in [0, 2**63 - 1]")
    return int(seed)


def as_symbols(name, variables):
    if isinstance(variables, sp.Symbol):
        return (variables,)
    try:
        symbols = tuple(variables)
    except TypeError:
        raise InputError(name, variables, "a sympy Symbol or a sequence of Symbols") from None
    if not symbols or not all(isinstance(s, sp.Symbol) for s in symbols) or len(set(symbols)) != len(symbols):
        raise InputError(name, variables, "a non-empty sequence of distinct sympy Symbols")
    return symbols


def as_point(point, needed, *, numeric):
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
        if not isinstance(out[k], sp.Expr) or _non_finite(out[k]):
            raise InputError("point", point, f"finite values (no oo, zoo or nan); {k} = {v!r}")
    if numeric:
        for k in needed:
            value = out[k]
            if value.free_symbols or not value.is_finite or value.is_extended_real is False:
                raise InputError("point", point, f"a finite real number for {k}, got {value}")
    return out


def check_tol(name, tol, *, allow_none=True):
    if tol is None and allow_none:
        return None
    if isinstance(tol, bool) or not isinstance(tol, (int, float, np.floating)) or not (0 <= tol < math.inf):
        raise InputError(name, tol, "a finite number >= 0" + (" or None" if allow_none else ""))
    return float(tol)


def short(expr, limit=160):
    text = str(expr)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def fmt(value):
    return f"{float(value):.6g}" if isinstance(value, (float, int)) else short(value, 60)


def value_text(value):
    return f"{float(value):.10g}" if isinstance(value, sp.Float) else short(value, 40)


def point_text(point):
    return "{" + ", ".join(f"{k}: {value_text(v)}" for k, v in sorted(point.items(), key=lambda kv: str(kv[0]))) + "}"


# --------------------------------------------------------------------------------- evaluation
def default_interval(symbol):
    if symbol.is_positive or symbol.is_nonnegative:
        return (0, 1)
    if symbol.is_negative or symbol.is_nonpositive:
        return (-1, 0)
    return (-1, 1)


def random_points(symbols, domain, seed, count):
    """``count`` dicts of rationals ``lo + (hi - lo) k/1000``, ``k`` uniform in 1..999 (seeded)."""
    domain = {} if domain is None else domain
    if not isinstance(domain, Mapping):
        raise InputError("domain", domain, "a dict mapping Symbols to intervals (lo, hi)")
    intervals = {}
    for s in symbols:
        interval = domain.get(s, default_interval(s))
        if not isinstance(interval, (tuple, list)) or len(interval) != 2:
            raise InputError("domain", domain, f"an interval (lo, hi) for {s}")
        lo, hi = (_bound(domain, s, v) for v in interval)
        if not bool(lo < hi):
            raise InputError("domain", domain, f"an interval lo < hi for {s}")
        intervals[s] = (lo, hi)
    rng = random.Random(check_seed("seed", seed))
    return [{s: lo + (hi - lo) * sp.Rational(rng.randint(1, 999), 1000) for s, (lo, hi) in intervals.items()}
            for _ in range(count)]


def _bound(domain, symbol, value):
    """An interval end as an exact sympy number: a finite real sympy number (``pi`` too), or a
    rational read strictly (int, Fraction, float, ``"3/10"``; text is never evaluated)."""
    if isinstance(value, sp.Basic):
        if isinstance(value, sp.Expr) and value.is_number and value.is_extended_real and value.is_finite:
            return value
    else:
        from theory.domains import as_rational

        try:  # a float as its shortest decimal (0.1 -> 1/10), as written
            exact = as_rational(f"domain[{symbol}]", repr(value) if isinstance(value, float) else value)
        except InputError:
            pass
        else:
            return sp.Rational(exact.numerator, exact.denominator)
    raise InputError("domain", domain, f"finite real interval ends for {symbol}, got {value!r}")


class Evaluator:
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


def as_float(value):
    """A float of a complex mpmath/sympy value whose imaginary part is negligible, else None."""
    import mpmath

    v = mpmath.mpc(value)
    if abs(v.imag) > 1e-30 * (1 + abs(v.real)):
        return None
    return float(v.real)


@result
class ZeroTest:
    """The outcome of :func:`zero_status`.

    Attributes
    ----------
    status : str
        ``"zero"`` (proved), ``"nonzero"`` (disproved) or ``"unknown"`` (sympy could not decide
        and no random point gave a counterexample).
    detail : str or None
        None for ``"zero"``; the simplified expression (and the point and value of a
        counterexample) for ``"nonzero"``; the expression for ``"unknown"``.
    """

    status: str
    detail: str | None


def zero_status(expr, domain, seed, samples=6) -> ZeroTest:
    """Decide ``expr == 0``: sympy's ``equals(0)``, then ``samples`` seeded random rational points
    at ``DIGITS`` digits, a value above ``SEPARATION`` confirmed at ``2 * DIGITS`` digits being a
    counterexample."""
    expr = sp.sympify(expr)
    if expr == 0 or expr.is_zero:
        return ZeroTest("zero", None)
    if expr.is_zero is False:
        return ZeroTest("nonzero", short(sp.simplify(expr)))
    decided = expr.equals(0)
    if decided is True:
        return ZeroTest("zero", None)
    symbols = sorted(expr.free_symbols, key=str)
    evaluator, confirm = Evaluator([expr], symbols), Evaluator([expr], symbols, 2 * DIGITS)
    for point in random_points(symbols, domain, seed, samples) if symbols else [{}]:
        values = evaluator(point)
        if values is None or abs(values[0]) <= SEPARATION:
            continue
        check = confirm(point)
        if check is not None and abs(check[0]) > SEPARATION and abs(values[0] - check[0]) <= 0.01 * abs(check[0]):
            where = f" at {point_text(point)}" if point else ""
            return ZeroTest("nonzero", f"{short(sp.simplify(expr))} = {fmt(as_float(values[0]) or complex(values[0]))}{where}")
    if decided is False:
        return ZeroTest("nonzero", short(sp.simplify(expr)))
    return ZeroTest("unknown", short(expr))


def undecidable(what, detail):
    return (f"{what}: sympy could not decide whether {detail} is 0 (simplify/equals gave up), and random "
            f"rational points gave no counterexample (none above {SEPARATION:g} at {DIGITS} and {2 * DIGITS} "
            f"digits). An exact check does not pass on numerical evidence; pass tol= for a numerical check.")


def torch_function(expr, variables, parameters):
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


def evaluate(expr, variables, x0):
    """float of ``expr`` at ``variables = x0`` evaluated to ``DIGITS`` digits; None if not finite and real."""
    import mpmath

    with mpmath.workdps(DIGITS):
        try:
            value = mpmath.mpc(sp.lambdify(variables, expr, "mpmath")(*[mpmath.mpf(v) for v in x0]))
        except (ZeroDivisionError, ValueError, OverflowError):
            return None
    if not mpmath.isfinite(value):
        return None
    return as_float(value)


def stencil_max(function, x0, steps):
    """Largest ``|function|`` over the points ``x0 + sum(c * e_i * h_i)`` of ``steps`` [(i, c), ...]."""
    best = 0.0
    for offsets in steps:
        x = list(x0)
        for i, c in offsets:
            x[i] += c
        best = max(best, abs(float(function(*x))))
    return best


def derivative_name(variables, key):
    if len(key) == 1:
        return f"d/d{variables[key[0]]}"
    i, j = key
    return f"d2/d{variables[i]}2" if i == j else f"d2/d{variables[i]} d{variables[j]}"


def as_array(name, value):
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


def as_named_arrays(name, value):
    if hasattr(value, "named_parameters") and hasattr(value, "named_buffers"):  # a torch module
        items = dict(value.named_buffers())
        items.update(value.named_parameters())
        return {k: as_array(f"{name}[{k!r}]", v) for k, v in items.items()}
    if isinstance(value, Mapping):
        return {k: as_array(f"{name}[{k!r}]", v) for k, v in value.items()}
    return None

"""The numerical assertions of :mod:`validation.testing` (import them from there):
:func:`assert_matches_autograd` (a sympy gradient or Hessian against torch autograd and central
differences) and :func:`assert_converged_to` (trained values against a predicted point)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import sympy as sp

from theory.errors import InputError
from validation.testing.support import (
    EVALUATION_NOISE,
    as_array,
    as_expr,
    as_named_arrays,
    as_point,
    as_symbols,
    check_tol,
    evaluate,
    derivative_name,
    point_text,
    stencil_max,
    torch_function,
)

__all__ = ["assert_matches_autograd", "assert_converged_to"]


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
    rtol, atol : float >= 0, finite
        Tolerance of the comparisons (defaults ``1e-8``, ``1e-10``).
    fd_step : float in (0, 1], optional
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
    __tracebackhide__ = True  # pytest shows the caller's line, not ours
    expr = as_expr("expr", expr, matrix=False)
    variables = as_symbols("variables", variables)
    rtol, atol, fd_step = _derivative_tolerances(order, rtol, atol, fd_step)
    point = as_point(point, set(variables) | expr.free_symbols, numeric=True)
    where = point_text(point)
    parameters = {k: v for k, v in point.items() if k not in variables}
    f_fixed = expr.subs(parameters)
    x0 = [float(point[v]) for v in variables]
    call = _scalar_call(torch_function(expr, variables, parameters) if torch_fn is None else torch_fn)
    reference, f_value = _sympy_reference(f_fixed, variables, x0, order, point)
    tolerance = (rtol, atol)
    _check_autograd(call, variables, x0, reference, f_value, order, tolerance, where)
    _check_finite_differences(call, f_fixed, variables, x0, reference, order, fd_step, tolerance,
                              where)


def _scalar_call(torch_fn):
    """``torch_fn`` checked to return a scalar tensor (as a 0-dim tensor)."""
    import torch

    if not callable(torch_fn):
        raise InputError("torch_fn", torch_fn, "a callable taking a 1-D float64 tensor")

    def call(x):
        value = torch_fn(x)
        if not isinstance(value, torch.Tensor) or value.numel() != 1:
            raise InputError("torch_fn", torch_fn, f"a function returning a scalar tensor, got {value!r}")
        return value.reshape(())

    return call


def _derivative_tolerances(order, rtol, atol, fd_step):
    """Checked ``(rtol, atol, fd_step)``; the default step balances truncation and rounding."""
    if order not in (1, 2) or isinstance(order, bool):
        raise InputError("order", order, "1 (gradient) or 2 (Hessian)")
    rtol, atol = check_tol("rtol", rtol, allow_none=False), check_tol("atol", atol, allow_none=False)
    if fd_step is None:
        fd_step = float(np.finfo(float).eps ** (1 / 3 if order == 1 else 1 / 4))
    fd_step = check_tol("fd_step", fd_step, allow_none=False)
    if not 0 < fd_step <= 1:
        raise InputError("fd_step", fd_step, "a relative step in (0, 1]")
    return rtol, atol, fd_step


def _sympy_reference(f_fixed, variables, x0, order, point):
    """The sympy gradient (keys ``(i,)``) or Hessian (keys ``(i, j)``, both triangles) of
    ``f_fixed`` at ``x0`` to 50 digits, and the value of ``f_fixed`` there."""
    __tracebackhide__ = True  # pytest shows the caller's line, not ours
    n = len(variables)
    gradient = [sp.diff(f_fixed, v) for v in variables]
    if order == 1:
        entries = {(i,): gradient[i] for i in range(n)}
    else:  # sympy's mixed partials commute: compute the upper triangle
        entries = {(i, j): sp.diff(gradient[i], variables[j]) for i in range(n) for j in range(i, n)}
    reference = {}
    for key, d in entries.items():
        value = evaluate(d, variables, x0)
        if value is None:
            raise InputError("point", point, f"a point where the derivatives are finite and real; "
                                             f"{derivative_name(variables, key)} is not")
        reference[key] = reference[key[::-1]] = value
    f_value = evaluate(f_fixed, variables, x0)
    if f_value is None:
        raise InputError("point", point, "a point where expr is finite and real")
    return reference, f_value


def _check_autograd(call, variables, x0, reference, f_value, order, tolerance, where):
    """Step 1: the value of ``call`` and its autograd derivative (float64) against the sympy
    reference, ``|ref - autograd| <= atol + rtol * |ref|``."""
    __tracebackhide__ = True  # pytest shows the caller's line, not ours
    import torch

    rtol, atol = tolerance
    n = len(variables)
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
                f"autograd differs from sympy at {where}: {derivative_name(variables, key)}: sympy {ref:.17g}, autograd "
                f"{autograd[key]:.17g}, |diff| = {abs(autograd[key] - ref):.3g} > atol + rtol*|ref| = {bound:.3g}")


def _partial(f_mp, n, *orders):
    """|d^k f| with ``orders[i]`` derivatives in variable i (``mpmath.diff``, 30 digits), as a
    function of the point's coordinates."""
    import mpmath

    counts = tuple(orders.count(i) for i in range(n))

    def value(*z):
        with mpmath.workdps(30):
            return mpmath.diff(f_mp, [mpmath.mpf(c) for c in z], counts)

    return value


def _check_finite_differences(call, f_fixed, variables, x0, reference, order, fd_step, tolerance,
                              where):
    """Step 2: central differences of ``call`` (float64) against the sympy reference, within
    their truncation + rounding bound (see :func:`assert_matches_autograd`)."""
    __tracebackhide__ = True  # pytest shows the caller's line, not ours
    import torch

    rtol, atol = tolerance
    f_mp = sp.lambdify(variables, f_fixed, "mpmath")
    steps = [fd_step * max(1.0, abs(v)) for v in x0]

    def f_at(offsets):
        z = list(x0)
        for i, c in offsets:
            z[i] += c
        with torch.no_grad():
            return float(call(torch.tensor(z, dtype=torch.float64)))

    for key, ref in reference.items():
        fd, truncation, rounding = _central_difference(f_at, f_mp, len(variables), x0, key, steps,
                                                       order)
        bound = truncation + rounding + atol + rtol * abs(ref)
        if not abs(fd - ref) <= bound:
            raise AssertionError(
                f"finite differences differ from sympy at {where}: {derivative_name(variables, key)}: sympy {ref:.17g}, "
                f"central difference {fd:.17g}, |diff| = {abs(fd - ref):.3g} > bound {bound:.3g} (truncation "
                f"{truncation:.3g} + rounding {rounding:.3g} + atol + rtol*|ref|, step {steps[key[0]]:.3g})")


def _central_difference(f_at, f_mp, n, x0, key, steps, order):
    """``(estimate, truncation bound, rounding bound)`` of the entry ``key`` by central
    differences: the gradient stencil, the Hessian's diagonal one (step 2h) or its mixed one."""
    __tracebackhide__ = True  # pytest shows the caller's line, not ours
    if order == 1:
        (i,), h = key, steps[key[0]]
        stencil = [[(i, h)], [(i, -h)]]
        values = [f_at(s) for s in stencil]
        fd = (values[0] - values[1]) / (2 * h)
        truncation = h * h / 6 * 2 * stencil_max(_partial(f_mp, n, i, i, i), x0, [[]] + stencil)
        rounding = EVALUATION_NOISE * max(map(abs, values)) / h
    elif key[0] == key[1]:
        i, h = key[0], steps[key[0]]
        stencil = [[(i, 2 * h)], [], [(i, -2 * h)]]
        values = [f_at(s) for s in stencil]
        fd = (values[0] - 2 * values[1] + values[2]) / (4 * h * h)
        truncation = h * h / 3 * 2 * stencil_max(_partial(f_mp, n, i, i, i, i), x0, stencil)
        rounding = EVALUATION_NOISE * max(map(abs, values)) / (h * h)
    else:
        (i, j), hi, hj = key, steps[key[0]], steps[key[1]]
        stencil = [[(i, hi), (j, hj)], [(i, hi), (j, -hj)], [(i, -hi), (j, hj)], [(i, -hi), (j, -hj)]]
        values = [f_at(s) for s in stencil]
        fd = (values[0] - values[1] - values[2] + values[3]) / (4 * hi * hj)
        m_iiij = stencil_max(_partial(f_mp, n, i, i, i, j), x0, [[]] + stencil)
        m_ijjj = stencil_max(_partial(f_mp, n, i, j, j, j), x0, [[]] + stencil)
        truncation = 2 * (hi * hi * m_iiij + hj * hj * m_ijjj) / 6
        rounding = EVALUATION_NOISE * max(map(abs, values)) / (hi * hj)
    return fd, truncation, rounding


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
        must be equal. Sympy numbers and Matrices are accepted. It must be finite and hold at
        least one coordinate.
    tol : float or mapping
        ``|value - predicted| <= tol`` for every coordinate (absolute, inclusive); a dict gives one
        tolerance per key.
    names : sequence of str, optional
        For array inputs: a name for every coordinate, used in the message.

    Raises
    ------
    AssertionError
        Naming the worst coordinate (``key[index]``), its value, the prediction, the difference, the
        tolerance and how many coordinates are outside it; a NaN or infinite value counts as
        not converged.
    InputError
        Unreadable values, a key missing from ``values``, shapes that differ, a bad ``tol``, a
        prediction that is empty or holds NaN or an infinity.

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
    __tracebackhide__ = True  # pytest shows the caller's line, not ours
    got, want, names = _paired_arrays(values, predicted, names)
    _check_prediction(predicted, want)
    tols = _tolerances(tol, want)
    worst, outside, total = None, 0, 0
    for key, target in want.items():
        if key not in got:
            raise InputError("values", sorted(got), f"a value for every predicted key; missing {key!r}")
        value = got[key]
        if target.shape != value.shape:
            if target.ndim != 0:
                raise InputError("predicted", predicted, f"shape {value.shape} for {key or 'values'}, got {target.shape}")
            target = np.broadcast_to(target, value.shape)
        finite = np.isfinite(value)
        gap = np.full(value.shape, np.inf)
        np.subtract(value, target, out=gap, where=finite)
        gap = np.where(finite, np.abs(gap), np.inf)  # a non-finite value is never converged
        excess = gap - tols[key]
        outside += int(np.sum(excess > 0))
        total += gap.size
        if gap.size:
            index = np.unravel_index(int(np.argmax(excess)), gap.shape)
            if worst is None or excess[index] > worst[0]:
                worst = (excess[index], key, index, value[index], target[index], gap[index])
    if worst is not None and worst[0] > 0:
        _, key, index, value, target, gap = worst
        raise AssertionError(
            f"not converged: worst coordinate {_coordinate_label(key, index, names, got)} = {value:.10g} "
            f"vs predicted {target:.10g}, |diff| = {gap:.3g} > tol = {tols[key]:g}; {outside} of {total} "
            f"coordinates outside tol")


def _paired_arrays(values, predicted, names):
    """``(got, want, names)``: both sides as dicts ``key -> float64 array`` (one array: the key
    ``""``), and the coordinate names checked against them."""
    __tracebackhide__ = True  # pytest shows the caller's line, not ours
    got = as_named_arrays("values", values)
    want = as_named_arrays("predicted", predicted)
    if (got is None) != (want is None):
        raise InputError("predicted", predicted, "the same kind as values: both mappings/modules or both arrays")
    if got is None:
        got, want = {"": as_array("values", values)}, {"": as_array("predicted", predicted)}
        if names is not None:
            names = list(names)
            if len(names) != got[""].size:
                raise InputError("names", names, f"one name per coordinate ({got[''].size})")
    elif names is not None:
        raise InputError("names", names, "None for mapping inputs (the keys name the coordinates)")
    return got, want, names


def _check_prediction(predicted, want):
    """A prediction must be finite and say something: InputError for NaN, an infinity or no
    coordinate at all (an empty prediction would pass whatever was trained)."""
    __tracebackhide__ = True  # pytest shows the caller's line, not ours
    if not want or sum(target.size for target in want.values()) == 0:
        raise InputError("predicted", predicted, "at least one predicted coordinate (it is empty)")
    for key, target in want.items():
        if not np.all(np.isfinite(target)):
            raise InputError("predicted", predicted, f"finite predictions; {key or 'values'} holds "
                                                     f"{target[~np.isfinite(target)].ravel()[0]}")


def _tolerances(tol, want):
    """One tolerance per predicted key, from a number or a mapping."""
    if isinstance(tol, Mapping):
        missing = [k for k in want if k not in tol]
        if missing:
            raise InputError("tol", tol, f"a tolerance for every predicted key; missing {missing}")
        return {k: check_tol(f"tol[{k!r}]", tol[k], allow_none=False) for k in want}
    tol = check_tol("tol", tol, allow_none=False)
    return {k: tol for k in want}


def _coordinate_label(key, index, names, got):
    """``key[i, j]``, the given coordinate name (array inputs), or the key alone (scalars)."""
    if key == "" and names is not None:
        return names[int(np.ravel_multi_index(index, got[""].shape)) if index else 0]
    return f"{key}[{', '.join(map(str, index))}]" if index else (key or "value")

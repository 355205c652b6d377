"""A small adaptive Runge--Kutta integrator (Dormand--Prince 5(4)) for gradient flows.

Written here rather than imported from ``scipy.integrate`` because that import alone costs
about half a second, more than the whole budget of a ``ttc`` query. Tested against
``scipy.integrate.solve_ivp`` in ``tests/numerics/shared/test_ode.py``.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from theory.budgets import MEMORY_BUDGET
from theory.domains import integer, real
from theory.errors import InputError, NumericalFailure, TooLargeError
from theory.results import result

__all__ = ["Trajectory", "dopri5", "MAX_STEPS"]

#: Most steps (accepted and rejected) :func:`dopri5` takes.
MAX_STEPS = 10_000_000
_T_MAX = real(0, None, low_open=True)
_TOLERANCE = real(0, 1, low_open=True)
_STEP = real(0, None, low_open=True)
_STEPS = integer(1, MAX_STEPS)

# Dormand & Prince (1980), J. Comput. Appl. Math. 6, 19-26: nodes, stages, 5th/4th-order weights.
_C = np.array([0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1, 1])
_A = [
    np.array(row) for row in (
        [],
        [1 / 5],
        [3 / 40, 9 / 40],
        [44 / 45, -56 / 15, 32 / 9],
        [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729],
        [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656],
        [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84],
    )
]
_B5 = np.array([35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84, 0])
_B4 = np.array([5179 / 57600, 0, 7571 / 16695, 393 / 640, -92097 / 339200, 187 / 2100, 1 / 40])
_ERROR = _B5 - _B4


@result
class Trajectory:
    """An integrated trajectory.

    Attributes
    ----------
    t : numpy.ndarray, shape (k,)
        The accepted times, from 0.
    y : numpy.ndarray, shape (k, n)
        The states at those times.
    stopped : bool
        The stopping rule fired before ``t_max``.
    """

    t: np.ndarray
    y: np.ndarray
    stopped: bool


def dopri5(rhs: Callable[[np.ndarray], np.ndarray], y0, t_max: float,
           stop: Callable[[np.ndarray, np.ndarray], bool] | None = None,
           rtol: float = 1e-10, atol: float = 1e-12, h0: float = 1e-2,
           max_steps: int = 1_000_000) -> Trajectory:
    """Integrate the autonomous system ``y' = rhs(y)`` from ``y0`` on ``[0, t_max]``.

    ``stop(y, rhs(y))`` is evaluated after every accepted step; integration ends when it
    returns True.

    Parameters
    ----------
    rhs : callable
        ``rhs(y) -> dy/dt``, an array of the shape of ``y0`` (n,).
    y0 : array-like of n >= 1 finite reals
    t_max : float > 0, finite
    stop : callable, optional
    rtol, atol : float in (0, 1]
        Error control of the embedded 5(4) pair: a step is accepted when the RMS of
        ``err / (atol + rtol * max(|y|, |y_new|))`` is at most 1.
    h0 : float > 0, finite
        First step tried.
    max_steps : int in [1, 10**7]
        Steps tried (accepted and rejected) before giving up.

    Returns
    -------
    Trajectory

    Raises
    ------
    InputError
        An argument outside its domain (naming it).
    TooLargeError
        The stored trajectory would pass :data:`MEMORY_BUDGET` (2 GiB) before ``t_max``.
    NumericalFailure
        A non-finite state or right-hand side, a step size that no longer moves ``t``, or
        ``max_steps`` steps that do not reach ``t_max`` (or the stopping rule).
    """
    if not callable(rhs):
        raise InputError("rhs", rhs, "a callable rhs(y) -> dy/dt")
    if stop is not None and not callable(stop):
        raise InputError("stop", stop, "None or a callable stop(y, dy/dt) -> bool")
    try:
        raw = np.asarray(y0)
        y = np.array(raw, dtype=float) if raw.dtype.kind in "iuf" else None
    except (TypeError, ValueError, OverflowError):
        y = None
    if y is None:  # strings, None, complex numbers, ragged lists: never converted
        raise InputError("y0", y0, "a 1-D array of finite reals")
    if y.ndim != 1 or y.size == 0 or not np.all(np.isfinite(y)):
        raise InputError("y0", y0, "a non-empty 1-D array of finite reals")
    t_max = float(_T_MAX.check("t_max", t_max))
    rtol, atol = _TOLERANCE.check("rtol", rtol), _TOLERANCE.check("atol", atol)
    h0 = _STEP.check("h0", h0)
    max_steps = _STEPS.check("max_steps", max_steps)
    max_states = MEMORY_BUDGET // (8 * (y.size + 1))
    k_first = _slope(rhs, y, 0.0)
    times, states = [0.0], [y.copy()]
    if stop is not None and stop(y, k_first):
        return Trajectory(np.array(times), np.array(states), True)
    k = np.empty((7, y.size))
    with np.errstate(over="ignore", invalid="ignore"):  # a non-finite state is reported below
        return _steps(rhs, y, k, k_first, t_max, stop, rtol, atol, h0, max_steps, max_states,
                      times, states)


def _steps(rhs, y, k, k_first, t_max, stop, rtol, atol, h, max_steps, max_states, times, states):
    """The step loop of :func:`dopri5` (accepted states appended to ``times``/``states``)."""
    t = 0.0
    for _ in range(max_steps):
        h = min(h, t_max - t)
        k[0] = k_first
        if t + h == t:
            raise NumericalFailure(f"ODE step size {h:.3g} no longer moves t={t:.6g}")
        for i in range(1, 7):
            k[i] = rhs(y + h * (_A[i] @ k[:i]))
        y5 = y + h * (_B5 @ k)
        err_vec = h * (_ERROR @ k)
        scale = atol + rtol * np.maximum(np.abs(y), np.abs(y5))
        err = float(np.sqrt(np.mean((err_vec / scale) ** 2)))
        if not np.all(np.isfinite(y5)):
            raise NumericalFailure(f"ODE state became non-finite at t={t:.6g}")
        if err <= 1.0:
            if not np.all(np.isfinite(k[6])):
                raise NumericalFailure(f"ODE right-hand side became non-finite at t={t + h:.6g}")
            if len(times) >= max_states:
                raise TooLargeError("t_max", t_max, f"a trajectory of at most {max_states} "
                                    f"states of size {y.size} ({MEMORY_BUDGET // 2**30} GiB); "
                                    f"t={t:.6g} reached")
            t, y, k_first = t + h, y5, k[6].copy()
            times.append(t)
            states.append(y.copy())
            if stop is not None and stop(y, k_first):
                return Trajectory(np.array(times), np.array(states), True)
            if t >= t_max:
                return Trajectory(np.array(times), np.array(states), False)
        h *= min(5.0, max(0.2, 0.9 * (err if err > 0 else 1e-10) ** -0.2))
    raise NumericalFailure(f"ODE integration took more than {max_steps} steps (t={t:.6g})")


def _slope(rhs, y: np.ndarray, t: float) -> np.ndarray:
    """``rhs(y)`` as a finite float array of ``y``'s shape, else NumericalFailure/InputError."""
    try:
        k = np.asarray(rhs(y), dtype=float)
    except (TypeError, ValueError):
        raise InputError("rhs", rhs, "a function returning an array of real numbers") from None
    if k.shape != y.shape:
        raise InputError("rhs", rhs, f"a function returning an array of shape {y.shape}, "
                                     f"got {k.shape}")
    if not np.all(np.isfinite(k)):
        raise NumericalFailure(f"ODE right-hand side is non-finite at t={t:.6g}")
    return k

"""Fuzzing against declared domains: Hypothesis strategies that mix valid and invalid values of a
:class:`theory.domains.Domain`, and the contract every public function must keep on them.

The contract (:func:`assert_clean_call`): a call returns a finite result (every number in it, at
any depth, finite; sympy results are not inspected) or raises one of the library's errors
(:class:`theory.errors.TTCError`: ``InputError``, ``TooLargeError``, ``NumericalFailure``);
anything else (a ``ZeroDivisionError``, a NaN in the result, a complex number) breaks it.

Examples
--------
>>> from hypothesis import given
>>> from theory.domains import PROBABILITY
>>> @given(values(PROBABILITY))
... def test_entropy(p):
...     assert_clean_call(my_entropy, p)          # doctest: +SKIP
"""

from __future__ import annotations

from fractions import Fraction
from typing import Callable

from hypothesis import strategies as st

from numerics.shared.storage import non_finite_path
from theory.domains import Domain
from theory.errors import TTCError

__all__ = ["values", "invalid_values", "valid_values", "assert_clean_call", "non_finite_path"]

#: Values that are never valid numbers.
JUNK = (float("nan"), float("inf"), -float("inf"), 1e308, -1e308, 1e-308, None, "0.5", True,
        complex(0.5, 1.0), [0.5])


def valid_values(domain: Domain):
    """A strategy of values inside ``domain``."""
    if domain.kind == "choice":
        return st.sampled_from(domain.choices)
    if domain.kind == "int":
        low = -10**6 if domain.low is None else int(domain.low)
        high = low + 10**6 if domain.high is None else int(domain.high)
        return st.integers(low, high)
    low = None if domain.low is None else float(domain.low)
    high = None if domain.high is None else float(domain.high)
    floats = st.floats(min_value=low, max_value=high, exclude_min=domain.low_open and low is not None,
                       exclude_max=domain.high_open and high is not None, allow_nan=False,
                       allow_infinity=False)
    if domain.kind == "rational":
        return floats.map(lambda v: Fraction(v).limit_denominator(10**6)).filter(
            lambda v: domain._in_bounds(v))
    return floats


def invalid_values(domain: Domain):
    """A strategy of values outside ``domain``: junk, just past each end, far past each end."""
    options = [st.sampled_from(JUNK)]
    if domain.kind == "choice":
        return st.one_of(options + [st.text(max_size=8).filter(lambda t: t not in domain.choices)])
    for end, is_open, sign in ((domain.low, domain.low_open, -1), (domain.high, domain.high_open, 1)):
        if end is None:
            continue
        beyond = [float(end) + sign * 1e-9, float(end) + sign * 1e6]
        if is_open:
            beyond.append(float(end))
        if domain.kind == "int":
            beyond = [int(end) + sign, int(end) + sign * 10**6]
        options.append(st.sampled_from(beyond))
    return st.one_of(options)


def values(domain: Domain):
    """Valid and invalid values of ``domain``, mixed (what a fuzz test draws)."""
    return st.one_of(valid_values(domain), invalid_values(domain))


def assert_clean_call(fn: Callable, *args, **kwargs):
    """Call ``fn``: it must return a finite result or raise a :class:`TTCError`. Returns the
    result (None when it raised the library's error)."""
    __tracebackhide__ = True
    try:
        result = fn(*args, **kwargs)
    except TTCError:
        return None
    except Exception as exc:  # the contract is broken: say by which call
        raise AssertionError(f"{getattr(fn, '__qualname__', fn)}{args!r} raised "
                             f"{type(exc).__name__}: {exc} (expected a result or a TTCError)") \
            from exc
    bad = non_finite_path(result)
    assert bad is None, (f"{getattr(fn, '__qualname__', fn)}{args!r} returned a non-finite value "
                         f"at {bad!r}")
    return result

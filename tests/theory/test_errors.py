"""The shared argument checks name the argument, the value and what was expected."""

from fractions import Fraction

import pytest
import sympy as sp

from theory.errors import (InputError, NumericalFailure, TooLargeError, TTCError, check_choice,
                           check_int, check_open_unit)


def test_hierarchy():
    assert issubclass(TooLargeError, InputError) and issubclass(InputError, ValueError)
    assert issubclass(NumericalFailure, TTCError) and not issubclass(NumericalFailure, InputError)


@pytest.mark.parametrize("value", [0.3, Fraction(1, 3), sp.Rational(2, 7), 1e-300])
def test_open_unit_accepts(value):
    check_open_unit("p", value)


@pytest.mark.parametrize("value", [0, 1, -0.1, 1.0000001, float("nan"), float("inf"), True, "0.3", None])
def test_open_unit_rejects_with_name_and_value(value):
    with pytest.raises(InputError) as info:
        check_open_unit("p", value)
    assert info.value.name == "p" and str(info.value).startswith(f"p={value!r} is invalid")


def test_int_and_choice():
    check_int("n", 3, 1, 5)
    for bad in (0, 6, 2.0, True):
        with pytest.raises(InputError, match="integer >= 1 and <= 5"):
            check_int("n", bad, 1, 5)
    with pytest.raises(InputError, match="one of 'a', 'b'"):
        check_choice("mode", "c", ("a", "b"))

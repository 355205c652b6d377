"""theory.domains: strict parsing (no evaluation, no overflow, no slow exponents), interval ends,
and the fuzz values a declaration generates. References are written by hand."""

import time
from fractions import Fraction

import pytest
import sympy as sp

from theory.domains import (PROBABILITY, SEED, as_rational, choice, integer, parse_rational, rational,
                            real)
from theory.errors import InputError

DOMAINS = [PROBABILITY, SEED, integer(1, 12), real(0, None, low_open=True), real(),
           rational(0, 1, low_open=True, high_open=True), integer(-5, 5), choice("a", "b")]


@pytest.mark.parametrize("text, value", [("3/10", Fraction(3, 10)), ("0.3", Fraction(3, 10)),
                                         ("-1/2", Fraction(-1, 2)), ("2.5e-3", Fraction(1, 400)),
                                         (" 7 ", Fraction(7)), ("1.5/0.5", Fraction(3))])
def test_parse_rational_reads_exact_values(text, value):
    assert parse_rational("x", text) == value


@pytest.mark.parametrize("text", ["__import__('os').system('true')", "1+1", "0x10", "nan", "inf",
                                  "1/0", "", "1e99999999", "sqrt(2)", "1_000", "9" * 300])
def test_parse_rational_refuses_everything_else_quickly(text):
    start = time.perf_counter()
    with pytest.raises(InputError) as info:
        parse_rational("--p", text)
    assert info.value.name == "--p" and time.perf_counter() - start < 0.1


def test_as_rational_takes_numbers_and_sympy_and_never_evaluates():
    assert as_rational("p", sp.Rational(1, 3)) == Fraction(1, 3)
    assert as_rational("p", 0.5) == Fraction(1, 2) and as_rational("p", 2) == 2
    for bad in ["__import__('os')", float("nan"), True, None, sp.Symbol("x")]:
        with pytest.raises(InputError):
            as_rational("p", bad)


def test_ends_open_and_closed():
    assert PROBABILITY.check("p", 0.5) == 0.5
    for bad in (0, 1, 0.0, 1.0, -0.1, float("nan"), float("inf"), "0.5", True, 1 + 0j):
        with pytest.raises(InputError):
            PROBABILITY.check("p", bad)
    assert integer(1, 12).check("n", 12) == 12 and integer(1, 12).parse("--n", "1") == 1
    with pytest.raises(InputError, match="an integer in \\[1, 12\\]"):
        integer(1, 12).parse("--n", "2.5")


def test_underflow_and_overflow_are_refused_for_floats():
    with pytest.raises(InputError):
        real().parse("--x", "1e-400")   # would silently become 0.0
    with pytest.raises(InputError):
        real().parse("--x", "1e400")    # would be inf
    assert rational().parse("--x", "1e-400") == Fraction(1, 10**400)  # exact: fine


@pytest.mark.parametrize("domain", DOMAINS, ids=lambda d: d.describe())
def test_generated_bad_values_are_refused_and_the_example_is_valid(domain):
    domain.parse("--x", domain.example_text())
    for text in domain.bad_texts():
        with pytest.raises(InputError):
            domain.parse("--x", text)


def test_check_distinct_returns_checked_values_and_names_the_argument():
    dom = integer(1, 5)
    assert dom.check_distinct("depths", (3, 1)) == [3, 1]
    for bad in ([], [1, 1], [0, 2], "12", 3, [True]):
        with pytest.raises(InputError, match="depths"):
            dom.check_distinct("depths", bad)

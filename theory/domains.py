"""Declared domains of arguments: one declaration checks a Python argument, parses a command-line
value and generates the bad inputs of the fuzz table.

A :class:`Domain` says what a parameter may be: a real or integer number in an interval with open
or closed ends, an exact rational, or one of a set of choices. The same object serves

- the Python API: ``PROBABILITY.check("p", p)`` returns the value or raises
  :class:`~theory.errors.InputError` naming the argument, the value and what was expected;
- the command line: ``PROBABILITY.parse("--p", "3/10")`` reads text strictly (decimal, scientific
  or ``a/b`` notation; no NaN, no infinity, no overflow, no exponent that would take long to
  expand) and then checks the domain; :func:`validation.cli.add_argument` uses it;
- the fuzz table of the tests: :meth:`Domain.bad_texts` lists values that must be refused.

Text is never evaluated as code: :func:`parse_rational` is a regular-expression parser that turns
``"-1/2"`` or ``"2.5e-3"`` into a :class:`fractions.Fraction` and nothing else.

Examples
--------
>>> PROBABILITY.parse("--p", "3/10")
0.3
>>> PROBABILITY.describe()
'a real number in (0, 1)'
>>> integer(1, 12).check("seq_len", 13)
Traceback (most recent call last):
...
theory.errors.InputError: seq_len=13 is invalid: expected an integer in [1, 12]
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction
from numbers import Integral, Rational, Real

from theory.errors import InputError

__all__ = ["Domain", "real", "integer", "rational", "choice", "parse_rational", "as_rational",
           "PROBABILITY", "SEED", "POSITIVE", "FINITE", "MAX_EXPONENT", "MAX_DIGITS"]

#: Largest decimal exponent accepted in text (``1e400`` parses, then fails as not finite when a
#: float is needed; ``1e99999999`` is refused before anything is expanded).
MAX_EXPONENT = 1000
#: Most digits accepted in one number (a longer string is refused before it is read).
MAX_DIGITS = 200

_DECIMAL = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_NUMBER = re.compile(rf"^\s*({_DECIMAL})(?:\s*/\s*({_DECIMAL}))?\s*$")


def _decimal_fraction(text: str) -> Fraction:
    mantissa, _, exponent = text.lower().partition("e")
    if exponent and abs(int(exponent)) > MAX_EXPONENT:
        raise ValueError(f"exponent {exponent} beyond +-{MAX_EXPONENT}")
    return Fraction(text)


def parse_rational(name: str, text: str) -> Fraction:
    """Read ``text`` as an exact rational: ``"3/10"``, ``"0.3"``, ``"-1/2"``, ``"2.5e-3"``.

    Refuses (``InputError`` naming ``name``) anything else: NaN, infinities, hexadecimal, Python
    expressions, more than :data:`MAX_DIGITS` characters, exponents beyond :data:`MAX_EXPONENT`
    and a zero denominator. Nothing is evaluated.
    """
    expected = "a number such as 0.3, -1/2 or 2.5e-3"
    if not isinstance(text, str) or len(text) > MAX_DIGITS:
        raise InputError(name, text if isinstance(text, str) and len(text) < 60 else
                         f"<{type(text).__name__} of length {len(text) if hasattr(text, '__len__') else '?'}>",
                         expected)
    match = _NUMBER.match(text)
    if match is None:
        raise InputError(name, text, expected)
    try:
        value = _decimal_fraction(match.group(1))
        if match.group(2) is not None:
            value = value / _decimal_fraction(match.group(2))
    except (ValueError, ZeroDivisionError) as exc:
        raise InputError(name, text, f"{expected} ({exc})") from None
    return value


def as_rational(name: str, value) -> Fraction:
    """An exact :class:`Fraction` from an int, a Fraction, a sympy Rational (anything with
    ``p``/``q`` integers), a finite float (its exact binary value) or a strict rational string
    (:func:`parse_rational`). Never evaluates text."""
    if isinstance(value, bool):
        raise InputError(name, value, "a rational number (not a bool)")
    if isinstance(value, str):
        return parse_rational(name, value)
    if isinstance(value, (Integral, Rational)):
        return Fraction(value)
    numerator, denominator = getattr(value, "p", None), getattr(value, "q", None)
    if isinstance(numerator, int) and isinstance(denominator, int) and denominator != 0:
        return Fraction(numerator, denominator)  # sympy Rational / Integer
    if isinstance(value, Real) and math.isfinite(float(value)):
        return Fraction(float(value))
    raise InputError(name, value, "a finite rational: an int, Fraction, sympy Rational, finite "
                                  "float or a string such as '3/10'")


@dataclass(frozen=True)
class Domain:
    """What one parameter may be.

    Attributes
    ----------
    kind : {"real", "int", "rational", "choice"}
        ``real``: a finite float; ``int``: an integer; ``rational``: an exact Fraction;
        ``choice``: one of ``choices``.
    low, high : number or None
        Interval ends (None: unbounded).
    low_open, high_open : bool
        Whether the ends are excluded.
    choices : tuple
        The allowed values of a ``choice`` domain.
    note : str
        Why the bounds are what they are (e.g. "larger needs more than 2 GB"), shown in errors.
    """

    kind: str
    low: object = None
    high: object = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple = ()
    note: str = ""

    # -- description -------------------------------------------------------------------------
    def describe(self) -> str:
        """What is expected, in words: ``'a real number in (0, 1)'``."""
        if self.kind == "choice":
            return "one of " + ", ".join(map(repr, self.choices))
        noun = {"real": "a real number", "int": "an integer", "rational": "a rational number"}[
            self.kind]
        if self.low is None and self.high is None:
            text = noun if self.kind == "int" else f"{noun} (finite)"
        elif self.high is None:
            text = f"{noun} {'>' if self.low_open else '>='} {self.low}"
        elif self.low is None:
            text = f"{noun} {'<' if self.high_open else '<='} {self.high}"
        else:
            text = (f"{noun} in {'(' if self.low_open else '['}{self.low}, {self.high}"
                    f"{')' if self.high_open else ']'}")
        return f"{text} ({self.note})" if self.note else text

    # -- checks ------------------------------------------------------------------------------
    def _in_bounds(self, value) -> bool:
        if self.low is not None and (value < self.low or (self.low_open and value == self.low)):
            return False
        if self.high is not None and (value > self.high or (self.high_open and value == self.high)):
            return False
        return True

    def check(self, name: str, value):
        """``value`` if it lies in the domain (ints stay ints, rationals become Fractions, reals
        stay as given), else :class:`InputError` naming ``name``."""
        if self.kind == "choice":
            if value not in self.choices:
                raise InputError(name, value, self.describe())
            return value
        if isinstance(value, bool):
            raise InputError(name, value, self.describe())
        if self.kind == "int":
            if not isinstance(value, Integral):
                raise InputError(name, value, self.describe())
            value = int(value)
        elif self.kind == "rational":
            value = as_rational(name, value)
        else:
            try:
                finite = math.isfinite(float(value))
            except (TypeError, ValueError, OverflowError):
                finite = False
            if not finite or isinstance(value, (str, complex)):
                raise InputError(name, value, self.describe())
        if not self._in_bounds(value):
            raise InputError(name, value, self.describe())
        return value

    def check_distinct(self, name: str, values) -> list:
        """``values`` (a non-string iterable) as a list of distinct elements of the domain, each
        checked by :meth:`check` (as ``name``); else :class:`InputError` naming ``name``."""
        if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
            raise InputError(name, values, f"a list of distinct values, each {self.describe()}")
        out = [self.check(name, v) for v in values]
        if not out or len(set(out)) != len(out):
            raise InputError(name, out, f"a non-empty list of distinct values, each "
                                        f"{self.describe()}")
        return out

    def parse(self, name: str, text: str):
        """Read command-line ``text`` strictly and check it: a float for ``real``, an int for
        ``int``, a Fraction for ``rational``, the matching choice for ``choice``."""
        if self.kind == "choice":
            for option in self.choices:
                if text == str(option):
                    return option
            raise InputError(name, text, self.describe())
        exact = parse_rational(name, text)
        if self.kind == "int":
            if exact.denominator != 1:
                raise InputError(name, text, self.describe())
            return self.check(name, int(exact))
        if self.kind == "rational":
            return self.check(name, exact)
        try:
            value = float(exact)
        except OverflowError:
            raise InputError(name, text, self.describe()) from None
        if not math.isfinite(value) or (value == 0 and exact != 0):
            raise InputError(name, text, f"{self.describe()}, representable as a float")
        return self.check(name, value)

    # -- fuzzing -----------------------------------------------------------------------------
    def example_text(self) -> str:
        """A valid value as command-line text."""
        if self.kind == "choice":
            return str(self.choices[0])
        low, high = self.low, self.high
        if self.kind == "int":  # the smallest valid value: cheap for sizes, valid for counts
            value = 0 if low is None else int(low)
            value = value if self._in_bounds(value) else value + 1
            return str(value)
        if low is not None and high is not None:
            middle = (Fraction(low) + Fraction(high)) / 2
            return repr(float(middle)) if self.kind == "real" else str(middle)
        if low is not None:
            return str(Fraction(low) + 1)
        if high is not None:
            return str(Fraction(high) - 1)
        return "1"

    def bad_texts(self) -> list[str]:
        """Texts the parser must refuse: malformed, non-finite, overflowing, and just outside
        each end of the interval."""
        if self.kind == "choice":
            return ["", "not-a-choice", "1e400"]
        bad = ["", "nan", "inf", "-inf", "abc", "0x10", "1/0", "1e99999999", "__import__('os')",
               "9" * (MAX_DIGITS + 1)]
        if self.kind == "int":
            bad += ["2.5", "1e400"]
        else:
            bad += ["1e400", "-1e400"]
        for end, is_open, step in ((self.low, self.low_open, -1), (self.high, self.high_open, 1)):
            if end is None:
                continue
            bad.append(str(end) if is_open else str(Fraction(end) + Fraction(step, 1000)
                                                    if self.kind != "int" else int(end) + step))
            bad.append(str(Fraction(end) + step * 10**6 if self.kind != "int"
                           else int(end) + step * 10**6))
        return bad


def real(low=None, high=None, *, low_open: bool = False, high_open: bool = False,
         note: str = "") -> Domain:
    """A finite float in the interval (ends closed unless ``*_open``)."""
    return Domain("real", low, high, low_open, high_open, (), note)


def integer(low=None, high=None, note: str = "") -> Domain:
    """An integer in ``[low, high]``."""
    return Domain("int", low, high, False, False, (), note)


def rational(low=None, high=None, *, low_open: bool = False, high_open: bool = False,
             note: str = "") -> Domain:
    """An exact rational in the interval (read as :class:`Fraction`)."""
    return Domain("rational", low, high, low_open, high_open, (), note)


def choice(*values) -> Domain:
    """One of ``values``."""
    return Domain("choice", choices=tuple(values))


#: A probability strictly inside (0, 1).
PROBABILITY = real(0, 1, low_open=True, high_open=True)
#: A seed: an integer in [0, 2**63 - 1].
SEED = integer(0, 2**63 - 1)
#: A finite real > 0.
POSITIVE = real(0, None, low_open=True)
#: Any finite real.
FINITE = real()

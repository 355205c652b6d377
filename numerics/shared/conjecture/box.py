"""The box searched: named axes, real or integer, with finite closed ends."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Mapping

import numpy as np

from theory.errors import InputError

__all__ = ["Parameter", "parameter_box", "grid_points", "MAX_ABS_VALUE", "Point"]

Point = dict[str, Any]

#: Largest absolute value of a box's ends (grids, widths and ``low * b`` stay exact enough and
#: finite).
MAX_ABS_VALUE = 1e15


@dataclass(frozen=True)
class Parameter:
    """One axis of the box: ``low <= value <= high``; integers when ``integer``."""

    name: str
    low: float
    high: float
    integer: bool = False

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise InputError("parameter name", self.name, "a non-empty string")
        for bound in ("low", "high"):
            value = getattr(self, bound)
            if (isinstance(value, bool) or not isinstance(value, (int, float))
                    or not math.isfinite(value) or abs(value) > MAX_ABS_VALUE):
                raise InputError(f"{self.name}.{bound}", value,
                                 f"a finite number of absolute value <= {MAX_ABS_VALUE:g}")
            if self.integer and value != int(value):
                raise InputError(f"{self.name}.{bound}", value, "an integer")
        if self.low > self.high:
            raise InputError(self.name, (self.low, self.high), "low <= high")

    @property
    def size(self) -> int | None:
        """Number of values of an integer axis (None for a real axis)."""
        return int(self.high) - int(self.low) + 1 if self.integer else None

    def value(self, x: float):
        """``x`` as a value of this axis (an ``int`` for an integer axis), clipped to the box."""
        x = min(max(float(x), self.low), self.high)
        return int(round(x)) if self.integer else x

    def grid(self, count: int) -> list:
        """``count`` evenly spaced values; an integer axis with at most ``count`` values gives
        every one of them (a wider one ``count`` evenly spread integers, never the whole
        range)."""
        if self.integer:
            if self.size > count:
                values = np.unique(np.round(np.linspace(self.low, self.high, count)))
            else:
                values = np.arange(int(self.low), int(self.high) + 1)
            return [int(v) for v in values]
        if self.low == self.high:
            return [float(self.low)]
        return [float(v) for v in np.linspace(self.low, self.high, count)]

    def simple(self, max_denominator: int, count: int) -> list:
        """The fractions a/b (b <= ``max_denominator``) in the box, smallest denominators first,
        at most ``count`` of them (as floats); integer axes: :meth:`grid`."""
        if self.integer:
            return self.grid(count)
        size = sum(math.floor(self.high * b) - math.ceil(self.low * b) + 1
                   for b in range(1, max_denominator + 1))
        if size > 100_000:  # a wide box: the first ``count`` in order, never the whole set
            values = []
            for b in range(1, max_denominator + 1):
                for a in range(math.ceil(self.low * b), math.floor(self.high * b) + 1):
                    f = Fraction(a, b)
                    if f.denominator == b and self.low <= a / b <= self.high:
                        values.append(f)
                        if len(values) == count:
                            return sorted(float(v) for v in values)
            return sorted(float(v) for v in values)
        values = sorted({Fraction(a, b) for b in range(1, max_denominator + 1)
                         for a in range(math.ceil(self.low * b), math.floor(self.high * b) + 1)
                         if self.low <= a / b <= self.high},
                        key=lambda f: (f.denominator, f))
        return sorted(float(v) for v in values[:count])

    def sample(self, rng: np.random.Generator, size: int) -> list:
        if self.integer:
            return [int(v) for v in rng.integers(int(self.low), int(self.high), size, endpoint=True)]
        return [float(v) for v in rng.uniform(self.low, self.high, size)]


def parameter_box(parameters) -> tuple[Parameter, ...]:
    """A box from ``{name: (low, high)}`` or ``{name: (low, high, "int"|"real")}`` (or Parameters)."""
    if isinstance(parameters, Mapping):
        box = []
        for name, spec in parameters.items():
            if isinstance(spec, Parameter):
                box.append(spec)
                continue
            if not isinstance(spec, (tuple, list)) or len(spec) not in (2, 3):
                raise InputError(name, spec, "(low, high) or (low, high, 'int'|'real')")
            kind = spec[2] if len(spec) == 3 else "real"
            if kind not in ("int", "real"):
                raise InputError(f"{name} kind", kind, "'int' or 'real'")
            box.append(Parameter(name, spec[0], spec[1], kind == "int"))
        parameters = box
    box = tuple(parameters)
    if not box or not all(isinstance(p, Parameter) for p in box):
        raise InputError("parameters", parameters, "a non-empty box of Parameters")
    if len({p.name for p in box}) != len(box):
        raise InputError("parameters", [p.name for p in box], "distinct names")
    return box


def grid_points(axes: list[list], box) -> list[Point]:
    """The Cartesian product of the axes' values (one list per axis of ``box``), as points."""
    mesh = np.meshgrid(*[np.arange(len(a)) for a in axes], indexing="ij")
    return [{p.name: axes[k][int(index[k])] for k, p in enumerate(box)}
            for index in zip(*[m.ravel() for m in mesh])]

"""Documented result types: :func:`result` makes a frozen dataclass with a readable repr.

It lives in the lowest layer (beside :mod:`theory.errors`) so that every layer uses the same one;
it imports neither numpy nor torch (arrays are recognised by their ``shape`` and ``dtype``).

Every public function that returns more than one value returns one of these instead of a tuple
or a dict. The class docstring documents each field (numpydoc ``Attributes``: meaning, shape,
units); the repr shows scalars and small arrays in full and summarises large arrays by shape,
dtype and range, so a result prints well in a notebook. :meth:`to_dict` gives the fields as a
dict (nested results too); :func:`numerics.shared.storage.to_jsonable` turns it into JSON.

Examples
--------
>>> import numpy as np
>>> @result
... class Fit:
...     '''A fitted line. Attributes: slope (1/s), residuals (shape (n,)).'''
...     slope: float
...     residuals: np.ndarray
>>> Fit(2.0, np.zeros(100))
Fit(slope=2.0, residuals=array(shape=(100,), float64, min=0, max=0))
"""

from __future__ import annotations

import dataclasses
from typing import Any

__all__ = ["readable_repr", "result", "summarize", "to_dict"]

#: Arrays with at most this many entries are shown in full.
FULL_ARRAY_SIZE = 12


def summarize(value: Any) -> str:
    """A short readable form of one field's value."""
    if _is_array(value):  # numpy arrays and torch tensors, recognised without importing either
        if value.size <= FULL_ARRAY_SIZE:
            return "array(" + repr(value.tolist()) + ")"
        kind = f"array(shape={tuple(value.shape)}, {value.dtype}"
        if value.dtype.kind in "iuf":
            finite = value[value == value] if value.dtype.kind == "f" else value  # drop NaN
            finite = finite[abs(finite) != float("inf")] if value.dtype.kind == "f" else finite
            if finite.size:
                return f"{kind}, min={float(finite.min()):.6g}, max={float(finite.max()):.6g})"
        return kind + ")"
    if isinstance(value, float):
        return repr(float(f"{value:.10g}"))
    if isinstance(value, (list, tuple)) and len(value) > FULL_ARRAY_SIZE:
        return f"{type(value).__name__}(len={len(value)}, first={summarize(value[0])})"
    if isinstance(value, dict) and len(value) > FULL_ARRAY_SIZE:
        return f"dict(len={len(value)}, keys={list(value)[:4]}...)"
    return repr(value)


def _is_array(value: Any) -> bool:
    return (hasattr(value, "shape") and hasattr(value, "dtype") and hasattr(value, "tolist")
            and hasattr(getattr(value, "dtype"), "kind") and hasattr(value, "size"))


def readable_repr(self) -> str:
    """The repr of :func:`result` types, for any dataclass: ``Name(field=value, ...)`` with
    large arrays summarised (:func:`summarize`); fields declared ``repr=False`` are left out.
    Assign it as ``__repr__`` of a plain dataclass that keeps its own ``eq``."""
    fields = ", ".join(f"{f.name}={summarize(getattr(self, f.name))}"
                       for f in dataclasses.fields(self) if f.repr)
    return f"{type(self).__name__}({fields})"


def to_dict(value: Any) -> Any:
    """The fields of a result as a dict, recursively (arrays and sympy objects unchanged)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_dict(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {k: to_dict(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(to_dict(v) for v in value)
    return value


def result(cls=None, *, frozen: bool = True):
    """Class decorator: a dataclass (frozen by default, ``eq=False`` so arrays compare nowhere
    by accident) with the readable repr of this module and a ``to_dict()`` method."""

    def wrap(klass):
        klass = dataclasses.dataclass(frozen=frozen, repr=False, eq=False)(klass)
        klass.__repr__ = readable_repr
        klass.to_dict = to_dict
        return klass

    return wrap if cls is None else wrap(cls)

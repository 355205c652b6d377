"""theory.results: the result decorator's dataclass, repr and to_dict (references written by hand)."""

import dataclasses

import numpy as np
import pytest
import sympy as sp

from theory.results import result, summarize


@result
class _Pair:
    """Attributes: value (float), values (array), expr (sympy)."""

    value: float
    values: np.ndarray
    expr: sp.Expr


def test_result_is_a_frozen_dataclass_with_a_readable_repr():
    x = sp.Symbol("x")
    pair = _Pair(0.5, np.arange(100.0), x**2)
    assert dataclasses.is_dataclass(pair)
    with pytest.raises(dataclasses.FrozenInstanceError):
        pair.value = 1.0
    assert repr(pair) == "_Pair(value=0.5, values=array(shape=(100,), float64, min=0, max=99), expr=x**2)"


def test_small_arrays_are_shown_in_full_and_non_finite_entries_skipped_in_ranges():
    assert summarize(np.array([1.0, 2.0])) == "array([1.0, 2.0])"
    assert summarize(np.array([np.nan, 1.0, np.inf, -3.0] * 5)).endswith("min=-3, max=1)")


def test_to_dict_is_recursive_and_keeps_objects():
    inner = _Pair(1.0, np.zeros(2), sp.Integer(3))
    outer = _Pair(2.0, np.ones(1), inner)
    d = outer.to_dict()
    assert d["value"] == 2.0 and d["expr"]["expr"] == 3 and isinstance(d["expr"]["values"], np.ndarray)

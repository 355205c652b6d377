"""One strict conversion of user input to a float array, for every layer above theory."""

from __future__ import annotations

import numpy as np

from theory.errors import InputError

__all__ = ["float_array"]


def float_array(name: str, value, ndim: int | None = None, shape: tuple | None = None,
                allow_nan: bool = False) -> np.ndarray:
    """``value`` as a float64 array, else :class:`InputError` naming ``name``.

    Numbers only (no string is parsed, no object array), of dimension ``ndim`` and shape
    ``shape`` when given; no infinity, and no NaN unless ``allow_nan`` (a plot's missing point).
    """
    if isinstance(value, (str, bytes)) or value is None:
        raise InputError(name, value if value is None else value[:40],
                         "an array of numbers (not a string)")
    try:
        arr = np.asarray(value)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"dtype {arr.dtype}")
        arr = arr.astype(float)
    except (TypeError, ValueError, OverflowError) as exc:
        raise InputError(name, type(value).__name__, f"an array of real numbers ({exc})") from None
    if ndim is not None and arr.ndim != ndim:
        raise InputError(name, f"shape {arr.shape}", f"an array of dimension {ndim}")
    if shape is not None and arr.shape != tuple(shape):
        raise InputError(name, f"shape {arr.shape}", f"shape {tuple(shape)}")
    bad = np.isinf(arr) if allow_nan else ~np.isfinite(arr)
    if np.any(bad):
        raise InputError(name, "an array with non-finite entries",
                         "finite numbers" + (" (NaN for a missing point)" if allow_nan else ""))
    return arr

"""Shared plotting helpers (matplotlib, Agg backend). Library functions take ``ax=None`` and
return the axes; nothing here opens a window (figures are saved, never shown)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from numerics.shared import storage  # noqa: E402
from theory.domains import FINITE, integer, real  # noqa: E402
from theory.errors import InputError, TooLargeError  # noqa: E402


#: Figure sizes (inches) and resolutions accepted: a 50 x 50 inch figure at 600 dpi is a
#: 30000 x 30000 pixel canvas (3.6 GB of RGBA) -- so the product is bounded too.
MAX_INCHES = 50.0
MAX_DPI = 600
#: Most pixels of a saved figure (RGBA, 4 bytes each: 400 MB).
MAX_PIXELS = 100_000_000
#: Smallest side of a figure (inches).
MIN_INCHES = 0.5
_INCHES = real(MIN_INCHES, MAX_INCHES)
_DPI = integer(10, MAX_DPI)


def axes(ax=None, figsize=(6.0, 4.5)):
    """Return ``ax`` or a new axes on a new figure of ``figsize`` (two sizes in [0.5, 50]
    inches)."""
    if ax is not None:
        return ax
    if not isinstance(figsize, (tuple, list)) or len(figsize) != 2:
        raise InputError("figsize", figsize, "(width, height) in inches")
    figsize = tuple(float(_INCHES.check("figsize", v)) for v in figsize)
    _, ax = plt.subplots(figsize=figsize, constrained_layout=True)
    return ax


def save(fig, path, pdf: bool = False, dpi: int = 130) -> Path:
    """Save ``fig`` as PNG (and PDF beside it when ``pdf``) atomically, then close it.

    ``path``'s suffix is replaced by ``.png`` (and ``.pdf``); its folder is created when
    missing. ``dpi`` is an integer in [10, 600], the figure's sides in [0.5, 50] inches and the
    canvas at most 10**8 pixels, else
    :class:`InputError` (:class:`TooLargeError` for the canvas).
    """
    import io
    import os

    text = os.fspath(path) if isinstance(path, (str, os.PathLike)) else None
    if not text or not text.strip() or Path(text).is_dir():
        raise InputError("path", path, "a file path (not empty, not a folder)")
    dpi = _DPI.check("dpi", dpi)
    width, height = fig.get_size_inches()
    if not (MIN_INCHES <= width <= MAX_INCHES and MIN_INCHES <= height <= MAX_INCHES):
        raise InputError("fig", f"{width:g} x {height:g} inches",
                         f"a figure with sides in [{MIN_INCHES}, {MAX_INCHES}] inches")
    pixels = int(width * dpi) * int(height * dpi)
    if pixels > MAX_PIXELS:
        raise TooLargeError("dpi", dpi, f"a canvas of at most {MAX_PIXELS} pixels (this figure "
                                        f"is {width:g} x {height:g} inches: {pixels})")
    path = Path(text)
    for suffix in (".png", ".pdf") if pdf else (".png",):
        buffer = io.BytesIO()
        fig.savefig(buffer, format=suffix[1:], dpi=dpi)
        storage.atomic_write_bytes(path.with_suffix(suffix), buffer.getvalue())
    plt.close(fig)
    return path.with_suffix(".png")


def horizontal_reference(ax, value: float, label: str, color: str, style: str = "--"):
    """A labelled horizontal line (e.g. an entropy floor) across ``ax`` at the finite
    ``value``."""
    FINITE.check("value", value)
    ax.axhline(value, color=color, linestyle=style, linewidth=1.2, label=label)
    return ax

"""Shared plotting API: the result every plot function returns, axes, legends, colours, saving.

Plotting
--------
Every plot function of the library (``validation/<topic>/plots.py``) takes ``ax=None`` and
returns a :class:`PlotResult`: the figure, the axes and the artists by name (lines, contour
sets, images, the colorbar, the legend), so a figure can be restyled without redrawing it::

    from validation.markov.plots import plot_landscape
    from validation.shared.plots import save_figure
    from validation.shared.style import style

    with style("paper", columns=2):
        out = plot_landscape(0.5, 0.8)
        out.lines["global minima"][0].set_color("black")
        save_figure(out.figure, "landscape.pdf")        # format from the suffix

Importing this module (or any plot module) changes neither the backend nor ``rcParams``: figures
are made with :func:`matplotlib.pyplot.subplots` only when a function is called without ``ax``
(so Jupyter shows them inline), inside the active :func:`validation.shared.style.style` or, when
none is active, ``style("paper")``. Nothing here shows a window.

Conventions shared by the plot modules: mathtext labels with units; the Okabe-Ito palette; a
sequential colormap and a colorbar wherever colour carries a value; integer ticks on integer axes
(:func:`integer_ticks`); legends outside the data by default (``loc=None``; a matplotlib location
string places it inside, ``loc=False`` leaves it out; :func:`legend`); theory and simulation of
one curve in one colour (:class:`CurveColors`); titles from the paper registry
(:func:`paper_title`).
"""

from __future__ import annotations

import functools
import inspect
import io
import os
from pathlib import Path

import numpy as np

from numerics.shared import storage
from numerics.shared.arrays import float_array
from theory.domains import FINITE, integer, real
from theory.errors import InputError, TooLargeError
from theory.results import result
from validation.shared.style import PALETTE, active_style, style

__all__ = ["PlotResult", "FORMATS", "new_axes", "axes", "legend_patch", "plot_function", "legend",
           "integer_ticks", "add_colorbar", "CurveColors", "paper_title", "data_array", "data_pair",
           "save_figure", "save", "horizontal_reference", "MAX_INCHES", "MAX_DPI", "MAX_PIXELS"]

#: Figure sizes (inches) and resolutions accepted: a 50 x 50 inch figure at 600 dpi is a
#: 30000 x 30000 pixel canvas (3.6 GB of RGBA) -- so the product is bounded too.
MAX_INCHES = 50.0
MAX_DPI = 600
#: Most pixels of a saved figure (RGBA, 4 bytes each: 400 MB).
MAX_PIXELS = 100_000_000
#: Smallest side of a figure (inches).
MIN_INCHES = 0.5
_INCHES = real(MIN_INCHES, MAX_INCHES)
#: Resolutions (dots per inch) :func:`save_figure` accepts; ``ttc ... --dpi`` reads this domain.
DPI = integer(10, MAX_DPI, note="the canvas is also limited to 10**8 pixels")
#: Output formats by file suffix.
FORMATS = {".png": "png", ".pdf": "pdf", ".svg": "svg"}


@result
class PlotResult:
    """What a plot function drew, so it can be restyled or saved without redrawing.

    Attributes
    ----------
    figure : matplotlib.figure.Figure
        The figure holding ``axes`` (``axes.figure``).
    axes : matplotlib.axes.Axes
        The axes drawn on (the ``ax`` given, or a new one).
    lines : dict
        Line-like artists by curve label: a list of :class:`~matplotlib.lines.Line2D`, or an
        :class:`~matplotlib.container.ErrorbarContainer` for points with error bars.
    contours : dict
        :class:`~matplotlib.contour.QuadContourSet` by name (e.g. ``"loss"``).
    images : dict
        Other artists by name: meshes (``pcolormesh``), quivers, bar containers, collections.
    colorbar : matplotlib.colorbar.Colorbar or None
        The colorbar, where colour carries a value.
    legend : matplotlib.legend.Legend or None
        The legend (None with ``loc=False`` or when nothing is labelled).
    """

    figure: object
    axes: object
    lines: dict
    contours: dict
    images: dict
    colorbar: object = None
    legend: object = None

    def save(self, path, dpi: int = 300) -> Path:
        """:func:`save_figure` of this figure (format from ``path``'s suffix)."""
        return save_figure(self.figure, path, dpi=dpi)


def _check_figsize(figsize):
    if not isinstance(figsize, (tuple, list)) or len(figsize) != 2:
        raise InputError("figsize", figsize, "(width, height) in inches")
    return tuple(float(_INCHES.check("figsize", v)) for v in figsize)


def new_axes(ax=None, figsize=None, aspect: float | None = None):
    """``ax`` when given (checked to be a matplotlib Axes), else a new axes on a new figure
    (:func:`matplotlib.pyplot.subplots`, constrained layout) of ``figsize`` = (width, height)
    in [0.5, 50] inches, default the active style's size (with ``aspect``: its width and a
    height of ``aspect`` times the width)."""
    if ax is not None:
        from matplotlib.axes import Axes

        if not isinstance(ax, Axes):
            raise InputError("ax", type(ax).__name__, "a matplotlib Axes or None")
        return ax
    import matplotlib.pyplot as plt

    if figsize is None and aspect is not None:
        import matplotlib

        width = matplotlib.rcParams["figure.figsize"][0]
        figsize = (width, min(MAX_INCHES, width * float(real(0.1, 10).check("aspect", aspect))))
    size = None if figsize is None else _check_figsize(figsize)
    _, created = plt.subplots(figsize=size, layout="constrained")
    return created


def axes(ax=None, figsize=None):
    """Alias of :func:`new_axes` (the name of earlier versions)."""
    return new_axes(ax, figsize)


def legend_patch(ax, label: str, **style):
    """An invisible patch of ``ax`` carrying ``label`` and ``style`` (``facecolor``, ``hatch``,
    ...), so a filled region (a hatched basin, a shaded set) gets a legend entry."""
    from matplotlib.patches import Rectangle

    return ax.add_patch(Rectangle((0, 0), 0, 0, label=label, visible=True, **style))


def plot_function(func):
    """Decorator of the public plot functions: when called without ``ax`` (or ``ax=None``) and
    outside any :func:`~validation.shared.style.style` block, the function draws inside
    ``style("paper")``; with an ``ax`` or inside a style block, the current settings apply."""
    signature = inspect.signature(func)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        bound = signature.bind_partial(*args, **kwargs)
        if bound.arguments.get("ax") is None and active_style() is None:
            with style("paper"):
                return func(*args, **kwargs)
        return func(*args, **kwargs)

    return wrapper


def legend(ax, loc=None, default: str = "auto", last=(), **kwargs):
    """The legend of ``ax`` (each label once; labels starting with ``_`` are left out) placed
    by ``loc``:

    - None: outside the data, as ``default`` says: ``"right"`` (beside the axes), ``"below"``
      (under the figure, across it) or ``"auto"`` (below on a figure narrower than 4.5 in,
      else right);
    - ``"outside right"`` / ``"outside below"``: those places explicitly;
    - a matplotlib location (``"best"``, ``"upper left"``, ...): inside the axes;
    - False: no legend.

    Labels in ``last`` (e.g. style keys such as ``"theory"``) come after the others. Panels of one
    figure that each put their legend below share one legend there (labels merged). Returns the
    :class:`~matplotlib.legend.Legend` (a figure legend when below) or None (also when nothing
    is labelled)."""
    if loc is False:
        return None
    if loc is not None and not isinstance(loc, str):
        raise InputError("loc", loc, "None (outside), 'outside right', 'outside below', a "
                                     "matplotlib location string or False")
    handles, labels = ax.get_legend_handles_labels()
    unique = {}
    for handle, label in zip(handles, labels):
        unique.setdefault(label, handle)
    unique = {label: unique[label] for label in sorted(unique, key=lambda name: name in last)}
    if not unique:
        return None
    import matplotlib

    where = loc
    if loc is None:
        if default not in ("auto", "right", "below"):
            raise InputError("default", default, "'auto', 'right' or 'below'")
        wide = ax.figure.get_size_inches()[0] >= 4.5
        where = {"auto": "outside right" if wide else "outside below",
                 "right": "outside right", "below": "outside below"}[default]
    if where == "outside below":
        # one legend below the figure: merge with the one an earlier panel put there
        for previous in list(ax.figure.legends):
            if getattr(previous, "_ttc_below", False):
                merged = dict(zip((t.get_text() for t in previous.get_texts()),
                                  previous.legend_handles))
                merged.update({k: v for k, v in unique.items() if k not in merged})
                unique = merged
                previous.remove()
        # as many columns as fit: about 0.55 em per character of the longest label
        size = matplotlib.font_manager.FontProperties(
            size=kwargs.get("fontsize", matplotlib.rcParams["legend.fontsize"])).get_size_in_points()
        longest = max(len(_visible_text(label)) for label in unique) + 5
        fit = int(ax.figure.get_size_inches()[0] * 72 / (0.55 * size) // longest)
        below = ax.figure.legend(list(unique.values()), list(unique), loc="outside lower center",
                                 ncols=max(1, min(fit, 4, len(unique))), **kwargs)
        below._ttc_below = True
        return below
    if where == "outside right":
        kwargs = {"loc": "upper left", "bbox_to_anchor": (1.02, 1.0), "borderaxespad": 0.0,
                  **kwargs}
    else:
        kwargs = {"loc": where, **kwargs}
    try:
        return ax.legend(list(unique.values()), list(unique), **kwargs)
    except ValueError as exc:  # an unknown location string
        raise InputError("loc", loc, f"a matplotlib legend location ({exc})") from None


def _visible_text(label: str) -> str:
    """``label`` roughly as rendered: mathtext commands, braces and ``$`` removed."""
    import re

    return re.sub(r"\\[a-zA-Z]+|[${}^_]", "", label)


def integer_ticks(ax, axis: str = "x"):
    """Ticks only at integers on ``axis`` (``"x"``, ``"y"`` or ``"both"``) of ``ax``: for counts
    such as n, layers, M (:class:`matplotlib.ticker.MaxNLocator` with ``integer=True``)."""
    from matplotlib.ticker import MaxNLocator

    if axis not in ("x", "y", "both"):
        raise InputError("axis", axis, "'x', 'y' or 'both'")
    for name in ("x", "y") if axis == "both" else (axis,):
        getattr(ax, f"{name}axis").set_major_locator(MaxNLocator(integer=True))
    return ax


def add_colorbar(mappable, ax, label: str, format: str = "%.3g"):
    """A colorbar for ``mappable`` (a mesh or filled contour set) beside ``ax``, labelled
    ``label`` (mathtext, with the unit), tick labels in ``format``."""
    return ax.figure.colorbar(mappable, ax=ax, label=label, format=format)


class CurveColors:
    """One colour per curve label, from :data:`~validation.shared.style.PALETTE` in the order
    the labels are first seen: the theory line and the simulation points of one curve get the
    same colour when asked with the same label.

    >>> colors = CurveColors()
    >>> colors("R1") == colors("R1") != colors("R2")
    True
    """

    def __init__(self, labels=(), palette=PALETTE):
        self.palette = tuple(palette)
        if not self.palette:
            raise InputError("palette", palette, "at least one colour")
        self._assigned: dict = {}
        for label in labels:
            self(label)

    def __call__(self, label) -> str:
        """The colour of ``label`` (assigned on first use, cycling through the palette)."""
        key = str(label)
        if key not in self._assigned:
            self._assigned[key] = self.palette[len(self._assigned) % len(self.palette)]
        return self._assigned[key]

    def __contains__(self, label) -> bool:
        return str(label) in self._assigned


def paper_title(key: str, text: str = "") -> str:
    """A title from the paper registry: the paper's label, and ``text`` below it, wrapped at
    :data:`TITLE_WIDTH` characters (e.g.
    ``"Rende et al. 2024\\ntest loss"``), for the paper ``key`` of
    :data:`validation.papers.PAPERS`."""
    from validation.papers import PAPERS

    if key not in PAPERS:
        raise InputError("paper", key, f"a registered paper: {', '.join(sorted(PAPERS))}")
    label = PAPERS[key].label
    return f"{label}\n{_wrap(text)}" if text else label


#: Most visible characters per title line: a line fits above a one-column (3.4 in) axes at 9 pt.
TITLE_WIDTH = 30


def _wrap(text: str, width: int = TITLE_WIDTH) -> str:
    """``text`` broken at spaces outside ``$...$`` into lines of at most ``width`` visible
    characters (a longer single word stays whole)."""
    words, current = [], ""
    for token in text.split(" "):
        current = f"{current} {token}" if current else token
        if current.count("$") % 2 == 0:  # not inside mathtext
            words.append(current)
            current = ""
    if current:
        words.append(current)
    lines = [""]
    for word in words:
        candidate = f"{lines[-1]} {word}" if lines[-1] else word
        if lines[-1] and len(_visible_text(candidate)) > width:
            lines.append(word)
        else:
            lines[-1] = candidate
    return "\n".join(lines)


def data_array(name: str, value, ndim: int | None = None, shape: tuple | None = None,
               allow_nan: bool = False) -> np.ndarray:
    """``value`` as a float array for plotting (:func:`numerics.shared.arrays.float_array`):
    numbers only, of dimension ``ndim`` / shape ``shape`` when given, no infinity, and no NaN
    unless ``allow_nan`` (a missing point); else :class:`InputError` naming ``name``."""
    return float_array(name, value, ndim=ndim, shape=shape, allow_nan=allow_nan)


def data_pair(name: str, value, what: str = "(x, y)", allow_nan: bool = False):
    """An optional pair of 1-D arrays of one length (e.g. ``trained=(ns, losses)``): None stays
    None, else ``(x, y)`` as float arrays (:func:`data_array`; NaN in ``y`` with ``allow_nan``),
    or :class:`InputError` naming ``name`` and saying ``what`` the pair holds."""
    if value is None:
        return None
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise InputError(name, type(value).__name__, f"a pair {what} or None")
    x = data_array(f"{name}[0]", value[0], ndim=1)
    return x, data_array(f"{name}[1]", value[1], shape=x.shape, allow_nan=allow_nan)


def _check_canvas(fig, dpi):
    dpi = DPI.check("dpi", dpi)
    width, height = fig.get_size_inches()
    if not (MIN_INCHES <= width <= MAX_INCHES and MIN_INCHES <= height <= MAX_INCHES):
        raise InputError("fig", f"{width:g} x {height:g} inches",
                         f"a figure with sides in [{MIN_INCHES}, {MAX_INCHES}] inches")
    pixels = int(width * dpi) * int(height * dpi)
    if pixels > MAX_PIXELS:
        raise TooLargeError("dpi", dpi, f"a canvas of at most {MAX_PIXELS} pixels (this figure "
                                        f"is {width:g} x {height:g} inches: {pixels})")
    return dpi


def _figure_bytes(fig, fmt: str, dpi: int) -> bytes:
    buffer = io.BytesIO()
    metadata = {"Software": None} if fmt == "png" else (
        {"Creator": None, "Producer": None, "CreationDate": None} if fmt == "pdf" else {"Date": None})
    fig.savefig(buffer, format=fmt, dpi=dpi, metadata=metadata)
    return buffer.getvalue()


def save_figure(fig, path, dpi: int = 300, close: bool = False) -> Path:
    """Write ``fig`` to ``path`` atomically in the format of its suffix (``.png``, ``.pdf`` or
    ``.svg``) and return the path.

    ``dpi``: an integer in [10, 600] (:data:`DPI`; it sets the PNG's pixels and the resolution
    of rasterised parts of PDF/SVG). The figure's sides must be in [0.5, 50] inches and the
    canvas at most 10**8 pixels. ``close``: close the figure afterwards (keep it open to show it
    in a notebook or a gallery).

    Raises :class:`theory.errors.InputError` naming ``path`` for another suffix, an empty path,
    a folder, or a parent folder that does not exist (folders are never created here), naming
    ``dpi`` / ``fig`` for a bad resolution or size; :class:`theory.errors.TooLargeError` for a
    canvas beyond the pixel limit.
    """
    from matplotlib.figure import Figure

    if not isinstance(fig, Figure):
        raise InputError("fig", type(fig).__name__, "a matplotlib Figure")
    path = storage.check_output_file("path", path, tuple(FORMATS))
    dpi = _check_canvas(fig, dpi)
    storage.atomic_write_bytes(path, _figure_bytes(fig, FORMATS[path.suffix.lower()], dpi))
    if close:
        import matplotlib.pyplot as plt

        plt.close(fig)
    return path


def save(fig, path, pdf: bool = False, dpi: int = 300) -> Path:
    """The report's figure writer: ``path`` with its suffix replaced by ``.png`` (and the PDF
    beside it when ``pdf``), written atomically by :func:`save_figure`, then the figure is
    closed. Returns the PNG's path. Same checks as :func:`save_figure`, and the folder must
    exist."""
    text = os.fspath(path) if isinstance(path, (str, os.PathLike)) else None
    if not text or not text.strip() or Path(text).is_dir():
        raise InputError("path", path, "a file path (not empty, not a folder)")
    png = Path(text).with_suffix(".png")
    try:
        save_figure(fig, png, dpi=dpi)
        if pdf:
            save_figure(fig, png.with_suffix(".pdf"), dpi=dpi)
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)
    return png


def horizontal_reference(ax, value: float, label: str, color: str = "black", style: str = "--"):
    """A labelled horizontal line (e.g. an entropy floor) across ``ax`` at the finite ``value``;
    returns the :class:`~matplotlib.lines.Line2D`."""
    FINITE.check("value", value)
    return ax.axhline(value, color=color, linestyle=style, linewidth=1.0, label=label, zorder=1)


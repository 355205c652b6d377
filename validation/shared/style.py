"""Plotting style: the colour-blind-safe palette, sequential colormaps and the ``style`` context.

Plotting
--------
Nothing here touches matplotlib's global state on import: no backend is chosen (Jupyter keeps
its inline display) and ``matplotlib.rcParams`` is only changed inside :func:`style`, through
:func:`matplotlib.rc_context`, and restored when the ``with`` block ends.

>>> from validation.shared.style import style, PALETTE
>>> with style("paper", columns=2):
...     pass                       # figures created here are 7.0 in wide, 8 pt text

The plot functions of every paper (``validation/<topic>/plots.py``) draw inside the active style;
called outside any ``with style(...)`` block and without an ``ax``, they use ``style("paper")``.

Colours: :data:`PALETTE` is the Okabe-Ito palette (Okabe and Ito, "Color Universal Design",
2008), distinguishable under the common colour-vision deficiencies; :data:`SEQUENTIAL` and
:data:`SEQUENTIAL_ALT` are perceptually uniform colormaps for values (viridis, cividis).
"""

from __future__ import annotations

import contextlib
import contextvars

from theory.domains import choice, integer

__all__ = ["PALETTE", "COLORS", "SEQUENTIAL", "SEQUENTIAL_ALT", "STYLES", "COLUMN_WIDTHS",
           "style", "active_style", "rc_parameters"]

#: Okabe-Ito colours by name (hex), in the order of :data:`PALETTE`.
COLORS = {"blue": "#0072B2", "vermillion": "#D55E00", "green": "#009E73", "orange": "#E69F00",
          "purple": "#CC79A7", "sky": "#56B4E9", "yellow": "#F0E442", "black": "#000000"}
#: The colour cycle of every figure: Okabe-Ito, darkest first (yellow, hard to see on white,
#: comes last among the colours).
PALETTE: tuple[str, ...] = tuple(COLORS.values())
#: Colormap for a value shown as colour (loss, density): perceptually uniform, colour-blind safe.
SEQUENTIAL = "viridis"
#: A second sequential colormap (for a second valued field in the same figure).
SEQUENTIAL_ALT = "cividis"

#: Figure widths (inches) per style and number of columns: "paper" follows the common
#: one-column (3.4 in) and two-column (7.0 in) widths of journals; "talk" is a 16:9 slide.
COLUMN_WIDTHS = {"paper": {1: 3.4, 2: 7.0}, "talk": {1: 6.4, 2: 12.8}}
#: The style names.
STYLES = choice(*COLUMN_WIDTHS)
_COLUMNS = integer(1, 2)

#: Figure heights (inches) per style: room for a legend below the axes.
_HEIGHTS = {"paper": 3.0, "talk": 4.8}
#: Font sizes (points): base text, axis labels, titles, legend and tick labels.
_FONTS = {"paper": (8, 8, 9, 7, 7), "talk": (14, 16, 17, 12, 13)}
_LINES = {"paper": (1.2, 4.0), "talk": (2.2, 7.0)}

_ACTIVE: contextvars.ContextVar = contextvars.ContextVar("ttc_plot_style", default=None)


def rc_parameters(name: str = "paper", columns: int = 1) -> dict:
    """The ``rcParams`` entries of the style ``name`` (``"paper"`` or ``"talk"``) for a figure
    ``columns`` (1 or 2) wide: figure size (width from :data:`COLUMN_WIDTHS`, height 3.0 in for
    "paper", 4.8 in for "talk"), font sizes, line widths, the :data:`PALETTE` colour cycle, mathtext in
    the text font, constrained layout, 300 dpi for saving."""
    from cycler import cycler

    STYLES.check("name", name)
    _COLUMNS.check("columns", columns)
    width, height = COLUMN_WIDTHS[name][columns], _HEIGHTS[name]
    base, label, title, legend, tick = _FONTS[name]
    line, marker = _LINES[name]
    return {"figure.figsize": (width, height), "figure.constrained_layout.use": True,
            "font.size": base, "axes.labelsize": label, "axes.titlesize": title,
            "legend.fontsize": legend, "xtick.labelsize": tick, "ytick.labelsize": tick,
            "lines.linewidth": line, "lines.markersize": marker, "errorbar.capsize": 2.5,
            "axes.prop_cycle": cycler(color=list(PALETTE)), "axes.linewidth": 0.8,
            "legend.frameon": False, "legend.handlelength": 1.8, "image.cmap": SEQUENTIAL,
            "mathtext.fontset": "dejavusans", "savefig.dpi": 300, "figure.dpi": 100}


def active_style():
    """``(name, columns)`` of the innermost active :func:`style` block, or None."""
    return _ACTIVE.get()


@contextlib.contextmanager
def style(name: str = "paper", columns: int = 1):
    """Context manager: draw with the style ``name`` (``"paper"``: 3.4 or 7.0 in wide, 8-9 pt
    text; ``"talk"``: 6.4 or 12.8 in wide, 12-17 pt text) for ``columns`` in {1, 2}.

    Uses :func:`matplotlib.rc_context`, so ``matplotlib.rcParams`` is restored on exit (also
    after an exception); the backend is never changed. Figures keep the fonts they were drawn
    with: draw *and* save inside the block, or save later (sizes are fixed at drawing time).

    Raises :class:`theory.errors.InputError` for an unknown ``name`` or ``columns``.
    """
    import matplotlib

    parameters = rc_parameters(name, columns)
    token = _ACTIVE.set((name, columns))
    try:
        with matplotlib.rc_context(parameters):
            try:
                yield parameters
            finally:
                # A first figure inside the block may activate the backend (Jupyter's inline
                # backend then turns interactive mode on): keep that, or later figures of the
                # notebook would no longer display.
                interactive = matplotlib.rcParams["interactive"]
        matplotlib.interactive(interactive)
    finally:
        _ACTIVE.reset(token)

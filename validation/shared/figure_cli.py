"""Command-line options shared by the ``ttc`` commands that write a figure.

Plotting
--------
A figure command declares its options with :func:`add_figure_options`: ``--out FILE`` (.png,
.pdf or .svg: the format comes from the suffix; the folder must exist), ``--dpi`` (an integer in
[10, 600], default 300), the deprecated ``--pdf`` (also write the PDF beside a PNG) and any axis
ranges (``--e-range LOW:HIGH``, read strictly by :class:`RangeType`). It draws inside
``style("paper", ...)`` and writes with :func:`write_figure`, which returns the ``--json`` keys
``figure``, ``format``, ``dpi`` (and ``pdf`` with ``--pdf``).

Every option is declared through :func:`validation.cli.add_argument` (or a subclass of its types),
so the fuzz table of the tests covers it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from theory.domains import Domain
from theory.errors import InputError
from validation.cli import DomainType, add_argument
from validation.shared.plots import DPI, FORMATS, save_figure

__all__ = ["RangeType", "add_range_argument", "add_figure_options", "write_figure"]


class RangeType(DomainType):
    """argparse ``type`` for an axis range ``LOW:HIGH``: both ends read strictly through
    ``domain`` (:meth:`theory.domains.Domain.parse`) and ``LOW < HIGH``; returns
    ``(low, high)``. The fuzz table reads ``domain`` as for a single value (every such value
    lacks the colon and is refused)."""

    def __init__(self, flag: str, domain: Domain):
        super().__init__(flag, domain)
        self.__name__ = f"range of {domain.kind}"

    def __call__(self, text: str):
        parts = text.split(":")
        if len(parts) != 2 or not all(part.strip() for part in parts):
            raise argparse.ArgumentTypeError(
                f"{text[:60]!r}: expected LOW:HIGH with LOW < HIGH, each {self.domain.describe()} "
                "(e.g. -2:2)")
        low, high = (DomainType.__call__(self, part.strip()) for part in parts)
        if not low < high:
            raise argparse.ArgumentTypeError(f"{text[:60]!r}: expected LOW < HIGH")
        return (low, high)


def add_range_argument(parser, flag: str, domain: Domain, default: tuple | None,
                       help: str = ""):
    """Declare the axis range ``flag`` (``LOW:HIGH``, each end in ``domain``) with its
    ``default`` pair (or None: the command chooses)."""
    shown = "" if default is None else f" (default {default[0]:g}:{default[1]:g})"
    text = f"{help}{shown}; LOW < HIGH, each end"
    action = add_argument(parser, flag, domain, help=text, metavar="LOW:HIGH",
                          default=None if default is None else tuple(default))
    action.type = RangeType(flag, domain)
    return action


def add_figure_options(parser, ranges: dict | None = None) -> None:
    """Declare ``--out`` (required), ``--dpi``, ``--pdf`` and the axis ranges
    ``{flag: (domain, default pair, help)}`` of a figure command."""
    add_argument(parser, "--out", path="output", suffixes=tuple(FORMATS), required=True,
                 metavar="FILE",
                 help="FILE.png, FILE.pdf or FILE.svg: the format comes from the suffix; the "
                      "folder must exist (written atomically)")
    add_argument(parser, "--dpi", DPI, default=300,
                 help="resolution of the PNG (and of rasterised parts of PDF/SVG)")
    parser.add_argument("--pdf", action="store_true",
                        help="deprecated: also write FILE.pdf beside a .png (use --out FILE.pdf)")
    for flag, (domain, default, text) in (ranges or {}).items():
        add_range_argument(parser, flag, domain, default, text)


def write_figure(args, fig) -> dict:
    """Write ``fig`` to ``args.out`` at ``args.dpi`` (and the PDF beside it with ``--pdf``),
    close it, and return the ``--json`` keys ``figure``, ``format``, ``dpi`` (and ``pdf``)."""
    import matplotlib.pyplot as plt

    out = Path(args.out)
    try:
        path = save_figure(fig, out, dpi=args.dpi)
        extra = {}
        if args.pdf and out.suffix.lower() != ".pdf":
            extra["pdf"] = str(save_figure(fig, out.with_suffix(".pdf"), dpi=args.dpi))
    except InputError as exc:  # name the option, not the Python argument
        flag = {"path": "--out", "dpi": "--dpi"}.get(exc.name, exc.name)
        raise type(exc)(flag, exc.value, exc.expected) from None
    finally:
        plt.close(fig)
    return {"figure": str(path), "format": FORMATS[out.suffix.lower()], "dpi": args.dpi, **extra}

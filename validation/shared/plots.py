"""Shared plotting helpers (matplotlib, Agg backend). Library functions take ``ax=None`` and
return the axes; nothing here opens a window (figures are saved, never shown)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from numerics.shared import storage  # noqa: E402


def axes(ax=None, figsize=(6.0, 4.5)):
    """Return ``ax`` or a new axes on a new figure."""
    if ax is not None:
        return ax
    _, ax = plt.subplots(figsize=figsize, constrained_layout=True)
    return ax


def save(fig, path, pdf: bool = False, dpi: int = 130) -> Path:
    """Save ``fig`` as PNG (and PDF beside it when ``pdf``) atomically, then close it."""
    import io

    path = Path(path)
    for suffix in (".png", ".pdf") if pdf else (".png",):
        buffer = io.BytesIO()
        fig.savefig(buffer, format=suffix[1:], dpi=dpi)
        storage.atomic_write_bytes(path.with_suffix(suffix), buffer.getvalue())
    plt.close(fig)
    return path.with_suffix(".png")


def horizontal_reference(ax, value: float, label: str, color: str, style: str = "--"):
    """A labelled horizontal line (e.g. an entropy floor) across ``ax``."""
    ax.axhline(value, color=color, linestyle=style, linewidth=1.2, label=label)
    return ax

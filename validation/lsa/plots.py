"""Figures of Ding et al. 2025: loss against n, the realisable region, accuracy against depth.

Each function takes ``ax=None`` and returns the axes.
"""

from __future__ import annotations

import numpy as np

from validation.shared.plots import axes


def loss_against_n(ns, fstar, best, trained=None, d: int = 1, ax=None):
    """f~*(n) (enlarged space), the best one-layer LSA loss and trained losses against n (Ding et
    al. 2025, Sec. 3 realisability gap). ``trained``: ``(ns, losses)`` or None."""
    ax = axes(ax)
    ax.plot(ns, fstar, "o-", label=r"$\tilde f^*$ (enlarged space)", color="C0")
    ax.plot(ns, best, "s--", label="best one-layer LSA (global search)", color="C3")
    if trained is not None:
        tn, tl = trained
        ax.plot(tn, tl, "k^", label="trained LSA (torch)", markersize=7)
    ax.set_xlabel("context chains n")
    ax.set_ylabel("population loss")
    ax.set_title(f"d = {d}")
    ax.legend(fontsize=8)
    return ax


def realizable_region(p_grid, n_grid, realizable, n_min=None, ax=None):
    """The (p, n) plane coloured by whether X* is in the image of phi (d = 1; Ding et al. 2025,
    Thm 3.3). ``realizable``: bool array of shape ``(len(p_grid), len(n_grid))``; ``n_min``:
    ``(ps, smallest realisable n)`` or None."""
    ax = axes(ax)
    P, Nn = np.meshgrid(p_grid, n_grid, indexing="ij")
    ax.pcolormesh(P, Nn, np.asarray(realizable, float), shading="nearest", cmap="RdYlGn",
                  vmin=0, vmax=1)
    if n_min is not None:
        ax.plot(*n_min, "k.-", label="smallest realisable n (exact)")
        ax.legend(fontsize=8, loc="upper left")
    ax.set_xlabel("p = P(s_1 = 1)")
    ax.set_ylabel("n")
    ax.set_title("d = 1: X* realisable (green) or not (red)")
    return ax


def accuracy_against_depth(layers, accuracy, se, paper=None, ax=None):
    """Next-state accuracy of trained LSA against the number of layers (Ding et al. 2025, Sec. 4,
    Fig. 3); error bars are 2 standard errors. ``paper``: ``(layers, accuracies)`` reported."""
    ax = axes(ax)
    ax.errorbar(layers, accuracy, yerr=2 * np.asarray(se), fmt="o-", capsize=4, label="this library")
    if paper is not None:
        ax.plot(*paper, "x--", color="gray", label="paper (reported)")
    ax.set_xlabel("layers")
    ax.set_ylabel("accuracy")
    ax.set_xticks(list(layers))
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=8)
    return ax

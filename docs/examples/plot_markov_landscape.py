r"""
Markov: the canonical landscape and its basins
==============================================

P2 (Makkuva et al. 2024, Sec. 3, Figs. 2-3): the profiled loss :math:`L^*(e, w) = \min_b
L(e, w, b)` of the canonical model for one chain with :math:`p + q < 1` and one with
:math:`p + q > 1`, with the global-minimum curve :math:`e^2(1 + 2w|w|) = \log\frac{(1-p)(1-q)}{pq}`,
the unigram line (solid: local minima, dashed: local maxima along :math:`e`), the saddle
:math:`(0, -1/\sqrt2)`, the separatrix of the energy and the hatched unigram basin.

Functions: :func:`validation.markov.plots.plot_landscape` (drawing),
:func:`numerics.markov.canonical.landscape` and :func:`numerics.markov.canonical.critical_summary`
(the numbers). Claims: ``markov.global_curve``, ``markov.unigram_hessian``, ``markov.basins``.
"""

import os

import matplotlib.pyplot as plt

from validation.markov.plots import plot_landscape
from validation.shared.plots import save_figure
from validation.shared.style import style

# TTC_DOCS_SMALL=1: a coarse grid (the documentation build); otherwise the paper's resolution
GRID = 80 if os.environ.get("TTC_DOCS_SMALL") == "1" else 400

with style("paper", columns=2):
    fig, axes = plt.subplots(1, 2, constrained_layout=True)
    for ax, (p, q) in zip(axes, [(0.2, 0.3), (0.5, 0.8)]):
        plot_landscape(p, q, ax=ax, n=GRID)
        ax.set_title(f"p = {p}, q = {q} (p + q {'<' if p + q < 1 else '>'} 1)")
    save_figure(fig, "markov_landscape.pdf")

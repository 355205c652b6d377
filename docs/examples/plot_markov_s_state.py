r"""
Markov: the S-state band where the unigram point is still a local minimum
=========================================================================

P1's S-state extension: is the tied model's unigram point a local minimum exactly when
:math:`p > (S-1)/S`? No: with :math:`\lambda = 1 - pS/(S-1)` it is also a local minimum in a thin
band :math:`0 \le \lambda < \lambda^*` (shaded), where :math:`\lambda^* \approx \tfrac12
\lambda_{\min}(\mathrm{Cov}_n z_n(0))` does not depend on :math:`S`. The curves are the smallest
eigenvalue of the exact Hessian on the non-flat subspace, scaled by :math:`S/4` so that all
:math:`S` coincide.

Functions: :func:`validation.markov.unigram.unigram_classification` (exact Hessian, here its
polynomial form in :math:`\lambda`), :func:`validation.markov.unigram.band_edge` (the measured
:math:`\lambda^*`), :func:`validation.markov.states.initial_parameters`. Claim:
``markov.s_state_unigram`` (expected refuted); ``ttc check markov.unigram_local_min``.
"""

import os

import matplotlib.pyplot as plt
import numpy as np

from validation.markov import states, unigram
from validation.shared.plots import save_figure
from validation.shared.style import style

# TTC_DOCS_SMALL=1: fewer points per curve (the documentation build)
POINTS = 25 if os.environ.get("TTC_DOCS_SMALL") == "1" else 141
D, N = 4, 6                                     # the model of the claim: width 4, 6 tokens

params = states.initial_parameters(2, D, N, seed=0)
edge = unigram.band_edge(params).lambda_star
lams = np.linspace(-3 * edge, 4 * edge, POINTS)

with style("paper", columns=1):
    fig, ax = plt.subplots(constrained_layout=True)
    for S, dash in zip((2, 3, 4, 5), ("-", "--", ":", "-.")):
        mins = [unigram.unigram_classification(S, (1 - lam) * (S - 1) / S, params=params,
                                                method="polynomial").min_eigenvalue * S / 4
                for lam in lams]
        ax.plot(lams, mins, linestyle=dash, label=f"S = {S}")
    ax.axvspan(0.0, edge, color="0.85", label=r"local minimum although $p < (S-1)/S$")
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.axvline(0.0, color="black", linewidth=0.8)
    ax.set(xlabel=r"$\lambda = 1 - pS/(S-1)$", ylabel=r"$(S/4)\,\times$ min eigenvalue",
           title=rf"band $0 \leq \lambda < \lambda^* = {edge:.3g}$")
    ax.legend(loc="upper right")
    save_figure(fig, "markov_s_state_band.pdf")

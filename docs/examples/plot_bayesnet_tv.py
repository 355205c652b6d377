r"""
Bayesian networks: total variation against the context length
==============================================================

Cao et al. 2025, Sec. 5: a one-layer one-head transformer trained on contexts of a chain network
with fresh random CPTs. Mean TV, on held-out CPTs, against the context length :math:`N`: the
transformer against the in-context MLE, and the transformer, the MLE and the naive estimator
(conditioning on every predecessor) against the true CPT. The transformer tracks the MLE.

Functions: :func:`validation.bayesnet.training.train_and_evaluate`,
:func:`validation.bayesnet.plots.plot_tv_vs_length`. Claims: ``bayesnet.trained_vs_mle``,
``bayesnet.trained_tracks_mle``.
"""

import os

from validation.bayesnet.plots import plot_tv_vs_length
from validation.bayesnet.training import train_and_evaluate
from validation.shared.plots import save_figure
from validation.shared.style import style

# TTC_DOCS_SMALL=1: a short training run and few held-out episodes (the documentation build)
SMALL = os.environ.get("TTC_DOCS_SMALL") == "1"
STEPS, EPISODES = (60, 8) if SMALL else (1500, 96)

report = train_and_evaluate("chain", layers=1, heads=1, steps=STEPS, seed=0, episodes=EPISODES)

with style("paper", columns=1):
    result = plot_tv_vs_length(report.curves, title=f"chain, 1 layer 1 head, {STEPS} steps")
    save_figure(result.figure, "bayesnet_tv.pdf")

r"""
Potts: couplings learned by one factored attention layer
========================================================

Rende et al. 2024, Sec. II: one layer of factored attention trained by masked language modelling
is pseudo-likelihood inference of the Potts couplings :math:`J_{ij}(a, b) = J_{ij} U_{ab}`. We
sample a default model (random symmetric :math:`J` and :math:`U`) with Gibbs sampling, fit the
factored layer :math:`(A, V)` on nested sample sets and compare the learned couplings
:math:`A_{ij}(PVP)_{ab}` with the true :math:`\beta J_{ij}(PUP)_{ab}` in the zero-sum gauge
(:math:`P = I - \tfrac1C\mathbf 1\mathbf 1^\top`). Left: learned against true at the largest
sample size; right: the relative error falls like :math:`M^{-1/2}`.

Functions: :func:`numerics.potts.population.default_model`,
:func:`validation.potts.experiments.coupling_decay` (Gibbs sampling and
:func:`numerics.potts.inverse.fit_factored`), :func:`validation.potts.plots.plot_couplings`,
:func:`validation.potts.plots.plot_decay`. Claims: ``potts.mapping``, ``potts.coupling_decay``.
"""

import os

import matplotlib.pyplot as plt
import numpy as np

from numerics.potts.population import centering, default_model
from validation.potts.experiments import coupling_decay
from validation.potts.plots import plot_couplings, plot_decay
from validation.shared.plots import save_figure
from validation.shared.style import style

# TTC_DOCS_SMALL=1: a small model and few samples (the documentation build)
SMALL = os.environ.get("TTC_DOCS_SMALL") == "1"
L, C = (6, 3) if SMALL else (10, 5)
SIZES = [400, 800, 1600] if SMALL else [500, 1000, 2000, 4000, 8000]

model = default_model(L, C, seed=0)
decay = coupling_decay(model, SIZES, seed=0)
fit = decay.fits[-1]
P = centering(C)
off = ~np.eye(L, dtype=bool)
true = np.einsum("ij,ab->ijab", model.beta * model.J, P @ model.U @ P)[off].ravel()
learned = np.einsum("ij,ab->ijab", fit.A, P @ fit.V @ P)[off].ravel()

with style("paper", columns=2):
    fig, (left, right) = plt.subplots(1, 2, constrained_layout=True)
    plot_couplings(true, learned, ax=left, label=f"factored fit, M = {SIZES[-1]}")
    plot_decay(decay.M, decay.error, decay.slope, ax=right)
    save_figure(fig, "potts_couplings.pdf")

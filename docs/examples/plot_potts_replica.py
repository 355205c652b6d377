r"""
Potts: replica curves against simulations
=========================================

Rende et al. 2024, Sec. V, in the library's two reference scenarios (the paper's replica set-up
is not fully specified; R1 and R2 are the library's reconstruction). One attention row
:math:`w = \sqrt N A_{i,\cdot}` is learned from :math:`M = \alpha N` samples with a ridge penalty.
Left (R1, logistic teacher): the coupling error :math:`\varepsilon_J` predicted by the replica
saddle point against trained rows. Right (R2, square loss): the closed-form test error against
ridge regression, with the Bayes floor :math:`\Delta`.

Functions: :func:`numerics.potts.replica.r1_curve`, :func:`numerics.potts.replica.r2_curve`,
:func:`validation.potts.experiments.simulate_r1`,
:func:`validation.potts.experiments.fit_attention_row`, :func:`validation.potts.plots.plot_replica`.
Claims: ``potts.r1_solver``, ``potts.r1_simulation``, ``potts.r2_closed_form``,
``potts.r2_simulation``.
"""

import math
import os

import matplotlib.pyplot as plt
import numpy as np

from numerics.potts.replica import r1_curve, r2_curve
from validation.potts.experiments import fit_attention_row, simulate_r1
from validation.potts.plots import plot_replica
from validation.shared.plots import save_figure
from validation.shared.style import style

# TTC_DOCS_SMALL=1: a small N, few alphas and seeds (the documentation build)
SMALL = os.environ.get("TTC_DOCS_SMALL") == "1"
N, SEEDS = (100, range(3)) if SMALL else (500, range(6))
ALPHAS = (1.0, 4.0) if SMALL else (0.5, 1.0, 2.0, 4.0, 8.0)
LAM_R1, LAM_R2, DELTA = 0.1, 0.3, 0.5


def mean_se(values):
    values = np.asarray(values, dtype=float)
    return float(values.mean()), float(values.std(ddof=1) / math.sqrt(len(values)))


# R1: replica theory and trained logistic attention rows
grid = np.linspace(0.3, 9, 15 if SMALL else 60)
r1 = r1_curve(grid, LAM_R1)
sim_r1 = [mean_se(simulate_r1(N, a, LAM_R1, SEEDS).eps_J) for a in ALPHAS]

# R2: closed form and ridge rows, test MSE = Delta + |w_hat - w*|^2 / N
sim_r2 = []
for a in ALPHAS:
    errors = []
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        w = rng.standard_normal(N)
        w *= math.sqrt(N) / np.linalg.norm(w)
        X = rng.standard_normal((int(a * N), N))
        y = X @ w / math.sqrt(N) + math.sqrt(DELTA) * rng.standard_normal(len(X))
        errors.append(DELTA + np.sum((fit_attention_row(X, y, LAM_R2, loss="square") - w) ** 2) / N)
    sim_r2.append(mean_se(errors))

with style("paper", columns=2):
    fig, (left, right) = plt.subplots(1, 2, constrained_layout=True)
    plot_replica(grid, {"R1": r1.eps_J},
                 {"R1": (list(ALPHAS), [m for m, _ in sim_r1], [s for _, s in sim_r1])},
                 "eps_J", ax=left)
    plot_replica(grid, {"R2": r2_curve(grid, LAM_R2, 1.0, DELTA).test_mse},
                 {"R2": (list(ALPHAS), [m for m, _ in sim_r2], [s for _, s in sim_r2])},
                 "test_mse", ax=right, floor=DELTA)
    save_figure(fig, "potts_replica.pdf")

r"""
LSA: where Theorem 3.3's parameters exist, and the loss against n
=================================================================

Ding et al. 2025, Thm 3.3 (:math:`d = 1`). Left: the :math:`(p, n)` pairs where the enlarged
optimum :math:`X^*` lies in the image of :math:`\phi`, i.e. :math:`X_2^{*2} \ge 4X_1^*X_3^*`, so
that the theorem's parameters exist; the markers are the smallest realisable :math:`n` per
:math:`p` (exact rationals). Right: the enlarged optimum :math:`\tilde f^*` against the best loss
an actual one-layer LSA reaches (global search): they agree exactly where :math:`X^*` is
realisable and the gap is the counterexample to "for every :math:`p` and :math:`n`".

Functions: :func:`theory.lsa.theorem33_realizability_polynomial`,
:func:`theory.lsa.smallest_realizable_n`, :func:`numerics.lsa.realizability.loss_curves`,
:func:`validation.lsa.plots.realizable_region`, :func:`validation.lsa.plots.loss_against_n`.
Claims: ``lsa.thm33_realizable`` (expected refuted), ``lsa.gap``.
"""

import os

import matplotlib.pyplot as plt
import numpy as np
import sympy as sp

from numerics.lsa.realizability import loss_curves
from theory import lsa
from validation.lsa.plots import loss_against_n, realizable_region
from validation.shared.plots import save_figure
from validation.shared.style import style

# TTC_DOCS_SMALL=1: fewer p values and context sizes (the documentation build)
SMALL = os.environ.get("TTC_DOCS_SMALL") == "1"
P_MARKS = [sp.Rational(k, 10) for k in range(1, 10)] if SMALL else \
    [sp.Rational(k, 20) for k in range(1, 20)]
NS = list(range(1, 13)) if SMALL else list(range(1, 21))

R = sp.lambdify((lsa.p, lsa.n), lsa.theorem33_realizability_polynomial(), "numpy")
p_grid = np.linspace(0.02, 0.98, 49)
n_grid = np.arange(1, 21)
region = R(p_grid[:, None], n_grid[None, :]) >= 0
n_min = [lsa.smallest_realizable_n(p, 100).n_min for p in P_MARKS]
curves = loss_curves(1, NS, seed=0)

with style("paper", columns=2):
    fig, (left, right) = plt.subplots(1, 2, constrained_layout=True)
    realizable_region(p_grid, n_grid, region, ([float(p) for p in P_MARKS], n_min), ax=left)
    loss_against_n(NS, curves.fstar, curves.best, d=1, ax=right)
    save_figure(fig, "lsa_realizable_region.pdf")

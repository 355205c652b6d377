r"""
Markov: training curves of the single-layer transformer
=======================================================

P1 (Makkuva et al. 2024, Sec. 2, Figs. 2-3): Adam on the full single-layer transformer, tied and
untied, from the ``standard`` and the ``good`` initialisation, with the two levels the theory
predicts: the entropy rate :math:`H(P)` (global minimum) and the unigram entropy :math:`H(\pi)`
(the trap of the tied model when :math:`p + q > 1`).

Functions: :func:`validation.markov.training.train_members` (several seeds in one vectorised
pass), :func:`validation.markov.plots.plot_training_curves`,
:func:`numerics.markov.canonical.chain_summary` (the two levels). Claims: ``markov.F6``,
``markov.fig_training``.
"""

import os

import matplotlib.pyplot as plt

from numerics.markov.canonical import chain_summary
from validation.markov.plots import plot_training_curves
from validation.markov.training import train_members
from validation.shared.plots import save_figure
from validation.shared.style import style

# TTC_DOCS_SMALL=1: short runs on short sequences (the documentation build); otherwise P1's setting
SMALL = os.environ.get("TTC_DOCS_SMALL") == "1"
STEPS, SEQ_LEN = (60, 8) if SMALL else (1000, 64)

with style("paper", columns=2):
    fig, axes = plt.subplots(1, 2, constrained_layout=True)
    for ax, (p, q) in zip(axes, [(0.5, 0.8), (0.2, 0.3)]):
        curves = {}
        for tying in (True, False):
            for init in ("standard", "good"):
                (run,) = train_members(p, q, tying=tying, init=init, steps=STEPS, seeds=[0],
                                       seq_len=SEQ_LEN)
                label = f"{'tied' if tying else 'untied'}, {init}"
                curves[label] = (run.loss_curve.steps, run.loss_curve.losses)
        levels = chain_summary(p, q)
        plot_training_curves(curves, levels.entropy_rate, levels.unigram_entropy, ax=ax)
        ax.set_title(f"p = {p}, q = {q}")
    save_figure(fig, "markov_training.pdf")

"""Figures of the Bayesian-network paper (Cao et al. 2025).

TV against context length, the construction's error against beta, the MLE's rate, one layer
against a deeper model.

Every function takes ``ax=None`` and returns the axes (see :mod:`validation.shared.plots`).
"""

from __future__ import annotations

import numpy as np

from validation.shared.plots import axes


def plot_tv_vs_length(report, title: str = "", ax=None):
    """TV against context length: transformer vs true, MLE vs true, naive vs true, transformer vs MLE
    (Cao et al. 2025, Sec. 5).

    ``report`` is a :class:`validation.bayesnet.training.TvCurves` (curves keyed by ``N``, as ints
    or as strings after a JSON round trip).
    """
    ax = axes(ax)
    styles = {"tv_vs_true": ("transformer vs true", "C0", "o-"),
              "tv_mle_vs_true": ("MLE (true parents) vs true", "C1", "s--"),
              "tv_naive_vs_true": ("naive (all predecessors) vs true", "C2", "^:"),
              "tv_vs_mle": ("transformer vs MLE", "C3", "d-")}
    for key, (label, color, style) in styles.items():
        curve = getattr(report, key)
        if curve:
            lengths = sorted(int(k) for k in curve)
            values = [curve[k] if k in curve else curve[str(k)] for k in lengths]
            ax.plot(lengths, values, style, color=color, label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("context length N")
    ax.set_ylabel("mean total variation")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return ax


def plot_construction_bound(betas, measured, bounds, ax=None):
    """Construction error against beta: measured max TV to the MLE and the bound of Lemma 6.2
    (Cao et al. 2025), :math:`((N-|I|)e^{-\\beta} + e^{-\\beta C})/|I|`."""
    ax = axes(ax)
    ax.semilogy(betas, np.maximum(measured, 1e-17), "o-", label="max TV(construction, MLE)")
    ax.semilogy(betas, bounds, "k--", label="bound ((N-|I|)e^{-β} + e^{-βC})/|I|")
    ax.set_xlabel("β")
    ax.set_ylabel("total variation")
    ax.legend(fontsize=8)
    return ax


def plot_mle_rate(lengths, tv_values, ax=None):
    """Expected TV of the in-context MLE against N, with an :math:`N^{-1/2}` reference line
    (the rate of Cao et al. 2025, Sec. 4)."""
    ax = axes(ax)
    lengths = np.asarray(lengths, dtype=float)
    ax.loglog(lengths, tv_values, "o-", label="E TV(MLE, true) (Monte Carlo)")
    ax.loglog(lengths, tv_values[0] * np.sqrt(lengths[0] / lengths), "k--", label="∝ N^{-1/2}")
    ax.set_xlabel("context length N")
    ax.set_ylabel("expected total variation")
    ax.legend(fontsize=8)
    return ax


def plot_depth_comparison(shallow, deep, labels=("1 layer, 1 head", "3 layers, 2 heads"), ax=None):
    """TV to the truth and to the MLE against N for two trained models (two
    :class:`validation.bayesnet.training.TvCurves` with int keys), with the MLE's curve
    (Cao et al. 2025, Sec. 5.3)."""
    ax = axes(ax)
    lengths = sorted(int(k) for k in shallow.tv_vs_true)
    for report, label, color in ((shallow, labels[0], "C0"), (deep, labels[1], "C3")):
        ax.plot(lengths, [report.tv_vs_true[n] for n in lengths], "o-", color=color, label=f"{label} vs true")
        ax.plot(lengths, [report.tv_vs_mle[n] for n in lengths], "d:", color=color, label=f"{label} vs MLE")
    ax.plot(lengths, [shallow.tv_mle_vs_true[n] for n in lengths], "s--", color="C1", label="MLE vs true")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("context length N")
    ax.set_ylabel("mean total variation")
    ax.legend(fontsize=8)
    return ax

"""Figures of the Potts paper (test loss against M as in Rende et al. 2024, Fig. 2; replica curves,
couplings, representability). Every function takes ``ax=None`` and returns the axes."""

from __future__ import annotations

import numpy as np

from validation.shared.plots import axes, horizontal_reference


def plot_section4(curves, ax=None):
    """Test single-mask MLM loss against the number of training sequences M, one line per model,
    with the conditional-entropy floor (Rende et al. 2024, Fig. 2). ``curves``: a
    :class:`validation.potts.experiments.Section4Curves`."""
    ax = axes(ax)
    M = np.asarray(curves.M)
    ax.plot(M, curves.factored, "o-", color="C3", label="factored attention (1 layer)")
    for k, (layers, values) in enumerate(sorted(curves.standard.items(), key=lambda kv: str(kv[0]))):
        ax.plot(M[len(M) - len(values):], values, "s--", color=f"C{k}",
                label=f"standard encoder, {layers} layer(s)")
    horizontal_reference(ax, curves.floor, "floor: mean conditional entropy", "k")
    ax.set_xscale("log")
    ax.set_xlabel("training sequences M")
    ax.set_ylabel("test MLM loss (nats)")
    ax.legend(fontsize=8)
    return ax


def plot_replica(alpha_theory, theory: dict, sims: dict, key: str, ylabel: str, ax=None, floor=None):
    """Theory line(s) ``theory[label] -> values`` against ``alpha_theory`` and simulation points
    ``sims[label] -> (alpha, mean, stderr)``."""
    ax = axes(ax)
    for k, (label, values) in enumerate(theory.items()):
        ax.plot(alpha_theory, values, "-", color=f"C{k}", label=f"theory {label}")
    for k, (label, (a, mean, se)) in enumerate(sims.items()):
        ax.errorbar(a, mean, yerr=se, fmt="o", color=f"C{k}", capsize=3, label=f"simulation {label}")
    if floor is not None:
        horizontal_reference(ax, floor, "Bayes floor", "k", ":")
    ax.set_xlabel(r"$\alpha = M/N$")
    ax.set_ylabel(ylabel)
    ax.set_title(key)
    ax.legend(fontsize=7)
    return ax


def plot_couplings(true, learned, ax=None, label="factored fit"):
    """Learned against true couplings (zero-sum gauge entries), with the diagonal."""
    ax = axes(ax, figsize=(4.5, 4.5))
    t, l = np.ravel(true), np.ravel(learned)
    ax.plot(t, l, ".", ms=2, alpha=0.5, label=label)
    lim = float(np.max(np.abs(np.concatenate([t, l])))) * 1.05
    ax.plot([-lim, lim], [-lim, lim], "k--", lw=1)
    ax.set_xlabel("true coupling (zero-sum gauge)")
    ax.set_ylabel("learned coupling (zero-sum gauge)")
    ax.legend(fontsize=8)
    return ax


def plot_decay(M, errors, slope: float, ax=None):
    """Coupling error against M on log-log axes with the M^{-1/2} reference."""
    ax = axes(ax)
    M, errors = np.asarray(M, float), np.asarray(errors, float)
    ax.loglog(M, errors, "o-", label=f"factored fit (slope {slope:.2f})")
    ax.loglog(M, errors[0] * np.sqrt(M[0] / M), "k--", label=r"$M^{-1/2}$")
    ax.set_xlabel("samples M")
    ax.set_ylabel("relative coupling error")
    ax.legend(fontsize=8)
    return ax


def plot_gaps(gaps: dict, ax=None):
    """Bar chart of the population-loss gap to the optimum for each attention variant."""
    ax = axes(ax, figsize=(4.5, 3.5))
    names = list(gaps)
    ax.bar(names, [max(gaps[n], 1e-17) for n in names], color=["C2", "C3", "C1"][: len(names)])
    ax.set_yscale("log")
    ax.set_ylabel("best population loss - optimum (nats)")
    ax.set_title("Ising anchor, mixed-sign J")
    return ax

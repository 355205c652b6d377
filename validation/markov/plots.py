"""Figures of the Markov papers: the canonical landscape and training curves with H(P), H(pi).

The landscape is in the style of P2's Figs. 2-3, the training curves of P1's Figs. 2-3."""

from __future__ import annotations

import numpy as np
from matplotlib.colors import ListedColormap

from numerics.markov import canonical
from validation.shared.plots import axes, horizontal_reference


def plot_landscape(p: float, q: float, ax=None, n: int = 400, e_range=(-2.0, 2.0),
                   w_range=(-2.0, 1.5)):
    """Profiled loss contours over ``(e, w)`` with the two basins shaded (blue: global minima,
    orange: unigram local minima), the global-minimum curve (green), the unigram line ``e = 0``
    (solid where it is a local minimum along ``e``, dashed red where a maximum), the saddle
    ``(0, -1/sqrt2)`` and arrows of the profiled gradient flow. Returns the axes."""
    ax = axes(ax)
    data = canonical.landscape(p, q, e_range, w_range, n)
    e, w = data.e, data.w
    basin = np.where(data.basin == 1, 1.0, np.where(data.basin == 0, 0.0, np.nan))
    ax.pcolormesh(e, w, basin, cmap=ListedColormap(["#fde0c5", "#cfe3f7"]), vmin=0, vmax=1,
                  shading="auto", rasterized=True)
    loss = data.loss
    levels = np.quantile(loss[np.isfinite(loss)], np.linspace(0.02, 0.9, 14))
    ax.contour(e, w, loss, levels=np.unique(levels), colors="0.35", linewidths=0.6)
    curve = data.global_curve_e
    ax.plot(curve, w, color="green", lw=2, label="global minima $e^2(1+2w|w|)=C$")
    ax.plot(-curve, w, color="green", lw=2)
    minimum = data.unigram_curvature > 0
    ax.plot(np.where(minimum, 0.0, np.nan), w, color="navy", lw=2.5, label="unigram: local min")
    ax.plot(np.where(~minimum, 0.0, np.nan), w, color="crimson", lw=2.5, ls="--",
            label="unigram: local max in $e$")
    # the separatrix E = E* where it separates the basins: -1/sqrt2 < w < 0 if p+q>1, else below
    ws = w[(w < 0) & ((w > -canonical.SQRT_HALF) == (canonical.regime(p, q) == "p+q>1"))]
    sep = ws**2 - np.log(-ws) + canonical.SADDLE_ENERGY
    ok = sep >= 0
    ax.plot(np.sqrt(sep[ok]), ws[ok], color="k", lw=1, ls=":", label="separatrix $E=E^*$")
    ax.plot(-np.sqrt(sep[ok]), ws[ok], color="k", lw=1, ls=":")
    ax.plot([0], [-canonical.SQRT_HALF], "kX", ms=9, label="saddle")
    ge, gw = np.meshgrid(np.linspace(*e_range, 17)[1:-1], np.linspace(*w_range, 15)[1:-1])
    grad = canonical.canonical_gradient(p, q, ge, gw, canonical.optimal_bias(p, q, ge, gw))
    norm = np.hypot(grad[..., 0], grad[..., 1]) + 1e-12
    ax.quiver(ge, gw, -grad[..., 0] / norm, -grad[..., 1] / norm, color="0.2", alpha=0.6,
              scale=30, width=0.003)
    ax.set(xlabel="$e$", ylabel="$w$", xlim=e_range, ylim=w_range,
           title=f"p={p:g}, q={q:g} ({canonical.regime(p, q)}): profiled loss, basins")
    ax.legend(loc="lower left", fontsize=7, framealpha=0.85)
    return ax


def plot_training_curves(curves: dict, entropy_rate: float, unigram_entropy: float, ax=None):
    """Loss against step for each labelled curve ``{label: (steps, losses)}`` with horizontal
    lines at :math:`H(P)` (global minimum, dashed black) and :math:`H(\\pi)` (unigram trap,
    dotted red). Returns the axes."""
    ax = axes(ax)
    for label, (steps, losses) in curves.items():
        ax.plot(steps, losses, lw=1.2, label=label)
    horizontal_reference(ax, entropy_rate, f"H(P) = {entropy_rate:.4f}", "k")
    horizontal_reference(ax, unigram_entropy, f"H(pi) = {unigram_entropy:.4f}", "tab:red", ":")
    ax.set(xlabel="step", ylabel="loss (nats)")
    ax.legend(fontsize=8)
    return ax

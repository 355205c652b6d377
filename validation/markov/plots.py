"""Figures of the Markov papers: the canonical landscape and training curves with H(P), H(pi).

Plotting
--------
:func:`plot_landscape` draws the profiled loss of the canonical model in the style of P2's
Figs. 2-3 (Makkuva et al. 2024, arXiv 2406.03072); :func:`plot_training_curves` the training
curves of P1's Figs. 2-3 (arXiv 2402.04161). Both take ``ax=None`` and return a
:class:`validation.shared.plots.PlotResult`::

    from validation.markov.plots import plot_landscape
    out = plot_landscape(0.5, 0.8)          # p + q > 1: unigram basin, saddle, separatrix
    out.save("landscape.pdf")

What the landscape marks comes from :func:`numerics.markov.canonical.critical_summary` (the same
critical set ``ttc markov critical`` prints): at ``p + q = 1`` the chain is i.i.d., the whole
unigram line ``e = 0`` (and the line ``w = -1/sqrt 2``) are global minima, and there is no saddle,
no local maximum and no second basin to mark.
"""

from __future__ import annotations

import numpy as np

from numerics.markov import canonical
from theory.errors import InputError
from validation.shared.plots import (CurveColors, PlotResult, add_colorbar, data_array, data_pair,
                                     integer_ticks, legend, legend_patch, new_axes, paper_title,
                                     plot_function)
from validation.shared.style import COLORS

__all__ = ["plot_landscape", "plot_training_curves", "plot_depth_curves", "plot_low_rank",
           "plot_attention_flow", "plot_window_losses"]

_REGIME_TEX = {"p+q>1": "$p+q>1$", "p+q<1": "$p+q<1$", "p+q=1": "$p+q=1$"}


def _interval_mask(w, interval):
    """Where ``w`` lies in ``interval`` = ``[lo, hi]`` (None: unbounded) -- False for None."""
    if interval is None:
        return np.zeros(w.shape, dtype=bool)
    lo, hi = interval
    return (w >= (-np.inf if lo is None else lo)) & (w <= (np.inf if hi is None else hi))


@plot_function
def plot_landscape(p: float, q: float, ax=None, n: int = 400, e_range=(-2.0, 2.0),
                   w_range=(-2.0, 1.5), loc=None, arrows: bool = True,
                   colorbar: bool = True) -> PlotResult:
    """The canonical model's profiled loss :math:`L^*(e, w) = \\min_b L(e, w, b)` over ``(e, w)``
    with its critical set (Makkuva et al. 2024, P2, Sec. 3 and Figs. 2-3).

    Filled contours (viridis, with a colorbar in nats) of :math:`L^*`; the global-minimum curve
    :math:`e^2(1 + 2w|w|) = C`; the unigram line ``e = 0`` solid where it is a local minimum along
    ``e`` and dashed where a local maximum; the separatrix :math:`E(e, w) = E^*` and the hatched
    unigram basin; the saddle ``(0, -1/sqrt 2)``; arrows of the profiled gradient flow. The
    critical set is :func:`numerics.markov.canonical.critical_summary`'s: at ``p + q = 1`` the
    lines ``e = 0`` and ``w = -1/sqrt 2`` are global minima, and no saddle, local maximum,
    separatrix or second basin is drawn.

    Parameters
    ----------
    p, q : float
        Transition probabilities :math:`P(1|0)`, :math:`P(0|1)` in (0, 1).
    ax : matplotlib Axes, optional
        Draw here; default a new figure in the active style.
    n : int
        Grid points per axis (:data:`numerics.markov.canonical.GRID`).
    e_range, w_range : (float, float)
        Axis ranges, ``low < high``.
    loc : None, str or False
        Legend placement (:func:`validation.shared.plots.legend`): None below the figure.
    arrows, colorbar : bool
        Draw the flow arrows / the colorbar.

    Returns
    -------
    PlotResult
        ``contours["loss"]``, ``contours["unigram basin"]`` (absent at p + q = 1),
        ``lines`` keyed ``"global minima"``, ``"unigram: local min"``, ``"unigram: local max in
        e"``, ``"separatrix"``, ``"saddle"`` (only those drawn), ``images["flow"]`` (quiver),
        the colorbar and the legend.
    """
    data = canonical.landscape(p, q, e_range, w_range, n)
    summary = canonical.critical_summary(p, q)
    ax = new_axes(ax, aspect=0.95)
    e, w = data.e, data.w
    lines, contours, images = {}, {}, {}
    loss = data.loss
    levels = np.unique([float(f"{v:.3g}") for v in np.quantile(loss, np.linspace(0, 0.92, 13))])
    levels[0] = min(levels[0], loss.min())
    if levels.size < 2:  # a flat landscape
        levels = np.array([loss.min(), loss.min() + 1e-12])
    contours["loss"] = ax.contourf(e, w, loss, levels=levels, cmap="viridis", extend="max")
    cbar = add_colorbar(contours["loss"], ax, r"profiled loss $L^*(e, w)$ (nats)") if colorbar else None
    if summary.regime != "p+q=1":
        local = (data.basin == 0).astype(float)
        contours["unigram basin"] = ax.contourf(e, w, local, levels=[0.5, 1.5], colors="none",
                                                hatches=["////"])
        contours["unigram basin"].set_edgecolor((1, 1, 1, 0.55))
        contours["unigram basin"].set_linewidth(0.0)
        legend_patch(ax, "unigram basin", facecolor="0.45", edgecolor="white", hatch="////")
    global_color, unigram_color = COLORS["vermillion"], COLORS["sky"]
    curve = data.global_curve_e
    if summary.regime == "p+q=1":
        # C = 0: e^2 (1 + 2w|w|) = 0 is the line e = 0 and the line w = -1/sqrt 2
        lines["global minima"] = (
            ax.plot(np.zeros_like(w), w, color=global_color, lw=2, label="global minima")
            + [ax.axhline(-canonical.SQRT_HALF, color=global_color, lw=2)])
    else:
        lines["global minima"] = (
            ax.plot(curve, w, color=global_color, lw=2, label=r"global minima")
            + ax.plot(-curve, w, color=global_color, lw=2))
        minimum = _interval_mask(w, summary.unigram_local_min_w)
        maximum = _interval_mask(w, summary.unigram_local_max_w)
        lines["unigram: local min"] = ax.plot(np.where(minimum, 0.0, np.nan), w, color=unigram_color,
                                              lw=2.2, label="$e=0$: local min")
        lines["unigram: local max in e"] = ax.plot(np.where(maximum, 0.0, np.nan), w,
                                                   color=unigram_color, lw=1.6, ls="--",
                                                   label="$e=0$: local max in $e$")
        # the separatrix E = E*: -1/sqrt2 < w < 0 if p+q > 1, w < -1/sqrt2 if p+q < 1
        ws = w[(w < 0) & ((w > -canonical.SQRT_HALF) == (summary.regime == "p+q>1"))]
        sep = ws ** 2 - np.log(-ws) + canonical.SADDLE_ENERGY
        ok = sep >= 0
        lines["separatrix"] = (
            ax.plot(np.sqrt(sep[ok]), ws[ok], color=COLORS["orange"], lw=1.4, ls=":",
                    label="separatrix $E=E^*$")
            + ax.plot(-np.sqrt(sep[ok]), ws[ok], color=COLORS["orange"], lw=1.4, ls=":"))
    if summary.saddles:
        lines["saddle"] = ax.plot([s.e for s in summary.saddles], [s.w for s in summary.saddles],
                                  ls="none", marker="X", ms=8, mfc="white", mec="black",
                                  label="saddle", zorder=5)
    if arrows:
        ge, gw = np.meshgrid(np.linspace(*e_range, 15)[1:-1], np.linspace(*w_range, 13)[1:-1])
        grad = canonical.canonical_gradient(p, q, ge, gw, canonical.optimal_bias(p, q, ge, gw))
        norm = np.hypot(grad[..., 0], grad[..., 1]) + 1e-12
        images["flow"] = ax.quiver(ge, gw, -grad[..., 0] / norm, -grad[..., 1] / norm,
                                   color="white", alpha=0.55, scale=28, width=0.004)
    ax.set(xlabel="$e$", ylabel="$w$", xlim=tuple(e_range), ylim=tuple(w_range),
           title=paper_title("markov-p2", f"$p={p:g}$, $q={q:g}$ ({_REGIME_TEX[summary.regime]})"))
    return PlotResult(figure=ax.figure, axes=ax, lines=lines, contours=contours, images=images,
                      colorbar=cbar, legend=legend(ax, loc, default="below"))


@plot_function
def plot_training_curves(curves: dict, entropy_rate: float, unigram_entropy: float, ax=None,
                         loc=None, colors: CurveColors | None = None) -> PlotResult:
    """Loss against training step for each labelled curve, with the two levels of P1's Figs. 2-3
    (Makkuva et al. 2024, P1): the global minimum :math:`H(P)` (entropy rate, dashed) and the
    unigram trap :math:`H(\\pi)` (dotted).

    Parameters
    ----------
    curves : dict
        ``{label: (steps, losses)}``, two 1-D arrays of one length each (losses in nats; NaN marks
        a missing point).
    entropy_rate, unigram_entropy : float
        :math:`H(P)` and :math:`H(\\pi)`, nats.
    ax : matplotlib Axes, optional
    loc : None, str or False
        Legend placement (None: outside on the right).
    colors : CurveColors, optional
        Colours by label (share one between panels so a label keeps its colour).

    Returns
    -------
    PlotResult
        ``lines[label]`` per curve, ``lines["H(P)"]``, ``lines["H(pi)"]``, the legend.
    """
    if not isinstance(curves, dict):
        raise InputError("curves", type(curves).__name__, "a dict {label: (steps, losses)}")
    checked = {label: data_pair(f"curves[{label!r}]", value, "(steps, losses)", allow_nan=True)
               for label, value in curves.items()}
    if any(value is None for value in checked.values()):
        raise InputError("curves", "a None curve", "(steps, losses) for every label")
    for name, value in (("entropy_rate", entropy_rate), ("unigram_entropy", unigram_entropy)):
        data_array(name, value, ndim=0)
    ax = new_axes(ax)
    colors = colors or CurveColors()
    lines = {label: ax.plot(steps, losses, color=colors(label), label=str(label))
             for label, (steps, losses) in checked.items()}
    lines["H(P)"] = [ax.axhline(entropy_rate, color="black", ls="--", lw=1.0,
                                label="$H(P)$: global minimum")]
    lines["H(pi)"] = [ax.axhline(unigram_entropy, color="0.4", ls=":", lw=1.4,
                                 label=r"$H(\pi)$: unigram trap")]
    ax.set(xlabel="training step", ylabel="loss (nats)")
    integer_ticks(ax, "x")
    return PlotResult(figure=ax.figure, axes=ax, lines=lines, contours={}, images={},
                      legend=legend(ax, loc))


def plot_depth_curves(panels: dict, entropy_rate: float, unigram_entropy: float,
                      figsize=(11.0, 4.2)) -> PlotResult:
    """Loss curves per depth (Part 2 D6; P1's depth figure), one panel per title, with the levels
    :math:`H(P)` and :math:`H(\\pi)` (:func:`plot_training_curves` in each panel, colours shared
    so that a depth keeps its colour).

    Parameters
    ----------
    panels : dict
        ``{title: {label: (steps, losses)}}``, e.g. ``{"tied": {"L = 1": (...), ...}, ...}``.
    entropy_rate, unigram_entropy : float
        :math:`H(P)` and :math:`H(\\pi)`, nats.

    Returns
    -------
    PlotResult
        The figure; ``axes`` is the list of panels, ``lines`` maps ``(title, label)`` to lines.
    """
    import matplotlib.pyplot as plt

    if not isinstance(panels, dict) or not panels:
        raise InputError("panels", type(panels).__name__, "a non-empty dict {title: curves}")
    fig, axes_ = plt.subplots(1, len(panels), figsize=figsize, squeeze=False,
                              constrained_layout=True)
    colors = CurveColors()
    lines = {}
    for ax, (title, curves) in zip(axes_[0], panels.items()):
        drawn = plot_training_curves(curves, entropy_rate, unigram_entropy, ax=ax, loc="best",
                                     colors=colors)
        lines.update({(title, label): line for label, line in drawn.lines.items()})
        ax.set_title(str(title))
    return PlotResult(figure=fig, axes=list(axes_[0]), lines=lines, contours={}, images={},
                      legend=None)


# ----------------------------------------------------------------------------------------------
# Part 2 of the specification (higher order, P2's reduction): R4, R5 and K4 figures.


@plot_function
def plot_low_rank(curves: dict, ax=None, loc=None) -> PlotResult:
    """Rank-one energy :math:`\\rho = s_1^2/\\sum_i s_i^2` against the training step (Part 2,
    R4; P2's energy figure, Makkuva et al. 2024, arXiv 2406.03072).

    Parameters
    ----------
    curves : dict
        ``{label: (steps, rho)}`` (e.g. ``"W_V"``, ``"W_1"``, ``"positions"``), ``rho`` in
        [0, 1] (a seed average).
    ax : matplotlib Axes, optional
    loc : None, str or False
        Legend placement.

    Returns
    -------
    PlotResult
        ``lines[label]`` per curve and ``lines["rank one"]`` (the level 1).
    """
    if not isinstance(curves, dict) or not curves:
        raise InputError("curves", type(curves).__name__, "a non-empty dict {label: (steps, rho)}")
    checked = {label: data_pair(f"curves[{label!r}]", value, "(steps, rho)")
               for label, value in curves.items()}
    ax = new_axes(ax)
    colors = CurveColors()
    lines = {label: ax.plot(steps, rho, color=colors(label), marker="o", ms=3, label=str(label))
             for label, (steps, rho) in checked.items()}
    lines["rank one"] = [ax.axhline(1.0, color="black", ls="--", lw=1.0, label="rank one")]
    ax.set(xlabel="training step", ylabel=r"$\rho = s_1^2/\sum_i s_i^2$", ylim=(0, 1.05))
    integer_ticks(ax, "x")
    return PlotResult(figure=ax.figure, axes=ax, lines=lines, contours={}, images={},
                      legend=legend(ax, loc))


@plot_function
def plot_attention_flow(p: float, q: float, flows: list, ax=None, loc=None) -> PlotResult:
    """Gradient-flow trajectories of the (e, w, a) model with the bias profiled (Part 2, R5;
    P2's Fig. 2: the flow of (e, w, a), a the attention scalar), in 3-d.

    Parameters
    ----------
    p, q : float
        The chain (for the title and the end classes).
    flows : list of :class:`numerics.markov.reduction.AttentionFlow`
        Trajectories (``theta`` of shape ``(k, 3)``), e.g. from small starts.
    ax : matplotlib 3-d Axes, optional
        Created (``projection="3d"``) when None.
    loc : None, str or False
        Legend placement.

    Returns
    -------
    PlotResult
        ``lines["to H(P)"]``, ``lines["to H(pi)"]``, ``lines["start"]``.
    """
    import matplotlib.pyplot as plt

    if not isinstance(flows, (list, tuple)) or not flows:
        raise InputError("flows", type(flows).__name__, "a non-empty list of AttentionFlow")
    if ax is None:
        ax = plt.figure(layout="constrained").add_subplot(projection="3d")
    lines = {"to H(P)": [], "to H(pi)": [], "start": []}
    for flow in flows:
        theta = data_array("flow.theta", flow.theta, ndim=2)
        end = canonical.end_state(p, q, float(flow.loss[-1]))
        key = "to H(P)" if end == "global" else "to H(pi)"
        color = COLORS["blue"] if key == "to H(P)" else COLORS["vermillion"]
        label = key if not lines[key] else "_" + key
        lines[key] += ax.plot(theta[:, 0], theta[:, 1], theta[:, 2], color=color, label=label)
        lines["start"] += ax.plot(*theta[0, :, None], "k.", ms=4,
                                  label="start" if not lines["start"] else "_start")
    ax.set(xlabel="$e$", ylabel="$w$", zlabel="$a$")
    ax.set_title(f"$p = {p:g}$, $q = {q:g}$ ({_REGIME_TEX[canonical.regime(p, q)]})")
    return PlotResult(figure=ax.figure, axes=ax, lines=lines, contours={}, images={},
                      legend=legend(ax, loc if loc is not None else "upper right"))


@plot_function
def plot_window_losses(losses: dict, optimal_loss: float, entropy_rate: float,
                       unigram_entropy: float, ax=None, loc=None) -> PlotResult:
    """Final loss against the attention window ``W`` per depth (Part 2, K4), with the lag-k
    optimum :math:`L^*_N` and the levels :math:`H(P)`, :math:`H(\\pi)`.

    Parameters
    ----------
    losses : dict
        ``{label: (windows, final_losses)}``; a causal model is placed at the window ``N``.
    optimal_loss, entropy_rate, unigram_entropy : float
        :math:`L^*_N`, :math:`H(P)`, :math:`H(\\pi)` in nats.

    Returns
    -------
    PlotResult
        ``lines[label]`` per depth, ``lines["L*"]``, ``lines["H(P)"]``, ``lines["H(pi)"]``.
    """
    if not isinstance(losses, dict) or not losses:
        raise InputError("losses", type(losses).__name__, "a non-empty dict {label: (W, loss)}")
    checked = {label: data_pair(f"losses[{label!r}]", value, "(windows, losses)")
               for label, value in losses.items()}
    ax = new_axes(ax)
    colors = CurveColors()
    lines = {label: ax.plot(windows, values, color=colors(label), marker="o", label=str(label))
             for label, (windows, values) in checked.items()}
    lines["L*"] = [ax.axhline(optimal_loss, color="black", ls="--", lw=1.0,
                              label="$L^*_N$: lag-$k$ optimum")]
    lines["H(pi)"] = [ax.axhline(unigram_entropy, color="0.4", ls=":", lw=1.4,
                                 label=r"$H(\pi)$")]
    lines["H(P)"] = [ax.axhline(entropy_rate, color="0.4", ls="-.", lw=1.0, label="$H(P)$")]
    ax.set_xscale("log", base=2)
    ax.set(xlabel="attention window $W$ (causal at $N$)", ylabel="final loss (nats)")
    return PlotResult(figure=ax.figure, axes=ax, lines=lines, contours={}, images={},
                      legend=legend(ax, loc))

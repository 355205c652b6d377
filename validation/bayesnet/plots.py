"""Figures of the Bayesian-network paper (Cao et al. 2025): TV against context length, the
construction's error against beta, the MLE's rate, one layer against a deeper model.

Plotting
--------
Every function takes ``ax=None`` and returns a :class:`validation.shared.plots.PlotResult`
(figure, axes, artists by name; see :mod:`validation.shared.plots`)::

    from validation.bayesnet.plots import plot_mle_rate
    out = plot_mle_rate([10, 100, 1000], [0.2, 0.07, 0.02])
    out.save("mle_rate.svg")

Legends sit outside the data (right of the axes on a wide figure, below a narrow one) unless
``loc`` places them.
"""

from __future__ import annotations

import numpy as np

from theory.errors import InputError
from validation.shared.plots import (CurveColors, PlotResult, data_array, legend, new_axes,
                                     paper_title, plot_function)
from validation.shared.style import COLORS

__all__ = ["plot_tv_vs_length", "plot_construction_bound", "plot_mle_rate",
           "plot_depth_comparison", "plot_family_tv"]

PAPER = "bayesnet-cao"

#: The TV curves of :class:`validation.bayesnet.training.TvCurves`: legend label, colour, style.
TV_CURVES = {"tv_vs_true": ("transformer vs true", COLORS["blue"], "o-"),
             "tv_mle_vs_true": ("MLE (true parents) vs true", COLORS["vermillion"], "s--"),
             "tv_naive_vs_true": ("naive (all predecessors) vs true", COLORS["green"], "^:"),
             "tv_vs_mle": ("transformer vs MLE", COLORS["orange"], "d-")}


def _tv_curve(report, key: str):
    """``(lengths, values)`` of the curve ``key`` of ``report`` (keys as ints or strings)."""
    curve = getattr(report, key, None)
    if curve is None:
        return None
    if not isinstance(curve, dict):
        raise InputError(f"report.{key}", type(curve).__name__, "a dict {N: mean TV} or None")
    try:
        lengths = sorted(int(k) for k in curve)
    except (TypeError, ValueError):
        raise InputError(f"report.{key}", list(curve)[:3], "integer context lengths N as keys") from None
    values = [curve[k] if k in curve else curve[str(k)] for k in lengths]
    return (data_array(f"report.{key}", lengths, ndim=1),
            data_array(f"report.{key}", values, ndim=1, allow_nan=True))


def _positive(ax):
    """Log axes on both sides."""
    ax.set_xscale("log")
    ax.set_yscale("log")


@plot_function
def plot_tv_vs_length(report, title: str = "", ax=None, loc=None) -> PlotResult:
    """Mean total variation against context length N: transformer vs true, MLE vs true, naive vs
    true, transformer vs MLE (Cao et al. 2025, Sec. 5), on log-log axes.

    Parameters
    ----------
    report : validation.bayesnet.training.TvCurves
        Curves keyed by N (ints, or strings after a JSON round trip); absent curves (None or
        empty) are skipped.
    title : str
        Second title line (the first is the paper's label).
    ax : matplotlib Axes, optional
    loc : None, str or False
        Legend placement (:func:`validation.shared.plots.legend`).

    Returns
    -------
    PlotResult
        ``lines[key]`` for each drawn curve key of :data:`TV_CURVES`, the legend.
    """
    if not any(hasattr(report, key) for key in TV_CURVES):
        raise InputError("report", type(report).__name__, "a TvCurves")
    ax = new_axes(ax)
    lines = {}
    for key, (label, color, style) in TV_CURVES.items():
        curve = _tv_curve(report, key)
        if curve is not None and curve[0].size:
            lines[key] = ax.plot(*curve, style, color=color, label=label)
    _positive(ax)
    ax.set(xlabel="context length $N$", ylabel="mean total variation",
           title=paper_title(PAPER, title or "TV against context length"))
    return PlotResult(figure=ax.figure, axes=ax, lines=lines, contours={}, images={},
                      legend=legend(ax, loc))


@plot_function
def plot_construction_bound(betas, measured, bounds, ax=None, loc=None) -> PlotResult:
    """Error of the explicit construction against the attention scale :math:`\\beta`: the
    measured largest TV to the MLE and the bound of Lemma 6.2 (Cao et al. 2025),
    :math:`((N-|I|)e^{-\\beta} + e^{-\\beta C})/|I|`; values at or below 1e-17 are drawn at 1e-17.

    Parameters
    ----------
    betas, measured, bounds : sequence of float
        One length each.
    ax : matplotlib Axes, optional
    loc : None, str or False

    Returns
    -------
    PlotResult
        ``lines["measured"]``, ``lines["bound"]``, the legend.
    """
    betas = data_array("betas", betas, ndim=1)
    measured = data_array("measured", measured, shape=betas.shape)
    bounds = data_array("bounds", bounds, shape=betas.shape)
    ax = new_axes(ax)
    lines = {"measured": ax.semilogy(betas, np.maximum(measured, 1e-17), "o-",
                                     color=COLORS["blue"], label="max TV(construction, MLE)"),
             "bound": ax.semilogy(betas, np.maximum(bounds, 1e-17), "--", color="black", lw=1.0,
                                  label=r"bound $((N-|I|)e^{-\beta} + e^{-\beta C})/|I|$")}
    ax.set(xlabel=r"attention scale $\beta$", ylabel="total variation",
           title=paper_title(PAPER, "construction error (Lemma 6.2)"))
    return PlotResult(figure=ax.figure, axes=ax, lines=lines, contours={}, images={},
                      legend=legend(ax, loc))


@plot_function
def plot_mle_rate(lengths, tv_values, ax=None, loc=None) -> PlotResult:
    """Expected TV of the in-context MLE against N with an :math:`N^{-1/2}` reference line
    through the first point (the rate of Cao et al. 2025, Sec. 4), log-log.

    Parameters
    ----------
    lengths : sequence of int
        Context lengths N (> 0).
    tv_values : sequence of float
        Expected TV (> 0) at each N.
    ax : matplotlib Axes, optional
    loc : None, str or False

    Returns
    -------
    PlotResult
        ``lines["MLE"]``, ``lines["reference"]``, the legend.
    """
    lengths = data_array("lengths", lengths, ndim=1)
    tv = data_array("tv_values", tv_values, shape=lengths.shape)
    if np.any(lengths <= 0) or np.any(tv <= 0):
        raise InputError("lengths" if np.any(lengths <= 0) else "tv_values", "entries <= 0",
                         "positive values (log-log axes)")
    ax = new_axes(ax)
    lines = {"MLE": ax.loglog(lengths, tv, "o-", color=COLORS["blue"],
                              label=r"$E\,\mathrm{TV}(\hat p, p)$ (Monte Carlo)"),
             "reference": ax.loglog(lengths, tv[0] * np.sqrt(lengths[0] / lengths), "--",
                                    color="black", lw=1.0, label=r"$\propto N^{-1/2}$")}
    ax.set(xlabel="context length $N$", ylabel="expected total variation",
           title=paper_title(PAPER, "rate of the in-context MLE"))
    return PlotResult(figure=ax.figure, axes=ax, lines=lines, contours={}, images={},
                      legend=legend(ax, loc))


@plot_function
def plot_depth_comparison(shallow, deep, labels=("1 layer, 1 head", "3 layers, 2 heads"), ax=None,
                          loc=None) -> PlotResult:
    """TV to the truth (solid) and to the MLE (dotted) against N for two trained models, one
    colour per model, with the MLE's own curve (Cao et al. 2025, Sec. 5.3).

    Parameters
    ----------
    shallow, deep : validation.bayesnet.training.TvCurves
        With ``tv_vs_true`` and ``tv_vs_mle`` (int or string keys, the same N in both).
    labels : (str, str)
        Names of the two models.
    ax : matplotlib Axes, optional
    loc : None, str or False

    Returns
    -------
    PlotResult
        ``lines["<label> vs true"]``, ``lines["<label> vs MLE"]``, ``lines["MLE vs true"]``, the
        legend.
    """
    if not isinstance(labels, (tuple, list)) or len(labels) != 2:
        raise InputError("labels", labels, "two model names")
    ax = new_axes(ax)
    colors = CurveColors(labels)
    lines = {}
    for report, label, name in ((shallow, labels[0], "shallow"), (deep, labels[1], "deep")):
        for key, suffix, style in (("tv_vs_true", "vs true", "o-"), ("tv_vs_mle", "vs MLE", "d:")):
            curve = _tv_curve(report, key)
            if curve is None:
                raise InputError(f"{name}.{key}", None, "a dict {N: mean TV} (a trained model)")
            lines[f"{label} {suffix}"] = ax.plot(*curve, style, color=colors(label),
                                                 label=f"{label} {suffix}")
    mle = _tv_curve(shallow, "tv_mle_vs_true")
    if mle is not None:
        lines["MLE vs true"] = ax.plot(*mle, "s--", color="black", lw=1.0, label="MLE vs true")
    _positive(ax)
    ax.set(xlabel="context length $N$", ylabel="mean total variation",
           title=paper_title(PAPER, "one layer against a deeper model"))
    return PlotResult(figure=ax.figure, axes=ax, lines=lines, contours={}, images={},
                      legend=legend(ax, loc))


# ----------------------------------------------------------------------------------------------
# Part 2, Sec. 7 and 9 (graph families, context length): B1's block.


@plot_function
def plot_family_tv(reports: dict, floors: dict | None = None, figsize=(10.0, 3.4)) -> PlotResult:
    """TV to the true CPT against context length N, one panel per graph family (spec Sec. 7):
    the transformer, the MLE with the true parents, the naive estimator (all predecessors), the
    transformer against the MLE and, when given, the Bayes floor (the truncated-Beta posterior
    median's TV, spec Sec. 11), on log-log axes.

    Parameters
    ----------
    reports : dict
        ``{family: TvCurves}`` (:class:`validation.bayesnet.training.TvCurves`, keys N as ints or
        strings).
    floors : dict, optional
        ``{family: {N: mean TV of the floor}}``; families without one draw no floor.
    figsize : (float, float)
        Figure size in inches.

    Returns
    -------
    PlotResult
        ``axes`` the list of panels, ``lines[(family, key)]`` per drawn curve (keys of
        :data:`TV_CURVES` and ``"floor"``), the legend of the first panel.
    """
    import matplotlib.pyplot as plt

    if not isinstance(reports, dict) or not reports:
        raise InputError("reports", type(reports).__name__, "a non-empty dict {family: TvCurves}")
    floors = floors or {}
    if not isinstance(floors, dict):
        raise InputError("floors", type(floors).__name__, "a dict {family: {N: TV}} or None")
    fig, grid = plt.subplots(1, len(reports), figsize=tuple(figsize), squeeze=False,
                             layout="constrained")
    lines = {}
    for ax, (family, report) in zip(grid[0], reports.items()):
        drawn = plot_tv_vs_length(report, ax=ax, loc=False)
        lines.update({(family, key): line for key, line in drawn.lines.items()})
        floor = floors.get(family)
        if floor:
            n = sorted(int(k) for k in floor)
            values = [floor[k] if k in floor else floor[str(k)] for k in n]
            lines[(family, "floor")] = ax.plot(
                data_array(f"floors[{family}]", n, ndim=1),
                data_array(f"floors[{family}]", values, ndim=1), "v-.", color="black", lw=1.0,
                label="Bayes floor (posterior median) vs true")
        ax.set_title(str(family))
    legend_ = legend(grid[0][0], None, default="below")
    return PlotResult(figure=fig, axes=list(grid[0]), lines=lines, contours={}, images={},
                      legend=legend_)


# ----------------------------------------------------------------------------------------------
# Baselines against context length (spec Part 2, Secs. 8, 11, 12)

#: Colours and styles of :func:`plot_estimator_curves`, cycled in the order of the curves.
_ESTIMATOR_STYLES = (("blue", "o-"), ("vermillion", "s--"), ("green", "^:"), ("orange", "d-."),
                     ("purple", "v-"), ("sky", "x--"))


@plot_function
def plot_estimator_curves(curves: dict, errors: dict | None = None, title: str = "",
                          xlabel: str = "context length $N$", ylabel: str = "mean total variation",
                          ax=None, loc=None) -> PlotResult:
    """Several estimators' curves against a size on log-log axes (the in-context baselines of
    spec Part 2, Secs. 8, 11, 12: MLE, floor, Bayes mean, model average, naive, transformer).

    Parameters
    ----------
    curves : dict of str to dict of int to float
        ``{label: {N: value}}``, values > 0 (one line each, in order).
    errors : dict of str to dict of int to float, optional
        Standard errors by the same labels (error bars).
    title, xlabel, ylabel : str
    ax : matplotlib Axes, optional
    loc : None, str or False

    Returns
    -------
    PlotResult
        ``lines[label]`` per curve, the legend.
    """
    if not isinstance(curves, dict) or not curves:
        raise InputError("curves", type(curves).__name__, "a non-empty dict {label: {N: value}}")
    ax = new_axes(ax)
    lines = {}
    for k, (label, curve) in enumerate(curves.items()):
        if not isinstance(curve, dict) or not curve:
            raise InputError(f"curves[{label!r}]", type(curve).__name__, "a non-empty dict {N: value}")
        xs = data_array(f"curves[{label!r}]", sorted(int(n) for n in curve), ndim=1)
        ys = data_array(f"curves[{label!r}]", [curve[n] for n in sorted(curve, key=int)], ndim=1)
        if np.any(xs <= 0) or np.any(ys <= 0):
            raise InputError(f"curves[{label!r}]", "entries <= 0", "positive sizes and values (log-log)")
        color, style = _ESTIMATOR_STYLES[k % len(_ESTIMATOR_STYLES)]
        err = None
        if errors and label in errors:
            err = data_array(f"errors[{label!r}]", [errors[label][n] for n in sorted(curve, key=int)],
                             ndim=1)
        lines[label] = ax.errorbar(xs, ys, yerr=err, fmt=style, color=COLORS.get(color, color),
                                   label=label, ms=4, capsize=2)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set(xlabel=xlabel, ylabel=ylabel, title=paper_title(PAPER, title) if title else "")
    return PlotResult(figure=ax.figure, axes=ax, lines=lines, contours={}, images={},
                      legend=legend(ax, loc))


__all__ += ["plot_estimator_curves"]

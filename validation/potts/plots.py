"""Figures of the Potts paper (Rende et al. 2024): test loss against M (Fig. 2), replica curves
against simulations, learned couplings, the coupling error's decay, the representability gaps.

Plotting
--------
Every function takes ``ax=None`` and returns a :class:`validation.shared.plots.PlotResult`
(figure, axes, artists by name)::

    import numpy as np
    from numerics.potts import replica
    from validation.potts.plots import plot_replica

    alpha = np.linspace(0.2, 4, 60)
    curve = replica.r1_curve(alpha, 0.1)
    out = plot_replica(alpha, {"R1": curve.eps_J}, {"R1": ([1, 2], [0.8, 0.5], [0.02, 0.02])},
                       "eps_J")                 # theory and simulation of "R1" share a colour

In :func:`plot_replica` colour means *curve* (theory and simulation with the same label share
one) and style means *source* (line: theory, points with error bars: simulation).
"""

from __future__ import annotations

import matplotlib.ticker
import numpy as np

from theory.errors import InputError
from validation.shared.plots import (CurveColors, PlotResult, data_array, horizontal_reference,
                                     legend, new_axes, paper_title, plot_function)
from validation.shared.style import COLORS

__all__ = ["plot_section4", "plot_excess", "plot_replica", "plot_couplings", "plot_decay", "plot_gaps",
           "plot_finite_size",
           "QUANTITIES"]

PAPER = "potts-rende"

#: Readable names (mathtext, units) of the replica curves' fields, used for titles and y labels.
QUANTITIES = {"eps_J": (r"coupling error $\epsilon_J$", r"$\epsilon_J$"),
              "test_ce": ("test MLM loss", "test cross-entropy (nats)"),
              "test_mse": ("test error", "test MSE"),
              "train_loss": ("training loss", "training loss")}


@plot_function
def plot_section4(curves, ax=None, loc=None) -> PlotResult:
    """Test single-mask MLM loss against the number of training sequences M, one line per model,
    with the conditional-entropy floor (Rende et al. 2024, Fig. 2).

    Parameters
    ----------
    curves : validation.potts.experiments.Section4Curves
        ``M``, ``factored``, ``standard`` (``{layers: losses}``, the last M values) and ``floor``.
    ax : matplotlib Axes, optional
    loc : None, str or False
        Legend placement (:func:`validation.shared.plots.legend`).

    Returns
    -------
    PlotResult
        ``lines["factored"]``, ``lines["standard, k layers"]`` per k, ``lines["floor"]``, the
        legend.
    """
    for field in ("M", "factored", "standard", "floor"):
        if not hasattr(curves, field):
            raise InputError("curves", type(curves).__name__,
                             "a Section4Curves (fields M, factored, standard, floor)")
    M = data_array("curves.M", curves.M, ndim=1)
    factored = data_array("curves.factored", curves.factored, shape=M.shape, allow_nan=True)
    ax = new_axes(ax)
    colors = CurveColors(["factored"])
    lines = {"factored": ax.plot(M, factored, "o-", color=colors("factored"),
                                 label="factored attention, 1 layer")}
    for layers, values in sorted(curves.standard.items(), key=lambda kv: int(kv[0])):
        values = data_array(f"curves.standard[{layers}]", values, ndim=1, allow_nan=True)
        if values.size > M.size:
            raise InputError(f"curves.standard[{layers}]", f"{values.size} values",
                             f"at most len(M) = {M.size} values (the last M)")
        name = f"standard, {layers} layer{'s' if int(layers) != 1 else ''}"
        lines[name] = ax.plot(M[M.size - values.size:], values, "s--", color=colors(name),
                              label=f"standard encoder, {layers} layer{'s' if int(layers) != 1 else ''}")
    lines["floor"] = [horizontal_reference(ax, curves.floor, "floor: mean conditional entropy")]
    ax.set_xscale("log")
    ax.set(xlabel="training sequences $M$", ylabel="test MLM loss (nats)",
           title=paper_title(PAPER, "test loss against $M$"))
    return PlotResult(figure=ax.figure, axes=ax, lines=lines, contours={}, images={},
                      legend=legend(ax, loc))


def _simulation(label, value):
    if not isinstance(value, (tuple, list)) or len(value) != 3:
        raise InputError(f"sims[{label!r}]", type(value).__name__, "a triple (alpha, mean, stderr)")
    a = data_array(f"sims[{label!r}] alpha", value[0], ndim=1)
    mean = data_array(f"sims[{label!r}] mean", value[1], shape=a.shape, allow_nan=True)
    se = data_array(f"sims[{label!r}] stderr", value[2], shape=a.shape, allow_nan=True)
    return a, mean, se


@plot_function
def plot_replica(alpha_theory, theory: dict, sims: dict, key: str, ylabel: str | None = None,
                 ax=None, floor=None, loc=None, colors: CurveColors | None = None) -> PlotResult:
    """Replica-theory curves against simulations, :math:`\\alpha = M/N` on the x axis (Rende et
    al. 2024, Sec. V; the library's reconstructions R1, R2).

    Colour means curve: ``theory[label]`` (a line) and ``sims[label]`` (points with error bars)
    with the same ``label`` share a colour and one legend entry; two grey entries say which style
    is theory and which simulation.

    Parameters
    ----------
    alpha_theory : sequence of float, length K
        :math:`\\alpha` of the theory lines.
    theory : dict
        ``{label: values}``, each of length K.
    sims : dict
        ``{label: (alpha, mean, stderr)}``, three sequences of one length.
    key : str
        The quantity: a field name of the replica curves (``"eps_J"``, ``"test_ce"``,
        ``"test_mse"``; shown as its readable name, :data:`QUANTITIES`) or a title text.
    ylabel : str, optional
        Y label (default from :data:`QUANTITIES`, else ``key``).
    ax : matplotlib Axes, optional
    floor : float, optional
        A horizontal Bayes floor.
    loc : None, str or False
        Legend placement.
    colors : CurveColors, optional
        Colours by label (share one between panels).

    Returns
    -------
    PlotResult
        ``lines[label]`` (theory lines), ``lines[label + " (simulation)"]`` (ErrorbarContainer),
        ``lines["floor"]``, the legend.
    """
    alpha = data_array("alpha_theory", alpha_theory, ndim=1)
    if not isinstance(theory, dict) or not isinstance(sims, dict):
        raise InputError("theory" if not isinstance(theory, dict) else "sims",
                         type(theory if not isinstance(theory, dict) else sims).__name__, "a dict")
    if not isinstance(key, str):
        raise InputError("key", key, "a quantity name or title text")
    lines_data = {label: data_array(f"theory[{label!r}]", values, shape=alpha.shape, allow_nan=True)
                  for label, values in theory.items()}
    points = {label: _simulation(label, value) for label, value in sims.items()}
    title, default_ylabel = QUANTITIES.get(key, (key, key))
    ax = new_axes(ax)
    colors = colors or CurveColors()
    lines = {}
    for label, values in lines_data.items():
        lines[str(label)] = ax.plot(alpha, values, "-", color=colors(label), label=str(label))
    for label, (a, mean, se) in points.items():
        lines[f"{label} (simulation)"] = ax.errorbar(a, mean, yerr=se, fmt="o", ms=3.5,
                                                     color=colors(label), label=str(label))
    if lines_data and points:
        ax.plot([], [], "-", color="0.4", label="theory")
        ax.errorbar([], [], yerr=[], fmt="o", ms=3.5, color="0.4", label="simulation ± s.e.")
    if floor is not None:
        lines["floor"] = [horizontal_reference(ax, floor, "Bayes floor", "black", ":")]
    ax.set(xlabel=r"$\alpha = M/N$", ylabel=ylabel or default_ylabel,
           title=paper_title(PAPER, title))
    return PlotResult(figure=ax.figure, axes=ax, lines=lines, contours={}, images={},
                      legend=legend(ax, loc, last=("theory", "simulation ± s.e.", "Bayes floor")))


@plot_function
def plot_couplings(true, learned, ax=None, label: str = "factored fit", loc="upper left") -> PlotResult:
    """Learned against true couplings (entries in the zero-sum gauge), with the diagonal
    ``learned = true`` (Rende et al. 2024, Sec. IV).

    Parameters
    ----------
    true, learned : array of float
        Couplings of one shape (flattened).
    ax : matplotlib Axes, optional
    label : str
        Legend label of the points.
    loc : None, str or False
        Legend placement (default inside, upper left: the diagonal leaves that corner empty).

    Returns
    -------
    PlotResult
        ``lines["points"]``, ``lines["diagonal"]``, the legend.
    """
    t = data_array("true", true).ravel()
    l_ = data_array("learned", learned)
    if l_.size != t.size:
        raise InputError("learned", f"{l_.size} entries", f"as many entries as true ({t.size})")
    l_ = l_.ravel()
    ax = new_axes(ax, aspect=1.0)
    lim = max(float(np.max(np.abs(np.concatenate([t, l_])))) * 1.05, 1e-12)
    lines = {"points": ax.plot(t, l_, ".", ms=2, alpha=0.5, color=COLORS["blue"], label=label,
                               rasterized=True),
             "diagonal": ax.plot([-lim, lim], [-lim, lim], "--", color="black", lw=0.8,
                                 label="learned = true")}
    ax.set(xlabel="true coupling (zero-sum gauge)", ylabel="learned coupling (zero-sum gauge)",
           xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal",
           title=paper_title(PAPER, "learned couplings"))
    return PlotResult(figure=ax.figure, axes=ax, lines=lines, contours={}, images={},
                      legend=legend(ax, loc))


@plot_function
def plot_decay(M, errors, slope: float, ax=None, loc=None) -> PlotResult:
    """Relative coupling error of the factored fit against the number of samples M on log-log
    axes with the :math:`M^{-1/2}` reference through the first point (Rende et al. 2024, Sec. IV).

    Parameters
    ----------
    M : sequence of int
        Sample sizes (> 0).
    errors : sequence of float
        Relative errors (> 0), same length.
    slope : float
        The fitted log-log slope (shown in the legend).
    ax : matplotlib Axes, optional
    loc : None, str or False

    Returns
    -------
    PlotResult
        ``lines["fit"]``, ``lines["reference"]``, the legend.
    """
    M = data_array("M", M, ndim=1)
    errors = data_array("errors", errors, shape=M.shape)
    if np.any(M <= 0) or np.any(errors <= 0):
        raise InputError("M" if np.any(M <= 0) else "errors", "entries <= 0",
                         "positive values (log-log axes)")
    data_array("slope", slope, ndim=0)
    ax = new_axes(ax)
    lines = {"fit": ax.loglog(M, errors, "o-", color=COLORS["blue"],
                              label=f"factored fit (slope {slope:.2f})"),
             "reference": ax.loglog(M, errors[0] * np.sqrt(M[0] / M), "--", color="black",
                                    lw=1.0, label=r"$\propto M^{-1/2}$")}
    ax.set(xlabel="samples $M$", ylabel="relative coupling error",
           title=paper_title(PAPER, "coupling error against $M$"))
    return PlotResult(figure=ax.figure, axes=ax, lines=lines, contours={}, images={},
                      legend=legend(ax, loc))


@plot_function
def plot_gaps(gaps: dict, ax=None) -> PlotResult:
    """Bar chart of the population-loss gap to the optimum for each attention variant (Ising
    anchor with mixed-sign J; Rende et al. 2024, Sec. II): gaps at or below 1e-17 are drawn at
    1e-17 (the log axis' floor).

    Parameters
    ----------
    gaps : dict
        ``{attention name: gap in nats}`` (finite, >= 0 up to rounding).
    ax : matplotlib Axes, optional

    Returns
    -------
    PlotResult
        ``images["bars"]`` (a BarContainer).
    """
    if not isinstance(gaps, dict) or not gaps:
        raise InputError("gaps", type(gaps).__name__, "a non-empty dict {attention: gap}")
    names = [str(n) for n in gaps]
    values = data_array("gaps", list(gaps.values()), ndim=1)
    ax = new_axes(ax)
    colors = CurveColors(names)
    bars = ax.bar(names, np.maximum(values, 1e-17), color=[colors(n) for n in names])
    ax.set_yscale("log")
    ax.set(xlabel="attention", ylabel="population loss $-$ optimum (nats)",
           title=paper_title(PAPER, "Ising anchor, mixed-sign $J$"))
    return PlotResult(figure=ax.figure, axes=ax, lines={}, contours={}, images={"bars": bars})


@plot_function
def plot_excess(comparison, ax=None, loc=None) -> PlotResult:
    """Excess test loss :math:`D(M) = CE(M) - S` against the number of training sequences M on
    log-log axes, with error bars (1 SE), for one factored layer and standard encoders with 1, 2, 3
    layers (Rende et al. 2024, Fig. 2; spec Sec. 9). Points at or below zero cannot be drawn on a
    log axis and are left out (their values are in the comparison). The models' points at one M are
    drawn side by side (x scaled by a few per cent) so that their error bars stay apart.

    Parameters
    ----------
    comparison : validation.potts.experiments.Comparison
        ``M``, ``excess`` and ``excess_se`` (``{"factored": [...], "standard_k": [...]}``, None
        where a model was not trained).
    ax : matplotlib Axes, optional
    loc : None, str or False
        Legend placement (:func:`validation.shared.plots.legend`).

    Returns
    -------
    PlotResult
        ``lines[key]`` (an ErrorbarContainer in a list) per model key, the legend.
    """
    for field in ("M", "excess", "excess_se"):
        if not hasattr(comparison, field):
            raise InputError("comparison", type(comparison).__name__,
                             "a Comparison (fields M, excess, excess_se)")
    M = data_array("comparison.M", comparison.M, ndim=1)
    if np.any(M <= 0):
        raise InputError("comparison.M", "entries <= 0", "positive sizes (log axis)")
    ax = new_axes(ax)
    keys = list(comparison.excess)
    colors = CurveColors(keys)
    markers = {"factored": "o"}
    lines = {}
    for key in keys:
        values, errors = comparison.excess[key], comparison.excess_se.get(key)
        if errors is None or len(values) != M.size or len(errors) != M.size:
            raise InputError(f"comparison.excess[{key!r}]", f"{len(values)} values",
                             f"{M.size} values and as many standard errors")
        keep = [j for j, v in enumerate(values) if v is not None and v > 0]
        if not keep:
            continue
        y = data_array(f"comparison.excess[{key!r}]", [values[j] for j in keep], ndim=1)
        err = data_array(f"comparison.excess_se[{key!r}]", [errors[j] for j in keep], ndim=1)
        layers = key.rsplit("_", 1)[-1]
        label = ("factored attention, 1 layer" if key == "factored" else
                 f"standard encoder, {layers} layer{'s' if layers != '1' else ''}")
        lower = np.minimum(err, 0.9 * y)  # a bar reaching zero is cut at 10% of the value (log axis)
        dodge = 1.05 ** (keys.index(key) - (len(keys) - 1) / 2)  # points of one M side by side
        lines[key] = [ax.errorbar(M[keep] * dodge, y, yerr=[lower, err], fmt=markers.get(key, "s") + "-",
                                  color=colors(key), capsize=3, label=label)]
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(M, [f"{m:g}" if m < 1e4 else f"$10^{{{np.log10(m):.0f}}}$" if np.log10(m) % 1 == 0
                      else f"{m:.0e}" for m in M])
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_xlim(M.min() / 1.6, M.max() * 1.6)
    ax.set(xlabel="training sequences $M$", ylabel=r"excess test loss $CE - S$ (nats)",
           title=paper_title(PAPER, "excess loss against $M$"))
    return PlotResult(figure=ax.figure, axes=ax, lines=lines, contours={}, images={},
                      legend=legend(ax, loc))


# -- Part 2, spec Sec. 10: finite-size extrapolation (helper P2) ---------------------------------


@plot_function
def plot_finite_size(check, ax=None, loc=None, label: str | None = None,
                     colors: CurveColors | None = None) -> PlotResult:
    """A replica prediction checked by finite-size extrapolation (spec Sec. 10): the simulation
    means ± s.e. against 1/N, the weighted fit :math:`y_\\infty + a/N` extended to 1/N = 0, the
    extrapolated :math:`y_\\infty` ± s.e. at 1/N = 0, and the theory as a horizontal line. The
    title names the scenario, its z-score and its origin (spec Sec. 13: the replica scenarios are
    the library's, so the title carries no paper attribution).

    Parameters
    ----------
    check : numerics.potts.finite_size.FiniteSizeCheck
        ``N``, ``mean``, ``se``, ``fit`` (value, se, slope), ``theory``, ``observable``,
        ``scenario``.
    ax : matplotlib Axes, optional
    loc : None, str or False
        Legend placement.
    label : str, optional
        Name of the series (default the scenario).
    colors : CurveColors, optional
        Colours by label (share one between panels).

    Returns
    -------
    PlotResult
        ``lines["simulation"]`` (ErrorbarContainer), ``lines["fit"]``, ``lines["extrapolation"]``,
        ``lines["theory"]``, the legend.
    """
    for field in ("N", "mean", "se", "fit", "theory", "observable"):
        if not hasattr(check, field):
            raise InputError("check", type(check).__name__,
                             "a FiniteSizeCheck (fields N, mean, se, fit, theory, observable)")
    N = data_array("check.N", check.N, ndim=1)
    mean = data_array("check.mean", check.mean, shape=N.shape)
    se = data_array("check.se", check.se, shape=N.shape)
    ax = new_axes(ax)
    colors = colors or CurveColors()
    name = label or str(getattr(check, "scenario", "simulation"))
    c = colors(name)
    x = np.linspace(0.0, 1.05 / float(N.min()), 50)
    lines = {"simulation": ax.errorbar(1 / N, mean, yerr=se, fmt="o", ms=3.5, color=c,
                                       label="simulation ± s.e."),
             "fit": ax.plot(x, check.fit.value + check.fit.slope * x, "--", color=c, lw=1.0,
                            label=r"weighted fit $y_\infty + a/N$"),
             "extrapolation": ax.errorbar([0.0], [check.fit.value], yerr=[check.fit.se], fmt="s",
                                          ms=4, mfc="white", color=c,
                                          label=r"extrapolation $y_\infty$ ± s.e."),
             "theory": [horizontal_reference(ax, check.theory, "replica theory", "black", "-")]}
    key = "eps_J" if check.observable == "eps_J" else (
        "test_mse" if getattr(check, "scenario", "") == "ridge" else "test_ce")
    title, ylabel = QUANTITIES.get(key, (key, key))
    origin = getattr(check, "scenario_origin", "")
    # the scenarios are the library's (spec Sec. 13): no paper attribution in the title
    ax.set(xlabel="$1/N$", ylabel=ylabel,
           title=f"{name}: {title}\n$z = {check.z:+.2f}$" + (f" ({origin})" if origin else ""))
    ax.set_xlim(left=-0.03 / float(N.min()))
    return PlotResult(figure=ax.figure, axes=ax, lines=lines, contours={}, images={},
                      legend=legend(ax, loc))

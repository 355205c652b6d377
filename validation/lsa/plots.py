"""Figures of Ding et al. 2025: loss against n, the realisable region, the d = 1 landscape,
accuracy against depth.

Plotting
--------
Every function takes ``ax=None`` and returns a :class:`validation.shared.plots.PlotResult`
(figure, axes, artists by name)::

    from validation.lsa.plots import plot_landscape
    out = plot_landscape(0.5, 3)         # n = 3: X* is not realisable, the LSA optimum is elsewhere
    out.save("lsa_landscape.pdf")

- :func:`loss_against_n`: :math:`\\tilde f^*(n)`, the best one-layer LSA loss and trained losses
  (Sec. 3, the realisability gap);
- :func:`realizable_region`: the :math:`(p, n)` plane of d = 1 where :math:`X^*` is in the image
  of phi (Thm 3.3);
- :func:`plot_landscape`: the profiled loss over the slice :math:`(X_1, X_3)` with :math:`X^*`,
  the best one-layer LSA and the realisable set (:func:`numerics.lsa.landscape.lsa_landscape_d1`);
- :func:`accuracy_against_depth`: next-state accuracy against the number of layers (Sec. 4).
"""

from __future__ import annotations

import numpy as np

from theory.domains import choice
from theory.errors import InputError
from validation.shared.plots import (PlotResult, add_colorbar, data_array, data_pair,
                                     integer_ticks, legend, legend_patch, new_axes, paper_title,
                                     plot_function)
from validation.shared.style import COLORS

__all__ = ["loss_against_n", "realizable_region", "plot_landscape", "accuracy_against_depth",
           "accuracy_against_dimension", "accuracy_against_context"]

_FIELDS = choice("enlarged", "lsa")


@plot_function
def loss_against_n(ns, fstar, best, trained=None, d: int = 1, ax=None, loc=None) -> PlotResult:
    """:math:`\\tilde f^*(n)` (enlarged space), the best one-layer LSA loss and trained losses
    against the number of context chains n (Ding et al. 2025, Sec. 3, realisability gap).

    Parameters
    ----------
    ns : sequence of int
        Context chains n (the x axis; integer ticks).
    fstar, best : sequence of float
        :math:`\\tilde f^*` and the best one-layer loss at each n (same length as ``ns``).
    trained : (ns, losses) or None
        Final population losses of trained models.
    d : int
        Chain prefix length (shown in the title).
    ax : matplotlib Axes, optional
    loc : None, str or False
        Legend placement (:func:`validation.shared.plots.legend`).

    Returns
    -------
    PlotResult
        ``lines["f~*"]``, ``lines["best"]``, ``lines["trained"]`` (when given), the legend.
    """
    ns = data_array("ns", ns, ndim=1)
    fstar = data_array("fstar", fstar, shape=ns.shape)
    best = data_array("best", best, shape=ns.shape)
    trained = data_pair("trained", trained, "(ns, losses)")
    ax = new_axes(ax)
    lines = {"f~*": ax.plot(ns, fstar, "o-", color=COLORS["blue"], ms=3.5,
                            label=r"$\tilde f^*$ (enlarged space)"),
             "best": ax.plot(ns, best, "s--", color=COLORS["vermillion"], ms=3.5,
                             label="best one-layer LSA")}
    if trained is not None:
        lines["trained"] = ax.plot(*trained, "^", color="black", ms=5, label="trained LSA")
    ax.set(xlabel="context chains $n$", ylabel="population loss",
           title=paper_title("lsa-ding", f"$d = {d}$"))
    integer_ticks(ax, "x")
    return PlotResult(figure=ax.figure, axes=ax, lines=lines, contours={}, images={},
                      legend=legend(ax, loc))


@plot_function
def realizable_region(p_grid, n_grid, realizable, n_min=None, ax=None, loc=None) -> PlotResult:
    """The :math:`(p, n)` plane of d = 1 coloured by whether :math:`X^*` is in the image of phi,
    :math:`X_2^{*2} \\ge 4X_1^*X_3^*` (Ding et al. 2025, Thm 3.3): realisable in blue, not in
    grey.

    Parameters
    ----------
    p_grid : sequence of float, length P
        Values of :math:`p = P(s_1 = 1)` (x axis).
    n_grid : sequence of int, length N
        Values of n (y axis; integer ticks).
    realizable : array of bool, shape (P, N)
        ``realizable[i, j]`` for ``(p_grid[i], n_grid[j])``; another shape (e.g. the transpose)
        is an :class:`~theory.errors.InputError` naming ``realizable``.
    n_min : (ps, ns) or None
        The smallest realisable n at some p (drawn as a step line).
    ax : matplotlib Axes, optional
    loc : None, str or False
        Legend placement.

    Returns
    -------
    PlotResult
        ``images["region"]`` (the mesh), ``lines["n_min"]`` (when given), the legend.
    """
    from matplotlib.colors import ListedColormap

    p_grid = data_array("p_grid", p_grid, ndim=1)
    n_grid = data_array("n_grid", n_grid, ndim=1)
    mask = data_array("realizable", realizable, shape=(p_grid.size, n_grid.size))
    if np.any((mask != 0) & (mask != 1)):
        raise InputError("realizable", "non-boolean entries", "an array of booleans (0 or 1)")
    n_min = data_pair("n_min", n_min, "(ps, smallest n)", allow_nan=True)
    ax = new_axes(ax)
    colors = ("0.86", COLORS["sky"])
    mesh = ax.pcolormesh(p_grid, n_grid, mask.T, shading="nearest",
                         cmap=ListedColormap(colors), vmin=0, vmax=1, rasterized=True)
    legend_patch(ax, "$X^*$ realisable", facecolor=colors[1])
    legend_patch(ax, "not realisable", facecolor=colors[0])
    lines = {}
    if n_min is not None:
        lines["n_min"] = ax.step(*n_min, where="mid", color="black", lw=1.2,
                                 label="smallest realisable $n$ (exact)")
    ax.set(xlabel="$p = P(s_1 = 1)$", ylabel="context chains $n$",
           title=paper_title("lsa-ding", "$d = 1$: is $X^*$ realisable?"))
    integer_ticks(ax, "y")
    return PlotResult(figure=ax.figure, axes=ax, lines=lines, contours={},
                      images={"region": mesh}, legend=legend(ax, loc))


@plot_function
def plot_landscape(p: float, n: int, ax=None, x1_range=None, x3_range=None, grid: int = 201,
                   field: str = "enlarged", loc=None, colorbar: bool = True,
                   seed: int = 0) -> PlotResult:
    """The d = 1 population loss over the slice :math:`(X_1, X_3) = (b_1 a_1, b_2 a_2)` with
    :math:`X_2` profiled (:func:`numerics.lsa.landscape.lsa_landscape_d1`; Ding et al. 2025,
    Sec. 3, Thm 3.3).

    Filled contours (viridis, colorbar) of the profiled loss -- ``field="enlarged"``:
    :math:`\\min_{X_2}\\tilde f`, minimal at :math:`X^*`; ``field="lsa"``: the one-layer LSA's,
    :math:`\\min \\tilde f` over realisable :math:`X_2` -- the slice's non-realisable part hatched
    (where the profiled :math:`X_2^2 < 4X_1X_3`) with its boundary, :math:`X^*` (star) and the best
    one-layer LSA (diamond; the same point when :math:`X^*` is realisable).

    Parameters
    ----------
    p : float
        :math:`P(s_1 = 1)` in (0, 1).
    n : int
        Context chains, >= 1.
    ax : matplotlib Axes, optional
    x1_range, x3_range : (float, float), optional
        The window (default centred on :math:`X^*`).
    grid : int
        Points per axis.
    field : {"enlarged", "lsa"}
        Which profiled loss is coloured.
    loc : None, str or False
        Legend placement (None: below the figure).
    colorbar : bool
        Draw the colorbar.
    seed : int
        Seed of the global search for the best LSA (when :math:`X^*` is not realisable).

    Returns
    -------
    PlotResult
        ``contours["loss"]``, ``contours["not realisable"]``, ``contours["boundary"]``,
        ``lines["X*"]``, ``lines["best LSA"]``, the colorbar, the legend. The computed
        :class:`~numerics.lsa.landscape.LSALandscape` is ``images["data"]``.
    """
    from numerics.lsa.landscape import lsa_landscape_d1

    _FIELDS.check("field", field)
    data = lsa_landscape_d1(p, n, x1_range, x3_range, grid, seed=seed)
    ax = new_axes(ax, aspect=0.95)
    values = data.loss if field == "enlarged" else data.lsa_loss
    levels = np.unique([float(f"{v:.4g}") for v in np.quantile(values, np.linspace(0, 0.9, 12))])
    levels[0] = min(levels[0], values.min())
    contours = {"loss": ax.contourf(data.x1, data.x3, values, levels=levels, cmap="viridis",
                                    extend="max")}
    label = (r"loss $\tilde f$, $X_2$ profiled" if field == "enlarged"
             else r"one-layer LSA loss, $X_2$ profiled")
    cbar = add_colorbar(contours["loss"], ax, label) if colorbar else None
    # the edge of the realisable set: the sign of the continuous margin X2^2 - 4 X1 X3 (a smooth
    # contour, unlike the boolean mask it decides)
    x1_grid, x3_grid = np.meshgrid(data.x1, data.x3)
    margin = data.x2 ** 2 - 4 * x1_grid * x3_grid
    contours["not realisable"] = ax.contourf(data.x1, data.x3, margin,
                                             levels=[min(margin.min(), -1.0) - 1.0, 0.0],
                                             colors="none", hatches=["////"])
    contours["not realisable"].set_edgecolor((1, 1, 1, 0.6))
    contours["not realisable"].set_linewidth(0.0)
    contours["boundary"] = ax.contour(data.x1, data.x3, margin, levels=[0.0], colors="white",
                                      linewidths=1.0)
    legend_patch(ax, "not realisable", facecolor="0.45", edgecolor="white",
                 hatch="////")
    star, best = data.X_star, data.best_X
    lines = {"X*": ax.plot([star[0]], [star[2]], ls="none", marker="*", ms=12, mfc=COLORS["orange"],
                           mec="black", label=rf"$X^*$ ($\tilde f^* = {data.fstar:.4f}$)"),
             "best LSA": ax.plot([best[0]], [best[2]], ls="none", marker="D", ms=5,
                                 mfc=COLORS["vermillion"], mec="white",
                                 label=f"best LSA ({data.best_loss:.4f})")}
    ax.set(xlabel=r"$X_1 = b_1 a_1$", ylabel=r"$X_3 = b_2 a_2$",
           xlim=(data.x1[0], data.x1[-1]), ylim=(data.x3[0], data.x3[-1]),
           title=paper_title("lsa-ding", f"$d = 1$, $p = {data.p:g}$, $n = {data.n}$"))
    return PlotResult(figure=ax.figure, axes=ax, lines=lines, contours=contours,
                      images={"data": data}, colorbar=cbar,
                      legend=legend(ax, loc, default="below"))


@plot_function
def accuracy_against_depth(layers, accuracy, se, paper=None, ax=None, loc=None,
                           ceilings=None, label: str = "this library", title=None) -> PlotResult:
    """Next-state accuracy of trained LSA against the number of layers (Ding et al. 2025, Sec. 4,
    Fig. 3); error bars are 2 standard errors.

    Parameters
    ----------
    layers : sequence of int
        Numbers of layers (integer ticks).
    accuracy, se : sequence of float
        Accuracy in [0, 1] and its standard error at each depth.
    paper : (layers, accuracies) or None
        The values the paper reports.
    ax : matplotlib Axes, optional
    loc : None, str or False
        Legend placement.
    ceilings : dict of str to float, optional
        Horizontal reference lines by label (e.g. the oracle and in-context Bayes ceilings,
        specification Part 2 §B).
    label : str
        Legend label of the measured curve.
    title : str, optional
        Title text after the paper's key (default "accuracy against depth").

    Returns
    -------
    PlotResult
        ``lines["this library"]`` (an ErrorbarContainer), ``lines["paper"]``, one line per
        ceiling under its label, the legend.
    """
    layers = data_array("layers", layers, ndim=1)
    accuracy = data_array("accuracy", accuracy, shape=layers.shape)
    se = data_array("se", se, shape=layers.shape)
    paper = data_pair("paper", paper, "(layers, accuracies)")
    ax = new_axes(ax)
    lines = {"this library": ax.errorbar(layers, accuracy, yerr=2 * se, fmt="o-",
                                         color=COLORS["blue"], label=f"{label} (±2 s.e.)")}
    if paper is not None:
        lines["paper"] = ax.plot(*paper, "x--", color=COLORS["vermillion"], label="paper (reported)")
    if ceilings:
        from validation.shared.plots import horizontal_reference

        for (name, value), color, dash in zip(ceilings.items(), ("black", COLORS["green"],
                                                                 COLORS["purple"], "0.5"),
                                              ("--", ":", "-.", (0, (5, 1)))):
            lines[name] = horizontal_reference(ax, value, name, color=color, style=dash)
    ax.set(xlabel="layers $L$", ylabel="next-state accuracy", ylim=(0, 1.02),
           title=paper_title("lsa-ding", title or "accuracy against depth"))
    integer_ticks(ax, "x")
    return PlotResult(figure=ax.figure, axes=ax, lines=lines, contours={}, images={},
                      legend=legend(ax, loc))


# ---------------------------------------------------------------------------------------------
# Part 2 §C, §D: accuracy against d (Fig. 5) and against n (Fig. 6 stand-in)


@plot_function
def accuracy_against_dimension(ds, curves, sds=None, ax=None, loc=None) -> PlotResult:
    """Binary accuracy against d of least squares on :math:`x\\otimes\\mathrm{vech}(G)`, the
    trained one-layer LSA (in-sample solid, held-out dashed) and :math:`X^*` (Ding et al. 2025,
    B.1, Fig. 5; specification Part 2 §C).

    Parameters
    ----------
    ds : sequence of int
        Chain prefix lengths (integer ticks).
    curves : dict
        Any of ``acc_ls_in``, ``acc_ls_out``, ``acc_lsa_in``, ``acc_lsa_out``, ``acc_pop`` ->
        accuracies per d (None entries are skipped).
    sds : dict, optional
        The same keys -> standard deviations over seeds (error bars).
    ax : matplotlib Axes, optional
    loc : None, str or False
        Legend placement.

    Returns
    -------
    PlotResult
        One line per drawn key, the legend.
    """
    ds = data_array("ds", ds, ndim=1)
    ax = new_axes(ax)
    looks = {"acc_ls_in": ("LS, in-sample", COLORS["vermillion"], "s-"),
             "acc_ls_out": ("LS, held-out", COLORS["vermillion"], "s--"),
             "acc_lsa_in": ("LSA, in-sample", COLORS["blue"], "o-"),
             "acc_lsa_out": ("LSA, held-out", COLORS["blue"], "o--"),
             "acc_pop": (r"$X^*$ (population)", "black", "^:")}
    lines = {}
    for key, (label, color, fmt) in looks.items():
        values = curves.get(key)
        if values is None:
            continue
        values = data_array(key, values, shape=ds.shape)
        err = None if not sds or sds.get(key) is None else data_array(key, sds[key], shape=ds.shape)
        lines[key] = ax.errorbar(ds, values, yerr=err, fmt=fmt, color=color, ms=3.5, label=label)
    ax.set(xlabel="chain prefix length $d$", ylabel="accuracy",
           title=paper_title("lsa-ding", "accuracy against $d$ ($n = 100$)"))
    integer_ticks(ax, "x")
    return PlotResult(figure=ax.figure, axes=ax, lines=lines, contours={}, images={},
                      legend=legend(ax, loc))


@plot_function
def accuracy_against_context(ns, methods, accuracy, se, ax=None, loc=None) -> PlotResult:
    """Accuracy against the number n of context chains of in-context baselines and the Bayes
    predictor (Ding et al. 2025, B.2, Fig. 6 CPU stand-in; specification Part 2 §D); error bars
    2 standard errors.

    Parameters
    ----------
    ns : sequence of int, length N
    methods : sequence of str, length M
    accuracy, se : arrays of shape (M, N)
    ax : matplotlib Axes, optional
    loc : None, str or False

    Returns
    -------
    PlotResult
        ``lines[method]`` for each method, the legend.
    """
    ns = data_array("ns", ns, ndim=1)
    methods = list(methods)
    accuracy = data_array("accuracy", accuracy, shape=(len(methods), ns.size))
    se = data_array("se", se, shape=(len(methods), ns.size))
    ax = new_axes(ax)
    palette = (COLORS["vermillion"], COLORS["orange"], COLORS["green"], COLORS["purple"], "black")
    lines = {}
    for k, method in enumerate(methods):
        lines[method] = ax.errorbar(ns, accuracy[k], yerr=2 * se[k], fmt="o-" if method == "Bayes"
                                    else ".-", color=palette[k % len(palette)], ms=3, label=method)
    ax.set(xscale="log", xlabel="context chains $n$", ylabel="accuracy",
           title=paper_title("lsa-ding", "in-context baselines against $n$"))
    return PlotResult(figure=ax.figure, axes=ax, lines=lines, contours={}, images={},
                      legend=legend(ax, loc))


# ---------------------------------------------------------------------------------------------
# Part 2 §A (Fig. 2): R_1 values and the generational distance per layer

__all__ += ["pareto_per_layer"]

@plot_function
def pareto_per_layer(gd, r1, reference_gd=None, ax=None, loc=None) -> PlotResult:
    """Fig. 2 of Ding et al. 2025 as curves: the mean :math:`R_{1,k}(w_l)` (k = 1..d+1) and the
    generational distance :math:`GD_l` to the Pareto front against the layer l (Part 2 §A).

    Parameters
    ----------
    gd : sequence of float, length L+1
        :math:`GD_l`, l = 0..L (:class:`numerics.lsa.pareto.ParetoView`).
    r1 : array, shape (L+1, d+1)
        Mean :math:`R_1(w_l)` per layer.
    reference_gd : sequence of float or None
        GD of the deterministic gradient-descent stack (same layers), drawn dashed.
    ax : matplotlib Axes, optional
    loc : None, str or False
        Legend placement (:func:`validation.shared.plots.legend`).

    Returns
    -------
    PlotResult
        ``lines["GD"]``, ``lines["R1_k"]`` (k = 1..d+1), ``lines["GD stack"]`` (when given).
    """
    from validation.shared.plots import CurveColors

    gd = data_array("gd", gd, ndim=1)
    r1 = data_array("r1", r1, ndim=2)
    if r1.shape[0] != gd.shape[0]:
        raise InputError("r1", f"shape {r1.shape}", f"({gd.shape[0]}, d+1): one row per layer")
    layers = np.arange(gd.shape[0])
    ax = new_axes(ax)
    colors = CurveColors()
    lines = {}
    for k in range(r1.shape[1]):
        name = f"R1_{k + 1}"
        label = (rf"$R_{{1,{k + 1}}}$" if k < r1.shape[1] - 1
                 else rf"$R_{{1,{k + 1}}}$ (squared loss/2)")
        lines[name] = ax.plot(layers, r1[:, k], "-", lw=0.9, color=colors(name), label=label)
    lines["GD"] = ax.plot(layers, gd, "o-", color="black", ms=3.5, lw=1.6,
                          label="GD to the Pareto front")
    if reference_gd is not None:
        ref = data_array("reference_gd", reference_gd, shape=gd.shape)
        lines["GD stack"] = ax.plot(layers, ref, "s--", color="0.45", ms=3,
                                    label=r"GD, stack $\bar A = I/\lambda_{max}$")
    ax.axhline(0.0, color="0.8", lw=0.6, zorder=0)
    ax.set(xlabel="layer $l$", ylabel="mean value over prompts",
           title=paper_title("lsa-ding", "Fig. 2: $R_1$ and GD per layer"))
    integer_ticks(ax, "x")
    return PlotResult(figure=ax.figure, axes=ax, lines=lines, contours={}, images={},
                      legend=legend(ax, loc, default="below"))


# ---------------------------------------------------------------------------------------------
# Part 2 §D (Figs. 6-7, full profile): the softmax transformer against the baselines; attention
# correlation with the kernel group per layer

__all__ += ["softmax_against_context"]


@plot_function
def softmax_against_context(ns, methods, accuracy, se, corr_mean, corr_se, loc=None,
                            figsize=(7.0, 2.8)) -> PlotResult:
    """Two panels (Ding et al. 2025, B.2, Figs. 6-7 CPU stand-ins; specification Part 2 §D):
    accuracy against the number n of context chains of the softmax transformer and the in-context
    baselines (error bars 2 standard errors), and per layer the mean correlation of the query's
    attention with the same-kernel-group indicator (error bars 2 standard errors).

    Parameters
    ----------
    ns : sequence of int, length N
    methods : sequence of str, length M
        ``"transformer"`` is drawn in blue and thick, ``"Bayes"`` in black.
    accuracy, se : arrays of shape (M, N)
    corr_mean, corr_se : arrays of shape (L,)
        Per-layer correlations (layers 1..L).
    loc : None, str or False
        Legend placement of the accuracy panel.
    figsize : (width, height) in inches

    Returns
    -------
    PlotResult
        ``axes = [accuracy panel, correlation panel]``; ``lines[method]`` and
        ``lines["correlation"]``.
    """
    import matplotlib.pyplot as plt

    ns = data_array("ns", ns, ndim=1)
    methods = list(methods)
    accuracy = data_array("accuracy", accuracy, shape=(len(methods), ns.size))
    se = data_array("se", se, shape=(len(methods), ns.size))
    corr_mean = data_array("corr_mean", corr_mean, ndim=1)
    corr_se = data_array("corr_se", corr_se, shape=corr_mean.shape)
    fig, (ax, bx) = plt.subplots(1, 2, figsize=figsize, layout="constrained",
                                 gridspec_kw={"width_ratios": (3, 1)})
    palette = iter((COLORS["vermillion"], COLORS["orange"], COLORS["green"], COLORS["purple"],
                    "0.5", "0.7"))
    lines = {}
    for k, method in enumerate(methods):
        look = ({"fmt": "o-", "color": COLORS["blue"], "lw": 1.8} if method == "transformer" else
                {"fmt": "s-", "color": "black"} if method == "Bayes" else
                {"fmt": ".-", "color": next(palette, "0.5"), "lw": 0.9})
        lines[method] = ax.errorbar(ns, accuracy[k], yerr=2 * se[k], ms=3, label=method, **look)
    ax.set(xlabel="context chains $n$", ylabel="accuracy",
           title=paper_title("lsa-ding", "softmax transformer (64, 3, 2) against $n$"))
    layers = np.arange(1, corr_mean.size + 1)
    lines["correlation"] = bx.errorbar(layers, corr_mean, yerr=2 * corr_se, fmt="o-",
                                       color=COLORS["blue"], ms=4)
    bx.axhline(0.0, color="0.8", lw=0.6, zorder=0)
    bx.set(xlabel="layer", ylabel="corr(attention, same group)", title="Fig. 7 stand-in")
    integer_ticks(bx, "x")
    return PlotResult(figure=fig, axes=[ax, bx], lines=lines, contours={}, images={},
                      legend=legend(ax, loc, ncol=3))

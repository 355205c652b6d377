"""What a search returns: :class:`ConjectureResult`, its summary, HTML view and plot."""

from __future__ import annotations

import html
from dataclasses import asdict, field

from theory.results import result, summarize

__all__ = ["ConjectureResult"]

#: Phases in the order they run.
PHASES = ("grid", "simple", "random", "hypothesis", "local", "shrink")


@result
class ConjectureResult:
    """What a search found. ``holds`` is True when no counterexample was found: evidence, not
    proof; ``points`` and ``worst_margin`` say how much evidence and how close it came.

    In a notebook it shows as a table (phases, worst point, counterexample);
    :meth:`plot` draws the margin over the box.

    Attributes
    ----------
    holds : bool
        No counterexample was found: no point with a margin below ``-max(atol, rtol * scale)``.
    counterexample : dict or None
        The simplest counterexample (fewest decimals, then closest to the box's lower corner),
        ``name -> value``.
    counterexample_margin : float or None
        The margin at ``counterexample``.
    points : int
        Points evaluated, over all phases (failures included).
    worst_margin : float or None
        The smallest margin found, and ``worst_point`` where.
    worst_point : dict or None
    found_by : str or None
        The phase (``"grid"``, ``"simple"``, ``"random"``, ``"hypothesis"``, ``"local"``,
        ``"shrink"``) of the first counterexample found.
    failures : int
        Points where the margin could not be computed (NumericalFailure or not finite).
    failure_examples : list of str
        The first three failure messages.
    phases : dict
        Points evaluated per phase, in the order they ran.
    seed : int
    parameters : dict
        The box, ``name -> [low, high, "int" | "real"]``.
    budget : dict
        The :class:`~numerics.shared.conjecture.Budget` spent, as a dict.
    grid_sizes : dict
        Values per axis in the grid phase (``name -> count``): every integer of an integer axis
        with at most ``budget["integers"]`` values.
    atol, rtol : float
        The tolerance applied to floating-point margin values (exact values: 0 unless given).
    margin_type : str
        What the margin returned: ``"float"``, ``"exact"`` (int, Fraction, sympy Rational),
        ``"mixed"`` or ``"none"`` (every point failed).
    tolerance : str
        Which tolerance applied, in words.
    near_misses : int
        Points with a negative margin within the tolerance (not counterexamples).
    executor : str
        Where the points ran: ``"serial"``, ``"local:N"`` or ``"dask://..."``.
    executor_reason : str
        Why that executor (``auto``: the measured cost per point; a margin that cannot be sent
        to worker processes: serial).
    seconds : float
        Wall time of the search (the only field that differs between executors and runs).
    evaluations : list of dict
        Every evaluation in order: ``{"phase", "point", "margin", "failure", "exact",
        "counterexample"}``.
    """

    holds: bool
    counterexample: dict | None
    counterexample_margin: float | None
    points: int
    worst_margin: float | None
    worst_point: dict | None
    found_by: str | None
    failures: int
    failure_examples: list = field(repr=False)
    phases: dict = field(default_factory=dict)
    seed: int = field(default=0, repr=False)
    parameters: dict = field(default_factory=dict, repr=False)
    budget: dict = field(default_factory=dict, repr=False)
    grid_sizes: dict = field(default_factory=dict, repr=False)
    atol: float = field(default=0.0, repr=False)
    rtol: float = field(default=0.0, repr=False)
    margin_type: str = field(default="float", repr=False)
    tolerance: str = ""
    near_misses: int = field(default=0, repr=False)
    executor: str = "serial"
    executor_reason: str = field(default="", repr=False)
    seconds: float = field(default=0.0, repr=False)
    evaluations: list = field(default_factory=list, repr=False)

    def to_json(self, evaluations: bool = False) -> dict:
        """The JSON summary (the ``ttc check --json`` keys); ``evaluations`` adds every point."""
        out = asdict(self)
        if not evaluations:
            out.pop("evaluations")
        return out

    def answer(self) -> dict:
        """The fields that depend only on the margin, box, seed, budget and tolerance (not on
        the executor or the clock): equal for every executor."""
        out = self.to_json(evaluations=True)
        for key in ("executor", "executor_reason", "seconds"):
            out.pop(key)
        return out

    # ---------------------------------------------------------------------------- display
    def _repr_html_(self) -> str:
        def row(key, value):
            return f"<tr><th style='text-align:left'>{html.escape(key)}</th>" \
                   f"<td style='text-align:left'>{html.escape(str(value))}</td></tr>"

        verdict = ("<b>holds</b>: no counterexample found (evidence, not proof)" if self.holds
                   else "<b style='color:#b00'>refuted</b>: counterexample found")
        rows = []
        if not self.holds:
            rows += [row("counterexample", self.counterexample),
                     row("margin there", summarize(self.counterexample_margin)),
                     row("found by", self.found_by)]
        rows += [row("worst point", self.worst_point),
                 row("worst margin", summarize(self.worst_margin)),
                 row("points", f"{self.points} ({self.failures} failed, "
                               f"{self.near_misses} negative within the tolerance)"),
                 row("tolerance", self.tolerance),
                 row("box", ", ".join(f"{k} in [{lo}, {hi}] ({kind})"
                                      for k, (lo, hi, kind) in self.parameters.items())),
                 row("executor", f"{self.executor} ({self.executor_reason})"
                     if self.executor_reason else self.executor),
                 row("seconds", f"{self.seconds:.2f}"), row("seed", self.seed)]
        phases = "".join(f"<tr><td>{html.escape(name)}</td><td style='text-align:right'>{count}"
                         f"</td></tr>" for name, count in self.phases.items())
        return (f"<div><p>ConjectureResult: {verdict}</p><table>{''.join(rows)}</table>"
                f"<table><tr><th>phase</th><th>points</th></tr>{phases}</table></div>")

    def plot(self, ax=None, axes=None):
        """The margin over the box: a curve (one varying parameter) or a map (two), every
        evaluated point drawn, the counterexample and the worst point marked.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Where to draw (default: a new figure's axes). The backend is left alone.
        axes : sequence of str, optional
            The one or two parameters to plot against (default: the first two parameters whose
            range is not a single value); other parameters are projected out.

        Returns
        -------
        matplotlib.axes.Axes
            The axes drawn on.
        """
        import matplotlib.pyplot as plt
        from matplotlib.colors import TwoSlopeNorm

        from theory.errors import InputError

        varying = [k for k, (lo, hi, _) in self.parameters.items() if lo != hi]
        names = list(axes) if axes is not None else (varying or list(self.parameters))[:2]
        if not 1 <= len(names) <= 2 or any(n not in self.parameters for n in names):
            raise InputError("axes", axes, f"one or two of {list(self.parameters)}")
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4), constrained_layout=True)
        valid = [e for e in self.evaluations if e["margin"] is not None]
        failed = [e for e in self.evaluations if e["margin"] is None]
        margins = [e["margin"] for e in valid]
        if len(names) == 1:
            name = names[0]
            ordered = sorted(valid, key=lambda e: e["point"][name])
            ax.plot([e["point"][name] for e in ordered], [e["margin"] for e in ordered],
                    ".", color="C0", ms=4, label="evaluated points")
            ax.axhline(0.0, color="0.4", lw=0.8)
            ax.set_xlabel(name)
            ax.set_ylabel("margin")
            if failed:
                ax.plot([e["point"][name] for e in failed], [0.0] * len(failed), "x",
                        color="0.5", label="failed")
            if self.counterexample is not None:
                ax.plot([self.counterexample[name]], [self.counterexample_margin], "*",
                        color="C3", ms=14, label=f"counterexample {self.counterexample}")
        else:
            x, y = names
            low, high = min(margins, default=0.0), max(margins, default=0.0)
            norm = TwoSlopeNorm(0.0, low, high) if low < 0 < high else None
            dots = ax.scatter([e["point"][x] for e in valid], [e["point"][y] for e in valid],
                              c=margins, cmap="RdBu", norm=norm, s=12, label="evaluated points")
            ax.figure.colorbar(dots, ax=ax, label="margin (< 0: counterexample)")
            if failed:
                ax.plot([e["point"][x] for e in failed], [e["point"][y] for e in failed], "x",
                        color="0.5", label="failed")
            if self.counterexample is not None:
                ax.plot([self.counterexample[x]], [self.counterexample[y]], "*", color="k",
                        ms=16, mfc="gold", label=f"counterexample {self.counterexample}")
            ax.set_xlabel(x)
            ax.set_ylabel(y)
        if self.worst_point is not None and self.worst_point != self.counterexample:
            where = [self.worst_point[n] for n in names]
            ax.plot(*(where if len(names) == 2 else where + [self.worst_margin]), "o", mfc="none",
                    color="k", ms=10, label=f"worst margin {summarize(self.worst_margin)}")
        others = [k for k in varying if k not in names]
        ax.set_title(("holds" if self.holds else "refuted") + f" ({self.points} points"
                     + (f"; projected over {', '.join(others)}" if others else "") + ")")
        ax.legend(fontsize="small", loc="best")
        return ax

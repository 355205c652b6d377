"""LSA figures: results, integer ticks on n, the realisable region's orientation check and
colours, the d = 1 landscape and its command."""

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")

from theory.errors import InputError  # noqa: E402
from validation.lsa import plots  # noqa: E402
from validation.shared.plots import PlotResult  # noqa: E402


def _close(out):
    matplotlib.pyplot.close(out.figure)


def test_loss_against_n_integer_ticks_and_labels():
    out = plots.loss_against_n([1, 2, 3], [0.40, 0.38, 0.37], [0.41, 0.39, 0.37],
                               trained=([1, 3], [0.41, 0.37]), d=1)
    assert isinstance(out, PlotResult) and set(out.lines) == {"f~*", "best", "trained"}
    out.figure.canvas.draw()
    ticks = out.axes.get_xticks()
    assert np.all(ticks == np.round(ticks))  # n is an integer axis: no 1.5, 2.5
    labels = [t.get_text() for t in out.legend.get_texts()]
    assert labels == [r"$\tilde f^*$ (enlarged space)", "best one-layer LSA", "trained LSA"]
    assert out.axes.get_title().startswith("Ding et al. 2025")
    _close(out)
    with pytest.raises(InputError, match="best"):
        plots.loss_against_n([1, 2, 3], [0.4, 0.38, 0.37], [0.41, 0.39])


def test_realizable_region_orientation_and_colours():
    p, n = np.linspace(0.1, 0.9, 9), np.arange(1, 6)
    mask = p[:, None] * 10 < n[None, :] + 3
    out = plots.realizable_region(p, n, mask, n_min=([0.1, 0.5], [1, 3]))
    colors = out.images["region"].cmap.colors
    # no red/green map: grey and the Okabe-Ito sky blue
    assert [matplotlib.colors.to_hex(c) for c in colors] == ["#dbdbdb", "#56b4e9"]
    out.figure.canvas.draw()
    ticks = out.axes.get_yticks()
    assert np.all(ticks == np.round(ticks))
    _close(out)
    with pytest.raises(InputError) as info:  # the transpose: a clear error, not a TypeError
        plots.realizable_region(p, n, mask.T)
    assert info.value.name == "realizable" and "(9, 5)" in str(info.value)
    with pytest.raises(InputError, match="n_min"):
        plots.realizable_region(p, n, mask, n_min=[1, 2, 3])


def test_landscape_marks_x_star_best_and_the_realisable_set():
    out = plots.plot_landscape(0.5, 3, grid=41)
    data = out.images["data"]
    star = out.lines["X*"][0]
    assert (star.get_xdata()[0], star.get_ydata()[0]) == (data.X_star[0], data.X_star[2])
    best = out.lines["best LSA"][0]
    assert (best.get_xdata()[0], best.get_ydata()[0]) == (data.best_X[0], data.best_X[2])
    assert not data.star_realizable and {"loss", "not realisable", "boundary"} <= set(out.contours)
    assert out.colorbar is not None and out.contours["loss"].cmap.name == "viridis"
    _close(out)
    with pytest.raises(InputError, match="field"):
        plots.plot_landscape(0.5, 3, grid=11, field="other")


def test_accuracy_against_depth():
    out = plots.accuracy_against_depth([1, 2, 3], [0.5, 0.8, 0.9], [0.01, 0.01, 0.01],
                                       paper=([1, 3], [0.55, 0.98]), loc="lower right")
    assert set(out.lines) == {"this library", "paper"} and out.legend._loc == 4
    _close(out)


def test_landscape_command(run_json, tmp_path):
    out = tmp_path / "l.svg"
    result = run_json("lsa", "landscape", "--p", "1/2", "--n", "10", "--out", str(out),
                      "--grid", "21", "--x1-range", "-0.5:0.5", "--x3-range", "0:1")
    assert b"<svg" in out.read_bytes()[:400] and result["format"] == "svg"
    assert result["realizable"] is True and result["gap"] == 0.0
    assert result["loss"] == pytest.approx(121 / 342, rel=1e-12)  # spec lsa.md anchor

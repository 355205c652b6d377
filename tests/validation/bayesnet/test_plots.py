"""Bayes-net figures: results, legends outside the data, string keys after a JSON round trip."""

import pytest

matplotlib = pytest.importorskip("matplotlib")

from theory.errors import InputError  # noqa: E402
from validation.bayesnet import plots  # noqa: E402
from validation.bayesnet.training import TvCurves  # noqa: E402


def _curves(keys=int):
    values = {10: 0.3, 20: 0.2, 50: 0.12}
    return TvCurves(tv_vs_mle={keys(k): v / 3 for k, v in values.items()},
                    tv_vs_true={keys(k): v for k, v in values.items()},
                    tv_mle_vs_true={keys(k): v * 0.9 for k, v in values.items()},
                    tv_naive_vs_true={keys(k): v * 1.2 for k, v in values.items()}, tv_strict={})


@pytest.mark.parametrize("keys", [int, str])
def test_tv_vs_length_legend_outside_the_data(keys):
    out = plots.plot_tv_vs_length(_curves(keys))
    assert set(out.lines) == set(plots.TV_CURVES)
    out.figure.canvas.draw()
    legend_box = out.legend.get_window_extent()
    axes_box = out.axes.get_window_extent()
    assert legend_box.y1 <= axes_box.y0 or legend_box.x0 >= axes_box.x1  # not on the data
    assert out.lines["tv_vs_true"][0].get_xdata().tolist() == [10, 20, 50]
    matplotlib.pyplot.close(out.figure)


def test_depth_comparison_one_colour_per_model():
    out = plots.plot_depth_comparison(_curves(), _curves())
    a = out.lines["1 layer, 1 head vs true"][0].get_color()
    assert a == out.lines["1 layer, 1 head vs MLE"][0].get_color()
    assert a != out.lines["3 layers, 2 heads vs true"][0].get_color()
    matplotlib.pyplot.close(out.figure)


def test_bad_inputs_name_the_argument():
    with pytest.raises(InputError, match="tv_values"):
        plots.plot_mle_rate([10, 100], [0.1])
    with pytest.raises(InputError, match="measured"):
        plots.plot_construction_bound([1, 2], [0.1, "x"], [0.2, 0.3])

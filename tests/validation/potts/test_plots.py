"""Potts figures: theory and simulation of one curve share a colour, readable titles, results."""

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")

from theory.errors import InputError  # noqa: E402
from validation.potts import plots  # noqa: E402


def test_replica_theory_and_simulation_share_colour_and_labels_are_not_doubled():
    alpha = np.linspace(0.5, 3, 20)
    out = plots.plot_replica(alpha, {"R1": np.sqrt(alpha), "R2": alpha / 2},
                             {"R1": ([1, 2], [1.0, 1.4], [0.1, 0.1]),
                              "R2": ([1, 2], [0.5, 1.0], [0.1, 0.1]),
                              "N=500": ([1], [0.7], [0.1])}, "eps_J")
    for label in ("R1", "R2"):
        theory = out.lines[label][0].get_color()
        points = out.lines[f"{label} (simulation)"].lines[0].get_color()
        assert theory == points
    assert out.lines["R1"][0].get_color() != out.lines["R2"][0].get_color()
    labels = [t.get_text() for t in out.legend.get_texts()]
    assert labels == ["R1", "R2", "N=500", "theory", "simulation ± s.e."]
    assert out.axes.get_title() == "Rende et al. 2024\ncoupling error $\\epsilon_J$"
    assert out.axes.get_ylabel() == r"$\epsilon_J$"
    matplotlib.pyplot.close(out.figure)


def test_replica_bad_simulation_names_it():
    with pytest.raises(InputError, match="N=5"):
        plots.plot_replica([1, 2], {"R1": [1, 2]}, {"N=5": ([1, 2], [1.0])}, "test_ce")
    with pytest.raises(InputError, match="R1"):
        plots.plot_replica([1, 2], {"R1": [1, 2, 3]}, {}, "test_ce")


def test_other_figures_return_results():
    out = plots.plot_gaps({"free": 0.0, "softmax": 0.01, "sink": 0.003})
    assert len(out.images["bars"]) == 3
    out2 = plots.plot_decay([100, 200, 400], [0.4, 0.28, 0.2], -0.5)
    out3 = plots.plot_couplings(np.arange(6.0), np.arange(6.0) + 0.1)
    assert out3.axes.get_xlim() == out3.axes.get_ylim()
    for o in (out, out2, out3):
        matplotlib.pyplot.close(o.figure)
    with pytest.raises(InputError, match="learned"):
        plots.plot_couplings(np.zeros(4), np.zeros(5))

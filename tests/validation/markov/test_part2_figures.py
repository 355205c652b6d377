"""The Part 2 figure functions of validation.markov.plots (R4, R5, K4) draw what they are given
and refuse malformed input."""

import matplotlib
import pytest

from numerics.markov.reduction import attention_flow
from theory.errors import InputError
from validation.markov import plots

matplotlib.use("Agg")


def test_low_rank_curves():
    out = plots.plot_low_rank({"W_V": ([0, 100, 200], [0.3, 0.8, 0.97]),
                               "W_1": ([0, 100, 200], [0.2, 0.9, 0.99])})
    assert list(out.lines["W_V"][0].get_ydata()) == [0.3, 0.8, 0.97]
    assert out.lines["rank one"][0].get_ydata()[0] == 1.0
    with pytest.raises(InputError, match="curves"):
        plots.plot_low_rank({})


def test_attention_flow_classes_trajectories():
    flows = [attention_flow(0.9, 0.9, 0.3, 0.3, 0.3, 8, gtol=1e-6)]
    out = plots.plot_attention_flow(0.9, 0.9, flows)
    assert len(out.lines["to H(pi)"]) == 1 and not out.lines["to H(P)"]
    with pytest.raises(InputError, match="flows"):
        plots.plot_attention_flow(0.9, 0.9, [])


def test_window_losses():
    out = plots.plot_window_losses({"L = 1": ([1, 2, 64], [0.55, 0.6, 0.62])}, 0.5466, 0.5446,
                                   0.673)
    assert list(out.lines["L = 1"][0].get_xdata()) == [1, 2, 64]
    assert out.lines["L*"][0].get_ydata()[0] == 0.5466

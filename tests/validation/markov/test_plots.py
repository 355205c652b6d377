"""Markov figures: the landscape marks the critical set of ``critical_summary`` (none of the
p+q != 1 features at p+q = 1), training curves, the ``ttc markov landscape`` figure command."""

import math

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")

from numerics.markov import canonical  # noqa: E402
from theory.errors import InputError  # noqa: E402
from validation.markov.plots import plot_landscape, plot_training_curves  # noqa: E402
from validation.shared.plots import PlotResult  # noqa: E402

MAGIC = {"png": b"\x89PNG\r\n\x1a\n", "pdf": b"%PDF", "svg": b"<svg"}


def _labels(out):
    return [t.get_text() for t in out.legend.get_texts()]


def test_landscape_at_p_plus_q_one_marks_no_saddle_and_no_local_max():
    # p + q = 1: the chain is i.i.d., C = 0, e = 0 has the global loss H(P) = H(pi) and
    # `ttc markov critical` lists no saddle (P2, Sec. 3)
    assert canonical.critical_summary(0.4, 0.6).saddles == []
    out = plot_landscape(0.4, 0.6, n=60)
    assert isinstance(out, PlotResult)
    assert "saddle" not in out.lines and "unigram: local max in e" not in out.lines
    assert "separatrix" not in out.lines and "unigram basin" not in out.contours
    labels = _labels(out)
    assert labels == ["global minima"]
    assert not any("saddle" in t or "max" in t for t in labels)
    # the global minima drawn are the line e = 0 and the line w = -1/sqrt 2
    line, horizontal = out.lines["global minima"]
    assert np.all(line.get_xdata() == 0.0)
    assert np.allclose(horizontal.get_ydata(), -math.sqrt(0.5))
    matplotlib.pyplot.close(out.figure)


@pytest.mark.parametrize("p,q", [(0.5, 0.8), (0.2, 0.3)])
def test_landscape_away_from_p_plus_q_one_marks_the_saddle_and_both_parts_of_e0(p, q):
    out = plot_landscape(p, q, n=80)
    (saddle,) = out.lines["saddle"]
    assert saddle.get_xdata().tolist() == [0.0]
    assert saddle.get_ydata()[0] == pytest.approx(-math.sqrt(0.5))
    # solid (local min) above -1/sqrt2 exactly when p + q > 1 (P2); the drawn parts match
    w = out.lines["unigram: local min"][0].get_ydata()
    drawn = np.isfinite(out.lines["unigram: local min"][0].get_xdata())
    np.testing.assert_array_equal(drawn, (w >= -math.sqrt(0.5)) == (p + q > 1))
    assert out.colorbar is not None and "nats" in out.colorbar.ax.get_ylabel()
    assert "unigram basin" in out.contours and out.contours["loss"].cmap.name == "viridis"
    assert "Makkuva et al. 2024 (P2)" in out.axes.get_title()
    matplotlib.pyplot.close(out.figure)


def test_landscape_bad_ranges_are_input_errors():
    with pytest.raises(InputError, match="e_range"):
        plot_landscape(0.5, 0.8, n=10, e_range=(1.0, -1.0))
    with pytest.raises(InputError, match="n"):
        plot_landscape(0.5, 0.8, n=10**6)


def test_training_curves_labels_and_colours():
    curves = {"tied, standard": ([0, 10, 20], [0.7, 0.65, 0.6]),
              "untied, good": ([0, 10, 20], [0.7, 0.6, 0.55])}
    out = plot_training_curves(curves, 0.5, 0.66)
    labels = _labels(out)
    assert labels[:2] == list(curves) and "$H(P)$: global minimum" in labels
    assert r"$H(\pi)$: unigram trap" in labels
    colors = {out.lines[k][0].get_color() for k in curves}
    assert len(colors) == 2
    matplotlib.pyplot.close(out.figure)
    with pytest.raises(InputError, match="tied"):
        plot_training_curves({"tied": ([0, 1, 2], [0.5, 0.4])}, 0.5, 0.66)


@pytest.mark.parametrize("fmt", ["png", "pdf", "svg"])
def test_landscape_command_writes_the_format_of_the_suffix(run_json, tmp_path, fmt):
    out = tmp_path / f"land.{fmt}"
    result = run_json("markov", "landscape", "--p", "0.4", "--q", "0.6", "--out", str(out),
                      "--grid", "40", "--dpi", "80", "--e-range", "-1:1", "--w-range=-1.5:1")
    data = out.read_bytes()
    assert MAGIC[fmt] in data[:400]
    assert result["figure"] == str(out) and result["format"] == fmt and result["dpi"] == 80
    assert result["regime"] == "p+q=1" and result["e_range"] == [-1.0, 1.0]


def test_landscape_command_png_pixels_and_pdf_alias(run_json, tmp_path):
    out = tmp_path / "land.png"
    result = run_json("markov", "landscape", "--p", "0.5", "--q", "0.8", "--out", str(out),
                      "--grid", "30", "--dpi", "100", "--pdf")
    data = out.read_bytes()
    width = int.from_bytes(data[16:20], "big")
    assert width == 340  # 3.4 in (one paper column) at 100 dpi
    assert (tmp_path / "land.pdf").read_bytes().startswith(b"%PDF") and result["pdf"].endswith(".pdf")


@pytest.mark.parametrize("argv,flag", [
    (["--out", "{tmp}/no-such-dir/x.png"], "--out"),
    (["--out", "{tmp}/x.jpg"], "--out"),
    (["--out", "{tmp}/x.png", "--dpi", "0"], "--dpi"),
    (["--out", "{tmp}/x.png", "--e-range", "2:1"], "--e-range"),
    (["--out", "{tmp}/x.png", "--w-range", "nan:1"], "--w-range"),
    (["--out", "{tmp}/x.png", "--e-range", "1"], "--e-range"),
])
def test_landscape_command_refusals(run_capped, tmp_path, argv, flag):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    code, out, err, _ = run_capped("markov", "landscape", "--p", "0.5", "--q", "0.8", *argv)
    lines = err.strip().splitlines()
    assert code == 2 and out == "" and len(lines) == 1 and lines[0].startswith("error:")
    assert flag in lines[0]
    assert not (tmp_path / "no-such-dir").exists()

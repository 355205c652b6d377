"""The shared plotting API: no global matplotlib state on import, the style context, save_figure's
formats and refusals, legends, colours by curve label, integer ticks, input checks."""

import json
import subprocess
import sys

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")

from theory.errors import InputError  # noqa: E402
from validation.shared import plots  # noqa: E402
from validation.shared.style import COLORS, PALETTE, style  # noqa: E402

MAGIC = {".png": b"\x89PNG\r\n\x1a\n", ".pdf": b"%PDF", ".svg": b"<svg"}

IMPORT_EVERYTHING = r"""
import importlib, json, pkgutil, sys
import matplotlib
before = {k: repr(v) for k, v in matplotlib.rcParams.items()}
backend = matplotlib.rcParams._get_backend_or_none()
import validation
names = [m.name for m in pkgutil.walk_packages(validation.__path__, "validation.")]
for name in names:
    importlib.import_module(name)
after = {k: repr(v) for k, v in matplotlib.rcParams.items()}
print(json.dumps({"modules": len(names), "changed": sorted(k for k in before if before[k] != after[k]),
                  "backend_before": backend,
                  "backend_after": matplotlib.rcParams._get_backend_or_none(),
                  "pyplot": "matplotlib.pyplot" in sys.modules}))
"""


def test_importing_every_validation_module_leaves_backend_and_rcparams_alone():
    # a fresh interpreter with the (non-interactive) svg backend chosen by the user: a
    # matplotlib.use("Agg") anywhere in the library would switch it
    env = {**__import__("os").environ, "MPLBACKEND": "svg"}
    run = subprocess.run([sys.executable, "-c", IMPORT_EVERYTHING], capture_output=True,
                         text=True, timeout=300, env=env)
    assert run.returncode == 0, run.stderr[-2000:]
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["modules"] > 30  # every plots, cli, claims module was imported
    assert report["changed"] == []
    assert report["backend_before"] == report["backend_after"] == "svg"


def test_no_matplotlib_use_in_the_library():
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    offenders = [str(p.relative_to(root)) for folder in ("theory", "numerics", "validation")
                 for p in (root / folder).rglob("*.py") if "matplotlib.use(" in p.read_text()]
    assert offenders == []


def test_style_context_restores_rcparams_and_sets_sizes():
    before = dict(matplotlib.rcParams)
    with style("paper", columns=2):
        ax = plots.new_axes()
        assert tuple(ax.figure.get_size_inches()) == (7.0, 3.0)
        assert matplotlib.rcParams["font.size"] == 8
        assert [c["color"] for c in matplotlib.rcParams["axes.prop_cycle"]] == list(PALETTE)
    assert dict(matplotlib.rcParams) == before
    with style("talk"):
        talk = plots.new_axes()
        assert talk.figure.get_size_inches()[0] == 6.4 and matplotlib.rcParams["font.size"] == 14
    with pytest.raises(InputError, match="name"):
        with style("poster"):
            pass
    with pytest.raises(InputError, match="columns"):
        with style("paper", columns=3):
            pass
    assert dict(matplotlib.rcParams) == before
    for fig in (ax.figure, talk.figure):
        matplotlib.pyplot.close(fig)


def test_okabe_ito_palette():
    # Okabe & Ito (2008), "Color Universal Design": the eight colours, in hex
    assert set(PALETTE) == {"#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2",
                            "#D55E00", "#CC79A7"}


@pytest.mark.parametrize("suffix", [".png", ".pdf", ".svg"])
def test_format_comes_from_the_suffix(tmp_path, suffix):
    ax = plots.new_axes(figsize=(2, 2))
    ax.plot([0, 1], [0, 1])
    path = plots.save_figure(ax.figure, tmp_path / f"f{suffix.upper() if suffix == '.pdf' else suffix}",
                             dpi=50, close=True)
    data = path.read_bytes()
    assert (MAGIC[suffix] in data[:400]) if suffix == ".svg" else data.startswith(MAGIC[suffix])


def test_png_pixels_follow_dpi(tmp_path):
    ax = plots.new_axes(figsize=(2, 1))
    plots.save_figure(ax.figure, tmp_path / "a.png", dpi=100, close=True)
    width, height = (int.from_bytes(b, "big") for b in
                     ((tmp_path / "a.png").read_bytes()[16:20], (tmp_path / "a.png").read_bytes()[20:24]))
    assert (width, height) == (200, 100)


def test_save_figure_refusals_name_the_argument(tmp_path):
    ax = plots.new_axes(figsize=(2, 2))
    fig = ax.figure
    with pytest.raises(InputError) as info:
        plots.save_figure(fig, tmp_path / "x.jpg")
    assert info.value.name == "path" and ".png" in str(info.value)
    missing = tmp_path / "no-such-dir" / "x.png"
    with pytest.raises(InputError) as info:
        plots.save_figure(fig, missing)
    assert info.value.name == "path" and not missing.parent.exists()  # never created
    with pytest.raises(InputError, match="dpi"):
        plots.save_figure(fig, tmp_path / "x.png", dpi=5000)
    with pytest.raises(InputError, match="fig"):
        plots.save_figure("not a figure", tmp_path / "x.png")
    matplotlib.pyplot.close(fig)


def test_report_writer_save_keeps_png_and_pdf(tmp_path):
    ax = plots.new_axes(figsize=(2, 2))
    png = plots.save(ax.figure, tmp_path / "fig.png", pdf=True)
    assert png.read_bytes().startswith(MAGIC[".png"])
    assert png.with_suffix(".pdf").read_bytes().startswith(MAGIC[".pdf"])


def test_legend_lists_each_label_once_and_places_it():
    with style("paper", columns=2):
        ax = plots.new_axes()
        ax.plot([0, 1], [0, 1], label="a")
        ax.plot([0, 1], [1, 0], label="a")
        ax.plot([0, 1], [1, 1], label="b")
        outside = plots.legend(ax)
        assert [t.get_text() for t in outside.get_texts()] == ["a", "b"]
        assert outside.get_bbox_to_anchor().x0 > ax.get_window_extent().x1  # right of the axes
        assert plots.legend(ax, "upper left")._loc == 2
        assert plots.legend(ax, False) is None
        with pytest.raises(InputError, match="loc"):
            plots.legend(ax, 3)
    matplotlib.pyplot.close(ax.figure)


def test_curve_colors_match_by_label():
    colors = plots.CurveColors()
    assert colors("R1") == colors("R1") == PALETTE[0]
    assert colors("R2") == PALETTE[1]
    assert "R1" in colors and "R3" not in colors


def test_integer_ticks():
    ax = plots.new_axes(figsize=(3, 2))
    ax.plot([1, 2, 3], [0, 1, 0])
    plots.integer_ticks(ax, "x")
    ticks = ax.get_xticks()
    assert np.all(ticks == np.round(ticks))
    matplotlib.pyplot.close(ax.figure)


def test_data_array_names_the_argument():
    with pytest.raises(InputError) as info:
        plots.data_array("ns", np.zeros((2, 3)), ndim=1)
    assert info.value.name == "ns"
    with pytest.raises(InputError, match="curve"):
        plots.data_array("curve", ["a", "b"])
    with pytest.raises(InputError):
        plots.data_array("values", [1.0, np.inf])
    assert np.isnan(plots.data_array("values", [1.0, np.nan], allow_nan=True)[1])


def test_paper_title_reads_the_registry():
    assert plots.paper_title("potts-rende", "test loss") == "Rende et al. 2024\ntest loss"
    with pytest.raises(InputError, match="paper"):
        plots.paper_title("eps_J")


def test_plot_function_uses_paper_style_only_without_ax():
    from validation.bayesnet.plots import plot_mle_rate

    out = plot_mle_rate([10, 100, 1000], [0.2, 0.07, 0.02])
    assert isinstance(out, plots.PlotResult) and out.axes.figure is out.figure
    assert out.figure.get_size_inches()[0] == 3.4 and out.axes.xaxis.label.get_fontsize() == 8
    assert out.lines["MLE"][0].get_color() == COLORS["blue"]
    matplotlib.pyplot.close(out.figure)
    fig, ax = matplotlib.pyplot.subplots(figsize=(5, 4))  # the caller's axes keep its settings
    out = plot_mle_rate([10, 100], [0.2, 0.07], ax=ax)
    assert out.axes is ax and ax.xaxis.label.get_fontsize() == matplotlib.rcParams["axes.labelsize"] \
        or ax.xaxis.label.get_fontsize() == matplotlib.font_manager.FontProperties(
            size=matplotlib.rcParams["axes.labelsize"]).get_size_in_points()
    matplotlib.pyplot.close(fig)


def test_paper_title_wraps_outside_mathtext():
    title = plots.paper_title("lsa-ding", "$d = 1$: where Theorem 3.3's parameters exist at $n = 10$")
    lines = title.split("\n")
    assert lines[0] == "Ding et al. 2025" and len(lines) >= 3
    assert all(line.count("$") % 2 == 0 for line in lines)  # no formula cut in two
    assert all(len(plots._visible_text(line)) <= plots.TITLE_WIDTH for line in lines[1:])

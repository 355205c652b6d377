"""The example notebook ``notebooks/tour.ipynb`` runs top to bottom in a real Jupyter kernel
(nbclient) and shows what a notebook user expects: the derivation as LaTeX, the figures inline,
the conjecture results as HTML tables."""

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "tour.ipynb"


@pytest.fixture(scope="module")
def executed():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"), \
        "commit the notebook without outputs"
    nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def _kinds(cell):
    return {kind for output in cell.outputs for kind in output.get("data", {})}


def test_every_cell_runs_without_error_or_warning_output(executed):
    for cell in executed:
        for output in cell.outputs:
            assert output.output_type != "error", output
            assert output.get("name") != "stderr" or "Warning" not in output.get("text", ""), \
                output["text"]


def test_the_derivation_renders_as_latex_with_the_embedding_symbol(executed):
    derivation = executed[0]
    assert "text/latex" in _kinds(derivation)


def test_figures_display_inline_and_stay_inline_after_the_style_block(executed):
    landscape, _, refuted = executed[1], executed[2], executed[3]
    assert "image/png" in _kinds(landscape)
    assert "image/png" in _kinds(refuted), "the conjecture's plot did not display"


def test_conjecture_results_render_as_html(executed):
    for cell in executed[2:4]:
        assert "text/html" in _kinds(cell)

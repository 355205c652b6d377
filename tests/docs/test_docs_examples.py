"""Every Python example printed in the README and the documentation runs as printed, so no
example silently rots: each ```python block of README.md and docs/**/*.md and each
``.. code-block:: python`` of docs/**/*.rst is executed in a fresh namespace (in a temporary
folder: examples may write files), and the values the text quotes in comments are checked.

The tutorials' files and the gallery scripts are run by test_tutorials.py and by the
documentation build (sphinx-gallery executes every gallery script)."""

import re
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
SKIP = ("_build", "auto_examples", "generated")


def _sources():
    yield ROOT / "README.md"
    for path in sorted(DOCS.rglob("*.md")) + sorted(DOCS.rglob("*.rst")):
        if not any(part in SKIP for part in path.relative_to(DOCS).parts):
            yield path


def _blocks(path: Path) -> list[str]:
    text = path.read_text()
    if path.suffix == ".md":
        return re.findall(r"^```python\n(.*?)^```", text, re.S | re.M)
    blocks = []
    for match in re.finditer(r"^( *)\.\. code-block:: python\n((?:\1   .*\n|[ \t]*\n)+)", text, re.M):
        blocks.append(textwrap.dedent(match.group(2)))
    return blocks


BLOCKS = [(f"{path.relative_to(ROOT)}[{k}]", block)
          for path in _sources() for k, block in enumerate(_blocks(path))]


def test_the_documentation_has_the_examples_this_file_runs():
    names = {name.split("[")[0] for name, _ in BLOCKS}
    assert {"README.md", "docs/tools.md", "docs/reference/markov.md",
            "docs/tutorials/verify_a_derivation.rst"} <= names
    assert len(BLOCKS) >= 5


@pytest.mark.parametrize("name, block", BLOCKS, ids=[name for name, _ in BLOCKS])
def test_example_runs(name, block, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__docs_example__"}
    exec(compile(block, name, "exec"), namespace)  # noqa: S102 (our own documentation)
    if "result = search_counterexample(" in block:          # docs/tools.md quotes the result
        result = namespace["result"]
        assert (result.holds, result.counterexample) == (False, {"x": 0.15})
    if "chain_summary(0.5, 0.8)" in block:                  # the README tour quotes P1's levels
        levels = namespace["levels"]
        assert (round(levels.entropy_rate, 4), round(levels.unigram_entropy, 4)) == (0.619, 0.6663)
        assert (tmp_path / "markov_landscape.png").stat().st_size > 10_000

"""The README's Python examples run as printed: the snippets execute, the example test file passes
under pytest, and the values the README quotes in comments are the values they produce."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)


def _block(start: str) -> str:
    (block,) = [b for b in BLOCKS if b.lstrip().startswith(start)]
    return block


def test_the_readme_has_the_examples_this_file_runs():
    assert len(BLOCKS) == 4


def test_conjecture_example_finds_the_printed_counterexample():
    namespace = {}
    exec(_block("from numerics.shared.conjecture"), namespace)  # noqa: S102 (our own README)
    result = namespace["result"]
    assert (result.holds, result.counterexample) == (False, {"x": 0.15})  # as printed


def test_derivation_listing_runs():
    exec(_block("from theory import markov\nmarkov.entropy_rate()"), {})  # noqa: S102


def test_energy_identity_example_runs():
    exec(_block("import sympy as sp\nfrom theory import markov"), {})  # noqa: S102


def test_example_test_file_passes_under_pytest(tmp_path):
    path = tmp_path / "test_my_derivation.py"
    path.write_text(_block('"""My derivations'))
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(path)],
                         capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert run.returncode == 0, run.stdout[-2000:]

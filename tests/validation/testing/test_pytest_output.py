"""What a user's pytest run shows when one of the public test helpers fails, and that the library
raises no DeprecationWarning (no invalid escape sequences)."""

import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]

FAILING_TESTS = textwrap.dedent("""
    import sympy as sp
    from validation.testing import assert_expressions_equal, assert_stationary
    from validation.testing.numeric import assert_converged_to

    x = sp.Symbol("x", real=True)

    def test_converged():
        assert_converged_to([1.0, 2.0], [1.0, 2.5], tol=1e-3)

    def test_expressions():
        assert_expressions_equal(x**2, x**2 + 1)

    def test_stationary():
        assert_stationary((x - 1)**2, [x], {x: 2})
""")


@pytest.mark.parametrize("name", ["test_converged", "test_expressions", "test_stationary"])
def test_failing_helper_shows_the_callers_line_not_library_frames(tmp_path, name):
    (tmp_path / "test_user.py").write_text(FAILING_TESTS)
    run = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--rootdir",
                          str(tmp_path), "-o", "addopts=", f"test_user.py::{name}"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 1, run.stdout + run.stderr  # the test failed, pytest did not crash
    assert "test_user.py" in run.stdout
    assert "AssertionError" in run.stdout
    for library_file in ("validation/testing/numeric.py", "validation/testing/__init__.py"):
        assert library_file not in run.stdout, run.stdout


@pytest.mark.parametrize("folder", ["theory", "numerics", "validation", "benchmarks", "docs/examples"])
def test_library_source_compiles_without_deprecation_warnings(folder):
    """An invalid escape sequence ("\\(" in a non-raw string) is a DeprecationWarning at compile
    time (a SyntaxWarning from Python 3.12 on)."""
    files = sorted((ROOT / folder).rglob("*.py"))
    assert files
    for path in files:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            compile(path.read_text(encoding="utf-8"), str(path), "exec")

"""The two tutorials run as they stand: the derivation tests pass under pytest, and the
conjecture script prints exactly the output the tutorial shows."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TUTORIALS = ROOT / "docs" / "tutorials"


def test_verify_a_derivation_test_file_passes(tmp_path):
    path = tmp_path / "test_my_derivation.py"          # copied, as the tutorial tells the reader
    path.write_text((TUTORIALS / "test_my_derivation.py").read_text())
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(path)],
                         capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert run.returncode == 0, run.stdout[-2000:]
    assert "5 passed" in run.stdout


def test_check_a_conjecture_prints_what_the_tutorial_shows(tmp_path):
    run = subprocess.run([sys.executable, str(TUTORIALS / "check_my_conjecture.py")],
                         capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout == (TUTORIALS / "check_my_conjecture.out").read_text()
    assert (tmp_path / "conjecture_margin.png").stat().st_size > 10_000   # the figure it shows


def test_the_tutorials_show_these_files():
    for page, shown in (("verify_a_derivation.rst", "test_my_derivation.py"),
                        ("check_a_conjecture.rst", "check_my_conjecture.py"),
                        ("check_a_conjecture.rst", "check_my_conjecture.out")):
        assert f".. literalinclude:: {shown}" in (TUTORIALS / page).read_text()

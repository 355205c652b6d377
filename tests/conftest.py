"""Shared test helpers."""

import json

import pytest

from validation.cli import main


@pytest.fixture
def run_json(capsys):
    """Run ``ttc ARGV --json`` in-process; assert exit 0 and exactly one JSON line; return it."""

    def run(*argv):
        code = main(list(argv) + ["--json"])
        out, err = capsys.readouterr()
        assert code == 0, err
        assert len(out.strip().splitlines()) == 1  # exactly one JSON object, nothing else
        return json.loads(out)

    return run


@pytest.fixture
def run_capped():
    """Run ``ttc ARGV`` in a subprocess under a memory cap (address space, default 2 GiB) and a
    wall-clock limit (default 10 s); return ``(exit code, stdout, stderr, seconds)``. A run that
    is still going at the limit is killed and reported with exit code None."""
    import subprocess
    import sys
    import time

    def run(*argv, seconds: float = 10.0, memory: int = 2 * 2**30, cwd=None):
        code = (f"import resource, sys; resource.setrlimit(resource.RLIMIT_AS, ({memory}, {memory}));"
                "from validation.cli import main; sys.exit(main(sys.argv[1:]))")
        start = time.perf_counter()
        try:
            done = subprocess.run([sys.executable, "-c", code, *map(str, argv)], capture_output=True,
                                  text=True, timeout=seconds, cwd=cwd)
        except subprocess.TimeoutExpired as exc:
            return None, exc.stdout or "", exc.stderr or "", time.perf_counter() - start
        return done.returncode, done.stdout, done.stderr, time.perf_counter() - start

    return run

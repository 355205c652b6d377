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

"""Shared inputs of the `ttc bayesnet` command tests: a three-variable network (C has parents A
and B) and a six-row context, written as files."""

import copy
import json

import pytest

NET = {"variables": [
    {"name": "A", "card": 2, "parents": [], "cpt": [[0.5, 0.5]]},
    {"name": "B", "card": 2, "parents": [], "cpt": [[0.5, 0.5]]},
    {"name": "C", "card": 2, "parents": ["A", "B"], "cpt": [[0.9, 0.1], [0.2, 0.8], [0.3, 0.7], [0.5, 0.5]]}]}
CONTEXT = "A,B,C\n0,0,0\n0,1,1\n1,0,1\n1,0,0\n0,1,1\n1,0,1\n"


@pytest.fixture
def small_net():
    """The network as a fresh dict (tests may change it)."""
    return copy.deepcopy(NET)


@pytest.fixture
def files(tmp_path, small_net):
    """``(tmp_path, network file, context file)``."""
    net = tmp_path / "net.json"
    net.write_text(json.dumps(small_net))
    ctx = tmp_path / "ctx.csv"
    ctx.write_text(CONTEXT)
    return tmp_path, str(net), str(ctx)

"""Issue 11 for the Bayesian-network paper: every example of the issue through ``ttc`` under a
memory cap and a time limit (one ``error:`` line, exit 2; never a traceback, a hang or NaN), and
the declared domains shared by the command line and the Python API."""

import json

import numpy as np
import pytest

from numerics.bayesnet import construction, networks
from theory.errors import InputError, TooLargeError

NET = {"variables": [
    {"name": "A", "card": 2, "parents": [], "cpt": [[0.5, 0.5]]},
    {"name": "B", "card": 2, "parents": [], "cpt": [[0.5, 0.5]]},
    {"name": "C", "card": 2, "parents": ["A", "B"], "cpt": [[0.9, 0.1], [0.2, 0.8], [0.3, 0.7], [0.5, 0.5]]}]}


def _write(tmp_path, name, variables):
    path = tmp_path / name
    path.write_text(json.dumps({"variables": variables}))
    return str(path)


def _refused(result, needle, code=2):
    exit_code, out, err, seconds = result
    lines = err.strip().splitlines()
    assert exit_code == code, (exit_code, err)
    assert out == "" and len(lines) == 1 and lines[0].startswith("error:"), err
    assert needle in lines[0], lines[0]
    assert seconds < 10
    assert "Traceback" not in err


def test_construct_n_beyond_the_documented_maximum_is_refused_at_once(run_capped):
    _refused(run_capped("bayesnet", "construct", "--n", "100000", "--beta", "8"), "--n")
    _refused(run_capped("bayesnet", "construct", "--n", "4001", "--beta", "8"), "4000")


def test_construct_large_network_is_refused_by_the_estimate(run_capped, tmp_path):
    # 12 binary variables, each with every earlier one as parent: 4096 joint states are fine,
    # but the work at N = 4000 is far above the budget of 5 binary variables.
    variables = []
    for m in range(12):
        parents = [f"X{q}" for q in range(m)]
        variables.append({"name": f"X{m}", "card": 2, "parents": parents,
                          "cpt": [[0.5, 0.5]] * 2**m})
    path = _write(tmp_path, "big.json", variables)
    _refused(run_capped("bayesnet", "construct", "--network", path, "--n", "4000", "--beta", "8"),
             "at most")


def test_binary_context_file_is_refused(run_capped, tmp_path):
    net = _write(tmp_path, "net.json", NET["variables"])
    binary = tmp_path / "ctx.csv"
    binary.write_bytes(bytes(range(256)) * 8)
    _refused(run_capped("bayesnet", "mle", "--network", net, "--context", str(binary),
                        "--target", "A"), "context=")
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("A,B,C\n0,0,\xe9\n".encode("latin-1"))
    _refused(run_capped("bayesnet", "mle", "--network", net, "--context", str(latin1),
                        "--target", "A"), "UTF-8")


@pytest.mark.parametrize("change, needle", [
    ({"parents": "AB"}, "list of variable names"),
    ({"card": 2.7}, "not a float"),
    ({"cpt": [[[0.9, 0.1]], [[0.2, 0.8]], [[0.3, 0.7]], [[0.5, 0.5]]]}, "2-D table"),
    ({"name": "C,D"}, "commas"),
    ({"name": "C\nD"}, "newlines"),
])
def test_network_loader_is_strict(run_capped, tmp_path, change, needle):
    variables = NET["variables"][:2] + [{**NET["variables"][2], **change}]
    path = _write(tmp_path, "bad.json", variables)
    _refused(run_capped("bayesnet", "sample", "--network", path, "--n", "3",
                        "--out", str(tmp_path / "s.csv")), needle)
    assert not (tmp_path / "s.csv").exists()
    with pytest.raises(InputError, match=needle.split()[0]):
        networks.load_network(path)


def test_train_with_zero_episodes_is_refused(run_capped):
    _refused(run_capped("bayesnet", "train", "--graph", "chain", "--episodes", "0"), "--episodes")


def test_train_heads_must_divide_width(run_capped):
    _refused(run_capped("bayesnet", "train", "--graph", "chain", "--layers", "1", "--heads", "3",
                        "--width", "8", "--steps", "0", "--episodes", "1"), "divisor")
    _refused(run_capped("bayesnet", "train", "--graph", "chain", "--layers", "2", "--width", "9"),
             "divisor")


def test_construct_graph_and_network_together_is_an_error(run_capped, tmp_path):
    path = _write(tmp_path, "net.json", NET["variables"])
    _refused(run_capped("bayesnet", "construct", "--graph", "chain", "--network", path,
                        "--n", "5", "--beta", "8"), "--graph")


def test_mle_options_that_do_not_apply(run_capped, tmp_path):
    net = _write(tmp_path, "net.json", NET["variables"])
    ctx = tmp_path / "ctx.csv"
    ctx.write_text("A,B,C\n0,0,0\n0,1,1\n")
    base = ("bayesnet", "mle", "--network", net, "--context", str(ctx), "--target", "A")
    _refused(run_capped(*base, "--ess", "4"), "--ess")
    _refused(run_capped(*base, "--prior", "k2", "--on-empty", "uniform"), "--on-empty")
    _refused(run_capped(*base, "--target", "C", "--query", "A=__import__('os')"), "--query")


def test_sample_csv_is_written_atomically_and_read_back(tmp_path, capsys):
    from validation.cli import main

    net = _write(tmp_path, "net.json", NET["variables"])
    out = tmp_path / "s.csv"
    assert main(["bayesnet", "sample", "--network", net, "--n", "20", "--seed", "3",
                 "--out", str(out), "--json"]) == 0
    capsys.readouterr()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary left
    structure = networks.load_network(net).structure
    np.testing.assert_array_equal(networks.load_context(out, structure),
                                  networks.sample(networks.load_network(net), 20, 3))


def test_save_samples_same_text_on_both_paths(tmp_path):
    """The byte formatter (cards <= 10) writes exactly what the row-by-row formatter writes."""
    net = networks.load_network(_write(tmp_path, "net.json", NET["variables"]))
    samples = networks.sample(net, 50, 1)
    networks.save_samples(net.structure, samples, tmp_path / "fast.csv")
    expected = "A,B,C\n" + "\n".join(",".join(map(str, r)) for r in samples.tolist()) + "\n"
    assert (tmp_path / "fast.csv").read_text() == expected
    networks.save_samples(net.structure, samples[:0], tmp_path / "empty.csv")
    assert (tmp_path / "empty.csv").read_text() == "A,B,C\n\n"


def test_sample_refuses_too_many_cells_before_drawing(run_capped, tmp_path):
    net = _write(tmp_path, "net.json", NET["variables"])
    _refused(run_capped("bayesnet", "sample", "--network", net, "--n", "10000000",
                        "--out", str(tmp_path / "s.csv")), "at most")


def test_api_guards_raise_library_errors():
    s = networks.family_structure("general5")
    net = networks.family_network("general5", 0)
    with pytest.raises(TooLargeError, match="n"):
        construction.construction_report(networks.family_network("chain", 0, M=12), 4000, 8.0, 0)
    with pytest.raises(InputError, match="beta"):
        construction.check_beta(float("nan"))
    with pytest.raises(TooLargeError):
        networks.sample_batch(s, [t[None] for t in net.cpts], 10**9, 0)
    with pytest.raises(TooLargeError):
        networks.random_cpts(s, 0, batch=10**9)
    with pytest.raises(InputError, match="cpt"):
        networks.Network(s, tuple(t[None] for t in net.cpts))        # 3-D tables
    with pytest.raises(InputError, match="card"):
        networks.make_network(["A"], [2.7], [[]], [[[0.5, 0.5]]])
    with pytest.raises(InputError, match="context"):
        from numerics.bayesnet import mle
        mle.in_context_mle(s, np.full((3, 5), 0.5), [0] * 5, 0)     # float states

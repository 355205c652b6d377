"""`ttc bayesnet example | bayes | baselines` (spec Part 2 Sec. 13): exact --json keys, one-line errors."""

import json

import pytest

from numerics.bayesnet import networks, real
from validation.cli import main


def _run(capsys, argv):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_bayes_json(capsys, files):
    # Anchor: k = 2 of n = 3 rows; posterior ~ t^2 (1-t) on [.1,.9]: mean = int t^3(1-t) / int t^2(1-t)
    # = [t^4/4 - t^5/5] / [t^3/3 - t^4/4] over [.1,.9] (exact polynomials).
    _, net, ctx = files
    code, out, _ = _run(capsys, ["bayesnet", "bayes", "--network", net, "--context", ctx, "--target", "C",
                                 "--query", "A=1,B=0", "--json"])
    result = json.loads(out)
    assert code == 0 and set(result) == {"parameters", "mean", "median"}
    F = lambda f: f(0.9) - f(0.1)   # noqa: E731
    mean = F(lambda t: t ** 4 / 4 - t ** 5 / 5) / F(lambda t: t ** 3 / 3 - t ** 4 / 4)
    assert result["mean"][1] == pytest.approx(mean, abs=1e-12) and sum(result["mean"]) == pytest.approx(1)
    assert 0.5 < result["median"][1] < 0.9


def test_example_json(capsys, tmp_path):
    out_file = tmp_path / "asia.json"
    code, out, _ = _run(capsys, ["bayesnet", "example", "--name", "asia", "--out", str(out_file), "--json"])
    result = json.loads(out)
    assert code == 0 and set(result) == {"parameters", "out", "variables", "edges"} and result["edges"] == 8
    net = networks.load_network(out_file)
    assert real.network_differences(net, real.asia())["max_cpt_difference"] == 0.0


def test_baselines_json(capsys):
    code, out, _ = _run(capsys, ["bayesnet", "baselines", "--graph", "general5", "--n", "5,200",
                                 "--episodes", "1500", "--json"])
    result = json.loads(out)
    assert code == 0 and set(result) == {"parameters", "tv_mle", "tv_floor", "tv_bayes_mean", "tv_naive", "acc_exp"}
    # spec Sec. 7 [derived, 1e4 episodes]: general5 N = 5: MLE .219, floor .141, naive .237; SE here ~.004
    assert result["tv_mle"]["5"] == pytest.approx(0.219, abs=0.012)
    assert result["tv_floor"]["5"] == pytest.approx(0.141, abs=0.005)
    assert result["tv_naive"]["5"] == pytest.approx(0.237, abs=0.012)
    assert result["tv_floor"]["200"] <= result["tv_mle"]["200"] + 0.003


def _bad_network(tmp_path, data, change):
    change(data)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    return str(path)


@pytest.mark.parametrize("change", [
    lambda d: d["variables"][0].update(parents=["C"]),                     # a cycle A -> C -> A
    lambda d: d["variables"][2].update(parents=["A", "Z"]),                # unknown parent
    lambda d: d["variables"][2]["cpt"][1].__setitem__(0, 0.3),             # row sums to 1.1
])
def test_bayes_bad_network(capsys, files, small_net, change):
    tmp_path, _, ctx = files
    net = _bad_network(tmp_path, small_net, change)
    code, out, err = _run(capsys, ["bayesnet", "bayes", "--network", net, "--context", ctx, "--target", "C",
                                   "--query", "A=1,B=0"])
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and err.startswith("error:")


@pytest.mark.parametrize("argv", [
    ["bayesnet", "baselines", "--graph", "chain", "--n", "0"],
    ["bayesnet", "baselines", "--graph", "chain", "--n", "5,-1"],
    ["bayesnet", "baselines", "--graph", "cycle", "--n", "5"],
    ["bayesnet", "baselines", "--graph", "chain10", "--n", "2000", "--episodes", "100000"],  # work cap
    ["bayesnet", "example", "--name", "alarm", "--out", "x.json"],
])
def test_bad_arguments(capsys, argv):
    code, out, err = _run(capsys, argv)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and err.startswith("error:")


def test_bayes_needs_binary_target(capsys, tmp_path):
    data = {"variables": [{"name": "A", "card": 3, "parents": [], "cpt": [[0.2, 0.3, 0.5]]}]}
    net = tmp_path / "n.json"
    net.write_text(json.dumps(data))
    ctx = tmp_path / "c.csv"
    ctx.write_text("A\n0\n2\n")
    code, _, err = _run(capsys, ["bayesnet", "bayes", "--network", str(net), "--context", str(ctx), "--target", "A"])
    assert code == 2 and "binary" in err and len(err.strip().splitlines()) == 1

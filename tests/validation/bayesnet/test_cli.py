"""`ttc bayesnet ...` through validation.cli.main: exact --json keys and one-line errors."""

import json

import pytest

from validation.cli import main


def _run(capsys, argv):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_mle_json(capsys, files):
    _, net, ctx = files
    code, out, _ = _run(capsys, ["bayesnet", "mle", "--network", net, "--context", ctx, "--target", "C",
                                 "--query", "A=1,B=0", "--json"])
    result = json.loads(out)
    assert code == 0 and set(result) == {"parameters", "probs", "count", "parents"}
    assert result["count"] == 3 and result["parents"] == ["A", "B"]
    assert result["probs"][1] == pytest.approx(2 / 3, abs=1e-15)      # the library's anchor example


def test_mle_conventions(capsys, files):
    _, net, ctx = files
    base = ["bayesnet", "mle", "--network", net, "--context", ctx, "--target", "C", "--query", "A=1,B=1"]
    assert json.loads(_run(capsys, base + ["--json"])[1])["probs"] == [None, None]
    assert json.loads(_run(capsys, base + ["--on-empty", "backoff", "--json"])[1])["probs"] == \
        pytest.approx([0.2, 0.8])
    assert json.loads(_run(capsys, base + ["--prior", "bdeu", "--ess", "4", "--json"])[1])["probs"] == \
        pytest.approx([0.5, 0.5])


@pytest.mark.parametrize("extra, needle", [
    (["--target", "Z", "--query", "A=1"], "Z"),
    (["--target", "C", "--query", "A=1,B=2"], "query state of B"),
    (["--target", "C", "--query", "A=1"], "every parent"),
    (["--target", "C", "--query", "Q=1,A=0,B=0"], "Q"),
])
def test_mle_errors(capsys, files, extra, needle):
    _, net, ctx = files
    code, out, err = _run(capsys, ["bayesnet", "mle", "--network", net, "--context", ctx, *extra, "--json"])
    assert code == 2 and out == "" and err.startswith("error: ") and needle in err
    assert len(err.strip().splitlines()) == 1


def test_bad_files(capsys, files, small_net):
    tmp, net, ctx = files
    cyc = {"variables": [dict(small_net["variables"][0], parents=["C"], cpt=[[0.5, 0.5], [0.5, 0.5]]),
                         *small_net["variables"][1:]]}
    (tmp / "cyc.json").write_text(json.dumps(cyc))
    code, _, err = _run(capsys, ["bayesnet", "sample", "--network", str(tmp / "cyc.json"), "--n", "3",
                                 "--out", str(tmp / "s.csv"), "--json"])
    assert code == 2 and "cycle" in err
    (tmp / "bad.csv").write_text("A,B,C\n0,0,3\n")
    code, _, err = _run(capsys, ["bayesnet", "mle", "--network", net, "--context", str(tmp / "bad.csv"),
                                 "--target", "C", "--query", "A=0,B=0", "--json"])
    assert code == 2 and "state of C" in err


def test_sample_then_mle(capsys, files):
    tmp, net, _ = files
    out_csv = str(tmp / "s.csv")
    code, out, _ = _run(capsys, ["bayesnet", "sample", "--network", net, "--n", "50", "--seed", "1",
                                 "--out", out_csv, "--json"])
    assert code == 0 and json.loads(out)["n"] == 50
    code, out, _ = _run(capsys, ["bayesnet", "mle", "--network", net, "--context", out_csv, "--target", "A",
                                 "--json"])
    assert code == 0 and json.loads(out)["parents"] == []


def test_construct_json(capsys):
    code, out, _ = _run(capsys, ["bayesnet", "construct", "--graph", "chain", "--n", "50", "--beta", "8",
                                 "--seed", "2", "--json"])
    result = json.loads(out)
    assert code == 0 and set(result) == {"parameters", "max_tv_vs_mle", "bound", "generation_max_abs_error"}
    assert 0 < result["max_tv_vs_mle"] <= result["bound"]
    code, out, _ = _run(capsys, ["bayesnet", "construct", "--graph", "chain", "--n", "50", "--beta", "8",
                                 "--seed", "2", "--backend", "torch", "--json"])
    torch_result = json.loads(out)
    assert torch_result.pop("parameters")["backend"] == "torch"
    for key in set(result) - {"parameters"}:  # same weights, two backends
        assert torch_result[key] == pytest.approx(result[key], rel=1e-9, abs=1e-15)


def test_train_json_keys(capsys):
    code, out, _ = _run(capsys, ["bayesnet", "train", "--graph", "chain", "--layers", "1", "--steps", "3",
                                 "--episodes", "2", "--width", "8", "--seed", "0", "--json"])
    result = json.loads(out)
    # spec Sec. 5 keys, plus Part 2 Sec. 13's tv_floor, acc_sample, acc_exp (attention_probe only with --probe)
    assert code == 0 and set(result) == {"parameters", "tv_vs_mle", "tv_vs_true", "tv_mle_vs_true", "tv_naive_vs_true",
                                         "tv_floor", "acc_sample", "acc_exp"}
    assert set(result["tv_vs_mle"]) == {"1", "2", "5", "10", "20", "50", "100", "200"}

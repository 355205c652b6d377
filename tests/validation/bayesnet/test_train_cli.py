"""``ttc bayesnet train``: the Part 2 options and keys of spec Sec. 13."""

import pytest

from validation.cli import main

TINY = ("--layers", "1", "--width", "8", "--steps", "3", "--episodes", "4")


def _error(capsys, *argv) -> str:
    code = main(["bayesnet", "train", *argv])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1, err
    assert err.startswith("error:")
    return err


def test_train_keys_with_probe_and_eval_n(run_json):
    out = run_json("bayesnet", "train", "--graph", "general5", *TINY, "--eval-n", "5,20", "--probe")
    for key in ("tv_vs_mle", "tv_vs_true", "tv_mle_vs_true", "tv_naive_vs_true", "tv_floor",
                "acc_sample", "acc_exp"):
        assert set(out[key]) == {"5", "20"}, key
        assert all(0 <= v <= 1 for v in out[key].values())
    probe = out["attention_probe"]
    assert set(probe) == {"matched_mass", "chance", "spearman", "naive_share", "head"}
    assert 0 <= probe["chance"] <= 1 and probe["head"] == 0
    assert out["parameters"]["eval_n"] == [5, 20] and out["parameters"]["probe"] is True


def test_train_without_probe_has_no_probe_key(run_json):
    out = run_json("bayesnet", "train", "--graph", "tree7", *TINY, "--eval-n", "10", "--n-train", "15",
                   "--target", "sample")
    assert "attention_probe" not in out and set(out["tv_floor"]) == {"10"}


def test_train_parents_and_mixture(run_json):
    a = run_json("bayesnet", "train", "--parents", ";;0,1;0,2;3", *TINY, "--eval-n", "5")
    b = run_json("bayesnet", "train", "--graph", "general5", *TINY, "--eval-n", "5")
    # the same graph as general5, same seed: the same numbers
    assert a["tv_vs_true"] == b["tv_vs_true"]
    c = run_json("bayesnet", "train", "--mixture", "4,0.5", *TINY, "--eval-n", "5", "--probe")
    assert set(c["tv_vs_mle"]) == {"5"} and c["parameters"]["mixture"] == [4, 0.5]


@pytest.mark.parametrize("argv, needle", [
    (("--parents", "1;0"), "cycle"),                   # a graph with a cycle
    (("--parents", ";0;3"), "0..2"),                   # a parent index out of range
    (("--parents", ";x"), "indices"),
    (("--graph", "chain", "--n-train", "0"), "n-train"),    # N < 1
    (("--graph", "chain", "--eval-n", "5,0"), "eval-n"),
    (("--mixture", "5,1.5"), "[0, 1]"),                # a probability outside [0, 1]
    (("--mixture", "5,-0.1"), "[0, 1]"),
    (("--mixture", "5"), "M,p"),
    (("--graph", "chain", "--mixture", "5,0.5"), "exactly one"),
    ((), "graph"),
    (("--graph", "chain", "--target", "bayes"), "target"),
])
def test_train_bad_input_exits_2(capsys, argv, needle):
    assert needle in _error(capsys, *argv, "--steps", "1")


def test_probe_needs_an_edge(capsys):
    assert "edge" in _error(capsys, "--parents", ";", *TINY, "--probe")

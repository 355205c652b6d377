"""The `ttc markov` command-line contract (its `--json` keys) and the error convention."""


import pytest

from validation.cli import main

KEYS = {
    "summary": {"p", "q", "pi", "entropy_rate", "unigram_entropy", "mutual_information",
                "switching", "regime"},
    "critical": {"global_minimum_loss", "global_curve_constant", "unigram_loss", "unigram_bias",
                 "unigram_local_min_w", "unigram_local_max_w", "saddles"},
    "basin": {"predicted", "energy", "separatrix_energy", "flow_end"},
    "train": {"final_loss", "entropy_rate", "unigram_entropy", "converged_to",
              "predicted_p_given_0", "predicted_p_given_1"},
}




def test_summary_keys_and_values(run_json):
    result = run_json("markov", "summary", "--p", "0.5", "--q", "0.8")
    assert set(result) == KEYS["summary"] | {"parameters"}
    assert result["regime"] == "p+q>1" and result["entropy_rate"] == pytest.approx(0.6190, abs=5e-5)


def test_summary_accepts_fractions(run_json):
    result = run_json("markov", "summary", "--p", "1/2", "--q", "4/5")
    assert result["p"] == 0.5 and result["q"] == 0.8


def test_critical_keys(run_json):
    result = run_json("markov", "critical", "--p", "0.2", "--q", "0.3")
    assert set(result) == KEYS["critical"] | {"parameters"}
    assert result["unigram_local_min_w"][0] is None  # p+q<1: minima for w < -1/sqrt2
    assert set(result["saddles"][0]) == {"e", "w", "b", "loss"}


def test_basin_keys(run_json):
    result = run_json("markov", "basin", "--p", "0.5", "--q", "0.8", "--e0", "0.5", "--w0", "-1")
    assert set(result) == KEYS["basin"] | {"parameters"}
    assert result["predicted"] == "global"
    assert result["flow_end"]["loss"] == pytest.approx(0.6190145817, abs=1e-9)


def test_train_canonical_keys(run_json):
    result = run_json("markov", "train", "--p", "0.5", "--q", "0.8", "--model", "canonical",
                      "--steps", "3000", "--seed", "1")
    assert set(result) == KEYS["train"] | {"parameters"}
    assert result["converged_to"] == "local"  # small init, p+q>1: the unigram trap (P2)
    # the unigram minimum predicts pi_1 = 5/13 after both tokens
    assert result["predicted_p_given_0"] == pytest.approx(5 / 13, abs=1e-6)


def test_landscape_writes_png(run_json, tmp_path):
    out = tmp_path / "land.png"
    result = run_json("markov", "landscape", "--p", "0.2", "--q", "0.3", "--out", str(out),
                      "--grid", "60")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and result["figure"] == str(out)


@pytest.mark.parametrize("argv,fragment", [
    (["markov", "summary", "--p", "1.5", "--q", "0.2"], "--p: '1.5': expected a real number in (0, 1)"),
    (["markov", "summary", "--p", "0.5", "--q", "0.2", "--states", "1"], "--states: '1'"),
    (["markov", "train", "--p", "0.5", "--q", "0.2", "--steps", "-3"], "--steps: '-3'"),
    (["markov", "summary", "--p", "abc", "--q", "0.2"], "expected a number such as"),
    (["markov", "basin", "--p", "0.5", "--q", "0.2", "--e0", "1"], "--w0"),
])
def test_bad_input_is_one_error_line_and_exit_2(capsys, argv, fragment):
    with pytest.raises(SystemExit) as exit_info:
        code = main(argv)
        raise SystemExit(code)
    assert exit_info.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: ") and fragment in err

"""`ttc markov summary --lag/--seq-len`, `summary --chain random --order` and `ttc markov reduce`
(specification markov.md Part 2, Sec. 5): their --json keys, reference values (recomputed
independently in tests/numerics/markov/test_higher_order.py and
tests/validation/markov/test_reduction.py) and errors (exit 2, one `error:` line)."""

import pytest

from validation.cli import main


def _error(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:")
    return lines[0]


def test_summary_lag_keys(run_json):
    result = run_json("markov", "summary", "--p", "0.2", "--q", "0.3", "--lag", "2",
                      "--seq-len", "10")
    assert {"lag", "optimal_loss_finite_n"} <= set(result)
    assert result["lag"] == 2 and round(result["optimal_loss_finite_n"], 6) == 0.557430


def test_summary_seq_len_alone_is_lag_one(run_json):
    result = run_json("markov", "summary", "--p", "0.2", "--q", "0.3", "--seq-len", "7")
    assert result["lag"] == 1
    assert result["optimal_loss_finite_n"] == pytest.approx(result["entropy_rate"], abs=1e-15)


def test_summary_random_chain_keys(run_json):
    result = run_json("markov", "summary", "--chain", "random", "--order", "1")
    assert {"order", "expected_entropy_rate"} <= set(result)
    assert round(result["expected_entropy_rate"], 6) == 0.480889


def test_reduce_keys_and_reference_values(run_json):
    result = run_json("markov", "reduce", "--p", "0.5", "--q", "0.8", "--e", "1", "--w", "0.5",
                      "--b", "0")
    assert {"full_loss", "canonical_loss", "abs_diff", "normal_fraction_image",
            "normal_fraction_invariant"} <= set(result)
    assert result["abs_diff"] <= 1e-12
    assert round(result["normal_fraction_image"], 3) == 0.827
    assert result["normal_fraction_invariant"] <= 1e-15


@pytest.mark.parametrize("argv, name", [
    (("summary", "--p", "0.2", "--q", "0.3", "--order", "2"), "--order"),
    (("summary", "--chain", "random", "--p", "0.2"), "--p"),
    (("summary", "--chain", "random", "--lag", "2"), "--lag"),
    (("summary", "--p", "0.2", "--q", "0.3", "--lag", "2"), "--seq-len"),
    (("summary", "--p", "0.5", "--states", "3", "--lag", "2", "--seq-len", "4"), "--lag"),
    (("summary", "--p", "0.2", "--q", "0.3", "--lag", "0", "--seq-len", "4"), "--lag"),
    (("summary", "--chain", "random", "--order", "3"), "--order"),
    (("summary", "--q", "0.3"), "--p"),
    (("reduce", "--p", "0.5", "--q", "0.8", "--e", "1", "--w", "0.5", "--b", "0",
      "--seq-len", "11"), "--seq-len"),
    (("reduce", "--p", "0.5", "--q", "0.8", "--e", "nan", "--w", "0.5", "--b", "0"), "--e"),
    (("reduce", "--p", "0.5", "--q", "0.8", "--e", "1", "--w", "0.5", "--b", "0", "--d", "0"),
     "--d"),
])
def test_errors(capsys, argv, name):
    assert name in _error(capsys, "markov", *argv)

"""``ttc markov hessian`` and the depth options of ``ttc markov train`` (Part 2 Sec. 5): the
``--json`` keys, agreement with the library, bad input refused with one ``error:`` line."""

import pytest

from validation.markov.depth import unigram_hessian
from validation.markov.training import train_transformer

HESSIAN_KEYS = {"schur_eigenvalues", "min_eigenvalue", "classification", "grad_norm", "loss"}
TRAIN_KEYS = {"final_loss", "entropy_rate", "unigram_entropy", "converged_to",
              "predicted_p_given_0", "predicted_p_given_1", "layers", "memory", "lag",
              "per_seed", "share", "seconds", "prev_token_score", "induction_score",
              "rank_one_energy"}


def test_hessian_keys_and_values(run_json):
    out = run_json("markov", "hessian", "--p", "0.5", "--q", "0.8", "--layers", "2")
    assert HESSIAN_KEYS <= set(out) and set(out) - HESSIAN_KEYS <= {"parameters"}
    direct = unigram_hessian(0.5, 0.8, layers=2)
    assert out["schur_eigenvalues"] == pytest.approx(direct.schur_eigenvalues, abs=1e-15)
    assert out["classification"] == "local_min" and out["grad_norm"] <= 1e-12
    untied = run_json("markov", "hessian", "--p", "0.5", "--q", "0.8", "--layers", "1",
                      "--no-tying", "--sigma", "0.3", "--seq-len", "4")
    assert untied["classification"] == "saddle" and len(untied["schur_eigenvalues"]) == 8


def test_train_default_is_the_single_layer_run(run_json):
    out = run_json("markov", "train", "--p", "0.5", "--q", "0.8", "--model", "transformer",
                   "--steps", "20", "--seq-len", "8", "--seed", "3")
    assert TRAIN_KEYS <= set(out)
    run = train_transformer(0.5, 0.8, tying=True, init="standard", steps=20, seed=3, seq_len=8)
    assert out["final_loss"] == run.final_loss and out["converged_to"] == run.converged_to
    assert out["layers"] == 1 and out["memory"] is None and out["lag"] == 1
    assert [row["seed"] for row in out["per_seed"]] == [3]


def test_train_depth_options(run_json):
    out = run_json("markov", "train", "--p", "0.2", "--q", "0.3", "--model", "transformer",
                   "--no-tying", "--layers", "2", "--memory", "2", "--lag", "2", "--seeds", "3",
                   "--steps", "10", "--seq-len", "10", "--d", "4", "--schedule", "warmup_cosine")
    assert out["layers"] == 2 and out["memory"] == 2 and out["lag"] == 2
    assert [row["seed"] for row in out["per_seed"]] == [0, 1, 2]
    assert sum(out["share"].values()) == pytest.approx(1.0)
    assert len(out["prev_token_score"]) == len(out["induction_score"]) == 2
    assert set(out["rank_one_energy"]) == {"W_V", "W_1"}


@pytest.mark.parametrize("argv,flag", [
    (["train", "--model", "transformer", "--layers", "0"], "--layers"),
    (["train", "--model", "transformer", "--memory", "0"], "--memory"),
    (["train", "--model", "transformer", "--seq-len", "8", "--memory", "8"], "--memory"),
    (["train", "--model", "transformer", "--seq-len", "8", "--lag", "9"], "--lag"),
    (["train", "--model", "transformer", "--seq-len", "8", "--lag", "6", "--memory", "2",
      "--layers", "2"], "--memory"),
    (["train", "--model", "transformer", "--layers", "2", "--init", "lowrank"], "--init"),
    (["train", "--layers", "2"], "--layers"),
    (["hessian", "--seq-len", "11"], "--seq-len"),
    (["hessian", "--layers", "0"], "--layers"),
    (["hessian", "--d", "1000"], "--d"),
])
def test_bad_depth_input(run_capped, tmp_path, argv, flag):
    code, out, err, seconds = run_capped("markov", *argv[:1], "--p", ".5", "--q", ".8",
                                         *argv[1:], cwd=tmp_path)
    lines = err.strip().splitlines()
    assert code == 2 and out == "" and len(lines) == 1 and lines[0].startswith("error:")
    assert flag in lines[0]

"""Validation tests for the LSA paper: torch LSA (dense/sparse, both signs, any depth) against the
numerics, the `ttc lsa` JSON contract and its errors."""


import numpy as np
import pytest
import torch

from numerics.lsa import optimum
from validation.cli import main
from validation.lsa.models import LSA, LayerMatrices, as_tensor, enlarged_parameter, multilayer_identity_error
from validation.testing import assert_converged_to

KEYS = {
    "optimum": {"X", "loss", "loss_exact", "realizable", "best_lsa_loss", "gap", "ordering"},
    "correlated": {"X", "loss", "loss_exact"},
    "recover": {"realizable", "b", "A", "residual"},
    "gaussian": {"Gamma", "loss"},
    "train": {"final_loss", "predicted_loss", "best_lsa_loss"},
}




@pytest.mark.parametrize("sign", [1, -1])
def test_dense_and_sparse_forms_agree_and_match_phi(sign):
    rng = np.random.default_rng(0)
    Z = optimum.sample_markov_prompts(2, 0.5, 5, 50, rng).Z
    dense = LSA(2, 1, "dense", sign, init_scale=1.0, seed=1)
    sparse = LSA(2, 1, "sparse", sign)
    with torch.no_grad():
        sparse.b[0].copy_(dense.P[0][2])
        sparse.A[0].copy_(dense.Q[0][:, :2])
        out_d, out_s = dense(as_tensor(Z)).numpy(), sparse(as_tensor(Z)).numpy()
    assert np.allclose(out_d, out_s, atol=1e-13)
    # reference: the enlarged-space identity evaluated in numpy
    assert np.allclose(out_d, optimum.features(Z) @ enlarged_parameter(dense), atol=1e-13)


def test_multilayer_forward_against_explicit_loop():
    # reference: explicit per-column numpy loop of Z <- Z + (1/n) P Z M Z^T Q Z
    rng = np.random.default_rng(2)
    d, n, L = 2, 4, 3
    model = LSA(d, L, "dense", 1, init_scale=0.5, seed=3)
    Z = rng.standard_normal((d + 1, n + 1))
    Zr = Z.copy()
    for l in range(L):
        mats = model.matrices(l)
        assert isinstance(mats, LayerMatrices)
        P, Q = mats.P.detach().numpy(), mats.Q.detach().numpy()
        G = sum(np.outer(Zr[:, i], Zr[:, i]) for i in range(n))
        Zr = Zr + P @ G @ Q @ Zr / n
    with torch.no_grad():
        out = model(as_tensor(Z)[None]).item()
    assert abs(out - Zr[d, n]) < 1e-12


def test_sparse_layer_matrices_have_b_and_A_only():
    # by hand: P = [0; b^T], Q = [A, 0]
    model = LSA(2, 1, "sparse", init_scale=1.0, seed=4)
    mats = model.matrices(0)
    with torch.no_grad():
        assert torch.equal(mats.P[:2], torch.zeros(2, 3)) and torch.equal(mats.P[2], model.b[0])
        assert torch.equal(mats.Q[:, :2], model.A[0]) and torch.equal(mats.Q[:, 2], torch.zeros(3))


def test_as_tensor_is_float64_and_contiguous():
    t = as_tensor(np.arange(6, dtype=np.int32).reshape(2, 3).T)
    assert t.dtype == torch.float64 and t.is_contiguous() and t.tolist() == [[0, 3], [1, 4], [2, 5]]


def test_multilayer_identity_library_sign_and_paper_sign():
    assert multilayer_identity_error(2, 6, 3, 5, seed=0) < 1e-12
    assert multilayer_identity_error(2, 6, 2, 3, seed=0, convention="paper") > 1e-3


def test_cli_optimum_exact_anchor(run_json):
    r = run_json("lsa", "optimum", "--d", "1", "--p", "1/2", "--n", "10", "--exact")
    assert set(r) == KEYS["optimum"] | {"parameters"}
    assert r["loss_exact"] == "121/342" and r["realizable"] and abs(r["gap"]) < 1e-12
    assert r["ordering"] == [[1, 1, 1], [1, 1, 2], [1, 2, 2]]


def test_cli_optimum_not_realizable(run_json):
    r = run_json("lsa", "optimum", "--d", "1", "--p", "0.5", "--n", "3")
    assert not r["realizable"] and r["gap"] > 1e-3 and r["loss_exact"] is None


def test_cli_other_commands(run_json):
    r = run_json("lsa", "correlated", "--p", "1/3", "--n", "6", "--c1", "8/9",
                 "--c2", "160/81", "--exact")
    assert set(r) == KEYS["correlated"] | {"parameters"} and r["loss_exact"] == "342751/836412"
    r = run_json("lsa", "recover", "--d", "1", "--x", "1,5,2")
    assert set(r) == KEYS["recover"] | {"parameters"} and r["realizable"] and r["residual"] < 1e-12
    assert not run_json("lsa", "recover", "--d", "1", "--x", "1,1,1")["realizable"]
    r = run_json("lsa", "gaussian", "--sigma", "1,1", "--n", "5")
    # isotropic closed form: Gamma* = n/(n+d+1) I, L* = d(d+1)/(n+d+1) = 6/8
    assert set(r) == KEYS["gaussian"] | {"parameters"} and abs(r["Gamma"][0][0] - 5 / 8) < 1e-14
    assert abs(r["loss"] - 0.75) < 1e-14


def test_cli_train_keys(run_json):
    r = run_json("lsa", "train", "--d", "1", "--p", "1/2", "--n", "10", "--layers", "1",
                 "--steps", "40", "--seed", "0")
    assert set(r) == KEYS["train"] | {"parameters"} and r["final_loss"] >= r["predicted_loss"] - 1e-12


@pytest.mark.parametrize("argv, fragment", [
    (["optimum", "--d", "1", "--p", "3/2", "--n", "3"], "--p"),
    (["optimum", "--d", "0", "--p", "1/2", "--n", "3"], "--d"),
    (["optimum", "--d", "1", "--p", "1/2", "--n", "0"], "--n"),
    (["optimum", "--d", "6", "--p", "1/2", "--n", "3", "--exact"], "numeric path"),
    (["recover", "--d", "1", "--x", "1,2"], "X="),
    (["gaussian", "--sigma", "1,0", "--n", "3"], "--sigma"),
])
def test_cli_errors(capsys, argv, fragment):
    assert main(["lsa", *argv, "--json"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("error:") and fragment in err and len(err.strip().splitlines()) == 1


@pytest.mark.slow
def test_training_reaches_fstar_and_gamma_star():
    from validation.lsa.training import train_gaussian, train_markov

    # realisable case p = 1/2, n = 10: f~* = 121/342 (reference value, Thm 3.3)
    r = train_markov(1, 0.5, 10, steps=800, seed=0, batch=256)
    assert r.realizable and r.final_loss >= 121 / 342
    assert_converged_to({"final_loss": r.final_loss}, {"final_loss": 121 / 342}, tol=1e-3)
    # Gamma* = n/(n+d+1) I for Sigma = I (Ahn et al.)
    g = train_gaussian(np.eye(2), 10, steps=500, seed=0, form="dense")
    assert g.relative_error < 0.03


def test_training_results_short_runs():
    from validation.lsa.experiments import DepthResult, depth_experiment
    from validation.lsa.training import GaussianTraining, MarkovTraining, train_gaussian, train_markov

    # reference values: f~*(1/2, 10) = 121/342 (Thm 3.3); Gamma* = n/(n+d+1) I = 10/13 I and
    # L* = d(d+1)/(n+d+1) = 6/13 for Sigma = I (Ahn et al. 2023, Thm 1)
    r = train_markov(1, 0.5, 10, steps=20, seed=0, batch=32)
    assert isinstance(r, MarkovTraining) and r.realizable and r.final_loss_se == 0.0
    assert abs(r.predicted_loss - 121 / 342) < 1e-14 and abs(r.best_lsa_loss - 121 / 342) < 1e-12
    assert r.final_loss >= r.predicted_loss - 1e-12 and r.b.shape == (2,)
    g = train_gaussian(np.eye(2), 10, steps=8, seed=0)
    assert isinstance(g, GaussianTraining)
    assert np.allclose(g.Gamma_star, np.eye(2) * 10 / 13, atol=1e-15) and abs(g.optimal_loss - 6 / 13) < 1e-14
    assert abs(g.relative_error - np.linalg.norm(g.Gamma - g.Gamma_star) / np.linalg.norm(g.Gamma_star)) < 1e-15
    threads = torch.get_num_threads()
    depth = depth_experiment(2, steps=4, seed=0, batch=8, eval_size=400)
    assert torch.get_num_threads() == threads  # the training's thread limit is restored
    assert isinstance(depth, DepthResult) and depth.layers == [1, 2] and len(depth.mse) == 2
    for acc, se in zip(depth.accuracy, depth.accuracy_se):
        assert 0 <= acc <= 1 and abs(se - np.sqrt(acc * (1 - acc) / 400)) < 1e-15

"""The `ttc potts` command-line contract (keys of every `--json` output) and the error convention."""

import json

import numpy as np
import pytest

from numerics.potts import population
from validation.cli import main

KEYS = {
    "exact": {"Z", "log_Z", "conditional_entropy", "mean_conditional_entropy", "marginals"},
    "represent": {"best_loss", "optimum", "gap"},
    "sample": {"samples", "sweeps", "acceptance", "seconds"},
    "fit": {"loss", "coupling_error", "contact_map_file"},
    "replica_logistic": {"alpha", "m", "q", "V", "eps_J", "test_ce", "bayes_floor",
                         "scenario_origin"},
    "replica_ridge": {"alpha", "m", "q", "V", "eps_J", "test_mse", "bayes_floor", "scenario_origin"},
}




def run_error(capsys, *argv):
    code = main(list(argv) + ["--json"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1
    return err


@pytest.fixture()
def files(tmp_path):
    paths = {}
    for name, model in (("anchor", population.ising_anchor()), ("small", population.default_model(5, 3, seed=1))):
        paths[name] = tmp_path / f"{name}.json"
        paths[name].write_text(json.dumps(model.to_dict()))
    return paths


def test_exact_anchor(run_json, files):
    r = run_json("potts", "exact", "--model", str(files["anchor"]))
    assert set(r) == KEYS["exact"] | {"parameters"}
    assert r["Z"] == pytest.approx(13.059374985, abs=1e-9)  # the anchor's reference value
    assert np.array(r["marginals"]).shape == (3, 2) and len(r["conditional_entropy"]) == 3


def test_represent_softmax_has_a_gap(run_json, files):
    r = run_json("potts", "represent", "--model", str(files["anchor"]), "--attention", "free",
                 "--restarts", "1")
    assert set(r) == KEYS["represent"] | {"parameters"} and abs(r["gap"]) < 1e-9


def test_sample_then_fit(run_json, files, tmp_path):
    out = tmp_path / "s.npz"
    r = run_json("potts", "sample", "--model", str(files["small"]), "--samples", "500",
                 "--sampler", "metropolis", "--seed", "3", "--out", str(out), "--burn-in", "20")
    assert set(r) == KEYS["sample"] | {"parameters"} and r["samples"] == 500 and 0 < r["acceptance"] < 1
    with np.load(out) as data:
        assert data["samples"].shape == (500, 5) and int(data["C"]) == 3
    r = run_json("potts", "fit", "--samples", str(out), "--method", "factored",
                 "--true", str(files["small"]))
    assert set(r) == KEYS["fit"] | {"parameters"} and 0 < r["coupling_error"] < 1
    with np.load(r["contact_map_file"]) as data:
        assert data["contact_map"].shape == (5, 5)
    r = run_json("potts", "fit", "--samples", str(out), "--method", "plm")
    assert set(r) == KEYS["fit"] | {"parameters"} and r["coupling_error"] is None


def test_replica_keys(run_json):
    r = run_json("potts", "replica", "--scenario", "ridge", "--alpha", "0.5,2", "--lam", "0.1",
                 "--delta", "0.25")
    assert set(r) == KEYS["replica_ridge"] | {"parameters"} and r["bayes_floor"] == 0.25 and len(r["m"]) == 2
    r = run_json("potts", "replica", "--scenario", "logistic", "--alpha", "2", "--lam", "0.1",
                 "--quadrature", "31")
    assert set(r) == KEYS["replica_logistic"] | {"parameters"}
    assert r["bayes_floor"] == pytest.approx(0.59944, abs=5e-6)  # reference value at rho = 1


@pytest.mark.parametrize("content, field", [
    ({"J": [[0, 1], [0.5, 0]], "U": [[1, 0], [0, 1]]}, "J="),
    ({"J": [[1, 1], [1, 0]], "U": [[1, 0], [0, 1]]}, "J="),
    ({"J": [[0, 1], [1, 0]], "U": [[1, 2], [0, 1]]}, "U="),
    ({"J": [[0, 1], [1, 0]], "U": [[1]]}, "C="),
    ({"J": [[0, 1], [1, 0]], "U": [[1, 0], [0, 1]], "beta": -0.5}, "beta="),
    ({"J": [[0, 1], [1, 0]], "U": [[1, 0], [0, 1]], "h": [[0, 0]]}, "h="),
    ({"J": [[0, 1, 2], [1, 0]], "U": [[1, 0], [0, 1]]}, "J="),
])
def test_bad_model_files(capsys, tmp_path, content, field):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(content))
    assert field in run_error(capsys, "potts", "exact", "--model", str(path))


def test_non_finite_model_and_too_large(capsys, tmp_path):
    path = tmp_path / "nan.json"
    path.write_text('{"J": [[0, NaN], [NaN, 0]], "U": [[1, 0], [0, 1]]}')
    assert "J=" in run_error(capsys, "potts", "exact", "--model", str(path))
    big = tmp_path / "big.json"
    big.write_text(json.dumps(population.default_model(7, 8).to_dict()))
    assert "states=" in run_error(capsys, "potts", "exact", "--model", str(big))


def test_bad_alpha_and_lambda(capsys):
    assert "--alpha" in run_error(capsys, "potts", "replica", "--scenario", "ridge", "--alpha", "-1",
                                  "--lam", "0.1")
    assert "--alpha" in run_error(capsys, "potts", "replica", "--scenario", "logistic", "--alpha",
                                  "0", "--lam", "0.1")
    assert "--lam" in run_error(capsys, "potts", "replica", "--scenario", "ridge", "--alpha", "1",
                                "--lam", "-0.1")

"""ttc lsa pareto / dirichlet / reduction (lsa.md Part 2 §G) and the torch parts of §A, §E."""

import numpy as np
import pytest

from numerics.lsa import pareto


def test_pareto_keys(run_json):
    out = run_json("lsa", "pareto", "--d", "3", "--n", "30", "--layers", "3", "--prompts", "3")
    assert set(out) == {"gd", "r1", "r2", "rho", "parameters"}
    assert len(out["gd"]) == 4 and np.array(out["r1"]).shape == (4, 4)
    assert np.array(out["r2"]).shape == (4, 4) and 0 < out["rho"] < 1
    assert out["gd"][3] < out["gd"][0]


def test_dirichlet_keys_and_spec_value(run_json):
    out = run_json("lsa", "dirichlet", "--states", "3", "--alpha", "1", "--d", "1", "--n", "10",
                   "--exact")
    assert set(out) == {"X", "loss", "loss_exact", "realizable", "best_lsa_loss", "parameters"}
    assert out["loss_exact"] == "10836163/10177110"          # lsa.md Part 2 §E
    assert out["realizable"] is False and out["best_lsa_loss"] > out["loss"]
    out = run_json("lsa", "dirichlet", "--states", "3", "--alpha", "1/2")
    assert out["realizable"] is True and out["loss_exact"] is None
    assert out["best_lsa_loss"] == pytest.approx(1.038348, abs=5e-7)


def test_reduction_keys(run_json):
    out = run_json("lsa", "reduction", "--sets", "1,2;2,3;1,3")
    assert set(out) == {"d", "covers", "groebner_infeasible", "best_local_residual", "parameters"}
    assert out["d"] == 3 and out["covers"] == [] and out["groebner_infeasible"] is True
    assert out["best_local_residual"] == pytest.approx(0.337, abs=1e-3)   # lsa.md Part 2 §F


@pytest.mark.parametrize("argv", [
    ("dirichlet", "--states", "1"), ("dirichlet", "--states", "3", "--alpha", "-1"),
    ("dirichlet", "--states", "4", "--d", "3"), ("reduction", "--sets", ""),
    ("reduction", "--sets", "1,,2"), ("reduction", "--sets", "1;2;3;4;5;6;7;8;9"),
    ("reduction", "--sets", ";".join(["1"] * 20000)), ("pareto", "--d", "17")])
def test_bad_input_exits_2_with_one_error_line(run_capped, argv):
    code, out, err, seconds = run_capped("lsa", *argv, seconds=20)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:")


def test_trained_pareto_reads_weights_through_the_identity():
    from validation.lsa.pareto import train_pareto

    r = train_pareto(d=3, n=30, layers=2, steps=5, seed=0, test_prompts=4)
    assert r.query_error < 1e-12                  # query entry = -<w_l, x_{n+1}> (lsa.md §4)
    assert r.view.gd.shape == (3,) and np.isfinite(r.final_loss)
    assert np.allclose(r.view.weights[:, 0], 0)   # w_0 = 0


def test_pareto_plot(tmp_path):
    from validation.lsa.plots import pareto_per_layer

    view = pareto.gd_stack(2, 20, 3, prompts=2, seed=1)
    out = pareto_per_layer(view.gd, view.r1, reference_gd=view.gd)
    assert set(out.lines) == {"GD", "GD stack", "R1_1", "R1_2", "R1_3"}
    out.save(tmp_path / "p.png")


@pytest.mark.slow
def test_trained_kstate_reaches_the_best_loss():
    from validation.lsa.kstate import train_kstate

    r = train_kstate(3, 1, 30, 1, steps=600, seed=0)
    assert r.realizable and abs(r.final_loss / r.predicted_loss - 1) <= 0.01

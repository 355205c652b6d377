"""ttc potts finite-size, replica --stability and replica --scenario softmax (spec Secs. 10-13):
keys, the spec's reference values through the command line, bad input, and the Sec. 10 figure."""

import json

import numpy as np
import pytest

FSS_KEYS = {"N", "mean", "se", "eps_inf", "eps_inf_se", "slope", "chi2", "theory", "z"}


def test_finite_size_keys_and_numbers(run_json):
    r = run_json("potts", "finite-size", "--scenario", "ridge", "--alpha", "2", "--lam", "0.3",
                 "--N", "50,100,200", "--seeds", "8")
    assert FSS_KEYS <= set(r) and r["scenario_origin"] == "library extension"
    assert r["N"] == [50, 100, 200] and r["seeds"] == [8, 4, 2]
    # theory: the R2 closed form, e/rho at alpha = 2, lam = 0.3 (Sec. 5)
    from numerics.potts import replica

    assert r["theory"] == pytest.approx(float(replica.r2_curve([2.0], 0.3).eps_J[0]), rel=1e-12)
    assert r["z"] == pytest.approx((r["eps_inf"] - r["theory"]) / r["eps_inf_se"], rel=1e-12)
    assert r["parameters"]["delta"] == 0.5


def test_replica_stability_reproduces_spec_values(run_json):
    # spec Sec. 11, rho = 1: lam = 0.1 at alpha = 2, 8: Lambda .25084, .11736; V Vhat .673, .929
    r = run_json("potts", "replica", "--scenario", "logistic", "--alpha", "2,8", "--lam", "0.1",
                 "--stability")
    assert np.allclose(r["at_lambda"], [0.25084, 0.11736], atol=1e-4)
    assert np.allclose(r["at_bound"], [0.673, 0.929], atol=6e-4)
    assert r["alpha_separable"] == pytest.approx(2.2782, abs=1e-4)
    r = run_json("potts", "replica", "--scenario", "ridge", "--alpha", "1,4", "--lam", "0.1",
                 "--stability")
    assert r["alpha_separable"] is None and r["scenario_origin"] == "library extension"
    V = np.array(r["V"])
    assert np.allclose(r["at_lambda"], np.array(r["alpha"]) * V**2 / (1 + V) ** 2)


def test_replica_softmax_c2_file_is_r1(run_json, tmp_path):
    # spec Sec. 12: the C = 2 Ising colour matrix gives R1 at (4 rho, lam/4), m and q times 4
    path = tmp_path / "ising.json"
    path.write_text(json.dumps([[1, -1], [-1, 1]]))
    s = run_json("potts", "replica", "--scenario", "softmax", "--U", str(path), "--alpha", "2",
                 "--lam", "0.4")
    r = run_json("potts", "replica", "--scenario", "logistic", "--alpha", "2", "--lam", "0.1",
                 "--rho", "4")
    assert s["parameters"]["C"] == 2 and s["scenario_origin"] == "library extension"
    assert 4 * s["m"][0] == pytest.approx(r["m"][0], abs=1e-6)
    assert s["eps_J"][0] == pytest.approx(r["eps_J"][0], abs=1e-6)
    assert s["test_ce"][0] == pytest.approx(r["test_ce"][0], abs=1e-6)


@pytest.mark.parametrize("argv, word", [
    (["replica", "--scenario", "softmax", "--alpha", "2", "--lam", "0.1", "--C", "1"], "--C"),
    (["replica", "--scenario", "softmax", "--alpha", "2", "--lam", "0", "--C", "3"], "--lam"),
    (["replica", "--scenario", "softmax", "--alpha", "-1", "--lam", "0.1"], "--alpha"),
    (["replica", "--scenario", "logistic", "--alpha", "2", "--lam", "0.1", "--C", "3"], "--C"),
    (["finite-size", "--scenario", "ridge", "--alpha", "2", "--lam", "0.1", "--N", "0,10,20"], "--N"),
    (["finite-size", "--scenario", "ridge", "--alpha", "2", "--lam", "0.1", "--seeds", "0"], "--seeds"),
    (["finite-size", "--scenario", "ridge", "--alpha", "2", "--lam", "0.1", "--N", "10,20"], "N"),
    (["finite-size", "--scenario", "ridge", "--alpha", "2", "--lam", "-0.1"], "--lam"),
])
def test_bad_input_is_one_error_line(capsys, argv, word):
    from validation.cli import main

    assert main(["potts", *argv]) == 2
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert out == "" and len(lines) == 1 and lines[0].startswith("error:") and word in lines[0]


def test_colour_matrix_rows_must_sum_to_a_constant(capsys, tmp_path):
    from validation.cli import main

    path = tmp_path / "U.json"
    path.write_text(json.dumps({"U": [[1, 0, 0], [0, 2, 0], [0, 0, 1]]}))
    for cmd in (["replica", "--alpha", "2"], ["finite-size", "--alpha", "2"]):
        assert main(["potts", cmd[0], "--scenario", "softmax", *cmd[1:], "--lam", "0.1",
                     "--U", str(path)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "rows sum to one constant" in err[0] and "--U" in err[0]


def test_plot_finite_size():
    import matplotlib

    matplotlib.use("Agg")
    from numerics.potts.finite_size import Extrapolation, FiniteSizeCheck
    from validation.potts.plots import plot_finite_size

    fit = Extrapolation(1.0, 0.02, 3.0, 1.0, 0.5, 1, 0.48)
    check = FiniteSizeCheck("logistic", "library extension", "eps_J", [100, 200, 400], [4, 2, 2],
                            [1.03, 1.015, 1.008], [0.02, 0.02, 0.02], fit, 1.01, -0.5, True)
    out = plot_finite_size(check)
    assert set(out.lines) == {"simulation", "fit", "extrapolation", "theory"}
    assert "library extension" in out.axes.get_title() and "Rende" not in out.axes.get_title()
    x, y = out.lines["fit"][0].get_data()
    assert x[0] == 0 and y[0] == pytest.approx(1.0)

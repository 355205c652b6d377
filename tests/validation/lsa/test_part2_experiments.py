"""Part 2 §B-§C experiments (validation.lsa.experiments) and their commands (ttc lsa depth,
ttc lsa dimension)."""

import numpy as np
import pytest
import torch

from theory.errors import InputError


def test_one_layer_output_is_the_model():
    from numerics.lsa.optimum import sample_markov_prompts
    from validation.lsa.experiments import _gram_query, one_layer_output
    from validation.lsa.models import LSA, as_tensor

    # the precomputed-G form b^T G A x (lsa.md §2) against the model's own forward pass
    pr = sample_markov_prompts(3, 0.5, 7, 20, 0)
    for sign in (1, -1):
        model = LSA(3, 1, "sparse", sign, init_scale=0.7, seed=2)
        with torch.no_grad():
            direct = model(as_tensor(pr.Z)).numpy()
            fast = one_layer_output(model, _gram_query(pr.Z), as_tensor(pr.Z[:, :3, 7])).numpy()
        assert np.abs(direct - fast).max() <= 1e-13 * max(1.0, np.abs(direct).max())


def test_dimension_experiment_small():
    from validation.lsa.experiments import DIMENSION_KEYS, dimension_experiment

    r = dimension_experiment([1, 2], seed=3, seeds=2, n=10, batch=60, steps=5, eval_size=300)
    for k in DIMENSION_KEYS:
        values, sd = getattr(r, k), getattr(r, f"{k}_sd")
        assert len(values) == 2 and len(sd) == 2 and all(0 <= v <= 1 for v in values)
        assert r.per_seed[k].shape == (2, 2)
        assert np.allclose(values, r.per_seed[k].mean(0))
    inside = dimension_experiment([1, 2], seed=3, seeds=2, n=10, batch=60, steps=5,
                                  eval_size=300, held_out=False)
    # the in-sample numbers do not depend on whether held-out prompts are drawn afterwards
    assert inside.acc_lsa_in == r.acc_lsa_in and inside.acc_ls_in == r.acc_ls_in
    assert inside.acc_ls_out is None and inside.acc_pop is None and inside.acc_pop_sd is None
    one = dimension_experiment([1], seed=0, n=10, batch=40, steps=3, eval_size=100)
    assert one.acc_ls_in_sd is None and one.seeds == 1
    with pytest.raises(InputError, match="d"):
        dimension_experiment([11])
    with pytest.raises(InputError, match="ds"):
        dimension_experiment([2, 2])


def test_depth_experiment_alpha_and_depths():
    from validation.lsa.experiments import depth_experiment

    r = depth_experiment(3, steps=3, seed=0, batch=8, eval_size=200, alpha=0.0, depths=[1, 3])
    assert r.layers == [1, 3] and len(r.accuracy) == 2
    for bad in ([0], [4], [1, 1], []):
        with pytest.raises(InputError, match="depths"):
            depth_experiment(3, steps=1, batch=4, eval_size=10, alpha=1.0, depths=bad)
    with pytest.raises(InputError, match="alpha"):
        depth_experiment(1, steps=1, alpha=-1.0)


def test_commands_keys(run_json):
    out = run_json("lsa", "depth", "--states", "2", "--alpha", "0", "--layers", "2", "--steps",
                   "2", "--eval-size", "200", "--ceiling-size", "200")
    assert set(out) == {"accuracy", "accuracy_se", "oracle_accuracy", "bayes_accuracy",
                        "parameters"}
    assert len(out["accuracy"]) == 2 and out["oracle_accuracy"] == 1.0
    out = run_json("lsa", "dimension", "--d", "1", "--steps", "2", "--eval-size", "100")
    keys = ("acc_ls_in", "acc_ls_out", "acc_lsa_in", "acc_lsa_out", "acc_pop")
    assert set(out) == set(keys) | {f"{k}_sd" for k in keys} | {"parameters"}
    assert all(out[f"{k}_sd"] is None for k in keys)       # one seed: no spread


@pytest.mark.parametrize("argv", [("depth", "--states", "1"), ("depth", "--alpha", "-0.1"),
                                  ("depth", "--states", "1000"), ("dimension", "--d", "11")])
def test_commands_refuse(run_capped, argv):
    code, out, err, seconds = run_capped("lsa", *argv, seconds=20)
    assert code == 2 and len(err.strip().splitlines()) == 1 and err.startswith("error:")


def test_part2_plots():
    import matplotlib.pyplot as plt

    from validation.lsa.plots import (accuracy_against_context, accuracy_against_depth,
                                      accuracy_against_dimension)

    out = accuracy_against_depth([1, 3], [0.4, 0.41], [0.005, 0.005], paper=([1, 3], [0.55, 0.98]),
                                 ceilings={"oracle": 0.62, "Bayes": 0.60})
    assert {"this library", "paper", "oracle", "Bayes"} <= set(out.lines)
    assert out.lines["oracle"].get_ydata()[0] == 0.62
    plt.close(out.figure)
    out = accuracy_against_dimension([1, 4], {"acc_ls_in": [0.6, 0.7], "acc_lsa_out": [0.6, 0.65],
                                              "acc_pop": None})
    assert set(out.lines) == {"acc_ls_in", "acc_lsa_out"}
    plt.close(out.figure)
    out = accuracy_against_context([1, 10], ["3-NN", "Bayes"], [[0.6, 0.7], [0.7, 0.75]],
                                   [[0.01, 0.01], [0.01, 0.01]])
    assert set(out.lines) == {"3-NN", "Bayes"}
    plt.close(out.figure)
    with pytest.raises(InputError, match="accuracy"):
        accuracy_against_context([1, 10], ["3-NN"], [[0.6, 0.7, 0.8]], [[0.1, 0.1, 0.1]])
    with pytest.raises(InputError, match="acc_ls_in"):
        accuracy_against_dimension([1, 4], {"acc_ls_in": [0.6]})

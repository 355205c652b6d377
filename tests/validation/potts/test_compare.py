"""Spec Sec. 9 (factored against standard attention, decided): the reference values by the library's
exact conditionals (no training), the encoders' masked-site fast path, early stopping, the rule's
checks on constructed numbers, the figure and `ttc potts compare`."""

import math

import numpy as np
import pytest
import torch

from numerics.potts import inverse, population, sampling
from validation.potts import experiments, models, plots, training
from validation.potts.claims import compare


def _data(L, C, beta, n, seed):
    model = population.default_model(L, C, beta, seed=0)
    return model, sampling.sample(model, n, chains=min(n, 5000), burn_in=300, thin=10, seed=seed).samples


def _floor_and_marginal(model, S):
    """S (all sites of every sequence) and H_marg with standard errors: S from per-sequence means
    (independent chains); H_marg's SE bounded by the mean of the per-site plug-in SEs (sites
    correlated at most fully)."""
    logp = population.log_softmax(population.potts_logits(model, S))
    rows, sites = np.arange(len(S))[:, None], np.arange(model.L)[None, :]
    per_seq = -logp[rows, sites, S].mean(axis=1)
    freq = sampling.empirical_marginals(S, model.C)
    surprise = -np.log(freq[np.arange(model.L)[None, :], S])  # (n, L): -log p_i(s_i)
    se_H = float(np.mean(surprise.std(axis=0, ddof=1)) / math.sqrt(len(S)))
    return (per_seq.mean(), per_seq.std(ddof=1) / math.sqrt(len(S)),
            experiments.marginal_entropy(S, model.C), se_H)


@pytest.mark.parametrize("beta, S_ref, H_ref", [(1.0, 1.519, 1.603), (2.0, 1.310, 1.585), (3.0, 1.040, 1.531)])
def test_floor_and_marginal_entropy_match_the_spec(beta, S_ref, H_ref):
    # spec Sec. 9 reference [derived; library numerics, seed 0, 4-5e3 sequences], L = 10, C = 5;
    # the spec's numbers carry the same sampling noise as ours: 3 SE of the difference of two
    # independent estimates of one size (sqrt 2 SE)
    model, S = _data(10, 5, beta, 4000, seed=11)
    floor, se_S, H, se_H = _floor_and_marginal(model, S)
    assert abs(floor - S_ref) <= 3 * math.sqrt(2) * se_S + 5e-4  # + rounding of the spec's 3 decimals
    assert abs(H - H_ref) <= 3 * math.sqrt(2) * se_H + 5e-4
    assert floor < H  # information gain G > 0


@pytest.mark.slow
def test_floor_and_marginal_entropy_of_the_full_model():
    # spec Sec. 9: L = 20, C = 10, beta = 1: (S, H_marg) = (1.983, 2.276)
    model, S = _data(20, 10, 1.0, 4000, seed=12)
    floor, se_S, H, se_H = _floor_and_marginal(model, S)
    assert abs(floor - 1.983) <= 3 * math.sqrt(2) * se_S + 5e-4
    assert abs(H - 2.276) <= 3 * math.sqrt(2) * se_H + 5e-4


@pytest.mark.parametrize("beta, sizes, refs", [(3.0, (100, 1000), (0.121, 0.0073)),
                                               (1.0, (300, 3000), (0.031, 0.0027))])
def test_factored_excess_matches_the_spec(beta, sizes, refs):
    # spec Sec. 9 reference: factored excess (L-BFGS, lam 1e-4) at L = 10, C = 5, by the true
    # model's exact conditionals on 4000 test sequences (independent of torch training). A fit on M
    # sequences has a chi-square-like excess with ~p = L(L-1) + C^2 + LC = 165 parameters, relative
    # spread ~ sqrt(2/p) ~ 0.11 between training sets: allowance 3 x 0.11 of the value, plus 3 test SE.
    model, train = _data(10, 5, beta, max(sizes), seed=21)
    test = sampling.sample(model, 4000, chains=4000, burn_in=300, thin=10, seed=22).samples
    sites = np.random.default_rng(23).integers(0, 10, len(test))
    true = experiments.true_pair_losses(model, test, sites)
    for M, ref in zip(sizes, refs):
        fit = inverse.fit_factored(train[:M], 5, lam=1e-4, seed=0)
        diff = experiments.factored_pair_losses(fit, test, sites) - true
        se = diff.std(ddof=1) / math.sqrt(len(diff))
        assert abs(diff.mean() - ref) <= 0.33 * ref + 3 * se, (M, diff.mean(), ref, se)


@pytest.mark.parametrize("norm_first", [False, True])
def test_site_logits_equal_the_full_forward_pass(norm_first):
    # the masked-site fast path (last layer at one position) against the full forward pass
    enc = models.StandardEncoder(7, 4, layers=3, d_model=12, nhead=3, d_ff=20, seed=3, norm_first=norm_first)
    g = torch.Generator().manual_seed(0)
    S = torch.randint(0, 5, (40, 7), generator=g)
    sites = torch.randint(0, 7, (40,), generator=g)
    with torch.no_grad():
        full = enc(S)[torch.arange(40), sites]
        fast = enc.site_logits(S, sites)
    assert torch.max(torch.abs(full - fast)) < 1e-12


def test_encoder_is_seeded_and_float32_on_request():
    a = models.StandardEncoder(5, 3, seed=4, dtype=torch.float32)
    b = models.StandardEncoder(5, 3, seed=4, dtype=torch.float32)
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    assert a.out.weight.dtype == torch.float32
    with pytest.raises(Exception, match="nhead"):
        models.StandardEncoder(5, 3, d_model=10, nhead=4)


def test_early_stopping_keeps_the_best_checkpoint():
    # 40 sequences: a 2-layer encoder overfits, the validation loss turns up and training stops;
    # the returned model is the best checkpoint (its validation loss is the recorded best)
    model, S = _data(6, 3, 2.0, 40, seed=5)
    enc = models.StandardEncoder(6, 3, layers=2, d_model=16, nhead=2, seed=0, dtype=torch.float32)
    run = training.train_encoder(enc, S, steps=3000, eval_every=20, patience=4, lr=1e-2, seed=1)
    assert run.stopped_early and run.steps_used < 3000
    assert run.best_val_loss == min(run.val_curve) or run.best_step == 0
    assert len(run.val_curve) >= 4 and all(v > run.best_val_loss for v in run.val_curve[-4:])
    # the guard's value is the lowest training loss seen, at most the kept model's (overfitting:
    # the training loss keeps falling after the validation optimum)
    assert run.lowest_train_loss <= run.train_loss and run.lowest_train_loss < run.best_val_loss
    again = models.StandardEncoder(6, 3, layers=2, d_model=16, nhead=2, seed=0, dtype=torch.float32)
    assert training.train_encoder(again, S, steps=3000, eval_every=20, patience=4, lr=1e-2,
                                  seed=1).to_dict()["val_curve"] == run.val_curve  # seeded


def _losses(n, rng, mean):
    return mean + 0.1 * rng.standard_normal(n)


def test_rule_checks_on_constructed_losses():
    # (a) z of the paired difference > 3 at every trained (k, M); (b) D_fact(M) <= D_1(10 M);
    # (c) D_3 below D_1 at M_max by > 3 SE. Numbers constructed so each check's outcome is known.
    rng = np.random.default_rng(0)
    n, sizes = 2000, [100, 1000]
    fact = {100: _losses(n, rng, 0.05), 1000: _losses(n, rng, 0.01)}
    pairs = {("factored", 100): fact[100], ("factored", 1000): fact[1000],
             ("standard_1", 100): fact[100] + 0.2 + 0.01 * rng.standard_normal(n),
             ("standard_1", 1000): fact[1000] + 0.03 + 0.01 * rng.standard_normal(n)}
    base = pairs["standard_1", 1000]
    pairs["standard_3", 1000] = base - 0.02 + 0.01 * rng.standard_normal(n)
    excess = {k: [None, None] for k in ("factored", "standard_1", "standard_3")}
    for (key, M), v in pairs.items():
        excess[key][sizes.index(M)] = float(v.mean())
    checks, details = experiments._decide(sizes, [1, 3], pairs, excess, True)
    assert checks == {"factored_best": True, "efficiency_10x": False, "depth": True}
    # D_fact(100) ~ 0.05 > D_1(1000) ~ 0.04: (b) fails
    assert details["efficiency_10x"]["factored at M = 100 vs standard_1 at M = 1000"][0] > 0.04
    pairs["standard_3", 1000] = base + 0.001 * rng.standard_normal(n)  # no depth gain
    pairs["standard_1", 100] = fact[100] + 0.0005 + 0.01 * rng.standard_normal(n)  # z ~ 2
    checks, details = experiments._decide(sizes, [1, 3], pairs, excess, True)
    assert checks["factored_best"] is False and checks["depth"] is False
    assert 0 < details["factored_best_z"]["standard_1 at M = 100"] < 3


def _comparison(excess, se, undertrained=()):
    return experiments.Comparison(
        M=[300, 3000], floor=1.0, marginal_entropy=1.5, info_gain=0.5, excess=excess, excess_se=se,
        train_loss={}, steps_used={}, checks={"factored_best": True, "efficiency_10x": True, "depth": True},
        details={"undertrained_threshold": 1.45, "factored_best_z": {"x": 5.0}},
        undertrained=list(undertrained), seconds={})


def test_undertrained_guard_fails_the_claim():
    ex = {"factored": [0.03, 0.002], "standard_1": [0.1, 0.08]}
    se = {"factored": [0.004, 0.001], "standard_1": [0.01, 0.007]}
    assert compare.verdict(_comparison(ex, se), True) == (True, "")
    holds, why = compare.verdict(_comparison(ex, se, ["standard_1 at M = 3000"]), True)
    assert not holds and why.startswith("undertrained: standard_1 at M = 3000")


def test_plot_excess_draws_trained_points_with_error_bars():
    ex = {"factored": [0.03, 0.002], "standard_1": [0.1, 0.08], "standard_3": [None, 0.07]}
    se = {"factored": [0.004, 0.001], "standard_1": [0.01, 0.007], "standard_3": [None, 0.006]}
    out = plots.plot_excess(_comparison(ex, se))
    assert set(out.lines) == {"factored", "standard_1", "standard_3"}
    assert out.axes.get_xscale() == "log" and out.axes.get_yscale() == "log"
    x, y = out.lines["standard_3"][0].lines[0].get_data()
    assert len(x) == 1 and abs(x[0] / 3000 - 1) < 0.1 and list(y) == [0.07]  # dodged a few per cent
    with pytest.raises(Exception, match="excess"):
        plots.plot_excess(_comparison({"factored": [0.1]}, {"factored": [0.1]}))


def test_compare_command_keys_and_errors(run_json, capsys):
    from validation.cli import main

    out = run_json("potts", "compare", "--L", "4", "--C", "2", "--beta", "1", "--M", "20,200",
                   "--layers", "1,2", "--test", "200", "--steps", "60", "--d-model", "8", "--heads", "2")
    assert {"M", "floor", "info_gain", "excess", "excess_se", "steps_used", "checks"} <= set(out)
    assert set(out["excess"]) == {"factored", "standard_1", "standard_2"}
    assert out["excess"]["standard_2"][0] is None and out["excess"]["standard_2"][1] is not None
    assert set(out["checks"]) == {"factored_best", "efficiency_10x", "depth"}
    assert out["checks"]["depth"] is None  # no 3-layer encoder
    for argv in (["--C", "1"], ["--M", "5"], ["--M", "0"], ["--seed", "-1"], ["--layers", "4"],
                 ["--d-model", "30", "--heads", "4"], ["--M", "1000000", "--L", "64"]):
        code = main(["potts", "compare", *argv, "--json"])
        _, err = capsys.readouterr()
        assert code == 2 and err.startswith("error: ") and len(err.strip().splitlines()) == 1, argv

"""Tests of validation.markov.models: the P1 single-layer transformer, its exact population
loss, gradients, Hessians, special points and the training entry point."""

import math

import numpy as np
import pytest
import torch

from theory.errors import InputError, TooLargeError
from validation.markov.training import classify_loss, train_members, train_transformer
from validation.markov.models import (
    MarkovTransformer, build_model, exact_loss, exact_loss_gradient_hessian, flatten,
    global_minimum_parameters, initial_parameters, parameter_names, parameter_shapes, unigram_point)
from validation.testing import assert_converged_to


def _h(t: float) -> float:
    """Binary entropy in nats, written out (independent of numerics.markov.canonical)."""
    return -t * math.log(t) - (1 - t) * math.log(1 - t)


def _rates(p: float, q: float) -> tuple[float, float]:
    """(H(P), H(pi)) from the closed forms pi = (q, p)/(p+q)."""
    pi1 = p / (p + q)
    return (1 - pi1) * _h(p) + pi1 * _h(q), _h(pi1)


@pytest.mark.parametrize("tied", [True, False])
def test_shapes(tied):
    d, n = 3, 5
    model = build_model(d, n, tied=tied, seeds=[0, 1])
    shapes = parameter_shapes(d, n, tied, members=2)
    assert {k: tuple(v.shape) for k, v in model.params().items()} == shapes
    assert ("a" in shapes) is (not tied)
    assert shapes["W_1"] == (2, 4 * d, d) and shapes["W_2"] == (2, d, 4 * d)
    assert model(torch.zeros(7, n)).shape == (2, 7, n)
    assert model(torch.zeros(2, 7, n)).shape == (2, 7, n)
    assert all(v.dtype == torch.float64 for v in model.parameters())


def test_tied_uses_one_parameter_for_embedding_and_readout():
    model = build_model(2, 3, tied=True, seeds=[0])
    assert parameter_names(True) == tuple(n for n in parameter_names(False) if n != "a")
    x = torch.tensor([[1.0, 0.0, 1.0]])
    before = model(x)
    with torch.no_grad():
        model.weights["e"].mul_(2.0)
    assert not torch.allclose(before, model(x))


@pytest.mark.parametrize("init", ["standard", "good", "lowrank"])
def test_initialisation_is_reproducible(init):
    a = initial_parameters(4, 6, True, init, seed=5)
    b = initial_parameters(4, 6, True, init, seed=5)
    c = initial_parameters(4, 6, True, init, seed=6)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert any(not np.array_equal(a[k], c[k]) for k in a)


def test_initialisation_structure():
    std = initial_parameters(4, 6, False, "standard", seed=1)
    assert float(std["b"]) == 0.0 and 0.01 < np.std(std["W_Q"]) < 0.04
    good = initial_parameters(4, 6, True, "good", seed=1)
    np.testing.assert_array_equal(good["W_2"], -2.0 * good["W_1"].T)
    low = initial_parameters(4, 6, True, "lowrank", seed=1)
    assert np.linalg.matrix_rank(low["W_1"]) == 1 and not np.any(low["W_V"])
    alpha = np.sign(low["e"])
    assert set(np.abs(alpha)) == {1.0}
    np.testing.assert_allclose(low["pos"], np.tile(-0.5 * low["e"], (6, 1)), atol=0)
    np.testing.assert_allclose(low["W_2"], low["W_1"].T, atol=0)  # W_1 = w a^T, W_2 = a w^T


@pytest.mark.parametrize("tied", [True, False])
@pytest.mark.parametrize("p, q", [(0.5, 0.8), (0.2, 0.3)])
def test_unigram_point_loss_is_unigram_entropy(tied, p, q):
    model = build_model(4, 5, tied=tied, seeds=[2])
    params = unigram_point(model.params(), p, q, tied)
    # reference: h(pi_1) with pi_1 = p/(p+q) (closed form, P1 Sec. 2)
    assert_converged_to({"loss": exact_loss(params, p, q, tied)}, {"loss": _rates(p, q)[1]}, tol=1e-13)


def test_exact_loss_matches_bigram_formula_without_attention_and_mlp():
    # With W_V = 0 and W_2 = 0 the logit is |e|^2 x_n + <e, p_n> + b, a function of (n, x_n):
    # L = (1/N) sum_n sum_x pi_x [P(1|x) softplus(-l) + P(0|x) softplus(l)] (stationary marginals).
    p, q, d, n = 0.3, 0.45, 3, 6
    params = {k: v.detach() * 20 for k, v in build_model(d, n, tied=True, seeds=[4]).params().items()}
    params["W_V"] = torch.zeros_like(params["W_V"])
    params["W_2"] = torch.zeros_like(params["W_2"])
    params["b"] = torch.tensor([0.3], dtype=torch.float64)
    e, pos, b = params["e"][0].numpy(), params["pos"][0].numpy(), 0.3
    pi = [q / (p + q), p / (p + q)]
    p_one = [p, 1 - q]
    softplus = lambda t: math.log1p(math.exp(t))  # noqa: E731
    total = 0.0
    for k in range(n):
        for x in (0, 1):
            logit = x * float(e @ e) + float(e @ pos[k]) + b
            total += pi[x] * (p_one[x] * softplus(-logit) + (1 - p_one[x]) * softplus(logit))
    assert abs(exact_loss(params, p, q, True).item() - total / n) <= 1e-13


def _generic_model(tied: bool, seed: int = 3) -> MarkovTransformer:
    """d=2, N=3 model with weights N(0, 0.6^2): no ReLU sits at its kink."""
    params = {k: v.detach() * 30 for k, v in build_model(2, 3, tied=tied, seeds=[seed]).params().items()}
    params["b"] = torch.tensor([0.2], dtype=torch.float64)
    return MarkovTransformer(2, 3, tied, params)


@pytest.mark.parametrize("tied", [True, False])
def test_gradient_and_hessian_match_finite_differences(tied):
    p, q = 0.35, 0.7
    model = _generic_model(tied)
    derivatives = exact_loss_gradient_hessian(model, p, q)
    loss, grad, hess = derivatives.loss, derivatives.gradient, derivatives.hessian
    np.testing.assert_allclose(hess, hess.T, atol=1e-12)
    flat = flatten(model.params(), tied).detach()
    names = parameter_names(tied)

    def at(vector):
        params, start = {}, 0
        for name in names:
            size = model.params()[name].numel()
            params[name] = vector[start:start + size].reshape(model.params()[name].shape)
            start += size
        return exact_loss(params, p, q, tied).item()

    assert abs(loss - at(flat)) <= 1e-15
    rng = np.random.default_rng(0)
    directions = torch.tensor(rng.normal(size=(8, flat.numel())))
    directions /= directions.norm(dim=1, keepdim=True)
    # directional derivatives by central differences of the loss (error ~ h^2 + eps/h)
    h = 1e-5
    for v in directions[:4]:
        fd = (at(flat + h * v) - at(flat - h * v)) / (2 * h)
        assert abs(fd - grad @ v.numpy()) <= 1e-8
    # v^T H w by the four-point second difference of loss values (error ~ h^2 + eps/h^2)
    h = 1e-4
    for v, w in zip(directions[4:6], directions[6:8]):
        fd = (at(flat + h * v + h * w) - at(flat + h * v - h * w) - at(flat - h * v + h * w)
              + at(flat - h * v - h * w)) / (4 * h * h)
        assert abs(fd - v.numpy() @ hess @ w.numpy()) <= 1e-6
    # and a few single entries
    for i, j in rng.integers(0, flat.numel(), size=(4, 2)):
        ei, ej = torch.zeros_like(flat), torch.zeros_like(flat)
        ei[i], ej[j] = h, h
        fd = (at(flat + ei + ej) - at(flat + ei - ej) - at(flat - ei + ej) + at(flat - ei - ej)) / (4 * h * h)
        assert abs(fd - hess[i, j]) <= 1e-6, (i, j, fd, hess[i, j])


def test_hessian_with_respect_to_a_subset_is_the_principal_block():
    p, q = 0.35, 0.7
    model = _generic_model(True)
    full = exact_loss_gradient_hessian(model, p, q).hessian
    block = exact_loss_gradient_hessian(model, p, q, wrt=("e", "b")).hessian
    index = list(range(2)) + [full.shape[0] - 1]  # e first, b last in the flat order
    assert_converged_to(block, full[np.ix_(index, index)], tol=1e-14)


@pytest.mark.parametrize("p, q", [(0.5, 0.8), (0.2, 0.3), (0.6, 0.4)])
def test_global_minimum_construction(p, q):
    params = global_minimum_parameters(p, q, d=3, seq_len=5, seed=1)
    model = MarkovTransformer(3, 5, True, params)
    derivatives = exact_loss_gradient_hessian(model, p, q, hessian=False)
    loss, grad = derivatives.loss, derivatives.gradient
    assert derivatives.hessian is None
    logits = model(torch.tensor([[0.0, 1.0, 0.0, 1.0, 1.0]]))[0, 0]
    # loss = entropy rate (closed form), a stationary point, and the kernel's predictions
    assert_converged_to({"loss": loss, "gradient": grad, "P(1|x_n)": torch.sigmoid(logits)},
                        {"loss": _rates(p, q)[0], "gradient": 0.0, "P(1|x_n)": [p, 1 - q, p, 1 - q, 1 - q]},
                        tol=1e-12)
    if p + q > 1:  # the MLP must be anti-aligned: W_2 = -c W_1^T with c > 0
        w1, w2 = params["W_1"][0], params["W_2"][0]
        c = -float(w2[0, 0] / w1[0, 0])
        assert c > 0
        assert_converged_to({"W_2": w2}, {"W_2": -c * w1.T}, tol=1e-15)


def test_classify_loss():
    rate, unigram = _rates(0.5, 0.8)
    assert classify_loss(rate + 1e-3, 0.5, 0.8) == "global"
    assert classify_loss(unigram - 1e-3, 0.5, 0.8) == "local"
    assert classify_loss((rate + unigram) / 2, 0.5, 0.8) == "neither"


def test_train_transformer_keys_and_reproducibility():
    kwargs = dict(tying=True, init="standard", steps=6, seed=3, d=2, seq_len=6, batch=4)
    a = train_transformer(0.5, 0.8, **kwargs)
    b = train_transformer(0.5, 0.8, **kwargs)
    assert a.final_loss == b.final_loss and a.loss_curve.losses == b.loss_curve.losses
    assert a.loss_curve.steps == b.loss_curve.steps and a.seed == 3 and not a.extended
    assert "exact" in a.final_loss_method
    assert abs(a.entropy_rate - _rates(0.5, 0.8)[0]) <= 1e-12
    assert abs(a.unigram_entropy - _rates(0.5, 0.8)[1]) <= 1e-12
    assert a.converged_to == classify_loss(a.final_loss, 0.5, 0.8)
    assert 0 < a.predicted_p_given_0 < 1 and 0 < a.predicted_p_given_1 < 1


def test_members_train_independently():
    kwargs = dict(tying=False, init="good", steps=8, d=2, seq_len=6, batch=4, record_every=1)
    together = train_members(0.2, 0.3, seeds=[1, 2], **kwargs)
    alone = train_members(0.2, 0.3, seeds=[2], **kwargs)
    # the member trained beside another lands where it lands alone
    assert_converged_to({"final_loss": together[1].final_loss, "losses": together[1].loss_curve.losses},
                        {"final_loss": alone[0].final_loss, "losses": alone[0].loss_curve.losses}, tol=1e-12)
    assert [run.seed for run in together] == [1, 2]


@pytest.mark.parametrize("kwargs", [
    {"p": 1.5}, {"q": 0.0}, {"steps": -1}, {"d": 0}, {"seq_len": 0}, {"init": "bad"},
    {"lr": -1.0}, {"batch": 0}, {"seed": -3},
])
def test_train_transformer_bad_inputs(kwargs):
    args = dict(p=0.5, q=0.8, tying=True, init="standard", steps=1, seed=0, d=2, seq_len=4)
    args.update(kwargs)
    with pytest.raises(InputError):
        train_transformer(**args)


def test_exact_loss_refuses_long_context():
    model = build_model(2, 13, tied=True, seeds=[0])
    with pytest.raises(TooLargeError, match="seq_len"):
        exact_loss(model.params(), 0.5, 0.8, True)


def test_evaluate_matches_independent_bigram_formula():
    # W_V = 0, W_2 = 0: the logit is |e|^2 x_n + <e, p_n> + b, so the exact evaluation equals
    # the stationary-marginal sum of the bigram formula (loss) and pi-weighted sigmoids (predictions)
    from validation.markov.training import evaluate

    p, q, d, n = 0.3, 0.45, 2, 5
    params = {k: v.detach() * 20 for k, v in build_model(d, n, tied=True, seeds=[4]).params().items()}
    params["W_V"] = torch.zeros_like(params["W_V"])
    params["W_2"] = torch.zeros_like(params["W_2"])
    model = MarkovTransformer(d, n, True, params)
    result = evaluate(model, p, q, None)
    e, pos, b = params["e"][0].numpy(), params["pos"][0].numpy(), float(params["b"][0])
    sig = lambda t: 1 / (1 + math.exp(-t))  # noqa: E731
    logit = [[x * float(e @ e) + float(e @ pos[k]) + b for x in (0, 1)] for k in range(n)]
    assert result.p_given_0[0] == pytest.approx(np.mean([sig(row[0]) for row in logit]), abs=1e-14)
    assert result.p_given_1[0] == pytest.approx(np.mean([sig(row[1]) for row in logit]), abs=1e-14)
    assert result.loss[0] == pytest.approx(exact_loss(params, p, q, True).item(), abs=1e-14)
    assert "exact" in result.method


def test_member_generators_are_the_seed_sequence_spawn():
    from validation.markov.training import member_generators

    gens = member_generators(7)
    children = np.random.SeedSequence(7).spawn(3)
    for gen, child in zip((gens.init, gens.data, gens.held_out), children):
        assert gen.integers(1 << 30) == np.random.default_rng(child).integers(1 << 30)


def test_exact_loss_is_exact_for_large_logits():
    """e = 0, W_O = W_2 = 0 and bias b: every logit is b, so the loss is softplus(b) - pi1 b
    (x_{n+1} ~ pi). The reference is math.log1p (independent of torch); F.softplus's default
    threshold 20 would be off by exp(-22) = 2.8e-10 at b = 22."""
    from validation.markov.models import exact_loss, from_weights, softplus

    p, q, n = 0.5, 0.8, 4
    pi1 = p / (p + q)
    for b in (-30.0, 0.3, 22.0, 35.0, 45.0):
        weights = {name: torch.zeros(shape[1:], dtype=torch.float64)
                   for name, shape in parameter_shapes(4, n, True).items()}
        weights["b"] = torch.tensor(b, dtype=torch.float64)
        model = from_weights(weights, tied=True)
        reference = max(b, 0.0) + math.log1p(math.exp(-abs(b))) - pi1 * b
        assert float(exact_loss(model.params(), p, q, True)[0].detach()) == pytest.approx(
            reference, rel=1e-15, abs=1e-15)
        x = torch.tensor([b], dtype=torch.float64)
        assert float(softplus(x)[0]) == max(b, 0.0) + math.log1p(math.exp(-abs(b)))

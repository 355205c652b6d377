"""validation.potts.models: torch factored attention and encoders against numerics (closed forms,
exact enumeration), and small training runs that must reach known values."""

import numpy as np
import pytest
import torch

from numerics.potts import population
from numerics.potts import represent
from numerics.potts import sampling
from validation.potts import models
from validation.potts import training
from validation.potts import experiments
from validation.testing import assert_converged_to


@pytest.mark.parametrize("attention", represent.ATTENTIONS)
@pytest.mark.parametrize("heads, embed", [(1, None), (2, 2)])
def test_torch_loss_and_gradients_match_closed_forms(attention, heads, embed):
    model = population.default_model(4, 3, seed=2)
    law = population.boltzmann(model)
    S, P = law.configurations, law.probabilities
    tm = models.FactoredAttention(4, 3, attention, heads=heads, embed=embed, init_scale=0.5, seed=1)
    loss = models.mlm_loss_all_sites(tm, torch.as_tensor(S), torch.as_tensor(P))
    loss.backward()
    with torch.no_grad():
        A, V = tm.attention_matrix().numpy(), tm.value_matrix().numpy()
    Xt = np.ascontiguousarray(population.one_hot(S, 3).transpose(1, 0, 2))
    closed = represent.multihead_loss_and_gradient(Xt, P, list(A), list(V), tm.b.detach().numpy())
    assert isinstance(closed, represent.MultiheadLossGradient)
    assert len(closed.dA) == len(closed.dV) == heads
    assert float(loss.detach()) == pytest.approx(closed.loss, abs=1e-13)
    np.testing.assert_allclose(tm.b.grad.numpy(), closed.db, atol=1e-13)
    if attention == "free" and embed is None:
        np.testing.assert_allclose(tm.A_raw.grad.numpy(), np.array(closed.dA), atol=1e-13)
        np.testing.assert_allclose(tm.V_raw.grad.numpy(), np.array(closed.dV), atol=1e-13)


def test_attention_rows_are_normalised_and_diagonal_free():
    tm = models.FactoredAttention(5, 3, "softmax", heads=2, seed=0)
    A = tm.attention_matrix().detach().numpy()
    np.testing.assert_allclose(A.sum(-1), 1.0, atol=1e-14)
    assert np.all(np.diagonal(A, axis1=1, axis2=2) == 0)
    sink = models.FactoredAttention(5, 3, "sink", seed=0).attention_matrix().detach().numpy()
    assert np.all(sink.sum(-1) < 1) and np.all(np.diagonal(sink, axis1=1, axis2=2) == 0)


def test_factored_forward_never_reads_the_scored_site():
    tm = models.FactoredAttention(4, 3, "free", init_scale=1.0, seed=0)
    S = torch.tensor([[0, 1, 2, 1]])
    z = tm(S)
    S2 = S.clone()
    S2[0, 2] = 0
    assert torch.equal(tm(S2)[0, 2], z[0, 2])


def test_truth_parameters_give_the_conditional_entropy():
    model = population.default_model(4, 3, seed=5)
    law = population.boltzmann(model)
    tm = models.FactoredAttention(4, 3, "free")
    p = model.factored()
    with torch.no_grad():
        tm.A_raw[0] = torch.as_tensor(p.A)
        tm.V_raw[0] = torch.as_tensor(p.V)
        tm.b[:] = torch.as_tensor(p.b)
    loss = float(models.mlm_loss_all_sites(tm, torch.as_tensor(law.configurations),
                                           torch.as_tensor(law.probabilities)).detach())
    assert_converged_to({"loss": loss}, {"loss": population.exact_summary(model).mean_conditional_entropy}, tol=1e-13)


@pytest.mark.slow
def test_mlm_training_approaches_the_floor():
    # 4000 Gibbs samples of a 6-site, 3-colour model: a trained factored layer's test loss is within
    # 0.03 nats of the exact mean conditional entropy (independent: enumeration)
    model = population.default_model(6, 3, seed=0)
    S = sampling.sample(model, 4000, chains=4000, burn_in=50, thin=1, seed=1).samples
    tm = models.FactoredAttention(6, 3, "free", seed=0)
    training.train_mlm(tm, S, steps=400, batch=512, lr=3e-2, seed=0)
    law = population.boltzmann(model)
    pop = float(models.mlm_loss_all_sites(tm, torch.as_tensor(law.configurations),
                                          torch.as_tensor(law.probabilities)).detach())
    H = population.exact_summary(model).mean_conditional_entropy
    assert H <= pop
    assert_converged_to({"population loss": pop}, {"population loss": H}, tol=0.03)


def test_standard_encoder_masked_loss_runs_and_learns():
    model = population.default_model(5, 3, seed=0)
    S = sampling.sample(model, 1000, chains=1000, burn_in=30, thin=1, seed=2).samples
    enc = models.StandardEncoder(5, 3, layers=1, d_model=16, seed=0)
    before = models.encoder_test_loss(enc, torch.as_tensor(S[:200]))
    training.train_mlm(enc, S, steps=150, batch=128, lr=1e-2, seed=0)
    after = models.encoder_test_loss(enc, torch.as_tensor(S[:200]))
    assert after < before and after < np.log(3)


def test_ridge_attention_row_is_the_ridge_solution():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((50, 10)), rng.standard_normal(50)
    w = experiments.fit_attention_row(X, y, 0.3, loss="square")
    grad = -(X.T @ (y - X @ w / np.sqrt(10))) / np.sqrt(10) + 0.3 * w
    assert_converged_to({"gradient": grad}, {"gradient": 0.0}, tol=1e-10)


def test_logistic_attention_row_stationarity():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((80, 20))
    y = np.where(rng.random(80) < 0.5, 1.0, -1.0)
    w = experiments.fit_attention_row(X, y, 0.5)
    z = X @ w / np.sqrt(20)
    grad = -(X.T @ (y / (1 + np.exp(y * z)))) / np.sqrt(20) + 0.5 * w
    assert_converged_to({"gradient": grad}, {"gradient": 0.0}, tol=1e-6)


# ----------------------------------------------------------------------------------------------
# experiments' result types


def test_ising_site_model_teacher_is_the_conditional_logit_difference():
    N, beta = 6, 0.7
    site = experiments.ising_site_model(N, beta, seed=3)
    assert isinstance(site, experiments.IsingSiteModel)
    np.testing.assert_array_equal(site.model.U, [[1.0, -1.0], [-1.0, 1.0]])
    # independent route: logit(colour 0) - logit(colour 1) at site 0 = w* . sigma_{1:} / sqrt(N)
    S = np.random.default_rng(0).integers(0, 2, (5, N + 1))
    z = population.potts_logits(site.model, S)
    sigma = 1.0 - 2.0 * S[:, 1:]
    np.testing.assert_allclose(z[:, 0, 0] - z[:, 0, 1], sigma @ site.w_star / np.sqrt(N), atol=1e-12)


def test_coupling_decay_fields():
    model = population.default_model(4, 2, seed=1)
    out = experiments.coupling_decay(model, [400, 200], seed=0)
    assert isinstance(out, experiments.CouplingDecay)
    assert out.M == [200, 400] and len(out.fits) == 2
    for fit, err in zip(out.fits, out.error):
        assert err == population.factored_coupling_error(fit.A, fit.V, model.beta * model.J, model.U)
    # the slope by hand: two points
    assert out.slope == pytest.approx(np.log(out.error[1] / out.error[0]) / np.log(2), abs=1e-12)


def test_r2_correlated_simulation_fields():
    out = experiments.simulate_r2_correlated(30, 2.0, 0.05, range(2))
    assert isinstance(out, experiments.R2CorrelatedSimulation)
    assert out.measured.shape == out.predicted.shape == (2,)
    assert np.all(out.measured > 1 / 3.0) and np.all(out.predicted > 1 / 3.0)  # above the noise Delta = 1/nu


def test_plot_section4_takes_the_curves():
    curves = experiments.Section4Curves(M=[10, 100], floor=1.0, floor_all_sites=1.0, factored=[1.2, 1.05],
                                        standard={1: [1.5, 1.3], 3: [1.25]}, seconds=0.0)
    from validation.potts import plots

    out = plots.plot_section4(curves)
    labels = [line.get_label() for line in out.axes.get_lines()]
    assert "standard encoder, 1 layer" in labels and "standard encoder, 3 layers" in labels
    # the three-layer encoder has one value: drawn at the last M
    assert out.lines["standard, 3 layers"][0].get_xdata().tolist() == [100]
    import matplotlib.pyplot as plt

    plt.close(out.figure)

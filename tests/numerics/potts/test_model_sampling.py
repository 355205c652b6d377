"""numerics.potts.population and numerics.potts.sampling against brute force, sympy and the anchor's
reference value."""

import itertools
import json
import math

import numpy as np
import pytest
import sympy as sp

from numerics.potts import population
from numerics.potts import represent
from numerics.potts import sampling
from theory import potts
from theory.errors import InputError, TooLargeError


def brute_force(model):
    """Independent reference: Python loops over configurations, conditionals from joint weights."""
    L, C = model.L, model.C

    def energy(s):
        e = -sum(model.J[i, j] * model.U[s[i], s[j]] for i in range(L) for j in range(i + 1, L))
        return e - sum(model.h[i, s[i]] for i in range(L))

    states = list(itertools.product(range(C), repeat=L))
    w = {s: math.exp(-model.beta * energy(s)) for s in states}
    Z = sum(w.values())
    cond_H = np.zeros(L)
    marg = np.zeros((L, C))
    for s in states:
        for i in range(L):
            marg[i, s[i]] += w[s] / Z
            ws = [w[tuple(a if k == i else v for k, v in enumerate(s))] for a in range(C)]
            p = np.array(ws) / sum(ws)
            cond_H[i] += w[s] / Z * -np.sum(p * np.log(p))
    return Z, marg, cond_H


def small_model(seed=1, L=4, C=3, beta=0.8):
    rng = np.random.default_rng(seed)
    m = population.default_model(L, C, beta=beta, seed=seed)
    return population.make_model(m.J, m.U, 0.3 * rng.standard_normal((L, C)), beta)


def test_anchor_partition_function():
    # the anchor's reference value
    out = population.exact_summary(population.ising_anchor())
    assert out.Z == pytest.approx(13.059374985, abs=1e-9)


def test_exact_summary_against_brute_force():
    model = small_model()
    Z, marg, cond_H = brute_force(model)
    out = population.exact_summary(model)
    assert isinstance(out, population.ExactSummary) and out.pair_marginals is None
    assert out.Z == pytest.approx(Z, rel=1e-12)
    assert out.log_Z == pytest.approx(math.log(Z), abs=1e-12)
    np.testing.assert_allclose(out.marginals, marg, atol=1e-12)
    np.testing.assert_allclose(out.conditional_entropy, cond_H, atol=1e-12)
    assert out.mean_conditional_entropy == pytest.approx(cond_H.mean(), abs=1e-12)


def test_boltzmann_law_against_brute_force():
    model = small_model(L=3, C=2)
    Z, _, _ = brute_force(model)
    law = population.boltzmann(model)
    assert isinstance(law, population.BoltzmannLaw)
    assert law.configurations.shape == (8, 3)
    assert law.log_Z == pytest.approx(math.log(Z), abs=1e-12)
    for s, p in zip(law.configurations, law.probabilities):
        energy = -sum(model.J[i, j] * model.U[s[i], s[j]] for i in range(3) for j in range(i + 1, 3))
        energy -= sum(model.h[i, s[i]] for i in range(3))
        assert p == pytest.approx(math.exp(-model.beta * energy) / Z, abs=1e-14)


def test_factored_parameters_are_the_mapping():
    model = small_model()
    p = model.factored()
    assert isinstance(p, population.FactoredParameters)
    np.testing.assert_array_equal(p.A, model.beta * model.J)
    np.testing.assert_array_equal(p.V, model.U)
    np.testing.assert_array_equal(p.b, model.beta * model.h)


def test_pair_marginals_consistent_with_marginals():
    out = population.exact_summary(small_model(), pairs=True)
    pm = out.pair_marginals
    np.testing.assert_allclose(pm[0, 1].sum(1), out.marginals[0], atol=1e-12)
    np.testing.assert_allclose(pm[2, 2], np.diag(out.marginals[2]), atol=1e-12)


def test_energies_and_logits_match_sympy():
    model = small_model(L=3, C=3)
    J, U, h = (sp.Matrix(x.tolist()) for x in (model.J, model.U, model.h))
    S = np.array([[0, 1, 2], [2, 2, 1]])
    for s, e in zip(S, population.energies(model, S)):
        assert e == pytest.approx(float(potts.hamiltonian(tuple(s), J, U, h)), abs=1e-12)
    z = population.potts_logits(model, S)
    for n, s in enumerate(S):
        for i in range(3):
            ref = potts.potts_logits(i, tuple(s), J, U, h, model.beta)
            np.testing.assert_allclose(z[n, i], [float(v) for v in ref], atol=1e-12)


def test_population_loss_at_truth_is_conditional_entropy_and_gradient_vanishes():
    model = small_model()
    p = model.factored()
    g = population.population_mlm(model, p.A, p.V, p.b)
    assert isinstance(g, population.MLMLossGradient)
    assert g.loss == pytest.approx(population.exact_summary(model).mean_conditional_entropy, abs=1e-12)
    assert max(abs(g.dA).max(), abs(g.dV).max(), abs(g.db).max()) < 1e-12


def test_population_gradient_against_finite_differences():
    model = small_model()
    rng = np.random.default_rng(0)
    p = model.factored()
    A, V, b = (x + 0.2 * rng.standard_normal(x.shape) for x in (p.A, p.V, p.b))
    g = population.population_mlm(model, A, V, b)
    dA, dV, db = g.dA, g.dV, g.db
    eps = 1e-6
    for grad, which, idx in ((dA, 0, (1, 3)), (dV, 1, (2, 0)), (db, 2, (3, 1))):
        plus, minus = [A.copy(), V.copy(), b.copy()], [A.copy(), V.copy(), b.copy()]
        plus[which][idx] += eps
        minus[which][idx] -= eps
        fd = (population.population_mlm(model, *plus, False) - population.population_mlm(model, *minus, False)) / (2 * eps)
        assert grad[idx] == pytest.approx(fd, abs=1e-8)


def test_enumeration_refused_beyond_a_million_states():
    with pytest.raises(TooLargeError, match="states"):
        population.all_configurations(21, 2)
    assert population.check_enumerable(6, 10) == 10**6  # exactly at the limit: accepted
    with pytest.raises(TooLargeError):
        population.check_enumerable(20, 2)  # 2**20 = 1048576 > 10**6


@pytest.mark.parametrize("kwargs, field", [
    (dict(J=[[0, 1], [0.5, 0]], U=[[1, 0], [0, 1]]), "J"),
    (dict(J=[[1, 1], [1, 0]], U=[[1, 0], [0, 1]]), "J"),
    (dict(J=[[0, 1], [1, 0]], U=[[1, 2], [0, 1]]), "U"),
    (dict(J=[[0, 1], [1, 0]], U=[[1]]), "C"),
    (dict(J=[[0, 1], [1, 0]], U=[[1, 0], [0, 1]], beta=-1.0), "beta"),
    (dict(J=[[0, float("nan")], [float("nan"), 0]], U=[[1, 0], [0, 1]]), "J"),
    (dict(J=[[0, 1], [1, 0]], U=[[1, 0], [0, 1]], h=[[0, 0, 0], [0, 0, 0]]), "h"),
])
def test_bad_models_name_the_field(kwargs, field):
    with pytest.raises(InputError) as info:
        population.make_model(**kwargs)
    assert info.value.name == field


def test_model_file_round_trip_and_validation(tmp_path):
    model = small_model()
    path = tmp_path / "m.json"
    path.write_text(json.dumps(model.to_dict()))
    back = population.load_model(path)
    np.testing.assert_array_equal(back.J, model.J)
    path.write_text(json.dumps({"J": [[0, 1], [1, 0]], "U": [[1, 0], [0, 1]], "h": [[1, 2]], "beta": 1}))
    with pytest.raises(InputError) as info:
        population.load_model(path)
    assert info.value.name == "h"
    path.write_text('{"J": [[0, 1], [1, 0]], "U": [[1, 0], [0, Infinity]]}')
    with pytest.raises(InputError) as info:
        population.load_model(path)
    assert info.value.name == "U"


def test_default_model_shapes_and_reproducibility():
    a, b = population.default_model(seed=3), population.default_model(seed=3)
    assert a.J.shape == (20, 20) and a.U.shape == (10, 10)
    np.testing.assert_array_equal(a.J, b.J)
    assert np.allclose(a.J, a.J.T) and np.all(np.diag(a.J) == 0)


def test_factored_coupling_error_equals_full_tensor_computation():
    from numerics.potts.inverse import coupling_error

    rng = np.random.default_rng(2)
    A, At = rng.standard_normal((5, 5)), rng.standard_normal((5, 5))
    np.fill_diagonal(A, 0)
    np.fill_diagonal(At, 0)
    V, Vt = rng.standard_normal((3, 3)), rng.standard_normal((3, 3))
    full = coupling_error(np.einsum("ij,ab->iajb", A, V), np.einsum("ij,ab->iajb", At, Vt))
    assert population.factored_coupling_error(A, V, At, Vt) == pytest.approx(full, rel=1e-12)


# ----------------------------------------------------------------------------------------------
# samplers


@pytest.mark.parametrize("sampler, order", [("gibbs", "sequential"), ("gibbs", "random"),
                                            ("metropolis", "sequential"), ("metropolis", "random")])
def test_sampler_marginals_within_4_sigma(sampler, order):
    # one sample per independent chain, so the binomial noise model is exact
    model = small_model(L=4, C=3)
    exact = population.exact_summary(model, pairs=True)
    M = 20000
    out = sampling.sample(model, M, sampler=sampler, chains=M, burn_in=60, thin=1, order=order, seed=5)
    f1 = sampling.empirical_marginals(out.samples, 3)
    p1 = exact.marginals
    assert np.max(np.abs(f1 - p1) / np.sqrt(p1 * (1 - p1) / M)) < 4
    f2 = sampling.empirical_pair_marginals(out.samples, 3)
    p2 = exact.pair_marginals
    iu = np.triu_indices(4, 1)
    z = np.abs(f2[iu] - p2[iu]) / np.sqrt(p2[iu] * (1 - p2[iu]) / M)
    assert z.max() < 4
    if sampler == "metropolis":
        assert 0 < out.acceptance < 1


def test_sampler_detects_a_wrong_model():
    # negative control: samples from beta = 0.8 differ from the beta = 0 marginals by > 4 sigma
    model = population.ising_anchor()
    M = 20000
    out = sampling.sample(model, M, chains=M, burn_in=30, thin=1, seed=1)
    f2 = sampling.empirical_pair_marginals(out.samples, 2)[0, 1, 0, 0]
    assert abs(f2 - 0.25) / math.sqrt(0.25 * 0.75 / M) > 4


def test_sampler_is_reproducible_and_validates():
    model = small_model()
    out = sampling.sample(model, 100, chains=10, burn_in=5, thin=2, seed=7)
    assert isinstance(out, sampling.MCMCSamples)
    # 10 rounds of 10 chains, each 2 sweeps apart, after 5 sweeps of burn-in: 5 + 10 * 2 sweeps
    assert (out.sweeps, out.chains, out.acceptance, out.samples.shape) == (25, 10, 1.0, (100, 4))
    a = out.samples
    b = sampling.sample(model, 100, chains=10, burn_in=5, thin=2, seed=np.random.default_rng(7)).samples
    np.testing.assert_array_equal(a, b)
    with pytest.raises(InputError, match="sampler"):
        sampling.sample(model, 10, sampler="hmc")
    with pytest.raises(InputError, match="n_samples"):
        sampling.sample(model, 0)


# ----------------------------------------------------------------------------------------------
# representability


def test_represent_free_reaches_the_brute_force_optimum():
    model = population.ising_anchor()
    _, _, cond_H = brute_force(model)
    out = represent.represent(model, "free", restarts=1, seed=0)
    assert isinstance(out, represent.RepresentationGap)
    assert out.optimum == pytest.approx(cond_H.mean(), abs=1e-12)
    assert out.gap == out.best_loss - out.optimum and abs(out.gap) < 1e-9


def test_population_objective_at_the_truth():
    model = small_model(L=3, C=2)
    _, _, cond_H = brute_force(model)
    obj = represent.population_objective(model, "free")
    assert isinstance(obj, represent.PopulationObjective)
    assert obj.size == 3 * 3 + 2 * 2 + 3 * 2  # A (1 head), V, b
    p = model.factored()
    loss, grad = obj.function(np.concatenate([p.A.ravel(), p.V.ravel(), p.b.ravel()]))
    assert loss == pytest.approx(cond_H.mean(), abs=1e-12)
    assert np.abs(grad).max() < 1e-12

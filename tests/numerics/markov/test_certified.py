"""numerics.markov.certified: enclosures against the float formulas, the certified critical set,
refusals of false statements; the claims' paths are in tests/validation/test_certified_claims.py."""

import math

import numpy as np
import pytest

from numerics.markov import canonical
from theory.errors import InputError

pytest.importorskip("flint")
from flint import arb  # noqa: E402

from numerics.shared import certify  # noqa: E402
from numerics.markov import certified  # noqa: E402

POINTS = np.random.default_rng(7).uniform([-2, -2, -3], [2, 2, 3], size=(12, 3))


@pytest.mark.parametrize("p,q", [(0.2, 0.3), (0.5, 0.8)])
def test_enclosures_contain_the_float_gradient_and_hessian(p, q):
    chain = certified.Chain(p, q)
    for e, w, b in POINTS:
        branch = 1 if w >= 0 else -1
        balls = [arb(e, 1e-9), arb(w, 1e-9), arb(b, 1e-9)]
        g = certified.gradient(chain, *balls, branch)
        ref = canonical.canonical_gradient(p, q, e, w, b)
        for k in range(3):
            assert abs(float(g[k].mid()) - ref[k]) <= float(g[k].rad()) + 1e-12
        H = certified.hessian(chain, *balls, branch)
        Href = canonical.canonical_hessian(p, q, e, w, b)
        for i in range(3):
            for j in range(3):
                assert abs(float(H[i, j].mid()) - Href[i, j]) <= float(H[i, j].rad()) + 1e-12


def test_chain_constants_are_exact_decimals():
    chain = certified.Chain(0.2, 0.3)
    assert chain.fp.denominator == 5 and chain.fq.denominator == 10
    assert chain.b0.overlaps(arb(2).log() - arb(3).log())   # log(p/q) = log(2/3)
    assert chain.b0.contains(math.log(2 / 3)) or abs(float(chain.b0.mid()) - math.log(2 / 3)) < 1e-15
    with pytest.raises(InputError):
        certified.Chain(0.4, 0.6)                                 # p + q = 1
    with pytest.raises(InputError):
        certified.Chain(1.2, 0.3)


def test_critical_set_certified_p_plus_q_below_one():
    r = certified.certify_critical_set(0.2, 0.3, slab=0.1)
    assert r.certified and r.uncovered_count == 0 and not r.failed_tubes
    assert r.tubes > 10 and r.excluded_boxes > 100
    assert r.unigram_bias_inside and r.unigram_bias[0] <= math.log(2 / 3) <= r.unigram_bias[1]
    assert (r.p, r.q) == (0.2, 0.3) and r.box == {"e": [-2.5, 2.5], "w": [-2.5, 2.5], "b": [-4.0, 4.0]}
    # the curve enters the box at e = 2.5: e^2 (1 + 2w|w|) = C gives w = -sqrt((1 - C/6.25)/2)
    C = canonical.global_curve_constant(0.2, 0.3)
    w_entry = -math.sqrt((1 - C / 6.25) / 2)
    assert r.tube_w_range[0] <= w_entry and r.tube_w_range[1] == 2.5
    assert r.curve_hessian.tubes_positive_definite_normal == r.tubes
    assert r.curve_hessian.tubes_not_certified == []


@pytest.mark.slow
def test_critical_set_certified_p_plus_q_above_one():
    r = certified.certify_critical_set(0.5, 0.8, slab=0.1)
    assert r.certified and r.uncovered_count == 0


def test_tubes_contain_the_curve_and_a_wrong_box_is_refused():
    chain = certified.Chain(0.2, 0.3)
    tubes = [t for t in certified.certify_curve_tubes(chain, 2.5, 2.5, 0.25) if t.ok]
    assert tubes
    C = canonical.global_curve_constant(0.2, 0.3)
    for t in tubes:
        assert (t.branch == 1) == (t.w[0] >= 0)
        for w in np.linspace(t.w[0], t.w[1], 3):
            e = math.sqrt(C / (1 + 2 * w * abs(w)))
            b = math.log(0.2 / 0.8) + e * e / 2
            (e0, e1), (b0, b1) = t.image
            assert e0 <= e <= e1 and b0 <= b <= b1
    # a box around a non-critical point (the curve shifted by 0.3 in e) is not certified
    system = certified.tube_system(chain, 1)
    e = math.sqrt(C / (1 + 2 * 0.25))
    b = math.log(0.25) + e * e / 2
    W = [certify.interval(1 / 2 - 1e-3, 1 / 2 + 1e-3)]
    wrong = certify.krawczyk(system.f, system.jac, [(e + 0.25, e + 0.35), (b - 0.05, b + 0.05)], params=W)
    assert not wrong.unique


def test_exclusion_refuses_a_box_on_the_curve_and_excludes_one_off_it():
    chain = certified.Chain(0.5, 0.8)
    C = canonical.global_curve_constant(0.5, 0.8)
    w = -1.2
    e = math.sqrt(C / (1 + 2 * w * abs(w)))
    b = math.log(0.5 / 0.5) + e * e / 2
    F = certified.exclusion_function(chain, -1)
    on = certify.exclude_zeros(F, [(e - 0.01, e + 0.01), (w - 0.01, w + 0.01), (b - 0.01, b + 0.01)],
                          min_width=1e-3)
    assert not on.complete
    off = certify.exclude_zeros(F, [(e + 0.2, e + 0.3), (w - 0.01, w + 0.01), (b - 0.01, b + 0.01)],
                           min_width=1e-3)
    assert off.complete


@pytest.mark.parametrize("p,q", [(0.2, 0.3), (0.5, 0.8)])
def test_unigram_hessian_signs(p, q):
    r = certified.certify_unigram_hessian(p, q)
    assert r.certified
    sig = [(iv.positive, iv.negative, iv.exact_zero) for iv in r.intervals]
    assert all(iv.single_signature for iv in r.intervals)
    ws = -math.sqrt(0.5)  # the three intervals stop r.saddle_gap short of the saddle
    assert [iv.w for iv in r.intervals] == [[-2.5, ws - r.saddle_gap], [ws + r.saddle_gap, 0.0], [0.0, 2.5]]
    minimum, saddle = (2, 0, 1), (1, 1, 1)
    expected = [saddle, minimum, minimum] if p + q > 1 else [minimum, saddle, saddle]
    assert sig == expected
    # at the saddle itself the e-curvature vanishes: no sign can be certified there
    chain = certified.Chain(p, q)
    H = certified.hessian(chain, arb(0), certify.interval(-0.7072, -0.7070), chain.b0, -1)
    assert certify.eigen_signs(H).undetermined == 1


def test_loss_terms_enclose_the_float_terms():
    # independent float formulas: f0 = b - e^2/2, f1 = f0 + e^2 (1 + 2 w|w|), g_i, s_i = pi_i s'(f_i)
    p, q = 0.2, 0.3
    pi0, pi1 = q / (p + q), p / (p + q)
    sig = lambda x: 1 / (1 + math.exp(-x))  # noqa: E731
    chain = certified.Chain(p, q)
    for e, w, b in POINTS[:4]:
        t = certified.parts(chain, arb(e), arb(w), arb(b), 1 if w >= 0 else -1)
        f0, f1 = b - e * e / 2, b + e * e / 2 + 2 * e * e * w * abs(w)
        expected = {"f0": f0, "f1": f1, "g0": pi0 * (sig(f0) - p), "g1": pi1 * (sig(f1) - (1 - q)),
                    "s0": pi0 * sig(f0) * (1 - sig(f0)), "s1": pi1 * sig(f1) * (1 - sig(f1))}
        for name, value in expected.items():
            ball = getattr(t, name)
            assert abs(float(ball.mid()) - value) <= float(ball.rad()) + 1e-14, name

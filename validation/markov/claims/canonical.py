"""Claims about the chain (Makkuva et al., P1, Sec. 2) and the canonical model (P2, Sec. 3).

The critical set and the unigram Hessian (certified when python-flint is
installed) live in :mod:`validation.markov.claims.critical`, the full-transformer claims F1-F6 in
:mod:`validation.markov.claims.transformer`."""

from __future__ import annotations

import numpy as np
import sympy as sp

from numerics.markov import canonical
from numerics.shared.seeding import as_generator
from theory import markov
from validation.ledger.claims import CheckContext, claim, decide

P1 = "markov-p1"
P2 = "markov-p2"
#: The two chains of the papers' figures: one per regime.
CASES = ((0.2, 0.3), (0.5, 0.8))


def is_zero(expr) -> bool:
    """sympy proves ``expr == 0`` (by ``simplify``)."""
    return sp.simplify(expr) == 0


@claim("markov.levels", paper=P1, reference="Sec. 2 and Fig. 2",
       statement=r"The loss levels of P1's figures: \(H(P) = 0.6190\) and \(H(\pi) = 0.6663\) "
                 r"(predicted \(P(1 \mid 0) = \pi_1 = 0.385\)) for \(p = 0.5\), \(q = 0.8\); "
                 r"\(H(P) = 0.5446\) for \(p = 0.2\), \(q = 0.3\).")
def _levels(ctx: CheckContext):
    published = [0.6190, 0.6663, 0.385, 0.5446]
    exact = [markov.entropy_rate(sp.Rational(1, 2), sp.Rational(4, 5)),
             markov.unigram_entropy(sp.Rational(1, 2), sp.Rational(4, 5)),
             markov.stationary_law(sp.Rational(1, 2), sp.Rational(4, 5))[1],
             markov.entropy_rate(sp.Rational(1, 5), sp.Rational(3, 10))]
    measured = [float(sp.N(x, 30)) for x in exact]
    worst = max(abs(a - b) for a, b in zip(published, measured))
    return decide(worst <= 5e-4, published, measured, 5e-4,
                  "sympy values at exact rationals against the 3-4 digit numbers printed in P1 "
                  "(tolerance: half a unit of the last printed digit of 0.385).")


@claim("markov.information", paper=P1, reference="Sec. 2",
       statement=r"\(H(\pi) - H(P) = I(x_n; x_{n+1}) \geq 0\), with equality iff \(p + q = 1\).")
def _information(ctx: CheckContext):
    identity = is_zero(markov.mutual_information() - markov.mutual_information_as_kl())
    grid = np.linspace(0.02, 0.98, 49)
    P, Q = np.meshgrid(grid, grid)
    info = np.vectorize(lambda a, b: canonical.chain_summary(a, b).mutual_information)(P, Q)
    on_line = np.abs(P + Q - 1) < 1e-12
    zero_on_line = float(np.max(np.abs(info[on_line])))
    positive_off = float(np.min(info[~on_line]))
    holds = identity and zero_on_line < 1e-12 and positive_off > 0
    return decide(holds, "I = KL average >= 0; 0 iff p+q=1",
                  {"symbolic_identity": identity, "max_I_on_p+q=1": zero_on_line,
                   "min_I_off_line": positive_off}, 1e-12,
                  "Symbolic: H(pi)-H(P) simplifies to pi_0 KL(p||pi_1) + pi_1 KL(1-q||pi_1) "
                  "(each KL >= 0, zero iff p = 1-q = pi_1). Numeric: 49x49 grid in (p, q).")


@claim("markov.s_state", paper=P1, reference="spec Sec. 1 (S-state extension)",
       statement=r"Symmetric \(S\)-state chain: \(H(\pi) = \log S\), \(H(P) = h(p) + p "
                 r"\log(S-1)\), \(\lambda = 1 - pS/(S-1)\).")
def _s_state(ctx: CheckContext):
    results = {}
    for S in range(2, 6):
        formulas = markov.s_state_entropies(S)
        kernel = markov.s_state_kernel(S)
        pi = formulas.stationary
        eig = kernel.eigenvals()
        checks = [
            is_zero(markov.s_state_entropy_rate_from_kernel(S) - formulas.entropy_rate),
            all(is_zero(v) for v in (pi.T * kernel - pi.T)),
            any(is_zero(lam - formulas.second_eigenvalue) for lam in eig),
        ]
        results[S] = all(checks)
    return decide(all(results.values()), "all identities hold for S = 2..5", results, "exact",
                  "sympy: entropy rate from the kernel's -sum pi_i P_ij log P_ij, stationarity "
                  "pi P = pi, and the kernel's eigenvalues, against the closed forms.")


@claim("markov.gradient", paper=P2, reference="Sec. 3, gradient of L(e, w, b)",
       statement=r"\(\partial L/\partial e = -e g_0 + e(1 + 4w|w|) g_1\), \(\partial L/\partial w "
                 r"= 4e^2|w| g_1\), \(\partial L/\partial b = g_0 + g_1\); and \(L = H(P) + \pi_0 "
                 r"\mathrm{KL}(p \,\|\, \sigma(f_0)) + \pi_1 \mathrm{KL}(1-q \,\|\, "
                 r"\sigma(f_1))\).")
def _gradient(ctx: CheckContext):
    zero = all(is_zero(d) for branch in (1, -1)
               for d in markov.canonical_gradient(branch=branch) - markov.canonical_gradient_paper_form(branch=branch))
    # KL form against cross-entropy form at random points, 40-digit arithmetic
    rng = as_generator(ctx.seed)
    diff_kl = 0.0
    for p_, q_, e_, w_, b_ in rng.uniform([0.05, 0.05, -2, -2, -2], [0.95, 0.95, 2, 2, 2], (20, 5)):
        subs = {sym: sp.Rational(val) for sym, val in zip((markov.p, markov.q, markov.e, markov.w, markov.b), (p_, q_, e_, w_, b_))}
        diff_kl = max(diff_kl, abs(float(sp.N((markov.canonical_loss() - markov.canonical_loss_kl_form()).subs(subs), 40))))
    return decide(zero and diff_kl < 1e-30, "symbolic difference 0", {"gradient_difference_zero": zero,
                  "max |L_CE - L_KL| at 20 points (40 digits)": diff_kl}, 1e-30,
                  "sympy differentiates the loss on each branch of w|w| and subtracts the paper's form.")


@claim("markov.optimal_bias", paper=P2, reference="Sec. 3 (closed form derived here)",
       statement=r"The optimal bias solves \(\pi_0 \sigma(f_0) + \pi_1 \sigma(f_1) = \pi_1\) and "
                 r"has the closed form \(b^* = e^2/2 + \log\frac{p - q + \sqrt{(q-p)^2 + 4pq "
                 r"e^u}}{2q e^u}\); at \(e = 0\) it is \(\log(p/q)\).")
def _optimal_bias(ctx: CheckContext):
    from scipy.optimize import brentq

    symbolic = is_zero(markov.bias_condition(b=markov.optimal_bias(branch=1), branch=1))
    at_zero = is_zero(sp.expand_log(markov.optimal_bias().subs(markov.e, 0).subs(
        sp.sqrt(4 * markov.p * markov.q + (markov.q - markov.p) ** 2), markov.p + markov.q), force=True) - markov.unigram_bias())
    rng = as_generator(ctx.seed)
    worst = 0.0
    # |e|, |w| <= 1.5 keeps |f0|, |f1| moderate, where the root in b is well conditioned
    for p_, q_, e_, w_ in rng.uniform([0.05, 0.05, -1.5, -1.5], [0.95, 0.95, 1.5, 1.5], (200, 4)):
        root = brentq(lambda bb: float(canonical.canonical_gradient(p_, q_, e_, w_, bb)[2]), -60, 60,
                      xtol=1e-14)
        worst = max(worst, abs(root - float(canonical.optimal_bias(p_, q_, e_, w_))))
    return decide(symbolic and at_zero and worst < 1e-9, 0.0,
                  {"first_order_condition_symbolic": symbolic, "equals_log(p/q)_at_e=0": at_zero,
                   "max |b* - brentq root| over 200 points": worst}, 1e-9,
                  "The closed form is substituted into the first-order condition (sympy) and compared "
                  "with scipy's brentq root of dL/db at 200 random (p, q, e, w), |e|, |w| <= 1.5.")


@claim("markov.global_curve", paper=P2, reference="Sec. 3, global minima",
       statement=r"Global minima (loss \(H(P)\)) form the curve \(e^2(1 + 2w|w|) = "
                 r"\log\frac{(1-p)(1-q)}{pq}\), at \(w > -1/\sqrt{2}\) when \(p+q < 1\) and at \(w "
                 r"< -1/\sqrt{2}\) when \(p+q > 1\).")
def _global_curve(ctx: CheckContext):
    worst_loss, worst_grad, side_ok = 0.0, 0.0, True
    for p_, q_ in CASES:
        w = np.linspace(-2.5, 2.5, 2001)
        e = canonical.global_curve_points(p_, q_, w)
        ok = np.isfinite(e) & (e <= 3)  # the curve runs off to e = inf near w = -1/sqrt2
        w, e = w[ok], e[ok]
        b = np.log(p_ / (1 - p_)) + e * e / 2
        rate = canonical.chain_summary(p_, q_).entropy_rate
        worst_loss = max(worst_loss, float(np.max(np.abs(canonical.canonical_loss(p_, q_, e, w, b) - rate))))
        worst_grad = max(worst_grad, float(np.max(np.abs(canonical.canonical_gradient(p_, q_, e, w, b)))))
        side_ok &= bool(np.all(w > -canonical.SQRT_HALF) if p_ + q_ < 1 else np.all(w < -canonical.SQRT_HALF))
    sign = is_zero(sp.simplify(sp.exp(markov.global_curve_constant()) - 1 - (1 - markov.p - markov.q) / (markov.p * markov.q)))
    holds = worst_loss < 1e-12 and worst_grad < 1e-12 and side_ok and sign
    return decide(holds, {"loss": "H(P)", "gradient": 0}, {"max |L - H(P)|": worst_loss,
                  "max |grad L|": worst_grad, "w on the stated side": side_ok,
                  "exp(C) - 1 = (1-p-q)/(pq)": sign}, 1e-12,
                  "Points of the curve with e <= 3 among 2001 values of w, for p,q = (0.2,0.3) and (0.5,0.8); the sign of C follows "
                  "from exp(C) - 1 = (1-p-q)/(pq) (sympy).")


@claim("markov.energy", paper=P2, reference="Sec. 3, energy E(e, w)",
       statement=r"Along the gradient flow \(dE/dt = 2 e^2\, \partial L/\partial b\), so \(E = e^2 "
                 r"- w^2 - \mathrm{sign}(w) \log|w|\) is conserved (to \(10^{-8}\)) along the "
                 r"profiled flow; \(\mathrm{sign}(e)\) and \(\mathrm{sign}(w)\) never change.")
def _energy(ctx: CheckContext):
    symbolic = all(is_zero(identity.rate - identity.identity_rhs)
                   for identity in (markov.energy_rate_along_flow(branch=br) for br in (1, -1)))
    rng = as_generator(ctx.seed)
    drift, signs_kept = 0.0, True
    n = 24 if ctx.full else 8
    for p_, q_ in CASES:
        for e0, w0 in rng.uniform([-2, -2], [2, 1.5], (n, 2)):
            flow = canonical.profiled_flow(p_, q_, e0, w0)
            E = canonical.energy(flow.theta[:, 0], flow.theta[:, 1])
            drift = max(drift, float(np.max(np.abs(E - E[0]))))
            signs_kept &= bool(np.all(np.sign(flow.theta[:, 0]) == np.sign(e0)) and
                               np.all(np.sign(flow.theta[:, 1]) == np.sign(w0)))
    return decide(symbolic and drift <= 1e-8 and signs_kept, 0.0,
                  {"symbolic identity": symbolic, "max |E(t) - E(0)|": drift,
                   "signs kept": signs_kept}, 1e-8,
                  f"sympy: dE/dt - 2e^2 dL/db simplifies to 0 on both branches. Numeric: profiled "
                  f"flow (Dormand-Prince, rtol 1e-10) from {n} random starts per chain to |grad| <= 1e-9.")


#: Gradient descent for the basin claims: no step moves e or w by more than 5% of its value
#: (the band of disagreement near the separatrix shrinks with this fraction: ``|E - E*|`` up to 0.105
#: at 20%, 0.010 at 5% on the full grid), 16000 steps.
GD_FRACTION, GD_STEPS = 0.05, 16_000
#: "A thin band around the separatrix": ``|E - E*| <= 0.05``.
THIN_BAND = 0.05


def _flow_end(p_: float, q_: float, example: dict, profiled: bool) -> str:
    """Where the continuous flow from a disagreement's starting point ends (global / local)."""
    e0, w0 = example["e0"], example["w0"]
    if profiled:
        flow = canonical.profiled_flow(p_, q_, e0, w0)
        return canonical.end_state(p_, q_, float(canonical.profiled_loss(p_, q_, *flow.end)))
    flow = canonical.joint_flow(p_, q_, e0, w0, float(canonical.optimal_bias(p_, q_, e0, w0)))
    return canonical.end_state(p_, q_, float(canonical.canonical_loss(p_, q_, *flow.end)))


def _basin_agreement(p_: float, q_: float, n: int, profiled: bool) -> dict:
    """Descend from an n x n grid of (e0, w0) (b0 = b*(e0, w0)) and compare each end with the
    energy prediction; returns counts, the widest disagreement's energy gap and, as an example,
    that start with where the continuous flow from it ends."""
    e0, w0 = np.meshgrid(np.linspace(-1.9, 1.9, n), np.linspace(-1.95, 1.45, n))
    ends = canonical.gradient_descent_ends(p_, q_, e0, w0, profiled=profiled, fraction=GD_FRACTION,
                                   steps=GD_STEPS)
    reached = np.vectorize(lambda loss: canonical.end_state(p_, q_, loss))(ends.loss)
    predicted = np.vectorize(canonical.BASIN_NAMES.get)(canonical.basin_labels(p_, q_, e0, w0))
    gap = np.abs(canonical.energy(e0, w0) - canonical.SADDLE_ENERGY)
    wrong = predicted != reached
    result = {"points": int(wrong.size), "disagreements": int(wrong.sum()),
              "widest_disagreement_|E-E*|": float(gap[wrong].max()) if wrong.any() else 0.0}
    if wrong.any():
        i = np.unravel_index(np.argmax(np.where(wrong, gap, -1)), gap.shape)
        result["example"] = {"e0": float(e0[i]), "w0": float(w0[i]), "predicted": predicted[i],
                             "reached": reached[i]}
        # the continuous flow (profiled or joint, as the descent) from the widest disagreement
        result["example"]["continuous_flow_ends"] = _flow_end(p_, q_, result["example"], profiled)
    return result


@claim("markov.basins", paper=P2, reference="Sec. 3, basins; Figs. 2-3",
       statement=r"Gradient descent on the profiled loss (\(b\) at its optimum) from a grid of "
                 r"initialisations lands in the basin predicted by the energy and the separatrix.")
def _basins(ctx: CheckContext):
    import matplotlib.pyplot as plt

    from validation.markov.plots import plot_landscape
    from validation.shared.plots import save
    from validation.shared.style import style

    n = 60 if ctx.full else 24
    results = {f"p={p_},q={q_}": _basin_agreement(p_, q_, n, profiled=True) for p_, q_ in CASES}
    with style("paper", columns=2):
        fig, axs = plt.subplots(1, 2, figsize=(7.0, 3.6))
        for ax, (p_, q_) in zip(axs, CASES):
            plot_landscape(p_, q_, ax=ax, n=300, loc="outside below")
        save(fig, ctx.figure_path("markov_landscape.png"))
    holds = all(r["widest_disagreement_|E-E*|"] <= THIN_BAND for r in results.values())
    return decide(holds, {f"disagreements with |E-E*| > {THIN_BAND}": 0}, results, THIN_BAND,
                  f"Gradient descent with b reset to b*(e, w) at every step (no step moves e or w by "
                  f"more than 5%), {GD_STEPS} steps, from a {n}x{n} grid over e in [-1.9, 1.9], "
                  f"w in [-1.95, 1.45]; end losses classified as H(P) or H(pi). Disagreements are "
                  f"discretisation: the band shrinks with the step (|E-E*| up to 0.105 with 20% steps, "
                  f"0.010 with 5% on the 60x60 grid) and the continuous profiled flow from the widest "
                  f"one ends where the energy predicts.", figures=("markov_landscape.png",))


@claim("markov.basins_joint", paper=P2, reference="Sec. 3 (energy approximately conserved when b "
       "trains jointly)", expected="refuted",
       statement=r"Gradient descent on all three parameters (\(b\) trained jointly, started at "
                 r"\(b^*\)) lands in the energy-predicted basin except in a thin band \(|E - E^*| "
                 r"\leq 0.05\) around the separatrix.")
def _basins_joint(ctx: CheckContext):
    n = 60 if ctx.full else 24
    results = {f"p={p_},q={q_}": _basin_agreement(p_, q_, n, profiled=False) for p_, q_ in CASES}
    holds = all(r["widest_disagreement_|E-E*|"] <= THIN_BAND for r in results.values())
    return decide(holds, {f"disagreements with |E-E*| > {THIN_BAND}": 0}, results, THIN_BAND,
                  "Counterexample: for p+q < 1 and large |e0| with w0 < -1/sqrt2 the joint dynamics "
                  "cross the separatrix at energies well away from E*: dE/dt = 2e^2 dL/db is not small "
                  "when e^2 is large, so b's lag moves the trajectory to the other basin. The "
                  "continuous joint flow (Dormand-Prince) from the same point agrees with gradient "
                  "descent, so this is the dynamics, not the discretisation. With b profiled the "
                  "band is thin (markov.basins); the statement needs |e0| small (or b near b*).")


@claim("markov.headline", paper=P2, reference="Sec. 3-4, consequence of the basins",
       statement=r"A small Gaussian initialisation around the origin reaches the global minimum "
                 r"when \(p+q < 1\) and the unigram local minimum when \(p+q > 1\); initialising "
                 r"with \(w < -1/\sqrt{2}\) (anti-aligned MLP, large norm) fixes \(p+q > 1\) -- "
                 r"and, as the basins predict, sends small-\(e\) starts to the unigram line when "
                 r"\(p+q < 1\).")
def _headline(ctx: CheckContext):
    rng = as_generator(ctx.seed)
    n = 400 if ctx.full else 100
    small = rng.normal(0.0, 0.1, size=(n, 2))
    shares = {}
    for p_, q_ in CASES:
        for name, w0 in (("small", small[:, 1]), ("w<-1/sqrt2", -canonical.SQRT_HALF - 0.5 - np.abs(small[:, 1]))):
            ends = canonical.gradient_descent_ends(p_, q_, small[:, 0], w0, 0.0)
            reached = [canonical.end_state(p_, q_, loss) for loss in ends.loss]
            shares[f"p={p_},q={q_},{name}"] = reached.count("global") / n
    expected = {"p=0.2,q=0.3,small": 1.0, "p=0.2,q=0.3,w<-1/sqrt2": 0.0,
                "p=0.5,q=0.8,small": 0.0, "p=0.5,q=0.8,w<-1/sqrt2": 1.0}
    holds = all(shares[k] == v for k, v in expected.items())
    return decide(holds, {k: f"global share {v}" for k, v in expected.items()}, shares, 0.0,
                  f"{n} seeded draws (e0, w0) ~ N(0, 0.1^2), b0 = 0; 4000 steps of gradient descent "
                  f"(step bounded as in markov.basins) on the exact canonical loss.")


@claim("markov.degenerate", paper=P2, reference="Sec. 3, p + q = 1",
       statement=r"At \(p + q = 1\) the chain is i.i.d.: the curve constant is 0, \(H(\pi) = "
                 r"H(P)\), and the library reports the degenerate case without dividing by zero.")
def _degenerate(ctx: CheckContext):
    worst, flags = 0.0, True
    for p_ in (0.1, 0.3, 0.5, 0.7):
        q_ = 1 - p_
        summary = canonical.critical_summary(p_, q_)
        worst = max(worst, abs(summary.global_curve_constant),
                    abs(summary.global_minimum_loss - summary.unigram_loss))
        flags &= (summary.regime == "p+q=1" and summary.saddles == []
                  and summary.unigram_local_min_w is None)
    return decide(worst < 1e-12 and flags, 0.0, {"max |C| and |H(pi)-H(P)|": worst,
                  "reported as degenerate": flags}, 1e-12, "p in {0.1, 0.3, 0.5, 0.7}, q = 1 - p.")

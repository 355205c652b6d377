"""Claims about P2's reduction of the full model to the canonical one and the canonical model in
torch (Makkuva et al., P2 = arXiv 2406.03072, Sec. 3 and Fig. 2; specification ``markov.md``
Part 2, Sec. 3-4: R1-R5, C1).

Symbolic parts: :func:`theory.markov.reduction_logits`; numerics: :mod:`numerics.markov.reduction`;
torch: :mod:`validation.markov.reduction` and :mod:`validation.markov.canonical_torch`."""

from __future__ import annotations

import time

import numpy as np

from numerics.markov import canonical
from numerics.markov.reduction import attention_flow, attention_loss
from numerics.shared.seeding import as_generator
from theory import markov
from validation.ledger.claims import CheckContext, claim, decide
from validation.markov import canonical_torch
from validation.markov import reduction

P2 = "markov-p2"
#: The R2 point of the specification: (p, q) = (0.5, 0.8), (e, w, b) = (1, 0.5, 0), d = N = 4.
R2_POINT = (0.5, 0.8, 1.0, 0.5, 0.0)


def _random_points(seed: int, count: int) -> list[tuple]:
    rng = as_generator(seed)
    return [tuple(v) for v in rng.uniform([0.05, 0.05, -2.0, -2.0, -1.0],
                                          [0.95, 0.95, 2.0, 2.0, 1.0], (count, 5))]


@claim("markov.R1", paper=P2, reference="Sec. 3, reduction to (e, w, b); spec Part 2 R1",
       statement=r"The map \(\phi(e, w, b)\) (embedding \(e\hat\alpha\), \(p_n = -\frac e2 "
                 r"\hat\alpha\), \(W_1 = 2|w|\hat\beta\hat\alpha^\top\), \(W_2 = 2w\hat\alpha"
                 r"\hat\beta^\top\), \(W_V = W_O = 0\)) satisfies \(L_{full} \circ \phi = L_{can}"
                 r"\) for \(e \geq 0\) (and \(L_{can}(|e|, w, b - 2w|w|e^2)\) for \(e < 0\)): "
                 r"symbolically per \(x \in \{0, 1\}\) and by enumeration to \(10^{-12}\).")
def _r1(ctx: CheckContext):
    symbolic = {f"d={d},{'e<0' if neg else 'e>=0'}": markov.reduction_logits(d, negative=neg)
                .differences == [0, 0] for d in (1, 2, 4) for neg in (False, True)}
    rng = as_generator(ctx.seed)
    worst = 0.0
    for p, q, e, w, b in _random_points(ctx.seed, 12 if ctx.full else 6):
        alpha = rng.choice([-1.0, 1.0], size=4)
        worst = max(worst, reduction.reduction_check(p, q, e, w, b, 4, 4, alpha).abs_diff)
    holds = all(symbolic.values()) and worst <= 1e-12
    return decide(holds, 0.0, {"symbolic (logit difference simplifies to 0)": symbolic,
                               "max |L_full(phi) - L_can| (d = 4, N = 4)": worst}, 1e-12,
                  "sympy builds the full model's logit at phi from explicit vectors (d = 1, 2, 4) "
                  "and simplifies it against the canonical f_x; the exact population loss of the "
                  "torch model (all 2^5 sequences) at random (p, q, e, w, b) and random signs "
                  "alpha against the closed-form canonical loss.")


@claim("markov.R2", paper=P2, reference="Sec. 3, gradient of L(e, w, b); spec Part 2 R2",
       statement=r"Chain rule: \(\partial_e L_{can} = \hat\alpha \cdot \nabla_e L - \frac12 "
                 r"\sum_n \hat\alpha \cdot \nabla_{p_n} L\), \(\partial_w L_{can} = 2\,"
                 r"\mathrm{sign}(w) \hat\beta^\top (\nabla_{W_1} L) \hat\alpha + 2\hat\alpha^\top"
                 r"(\nabla_{W_2} L)\hat\beta\); at \((p, q) = (0.5, 0.8)\), \((e, w, b) = (1, "
                 r"0.5, 0)\), \(d = N = 4\): 0.650440, 0.083287 per \(n\), \(\partial_e L_{can} = "
                 r"0.483866\).")
def _r2(ctx: CheckContext):
    rule = reduction.chain_rule(*R2_POINT, d=4, seq_len=4)
    others = [reduction.chain_rule(p, q, abs(e), w, b, 4, 4).max_abs_diff
              for p, q, e, w, b in _random_points(ctx.seed, 6 if ctx.full else 3)]
    spec = [0.650440, 0.083287, 0.483866]
    measured = [rule.embedding_part, max(rule.position_parts), rule.chain[0]]
    spread = max(rule.position_parts) - min(rule.position_parts)
    holds = (all(abs(a - b) <= 5e-7 for a, b in zip(spec, measured)) and spread <= 1e-12
             and rule.max_abs_diff <= 1e-12 and max(others) <= 1e-12)
    return decide(holds, {"alpha.grad_e L": spec[0], "alpha.grad_p_n L": spec[1],
                          "dL_can/de": spec[2], "chain rule - closed form": 0.0},
                  {"alpha.grad_e L": measured[0], "alpha.grad_p_n L": rule.position_parts,
                   "dL_can/de": measured[2], "chain rule - closed form": rule.max_abs_diff,
                   "chain rule - closed form at random points": max(others)},
                  "5e-7 on the printed values; 1e-12 on the identity",
                  "Autograd gradient of the exact population loss of the full model at phi, "
                  "contracted with the tangent directions, against the closed-form canonical "
                  "gradient of P2 (numerics.markov.canonical).")


@claim("markov.R3", paper=P2, reference="Sec. 3 (the canonical manifold); spec Part 2 R3",
       expected="refuted",
       statement=r"The image of \(\phi\) is invariant under the full model's gradient flow (the "
                 r"gradient at a point of the image is tangent to it).")
def _r3(ctx: CheckContext):
    check = reduction.reduction_check(*R2_POINT, d=4, seq_len=4)
    walk = reduction.descend_from_phi(*R2_POINT, steps=40 if ctx.full else 20, lr=0.5)
    holds = check.normal_fraction_image <= 1e-12
    return decide(holds, {"normal fraction of grad L to phi's image": 0.0},
                  {"normal fraction at the R2 point": check.normal_fraction_image,
                   "distance to phi's image after gradient descent":
                       walk["final_distance_to_image"]},
                  1e-12,
                  "Counterexample: at (p, q) = (0.5, 0.8), (e, w, b) = (1, 0.5, 0), d = N = 4 the "
                  f"part of grad L normal to phi's image is {check.normal_fraction_image:.3f} of "
                  "|grad L| (spec: 0.827): the gradient moves each p_n at the rate of its own "
                  "position (1/N of the loss), not as -e/2, so p_n and e decouple. Gradient "
                  "descent from phi leaves the image (distance reported) but stays in the larger set M' "
                  "(markov.R3_invariant). The canonical flow is the gradient flow of L o phi, not "
                  "the restriction of the full flow.")


@claim("markov.R3_invariant", paper=P2, reference="Sec. 3; spec Part 2 R3 (the set M')",
       statement=r"The five-parameter set \(M' = \{\)embedding \(a\hat\alpha\), \(p_n = c\hat"
                 r"\alpha\), \(W_1 = m\hat\beta\hat\alpha^\top\), \(W_2 = k\hat\alpha\hat\beta^"
                 r"\top\), \(W_V = W_O = 0\}\) (free \(W_Q, W_K\)) is invariant: the gradient's "
                 r"normal part is at most \(10^{-15}\) of its norm, and gradient descent from "
                 r"\(\phi\) stays within \(10^{-10}\) of \(M'\).")
def _r3_invariant(ctx: CheckContext):
    points = [R2_POINT, (0.2, 0.3, 0.6, -1.1, 0.4), (0.7, 0.4, 1.3, 0.2, -0.3)]
    fractions = [reduction.reduction_check(*point).normal_fraction_invariant for point in points]
    walk = reduction.descend_from_phi(*R2_POINT, steps=40 if ctx.full else 20, lr=0.5,
                                      seed=ctx.seed)
    value_grad = reduction.value_gradient_norm(*R2_POINT, seed=ctx.seed)
    holds = max(fractions) <= 1e-15 and walk["max_distance_to_invariant"] <= 1e-10
    return decide(holds, {"normal fraction": "<= 1e-15", "distance to M'": "<= 1e-10"},
                  {"normal fractions at 3 points": fractions,
                   "max distance to M' along descent": walk["max_distance_to_invariant"],
                   "|grad W_V| when W_O ~ N(0, 0.3^2)": value_grad}, 1e-15,
                  "Normal fraction: least-squares projection of the autograd gradient on M's "
                  "tangent space (M' is a linear subspace). Descent: full-batch gradient descent "
                  "(lr 0.5) on the exact loss from phi with random W_Q, W_K. The invariance needs "
                  "W_O = 0: with W_O random the value matrix receives a gradient (reported) and "
                  "leaves 0.")


#: R4 (full profile): seeds trained as members of one model, steps.
R4_SEEDS, R4_STEPS = 32, 2000


@claim("markov.R4", paper=P2, reference="Sec. 3, energy figure; spec Part 2 R4",
       profiles=("full",),
       statement=r"Measurement: training the full tied model from the standard initialisation "
                 r"(\(p = 0.2\), \(q = 0.3\), \(d = 8\), \(N = 64\), 2000 steps, 32 seeds), the "
                 r"rank-one energy \(\rho = s_1^2/\sum s_i^2\) of \(W_V\), \(W_1\) and "
                 r"\([p_1 \ldots p_N]\) grows towards 1; the share of seeds with final "
                 r"\(\rho > 0.99\) is reported.")
def _r4(ctx: CheckContext):
    from validation.markov.higher_order import AUTHORS_ADAMW
    from validation.markov.plots import plot_low_rank
    from validation.markov.training import train_ensemble
    from validation.shared.plots import save_figure

    seeds = [ctx.seed + i for i in range(R4_SEEDS)]
    names = (("W_V", "W_V"), ("W_1", "W_1"), ("positions", "pos"))
    energy: dict = {}                      # step -> name -> seed -> rho

    def record(step, params, members):
        at = energy.setdefault(step, {name: {} for name, _ in names})
        for name, key in names:
            for m, seed in enumerate(members):
                at[name][seed] = reduction.rank_one_energy(params[key][m].detach())

    start = time.perf_counter()
    runs = train_ensemble(0.2, 0.3, tying=True, seeds=seeds, steps=R4_STEPS, d=8, seq_len=64,
                          batch=16, lr=2e-3, **AUTHORS_ADAMW, record_every=100, record=record,
                          held_out=4096, scores=False)
    seconds = time.perf_counter() - start
    final = [r.run.final_loss for r in runs]
    records = [(step, {name: [energy[step][name][s] for s in seeds] for name, _ in names})
               for step in sorted(energy)]
    steps = [step for step, _ in records]
    curves = {name: (steps, [float(np.mean(r[name])) for _, r in records])
              for name in ("W_V", "W_1", "positions")}
    out = plot_low_rank(curves)
    save_figure(out.figure, ctx.figure_path("markov_r4_low_rank.png"), close=True)
    last = records[-1][1]
    shares = {name: float(np.mean(np.array(last[name]) > 0.99)) for name in last}
    first = {name: float(np.mean(records[0][1][name])) for name in last}
    final_mean = {name: float(np.mean(last[name])) for name in last}
    grew = all(final_mean[name] > first[name] for name in last)
    return decide(grew, "rho grows from the initialisation (paper: W_V 0.340 -> 0.973, "
                        "W_1 0.245 -> 0.987, positions 0.141 -> 0.938 by step 200)",
                  {"mean rho at step 0": first, "mean rho at the end": final_mean,
                   "share of seeds with final rho > 0.99": shares,
                   "mean final held-out loss": float(np.mean(final))}, "growth",
                  f"{R4_SEEDS} seeds trained as vectorised ensembles (train_ensemble: AdamW lr "
                  "2e-3, betas 0.9, 0.95, weight decay 1e-3, 2% warm-up, cosine decay), rho "
                  "every 100 steps; the paper used d = 8, N = 1024, 5000 iterations, "
                  "3 runs.", figures=("markov_r4_low_rank.png",), timings={"training": seconds})


@claim("markov.R5", paper=P2, reference="Fig. 2, the (e, w, a) flow; spec Part 2 R5",
       statement=r"The \((e, w, a)\) model (\(\phi\) plus uniform attention with \(W_V = a\hat"
                 r"\alpha\hat\alpha^\top\), \(W_O = I\)) has logit \(e^2[s_n + 4w|w|\,"
                 r"\mathrm{ReLU}(s_n)] + b\), \(s_n = x_n - \frac12 + a(\bar x_n - \frac12)\); its "
                 r"exact loss (a recursion over \((x_n, \sum_{i \le n} x_i)\)) equals \(L_{can}\) "
                 r"at \(a = 0\) to \(10^{-12}\); the profiled flow from small starts ends at "
                 r"\(H(P)\) for \(p = q = 0.1\) and at \(H(\pi)\) for \(p = q = 0.9\).")
def _r5(ctx: CheckContext):
    from validation.markov.plots import plot_attention_flow
    from validation.shared.plots import save_figure
    import matplotlib.pyplot as plt

    worst = max(abs(attention_loss(p, q, abs(e), w, 0.0, b, n)
                    - float(canonical.canonical_loss(p, q, abs(e), w, b)))
                for (p, q, e, w, b) in _random_points(ctx.seed, 8) for n in (1, 16, 64))
    seq_len = 64 if ctx.full else 24
    rng = as_generator(ctx.seed)
    starts = rng.uniform(-0.4, 0.4, (8 if ctx.full else 4, 3))
    starts[:, 0] = np.abs(starts[:, 0]) + 0.05
    fig = plt.figure(figsize=(10, 4.5), layout="constrained")
    ends = {}
    for index, pq in enumerate((0.1, 0.9)):
        flows = [attention_flow(pq, pq, *start, seq_len, gtol=1e-6)
                 for start in starts]
        ends[f"p=q={pq}"] = [canonical.end_state(pq, pq, float(f.loss[-1])) for f in flows]
        plot_attention_flow(pq, pq, flows, ax=fig.add_subplot(1, 2, index + 1,
                                                              projection="3d"))
    save_figure(fig, ctx.figure_path("markov_r5_flow.png"), close=True)
    holds = (worst <= 1e-12 and all(v == "global" for v in ends["p=q=0.1"])
             and all(v == "local" for v in ends["p=q=0.9"]))
    return decide(holds, {"|L(a=0) - L_can|": "<= 1e-12", "p=q=0.1": "global",
                          "p=q=0.9": "local"},
                  {"|L(a=0) - L_can|": worst, **ends}, 1e-12,
                  f"Exact recursion over (x_n, sum x_i), N = 1, 16, 64 at 8 random points; flows "
                  f"(Dormand-Prince, b profiled by Newton) from {len(starts)} starts with "
                  f"|e|, |w|, |a| <= 0.45, N = {seq_len}. P2's Fig. 2 gives no formula for the "
                  "attention scalar; this model is the library's.",
                  figures=("markov_r5_flow.png",))


#: C1 chains and grid (Part 2, Sec. 4).
C1_CHAINS = ((0.1, 0.1), (0.9, 0.9), (0.5, 0.8), (0.2, 0.3))
C1_STEPS = 10_000


@claim("markov.C1", paper=P2, reference="Sec. 3, basins; spec Part 2 C1", expected="refuted",
       statement=r"The canonical model in torch (float64) has the loss and gradient of the "
                 r"numerics (to \(10^{-12}\)); full-batch gradient descent (lr 0.01) from the "
                 r"\(21 \times 21\) grid on \([-3, 3]^2\) (\(b_0 = 0\)) ends, for \((p, q) \in "
                 r"\{(0.1, 0.1), (0.9, 0.9), (0.5, 0.8), (0.2, 0.3)\}\), in the class of the joint "
                 r"gradient flow wherever \(|E - E^*| \geq 0.05\).")
def _c1(ctx: CheckContext):
    import torch

    rng = as_generator(ctx.seed)
    e, w, b = rng.uniform(-3, 3, (3, 100))
    match = 0.0
    for p, q in C1_CHAINS:
        model = canonical_torch.CanonicalModel(e, w, b)
        loss = canonical_torch.population_loss(model, p, q)
        loss.sum().backward()
        grad = torch.stack([model.e.grad, model.w.grad, model.b.grad], dim=-1).numpy()
        match = max(match, float(np.max(np.abs(loss.detach().numpy()
                                               - canonical.canonical_loss(p, q, e, w, b)))),
                    float(np.max(np.abs(grad - canonical.canonical_gradient(p, q, e, w, b)))))
    e0, w0 = canonical_torch.grid_starts(21)
    timings, results, flows = {}, {}, {}
    # quick: the chain of the counterexample only; full: all four chains and three optimizers
    chains = C1_CHAINS if ctx.full else C1_CHAINS[:1]
    for p, q in chains:
        start = time.perf_counter()
        flows[(p, q)] = canonical_torch.flow_classes(p, q, e0, w0)
        timings[f"flows p={p},q={q}"] = time.perf_counter() - start
    outcomes = {}
    for name in (("gd", "adam") if ctx.full else ("gd",)):
        start = time.perf_counter()
        for chain, outcome in canonical_torch.grid_classes(chains, e0, w0, name,
                                                           steps=C1_STEPS, flows=flows).items():
            outcomes[f"{name} p={chain[0]},q={chain[1]}"] = outcome
        timings[name] = time.perf_counter() - start
    if ctx.full:
        for p, q in C1_CHAINS:
            start = time.perf_counter()
            outcomes[f"sgd p={p},q={q}"] = canonical_torch.descent_classes(
                p, q, e0, w0, "sgd", steps=2000, flow=flows[(p, q)], seed=ctx.seed)
            timings[f"sgd p={p},q={q}"] = time.perf_counter() - start
    results = {key: {"agreements": o.agreements, "compared": o.compared, "share": o.share,
                     "disagreements": o.disagreements} for key, o in outcomes.items()}
    gd_ok = all(r["agreements"] == r["compared"] for k, r in results.items() if k.startswith("gd"))
    holds = match <= 1e-12 and gd_ok
    return decide(holds, {"torch vs numerics": "<= 1e-12", "GD disagreements off the band": 0},
                  {"max |torch - numerics| (loss, gradient)": match, **results}, 1e-12,
                  f"Gradient descent {C1_STEPS} steps at lr 0.01 on the population loss; reference "
                  "class: the joint flow (Dormand-Prince) from the same start, H(P)/H(pi) within "
                  "1e-3. Counterexample: p = q = 0.1, (e0, w0) = (+-2.4, -2.7) (|E - E*| = 0.31): "
                  "gradient descent at lr 0.01 ends at H(P) while the flow ends at H(pi); at "
                  "lr 0.003 and 0.001 it ends at H(pi) too -- the step is too large for the "
                  "curvature at |e0| = 2.4, so the statement needs a smaller step there. "
                  + ("Adam (lr 0.01) and minibatch SGD (momentum 0.9, lr 0.01, B = 16, N = 512, "
                     "2000 steps): agreement shares reported." if ctx.full else
                     "The quick profile runs p = q = 0.1 only (the counterexample); the other "
                     "chains, Adam and SGD run in the full profile."), timings=timings)

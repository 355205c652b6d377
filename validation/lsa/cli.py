"""The ``ttc lsa`` commands (optimum, correlated, recover, gaussian, train) of the LSA papers.

Every option is declared once with its domain (:func:`validation.cli.add_argument`; the domains
live in :mod:`theory.lsa` and :mod:`numerics.lsa.domains` and are the ones the Python API checks).
Sizes that cost time or memory have documented maxima: ``--d`` of ``optimum`` and ``train`` at
most 8 (the global search for the best one-layer loss takes about 40 s at d = 8), ``--d`` of
``recover`` at most 300, ``--n`` of ``train`` at most 1000, ``--steps`` at most 100000,
``--layers`` at most 16; ``--exact`` needs ``--d`` <= 4.
"""

from __future__ import annotations


import numpy as np

from numerics.lsa import domains
from numerics.shared.threads import limit_threads
from theory import lsa_domains  # sympy-free declarations; the handlers import theory.lsa
from theory.domains import FINITE, POSITIVE, SEED, Domain, integer, rational, real
from theory.errors import InputError, TooLargeError
from validation.cli import add_argument, add_list_argument, add_query, add_topic

#: ``--c1``, ``--c2`` of ``ttc lsa correlated``: exact rationals >= 0 (their upper ends depend on
#: p and n and are checked by the command).
CORRELATION = rational(0, None)


def _rational(value):
    import sympy as sp

    return sp.Rational(value.numerator, value.denominator)


def _common(parser, with_d: bool = True, d_domain: Domain = domains.D_CLI_OPTIMUM,
            n_domain: Domain = lsa_domains.N_CONTEXT):
    if with_d:
        add_argument(parser, "--d", d_domain, required=True, help="chain prefix length d")
    add_argument(parser, "--p", lsa_domains.P_EXACT, required=True, help="P(s_1 = 1), e.g. 1/2")
    add_argument(parser, "--n", n_domain, required=True, help="context chains n")


def _optimum(args) -> dict:
    """Enlarged optimum X*, f~*, realisability and the best one-layer LSA loss."""
    from numerics.lsa import optimum, realizability
    from theory import lsa
    loss_exact = None
    if args.exact:
        if args.d > lsa.EXACT_MAX_D:
            raise TooLargeError("--d", args.d, f"d <= {lsa.EXACT_MAX_D} with --exact (exact "
                                "rational arithmetic); leave out --exact for the numeric path "
                                "(quadrature)")
        exact = lsa.markov_moments(args.d, _rational(args.p), args.n)
        opt = lsa.optimum(exact.H, exact.h, exact.Ey)
        loss_exact = str(opt.loss)
        mom = optimum.Moments(np.array(exact.H, float), np.array(exact.h, float).ravel(),
                              float(exact.Ey))
        Xs, fstar = np.array(opt.X, float).ravel(), float(opt.loss)
    else:
        mom = optimum.markov_moments_numeric(args.d, args.p, args.n)
        opt = optimum.optimum(mom)
        Xs, fstar = opt.X, opt.loss
    realizable = realizability.recover(Xs, args.d).realizable
    best = fstar if realizable else realizability.best_lsa(mom, args.d).loss
    return {"X": Xs.tolist(), "loss": fstar, "loss_exact": loss_exact, "realizable": realizable,
            "best_lsa_loss": best, "gap": best - fstar,
            "ordering": [list(t) for t in lsa.feature_ordering(args.d)]}


def correlated(args) -> dict:
    """Theorem 3.4 (d = 1) at given (p, n, c1, c2)."""
    from theory import lsa
    pn = args.n * args.p
    if not 0 <= args.c1 <= pn:
        raise InputError("--c1", str(args.c1), f"a value in [0, n p] = [0, {float(pn)}]")
    if not 0 <= args.c2 <= (args.n - 1) * args.c1:
        raise InputError("--c2", str(args.c2), f"a value in [0, (n-1) c1] = "
                         f"[0, {float((args.n - 1) * args.c1)}]")
    mom = lsa.correlated_moments(_rational(args.p), args.n, _rational(args.c1), _rational(args.c2))
    if not mom.H.is_positive_definite:
        raise InputError("--c2", str(args.c2), "moments (c1, c2) that some joint law attains (H "
                         "is not positive definite)")
    opt = lsa.optimum(mom.H, mom.h, mom.Ey)
    return {"X": [float(v) for v in opt.X], "loss": float(opt.loss),
            "loss_exact": str(opt.loss) if args.exact else None}


def recover(args) -> dict:
    """Exact recovery of (b, A) from X, or not realisable."""
    from numerics.lsa import realizability
    r = realizability.recover(args.x, args.d)
    if not r.realizable:
        return {"realizable": False, "b": None, "A": None,
                "residual": None if r.residual is None else r.residual}
    return {"realizable": True, "b": r.b.tolist(), "A": r.A.tolist(), "residual": r.residual}


def gaussian(args) -> dict:
    """Gamma* and L(Gamma*) for diagonal Sigma."""
    from numerics.lsa import optimum
    Sigma = np.diag(args.sigma)
    G = optimum.gaussian_gamma_star(Sigma, args.n, args.noise)
    return {"Gamma": G.tolist(), "loss": optimum.gaussian_loss(G, Sigma, args.n, args.noise)}


def train(args) -> dict:
    """Train an LSA on sampled prompts; compare with f~* and the best one-layer loss."""
    from validation.lsa.training import train_markov

    with limit_threads(1):
        r = train_markov(args.d, float(args.p), args.n, layers=args.layers, steps=args.steps,
                         seed=args.seed)
    return {"final_loss": r.final_loss, "predicted_loss": r.predicted_loss,
            "best_lsa_loss": r.best_lsa_loss}


def register(subparsers) -> None:
    _, sub = add_topic(subparsers, "lsa")
    q = add_query(sub, "optimum", _optimum, "enlarged-space optimum X*, f~*, realisability, best LSA loss")
    _common(q)
    q.add_argument("--exact", action="store_true",
                   help=f"exact rational arithmetic (d <= {lsa_domains.EXACT_MAX_D})")
    q = add_query(sub, "correlated", correlated, "Theorem 3.4 (correlated initial states, d = 1)")
    _common(q, with_d=False)
    add_argument(q, "--c1", CORRELATION, required=True,
                 help="sum_i E[x_i x_{n+1}], at most n p")
    add_argument(q, "--c2", CORRELATION, required=True,
                 help="sum_{i != j} E[x_i x_j x_{n+1}], at most (n-1) c1")
    q.add_argument("--exact", action="store_true", help="also give the loss as a rational string")
    q = add_query(sub, "recover", recover, "recover (b, A) from X = phi(b, A), or certify none exists")
    add_argument(q, "--d", domains.D_RECOVER, required=True, help="chain prefix length d")
    add_list_argument(q, "--x", FINITE, domains.X_LENGTH.high, required=True,
                      help="X1,X2,... (d m values) in the canonical ordering")
    q = add_query(sub, "gaussian", gaussian, "Gaussian linear regression: Gamma* and its loss")
    add_list_argument(q, "--sigma", POSITIVE, domains.DIM.high, required=True,
                      help="diagonal of Sigma, S1,S2,... (variances)")
    add_argument(q, "--n", lsa_domains.N_CONTEXT, required=True, help="context examples n")
    add_argument(q, "--noise", domains.NOISE, default=0.0, help="label-noise variance sigma^2")
    q = add_query(sub, "train", train, "train an LSA on sampled prompts")
    _common(q, d_domain=domains.D_TRAIN, n_domain=domains.N_TRAIN)
    add_argument(q, "--layers", domains.LAYERS, default=1, help="LSA layers")
    add_argument(q, "--steps", domains.STEPS, default=500, help="Adam steps")
    add_argument(q, "--seed", SEED, default=0)
    _register_landscape(sub)
    _register_part2_aef(sub)
    _register_depth_dimension(sub)


# ---------------------------------------------------------------------------------------------
# ttc lsa landscape (a figure command)

#: Axis ranges of ``ttc lsa landscape`` (a window on the slice (X1, X3)).
LANDSCAPE_AXIS = real(-100, 100)


def landscape(args) -> dict:
    """``ttc lsa landscape``: :func:`validation.lsa.plots.plot_landscape` (d = 1: the loss over
    the slice (X1, X3) with X2 profiled, X*, the best one-layer LSA and the realisable set) in the
    paper style to ``--out`` (.png, .pdf or .svg at ``--dpi``). ``--json`` keys: ``figure``,
    ``format``, ``dpi``, ``X_star``, ``loss`` (f~*), ``realizable``, ``best_lsa_loss``, ``gap``."""
    from validation.lsa.plots import plot_landscape
    from validation.shared.figure_cli import write_figure
    from validation.shared.style import style

    with limit_threads(1), style("paper", columns=args.columns):
        drawn = plot_landscape(float(args.p), args.n, x1_range=args.x1_range,
                               x3_range=args.x3_range, grid=args.grid, field=args.field)
        data = drawn.images["data"]
        written = write_figure(args, drawn.figure)
    return {**written, "X_star": data.X_star.tolist(), "loss": data.fstar,
            "realizable": data.star_realizable, "best_lsa_loss": data.best_loss,
            "gap": data.best_loss - data.fstar}


def _register_landscape(sub) -> None:
    from numerics.lsa.landscape import LANDSCAPE_GRID
    from validation.shared.figure_cli import add_figure_options

    q = add_query(sub, "landscape", landscape,
                  "draw the d = 1 loss landscape over (X1, X3) with X*, the best LSA and the "
                  "realisable set to a figure")
    add_argument(q, "--p", domains.P_FLOAT, required=True, help="P(s_1 = 1)")
    add_argument(q, "--n", domains.N_CONTEXT, required=True, help="context chains n")
    add_figure_options(q, {"--x1-range": (LANDSCAPE_AXIS, None, "range of X1 = b1 a1 (default: "
                                                               "centred on X*)"),
                           "--x3-range": (LANDSCAPE_AXIS, None, "range of X3 = b2 a2 (default: "
                                                               "centred on X*)")})
    add_argument(q, "--grid", LANDSCAPE_GRID, default=201, help="grid points per axis")
    q.add_argument("--field", choices=("enlarged", "lsa"), default="enlarged",
                   help="colour the enlarged-space loss or the one-layer LSA loss")
    add_argument(q, "--columns", integer(1, 2), default=1,
                 help="figure width: 1 (3.4 in) or 2 (7.0 in) paper columns")


# ---------------------------------------------------------------------------------------------
# ttc lsa depth, ttc lsa dimension (Part 2 §B, §C: Figs. 3 and 5)

#: Seeds of ``ttc lsa dimension`` (each trains one LSA and fits least squares per d).
DIMENSION_SEEDS = integer(1, 20, note="each seed trains one LSA (1000 Adam steps) and fits "
                          "d(d+1)(d+2)/2 least-squares features")
#: Held-out prompts of ``ttc lsa dimension``.
DIMENSION_EVAL = integer(100, 100_000, note="held-out features: 8 d m values per prompt")
#: Monte Carlo prompts of the ceilings of ``ttc lsa depth``.
CEILING_SIZE = integer(100, 10**6, note="prompts sampled in chunks of 20000")


def depth(args) -> dict:
    """``ttc lsa depth``: accuracy of trained dense LSA with 1..L layers on the ``|S|``-state task
    with Dir(alpha 1) kernel rows (alpha = 0: a random map per prompt), d = 5, n = 10, and the
    oracle and in-context Bayes ceilings (Ding et al. 2025, Fig. 3; spec Part 2 §B). ``--json``
    keys: ``accuracy``, ``accuracy_se`` (lists, one per depth), ``oracle_accuracy``,
    ``bayes_accuracy``."""
    S, chunk = args.states, min(args.ceiling_size, 20000)
    domains.check_memory("--states", S, 16.0 * max(chunk, args.eval_size) * S * (S + 11)
                         + domains.prompts_bytes(6, 10, max(chunk, args.eval_size)),
                         f"prompts and kernels (states = {S})")
    from numerics.lsa.ceilings import accuracy_ceilings
    from validation.lsa.experiments import depth_experiment

    with limit_threads(1):
        ceil = accuracy_ceilings(args.states, args.alpha, size=args.ceiling_size, seed=args.seed)
        r = depth_experiment(args.layers, steps=args.steps, seed=args.seed, states=args.states,
                             eval_size=args.eval_size, alpha=args.alpha)
    return {"accuracy": r.accuracy, "accuracy_se": r.accuracy_se,
            "oracle_accuracy": ceil.oracle, "bayes_accuracy": ceil.bayes}


def dimension(args) -> dict:
    """``ttc lsa dimension``: in-sample and held-out accuracy of least squares on x (x) vech(G)
    and of a trained one-layer LSA, and of X* (quadrature), binary p = 1/2, n = 100, 1000
    prompts (Ding et al. 2025, Fig. 5; spec Part 2 §C). ``--json`` keys: ``acc_ls_in``,
    ``acc_ls_out``, ``acc_lsa_in``, ``acc_lsa_out``, ``acc_pop`` and each with ``_sd`` (the
    standard deviation over ``--seeds``; null with one seed)."""
    from validation.lsa.experiments import DIMENSION_KEYS, dimension_experiment

    r = dimension_experiment([args.d], seed=args.seed, seeds=args.seeds, steps=args.steps,
                             eval_size=args.eval_size)
    out = {}
    for k in DIMENSION_KEYS:
        out[k] = getattr(r, k)[0]
    for k in DIMENSION_KEYS:
        sd = getattr(r, f"{k}_sd")
        out[f"{k}_sd"] = None if sd is None else sd[0]
    return out


def _register_depth_dimension(sub) -> None:
    q = add_query(sub, "depth", depth, "accuracy against depth on the |S|-state task with "
                  "Dir(alpha) kernels, and the oracle and in-context Bayes ceilings (Fig. 3)")
    add_argument(q, "--states", domains.STATES, default=3, help="number of states |S|")
    add_argument(q, "--alpha", domains.ALPHA, default=1.0,
                 help="Dirichlet concentration of the kernel rows (0: a random map)")
    add_argument(q, "--layers", domains.LAYERS, default=3, help="train depths 1..L")
    add_argument(q, "--steps", domains.STEPS, default=250, help="Adam steps per depth")
    add_argument(q, "--eval-size", domains.SIZE, default=8000, help="held-out prompts")
    add_argument(q, "--ceiling-size", CEILING_SIZE, default=50000,
                 help="Monte Carlo prompts of the ceilings")
    add_argument(q, "--seed", SEED, default=0)
    q = add_query(sub, "dimension", dimension, "accuracy against d of least squares and a "
                  "trained one-layer LSA, in-sample and held out, and of X* (Fig. 5)")
    add_argument(q, "--d", domains.D_DIMENSION, default=8,
                 help="chain prefix length d (sweep: --d 1:10)")
    add_argument(q, "--seeds", DIMENSION_SEEDS, default=1, help="seeds (mean and sd over them)")
    add_argument(q, "--steps", domains.STEPS, default=1000, help="full-batch Adam steps")
    add_argument(q, "--eval-size", DIMENSION_EVAL, default=20000, help="held-out prompts")
    add_argument(q, "--seed", SEED, default=0)


# ---------------------------------------------------------------------------------------------
# Part 2, sections A, E, F: ttc lsa pareto, dirichlet, reduction

#: Test prompts of ``ttc lsa pareto`` (one L-BFGS-B block of d unknowns per prompt and layer).
PARETO_PROMPTS = integer(1, 512, note="one generational-distance block per prompt and layer")


def pareto_command(args) -> dict:
    """Fig. 2's Pareto view (Part 2 §A): GD and mean R_1, R_2 per layer of the deterministic
    gradient-descent stack, or (``--trained``) of a trained sparse LSA (read-out -[Z_L], 1000
    Adam steps). ``--json`` keys: ``gd`` (L+1 values), ``r1``, ``r2`` ((L+1) x (d+1)), ``rho``
    (mean rate of the stack, rho(I - M/lambda_max))."""
    from numerics.lsa import pareto

    with limit_threads(1):
        if args.trained:
            from validation.lsa.pareto import train_pareto

            view = train_pareto(args.d, args.n, args.layers, steps=1000, seed=args.seed,
                                test_prompts=args.prompts).view
        else:
            view = pareto.gd_stack(args.d, args.n, args.layers, prompts=args.prompts,
                                   seed=args.seed)
    return {"gd": view.gd.tolist(), "r1": view.r1.tolist(), "r2": view.r2.tolist(),
            "rho": view.rho}


def dirichlet_command(args) -> dict:
    """k-state chains with Dirichlet kernels (Lemma C.8, Part 2 §E), exact rationals.
    ``--json`` keys: ``X``, ``loss`` (f~*), ``loss_exact`` (with --exact), ``realizable``,
    ``best_lsa_loss``."""
    from numerics.lsa import kstate, realizability

    opt = kstate.kstate_optimum(args.states, args.alpha, args.d, args.n)
    X = np.array([float(v) for v in opt.X])
    realizable = realizability.recover(X, args.d).realizable
    with limit_threads(1):
        best = (float(opt.loss) if realizable
                else realizability.best_lsa(opt.moments, args.d, seed=args.seed).loss)
    return {"X": X.tolist(), "loss": float(opt.loss),
            "loss_exact": str(opt.loss) if args.exact else None, "realizable": realizable,
            "best_lsa_loss": best}


class SetsType:
    """argparse ``type`` of ``--sets`` (``"1,2;3"``): :func:`numerics.lsa.reduction.parse_sets`
    (1 to 8 non-empty sets of integers in [1, 64]), refused before any work."""

    __name__ = "sets"

    def __call__(self, text: str):
        from numerics.lsa.reduction import parse_sets
        import argparse

        try:
            return [sorted(s) for s in parse_sets(text)]
        except InputError as exc:
            raise argparse.ArgumentTypeError(f"{text[:60]!r}: expected {exc.expected}") from None


def reduction_command(args) -> dict:
    """EXACT COVER -> Problem C.10 (Part 2 §F) with its three checks. ``--json`` keys: ``d``,
    ``covers`` (brute force; lists of chosen sets, 1-based), ``groebner_infeasible``,
    ``best_local_residual`` (Levenberg-Marquardt, 200 starts, residual norm)."""
    from numerics.lsa.reduction import reduction

    with limit_threads(1):
        r = reduction(args.sets, starts=200, seed=args.seed)
    return {"d": r.d, "covers": r.covers, "groebner_infeasible": r.groebner_infeasible,
            "best_local_residual": r.best_local_residual}


def _register_part2_aef(sub) -> None:
    q = add_query(sub, "pareto", pareto_command,
                  "Fig. 2: generational distance and R_1, R_2 per layer (GD stack or trained)")
    add_argument(q, "--d", domains.PARETO_D, default=5, help="chain prefix length d")
    add_argument(q, "--n", domains.PARETO_N, default=100, help="context chains n")
    add_argument(q, "--layers", domains.LAYERS, default=10, help="layers L")
    add_argument(q, "--prompts", PARETO_PROMPTS, default=16, help="test prompts")
    add_argument(q, "--seed", SEED, default=0)
    q.add_argument("--trained", action="store_true",
                   help="train a sparse LSA (read-out -[Z_L], 1000 Adam steps) instead of the "
                        "gradient-descent stack")
    q = add_query(sub, "dirichlet", dirichlet_command,
                  "k-state chains with Dirichlet kernels (Lemma C.8): exact X*, f~*, realisability")
    add_argument(q, "--states", domains.KSTATE_STATES, required=True, help="states k")
    add_argument(q, "--alpha", domains.KSTATE_ALPHA, default=1,
                 help="Dirichlet concentration (0: random-map limit), e.g. 1/2")
    add_argument(q, "--d", domains.KSTATE_D, default=1, help="chain prefix length d")
    add_argument(q, "--n", lsa_domains.N_CONTEXT, default=10, help="context chains n")
    add_argument(q, "--seed", SEED, default=0, help="seed of the best-loss search")
    q.add_argument("--exact", action="store_true", help="also give f~* as a rational string")
    q = add_query(sub, "reduction", reduction_command,
                  "EXACT COVER -> Problem C.10 (Thm 3.5): brute force, Groebner basis, multistart")
    q.add_argument("--sets", type=SetsType(), default=SetsType()("1,2;3;2,3;1"),
                   help="sets like '1,2;3' (';' between sets, ',' between elements; 1 to 8 sets "
                        "of integers in [1, 64]); default: the first instance of lsa.md Part 2 §F")
    add_argument(q, "--seed", SEED, default=0, help="seed of the Levenberg-Marquardt starts")

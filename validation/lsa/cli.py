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

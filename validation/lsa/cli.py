"""The ``ttc lsa`` commands (optimum, correlated, recover, gaussian, train) of the LSA papers."""

from __future__ import annotations

import argparse
from fractions import Fraction

import numpy as np

from numerics.lsa import optimum
from numerics.lsa import realizability
from numerics.shared.threads import limit_threads
from theory.errors import InputError, check_int, check_open_unit
from validation.cli import add_query, add_topic, fraction, number


def _floats(text: str) -> list[float]:
    """argparse type: a comma-separated list of numbers (fractions allowed)."""
    try:
        return [float(Fraction(t.strip())) for t in text.split(",") if t.strip()]
    except (ValueError, ZeroDivisionError):
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of numbers")


def _rational(value: Fraction):
    import sympy as sp

    return sp.Rational(value.numerator, value.denominator)


def _common(parser, with_d: bool = True):
    if with_d:
        parser.add_argument("--d", type=int, required=True, help="chain prefix length d >= 1")
    parser.add_argument("--p", type=fraction, required=True, help="P(s_1 = 1) in (0, 1), e.g. 1/2")
    parser.add_argument("--n", type=int, required=True, help="context chains n >= 1")


def _optimum(args) -> dict:
    """Enlarged optimum X*, f~*, realisability and the best one-layer LSA loss."""
    from theory import lsa

    check_int("d", args.d, 1)
    check_open_unit("p", args.p)
    check_int("n", args.n, 1)
    loss_exact = None
    if args.exact:
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
    import sympy as sp

    from theory import lsa

    check_open_unit("p", args.p)
    check_int("n", args.n, 1)
    pn = args.n * args.p
    if not 0 <= args.c1 <= pn:
        raise InputError("c1", str(args.c1), f"a value in [0, n p] = [0, {float(pn)}]")
    if not 0 <= args.c2 <= (args.n - 1) * args.c1:
        raise InputError("c2", str(args.c2), f"a value in [0, (n-1) c1] = [0, {float((args.n - 1) * args.c1)}]")
    mom = lsa.correlated_moments(_rational(args.p), args.n, _rational(args.c1), _rational(args.c2))
    if not mom.H.is_positive_definite:
        raise InputError("c2", str(args.c2), "moments (c1, c2) that some joint law attains (H is "
                         "not positive definite)")
    opt = lsa.optimum(mom.H, mom.h, mom.Ey)
    return {"X": [float(v) for v in opt.X], "loss": float(opt.loss),
            "loss_exact": str(sp.nsimplify(opt.loss)) if args.exact else None}


def recover(args) -> dict:
    """Exact recovery of (b, A) from X, or not realisable."""
    check_int("d", args.d, 1)
    r = realizability.recover(args.x, args.d)
    if not r.realizable:
        return {"realizable": False, "b": None, "A": None,
                "residual": None if not np.isfinite(r.residual) else r.residual}
    return {"realizable": True, "b": r.b.tolist(), "A": r.A.tolist(), "residual": r.residual}


def gaussian(args) -> dict:
    """Gamma* and L(Gamma*) for diagonal Sigma."""
    check_int("n", args.n, 1)
    if any(s <= 0 for s in args.sigma):
        raise InputError("sigma", args.sigma, "positive variances (Sigma must be positive definite)")
    Sigma = np.diag(args.sigma)
    G = optimum.gaussian_gamma_star(Sigma, args.n, args.noise)
    return {"Gamma": G.tolist(), "loss": optimum.gaussian_loss(G, Sigma, args.n, args.noise)}


def train(args) -> dict:
    """Train an LSA on sampled prompts; compare with f~* and the best one-layer loss."""
    from validation.lsa.training import train_markov

    check_open_unit("p", args.p)
    check_int("steps", args.steps, 1)
    with limit_threads(1):
        r = train_markov(args.d, float(args.p), args.n, layers=args.layers, steps=args.steps,
                         seed=args.seed)
    return {"final_loss": r.final_loss, "predicted_loss": r.predicted_loss,
            "best_lsa_loss": r.best_lsa_loss}


def register(subparsers) -> None:
    _, sub = add_topic(subparsers, "lsa")
    q = add_query(sub, "optimum", _optimum, "enlarged-space optimum X*, f~*, realisability, best LSA loss")
    _common(q)
    q.add_argument("--exact", action="store_true", help="exact rational arithmetic (d <= 4)")
    q = add_query(sub, "correlated", correlated, "Theorem 3.4 (correlated initial states, d = 1)")
    _common(q, with_d=False)
    q.add_argument("--c1", type=fraction, required=True, help="sum_i E[x_i x_{n+1}]")
    q.add_argument("--c2", type=fraction, required=True, help="sum_{i != j} E[x_i x_j x_{n+1}]")
    q.add_argument("--exact", action="store_true", help="also give the loss as a rational string")
    q = add_query(sub, "recover", recover, "recover (b, A) from X = phi(b, A), or certify none exists")
    q.add_argument("--d", type=int, required=True)
    q.add_argument("--x", type=_floats, required=True, help="X1,X2,... in the canonical ordering")
    q = add_query(sub, "gaussian", gaussian, "Gaussian linear regression: Gamma* and its loss")
    q.add_argument("--sigma", type=_floats, required=True, help="diagonal of Sigma, S1,S2,...")
    q.add_argument("--n", type=int, required=True)
    q.add_argument("--noise", type=number, default=0.0, help="label-noise variance sigma^2")
    q = add_query(sub, "train", train, "train an LSA on sampled prompts")
    _common(q)
    q.add_argument("--layers", type=int, default=1)
    q.add_argument("--steps", type=int, default=500)
    q.add_argument("--seed", type=int, default=0)

"""``ttc potts exact|represent|sample|fit|replica``: the command line of the Potts paper.

Each handler returns a dict with exactly the keys of the command's documented output; ``--json``
prints it as one JSON object. Heavy imports happen inside the handlers so that ``ttc --help`` stays
fast.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from theory.errors import InputError, NumericalFailure
from validation.cli import add_query, add_topic, number


def _alpha_list(text: str) -> list[float]:
    """argparse type: comma-separated numbers ``0.5,1,2`` (each written as in :func:`number`)."""
    parts = [p for p in text.split(",") if p.strip()]
    if not parts:
        raise argparse.ArgumentTypeError(f"{text!r} is not a list of numbers (use e.g. 0.5,1,2)")
    return [number(p) for p in parts]


# ----------------------------------------------------------------------------------------------
# handlers


def _exact(args) -> dict:
    import math

    from numerics.potts import population

    out = population.exact_summary(population.load_model(args.model))
    if not math.isfinite(out.Z):
        raise NumericalFailure(f"Z = exp({out.log_Z:.6g}) overflows float64; use log_Z")
    return {"Z": out.Z, "log_Z": out.log_Z, "conditional_entropy": out.conditional_entropy,
            "mean_conditional_entropy": out.mean_conditional_entropy, "marginals": out.marginals}


def _represent(args) -> dict:
    from numerics.potts import population
    from numerics.potts import represent

    res = represent.represent(population.load_model(args.model), args.attention, restarts=args.restarts,
                              seed=args.seed)
    return {"best_loss": res.best_loss, "optimum": res.optimum, "gap": res.gap}


def _sample(args) -> dict:
    from numerics.potts import population
    from numerics.potts import sampling
    from validation.ledger import results

    model = population.load_model(args.model)
    out_path = Path(args.out)
    if out_path.suffix != ".npz":
        raise InputError("out", str(out_path), "a file name ending in .npz")
    t0 = time.perf_counter()
    res = sampling.sample(model, args.samples, sampler=args.sampler, chains=args.chains,
                          burn_in=args.burn_in, thin=args.thin, order=args.order, seed=args.seed)
    seconds = time.perf_counter() - t0
    import numpy as np

    results.write_npz(out_path, samples=res.samples.astype(np.int64), C=np.int64(model.C),
                      beta=np.float64(model.beta), seed=np.int64(args.seed), sweeps=np.int64(res.sweeps))
    return {"samples": int(len(res.samples)), "sweeps": res.sweeps, "acceptance": res.acceptance,
            "seconds": seconds}


def _load_samples(path: str):
    import numpy as np

    p = Path(path)
    try:
        with np.load(p, allow_pickle=False) as data:
            if "samples" not in data:
                raise InputError("samples", str(p), "an .npz file with an array 'samples' (ttc potts sample)")
            S = data["samples"]
            C = int(data["C"]) if "C" in data else None
    except FileNotFoundError:
        raise InputError("samples", str(p), "an existing .npz file")
    except (ValueError, OSError) as exc:
        raise InputError("samples", str(p), f"a readable .npz file ({exc})")
    return S, C


def _fit(args) -> dict:
    import numpy as np

    from numerics.potts import inverse
    from numerics.potts import population
    from validation.ledger import results

    S, C = _load_samples(args.samples)
    true = population.load_model(args.true) if args.true else None
    if true is not None:
        C = true.C if C is None else C
        if C != true.C or np.asarray(S).shape[1:] != (true.L,):
            raise InputError("true", args.true, f"a model with L = {np.asarray(S).shape[-1]} sites and "
                                                f"C = {C} colours (matching the samples)")
    checked = inverse.check_samples(S, C)
    S, C = checked.samples, checked.C
    if args.method == "factored":
        fit = inverse.fit_factored(S, C, lam=args.lam, seed=args.seed, restarts=args.restarts)
        scores = inverse.factored_contact_map(fit.A, fit.V)
        arrays = {"A": fit.A, "V": fit.V, "b": fit.b}
        loss = fit.loss
        error = (population.factored_coupling_error(fit.A, fit.V, true.beta * true.J, true.U)
                 if true is not None else None)
    else:
        solver = inverse.fit_plm if args.method == "plm" else inverse.plm_cvxpy
        fit = solver(S, C, symmetric=args.symmetric, lam_h=args.lam, lam_J=args.lam)
        scores = inverse.frobenius_scores(fit.J)
        arrays = {"h": fit.h, "J": fit.J}
        loss = fit.loss
        error = inverse.coupling_error(fit.J, inverse.potts_couplings(true)) if true is not None else None
    out = Path(args.contact_map) if args.contact_map else Path(args.samples).with_name(
        Path(args.samples).stem + f"_{args.method}_contacts.npz")
    results.write_npz(out, contact_map=scores, **arrays)
    return {"loss": loss, "coupling_error": error, "contact_map_file": str(out)}


def _replica(args) -> dict:
    from numerics.potts import replica

    if args.scenario == "logistic":
        curve = replica.r1_curve(args.alpha, args.lam, rho=args.rho, quadrature=args.quadrature)
        return {"alpha": curve.alpha, "m": curve.m, "q": curve.q, "V": curve.V, "eps_J": curve.eps_J,
                "test_ce": curve.test_ce, "bayes_floor": replica.bayes_floor(args.rho)}
    curve = replica.r2_curve(args.alpha, args.lam, rho=args.rho, delta=args.delta)
    return {"alpha": curve.alpha, "m": curve.m, "q": curve.q, "V": curve.V, "eps_J": curve.eps_J,
            "test_mse": curve.test_mse, "bayes_floor": float(args.delta)}  # best test MSE = Delta


# ----------------------------------------------------------------------------------------------
# parser


def register(subparsers) -> None:
    """Add ``ttc potts ...`` to the ``ttc`` parser."""
    _, sub = add_topic(subparsers, "potts")

    p = add_query(sub, "exact", _exact, "exact enumeration (C^L <= 10^6): Z, log Z, conditional "
                                          "entropies, marginals")
    p.add_argument("--model", required=True, help='JSON {"J", "U", "h"?, "beta"}')

    p = add_query(sub, "represent", _represent, "population MLM loss minimised over an attention "
                                                  "variant, against the optimum")
    p.add_argument("--model", required=True)
    p.add_argument("--attention", choices=("free", "softmax", "sink"), required=True)
    p.add_argument("--restarts", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)

    p = add_query(sub, "sample", _sample, "Gibbs or Metropolis samples written to an .npz file")
    p.add_argument("--model", required=True)
    p.add_argument("--samples", type=int, required=True, help="number of sequences M")
    p.add_argument("--sampler", choices=("gibbs", "metropolis"), default="gibbs")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, help="output .npz (arrays: samples, C, beta, seed, sweeps)")
    p.add_argument("--chains", type=int, default=None, help="parallel chains (default min(M, 10^4))")
    p.add_argument("--burn-in", type=int, default=200, help="sweeps before recording")
    p.add_argument("--thin", type=int, default=5, help="sweeps between recordings")
    p.add_argument("--order", choices=("sequential", "random"), default="sequential")

    p = add_query(sub, "fit", _fit, "inverse Potts: factored (A, V), general PLM, or the cvxpy oracle")
    p.add_argument("--samples", required=True, help=".npz from `ttc potts sample`")
    p.add_argument("--method", choices=("factored", "plm", "cvxpy"), required=True)
    p.add_argument("--lam", type=number, default=1e-3, help="L2 penalty (lam_h = lam_J = lam)")
    p.add_argument("--true", default=None, help="true model JSON: report the coupling error")
    p.add_argument("--symmetric", action="store_true", help="symmetric PLM (plm, cvxpy)")
    p.add_argument("--restarts", type=int, default=1, help="random starts (factored)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--contact-map", default=None, help="output .npz (default: beside the samples)")

    p = add_query(sub, "replica", _replica, "replica curves of the library's scenarios R1 (logistic) "
                                              "and R2 (ridge)")
    p.add_argument("--scenario", choices=("logistic", "ridge"), required=True)
    p.add_argument("--alpha", type=_alpha_list, required=True, help="comma-separated, e.g. 0.5,1,2")
    p.add_argument("--lam", type=number, required=True)
    p.add_argument("--rho", type=number, default=1.0)
    p.add_argument("--delta", type=number, default=0.5, help="label noise variance (ridge)")
    p.add_argument("--quadrature", type=int, default=61, help="Gauss-Hermite nodes per axis (logistic)")

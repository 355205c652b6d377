"""``ttc potts exact|represent|sample|fit|replica``: the command line of the Potts paper.

Each handler returns a dict with exactly the keys of the command's documented output; ``--json``
prints it as one JSON object. Heavy imports happen inside the handlers so that ``ttc --help`` stays
fast.
"""

from __future__ import annotations

import time
from pathlib import Path

from numerics.potts.domains import (ALPHA, BURN_IN, CHAINS, COLOURS, DELTA, FSS_N, FSS_SEEDS,
                                    MAX_ALPHAS, PENALTY, QUADRATURE, REPLICA_LAMBDA, RESTARTS, RHO,
                                    SAMPLES, THIN)
from theory.domains import SEED
from theory.errors import InputError, NumericalFailure
from validation.cli import add_argument, add_list_argument, add_query, add_topic

#: Defaults of the options that apply to one mode only (declared with default None, so that an
#: option given in a mode it does not apply to is refused instead of silently ignored).
DEFAULTS = {"restarts_fit": 1, "seed_fit": 0, "lam": 1e-3, "delta": 0.5, "quadrature": 61,
            "C": 3}


def _refuse(args, option: str, dest: str, applies: str) -> None:
    """InputError naming ``option`` when it was given although it does not apply."""
    value = getattr(args, dest)
    if value is not None and value is not False:
        raise InputError(option, value, f"not given here: it applies only {applies}")


def _write_model_example(tmp_path) -> str:
    """A valid model file (the Ising anchor), for the fuzz table."""
    import json

    path = tmp_path / "model.json"
    path.write_text(json.dumps({"J": [[0.0, 1.0, 0.5], [1.0, 0.0, -0.3], [0.5, -0.3, 0.0]],
                                "U": [[1.0, -1.0], [-1.0, 1.0]], "beta": 1.0}))
    return str(path)


def _write_samples_example(tmp_path) -> str:
    """A valid sample file (20 sequences of the anchor's shape), for the fuzz table."""
    import numpy as np

    path = tmp_path / "samples.npz"
    rng = np.random.default_rng(0)
    np.savez(path, samples=rng.integers(0, 2, (20, 3)).astype(np.int64), C=np.int64(2))
    return str(path)


# ----------------------------------------------------------------------------------------------
# handlers


def _exact(args) -> dict:
    import math

    from numerics.potts import population

    out = population.exact_summary(population.load_model(args.model, "--model"))
    if out.Z is None or not math.isfinite(out.Z):
        raise NumericalFailure(f"Z = exp({out.log_Z:.6g}) overflows float64; use log_Z")
    return {"Z": out.Z, "log_Z": out.log_Z, "conditional_entropy": out.conditional_entropy,
            "mean_conditional_entropy": out.mean_conditional_entropy, "marginals": out.marginals}


def _represent(args) -> dict:
    from numerics.potts import population
    from numerics.potts import represent

    res = represent.represent(population.load_model(args.model, "--model"), args.attention,
                              restarts=args.restarts, seed=args.seed)
    return {"best_loss": res.best_loss, "optimum": res.optimum, "gap": res.gap}


def _sample(args) -> dict:
    from numerics.potts import population
    from numerics.potts import sampling
    from validation.ledger import results

    model = population.load_model(args.model, "--model")
    out_path = Path(args.out)
    t0 = time.perf_counter()
    res = sampling.sample(model, args.samples, sampler=args.sampler, chains=args.chains,
                          burn_in=args.burn_in, thin=args.thin, order=args.order, seed=args.seed)
    seconds = time.perf_counter() - t0
    args.chains = res.chains  # echoed: the default is min(M, 10^4)
    import numpy as np

    results.write_npz(out_path, samples=res.samples.astype(np.int64), C=np.int64(model.C),
                      beta=np.float64(model.beta), seed=np.int64(args.seed), sweeps=np.int64(res.sweeps))
    return {"samples": int(len(res.samples)), "sweeps": res.sweeps, "acceptance": res.acceptance,
            "seconds": seconds}


def _fit(args) -> dict:
    from numerics.potts import inverse
    from numerics.potts import population
    from validation.ledger import results

    from numerics.potts import sampling
    from numerics.shared.storage import check_output_file

    if args.method != "factored":
        _refuse(args, "--restarts", "restarts", "with --method factored")
        _refuse(args, "--seed", "seed", "with --method factored")
    else:
        _refuse(args, "--symmetric", "symmetric", "with --method plm or cvxpy")
    lam = args.lam = DEFAULTS["lam"] if args.lam is None else args.lam
    out = Path(args.contact_map) if args.contact_map else Path(args.samples).with_name(
        Path(args.samples).stem + f"_{args.method}_contacts.npz")
    check_output_file("--contact-map", out, (".npz",))
    data = sampling.load_samples(args.samples, "--samples")
    S, C = data.samples, data.C
    true = population.load_model(args.true, "--true") if args.true else None
    if true is not None and (C != true.C or S.shape[1] != true.L):
        raise InputError("--true", args.true, f"a model with L = {S.shape[1]} sites and "
                                              f"C = {C} colours (matching the samples)")
    if args.method == "factored":  # resolved defaults are written back: they are echoed
        args.seed = DEFAULTS["seed_fit"] if args.seed is None else args.seed
        args.restarts = DEFAULTS["restarts_fit"] if args.restarts is None else args.restarts
        fit = inverse.fit_factored(S, C, lam=lam, seed=args.seed, restarts=args.restarts)
        scores = inverse.factored_contact_map(fit.A, fit.V)
        arrays = {"A": fit.A, "V": fit.V, "b": fit.b}
        loss = fit.loss
        error = (population.factored_coupling_error(fit.A, fit.V, true.beta * true.J, true.U)
                 if true is not None else None)
    else:
        solver = inverse.fit_plm if args.method == "plm" else inverse.plm_cvxpy
        fit = solver(S, C, symmetric=args.symmetric, lam_h=lam, lam_J=lam)
        scores = inverse.frobenius_scores(fit.J)
        arrays = {"h": fit.h, "J": fit.J}
        loss = fit.loss
        error = inverse.coupling_error(fit.J, inverse.potts_couplings(true)) if true is not None else None
    results.write_npz(out, contact_map=scores, **arrays)
    args.contact_map = str(out)
    return {"loss": loss, "coupling_error": error, "contact_map_file": str(out)}


def _replica(args) -> dict:
    """Replica curves; ``parameters`` echoes ``rho``, ``lam`` and the ``delta`` (ridge),
    ``quadrature`` (logistic) or ``C`` and ``U`` (softmax) used, defaults included. Every output
    carries ``scenario_origin`` (spec Sec. 13); ``--stability`` adds ``at_lambda``, ``at_bound`` and
    ``alpha_separable`` (spec Sec. 11)."""
    from numerics.potts import replica

    if args.scenario != "softmax":
        _refuse(args, "--C", "C", "with --scenario softmax")
        _refuse(args, "--U", "U", "with --scenario softmax")
    if args.scenario == "softmax":
        return _replica_softmax(args)
    if args.scenario == "logistic":
        _refuse(args, "--delta", "delta", "with --scenario ridge")
        quadrature = args.quadrature = (DEFAULTS["quadrature"] if args.quadrature is None
                                        else args.quadrature)
        curve = replica.r1_curve(args.alpha, args.lam, rho=args.rho, quadrature=quadrature)
        out = {"alpha": curve.alpha, "m": curve.m, "q": curve.q, "V": curve.V,
               "eps_J": curve.eps_J, "test_ce": curve.test_ce,
               "bayes_floor": replica.bayes_floor(args.rho),
               "scenario_origin": replica.SCENARIO_ORIGINS["R1"]}
    else:
        _refuse(args, "--quadrature", "quadrature", "with --scenario logistic")
        delta = args.delta = DEFAULTS["delta"] if args.delta is None else args.delta
        curve = replica.r2_curve(args.alpha, args.lam, rho=args.rho, delta=delta)
        out = {"alpha": curve.alpha, "m": curve.m, "q": curve.q, "V": curve.V,
               "eps_J": curve.eps_J, "test_mse": curve.test_mse,
               "bayes_floor": float(delta),  # best test MSE = Delta
               "scenario_origin": replica.SCENARIO_ORIGINS["R2-isotropic"]}
    if args.stability:
        from numerics.potts import stability

        if args.scenario == "logistic":
            st = stability.r1_stability(args.alpha, args.lam, args.rho, args.quadrature)
            separable = stability.separability_threshold(args.rho)
        else:
            st = stability.r2_stability(args.alpha, args.lam, args.rho, args.delta)
            separable = None  # square loss: a minimiser exists at every alpha
        out.update(at_lambda=st.Lambda, at_bound=st.bound, alpha_separable=separable)
    return out


def _colour_matrix(args):
    """The softmax scenario's colour matrix from ``--C`` and ``--U`` (``identity`` or a JSON
    file); the resolved values are written back (echoed)."""
    import numpy as np

    from numerics.potts import softmax_channel

    if args.U is None or args.U == "identity":
        C = args.C = DEFAULTS["C"] if args.C is None else args.C
        args.U = "identity"
        return np.eye(C)
    U = softmax_channel.load_colour_matrix(args.U, "--U")
    if args.C is not None and args.C != U.shape[0]:
        raise InputError("--C", args.C, f"the size of the --U matrix ({U.shape[0]}), or nothing")
    args.C = U.shape[0]
    return U


def _replica_softmax(args) -> dict:
    """The softmax channel (spec Sec. 12): C colours, uniform-colour inputs, value matrix U."""
    from numerics.potts import softmax_channel

    _refuse(args, "--delta", "delta", "with --scenario ridge")
    _refuse(args, "--quadrature", "quadrature", "with --scenario logistic")
    _refuse(args, "--stability", "stability", "with --scenario logistic or ridge")
    U = _colour_matrix(args)
    curve = softmax_channel.softmax_curve(args.alpha, args.lam, rho=args.rho, U=U)
    return {"alpha": curve.alpha, "m": curve.m, "q": curve.q, "V": curve.V, "eps_J": curve.eps_J,
            "test_ce": curve.test_ce, "bayes_floor": curve.bayes_floor,
            "eps_J_error": curve.eps_J_error, "rule": curve.rule,
            "scenario_origin": curve.scenario_origin}


def _finite_size(args) -> dict:
    """Spec Sec. 10: simulations at each ``--N`` with seeds proportional to 1/N, the weighted fit
    eps(N) = eps_inf + a/N, against the replica prediction."""
    from numerics.potts import finite_size

    if args.scenario != "ridge":
        _refuse(args, "--delta", "delta", "with --scenario ridge")
    if args.scenario != "softmax":
        _refuse(args, "--C", "C", "with --scenario softmax")
        _refuse(args, "--U", "U", "with --scenario softmax")
        U = None
    else:
        U = _colour_matrix(args)
    delta = DEFAULTS["delta"] if args.delta is None else args.delta
    if args.scenario == "ridge":
        args.delta = delta  # echoed
    check = finite_size.finite_size(args.scenario, args.alpha, args.lam, args.N, args.seeds,
                                    rho=args.rho, delta=delta, U=U, seed=args.seed,
                                    observables=(args.observable,))[args.observable]
    return {"N": check.N, "seeds": check.seeds, "mean": check.mean, "se": check.se,
            "eps_inf": check.fit.value, "eps_inf_se": check.fit.se, "slope": check.fit.slope,
            "slope_se": check.fit.slope_se, "chi2": check.fit.chi2, "dof": check.fit.dof,
            "p_value": check.fit.p_value, "theory": check.theory, "z": check.z,
            "passed": check.passed, "observable": check.observable,
            "scenario_origin": check.scenario_origin}


# ----------------------------------------------------------------------------------------------
# parser


def register(subparsers) -> None:
    """Add ``ttc potts ...`` to the ``ttc`` parser. Every option is declared with its domain
    (:mod:`numerics.potts.domains`) or path kind; options that apply to one mode only default to
    None and are refused in the other modes."""
    _, sub = add_topic(subparsers, "potts")

    def model_option(p, flag="--model", required=True, help='JSON {"J", "U", "h"?, "beta"}'):
        add_argument(p, flag, path="input", example=_write_model_example, required=required,
                     default=None, help=help)

    p = add_query(sub, "exact", _exact, "exact enumeration (C^L <= 10^6): Z, log Z, conditional "
                                          "entropies, marginals")
    model_option(p)

    p = add_query(sub, "represent", _represent, "population MLM loss minimised over an attention "
                                                  "variant, against the optimum")
    model_option(p)
    p.add_argument("--attention", choices=("free", "softmax", "sink"), required=True)
    add_argument(p, "--restarts", RESTARTS, default=2, help="random starts of L-BFGS")
    add_argument(p, "--seed", SEED, default=0)

    p = add_query(sub, "sample", _sample, "Gibbs or Metropolis samples written to an .npz file")
    model_option(p)
    add_argument(p, "--samples", SAMPLES, required=True, help="number of sequences M")
    p.add_argument("--sampler", choices=("gibbs", "metropolis"), default="gibbs")
    add_argument(p, "--seed", SEED, default=0)
    add_argument(p, "--out", path="output", suffixes=(".npz",), required=True,
                 help="output .npz (arrays: samples, C, beta, seed, sweeps)")
    add_argument(p, "--chains", CHAINS, default=None, help="parallel chains (default min(M, 10^4))")
    add_argument(p, "--burn-in", BURN_IN, default=200, help="sweeps before recording")
    add_argument(p, "--thin", THIN, default=5, help="sweeps between recordings")
    p.add_argument("--order", choices=("sequential", "random"), default="sequential")

    p = add_query(sub, "fit", _fit, "inverse Potts: factored (A, V), general PLM, or the cvxpy oracle")
    add_argument(p, "--samples", path="input", example=_write_samples_example, required=True,
                 help=".npz from `ttc potts sample`")
    p.add_argument("--method", choices=("factored", "plm", "cvxpy"), required=True)
    add_argument(p, "--lam", PENALTY, default=None,
                 help=f"L2 penalty (lam_h = lam_J = lam; default {DEFAULTS['lam']})")
    model_option(p, "--true", required=False, help="true model JSON: report the coupling error")
    p.add_argument("--symmetric", action="store_true", default=None,
                   help="symmetric PLM (plm, cvxpy only)")
    add_argument(p, "--restarts", RESTARTS, default=None,
                 help=f"random starts (factored only; default {DEFAULTS['restarts_fit']})")
    add_argument(p, "--seed", SEED, default=None,
                 help=f"seed of the random starts (factored only; default {DEFAULTS['seed_fit']})")
    add_argument(p, "--contact-map", path="output", suffixes=(".npz",), default=None,
                 help="output .npz (default: beside the samples)")

    _register_compare(sub)

    p = add_query(sub, "replica", _replica, "replica curves of the library's scenarios R1 "
                                              "(logistic), R2 (ridge) and the softmax channel")
    p.add_argument("--scenario", choices=("logistic", "ridge", "softmax"), required=True)
    add_list_argument(p, "--alpha", ALPHA, MAX_ALPHAS, required=True, help="e.g. 0.5,1,2")
    add_argument(p, "--lam", REPLICA_LAMBDA, required=True, help="ridge penalty")
    add_argument(p, "--rho", RHO, default=1.0, help="teacher norm |w*|^2/N")
    add_argument(p, "--delta", DELTA, default=None,
                 help=f"label noise variance (ridge only; default {DEFAULTS['delta']})")
    add_argument(p, "--quadrature", QUADRATURE, default=None,
                 help=f"Gauss-Hermite nodes per axis (logistic only; default "
                      f"{DEFAULTS['quadrature']})")
    _softmax_options(p)
    p.add_argument("--stability", action="store_true", default=None,
                   help="add the replicon at_lambda, its bound at_bound and alpha_separable "
                        "(logistic, ridge; spec Sec. 11)")

    p = add_query(sub, "finite-size", _finite_size,
                  "a replica prediction checked by finite-size extrapolation (spec Sec. 10)")
    p.add_argument("--scenario", choices=("logistic", "ridge", "softmax"), required=True)
    add_argument(p, "--alpha", ALPHA, required=True, help="samples per parameter M/N")
    add_argument(p, "--lam", REPLICA_LAMBDA, required=True, help="ridge penalty")
    add_list_argument(p, "--N", FSS_N, 10, default=[100, 200, 400, 800],
                      help="sizes, at least three distinct (default 100,200,400,800)")
    add_argument(p, "--seeds", FSS_SEEDS, default=48,
                 help="seeds at the smallest N; S_N = max(2, round(seeds N_min/N))")
    add_argument(p, "--rho", RHO, default=1.0, help="teacher norm |w*|^2/N")
    add_argument(p, "--delta", DELTA, default=None,
                 help=f"label noise variance (ridge only; default {DEFAULTS['delta']})")
    _softmax_options(p)
    add_argument(p, "--seed", SEED, default=0)
    p.add_argument("--observable", choices=("eps_J", "test"), default="eps_J",
                   help="coupling error, or the test loss from the overlaps (CE or MSE)")


def _softmax_options(p) -> None:
    """``--C`` and ``--U`` of the softmax scenario (refused with the other scenarios)."""
    add_argument(p, "--C", COLOURS, default=None,
                 help=f"colours (softmax only; default {DEFAULTS['C']}, or the size of --U)")
    p.add_argument("--U", default=None, metavar="identity|FILE",
                   help="colour matrix (softmax only): identity (default) or a JSON file (a list "
                        "of rows, or {\"U\": rows}) whose rows sum to one constant")


# ----------------------------------------------------------------------------------------------
# ttc potts compare (spec Sec. 9): factored against standard attention, decided


def _compare(args) -> dict:
    """Factored against standard attention by spec Sec. 9's rule
    (:func:`validation.potts.experiments.compare_factored_standard`)."""
    from validation.potts import experiments

    if args.d_model % args.heads:
        raise InputError("--heads", args.heads, f"a divisor of --d-model = {args.d_model}")
    res = experiments.compare_factored_standard(
        args.L, args.C, args.beta, args.M, layers=args.layers, n_test=args.test, steps=args.steps,
        d_model=args.d_model, heads=args.heads, seed=args.seed, full_rule=args.full_rule)
    return {"M": res.M, "floor": res.floor, "marginal_entropy": res.marginal_entropy,
            "info_gain": res.info_gain, "excess": res.excess, "excess_se": res.excess_se,
            "train_loss": res.train_loss, "steps_used": res.steps_used, "checks": res.checks,
            "details": res.details, "undertrained": res.undertrained, "seconds": res.seconds}


def _register_compare(sub) -> None:
    """``ttc potts compare``: options declared with their domains (numerics.potts.domains)."""
    from numerics.potts.domains import (BETA, COMPARE_COLOURS, COMPARE_SITES, COMPARE_SIZE,
                                        COMPARE_TEST, D_MODEL, ENCODER_LAYERS, ENCODER_STEPS,
                                        HEADS, MAX_COMPARE_SIZES)

    p = add_query(sub, "compare", _compare, "factored against standard attention: excess test loss "
                                              "against M, decided by the rule of spec Sec. 9")
    add_argument(p, "--L", COMPARE_SITES, default=10, help="sites of default_model(L, C, beta, seed 0)")
    add_argument(p, "--C", COMPARE_COLOURS, default=5, help="colours")
    add_argument(p, "--beta", BETA, default=3.0, help="inverse temperature")
    add_list_argument(p, "--M", COMPARE_SIZE, MAX_COMPARE_SIZES, default=[300, 3000],
                      help="training-set sizes, e.g. 300,3000")
    add_list_argument(p, "--layers", ENCODER_LAYERS, 3, default=[1, 2, 3],
                      help="standard encoder depths (the smallest at every M, the others at the largest)")
    add_argument(p, "--test", COMPARE_TEST, default=3000, help="test sequences")
    add_argument(p, "--steps", ENCODER_STEPS, default=1000, help="most AdamW steps per encoder")
    add_argument(p, "--d-model", D_MODEL, default=32, help="encoder width")
    add_argument(p, "--heads", HEADS, default=2, help="attention heads (divide --d-model)")
    add_argument(p, "--seed", SEED, default=0)
    p.add_argument("--full-rule", action="store_true",
                   help="decide the depth check (c) too (the full profile's rule)")

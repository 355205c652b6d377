"""The ``ttc markov summary|critical|basin|landscape|train|hessian|reduce`` commands (Makkuva
et al., P1 and P2)."""

from __future__ import annotations

import argparse
import math

import numpy as np

from numerics.markov import canonical
from numerics.markov.higher_order import FINITE_SEQ_LEN, LAG, ORDER
from numerics.shared.seeding import as_generator
from numerics.shared.storage import to_jsonable
from theory.domains import PROBABILITY, SEED, integer, real
from theory.errors import InputError, NumericalFailure, check_choice
from theory.results import result
from validation.cli import add_argument, add_query, add_topic


def _chain_arguments(parser, q_required: bool = True, p_required: bool = True):
    add_argument(parser, "--p", PROBABILITY, required=p_required,
                 help="P(x_{n+1}=1 | x_n=0)" + ("" if p_required else
                                                " (required unless --chain random)"))
    add_argument(parser, "--q", PROBABILITY, required=q_required,
                 help="P(x_{n+1}=0 | x_n=1)" + ("" if q_required else
                                                " (required with --states 2, refused otherwise)"))


def summary(args) -> dict:
    """``ttc markov summary``: the chain's :class:`numerics.markov.canonical.ChainSummary`.
    ``--q`` belongs to the binary chain (``--states 2``, the default) and is refused with
    ``--states`` > 2 (the symmetric chain has one parameter); there ``regime`` is the sign of the
    second eigenvalue ``lambda = 1 - pS/(S-1)`` (``lambda>0``, ``lambda<0``, ``lambda=0``; the
    binary ``p+q<1`` is ``lambda>0``) and ``second_eigenvalue`` is added."""
    if args.chain == "random":
        return _random_chain_summary(args)
    if args.order is not None:
        raise InputError("--order", args.order, "no --order without --chain random")
    if args.p is None:
        raise InputError("--p", None, "P(x_{n+1}=1 | x_n=0) in (0, 1): required unless "
                                      "--chain random")
    if args.states == 2 and args.q is None:
        raise InputError("--q", None, "P(x_{n+1}=0 | x_n=1) in (0, 1): required with --states 2")
    if args.states > 2 and args.q is not None:
        raise InputError("--q", args.q, f"no --q with --states {args.states} (the symmetric "
                                        "S-state chain has the one parameter --p)")
    out = {"p": args.p, "q": args.q,
           **to_jsonable(canonical.chain_summary(args.p, args.q, args.states))}
    if args.states > 2:  # the symmetric chain's regime is the sign of lambda = 1 - pS/(S-1)
        lam = 1.0 - out["switching"]
        out["second_eigenvalue"] = lam
        out["regime"] = ("lambda=0" if abs(lam) <= 1e-12 else
                         "lambda>0" if lam > 0 else "lambda<0")
    return _lag_keys(args, out)


def _lag_keys(args, out: dict) -> dict:
    """``--lag K --seq-len N`` of ``ttc markov summary``: the lag-k chain's ``lag`` and
    ``optimal_loss_finite_n`` (:func:`numerics.markov.higher_order.optimal_loss_finite_n`,
    Part 2 Sec. 2); ``--lag`` defaults to 1 when only ``--seq-len`` is given."""
    if args.lag is None and args.seq_len is None:
        return out
    if args.states > 2:
        flag = "--lag" if args.lag is not None else "--seq-len"
        raise InputError(flag, args.lag if args.lag is not None else args.seq_len,
                         f"no {flag} with --states {args.states} (the lag-k chain is binary)")
    if args.seq_len is None:
        raise InputError("--seq-len", None, "the context N (>= 1) with --lag: the optimum "
                                            "L*_N depends on it")
    from numerics.markov.higher_order import optimal_loss_finite_n

    lag = 1 if args.lag is None else args.lag
    return {**out, "lag": lag, "seq_len": args.seq_len,
            "optimal_loss_finite_n": optimal_loss_finite_n(args.p, args.q, lag, args.seq_len)}


def _random_chain_summary(args) -> dict:
    """``--chain random --order K``: the expected entropy rate of the random order-k chain
    (:func:`numerics.markov.higher_order.random_order_rate`, Part 2 Sec. 2). The chain options
    ``--p``, ``--q``, ``--states``, ``--lag``, ``--seq-len`` do not apply and are refused."""
    for flag, value, default in (("--p", args.p, None), ("--q", args.q, None),
                                 ("--states", args.states, 2), ("--lag", args.lag, None),
                                 ("--seq-len", args.seq_len, None)):
        if value != default:
            raise InputError(flag, value, "no such option with --chain random (P(1 | context) "
                                          "is drawn uniformly per sequence)")
    from numerics.markov.higher_order import random_order_rate

    order = 1 if args.order is None else args.order
    rate = random_order_rate(order)
    return {"chain": "random", "order": order,
            "expected_entropy_rate": rate.expected_entropy_rate,
            "quadrature_error_estimate": rate.error_estimate}


#: Canonical parameters of ``ttc markov reduce`` (e^2 (1 + 2w|w|) stays far from overflow).
REDUCE_VALUE = real(-100, 100)
#: Context of ``ttc markov reduce``: exact enumeration of 2^(N+1) sequences.
REDUCE_SEQ_LEN = integer(1, 10, note="exact enumeration of 2^(N+1) sequences")
#: Width of ``ttc markov reduce``: a least-squares projection on 2d^2 + 5 directions among
#: about 14 d^2 coordinates.
REDUCE_WIDTH = integer(1, 32, note="the tangent projections use about 14 d^2 x 2 d^2 arrays")


def reduce(args) -> dict:
    """``ttc markov reduce``: P2's map phi(e, w, b) into the full tied model
    (:func:`validation.markov.reduction.reduction_check`, Part 2 Sec. 3): the full loss by
    enumeration against the canonical loss, and the normal fractions of the full gradient to
    phi's image and to the invariant set M'."""
    from validation.markov.reduction import reduction_check

    check = reduction_check(args.p, args.q, args.e, args.w, args.b, args.d, args.seq_len)
    out = {"p": args.p, "q": args.q, "e": args.e, "w": args.w, "b": args.b, "d": args.d,
           "seq_len": args.seq_len, **to_jsonable(check)}
    if not all(math.isfinite(v) for v in out.values() if isinstance(v, float)):
        raise NumericalFailure(f"reduce: a value is not finite at (e, w, b) = ({args.e}, "
                               f"{args.w}, {args.b})")
    return out


def critical(args) -> dict:
    """``ttc markov critical``: :class:`numerics.markov.canonical.CriticalSummary` without
    ``regime``."""
    out = to_jsonable(canonical.critical_summary(args.p, args.q))
    out.pop("regime")
    return out


def basin(args) -> dict:
    """``ttc markov basin``: :class:`numerics.markov.canonical.BasinQuery`."""
    return to_jsonable(canonical.basin_query(args.p, args.q, args.e0, args.w0, args.b0))


def landscape(args) -> dict:
    """``ttc markov landscape``: draw :func:`validation.markov.plots.plot_landscape` over
    ``--e-range`` x ``--w-range`` in the paper style (one column, or two with ``--columns 2``)
    to ``--out`` (.png, .pdf or .svg, at ``--dpi``; the PDF beside a PNG with the deprecated
    ``--pdf``; written atomically)."""
    from validation.markov.plots import plot_landscape
    from validation.shared.figure_cli import write_figure
    from validation.shared.style import style

    with style("paper", columns=args.columns):
        drawn = plot_landscape(args.p, args.q, n=args.grid, e_range=args.e_range,
                               w_range=args.w_range)
        written = write_figure(args, drawn.figure)
    return {**written, "p": args.p, "q": args.q, "regime": canonical.regime(args.p, args.q),
            "e_range": list(args.e_range), "w_range": list(args.w_range)}


#: Axis ranges ``ttc markov landscape`` accepts (a window on the plane; the loss stays finite).
LANDSCAPE_AXIS = real(-10, 10)
#: Figure width of ``ttc markov landscape`` in paper columns.
COLUMNS = integer(1, 2)


CANONICAL_INITS = ("standard", "good", "lowrank")


@result
class CanonicalTrainingRun:
    """Where gradient descent on the exact canonical loss ended (P2, Sec. 3;
    :func:`train_canonical`).

    Attributes
    ----------
    final_loss : float
        :math:`L(e, w, b)` at the end, nats.
    predicted_p_given_0, predicted_p_given_1 : float
        :math:`\\sigma(f_0)` and :math:`\\sigma(f_1)`: the predicted :math:`P(x_{n+1} = 1 \\mid
        x_n = 0, 1)`.
    end : dict
        ``{"e", "w", "b"}``: the final parameters.
    """

    final_loss: float
    predicted_p_given_0: float
    predicted_p_given_1: float
    end: dict


def train_canonical(p: float, q: float, init: str, steps: int, seed,
                    lr: float = 0.5) -> CanonicalTrainingRun:
    """Gradient descent on the exact canonical loss from a seeded initialisation (``seed``: an
    int >= 0 or a numpy Generator).

    ``standard`` (and ``lowrank``, which is what the canonical model already is): ``e, w`` drawn
    from N(0, 0.1^2), ``b = 0`` (P2's small Gaussian initialisation around the origin);
    ``good``: ``e`` from N(0, 0.1^2), ``w = -1/sqrt2 - 0.5 - |N(0, 0.1^2)|`` (the global basin,
    P2 Sec. 4).
    """
    check_choice("init", init, CANONICAL_INITS)
    canonical.DESCENT_STEPS.check("steps", steps)
    canonical.LEARNING_RATE.check("lr", lr)
    canonical.check_chain(p, q)
    if not isinstance(seed, np.random.Generator):
        SEED.check("seed", seed)
    rng = as_generator(seed)
    e0, w0 = rng.normal(0.0, 0.1, size=2)
    if init == "good":
        w0 = -canonical.SQRT_HALF - 0.5 - abs(w0)
    end = canonical.gradient_descent_ends(p, q, e0, w0, 0.0, lr=lr, steps=steps)
    e, w, b = float(end.e), float(end.w), float(end.b)
    logits = canonical.canonical_logits(e, w, b)
    f0, f1 = float(logits.f0), float(logits.f1)
    if not math.isfinite(float(end.loss)):
        raise NumericalFailure(f"the canonical loss is not finite after {steps} steps")
    return CanonicalTrainingRun(final_loss=float(end.loss),
                                predicted_p_given_0=float(1 / (1 + math.exp(-f0))),
                                predicted_p_given_1=float(1 / (1 + math.exp(-f1))),
                                end={"e": e, "w": w, "b": b})


#: Options of ``ttc markov train`` that only the full transformer has, with their defaults.
TRANSFORMER_OPTIONS = {"tying": ("--tying", True), "d": ("--d", 4), "seq_len": ("--seq-len", 64),
                       "layers": ("--layers", 1), "memory": ("--memory", None),
                       "lag": ("--lag", 1), "seeds": ("--seeds", 1),
                       "schedule": ("--schedule", "constant")}
#: Python argument -> option, for errors raised by the training checks.
TRAIN_FLAGS = {"steps": "--steps", "d": "--d", "seq_len": "--seq-len", "layers": "--layers",
               "memory": "--memory", "lag": "--lag", "seeds": "--seeds"}
#: Width of ``ttc markov hessian`` (the Jacobian is (N d)^2 and the Hessian block (2d+1)^2).
HESSIAN_WIDTH = integer(1, 32, note="the layer-stack Jacobian has (N d)^2 entries")
#: Standard deviation of the other weights in ``ttc markov hessian``.
HESSIAN_SIGMA = real(0.0, 10.0)


def train(args) -> dict:
    """``ttc markov train``: the canonical model (:func:`train_canonical`) or the full transformer
    (:func:`validation.markov.training.train_transformer`, one thread). ``--tying``, ``--d`` and
    ``--seq-len`` belong to the transformer and are refused with ``--model canonical``."""
    for dest, (flag, default) in TRANSFORMER_OPTIONS.items():
        value = getattr(args, dest)
        if args.model == "canonical" and value is not None:
            shown = ("--tying" if value else "--no-tying") if dest == "tying" else value
            raise InputError(flag, shown, "no such option with --model canonical (it belongs to "
                                          "--model transformer)")
        if value is None:
            setattr(args, dest, default)
    info = canonical.chain_summary(args.p, args.q)
    if args.model == "canonical":
        run = train_canonical(args.p, args.q, args.init, args.steps, args.seed)
    else:
        return _train_transformer(args)
    return {"final_loss": run.final_loss, "entropy_rate": info.entropy_rate,
            "unigram_entropy": info.unigram_entropy,
            "converged_to": canonical.end_state(args.p, args.q, run.final_loss),
            "predicted_p_given_0": run.predicted_p_given_0,
            "predicted_p_given_1": run.predicted_p_given_1}


def _train_transformer(args) -> dict:
    """The transformer branch of ``ttc markov train`` (Part 2 Sec. 5): ``--seeds`` seeds from
    ``--seed`` as one vectorised ensemble (:func:`validation.markov.training.ensemble_report`;
    with the defaults the very run of the single-layer trainer). Every size is checked before
    torch is imported."""
    from validation.markov.domains import check_architecture, check_training

    if args.init == "lowrank" and args.layers > 1:
        raise InputError("--init", args.init, "standard or good with --layers > 1")
    try:
        check_architecture(seq_len=args.seq_len, layers=args.layers, memory=args.memory,
                           lag=args.lag)
        # the command's limit counts every batch as if drawn up front (the single-layer
        # trainer's estimate), although the ensemble trainer draws them 100 steps at a time
        check_training(steps=args.steps, d=args.d, seq_len=args.seq_len, batch=16,
                       members=args.seeds, layers=args.layers)
        SEED.check("seed", args.seed + args.seeds - 1)
    except InputError as exc:  # name the option, not the Python argument
        flag = TRAIN_FLAGS.get(exc.name, "--seed" if exc.name == "seed" else exc.name)
        raise type(exc)(flag, exc.value, exc.expected) from None
    from validation.markov.training import ensemble_report

    return ensemble_report(args.p, args.q, tying=args.tying, init=args.init, steps=args.steps,
                           seed=args.seed, seeds=args.seeds, d=args.d, seq_len=args.seq_len,
                           layers=args.layers, memory=args.memory, lag=args.lag,
                           schedule=args.schedule)


def hessian(args) -> dict:
    """``ttc markov hessian``: the unigram point of the L-layer model and its Schur criterion
    (Part 2 D1-D2; :func:`validation.markov.depth.unigram_hessian`). Keys: ``schur_eigenvalues``,
    ``min_eigenvalue``, ``classification`` (local_min | saddle), ``grad_norm``, ``loss``."""
    from validation.markov.depth import unigram_hessian

    result = unigram_hessian(args.p, args.q, layers=args.layers, tied=args.tying, d=args.d,
                             seq_len=args.seq_len, sigma=args.sigma, seed=args.seed)
    return {"schur_eigenvalues": result.schur_eigenvalues,
            "min_eigenvalue": result.min_eigenvalue, "classification": result.classification,
            "grad_norm": result.grad_norm, "loss": result.loss}


def register(subparsers) -> None:
    """Add ``ttc markov`` and its commands to the ``ttc`` parser."""
    from validation.markov.domains import EXACT_SEQ_LEN, LAYERS, MEMBERS, MEMORY, SEQ_LEN, WIDTH
    from validation.markov.domains import LAG as TRAIN_LAG
    from validation.shared.figure_cli import add_figure_options

    _, sub = add_topic(subparsers, "markov")

    cmd = add_query(sub, "summary", summary, "stationary law, entropies, regime of the chain")
    _chain_arguments(cmd, q_required=False, p_required=False)
    add_argument(cmd, "--states", canonical.STATES, default=2,
                 help="S; S > 2 is the symmetric chain with P_ii = 1-p (then no --q)")
    add_argument(cmd, "--lag", LAG, default=None,
                 help="k of the lag-k chain x_{n+1} ~ P(. | x_{n+1-k}) (binary; needs --seq-len; "
                      "adds lag, optimal_loss_finite_n)")
    add_argument(cmd, "--seq-len", FINITE_SEQ_LEN, default=None,
                 help="context N of the finite-N optimum (lag 1 unless --lag)")
    cmd.add_argument("--chain", choices=("markov", "random"), default="markov",
                     help="random: P(1 | context) ~ U(0, 1) per sequence (then only --order)")
    add_argument(cmd, "--order", ORDER, default=None,
                 help="k of the random order-k chain (--chain random only; default 1)")

    cmd = add_query(sub, "reduce", reduce, "P2's map phi into the full model: losses and the "
                    "normal fractions of the gradient (image of phi, invariant set M')")
    _chain_arguments(cmd)
    add_argument(cmd, "--e", REDUCE_VALUE, required=True, help="canonical e")
    add_argument(cmd, "--w", REDUCE_VALUE, required=True, help="canonical w")
    add_argument(cmd, "--b", REDUCE_VALUE, required=True, help="canonical b")
    add_argument(cmd, "--d", REDUCE_WIDTH, default=4, help="width of the full model")
    add_argument(cmd, "--seq-len", REDUCE_SEQ_LEN, default=4,
                 help="N, the context (every 2^(N+1) sequence is enumerated)")

    cmd = add_query(sub, "critical", critical, "critical points of the canonical model")
    _chain_arguments(cmd)

    cmd = add_query(sub, "basin", basin, "predicted basin and joint-flow end point from (e0, w0, b0)")
    _chain_arguments(cmd)
    add_argument(cmd, "--e0", canonical.INITIAL_VALUE, required=True, help="initial e")
    add_argument(cmd, "--w0", canonical.INITIAL_VALUE, required=True, help="initial w")
    add_argument(cmd, "--b0", canonical.INITIAL_VALUE, default=0.0,
                 help=f"initial b (default 0); the flow stops with a numerical failure after "
                      f"{canonical.FLOW_MAX_STEPS} steps")

    cmd = add_query(sub, "landscape", landscape,
                    "draw the canonical landscape (profiled loss, critical set) to a figure")
    _chain_arguments(cmd)
    add_figure_options(cmd, {"--e-range": (LANDSCAPE_AXIS, (-2.0, 2.0), "range of e"),
                             "--w-range": (LANDSCAPE_AXIS, (-2.0, 1.5), "range of w")})
    add_argument(cmd, "--grid", canonical.GRID, default=400, help="grid points per axis")
    add_argument(cmd, "--columns", COLUMNS, default=1,
                 help="figure width: 1 (3.4 in) or 2 (7.0 in) paper columns")

    cmd = add_query(sub, "train", train, "train the canonical model or the full transformer")
    _chain_arguments(cmd)
    cmd.add_argument("--model", choices=("canonical", "transformer"), default="canonical")
    cmd.add_argument("--tying", action=argparse.BooleanOptionalAction, default=None,
                     help="weight tying (transformer only; default --tying)")
    cmd.add_argument("--init", choices=CANONICAL_INITS, default="standard")
    add_argument(cmd, "--steps", canonical.DESCENT_STEPS, default=2000,
                 help="gradient steps (canonical) or Adam steps (transformer, whose memory "
                      "estimate must also fit 2 GiB)")
    add_argument(cmd, "--seed", SEED, default=0)
    add_argument(cmd, "--d", WIDTH, default=None,
                 help="width of the transformer (transformer only; default 4)")
    add_argument(cmd, "--seq-len", SEQ_LEN, default=None,
                 help="N, the sequence length (transformer only; default 64)")
    add_argument(cmd, "--layers", LAYERS, default=None,
                 help="L, transformer layers (one head each; transformer only; default 1)")
    add_argument(cmd, "--memory", MEMORY, default=None,
                 help="attention window W: position n attends to max(1, n-W)..n (below "
                      "--seq-len; transformer only; default causal)")
    add_argument(cmd, "--lag", TRAIN_LAG, default=None,
                 help="k: train on the lag-k chain x_{n+1} ~ P(. | x_{n+1-k}) (at most "
                      "--seq-len; transformer only; default 1)")
    add_argument(cmd, "--seeds", MEMBERS, default=None,
                 help="number of seeds --seed, --seed+1, ... trained as one vectorised "
                      "ensemble (transformer only; default 1)")
    cmd.add_argument("--schedule", choices=("constant", "warmup_cosine"), default=None,
                     help="Adam learning rate 1e-2: constant, or linear warm-up over 10%% of the "
                          "steps then cosine decay to 0 (transformer only; default constant)")

    cmd = add_query(sub, "hessian", hessian, "unigram point of the L-layer transformer: exact "
                    "loss, gradient norm and the Schur criterion of its (e, b) Hessian block")
    _chain_arguments(cmd)
    add_argument(cmd, "--layers", LAYERS, default=2, help="L, transformer layers (default 2)")
    cmd.add_argument("--tying", action=argparse.BooleanOptionalAction, default=True,
                     help="weight tying a = e (default --tying)")
    add_argument(cmd, "--d", HESSIAN_WIDTH, default=4, help="width (default 4)")
    add_argument(cmd, "--seq-len", EXACT_SEQ_LEN, default=6,
                 help="N (every 2^(N+1) sequence is enumerated; default 6)")
    add_argument(cmd, "--sigma", HESSIAN_SIGMA, default=None,
                 help="other weights N(0, sigma^2) (default: the standard initialisation)")
    add_argument(cmd, "--seed", SEED, default=0, help="seed of the other weights")

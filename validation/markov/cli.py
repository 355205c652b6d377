"""The ``ttc markov summary|critical|basin|landscape|train`` commands (Makkuva et al., P1 and P2)."""

from __future__ import annotations

import argparse
import math

import numpy as np

from numerics.markov import canonical
from numerics.shared.seeding import as_generator
from numerics.shared.storage import to_jsonable
from theory.domains import PROBABILITY, SEED, integer, real
from theory.errors import InputError, NumericalFailure, check_choice
from theory.results import result
from validation.cli import add_argument, add_query, add_topic


def _chain_arguments(parser, q_required: bool = True):
    add_argument(parser, "--p", PROBABILITY, required=True, help="P(x_{n+1}=1 | x_n=0)")
    add_argument(parser, "--q", PROBABILITY, required=q_required,
                 help="P(x_{n+1}=0 | x_n=1)" + ("" if q_required else
                                                " (required with --states 2, refused otherwise)"))


def summary(args) -> dict:
    """``ttc markov summary``: the chain's :class:`numerics.markov.canonical.ChainSummary`.
    ``--q`` belongs to the binary chain (``--states 2``, the default) and is refused with
    ``--states`` > 2 (the symmetric chain has one parameter); there ``regime`` is the sign of the
    second eigenvalue ``lambda = 1 - pS/(S-1)`` (``lambda>0``, ``lambda<0``, ``lambda=0``; the
    binary ``p+q<1`` is ``lambda>0``) and ``second_eigenvalue`` is added."""
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
TRANSFORMER_OPTIONS = {"tying": ("--tying", True), "d": ("--d", 4), "seq_len": ("--seq-len", 64)}


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
        # checked before the (slow) torch import
        from validation.markov.domains import check_training

        try:
            check_training(steps=args.steps, d=args.d, seq_len=args.seq_len, batch=16, members=1)
        except InputError as exc:  # name the option, not the Python argument
            flag = {"steps": "--steps", "d": "--d", "seq_len": "--seq-len"}.get(exc.name, exc.name)
            raise type(exc)(flag, exc.value, exc.expected) from None
        from validation.markov.training import train_transformer

        run = train_transformer(args.p, args.q, tying=args.tying, init=args.init,
                                steps=args.steps, seed=args.seed, d=args.d,
                                seq_len=args.seq_len)
    return {"final_loss": run.final_loss, "entropy_rate": info.entropy_rate,
            "unigram_entropy": info.unigram_entropy,
            "converged_to": canonical.end_state(args.p, args.q, run.final_loss),
            "predicted_p_given_0": run.predicted_p_given_0,
            "predicted_p_given_1": run.predicted_p_given_1}


def register(subparsers) -> None:
    """Add ``ttc markov`` and its commands to the ``ttc`` parser."""
    from validation.markov.domains import SEQ_LEN, WIDTH
    from validation.shared.figure_cli import add_figure_options

    _, sub = add_topic(subparsers, "markov")

    cmd = add_query(sub, "summary", summary, "stationary law, entropies, regime of the chain")
    _chain_arguments(cmd, q_required=False)
    add_argument(cmd, "--states", canonical.STATES, default=2,
                 help="S; S > 2 is the symmetric chain with P_ii = 1-p (then no --q)")

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

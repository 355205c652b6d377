"""The ``ttc markov summary|critical|basin|landscape|train`` commands (Makkuva et al., P1 and P2)."""

from __future__ import annotations

import math

from numerics.markov import canonical
from numerics.shared.seeding import as_generator
from numerics.shared.storage import to_jsonable
from theory.errors import check_choice, check_int
from theory.results import result
from validation.cli import add_query, add_topic, number


def _chain_arguments(parser, with_q: bool = True):
    parser.add_argument("--p", type=number, required=True, help="P(x_{n+1}=1 | x_n=0), in (0, 1)")
    if with_q:
        parser.add_argument("--q", type=number, required=True, help="P(x_{n+1}=0 | x_n=1), in (0, 1)")


def summary(args) -> dict:
    """``ttc markov summary``: the chain's :class:`numerics.markov.canonical.ChainSummary`."""
    return {"p": args.p, "q": args.q,
            **to_jsonable(canonical.chain_summary(args.p, args.q, args.states))}


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
    """``ttc markov landscape``: draw the canonical landscape to ``--out``."""
    from validation.markov.plots import plot_landscape
    from validation.shared.plots import axes, save

    ax = plot_landscape(args.p, args.q, ax=axes(figsize=(7, 5.5)), n=args.grid)
    path = save(ax.figure, args.out, pdf=args.pdf)
    return {"figure": str(path), "p": args.p, "q": args.q, "regime": canonical.regime(args.p, args.q)}


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
    check_int("steps", steps, 0)
    canonical.check_chain(p, q)
    rng = as_generator(seed)
    e0, w0 = rng.normal(0.0, 0.1, size=2)
    if init == "good":
        w0 = -canonical.SQRT_HALF - 0.5 - abs(w0)
    end = canonical.gradient_descent_ends(p, q, e0, w0, 0.0, lr=lr, steps=steps)
    e, w, b = float(end.e), float(end.w), float(end.b)
    logits = canonical.canonical_logits(e, w, b)
    f0, f1 = float(logits.f0), float(logits.f1)
    return CanonicalTrainingRun(final_loss=float(end.loss),
                                predicted_p_given_0=float(1 / (1 + math.exp(-f0))),
                                predicted_p_given_1=float(1 / (1 + math.exp(-f1))),
                                end={"e": e, "w": w, "b": b})


def train(args) -> dict:
    """``ttc markov train``: the canonical model (:func:`train_canonical`) or the full transformer
    (:func:`validation.markov.training.train_transformer`, one thread)."""
    info = canonical.chain_summary(args.p, args.q)
    check_int("steps", args.steps, 0)
    if args.model == "canonical":
        run = train_canonical(args.p, args.q, args.init, args.steps, args.seed)
    else:
        check_int("d", args.d, 1)  # checked before the (slow) torch import
        check_int("seq_len", args.seq_len, 1)
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
    _, sub = add_topic(subparsers, "markov")

    cmd = add_query(sub, "summary", summary, "stationary law, entropies, regime of the chain")
    _chain_arguments(cmd)
    cmd.add_argument("--states", type=int, default=2,
                     help="S >= 2; S > 2 is the symmetric chain with P_ii = 1-p (q unused)")

    cmd = add_query(sub, "critical", critical, "critical points of the canonical model")
    _chain_arguments(cmd)

    cmd = add_query(sub, "basin", basin, "predicted basin and joint-flow end point from (e0, w0, b0)")
    _chain_arguments(cmd)
    cmd.add_argument("--e0", type=number, required=True)
    cmd.add_argument("--w0", type=number, required=True)
    cmd.add_argument("--b0", type=number, default=0.0)

    cmd = add_query(sub, "landscape", landscape, "draw the canonical landscape to a PNG")
    _chain_arguments(cmd)
    cmd.add_argument("--out", required=True, help="FILE.png")
    cmd.add_argument("--grid", type=int, default=400, help="grid points per axis")
    cmd.add_argument("--pdf", action="store_true", help="also write FILE.pdf")

    cmd = add_query(sub, "train", train, "train the canonical model or the full transformer")
    _chain_arguments(cmd)
    cmd.add_argument("--model", choices=("canonical", "transformer"), default="canonical")
    cmd.add_argument("--tying", action=__import__("argparse").BooleanOptionalAction, default=True)
    cmd.add_argument("--init", choices=CANONICAL_INITS, default="standard")
    cmd.add_argument("--steps", type=int, default=2000)
    cmd.add_argument("--seed", type=int, default=0)
    cmd.add_argument("--d", type=int, default=4, help="width of the transformer")
    cmd.add_argument("--seq-len", type=int, default=64, help="N, the sequence length")

"""The ``ttc bayesnet`` commands: ``mle``, ``construct``, ``sample``, ``train``.

The library's command-line interface for Cao et al. 2025 (arXiv 2501.02547)."""

from __future__ import annotations

from numerics.bayesnet import networks
from numerics.bayesnet import mle
from numerics.shared.threads import limit_threads
from theory.errors import InputError, check_int
from validation.cli import add_query, add_topic, number


def parse_query(text: str, structure: networks.Structure) -> dict[int, int]:
    """``"A=1,B=0"`` -> ``{index: state}``; unknown names and out-of-range states are refused."""
    out = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, value = item.partition("=")
        if not sep:
            raise InputError("query", item, "NAME=VALUE pairs separated by commas")
        m = structure.index(name.strip())
        try:
            state = int(value)
        except ValueError:
            raise InputError(f"query value of {name.strip()}", value, "an integer state")
        if not 0 <= state < structure.cards[m]:
            raise InputError(f"query state of {name.strip()}", state, f"an integer in 0..{structure.cards[m] - 1}")
        out[m] = state
    return out


def _mle(args) -> dict:
    """``ttc bayesnet mle``: the in-context MLE of one conditional from a context file."""
    network = networks.load_network(args.network)
    s = network.structure
    context = networks.load_context(args.context, s)
    m0 = s.index(args.target)
    given = parse_query(args.query or "", s)
    missing = [s.names[q] for q in s.parents[m0] if q not in given]
    if missing:
        raise InputError("query", args.query, f"values for every parent of {args.target}: {', '.join(missing)}")
    query = [given.get(m, 0) for m in range(s.M)]
    estimate = mle.in_context_mle(s, context, query, m0, on_empty=args.on_empty, prior=args.prior,
                                  ess=args.ess)
    return {"probs": [None if p != p else float(p) for p in estimate.probs], "count": int(estimate.count),
            "parents": [s.names[q] for q in s.parents[m0]]}


def construct(args) -> dict:
    """``ttc bayesnet construct``: :func:`numerics.bayesnet.construction.construction_report`
    with the numpy or the torch backend (one torch thread)."""
    from numerics.bayesnet.construction import construction_report

    check_int("n", args.n, 1, 100_000)
    network = networks.load_network(args.network) if args.network else networks.family_network(args.graph, args.seed)
    if args.backend == "torch":
        from validation.bayesnet.models import ConstructedTransformer as factory
    else:
        from numerics.bayesnet.construction import NumpyConstruction as factory
    with limit_threads(1):
        report = construction_report(network, args.n, args.beta, args.seed, factory=factory)
    return {"max_tv_vs_mle": report.max_tv_vs_mle, "bound": report.bound,
            "generation_max_abs_error": report.generation_max_abs_error}


def sample(args) -> dict:
    """``ttc bayesnet sample``: ancestral samples of a network file to a CSV file."""
    network = networks.load_network(args.network)
    check_int("n", args.n, 0, 10_000_000)
    samples = networks.sample(network, args.n, args.seed)
    networks.save_samples(network.structure, samples, args.out)
    return {"out": args.out, "n": args.n, "variables": list(network.structure.names)}


def train(args) -> dict:
    """``ttc bayesnet train``: the four TV curves of
    :func:`validation.bayesnet.training.train_and_evaluate` (which runs on one torch thread)."""
    from validation.bayesnet.training import CURVES, train_and_evaluate

    report = train_and_evaluate(args.graph, layers=args.layers, steps=args.steps, seed=args.seed,
                                heads=args.heads, width=args.width, episodes=args.episodes)
    return {k: getattr(report.curves, k) for k in CURVES}


def register(subparsers) -> None:
    """Add ``ttc bayesnet`` and its commands to the top-level ``subparsers``."""
    _, sub = add_topic(subparsers, "bayesnet")

    p = add_query(sub, "mle", _mle, "in-context MLE of one conditional from a context file")
    p.add_argument("--network", required=True, help="network JSON file")
    p.add_argument("--context", required=True, help="CSV of samples with a header of variable names")
    p.add_argument("--target", required=True, help="target variable name")
    p.add_argument("--query", default="", help="parent values NAME=VAL,...")
    p.add_argument("--on-empty", dest="on_empty", choices=mle.ON_EMPTY, default="nan")
    p.add_argument("--prior", choices=mle.PRIORS, default="none")
    p.add_argument("--ess", type=number, default=1.0, help="BDeu equivalent sample size")

    p = add_query(sub, "construct", construct, "two-layer construction against the MLE and the plug-in network")
    p.add_argument("--graph", choices=("chain", "tree", "general5"), default="general5")
    p.add_argument("--network", help="network JSON file (instead of a random network of --graph)")
    p.add_argument("--n", type=int, required=True, help="context length N")
    p.add_argument("--beta", type=number, required=True, help="score scale beta")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--backend", choices=("numpy", "torch"), default="numpy",
                   help="run the same weights in numpy (default, no torch import) or torch")

    p = add_query(sub, "sample", sample, "ancestral samples of a network to a CSV file")
    p.add_argument("--network", required=True)
    p.add_argument("--n", type=int, required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, help="CSV file to write")

    p = add_query(sub, "train", train, "train a small transformer and compare it with the MLE (slow: minutes)")
    p.add_argument("--graph", choices=("chain", "tree", "general5"), required=True)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--heads", type=int, default=None, help="default 1 for one layer, else 2")
    p.add_argument("--width", type=int, default=32)
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--episodes", type=int, default=64, help="held-out episodes per context length")
    p.add_argument("--seed", type=int, default=0)

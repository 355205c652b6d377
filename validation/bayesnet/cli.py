"""The ``ttc bayesnet`` commands: ``mle``, ``construct``, ``sample``, ``train``.

The library's command-line interface for Cao et al. 2025 (arXiv 2501.02547). Every option is
declared with its domain (:func:`validation.cli.add_argument`): the same declarations that the
Python API checks (:data:`numerics.bayesnet.domains.CONTEXT_LENGTH`,
:data:`numerics.bayesnet.domains.BETA`, :data:`numerics.bayesnet.networks.SAMPLES`,
:data:`validation.bayesnet.training.STEPS`...). An option that does not apply to the chosen
mode (``construct --graph`` with ``--network``, ``mle --ess`` without ``--prior bdeu``,
``mle --on-empty`` with a prior) is an error naming the option.
"""

from __future__ import annotations

import json
import re

from numerics.bayesnet import networks
from numerics.bayesnet import mle
from numerics.bayesnet.domains import BETA, CONTEXT_LENGTH
from numerics.shared.threads import limit_threads
from theory.domains import SEED
from theory.errors import InputError
from validation.bayesnet.domains import EPISODES, HEADS, LAYERS, MAX_LENGTH, STEPS, WIDTH
from validation.cli import add_argument, add_list_argument, add_query, add_topic

GRAPHS = ("chain", "tree", "general5")
#: The named families of spec Part 2 Sec. 7 that ``train --graph`` also takes.
TRAIN_FAMILIES = tuple(name for name in networks.NAMED_FAMILIES if name != "general5")

#: The example network and context of the fuzz table (the library's anchor: A -> C <- B).
_EXAMPLE_NETWORK = {"variables": [
    {"name": "A", "card": 2, "parents": [], "cpt": [[0.5, 0.5]]},
    {"name": "B", "card": 2, "parents": [], "cpt": [[0.5, 0.5]]},
    {"name": "C", "card": 2, "parents": ["A", "B"],
     "cpt": [[0.9, 0.1], [0.2, 0.8], [0.3, 0.7], [0.5, 0.5]]}]}
_EXAMPLE_CONTEXT = "A,B,C\n0,0,0\n0,1,1\n1,0,1\n1,0,0\n0,1,1\n1,0,1\n"


def _example_network(tmp_path) -> str:
    path = tmp_path / "example-network.json"
    path.write_text(json.dumps(_EXAMPLE_NETWORK))
    return str(path)


def _example_context(tmp_path) -> str:
    path = tmp_path / "example-context.csv"
    path.write_text(_EXAMPLE_CONTEXT)
    return str(path)


class _NameDomain:
    """A variable name (:func:`numerics.bayesnet.networks.check_name`), declared like a
    :class:`theory.domains.Domain` (``parse``, ``check``, ``describe``, ``example_text``,
    ``bad_texts``) so that :func:`validation.cli.add_argument` and the fuzz table use it."""

    kind = "name"

    def check(self, name: str, value) -> str:
        try:
            return networks.check_name(value)
        except InputError:
            raise InputError(name, value, self.describe()) from None

    def parse(self, name: str, text: str) -> str:
        return self.check(name, text)

    def describe(self) -> str:
        return "a variable name (no commas, quotes, '=', control characters or surrounding spaces)"

    def example_text(self) -> str:
        return "A"

    def bad_texts(self) -> list[str]:
        return ["", " C", "A,B", 'A"', "A=1", "A\nB", "no-such-variable"]


_QUERY_ITEM = re.compile(r"^\s*([^,=\s][^,=]*?)\s*=\s*(\d{1,18})\s*$")


class _QueryDomain:
    """``NAME=STATE,...`` (states in decimal digits); names and ranges are checked against the
    network by :func:`parse_query`."""

    kind = "query"

    def check(self, name: str, value) -> str:
        if not isinstance(value, str) or len(value) > 100_000:
            raise InputError(name, value if isinstance(value, str) and len(value) < 60 else
                             type(value).__name__, self.describe())
        for item in filter(None, (part.strip() for part in value.split(","))):
            if not _QUERY_ITEM.match(item):
                raise InputError(name, item, self.describe())
        return value

    def parse(self, name: str, text: str) -> str:
        return self.check(name, text)

    def describe(self) -> str:
        return "NAME=STATE pairs separated by commas, e.g. A=1,B=0"

    def example_text(self) -> str:
        return "A=1,B=0"

    def bad_texts(self) -> list[str]:
        return ["A", "A=", "=1", "A=x", "A=1.5", "A=-1", "A=1e400", "A=nan", "A=1;B=0",
                "A=99999999999999999999", "Q=1,A=0,B=0", "A=1,B=2"]


NAME = _NameDomain()
QUERY = _QueryDomain()


def parse_query(text: str, structure: networks.Structure) -> dict[int, int]:
    """``"A=1,B=0"`` -> ``{index: state}``; unknown names and out-of-range states are refused."""
    QUERY.check("query", text)
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
    prior = args.prior
    if args.ess is not None and prior != "bdeu":
        raise InputError("--ess", args.ess, "no value unless --prior bdeu (the equivalent sample "
                                            "size of the BDeu prior)")
    if args.on_empty is not None and prior != "none":
        raise InputError("--on-empty", args.on_empty, f"no value with --prior {prior} (a prior "
                                                      "defines every row)")
    network = networks.load_network(args.network)
    s = network.structure
    context = networks.load_context(args.context, s)
    m0 = s.index(args.target)
    given = parse_query(args.query or "", s)
    missing = [s.names[q] for q in s.parents[m0] if q not in given]
    if missing:
        raise InputError("query", args.query, f"values for every parent of {args.target}: {', '.join(missing)}")
    query = [given.get(m, 0) for m in range(s.M)]
    if prior == "none":  # the defaults used are written back: they are echoed
        args.on_empty = args.on_empty or "nan"
    if prior == "bdeu":
        args.ess = 1.0 if args.ess is None else args.ess
    estimate = mle.in_context_mle(s, context, query, m0, on_empty=args.on_empty or "nan",
                                  prior=prior, ess=1.0 if args.ess is None else args.ess)
    return {"probs": [None if p != p else float(p) for p in estimate.probs], "count": int(estimate.count),
            "parents": [s.names[q] for q in s.parents[m0]]}


def construct(args) -> dict:
    """``ttc bayesnet construct``: :func:`numerics.bayesnet.construction.construction_report`
    with the numpy or the torch backend (one torch thread)."""
    from numerics.bayesnet.construction import check_construction_size, construction_report

    if args.network and args.graph is not None:
        raise InputError("--graph", args.graph, "no value with --network (the network file "
                                                "gives the graph)")
    if not args.network:
        args.graph = args.graph or "general5"  # echoed: the default family
    network = (networks.load_network(args.network) if args.network
               else networks.family_network(args.graph, args.seed))
    check_construction_size(network.structure, args.n)
    if args.backend == "torch":
        from validation.bayesnet.models import ConstructedTransformer as factory
    else:
        from numerics.bayesnet.construction import NumpyConstruction as factory
    with limit_threads(1):
        report = construction_report(network, args.n, args.beta, args.seed, factory=factory)
    return {"max_tv_vs_mle": report.max_tv_vs_mle, "bound": report.bound,
            "generation_max_abs_error": report.generation_max_abs_error}


def sample(args) -> dict:
    """``ttc bayesnet sample``: ancestral samples of a network file to a CSV file (written
    atomically)."""
    network = networks.load_network(args.network)
    networks.check_sample_size(network.structure, args.n)
    samples = networks.sample(network, args.n, args.seed)
    networks.save_samples(network.structure, samples, args.out)
    return {"out": args.out, "n": args.n, "variables": list(network.structure.names)}


class _ParentsDomain:
    """Parent lists ``"P0;P1;..."``: one entry per variable (separated by ``;``), each a
    comma-separated list of earlier variable indices, empty for a root (``";;0,1;0,2;3"`` is
    general5). Parsed into a validated :class:`numerics.bayesnet.networks.Structure` of binary
    variables: a cycle or an index out of range is an error naming the option."""

    kind = "parents"

    def check(self, name: str, value) -> str:
        self.structure(name, value)
        return value

    def structure(self, name: str, value) -> networks.Structure:
        """The validated binary structure of the text ``value``."""
        if not isinstance(value, str) or len(value) > 10_000:
            raise InputError(name, value if isinstance(value, str) and len(value) < 60 else
                             type(value).__name__, self.describe())
        entries = value.split(";")
        networks.FAMILY_SIZE.check(f"{name} (number of variables)", len(entries))
        parents = []
        for m, entry in enumerate(entries):
            items = [t.strip() for t in entry.split(",")] if entry.strip() else []
            if not all(re.fullmatch(r"\d{1,3}", t) for t in items):
                raise InputError(f"{name} of X{m}", entry, "comma-separated variable indices (digits)")
            bad = [int(t) for t in items if int(t) >= len(entries)]
            if bad:
                raise InputError(f"{name} of X{m}", bad[0], f"a variable index in 0..{len(entries) - 1}")
            parents.append(tuple(int(t) for t in items))
        try:
            return networks.Structure(tuple(f"X{m}" for m in range(len(entries))), (2,) * len(entries),
                                      tuple(parents))
        except InputError as exc:
            raise InputError(name, exc.value, exc.expected) from None

    def parse(self, name: str, text: str):
        return self.check(name, text)

    def describe(self) -> str:
        return ("parent lists 'P0;P1;...': per variable the comma-separated indices of earlier "
                "variables, empty for a root (e.g. ';;0,1;0,2;3')")

    def example_text(self) -> str:
        return ";0;0,1"

    def bad_texts(self) -> list[str]:
        return ["1;0", "0", ";5", ";-1", ";a", ";;2", ";0.5", ";" * 70]


class _MixtureDomain:
    """``M,p``: the random-DAG prior :math:`R(M, p)` of spec Part 2 Sec. 8 (M variables in
    1..64, edge probability p in [0, 1])."""

    kind = "mixture"

    def check(self, name: str, value):
        if isinstance(value, tuple):
            return value
        if not isinstance(value, str) or len(value) > 100:
            raise InputError(name, value if isinstance(value, str) and len(value) < 60 else
                             type(value).__name__, self.describe())
        parts = value.split(",")
        if len(parts) != 2:
            raise InputError(name, value, self.describe())
        M = networks.FAMILY_SIZE.parse(f"{name} M", parts[0].strip())
        p = networks.EDGE_PROB.parse(f"{name} p", parts[1].strip())
        return (M, p)

    def parse(self, name: str, text: str):
        return self.check(name, text)

    def describe(self) -> str:
        return "M,p: M variables (1..64) and an edge probability p in [0, 1], e.g. 5,0.5"

    def example_text(self) -> str:
        return "5,0.5"

    def bad_texts(self) -> list[str]:
        return ["5", "5,", "5,1.5", "5,-0.1", "0,0.5", "65,0.5", "a,b", "5,nan", "5,0.5,1"]


PARENTS = _ParentsDomain()
MIXTURE = _MixtureDomain()
#: Most evaluation lengths of ``train --eval-n``.
MOST_EVAL_LENGTHS = 16


def train(args) -> dict:
    """``ttc bayesnet train``: the four TV curves of
    :func:`validation.bayesnet.training.train_and_evaluate` (which runs on one torch thread),
    the floor and accuracy curves (``tv_floor``, ``acc_sample``, ``acc_exp``) and, with
    ``--probe``, ``attention_probe`` (spec Part 2 Sec. 13)."""
    heads = args.heads = args.heads if args.heads is not None else (1 if args.layers == 1 else 2)
    if args.width % heads:   # checked before torch is imported
        raise InputError("--heads", heads, f"a divisor of --width {args.width}")
    given = [flag for flag, v in (("--graph", args.graph), ("--parents", args.parents),
                                  ("--mixture", args.mixture)) if v is not None]
    if not given:
        raise InputError("--graph", None, "a graph family (or --parents, or --mixture)")
    if len(given) > 1:
        raise InputError(given[1], getattr(args, given[1][2:]) if given[1] != "--parents" else "...",
                         f"no value with {given[0]} (exactly one of --graph, --parents, --mixture)")
    from validation.bayesnet.training import CURVES, LENGTHS, train_and_evaluate

    lengths = tuple(args.eval_n) if args.eval_n else LENGTHS
    report = train_and_evaluate(args.graph, layers=args.layers, steps=args.steps, seed=args.seed,
                                heads=args.heads, width=args.width, episodes=args.episodes,
                                lengths=lengths, n_train=args.n_train, target=args.target,
                                probe=args.probe, mixture=args.mixture,
                                parents=None if args.parents is None else
                                PARENTS.structure("--parents", args.parents).parents)
    out = {k: getattr(report.curves, k) for k in CURVES}
    out.update(report.extras)
    if args.probe:
        out["attention_probe"] = report.probe
    return out


def register(subparsers) -> None:
    """Add ``ttc bayesnet`` and its commands to the top-level ``subparsers``."""
    _, sub = add_topic(subparsers, "bayesnet")
    _register_part2_baselines(sub)

    p = add_query(sub, "mle", _mle, "in-context MLE of one conditional from a context file")
    add_argument(p, "--network", path="input", example=_example_network, required=True,
                 help="network JSON file")
    add_argument(p, "--context", path="input", example=_example_context, required=True,
                 help="CSV of samples with a header of variable names")
    add_argument(p, "--target", NAME, required=True, help="target variable name")
    add_argument(p, "--query", QUERY, default="", help="parent values NAME=VAL,...")
    p.add_argument("--on-empty", dest="on_empty", choices=mle.ON_EMPTY, default=None,
                   help="convention when no context row matches the parents (default nan; "
                        "only with --prior none)")
    p.add_argument("--prior", choices=mle.PRIORS, default="none")
    add_argument(p, "--ess", mle.ESS, default=None,
                 help="BDeu equivalent sample size (only with --prior bdeu; default 1)")

    p = add_query(sub, "construct", construct, "two-layer construction against the MLE and the plug-in network")
    p.add_argument("--graph", choices=GRAPHS, default=None,
                   help="random network of this family (default general5; not with --network)")
    add_argument(p, "--network", path="input", example=_example_network,
                 help="network JSON file (instead of a random network of --graph)")
    add_argument(p, "--n", CONTEXT_LENGTH, required=True, help="context length N")
    add_argument(p, "--beta", BETA, required=True, help="score scale beta")
    add_argument(p, "--seed", SEED, default=0)
    p.add_argument("--backend", choices=("numpy", "torch"), default="numpy",
                   help="run the same weights in numpy (default, no torch import) or torch")

    p = add_query(sub, "sample", sample, "ancestral samples of a network to a CSV file")
    add_argument(p, "--network", path="input", example=_example_network, required=True,
                 help="network JSON file")
    add_argument(p, "--n", networks.SAMPLES, required=True,
                 help=f"number of samples (at most {networks.MAX_SAMPLE_CELLS} samples x variables)")
    add_argument(p, "--seed", SEED, default=0)
    add_argument(p, "--out", path="output", required=True, help="CSV file to write")

    p = add_query(sub, "train", train, "train a small transformer and compare it with the MLE (slow: minutes)")
    p.add_argument("--graph", choices=GRAPHS + TRAIN_FAMILIES, default=None,
                   help="graph family (or --parents, or --mixture)")
    add_argument(p, "--parents", PARENTS, default=None,
                 help="explicit binary graph: parent indices per variable, ';'-separated (e.g. ';;0,1;0,2;3')")
    add_argument(p, "--mixture", MIXTURE, default=None,
                 help="train and evaluate on random DAGs R(M, p) (spec Part 2 Sec. 8): M,p")
    add_argument(p, "--n-train", MAX_LENGTH, default=None, dest="n_train",
                 help="fixed training context length (default: log-uniform in 1..200)")
    add_list_argument(p, "--eval-n", MAX_LENGTH, MOST_EVAL_LENGTHS, dest="eval_n", default=None,
                      help="evaluation context lengths (default 1,2,5,10,20,50,100,200)")
    p.add_argument("--probe", action="store_true",
                   help="add the attention probe of the last layer at N = 50 (spec Part 2 Sec. 10)")
    p.add_argument("--target", choices=("mle", "sample"), default="mle",
                   help="training target: the in-context MLE (default) or the sampled x_q")
    add_argument(p, "--layers", LAYERS, default=2)
    add_argument(p, "--heads", HEADS, default=None, help="default 1 for one layer, else 2; must divide --width")
    add_argument(p, "--width", WIDTH, default=32)
    add_argument(p, "--steps", STEPS, default=1000)
    add_argument(p, "--episodes", EPISODES, default=64, help="held-out episodes per context length")
    add_argument(p, "--seed", SEED, default=0)


# ----------------------------------------------------------------------------------------------
# Spec Part 2 (Secs. 8, 11, 12): example networks, the Bayes posterior, the in-context baselines

#: Examples of ``ttc bayesnet example`` (:data:`numerics.bayesnet.real.EXAMPLES`).
EXAMPLES = ("asia", "sachs")
#: Graphs of ``ttc bayesnet baselines``: the standard families and the named ones of Sec. 7.
BASELINE_GRAPHS = tuple(dict.fromkeys(GRAPHS + tuple(networks.NAMED_FAMILIES)))
#: Work of ``baselines``: episodes x sum over N of (N + 1) x variables, about 10 s at the cap.
BASELINE_WORK = 2e7


def example(args) -> dict:
    """``ttc bayesnet example``: write a published network as a network JSON file (asia from the
    package data, sachs from the pgmpy wheel; :func:`numerics.bayesnet.real.example_network`)."""
    from numerics.bayesnet import real

    network = real.example_network(args.name)
    networks.save_network(network, args.out)
    s = network.structure
    return {"out": args.out, "variables": list(s.names),
            "edges": sum(len(ps) for ps in s.parents)}


def bayes_posterior(args) -> dict:
    """``ttc bayesnet bayes``: the truncated-Beta posterior mean and median of one binary
    conditional under CPT entries U(0.1, 0.9) (:mod:`numerics.bayesnet.bayes`), from the ``k`` of
    ``n`` context rows that match the query on the target's parents."""
    from numerics.bayesnet import bayes

    network = networks.load_network(args.network)
    s = network.structure
    context = networks.load_context(args.context, s)
    m0 = s.index(args.target)
    if s.cards[m0] != 2:
        raise InputError("--target", args.target, "a binary variable (the U(0.1, 0.9) posterior of "
                                                  "spec Part 2 Sec. 11)")
    given = parse_query(args.query or "", s)
    missing = [s.names[q] for q in s.parents[m0] if q not in given]
    if missing:
        raise InputError("query", args.query, f"values for every parent of {args.target}: {', '.join(missing)}")
    bayes.COUNT.check("context rows", len(context))
    query = [given.get(m, 0) for m in range(s.M)]
    estimate = mle.in_context_mle(s, context, query, m0, on_empty="uniform")
    n = int(estimate.count)
    k = int(round(float(estimate.probs[1]) * n))
    mean = float(bayes.truncated_beta_mean(k, n))
    median = float(bayes.truncated_beta_median(k, n))
    return {"mean": [1 - mean, mean], "median": [1 - median, median]}


def baselines(args) -> dict:
    """``ttc bayesnet baselines``: mean TV to the true conditional of the in-context baselines
    on random U(0.1, 0.9) CPTs of a family, per context length
    (:func:`numerics.bayesnet.mixture.baseline_curves`)."""
    from theory.budgets import check_work

    structure = (networks.named_family(args.graph) if args.graph in networks.NAMED_FAMILIES
                 else networks.family_structure(args.graph))
    check_work("--episodes", args.episodes, args.episodes * sum(n + 1 for n in args.n) * structure.M,
               "episodes x sum(N+1) x variables", budget=BASELINE_WORK)
    from numerics.bayesnet.mixture import baseline_curves

    with limit_threads(1):
        curves = baseline_curves(args.n, args.episodes, args.seed, structure=structure)
    return {"tv_mle": curves.tv_mle, "tv_floor": curves.tv_floor, "tv_bayes_mean": curves.tv_bayes_mean,
            "tv_naive": curves.tv_naive, "acc_exp": curves.acc_exp}


def _register_part2_baselines(sub) -> None:
    """``example``, ``bayes`` and ``baselines`` (spec Part 2 Sec. 13)."""
    from numerics.bayesnet.domains import BASELINE_EPISODES, BASELINE_LENGTH

    p = add_query(sub, "example", example, "write a published network (asia, sachs) as a network JSON file")
    p.add_argument("--name", choices=EXAMPLES, required=True,
                   help="asia (textbook CPTs, shipped) or sachs (read from the pgmpy wheel)")
    add_argument(p, "--out", path="output", required=True, help="network JSON file to write")

    p = add_query(sub, "bayes", bayes_posterior,
                  "Bayes posterior mean and median of one binary conditional (CPT entries U(0.1, 0.9))")
    add_argument(p, "--network", path="input", example=_example_network, required=True,
                 help="network JSON file")
    add_argument(p, "--context", path="input", example=_example_context, required=True,
                 help="CSV of samples with a header of variable names")
    add_argument(p, "--target", NAME, required=True, help="target variable name (binary)")
    add_argument(p, "--query", QUERY, default="", help="parent values NAME=VAL,...")

    p = add_query(sub, "baselines", baselines,
                  "TV of the in-context MLE, Bayes floor and mean, naive; expected accuracy (by N)")
    p.add_argument("--graph", choices=BASELINE_GRAPHS, required=True)
    add_list_argument(p, "--n", BASELINE_LENGTH, 16, required=True, help="context lengths N")
    add_argument(p, "--episodes", BASELINE_EPISODES, default=1000, help="episodes per context length")
    add_argument(p, "--seed", SEED, default=0)

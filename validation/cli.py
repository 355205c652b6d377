"""The ``ttc`` command line: ``ttc reproduce`` and one sub-command per paper.

Each paper adds its commands in ``validation/<topic>/cli.py`` (listed in the paper registry,
:data:`validation.papers.TOPICS`) through a ``register(subparsers)`` function. A query command's handler returns a dict; with ``--json`` exactly that dict is printed
as one JSON object, otherwise one ``key: value`` line per entry.

Errors: bad input prints one line ``error: ...`` on standard error and exits 2 (argparse's usage
errors too); a numerical failure prints ``error: numerical failure: ...`` and exits 1. No traceback
for either.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from fractions import Fraction
from typing import Callable

from theory.errors import InputError, NumericalFailure, TTCError
from validation.ledger.claims import PROFILES
from validation.ledger.results import dumps
from validation.papers import TOPIC_KEYS, TOPICS


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2, no usage dump
        print(f"error: {self.prog}: {message}", file=sys.stderr)
        raise SystemExit(2)


def number(text: str) -> float:
    """argparse type: a real number written as ``0.3``, ``3e-1`` or ``3/10``."""
    try:
        return float(Fraction(text.strip()))
    except (ValueError, ZeroDivisionError):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number (use e.g. 0.3 or 3/10)")


def fraction(text: str) -> Fraction:
    """argparse type: an exact rational written as ``3/10``, ``0.3`` or ``1``."""
    try:
        return Fraction(text.strip())
    except (ValueError, ZeroDivisionError):
        raise argparse.ArgumentTypeError(f"{text!r} is not a rational number (use e.g. 3/10)")


def add_query(subparsers, name: str, handler: Callable[[argparse.Namespace], dict], help: str):
    """Add a query command whose ``handler(args)`` returns the dict printed (``--json``: as JSON)."""
    parser = subparsers.add_parser(name, help=help, description=help)
    parser.add_argument("--json", action="store_true", help="print exactly one JSON object")
    parser.set_defaults(handler=handler)
    return parser


def add_topic(subparsers, key: str):
    """``ttc KEY``: the topic's parser (help and description from the paper registry) and the
    sub-parsers object its commands are added to."""
    topic = TOPICS[key]
    cited = "; ".join(f"{p.label}, \"{p.title}\", arXiv {p.arxiv}" if p.arxiv else p.label
                      for p in topic.paper_list)
    parser = subparsers.add_parser(key, help=f"{topic.title[0].lower()}{topic.title[1:]} "
                                   f"({topic.paper_list[0].label})",
                                   description=f"{topic.title}. Papers: {cited}.")
    return parser, parser.add_subparsers(dest=f"{key}_command", required=True,
                                         parser_class=type(parser))


def _print_result(result: dict, as_json: bool) -> None:
    if as_json:
        print(dumps(result, indent=None))
        return
    for key, value in json.loads(dumps(result)).items():
        print(f"{key}: {json.dumps(value) if isinstance(value, (list, dict)) else value}")


def _reproduce(args) -> int:
    from validation.ledger.reproduce import reproduce

    run = reproduce(args.out, profile=args.profile, topics=args.only or TOPIC_KEYS,
                    seed=args.seed, claim_ids=args.claim, jobs=args.jobs, executor=args.executor,
                    overwrite=args.overwrite)
    print(f"{len(run.records) - len(run.unexpected)} of {len(run.records)} claims as expected; "
          f"report: {args.out}/index.html")
    for r in run.unexpected:
        print(f"  {r['id']}: {r['verdict']} (expected {r['expected']}): {r['note'][:200]}")
    return 0 if run.all_as_expected else 1


def _check(args) -> dict:
    """``ttc check``: the search's summary; without NAME, the registered checks."""
    from validation.ledger.checks import (box_for, default_store, get_check, load_checks, parse_param,
                                   run_check)

    if args.name is None:
        return {name: {"statement": c.statement, "parameters": c.parameters,
                       "paper": c.citation, "reference": c.reference}
                for name, c in sorted(load_checks().items())}
    if args.seed < 0:
        raise InputError("--seed", args.seed, "an integer >= 0")
    params = [parse_param(text) for text in args.param]

    check = get_check(args.name)
    box = box_for(check, params)
    store = args.out or default_store(args.name, box, args.seed, args.budget)
    result = run_check(args.name, params, seed=args.seed, budget=args.budget,
                       executor=args.executor, store=store)
    return {"name": check.name, "statement": check.statement, **result.to_json(),
            "store": store}


def build_parser(topics=TOPIC_KEYS) -> argparse.ArgumentParser:
    """The ``ttc`` parser with the commands of ``topics`` (their CLI modules are imported)."""
    parser = _Parser(prog="ttc", description="Transformer theory companion.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    rep = sub.add_parser("reproduce", help="run every claim and write the HTML report")
    rep.add_argument("--profile", choices=PROFILES, default="quick")
    rep.add_argument("--out", default="reproduce-out", help="output folder (resumes if it exists)")
    rep.add_argument("--only", nargs="+", choices=TOPIC_KEYS, metavar="TOPIC",
                     help=f"only these papers: {', '.join(TOPIC_KEYS)}")
    rep.add_argument("--claim", nargs="+", metavar="ID", help="only these claim ids")
    rep.add_argument("--overwrite", action="store_true",
                     help="replace a run with another profile or seed in --out (refused otherwise)")
    rep.add_argument("--seed", type=int, default=0)
    rep.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                     help="claims run at once, each in its own process (default: up to 2)")
    rep.add_argument("--executor", metavar="EXECUTOR",
                     help="where claims run: local:N, serial or dask://HOST:PORT "
                          "(default: local:JOBS); Dask workers must see --out")
    rep.set_defaults(run=_reproduce)
    chk = sub.add_parser("check", help="search a named conjecture for a counterexample",
                         description="Search a named conjecture's parameter box for a "
                                     "counterexample (grid, random, Hypothesis, local "
                                     "optimisation, shrinking). Without NAME: list the checks.")
    chk.add_argument("name", nargs="?", metavar="NAME", help="e.g. markov.unigram_local_min")
    chk.add_argument("--param", action="append", default=[], metavar="RANGE",
                     help="NAME=LOW:HIGH (or NAME=VALUE) to change the box; repeatable")
    chk.add_argument("--seed", type=int, default=0)
    chk.add_argument("--budget", choices=("quick", "full"), default="quick")
    chk.add_argument("--executor", metavar="EXECUTOR", default="local",
                     help="local (default), local:N, serial or dask://HOST:PORT")
    chk.add_argument("--out", help="folder for finished points (default check-out/NAME-HASH); "
                                   "a rerun resumes from it")
    chk.add_argument("--json", action="store_true", help="print exactly one JSON object")
    chk.set_defaults(handler=_check)
    for topic in topics:
        importlib.import_module(TOPICS[topic].cli_module).register(sub)
    return parser


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    # import only the paper the command names: each paper's imports cost start-up time
    topics = TOPIC_KEYS
    if argv and (argv[0] in TOPICS or argv[0] in ("reproduce", "check")):
        topics = [argv[0]] if argv[0] in TOPICS else []
    args = build_parser(topics).parse_args(argv)
    try:
        if hasattr(args, "run"):
            return args.run(args)
        _print_result(args.handler(args), args.json)
        return 0
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except NumericalFailure as exc:
        print(f"error: numerical failure: {exc}", file=sys.stderr)
        return 1
    except TTCError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

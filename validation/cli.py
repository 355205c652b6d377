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
import re
import warnings
from fractions import Fraction
from typing import Callable

from numerics.shared.storage import (check_input_file, check_output_file, check_output_folder,
                                     non_finite_path)
from theory.domains import FINITE, SEED, Domain, integer, rational
from theory.errors import InputError, NumericalFailure, TTCError
from validation.ledger.claims import PROFILES
from validation.ledger.results import dumps, to_jsonable
from validation.papers import TOPIC_KEYS, TOPICS


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2, no usage dump
        print(f"error: {self.prog}: {message}", file=sys.stderr)
        raise SystemExit(2)


class DomainType:
    """argparse ``type`` that reads an option's text through its declared
    :class:`theory.domains.Domain` (strict parsing, then the domain check); the fuzz table of the
    tests reads ``domain`` to generate bad values."""

    def __init__(self, flag: str, domain: Domain):
        self.flag, self.domain = flag, domain
        self.__name__ = domain.kind  # argparse names the type in some messages

    def __call__(self, text: str):
        try:
            return self.domain.parse(self.flag, text)
        except InputError as exc:
            raise argparse.ArgumentTypeError(f"{text!r}: expected {exc.expected}") from None


class PathType:
    """argparse ``type`` for a file path: ``kind="output"`` (a file to write, validated by
    :func:`numerics.shared.storage.check_output_file`, optionally with ``suffixes``),
    ``"folder"`` (:func:`~numerics.shared.storage.check_output_folder`) or ``"input"`` (an
    existing readable file, :func:`~numerics.shared.storage.check_input_file`)."""

    def __init__(self, flag: str, kind: str, suffixes: tuple[str, ...] = (), example=None):
        self.flag, self.kind, self.suffixes = flag, kind, tuple(suffixes)
        self.example = example  # for the fuzz table: tmp_path -> a valid input file's path
        self.__name__ = f"{kind} path"

    def __call__(self, text: str):
        check = {"output": lambda: check_output_file(self.flag, text, self.suffixes),
                 "folder": lambda: check_output_folder(self.flag, text),
                 "input": lambda: check_input_file(self.flag, text)}[self.kind]
        try:
            check()
        except InputError as exc:
            raise argparse.ArgumentTypeError(f"{text!r}: expected {exc.expected}") from None
        return text


class ExecutorType:
    """argparse ``type`` for ``--executor``: validated by
    :func:`numerics.shared.executor.parse_executor` (``serial``, ``local``, ``local:N``,
    ``dask://HOST:PORT``, ``dask://tcp://...``, ``dask://tls://...`` with a TLS configuration);
    the text is kept, the check happens before anything runs."""

    __name__ = "executor"

    def __call__(self, text: str) -> str:
        from numerics.shared.executor import parse_executor

        try:
            parse_executor(text)
        except InputError as exc:
            raise argparse.ArgumentTypeError(f"{text!r}: expected {exc.expected}") from None
        return text


def add_argument(parser, flag: str, domain: Domain | None = None, *, path: str | None = None,
                 suffixes: tuple[str, ...] = (), example=None, help: str = "", **kwargs):
    """Add ``flag`` to ``parser`` with its declared domain (or path kind): the one way commands
    declare their parameters. The help text ends with what is expected; ``kwargs`` go to
    :meth:`argparse.ArgumentParser.add_argument` (``required``, ``default``, ``dest``...).
    ``example`` (input paths only): a function ``tmp_path -> path`` writing a valid file, used
    by the fuzz table of the tests to build a valid command line."""
    if (domain is None) == (path is None):
        raise ValueError(f"{flag}: give exactly one of domain or path")
    if domain is not None:
        kind = DomainType(flag, domain)
        expected = domain.describe()
    else:
        kind = PathType(flag, path, suffixes, example)
        expected = {"output": "a file to write" + (f" ({', '.join(suffixes)})" if suffixes else ""),
                    "folder": "a folder to write into", "input": "an existing file"}[path]
    text = f"{help}; {expected}" if help else expected
    return parser.add_argument(flag, type=kind, help=text, **kwargs)


class ListType(DomainType):
    """argparse ``type`` for a comma-separated list (``0.5,1,2``) whose every item is read
    strictly through ``domain``: 1 to ``most`` items, none empty. The fuzz table reads ``domain``
    as for a single value."""

    def __init__(self, flag: str, domain: Domain, most: int):
        super().__init__(flag, domain)
        self.most = int(most)
        self.__name__ = f"list of {domain.kind}"

    def __call__(self, text: str):
        parts = text.split(",")
        if not text.strip() or len(parts) > self.most or any(not p.strip() for p in parts):
            raise argparse.ArgumentTypeError(
                f"{text[:60]!r}: expected a comma-separated list of 1 to {self.most} values, each "
                f"{self.domain.describe()} (e.g. 0.5,1,2)")
        return [DomainType.__call__(self, p.strip()) for p in parts]


def add_list_argument(parser, flag: str, domain: Domain, most: int, help: str = "", **kwargs):
    """:func:`add_argument` for a comma-separated list of 1 to ``most`` values of ``domain``."""
    action = add_argument(parser, flag, domain, help=f"{help}; comma-separated (at most {most}), "
                          "each" if help else f"comma-separated (at most {most}), each", **kwargs)
    action.type = ListType(flag, domain, most)
    return action


def number(text: str) -> float:
    """argparse type: a finite real number written as ``0.3``, ``3e-1`` or ``3/10`` (strict:
    :data:`theory.domains.FINITE`)."""
    return DomainType("value", FINITE)(text)


def fraction(text: str) -> Fraction:
    """argparse type: an exact rational written as ``3/10``, ``0.3`` or ``1`` (strict)."""
    return DomainType("value", rational())(text)


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


def build_parser(topics=TOPIC_KEYS) -> argparse.ArgumentParser:
    """The ``ttc`` parser with the commands of ``topics`` (their CLI modules are imported)."""
    parser = _Parser(prog="ttc", description="Transformer theory companion.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    rep = sub.add_parser("reproduce", help="run every claim and write the HTML report")
    rep.add_argument("--profile", choices=PROFILES, default="quick")
    add_argument(rep, "--out", path="folder", default="reproduce-out",
                 help="output folder (resumes if it exists)")
    rep.add_argument("--only", nargs="+", action="extend", choices=TOPIC_KEYS, metavar="TOPIC",
                     help=f"only these papers: {', '.join(TOPIC_KEYS)}")
    rep.add_argument("--claim", nargs="+", action="extend", metavar="ID",
                     help="only these claim ids (repeatable: --claim A --claim B runs both)")
    rep.add_argument("--overwrite", action="store_true",
                     help="replace a run with another profile or seed in --out (refused otherwise)")
    add_argument(rep, "--seed", SEED, default=0)
    add_argument(rep, "--jobs", integer(1, 256), default=min(2, os.cpu_count() or 1),
                 help="claims run at once, each in its own process (default: up to 2; at most "
                      "the number of cores are started)")
    rep.add_argument("--executor", metavar="EXECUTOR", type=ExecutorType(),
                     help="where claims run: local:N, serial or dask://HOST:PORT "
                          "(default: local:JOBS); Dask workers must see --out")
    rep.set_defaults(run=_reproduce)
    importlib.import_module("validation.ledger.checks").register_command(sub)  # ttc check
    for topic in topics:
        importlib.import_module(TOPICS[topic].cli_module).register(sub)
    return parser


_NEGATIVE_VALUE = re.compile(r"^-(\d|\.\d)")


def _attach_negative_values(argv: list[str]) -> list[str]:
    """``--w0 -1/2`` -> ``--w0=-1/2``: argparse would read a negative value that is not a plain
    integer or decimal (``-1/2``, ``-1e-3``) as an option."""
    out: list[str] = []
    for token in argv:
        if (out and _NEGATIVE_VALUE.match(token) and out[-1].startswith("--")
                and "=" not in out[-1]):
            out[-1] = f"{out[-1]}={token}"
        else:
            out.append(token)
    return out


def _fold(message: str, caught: list) -> str:
    """One error line: the message, then the warnings raised on the way (first three)."""
    caught = [w for w in caught if not issubclass(w.category, (DeprecationWarning,
                                                                 PendingDeprecationWarning))]
    if not caught:
        return message
    texts = list(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught))
    return f"{message} (after {len(caught)} warning(s): {'; '.join(texts[:3])})"


def _run(args) -> int:
    if hasattr(args, "run"):
        return args.run(args)
    result = to_jsonable(args.handler(args))
    bad = non_finite_path(result)
    if bad:
        raise NumericalFailure(f"the result is not finite at {bad!r}")
    _print_result(result, args.json)
    return 0


def main(argv=None) -> int:
    """``ttc``: parse, run, print. Exit 0 on success, 2 on bad input (one ``error:`` line), 1 on
    a numerical failure (one ``error: numerical failure:`` line, warnings folded into it); never
    a traceback (set ``TTC_DEBUG=1`` to see one for an internal error)."""
    argv = _attach_negative_values(sys.argv[1:] if argv is None else list(argv))
    # import only the paper the command names: each paper's imports cost start-up time
    topics = TOPIC_KEYS
    if argv and (argv[0] in TOPICS or argv[0] in ("reproduce", "check")):
        topics = [argv[0]] if argv[0] in TOPICS else []
    try:
        args = build_parser(topics).parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) or a usage error, already printed (2)
        return exc.code if isinstance(exc.code, int) else 2
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            code = _run(args)
        except InputError as exc:
            print(f"error: {_fold(str(exc), caught)}", file=sys.stderr)
            return 2
        except NumericalFailure as exc:
            print(f"error: numerical failure: {_fold(str(exc), caught)}", file=sys.stderr)
            return 1
        except TTCError as exc:
            print(f"error: {_fold(str(exc), caught)}", file=sys.stderr)
            return 2
        except MemoryError:
            print("error: out of memory (the command needs more memory than this machine has; "
                  "use smaller sizes)", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("error: interrupted", file=sys.stderr)
            return 130
        except Exception as exc:  # a bug: one line, the traceback only on request
            if os.environ.get("TTC_DEBUG"):
                raise
            print(f"error: internal error: {type(exc).__name__}: {exc} (set TTC_DEBUG=1 for the "
                  "traceback and please report it)", file=sys.stderr)
            return 1
    numeric = [w for w in caught if issubclass(w.category, RuntimeWarning)]
    if numeric and code == 0:
        print(f"warning: {_fold('the result was computed with numerical warnings', numeric)}",
              file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())

"""The ``ttc`` command line: ``ttc reproduce`` and one sub-command per paper.

Each paper adds its commands in ``validation/<topic>/cli.py`` (listed in the paper registry,
:data:`validation.papers.TOPICS`) through a ``register(subparsers)`` function. A query command's handler returns a dict; with ``--json`` exactly that dict is printed
as one JSON object, otherwise one ``key: value`` line per entry.

Errors: bad input prints one line ``error: ...`` on standard error and exits 2 (argparse's usage
errors too); a numerical failure prints ``error: numerical failure: ...`` and exits 1. No traceback
for either.

**Parameters echoed.** Every query command's output has a ``parameters`` object: the value of every
option the command used (option name without ``--``, ``-`` as ``_``; defaults included, options that
do not apply to the chosen mode left out; exact rationals as strings such as ``"1/3"``).

**Sweeps.** A query command that only prints (no output file option) accepts, for exactly one of
its numeric options, a sweep instead of a value: ``LOW:HIGH`` for an integer option (every
integer, inclusive), ``LOW:HIGH:COUNT`` for a real or rational option (``COUNT`` evenly spaced
points, ends included) or a comma list ``a,b,c`` (any numeric option). Every point is checked
against the option's domain when the command line is read (an error names the option and the bad
element); at most :data:`MAX_SWEEP` points; two swept options are an error (exit 2). The command
runs once per point in one process and prints one JSON object ``{"parameter": "--n", "values":
[...], "sweep": [{"n": 3, ...}, ...]}`` (each point: the swept value and the command's usual
output), or a table without ``--json``; ``--csv FILE`` writes one row per point (scalar entries,
nested keys joined by ``.``). A progress bar is shown on standard error when it is a terminal.
Options that take a comma list themselves (``--alpha``, ``--x``), names, paths and choices do not
sweep; seeds do. A point that fails stops the sweep with the usual one-line error naming the point.
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
from theory.domains import FINITE, SEED, Domain, integer, parse_rational, rational
from theory.errors import InputError, NumericalFailure, TooLargeError, TTCError
from validation.ledger.claims import PROFILES
from validation.ledger.results import dumps, to_jsonable
from validation.papers import TOPIC_KEYS, TOPICS


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2, no usage dump
        print(f"error: {self.prog}: {message}", file=sys.stderr)
        raise SystemExit(2)


#: Most points of one sweep (``--n 1:20000`` is refused when the command line is read).
MAX_SWEEP = 10_000
#: Domain kinds whose options accept a sweep.
SWEEP_KINDS = ("int", "real", "rational")
_SWEEP_COUNT = integer(2, MAX_SWEEP)


class Sweep(tuple):
    """The values of the one swept option of a command line (``--n 3:20``, ``--p 0.1,0.2``):
    a tuple of checked values with the option's ``flag`` and the ``text`` given."""

    def __new__(cls, flag: str, text: str, values):
        self = super().__new__(cls, values)
        self.flag, self.text = flag, text
        return self


class DomainType:
    """argparse ``type`` that reads an option's text through its declared
    :class:`theory.domains.Domain` (strict parsing, then the domain check); the fuzz table of the
    tests reads ``domain`` to generate bad values.

    On a command that sweeps (``parser.ttc_sweeps``, set by :func:`add_query` and cleared by an
    output path option) a numeric option also reads a sweep (module docstring) and returns a
    :class:`Sweep`."""

    def __init__(self, flag: str, domain: Domain, parser=None):
        self.flag, self.domain, self.parser = flag, domain, parser
        self.__name__ = domain.kind  # argparse names the type in some messages

    @property
    def sweeps(self) -> bool:
        """Whether this option reads a sweep (checked when the command line is read)."""
        return self.domain.kind in SWEEP_KINDS and bool(getattr(self.parser, "ttc_sweeps", False))

    def __call__(self, text: str):
        if isinstance(text, str) and ("," in text or ":" in text) and self.sweeps:
            return self._sweep(text)
        try:
            return self.domain.parse(self.flag, text)
        except InputError as exc:
            hint = (" (a single value: this command does not sweep)"
                    if isinstance(text, str) and ("," in text or ":" in text)
                    and self.domain.kind in SWEEP_KINDS else "")
            raise argparse.ArgumentTypeError(f"{text!r}: expected {exc.expected}{hint}") from None

    def _element(self, text: str, part: str, what: str = "element"):
        try:
            return self.domain.parse(self.flag, part)
        except InputError as exc:
            raise argparse.ArgumentTypeError(f"{text[:60]!r}: {what} {part[:60]!r}: expected "
                                             f"{exc.expected}") from None

    def _refuse(self, text: str, expected: str):
        raise argparse.ArgumentTypeError(f"{text[:60]!r}: expected {expected}")

    def _sweep(self, text: str) -> Sweep:
        forms = ("LOW:HIGH (every integer) or a,b,c" if self.domain.kind == "int"
                 else "LOW:HIGH:COUNT (COUNT evenly spaced points) or a,b,c")
        too_many = f"a sweep of at most {MAX_SWEEP} points"
        if "," in text and ":" in text:
            self._refuse(text, f"one value or one sweep: {forms}")
        if "," in text:
            parts = text.split(",")
            if len(parts) > MAX_SWEEP:
                self._refuse(text, f"{too_many} (this list has {len(parts)})")
            return Sweep(self.flag, text, [self._element(text, p.strip()) for p in parts])
        parts = text.split(":")
        if len(parts) != (2 if self.domain.kind == "int" else 3):
            self._refuse(text, f"a sweep {forms}")
        low, high = (self._element(text, p.strip(), what) for p, what in zip(parts, ("LOW", "HIGH")))
        if not low < high:
            self._refuse(text, f"a sweep {forms} with LOW < HIGH")
        if self.domain.kind == "int":
            if high - low + 1 > MAX_SWEEP:
                self._refuse(text, f"{too_many} (this range has {high - low + 1})")
            return Sweep(self.flag, text, range(low, high + 1))
        try:
            count = _SWEEP_COUNT.parse("COUNT", parts[2].strip())
        except InputError as exc:
            self._refuse(text, f"COUNT {exc.expected}")
        start, stop = parse_rational(self.flag, parts[0]), parse_rational(self.flag, parts[1])
        exact = [start + (stop - start) * k / (count - 1) for k in range(count)]
        values = [v if self.domain.kind == "rational" else float(v) for v in exact]
        for v in values:  # rounding at an open end: every point is checked
            try:
                self.domain.check(self.flag, v)
            except InputError as exc:
                self._refuse(text, f"points {exc.expected} (the point {v} is not)")
        return Sweep(self.flag, text, values)


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
        kind = DomainType(flag, domain, parser)
        expected = domain.describe()
    else:
        if path in ("output", "folder"):  # a command that writes files runs one point only
            parser.ttc_sweeps = False
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
        super().__init__(flag, domain)  # no parser: a list option never sweeps
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


def leaf_commands(parser) -> list:
    """``[(argv prefix, parser)]`` of every leaf command below ``parser`` (e.g.
    ``(["markov", "summary"], ...)``): what the tests' fuzz table and echo check walk."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        return [([], parser)]
    return [([name] + prefix, leaf) for name, child in subs[0].choices.items()
            for prefix, leaf in leaf_commands(child)]


def example_text(action, folder):
    """A valid command-line value of a declared option (``folder``: a ``pathlib.Path`` where
    example files are written), or None when there is none (an input path without an example,
    a flag): the domain's example, a path below ``folder``, or the first choice."""
    kind = action.type
    if isinstance(kind, DomainType):
        return kind.domain.example_text()
    if isinstance(kind, PathType):
        if kind.example is not None:
            return kind.example(folder)
        if kind.kind == "output":
            return str(folder / f"out{kind.suffixes[0] if kind.suffixes else '.json'}")
        return str(folder / "folder") if kind.kind == "folder" else None
    if action.choices:
        return str(list(action.choices)[0])
    return None


def number(text: str) -> float:
    """argparse type: a finite real number written as ``0.3``, ``3e-1`` or ``3/10`` (strict:
    :data:`theory.domains.FINITE`)."""
    return DomainType("value", FINITE)(text)


def fraction(text: str) -> Fraction:
    """argparse type: an exact rational written as ``3/10``, ``0.3`` or ``1`` (strict)."""
    return DomainType("value", rational())(text)


SWEEP_HELP = (f"Sweeps: give one numeric option LOW:HIGH (integers), LOW:HIGH:COUNT (reals) or "
              f"a,b,c (at most {MAX_SWEEP} points) to run the command once per point and print "
              "one JSON object with a 'sweep' list (--csv FILE: one row per point).")


def add_query(subparsers, name: str, handler: Callable[[argparse.Namespace], dict], help: str):
    """Add a query command whose ``handler(args)`` returns the dict printed (``--json``: as JSON),
    with ``--json`` and ``--csv FILE``; its numeric options sweep unless it declares an output
    path (module docstring). The output gets a ``parameters`` object echoing every option used."""
    parser = subparsers.add_parser(name, help=help, description=help)
    parser.add_argument("--json", action="store_true", help="print exactly one JSON object")
    add_argument(parser, "--csv", path="output", suffixes=(".csv",), default=None,
                 help="also write the result as CSV, one row per sweep point (written atomically)")
    parser.ttc_sweeps = True
    parser.set_defaults(handler=handler, ttc_parser=parser)
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

    if args.jobs is not None and args.executor is not None:
        raise InputError("--jobs", args.jobs, "no value with --executor (the executor says where "
                                              "and on how many workers claims run: local:N)")
    jobs = min(2, os.cpu_count() or 1) if args.jobs is None else args.jobs
    run = reproduce(args.out, profile=args.profile, topics=args.only or TOPIC_KEYS,
                    seed=args.seed, claim_ids=args.claim, jobs=jobs, executor=args.executor,
                    overwrite=args.overwrite)
    print(f"{len(run.records) - len(run.unexpected)} of {len(run.records)} claims as expected; "
          f"report: {args.out}/index.html")
    for r in run.unexpected:
        print(f"  {r['id']}: {r['verdict']} (expected {r['expected']}): {r['note'][:200]}")
    return 0 if run.all_as_expected else 1


def build_parser(topics=TOPIC_KEYS, listing: bool = False) -> argparse.ArgumentParser:
    """The ``ttc`` parser with the commands of ``topics`` (their CLI modules are imported); with
    ``listing``, the other papers appear by name only (``ttc --help`` imports no paper's code)."""
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
    add_argument(rep, "--jobs", integer(1, 256), default=None,
                 help="claims run at once, each in its own process (default: up to 2; at most "
                      "the number of cores are started; not with --executor)")
    rep.add_argument("--executor", metavar="EXECUTOR", type=ExecutorType(),
                     help="where claims run: local:N, serial or dask://HOST:PORT "
                          "(default: local:JOBS); Dask workers must see --out")
    rep.set_defaults(run=_reproduce)
    importlib.import_module("validation.ledger.checks").register_command(sub)  # ttc check
    for topic in TOPIC_KEYS:
        if topic in topics:
            importlib.import_module(TOPICS[topic].cli_module).register(sub)
        elif listing:
            add_topic(sub, topic)
    _add_sweep_help(parser)
    return parser


def _add_sweep_help(parser) -> None:
    """The sweep syntax as the epilog of every command that sweeps."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                if getattr(child, "ttc_sweeps", False):
                    child.epilog = SWEEP_HELP
                _add_sweep_help(child)


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


#: Namespace entries that are not parameters of the command.
_NOT_PARAMETERS = {"help", "json", "csv", "handler", "ttc_parser", "run"}


def _plain(value):
    """An echoed parameter as JSON: exact rationals as ``"1/3"`` (integers as ints)."""
    if isinstance(value, Fraction):
        return int(value) if value.denominator == 1 else str(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return to_jsonable(value)


def parameters_used(args) -> dict:
    """The options of the command ``args`` ran (``{dest: value}``, declaration order; None values,
    meaning "does not apply here", left out). Handlers write resolved defaults back into ``args``
    so that the echo shows the values used."""
    parser = getattr(args, "ttc_parser", None)
    if parser is None:
        return {}
    dests = [a.dest for a in parser._actions if a.option_strings]
    return {d: _plain(getattr(args, d)) for d in dict.fromkeys(dests)
            if d not in _NOT_PARAMETERS and getattr(args, d, None) is not None}


def _one_point(args) -> dict:
    result = to_jsonable(args.handler(args))
    if not isinstance(result, dict):
        raise TypeError(f"the handler returned {type(result).__name__}, not a dict")
    if hasattr(args, "ttc_parser"):  # a query command (add_query): echo its parameters
        result.setdefault("parameters", parameters_used(args))
    bad = non_finite_path(result)
    if bad:
        raise NumericalFailure(f"the result is not finite at {bad!r}")
    return result


def _swept(args):
    """``(dest, Sweep)`` of the swept option, or None; two swept options are an InputError."""
    sweeps = [(dest, value) for dest, value in vars(args).items() if isinstance(value, Sweep)]
    if len(sweeps) > 1:
        raise InputError(sweeps[1][1].flag, sweeps[1][1].text,
                         f"a single value: only one option sweeps per call (already "
                         f"{sweeps[0][1].flag} {sweeps[0][1].text})")
    return sweeps[0] if sweeps else None


def _run_sweep(args, dest: str, sweep: Sweep) -> dict:
    """Run the handler once per point of ``sweep`` (in this process); one dict per point."""
    import copy

    bar = None
    if sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(total=len(sweep), unit="point", file=sys.stderr, desc=sweep.flag)
    points = []
    try:
        for value in sweep:
            point = copy.copy(args)  # handlers write resolved defaults into their namespace
            setattr(point, dest, value)
            where = f" (at sweep point {sweep.flag}={_plain(value)})"
            try:
                result = _one_point(point)
            except TooLargeError as exc:
                raise TooLargeError(exc.name, exc.value, exc.expected + where) from None
            except InputError as exc:
                raise InputError(exc.name, exc.value, exc.expected + where) from None
            except NumericalFailure as exc:
                raise NumericalFailure(f"{exc}{where}") from None
            points.append({dest: _plain(value), **result})
            if bar is not None:
                bar.update()
    finally:
        if bar is not None:
            bar.close()
    return {"parameter": sweep.flag, "values": [_plain(v) for v in sweep], "sweep": points}


def _flatten(value: dict, prefix: str = "") -> dict:
    """Scalar entries of a nested dict, keys joined by ``.``; lists are left out."""
    out = {}
    for key, item in value.items():
        if isinstance(item, dict):
            out.update(_flatten(item, f"{prefix}{key}."))
        elif item is None or isinstance(item, (bool, int, float, str)):
            out[f"{prefix}{key}"] = item
    return out


def _cell(value) -> str:
    """A CSV cell; strings that a spreadsheet would read as a formula (``= + - @``, tab, CR)
    get a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, str):
        return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
    return repr(value) if isinstance(value, float) else str(value)


def _rows(output: dict) -> list[dict]:
    return [_flatten(p) for p in output["sweep"]] if "sweep" in output else [_flatten(output)]


def write_csv(path, output: dict) -> None:
    """``output`` (one result or a sweep) as CSV at ``path``, one row per point, written
    atomically (:func:`numerics.shared.storage.atomic_write_text`)."""
    import csv
    import io

    from numerics.shared.storage import atomic_write_text

    rows = _rows(output)
    columns = list(dict.fromkeys(k for row in rows for k in row))
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow([_cell(c) for c in columns])
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    atomic_write_text(path, text.getvalue())


def _print_table(output: dict) -> None:
    """A sweep without ``--json``: one line per point, the scalar entries as columns (the echoed
    parameters left out)."""
    rows = [{k: v for k, v in row.items() if not k.startswith("parameters.")}
            for row in _rows(output)]
    columns = list(dict.fromkeys(k for row in rows for k in row))
    cells = [[("" if row.get(c) is None else f"{row[c]:.6g}" if isinstance(row[c], float)
               else str(row[c])) for c in columns] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    print("  ".join(c.rjust(w) for c, w in zip(columns, widths)))
    for r in cells:
        print("  ".join(c.rjust(w) for c, w in zip(r, widths)))


def _run(args) -> int:
    if hasattr(args, "run"):  # reproduce: its options never sweep (no ttc_sweeps)
        return args.run(args)
    swept = _swept(args)
    output = _one_point(args) if swept is None else _run_sweep(args, *swept)
    if getattr(args, "csv", None):
        write_csv(args.csv, output)
    if swept is not None and not args.json:
        _print_table(output)
    else:
        _print_result(output, args.json)
    return 0


def main(argv=None) -> int:
    """``ttc``: parse, run, print. Exit 0 on success, 2 on bad input (one ``error:`` line), 1 on
    a numerical failure (one ``error: numerical failure:`` line, warnings folded into it); never
    a traceback (set ``TTC_DEBUG=1`` to see one for an internal error)."""
    argv = _attach_negative_values(sys.argv[1:] if argv is None else list(argv))
    # import only the paper the command names: each paper's imports cost start-up time
    topics = [argv[0]] if argv and argv[0] in TOPICS else []
    try:
        args = build_parser(topics, listing=True).parse_args(argv)
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

"""Named conjectures: margins registered under a name, searched by ``ttc check NAME``.

A paper's module ``validation/<topic>/checks.py`` (listed in the paper registry,
:data:`validation.papers.TOPICS`, ``check_modules``) registers its conjectures; ``paper`` is a
key of :data:`validation.papers.PAPERS`::

    @named_check("markov.unigram_local_min", paper="markov-p1", reference="...",
                 statement="The unigram point is a local minimum exactly when p > (S-1)/S",
                 parameters={"S": (2, 5, "int"), "p": (0.02, 0.98)},
                 domains={"S": integer(2, 100), "p": PROBABILITY})
    def unigram_local_min_margin(point: dict) -> float:
        ...  # >= 0 where the statement holds, < 0 at a counterexample

``parameters`` is the default box; ``domains`` (:mod:`theory.domains`, with open or closed
ends) is where each parameter may go at all. The command line narrows or moves the box with
``--param NAME=LOW:HIGH`` (or ``NAME=VALUE`` to fix a parameter), never by evaluating strings;
both ends must lie in the domain (``p=0:1`` for p in (0, 1) is refused).
:func:`run_check` runs :func:`numerics.shared.conjecture.search_counterexample` on it.

A check module must stay cheap to import (``ttc check`` lists the checks by importing them):
import heavy modules (torch, models) inside the margin function, not at the top.

``ttc check`` itself (its options and handler) is :func:`register_command`.
"""

from __future__ import annotations

import hashlib
import importlib
import json
from dataclasses import dataclass, field
from typing import Callable

from numerics.shared.conjecture import Budget, ConjectureResult, parameter_box, search_counterexample
from theory.domains import Domain, parse_rational
from theory.errors import InputError
from theory.results import result
from validation.papers import PAPERS, TOPIC_KEYS, TOPICS

__all__ = ["NamedCheck", "ParamRange", "named_check", "load_checks", "get_check", "run_check",
           "parse_param", "default_store", "box_for", "register_command", "check_command"]


@dataclass(frozen=True, repr=False)
class NamedCheck:
    """A registered conjecture.

    Attributes
    ----------
    name : str
        ``TOPIC.NAME``.
    paper, reference, statement : str
        The paper's registry key, where in it, and the statement checked.
    margin : callable
        ``margin(point) -> number`` (module-level: may run on worker processes).
    parameters : dict
        The default box, ``name -> (low, high, "int" | "real")``.
    domains : dict
        ``name -> Domain``: where each parameter may lie at all (open or closed ends).
    """

    name: str
    paper: str
    reference: str
    statement: str
    margin: Callable[[dict], float] = field(repr=False)
    parameters: dict
    domains: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        domains = {k: d.describe() for k, d in self.domains.items()}
        return (f"NamedCheck(name={self.name!r}, paper={self.paper!r}, "
                f"statement={self.statement!r}, parameters={self.parameters!r}, "
                f"domains={domains!r})")

    @property
    def topic(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def citation(self) -> str:
        """The paper as spelled everywhere (:attr:`validation.papers.Paper.citation`)."""
        return PAPERS[self.paper].citation


_CHECKS: dict[str, NamedCheck] = {}


def named_check(name: str, *, paper: str, reference: str, statement: str, parameters: dict,
                domains: dict):
    """Register the decorated module-level margin function as the conjecture ``name``.

    ``parameters`` is the default box ``{name: (low, high, "int" | "real")}``; ``domains``
    gives every parameter its :class:`theory.domains.Domain` (``integer(...)`` for an ``"int"``
    parameter, ``real(..., low_open=, high_open=)`` otherwise); the default box must lie in it.
    """
    topic = name.split(".", 1)[0]
    if topic not in TOPICS or "." not in name:
        raise ValueError(f"check name {name!r}: expected TOPIC.NAME with TOPIC in {TOPIC_KEYS}")
    if paper not in TOPICS[topic].papers:
        raise ValueError(f"check {name!r}: paper={paper!r} is not a paper of topic {topic!r}")
    box = parameter_box(parameters)  # a bad default box fails at import, not at the first run
    if set(domains) != {p.name for p in box} or not all(isinstance(d, Domain)
                                                        for d in domains.values()):
        raise ValueError(f"check {name!r}: domains must give a Domain for each of "
                         f"{sorted(p.name for p in box)}")
    for p in box:
        if (domains[p.name].kind == "int") != p.integer:
            raise ValueError(f"check {name!r}: {p.name} is {'an integer' if p.integer else 'real'}"
                             f" but its domain is {domains[p.name].describe()}")
        _check_in_domain(name, p.name, p.low, p.high, domains[p.name])

    def register(margin):
        if name in _CHECKS and _CHECKS[name].margin is not margin:
            raise ValueError(f"check {name!r} registered twice")
        _CHECKS[name] = NamedCheck(name, paper, reference, statement, margin, dict(parameters),
                                   dict(domains))
        return margin

    return register


def load_checks(topics=TOPIC_KEYS) -> dict[str, NamedCheck]:
    """Import the check modules the registry lists for ``topics``; the registered checks."""
    for topic in topics:
        for module in TOPICS[topic].check_modules:
            importlib.import_module(module)
    return {name: c for name, c in _CHECKS.items() if c.topic in topics}


def get_check(name: str) -> NamedCheck:
    topic = name.split(".", 1)[0]
    checks = load_checks([topic] if topic in TOPICS else TOPIC_KEYS)
    if name not in checks:
        raise InputError("NAME", name, f"a named check, one of {sorted(load_checks())}")
    return checks[name]


@result
class ParamRange:
    """One ``--param`` override of a check's box.

    Attributes
    ----------
    name : str
        The parameter's name in the check's box.
    low, high : float
        The new bounds (equal when the parameter is fixed).
    """

    name: str
    low: float
    high: float


def parse_param(text: str) -> ParamRange:
    """``"p=0.1:0.9"`` -> ``ParamRange("p", 0.1, 0.9)``; ``"S=3"`` -> ``ParamRange("S", 3, 3)``;
    rationals allowed (``"p=1/3:2/3"``), read strictly (:func:`theory.domains.parse_rational`),
    never evaluated as code."""
    import math

    expected = "NAME=LOW:HIGH or NAME=VALUE with numbers, e.g. p=0.1:0.9 or S=3"
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise InputError("--param", text, expected)
    try:
        bounds = [float(parse_rational("--param", v.strip())) for v in value.split(":")]
    except (InputError, OverflowError):
        raise InputError("--param", text, expected) from None
    if not all(math.isfinite(b) for b in bounds):
        raise InputError("--param", text, expected)
    if len(bounds) == 1:
        bounds *= 2
    if len(bounds) != 2:
        raise InputError("--param", text, expected)
    return ParamRange(name.strip(), bounds[0], bounds[1])


def box_for(check: NamedCheck, overrides) -> dict:
    """The check's default box with overrides applied (validated): each a :class:`ParamRange`
    or a ``(name, low, high)`` tuple."""
    box = {name: tuple(spec) for name, spec in check.parameters.items()}
    for override in overrides or ():
        name, low, high = ((override.name, override.low, override.high)
                           if isinstance(override, ParamRange) else override)
        if name not in box:
            raise InputError("--param", name, f"a parameter of {check.name}: {sorted(box)}")
        kind = box[name][2] if len(box[name]) == 3 else "real"
        if kind == "int" and (low != int(low) or high != int(high)):
            raise InputError(f"--param {name}", (low, high), "integer bounds")
        if low > high:
            raise InputError(f"--param {name}", (low, high), "LOW <= HIGH")
        _check_in_domain("--param", name, low, high, check.domains[name])
        box[name] = (int(low), int(high), "int") if kind == "int" else (low, high, "real")
    return box


def _check_in_domain(what: str, name: str, low, high, domain: Domain) -> None:
    """Both ends of ``name``'s range lie in its domain, else InputError naming ``what``."""
    for end in (low, high):
        value = int(end) if domain.kind == "int" else float(end)
        try:
            domain.check(name, value)
        except InputError:
            shown = f"{name}={low:g}" if low == high else f"{name}={low:g}:{high:g}"
            raise InputError(what, shown, f"both ends of {name} in its domain, "
                                          f"{domain.describe()}") from None


def default_store(name: str, box: dict, seed: int, budget, root: str = "check-out",
                  tolerance: tuple = (None, None)) -> str:
    """``check-out/NAME-HASH``: the same search resumes in the same folder, another gets its own
    (``tolerance``: the ``(atol, rtol)`` given, part of the hash unless both are defaults)."""
    key = {"box": box, "seed": seed, "budget": str(budget)}
    if tolerance != (None, None):
        key["tolerance"] = list(tolerance)
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:10]
    return f"{root}/{name}-{digest}"


def run_check(name: str, params=(), *, seed: int = 0, budget: Budget | str = "quick",
              executor="auto", store=None, progress=None, atol=None, rtol=None,
              timeout=None) -> ConjectureResult:
    """Search the named conjecture's box (``params``: :class:`ParamRange` or ``(name, low,
    high)`` overrides) with :func:`numerics.shared.conjecture.search_counterexample` (the other
    arguments are passed on to it).

    Returns the :class:`~numerics.shared.conjecture.ConjectureResult` (the check itself, with its
    statement and paper, is :func:`get_check`).
    """
    check = get_check(name)
    box = box_for(check, params)
    return search_counterexample(check.margin, box, seed=seed, budget=budget,
                                 executor=executor, store=store, name=name, progress=progress,
                                 atol=atol, rtol=rtol, timeout=timeout)


# ----------------------------------------------------------------------------- ttc check

def check_command(args) -> dict:
    """``ttc check``: the search's summary; without NAME, the registered checks."""
    if args.name is None:
        return {name: {"statement": c.statement, "parameters": c.parameters,
                       "domains": {k: d.describe() for k, d in c.domains.items()},
                       "paper": c.citation, "reference": c.reference}
                for name, c in sorted(load_checks().items())}
    params = [parse_param(text) for text in args.param]
    check = get_check(args.name)
    box = box_for(check, params)
    store = args.out or default_store(args.name, box, args.seed, args.budget,
                                     tolerance=(args.atol, args.rtol))
    result = run_check(args.name, params, seed=args.seed, budget=args.budget,
                       executor=args.executor, store=store, atol=args.atol, rtol=args.rtol,
                       timeout=args.timeout)
    return {"name": check.name, "statement": check.statement, **result.to_json(),
            "store": store}


def register_command(subparsers) -> None:
    """Add ``ttc check`` (its options and :func:`check_command`) to the ``ttc`` parser."""
    from theory.domains import POSITIVE, SEED, real
    from validation.cli import ExecutorType, add_argument

    tolerance = real(0, 1)
    chk = subparsers.add_parser(
        "check", help="search a named conjecture for a counterexample",
        description="Search a named conjecture's parameter box for a counterexample (grid, "
                    "random, Hypothesis, local optimisation, shrinking). Without NAME: list "
                    "the checks.")
    chk.add_argument("name", nargs="?", metavar="NAME", help="e.g. markov.unigram_local_min")
    chk.add_argument("--param", action="append", default=[], metavar="RANGE",
                     help="NAME=LOW:HIGH (or NAME=VALUE) to change the box, both ends in the "
                          "parameter's domain (ttc check lists them); repeatable")
    add_argument(chk, "--seed", SEED, default=0)
    chk.add_argument("--budget", choices=("quick", "full"), default="quick")
    chk.add_argument("--executor", metavar="EXECUTOR", default="auto", type=ExecutorType(),
                     help="auto (default: serial unless the measured cost per point makes a "
                          "pool pay), serial, local, local:N or dask://HOST:PORT")
    add_argument(chk, "--atol", tolerance, default=None,
                 help="a point is a counterexample only when its margin is below -ATOL "
                      "(default 1e-12 for floating-point margins, 0 for exact ones)")
    add_argument(chk, "--rtol", tolerance, default=None,
                 help="relative tolerance for margins given as (lhs, rhs) (default 1e-12 for "
                      "floating-point margins, 0 for exact ones)")
    add_argument(chk, "--timeout", POSITIVE, default=None, metavar="SECONDS",
                 help="stop the search after this many seconds (finished points are kept in "
                      "--out; a rerun resumes); default: no limit")
    add_argument(chk, "--out", path="folder", help="folder for finished points (default "
                 "check-out/NAME-HASH); a rerun resumes from it")
    chk.add_argument("--json", action="store_true", help="print exactly one JSON object")
    chk.set_defaults(handler=check_command)

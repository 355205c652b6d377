"""Named conjectures: margins registered under a name, searched by ``ttc check NAME``.

A paper's module ``validation/<topic>/checks.py`` (listed in the paper registry,
:data:`validation.papers.TOPICS`, ``check_modules``) registers its conjectures; ``paper`` is a
key of :data:`validation.papers.PAPERS`::

    @named_check("markov.unigram_local_min", paper="markov-p1", reference="...",
                 statement="The unigram point is a local minimum exactly when p > (S-1)/S",
                 parameters={"S": (2, 5, "int"), "p": (0.02, 0.98)})
    def unigram_local_min_margin(point: dict) -> float:
        ...  # >= 0 where the statement holds, < 0 at a counterexample

``parameters`` is the default box; the command line narrows or moves it with
``--param NAME=LOW:HIGH`` (or ``NAME=VALUE`` to fix a parameter), never by evaluating strings.
:func:`run_check` runs :func:`numerics.shared.conjecture.search_counterexample` on it.
"""

from __future__ import annotations

import hashlib
import importlib
import json
from dataclasses import dataclass
from typing import Callable

from numerics.shared.conjecture import Budget, ConjectureResult, parameter_box, search_counterexample
from theory.errors import InputError
from theory.results import result
from validation.papers import PAPERS, TOPIC_KEYS, TOPICS

__all__ = ["NamedCheck", "ParamRange", "named_check", "load_checks", "get_check", "run_check",
           "parse_param", "default_store", "box_for"]


@dataclass(frozen=True)
class NamedCheck:
    name: str
    paper: str
    reference: str
    statement: str
    margin: Callable[[dict], float]
    parameters: dict

    @property
    def topic(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def citation(self) -> str:
        """The paper as spelled everywhere (:attr:`validation.papers.Paper.citation`)."""
        return PAPERS[self.paper].citation


_CHECKS: dict[str, NamedCheck] = {}


def named_check(name: str, *, paper: str, reference: str, statement: str, parameters: dict):
    """Register the decorated module-level margin function as the conjecture ``name``."""
    topic = name.split(".", 1)[0]
    if topic not in TOPICS or "." not in name:
        raise ValueError(f"check name {name!r}: expected TOPIC.NAME with TOPIC in {TOPIC_KEYS}")
    if paper not in TOPICS[topic].papers:
        raise ValueError(f"check {name!r}: paper={paper!r} is not a paper of topic {topic!r}")
    parameter_box(parameters)  # a bad default box fails at import, not at the first run

    def register(margin):
        if name in _CHECKS and _CHECKS[name].margin is not margin:
            raise ValueError(f"check {name!r} registered twice")
        _CHECKS[name] = NamedCheck(name, paper, reference, statement, margin, dict(parameters))
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
    rationals allowed (``"p=1/3:2/3"``), never evaluated as code."""
    from fractions import Fraction

    expected = "NAME=LOW:HIGH or NAME=VALUE with numbers, e.g. p=0.1:0.9 or S=3"
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise InputError("--param", text, expected)
    try:
        bounds = [float(Fraction(v.strip())) for v in value.split(":")]
    except (ValueError, ZeroDivisionError):
        raise InputError("--param", text, expected) from None
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
        box[name] = (int(low), int(high), "int") if kind == "int" else (low, high, "real")
    return box


def default_store(name: str, box: dict, seed: int, budget, root: str = "check-out") -> str:
    """``check-out/NAME-HASH``: the same search resumes in the same folder, another gets its own."""
    key = json.dumps({"box": box, "seed": seed, "budget": str(budget)}, sort_keys=True)
    return f"{root}/{name}-{hashlib.sha256(key.encode()).hexdigest()[:10]}"


def run_check(name: str, params=(), *, seed: int = 0, budget: Budget | str = "quick",
              executor=None, store=None, progress=None) -> ConjectureResult:
    """Search the named conjecture's box (``params``: :class:`ParamRange` or ``(name, low,
    high)`` overrides) with :func:`numerics.shared.conjecture.search_counterexample`.

    Returns the :class:`~numerics.shared.conjecture.ConjectureResult` (the check itself, with its
    statement and paper, is :func:`get_check`).
    """
    check = get_check(name)
    box = box_for(check, params)
    return search_counterexample(check.margin, box, seed=seed, budget=budget,
                                 executor=executor, store=store, name=name, progress=progress)

"""The claims ledger: what each paper states, and the check that decides it.

A :class:`Claim` carries an id, the paper and the theorem/figure it comes from, a statement and a
check. The check receives a :class:`CheckContext` and returns a :class:`Outcome` (predicted,
measured, tolerance, verdict, a note, figures). A claim also says which verdict the ledger
*expects*: ``"confirmed"`` for a statement that holds, ``"refuted"`` for a paper statement our
analysis shows needs a condition the paper does not state (the note then gives the
counterexample). ``ttc reproduce`` succeeds when every verdict is the expected one.

Papers register their claims in the modules ``validation/<topic>/claims/*.py`` that the paper
registry (:data:`validation.papers.TOPICS`, ``claim_modules``) lists, with the :func:`claim`
decorator; ``paper`` is a key of :data:`validation.papers.PAPERS`::

    @claim("markov.F1", paper="markov-p1", reference="Thm 2", statement="...")
    def _f1(ctx):
        predicted, measured = ..., ...
        return compare(predicted, measured, tolerance=1e-10)
"""

from __future__ import annotations

import importlib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from numerics.shared.seeding import derive_seed
from validation.papers import PAPERS, TOPIC_KEYS, TOPICS

VERDICTS = ("confirmed", "refuted", "error")
PROFILES = ("quick", "full")


@dataclass(frozen=True)
class Outcome:
    """What a check found. ``verdict`` is ``"confirmed"`` or ``"refuted"``.

    ``predicted``, ``measured`` and ``tolerance`` are JSON values (numbers, strings, lists,
    dicts); ``note`` says in words what was compared and where the reference value comes from.
    ``figures`` are file names inside the report's ``figures/`` folder. ``method`` names the path
    that decided the verdict when more than one exists, e.g. ``"certified (interval arithmetic,
    python-flint)"`` against ``"uncertified (floating-point root finding)"``; the report shows it.
    ``timings`` holds wall-clock or CPU times (seconds, by name): they vary between runs, so
    they never sit in ``predicted``, ``measured`` or ``tolerance`` (two runs with one seed give
    identical records outside ``seconds`` and ``timings``), and no verdict depends on them.
    """

    predicted: Any
    measured: Any
    tolerance: Any
    verdict: str
    note: str = ""
    figures: tuple[str, ...] = ()
    method: str = ""
    timings: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.verdict not in ("confirmed", "refuted"):
            raise ValueError(f"verdict={self.verdict!r}: expected 'confirmed' or 'refuted'")


@dataclass
class CheckContext:
    """What a check may use: the profile, a seed derived for this claim, the figures folder."""

    profile: str
    seed: int
    figures_dir: Path

    @property
    def full(self) -> bool:
        return self.profile == "full"

    def figure_path(self, name: str) -> Path:
        self.figures_dir.mkdir(parents=True, exist_ok=True)
        return self.figures_dir / name


@dataclass(frozen=True)
class Claim:
    """A registered claim: ``id`` (``TOPIC.NAME``), ``topic``, ``paper`` (a key of
    :data:`validation.papers.PAPERS`), the paper's ``reference`` (theorem, section, figure), the
    ``statement``, its ``check``, the ``expected`` verdict and the ``profiles`` it runs in."""

    id: str
    topic: str
    paper: str
    reference: str
    statement: str
    check: Callable[[CheckContext], Outcome]
    expected: str = "confirmed"
    profiles: tuple[str, ...] = PROFILES

    def seed_for(self, base_seed: int) -> int:
        """A seed for this claim: stable across runs, different between claims."""
        return derive_seed(base_seed, self.id)


_REGISTRY: dict[str, Claim] = {}


def claim(
    claim_id: str,
    *,
    paper: str,
    reference: str,
    statement: str,
    expected: str = "confirmed",
    profiles: tuple[str, ...] = PROFILES,
):
    """Register the decorated function as the check of a claim (see the module docstring)."""
    if expected not in ("confirmed", "refuted"):
        raise ValueError(f"expected={expected!r}: expected 'confirmed' or 'refuted'")
    topic = claim_id.split(".", 1)[0]
    if topic not in TOPICS or paper not in TOPICS[topic].papers:
        raise ValueError(f"claim {claim_id!r}: paper={paper!r} is not a paper of topic {topic!r} "
                         f"in validation.papers")

    def register(check: Callable[[CheckContext], Outcome]):
        if claim_id in _REGISTRY:
            raise ValueError(f"claim id {claim_id!r} registered twice")
        _REGISTRY[claim_id] = Claim(
            claim_id, topic, paper, reference, statement, check, expected, tuple(profiles)
        )
        return check

    return register


def load_claims(topics=TOPIC_KEYS) -> list[Claim]:
    """Import each topic's claim modules (``validation.papers.TOPICS[topic].claim_modules``, in
    that order) and return their claims in registration order."""
    for topic in topics:
        for name in TOPICS[topic].claim_modules:
            importlib.import_module(name)
    return [c for c in _REGISTRY.values() if c.topic in topics]


def citation(claim: Claim) -> str:
    """The claim's paper as spelled in ``results.json`` and the report (one spelling per paper)."""
    return PAPERS[claim.paper].citation


def compare(predicted: float, measured: float, tolerance: float, note: str = "", figures=(),
            method: str = "", timings: dict | None = None) -> Outcome:
    """``confirmed`` when ``|predicted - measured| <= tolerance`` (and both are finite)."""
    ok = math.isfinite(predicted) and math.isfinite(measured)
    ok = ok and abs(float(predicted) - float(measured)) <= tolerance
    return Outcome(float(predicted), float(measured), tolerance,
                   "confirmed" if ok else "refuted", note, tuple(figures), method, timings or {})


def decide(holds: bool, predicted, measured, tolerance, note: str = "", figures=(),
           method: str = "", timings: dict | None = None) -> Outcome:
    """An :class:`Outcome` whose verdict is ``confirmed`` exactly when ``holds``."""
    return Outcome(predicted, measured, tolerance, "confirmed" if holds else "refuted",
                   note, tuple(figures), method, timings or {})

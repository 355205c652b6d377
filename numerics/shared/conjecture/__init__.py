"""Search a box of parameters for a counterexample to a conjecture.

A conjecture is stated as a **margin**: a function of a point (a dict ``name -> value``) that is
``>= 0`` where the conjecture holds and ``< 0`` at a counterexample, with the size saying by how
much (or a pair ``(lhs, rhs)`` for a statement ``lhs >= rhs``). A point is a counterexample only
when its margin is below ``-atol`` (``-max(atol, rtol * scale)`` for a pair): by default
``1e-12`` for floating-point margins and 0 for exact ones (:mod:`.margins`). A margin that cannot
be computed at a point raises :class:`theory.errors.NumericalFailure` (or returns NaN); that
point is reported as a failure, never as evidence either way.

Any callable works: a lambda or a closure typed at the REPL or in a notebook runs in this
process; a module-level function may run on worker processes (:mod:`numerics.shared.executor`).

:func:`search_counterexample` spends a :class:`Budget` in four phases (:mod:`.phases`):

1. **grid**: a regular grid over the box (every integer of an integer parameter whose range has
   at most ``budget.integers`` values), and **simple** values: every fraction a/b with
   b <= ``budget.simple`` in the box (where thresholds such as (S-1)/S and i.i.d. special cases
   live);
2. **random**: uniform points from ``numerics.shared.seeding.as_generator(seed)``;
3. **hypothesis**: Hypothesis' generator and shrinker (``hypothesis.find``, seeded with
   ``random.Random(seed)``, no example database), which also tries boundary and "simple" values.
   It runs in a fresh interpreter that imports nothing from this project (see
   :func:`hypothesis_search`), so the same seed gives the same points in every process;
4. **local**: Nelder--Mead minimisation of the margin (real parameters, in box-normalised
   coordinates) from the lowest-margin points of phases 1--2;

and then **shrinks** the worst counterexample found: each real coordinate is rounded to the fewest
decimals, each integer lowered, as long as the point stays a counterexample. The reported
counterexample is the simplest one found (fewest decimal digits, then smallest values).

Everything is a function of the seed, the budget and the tolerance, so the same call gives the
same :meth:`ConjectureResult.answer` bit for bit on any executor. With ``store=DIR``, each
finished task is written to ``DIR/tasks/`` at once (atomically) and a rerun with the same
configuration resumes from them.

Modules: :mod:`.box` (the box), :mod:`.budget`, :mod:`.margins` (one evaluation, the tolerance),
:mod:`.phases` (the tasks), :mod:`.result` (:class:`ConjectureResult`, its HTML view and plot),
:mod:`.search` (:func:`search_counterexample`: where the tasks run, the summary).
"""

from numerics.shared.conjecture.box import MAX_ABS_VALUE, Parameter, parameter_box
from numerics.shared.conjecture.budget import BUDGET_LIMITS, BUDGETS, MAX_POINTS, Budget
from numerics.shared.conjecture.margins import (DEFAULT_ATOL, DEFAULT_RTOL, MarginValue,
                                                evaluate_margin)
from numerics.shared.conjecture.phases import complexity, hypothesis_search
from numerics.shared.conjecture.result import ConjectureResult
from numerics.shared.conjecture.search import (AUTO_POOL_SECONDS, AUTO_PROBE_BATCHES,
                                               SerialFallbackWarning, search_counterexample)

__all__ = ["Parameter", "Budget", "BUDGETS", "ConjectureResult", "MarginValue", "parameter_box",
           "search_counterexample", "evaluate_margin", "hypothesis_search", "complexity",
           "SerialFallbackWarning", "BUDGET_LIMITS", "MAX_POINTS", "MAX_ABS_VALUE",
           "DEFAULT_ATOL", "DEFAULT_RTOL", "AUTO_POOL_SECONDS", "AUTO_PROBE_BATCHES"]

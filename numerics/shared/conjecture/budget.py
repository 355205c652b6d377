"""How many margin evaluations a search may spend, phase by phase."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from theory.errors import check_int

__all__ = ["Budget", "BUDGETS", "BUDGET_LIMITS", "MAX_POINTS"]


@dataclass(frozen=True)
class Budget:
    """How many margin evaluations each phase may spend.

    ``grid``: points per real axis; ``integers``: an integer axis with at most this many values
    is tried at every value, a wider one at ``integers`` evenly spread values;
    ``simple``: largest denominator of the simple fractions tried (at most ``grid`` per real
    axis); ``random``: uniform points; ``hypothesis``: examples Hypothesis generates (its
    shrinking comes on top); ``local_searches`` x ``local_evaluations``: Nelder--Mead runs and
    evaluations each; ``shrink``: evaluations for shrinking; ``batch``: points per task of the
    grid, simple and random phases.
    """

    grid: int = 9
    simple: int = 6
    random: int = 48
    hypothesis: int = 60
    local_searches: int = 3
    local_evaluations: int = 40
    shrink: int = 60
    batch: int = 16
    integers: int = 256

    def __post_init__(self):
        for name, value in asdict(self).items():
            check_int(f"budget.{name}", value, 1 if name in ("grid", "batch", "integers") else 0,
                      BUDGET_LIMITS[name])

    def axis_grid(self, parameter) -> list:
        """The grid phase's values on one axis (:meth:`Parameter.grid`)."""
        return parameter.grid(self.integers if parameter.integer else self.grid)

    def axis_simple(self, parameter) -> list:
        """The simple phase's values on one axis: the simple fractions of a real axis, the
        grid values of an integer axis; none when ``simple`` is 0."""
        if not self.simple:
            return []
        if parameter.integer:
            return self.axis_grid(parameter)
        return parameter.simple(self.simple, self.grid)

    def points(self, box) -> int:
        """Most margin evaluations this budget spends on ``box``: the grid and simple points
        (a product over the axes), plus random, Hypothesis (its shrinking counted as as many
        again), local and shrink evaluations."""
        grid = simple = 1
        for p in box:
            grid *= len(self.axis_grid(p))
            simple *= len(self.axis_simple(p))
        return (grid + simple + self.random + 2 * self.hypothesis
                + self.local_searches * self.local_evaluations + self.shrink)


#: Largest value of each :class:`Budget` field.
BUDGET_LIMITS = {"grid": 10_000, "simple": 1_000, "random": 1_000_000, "hypothesis": 100_000,
                 "local_searches": 1_000, "local_evaluations": 100_000, "shrink": 100_000,
                 "batch": 10_000, "integers": 100_000}
#: Most margin evaluations one search may spend (every evaluation is kept in the result, about
#: 1 KB each: 10**6 of them stay well under 2 GB).
MAX_POINTS = 1_000_000

BUDGETS = {
    "quick": Budget(),
    "full": Budget(grid=33, simple=12, random=400, hypothesis=400, local_searches=8,
                   local_evaluations=120, shrink=200, batch=32, integers=1024),
}

"""Named conjectures about the LSA paper (Ding et al. 2025), for ``ttc check``.

``lsa.theorem33_realizable``: for d = 1, Theorem 3.3's parameter choice exists, i.e. the enlarged
optimum X*(p, n) lies in the image of phi, for every p once the context length n is at least the
box's lower bound (10 by default). The margin is the exact sign of the realisability polynomial.
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

from theory.results import result
from validation.ledger.checks import named_check

PAPER = "lsa-ding"


@result
class RealizabilityMargin:
    """The realisability polynomial of Theorem 3.3 (Ding et al. 2025, d = 1) at one (p, n), exact.

    Attributes
    ----------
    value : Fraction
        :math:`R(p, n)`; Theorem 3.3's parameters exist iff it is >= 0.
    scale : Fraction
        :math:`\\sum |\\text{terms of } R(p, n)|` (> 0), to make the margin scale-free.
    """

    value: Fraction
    scale: Fraction


@lru_cache(maxsize=1)
def _realizability_terms() -> tuple[tuple[int, int, Fraction], ...]:
    """``R(p, n)`` of :func:`theory.lsa.theorem33_realizability_polynomial` as exact terms
    ``(i, j, c)`` of ``c p^i n^j`` (derived once per process, about 1 s)."""
    import sympy as sp

    from theory import lsa

    poly = sp.Poly(lsa.theorem33_realizability_polynomial(), lsa.p, lsa.n)
    return tuple((i, j, Fraction(int(c.p), int(c.q))) for (i, j), c in poly.terms())


def realizability_margin_exact(p: Fraction, n: int) -> RealizabilityMargin:
    """``R(p, n)`` and the sum of the absolute values of its terms, in exact rational arithmetic.

    .. math::
        X_2^{*2} - 4 X_1^* X_3^* = n^2 R(p, n) / (\\text{a square}),

    so Theorem 3.3's parameters exist exactly when :math:`R(p, n) \\ge 0` (Ding et al. 2025,
    Thm 3.3; R is the library's reconstruction of the condition).
    """
    terms = [c * p**i * n**j for i, j, c in _realizability_terms()]
    return RealizabilityMargin(sum(terms), sum(abs(t) for t in terms))


@named_check(
    "lsa.theorem33_realizable", paper=PAPER, reference="Thm 3.3 (d = 1, parameter choice)",
    statement="For d = 1, Theorem 3.3's parameters exist (X* is in the image of phi) for every "
              "p in (0, 1) once n is at least the lower end of the n range (10 by default).",
    parameters={"p": (0.001, 0.999, "real"), "n": (10, 60, "int")})
def theorem33_realizable_margin(point: dict) -> float:
    """Scale-free margin :math:`R(p, n) / \\sum |\\text{terms of } R|` in [-1, 1].

    Its sign is exact: ``p`` (a float) is converted to the rational it stores and R is evaluated
    in exact rational arithmetic; only the final division is rounded.
    """
    margin = realizability_margin_exact(Fraction(point["p"]), int(point["n"]))
    return float(margin.value / margin.scale)

"""Named conjectures about the LSA paper (Ding et al. 2025), for ``ttc check``.

``lsa.theorem33_realizable``: for d = 1, Theorem 3.3's parameter choice exists, i.e. the enlarged
optimum X*(p, n) lies in the image of phi, for every p once the context length n is at least the
box's lower bound (10 by default). The margin is the exact sign of the realisability polynomial.
"""

from __future__ import annotations

from fractions import Fraction

from theory.domains import PROBABILITY, integer
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


#: ``R(p, n)`` of :func:`theory.lsa.theorem33_realizability_polynomial` as its 22 terms
#: ``(i, j, c)`` of ``c p^i n^j`` (integer coefficients). Written out so that the margin needs no
#: sympy (deriving it costs about 1 s and the sympy import as much again, in every process that
#: evaluates the margin); the tests compare it with the sympy derivation term by term.
REALIZABILITY_TERMS: tuple[tuple[int, int, int], ...] = (
    (4, 4, 1), (4, 3, -4), (4, 2, 6), (4, 1, -4), (4, 0, 1),
    (3, 4, -2), (3, 3, 10), (3, 2, -18), (3, 1, 14), (3, 0, -4),
    (2, 4, 1), (2, 3, -14), (2, 2, 37), (2, 1, -36), (2, 0, 12),
    (1, 3, 8), (1, 2, -32), (1, 1, -44), (1, 0, 68),
    (0, 2, 16), (0, 1, -38), (0, 0, -185),
)


def realizability_margin_exact(p: Fraction, n: int) -> RealizabilityMargin:
    """``R(p, n)`` and the sum of the absolute values of its terms, in exact rational arithmetic.

    .. math::
        X_2^{*2} - 4 X_1^* X_3^* = n^2 R(p, n) / (\\text{a square}),

    so Theorem 3.3's parameters exist exactly when :math:`R(p, n) \\ge 0` (Ding et al. 2025,
    Thm 3.3; R is the library's reconstruction of the condition).

    With ``p = a/b`` every term times ``b^4`` is an integer (R has degree 4 in p), so both sums
    are integer sums divided by ``b^4`` (about 20 times faster than Fraction arithmetic).
    """
    p = Fraction(p)
    a, b = p.numerator, p.denominator
    terms = [c * a**i * b**(4 - i) * n**j for i, j, c in REALIZABILITY_TERMS]
    return RealizabilityMargin(Fraction(sum(terms), b**4),
                               Fraction(sum(abs(t) for t in terms), b**4))


@named_check(
    "lsa.theorem33_realizable", paper=PAPER, reference="Thm 3.3 (d = 1, parameter choice)",
    statement="For d = 1, Theorem 3.3's parameters exist (X* is in the image of phi) for every "
              "p in (0, 1) once n is at least the lower end of the n range (10 by default).",
    parameters={"p": (0.001, 0.999, "real"), "n": (10, 60, "int")},
    domains={"p": PROBABILITY, "n": integer(1, 10**6)})
def theorem33_realizable_margin(point: dict) -> Fraction:
    """Scale-free margin :math:`R(p, n) / \\sum |\\text{terms of } R|` in [-1, 1], exact.

    ``p`` (a float) is converted to the rational it stores and R is evaluated in exact rational
    arithmetic; the margin is returned as a :class:`~fractions.Fraction`, so the search compares
    its sign exactly (tolerance 0, :mod:`numerics.shared.conjecture.margins`).
    """
    margin = realizability_margin_exact(Fraction(point["p"]), int(point["n"]))
    return margin.value / margin.scale  # b^4 cancels

"""The hardness reduction of Ding et al. 2025 (Thm 3.5 / App. C.14) as code (Part 2 §F).

EXACT COVER -> Problem C.10 (:func:`theory.lsa.exact_cover_system`): the instance is feasible
iff the sets have an exact cover. Three independent checks on instances with N <= 8 sets:

- brute force over the :math:`2^N` choices (:func:`exact_covers`);
- the Groebner basis is {1} iff infeasible (:func:`theory.lsa.exact_cover_groebner`, sympy);
- Levenberg-Marquardt from 200 random starts (:func:`local_residual`): the smallest sum of
  residual norm; < 1e-20 decodes (rescaled to :math:`b_0 = 1`) to a cover, >= 0.1 when
  there is none.
"""

from __future__ import annotations

from itertools import product

import numpy as np

from numerics.lsa.domains import REDUCTION_SETS, STARTS
from numerics.shared.seeding import as_generator
from theory.errors import InputError, NumericalFailure
from theory.results import result

__all__ = ["parse_sets", "exact_covers", "LocalSearch", "local_residual", "cover_residual",
           "Reduction", "reduction"]

#: Longest accepted ``--sets`` text (refused before parsing).
MAX_SETS_TEXT = 2000
#: Largest element of a set.
MAX_ELEMENT = 64


def parse_sets(text: str) -> list[frozenset]:
    """``"1,2;3;2,3"`` -> ``[{1, 2}, {3}, {2, 3}]``: sets separated by ``;``, elements by ``,``;
    elements integers in [1, 64]; 1 to 8 non-empty sets. :class:`InputError` otherwise (before
    any work)."""
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_SETS_TEXT:
        raise InputError("--sets", text if isinstance(text, str) else type(text).__name__,
                         f"sets like '1,2;3' (';' between sets, ',' between elements; at most "
                         f"{MAX_SETS_TEXT} characters)")
    parts = text.split(";")
    if len(parts) > REDUCTION_SETS.high:
        raise InputError("--sets", text[:60], f"at most {REDUCTION_SETS.high} sets (N <= 8: "
                         "brute force over 2^N choices and a Groebner basis), got "
                         f"{len(parts)}")
    sets = []
    for part in parts:
        items = [t.strip() for t in part.split(",")]
        if any(not t.isdigit() or not t.isascii() for t in items):
            raise InputError("--sets", text[:60], "non-empty sets of integers in [1, "
                             f"{MAX_ELEMENT}] such as '1,2;3' (set {part.strip()!r} is not)")
        values = {int(t) for t in items}
        if any(not 1 <= v <= MAX_ELEMENT for v in values):
            raise InputError("--sets", text[:60], f"elements in [1, {MAX_ELEMENT}]")
        sets.append(frozenset(values))
    return sets


def exact_covers(sets) -> list[tuple[int, ...]]:
    """Every exact cover by brute force: the 0/1 vectors x (length N) with
    :math:`\\sum_{i: e\\in S_i} x_i = 1` for every e in the union."""
    sets = [frozenset(s) for s in sets]
    REDUCTION_SETS.check("N", len(sets))
    U = set().union(*sets)
    out = []
    for x in product((0, 1), repeat=len(sets)):
        if all(sum(x[i] for i, s in enumerate(sets) if e in s) == 1 for e in U):
            out.append(x)
    return out


def _residual_functions(sets):
    """The C.10 rows of :func:`theory.lsa.exact_cover_system` as numpy: ``D`` (R, N+1, N+1)
    restricted to the slots 0..N, targets ``X`` (R,); residuals :math:`b^\\top D_r a - X_r` and
    their Jacobian in :math:`(b, a)`."""
    from theory.lsa import exact_cover_system

    system = exact_cover_system(sets)
    N1 = len(system.b)
    D = np.array([np.array(Dr[:N1, :N1], dtype=float) for Dr, _, _ in system.matrices])
    X = np.array([float(x) for _, _, x in system.matrices])

    def F(v):
        b, a = v[:N1], v[N1:]
        return np.einsum("i,rij,j->r", b, D, a) - X

    def J(v):
        b, a = v[:N1], v[N1:]
        return np.concatenate([D @ a, np.einsum("rij,i->rj", D, b)], axis=1)

    return system, F, J


def cover_residual(sets, x) -> float:
    """Residual norm of the C.10 equations at :math:`b = a = (1, x)` (0 for a cover)."""
    _, F, _ = _residual_functions(sets)
    v = np.concatenate([[1.0], np.asarray(x, float)])
    return float(np.linalg.norm(F(np.concatenate([v, v]))))


@result
class LocalSearch:
    """Levenberg-Marquardt multistart on the C.10 equations of an EXACT COVER instance.

    Attributes
    ----------
    best_residual : float
        Smallest residual norm :math:`\\|F\\|_2` over the starts.
    decoded : tuple of int or None
        When ``best_residual < 1e-20``: x read off the best point rescaled to :math:`b_0 = 1`
        (:math:`x_i = \\mathrm{round}(b_i/b_0)`); else None.
    decoded_is_cover : bool or None
        Whether ``decoded`` is an exact cover (None when nothing was decoded).
    starts : int
        Number of random starts (N(0, 1) entries).
    """

    best_residual: float
    decoded: tuple | None
    decoded_is_cover: bool | None
    starts: int


def local_residual(sets, starts: int = 200, seed=0) -> LocalSearch:
    """Levenberg-Marquardt (``scipy.optimize.least_squares``, ``method="lm"``, analytic
    Jacobian) from ``starts`` random N(0, 1) points of :math:`(b_0..b_N, a_0..a_N)`."""
    from scipy.optimize import least_squares

    sets = [frozenset(s) for s in sets]
    REDUCTION_SETS.check("N", len(sets))
    STARTS.check("starts", starts)
    _, F, J = _residual_functions(sets)
    N = len(sets)
    rng = as_generator(seed)
    best, best_x = np.inf, None
    for _ in range(starts):
        res = least_squares(F, rng.standard_normal(2 * (N + 1)), jac=J, method="lm",
                            xtol=1e-15, ftol=1e-15, gtol=1e-15, max_nfev=200)
        value = float(np.linalg.norm(F(res.x)))
        if value < best:
            best, best_x = value, res.x
    if not np.isfinite(best):
        raise NumericalFailure("local_residual: the multistart produced no finite residual")
    decoded, is_cover = None, None
    if best < 1e-20:
        b = best_x[:N + 1]
        decoded = tuple(int(round(v)) for v in b[1:] / b[0])
        is_cover = decoded in exact_covers(sets)
    return LocalSearch(best, decoded, is_cover, starts)


@result
class Reduction:
    """The reduction's checks on one instance (Part 2 §F; ``ttc lsa reduction``).

    Attributes
    ----------
    d : int
        Dimension of the C.10 instance.
    covers : list of list of int
        Exact covers by brute force (each: the chosen sets, 1-based).
    groebner_infeasible : bool
        Whether the Groebner basis is {1}.
    best_local_residual : float
        :attr:`LocalSearch.best_residual`.
    local : LocalSearch
        The multistart in full.
    """

    d: int
    covers: list
    groebner_infeasible: bool
    best_local_residual: float
    local: LocalSearch


def reduction(sets, starts: int = 200, seed=0) -> Reduction:
    """Map ``sets`` (1 to 8 non-empty sets of integers) to Problem C.10 and run the three checks."""
    from theory.lsa import exact_cover_groebner, exact_cover_system

    if isinstance(sets, str):
        sets = parse_sets(sets)
    sets = [frozenset(s) for s in sets]
    if not 1 <= len(sets) <= REDUCTION_SETS.high:
        raise InputError("sets", len(sets), f"1 to {REDUCTION_SETS.high} sets")
    system = exact_cover_system(sets)
    covers = [[i + 1 for i, v in enumerate(x) if v] for x in exact_covers(sets)]
    _, infeasible = exact_cover_groebner(sets)
    local = local_residual(sets, starts, seed)
    return Reduction(system.d, covers, infeasible, local.best_residual, local)

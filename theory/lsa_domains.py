"""Declared domains of the LSA theory (Ding et al. 2025; Ahn et al. 2023): one declaration per
parameter for the Python API of :mod:`theory.lsa` (which re-exports them), the numerics
(:mod:`numerics.lsa.domains`) and the ``ttc lsa`` options, in a module without sympy so that the
command line starts fast.
"""

from __future__ import annotations

from theory.domains import choice, integer, rational

__all__ = ["EXACT_MAX_D", "D_ORDERING", "D_EXACT", "P_EXACT", "N_CONTEXT", "N_SCAN", "N_SYMBOLIC",
           "D_SYMBOLIC", "D_IMAGE", "TIME_INDEX", "MATRIX_SIDE", "SYMBOLIC_SIDE", "GAUSS_DIM",
           "KERNEL", "SIGN", "ROOT", "LAYERS_SYMBOLIC"]

#: Largest d for which :func:`markov_moments` does exact rational arithmetic.
EXACT_MAX_D = 4

#: d for the orderings and phi: the feature list has d (d+1)(d+2)/2 entries (5 10^5 at d = 100).
D_ORDERING = integer(1, 100, note="the feature list has d(d+1)(d+2)/2 entries")
#: d for the exact moments: sympy rational arithmetic, about 4 s at d = 4 and minutes beyond.
D_EXACT = integer(1, EXACT_MAX_D, note="exact rational arithmetic takes about 4 s at d = 4 and "
                  "minutes beyond; use the numeric path numerics.lsa.optimum."
                  "markov_moments_numeric (quadrature)")
#: P(s_1 = 1) as an exact rational strictly inside (0, 1).
P_EXACT = rational(0, 1, low_open=True, high_open=True)
#: Number of context chains n (enters the moments as 1/n only: no cost grows with it).
N_CONTEXT = integer(1, 10**9)
#: Upper end of the scan of :func:`smallest_realizable_n` (one exact evaluation per n, about
#: 0.1 ms each: 10^5 values take a few seconds).
N_SCAN = integer(1, 10**5, note="one exact evaluation per n")
#: Context chains of the symbolic single-layer identity (every entry of Z a symbol).
N_SYMBOLIC = integer(1, 4, note="the symbolic expansion grows fast: about 1 s at n_ctx = 4")
#: d of the symbolic single-layer identity.
D_SYMBOLIC = integer(1, 3, note="the symbolic expansion grows fast: about 1 s at d = 3")
#: d of :func:`image_conditions`: d C(d+1, 3)^2 symbolic 3 x 3 minors (7350 at d = 6).
D_IMAGE = integer(1, 6, note="d C(d+1,3)^2 symbolic 3 x 3 minors")
#: Times of :func:`chain_moment` (symbolic kernel powers K^(t-1)).
TIME_INDEX = integer(1, 64, note="symbolic kernel powers K^(t-1)")
#: Side of a matrix given to the exact functions (sympy arithmetic on every entry).
MATRIX_SIDE = integer(1, 200, note="sympy arithmetic on every entry")
#: Side of a symbolic (non-numeric) H in :func:`optimum`: symbolic LU grows very fast.
SYMBOLIC_SIDE = integer(1, 6, note="symbolic LU of rational functions grows very fast")
#: Side of Sigma in the Gaussian closed forms (a sympy matrix inverse).
GAUSS_DIM = integer(1, 12, note="a sympy matrix inverse")
#: The kernel of :func:`markov_moments`.
KERNEL = choice("random", "fixed", "factor")
#: The read-out sign of :func:`lsa_forward`.
SIGN = choice(1, -1)
#: The root of :func:`theorem33_parameters`.
ROOT = choice(0, 1)
#: Layers of :func:`lsa_forward` (each layer multiplies the expression size).
LAYERS_SYMBOLIC = integer(0, 16, note="each symbolic layer multiplies the expression size")

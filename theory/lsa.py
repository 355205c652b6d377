"""Exact (sympy) derivations for linear self-attention (LSA) on Markovian dynamical functions.

Source: Ding, Lu, Lu, Nowicki, Gao, "Optimality and NP-Hardness of Transformers in Learning
Markovian Dynamical Functions", arXiv 2510.18638 (Ding et al. 2025): the single-layer reduction
and the enlarged space (Sec. 3, Lemmas 3.1-3.2, Theorems 3.3-3.4), realisability (Theorem 3.5,
App. C), multilayer LSA (Sec. 4, Theorem 4.1); Gaussian anchors: Ahn et al. 2023 (Thm 1), Zhang,
Frei, Bartlett 2024, Mahankali et al. 2024.

Conventions (one ordering everywhere)
-------------------------------------
A prompt column is :math:`z = (x, y) \\in \\{0,1\\}^{d+1}` (1-based indices ``1..d+1``, index
``d+1`` is the label). The enlarged parameter :math:`X \\in \\mathbb{R}^{dm}`,
:math:`m = (d+1)(d+2)/2`, is ordered block by block ``j = 1..d`` and, inside a block, over the upper
triangle ``1 <= i <= k <= d+1`` row by row: ``(1,1), (1,2), ..., (1,d+1), (2,2), ...``.
:func:`feature_ordering` returns these ``(j, i, k)`` labels; :func:`vech` uses the same order.

.. math::
    X^{(j)}_{(i,k)} = b_i A_{kj} + b_k A_{ij}\\ (i<k), \\qquad X^{(j)}_{(i,i)} = b_i A_{ij},
    \\qquad \\mathrm{TF}_1 = b^\\top G A x_{n+1} = \\langle x_{n+1} \\otimes \\mathrm{vech}(G), X\\rangle.

Moments of the chain are exact polynomials in the kernel entries ``p01 = P(1|0)``,
``p10 = P(0|1)``; the kernel average uses
:math:`\\int_0^1\\int_0^1 p_{01}^a p_{10}^b = 1/((a+1)(b+1))`.
"""

from __future__ import annotations

import math
from functools import lru_cache
from itertools import combinations
from numbers import Integral, Rational, Real

import sympy as sp
from sympy.polys.matrices.exceptions import DMError

from theory.domains import as_rational, integer, parse_rational
from theory.errors import InputError, NumericalFailure, TooLargeError
from theory.lsa_domains import (  # noqa: F401  (the declared domains, re-exported)
    D_EXACT, D_IMAGE, D_ORDERING, D_SYMBOLIC, EXACT_MAX_D, GAUSS_DIM, KERNEL, LAYERS_SYMBOLIC,
    MATRIX_SIDE, N_CONTEXT, N_SCAN, N_SYMBOLIC, P_EXACT, ROOT, SIGN, SYMBOLIC_SIDE, TIME_INDEX)
from theory.results import result

p, n = sp.symbols("p n", positive=True)
p01, p10 = sp.symbols("p01 p10", positive=True)
c1, c2 = sp.symbols("c1 c2", real=True)

__all__ = [
    "p", "n", "p01", "p10", "c1", "c2", "EXACT_MAX_D", "D_ORDERING", "D_EXACT", "P_EXACT",
    "N_CONTEXT", "N_SCAN", "N_SYMBOLIC", "D_SYMBOLIC", "D_IMAGE", "TIME_INDEX", "MATRIX_SIDE",
    "SYMBOLIC_SIDE", "GAUSS_DIM", "KERNEL", "SIGN", "ROOT", "exact_number",
    "LSAOutput", "ImageConditions", "Theorem33Parameters", "EnlargedMoments", "EnlargedOptimum",
    "Theorem33Solution", "SmallestRealizableN", "CorrelationSums", "clear_caches",
    "pair_ordering", "feature_ordering", "vech", "phi", "sym_blocks", "features",
    "lsa_forward", "single_layer_identity_residual", "image_conditions", "image_condition_d1", "theorem33_parameters",
    "chain_moment", "kernel_average", "markov_moments", "optimum", "loss_at", "theorem33",
    "theorem33_realizability_polynomial", "smallest_realizable_n",
    "correlated_moments", "example_c5_moments",
    "objective_R1", "objective_R2", "multilayer_step_paper", "multilayer_step_lsa",
    "gaussian_gamma_star", "gaussian_loss", "gaussian_optimal_loss", "zfb_to_ahn",
    "gaussian_enlarged_optimum",
]


# ----------------------------------------------------------------------------------------------
# Result types


@result
class LSAOutput:
    """Output of an L-layer LSA on one prompt (Ding et al. 2025, Sec. 2; Ahn et al. 2023, Sec. 2).

    .. math:: Z_{l+1} = Z_l + \\tfrac1n P_l Z_l M Z_l^\\top Q_l Z_l, \\qquad
              \\mathrm{TF} = \\pm [Z_L]_{d+1, n+1}.

    Attributes
    ----------
    tf : sympy expression
        The prediction :math:`\\mathrm{TF}` (read with the chosen sign).
    Z : sympy Matrix, shape (d+1, n+1)
        The last prompt matrix :math:`Z_L`.
    """

    tf: sp.Expr
    Z: sp.Matrix


@result
class ImageConditions:
    """Polynomial conditions for :math:`X \\in \\mathrm{im}\\,\\phi` (Ding et al. 2025, Sec. 3 and
    App. C, Problem C.9; the library's reconstruction of the image).

    Attributes
    ----------
    minors : list of sympy expressions
        Every 3 x 3 minor of every block :math:`S_j` (``d * C(d+1, 3)^2`` of them); each must be 0.
    e2 : list of sympy expressions, length d
        :math:`e_2(S_j)`, the sum of the 2 x 2 principal minors of :math:`S_j`; each must be <= 0.
    """

    minors: list
    e2: list


@result
class Theorem33Parameters:
    """Theorem 3.3's one-layer parameters realising X (Ding et al. 2025, Thm 3.3, d = 1):
    :math:`b = (1, \\beta)`, :math:`a = (X_1, X_2 - \\beta X_1)`,
    :math:`X_1\\beta^2 - X_2\\beta + X_3 = 0`.

    Attributes
    ----------
    b : sympy Matrix, shape (2, 1)
        The last row of P, :math:`(1, \\beta)`.
    A : sympy Matrix, shape (2, 1)
        The first column of Q, :math:`(X_1, X_2 - \\beta X_1)`.
    """

    b: sp.Matrix
    A: sp.Matrix


@result
class EnlargedMoments:
    """The moments of the enlarged quadratic loss (Ding et al. 2025, Sec. 3, Lemma 3.2, Thm 3.4).

    .. math:: \\tilde f(X) = X^\\top H X - 2 h^\\top X + E[y_{n+1}].

    Attributes
    ----------
    H : sympy Matrix, shape (dm, dm)
        :math:`E[(x_{n+1}x_{n+1}^\\top) \\otimes (g g^\\top)]`, :math:`m = (d+1)(d+2)/2`; rational
        numbers at rational (p, n), else rational functions of the symbols.
    h : sympy Matrix, shape (dm, 1)
        :math:`E[y_{n+1} x_{n+1} \\otimes g]`.
    Ey : sympy scalar
        :math:`E[y_{n+1}] = E[y_{n+1}^2]` (labels in {0, 1}).
    """

    H: sp.Matrix
    h: sp.Matrix
    Ey: sp.Expr


@result
class EnlargedOptimum:
    """The minimiser of the enlarged loss (Ding et al. 2025, Sec. 3, Lemma 3.1):
    :math:`X^* = H^{-1}h`, :math:`\\tilde f^* = E[y] - h^\\top H^{-1} h`.

    Attributes
    ----------
    X : sympy Matrix, shape (dm, 1)
        :math:`X^*` in the ordering of :func:`feature_ordering`.
    loss : sympy scalar
        :math:`\\tilde f^*` (squared error of a {0, 1} label; dimensionless).
    """

    X: sp.Matrix
    loss: sp.Expr


@result
class Theorem33Solution:
    """Theorem 3.3 of Ding et al. 2025 (d = 1): moments and optimum, rational in p and n.

    Attributes
    ----------
    H : sympy Matrix, shape (3, 3)
        :math:`E[x_{n+1}^2\\, g g^\\top]`, :math:`g = (G_{11}, G_{12}, G_{22})`.
    h : sympy Matrix, shape (3, 1)
        :math:`(p^2/2, p^2/3, p^2/12 + p/4)`.
    Ey : sympy scalar
        :math:`E[y_{n+1}]`.
    X : sympy Matrix, shape (3, 1)
        :math:`X^*(p, n) = H^{-1}h`.
    loss : sympy scalar
        :math:`\\tilde f^*(p, n)`.
    """

    H: sp.Matrix
    h: sp.Matrix
    Ey: sp.Expr
    X: sp.Matrix
    loss: sp.Expr


@result
class SmallestRealizableN:
    """Where Theorem 3.3's parameters exist at a rational p (Ding et al. 2025, Thm 3.3; the
    condition :math:`R(p, n) \\ge 0` is the library's reconstruction).

    Attributes
    ----------
    n_min : int or None
        Smallest n >= 1 with :math:`R(p, n) \\ge 0`; None when no n <= n_max works.
    stays_realizable : bool
        Every n in ``[n_min, n_max]`` is realisable too (False when ``n_min`` is None).
    """

    n_min: int | None
    stays_realizable: bool


@result
class CorrelationSums:
    """The correlation sums of Theorem 3.4 for Example C.5 (Ding et al. 2025).

    Attributes
    ----------
    c1 : sympy scalar
        :math:`\\sum_{i \\le n} E[x_i x_{n+1}] = n p (1-p)^2`.
    c2 : sympy scalar
        :math:`\\sum_{i \\ne j} E[x_i x_j x_{n+1}] = n(n-1) p (1-p)^4`.
    """

    c1: sp.Expr
    c2: sp.Expr


# ----------------------------------------------------------------------------------------------
# Orderings, phi and the single-layer identity


def _check_d(d, domain=D_ORDERING):
    return domain.check("d", d)


_NON_FINITE = (sp.nan, sp.zoo, sp.oo, -sp.oo)


def exact_number(name: str, value, exact: bool = True):
    """One entry of an exact computation, never evaluated from text.

    sympy objects are kept as they are (symbols allowed; NaN, ``zoo`` and infinities refused);
    ints, Fractions and strict rational strings (``"3/10"``, :func:`theory.domains.parse_rational`)
    become sympy Rationals; a finite float becomes the rational of its shortest decimal form
    (``0.1`` -> ``1/10``, as ``sympy.nsimplify`` did) when ``exact``, else a sympy Float.
    Anything else (a bool, a complex, NaN, a string carrying code) raises :class:`InputError`.
    """
    if isinstance(value, bool):
        raise InputError(name, value, "a number or a sympy expression (not a bool)")
    if isinstance(value, sp.Basic):
        if any(value.has(bad) for bad in _NON_FINITE) or (value.is_number and value.is_real is False):
            raise InputError(name, value, "a finite real number or a sympy expression")
        return value
    if isinstance(value, str):
        r = parse_rational(name, value)
        return sp.Rational(r.numerator, r.denominator)
    if isinstance(value, (Integral, Rational)):
        r = as_rational(name, value)
        return sp.Rational(r.numerator, r.denominator)
    if isinstance(value, Real) and not isinstance(value, complex):
        f = float(value)
        if not math.isfinite(f):
            raise InputError(name, value, "a finite real number")
        if not exact:
            return sp.Float(f)
        r = parse_rational(name, repr(f))
        return sp.Rational(r.numerator, r.denominator)
    raise InputError(name, value if isinstance(value, (int, float, complex)) else type(value).__name__,
                     "a finite real number, a Fraction, a string such as '3/10' or a sympy expression")


def _nested(name: str, value, exact: bool):
    if hasattr(value, "tolist") and not isinstance(value, sp.Basic):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return [_nested(name, v, exact) for v in value]
    return exact_number(name, value, exact)


def _matrix(name: str, value, exact: bool = False, side: object = MATRIX_SIDE) -> sp.Matrix:
    """``value`` (a sympy Matrix, nested lists, a numpy array) as a sympy Matrix whose entries
    went through :func:`exact_number` (no string is ever evaluated); each side at most
    ``side.high``."""
    if isinstance(value, sp.MatrixBase):
        for extent in value.shape:
            if extent > side.high:
                raise TooLargeError(name, f"shape {value.shape}", f"at most {side.high} rows and "
                                    f"columns ({side.note})")
        for entry in value:
            exact_number(name, entry, exact)
        return sp.Matrix(value)
    if isinstance(value, (str, bytes)) or not (hasattr(value, "__len__") or hasattr(value, "tolist")):
        raise InputError(name, type(value).__name__, "a matrix or vector (nested sequences of numbers)")
    if hasattr(value, "__len__") and len(value) > side.high:
        raise TooLargeError(name, f"length {len(value)}", f"at most {side.high} ({side.note})")
    rows = _nested(name, value, exact)
    try:
        M = sp.Matrix(rows)
    except (ValueError, TypeError, IndexError) as exc:
        raise InputError(name, "ragged or empty sequence", f"a rectangular matrix ({exc})") from None
    if M.shape[0] == 0 or M.shape[1] == 0 or max(M.shape) > side.high:
        raise InputError(name, f"shape {M.shape}", f"a non-empty matrix with at most {side.high} "
                         "rows and columns")
    return M


def _finite_result(name: str, value):
    """``value`` unless it holds NaN, ``zoo`` or an infinity (then :class:`NumericalFailure`)."""
    items = value if isinstance(value, sp.MatrixBase) else [value]
    for entry in items:
        if isinstance(entry, sp.Basic) and any(entry.has(bad) for bad in _NON_FINITE):
            raise NumericalFailure(f"{name} is not finite: {entry}")
    return value


def pair_ordering(d: int) -> list[tuple[int, int]]:
    """Upper-triangle pairs ``(i, k)``, ``1 <= i <= k <= d+1``, row by row (length m)."""
    _check_d(d)
    return [(i, k) for i in range(1, d + 2) for k in range(i, d + 2)]


def feature_ordering(d: int) -> list[tuple[int, int, int]]:
    """Labels ``(j, i, k)`` of the entries of X (length ``d m``), block ``j`` outermost."""
    return [(j, i, k) for j in range(1, d + 1) for (i, k) in pair_ordering(d)]


def vech(G) -> sp.Matrix:
    """:math:`\\mathrm{vech}(G)` of a symmetric ``(d+1) x (d+1)`` matrix in :func:`pair_ordering`."""
    G = _matrix("G", G, side=integer(2, D_ORDERING.high + 1, note=D_ORDERING.note))
    if G.shape[0] != G.shape[1] or G.shape[0] < 2:
        raise InputError("G", f"shape {G.shape}", "a square (d+1) x (d+1) matrix, d >= 1")
    return sp.Matrix([G[i - 1, k - 1] for (i, k) in pair_ordering(G.shape[0] - 1)])


def phi(b, A) -> sp.Matrix:
    """The enlarged parameter :math:`X = \\phi(b, A)` (Ding et al. 2025, Sec. 3).

    Parameters
    ----------
    b : sequence of length d+1 (last row of P)
    A : (d+1) x d matrix (first d columns of Q)
    """
    b, A = _matrix("b", b), _matrix("A", A)
    d = A.shape[1]
    _check_d(d)
    if b.shape != (d + 1, 1) or A.shape[0] != d + 1:
        raise InputError("A", A.shape, f"a (len(b)) x (len(b)-1) matrix, len(b) = {b.shape[0]}")
    out = []
    for (j, i, k) in feature_ordering(d):
        if i == k:
            out.append(b[i - 1] * A[i - 1, j - 1])
        else:
            out.append(b[i - 1] * A[k - 1, j - 1] + b[k - 1] * A[i - 1, j - 1])
    return sp.Matrix(out)


def sym_blocks(X, d: int) -> list[sp.Matrix]:
    """The symmetric matrices :math:`S_j` of X (diagonal :math:`X_{(i,i)}`, off-diagonal
    :math:`X_{(i,k)}/2`), so that :math:`\\phi(b,A) = X \\iff S_j = (b a_j^\\top + a_j b^\\top)/2`."""
    _check_d(d)
    m = (d + 1) * (d + 2) // 2
    if isinstance(X, (str, bytes)) or not hasattr(X, "__len__") and not hasattr(X, "tolist"):
        raise InputError("X", type(X).__name__, f"a sequence of d*m = {d * m} numbers")
    X = list(X.tolist() if hasattr(X, "tolist") and not isinstance(X, sp.MatrixBase) else X)
    if len(X) != d * m:
        raise InputError("X", f"length {len(X)}", f"length d*m = {d * m} for d={d}")
    X = [exact_number("X", v) for v in X]
    blocks = []
    for j in range(d):
        S = sp.zeros(d + 1, d + 1)
        for t, (i, k) in enumerate(pair_ordering(d)):
            value = X[j * m + t]
            if i == k:
                S[i - 1, i - 1] = value
            else:
                S[i - 1, k - 1] = S[k - 1, i - 1] = value / 2
        blocks.append(S)
    return blocks


def features(Z) -> sp.Matrix:
    """:math:`x_{n+1} \\otimes \\mathrm{vech}(G)` with :math:`G = \\frac1n\\sum_{i\\le n} z_i z_i^\\top`
    for a prompt ``Z`` of shape ``(d+1) x (n+1)`` (last column: query, label slot ignored)."""
    Z = _matrix("Z", Z)
    d, ncols = Z.shape[0] - 1, Z.shape[1]
    if d < 1 or ncols < 2:
        raise InputError("Z", f"shape {Z.shape}", "a (d+1) x (n+1) prompt with d >= 1, n >= 1")
    ctx = Z[:, : ncols - 1]
    G = ctx * ctx.T / (ncols - 1)
    g = vech(G)
    x = Z[:d, ncols - 1]
    return sp.Matrix([x[j] * g[t] for j in range(d) for t in range(g.shape[0])])


def lsa_forward(P_list, Q_list, Z, sign: int = 1) -> LSAOutput:
    """Output of an L-layer LSA: :math:`Z_{l+1} = Z_l + \\frac1n P_l Z_l M Z_l^\\top Q_l Z_l`,
    :math:`\\mathrm{TF} = \\pm [Z_L]_{d+1,n+1}` (``sign=+1``: Ding et al., ``-1``: Ahn et al.).
    Returns an :class:`LSAOutput` (``tf``, ``Z``)."""
    SIGN.check("sign", sign)
    Z = _matrix("Z", Z)
    cols, rows = Z.shape[1], Z.shape[0]
    if cols < 2:
        raise InputError("Z", f"shape {Z.shape}", "a (d+1) x (n+1) prompt with n >= 1")
    P_list, Q_list = list(P_list), list(Q_list)
    if len(P_list) != len(Q_list) or len(P_list) > LAYERS_SYMBOLIC.high:
        raise InputError("P_list, Q_list", f"{len(P_list)} and {len(Q_list)} matrices",
                         f"as many P as Q, at most {LAYERS_SYMBOLIC.high} layers "
                         f"({LAYERS_SYMBOLIC.note})")
    mats = []
    for l, (P, Q) in enumerate(zip(P_list, Q_list)):
        P, Q = _matrix(f"P_list[{l}]", P), _matrix(f"Q_list[{l}]", Q)
        if P.shape != (rows, rows) or Q.shape != (rows, rows):
            raise InputError(f"P_list[{l}], Q_list[{l}]", f"shapes {P.shape}, {Q.shape}",
                             f"{rows} x {rows} matrices (Z has {rows} rows)")
        mats.append((P, Q))
    M = sp.diag(*([1] * (cols - 1) + [0]))
    for P, Q in mats:
        Z = Z + P * Z * M * Z.T * Q * Z / (cols - 1)
    return LSAOutput(sign * Z[Z.shape[0] - 1, cols - 1], Z)


def single_layer_identity_residual(d: int, n_ctx: int) -> sp.Expr:
    """``TF_1(Z) - <x_{n+1} (kron) vech(G), phi(b, A)>`` with every entry of Z, P, Q symbolic
    (expanded; it is 0 exactly when the single-layer identity of Ding et al. 2025, Sec. 3 holds)."""
    _check_d(d, D_SYMBOLIC)
    N_SYMBOLIC.check("n_ctx", n_ctx)
    Z = sp.Matrix(d + 1, n_ctx + 1, lambda r, c: sp.Symbol(f"z{r}_{c}"))
    Z[d, n_ctx] = 0
    P = sp.Matrix(d + 1, d + 1, lambda r, c: sp.Symbol(f"P{r}{c}"))
    Q = sp.Matrix(d + 1, d + 1, lambda r, c: sp.Symbol(f"Q{r}{c}"))
    tf = lsa_forward([P], [Q], Z).tf
    X = phi(P[d, :].T, Q[:, :d])
    return sp.expand(tf - (features(Z).T * X)[0])


def image_conditions(X, d: int) -> ImageConditions:
    """Per-block conditions for :math:`X \\in \\mathrm{im}\\,\\phi` (Ding et al. 2025, Sec. 3).

    :math:`S_j = (b a_j^\\top + a_j b^\\top)/2` has rank at most 2 and at most one positive and
    one negative eigenvalue, i.e. every 3 x 3 minor vanishes (``minors``, expressions that must be
    0) and :math:`e_2(S_j) = \\sum` of 2 x 2 principal minors :math:`= \\lambda_1\\lambda_2 \\le 0`
    (``e2``, expressions that must be <= 0); returns them as :class:`ImageConditions`. Together
    with a direction b shared by all blocks (checked by :func:`numerics.lsa.realizability.recover`)
    they are also sufficient. For d = 1 the only
    condition is :math:`e_2 = X_1X_3 - X_2^2/4 \\le 0`, i.e. :math:`X_2^2 \\ge 4X_1X_3`."""
    _check_d(d, D_IMAGE)
    blocks = sym_blocks(X, d)
    size = d + 1
    minors, e2 = [], []
    for S in blocks:
        for rows in combinations(range(size), 3):
            for cols in combinations(range(size), 3):
                minors.append(sp.expand(S.extract(list(rows), list(cols)).det()))
        e2.append(sp.expand(sum(S.extract([i, k], [i, k]).det() for i, k in combinations(range(size), 2))))
    return ImageConditions(minors, e2)


def image_condition_d1(X) -> sp.Expr:
    """For d = 1, :math:`X \\in \\mathrm{im}\\,\\phi \\iff X_2^2 - 4 X_1 X_3 \\ge 0` (returns the
    left-hand side)."""
    if isinstance(X, (str, bytes)) or not hasattr(X, "__len__"):
        raise InputError("X", type(X).__name__, "a sequence of 3 numbers (d = 1)")
    X = list(X)
    if len(X) != 3:
        raise InputError("X", f"length {len(X)}", "length 3 (d = 1)")
    X = [exact_number("X", v, exact=False) for v in X]
    return X[1] ** 2 - 4 * X[0] * X[2]


def theorem33_parameters(X, root: int = 0) -> Theorem33Parameters:
    """Theorem 3.3's choice (Ding et al. 2025) :math:`b = (1, \\beta)`,
    :math:`a = (X_1, X_2 - \\beta X_1)` with :math:`X_1\\beta^2 - X_2\\beta + X_3 = 0` (``root`` 0 or
    1 picks the root). Returns :class:`Theorem33Parameters` (``b``, ``A``); raises
    :class:`InputError` when X is not in the image (no real beta)."""
    ROOT.check("root", root)
    if isinstance(X, (str, bytes)) or not hasattr(X, "__len__") or len(X) != 3:
        raise InputError("X", X if isinstance(X, str) else type(X).__name__,
                         "a sequence of 3 numbers (d = 1)")
    X1, X2, X3 = [exact_number("X", v) for v in X]
    disc = image_condition_d1([X1, X2, X3])
    if disc.is_number and disc < 0:
        raise InputError("X", list(X), "a point with X2^2 >= 4 X1 X3 (the image of phi, d = 1)")
    if X1 == 0:
        beta = X3 / X2 if X2 != 0 else sp.Integer(0)
    else:
        beta = (X2 + (-1) ** root * sp.sqrt(disc)) / (2 * X1)
    return Theorem33Parameters(sp.Matrix([1, beta]), sp.Matrix([[X1], [X2 - beta * X1]]))


# ----------------------------------------------------------------------------------------------
# Chain moments and the exact kernel average


def _kernel(pa, pb):
    return sp.Matrix([[1 - pa, pa], [pb, 1 - pb]])


@lru_cache(maxsize=None)
def _kernel_power_11(k: int):
    return sp.expand((_kernel(p01, p10) ** k)[1, 1])


@lru_cache(maxsize=None)
def _marginal(t: int, p_init):
    row = sp.Matrix([[1 - p_init, p_init]]) * _kernel(p01, p10) ** (t - 1)
    return sp.expand(row[0, 1])


def clear_caches() -> None:
    """Forget the cached kernel powers and marginals of :func:`chain_moment` (so a benchmark times
    a cold derivation)."""
    _kernel_power_11.cache_clear()
    _marginal.cache_clear()


def chain_moment(times, p_init=p) -> sp.Expr:
    """:math:`E[s_{t_1}\\cdots s_{t_r} \\mid K] = \\mu_{t_1}\\prod_l (K^{t_{l+1}-t_l})_{11}` as a
    polynomial in ``p01, p10`` (and ``p_init``); duplicate times collapse (``s^2 = s``)."""
    if isinstance(times, (str, bytes)) or not hasattr(times, "__iter__"):
        raise InputError("times", times, "a sequence of integer times >= 1")
    ts = sorted(set(TIME_INDEX.check("times", t) for t in times))
    p_init = _check_p(p_init, "p_init")
    if not ts:
        return sp.Integer(1)
    out = _marginal(ts[0], p_init)
    for a, b in zip(ts, ts[1:]):
        out = out * _kernel_power_11(b - a)
    return sp.expand(out)


def kernel_average(expr) -> sp.Expr:
    """:math:`E_K[\\cdot]` for ``p01, p10 ~ U(0,1)`` i.i.d.: exact term-by-term integration."""
    expr = exact_number("expr", expr, exact=False)
    try:
        poly = sp.Poly(sp.expand(expr), p01, p10)
    except sp.PolynomialError as exc:
        raise InputError("expr", expr, f"a polynomial in p01, p10 ({exc})") from None
    return sp.expand(sum(c / ((a + 1) * (b + 1)) for (a, b), c in poly.terms()))


def _check_p(p_value, name: str = "p"):
    """p as a sympy number in (0, 1) or a symbol; strings go through the strict rational parser,
    floats are read as their shortest decimal (0.1 -> 1/10); nothing is evaluated."""
    if isinstance(p_value, sp.Symbol):
        return p_value
    expected = "a probability strictly between 0 and 1 (or the symbol p)"
    value = exact_number(name, p_value)
    try:
        inside = bool(value.is_number and value.is_real and 0 < value < 1)
    except TypeError:
        inside = False
    if not inside:
        raise InputError(name, p_value, expected)
    return value


def _check_n(n_value, name: str = "n"):
    if isinstance(n_value, sp.Symbol):
        return n_value
    if isinstance(n_value, sp.Integer):
        n_value = int(n_value)
    return sp.Integer(N_CONTEXT.check(name, n_value))


def markov_moments(d: int, p_value=p, n_value=n, kernel: str = "random") -> EnlargedMoments:
    """Exact :math:`(H, h, E[y_{n+1}])` of the enlarged quadratic loss
    :math:`\\tilde f(X) = X^\\top H X - 2 h^\\top X + E[y_{n+1}]` (Ding et al. 2025, Sec. 3; the
    fixed-kernel case is Lemma 3.2).

    .. math::
        H = E_K\\big[E[x x^\\top|K] \\otimes E[g g^\\top|K]\\big], \\quad
        h = E_K\\big[E[y x|K] \\otimes E[g|K]\\big],\\quad
        E[G_{ik}G_{ab}|K] = \\tfrac1n m_{ikab} + (1-\\tfrac1n) m_{ik} m_{ab}.

    Parameters
    ----------
    d : chain prefix length (``x = s_{1:d}``, ``y = s_{d+1}``); exact path for ``d <= EXACT_MAX_D``.
    p_value : initial law ``P(s_1 = 1)``; a rational or the symbol :data:`p`.
    n_value : number of context chains; an integer or the symbol :data:`n`.
    kernel : ``"random"`` (the paper's task, Kronecker products averaged over the kernel),
        ``"fixed"`` (Lemma 3.2, conditional on K: entries polynomials in ``p01, p10``), or
        ``"factor"`` (the factors averaged separately, :math:`E_K[xx^\\top] \\otimes E_K[gg^\\top]`;
        equal to ``"random"`` for d = 1 only).

    Returns
    -------
    EnlargedMoments
        ``H`` (dm, dm), ``h`` (dm, 1), ``Ey``.
    """
    _check_d(d)
    KERNEL.check("kernel", kernel)
    if d > EXACT_MAX_D:
        raise TooLargeError("d", d, f"d <= {EXACT_MAX_D} for exact rational arithmetic; use the "
                            "numeric path numerics.lsa.optimum.markov_moments_numeric (quadrature)")
    pv, nv = _check_p(p_value), _check_n(n_value)
    pairs = pair_ordering(d)
    key = lambda *idx: tuple(sorted(set(idx)))
    poly = lru_cache(maxsize=None)(lambda ts: sp.Poly(chain_moment(ts, pv), p01, p10))
    if kernel == "fixed":
        mean = lambda q: q.as_expr()
    else:
        mean = lambda q: sum(c / ((a + 1) * (b + 1)) for (a, b), c in q.terms())

    @lru_cache(maxsize=None)
    def same_chain(jl, s4):            # E_K[ m_{jl} m_{ikab} ]  (or conditional)
        return mean(poly(jl) * poly(s4))

    @lru_cache(maxsize=None)
    def cross_chain(jl, s, t):         # E_K[ m_{jl} m_{ik} m_{ab} ]
        return mean(poly(jl) * poly(s) * poly(t))

    m = len(pairs)
    H = sp.zeros(d * m, d * m)
    h = sp.zeros(d * m, 1)
    w1, w2 = 1 / nv, 1 - 1 / nv
    if kernel == "factor":
        xx = [[mean(poly(key(j, l))) for l in range(1, d + 1)] for j in range(1, d + 1)]
        gg = [[w1 * mean(poly(key(*pairs[s], *pairs[t]))) + w2 * mean(poly(key(*pairs[s])) * poly(key(*pairs[t])))
               for t in range(m)] for s in range(m)]
    for j in range(d):
        for l in range(j, d):
            jl = key(j + 1, l + 1)
            for s in range(m):
                for t in range(s, m):
                    if kernel == "factor":
                        val = xx[j][l] * gg[s][t]
                    else:
                        val = (w1 * same_chain(jl, key(*pairs[s], *pairs[t]))
                               + w2 * cross_chain(jl, *sorted((key(*pairs[s]), key(*pairs[t])))))
                    for (r, c) in {(j * m + s, l * m + t), (j * m + t, l * m + s),
                                   (l * m + s, j * m + t), (l * m + t, j * m + s)}:
                        H[r, c] = val
        yx = key(j + 1, d + 1)
        for s in range(m):
            h[j * m + s] = (mean(poly(yx)) * mean(poly(key(*pairs[s]))) if kernel == "factor"
                            else mean(poly(yx) * poly(key(*pairs[s]))))
    Ey = mean(poly((d + 1,)))
    if all(e.is_Rational for e in H):
        return EnlargedMoments(H, h, sp.Rational(Ey))
    return EnlargedMoments(H.applyfunc(sp.expand), h.applyfunc(sp.expand), sp.expand(Ey))


def optimum(H, h, Ey) -> EnlargedOptimum:
    """:math:`X^* = H^{-1}h`, :math:`\\tilde f^* = E[y] - h^\\top H^{-1} h` (Ding et al. 2025, Sec. 3;
    simplified; rational matrices are solved over QQ with sympy's DomainMatrix).

    Parameters
    ----------
    H : sympy Matrix, shape (dm, dm); h : sympy Matrix, shape (dm, 1); Ey : sympy scalar
        The fields of an :class:`EnlargedMoments`.
    """
    H, h, Ey = _check_moments(H, h, Ey)
    try:
        if all(e.is_Rational for e in H) and all(e.is_Rational for e in h):
            from sympy.polys.matrices import DomainMatrix

            X = DomainMatrix.from_Matrix(H).convert_to(sp.QQ).lu_solve(
                DomainMatrix.from_Matrix(h).convert_to(sp.QQ)).to_Matrix()
            if not Ey.is_Rational:
                return EnlargedOptimum(X, _finite_result("loss", sp.factor(Ey - (h.T * X)[0])))
            return EnlargedOptimum(X, sp.Rational(Ey - (h.T * X)[0]))
        if H.shape[0] > SYMBOLIC_SIDE.high and not all(e.is_number for e in H):
            raise TooLargeError("H", f"a symbolic {H.shape[0]} x {H.shape[0]} matrix",
                                f"at most {SYMBOLIC_SIDE.high} x {SYMBOLIC_SIDE.high} "
                                f"({SYMBOLIC_SIDE.note})")
        X = H.LUsolve(h)
    except (ValueError, ZeroDivisionError, DMError) as exc:  # sympy: singular H
        if isinstance(exc, InputError):
            raise
        raise InputError("H", f"a {H.shape[0]} x {H.shape[0]} matrix", "a non-singular "
                         f"(positive-definite) matrix ({type(exc).__name__}: {exc})") from None
    X = _finite_result("X", X.applyfunc(sp.factor))
    loss = _finite_result("loss", sp.factor(Ey - (h.T * X)[0]))
    return EnlargedOptimum(X, loss)


def _check_moments(H, h, Ey):
    """(H, h, Ey) as sympy objects of matching shapes (square H, column h), entries checked."""
    H, h = _matrix("H", H), _matrix("h", h)
    if H.shape[0] != H.shape[1]:
        raise InputError("H", f"shape {H.shape}", "a square matrix")
    if h.shape == (1, H.shape[0]) and H.shape[0] > 1:
        h = h.T
    if h.shape != (H.shape[0], 1):
        raise InputError("h", f"shape {h.shape}", f"a vector of length {H.shape[0]} (H is "
                         f"{H.shape[0]} x {H.shape[0]})")
    return H, h, exact_number("Ey", Ey, exact=False)


def loss_at(X, H, h, Ey) -> sp.Expr:
    """:math:`\\tilde f(X) = X^\\top H X - 2h^\\top X + E[y]`."""
    H, h, Ey = _check_moments(H, h, Ey)
    X = _matrix("X", X)
    if X.shape == (1, H.shape[0]) and H.shape[0] > 1:
        X = X.T
    if X.shape != (H.shape[0], 1):
        raise InputError("X", f"shape {X.shape}", f"a vector of length {H.shape[0]}")
    return _finite_result("loss", sp.expand((X.T * H * X)[0] - 2 * (h.T * X)[0] + Ey))


def theorem33(p_value=p, n_value=n) -> Theorem33Solution:
    """Theorem 3.3 of Ding et al. 2025 (d = 1): H, h, E[y], X* and f~*, rational in p and n
    (symbolic by default, or at a rational ``p_value`` and integer ``n_value``)."""
    mom = markov_moments(1, p_value, n_value)
    opt = optimum(mom.H, mom.h, mom.Ey)
    return Theorem33Solution(mom.H, mom.h, mom.Ey, opt.X, opt.loss)


@lru_cache(maxsize=1)
def theorem33_realizability_polynomial() -> sp.Expr:
    r""":math:`R(p, n)` with :math:`X_2^{*2} - 4X_1^*X_3^* = n^2 R(p,n) / (\text{a square})`, so
    Theorem 3.3's parameters exist (X* in the image of phi) iff :math:`R(p, n) \ge 0`."""
    X = theorem33().X
    num, _ = sp.fraction(sp.factor(image_condition_d1(X)))
    return sp.expand(sp.cancel(num / n**2))


def smallest_realizable_n(p_value, n_max: int = 10_000) -> SmallestRealizableN:
    r"""Smallest n >= 1 with :math:`R(p, n) \ge 0` at rational ``p`` (exact), and whether every n in
    ``[n_min, n_max]`` is realisable too (Ding et al. 2025, Thm 3.3). Returns
    :class:`SmallestRealizableN`; ``n_min`` is None when no n <= n_max works."""
    pv = _check_p(p_value)
    N_SCAN.check("n_max", n_max)
    R = sp.Poly(theorem33_realizability_polynomial().subs(p, pv), n)
    coeffs = [sp.Rational(c) for c in R.all_coeffs()]
    value = lambda k: sum(c * k ** (len(coeffs) - 1 - i) for i, c in enumerate(coeffs))
    n_min = next((k for k in range(1, n_max + 1) if value(k) >= 0), None)
    if n_min is None:
        return SmallestRealizableN(None, False)
    return SmallestRealizableN(n_min, all(value(k) >= 0 for k in range(n_min, n_max + 1)))


# ----------------------------------------------------------------------------------------------
# Theorem 3.4: correlated initial states (d = 1)


def correlated_moments(p_value=p, n_value=n, c1_value=c1, c2_value=c2) -> EnlargedMoments:
    """Theorem 3.4's moments (Ding et al. 2025) for d = 1 with correlated initial states.

    :math:`c_1 = \\sum_{i\\le n} E[x_i x_{n+1}]`, :math:`c_2 = \\sum_{i\\ne j} E[x_i x_j x_{n+1}]`,
    :math:`E[x_{n+1}] = p`; labels :math:`y_i \\mid x_i, K \\sim \\mathrm{Bern}(x_i p_{11} + (1-x_i)
    p_{01})` independently. With per-chain :math:`u_i = (x_i, x_i y_i, y_i)`,
    :math:`E[u_i|x_i,K] = x_i\\alpha + (1-x_i)\\beta`, :math:`\\alpha = (1, p_{11}, p_{11})`,
    :math:`\\beta = (0, 0, p_{01})`, and :math:`H = \\frac{1}{n^2} E[x_{n+1}\\sum_{i,l} u_i u_l^\\top]`.
    """
    pv, nv = _check_p(p_value), _check_n(n_value)
    c1_value, c2_value = exact_number("c1", c1_value), exact_number("c2", c2_value)
    p11 = 1 - p10
    alpha = sp.Matrix([1, p11, p11])
    beta = sp.Matrix([0, 0, p01])
    A1 = sp.Matrix([[1, p11, p11], [p11, p11, p11], [p11, p11, p11]])
    A0 = sp.Matrix([[0, 0, 0], [0, 0, 0], [0, 0, p01]])
    # sums over context chains of E[x_{n+1} * (x_i or 1-x_i) * (x_l or 1-x_l)]
    diag1, diag0 = c1_value, nv * pv - c1_value
    s11 = c2_value
    s10 = (nv - 1) * c1_value - c2_value
    s00 = nv * (nv - 1) * pv - 2 * (nv - 1) * c1_value + c2_value
    inner = (diag1 * A1 + diag0 * A0 + s11 * alpha * alpha.T + s10 * (alpha * beta.T + beta * alpha.T)
             + s00 * beta * beta.T)
    H = inner.applyfunc(lambda e: sp.factor(kernel_average(e) / nv ** 2))
    # h_s = E[y_{n+1} x_{n+1} g_s] = E[x_{n+1} p11 (1/n) sum_i E[u_i|x_i,K]]
    hv = (c1_value * p11 * alpha + (nv * pv - c1_value) * p11 * beta) / nv
    h = hv.applyfunc(lambda e: sp.factor(kernel_average(e)))
    Ey = kernel_average(pv * p11 + (1 - pv) * p01)
    return EnlargedMoments(H, h, Ey)


def example_c5_moments(p_value=p, n_value=n) -> CorrelationSums:
    """The sums ``c1, c2`` of Example C.5 (Ding et al. 2025): :math:`x_{n+1}\\sim\\mathrm{Bern}(p)`,
    :math:`x_i | x_{n+1} \\sim \\mathrm{Bern}((x_{n+1}-p)^2)` i.i.d.:
    :math:`c_1 = n p (1-p)^2`, :math:`c_2 = n(n-1) p (1-p)^4`."""
    pv, nv = _check_p(p_value), _check_n(n_value)
    return CorrelationSums(nv * pv * (1 - pv) ** 2, nv * (nv - 1) * pv * (1 - pv) ** 4)


# ----------------------------------------------------------------------------------------------
# Theorem 4.1: multilayer LSA as preconditioned multi-objective gradient descent


def _regression_data(w, xs, ys):
    """``w`` (d,), ``xs`` (n, d), ``ys`` (n,) as sympy column vectors / matrix, shapes checked."""
    w, xs, ys = _matrix("w", w), _matrix("xs", xs), _matrix("ys", ys)
    w = w.T if w.shape[0] == 1 and w.shape[1] > 1 else w
    ys = ys.T if ys.shape[0] == 1 and ys.shape[1] > 1 else ys
    if w.shape[1] != 1 or xs.shape[1] != w.shape[0]:
        raise InputError("xs", f"shape {xs.shape}", f"an n x d matrix with d = len(w) = {w.shape[0]}")
    if ys.shape != (xs.shape[0], 1):
        raise InputError("ys", f"shape {ys.shape}", f"a vector of length n = {xs.shape[0]}")
    return w, xs, ys


def objective_R1(w, xs, ys) -> sp.Matrix:
    """:math:`R_{1,k}(w) = -\\frac1n\\sum_j x_{j,k} w^\\top x_j` (k <= d),
    :math:`R_{1,d+1}(w) = \\frac{1}{2n}\\sum_j (w^\\top x_j - y_j)^2`.

    ``w``: d-vector, ``xs``: n x d matrix (rows x_j), ``ys``: n-vector."""
    w, xs, ys = _regression_data(w, xs, ys)
    N, d = xs.shape
    pred = [(xs[j, :] * w)[0] for j in range(N)]
    rows = [-sum(xs[j, k] * pred[j] for j in range(N)) / N for k in range(d)]
    rows.append(sum((pred[j] - ys[j]) ** 2 for j in range(N)) / (2 * N))
    return sp.Matrix(rows)


def objective_R2(w, xs, ys) -> sp.Matrix:
    """Theorem 4.1's second objective (Ding et al. 2025, Sec. 4), piecewise in :math:`x_{j,d} = 0`.

    .. math::
        R_{2,k}(w) = \\tfrac1n\\sum_j x_{j,k}\\big[-(y_j - \\langle w_{:d-1}, x_{j,:d-1}\\rangle) w_d
        + x_{j,d} w_d^2/2\\big]\\ (k \\le d), \\qquad
        R_{2,d+1}(w) = \\tfrac1n\\sum_j \\begin{cases} (y_j - w^\\top x_j)^3/(3x_{j,d}) & x_{j,d}\\ne 0\\\\
        -(y_j - \\langle w_{:d-1}, x_{j,:d-1}\\rangle)^2 w_d & x_{j,d} = 0 \\end{cases}

    ``w``: d-vector, ``xs``: n x d matrix (rows x_j), ``ys``: n-vector."""
    w, xs, ys = _regression_data(w, xs, ys)
    N, d = xs.shape
    head = [ys[j] - sum(w[k] * xs[j, k] for k in range(d - 1)) for j in range(N)]
    rows = [sum(xs[j, k] * (-head[j] * w[d - 1] + xs[j, d - 1] * w[d - 1] ** 2 / 2)
                for j in range(N)) / N for k in range(d)]
    last = 0
    for j in range(N):
        xd = xs[j, d - 1]
        if xd != 0:
            last += (ys[j] - (xs[j, :] * w)[0]) ** 3 / (3 * xd)
        else:
            last += -head[j] ** 2 * w[d - 1]
    rows.append(last / N)
    return sp.Matrix(rows)


def _layer(b, Abar, a, d):
    b, Abar, a = _matrix("b", b), _matrix("Abar", Abar), _matrix("a", a)
    if b.shape != (d + 1, 1) or Abar.shape != (d, d) or a.shape != (d, 1):
        raise InputError("b, Abar, a", f"shapes {b.shape}, {Abar.shape}, {a.shape}",
                         f"b of length {d + 1}, Abar {d} x {d}, a of length {d}")
    return b, Abar, a


def multilayer_step_paper(w, b, Abar, a, xs, ys) -> sp.Matrix:
    """Theorem 4.1: :math:`w_{l+1}^\\top = w_l^\\top - b^\\top(\\partial R_1 \\bar A +
    \\partial R_2 [0_{(d-1)\\times d}; a^\\top])` (Jacobians at :math:`w_l`)."""
    w = sp.Matrix(w)
    d = w.shape[0]
    ws = sp.Matrix(sp.symbols(f"_w0:{d}"))
    subs = dict(zip(ws, w))
    J1 = objective_R1(ws, xs, ys).jacobian(ws).subs(subs)
    J2 = objective_R2(ws, xs, ys).jacobian(ws).subs(subs)
    lower = sp.zeros(d - 1, d).col_join(sp.Matrix(a).T)
    step = sp.Matrix(b).T * (J1 * sp.Matrix(Abar) + J2 * lower)
    return (w.T - step).T


def multilayer_step_lsa(w, b, Abar, a, xs, ys) -> sp.Matrix:
    """The same step read off one LSA layer with :math:`A_l = -[\\bar A; a^\\top]`:
    :math:`w_{l+1}^\\top = w_l^\\top - b^\\top G_l A_l`, :math:`G_l = \\frac1n\\sum_j z_j z_j^\\top`,
    :math:`z_j = (x_j, y_j - w_l^\\top x_j)`."""
    w, xs, ys = _regression_data(w, xs, ys)
    N, d = xs.shape
    b, Abar, a = _layer(b, Abar, a, d)
    Z = xs.T.col_join(sp.Matrix([[ys[j] - (xs[j, :] * w)[0] for j in range(N)]]))
    G = Z * Z.T / N
    A = -(sp.Matrix(Abar).col_join(sp.Matrix(a).T))
    return (w.T - sp.Matrix(b).T * G * A).T


# ----------------------------------------------------------------------------------------------
# Section 5: Gaussian linear regression (Ahn et al.; Zhang-Frei-Bartlett; Mahankali et al.)


def _check_sigma(Sigma, name: str = "Sigma") -> sp.Matrix:
    S = _matrix(name, Sigma, side=GAUSS_DIM)
    if S.shape[0] != S.shape[1] or S != S.T:
        raise InputError(name, S.tolist(), "a symmetric square matrix")
    if all(e.is_number for e in S) and not S.is_positive_definite:
        raise InputError(name, S.tolist(), "a positive-definite (non-singular) covariance")
    return S


def _check_noise(noise):
    value = exact_number("noise", noise)
    if value.is_number and not value >= 0:
        raise InputError("noise", noise, "a variance >= 0")
    return value


def gaussian_gamma_star(Sigma, n_value=n, noise=0) -> sp.Matrix:
    """:math:`\\Gamma^* = (\\frac{n+1}{n}\\Sigma + \\frac{\\mathrm{tr}\\Sigma + \\sigma^2}{n} I)^{-1}`
    (Ahn et al. Thm 1; ``noise`` = :math:`\\sigma^2`)."""
    S = _check_sigma(Sigma)
    nv = _check_n(n_value)
    noise = _check_noise(noise)
    C = (nv + 1) / nv * S + (S.trace() + noise) / nv * sp.eye(S.shape[0])
    return C.inv().applyfunc(sp.factor)


def gaussian_loss(Gamma, Sigma, n_value=n, noise=0) -> sp.Expr:
    """:math:`L(\\Gamma) = \\mathrm{tr}\\Sigma + \\sigma^2 - 2\\mathrm{tr}(\\Gamma\\Sigma^2) +
    \\mathrm{tr}(\\Gamma^\\top\\Sigma\\Gamma[\\frac{n+1}{n}\\Sigma^2 + \\frac{\\mathrm{tr}\\Sigma+\\sigma^2}{n}
    \\Sigma])` for the prediction :math:`x_{n+1}^\\top\\Gamma\\frac1n\\sum_i y_i x_i`."""
    S, G = _check_sigma(Sigma), _matrix("Gamma", Gamma, side=GAUSS_DIM)
    if G.shape != S.shape:
        raise InputError("Gamma", f"shape {G.shape}", f"shape {S.shape} (as Sigma)")
    nv = _check_n(n_value)
    noise = _check_noise(noise)
    B = (nv + 1) / nv * S * S + (S.trace() + noise) / nv * S
    return sp.simplify(S.trace() + noise - 2 * (G * S * S).trace() + (G.T * S * G * B).trace())


def gaussian_optimal_loss(Sigma, n_value=n, noise=0) -> sp.Expr:
    """:math:`L^* = \\mathrm{tr}\\Sigma + \\sigma^2 - \\mathrm{tr}(\\Gamma^*\\Sigma^2)`; isotropic,
    noiseless: :math:`d(d+1)/(n+d+1)`."""
    S = _check_sigma(Sigma)
    noise = _check_noise(noise)
    G = gaussian_gamma_star(S, n_value, noise)
    return sp.factor(S.trace() + noise - (G * S * S).trace())


def zfb_to_ahn(Lambda, N) -> sp.Matrix:
    """Zhang-Frei-Bartlett's :math:`\\Gamma_{ZFB} = (1+1/N)\\Lambda + \\mathrm{tr}(\\Lambda)/N\\,I`
    mapped to Ahn's preconditioner :math:`\\Gamma^* = \\Gamma_{ZFB}^{-1}` (noiseless)."""
    L = _check_sigma(Lambda, "Lambda")
    N = _check_n(N, "N")
    zfb = (1 + sp.Integer(1) / N) * L + L.trace() / N * sp.eye(L.shape[0])
    return zfb.inv()


def gaussian_enlarged_optimum(Sigma, n_value=n, noise=0) -> sp.Matrix:
    """The enlarged-space optimum of the Gaussian task: sparse,
    :math:`X^{(j)}_{(k,d+1)} = \\Gamma^*_{jk}` and 0 elsewhere (the :math:`w\\to-w` symmetry kills
    the even features); realised by :math:`b = e_{d+1}`, :math:`A = [\\Gamma^{*\\top}; 0]`."""
    G = gaussian_gamma_star(Sigma, n_value, noise)
    d = G.shape[0]
    return sp.Matrix([G[j - 1, i - 1] if k == d + 1 and i <= d else 0
                      for (j, i, k) in feature_ordering(d)])


# ==============================================================================================
# Part 2 (issue 15, spec lsa.md Part 2 sections A, E, F): the Pareto front of R_1 (Fig. 2),
# k-state chains with Dirichlet kernels (Lemma C.8), phi as Problem C.10 and the EXACT COVER
# reduction (Thm 3.5 / C.14). Fast exact k-state moments (python-flint) live in
# numerics.lsa.kstate; this part is the sympy form a reader can inspect, and the d = 1
# cross-check of that code.

__all__ += ["pareto_front", "least_squares_parts", "dirichlet_moment", "kstate_chain_moment",
            "kstate_kernel_average", "kstate_optimum_d1", "c10_matrices_phi",
            "c10_apply", "exact_cover_dimension", "exact_cover_system", "exact_cover_groebner",
            "ExactCoverSystem"]


def least_squares_parts(xs, ys):
    """``(M, c, w_LS, L_LS)`` of one prompt, exact: :math:`M = \\frac1n\\sum_j x_jx_j^\\top`,
    :math:`c = \\frac1n\\sum_j y_jx_j`, :math:`w_{LS} = M^{-1}c`,
    :math:`L_{LS} = \\frac{1}{2n}\\sum_j(w_{LS}^\\top x_j - y_j)^2` (Part 2 §A). ``xs`` n x d,
    ``ys`` length n (M must be invertible)."""
    w0 = sp.zeros(_matrix("xs", xs).shape[1], 1)
    _, xs, ys = _regression_data(w0, xs, ys)
    N = xs.shape[0]
    M = xs.T * xs / N
    if M.det() == 0:
        raise InputError("xs", "a singular M", "context rows x_j spanning R^d (M invertible)")
    c = xs.T * ys / N
    w = M.LUsolve(c)
    loss = sum(((xs[j, :] * w)[0] - ys[j]) ** 2 for j in range(N)) / (2 * N)
    return M, c, w, sp.sympify(loss)


def pareto_front(M, c, loss_ls, mu) -> sp.Matrix:
    """:math:`PF(\\mu) = (-c - M\\mu,\\ L_{LS} + \\frac12\\mu^\\top M\\mu)`, the Pareto front of
    Theorem 4.1's :math:`R_1` (Part 2 §A, the library's derivation): :math:`R_1(w) = (-Mw,
    L_{LS} + \\frac12(w-w_{LS})^\\top M(w-w_{LS}))`, so the Pareto set is
    :math:`\\{w_{LS} + \\mu: \\mu \\ge 0\\}` and ``pareto_front(M, c, L, mu) == objective_R1(w_LS + mu)``.
    ``M`` d x d, ``c`` and ``mu`` length d (sympy or numbers)."""
    M, c, mu = _matrix("M", M), _matrix("c", c), _matrix("mu", mu)
    mu = mu.T if mu.shape[0] == 1 and mu.shape[1] > 1 else mu
    c = c.T if c.shape[0] == 1 and c.shape[1] > 1 else c
    if M.shape != (c.shape[0], c.shape[0]) or mu.shape != c.shape:
        raise InputError("M, c, mu", f"shapes {M.shape}, {c.shape}, {mu.shape}",
                         "M d x d, c and mu of length d")
    loss = exact_number("loss_ls", loss_ls, exact=False)
    return (-c - M * mu).col_join(sp.Matrix([loss + (mu.T * M * mu)[0] / 2]))


def dirichlet_moment(exponents, alpha) -> sp.Expr:
    """:math:`E[\\prod_{ij}K_{ij}^{a_{ij}}] = \\prod_i \\prod_j (\\alpha)_{a_{ij}} /
    (k\\alpha)_{\\sum_j a_{ij}}` for rows i.i.d. :math:`\\mathrm{Dir}(\\alpha 1_k)` (rising
    factorials ``sympy.rf``; Lemma C.8, Part 2 §E). ``exponents``: k x k nested lists of integers
    >= 0; ``alpha``: a positive rational or a symbol."""
    a = _matrix("exponents", exponents, side=integer(1, 64))
    k = a.shape[0]
    if a.shape != (k, k) or any(not (e.is_Integer and e >= 0) for e in a):
        raise InputError("exponents", a.tolist(), "a square matrix of integers >= 0")
    al = exact_number("alpha", alpha)
    if al.is_number and not al > 0:
        raise InputError("alpha", alpha, "alpha > 0 (alpha -> 0 is a limit, see numerics.lsa.kstate)")
    out = sp.Integer(1)
    for i in range(k):
        row = [int(v) for v in a.row(i)]
        out *= sp.Mul(*[sp.rf(al, v) for v in row]) / sp.rf(k * al, sum(row))
    return sp.simplify(out)


def _kstate_symbols(k: int) -> sp.Matrix:
    return sp.Matrix(k, k, lambda i, j: sp.Symbol(f"K{i}_{j}"))


def kstate_chain_moment(times, k: int) -> sp.Expr:
    """:math:`E[\\prod_i s_{t_i} | K] = \\pi^\\top K^{t_1-1}V K^{t_2-t_1}\\cdots V 1` with
    :math:`V = \\mathrm{diag}(0..k-1)`, :math:`\\pi = 1/k` (Part 2 §E), a polynomial in the
    symbols ``K{i}_{j}``; repeated times give powers of V (``s_t^2 != s_t`` for k > 2)."""
    k = integer(2, 6).check("k", k)
    if isinstance(times, (str, bytes)) or not hasattr(times, "__iter__"):
        raise InputError("times", times, "a sequence of integer times >= 1")
    ts = sorted(TIME_INDEX.check("times", t) for t in times)
    K = _kstate_symbols(k)
    V = sp.diag(*range(k))
    row = sp.Matrix([[sp.Rational(1, k)] * k])
    prev = 1
    for t in ts:
        row = row * K ** (t - prev) * V
        prev = t
    return sp.expand((row * sp.ones(k, 1))[0])


def kstate_kernel_average(expr, k: int, alpha) -> sp.Expr:
    """:math:`E_K[\\cdot]` of a polynomial in ``K{i}_{j}`` for Dirichlet rows (term by term with
    :func:`dirichlet_moment`)."""
    K = list(_kstate_symbols(integer(2, 6).check("k", k)))
    poly = sp.Poly(sp.expand(exact_number("expr", expr, exact=False)), *K)
    total = sp.Integer(0)
    for exps, coeff in poly.terms():
        total += coeff * dirichlet_moment([list(exps[i * k:(i + 1) * k]) for i in range(k)], alpha)
    return sp.expand(total)


def kstate_optimum_d1(k: int, alpha, n_value) -> EnlargedOptimum:
    """d = 1 k-state optimum in sympy (Lemma C.8, Part 2 §E): :math:`z = (s_1, s_2)`,
    :math:`g = (s_1^2, s_1s_2, s_2^2)` averaged over the n context chains,
    :math:`H = E_K[E[s_1^2|K]\\,(\\frac1n E[gg^\\top|K]_{same} + (1-\\frac1n)E[g|K]E[g|K]^\\top)]`,
    :math:`h = E_K[E[s_1s_2|K]E[g|K]]`, :math:`E[y^2] = (k-1)(2k-1)/6`. An independent (slow,
    sympy) route to :func:`numerics.lsa.kstate.kstate_optimum` at d = 1: k = 3, alpha = 1,
    n = 10 gives :math:`\\tilde f^* = 10836163/10177110`."""
    nv = _check_n(n_value)
    times = [(1, 1), (1, 2), (2, 2)]
    g = [kstate_chain_moment(t, k) for t in times]
    xx = kstate_chain_moment((1, 1), k)
    yx = kstate_chain_moment((1, 2), k)
    avg = lambda e: kstate_kernel_average(e, k, alpha)
    H = sp.Matrix(3, 3, lambda s, t: avg(xx * (kstate_chain_moment(times[s] + times[t], k) / nv
                                               + (1 - 1 / nv) * g[s] * g[t])))
    h = sp.Matrix([avg(yx * gs) for gs in g])
    return optimum(H, h, sp.Rational((k - 1) * (2 * k - 1), 6))


def c10_matrices_phi(d: int) -> list:
    """phi as a case of Problem C.10 (Part 2 §F): for every entry r of X, ``(D_r, j)`` with
    :math:`X_r = b^\\top D_r A_{:,j}`: :math:`D = E_{ik} + E_{ki}` for ``(j, i, k)``, i < k, and
    :math:`E_{ii}` for i = k (0-based matrix indices, ``j`` 1-based; ordering of
    :func:`feature_ordering`)."""
    _check_d(d, integer(1, 12, note="d m matrices of side d+1"))
    out = []
    for (j, i, k) in feature_ordering(d):
        D = sp.zeros(d + 1, d + 1)
        D[i - 1, k - 1] += 1
        if i != k:
            D[k - 1, i - 1] += 1
        out.append((D, j))
    return out


def c10_apply(matrices, b, A) -> sp.Matrix:
    """:math:`(b^\\top D_r A_{:,j_r})_r` for ``matrices`` = list of ``(D_r, j_r)`` (Problem C.10)."""
    b, A = _matrix("b", b), _matrix("A", A)
    b = b.T if b.shape[0] == 1 and b.shape[1] > 1 else b
    return sp.Matrix([(b.T * D * A[:, j - 1])[0] for D, j in matrices])


@result
class ExactCoverSystem:
    """An EXACT COVER instance mapped to Problem C.10 (Part 2 §F).

    Attributes
    ----------
    d : int
        Least d >= N with :math:`(d+1)(d+2)/2 \\ge 1 + 2N + |U|`.
    equations : list of sympy expressions
        :math:`b_0a_0 - 1`, :math:`b_ia_0 - b_0a_i`, :math:`b_ia_0 - b_ia_i` (i = 1..N) and
        :math:`\\sum_{i \\ni e} b_ia_0 - 1` (e in U): all must vanish (``a`` = first column of A).
    matrices : list of (sympy Matrix, int, value)
        The C.10 rows ``(D_r, j_r, X_r)`` (the non-trivial ones; every other row has D = 0, X = 0).
    b, a : tuple of sympy Symbols
        :math:`b_0..b_N`, :math:`a_0..a_N` (slots above N do not occur).
    """

    d: int
    equations: list
    matrices: list
    b: tuple
    a: tuple


def exact_cover_dimension(N: int, universe: int) -> int:
    """The least d >= N with :math:`(d+1)(d+2)/2 \\ge 1 + 2N + |U|` (Part 2 §F)."""
    N, universe = integer(1, 64).check("N", N), integer(1, 10**6).check("universe", universe)
    d = N
    while (d + 1) * (d + 2) // 2 < 1 + 2 * N + universe:
        d += 1
    return d


def _check_sets(sets) -> list:
    if isinstance(sets, (str, bytes)) or not hasattr(sets, "__iter__"):
        raise InputError("sets", sets, "a sequence of non-empty sets of positive integers")
    out = [frozenset(s) for s in sets]
    if not out or any(not s for s in out) or len(out) > 8:
        raise InputError("sets", [sorted(s) for s in out], "1 to 8 non-empty sets (N <= 8)")
    for s in out:
        for e in s:
            if isinstance(e, bool) or not isinstance(e, Integral) or not 1 <= e <= 64:
                raise InputError("sets", sorted(s, key=str), "elements: integers in [1, 64]")
    return out


def exact_cover_system(sets) -> ExactCoverSystem:
    """EXACT COVER -> Problem C.10 (Part 2 §F; strongly NP-complete source): sets
    :math:`S_1..S_N` over :math:`U = \\cup S_i`; slot 0 is the constant, slot i the choice
    :math:`x_i`, all equations in column 1 (:math:`a = A_{:,1}`). A cover x gives
    :math:`b = a = (1, x)`; conversely rescaling to :math:`b_0 = 1` forces
    :math:`a_i = b_i = x_i = x_i^2` and every element covered once."""
    sets = _check_sets(sets)
    N = len(sets)
    U = sorted(set().union(*sets))
    d = exact_cover_dimension(N, len(U))
    b = sp.symbols(f"b0:{N + 1}")
    a = sp.symbols(f"a0:{N + 1}")
    E = lambda i, k: sp.Matrix(d + 1, d + 1, lambda r, c: 1 if (r, c) == (i, k) else 0)
    eqs = [b[0] * a[0] - 1]
    mats = [(E(0, 0), 1, 1)]
    for i in range(1, N + 1):
        eqs.append(b[i] * a[0] - b[0] * a[i])
        mats.append((E(i, 0) - E(0, i), 1, 0))
    for i in range(1, N + 1):
        eqs.append(b[i] * a[0] - b[i] * a[i])
        mats.append((E(i, 0) - E(i, i), 1, 0))
    for e in U:
        members = [i + 1 for i, s in enumerate(sets) if e in s]
        eqs.append(sum(b[i] for i in members) * a[0] - 1)
        mats.append((sum((E(i, 0) for i in members), sp.zeros(d + 1, d + 1)), 1, 1))
    return ExactCoverSystem(d, eqs, mats, b, a)


def exact_cover_groebner(sets):
    """``(basis, infeasible)``: the reduced Groebner basis (grevlex, over QQ) of
    :func:`exact_cover_system`'s equations and whether it is ``{1}`` (no complex solution, hence
    no cover; with :math:`x_i^2 = x_i` forced every solution is a real cover)."""
    system = exact_cover_system(sets)
    gens = list(system.b) + list(system.a)
    basis = sp.groebner(system.equations, *gens, order="grevlex", domain=sp.QQ)
    return basis, list(basis.exprs) == [1]

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

from functools import lru_cache
from itertools import combinations

import sympy as sp

from theory.errors import InputError, TooLargeError, check_choice, check_int
from theory.results import result

p, n = sp.symbols("p n", positive=True)
p01, p10 = sp.symbols("p01 p10", positive=True)
c1, c2 = sp.symbols("c1 c2", real=True)

#: Largest d for which :func:`markov_moments` does exact rational arithmetic.
EXACT_MAX_D = 4

__all__ = [
    "p", "n", "p01", "p10", "c1", "c2", "EXACT_MAX_D",
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


def _check_d(d):
    check_int("d", d, 1)


def pair_ordering(d: int) -> list[tuple[int, int]]:
    """Upper-triangle pairs ``(i, k)``, ``1 <= i <= k <= d+1``, row by row (length m)."""
    _check_d(d)
    return [(i, k) for i in range(1, d + 2) for k in range(i, d + 2)]


def feature_ordering(d: int) -> list[tuple[int, int, int]]:
    """Labels ``(j, i, k)`` of the entries of X (length ``d m``), block ``j`` outermost."""
    return [(j, i, k) for j in range(1, d + 1) for (i, k) in pair_ordering(d)]


def vech(G) -> sp.Matrix:
    """:math:`\\mathrm{vech}(G)` of a symmetric ``(d+1) x (d+1)`` matrix in :func:`pair_ordering`."""
    G = sp.Matrix(G)
    return sp.Matrix([G[i - 1, k - 1] for (i, k) in pair_ordering(G.shape[0] - 1)])


def phi(b, A) -> sp.Matrix:
    """The enlarged parameter :math:`X = \\phi(b, A)` (Ding et al. 2025, Sec. 3).

    Parameters
    ----------
    b : sequence of length d+1 (last row of P)
    A : (d+1) x d matrix (first d columns of Q)
    """
    b, A = sp.Matrix(b), sp.Matrix(A)
    d = A.shape[1]
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
    X = list(X)
    m = (d + 1) * (d + 2) // 2
    if len(X) != d * m:
        raise InputError("X", f"length {len(X)}", f"length d*m = {d * m} for d={d}")
    blocks = []
    for j in range(d):
        S = sp.zeros(d + 1, d + 1)
        for t, (i, k) in enumerate(pair_ordering(d)):
            value = sp.nsimplify(X[j * m + t]) if not isinstance(X[j * m + t], sp.Basic) else X[j * m + t]
            if i == k:
                S[i - 1, i - 1] = value
            else:
                S[i - 1, k - 1] = S[k - 1, i - 1] = value / 2
        blocks.append(S)
    return blocks


def features(Z) -> sp.Matrix:
    """:math:`x_{n+1} \\otimes \\mathrm{vech}(G)` with :math:`G = \\frac1n\\sum_{i\\le n} z_i z_i^\\top`
    for a prompt ``Z`` of shape ``(d+1) x (n+1)`` (last column: query, label slot ignored)."""
    Z = sp.Matrix(Z)
    d, ncols = Z.shape[0] - 1, Z.shape[1]
    ctx = Z[:, : ncols - 1]
    G = ctx * ctx.T / (ncols - 1)
    g = vech(G)
    x = Z[:d, ncols - 1]
    return sp.Matrix([x[j] * g[t] for j in range(d) for t in range(g.shape[0])])


def lsa_forward(P_list, Q_list, Z, sign: int = 1) -> LSAOutput:
    """Output of an L-layer LSA: :math:`Z_{l+1} = Z_l + \\frac1n P_l Z_l M Z_l^\\top Q_l Z_l`,
    :math:`\\mathrm{TF} = \\pm [Z_L]_{d+1,n+1}` (``sign=+1``: Ding et al., ``-1``: Ahn et al.).
    Returns an :class:`LSAOutput` (``tf``, ``Z``)."""
    check_choice("sign", sign, (1, -1))
    Z = sp.Matrix(Z)
    cols = Z.shape[1]
    M = sp.diag(*([1] * (cols - 1) + [0]))
    for P, Q in zip(P_list, Q_list):
        Z = Z + sp.Matrix(P) * Z * M * Z.T * sp.Matrix(Q) * Z / (cols - 1)
    return LSAOutput(sign * Z[Z.shape[0] - 1, cols - 1], Z)


def single_layer_identity_residual(d: int, n_ctx: int) -> sp.Expr:
    """``TF_1(Z) - <x_{n+1} (kron) vech(G), phi(b, A)>`` with every entry of Z, P, Q symbolic
    (expanded; it is 0 exactly when the single-layer identity of Ding et al. 2025, Sec. 3 holds)."""
    _check_d(d)
    check_int("n_ctx", n_ctx, 1)
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
    X = list(X)
    if len(X) != 3:
        raise InputError("X", f"length {len(X)}", "length 3 (d = 1)")
    return X[1] ** 2 - 4 * X[0] * X[2]


def theorem33_parameters(X, root: int = 0) -> Theorem33Parameters:
    """Theorem 3.3's choice (Ding et al. 2025) :math:`b = (1, \\beta)`,
    :math:`a = (X_1, X_2 - \\beta X_1)` with :math:`X_1\\beta^2 - X_2\\beta + X_3 = 0` (``root`` 0 or
    1 picks the root). Returns :class:`Theorem33Parameters` (``b``, ``A``); raises
    :class:`InputError` when X is not in the image (no real beta)."""
    X1, X2, X3 = [sp.nsimplify(v) if not isinstance(v, sp.Basic) else v for v in X]
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
    ts = sorted(set(times))
    if not ts:
        return sp.Integer(1)
    out = _marginal(ts[0], p_init)
    for a, b in zip(ts, ts[1:]):
        out = out * _kernel_power_11(b - a)
    return sp.expand(out)


def kernel_average(expr) -> sp.Expr:
    """:math:`E_K[\\cdot]` for ``p01, p10 ~ U(0,1)`` i.i.d.: exact term-by-term integration."""
    poly = sp.Poly(sp.expand(expr), p01, p10)
    return sp.expand(sum(c / ((a + 1) * (b + 1)) for (a, b), c in poly.terms()))


def _check_p(p_value):
    if isinstance(p_value, sp.Symbol):
        return p_value
    value = sp.nsimplify(p_value) if not isinstance(p_value, sp.Basic) else p_value
    if not value.is_number or not (0 < value < 1):
        raise InputError("p", p_value, "a probability strictly between 0 and 1 (or the symbol p)")
    return value


def _check_n(n_value):
    if isinstance(n_value, sp.Symbol):
        return n_value
    check_int("n", n_value, 1)
    return sp.Integer(n_value)


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
    check_choice("kernel", kernel, ("random", "fixed", "factor"))
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
    if all(e.is_Rational for e in H) and all(e.is_Rational for e in h):
        from sympy.polys.matrices import DomainMatrix

        X = DomainMatrix.from_Matrix(H).convert_to(sp.QQ).lu_solve(
            DomainMatrix.from_Matrix(h).convert_to(sp.QQ)).to_Matrix()
        return EnlargedOptimum(X, sp.Rational(Ey - (h.T * X)[0]))
    X = H.LUsolve(h)
    X = X.applyfunc(sp.factor)
    loss = sp.factor(Ey - (h.T * X)[0])
    return EnlargedOptimum(X, loss)


def loss_at(X, H, h, Ey) -> sp.Expr:
    """:math:`\\tilde f(X) = X^\\top H X - 2h^\\top X + E[y]`."""
    X = sp.Matrix(X)
    return sp.expand((X.T * H * X)[0] - 2 * (h.T * X)[0] + Ey)


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
    check_int("n_max", n_max, 1)
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


def objective_R1(w, xs, ys) -> sp.Matrix:
    """:math:`R_{1,k}(w) = -\\frac1n\\sum_j x_{j,k} w^\\top x_j` (k <= d),
    :math:`R_{1,d+1}(w) = \\frac{1}{2n}\\sum_j (w^\\top x_j - y_j)^2`.

    ``w``: d-vector, ``xs``: n x d matrix (rows x_j), ``ys``: n-vector."""
    w, xs, ys = sp.Matrix(w), sp.Matrix(xs), sp.Matrix(ys)
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
    w, xs, ys = sp.Matrix(w), sp.Matrix(xs), sp.Matrix(ys)
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
    w, xs, ys = sp.Matrix(w), sp.Matrix(xs), sp.Matrix(ys)
    N, d = xs.shape
    Z = xs.T.col_join(sp.Matrix([[ys[j] - (xs[j, :] * w)[0] for j in range(N)]]))
    G = Z * Z.T / N
    A = -(sp.Matrix(Abar).col_join(sp.Matrix(a).T))
    return (w.T - sp.Matrix(b).T * G * A).T


# ----------------------------------------------------------------------------------------------
# Section 5: Gaussian linear regression (Ahn et al.; Zhang-Frei-Bartlett; Mahankali et al.)


def _check_sigma(Sigma) -> sp.Matrix:
    S = sp.Matrix(Sigma)
    if S.shape[0] != S.shape[1] or S != S.T:
        raise InputError("Sigma", S.tolist(), "a symmetric square matrix")
    if all(e.is_number for e in S) and not S.is_positive_definite:
        raise InputError("Sigma", S.tolist(), "a positive-definite (non-singular) covariance")
    return S


def gaussian_gamma_star(Sigma, n_value=n, noise=0) -> sp.Matrix:
    """:math:`\\Gamma^* = (\\frac{n+1}{n}\\Sigma + \\frac{\\mathrm{tr}\\Sigma + \\sigma^2}{n} I)^{-1}`
    (Ahn et al. Thm 1; ``noise`` = :math:`\\sigma^2`)."""
    S = _check_sigma(Sigma)
    nv = _check_n(n_value)
    C = (nv + 1) / nv * S + (S.trace() + noise) / nv * sp.eye(S.shape[0])
    return C.inv().applyfunc(sp.factor)


def gaussian_loss(Gamma, Sigma, n_value=n, noise=0) -> sp.Expr:
    """:math:`L(\\Gamma) = \\mathrm{tr}\\Sigma + \\sigma^2 - 2\\mathrm{tr}(\\Gamma\\Sigma^2) +
    \\mathrm{tr}(\\Gamma^\\top\\Sigma\\Gamma[\\frac{n+1}{n}\\Sigma^2 + \\frac{\\mathrm{tr}\\Sigma+\\sigma^2}{n}
    \\Sigma])` for the prediction :math:`x_{n+1}^\\top\\Gamma\\frac1n\\sum_i y_i x_i`."""
    S, G = _check_sigma(Sigma), sp.Matrix(Gamma)
    nv = _check_n(n_value)
    B = (nv + 1) / nv * S * S + (S.trace() + noise) / nv * S
    return sp.simplify(S.trace() + noise - 2 * (G * S * S).trace() + (G.T * S * G * B).trace())


def gaussian_optimal_loss(Sigma, n_value=n, noise=0) -> sp.Expr:
    """:math:`L^* = \\mathrm{tr}\\Sigma + \\sigma^2 - \\mathrm{tr}(\\Gamma^*\\Sigma^2)`; isotropic,
    noiseless: :math:`d(d+1)/(n+d+1)`."""
    S = _check_sigma(Sigma)
    G = gaussian_gamma_star(S, n_value, noise)
    return sp.factor(S.trace() + noise - (G * S * S).trace())


def zfb_to_ahn(Lambda, N) -> sp.Matrix:
    """Zhang-Frei-Bartlett's :math:`\\Gamma_{ZFB} = (1+1/N)\\Lambda + \\mathrm{tr}(\\Lambda)/N\\,I`
    mapped to Ahn's preconditioner :math:`\\Gamma^* = \\Gamma_{ZFB}^{-1}` (noiseless)."""
    L = _check_sigma(Lambda)
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

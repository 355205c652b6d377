"""Derivations for the generalised Potts model and factored self-attention, as sympy expressions.

Source: R. Rende, F. Gerace, A. Laio, S. Goldt, "Mapping of attention mechanisms to a generalized
Potts model", arXiv 2304.07235, Phys. Rev. Research 6, 023057 (2024): the model and its
conditionals, the mapping of factored attention (Sec. II), and the replica equations of the
library's two reference scenarios.

Everything here takes and returns sympy objects (several at once in a documented
:func:`~theory.results.result` type); configurations ``s`` are tuples of colour indices.

Symbols and arguments:

- ``J`` (L x L, symmetric, zero diagonal) site couplings :math:`J_{ij}`; ``U`` (C x C, symmetric)
  colour couplings :math:`U_{ab}`; ``h`` (L x C) fields :math:`h_i(a)`; ``beta`` inverse temperature.
- ``A`` (L x L) attention, ``V`` (C x C) value matrix, ``b`` (L x C) bias of factored attention.

.. math:: H(s) = -\\sum_{i<j} J_{ij} U_{s_i s_j} - \\sum_i h_i(s_i), \\qquad
          z_i(a) = \\sum_{j\\ne i} A_{ij} V_{a s_j} + b_i(a).

The replica section holds the library's two reference scenarios R1 (logistic teacher,
Gaussian-equivalent inputs) and R2 (Gaussianised Potts, ridge), not equations printed in the paper.
Scenario origin (spec Sec. 13): R2 on correlated Gaussianised Potts data (GOE precision) is the
library's reconstruction (probable paper scenario); R1, R2 with isotropic inputs and the softmax
channel (Part 2) are library extensions.
"""

from __future__ import annotations

import itertools
import math
from numbers import Integral, Rational, Real

import sympy as sp

from theory.domains import as_rational, integer
from theory.errors import InputError, NumericalFailure, check_int
from theory.results import result

beta = sp.Symbol("beta", positive=True)

#: Sizes of the symbolic constructions (sympy time grows like C**L expansions): L sites.
SYMBOLIC_SITES = integer(2, 6, note="symbolic expansions over C**L configurations")
#: Colours of the symbolic constructions.
SYMBOLIC_COLOURS = integer(2, 6, note="symbolic expansions over C**L configurations")
#: Most configurations C**L a symbolic proof enumerates (each one expands sympy expressions).
MAX_SYMBOLIC_CONFIGURATIONS = 729
#: Most sequences in a symbolic data set (mlm_loss, negative_log_pseudo_likelihood).
MAX_SYMBOLIC_DATA = 1000


def _check_sizes(L: int, C: int) -> None:
    SYMBOLIC_SITES.check("L", L)
    SYMBOLIC_COLOURS.check("C", C)
    if C**L > MAX_SYMBOLIC_CONFIGURATIONS:
        raise InputError("L, C", (L, C), f"C**L <= {MAX_SYMBOLIC_CONFIGURATIONS} configurations "
                                         "(each is expanded symbolically)")


def _check_matrix(name: str, M, shape=None) -> None:
    if not isinstance(M, sp.MatrixBase):
        raise InputError(name, f"<{type(M).__name__}>", "a sympy Matrix")
    if shape is not None and M.shape != shape:
        raise InputError(name, f"matrix of shape {M.shape}", f"a matrix of shape {shape}")
    if M.shape[0] > 50 or M.shape[1] > 50:
        raise InputError(name, f"matrix of shape {M.shape}", "at most 50 x 50 (symbolic)")


def _check_data(data, L: int, C: int) -> list:
    if not isinstance(data, (list, tuple)) or not 1 <= len(data) <= MAX_SYMBOLIC_DATA:
        raise InputError("data", f"<{type(data).__name__}>",
                         f"a list of 1 to {MAX_SYMBOLIC_DATA} configurations")
    for s in data:
        _check_config(s, L, C)
    return list(data)


def _numeric_argument(name: str, value, *, low=None, low_open=False):
    """A replica argument: a sympy expression with free symbols is kept; a number (int, Fraction,
    float, sympy number) or a strict rational string (``"3/10"``, never evaluated) must lie in the
    domain (``> low`` or ``>= low``) and is returned as a sympy number."""
    if isinstance(value, sp.Basic) and value.free_symbols:
        return value
    if isinstance(value, str):  # parsed by the strict rational parser, never evaluated
        value = as_rational(name, value)
    if isinstance(value, bool):
        raise InputError(name, value, "a real number or a sympy expression (not a bool)")
    if isinstance(value, Integral):
        value = sp.Integer(int(value))
    elif isinstance(value, Rational):
        value = sp.Rational(int(value.numerator), int(value.denominator))
    elif isinstance(value, Real):
        if not math.isfinite(float(value)):
            raise InputError(name, value, "a finite real number")
        value = sp.Float(float(value))
    elif not isinstance(value, sp.Basic):
        raise InputError(name, f"<{type(value).__name__}>", "a real number or a sympy expression")
    if not value.is_number:
        raise InputError(name, value, "a real number or a sympy expression")
    try:
        numeric = complex(sp.N(value, 30))
    except (TypeError, ValueError):
        raise InputError(name, value, "a real number") from None
    if numeric.imag != 0 or not math.isfinite(numeric.real):
        raise InputError(name, value, "a finite real number")
    x = numeric.real
    if low is not None and (x < low or (low_open and x == low)):
        raise InputError(name, value, f"a real number {'>' if low_open else '>='} {low}")
    return value


def _check_numeric_result(what: str, *exprs) -> None:
    """:class:`NumericalFailure` when an expression without free symbols is not a finite real
    number (``zoo``, ``nan``, complex)."""
    for e in exprs:
        if isinstance(e, sp.Basic) and not e.free_symbols:
            try:
                value = complex(sp.N(e, 30))
            except (TypeError, ValueError):
                raise NumericalFailure(f"{what}: {e} is not a number") from None
            if abs(value.imag) > 1e-25 * max(1.0, abs(value.real)) or not math.isfinite(value.real):
                raise NumericalFailure(f"{what}: {e} is not a finite real number")

# ----------------------------------------------------------------------------------------------
# Symbolic parameters


def symbolic_site_couplings(L: int, name: str = "J") -> sp.Matrix:
    """Symmetric L x L matrix of symbols ``J_i_j`` (i < j) with zero diagonal (L in [2, 50])."""
    check_int("L", L, 2, 50)
    syms = {(i, j): sp.Symbol(f"{name}_{i}_{j}", real=True) for i in range(L) for j in range(i + 1, L)}
    return sp.Matrix(L, L, lambda i, j: 0 if i == j else syms[(min(i, j), max(i, j))])


def symbolic_colour_couplings(C: int, name: str = "U") -> sp.Matrix:
    """Symmetric C x C matrix of symbols ``U_a_b`` (a <= b) (C in [2, 50])."""
    check_int("C", C, 2, 50)
    syms = {(a, b): sp.Symbol(f"{name}_{a}_{b}", real=True) for a in range(C) for b in range(a, C)}
    return sp.Matrix(C, C, lambda a, b: syms[(min(a, b), max(a, b))])


def symbolic_matrix(rows: int, cols: int, name: str) -> sp.Matrix:
    """A general rows x cols matrix of real symbols ``name_r_c`` (attention, value, fields, bias);
    rows and cols in [1, 50]."""
    check_int("rows", rows, 1, 50)
    check_int("cols", cols, 1, 50)
    if not isinstance(name, str) or not name.isidentifier():
        raise InputError("name", name, "an identifier such as 'A'")
    return sp.Matrix(rows, cols, lambda r, c: sp.Symbol(f"{name}_{r}_{c}", real=True))


def configurations(L: int, C: int):
    """All ``C**L`` configurations as tuples (lexicographic order); ``L``, ``C`` integers >= 1
    (a generator: nothing is allocated up front)."""
    check_int("L", L, 1)
    check_int("C", C, 1)
    return itertools.product(range(C), repeat=L)


def _check_config(s, L: int, C: int) -> None:
    if not isinstance(s, (tuple, list)) or len(s) != L \
            or any(isinstance(a, bool) or not isinstance(a, Integral) or not 0 <= a < C for a in s):
        shown = tuple(s) if isinstance(s, (tuple, list)) and len(s) < 60 else f"<{type(s).__name__}>"
        raise InputError("s", shown, f"a tuple of {L} colours in 0..{C - 1}")


# ----------------------------------------------------------------------------------------------
# Section 1: the model


def hamiltonian(s, J: sp.Matrix, U: sp.Matrix, h: sp.Matrix | None = None):
    """:math:`H(s) = -\\sum_{i<j} J_{ij} U_{s_i s_j} - \\sum_i h_i(s_i)` (Rende et al. 2024, the
    generalised Potts model)."""
    _check_matrix("J", J)
    _check_matrix("U", U)
    L, C = J.shape[0], U.shape[0]
    _check_matrix("J", J, (L, L))
    _check_matrix("U", U, (C, C))
    if h is not None:
        _check_matrix("h", h, (L, C))
    _check_config(s, L, C)
    energy = -sum(J[i, j] * U[s[i], s[j]] for i in range(L) for j in range(i + 1, L))
    if h is not None:
        energy -= sum(h[i, s[i]] for i in range(L))
    return energy


def softmax(z: sp.Matrix) -> sp.Matrix:
    """:math:`\\mathrm{softmax}_a(z) = e^{z_a} / \\sum_b e^{z_b}` of a column of logits."""
    total = sum(sp.exp(v) for v in z)
    return sp.Matrix([sp.exp(v) / total for v in z])


def _with_colour(s, i: int, a: int):
    return tuple(a if k == i else v for k, v in enumerate(s))


def conditional_from_joint(i: int, s, J, U, h=None, beta=beta) -> sp.Matrix:
    """:math:`P(s_i = a \\mid s_{-i}) = e^{-\\beta H(s^{i\\to a})} / \\sum_b e^{-\\beta H(s^{i\\to b})}`:
    the conditional computed from Boltzmann weights of the joint law (no formula assumed)."""
    weights = [sp.exp(-beta * hamiltonian(_with_colour(s, i, a), J, U, h)) for a in range(U.shape[0])]
    total = sum(weights)
    return sp.Matrix([w / total for w in weights])


def potts_logits(i: int, s, J, U, h=None, beta=beta) -> sp.Matrix:
    """:math:`\\beta \\sum_{j\\ne i} J_{ij} U_{a s_j} + \\beta h_i(a)`, a = 0..C-1 (Rende et al. 2024, the
    Potts conditional)."""
    _check_matrix("J", J)
    _check_matrix("U", U)
    L, C = J.shape[0], U.shape[0]
    _check_matrix("J", J, (L, L))
    _check_matrix("U", U, (C, C))
    if h is not None:
        _check_matrix("h", h, (L, C))
    _check_config(s, L, C)
    check_int("i", i, 0, L - 1)
    return sp.Matrix([beta * (sum(J[i, j] * U[a, s[j]] for j in range(L) if j != i)
                              + (h[i, a] if h is not None else 0)) for a in range(C)])


def factored_logits(i: int, s, A: sp.Matrix, V: sp.Matrix, b: sp.Matrix | None = None) -> sp.Matrix:
    """:math:`z_i(a) = \\sum_{j\\ne i} A_{ij} V_{a s_j} + b_i(a)` (Rende et al. 2024,
    Sec. II, factored attention). Never reads s_i."""
    _check_matrix("A", A)
    _check_matrix("V", V)
    L, C = A.shape[0], V.shape[0]
    _check_matrix("A", A, (L, L))
    _check_matrix("V", V, (C, C))
    if b is not None:
        _check_matrix("b", b, (L, C))
    _check_config(s, L, C)
    check_int("i", i, 0, L - 1)
    return sp.Matrix([sum(A[i, j] * V[a, s[j]] for j in range(L) if j != i)
                      + (b[i, a] if b is not None else 0) for a in range(C)])


def mapping_logit_residuals(L: int = 3, C: int = 3, fields: bool = True) -> list:
    """Proof of the mapping (Rende et al. 2024, Sec. II) for symbolic J, U, h at size (L, C).

    For every configuration s and site i, compare the log-ratios
    :math:`\\log P(s_i=a\\mid s_{-i}) - \\log P(s_i=0\\mid s_{-i}) = -\\beta[H(s^{i\\to a}) - H(s^{i\\to 0})]`
    (from the joint law) with :math:`z_i(a) - z_i(0)` of factored attention at
    :math:`A = \\beta J, V = U, b = \\beta h`. Equal log-ratios mean equal softmax distributions.
    Returns the list of expanded residuals: all are exactly 0 when the mapping holds.
    ``L``, ``C`` in [2, 6] with ``C**L <= 729``.
    """
    _check_sizes(L, C)
    J, U = symbolic_site_couplings(L), symbolic_colour_couplings(C)
    h = symbolic_matrix(L, C, "h") if fields else None
    residuals = []
    for s in configurations(L, C):
        for i in range(L):
            z = factored_logits(i, s, beta * J, U, beta * h if fields else None)
            for a in range(1, C):
                joint = -beta * (hamiltonian(_with_colour(s, i, a), J, U, h)
                                 - hamiltonian(_with_colour(s, i, 0), J, U, h))
                residuals.append(sp.expand(joint - (z[a] - z[0])))
    return residuals


def mlm_loss(data, A, V, b=None):
    """Single-mask MLM loss :math:`-\\frac{1}{ML}\\sum_\\mu\\sum_i \\log p_\\theta(s_i^\\mu\\mid s_{-i}^\\mu)`
    of factored attention on a list ``data`` of M configurations (Rende et al. 2024, Sec. II)."""
    _check_matrix("A", A)
    _check_matrix("V", V)
    L = A.shape[0]
    data = _check_data(data, L, V.shape[0])
    total = sum(sp.log(softmax(factored_logits(i, s, A, V, b))[s[i]]) for s in data for i in range(L))
    return -total / (len(data) * L)


def negative_log_pseudo_likelihood(data, J, U, h=None, beta=beta):
    """:math:`\\mathrm{NPLL} = -\\frac1M\\sum_\\mu\\sum_i \\log P(s_i^\\mu\\mid s_{-i}^\\mu)` with the
    conditionals computed from the joint Boltzmann weights (:func:`conditional_from_joint`)."""
    _check_matrix("J", J)
    _check_matrix("U", U)
    L = J.shape[0]
    data = _check_data(data, L, U.shape[0])
    total = sum(sp.log(conditional_from_joint(i, s, J, U, h, beta)[s[i]]) for s in data for i in range(L))
    return -total / len(data)


def mlm_equals_npll_residual(data, L: int, C: int):
    """``L_MLM(beta J, U, beta h) - NPLL(J, U, h)/L`` for symbolic J, U, h on ``data``, simplified.

    Each log-conditional is rewritten as :math:`\\log p_a = -\\log \\sum_b e^{z_b - z_a}` and the
    exponents are expanded, so that equal logit differences give identical terms; returns 0 when
    MLM is pseudo-likelihood (Rende et al. 2024, Sec. II). ``L``, ``C`` in [2, 6], at most
    1000 configurations in ``data``.
    """
    _check_sizes(L, C)
    data = _check_data(data, L, C)
    J, U, h = symbolic_site_couplings(L), symbolic_colour_couplings(C), symbolic_matrix(L, C, "h")

    def canonical_log_softmax(log_weights, a):
        return -sp.log(sum(sp.exp(sp.expand(w - log_weights[a])) for w in log_weights))

    mlm, npll = 0, 0
    for s in data:
        for i in range(L):
            z = factored_logits(i, s, beta * J, U, beta * h)
            mlm += canonical_log_softmax(list(z), s[i])
            joint = [-beta * hamiltonian(_with_colour(s, i, a), J, U, h) for a in range(C)]
            npll += canonical_log_softmax(joint, s[i])
    return sp.simplify(-mlm / (len(data) * L) - (-npll / len(data)) / L)


# ----------------------------------------------------------------------------------------------
# Gradients (the library's derivation from the loss of Rende et al. 2024, Sec. II)


def sequence_loss(s, A, V, b):
    """:math:`\\ell(s) = -\\sum_i \\log p_i(s_i)` of factored attention on one sequence."""
    _check_matrix("A", A)
    _check_config(s, A.shape[0], V.shape[0] if isinstance(V, sp.MatrixBase) else 0)
    return -sum(sp.log(softmax(factored_logits(i, s, A, V, b))[s[i]]) for i in range(A.shape[0]))


@result
class GradientFormulas:
    """Closed-form gradients of the one-sequence MLM loss of factored attention (the library's
    derivation from the loss of Rende et al. 2024, Sec. II); see :func:`gradient_formulas`.

    Attributes
    ----------
    A : sympy.Matrix, (L, L)
        :math:`\\partial\\ell/\\partial A_{ij}`, zero diagonal.
    V : sympy.Matrix, (C, C)
        :math:`\\partial\\ell/\\partial V_{ab}`.
    b : sympy.Matrix, (L, C)
        :math:`\\partial\\ell/\\partial b_i(a)`.
    """

    A: sp.Matrix
    V: sp.Matrix
    b: sp.Matrix


def gradient_formulas(s, A, V, b) -> GradientFormulas:
    """The closed-form gradients of :func:`sequence_loss` (the library's derivation):

    .. math:: \\partial_{A_{ij}}\\ell = \\sum_a (p_i(a) - [a = s_i]) V_{a s_j},\\quad
              \\partial_{V_{ab}}\\ell = \\sum_i\\sum_{j\\ne i} A_{ij}[b = s_j](p_i(a) - [a = s_i]),\\quad
              \\partial_{b_i(a)}\\ell = p_i(a) - [a = s_i],

    with :math:`p_i = \\mathrm{softmax}(z_i)` of :func:`factored_logits`. ``s`` a configuration
    (tuple of L colours), ``A`` (L, L), ``V`` (C, C), ``b`` (L, C) sympy matrices.
    """
    _check_matrix("A", A)
    _check_matrix("V", V)
    L, C = A.shape[0], V.shape[0]
    _check_matrix("b", b, (L, C))
    _check_config(s, L, C)
    p = [softmax(factored_logits(i, s, A, V, b)) for i in range(L)]
    r = [[p[i][a] - (1 if a == s[i] else 0) for a in range(C)] for i in range(L)]
    dA = sp.Matrix(L, L, lambda i, j: 0 if i == j else sum(r[i][a] * V[a, s[j]] for a in range(C)))
    dV = sp.Matrix(C, C, lambda a, c: sum(A[i, j] * r[i][a] for i in range(L) for j in range(L)
                                          if j != i and s[j] == c))
    db = sp.Matrix(L, C, lambda i, a: r[i][a])
    return GradientFormulas(dA, dV, db)


def gradient_residuals(s, L: int = 3, C: int = 2) -> list:
    """``diff(sequence_loss) - gradient_formulas`` entry by entry for symbolic A, V, b (all 0);
    ``L``, ``C`` in [2, 6]."""
    _check_sizes(L, C)
    _check_config(s, L, C)
    A, V, b = symbolic_matrix(L, L, "A"), symbolic_matrix(C, C, "V"), symbolic_matrix(L, C, "b")
    loss = sequence_loss(s, A, V, b)
    formulas = gradient_formulas(s, A, V, b)
    out = []
    for key, M in (("A", A), ("V", V), ("b", b)):
        for r in range(M.shape[0]):
            for c in range(M.shape[1]):
                if key == "A" and r == c:
                    continue
                out.append(sp.simplify(sp.diff(loss, M[r, c]) - getattr(formulas, key)[r, c]))
    return out


# ----------------------------------------------------------------------------------------------
# Invariances and the zero-sum gauge of factored attention (the library's derivation)


def _logit_differences(s, A, V, b):
    L = A.shape[0]
    out = []
    for i in range(L):
        z = factored_logits(i, s, A, V, b)
        out.extend(z[a] - z[0] for a in range(1, V.shape[0]))
    return out


@result
class InvarianceResiduals:
    """Change of the logit differences :math:`z_i(a) - z_i(0)` of factored attention under each
    transformation, over all configurations (the library's derivation; equal logit differences
    mean equal conditionals). Each field is a list of simplified sympy expressions, one per
    (configuration, site, colour a >= 1).

    Attributes
    ----------
    scale : list
        :math:`(A, V) \\to (cA, V/c)`: all 0.
    sign : list
        :math:`(A, V) \\to (-A, -V)`: all 0.
    column_shift : list
        :math:`V \\to V + \\mathbf 1 c^T`: all 0.
    bias_shift : list
        :math:`b_i \\to b_i + d_i`: all 0.
    row_shift : list
        :math:`V \\to V + c\\mathbf 1^T` (*not* an invariance): not all 0.
    """

    scale: list
    sign: list
    column_shift: list
    bias_shift: list
    row_shift: list


def invariance_residuals(L: int = 3, C: int = 3) -> InvarianceResiduals:
    """For each transformation of :class:`InvarianceResiduals`, the expanded change of the
    conditionals' logit differences :math:`z_i(a) - z_i(0)` over all ``C**L`` configurations, for
    symbolic ``A`` (L, L), ``V`` (C, C), ``b`` (L, C); ``L``, ``C`` in [2, 6] with
    ``C**L <= 729``."""
    _check_sizes(L, C)
    A, V, b = symbolic_matrix(L, L, "A"), symbolic_matrix(C, C, "V"), symbolic_matrix(L, C, "b")
    c = sp.Symbol("c", nonzero=True)
    cvec = sp.Matrix([sp.Symbol(f"c_{a}", real=True) for a in range(C)])
    d = sp.Matrix([sp.Symbol(f"d_{i}", real=True) for i in range(L)])
    ones = sp.ones(C, 1)
    transforms = {
        "scale": (c * A, V / c, b),
        "sign": (-A, -V, b),
        "column_shift": (A, V + ones * cvec.T, b),
        "bias_shift": (A, V, b + d * sp.ones(1, C)),
        "row_shift": (A, V + cvec * ones.T, b),
    }
    out = {}
    for name, (A2, V2, b2) in transforms.items():
        res = []
        for s in configurations(L, C):
            base, new = _logit_differences(s, A, V, b), _logit_differences(s, A2, V2, b2)
            res.extend(sp.simplify(sp.expand(x - y)) for x, y in zip(base, new))
        out[name] = res
    return InvarianceResiduals(**out)


def centering_matrix(C: int) -> sp.Matrix:
    """:math:`P = I - \\frac1C \\mathbf 1\\mathbf 1^T` (C in [1, 50])."""
    check_int("C", C, 1, 50)
    return sp.eye(C) - sp.ones(C, C) / C


def zero_sum_gauge_block(K: sp.Matrix) -> sp.Matrix:
    """Zero-sum gauge of one coupling block,
    :math:`K_{ab} - \\bar K_{\\cdot b} - \\bar K_{a\\cdot} + \\bar K_{\\cdot\\cdot}` (written
    out with averages, not with P)."""
    _check_matrix("K", K)
    C = K.shape[0]
    _check_matrix("K", K, (C, C))
    row = [sum(K[a, c] for c in range(C)) / C for a in range(C)]
    col = [sum(K[a, c] for a in range(C)) / C for c in range(C)]
    total = sum(K) / C**2
    return sp.Matrix(C, C, lambda a, c: K[a, c] - row[a] - col[c] + total)


def gauge_identity_residual(C: int = 3):
    """``zs(A_ij V) - A_ij P V P`` for symbolic A_ij and V: the zero Matrix (so the contact map of
    one factored head is :math:`|A|`); C in [1, 50]."""
    check_int("C", C, 1, 50)
    a = sp.Symbol("A_ij", real=True)
    V = symbolic_matrix(C, C, "V")
    P = centering_matrix(C)
    return sp.expand(zero_sum_gauge_block(a * V) - a * P * V * P)


# ----------------------------------------------------------------------------------------------
# Section 5: replica equations (the library's reference scenarios)

alpha, lam, rho, Delta = sp.symbols("alpha lambda rho Delta", positive=True)
m, q, V_ = sp.symbols("m q V", real=True)
m_hat, q_hat, V_hat = sp.symbols("mhat qhat Vhat", real=True)
xi, u, y, omega, x_ = sp.symbols("xi u y omega x", real=True)


@result
class RidgePriorEquations:
    """Right-hand sides of the prior (ridge) saddle-point equations of both reference scenarios
    R1 and R2 (the library's reconstruction of the replica computation of Rende et al. 2024).

    Attributes
    ----------
    V : sympy expression
        :math:`1/(\\lambda + \\hat V)`.
    m : sympy expression
        :math:`\\rho\\hat m V`, the teacher-student overlap :math:`w\\cdot w^*/N`.
    q : sympy expression
        :math:`(\\rho\\hat m^2 + \\hat q) V^2`, the student norm :math:`|w|^2/N`.
    """

    V: sp.Expr
    m: sp.Expr
    q: sp.Expr


def ridge_prior_equations(lam=lam, rho=rho, m_hat=m_hat, q_hat=q_hat, V_hat=V_hat) -> RidgePriorEquations:
    """Prior (ridge) equations of both scenarios (the library's reconstruction):

    .. math:: V = 1/(\\lambda + \\hat V),\\quad m = \\rho\\hat m V,\\quad q = (\\rho\\hat m^2 + \\hat q) V^2,

    with ``lam`` the ridge penalty :math:`\\lambda`, ``rho`` :math:`|w^*|^2/N` and the conjugates
    ``m_hat``, ``q_hat``, ``V_hat`` (symbols or expressions). Numbers (or strict rational strings
    such as ``"3/10"``, never evaluated) must lie in the domains: ``lam`` > 0, ``rho`` > 0,
    ``V_hat`` >= 0, ``m_hat`` and ``q_hat`` real; :class:`InputError` otherwise.
    """
    lam = _numeric_argument("lam", lam, low=0, low_open=True)
    rho = _numeric_argument("rho", rho, low=0, low_open=True)
    m_hat = _numeric_argument("m_hat", m_hat)
    q_hat = _numeric_argument("q_hat", q_hat)
    V_hat = _numeric_argument("V_hat", V_hat, low=0)
    V = 1 / (lam + V_hat)
    out = RidgePriorEquations(V, rho * m_hat * V, (rho * m_hat**2 + q_hat) * V**2)
    _check_numeric_result("ridge prior equations", out.V, out.m, out.q)
    return out


def logistic_sigmoid(t):
    """:math:`\\sigma(t) = 1/(1 + e^{-t})`."""
    return 1 / (1 + sp.exp(-t))


@result
class R1Channel:
    """The R1 channel (logistic teacher and loss) as sympy expressions in the symbols ``x`` (the
    prox), ``omega``, ``V``, ``y``, ``xi``, ``u``, ``m``, ``q``, ``rho``, ``alpha`` (the library's
    reconstruction of a replica scenario; scenario origin: library extension); see
    :func:`r1_channel`.

    Attributes
    ----------
    loss : sympy expression
        :math:`\\ell(y, x) = \\log(1 + e^{-yx})`.
    prox_equation : sympy expression
        :math:`x - \\omega - V y\\sigma(-yx)`, zero at the proximal point.
    omega : sympy expression
        :math:`\\sqrt q\\,\\xi`.
    zstar : sympy expression
        :math:`z^* = (m/\\sqrt q)\\xi + \\sqrt{\\rho - m^2/q}\\,u`.
    f : sympy expression
        :math:`(x - \\omega)/V`.
    dprox : sympy expression
        :math:`\\partial_\\omega x = 1/(1 + V\\sigma'(x))`.
    mhat, qhat, Vhat : sympy expression
        Integrands of :math:`\\hat m, \\hat q, \\hat V` for one label ``y`` (to be averaged over
        :math:`\\xi, u \\sim N(0,1)` and summed over :math:`y = \\pm1`).
    eps_J : sympy expression
        Coupling error :math:`(\\rho - 2m + q)/\\rho`.
    """

    loss: sp.Expr
    prox_equation: sp.Expr
    omega: sp.Expr
    zstar: sp.Expr
    f: sp.Expr
    dprox: sp.Expr
    mhat: sp.Expr
    qhat: sp.Expr
    Vhat: sp.Expr
    eps_J: sp.Expr


def r1_channel() -> R1Channel:
    """R1 (Ising colours, logistic teacher, Gaussian-equivalent inputs); scenario origin: library
    extension (spec Sec. 13).

    With :math:`\\omega = \\sqrt q\\,\\xi`, :math:`\\omega^* = (m/\\sqrt q)\\xi`, :math:`V^* = \\rho - m^2/q`,
    :math:`z^* = \\omega^* + \\sqrt{V^*} u` (:math:`\\xi, u \\sim N(0,1)`), the loss
    :math:`\\ell(y, z) = \\log(1 + e^{-yz})`, the proximal point ``x`` solves ``prox_equation = 0``
    (:math:`x = \\omega + V y \\sigma(-y x)`) and

    .. math:: \\hat m = \\alpha E\\sum_y y\\sigma'(z^*) f,\\quad
              \\hat q = \\alpha E\\sum_y \\sigma(y z^*) f^2,\\quad
              \\hat V = \\alpha E\\sum_y \\sigma(y z^*) (1 - \\partial_\\omega x)/V,

    with :math:`f = (x - \\omega)/V`, :math:`\\partial_\\omega x = 1/(1 + V\\sigma'(x))`.
    The returned integrands (``mhat``, ``qhat``, ``Vhat``) are the summands for one ``y`` in
    terms of the symbols ``x`` (the prox), ``omega``, ``V``, ``y``, ``xi``, ``u``; the expectation is
    over standard Gaussians ``xi, u`` and the sum over ``y = +-1`` (numerics does the quadrature).
    """
    sig = logistic_sigmoid
    dsig = lambda t: sig(t) * sig(-t)  # noqa: E731
    zstar = (m / sp.sqrt(q)) * xi + sp.sqrt(rho - m**2 / q) * u
    f = (x_ - omega) / V_
    dprox = 1 / (1 + V_ * dsig(x_))
    return R1Channel(
        loss=sp.log(1 + sp.exp(-y * x_)),
        prox_equation=x_ - omega - V_ * y * sig(-y * x_),
        omega=sp.sqrt(q) * xi,
        zstar=zstar,
        f=f,
        dprox=dprox,
        mhat=alpha * y * dsig(zstar) * f,
        qhat=alpha * sig(y * zstar) * f**2,
        Vhat=alpha * sig(y * zstar) * (1 - dprox) / V_,
        eps_J=(rho - 2 * m + q) / rho,
    )


def r1_prox_stationarity():
    """``d/dx [(x - omega)^2/(2V) + l(y, x)]`` minus ``(prox_equation)/V``: simplifies to 0, i.e.
    the prox equation is the stationarity condition of the proximal objective."""
    ch = r1_channel()
    objective = (x_ - omega) ** 2 / (2 * V_) + ch.loss
    return sp.simplify(sp.diff(objective, x_) - ch.prox_equation / V_)


@result
class R2Channel:
    """Conjugate order parameters of the R2 square-loss channel (scenario origin: library
    extension for isotropic inputs; the correlated version is the reconstruction of the probable
    paper scenario, spec Sec. 13); see :func:`r2_channel`.

    Attributes
    ----------
    mhat : sympy expression
        :math:`\\hat m = \\alpha/(1+V)`.
    Vhat : sympy expression
        :math:`\\hat V = \\alpha/(1+V)`.
    qhat : sympy expression
        :math:`\\hat q = \\alpha(\\rho - 2m + q + \\Delta)/(1+V)^2`.
    """

    mhat: sp.Expr
    Vhat: sp.Expr
    qhat: sp.Expr


def r2_channel(alpha=alpha, Delta=Delta, rho=rho, m=m, q=q, V=V_) -> R2Channel:
    """R2 square-loss channel: :math:`\\ell = (y - z)^2/2`, prox :math:`(\\omega + V y)/(1+V)`, so

    .. math:: \\hat m = \\hat V = \\frac{\\alpha}{1+V},\\qquad
              \\hat q = \\frac{\\alpha(\\rho - 2m + q + \\Delta)}{(1+V)^2},

    with ``alpha`` = M/N, ``Delta`` the label-noise variance, ``rho``, ``m``, ``q``, ``V`` the order
    parameters (symbols or expressions). Numbers (or strict rational strings) must lie in the
    domains: ``alpha`` > 0, ``Delta`` >= 0, ``rho`` > 0, ``q`` >= 0, ``V`` >= 0, ``m`` real.
    """
    alpha = _numeric_argument("alpha", alpha, low=0, low_open=True)
    Delta = _numeric_argument("Delta", Delta, low=0)
    rho = _numeric_argument("rho", rho, low=0, low_open=True)
    m = _numeric_argument("m", m)
    q = _numeric_argument("q", q, low=0)
    V = _numeric_argument("V", V, low=0)
    out = R2Channel(mhat=alpha / (1 + V), Vhat=alpha / (1 + V),
                    qhat=alpha * (rho - 2 * m + q + Delta) / (1 + V) ** 2)
    _check_numeric_result("R2 channel", out.mhat, out.Vhat, out.qhat)
    return out


@result
class R2ClosedForm:
    """The R2 saddle point in closed form for isotropic inputs (scenario origin: library
    extension, spec Sec. 13); see :func:`r2_closed_form`. Sympy expressions in ``alpha``, ``lambda``,
    ``rho``, ``Delta``.

    Attributes
    ----------
    V : sympy expression
        Positive root of :math:`\\lambda V^2 + (\\lambda + \\alpha - 1)V - 1 = 0`.
    kappa : sympy expression
        :math:`\\alpha V/(1+V)`.
    e : sympy expression
        :math:`\\rho - 2m + q = [\\rho(1-\\kappa)^2 + \\kappa^2\\Delta/\\alpha]/(1 - \\kappa^2/\\alpha)`.
    m : sympy expression
        :math:`\\rho\\kappa`.
    q : sympy expression
        :math:`e - \\rho + 2m`.
    test_mse : sympy expression
        :math:`\\Delta + e`.
    eps_J : sympy expression
        :math:`e/\\rho`.
    """

    V: sp.Expr
    kappa: sp.Expr
    e: sp.Expr
    m: sp.Expr
    q: sp.Expr
    test_mse: sp.Expr
    eps_J: sp.Expr


def r2_closed_form(alpha=alpha, lam=lam, rho=rho, Delta=Delta) -> R2ClosedForm:
    """R2-isotropic closed form (scenario origin: library extension): ``V`` the positive root of
    :math:`\\lambda V^2 + (\\lambda + \\alpha - 1)V - 1 = 0`, :math:`\\kappa = \\alpha V/(1+V)`,
    :math:`e = [\\rho(1-\\kappa)^2 + \\kappa^2\\Delta/\\alpha]/(1 - \\kappa^2/\\alpha)`,
    :math:`m = \\rho\\kappa`, ``q = e - rho + 2m``, test MSE :math:`\\Delta + e`.

    Numbers (or strict rational strings) must lie in the domains ``alpha`` > 0, ``lam`` > 0,
    ``rho`` > 0, ``Delta`` >= 0 (:class:`InputError`); a numeric result that is not a finite
    real number is a :class:`NumericalFailure`."""
    alpha = _numeric_argument("alpha", alpha, low=0, low_open=True)
    lam = _numeric_argument("lam", lam, low=0, low_open=True)
    rho = _numeric_argument("rho", rho, low=0, low_open=True)
    Delta = _numeric_argument("Delta", Delta, low=0)
    # positive root written as 2/(B + sqrt(B^2 + 4 lam)), B = lam + alpha - 1: no 1/lam, so
    # the limit lam -> 0 is a substitution (continuous for alpha != 1).
    B = lam + alpha - 1
    V = 2 / (B + sp.sqrt(B**2 + 4 * lam))
    kappa = alpha * V / (1 + V)
    e = (rho * (1 - kappa) ** 2 + kappa**2 * Delta / alpha) / (1 - kappa**2 / alpha)
    mm = rho * kappa
    out = R2ClosedForm(V=V, kappa=kappa, e=e, m=mm, q=e - rho + 2 * mm, test_mse=Delta + e,
                       eps_J=e / rho)
    _check_numeric_result("R2 closed form", out.V, out.e, out.test_mse)
    return out


@result
class R2FixedPointResiduals:
    """Residuals of the R2 closed form in the prior and square-loss channel equations (all 0);
    see :func:`r2_fixed_point_residuals`.

    Attributes
    ----------
    V : sympy expression
        The V-equation :math:`\\lambda V^2 + (\\lambda + \\alpha - 1)V - 1` at the closed-form root.
    m : sympy expression
        :math:`\\rho\\hat m V - \\rho\\kappa` on the solution.
    q : sympy expression
        :math:`(\\rho\\hat m^2 + \\hat q)V^2 - (e - \\rho + 2\\rho\\kappa)` on the solution.
    """

    V: sp.Expr
    m: sp.Expr
    q: sp.Expr


def r2_fixed_point_residuals() -> R2FixedPointResiduals:
    """Substitute :func:`r2_closed_form` into the prior and channel equations and simplify.

    The closed form solves the V-equation exactly; m and q are then checked symbolically as
    functions of (kappa, V, e). All three residuals are 0.
    """
    Vs, es = sp.symbols("V_s e_s", positive=True)
    kappa = alpha * Vs / (1 + Vs)
    ch = r2_channel(m=rho * kappa, q=es - rho + 2 * rho * kappa, V=Vs)
    prior = ridge_prior_equations(m_hat=ch.mhat, q_hat=ch.qhat, V_hat=ch.Vhat)
    # V-equation: Vs = 1/(lam + alpha/(1+Vs))  <=>  lam Vs^2 + (lam + alpha - 1) Vs - 1 = 0
    v_eq = sp.simplify(sp.numer(sp.together(Vs - prior.V)) * -1)
    v_root = r2_closed_form().V
    res_v = sp.simplify(sp.expand(v_eq.subs(Vs, v_root)))
    # On that solution the prior V equals Vs, i.e. lam = lam(Vs); use it in m and q:
    lam_of_V = sp.solve(sp.Eq(Vs, prior.V), lam)[0]
    m_res = sp.simplify((prior.m - rho * kappa).subs(lam, lam_of_V))
    e_closed = (rho * (1 - kappa) ** 2 + kappa**2 * Delta / alpha) / (1 - kappa**2 / alpha)
    q_res = sp.simplify((prior.q - (es - rho + 2 * rho * kappa)).subs(lam, lam_of_V)
                        .subs(es, e_closed))
    return R2FixedPointResiduals(V=res_v, m=m_res, q=q_res)


def r2_ols_limit(alpha=alpha, Delta=Delta, rho=rho):
    """:math:`\\lim_{\\lambda\\to0^+} e` for :math:`\\alpha > 1`; equals :math:`\\Delta/(\\alpha-1)`.
    Numbers (or strict rational strings) must satisfy ``alpha`` > 1, ``Delta`` >= 0, ``rho`` > 0."""
    alpha = _numeric_argument("alpha", alpha, low=1, low_open=True)
    Delta = _numeric_argument("Delta", Delta, low=0)
    rho = _numeric_argument("rho", rho, low=0, low_open=True)
    a = sp.Symbol("a", positive=True)  # a = alpha - 1 > 0
    e = r2_closed_form(alpha=1 + a, rho=rho, Delta=Delta).e
    # e is continuous in lam at 0 for a > 0 (the root has no 1/lam), so the limit is e(lam=0).
    return sp.simplify(e.subs(lam, 0).subs(a, alpha - 1))


# ----------------------------------------------------------------------------------------------
# Part 2 (spec Secs. 11-13): replica-symmetry stability and the softmax channel.
# Scenario origin (Sec. 13): R2-correlated is the library's reconstruction of the probable paper
# scenario; R1, R2-isotropic and the softmax channel are library extensions. None of their
# numbers is the paper's.


@result
class RepliconIdentities:
    """Symbolic identities of the replicon eigenvalue (spec Sec. 11); see
    :func:`replicon_identities`. Every field simplifies to 0.

    Attributes
    ----------
    r2_lambda : sympy expression
        R2: :math:`\\alpha V^2 E[(\\ell''/(1+V\\ell''))^2]` with :math:`\\ell'' = 1`, minus
        :math:`\\kappa^2/\\alpha`, :math:`\\kappa = \\alpha V/(1+V)`.
    r2_error_factor : sympy expression
        R2: :math:`e\\,(1 - \\Lambda) - [\\rho(1-\\kappa)^2 + \\kappa^2\\Delta/\\alpha]` (e carries the
        factor :math:`1/(1-\\Lambda)`).
    r1_bound_gap : sympy expression
        R1, per node: :math:`(1 - \\partial_\\omega P) - V^2[\\sigma'/(1+V\\sigma')]^2` minus
        :math:`t(1-t)`, :math:`t = V\\sigma'/(1+V\\sigma') \\in [0, 1)`; so the replicon integrand is
        at most the :math:`V\\hat V` integrand and :math:`\\Lambda \\le V\\hat V`.
    prior_product : sympy expression
        :math:`V\\hat V - \\hat V/(\\lambda + \\hat V)` on the prior equation :math:`V = 1/(\\lambda+\\hat V)`.
    """

    r2_lambda: sp.Expr
    r2_error_factor: sp.Expr
    r1_bound_gap: sp.Expr
    prior_product: sp.Expr


def replicon_identities() -> RepliconIdentities:
    """The replicon (de Almeida-Thouless) eigenvalue of a convex GLM channel at the RS point,
    :math:`\\Lambda = \\alpha V^2 E\\sum_y p(y)[\\ell''(P)/(1+V\\ell''(P))]^2` (spec Sec. 11): its closed
    form for R2 (:math:`\\ell'' = 1`: :math:`\\Lambda = \\kappa^2/\\alpha`), the factor
    :math:`1/(1-\\Lambda)` of R2's error, and the pointwise bound behind :math:`\\Lambda \\le V\\hat V
    = \\hat V/(\\lambda+\\hat V) < 1` for R1 (:math:`\\ell'' = \\sigma'(P) = s \\ge 0`)."""
    kappa = alpha * V_ / (1 + V_)
    lam_r2 = alpha * V_**2 * (1 / (1 + V_)) ** 2
    r2_lambda = sp.simplify(lam_r2 - kappa**2 / alpha)
    e = (rho * (1 - kappa) ** 2 + kappa**2 * Delta / alpha) / (1 - kappa**2 / alpha)
    r2_factor = sp.simplify(e * (1 - lam_r2) - (rho * (1 - kappa) ** 2 + kappa**2 * Delta / alpha))
    s = sp.Symbol("s", nonnegative=True)
    t = V_ * s / (1 + V_ * s)
    one_minus_dprox = 1 - 1 / (1 + V_ * s)
    gap = sp.simplify(one_minus_dprox - V_**2 * (s / (1 + V_ * s)) ** 2 - t * (1 - t))
    prior = ridge_prior_equations()
    product = sp.simplify(prior.V * V_hat - V_hat / (lam + V_hat))
    return RepliconIdentities(r2_lambda, r2_factor, gap, product)


@result
class SoftmaxChannelIdentities:
    """Symbolic checks of the softmax channel's algebra (spec Sec. 12) at C colours with a
    symbolic C x r matrix B; see :func:`softmax_channel_identities`. Every residual is 0.

    Attributes
    ----------
    gradient : sympy Matrix, (r, 1)
        :math:`\\nabla_x\\ell(y, x) - B^T(p - e_y)`, :math:`\\ell = -\\log\\mathrm{softmax}_y(Bx)`.
    hessian : sympy Matrix, (r, r)
        :math:`\\nabla^2_x\\ell - B^T(\\mathrm{diag}\\,p - pp^T)B`.
    teacher_gradient : sympy Matrix, (r, 1)
        :math:`\\nabla_\\zeta p_y(B\\zeta) - p_y B^T(e_y - p)` (the :math:`\\hat m` integrand).
    prox_stationarity : sympy Matrix, (r, 1)
        Gradient of :math:`|x-\\omega|^2/(2V) + \\ell` minus :math:`(x - \\omega)/V + B^T(p - e_y)`.
    ising_reduction : sympy expression
        C = 2, B = (1,-1)^T: :math:`\\sum_y |e^{\\ell(y, x)} - (1 + e^{-2\\sigma_y x})|`, i.e. the loss
        is the R1 loss at the logit 2x (hence R1 at (4 rho, lam/4)).
    features : sympy Matrix, (C-1, C-1)
        U = I: :math:`B^+\\Sigma B^{+T} - I` with B from the eigenvectors of
        :math:`\\Sigma = I/C - \\mathbf 1\\mathbf 1^T/C^2` (identity feature covariance).
    """

    gradient: sp.Matrix
    hessian: sp.Matrix
    teacher_gradient: sp.Matrix
    prox_stationarity: sp.Matrix
    ising_reduction: sp.Expr
    features: sp.Matrix


def softmax_channel_identities(C: int = 3, label: int = 0) -> SoftmaxChannelIdentities:
    """Check the derivatives used by the softmax channel (spec Sec. 12) symbolically, for ``C``
    colours (2 <= C <= 4, r = C - 1) and the label ``label`` in [0, C)."""
    integer(2, 4, note="symbolic softmax expansions").check("C", C)
    integer(0, C - 1).check("label", label)
    r = C - 1
    B = sp.Matrix(C, r, lambda i, j: sp.Symbol(f"B_{i}{j}", real=True))
    xs = sp.Matrix(r, 1, lambda i, j: sp.Symbol(f"x_{i}", real=True))
    om = sp.Matrix(r, 1, lambda i, j: sp.Symbol(f"omega_{i}", real=True))
    Vs = sp.Symbol("V", positive=True)
    logits = B * xs
    Z = sum(sp.exp(logits[c]) for c in range(C))
    p = sp.Matrix(C, 1, lambda c, j: sp.exp(logits[c]) / Z)
    loss = -(logits[label] - sp.log(Z))
    e_y = sp.Matrix(C, 1, lambda c, j: 1 if c == label else 0)
    grad = sp.Matrix([sp.diff(loss, xs[k]) for k in range(r)])
    gradient = sp.simplify(grad - B.T * (p - e_y))
    hess = sp.hessian(loss, list(xs))
    hessian = sp.simplify(hess - B.T * (sp.diag(*p) - p * p.T) * B)
    teacher = sp.Matrix([sp.diff(p[label], xs[k]) for k in range(r)])
    teacher_gradient = sp.simplify(teacher - p[label] * B.T * (e_y - p))
    objective = sum((xs[k] - om[k]) ** 2 for k in range(r)) / (2 * Vs) + loss
    stat = sp.Matrix([sp.diff(objective, xs[k]) for k in range(r)])
    prox_stationarity = sp.simplify(stat - ((xs - om) / Vs + B.T * (p - e_y)))
    # C = 2 reduction: B = (1, -1)^T, sigma = (+1, -1)
    x1 = sp.Symbol("x", real=True)
    ising = []
    for yy, sign in ((0, 1), (1, -1)):
        lg = sp.Matrix([x1, -x1])
        l2 = -(lg[yy] - sp.log(sp.exp(lg[0]) + sp.exp(lg[1])))
        # compare the arguments of the logs: exp(l2) = (e^x + e^-x)/e^{+-x} = 1 + e^{-+2x}
        ising.append(sp.simplify(sp.exp(l2) - (1 + sp.exp(-2 * sign * x1))))
    ising_reduction = sp.simplify(sum(sp.Abs(v) for v in ising))
    # identity feature covariance for U = I
    Sig = sp.eye(C) / C - sp.ones(C, C) / C**2
    vecs = [v for val, mult, vs in Sig.eigenvects() if val != 0 for v in vs]
    Q, _ = sp.Matrix.hstack(*vecs).QRdecomposition()
    Bf = Q * sp.sqrt(sp.Rational(1, C))  # Sigma = (1/C) Q Q^T on the complement of 1
    features = sp.simplify(Bf.pinv() * Sig * Bf.pinv().T - sp.eye(r))
    return SoftmaxChannelIdentities(gradient, hessian, teacher_gradient, prox_stationarity,
                                    ising_reduction, features)

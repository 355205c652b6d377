"""Sympy derivations of the Markov-chain papers: the chain, the canonical model, its critical set.

Sources: Makkuva et al., "Attention with Markov", arXiv 2402.04161 (P1; the chain, Sec. 2) and
"Local to Global", arXiv 2406.03072 (P2; the canonical model, Sec. 3). The symmetric S-state
chain and its unigram point are the library's reconstruction (an extension of P1 Sec. 2).

Everything returns sympy objects. The canonical model (P2) has parameters ``theta = (e, w, b)`` and
logit

.. math:: \\ell(x) = e^2 (1 + 2 w|w|)\\, x + b - e^2/2, \\qquad x = x_n \\in \\{0, 1\\}.

``w|w|`` is :math:`C^1` but not :math:`C^2` at ``w = 0``, so every function that differentiates
twice takes ``branch``: ``+1`` for ``w > 0`` (``w|w| = w^2``), ``-1`` for ``w < 0``
(``w|w| = -w^2``); ``branch=None`` keeps ``w*Abs(w)`` (fine for values and first derivatives).

Symbols (all real; ``p, q`` positive): :data:`p`, :data:`q` the kernel entries
``P(1|0)``, ``P(0|1)``; :data:`e`, :data:`w`, :data:`b` the canonical parameters.
"""

from __future__ import annotations

from fractions import Fraction

import sympy as sp

from theory.domains import FINITE, PROBABILITY, Domain, as_rational, integer
from theory.errors import InputError, NumericalFailure, check_choice
from theory.results import result

p, q = sp.symbols("p q", positive=True)


class EmbeddingSymbol(sp.Symbol):
    """The embedding scalar ``e`` of the canonical model: a real sympy Symbol named ``e`` whose
    LaTeX form is :math:`e_{\\mathrm{emb}}`, so that a notebook never shows it as Euler's number
    (``sp.E`` prints as :math:`e`). Plain-text printing, ``lambdify`` and pickling are unchanged."""

    def _latex(self, printer):
        return r"e_{\mathrm{emb}}"


#: The canonical parameters: embedding scalar, MLP weight, bias.
e = EmbeddingSymbol("e", real=True)
w, b = sp.symbols("w b", real=True)
t = sp.symbols("t", real=True)

#: Number of states ``S`` of the symmetric chain in the sympy functions: they build ``S x S``
#: matrices and simplify every entry (S = 32: about a thousand entries, seconds).
SYMBOLIC_STATES = integer(2, 32, note="S x S sympy matrices, simplified entry by entry")
#: Lag ``k`` of :func:`lag_covariance` and :func:`s_state_key_matrix` (symbolic powers ``P^k``;
#: the expressions grow with ``k``).
LAG = integer(0, 32, note="symbolic matrix powers P^k grow with k")
#: Width ``d`` of :func:`s_state_unigram_hessian_simple` (``(d+1) x (d+1)`` symbols).
SYMBOLIC_WIDTH = integer(1, 64, note="(d+1) x (d+1) sympy matrix of symbols")

#: The saddle's w: the unigram curvature 1 + 2w|w| vanishes at w = -1/sqrt(2).
SADDLE_W = -1 / sp.sqrt(2)
#: Energy of the saddle (e, w) = (0, -1/sqrt 2): E* = -(1 + log 2)/2 (P2, Sec. 3).
SADDLE_ENERGY = -(1 + sp.log(2)) / 2


@result
class CanonicalLogits:
    """The two logits of the canonical model (P2, Sec. 3):
    :math:`f_0 = b - e^2/2` after :math:`x_n = 0` and :math:`f_1 = b + e^2/2 + 2e^2 w|w|` after
    :math:`x_n = 1`.

    Attributes
    ----------
    f0, f1 : sympy expression (:mod:`theory.markov`) or ndarray of float
        (:mod:`numerics.markov.canonical`, the broadcast shape of ``(e, w, b)``)
        Logits in nats; :math:`\\sigma(f_x)` is the predicted :math:`P(x_{n+1} = 1 \\mid x_n = x)`.
    """

    f0: object
    f1: object


@result
class Residuals:
    """The derivatives of the canonical loss in the two logits (P2, Sec. 3):
    :math:`g_0 = \\pi_0(\\sigma(f_0) - p)`, :math:`g_1 = \\pi_1(\\sigma(f_1) - (1-q))`.

    Attributes
    ----------
    g0, g1 : sympy expression
        Dimensionless; both vanish exactly on the global-minimum curve.
    """

    g0: object
    g1: object


@result
class SStateEntropies:
    """Closed forms of the symmetric S-state chain :math:`P_{ii} = 1-p`,
    :math:`P_{ij} = p/(S-1)` (the library's reconstruction, extending P1 Sec. 2).

    Attributes
    ----------
    stationary : sympy Matrix, shape (S, 1)
        The uniform stationary law :math:`\\pi_i = 1/S`.
    unigram_entropy : sympy expression
        :math:`H(\\pi) = \\log S` (nats).
    entropy_rate : sympy expression
        :math:`H(P) = h(p) + p\\log(S-1)` (nats).
    second_eigenvalue : sympy expression
        :math:`\\lambda = 1 - pS/(S-1)` (dimensionless; :math:`P = \\lambda I + (1-\\lambda)J/S`).
    """

    stationary: sp.Matrix
    unigram_entropy: sp.Expr
    entropy_rate: sp.Expr
    second_eigenvalue: sp.Expr


@result
class StationarySystem:
    """The gradient of the canonical loss written in the residual unknowns (P2, Sec. 3):
    linear in :math:`(G_0, G_1)` standing for :math:`(g_0, g_1)`.

    Attributes
    ----------
    equations : list of 3 sympy expressions
        :math:`[G_0 + G_1,\\ e(-G_0 + (1 + 4\\,\\mathrm{branch}\\,w^2) G_1),\\
        4e^2(\\mathrm{branch}\\,w) G_1]`, the components ``(dL/db, dL/de, dL/dw)``.
    unknowns : tuple of 2 sympy Symbols
        ``(G0, G1)``.
    """

    equations: list
    unknowns: tuple


@result
class CriticalFamily:
    """One family of critical points of the canonical loss (P2, Sec. 3).

    Attributes
    ----------
    name : str
        ``"global minima"``, ``"unigram line"`` or ``"saddle"``.
    loss : sympy expression
        The loss on the family (nats): :math:`H(P)` or :math:`H(\\pi)`.
    conditions : list of sympy relations
        Equations in ``(e, w, b)`` (and ``p, q``) that define the family.
    """

    name: str
    loss: sp.Expr
    conditions: list


@result
class EnergyRate:
    """Both sides of the identity :math:`dE/dt = 2e^2\\,\\partial_b L` along the gradient flow
    (P2, Sec. 3).

    Attributes
    ----------
    rate : sympy expression
        :math:`dE/dt = -\\nabla E \\cdot \\nabla_{(e, w)} L` along :math:`\\dot\\theta = -\\nabla L`.
    identity_rhs : sympy expression
        :math:`2e^2\\,\\partial_b L`; ``rate - identity_rhs`` simplifies to zero.
    """

    rate: sp.Expr
    identity_rhs: sp.Expr


@result
class BasinConditions:
    """Where the gradient flow from ``(e, w)``, ``e != 0``, ends (P2, Sec. 3), as sympy booleans
    in ``p, q, e, w``.

    Attributes
    ----------
    global_basin : sympy Boolean
        True where the flow reaches the global-minimum curve (loss :math:`H(P)`).
    local_basin : sympy Boolean
        True where it reaches the unigram line's local minima (loss :math:`H(\\pi)`).
    """

    global_basin: object
    local_basin: object


@result
class SStateUnigramHessian:
    """The non-flat Hessian block of the tied S-state loss at the unigram point with attention
    and MLP switched off, with the symbols it is written in (the library's reconstruction).

    Attributes
    ----------
    hessian : sympy Matrix, shape (d+1, d+1)
        :math:`R = \\frac1S\\begin{pmatrix}G - 2\\lambda I_d & m\\\\ m^\\top & 1\\end{pmatrix}`
        in the coordinates ``(g, c)`` of one copy (nats per unit squared).
    gram : sympy Matrix, shape (d, d)
        Symmetric symbols standing for :math:`\\overline{pp^\\top} = \\frac1N\\sum_n p_n p_n^\\top`.
    mean : sympy Matrix, shape (d, 1)
        Symbols standing for :math:`\\bar p = \\frac1N\\sum_n p_n`.
    """

    hessian: sp.Matrix
    gram: sp.Matrix
    mean: sp.Matrix


# ----------------------------------------------------------------------------------------------
# Argument checks: symbols and expressions with free symbols pass unchanged; numbers (Python,
# Fraction, sympy, or strict strings such as "3/10", never evaluated) must lie in the domain.


def _numeric(name: str, value, domain: Domain):
    """``value`` unchanged when it is symbolic; a number checked against ``domain`` (a string is
    read by :func:`theory.domains.as_rational`, a Fraction becomes a sympy Rational); anything
    else (complex, NaN, infinities, bools, None, containers) is an :class:`InputError`."""
    if isinstance(value, str):
        exact = as_rational(name, value)
        value = sp.Rational(exact.numerator, exact.denominator)
    elif isinstance(value, Fraction):
        value = sp.Rational(value.numerator, value.denominator)
    if isinstance(value, sp.Basic):
        if value.free_symbols:
            return value
        if not (value.is_number and value.is_real is True):
            raise InputError(name, value, domain.describe())
        if domain.kind == "int" and value.is_integer is not True:
            raise InputError(name, value, domain.describe())
        try:
            inside = bool(domain._in_bounds(value))
        except TypeError:  # an undecidable comparison
            inside = False
        if not inside:
            raise InputError(name, value, domain.describe())
        return value
    return domain.check(name, value)


def _chain(p, q):
    """``(p, q)`` checked: symbols, or probabilities in (0, 1)."""
    return _numeric("p", p, PROBABILITY), _numeric("q", q, PROBABILITY)


def _reals(**values):
    """The named values checked as finite reals (or symbolic), in the order given."""
    return tuple(_numeric(name, value, FINITE) for name, value in values.items())


def _nonzero_w(w, expected: str):
    w = _numeric("w", w, FINITE)
    if not isinstance(w, sp.Basic) or not w.free_symbols:
        if w == 0:
            raise InputError("w", w, expected)
    return w


_NEGATIVE = Domain("real", None, 0, high_open=True)


def _states(S) -> int:
    """``S`` checked: an integer in :data:`SYMBOLIC_STATES` (ints only: it sizes matrices)."""
    if isinstance(S, sp.Integer):
        S = int(S)
    return SYMBOLIC_STATES.check("S", S)


def sigmoid(x):
    """:math:`\\sigma(x) = 1/(1 + e^{-x})`."""
    (x,) = _reals(x=x)
    return 1 / (1 + sp.exp(-x))


def binary_entropy(x):
    """:math:`h(x) = -x\\log x - (1-x)\\log(1-x)` (nats)."""
    x = _numeric("x", x, PROBABILITY)
    return -x * sp.log(x) - (1 - x) * sp.log(1 - x)


def binary_kl(a, s):
    """:math:`KL(a\\|s) = a\\log(a/s) + (1-a)\\log((1-a)/(1-s))`."""
    a, s = _numeric("a", a, PROBABILITY), _numeric("s", s, PROBABILITY)
    return a * sp.log(a / s) + (1 - a) * sp.log((1 - a) / (1 - s))


# ----------------------------------------------------------------------------------------------
# Section 1: the chain


def stationary_law(p=p, q=q):
    """:math:`\\pi = (q/(p+q),\\ p/(p+q))` of the kernel ``[[1-p, p], [q, 1-q]]`` (P1, Sec. 2).

    Examples
    --------
    For p = 1/5, q = 3/10: pi = (0.3/0.5, 0.2/0.5) = (3/5, 2/5).

    >>> import sympy as sp
    >>> from theory import markov
    >>> markov.stationary_law(sp.Rational(1, 5), sp.Rational(3, 10)).T
    Matrix([[3/5, 2/5]])
    """
    p, q = _chain(p, q)
    return sp.Matrix([q / (p + q), p / (p + q)])


def second_eigenvalue(p=p, q=q):
    """:math:`\\lambda = 1 - p - q`; :math:`\\mathrm{Cov}(x_n, x_{n+k}) = \\pi_0\\pi_1\\lambda^k`."""
    p, q = _chain(p, q)
    return 1 - p - q


def lag_covariance(k, p=p, q=q):
    """:math:`\\mathrm{Cov}(x_n, x_{n+k}) = \\pi_0 \\pi_1 \\lambda^k` for the stationary chain."""
    p, q = _chain(p, q)
    k = _numeric("k", k, LAG)
    pi0, pi1 = stationary_law(p, q)
    return pi0 * pi1 * second_eigenvalue(p, q) ** k


def unigram_entropy(p=p, q=q):
    """:math:`H(\\pi) = h(\\pi_1)`: the loss of the best predictor that ignores the past."""
    p, q = _chain(p, q)
    return binary_entropy(stationary_law(p, q)[1])


def entropy_rate(p=p, q=q):
    """:math:`H(P) = \\pi_0 h(p) + \\pi_1 h(q)`: the Bayes-optimal next-token loss.

    Examples
    --------
    P1's figures print the levels 0.6190 (:math:`H(P)`) and 0.6663 (:math:`H(\\pi)`) for
    p = 0.5, q = 0.8:

    >>> import sympy as sp
    >>> from theory import markov
    >>> p, q = sp.Rational(1, 2), sp.Rational(4, 5)
    >>> round(float(markov.entropy_rate(p, q)), 4), round(float(markov.unigram_entropy(p, q)), 4)
    (0.619, 0.6663)
    """
    p, q = _chain(p, q)
    pi0, pi1 = stationary_law(p, q)
    return pi0 * binary_entropy(p) + pi1 * binary_entropy(q)


def mutual_information(p=p, q=q):
    """:math:`I(x_n; x_{n+1}) = H(\\pi) - H(P) \\ge 0`, zero iff ``p + q = 1``."""
    p, q = _chain(p, q)
    return unigram_entropy(p, q) - entropy_rate(p, q)


def mutual_information_as_kl(p=p, q=q):
    """The same mutual information written as an average of KL divergences,
    :math:`\\pi_0 KL(p\\|\\pi_1) + \\pi_1 KL(1-q\\|\\pi_1)`: non-negative term by term, zero iff
    ``p = 1 - q = pi_1``, i.e. ``p + q = 1``."""
    p, q = _chain(p, q)
    pi0, pi1 = stationary_law(p, q)
    return pi0 * binary_kl(p, pi1) + pi1 * binary_kl(1 - q, pi1)


def s_state_kernel(S: int, p=p):
    """Symmetric S-state kernel: ``P_ii = 1 - p``, ``P_ij = p/(S-1)``."""
    S, p = _states(S), _numeric("p", p, PROBABILITY)
    return sp.Matrix(S, S, lambda i, j: 1 - p if i == j else p / (S - 1))


def s_state_entropies(S: int, p=p) -> SStateEntropies:
    """Stationary law (uniform), :math:`H(\\pi) = \\log S`, :math:`H(P) = h(p) + p\\log(S-1)`
    and :math:`\\lambda = 1 - pS/(S-1)` of the symmetric S-state chain ``S x S`` with
    :math:`P_{ii} = 1-p` (the library's reconstruction, extending P1 Sec. 2)."""
    S, p = _states(S), _numeric("p", p, PROBABILITY)
    return SStateEntropies(
        stationary=sp.Matrix([sp.Rational(1, S)] * S),
        unigram_entropy=sp.log(S),
        entropy_rate=binary_entropy(p) + p * sp.log(S - 1),
        second_eigenvalue=1 - p * S / (S - 1),
    )


def s_state_entropy_rate_from_kernel(S: int, p=p):
    """:math:`H(P) = -\\sum_i \\pi_i \\sum_j P_{ij}\\log P_{ij}` computed from the kernel itself
    (an independent route to :func:`s_state_entropies`)."""
    S, p = _states(S), _numeric("p", p, PROBABILITY)
    P = s_state_kernel(S, p)
    return -sum(sp.Rational(1, S) * P[i, j] * sp.log(P[i, j]) for i in range(S) for j in range(S))


# ----------------------------------------------------------------------------------------------
# Section 3: the canonical three-parameter model


def w_abs_w(w=w, branch: int | None = None):
    """``w|w|`` on a branch: ``w**2`` (``branch=+1``), ``-w**2`` (``-1``) or ``w*Abs(w)`` (None)."""
    (w,) = _reals(w=w)
    check_choice("branch", branch, (None, 1, -1))
    return w * sp.Abs(w) if branch is None else branch * w**2


def logit_gain(e=e, w=w, branch=None):
    """:math:`u = f_1 - f_0 = e^2(1 + 2w|w|)`."""
    e, w = _reals(e=e, w=w)
    return e**2 * (1 + 2 * w_abs_w(w, branch))


def canonical_logits(e=e, w=w, b=b, branch=None) -> CanonicalLogits:
    """:math:`(f_0, f_1) = (b - e^2/2,\\ b + e^2/2 + 2e^2 w|w|)`: the logits after x_n = 0 and 1
    (P2, Sec. 3)."""
    e, w, b = _reals(e=e, w=w, b=b)
    return CanonicalLogits(b - e**2 / 2, b + e**2 / 2 + 2 * e**2 * w_abs_w(w, branch))


def global_curve_constant(p=p, q=q):
    """:math:`C = \\log((1-p)(1-q)/(pq)) = \\mathrm{logit}(1-q) - \\mathrm{logit}(p)`: the value
    of ``u`` at which the model predicts the kernel exactly. Its sign is that of ``1 - p - q``."""
    p, q = _chain(p, q)
    return sp.log((1 - p) * (1 - q) / (p * q))


def canonical_loss(p=p, q=q, e=e, w=w, b=b, branch=None):
    """Population cross-entropy of the canonical model (P2, Eq. for L(theta)):

    .. math:: L = \\pi_0 [-p\\log\\sigma(f_0) - (1-p)\\log(1-\\sigma(f_0))]
                + \\pi_1 [-(1-q)\\log\\sigma(f_1) - q\\log(1-\\sigma(f_1))].
    """
    p, q = _chain(p, q)
    e, w, b = _reals(e=e, w=w, b=b)
    pi0, pi1 = stationary_law(p, q)
    logits = canonical_logits(e, w, b, branch)
    f0, f1 = logits.f0, logits.f1

    def cross_entropy(target, logit):
        return -target * sp.log(sigmoid(logit)) - (1 - target) * sp.log(1 - sigmoid(logit))

    return pi0 * cross_entropy(p, f0) + pi1 * cross_entropy(1 - q, f1)


def canonical_loss_kl_form(p=p, q=q, e=e, w=w, b=b, branch=None):
    """The same loss as :math:`H(P) + \\pi_0 KL(p\\|\\sigma(f_0)) + \\pi_1 KL(1-q\\|\\sigma(f_1))`
    (P2, Sec. 3): shows the minimum value ``H(P)`` and when it is reached."""
    p, q = _chain(p, q)
    e, w, b = _reals(e=e, w=w, b=b)
    pi0, pi1 = stationary_law(p, q)
    logits = canonical_logits(e, w, b, branch)
    f0, f1 = logits.f0, logits.f1
    return (entropy_rate(p, q) + pi0 * binary_kl(p, sigmoid(f0))
            + pi1 * binary_kl(1 - q, sigmoid(f1)))


def residuals(p=p, q=q, e=e, w=w, b=b, branch=None) -> Residuals:
    """:math:`g_0 = \\pi_0(\\sigma(f_0) - p)`, :math:`g_1 = \\pi_1(\\sigma(f_1) - (1-q))`:
    the derivatives of the loss in ``f_0`` and ``f_1`` (P2, Sec. 3)."""
    p, q = _chain(p, q)
    e, w, b = _reals(e=e, w=w, b=b)
    pi0, pi1 = stationary_law(p, q)
    logits = canonical_logits(e, w, b, branch)
    return Residuals(pi0 * (sigmoid(logits.f0) - p), pi1 * (sigmoid(logits.f1) - (1 - q)))


def canonical_gradient(p=p, q=q, e=e, w=w, b=b, branch=None):
    """Gradient of :func:`canonical_loss` in ``(e, w, b)`` by differentiation (3x1 Matrix)."""
    p, q = _chain(p, q)
    e, w, b = _reals(e=e, w=w, b=b)
    loss = canonical_loss(p, q, e, w, b, branch)
    return sp.Matrix([sp.diff(loss, v) for v in (e, w, b)])


def canonical_gradient_paper_form(p=p, q=q, e=e, w=w, b=b, branch=None):
    """The gradient in the residuals (P2, Sec. 3):

    .. math:: \\partial_e L = -e g_0 + e(1 + 4w|w|) g_1,\\quad \\partial_w L = 4e^2|w| g_1,
              \\quad \\partial_b L = g_0 + g_1.
    """
    p, q = _chain(p, q)
    e, w, b = _reals(e=e, w=w, b=b)
    res = residuals(p, q, e, w, b, branch)
    g0, g1 = res.g0, res.g1
    wabsw = w_abs_w(w, branch)
    abs_w = sp.Abs(w) if branch is None else branch * w
    return sp.Matrix([-e * g0 + e * (1 + 4 * wabsw) * g1, 4 * e**2 * abs_w * g1, g0 + g1])


def canonical_hessian(p=p, q=q, e=e, w=w, b=b, branch: int = 1):
    """Hessian of the canonical loss in ``(e, w, b)`` on one branch of ``w`` (3x3 Matrix)."""
    p, q = _chain(p, q)
    e, w, b = _reals(e=e, w=w, b=b)
    check_choice("branch", branch, (1, -1))
    return sp.hessian(canonical_loss(p, q, e, w, b, branch), (e, w, b))


def optimal_bias(p=p, q=q, e=e, w=w, branch=None):
    """Closed-form minimiser of the loss in ``b`` (derived here; P2 states it exists).

    The first-order condition :math:`\\pi_0\\sigma(f_0) + \\pi_1\\sigma(f_1) = \\pi_1` with
    :math:`z = e^{f_0}` and :math:`k = e^{u}` becomes :math:`q k z^2 + (q-p) z - p = 0`, whose
    positive root gives

    .. math:: b^*(e, w) = \\frac{e^2}{2} + \\log\\frac{p - q + \\sqrt{(q-p)^2 + 4pq\\,e^{u}}}{2q\\,e^{u}}.

    At ``e = 0`` it is :math:`\\log(p/q)`.
    """
    p, q = _chain(p, q)
    e, w = _reals(e=e, w=w)
    k = sp.exp(logit_gain(e, w, branch))
    z = (p - q + sp.sqrt((q - p) ** 2 + 4 * p * q * k)) / (2 * q * k)
    return e**2 / 2 + sp.log(z)


def bias_condition(p=p, q=q, e=e, w=w, b=b, branch=None):
    """:math:`\\pi_0\\sigma(f_0) + \\pi_1\\sigma(f_1) - \\pi_1` (zero at the optimal bias)."""
    p, q = _chain(p, q)
    e, w, b = _reals(e=e, w=w, b=b)
    pi0, pi1 = stationary_law(p, q)
    logits = canonical_logits(e, w, b, branch)
    return pi0 * sigmoid(logits.f0) + pi1 * sigmoid(logits.f1) - pi1


def profiled_loss(p=p, q=q, e=e, w=w, branch=None):
    """:math:`L^*(e, w) = L(e, w, b^*(e, w))`."""
    p, q = _chain(p, q)
    e, w = _reals(e=e, w=w)
    return canonical_loss(p, q, e, w, optimal_bias(p, q, e, w, branch), branch)


def global_minimum_curve(p=p, q=q, e=e, w=w, branch=None):
    """The global minima (loss ``H(P)``): :math:`e^2(1 + 2w|w|) = \\log((1-p)(1-q)/(pq))`
    with ``b = logit(p) + e^2/2``. Returned as an ``Eq``."""
    p, q = _chain(p, q)
    e, w = _reals(e=e, w=w)
    return sp.Eq(logit_gain(e, w, branch), global_curve_constant(p, q))


def global_minimum_bias(p=p, q=q, e=e):
    """On the global curve ``sigma(f_0) = p``, so :math:`b = \\log(p/(1-p)) + e^2/2`."""
    p, q = _chain(p, q)
    (e,) = _reals(e=e)
    return sp.log(p / (1 - p)) + e**2 / 2


def unigram_bias(p=p, q=q):
    """:math:`b = \\log(p/q)`: the bias of the unigram line ``e = 0``."""
    p, q = _chain(p, q)
    return sp.log(p / q)


def unigram_curvature_scalar(p=p, q=q):
    """:math:`g_1^o = pq(p+q-1)/(p+q)^2 = \\pi_0\\pi_1(p+q-1)/(p+q)`: the value of ``g_1``
    (and ``-g_0``) on the unigram line."""
    p, q = _chain(p, q)
    return p * q * (p + q - 1) / (p + q) ** 2


def unigram_hessian(p=p, q=q, w=w, branch: int = 1):
    """Hessian on the unigram line ``e = 0``, ``b = log(p/q)`` (P2, Sec. 3):

    .. math:: \\mathrm{diag}(2 g_1^o (1 + 2w|w|),\\ 0,\\ \\pi_0\\pi_1).
    """
    p, q = _chain(p, q)
    (w,) = _reals(w=w)
    pi0, pi1 = stationary_law(p, q)
    g1o = unigram_curvature_scalar(p, q)
    return sp.diag(2 * g1o * (1 + 2 * w_abs_w(w, branch)), 0, pi0 * pi1)


def stationary_system(branch: int) -> StationarySystem:
    """The gradient in the residual variables, for the classification of critical points
    (P2, Sec. 3).

    With :math:`G_0, G_1` standing for :math:`g_0, g_1` and ``a = |w| = branch * w``, the
    gradient is linear in ``(G_0, G_1)``:
    ``[G0 + G1, e(-G0 + (1 + 4 branch w^2) G1), 4 e^2 a G1]``.
    """
    check_choice("branch", branch, (1, -1))
    G0, G1 = sp.symbols("G0 G1", real=True)
    equations = [G0 + G1, e * (-G0 + (1 + 4 * branch * w**2) * G1), 4 * e**2 * (branch * w) * G1]
    return StationarySystem(equations, (G0, G1))


def critical_point_families(p=p, q=q) -> list[CriticalFamily]:
    """The critical set of the canonical loss: three families (P2, Sec. 3)."""
    p, q = _chain(p, q)
    return [
        CriticalFamily("global minima", entropy_rate(p, q),
                       [global_minimum_curve(p, q), sp.Eq(b, global_minimum_bias(p, q))]),
        CriticalFamily("unigram line", unigram_entropy(p, q),
                       [sp.Eq(e, 0), sp.Eq(b, unigram_bias(p, q))]),
        CriticalFamily("saddle", unigram_entropy(p, q),
                       [sp.Eq(e, 0), sp.Eq(w, SADDLE_W), sp.Eq(b, unigram_bias(p, q))]),
    ]


def classify_stationary_solutions(branch: int) -> list[dict]:
    """Solve :func:`stationary_system` for ``(G0, G1, e)`` at ``w != 0``: every solution has
    ``e = 0`` with ``G0 = -G1`` (the unigram line) or ``G0 = G1 = 0`` (the global curve).
    This is the symbolic half of "no other critical points"."""
    system = stationary_system(branch)
    G0, G1 = system.unknowns
    return sp.solve(system.equations, [G0, G1, e], dict=True)


def energy(e=e, w=w, branch=None):
    """:math:`E(e, w) = e^2 - w^2 - \\mathrm{sign}(w)\\log|w|` (P2)."""
    (e,) = _reals(e=e)
    w = _nonzero_w(w, "a nonzero real number (E is undefined at w = 0)")
    if branch is None:
        return e**2 - w**2 - sp.sign(w) * sp.log(sp.Abs(w))
    check_choice("branch", branch, (1, -1))
    if not isinstance(w, sp.Basic) or not w.free_symbols:
        if (w > 0) != (branch > 0):
            raise InputError("w", w, f"a number of the sign of branch={branch}")
    return e**2 - w**2 - branch * sp.log(branch * w)


def energy_rate_along_flow(p=p, q=q, branch: int = 1) -> EnergyRate:
    """:math:`dE/dt` along the gradient flow :math:`\\dot\\theta = -\\nabla L`, returned with the
    right side of the identity :math:`dE/dt = 2e^2\\,\\partial_b L` (P2, Sec. 3); their
    difference simplifies to zero."""
    p, q = _chain(p, q)
    grad = canonical_gradient_paper_form(p, q, e, w, b, branch)
    energy_expr = energy(e, w, branch)
    rate = -(sp.diff(energy_expr, e) * grad[0] + sp.diff(energy_expr, w) * grad[1])
    return EnergyRate(rate, 2 * e**2 * grad[2])


def separatrix(e=e, w=w):
    """The separatrix through the saddle, for ``w < 0``:
    :math:`e^2 = w^2 - \\log|w| - (1 + \\log 2)/2` (the level set ``E = E*``)."""
    (e,) = _reals(e=e)
    w = _numeric("w", w, _NEGATIVE)
    return sp.Eq(e**2, w**2 - sp.log(-w) - (1 + sp.log(2)) / 2)


def basin_conditions(p=p, q=q, e=e, w=w) -> BasinConditions:
    """Where the gradient flow goes from ``(e, w)`` with ``e != 0`` (P2, Sec. 3), as sympy
    booleans. ``E`` is :func:`energy`, ``E*`` the saddle's.

    - p+q > 1: local from ``w >= 0`` and from ``-1/sqrt2 < w < 0`` with ``E < E*``; global
      from ``w < -1/sqrt2`` and ``-1/sqrt2 < w < 0`` with ``E > E*``.
    - p+q < 1: local from ``w < -1/sqrt2`` with ``E < E*``; global from everything else.
    """
    p, q = _chain(p, q)
    (e,) = _reals(e=e)
    w = _nonzero_w(w, "a nonzero real number (E is undefined at w = 0)")
    E = energy(e, w, None)
    between = sp.And(w >= SADDLE_W, w < 0)
    above, below = E > SADDLE_ENERGY, E < SADDLE_ENERGY
    off_line = sp.Ne(e, 0)
    up, down = p + q > 1, p + q < 1
    local = sp.And(off_line, sp.Or(sp.And(up, sp.Or(w >= 0, sp.And(between, below))),
                                   sp.And(down, w < SADDLE_W, below)))
    global_ = sp.And(off_line, sp.Or(sp.And(up, sp.Or(w < SADDLE_W, sp.And(between, above))),
                                     sp.And(down, sp.Or(w >= SADDLE_W, above))))
    return BasinConditions(global_basin=global_, local_basin=local)


# ----------------------------------------------------------------------------------------------
# The symmetric S-state chain: the unigram point of the tied model (the library's
# reconstruction, used by validation.markov.states)


def s_state_second_eigenvalue(S: int, p=p):
    """:math:`\\lambda = 1 - pS/(S-1)`, so that :math:`P = \\lambda I + (1-\\lambda) J/S`
    (``J`` all ones)."""
    S, p = _states(S), _numeric("p", p, PROBABILITY)
    return 1 - p * S / (S - 1)


def s_state_key_matrix(S: int, k: int = 1, p=p):
    """The key matrix :math:`K_k = \\mathbb{E}[(\\pi - e_{x_{n+k}})\\, e_{x_n}^\\top]` of the
    stationary symmetric S-state chain, derived from the kernel:
    :math:`\\pi\\pi^\\top - (\\mathrm{diag}(\\pi) P^k)^\\top` (``S x S`` sympy matrix, simplified).

    It equals :math:`-(\\lambda^k/S)(I - J/S)` (:func:`s_state_key_matrix_closed_form`): the
    sign of the unigram point's curvature along :math:`\\Pi E` comes from :math:`k = 1` (the
    current token), older tokens reach position ``n`` through attention with :math:`\\lambda^k`.
    """
    S, p = _states(S), _numeric("p", p, PROBABILITY)
    k = LAG.check("k", int(k) if isinstance(k, sp.Integer) else k)
    P = s_state_kernel(S, p)
    pi = sp.Matrix([sp.Rational(1, S)] * S)
    joint = sp.diag(*pi) * P**k          # joint[i, j] = Pr(x_n = i, x_{n+k} = j)
    return (pi * pi.T - joint.T).applyfunc(sp.factor)


def s_state_key_matrix_closed_form(S: int, k: int = 1, p=p):
    """:math:`-(\\lambda^k/S)(I - J/S)`, :math:`\\lambda` of :func:`s_state_second_eigenvalue`."""
    S, p = _states(S), _numeric("p", p, PROBABILITY)
    k = LAG.check("k", int(k) if isinstance(k, sp.Integer) else k)
    lam = s_state_second_eigenvalue(S, p)
    return -(lam**k / S) * (sp.eye(S) - sp.ones(S, S) / S)


def s_state_unigram_hessian_simple(S: int, d: int, p=p) -> SStateUnigramHessian:
    """Hessian of the tied S-state loss at the unigram point in the non-flat coordinates
    ``(g, c)`` of one copy (``Pi E = w g^T``, ``Pi b = w c``, ``|w| = 1``, ``w`` orthogonal to
    ``1``) when attention and MLP are switched off (``W_V = 0``, ``W_2 = 0``: ``z_n = p_n``):

    .. math::
        R = \\frac1S\\begin{pmatrix} \\overline{pp^\\top} - 2\\lambda I_d & \\bar p\\\\
        \\bar p^\\top & 1\\end{pmatrix},\\qquad
        \\overline{pp^\\top} = \\frac1N\\sum_n p_n p_n^\\top,\\ \\bar p = \\frac1N\\sum_n p_n,

    returned with the symbols (:class:`SStateUnigramHessian`: ``hessian`` R, ``gram`` G
    (symmetric ``d x d``) standing for :math:`\\overline{pp^\\top}` and ``mean`` m (``d x 1``)
    for :math:`\\bar p`). The ``-2\\lambda`` is
    twice the key matrix's coefficient (second derivative of :math:`g^\\top F F^\\top e_{x_n}`).
    The full Hessian on the non-flat subspace is ``I_{S-1} (x) R``.
    """
    S, p = _states(S), _numeric("p", p, PROBABILITY)
    d = SYMBOLIC_WIDTH.check("d", d)
    lam = s_state_second_eigenvalue(S, p)
    G = sp.Matrix(d, d, lambda i, j: sp.Symbol(f"G_{min(i, j)}{max(i, j)}", real=True))
    m = sp.Matrix(d, 1, lambda i, _: sp.Symbol(f"m_{i}", real=True))
    R = sp.zeros(d + 1, d + 1)
    R[:d, :d] = G - 2 * lam * sp.eye(d)
    R[:d, d] = m
    R[d, :d] = m.T
    R[d, d] = 1
    return SStateUnigramHessian(hessian=R / S, gram=G, mean=m)


# ----------------------------------------------------------------------------------------------
# Numbers out: a public function given numbers (no free symbols) returns a real, finite value or
# raises. Floats are kept as floats (the results of valid inputs do not change), so float
# precision can still fail (1 - sigmoid(50.5) is 0.0 in floats): that is a NumericalFailure
# telling the caller to pass exact rationals, never NaN, zoo or a complex number.


def _check_number_out(name: str, value) -> None:
    if isinstance(value, sp.MatrixBase):
        for entry in value:
            _check_number_out(name, entry)
        return
    if not isinstance(value, sp.Expr) or value.free_symbols:
        return
    try:
        number = complex(sp.N(value, 15))
    except (TypeError, ValueError, OverflowError, ZeroDivisionError):
        number = complex(float("nan"))
    if number.imag != 0 or not (number.real == number.real and abs(number.real) != float("inf")):
        raise NumericalFailure(f"{name}: the value {value} is not a finite real number (float "
                               "precision for these arguments; pass exact rationals such as "
                               "'3/10' or sympy Rationals)")


def _numbers_checked(fn):
    import dataclasses
    import functools

    @functools.wraps(fn)
    def checked(*args, **kwargs):
        try:
            out = fn(*args, **kwargs)
        except (ZeroDivisionError, OverflowError) as exc:
            raise NumericalFailure(f"{fn.__name__}: {exc} (float precision for these arguments; "
                                   "pass exact rationals such as '3/10' or sympy "
                                   "Rationals)") from None
        fields = ([getattr(out, f.name) for f in dataclasses.fields(out)]
                  if dataclasses.is_dataclass(out) else [out])
        for field in fields:
            _check_number_out(fn.__name__, field)
        return out

    return checked


for _name in ("sigmoid", "binary_entropy", "binary_kl", "stationary_law", "second_eigenvalue",
              "lag_covariance", "unigram_entropy", "entropy_rate", "mutual_information",
              "mutual_information_as_kl", "s_state_kernel", "s_state_entropies",
              "s_state_entropy_rate_from_kernel", "logit_gain", "canonical_logits",
              "global_curve_constant", "canonical_loss", "canonical_loss_kl_form", "residuals",
              "canonical_gradient", "canonical_gradient_paper_form", "canonical_hessian",
              "optimal_bias", "bias_condition", "profiled_loss", "global_minimum_bias",
              "unigram_bias", "unigram_curvature_scalar", "unigram_hessian", "energy",
              "s_state_second_eigenvalue", "s_state_key_matrix", "s_state_key_matrix_closed_form"):
    globals()[_name] = _numbers_checked(globals()[_name])
del _name


# ==============================================================================================
# Part 2 (spec markov.md, Part 2 Sec. 2-3): higher-order chains and P2's reduction phi.
# Added by the Markov-reduction work; numerics in numerics.markov.higher_order and
# numerics.markov.reduction, torch checks in validation.markov.reduction.

#: Width ``d`` of :func:`reduction_logits` (sympy vectors of length ``d`` and ``4d``).
REDUCTION_WIDTH = integer(1, 16, note="sympy vectors of length d and 4d")
#: Lag ``k`` and context ``N`` of :func:`lag_optimal_loss` (a closed form).
LAG_ORDER = integer(1, None)


@result
class ReductionLogits:
    """The full model's logits at :math:`\\phi(e, w, b)` after ``x_n = 0, 1`` against the
    canonical ones (Part 2, R1).

    Attributes
    ----------
    full : list of sympy expressions, length 2
        :math:`\\mathrm{logit}(x)` of the full tied model at :math:`\\phi(e, w, b)` built from
        sympy vectors (embedding, position, MLP matrices; ``W_V = W_O = 0``).
    canonical : list of sympy expressions, length 2
        :math:`(f_0, f_1)` of :func:`canonical_logits` (for ``e < 0``: at
        ``(|e|, w, b - 2w|w|e^2)``).
    differences : list of sympy expressions, length 2
        ``full - canonical`` simplified (both 0 when the identity holds).
    """

    full: list
    canonical: list
    differences: list


def lag_optimal_loss(k, N, p=p, q=q):
    """:math:`L^*_N = ((k-1)H(\\pi) + (N-k+1)H(P))/N`: the Bayes-optimal loss of the lag-k chain
    (:math:`x_1..x_k` i.i.d. :math:`\\pi`, :math:`x_{n+1}\\sim P(\\cdot|x_{n+1-k})`) averaged over
    the ``N`` positions of a context (``N >= k - 1``; the first ``k - 1`` targets are independent
    of the past). Part 2, Sec. 2."""
    p, q = _chain(p, q)
    k, N = _numeric("k", k, LAG_ORDER), _numeric("N", N, LAG_ORDER)
    return ((k - 1) * unigram_entropy(p, q) + (N - k + 1) * entropy_rate(p, q)) / N


def random_order_one_rate_integrand(p=p, q=q):
    """Entropy rate of the order-1 chain with :math:`P(1|0) = p`, :math:`P(0|1) = q`, written as
    the integrand of the random order-1 chain's mean rate (``p = u_0``, ``q = 1 - u_1`` uniform):
    :math:`(q\\,h(p) + p\\,h(q))/(p+q)` (Part 2, Sec. 2)."""
    p, q = _chain(p, q)
    return (q * binary_entropy(p) + p * binary_entropy(q)) / (p + q)


def reduction_logits(d: int = 2, alpha=None, negative: bool = False) -> ReductionLogits:
    """Part 2, R1: the full model at :math:`\\phi(e, w, b)` is the canonical model.

    With :math:`\\hat\\alpha = \\alpha/\\sqrt d`, :math:`\\hat\\beta = 1_{4d}/(2\\sqrt d)`:
    embedding :math:`e\\hat\\alpha`, :math:`p_n = -\\tfrac e2\\hat\\alpha`,
    :math:`W_1 = 2|w|\\hat\\beta\\hat\\alpha^\\top`, :math:`W_2 = 2w\\hat\\alpha\\hat\\beta^\\top`,
    :math:`W_V = W_O = 0` (tied read-out). Then :math:`h = x e\\hat\\alpha + p_n` and

    .. math:: \\mathrm{logit}(x) = \\langle e\\hat\\alpha, h + W_2\\,\\mathrm{ReLU}(W_1 h)\\rangle + b
              = e^2(x - \\tfrac12) + 2e^2 w|w|\\,x + b \\quad (e \\ge 0),

    the canonical :math:`f_x`; for ``e < 0`` the MLP fires at ``x = 0`` and the logits are the
    canonical ones at :math:`(|e|, w, b - 2w|w|e^2)`. The attention adds nothing (``W_V = 0``)
    and every position has the same logit function of :math:`x_n`, so the population losses
    (each an average of per-position cross-entropies under the stationary law) agree:
    :math:`L_{full}\\circ\\phi = L_{can}`.

    Parameters
    ----------
    d : int
        Width (1..16): the identity is built from explicit sympy vectors.
    alpha : sequence of +-1, optional
        Direction signs (default alternating ``+1, -1, ...``).
    negative : bool
        Take ``e < 0`` (a negative symbol) instead of ``e >= 0``.

    Returns
    -------
    ReductionLogits
    """
    d = REDUCTION_WIDTH.check("d", d)
    if alpha is None:
        alpha = [(-1) ** i for i in range(d)]
    if len(alpha) != d or any(a not in (1, -1) for a in alpha):
        raise InputError("alpha", alpha, f"a sequence of {d} signs +-1")
    check_choice("negative", negative, (False, True))
    scale = EmbeddingSymbol("e", negative=True) if negative else EmbeddingSymbol("e", nonnegative=True)
    a_hat = sp.Matrix(alpha) / sp.sqrt(d)
    b_hat = sp.ones(4 * d, 1) / (2 * sp.sqrt(d))
    emb, pos = scale * a_hat, -scale / 2 * a_hat
    W1, W2 = 2 * sp.Abs(w) * b_hat * a_hat.T, 2 * w * a_hat * b_hat.T
    full = []
    for x in (0, 1):
        h = x * emb + pos
        z = h + W2 * (W1 * h).applyfunc(lambda v: sp.Max(0, v))
        full.append(sp.simplify((emb.T * z)[0, 0] + b))
    if negative:
        reference = canonical_logits(-scale, w, b - 2 * w * sp.Abs(w) * scale**2)
    else:
        reference = canonical_logits(scale, w, b)
    canonical = [reference.f0, reference.f1]
    differences = [sp.simplify(sp.expand(f - c)) for f, c in zip(full, canonical)]
    return ReductionLogits(full, canonical, differences)


lag_optimal_loss = _numbers_checked(lag_optimal_loss)
random_order_one_rate_integrand = _numbers_checked(random_order_one_rate_integrand)

"""In-context MLE in Bayesian networks and the two-layer transformer that computes it, in sympy.

Source: Cao, He, Wu, Chen, Fan, Liu, "Transformers Simulate MLE for Sequence Generation in Bayesian
Networks", arXiv 2501.02547 (Cao et al. 2025): the in-context estimator of Sec. 4, Theorem 4.1
and Lemmas 6.1, 6.2. The paper's exact weight matrices are not reproduced here: :func:`construction_weights` is the
library's reconstruction, with the paper's prompt layout and properties.

Everything here takes and returns sympy objects (or plain Python ints/lists for the structure):

- the estimators: :func:`mle` (counts / matches), :func:`smoothed` (Dirichlet pseudo-counts),
  :func:`k2_pseudocount`, :func:`bdeu_pseudocount`, their symbolic forms :func:`mle_formula`,
  :func:`smoothed_formula`;
- error rates: :func:`mean_abs_error_asymptotic` (``sqrt(2 p (1-p) / (pi n))``) and the exact
  binomial expectation :func:`mean_abs_error_exact`;
- the two-layer construction (Theorem 4.1): :func:`construction_weights` gives every weight matrix
  explicitly, symbolic in ``beta``, for given ``M``, ``d`` and parent sets; :func:`readout_matrix`
  the readout ``A`` of target ``m0``; :func:`construction_forward` runs the forward pass exactly
  (sympy) on a small prompt; :func:`tv_bound` the bound
  ``((N - |I|) e^{-beta} + e^{-beta C}) / |I|``.

Layout of a prompt (the paper's): ``X`` has ``(2M+1) d`` rows and one column per sample, query last.
Rows ``[0, Md)``: one-hot ``x_m`` in block ``m`` (query blocks ``m >= m0`` zero); rows
``[Md, 2Md)``: ``e_{m0} (kron) 1_d`` in the query column; rows ``[2Md, (2M+1)d)``: ``1_d`` in the
context columns (the context flag). Variables are numbered ``0..M-1`` here (the paper's ``1..M``).
"""

from __future__ import annotations

import math
from fractions import Fraction
from numbers import Integral

import sympy as sp

from theory.domains import integer, parse_rational
from theory.errors import InputError, NumericalFailure, TooLargeError
from theory.results import result

#: Cardinality ``d`` of a variable in the symbolic functions (the formulas build ``d`` symbols,
#: the estimators ``d``-entry matrices).
CARD = integer(1, 1000, note="d symbols or matrix entries; larger is slow in sympy")
#: Number of variables ``M`` of the symbolic construction.
VARIABLES = integer(1, 64, note="the weights are sympy matrices of (2M+1)d rows")
#: Largest prompt height ``R = (2M+1) d`` of :func:`construction_weights`: its ``R x R`` sympy
#: value matrix and the float evaluation of :func:`numerics.bayesnet.construction.construction_arrays`
#: take about 3 s at ``R = 205``.
MAX_ROWS = 256
#: Matching rows ``n`` of :func:`mean_abs_error_exact`: an exact sum of ``n + 1`` rational terms
#: (about 2 s at ``n = 1000``).
EXACT_ROWS = integer(1, 1000, note="an exact sum of n+1 rational terms: about 2 s at n = 1000")
#: Context rows of an exact prompt (:func:`encode_prompt`, :func:`construction_forward`): the
#: exact forward pass builds a ``(N+1) x (N+1)`` matrix of sympy exponentials.
EXACT_CONTEXT = integer(0, 64, note="the exact forward pass builds an (N+1) x (N+1) sympy "
                                    "matrix: about 1 s at N = 64")

#: Inverse temperature of the estimator head (the attention scale).
beta = sp.symbols("beta", positive=True)
#: Context length, size of the matching set I(m0), score offset C = D + 1.
N, I, C = sp.symbols("N I C", positive=True)
#: Target accuracy epsilon of the construction.
eps = sp.symbols("epsilon", positive=True)
#: Number of matching rows and the conditional probability (error-rate formulas).
n, p = sp.symbols("n p", positive=True)


# ----------------------------------------------------------------------------------------------
# Argument checks: numbers in, never text evaluated


def _exact(name: str, value):
    """``value`` as an exact sympy number, or a sympy expression kept as it is.

    A sympy object is returned unchanged (it must be finite and real when it is a number); an
    int, :class:`~fractions.Fraction` or a string (strict: :func:`theory.domains.parse_rational`,
    never evaluated) becomes a :class:`sympy.Rational`; a finite float becomes the rational
    of the decimal it prints as (``0.3`` -> ``3/10``, as ``nsimplify`` gave for such floats).
    Anything else raises :class:`InputError`.
    """
    if isinstance(value, sp.Basic):
        if value.is_number and not (value.is_real and value.is_finite):
            raise InputError(name, value, "a finite real number or a sympy expression")
        return value
    if isinstance(value, bool):
        raise InputError(name, value, "a number (not a bool)")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InputError(name, value, "a finite number")
        exact = parse_rational(name, repr(value))
    elif isinstance(value, str):
        exact = parse_rational(name, value)
    elif isinstance(value, (Integral, Fraction)):
        exact = Fraction(value)
    else:
        raise InputError(name, value if len(repr(value)) < 60 else type(value).__name__,
                         "an int, Fraction, finite float, sympy expression or a string such "
                         "as '3/10'")
    return sp.Rational(exact.numerator, exact.denominator)


def _numeric(name: str, value, low=None, *, strictly: bool = True, high=None):
    """Check a numeric argument of a formula (symbols pass through): ints, Fractions, floats and
    sympy numbers must be finite and real and lie in ``(low, high)`` (``[low, high]`` when not
    ``strictly``); strings are read strictly as rationals. Floats are kept as they are."""
    if isinstance(value, sp.Basic) and not value.is_number:
        return value
    if isinstance(value, str):
        value = _exact(name, value)
    if isinstance(value, bool) or not isinstance(value, (Integral, Fraction, float, sp.Basic)):
        raise InputError(name, value if len(repr(value)) < 60 else type(value).__name__,
                         "a finite real number or a sympy expression")
    if isinstance(value, sp.Basic):
        if not (value.is_real and value.is_finite):
            raise InputError(name, value, "a finite real number")
    elif isinstance(value, float) and not math.isfinite(value):
        raise InputError(name, value, "a finite real number")
    expected = "a real number" + (f" {'>' if strictly else '>='} {low}" if low is not None else "") \
        + (f" {'<' if strictly else '<='} {high}" if high is not None else "")
    if low is not None and bool(value < low if not strictly else value <= low):
        raise InputError(name, value, expected)
    if high is not None and bool(value > high if not strictly else value >= high):
        raise InputError(name, value, expected)
    return value


def _symbolic_int(name: str, value, low: int):
    """A positive integer (checked) or a sympy symbol (kept)."""
    if isinstance(value, sp.Basic) and not value.is_number:
        return value
    if isinstance(value, bool) or not isinstance(value, Integral) or value < low:
        raise InputError(name, value, f"an integer >= {low} or a sympy symbol")
    return value


def _finite_result(name: str, value):
    """``value`` unless it is a non-finite number (then :class:`NumericalFailure`)."""
    if isinstance(value, sp.Basic) and value.is_number and not value.is_finite:
        raise NumericalFailure(f"{name} is not finite ({value}) for these arguments")
    return value


# ----------------------------------------------------------------------------------------------
# The estimators (Cao et al. 2025, Sec. 4)


def _check_counts(name: str, counts) -> list[int]:
    if isinstance(counts, (str, bytes)) or not hasattr(counts, "__len__"):
        raise InputError(name, counts if len(repr(counts)) < 60 else type(counts).__name__,
                         "a non-empty list of non-negative integers")
    if len(counts) > CARD.high:
        raise TooLargeError(name, f"{len(counts)} counts", f"at most {CARD.high} ({CARD.note})")
    counts = list(counts)
    if not counts or any(not isinstance(c, Integral) or isinstance(c, bool) or c < 0 for c in counts):
        raise InputError(name, counts, "a non-empty list of non-negative integers")
    return [int(c) for c in counts]


def mle(counts):
    """In-context MLE of one conditional from the counts of the matching rows.

    .. math:: \\hat p_{m_0}(j) = \\frac{\\#\\{i \\in I(m_0) : x^{(i)}_{m_0} = j\\}}{|I(m_0)|}

    Parameters
    ----------
    counts : sequence of int, length ``d``
        ``counts[j]`` = number of matching rows (``i`` in ``I(m0)``) with ``x_{m0} = j``.

    Returns
    -------
    sympy.Matrix, shape (d, 1), exact rationals. Raises :class:`InputError` when no row matches
    (the MLE is 0/0: pick a convention with ``numerics.bayesnet.mle``'s ``on_empty``).

    Examples
    --------
    The spec's anchor: of the 3 context rows with A = 1, B = 0, one has C = 0 and two C = 1,
    so :math:`P(C=1 \\mid A=1, B=0) = 2/3`:

    >>> from theory import bayesnet
    >>> bayesnet.mle([1, 2]).T
    Matrix([[1/3, 2/3]])
    """
    counts = _check_counts("counts", counts)
    total = sum(counts)
    if total == 0:
        raise InputError("counts", counts, "at least one matching row (the MLE is 0/0 otherwise)")
    return sp.Matrix([sp.Rational(c, total) for c in counts])


def smoothed(counts, alpha):
    """Posterior mean under a Dirichlet prior with pseudo-counts ``alpha`` (per cell).

    .. math:: \\tilde p(j) = \\frac{n_j + \\alpha_j}{n + \\sum_k \\alpha_k}

    ``alpha`` is a number (the same for every cell) or a sequence of length ``d``; rationals stay
    exact. K2: ``alpha = 1``; BDeu: ``alpha = ess / (d q)`` (:func:`bdeu_pseudocount`).
    Numbers are read without evaluating text: ints, Fractions, floats (as the decimal they print
    as), strict strings such as ``"3/10"`` and sympy expressions (kept symbolic).
    """
    counts = _check_counts("counts", counts)
    alphas = list(alpha) if isinstance(alpha, (list, tuple)) else [alpha] * len(counts)
    if len(alphas) != len(counts):
        raise InputError("alpha", alpha, f"a positive number or {len(counts)} positive numbers")
    alphas = [_exact("alpha", a) for a in alphas]
    if any(a.is_number and not a.is_positive for a in alphas):
        raise InputError("alpha", alpha, f"a positive number or {len(counts)} positive numbers")
    total = sum(counts) + sum(alphas)
    return sp.Matrix([(c + a) / total for c, a in zip(counts, alphas)])


def k2_pseudocount():
    """K2 prior: one pseudo-count per cell, :math:`\\alpha = 1`."""
    return sp.Integer(1)


def bdeu_pseudocount(ess, d: int, n_configs: int):
    """BDeu pseudo-count per cell, :math:`\\alpha = \\mathrm{ess} / (d\\, q)`.

    ``ess`` is the equivalent sample size, ``d`` the variable's cardinality and ``n_configs``
    (``q``) the number of parent configurations. ``ess`` is read as in :func:`smoothed`
    (never evaluated as code).
    """
    CARD.check("d", d)
    if isinstance(n_configs, bool) or not isinstance(n_configs, Integral) or n_configs < 1:
        raise InputError("n_configs", n_configs, "an integer >= 1")
    ess = _exact("ess", ess)
    if ess.is_number and not ess.is_positive:
        raise InputError("ess", ess, "a positive equivalent sample size")
    return ess / (d * n_configs)


@result
class MleFormula:
    """The in-context MLE as a formula in symbolic counts (Cao et al. 2025, Sec. 4).

    .. math:: \\hat p(j) = \\frac{n_j}{n_0 + \\dots + n_{d-1}}

    Attributes
    ----------
    estimate : sympy.Matrix, shape (d, 1)
        :math:`\\hat p(j)` for ``j = 0..d-1`` (dimensionless probabilities).
    counts : tuple of sympy.Symbol, length d
        The count symbols :math:`n_0, \\dots, n_{d-1}` (non-negative; number of matching rows
        with :math:`x_{m_0} = j`).
    """

    estimate: sp.Matrix
    counts: tuple


@result
class SmoothedFormula:
    """The Dirichlet-smoothed estimate as a formula (the library's K2/BDeu extension of the MLE
    of Cao et al. 2025, Sec. 4).

    .. math:: \\tilde p(j) = \\frac{n_j + \\alpha}{n_0 + \\dots + n_{d-1} + d\\,\\alpha}

    Attributes
    ----------
    estimate : sympy.Matrix, shape (d, 1)
        :math:`\\tilde p(j)` for ``j = 0..d-1`` (dimensionless probabilities).
    counts : tuple of sympy.Symbol, length d
        The count symbols :math:`n_0, \\dots, n_{d-1}`.
    alpha : sympy.Symbol
        The pseudo-count per cell (positive).
    """

    estimate: sp.Matrix
    counts: tuple
    alpha: sp.Symbol


def mle_formula(d: int) -> MleFormula:
    """Symbolic MLE :math:`(n_0/\\sum_k n_k, \\dots, n_{d-1}/\\sum_k n_k)` (Cao et al. 2025, Sec. 4).

    Parameters
    ----------
    d : int >= 1
        Cardinality of the target variable.

    Returns
    -------
    MleFormula
        The estimate and its count symbols ``n_0..n_{d-1}``.
    """
    CARD.check("d", d)
    counts = sp.symbols(f"n_0:{d}", nonnegative=True)
    return MleFormula(estimate=sp.Matrix([c / sum(counts) for c in counts]), counts=counts)


def smoothed_formula(d: int) -> SmoothedFormula:
    """Symbolic Dirichlet-smoothed estimate with one pseudo-count symbol ``alpha`` for every cell.

    .. math:: \\tilde p(j) = \\frac{n_j + \\alpha}{\\sum_k n_k + d\\,\\alpha}

    Parameters
    ----------
    d : int >= 1
        Cardinality of the target variable.

    Returns
    -------
    SmoothedFormula
        The estimate, its count symbols ``n_0..n_{d-1}`` and the symbol ``alpha``.
    """
    CARD.check("d", d)
    counts = sp.symbols(f"n_0:{d}", nonnegative=True)
    alpha = sp.symbols("alpha", positive=True)
    return SmoothedFormula(estimate=sp.Matrix([(c + alpha) / (sum(counts) + d * alpha) for c in counts]),
                           counts=counts, alpha=alpha)


# ----------------------------------------------------------------------------------------------
# Error rates (the library's reference values for the rate O(N^{-1/2}) of Cao et al. 2025, Sec. 4)


def mean_abs_error_asymptotic(p=p, n=n):
    """:math:`E|\\hat p - p| \\approx \\sqrt{2 p (1-p) / (\\pi n)}` for ``n`` matching rows
    (the normal approximation: ``E|Z| = sqrt(2/pi)`` for a standard normal).

    ``p`` and ``n`` are symbols or numbers; a number must satisfy ``0 < p < 1`` and ``n > 0``
    (:class:`InputError` otherwise; strings are read strictly as rationals)."""
    p = _numeric("p", p, 0, high=1)
    n = _numeric("n", n, 0)
    return sp.sqrt(2 * p * (1 - p) / (sp.pi * n))


def mean_abs_error_exact(p_value, n_value: int):
    """Exact :math:`E|K/n - p|` for :math:`K \\sim \\mathrm{Binomial}(n, p)` (a sympy number).

    .. math:: \\sum_{k=0}^{n} \\binom{n}{k} p^k (1-p)^{n-k} \\left|\\frac{k}{n} - p\\right|

    ``p_value``: an exact number in (0, 1): an int, Fraction, float (read as the decimal it
    prints as), strict string (``"3/10"``, never evaluated) or sympy number. ``n_value``: an
    integer in ``[1, 1000]`` (:data:`EXACT_ROWS`).

    Examples
    --------
    Two rows, p = 1/2: K = 0, 1, 2 with probabilities 1/4, 1/2, 1/4 and errors 1/2, 0, 1/2, so
    the mean error is 1/4:

    >>> from theory import bayesnet
    >>> bayesnet.mean_abs_error_exact("1/2", 2)
    1/4
    """
    EXACT_ROWS.check("n_value", n_value)
    pv = _exact("p_value", p_value)
    if not (pv.is_number and bool(pv > 0) and bool(pv < 1)):
        raise InputError("p_value", p_value, "a probability strictly between 0 and 1")
    return sum(sp.binomial(n_value, k) * pv**k * (1 - pv) ** (n_value - k)
               * sp.Abs(sp.Rational(k, n_value) - pv) for k in range(n_value + 1))


# ----------------------------------------------------------------------------------------------
# The two-layer construction (Cao et al. 2025, Theorem 4.1, Lemmas 6.1 and 6.2)


def tv_bound(N=N, I=I, beta=beta, C=C):
    """Bound of the construction's error (Cao et al. 2025, Lemma 6.2, for the library's
    reconstruction of the weights).

    .. math:: \\mathrm{TV}(p_{TF}, \\hat p) \\le \\frac{(N - |I|) e^{-\\beta} + e^{-\\beta C}}{|I|}

    ``N`` context length, ``I`` = ``|I(m0)|`` >= 1 matching rows, ``beta`` the score scale,
    ``C = D + 1``. Derivation: matching rows share the top score ``beta(|P| + C)``; a row that
    misses a parent scores at most ``beta(|P| - 1 + C)``, the query itself ``beta |P|``; with
    ``R`` the leaked mass relative to one matching row, ``||p_TF - p_hat||_1 <= 2R/(|I| + R)``.

    Numeric arguments must satisfy ``N >= I >= 1``, ``beta > 0``, ``C > 0``
    (:class:`InputError` otherwise).

    Examples
    --------
    N = 10 rows of which 2 match, beta = 3, C = 2: (8 e^-3 + e^-6)/2 = (0.398297 + 0.002479)/2:

    >>> from theory import bayesnet
    >>> bound = bayesnet.tv_bound(10, 2, 3, 2)
    >>> bound
    exp(-6)/2 + 4*exp(-3)
    >>> round(float(bound), 6)
    0.200388
    """
    N = _numeric("N", N, 1, strictly=False)
    I = _numeric("I", I, 1, strictly=False)
    beta = _numeric("beta", beta, 0)
    C = _numeric("C", C, 0)
    if all(isinstance(v, (Integral, Fraction, float)) or getattr(v, "is_number", False)
           for v in (N, I)) and bool(I > N):
        raise InputError("I", I, f"at most N = {N} matching rows")
    return ((N - I) * sp.exp(-beta) + sp.exp(-beta * C)) / I


def beta_for_epsilon(N=N, eps=eps):
    """:math:`\\beta = \\log(N/\\varepsilon)`: then :func:`tv_bound` ``<= N e^{-beta} = eps``.

    Numbers must be positive (``N > 0``, ``eps > 0``); a non-finite result (``N / eps``
    overflowing a float) is a :class:`NumericalFailure`."""
    N = _numeric("N", N, 0)
    eps = _numeric("eps", eps, 0)
    try:
        value = sp.log(N / eps)
    except OverflowError:
        raise NumericalFailure(f"beta_for_epsilon: N/eps overflows for N={N!r}, eps={eps!r}") from None
    return _finite_result("beta_for_epsilon", value)


def paper_beta(M, d, N=N, eps=eps):
    """The paper's scale :math:`3 \\log(M d N / \\varepsilon)` (Theorem 4.1).

    ``M``, ``d``: integers >= 1 (or symbols); ``N > 0``, ``eps > 0`` when numbers."""
    M = _symbolic_int("M", M, 1)
    d = _symbolic_int("d", d, 1)
    N = _numeric("N", N, 0)
    eps = _numeric("eps", eps, 0)
    try:
        value = 3 * sp.log(M * d * N / eps)
    except OverflowError:
        raise NumericalFailure(f"paper_beta: MdN/eps overflows for N={N!r}, eps={eps!r}") from None
    return _finite_result("paper_beta", value)


def _check_size(M: int, d: int) -> None:
    VARIABLES.check("M", M)
    CARD.check("d", d)
    rows = (2 * M + 1) * d
    if rows > MAX_ROWS:
        raise TooLargeError("M, d", (M, d), f"(2M+1)d <= {MAX_ROWS} prompt rows (it is {rows}): "
                                            "the weights are R x R sympy matrices")


def _check_structure(M: int, d: int, parents) -> list[tuple[int, ...]]:
    _check_size(M, d)
    if isinstance(parents, (str, bytes)) or not hasattr(parents, "__len__") or len(parents) != M:
        raise InputError("parents", parents if len(repr(parents)) < 80 else type(parents).__name__,
                         f"a list of {M} parent lists")
    if any(isinstance(ps, (str, bytes)) or not hasattr(ps, "__iter__") for ps in parents):
        raise InputError("parents", parents, f"a list of {M} lists of integer indices")
    parents = [tuple(ps) for ps in parents]
    if len(parents) != M:
        raise InputError("parents", parents, f"a list of {M} parent lists")
    for m, ps in enumerate(parents):
        for q in ps:
            if isinstance(q, bool) or not isinstance(q, Integral) or not 0 <= q < m:
                raise InputError(f"parents[{m}]", list(ps), f"indices of earlier variables in 0..{m - 1}")
        if len(set(ps)) != len(ps):
            raise InputError(f"parents[{m}]", list(ps), "distinct parent indices")
    return parents


@result
class PromptLayout:
    """Row blocks of a prompt ``X`` of ``(2M+1) d`` rows (the layout of Cao et al. 2025, Sec. 4).

    Attributes
    ----------
    x : slice
        Rows ``[0, Md)``: the one-hot states, block ``m`` = rows ``[m d, (m+1) d)``.
    target : slice
        Rows ``[Md, 2Md)``: the target indicator :math:`e_{m_0} \\otimes 1_d` (query column only).
    flag : slice
        Rows ``[2Md, (2M+1)d)``: :math:`1_d` in the context columns (the context flag).
    """

    x: slice
    target: slice
    flag: slice


def layout(M: int, d: int) -> PromptLayout:
    """Row blocks of a prompt: ``x`` (one-hot samples), ``target`` (:math:`e_{m_0} \\otimes 1_d`),
    ``flag`` (context flag), for ``M`` variables of common cardinality ``d``."""
    _check_size(M, d)
    return PromptLayout(x=slice(0, M * d), target=slice(M * d, 2 * M * d),
                        flag=slice(2 * M * d, (2 * M + 1) * d))


@result
class ConstructionWeights:
    """Every weight of the two-layer transformer computing the in-context MLE (the library's
    reconstruction of Cao et al. 2025, Theorem 4.1; see :func:`construction_weights`).

    With ``R = (2M+1) d`` rows per token. Entries are sympy matrices (from
    :func:`construction_weights`, symbolic in ``beta``) or float64 arrays (from
    :func:`numerics.bayesnet.construction.construction_arrays`, at a numeric ``beta``).

    Attributes
    ----------
    W1 : matrix, shape (Md, R)
        Layer 1 (MLP) first weight: :math:`(W_1 H)_{(m,k)} = x_{m,k} - s_m - \\bar f`.
    W2 : matrix, shape (R, Md)
        Layer 1 second weight :math:`-[I_{Md}; 0; 0]`.
    K : matrix, shape (Md+1, R)
        Layer 2 key map :math:`K H = \\beta (x; \\bar f)`.
    Q : matrix, shape (Md+1, R)
        Layer 2 query map :math:`Q H = (x; C \\sum_m \\bar t_m)`.
    V : matrix, shape (R, R)
        Layer 2 value map :math:`-[I_{Md}\\ 0\\ 0; 0\\ 0\\ 0]`.
    C : int
        Score offset :math:`C = D + 1`, ``D`` the largest in-degree.
    """

    W1: object
    W2: object
    K: object
    Q: object
    V: object
    C: int


def construction_weights(M: int, d: int, parents, beta=beta) -> ConstructionWeights:
    """The two-layer transformer that computes the in-context MLE, every weight explicit.

    Layer 1 (parent selector, MLP only): :math:`H \\leftarrow H + W_2\\,\\mathrm{ReLU}(W_1 H)` with
    hidden width ``Md``,

    .. math:: (W_1 H)_{(m,k)} = x_{m,k} - s_m - \\bar f, \\quad
              s_m = \\sum_{m_0} [m \\in P(m_0)]\\, \\bar t_{m_0}, \\qquad W_2 = -[I_{Md}; 0; 0]

    where :math:`\\bar t_{m_0} = \\frac1d\\sum_k t_{m_0,k}` is the target indicator of block
    ``m0`` and :math:`\\bar f = \\frac1d\\sum_k f_k` the context flag. In the query column
    (``f = 0``) this is :math:`x \\leftarrow x - \\mathrm{ReLU}(x - s)`: non-parent blocks are
    zeroed, parents kept; in context columns (``s = 0``, ``f = 1``) the pre-activation is ``<= 0``.

    Layer 2 (estimator, one softmax head, no MLP):
    :math:`H \\leftarrow H + V H\\, \\mathrm{softmax}((K H)^T (Q H))` (softmax over keys) with

    .. math:: K H = \\beta \\begin{pmatrix} x \\\\ \\bar f \\end{pmatrix}, \\quad
              Q H = \\begin{pmatrix} x \\\\ C\\, \\sum_{m} \\bar t_m \\end{pmatrix}, \\quad
              V = -[I_{Md}\\ 0\\ 0;\\ 0\\ 0\\ 0]

    so the query's score for a context row is :math:`\\beta(\\#\\text{matching parents} + C)`,
    :math:`C = D + 1`, and for itself :math:`\\beta |P(m_0)|`; the value writes ``-x`` of each
    row into the query, whose block ``m0`` becomes :math:`-p_{TF}`.

    Parameters
    ----------
    M, d : int
        Number of variables, common cardinality (a variable with fewer states uses the first
        entries of its block).
    parents : list of M sequences of int
        ``parents[m]`` = indices of the parents of ``m``, all ``< m``.
    beta : sympy expression or positive finite number, default the symbol :data:`beta`.

    Returns
    -------
    ConstructionWeights
        Sympy matrices ``W1`` (Md x R), ``W2`` (R x Md), ``K`` and ``Q`` (Md+1 x R), ``V``
        (R x R) where ``R = (2M+1)d``, and ``C`` (the integer D + 1).
    """
    parents = _check_structure(M, d, parents)
    beta = _numeric("beta", beta, 0)
    D = max((len(ps) for ps in parents), default=0)
    Cval = D + 1
    rows = (2 * M + 1) * d
    Md = M * d
    W1 = sp.zeros(Md, rows)
    for m in range(M):
        for k in range(d):
            r = m * d + k
            W1[r, r] = 1
            for m0 in range(M):
                if m in parents[m0]:
                    for kk in range(d):
                        W1[r, Md + m0 * d + kk] = sp.Rational(-1, d)
            for kk in range(d):
                W1[r, 2 * Md + kk] = sp.Rational(-1, d)
    W2 = sp.zeros(rows, Md)
    W2[:Md, :] = -sp.eye(Md)
    K = sp.zeros(Md + 1, rows)
    Q = sp.zeros(Md + 1, rows)
    K[:Md, :Md] = beta * sp.eye(Md)
    Q[:Md, :Md] = sp.eye(Md)
    for kk in range(d):
        K[Md, 2 * Md + kk] = beta / d
    for r in range(Md, 2 * Md):
        Q[Md, r] = sp.Rational(Cval, d)
    V = sp.zeros(rows, rows)
    V[:Md, :Md] = -sp.eye(Md)
    return ConstructionWeights(W1=W1, W2=W2, K=K, Q=Q, V=V, C=Cval)


def readout_matrix(M: int, d: int, m0: int):
    """Readout ``A = [0, -I_d, 0]`` (d x (2M+1)d) picking block ``m0`` of the query with a minus."""
    _check_size(M, d)
    integer(0, M - 1).check("m0", m0)
    A = sp.zeros(d, (2 * M + 1) * d)
    A[:, m0 * d:(m0 + 1) * d] = -sp.eye(d)
    return A


def encode_prompt(M: int, d: int, context, query, m0: int):
    """The prompt matrix ``X`` (sympy, exact) for one context and one partial query.

    ``context``: list of N samples (each a list of M states in ``0..d-1``), ``N <= 64``
    (:data:`EXACT_CONTEXT`); ``query``: M states of which only entries ``< m0`` are used (they
    must be states in ``0..d-1``).
    """
    lay = layout(M, d)
    integer(0, M - 1).check("m0", m0)
    if isinstance(context, (str, bytes)) or not hasattr(context, "__len__"):
        raise InputError("context", type(context).__name__, f"a list of samples of {M} states")
    EXACT_CONTEXT.check("context length", len(context))
    state = integer(0, d - 1)
    context = [list(sample) if hasattr(sample, "__iter__") and not isinstance(sample, (str, bytes))
               else sample for sample in context]
    for i, sample in enumerate(context):
        if not isinstance(sample, list) or len(sample) != M:
            raise InputError(f"context[{i}]", sample, f"a sample of {M} states")
        for m, value in enumerate(sample):
            state.check(f"context[{i}][{m}]", value)
    if isinstance(query, (str, bytes)) or not hasattr(query, "__len__") or len(query) != M:
        raise InputError("query", query, f"a list of {M} states")
    for m in range(m0):
        state.check(f"query[{m}]", query[m])
    X = sp.zeros((2 * M + 1) * d, len(context) + 1)
    for i, sample in enumerate(context):
        for m, state in enumerate(sample):
            X[m * d + state, i] = 1
        for k in range(d):
            X[lay.flag.start + k, i] = 1
    q = len(context)
    for m in range(m0):
        X[m * d + query[m], q] = 1
    for k in range(d):
        X[lay.target.start + m0 * d + k, q] = 1
    return X


def construction_forward(weights: ConstructionWeights, X):
    """Exact forward pass of the construction on one prompt ``X``; returns the output matrix.

    .. math:: H_1 = X + W_2 \\mathrm{ReLU}(W_1 X), \\qquad
              H_2 = H_1 + V H_1 \\mathrm{softmax}((K H_1)^T (Q H_1))

    (softmax over keys, i.e. down each column). ``weights`` from :func:`construction_weights`,
    ``X`` a sympy matrix ``(R, T)`` from :func:`encode_prompt` (``T <= 65`` columns, see
    :data:`EXACT_CONTEXT`); returns the sympy ``(R, T)`` output.
    """
    if not isinstance(weights, ConstructionWeights):
        raise InputError("weights", type(weights).__name__, "ConstructionWeights from construction_weights")
    if not isinstance(X, sp.MatrixBase) or X.rows != weights.W1.cols:
        raise InputError("X", getattr(X, "shape", type(X).__name__),
                         f"a sympy matrix of {weights.W1.cols} rows (encode_prompt)")
    EXACT_CONTEXT.check("context length", X.cols - 1)
    relu = X.__class__(weights.W1 * X).applyfunc(lambda v: sp.Max(v, 0))
    H = X + weights.W2 * relu
    scores = (weights.K * H).T * (weights.Q * H)
    weights_matrix = scores.applyfunc(sp.exp)
    for j in range(weights_matrix.cols):
        column_sum = sum(weights_matrix[:, j])
        weights_matrix[:, j] = weights_matrix[:, j] / column_sum
    return H + weights.V * H * weights_matrix

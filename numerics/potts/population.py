"""The generalised Potts model in numpy: models, exact enumeration, population MLM loss and gradient.

Source: Rende, Gerace, Laio, Goldt, arXiv 2304.07235 (Phys. Rev. Research 6, 023057): the generalised
Potts model and the factored attention of its Sec. II. The formulas are those derived in
:mod:`theory.potts`; ``tests/numerics/potts/test_model_sampling.py`` checks them against the sympy
expressions and brute force.

Shapes: ``J`` (L, L), ``U`` (C, C), ``h`` (L, C); configurations ``S`` (n, L) integer colours;
factored parameters ``A`` (L, L), ``V`` (C, C), ``b`` (L, C).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from numerics.potts.domains import BETA, MAX_MODEL_BYTES, check_memory, check_work
from numerics.shared.seeding import as_generator
from numerics.shared.storage import read_text_file
from theory.errors import InputError, NumericalFailure, TooLargeError, check_int
from theory.results import readable_repr, result

#: Largest number of states C**L the exact path enumerates.
MAX_STATES = 10**6
#: Configurations per chunk of the enumeration and of the MLM loss (bounds the memory).
CHUNK = 50_000
#: Bytes of one (rows, L, C) float64 block of a chunk: fewer rows when L C is large (above
#: L C = 335 a chunk has fewer than :data:`CHUNK` rows), so the temporaries of a chunk stay
#: below ~1 GiB whatever the model.
CHUNK_BYTES = 128 * 2**20
#: Largest rounding error (nats) tolerated in the log-weights -beta H(s) of exact enumeration:
#: beyond it the probabilities are not resolved (NumericalFailure).
LOG_WEIGHT_RESOLUTION = 1e-6
_SYMMETRY_TOL = 1e-10


def chunk_rows(L: int, C: int) -> int:
    """Rows per chunk for data of ``L`` sites and ``C`` colours: :data:`CHUNK`, or fewer so that a
    (rows, L, C) float64 block stays within :data:`CHUNK_BYTES`."""
    return max(1, min(CHUNK, CHUNK_BYTES // (8 * L * C)))


@result
class FactoredParameters:
    """Parameters of one factored attention layer,
    :math:`z_i(a) = \\sum_{j\\ne i} A_{ij} V_{a s_j} + b_i(a)` (Rende et al. 2024, Sec. II).

    Attributes
    ----------
    A : numpy.ndarray, (L, L)
        Position attention (its diagonal is never read).
    V : numpy.ndarray, (C, C)
        Value (colour) matrix.
    b : numpy.ndarray, (L, C)
        Bias (fields) in logit units.
    """

    A: np.ndarray
    V: np.ndarray
    b: np.ndarray


@dataclass(frozen=True, repr=False)
class PottsModel:
    """A generalised Potts model :math:`P(s) \\propto e^{-\\beta H(s)}`,
    :math:`H(s) = -\\sum_{i<j} J_{ij}U_{s_is_j} - \\sum_i h_i(s_i)` (Rende et al. 2024).

    Build it with :func:`make_model` (which validates); attributes are read-only float64 arrays:
    ``J`` (L, L) symmetric with zero diagonal, ``U`` (C, C) symmetric, ``h`` (L, C), ``beta``.
    """

    __repr__ = readable_repr  # arrays summarised by shape and range

    J: np.ndarray
    U: np.ndarray
    h: np.ndarray
    beta: float

    @property
    def L(self) -> int:
        """Number of sites."""
        return self.J.shape[0]

    @property
    def C(self) -> int:
        """Number of colours."""
        return self.U.shape[0]

    def factored(self) -> FactoredParameters:
        """:math:`(A, V, b) = (\\beta J, U, \\beta h)`: the factored attention that reproduces the
        model's conditionals (the mapping of Rende et al. 2024, Sec. II)."""
        return FactoredParameters(self.beta * self.J, self.U.copy(), self.beta * self.h)

    def to_dict(self) -> dict:
        """The model file's content, ``{"J", "U", "h", "beta"}`` as lists (see :func:`model_from_dict`)."""
        return {"J": self.J.tolist(), "U": self.U.tolist(), "h": self.h.tolist(), "beta": self.beta}


def _strict_rows(name: str, value) -> list:
    """A list (or tuple) of equal-length lists of ints/floats (no bools, strings or deeper
    nesting) as a list of float rows; :class:`InputError` naming ``name`` otherwise."""
    expected = "a matrix: a list of equal-length lists of numbers"
    rows = []
    for r, row in enumerate(value):
        if not isinstance(row, (list, tuple)):
            raise InputError(name, f"row {r} of type {type(row).__name__}", expected)
        if rows and len(row) != len(rows[0]):
            raise InputError(name, f"rows of lengths {len(rows[0])} and {len(row)}", expected)
        out = []
        for x in row:
            if type(x) is bool or not isinstance(x, (int, float)):
                shown = x if isinstance(x, (bool, int, float)) else f"<{type(x).__name__}>"
                raise InputError(name, f"entry {shown!r} in row {r}", f"{expected} (not "
                                 f"{type(x).__name__})")
            try:
                out.append(float(x))
            except OverflowError:
                raise InputError(name, f"entry of {len(str(x))} digits in row {r}",
                                 "finite numbers only") from None
        rows.append(out)
    return rows


def _as_matrix(name: str, value, shape=None) -> np.ndarray:
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "iuf":
            raise InputError(name, f"array of dtype {value.dtype}", "a matrix of real numbers")
        arr = np.array(value, dtype=np.float64)
    elif isinstance(value, (list, tuple)):
        arr = np.array(_strict_rows(name, value), dtype=np.float64)
        if arr.ndim == 1 and arr.size == 0:
            arr = arr.reshape(0, 0)
    else:
        raise InputError(name, f"<{type(value).__name__}>", "a matrix of real numbers (a list of "
                                                             "lists or a 2-d numpy array)")
    if arr.ndim != 2 or (shape is not None and arr.shape != shape):
        want = "a 2-d matrix" if shape is None else f"a matrix of shape {shape}"
        raise InputError(name, f"array of shape {arr.shape}", want)
    if not np.all(np.isfinite(arr)):
        raise InputError(name, "matrix with non-finite entries", "finite numbers only")
    return arr


def _check_symmetric(name: str, M: np.ndarray) -> None:
    if M.shape[0] != M.shape[1]:
        raise InputError(name, f"array of shape {M.shape}", "a square matrix")
    if M.size == 0:
        return
    with np.errstate(over="ignore", invalid="ignore"):
        gap = float(np.max(np.abs(M - M.T)))
    if not gap <= _SYMMETRY_TOL * max(1.0, float(np.max(np.abs(M)))):
        raise InputError(name, f"matrix with max |{name} - {name}^T| = {gap:.3g}", "a symmetric matrix")


def _symmetrised(M: np.ndarray) -> np.ndarray:
    """:math:`(M + M^T)/2`, without overflow for entries near the float64 limit."""
    with np.errstate(over="ignore", invalid="ignore"):
        out = 0.5 * (M + M.T)
    if not np.all(np.isfinite(out)):
        out = 0.5 * M + 0.5 * M.T
    return out


def make_model(J, U, h=None, beta: float = 1.0) -> PottsModel:
    """Validate and build a :class:`PottsModel`.

    Raises :class:`InputError` naming the field: ``J`` not symmetric / nonzero diagonal / non-finite,
    ``U`` not symmetric, ``C`` < 2, ``L`` < 2, ``h`` of the wrong shape, ``beta`` negative.
    """
    J = _as_matrix("J", J)
    check_memory("J", f"matrix of shape {J.shape}", 8.0 * 4 * J.size, "J and its checks")
    _check_symmetric("J", J)
    if np.any(np.diag(J) != 0):
        raise InputError("J", f"diagonal {np.diag(J)[:8].tolist()}{'...' if len(J) > 8 else ''}",
                         "a zero diagonal (no self-coupling)")
    if J.shape[0] < 2:
        raise InputError("L", J.shape[0], "at least 2 sites")
    U = _as_matrix("U", U)
    check_memory("U", f"matrix of shape {U.shape}", 8.0 * 4 * U.size, "U and its checks")
    _check_symmetric("U", U)
    if U.shape[0] < 2:
        raise InputError("C", U.shape[0], "at least 2 colours (U must be C x C with C >= 2)")
    L, C = J.shape[0], U.shape[0]
    h = np.zeros((L, C)) if h is None else _as_matrix("h", h, (L, C))
    BETA.check("beta", beta)
    J, U = _symmetrised(J), _symmetrised(U)
    for arr in (J, U, h):
        arr.setflags(write=False)
    return PottsModel(J, U, h, float(beta))


def default_model(L: int = 20, C: int = 10, beta: float = 1.0, seed: int = 0) -> PottsModel:
    """The library's default model (a library choice, not the paper's): :math:`J = (G + G^T)/\\sqrt{2L}`,
    :math:`G_{ij}\\sim N(0,1)`, zero diagonal; :math:`U = (R + R^T)/2`, :math:`R_{ab}\\sim N(0,1)`; h = 0.
    ``seed``: int or numpy Generator."""
    check_int("L", L, 2)
    check_int("C", C, 2)
    BETA.check("beta", beta)
    check_memory("L", L, 8.0 * 6 * L * L, "J and its checks")
    check_memory("C", C, 8.0 * 6 * C * C, "U and its checks")
    rng = as_generator(seed)
    G = rng.standard_normal((L, L))
    J = (G + G.T) / math.sqrt(2 * L)
    np.fill_diagonal(J, 0.0)
    R = rng.standard_normal((C, C))
    return make_model(J, (R + R.T) / 2, None, beta)


def ising_anchor() -> PottsModel:
    """The library's anchor (a reference value): Ising L = 3, J_12 = 1, J_13 = 0.5, J_23 = -0.3,
    U = [[1,-1],[-1,1]], h = 0, beta = 1, with Z = 13.059374985."""
    J = np.array([[0.0, 1.0, 0.5], [1.0, 0.0, -0.3], [0.5, -0.3, 0.0]])
    return make_model(J, [[1.0, -1.0], [-1.0, 1.0]], None, 1.0)


def model_from_dict(data) -> PottsModel:
    """Build a model from ``{"J": ..., "U": ..., "h": ... (optional), "beta": b}`` (validated)."""
    if not isinstance(data, dict):
        raise InputError("model", type(data).__name__, 'a JSON object {"J", "U", "h"?, "beta"}')
    for key in ("J", "U"):
        if key not in data:
            raise InputError(key, "missing", f"a field {key!r} in the model file")
    unknown = set(data) - {"J", "U", "h", "beta"}
    if unknown:
        raise InputError("model", sorted(unknown), "only the fields J, U, h, beta")
    beta = data.get("beta", 1.0)
    if isinstance(beta, bool) or not isinstance(beta, (int, float)):
        raise InputError("beta", beta if isinstance(beta, (str, type(None))) else
                         f"<{type(beta).__name__}>", "a number >= 0")
    for key in ("J", "U", "h"):
        if key in data and not (key == "h" and data[key] is None) \
                and not isinstance(data[key], list):
            raise InputError(key, f"<{type(data[key]).__name__}>", "a list of lists of numbers")
    return make_model(data["J"], data["U"], data.get("h"), beta)


def load_model(path, name: str = "model") -> PottsModel:
    """Read and validate a model JSON file ``{"J", "U", "h"?, "beta"}`` (see :func:`model_from_dict`).

    The file must be UTF-8 text of at most :data:`~numerics.potts.domains.MAX_MODEL_BYTES`; NaN
    and Infinity are refused by the field they sit in; every field is checked strictly (lists of lists of numbers, no
    strings or bools). Errors are :class:`InputError` naming ``name`` (the file) or the field."""
    text = read_text_file(name, path, MAX_MODEL_BYTES)
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise InputError(name, str(path), f"a valid JSON model file ({str(exc)[:120]})") from None
    return model_from_dict(data)


# ----------------------------------------------------------------------------------------------
# Conditionals and factored logits


def check_configurations(S, L: int, C: int, name: str = "S") -> np.ndarray:
    """``S`` as an (n, L) integer array of colours in 0..C-1; :class:`InputError` naming ``name``
    otherwise (a float, bool or object array, another shape, a colour out of range)."""
    S = np.asarray(S)
    if S.dtype.kind not in "iu" or S.ndim != 2 or S.shape[1] != L:
        raise InputError(name, f"array of shape {S.shape} and dtype {S.dtype}",
                         f"an (n, {L}) integer array of colours")
    if S.size and (S.min() < 0 or S.max() >= C):
        raise InputError(name, f"colours in [{S.min()}, {S.max()}]", f"colours in 0..{C - 1}")
    return S


def one_hot(S: np.ndarray, C: int) -> np.ndarray:
    """(n, L) colours -> (n, L, C) float64 one-hot."""
    return np.eye(C)[S]


def factored_logits(S: np.ndarray, A: np.ndarray, V: np.ndarray, b: np.ndarray | None = None):
    """:math:`z_i(a) = \\sum_{j\\ne i} A_{ij} V_{a s_j} + b_i(a)` for every configuration and site.

    ``S`` (n, L) -> (n, L, C). The diagonal of ``A`` is ignored (site i never reads s_i).
    """
    A0 = A - np.diag(np.diag(A))
    Y = V.T[S]  # Y[n, j, a] = V[a, s_j]
    z = np.einsum("ij,nja->nia", A0, Y, optimize=True)
    return z if b is None else z + b


def potts_logits(model: PottsModel, S: np.ndarray) -> np.ndarray:
    """Conditional logits :math:`\\beta\\sum_{j\\ne i}J_{ij}U_{a s_j} + \\beta h_i(a)`, (n, L, C)."""
    S = check_configurations(S, model.L, model.C)
    p = model.factored()
    return factored_logits(S, p.A, p.V, p.b)


def log_softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """:math:`z_a - \\log\\sum_b e^{z_b}` along ``axis`` (max-shifted, so it never overflows)."""
    y = z - z.max(axis=axis, keepdims=True)
    return y - np.log(np.exp(y).sum(axis=axis, keepdims=True))


def energies(model: PottsModel, S: np.ndarray) -> np.ndarray:
    """:math:`H(s)` for each row of ``S`` (n, L) -> (n,). Uses
    :math:`\\sum_{i<j} J_{ij}U_{s_is_j} = \\frac12\\sum_i \\sum_{j\\ne i} J_{ij}U_{s_is_j}`."""
    S = check_configurations(S, model.L, model.C)
    pair = factored_logits(S, model.J, model.U)  # sum_j J_ij U[a, s_j]
    rows = np.arange(S.shape[0])[:, None]
    sites = np.arange(S.shape[1])[None, :]
    return -0.5 * pair[rows, sites, S].sum(1) - model.h[sites, S].sum(1)


# ----------------------------------------------------------------------------------------------
# Exact enumeration


def check_enumerable(L: int, C: int) -> int:
    """Number of states ``C**L``; raises :class:`TooLargeError` beyond :data:`MAX_STATES`
    (decided on ``L log C`` first, so a huge ``L`` is refused without computing ``C**L``)."""
    check_int("L", L, 1)
    check_int("C", C, 1)
    if L * math.log(C) > math.log(MAX_STATES) + 1e-9 or C**L > MAX_STATES:
        raise TooLargeError("states", f"C**L = {C}**{L} = {math.exp(min(L * math.log(C), 700)):.3g}",
                            f"at most {MAX_STATES} states for exact enumeration")
    return C**L


def all_configurations(L: int, C: int) -> np.ndarray:
    """All ``C**L`` configurations, (C**L, L) int64, lexicographic (site 0 slowest)."""
    n = check_enumerable(L, C)
    idx = np.arange(n)
    powers = C ** np.arange(L - 1, -1, -1)
    return (idx[:, None] // powers[None, :]) % C


def _chunks(n: int, size: int = CHUNK):
    size = max(1, int(size))
    for start in range(0, n, size):
        yield slice(start, min(n, start + size))


@result
class BoltzmannLaw:
    """The exact law :math:`P(s) = e^{-\\beta H(s)}/Z` of a model over all its configurations
    (Rende et al. 2024, the generalised Potts model); see :func:`boltzmann`.

    Attributes
    ----------
    configurations : numpy.ndarray, (C**L, L) int64
        Every configuration, lexicographic (site 0 slowest).
    probabilities : numpy.ndarray, (C**L,)
        :math:`P(s)` of each row, summing to 1.
    log_Z : float
        :math:`\\log Z` (natural log).
    """

    configurations: np.ndarray
    probabilities: np.ndarray
    log_Z: float


def boltzmann(model: PottsModel) -> BoltzmannLaw:
    """Every configuration, its probability and :math:`\\log Z`, by exact enumeration
    (refuses more than :data:`MAX_STATES` states).

    Raises :class:`NumericalFailure` when the log-weights :math:`-\\beta H(s)` are so large that
    float64 cannot resolve them to :data:`LOG_WEIGHT_RESOLUTION` nats (rounding error about
    :math:`\\epsilon\\,\\beta(L^2\\max|J|\\max|U| + L\\max|h|)`), instead of returning
    probabilities that do not sum to one."""
    check_resolution(model)
    L, C = model.L, model.C
    n = check_enumerable(L, C)
    check_memory("states", f"C**L = {C}**{L}", 8.0 * (3 * n * L + 4 * n)
                 + 8.0 * 4 * chunk_rows(L, C) * L * C, "configurations and chunked logits")
    S = all_configurations(L, C)
    logw = np.concatenate([-model.beta * energies(model, S[c])
                           for c in _chunks(len(S), chunk_rows(L, C))])
    if not np.all(np.isfinite(logw)):
        raise NumericalFailure("exact enumeration: a log-weight -beta H(s) is not finite")
    log_Z = float(logsumexp(logw))
    P = np.exp(logw - log_Z)
    total = float(P.sum())
    if not (math.isfinite(log_Z) and abs(total - 1.0) <= _sum_tolerance(log_Z)):
        raise NumericalFailure(f"exact enumeration: probabilities sum to {total!r}, not 1 "
                               f"(log Z = {log_Z!r})")
    return BoltzmannLaw(S, P, log_Z)


def _sum_tolerance(log_Z: float) -> float:
    """How far from 1 the probabilities ``exp(logw - log Z)`` may sum: the rounding of ``log Z``
    (about eps |log Z|) enters every probability."""
    return 1e-9 + 8 * float(np.finfo(float).eps) * max(1.0, abs(log_Z))


def check_resolution(model: PottsModel) -> float:
    """The rounding-error bound :math:`\\epsilon\\,\\beta(L^2\\max|J|\\max|U| + L\\max|h|)` of the
    log-weights; :class:`NumericalFailure` when it exceeds :data:`LOG_WEIGHT_RESOLUTION` (the
    probabilities of exact enumeration would not be resolved)."""
    L = model.L
    with np.errstate(over="ignore"):
        scale = model.beta * (L * L * float(np.max(np.abs(model.J))) * float(np.max(np.abs(model.U)))
                              + L * float(np.max(np.abs(model.h))))
    error = float(np.finfo(float).eps) * scale
    if not math.isfinite(error) or error > LOG_WEIGHT_RESOLUTION:
        raise NumericalFailure(f"the log-weights -beta H(s) reach {scale:.3g}: float64 resolves "
                               f"them only to {error:.3g} nats (at most {LOG_WEIGHT_RESOLUTION} "
                               "needed); use a smaller beta or smaller couplings")
    return error


@result
class ExactSummary:
    """Exact thermodynamics of a small model by enumeration (Rende et al. 2024, the generalised
    Potts model); see :func:`exact_summary`.

    Attributes
    ----------
    Z : float or None
        Partition function :math:`\\sum_s e^{-\\beta H(s)}` (None when it overflows float64:
        use ``log_Z``).
    log_Z : float
        :math:`\\log Z`.
    marginals : numpy.ndarray, (L, C)
        Single-site marginals :math:`P(s_i = a)`.
    conditional_entropy : numpy.ndarray, (L,)
        :math:`H(s_i \\mid s_{-i}) = -E\\sum_a P(a\\mid s_{-i})\\log P(a\\mid s_{-i})` in nats.
    mean_conditional_entropy : float
        Mean over sites, the minimum of the population MLM loss (nats).
    pair_marginals : numpy.ndarray, (L, L, C, C), or None
        :math:`P(s_i = a, s_j = b)`; only with ``pairs=True``.
    """

    Z: float
    log_Z: float
    marginals: np.ndarray
    conditional_entropy: np.ndarray
    mean_conditional_entropy: float
    pair_marginals: np.ndarray | None = None


def exact_summary(model: PottsModel, pairs: bool = False) -> ExactSummary:
    """Exact Z, log Z, marginals (L, C), conditional entropies H(s_i | rest) (L,), their mean and,
    with ``pairs``, pair marginals (L, L, C, C). Refuses more than 10**6 states, and (with
    ``pairs``) more than the memory or time budget of :mod:`numerics.potts.domains`
    (:math:`8nLC` bytes and :math:`nL^2C^2` operations for :math:`n = C^L` states). Raises
    :class:`NumericalFailure` when a marginal row does not sum to one or a result is not finite.

    Examples
    --------
    The Ising anchor (L = 3, J12 = 1, J13 = 0.5, J23 = -0.3, beta = 1): summing
    exp(sum_{i<j} J_ij s_i s_j) over the 8 spin configurations gives Z = 2(e^{1.2} + e^{0.8} +
    e^{-0.2} + e^{-1.8}) = 13.059374985:

    >>> from numerics.potts.population import exact_summary, ising_anchor
    >>> round(exact_summary(ising_anchor()).Z, 9)
    13.059374985
    """
    if not isinstance(model, PottsModel):
        raise InputError("model", f"<{type(model).__name__}>", "a PottsModel (make_model)")
    L, C = model.L, model.C
    if pairs:
        n = check_enumerable(L, C)
        check_memory("pairs", True, 8.0 * (n * L * C + 4 * L * L * C * C) + 32.0 * n * L,
                     "one-hot configurations and pair marginals")
        check_work("pairs", True, 2.0 * n * L * L * C * C, "pair marginals")
    law = boltzmann(model)
    S, P, log_Z = law.configurations, law.probabilities, law.log_Z
    marg = np.zeros((L, C))
    for i in range(L):
        marg[i] = np.bincount(S[:, i], weights=P, minlength=C)
    cond_H = np.zeros(L)
    for c in _chunks(len(S), chunk_rows(L, C)):
        logp = log_softmax(potts_logits(model, S[c]))
        cond_H += np.einsum("n,nia->i", P[c], -np.exp(logp) * logp)
    Z = math.exp(log_Z) if log_Z < 700 else None
    pair = None
    if pairs:
        X = one_hot(S, C)
        pair = np.einsum("n,nia,njb->iajb", P, X, X).transpose(0, 2, 1, 3)
    rows = marg.sum(axis=1)
    if not (np.all(np.isfinite(marg)) and np.all(np.abs(rows - 1) <= _sum_tolerance(log_Z))
            and np.all(np.isfinite(cond_H)) and (pair is None or np.all(np.isfinite(pair)))):
        raise NumericalFailure(f"exact enumeration: marginal rows sum to {rows.min()!r}..."
                               f"{rows.max()!r} (not 1) or a result is not finite")
    return ExactSummary(Z, log_Z, marg, cond_H, float(cond_H.mean()), pair)


@result
class MLMLossGradient:
    """Single-mask MLM loss of factored attention and its closed-form gradient (the library's
    derivation from the loss of Rende et al. 2024, Sec. II); see :func:`mlm_loss_and_gradient`.

    Attributes
    ----------
    loss : float
        :math:`-\\frac1L\\sum_s w(s)\\sum_i\\log p_\\theta(s_i\\mid s_{-i})` (nats per site).
    dA : numpy.ndarray, (L, L)
        :math:`\\partial\\mathcal L/\\partial A`, zero diagonal.
    dV : numpy.ndarray, (C, C)
        :math:`\\partial\\mathcal L/\\partial V`.
    db : numpy.ndarray, (L, C)
        :math:`\\partial\\mathcal L/\\partial b`.
    """

    loss: float
    dA: np.ndarray
    dV: np.ndarray
    db: np.ndarray


def population_mlm(model: PottsModel, A, V, b, with_gradient: bool = True):
    """Population single-mask MLM loss of factored attention under the model's law, and its gradient.

    .. math:: \\mathcal L(A,V,b) = -\\frac1L \\sum_s P(s)\\sum_i \\log p_\\theta(s_i\\mid s_{-i}),

    gradients (the library's derivation) averaged the same way:
    :math:`\\partial_{A_{ij}} = \\frac1L E\\sum_a r_i(a) V_{a s_j}`,
    :math:`\\partial_{V_{ab}} = \\frac1L E\\sum_i\\sum_{j\\ne i} A_{ij}[b = s_j] r_i(a)`,
    :math:`\\partial_{b_i(a)} = \\frac1L E\\, r_i(a)` with :math:`r_i(a) = p_\\theta(a) - [a = s_i]`.
    ``A`` (L, L), ``V`` (C, C), ``b`` (L, C). Returns the loss (float) or, with ``with_gradient``,
    an :class:`MLMLossGradient`.
    """
    A, V, b = check_factored(A, V, b, model.L, model.C)
    law = boltzmann(model)
    return mlm_loss_and_gradient(law.configurations, law.probabilities, A, V, b, with_gradient)


def check_factored(A, V, b, L: int, C: int):
    """``(A, V, b)`` as finite float64 arrays of shapes (L, L), (C, C), (L, C); :class:`InputError`
    naming the argument otherwise."""
    out = []
    for name, value, shape in (("A", A, (L, L)), ("V", V, (C, C)), ("b", b, (L, C))):
        arr = np.asarray(value)
        if arr.dtype.kind not in "iuf" or arr.shape != shape:
            raise InputError(name, f"array of shape {arr.shape} and dtype {arr.dtype}",
                             f"a real array of shape {shape}")
        arr = arr.astype(np.float64, copy=False)
        if not np.all(np.isfinite(arr)):
            raise InputError(name, "array with non-finite entries", "finite numbers only")
        out.append(arr)
    return tuple(out)


def site_major_chunks(S: np.ndarray, C: int, weights: np.ndarray, size: int = CHUNK):
    """Yield ``(Xt, w)`` per chunk of ``size`` rows of ``S`` (n, L): the one-hot data in site-major
    layout ``Xt`` (L, n_chunk, C), contiguous, and the chunk's weights ``w`` (n_chunk,). The layout
    :func:`mlm_loss_and_gradient_site_major` consumes; a fit that evaluates the loss many times on
    the same data builds the list once."""
    for c in _chunks(len(S), size):
        yield np.ascontiguousarray(one_hot(S[c], C).transpose(1, 0, 2)), weights[c]


def mlm_loss_and_gradient(S, weights, A, V, b, with_gradient: bool = True):
    """Weighted single-mask MLM loss (and gradient) of factored attention on configurations ``S``
    (n, L). ``weights`` (n,) sum to one (a law, or 1/M for an empirical average). Returns the loss
    (float) or an :class:`MLMLossGradient`; see :func:`population_mlm` for the formulas.
    Raises :class:`NumericalFailure` when the loss or a gradient is not finite (logits beyond
    float64).
    """
    S = np.asarray(S)
    if S.ndim != 2:
        raise InputError("S", f"array of shape {S.shape}", "an (n, L) integer array of colours")
    C = np.asarray(V).shape[0] if np.ndim(V) == 2 else 0
    S = check_configurations(S, S.shape[1], C)
    A, V, b = check_factored(A, V, b, S.shape[1], C)
    weights = np.asarray(weights, dtype=np.float64)
    if weights.shape != (len(S),) or not np.all(np.isfinite(weights)) or np.any(weights < 0):
        raise InputError("weights", f"array of shape {weights.shape}",
                         f"({len(S)},) finite non-negative weights")
    out = mlm_loss_and_gradient_site_major(
        site_major_chunks(S, C, weights, chunk_rows(S.shape[1], C)), A, V, b, with_gradient)
    values = [out] if not with_gradient else [out.loss, out.dA, out.dV, out.db]
    if not all(np.all(np.isfinite(v)) for v in values):
        raise NumericalFailure("MLM loss or gradient not finite (logits beyond float64)")
    return out


def mlm_loss_and_gradient_site_major(chunks, A, V, b, with_gradient: bool = True):
    """:func:`mlm_loss_and_gradient` on data already in site-major layout: ``chunks`` an iterable of
    ``(Xt, w)`` from :func:`site_major_chunks`, summed chunk by chunk. Returns the loss (float) or
    an :class:`MLMLossGradient`."""
    L, C = A.shape[0], V.shape[0]
    A0 = A - np.diag(np.diag(A))
    loss, dA, dV, db = 0.0, np.zeros_like(A0), np.zeros_like(V), np.zeros((L, C))
    for Xt, w in chunks:
        out = _mlm_site_major(Xt, w, A0, V, b, with_gradient)
        if not with_gradient:
            loss += out
            continue
        loss += out[0]
        dA, dV, db = dA + out[1], dV + out[2], db + out[3]
    return loss if not with_gradient else MLMLossGradient(loss, dA, dV, db)


def _mlm_site_major(Xt, w, A0, V, b, with_gradient):
    """Core of :func:`mlm_loss_and_gradient_site_major` on one-hot data in site-major layout ``Xt`` (L, n, C),
    written as matrix products: :math:`Y = X V^T`, :math:`z = A_0 Y + b`,
    :math:`\\partial A = R Y^T`, :math:`\\partial V = (A_0^T R)^T X` with :math:`R = w(p - X)/L`."""
    L, n, C = Xt.shape
    Y = (Xt.reshape(L * n, C) @ V.T).reshape(L, n * C)  # Y[j, n, a] = V[a, s_nj]
    z = (A0 @ Y).reshape(L, n, C) + b[:, None, :]
    z -= z.max(axis=2, keepdims=True)
    ez = np.exp(z)
    norm = ez.sum(axis=2, keepdims=True)
    loss = -float(np.einsum("n,ln->", w, np.sum(Xt * z, axis=2) - np.log(norm[..., 0]))) / L
    if not with_gradient:
        return loss
    R = (ez / norm - Xt) * (w[None, :, None] / L)
    R2 = R.reshape(L, n * C)
    dA = R2 @ Y.T
    np.fill_diagonal(dA, 0.0)
    dV = (A0.T @ R2).reshape(L * n, C).T @ Xt.reshape(L * n, C)
    return loss, dA, dV, R.sum(axis=1)


def conditional_entropy_estimate(model: PottsModel, S: np.ndarray) -> float:
    """Monte-Carlo floor: :math:`-\\frac{1}{nL}\\sum_\\mu\\sum_i \\log P(s_i^\\mu\\mid s_{-i}^\\mu)` with the
    true model on samples ``S`` (n, L): the floor of the test MLM loss (Rende et al. 2024, Fig. 2)."""
    S = check_configurations(S, model.L, model.C)
    if len(S) == 0:
        raise InputError("S", "no samples", "at least one configuration")
    logp = log_softmax(potts_logits(model, S))
    rows, sites = np.arange(len(S))[:, None], np.arange(model.L)[None, :]
    return float(-logp[rows, sites, S].mean())


# ----------------------------------------------------------------------------------------------
# Zero-sum gauge and coupling error of factored couplings


def centering(C: int) -> np.ndarray:
    """:math:`P = I - \\frac1C\\mathbf 1\\mathbf 1^T`."""
    return np.eye(C) - np.ones((C, C)) / C


def factored_coupling_error(A, V, A_true, V_true) -> float:
    """:math:`\\|zs(A\\otimes V) - zs(A^*\\otimes V^*)\\|_F / \\|zs(A^*\\otimes V^*)\\|_F` over the
    off-diagonal site pairs, using :math:`zs(A\\otimes V) = A\\otimes PVP` (the zero-sum gauge
    identity of :func:`theory.potts.gauge_identity_residual`), without forming the (L C)^2 tensor.
    ``A``, ``A_true`` (L, L); ``V``, ``V_true`` (C, C)."""
    P = centering(V.shape[0])
    off = ~np.eye(A.shape[0], dtype=bool)
    a, at = A[off], A_true[off]
    v, vt = (P @ V @ P).ravel(), (P @ V_true @ P).ravel()
    cross = (a @ at) * (v @ vt)
    num = (a @ a) * (v @ v) - 2 * cross + (at @ at) * (vt @ vt)
    den = (at @ at) * (vt @ vt)
    if den <= 0:
        raise InputError("A_true, V_true", "zero couplings", "nonzero true couplings")
    return math.sqrt(max(num, 0.0) / den)

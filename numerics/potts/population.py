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
from pathlib import Path

import numpy as np
from scipy.special import logsumexp

from numerics.shared.seeding import as_generator
from theory.errors import InputError, TooLargeError, check_finite, check_int
from theory.results import result

#: Largest number of states C**L the exact path enumerates.
MAX_STATES = 10**6
#: Configurations per chunk of the enumeration and of the MLM loss (bounds the memory).
CHUNK = 50_000
_SYMMETRY_TOL = 1e-10


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


@dataclass(frozen=True)
class PottsModel:
    """A generalised Potts model :math:`P(s) \\propto e^{-\\beta H(s)}`,
    :math:`H(s) = -\\sum_{i<j} J_{ij}U_{s_is_j} - \\sum_i h_i(s_i)` (Rende et al. 2024).

    Build it with :func:`make_model` (which validates); attributes are read-only float64 arrays:
    ``J`` (L, L) symmetric with zero diagonal, ``U`` (C, C) symmetric, ``h`` (L, C), ``beta``.
    """

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


def _as_matrix(name: str, value, shape=None) -> np.ndarray:
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(name, value, "a matrix of real numbers")
    if arr.ndim != 2 or (shape is not None and arr.shape != shape):
        want = "a 2-d matrix" if shape is None else f"a matrix of shape {shape}"
        raise InputError(name, f"array of shape {arr.shape}", want)
    if not np.all(np.isfinite(arr)):
        raise InputError(name, "matrix with non-finite entries", "finite numbers only")
    return arr


def _check_symmetric(name: str, M: np.ndarray) -> None:
    if M.shape[0] != M.shape[1]:
        raise InputError(name, f"array of shape {M.shape}", "a square matrix")
    gap = float(np.max(np.abs(M - M.T))) if M.size else 0.0
    if gap > _SYMMETRY_TOL * max(1.0, float(np.max(np.abs(M)))):
        raise InputError(name, f"matrix with max |{name} - {name}^T| = {gap:.3g}", "a symmetric matrix")


def make_model(J, U, h=None, beta: float = 1.0) -> PottsModel:
    """Validate and build a :class:`PottsModel`.

    Raises :class:`InputError` naming the field: ``J`` not symmetric / nonzero diagonal / non-finite,
    ``U`` not symmetric, ``C`` < 2, ``L`` < 2, ``h`` of the wrong shape, ``beta`` negative.
    """
    J = _as_matrix("J", J)
    _check_symmetric("J", J)
    if np.any(np.diag(J) != 0):
        raise InputError("J", f"diagonal {np.diag(J).tolist()}", "a zero diagonal (no self-coupling)")
    if J.shape[0] < 2:
        raise InputError("L", J.shape[0], "at least 2 sites")
    U = _as_matrix("U", U)
    _check_symmetric("U", U)
    if U.shape[0] < 2:
        raise InputError("C", U.shape[0], "at least 2 colours (U must be C x C with C >= 2)")
    L, C = J.shape[0], U.shape[0]
    h = np.zeros((L, C)) if h is None else _as_matrix("h", h, (L, C))
    check_finite("beta", beta)
    if beta < 0:
        raise InputError("beta", beta, "a non-negative inverse temperature")
    J, U, h = (0.5 * (J + J.T)), 0.5 * (U + U.T), h
    for arr in (J, U, h):
        arr.setflags(write=False)
    return PottsModel(J, U, h, float(beta))


def default_model(L: int = 20, C: int = 10, beta: float = 1.0, seed: int = 0) -> PottsModel:
    """The library's default model (a library choice, not the paper's): :math:`J = (G + G^T)/\\sqrt{2L}`,
    :math:`G_{ij}\\sim N(0,1)`, zero diagonal; :math:`U = (R + R^T)/2`, :math:`R_{ab}\\sim N(0,1)`; h = 0.
    ``seed``: int or numpy Generator."""
    check_int("L", L, 2)
    check_int("C", C, 2)
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
        raise InputError("beta", beta, "a number")
    return make_model(data["J"], data["U"], data.get("h"), beta)


def load_model(path) -> PottsModel:
    """Read and validate a model JSON file ``{"J", "U", "h"?, "beta"}`` (see :func:`model_from_dict`)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise InputError("model", str(path), "an existing JSON file")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError("model", str(path), f"valid JSON ({exc})")
    return model_from_dict(data)


# ----------------------------------------------------------------------------------------------
# Conditionals and factored logits


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
    p = model.factored()
    return factored_logits(S, p.A, p.V, p.b)


def log_softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """:math:`z_a - \\log\\sum_b e^{z_b}` along ``axis`` (max-shifted, so it never overflows)."""
    y = z - z.max(axis=axis, keepdims=True)
    return y - np.log(np.exp(y).sum(axis=axis, keepdims=True))


def energies(model: PottsModel, S: np.ndarray) -> np.ndarray:
    """:math:`H(s)` for each row of ``S`` (n, L) -> (n,). Uses
    :math:`\\sum_{i<j} J_{ij}U_{s_is_j} = \\frac12\\sum_i \\sum_{j\\ne i} J_{ij}U_{s_is_j}`."""
    S = np.asarray(S)
    pair = factored_logits(S, model.J, model.U)  # sum_j J_ij U[a, s_j]
    rows = np.arange(S.shape[0])[:, None]
    sites = np.arange(S.shape[1])[None, :]
    return -0.5 * pair[rows, sites, S].sum(1) - model.h[sites, S].sum(1)


# ----------------------------------------------------------------------------------------------
# Exact enumeration


def check_enumerable(L: int, C: int) -> int:
    """Number of states ``C**L``; raises :class:`TooLargeError` beyond :data:`MAX_STATES`."""
    n = C**L
    if n > MAX_STATES:
        raise TooLargeError("states", f"C**L = {C}**{L} = {n:.3g}",
                            f"at most {MAX_STATES} states for exact enumeration")
    return n


def all_configurations(L: int, C: int) -> np.ndarray:
    """All ``C**L`` configurations, (C**L, L) int64, lexicographic (site 0 slowest)."""
    n = check_enumerable(L, C)
    idx = np.arange(n)
    powers = C ** np.arange(L - 1, -1, -1)
    return (idx[:, None] // powers[None, :]) % C


def _chunks(n: int, size: int = CHUNK):
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
    (refuses more than :data:`MAX_STATES` states)."""
    S = all_configurations(model.L, model.C)
    logw = np.concatenate([-model.beta * energies(model, S[c]) for c in _chunks(len(S))])
    log_Z = float(logsumexp(logw))
    return BoltzmannLaw(S, np.exp(logw - log_Z), log_Z)


@result
class ExactSummary:
    """Exact thermodynamics of a small model by enumeration (Rende et al. 2024, the generalised
    Potts model); see :func:`exact_summary`.

    Attributes
    ----------
    Z : float
        Partition function :math:`\\sum_s e^{-\\beta H(s)}` (``inf`` when it overflows float64).
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
    with ``pairs``, pair marginals (L, L, C, C). Refuses more than 10**6 states."""
    law = boltzmann(model)
    S, P, log_Z = law.configurations, law.probabilities, law.log_Z
    L, C = model.L, model.C
    marg = np.zeros((L, C))
    for i in range(L):
        marg[i] = np.bincount(S[:, i], weights=P, minlength=C)
    cond_H = np.zeros(L)
    for c in _chunks(len(S)):
        logp = log_softmax(potts_logits(model, S[c]))
        cond_H += np.einsum("n,nia->i", P[c], -np.exp(logp) * logp)
    Z = math.exp(log_Z) if log_Z < 700 else float("inf")
    pair = None
    if pairs:
        X = one_hot(S, C)
        pair = np.einsum("n,nia,njb->iajb", P, X, X).transpose(0, 2, 1, 3)
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
    law = boltzmann(model)
    return mlm_loss_and_gradient(law.configurations, law.probabilities, A, V, b, with_gradient)


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
    """
    return mlm_loss_and_gradient_site_major(site_major_chunks(S, V.shape[0], weights), A, V, b,
                                            with_gradient)


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

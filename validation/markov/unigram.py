"""The unigram point of the tied S-state transformer: exact Hessian, flat directions, verdict.

The model is that of :mod:`validation.markov.states` (the library's reconstruction, extending
P1 Sec. 3's unigram minimum to S states); the verdict is local minimum / saddle.

**The unigram point** ``E = 0``, ``b`` constant (softmax uniform = stationary law), other weights
arbitrary. Its Hessian (derivation in :func:`unigram_classification`; sympy key scalar in
:func:`theory.markov.s_state_key_matrix`) is block diagonal: zero on the other weights (the loss
is ``log S`` for every value of them at ``E = 0``), and on ``(E, b)`` it vanishes on the flat
directions ``E = 1 v^T`` (exact symmetry ``(E, pos) -> (E + 1 v^T, pos - v)``: the logits shift by
a constant) and ``b = 1`` (softmax shift). On the non-flat subspace ``(Pi E, Pi b)``,
``Pi = I - J/S``, it is

.. math:: R_S(\\lambda) = \\tfrac{4}{S}\\, I_{S-1} \\otimes H_{\\rm bin}\\big(p' = (1-\\lambda)/2\\big),

where :math:`H_{\\rm bin}` is the ``(e, b)`` Hessian of the binary model at ``p = q = p'`` with the
same other weights: the classification depends on ``S`` only through :math:`\\lambda`.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from numerics.shared.cache import cached_arrays, package_version
from theory.errors import check_choice
from theory.results import result
from numerics.markov.sequences import check_states, second_eigenvalue, threshold

# torch (validation.markov.models, .states) is imported by the functions that need it: with the
# polynomial fit in the on-disk cache, method="polynomial" runs without it (start-up ~0.3 s).

#: Format of the cached polynomial fit; bump it when :func:`restricted_polynomial` changes.
POLYNOMIAL_CACHE_FORMAT = 1

#: Verdicts of :func:`unigram_classification`.
VERDICTS = ("local minimum", "saddle", "undecided")
METHODS = ("enumeration", "reduced", "polynomial")


@result
class EBBases:
    """Orthonormal bases of the ``(E, b)`` coordinates of the S-state model at the unigram
    point (the library's reconstruction; :func:`eb_bases`).

    Attributes
    ----------
    nonflat : ndarray, shape ``(S*d + S, (S-1)(d+1))``
        Columns ordered ``k = 0..S-2`` outer, then ``E``-directions ``w_k e_j^T`` (``j < d``)
        and the ``b``-direction ``w_k`` (``w_k`` = :func:`helmert_basis` column): the Hessian in
        this basis is block diagonal with ``S-1`` blocks of size ``d+1``.
    flat : ndarray, shape ``(S*d + S, d + 1)``
        ``1 e_j^T / sqrt(S)`` and ``1 / sqrt(S)`` in ``b``: the exactly flat directions.
    """

    nonflat: np.ndarray
    flat: np.ndarray


@result
class RestrictedPolynomial:
    """The binary ``(e, b)`` unigram Hessian as a Chebyshev polynomial in :math:`\\lambda`
    (:func:`restricted_polynomial`).

    Attributes
    ----------
    coefficients : ndarray, shape ``(N+1, d+1, d+1)``
        :math:`B_k` of :math:`H_{\\rm bin}(\\lambda) = \\sum_k B_k T_k(\\lambda)` (nats).
    node_error : float
        Largest float64 error bar of the node Hessians (:func:`_error_bar`).
    residual : float
        Largest spectral norm of polynomial minus exact Hessian at the validation points.
    """

    coefficients: np.ndarray
    node_error: float
    residual: float


@result
class UnigramClassification:
    """The exact Hessian of the tied S-state model at its unigram point on the non-flat
    subspace, and the verdict (the library's reconstruction, extending P1 Sec. 3's unigram
    minimum to S states; :func:`unigram_classification`).

    Attributes
    ----------
    S : int
        Number of states.
    p : float
        Switching probability.
    second_eigenvalue : float
        :math:`\\lambda = 1 - pS/(S-1)`.
    threshold : float
        The conjectured threshold :math:`(S-1)/S`.
    restricted : ndarray, shape ``((S-1)(d+1), (S-1)(d+1))``
        The symmetrised Hessian on the non-flat subspace (nats per unit squared).
    eigenvalues : ndarray, shape ``((S-1)(d+1),)``
        Its eigenvalues, ascending.
    min_eigenvalue : float
        The smallest one.
    error : float
        Float64 error bar of the eigenvalues (:func:`_error_bar`).
    flat_size : float
        :math:`\\|HU\\|_2` on the flat basis ``U`` (``method="enumeration"`` only, else 0).
    verdict : str
        ``"local minimum"`` (min eigenvalue > error), ``"saddle"`` (< -error) or
        ``"undecided"``.
    """

    S: int
    p: float
    second_eigenvalue: float
    threshold: float
    restricted: np.ndarray
    eigenvalues: np.ndarray
    min_eigenvalue: float
    error: float
    flat_size: float
    verdict: str


@result
class BandEdge:
    """The measured edge :math:`\\lambda^*` of the band :math:`0 < \\lambda < \\lambda^*` where
    the unigram point is still a local minimum (:func:`band_edge`).

    Attributes
    ----------
    lambda_star : float or None
        The smallest :math:`\\lambda > 0` where the minimum eigenvalue changes sign; 0 when there
        is no band, None when it does not change sign below ``lam_high``.
    min_eigenvalue_at_0 : float
        The restricted minimum eigenvalue at :math:`\\lambda = 0` (nats).
    error_at_0 : float
        Its float64 error bar.
    """

    lambda_star: float | None
    min_eigenvalue_at_0: float
    error_at_0: float


# ----------------------------------------------------------------------------- flat / non-flat

def helmert_basis(S: int) -> np.ndarray:
    """Orthonormal basis of :math:`1^\\perp \\subset \\mathbb{R}^S`, shape ``(S, S-1)``
    (column ``k``: :math:`(1,\\dots,1,-k-1,0,\\dots)/\\sqrt{(k+1)(k+2)}`)."""
    W = np.zeros((S, S - 1))
    for k in range(S - 1):
        W[:k + 1, k] = 1.0
        W[k + 1, k] = -(k + 1)
        W[:, k] /= math.sqrt((k + 1) * (k + 2))
    return W


def eb_bases(S: int, d: int) -> EBBases:
    """Orthonormal bases of the ``(E, b)`` coordinates (``S*d + S``, order of ``wrt=("E", "b")``):
    the non-flat and the exactly flat directions (:class:`EBBases`)."""
    W = helmert_basis(S)
    size = S * d + S
    nonflat = np.zeros((size, (S - 1) * (d + 1)))
    for k in range(S - 1):
        for j in range(d):
            nonflat[:S * d, k * (d + 1) + j] = np.kron(W[:, k], np.eye(d)[j])
        nonflat[S * d:, k * (d + 1) + d] = W[:, k]
    flat = np.zeros((size, d + 1))
    ones = np.ones(S) / math.sqrt(S)
    for j in range(d):
        flat[:S * d, j] = np.kron(ones, np.eye(d)[j])
    flat[S * d:, d] = ones
    return EBBases(nonflat, flat)


def _error_bar(hess: np.ndarray, structural: float = 0.0) -> float:
    """Float64 error bar of the eigenvalues of ``hess`` (Weyl: an error ``D`` moves each
    eigenvalue by at most ``||D||_2``): ten times the largest of the size of the entries that
    vanish in exact arithmetic (``structural``: ``||H U||_2`` on the flat basis ``U``), the
    asymmetry ``||H - H^T||_2`` (two evaluation orders of the same second derivative) and
    ``dim * eps * ||H||_2`` (rounding of the final sums)."""
    norm = float(np.linalg.norm(hess, 2))
    asym = float(np.linalg.norm(hess - hess.T, 2))
    return 10.0 * max(structural, asym, hess.shape[0] * np.finfo(float).eps * norm)


@lru_cache(maxsize=64)
def _model_cached(S: int, d: int, seq_len: int, seed: int, pos_scale: float):
    from validation.markov.states import initial_parameters

    return initial_parameters(S, d, seq_len, seed, pos_scale)


def _binary_block(params: dict, lam: float):
    """``(e, b)`` Hessian of the binary model at ``p = q = (1 - lam)/2`` at its unigram point."""
    import torch

    from validation.markov.models import MarkovTransformer, exact_loss_gradient_hessian
    from validation.markov.states import DTYPE, binary_restriction

    d, seq_len = params["pos"].shape[1], params["pos"].shape[0]
    pb = (1.0 - lam) / 2.0
    two = dict(params, E=torch.zeros(2, d, dtype=DTYPE), b=torch.zeros(2, dtype=DTYPE))
    model = MarkovTransformer(d, seq_len, True, binary_restriction(two))
    return exact_loss_gradient_hessian(model, pb, pb, wrt=("e", "b")).hessian


def _on_disk(key: dict, params) -> RestrictedPolynomial:
    """:func:`restricted_polynomial` through the on-disk cache (:mod:`numerics.shared.cache`:
    ``$TTC_CACHE_DIR`` or ``~/.cache/ttc``), keyed by ``key``, the library, torch and numpy
    versions and :data:`POLYNOMIAL_CACHE_FORMAT`; ``params()`` gives the weights on a miss."""
    def compute():
        poly = restricted_polynomial(params())
        return {"coefficients": poly.coefficients, "node_error": poly.node_error,
                "residual": poly.residual}

    full = {**key, "format": POLYNOMIAL_CACHE_FORMAT, "torch": package_version("torch"),
            "numpy": np.__version__}
    arrays = cached_arrays("unigram-polynomial", full,
                           ("coefficients", "node_error", "residual"), compute)
    return RestrictedPolynomial(coefficients=arrays["coefficients"],
                                node_error=float(arrays["node_error"]),
                                residual=float(arrays["residual"]))


@lru_cache(maxsize=32)
def _polynomial_cached(d: int, seq_len: int, seed: int, pos_scale: float):
    return _on_disk({"d": d, "seq_len": seq_len, "seed": seed, "pos_scale": pos_scale},
                    lambda: _model_cached(2, d, seq_len, seed, pos_scale))


_POLYNOMIALS: dict = {}


def _polynomial_by_digest(params: dict) -> RestrictedPolynomial:
    """:func:`restricted_polynomial` cached by a digest of the weights' bytes (``E``, ``b``
    excluded: the unigram point replaces them), in memory and on disk (:func:`_on_disk`)."""
    import hashlib

    from validation.markov.states import parameter_names

    digest = hashlib.sha256()
    for name in parameter_names():
        if name not in ("E", "b"):
            digest.update(name.encode())
            digest.update(np.ascontiguousarray(params[name].detach().numpy()).tobytes())
    key = digest.hexdigest()
    if key not in _POLYNOMIALS:
        if len(_POLYNOMIALS) >= 32:
            _POLYNOMIALS.pop(next(iter(_POLYNOMIALS)))
        _POLYNOMIALS[key] = _on_disk({"weights": key}, lambda: params)
    return _POLYNOMIALS[key]


def restricted_polynomial(params: dict) -> RestrictedPolynomial:
    """The binary ``(e, b)`` unigram Hessian as a polynomial in :math:`\\lambda` (exact form).

    At ``p = q = p' = (1 - lambda)/2`` every sequence probability is a polynomial of degree
    ``N`` in :math:`\\lambda`, so the exact Hessian is :math:`H_{\\rm bin}(\\lambda) =
    \\sum_{k=0}^{N} B_k T_k(\\lambda)` (Chebyshev basis). The ``B_k`` are fitted through exact
    Hessians (:func:`_binary_block`) at the ``N + 1`` Chebyshev nodes and validated at ``N + 1``
    other points of ``[-0.95, 0.95]`` (:class:`RestrictedPolynomial`).
    """
    seq_len = params["pos"].shape[0]
    nodes = np.cos(np.pi * (np.arange(seq_len + 1) + 0.5) / (seq_len + 1))
    blocks = np.array([_binary_block(params, lam) for lam in nodes])
    size = blocks.shape[1]
    coefficients = np.polynomial.chebyshev.chebfit(nodes, blocks.reshape(len(nodes), -1),
                                                   seq_len).reshape(-1, size, size)
    residual = 0.0
    for lam in np.linspace(-0.95, 0.95, seq_len + 1):
        exact = _binary_block(params, lam)
        fitted = np.polynomial.chebyshev.chebval(lam, coefficients)
        residual = max(residual, float(np.linalg.norm(fitted - exact, 2)))
    node_error = max(_error_bar(block) for block in blocks)
    return RestrictedPolynomial(coefficients=coefficients, node_error=node_error,
                                residual=residual)


def unigram_classification(S: int, p: float, *, d: int = 4, seq_len: int = 6, seed: int = 0,
                           pos_scale: float = 1.0, method: str = "enumeration",
                           params: dict | None = None) -> UnigramClassification:
    """Classify the unigram point of the tied S-state model by its exact Hessian.

    Derivation (second order at ``E = F``, ``b = c`` from ``E = 0, b = 0``): with
    :math:`z_n^0` the (deterministic) ``z_n`` at ``E = 0``, :math:`dz_n = \\sum_{i\\le n} C_{n,i}
    F^\\top e_{x_i}` its first-order change, :math:`g_n = \\pi - e_{x_{n+1}}` and
    :math:`\\Pi = I - J/S`,

    .. math::
        L - \\log S \\approx \\frac1N\\sum_n\\Big[\\frac{1}{2S}\\big|\\Pi(c + F z^0_n)\\big|^2
        + \\sum_{i\\le n} \\mathrm{tr}\\big(F C_{n,i} F^\\top\\, \\mathbb{E}[e_{x_i} g_n^\\top]\\big)\\Big],
        \\qquad \\mathbb{E}[e_{x_i} g_n^\\top] = -\\frac{\\lambda^{n+1-i}}{S}\\,\\Pi

    (the key matrix, :func:`theory.markov.s_state_key_matrix`). The first term is the PSD
    positional term (Gram matrix of :math:`(z^0_n, 1)`), the second the sign mechanism
    (:math:`C_{n,n} \\approx I`: :math:`-\\tfrac{2\\lambda}{S}|\\Pi F|^2` in the Hessian). Everything
    depends on ``F`` only through :math:`\\Pi F`: ``E = 1 v^T`` and ``b = 1`` are flat. If the
    Hessian on the non-flat subspace is positive definite, the point is a local minimum (the set
    ``{Pi E = 0, Pi b = 0}`` of critical points with loss ``log S`` is then non-degenerate in the
    Morse-Bott sense); a negative eigenvalue makes it a saddle.

    Parameters
    ----------
    S : int
        Number of states (>= 2).
    p : float
        Switching probability in (0, 1); :math:`\\lambda = 1 - pS/(S-1)`.
    d, seq_len, seed, pos_scale : int, int, int, float
        Width, context ``N``, weight seed and positional scale of :func:`initial_parameters`
        (ignored when ``params`` is given).
    method : {"enumeration", "reduced", "polynomial"}
        ``"enumeration"``: autograd Hessian over ``(E, b)`` of the exact S-state loss (all
        ``S^(N+1)`` sequences), restricted to the non-flat basis of :func:`eb_bases`; the error
        bar includes the size of the Hessian on the flat basis (zero in exact arithmetic).
        ``"reduced"``: ``(4/S) I_{S-1} (x) H_bin(p')`` with the binary ``(e, b)`` Hessian at
        ``p = q = p' = (1 - lambda)/2`` (exact binary enumeration, ``2^(N+1)`` sequences): the
        same matrix, checked against ``"enumeration"`` in the tests and the claim.
        ``"polynomial"``: the same through :func:`restricted_polynomial` (cached per weights;
        microseconds per point), error bar ten times the largest of the node error bars and the
        validation residual.
    params : dict, optional
        Weights to use instead of the seeded initialisation (``E`` and ``b`` are replaced by the
        unigram point).

    Returns
    -------
    UnigramClassification
        ``restricted`` (the ``(S-1)(d+1)`` square Hessian on the non-flat subspace),
        ``eigenvalues`` (ascending), ``min_eigenvalue``, ``error`` (float64 error bar, see
        :func:`_error_bar`), ``flat_size`` (``||H U||_2`` on the flat basis, ``enumeration``
        only, else 0), ``second_eigenvalue`` (:math:`\\lambda`), ``threshold`` (``(S-1)/S``)
        and ``verdict``: ``"local minimum"`` (min eigenvalue > error), ``"saddle"`` (< -error)
        or ``"undecided"``.
    """
    check_states(S, p)
    check_choice("method", method, METHODS)
    given = params is not None
    if params is None and method != "polynomial":  # the fit needs weights on a cache miss only
        params = _model_cached(S, d, seq_len, seed, float(pos_scale))
    lam = second_eigenvalue(S, p)
    if method == "enumeration":
        restricted, error, flat_size = _enumerated_restriction(params, S, p)
    elif method == "reduced":
        restricted, error, flat_size = _reduced_restriction(params, S, lam)
    else:
        poly = (_polynomial_by_digest(params) if given
                else _polynomial_cached(d, seq_len, seed, float(pos_scale)))
        restricted, error, flat_size = _polynomial_restriction(poly, S, lam)
    restricted = (restricted + restricted.T) / 2
    eig = np.linalg.eigvalsh(restricted)
    low = float(eig[0])
    verdict = "local minimum" if low > error else "saddle" if low < -error else "undecided"
    return UnigramClassification(S=S, p=float(p), second_eigenvalue=lam, threshold=threshold(S),
                                 restricted=restricted, eigenvalues=eig, min_eigenvalue=low,
                                 error=float(error), flat_size=flat_size, verdict=verdict)


def _enumerated_restriction(params: dict, S: int, p: float):
    """``(restricted, error, flat_size)`` of ``method="enumeration"``: the autograd ``(E, b)``
    Hessian of the exact S-state loss in the non-flat basis of :func:`eb_bases`; the error bar
    includes its size on the flat basis (zero in exact arithmetic)."""
    import torch

    from validation.markov.states import DTYPE, loss_gradient_hessian, unigram_point

    d = params["pos"].shape[1]
    point = unigram_point(dict(params, E=torch.zeros(S, d, dtype=DTYPE),
                               b=torch.zeros(S, dtype=DTYPE)))
    hess = loss_gradient_hessian(point, S, p, wrt=("E", "b")).hessian
    bases = eb_bases(S, d)
    flat_size = float(np.linalg.norm(hess @ bases.flat, 2))
    restricted = bases.nonflat.T @ hess @ bases.nonflat
    return restricted, _error_bar(hess, flat_size), flat_size


def _reduced_restriction(params: dict, S: int, lam: float):
    """``(restricted, error, 0.0)`` of ``method="reduced"``: ``(4/S) I_{S-1} (x) H_bin(p')``
    with the exact binary ``(e, b)`` Hessian at ``p = q = p' = (1 - lam)/2``."""
    block = _binary_block(params, lam)
    return (4.0 / S) * np.kron(np.eye(S - 1), block), (4.0 / S) * _error_bar(block), 0.0


def _polynomial_restriction(poly: RestrictedPolynomial, S: int, lam: float):
    """``(restricted, error, 0.0)`` of ``method="polynomial"``: the reduced form with the binary
    block from the fitted polynomial; error bar ten times the largest of the node error bars and
    the validation residual."""
    block = np.polynomial.chebyshev.chebval(lam, poly.coefficients)
    error = (4.0 / S) * 10.0 * max(poly.node_error, poly.residual, _error_bar(block))
    return (4.0 / S) * np.kron(np.eye(S - 1), block), error, 0.0


def unigram_features(params: dict) -> np.ndarray:
    """:math:`z^0_n`, the hidden states at ``E = 0`` (deterministic: the embeddings are the
    positional vectors), shape ``(N, d)``."""
    import torch

    from validation.markov.states import hidden

    x = torch.zeros((1, params["pos"].shape[0]), dtype=torch.int64)
    with torch.no_grad():
        return hidden(dict(params, E=torch.zeros_like(params["E"])), x)[0].numpy()


def predicted_band_edge(params: dict) -> float:
    """Leading-order edge of the band :math:`0 < \\lambda < \\lambda^*` where the unigram point is
    still a local minimum: :math:`\\lambda^* \\approx \\tfrac12 \\lambda_{\\min}(\\mathrm{Cov}_n z^0_n)`.

    Exact when attention and MLP are off (``W_V = 0``, ``W_2 = 0``, :math:`z^0_n = p_n`): the
    non-flat block :func:`theory.markov.s_state_unigram_hessian_simple` is positive definite iff
    its Schur complement :math:`\\overline{pp^\\top} - \\bar p\\bar p^\\top - 2\\lambda I` is.
    Zero when ``N <= d`` (the covariance of ``N`` points in :math:`\\mathbb{R}^d` is singular).
    """
    z = unigram_features(params)
    centred = z - z.mean(axis=0)
    return 0.5 * max(float(np.linalg.eigvalsh(centred.T @ centred / z.shape[0])[0]), 0.0)


def band_edge(params: dict, lam_high: float = 0.9, xtol: float = 1e-13) -> BandEdge:
    """The measured band edge: the smallest :math:`\\lambda > 0` where the restricted minimum
    eigenvalue (``method="reduced"``, exact binary Hessian) changes sign, by Brent's method on
    ``(0, lam_high)``.

    Returns a :class:`BandEdge`; ``lambda_star`` is 0 when the eigenvalue at
    :math:`\\lambda = 0` is not above its error bar (no band) and ``None`` when it does not
    change sign on the interval.
    """
    from scipy.optimize import brentq

    def low(lam):
        return unigram_classification(2, (1.0 - lam) / 2.0, params=params,
                                      method="reduced").min_eigenvalue

    at0 = unigram_classification(2, 0.5, params=params, method="reduced")
    if at0.verdict != "local minimum":
        edge = 0.0
    elif low(lam_high) > 0:
        edge = None
    else:
        edge = float(brentq(low, 0.0, lam_high, xtol=xtol))
    return BandEdge(lambda_star=edge, min_eigenvalue_at_0=at0.min_eigenvalue,
                    error_at_0=at0.error)

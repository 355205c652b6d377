"""The tied single-layer transformer on the symmetric S-state chain, and its unigram point.

The model of :mod:`validation.markov_transformer` (P1 = Makkuva et al., arXiv 2402.04161, Sec. 2;
spec ``markov.md`` Sec. 2) with ``S`` tokens. Width ``d``, context ``N = seq_len``, tokens
:math:`x_n \\in \\{0, \\dots, S-1\\}`, embedding matrix :math:`E \\in \\mathbb{R}^{S\\times d}` (row
:math:`E_s` for token ``s``):

.. math::
    u_n &= E_{x_n} + p_n, \\qquad
    y_n = u_n + W_O \\sum_{i\\le n}\\mathrm{att}_{n,i} W_V u_i, \\quad
    \\mathrm{att}_{n,\\cdot} = \\mathrm{softmax}_{i\\le n}\\big(\\langle W_Q u_n, W_K u_i\\rangle/\\sqrt d\\big),\\\\
    z_n &= y_n + W_2\\,\\mathrm{ReLU}(W_1 y_n), \\qquad
    \\mathrm{logits}_n = E z_n + b \\in \\mathbb{R}^S \\quad\\text{(tied: the output matrix is } E),\\\\
    L &= \\frac1N\\sum_{n=1}^N \\mathbb{E}\\big[\\mathrm{logsumexp}(\\mathrm{logits}_n)
         - \\mathrm{logits}_{n, x_{n+1}}\\big] \\quad\\text{(nats)}.

No layer norm, no biases inside the linear maps. Parameters are float64 tensors without a member
axis: ``E (S, d)``, ``pos (N, d)``, ``W_Q, W_K, W_V, W_O (d, d)``, ``W_1 (4d, d)``,
``W_2 (d, 4d)``, ``b (S,)``. For ``S = 2`` the binary model of
:mod:`validation.markov_transformer` is the restriction ``E_0 = 0`` (``e = E_1``, ``b = b_1 - b_0``)
at ``p = q``.

Chain: :math:`P_{ii} = 1-p`, :math:`P_{ij} = p/(S-1)`, uniform stationary law, second eigenvalue
:math:`\\lambda = 1 - pS/(S-1)`; the exact population loss enumerates all :math:`S^{N+1}` sequences
from the stationary start (at most :data:`MAX_SEQUENCES`).

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
import torch

from theory.errors import (InputError, TooLargeError, check_choice, check_finite, check_int,
                           check_open_unit)
from validation.markov_transformer import (
    DTYPE, MATRICES, MarkovTransformer, _causal_mask, exact_loss_gradient_hessian,
    initial_parameters as binary_initial_parameters)

#: Largest number of enumerated sequences ``S^(N+1)`` of the exact population loss.
MAX_SEQUENCES = 200_000
#: Verdicts of :func:`unigram_classification`.
VERDICTS = ("local minimum", "saddle", "undecided")
METHODS = ("enumeration", "reduced", "polynomial")


def parameter_names() -> tuple[str, ...]:
    """Parameter names in flattening order."""
    return ("E", "pos") + MATRICES + ("W_1", "W_2", "b")


def parameter_shapes(S: int, d: int, seq_len: int) -> dict:
    """Shapes of every parameter (no member axis)."""
    shapes = {"E": (S, d), "pos": (seq_len, d), **{m: (d, d) for m in MATRICES},
              "W_1": (4 * d, d), "W_2": (d, 4 * d), "b": (S,)}
    return {name: shapes[name] for name in parameter_names()}


def second_eigenvalue(S: int, p: float) -> float:
    """:math:`\\lambda = 1 - pS/(S-1)` of the symmetric S-state chain."""
    return 1.0 - p * S / (S - 1)


def threshold(S: int) -> float:
    """The conjectured threshold :math:`p = (S-1)/S` (where :math:`\\lambda = 0`: i.i.d. chain)."""
    return (S - 1) / S


def _check_states(S: int, p: float) -> None:
    check_int("S", S, 2)
    check_open_unit("p", p)


# ----------------------------------------------------------------------------- enumeration

@lru_cache(maxsize=16)
def _sequences_cached(S: int, seq_len: int):
    length = seq_len + 1
    codes = np.arange(S**length)
    sequences = (codes[:, None] // S ** np.arange(length - 1, -1, -1)[None, :]) % S
    stays = (sequences[:, 1:] == sequences[:, :-1]).sum(axis=1)
    sequences.flags.writeable = stays.flags.writeable = False
    return sequences.astype(np.int64), stays


def enumerate_state_sequences(S: int, p: float, seq_len: int):
    """Every sequence :math:`x_1^{N+1}` of the symmetric S-state chain with its probability.

    .. math::
        \\Pr(x_1^{N+1}) = \\frac1S (1-p)^{m} \\Big(\\frac{p}{S-1}\\Big)^{N-m},
        \\quad m = \\#\\{n : x_{n+1} = x_n\\}

    (uniform = stationary start). The sequences are cached per ``(S, N)``.

    Returns
    -------
    sequences : ndarray of int64, shape ``(S**(N+1), N+1)`` (row ``k`` = base-``S`` digits of
        ``k``, first symbol most significant), read-only
    probabilities : ndarray of float64, shape ``(S**(N+1),)``

    Raises
    ------
    TooLargeError
        When ``S**(N+1) > MAX_SEQUENCES``.
    """
    _check_states(S, p)
    check_int("seq_len", seq_len, 1)
    if S ** (seq_len + 1) > MAX_SEQUENCES:
        raise TooLargeError("seq_len", seq_len,
                            f"S^(seq_len+1) <= {MAX_SEQUENCES} for exact enumeration with S={S}")
    sequences, stays = _sequences_cached(S, seq_len)
    probabilities = (1 - p) ** stays * (p / (S - 1)) ** (seq_len - stays) / S
    return sequences, probabilities


# ----------------------------------------------------------------------------- model

def initial_parameters(S: int, d: int, seq_len: int, seed: int = 0, pos_scale: float = 1.0) -> dict:
    """The ``standard`` initialisation: every weight N(0, 0.02^2), ``b = 0`` (float64 tensors).

    The weights shared with the binary model (``pos``, ``W_*``) are those of
    :func:`validation.markov_transformer.initial_parameters` with the same ``seed`` (so the S = 2
    cross-check uses identical weights); ``E`` is drawn from ``seed + 1`` (an independent stream).
    ``pos_scale`` multiplies the positional vectors (std ``0.02 * pos_scale``).
    """
    check_int("S", S, 2)
    check_finite("pos_scale", pos_scale)
    shared = binary_initial_parameters(d, seq_len, True, "standard", seed)
    out = {name: torch.tensor(shared[name], dtype=DTYPE) for name in ("pos",) + MATRICES
           + ("W_1", "W_2")}
    out["pos"] = out["pos"] * pos_scale
    rng = np.random.default_rng(seed + 1)
    out["E"] = torch.tensor(rng.normal(0.0, 0.02, size=(S, d)), dtype=DTYPE)
    out["b"] = torch.zeros(S, dtype=DTYPE)
    return {name: out[name] for name in parameter_names()}


def logits(params: dict, x: torch.Tensor) -> torch.Tensor:
    """Logits :math:`E z_n + b` (module docstring) for tokens ``x`` of shape ``(B, N')``,
    ``N' <= N``; returns shape ``(B, N', S)``."""
    return hidden(params, x) @ params["E"].T + params["b"]


def hidden(params: dict, x: torch.Tensor) -> torch.Tensor:
    """The last hidden states :math:`z_n` for tokens ``x`` of shape ``(B, N')``: ``(B, N', d)``."""
    E, pos = params["E"], params["pos"]
    d, n = E.shape[1], x.shape[1]
    emb = E[x] + pos[:n]                                                     # (B, N', d)
    bilinear = params["W_Q"].T @ params["W_K"] / math.sqrt(d)
    att = torch.softmax(emb @ bilinear @ emb.transpose(1, 2) + _causal_mask(n, E.dtype), dim=-1)
    y = emb + (att @ emb) @ (params["W_O"] @ params["W_V"]).T
    return y + torch.relu(y @ params["W_1"].T) @ params["W_2"].T


def _last_position_logits(params: dict, x: torch.Tensor) -> torch.Tensor:
    """Logits at the last position only, for prefixes ``x`` of shape ``(B, n)``: shape ``(B, S)``.
    The same model as :func:`logits` (causality: position ``n`` attends to ``i <= n``), evaluated
    in another order (one query row instead of the masked square)."""
    E, pos = params["E"], params["pos"]
    d, n = E.shape[1], x.shape[1]
    emb = E[x] + pos[:n]                                                     # (B, n, d)
    bilinear = params["W_Q"].T @ params["W_K"] / math.sqrt(d)
    last = emb[:, -1, :]                                                     # (B, d)
    att = torch.softmax(((last @ bilinear)[:, None, :] * emb).sum(-1), dim=-1)   # (B, n)
    y = last + (att[:, :, None] * emb).sum(1) @ (params["W_O"] @ params["W_V"]).T
    z = y + torch.relu(y @ params["W_1"].T) @ params["W_2"].T
    return z @ E.T + params["b"]


ORDERS = ("prefix", "sequence")


def exact_loss(params: dict, S: int, p: float, order: str = "prefix") -> torch.Tensor:
    """Exact population loss (0-d tensor, nats) by enumeration.

    .. math::
        L = \\sum_{x_1^{N+1}} \\Pr(x_1^{N+1})\\, \\frac1N\\sum_{n=1}^N \\ell_n,
        \\quad \\ell_n = \\mathrm{logsumexp}(\\mathrm{logits}_n) - \\mathrm{logits}_{n,x_{n+1}}
        = \\frac1N \\sum_{n=1}^N \\sum_{x_1^{n+1}} \\Pr(x_1^{n+1})\\, \\ell_n

    ``order="sequence"``: all :math:`S^{N+1}` sequences through :func:`logits`;
    ``order="prefix"`` (default, about ``N`` times cheaper): for each ``n`` the :math:`S^{n+1}`
    prefixes with their marginal probabilities (the future summed out exactly) through
    :func:`_last_position_logits`. Both are exact; their difference measures rounding.
    """
    check_choice("order", order, ORDERS)
    if params["E"].shape[0] != S:
        raise InputError("params['E']", tuple(params["E"].shape), f"{S} rows (S={S})")
    seq_len = params["pos"].shape[0]
    sequences, probabilities = enumerate_state_sequences(S, p, seq_len)
    if order == "sequence":
        x = torch.from_numpy(np.array(sequences))
        lg = logits(params, x[:, :-1])
        target = torch.gather(lg, 2, x[:, 1:, None])[..., 0]
        per_sequence = (torch.logsumexp(lg, dim=-1) - target).mean(dim=-1)
        return per_sequence @ torch.tensor(probabilities, dtype=DTYPE)
    total = torch.zeros((), dtype=DTYPE)
    for n in range(1, seq_len + 1):
        prefixes, prob = enumerate_state_sequences(S, p, n)
        x = torch.from_numpy(np.array(prefixes))
        lg = _last_position_logits(params, x[:, :-1])
        loss = torch.logsumexp(lg, dim=-1) - torch.gather(lg, 1, x[:, -1:])[:, 0]
        total = total + loss @ torch.tensor(prob, dtype=DTYPE)
    return total / seq_len


def loss_gradient_hessian(params: dict, S: int, p: float, wrt=None, hessian: bool = True,
                          order: str = "prefix"):
    """Exact loss, gradient and autograd Hessian (``torch.func.hessian``, float64) over the flat
    vector of the parameters ``wrt`` (default all, in :func:`parameter_names` order; each
    flattened row-major, so ``E[s, j]`` is entry ``s*d + j`` of its slice); others fixed.

    ``order`` is that of :func:`exact_loss`. Returns ``(loss, gradient (P,), hessian (P, P) or
    None)`` as float / numpy arrays.
    """
    wrt = tuple(parameter_names() if wrt is None else wrt)
    for name in wrt:
        check_choice("wrt", name, parameter_names())
    fixed = {name: value.detach() for name, value in params.items()}
    sizes = [fixed[name].numel() for name in wrt]

    def f(flat):
        pieces = flat.split(sizes)
        moved = {name: piece.reshape(fixed[name].shape) for name, piece in zip(wrt, pieces)}
        return exact_loss({**fixed, **moved}, S, p, order)

    flat = torch.cat([fixed[name].reshape(-1) for name in wrt]).requires_grad_(True)
    loss = f(flat)
    (grad,) = torch.autograd.grad(loss, flat)
    hess = torch.func.hessian(f)(flat.detach()).numpy() if hessian else None
    return float(loss.detach()), grad.numpy(), hess


def unigram_point(params: dict, bias: float = 0.0) -> dict:
    """Copy of ``params`` with ``E = 0`` and ``b = bias * 1`` (softmax uniform = stationary law);
    the other weights are kept."""
    out = {name: value.detach().clone() for name, value in params.items()}
    out["E"] = torch.zeros_like(out["E"])
    out["b"] = torch.full_like(out["b"], float(bias))
    return out


def binary_restriction(params: dict) -> dict:
    """The binary model's parameters (member axis, tied) of an ``S = 2`` point with ``E_0 = 0``:
    ``e = E_1``, ``b = b_1 - b_0``, other weights shared."""
    if params["E"].shape[0] != 2:
        raise InputError("params['E']", tuple(params["E"].shape), "2 rows (S = 2)")
    out = {name: params[name].detach()[None] for name in ("pos",) + MATRICES + ("W_1", "W_2")}
    out["e"] = params["E"].detach()[1][None]
    out["b"] = (params["b"][1] - params["b"][0]).detach().reshape(1)
    return out


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


def eb_bases(S: int, d: int) -> tuple[np.ndarray, np.ndarray]:
    """Orthonormal bases of the ``(E, b)`` coordinates (``S*d + S``, order of ``wrt=("E", "b")``).

    Returns
    -------
    nonflat : ndarray, shape ``(S*d + S, (S-1)(d+1))``
        Columns ordered ``k = 0..S-2`` outer, then ``E``-directions ``w_k e_j^T`` (``j < d``)
        and the ``b``-direction ``w_k`` (``w_k`` = :func:`helmert_basis` column): the Hessian in
        this basis is block diagonal with ``S-1`` blocks of size ``d+1``.
    flat : ndarray, shape ``(S*d + S, d + 1)``
        ``1 e_j^T / sqrt(S)`` and ``1 / sqrt(S)`` in ``b``: the exactly flat directions.
    """
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
    return nonflat, flat


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
    return initial_parameters(S, d, seq_len, seed, pos_scale)


def _binary_block(params: dict, lam: float):
    """``(e, b)`` Hessian of the binary model at ``p = q = (1 - lam)/2`` at its unigram point."""
    d, seq_len = params["pos"].shape[1], params["pos"].shape[0]
    pb = (1.0 - lam) / 2.0
    two = dict(params, E=torch.zeros(2, d, dtype=DTYPE), b=torch.zeros(2, dtype=DTYPE))
    model = MarkovTransformer(d, seq_len, True, binary_restriction(two))
    _, _, hess = exact_loss_gradient_hessian(model, pb, pb, wrt=("e", "b"))
    return hess


@lru_cache(maxsize=32)
def _polynomial_cached(d: int, seq_len: int, seed: int, pos_scale: float):
    return restricted_polynomial(_model_cached(2, d, seq_len, seed, pos_scale))


_POLYNOMIALS: dict = {}


def _polynomial_by_digest(params: dict) -> dict:
    """:func:`restricted_polynomial` cached by a digest of the weights' bytes (``E``, ``b``
    excluded: the unigram point replaces them)."""
    import hashlib

    digest = hashlib.sha256()
    for name in parameter_names():
        if name not in ("E", "b"):
            digest.update(name.encode())
            digest.update(np.ascontiguousarray(params[name].detach().numpy()).tobytes())
    key = digest.hexdigest()
    if key not in _POLYNOMIALS:
        if len(_POLYNOMIALS) >= 32:
            _POLYNOMIALS.pop(next(iter(_POLYNOMIALS)))
        _POLYNOMIALS[key] = restricted_polynomial(params)
    return _POLYNOMIALS[key]


def restricted_polynomial(params: dict) -> dict:
    """The binary ``(e, b)`` unigram Hessian as a polynomial in :math:`\\lambda` (exact form).

    At ``p = q = p' = (1 - lambda)/2`` every sequence probability is a polynomial of degree
    ``N`` in :math:`\\lambda`, so the exact Hessian is :math:`H_{\\rm bin}(\\lambda) =
    \\sum_{k=0}^{N} B_k T_k(\\lambda)` (Chebyshev basis). The ``B_k`` are fitted through exact
    Hessians (:func:`_binary_block`) at the ``N + 1`` Chebyshev nodes and validated at ``N + 1``
    other points of ``[-0.95, 0.95]``.

    Returns
    -------
    dict
        ``coefficients`` (``(N+1, d+1, d+1)``), ``node_error`` (largest float64 error bar of
        the node Hessians, :func:`_error_bar`) and ``residual`` (largest spectral norm of
        polynomial minus exact Hessian at the validation points).
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
    return {"coefficients": coefficients, "node_error": node_error, "residual": residual}


def unigram_classification(S: int, p: float, *, d: int = 4, seq_len: int = 6, seed: int = 0,
                           pos_scale: float = 1.0, method: str = "enumeration",
                           params: dict | None = None) -> dict:
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
    dict
        ``restricted`` (the ``(S-1)(d+1)`` square Hessian on the non-flat subspace),
        ``eigenvalues`` (ascending), ``min_eigenvalue``, ``error`` (float64 error bar, see
        :func:`_error_bar`), ``flat_size`` (``||H U||_2`` on the flat basis, ``enumeration``
        only, else 0), ``lambda``, ``threshold`` (``(S-1)/S``) and ``verdict``: ``"local
        minimum"`` (min eigenvalue > error), ``"saddle"`` (< -error) or ``"undecided"``.
    """
    _check_states(S, p)
    check_choice("method", method, METHODS)
    given = params is not None
    if params is None:
        params = _model_cached(S, d, seq_len, seed, float(pos_scale))
    d = params["pos"].shape[1]
    lam = second_eigenvalue(S, p)
    if method == "enumeration":
        point = unigram_point(dict(params, E=torch.zeros(S, d, dtype=DTYPE),
                                   b=torch.zeros(S, dtype=DTYPE)))
        _, _, hess = loss_gradient_hessian(point, S, p, wrt=("E", "b"))
        nonflat, flat = eb_bases(S, d)
        flat_size = float(np.linalg.norm(hess @ flat, 2))
        restricted = nonflat.T @ hess @ nonflat
        error = _error_bar(hess, flat_size)
    elif method == "reduced":
        block = _binary_block(params, lam)
        restricted = (4.0 / S) * np.kron(np.eye(S - 1), block)
        flat_size = 0.0
        error = (4.0 / S) * _error_bar(block)
    else:
        poly = (_polynomial_by_digest(params) if given
                else _polynomial_cached(d, seq_len, seed, float(pos_scale)))
        block = np.polynomial.chebyshev.chebval(lam, poly["coefficients"])
        restricted = (4.0 / S) * np.kron(np.eye(S - 1), block)
        flat_size = 0.0
        error = (4.0 / S) * 10.0 * max(poly["node_error"], poly["residual"], _error_bar(block))
    restricted = (restricted + restricted.T) / 2
    eig = np.linalg.eigvalsh(restricted)
    low = float(eig[0])
    verdict = "local minimum" if low > error else "saddle" if low < -error else "undecided"
    return {"S": S, "p": float(p), "lambda": lam, "threshold": threshold(S),
            "restricted": restricted, "eigenvalues": eig, "min_eigenvalue": low,
            "error": float(error), "flat_size": flat_size, "verdict": verdict}


def unigram_features(params: dict) -> np.ndarray:
    """:math:`z^0_n`, the hidden states at ``E = 0`` (deterministic: the embeddings are the
    positional vectors), shape ``(N, d)``."""
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


def band_edge(params: dict, lam_high: float = 0.9, xtol: float = 1e-13) -> dict:
    """The measured band edge: the smallest :math:`\\lambda > 0` where the restricted minimum
    eigenvalue (``method="reduced"``, exact binary Hessian) changes sign, by Brent's method on
    ``(0, lam_high)``.

    Returns ``{"lambda_star", "min_eigenvalue_at_0", "error_at_0"}``; ``lambda_star`` is 0 when
    the eigenvalue at :math:`\\lambda = 0` is not above its error bar (no band) and ``None`` when
    it does not change sign on the interval.
    """
    from scipy.optimize import brentq

    def low(lam):
        return unigram_classification(2, (1.0 - lam) / 2.0, params=params,
                                      method="reduced")["min_eigenvalue"]

    at0 = unigram_classification(2, 0.5, params=params, method="reduced")
    out = {"min_eigenvalue_at_0": at0["min_eigenvalue"], "error_at_0": at0["error"]}
    if at0["verdict"] != "local minimum":
        return dict(out, lambda_star=0.0)
    if low(lam_high) > 0:
        return dict(out, lambda_star=None)
    return dict(out, lambda_star=float(brentq(low, 0.0, lam_high, xtol=xtol)))

"""Depth (Part 2 Sec. 1 of the specification, D1-D6): the unigram point of the L-layer model,
its Schur-complement criterion, the previous-token threshold, the two-layer global point, the
in-context counter and the per-layer attention scores.

Makkuva et al., P1 = arXiv 2402.04161 (depth "in the broader context of deeper architectures";
ICLR depth figure). The model is :mod:`validation.markov.models` with ``L`` layers.

**D1/D2 (derivation).** At :math:`e = 0` (untied also :math:`a = 0`) the hidden state
:math:`h^L_n = z_n` depends on ``n`` only, so with :math:`b = \\log(p/q)` every prediction is
:math:`\\pi_1`, the loss is :math:`H(\\pi)` and the gradient vanishes (the residual
:math:`\\sigma(b) - x_{n+1}` has mean zero and multiplies quantities that do not depend on the
sequence). With :math:`\\ell'' = \\pi_0\\pi_1`, :math:`\\partial_e \\mathrm{logit}_n = z_n`,
:math:`\\partial^2_e \\mathrm{logit}_n = J_n + J_n^\\top`, :math:`J_n = \\sum_{i \\le n} x_i
G_{n,i}`, :math:`G_{n,i} = \\partial h^L_n / \\partial h^0_i` and
:math:`\\mathbb{E}[(\\pi_1 - x_{n+1}) x_i] = -\\pi_0\\pi_1\\lambda^{n+1-i}`, the only non-zero
Hessian block is over :math:`(e, b)`; eliminating ``b`` (:math:`H_{bb} = \\pi_0\\pi_1`,
:math:`H_{eb} = \\pi_0\\pi_1 \\bar z`) leaves

.. math::
    S = \\pi_0\\pi_1\\Big[\\mathrm{Cov}_n(z_n) - 2\\,\\mathrm{sym}\\Big(\\frac1N \\sum_n
        \\sum_{i \\le n} \\lambda^{n+1-i} G_{n,i}\\Big)\\Big], \\qquad \\lambda = 1 - p - q,

a local minimum when :math:`S \\succ 0` (the other weights are exactly flat: the loss is
:math:`H(\\pi)` for all of them at :math:`e = 0`), a saddle when :math:`\\lambda_{\\min}(S) < 0`.
Untied, the ``(e, a)`` block after eliminating ``b`` is
:math:`\\pi_0\\pi_1 \\begin{pmatrix} 0 & -T^\\top \\\\ -T & \\mathrm{Cov}_n(z)\\end{pmatrix}`,
:math:`T = \\frac1N\\sum_n\\sum_{i\\le n}\\lambda^{n+1-i}G_{n,i}`: indefinite whenever
:math:`T \\ne 0` (F3). :func:`schur_criterion` evaluates these from the Jacobian of the layer
stack alone (no enumeration); :func:`schur_autograd` takes the Schur complement of the autograd
Hessian of the exact population loss, an independent route.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from numerics.markov.canonical import chain_summary, check_chain, stationary
from numerics.shared.seeding import as_generator
from numerics.shared.threads import limit_threads
from theory.errors import InputError
from theory.results import result
from validation.markov.models import (
    LAYER_WEIGHTS, LAYERS, MarkovTransformer, exact_loss, exact_loss_gradient_hessian,
    global_minimum_parameters, hidden_states, layer_key, parameter_shapes, stack_members,
    unigram_point)

#: An eigenvalue of S below minus this is a saddle; otherwise a local minimum.
SADDLE_TOL = 1e-12
#: Largest context of the exact-loss depth checks and of ``ttc markov hessian``.
MAX_EXACT_SEQ_LEN = 10


@result
class SchurCriterion:
    """The second-order verdict at the unigram point of the L-layer model (Part 2, D2).

    Attributes
    ----------
    matrix : ndarray, shape (d, d) tied, (2d, 2d) untied
        :math:`S` (tied; over ``e``) or the ``(e, a)`` block after eliminating ``b`` (untied),
        nats per unit squared.
    eigenvalues : ndarray
        Its eigenvalues, ascending.
    min_eigenvalue : float
        The smallest one.
    classification : str
        ``"local_min"`` (no eigenvalue below ``-SADDLE_TOL``) or ``"saddle"``.
    """

    matrix: np.ndarray
    eigenvalues: np.ndarray
    min_eigenvalue: float
    classification: str


@result
class UnigramHessian:
    """The ``ttc markov hessian`` values at the unigram point (Part 2, D1-D2).

    Attributes
    ----------
    schur_eigenvalues : list of float
        Eigenvalues of the Schur complement (:class:`SchurCriterion`), ascending.
    min_eigenvalue : float
    classification : str
        ``"local_min"`` or ``"saddle"``.
    grad_norm : float
        Euclidean norm of the exact gradient over every parameter (D1: zero).
    loss : float
        Exact population loss, nats (D1: :math:`H(\\pi)`).
    """

    schur_eigenvalues: list
    min_eigenvalue: float
    classification: str
    grad_norm: float
    loss: float


def _verdict(matrix: np.ndarray) -> SchurCriterion:
    matrix = 0.5 * (matrix + matrix.T)
    eig = np.linalg.eigvalsh(matrix)
    kind = "saddle" if eig[0] < -SADDLE_TOL else "local_min"
    return SchurCriterion(matrix, eig, float(eig[0]), kind)


def _single(params: dict) -> dict:
    if params["e"].shape[0] != 1:
        raise InputError("params", params["e"].shape[0], "a single-member model")
    return {k: v.detach() for k, v in params.items()}


def stack_jacobian(model: MarkovTransformer) -> tuple[np.ndarray, np.ndarray]:
    """:math:`z_n = h^L_n` and :math:`G_{n,i} = \\partial h^L_n / \\partial h^0_i` at
    :math:`h^0 = p` (the unigram point, :math:`e = 0`), by ``torch.func.jacrev`` through the
    layer stack. Returns ``z`` of shape ``(N, d)`` and ``G`` of shape ``(N, d, N, d)``
    (``G[n, :, i, :]``; zero for ``i > n`` by causality)."""
    params = _single(model.params())
    pos = params["pos"][0]

    def stack(h0):
        return hidden_states(params, h0[None, None], model.memory)[0, 0]

    z = stack(pos)
    jac = torch.func.jacrev(stack)(pos)
    return z.numpy(), jac.numpy()


def _lag_sum(jac: np.ndarray, lam: float) -> np.ndarray:
    """:math:`T = \\frac1N \\sum_n \\sum_{i \\le n} \\lambda^{n+1-i} G_{n,i}` (0-based n, i)."""
    n_len = jac.shape[0]
    total = np.zeros(jac.shape[1:2] * 2)
    for n in range(n_len):
        for i in range(n + 1):
            total += lam ** (n + 1 - i) * jac[n, :, i, :]
    return total / n_len


def schur_criterion(model: MarkovTransformer, p: float, q: float) -> SchurCriterion:
    """The D2 criterion at the unigram point from the Jacobian of the layer stack (formula in
    the module docstring; the embedding and read-out values of ``model`` are ignored: the point
    is :math:`e = 0`, untied :math:`a = 0`). Single-member model, any depth and window."""
    check_chain(p, q)
    pi0, pi1 = stationary(p, q)
    lam = 1.0 - p - q
    z, jac = stack_jacobian(model)
    centred = z - z.mean(axis=0)
    cov = centred.T @ centred / z.shape[0]
    lagged = _lag_sum(jac, lam)
    if model.tied:
        return _verdict(pi0 * pi1 * (cov - (lagged + lagged.T)))
    d = cov.shape[0]
    block = np.zeros((2 * d, 2 * d))
    block[:d, d:] = -lagged.T
    block[d:, :d] = -lagged
    block[d:, d:] = cov
    return _verdict(pi0 * pi1 * block)


def schur_autograd(model: MarkovTransformer, p: float, q: float) -> SchurCriterion:
    """The same Schur complement from the autograd Hessian of the exact population loss
    (enumeration, ``seq_len <= 12``) at the unigram point of ``model``: the Hessian over
    ``(e, b)`` (untied ``(e, a, b)``), then :math:`H_{xx} - H_{xb}H_{bx}/H_{bb}`."""
    at = MarkovTransformer(model.d, model.seq_len, model.tied,
                           unigram_point(model.params(), p, q, model.tied), memory=model.memory)
    wrt = ("e", "b") if model.tied else ("e", "a", "b")
    hess = exact_hessian(at, p, q, wrt)
    block = hess[:-1, :-1] - np.outer(hess[:-1, -1], hess[-1, :-1]) / hess[-1, -1]
    return _verdict(block)


def exact_hessian(model: MarkovTransformer, p: float, q: float, wrt: tuple) -> np.ndarray:
    """Autograd Hessian of the exact population loss over the flattened parameters ``wrt`` (the
    others fixed): reverse mode twice, one backward pass per row (cheaper than
    ``torch.func.hessian`` for the few coordinates of the unigram blocks)."""
    fixed = {name: value.detach() for name, value in _single(model.params()).items()}
    leaves = {name: fixed[name].clone().requires_grad_(True) for name in wrt}
    loss = exact_loss({**fixed, **leaves}, p, q, model.tied, model.memory)[0]
    grads = torch.autograd.grad(loss, [leaves[n] for n in wrt], create_graph=True)
    flat = torch.cat([g.reshape(-1) for g in grads])
    rows = [torch.cat([r.reshape(-1) for r in torch.autograd.grad(
        flat[k], [leaves[n] for n in wrt], retain_graph=True)]) for k in range(flat.numel())]
    return torch.stack(rows).numpy()


def random_model(d: int, seq_len: int, layers: int, sigma: float, seed, *, tied: bool = True,
                 memory: int | None = None) -> MarkovTransformer:
    """A one-member model whose every weight is N(0, sigma^2) (drawn from ``seed`` in
    :func:`~validation.markov.models.parameter_names` order); D3's "other weights N(0,
    sigma^2)". Use :func:`~validation.markov.models.unigram_point` for ``e = 0`` and ``b``."""
    LAYERS.check("layers", layers)
    rng = as_generator(seed)
    shapes = parameter_shapes(d, seq_len, tied, members=1, layers=layers)
    draw = {name: rng.normal(0.0, sigma, size=shape[1:]) for name, shape in shapes.items()}
    return MarkovTransformer(d, seq_len, tied, stack_members([draw]), memory=memory)


def unigram_model(p: float, q: float, d: int, seq_len: int, layers: int, sigma: float, seed, *,
                  tied: bool = True, memory: int | None = None) -> MarkovTransformer:
    """:func:`random_model` moved to the unigram point (``e = 0``, untied ``a = 0``,
    :math:`b = \\log(p/q)`): the D1 point with random other weights."""
    model = random_model(d, seq_len, layers, sigma, seed, tied=tied, memory=memory)
    return MarkovTransformer(d, seq_len, tied, unigram_point(model.params(), p, q, tied),
                             memory=memory)


def unigram_hessian(p: float, q: float, *, layers: int = 2, tied: bool = True, d: int = 4,
                    seq_len: int = 6, sigma: float | None = None, seed: int = 0,
                    memory: int | None = None) -> UnigramHessian:
    """The values of ``ttc markov hessian``: the D1 point of the ``layers``-layer model with
    other weights from the ``standard`` initialisation (``sigma`` None) or N(0, sigma^2), its
    exact loss and gradient norm (enumeration, ``seq_len <= 10``) and the D2 Schur criterion."""
    check_chain(p, q)
    if seq_len > MAX_EXACT_SEQ_LEN:
        raise InputError("seq_len", seq_len, f"at most {MAX_EXACT_SEQ_LEN} (exact enumeration)")
    with limit_threads(1):   # tiny tensors: one thread is fastest, and bit-reproducible
        return _unigram_hessian(p, q, layers, tied, d, seq_len, sigma, seed, memory)


def _unigram_hessian(p, q, layers, tied, d, seq_len, sigma, seed, memory) -> UnigramHessian:
    from validation.markov.models import build_model

    if sigma is None:
        base = build_model(d, seq_len, tied=tied, seeds=[seed], layers=layers, memory=memory)
        model = MarkovTransformer(d, seq_len, tied, unigram_point(base.params(), p, q, tied),
                                  memory=memory)
    else:
        model = unigram_model(p, q, d, seq_len, layers, sigma, seed, tied=tied, memory=memory)
    derivatives = exact_loss_gradient_hessian(model, p, q, hessian=False)
    verdict = schur_criterion(model, p, q)
    return UnigramHessian([float(v) for v in verdict.eigenvalues], verdict.min_eigenvalue,
                          verdict.classification, float(np.linalg.norm(derivatives.gradient)),
                          derivatives.loss)


# ----------------------------------------------------------------------------- D4

def previous_token_form(p: float, q: float, c: float, seq_len: int) -> float:
    """:math:`u^\\top S u` of the hard previous-token head (D4, derived):
    :math:`2\\pi_0\\pi_1[-\\lambda(1 + c/N) - \\lambda^2 c (N-1)/N]`."""
    check_chain(p, q)
    pi0, pi1 = stationary(p, q)
    lam, n = 1.0 - p - q, seq_len
    return 2 * pi0 * pi1 * (-lam * (1 + c / n) - lam**2 * c * (n - 1) / n)


def previous_token_threshold(p: float, q: float, seq_len: float) -> float:
    """:math:`c^* = -\\lambda N / (\\lambda + \\lambda^2 (N-1))`: the head's gain above which the
    unigram point is a saddle (D4; ``seq_len = inf`` gives :math:`-1/\\lambda`). A threshold
    exists when it is positive (:math:`\\lambda < 0` and :math:`\\lambda(N-1) < -1`); ``inf``
    (no gain makes a saddle in this direction) otherwise."""
    check_chain(p, q)
    lam = 1.0 - p - q
    if math.isinf(seq_len):
        return -1.0 / lam if lam < 0 else math.inf
    denominator = lam + lam**2 * (seq_len - 1)
    value = -lam * seq_len / denominator if denominator != 0 else math.inf
    return value if value > 0 else math.inf


def previous_token_model(c: float, d: int = 4, seq_len: int = 6, beta: float = 16.0,
                         tied: bool = True) -> MarkovTransformer:
    """A one-layer model with a (numerically) hard previous-token head (D4): positions
    :math:`p_n = \\cos(n\\theta) u_2 + \\sin(n\\theta) u_3`, :math:`\\theta = 2\\pi/(N+1)`;
    :math:`W_Q = \\beta P`, :math:`W_K = \\beta R P` (``P`` projects on :math:`u_2, u_3`, ``R``
    rotates that plane by :math:`\\theta`), so the score :math:`\\beta^2 \\cos((n-i-1)\\theta)
    /\\sqrt d` peaks at ``i = n-1`` (``n = 1``: itself); :math:`W_V = c\\,u u^\\top` with
    :math:`u = u_1 \\perp` the positions, :math:`W_O = I`, no MLP, ``e = 0``, ``b = 0``. The
    leak off ``n-1`` is about :math:`\\exp(-\\beta^2(1-\\cos\\theta)/\\sqrt d)`."""
    if d < 3:
        raise InputError("d", d, "at least 3 (u and the positional plane)")
    theta = 2 * math.pi / (seq_len + 1)
    n = np.arange(1, seq_len + 1)
    pos = np.zeros((seq_len, d))
    pos[:, 1], pos[:, 2] = np.cos(n * theta), np.sin(n * theta)
    proj = np.zeros((d, d))
    proj[1, 1] = proj[2, 2] = 1.0
    rot = np.eye(d)
    rot[1:3, 1:3] = [[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]]
    u = np.zeros(d)
    u[0] = 1.0
    weights = {"e": np.zeros(d), "pos": pos, "W_Q": beta * proj, "W_K": beta * rot @ proj,
               "W_V": c * np.outer(u, u), "W_O": np.eye(d), "W_1": np.zeros((4 * d, d)),
               "W_2": np.zeros((d, 4 * d)), "b": np.asarray(0.0)}
    if not tied:
        weights["a"] = np.zeros(d)
    return MarkovTransformer(d, seq_len, tied, stack_members([weights]))


# ----------------------------------------------------------------------------- D5

def two_layer_global_point(p: float, q: float, d: int = 4, seq_len: int = 6, *,
                           kernel_layer: int = 1, tied: bool = True, seed=0) -> MarkovTransformer:
    """The D5 point: F5's explicit global minimum
    (:func:`~validation.markov.models.global_minimum_parameters`) in layer ``kernel_layer`` (1 or
    2) and an identity layer (``W_O = W_2 = 0``, its other weights N(0, 0.02^2) from ``seed``)
    in the other: it predicts the kernel in every context, so its loss is :math:`H(P)` and its
    gradient vanishes."""
    if kernel_layer not in (1, 2):
        raise InputError("kernel_layer", kernel_layer, "1 or 2")
    point = {k: v[0].numpy() for k, v in global_minimum_parameters(
        p, q, d, seq_len, tied=tied, seed=seed).items()}
    rng = as_generator(seed + 1 if isinstance(seed, int) else seed)
    idle = {m: rng.normal(0.0, 0.02, size=point[m].shape) for m in LAYER_WEIGHTS}
    idle["W_O"] = np.zeros((d, d))
    idle["W_2"] = np.zeros((d, 4 * d))
    first, second = (point, idle) if kernel_layer == 1 else (idle, point)
    weights = {k: v for k, v in point.items() if k not in LAYER_WEIGHTS}
    for layer, source in ((1, first), (2, second)):
        weights.update({layer_key(m, layer): source[m] for m in LAYER_WEIGHTS})
    return MarkovTransformer(d, seq_len, tied, stack_members([weights]))


def counter_loss(p: float, q: float, seq_len: int) -> float:
    """Exact loss of the in-context counter (D5's induction route) over positions ``1..N``.

    At position ``n`` it predicts, from the transitions :math:`x_{i-1} \\to x_i` (``2 <= i <=
    n``) that leave the current symbol :math:`j = x_n`, the add-1/2 estimate
    :math:`\\hat P(1 \\mid j) = (k_{j1} + 1/2)/(k_j + 1)` (:math:`k_j` such transitions,
    :math:`k_{j1}` of them to 1). The loss
    :math:`\\frac1N\\sum_n \\mathbb{E}\\,\\mathrm{CE}(P(\\cdot\\mid x_n), \\hat P(\\cdot\\mid x_n))`
    is computed exactly by propagating the law of :math:`(x_n, k_0, k_{01}, k_{11})`
    (:math:`k_1 = n - 1 - k_0`) forward: O(N^4) work, ``seq_len <= 256``.
    """
    check_chain(p, q)
    if not isinstance(seq_len, int) or not 1 <= seq_len <= 256:
        raise InputError("seq_len", seq_len, "an integer in [1, 256] (O(N^4) recursion)")
    size = seq_len + 1
    pi = stationary(p, q)
    up = np.array([p, 1.0 - q])                    # P(next = 1 | current j)
    # law[j, k0, k01, k11]; k1 = n - 1 - k0
    law = np.zeros((2, size, size, size))
    law[0, 0, 0, 0], law[1, 0, 0, 0] = pi
    k = np.arange(size, dtype=float)
    total = 0.0
    for n in range(1, seq_len + 1):
        k1 = (n - 1) - k                           # departures from 1, by k0
        for j in (0, 1):
            # estimate from the departures of j: (k_j1 + 1/2)/(k_j + 1)
            if j == 0:
                est = (k[None, :] + 0.5) / (k[:, None] + 1.0)           # [k0, k01]
                est = np.broadcast_to(est[:, :, None], (size,) * 3)
            else:
                est = (k[None, None, :] + 0.5) / (np.maximum(k1, 0)[:, None, None] + 1.0)
                est = np.broadcast_to(est, (size,) * 3)
            est = np.clip(est, 1e-300, 1 - 1e-16)
            ce = -(up[j] * np.log(est) + (1 - up[j]) * np.log1p(-est))
            weight = law[j]
            total += float((weight * np.where(weight > 0, ce, 0.0)).sum())
        new = np.zeros_like(law)
        # from 0: to 1 with p (k0+1, k01+1), to 0 with 1-p (k0+1)
        new[1, 1:, 1:, :] += p * law[0, :-1, :-1, :]
        new[0, 1:, :, :] += (1 - p) * law[0, :-1, :, :]
        # from 1: to 1 with 1-q (k11+1), to 0 with q (k0 unchanged, k1 grows implicitly)
        new[1, :, :, 1:] += (1 - q) * law[1, :, :, :-1]
        new[0] += q * law[1]
        law = new
    return total / seq_len


def counter_loss_monte_carlo(p: float, q: float, seq_len: int, sequences: int, seed) -> tuple:
    """Monte Carlo estimate of :func:`counter_loss` (sampled chains, the counter run along each,
    cross-entropy against the true next-symbol law): ``(mean, standard error)``."""
    from numerics.markov.sequences import sample_chain

    x = sample_chain(p, q, sequences, seq_len, seed)
    counts = np.zeros((sequences, 2, 2))           # counts[s, j, next]
    up = np.array([p, 1.0 - q])
    losses = np.zeros(sequences)
    rows = np.arange(sequences)
    for n in range(seq_len):
        if n >= 1:
            counts[rows, x[:, n - 1], x[:, n]] += 1
        j = x[:, n]
        est = (counts[rows, j, 1] + 0.5) / (counts[rows, j].sum(axis=1) + 1.0)
        target = up[j]
        losses += -(target * np.log(est) + (1 - target) * np.log1p(-est))
    losses /= seq_len
    return float(losses.mean()), float(losses.std(ddof=1) / math.sqrt(sequences))


def levels(p: float, q: float) -> tuple[float, float]:
    """:math:`(H(P), H(\\pi))` in nats."""
    summary = chain_summary(p, q)
    return summary.entropy_rate, summary.unigram_entropy


# ----------------------------------------------------------------------------- D6 scores

def layer_scores(att: torch.Tensor, x: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Previous-token and induction scores of one layer's attention (D6, per member).

    .. math::
        \\mathrm{PT} = \\operatorname{mean}_{n \\ge 2} \\mathrm{att}_{n,n-1}, \\qquad
        \\mathrm{IND} = \\operatorname{mean}_{n \\ge 3}\\Big[\\sum_{i \\in A(n),\\, i \\ge 2,\\,
        x_{i-1} = x_n} \\mathrm{att}_{n,i} - \\frac{\\#\\{\\text{those } i\\}}{|A(n)|}\\Big]

    (IND is 0 for uniform attention), means over positions and sequences.

    Parameters
    ----------
    att : tensor, shape ``(M, B, N, N)``
        Attention of one layer (rows sum to one over :math:`A(n)`).
    x : tensor, shape ``(M, B, N)``
        The input symbols.

    Returns
    -------
    (ndarray, ndarray), each of shape ``(M,)``
    """
    n_len = att.shape[-1]
    if n_len < 3:
        zeros = np.zeros(att.shape[0])
        return zeros, zeros
    prev = torch.diagonal(att, offset=-1, dim1=-2, dim2=-1).mean(dim=(1, 2))
    allowed = att > 0   # A(n): softmax over -inf masks gives exact zeros outside
    # match[.., n, i] = [x_{i-1} == x_n] for i >= 2 (0-based i >= 1)
    match = torch.zeros_like(att, dtype=torch.bool)
    match[..., 1:] = x[..., :, None] == x[..., None, :-1]
    match &= allowed
    share = match.sum(-1) / allowed.sum(-1)
    excess = (att * match).sum(-1) - share
    return prev.numpy(), excess[..., 2:].mean(dim=(1, 2)).numpy()


def rank_one_energy(matrix: np.ndarray) -> float:
    """:math:`\\rho = s_1^2 / \\sum_i s_i^2` (singular values; 1 for a rank-one matrix, 0 for
    the zero matrix)."""
    s = np.linalg.svd(np.asarray(matrix, dtype=float), compute_uv=False)
    total = float(np.sum(s**2))
    return float(s[0] ** 2 / total) if total > 0 else 0.0


# ----------------------------------------------------------------------------- D6 measurement

#: D6 training settings of the authors' code (Part 2 Sec. 1): AdamW, OneCycle cosine, 2% warm-up.
D6_TRAINING = {"optimizer": "adamw", "lr": 2e-3, "betas": (0.9, 0.95), "weight_decay": 1e-3,
               "schedule": "onecycle", "warmup": 0.02}


@result
class DepthCase:
    """Where the seeds of one (depth, tying) configuration ended (D6).

    Attributes
    ----------
    layers : int
    tied : bool
    share : dict
        ``{"global": .., "local": .., "neither": ..}``: fractions of seeds
        (:func:`validation.markov.training.classify_run`).
    final_losses : list of float
        Per seed, nats (held-out estimate).
    prev_token_score, induction_score : list of float
        Per layer, mean over seeds (:func:`layer_scores`).
    steps : list of int
        Recorded steps of the loss curves.
    mean_curve : list of float
        The seeds' mean loss estimate at those steps.
    runs : list
        The :class:`~validation.markov.training.EnsembleRun` of every seed.
    """

    layers: int
    tied: bool
    share: dict
    final_losses: list
    prev_token_score: list
    induction_score: list
    steps: list
    mean_curve: list
    runs: list


def depth_case(p: float, q: float, layers: int, tied: bool, seeds, steps: int, *, d: int = 8,
               seq_len: int = 64, batch: int = 16, held_out: int = 512,
               record_every: int = 20) -> DepthCase:
    """Train the seeds of one D6 configuration with :data:`D6_TRAINING` (one vectorised batch per
    16 seeds, :func:`validation.markov.training.train_ensemble`) and summarise where they
    ended."""
    from validation.markov.training import train_ensemble

    runs = train_ensemble(p, q, tying=tied, seeds=seeds, steps=steps, d=d, seq_len=seq_len,
                          batch=batch, layers=layers, held_out=held_out,
                          record_every=record_every, **D6_TRAINING)
    ends = [r.converged_to for r in runs]
    curves = np.array([r.run.loss_curve.losses for r in runs])
    return DepthCase(
        layers=layers, tied=tied,
        share={k: ends.count(k) / len(ends) for k in ("global", "local", "neither")},
        final_losses=[r.run.final_loss for r in runs],
        prev_token_score=np.mean([r.prev_token_score for r in runs], axis=0).tolist(),
        induction_score=np.mean([r.induction_score for r in runs], axis=0).tolist(),
        steps=list(runs[0].run.loss_curve.steps), mean_curve=curves.mean(axis=0).tolist(),
        runs=runs)

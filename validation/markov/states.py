"""The tied single-layer transformer on the symmetric S-state chain, and its unigram point.

The model of :mod:`validation.markov.models` (P1 = Makkuva et al., arXiv 2402.04161, Sec. 2)
with ``S`` tokens (the S-state chain is the library's reconstruction, an extension of P1).
Width ``d``, context ``N = seq_len``, tokens :math:`x_n \\in \\{0, \\dots, S-1\\}`, embedding matrix :math:`E \\in \\mathbb{R}^{S\\times d}` (row
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
:mod:`validation.markov.models` is the restriction ``E_0 = 0`` (``e = E_1``, ``b = b_1 - b_0``)
at ``p = q``.

Chain: :math:`P_{ii} = 1-p`, :math:`P_{ij} = p/(S-1)`, uniform stationary law, second eigenvalue
:math:`\\lambda = 1 - pS/(S-1)`; the exact population loss enumerates all :math:`S^{N+1}` sequences
from the stationary start (at most :data:`numerics.markov.sequences.MAX_STATE_SEQUENCES`;
:func:`numerics.markov.sequences.enumerate_state_sequences`).

The unigram point's Hessian and its classification: :mod:`validation.markov.unigram`.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from numerics.markov.sequences import (  # noqa: F401  (torch-free; re-exported)
    check_states, enumerate_state_sequences, second_eigenvalue, threshold)
from numerics.shared.seeding import as_generator
from theory.errors import InputError, check_choice, check_finite, check_int
from validation.markov import models
from validation.markov.models import DTYPE, MATRICES, LossDerivatives, causal_mask


def parameter_names() -> tuple[str, ...]:
    """Parameter names in flattening order."""
    return ("E", "pos") + MATRICES + ("W_1", "W_2", "b")


def parameter_shapes(S: int, d: int, seq_len: int) -> dict:
    """Shapes of every parameter (no member axis)."""
    shapes = {"E": (S, d), "pos": (seq_len, d), **{m: (d, d) for m in MATRICES},
              "W_1": (4 * d, d), "W_2": (d, 4 * d), "b": (S,)}
    return {name: shapes[name] for name in parameter_names()}


# ----------------------------------------------------------------------------- model

def initial_parameters(S: int, d: int, seq_len: int, seed: int = 0, pos_scale: float = 1.0) -> dict:
    """The ``standard`` initialisation: every weight N(0, 0.02^2), ``b = 0`` (float64 tensors).

    The weights shared with the binary model (``pos``, ``W_*``) are those of
    :func:`validation.markov.models.initial_parameters` with the same ``seed`` (so the S = 2
    cross-check uses identical weights); ``E`` is drawn from ``seed + 1`` (an independent stream).
    ``pos_scale`` multiplies the positional vectors (std ``0.02 * pos_scale``).
    """
    check_int("S", S, 2)
    check_finite("pos_scale", pos_scale)
    shared = models.initial_parameters(d, seq_len, True, "standard", seed)
    out = {name: torch.tensor(shared[name], dtype=DTYPE) for name in ("pos",) + MATRICES
           + ("W_1", "W_2")}
    out["pos"] = out["pos"] * pos_scale
    rng = as_generator(seed + 1)
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
    att = torch.softmax(emb @ bilinear @ emb.transpose(1, 2) + causal_mask(n, E.dtype), dim=-1)
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
    enumerated = enumerate_state_sequences(S, p, seq_len)    # also the size check
    if order == "sequence":
        x = torch.from_numpy(np.array(enumerated.sequences))
        lg = logits(params, x[:, :-1])
        target = torch.gather(lg, 2, x[:, 1:, None])[..., 0]
        per_sequence = (torch.logsumexp(lg, dim=-1) - target).mean(dim=-1)
        return per_sequence @ torch.tensor(enumerated.probabilities, dtype=DTYPE)
    total = torch.zeros((), dtype=DTYPE)
    for n in range(1, seq_len + 1):
        prefixes = enumerate_state_sequences(S, p, n)
        x = torch.from_numpy(np.array(prefixes.sequences))
        lg = _last_position_logits(params, x[:, :-1])
        loss = torch.logsumexp(lg, dim=-1) - torch.gather(lg, 1, x[:, -1:])[:, 0]
        total = total + loss @ torch.tensor(prefixes.probabilities, dtype=DTYPE)
    return total / seq_len


def loss_gradient_hessian(params: dict, S: int, p: float, wrt=None, hessian: bool = True,
                          order: str = "prefix") -> LossDerivatives:
    """Exact loss, gradient and autograd Hessian (``torch.func.hessian``, float64) over the flat
    vector of the parameters ``wrt`` (default all, in :func:`parameter_names` order; each
    flattened row-major, so ``E[s, j]`` is entry ``s*d + j`` of its slice); others fixed.

    ``order`` is that of :func:`exact_loss`. Returns the loss (float, nats), gradient ``(P,)``
    and Hessian ``(P, P)`` (None when not requested) as numpy arrays.
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
    return LossDerivatives(float(loss.detach()), grad.numpy(), hess)


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

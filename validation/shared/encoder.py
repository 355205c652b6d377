"""The one transformer encoder layer of the library's torch models: multi-head softmax
self-attention and an MLP on a residual stream, post- or pre-norm, no dropout.

Used by the Potts paper's standard encoders (:class:`validation.potts.models.StandardEncoder`)
and the LSA paper's softmax transformer (:class:`validation.lsa.softmax.SoftmaxTransformer`).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from theory.errors import InputError, check_choice

__all__ = ["EncoderLayer", "ACTIVATIONS"]

#: The MLP's nonlinearities.
ACTIVATIONS = {"relu": torch.relu, "gelu": nn.functional.gelu}


class EncoderLayer(nn.Module):
    """One transformer encoder layer (Vaswani et al. 2017): multi-head softmax self-attention and an
    MLP, each added to the residual stream and layer-normalised (post-norm, as
    ``torch.nn.TransformerEncoderLayer`` by default; ``norm_first=True``: pre-norm), no dropout.

    .. math:: y = \\mathrm{LN}_1(x + \\mathrm{MHA}(x)),\\qquad
              \\mathrm{out} = \\mathrm{LN}_2(y + W_2\\,\\sigma(W_1 y + b_1) + b_2)

    (pre-norm: :math:`y = x + \\mathrm{MHA}(\\mathrm{LN}_1 x)`, :math:`\\mathrm{out} = y +
    W_2\\,\\sigma(W_1 \\mathrm{LN}_2 y + b_1) + b_2`), :math:`\\sigma` = ``activation`` ("relu" or
    "gelu"), ``d_model`` the width, ``nhead`` heads, ``d_ff`` the MLP's hidden width.

    ``forward(x, sites=None, weights=False)``: ``x`` (n, L, d) -> (n, L, d); with ``sites`` (n,)
    only the rows' outputs at those positions, (n, d), are computed (queries and MLP at one
    position, keys and values at all): the same numbers as ``forward(x)[arange(n), sites]`` at a
    fraction of the cost, used for the last layer of a single-mask MLM model. ``weights=True``
    also returns the attention weights (n, nhead, L or 1, L), each row summing to 1."""

    def __init__(self, d_model: int, nhead: int, d_ff: int, norm_first: bool = False,
                 activation: str = "relu"):
        super().__init__()
        if d_model % nhead:
            raise InputError("nhead", nhead, f"a divisor of d_model = {d_model}")
        check_choice("activation", activation, tuple(ACTIVATIONS))
        self.nhead, self.norm_first, self.activation = nhead, norm_first, ACTIVATIONS[activation]
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)
        self.ff1, self.ff2 = nn.Linear(d_model, d_ff), nn.Linear(d_ff, d_model)
        self.norm1, self.norm2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)

    def _attend(self, x: torch.Tensor, sites: torch.Tensor | None):
        n, L, d = x.shape
        h = self.nhead
        q, k, v = self.qkv(x).view(n, L, 3, h, d // h).permute(2, 0, 3, 1, 4)  # (n, h, L, d/h)
        if sites is not None:
            q = q[torch.arange(n), :, sites].unsqueeze(2)  # (n, h, 1, d/h)
        weights = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d // h), dim=-1)
        out = (weights @ v).transpose(1, 2).reshape(n, -1, d)
        return self.proj(out if sites is None else out[:, 0]), weights

    def _mlp(self, x: torch.Tensor) -> torch.Tensor:
        return self.ff2(self.activation(self.ff1(x)))

    def forward(self, x: torch.Tensor, sites: torch.Tensor | None = None, weights: bool = False):
        here = x if sites is None else x[torch.arange(len(x)), sites]
        if self.norm_first:
            mixed, att = self._attend(self.norm1(x), sites)
            y = here + mixed
            out = y + self._mlp(self.norm2(y))
        else:
            mixed, att = self._attend(x, sites)
            y = self.norm1(here + mixed)
            out = self.norm2(y + self._mlp(y))
        return (out, att) if weights else out

"""Torch models for the Potts paper: factored self-attention and standard transformer encoders,
and their single-mask MLM losses (training: :mod:`validation.potts.training`).

Source: Rende, Gerace, Laio, Goldt, arXiv 2304.07235: factored attention (Sec. II) and the
off-the-shelf encoders it is compared with (Fig. 2).

Factored attention (Rende et al. 2024, Sec. II):

.. math:: z_i(a) = \\sum_h \\sum_{j\\ne i} A^{(h)}_{ij} V^{(h)}_{a s_j} + b_i(a),

``attention``: ``"free"`` (A a free L x L matrix), ``"softmax"`` (row softmax over j != i of
position queries and keys, :math:`A_{ij} = \\mathrm{softmax}_{j\\ne i}(q_i\\cdot k_j/\\sqrt d)`),
``"sink"`` (softmax over all j, then the self weight dropped). ``embed`` = k uses
:math:`V^{(h)} = W_O^{(h)} W_V^{(h)} E` (rank <= k) instead of a free C x C value matrix.
Everything is float64.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from numerics.potts import represent
from theory.errors import check_choice, check_int
from validation.shared.encoder import EncoderLayer
from validation.shared.seeding import torch_generator

torch.set_default_dtype(torch.float64)


class FactoredAttention(nn.Module):
    """One layer of factored self-attention (Rende et al. 2024, Sec. II). ``forward(S)`` maps colours
    ``S`` (n, L) long to logits (n, L, C); site i never reads s_i, so all sites are scored in one
    pass. ``attention`` in :data:`numerics.potts.represent.ATTENTIONS`; parameters drawn from
    :math:`N(0, \\mathrm{init\\_scale}^2)` (queries, keys, embeddings: N(0, 1)) with ``seed``."""

    def __init__(self, L: int, C: int, attention: str = "free", heads: int = 1,
                 embed: int | None = None, qk_dim: int | None = None, init_scale: float = 0.1,
                 seed: int = 0):
        super().__init__()
        check_int("L", L, 2)
        check_int("C", C, 2)
        check_choice("attention", attention, represent.ATTENTIONS)
        check_int("heads", heads, 1)
        if embed is not None:
            check_int("embed", embed, 1)
        self.L, self.C, self.attention, self.heads, self.embed = L, C, attention, heads, embed
        g = torch_generator(seed)

        def param(*shape, scale=init_scale):
            return nn.Parameter(scale * torch.randn(*shape, generator=g))

        if attention == "free":
            self.A_raw = param(heads, L, L)
        else:
            d = qk_dim or L
            self.Q, self.K = param(heads, L, d, scale=1.0), param(heads, L, d, scale=1.0)
        if embed is None:
            self.V_raw = param(heads, C, C)
        else:
            self.E = param(embed, C, scale=1.0)
            self.W_V, self.W_O = param(heads, embed, embed, scale=1.0), param(heads, C, embed, scale=1.0)
        self.b = nn.Parameter(torch.zeros(L, C))
        self.register_buffer("offdiag", 1.0 - torch.eye(L))

    def attention_matrix(self) -> torch.Tensor:
        """(heads, L, L) attention with zero diagonal."""
        if self.attention == "free":
            return self.A_raw * self.offdiag
        scores = self.Q @ self.K.transpose(1, 2) / math.sqrt(self.Q.shape[-1])
        if self.attention == "softmax":
            scores = scores.masked_fill(self.offdiag == 0, float("-inf"))
            return torch.softmax(scores, dim=-1)
        return torch.softmax(scores, dim=-1) * self.offdiag  # sink: self weight dropped

    def value_matrix(self) -> torch.Tensor:
        """(heads, C, C) effective value matrices."""
        if self.embed is None:
            return self.V_raw
        return self.W_O @ self.W_V @ self.E

    def forward(self, S: torch.Tensor) -> torch.Tensor:
        A, V = self.attention_matrix(), self.value_matrix()
        Y = V.transpose(1, 2)[:, S]  # (h, n, L, C): Y[h, n, j, a] = V[h, a, s_j]
        return torch.einsum("hij,hnja->nia", A, Y) + self.b

    def couplings(self) -> np.ndarray:
        """:math:`\\sum_h A^{(h)}_{ij} V^{(h)}_{ab}` as (L, C, L, C) numpy."""
        with torch.no_grad():
            return torch.einsum("hij,hab->iajb", self.attention_matrix(), self.value_matrix()).numpy()


def mlm_loss_all_sites(model: nn.Module, S: torch.Tensor, weights: torch.Tensor | None = None):
    """Single-mask MLM loss of a model that never reads the scored site (factored attention):
    mean over sites of :math:`-\\log p(s_i\\mid s_{-i})`, averaged over rows (or with ``weights``)."""
    logp = torch.log_softmax(model(S), dim=-1)
    per_row = -logp.gather(-1, S.unsqueeze(-1)).squeeze(-1).mean(1)
    return per_row.mean() if weights is None else (weights * per_row).sum()


class StandardEncoder(nn.Module):
    """An off-the-shelf transformer encoder for single-mask MLM (Rende et al. 2024, Fig. 2; spec
    Sec. 4 and 9): token embedding (C colours + a mask token), learned positional embedding,
    ``layers`` encoder layers (:class:`EncoderLayer`: softmax attention with ``nhead`` heads, MLP
    of width ``d_ff``, post-norm unless ``norm_first``, no dropout), a linear read-out to C
    logits. ``dtype``: float64 (the project default) or float32 (spec Sec. 9's encoders).
    Initialised from ``seed`` (a private generator: the global torch RNG is left alone)."""

    def __init__(self, L: int, C: int, layers: int = 1, d_model: int = 32, nhead: int = 2,
                 d_ff: int = 64, seed: int = 0, dtype: torch.dtype = torch.float64,
                 norm_first: bool = False):
        super().__init__()
        check_int("L", L, 2)
        check_int("C", C, 2)
        check_int("layers", layers, 1, 3)
        check_int("d_model", d_model, 1)
        check_int("nhead", nhead, 1)
        check_int("d_ff", d_ff, 1)
        check_choice("dtype", dtype, (torch.float32, torch.float64))
        self.L, self.C, self.mask_id = L, C, C
        self.tok = nn.Embedding(C + 1, d_model)
        self.pos = nn.Parameter(torch.zeros(L, d_model))
        self.layers = nn.ModuleList(EncoderLayer(d_model, nhead, d_ff, norm_first) for _ in range(layers))
        self.final_norm = nn.LayerNorm(d_model) if norm_first else nn.Identity()
        self.out = nn.Linear(d_model, C)
        self._initialise(torch_generator(seed))
        self.to(dtype)

    @torch.no_grad()
    def _initialise(self, g: torch.Generator) -> None:
        """Embeddings N(0, 1) (positions N(0, 0.1^2)), linear maps uniform in +-1/sqrt(fan_in)
        (torch's default scale), biases zero, layer norms the identity."""
        self.tok.weight.normal_(0.0, 1.0, generator=g)
        self.pos.normal_(0.0, 0.1, generator=g)
        for module in self.modules():
            if isinstance(module, nn.Linear):
                bound = 1.0 / math.sqrt(module.in_features)
                module.weight.uniform_(-bound, bound, generator=g)
                module.bias.zero_()

    def _embed(self, S: torch.Tensor) -> torch.Tensor:
        return self.tok(S) + self.pos

    def forward(self, S: torch.Tensor) -> torch.Tensor:
        """Logits (n, L, C) at every position of colour (or mask) sequences ``S`` (n, L) long."""
        x = self._embed(S)
        for layer in self.layers:
            x = layer(x)
        return self.out(self.final_norm(x))

    def site_logits(self, S: torch.Tensor, sites: torch.Tensor) -> torch.Tensor:
        """Logits (n, C) at position ``sites[n]`` of row n only (the last layer computed there
        only): equal to ``forward(S)[arange(n), sites]``."""
        x = self._embed(S)
        for layer in self.layers[:-1]:
            x = layer(x)
        return self.out(self.final_norm(self.layers[-1](x, sites)))


def masked_pair_losses(model: StandardEncoder, S: torch.Tensor, sites: torch.Tensor) -> torch.Tensor:
    """:math:`-\\log p(s_i\\mid s_{-i})` per row (n,), site ``sites[n]`` of row n replaced by the
    mask token (float64 on return whatever the model's dtype)."""
    rows = torch.arange(len(S))
    masked = S.clone()
    masked[rows, sites] = model.mask_id
    logits = model.site_logits(masked, sites)
    return F.cross_entropy(logits, S[rows, sites], reduction="none").to(torch.float64)


def masked_loss(model: StandardEncoder, S: torch.Tensor, sites: torch.Tensor) -> torch.Tensor:
    """:math:`-\\log p(s_i\\mid s_{-i})` with site ``sites[n]`` of row n replaced by the mask token,
    averaged over rows (in the model's dtype)."""
    rows = torch.arange(len(S))
    masked = S.clone()
    masked[rows, sites] = model.mask_id
    return F.cross_entropy(model.site_logits(masked, sites), S[rows, sites])


@torch.no_grad()
def encoder_test_loss(model: StandardEncoder, S: torch.Tensor, sites: torch.Tensor | None = None,
                      batch: int = 4096) -> float:
    """Single-mask MLM test loss. With ``sites`` (one masked site per row) a single pass, an unbiased
    estimate of the all-sites average when the sites are uniform; without, every row and every site
    (L masked passes)."""
    total, count = 0.0, 0
    for start in range(0, len(S), batch):
        Sb = S[start:start + batch]
        site_sets = ([sites[start:start + batch]] if sites is not None
                     else [torch.full((len(Sb),), i) for i in range(model.L)])
        for sb in site_sets:
            total += float(masked_loss(model, Sb, sb)) * len(Sb)
            count += len(Sb)
    return total / count

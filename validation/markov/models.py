"""The full single-layer transformer of P1 in torch: initialisations, exact loss, special points.

Makkuva et al., P1 = arXiv 2402.04161, Sec. 2: parameters, initialisations, the exact population
loss with its derivatives, and the special points of claims F1-F5.

Model (width ``d``, context ``N = seq_len``, inputs :math:`x_n \\in \\{0, 1\\}`):

.. math::
    \\mathbf{x}_n &= x_n e + p_n, \\\\
    y_n &= \\mathbf{x}_n + W_O \\sum_{i \\le n} \\mathrm{att}_{n,i} W_V \\mathbf{x}_i, \\quad
    \\mathrm{att}_{n,\\cdot} = \\mathrm{softmax}_{i \\le n}
        \\big(\\langle W_Q \\mathbf{x}_n, W_K \\mathbf{x}_i\\rangle / \\sqrt{d}\\big), \\\\
    z_n &= y_n + W_2\\, \\mathrm{ReLU}(W_1 y_n), \\qquad
    \\mathrm{logit}_n = \\langle a, z_n\\rangle + b, \\\\
    L(\\theta) &= -\\frac1N \\sum_{n=1}^N \\mathbb{E}\\big[x_{n+1}\\log f_n + (1-x_{n+1})\\log(1-f_n)\\big],
    \\quad f_n = \\sigma(\\mathrm{logit}_n).

No layer norm, biases or dropout; weight tying means :math:`a = e` (one parameter). Parameter
names and shapes (``M`` independent copies, the *members*, are stacked on a leading axis so that
many seeds train in one vectorised pass; Adam is per-coordinate, so members do not interact):

======== ============== =========================
name     shape          symbol
======== ============== =========================
``e``    ``(M, d)``     embedding :math:`e`
``pos``  ``(M, N, d)``  positional :math:`p_n`
``W_Q``  ``(M, d, d)``  query (also K, V, O)
``W_1``  ``(M, 4d, d)`` MLP in
``W_2``  ``(M, d, 4d)`` MLP out
``a``    ``(M, d)``     readout (untied only)
``b``    ``(M,)``       logit bias
======== ============== =========================

The exact population loss enumerates all :math:`2^{N+1}` sequences (``N <= 12``) with
:func:`numerics.markov.sequences.enumerate_sequences`, so gradients and autograd Hessians are exact.
Training and evaluation are in :mod:`validation.markov.training`.

**Depth and memory** (Part 2 Sec. 1 of the specification; ``L = 1`` is the model above, bit for
bit). With ``L`` layers, :math:`h^0_n = x_n e + p_n` and each layer ``l = 1..L`` applies

.. math::
    u_n = h_n + W_O^{(l)} \\sum_{i \\in A(n)} \\mathrm{att}_{n,i} W_V^{(l)} h_i, \\qquad
    h_n \\leftarrow u_n + W_2^{(l)} \\mathrm{ReLU}(W_1^{(l)} u_n),

then :math:`\\mathrm{logit}_n = \\langle a, h^L_n \\rangle + b` (tied: ``a = e``). One head per
layer, no layer norm, no biases. The attention set is :math:`A(n) = \\{1..n\\}` (causal,
``memory=None``) or :math:`A(n) = \\{\\max(1, n-W)..n\\}` with ``memory = W >= 1`` (``W + 1``
positions at most).

Interface (stable; other modules build on it):

- ``MarkovTransformer(d, seq_len, tied, params, memory=None)``: ``params`` is a dict of float64
  tensors with a leading member axis; the number of layers is read from its keys. Layer 1 uses
  the names of the table above (``W_Q, W_K, W_V, W_O, W_1, W_2``); layer ``l >= 2`` uses
  ``"W_Q[l]"`` etc. (:func:`layer_key`). Untied models have the read-out ``a``; tied ones not.
- :func:`from_weights` builds a one-member model from a dict of float64 tensors *without* the
  member axis (d, N and L are read from the shapes and keys), e.g.
  ``from_weights({"e": e, "pos": pos, ..., "b": torch.tensor(0.)}, tied=True, memory=2)``.
- :func:`build_model` ``(d, seq_len, tied=, init=, seeds=, layers=1, memory=None)`` draws one
  member per seed; :func:`parameter_shapes` / :func:`parameter_names` take ``layers``.
- :func:`logits` / :func:`exact_loss` / :func:`hidden_states` / :func:`attention_maps` take the
  parameter dict, ``tied`` and ``memory``.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F

from numerics.markov.canonical import check_chain, global_curve_constant
from numerics.markov.sequences import EnumeratedSequences, enumerate_sequences
from numerics.shared.seeding import as_generator
from theory.errors import InputError, check_choice
from validation.markov.domains import LAYERS, MEMORY, SEQ_LEN, WIDTH
from theory.results import result

DTYPE = torch.float64
INITS = ("standard", "good", "lowrank")
MATRICES = ("W_Q", "W_K", "W_V", "W_O")
#: Standard deviation of the ``standard`` initialisation (P1: GPT-2 style N(0, 0.02^2)).
STANDARD_STD = 0.02
#: ``good`` initialisation: W_1 ~ N(0, GOOD_W1_STD^2 / d), W_2 = -GOOD_GAIN W_1^T (P2, Sec. 4).
GOOD_W1_STD = 1.0
GOOD_GAIN = 2.0


@result
class LossDerivatives:
    """The exact population loss with its gradient and Hessian over a flat parameter vector
    (P1, Sec. 2: :math:`L(\\theta)` by enumeration of every sequence).

    Attributes
    ----------
    loss : float
        :math:`L(\\theta)`, nats.
    gradient : ndarray, shape (P,)
        :math:`\\nabla L` over the ``P`` flattened coordinates (nats per unit).
    hessian : ndarray, shape (P, P), or None
        :math:`\\nabla^2 L` (autograd, float64); None when not requested.
    """

    loss: float
    gradient: np.ndarray
    hessian: np.ndarray | None


#: The weights of one layer (attention, then MLP).
LAYER_WEIGHTS = MATRICES + ("W_1", "W_2")


def layer_key(name: str, layer: int) -> str:
    """Key of weight ``name`` (one of :data:`LAYER_WEIGHTS`) of layer ``layer`` (1-based):
    ``name`` itself for layer 1 (the single-layer names), ``"name[l]"`` for ``l >= 2``."""
    return name if layer == 1 else f"{name}[{layer}]"


def count_layers(params) -> int:
    """Number of layers ``L`` of a parameter dict (or of its keys)."""
    layers = 1
    while layer_key("W_Q", layers + 1) in params:
        layers += 1
    return layers


def parameter_names(tied: bool, layers: int = 1) -> tuple[str, ...]:
    """Parameter names in flattening order (``a`` is absent when tied): ``e, pos``, the weights
    of layer 1, ..., of layer ``L`` (:func:`layer_key`), then ``a`` (untied) and ``b``."""
    LAYERS.check("layers", layers)
    names = ("e", "pos") + tuple(layer_key(m, layer) for layer in range(1, layers + 1)
                                 for m in LAYER_WEIGHTS)
    return names + (("b",) if tied else ("a", "b"))


def parameter_shapes(d: int, seq_len: int, tied: bool, members: int = 1,
                     layers: int = 1) -> dict:
    """Shapes of every parameter, leading member axis included."""
    per_layer = {**{m: (d, d) for m in MATRICES}, "W_1": (4 * d, d), "W_2": (d, 4 * d)}
    shapes = {"e": (d,), "pos": (seq_len, d), "a": (d,), "b": ()}
    for layer in range(1, layers + 1):
        shapes.update({layer_key(m, layer): s for m, s in per_layer.items()})
    return {name: (members,) + shapes[name] for name in parameter_names(tied, layers)}


def embed(params: dict, x: torch.Tensor) -> torch.Tensor:
    """:math:`h^0_n = x_n e + p_n`, shape ``(M, B, N, d)`` for ``x`` of shape ``(M, B, N)`` or
    ``(B, N)`` (a 2-d input is shared by the members)."""
    e, pos = params["e"], params["pos"]
    if x.dim() == 2:
        x = x.unsqueeze(0).expand(e.shape[0], -1, -1)
    x = x.to(e.dtype)
    return x[..., None] * e[:, None, None, :] + pos[:, None, :x.shape[-1], :]


def _layer(params: dict, layer: int, h: torch.Tensor, mask: torch.Tensor,
           keep_attention=None):
    """One layer (attention then MLP) on ``h`` of shape ``(M, B, N, d)``; returns the flattened
    ``(M, B*N, d)`` output (the single-layer operations of P1, in the same order). ``mask``:
    the additive ``(N, N)`` mask of :math:`A(n)` (0 inside, -inf outside,
    :func:`attention_mask`)."""
    w = {m: params[layer_key(m, layer)] for m in LAYER_WEIGHTS}
    members, batch, n, d = h.shape
    # <W_Q h_n, W_K h_i>/sqrt(d) = h_n^T A h_i with A = W_Q^T W_K / sqrt(d); the mask enters
    # the product as its additive term (baddbmm: 0 + s inside A(n), -inf outside), so neither
    # pass spends a separate N x N masking pass (the product may round differently from a
    # plain bmm: final losses of a 30-step run moved by 1e-16; members stay independent)
    bilinear = w["W_Q"].transpose(1, 2) @ w["W_K"] / math.sqrt(d)
    flat = h.reshape(members * batch, n, d)
    left = (h.reshape(members, -1, d) @ bilinear).reshape(members * batch, n, d)
    scores = torch.baddbmm(mask, left, flat.transpose(1, 2)).reshape(members, batch, n, n)
    att = torch.softmax(scores, dim=-1)                                       # (M, B, N, N)
    if keep_attention is not None:
        keep_attention.append(att)
    # W_O sum_i att_{n,i} W_V h_i = (sum_i att_{n,i} h_i) (W_O W_V)^T
    mixed = (att @ h).reshape(members, -1, d)
    u = h.reshape(members, -1, d) + mixed @ (w["W_O"] @ w["W_V"]).transpose(1, 2)
    return u + torch.relu(u @ w["W_1"].transpose(1, 2)) @ w["W_2"].transpose(1, 2)


def hidden_states(params: dict, h0: torch.Tensor, memory: int | None = None,
                  keep_attention: list | None = None) -> torch.Tensor:
    """:math:`h^L` of the layer stack applied to :math:`h^0` (shape ``(M, B, N, d)``), same
    shape. ``keep_attention``: a list that receives each layer's attention ``(M, B, N, N)``."""
    mask = attention_mask(h0.shape[2], h0.dtype, memory)
    h = h0
    for layer in range(1, count_layers(params) + 1):
        h = _layer(params, layer, h, mask, keep_attention).reshape(h0.shape)
    return h


def logits(params: dict, x: torch.Tensor, tied: bool, memory: int | None = None) -> torch.Tensor:
    """Logits :math:`\\mathrm{logit}_n` of the model (formula in the module docstring).

    Parameters
    ----------
    params : dict of tensors
        Shapes of :func:`parameter_shapes` with ``M`` members (any number of layers).
    x : tensor, shape ``(M, B, N)`` or ``(B, N)``
        Input symbols :math:`x_1..x_N` (0/1, any float dtype); a 2-d input is shared by members.
    tied : bool
        Use :math:`a = e`.
    memory : int, optional
        Attention window ``W`` (:math:`A(n) = \\{\\max(1, n-W)..n\\}`); None: causal.

    Returns
    -------
    tensor, shape ``(M, B, N)``
    """
    e = params["e"]
    emb = embed(params, x)                                                    # (M, B, N, d)
    members, batch, n = emb.shape[:3]
    z = hidden_states(params, emb, memory).reshape(members, -1, emb.shape[-1])
    readout = e if tied else params["a"]
    out = (z @ readout[:, :, None]).reshape(members, batch, n)
    return out + params["b"][:, None, None]


def attention_maps(params: dict, x: torch.Tensor, memory: int | None = None) -> list:
    """The attention matrices :math:`\\mathrm{att}_{n,i}` of every layer for inputs ``x``
    (shape ``(M, B, N)`` or ``(B, N)``): a list of ``L`` tensors of shape ``(M, B, N, N)``."""
    kept: list = []
    hidden_states(params, embed(params, x), memory, kept)
    return kept


def _window_mask(n: int, memory: int, dtype) -> torch.Tensor:
    rows = torch.arange(n)[:, None]
    cols = torch.arange(n)[None, :]
    allowed = (cols <= rows) & (cols >= rows - memory)
    return torch.where(allowed, 0.0, float("-inf")).to(dtype)


def attention_mask(n: int, dtype, memory: int | None = None) -> torch.Tensor:
    """Additive mask of the attention set :math:`A(n)`, shape ``(n, n)``: 0 where position
    ``n`` may attend to ``i`` (:math:`\\max(1, n-W) \\le i \\le n`; causal when ``memory`` is
    None), -inf elsewhere."""
    if memory is None:
        return causal_mask(n, dtype)
    MEMORY.check("memory", memory)
    return _window_mask(n, memory, dtype)


@lru_cache(maxsize=16)
def _causal_mask_cached(n: int, dtype) -> torch.Tensor:
    return torch.full((n, n), float("-inf"), dtype=dtype).triu(1)


def causal_mask(n: int, dtype) -> torch.Tensor:
    """Additive causal mask (0 on and below the diagonal, -inf above), shape ``(n, n)``: position
    ``n`` attends to :math:`i \\le n` (P1, Sec. 2). A fresh copy of a cached tensor."""
    return _causal_mask_cached(n, dtype).clone()


# ----------------------------------------------------------------------------- initialisation

def _normal(rng: np.random.Generator, shape, std: float) -> np.ndarray:
    return rng.normal(0.0, std, size=shape)


def rank_one_parameters(d: int, seq_len: int, *, e0: float, w, alpha, mlp_gain: float,
                        b: float, seed: int | np.random.Generator | None = None,
                        tied: bool = True, other_std: float = STANDARD_STD) -> dict:
    """The P2 rank-one parameters of one member (numpy arrays, no member axis).

    .. math::
        e = e_0\\alpha,\\quad p_n = -\\tfrac{e_0}{2}\\alpha,\\quad W_1 = w\\alpha^\\top,\\quad
        W_2 = \\mathrm{mlp\\_gain}\\cdot \\alpha w^\\top,\\quad W_V = 0,\\quad a = e

    (``mlp_gain = 1`` is P2's aligned rank-one point; ``mlp_gain = -c`` gives
    :math:`W_2 = -c\\,W_1^\\top`). ``W_Q, W_K, W_O`` are drawn N(0, other_std^2) from ``seed`` (an
    int or a numpy Generator; zero when ``seed`` is None). With :math:`\\alpha\\in\\{\\pm1\\}^d`, ``w > 0`` and ``e0 > 0`` the MLP is
    active exactly when :math:`x_n = 1`.
    """
    alpha = np.asarray(alpha, dtype=float)
    w = np.asarray(w, dtype=float)
    if alpha.shape != (d,):
        raise InputError("alpha", alpha, f"a vector of length d={d}")
    if w.shape != (4 * d,):
        raise InputError("w", w, f"a vector of length 4d={4 * d}")
    rng = None if seed is None else as_generator(seed)
    out = {"e": e0 * alpha, "pos": np.tile(-0.5 * e0 * alpha, (seq_len, 1))}
    for name in MATRICES:
        out[name] = np.zeros((d, d)) if rng is None else _normal(rng, (d, d), other_std)
    out["W_V"] = np.zeros((d, d))
    out["W_1"] = np.outer(w, alpha)
    out["W_2"] = mlp_gain * np.outer(alpha, w)
    if not tied:
        out["a"] = out["e"].copy()
    out["b"] = np.asarray(float(b))
    return out


def initial_parameters(d: int, seq_len: int, tied: bool, init: str, seed,
                       layers: int = 1) -> dict:
    """One member's initial parameters (numpy arrays, no member axis), drawn from ``seed``.

    With ``layers = 1`` (the default) the draws are those of the single-layer model below. With
    ``layers = L >= 2`` every weight is drawn N(0, 0.02^2) in :func:`parameter_names` order and
    every layer's ``W_O`` and ``W_2`` is then scaled by :math:`1/\\sqrt{2L}` (std
    :math:`0.02/\\sqrt{2L}`, the GPT-2 residual scaling of the authors' code; Part 2 Sec. 1);
    ``good`` then sets every layer's MLP as below; ``lowrank`` is single-layer only.

    - ``standard``: every weight N(0, 0.02^2), ``b = 0`` (P1).
    - ``good``: ``standard``, then :math:`W_1 \\sim N(0, 1/d)` entrywise and
      :math:`W_2 = -c\\,W_1^\\top` with ``c = GOOD_GAIN = 2``: the MLP's Jacobian
      :math:`I + W_2 D W_1` is then negative on the active rows' span, which places the model in
      the global basin (P2, Sec. 4 guideline; the canonical analogue is ``w < -1/sqrt 2``).
    - ``lowrank``: :func:`rank_one_parameters` with :math:`\\alpha` uniform in
      :math:`\\{\\pm1\\}^d`, ``e0, w ~ N(0, 0.02^2)``, aligned MLP (``mlp_gain = 1``), ``b = 0``.
    """
    WIDTH.check("d", d)
    SEQ_LEN.check("seq_len", seq_len)
    check_choice("init", init, INITS)
    LAYERS.check("layers", layers)
    if layers > 1:
        return _deep_initial_parameters(d, seq_len, tied, init, as_generator(seed), layers)
    rng = as_generator(seed)
    if init == "lowrank":
        alpha = rng.choice([-1.0, 1.0], size=d)
        e0 = float(_normal(rng, (), STANDARD_STD))
        w = _normal(rng, (4 * d,), STANDARD_STD)
        return rank_one_parameters(d, seq_len, e0=e0, w=w, alpha=alpha, mlp_gain=1.0, b=0.0,
                                   seed=rng, tied=tied)
    shapes = parameter_shapes(d, seq_len, tied, members=1)
    out = {name: _normal(rng, shape[1:], STANDARD_STD) for name, shape in shapes.items()}
    out["b"] = np.asarray(0.0)
    if init == "good":
        out["W_1"] = _normal(rng, (4 * d, d), GOOD_W1_STD / math.sqrt(d))
        out["W_2"] = -GOOD_GAIN * out["W_1"].T
    return out


def _deep_initial_parameters(d, seq_len, tied, init, rng, layers) -> dict:
    if init == "lowrank":
        raise InputError("init", init, "'standard' or 'good' for layers >= 2 ('lowrank' is the "
                                       "single-layer rank-one start)")
    shapes = parameter_shapes(d, seq_len, tied, members=1, layers=layers)
    out = {name: _normal(rng, shape[1:], STANDARD_STD) for name, shape in shapes.items()}
    out["b"] = np.asarray(0.0)
    for layer in range(1, layers + 1):
        for name in ("W_O", "W_2"):
            out[layer_key(name, layer)] /= math.sqrt(2 * layers)
        if init == "good":
            w1 = _normal(rng, (4 * d, d), GOOD_W1_STD / math.sqrt(d))
            out[layer_key("W_1", layer)] = w1
            out[layer_key("W_2", layer)] = -GOOD_GAIN * w1.T
    return out


def stack_members(members: list[dict]) -> dict:
    """Stack per-member numpy parameter dicts into float64 tensors with a leading member axis."""
    return {name: torch.tensor(np.stack([m[name] for m in members]), dtype=DTYPE)
            for name in members[0]}


class MarkovTransformer(torch.nn.Module):
    """The Markov transformer (P1's single layer, or ``L`` layers) with ``members`` independent
    copies (see the module docstring).

    Parameters
    ----------
    d, seq_len : int
        Width and context length ``N``.
    tied : bool
        Weight tying ``a = e``.
    params : dict
        Initial tensors with the shapes of :func:`parameter_shapes` (see :func:`build_model`,
        :func:`from_weights`); the number of layers is read from the keys (:func:`layer_key`).
    memory : int, optional
        Attention window ``W >= 1`` (:math:`A(n) = \\{\\max(1, n-W)..n\\}`); None: causal.
    """

    def __init__(self, d: int, seq_len: int, tied: bool, params: dict,
                 memory: int | None = None):
        super().__init__()
        WIDTH.check("d", d)
        SEQ_LEN.check("seq_len", seq_len)
        if memory is not None:
            MEMORY.check("memory", memory)
        self.d, self.seq_len, self.tied, self.memory = d, seq_len, bool(tied), memory
        self.layers = count_layers(params)
        shapes = parameter_shapes(d, seq_len, tied, members=params["e"].shape[0],
                                  layers=self.layers)
        if set(params) != set(shapes):
            raise InputError("params", sorted(params), f"the keys {sorted(shapes)}")
        for name, shape in shapes.items():
            if tuple(params[name].shape) != shape:
                raise InputError(f"params[{name!r}]", tuple(params[name].shape), f"shape {shape}")
        self.weights = torch.nn.ParameterDict(
            {name: torch.nn.Parameter(params[name].detach().clone().to(DTYPE)) for name in shapes})

    @property
    def members(self) -> int:
        return self.weights["e"].shape[0]

    def params(self) -> dict:
        """The parameter tensors by name (live ``Parameter`` objects)."""
        return dict(self.weights.items())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits, shape ``(M, B, N)``, for inputs ``x`` of shape ``(M, B, N)`` or ``(B, N)``."""
        return logits(self.params(), x, self.tied, self.memory)


def build_model(d: int = 4, seq_len: int = 64, *, tied: bool = True, init: str = "standard",
                seeds=(0,), layers: int = 1, memory: int | None = None) -> MarkovTransformer:
    """A :class:`MarkovTransformer` with one member per seed, each initialised by
    :func:`initial_parameters` from its own seed (bit-reproducible); ``layers`` and ``memory``
    as in :class:`MarkovTransformer`."""
    seeds = list(seeds)
    if not seeds:
        raise InputError("seeds", seeds, "at least one seed")
    members = [initial_parameters(d, seq_len, tied, init, s, layers) for s in seeds]
    return MarkovTransformer(d, seq_len, tied, stack_members(members), memory=memory)


def from_weights(weights: dict, tied: bool, memory: int | None = None) -> MarkovTransformer:
    """A one-member :class:`MarkovTransformer` from a dict of tensors (or arrays) *without* the
    member axis: ``e (d,)``, ``pos (N, d)``, per layer ``W_Q, W_K, W_V, W_O (d, d)``,
    ``W_1 (4d, d)``, ``W_2 (d, 4d)`` (layer ``l >= 2``: ``"W_Q[l]"``, ...), ``a (d,)`` when
    untied and ``b ()``. ``d``, ``N`` and ``L`` are read from the shapes and keys; values are
    converted to float64 (autograd history is not kept: the model owns fresh parameters)."""
    if "pos" not in weights or "e" not in weights:
        raise InputError("weights", sorted(weights), "a dict with at least 'e' and 'pos'")
    params = {name: torch.as_tensor(value, dtype=DTYPE)[None] for name, value in weights.items()}
    seq_len, d = params["pos"].shape[1:]
    return MarkovTransformer(int(d), int(seq_len), tied, params, memory=memory)


# ----------------------------------------------------------------------------- flat vectors

def flatten(params: dict, tied: bool) -> torch.Tensor:
    """Concatenate the parameters (order :func:`parameter_names`) into one vector."""
    names = parameter_names(tied, count_layers(params))
    return torch.cat([params[name].reshape(-1) for name in names])


def unflatten(flat: torch.Tensor, d: int, seq_len: int, tied: bool, members: int = 1,
              layers: int = 1) -> dict:
    """Inverse of :func:`flatten`."""
    out, start = {}, 0
    for name, shape in parameter_shapes(d, seq_len, tied, members, layers).items():
        size = math.prod(shape)
        out[name] = flat[start:start + size].reshape(shape)
        start += size
    if start != flat.numel():
        raise InputError("flat", tuple(flat.shape), f"a vector of {start} entries")
    return out


def parameter_slices(d: int, seq_len: int, tied: bool, layers: int = 1) -> dict:
    """Slice of each parameter in the flat vector of a single-member model."""
    out, start = {}, 0
    for name, shape in parameter_shapes(d, seq_len, tied, layers=layers).items():
        size = math.prod(shape)
        out[name] = slice(start, start + size)
        start += size
    return out


# ----------------------------------------------------------------------------- exact loss

@lru_cache(maxsize=32)
def _enumeration_arrays(p: float, q: float, seq_len: int):
    enumerated = enumerate_sequences(p, q, seq_len)
    sequences = enumerated.sequences.astype(np.float64)
    probabilities = enumerated.probabilities
    sequences.flags.writeable = probabilities.flags.writeable = False
    return sequences, probabilities


def enumeration_tensors(p: float, q: float, seq_len: int) -> EnumeratedSequences:
    """Every binary sequence :math:`x_1^{N+1}` and its stationary-start probability
    (:func:`numerics.markov.sequences.enumerate_sequences`, P1 Sec. 2) as fresh float64 tensors
    of shapes ``(2**(N+1), N+1)`` and ``(2**(N+1),)``, ``N = seq_len``. The numpy arrays are
    cached; the tensors are not, so none escapes a ``torch.func`` transform.
    """
    sequences, probabilities = _enumeration_arrays(p, q, seq_len)
    return EnumeratedSequences(torch.tensor(sequences, dtype=DTYPE),
                               torch.tensor(probabilities, dtype=DTYPE))


def softplus(x: torch.Tensor) -> torch.Tensor:
    """:math:`\\log(1 + e^x)` to float64 rounding at every ``x``.

    ``torch.nn.functional.softplus`` with its default threshold 20 returns ``x`` itself above
    20, an error of up to :math:`e^{-20} \\approx 2\\times10^{-9}`; with threshold 40 the
    dropped term :math:`\\log(1 + e^{-x}) < e^{-40} \\approx 4\\times10^{-18}` is below half
    an ulp of ``x``. (``torch.logaddexp(x, 0)`` is exact too, but its forward-over-reverse
    Hessian is NaN at ``x = -800``.) Differentiable to any order (autograd, ``torch.func``)."""
    return F.softplus(x, beta=1.0, threshold=40.0)


def exact_loss(params: dict, p: float, q: float, tied: bool,
               memory: int | None = None) -> torch.Tensor:
    """Exact population loss :math:`L(\\theta)` per member, shape ``(M,)``, in nats.

    .. math::
        L = \\sum_{x_1^{N+1}} \\Pr(x_1^{N+1}) \\frac1N \\sum_{n=1}^N
            \\ell(\\mathrm{logit}_n, x_{n+1}),\\quad \\ell(l, y) = \\mathrm{softplus}(l) - y\\,l

    (:func:`softplus`, exact at every logit) summed over all :math:`2^{N+1}` sequences of a stationary chain (``N`` = the model's
    ``seq_len``, at most 12); any number of layers, attention window ``memory``.
    """
    check_chain(p, q)
    seq_len = params["pos"].shape[1]
    enumerated = enumeration_tensors(float(p), float(q), seq_len)
    sequences, probabilities = enumerated.sequences, enumerated.probabilities
    lg = logits(params, sequences[:, :-1], tied, memory)
    per_sequence = (softplus(lg) - sequences[:, 1:] * lg).mean(dim=-1)
    return per_sequence @ probabilities


def _flat_loss(model: MarkovTransformer, p: float, q: float, wrt: tuple[str, ...]):
    """The exact loss as a function of the flat vector of the parameters ``wrt`` (others fixed)."""
    if model.members != 1:
        raise InputError("model.members", model.members, "1 for gradients and Hessians")
    fixed = {name: value.detach() for name, value in model.params().items()}
    shapes = {name: tuple(fixed[name].shape) for name in wrt}

    def f(flat):
        params, start = dict(fixed), 0
        for name, shape in shapes.items():
            size = math.prod(shape)
            params[name] = flat[start:start + size].reshape(shape)
            start += size
        return exact_loss(params, p, q, model.tied, model.memory)[0]

    return f


def exact_loss_gradient_hessian(model: MarkovTransformer, p: float, q: float,
                                hessian: bool = True, wrt=None) -> LossDerivatives:
    """Exact loss, gradient and autograd Hessian over a flat parameter vector.

    Parameters
    ----------
    model : MarkovTransformer
        A single-member model (``seq_len <= 12``).
    p, q : float
        The chain.
    hessian : bool
        Compute the Hessian (``torch.func.hessian``, forward-over-reverse).
    wrt : sequence of str, optional
        Differentiate with respect to these parameters only, flattened in this order (the others
        are held fixed); default all parameters in :func:`parameter_names` order, whose slices
        :func:`parameter_slices` gives.

    Returns
    -------
    LossDerivatives
        ``loss`` (float, nats), ``gradient`` (array ``(P,)``) and ``hessian`` (array ``(P, P)``,
        None when not requested).
    """
    names = parameter_names(model.tied, model.layers)
    wrt = tuple(names if wrt is None else wrt)
    for name in wrt:
        check_choice("wrt", name, names)
    f = _flat_loss(model, p, q, wrt)
    params = model.params()
    flat = torch.cat([params[n].detach().reshape(-1) for n in wrt]).requires_grad_(True)
    loss = f(flat)
    (grad,) = torch.autograd.grad(loss, flat)
    hess = torch.func.hessian(f)(flat.detach()).numpy() if hessian else None
    return LossDerivatives(float(loss.detach()), grad.numpy(), hess)


# ----------------------------------------------------------------------------- special points

def unigram_point(params: dict, p: float, q: float, tied: bool) -> dict:
    """The F1 point: copy of ``params`` with ``e = 0`` (and ``a = 0`` when untied) and
    :math:`b = \\log(p/q)`, so :math:`\\sigma(b) = \\pi_1` (P1, Thm 2 / Sec. 3)."""
    check_chain(p, q)
    out = {name: value.detach().clone() for name, value in params.items()}
    out["e"] = torch.zeros_like(out["e"])
    if not tied:
        out["a"] = torch.zeros_like(out["a"])
    out["b"] = torch.full_like(out["b"], math.log(p / q))
    return out


def global_minimum_parameters(p: float, q: float, d: int = 4, seq_len: int = 8, *,
                              tied: bool = True, seed=0) -> dict:
    """An explicit point with loss :math:`H(P)` that predicts the Markov kernel (claim F5).

    Rank-one construction (:func:`rank_one_parameters`) with :math:`W_V = 0`, ``w = 1/sqrt(4d)``
    per entry and :math:`W_2 = -c\\,W_1^\\top`: the logit is :math:`b + x_n u` with

    .. math::
        u = d e_0^2 \\big(1 - c\\,|w|^2 d/2\\big), \\qquad f_0 = b - d e_0^2/2.

    The kernel needs :math:`f_0 = \\log\\frac{p}{1-p}` and
    :math:`u = \\log\\frac{(1-p)(1-q)}{pq}`, which has the sign of :math:`1-p-q`. For ``u > 0``:
    ``c = 0`` and :math:`e_0 = \\sqrt{u/d}`; otherwise (``p + q >= 1``) :math:`e_0 = 1` and
    :math:`c = 2(1 - u/d)/(|w|^2 d) > 0`: the anti-aligned MLP makes the coefficient negative.
    ``W_Q, W_K, W_O`` are drawn N(0, 0.02^2) from ``seed`` (they do not matter since W_V = 0).
    Returns a single-member tensor dict.
    """
    check_chain(p, q)
    WIDTH.check("d", d)
    u = global_curve_constant(p, q)  # log((1-p)(1-q)/(pq)), without underflow
    w = np.full(4 * d, 1.0 / math.sqrt(4 * d))
    if u > 0:
        e0, gain = math.sqrt(u / d), 0.0
    else:
        e0, gain = 1.0, 2.0 * (1.0 - u / d) / (float(w @ w) * d)
    b = math.log(p / (1 - p)) + d * e0**2 / 2
    rng = as_generator(seed)
    alpha = np.ones(d)
    point = rank_one_parameters(d, seq_len, e0=e0, w=w, alpha=alpha, mlp_gain=-gain, b=b,
                                seed=rng, tied=tied)
    return stack_members([point])

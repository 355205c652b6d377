"""The two-layer transformer that simulates in-context MLE, in torch, with hand-set weights.

Spec ``shared/spec/bayesnet.md`` section 3 (Cao et al., arXiv 2501.02547, Theorem 4.1). The weights
are :func:`theory.bayesnet.construction_weights` evaluated by
:func:`numerics.bayesnet_construct.construction_arrays`; this module runs them:

.. math:: H_1 = X + W_2\\,\\mathrm{ReLU}(W_1 X), \\qquad
          H_2 = H_1 + V H_1\\,\\mathrm{softmax}_{\\text{keys}}\\big((K H_1)^T (Q H_1)\\big),
          \\qquad p_{TF} = A_{m_0} H_2[:, \\text{query}].

Functions: :class:`ConstructedTransformer`, :func:`predict` (``p_TF`` for prompts),
:func:`generation_law` (exact law of the autoregressively generated sample, by enumeration),
:func:`generate` (sampling), :func:`construction_report` (what ``ttc bayesnet construct`` prints).
"""

from __future__ import annotations

import numpy as np
import torch

from numerics import bayesnet as nb
from numerics import bayesnet_construct as nc
from numerics import bayesnet_mle as nm
from theory.errors import InputError, NumericalFailure, TooLargeError, check_int

torch.set_default_dtype(torch.float64)


class ConstructedTransformer(torch.nn.Module):
    """Layer 1: MLP only (parent selector); layer 2: one softmax head (estimator); no layer norm.

    Parameters are fixed buffers (not trained). ``forward`` takes prompts ``(E, R, T)`` and
    returns the output ``(E, R, T)``; only the query (last) column is read out.
    """

    def __init__(self, structure: nb.Structure, beta: float):
        super().__init__()
        self.structure = structure
        self.beta = nc.check_beta(beta)
        arrays = nc.construction_arrays(structure, self.beta)
        self.C = arrays["C"]
        for name in ("W1", "W2", "K", "Q", "V"):
            self.register_buffer(name, torch.as_tensor(arrays[name]))

    @property
    def n_layers(self) -> int:
        return 2

    def forward(self, X: torch.Tensor, query_only: bool = False) -> torch.Tensor:
        """Output ``(E, R, T)``; with ``query_only`` only the last column ``(E, R, 1)`` (the
        attention of the other columns is then not computed; the query column is identical)."""
        H = X + self.W2 @ torch.relu(self.W1 @ X)
        queries = H[..., -1:] if query_only else H
        scores = (self.K @ H).transpose(-1, -2) @ (self.Q @ queries)    # (E, keys, queries)
        attention = torch.softmax(scores, dim=-2)
        return queries + self.V @ H @ attention


def _query_output(model: ConstructedTransformer, X: np.ndarray, batch: int = 256) -> np.ndarray:
    outs = []
    with torch.no_grad():
        for start in range(0, len(X), batch):
            H = model(torch.as_tensor(X[start:start + batch]), query_only=True)
            outs.append(H[:, :, -1].numpy())
    return np.concatenate(outs) if outs else np.zeros((0, X.shape[1]))


def predict(model: ConstructedTransformer, contexts, queries, m0: int) -> np.ndarray:
    """``p_TF`` for target ``m0``: the readout ``A_{m0} = [0, -I_d, 0]`` of the query column.

    Returns ``(E, d_{m0})`` (entries beyond the variable's cardinality are dropped; they are 0).
    Its entries sum to ``1 - w_self`` where ``w_self`` is the query's attention to itself.
    """
    s = model.structure
    X = nc.encode_prompts(s, contexts, queries, m0)
    d = nc.block_size(s)
    out = -_query_output(model, X)[:, m0 * d: m0 * d + s.cards[m0]]
    if not np.all(np.isfinite(out)):
        raise NumericalFailure(f"construction output not finite at beta={model.beta}")
    return out


def _normalise(p: np.ndarray) -> np.ndarray:
    return p / p.sum(axis=-1, keepdims=True)


def generation_law(model: ConstructedTransformer, context, max_states: int = 2**14) -> np.ndarray:
    """Exact law of ``x`` generated autoregressively by the construction from one context ``(N, M)``.

    .. math:: P(x) = \\prod_{m} \\bar p_{TF}(x_m \\mid x_{<m}), \\qquad
              \\bar p_{TF} = p_{TF} / \\textstyle\\sum_j p_{TF}(j)

    computed by enumerating every prefix (``sum_m prod cards[:m]`` prompts). Shape ``cards``.
    """
    s = model.structure
    total = int(np.prod(s.cards, dtype=np.float64))
    if total > max_states:
        raise TooLargeError("network", f"{total} joint states", f"at most {max_states} for exact enumeration")
    context = np.asarray(context)
    law = np.ones(s.cards)
    for m0 in range(s.M):
        prefixes = nc.enumerate_prefixes(s, m0)
        probs = _normalise(predict(model, np.broadcast_to(context, (len(prefixes),) + context.shape),
                                   prefixes, m0))
        shape = s.cards[:m0 + 1] + (1,) * (s.M - m0 - 1)
        law = law * probs.reshape(shape)
    return law


def generate(model: ConstructedTransformer, context, n: int, seed) -> np.ndarray:
    """``n`` samples generated autoregressively (``x_0, x_1, ...`` in order) from one context."""
    check_int("n", n, 0)
    s = model.structure
    rng = np.random.default_rng(seed)
    context = np.asarray(context)
    out = np.zeros((n, s.M), dtype=np.int64)
    contexts = np.broadcast_to(context, (n,) + context.shape)
    for m0 in range(s.M):
        probs = _normalise(predict(model, contexts, out, m0))
        out[:, m0] = (rng.random(n)[:, None] >= np.cumsum(probs, axis=1)).sum(axis=1).clip(max=s.cards[m0] - 1)
    return out


def construction_errors(structure: nb.Structure, context, queries, beta: float) -> dict:
    """For every target ``m0``: TV between ``p_TF`` and the in-context MLE (with back-off) and the
    per-prompt bound (:func:`numerics.bayesnet_construct.prompt_bound`), over ``queries``.

    Returns ``{"tv": (M, Q), "bound": (M, Q), "count": (M, Q)}`` arrays.
    """
    model = ConstructedTransformer(structure, beta)
    context = np.asarray(context)
    queries = np.asarray(queries)
    contexts = np.broadcast_to(context, (len(queries),) + context.shape)
    tv, bound, count = [], [], []
    for m0 in range(structure.M):
        p_tf = predict(model, contexts, queries, m0)
        p_hat, n = nm.in_context_mle(structure, contexts, queries, m0, on_empty="backoff")
        tv.append(nm.tv(p_tf, p_hat))
        bound.append(nc.prompt_bound(structure, contexts, queries, m0, model.beta))
        count.append(n)
    return {"tv": np.array(tv), "bound": np.array(bound), "count": np.array(count)}


def construction_report(network: nb.Network, n: int, beta: float, seed: int, n_queries: int = 64) -> dict:
    """What ``ttc bayesnet construct`` prints: draw a context of ``n`` samples and ``n_queries``
    queries from ``network``; ``max_tv_vs_mle`` over every target and query, the largest
    per-prompt ``bound``, and ``generation_max_abs_error`` = max over joint states of the
    generated law minus the plug-in network's law (exact enumeration)."""
    check_int("n", n, 1, 100_000)
    nc.check_beta(beta)
    data = nb.sample(network, n + n_queries, seed)
    context, queries = data[:n], data[n:]
    errors = construction_errors(network.structure, context, queries, beta)
    model = ConstructedTransformer(network.structure, beta)
    law_tf = generation_law(model, context)
    law_plugin = nb.joint_law(nm.plugin_network(network.structure, context, on_empty="backoff"))
    return {"max_tv_vs_mle": float(errors["tv"].max()), "bound": float(errors["bound"].max()),
            "generation_max_abs_error": float(np.abs(law_tf - law_plugin).max())}

"""The two-layer transformer that simulates in-context MLE, in torch, with hand-set weights.

Cao et al. 2025 (arXiv 2501.02547), Theorem 4.1, with the library's reconstruction of the
weights: :func:`theory.bayesnet.construction_weights` evaluated by
:func:`numerics.bayesnet.construction.construction_arrays`; this module runs them:

.. math:: H_1 = X + W_2\\,\\mathrm{ReLU}(W_1 X), \\qquad
          H_2 = H_1 + V H_1\\,\\mathrm{softmax}_{\\text{keys}}\\big((K H_1)^T (Q H_1)\\big),
          \\qquad p_{TF} = A_{m_0} H_2[:, \\text{query}].

:class:`ConstructedTransformer` exposes ``query_output``, so the model-generic functions of
:mod:`numerics.bayesnet.construction` run it (import them from there):
:func:`~numerics.bayesnet.construction.predict` (``p_TF``),
:func:`~numerics.bayesnet.construction.generation_law` (exact law of the autoregressively generated
sample), :func:`~numerics.bayesnet.construction.generate`; :func:`construction_errors` and
:func:`construction_report` here build the torch model.
"""

from __future__ import annotations

import numpy as np
import torch

from numerics.bayesnet import networks
from numerics.bayesnet import construction

torch.set_default_dtype(torch.float64)


class ConstructedTransformer(torch.nn.Module):
    """Layer 1: MLP only (parent selector); layer 2: one softmax head (estimator); no layer norm.

    Parameters are fixed buffers (not trained). ``forward`` takes prompts ``(E, R, T)`` and
    returns the output ``(E, R, T)``; only the query (last) column is read out.
    """

    def __init__(self, structure: networks.Structure, beta: float):
        super().__init__()
        self.structure = structure
        self.beta = construction.check_beta(beta)
        arrays = construction.construction_arrays(structure, self.beta)
        self.C = arrays.C
        for name in ("W1", "W2", "K", "Q", "V"):
            self.register_buffer(name, torch.as_tensor(getattr(arrays, name)))

    @property
    def n_layers(self) -> int:
        """Number of layers (2: the parent selector and the estimator), whatever the in-degree."""
        return 2

    def forward(self, X: torch.Tensor, query_only: bool = False) -> torch.Tensor:
        """Output ``(E, R, T)``; with ``query_only`` only the last column ``(E, R, 1)`` (the
        attention of the other columns is then not computed; the query column is identical)."""
        H = X + self.W2 @ torch.relu(self.W1 @ X)
        queries = H[..., -1:] if query_only else H
        scores = (self.K @ H).transpose(-1, -2) @ (self.Q @ queries)    # (E, keys, queries)
        attention = torch.softmax(scores, dim=-2)
        return queries + self.V @ H @ attention

    def query_output(self, X: np.ndarray) -> np.ndarray:
        """The query column of the output for numpy prompts ``(E, R, T)``, as numpy ``(E, R)``."""
        with torch.no_grad():
            return self(torch.as_tensor(X), query_only=True)[..., -1].numpy()


def construction_errors(structure: networks.Structure, context, queries,
                        beta: float) -> construction.ConstructionErrors:
    """:func:`numerics.bayesnet.construction.construction_errors` with the torch model at ``beta``."""
    return construction.construction_errors(ConstructedTransformer(structure, beta), context, queries)


def construction_report(network: networks.Network, n: int, beta: float, seed: int,
                        n_queries: int = 64) -> construction.ConstructionReport:
    """:func:`numerics.bayesnet.construction.construction_report` with the torch model."""
    return construction.construction_report(network, n, beta, seed, n_queries, factory=ConstructedTransformer)

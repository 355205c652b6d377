"""Attention probe: does a model's attention implement the construction's matching?

Spec Sec. 10 (a question of the ICLR reviewers of Cao et al. 2025, arXiv 2501.02547). For the
query of a target :math:`m_0` with parents, take the attention weights of one head on the context
rows, the query's weight on itself removed and the rest renormalised to sum to 1,
:math:`w_1..w_N`. With

.. math:: I = \\{i : x^{(i)}_{P(m_0)} = x^{(q)}_{P(m_0)}\\}, \\qquad
          I_n = \\{i : x^{(i)}_{0..m_0-1} = x^{(q)}_{0..m_0-1}\\} \\subseteq I,

and only episodes with :math:`1 \\le |I| \\le N - 1` (where matching can be told from uniform
attention):

- matched mass :math:`W = \\sum_{i \\in I} w_i` against its chance value :math:`|I|/N`;
- Spearman's rank correlation between :math:`w_i` and the number of parents on which row ``i``
  agrees with the query (0 when the weights are constant: no ranking);
- naive share :math:`\\sum_{i \\in I_n} w_i / W` against :math:`|I_n|/|I|` (equal when the head
  weighs the rows of ``I`` alike, as the construction does; larger when it conditions on all
  predecessors, as the naive estimator does).

The construction of Sec. 3 (:func:`construction_attention`) has :math:`W \\ge 1 - N e^{-\\beta}/|I|`,
Spearman 1 and naive share :math:`|I_n|/|I|`; uniform attention has :math:`W = |I|/N`.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

from numerics.bayesnet import construction
from numerics.bayesnet.mle import as_int_array
from numerics.bayesnet.networks import Structure, check_states
from theory.errors import InputError, NumericalFailure, check_int
from theory.results import result

__all__ = ["ProbeStatistics", "probe_statistics", "construction_attention", "pool"]


@result
class ProbeStatistics:
    """Per-episode probe quantities of one head and target (spec Sec. 10), for the episodes with
    :math:`1 \\le |I| \\le N - 1` only.

    Attributes
    ----------
    matched_mass : ndarray, shape (K,)
        :math:`W = \\sum_{i \\in I} w_i` (self weight removed, weights renormalised over the context).
    chance : ndarray, shape (K,)
        :math:`|I|/N`, the matched mass of uniform attention.
    spearman : ndarray, shape (K,)
        Spearman's rank correlation of :math:`w_i` with the number of parents row ``i`` matches
        (0 for constant weights).
    naive_share : ndarray, shape (K,)
        :math:`\\sum_{i \\in I_n} w_i / W`.
    naive_chance : ndarray, shape (K,)
        :math:`|I_n|/|I|`, the naive share of a head that weighs the rows of ``I`` alike.
    matched : ndarray of int, shape (K,)
        :math:`|I|`.
    """

    matched_mass: np.ndarray
    chance: np.ndarray
    spearman: np.ndarray
    naive_share: np.ndarray
    naive_chance: np.ndarray
    matched: np.ndarray


def _row_spearman(w: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Spearman's rho of each row of ``w`` with the same row of ``k`` (average ranks for ties);
    0 where either row is constant."""
    a = rankdata(w, axis=1)
    b = rankdata(k, axis=1)
    a -= a.mean(axis=1, keepdims=True)
    b -= b.mean(axis=1, keepdims=True)
    norm = np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))
    out = np.zeros(len(w))
    ok = norm > 0
    out[ok] = (a * b).sum(axis=1)[ok] / norm[ok]
    return out


def probe_statistics(structure: Structure, contexts, queries, m0: int, weights) -> ProbeStatistics:
    """The probe of spec Sec. 10 for target ``m0`` from one head's attention ``weights``.

    Parameters
    ----------
    structure : Structure
        The network; ``m0`` must have at least one parent.
    contexts : int array, shape (E, N, M)
        The context samples of ``E`` episodes.
    queries : int array, shape (E, M)
        The queries (entries ``0..m0-1`` are read).
    m0 : int
        The target :math:`m_0`.
    weights : real array, shape (E, N) or (E, N + 1)
        The query's attention on the context rows, optionally followed by its weight on itself
        (dropped); the remaining weights are renormalised to sum to 1 per episode.

    Returns
    -------
    ProbeStatistics
        For the episodes with :math:`1 \\le |I| \\le N - 1`.
    """
    contexts = as_int_array("contexts", contexts)
    queries = as_int_array("queries", queries)
    check_int("m0", m0, 0, structure.M - 1)
    parents = list(structure.parents[m0])
    if not parents:
        raise InputError("m0", m0, "a target with at least one parent (a root matches every row)")
    if contexts.ndim != 3 or contexts.shape[2] != structure.M or queries.shape != (len(contexts), structure.M):
        raise InputError("contexts/queries", (contexts.shape, queries.shape), "(E, N, M) and (E, M)")
    check_states(structure, contexts, "contexts")
    E, N, _ = contexts.shape
    w = np.asarray(weights, dtype=np.float64)
    if w.shape not in ((E, N), (E, N + 1)):
        raise InputError("weights", f"shape {w.shape}", f"({E}, {N}) or ({E}, {N + 1})")
    w = w[:, :N]
    if not np.all(np.isfinite(w)) or np.any(w < 0) or np.any(w.sum(axis=1) <= 0):
        raise InputError("weights", "negative, non-finite or all-zero weights",
                         "attention weights (>= 0, some positive per episode)")
    w = w / w.sum(axis=1, keepdims=True)
    agree = contexts[:, :, parents] == queries[:, None, parents]              # (E, N, |P|)
    matches = agree.sum(axis=2)
    in_i = matches == len(parents)
    in_n = np.all(contexts[:, :, :m0] == queries[:, None, :m0], axis=2)
    size = in_i.sum(axis=1)
    keep = (size >= 1) & (size <= N - 1)
    w, in_i, in_n, matches, size = w[keep], in_i[keep], in_n[keep], matches[keep], size[keep]
    mass = (w * in_i).sum(axis=1)
    share = np.divide((w * in_n).sum(axis=1), mass, out=np.zeros_like(mass), where=mass > 0)
    out = ProbeStatistics(matched_mass=mass, chance=size / N, spearman=_row_spearman(w, matches),
                          naive_share=share, naive_chance=in_n.sum(axis=1) / size, matched=size)
    if not all(np.all(np.isfinite(getattr(out, k))) for k in ("matched_mass", "spearman", "naive_share")):
        raise NumericalFailure("probe statistics are not finite")
    return out


def pool(stats) -> dict:
    """Means over the episodes of several :class:`ProbeStatistics` (e.g. every target of one
    head): ``matched_mass``, ``chance``, ``excess`` (mean of :math:`W - |I|/N`) with its standard
    error ``excess_se``, ``spearman``, ``naive_share``, ``naive_chance`` and ``episodes``."""
    stats = list(stats)
    if not stats:
        raise InputError("stats", stats, "at least one ProbeStatistics")
    cat = {k: np.concatenate([getattr(s, k) for s in stats])
           for k in ("matched_mass", "chance", "spearman", "naive_share", "naive_chance")}
    n = len(cat["chance"])
    if n == 0:
        raise InputError("stats", "no episode with 1 <= |I| <= N-1", "at least one probed episode")
    excess = cat["matched_mass"] - cat["chance"]
    out = {k: float(v.mean()) for k, v in cat.items()}
    out.update(excess=float(excess.mean()),
               excess_se=float(excess.std(ddof=1) / np.sqrt(n)) if n > 1 else float("inf"),
               episodes=n)
    return out


def construction_attention(structure: Structure, contexts, queries, m0: int, beta: float) -> np.ndarray:
    """Attention weights of the Sec. 3 construction's estimator head (layer 2) for the query of
    target ``m0``: ``(E, N + 1)``, the context rows then the query itself.

    The same weights as :class:`numerics.bayesnet.construction.NumpyConstruction`: scores
    :math:`(K H_1)^T (Q H_1)_{query}` with :math:`H_1 = X + W_2\\,\\mathrm{ReLU}(W_1 X)`, softmax over
    the keys; a context row scores :math:`\\beta(\\text{parents matched} + C)`.
    """
    model = construction.NumpyConstruction(structure, beta)
    a = model.arrays
    X = construction.encode_prompts(structure, contexts, queries, m0)
    H = X + a.W2 @ np.maximum(a.W1 @ X, 0.0)
    scores = np.einsum("erk,er->ek", a.K @ H, (a.Q @ H[..., -1:])[..., 0])
    scores = np.exp(scores - scores.max(axis=1, keepdims=True))
    return scores / scores.sum(axis=1, keepdims=True)

"""Random DAGs: the prior R(M, p), episodes over many structures at once, the Bayes model average.

Part 2 of the Bayes-net specification, Sec. 8 [derived] (Cao et al. 2025, arXiv 2501.02547; their
code trains one model on a new random DAG per batch). Binary variables only.

**Prior R(M, p)**: variables ``0..M-1`` in order; each edge ``q -> m`` (``q < m``) present
independently with probability ``p``; every CPT entry :math:`P(x_m = 1 \\mid x_{P(m)} = c) \\sim
U(0.1, 0.9)` independently.

**Episodes** (:func:`sample_episodes`): ``E`` episodes, each its own DAG (or one fixed structure),
CPTs, a context of ``N`` samples and one query sample, all vectorised. Parent sets are kept as an
adjacency array ``parents[e, m, q] = [q \\in P(m)]``; a parent configuration is encoded with the
*first* parent as the most significant bit, as in :mod:`numerics.bayesnet.networks`.

**Bayes model average** (:func:`bma_predict`): prior and likelihood factorise over nodes, so the
posterior of the target's parent set :math:`S \\subseteq \\{0..m_0-1\\}` given the context is

.. math:: P(S \\mid D) \\propto p^{|S|} (1-p)^{m_0-|S|} \\prod_c Z(k_c, n_c), \\qquad
          Z(k, n) = \\frac{1}{0.8}\\int_{0.1}^{0.9} t^k (1-t)^{n-k} dt

(``c`` the configurations of ``S``, ``n_c`` rows in ``c``, ``k_c`` of them with :math:`x_{m_0} = 1`),
and :math:`\\mathrm{BMA} = \\sum_S P(S \\mid D)\\, \\mathbb E[\\theta \\mid k_{c_q}, n_{c_q}]` (the
truncated-Beta mean of :mod:`numerics.bayesnet.bayes` at the query's configuration): the
posterior predictive :math:`P(x_{m_0} = 1 \\mid D, x^{(q)}_{<m_0})`, cross-entropy optimal for a
predictor that is not told the structure.
"""

from __future__ import annotations

import numpy as np

from numerics.bayesnet import bayes
from numerics.bayesnet.domains import BASELINE_EPISODES, BASELINE_LENGTH
from numerics.bayesnet.networks import Structure
from numerics.shared.seeding import as_generator
from theory.budgets import check_memory
from theory.domains import integer, real
from theory.errors import InputError, NumericalFailure, check_int
from theory.results import result

__all__ = ["MIXTURE_SIZE", "EDGE_PROBABILITY", "MixtureEpisodes", "sample_episodes", "episode_structure",
           "parent_counts", "subset_posterior", "bma_predict", "BaselineCurves", "baseline_curves"]

#: Variables of a random DAG (the naive and Bayes-average baselines enumerate 2^(M-1) sets).
MIXTURE_SIZE = integer(1, 10, note="the model average enumerates 2^(M-1) parent sets")
#: Edge probability p of R(M, p).
EDGE_PROBABILITY = real(0, 1)
#: Episodes of :func:`sample_episodes` / :func:`baseline_curves` (declared in the torch- and
#: scipy-free :mod:`numerics.bayesnet.domains` for the command line).
MIXTURE_EPISODES = BASELINE_EPISODES
#: Context length (the posterior tables are (N+1)^2).
MIXTURE_LENGTH = BASELINE_LENGTH


@result
class MixtureEpisodes:
    """Episodes of binary networks, one structure per episode (spec Sec. 8).

    Attributes
    ----------
    parents : ndarray of bool, shape (E, M, M)
        ``parents[e, m, q]``: :math:`q \\in P(m)` in episode ``e`` (only ``q < m``).
    theta : ndarray, shape (E, M, 2^(M-1))
        :math:`P(x_m = 1 \\mid \\text{parent configuration } c)` (entries ``c >= 2^{|P(m)|}`` unused).
    context : ndarray of int64, shape (E, N, M)
        The context samples.
    query : ndarray of int64, shape (E, M)
        One more sample (the query; a target ``m0`` reads its entries ``< m0``).
    """

    parents: np.ndarray
    theta: np.ndarray
    context: np.ndarray
    query: np.ndarray


def _radix(parents: np.ndarray) -> np.ndarray:
    """Bit weights ``(..., M, M)``: parent ``q`` of ``m`` weighs 2^(number of parents of m after q)."""
    later = np.flip(np.cumsum(np.flip(parents, axis=-1), axis=-1), axis=-1) - parents
    return np.where(parents, 2 ** later, 0).astype(np.int64)


def _check_parents(parents) -> np.ndarray:
    array = np.asarray(parents)
    if array.dtype != bool or array.ndim not in (2, 3) or array.shape[-1] != array.shape[-2]:
        raise InputError("parents", f"shape {array.shape}, dtype {array.dtype}",
                         "a boolean adjacency array (M, M) or (E, M, M)")
    if np.any(np.triu(array)):
        raise InputError("parents", "an edge q -> m with q >= m", "parents earlier in the order")
    MIXTURE_SIZE.check("M", array.shape[-1])
    return array


def structure_parents(structure: Structure) -> np.ndarray:
    """The adjacency ``(M, M)`` of a binary :class:`Structure` (``[m, q] = q in P(m)``)."""
    if not isinstance(structure, Structure):
        raise InputError("structure", type(structure).__name__, "a Structure")
    if any(d != 2 for d in structure.cards):
        raise InputError("structure", structure.cards, "binary variables (cards 2)")
    MIXTURE_SIZE.check("M", structure.M)
    out = np.zeros((structure.M, structure.M), dtype=bool)
    for m, ps in enumerate(structure.parents):
        out[m, list(ps)] = True
    return out


def episode_structure(parents: np.ndarray) -> Structure:
    """The :class:`Structure` (binary, names ``X0..``) of one adjacency ``(M, M)``."""
    parents = _check_parents(parents)
    if parents.ndim != 2:
        raise InputError("parents", f"shape {parents.shape}", "one adjacency (M, M)")
    M = parents.shape[0]
    return Structure(tuple(f"X{m}" for m in range(M)), (2,) * M,
                     tuple(tuple(int(q) for q in np.flatnonzero(parents[m])) for m in range(M)))


def sample_episodes(M: int, p: float, n: int, episodes: int, seed, structure: Structure | None = None
                    ) -> MixtureEpisodes:
    """``episodes`` episodes of R(``M``, ``p``) (or of the fixed binary ``structure``, then ``M`` and
    ``p`` are ignored) with ``n`` context samples and one query each, by vectorised ancestral
    sampling (one uniform per sample and variable). ``seed``: int >= 0 or numpy Generator; the
    order of draws is edges, CPT entries, samples.

    Domains: ``M`` :data:`MIXTURE_SIZE`, ``p`` :data:`EDGE_PROBABILITY`, ``n`` :data:`MIXTURE_LENGTH`,
    ``episodes`` :data:`MIXTURE_EPISODES`. Returns :class:`MixtureEpisodes`.
    """
    MIXTURE_LENGTH.check("n", n)
    MIXTURE_EPISODES.check("episodes", episodes)
    rng = as_generator(seed)
    if structure is None:
        MIXTURE_SIZE.check("M", M)
        EDGE_PROBABILITY.check("p", p)
        parents = np.tril(rng.random((episodes, M, M)) < p, k=-1)
    else:
        parents = np.broadcast_to(structure_parents(structure), (episodes, structure.M, structure.M))
        M = structure.M
    check_memory("n", n, episodes * (n + 1) * M * 40 + episodes * M * 2 ** (M - 1) * 8,
                 "samples and CPTs")
    theta = rng.uniform(bayes.LOW, bayes.HIGH, size=(episodes, M, 2 ** (M - 1)))
    radix = _radix(parents)
    u = rng.random((episodes, n + 1, M))
    data = np.zeros((episodes, n + 1, M), dtype=np.int64)
    rows = np.arange(episodes)[:, None]
    for m in range(M):
        config = data @ radix[:, m, :, None]                      # (E, n+1, 1)
        data[:, :, m] = u[:, :, m] < theta[rows, m, config[..., 0]]
    return MixtureEpisodes(parents=np.ascontiguousarray(parents), theta=theta,
                           context=data[:, :n], query=data[:, n])


def _configs(samples: np.ndarray, subset: np.ndarray) -> np.ndarray:
    """Configuration index (first variable most significant) of ``samples[..., subset]``."""
    weights = 2 ** np.arange(len(subset) - 1, -1, -1, dtype=np.int64)
    return samples[..., subset] @ weights if len(subset) else np.zeros(samples.shape[:-1], np.int64)


def parent_counts(context: np.ndarray, query: np.ndarray, m0: int, parents: np.ndarray):
    """``(k, n)`` of the query's configuration, each ``(E,)``: rows matching the query on
    :math:`P(m_0)` (``parents (E, M, M)`` or ``(M, M)``) and those with :math:`x_{m_0} = 1`."""
    parents = np.broadcast_to(_check_parents(parents), (len(context),) + (context.shape[-1],) * 2)
    radix = _radix(parents)[:, m0]                                 # (E, M)
    match = (context @ radix[:, :, None])[..., 0] == (query * radix).sum(axis=-1)[:, None]
    return (match & (context[..., m0] == 1)).sum(axis=1), match.sum(axis=1)


def _subset_terms(context, query, m0: int, tables: dict):
    """Per subset ``S`` (bitmask over ``0..m0-1``): log marginal likelihood ``(E,)`` and the
    posterior mean at the query's configuration ``(E,)``; both ``(2^m0, E)``."""
    E, N, _ = context.shape
    x = context[..., m0]
    log_ml, means = [], []
    for mask in range(2 ** m0):
        subset = np.array([q for q in range(m0) if mask >> (m0 - 1 - q) & 1], dtype=np.int64)
        c = _configs(context, subset)                               # (E, N)
        size = 2 ** len(subset)
        flat = (np.arange(E)[:, None] * size + c).ravel()
        n_c = np.bincount(flat, minlength=E * size).reshape(E, size)
        k_c = np.bincount(flat, weights=x.ravel(), minlength=E * size).reshape(E, size).astype(np.int64)
        log_ml.append(tables["log_z"][k_c, n_c].sum(axis=1))
        cq = _configs(query, subset)
        rows = np.arange(E)
        means.append(tables["mean"][k_c[rows, cq], n_c[rows, cq]])
    return np.array(log_ml), np.array(means)


def _subset_sizes(m0: int) -> np.ndarray:
    return np.array([bin(mask).count("1") for mask in range(2 ** m0)])


def subset_posterior(context, query, m0: int, p: float, tables: dict | None = None) -> np.ndarray:
    """:math:`P(S \\mid D)` over the parent sets of ``m0`` for each episode, ``(E, 2^m0)``; set ``S``
    is the bitmask whose bit ``m0-1-q`` marks ``q`` (so ``S = 2^m0 - 1`` is every predecessor).

    ``context`` ``(E, N, M)`` binary, ``query`` ``(E, M)``, ``p`` in [0, 1] (``p = 1`` puts all
    mass on every predecessor, ``p = 0`` on the empty set). ``tables`` from
    :func:`numerics.bayesnet.bayes.posterior_tables` with ``n_max >= N`` (computed if omitted).
    """
    context, query = _episodes_arrays(context, query, m0)
    EDGE_PROBABILITY.check("p", p)
    tables = tables or bayes.posterior_tables(context.shape[1])
    log_ml, _ = _subset_terms(context, query, m0, tables)
    return _weights(log_ml, m0, p)


def _weights(log_ml: np.ndarray, m0: int, p: float) -> np.ndarray:
    sizes = _subset_sizes(m0)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_prior = np.where(sizes > 0, sizes * np.log(p), 0.0) + np.where(sizes < m0, (m0 - sizes) * np.log1p(-p), 0.0)
    log_w = log_ml + log_prior[:, None]
    log_w -= log_w.max(axis=0)
    w = np.exp(log_w)
    w /= w.sum(axis=0)
    if not np.all(np.isfinite(w)):
        raise NumericalFailure("parent-set posterior not finite")
    return w.T


def _episodes_arrays(context, query, m0):
    context, query = np.asarray(context), np.asarray(query)
    if context.dtype.kind not in "iu" or query.dtype.kind not in "iu" or context.ndim != 3 \
            or query.shape != (context.shape[0], context.shape[2]):
        raise InputError("context/query", (context.shape, query.shape), "integer (E, N, M) and (E, M)")
    if context.size and (context.min() < 0 or context.max() > 1) or query.size and (query.min() < 0 or query.max() > 1):
        raise InputError("context/query", "states outside {0, 1}", "binary states")
    check_int("m0", m0, 0, context.shape[2] - 1)
    MIXTURE_SIZE.check("M", context.shape[2])
    return context.astype(np.int64), query.astype(np.int64)


def bma_predict(context, query, m0: int, p: float, tables: dict | None = None) -> np.ndarray:
    """Bayes model average :math:`P(x_{m_0} = 1 \\mid D, x^{(q)}_{<m_0})` under R(M, ``p``), ``(E,)``:

    .. math:: \\sum_S P(S \\mid D)\\, \\mathbb E[\\theta \\mid k_{c_q(S)}, n_{c_q(S)}]

    (module docstring; arguments as :func:`subset_posterior`). ``p = 1`` gives the naive
    posterior mean (all predecessors), ``p = 0`` the root's (all rows).
    """
    context, query = _episodes_arrays(context, query, m0)
    EDGE_PROBABILITY.check("p", p)
    tables = tables or bayes.posterior_tables(context.shape[1])
    log_ml, means = _subset_terms(context, query, m0, tables)
    return (_weights(log_ml, m0, p) * means.T).sum(axis=1)


@result
class BaselineCurves:
    """Mean TV to the true conditional (node mean over targets, binary) against context length
    for the in-context baselines (spec Secs. 8, 11), on CPTs U(0.1, 0.9).

    Each curve is ``{N: mean}``; ``se`` holds the standard errors of the episode means
    (``{name: {N: se}}``).

    Attributes
    ----------
    tv_mle : dict
        Oracle MLE (true parents; 1/2 when no row matches).
    tv_floor : dict
        The floor: the posterior median's expected TV given the data (the least any estimator can
        reach in expectation).
    tv_bayes_mean : dict
        The posterior mean with the true parents (oracle Bayes mean).
    tv_bma : dict or None
        The Bayes model average under R(M, p) (random DAGs only).
    tv_naive : dict
        The MLE on all predecessors (1/2 when no row matches).
    acc_exp : dict
        :math:`\\mathbb E\\, p(\\arg\\max \\hat p)` of the oracle MLE (equal for the Bayes estimators).
    se : dict
        Standard errors of every curve above.
    """

    tv_mle: dict
    tv_floor: dict
    tv_bayes_mean: dict
    tv_bma: dict | None
    tv_naive: dict
    acc_exp: dict
    se: dict


def _mle(k, n):
    return np.where(n == 0, 0.5, k / np.maximum(n, 1))


def baseline_curves(ns, episodes: int, seed, *, M: int = 5, p: float = 0.5,
                    structure: Structure | None = None, bma: bool = True) -> BaselineCurves:
    """:class:`BaselineCurves` at the context lengths ``ns`` over ``episodes`` episodes each:
    random DAGs of R(``M``, ``p``), or the fixed binary ``structure`` (then no model average).
    Each length draws its own episodes from one generator of ``seed``."""
    ns = [int(MIXTURE_LENGTH.check("n", n)) for n in ns]
    if not ns:
        raise InputError("ns", ns, "at least one context length")
    MIXTURE_EPISODES.check("episodes", episodes)
    rng = as_generator(seed)
    tables = bayes.posterior_tables(max(ns))
    floor_table = _floor_table(tables)
    names = ("tv_mle", "tv_floor", "tv_bayes_mean", "tv_naive", "acc_exp") + (("tv_bma",) if bma and structure is None else ())
    curves = {k: {} for k in names}
    se = {k: {} for k in names}
    for n in ns:
        ep = sample_episodes(M, p, n, episodes, rng, structure=structure)
        Mv = ep.context.shape[2]
        rows = {k: [] for k in names}
        naive = np.tril(np.ones((Mv, Mv), dtype=bool), k=-1)
        for m0 in range(Mv):
            k, cnt = parent_counts(ep.context, ep.query, m0, ep.parents)
            truth = ep.theta[np.arange(episodes), m0, _true_config(ep, m0)]
            mle = _mle(k, cnt)
            rows["tv_mle"].append(np.abs(mle - truth))
            rows["tv_floor"].append(floor_table[k, cnt])
            rows["tv_bayes_mean"].append(np.abs(tables["mean"][k, cnt] - truth))
            kn, nn = parent_counts(ep.context, ep.query, m0, naive)
            rows["tv_naive"].append(np.abs(_mle(kn, nn) - truth))
            rows["acc_exp"].append(bayes.binary_acc_exp(mle, truth))
            if "tv_bma" in rows:
                rows["tv_bma"].append(np.abs(bma_predict(ep.context, ep.query, m0, p, tables) - truth))
        for key, values in rows.items():
            per_episode = np.mean(values, axis=0)
            curves[key][n] = float(per_episode.mean())
            se[key][n] = float(per_episode.std(ddof=1) / np.sqrt(episodes)) if episodes > 1 else float("nan")
    return BaselineCurves(tv_mle=curves["tv_mle"], tv_floor=curves["tv_floor"],
                          tv_bayes_mean=curves["tv_bayes_mean"], tv_bma=curves.get("tv_bma"),
                          tv_naive=curves["tv_naive"], acc_exp=curves["acc_exp"], se=se)


def _true_config(ep: MixtureEpisodes, m0: int) -> np.ndarray:
    return (ep.query * _radix(ep.parents)[:, m0]).sum(axis=-1)


def _floor_table(tables: dict) -> np.ndarray:
    """``[k, n]`` of the posterior median's expected TV given ``(k, n)`` (0 where ``k > n``)."""
    n_max = tables["median"].shape[0] - 1
    k, n = np.meshgrid(np.arange(n_max + 1), np.arange(n_max + 1), indexing="ij")
    ok = k <= n
    out = np.zeros(k.shape)
    out[ok] = bayes.posterior_abs_deviation(tables["median"][ok], k[ok], n[ok])
    return out

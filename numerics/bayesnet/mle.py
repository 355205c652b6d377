"""In-context MLE of Bayesian-network conditionals, baselines, plug-in generation, TV metrics.

Cao et al. 2025 (arXiv 2501.02547), Sec. 4. Formulas in :mod:`theory.bayesnet`; everything here
is vectorised over episodes. The ``on_empty`` conventions and the priors are the library's.

Shapes: a context is ``(N, M)`` or a batch ``(E, N, M)`` of int states; a query is ``(M,)`` or
``(E, M)`` (only entries of the target's parents are read). Probabilities come back as
``(d,)`` or ``(E, d)``.

Conventions when no context row matches the query's parents (``|I(m0)| = 0``), ``on_empty``:

- ``"nan"`` (default): the estimate is NaN (the MLE is 0/0);
- ``"uniform"``: ``1/d`` (pgmpy's choice);
- ``"marginal"``: the marginal MLE of ``x_{m0}`` over the whole context;
- ``"backoff"``: the MLE over the rows that agree with the query on the largest number of
  parents (what the two-layer construction computes; equal to the MLE when ``|I| >= 1``).

``prior`` adds Dirichlet pseudo-counts per cell: ``"k2"`` (1), ``"bdeu"`` (``ess/(d q)``, ``q`` the
number of parent configurations); with a prior every row is defined and ``on_empty`` is unused.
"""

from __future__ import annotations

import numpy as np

from numerics.bayesnet.networks import Network, Structure, check_states, sample_batch
from theory.budgets import check_memory
from theory.domains import POSITIVE, integer, real
from theory.errors import InputError, NumericalFailure, check_choice, check_int
from theory.results import result

ON_EMPTY = ("nan", "uniform", "marginal", "backoff")
PRIORS = ("none", "k2", "bdeu")
#: BDeu equivalent sample size: a positive finite real.
ESS = POSITIVE
#: Matching rows of :func:`mean_abs_error_exact` (one pmf entry per row count: 80 MB at 10^7).
PMF_ROWS = integer(1, 10_000_000, note="one binomial pmf entry per count: 80 MB at 10^7")
#: The probability of :func:`mean_abs_error_exact` (the ends are allowed: the error is 0).
PROBABILITY_CLOSED = real(0, 1)


def pseudocount(structure: Structure, m: int, prior: str, ess: float = 1.0) -> float:
    """Dirichlet pseudo-count per cell of variable ``m``: 0, 1 (K2) or ``ess/(d q)`` (BDeu)."""
    check_choice("prior", prior, PRIORS)
    if prior == "none":
        return 0.0
    if prior == "k2":
        return 1.0
    ESS.check("ess", ess)
    alpha = float(ess) / (structure.cards[m] * structure.n_configs(m))
    if not alpha > 0:
        raise InputError("ess", ess, f"an equivalent sample size large enough that ess/(d q) > 0 "
                                     f"(d q = {structure.cards[m] * structure.n_configs(m)})")
    return alpha


def as_int_array(name: str, value) -> np.ndarray:
    """``value`` as an integer (or boolean) array; floats, objects and ragged lists are refused."""
    try:
        array = np.asarray(value)
    except (ValueError, TypeError):
        raise InputError(name, type(value).__name__, "a rectangular integer array") from None
    if array.dtype.kind not in "biu":
        raise InputError(name, f"shape {array.shape}, dtype {array.dtype}", "an integer array of states")
    return array


def _as_batch(context, query):
    context = as_int_array("context", context)
    single = context.ndim == 2
    if context.ndim not in (2, 3):
        raise InputError("context", f"shape {context.shape}", "(N, M) or (E, N, M)")
    context = context[None] if single else context
    if query is not None:
        query = as_int_array("query", query)
        query = query[None] if query.ndim == 1 else query
        if query.shape != (context.shape[0], context.shape[2]):
            raise InputError("query", f"shape {np.asarray(query).shape}",
                             f"(M,) or (E, M) matching the context {context.shape}")
    return context.astype(np.int64, copy=False), query, single


def _normalise(counts: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    total = counts.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        probs = (counts + alpha) / (total[..., None] + alpha * counts.shape[-1])
    return probs, total


@result
class ConditionalEstimate:
    """In-context estimate of one conditional for each episode (Cao et al. 2025, Sec. 4).

    .. math:: \\hat p_{m_0}(j) = \\frac{\\#\\{i \\in I(m_0) : x^{(i)}_{m_0} = j\\} + \\alpha}
                                {|I(m_0)| + d\\,\\alpha}

    Attributes
    ----------
    probs : ndarray, shape (E, d), or (d,) for a single context
        :math:`\\hat p_{m_0}(\\cdot \\mid x^{(q)}_{P(m_0)})` (probabilities; NaN where undefined
        under ``on_empty="nan"``).
    count : ndarray of int64, shape (E,), or int for a single context
        :math:`|I(m_0)|`, the number of context rows matching the query on the parents.
    """

    probs: np.ndarray
    count: np.ndarray | int


@result
class MleTables:
    """Every CPT estimated from the context (Cao et al. 2025, Sec. 4; one row per configuration).

    Attributes
    ----------
    tables : list of ndarray, length M
        ``tables[m]`` of shape ``(E, n_configs_m, d_m)`` (``(n_configs_m, d_m)`` for a single
        context): :math:`\\hat p_m(\\cdot \\mid c)` for every parent configuration ``c``
        (probabilities; encoding of ``c`` as in :mod:`numerics.bayesnet.networks`).
    counts : list of ndarray of int64, length M
        ``counts[m]`` of shape ``(E, n_configs_m)`` (``(n_configs_m,)`` for a single context):
        the number of context rows in each parent configuration.
    """

    tables: list
    counts: list


def _check_query(structure: Structure, query: np.ndarray, ps: list, m0: int) -> None:
    if any(q >= m0 for q in ps):
        raise InputError("parents", ps, f"variables before the target {m0}")
    for q in ps:
        bad = (query[:, q] < 0) | (query[:, q] >= structure.cards[q])
        if np.any(bad):
            raise InputError(f"query state of {structure.names[q]}", int(query[bad, q][0]),
                             f"an integer in 0..{structure.cards[q] - 1}")


def _empty_fill(on_empty: str, context: np.ndarray, onehot: np.ndarray, match: np.ndarray,
                agree: np.ndarray, empty: np.ndarray, d: int) -> np.ndarray:
    """Estimates ``(#empty, d)`` of the episodes with no matching row, under ``on_empty``."""
    if context.shape[1] == 0 and on_empty in ("marginal", "backoff"):
        raise InputError("context", "N=0 samples", f"at least one sample for on_empty={on_empty!r}")
    if on_empty == "uniform":
        return np.full((int(empty.sum()), d), 1.0 / d)
    rows = np.ones_like(match) if on_empty == "marginal" else agree == agree.max(axis=1, keepdims=True)
    fill_counts = (rows[..., None] & onehot).sum(axis=1)[empty].astype(np.float64)
    return fill_counts / fill_counts.sum(axis=-1, keepdims=True)


def in_context_mle(structure: Structure, context, query, m0: int, *, on_empty: str = "nan",
                   prior: str = "none", ess: float = 1.0, parents=None) -> ConditionalEstimate:
    """In-context MLE :math:`\\hat p_{m_0}(\\cdot \\mid x^{(q)}_{P(m_0)})` for each episode
    (Cao et al. 2025, Sec. 4).

    .. math:: I(m_0) = \\{i : x^{(i)}_m = x^{(q)}_m\\ \\forall m \\in P(m_0)\\},\\qquad
              \\hat p_{m_0}(j) = \\frac{\\#\\{i \\in I(m_0) : x^{(i)}_{m_0} = j\\} + \\alpha}
                                     {|I(m_0)| + d\\,\\alpha}

    (``alpha = 0`` without prior).

    Parameters
    ----------
    structure : Structure
        The network's variables and parent sets :math:`P(m)`.
    context : int array, shape (N, M) or (E, N, M)
        The samples :math:`x^{(1..N)}` of one or ``E`` episodes.
    query : int array, shape (M,) or (E, M)
        :math:`x^{(q)}`; only the entries of the target's parents are read.
    m0 : int
        The target variable :math:`m_0`.
    on_empty, prior, ess
        Convention when :math:`|I(m_0)| = 0` and Dirichlet prior (see the module docstring).
    parents : sequence of int, optional
        Overrides ``structure.parents[m0]`` (the naive baseline passes all predecessors).

    Returns
    -------
    ConditionalEstimate
        ``probs`` of shape ``(E, d)`` (``(d,)`` for a single context) and ``count`` =
        :math:`|I(m_0)|` of shape ``(E,)`` (an int for a single context).
    """
    check_int("m0", m0, 0, structure.M - 1)
    check_choice("on_empty", on_empty, ON_EMPTY)
    context, query, single = _as_batch(context, query)
    check_states(structure, context, "context")
    if parents is not None and (isinstance(parents, (str, bytes)) or not all(
            isinstance(q, (int, np.integer)) and not isinstance(q, bool) for q in parents)):
        raise InputError("parents", parents, "a sequence of variable indices")
    ps = list(structure.parents[m0] if parents is None else parents)
    if len(set(ps)) != len(ps) or any(not 0 <= q < structure.M for q in ps):
        raise InputError("parents", ps, f"distinct variable indices before the target {m0}")
    _check_query(structure, query, ps, m0)
    d = structure.cards[m0]
    alpha = pseudocount(structure, m0, prior, ess)
    E, N = context.shape[:2]
    check_memory("context", f"shape {context.shape}", E * N * (9 * len(ps) + d + 26) + 16 * E * d,
                 "matching rows (E N (9|P| + d + 26) bytes)")
    onehot = context[..., m0, None] == np.arange(d)                       # (E, N, d)
    agree = (context[..., ps] == query[:, None, ps]).sum(axis=-1)         # (E, N)
    match = agree == len(ps)
    counts = (match[..., None] & onehot).sum(axis=1).astype(np.float64)  # (E, d)
    probs, total = _normalise(counts, alpha)
    empty = total == 0
    if np.any(empty) and prior == "none" and on_empty != "nan":
        probs[empty] = _empty_fill(on_empty, context, onehot, match, agree, empty, d)
    if single:
        return ConditionalEstimate(probs=probs[0], count=int(total[0]))
    return ConditionalEstimate(probs=probs, count=total.astype(np.int64))


def naive_mle(structure: Structure, context, query, m0: int, **kwargs) -> ConditionalEstimate:
    """Baseline "naive": the in-context MLE conditioning on *all* predecessors ``0..m0-1``
    (keyword arguments as :func:`in_context_mle`)."""
    return in_context_mle(structure, context, query, m0, parents=tuple(range(m0)), **kwargs)


def mle_tables(structure: Structure, context, *, on_empty: str = "nan", prior: str = "none",
               ess: float = 1.0) -> MleTables:
    """Every CPT estimated from the context at once (one ``bincount`` per variable).

    .. math:: \\hat p_m(j \\mid c) = \\frac{\\#\\{i : c(x^{(i)}_{P(m)}) = c,\\ x^{(i)}_m = j\\} + \\alpha}
                                         {\\#\\{i : c(x^{(i)}_{P(m)}) = c\\} + d_m \\alpha}

    ``context`` of shape ``(N, M)`` or ``(E, N, M)``. Rows of unobserved configurations follow
    ``on_empty`` / ``prior`` (as :func:`in_context_mle`). Returns :class:`MleTables`.
    """
    check_choice("on_empty", on_empty, ON_EMPTY)
    check_choice("prior", prior, PRIORS)
    context, _, single = _as_batch(context, None)
    check_states(structure, context, "context")
    E, N, _ = context.shape
    cells = max(structure.n_configs(m) * structure.cards[m] for m in range(structure.M))
    check_memory("context", f"shape {context.shape}", E * (24 * cells + 32 * N),
                 "count tables (E x configurations x card) and indices")
    tables, all_counts = [], []
    for m in range(structure.M):
        q, d = structure.n_configs(m), structure.cards[m]
        flat = (np.arange(E)[:, None] * q + structure.config_index(m, context)) * d + context[..., m]
        counts = np.bincount(flat.ravel(), minlength=E * q * d).reshape(E, q, d).astype(np.float64)
        probs, total = _normalise(counts, pseudocount(structure, m, prior, ess))
        if prior == "none" and on_empty != "nan":
            for config in np.flatnonzero(np.any(total == 0, axis=0)):
                episodes = np.flatnonzero(total[:, config] == 0)
                query = np.zeros((len(episodes), structure.M), dtype=np.int64)
                query[:, list(structure.parents[m])] = structure.config_states(m, config)
                probs[episodes, config] = in_context_mle(structure, context[episodes], query, m,
                                                         on_empty=on_empty).probs
        tables.append(probs[0] if single else probs)
        all_counts.append((total[0] if single else total).astype(np.int64))
    return MleTables(tables=tables, counts=all_counts)


def plugin_network(structure: Structure, context, *, on_empty: str = "backoff", prior: str = "none",
                   ess: float = 1.0) -> Network:
    """The plug-in network :math:`\\prod_m \\hat p_m(x_m \\mid x_{P(m)})` of one context ``(N, M)``.

    Its joint law is the law of a sample generated autoregressively from the in-context MLE.
    ``on_empty="nan"`` is refused when a configuration is unobserved.
    """
    tables = mle_tables(structure, context, on_empty=on_empty, prior=prior, ess=ess).tables
    if np.asarray(context).ndim != 2:
        raise InputError("context", f"shape {np.asarray(context).shape}", "one context (N, M)")
    if any(np.isnan(t).any() for t in tables):
        raise InputError("on_empty", on_empty,
                         "a convention that defines unobserved configurations (uniform, marginal, backoff) or a prior")
    return Network(structure, tuple(tables))


def true_conditional(structure: Structure, cpts, query, m0: int) -> np.ndarray:
    """:math:`p_{m_0}(\\cdot \\mid x^{(q)}_{P(m_0)})` for each episode: ``cpts[m]`` of shape
    ``(E, n_configs, d)``, ``query`` ``(E, M)``; returns ``(E, d)``."""
    query = as_int_array("query", query)
    check_int("m0", m0, 0, structure.M - 1)
    if query.ndim != 2 or query.shape[1] != structure.M:
        raise InputError("query", f"shape {query.shape}", f"(E, {structure.M})")
    check_states(structure, query, "query")
    config = structure.config_index(m0, query)
    return np.asarray(cpts[m0])[np.arange(len(query)), config]


def tv(p, q, axis: int = -1) -> np.ndarray:
    """Total variation :math:`\\frac12 \\sum_j |p_j - q_j|` along ``axis``.

    ``p`` and ``q``: real arrays of broadcastable shapes with finite entries (:class:`InputError`
    otherwise: a NaN estimate has no total variation)."""
    arrays = []
    for name, value in (("p", p), ("q", q)):
        try:
            array = np.asarray(value)
            if array.dtype.kind not in "biuf":
                raise TypeError
            array = array.astype(np.float64, copy=False)
        except (TypeError, ValueError):
            raise InputError(name, type(value).__name__, "a real array") from None
        if not np.all(np.isfinite(array)):
            raise InputError(name, "an array with NaN or infinite entries", "finite probabilities")
        arrays.append(array)
    try:
        return 0.5 * np.abs(arrays[0] - arrays[1]).sum(axis=axis)
    except (ValueError, np.exceptions.AxisError) as exc:
        raise InputError("p, q", (arrays[0].shape, arrays[1].shape),
                         f"broadcastable shapes with axis {axis} ({exc})") from None


def mean_abs_error_exact(p: float, n: int) -> float:
    """:math:`E|K/n - p|`, :math:`K \\sim \\mathrm{Bin}(n, p)`, by summing the binomial pmf (float64)."""
    from scipy.stats import binom

    PROBABILITY_CLOSED.check("p", p)
    PMF_ROWS.check("n", n)
    k = np.arange(n + 1)
    try:
        value = float(np.sum(binom.pmf(k, n, p) * np.abs(k / n - p)))
    except (OverflowError, FloatingPointError) as exc:
        raise NumericalFailure(f"binomial pmf failed for p={p!r}, n={n} ({exc})") from None
    if not np.isfinite(value):
        raise NumericalFailure(f"E|K/n - p| is not finite for p={p!r}, n={n}")
    return value


def expected_tv(structure: Structure, cpts, n: int, *, episodes: int, seed, estimator: str = "mle",
                on_empty: str = "backoff") -> np.ndarray:
    """Monte Carlo expected TV between an estimate and the truth, per target.

    For each of ``episodes`` networks (``cpts[m]`` of shape ``(E, q, d)``), draw a context of ``n``
    samples and a query from the same network; for every target ``m0`` compare the estimate
    (``"mle"`` with the true parents, ``"naive"`` with all predecessors) with the true
    conditional. Returns ``(M,)`` mean TVs.
    """
    check_choice("estimator", estimator, ("mle", "naive"))
    check_choice("on_empty", on_empty, ON_EMPTY)
    check_int("episodes", episodes, 1)
    check_int("n", n, 0)
    data = sample_batch(structure, cpts, n + 1, seed)
    context, query = data[:, :n], data[:, n]
    out = np.zeros(structure.M)
    fn = in_context_mle if estimator == "mle" else naive_mle
    for m0 in range(structure.M):
        probs = fn(structure, context, query, m0, on_empty=on_empty).probs
        out[m0] = tv(probs, true_conditional(structure, cpts, query, m0)).mean()
    return out

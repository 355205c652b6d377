"""The two-layer construction as numbers: weight arrays, prompts, forward pass, errors (numpy).

Cao et al. 2025 (arXiv 2501.02547), Theorem 4.1 and Lemmas 6.1, 6.2, with the library's
reconstruction of the weights. The weights are the sympy matrices of
:func:`theory.bayesnet.construction_weights` evaluated at a numeric ``beta`` (cached per
structure); :func:`encode_prompts` builds the paper's prompt layout for many episodes at once.

:class:`NumpyConstruction` runs the forward pass in numpy; ``validation.bayesnet.models.ConstructedTransformer``
runs the same weights in torch. Both expose ``structure``, ``beta`` and ``query_output(X)``, which is
all that :func:`predict`, :func:`generation_law`, :func:`generate`, :func:`construction_errors` and
:func:`construction_report` need.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import sympy as sp

from numerics.bayesnet import networks
from numerics.bayesnet import mle
from numerics.bayesnet.domains import BETA, CONTEXT_LENGTH  # noqa: F401  (re-exported)
from numerics.bayesnet.networks import Structure, check_states
from numerics.shared.seeding import as_generator
from theory import bayesnet
from theory.budgets import check_memory
from theory.domains import integer
from theory.errors import InputError, NumericalFailure, TooLargeError, check_int
from theory.results import result

#: Queries drawn by :func:`construction_report`.
QUERIES = integer(1, 1024, note="each query is a prompt of every target")
#: Largest number of joint states enumerated by :func:`generation_law` (and so by
#: :func:`construction_report`).
MAX_GENERATION_STATES = 2**14
#: Arrays alive at once in the forward pass, in units of the prompts ``X`` (measured peak: about
#: 3 copies of ``X``; 4 leaves a margin).
FORWARD_COPIES = 4


def _reference_work() -> int:
    reference = networks.family_structure("general5")
    return construction_work(reference, CONTEXT_LENGTH.high, 64)


def construction_work(structure: Structure, n: int, n_queries: int) -> int:
    """Cost of :func:`construction_report` in multiply-adds (up to a constant):
    ``(M * n_queries + sum_m0 prod cards[:m0]) * (n + 1) * R^2``, ``R = (2M+1) d`` rows."""
    rows = (2 * structure.M + 1) * block_size(structure)
    prompts = structure.M * n_queries + sum(math.prod(structure.cards[:m0]) for m0 in range(structure.M))
    return prompts * (n + 1) * rows * rows


@lru_cache(maxsize=64)
def _symbolic(M: int, d: int, parents: tuple) -> bayesnet.ConstructionWeights:
    return bayesnet.construction_weights(M, d, [list(p) for p in parents])


def block_size(structure: Structure) -> int:
    """Common block width ``d = max_m d_m`` (a variable with fewer states uses the first entries)."""
    return max(structure.cards)


def construction_arrays(structure: Structure, beta: float) -> bayesnet.ConstructionWeights:
    """Weights ``W1, W2, K, Q, V`` (float64 arrays) and ``C`` of the construction at ``beta``:
    :func:`theory.bayesnet.construction_weights` evaluated at :math:`\\beta` = ``beta``.

    Shapes with ``R = (2M+1) d``: ``W1`` (Md, R), ``W2`` (R, Md), ``K``/``Q`` (Md+1, R), ``V`` (R, R).
    """
    beta = check_beta(beta)
    if not isinstance(structure, Structure):
        raise InputError("structure", type(structure).__name__, "a Structure")
    weights = _symbolic(structure.M, block_size(structure), structure.parents)
    value = sp.Float(float(beta), 30)

    def evaluate(matrix) -> np.ndarray:
        return np.array(matrix.subs(bayesnet.beta, value).tolist(), dtype=np.float64)

    return bayesnet.ConstructionWeights(W1=evaluate(weights.W1), W2=evaluate(weights.W2),
                                        K=evaluate(weights.K), Q=evaluate(weights.Q),
                                        V=evaluate(weights.V), C=weights.C)


def encode_prompts(structure: Structure, contexts, queries, m0) -> np.ndarray:
    """Prompts in the paper's layout, shape ``(E, (2M+1) d, N+1)``, query in the last column.

    ``contexts``: ``(E, N, M)``; ``queries``: ``(E, M)`` (entries ``>= m0`` ignored); ``m0``: an
    int or an ``(E,)`` array of targets.
    """
    contexts = mle.as_int_array("contexts", contexts).astype(np.int64, copy=False)
    queries = mle.as_int_array("queries", queries).astype(np.int64, copy=False)
    if contexts.ndim != 3 or queries.shape != (contexts.shape[0], structure.M) \
            or contexts.shape[2] != structure.M:
        raise InputError("contexts/queries", (contexts.shape, queries.shape), "(E, N, M) and (E, M)")
    E, N, M = contexts.shape
    rows = (2 * M + 1) * block_size(structure)
    check_memory("contexts", f"shape {contexts.shape}", FORWARD_COPIES * 8 * E * rows * (N + 1),
                 f"prompts ({FORWARD_COPIES} x E x (2M+1)d x (N+1) floats)")
    check_states(structure, contexts, "context")
    m0 = np.broadcast_to(np.asarray(m0, dtype=np.int64), (E,))
    if np.any((m0 < 0) | (m0 >= M)):
        raise InputError("m0", m0.tolist()[:5], f"targets in 0..{M - 1}")
    known = np.arange(M)[None, :] < m0[:, None]
    check_states(structure, np.where(known, queries, 0), "query")
    d = block_size(structure)
    lay = bayesnet.layout(M, d)
    X = np.zeros((E, (2 * M + 1) * d, N + 1))
    rows = np.arange(M)[None, None, :] * d + contexts                 # (E, N, M)
    e_idx = np.arange(E)[:, None, None]
    n_idx = np.arange(N)[None, :, None]
    X[e_idx, rows, n_idx] = 1.0
    X[:, lay.flag, :N] = 1.0
    qe, qm = np.nonzero(known)
    X[qe, qm * d + queries[qe, qm], N] = 1.0
    X[np.arange(E)[:, None], lay.target.start + m0[:, None] * d + np.arange(d)[None, :], N] = 1.0
    return X


def prompt_bound(structure: Structure, contexts, queries, m0: int, beta: float, *,
                 C: int | None = None) -> np.ndarray:
    """Per-prompt bound on ``TV(p_TF, p_hat)`` (``p_hat`` with back-off), shape ``(E,)``.

    With ``k*`` the largest number of parents on which a context row agrees with the query and
    ``I*`` the rows reaching it (``I* = I(m0)`` when ``k* = |P(m0)|``):

    .. math:: \\frac{(N - |I^*|) e^{-\\beta} + e^{-\\beta (C + k^* - |P|)}}{|I^*|}

    which is :func:`theory.bayesnet.tv_bound` when ``|I| >= 1`` (then ``k* = |P|``). ``C``
    defaults to ``D + 1`` of ``structure``; the structure-agnostic construction
    (:class:`MaskConstruction`) passes its own ``D + 1``.
    """
    check_int("m0", m0, 0, structure.M - 1)
    beta = check_beta(beta)
    contexts = mle.as_int_array("contexts", contexts)
    queries = mle.as_int_array("queries", queries)
    if contexts.ndim != 3 or contexts.shape[1] == 0 or contexts.shape[2] != structure.M \
            or queries.shape != (contexts.shape[0], structure.M):
        raise InputError("contexts/queries", (contexts.shape, queries.shape),
                         "(E, N, M) with N >= 1 and (E, M)")
    check_memory("contexts", f"shape {contexts.shape}",
                 contexts.shape[0] * contexts.shape[1] * (9 * len(structure.parents[m0]) + 17),
                 "matching rows")
    ps = list(structure.parents[m0])
    agree = (contexts[..., ps] == queries[:, None, ps]).sum(axis=-1)
    best = agree.max(axis=1)
    size = (agree == best[:, None]).sum(axis=1)
    if C is not None:
        check_int("C", C, structure.max_indegree + 1)
    C = structure.max_indegree + 1 if C is None else int(C)
    N = contexts.shape[1]
    return ((N - size) * np.exp(-beta) + np.exp(-beta * (C + best - len(ps)))) / size


def check_beta(beta) -> float:
    """``beta`` as a float; :class:`InputError` unless it lies in :data:`BETA` (0, 10^6]."""
    return float(BETA.check("beta", beta))


def enumerate_prefixes(structure: Structure, m0: int) -> np.ndarray:
    """All configurations of ``x_0..x_{m0-1}`` as queries ``(prod cards[:m0], M)`` (zeros after)."""
    check_int("m0", m0, 0, structure.M - 1)
    cards = structure.cards[:m0]
    count = math.prod(cards)
    check_memory("m0", m0, 8 * count * (structure.M + m0), f"{count} prefixes")
    grid = np.indices(cards).reshape(m0, -1).T if m0 else np.zeros((1, 0), dtype=np.int64)
    out = np.zeros((len(grid), structure.M), dtype=np.int64)
    out[:, :m0] = grid
    return out


class NumpyConstruction:
    """The construction's forward pass in numpy (float64), the same weights as the torch model.

    .. math:: H_1 = X + W_2\\,\\mathrm{ReLU}(W_1 X), \\qquad
              H_2 = H_1 + V H_1\\,\\mathrm{softmax}_{\\text{keys}}\\big((K H_1)^T (Q H_1)\\big)
    """

    n_layers = 2

    def __init__(self, structure: Structure, beta: float):
        self.structure = structure
        self.beta = check_beta(beta)
        self.arrays = construction_arrays(structure, self.beta)
        self.C = self.arrays.C

    def forward(self, X: np.ndarray, query_only: bool = False) -> np.ndarray:
        """Output ``(E, R, T)`` (``(E, R, 1)`` with ``query_only``) for prompts ``(E, R, T)``."""
        a = self.arrays
        X = np.asarray(X)
        if X.dtype.kind != "f" or X.ndim != 3 or X.shape[1] != a.W1.shape[1] or X.shape[2] < 1:
            raise InputError("X", f"shape {X.shape}, dtype {X.dtype}",
                             f"float prompts (E, {a.W1.shape[1]}, T) from encode_prompts")
        H = X + a.W2 @ np.maximum(a.W1 @ X, 0.0)
        queries = H[..., -1:] if query_only else H
        scores = np.swapaxes(a.K @ H, -1, -2) @ (a.Q @ queries)
        scores = np.exp(scores - scores.max(axis=-2, keepdims=True))
        return queries + a.V @ H @ (scores / scores.sum(axis=-2, keepdims=True))

    def query_output(self, X: np.ndarray) -> np.ndarray:
        """The query column of the output, ``(E, R)``."""
        return self.forward(X, query_only=True)[..., -1]


def _query_output(model, X: np.ndarray, batch: int = 256) -> np.ndarray:
    outs = [model.query_output(X[start:start + batch]) for start in range(0, len(X), batch)]
    return np.concatenate(outs) if outs else np.zeros((0, X.shape[1]))


def predict(model, contexts, queries, m0: int) -> np.ndarray:
    """``p_TF`` for target ``m0``: the readout ``A_{m0} = [0, -I_d, 0]`` of the query column.

    Returns ``(E, d_{m0})`` (entries beyond the variable's cardinality are dropped; they are 0).
    Its entries sum to ``1 - w_self`` where ``w_self`` is the query's attention to itself.
    """
    s = model.structure
    X = encode_prompts(s, contexts, queries, m0)
    d = block_size(s)
    out = -_query_output(model, X)[:, m0 * d: m0 * d + s.cards[m0]]
    if not np.all(np.isfinite(out)):
        raise NumericalFailure(f"construction output not finite at beta={model.beta}")
    return out


def _normalise(p: np.ndarray) -> np.ndarray:
    return p / p.sum(axis=-1, keepdims=True)


def generation_law(model, context, max_states: int = 2**14) -> np.ndarray:
    """Exact law of ``x`` generated autoregressively by the construction from one context ``(N, M)``.

    .. math:: P(x) = \\prod_{m} \\bar p_{TF}(x_m \\mid x_{<m}), \\qquad
              \\bar p_{TF} = p_{TF} / \\textstyle\\sum_j p_{TF}(j)

    computed by enumerating every prefix (``sum_m prod cards[:m]`` prompts). Shape ``cards``.
    ``max_states`` at most :data:`MAX_GENERATION_STATES`; a law that is not finite (the readout
    summing to 0) is a :class:`NumericalFailure`.
    """
    s = model.structure
    check_int("max_states", max_states, 1, MAX_GENERATION_STATES)
    total = math.prod(s.cards)
    if total > max_states:
        raise TooLargeError("network", f"{total} joint states", f"at most {max_states} for exact enumeration")
    context = mle.as_int_array("context", context)
    if context.ndim != 2:
        raise InputError("context", f"shape {context.shape}", "one context (N, M)")
    law = np.ones(s.cards)
    for m0 in range(s.M):
        prefixes = enumerate_prefixes(s, m0)
        probs = _normalise(predict(model, np.broadcast_to(context, (len(prefixes),) + context.shape),
                                   prefixes, m0))
        shape = s.cards[:m0 + 1] + (1,) * (s.M - m0 - 1)
        law = law * probs.reshape(shape)
    if not np.all(np.isfinite(law)):
        raise NumericalFailure(f"generation law not finite at beta={model.beta} (the readout sums to 0)")
    return law


def generate(model, context, n: int, seed) -> np.ndarray:
    """``n`` samples generated autoregressively (``x_0, x_1, ...`` in order) from one context.

    .. math:: x_m \\sim \\bar p_{TF}(\\cdot \\mid x_{<m}), \\quad m = 0, \\dots, M-1

    ``context`` of shape ``(N, M)``; ``seed`` an int >= 0 or a numpy Generator (one uniform per
    sample and variable, inverse CDF). Returns int64 ``(n, M)``.
    """
    check_int("n", n, 0)
    s = model.structure
    context = mle.as_int_array("context", context)
    if context.ndim != 2:
        raise InputError("context", f"shape {context.shape}", "one context (N, M)")
    rng = as_generator(seed)
    out = np.zeros((n, s.M), dtype=np.int64)
    contexts = np.broadcast_to(context, (n,) + context.shape)
    for m0 in range(s.M):
        probs = _normalise(predict(model, contexts, out, m0))
        if not np.all(np.isfinite(probs)):
            raise NumericalFailure(f"generation probabilities not finite at beta={model.beta}")
        out[:, m0] = (rng.random(n)[:, None] >= np.cumsum(probs, axis=1)).sum(axis=1).clip(max=s.cards[m0] - 1)
    return out


@result
class ConstructionErrors:
    """The construction against the in-context MLE, per target and query (Cao et al. 2025,
    Theorem 4.1 and Lemma 6.2).

    Attributes
    ----------
    tv : ndarray, shape (M, Q)
        :math:`\\mathrm{TV}(p_{TF}, \\hat p)` for target ``m0`` (row) and query ``q`` (column),
        :math:`\\hat p` the in-context MLE with back-off.
    bound : ndarray, shape (M, Q)
        The per-prompt bound of :func:`prompt_bound` (Lemma 6.2 when ``count >= 1``).
    count : ndarray of int64, shape (M, Q)
        :math:`|I(m_0)|`, the number of context rows matching the query on the parents.
    """

    tv: np.ndarray
    bound: np.ndarray
    count: np.ndarray


def construction_errors(model, context, queries) -> ConstructionErrors:
    """For every target ``m0``: TV between ``p_TF`` and the in-context MLE (with back-off) and the
    per-prompt bound (:func:`prompt_bound`), over ``queries``.

    .. math:: \\mathrm{TV}(p_{TF}, \\hat p) \\le
              \\frac{(N - |I|) e^{-\\beta} + e^{-\\beta C}}{|I|}

    ``model`` exposes ``structure``, ``beta`` and ``query_output``; ``context`` ``(N, M)``;
    ``queries`` ``(Q, M)``. Returns :class:`ConstructionErrors` of shape ``(M, Q)`` arrays.
    """
    structure = model.structure
    context = mle.as_int_array("context", context)
    queries = mle.as_int_array("queries", queries)
    if context.ndim != 2 or queries.ndim != 2:
        raise InputError("context/queries", (context.shape, queries.shape), "(N, M) and (Q, M)")
    contexts = np.broadcast_to(context, (len(queries),) + context.shape)
    tv, bound, count = [], [], []
    for m0 in range(structure.M):
        p_tf = predict(model, contexts, queries, m0)
        estimate = mle.in_context_mle(structure, contexts, queries, m0, on_empty="backoff")
        tv.append(mle.tv(p_tf, estimate.probs))
        bound.append(prompt_bound(structure, contexts, queries, m0, model.beta))
        count.append(estimate.count)
    return ConstructionErrors(tv=np.array(tv), bound=np.array(bound), count=np.array(count))


@result
class ConstructionReport:
    """What ``ttc bayesnet construct`` prints: the construction on one random context (Cao et al.
    2025, Theorem 4.1: estimation and generation).

    Attributes
    ----------
    max_tv_vs_mle : float
        Largest :math:`\\mathrm{TV}(p_{TF}, \\hat p)` over every target and query.
    bound : float
        Largest per-prompt bound (:func:`prompt_bound`) over the same prompts.
    generation_max_abs_error : float
        :math:`\\max_x |P_{TF}(x) - \\prod_m \\hat p_m(x_m \\mid x_{P(m)})|` over the joint
        states (exact enumeration): generated law against the plug-in network's law.
    """

    max_tv_vs_mle: float
    bound: float
    generation_max_abs_error: float


def construction_report(network: networks.Network, n: int, beta: float, seed: int, n_queries: int = 64,
                        factory=None) -> ConstructionReport:
    """The construction on a context of ``n`` samples and ``n_queries`` queries drawn from
    ``network`` (one draw of ``n + n_queries`` samples from ``seed``).

    ``factory(structure, beta)`` builds the model: :class:`NumpyConstruction` by default,
    :class:`validation.bayesnet.models.ConstructedTransformer` for torch. Returns
    :class:`ConstructionReport`: the largest TV to the MLE and bound over every target and query
    (:func:`construction_errors`), and the generated law (:func:`generation_law`) against the
    plug-in network's law.

    Arguments: ``n`` in :data:`CONTEXT_LENGTH`, ``n_queries`` in :data:`QUERIES`, ``beta`` in
    :data:`BETA`; :func:`check_construction_size` refuses (:class:`TooLargeError`) a network and
    ``n`` whose cost exceeds that of 5 binary variables at ``N = 4000`` or whose prompts exceed
    the memory budget, before anything is computed.
    """
    if not isinstance(network, networks.Network):
        raise InputError("network", type(network).__name__, "a Network")
    CONTEXT_LENGTH.check("n", n)
    QUERIES.check("n_queries", n_queries)
    check_beta(beta)
    check_construction_size(network.structure, n, n_queries)
    model = (factory or NumpyConstruction)(network.structure, beta)
    data = networks.sample(network, n + n_queries, seed)
    context, queries = data[:n], data[n:]
    errors = construction_errors(model, context, queries)
    law_tf = generation_law(model, context)
    law_plugin = networks.joint_law(mle.plugin_network(network.structure, context, on_empty="backoff"))
    return ConstructionReport(max_tv_vs_mle=float(errors.tv.max()), bound=float(errors.bound.max()),
                              generation_max_abs_error=float(np.abs(law_tf - law_plugin).max()))


def check_construction_size(structure: Structure, n: int, n_queries: int = 64) -> None:
    """Refuse (:class:`TooLargeError`) what :func:`construction_report` cannot do within the
    budget, before any allocation: more than :data:`MAX_GENERATION_STATES` joint states (the
    generated law is enumerated), prompts ``(2M+1) d`` rows high beyond
    :data:`theory.bayesnet.MAX_ROWS`, a cost :func:`construction_work` above that of 5 binary
    variables at ``N = 4000`` (about 10 s), or prompts above the memory budget."""
    total = math.prod(structure.cards)
    if total > MAX_GENERATION_STATES:
        raise TooLargeError("network", f"{total} joint states",
                            f"at most {MAX_GENERATION_STATES} (the generated law is enumerated)")
    rows = (2 * structure.M + 1) * block_size(structure)
    if rows > bayesnet.MAX_ROWS:
        raise TooLargeError("network", f"{structure.M} variables of up to {block_size(structure)} states",
                            f"(2M+1)d <= {bayesnet.MAX_ROWS} prompt rows (it is {rows})")
    budget = _reference_work()
    per_column = construction_work(structure, 0, n_queries)
    n_max = budget // per_column - 1
    if n_max < 1:
        raise TooLargeError("network", f"{structure.M} variables, {rows} prompt rows",
                            "a network small enough for one context row within the time budget "
                            f"({budget:.3g} multiply-adds)")
    if n > n_max:
        raise TooLargeError("n", n, f"at most {n_max} for this network ({structure.M} variables, "
                                    f"{rows} prompt rows, {n_queries} queries): the time budget is "
                                    "that of 5 binary variables at N = 4000 (about 10 s)")
    prompts = max(n_queries, max(math.prod(structure.cards[:m0]) for m0 in range(structure.M)))
    check_memory("n", n, FORWARD_COPIES * 8 * prompts * rows * (n + 1),
                 f"{prompts} prompts of {rows} x (N+1) floats")


# ----------------------------------------------------------------------------------------------
# The structure-agnostic construction (spec Part 2, Sec. 8: ``bayesnet.construct_mask``)


def mask_construction_arrays(M: int, d: int, D: int, beta: float) -> bayesnet.ConstructionWeights:
    """Weights of the Sec. 3 construction that read the parent set from the prompt (spec Part 2,
    Sec. 8 [derived]): one set of weights for every DAG on ``M`` variables of in-degree ``<= D``.

    The prompt gets a fourth block of ``Md`` rows, :math:`1[m \\in P(m_0)] \\otimes 1_d` in the
    query column (0 in context columns), so ``R = (3M+1) d``. Layer 1 reads it instead of
    computing :math:`s_m` from the target indicator:

    .. math:: (W_1 H)_{(m,k)} = x_{m,k} - \\bar s_m - \\bar f, \\qquad
              \\bar s_m = \\tfrac1d \\textstyle\\sum_k \\mathrm{mask}_{m,k}

    and ``W2``, ``K``, ``Q``, ``V`` are those of :func:`theory.bayesnet.construction_weights`
    (padded with zero columns/rows for the mask block) with :math:`C = D + 1`. Shapes: ``W1``
    (Md, R), ``W2`` (R, Md), ``K``/``Q`` (Md+1, R), ``V`` (R, R).
    """
    check_int("M", M, 1, 64)
    check_int("d", d, 1, 64)
    check_int("D", D, 0, M - 1)
    beta = check_beta(beta)
    Md, R = M * d, (3 * M + 1) * d
    if R > 2 * bayesnet.MAX_ROWS:
        raise TooLargeError("M, d", (M, d), f"(3M+1)d <= {2 * bayesnet.MAX_ROWS} prompt rows")
    flag = slice(2 * Md, (2 * M + 1) * d)
    W1 = np.zeros((Md, R))
    W1[:, :Md] = np.eye(Md)
    W1[:, flag] = -1.0 / d
    W1[:, (2 * M + 1) * d:] = np.kron(np.eye(M), np.full((d, d), -1.0 / d))
    W2 = np.zeros((R, Md))
    W2[:Md] = -np.eye(Md)
    K = np.zeros((Md + 1, R))
    Q = np.zeros((Md + 1, R))
    K[:Md, :Md] = beta * np.eye(Md)
    Q[:Md, :Md] = np.eye(Md)
    K[Md, flag] = beta / d
    Q[Md, Md:2 * Md] = (D + 1) / d
    V = np.zeros((R, R))
    V[:Md, :Md] = -np.eye(Md)
    return bayesnet.ConstructionWeights(W1=W1, W2=W2, K=K, Q=Q, V=V, C=D + 1)


def encode_mask_prompts(structure: Structure, contexts, queries, m0: int) -> np.ndarray:
    """Prompts of :func:`encode_prompts` with the parent mask :math:`1[m \\in P(m_0)] \\otimes 1_d`
    of ``structure`` appended in the query column: shape ``(E, (3M+1) d, N+1)``."""
    check_int("m0", m0, 0, structure.M - 1)
    X = encode_prompts(structure, contexts, queries, m0)
    d = block_size(structure)
    mask = np.zeros((X.shape[0], structure.M * d, X.shape[2]))
    for q in structure.parents[m0]:
        mask[:, q * d:(q + 1) * d, -1] = 1.0
    return np.concatenate([X, mask], axis=1)


class MaskConstruction(NumpyConstruction):
    """The structure-agnostic construction (:func:`mask_construction_arrays`) in numpy: the same
    forward pass as :class:`NumpyConstruction`, weights fixed by ``(M, d, D, beta)`` only."""

    def __init__(self, M: int, d: int, D: int, beta: float):
        self.M, self.d, self.D = M, d, D
        self.beta = check_beta(beta)
        self.arrays = mask_construction_arrays(M, d, D, self.beta)
        self.C = self.arrays.C

    def predict(self, structure: Structure, contexts, queries, m0: int) -> np.ndarray:
        """``p_TF`` ``(E, d_{m0})`` for target ``m0`` of ``structure`` (any DAG on ``M`` variables
        of block size ``d`` and in-degree ``<= D``): readout ``-`` block ``m0`` of the query."""
        if not isinstance(structure, Structure) or structure.M != self.M \
                or block_size(structure) != self.d or structure.max_indegree > self.D:
            raise InputError("structure", getattr(structure, "parents", structure),
                             f"a Structure of {self.M} variables, block size {self.d}, in-degree <= {self.D}")
        X = encode_mask_prompts(structure, contexts, queries, m0)
        out = -_query_output(self, X)[:, m0 * self.d: m0 * self.d + structure.cards[m0]]
        if not np.all(np.isfinite(out)):
            raise NumericalFailure(f"construction output not finite at beta={self.beta}")
        return out

"""Training small transformers on Bayesian-network episodes and measuring them against the MLE.

Cao et al. 2025 (arXiv 2501.02547), Sec. 5 (trained transformers). The library's choices:

- **Tokens**: one token per sample in the construction's layout (one-hot blocks, target indicator
  ``e_{m0} (kron) 1_d`` on the query, context flag), so the same prompts feed the construction and
  the trained model. No positional encoding: the context is a set. The query token is last and
  the prediction is read from it.
- **Model** (:class:`SetTransformer`): a token-wise MLP embedding (the construction's layer 1 is an
  MLP-only layer), then ``layers`` pre-norm blocks (``heads``-head softmax attention + MLP),
  then a linear readout to ``d`` logits. "1-layer 1-head" = one attention layer with one head.
- **Training**: every step draws fresh CPTs of one structure (prior ``U(0.1, 0.9)``), a context
  length ``N`` (uniform over ``1..n_max`` on a log scale), a context and a query per episode,
  with one query token per target ``m0`` (:func:`all_target_tokens`); the loss is the cross-entropy to the in-context MLE (back-off convention), whose
  minimiser is the MLE itself.
- **Evaluation** on held-out CPTs (a different seed stream), every target, context lengths
  ``1, 2, 5, 10, 20, 50, 100, 200``: mean TV to the MLE, to the true CPT, and the baselines'
  TV to the truth (MLE with the true parents, naive = all predecessors).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from numerics.bayesnet import networks
from numerics.bayesnet import construction
from numerics.bayesnet import mle
from numerics.bayesnet.networks import FAMILY_SIZE
from numerics.shared.seeding import check_seed
from numerics.shared.threads import limit_threads
from theory.budgets import check_memory
from theory.errors import InputError, NumericalFailure, check_choice, check_int
from theory.results import result
from numerics.bayesnet.networks import EDGE_PROB
from validation.bayesnet.domains import EPISODES, HEADS, LAYERS, MAX_LENGTH, STEPS, WIDTH
from validation.shared.training import TrainResult, train

torch.set_default_dtype(torch.float64)

LENGTHS = (1, 2, 5, 10, 20, 50, 100, 200)
#: Training targets of :func:`train_model`: the in-context MLE or the query's sampled value.
TARGETS = ("mle", "sample")
TRAIN_GRAPHS = ("chain", "tree", "general5") + tuple(
    name for name in networks.NAMED_FAMILIES if name != "general5")

#: Bytes per attention weight kept at once (scores, softmax, dropout copy, gradient).
_ATTENTION_COPIES = 4


def _check_attention_memory(name: str, value, batch: int, heads: int, layers: int, tokens: int) -> None:
    """Refuse (:class:`TooLargeError`) attention matrices ``batch x heads x tokens^2`` (one per
    layer kept for the gradient) above the memory budget, before training or evaluating."""
    check_memory(name, value, 8 * _ATTENTION_COPIES * batch * heads * layers * tokens * tokens,
                 f"attention weights ({batch} episodes x {heads} heads x {layers} layers x "
                 f"{tokens}^2 tokens)")


def _check_model(width: int, layers: int, heads: int) -> None:
    WIDTH.check("width", width)
    LAYERS.check("layers", layers)
    HEADS.check("heads", heads)
    if width % heads:
        raise InputError("heads", heads, f"a divisor of the width {width}")


class SetTransformer(torch.nn.Module):
    """Token-wise MLP embedding, ``layers`` pre-norm attention blocks, readout from the last token."""

    def __init__(self, in_dim: int, out_dim: int, width: int = 32, layers: int = 2, heads: int = 2,
                 seed: int = 0):
        super().__init__()
        _check_model(width, layers, heads)
        check_int("in_dim", in_dim, 1, 10_000)
        check_int("out_dim", out_dim, 1, 10_000)
        torch.manual_seed(check_seed(seed))
        self.embed = torch.nn.Linear(in_dim, width)
        self.token_mlp = torch.nn.Sequential(torch.nn.Linear(width, 2 * width), torch.nn.ReLU(),
                                             torch.nn.Linear(2 * width, width))
        self.norms1 = torch.nn.ModuleList(torch.nn.LayerNorm(width) for _ in range(layers))
        self.attns = torch.nn.ModuleList(torch.nn.MultiheadAttention(width, heads, batch_first=True)
                                         for _ in range(layers))
        self.norms2 = torch.nn.ModuleList(torch.nn.LayerNorm(width) for _ in range(layers))
        self.mlps = torch.nn.ModuleList(torch.nn.Sequential(
            torch.nn.Linear(width, 2 * width), torch.nn.ReLU(), torch.nn.Linear(2 * width, width))
            for _ in range(layers))
        self.out_norm = torch.nn.LayerNorm(width)
        self.readout = torch.nn.Linear(width, out_dim)

    def forward(self, tokens: torch.Tensor, n_queries: int = 1) -> torch.Tensor:
        """``tokens`` ``(B, N + Q, in_dim)``, the last ``Q = n_queries`` being queries ->
        log-probabilities ``(B, Q, out_dim)``.

        Context tokens attend to the context only, each query to the context and itself, so the
        ``Q`` queries are ``Q`` independent prompts sharing one context (equal to running them
        one at a time, see the tests).
        """
        h, blocked, n = self._before_last(tokens, n_queries)
        x = self.norms1[-1](h)  # only the queries are read out after the last layer
        h = h[:, n:] + self.attns[-1](x[:, n:], x, x, attn_mask=blocked[n:], need_weights=False)[0]
        h = h + self.mlps[-1](self.norms2[-1](h))
        return torch.log_softmax(self.readout(self.out_norm(h[:, -n_queries:])), dim=-1)

    def _before_last(self, tokens: torch.Tensor, n_queries: int):
        """Hidden states ``(B, T, width)`` entering the last attention layer, the attention mask
        ``(T, T)`` (True = blocked) and the number ``n`` of context tokens."""
        T = tokens.shape[1]
        n = T - n_queries
        blocked = torch.ones(T, T, dtype=torch.bool)
        blocked[:, :n] = False
        blocked[torch.arange(T), torch.arange(T)] = False
        blocked[:n, n:] = True
        h = self.embed(tokens)
        h = h + self.token_mlp(h)
        for n1, attn, n2, mlp in zip(self.norms1[:-1], self.attns[:-1], self.norms2[:-1], self.mlps[:-1]):
            x = n1(h)
            h = h + attn(x, x, x, attn_mask=blocked, need_weights=False)[0]
            h = h + mlp(n2(h))
        return h, blocked, n

    def last_attention(self, tokens: torch.Tensor, n_queries: int = 1) -> torch.Tensor:
        """Attention weights of the last layer's queries, per head: ``(B, heads, Q, T)``.

        Row ``q`` is the softmax over the keys of query token ``n + q`` (the context tokens
        ``0..n-1`` and itself; the other queries get weight 0). This is what the attention probe
        (:mod:`numerics.bayesnet.probe`, spec Sec. 10) reads.
        """
        h, blocked, n = self._before_last(tokens, n_queries)
        x = self.norms1[-1](h)
        return self.attns[-1](x[:, n:], x, x, attn_mask=blocked[n:], need_weights=True,
                              average_attn_weights=False)[1]


def all_target_tokens(structure: networks.Structure, contexts, queries) -> torch.Tensor:
    """Tokens ``(E, N + M, R)``: the context, then one query token per target ``m0 = 0..M-1``
    (query ``m0`` shows ``x_0..x_{m0-1}`` and the target indicator of ``m0``)."""
    columns = [construction.encode_prompts(structure, contexts[:, :0], queries, m0)[:, :, -1] for m0 in range(structure.M)]
    X = construction.encode_prompts(structure, contexts, queries, 0)[:, :, :-1]
    return torch.as_tensor(np.concatenate([X, np.stack(columns, axis=2)], axis=2)).transpose(1, 2)


def random_dag(template: networks.Structure, p: float, rng) -> networks.Structure:
    """A DAG of the prior :math:`R(M, p)` (spec Part 2 Sec. 8) over ``template``'s variables: each
    edge ``q -> m``, ``q < m``, independently with probability ``p``
    (:func:`numerics.bayesnet.networks.family_structure` ``"random"``; same cardinality for all)."""
    return networks.family_structure("random", template.M, edge_prob=p, card=template.cards[0], seed=rng)


def _episode_batch(structure: networks.Structure, rng: np.random.Generator, batch: int, n: int):
    cpts = networks.random_cpts(structure, rng, batch=batch)
    data = networks.sample_batch(structure, cpts, n + 1, rng)
    return cpts, data[:, :n], data[:, n]


def mle_targets(structure: networks.Structure, contexts, queries, m0: np.ndarray, naive: bool = False) -> np.ndarray:
    """In-context MLE (back-off) for per-episode targets ``m0`` ``(B,)``; padded to ``d = max card``."""
    d = max(structure.cards)
    out = np.zeros((len(m0), d))
    fn = mle.naive_mle if naive else mle.in_context_mle
    for target in np.unique(m0):
        idx = np.flatnonzero(m0 == target)
        probs = fn(structure, contexts[idx], queries[idx], int(target), on_empty="backoff").probs
        out[idx, :probs.shape[1]] = probs
    return out


@result
class TrainedModel:
    """A :class:`SetTransformer` trained to output the in-context MLE (Cao et al. 2025, Sec. 5).

    Attributes
    ----------
    model : SetTransformer
        The trained model (left in training mode).
    training : validation.shared.training.TrainResult
        Its loss curve (cross-entropy to the MLE, nats, every 10 steps) and, in
        ``training.history["tv_vs_mle"]``, ``{step: mean TV to the MLE}`` at the checkpoints.
    """

    model: torch.nn.Module
    training: TrainResult


def _checkpoint_tv(model: torch.nn.Module, structure: networks.Structure, seed: int) -> float:
    """Mean TV to the MLE on the fixed held-out set of :func:`train_model` (N = 10, 50)."""
    model.eval()
    curves = evaluate(model, structure, lengths=(10, 50), episodes=32, seed=seed + 7)
    model.train()
    return float(np.mean(list(curves.tv_vs_mle.values())))


def train_model(structure: networks.Structure, *, layers: int = 2, heads: int = 2, width: int = 32,
                steps: int = 500, batch: int = 32, n_max: int = 200, lr: float = 3e-3, seed: int = 0,
                checkpoints=(), progress=None, n_train: int | None = None,
                target: str = "mle", mixture_p: float | None = None) -> TrainedModel:
    """Train a :class:`SetTransformer` to output the in-context MLE, on one torch thread.

    Each step draws ``batch`` episodes with fresh CPTs and a context length
    :math:`N = \\mathrm{round}(e^{u})`, :math:`u \\sim U(0, \\log n_{max})` (or the fixed
    ``N = n_train`` when given, spec Sec. 9), and minimises the cross-entropy over every target,

    .. math:: L = -\\frac{1}{B M} \\sum_{e, m_0} \\sum_j y_{m_0}(j)\\, \\log p_{TF}(j),

    with ``y`` the back-off MLE :math:`\\hat p_{m_0}` (``target="mle"``) or the one-hot of the
    query's own value :math:`x^{(q)}_{m_0}` (``target="sample"``, spec Sec. 11: its minimiser is
    the Bayes posterior predictive, not the MLE).

    With ``mixture_p`` (spec Sec. 8, the mixture of random DAGs :math:`R(M, p)`), every step draws
    a new DAG over ``structure``'s variables (:func:`random_dag`, edge probability ``mixture_p``);
    the MLE labels use that DAG's parents, which the prompt does not show.

    At each step in ``checkpoints`` (before that step's update) the mean TV to the MLE on a fixed
    held-out set (context lengths 10 and 50, 32 episodes) is stored in
    ``training.history["tv_vs_mle"][step]``; the value after the last step is stored under ``steps``.
    ``seed`` (int >= 0) seeds the initialisation (``torch.manual_seed``) and the data stream.
    """
    STEPS.check("steps", steps)
    MAX_LENGTH.check("n_max", n_max)
    if n_train is not None:
        MAX_LENGTH.check("n_train", n_train)
        n_max = n_train
    check_choice("target", target, TARGETS)
    if mixture_p is not None:
        EDGE_PROB.check("mixture_p", mixture_p)
        if len(set(structure.cards)) != 1:
            raise InputError("structure", structure.cards, "one cardinality for every variable (mixture)")
    check_int("batch", batch, 1, 1024)
    if not (isinstance(lr, (int, float)) and not isinstance(lr, bool) and 0 < lr < float("inf")):
        raise InputError("lr", lr, "a positive finite learning rate")
    check_seed(seed)
    _check_model(width, layers, heads)
    _check_attention_memory("n_max", n_max, batch, heads, layers, n_max + structure.M)
    d = max(structure.cards)
    in_dim = (2 * structure.M + 1) * d
    model = SetTransformer(in_dim, d, width=width, layers=layers, heads=heads, seed=seed)
    rng = np.random.default_rng([seed, 1])  # a list seed: not an as_generator seed (kept for identical numbers)
    log_max = math.log(n_max)
    history: dict = {}

    def objective(step: int) -> torch.Tensor:
        if step in checkpoints:
            history[step] = _checkpoint_tv(model, structure, seed)
        n = n_train if n_train is not None else int(round(math.exp(rng.uniform(0.0, log_max))))
        s = structure if mixture_p is None else random_dag(structure, mixture_p, rng)
        _, contexts, queries = _episode_batch(s, rng, batch, n)
        if target == "mle":
            y = np.stack([mle_targets(s, contexts, queries, np.full(batch, m0))
                          for m0 in range(structure.M)], axis=1)
        else:
            y = (queries[..., None] == np.arange(d)).astype(np.float64)   # (batch, M, d)
        logp = model(all_target_tokens(structure, contexts, queries), structure.M)
        return -(torch.as_tensor(y) * logp).sum(dim=-1).mean()

    with limit_threads(1):
        training = train(model, objective, steps, lr=lr, optimizer="adam", record_every=10,
                         progress=progress, description=f"bayesnet L={layers} H={heads}")
        if checkpoints:
            history[steps] = _checkpoint_tv(model, structure, seed)
    training.history["tv_vs_mle"] = history
    return TrainedModel(model=model, training=training)


@result
class TvCurves:
    """Mean total variations against context length on held-out CPTs (Cao et al. 2025, Sec. 5,
    TV against context length).

    Each curve is a dict ``{N: mean TV}`` (dimensionless, in [0, 1]) over every target and the
    episodes of that length ``N``.

    Attributes
    ----------
    tv_vs_mle : dict of int to float, or None
        :math:`\\mathrm{TV}(p_{TF}, \\hat p)`, the model against the in-context MLE (None without a model).
    tv_vs_true : dict of int to float, or None
        :math:`\\mathrm{TV}(p_{TF}, p)`, the model against the true CPT (None without a model).
    tv_mle_vs_true : dict of int to float
        :math:`\\mathrm{TV}(\\hat p, p)`: the MLE with the true parents against the true CPT.
    tv_naive_vs_true : dict of int to float
        The naive MLE (all predecessors as parents) against the true CPT.
    tv_strict : dict of str to dict of int to float
        The same curves, keyed by the names above, restricted to the targets whose parents are a
        strict subset of their predecessors (where naive and MLE differ); empty when there are none.
    """

    tv_vs_mle: dict | None
    tv_vs_true: dict | None
    tv_mle_vs_true: dict
    tv_naive_vs_true: dict
    tv_strict: dict


#: The curves of :class:`TvCurves` measured against the truth or the MLE, in order.
CURVES = ("tv_vs_mle", "tv_vs_true", "tv_mle_vs_true", "tv_naive_vs_true")


#: Held-out DAGs per context length of :func:`evaluate_rows` with ``mixture_p``.
MIXTURE_DAGS = 8

#: Extra per-episode rows of :func:`evaluate_rows` with ``extras=True`` (spec Sec. 11): the Bayes
#: floor's TV to the truth (binary networks only) and the model's accuracies.
EXTRA_CURVES = ("tv_floor_vs_true", "acc_sample", "acc_exp")


def _extra_rows(rows: dict, structure: networks.Structure, contexts, queries, m0: int, true, pred) -> None:
    """Append target ``m0``'s per-episode floor TV (truncated-Beta posterior median at the query's
    ``(k, n)``, :mod:`numerics.bayesnet.bayes`) and, with a model, its accuracies."""
    from numerics.bayesnet import bayes

    if max(structure.cards) == 2:
        estimate = mle.in_context_mle(structure, contexts, queries, m0, on_empty="uniform")
        n = estimate.count
        k = np.rint(estimate.probs[:, 1] * n).astype(np.int64)
        median = bayes.truncated_beta_median(k, n)
        rows["tv_floor_vs_true"].append(np.abs(median - true[:, 1]))
    if pred is not None:
        observed = queries[:, m0]
        rows["acc_sample"].append(bayes.acc_sample_each(pred, observed))
        rows["acc_exp"].append(bayes.acc_exp_each(pred, true))


def _length_rows(model, structure: networks.Structure, cpts, contexts, queries,
                 extras: bool = False) -> dict:
    """TVs ``(M, episodes)`` of every curve for one batch of episodes of one length (and the
    :data:`EXTRA_CURVES` with ``extras``)."""
    episodes = len(queries)
    rows = {k: [] for k in CURVES + EXTRA_CURVES}
    if model is not None:
        with torch.no_grad():
            predictions = model(all_target_tokens(structure, contexts, queries), structure.M).exp().numpy()
    for m0 in range(structure.M):
        m0s = np.full(episodes, m0)
        true = np.zeros((episodes, max(structure.cards)))
        true[:, :structure.cards[m0]] = mle.true_conditional(structure, cpts, queries, m0)
        estimate = mle_targets(structure, contexts, queries, m0s)
        naive = mle_targets(structure, contexts, queries, m0s, naive=True)
        rows["tv_mle_vs_true"].append(mle.tv(estimate, true))
        rows["tv_naive_vs_true"].append(mle.tv(naive, true))
        pred = None
        if model is not None:
            pred = predictions[:, m0]
            rows["tv_vs_mle"].append(mle.tv(pred, estimate))
            rows["tv_vs_true"].append(mle.tv(pred, true))
        if extras:
            _extra_rows(rows, structure, contexts, queries, m0, true, pred)
    return rows


def evaluate_rows(model: torch.nn.Module | None, structure: networks.Structure, *, lengths=LENGTHS,
                  episodes: int = 64, seed: int = 12345, extras: bool = False,
                  mixture_p: float | None = None) -> dict:
    """Per-episode TVs on held-out CPTs: ``{N: {curve: array (M, episodes)}}``, the curves of
    :data:`CURVES` (only the baselines without a model); what :func:`evaluate` averages, kept
    per episode for standard errors. Arguments and seeding as :func:`evaluate`. With ``extras``
    also the :data:`EXTRA_CURVES`: ``tv_floor_vs_true`` (binary networks), ``acc_sample`` and
    ``acc_exp`` (with a model; spec Sec. 11); the episodes are the same either way. With
    ``mixture_p`` the episodes of each length come from :data:`MIXTURE_DAGS` held-out DAGs of
    :math:`R(M, p)` over ``structure``'s variables (:func:`random_dag`), equal shares."""
    EPISODES.check("episodes", episodes)
    check_seed(seed)
    if isinstance(lengths, (str, bytes)) or not hasattr(lengths, "__iter__"):
        raise InputError("lengths", lengths, "a sequence of context lengths")
    lengths = tuple(lengths)
    if not lengths:
        raise InputError("lengths", lengths, "at least one context length")
    for n in lengths:
        MAX_LENGTH.check("context length", n)
    if model is not None:
        heads = max((a.num_heads for a in getattr(model, "attns", [])), default=1)
        _check_attention_memory("episodes", episodes, episodes, heads, 1, max(lengths) + structure.M)
    rng = np.random.default_rng([seed, 2])  # a list seed: not an as_generator seed (kept for identical numbers)
    out = {}
    for n in lengths:
        if mixture_p is None:
            cpts, contexts, queries = _episode_batch(structure, rng, episodes, n)
            rows = _length_rows(model, structure, cpts, contexts, queries, extras)
            out[n] = {k: np.array(v) for k, v in rows.items() if v}
            continue
        parts = []
        for share in np.array_split(np.arange(episodes), min(episodes, MIXTURE_DAGS)):
            dag = random_dag(structure, mixture_p, rng)
            cpts, contexts, queries = _episode_batch(dag, rng, len(share), n)
            rows = _length_rows(model, dag, cpts, contexts, queries, extras)
            parts.append({k: np.array(v) for k, v in rows.items() if v})
        out[n] = {k: np.concatenate([p[k] for p in parts], axis=1) for k in parts[0]}
    return out


def evaluate(model: torch.nn.Module | None, structure: networks.Structure, *, lengths=LENGTHS,
             episodes: int = 64, seed: int = 12345) -> TvCurves:
    """Mean TVs per context length on held-out CPTs, over every target and ``episodes`` episodes.

    .. math:: \\overline{\\mathrm{TV}}(N) = \\frac{1}{M E} \\sum_{m_0, e}
              \\tfrac12 \\| p_a^{(e)}(\\cdot \\mid x^{(q)}) - p_b^{(e)}(\\cdot \\mid x^{(q)}) \\|_1

    for each pair (model, MLE, naive, truth) of :class:`TvCurves`. ``model`` None evaluates the
    baselines only. ``seed`` (int >= 0) seeds the held-out CPTs and samples. The per-episode
    values are :func:`evaluate_rows`.
    """
    rows = evaluate_rows(model, structure, lengths=lengths, episodes=episodes, seed=seed)
    return curves_from_rows(structure, rows)


def curves_from_rows(structure: networks.Structure, rows: dict) -> TvCurves:
    """The :class:`TvCurves` (means over targets and episodes) of per-episode rows
    ``{N: {curve: (M, episodes)}}`` of :func:`evaluate_rows`; the model's curves are None when
    the rows have none."""
    out = {k: {} for k in CURVES}
    strict = {k: {} for k in CURVES}
    strict_targets = [m for m in range(structure.M) if len(structure.parents[m]) < m]
    for n, by_curve in rows.items():
        for k in CURVES:
            if k not in by_curve:
                continue
            values = by_curve[k]                                # (M, episodes)
            out[k][n] = float(values.mean())
            if strict_targets:
                strict[k][n] = float(values[strict_targets].mean())
    out = {k: (v or None) for k, v in out.items()}
    strict = {k: v for k, v in strict.items() if v}
    return TvCurves(tv_strict=strict, **out)


@result
class TrainingReport:
    """What ``ttc bayesnet train`` measures: a trained model's curves and its loss curve
    (Cao et al. 2025, Sec. 5; spec Part 2 Secs. 9-11, 13).

    Attributes
    ----------
    curves : TvCurves
        Mean TVs against context length on held-out CPTs (see :class:`TvCurves`).
    loss_steps : ndarray of int, shape (K,)
        The steps at which the loss was recorded.
    losses : ndarray of float, shape (K,)
        The training loss (cross-entropy to the training target, nats) at those steps.
    extras : dict
        ``{name: {N: mean}}`` for ``tv_floor`` (the Bayes floor's TV to the truth, binary
        networks), ``acc_sample`` and ``acc_exp`` (the model's accuracies, spec Sec. 11).
    probe : dict or None
        :meth:`AttentionProbe.summary` at N = 50 when asked for (spec Sec. 10), else None.
    """

    curves: TvCurves
    loss_steps: np.ndarray
    losses: np.ndarray
    extras: dict = None
    probe: dict = None


#: Keys of :attr:`TrainingReport.extras` and the rows of :data:`EXTRA_CURVES` they average.
EXTRA_KEYS = {"tv_floor": "tv_floor_vs_true", "acc_sample": "acc_sample", "acc_exp": "acc_exp"}
#: Context length of the attention probe of :func:`train_and_evaluate` (spec Sec. 10).
PROBE_N = 50


def train_structure(graph: str | None = None, *, M: int | None = None, parents=None,
                    mixture: tuple | None = None) -> networks.Structure:
    """The structure ``ttc bayesnet train`` trains on: a family ``graph`` (``chain``, ``tree``,
    ``general5`` with ``M``, or a named family of spec Sec. 7), explicit binary ``parents``
    (lists of earlier indices; a cycle or an index out of range is an :class:`InputError`), or
    for ``mixture = (M, p)`` the variables of the random DAGs (a template; no fixed edges).
    Exactly one of ``graph``, ``parents``, ``mixture``."""
    given = [name for name, v in (("graph", graph), ("parents", parents), ("mixture", mixture)) if v is not None]
    if len(given) != 1:
        raise InputError("graph/parents/mixture", given or None, "exactly one of them")
    if mixture is not None:
        if not isinstance(mixture, (tuple, list)) or len(mixture) != 2:
            raise InputError("mixture", mixture, "(M, p)")
        FAMILY_SIZE.check("mixture M", mixture[0])
        EDGE_PROB.check("mixture p", mixture[1])
        return networks.family_structure("chain", mixture[0]).predecessors()
    if parents is not None:
        if isinstance(parents, (str, bytes)) or not hasattr(parents, "__len__"):
            raise InputError("parents", parents, "one list of parent indices per variable")
        FAMILY_SIZE.check("number of variables", len(parents))
        for m, ps in enumerate(parents):
            if isinstance(ps, (str, bytes)) or not hasattr(ps, "__iter__"):
                raise InputError(f"parents of X{m}", ps, "a list of parent indices")
            for q in ps:
                check_int(f"parents of X{m}", q, 0, len(parents) - 1)
        return networks.Structure(tuple(f"X{m}" for m in range(len(parents))), (2,) * len(parents),
                                  tuple(tuple(int(q) for q in ps) for ps in parents))
    check_choice("graph", graph, TRAIN_GRAPHS)
    if graph in networks.NAMED_FAMILIES:
        if M is not None and M != networks.named_family(graph).M:
            raise InputError("M", M, f"{networks.named_family(graph).M} (or omitted) for {graph}")
        return networks.named_family(graph)
    if M is not None:
        FAMILY_SIZE.check("M", M)
    return networks.family_structure(graph, M)


def train_and_evaluate(graph: str | None = None, *, layers: int, steps: int, seed: int,
                       heads: int | None = None, width: int = 32, episodes: int = 64,
                       lengths=LENGTHS, n_max: int = 200, M: int | None = None,
                       n_train: int | None = None, target: str = "mle", probe: bool = False,
                       mixture: tuple | None = None, parents=None) -> TrainingReport:
    """Train on the family ``graph`` (:func:`train_model`) and evaluate on held-out CPTs
    (:func:`evaluate`), all on one torch thread; what ``ttc bayesnet train`` prints.

    Domains: ``layers`` :data:`LAYERS`, ``heads`` :data:`HEADS` (dividing ``width``), ``width``
    :data:`WIDTH`, ``steps`` :data:`STEPS`, ``episodes`` :data:`EPISODES`, ``seed`` an integer in
    [0, 2^63 - 1]; the attention memory is estimated before training (:class:`TooLargeError`
    above 2 GiB). A curve that is not finite is a :class:`NumericalFailure`.

    Part 2 (spec Sec. 13): the structure is ``graph``, explicit ``parents`` or ``mixture = (M, p)``
    (:func:`train_structure`; the mixture trains and evaluates on random DAGs :math:`R(M, p)`,
    :func:`random_dag`); ``n_train`` fixes the training context length (Sec. 9); ``target``
    ``"mle"`` or ``"sample"`` (Sec. 11); ``lengths`` the evaluation lengths; ``probe`` adds the
    attention probe at N = 50 (Sec. 10, on a held-out DAG for a mixture). The report's ``extras``
    hold ``tv_floor``, ``acc_sample`` and ``acc_exp`` per N.
    """
    structure = train_structure(graph, M=M, parents=parents, mixture=mixture)
    mixture_p = None if mixture is None else float(mixture[1])
    LAYERS.check("layers", layers)
    heads = heads if heads is not None else (1 if layers == 1 else 2)
    _check_model(width, layers, heads)
    STEPS.check("steps", steps)
    EPISODES.check("episodes", episodes)
    check_choice("target", target, TARGETS)
    if n_train is not None:
        MAX_LENGTH.check("n_train", n_train)
    if check_seed(seed) + 1_000_003 > 2**63 - 1:
        raise InputError("seed", seed, "an integer in [0, 2**63 - 1 - 1000003] (the held-out "
                                       "set uses seed + 1000003)")
    probe_structure = structure
    if probe:
        if mixture_p is not None:   # a held-out DAG of the mixture with at least one edge
            rng = np.random.default_rng([seed, 5])
            probe_structure = next((dag for dag in (random_dag(structure, mixture_p, rng) for _ in range(100))
                                    if any(dag.parents)), None)
        if probe_structure is None or not any(probe_structure.parents):
            raise InputError("--probe", True, "a graph with at least one edge (the probe reads the "
                                              "attention of targets with parents)")
    with limit_threads(1):
        trained = train_model(structure, layers=layers, heads=heads, width=width, steps=steps,
                              seed=seed, n_max=n_max, n_train=n_train, target=target,
                              mixture_p=mixture_p)
        rows = evaluate_rows(trained.model, structure, lengths=lengths, episodes=episodes,
                             seed=seed + 1_000_003, extras=True, mixture_p=mixture_p)
        summary = (attention_probe(trained.model, probe_structure, n=PROBE_N, seed=seed + 1_000_003).summary()
                   if probe else None)
    curves = curves_from_rows(structure, rows)
    extras = {key: {n: float(r[row].mean()) for n, r in rows.items() if row in r}
              for key, row in EXTRA_KEYS.items()}
    for name in CURVES:
        values = getattr(curves, name) or {}
        if not all(np.isfinite(v) for v in values.values()):
            raise NumericalFailure(f"the curve {name} is not finite: {values}")
    return TrainingReport(curves=curves, loss_steps=trained.training.steps,
                          losses=trained.training.losses, extras=extras, probe=summary)


#: Models trained in this process by :func:`shared_model`, keyed by their settings.
_SHARED_MODELS: dict = {}


def shared_model(family: str, *, layers: int, heads: int, steps: int, seed: int, width: int = 32,
                 n_max: int = 100, n_train: int | None = None, target: str = "mle",
                 folder=None) -> torch.nn.Module:
    """A model of :func:`train_model` on the named family ``family``
    (:func:`numerics.bayesnet.networks.named_family`), trained once per settings and reused.

    Claims of one run that need the same model (spec Sec. 7, 9, 10 share the chain5 model) call
    this with the same settings: the first call trains, later calls in the process get the same
    object. With ``folder`` (a run's cache folder: claims may run in separate processes) the
    weights are also stored there as ``bayesnet_model_<key>.pt`` under an exclusive file lock, so
    another process loads them instead of training again; the key holds every setting, so the
    loaded model is the same model bit for bit. Returned in evaluation mode.
    """
    import fcntl
    import os
    from pathlib import Path

    structure = networks.named_family(family)
    key = (f"{family}_L{layers}_H{heads}_W{width}_steps{steps}_seed{seed}_nmax{n_max}"
           f"_ntrain{n_train}_{target}")
    if key in _SHARED_MODELS:
        return _SHARED_MODELS[key]

    def fit() -> torch.nn.Module:
        return train_model(structure, layers=layers, heads=heads, width=width, steps=steps,
                           n_max=n_max, seed=seed, n_train=n_train, target=target).model

    if folder is None:
        model = fit()
    else:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"bayesnet_model_{key}.pt"
        with open(folder / f"bayesnet_model_{key}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if path.exists():
                d = max(structure.cards)
                model = SetTransformer((2 * structure.M + 1) * d, d, width=width, layers=layers,
                                       heads=heads, seed=seed)
                model.load_state_dict(torch.load(path, weights_only=True))
            else:
                model = fit()
                partial = path.with_suffix(".part")
                torch.save(model.state_dict(), partial)
                os.replace(partial, path)
    model.eval()
    _SHARED_MODELS[key] = model
    return model


@result
class AttentionProbe:
    """The attention probe of spec Sec. 10 on a trained :class:`SetTransformer`: per head of the
    last layer, the pooled statistics of :func:`numerics.bayesnet.probe.pool` over every target
    with parents (held-out episodes, one context length).

    Attributes
    ----------
    heads : list of dict
        Per head: ``matched_mass``, ``chance``, ``excess`` (mean of :math:`W - |I|/N`),
        ``excess_se``, ``spearman``, ``naive_share``, ``naive_chance``, ``episodes``.
    best : int
        The head with the largest ``excess``.
    n : int
        The context length N.
    """

    heads: list
    best: int
    n: int

    def summary(self) -> dict:
        """The best head's ``{matched_mass, chance, spearman, naive_share, head}`` (the
        ``attention_probe`` key of ``ttc bayesnet train --probe``)."""
        h = self.heads[self.best]
        return {"matched_mass": h["matched_mass"], "chance": h["chance"], "spearman": h["spearman"],
                "naive_share": h["naive_share"], "head": self.best}


def attention_probe(model: torch.nn.Module, structure: networks.Structure, *, n: int = 50,
                    episodes: int = 256, seed: int = 0) -> AttentionProbe:
    """Probe the last layer's attention of ``model`` (spec Sec. 10) on held-out episodes of
    context length ``n`` (CPTs ``U(0.1, 0.9)``, seeded by ``seed``), every target with parents.

    The query token of target :math:`m_0` attends to the ``n`` context tokens and itself
    (:meth:`SetTransformer.last_attention`); :func:`numerics.bayesnet.probe.probe_statistics`
    drops the self weight, renormalises and computes :math:`W`, Spearman and the naive share.
    """
    from numerics.bayesnet import probe

    MAX_LENGTH.check("n", n)
    EPISODES.check("episodes", episodes)
    check_seed(seed)
    targets = [m for m in range(structure.M) if structure.parents[m]]
    if not targets:
        raise InputError("structure", structure.parents, "a network with at least one non-root variable")
    heads = model.attns[-1].num_heads
    _check_attention_memory("episodes", episodes, episodes, heads, 1, n + structure.M)
    rng = np.random.default_rng([seed, 3])
    _, contexts, queries = _episode_batch(structure, rng, episodes, n)
    with torch.no_grad(), limit_threads(1):
        weights = model.last_attention(all_target_tokens(structure, contexts, queries),
                                       structure.M).numpy()            # (E, heads, M, n + M)
    per_head = []
    for h in range(heads):
        stats = [probe.probe_statistics(structure, contexts, queries, m0,
                                        np.concatenate([weights[:, h, m0, :n],
                                                        weights[:, h, m0, n + m0, None]], axis=1))
                 for m0 in targets]
        per_head.append(probe.pool(stats))
    best = int(np.argmax([h["excess"] for h in per_head]))
    return AttentionProbe(heads=per_head, best=best, n=n)

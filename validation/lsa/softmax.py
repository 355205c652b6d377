"""A small softmax transformer trained in context on the binary random-kernel task: the optional
model of Ding et al. 2025, B.2, Figs. 6-7 (specification lsa.md Part 2 §D, full profile).

Task: the Fig. 6 CPU stand-in of :mod:`numerics.lsa.baselines` (binary chains of length
``d + 1``, kernel rows Dir(1, 1), uniform initial state); the transformer predicts the query's
next state :math:`y = s_{d+1}` from ``n`` full context chains and the query's prefix
:math:`x = s_{1:d}`.

Reconstruction choices [rec] (the paper trains GPT-2 models on a GPU; none of this is its text):

- One token per chain (the simpler encoding): chain ``i`` becomes the ``d + 2`` features
  :math:`(2 s_{i,1} - 1, \\ldots, 2 s_{i,d+1} - 1, q_i)`, symbols as :math:`\\pm 1`, the query's
  last symbol masked to 0 and :math:`q_i = 1` only on the query token (the last token).
- Bidirectional attention without positional encodings: the context is a set of exchangeable
  chains, so the output is invariant to permuting the context tokens (tested).
- ``d_model = 64``, 3 pre-norm layers, 2 heads, MLP ``4 x`` with GELU, a final layer norm and a
  linear read-out of the query token to 2 logits; GPT-2 initialisation N(0, 0.02^2), zero biases.
- Training: Adam, cross-entropy on the 2 classes, a fresh batch every step whose n is drawn
  uniformly in ``1..n_max`` (one n per batch, so no padding), the learning rate divided by 10 for
  the last quarter of the steps.
- Fig. 7 [rec]: each prompt draws ``G`` kernels; every context chain belongs to a kernel "group"
  drawn uniformly, the query to group 0 (:func:`sample_group_prompts`). A model trained on such
  prompts is read through :func:`group_correlation`: per layer, the Pearson correlation between
  the query token's attention over the context tokens (mean over heads) and the indicator that
  the context chain is in the query's group.

- :class:`SoftmaxTransformer`: the model (``forward(tokens, attention=True)`` also returns each
  layer's attention).
- :func:`chain_tokens`: prompts ``Z (size, d+1, n+1)`` to tokens ``(size, n+1, d+2)``.
- :func:`train_softmax`: training on single-kernel or ``G``-group prompts.
- :func:`accuracy_against_n`: the transformer, the baselines of :mod:`numerics.lsa.baselines` and
  Bayes on the same held-out prompts.
- :func:`attention_group_correlation`: Fig. 7's per-layer correlations on held-out group prompts.
"""

from __future__ import annotations

import numpy as np
import torch

from numerics.lsa import domains
from numerics.lsa.baselines import METHODS, method_hits
from numerics.lsa.ceilings import sample_kernel_prompts
from numerics.shared.arrays import float_array
from numerics.shared.seeding import as_generator
from numerics.shared.threads import limit_threads
from theory.domains import integer
from theory.errors import InputError, NumericalFailure
from theory.lsa_domains import D_ORDERING
from theory.results import result
from validation.shared.encoder import EncoderLayer
from validation.shared.seeding import torch_generator
from validation.shared.training import train

torch.set_default_dtype(torch.float64)

__all__ = ["SoftmaxTransformer", "GroupPrompts", "SoftmaxTraining", "ContextAccuracy",
           "GroupCorrelation", "chain_tokens", "sample_group_prompts", "train_softmax",
           "pearson_rows", "group_correlation", "accuracy_against_n",
           "attention_group_correlation", "N_MAX", "GROUPS", "WIDTH"]

#: Context chains of the softmax transformer (spec: n <= 40 in the claim).
N_MAX = integer(1, 200, note="attention is quadratic in n + 1 tokens")
#: Kernel groups of the Fig. 7 prompts.
GROUPS = integer(1, 16, note="one kernel per group and prompt")
#: Model width, layers, heads.
WIDTH = integer(2, 1024, note="parameters grow like width^2 per layer")
_LAYERS = integer(1, 16, note="one attention and one MLP block per layer")
_HEADS = integer(1, 64, note="must divide the width")


class SoftmaxTransformer(torch.nn.Module):
    """Bidirectional pre-norm softmax transformer over chain tokens, read out at the last (query)
    token (reconstruction [rec], see the module docstring).

    Parameters
    ----------
    d : int
        Chain prefix length; tokens have ``d + 2`` features (:func:`chain_tokens`).
    width, layers, heads : int
        ``d_model`` (default 64), layers (3) and heads (2; must divide ``width``).
    mlp : int
        MLP hidden width as a multiple of ``width`` (4).
    seed : int >= 0
        Seeds the initialisation: weights N(0, 0.02^2), biases 0, layer norms (1, 0).

    Notes
    -----
    ``forward(tokens)`` takes ``tokens (B, T, d+2)`` and returns the logits ``(B, 2)`` of the last
    token; with ``attention=True`` also the list of the ``layers`` attention tensors
    ``(B, heads, T, T)``, row ``t`` the weights token ``t`` puts on every token (rows sum to 1).
    """

    def __init__(self, d: int = 5, width: int = 64, layers: int = 3, heads: int = 2,
                 mlp: int = 4, seed: int = 0):
        super().__init__()
        D_ORDERING.check("d", d)
        WIDTH.check("width", width)
        _LAYERS.check("layers", layers)
        _HEADS.check("heads", heads)
        integer(1, 16).check("mlp", mlp)
        domains.SEED.check("seed", seed)
        if width % heads:
            raise InputError("heads", heads, f"a divisor of width = {width}")
        self.d = d
        self.embed = torch.nn.Linear(d + 2, width)
        self.blocks = torch.nn.ModuleList([EncoderLayer(width, heads, mlp * width, norm_first=True,
                                                         activation="gelu")
                                            for _ in range(layers)])
        self.ln = torch.nn.LayerNorm(width)
        self.head = torch.nn.Linear(width, 2)
        gen = torch_generator(seed)
        with torch.no_grad():
            for m in self.modules():
                if isinstance(m, torch.nn.Linear):
                    m.weight.copy_(0.02 * torch.randn(m.weight.shape, generator=gen))
                    m.bias.zero_()

    def forward(self, tokens: torch.Tensor, attention: bool = False):
        if tokens.ndim != 3 or tokens.shape[-1] != self.d + 2 or tokens.shape[1] < 1:
            raise InputError("tokens", f"shape {tuple(tokens.shape)}",
                             f"shape (B, T, {self.d + 2}) with T >= 1")
        h = self.embed(tokens)
        atts = []
        for block in self.blocks:
            h, att = block(h, weights=True)
            atts.append(att)
        logits = self.head(self.ln(h[:, -1]))
        return (logits, atts) if attention else logits


def chain_tokens(Z) -> torch.Tensor:
    """Prompts ``Z (size, d+1, n+1)`` of binary states (the query's label slot ``Z[:, d, n]``
    ignored) to tokens ``(size, n+1, d+2)``: symbols as :math:`\\pm 1`, the query's last symbol 0,
    the last feature 1 on the query token only."""
    Z = float_array("Z", Z, ndim=3)
    if Z.shape[1] < 2 or Z.shape[2] < 2:
        raise InputError("Z", f"shape {Z.shape}", "shape (size, d+1, n+1) with d >= 1, n >= 1")
    if np.any((Z != 0) & (Z != 1)):
        raise InputError("Z", "entries outside {0, 1}", "binary states")
    size, rows, cols = Z.shape
    tok = np.zeros((size, cols, rows + 1))
    tok[:, :, :rows] = 2 * Z.transpose(0, 2, 1) - 1
    tok[:, -1, rows - 1] = 0.0
    tok[:, -1, rows] = 1.0
    return torch.as_tensor(tok)


@result
class GroupPrompts:
    """Binary prompts whose context chains come from ``G`` kernels (Fig. 7 reconstruction [rec]).

    Attributes
    ----------
    Z : ndarray, shape (size, d+1, n+1)
        States; the query's label slot is 0.
    y : ndarray, shape (size,)
        The query's next state.
    group : ndarray of int, shape (size, n+1)
        Each chain's kernel group (the query, column n, is in group 0).
    """

    Z: np.ndarray
    y: np.ndarray
    group: np.ndarray


def sample_group_prompts(d: int, n: int, size: int, groups: int = 2, seed=0) -> GroupPrompts:
    """``size`` binary prompts with ``groups`` kernels per prompt (rows Dir(1, 1) = U(0, 1)):
    each context chain's group uniform in ``0..groups-1``, the query in group 0, uniform initial
    states, chains of length ``d + 1``. ``groups = 1`` is the law of
    :func:`numerics.lsa.ceilings.sample_kernel_prompts` with 2 states and alpha 1."""
    D_ORDERING.check("d", d)
    N_MAX.check("n", n)
    domains.SIZE.check("size", size)
    GROUPS.check("groups", groups)
    domains.check_memory("size", size, 8.0 * size * (n + 1) * (2 * d + 6),
                         f"group prompts (d = {d}, n = {n})")
    rng = as_generator(seed)
    up = rng.random((size, groups, 2))                 # P(next = 1 | state, group)
    g = rng.integers(0, groups, (size, n + 1))
    g[:, n] = 0
    p1 = np.take_along_axis(up, g[:, :, None].repeat(2, 2), axis=1)     # (size, n+1, 2)
    s = np.empty((size, d + 1, n + 1), dtype=np.int64)
    s[:, 0] = rng.integers(0, 2, (size, n + 1))
    for t in range(d):
        prob = np.take_along_axis(p1, s[:, t, :, None], axis=2)[..., 0]
        s[:, t + 1] = rng.random((size, n + 1)) < prob
    Z = s.astype(float)
    y = Z[:, d, n].copy()
    Z[:, d, n] = 0.0
    return GroupPrompts(Z, y, g)


@result
class SoftmaxTraining:
    """A trained :class:`SoftmaxTransformer`.

    Attributes
    ----------
    model : SoftmaxTransformer
    losses : ndarray, 1-D
        Training cross-entropy every 10 steps (both learning-rate phases).
    groups : int
        Kernel groups of the training prompts (1: the single-kernel task).
    n_max, steps, batch : int
    lr : float
    seconds : float
        Wall time of the training.
    """

    model: SoftmaxTransformer
    losses: np.ndarray
    groups: int
    n_max: int
    steps: int
    batch: int
    lr: float
    seconds: float


def _sample(d, n, size, groups, rng):
    if groups == 1:
        pr = sample_kernel_prompts(2, 1.0, d, n, size, rng)
        return pr.Z, pr.y
    pr = sample_group_prompts(d, n, size, groups, rng)
    return pr.Z, pr.y


def train_softmax(d: int = 5, n_max: int = 40, steps: int = 2000, batch: int = 64,
                  lr: float = 1e-3, groups: int = 1, seed: int = 0, width: int = 64,
                  layers: int = 3, heads: int = 2, mlp: int = 4) -> SoftmaxTraining:
    """Train a :class:`SoftmaxTransformer` with Adam on fresh prompts (one thread): each step one
    batch of ``batch`` prompts with ``n`` uniform in ``1..n_max``, cross-entropy on the query's
    next state; the learning rate / 10 for the last quarter of the steps. ``groups = 1``: the
    single-kernel task (:func:`numerics.lsa.ceilings.sample_kernel_prompts`); ``groups >= 2``:
    :func:`sample_group_prompts`. ``seed`` (int >= 0) seeds the initialisation and the prompts."""
    import time

    D_ORDERING.check("d", d)
    N_MAX.check("n_max", n_max)
    domains.STEPS.check("steps", steps)
    domains.BATCH.check("batch", batch)
    domains.LR.check("lr", lr)
    GROUPS.check("groups", groups)
    domains.SEED.check("seed", seed)
    WIDTH.check("width", width)
    domains.check_memory("batch", batch, 8.0 * batch * (n_max + 1) * width * (8 * mlp + 16)
                         * layers, f"softmax training (n_max = {n_max}, width = {width})")
    model = SoftmaxTransformer(d, width, layers, heads, mlp, seed)
    rng = as_generator(seed + 1)

    def objective(step):
        n = int(rng.integers(1, n_max + 1))
        Z, y = _sample(d, n, batch, groups, rng)
        logits = model(chain_tokens(Z))
        return torch.nn.functional.cross_entropy(logits, torch.as_tensor(y).long())

    first = steps - steps // 4
    start = time.perf_counter()
    with limit_threads(1):
        r1 = train(model, objective, first, lr=lr, record_every=10, description="softmax")
        r2 = train(model, objective, steps - first, lr=lr / 10, record_every=10,
                   description="softmax")
    seconds = time.perf_counter() - start
    model.eval()
    return SoftmaxTraining(model, np.concatenate([r1.losses, r2.losses]), groups, n_max, steps,
                           batch, lr, seconds)


def _predict(model, Z, chunk: int = 2000):
    out = []
    with torch.no_grad(), limit_threads(1):
        for i in range(0, Z.shape[0], chunk):
            out.append(model(chain_tokens(Z[i:i + chunk])).argmax(-1).numpy())
    return np.concatenate(out).astype(float)


@result
class ContextAccuracy:
    """Accuracy against n of the transformer and the in-context baselines on the same held-out
    prompts (Fig. 6 stand-in).

    Attributes
    ----------
    ns : list of int
    methods : tuple of str
        ``("transformer",) + numerics.lsa.baselines.METHODS``.
    accuracy, se : ndarray, shape (len(methods), len(ns))
        Share right and its binomial standard error.
    diff_se : ndarray, shape (len(methods), len(ns))
        Standard error of the paired per-prompt difference transformer - method (0 for the
        transformer row).
    prompts : int
        Held-out prompts per n.
    """

    ns: list
    methods: tuple
    accuracy: np.ndarray
    se: np.ndarray
    diff_se: np.ndarray
    prompts: int


def accuracy_against_n(model: SoftmaxTransformer, ns, prompts: int = 2000,
                       seed=0) -> ContextAccuracy:
    """Accuracy of ``model`` and of :data:`numerics.lsa.baselines.METHODS` on the same
    ``prompts`` held-out single-kernel prompts per n (``ns``: distinct ints in 1..200;
    ``seed``: int >= 0 or numpy Generator)."""
    if not isinstance(model, SoftmaxTransformer):
        raise InputError("model", type(model).__name__, "a SoftmaxTransformer")
    ns = domains.N_BASELINE.check_distinct("ns", ns)
    domains.SIZE.check("prompts", prompts)
    if prompts < 2:
        raise InputError("prompts", prompts, "at least 2 prompts (a standard error needs two)")
    d = model.d
    rng = as_generator(seed)
    methods = ("transformer",) + METHODS
    acc = np.zeros((len(methods), len(ns)))
    se, diff_se = np.zeros_like(acc), np.zeros_like(acc)
    for j, n in enumerate(ns):
        pr = sample_kernel_prompts(2, 1.0, d, n, prompts, rng)
        hits = np.vstack([(_predict(model, pr.Z) == pr.y)[None].astype(float),
                          method_hits(pr.Z, pr.y, d, n)])
        acc[:, j] = hits.mean(1)
        se[:, j] = np.sqrt(acc[:, j] * (1 - acc[:, j]) / prompts)
        diff_se[:, j] = (hits[0] - hits).std(1, ddof=1) / np.sqrt(prompts)
    if not np.all(np.isfinite(acc)):
        raise NumericalFailure("accuracy_against_n: a non-finite accuracy")
    return ContextAccuracy(ns, methods, acc, se, diff_se, prompts)


def pearson_rows(a, b) -> np.ndarray:
    """Pearson correlation of each row of ``a (P, n)`` with the same row of ``b (P, n)``; NaN for
    a row where either is constant (n >= 2)."""
    a = float_array("a", a, ndim=2)
    b = float_array("b", b, shape=a.shape)
    if a.shape[1] < 2:
        raise InputError("a", f"shape {a.shape}", "rows of at least 2 entries")
    da, db = a - a.mean(1, keepdims=True), b - b.mean(1, keepdims=True)
    num = (da * db).sum(1)
    den = np.sqrt((da * da).sum(1) * (db * db).sum(1))
    out = np.full(a.shape[0], np.nan)
    ok = den > 1e-300
    out[ok] = num[ok] / den[ok]
    return out


def group_correlation(attentions, group) -> np.ndarray:
    """Per layer and prompt, the Pearson correlation between the query token's attention over the
    context tokens (mean over heads) and the same-group indicator ``group[:, i] == group[:, -1]``.

    Parameters
    ----------
    attentions : list of arrays/tensors of shape (P, heads, T, T)
        One per layer; the query is token ``T - 1``, the context tokens ``0..T-2``.
    group : int array of shape (P, T)
        Group of each token.

    Returns
    -------
    ndarray, shape (layers, P)
        Correlations (NaN for a prompt with a constant indicator or attention).
    """
    group = np.asarray(group)
    if group.ndim != 2 or group.shape[1] < 3:
        raise InputError("group", f"shape {group.shape}", "shape (P, T) with T >= 3")
    same = (group[:, :-1] == group[:, -1:]).astype(float)
    if not isinstance(attentions, (list, tuple)) or not attentions:
        raise InputError("attentions", type(attentions).__name__, "a non-empty list per layer")
    out = []
    for a in attentions:
        a = np.asarray(a.detach() if isinstance(a, torch.Tensor) else a, dtype=float)
        if a.ndim != 4 or a.shape[0] != group.shape[0] or a.shape[2:] != (group.shape[1],) * 2:
            raise InputError("attentions", f"shape {a.shape}",
                             f"(P, heads, T, T) with P, T = {group.shape}")
        out.append(pearson_rows(a[:, :, -1, :-1].mean(1), same))
    return np.array(out)


@result
class GroupCorrelation:
    """Fig. 7 stand-in: per-layer correlation of the query's attention with the same-group
    indicator on held-out ``G``-group prompts.

    Attributes
    ----------
    mean, se : ndarray, shape (layers,)
        Mean over the prompts with a defined correlation and its standard error.
    prompts : int
        Prompts with a defined correlation (of those drawn).
    n, groups : int
    accuracy, accuracy_se : float
        The model's accuracy on these prompts.
    """

    mean: np.ndarray
    se: np.ndarray
    prompts: int
    n: int
    groups: int
    accuracy: float
    accuracy_se: float


def attention_group_correlation(model: SoftmaxTransformer, n: int = 40, prompts: int = 2000,
                                groups: int = 2, seed=0) -> GroupCorrelation:
    """:func:`group_correlation` of ``model`` on ``prompts`` held-out prompts of
    :func:`sample_group_prompts` with ``n`` context chains and ``groups`` kernels."""
    if not isinstance(model, SoftmaxTransformer):
        raise InputError("model", type(model).__name__, "a SoftmaxTransformer")
    N_MAX.check("n", n)
    if n < 2:
        raise InputError("n", n, "at least 2 context chains (a correlation needs two)")
    GROUPS.check("groups", groups)
    if groups < 2:
        raise InputError("groups", groups, "at least 2 groups")
    domains.SIZE.check("prompts", prompts)
    pr = sample_group_prompts(model.d, n, prompts, groups, seed)
    rows, hits = [], []
    with torch.no_grad(), limit_threads(1):
        for i in range(0, prompts, 1000):
            logits, atts = model(chain_tokens(pr.Z[i:i + 1000]), attention=True)
            rows.append(group_correlation(atts, pr.group[i:i + 1000]))
            hits.append(logits.argmax(-1).numpy() == pr.y[i:i + 1000])
    corr = np.concatenate(rows, axis=1)
    ok = np.all(np.isfinite(corr), axis=0)
    if ok.sum() < 2:
        raise NumericalFailure("attention_group_correlation: fewer than 2 defined correlations")
    corr = corr[:, ok]
    hits = np.concatenate(hits).astype(float)
    return GroupCorrelation(corr.mean(1), corr.std(1, ddof=1) / np.sqrt(ok.sum()), int(ok.sum()),
                            n, groups, float(hits.mean()),
                            float(np.sqrt(hits.mean() * (1 - hits.mean()) / hits.size)))

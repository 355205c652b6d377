"""The ``|S|``-state depth task of Ding et al. 2025 (Sec. 4, Fig. 3) with Dirichlet kernels: prompts,
the accuracy ceilings and the one-layer bounds (specification lsa.md, Part 2 §B).

Task: states ``0..|S|-1`` enter the prompt as raw scalars; each prompt draws one kernel K whose rows
are i.i.d. :math:`\\mathrm{Dir}(\\alpha\\mathbf 1)` and ``n + 1`` chains of length ``d + 1`` with a
uniform initial state; :math:`x = s_{1:d}`, :math:`y = s_{d+1}`; the query's label slot is 0.
``alpha = 0`` is the limit :math:`\\alpha\\to 0`: every row is a point mass at a uniform state, i.e.
a uniformly random map :math:`f: S\\to S` per prompt (the library's earlier
``sample_dynamical_prompts(..., "deterministic")`` task, the same law).

Accuracy (paper B.1, clip [rec]): the share of prompts with
:math:`\\mathrm{clip}(\\mathrm{round}(\\hat y), 0, |S|-1) = y`.

- :func:`sample_kernel_prompts`: the prompts and their kernels.
- :func:`transition_counts`: :math:`N_{sj}` over the whole prompt (10 full context chains and the
  query's visible prefix).
- :func:`bayes_predict`: the in-context Bayes rule :math:`\\arg\\max_j \\alpha + N_{sj}`,
  :math:`s = x_{n+1,d}`.
- :func:`accuracy_ceilings`: the oracle that knows K and the in-context Bayes predictor, by Monte
  Carlo with standard errors (conditional expectations: the estimator averages
  :math:`\\max_j K_{sj}` and :math:`\\max_j (\\alpha+N_{sj})/(|S|\\alpha+N_s)`, the probabilities that
  each rule is right given what it sees, rather than sampled hits: same mean, smaller variance).
- :func:`one_layer_bounds`: least squares on :math:`x\\otimes\\mathrm{vech}(G)` (the enlarged
  space: an upper bound for every one-layer LSA's MSE fit) and the best one-layer LSA found by
  :func:`numerics.lsa.realizability.best_lsa` on the empirical moments; accuracies on fresh prompts.
"""

from __future__ import annotations

import numpy as np

from numerics.lsa.domains import (ALPHA, D_SEARCH, N_CONTEXT, SIZE, STATES, check_memory,
                                  features_bytes, prompts_bytes)
from numerics.lsa.optimum import Moments, features
from numerics.shared.arrays import float_array
from numerics.shared.seeding import as_generator
from theory.errors import InputError, NumericalFailure
from theory.lsa_domains import D_ORDERING
from theory.results import result

__all__ = ["KernelPrompts", "Ceilings", "OneLayerBounds", "sample_kernel_prompts",
           "transition_counts", "bayes_predict", "accuracy", "accuracy_ceilings",
           "one_layer_bounds"]

#: Prompts generated per batch by the Monte Carlo loops (bounds the memory).
_CHUNK = 20000


@result
class KernelPrompts:
    """Sampled prompts of the ``|S|``-state task with their kernels (Ding et al. 2025, Sec. 4).

    Attributes
    ----------
    Z : ndarray, shape (size, d+1, n+1)
        Prompts :math:`Z_0` (raw states as floats; the query's label slot ``Z[:, d, n]`` is 0).
    y : ndarray, shape (size,)
        The targets :math:`y_{n+1} = s_{d+1}` of the query chain.
    K : ndarray, shape (size, states, states)
        Each prompt's kernel (rows sum to 1).
    """

    Z: np.ndarray
    y: np.ndarray
    K: np.ndarray


@result
class Ceilings:
    """Accuracy ceilings of the ``|S|``-state task (specification lsa.md Part 2 §B, D1).

    Attributes
    ----------
    oracle : float
        :math:`E[\\max_j K_{sj}]`, :math:`s = x_{n+1,d}`: the accuracy of the predictor that knows K.
    oracle_se : float
        Its Monte Carlo standard error.
    bayes : float
        :math:`E[\\max_j (\\alpha+N_{sj})/(|S|\\alpha+N_s)]`: the accuracy of the in-context Bayes
        predictor (posterior-predictive argmax given all transitions of the prompt); an unseen
        state under ``alpha = 0`` counts ``1/|S|``.
    bayes_se : float
        Its Monte Carlo standard error.
    size : int
        Prompts sampled.
    """

    oracle: float
    oracle_se: float
    bayes: float
    bayes_se: float
    size: int


@result
class OneLayerBounds:
    """One-layer accuracy bounds of the ``|S|``-state task (specification lsa.md Part 2 §B).

    Attributes
    ----------
    ls_accuracy, ls_se : float
        Accuracy (and binomial SE) of least squares on :math:`x_{n+1}\\otimes\\mathrm{vech}(G)`,
        fitted on ``size`` prompts, evaluated on ``size`` fresh ones.
    lsa_accuracy, lsa_se : float
        The same for the best one-layer LSA :math:`\\phi(b, A)` found by
        :func:`numerics.lsa.realizability.best_lsa` on the empirical moments of the fitting prompts.
    ls_mse, lsa_mse : float
        Mean squared errors of the two on the fresh prompts.
    """

    ls_accuracy: float
    ls_se: float
    lsa_accuracy: float
    lsa_se: float
    ls_mse: float
    lsa_mse: float


def _check_task(states, alpha, d, n):
    STATES.check("states", states)
    ALPHA.check("alpha", alpha)
    D_ORDERING.check("d", d)
    N_CONTEXT.check("n", n)
    return float(alpha)


def sample_kernel_prompts(states: int, alpha: float, d: int, n: int, size: int,
                          seed) -> KernelPrompts:
    """``size`` prompts of the ``|S|``-state task with kernel rows i.i.d.
    :math:`\\mathrm{Dir}(\\alpha\\mathbf 1)` (``alpha = 0``: point masses, a random map), ``n + 1``
    chains of length ``d + 1`` with uniform initial states (Ding et al. 2025, Sec. 4; Lemma C.8).

    Parameters
    ----------
    states : int >= 2
        :math:`|S|`.
    alpha : float >= 0
        Dirichlet concentration :math:`\\alpha`.
    d, n : int
        Chain prefix length and context chains.
    size : int
        Prompts.
    seed : int >= 0 or numpy Generator

    Returns
    -------
    KernelPrompts
        ``Z (size, d+1, n+1)``, ``y (size,)``, ``K (size, states, states)``.
    """
    alpha = _check_task(states, alpha, d, n)
    SIZE.check("size", size)
    check_memory("size", size, prompts_bytes(d + 1, n, size)
                 + 16.0 * size * states * (states + n + 1),
                 f"prompts (states = {states}, d = {d}, n = {n})")
    rng = as_generator(seed)
    if alpha == 0.0:
        K = np.zeros((size, states, states))
        target = rng.integers(0, states, (size, states))
        np.put_along_axis(K, target[..., None], 1.0, axis=-1)
    else:
        K = rng.dirichlet(np.full(states, alpha), (size, states))
        if not np.all(np.isfinite(K)):
            raise NumericalFailure(f"sample_kernel_prompts: Dirichlet({alpha}) draws are not finite")
    cum = K.cumsum(-1)
    s = np.empty((size, d + 1, n + 1), dtype=np.int64)
    s[:, 0] = rng.integers(0, states, (size, n + 1))
    rows = np.arange(size)[:, None]
    for t in range(d):
        u = rng.random((size, n + 1, 1))
        s[:, t + 1] = (u >= cum[rows, s[:, t]]).sum(-1).clip(max=states - 1)
    Z = s.astype(float)
    y = Z[:, d, n].copy()
    Z[:, d, n] = 0.0
    return KernelPrompts(Z, y, K)


def _states_array(Z, states):
    Z = float_array("Z", Z, ndim=3)
    if Z.shape[1] < 2 or Z.shape[2] < 2:
        raise InputError("Z", f"shape {Z.shape}", "shape (size, d+1, n+1) with d >= 1, n >= 1")
    STATES.check("states", states)
    s = np.rint(Z).astype(np.int64)
    if np.any(s != Z) or s.min() < 0 or s.max() > states - 1:
        raise InputError("Z", "entries outside the states", f"integers in 0..{states - 1}")
    return s


def transition_counts(Z, states: int) -> np.ndarray:
    """``(size, states, states)`` transition counts :math:`N_{ij}` of each prompt: every
    transition of the ``n`` context chains (``d`` each, the label included) and the ``d - 1`` of
    the query's visible prefix ``x_{n+1}``."""
    s = _states_array(Z, states)
    size, rows, cols = s.shape
    d, n = rows - 1, cols - 1
    check_memory("Z", f"shape {s.shape}", 8.0 * size * (states * states + 2 * d * (n + 1)),
                 "transition counts")
    src = np.concatenate([s[:, :d, :n].reshape(size, -1), s[:, :d - 1, n]], axis=1)
    dst = np.concatenate([s[:, 1:, :n].reshape(size, -1), s[:, 1:d, n]], axis=1)
    idx = (np.arange(size)[:, None] * states + src) * states + dst
    return np.bincount(idx.ravel(), minlength=size * states * states).reshape(
        size, states, states).astype(float)


def _posterior_rows(Z, states, alpha):
    s = _states_array(Z, states)
    d, n = s.shape[1] - 1, s.shape[2] - 1
    N = transition_counts(Z, states)
    cur = s[:, d - 1, n]
    return N[np.arange(s.shape[0]), cur] + alpha


def bayes_predict(Z, states: int, alpha: float) -> np.ndarray:
    """In-context Bayes prediction :math:`\\arg\\max_j \\alpha + N_{sj}` with
    :math:`s = x_{n+1,d}` (the posterior-predictive mode of :math:`K_{s\\cdot}` given all
    transitions of the prompt; ties go to the smallest state). ``Z (size, d+1, n+1)`` of states;
    returns ``(size,)`` floats."""
    alpha = ALPHA.check("alpha", alpha)
    return np.argmax(_posterior_rows(Z, states, float(alpha)), axis=1).astype(float)


def accuracy(prediction, y, states: int) -> np.ndarray:
    """Per-prompt hits :math:`\\mathrm{clip}(\\mathrm{round}(\\hat y), 0, |S|-1) = y` (paper B.1;
    the clip is the library's choice), as floats 0/1."""
    prediction = float_array("prediction", prediction, ndim=1)
    y = float_array("y", y, shape=prediction.shape)
    STATES.check("states", states)
    return (np.clip(np.rint(prediction), 0, states - 1) == y).astype(float)


def _mean_se(values: np.ndarray) -> tuple[float, float]:
    return float(values.mean()), float(values.std(ddof=1) / np.sqrt(values.size))


def accuracy_ceilings(states: int, alpha: float, d: int = 5, n: int = 10, size: int = 200000,
                      seed=0) -> Ceilings:
    """The oracle and in-context Bayes accuracy ceilings of the task by Monte Carlo over ``size``
    prompts (specification lsa.md Part 2 §B: :math:`\\alpha = 1`, d = 5, n = 10, ``|S|`` = 2/3/4 gives
    oracle 0.763/0.620/0.526, Bayes 0.754/0.600/0.494; both 1 as :math:`\\alpha\\to 0`).

    The estimator averages each rule's conditional probability of being right -- oracle
    :math:`\\max_j K_{sj}`, Bayes :math:`\\max_j (\\alpha+N_{sj})/(|S|\\alpha+N_s)` -- whose mean is
    the accuracy. ``seed``: int >= 0 or numpy Generator. Prompts are drawn in chunks of 20000.
    """
    _check_task(states, alpha, d, n)
    SIZE.check("size", size)
    if size < 2:
        raise InputError("size", size, "at least 2 prompts (a standard error needs two)")
    rng = as_generator(seed)
    oracle, bayes = [], []
    for start in range(0, size, _CHUNK):
        batch = min(_CHUNK, size - start)
        pr = sample_kernel_prompts(states, alpha, d, n, batch, rng)
        cur = pr.Z[:, d - 1, n].astype(np.int64)
        oracle.append(pr.K[np.arange(batch), cur].max(axis=1))
        post = _posterior_rows(pr.Z, states, float(alpha))
        total = post.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            best = np.where(total > 0, post.max(axis=1) / total, 1.0 / states)
        bayes.append(best)
    o, os_ = _mean_se(np.concatenate(oracle))
    b, bs = _mean_se(np.concatenate(bayes))
    return Ceilings(o, os_, b, bs, size)


def one_layer_bounds(states: int, alpha: float, d: int = 5, n: int = 10, size: int = 60000,
                     seed=0) -> OneLayerBounds:
    """One-layer accuracy bounds (specification lsa.md Part 2 §B): least squares on
    :math:`x_{n+1}\\otimes\\mathrm{vech}(G)` (``d m`` features, the enlarged space of every
    one-layer LSA) and the best one-layer LSA :math:`\\hat y = \\langle x\\otimes g,
    \\phi(b, A)\\rangle` (global search :func:`numerics.lsa.realizability.best_lsa` on the empirical
    moments :math:`H = F^\\top F/N`, :math:`h = F^\\top y/N`, :math:`E[y^2]`), both fitted by mean
    squared error on ``size`` prompts and scored on ``size`` fresh prompts.

    Spec values (``|S|`` = 2/3/4, d = 5, n = 10): least squares :math:`\\alpha\\to0`
    0.978/0.939/0.836, :math:`\\alpha=1` 0.725/0.429/0.296; best LSA 0.979/0.879/0.722 and
    0.692/0.423/0.291. ``d`` at most 8 (the search, :data:`numerics.lsa.domains.D_SEARCH`).
    """
    from numerics.lsa.realizability import best_lsa

    _check_task(states, alpha, d, n)
    D_SEARCH.check("d", d)
    SIZE.check("size", size)
    check_memory("size", size, 2 * features_bytes(d, n, size), f"features (d = {d}, n = {n})")
    rng = as_generator(seed)
    fit = sample_kernel_prompts(states, alpha, d, n, size, rng)
    F = features(fit.Z)
    y = fit.y
    w = np.linalg.lstsq(F, y, rcond=None)[0]
    mom = Moments(F.T @ F / size, F.T @ y / size, float(y @ y / size))
    X = best_lsa(mom, d, seed=rng).X
    test = sample_kernel_prompts(states, alpha, d, n, size, rng)
    Ft = features(test.Z)
    out = []
    for pred in (Ft @ w, Ft @ X):
        hits = accuracy(pred, test.y, states)
        acc = float(hits.mean())
        out += [acc, float(np.sqrt(acc * (1 - acc) / size)), float(((pred - test.y) ** 2).mean())]
    if not np.all(np.isfinite(out)):
        raise NumericalFailure("one_layer_bounds: a fit is not finite")
    return OneLayerBounds(out[0], out[1], out[3], out[4], out[2], out[5])

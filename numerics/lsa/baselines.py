"""CPU stand-in for Figs. 6-8 of Ding et al. 2025 (B.2; specification lsa.md Part 2 §D): classical
in-context baselines and the in-context Bayes predictor, accuracy against the number n of context
chains.

Task [rec]: binary chains with kernel rows Dir(1, 1) = U(0, 1) and a uniform initial state (the
random-kernel task at p = 1/2), chains of length ``d + 1``; each baseline is fitted on the prompt's
``n`` pairs :math:`(x_i, y_i)` and predicts :math:`y_{n+1}` from :math:`x_{n+1}`. All baselines are
vectorised over prompts (numpy; written here, checked against scikit-learn in the tests):

- ``linear``: least squares with an intercept (minimum-norm), prediction rounded and clipped;
- ``logistic``: L2-regularised logistic regression (C = 1, intercept not penalised; Newton's method),
  scikit-learn's ``LogisticRegression()`` objective;
- ``3-NN``: majority of the 3 nearest context points (Euclidean = Hamming on binary x; distance ties
  by index, vote ties to 0);
- ``SVM``: linear SVM with the squared hinge loss, C = 1, intercept as a penalised constant feature
  (scikit-learn's ``LinearSVC()`` objective; generalised Newton);
- ``Bayes``: :func:`numerics.lsa.ceilings.bayes_predict` (posterior-predictive mode given every
  transition of the prompt), the optimal rule for this prior.

A training set with one class predicts that class (logistic, SVM).
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from numerics.lsa.ceilings import bayes_predict, sample_kernel_prompts
from numerics.lsa.domains import N_BASELINE, SIZE, check_memory
from numerics.shared.arrays import float_array
from numerics.shared.seeding import as_generator
from theory.errors import InputError, NumericalFailure
from theory.lsa_domains import D_ORDERING
from theory.results import result

__all__ = ["METHODS", "BaselineCurves", "fit_predict", "method_hits", "baselines_against_n"]

#: The baselines, in the order of :class:`BaselineCurves` rows.
METHODS = ("logistic", "linear", "3-NN", "SVM", "Bayes")


@result
class BaselineCurves:
    """Accuracy against n of the in-context baselines and the Bayes predictor (Ding et al. 2025,
    B.2, Fig. 6 stand-in).

    Attributes
    ----------
    ns : list of int
        Context chains n.
    methods : tuple of str
        :data:`METHODS`.
    accuracy : ndarray, shape (len(methods), len(ns))
        Share of prompts predicted right.
    se : ndarray, shape (len(methods), len(ns))
        Binomial standard errors.
    gap_se : ndarray, shape (len(methods), len(ns))
        Standard error of the paired difference Bayes - method on the same prompts (0 for Bayes).
    prompts : int
        Prompts per n.
    """

    ns: list
    methods: tuple
    accuracy: np.ndarray
    se: np.ndarray
    gap_se: np.ndarray
    prompts: int


def _solve(M, r):
    return np.linalg.solve(M, r[..., None])[..., 0]


def _linear(X, y, xq):
    A = np.concatenate([np.ones(X.shape[:2] + (1,)), X], axis=2)
    w = np.einsum("bkn,bn->bk", np.linalg.pinv(A), y)
    return w[:, 0] + np.einsum("bj,bj->b", w[:, 1:], xq)


def _logistic(X, y, xq, iters: int = 50):
    B, n, d = X.shape
    A = np.concatenate([np.ones((B, n, 1)), X], axis=2)
    pen = np.ones(d + 1)
    pen[0] = 0.0                          # intercept not penalised (scikit-learn)
    w = np.zeros((B, d + 1))
    for _ in range(iters):
        p = expit(np.einsum("bnk,bk->bn", A, w))
        grad = pen * w + np.einsum("bnk,bn->bk", A, p - y)
        hess = np.einsum("bnk,bn,bnl->bkl", A, p * (1 - p), A) + np.diag(pen) + 1e-12 * np.eye(d + 1)
        step = _solve(hess, grad)
        w = w - step
        if np.abs(step).max() < 1e-10:
            break
    return (w[:, 0] + np.einsum("bj,bj->b", w[:, 1:], xq) > 0).astype(float)


def _knn(X, y, xq, k: int = 3):
    k = min(k, X.shape[1])
    dist = ((X - xq[:, None, :]) ** 2).sum(-1)
    nearest = np.argsort(dist, axis=1, kind="stable")[:, :k]
    votes = np.take_along_axis(y, nearest, axis=1).sum(1)
    return (votes > k / 2).astype(float)


def _svm(X, y, xq, iters: int = 50):
    B, n, d = X.shape
    A = np.concatenate([X, np.ones((B, n, 1))], axis=2)    # the intercept as a penalised feature
    t = 2 * y - 1
    w = np.zeros((B, d + 1))
    for _ in range(iters):
        active = (t * np.einsum("bnk,bk->bn", A, w) < 1).astype(float)
        M = np.eye(d + 1) + 2 * np.einsum("bnk,bn,bnl->bkl", A, active, A)
        w_new = _solve(M, 2 * np.einsum("bnk,bn->bk", A, active * t))
        if np.abs(w_new - w).max() < 1e-12:
            w = w_new
            break
        w = w_new
    return (np.einsum("bj,bj->b", w[:, :d], xq) + w[:, d] > 0).astype(float)


def fit_predict(method: str, X, y, xq) -> np.ndarray:
    """Fit ``method`` (one of :data:`METHODS` except ``"Bayes"``) on each prompt's context and
    predict its query: ``X (B, n, d)``, ``y (B, n)`` in {0, 1}, ``xq (B, d)``; returns ``(B,)``
    predictions in {0, 1}."""
    if method not in METHODS[:-1]:
        raise InputError("method", method, f"one of {METHODS[:-1]}")
    X = float_array("X", X, ndim=3)
    y = float_array("y", y, shape=X.shape[:2])
    xq = float_array("xq", xq, shape=(X.shape[0], X.shape[2]))
    if np.any((y != 0) & (y != 1)):
        raise InputError("y", "entries outside {0, 1}", "binary labels")
    if method == "linear":
        return np.clip(np.rint(_linear(X, y, xq)), 0, 1)
    if method == "3-NN":
        return _knn(X, y, xq)
    out = np.empty(X.shape[0])
    one = (y.min(1) == y.max(1))
    out[one] = y[one, 0]
    if np.any(~one):
        fit = _logistic if method == "logistic" else _svm
        out[~one] = fit(X[~one], y[~one], xq[~one])
    return out


def method_hits(Z: np.ndarray, y_query: np.ndarray, d: int, n: int) -> np.ndarray:
    """Which prompts each of :data:`METHODS` predicts right: ``Z`` (prompts, d+1, n+1) binary
    prompts (context chains in columns ``:n``, the query in column ``n``), ``y_query``
    (prompts,) the query's next state; returns (len(METHODS), prompts) floats in {0, 1}."""
    X = Z[:, :d, :n].transpose(0, 2, 1)
    y, xq = Z[:, d, :n], Z[:, :d, n]
    hits = [fit_predict(m, X, y, xq) == y_query for m in METHODS[:-1]]
    hits.append(bayes_predict(Z, 2, 1.0) == y_query)
    return np.array(hits, dtype=float)


def baselines_against_n(ns, d: int = 5, prompts: int = 400, seed=0) -> BaselineCurves:
    """Accuracy of :data:`METHODS` against the number of context chains (Ding et al. 2025, B.2,
    Fig. 6 CPU stand-in; specification Part 2 §D): for each n, ``prompts`` prompts of the binary
    Dir(1, 1) task (:func:`numerics.lsa.ceilings.sample_kernel_prompts` with 2 states, alpha 1)
    with chains of length ``d + 1``; every method predicts on the same prompts.

    ``ns``: distinct n in 1..200 (:data:`numerics.lsa.domains.N_BASELINE`); ``seed``: int >= 0
    or numpy Generator.
    """
    ns = N_BASELINE.check_distinct("ns", ns)
    D_ORDERING.check("d", d)
    SIZE.check("prompts", prompts)
    if prompts < 2:
        raise InputError("prompts", prompts, "at least 2 prompts (a standard error needs two)")
    check_memory("prompts", prompts, 8.0 * prompts * max(ns) * (d + 2) ** 2 * 4,
                 f"baseline fits (d = {d}, n = {max(ns)})")
    rng = as_generator(seed)
    acc = np.zeros((len(METHODS), len(ns)))
    se, gap_se = np.zeros_like(acc), np.zeros_like(acc)
    for j, n in enumerate(ns):
        pr = sample_kernel_prompts(2, 1.0, d, n, prompts, rng)
        hits = method_hits(pr.Z, pr.y, d, n)
        acc[:, j] = hits.mean(1)
        se[:, j] = np.sqrt(acc[:, j] * (1 - acc[:, j]) / prompts)
        gap_se[:, j] = (hits[-1] - hits).std(1, ddof=1) / np.sqrt(prompts)
    if not (np.all(np.isfinite(acc)) and np.all(np.isfinite(gap_se))):
        raise NumericalFailure("baselines_against_n: a non-finite accuracy")
    return BaselineCurves(ns, METHODS, acc, se, gap_se, prompts)

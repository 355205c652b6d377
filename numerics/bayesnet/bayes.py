"""The Bayes-optimal in-context estimators of one binary conditional, and accuracy metrics.

Part 2 of the Bayes-net specification, Sec. 11 (derived; Cao et al. 2025, arXiv 2501.02547, train
on CPTs with entries :math:`\\theta \\sim U(0.1, 0.9)`). Every CPT entry is independent a priori
and the likelihood of a context factorises over entries, so the posterior of the query's entry
:math:`\\theta = p_{m_0}(1 \\mid x^{(q)}_{P(m_0)})` depends only on the ``n`` context rows that
match the query on the parents and the ``k`` of them with :math:`x_{m_0} = 1`:

.. math:: \\theta \\mid (k, n) \\sim \\mathrm{Beta}(k+1, n-k+1) \\text{ cut to } [0.1, 0.9].

- posterior **mean** (posterior predictive, optimal for log loss):
  :math:`\\frac{B(k+2,n-k+1)\\,\\Delta I(k+2,n-k+1)}{B(k+1,n-k+1)\\,\\Delta I(k+1,n-k+1)}`,
  :math:`\\Delta I = I_{0.9} - I_{0.1}` (regularised incomplete beta);
- posterior **median** (optimal for the binary TV :math:`|\\hat p - \\theta|`): solves
  :math:`I_x(k+1,n-k+1) = (I_{0.1} + I_{0.9})/2`; its expected TV is a floor for every estimator;
- ``n = 0`` (no matching row): both are 1/2.

Accuracy metrics: :func:`acc_sample` (:math:`1[\\arg\\max \\hat p = x_q]`) and :func:`acc_exp`
(:math:`p(\\arg\\max \\hat p)`, ties shared equally). :func:`expected_tv` and
:func:`expected_accuracy` are exact expectations over :math:`\\theta \\sim U(0.1,0.9)` and
:math:`k \\sim \\mathrm{Bin}(n, \\theta)` (Gauss-Legendre on the pieces between the kinks, exact
for polynomials of degree :math:`\\le 2G - 1`).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import special

from theory.domains import integer, real
from theory.errors import InputError, NumericalFailure, check_choice
from theory.results import result

__all__ = ["LOW", "HIGH", "COUNT", "ESTIMATORS", "truncated_beta_mean", "truncated_beta_median",
           "log_evidence", "dirichlet_mean", "estimate", "posterior_abs_deviation", "expected_tv",
           "expected_accuracy", "acc_sample", "acc_exp", "acc_sample_each", "acc_exp_each", "binary_acc_exp", "ExpectedTable",
           "expected_table", "posterior_tables"]

#: Support of the CPT prior :math:`U(0.1, 0.9)`.
LOW, HIGH = 0.1, 0.9
#: Matching rows ``n`` (and ``k <= n``): at ``n = 5000`` the posterior mass
#: :math:`0.9^{n}` is still a normal float64 (it underflows near ``n = 6700``).
COUNT = integer(0, 5000, note="posterior masses like 0.9^n stay normal floats")
#: Sample sizes of the exact expectation tables (one polynomial of degree n+1 per k).
TABLE_COUNT = integer(0, 1000, note="(n+1) x 2 x (n/2 + 400) quadrature points")
#: The Dirichlet pseudo-count ``a`` of :func:`dirichlet_mean`.
ALPHA = real(0, 1e6, low_open=True)
#: Estimators of :func:`estimate`: the MLE ``k/n`` (1/2 when ``n = 0``), the posterior mean, median.
ESTIMATORS = ("mle", "mean", "median")
#: Gauss-Legendre nodes (the specification's 400).
NODES = 400


def _counts(k, n) -> tuple[np.ndarray, np.ndarray]:
    """``k`` and ``n`` as broadcast int64 arrays with ``0 <= k <= n <= COUNT.high``."""
    arrays = []
    for name, value in (("k", k), ("n", n)):
        array = np.asarray(value)
        if array.dtype.kind not in "iu" and not (array.dtype.kind == "f" and np.all(np.isfinite(array))
                                                 and np.all(array == np.round(array))):
            raise InputError(name, value if array.size < 8 else f"array {array.shape}",
                             "integer counts")
        arrays.append(array.astype(np.int64))
    try:
        k, n = np.broadcast_arrays(*arrays)
    except ValueError:
        raise InputError("k, n", (arrays[0].shape, arrays[1].shape), "broadcastable shapes") from None
    if np.any(n < 0) or np.any(n > COUNT.high):
        raise InputError("n", int(n[(n < 0) | (n > COUNT.high)].ravel()[0]), COUNT.describe())
    if np.any(k < 0) or np.any(k > n):
        bad = ((k < 0) | (k > n)).ravel().argmax()
        raise InputError("k", int(k.ravel()[bad]), f"a count in 0..n (n = {int(n.ravel()[bad])})")
    return k, n


def _delta_i(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """:math:`I_{0.9}(a,b) - I_{0.1}(a,b)`, from the lower or the upper tails, whichever is small
    (no cancellation when the mass sits near an end of [0.1, 0.9])."""
    low = special.betainc(a, b, LOW)
    upper = special.betaincc(a, b, LOW) - special.betaincc(a, b, HIGH)
    lower = special.betainc(a, b, HIGH) - low
    return np.where(low > 0.5, upper, lower)


def _symmetric(fn, k: np.ndarray, n: np.ndarray) -> np.ndarray:
    """``fn(k, n)`` for ``2k < n``, ``1 - fn(n-k, n)`` for ``2k > n`` and exactly 1/2 at ``2k = n``
    (the prior is symmetric about 1/2, so the estimators are)."""
    flip = 2 * k > n
    kk = np.where(flip, n - k, k)
    out = fn(kk, n)
    out = np.where(flip, 1.0 - out, out)
    out = np.where(2 * k == n, 0.5, out)
    if not np.all(np.isfinite(out)):
        raise NumericalFailure("truncated-Beta posterior not finite")
    return out


def _mean(k, n):
    a, b = k + 1.0, n - k + 1.0
    return a / (n + 2.0) * _delta_i(a + 1, b) / _delta_i(a, b)


def _median(k, n):
    a, b = k + 1.0, n - k + 1.0
    low, high = special.betainc(a, b, LOW), special.betainc(a, b, HIGH)
    lowc, highc = special.betaincc(a, b, LOW), special.betaincc(a, b, HIGH)
    # from the upper tail when the mass sits near 0.1 (I_0.1 close to 1 loses the digits)
    x = np.where(low > 0.5, special.betainccinv(a, b, 0.5 * (lowc + highc)),
                 special.betaincinv(a, b, 0.5 * (low + high)))
    return np.clip(x, LOW, HIGH)


def truncated_beta_mean(k, n) -> np.ndarray:
    """Posterior mean of :math:`\\theta \\sim U(0.1, 0.9)` after ``k`` ones in ``n`` Bernoulli draws.

    .. math:: \\mathbb E[\\theta \\mid k, n] = \\frac{B(k+2,n-k+1)\\,\\Delta I(k+2,n-k+1)}
              {B(k+1,n-k+1)\\,\\Delta I(k+1,n-k+1)} = \\frac{k+1}{n+2}
              \\frac{\\Delta I(k+2,n-k+1)}{\\Delta I(k+1,n-k+1)}

    ``k``, ``n``: broadcastable integer arrays, ``0 <= k <= n <= 5000`` (:data:`COUNT`). The
    posterior predictive :math:`P(x = 1 \\mid k, n)`; 1/2 at ``n = 0`` (spec Sec. 11).
    """
    k, n = _counts(k, n)
    return _symmetric(_mean, k, n)


def truncated_beta_median(k, n) -> np.ndarray:
    """Posterior median of :math:`\\theta \\sim U(0.1, 0.9)` after ``k`` ones in ``n`` draws: the
    :math:`x \\in [0.1, 0.9]` with :math:`I_x(k+1,n-k+1) = (I_{0.1} + I_{0.9})/2` (spec Sec. 11).

    Minimises the posterior expected :math:`|\\hat p - \\theta|` (the binary TV). Arguments as
    :func:`truncated_beta_mean`.
    """
    k, n = _counts(k, n)
    return _symmetric(_median, k, n)


def log_evidence(k, n) -> np.ndarray:
    """:math:`\\log Z(k, n)`, :math:`Z(k,n) = \\frac{1}{0.8}\\int_{0.1}^{0.9} t^k (1-t)^{n-k}\\,dt
    = B(k+1,n-k+1)\\,\\Delta I(k+1,n-k+1)/0.8`: the marginal likelihood of one configuration's
    column under the U(0.1, 0.9) prior (spec Sec. 8). Arguments as :func:`truncated_beta_mean`."""
    k, n = _counts(k, n)
    a, b = k + 1.0, n - k + 1.0
    with np.errstate(divide="ignore"):
        out = special.betaln(a, b) + np.log(_delta_i(a, b)) - np.log(HIGH - LOW)
    if not np.all(np.isfinite(out)):
        raise NumericalFailure("log evidence not finite")
    return out


def dirichlet_mean(counts, alpha: float = 1.0) -> np.ndarray:
    """Posterior mean under a Dirichlet(``alpha``) row prior: :math:`(k_j + a)/(n + d a)`.

    ``counts``: ``(..., d)`` non-negative integer counts :math:`k_j`; ``alpha`` in :data:`ALPHA`.
    Returns ``(..., d)``.
    """
    ALPHA.check("alpha", alpha)
    counts = np.asarray(counts)
    if counts.dtype.kind not in "iu" or counts.ndim < 1 or counts.shape[-1] < 1 or np.any(counts < 0):
        raise InputError("counts", counts.tolist() if counts.size < 8 else f"array {counts.shape}",
                         "non-negative integer counts (..., d)")
    d = counts.shape[-1]
    return (counts + alpha) / (counts.sum(axis=-1, keepdims=True) + d * alpha)


def estimate(estimator: str, k, n) -> np.ndarray:
    """:math:`\\hat p(1)` of ``estimator`` in :data:`ESTIMATORS` from ``k`` ones in ``n`` rows:
    ``"mle"`` :math:`k/n` (1/2 when ``n = 0``, the uniform fill), ``"mean"``, ``"median"``."""
    check_choice("estimator", estimator, ESTIMATORS)
    if estimator == "mean":
        return truncated_beta_mean(k, n)
    if estimator == "median":
        return truncated_beta_median(k, n)
    k, n = _counts(k, n)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n == 0, 0.5, k / np.maximum(n, 1))


@lru_cache(maxsize=16)
def _legendre(nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre nodes and weights on [-1, 1] (computed once per size; read-only)."""
    x, w = np.polynomial.legendre.leggauss(nodes)
    x.flags.writeable = w.flags.writeable = False
    return x, w


def _gauss(a: np.ndarray, b: np.ndarray, nodes: int):
    """Gauss-Legendre nodes and weights on the intervals ``[a, b]`` (arrays broadcast with a last
    axis of ``nodes``)."""
    x, w = _legendre(nodes)
    half = (b - a)[..., None] / 2
    return (a[..., None] + b[..., None]) / 2 + half * x, half * w


def _binomial(n: int, theta: np.ndarray) -> np.ndarray:
    """:math:`\\binom{n}{k} \\theta^k (1-\\theta)^{n-k}` for ``k = 0..n`` (axis 0)."""
    k = np.arange(n + 1).reshape((-1,) + (1,) * theta.ndim)
    log = (special.gammaln(n + 1) - special.gammaln(k + 1) - special.gammaln(n - k + 1)
           + special.xlogy(k, theta) + special.xlog1py(n - k, -theta))
    return np.exp(log)


def posterior_abs_deviation(value, k, n) -> np.ndarray:
    """:math:`\\mathbb E[|v - \\theta| \\mid k, n]` under the truncated-Beta posterior: the
    expected binary TV of the estimate ``v`` given the data (exact, by incomplete beta).

    .. math:: \\int_{0.1}^{0.9} |v - t|\\, t^k (1-t)^{n-k} dt \\,\\Big/ \\int_{0.1}^{0.9} t^k (1-t)^{n-k} dt

    ``value`` broadcast with ``k``, ``n`` (:func:`truncated_beta_mean`'s domain); values in [0, 1].
    Averaged over episodes it gives the floor (``value`` = the median) with little variance.
    """
    k, n = _counts(k, n)
    v = np.asarray(value, dtype=np.float64)
    if not np.all(np.isfinite(v)) or np.any((v < 0) | (v > 1)):
        raise InputError("value", "values outside [0, 1]", "probabilities in [0, 1]")
    a, b = k + 1.0, n - k + 1.0
    cut = np.clip(v, LOW, HIGH)

    def mass(a, b, x0, x1):   # I_x1 - I_x0 without cancellation near the ends
        return np.where(special.betainc(a, b, x0) > 0.5,
                        special.betaincc(a, b, x0) - special.betaincc(a, b, x1),
                        special.betainc(a, b, x1) - special.betainc(a, b, x0))

    total = mass(a, b, LOW, HIGH)
    mean_ratio = a / (a + b)   # B(a+1, b) / B(a, b)
    below0, above0 = mass(a, b, LOW, cut), mass(a, b, cut, HIGH)
    below1, above1 = mass(a + 1, b, LOW, cut) * mean_ratio, mass(a + 1, b, cut, HIGH) * mean_ratio
    out = (v * below0 - below1 + above1 - v * above0) / total
    if not np.all(np.isfinite(out)):
        raise NumericalFailure("posterior absolute deviation not finite")
    return np.maximum(out, 0.0)


def expected_tv(estimator: str, n: int, nodes: int = NODES) -> float:
    """Exact :math:`\\mathbb E_{\\theta \\sim U(0.1,0.9)} \\mathbb E_{k \\sim \\mathrm{Bin}(n,\\theta)}
    |\\hat p_k - \\theta|`, the expected binary TV of ``estimator`` (:data:`ESTIMATORS`) with ``n``
    matching rows (spec Sec. 11's table).

    .. math:: \\frac{1}{0.8} \\sum_{k=0}^{n} \\binom nk \\int_{0.1}^{0.9} |\\hat p_k - t|\\,
              t^k (1-t)^{n-k}\\, dt

    Each integral is split at :math:`t = \\hat p_k` and computed by Gauss-Legendre with
    ``max(nodes, n/2 + 2)`` nodes per piece (exact: the integrand is a polynomial of degree n+1
    on each piece). ``n`` in :data:`TABLE_COUNT`.
    """
    TABLE_COUNT.check("n", n)
    integer(2, 4000).check("nodes", nodes)
    nodes = max(nodes, n // 2 + 2)
    est = estimate(estimator, np.arange(n + 1), n)
    cut = np.clip(est, LOW, HIGH)
    ends = np.stack([np.stack([np.full(n + 1, LOW), cut]), np.stack([cut, np.full(n + 1, HIGH)])])
    t, w = _gauss(ends[:, 0], ends[:, 1], nodes)          # (2, n+1, nodes)
    k = np.arange(n + 1)[:, None]
    log = (special.gammaln(n + 1) - special.gammaln(k + 1) - special.gammaln(n - k + 1)
           + special.xlogy(k, t) + special.xlog1py(n - k, -t))
    value = (np.exp(log) * np.abs(est[:, None] - t) * w).sum() / (HIGH - LOW)
    return float(value)


def expected_accuracy(estimator: str, n: int, nodes: int = NODES) -> float:
    """Exact :math:`\\mathbb E\\, p(\\arg\\max \\hat p)` with ``n`` matching rows (``acc_exp``,
    spec Sec. 11), ties (:math:`\\hat p = 1/2`) counted 1/2:

    .. math:: \\frac{1}{0.8}\\sum_k \\binom nk \\int_{0.1}^{0.9} a_k(t)\\, t^k (1-t)^{n-k} dt,
              \\quad a_k(t) = t,\\ 1-t,\\ \\tfrac12 \\text{ for } \\hat p_k >, <, = \\tfrac12.

    Gauss-Legendre with ``max(nodes, n/2 + 2)`` nodes (exact). ``n`` in :data:`TABLE_COUNT`.
    """
    TABLE_COUNT.check("n", n)
    integer(2, 4000).check("nodes", nodes)
    nodes = max(nodes, n // 2 + 2)
    est = estimate(estimator, np.arange(n + 1), n)
    t, w = _gauss(np.array(LOW), np.array(HIGH), nodes)
    weights = _binomial(n, t)                               # (n+1, nodes)
    acc = np.where(est[:, None] > 0.5, t, np.where(est[:, None] < 0.5, 1 - t, 0.5))
    return float((weights * acc * w).sum() / (HIGH - LOW))


@result
class ExpectedTable:
    """Exact expected binary TV and accuracy against the number of matching rows ``n`` under the
    U(0.1, 0.9) prior (spec Sec. 11).

    Attributes
    ----------
    n : list of int
        Matching rows.
    tv_mle, tv_mean, tv_median : list of float
        :math:`\\mathbb E|\\hat p - \\theta|` of the MLE (1/2 at ``n = 0``), the posterior mean
        and the posterior median (the floor).
    acc_exp : list of float
        :math:`\\mathbb E\\,p(\\arg\\max\\hat p)` of the MLE, equal for the Bayes estimators.
    """

    n: list
    tv_mle: list
    tv_mean: list
    tv_median: list
    acc_exp: list


def expected_table(ns=(0, 1, 2, 5, 10, 20, 50, 100)) -> ExpectedTable:
    """:class:`ExpectedTable` at the sample sizes ``ns`` (each in :data:`TABLE_COUNT`)."""
    ns = [int(TABLE_COUNT.check("n", n)) for n in ns]
    return ExpectedTable(n=ns, tv_mle=[expected_tv("mle", n) for n in ns],
                         tv_mean=[expected_tv("mean", n) for n in ns],
                         tv_median=[expected_tv("median", n) for n in ns],
                         acc_exp=[expected_accuracy("mle", n) for n in ns])


def posterior_tables(n_max: int) -> dict:
    """``{"log_z", "mean", "median"}``: arrays ``(n_max+1, n_max+1)`` indexed ``[k, n]`` of
    :func:`log_evidence`, :func:`truncated_beta_mean`, :func:`truncated_beta_median` (NaN where
    ``k > n``), for table look-ups over many episodes. ``n_max`` in :data:`COUNT`."""
    COUNT.check("n_max", n_max)
    k, n = np.meshgrid(np.arange(n_max + 1), np.arange(n_max + 1), indexing="ij")
    ok = k <= n
    out = {}
    for name, fn in (("log_z", log_evidence), ("mean", truncated_beta_mean),
                     ("median", truncated_beta_median)):
        table = np.full(k.shape, np.nan)
        table[ok] = fn(k[ok], n[ok])
        out[name] = table
    return out


def _probabilities(name: str, value, ndim_min: int = 1) -> np.ndarray:
    array = np.asarray(value)
    if array.dtype.kind not in "iuf" or array.ndim < ndim_min or array.shape[-1] < 1:
        raise InputError(name, f"shape {array.shape}, dtype {array.dtype}", "a real array (..., d)")
    array = array.astype(np.float64)
    if not np.all(np.isfinite(array)):
        raise InputError(name, "an array with NaN or infinite entries", "finite probabilities")
    return array


def _argmax_share(p_hat: np.ndarray) -> np.ndarray:
    """``(..., d)`` weights 1/|argmax set| on the states that maximise ``p_hat`` (ties shared)."""
    top = p_hat == p_hat.max(axis=-1, keepdims=True)
    return top / top.sum(axis=-1, keepdims=True)


def acc_sample(p_hat, observed) -> float:
    """``acc_sample = mean 1[argmax p_hat = x_q]`` (spec Sec. 11), a tie counting
    ``1/|argmax set|`` when ``x_q`` is among the maximisers.

    ``p_hat``: ``(E, d)`` estimates; ``observed``: ``(E,)`` integer states ``x_q`` in ``0..d-1``.
    The per-episode values are :func:`acc_sample_each`.
    """
    return float(acc_sample_each(p_hat, observed).mean())


def acc_sample_each(p_hat, observed) -> np.ndarray:
    """Per-episode :math:`1[\\arg\\max \\hat p = x_q]` ``(E,)`` of :func:`acc_sample` (ties shared)."""
    p_hat = _probabilities("p_hat", p_hat, 2)
    observed = np.asarray(observed)
    if observed.dtype.kind not in "iu" or observed.shape != p_hat.shape[:-1] \
            or np.any((observed < 0) | (observed >= p_hat.shape[-1])):
        raise InputError("observed", f"shape {observed.shape}", f"integer states in 0..{p_hat.shape[-1] - 1} "
                                                                f"of shape {p_hat.shape[:-1]}")
    share = _argmax_share(p_hat)
    return np.take_along_axis(share, observed[..., None], axis=-1)[..., 0]


def acc_exp(p_hat, p) -> float:
    """``acc_exp = mean p(argmax p_hat)`` (spec Sec. 11): the expected accuracy of predicting the
    mode of ``p_hat`` when ``x_q ~ p``; a tie shares equally. ``p_hat``, ``p``: ``(E, d)``. The
    per-episode values are :func:`acc_exp_each`."""
    return float(acc_exp_each(p_hat, p).mean())


def acc_exp_each(p_hat, p) -> np.ndarray:
    """Per-episode :math:`p(\\arg\\max \\hat p)` ``(E,)`` of :func:`acc_exp` (ties shared)."""
    p_hat, p = _probabilities("p_hat", p_hat, 2), _probabilities("p", p, 2)
    if p_hat.shape != p.shape:
        raise InputError("p", f"shape {p.shape}", f"the shape of p_hat {p_hat.shape}")
    return (_argmax_share(p_hat) * p).sum(axis=-1)


def binary_acc_exp(p_hat1, p1) -> np.ndarray:
    """The binary identity of spec Sec. 11, element-wise (``p_hat1``, ``p1``: :math:`P(x=1)`):

    .. math:: \\mathrm{acc}_{exp} = \\max(p, 1-p) - |2p-1|\\,\\big(1[(\\hat p - \\tfrac12)(p - \\tfrac12) < 0]
              + \\tfrac12 1[\\hat p = \\tfrac12]\\big)
    """
    q, p = np.asarray(p_hat1, dtype=np.float64), np.asarray(p1, dtype=np.float64)
    wrong = ((q - 0.5) * (p - 0.5) < 0).astype(np.float64)
    return np.maximum(p, 1 - p) - np.abs(2 * p - 1) * (wrong + 0.5 * (q == 0.5))

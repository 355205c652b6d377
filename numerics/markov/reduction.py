"""P2's reduction of the full transformer to the canonical model: the map phi, the invariant set
M' and the (e, w, a) model with attention, in numpy.

Makkuva et al., P2 = arXiv 2406.03072, Sec. 3 (the reduction to ``(e, w, b)``) and Fig. 2 (the
``(e, w, a)`` flow); specification ``markov.md`` Part 2, Sec. 3 (R1-R5). The full model's
parameters use the names of :mod:`validation.markov.models` (``e``, ``pos``, ``W_Q``, ``W_K``,
``W_V``, ``W_O``, ``W_1``, ``W_2``, ``b``; tied read-out), without a member axis.

With :math:`\\hat\\alpha = \\alpha/\\sqrt d` (:math:`\\alpha\\in\\{\\pm1\\}^d`) and
:math:`\\hat\\beta = 1_{4d}/(2\\sqrt d)` (both unit vectors):

- **phi** (:func:`phi`): embedding :math:`e\\hat\\alpha`, :math:`p_n = -\\tfrac e2\\hat\\alpha`,
  :math:`W_1 = 2|w|\\hat\\beta\\hat\\alpha^\\top`, :math:`W_2 = 2w\\hat\\alpha\\hat\\beta^\\top`,
  :math:`W_V = W_O = 0`. Then :math:`h_n = e(x_n - \\tfrac12)\\hat\\alpha` and for ``e >= 0``
  the logit is the canonical :math:`e^2(x-\\tfrac12) + 2e^2 w|w| x + b`; for ``e < 0`` the MLP
  fires at ``x = 0`` and :math:`L_{full}(\\phi(e,w,b)) = L_{can}(|e|, w, b - 2w|w|e^2)`.
- **M'** (:func:`invariant_point`): embedding :math:`a\\hat\\alpha`, :math:`p_n = c\\hat\\alpha`,
  :math:`W_1 = m\\hat\\beta\\hat\\alpha^\\top`, :math:`W_2 = k\\hat\\alpha\\hat\\beta^\\top`,
  :math:`W_V = W_O = 0`; logit :math:`a[xa + c + k\\,\\mathrm{ReLU}(m(xa+c))] + b`. This
  five-parameter set is invariant under the full gradient flow; phi's image is not.
- **(e, w, a)** (:func:`attention_loss`): phi with :math:`W_Q = W_K = 0` (uniform attention),
  :math:`W_V = a\\hat\\alpha\\hat\\alpha^\\top`, :math:`W_O = I`:
  :math:`s_n = x_n - \\tfrac12 + a(\\bar x_n - \\tfrac12)` (:math:`\\bar x_n` the mean of
  :math:`x_1..x_n`) and :math:`\\mathrm{logit}_n = e^2 s_n + 4w|w|\\,e\\,\\mathrm{ReLU}(e s_n) + b`
  (for ``e >= 0``: :math:`e^2[s_n + 4w|w|\\mathrm{ReLU}(s_n)] + b`). Its exact loss is a
  recursion over :math:`(x_n, \\sum_{i\\le n} x_i)`: :math:`O(N^2)` work, any ``N``.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from numerics.markov.canonical import canonical_loss, check_chain, expit, stationary
from numerics.markov.sequences import binary_kernel
from numerics.shared.ode import dopri5
from theory.domains import integer
from theory.errors import InputError, NumericalFailure, check_finite
from theory.results import result

__all__ = ["REDUCTION_WIDTH", "RECURSION_SEQ_LEN", "AttentionFlow", "unit_directions", "phi",
           "phi_loss", "invariant_point", "invariant_logits", "attention_logits",
           "attention_loss", "attention_gradient", "attention_optimal_bias", "attention_flow"]

#: Width ``d`` of :func:`phi` and :func:`invariant_point` (matrices ``4d x d``).
REDUCTION_WIDTH = integer(1, 4096, note="4d x d float64 matrices")
#: Context ``N`` of the exact (e, w, a) recursion: ``O(N^2)`` work and ``O(N)`` memory per call
#: (N = 100000: about 1e10 operations, minutes).
RECURSION_SEQ_LEN = integer(1, 100_000, note="O(N^2) work per loss evaluation")


@result
class AttentionFlow:
    """A gradient flow of the (e, w, a) model with ``b`` profiled (Part 2, R5).

    Attributes
    ----------
    t : ndarray, shape (k,)
        Accepted times.
    theta : ndarray, shape (k, 3)
        ``(e, w, a)`` at those times.
    bias : ndarray, shape (k,)
        The optimal bias :math:`b^*(e, w, a)` along the flow.
    loss : ndarray, shape (k,)
        The loss at :math:`b^*`, nats.
    converged : bool
        The gradient norm fell below the tolerance before ``t_max``.
    """

    t: np.ndarray
    theta: np.ndarray
    bias: np.ndarray
    loss: np.ndarray
    converged: bool


def unit_directions(d: int, alpha=None) -> tuple[np.ndarray, np.ndarray]:
    """:math:`\\hat\\alpha = \\alpha/\\sqrt d` and :math:`\\hat\\beta = 1_{4d}/(2\\sqrt d)`.

    ``alpha`` is a sign vector in :math:`\\{\\pm1\\}^d` (default all ones). Returns arrays of
    shapes ``(d,)`` and ``(4d,)``, both of unit norm.
    """
    REDUCTION_WIDTH.check("d", d)
    if alpha is None:
        alpha = np.ones(d)
    alpha = np.asarray(alpha, dtype=float)
    if alpha.shape != (d,) or not np.all(np.abs(alpha) == 1):
        raise InputError("alpha", alpha, f"a sign vector in {{-1, +1}}^{d}")
    return alpha / math.sqrt(d), np.full(4 * d, 1.0 / (2.0 * math.sqrt(d)))


def _point(d: int, seq_len: int, alpha, embedding: float, position: float, w1: float, w2: float,
           b: float, query=None, key=None) -> dict:
    a_hat, b_hat = unit_directions(d, alpha)
    zeros = np.zeros((d, d))
    out = {"e": embedding * a_hat, "pos": np.tile(position * a_hat, (seq_len, 1)),
           "W_Q": zeros.copy() if query is None else np.array(query, dtype=float),
           "W_K": zeros.copy() if key is None else np.array(key, dtype=float),
           "W_V": zeros.copy(), "W_O": zeros.copy(),
           "W_1": w1 * np.outer(b_hat, a_hat), "W_2": w2 * np.outer(a_hat, b_hat),
           "b": np.asarray(float(b))}
    for name in ("W_Q", "W_K"):
        if out[name].shape != (d, d):
            raise InputError(name, out[name].shape, f"a {d} x {d} matrix")
    return out


def phi(e: float, w: float, b: float, d: int, seq_len: int, alpha=None, query=None,
        key=None) -> dict:
    """P2's map :math:`\\phi(e, w, b)` into the full tied model (module docstring, R1).

    Parameters
    ----------
    e, w, b : float
        Canonical parameters (finite).
    d : int
        Width.
    seq_len : int
        Context ``N`` (rows of ``pos``).
    alpha : array of +-1, shape ``(d,)``, optional
        Direction signs (default all ones).
    query, key : arrays ``(d, d)``, optional
        ``W_Q, W_K`` (free: the attention output is zero since ``W_V = W_O = 0``); default 0.

    Returns
    -------
    dict of ndarray
        ``e (d,)``, ``pos (N, d)``, ``W_Q, W_K, W_V, W_O (d, d)``, ``W_1 (4d, d)``,
        ``W_2 (d, 4d)``, ``b ()``.
    """
    for name, value in (("e", e), ("w", w), ("b", b)):
        check_finite(name, value)
    integer(1, None).check("seq_len", seq_len)
    return _point(d, seq_len, alpha, e, -e / 2, 2 * abs(w), 2 * w, b, query, key)


def phi_loss(p: float, q: float, e, w, b):
    """:math:`L_{full}(\\phi(e, w, b))` in closed form (R1): :math:`L_{can}(e, w, b)` for
    ``e >= 0`` and :math:`L_{can}(|e|, w, b - 2w|w|e^2)` for ``e < 0`` (nats; arrays broadcast)."""
    e, w, b = np.broadcast_arrays(*(np.asarray(x, dtype=float) for x in (e, w, b)))
    shift = np.where(e < 0, 2 * w * np.abs(w) * e * e, 0.0)
    return canonical_loss(p, q, np.abs(e), w, b - shift)


def invariant_point(a: float, c: float, m: float, k: float, b: float, d: int, seq_len: int,
                    alpha=None, query=None, key=None) -> dict:
    """A point of the invariant set M' (R3): embedding :math:`a\\hat\\alpha`,
    :math:`p_n = c\\hat\\alpha`, :math:`W_1 = m\\hat\\beta\\hat\\alpha^\\top`,
    :math:`W_2 = k\\hat\\alpha\\hat\\beta^\\top`, :math:`W_V = W_O = 0`. phi is the slice
    ``a = e``, ``c = -e/2``, ``m = 2|w|``, ``k = 2w``. Same layout as :func:`phi`."""
    for name, value in (("a", a), ("c", c), ("m", m), ("k", k), ("b", b)):
        check_finite(name, value)
    integer(1, None).check("seq_len", seq_len)
    return _point(d, seq_len, alpha, a, c, m, k, b, query, key)


def invariant_logits(a: float, c: float, m: float, k: float, b: float) -> np.ndarray:
    """Logits of an M' point after ``x = 0, 1``: :math:`a[xa + c + k\\,\\mathrm{ReLU}(m(xa+c))]
    + b`, shape ``(2,)``."""
    x = np.array([0.0, 1.0])
    h = x * a + c
    return a * (h + k * np.maximum(m * h, 0.0)) + b


# ----------------------------------------------------------------------------- (e, w, a) model

@lru_cache(maxsize=16)
def _states(p: float, q: float, seq_len: int):
    """Law of :math:`(x_n, S_n = \\sum_{i\\le n} x_i)` for ``n = 1..N``: array ``(N, 2, N+1)``,
    entry ``[n-1, x, s]`` (stationary start), by the forward recursion
    :math:`P_{n+1}(x', s + x') = \\sum_x P_n(x, s) P_{x x'}`."""
    kernel, pi = binary_kernel(p, q), stationary(p, q)
    law = np.zeros((seq_len, 2, seq_len + 1))
    law[0, 0, 0], law[0, 1, 1] = pi
    for n in range(1, seq_len):
        to0 = law[n - 1, 0] * kernel[0, 0] + law[n - 1, 1] * kernel[1, 0]
        to1 = law[n - 1, 0] * kernel[0, 1] + law[n - 1, 1] * kernel[1, 1]
        law[n, 0] = to0                  # x_{n+1} = 0: the sum stays
        law[n, 1, 1:] = to1[:-1]         # x_{n+1} = 1: the sum grows by one
    law.flags.writeable = False
    return law


def _state_grid(seq_len: int):
    """``x`` ``(1, 2, 1)``, ``mean - 1/2`` ``(N, 1, N+1)`` for :func:`_states`' layout."""
    n = np.arange(1, seq_len + 1, dtype=float)[:, None, None]
    s = np.arange(seq_len + 1, dtype=float)[None, None, :]
    return np.array([0.0, 1.0])[None, :, None], s / n - 0.5


def _check_attention(p, q, e, w, a, b, seq_len) -> None:
    check_chain(p, q)
    for name, value in (("e", e), ("w", w), ("a", a), ("b", b)):
        check_finite(name, value)
    RECURSION_SEQ_LEN.check("seq_len", seq_len)


def attention_logits(e: float, w: float, a: float, b: float, seq_len: int) -> np.ndarray:
    """:math:`\\mathrm{logit}_n(x_n, S_n)` of the (e, w, a) model, shape ``(N, 2, N+1)``
    (entries with ``S_n > n`` or inconsistent with ``x_n`` are never weighted)."""
    x, centred_mean = _state_grid(seq_len)
    s = x - 0.5 + a * centred_mean
    return e * e * s + 4 * w * abs(w) * e * np.maximum(e * s, 0.0) + b


def _softplus(x):
    return np.logaddexp(0.0, x)


def _targets(p: float, q: float) -> np.ndarray:
    """:math:`P(x_{n+1} = 1 \\mid x_n)` for ``x_n = 0, 1``, shape ``(1, 2, 1)``."""
    return np.array([p, 1.0 - q])[None, :, None]


def attention_loss(p: float, q: float, e: float, w: float, a: float, b: float,
                   seq_len: int) -> float:
    """Exact population loss of the (e, w, a) model (R5), nats:

    .. math:: L = \\frac1N \\sum_{n=1}^N \\sum_{x, s} \\Pr(x_n = x, S_n = s)\\,
              \\big[\\mathrm{softplus}(\\ell) - t_x \\ell\\big],\\quad \\ell = \\mathrm{logit}_n(x, s),

    :math:`t_0 = p`, :math:`t_1 = 1 - q`. At ``a = 0`` it equals :math:`L_{can}(e, w, b)`
    (``e >= 0``).
    """
    _check_attention(p, q, e, w, a, b, seq_len)
    logit = attention_logits(e, w, a, b, seq_len)
    cross = _softplus(logit) - _targets(p, q) * logit
    return _finite(float(np.sum(_states(p, q, seq_len) * cross) / seq_len), "the loss")


def attention_gradient(p: float, q: float, e: float, w: float, a: float, b: float,
                       seq_len: int) -> np.ndarray:
    """:math:`\\nabla_{(e, w, a, b)} L` of :func:`attention_loss`, shape ``(4,)``:

    .. math::
        \\partial_e\\ell = 2es + 8w|w|\\,\\mathrm{ReLU}(es),\\quad
        \\partial_w\\ell = 8|w|\\,e\\,\\mathrm{ReLU}(es),\\quad
        \\partial_a\\ell = (e^2 + 4w|w|e^2 [es > 0])(\\bar x_n - \\tfrac12),\\quad
        \\partial_b\\ell = 1,

    each weighted by :math:`\\Pr(x_n, S_n)(\\sigma(\\ell) - t_x)/N`.
    """
    _check_attention(p, q, e, w, a, b, seq_len)
    x, centred_mean = _state_grid(seq_len)
    s = x - 0.5 + a * centred_mean
    relu = np.maximum(e * s, 0.0)
    logit = e * e * s + 4 * w * abs(w) * e * relu + b
    weight = _states(p, q, seq_len) * (expit(logit) - _targets(p, q)) / seq_len
    partials = (2 * e * s + 8 * w * abs(w) * relu, 8 * abs(w) * e * relu,
                (e * e + 4 * w * abs(w) * e * e * (e * s > 0)) * centred_mean, np.ones_like(s))
    return np.array([_finite(float(np.sum(weight * g)), "the gradient") for g in partials])


def attention_optimal_bias(p: float, q: float, e: float, w: float, a: float,
                           seq_len: int, start: float = 0.0) -> float:
    """:math:`b^*(e, w, a) = \\arg\\min_b L` (the loss is strictly convex in ``b``): Newton's
    method on :math:`\\partial_b L` from ``start`` (a finite guess), safeguarded by bisection in
    a bracket grown from ``start +- 1``, to ``|dL/db| <= 1e-14``."""
    _check_attention(p, q, e, w, a, start, seq_len)
    law, targets = _states(p, q, seq_len), _targets(p, q)
    base = attention_logits(e, w, a, 0.0, seq_len)
    low, high = start - 1.0, start + 1.0

    def slope(bias):
        probs = expit(base + bias)
        return (float(np.sum(law * (probs - targets))) / seq_len,
                float(np.sum(law * probs * (1 - probs))) / seq_len)

    width = 1.0
    while slope(low)[0] > 0:
        low, width = low - width, 2 * width
    while slope(high)[0] < 0:
        high, width = high + width, 2 * width
    bias = start
    for _ in range(200):
        g, h = slope(bias)
        if abs(g) <= 1e-14:
            break
        low, high = (bias, high) if g < 0 else (low, bias)
        step = bias - g / h if h > 0 else 0.5 * (low + high)
        bias = step if low < step < high else 0.5 * (low + high)
    return bias


def attention_flow(p: float, q: float, e0: float, w0: float, a0: float, seq_len: int,
                   t_max: float = 200.0, gtol: float = 1e-8) -> AttentionFlow:
    """Gradient flow of the (e, w, a) model with ``b`` at its optimum (envelope theorem:
    :math:`\\dot\\theta = -\\nabla_\\theta L(\\theta, b^*(\\theta))`), Dormand--Prince from
    ``(e0, w0, a0)`` until ``|grad| <= gtol`` or ``t_max``.

    Returns
    -------
    AttentionFlow
    """
    _check_attention(p, q, e0, w0, a0, 0.0, seq_len)

    last = [attention_optimal_bias(p, q, e0, w0, a0, seq_len)]

    def rhs(theta):
        last[0] = attention_optimal_bias(p, q, *theta, seq_len, start=last[0])
        return -attention_gradient(p, q, *theta, last[0], seq_len)[:3]

    trajectory = dopri5(rhs, (e0, w0, a0), t_max, rtol=1e-8, atol=1e-10, max_steps=100_000,
                        stop=lambda _, velocity: np.linalg.norm(velocity) <= gtol)
    bias = np.array([attention_optimal_bias(p, q, *th, seq_len, start=last[0])
                     for th in trajectory.y])
    loss = np.array([attention_loss(p, q, *th, bb, seq_len) for th, bb in zip(trajectory.y, bias)])
    return AttentionFlow(trajectory.t, trajectory.y, bias, loss, trajectory.stopped)


def _finite(value: float, what: str) -> float:
    if not math.isfinite(value):
        raise NumericalFailure(f"{what} of the (e, w, a) model is not finite (parameters too "
                               "large for float64)")
    return value

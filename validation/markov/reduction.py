"""P2's reduction checked on the full transformer in torch: L_full o phi = L_can (R1), the chain
rule (R2), the invariance question (R3) and the low-rank measurement (R4).

Makkuva et al., P2 = arXiv 2406.03072, Sec. 3; specification ``markov.md`` Part 2, Sec. 3. The
maps phi and M' are :func:`numerics.markov.reduction.phi` and
:func:`numerics.markov.reduction.invariant_point`; the full model and its exact population loss
(every sequence enumerated, ``N <= 12``) are :mod:`validation.markov.models`.

Tangent spaces (Euclidean metric on the flattened parameters, tied model, one layer):

- phi's image at :math:`\\phi(e, w, b)` is spanned by
  :math:`\\partial_e\\phi = (\\hat\\alpha\\ \\text{on}\\ e,\\ -\\tfrac12\\hat\\alpha\\ \\text{on each}\\ p_n)`,
  :math:`\\partial_w\\phi = (2\\,\\mathrm{sign}(w)\\hat\\beta\\hat\\alpha^\\top\\ \\text{on}\\ W_1,\\
  2\\hat\\alpha\\hat\\beta^\\top\\ \\text{on}\\ W_2)`, :math:`\\partial_b\\phi`, and the free
  :math:`W_Q, W_K`;
- M' is the *linear* subspace spanned by :math:`\\hat\\alpha` on ``e``, :math:`\\hat\\alpha` on
  every :math:`p_n` at once, :math:`\\hat\\beta\\hat\\alpha^\\top` on :math:`W_1`,
  :math:`\\hat\\alpha\\hat\\beta^\\top` on :math:`W_2`, ``b``, and the free :math:`W_Q, W_K`.

The *normal fraction* of the gradient is :math:`|\\nabla L - \\Pi_T\\nabla L| / |\\nabla L|`
(:math:`\\Pi_T` the orthogonal projection on the tangent space): 0 when the gradient flow stays
on the set to first order.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from numerics.markov import reduction
from numerics.markov.canonical import canonical_gradient, check_chain
from theory.results import result
from validation.markov.models import DTYPE, exact_loss, from_weights

__all__ = ["ReductionCheck", "ChainRule", "full_loss_gradient", "reduction_check",
           "chain_rule", "normal_fraction", "phi_tangent", "invariant_tangent",
           "distance_to_invariant", "distance_to_image", "descend_from_phi", "rank_one_energy"]

#: The full model's parameters (tied, one layer).
NAMES = ("e", "pos", "W_Q", "W_K", "W_V", "W_O", "W_1", "W_2", "b")
#: Coordinates of the flat vectors of the tangent computations: ``W_Q, W_K`` are free in both
#: sets (every coordinate direction is tangent), so the projection on a span that contains them
#: is the identity there and the normal part and the distances live on the other coordinates.
FLAT_NAMES = ("e", "pos", "W_V", "W_O", "W_1", "W_2", "b")


@result
class ReductionCheck:
    """R1 and R3 at one point (the ``ttc markov reduce`` keys).

    Attributes
    ----------
    full_loss : float
        :math:`L_{full}(\\phi(e, w, b))` by enumeration, nats.
    canonical_loss : float
        :math:`L_{can}(e, w, b)` (for ``e < 0``: at ``(|e|, w, b - 2w|w|e^2)``), nats.
    abs_diff : float
        Their absolute difference.
    normal_fraction_image : float
        Normal fraction of :math:`\\nabla L_{full}` to phi's image (dimensionless, in [0, 1]).
    normal_fraction_invariant : float
        Normal fraction to M' (0 up to rounding: M' is invariant).
    """

    full_loss: float
    canonical_loss: float
    abs_diff: float
    normal_fraction_image: float
    normal_fraction_invariant: float


@result
class ChainRule:
    """R2: the canonical gradient from the full gradient at :math:`\\phi(e, w, b)`.

    Attributes
    ----------
    embedding_part : float
        :math:`\\hat\\alpha\\cdot\\nabla_e L`.
    position_parts : list of float, length N
        :math:`\\hat\\alpha\\cdot\\nabla_{p_n} L` per position.
    chain : list of float, length 3
        :math:`(dL/de, dL/dw, dL/db)` by the chain rule:
        :math:`\\hat\\alpha\\cdot\\nabla_e L - \\tfrac12\\sum_n\\hat\\alpha\\cdot\\nabla_{p_n}L`,
        :math:`2\\,\\mathrm{sign}(w)\\hat\\beta^\\top(\\nabla_{W_1}L)\\hat\\alpha +
        2\\hat\\alpha^\\top(\\nabla_{W_2}L)\\hat\\beta`, :math:`\\nabla_b L`.
    canonical : list of float, length 3
        :func:`numerics.markov.canonical.canonical_gradient` (closed form).
    max_abs_diff : float
        Largest difference between the two.
    """

    embedding_part: float
    position_parts: list
    chain: list
    canonical: list
    max_abs_diff: float


def _as_model(point: dict):
    return from_weights({name: torch.as_tensor(v, dtype=DTYPE) for name, v in point.items()},
                        tied=True)


def full_loss_gradient(point: dict, p: float, q: float) -> tuple[float, dict]:
    """Exact loss (nats) and its autograd gradient of the tied one-layer model at ``point`` (a
    dict of arrays without member axis, the names of :data:`NAMES`); gradient arrays have the
    shapes of the point's entries."""
    check_chain(p, q)
    model = _as_model(point)
    params = model.params()
    loss = exact_loss(params, p, q, True)[0]
    grads = torch.autograd.grad(loss, [params[name] for name in NAMES])
    return float(loss.detach()), {name: g[0].numpy() for name, g in zip(NAMES, grads)}


def _flat(parts: dict) -> np.ndarray:
    return np.concatenate([np.asarray(parts[name], dtype=float).reshape(-1)
                           for name in FLAT_NAMES])


def _basis(point: dict, directions: list[dict]) -> np.ndarray:
    """Columns: each direction (a dict of arrays on some parameters, zero elsewhere) flattened."""
    zero = {name: np.zeros_like(np.asarray(v, dtype=float)) for name, v in point.items()}
    columns = []
    for direction in directions:
        full = dict(zero)
        full.update(direction)
        columns.append(_flat(full))
    return np.stack(columns, axis=1)


def phi_tangent(point: dict, w: float, alpha=None) -> np.ndarray:
    """Basis (columns, on the coordinates :data:`FLAT_NAMES`) of the tangent space of phi's
    image at ``point`` = phi(e, w, b); the free ``W_Q, W_K`` directions are implicit."""
    d, seq_len = point["pos"].shape[1], point["pos"].shape[0]
    a_hat, b_hat = reduction.unit_directions(d, alpha)
    sign = 1.0 if w >= 0 else -1.0
    directions = [{"e": a_hat, "pos": np.tile(-0.5 * a_hat, (seq_len, 1))},
                  {"W_1": 2 * sign * np.outer(b_hat, a_hat), "W_2": 2 * np.outer(a_hat, b_hat)},
                  {"b": np.ones(())}]
    return _basis(point, directions)


def invariant_tangent(point: dict, alpha=None) -> np.ndarray:
    """Basis (columns, on :data:`FLAT_NAMES`) of M' (a linear subspace; the free ``W_Q, W_K``
    are implicit)."""
    d, seq_len = point["pos"].shape[1], point["pos"].shape[0]
    a_hat, b_hat = reduction.unit_directions(d, alpha)
    directions = [{"e": a_hat}, {"pos": np.tile(a_hat, (seq_len, 1))},
                  {"W_1": np.outer(b_hat, a_hat)}, {"W_2": np.outer(a_hat, b_hat)},
                  {"b": np.ones(())}]
    return _basis(point, directions)


def normal_fraction(gradient: dict, basis: np.ndarray) -> float:
    """:math:`|g - \\Pi g|/|g|` for the gradient ``g`` and the span of ``basis`` plus the free
    ``W_Q, W_K`` directions (0 for a zero gradient)."""
    g = _flat(gradient)
    norm = math.sqrt(float(g @ g) + sum(float(np.sum(gradient[n] ** 2)) for n in ("W_Q", "W_K")))
    if norm == 0.0:
        return 0.0
    coefficients, *_ = np.linalg.lstsq(basis, g, rcond=None)
    return float(np.linalg.norm(g - basis @ coefficients)) / norm


def reduction_check(p: float, q: float, e: float, w: float, b: float, d: int = 4,
                    seq_len: int = 4, alpha=None) -> ReductionCheck:
    """R1 and R3 at :math:`\\phi(e, w, b)`: the full loss by enumeration against the canonical
    loss, and the normal fractions of the full gradient to phi's image and to M' (at the same
    point, which lies in both). ``seq_len <= 12`` (enumeration); ``W_Q = W_K = 0``."""
    point = reduction.phi(e, w, b, d, seq_len, alpha=alpha)
    loss, gradient = full_loss_gradient(point, p, q)
    canonical = float(reduction.phi_loss(p, q, e, w, b))
    return ReductionCheck(loss, canonical, abs(loss - canonical),
                          normal_fraction(gradient, phi_tangent(point, w, alpha)),
                          normal_fraction(gradient, invariant_tangent(point, alpha)))


def chain_rule(p: float, q: float, e: float, w: float, b: float, d: int = 4, seq_len: int = 4,
               alpha=None) -> ChainRule:
    """R2: :math:`\\nabla L_{can}` from the autograd gradient of the full model at
    :math:`\\phi(e, w, b)` (``e >= 0``), against the closed form (formulas in :class:`ChainRule`)."""
    point = reduction.phi(e, w, b, d, seq_len, alpha=alpha)
    _, g = full_loss_gradient(point, p, q)
    a_hat, b_hat = reduction.unit_directions(d, alpha)
    embedding = float(a_hat @ g["e"])
    positions = [float(a_hat @ row) for row in g["pos"]]
    sign = 1.0 if w >= 0 else -1.0
    chain = [embedding - 0.5 * sum(positions),
             float(2 * sign * b_hat @ g["W_1"] @ a_hat + 2 * a_hat @ g["W_2"] @ b_hat),
             float(g["b"])]
    closed = [float(v) for v in canonical_gradient(p, q, e, w, b)]
    return ChainRule(embedding, positions, chain, closed,
                     max(abs(x - y) for x, y in zip(chain, closed)))


def distance_to_invariant(point: dict, alpha=None) -> float:
    """Euclidean distance of a full parameter point to M' (a linear subspace)."""
    basis = invariant_tangent(point, alpha)
    x = _flat(point)
    coefficients, *_ = np.linalg.lstsq(basis, x, rcond=None)
    return float(np.linalg.norm(x - basis @ coefficients))


def distance_to_image(point: dict, alpha=None) -> float:
    """Euclidean distance of a full parameter point to phi's image: the distance to M' combined
    with the distance inside M' from its coordinates ``(a, c, m, k)`` to the set
    ``a = e, c = -e/2, m = 2|w|, k = 2w`` (``c`` counts ``N`` times: one per position)."""
    d, seq_len = point["pos"].shape[1], point["pos"].shape[0]
    a_hat, b_hat = reduction.unit_directions(d, alpha)
    a = float(a_hat @ point["e"])
    c = float(np.mean(point["pos"] @ a_hat))
    m = float(b_hat @ point["W_1"] @ a_hat)
    k = float(a_hat @ point["W_2"] @ b_hat)
    e = (a - seq_len * c / 2) / (1 + seq_len / 4)          # least squares in e
    t = max((m + abs(k)) / 2, 0.0)                          # |2w| closest to m and |k|
    inside = (a - e) ** 2 + seq_len * (c + e / 2) ** 2 + (m - t) ** 2 + (abs(k) - t) ** 2
    return math.sqrt(distance_to_invariant(point, alpha) ** 2 + inside)


def descend_from_phi(p: float, q: float, e: float, w: float, b: float, steps: int, lr: float,
                     d: int = 4, seq_len: int = 4, alpha=None, seed: int = 0) -> dict:
    """Full-batch gradient descent on the exact loss of the full model from :math:`\\phi(e,w,b)`
    with random ``W_Q, W_K`` (N(0, 1), from ``seed``); returns the largest distances to M' and
    to phi's image along the way and the final loss (R3's trajectory check)."""
    rng = np.random.default_rng(seed)
    point = reduction.phi(e, w, b, d, seq_len, alpha=alpha, query=rng.normal(size=(d, d)),
                          key=rng.normal(size=(d, d)))
    to_invariant, to_image = [], []
    for _ in range(steps):
        loss, g = full_loss_gradient(point, p, q)
        point = {name: point[name] - lr * g[name] for name in NAMES}
        to_invariant.append(distance_to_invariant(point, alpha))
        to_image.append(distance_to_image(point, alpha))
    return {"max_distance_to_invariant": max(to_invariant),
            "final_distance_to_image": to_image[-1], "final_loss": loss}


def rank_one_energy(matrix) -> float:
    """:math:`\\rho = s_1^2/\\sum_i s_i^2` of a matrix (1 for rank one; R4), dimensionless."""
    s = torch.linalg.svdvals(torch.as_tensor(matrix, dtype=DTYPE))
    total = float((s**2).sum())
    return float(s[0] ** 2) / total if total > 0 else 1.0


def value_gradient_norm(p: float, q: float, e: float, w: float, b: float, d: int = 4,
                        seq_len: int = 4, output_std: float = 0.3, seed: int = 0) -> float:
    """:math:`|\\nabla_{W_V} L|` at :math:`\\phi(e, w, b)` with :math:`W_O \\sim N(0,
    \\mathrm{output\\_std}^2)` (from ``seed``) instead of 0: nonzero, so with :math:`W_O \\ne 0`
    the value matrix leaves 0 and the flow leaves M' (R3's qualification)."""
    point = reduction.phi(e, w, b, d, seq_len)
    point["W_O"] = np.random.default_rng(seed).normal(0.0, output_std, size=(d, d))
    _, g = full_loss_gradient(point, p, q)
    return float(np.linalg.norm(g["W_V"]))

"""Replica-symmetry stability of the replica scenarios (spec Sec. 11, a library derivation).

Scenario origin: R1 and R2-isotropic are **library extensions** (not the paper's scenario; see
:mod:`numerics.potts.replica`). Nothing here is attributed to Rende et al. 2024.

- R1 (logistic): the replicon (de Almeida-Thouless) eigenvalue at the RS saddle point,

  .. math:: \\Lambda = \\alpha V^2\\, E\\sum_{y=\\pm1}\\sigma(yz^*)
            \\Big[\\frac{\\sigma'(P)}{1 + V\\sigma'(P)}\\Big]^2,

  with ``P`` the logistic prox of Sec. 5 (:func:`numerics.potts.replica.logistic_prox`) and
  :math:`\\sigma' = \\sigma(1-\\sigma)`; RS is stable iff :math:`\\Lambda < 1`. Since
  :math:`1 - \\partial_\\omega P = V\\sigma'/(1+V\\sigma') \\in [0, 1)`, the integrand is at most
  that of :math:`\\hat V`, so :math:`\\Lambda \\le V\\hat V = \\hat V/(\\lambda + \\hat V) < 1`.
- R2 (square loss): :math:`\\Lambda = \\kappa^2/\\alpha` exactly
  (:func:`theory.potts.r2_replicon_identity`).
- Separability at :math:`\\lambda = 0` (Candes-Sur): a minimiser of the unpenalised logistic loss
  exists iff :math:`\\alpha > \\alpha_s = 1/h(\\sqrt\\rho)`,
  :math:`h(g) = \\min_t E[(Z - tYW)_+^2]`, :math:`W, Z\\sim N(0,1)`,
  :math:`P(Y=\\pm1\\mid W) = \\sigma(\\pm gW)`.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import expit, ndtr

from numerics.potts import replica
from numerics.potts.domains import QUADRATURE
from theory.domains import real
from theory.results import result

#: Scenario labels of spec Sec. 13 (JSON key ``scenario_origin``).
ORIGIN = "library extension"


@result
class StabilityCurve:
    """The replicon eigenvalue along a replica curve; see :func:`r1_stability`, :func:`r2_stability`.
    Arrays have shape (n,), one entry per ``alpha`` in the order given.

    Attributes
    ----------
    scenario : str
        ``"R1"`` or ``"R2"``.
    scenario_origin : str
        ``"library extension"`` (spec Sec. 13).
    alpha : numpy.ndarray
        Samples per parameter.
    Lambda : numpy.ndarray
        Replicon :math:`\\Lambda` (RS stable iff < 1).
    bound : numpy.ndarray
        :math:`V\\hat V = \\hat V/(\\lambda + \\hat V)`, an upper bound of ``Lambda`` (< 1 for
        lam > 0).
    curve : numerics.potts.replica.ReplicaCurve
        The saddle points.
    """

    scenario: str
    scenario_origin: str
    alpha: np.ndarray
    Lambda: np.ndarray
    bound: np.ndarray
    curve: object


def r1_replicon(alpha: float, m: float, q: float, V: float, rho: float = 1.0,
                quadrature: int | replica.PairQuadrature = 61) -> float:
    """:math:`\\Lambda = \\alpha V^2 E\\sum_y\\sigma(yz^*)[\\sigma'(P)/(1+V\\sigma'(P))]^2` at the
    order parameters ``m, q, V`` (R1, spec Sec. 11), by the product Gauss-Hermite rule over
    :math:`(\\xi, u)` (``quadrature`` nodes per axis, or a PairQuadrature)."""
    Q = (quadrature if isinstance(quadrature, replica.PairQuadrature)
         else replica.pair_quadrature(quadrature))
    sq = math.sqrt(q)
    omega = sq * Q.xi
    zstar = (m / sq) * Q.xi + math.sqrt(max(rho - m * m / q, 0.0)) * Q.u
    total = 0.0
    for y in (1.0, -1.0):
        P = replica.logistic_prox(y, omega, V)
        sp_ = expit(P) * expit(-P)
        total += float(np.sum(Q.w * expit(y * zstar) * (sp_ / (1 + V * sp_)) ** 2))
    return alpha * V * V * total


def r1_stability(alphas, lam: float, rho: float = 1.0, quadrature: int = 61) -> StabilityCurve:
    """R1 replicon :math:`\\Lambda` and its bound :math:`V\\hat V` over ``alphas`` (the saddle
    points of :func:`numerics.potts.replica.r1_curve` with the same quadrature). ``lam`` > 0."""
    QUADRATURE.check("quadrature", quadrature)
    curve = replica.r1_curve(alphas, lam, rho, quadrature)
    Q = replica.pair_quadrature(quadrature)
    lam_ = np.array([r1_replicon(a, m, q, V, rho, Q)
                     for a, m, q, V in zip(curve.alpha, curve.m, curve.q, curve.V)])
    return StabilityCurve("R1", ORIGIN, curve.alpha, lam_, curve.V * curve.Vhat, curve)


def r2_stability(alphas, lam: float, rho: float = 1.0, delta: float = 0.5) -> StabilityCurve:
    """R2 replicon :math:`\\Lambda = \\alpha V^2/(1+V)^2 = \\kappa^2/\\alpha`
    (:func:`theory.potts.r2_replicon_identity`) over ``alphas`` at the closed form of
    :func:`numerics.potts.replica.r2_curve`; ``bound`` is :math:`V\\hat V = \\alpha V/(1+V)`
    (:math:`\\Lambda = V\\hat V\\cdot V/(1+V) \\le V\\hat V`)."""
    curve = replica.r2_curve(alphas, lam, rho, delta)
    return StabilityCurve("R2", ORIGIN, curve.alpha, curve.kappa ** 2 / curve.alpha,
                          curve.V * curve.Vhat, curve)


def _positive_part_square(c):
    """:math:`E_Z[(Z - c)_+^2] = (1 + c^2)\\Phi(-c) - c\\varphi(c)`, Z ~ N(0, 1)."""
    return (1 + c * c) * ndtr(-c) - c * np.exp(-0.5 * c * c) / math.sqrt(2 * math.pi)


def separability_h(g: float, t: float | None = None, nodes: int = 201) -> float:
    """:math:`h(g) = \\min_t E[(Z - tYW)_+^2]` (or the expectation at a given ``t``), with
    :math:`W, Z \\sim N(0,1)`, :math:`P(Y=\\pm1\\mid W) = \\sigma(\\pm gW)`: the Z integral in closed
    form (:math:`(1+c^2)\\Phi(-c) - c\\varphi(c)`), the W integral by ``nodes``-point Gauss-Hermite,
    the minimum over t by a bounded scalar search on [-50, 50]. ``g`` >= 0."""
    real(0, 10**3).check("g", g)
    rule = replica.gauss_hermite(nodes)
    W = rule.nodes

    def value(tt):
        return float(np.sum(rule.weights * (expit(g * W) * _positive_part_square(tt * W)
                                            + expit(-g * W) * _positive_part_square(-tt * W))))

    if t is not None:
        return value(t)
    res = minimize_scalar(value, bounds=(-50.0, 50.0), method="bounded",
                          options={"xatol": 1e-12})
    return float(min(res.fun, value(0.0)))


def separability_threshold(rho: float = 1.0, nodes: int = 201) -> float:
    """:math:`\\alpha_s = 1/h(\\sqrt\\rho)`: at :math:`\\lambda = 0` the logistic minimiser exists
    (the data are not separable) iff :math:`\\alpha > \\alpha_s` (Candes-Sur; spec Sec. 11:
    2, 2.0764, 2.2782, 2.8991 at rho = 0, 0.25, 1, 4). ``rho`` >= 0 (rho = 0 allowed here)."""
    real(0, 10**6).check("rho", rho)
    return 1.0 / separability_h(math.sqrt(rho), nodes=nodes)

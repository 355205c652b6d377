"""The canonical three-parameter model of P2 in torch (float64), trained by full-batch gradient
descent, Adam and minibatch SGD, against the basins of the joint gradient flow (C1).

Makkuva et al., P2 = arXiv 2406.03072, Sec. 3; specification ``markov.md`` Part 2, Sec. 4. The
model has parameters ``(e, w, b)`` (one copy per start, vectorised) and logit
:math:`e^2(1 + 2w|w|)x_n + b - e^2/2`; its population loss is

.. math:: L = \\pi_0[p\\,s(-f_0) + (1-p)s(f_0)] + \\pi_1[(1-q)s(-f_1) + q\\,s(f_1)],\\quad s = \\mathrm{softplus},

the same expression as :func:`numerics.markov.canonical.canonical_loss` (checked to 1e-12). The
minibatch loss is the empirical cross-entropy of the logits on sampled chains
(:func:`numerics.markov.sequences.sample_chain`). End classes: ``"global"`` / ``"local"`` when
the population loss is within ``1e-3`` of :math:`H(P)` / :math:`H(\\pi)`
(:func:`numerics.markov.canonical.end_state`), else ``"neither"``; the reference class is where
the joint three-parameter flow (:func:`numerics.markov.canonical.joint_flow`, the flow of
``ttc markov basin``) from the same start ends.
"""

from __future__ import annotations

import numpy as np
import torch

from numerics.markov import canonical
from numerics.markov.sequences import sample_chain, transition_counts
from numerics.shared.ode import dopri5
from numerics.shared.seeding import as_generator
from numerics.shared.threads import limit_threads
from theory.domains import choice, integer
from theory.errors import InputError, NumericalFailure
from theory.results import result
from validation.markov.models import DTYPE

__all__ = ["OPTIMIZERS", "END_TOLERANCE", "CanonicalModel", "DescentClasses", "population_loss",
           "minibatch_loss", "counts_loss", "train_canonical", "flow_classes", "grid_starts", "descent_classes",
           "grid_classes"]

OPTIMIZERS = choice("gd", "adam", "sgd")
#: "Loss within 1e-3 of H(P) / H(pi)" (Part 2, C1).
END_TOLERANCE = 1e-3
#: Steps of :func:`train_canonical` (a few microseconds per start per step).
STEPS = integer(1, 1_000_000)


@result
class DescentClasses:
    """Where training from a grid of starts ends, against the joint flow (C1).

    Attributes
    ----------
    optimizer : str
        ``"gd"``, ``"adam"`` or ``"sgd"``.
    starts : int
        Number of starts ``(e0, w0)`` (``b0 = 0``).
    compared : int
        Starts with :math:`|E(e_0, w_0) - E^*| \\ge 0.05` (off the separatrix band).
    agreements : int
        Of those, starts whose end class equals the joint flow's.
    share : float
        ``agreements / compared``.
    classes : dict
        Counts of end classes ``{"global", "local", "neither"}`` over all starts.
    disagreements : list of dict
        Up to five starts ``{e0, w0, trained, flow}`` that disagree (off the band).
    """

    optimizer: str
    starts: int
    compared: int
    agreements: int
    share: float
    classes: dict
    disagreements: list


def _softplus(x: torch.Tensor) -> torch.Tensor:
    """:math:`\\log(1 + e^x)` exactly (``torch.nn.functional.softplus`` returns ``x`` above 20,
    an error of up to 2e-9)."""
    return torch.logaddexp(torch.zeros_like(x), x)


class CanonicalModel(torch.nn.Module):
    """``M`` independent canonical models with parameters ``e, w, b`` of shape ``(M,)``."""

    def __init__(self, e0, w0, b0):
        super().__init__()
        values = [torch.as_tensor(np.asarray(v, dtype=float).reshape(-1), dtype=DTYPE)
                  for v in (e0, w0, b0)]
        e0, w0, b0 = torch.broadcast_tensors(*values)
        self.e, self.w, self.b = (torch.nn.Parameter(v.clone()) for v in (e0, w0, b0))

    def logits(self) -> tuple[torch.Tensor, torch.Tensor]:
        """:math:`(f_0, f_1)`, each of shape ``(M,)``."""
        e2 = self.e * self.e
        f0 = self.b - e2 / 2
        return f0, f0 + e2 * (1 + 2 * self.w * self.w.abs())


def population_loss(model: CanonicalModel, p, q) -> torch.Tensor:
    """Exact population loss per start, shape ``(M,)``, nats (module docstring). ``p, q``: floats
    or arrays of shape ``(M,)`` (one chain per start, so several chains train in one pass)."""
    p, q = (torch.as_tensor(np.asarray(v, dtype=float), dtype=DTYPE) for v in (p, q))
    pi0, pi1 = q / (p + q), p / (p + q)
    f0, f1 = model.logits()
    return (pi0 * (p * _softplus(-f0) + (1 - p) * _softplus(f0))
            + pi1 * ((1 - q) * _softplus(-f1) + q * _softplus(f1)))


def minibatch_loss(model: CanonicalModel, x: torch.Tensor) -> torch.Tensor:
    """Empirical cross-entropy per start on chains ``x`` of shape ``(M, B, N+1)`` (or
    ``(B, N+1)`` shared): mean over the batch and positions of
    :math:`s(\\ell_n) - x_{n+1}\\ell_n` with :math:`\\ell_n = f_{x_n}`; shape ``(M,)``."""
    f0, f1 = model.logits()
    if x.dim() == 2:
        x = x.unsqueeze(0)
    current, target = x[..., :-1], x[..., 1:]
    logit = f0[:, None, None] + (f1 - f0)[:, None, None] * current
    return (_softplus(logit) - target * logit).mean(dim=(1, 2))


def counts_loss(model: CanonicalModel, counts: np.ndarray) -> torch.Tensor:
    """:func:`minibatch_loss` from the transition counts alone (the loss depends on the chains
    only through them): :math:`\\sum_{a,b} n_{ab}\\,(s(f_a) - b f_a) / \\sum_{a,b} n_{ab}`
    per member; ``counts`` of shape ``(members, 4)`` (:func:`numerics.markov.sequences.transition_counts`); shape
    ``(members,)``. Equal to :func:`minibatch_loss` on the same chains up to rounding."""
    n = torch.as_tensor(counts, dtype=DTYPE)
    f0, f1 = model.logits()
    total = n.sum(dim=1)
    return ((n[:, 0] + n[:, 1]) * _softplus(f0) - n[:, 1] * f0
            + (n[:, 2] + n[:, 3]) * _softplus(f1) - n[:, 3] * f1) / total


def train_canonical(p, q, e0, w0, b0=0.0, *, optimizer: str = "gd",
                    lr: float = 0.01, steps: int = 20_000, batch: int = 16, seq_len: int = 512,
                    seed: int = 0) -> CanonicalModel:
    """Train ``M`` canonical models (one per start; ``e0, w0, b0`` broadcast) and return them.

    - ``"gd"``: full-batch gradient descent on the population loss, step ``lr``;
    - ``"adam"``: Adam (``lr``) on the population loss;
    - ``"sgd"``: SGD with momentum 0.9 (``lr``) on fresh minibatches of ``batch`` chains of
      ``seq_len + 1`` symbols per step, one stream per start from ``seed``.

    The objective is the sum over starts, so each start follows its own gradient. One thread.
    ``p, q`` are floats, or (``"gd"``, ``"adam"``) arrays with one chain per start.
    """
    for p_, q_ in zip(np.ravel(p), np.ravel(q)):
        canonical.check_chain(float(p_), float(q_))
    OPTIMIZERS.check("optimizer", optimizer)
    if optimizer == "sgd" and (np.ndim(p) or np.ndim(q)):
        raise InputError("p, q", (p, q), "one chain (floats) for minibatch SGD")
    STEPS.check("steps", steps)
    model = CanonicalModel(e0, w0, b0)
    members = model.e.shape[0]
    with limit_threads(1):
        if optimizer == "adam":
            opt = torch.optim.Adam(model.parameters(), lr=lr)
        else:
            opt = torch.optim.SGD(model.parameters(), lr=lr,
                                  momentum=0.9 if optimizer == "sgd" else 0.0)
        rng = as_generator(seed)
        for _ in range(steps):
            if optimizer == "sgd":   # the minibatch loss through its transition counts
                x = sample_chain(p, q, members * batch, seq_len + 1, rng)
                loss = counts_loss(model, transition_counts(x, members)).sum()
            else:
                loss = population_loss(model, p, q).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
    if not all(torch.isfinite(v).all() for v in (model.e, model.w, model.b)):
        raise NumericalFailure(f"training the canonical model diverged ({optimizer}, lr={lr})")
    return model


def flow_classes(p: float, q: float, e0, w0, b0: float = 0.0) -> list[str]:
    """End class of the joint three-parameter gradient flow from each start (the flow of
    ``ttc markov basin``), ``"global"``/``"local"``/``"neither"`` at tolerance 1e-3.

    All starts are integrated as one system (Dormand--Prince on the stacked ``(e, w, b)``, the
    vectorised gradient of :mod:`numerics.markov.canonical`, rtol 1e-12 since the error norm
    is an RMS over the starts) until every start's gradient is at most 1e-9 in each component;
    ``tests/validation/markov/test_canonical_torch.py`` checks the classes against
    :func:`numerics.markov.canonical.joint_flow` run start by start."""
    canonical.check_chain(p, q)
    e0, w0 = (np.asarray(v, dtype=float).ravel() for v in (e0, w0))
    members = len(e0)

    def rhs(y):
        e, w, b = y.reshape(3, members)
        return -canonical.canonical_gradient(p, q, e, w, b).T.reshape(-1)

    trajectory = dopri5(rhs, np.concatenate([e0, w0, np.full(members, float(b0))]), 1e6,
                        rtol=1e-12, atol=1e-14, max_steps=1_000_000,
                        stop=lambda _, v: float(np.max(np.abs(v))) <= 1e-9)
    if not trajectory.stopped:
        raise NumericalFailure("the joint flows did not reach |grad L| <= 1e-9 by t = 1e6")
    losses = canonical.canonical_loss(p, q, *trajectory.y[-1].reshape(3, members))
    return [canonical.end_state(p, q, float(v), tol=END_TOLERANCE) for v in losses]


def grid_starts(n: int, half_width: float = 3.0) -> tuple[np.ndarray, np.ndarray]:
    """The ``n x n`` grid on ``[-half_width, half_width]^2`` without the lines ``e0 = 0`` and
    ``w0 = 0`` (which stay on the invariant lines); flattened ``(e0, w0)``."""
    axis = np.linspace(-half_width, half_width, n)
    axis = axis[np.abs(axis) > 1e-12]
    e0, w0 = np.meshgrid(axis, axis)
    return e0.ravel(), w0.ravel()


def _compare(p, q, e0, w0, optimizer, losses, flow, band) -> DescentClasses:
    trained = [canonical.end_state(p, q, float(v), tol=END_TOLERANCE) for v in losses]
    off_band = np.abs(canonical.energy(e0, w0) - canonical.SADDLE_ENERGY) >= band
    compared = int(off_band.sum())
    agreements = int(sum(t == f for t, f, keep in zip(trained, flow, off_band) if keep))
    wrong = [{"e0": float(e), "w0": float(w), "trained": t, "flow": f}
             for e, w, t, f, keep in zip(e0, w0, trained, flow, off_band) if keep and t != f]
    classes = {name: trained.count(name) for name in ("global", "local", "neither")}
    return DescentClasses(optimizer, len(e0), compared, agreements,
                          agreements / compared if compared else 1.0, classes, wrong[:5])


def descent_classes(p: float, q: float, e0, w0, optimizer: str, *, steps: int, lr: float = 0.01,
                    flow: list[str] | None = None, band: float = 0.05, seed: int = 0,
                    seq_len: int = 512, batch: int = 16) -> DescentClasses:
    """Train from every start (``b0 = 0``) and compare the end class with the joint flow's
    (``flow``, computed by :func:`flow_classes` when None) where :math:`|E - E^*| \\ge` ``band``."""
    e0, w0 = np.ravel(e0), np.ravel(w0)
    model = train_canonical(p, q, e0, w0, 0.0, optimizer=optimizer, lr=lr, steps=steps,
                            seed=seed, seq_len=seq_len, batch=batch)
    with torch.no_grad():
        losses = population_loss(model, p, q).numpy()
    flow = flow_classes(p, q, e0, w0) if flow is None else flow
    return _compare(p, q, e0, w0, optimizer, losses, flow, band)


def grid_classes(chains, e0, w0, optimizer: str, *, steps: int, flows: dict, lr: float = 0.01,
                 band: float = 0.05) -> dict:
    """:func:`descent_classes` for several chains at once with full-batch ``"gd"`` or
    ``"adam"``: every (chain, start) pair is one member of a single model, so one training pass
    serves all chains. ``flows[(p, q)]`` holds the flow classes of the starts. Returns
    ``{(p, q): DescentClasses}``."""
    OPTIMIZERS.check("optimizer", optimizer)
    if optimizer == "sgd":
        raise InputError("optimizer", optimizer, "'gd' or 'adam' (minibatch SGD samples one "
                                                 "chain: use descent_classes)")
    e0, w0 = np.ravel(e0), np.ravel(w0)
    chains = [tuple(c) for c in chains]
    p = np.repeat([c[0] for c in chains], len(e0))
    q = np.repeat([c[1] for c in chains], len(e0))
    model = train_canonical(p, q, np.tile(e0, len(chains)), np.tile(w0, len(chains)), 0.0,
                            optimizer=optimizer, lr=lr, steps=steps)
    with torch.no_grad():
        losses = population_loss(model, p, q).numpy().reshape(len(chains), len(e0))
    return {c: _compare(c[0], c[1], e0, w0, optimizer, losses[i], flows[c], band)
            for i, c in enumerate(chains)}

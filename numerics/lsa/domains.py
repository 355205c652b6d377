"""Declared domains and resource guards of the LSA numerics (Ding et al. 2025; Ahn et al. 2023).

One declaration per parameter (:class:`theory.domains.Domain`), used by the Python API
(``D_NUMERIC.check("d", d)``) and by the ``ttc lsa`` options (:func:`validation.cli.add_argument`).

Budgets
-------
- memory: :data:`MEMORY_BUDGET` = 2 GiB, the largest estimated peak of the arrays one call
  allocates; :func:`check_memory` refuses a larger estimate with
  :class:`~theory.errors.TooLargeError` *before* anything is allocated.
- time: integers that size a loop or a search have a documented maximum (the ``note`` of their
  domain gives the estimate); :data:`WORK_BUDGET` bounds the element operations of a Monte Carlo
  loss (:func:`numerics.lsa.optimum.mc_loss`).

The estimates (bytes, float64 = 8 bytes; ``m = (d+1)(d+2)/2``, ``N = nodes^2`` kernel nodes):

- quadrature moments: ``8 N (2 * 2^(d+1) + 3 m^2 + 2 d^2) + 24 (d m)^2``;
- Monte Carlo moments over ``S`` kernels: ``8 S (2 * 2^(d+1) + 5 m^2 + 3 d^2 + 2 d m) + 24 (d m)^2``;
- ``size`` sampled prompts of ``(d+1) x (n+1)``: ``32 size (d+1)(n+1)`` (chains, uniforms, two
  temporaries);
- features of ``size`` prompts: ``8 size (2 (d+1)^2 + 2 d m) + 8 size (d+1)(n+1)``.
"""

from __future__ import annotations

import functools


from theory.budgets import GIB, MEMORY_BUDGET, check_memory, check_work
from theory.domains import SEED, choice, integer, rational, real
from theory.lsa_domains import N_CONTEXT, P_EXACT  # noqa: F401  (re-exported: one declaration)

__all__ = ["GIB", "MEMORY_BUDGET", "WORK_BUDGET", "check_memory", "check_work",
           "moments_bytes", "mc_moments_bytes", "prompts_bytes", "features_bytes",
           "D_NUMERIC", "D_SEARCH", "D_SHOR", "D_CLI_OPTIMUM", "D_TRAIN", "D_RECOVER",
           "P_FLOAT", "N_CONTEXT", "N_TRAIN", "P_EXACT", "NODES", "SAMPLES", "SIZE", "BATCH",
           "STATES", "DIM", "NOISE", "TOL", "STARTS", "REFINE", "RADIUS", "PREC", "STEPS",
           "LAYERS", "LR", "INIT_SCALE", "FORM", "SIGN", "DYNAMICS", "INIT", "SEED", "NS_LENGTH",
           "X_LENGTH", "ALPHA", "D_DIMENSION", "N_BASELINE"]

#: Largest estimated number of element operations of a Monte Carlo loss (about a minute).
WORK_BUDGET = 10**11
#: :func:`theory.budgets.check_work` with this module's budget.
check_work = functools.partial(check_work, budget=WORK_BUDGET)


def _m(d: int) -> int:
    return (d + 1) * (d + 2) // 2


def moments_bytes(d: int, nodes: int) -> float:
    """Peak bytes of :func:`numerics.lsa.optimum.markov_moments_numeric`."""
    N, m = nodes * nodes, _m(d)
    return 8.0 * N * (2 * 2 ** (d + 1) + 3 * m * m + 2 * d * d) + 24.0 * (d * m) ** 2


def mc_moments_bytes(d: int, samples: int) -> float:
    """Peak bytes of :func:`numerics.lsa.optimum.markov_moments_mc`."""
    m = _m(d)
    return (8.0 * samples * (2 * 2 ** (d + 1) + 5 * m * m + 3 * d * d + 2 * d * m)
            + 24.0 * (d * m) ** 2)


def prompts_bytes(rows: int, n: int, size: int) -> float:
    """Peak bytes of ``size`` sampled prompts of ``rows x (n+1)``."""
    return 32.0 * size * rows * (n + 1)


def features_bytes(d: int, n: int, size: int) -> float:
    """Peak bytes of :func:`numerics.lsa.optimum.features` on ``size`` prompts."""
    return 8.0 * size * (2 * (d + 1) ** 2 + 2 * d * _m(d)) + 8.0 * size * (d + 1) * (n + 1)


#: d of the quadrature moments (memory: see :func:`moments_bytes`, about 1.2 GiB at d = 16;
#: time: d^2 m^2 (3d/2+2)^2 operations, about 30 s at d = 16).
D_NUMERIC = integer(1, 16, note="quadrature moments: about 1.2 GiB and 30 s at d = 16")
#: d of the global search for the best one-layer loss (:func:`numerics.lsa.realizability.best_lsa`):
#: 40 (d+1) starts, each a solve of size (d+1)d in the H-metric of size d m; about 40 s at d = 8.
D_SEARCH = integer(1, 8, note="the global search for the best one-layer loss takes about 40 s "
                   "at d = 8 and grows like d^8")
#: d of the Shor relaxation: a PSD variable of side (d+1)^2 d + 1 with (d+1)d(d+1)^2 d^2/2
#: consistency constraints (d = 3: 49 x 49, a few seconds; d = 4: 101 x 101, about a minute).
D_SHOR = integer(1, 4, note="the Shor SDP has a PSD variable of side (d+1)^2 d + 1: 101 at d = 4")
#: d of ``ttc lsa optimum`` (moments, optimum, recovery and, when X* is not realisable, the
#: global search: :data:`D_SEARCH`).
D_CLI_OPTIMUM = D_SEARCH
#: d of the trained models (the best-loss search runs first: :data:`D_SEARCH`; one training step
#: costs batch (d+1)^2 (n+1) operations per layer).
D_TRAIN = D_SEARCH
#: d of the exact recovery: d eigendecompositions of (d+1) x (d+1), O(d^4); about 5 s at d = 300.
D_RECOVER = integer(1, 300, note="d eigendecompositions of (d+1) x (d+1): about 5 s at d = 300")
#: Length of a vector X given to ``ttc lsa recover`` (d m at the largest d).
X_LENGTH = integer(1, 300 * 301 * 302 // 2)
#: P(s_1 = 1) as a float strictly inside (0, 1) (Fractions accepted).
P_FLOAT = real(0, 1, low_open=True, high_open=True)
#: Context chains of training and sampling commands (memory of the prompts: see
#: :func:`prompts_bytes`; training keeps several batches of (d+1)(n+1) values).
N_TRAIN = integer(1, 1000, note="each training prompt holds (d+1)(n+1) values and the held-out "
                  "set 20000 prompts")
#: Gauss-Legendre nodes per variable (the default ceil((3d+1)/2) is exact).
NODES = integer(1, 128, note="time grows with nodes^2; the default ceil((3d+1)/2) is exact")
#: Kernels of the Monte Carlo moments (memory checked by :func:`mc_moments_bytes`).
SAMPLES = integer(2, 10**9, note="memory checked against the 2 GiB budget")
#: Prompts of a sample (memory checked by :func:`prompts_bytes`).
SIZE = integer(1, 10**9, note="memory checked against the 2 GiB budget")
#: Batch of a Monte Carlo loop or a training step (memory checked).
BATCH = integer(1, 10**7, note="memory checked against the 2 GiB budget")
#: States of the dynamical prompts (a states x states map or kernel per prompt).
STATES = integer(2, 1000, note="a states x states kernel per prompt")
#: Side of Sigma in the numeric Gaussian closed forms (a dense inverse, O(dim^3)).
DIM = integer(1, 2000, note="a dense inverse: about 1 s at 2000")
#: Label-noise variance sigma^2.
NOISE = real(0, 1e12)
#: Relative tolerance of :func:`numerics.lsa.realizability.recover`.
TOL = real(0, 1)
#: Start directions of the global search.
STARTS = integer(1, 100_000, note="one H-metric solve per start")
#: Starts refined by BFGS (up to 400 iterations each).
REFINE = integer(1, 100, note="each refinement runs up to 400 BFGS iterations")
#: Relative box radius of the certificates.
RADIUS = real(0, 1, low_open=True)
#: Working precision of the certificates (bits).
PREC = integer(53, 4096, note="arb arithmetic slows down with the precision")
#: Training steps (each a fresh batch of prompts).
STEPS = integer(1, 100_000, note="one batch of prompts per step")
#: LSA layers.
LAYERS = integer(1, 16, note="each layer adds (d+1)^2 (n+1) operations per prompt")
#: Learning rate of Adam.
LR = real(0, 10, low_open=True)
#: Scale of the random initialisation.
INIT_SCALE = real(0, 100)
#: Parametrisation of an LSA layer.
FORM = choice("dense", "sparse")
#: Read-out sign (+1 Ding et al., -1 Ahn et al.).
SIGN = choice(1, -1)
#: Dynamics of the ``|S|``-state prompts.
DYNAMICS = choice("deterministic", "dirichlet")
#: Initialisation of the Gaussian training.
INIT = choice("zfb", "random")
#: Length of a list of n values (:func:`numerics.lsa.realizability.loss_curves`).
NS_LENGTH = integer(1, 1000, note="one global search per n")

# --- Part 2, Figs. 3, 5, 6 (spec lsa.md Part 2 B-D) -------------------------------------------
#: Dirichlet concentration alpha of the ``|S|``-state kernel rows (0 = the limit alpha -> 0: each row a
#: point mass, i.e. a random map f: S -> S per prompt).
ALPHA = real(0, 1e6, note="alpha = 0 is the random-map limit; large alpha makes rows uniform")
#: d of the Fig. 5 dimension experiment (1000 prompts, d(d+1)(d+2)/2 least-squares features and
#: X* by quadrature: about 2 s at d = 10).
D_DIMENSION = integer(1, 10, note="X* by quadrature and 2e4 held-out prompts of d(d+1)(d+2)/2 "
                      "features: about 2 s and 100 MB at d = 10")
#: Context chains of the Fig. 6 baselines (one fit per prompt and method).
N_BASELINE = integer(1, 200, note="four classifiers fitted per prompt")

# --- Part 2 (issue 15, sections A, E, F): Pareto view, k-state chains, the reduction ----------
#: States k of the exact k-state moments (k^2 kernel variables; the products of three chain
#: moments grow like k^(3d)).
KSTATE_STATES = integer(2, 6, note="exact rational moments in k^2 kernel variables")
#: d of the exact k-state moments: about 0.1 s at d = 2 and 8 s at d = 3 (k = 3).
KSTATE_D = integer(1, 3, note="exact rational moments: about 8 s at d = 3 for k = 3, k^(3d) <= 20000")
#: Dirichlet concentration alpha of the kernel rows (0 is the random-map limit).
KSTATE_ALPHA = rational(0, 1000)
#: Upper end of the exact scan for the first realisable n (one 3 x 3 rational solve per n).
N_SCAN_KSTATE = integer(1, 10**4, note="one exact 3 x 3 solve per n")
#: d of ``ttc lsa pareto`` (binary chains of length d+1; R1, R2 have d+1 entries).
PARETO_D = integer(1, 16, note="64 prompts of (d+1) x (n+1) per layer")
#: n of ``ttc lsa pareto`` (64 prompts of (d+1) x (n+1); M must be invertible: n >= d helps).
PARETO_N = integer(1, 10**4, note="64 prompts of (d+1) x (n+1)")
#: Sets of an EXACT COVER instance (the Groebner basis and the brute force grow like 2^N).
REDUCTION_SETS = integer(1, 8, note="brute force over 2^N choices and a Groebner basis")

"""Declared domains and resource budgets of the Potts paper's API and command line.

One declaration per parameter (:class:`theory.domains.Domain`) serves the Python functions of
:mod:`numerics.potts` (``RESTARTS.check("restarts", restarts)``) and the options of ``ttc potts``
(:func:`validation.cli.add_argument`), so both refuse the same values with the same words. The
module imports nothing heavy (no numpy), so the command line can read it at start-up.

Budgets (what a call may cost before it is refused with :class:`~theory.errors.TooLargeError`,
naming the argument, its value and the limit):

- memory: :data:`MEMORY_BUDGET` = 2 GiB, the largest estimated peak of the arrays a call
  allocates (estimates below, in bytes of float64/int64);
- time: :data:`WORK_BUDGET` = 10^12 estimated floating-point operations (about 10 minutes on one
  core at 2 Gflop/s), counted at the iteration limits (``max_iter`` of the optimisers, every
  sweep of a sampler), so a call that passes the estimate is bounded;
- files: model files at most :data:`MAX_MODEL_BYTES`, sample files at most
  :data:`MAX_SAMPLES_BYTES` of arrays.

Estimates (``n`` states or rows, ``L`` sites, ``C`` colours, ``K = L C``):

- exact enumeration: ``n = C^L <= 10^6``, memory ``24 n L`` (configurations and index
  arithmetic) plus chunked logits; pair marginals add ``8 n K`` and ``2 n K^2`` operations;
- population objective (``represent``): ``8 n K (5 + 2 heads)`` bytes, ``6 n L K heads`` operations
  per evaluation, ``restarts * max_iter`` evaluations;
- Gibbs/Metropolis (``sample``): ``8 chains (2 K + 4 C + 2 L) + 24 M L`` bytes,
  ``2 sweeps L chains C (L + C)`` operations;
- PLM (``fit --method plm``): ``8 (K^2 (2 maxcor + 12) + 4 M K)`` bytes,
  ``4 M K^2`` operations per evaluation, ``max_iter`` evaluations;
- factored fit: ``8 M K (1 + 6)`` bytes, ``(6 L K + 2 K C) M`` operations per evaluation,
  ``restarts * max_iter`` evaluations.
"""

from __future__ import annotations

import functools

from theory.budgets import GIB, MEMORY_BUDGET, check_memory, check_work
from theory.domains import SEED, integer, real

__all__ = ["MEMORY_BUDGET", "WORK_BUDGET", "MAX_MODEL_BYTES", "MAX_SAMPLES_BYTES", "GIB",
           "RESTARTS", "SAMPLES", "CHAINS", "BURN_IN", "THIN", "PENALTY", "ALPHA", "MAX_ALPHAS",
           "REPLICA_LAMBDA", "RHO", "DELTA", "QUADRATURE", "BETA", "SEED", "MAX_ITER",
           "COLOURS", "FSS_N", "FSS_SEEDS", "check_memory", "check_work"]

#: Largest estimated number of floating-point operations of one call (~10 min on one core).
WORK_BUDGET = 10**12
#: :func:`theory.budgets.check_work` with this module's budget.
check_work = functools.partial(check_work, budget=WORK_BUDGET)
#: Largest model file read (JSON): 64 MiB, about 3 million matrix entries (L up to ~1800).
MAX_MODEL_BYTES = 64 * 2**20
#: Largest sample file read (.npz): 1 GiB of arrays.
MAX_SAMPLES_BYTES = GIB

#: Random starts of an optimiser (``represent``, ``fit_factored``): each is a full L-BFGS run.
RESTARTS = integer(1, 100, note="each start is a full L-BFGS run; 100 is the documented maximum")
#: Number of sequences drawn by MCMC (the samples array is M x L int64).
SAMPLES = integer(1, 10**8, note="the samples array is M x L int64; larger needs more than 2 GiB")
#: Parallel chains (the one-hot state is L x C x chains float64).
CHAINS = integer(1, 10**7, note="the chains' one-hot state is 8 L C chains bytes")
#: Sweeps before recording.
BURN_IN = integer(0, 10**6, note="each sweep updates every site of every chain")
#: Sweeps between recordings.
THIN = integer(1, 10**6, note="each sweep updates every site of every chain")
#: L2 penalty of the inverse fits (beyond 10^6 every coupling is zero to machine precision).
PENALTY = real(0, 10**6, note="a penalty beyond 10^6 only returns zero couplings")
#: Inverse temperature of a model.
BETA = real(0, None)
#: Iteration limit of an L-BFGS run.
MAX_ITER = integer(1, 10**5, note="L-BFGS iterations per run")
#: Samples per parameter of the replica curves.
ALPHA = real(0, 10**6, low_open=True, note="the replica solver is tested up to 10^6")
#: Most alpha values in one replica curve.
MAX_ALPHAS = 1000
#: Ridge penalty of the replica scenarios.
REPLICA_LAMBDA = real(0, 10**6, low_open=True, note="the replica solver is tested up to 10^6")
#: Teacher norm ``|w*|^2/N`` of the replica scenarios.
RHO = real(0, 10**6, low_open=True, note="the replica solver is tested up to 10^6")
#: Label-noise variance of R2.
DELTA = real(0, 10**6, note="the replica solver is tested up to 10^6")
#: Gauss-Hermite nodes per axis of the R1 quadrature (2 n^2 nodes per prox solve).
QUADRATURE = integer(2, 201, note="2 n^2 nodes per prox solve, up to 5000 fixed-point iterations "
                                  "per alpha")

# -- Part 2, replica (spec Sec. 10-12) -------------------------------------------------------------
#: Colours of the softmax channel (C >= 2; the channel integrates over 2(C-1) Gaussians).
COLOURS = integer(2, 10, note="the softmax channel integrates over 2(C-1) Gaussians (Sobol for C >= 4)")
#: Parameters N of a finite-size simulation (each fit is an M x N logistic/ridge problem, M = alpha N).
FSS_N = integer(1, 5000, note="each seed fits an (alpha N) x N design; 5000 is the documented maximum")
#: Seeds at the smallest N of a finite-size simulation (S_N = S * N_min/N at larger N).
FSS_SEEDS = integer(1, 1000, note="one fit per seed")

# -- factored against standard attention (``ttc potts compare``, spec Sec. 9) ------------------
#: Sites L of the comparison's default model (the encoders' attention is L x L per head).
COMPARE_SITES = integer(2, 64, note="the comparison trains transformer encoders on L-site sequences")
#: Colours C of the comparison's default model.
COMPARE_COLOURS = integer(2, 64, note="the comparison's logits are C-dimensional")
#: One training-set size M of the comparison (10% of it is the encoders' validation split).
COMPARE_SIZE = integer(10, 10**6, note="each M trains a factored layer and standard encoders")
#: Most training-set sizes of one comparison.
MAX_COMPARE_SIZES = 8
#: Layers of a standard encoder.
ENCODER_LAYERS = integer(1, 3, note="the spec's standard encoders have 1, 2 or 3 layers")
#: Test sequences of the comparison (one masked site each).
COMPARE_TEST = integer(2, 10**6, note="one masked site per test sequence")
#: Most optimiser steps of one standard encoder.
ENCODER_STEPS = integer(1, 10**5, note="AdamW steps per encoder (early stopping may use fewer)")
#: Width of a standard encoder's residual stream.
D_MODEL = integer(2, 512, note="encoder width; work grows as d_model^2")
#: Attention heads of a standard encoder (must divide d_model).
HEADS = integer(1, 64, note="attention heads; must divide d_model")

"""Declared domains of the Bayesian-network construction's sizes (Cao et al. 2025), in a module
without sympy so that the ``ttc bayesnet`` parser starts fast.

:mod:`numerics.bayesnet.construction` re-exports them and checks its arguments with them; the
``ttc bayesnet construct`` options are declared with the same objects.
"""

from __future__ import annotations

from theory.domains import integer, real

__all__ = ["BETA", "CONTEXT_LENGTH"]

#: The score scale beta: positive; at most 10^6 keeps every score beta (matches + C) far from
#: float64 overflow (exp(-beta) is already 0 beyond beta = 746).
BETA = real(0, 1e6, low_open=True, note="scores beta*(matches + C) stay finite")
#: Context length N of :func:`numerics.bayesnet.construction.construction_report` (``ttc bayesnet
#: construct --n``): the forward passes cost about (M x queries + prefixes) x (N+1) x R^2;
#: N = 4000 on 5 binary variables (R = 22) takes 3-7 s of CPU on one core (about 10 s wall on a
#: loaded machine).
CONTEXT_LENGTH = integer(1, 4000, note="about 10 s for 5 binary variables at N = 4000")

# Spec Part 2 (Secs. 8, 11): the in-context baselines of ``ttc bayesnet baselines``
# (:func:`numerics.bayesnet.mixture.baseline_curves`).

#: Context length N of the baselines: the posterior tables hold (N+1)^2 entries.
BASELINE_LENGTH = integer(1, 2000, note="posterior tables of (N+1)^2 entries")
#: Episodes per context length of the baselines.
BASELINE_EPISODES = integer(1, 100_000)

__all__ += ["BASELINE_LENGTH", "BASELINE_EPISODES"]

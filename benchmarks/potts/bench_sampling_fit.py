"""Potts timings: Gibbs sampling, the pseudo-likelihood fit and an R1 replica curve (Rende et al. 2024).

Each against a baseline measured in the same run:

1. Gibbs sampling, L = 20, C = 10, 10^4 chains, float64, one thread: our vectorised sampler against
   adabmDCA's ``gibbs_sampling`` (PyPI ``adabmdca``, torch) on the same model; if adabmDCA cannot be
   imported, against a straightforward per-site Python Gibbs loop (and the line says so).
   Target: at least 2x adabmDCA's site updates per second.
2. Pseudo-likelihood fit, general couplings, L = 20, C = 10, M = 10^4: under 30 s (the target is the
   baseline; default BLAS threads).
3. R1 replica curve, 20 alpha values, 61 x 61 quadrature: under 3 s (the target is the baseline).

Run with ``python benchmarks/potts/bench_sampling_fit.py [--smoke]`` (``--smoke``: every benchmark
at a tiny size, same line format, a few seconds).
"""

from __future__ import annotations

import contextlib
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from benchmarks.timing import best_time, report  # noqa: E402

#: Real sizes (the performance targets) and smoke sizes.
SIZES = {"L": 20, "C": 10, "chains": 10_000, "sweeps": 2, "samples": 10_000, "alphas": 20, "quadrature": 61,
         "repeat": 3}
SMOKE = {"L": 6, "C": 3, "chains": 200, "sweeps": 1, "samples": 300, "alphas": 3, "quadrature": 21,
         "repeat": 1}


def _blas_one_thread():
    """A context pinning numpy's already loaded BLAS to one thread (threadpoolctl): both samplers on
    one thread, since a shared machine makes 2-thread timings erratic. Torch threads are set by
    :func:`numerics.shared.threads.limit_threads`, which cannot reach a loaded BLAS."""
    try:
        from threadpoolctl import threadpool_limits

        return threadpool_limits(1)
    except ImportError:  # pragma: no cover
        print("# threadpoolctl missing: BLAS threads not pinned")
        return contextlib.nullcontext()


def _adabmdca_gibbs(model, S0, sweeps):
    import torch
    from adabmDCA.sampling import gibbs_sampling

    params = {"bias": torch.as_tensor(model.beta * model.h),
              "coupling_matrix": torch.as_tensor(model.beta * np.einsum("ij,ab->iajb", model.J, model.U))}
    chains = torch.nn.functional.one_hot(torch.as_tensor(S0), model.C).to(torch.float64)
    torch.manual_seed(0)  # adabmDCA draws from torch's global generator
    return lambda: gibbs_sampling(chains, params, sweeps, beta=1.0)


def _python_loop_gibbs(model, S0, sweeps, n_chains=200):
    """Baseline: per-site, per-chain Python Gibbs loop (numpy only for the C-vector)."""
    rng = np.random.default_rng(0)
    n_chains = min(n_chains, len(S0))
    S = S0[:n_chains].copy()
    bJ, U, bh = model.beta * model.J, model.U, model.beta * model.h

    def run():
        for _ in range(sweeps):
            for n in range(n_chains):
                for i in range(model.L):
                    z = bJ[i] @ U[:, S[n]].T + bh[i]
                    p = np.exp(z - z.max())
                    S[n, i] = np.searchsorted(np.cumsum(p), rng.random() * p.sum())
    return run, n_chains


def bench_gibbs(size: dict) -> None:
    """Site updates per second of :func:`numerics.potts.sampling.run_sweeps` against adabmDCA."""
    import torch  # noqa: F401  (loaded before limit_threads so that its threads are set too)

    from numerics.potts import population
    from numerics.potts import sampling
    from numerics.shared.threads import limit_threads

    L, C, chains, sweeps = size["L"], size["C"], size["chains"], size["sweeps"]
    model = population.default_model(L, C, seed=0)
    S0 = np.random.default_rng(0).integers(0, C, (chains, L))
    with limit_threads(1), _blas_one_thread():
        ours = best_time(lambda: sampling.run_sweeps(model, S0, sweeps, seed=1), repeat=size["repeat"])
        ours_rate = sweeps * L * chains / ours
        try:
            base_fn = _adabmdca_gibbs(model, S0, sweeps)
            base = best_time(base_fn, repeat=size["repeat"])
            base_rate = sweeps * L * chains / base
            name = "adabmDCA gibbs_sampling (torch, 1 thread)"
        except ImportError:
            run, n = _python_loop_gibbs(model, S0, sweeps)
            base = best_time(run, repeat=1)
            base_rate = sweeps * L * n / base
            base = sweeps * L * chains / base_rate  # time it would take for the same work
            name = "per-site Python Gibbs loop (adabmDCA not importable)"
    report(f"gibbs L={L} C={C} {chains} chains x {sweeps} sweeps", ours, name, base, "speed-up >= 2")
    print(f"  site updates/s: ours {ours_rate:.3g}, baseline {base_rate:.3g}")


def bench_plm(size: dict) -> None:
    """Wall and CPU time of :func:`numerics.potts.inverse.fit_plm` on Gibbs samples."""
    from numerics.potts import inverse
    from numerics.potts import population
    from numerics.potts import sampling

    L, C, M = size["L"], size["C"], size["samples"]
    model = population.default_model(L, C, seed=0)
    S = sampling.sample(model, M, chains=min(M, 2000), burn_in=200, thin=10, seed=0).samples
    t0, c0 = time.perf_counter(), time.process_time()
    inverse.fit_plm(S, C, lam_h=1e-3, lam_J=1e-3)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    report(f"PLM fit general couplings L={L} C={C} M={M:.0e}".replace("e+0", "e"), seconds, "target", 30.0,
           "< 30 s (ratio >= 1)")
    print(f"  CPU time of this process: {cpu:.2f} s (wall time is inflated on a shared machine)")


def bench_replica(size: dict) -> None:
    """Wall and CPU time of :func:`numerics.potts.replica.r1_curve`."""
    from numerics.potts import replica

    n, quad = size["alphas"], size["quadrature"]
    alphas = np.linspace(0.25, 10, n)
    seconds = best_time(lambda: replica.r1_curve(alphas, 0.1, 1.0, quadrature=quad), repeat=size["repeat"])
    c0 = time.process_time()
    replica.r1_curve(alphas, 0.1, 1.0, quadrature=quad)
    cpu = time.process_time() - c0
    report(f"R1 replica curve, {n} alphas, {quad}x{quad} quadrature", seconds, "target", 3.0,
           "< 3 s (ratio >= 1)")
    print(f"  CPU time of this process: {cpu:.2f} s")


def main(smoke: bool = False) -> None:
    """Run every benchmark, at the target sizes or (``smoke``) at tiny ones."""
    size = SMOKE if smoke else SIZES
    bench_gibbs(size)
    bench_plm(size)
    bench_replica(size)


if __name__ == "__main__":
    main(smoke="--smoke" in sys.argv)

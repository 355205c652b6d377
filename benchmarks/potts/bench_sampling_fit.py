"""Benchmarks of the Potts paper (spec potts.md Sec. 8), each against a baseline measured in the
same run:

1. Gibbs sampling, L = 20, C = 10, 10^4 chains, float64, one thread: our vectorised sampler against
   adabmDCA's ``gibbs_sampling`` (PyPI ``adabmdca``, torch) on the same model; if adabmDCA cannot be
   imported, against a straightforward per-site Python Gibbs loop (and the line says so).
   Target: at least 2x adabmDCA's site updates per second.
2. Pseudo-likelihood fit, general couplings, L = 20, C = 10, M = 10^4: under 30 s (the target is the
   baseline; default BLAS threads).
3. R1 replica curve, 20 alpha values, 61 x 61 quadrature: under 3 s (the target is the baseline).

Run with ``python benchmarks/run.py potts``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import best_time, report  # noqa: E402

L, C, CHAINS, SWEEPS = 20, 10, 10_000, 2


def _one_thread():
    """A context pinning numpy's BLAS to one thread (torch is pinned by the caller); spec Sec. 8:
    both samplers on one thread, since a shared machine makes 2-thread timings erratic."""
    try:
        from threadpoolctl import threadpool_limits

        return threadpool_limits(1)
    except ImportError:  # pragma: no cover
        import contextlib

        print("# threadpoolctl missing: BLAS threads not pinned")
        return contextlib.nullcontext()


def _adabmdca_gibbs(model, S0):
    import torch
    from adabmDCA.sampling import gibbs_sampling

    params = {"bias": torch.as_tensor(model.beta * model.h),
              "coupling_matrix": torch.as_tensor(model.beta * np.einsum("ij,ab->iajb", model.J, model.U))}
    chains = torch.nn.functional.one_hot(torch.as_tensor(S0), C).to(torch.float64)
    torch.manual_seed(0)
    return lambda: gibbs_sampling(chains, params, SWEEPS, beta=1.0)


def _python_loop_gibbs(model, S0, n_chains=200):
    """Baseline: per-site, per-chain Python Gibbs loop (numpy only for the C-vector)."""
    rng = np.random.default_rng(0)
    S = S0[:n_chains].copy()
    bJ, U, bh = model.beta * model.J, model.U, model.beta * model.h

    def run():
        for _ in range(SWEEPS):
            for n in range(n_chains):
                for i in range(L):
                    z = bJ[i] @ U[:, S[n]].T + bh[i]
                    p = np.exp(z - z.max())
                    S[n, i] = np.searchsorted(np.cumsum(p), rng.random() * p.sum())
    return run, n_chains


def bench_gibbs():
    from numerics.potts.population import default_model
    from numerics.potts.sampling import run_sweeps

    import torch

    torch.set_num_threads(1)
    model = default_model(L, C, seed=0)
    S0 = np.random.default_rng(0).integers(0, C, (CHAINS, L))
    with _one_thread():
        _bench_gibbs_pinned(model, S0, run_sweeps)


def _bench_gibbs_pinned(model, S0, run_sweeps):
    ours = best_time(lambda: run_sweeps(model, S0, SWEEPS, seed=1), repeat=3)
    ours_rate = SWEEPS * L * CHAINS / ours
    try:
        base_fn = _adabmdca_gibbs(model, S0)
        base = best_time(base_fn, repeat=3)
        base_rate = SWEEPS * L * CHAINS / base
        name = "adabmDCA gibbs_sampling (torch, 1 thread)"
    except ImportError:
        run, n = _python_loop_gibbs(model, S0)
        base = best_time(run, repeat=1)
        base_rate = SWEEPS * L * n / base
        base = SWEEPS * L * CHAINS / base_rate  # time it would take for the same work
        name = "per-site Python Gibbs loop (adabmDCA not importable)"
    report(f"gibbs L={L} C={C} {CHAINS} chains x {SWEEPS} sweeps", ours, name, base, "speed-up >= 2")
    print(f"  site updates/s: ours {ours_rate:.3g}, baseline {base_rate:.3g}")


def bench_plm():
    from numerics.potts.population import default_model
    from numerics.potts.inverse import fit_plm
    from numerics.potts.sampling import sample

    model = default_model(L, C, seed=0)
    S = sample(model, 10_000, chains=2000, burn_in=200, thin=10, seed=0).samples
    t0, c0 = time.perf_counter(), time.process_time()
    fit_plm(S, C, lam_h=1e-3, lam_J=1e-3)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    report("PLM fit general couplings L=20 C=10 M=1e4", seconds, "target", 30.0, "< 30 s (ratio >= 1)")
    print(f"  CPU time of this process: {cpu:.2f} s (wall time is inflated on a shared machine)")


def bench_replica():
    from numerics.potts.replica import r1_curve

    alphas = np.linspace(0.25, 10, 20)
    seconds = best_time(lambda: r1_curve(alphas, 0.1, 1.0, quadrature=61), repeat=3)
    c0 = time.process_time()
    r1_curve(alphas, 0.1, 1.0, quadrature=61)
    cpu = time.process_time() - c0
    report("R1 replica curve, 20 alphas, 61x61 quadrature", seconds, "target", 3.0, "< 3 s (ratio >= 1)")
    print(f"  CPU time of this process: {cpu:.2f} s")


def main():
    bench_gibbs()
    bench_plm()
    bench_replica()


if __name__ == "__main__":
    main()

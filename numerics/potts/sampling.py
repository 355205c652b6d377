"""Vectorised MCMC for the generalised Potts model: Gibbs (heat bath) and Metropolis.

The model is that of Rende et al. 2024; the samplers are the library's. Many chains advance
together; one *update* resamples one site in every chain (the same site for all chains), one *sweep*
is L updates, either in order 0..L-1 (``order="sequential"``) or at L sites drawn uniformly
(``order="random"``).

Speed: the chains are stored one-hot as (L, C, n) so that the field of a site in all chains is one
BLAS matrix-vector product, and sampling is inverse-CDF with one uniform per chain (see
:class:`_Chains`).
"""

from __future__ import annotations

import numpy as np

from numerics.potts import population
from numerics.potts.domains import (BURN_IN, CHAINS, SAMPLES, THIN, check_memory, check_work)
from numerics.shared.seeding import as_generator
from theory.errors import InputError, check_choice, check_int
from theory.results import result

SAMPLERS = ("gibbs", "metropolis")
#: Python overhead of one site update in the work estimate, in floating-point operations.
UPDATE_OVERHEAD = 2e4
ORDERS = ("sequential", "random")


@result
class MCMCSamples:
    """Configurations drawn by :func:`sample`.

    Attributes
    ----------
    samples : numpy.ndarray, (M, L) int64
        Colours, rows ordered by recording time, then chain.
    sweeps : int
        Sweeps done per chain (burn-in included).
    acceptance : float
        Metropolis acceptance rate (1.0 for Gibbs).
    chains : int
        Number of parallel chains.
    """

    samples: np.ndarray
    sweeps: int
    acceptance: float
    chains: int


class _Chains:
    """State of ``n`` chains: colours ``S`` (n, L) and their one-hot ``X`` (L, C, n).

    The field of site i is one matrix-vector product, :math:`F_{an} = \\sum_j J_{ij} X_{jan}`;
    the logits are :math:`\\beta(U F + h_i)` (C, n), both in float64. Only the Boltzmann weights
    :math:`e^{z - \\max z}` are exponentiated in float32 (the relative error of a conditional
    probability is below 1e-6, far under Monte-Carlo noise; ``exp`` is 5x faster in float32).
    """

    def __init__(self, model: population.PottsModel, S: np.ndarray):
        self.model = model
        self.S = np.array(S, dtype=np.int64)
        n, L, C = len(self.S), model.L, model.C
        self.rows = np.arange(n)
        self.X = np.zeros((L, C, n))
        self.X[np.arange(L)[None, :], self.S, self.rows[:, None]] = 1.0
        self.Xflat = self.X.reshape(L, C * n)
        self.betaU = model.beta * model.U
        self.betah = model.beta * model.h
        self.accepted = 0
        self.proposed = 0

    def logits(self, i: int) -> np.ndarray:
        """(C, n) conditional logits of site i in every chain."""
        field = (self.model.J[i] @ self.Xflat).reshape(self.model.C, -1)
        return self.betaU @ field + self.betah[i][:, None]

    def set_site(self, i: int, new: np.ndarray) -> None:
        self.X[i] = 0.0
        self.X[i, new, self.rows] = 1.0
        self.S[:, i] = new

    def gibbs_update(self, i: int, rng: np.random.Generator) -> None:
        z = self.logits(i)
        w = np.exp((z - z.max(0)).astype(np.float32))
        for a in range(1, len(w)):  # running sums, in place
            w[a] += w[a - 1]
        u = rng.random(w.shape[1]).astype(np.float32) * w[-1]
        new = np.count_nonzero(w[:-1] < u, axis=0)
        self.set_site(i, new)

    def metropolis_update(self, i: int, rng: np.random.Generator) -> None:
        z = self.logits(i)  # -beta * (energy with colour a at site i) + const
        old = self.S[:, i]
        prop = rng.integers(0, self.model.C, len(old))
        gain = z[prop, self.rows] - z[old, self.rows]  # = -beta dE
        accept = np.log(rng.random(len(old))) < gain
        self.accepted += int(accept.sum())
        self.proposed += len(old)
        self.set_site(i, np.where(accept, prop, old))


def _sweep(chains: _Chains, sampler: str, order: str, rng: np.random.Generator) -> None:
    L = chains.model.L
    sites = range(L) if order == "sequential" else rng.integers(0, L, L)
    update = chains.gibbs_update if sampler == "gibbs" else chains.metropolis_update
    for i in sites:
        update(int(i), rng)


def sample(model: population.PottsModel, n_samples: int, *, sampler: str = "gibbs",
           chains: int | None = None, burn_in: int = 200, thin: int = 5, order: str = "sequential", seed=0,
           init: np.ndarray | None = None, progress: bool = False) -> MCMCSamples:
    """Draw ``n_samples`` configurations by MCMC.

    ``chains`` parallel chains (default ``min(n_samples, 10000)``) start uniform at random (or from
    ``init`` (chains, L)), run ``burn_in`` sweeps, then record every chain every ``thin`` sweeps until
    ``n_samples`` rows are collected (rows ordered by recording time, then chain).

    Parameters
    ----------
    model : PottsModel
    n_samples : int, >= 1
    sampler : ``"gibbs"`` (heat bath) or ``"metropolis"`` (uniform colour proposal, accept
        :math:`\\min(1, e^{-\\beta\\Delta E})`)
    seed : int or numpy Generator; the same seed gives the same samples.

    Domains and budget: ``n_samples``, ``chains``, ``burn_in``, ``thin`` as declared in
    :mod:`numerics.potts.domains`; :class:`~theory.errors.TooLargeError` before anything is
    allocated when the estimate (:func:`sampling_cost`) exceeds 2 GiB or 10^12 operations.
    """
    if not isinstance(model, population.PottsModel):
        raise InputError("model", f"<{type(model).__name__}>", "a PottsModel (make_model)")
    SAMPLES.check("n_samples", n_samples)
    check_choice("sampler", sampler, SAMPLERS)
    check_choice("order", order, ORDERS)
    BURN_IN.check("burn_in", burn_in)
    THIN.check("thin", thin)
    n_chains = min(n_samples, 10_000) if chains is None else chains
    CHAINS.check("chains", n_chains)
    sampling_cost(model.L, model.C, n_samples, n_chains, burn_in, thin)
    rng = as_generator(seed)
    if init is None:
        S0 = rng.integers(0, model.C, (n_chains, model.L))
    else:
        S0 = population.check_configurations(init, model.L, model.C, "init")
        if len(S0) != n_chains:
            raise InputError("init", f"array of shape {S0.shape}", f"({n_chains}, {model.L}): one "
                                                                    "row per chain")
    state = _Chains(model, S0)
    rounds = -(-n_samples // n_chains)
    total_sweeps = burn_in + rounds * thin
    iterator = range(total_sweeps)
    if progress:
        from tqdm import tqdm

        iterator = tqdm(iterator, desc=f"{sampler} sweeps", leave=False)
    out = []
    for sweep in iterator:
        _sweep(state, sampler, order, rng)
        if sweep >= burn_in and (sweep - burn_in + 1) % thin == 0:
            out.append(state.S.copy())
    samples = np.concatenate(out)[:n_samples]
    acc = state.accepted / state.proposed if sampler == "metropolis" else 1.0
    return MCMCSamples(samples, total_sweeps, acc, n_chains)


def sampling_cost(L: int, C: int, n_samples: int, chains: int, burn_in: int, thin: int):
    """Estimated peak memory (bytes) and operations of :func:`sample`; raises
    :class:`~theory.errors.TooLargeError` naming the largest argument when either exceeds the
    budget of :mod:`numerics.potts.domains`.

    Memory: one-hot state and its flat view ``8 chains L C``, logits and weights
    ``8 chains (4 C + 2 L)``, recorded rows twice (list and concatenation) ``16 M L``.
    Operations: ``sweeps L (2 chains C (L + C) + 2 10^4)`` with
    ``sweeps = burn_in + thin ceil(M/chains)``; the 2 10^4 counts the Python overhead of one site
    update (about 10 microseconds)."""
    rounds = -(-n_samples // chains)
    sweeps = burn_in + rounds * thin
    memory = 8.0 * chains * (L * C + 4 * C + 2 * L) + 16.0 * rounds * chains * L
    work = sweeps * L * (2.0 * chains * C * (L + C) + UPDATE_OVERHEAD)
    name, value = max((("n_samples", n_samples), ("chains", chains)), key=lambda kv: kv[1])
    check_memory(name, value, memory, f"chains and samples of L = {L}, C = {C}")
    name, value = max((("n_samples", n_samples), ("chains", chains), ("burn_in", burn_in),
                       ("thin", thin)), key=lambda kv: kv[1])
    check_work(name, value, work, f"{sweeps} sweeps of {chains} chains, L = {L}, C = {C}")
    return memory, work


def run_sweeps(model: population.PottsModel, S: np.ndarray, sweeps: int, sampler: str = "gibbs",
               order: str = "sequential", seed=0) -> np.ndarray:
    """Advance the chains ``S`` (n, L) by ``sweeps`` sweeps and return the new state (benchmarks)."""
    check_choice("sampler", sampler, SAMPLERS)
    check_choice("order", order, ORDERS)
    S = population.check_configurations(S, model.L, model.C)
    BURN_IN.check("sweeps", sweeps)
    check_work("sweeps", sweeps, sweeps * model.L * (2.0 * len(S) * model.C * (model.L + model.C)
                                                     + UPDATE_OVERHEAD))
    rng = as_generator(seed)
    state = _Chains(model, S)
    for _ in range(sweeps):
        _sweep(state, sampler, order, rng)
    return state.S


def _checked_samples(S, C: int) -> np.ndarray:
    """``S`` as a non-empty (M, L) array of colours in 0..C-1 (InputError otherwise)."""
    S = np.asarray(S)
    check_int("C", C, 1)
    S = population.check_configurations(S, S.shape[1] if S.ndim == 2 else -1, C, "S")
    if len(S) == 0:
        raise InputError("S", "no samples", "at least one sample")
    return S


def empirical_marginals(S: np.ndarray, C: int) -> np.ndarray:
    """Single-site frequencies (L, C) of samples ``S`` (M, L)."""
    S = _checked_samples(S, C)
    return np.stack([np.bincount(col, minlength=C) for col in S.T]) / len(S)


def empirical_pair_marginals(S: np.ndarray, C: int) -> np.ndarray:
    """Pair frequencies (L, L, C, C) of samples ``S`` (M, L)."""
    S = _checked_samples(S, C)
    M, L = S.shape
    check_memory("S", f"array of shape {S.shape}", 8.0 * (2 * M * L * C + L * L * C * C))
    check_work("S", f"array of shape {S.shape}", 2.0 * M * L * L * C * C)
    X = np.eye(C)[S]
    return np.einsum("nia,njb->ijab", X, X, optimize=True) / len(S)


# ----------------------------------------------------------------------------------------------
# Sample files (.npz written by ``ttc potts sample``)

#: The arrays a sample file may hold, and the dimension each must have.
SAMPLE_FILE_ARRAYS = {"samples": 2, "C": 0, "beta": 0, "seed": 0, "sweeps": 0}


@result
class SampleFile:
    """The content of a sample file read by :func:`load_samples`.

    Attributes
    ----------
    samples : numpy.ndarray, (M, L) int64
        Colours in 0..C-1.
    C : int
        Number of colours (the file's ``C``, or the largest colour + 1 when absent).
    """

    samples: np.ndarray
    C: int


def _array_headers(name: str, path) -> dict:
    """``{array name: (shape, dtype)}`` of an .npz file, read from the headers only (nothing
    is decompressed); :class:`InputError` naming ``name`` for anything but an .npz of plain
    arrays."""
    import zipfile

    expected = "an .npz file of arrays written by `ttc potts sample`"
    headers = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                key = member[:-4] if member.endswith(".npy") else member
                if key not in SAMPLE_FILE_ARRAYS:
                    raise InputError(name, str(path), f"{expected} (unexpected entry {member!r}; "
                                     f"allowed: {', '.join(SAMPLE_FILE_ARRAYS)})")
                with archive.open(member) as handle:
                    version = np.lib.format.read_magic(handle)
                    shape, _, dtype = (np.lib.format.read_array_header_1_0(handle)
                                       if version == (1, 0)
                                       else np.lib.format.read_array_header_2_0(handle))
                headers[key] = (tuple(shape), np.dtype(dtype))
    except InputError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError,
            KeyError, RuntimeError, NotImplementedError) as exc:
        raise InputError(name, str(path), f"{expected} ({type(exc).__name__}: "
                                          f"{str(exc)[:100]})") from None
    return headers


def load_samples(path, name: str = "samples") -> SampleFile:
    """Read a sample file strictly: an .npz (at most 1 GiB of arrays) holding ``samples`` (a 2-d
    integer array (M, L), M >= 1, L >= 2, colours in 0..C-1) and optionally ``C`` (an integer
    scalar >= 2), ``beta`` (a finite real scalar), ``seed`` and ``sweeps`` (integer scalars), and
    nothing else. The array headers are checked before any array is read (dimension and dtype
    exactly: an integer array where integers are expected, no pickled objects).
    :class:`InputError` naming ``name`` otherwise."""
    from numerics.potts.domains import MAX_SAMPLES_BYTES
    from numerics.shared.storage import check_input_file

    check_input_file(name, path, MAX_SAMPLES_BYTES)
    headers = _array_headers(name, path)
    if "samples" not in headers:
        raise InputError(name, str(path), "an .npz file with an array 'samples' (ttc potts sample)")
    total = 0
    for key, (shape, dtype) in headers.items():
        want_kind = "f" if key == "beta" else "iu"
        if dtype.hasobject or dtype.kind not in want_kind or len(shape) != SAMPLE_FILE_ARRAYS[key]:
            kind = "a real" if key == "beta" else "an integer"
            form = "2-d array (M, L)" if key == "samples" else "scalar"
            raise InputError(f"{name}: {key}", f"array of shape {shape} and dtype {dtype}",
                             f"{kind} {form}")
        total += int(np.prod(shape, dtype=np.float64)) * dtype.itemsize
    if total > MAX_SAMPLES_BYTES:
        raise InputError(name, str(path), f"at most {MAX_SAMPLES_BYTES} bytes of arrays ({total})")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in headers}
    except (ValueError, OSError, EOFError, KeyError) as exc:
        raise InputError(name, str(path), f"a readable .npz file ({str(exc)[:100]})") from None
    C = None
    if "C" in arrays:
        C = int(arrays["C"])
        check_int(f"{name}: C", C, 2)
    if "beta" in arrays and not np.isfinite(arrays["beta"]):
        raise InputError(f"{name}: beta", float(arrays["beta"]), "a finite number")
    from numerics.potts import inverse

    checked = inverse.check_samples(arrays["samples"], C)
    return SampleFile(checked.samples, checked.C)

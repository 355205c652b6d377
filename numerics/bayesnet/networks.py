"""Discrete Bayesian networks: structure, CPTs, files, standard families, ancestral sampling.

The networks of Cao et al. 2025 (arXiv 2501.02547), Sec. 3; the file format, the families' CPT
priors and the pgmpy-compatible encoding below are the library's.

Representation. Variables are numbered ``0..M-1`` in a fixed topological order; ``parents[m]`` is a
tuple of indices ``< m``; ``cards[m]`` is the cardinality ``d_m``. A CPT is an array of shape
``(n_configs_m, d_m)``, one row per parent configuration. **Encoding of parent configurations**:
mixed radix with the *first* parent as the most significant digit,

.. math:: c(x_{P(m)}) = \\sum_{k} x_{P_k} \\prod_{l > k} d_{P_l}

(the same order as pgmpy's ``TabularCPD`` columns, so a CPT is exactly ``cpd.get_values().T``).
A root has one configuration (row 0).

Batches of networks that share a structure keep their CPTs as a list of arrays of shape
``(B, n_configs_m, d_m)``; :func:`sample_batch` samples all of them at once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from numerics.shared.seeding import as_generator
from numerics.shared.storage import atomic_write_text
from theory.errors import InputError, TooLargeError, check_choice, check_int

#: Tolerance on CPT row sums when a network is validated.
ROW_SUM_TOL = 1e-9
FAMILIES = ("chain", "tree", "general5", "random")


@dataclass(frozen=True)
class Structure:
    """Names, cardinalities and parent sets of a network (no CPTs)."""

    names: tuple[str, ...]
    cards: tuple[int, ...]
    parents: tuple[tuple[int, ...], ...]

    def __post_init__(self):
        validate_structure(self.names, self.cards, self.parents)

    @property
    def M(self) -> int:
        """Number of variables."""
        return len(self.names)

    @property
    def max_indegree(self) -> int:
        """:math:`D = \\max_m |P(m)|`."""
        return max((len(ps) for ps in self.parents), default=0)

    def n_configs(self, m: int) -> int:
        """Number of parent configurations of ``m``: :math:`\\prod_{q \\in P(m)} d_q` (1 for a root)."""
        return int(np.prod([self.cards[q] for q in self.parents[m]], dtype=np.int64))

    def radix(self, m: int) -> np.ndarray:
        """Weights of the parent digits of ``m`` (first parent most significant)."""
        cards = [self.cards[q] for q in self.parents[m]]
        out = np.ones(len(cards), dtype=np.int64)
        for k in range(len(cards) - 2, -1, -1):
            out[k] = out[k + 1] * cards[k + 1]
        return out

    def config_index(self, m: int, samples: np.ndarray) -> np.ndarray:
        """Parent-configuration index of ``m`` for samples of shape ``(..., M)``."""
        ps = list(self.parents[m])
        if not ps:
            return np.zeros(samples.shape[:-1], dtype=np.int64)
        out = np.zeros(samples.shape[:-1], dtype=np.int64)
        for q, r in zip(ps, self.radix(m)):
            out += samples[..., q] * r if r != 1 else samples[..., q]
        return out

    def config_states(self, m: int, index: int) -> tuple[int, ...]:
        """Inverse of :meth:`config_index`: the parents' states of configuration ``index``."""
        return tuple(int(index // r) % self.cards[q] for q, r in zip(self.parents[m], self.radix(m)))

    def index(self, name: str) -> int:
        """Position of the variable ``name``; :class:`InputError` for an unknown name."""
        if name not in self.names:
            raise InputError("variable", name, "one of " + ", ".join(self.names))
        return self.names.index(name)

    def predecessors(self) -> "Structure":
        """The naive baseline's structure: every variable conditions on all earlier ones."""
        return Structure(self.names, self.cards, tuple(tuple(range(m)) for m in range(self.M)))


@dataclass(frozen=True)
class Network:
    """A structure with one CPT per variable (``cpts[m]`` of shape ``(n_configs_m, d_m)``)."""

    structure: Structure
    cpts: tuple[np.ndarray, ...] = field(repr=False)

    def __post_init__(self):
        validate_cpts(self.structure, self.cpts)

    @property
    def M(self) -> int:
        """Number of variables."""
        return self.structure.M


def _find_cycle(parent_names: dict[str, list[str]]) -> list[str] | None:
    """A cycle of the directed graph ``parent -> child`` as a list of names, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for parent in parent_names.get(node, []):
            if state.get(parent) == 1:
                return stack[stack.index(parent):] + [parent]
            if parent not in state:
                found = visit(parent)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in parent_names:
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def validate_structure(names, cards, parents) -> None:
    """Raise :class:`InputError` unless names are distinct, cards >= 1, parents earlier in order."""
    M = len(names)
    if M == 0:
        raise InputError("names", list(names), "at least one variable")
    if len(set(names)) != M or not all(isinstance(n, str) and n for n in names):
        raise InputError("names", list(names), "distinct non-empty strings")
    if len(cards) != M or len(parents) != M:
        raise InputError("cards/parents", (len(cards), len(parents)), f"{M} entries each")
    for m, d in enumerate(cards):
        check_int(f"card of {names[m]}", d, 1)
    for m, ps in enumerate(parents):
        for q in ps:
            if not isinstance(q, (int, np.integer)) or not 0 <= q < M:
                raise InputError(f"parents of {names[m]}", list(ps), f"variable indices in 0..{M - 1}")
        if len(set(ps)) != len(ps):
            raise InputError(f"parents of {names[m]}", list(ps), "distinct parents")
    cycle = _find_cycle({names[m]: [names[q] for q in ps] for m, ps in enumerate(parents)})
    if cycle:
        raise InputError("parents", " -> ".join(reversed(cycle)), "an acyclic graph (found a cycle)")
    for m, ps in enumerate(parents):
        late = [names[q] for q in ps if q >= m]
        if late:
            raise InputError(f"parents of {names[m]}", late,
                             "parents that come earlier in the variable order (a topological order)")


def validate_cpts(structure: Structure, cpts) -> None:
    """Raise :class:`InputError` unless every CPT has the right shape, entries in [0, 1], rows summing to 1."""
    if len(cpts) != structure.M:
        raise InputError("cpts", f"{len(cpts)} tables", f"{structure.M} tables")
    for m, table in enumerate(cpts):
        name = structure.names[m]
        shape = (structure.n_configs(m), structure.cards[m])
        table = np.asarray(table)
        if table.shape[-2:] != shape:
            raise InputError(f"cpt of {name}", f"shape {table.shape}",
                             f"shape {shape} (parent configurations, card)")
        if not np.all(np.isfinite(table)) or np.any(table < 0) or np.any(table > 1):
            raise InputError(f"cpt of {name}", table.tolist() if table.size < 50 else "...",
                             "finite entries in [0, 1]")
        sums = table.sum(axis=-1)
        bad = np.flatnonzero(np.abs(sums - 1).ravel() > ROW_SUM_TOL)
        if bad.size:
            raise InputError(f"cpt of {name}", f"row {int(bad[0])} sums to {sums.ravel()[bad[0]]!r}",
                             "rows that sum to 1")


def make_network(names, cards, parents, cpts) -> Network:
    """A validated :class:`Network` (CPTs converted to float64)."""
    structure = Structure(tuple(names), tuple(int(d) for d in cards),
                          tuple(tuple(int(q) for q in ps) for ps in parents))
    return Network(structure, tuple(np.asarray(t, dtype=np.float64) for t in cpts))


# ----------------------------------------------------------------------------------------------
# Files


def network_from_dict(data: dict) -> Network:
    """Network from ``{"variables": [{"name", "card", "parents": [names], "cpt": [[...]]}, ...]}``.

    The list order is the variable order; CPT rows follow the parent-configuration encoding of
    the module docstring. A cycle, a parent later in the order, an unknown parent name, a wrong
    shape or a row that does not sum to 1 raises :class:`InputError`.
    """
    if not isinstance(data, dict) or not isinstance(data.get("variables"), list):
        raise InputError("network", type(data).__name__, 'an object {"variables": [...]}')
    variables = data["variables"]
    names = []
    for k, v in enumerate(variables):
        if not isinstance(v, dict) or not {"name", "card", "parents", "cpt"} <= set(v):
            raise InputError(f"variables[{k}]", v, 'an object with keys "name", "card", "parents", "cpt"')
        names.append(v["name"])
    if len(set(names)) != len(names):
        raise InputError("variable names", names, "distinct names")
    parent_names = {v["name"]: list(v["parents"]) for v in variables}
    for child, ps in parent_names.items():
        for q in ps:
            if q not in parent_names:
                raise InputError(f"parents of {child}", q, "names of variables of the network")
    cycle = _find_cycle(parent_names)
    if cycle:
        raise InputError("parents", " -> ".join(reversed(cycle)), "an acyclic graph (found a cycle)")
    parents = [[names.index(q) for q in v["parents"]] for v in variables]
    for m, ps in enumerate(parents):
        late = [names[q] for q in ps if q >= m]
        if late:
            raise InputError(f"parents of {names[m]}", late,
                             "parents listed earlier in the file (a topological order)")
    try:
        cpts = [np.asarray(v["cpt"], dtype=np.float64) for v in variables]
    except (TypeError, ValueError):
        raise InputError("cpt", "ragged or non-numeric table", "a rectangular table of numbers")
    return make_network(names, [v["card"] for v in variables], parents, cpts)


def network_to_dict(network: Network) -> dict:
    """The JSON object of :func:`network_from_dict` for ``network`` (CPTs as nested lists)."""
    s = network.structure
    return {"variables": [{"name": s.names[m], "card": s.cards[m],
                           "parents": [s.names[q] for q in s.parents[m]],
                           "cpt": network.cpts[m].tolist()} for m in range(s.M)]}


def load_network(path) -> Network:
    """Read and validate a network JSON file (see :func:`network_from_dict`)."""
    try:
        data = json.loads(Path(path).read_text())
    except OSError as exc:
        raise InputError("network", str(path), f"a readable JSON file ({exc.strerror})")
    except ValueError as exc:
        raise InputError("network", str(path), f"valid JSON ({exc})")
    return network_from_dict(data)


def save_network(network: Network, path) -> None:
    """Write ``network`` as a JSON file readable by :func:`load_network` (atomically)."""
    atomic_write_text(path, json.dumps(network_to_dict(network), indent=1) + "\n")


def load_context(path, structure: Structure) -> np.ndarray:
    """Samples from a CSV file with a header of variable names; returns int64 ``(N, M)`` in order.

    Every column must be a variable of ``structure`` and every variable present; every state
    must be an integer in ``0..card-1``.
    """
    try:
        lines = [ln.strip() for ln in Path(path).read_text().splitlines() if ln.strip()]
    except OSError as exc:
        raise InputError("context", str(path), f"a readable CSV file ({exc.strerror})")
    if not lines:
        raise InputError("context", str(path), "a CSV file with a header line")
    header = [h.strip() for h in lines[0].split(",")]
    for h in header:
        if h not in structure.names:
            raise InputError("context column", h, "a variable name: " + ", ".join(structure.names))
    missing = [n for n in structure.names if n not in header]
    if missing or len(set(header)) != len(header):
        raise InputError("context header", header, "each variable exactly once")
    order = [header.index(n) for n in structure.names]
    rows = []
    for k, line in enumerate(lines[1:], start=2):
        cells = [c.strip() for c in line.split(",")]
        if len(cells) != len(header):
            raise InputError(f"context line {k}", line, f"{len(header)} comma-separated states")
        try:
            rows.append([int(cells[j]) for j in order])
        except ValueError:
            raise InputError(f"context line {k}", line, "integer states")
    samples = np.asarray(rows, dtype=np.int64).reshape(-1, structure.M)
    check_states(structure, samples, "context")
    return samples


def check_states(structure: Structure, samples: np.ndarray, name: str = "samples") -> None:
    """Raise :class:`InputError` if a state lies outside its variable's cardinality."""
    samples = np.asarray(samples)
    if samples.shape[-1] != structure.M:
        raise InputError(name, f"shape {samples.shape}", f"last axis of length M={structure.M}")
    if samples.size == 0:
        return
    if samples.min() >= 0 and samples.max() < min(structure.cards):
        return
    flat = samples.reshape(-1, structure.M)
    low, high = flat.min(axis=0), flat.max(axis=0)
    for m, d in enumerate(structure.cards):
        if low[m] < 0 or high[m] >= d:
            value = int(low[m] if low[m] < 0 else high[m])
            raise InputError(f"{name} state of {structure.names[m]}", value, f"an integer in 0..{d - 1}")


def save_samples(structure: Structure, samples: np.ndarray, path) -> None:
    """Write ``samples`` ``(n, M)`` as a CSV file with a header of variable names (atomically),
    readable by :func:`load_context`."""
    text = ",".join(structure.names) + "\n" + "\n".join(",".join(map(str, r)) for r in samples.tolist())
    atomic_write_text(path, text + "\n")


# ----------------------------------------------------------------------------------------------
# Standard families


def family_structure(graph: str, M: int | None = None, *, edge_prob: float = 0.5,
                     card: int = 2, seed=None) -> Structure:
    """Standard structures: ``chain`` (m <- m-1), ``tree`` (binary tree, m <- (m-1)//2),
    ``general5`` (C <- {A, B}, D <- {A, C}, E <- {D}), ``random`` (each pair q < m an edge with
    probability ``edge_prob``; needs ``seed``). ``M`` defaults to 5."""
    check_choice("graph", graph, FAMILIES)
    check_int("card", card, 1)
    if graph == "general5":
        if M not in (None, 5):
            raise InputError("M", M, "5 (or omitted) for general5")
        return Structure(("A", "B", "C", "D", "E"), (card,) * 5, ((), (), (0, 1), (0, 2), (3,)))
    M = 5 if M is None else M
    check_int("M", M, 1, 64)
    names = tuple(f"X{m}" for m in range(M))
    if graph == "chain":
        parents = tuple(() if m == 0 else (m - 1,) for m in range(M))
    elif graph == "tree":
        parents = tuple(() if m == 0 else ((m - 1) // 2,) for m in range(M))
    else:
        if not 0 <= edge_prob <= 1:
            raise InputError("edge_prob", edge_prob, "a probability in [0, 1]")
        if seed is None:
            raise InputError("seed", seed, "an int or a numpy Generator for a random DAG")
        rng = as_generator(seed)
        parents = tuple(tuple(int(q) for q in np.flatnonzero(rng.random(m) < edge_prob)) for m in range(M))
    return Structure(names, (card,) * M, parents)


def random_cpts(structure: Structure, seed, batch: int | None = None, prior: str = "uniform",
                alpha: float = 1.0) -> list[np.ndarray]:
    """Random CPTs: ``prior="uniform"``: for ``d = 2``, :math:`P(x=1\\mid pa) \\sim U(0.1, 0.9)`;
    for ``d > 2`` entries ``U(0.1, 0.9)`` then rows normalised. ``prior="dirichlet"``: rows
    ``Dirichlet(alpha, ..., alpha)``. Shapes ``(n_configs_m, d_m)`` or ``(batch, n_configs_m, d_m)``."""
    check_choice("prior", prior, ("uniform", "dirichlet"))
    if not alpha > 0:
        raise InputError("alpha", alpha, "a positive concentration")
    rng = as_generator(seed)
    lead = () if batch is None else (batch,)
    tables = []
    for m in range(structure.M):
        shape = lead + (structure.n_configs(m),)
        d = structure.cards[m]
        if prior == "dirichlet":
            tables.append(rng.dirichlet(np.full(d, float(alpha)), size=shape))
        elif d == 2:
            p1 = rng.uniform(0.1, 0.9, size=shape)
            tables.append(np.stack([1 - p1, p1], axis=-1))
        else:
            raw = rng.uniform(0.1, 0.9, size=shape + (d,))
            tables.append(raw / raw.sum(axis=-1, keepdims=True))
    return tables


def family_network(graph: str, seed: int, M: int | None = None, **kwargs) -> Network:
    """A network of a standard family with random CPTs (:func:`random_cpts`), all from ``seed``
    (an int >= 0 or a numpy Generator): first the structure (``random`` only), then the CPTs."""
    rng = as_generator(seed)
    structure = family_structure(graph, M, seed=rng, **{k: v for k, v in kwargs.items()
                                                         if k in ("edge_prob", "card")})
    cpt_kwargs = {k: v for k, v in kwargs.items() if k in ("prior", "alpha")}
    return Network(structure, tuple(random_cpts(structure, rng, **cpt_kwargs)))


# ----------------------------------------------------------------------------------------------
# Sampling


def _draw(probs: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Inverse-CDF draw: the first state whose cumulative probability exceeds ``u``."""
    cdf = np.cumsum(probs, axis=-1)
    return np.minimum((u[..., None] >= cdf).sum(axis=-1), probs.shape[-1] - 1)


def sample_batch(structure: Structure, cpts, n: int, seed) -> np.ndarray:
    """Ancestral sampling of ``n`` samples from each of ``B`` networks at once.

    ``cpts[m]`` has shape ``(B, n_configs_m, d_m)``; returns int64 ``(B, n, M)``. Variable ``m``
    is drawn from :math:`p_m(\\cdot \\mid x_{P(m)})` by inverse CDF with one uniform per entry.
    """
    check_int("n", n, 0)
    rng = as_generator(seed)
    B = np.asarray(cpts[0]).shape[0]
    out = np.zeros((B, n, structure.M), dtype=np.int64)
    u = rng.random((structure.M, B, n))
    rows = np.arange(B)[:, None]
    for m in range(structure.M):
        config = structure.config_index(m, out)
        out[:, :, m] = _draw(np.asarray(cpts[m])[rows, config], u[m])
    return out


def sample(network: Network, n: int, seed) -> np.ndarray:
    """``n`` i.i.d. samples of ``network``, int64 ``(n, M)`` (see :func:`sample_batch`)."""
    return sample_batch(network.structure, [t[None] for t in network.cpts], n, seed)[0]


def joint_law(network: Network, max_states: int = 2**20) -> np.ndarray:
    """Exact joint law :math:`p(x) = \\prod_m p_m(x_m \\mid x_{P(m)})` as an array of shape ``cards``.

    Raises :class:`TooLargeError` beyond ``max_states`` joint states.
    """
    s = network.structure
    total = int(np.prod(s.cards, dtype=np.float64))
    if total > max_states:
        raise TooLargeError("network", f"{total} joint states", f"at most {max_states} for exact enumeration")
    states = np.indices(s.cards).reshape(s.M, -1).T
    law = np.ones(len(states))
    for m in range(s.M):
        law *= network.cpts[m][s.config_index(m, states), states[:, m]]
    return law.reshape(s.cards)

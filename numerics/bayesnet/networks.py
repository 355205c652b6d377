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

import io
import json
import math
import re
from dataclasses import dataclass, field
from numbers import Integral

import numpy as np

from numerics.shared.seeding import as_generator
from numerics.shared.storage import (MAX_INPUT_BYTES, atomic_write_text, check_output_file,
                                     read_text_file)
from theory.budgets import check_memory
from theory.domains import POSITIVE, integer, real
from theory.errors import InputError, TooLargeError, check_choice, check_int
from theory.results import readable_repr

#: Tolerance on CPT row sums when a network is validated.
ROW_SUM_TOL = 1e-9
FAMILIES = ("chain", "tree", "general5", "random")

#: Samples drawn by :func:`sample` and ``ttc bayesnet sample``.
SAMPLES = integer(0, 10_000_000, note="at most 10^7 samples x variables are drawn and written")
#: Largest number of cells (samples x variables) that :func:`sample` / :func:`save_samples`
#: handle in one call: about 5 s to draw and write 10^7 cells of 5 binary variables (one core).
MAX_SAMPLE_CELLS = 10_000_000
#: The same for networks with a variable of more than 10 states (rows formatted in Python).
MAX_SAMPLE_CELLS_WIDE = 2_000_000
#: Largest context file read by :func:`load_context` (64 MiB: at most 32 million states, 256 MB
#: as int64, leaving room for the estimator's temporaries within :data:`theory.budgets.MEMORY_BUDGET`).
MAX_CONTEXT_BYTES = 64 * 2**20
#: Number of variables of the standard families.
FAMILY_SIZE = integer(1, 64, note="standard families have at most 64 variables")
#: Cardinality of every variable of a standard family.
FAMILY_CARD = integer(1, 64, note="standard families have at most 64 states per variable")
#: Edge probability of the ``random`` family.
EDGE_PROB = real(0, 1)
#: Characters a variable name may not contain: CSV separators and quotes, the ``=`` of
#: ``NAME=VALUE`` queries, and control characters (newlines, tabs...).
_UNSAFE_NAME = re.compile(r'[,"=\x00-\x1f\x7f]')


@dataclass(frozen=True, repr=False)
class Structure:
    """Names, cardinalities and parent sets of a network (no CPTs)."""

    __repr__ = readable_repr  # arrays summarised by shape and range

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
        return math.prod(self.cards[q] for q in self.parents[m])

    def table_entries(self) -> int:
        """Entries of all CPTs together: :math:`\\sum_m d_m \\prod_{q \\in P(m)} d_q` (exact)."""
        return sum(self.n_configs(m) * self.cards[m] for m in range(self.M))

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


@dataclass(frozen=True, repr=False)
class Network:
    """A structure with one CPT per variable (``cpts[m]`` of shape ``(n_configs_m, d_m)``)."""

    __repr__ = readable_repr  # arrays summarised by shape and range

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


def check_name(name) -> str:
    """``name`` if it is a usable variable name, else :class:`InputError`: a non-empty string
    without surrounding spaces, commas, double quotes, ``=`` or control characters (newlines),
    so that it survives the CSV header of :func:`save_samples` and ``NAME=VALUE`` queries."""
    if not isinstance(name, str) or not name or name != name.strip() or _UNSAFE_NAME.search(name):
        raise InputError("variable name", name if len(repr(name)) < 80 else repr(name)[:60] + "...",
                         'a non-empty string without surrounding spaces, commas, double quotes, '
                         '"=" or control characters (newlines)')
    return name


def validate_structure(names, cards, parents) -> None:
    """Raise :class:`InputError` unless names are distinct valid names (:func:`check_name`),
    cards are integers >= 1, parents are earlier in the order and the graph is acyclic."""
    M = len(names)
    if M == 0:
        raise InputError("names", list(names), "at least one variable")
    for n in names:
        check_name(n)
    if len(set(names)) != M:
        raise InputError("names", list(names), "distinct non-empty strings")
    if len(cards) != M or len(parents) != M:
        raise InputError("cards/parents", (len(cards), len(parents)), f"{M} entries each")
    for m, d in enumerate(cards):
        check_int(f"card of {names[m]}", d, 1)
    for m, ps in enumerate(parents):
        for q in ps:
            if isinstance(q, bool) or not isinstance(q, (int, np.integer)) or not 0 <= q < M:
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


def validate_cpts(structure: Structure, cpts, batched: bool = False) -> None:
    """Raise :class:`InputError` unless every CPT has the right shape (exactly
    ``(n_configs, card)``; ``(B, n_configs, card)`` when ``batched``), real entries in [0, 1]
    and rows summing to 1."""
    if isinstance(cpts, np.ndarray) or not hasattr(cpts, "__len__"):
        raise InputError("cpts", type(cpts).__name__, f"a sequence of {structure.M} tables")
    if len(cpts) != structure.M:
        raise InputError("cpts", f"{len(cpts)} tables", f"{structure.M} tables")
    for m, table in enumerate(cpts):
        name = structure.names[m]
        shape = (structure.n_configs(m), structure.cards[m])
        table = np.asarray(table)
        if table.dtype.kind not in "iuf" or table.ndim != 2 + batched or table.shape[-2:] != shape:
            expected = "(B, " * batched + f"{shape}"[1:] if batched else f"{shape}"
            raise InputError(f"cpt of {name}", f"shape {table.shape}, dtype {table.dtype}",
                             f"a real table of shape {expected} (parent configurations, card)")
        if not np.all(np.isfinite(table)) or np.any(table < 0) or np.any(table > 1):
            raise InputError(f"cpt of {name}", table.tolist() if table.size < 50 else "...",
                             "finite entries in [0, 1]")
        sums = table.sum(axis=-1)
        bad = np.flatnonzero(np.abs(sums - 1).ravel() > ROW_SUM_TOL)
        if bad.size:
            raise InputError(f"cpt of {name}", f"row {int(bad[0])} sums to {sums.ravel()[bad[0]]!r}",
                             "rows that sum to 1")


def make_network(names, cards, parents, cpts) -> Network:
    """A validated :class:`Network` (CPTs converted to float64). Cards and parent indices must
    be integers (a float such as 2.7 is refused, not truncated)."""
    names, cards = tuple(names), tuple(cards)
    for m, d in enumerate(cards):
        check_int(f"card of {names[m] if m < len(names) else m}", d, 1)
    parents = tuple(tuple(ps) for ps in parents)
    for m, ps in enumerate(parents):
        for q in ps:
            if isinstance(q, bool) or not isinstance(q, Integral):
                raise InputError(f"parents of {names[m] if m < len(names) else m}", list(ps),
                                 "integer variable indices")
    structure = Structure(names, tuple(int(d) for d in cards),
                          tuple(tuple(int(q) for q in ps) for ps in parents))
    for m, t in enumerate(cpts):
        if np.asarray(t).dtype.kind not in "iuf":
            raise InputError(f"cpt of {names[m] if m < len(names) else m}",
                             f"dtype {np.asarray(t).dtype}", "a real table")
    return Network(structure, tuple(np.asarray(t, dtype=np.float64) for t in cpts))


# ----------------------------------------------------------------------------------------------
# Files


def network_from_dict(data: dict) -> Network:
    """Network from ``{"variables": [{"name", "card", "parents": [names], "cpt": [[...]]}, ...]}``.

    The list order is the variable order; CPT rows follow the parent-configuration encoding of
    the module docstring. Types are checked exactly: ``name`` a string (:func:`check_name`),
    ``card`` an integer (not a float), ``parents`` a list of names (not a string), ``cpt`` a list
    of ``n_configs`` lists of ``card`` numbers (a 2-D table, no booleans). A cycle, a parent
    later in the order, an unknown parent name, a wrong shape or a row that does not sum to 1
    raises :class:`InputError`.
    """
    if not isinstance(data, dict) or not isinstance(data.get("variables"), list):
        raise InputError("network", type(data).__name__, 'an object {"variables": [...]}')
    variables = data["variables"]
    names = []
    for k, v in enumerate(variables):
        if not isinstance(v, dict) or not {"name", "card", "parents", "cpt"} <= set(v):
            raise InputError(f"variables[{k}]", _short(v), 'an object with keys "name", "card", "parents", "cpt"')
        label = f"variables[{k}]"
        check_name(v["name"])
        label = v["name"]
        if isinstance(v["card"], bool) or not isinstance(v["card"], int) or v["card"] < 1:
            raise InputError(f"card of {label}", _short(v["card"]), "an integer >= 1 (not a float)")
        if not isinstance(v["parents"], list) or not all(isinstance(q, str) for q in v["parents"]):
            raise InputError(f"parents of {label}", _short(v["parents"]), "a list of variable names")
        cpt = v["cpt"]
        if not isinstance(cpt, list) or not all(isinstance(row, list) for row in cpt) or not all(
                isinstance(x, (int, float)) and not isinstance(x, bool) for row in cpt for x in row):
            raise InputError(f"cpt of {label}", _short(cpt), "a list of rows, each a list of numbers "
                                                             "(a 2-D table)")
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
    cpts = []
    for v in variables:
        if len({len(row) for row in v["cpt"]}) > 1:
            raise InputError(f"cpt of {v['name']}", "rows of different lengths", "a rectangular table")
        try:
            cpts.append(np.asarray(v["cpt"], dtype=np.float64).reshape(len(v["cpt"]), -1))
        except (TypeError, ValueError, OverflowError):
            raise InputError(f"cpt of {v['name']}", "ragged or non-numeric table",
                             "a rectangular table of numbers") from None
    return make_network(names, [v["card"] for v in variables], parents, cpts)


def _short(value):
    """``value`` for an error message (its type and size when its text is long)."""
    text = repr(value)
    if len(text) <= 80:
        return value
    return f"<{type(value).__name__} of length {len(value)}>" if hasattr(value, "__len__") else text[:60] + "..."


def _refuse_constant(text: str):
    raise ValueError(f"{text} is not a number JSON allows")


def network_to_dict(network: Network) -> dict:
    """The JSON object of :func:`network_from_dict` for ``network`` (CPTs as nested lists)."""
    s = network.structure
    return {"variables": [{"name": s.names[m], "card": s.cards[m],
                           "parents": [s.names[q] for q in s.parents[m]],
                           "cpt": network.cpts[m].tolist()} for m in range(s.M)]}


def load_network(path) -> Network:
    """Read and validate a network JSON file (see :func:`network_from_dict`): a UTF-8 text
    file of at most 256 MiB (binary files are refused), strict JSON (no NaN or Infinity)."""
    text = read_text_file("network", path, MAX_INPUT_BYTES)
    try:
        data = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise InputError("network", str(path), "JSON nested at most a few hundred levels") from None
    except ValueError as exc:
        raise InputError("network", str(path), f"valid JSON ({exc})") from None
    return network_from_dict(data)


def save_network(network: Network, path) -> None:
    """Write ``network`` as a JSON file readable by :func:`load_network` (atomically; ``path``
    checked with :func:`numerics.shared.storage.check_output_file`)."""
    check_output_file("path", path)
    atomic_write_text(path, json.dumps(network_to_dict(network), indent=1) + "\n")


def load_context(path, structure: Structure) -> np.ndarray:
    """Samples from a CSV file with a header of variable names; returns int64 ``(N, M)`` in order.

    Every column must be a variable of ``structure`` and every variable present; every state
    must be an integer in ``0..card-1`` written in decimal digits; blank lines are skipped. The
    file must be UTF-8 text of at most :data:`MAX_CONTEXT_BYTES` (binary files are refused).
    """
    text = read_text_file("context", path, MAX_CONTEXT_BYTES)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.lstrip()
    first, _, body = text.partition("\n")
    if not first.strip():
        raise InputError("context", str(path), "a CSV file with a header line")
    header = [h.strip() for h in first.split(",")]
    for h in header:
        if h not in structure.names:
            raise InputError("context column", h, "a variable name: " + ", ".join(structure.names))
    missing = [n for n in structure.names if n not in header]
    if missing or len(set(header)) != len(header):
        raise InputError("context header", header, "each variable exactly once")
    order = [header.index(n) for n in structure.names]
    if re.search(r"[^0-9,\s]", body):
        bad = re.search(r"[^0-9,\s]", body)
        line = body.count("\n", 0, bad.start()) + 2
        raise InputError(f"context line {line}", body.splitlines()[line - 2][:80] if line < 10**6 else "...",
                         f"{len(header)} comma-separated integer states (decimal digits only)")
    if not body.strip():
        return np.zeros((0, structure.M), dtype=np.int64)
    if re.search(r"(?m)^[ \t]+$", body):
        body = re.sub(r"(?m)^[ \t]+$", "", body)
    try:
        table = np.loadtxt(io.StringIO(body), delimiter=",", dtype=np.int64, ndmin=2, comments=None)
    except ValueError as exc:
        raise InputError("context", str(path), f"{len(header)} comma-separated integer states on "
                         f"every line after the header ({exc}; rows counted from 0 after the "
                         "header)") from None
    if table.size == 0:
        table = table.reshape(0, len(header))
    if table.shape[1] != len(header):
        raise InputError("context", str(path), f"{len(header)} comma-separated states per line "
                                               f"(found {table.shape[1]})")
    samples = np.ascontiguousarray(table[:, order])
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


def check_sample_size(structure: Structure, n: int) -> None:
    """:class:`TooLargeError` when ``n`` samples of ``structure`` exceed :data:`MAX_SAMPLE_CELLS`
    cells (:data:`MAX_SAMPLE_CELLS_WIDE` when a variable has more than 10 states)."""
    limit = MAX_SAMPLE_CELLS if max(structure.cards) <= 10 else MAX_SAMPLE_CELLS_WIDE
    if n * structure.M > limit:
        raise TooLargeError("n", n, f"at most {limit // structure.M} samples of these "
                                    f"{structure.M} variables ({limit} cells: about 5 s)")


def save_samples(structure: Structure, samples: np.ndarray, path) -> None:
    """Write ``samples`` ``(n, M)`` as a CSV file with a header of variable names (atomically,
    ``path`` checked with :func:`numerics.shared.storage.check_output_file`), readable by
    :func:`load_context`. Names are safe for CSV by construction (:func:`check_name`)."""
    check_output_file("path", path)
    samples = np.asarray(samples)
    if samples.dtype.kind not in "iu" or samples.ndim != 2:
        raise InputError("samples", f"shape {samples.shape}, dtype {samples.dtype}",
                         "an integer array (n, M)")
    check_states(structure, samples, "samples")
    check_sample_size(structure, len(samples))
    header = ",".join(check_name(n) for n in structure.names) + "\n"
    if max(structure.cards) <= 10 and samples.size:   # one digit per state: format as bytes
        buffer = np.full((len(samples), 2 * structure.M), ord(","), dtype=np.uint8)
        buffer[:, 0::2] = samples + ord("0")
        buffer[:, -1] = ord("\n")
        body = buffer.tobytes().decode("ascii")
    else:
        body = "".join("\n".join(",".join(map(str, r)) for r in samples[k:k + 65536].tolist()) + "\n"
                       for k in range(0, len(samples), 65536))
    atomic_write_text(path, header + (body or "\n"))


# ----------------------------------------------------------------------------------------------
# Standard families


def family_structure(graph: str, M: int | None = None, *, edge_prob: float = 0.5,
                     card: int = 2, seed=None) -> Structure:
    """Standard structures: ``chain`` (m <- m-1), ``tree`` (binary tree, m <- (m-1)//2),
    ``general5`` (C <- {A, B}, D <- {A, C}, E <- {D}), ``random`` (each pair q < m an edge with
    probability ``edge_prob``; needs ``seed``). ``M`` defaults to 5."""
    check_choice("graph", graph, FAMILIES)
    FAMILY_CARD.check("card", card)
    if graph == "general5":
        if M not in (None, 5):
            raise InputError("M", M, "5 (or omitted) for general5")
        return Structure(("A", "B", "C", "D", "E"), (card,) * 5, ((), (), (0, 1), (0, 2), (3,)))
    M = 5 if M is None else M
    FAMILY_SIZE.check("M", M)
    names = tuple(f"X{m}" for m in range(M))
    if graph == "chain":
        parents = tuple(() if m == 0 else (m - 1,) for m in range(M))
    elif graph == "tree":
        parents = tuple(() if m == 0 else ((m - 1) // 2,) for m in range(M))
    else:
        EDGE_PROB.check("edge_prob", edge_prob)
        if seed is None:
            raise InputError("seed", seed, "an int or a numpy Generator for a random DAG")
        rng = as_generator(seed)
        parents = tuple(tuple(int(q) for q in np.flatnonzero(rng.random(m) < edge_prob)) for m in range(M))
    return Structure(names, (card,) * M, parents)


#: The named graph families of the spec's Sec. 7 (the [code]'s parent lists, 0-indexed): each
#: name maps to ``parents[m]`` for ``m = 0..M-1``. ``tree5``/``tree7`` are the heap
#: ``m <- (m-1)//2``; ``tree10`` is ``tree7`` plus ``7, 8 <- 3`` and ``9 <- 8`` (not the heap);
#: ``general7``/``general10`` extend ``general5`` node by node.
NAMED_FAMILIES: dict[str, tuple[tuple[int, ...], ...]] = {
    "chain5": tuple(() if m == 0 else (m - 1,) for m in range(5)),
    "chain7": tuple(() if m == 0 else (m - 1,) for m in range(7)),
    "chain10": tuple(() if m == 0 else (m - 1,) for m in range(10)),
    "tree5": ((), (0,), (0,), (1,), (1,)),
    "tree7": ((), (0,), (0,), (1,), (1,), (2,), (2,)),
    "tree10": ((), (0,), (0,), (1,), (1,), (2,), (2,), (3,), (3,), (8,)),
    "general5": ((), (), (0, 1), (0, 2), (3,)),
    "general7": ((), (), (0, 1), (0, 2), (3,), (3, 4), (2, 4)),
    "general10": ((), (), (0, 1), (0, 2), (3,), (3, 4), (2, 4), (5, 6), (4, 7), (6, 8)),
}


def named_family(name: str, card: int = 2) -> Structure:
    """The structure of a named family of the spec's Sec. 7 (:data:`NAMED_FAMILIES`).

    ``chain5/7/10`` (``m <- m-1``), ``tree5/7/10`` and ``general5/7/10`` with exactly the
    parent lists of :data:`NAMED_FAMILIES`; every variable has ``card`` states. Variables are
    named ``X0..X{M-1}``, except ``general5``, named ``A..E`` as in :func:`family_structure`
    (whose ``chain``, ``tree`` and ``general5`` at ``M = 5`` are the same graphs).
    """
    check_choice("family", name, tuple(NAMED_FAMILIES))
    FAMILY_CARD.check("card", card)
    parents = NAMED_FAMILIES[name]
    if name == "general5":
        return family_structure("general5", card=card)
    return Structure(tuple(f"X{m}" for m in range(len(parents))), (card,) * len(parents), parents)


def random_cpts(structure: Structure, seed, batch: int | None = None, prior: str = "uniform",
                alpha: float = 1.0) -> list[np.ndarray]:
    """Random CPTs: ``prior="uniform"``: for ``d = 2``, :math:`P(x=1\\mid pa) \\sim U(0.1, 0.9)`;
    for ``d > 2`` entries ``U(0.1, 0.9)`` then rows normalised. ``prior="dirichlet"``: rows
    ``Dirichlet(alpha, ..., alpha)``. Shapes ``(n_configs_m, d_m)`` or ``(batch, n_configs_m, d_m)``."""
    check_choice("prior", prior, ("uniform", "dirichlet"))
    alpha = POSITIVE.check("alpha", alpha)
    if batch is not None:
        check_int("batch", batch, 1)
    entries = (1 if batch is None else batch) * structure.table_entries()
    check_memory("batch" if batch else "structure", batch or structure.cards,
                 3 * 8 * entries, "CPTs (3 x 8 bytes per entry)")
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
    Memory about ``B n (16 M + 17 d + 32)`` bytes (``d`` the largest card): refused above
    :data:`theory.budgets.MEMORY_BUDGET` (:class:`TooLargeError`).
    """
    check_int("n", n, 0)
    validate_cpts(structure, cpts, batched=True)
    B = np.asarray(cpts[0]).shape[0]
    check_memory("n", n, B * n * (16 * structure.M + 17 * max(structure.cards) + 32),
                 "samples and sampling temporaries")
    rng = as_generator(seed)
    out = np.zeros((B, n, structure.M), dtype=np.int64)
    u = rng.random((structure.M, B, n))
    rows = np.arange(B)[:, None]
    for m in range(structure.M):
        config = structure.config_index(m, out)
        out[:, :, m] = _draw(np.asarray(cpts[m])[rows, config], u[m])
    return out


def sample(network: Network, n: int, seed) -> np.ndarray:
    """``n`` i.i.d. samples of ``network``, int64 ``(n, M)`` (see :func:`sample_batch`);
    ``n`` in :data:`SAMPLES` (at most 10^7)."""
    if not isinstance(network, Network):
        raise InputError("network", type(network).__name__, "a Network")
    SAMPLES.check("n", n)
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

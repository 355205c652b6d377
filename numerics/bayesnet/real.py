"""Real networks (spec Part 2, Sec. 12): Asia shipped with the library, Sachs read offline from pgmpy.

Semi-synthetic setting (Cao et al. 2025, arXiv 2501.02547, use Sachs and census data; neither
loads offline here): contexts are sampled from a published network and the truth is its CPTs.

- **asia**: the textbook CPTs of Lauritzen & Spiegelhalter (1988), shipped as package data
  (``numerics/bayesnet/data/asia.json``; state 0 = "yes", as in bnlearn's ``asia.bif``); needs
  no pgmpy.
- **sachs**: bnlearn's network fitted to the Sachs et al. (2005) data, 11 proteins with 3 levels,
  read from the ``pgmpy/utils/example_models/sachs.bif.gz`` file that pgmpy 1.1.x wheels ship
  (opened with :mod:`importlib.resources`, :mod:`gzip` and pgmpy's ``BIFReader``; nothing is
  downloaded). Variables in a topological order (ties by name), states in the BIF's order.
"""

from __future__ import annotations

import gzip
import json
from importlib import resources

import numpy as np

from numerics.bayesnet import mle, networks
from numerics.shared.seeding import as_generator
from theory.domains import integer
from theory.errors import InputError, check_choice
from theory.results import result

__all__ = ["EXAMPLES", "example_network", "asia", "pgmpy_example", "bif_network", "MleTvCurve",
           "mle_tv_curve", "network_differences"]

#: Networks of :func:`example_network`.
EXAMPLES = ("asia", "sachs")
#: Episodes of :func:`mle_tv_curve` (one context of N samples each).
REAL_EPISODES = integer(1, 1_000_000)
#: Context lengths of :func:`mle_tv_curve`.
REAL_LENGTH = integer(1, 100_000)
#: Largest deviation of a BIF row sum from 1 that :func:`bif_network` renormalises.
BIF_ROW_TOL = 1e-6
#: Samples x variables handled at once by :func:`mle_tv_curve` (memory about 200 bytes each).
_CHUNK_CELLS = 4_000_000


def asia() -> networks.Network:
    """The Asia network with the textbook CPTs (Lauritzen & Spiegelhalter 1988), from the
    package data ``numerics/bayesnet/data/asia.json``: 8 binary variables, 8 edges."""
    text = (resources.files("numerics.bayesnet") / "data" / "asia.json").read_text(encoding="utf-8")
    return networks.network_from_dict(json.loads(text))


def _example_models():
    try:
        import pgmpy  # noqa: F401
    except ImportError:
        raise InputError("name", "sachs", "asia (sachs is read from the pgmpy wheel: install the "
                                          "'pgmpy' extra, pgmpy>=1.1,<1.3)") from None
    return resources.files("pgmpy") / "utils" / "example_models"


def pgmpy_example(name: str) -> networks.Network:
    """A bnlearn network shipped in the pgmpy wheel (``asia`` or ``sachs``), read offline from
    ``pgmpy/utils/example_models/<name>.bif.gz`` (:func:`bif_network`)."""
    check_choice("name", name, EXAMPLES)
    path = _example_models() / f"{name}.bif.gz"
    if not path.is_file():
        raise InputError("name", name, "a network shipped by the installed pgmpy (pgmpy>=1.1,<1.3 "
                                       "ships example_models/*.bif.gz)")
    return bif_network(gzip.decompress(path.read_bytes()).decode("utf-8"))[0]


def bif_network(text: str) -> tuple[networks.Network, dict]:
    """A :class:`~numerics.bayesnet.networks.Network` and its state names ``{variable: [names]}``
    from the text of a BIF file (pgmpy's ``BIFReader``).

    Variables are put in a topological order (Kahn's algorithm, ties broken by name); a
    variable's states are numbered in the order of its own CPD; parents keep the CPD's evidence
    order, so the CPT is ``cpd.get_values().T`` after reordering every state axis to those
    numbers. Rows are renormalised: BIF files print rounded probabilities (sachs has rows summing
    to 0.9999999); a row off by more than :data:`BIF_ROW_TOL` is an :class:`InputError`.
    """
    from pgmpy.readwrite import BIFReader

    model = BIFReader(string=text).get_model()
    cpds = {cpd.variable: cpd for cpd in model.get_cpds()}
    parents = {v: list(cpds[v].variables[1:]) for v in cpds}
    order, done = [], set()
    while len(order) < len(cpds):
        ready = sorted(v for v in cpds if v not in done and all(p in done for p in parents[v]))
        if not ready:
            raise InputError("network", "BIF text", "an acyclic network")
        order.append(ready[0])
        done.add(ready[0])
    states = {v: list(cpds[v].state_names[v]) for v in order}
    tables = []
    for v in order:
        cpd = cpds[v]
        values = np.asarray(cpd.get_values(), dtype=np.float64)          # (card, configs)
        shape = [len(cpd.state_names[u]) for u in cpd.variables]
        values = values.reshape(shape)
        for axis, u in enumerate(cpd.variables):                        # to each variable's own order
            index = [cpd.state_names[u].index(s) for s in states[u]]
            values = np.take(values, index, axis=axis)
        table = values.reshape(shape[0], -1).T
        sums = table.sum(axis=1, keepdims=True)
        if np.any(np.abs(sums - 1) > BIF_ROW_TOL):
            raise InputError(f"cpt of {v}", f"a row summing to {float(sums[np.abs(sums - 1).argmax()])!r}",
                             f"rows that sum to 1 within {BIF_ROW_TOL} (BIF files round)")
        tables.append(table / sums)
    net = networks.make_network(order, [len(states[v]) for v in order],
                                [[order.index(p) for p in parents[v]] for v in order], tables)
    return net, states


def example_network(name: str) -> networks.Network:
    """``asia`` (package data, :func:`asia`) or ``sachs`` (from the pgmpy wheel,
    :func:`pgmpy_example`); any other name is an :class:`InputError`."""
    check_choice("name", name, EXAMPLES)
    return asia() if name == "asia" else pgmpy_example("sachs")


@result
class MleTvCurve:
    """Mean TV of the in-context MLE to the true conditional on a fixed network (semi-synthetic,
    spec Sec. 12): node mean over targets, per context length.

    Attributes
    ----------
    tv : dict of int to float
        ``{N: mean TV}``, :math:`\\frac1M\\sum_{m_0} \\mathrm{TV}(\\hat p_{m_0}, p_{m_0})` at the query's
        parent configuration (uniform when no row matches), averaged over episodes.
    se : dict of int to float
        Standard errors of those means (over episodes).
    slope : float
        Least-squares slope of log TV against log N (about -1/2 for the MLE).
    """

    tv: dict
    se: dict
    slope: float


def mle_tv_curve(network: networks.Network, ns, episodes: int, seed) -> MleTvCurve:
    """:class:`MleTvCurve` of ``network`` at the context lengths ``ns``: for every N, ``episodes``
    contexts of N samples and one query sample, all drawn from ``network`` (``seed``: int >= 0 or
    numpy Generator), in chunks of about 4 million cells.

    .. math:: \\overline{\\mathrm{TV}}(N) = \\frac{1}{E M}\\sum_{e, m_0} \\tfrac12
              \\| \\hat p_{m_0}(\\cdot \\mid x^{(q)}_{P(m_0)}) - p_{m_0}(\\cdot \\mid x^{(q)}_{P(m_0)}) \\|_1
    """
    if not isinstance(network, networks.Network):
        raise InputError("network", type(network).__name__, "a Network")
    REAL_EPISODES.check("episodes", episodes)
    ns = [int(REAL_LENGTH.check("n", n)) for n in ns]
    if not ns:
        raise InputError("ns", ns, "at least one context length")
    rng = as_generator(seed)
    s = network.structure
    batched = [t[None] for t in network.cpts]
    tv, se = {}, {}
    for n in ns:
        chunk = max(1, _CHUNK_CELLS // ((n + 1) * s.M))
        per_episode = []
        for start in range(0, episodes, chunk):
            size = min(chunk, episodes - start)
            cpts = [np.broadcast_to(t, (size,) + t.shape[1:]) for t in batched]
            data = networks.sample_batch(s, cpts, n + 1, rng)
            contexts, queries = data[:, :n], data[:, n]
            tables = mle.mle_tables(s, contexts).tables          # NaN rows: unobserved
            rows = []
            for m0 in range(s.M):
                estimate = tables[m0][np.arange(size), s.config_index(m0, queries)]
                estimate = np.where(np.isnan(estimate), 1.0 / s.cards[m0], estimate)
                rows.append(mle.tv(estimate, mle.true_conditional(s, cpts, queries, m0)))
            per_episode.append(np.mean(rows, axis=0))
        values = np.concatenate(per_episode)
        tv[n] = float(values.mean())
        se[n] = float(values.std(ddof=1) / np.sqrt(values.size)) if values.size > 1 else float("nan")
    slope = float(np.polyfit(np.log(ns), np.log([tv[n] for n in ns]), 1)[0]) if len(ns) > 1 else float("nan")
    return MleTvCurve(tv=tv, se=se, slope=slope)


def network_differences(a: networks.Network, b: networks.Network) -> dict:
    """Compare two networks by variable name (the orders may differ): ``{"names": bool,
    "parents": [names whose parent lists differ], "max_cpt_difference": float}`` (CPTs compared
    only where the parent lists agree)."""
    sa, sb = a.structure, b.structure
    out = {"names": set(sa.names) == set(sb.names), "parents": [], "max_cpt_difference": 0.0}
    if not out["names"]:
        return out
    for name in sa.names:
        i, j = sa.index(name), sb.index(name)
        pa = [sa.names[q] for q in sa.parents[i]]
        pb = [sb.names[q] for q in sb.parents[j]]
        if pa != pb or sa.cards[i] != sb.cards[j]:
            out["parents"].append(name)
            continue
        out["max_cpt_difference"] = max(out["max_cpt_difference"],
                                        float(np.abs(a.cpts[i] - b.cpts[j]).max()))
    return out

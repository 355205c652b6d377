"""Optional exact conversion to and from pgmpy, and pgmpy's MLE as an independent reference.

Needs ``pgmpy`` (``pip install pgmpy``); importing this module without it raises ImportError
naming the requirement. pgmpy's ``TabularCPD`` has values of shape ``(card, n_configs)`` whose
columns put the *first* evidence variable as the most significant digit, the same encoding as
:mod:`numerics.bayesnet.networks`, so a CPT is exactly ``cpd.get_values().T`` (no reordering, no rounding).
States are the integers ``0..card-1`` (passed explicitly as ``state_names`` so unobserved states
keep their rows).
"""

from __future__ import annotations

import warnings

import numpy as np

from numerics.bayesnet.networks import Network, Structure, make_network

try:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pandas as pd
        from pgmpy.factors.discrete import TabularCPD
        from pgmpy.models import DiscreteBayesianNetwork
except ImportError as exc:  # pragma: no cover - exercised only without pgmpy
    raise ImportError("numerics.bayesnet.pgmpy_bridge needs pgmpy: pip install 'pgmpy>=1.1'") from exc


def _state_names(structure: Structure) -> dict:
    return {name: list(range(d)) for name, d in zip(structure.names, structure.cards)}


def to_pgmpy(network: Network) -> "DiscreteBayesianNetwork":
    """The same network as a pgmpy ``DiscreteBayesianNetwork`` with one ``TabularCPD`` per variable."""
    s = network.structure
    model = DiscreteBayesianNetwork()
    model.add_nodes_from(s.names)
    model.add_edges_from([(s.names[q], s.names[m]) for m in range(s.M) for q in s.parents[m]])
    states = _state_names(s)
    cpds = []
    for m in range(s.M):
        evidence = [s.names[q] for q in s.parents[m]]
        cpds.append(TabularCPD(
            s.names[m], s.cards[m], network.cpts[m].T.tolist(),
            evidence=evidence or None, evidence_card=[s.cards[q] for q in s.parents[m]] or None,
            state_names={k: states[k] for k in [s.names[m], *evidence]}))
    model.add_cpds(*cpds)
    return model


def from_pgmpy(model, order=None) -> Network:
    """A :class:`~numerics.bayesnet.networks.Network` from a pgmpy model (states must be ``0..card-1``).

    ``order`` is the variable order (default: a topological order of the model); each CPT's
    evidence order is kept as the parents' order.
    """
    import networkx as nx

    order = list(order) if order is not None else list(nx.topological_sort(model))
    names, cards, parents, cpts = [], [], [], []
    for name in order:
        cpd = model.get_cpds(name)
        evidence = list(cpd.variables[1:])
        names.append(name)
        cards.append(int(cpd.variable_card))
        parents.append([order.index(e) for e in evidence])
        cpts.append(np.asarray(cpd.get_values(), dtype=np.float64).T)
    return make_network(names, cards, parents, cpts)


def pgmpy_mle_tables(structure: Structure, context: np.ndarray) -> list[np.ndarray]:
    """pgmpy's maximum-likelihood CPTs for one context ``(N, M)`` (unobserved rows: uniform).

    Uses ``pgmpy.parameter_estimator.DiscreteMLE`` when available, else the older
    ``MaximumLikelihoodEstimator``. Returns ``tables[m]`` of shape ``(n_configs_m, d_m)``.
    """
    frame = pd.DataFrame(np.asarray(context), columns=list(structure.names))
    skeleton = DiscreteBayesianNetwork()
    skeleton.add_nodes_from(structure.names)
    skeleton.add_edges_from([(structure.names[q], structure.names[m])
                             for m in range(structure.M) for q in structure.parents[m]])
    states = _state_names(structure)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            from pgmpy.parameter_estimator import DiscreteMLE

            estimator = DiscreteMLE(state_names=states).fit(skeleton, frame)
            by_name = {cpd.variable: cpd for cpd in estimator.parameters_}
        except ImportError:
            from pgmpy.estimators import MaximumLikelihoodEstimator

            est = MaximumLikelihoodEstimator(skeleton, frame, state_names=states)
            by_name = {name: est.estimate_cpd(name) for name in structure.names}
    tables = []
    for m, name in enumerate(structure.names):
        cpd = by_name[name]
        expected = [structure.names[q] for q in structure.parents[m]]
        if list(cpd.variables[1:]) != expected:  # pgmpy may order evidence differently
            cpd = cpd.copy()
            cpd.reorder_parents(expected)
        tables.append(np.asarray(cpd.get_values(), dtype=np.float64).T)
    return tables

r"""
Bayesian networks: the two-layer construction and its bound
===========================================================

Cao et al. 2025, Thm 4.1, in the library's reconstruction: the largest TV between the
construction's output and the in-context MLE over every target and query of a ``general5``
network, against the attention scale :math:`\beta`, under the bound
:math:`\bigl((N - |I|)e^{-\beta} + e^{-\beta C}\bigr)/|I|`.

Functions: :func:`numerics.bayesnet.networks.family_network`,
:func:`numerics.bayesnet.networks.sample`,
:func:`validation.bayesnet.models.construction_errors` (torch forward of the constructed
weights), :func:`validation.bayesnet.plots.plot_construction_bound`. Claim:
``bayesnet.construct_bound``.
"""

import os

from numerics.bayesnet.networks import family_network, sample
from validation.bayesnet.models import construction_errors
from validation.bayesnet.plots import plot_construction_bound
from validation.shared.plots import save_figure
from validation.shared.style import style

# TTC_DOCS_SMALL=1: fewer context samples and queries (the documentation build)
SMALL = os.environ.get("TTC_DOCS_SMALL") == "1"
N, QUERIES = (60, 16) if SMALL else (150, 48)
BETAS = [1.0, 2.0, 4.0, 6.0, 8.0, 12.0, 16.0]

network = family_network("general5", 0)
data = sample(network, N + QUERIES, 1)
context, queries = data[:N], data[N:]
measured, bounds = [], []
for beta in BETAS:
    errors = construction_errors(network.structure, context, queries, beta)
    defined = errors.count >= 1              # queries whose parents match some context row
    measured.append(float(errors.tv[defined].max()))
    bounds.append(float(errors.bound[defined].max()))

with style("paper", columns=1):
    result = plot_construction_bound(BETAS, measured, bounds)
    result.axes.set_title(f"construction vs MLE, general5, N = {N}")
    save_figure(result.figure, "bayesnet_construction_bound.pdf")

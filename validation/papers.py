"""The paper registry: every paper named once, and every topic's claims, commands and checks.

A **paper** is a publication (authors, year, title, arXiv id, venue, a short label). A **topic** is
one folder per layer (``theory/<topic>.py``, ``numerics/<topic>/``, ``validation/<topic>/``) and
one section of the report; it covers one or more papers (``markov``: P1 and its follow-up P2;
``lsa``: Ding et al. and the Gaussian linear-regression anchors).

Claims (:func:`validation.ledger.claims.claim`) and named checks name their paper by key; the
ledger, the report, ``ttc --help``, ``results.json`` (field ``paper``: :attr:`Paper.citation`)
and the documentation read it from here, so every paper has exactly one spelling. The modules
holding a topic's claims, command line and checks are listed here explicitly: nothing is found
by file name.

Examples
--------
>>> from validation.papers import PAPERS, TOPICS
>>> PAPERS["markov-p1"].citation
'Makkuva et al. 2024 (P1), arXiv 2402.04161'
>>> [p.key for p in TOPICS["lsa"].paper_list][:2]
['lsa-ding', 'lsa-ahn']
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Paper", "Topic", "PAPERS", "TOPICS", "TOPIC_KEYS", "paper", "topic"]


@dataclass(frozen=True)
class Paper:
    """One publication.

    Attributes
    ----------
    key : str
        Registry key, ``"<topic>-<name>"``, e.g. ``"markov-p1"``.
    authors : str
        Full author list as printed.
    year : int
        Year of the version the library follows.
    title : str
        Full title.
    arxiv : str or None
        arXiv identifier (``"2402.04161"``), None when the library cites the venue only.
    venue : str
        Where it appeared (``"ICLR 2025"``, ``"arXiv preprint"``).
    label : str
        Short label for tables and plots, e.g. ``"Makkuva et al. 2024 (P1)"``.
    """

    key: str
    authors: str
    year: int
    title: str
    arxiv: str | None
    venue: str
    label: str

    @property
    def citation(self) -> str:
        """The one spelling used in ``results.json`` and the report: label and arXiv id."""
        return f"{self.label}, arXiv {self.arxiv}" if self.arxiv else f"{self.label}, {self.venue}"

    @property
    def url(self) -> str | None:
        """The paper's arXiv abstract page, or None."""
        return f"https://arxiv.org/abs/{self.arxiv}" if self.arxiv else None


@dataclass(frozen=True)
class Topic:
    """One paper's folder in every layer and its section of the report.

    Attributes
    ----------
    key : str
        ``"markov"``, ``"lsa"``, ``"potts"`` or ``"bayesnet"``: the folder name in every layer, the
        ``ttc`` sub-command and the prefix of claim ids and check names.
    title : str
        Section title in the report and the README.
    papers : tuple of str
        Keys of :data:`PAPERS` this topic covers; the first is the main paper.
    claim_modules : tuple of str
        Modules registering the topic's claims, imported in this order (the ledger's order).
    cli_module : str
        Module with ``register(subparsers)`` adding ``ttc <key> ...``.
    check_modules : tuple of str
        Modules registering named conjectures for ``ttc check``.
    """

    key: str
    title: str
    papers: tuple[str, ...]
    claim_modules: tuple[str, ...]
    cli_module: str
    check_modules: tuple[str, ...] = ()

    @property
    def paper_list(self) -> list[Paper]:
        return [PAPERS[k] for k in self.papers]

    @property
    def heading(self) -> str:
        """``title (label, arXiv ids)``: the report's section heading."""
        ids = ", ".join(p.arxiv for p in self.paper_list if p.arxiv)
        return f"{self.title} ({self.paper_list[0].label.split(' 20')[0]}, arXiv {ids})"


_PAPERS = (
    Paper("markov-p1",
          "A. V. Makkuva, M. Bondaschi, A. Girish, A. Nagle, M. Jaggi, H. Kim, M. Gastpar", 2024,
          "Attention with Markov: A Framework for Principled Analysis of Transformers via Markov "
          "Chains", "2402.04161", "ICLR 2025", "Makkuva et al. 2024 (P1)"),
    Paper("markov-p2",
          "A. V. Makkuva, M. Bondaschi, C. Ekbote, A. Girish, A. Nagle, H. Kim, M. Gastpar", 2024,
          "Local to Global: Learning Dynamics and Effect of Initialization for Transformers",
          "2406.03072", "NeurIPS 2024", "Makkuva et al. 2024 (P2)"),
    Paper("lsa-ding", "Y. Ding, S. Lu, Y. Lu, T. Nowicki, J. Gao", 2025,
          "Optimality and NP-Hardness of Transformers in Learning Markovian Dynamical Functions",
          "2510.18638", "NeurIPS 2025", "Ding et al. 2025"),
    Paper("lsa-ahn", "K. Ahn, X. Cheng, H. Daneshmand, S. Sra", 2023,
          "Transformers learn to implement preconditioned gradient descent for in-context learning",
          "2306.00297", "NeurIPS 2023", "Ahn et al. 2023"),
    Paper("lsa-zfb", "R. Zhang, S. Frei, P. L. Bartlett", 2024,
          "Trained transformers learn linear models in-context", "2306.09927", "JMLR 2024",
          "Zhang, Frei, Bartlett 2024"),
    Paper("lsa-mahankali", "A. Mahankali, T. B. Hashimoto, T. Ma", 2024,
          "One step of gradient descent is provably the optimal in-context learner with one "
          "layer of linear self-attention", "2307.03576", "ICLR 2024", "Mahankali et al. 2024"),
    Paper("potts-rende", "R. Rende, F. Gerace, A. Laio, S. Goldt", 2024,
          "Mapping of attention mechanisms to a generalized Potts model", "2304.07235",
          "Phys. Rev. Research 6, 023057 (2024)", "Rende et al. 2024"),
    Paper("bayesnet-cao", "Y. Cao, Y. He, D. Wu, H.-Y. Chen, J. Fan, H. Liu", 2025,
          "Transformers Simulate MLE for Sequence Generation in Bayesian Networks", "2501.02547",
          "arXiv preprint", "Cao et al. 2025"),
)
PAPERS: dict[str, Paper] = {p.key: p for p in _PAPERS}

_TOPICS = (
    Topic("markov", "Markov chains and the single-layer transformer",
          ("markov-p1", "markov-p2"),
          ("validation.markov.claims.canonical", "validation.markov.claims.critical",
           "validation.markov.claims.states", "validation.markov.claims.transformer",
           "validation.markov.claims.depth", "validation.markov.claims.higher_order",
           "validation.markov.claims.reduction"),
          "validation.markov.cli", ("validation.markov.checks",)),
    Topic("lsa", "Linear self-attention on Markovian dynamical functions",
          ("lsa-ding", "lsa-ahn", "lsa-zfb", "lsa-mahankali"),
          ("validation.lsa.claims.optimum", "validation.lsa.claims.multilayer",
           "validation.lsa.claims.realizability", "validation.lsa.claims.training",
           "validation.lsa.claims.pareto", "validation.lsa.claims.kstate",
           "validation.lsa.claims.reduction", "validation.lsa.claims.depth",
           "validation.lsa.claims.dimension", "validation.lsa.claims.softmax"),
          "validation.lsa.cli", ("validation.lsa.checks",)),
    Topic("potts", "Factored attention and the generalised Potts model", ("potts-rende",),
          ("validation.potts.claims.mapping", "validation.potts.claims.replica",
           "validation.potts.claims.compare", "validation.potts.claims.finite_size",
           "validation.potts.claims.stability", "validation.potts.claims.softmax_channel"),
          "validation.potts.cli"),
    Topic("bayesnet", "In-context MLE for Bayesian networks", ("bayesnet-cao",),
          ("validation.bayesnet.claims.construction", "validation.bayesnet.claims.trained",
           "validation.bayesnet.claims.families", "validation.bayesnet.claims.length",
           "validation.bayesnet.claims.probe", "validation.bayesnet.claims.mixture",
           "validation.bayesnet.claims.metrics", "validation.bayesnet.claims.real_networks"),
          "validation.bayesnet.cli"),
)
TOPICS: dict[str, Topic] = {t.key: t for t in _TOPICS}
TOPIC_KEYS: tuple[str, ...] = tuple(TOPICS)


def paper(key: str) -> Paper:
    """The registered paper ``key``; ``KeyError`` names the known keys."""
    try:
        return PAPERS[key]
    except KeyError:
        raise KeyError(f"paper {key!r} is not registered; known: {sorted(PAPERS)}") from None


def topic(key: str) -> Topic:
    """The registered topic ``key``; ``KeyError`` names the known keys."""
    try:
        return TOPICS[key]
    except KeyError:
        raise KeyError(f"topic {key!r} is not registered; known: {list(TOPIC_KEYS)}") from None

"""Named conjectures of the Markov topic, searched by ``ttc check NAME``.

``markov.unigram_local_min``: the project's flagship conjecture about the tied single-layer
transformer on the symmetric S-state chain (:mod:`validation.markov.states`).
"""

from __future__ import annotations

from theory.domains import PROBABILITY, integer, real
from validation.ledger.checks import named_check

# cheap to import (``ttc check`` lists the checks): the model (torch) is imported by the margin

#: Fixed model of the margin: width, context, weight seed of the ``standard`` initialisation.
CHECK_D, CHECK_SEQ_LEN, CHECK_SEED = 4, 6, 0


@named_check(
    "markov.unigram_local_min", paper="markov-p1",
    reference="Sec. 2 / spec markov.md Sec. 1 (S-state extension)",
    statement="The unigram point of the tied single-layer model is a local minimum exactly when "
              "p > (S-1)/S",
    parameters={"S": (2, 5, "int"), "p": (0.02, 0.98, "real"),
                "pos_scale": (1.0, 1.0, "real")},
    domains={"S": integer(2, 100, note="the Hessian is (S-1)(d+1) square: ~3 s a point at 100"),
             "p": PROBABILITY,
             "pos_scale": real(0, 1000, low_open=True)})
def unigram_local_min_margin(point: dict) -> float:
    """Signed, scale-free margin of the conjecture at ``point`` (``>= 0``: it holds there).

    The model: tied S-state transformer of :mod:`validation.markov.states`, ``d = 4``,
    ``N = seq_len = 6``, weights of the ``standard`` initialisation (N(0, 0.02^2)) drawn from
    seed 0, positional vectors multiplied by ``pos_scale`` (default 1; the box fixes it at 1,
    ``--param pos_scale=LOW:HIGH`` moves it: the band below the threshold grows like
    ``pos_scale^2``). ``point`` may also carry ``d``, ``seq_len`` and ``seed`` (defaults above).

    .. math::
        m = \\frac{s\\,\\mu + \\varepsilon}{\\|R\\|_2}, \\qquad
        s = \\begin{cases} +1 & p > (S-1)/S \\\\ -1 & \\text{otherwise}\\end{cases}

    with :math:`R` the exact Hessian of the population loss on the non-flat subspace at the
    unigram point, :math:`\\mu` its smallest eigenvalue and :math:`\\varepsilon` its float64
    error bar (:func:`validation.markov.unigram.unigram_classification`, ``method="polynomial"``:
    the S-state block equals ``(4/S) I (x) H_bin`` of the binary chain with the same
    :math:`\\lambda`, an identity the tests and the claim ``markov.s_state_unigram`` verify
    against the S-state enumeration to ~1e-13). Conservative: ``m < 0`` only when the Hessian
    contradicts the conjecture beyond the error bar (a local minimum at ``p <= (S-1)/S`` or a
    saddle at ``p > (S-1)/S``); ``|mu| <= eps`` (undecided) gives ``m >= 0``.
    The exact binary Hessian is a degree-``N`` polynomial in :math:`\\lambda`, fitted once per
    process and weights from 14 exact binary Hessians (~0.3 s) and validated; then ~0.1 ms per
    point.
    """
    import numpy as np

    from numerics.markov.sequences import threshold
    from validation.markov.unigram import unigram_classification

    S, p = int(point["S"]), float(point["p"])
    result = unigram_classification(
        S, p, d=int(point.get("d", CHECK_D)), seq_len=int(point.get("seq_len", CHECK_SEQ_LEN)),
        seed=int(point.get("seed", CHECK_SEED)), pos_scale=float(point.get("pos_scale", 1.0)),
        method="polynomial")
    sign = 1.0 if p > threshold(S) else -1.0
    scale = float(np.linalg.norm(result.restricted, 2))
    return (sign * result.min_eigenvalue + result.error) / scale

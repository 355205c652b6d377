"""Check a conjecture of your own with the library's counterexample search.

Conjecture: for the binary Markov chain with P(1|0) = p and P(0|1) = q, the information the next
token carries about the current one is at most lambda^2 log 2, with lambda = 1 - p - q:

    I(x_n; x_{n+1}) = H(pi) - H(P) <= (1 - p - q)^2 log 2.

It holds on the diagonal p = q (there it is the bound h(t) >= 4 t (1 - t) on the binary entropy,
in bits). Does it hold off the diagonal?
"""

import math

import matplotlib.pyplot as plt

from numerics.markov.canonical import chain_summary
from numerics.shared.conjecture import search_counterexample


def margin(point):
    """The statement as a pair (lhs, rhs) for "lhs >= rhs": the bound and the information."""
    p, q = point["p"], point["q"]
    return (1 - p - q) ** 2 * math.log(2), chain_summary(p, q).mutual_information


def diagonal_margin(point):
    """The same statement on the diagonal p = q = t."""
    return margin({"p": point["t"], "q": point["t"]})


if __name__ == "__main__":
    diagonal = search_counterexample(diagonal_margin, {"t": (0.01, 0.99)}, seed=0)
    print("on the diagonal p = q: holds =", diagonal.holds, "after", diagonal.points, "points")

    result = search_counterexample(margin, {"p": (0.01, 0.99), "q": (0.01, 0.99)}, seed=0)
    print("off the diagonal: holds =", result.holds)
    print("counterexample:", result.counterexample, "found by", result.found_by)
    print("margin there: %.4f" % result.counterexample_margin)

    result.plot()                                  # the margin over the box, points and the counterexample
    plt.savefig("conjecture_margin.png", dpi=120)

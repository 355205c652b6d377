"""numerics.lsa.baselines: the numpy in-context baselines against scikit-learn (an independent
implementation of the same objectives) and the Bayes rule's accuracy curve (spec Part 2 §D)."""

import numpy as np
import pytest

from numerics.lsa import baselines
from numerics.lsa.ceilings import sample_kernel_prompts
from theory.errors import InputError

sklearn = pytest.importorskip("sklearn")


def _reference(method, X, y, xq):
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.svm import LinearSVC

    if method == "linear":
        return np.clip(np.rint(LinearRegression().fit(X, y).predict(xq[None])[0]), 0, 1)
    if method == "3-NN":
        return KNeighborsClassifier(3).fit(X, y).predict(xq[None])[0]
    if method == "logistic":
        return LogisticRegression(solver="newton-cholesky", tol=1e-10, max_iter=1000).fit(X, y).predict(xq[None])[0]
    return LinearSVC(C=1.0, tol=1e-10, max_iter=100000).fit(X, y).predict(xq[None])[0]


@pytest.mark.parametrize("method", ["linear", "3-NN", "logistic", "SVM"])
def test_baselines_agree_with_scikit_learn(method):
    d, n, B = 5, 12, 60
    pr = sample_kernel_prompts(2, 1.0, d, n, B, 7)
    X, y, xq = pr.Z[:, :d, :n].transpose(0, 2, 1), pr.Z[:, d, :n], pr.Z[:, :d, n]
    mine = baselines.fit_predict(method, X, y, xq)
    two = [i for i in range(B) if y[i].min() < y[i].max()]
    ref = np.array([_reference(method, X[i], y[i], xq[i]) for i in two])
    agree = (mine[two] == ref).mean()
    # binary x: 3-NN distance ties and near-boundary points may break differently; everything
    # else is the same objective solved to convergence
    assert agree >= (0.95 if method == "3-NN" else 0.98)


def test_one_class_context_predicts_that_class():
    X = np.zeros((2, 3, 2))
    y = np.array([[1.0, 1, 1], [0, 0, 0]])
    for method in ("logistic", "SVM", "3-NN", "linear"):
        assert baselines.fit_predict(method, X, y, np.ones((2, 2))).tolist() == [1.0, 0.0]


def test_curves_bayes_on_top():
    r = baselines.baselines_against_n([1, 10, 40], d=5, prompts=600, seed=1)
    assert r.accuracy.shape == (5, 3) and r.methods[-1] == "Bayes"
    gap = r.accuracy[-1] - r.accuracy[:-1]
    assert np.all(gap >= -3 * r.gap_se[:-1])      # Bayes is optimal under the task's prior
    # n = 1: one context pair; the Bayes rule also sees the query's own 4 transitions
    assert r.accuracy[-1, 0] > r.accuracy[:-1, 0].max()


def test_bad_inputs():
    with pytest.raises(InputError, match="method"):
        baselines.fit_predict("tree", np.zeros((1, 2, 2)), np.zeros((1, 2)), np.zeros((1, 2)))
    with pytest.raises(InputError, match="n"):
        baselines.baselines_against_n([0, 5])
    with pytest.raises(InputError, match="y"):
        baselines.fit_predict("linear", np.zeros((1, 2, 2)), np.full((1, 2), 2.0), np.zeros((1, 2)))
